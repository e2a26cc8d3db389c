//! Solvers: each method in its own file, written to read like the paper's update equations, behind
//! one [`Solver`] trait so that the command line, the tests and host applications treat them alike.
//!
//! A solver is started into a [`Run`] that the caller advances one step at a time, reading the
//! current sample and the current estimate of x0 after any step ([`Solver::solve`] is the loop over
//! it). [`OwnedRun`] is the same run owning its problem (the model, operator and measurements in
//! `Arc`s): it is `Send`, so a host can start it on one thread and step it on another. The shared
//! pieces live here: the step loop with its NaN checks and pacing, the respaced
//! [`Timestep`]s, the operator's pseudo-inverse and the spectral (SVD-space) loop of DDRM and DDNM;
//! a solver's parameters are declared once ([`params`]). The diffusion maths every solver uses —
//! [`Schedule::transition`], [`crate::diffusion::q_sample`], Tweedie's estimate with its clamp
//! ([`crate::diffusion::tweedie`]) — lives in [`crate::diffusion`].
//!
//! Adding a solver: its file (a [`crate::solver_params!`] declaration, `impl Solver` with
//! `solver_params!(@solver)` and `start`) and one [`REGISTRY`] entry.

mod baseline;
mod blind_dps;
mod blind_red_diff;
mod daps;
mod ddnm;
mod ddrm;
mod diffpir;
mod dmplug;
mod dpnp;
mod dps;
mod fps;
mod gibbs_ddrm;
mod ilvr;
mod latent_dps;
mod mcg;
mod mcgdiff;
pub mod mmps;
mod owned;
pub mod params;
mod pigdm;
mod pnp_dm;
mod psld;
mod red_diff;
mod resample;
mod restarts;
mod score_ald;
mod score_sde;
pub mod smc;
mod smcdiff;
mod snips;
pub mod spectral;
mod tds;
mod tmpd;

pub use baseline::Baseline;
pub use blind_dps::BlindDps;
pub use blind_red_diff::BlindRedDiff;
pub use daps::{Daps, Preset};
pub use ddnm::Ddnm;
pub use ddrm::Ddrm;
pub use diffpir::{DataProximal, DiffPir};
pub use dmplug::{DdimChain, DmPlug};
pub use dpnp::Dpnp;
pub use dps::{Dps, Variance};
pub use fps::{Filter, Fps};
pub use gibbs_ddrm::GibbsDdrm;
pub use ilvr::Ilvr;
pub use latent_dps::LatentDps;
pub use mcg::Mcg;
pub use mcgdiff::McgDiff;
pub use mmps::Mmps;
pub use owned::OwnedRun;
pub use params::{Choice, Declared, Param, Params, Setup};
pub use pigdm::PiGdm;
pub use pnp_dm::PnpDm;
pub use psld::Psld;
pub use red_diff::RedDiff;
pub use resample::Resample;
pub use restarts::Restarts;
pub use score_ald::ScoreAld;
pub use score_sde::ScoreSde;
pub use smcdiff::SmcDiff;
pub use snips::Snips;
pub use spectral::SpectralRun;
pub use tds::Tds;
pub use tmpd::Tmpd;

use crate::diffusion::{Denoiser, Schedule, Timestep};
use crate::error::{Error, Result, Setting};
use crate::operators::{Caps, Kind, Linear, Operator, Svd, task_entry, task_names};
use crate::ops;
use crate::tensor::Tensor;
use params::boxed;

/// An inverse problem: recover `x` from `y = A x + σ_y n` with the model as the prior.
#[derive(Clone, Copy)]
pub struct Problem<'a> {
    /// The prior: any ε-prediction [`Denoiser`] (the diffusers UNet, a Gaussian test prior, ...),
    /// with its noise schedule.
    pub model: &'a dyn Denoiser,
    /// The measurement operator `A`.
    pub op: &'a dyn Operator,
    /// The measurements, `[B, ...]` of the operator's measurement shape.
    pub y: &'a Tensor,
    /// The measurement noise level, in [-1, 1] image units.
    pub sigma_y: f64,
}

impl Problem<'_> {
    /// The model's noise schedule.
    pub fn schedule(&self) -> &Schedule {
        self.model.schedule()
    }
}

/// A posterior sampler or estimator.
pub trait Solver: Send + Sync {
    /// The registry name.
    fn name(&self) -> &'static str;
    /// The settings in effect, as `key=value` pairs (for logs and tables).
    fn settings(&self) -> Vec<(String, String)>;
    /// Whether [`Solver::solve_with_std`] gives the posterior standard deviation (the particle
    /// solvers).
    fn gives_std(&self) -> bool {
        false
    }
    /// Checks the problem, prepares what the method needs (an SVD, a pseudo-inverse, the start) and
    /// returns a run positioned before its first step. Errors here are about the problem (shapes,
    /// an operator the method cannot use); nothing has been computed on the model yet.
    fn start<'a>(&self, p: &Problem<'a>, seed: u64) -> Result<Run<'a>>;
    /// [`Solver::start`] with the host's [`RunOptions`]. With checks on (`check_every: Some(_)`)
    /// the measurements are checked for NaN too: read back at once with `stop_early` (the
    /// command line's default, [`check_measurements`]), else on the device, the outcome kept in the
    /// run's flag ([`Run::flag`]) with nothing read back until the host reads.
    fn start_with<'a>(&self, p: &Problem<'a>, seed: u64, options: RunOptions) -> Result<Run<'a>> {
        if options.check_every.is_some() && options.stop_early {
            check_measurements(p)?;
        }
        let mut run = self.start(p, seed)?.with_options(options);
        if options.check_every.is_some() && !options.stop_early {
            run.fold(p.y, FLAG_MEASUREMENTS)?;
        }
        Ok(run)
    }
    /// Restores the batch: [`Solver::start`], then every step; `progress(done, total)` is called
    /// after each.
    fn solve(&self, p: &Problem, seed: u64, progress: &mut dyn FnMut(usize, usize)) -> Result<Tensor> {
        Ok(self.solve_with_std(p, seed, progress)?.0)
    }
    /// [`Solver::solve`], and for the particle solvers the per-pixel posterior standard deviation
    /// (see [`Run::finish_with_std`]).
    fn solve_with_std(
        &self,
        p: &Problem,
        seed: u64,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<(Tensor, Option<Tensor>)> {
        let mut run = self.start_with(p, seed, RunOptions::default())?;
        while run.step()? {
            progress(run.done(), run.steps());
        }
        run.finish_with_std()
    }
}

