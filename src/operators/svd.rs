//! The singular value decomposition `A = U Σ Vᵀ` of the operators whose structure makes it cheap,
//! in the form the spectral solvers (DDRM, DDNM, ΠGDM) use it: functions that apply `Vᵀ`, `V`, `Uᵀ`
//! and `U` to a batch, and the singular values, rather than matrices.
//!
//! Spectral coordinates have the image's shape `[B, C, H, W]`: coordinate `j` of `Vᵀ x` goes with
//! singular value `s_j`, and `s_j = 0` where the operator does not see that direction. `Uᵀ y` is
//! written in the same layout, zero where `s_j = 0` (DDRM's `Ut` followed by `add_zeros`), so that
//! `A x = U (s ⊙ Vᵀ x)` and `A⁺ y = V (s⁺ ⊙ Uᵀ y)`.
//!
//! The structures follow DDRM's `functions/svd_replacement.py` (Kawar et al. 2022,
//! bahjat-kawar/ddrm): a diagonal (inpainting, denoising), a Kronecker product of two 1-D
//! operators whose small SVDs are computed on the host (average pooling, bicubic downsampling,
//! separable blur), a per-pixel channel transform (colorization), and orthonormal rows
//! (Walsh–Hadamard compressed sensing).

use crate::error::Result;
use crate::gpu::Gpu;
use crate::ops::{self, Conv2dSpec, MatmulSpec};
use crate::tensor::Tensor;

/// `A = U Σ Vᵀ` applied piece by piece (see the module notes for the layout).
pub trait Svd: Send + Sync {
    /// `Vᵀ x`: images `[B, C, H, W]` to spectral coordinates of the same shape.
    fn vt(&self, x: &Tensor) -> Result<Tensor>;
    /// `V z`: spectral coordinates back to images.
    fn v(&self, z: &Tensor) -> Result<Tensor>;
    /// `Uᵀ y`: measurements to spectral coordinates, zero where the singular value is zero.
    fn ut(&self, y: &Tensor) -> Result<Tensor>;
    /// `U z`: the measurement made of the spectral coordinates that have a singular value.
    fn u(&self, z: &Tensor) -> Result<Tensor>;
    /// The singular values, one per spectral coordinate of one image (`C·H·W` values, ≥ 0).
    fn singulars(&self) -> &[f32];
}

/// `A = diag(d)` with `d` in {0, 1}: denoising (`d = 1`) and inpainting (`d` = the mask).
/// `U = V = I`; `Uᵀ` and `U` drop the entries where `d = 0` (in a measurement they are only noise).
pub struct Diagonal {
    d: Tensor,
    host: Vec<f32>,
}

impl Diagonal {
    /// A 0/1 diagonal of `C·H·W` values.
    pub fn new(gpu: &Gpu, d: &[f32]) -> Result<Self> {
        Ok(Diagonal {
            d: Tensor::from_slice(gpu, &[d.len()], d)?,
            host: d.to_vec(),
        })
    }
}

impl Svd for Diagonal {
    fn vt(&self, x: &Tensor) -> Result<Tensor> {
        Ok(x.clone())
    }
    fn v(&self, z: &Tensor) -> Result<Tensor> {
        Ok(z.clone())
    }
    fn ut(&self, y: &Tensor) -> Result<Tensor> {
        ops::mul_bcast(y, &self.d)
    }
    fn u(&self, z: &Tensor) -> Result<Tensor> {
        ops::mul_bcast(z, &self.d)
    }
    fn singulars(&self) -> &[f32] {
        &self.host
    }
}

/// The matrix of a 1-D correlation with `taps` (stride `stride`, `pad` zeros before the first input):
/// `out[r] = Σ_k taps[k] in[r·stride − pad + k]`, `n_out × n_in`, row-major.
pub fn correlation_matrix(taps: &[f64], n_in: usize, n_out: usize, stride: usize, pad: usize) -> Vec<f64> {
    let mut a = vec![0.0; n_out * n_in];
    for r in 0..n_out {
        for (k, &t) in taps.iter().enumerate() {
            let c = (r * stride + k) as isize - pad as isize;
            if c >= 0 && (c as usize) < n_in {
                a[r * n_in + c as usize] += t;
            }
        }
    }
    a
}

