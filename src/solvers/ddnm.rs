//! Denoising Diffusion Null-space Models (DDNM and DDNM+).
//!
//! Wang, Yu, Zhang, "Zero-Shot Image Restoration Using Denoising Diffusion Null-Space Model", ICLR
//! 2023; official code wyhuai/DDNM (`functions/svd_ddnm.py`, `ddnm_diffusion` and
//! `ddnm_plus_diffusion`; `functions/svd_operators.py`, `Lambda` and `Lambda_noise`; defaults in
//! `configs/*.yml`).
//!
//! Each step replaces the range-space part of Tweedie's estimate with the measurement's and keeps
//! the null-space part, then takes a DDIM step (eq. 13):
//!
//! ```text
//! x̂0'   = x̂0 − λ_t A⁺(A x̂0 − y)
//! x_{t−1} = sqrt(ᾱ_{t−1}) x̂0' + d1 z + d2 ε,   d1 = σ_t η,  d2 = σ_t sqrt(1−η²),  σ_t = sqrt(1−ᾱ_{t−1})
//! ```
//!
//! DDNM+ (the noisy case, eq. 17–18) works per singular value `s` of `A = U Σ Vᵀ`, with
//! `a = sqrt(ᾱ_{t−1})`: where `σ_t < a σ_y / s` the measurement is noisier than the step allows, so
//! `λ_t = s σ_t sqrt(1−η²) / (a σ_y)` and the step adds only `σ_t η z`; where `σ_t > a σ_y / s`,
//! `λ_t = 1` and the fresh noise is `γ_t = sqrt(σ_t² − a² σ_y² / s²)` (the part y's noise does not
//! already supply). With σ_y = 0 it is DDNM. It runs in the SVD space here for every operator,
//! which is the official SVD path. Defaults of the official configs: η = 0.85, 100 steps, no time
//! travel; singular values below 3e-2 count as zero, as in DDRM. Tweedie's x̂0 is clamped when the
//! model's schedule says so.
//!
//! `--set eta=…,plus=0|1,min_singular=…` (`plus=0`: treat y as exact, plain DDNM); `measure=0`
//! ignores the measurement (plain DDIM with η).

use super::spectral::{DdnmStep, ddnm_step};
use super::{Problem, Run, Solver, SpectralRun};
use crate::diffusion::randn;
use crate::error::Result;
use crate::solver_params;

solver_params! {
    /// DDNM / DDNM+ in the operator's SVD space.
    pub struct Ddnm("ddnm") {
        /// Number of respaced steps.
        steps: usize = steps(100);
        /// η.
        eta: f64 = set(0.85, 0.0..=1.0);
        /// The noisy-case λ_t, γ_t (DDNM+).
        plus: bool = set(true);
        /// Singular values below this count as zero.
        min_singular: f64 = set(3e-2, 0.0..);
        /// Whether the measurement is used at all.
        measure: bool = measure();
    }
}

impl Solver for Ddnm {
    solver_params!(@solver);

    fn start<'a>(&self, p: &Problem<'a>, seed: u64) -> Result<Run<'a>> {
        let (p, me) = (*p, *self);
        let run = SpectralRun::new(&p, Self::NAME, self.min_singular, self.measure)?;
        let x = randn(p.model.gpu(), &run.shape, seed, 0, 1)?;
        run.run(&p, Self::NAME, (x, self.steps), seed, move |sp, next| {
            let ab = p.schedule().alpha_bar(next);
            let st = DdnmStep {
                a: ab.sqrt(),
                sigma_t: (1.0 - ab).sqrt(),
                sigma_y: p.sigma_y,
                eta: me.eta,
                plus: me.plus,
            };
            ddnm_step(sp, &st)
        })
    }
}