/// A solver's constructor: its parameters from what the operator offers, `--steps` and `measure`
/// (the [`Setup`]) and its `--set` pairs ([`Params`]); [`params::boxed`] for a declared solver.
pub type CreateFn = fn(&Setup, Params) -> Result<Box<dyn Solver>>;

/// One registry entry: a solver's name, what it needs from the operator, and its constructor.
pub struct SolverEntry {
    /// The name `--solver` takes.
    pub name: &'static str,
    /// One line: the method and what it needs.
    pub summary: &'static str,
    /// Which operators it can run, from what they offer.
    pub runs: fn(&Caps) -> bool,
    /// The fewest steps the command line and `eval` run it with: below them its chain ends below
    /// the trivial estimate by more than 2 dB (box inpainting and x4 SR on the bundled prior; the
    /// README's "Bad input" has the table). [`create`] itself takes fewer, for plumbing tests and
    /// hosts with their own reasons; [`check_min_steps`] is the check.
    pub min_steps: usize,
    /// Builds it for an operator (some defaults depend on its [`Kind`]) with `steps` and `--set`
    /// pairs: [`params::boxed`] of its declared type.
    pub create: CreateFn,
}

/// A registry entry for the declared solver `S`: its one line in [`REGISTRY`].
pub const fn entry<S: Declared + Solver + 'static>(
    summary: &'static str,
    runs: fn(&Caps) -> bool,
    min_steps: usize,
) -> SolverEntry {
    SolverEntry {
        name: S::NAME,
        summary,
        runs,
        min_steps,
        create: boxed::<S>,
    }
}

/// Every solver, in the order the command line lists them. Adding a solver is one file and one line
/// here.
pub const REGISTRY: &[SolverEntry] = &[
    entry::<Dps>(
        "Diffusion Posterior Sampling (VJP through the denoiser)",
        |t| !t.blind,
        10,
    ),
    entry::<Ddrm>("DDRM (the operator's SVD)", |t| t.svd, 3),
    entry::<Ddnm>("DDNM / DDNM+ (the operator's SVD)", |t| t.svd, 3),
    entry::<PiGdm>("PiGDM (SVD + VJP)", |t| t.svd, 12),
    entry::<Mcg>("MCG (pseudo-inverse + VJP)", |t| t.pinv, 3),
    entry::<ScoreAld>(
        "annealed Langevin (A and its adjoint only)",
        |t| !t.blind && t.linear,
        20,
    ),
    entry::<RedDiff>(
        "RED-Diff: Adam on a mean, denoiser residual as regulariser (A's VJP only)",
        |t| !t.blind,
        4,
    ),
    entry::<DmPlug>(
        "DMPlug: Adam on the noise of a K-step DDIM chain (VJP through K UNet passes)",
        |t| !t.blind,
        12,
    ),
    entry::<Mmps>(
        "MMPS: moment-matching likelihood by conjugate gradients on VJPs",
        |t| !t.blind && t.linear,
        4,
    ),
    entry::<Tmpd>(
        "TMPD: moment matching with the row-sum (diagonal) covariance",
        |t| !t.blind && t.linear,
        8,
    ),
    entry::<DiffPir>(
        "DiffPIR: half-quadratic splitting with the operator's proximal step",
        |t| !t.blind && t.linear,
        3,
    ),
    entry::<Daps>(
        "DAPS: decoupled annealing, Langevin in x0 space (A's VJP only)",
        |t| !t.blind,
        4,
    ),
    entry::<Tds>(
        "TDS: twisted SMC, K particles with DPS-style proposals and exact weights (VJP)",
        |t| !t.blind,
        6,
    ),
    entry::<SmcDiff>(
        "SMCDiff: particles with the observed pixels replaced, weighted by the model (inpainting)",
        |t| matches!(t.kind, Kind::Inpainting { .. }),
        3,
    ),
    entry::<McgDiff>(
        "MCGdiff: particle filter in the SVD basis, measurements placed at their noise level",
        |t| t.svd,
        3,
    ),
    entry::<Fps>(
        "FPS: particles filtering a backward-bridged measurement sequence through the SVD",
        |t| t.svd,
        4,
    ),
    entry::<BlindRedDiff>(
        "Blind RED-Diff: RED-Diff with the blur kernel fitted jointly (deblur-blind)",
        |t| t.blind,
        1,
    ),
    entry::<ScoreSde>(
        "Score-SDE: predictor-corrector with projections onto the noised measurement (A⁺)",
        |t| t.pinv && !t.blind,
        3,
    ),
    entry::<Ilvr>(
        "ILVR: DDPM with the low frequencies replaced by the noised measurement's (x N SR only)",
        |t| t.linear && !t.blind && t.kind == Kind::SuperResolution,
        3,
    ),
    entry::<Snips>(
        "SNIPS: annealed Langevin in the operator's SVD basis",
        |t| t.svd && !t.blind,
        20,
    ),
    // it restores every task (the trivial estimate where there is no SVD); `runs` says where it
    // does more, so the lists of diffusion solvers in messages leave it out
    entry::<Baseline>(
        "classical baseline: Tikhonov-regularised A⁺y through the SVD, else the trivial estimate",
        |t| t.svd,
        1,
    ),
    entry::<PnpDm>(
        "PnP-DM: split Gibbs, exact Gaussian likelihood step (SVD) and a diffusion denoising step",
        |t| t.svd && !t.blind,
        3,
    ),
    entry::<Dpnp>(
        "DPnP: proximal consistency sampler (exact via SVD, else Langevin with A's VJP) and a diffusion denoising step",
        |t| !t.blind,
        3,
    ),
    // DPS's guidance on a latent problem (the VJP through the decoder as well as the UNet) on
    // DDIM steps: PSLD without its gluing term, under the name the survey gives it
    SolverEntry {
        name: "latent-dps",
        summary: "Latent DPS: DPS's guidance on an autoencoder's latents with DDIM steps, the VJP through the decoder too; PSLD without the gluing term (latent problems A(D(z)), any A)",
        runs: |t| t.latent,
        min_steps: 10,
        create: LatentDps::create,
    },
    entry::<Psld>(
        "PSLD: DPS on an autoencoder's latents plus the gluing term through the encoder (latent problems A(D(z)) with a linear A)",
        |t| t.latent,
        10,
    ),
    entry::<Resample>(
        "ReSample: Latent DPS with hard data consistency (pixel, then latent optimisation) and stochastic resampling (latent problems A(D(z)))",
        |t| t.latent,
        10,
    ),
    entry::<BlindDps>(
        "BlindDPS: DPS with the blur kernel fitted jointly on the simplex (deblur-blind)",
        |t| t.blind,
        10,
    ),
    entry::<GibbsDdrm>(
        "GibbsDDRM: DDRM with the blur's FFT SVD, Gibbs updates of the kernel (deblur-blind)",
        |t| t.blind,
        3,
    ),
];

