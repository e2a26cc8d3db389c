//! PSLD: Posterior Sampling with Latent Diffusion.
//!
//! Rout, Raoof, Daras, Caramanis, Dimakis, Shakkottai, "Solving Linear Inverse Problems Provably
//! via Posterior Sampling with Latent Diffusion Models", NeurIPS 2023; official code LituRout/PSLD
//! (`stable-diffusion/ldm/models/diffusion/psld.py`, `p_sample_ddim`; run scripts in
//! `stable-diffusion/run/`).
//!
//! It runs on a latent problem `A(D(z))` ([`crate::operators::Decoded`]) with a linear `A` (any `A`
//! with γ = 0: that is Latent DPS, [`super::LatentDps`]). Each
//! step from `t` to the next timestep `s`, on latents:
//!
//! ```text
//! ε   = ε_θ(z_t, t)
//! ẑ0  = (z_t − sqrt(1−ᾱ_t) ε) / sqrt(ᾱ_t)                    (no clamp: latents are unbounded)
//! z'  = DDIM step from z_t with ε (η)
//! x̂   = D(ẑ0)
//! z_s = z' − ∇_{z_t} [ ω ‖y − A x̂‖ + γ ‖ẑ0 − E(Aᵀy + (I − AᵀA) x̂)‖ ]
//! ```
//!
//! The second term is PSLD's "gluing": the decoded estimate with its measured part replaced by
//! `Aᵀy`, encoded again, should be the latent it came from. As in the official code the norms are
//! not squared (here per sample; the official code takes one norm over the batch), and the
//! gradient flows through the UNet, the decoder and the encoder. The encoder gives its latent mean
//! in the model's scaling ([`crate::models::AutoencoderKL::encode_scaled`]); the official
//! `get_first_stage_encoding` samples the latent distribution instead.
//!
//! Defaults: ω = γ = 0.1 at 1000 steps (the official run scripts' `--omega` and `--gamma`), η = 0
//! (latent-diffusion's DDIM default). With S < 1000 steps both weights are scaled by
//! (1000 / S)^0.5, tweedie's few-step rule for DPS on inpainting (the guidance is applied once per
//! step). Super-resolution takes ω = 0.5 at 1000 steps (2.24 at 50; the official SR script
//! `run/inverse_sr_ldm.sh` sets 0.9, the other tasks' scripts 0.1), chosen on the bundled
//! `weights/fmnist32-ldm` with 20 test images (0–3 and 36–51; σ_y = 0.05, 50 steps), mean PSNR in
//! dB against the trivial estimate's 15.48 / 15.52 / 16.43 (box inpainting / ×4 SR / Gaussian
//! deblurring): ω = 0.447 (the few-step rule's 0.1): **21.74** / 18.43 / **22.01**; 1: 19.41 /
//! 20.00 / 21.99; 2: 18.22 / 20.12 / 20.46; 3: – / 20.54 / –; 4: – / 19.35 / –; the chosen
//! 2.24: – / 20.28 / –. Inpainting and deblurring keep the official weight; ×4 SR wants
//! more, as in the official scripts (0.9 would be 4.02 at 50 steps: 19.35 here). γ is not tuned.
//! `measure=0` drops both terms (each uses y): plain DDIM sampling.

use super::params::show;
use super::{Problem, Run, Solver, Stepped, check_problem, next_t, timesteps};
use crate::autograd;
use crate::diffusion::{Sampler, Timestep, sampler_step, tweedie};
use crate::error::{Error, Result};
use crate::operators::Kind;
use crate::ops;
use crate::solver_params;
use crate::tensor::Tensor;

solver_params! {
    /// PSLD with DDIM steps on the latents.
    pub struct Psld("psld", kind) {
        /// Number of (respaced) DDIM steps.
        steps: usize = steps(1000);
        /// ω, the weight of the measurement term ‖y − A D(ẑ0)‖.
        omega: f64 = set(Psld::few_step(Psld::omega_1000(kind), steps), 0.0..=1e4),
            show = show::places4;
        /// γ, the weight of the gluing term ‖ẑ0 − E(Aᵀy + (I − AᵀA) D(ẑ0))‖.
        gamma: f64 = set(Psld::few_step(0.1, steps), 0.0..=1e4), show = show::places4;
        /// DDIM's η (0: deterministic steps).
        eta: f64 = set(0.0, 0.0..=1.0);
        /// Whether the measurement is used at all (both terms use it).
        measure: bool = measure(), show = show::hidden;
    }
}

impl Psld {
    /// ω at 1000 steps for a problem of `kind`: the official 0.1, and 0.5 for super-resolution
    /// (the module notes say how it was chosen).
    pub fn omega_1000(kind: Kind) -> f64 {
        match kind {
            Kind::SuperResolution => 0.5,
            _ => 0.1,
        }
    }

