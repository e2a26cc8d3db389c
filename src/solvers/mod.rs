//! Solvers: each method in its own file, written to read like the paper's update equations, behind
//! one [`Solver`] trait so that the command line and the tests treat them alike.

mod ddnm;
mod ddrm;
mod dps;
mod mcg;
mod pigdm;
mod score_ald;

pub use ddnm::Ddnm;
pub use ddrm::Ddrm;
pub use dps::Dps;
pub use mcg::Mcg;
pub use pigdm::PiGdm;
pub use score_ald::ScoreAld;

use crate::diffusion::{Schedule, check_finite};
use crate::error::{Error, Result};
use crate::models::UNet2DModel;
use crate::operators::{Operator, Svd};
use crate::ops;
use crate::tensor::Tensor;

/// An inverse problem: recover `x` from `y = A x + σ_y n` with the model as the prior.
pub struct Problem<'a> {
    /// The score model (ε-prediction).
    pub model: &'a UNet2DModel,
    /// Its noise schedule.
    pub schedule: &'a Schedule,
    /// The measurement operator `A`.
    pub op: &'a dyn Operator,
    /// The measurements, `[B, ...]` of the operator's measurement shape.
    pub y: &'a Tensor,
    /// The measurement noise level, in [-1, 1] image units.
    pub sigma_y: f64,
}

/// A posterior sampler or estimator.
pub trait Solver {
    /// The registry name.
    fn name(&self) -> &'static str;
    /// The settings in effect, as `key=value` pairs (for logs and tables).
    fn settings(&self) -> Vec<(String, String)>;
    /// Restores the batch; `progress(done, total)` is called after every step.
    fn solve(&self, p: &Problem, seed: u64, progress: &mut dyn FnMut(usize, usize)) -> Result<Tensor>;
}

/// The solvers `create` knows.
pub const SOLVERS: &[&str] = &["dps", "ddrm", "ddnm", "pigdm", "mcg", "score-ald"];

/// `--set key=value` parameters with checking: every key must be used.
pub struct Params {
    kv: Vec<(String, String)>,
    used: Vec<String>,
    solver: &'static str,
}

impl Params {
    /// Wraps the pairs given on the command line.
    pub fn new(solver: &'static str, kv: &[(String, String)]) -> Self {
        Params {
            kv: kv.to_vec(),
            used: Vec::new(),
            solver,
        }
    }

    /// The value of `key` parsed as `T`, or `default` when not given.
    fn parsed<T: std::str::FromStr>(&mut self, key: &str, default: T, expects: &str) -> Result<T> {
        self.used.push(key.to_string());
        match self.kv.iter().rev().find(|(k, _)| k == key) {
            None => Ok(default),
            Some((_, v)) => v
                .parse()
                .map_err(|_| Error::Input(format!("--set {key}={v}: {} expects {expects}", self.solver))),
        }
    }

    /// A real parameter with its default.
    pub fn f64(&mut self, key: &str, default: f64) -> Result<f64> {
        self.parsed(key, default, "a number")
    }

    /// A count with its default.
    pub fn usize(&mut self, key: &str, default: usize) -> Result<usize> {
        self.parsed(key, default, "a whole number")
    }

    /// A switch with its default, given as `1` or `0`.
    pub fn flag(&mut self, key: &str, default: bool) -> Result<bool> {
        match self.parsed::<u8>(key, default as u8, "1 or 0")? {
            v @ (0 | 1) => Ok(v == 1),
            v => Err(Error::Input(format!(
                "--set {key}={v}: {} expects 1 or 0",
                self.solver
            ))),
        }
    }

    /// Errors on keys that no parameter used.
    pub fn finish(self) -> Result<()> {
        if let Some((k, _)) = self.kv.iter().find(|(k, _)| !self.used.contains(k)) {
            return Err(Error::Input(format!(
                "--set {k}: {} has no such parameter (it takes: {})",
                self.solver,
                self.used.join(", ")
            )));
        }
        Ok(())
    }
}

