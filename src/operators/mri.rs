//! Compressed-sensing MRI (single coil): `y = M ⊙ F x`, the orthonormal 2-D DFT of each channel
//! ([`ops::fft2`]) with a 0/1 k-space sampling mask `M`, as in Jalal et al. 2021
//! (utcsilab/csgm-mri-langevin: `mask * fft(x)`, with one coil whose sensitivity is 1).
//!
//! **Measurements.** `y` is complex, `[C, H, W, 2]` per image (real and imaginary parts last, the
//! layout of [`ops::fft2`]), the full k-space grid with its zero frequency at `(0, 0)` (not
//! shifted) and zeros where `M` is 0 (noise added by `degrade` lands there too, as it lands on an
//! inpainting's missing pixels; `Aᵀ` drops it).
//!
//! **Masks.** `cartesian`: whole k-space columns (all `k_y` of a `k_x`, the phase-encoding lines of
//! a Cartesian scan); `random`: single k-space points. Both sample a fully sampled centre and draw
//! the rest, without replacement, with a density `(1 − r)²` falling off with the distance `r` from
//! the centre (0 at the centre, 1 at the highest frequency: `|k_x| / (W/2)` for lines, the radius
//! over the corner's for points), `round(1/accel)` of the lines (points) in all. Every mask is
//! Hermitian-symmetric: `k` is sampled together with `−k mod (H, W)`.
//!
//! **SVD.** As a real-linear map `ℝ^{CHW} → ℝ^{2CHW}`, `Aᵀ y = Re F^H (M ⊙ y)`, and because `M` is
//! symmetric, `AᵀA = F^H M F` is the orthogonal projector onto the real images whose spectrum lies
//! on the mask. Its eigenbasis is the 2-D discrete Hartley transform
//! `(Vᵀ x)[k] = Re (F x)[k] − Im (F x)[k]` (real, orthonormal, its own inverse: `V = Vᵀ`); its
//! coordinate `k` is a real combination of `(F x)[k]` and `(F x)[−k] = conj (F x)[k]`, so it is
//! seen exactly when `k` is sampled: every singular value is 1 on the mask and 0 off it. The left
//! singular vectors are `U e_k = A V e_k`: for a redundant pair `(k, −k)` the measurement
//! `((1 − i)/2` at `k`, `(1 + i)/2` at `−k)` (real DC and Nyquist frequencies: 1 at `k`), so
//! `Uᵀ y = Vᵀ Aᵀ y` pairs `y_k` with `conj y_{−k}`; the other half of each pair's four real numbers
//! is the null space of `Aᵀ`. `A⁺ = Aᵀ` (the zero-filled inverse), which is the trivial estimate.

use super::svd::Svd;
use super::{Caps, Described, Kind, Linear, Operator, Picture, Resolved, TaskEntry, TaskSpec, View};
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::ops::{self, MatmulSpec};
use crate::tensor::Tensor;

/// `mri`: single-coil compressed-sensing MRI with a variable-density mask.
pub(super) const MRI: TaskEntry = TaskEntry {
    name: "mri",
    about: "`accel` 4, `center` 0.08, `mask` cartesian (or random), `seed` 0: `y = M ⊙ F x`, the \
            orthonormal 2-D DFT with a Hermitian-symmetric variable-density k-space mask (whole \
            columns, or single points) keeping 1/accel of them, the centre fraction fully sampled; \
            y is complex [C, H, W, 2]",
    keys: &["accel", "center", "mask", "seed"],
    caps: Caps::spectral(Kind::Other),
    rgb_only: false,
    picture: Picture::View,
    resolve: |spec, [_, h, w]| {
        let accel = spec.f64(
            "accel",
            4.0,
            |a| (1.0..=1024.0).contains(&a),
            "in [1, 1024] (the acceleration: 1/accel of k-space is sampled)",
        )?;
        let center = spec.f64(
            "center",
            0.08,
            |c| (0.0..=1.0).contains(&c),
            "in [0, 1] (the fully sampled centre, a fraction of each side)",
        )?;
        let kind = MaskKind::parse(spec)?;
        let seed = spec.u64("seed", 0)?;
        check_sides(h, w)?;
        let mask = sampling_mask(h, w, accel, center, kind, seed)?;
        let name = kind.name();
        Ok(Resolved::new(
            &[
                ("accel", &accel),
                ("center", &center),
                ("mask", &name),
                ("seed", &seed),
            ],
            move |gpu, x_shape, task| Ok(Box::new(Mri::new(gpu, x_shape, &mask, task)?)),
        ))
    },
};

/// Which k-space samples a mask is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MaskKind {
    /// Whole columns (every `k_y` of a `k_x`).
    Cartesian,
    /// Single points.
    Random,
}

