//! Pseudoinverse-Guided Diffusion Models (ΠGDM).
//!
//! Song, Vahdat, Mardani, Kautz, "Pseudoinverse-Guided Diffusion Models for Inverse Problems",
//! ICLR 2023. There is no official release; the authors' implementation is NVlabs/RED-diff
//! (`algos/pgdm.py`, defaults in `_configs/algo/pgdm.yaml`), and the noisy form follows the paper's
//! eq. 8 as InverseBench (`algo/pigdm.py`) writes it.
//!
//! The guidance is the vector-Jacobian product of the pseudo-inverse residual through Tweedie's
//! estimate, added to a DDIM step from `t` to `s`:
//!
//! ```text
//! x̂0 = (x_t − sqrt(1−ᾱ_t) ε) / sqrt(ᾱ_t)
//! h   = Aᵀ (A Aᵀ + σ_y²/r_t² I)⁻¹ (y − A x̂0),        r_t² = 1 − ᾱ_t   (= A⁺(y − A x̂0) when σ_y = 0)
//! g   = (∂x̂0/∂x_t)ᵀ h                                 (one VJP through the UNet)
//! x_s = DDIM_η(x̂0, ε) + w sqrt(ᾱ_s) sqrt(ᾱ_t) g
//! ```
//!
//! `h` is computed in the operator's SVD space as `V Σ (Σ² + c)⁻¹ Uᵀ r`, `c = σ_y²/r_t²`, so the
//! solver needs an operator with an SVD. The start is `A⁺y` noised to the first timestep, as in
//! RED-diff's `initialize`. Defaults: w = 1, η = 0 (RED-diff's config), 100 steps; singular values
//! below 3e-2 count as zero (only matters when σ_y = 0).
//!
//! `--set w=…,eta=…,min_singular=…`; `measure=0` drops the guidance and starts from noise (plain
//! DDIM).

use super::{
    Params, Problem, PseudoInverse, Run, Solver, Stepped, check_problem, next_t, require_svd, singulars,
    timesteps, tweedie,
};
use crate::autograd;
use crate::diffusion::{Sampler, randn, sampler_step};
use crate::error::Result;
use crate::ops;
use crate::tensor::Tensor;

/// ΠGDM with DDIM steps.
#[derive(Debug, Clone, Copy)]
pub struct PiGdm {
    /// Number of respaced steps.
    pub steps: usize,
    /// Guidance weight w.
    pub w: f64,
    /// DDIM η.
    pub eta: f64,
    /// Singular values below this count as zero.
    pub min_singular: f64,
    /// Whether the measurement is used at all.
    pub measure: bool,
}

impl PiGdm {
    /// ΠGDM with `steps` (default 100) and `--set` parameters.
    pub fn new(steps: Option<usize>, sets: &[(String, String)]) -> Result<Self> {
        let mut p = Params::new("pigdm", sets);
        let d = PiGdm {
            steps: steps.unwrap_or(100),
            w: p.f64("w", 1.0)?,
            eta: p.f64("eta", 0.0)?,
            min_singular: p.f64("min_singular", 3e-2)?,
            measure: p.flag("measure", true)?,
        };
        p.finish()?;
        Ok(d)
    }
}

impl Solver for PiGdm {
    fn name(&self) -> &'static str {
        "pigdm"
    }

    fn settings(&self) -> Vec<(String, String)> {
        vec![
            ("steps".into(), self.steps.to_string()),
            ("w".into(), self.w.to_string()),
            ("eta".into(), self.eta.to_string()),
            ("min_singular".into(), self.min_singular.to_string()),
            ("measure".into(), (self.measure as u8).to_string()),
        ]
    }

    fn start<'a>(&self, p: &Problem<'a>, seed: u64) -> Result<Run<'a>> {
        let (p, me) = (*p, *self);
        let shape = check_problem(&p)?;
        let svd = require_svd(&p, "pigdm")?;
        let gpu = p.model.gpu();
        let tt = timesteps(&p, self.steps)?;
        let guided = self.measure && self.w != 0.0;
        let s = singulars(&p, svd, self.min_singular, true)?;
        let uty = svd.ut(p.y)?.reshape(&shape)?;
        let z = randn(gpu, &shape, seed, 0, 1)?;
        let x = if guided {
            let ab = p.schedule().alpha_bar(Some(tt[0].t));
            let x0 = PseudoInverse::new(&p, self.min_singular, "pigdm")?.apply(p.y)?;
            ops::axpby(ab.sqrt() as f32, &x0, (1.0 - ab).sqrt() as f32, &z)?
        } else {
            z
        };
        let sampler = Sampler::Ddim { eta: self.eta };
        let n = tt.len();
        let step = move |x: &Tensor, i: usize| {
            let (sched, t, next, step) = (p.schedule(), &tt[i], next_t(&tt, i), i as u32 + 1);
            if !guided {
                let eps = p.model.eps(x, t)?;
                let x0 = tweedie(&p, x, &eps, t.t, sched.clip_sample)?;
                let x = sampler_step(x, &eps, sched, t.t, next, sampler, seed, step)?;
                return Ok(Stepped { x, x0: Some(x0) });
            }
            let x = x.tracked();
            let eps = p.model.eps(&x, t)?;
            // unclamped: the VJP flows through x̂0 as in the official code
            let x0 = tweedie(&p, &x, &eps, t.t, false)?;
            // h = V Σ (Σ² + c)⁻¹ Uᵀ (y − A x̂0), with Uᵀ A x̂0 = Σ Vᵀ x̂0
            let ab_t = sched.alpha_bar(Some(t.t));
            let c = p.sigma_y * p.sigma_y / (1.0 - ab_t);
            let r = ops::axpby(1.0, &uty, -1.0, &ops::mul_bcast(&svd.vt(&x0)?, &s)?)?;
            let h = svd.v(&ops::spectral_gain(&r, &s, c)?)?;
            let g = autograd::backward(&x0, &h, &[&x])?.remove(0);
            let xs = sampler_step(&x, &eps, sched, t.t, next, sampler, seed, step)?;
            let coeff = me.w * sched.alpha_bar(next).sqrt() * ab_t.sqrt();
            Ok(Stepped {
                x: ops::axpby(1.0, &xs, coeff as f32, &g)?,
                x0: Some(x0),
            })
        };
        Ok(Run::new("pigdm", gpu, x, n, step, None))
    }
}
