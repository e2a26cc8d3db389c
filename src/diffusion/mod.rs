//! The diffusion core: the [`Denoiser`] interface every prior offers, noise schedules, timestep respacing, Tweedie's formula, the DDPM and DDIM
//! updates as one fused WGSL kernel, and the counter-based Gaussian stream on the GPU.

mod denoiser;
mod random;
mod sampler;
mod schedule;

pub use denoiser::{Denoiser, GaussianDenoiser, Timestep};
pub use random::{philox4x32_10, randn, randn_host};
pub use sampler::{
    MIN_SAMPLE_STEPS, Sampler, check_finite, sample, sampler_step, sampler_step_learned, step_coefficients,
};
pub use schedule::{Schedule, respace, respace_quad};
