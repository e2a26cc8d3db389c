//! Denoising Diffusion Restoration Models (DDRM).
//!
//! Kawar, Elad, Ermon, Song, "Denoising Diffusion Restoration Models", NeurIPS 2022; official code
//! bahjat-kawar/ddrm (`functions/denoising.py`, `efficient_generalized_steps`; `functions/svd_replacement.py`;
//! defaults in `main.py` and the README).
//!
//! DDRM works coordinate by coordinate in the operator's SVD space `A = U Σ Vᵀ`, in
//! variance-exploding units (`x̄ = Vᵀ x_t / sqrt(ᾱ_t)`, `σ_t = sqrt(1−ᾱ_t)/sqrt(ᾱ_t)`), with
//! `ȳ = Σ⁺ Uᵀ y`. With `x̄0 = Vᵀ x̂0` and `σ'` the σ of the next step, each coordinate with singular
//! value `s` becomes (eq. 7–8 of the paper):
//!
//! ```text
//! s = 0 (unseen):       x̄0 + sqrt(1−η²) σ' (Vᵀε) + η σ' z
//! s σ' < σ_y (y less noisy): x̄0 + sqrt(1−η²) σ' (Uᵀy − s x̄0)/σ_y + η σ' z
//! s σ' > σ_y (y noisier):    η_b ȳ + (1−η_b) x̄0 + sqrt(σ'² − σ_y² η_b² / s²) z
//! ```
//!
//! and `x_next = sqrt(ᾱ') V x̄'`. The start `x_T` is drawn from `p(x_T | y)` the same way. Defaults
//! as in the official code: η = 0.85 (its η_A = η_C), η_b = 1, 20 uniformly respaced steps;
//! singular values below 3e-2 count as zero (the official `ZERO` of its blur operators). σ_y is in
//! [-1, 1] image units (the official code doubles its [0, 1] `sigma_0` to the same). Tweedie's x̂0
//! is clamped when the model's schedule says so (the official code does not clamp).
//!
//! `--set eta=…,eta_b=…,min_singular=…`; `measure=0` ignores the measurement (every coordinate
//! unseen: plain DDIM with η), the check that the measurement term does the work.

use super::spectral::{DdrmStep, ddrm_step};
use super::{Problem, Run, Solver, SpectralRun};
use crate::diffusion::randn;
use crate::error::Result;
use crate::solver_params;

solver_params! {
    /// DDRM in the operator's SVD space.
    pub struct Ddrm("ddrm") {
        /// Number of respaced steps.
        steps: usize = steps(20);
        /// η (stochasticity of the unseen and less-noisy coordinates).
        eta: f64 = set(0.85, 0.0..=1.0);
        /// η_b (weight of the measurement where it is noisier than `x_t`).
        eta_b: f64 = set(1.0, 0.0..=1.0);
        /// Singular values below this count as zero.
        min_singular: f64 = set(3e-2, 0.0..);
        /// Whether the measurement is used at all.
        measure: bool = measure();
    }
}

impl Solver for Ddrm {
    solver_params!(@solver);

    fn start<'a>(&self, p: &Problem<'a>, seed: u64) -> Result<Run<'a>> {
        let (p, me) = (*p, *self);
        let run = SpectralRun::new(&p, Self::NAME, self.min_singular, self.measure)?;
        let st = move |next: Option<usize>, init: bool| DdrmStep::at(&p, me.eta, me.eta_b, next, init);
        // x_T ~ p(x_T | y): the first respaced timestep's σ
        let t0 = crate::diffusion::respace(p.schedule().len(), self.steps)?[0];
        let z = randn(p.model.gpu(), &run.shape, seed, 0, 1)?;
        let x = run
            .svd
            .v(&ddrm_step(&run.inputs(&z, &z, &z), &st(Some(t0), true))?)?;
        run.run(&p, Self::NAME, (x, self.steps), seed, move |sp, next| {
            ddrm_step(sp, &st(next, false))
        })
    }
}
