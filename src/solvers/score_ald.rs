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
//! score(x̃, σ_i) = (x̂0 − x̃) / σ_i²,   x̂0 = x̃ − σ_i ε_θ(sqrt(ᾱ) x̃, t_i)   (= −ε_θ / σ_i)
//! x̃ ← x̃ + α_i [score + Aᵀ(y − A x̃) / (σ_y² + γ_i²)] + sqrt(2 α_i) z,   α_i = r σ_i²,  γ_i = σ_i
//! ```
//!
//! Where the model's schedule clamps Tweedie's estimate (`clip_sample`), the score is taken from the
//! clamped x̂0, as the other solvers' steps are.
//!
//! The levels are geometric in σ from the schedule's largest down to `sigma_min` (as NCSN's are),
//! each mapped to the training timestep of nearest σ. `K` steps per level; the result is Tweedie's
//! estimate at the last level, clamped to [-1, 1]. It needs only `A` and `Aᵀ`, so it runs on every
//! operator. The step ratio `r` plays the role of the official code's `step_lr / σ_L²` (its
//! configs: `step_lr` 5e-5, 3–4 steps on each of the NCSNv2 model's thousands of levels). Chains of
//! tens of levels keep noise that the score cannot remove, so our defaults, chosen in short runs on
//! the bundled prior, end at σ_L = 0.3 (Tweedie's estimate there removes the residual noise, at the
//! cost of blur): 100 levels × 2 steps, r = 0.5. With the bundled, CPU-trained prior Score-ALD does
//! not beat the trivial estimate except where that is very weak (see tests/solvers.rs and README).
//! The measurement term's pull scales with ‖A‖², so operators with small singular values (×4
//! average pooling: 1/16) see the measurement weakly.
//!
//! `exact=1` scales the noise by `sqrt(1 − r/2)`, SNIPS's exact Gaussian step (the unadjusted step
//! leaves the unconstrained directions at `2/(2 − r)` times each level's variance; see
//! [`super::Snips`]). Off by default, as the official code; at its paper's MRI settings (k = 4,
//! r = 0.9, σ_L = 0.01, 100 levels) it lifted `mri:accel=4` on test images 0–3 (one seed) from
//! 26.22 to 27.82 dB (zero-filled 17.26), and held out (images 4–7, 4 seeds) from 20.18 to 23.14
//! (zero-filled 16.93; every seed ≥ +6.0 dB).
//!
//! `--set k=…,r=…,sigma_min=…,exact=…`; `measure=0` drops the likelihood term (unconditional annealed Langevin).

use super::{Problem, Run, Solver, Stepped, check_problem, require_linear, timesteps_of};
use crate::diffusion::Schedule;
use crate::diffusion::{randn, tweedie_ve};
use crate::error::{Error, Result};
use crate::ops;
use crate::solver_params;
use crate::tensor::Tensor;

solver_params! {
    /// Annealed Langevin dynamics with the measurement's likelihood gradient.
    pub struct ScoreAld("score-ald") {
        /// Number of noise levels (respaced timesteps).
        levels: usize = steps(100);
        /// Langevin steps per level.
        k: usize = set(2, 1..);
        /// Step ratio r (α_i = r σ_i²).
        r: f64 = set(0.5, 1e-6..=100.0);
        /// The smallest noise level σ_L (variance-exploding units).
        sigma_min: f64 = set(0.3, 1e-4..=100.0);
        /// Whether the noise is scaled by `sqrt(1 − r/2)`, SNIPS's exact Gaussian step (see
        /// [`super::Snips`]); off by default (the official update).
        exact: bool = set(false);
        /// Whether the measurement is used at all.
        measure: bool = measure();
    }
    check = ScoreAld::check_ratio;
}

impl ScoreAld {
    /// The step ratio must be below 1 (the range admits more, for the error to say why).
    fn check_ratio(&mut self) -> Result<()> {
        if self.k == 0 || !(self.r > 0.0 && self.r < 1.0) {
            return Err(Error::Input(format!(
                "score-ald k={} r={}: k must be at least 1 and r in (0, 1)",
                self.k, self.r
            )));
        }
        Ok(())
    }
}

