//! Solvers: each method in its own file, written to read like the paper's update equations, behind
//! one [`Solver`] trait so that the command line and the tests treat them alike.

mod dps;

pub use dps::Dps;

use crate::diffusion::Schedule;
use crate::error::{Error, Result};
use crate::models::UNet2DModel;
use crate::operators::Operator;
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
pub const SOLVERS: &[&str] = &["dps"];

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

    /// A real parameter with its default.
    pub fn f64(&mut self, key: &str, default: f64) -> Result<f64> {
        self.used.push(key.to_string());
        match self.kv.iter().rev().find(|(k, _)| k == key) {
            None => Ok(default),
            Some((_, v)) => v
                .parse()
                .map_err(|_| Error::Input(format!("--set {key}={v}: {} expects a number", self.solver))),
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