/// The caps of `task`'s operator seen from a latent prior's latents (`A ∘ D`,
/// [`crate::operators::Decoded`]): nonlinear, of the task's kind.
pub fn latent_caps(task: &str) -> Option<Caps> {
    let name = task.split(':').next().unwrap_or(task).trim();
    crate::operators::task_entry(name).map(|e| Caps {
        latent: true,
        ..Caps::nonlinear(e.caps().kind)
    })
}

/// The solvers that run `task` on a latent prior (those that take `A ∘ D`), the latent family
/// first.
pub fn latent_solvers(task: &str) -> Vec<&'static str> {
    let Some(caps) = latent_caps(task) else {
        return Vec::new();
    };
    let mut v: Vec<&str> = REGISTRY
        .iter()
        .filter(|e| (e.runs)(&caps) && e.name != "baseline")
        .map(|e| e.name)
        .collect();
    v.sort_by_key(|n| !["latent-dps", "psld", "resample"].contains(n));
    v
}

/// Refuses, before any compute, `solver` on `task` with the kind of prior given: a pixel-space
/// solver (it needs the operator's SVD, pseudo-inverse or adjoint, which `A ∘ D` has not) on a
/// latent prior, or a latent solver on a pixel prior; each error names what to use instead.
pub fn check_prior(solver: &str, task: &str, latent: bool) -> Result<()> {
    let Some(e) = REGISTRY.iter().find(|e| e.name == solver) else {
        return Ok(()); // unknown names are refused where the solver is made
    };
    let Some(lcaps) = latent_caps(task) else {
        return Ok(());
    };
    let runs_latent = (e.runs)(&lcaps);
    // a latent solver: it takes A(D(z)) and not the same operator without the decoder
    let latent_only = runs_latent
        && !(e.runs)(&Caps {
            latent: false,
            ..lcaps
        });
    if latent && !runs_latent {
        return Err(Error::Input(format!(
            "{solver} is a pixel-space solver and the model is a latent prior (a pipeline folder): on \
             its latents the operator is A(D(z)), which has no SVD, A⁺ or Aᵀ; use {} (or a pixel \
             prior such as weights/fmnist32 for {solver})",
            latent_solvers(task).join(", ")
        )));
    }
    if !latent && latent_only {
        return Err(Error::Input(format!(
            "{solver} solves latent problems: give --model a latent diffusion pipeline folder \
             (model_index.json with unet/ and vae/, such as weights/fmnist32-ldm); on a pixel prior \
             use dps"
        )));
    }
    Ok(())
}

/// The fewest steps `name` runs with from the command line and `eval` ([`SolverEntry::min_steps`]).
pub fn min_steps(name: &str) -> Option<usize> {
    REGISTRY.iter().find(|e| e.name == name).map(|e| e.min_steps)
}

/// Refuses a solver set to fewer steps than its [`SolverEntry::min_steps`]: with fewer, its chain
/// does not get from noise to the data (one step of the respaced chain is at t = 0 alone) and the
/// picture is noise or worse than the trivial estimate.
pub fn check_min_steps(solver: &dyn Solver) -> Result<()> {
    let name = solver.name();
    let steps = solver
        .settings()
        .into_iter()
        .find(|(k, _)| k == "steps" || k == "levels")
        .and_then(|(_, v)| v.parse::<usize>().ok());
    match (steps, min_steps(name)) {
        (Some(s), Some(min)) if s < min => Err(Error::setting(
            Setting::Steps(s.to_string()),
            format!(
                ": {name} takes at least {min} steps; with fewer its chain ends in noise or \
             more than 2 dB below the trivial estimate (README, \"Bad input\")"
            ),
        )),
        _ => Ok(()),
    }
}

