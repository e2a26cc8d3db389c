//! DPnP: diffusion plug-and-play, alternating a proximal consistency sampler and a denoising
//! diffusion sampler under an annealed coupling η.
//!
//! Xu & Chi, "Provably Robust Score-Based Diffusion Posterior Sampling for Plug-and-Play Image
//! Reconstruction", NeurIPS 2024 (arXiv 2403.17042); official code x1xu/diffusion-plug-and-play
//! (`guided_diffusion/gaussian_diffusion.py`: `DDIMPnP` / `DDPMPnP`, `guided_diffusion/
//! condition_methods.py`: `MALASampling`, `configs/*_pnp.yaml`). Each outer iteration k:
//!
//! ```text
//! proximal consistency   x_{k+½} ~ exp(−‖y − A x‖² / 2σ_y² − ‖x − x_k‖² / 2η_k²)
//! denoising diffusion    x_{k+1} ~ p(x | x_{k+½}) ∝ p(x) exp(−‖x_{k+½} − x‖² / 2η_k²)
//! η_k                    η_max for the first `hold` fraction of the iterations, then
//!                        geometrically from η_max down to η_min
//! ```
//!
//! The same alternation as PnP-DM ([`super::PnpDm`], written at the same time), and the two share
//! their pieces: where the operator has an SVD the proximal consistency sampler draws exactly
//! through it ([`super::pnp_dm::ExactLikelihood`]); otherwise (any forward model with a VJP: motion
//! blur, phase retrieval, HDR) it runs the official unadjusted Langevin sampler, the prox term
//! integrated exactly and the likelihood term by Euler, from x = x_k:
//!
//! ```text
//! h = lr · min(σ_y², η²),   a = 1 − e^{−h/η²}
//! x ← x + a (x_k − x) − η² a ∇‖y − A x‖² / 2σ_y² + η sqrt(1 − e^{−2h/η²}) w
//! ```
//!
//! (`langevin` steps; the official code runs 1000 and divides h by `50 + ‖y − A x‖`, a
//! normalisation tuned to its 256² images that is left out here, and takes σ_y of the likelihood
//! from the config's `multiplier`, 0.15 unless set, where here it is the problem's σ_y; its
//! Metropolis correction is commented out there and absent here). The denoising diffusion sampler is the paper's DDS-DDPM:
//! the reverse diffusion from the timestep whose σ_t = sqrt((1−ᾱ_t)/ᾱ_t) is nearest η_k
//! ([`super::pnp_dm::PriorStep`], `inner` ancestral DDPM steps). The paper's DDS-DDIM (a
//! deterministic sampler on a schedule rebuilt for each η, the official default `ddim-pnp`) is not
//! implemented: the DDPM form is the one its theory covers too, and costs `inner` network calls.
//!
//! Defaults. Official (`configs/diffusion_config_pnp.yaml`, FFHQ/ImageNet 256²): η_max = 0.4,
//! η_min = 0.16, 4 iterations at η_max then 12 geometric (16 in all), MALA step `scale` 0.6 (SR),
//! 1000 Langevin steps, and a warm start from a 500-step DPS/LGD run. Here: 16 iterations, the
//! first quarter at η_max, `inner` = 3 network calls per denoising step; η_max = 3 and η_min =
//! 0.1 (tuned on test images 0–3 for the 32² bundled prior, two seeds: from η_max = 0.4 it moves
//! little from the start, +1.3 dB over the trivial estimate on box and ×4 SR against +5.6 / +5.2 at
//! η_max = 3; η_max = 1 and 2, half the iterations held, and 5 network calls per denoising step
//! were each worse on box or SR); the warm start is the trivial estimate (`A⁺y` where it exists, else the observation
//! for blur and its enlargement for SR; the prior's mean image for phase retrieval), which costs
//! no network call, in place of the official DPS run. The last denoising step's draw is the
//! result. Held-out numbers (box inpainting, ×4 SR, Gaussian deblurring; Langevin on motion blur
//! and phase retrieval) are in README "### DPnP".
//!
//! `--set eta_max=…,eta_min=…,hold=…,inner=…,exact=0|1,langevin=…,lr=…,warm=0|1`: `exact=0` runs
//! Langevin even where there is an SVD; `warm=0` starts from noise. `measure=0` replaces the
//! proximal consistency step by its measurement-free form `x_k + η_k n` and starts from the prior's
//! mean image (no y anywhere). σ_y is floored at 0.001.

