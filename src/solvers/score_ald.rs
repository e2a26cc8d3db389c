//! Score-based annealed Langevin dynamics for inverse problems (Score-ALD).
//!
//! Jalal, Arvinte, Daras, Price, Dimakis, Tamir, "Robust Compressed Sensing MRI with Deep Generative
//! Priors", NeurIPS 2021; official code utcsilab/csgm-mri-langevin. The annealing follows Song &
//! Ermon, "Generative Modeling by Estimating Gradients of the Data Distribution" (NeurIPS 2019).
//!
//! Langevin dynamics at a decreasing sequence of noise levels, in variance-exploding units
//! (`x̃ = x_t / sqrt(ᾱ_t)`, `σ_i = sqrt(1−ᾱ_{t_i}) / sqrt(ᾱ_{t_i})`), with the likelihood of the
//! noisy iterate approximated as Gaussian around `A x̃`:
//!
//! ```text
//! score(x̃, σ_i) = −ε_θ(sqrt(ᾱ) x̃, t_i) / σ_i
//! x̃ ← x̃ + α_i [score + Aᵀ(y − A x̃) / (σ_y² + γ_i²)] + sqrt(2 α_i) z,   α_i = r σ_i²,  γ_i = σ_i
//! ```
//!
//! The levels are geometric in σ from the largest to the smallest of the schedule (as NCSN's are),
//! each mapped to the training timestep of nearest σ. `K` steps per level; the result is Tweedie's estimate at the last level, clamped to [-1, 1].
//! It needs only `A` and `Aᵀ`, so it runs on every operator. The step ratio `r` plays the role of
//! the paper's ε / σ_L²; the published runs use thousands of levels, which a small prior does not
//! need: defaults 100 levels × 3 steps with r = 0.1, chosen on the bundled prior (see
//! tests/solvers.rs). The measurement term's pull scales with ‖A‖², so operators with small
//! singular values (×4 average pooling: 1/16) see the measurement weakly.
//!
//! `--set k=…,r=…`; `measure=0` drops the likelihood term (unconditional annealed Langevin).

use super::{Params, Problem, Solver, check_problem, iterate, ve_sigma};
use crate::diffusion::Schedule;
use crate::diffusion::randn;
use crate::error::{Error, Result};
use crate::ops;
use crate::tensor::Tensor;

/// Annealed Langevin dynamics with the measurement's likelihood gradient.
pub struct ScoreAld {
    /// Number of noise levels (respaced timesteps).
    pub levels: usize,
    /// Langevin steps per level.
    pub k: usize,
    /// Step ratio r (α_i = r σ_i²).
    pub r: f64,
    /// The smallest noise level σ_L (variance-exploding units).
    pub sigma_min: f64,
    /// Whether the measurement is used at all.
    pub measure: bool,
}

impl ScoreAld {
    /// Score-ALD with `levels` (default 100) and `--set` parameters.
    pub fn new(levels: Option<usize>, sets: &[(String, String)]) -> Result<Self> {
        let mut p = Params::new("score-ald", sets);
        let d = ScoreAld {
            levels: levels.unwrap_or(100),
            k: p.usize("k", 3)?,
            r: p.f64("r", 0.1)?,
            sigma_min: p.f64("sigma_min", 0.01)?,
            measure: p.flag("measure", true)?,
        };
        p.finish()?;
        if d.k == 0 || !(d.r > 0.0 && d.r < 1.0) {
            return Err(Error::Input(format!(
                "score-ald k={} r={}: k must be at least 1 and r in (0, 1)",
                d.k, d.r
            )));
        }
        Ok(d)
    }
}

impl Solver for ScoreAld {
    fn name(&self) -> &'static str {
        "score-ald"
    }

    fn settings(&self) -> Vec<(String, String)> {
        vec![
            ("levels".into(), self.levels.to_string()),
            ("k".into(), self.k.to_string()),
            ("r".into(), self.r.to_string()),
            ("sigma_min".into(), self.sigma_min.to_string()),
            ("measure".into(), (self.measure as u8).to_string()),
        ]
    }

    fn solve(&self, p: &Problem, seed: u64, progress: &mut dyn FnMut(usize, usize)) -> Result<Tensor> {
        let shape = check_problem(p)?;
        let gpu = p.model.gpu();
        let ts = levels(p.schedule, self.levels, self.sigma_min)?;
        let tt: Vec<Tensor> = ts
            .iter()
            .map(|&t| Tensor::full(gpu, &[shape[0]], t as f32))
            .collect::<Result<_>>()?;
        let sig0 = ve_sigma(p.schedule, Some(ts[0]));
        let x = ops::scale(&randn(gpu, &shape, seed, 0, 1)?, sig0 as f32)?;
        let eps_at = |x: &Tensor, i: usize| -> Result<Tensor> {
            let a = p.schedule.alpha_bar(Some(ts[i])).sqrt();
            p.model.forward(&ops::scale(x, a as f32)?, &tt[i])
        };
        let x = iterate(p, "score-ald", x, &ts, progress, |mut x, i, t, _| {
            let sig = ve_sigma(p.schedule, Some(t));
            let alpha = self.r * sig * sig;
            for k in 0..self.k {
                let eps = eps_at(&x, i)?;
                // x + α·score = x − (α/σ) ε
                let mut nx = ops::axpby(1.0, &x, -(alpha / sig) as f32, &eps)?;
                if self.measure {
                    let r = ops::axpby(1.0, p.y, -1.0, &p.op.forward(&x)?)?;
                    let w = alpha / (p.sigma_y * p.sigma_y + sig * sig);
                    nx = ops::axpby(1.0, &nx, w as f32, &p.op.adjoint(&r)?)?;
                }
                let z = randn(gpu, &shape, seed, (i * self.k + k) as u32 + 1, 1)?;
                x = ops::axpby(1.0, &nx, (2.0 * alpha).sqrt() as f32, &z)?;
            }
            Ok(x)
        })?;
        // Tweedie's estimate at the last level
        let last = ts.len() - 1;
        let sig = ve_sigma(p.schedule, Some(ts[last]));
        let eps = eps_at(&x, last)?;
        ops::clamp(&ops::axpby(1.0, &x, -sig as f32, &eps)?, -1.0, 1.0)
    }
}

/// `n` noise levels geometric in σ between the schedule's largest and `sigma_min` (at least its
/// smallest), as the training
/// timesteps of nearest σ (decreasing, without repeats).
fn levels(sched: &Schedule, n: usize, sigma_min: f64) -> Result<Vec<usize>> {
    let len = sched.len();
    if n == 0 || n > len {
        return Err(Error::Input(format!(
            "score-ald: {n} levels for a schedule of {len} timesteps (use 1 to {len})"
        )));
    }
    let sig: Vec<f64> = (0..len).map(|t| ve_sigma(sched, Some(t))).collect();
    let (hi, lo) = (sig[len - 1].ln(), sig[0].max(sigma_min).min(sig[len - 1]).ln());
    let mut ts: Vec<usize> = Vec::with_capacity(n);
    for i in 0..n {
        let target = if n == 1 {
            hi
        } else {
            hi + (lo - hi) * i as f64 / (n - 1) as f64
        };
        let t = (0..len)
            .min_by(|&a, &b| {
                (sig[a].ln() - target)
                    .abs()
                    .total_cmp(&(sig[b].ln() - target).abs())
            })
            .unwrap_or(0);
        if ts.last() != Some(&t) {
            ts.push(t);
        }
    }
    Ok(ts)
}