/// Builds a solver by name for a task (some defaults depend on the task), with `steps` overriding
/// its default number of steps and `sets` its parameters.
pub fn create(
    name: &str,
    task: &str,
    steps: Option<usize>,
    sets: &[(String, String)],
) -> Result<Box<dyn Solver>> {
    match name {
        "dps" => Ok(Box::new(Dps::new(task, steps, sets)?)),
        "ddrm" => Ok(Box::new(Ddrm::new(steps, sets)?)),
        "ddnm" => Ok(Box::new(Ddnm::new(steps, sets)?)),
        "pigdm" => Ok(Box::new(PiGdm::new(steps, sets)?)),
        "mcg" => Ok(Box::new(Mcg::new(task, steps, sets)?)),
        "score-ald" => Ok(Box::new(ScoreAld::new(steps, sets)?)),
        other => Err(Error::Input(format!(
            "unknown solver {other:?}; solvers: {}",
            SOLVERS.join(", ")
        ))),
    }
}

/// Timesteps for a respaced run and a device tensor of each (made before the loop, so the loop
/// uploads nothing).
pub(crate) fn timesteps(p: &Problem, steps: usize) -> Result<(Vec<usize>, Vec<Tensor>)> {
    let ts = crate::diffusion::respace(p.schedule.len(), steps)?;
    let b = p.y.shape()[0];
    let gpu = p.model.gpu();
    let tt = ts
        .iter()
        .map(|&t| Tensor::full(gpu, &[b], t as f32))
        .collect::<Result<_>>()?;
    Ok((ts, tt))
}

/// Checks the measurements against the operator and the model.
pub(crate) fn check_problem(p: &Problem) -> Result<[usize; 4]> {
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
    Ok([b, c, h, w])
}

/// Runs `step(x, i, t, next)` over the timesteps `ts` from `x`, with the progress callback, the
/// device kept one step ahead, and a NaN check every 50 steps and at the end.
pub(crate) fn iterate(
    p: &Problem,
    name: &str,
    x: Tensor,
    ts: &[usize],
    progress: &mut dyn FnMut(usize, usize),
    mut step: impl FnMut(Tensor, usize, usize, Option<usize>) -> Result<Tensor>,
) -> Result<Tensor> {
    let mut x = x;
    for (i, &t) in ts.iter().enumerate() {
        x = step(x, i, t, ts.get(i + 1).copied())?;
        if (i + 1) % 50 == 0 {
            check_finite(&x, &format!("{name} step {} of {} (t = {t})", i + 1, ts.len()))?;
        }
        p.model.gpu().pace()?;
        progress(i + 1, ts.len());
    }
    check_finite(&x, &format!("the {name} result"))?;
    Ok(x)
}

/// The operator's SVD, or an error that says which operators have one.
pub(crate) fn require_svd<'a>(p: &Problem<'a>, solver: &str) -> Result<&'a dyn Svd> {
    p.op.svd().ok_or_else(|| {
        Error::Input(format!(
            "{solver} works in the operator's SVD space, and {} has no SVD; operators with one: denoise, \
             inpaint-box, inpaint-random, inpaint-mask, sr, sr-bicubic, deblur-gauss, colorize, cs. \
             For this operator use dps or score-ald",
            p.op.describe()
        ))
    })
}

/// The singular values on the device, those below `min` set to zero (DDRM's `ZERO` threshold:
/// directions the measurement barely sees are treated as unseen); all zero when `on` is false,
/// which switches the measurement off.
pub(crate) fn singulars(p: &Problem, svd: &dyn Svd, min: f64, on: bool) -> Result<Tensor> {
    let s: Vec<f32> = svd
        .singulars()
        .iter()
        .map(|&v| if on && v as f64 >= min { v } else { 0.0 })
        .collect();
    Tensor::from_slice(p.model.gpu(), &[s.len()], &s)
}

/// Tweedie's estimate `x̂0 = (x_t − sqrt(1−ᾱ_t) ε) / sqrt(ᾱ_t)`, clamped to [-1, 1] when the
/// model's schedule says so (`clip_sample`).
pub(crate) fn tweedie(p: &Problem, x: &Tensor, eps: &Tensor, t: usize) -> Result<Tensor> {
    let (a, b) = p.schedule.x0_coefficients(t);
    let x0 = ops::axpby(a as f32, x, b as f32, eps)?;
    if p.schedule.clip_sample {
        ops::clamp(&x0, -1.0, 1.0)
    } else {
        Ok(x0)
    }
}

