//! PnP-DM: split Gibbs sampling with a diffusion model as a plug-and-play prior.
//!
//! Wu, Sun, Chen, Zhang, Yue, Bouman, "Principled Probabilistic Imaging using Diffusion Models as
//! Plug-and-Play Priors", NeurIPS 2024 (arXiv 2405.18782); official code zihuiwu/PnP-DM-public
//! (the same method as `algo/pnpdm.py` of InverseBench). The posterior is augmented with a
//! coupling variable, `π(x, z) ∝ p(x) exp(−‖y − A z‖² / 2σ_y² − ‖z − x‖² / 2ρ²)`, and sampled by
//! alternating its two conditionals while ρ is annealed from large to small:
//!
//! ```text
//! likelihood step  z ~ p(z | x, y) ∝ exp(−‖y − A z‖² / 2σ_y² − ‖z − x‖² / 2ρ_k²)
//! prior step       x ~ p(x | z)   ∝ p(x) exp(−‖z − x‖² / 2ρ_k²)   (denoise z at noise level ρ_k)
//! ρ_k              from ρ_0 down to ρ_min, geometrically
//! ```
//!
//! The likelihood step is sampled exactly through the operator's SVD, as the paper does for linear
//! operators: the conditional is Gaussian with mean `x + V (s / (s² + σ_y²/ρ²)) ⊙ (Uᵀy − s ⊙ Vᵀx)`
//! (DiffPIR's proximal step, [`super::DataProximal`]) and covariance `V diag(σ_y² ρ² / (s² ρ² +
//! σ_y²)) Vᵀ`. (The official code and InverseBench run Langevin on it instead, 100 steps at lr
//! 1e-4 for any operator; here operators without an SVD are refused.) σ_y is floored at 0.001.
//!
//! The prior step is the reverse diffusion started from noise level ρ_k: `z` is exactly a sample of
//! `x0 + ρ_k n`, i.e. `x_t / sqrt(ᾱ_t)` at the timestep `t` whose `σ_t = sqrt((1−ᾱ_t)/ᾱ_t)` is
//! nearest ρ_k, so `x_t = sqrt(ᾱ_t) z` runs `inner` ancestral DDPM steps (the posterior
//! `q(x_s | x_t, x̂0)`, evenly spaced from `t` to 0). The official code runs EDM's stochastic
//! reverse SDE from σ = ρ_k with 100 steps; the DDPM posterior is the same reverse process on our
//! integer-timestep VP model, with far fewer steps for the 32×32 bundled prior on CPUs.
//!
//! Defaults: official (natural images) ρ_0 = 10, ρ_min = 0.1, ρ_k = max(ρ_min, ρ_0 0.9^k) over
//! 200 outer iterations (so ρ reaches ρ_min at k ≈ 44 and stays there). Here `steps` outer
//! iterations (default 20) on the geometric grid from ρ_0 to ρ_min, so the run ends at ρ_min
//! whatever the number of steps, and `inner` = 3 network calls per prior step (the last prior step
//! is the result). `--set rho0=…,rho_min=…,inner=…`; `measure=0` replaces the likelihood step by
//! `z = x + ρ_k n` (the chain then samples the prior alone).

use super::daps::nearest_t;
use super::{DataProximal, Problem, Run, Solver, Stepped, check_problem, require_svd};
use crate::diffusion::{Timestep, randn, tweedie};
use crate::error::{Error, Result};
use crate::operators::Svd;
use crate::ops;
use crate::solver_params;
use crate::tensor::Tensor;

solver_params! {
    /// PnP-DM: split Gibbs with an exact Gaussian likelihood step and a diffusion prior step.
    pub struct PnpDm("pnp-dm") {
        /// Outer (Gibbs) iterations.
        steps: usize = steps(20);
        /// ρ of the first iteration.
        rho0: f64 = set(10.0, 1e-3..=1e3);
        /// ρ of the last iteration.
        rho_min: f64 = set(0.1, 1e-3..=1e3);
        /// Ancestral DDPM steps (network calls) of each prior step.
        inner: usize = set(3, 1..);
        /// Whether the measurement is used at all.
        measure: bool = measure();
    }
}

/// The likelihood step sampled exactly through the operator's SVD (shared with DPnP's proximal
/// consistency sampler): a draw from `exp(−‖y − A z‖² / 2σ_y² − ‖z − x‖² / 2ρ²)`, Gaussian with
/// mean DiffPIR's proximal point and covariance `V diag(σ_y² ρ² / (s² ρ² + σ_y²)) Vᵀ`.
pub(super) struct ExactLikelihood<'a> {
    prox: DataProximal<'a>,
    svd: &'a dyn Svd,
    /// σ_y, floored at 0.001.
    sy: f64,
}

impl<'a> ExactLikelihood<'a> {
    /// Prepares the step for `p`, or refuses (naming `solver`) an operator without an SVD.
    pub(super) fn new(p: &Problem<'a>, solver: &str) -> Result<Self> {
        let svd = require_svd(p, solver)?;
        Ok(ExactLikelihood {
            prox: DataProximal::new(p, 1)?,
            svd,
            sy: p.sigma_y.max(1e-3),
        })
    }