/// The particle solvers: those that give a posterior standard deviation
/// ([`Solver::gives_std`]).
pub fn particle_solvers() -> Vec<&'static str> {
    let setup = Setup {
        caps: Caps::linear(Kind::Other),
        steps: Some(1),
        measure: true,
    };
    REGISTRY
        .iter()
        .filter(|e| (e.create)(&setup, Params::new(e.name, &[])).is_ok_and(|s| s.gives_std()))
        .map(|e| e.name)
        .collect()
}

/// The solvers that take Poisson measurements (`--set poisson=R`: their papers give a shot-noise
/// likelihood); every other solver assumes Gaussian noise of σ_y.
pub fn poisson_solvers() -> Vec<&'static str> {
    let setup = Setup {
        caps: Caps::linear(Kind::Other),
        steps: Some(1),
        measure: true,
    };
    let sets = [("poisson".to_string(), "1".to_string())];
    REGISTRY
        .iter()
        .filter(|e| (e.create)(&setup, Params::new(e.name, &sets)).is_ok())
        .map(|e| e.name)
        .collect()
}

/// Refuses `solver` for measurements with `noise` it has no likelihood for (Poisson noise for a
/// solver that assumes Gaussian), naming the solvers that take them.
pub fn check_noise(solver: &str, noise: &crate::operators::Noise) -> Result<()> {
    let takes = poisson_solvers();
    match noise {
        crate::operators::Noise::Poisson { .. } if !takes.contains(&solver) => Err(Error::Input(format!(
            "{solver} assumes Gaussian measurement noise, and these measurements carry {noise}; \
             the solvers with a Poisson likelihood: {} (or degrade again with --sigma-y)",
            takes.join(", ")
        ))),
        _ => Ok(()),
    }
}

/// The names of the registered solvers.
pub fn names() -> Vec<&'static str> {
    REGISTRY.iter().map(|e| e.name).collect()
}

/// The solvers that need neither an SVD nor a pseudo-inverse (they run every task).
fn structure_free() -> String {
    const BARE: Caps = Caps::linear(Kind::Other);
    let names: Vec<&str> = REGISTRY
        .iter()
        .filter(|e| (e.runs)(&BARE))
        .map(|e| e.name)
        .collect();
    names.join(" or ")
}

/// What one step of a run produced: the next sample and, where the method forms one, its current
/// estimate of x0 (Tweedie's, or the method's own).
pub struct Stepped {
    /// The sample after the step.
    pub x: Tensor,
    /// The estimate of x0 the step formed.
    pub x0: Option<Tensor>,
}

type StepFn<'a> = Box<dyn FnMut(&Tensor, usize) -> Result<Stepped> + Send + 'a>;
type FinishFn<'a> = Box<dyn FnOnce(Tensor) -> Result<Tensor> + Send + 'a>;
/// Maps the last state of a particle run to the result and the per-pixel posterior standard
/// deviation.
pub(crate) type PosteriorFn<'a> = Box<dyn FnOnce(Tensor) -> Result<(Tensor, Tensor)> + Send + 'a>;

/// How a [`Run`] waits and checks, chosen by the host when it starts the run
/// ([`Solver::start_with`], [`OwnedRun::start`]). The default is the command line's: paced, and
/// checked for NaN every 50 steps, stopping at the first failure; [`RunOptions::background`] is a
/// render loop's: never waits, checks every step on the device and reads nothing back until the
/// host reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunOptions {
    /// After each step, wait until the previous step's work is done (the device at most one step
    /// ahead of the host). Off, a step only submits its work and never waits.
    pub pace: bool,
    /// Check the sample for NaN or infinity every this many steps (and, from
    /// [`Solver::start_with`], the measurements once), on the device: each check folds into the
    /// run's one-value flag ([`Run::flag`]), which keeps the first failure. `None`: only the result
    /// is checked, in [`Run::finish`].
    pub check_every: Option<usize>,
    /// Read the flag back at each check and stop at the first failure (4 bytes, but a readback
    /// waits for the step's work). Off, the flag is read only by [`Run::finish`] and
    /// [`Run::check`], or by the host itself ([`Tensor::read_async`] on [`Run::flag`]).
    pub stop_early: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            pace: true,
            check_every: Some(50),
            stop_early: true,
        }
    }
}

impl RunOptions {
    /// For a render loop or a worker thread: a step never waits (`pace: false`), every step is
    /// checked on the device (`check_every: Some(1)`) and nothing is read back until the host reads
    /// (`stop_early: false`): [`Run::finish`], [`Run::check`], or [`Run::flag`] read
    /// asynchronously.
    pub const fn background() -> Self {
        RunOptions {
            pace: false,
            check_every: Some(1),
            stop_early: false,
        }
    }
}

/// The flag's code for measurements that failed the check ([`Solver::start_with`]); a sample that
/// failed after step `k` (1-based) writes `1 + k`, the result `steps + 2`.
const FLAG_MEASUREMENTS: u32 = 1;

