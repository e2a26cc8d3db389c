//! Restarts: N independent runs of a solver (seeds `seed`, `seed + 1`, …), keeping for each
//! observation the result with the smallest measurement residual `‖y − A(x)‖`. The DPS paper's
//! protocol for Fourier phase retrieval, whose magnitude-only measurement leaves many runs in a
//! wrong basin (a shifted, flipped or sign-inverted image): Chung et al., "Diffusion Posterior
//! Sampling for General Noisy Inverse Problems", ICLR 2023, appendix on phase retrieval (4 runs);
//! github.com/DPS2022/diffusion-posterior-sampling.
//!
//! `--set restarts=N` for the solvers that take any forward model; default 4 for
//! `phase-retrieval`, 1 (no wrapper) otherwise, and 1 with `measure=0` (the choice would use the
//! measurement). The run is step-wise like any other: its steps are
//! the N runs' steps one after another, paced and checked as the wrapping run's options say (the
//! inner runs neither wait nor check: the wrapping run checks their samples), and the choice is
//! made on the device ([`ops::argmin_runs`]), so an unpaced run reads nothing back until the host
//! reads the result. A run whose result is not finite has no finite residual and is never chosen.

use super::{Problem, Run, RunOptions, Solver, Stepped};
use crate::error::{Error, Result};
use crate::ops;
use crate::tensor::Tensor;
use std::sync::Arc;
use std::sync::Mutex;

/// One run's result and, for a particle solver, its posterior spread.
type Finished = (Tensor, Option<Tensor>);

/// `inner` run `n` times, the best result per observation kept.
pub struct Restarts {
    /// The solver restarted.
    pub inner: Box<dyn Solver>,
    /// How many runs.
    pub n: usize,
}

impl Solver for Restarts {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn settings(&self) -> Vec<(String, String)> {
        let mut s = self.inner.settings();
        s.push(("restarts".into(), self.n.to_string()));
        s
    }

    fn gives_std(&self) -> bool {
        self.inner.gives_std()
    }

    fn start<'a>(&self, p: &Problem<'a>, seed: u64) -> Result<Run<'a>> {
        let p = *p;
        // the wrapping run paces and checks; the inner runs only record and submit
        let inner = RunOptions {
            pace: false,
            check_every: None,
            stop_early: false,
        };
        let first = self.inner.start(&p, seed)?.with_options(inner);
        let per = first.steps();
        let x = first.sample().clone();
        // each run's result and, for a particle solver, its posterior spread
        let results: Arc<Mutex<Vec<Finished>>> = Arc::default();
        let kept = results.clone();
        // every run is started here (cheap: no model pass), so that a problem error comes now
        let mut runs: Vec<Option<Run<'a>>> = vec![Some(first)];
        for k in 1..self.n {
            runs.push(Some(
                self.inner
                    .start(&p, seed.wrapping_add(k as u64))?
                    .with_options(inner),
            ));
        }
        let step = move |_x: &Tensor, i: usize| {
            let run = runs[i / per]
                .as_mut()
                .expect("a run is stepped until it finishes");
            run.step()?;
            let out = Stepped {
                x: run.sample().clone(),
                x0: run.estimate().cloned(),
            };
            if run.is_finished() {
                let done = runs[i / per].take().expect("finished once");
                kept.lock().unwrap().push(done.finish_unchecked()?);
            }
            Ok(out)
        };
        let (name, gpu, steps) = (self.inner.name(), p.model.gpu(), per * self.n);
        if self.inner.gives_std() {
            let posterior = Box::new(move |_x: Tensor| {
                let r = results.lock().unwrap();
                let xs: Vec<Tensor> = r.iter().map(|(x, _)| x.clone()).collect();
                let stds: Option<Vec<Tensor>> = r.iter().map(|(_, s)| s.clone()).collect();
                let pick = best_rows(&p, &xs)?;
                let std = stds.ok_or_else(|| Error::Input(format!("{name} gave no spread")))?;
                Ok((pick_rows(&xs, &pick)?, pick_rows(&std, &pick)?))
            });
            return Ok(Run::particles(name, gpu, x, steps, step, posterior));
        }
        let finish = Box::new(move |_x: Tensor| {
            let xs: Vec<Tensor> = results.lock().unwrap().iter().map(|(x, _)| x.clone()).collect();
            pick_rows(&xs, &best_rows(&p, &xs)?)
        });
        Ok(Run::new(name, gpu, x, steps, step, Some(finish)))
    }
}

/// For each observation, the global row (run `k`, observation `i`: `k B + i`) of the result whose
/// residual `‖y − A(x)‖²` is smallest, as f32 for [`ops::particles::gather_rows`], chosen on the
/// device.
fn best_rows(p: &Problem, results: &[Tensor]) -> Result<Tensor> {
    let b = p.y.shape()[0];
    let mut res = Vec::with_capacity(results.len());
    for x in results {
        let r = ops::axpby(1.0, p.y, -1.0, &p.op.forward(x)?)?;
        res.push(ops::sumsq_rows(&r, b)?);
    }
    ops::argmin_runs(&ops::particles::cat_rows(&res)?, b)
}

/// The rows `idx` of the runs' results stacked run after run.
fn pick_rows(results: &[Tensor], idx: &Tensor) -> Result<Tensor> {
    ops::particles::gather_rows(&ops::particles::cat_rows(results)?, idx)
}
