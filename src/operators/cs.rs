//! Compressed sensing: per channel, random signs, an orthonormal Walsh–Hadamard transform and a
//! random subset of its rows. The device holds the whole orthogonal matrix `Q = P H D` (rows in the
//! drawn order) as a dense `HW × HW` matrix: `A` is its first `m` rows, and `Q` itself is the `Vᵀ`
//! of the SVD (`U = I`, `Σ = 1` on the first `m` coordinates), as in DDRM's `WalshHadamardCS`.

use super::svd::Svd;
use super::{Caps, Described, Kind, Linear, Operator, Picture, Resolved, TaskEntry, View};
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::ops::{self, MatmulSpec};
use crate::tensor::Tensor;

/// `cs`: compressed sensing with a subsampled, sign-randomised Walsh–Hadamard transform.
pub(super) const CS: TaskEntry = TaskEntry {
    name: "cs",
    about: "`ratio` 0.25, `seed` 0: random signs and a subsampled Walsh–Hadamard transform per channel",
    keys: &["ratio", "seed"],
    caps: Caps::spectral(Kind::Other),
    rgb_only: false,
    picture: Picture::None,
    resolve: |spec, [_, h, w]| {
        let ratio = spec.f64(
            "ratio",
            0.25,
            |r| r > 0.0 && r <= 1.0,
            "in (0, 1] (measurements per pixel)",
        )?;
        let seed = spec.u64("seed", 0)?;
        check_size(h * w)?;
        Ok(Resolved::new(
            &[("ratio", &ratio), ("seed", &seed)],
            move |gpu, x_shape, task| Ok(Box::new(WalshHadamard::new(gpu, x_shape, ratio, seed, task)?)),
        ))
    },
};

/// The transform needs H·W a power of two, at most 65,536.
fn check_size(n: usize) -> Result<()> {
    if !n.is_power_of_two() || n > 65536 {
        return Err(Error::Input(format!(
            "cs needs images whose height x width is a power of two up to 65536; these have {n}"
        )));
    }
    Ok(())
}

/// `A = S H D` on each channel (H·W a power of two, at most 65,536 values). Its rows are orthonormal,
/// so `A Aᵀ = I` and `A⁺ = Aᵀ`.
pub struct WalshHadamard {
    q: Tensor,
    x_shape: [usize; 3],
    m: usize,
    s: Vec<f32>,
    task: Described,
}

impl WalshHadamard {
    /// `ratio` of the H·W measurements per channel, rows and signs drawn from `seed`.
    pub fn new(gpu: &Gpu, x_shape: [usize; 3], ratio: f64, seed: u64, task: Described) -> Result<Self> {
        let n = x_shape[1] * x_shape[2];
        check_size(n)?;
        if !(ratio > 0.0 && ratio <= 1.0) {
            return Err(Error::Input(format!("cs ratio={ratio} must be in (0, 1]")));
        }
        let m = ((ratio * n as f64).round() as usize).max(1);
        // the dense n × n matrix must fit one binding: say so before allocating it on the host
        let (bytes, limit) = ((n * n * 4) as u64, gpu.max_binding_bytes());
        if bytes > limit {
            return Err(Error::TooLarge {
                what: format!(
                    "the {n} x {n} compressed-sensing matrix of {}x{} images",
                    x_shape[1], x_shape[2]
                ),
                bytes,
                limit,
            });
        }
        let key = [seed as u32, (seed >> 32) as u32];
        let rnd = |i: u32, s: u32| crate::ops::random::philox4x32_10([i, 0, s, 0], key)[0];
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
        let mut mat = vec![0f32; n * n];
        for (r, &row) in rows.iter().enumerate() {
            for j in 0..n {
                let h = if (row & j).count_ones() % 2 == 0 {
                    scale
                } else {
                    -scale
                };
                mat[r * n + j] = h * signs[j];
            }
        }
        let mut s = vec![0f32; x_shape[0] * n];
        for ch in 0..x_shape[0] {
            s[ch * n..ch * n + m].fill(1.0);
        }
        Ok(WalshHadamard {
            q: Tensor::from_slice(gpu, &[n, n], &mat)?,
            x_shape,
            m,
            s,
            task,
        })
    }

    /// The first `rows` coordinates of `Q x` for each channel: `[B, C, rows]`.
    fn q_rows(&self, x: &Tensor, rows: usize) -> Result<Tensor> {
        let [c, h, w] = self.x_shape;
        let (n, bc) = (h * w, x.numel() / (h * w));
        let spec = MatmulSpec {
            batch: 1,
            m: bc,
            n: rows,
            k: n,
            a_strides: [0, n, 1],
            b_strides: [0, 1, n],
            alpha: 1.0,
        };
        ops::matmul(x, &self.q, None, spec)?.reshape(&[bc / c, c, rows])
    }

    /// `Q[..rows]ᵀ z` for each channel of `z` `[B, C, rows]`: images `[B, C, H, W]`.
    fn q_rows_t(&self, z: &Tensor, rows: usize) -> Result<Tensor> {
        let [c, h, w] = self.x_shape;
        let bc = z.numel() / rows;
        ops::matmul(z, &self.q, None, MatmulSpec::contiguous(1, bc, h * w, rows))?.reshape(&[bc / c, c, h, w])
    }
}

impl Svd for WalshHadamard {
    fn vt(&self, x: &Tensor) -> Result<Tensor> {
        self.q_rows(x, self.x_shape[1] * self.x_shape[2])?
            .reshape(x.shape())
    }
    fn v(&self, z: &Tensor) -> Result<Tensor> {
        self.q_rows_t(z, self.x_shape[1] * self.x_shape[2])
    }
    fn ut(&self, y: &Tensor) -> Result<Tensor> {
        // Q Aᵀ y = [y; 0]
        self.vt(&self.adjoint(y)?)
    }
    fn u(&self, z: &Tensor) -> Result<Tensor> {
        // A Qᵀ z = z[..m]
        self.forward(&self.v(z)?)
    }
    fn singulars(&self) -> &[f32] {
        &self.s
    }
}

impl Operator for WalshHadamard {
    described!();
    fn x_shape(&self) -> [usize; 3] {
        self.x_shape
    }
    fn y_shape(&self) -> Vec<usize> {
        vec![self.x_shape[0], self.m]
    }
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.q_rows(x, self.m)
    }
    fn linear(&self) -> Option<&dyn Linear> {
        Some(self)
    }
}

impl View for WalshHadamard {
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

impl Linear for WalshHadamard {
    fn adjoint(&self, y: &Tensor) -> Result<Tensor> {
        self.q_rows_t(y, self.m)
    }
    fn pinv(&self, y: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(self.adjoint(y)?))
    }
    fn svd(&self) -> Result<Option<&dyn Svd>> {
        Ok(Some(self))
    }
}