/// A Kronecker product `A = A_h ⊗ A_w` acting on each channel: `Y = A_h X A_wᵀ` for an `H × W`
/// channel `X`. With `A_h = U_h S_h V_hᵀ` (and likewise for `w`), `Vᵀ x = V_hᵀ X V_w`, the singular
/// value of coordinate `(i, j)` is `s_h[i] s_w[j]`, and `Uᵀ y = U_hᵀ Y U_w` in the top-left corner.
pub struct Separable {
    c: usize,
    // (left, right) factors of each sandwich product L X R
    vt: (Tensor, Tensor),
    v: (Tensor, Tensor),
    ut: (Tensor, Tensor),
    u: (Tensor, Tensor),
    s: Vec<f32>,
}

impl Separable {
    /// From the 1-D operators `a_h` (`mh × H`) and `a_w` (`mw × W`), row-major, for `c` channels.
    pub fn new(
        gpu: &Gpu,
        c: usize,
        a_h: &[f64],
        (mh, h): (usize, usize),
        a_w: &[f64],
        (mw, w): (usize, usize),
    ) -> Result<Self> {
        let (uh, sh, vh) = svd(a_h, mh, h);
        let (uw, sw, vw) = svd(a_w, mw, w);
        let t = |v: &[f64], rows: usize, cols: usize| -> Vec<f64> {
            (0..cols * rows)
                .map(|i| v[(i % rows) * cols + i / rows])
                .collect()
        };
        // embed an r × c matrix in the top-left of an R × C zero matrix
        let embed = |v: &[f64], r: usize, c: usize, rr: usize, cc: usize| -> Vec<f64> {
            let mut o = vec![0.0; rr * cc];
            for i in 0..r {
                o[i * cc..i * cc + c].copy_from_slice(&v[i * c..(i + 1) * c]);
            }
            o
        };
        let dev = |v: &[f64], r: usize, c: usize| -> Result<Tensor> {
            let f: Vec<f32> = v.iter().map(|&x| x as f32).collect();
            Tensor::from_slice(gpu, &[r, c], &f)
        };
        let mut plane = vec![0f32; h * w];
        for (i, a) in sh.iter().enumerate() {
            for (j, b) in sw.iter().enumerate() {
                plane[i * w + j] = (a * b) as f32;
            }
        }
        let s = plane.repeat(c);
        // P_h U_hᵀ (H × mh) and P_w U_wᵀ (W × mw): Uᵀ and U zero-padded to the image size
        let (uh_t, uw_t) = (
            embed(&t(&uh, mh, mh), mh, mh, h, mh),
            embed(&t(&uw, mw, mw), mw, mw, w, mw),
        );
        Ok(Separable {
            c,
            vt: (dev(&t(&vh, h, h), h, h)?, dev(&vw, w, w)?),
            v: (dev(&vh, h, h)?, dev(&t(&vw, w, w), w, w)?),
            ut: (dev(&uh_t, h, mh)?, dev(&t(&uw_t, w, mw), mw, w)?),
            u: (dev(&t(&uh_t, h, mh), mh, h)?, dev(&uw_t, w, mw)?),
            s,
        })
    }

    /// `L X R` for every channel `X` (`p × q`) of a batch; `L` is `p' × p`, `R` is `q × q'`.
    fn sandwich(&self, x: &Tensor, (l, r): &(Tensor, Tensor)) -> Result<Tensor> {
        let (p2, p) = (l.shape()[0], l.shape()[1]);
        let (q, q2) = (r.shape()[0], r.shape()[1]);
        let b = x.numel() / (p * q * self.c);
        if b * p * q * self.c != x.numel() || b == 0 {
            return Err(crate::error::Error::Shape(format!(
                "spectral transform of {:?}: expects [B, {}, {p}, {q}]",
                x.shape(),
                self.c
            )));
        }
        let bc = b * self.c;
        let xr = ops::matmul(x, r, None, MatmulSpec::contiguous(1, bc * p, q2, q))?;
        let spec = MatmulSpec {
            batch: bc,
            m: p2,
            n: q2,
            k: p,
            a_strides: [0, p, 1],
            b_strides: [p * q2, q2, 1],
            alpha: 1.0,
        };
        ops::matmul(l, &xr, None, spec)?.reshape(&[b, self.c, p2, q2])
    }
}

