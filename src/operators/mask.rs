//! Inpainting: `y = m ⊙ x` with a 0/1 mask shared by the channels.

use super::svd::{Diagonal, Svd};
use super::{Linear, Operator, View};
use crate::error::Result;
use crate::gpu::Gpu;
use crate::ops;
use crate::tensor::Tensor;

/// Inpainting with a fixed mask (1 = observed). `A` is a projector, so `Aᵀ = A⁺ = A`.
pub struct Inpaint {
    x_shape: [usize; 3],
    mask: Tensor,
    host: Vec<f32>,
    desc: String,
    svd: Diagonal,
}

impl Inpaint {
    /// `pixel_mask` is `H * W` values, 1 where the pixel is observed.
    pub fn new(gpu: &Gpu, x_shape: [usize; 3], pixel_mask: &[f32], desc: String) -> Result<Self> {
        let [c, _, _] = x_shape;
        let host: Vec<f32> = (0..c).flat_map(|_| pixel_mask.iter().copied()).collect();
        Ok(Inpaint {
            x_shape,
            mask: Tensor::from_slice(gpu, &[host.len()], &host)?,
            svd: Diagonal::new(gpu, &host)?,
            host,
            desc,
        })
    }
}

impl Operator for Inpaint {
    fn describe(&self) -> String {
        self.desc.clone()
    }
    fn x_shape(&self) -> [usize; 3] {
        self.x_shape
    }
    fn y_shape(&self) -> Vec<usize> {
        self.x_shape.to_vec()
    }
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        ops::mul_bcast(x, &self.mask)
    }
    fn linear(&self) -> Option<&dyn Linear> {
        Some(self)
    }
}

impl View for Inpaint {
    fn observation_image(&self, y: &Tensor) -> Result<Option<Tensor>> {
        // missing pixels black (-1)
        let v = y.to_vec()?;
        let n = self.host.len();
        let out: Vec<f32> = v
            .iter()
            .enumerate()
            .map(|(i, &a)| if self.host[i % n] > 0.5 { a } else { -1.0 })
            .collect();
        Ok(Some(Tensor::from_slice(y.gpu(), y.shape(), &out)?))
    }
    fn measurement_from_image(&self, img: &Tensor) -> Result<Tensor> {
        self.forward(img)
    }
}

impl Linear for Inpaint {
    fn adjoint(&self, y: &Tensor) -> Result<Tensor> {
        ops::mul_bcast(y, &self.mask)
    }
    fn pinv(&self, y: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(ops::mul_bcast(y, &self.mask)?))
    }
    fn svd(&self) -> Result<Option<&dyn Svd>> {
        Ok(Some(&self.svd))
    }
}
