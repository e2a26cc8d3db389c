//! Diffusion Posterior Sampling (DPS).
//!
//! Chung, Kim, Mccann, Klasky, Ye, "Diffusion Posterior Sampling for General Noisy Inverse Problems",
//! ICLR 2023; official code DPS2022/diffusion-posterior-sampling (`guided_diffusion/condition_methods.py`,
//! `PosteriorSampling`; `gaussian_diffusion.py`, `p_sample_loop`; `configs/*.yaml`).
//!
//! Each step from `t` to the next timestep `s`:
//!
//! ```text
//! ε      = ε_θ(x_t, t)
//! x̂0     = clamp((x_t − sqrt(1−ᾱ_t) ε) / sqrt(ᾱ_t), −1, 1)          (Tweedie, clip_denoised)
//! x'     = DDPM ancestral step from x_t with x̂0                      (posterior mean + σ z)
//! x_s    = x' − ζ ∇_{x_t} Σ_i ‖y_i − A(x̂0(x_t))_i‖                    (per-sample, un-squared norm)
//! ```
//!
//! As in the official code the norm is not squared: ∇‖r‖ = ∇‖r‖² / (2‖r‖), which is the paper's
//! step ζ_i = ζ'/‖r‖ in disguise; the gradient flows through the clamp. Defaults of the official
//! configs for 1000 steps: ζ = 0.5 for inpainting, 0.4 for phase retrieval, 0.3 for super-resolution
//! and Gaussian or motion deblurring (σ_y = 0.05); tasks the official configs do not cover
//! (denoising, colorization, compressed sensing, HDR) take 0.3.
//!
//! Variance of the DDPM step (`--set variance=learned|fixed`): the official code samples with the
//! FFHQ / ImageNet model's learned variance (`model_var_type: learned_range`): the model's last C
//! outputs interpolate the log-variance between the posterior variance and β
//! ([`crate::diffusion::sampler_step_learned`]). That is the default for a model that learns its
//! variance (a guided-diffusion checkpoint with `learn_sigma`); other models, and `variance=fixed`,
//! use the fixed "small" DDPM variance.
//!
//! Fewer steps: the guidance is applied once per step, so with S < 1000 steps the default ζ is scaled
//! by (1000 / S)^γ, γ = 0.85 for super-resolution, 0.675 for deblurring and 0.5 for the other tasks.
//! Measured on the first (433-step) bundled prior, test images 0–3, σ_y = 0.05, S = 20 (mean PSNR;
//! trivial estimate in brackets): ×4 SR [14.8 dB]: ζ = 0.5 → 12.6, 2.1 (γ 0.5) → 15.5, 4 → 17.6,
//! 8 (γ 0.85) → 18.9, 15 (γ 1) → 18.5; box inpainting [14.1 dB]: ζ = 3.5 (γ 0.5) → 17.4, 12 → 16.4.
//! Re-measured with the 2,750-step prior on the same images: box ζ = 3.54 / 7.0 / 13.9 → 19.63 /
//! 18.74 / 17.35; SR ζ = 2.12 / 8.3 / 15 → 18.56 / 19.54 / 19.08 (both rules stand); deblurring
//! ζ = 2.12 (γ 0.5) / 4.2 / 8.3 → 21.43 / 22.10 / 20.35, and on held-out images 4–7 ζ = 2.12 → 18.91,
//! 4.2 → 19.19, so deblurring now takes γ = 0.675 (ζ = 4.2 at 20 steps). `--set scale=ζ` overrides it;
//! `scale=0` (or `measure=0`, as for every solver) switches the guidance off (plain DDPM sampling).
//! The residual norm and the step size stay on the device: nothing is read back inside the loop
//! except a NaN check every 50 steps.
//!
//! Poisson measurements (`--set poisson=R`, which `restore` sets from an observation made with
//! `degrade --noise poisson:rate=R`; [`crate::operators::noise`] says how y is scaled): the paper's
//! shot-noise likelihood (Sec. 3.2, Poisson noise; Algorithm 2) replaces ‖y − A x̂0‖ by the weighted
//! norm ‖y − A x̂0‖_Λ, Λ = diag(1 / 2y_j) — the Gaussian approximation of the counts, whose
//! variance is the count — in the same un-squared step as the Gaussian case:
//!
//! ```text
//! u_j    = max((y_j + 1) / 2, 1/4)                  observed intensity, floored at a quarter of white
//! w_j    = (1 / u_j) / mean_k(1 / u_k)              Λ's weights, mean 1 over the batch
//! x_s    = x' − ζ ∇_{x_t} Σ_i ‖ sqrt(w) ⊙ (y_i − A(x̂0(x_t))_i) ‖
//! ```
//!
//! The counts start at black (y = −1), so the variance is the intensity (y + 1)/2, not |y| in
//! [-1, 1] units. The official code's Poisson branch (`condition_methods.py`,
//! `ConditioningMethod.grad_and_value`) divides the unweighted norm by |y| in [-1, 1] units and
//! averages: a constant factor mean(1/|y_j|) on the Gaussian step, which at our few-step ζ
//! overshoots (measured, images 4–7, ×4 SR / box / Gaussian deblurring at rate 1, 20 steps, that
//! factor floored at one photon: 13.4 / 10.5 / 15.1 dB against the trivial 15.0 / 17.4 / 15.9). The
//! paper's Λ with only a one-photon floor puts the whole normalised step on the darkest pixels
//! (13.5 / 11.5 / 15.7 dB). Flooring the intensity at 1/4 keeps the weights within 4× of each
//! other; chosen on images 0–3 from 1/4, 1/2 and 1 (1 = unweighted, the Gaussian step): mean PSNR
//! 19.16 / 19.41 / 22.09, 19.11 / 19.36 / 21.81, 19.00 / 19.16 / 21.80 (trivial 14.82 / 14.07 /
//! 15.57). Normalising the weights to mean 1 keeps ζ's meaning and its Gaussian defaults.