impl Svd for Separable {
    fn vt(&self, x: &Tensor) -> Result<Tensor> {
        self.sandwich(x, &self.vt)
    }
    fn v(&self, z: &Tensor) -> Result<Tensor> {
        self.sandwich(z, &self.v)
    }
    fn ut(&self, y: &Tensor) -> Result<Tensor> {
        self.sandwich(y, &self.ut)
    }
    fn u(&self, z: &Tensor) -> Result<Tensor> {
        self.sandwich(z, &self.u)
    }
    fn singulars(&self) -> &[f32] {
        &self.s
    }
}

/// Colorization: `A` averages the three channels of each pixel. `V` is a 3×3 orthonormal channel
/// transform whose first row is `(1, 1, 1)/√3`, `Σ = 1/√3` on that first channel, `U = 1`.
pub struct ChannelMean {
    q: Tensor,
    qt: Tensor,
    first: Tensor,
    first_t: Tensor,
    s: Vec<f32>,
}

impl ChannelMean {
    /// For images `[3, H, W]`.
    pub fn new(gpu: &Gpu, h: usize, w: usize) -> Result<Self> {
        let (a, b, c) = (1.0 / 3f32.sqrt(), 1.0 / 2f32.sqrt(), 1.0 / 6f32.sqrt());
        let q = [a, a, a, b, -b, 0.0, c, c, -2.0 * c];
        let qt: Vec<f32> = (0..9).map(|i| q[(i % 3) * 3 + i / 3]).collect();
        let mut s = vec![0f32; 3 * h * w];
        s[..h * w].fill(a);
        Ok(ChannelMean {
            q: Tensor::from_slice(gpu, &[3, 3, 1, 1], &q)?,
            qt: Tensor::from_slice(gpu, &[3, 3, 1, 1], &qt)?,
            first: Tensor::from_slice(gpu, &[3, 1, 1, 1], &[1.0, 0.0, 0.0])?,
            first_t: Tensor::from_slice(gpu, &[1, 3, 1, 1], &[1.0, 0.0, 0.0])?,
            s,
        })
    }
}

impl Svd for ChannelMean {
    fn vt(&self, x: &Tensor) -> Result<Tensor> {
        ops::conv2d(x, &self.q, None, Conv2dSpec::new(1, 0))
    }
    fn v(&self, z: &Tensor) -> Result<Tensor> {
        ops::conv2d(z, &self.qt, None, Conv2dSpec::new(1, 0))
    }
    fn ut(&self, y: &Tensor) -> Result<Tensor> {
        ops::conv2d(y, &self.first, None, Conv2dSpec::new(1, 0))
    }
    fn u(&self, z: &Tensor) -> Result<Tensor> {
        ops::conv2d(z, &self.first_t, None, Conv2dSpec::new(1, 0))
    }
    fn singulars(&self) -> &[f32] {
        &self.s
    }
}

