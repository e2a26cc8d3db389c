//! A classical, non-diffusion baseline for every task: the answer the diffusion solvers must be
//! read against.
//!
//! For a linear operator with an SVD `A = U Σ Vᵀ` (inpainting, super-resolution, Gaussian
//! deblurring, denoising, colorization, compressed sensing, and any host operator that offers one),
//! the Tikhonov-regularised inverse
//!
//! ```text
//! x = argmin ‖A x − y‖² + λ ‖x‖²  =  V diag(s / (s² + λ)) Uᵀ y,      λ = σ_y² + q²
//! ```
//!
//! (Tikhonov 1963; in the SVD, e.g. Hansen, "Rank-Deficient and Discrete Ill-Posed Problems", 1998,
//! §4.2), applied only where `A⁺` is unstable: when every nonzero singular value is at least
//! `3 sqrt(λ)` (Tikhonov would change no coefficient by more than 10%) the baseline is the exact
//! `A⁺ y = V Σ⁺ Uᵀ y` (λ = 0) — for a masked or orthonormal operator (inpainting, denoising,
//! compressed sensing's orthonormal rows, a masked Fourier transform) the zero-filled inverse, for
//! ×4 average pooling the block replication — so it never trails the trivial estimate by shrinking
//! well-measured coefficients towards 0. λ = σ_y² + q² is the Wiener (MAP) choice under a white
//! prior of standard deviation 1 per coefficient, the widest the [-1, 1] image range allows: it
//! damps the directions whose measurement noise σ_y / s exceeds the image range (a blur's high
//! frequencies). `q² = (2/255)² / 12` is the variance of 8-bit quantisation in [-1, 1] units: the
//! noise a PNG observation carries even at σ_y = 0, and what keeps a blur's tiny singular values
//! from amplifying it. `--set lambda=…` overrides λ (still 0 where `A⁺` is stable).
//!
//! Every other operator gets its trivial estimate ([`super::trivial_estimate`]): its own `A⁺ y`
//! where it has one, the observation for a blur without an SVD (motion blur) or with an unknown
//! kernel (blind deblurring), the operator's own estimate for the nonlinear models (HDR: y / scale)
//! and the prior's mean image for phase retrieval. `measure=0` gives the zero (mid-gray) image.
//! One step, no model pass except phase retrieval's prior mean.

use super::params::show;
use super::{Problem, Run, Solver, Stepped, check_blind_problem, trivial_estimate};
use crate::error::Result;
use crate::ops;
use crate::solver_params;
use crate::tensor::Tensor;

solver_params! {
    /// The classical baseline: Tikhonov through the SVD, else the trivial estimate.
    pub struct Baseline("baseline") {
        /// Tikhonov's λ (0: σ_y² + q², see the module notes).
        lambda: f64 = set(0.0, 0.0..=1e6), show = show::auto_if_zero;
        /// Whether the measurement is used at all (off: the zero image).
        measure: bool = measure(), show = show::hidden;
    }
}

/// The variance of 8-bit quantisation in [-1, 1] units, `(2/255)² / 12`.
pub const QUANTISATION_VARIANCE: f64 = (2.0 / 255.0) * (2.0 / 255.0) / 12.0;

impl Baseline {
    /// The λ a run on measurements with noise `sigma_y` uses.
    pub fn lambda_for(&self, sigma_y: f64) -> f64 {
        if self.lambda > 0.0 {
            self.lambda
        } else {
            sigma_y * sigma_y + QUANTISATION_VARIANCE
        }
    }

    /// The λ applied to an operator with singular values `s`: 0 (the exact `A⁺`) where `A⁺` is
    /// stable — every nonzero singular value at least `3 sqrt(λ)`, so that Tikhonov would change
    /// no coefficient by more than 10% — else `lambda`.
    pub fn regulariser(s: &[f32], lambda: f64) -> f64 {
        let top = s.iter().fold(0f32, |a, &b| a.max(b)) as f64;
        let smallest = s
            .iter()
            .map(|&v| v as f64)
            .filter(|&v| v > 1e-6 * top)
            .fold(f64::INFINITY, f64::min);
        if smallest * smallest >= 9.0 * lambda {
            0.0
        } else {
            lambda
        }
    }

    /// The estimate for the problem (see the module notes).
    fn estimate(&self, p: &Problem) -> Result<Tensor> {
        let [b, c, h, w] = check_blind_problem(p)?;
        if !self.measure {
            return Tensor::full(p.model.gpu(), &[b, c, h, w], 0.0);
        }
        let svd = match p.op.linear() {
            Some(lin) if p.op.unknown().is_none() => lin.svd()?,
            _ => None,
        };
        let Some(svd) = svd else {
            return trivial_estimate(p.model, p.op, p.y);
        };
        let lambda = Self::regulariser(svd.singulars(), self.lambda_for(p.sigma_y));
        let s = Tensor::from_slice(p.model.gpu(), &[svd.singulars().len()], svd.singulars())?;
        let gain = ops::spectral_gain(&svd.ut(p.y)?, &s, lambda)?;
        svd.v(&gain)
    }
}

impl Solver for Baseline {
    solver_params!(@solver);

    fn start<'a>(&self, p: &Problem<'a>, _seed: u64) -> Result<Run<'a>> {
        let (p, me) = (*p, *self);
        let shape = check_blind_problem(&p)?;
        let x = Tensor::full(p.model.gpu(), &shape, 0.0)?;
        let step = move |_: &Tensor, _: usize| {
            let x = me.estimate(&p)?;
            Ok(Stepped {
                x: x.clone(),
                x0: Some(x),
            })
        };
        Ok(Run::new(Self::NAME, p.model.gpu(), x, 1, step, None))
    }
}
