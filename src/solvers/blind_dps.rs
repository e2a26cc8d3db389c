//! BlindDPS: diffusion posterior sampling of the image jointly with the blur kernel.
//!
//! Chung, Kim, Kim, Ye, "Parallel Diffusion Models of Operator and Image for Blind Inverse
//! Problems", CVPR 2023; official code BlindDPS/blind-dps (`guided_diffusion/
//! blind_condition_methods.py`, `BlindPosteriorSampling`; `blind_deblur_demo.py`;
//! `configs/*.yaml`). The paper runs two reverse diffusions in parallel, one for the image and one
//! for the kernel, each guided by the gradient of the same residual norm ‖y − k̂0 ∗ x̂0‖ through its
//! own Tweedie estimate, the kernel's loss with a sparsity (ℓ1) regulariser. Each step here, from
//! `t` to the next timestep `s`:
//!
//! ```text
//! x̂0   = clamp(Tweedie(x_t, ε_θ(x_t, t)), −1, 1)
//! L    = Σ_i ‖y_i − (φ ∗ x̂0)_i‖                       (per-sample, un-squared, as DPS)
//! x_s  = DDPM(x_t, x̂0) − ζ ∇_{x_t} L                  (DPS's image step, its ζ)
//! φ    ← Π_Δ(Adam_φ(φ, ∇_φ L))                        (the kernel's step)
//! ```
//!
//! Both gradients come from one pass of the tape. Deviations, stated:
//! - **No kernel diffusion model.** The paper's second score network (trained on motion and
//!   Gaussian kernels) is replaced by a point estimate φ with a stated prior: φ stays on the
//!   simplex — non-negative, summing to one — by the Euclidean projection after every step (on the
//!   device), the constraint [`super::BlindRedDiff`] uses. The official `reg` ℓ1 term on the
//!   kernel is constant on the simplex (‖φ‖₁ = 1), so the projection subsumes it.
//! - **Adam on the kernel** (rate `kernel_lr`), not the plain gradient step ζ_k ∇_φ L of the
//!   official code: the kernel gradient's scale changes by orders of magnitude along the chain (it
//!   follows x̂0's contrast), and Adam's step, about the rate per entry, needs no per-task ζ_k.
//! - The image step is [`super::Dps`]'s, with its few-step rule for ζ (deblurring: γ = 0.675).
//!
//! φ starts at the task's centred Gaussian (`deblur-blind:init_sigma=…`) and is updated in the
//! operator in place, as for blind RED-Diff, so `restore` writes the estimate beside the output.
//! One kernel serves the whole batch. Defaults: 100 steps, ζ as DPS for deblurring, kernel rate
//! 1e-2. `--set scale=…,kernel_lr=…,measure=0|1` (`measure=0`: plain DDPM, the kernel never moves).
//!
//! Measured (`examples/blind_deblur.rs`'s setting: 9×9 kernels, σ_y = 0.02, the kernel starting at
//! Gaussian σ 1.5; mean PSNR, kernel relative error start → end; Gaussian σ 1.0 / σ 2.0 / motion,
//! observations in brackets): on held-out images 4–7 at 100 steps 23.24 / 19.38 / 20.31 dB
//! [18.13 / 14.93 / 15.14], kernel 0.46 → 0.12, 0.42 → 0.08, 0.74 → 0.42 (blind RED-Diff there:
//! 22.63 / 19.18 / 19.71); on images 0–1 at 50 steps 24.06 / 20.95 / 22.13 [18.17 / 14.58 /
//! 15.21]. Fewest steps 10: on images 4–7 at 10 steps 17.15 / 15.35 / 14.77 (within 1 dB of the
//! observation), at 7 steps 13.49 / 13.38 / 13.28 and at 3 steps 14.30 / 12.77 / 13.08 (more than
//! 2 dB below it).

use super::params::show;
use super::{Problem, Run, Solver, Stepped, check_blind_problem, next_t, timesteps};
use crate::autograd;
use crate::diffusion::{Sampler, sampler_step, sampler_step_learned, tweedie};
use crate::error::{Error, Result};
use crate::ops::{self, Adam};
use crate::solver_params;
use crate::tensor::Tensor;