/// A solver run in progress: the host advances it with [`Run::step`] and may read the current
/// sample and estimate after any step. Runs of different solvers (or of one solver on different
/// problems) on one device are independent and may be interleaved step by step.
pub struct Run<'a> {
    name: &'static str,
    gpu: crate::gpu::Gpu,
    steps: usize,
    done: usize,
    x: Tensor,
    x0: Option<Tensor>,
    step: StepFn<'a>,
    finish: Option<FinishFn<'a>>,
    posterior: Option<PosteriorFn<'a>>,
    options: RunOptions,
    /// The device-side NaN flag (one value, 0 while every check passed), made at the first check.
    flag: Option<Tensor>,
}

impl<'a> Run<'a> {
    /// A run of `steps` steps of `step(x, i)` from `x`; `finish` maps the last sample to the result
    /// (the identity when `None`).
    pub fn new(
        name: &'static str,
        gpu: &crate::gpu::Gpu,
        x: Tensor,
        steps: usize,
        step: impl FnMut(&Tensor, usize) -> Result<Stepped> + Send + 'a,
        finish: Option<FinishFn<'a>>,
    ) -> Run<'a> {
        Run {
            name,
            gpu: gpu.clone(),
            steps,
            done: 0,
            x: x.detach(),
            x0: None,
            step: Box::new(step),
            finish,
            posterior: None,
            options: RunOptions::default(),
            flag: None,
        }
    }

    /// A run whose state is a batch of weighted particles: `posterior` maps the last state to the
    /// result and the per-pixel posterior standard deviation ([`Run::finish_with_std`]).
    pub(crate) fn particles(
        name: &'static str,
        gpu: &crate::gpu::Gpu,
        x: Tensor,
        steps: usize,
        step: impl FnMut(&Tensor, usize) -> Result<Stepped> + Send + 'a,
        posterior: PosteriorFn<'a>,
    ) -> Run<'a> {
        let mut run = Run::new(name, gpu, x, steps, step, None);
        run.posterior = Some(posterior);
        run
    }

    /// The run with `options` ([`RunOptions`]) for the steps still to take.
    pub fn with_options(mut self, options: RunOptions) -> Self {
        self.options = options;
        self
    }

    /// The options the run steps with.
    pub fn options(&self) -> RunOptions {
        self.options
    }

    /// Takes the next step; `Ok(false)` when every step was taken already. By default
    /// ([`RunOptions`]) the device is kept at most one step ahead of the host, and the sample is
    /// checked for NaN every 50 steps.
    pub fn step(&mut self) -> Result<bool> {
        if self.done >= self.steps {
            return Ok(false);
        }
        let i = self.done;
        if self.options.check_every.is_some() && self.flag.is_none() {
            // the flag is made before the first step's work, so the buffers a run holds are all
            // taken by its first step (a long run's pool stops growing after its warm-up)
            self.flag()?;
        }
        let out = (self.step)(&self.x, i)?;
        self.x = out.x.detach();
        self.x0 = out.x0.map(|t| t.detach());
        self.done += 1;
        if let Some(every) = self.options.check_every
            && self.done.is_multiple_of(every.max(1))
        {
            let x = self.x.clone();
            self.fold(&x, flag_code(1 + self.done)?)?;
            if self.options.stop_early {
                self.check()?;
            }
        }
        if self.options.pace {
            self.gpu.pace()?;
        } else {
            self.gpu.submit()?;
        }
        Ok(true)
    }

    /// The solver's registry name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Steps taken so far.
    pub fn done(&self) -> usize {
        self.done
    }

    /// Steps in the whole run.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Whether every step was taken.
    pub fn is_finished(&self) -> bool {
        self.done >= self.steps
    }

    /// The current sample (x_T before the first step); for the particle solvers, every particle
    /// (`K` rows per observation).
    pub fn sample(&self) -> &Tensor {
        &self.x
    }

    /// The estimate of x0 formed by the last step (`None` before the first step).
    pub fn estimate(&self) -> Option<&Tensor> {
        self.x0.as_ref()
    }

    /// Takes the remaining steps and returns the result, checked for NaN.
    pub fn finish(self) -> Result<Tensor> {
        Ok(self.finish_with_std()?.0)
    }

    /// [`Run::finish`], and for the particle solvers (TDS, SMCDiff, MCGdiff, FPS) also the per-pixel
    /// standard deviation of the weighted particles, an estimate of the posterior's: where the
    /// restoration is uncertain. `None` for the other solvers. The result is checked on the device
    /// with the run's earlier checks and the flag read once: the one readback of a run with
    /// `stop_early` off.
    pub fn finish_with_std(self) -> Result<(Tensor, Option<Tensor>)> {
        self.finish_deferred()?.wait()
    }

    /// Takes the remaining steps, records the result's NaN check and starts reading the flag back,
    /// without waiting for any of it: what a web page (which cannot block) or a render loop uses in
    /// place of [`Run::finish_with_std`]. `.await` the [`Finishing`] (or [`Finishing::poll`] it
    /// once a frame) for the result, checked like [`Run::finish_with_std`]'s; the steps still to
    /// take are recorded as [`Run::step`] records them (with [`RunOptions::background`], nothing
    /// waits).
    pub fn finish_deferred(mut self) -> Result<Finishing> {
        while self.step()? {}
        let (name, steps) = (self.name, self.steps);
        let flag = self.flag()?.clone();
        let (out, std) = self.finish_unchecked()?;
        ops::flag_nonfinite(&out, &flag, flag_code(steps + 2)?)?;
        Ok(Finishing {
            out: Some((out, std)),
            flag: flag.read_async()?,
            name,
            steps,
        })
    }

    /// The remaining steps and the result, unchecked (a wrapper that checks the result it
    /// builds from several runs, [`Restarts`]).
    pub(crate) fn finish_unchecked(mut self) -> Result<(Tensor, Option<Tensor>)> {
        while self.step()? {}
        let Run {
            x, finish, posterior, ..
        } = self;
        Ok(match (posterior, finish) {
            (Some(f), _) => {
                let (m, s) = f(x)?;
                (m, Some(s))
            }
            (None, Some(f)) => (f(x)?, None),
            (None, None) => (x, None),
        })
    }

    /// The device-side NaN flag: one value, 0 while every check so far passed, else the code of
    /// the first failure ([`Run::flag_error`] words it). Made (zero) at the first call or check.
    /// A host that must never block reads it with [`Tensor::read_async`].
    pub fn flag(&mut self) -> Result<&Tensor> {
        if self.flag.is_none() {
            self.flag = Some(Tensor::full(&self.gpu, &[1], 0.0)?);
        }
        Ok(self.flag.as_ref().expect("made above"))
    }

    /// Folds a NaN check of `t` into the flag, on the device (no readback).
    fn fold(&mut self, t: &Tensor, code: u32) -> Result<()> {
        let flag = self.flag()?.clone();
        ops::flag_nonfinite(t, &flag, code)
    }

    /// Reads the flag back (waits for the work recorded so far) and turns a failure into its
    /// error; `Ok` when every check so far passed (or none was made).
    pub fn check(&mut self) -> Result<()> {
        let Some(flag) = &self.flag else {
            return Ok(());
        };
        let v = flag.to_vec()?;
        match v.first() {
            Some(&c) if c != 0.0 => Err(self.flag_error(c)),
            _ => Ok(()),
        }
    }

    /// The error a non-zero flag value ([`Run::flag`]) stands for: which check failed first.
    pub fn flag_error(&self, value: f32) -> Error {
        flag_error(self.name, self.steps, value)
    }
}

