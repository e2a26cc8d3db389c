//! Tensor operations: one file per kernel family, each launching the kernels of one WGSL file.
//! Every op has a plain-Rust reference in [`reference`](mod@reference) that the tests hold the kernels against.

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
mod spectral;
mod texture;

pub use attention::{AttentionSpec, attention};
pub use backward::{
    channel_sum, clamp_backward, col_sum, conv2d_backward_input, conv2d_backward_weight, group_norm_backward,
    matmul_backward, rows_scale, silu_backward, softmax_backward, split_channels, upsample2x_backward,
};
pub use cg::{axpy_ratio, cg, cg_floored, dot_rows};
pub use conv::{Conv2dSpec, PackedWeights, conv2d, conv2d_packed};
pub use elementwise::{
    add, add_bcast, affine, avg_pool2x, axpby, clamp, concat_channels, fill, film, mul, mul_bcast,
    narrow_channels, pow, scale, silu, timestep_embedding, timestep_freq_table, upsample_nearest2x,
};
pub use fft::{MAX_FFT_SIDE, cabs, cabs_backward, crop_real, embed_complex, fft2};
pub use matmul::{MatmulSpec, linear, matmul};
pub use norm::{group_norm, softmax_rows};
pub use optim::{Adam, project_simplex};
pub use reduce::{sum_rows, sumsq_rows};
pub use spectral::{Spectral, spectral_gain};
pub(crate) use spectral::{check as spectral_check, launch as spectral_launch};
pub use texture::{tensor_to_texture, texture_to_tensor};

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
