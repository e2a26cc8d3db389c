//! Blind deblurring: a blur whose kernel φ is not known and is estimated with the image
//! (`deblur-blind`, solved by Blind RED-Diff).

use super::{Linear, Operator, View, kernel_picture};
use crate::error::Result;
use crate::gpu::Gpu;
use crate::io::Image;
use crate::ops::{self, Conv2dSpec};
use crate::tensor::Tensor;

/// A same-size, zero-padded blur of every channel by an unknown `size`×`size` kernel φ. φ lives on
/// the device as `[1, 1, size, size]`, starts at a centred Gaussian (or a delta) and is updated in
/// place by a blind solver ([`Operator::unknown`]); [`Operator::forward`] blurs with its current
/// value and [`Operator::forward_with`] with any φ, differentiably in both arguments.
pub struct BlindBlur {
    kernel: Tensor,
    size: usize,
    x_shape: [usize; 3],
    desc: String,
}

impl BlindBlur {
    /// For images `[C, H, W]`, kernel side `size` (odd), starting at the normalised Gaussian of
    /// standard deviation `init_sigma` (a delta when `init_sigma` is 0).
    pub fn new(gpu: &Gpu, x_shape: [usize; 3], size: usize, init_sigma: f64, desc: String) -> Result<Self> {
        let k = if init_sigma > 0.0 {
            super::gaussian_kernel(size, init_sigma)
        } else {
            let mut d = vec![0f32; size * size];
            d[size * size / 2] = 1.0;
            d
        };
        Ok(BlindBlur {
            kernel: Tensor::from_slice(gpu, &[1, 1, size, size], &k)?,
            size,
            x_shape,
            desc,
        })
    }

    fn spec(&self) -> Conv2dSpec {
        Conv2dSpec::new(1, self.size / 2)
    }
}

impl Operator for BlindBlur {
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
        self.forward_with(x, &self.kernel)
    }
    fn forward_with(&self, x: &Tensor, phi: &Tensor) -> Result<Tensor> {
        phi.expect_shape(&[1, 1, self.size, self.size], "the blur kernel")?;
        let b = x.shape()[0];
        let [c, h, w] = self.x_shape;
        let t = x.reshape(&[b * c, 1, h, w])?;
        ops::conv2d(&t, phi, None, self.spec())?.reshape(&[b, c, h, w])
    }
    fn trivial(&self, y: &Tensor) -> Result<Tensor> {
        Ok(y.clone())
    }
    fn unknown(&self) -> Option<&Tensor> {
        Some(&self.kernel)
    }
    fn linear(&self) -> Option<&dyn Linear> {
        Some(self)
    }
}

impl View for BlindBlur {
    /// The kernel's current estimate (read from the device).
    fn extras(&self) -> Vec<(String, Image)> {
        match self.kernel.to_vec() {
            Ok(k) => vec![(
                "kernel".to_string(),
                Image {
                    channels: 1,
                    height: self.size,
                    width: self.size,
                    data: kernel_picture(&k),
                },
            )],
            Err(_) => Vec::new(),
        }
    }
}

impl Linear for BlindBlur {
    fn adjoint(&self, y: &Tensor) -> Result<Tensor> {
        let b = y.shape()[0];
        let [c, h, w] = self.x_shape;
        let t = y.reshape(&[b * c, 1, h, w])?;
        ops::conv2d_backward_input(&t, &self.kernel, &[b * c, 1, h, w], self.spec())?.reshape(&[b, c, h, w])
    }
}
