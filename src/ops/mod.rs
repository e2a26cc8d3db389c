//! Tensor operations: one file per kernel family, each launching the kernels of one WGSL file.
//! Every op has a plain-Rust reference in [`reference`](mod@reference) that the tests hold the kernels against.
//! A differentiable op's backward rule is a type in its file implementing
//! [`BackwardOp`](crate::tensor::BackwardOp), which the op attaches to its output; the backward
//! kernels' launchers are in `backward.rs`.

pub(crate) mod attention;
mod backward;
mod cg;
mod conv;
mod elementwise;
mod fft;
mod grad;
mod matmul;
mod norm;
mod optim;
pub mod particles;
pub mod random;
mod reduce;
pub mod reference;
pub mod reference_grad;
mod sampler;
mod spectral;
mod texture;
mod transformer;

// every public item of the op files, so a new op needs no line here
pub use attention::*;
pub use backward::*;
pub use cg::*;
pub use conv::*;
pub use elementwise::*;
pub use fft::*;
pub use matmul::*;
pub use norm::*;
pub use optim::*;
pub use reduce::*;
pub use sampler::*;
pub use spectral::*;
pub(crate) use spectral::{check as spectral_check, launch as spectral_launch};
pub use texture::*;
pub use transformer::*;

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Errors unless both tensors live on the same device.
pub(crate) fn same_device(a: &Tensor, b: &Tensor) -> Result<()> {
    if !std::sync::Arc::ptr_eq(&a.gpu().inner, &b.gpu().inner) {
        return Err(Error::Shape("tensors live on different devices".into()));
    }
    Ok(())
}

/// Converts a size to the u32 a kernel takes, with an error past 2^32.
pub(crate) fn u32_of(v: usize, what: &str) -> Result<u32> {
    u32::try_from(v).map_err(|_| Error::TooLarge {
        what: what.to_string(),
        bytes: v as u64,
        limit: u32::MAX as u64,
    })
}