impl MaskKind {
    fn parse(spec: &TaskSpec) -> Result<MaskKind> {
        match spec.get("mask").unwrap_or("cartesian") {
            "cartesian" => Ok(MaskKind::Cartesian),
            "random" => Ok(MaskKind::Random),
            other => Err(Error::Input(format!(
                "task mri: mask={other} is not a mask: use mask=cartesian (whole k-space lines) or \
                 mask=random (single k-space points)"
            ))),
        }
    }

    fn name(self) -> &'static str {
        match self {
            MaskKind::Cartesian => "cartesian",
            MaskKind::Random => "random",
        }
    }
}

/// The FFT takes sides that are powers of two up to [`ops::MAX_FFT_SIDE`].
fn check_sides(h: usize, w: usize) -> Result<()> {
    for side in [h, w] {
        if !side.is_power_of_two() || !(2..=ops::MAX_FFT_SIDE).contains(&side) {
            return Err(Error::Input(format!(
                "mri needs images whose sides are powers of two from 2 to {} (the FFT's); these are \
                 {w}x{h}: resize or pad them",
                ops::MAX_FFT_SIDE
            )));
        }
    }
    Ok(())
}

/// The signed frequency of index `k` of an `n`-point DFT: `k` or `k − n`, in `[−n/2, n/2)`.
fn signed(k: usize, n: usize) -> f64 {
    if k < n.div_ceil(2) {
        k as f64
    } else {
        k as f64 - n as f64
    }
}

/// The `H × W` 0/1 sampling mask (row-major, zero frequency at `(0, 0)`): the centre (a fraction
/// `center` of each sampled side, odd and symmetric) fully sampled, the rest drawn in Hermitian
/// pairs with density `(1 − r)²` until `round(N / accel)` of the `N` lines (points) are sampled.
fn sampling_mask(h: usize, w: usize, accel: f64, center: f64, kind: MaskKind, seed: u64) -> Result<Vec<f32>> {
    // the units: columns (their k_x) or points (k_y, k_x), each with its conjugate −k
    let (units, conj): (usize, Box<dyn Fn(usize) -> usize>) = match kind {
        MaskKind::Cartesian => (w, Box::new(move |k| (w - k) % w)),
        MaskKind::Random => (h * w, Box::new(move |k| ((h - k / w) % h) * w + (w - k % w) % w)),
    };
    // r in [0, 1] and whether the unit is in the fully sampled centre
    let place = |k: usize| -> (f64, bool) {
        let fx = signed(k % w, w);
        let half = |n: usize| (center * n as f64 / 2.0).floor();
        match kind {
            MaskKind::Cartesian => {
                let r = fx.abs() / (w as f64 / 2.0);
                (r, center > 0.0 && fx.abs() <= half(w))
            }
            MaskKind::Random => {
                let fy = signed(k / w, h);
                let (ry, rx) = (fy / (h as f64 / 2.0), fx / (w as f64 / 2.0));
                let r = ((ry * ry + rx * rx) / 2.0).sqrt();
                (r, center > 0.0 && fy.abs() <= half(h) && fx.abs() <= half(w))
            }
        }
    };
    let target = ((units as f64 / accel).round() as usize).max(1);
    let mut on = vec![false; units];
    let mut count = 0;
    for (k, o) in on.iter_mut().enumerate() {
        if place(k).1 {
            *o = true;
            count += 1;
        }
    }
    if count > target {
        return Err(Error::Input(format!(
            "mri: the fully sampled centre (center={center}) is {count} of the {units} k-space {what} \
             but accel={accel} samples {target}: lower center or accel",
            what = if kind == MaskKind::Cartesian {
                "lines"
            } else {
                "points"
            }
        )));
    }
    // one draw per conjugate pair (its smaller index), weighted sampling without replacement
    // (Efraimidis–Spirakis: the largest ln(u) / weight first; weight 0 last, in index order)
    let key = [seed as u32, (seed >> 32) as u32];
    let mut pairs: Vec<(f64, usize)> = (0..units)
        .filter(|&k| !on[k] && k <= conj(k))
        .map(|k| {
            let r = place(k).0.min(1.0);
            let weight = (1.0 - r) * (1.0 - r);
            let bits = ops::random::philox4x32_10([k as u32, 0, 13, 0], key)[0];
            let u = (bits as f64 + 0.5) / 4294967296.0;
            let score = if weight > 0.0 {
                u.ln() / weight
            } else {
                f64::NEG_INFINITY
            };
            (score, k)
        })
        .collect();
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, k) in pairs {
        if count == target {
            break;
        }
        let size = if conj(k) == k { 1 } else { 2 };
        if count + size <= target {
            on[k] = true;
            on[conj(k)] = true;
            count += size;
        }
    }
    Ok(match kind {
        MaskKind::Cartesian => (0..h * w).map(|i| on[i % w] as u8 as f32).collect(),
        MaskKind::Random => on.iter().map(|&o| o as u8 as f32).collect(),
    })
}

