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
use super::{Params, Problem, Run, Solver, SpectralRun};
use crate::diffusion::randn;
use crate::error::Result;

/// DDNM / DDNM+ in the operator's SVD space.
#[derive(Debug, Clone, Copy)]
pub struct Ddnm {
    /// Number of respaced steps.
    pub steps: usize,
    /// η.
    pub eta: f64,
    /// The noisy-case λ_t, γ_t (DDNM+).
    pub plus: bool,
    /// Singular values below this count as zero.
    pub min_singular: f64,
    /// Whether the measurement is used at all.
    pub measure: bool,
}

impl Ddnm {
    /// DDNM+ with `steps` (default 100) and `--set` parameters.
    pub fn new(steps: Option<usize>, sets: &[(String, String)]) -> Result<Self> {
        let mut p = Params::new("ddnm", sets);
        let d = Ddnm {
            steps: steps.unwrap_or(100),
            eta: p.f64("eta", 0.85, 0.0, 1.0)?,
            plus: p.flag("plus", true)?,
            min_singular: p.f64("min_singular", 3e-2, 0.0, f64::INFINITY)?,
            measure: p.flag("measure", true)?,
        };
        p.finish()?;
        Ok(d)
    }
}

impl Solver for Ddnm {
    fn name(&self) -> &'static str {
        "ddnm"
    }

    fn settings(&self) -> Vec<(String, String)> {
        vec![
            ("steps".into(), self.steps.to_string()),
            ("eta".into(), self.eta.to_string()),
            ("plus".into(), (self.plus as u8).to_string()),
            ("min_singular".into(), self.min_singular.to_string()),
            ("measure".into(), (self.measure as u8).to_string()),
        ]
    }

    fn start<'a>(&self, p: &Problem<'a>, seed: u64) -> Result<Run<'a>> {
        let (p, me) = (*p, *self);
        let run = SpectralRun::new(&p, "ddnm", self.min_singular, self.measure)?;
        let x = randn(p.model.gpu(), &run.shape, seed, 0, 1)?;
        run.run(&p, "ddnm", (x, self.steps), seed, move |sp, next| {
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