use super::pnp_dm::{ExactLikelihood, PriorStep};
use super::{Problem, Run, Solver, Stepped, check_problem, prior_mean, trivial_estimate};
use crate::autograd;
use crate::diffusion::randn;
use crate::error::{Error, Result};
use crate::ops;
use crate::solver_params;
use crate::tensor::Tensor;

solver_params! {
    /// DPnP: proximal consistency sampler and denoising diffusion sampler, η annealed.
    pub struct Dpnp("dpnp") {
        /// Outer iterations (each one proximal and one denoising step).
        steps: usize = steps(16);
        /// η of the first iterations.
        eta_max: f64 = set(3.0, 1e-3..=1e3);
        /// η of the last iteration.
        eta_min: f64 = set(0.1, 1e-3..=1e3);
        /// Fraction of the iterations held at η_max before the geometric decay.
        hold: f64 = set(0.25, 0.0..=1.0);
        /// Ancestral DDPM steps (network calls) of each denoising step.
        inner: usize = set(3, 1..);
        /// Whether the proximal step is drawn exactly through the SVD where the operator has one.
        exact: bool = set(true);
        /// Langevin steps of the proximal step where it is not drawn exactly.
        langevin: usize = set(100, 1..);
        /// Langevin step size, in units of min(σ_y², η²).
        lr: f64 = set(0.5, 1e-4..=2.0);
        /// Whether to start from the trivial estimate (else from noise).
        warm: bool = set(true);
        /// Whether the measurement is used at all.
        measure: bool = measure();
    }
}

impl Dpnp {
    /// η_k for `n` iterations: `hold · n` (rounded, leaving at least one) at η_max, then geometric
    /// down to η_min, which the last iteration always has.
    fn etas(&self, n: usize) -> Vec<f64> {
        let held = ((self.hold * n as f64).round() as usize).min(n.saturating_sub(1));
        let rest = n - held;
        let decay = (0..rest).map(|j| {
            // a lone decaying iteration is the last one: at η_min
            let f = if rest == 1 {
                1.0
            } else {
                j as f64 / (rest - 1) as f64
            };
            self.eta_max * (self.eta_min / self.eta_max).powf(f)
        });
        std::iter::repeat_n(self.eta_max, held).chain(decay).collect()
    }
}

/// The proximal consistency sampler a run uses.
enum Prox<'a> {
    /// Exactly through the SVD, with each iteration's per-component standard deviation.
    Exact(Box<ExactLikelihood<'a>>, Vec<Tensor>),
    /// Unadjusted Langevin with A's VJP.
    Langevin,
    /// No measurement: `x_k + η n`.
    Off,
}

impl Solver for Dpnp {
    solver_params!(@solver);