/// `A⁺`: the operator's own pseudo-inverse, or `V Σ⁺ Uᵀ` from its SVD with singular values below
/// `min` dropped. Resolved once per solve, so that a loop applying it uploads nothing.
pub(crate) struct PseudoInverse<'a> {
    op: &'a dyn Operator,
    /// The SVD and its thresholded singular values, when the operator has no `A⁺` of its own.
    spectral: Option<(&'a dyn Svd, Tensor)>,
}

impl<'a> PseudoInverse<'a> {
    /// The pseudo-inverse of the problem's operator, or an error naming the solvers that need none.
    pub fn new(p: &Problem<'a>, min: f64, solver: &str) -> Result<Self> {
        if p.op.pinv(p.y)?.is_some() {
            return Ok(PseudoInverse {
                op: p.op,
                spectral: None,
            });
        }
        let svd = p.op.svd().ok_or_else(|| {
            Error::Input(format!(
                "{solver} needs the operator's pseudo-inverse, and {} has none (nor an SVD); use dps or score-ald",
                p.op.describe()
            ))
        })?;
        Ok(PseudoInverse {
            op: p.op,
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

/// σ of timestep `t` in variance-exploding units, `sqrt((1 − ᾱ_t) / ᾱ_t)` (0 at the end, `None`).
pub(crate) fn ve_sigma(sched: &Schedule, t: Option<usize>) -> f64 {
    let ab = sched.alpha_bar(t);
    ((1.0 - ab) / ab).sqrt()
}

/// What DDRM and DDNM share: the operator's SVD, its (thresholded) singular values, `Uᵀ y`, and the
/// step loop that maps ε and Tweedie's x̂0 to spectral coordinates, applies a per-coordinate update
/// and maps back through `V`.
pub(crate) struct SpectralRun<'a> {
    /// The operator's SVD.
    pub svd: &'a dyn Svd,
    /// Singular values, zero where unseen (all zero with the measurement switched off).
    pub s: Tensor,
    /// `Uᵀ y` in the spectral layout.
    pub uty: Tensor,
    /// Batch shape `[B, C, H, W]`.
    pub shape: [usize; 4],
}

impl<'a> SpectralRun<'a> {
    /// Checks the problem and prepares the spectral pieces for `solver`.
    pub fn new(p: &Problem<'a>, solver: &str, min_singular: f64, measure: bool) -> Result<Self> {
        let shape = check_problem(p)?;
        let svd = require_svd(p, solver)?;
        Ok(SpectralRun {
            svd,
            s: singulars(p, svd, min_singular, measure)?,
            uty: svd.ut(p.y)?.reshape(&shape)?,
            shape,
        })
    }

    /// The spectral inputs with `x0` and `ebar` (and the noise) given.
    pub fn inputs<'b>(&'b self, x0: &'b Tensor, ebar: &'b Tensor, z: &'b Tensor) -> ops::Spectral<'b> {
        ops::Spectral {
            x0,
            uty: &self.uty,
            ebar,
            z,
            s: &self.s,
        }
    }

    /// Runs `steps` respaced steps from `x`: each computes ε, x̂0 (see [`tweedie`]), `Vᵀx̂0`, `Vᵀε`
    /// and fresh noise, and returns `V update(inputs, next timestep)`.
    pub fn run(
        &self,
        p: &Problem,
        name: &str,
        (x, steps): (Tensor, usize),
        seed: u64,
        progress: &mut dyn FnMut(usize, usize),
        update: impl Fn(&ops::Spectral, Option<usize>) -> Result<Tensor>,
    ) -> Result<Tensor> {
        let (ts, tt) = timesteps(p, steps)?;
        iterate(p, name, x, &ts, progress, |x, i, t, next| {
            let eps = p.model.forward(&x, &tt[i])?;
            let x0 = tweedie(p, &x, &eps, t)?;
            let (x0b, eb) = (self.svd.vt(&x0)?, self.svd.vt(&eps)?);
            let z = crate::diffusion::randn(p.model.gpu(), &self.shape, seed, i as u32 + 1, 1)?;
            self.svd.v(&update(&self.inputs(&x0b, &eb, &z), next)?)
        })
    }
}