impl Solver for ScoreAld {
    solver_params!(@solver);

    fn start<'a>(&self, p: &Problem<'a>, seed: u64) -> Result<Run<'a>> {
        let (p, me) = (*p, *self);
        let shape = check_problem(&p)?;
        let lin = require_linear(&p, Self::NAME)?;
        let gpu = p.model.gpu();
        let ts = levels(p.schedule(), self.levels, self.sigma_min, Self::NAME)?;
        let tt = timesteps_of(&p, &ts)?;
        let sig0 = p.schedule().ve_sigma(Some(tt[0].t));
        let x = ops::scale(&randn(gpu, &shape, seed, 0, 1)?, sig0 as f32)?;
        let n = tt.len();
        // Tweedie's estimate x̂0 = x̃ − σ ε at level i, clamped when the schedule says so; the score
        // is (x̂0 − x̃) / σ², so with clip_sample the chain follows the clamped estimate
        let denoise = std::sync::Arc::new(move |x: &Tensor, i: usize| -> Result<Tensor> {
            let sched = p.schedule();
            let ab = sched.alpha_bar(Some(tt[i].t));
            let eps = p.model.eps(&ops::scale(x, ab.sqrt() as f32)?, &tt[i])?;
            tweedie_ve(sched, x, &eps, tt[i].t, sched.clip_sample)
        });
        let (d1, levels) = (denoise.clone(), tt_sigmas(&p, &ts));
        let step = move |x: &Tensor, i: usize| {
            let sig = levels[i];
            let alpha = me.r * sig * sig;
            let (mut x, mut x0) = (x.clone(), None);
            for k in 0..me.k {
                // x + α·score = x + r (x̂0 − x)
                let est = d1(&x, i)?;
                let mut nx = ops::axpby((1.0 - me.r) as f32, &x, me.r as f32, &est)?;
                if me.measure {
                    let r = ops::axpby(1.0, p.y, -1.0, &p.op.forward(&x)?)?;
                    let w = alpha / (p.sigma_y * p.sigma_y + sig * sig);
                    nx = ops::axpby(1.0, &nx, w as f32, &lin.adjoint(&r)?)?;
                }
                let z = randn(p.model.gpu(), &shape, seed, (i * me.k + k) as u32 + 1, 1)?;
                let spread = if me.exact { 1.0 - me.r / 2.0 } else { 1.0 };
                x = ops::axpby(1.0, &nx, (2.0 * alpha * spread).sqrt() as f32, &z)?;
                x0 = Some(est);
            }
            Ok(Stepped { x, x0 })
        };
        // the result: Tweedie's estimate at the last level
        let finish = move |x: Tensor| ops::clamp(&denoise(&x, n - 1)?, -1.0, 1.0);
        Ok(Run::new(Self::NAME, gpu, x, n, step, Some(Box::new(finish))))
    }
}

/// σ (variance-exploding units) of each level.
fn tt_sigmas(p: &Problem, ts: &[usize]) -> Vec<f64> {
    ts.iter().map(|&t| p.schedule().ve_sigma(Some(t))).collect()
}

/// `n` noise levels geometric in σ between the schedule's largest and `sigma_min` (at least its
/// smallest), as the training
/// timesteps of nearest σ (decreasing, without repeats). `solver` names the caller in the error
/// (SNIPS anneals the same way).
pub(super) fn levels(sched: &Schedule, n: usize, sigma_min: f64, solver: &str) -> Result<Vec<usize>> {
    let len = sched.len();
    if n == 0 || n > len {
        return Err(Error::Input(format!(
            "{solver}: {n} levels for a schedule of {len} timesteps (use 1 to {len})"
        )));
    }
    let sig: Vec<f64> = (0..len).map(|t| sched.ve_sigma(Some(t))).collect();
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