/// Single-coil compressed-sensing MRI `y = M ⊙ F x` on each channel (see the module notes for the
/// layout of `y`, the masks and the SVD).
pub struct Mri {
    gpu: Gpu,
    x_shape: [usize; 3],
    /// The `H × W` mask, on the host.
    mask: Vec<f32>,
    /// The mask for complex values `[H, W, 2]`.
    mask2: Tensor,
    /// `(1, −1)` as a `2 × 1` matrix: `Re z − Im z`.
    re_minus_im: Tensor,
    s: Vec<f32>,
    task: Described,
}

impl Mri {
    /// The operator for images `[C, H, W]` (sides powers of two) with the `H × W` 0/1 k-space mask
    /// `mask` (row-major, zero frequency at `(0, 0)`), which must be Hermitian-symmetric (`k`
    /// sampled exactly when `−k` is) for the SVD to hold.
    pub fn new(gpu: &Gpu, x_shape: [usize; 3], mask: &[f32], task: Described) -> Result<Self> {
        let [c, h, w] = x_shape;
        check_sides(h, w)?;
        if mask.len() != h * w || mask.iter().any(|&m| m != 0.0 && m != 1.0) {
            return Err(Error::Input(format!(
                "mri: the k-space mask must be {h}x{w} values of 0 or 1"
            )));
        }
        let asym = (0..h * w).any(|k| mask[k] != mask[((h - k / w) % h) * w + (w - k % w) % w]);
        if asym {
            return Err(Error::Input(
                "mri: the k-space mask must be Hermitian-symmetric (k sampled with −k) for the \
                 measurement of a real image to have an SVD"
                    .into(),
            ));
        }
        let mask2: Vec<f32> = mask.iter().flat_map(|&m| [m, m]).collect();
        Ok(Mri {
            gpu: gpu.clone(),
            x_shape,
            mask: mask.to_vec(),
            mask2: Tensor::from_slice(gpu, &[h, w, 2], &mask2)?,
            re_minus_im: Tensor::from_slice(gpu, &[2, 1], &[1.0, -1.0])?,
            s: mask.repeat(c),
            task,
        })
    }

    /// The fraction of k-space sampled.
    pub fn sampled(&self) -> f64 {
        self.mask.iter().map(|&m| m as f64).sum::<f64>() / self.mask.len() as f64
    }

    /// Checks that `t` is a batch of `inner` (images or measurements) and returns the batch size.
    fn batch(&self, t: &Tensor, inner: &[usize], what: &str) -> Result<usize> {
        let s = t.shape();
        if s.len() != inner.len() + 1 || s[1..] != *inner || s[0] == 0 {
            return Err(Error::Shape(format!(
                "{}: {what} of shape {s:?}, expected [B, {}]",
                self.task.spec,
                inner.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")
            )));
        }
        Ok(s[0])
    }

    /// The 2-D discrete Hartley transform of real images `[B, C, H, W]`: `Re F x − Im F x`
    /// (orthonormal and its own inverse).
    fn hartley(&self, x: &Tensor) -> Result<Tensor> {
        let [c, h, w] = self.x_shape;
        let b = self.batch(x, &self.x_shape, "spectral transform of images")?;
        let z = ops::fft2(&ops::embed_complex(x, h, w)?, false)?;
        let n = b * c * h * w;
        ops::matmul(&z, &self.re_minus_im, None, MatmulSpec::contiguous(1, n, 1, 2))?.reshape(x.shape())
    }
}

impl Svd for Mri {
    fn vt(&self, x: &Tensor) -> Result<Tensor> {
        self.hartley(x)
    }
    fn v(&self, z: &Tensor) -> Result<Tensor> {
        self.hartley(z)
    }
    fn ut(&self, y: &Tensor) -> Result<Tensor> {
        // Uᵀ = Σ⁺ Vᵀ Aᵀ with Σ = 1 on the mask (Vᵀ Aᵀ y is 0 off it)
        self.hartley(&self.adjoint(y)?)
    }
    fn u(&self, z: &Tensor) -> Result<Tensor> {
        // U z = A V z (A V is 0 on the coordinates off the mask)
        self.forward(&self.hartley(z)?)
    }
    fn singulars(&self) -> &[f32] {
        &self.s
    }
}

impl Operator for Mri {
    described!();
    fn x_shape(&self) -> [usize; 3] {
        self.x_shape
    }
    fn y_shape(&self) -> Vec<usize> {
        let [c, h, w] = self.x_shape;
        vec![c, h, w, 2]
    }
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let [_, h, w] = self.x_shape;
        self.batch(x, &self.x_shape, "images")?;
        ops::mul_bcast(&ops::fft2(&ops::embed_complex(x, h, w)?, false)?, &self.mask2)
    }
    fn linear(&self) -> Option<&dyn Linear> {
        Some(self)
    }
}

