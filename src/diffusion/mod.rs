//! The diffusion core: the [`Denoiser`] interface every prior offers, noise schedules and their
//! transitions ([`Schedule::transition`]), timestep respacing, forward noising ([`q_sample`]) and
//! Tweedie's estimate with its clamp ([`tweedie`]), the DDPM and DDIM updates as one fused WGSL
//! kernel, and the counter-based Gaussian stream on the GPU.

mod denoiser;
mod process;
mod random;
mod sampler;
mod schedule;

pub use denoiser::{Denoiser, GaussianDenoiser, Timestep};
pub use process::{clamp_x0, eps_from_x0, q_sample, q_sample_from, tweedie, tweedie_ve};
pub use random::{philox4x32_10, randn, randn_host};
pub use sampler::{
    MIN_SAMPLE_STEPS, Sampler, check_finite, sample, sampler_step, sampler_step_learned, step_coefficients,
};
pub use schedule::{Prediction, Schedule, Transition, respace, respace_quad};