    /// A weight `w` of the official 1000-step runs for `steps` steps: `w · (1000 / steps)^0.5`.
    pub fn few_step(w: f64, steps: usize) -> f64 {
        w * (1000.0 / steps.max(1) as f64).sqrt()
    }
}

impl Solver for Psld {
    solver_params!(@solver);

    fn start<'a>(&self, p: &Problem<'a>, seed: u64) -> Result<Run<'a>> {
        let p = *p;
        let shape = check_problem(&p)?;
        let dec = p.op.decoded().ok_or_else(|| {
            Error::Input(format!(
                "psld solves latent problems A(D(z)) (operators::Decoded, a latent prior with its \
                 autoencoder); {} is a pixel-space operator: use a pixel-space solver such as dps",
                p.op.describe()
            ))
        })?;
        if self.measure && self.gamma != 0.0 && dec.inner().linear().is_none() {
            return Err(Error::Input(format!(
                "psld's gluing term needs Aᵀ, and {} is nonlinear: use latent-dps on the latent \
                 problem (Latent DPS: PSLD without the gluing term), or psld with gamma=0",
                dec.inner().describe()
            )));
        }
        let (omega, gamma) = if self.measure {
            (self.omega, self.gamma)
        } else {
            (0.0, 0.0)
        };
        let eta = self.eta;
        let tt = timesteps(&p, self.steps)?;
        let z = crate::diffusion::randn(p.model.gpu(), &shape, seed, 0, 1)?;
        let n = tt.len();
        let step = move |z: &Tensor, i: usize| {
            let (next, step) = (next_t(&tt, i), i as u32 + 1);
            psld_step(&p, z, &tt[i], next, [omega, gamma], eta, seed, step)
        };
        Ok(Run::new(Self::NAME, p.model.gpu(), z, n, step, None))
    }
}

/// One PSLD step (see the module notes): the DDIM step minus the gradient of `ω` times the
/// per-sample measurement residual norms plus `γ` times the gluing residual norms (skipped at γ = 0).
#[allow(clippy::too_many_arguments)]
fn psld_step(
    p: &Problem,
    z: &Tensor,
    t: &Timestep,
    next: Option<usize>,
    [omega, gamma]: [f64; 2],
    eta: f64,
    seed: u64,
    step: u32,
) -> Result<Stepped> {
    let sched = p.schedule();
    let ddim =
        |z: &Tensor, eps: &Tensor| sampler_step(z, eps, sched, t.t, next, Sampler::Ddim { eta }, seed, step);
    if omega == 0.0 && gamma == 0.0 {
        let eps = p.model.eps(z, t)?;
        let z0 = tweedie(sched, z, &eps, t.t, false)?;
        return Ok(Stepped {
            x: ddim(z, &eps)?,
            x0: Some(z0),
        });
    }
    let dec = p.op.decoded().expect("checked when the run started");
    let a = dec.inner();
    let b = z.shape()[0];
    let z = &z.tracked();
    let eps = p.model.eps(z, t)?;
    let z0 = tweedie(sched, z, &eps, t.t, false)?;
    // the terms' gradients with respect to ẑ0 first (through the decoder and encoder only), then
    // one VJP through the UNet
    let z0l = z0.detach().tracked();
    let x = dec.decode(&z0l)?;
    let ax = a.forward(&x)?;
    let r = ops::axpby(1.0, p.y, -1.0, &ax)?;
    let mut terms = vec![(r, omega)];
    if gamma != 0.0 {
        let lin = a.linear().expect("checked when the run started");
        let glued = ops::axpby(
            1.0,
            &ops::axpby(1.0, &lin.adjoint(p.y)?, 1.0, &x)?,
            -1.0,
            &lin.adjoint(&ax)?,
        )?;
        let g = ops::axpby(1.0, &z0l, -1.0, &dec.vae().encode_scaled(&glued)?)?;
        terms.push((g, gamma));
    }
    let mut grad: Option<Tensor> = None;
    for (res, w) in terms.iter().filter(|(_, w)| *w != 0.0) {
        let ss = ops::sumsq_rows(res, b)?;
        // d(w‖r‖)/d‖r‖² = w / (2‖r‖): the cotangent of the per-sample sums of squares
        let cot = ops::pow(&ss, 0.5 * *w as f32, -0.5, 1e-20)?;
        let gi = autograd::backward(&ss, &cot, &[&z0l])?.remove(0);
        grad = Some(match grad {
            Some(g0) => ops::axpby(1.0, &g0, 1.0, &gi)?,
            None => gi,
        });
    }
    let g_z0 = grad.expect("a nonzero weight");
    let g = autograd::backward(&z0, &g_z0, &[z])?.remove(0);
    let zs = ddim(z, &eps)?;
    Ok(Stepped {
        x: ops::axpby(1.0, &zs, -1.0, &g)?,
        x0: Some(z0.detach()),
    })
}
