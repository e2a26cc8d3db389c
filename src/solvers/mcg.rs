//! Manifold Constrained Gradients (MCG).
//!
//! Chung, Sim, Ryu, Ye, "Improving Diffusion Models for Inverse Problems using Manifold
//! Constraints", NeurIPS 2022; official code HJ-harry/MCG_diffusion, and the `mcg` conditioning
//! method of DPS2022/diffusion-posterior-sampling (`guided_diffusion/condition_methods.py`,
//! `ManifoldConstraintGradient`), which this follows.
//!
//! Each step is the DPS step (see [`super::Dps`]: DDPM ancestral step minus ζ times the gradient of
//! ‖y − A x̂0(x_t)‖ through the clamped Tweedie estimate), followed by the projection onto the
//! measurement set noised to the next timestep `s`:
//!
//! ```text
//! x' = DPS step from x_t
//! y_s = sqrt(ᾱ_s) y + sqrt(1−ᾱ_s) n
//! x_s = (I − A⁺A) x' + A⁺ y_s
//! ```
//!
//! (The DPS repository's generic `project` is not this map for inpainting; we implement the paper's
//! projection.) The projection needs `A⁺`: the operator's own, or one from its SVD with singular
//! values below 3e-2 dropped. It puts the measurement noise into the result, MCG's known weakness
//! with noisy measurements. ζ defaults to the DPS scale for the task and step count; 1000 steps.
//!
//! `--set scale=…,min_singular=…`; `measure=0` drops both the gradient and the projection (plain
//! DDPM).

use super::dps::dps_step;
use super::params::show;
use super::{Dps, Problem, PseudoInverse, Run, Solver, Stepped, check_problem, next_t, timesteps};
use crate::diffusion::randn;
use crate::error::Result;
use crate::ops;
use crate::solver_params;
use crate::tensor::Tensor;

solver_params! {
    /// MCG: DPS with a projection onto the noised measurements.
    pub struct Mcg("mcg", kind) {
        /// Number of respaced DDPM steps.
        steps: usize = steps(1000);
        /// The gradient step ζ (DPS's default for the problem and the steps).
        scale: f64 = set(Dps::default_scale_for(kind, steps), 0.0..=1e4), show = show::places4;
        /// Singular values below this count as zero (operators without their own `A⁺`).
        min_singular: f64 = set(3e-2, 0.0..);
        /// Whether the measurement is used at all.
        measure: bool = measure();
    }
}

impl Solver for Mcg {
    solver_params!(@solver);

    fn start<'a>(&self, p: &Problem<'a>, seed: u64) -> Result<Run<'a>> {
        let p = *p;
        let shape = check_problem(&p)?;
        let gpu = p.model.gpu();
        let tt = timesteps(&p, self.steps)?;
        // resolved before the first step: an operator without A⁺ fails here
        let pinv = if self.measure {
            Some(PseudoInverse::new(&p, self.min_singular, Self::NAME)?)
        } else {
            None
        };
        let x = randn(gpu, &shape, seed, 0, 1)?;
        let scale = if self.measure { self.scale } else { 0.0 };
        let n = tt.len();
        let step = move |x: &Tensor, i: usize| {
            let (next, step) = (next_t(&tt, i), i as u32 + 1);
            let out = dps_step(&p, x, &tt[i], next, scale, false, seed, step)?;
            let Some(pinv) = &pinv else {
                return Ok(out);
            };
            let ab = p.schedule().alpha_bar(next);
            let n = randn(p.model.gpu(), p.y.shape(), seed, step, 3)?;
            let ys = ops::axpby(ab.sqrt() as f32, p.y, (1.0 - ab).sqrt() as f32, &n)?;
            let r = ops::axpby(1.0, &ys, -1.0, &p.op.forward(&out.x)?)?;
            Ok(Stepped {
                x: ops::add(&out.x, &pinv.apply(&r)?)?,
                x0: out.x0,
            })
        };
        Ok(Run::new(Self::NAME, gpu, x, n, step, None))
    }
}