use super::params::{Choice, show};
use super::{Problem, Run, Solver, Stepped, check_problem, next_t, timesteps};
use crate::autograd;
use crate::diffusion::tweedie;
use crate::diffusion::{Sampler, Timestep, sampler_step, sampler_step_learned};
use crate::error::{Error, Result, Setting};
use crate::operators::Kind;
use crate::ops;
use crate::solver_params;
use crate::tensor::Tensor;

solver_params! {
    /// DPS with DDPM ancestral sampling.
    pub struct Dps("dps", kind) {
        /// Number of (respaced) DDPM steps.
        steps: usize = steps(1000);
        /// The guidance scale ζ (0 when the measurement is off).
        scale: f64 = set(Dps::default_scale_for(kind, steps), 0.0..=1e4), show = show::places4;
        /// Whether the measurement is used at all (printed as `scale`: 0 when off).
        measure: bool = measure(), show = show::hidden;
        /// Which variance the DDPM step takes.
        variance: Variance = set(Variance::Auto);
        /// The Poisson rate R of the measurements (`degrade --noise poisson:rate=R`), which
        /// switches the likelihood to the weighted shot-noise form; 0: Gaussian noise of σ_y.
        poisson: f64 = set(0.0, 0.0..=crate::operators::noise::MAX_RATE), show = shown_if_set;
    }
    check = Dps::measure_off;
}

/// The variance of DPS's DDPM step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variance {
    /// The model's learned variance when it has one, else the fixed one.
    Auto,
    /// The model's learned variance (as the official code).
    Learned,
    /// The fixed "small" DDPM posterior variance.
    Fixed,
}

impl Choice for Variance {
    const WORDS: &'static [(&'static str, Self)] = &[
        ("auto", Variance::Auto),
        ("learned", Variance::Learned),
        ("fixed", Variance::Fixed),
    ];
    const EXPECTS: &'static str =
        "learned (the model's own, as the official code) or fixed (the DDPM posterior variance)";
}

impl Dps {
    /// The official default ζ for a problem of `kind` at 1000 steps.
    pub fn default_scale(kind: Kind) -> f64 {
        match kind {
            Kind::Inpainting { .. } => 0.5,
            Kind::PhaseRetrieval => 0.4,
            _ => 0.3,
        }
    }

    /// The exponent γ of the few-step rule ζ_S = ζ_1000 (1000 / S)^γ (see the module notes).
    pub fn few_step_exponent(kind: Kind) -> f64 {
        match kind {
            Kind::SuperResolution => 0.85,
            Kind::Deblurring { .. } => 0.675,
            _ => 0.5,
        }
    }

    /// The default ζ for a problem of `kind` at `steps`: the official value scaled by the
    /// few-step rule.
    pub fn default_scale_for(kind: Kind, steps: usize) -> f64 {
        Self::default_scale(kind) * (1000.0 / steps.max(1) as f64).powf(Self::few_step_exponent(kind))
    }

    /// `measure=0` switches the guidance off: ζ = 0 (plain DDPM sampling).
    fn measure_off(&mut self) -> Result<()> {
        if !self.measure {
            self.scale = 0.0;
        }
        Ok(())
    }
}

impl Solver for Dps {
    solver_params!(@solver);