    /// The per-component standard deviation in the SVD basis at coupling `rho`, on the device.
    pub(super) fn std(&self, p: &Problem, rho: f64) -> Result<Tensor> {
        let sy = self.sy;
        let std: Vec<f32> = self
            .svd
            .singulars()
            .iter()
            .map(|&v| {
                let v = v as f64;
                (sy * rho / (v * v * rho * rho + sy * sy).sqrt()) as f32
            })
            .collect();
        Tensor::from_slice(p.model.gpu(), &[std.len()], &std)
    }

    /// One draw around `x` at coupling `rho`, `std` from [`ExactLikelihood::std`] at the same ρ and
    /// `n` standard normal noise of `x`'s shape.
    pub(super) fn sample(&self, x: &Tensor, rho: f64, std: &Tensor, n: &Tensor) -> Result<Tensor> {
        let mean = self.prox.apply(x, self.sy * self.sy / (rho * rho))?;
        ops::add(&mean, &self.svd.v(&ops::mul_bcast(n, std)?)?)
    }
}

/// The prior (denoising) step at noise level ρ: a draw from `p(x | z) ∝ p(x) exp(−‖z − x‖² / 2ρ²)`
/// by the reverse diffusion from the timestep whose `σ_t = sqrt((1−ᾱ_t)/ᾱ_t)` is nearest ρ
/// (`x_t = sqrt(ᾱ_t) z`), `inner` ancestral DDPM steps evenly spaced from there to 0. Shared with
/// DPnP's denoising diffusion sampler.
pub(super) struct PriorStep {
    ts: Vec<Timestep>,
}

impl PriorStep {
    /// The timesteps of the step at noise level `rho` with `inner` network calls.
    pub(super) fn new(p: &Problem, rho: f64, inner: usize) -> Result<Self> {
        let t = nearest_t(p.schedule(), rho);
        let mut ts: Vec<usize> = (0..inner).map(|j| t * (inner - j) / inner).collect();
        ts.dedup();
        Ok(PriorStep {
            ts: ts
                .into_iter()
                .map(|t| Timestep::new(p.model.gpu(), t))
                .collect::<Result<_>>()?,
        })
    }

    /// Denoises `z`; the step's noise comes from the Philox streams `stream + 1 ..` of `seed`.
    pub(super) fn sample(&self, p: &Problem, z: &Tensor, seed: u64, stream: u32) -> Result<Tensor> {
        let sched = p.schedule();
        let mut xt = ops::scale(z, sched.alpha_bar(Some(self.ts[0].t)).sqrt() as f32)?;
        for (j, t) in self.ts.iter().enumerate() {
            let s = self.ts.get(j + 1).map(|t| t.t);
            let eps = p.model.eps(&xt, t)?;
            let x0 = tweedie(sched, &xt, &eps, t.t, true)?;
            let tr = sched.transition(t.t, s, 1.0);
            let mean = ops::axpby(tr.c_x0 as f32, &x0, tr.c_x as f32, &xt)?;
            xt = match s {
                Some(_) => {
                    let w = randn(p.model.gpu(), z.shape(), seed, stream + j as u32 + 1, 3)?;
                    ops::axpby(1.0, &mean, tr.var.sqrt() as f32, &w)?
                }
                None => mean,
            };
        }
        Ok(xt)
    }
}

/// One outer iteration's prepared pieces: ρ_k, the per-component standard deviation of the
/// likelihood step in the SVD basis, and the prior step from ρ_k.
struct Level {
    rho: f64,
    std: Tensor,
    prior: PriorStep,
}

impl Solver for PnpDm {
    solver_params!(@solver);

    fn start<'a>(&self, p: &Problem<'a>, seed: u64) -> Result<Run<'a>> {
        let (p, me) = (*p, *self);
        let shape = check_problem(&p)?;
        if self.rho_min > self.rho0 {
            return Err(Error::Input(format!(
                "pnp-dm anneals ρ from rho0 down to rho_min, and rho_min = {} is above rho0 = {}: \
                 set rho_min ≤ rho0",
                self.rho_min, self.rho0
            )));
        }
        let like = ExactLikelihood::new(&p, Self::NAME)?;
        let gpu = p.model.gpu();
        let n = self.steps;
        let levels: Vec<Level> = (0..n)
            .map(|k| {
                let f = k as f64 / (n.max(2) - 1) as f64;
                let rho = self.rho0 * (self.rho_min / self.rho0).powf(f);
                Ok(Level {
                    rho,
                    std: like.std(&p, rho)?,
                    prior: PriorStep::new(&p, rho, self.inner)?,
                })
            })
            .collect::<Result<_>>()?;
        let x = randn(gpu, &shape, seed, 0, 1)?;
        let step = move |x: &Tensor, k: usize| {
            let l = &levels[k];
            let stream = (k as u32) * (me.inner as u32 + 1) + 1;
            // likelihood step: z ~ N(mean, V diag(std²) Vᵀ), exactly
            let n0 = randn(gpu, &shape, seed, stream, 2)?;
            let z = if me.measure {
                like.sample(x, l.rho, &l.std, &n0)?
            } else {
                ops::axpby(1.0, x, l.rho as f32, &n0)?
            };
            // prior step: x_t = sqrt(ᾱ_t) z at σ_t ≈ ρ, then ancestral DDPM steps to 0
            let xt = l.prior.sample(&p, &z, seed, stream)?;
            Ok(Stepped {
                x: xt.clone(),
                x0: Some(xt),
            })
        };
        Ok(Run::new(Self::NAME, gpu, x, n, step, None))
    }
}
