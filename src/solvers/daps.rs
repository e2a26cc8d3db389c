//! Decoupled Annealing Posterior Sampling (DAPS).
//!
//! Zhang, Chu, Berner, Meng, Anandkumar, Song, "Improving Diffusion Inverse Problem Solving with
//! Decoupled Noise Annealing", CVPR 2025 (arXiv 2407.01521); official code
//! zhangbingliang2019/DAPS (`sampler.py`, `cores/scheduler.py`, `cores/mcmc.py`, `configs/`). In the
//! variance-exploding view `x_σ = x0 + σ n` (our VP model as EDM's `VPPrecond`: D(x, σ) = x − σ
//! ε_θ(x / sqrt(1+σ²), t(σ))), each annealing level σ_i, from σ_max = 100 down to 0.1 on EDM's ρ = 7
//! grid:
//!
//! ```text
//! x̂0(x_i)  = Euler steps of the probability-flow ODE dx/dσ = (x − D(x, σ)) / σ from σ_i to 0.01
//!            (`ode` steps on a ρ = 7 grid; no final denoise, no clamp)
//! x0       = x̂0, then `langevin` steps of
//!            x0 ← x0 + η_i (−∇‖A x0 − y‖² / τ² + (x̂0 − x0) / σ_i²) + sqrt(2 η_i) n
//! x_{i+1}  = x0 + σ_{i+1} n                      (σ after the last level is 0: the result is x0)
//! ```
//!
//! with η_i decaying linearly from `lr` towards `lr · 0.01` (η_i = lr (1 + i/(N+1) (0.01 − 1))). The
//! data gradient goes through the tape (A's VJP only, no UNet VJP), so any operator the tape can
//! differentiate works. As in the official code the data term is ∇‖A x − y‖² / τ², not half of it,
//! with τ = 0.01 for every pixel task.
//!
//! Official defaults (`configs/sampler/edm_daps.yaml`, `configs/task/*.yaml`, pixel group): 200
//! levels × 5 ODE steps (DAPS-1K: 1,000 network calls), 100 Langevin steps, τ = 0.01, lr 1e-4 for
//! super-resolution, Gaussian blur and random inpainting, 5e-5 for box inpainting and motion blur.
//! `preset=light` is 25 levels × 2 ODE steps (50 network calls) for machines without a GPU; `--steps`
//! (levels) and `ode` override either preset.
//!
//! One departure: our models take integer timesteps, so every σ of both grids is moved to the nearest
//! σ_t = sqrt((1 − ᾱ_t)/ᾱ_t) of the schedule (the official wrapper passes EDM's fractional VP time
//! instead); the grids are deduplicated after rounding. The official Langevin loop returns zeros
//! when a NaN appears; here the run's NaN check stops with an error instead.
//!
//! `--set preset=1k|light,ode=…,langevin=…,lr=…,tau=…`; `measure=0` drops the data term.

use super::params::{Choice, show};
use super::{Problem, Run, Solver, Stepped, check_problem};
use crate::autograd;
use crate::diffusion::{Schedule, Timestep, randn};
use crate::error::Result;
use crate::ops;
use crate::solver_params;
use crate::tensor::Tensor;

/// σ_max and σ_min of the annealing grid, σ at the end of each inner ODE, and EDM's ρ.
const SIGMA_MAX: f64 = 100.0;
const SIGMA_MIN: f64 = 0.1;
const SIGMA_ODE_END: f64 = 0.01;
const RHO: f64 = 7.0;
/// Where the Langevin step size ends, relative to `lr`.
const LR_MIN_RATIO: f64 = 0.01;

solver_params! {
    /// DAPS with Langevin dynamics in x0 space.
    pub struct Daps("daps", kind) {
        /// The preset the defaults of `steps` and `ode` come from (printed as those).
        preset: Preset = set(Preset::OneK), show = show::hidden;
        /// Annealing levels.
        steps: usize = steps(preset.levels());
        /// Euler steps of the inner probability-flow ODE.
        ode: usize = set(preset.ode(), 1..);
        /// Langevin steps per level.
        langevin: usize = set(100);
        /// Langevin step size at the first level.
        lr: f64 = set(Daps::default_lr(kind), 0.0..=1.0), show = show::exp;
        /// τ of the data term.
        tau: f64 = set(0.01, 1e-6..=1e3);
        /// Whether the measurement is used at all.
        measure: bool = measure();
    }
}

/// DAPS's presets of annealing levels and ODE steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// The paper's DAPS-1K: 200 levels × 5 ODE steps.
    OneK,
    /// 25 levels × 2 ODE steps, for machines without a GPU.
    Light,
}

impl Preset {
    /// Annealing levels.
    pub fn levels(self) -> usize {
        match self {
            Preset::OneK => 200,
            Preset::Light => 25,
        }
    }

    /// ODE steps per level.
    pub fn ode(self) -> usize {
        match self {
            Preset::OneK => 5,
            Preset::Light => 2,
        }
    }
}

impl Choice for Preset {
    const WORDS: &'static [(&'static str, Self)] = &[("1k", Preset::OneK), ("light", Preset::Light)];
    const EXPECTS: &'static str =
        "the preset 1k (200 levels × 5 ODE steps, the paper's DAPS-1K) or light (25 × 2)";
}

impl Daps {
    /// The official Langevin step size for a problem of `kind` (box inpainting and motion
    /// deblurring take half the others').
    pub fn default_lr(kind: crate::operators::Kind) -> f64 {
        use crate::operators::Kind;
        match kind {
            Kind::Inpainting { region: true } | Kind::Deblurring { motion: true } => 5e-5,
            _ => 1e-4,
        }
    }
}

