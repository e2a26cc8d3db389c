//! A run that owns its problem: the model, the operator and the measurements behind `Arc`s, so that
//! a host can start it on one thread, keep it in its own state beside the model (no borrow, no
//! self-reference in the host's types) and step or finish it on another thread. It runs the very
//! same solver code as the borrowed [`Run`]: [`OwnedRun::start`] calls [`Solver::start`] on a
//! [`Problem`] that points into the `Arc`s it keeps.

use super::{Problem, Run, RunOptions, Solver};
use crate::diffusion::Denoiser;
use crate::error::Result;
use crate::operators::Operator;
use crate::tensor::Tensor;
use std::sync::Arc;

/// A solver run that owns what it needs and is [`Send`]: the host may move it to a worker thread
/// and step it there. Its methods are those of [`Run`].
pub struct OwnedRun {
    // Declared first, so dropped first: the run borrows from the `Arc`s below (see `start`).
    run: Run<'static>,
    model: Arc<dyn Denoiser>,
    op: Arc<dyn Operator>,
    y: Arc<Tensor>,
    sigma_y: f64,
}

impl OwnedRun {
    /// Starts `solver` on the problem `y = A x + σ_y n` ([`Solver::start`] on a [`Problem`] made of
    /// these) with the host's [`RunOptions`] ([`Solver::start_with`]), keeping the model, the
    /// operator and `y` alive for as long as the run lives.
    pub fn start(
        solver: &(dyn Solver + 'static),
        model: Arc<dyn Denoiser>,
        op: Arc<dyn Operator>,
        y: Tensor,
        sigma_y: f64,
        seed: u64,
        options: RunOptions,
    ) -> Result<OwnedRun> {
        let y = Arc::new(y);
        let p = Problem {
            model: &*model,
            op: &*op,
            y: &y,
            sigma_y,
        };
        let run = solver.start_with(&p, seed, options)?;
        // SAFETY: `Run<'a>` only differs from `Run<'static>` in a lifetime (same layout), and the
        // lifetime is only ever used for the data the run borrows, which is
        // - what `p` points to: the insides of the three `Arc`s, heap allocations that do not move
        //   when the `Arc`s (or this struct) move, and that the `Arc`s kept in `Self` keep alive
        //   for as long as the run lives (the field `run` is declared first, so dropped first, and
        //   `finish_with_std` consumes the run before the `Arc`s go);
        // - anything the solver itself holds: `start` cannot lend `&self` to the run (its lifetime
        //   is unrelated to `'a`), and the solver is `'static`, so whatever it copies in is too.
        // No method of `OwnedRun` hands out anything with the `'static` lifetime: every accessor
        // borrows from `&self`, and `&mut Run` is never exposed (it could be swapped out).
        let run = unsafe { std::mem::transmute::<Run<'_>, Run<'static>>(run) };
        Ok(OwnedRun {
            run,
            model,
            op,
            y,
            sigma_y,
        })
    }

    /// The problem the run solves, borrowed from it (for the host's own computations, such as
    /// [`super::trivial_estimate`]).
    pub fn problem(&self) -> Problem<'_> {
        Problem {
            model: &*self.model,
            op: &*self.op,
            y: &self.y,
            sigma_y: self.sigma_y,
        }
    }

    /// The run, borrowed ([`Run`]'s accessors).
    pub fn run(&self) -> &Run<'_> {
        &self.run
    }

    /// [`Run::step`].
    pub fn step(&mut self) -> Result<bool> {
        self.run.step()
    }

    /// [`Run::name`].
    pub fn name(&self) -> &'static str {
        self.run.name()
    }

    /// [`Run::done`].
    pub fn done(&self) -> usize {
        self.run.done()
    }

    /// [`Run::steps`].
    pub fn steps(&self) -> usize {
        self.run.steps()
    }

    /// [`Run::is_finished`].
    pub fn is_finished(&self) -> bool {
        self.run.is_finished()
    }

    /// [`Run::sample`].
    pub fn sample(&self) -> &Tensor {
        self.run.sample()
    }

    /// [`Run::estimate`].
    pub fn estimate(&self) -> Option<&Tensor> {
        self.run.estimate()
    }

    /// [`Run::flag`]: the device-side NaN flag, for the host to read when it chooses.
    pub fn flag(&mut self) -> Result<&Tensor> {
        self.run.flag()
    }

    /// [`Run::check`]: reads the flag back (waits) and turns a failure into its error.
    pub fn check(&mut self) -> Result<()> {
        self.run.check()
    }

    /// [`Run::flag_error`].
    pub fn flag_error(&self, value: f32) -> crate::Error {
        self.run.flag_error(value)
    }

    /// [`Run::finish`].
    pub fn finish(self) -> Result<Tensor> {
        Ok(self.finish_with_std()?.0)
    }

    /// [`Run::finish_with_std`]; the model, operator and `y` are released after the run.
    pub fn finish_with_std(self) -> Result<(Tensor, Option<Tensor>)> {
        let OwnedRun {
            run, model, op, y, ..
        } = self;
        // the run (and every borrow it holds) is consumed here, before the `Arc`s are dropped
        let out = run.finish_with_std();
        drop((model, op, y));
        out
    }

    /// [`Run::finish_deferred`]: records the remaining steps and starts reading the NaN flag back
    /// without waiting (a web page awaits the [`super::Finishing`]); the model, operator and `y`
    /// are released once the steps are recorded.
    pub fn finish_deferred(self) -> Result<super::Finishing> {
        let OwnedRun {
            run, model, op, y, ..
        } = self;
        // as in `finish_with_std`: the run is consumed before the `Arc`s it borrows from go
        let out = run.finish_deferred();
        drop((model, op, y));
        out
    }
}

// a run that owns its problem can go to another thread (checked when the crate compiles)
const _: fn() = || {
    fn send<T: Send>() {}
    send::<OwnedRun>();
};
