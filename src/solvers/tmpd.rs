//! Tweedie Moment Projected Diffusions (TMPD).
//!
//! Boys, Girolami, Pidstrigach, Reich, Mosca, Akyildiz, "Tweedie Moment Projected Diffusions for
//! Inverse Problems", TMLR 2024 (arXiv 2310.06721); official code bb515/tmpdjax (`tmpd/solvers.py`,
//! `KGDMVPplus.analysis` and `KGDMVP.posterior`, DDIM with η = 1 by default). The same Gaussian
//! projection of p(x0 | x_t) as MMPS ([`super::mmps`]): mean Tweedie's x̂0 and covariance
//! Σ_t = (1−ᾱ_t)/sqrt(ᾱ_t) · J, J = ∂x̂0/∂x_t; but instead of solving with the full covariance,
//! TMPD keeps only the row sums of the measurement covariance, which one VJP gives:
//!
//! ```text
//! C_yy = σ_y² + diag(A Σ_t Aᵀ (A 1))                  (one VJP of A applied to an all-ones image)
//! ∇ log p(y | x_t) ≈ Jᵀ Aᵀ ((y − A x̂0) / C_yy)         (a second VJP)
//! ```
//!
//! then the step of the model's sampler with Tweedie's estimate under the posterior (as MMPS).
//! Negative row sums (a trained network's J is not exactly positive) are floored at 0, so that
//! C_yy ≥ σ_y². Cost per step: one forward pass and two VJPs, independent of the image size. For
//! inpainting and denoising A Σ_t Aᵀ is diagonal when J is, and the approximation is then exact for
//! the Gaussian prior (`tests/moments.rs`).
//!
//! Defaults: 100 steps, DDIM η = 1 (ancestral). `--set eta=…`; `measure=0` drops the guidance.

use super::mmps::{Covariance, moment_run};
use super::{Problem, Run, Solver};
use crate::error::Result;
use crate::solver_params;

solver_params! {
    /// TMPD with DDIM steps.
    pub struct Tmpd("tmpd") {
        /// Number of respaced steps.
        steps: usize = steps(100);
        /// DDIM η.
        eta: f64 = set(1.0, 0.0..=1.0);
        /// Whether the measurement is used at all.
        measure: bool = measure();
    }
}

impl Solver for Tmpd {
    solver_params!(@solver);

    fn start<'a>(&self, p: &Problem<'a>, seed: u64) -> Result<Run<'a>> {
        let cov = self.measure.then_some(Covariance::RowSum);
        moment_run(Self::NAME, p, self.steps, cov, self.eta, seed)
    }
}
