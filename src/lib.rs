//! tweedie: diffusion models as priors for imaging inverse problems, on any GPU through wgpu and
//! hand-written WGSL compute shaders.
//!
//! Layers (each uses only the ones before it): [`gpu`] (runtime), [`tensor`] and [`ops`] (kernels),
//! [`nn`] (layers), [`models`] (the diffusers UNet), and the front ends in the binary.

pub mod autograd;
pub mod diffusion;
pub mod error;
pub mod gpu;
pub mod io;
pub mod metrics;
pub mod models;
pub mod nn;
pub mod operators;
pub mod ops;
pub mod solvers;
pub mod tensor;

pub use error::{Error, Result};
pub use gpu::Gpu;
pub use tensor::Tensor;