/// [`Run::flag_error`] for a run of `steps` steps of solver `name`.
fn flag_error(name: &str, steps: usize, value: f32) -> Error {
    let code = value as usize;
    let hint = "try more steps, a smaller step size, or check the model";
    if code == FLAG_MEASUREMENTS as usize {
        Error::Input(
            "the measurements hold a non-finite value (NaN or infinity); the observation is corrupt".into(),
        )
    } else if (2..=steps + 1).contains(&code) {
        Error::NonFinite(format!(
            "{name} step {} of {steps}: the sample holds NaN or infinity; {hint}",
            code - 1
        ))
    } else {
        Error::NonFinite(format!("the {name} result holds NaN or infinity; {hint}"))
    }
}

/// A run whose every step is recorded ([`Run::finish_deferred`]) and whose NaN flag is on its way
/// back: the result once the flag says every check passed. Owns tensors only (no borrow of the
/// problem), so it outlives the run's model and operator borrows.
pub struct Finishing {
    out: Option<(Tensor, Option<Tensor>)>,
    flag: crate::gpu::Readback,
    name: &'static str,
    steps: usize,
}

impl Finishing {
    /// Blocks until the device is done and gives the result ([`Run::finish_with_std`]); native
    /// hosts only (a web page `.await`s instead).
    pub fn wait(mut self) -> Result<(Tensor, Option<Tensor>)> {
        let v = self.flag.wait()?;
        self.judge(v)
    }

    /// The result if the device has finished, `None` if not yet (never blocks: once a frame).
    /// After it gave `Some`, later calls give an error.
    pub fn poll(&mut self) -> Option<Result<(Tensor, Option<Tensor>)>> {
        let v = self.flag.poll()?;
        Some(v.and_then(|v| self.judge(v)))
    }

    fn judge(&mut self, flag: Vec<f32>) -> Result<(Tensor, Option<Tensor>)> {
        match flag.first() {
            Some(&c) if c != 0.0 => Err(flag_error(self.name, self.steps, c)),
            _ => self
                .out
                .take()
                .ok_or_else(|| Error::Input("this run's result was taken already".into())),
        }
    }
}

impl std::future::Future for Finishing {
    type Output = Result<(Tensor, Option<Tensor>)>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let this = &mut *self;
        match std::pin::Pin::new(&mut this.flag).poll(cx) {
            std::task::Poll::Ready(v) => std::task::Poll::Ready(v.and_then(|v| this.judge(v))),
            std::task::Poll::Pending => std::task::Poll::Pending,
        }
    }
}

/// A flag code in the range [`ops::flag_nonfinite`] writes exactly.
fn flag_code(code: usize) -> Result<u32> {
    u32::try_from(code)
        .ok()
        .filter(|&c| c <= ops::MAX_FLAG_CODE)
        .ok_or_else(|| {
            Error::Input(format!(
                "a run of {code} steps: at most {} steps can be checked on the device",
                ops::MAX_FLAG_CODE - 2
            ))
        })
}

/// Builds a solver by name for the operator `op`, registered or a host's own: its [`Caps`]
/// ([`Operator::caps`], its [`Kind`] choosing the defaults that depend on the problem) decide
/// whether the solver runs it and with which defaults; `steps` overrides the default number of
/// steps and `sets` sets parameters (`key=value`, as `--set` takes them).
pub fn create(
    name: &str,
    op: &dyn Operator,
    steps: Option<usize>,
    sets: &[(String, String)],
) -> Result<Box<dyn Solver>> {
    create_for(name, &op.caps(), steps, sets)
}

/// [`create`] for one of the registered tasks before its operator is built (`task` is its name,
/// or a whole task spec): [`create_for`] with the task's [`Caps`].
pub fn create_for_task(
    name: &str,
    task: &str,
    steps: Option<usize>,
    sets: &[(String, String)],
) -> Result<Box<dyn Solver>> {
    let task_name = task.split(':').next().unwrap_or(task).trim();
    let entry = task_entry(task_name).ok_or_else(|| {
        Error::Input(format!(
            "unknown task {task_name:?}; tasks: {} (for an operator of your own use create with \
             the operator)",
            task_names(|_| true).join(", ")
        ))
    })?;
    create_for(name, &entry.caps(), steps, sets)
}