impl View for Mri {
    /// `log(1 + |y|)` on the mask (black off it), zero frequency moved to the centre, scaled so
    /// that the largest value is white: `[B, C, H, W]`.
    fn observation_image(&self, y: &Tensor) -> Result<Option<Tensor>> {
        let b = self.batch(y, &self.y_shape(), "measurements")?;
        let [c, h, w] = self.x_shape;
        let v = y.to_vec()?;
        let mag = |p: usize, k: usize| -> f32 {
            let i = 2 * (p * h * w + k);
            (1.0 + v[i].hypot(v[i + 1]) * self.mask[k]).ln()
        };
        let top = (0..b * c)
            .flat_map(|p| (0..h * w).map(move |k| (p, k)))
            .fold(0f32, |m, (p, k)| m.max(mag(p, k)))
            .max(1e-12);
        let mut out = vec![0f32; b * c * h * w];
        for p in 0..b * c {
            for i in 0..h {
                for j in 0..w {
                    let k = ((i + h / 2) % h) * w + (j + w / 2) % w;
                    out[(p * h + i) * w + j] = 2.0 * mag(p, k) / top - 1.0;
                }
            }
        }
        Ok(Some(Tensor::from_slice(&self.gpu, &[b, c, h, w], &out)?))
    }
    fn measurement_from_image(&self, _img: &Tensor) -> Result<Tensor> {
        Err(Error::Input(
            "an mri picture is a log-scaled view of |k-space| and cannot be read back: pass the \
             .safetensors file degrade writes beside it (y: real and imaginary parts, [1, C, H, W, 2])"
                .into(),
        ))
    }
    /// The sampling mask, zero frequency at the centre (white = sampled).
    fn extras(&self) -> Result<Vec<(String, Tensor)>> {
        let [_, h, w] = self.x_shape;
        let pic: Vec<f32> = (0..h * w)
            .map(|q| {
                let (i, j) = (q / w, q % w);
                2.0 * self.mask[((i + h / 2) % h) * w + (j + w / 2) % w] - 1.0
            })
            .collect();
        Ok(vec![(
            "mask".into(),
            Tensor::from_slice(&self.gpu, &[1, 1, h, w], &pic)?,
        )])
    }
}

impl Linear for Mri {
    /// `Re F^H (M ⊙ y)`.
    fn adjoint(&self, y: &Tensor) -> Result<Tensor> {
        let [_, h, w] = self.x_shape;
        self.batch(y, &self.y_shape(), "measurements")?;
        ops::crop_real(&ops::fft2(&ops::mul_bcast(y, &self.mask2)?, true)?, h, w)
    }
    /// The zero-filled inverse `Aᵀ y` (the rows of `A` are orthonormal on the real images).
    fn pinv(&self, y: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(self.adjoint(y)?))
    }
    fn svd(&self) -> Result<Option<&dyn Svd>> {
        Ok(Some(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both masks are Hermitian-symmetric, sample 1/accel of k-space (to one line or point),
    /// include the centre, and follow the seed.
    #[test]
    fn masks_are_symmetric_and_sample_what_they_say() {
        for kind in [MaskKind::Cartesian, MaskKind::Random] {
            for (h, w, accel) in [(32, 32, 4.0), (16, 32, 8.0), (64, 64, 2.5), (8, 8, 1.0)] {
                let m = sampling_mask(h, w, accel, 0.08, kind, 3).unwrap();
                for k in 0..h * w {
                    assert_eq!(m[k], m[((h - k / w) % h) * w + (w - k % w) % w], "{kind:?} {k}");
                }
                let frac = m.iter().sum::<f32>() as f64 / (h * w) as f64;
                let unit = if kind == MaskKind::Cartesian {
                    1.0 / w as f64
                } else {
                    1.0 / (h * w) as f64
                };
                assert!(
                    (frac - 1.0 / accel).abs() <= unit + 1e-9,
                    "{kind:?} {h}x{w}: {frac}"
                );
                assert_eq!(m[0], 1.0, "the zero frequency is sampled");
            }
            let a = sampling_mask(32, 32, 4.0, 0.08, kind, 1).unwrap();
            let b = sampling_mask(32, 32, 4.0, 0.08, kind, 2).unwrap();
            assert_ne!(a, b, "{kind:?}: the seed draws the mask");
        }
        // whole columns
        let m = sampling_mask(32, 32, 4.0, 0.08, MaskKind::Cartesian, 0).unwrap();
        assert!((0..32).all(|j| (0..32).all(|i| m[i * 32 + j] == m[j])));
        assert!([0, 1, 31].iter().all(|&j| m[j] == 1.0), "the centre lines");
        assert!(sampling_mask(32, 32, 16.0, 0.2, MaskKind::Cartesian, 0).is_err());
    }
}
