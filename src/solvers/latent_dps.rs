//! Latent DPS: DPS on a latent problem `A(D(z))` — the name the survey gives it (Daras et al.
//! 2024, §5). Rout et al. 2023 (PSLD, NeurIPS; LituRout/PSLD) define it as PSLD without the gluing
//! term, and their code runs both on latent-diffusion's DDIM sampler (η = 0): here it is
//! [`super::Psld`] with γ = 0, so each step is
//!
//! ```text
//! z_s = DDIM(z_t, ε_θ(z_t, t)) − ω ∇_{z_t} ‖y − A D(ẑ0(z_t))‖
//! ```
//!
//! with PSLD's parameters and defaults (ω by kind of problem and the few-step rule, η = 0), the
//! gradient through the UNet and the decoder ([`crate::operators::Decoded`]). Unlike PSLD it runs
//! any operator, nonlinear ones too (no Aᵀ is needed without the gluing term); it refuses a
//! pixel-space problem (plain `dps` runs those).
//!
//! Why not DPS's own DDPM ancestral step (which `dps` on a latent problem still is): on the bundled
//! `weights/fmnist32-ldm`, 20 test images (0–3 and 36–51; σ_y = 0.05, 50 steps; box inpainting /
//! ×4 SR / Gaussian deblurring, trivial estimate 15.48 / 15.52 / 16.43 dB), DPS's step with its
//! best ζ per task (1 / 3 / 1.5, a sweep of 0.5–4) reaches 18.83 / 18.14 / 18.86 dB, the DDIM step
//! with PSLD's default weights and no other tuning 21.33 / 19.80 / 21.43.

use super::params::{Params, Setup, boxed};
use super::{Problem, Psld, Run, Solver};
use crate::error::{Error, Result};

/// Latent DPS, PSLD with γ = 0 under its own name.
pub struct LatentDps(Box<dyn Solver>);

impl LatentDps {
    /// The registry's constructor: PSLD's parameters from `p`, γ = 0 unless given.
    pub fn create(setup: &Setup, mut p: Params) -> Result<Box<dyn Solver>> {
        p.default_to("gamma", "0");
        Ok(Box::new(LatentDps(boxed::<Psld>(setup, p)?)))
    }
}

impl Solver for LatentDps {
    fn name(&self) -> &'static str {
        "latent-dps"
    }
    fn settings(&self) -> Vec<(String, String)> {
        self.0.settings()
    }
    fn start<'a>(&self, p: &Problem<'a>, seed: u64) -> Result<Run<'a>> {
        if p.op.decoded().is_none() {
            return Err(Error::Input(format!(
                "latent-dps solves latent problems A(D(z)) (a latent prior with its autoencoder); {} \
                 is a pixel-space operator: use dps",
                p.op.describe()
            )));
        }
        self.0.start(p, seed)
    }
}