/// Builds a solver by name from what an operator offers, registered or a host's own
/// (`caps`; its [`Kind`] chooses the defaults that depend on the problem), with `steps` overriding
/// its default number of steps and `sets` its parameters.
pub fn create_for(
    name: &str,
    caps: &Caps,
    steps: Option<usize>,
    sets: &[(String, String)],
) -> Result<Box<dyn Solver>> {
    if steps == Some(0) {
        return Err(Error::setting(
            Setting::Steps("0".into()),
            ": a solver takes at least 1 step",
        ));
    }
    let Some(e) = REGISTRY.iter().find(|e| e.name == name) else {
        return Err(Error::Input(format!(
            "unknown solver {name:?}; solvers: {}",
            names().join(", ")
        )));
    };
    // restarts wrap any solver that takes a nonlinear forward model (see [`Restarts`])
    let takes_any = nonlinear_solvers().contains(&e.name);
    let mut n = if takes_any && caps.kind == Kind::PhaseRetrieval {
        4
    } else {
        1
    };
    let mut rest = sets.to_vec();
    if let Some(i) = rest.iter().position(|(k, _)| k == "restarts") {
        let (_, v) = rest.remove(i);
        if !takes_any {
            return Err(Error::setting(
                Setting::SolverParam("restarts".into()),
                format!(
                    ": {name} does not take it; the solvers that do: {}",
                    nonlinear_solvers().join(", ")
                ),
            ));
        }
        n = v
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|&n| n >= 1)
            .ok_or_else(|| {
                Error::setting(
                    Setting::SolverParam(format!("restarts={v}")),
                    ": expects a whole number, at least 1",
                )
            })?;
    }
    // the switch every solver takes, read here once
    let mut p = Params::new(e.name, &rest);
    let measure = p.shared_flag("measure", true)?;
    // with the measurement off there is nothing to choose by: one run
    if !measure {
        n = 1;
    }
    let setup = Setup {
        caps: *caps,
        steps,
        measure,
    };
    let inner = (e.create)(&setup, p)?;
    Ok(if n > 1 {
        Box::new(Restarts { inner, n })
    } else {
        inner
    })
}

/// The respaced timesteps of a run, each with its device tensor (made before the loop, so the loop
/// uploads nothing).
pub fn timesteps(p: &Problem, steps: usize) -> Result<Vec<Timestep>> {
    timesteps_of(p, &crate::diffusion::respace(p.schedule().len(), steps)?)
}

/// [`Timestep`]s for the given indices.
pub fn timesteps_of(p: &Problem, ts: &[usize]) -> Result<Vec<Timestep>> {
    ts.iter().map(|&t| Timestep::new(p.model.gpu(), t)).collect()
}

/// The timestep after step `i` (`None` after the last).
pub fn next_t(tt: &[Timestep], i: usize) -> Option<usize> {
    tt.get(i + 1).map(|t| t.t)
}

/// Checks the measurements against the operator and the model, and that the operator is fully known
/// (only the blind solvers estimate part of it: they call [`check_blind_problem`]).
pub fn check_problem(p: &Problem) -> Result<[usize; 4]> {
    if p.op.unknown().is_some() {
        return Err(Error::Input(format!(
            "{} has an unknown kernel, and only a blind solver estimates it: use the solver {}; \
             to deblur with a known kernel give deblur-gauss or deblur-motion",
            p.op.describe(),
            REGISTRY
                .iter()
                .filter(|e| (e.runs)(&p.op.caps()))
                .map(|e| e.name)
                .collect::<Vec<_>>()
                .join(" or ")
        )));
    }
    check_blind_problem(p)
}

/// [`check_problem`] that accepts an operator with unknown parameters.
pub fn check_blind_problem(p: &Problem) -> Result<[usize; 4]> {
    let [c, h, w] = p.op.x_shape();
    let b = p.y.shape()[0];
    let mut want = vec![b];
    want.extend(p.op.y_shape());
    if p.y.shape() != want.as_slice() {
        return Err(Error::Shape(format!(
            "measurements of shape {:?} for the operator {} (expects {want:?})",
            p.y.shape(),
            p.op.describe()
        )));
    }
    p.model.check_input(&[b, c, h, w])?;
    if !(p.sigma_y.is_finite() && p.sigma_y >= 0.0) {
        return Err(Error::Input(format!(
            "sigma_y = {}: the measurement noise must be a finite number of at least 0",
            p.sigma_y
        )));
    }
    Ok([b, c, h, w])
}

/// Reads the measurements back and checks that they are finite (what [`Solver::start_with`] does
/// with checks on; the problem checks of [`check_problem`] read nothing back).
pub fn check_measurements(p: &Problem) -> Result<()> {
    let y = p.y.to_vec()?;
    if let Some(i) = y.iter().position(|v| !v.is_finite()) {
        return Err(Error::Input(format!(
            "the measurements hold a non-finite value (measurement {} of image {}); the observation file is corrupt",
            i % p.op.m().max(1),
            i / p.op.m().max(1)
        )));
    }
    Ok(())
}

