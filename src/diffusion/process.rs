//! The diffusion process on tensors: forward noising ([`q_sample`]) and Tweedie's estimate of x0
//! with its clamp ([`tweedie`], and [`eps_from_x0`] its inverse). The coefficients are the
//! [`Schedule`]'s; every solver forms these through here.

use super::schedule::Schedule;
use crate::error::Result;
use crate::ops;
use crate::tensor::Tensor;

/// Forward noising from x0 to timestep `t`: `x_t = sqrt(ᾱ_t) x0 + sqrt(1 − ᾱ_t) noise`.
pub fn q_sample(sched: &Schedule, x0: &Tensor, t: usize, noise: &Tensor) -> Result<Tensor> {
    q_sample_from(sched, x0, None, t, noise)
}

/// Forward noising from `x_s` at timestep `s` (`None`: from x0) to the later timestep `t`:
/// `x_t = sqrt(ᾱ_t / ᾱ_s) x_s + sqrt(1 − ᾱ_t / ᾱ_s) noise`.
pub fn q_sample_from(
    sched: &Schedule,
    x: &Tensor,
    s: Option<usize>,
    t: usize,
    noise: &Tensor,
) -> Result<Tensor> {
    let (a, b) = sched.q_coefficients(s, t);
    ops::axpby(a as f32, x, b as f32, noise)
}

/// Clamps an estimate of x0 to the data range [-1, 1] when `clamp` is set (differentiable
/// through the clamp).
pub fn clamp_x0(x0: Tensor, clamp: bool) -> Result<Tensor> {
    if clamp { ops::clamp(&x0, -1.0, 1.0) } else { Ok(x0) }
}

/// Tweedie's estimate `x̂0 = (x_t − sqrt(1−ᾱ_t) ε) / sqrt(ᾱ_t)`, clamped to [-1, 1] when `clamp`
/// is set: the clamp policy is the caller's (most follow the schedule's `clip_sample`; DPS always
/// clamps, moment matching never). Differentiable through the clamp.
pub fn tweedie(sched: &Schedule, x: &Tensor, eps: &Tensor, t: usize, clamp: bool) -> Result<Tensor> {
    let (a, b) = sched.x0_coefficients(t);
    clamp_x0(ops::axpby(a as f32, x, b as f32, eps)?, clamp)
}

/// Tweedie's estimate in variance-exploding units: for `x = x_t / sqrt(ᾱ_t)`,
/// `x̂0 = x − σ_t ε` with `σ_t = sqrt((1 − ᾱ_t) / ᾱ_t)`, clamped as [`tweedie`].
pub fn tweedie_ve(sched: &Schedule, x: &Tensor, eps: &Tensor, t: usize, clamp: bool) -> Result<Tensor> {
    clamp_x0(ops::axpby(1.0, x, -sched.ve_sigma(Some(t)) as f32, eps)?, clamp)
}

/// The noise that takes `x0` to `x_t` at timestep `t`, `ε = (x_t − sqrt(ᾱ_t) x0) / sqrt(1 − ᾱ_t)`
/// (the inverse of [`tweedie`]).
pub fn eps_from_x0(sched: &Schedule, x: &Tensor, x0: &Tensor, t: usize) -> Result<Tensor> {
    let ab = sched.alpha_bar(Some(t));
    ops::axpby(
        (1.0 / (1.0 - ab).sqrt()) as f32,
        x,
        (-(ab / (1.0 - ab)).sqrt()) as f32,
        x0,
    )
}
