//! Blind deblurring: a blur whose kernel φ is not known and is estimated with the image
//! (`deblur-blind`, solved by Blind RED-Diff).

use super::{Caps, Described, Kind, Linear, Operator, Picture, Resolved, TaskEntry, View, kernel_picture};
use crate::error::Result;
use crate::gpu::Gpu;
use crate::ops::{self, Conv2dSpec};
use crate::tensor::Tensor;

/// `deblur-blind`: a blur whose kernel the solver (Blind RED-Diff) estimates. It makes no
/// observations (it has no kernel to blur with) and restores those of a known blur of its size.
pub(super) const DEBLUR_BLIND: TaskEntry = TaskEntry {
    name: "deblur-blind",
    about: "`size` 9 (61), `init_sigma` size/6 (0: a delta): the kernel is unknown, estimated by `blind-red-diff`, `blind-dps` or `gibbs-ddrm`",
    keys: &["size", "init_sigma"],
    caps: Caps {
        blind: true,
        ..Caps::linear(Kind::Deblurring { motion: false })
    },
    rgb_only: false,
    picture: Picture::Exact,
    resolve: |spec, x_shape @ [_, h, w]| {
        let size = spec.usize("size", if super::big(x_shape) { 61 } else { 9 }, 1)?;
        let init_sigma = spec.f64(
            "init_sigma",
            size as f64 / 6.0,
            |s| s == 0.0 || (0.1..=1000.0).contains(&s),
            "0 (a delta) or in [0.1, 1000] (pixels)",
        )?;
        super::odd_kernel(&spec.name, size, h, w)?;
        let known = size.to_string();
        Ok(Resolved::new(
            &[("size", &size), ("init_sigma", &init_sigma)],
            move |gpu, x_shape, task| Ok(Box::new(BlindBlur::new(gpu, x_shape, size, init_sigma, task)?)),
        )
        .refuse_measuring(format!(
            "deblur-blind has no kernel to blur with (it is the task of estimating one): degrade with \
             deblur-gauss:size={size} or deblur-motion:size={size}, then restore with --task deblur-blind:size={size} --solver blind-red-diff (or blind-dps, gibbs-ddrm)"
        ))
        .restores(move |made| {
            let c = made.caps();
            matches!(c.kind, Kind::Deblurring { .. }) && !c.blind && made.value("size") == Some(known.as_str())
        }))
    },
};

/// A same-size, zero-padded blur of every channel by an unknown `size`×`size` kernel φ. φ lives on
/// the device as `[1, 1, size, size]`, starts at a centred Gaussian (or a delta) and is updated in
/// place by a blind solver ([`Operator::unknown`]); [`Operator::forward`] blurs with its current
/// value and [`Operator::forward_with`] with any φ, differentiably in both arguments.
pub struct BlindBlur {
    kernel: Tensor,
    size: usize,
    x_shape: [usize; 3],
    task: Described,
}

impl BlindBlur {
    /// For images `[C, H, W]`, kernel side `size` (odd), starting at the normalised Gaussian of
    /// standard deviation `init_sigma` (a delta when `init_sigma` is 0).
    pub fn new(
        gpu: &Gpu,
        x_shape: [usize; 3],
        size: usize,
        init_sigma: f64,
        task: Described,
    ) -> Result<Self> {
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
            task,
        })
    }

    fn spec(&self) -> Conv2dSpec {
        Conv2dSpec::new(1, self.size / 2)
    }
}

impl Operator for BlindBlur {
    described!();
    fn x_shape(&self) -> [usize; 3] {
        self.x_shape
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
    fn extras(&self) -> Result<Vec<(String, Tensor)>> {
        let k = self.kernel.to_vec()?;
        Ok(vec![(
            "kernel".to_string(),
            kernel_picture(self.kernel.gpu(), &k, self.size)?,
        )])
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