    fn start<'a>(&self, p: &Problem<'a>, seed: u64) -> Result<Run<'a>> {
        let (p, scale) = (*p, self.scale);
        let shape = check_problem(&p)?;
        let learned = match self.variance {
            Variance::Learned if !p.model.learns_variance() => {
                return Err(Error::setting(
                    Setting::SolverParam("variance=learned".into()),
                    format!(
                        ": {} does not predict its variance; use variance=fixed",
                        p.model.describe()
                    ),
                ));
            }
            Variance::Learned => true,
            Variance::Fixed => false,
            Variance::Auto => p.model.learns_variance(),
        };
        let tt = timesteps(&p, self.steps)?;
        let weights = match self.poisson {
            r if r > 0.0 && scale != 0.0 => Some(poisson_weights(p.y)?),
            _ => None,
        };
        let x = crate::diffusion::randn(p.model.gpu(), &shape, seed, 0, 1)?;
        let n = tt.len();
        let step = move |x: &Tensor, i: usize| {
            let t = &tt[i];
            let (next, step) = (next_t(&tt, i), i as u32 + 1);
            dps_step_weighted(&p, x, t, next, scale, learned, seed, step, weights.as_ref())
        };
        Ok(Run::new(Self::NAME, p.model.gpu(), x, n, step, None))
    }
}

/// One DPS step from `x_t` at timestep `t` to the next timestep: the DDPM ancestral step minus
/// `scale` times the gradient of the per-sample residual norms `Σ_i ‖y_i − A x̂0(x_t)_i‖` through the
/// Tweedie estimate, always clamped (the official `clip_denoised`) (plain DDPM when `scale = 0`);
/// with `learned`, the DDPM step takes the model's learned variance. Shared with MCG, which projects
/// the result.
#[allow(clippy::too_many_arguments)]
pub(crate) fn dps_step(
    p: &Problem,
    x: &Tensor,
    t: &Timestep,
    next: Option<usize>,
    scale: f64,
    learned: bool,
    seed: u64,
    step: u32,
) -> Result<Stepped> {
    dps_step_weighted(p, x, t, next, scale, learned, seed, step, None)
}

/// Shows the Poisson rate only where it is set (Gaussian runs print what they always printed).
fn shown_if_set(v: &f64) -> Option<String> {
    (*v > 0.0).then(|| v.to_string())
}

/// The intensity below which the Poisson weights stop growing (see the module notes).
pub const POISSON_FLOOR: f64 = 0.25;

/// The square roots of the Poisson likelihood's weights for measurements `y`: `sqrt(w_j)`,
/// `w_j ∝ 1 / max((y_j + 1)/2, POISSON_FLOOR)`, the mean of `w` 1 over the batch (see the module
/// notes); on the device, once per run.
pub fn poisson_weights(y: &Tensor) -> Result<Tensor> {
    let u = ops::clamp(&ops::affine(y, 0.5, 0.5)?, POISSON_FLOOR as f32, f32::MAX)?;
    let w = ops::pow(&u, 1.0, -1.0, 0.0)?;
    let n = w.numel() as f32;
    // sqrt(n / Σ w) = 1 / sqrt(mean w)
    let norm = ops::pow(&ops::sum_rows(&w, 1)?, n.sqrt(), -0.5, 0.0)?;
    ops::mul_bcast(&ops::pow(&w, 1.0, 0.5, 0.0)?, &norm)
}

/// [`dps_step`] with the residual weighted elementwise by `sqrt_w` (the Poisson likelihood's
/// [`poisson_weights`]); `None`: unweighted (Gaussian noise).
#[allow(clippy::too_many_arguments)]
pub(crate) fn dps_step_weighted(
    p: &Problem,
    x: &Tensor,
    t: &Timestep,
    next: Option<usize>,
    scale: f64,
    learned: bool,
    seed: u64,
    step: u32,
    sqrt_w: Option<&Tensor>,
) -> Result<Stepped> {
    let sched = p.schedule();
    let ddpm = |x: &Tensor, eps: &Tensor, var: Option<Tensor>| match var {
        Some(v) if learned => sampler_step_learned(x, eps, &v, sched, t.t, next, seed, step),
        _ => sampler_step(x, eps, sched, t.t, next, Sampler::Ddpm, seed, step),
    };
    if scale == 0.0 {
        let (eps, var) = p.model.eps_and_variance(x, t)?;
        let x0 = tweedie(p.schedule(), x, &eps, t.t, true)?;
        let x = ddpm(x, &eps, var)?;
        return Ok(Stepped { x, x0: Some(x0) });
    }
    let x = &x.tracked();
    let (eps, var) = p.model.eps_and_variance(x, t)?;
    let x0 = tweedie(p.schedule(), x, &eps, t.t, true)?;
    let r = ops::axpby(1.0, p.y, -1.0, &p.op.forward(&x0)?)?;
    let r = match sqrt_w {
        Some(w) => ops::mul_bcast(&r, w)?,
        None => r,
    };
    let ss = ops::sumsq_rows(&r, x.shape()[0])?;
    // d‖r‖/d‖r‖² = 1 / (2‖r‖), times ζ: the cotangent of the per-sample sums of squares
    let cot = ops::pow(&ss, 0.5 * scale as f32, -0.5, 1e-20)?;
    let g = autograd::backward(&ss, &cot, &[x])?.remove(0);
    let xs = ddpm(x, &eps, var)?;
    Ok(Stepped {
        x: ops::axpby(1.0, &xs, -1.0, &g)?,
        x0: Some(x0),
    })
}