/// SVD of a row-major `m × n` matrix with `m ≤ n` by one-sided Jacobi rotations (Hestenes), in
/// f64: returns `(U, s, V)` with `U` `m × m`, `s` the `m` singular values in decreasing order and
/// `V` `n × n` (row-major, its first `m` columns the right singular vectors, the rest an orthonormal
/// completion), so that `A = U diag(s) V[:, ..m]ᵀ`.
pub fn svd(a: &[f64], m: usize, n: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    assert!(m <= n && a.len() == m * n, "svd of a {m}x{n} matrix");
    // rows r_i of R = Gᵀ A are rotated in pairs until orthogonal; the same rotations on Gᵀ
    let mut r = a.to_vec();
    let mut gt: Vec<f64> = (0..m * m).map(|i| (i / m == i % m) as u8 as f64).collect();
    let dot = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(a, b)| a * b).sum::<f64>();
    for _sweep in 0..60 {
        let mut rotated = false;
        for p in 0..m {
            for q in p + 1..m {
                let (rp, rq) = (&r[p * n..(p + 1) * n], &r[q * n..(q + 1) * n]);
                let (al, be, ga) = (dot(rp, rp), dot(rq, rq), dot(rp, rq));
                if ga.abs() <= 1e-15 * (al * be).sqrt() || ga == 0.0 {
                    continue;
                }
                rotated = true;
                let zeta = (be - al) / (2.0 * ga);
                let t = zeta.signum() / (zeta.abs() + (1.0 + zeta * zeta).sqrt());
                let c = 1.0 / (1.0 + t * t).sqrt();
                let s = c * t;
                for (mat, len) in [(&mut r, n), (&mut gt, m)] {
                    for k in 0..len {
                        let (x, y) = (mat[p * len + k], mat[q * len + k]);
                        mat[p * len + k] = c * x - s * y;
                        mat[q * len + k] = s * x + c * y;
                    }
                }
            }
        }
        if !rotated {
            break;
        }
    }
    let norms: Vec<f64> = (0..m)
        .map(|i| dot(&r[i * n..(i + 1) * n], &r[i * n..(i + 1) * n]).sqrt())
        .collect();
    let smax = norms.iter().cloned().fold(0.0, f64::max);
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| norms[j].total_cmp(&norms[i]));
    let mut u = vec![0.0; m * m];
    let mut s = vec![0.0; m];
    let mut cols: Vec<Vec<f64>> = Vec::with_capacity(n);
    for (k, &i) in order.iter().enumerate() {
        for row in 0..m {
            u[row * m + k] = gt[i * m + row];
        }
        if norms[i] > 1e-12 * smax.max(1e-300) {
            s[k] = norms[i];
            cols.push(r[i * n..(i + 1) * n].iter().map(|v| v / norms[i]).collect());
        } else {
            // numerically zero: the direction comes from the completion below
            s[k] = 0.0;
            cols.push(Vec::new());
        }
    }
    // complete V with Gram–Schmidt (twice) on the unit vectors
    let mut basis = 0;
    let mut fill = |cols: &mut Vec<Vec<f64>>, slot: Option<usize>| {
        while basis < n {
            let mut e = vec![0.0; n];
            e[basis] = 1.0;
            basis += 1;
            for _ in 0..2 {
                for c in cols.iter().filter(|c| !c.is_empty()) {
                    let d = dot(&e, c);
                    e.iter_mut().zip(c).for_each(|(x, y)| *x -= d * y);
                }
            }
            let nn = dot(&e, &e).sqrt();
            if nn > 1e-6 {
                e.iter_mut().for_each(|x| *x /= nn);
                match slot {
                    Some(k) => cols[k] = e,
                    None => cols.push(e),
                }
                return;
            }
        }
    };
    for k in 0..m {
        if cols[k].is_empty() {
            fill(&mut cols, Some(k));
        }
    }
    while cols.len() < n {
        fill(&mut cols, None);
    }
    let mut v = vec![0.0; n * n];
    for (k, c) in cols.iter().enumerate() {
        for row in 0..n {
            v[row * n + k] = c[row];
        }
    }
    (u, s, v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jacobi_svd_reconstructs_and_is_orthogonal() {
        // a correlation matrix (rank-deficient stride-2 pooling) and a random-ish square one
        for (a, m, n) in [
            (correlation_matrix(&[0.5, 0.5], 8, 4, 2, 0), 4, 8),
            (correlation_matrix(&[0.1, 0.7, 0.2], 6, 6, 1, 1), 6, 6),
            ((0..15).map(|i| ((i * 7 % 11) as f64 - 5.0) / 3.0).collect(), 3, 5),
        ] {
            let (u, s, v) = svd(&a, m, n);
            for i in 0..m {
                for j in 0..n {
                    let r: f64 = (0..m).map(|k| u[i * m + k] * s[k] * v[j * n + k]).sum();
                    assert!((r - a[i * n + j]).abs() < 1e-12, "A[{i},{j}]");
                }
            }
            for (q, d) in [(&u, m), (&v, n)] {
                for i in 0..d {
                    for j in 0..d {
                        let p: f64 = (0..d).map(|k| q[k * d + i] * q[k * d + j]).sum();
                        assert!((p - (i == j) as u8 as f64).abs() < 1e-12);
                    }
                }
            }
            assert!(s.windows(2).all(|w| w[0] >= w[1]));
        }
    }
}