/// EDM's ρ-grid of `n + 1` values from `hi` to `lo`.
fn edm_grid(hi: f64, lo: f64, n: usize) -> Vec<f64> {
    let (a, b) = (hi.powf(1.0 / RHO), lo.powf(1.0 / RHO));
    (0..=n)
        .map(|i| (a + i as f64 / n.max(1) as f64 * (b - a)).powf(RHO))
        .collect()
}

/// The timestep whose σ_t = sqrt((1 − ᾱ_t)/ᾱ_t) is nearest to `sigma` (in log σ).
pub(super) fn nearest_t(sched: &Schedule, sigma: f64) -> usize {
    let ls = sigma.ln();
    (0..sched.len())
        .min_by(|&a, &b| {
            let d = |t: usize| (sched.ve_sigma(Some(t)).ln() - ls).abs();
            d(a).total_cmp(&d(b))
        })
        .unwrap_or(0)
}

/// A σ level snapped to the schedule: its timestep (on the device) and its σ_t.
struct Level {
    t: Timestep,
    sigma: f64,
}

/// Snaps `sigmas` to the schedule's timesteps, dropping repeats.
fn levels(p: &Problem, sigmas: &[f64]) -> Result<Vec<Level>> {
    let sched = p.schedule();
    let mut ts: Vec<usize> = sigmas.iter().map(|&s| nearest_t(sched, s)).collect();
    ts.dedup();
    ts.into_iter()
        .map(|t| {
            Ok(Level {
                t: Timestep::new(p.model.gpu(), t)?,
                sigma: sched.ve_sigma(Some(t)),
            })
        })
        .collect()
}

/// `D(x, σ) = x − σ ε_θ(x / sqrt(1 + σ²), t)` at a snapped level.
fn denoise(p: &Problem, x: &Tensor, l: &Level) -> Result<Tensor> {
    let a = 1.0 / (1.0 + l.sigma * l.sigma).sqrt();
    let eps = p.model.eps(&ops::scale(x, a as f32)?, &l.t)?;
    ops::axpby(1.0, x, -l.sigma as f32, &eps)
}

impl Solver for Daps {
    solver_params!(@solver);

    fn start<'a>(&self, p: &Problem<'a>, seed: u64) -> Result<Run<'a>> {
        let (p, me) = (*p, *self);
        let shape = check_problem(&p)?;
        let gpu = p.model.gpu();
        let sched = p.schedule();
        // the annealing levels: EDM's grid without its last value, then 0
        let mut anneal = edm_grid(SIGMA_MAX, SIGMA_MIN, self.steps);
        anneal.pop();
        let anneal: Vec<f64> = anneal
            .iter()
            .map(|&s| sched.ve_sigma(Some(nearest_t(sched, s))))
            .collect();
        // each level's inner ODE grid, snapped and made once
        let odes: Vec<Vec<Level>> = anneal
            .iter()
            .map(|&s| levels(&p, &edm_grid(s, SIGMA_ODE_END, self.ode)))
            .collect::<Result<_>>()?;
        let x = ops::scale(&randn(gpu, &shape, seed, 0, 1)?, anneal[0] as f32)?;
        let n = anneal.len();
        let b = shape[0];
        let ones = Tensor::full(gpu, &[b], 1.0)?;
        let step = move |x: &Tensor, i: usize| {
            let sigma = anneal[i];
            // x̂0 by Euler steps of the probability-flow ODE down to σ = 0.01
            let ode = &odes[i];
            let mut xh = x.clone();
            for w in ode.windows(2) {
                let d = denoise(&p, &xh, &w[0])?;
                let c = ((w[1].sigma - w[0].sigma) / w[0].sigma) as f32;
                // x + (σ' − σ)(x − D)/σ
                xh = ops::axpby(1.0 + c, &xh, -c, &d)?;
            }
            // Langevin in x0 space around x̂0 under the measurement
            let eta = me.lr * (1.0 + i as f64 / (n + 1) as f64 * (LR_MIN_RATIO - 1.0));
            let prior = (eta / (sigma * sigma)) as f32;
            let mut x0 = xh.clone();
            for k in 0..me.langevin {
                let mut next = ops::axpby(1.0 - prior, &x0, prior, &xh)?;
                if me.measure {
                    let xt = x0.tracked();
                    let r = ops::axpby(1.0, &p.op.forward(&xt)?, -1.0, p.y)?;
                    let ss = ops::sumsq_rows(&r, b)?;
                    let g = autograd::backward(&ss, &ones, &[&xt])?.remove(0);
                    next = ops::axpby(1.0, &next, -(eta / (me.tau * me.tau)) as f32, &g)?;
                }
                let z = randn(gpu, &shape, seed, (i * (me.langevin + 1) + k + 1) as u32, 2)?;
                x0 = ops::axpby(1.0, &next, (2.0 * eta).sqrt() as f32, &z)?;
            }
            let x = match anneal.get(i + 1) {
                Some(&s) => {
                    let z = randn(gpu, &shape, seed, (i + 1) as u32, 3)?;
                    ops::axpby(1.0, &x0, s as f32, &z)?
                }
                None => x0.clone(),
            };
            Ok(Stepped { x, x0: Some(x0) })
        };
        Ok(Run::new(Self::NAME, gpu, x, n, step, None))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn edm_grid_runs_from_hi_to_lo() {
        let g = super::edm_grid(100.0, 0.1, 200);
        assert_eq!(g.len(), 201);
        assert!((g[0] - 100.0).abs() < 1e-9 && (g[200] - 0.1).abs() < 1e-12);
        assert!(g.windows(2).all(|w| w[1] < w[0]));
    }
}