/// The trivial estimate a solver must beat: the operator's own ([`Operator::trivial`]: `A⁺ y`, the
/// observation, `y / scale`, …), or where `y` alone fixes no image (phase retrieval) the prior's
/// mean image ([`prior_mean`]), one per observation.
pub fn trivial_estimate(model: &dyn Denoiser, op: &dyn Operator, y: &Tensor) -> Result<Tensor> {
    if !op.trivial_is_prior_mean() {
        return op.trivial(y);
    }
    let mean = prior_mean(model, op.x_shape())?;
    let rows = y.shape().first().copied().unwrap_or(0);
    crate::ops::particles::gather_rows(&mean, &Tensor::full(model.gpu(), &[rows], 0.0)?)
}

/// The prior's mean image `E[x0]` for images `[C, H, W]`, as `[1, C, H, W]`: Tweedie's estimate
/// `E[x0 | x_t]` averaged over 64 pure-noise draws at `t = 0.9 T`, where the noise carries almost
/// nothing of `x0`, clamped to [-1, 1]. For the bundled prior the 64 estimates there differ by 0.9
/// per pixel (standard deviation), so the average is good to ~0.1; at `t = T` they differ by 2.8
/// (the division by `sqrt(ᾱ_T)` amplifies the model's error), at `0.7 T` by 0.25 but a pure-noise
/// draw is no longer typical of `x_t`. Fixed seed: the same image every call.
pub fn prior_mean(model: &dyn Denoiser, shape: [usize; 3]) -> Result<Tensor> {
    const DRAWS: usize = 64;
    let sched = model.schedule();
    let t = (sched.len() - 1) * 9 / 10;
    let [c, h, w] = shape;
    let x = crate::diffusion::randn(model.gpu(), &[DRAWS, c, h, w], 0x3EA4, 0, 1)?;
    let eps = model.eps(&x, &Timestep::new(model.gpu(), t)?)?;
    let x0 = crate::diffusion::tweedie(sched, &x, &eps, t, false)?;
    let mean = ops::scale(&ops::col_sum(&x0, c * h * w)?, 1.0 / DRAWS as f32)?;
    ops::clamp(&mean.reshape(&[1, c, h, w])?, -1.0, 1.0)
}

/// The solvers that take any forward model, linear or not (they need only `A` and its VJP).
pub fn nonlinear_solvers() -> Vec<&'static str> {
    const NONLINEAR: Caps = Caps {
        linear: false,
        ..Caps::linear(Kind::Other)
    };
    REGISTRY
        .iter()
        .filter(|e| (e.runs)(&NONLINEAR))
        .map(|e| e.name)
        .collect()
}

/// The operator as a linear one, or an error that names the solvers that take a nonlinear task.
pub fn require_linear<'a>(p: &Problem<'a>, solver: &str) -> Result<&'a dyn Linear> {
    p.op.linear().ok_or_else(|| {
        Error::Input(format!(
            "{solver} needs a linear operator (Aᵀ), and {} is nonlinear; solvers that take any \
             forward model: {}",
            p.op.describe(),
            nonlinear_solvers().join(", ")
        ))
    })
}

/// The operator's SVD, or an error that says which operators have one.
pub fn require_svd<'a>(p: &Problem<'a>, solver: &str) -> Result<&'a dyn Svd> {
    require_linear(p, solver)?.svd()?.ok_or_else(|| {
        Error::Input(format!(
            "{solver} works in the operator's SVD space, and {} has no SVD; operators with one: {}. \
             For this operator use {}",
            p.op.describe(),
            task_names(|t| t.svd).join(", "),
            structure_free()
        ))
    })
}

/// The singular values on the device, those below `min` set to zero (DDRM's `ZERO` threshold:
/// directions the measurement barely sees are treated as unseen); all zero when `on` is false,
/// which switches the measurement off.
pub fn singulars(p: &Problem, svd: &dyn Svd, min: f64, on: bool) -> Result<Tensor> {
    let s: Vec<f32> = svd
        .singulars()
        .iter()
        .map(|&v| if on && v as f64 >= min { v } else { 0.0 })
        .collect();
    Tensor::from_slice(p.model.gpu(), &[s.len()], &s)
}

/// `A⁺`: the operator's own pseudo-inverse, or `V Σ⁺ Uᵀ` from its SVD with singular values below
/// `min` dropped. Resolved once per solve, so that a loop applying it uploads nothing.
pub struct PseudoInverse<'a> {
    op: &'a dyn Linear,
    /// The SVD and its thresholded singular values, when the operator has no `A⁺` of its own.
    spectral: Option<(&'a dyn Svd, Tensor)>,
}

impl<'a> PseudoInverse<'a> {
    /// The pseudo-inverse of the problem's operator, or an error naming the solvers that need none.
    pub fn new(p: &Problem<'a>, min: f64, solver: &str) -> Result<Self> {
        let lin = require_linear(p, solver)?;
        if lin.pinv(p.y)?.is_some() {
            return Ok(PseudoInverse {
                op: lin,
                spectral: None,
            });
        }
        let svd = lin.svd()?.ok_or_else(|| {
            Error::Input(format!(
                "{solver} needs the operator's pseudo-inverse, and {} has none (nor an SVD); use {}",
                p.op.describe(),
                structure_free()
            ))
        })?;
        Ok(PseudoInverse {
            op: lin,
            spectral: Some((svd, singulars(p, svd, min, true)?)),
        })
    }

    /// `A⁺ y`.
    pub fn apply(&self, y: &Tensor) -> Result<Tensor> {
        match &self.spectral {
            Some((svd, s)) => svd.v(&ops::spectral_gain(&svd.ut(y)?, s, 0.0)?),
            None => self
                .op
                .pinv(y)?
                .ok_or_else(|| Error::Input(format!("{} gave no pseudo-inverse", self.op.describe()))),
        }
    }
}
