//! Compressed sensing: per channel, random signs, an orthonormal Walsh–Hadamard transform and a
//! random subset of its rows, as a dense `m × HW` matrix on the device.

use super::Operator;
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::ops::{self, MatmulSpec};
use crate::tensor::Tensor;

/// `A = S H D` on each channel (H·W a power of two, at most 65,536 values). Its rows are orthonormal,
/// so `A Aᵀ = I` and `A⁺ = Aᵀ`.
pub struct WalshHadamard {
    mat: Tensor,
    x_shape: [usize; 3],
    m: usize,
    ratio: f64,
    seed: u64,
}

impl WalshHadamard {
    /// `ratio` of the H·W measurements per channel, rows and signs drawn from `seed`.
    pub fn new(gpu: &Gpu, x_shape: [usize; 3], ratio: f64, seed: u64) -> Result<Self> {
        let n = x_shape[1] * x_shape[2];
        if !n.is_power_of_two() || n > 65536 {
            return Err(Error::Input(format!(
                "cs needs images whose height x width is a power of two up to 65536; these have {n}"
            )));
        }
        if !(ratio > 0.0 && ratio <= 1.0) {
            return Err(Error::Input(format!("cs ratio={ratio} must be in (0, 1]")));
        }
        let m = ((ratio * n as f64).round() as usize).max(1);
        let key = [seed as u32, (seed >> 32) as u32];
        let rnd = |i: u32, s: u32| crate::diffusion::philox4x32_10([i, 0, s, 0], key)[0];
        // Fisher–Yates on the row indices, then keep the first m
        let mut rows: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = rnd(i as u32, 11) as usize % (i + 1);
            rows.swap(i, j);
        }
        let signs: Vec<f32> = (0..n)
            .map(|j| if rnd(j as u32, 12) & 1 == 0 { 1.0 } else { -1.0 })
            .collect();
        let scale = 1.0 / (n as f32).sqrt();
        let mut mat = vec![0f32; m * n];
        for (r, &row) in rows[..m].iter().enumerate() {
            for j in 0..n {
                let h = if (row & j).count_ones() % 2 == 0 {
                    scale
                } else {
                    -scale
                };
                mat[r * n + j] = h * signs[j];
            }
        }
        Ok(WalshHadamard {
            mat: Tensor::from_slice(gpu, &[m, n], &mat)?,
            x_shape,
            m,
            ratio,
            seed,
        })
    }
}

impl Operator for WalshHadamard {
    fn describe(&self) -> String {
        format!("cs:ratio={},seed={}", self.ratio, self.seed)
    }
    fn x_shape(&self) -> [usize; 3] {
        self.x_shape
    }
    fn y_shape(&self) -> Vec<usize> {
        vec![self.x_shape[0], self.m]
    }
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let b = x.shape()[0];
        let [c, h, w] = self.x_shape;
        ops::linear(&x.reshape(&[b * c, h * w])?, &self.mat, None)?.reshape(&[b, c, self.m])
    }
    fn adjoint(&self, y: &Tensor) -> Result<Tensor> {
        let b = y.shape()[0];
        let [c, h, w] = self.x_shape;
        let n = h * w;
        ops::matmul(
            &y.reshape(&[b * c, self.m])?,
            &self.mat,
            None,
            MatmulSpec::contiguous(1, b * c, n, self.m),
        )?
        .reshape(&[b, c, h, w])
    }
    fn pinv(&self, y: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(self.adjoint(y)?))
    }
    fn observation_image(&self, _y: &Tensor) -> Result<Option<Tensor>> {
        Ok(None)
    }
    fn measurement_from_image(&self, _img: &Tensor) -> Result<Tensor> {
        Err(Error::Input(
            "compressed-sensing measurements are not images: pass the .safetensors file written by degrade"
                .into(),
        ))
    }
}
