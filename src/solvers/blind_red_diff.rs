//! Blind RED-Diff: RED-Diff with the forward model's unknown parameters φ (a blur kernel) fitted
//! jointly with the image.
//!
//! Alkan, Oscanoa, Abraham, Gao, Nurdinova, Setsompop, Pauly, Mardani, Vasanawala, "Variational
//! Diffusion Models for Blind MRI Inverse Problems", NeurIPS 2023 Workshop on Deep Learning and
//! Inverse Problems, and the survey's §"Blind RED-Diff"; the image update is RED-Diff's
//! (NVlabs/RED-diff `algos/reddiff.py`, see [`super::RedDiff`]). Each timestep, from high to low:
//!
//! ```text
//! x_t   = sqrt(ᾱ_t) μ + sqrt(1−ᾱ_t) ε
//! loss  = ‖y − A_φ μ‖² / (2m)  +  λ ω_t ⟨sg(ε_θ(x_t, t) − ε), μ⟩ / d
//! μ    ← Adam_μ(μ, ∇_μ loss)                    (RED-Diff's rate and λ)
//! φ    ← Π_Δ(Adam_φ(φ, ∇_φ loss))               (joint step; Π_Δ: projection onto the simplex)
//! ```
//!
//! Both gradients come from one pass of the tape through `A_φ μ` (the blur's input and weight
//! gradients). The kernel's regulariser is the constraint alone: φ stays non-negative and sums to
//! one (the Euclidean projection, computed on the device), a stated simple choice in place of the
//! workshop paper's MRI coil-map parametrisation. φ starts at the task's centred Gaussian
//! (`deblur-blind:init_sigma=…`, size/6 by default; 0 starts from a delta) and is updated in the
//! operator in place, so `restore` saves the estimate beside the output (`.kernel.png`); a second
//! run on the same operator starts from the last estimate. One kernel serves the whole batch:
//! images restored together must share their blur.
//!
//! Defaults: RED-Diff's (λ = 0.25, its few-step learning rate for μ), 100 steps, kernel learning
//! rate 1e-2 (Adam's step is about the rate per entry; entries of a 9×9 kernel are ~1e-2 to 0.2).
//! Tuned with `examples/blind_deblur.rs` on test images 0–1, 50 steps, σ_y = 0.02 (μ's rate then
//! 0.25, before RED-Diff's few-step rule settled at 0.2), 9×9 kernels
//! starting at Gaussian σ 1.5 (PSNR blind / kernel relative error at the end, for Gaussian σ 1.0,
//! σ 2.0, motion): rate 1e-3 → 22.85 / 0.36, 19.44 / 0.40, –; 5e-3 → 23.70 / 0.20, 19.80 / 0.31,
//! 21.70 / 0.55; 1e-2 → 23.72 / 0.18, 20.02 / 0.27, 22.20 / 0.49; 2e-2 → 23.46 / 0.21,
//! 20.14 / 0.24, 22.69 / 0.44 (observations 18.17, 14.58, 15.21 dB; RED-Diff with the true kernel
//! 24.11, 20.64, 23.53; kernel error at the start 0.46, 0.42, 0.74).
//! `--set lr=…,lambda=…,kernel_lr=…,measure=0|1`.

use super::params::show;
use super::red_diff::{RedFit, initial_mean};
use super::{Problem, RedDiff, Run, Solver, Stepped, check_blind_problem, timesteps};
use crate::error::{Error, Result};
use crate::ops::{self, Adam};
use crate::solver_params;
use crate::tensor::Tensor;

solver_params! {
    /// Blind RED-Diff with Adam on the image and on the kernel.
    pub struct BlindRedDiff("blind-red-diff") {
        /// Number of timesteps (one joint step each).
        steps: usize = steps(100);
        /// Adam's learning rate for μ.
        lr: f64 = set(RedDiff::default_lr(steps), 1e-6..=1e3), show = show::places4;
        /// λ, the weight of the denoising regulariser.
        lambda: f64 = set(0.25, 0.0..=1e4);
        /// Adam's learning rate for the kernel.
        kernel_lr: f64 = set(1e-2, 1e-8..=1.0);
        /// Whether the data term is used (without it the kernel never moves).
        measure: bool = measure(), show = show::hidden;
    }
}

impl Solver for BlindRedDiff {
    solver_params!(@solver);

    fn start<'a>(&self, p: &Problem<'a>, seed: u64) -> Result<Run<'a>> {
        let p = *p;
        let shape = check_blind_problem(&p)?;
        let phi = p.op.unknown().ok_or_else(|| {
            Error::Input(format!(
                "blind-red-diff estimates an unknown blur kernel, and {} is fully known: \
                 give --task deblur-blind:size=K, or use red-diff for a known operator",
                p.op.describe()
            ))
        })?;
        let phi = phi.detach();
        let mu = initial_mean(&p)?;
        let mut fit = RedFit::new(&p, &shape, self.lr, self.lambda, self.measure)?;
        let mut kadam = Adam::new(p.model.gpu(), phi.shape(), self.kernel_lr as f32)?;
        let tt = timesteps(&p, self.steps)?;
        let n = tt.len();
        let step = move |mu: &Tensor, i: usize| {
            let prior = fit.prior_grad(&p, mu, &tt[i], seed, i as u32 + 1)?;
            let g = match fit.data_grad(&p, mu, Some(&phi))? {
                None => prior,
                Some((gm, gk)) => {
                    let gk = gk.expect("the kernel's gradient");
                    kadam.step(&phi, &gk)?;
                    ops::project_simplex(&phi, 1)?;
                    ops::add(&prior, &gm)?
                }
            };
            fit.adam_step(mu, &g)?;
            Ok(Stepped {
                x: mu.clone(),
                x0: Some(mu.clone()),
            })
        };
        Ok(Run::new(Self::NAME, p.model.gpu(), mu, n, step, None))
    }
}
