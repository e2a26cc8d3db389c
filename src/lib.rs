//! tweedie: diffusion models as priors for imaging inverse problems, on any GPU through wgpu and
//! hand-written WGSL compute shaders.
//!
//! Layers, lowest first: a module uses only modules of earlier layers (`tests/layers.rs` reads this
//! list and checks every `crate::` path in `src/` against it).
//! 1. [`error`]
//! 2. [`gpu`] (the runtime), [`io`] (images, safetensors, file checks), [`plot`] (charts)
//! 3. [`pt`] (PyTorch checkpoints), [`metrics`] (PSNR, SSIM)
//! 4. [`tensor`]
//! 5. [`ops`] (kernels and their backward rules)
//! 6. [`autograd`] (the reverse pass over the graph on the tensors)
//! 7. [`nn`] (layers)
//! 8. [`diffusion`] (the [`diffusion::Denoiser`] interface, schedules, samplers)
//! 9. [`models`] (the diffusers and guided-diffusion UNets)
//! 10. [`operators`]
//! 11. [`solvers`]
//! 12. [`prior`] (what a command samples and restores with: a pixel model, or a latent one with its
//!     autoencoder from a pipeline folder)
//! 13. [`eval`] (sweeps)
//! 14. [`app`] (what the command line does, callable by a host); then the binary.
//!
//! Embedding in a host wgpu application: [`Gpu::from_device`] wraps the host's device (any limits at
//! or above `wgpu::Limits::default()`), [`Tensor::from_buffer`] and [`ops::texture_to_tensor`] /
//! [`ops::tensor_to_texture`] move data without the CPU, and [`solvers::Solver::start`] gives a
//! [`solvers::Run`] the host advances one step at a time ([`solvers::OwnedRun`]: the same run owning
//! the model, operator and measurements, `Send`, for a worker thread). See `examples/embed.rs` and the README's
//! "Embedding" section for what a host must do to share the device.

#![warn(missing_docs)]

// the command line's commands (files, clap's argument types): native only
#[cfg(not(target_arch = "wasm32"))]
pub mod app;
pub mod autograd;
pub mod diffusion;
pub mod error;
// sweeps that write files and charts: native only
#[cfg(not(target_arch = "wasm32"))]
pub mod eval;
pub mod gpu;
pub mod io;
pub mod metrics;
pub mod models;
pub mod nn;
pub mod operators;
pub mod ops;
#[cfg(not(target_arch = "wasm32"))]
pub mod plot;
pub mod prior;
pub mod pt;
pub mod solvers;
pub mod tensor;

pub use error::{Error, Result, Setting};
pub use gpu::Gpu;
pub use tensor::Tensor;
/// The wgpu tweedie is built on, for hosts that share its device and want the same version.
pub use wgpu;