    fn start<'a>(&self, p: &Problem<'a>, seed: u64) -> Result<Run<'a>> {
        let (p, me) = (*p, *self);
        let shape = check_problem(&p)?;
        if self.eta_min > self.eta_max {
            return Err(Error::Input(format!(
                "dpnp anneals η from eta_max down to eta_min, and eta_min = {} is above eta_max = \
                 {}: set eta_min ≤ eta_max",
                self.eta_min, self.eta_max
            )));
        }
        let gpu = p.model.gpu();
        let n = self.steps;
        let etas = self.etas(n);
        let has_svd = match p.op.linear() {
            Some(lin) => lin.svd()?.is_some(),
            None => false,
        };
        let prox = if !self.measure {
            Prox::Off
        } else if self.exact && has_svd {
            let like = ExactLikelihood::new(&p, Self::NAME)?;
            let stds = etas.iter().map(|&e| like.std(&p, e)).collect::<Result<_>>()?;
            Prox::Exact(Box::new(like), stds)
        } else {
            Prox::Langevin
        };
        let priors: Vec<PriorStep> = etas
            .iter()
            .map(|&e| PriorStep::new(&p, e, self.inner))
            .collect::<Result<_>>()?;
        let x = match (self.warm, self.measure) {
            (false, _) => randn(gpu, &shape, seed, 0, 1)?,
            (true, true) => trivial_estimate(p.model, p.op, p.y)?,
            (true, false) => {
                let mean = prior_mean(p.model, p.op.x_shape())?;
                ops::particles::gather_rows(&mean, &Tensor::full(gpu, &[shape[0]], 0.0)?)?
            }
        };
        let sy = p.sigma_y.max(1e-3);
        let b = shape[0];
        let ones = Tensor::full(gpu, &[b], 1.0)?;
        let step = move |x: &Tensor, k: usize| {
            let eta = etas[k];
            let stream = (k as u32) * (me.inner as u32 + 1) + 1;
            let z = match &prox {
                Prox::Exact(like, stds) => {
                    let n0 = randn(gpu, &shape, seed, stream, 2)?;
                    like.sample(x, eta, &stds[k], &n0)?
                }
                Prox::Off => {
                    let n0 = randn(gpu, &shape, seed, stream, 2)?;
                    ops::axpby(1.0, x, eta as f32, &n0)?
                }
                Prox::Langevin => {
                    let h = me.lr * (sy * sy).min(eta * eta);
                    let a = 1.0 - (-h / (eta * eta)).exp();
                    let g = (eta * eta * a / (2.0 * sy * sy)) as f32;
                    let c = (eta * (1.0 - (-2.0 * h / (eta * eta)).exp()).sqrt()) as f32;
                    let mut z = x.clone();
                    for i in 0..me.langevin {
                        let zt = z.tracked();
                        let r = ops::axpby(1.0, &p.op.forward(&zt)?, -1.0, p.y)?;
                        let ss = ops::sumsq_rows(&r, b)?;
                        let grad = autograd::backward(&ss, &ones, &[&zt])?.remove(0);
                        let w = randn(gpu, &shape, seed, (k * me.langevin + i) as u32, 4)?;
                        let next = ops::axpby(1.0 - a as f32, &z, a as f32, x)?;
                        let next = ops::axpby(1.0, &next, -g, &grad)?;
                        z = ops::axpby(1.0, &next, c, &w)?;
                    }
                    z
                }
            };
            let x = priors[k].sample(&p, &z, seed, stream)?;
            Ok(Stepped {
                x: x.clone(),
                x0: Some(x),
            })
        };
        Ok(Run::new(Self::NAME, gpu, x, n, step, None))
    }
}

#[cfg(test)]
mod tests {
    use super::Dpnp;

    fn solver(hold: f64) -> Dpnp {
        Dpnp {
            steps: 16,
            eta_max: 0.4,
            eta_min: 0.16,
            hold,
            inner: 3,
            exact: true,
            langevin: 100,
            lr: 0.5,
            warm: true,
            measure: true,
        }
    }

    /// The official schedule: 4 iterations at η_max, then 12 from η_max down to η_min.
    #[test]
    fn etas_hold_then_decay_geometrically() {
        let e = solver(0.25).etas(16);
        assert_eq!(e.len(), 16);
        assert!(e[..5].iter().all(|&v| (v - 0.4).abs() < 1e-12));
        assert!((e[15] - 0.16).abs() < 1e-12);
        assert!(e.windows(2).all(|w| w[1] <= w[0]));
        // one iteration is at η_min; all held still leaves the last at η_min
        assert_eq!(solver(0.25).etas(1), vec![0.16]);
        assert_eq!(solver(1.0).etas(3), vec![0.4, 0.4, 0.16]);
    }
}