solver_params! {
    /// BlindDPS with the kernel kept on the simplex and moved by Adam.
    pub struct BlindDps("blind-dps", kind) {
        /// Number of (respaced) DDPM steps.
        steps: usize = steps(100);
        /// The image's guidance scale ζ (0 when the measurement is off).
        scale: f64 = set(super::Dps::default_scale_for(kind, steps), 0.0..=1e4), show = show::places4;
        /// Adam's learning rate for the kernel.
        kernel_lr: f64 = set(1e-2, 1e-8..=1.0);
        /// Whether the measurement is used at all (without it the kernel never moves).
        measure: bool = measure(), show = show::hidden;
    }
    check = BlindDps::measure_off;
}

impl BlindDps {
    /// `measure=0` switches the guidance off: ζ = 0 (plain DDPM sampling, the kernel fixed).
    fn measure_off(&mut self) -> Result<()> {
        if !self.measure {
            self.scale = 0.0;
        }
        Ok(())
    }
}

impl Solver for BlindDps {
    solver_params!(@solver);

    fn start<'a>(&self, p: &Problem<'a>, seed: u64) -> Result<Run<'a>> {
        let (p, scale) = (*p, self.scale);
        let shape = check_blind_problem(&p)?;
        let phi = p.op.unknown().ok_or_else(|| {
            Error::Input(format!(
                "blind-dps estimates an unknown blur kernel, and {} is fully known: \
                 give --task deblur-blind:size=K, or use dps for a known operator",
                p.op.describe()
            ))
        })?;
        let phi = phi.detach();
        let learned = p.model.learns_variance();
        let mut kadam = Adam::new(p.model.gpu(), phi.shape(), self.kernel_lr as f32)?;
        let tt = timesteps(&p, self.steps)?;
        let x = crate::diffusion::randn(p.model.gpu(), &shape, seed, 0, 1)?;
        let n = tt.len();
        let step = move |x: &Tensor, i: usize| {
            let t = &tt[i];
            let (next, step) = (next_t(&tt, i), i as u32 + 1);
            let sched = p.schedule();
            let ddpm = |x: &Tensor, eps: &Tensor, var: Option<Tensor>| match var {
                Some(v) if learned => sampler_step_learned(x, eps, &v, sched, t.t, next, seed, step),
                _ => sampler_step(x, eps, sched, t.t, next, Sampler::Ddpm, seed, step),
            };
            if scale == 0.0 {
                let (eps, var) = p.model.eps_and_variance(x, t)?;
                let x0 = tweedie(sched, x, &eps, t.t, true)?;
                let x = ddpm(x, &eps, var)?;
                return Ok(Stepped { x, x0: Some(x0) });
            }
            let x = &x.tracked();
            let k = phi.tracked();
            let (eps, var) = p.model.eps_and_variance(x, t)?;
            let x0 = tweedie(sched, x, &eps, t.t, true)?;
            let r = ops::axpby(1.0, p.y, -1.0, &p.op.forward_with(&x0, &k)?)?;
            let ss = ops::sumsq_rows(&r, x.shape()[0])?;
            // d‖r‖/d‖r‖² = 1 / (2‖r‖), times ζ: the cotangent of the per-sample sums of squares
            let cot = ops::pow(&ss, 0.5 * scale as f32, -0.5, 1e-20)?;
            let mut gs = autograd::backward(&ss, &cot, &[x, &k])?.into_iter();
            let gx = gs.next().expect("the image's gradient");
            let gk = gs.next().expect("the kernel's gradient");
            let xs = ddpm(x, &eps, var)?;
            kadam.step(&phi, &gk)?;
            ops::project_simplex(&phi, 1)?;
            Ok(Stepped {
                x: ops::axpby(1.0, &xs, -1.0, &gx)?,
                x0: Some(x0),
            })
        };
        Ok(Run::new(Self::NAME, p.model.gpu(), x, n, step, None))
    }
}
