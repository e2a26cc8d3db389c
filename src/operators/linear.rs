//! Operators that are convolutions: identity (denoising), average-pooling and bicubic
//! super-resolution, Gaussian and motion blur (zero padding, same size), and colorization.

use super::blur::{gaussian_taps, motion_kernel};
use super::svd::{ChannelMean, Diagonal, Separable, Svd, correlation_matrix};
use super::{Caps, Described, Kind, Linear, Operator, Picture, Resolved, TaskEntry, View};
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::ops::{self, Conv2dSpec};
use crate::tensor::Tensor;

/// `denoise`: `A = I`.
pub(super) const DENOISE: TaskEntry = TaskEntry {
    name: "denoise",
    about: "—",
    keys: &[],
    caps: Caps::spectral(Kind::Other),
    rgb_only: false,
    picture: Picture::Exact,
    resolve: |_, _| {
        Ok(Resolved::new(&[], |gpu, x_shape, task| {
            Ok(Box::new(Identity::new(gpu, x_shape, task)?))
        }))
    },
};

/// `sr`: average pooling.
pub(super) const SR: TaskEntry = TaskEntry {
    name: "sr",
    about: "`factor` 4: average pooling",
    resolve: |spec, x_shape| sr(spec, x_shape, false),
    ..SR_BICUBIC
};

/// `sr-bicubic`: bicubic antialiased downsampling.
pub(super) const SR_BICUBIC: TaskEntry = TaskEntry {
    name: "sr-bicubic",
    about: "`factor` 4: bicubic (a = -0.5) antialiased downsampling",
    keys: &["factor"],
    caps: Caps::spectral(Kind::SuperResolution),
    rgb_only: false,
    picture: Picture::Exact,
    resolve: |spec, x_shape| sr(spec, x_shape, true),
};

/// `sr` and `sr-bicubic`: the factor, which must divide the image size.
fn sr(spec: &super::TaskSpec, [_, h, w]: [usize; 3], bicubic: bool) -> Result<Resolved> {
    let f = spec.usize("factor", 4, 2)?;
    if !h.is_multiple_of(f) || !w.is_multiple_of(f) {
        return Err(Error::Input(format!(
            "{}: factor {f} must divide the image size {w}x{h}",
            spec.name
        )));
    }
    Ok(Resolved::new(&[("factor", &f)], move |gpu, x_shape, task| {
        Ok(if bicubic {
            Box::new(Bicubic::new(gpu, x_shape, f, task)?)
        } else {
            Box::new(AvgPool::new(gpu, x_shape, f, task)?)
        })
    }))
}

/// `deblur-gauss`: a Gaussian blur, separable (so it has an SVD).
pub(super) const DEBLUR_GAUSS: TaskEntry = TaskEntry {
    name: "deblur-gauss",
    about: "`size` 9, `sigma` 1.5 (61, 3.0)",
    keys: &["size", "sigma"],
    caps: Caps::spectral(Kind::Deblurring { motion: false }),
    rgb_only: false,
    picture: Picture::Exact,
    resolve: |spec, x_shape @ [_, h, w]| {
        let big = super::big(x_shape);
        let size = spec.usize("size", if big { 61 } else { 9 }, 1)?;
        let sigma = spec.f64(
            "sigma",
            if big { 3.0 } else { 1.5 },
            |s| (0.1..=1000.0).contains(&s),
            "in [0.1, 1000] (pixels)",
        )?;
        super::odd_kernel(&spec.name, size, h, w)?;
        Ok(Resolved::new(
            &[("size", &size), ("sigma", &sigma)],
            move |gpu, x_shape, task| {
                Ok(Box::new(Blur::separable(
                    gpu,
                    x_shape,
                    &gaussian_taps(size, sigma),
                    task,
                )?))
            },
        ))
    },
};

/// `deblur-motion`: a seeded random-trajectory kernel (dense: no SVD).
pub(super) const DEBLUR_MOTION: TaskEntry = TaskEntry {
    name: "deblur-motion",
    about: "`size` 9 (61), `intensity` 0.5, `seed` 0: a random-trajectory kernel",
    keys: &["size", "intensity", "seed"],
    caps: Caps::linear(Kind::Deblurring { motion: true }),
    rgb_only: false,
    picture: Picture::Exact,
    resolve: |spec, x_shape @ [_, h, w]| {
        let size = spec.usize("size", if super::big(x_shape) { 61 } else { 9 }, 1)?;
        let intensity = spec.f64("intensity", 0.5, |i| (0.0..=1.0).contains(&i), "in [0, 1]")?;
        let seed = spec.u64("seed", 0)?;
        super::odd_kernel(&spec.name, size, h, w)?;
        Ok(Resolved::new(
            &[("size", &size), ("intensity", &intensity), ("seed", &seed)],
            move |gpu, x_shape, task| {
                let k = motion_kernel(size, intensity, seed);
                Ok(Box::new(Blur::dense(gpu, x_shape, size, &k, task, true)?))
            },
        ))
    },
};

/// `colorize`: the channel mean of an RGB image.
pub(super) const COLORIZE: TaskEntry = TaskEntry {
    name: "colorize",
    about: "— (RGB models): the channel mean",
    keys: &[],
    caps: Caps::spectral(Kind::Other),
    rgb_only: true,
    picture: Picture::Exact,
    resolve: |_, [c, _, _]| {
        if c != 3 {
            return Err(Error::Input(format!(
                "colorize works on RGB images (3 channels), and these have {c}: use an RGB picture and an RGB model"
            )));
        }
        Ok(Resolved::new(&[], |gpu, x_shape, task| {
            Ok(Box::new(Colorize::new(gpu, x_shape, task)?))
        }))
    },
};

/// A convolution applying the same 2-D kernel to each channel separately: the channels fold into the
/// batch (`[B, C, H, W]` viewed as `[B·C, 1, H, W]`), so the work is one kernel per pixel, not C.
/// A separable kernel runs as a vertical then a horizontal pass (2k taps a pixel instead of k²).
/// The adjoint is the transposed convolution of each pass, in reverse order.
struct ChannelConv {
    /// Each pass: its weight `[1, 1, kh, kw]`, its stride and padding, and its input size (h, w).
    passes: Vec<(Tensor, Conv2dSpec, (usize, usize))>,
    x_shape: [usize; 3],
    y_shape: [usize; 3],
}

impl ChannelConv {
    /// One `k`×`k` pass.
    fn new(gpu: &Gpu, x_shape: [usize; 3], k: usize, kernel: &[f32], spec: Conv2dSpec) -> Result<Self> {
        let (ho, wo) = spec.out_size(x_shape[1], x_shape[2], k, k)?;
        Ok(ChannelConv {
            passes: vec![(
                Tensor::from_slice(gpu, &[1, 1, k, k], kernel)?,
                spec,
                (x_shape[1], x_shape[2]),
            )],
            x_shape,
            y_shape: [x_shape[0], ho, wo],
        })
    }

    /// `factor`×`factor` average pooling.
    fn pool(gpu: &Gpu, x_shape: [usize; 3], factor: usize) -> Result<Self> {
        let k = vec![1.0 / (factor * factor) as f32; factor * factor];
        ChannelConv::new(gpu, x_shape, factor, &k, Conv2dSpec::new(factor, 0))
    }

    /// The pseudo-inverse of [`ChannelConv::pool`]: `A Aᵀ = I / factor²`, so `A⁺ = factor² Aᵀ`
    /// (nearest-neighbour enlargement).
    fn pool_pinv(&self, y: &Tensor, factor: usize) -> Result<Tensor> {
        ops::scale(&self.adjoint(y)?, (factor * factor) as f32)
    }

    /// The kernel `taps ⊗ taps` (odd length, stride 1, same-size output with zero padding) as two
    /// 1-D passes.
    fn separable(gpu: &Gpu, x_shape: [usize; 3], taps: &[f64]) -> Result<Self> {
        let k = taps.len();
        let p = k / 2;
        let t: Vec<f32> = taps.iter().map(|&v| v as f32).collect();
        let (h, w) = (x_shape[1], x_shape[2]);
        let vertical = Conv2dSpec {
            stride: 1,
            pad: [p, p, 0, 0],
        };
        let horizontal = Conv2dSpec {
            stride: 1,
            pad: [0, 0, p, p],
        };
        let (ho, _) = vertical.out_size(h, w, k, 1)?;
        let (_, wo) = horizontal.out_size(ho, w, 1, k)?;
        Ok(ChannelConv {
            passes: vec![
                (Tensor::from_slice(gpu, &[1, 1, k, 1], &t)?, vertical, (h, w)),
                (Tensor::from_slice(gpu, &[1, 1, 1, k], &t)?, horizontal, (ho, w)),
            ],
            x_shape,
            y_shape: [x_shape[0], ho, wo],
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let b = x.shape()[0];
        let [c, h, w] = self.x_shape;
        let mut t = x.reshape(&[b * c, 1, h, w])?;
        for (wt, spec, _) in &self.passes {
            t = ops::conv2d(&t, wt, None, *spec)?;
        }
        t.reshape(&[b, c, self.y_shape[1], self.y_shape[2]])
    }

    fn adjoint(&self, y: &Tensor) -> Result<Tensor> {
        let b = y.shape()[0];
        let [c, h, w] = self.x_shape;
        let mut t = y.reshape(&[b * c, 1, self.y_shape[1], self.y_shape[2]])?;
        for (wt, spec, (hi, wi)) in self.passes.iter().rev() {
            t = ops::conv2d_backward_input(&t, wt, &[b * c, 1, *hi, *wi], *spec)?;
        }
        t.reshape(&[b, c, h, w])
    }
}

/// Denoising: `A = I`.
pub struct Identity {
    x_shape: [usize; 3],
    svd: Diagonal,
    task: Described,
}

impl Identity {
    /// For images `[C, H, W]`.
    pub fn new(gpu: &Gpu, x_shape: [usize; 3], task: Described) -> Result<Self> {
        let n = x_shape.iter().product();
        Ok(Identity {
            x_shape,
            svd: Diagonal::new(gpu, &vec![1.0; n])?,
            task,
        })
    }
}

impl Operator for Identity {
    described!();
    fn x_shape(&self) -> [usize; 3] {
        self.x_shape
    }
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(x.clone())
    }
    fn linear(&self) -> Option<&dyn Linear> {
        Some(self)
    }
}

impl View for Identity {}

impl Linear for Identity {
    fn adjoint(&self, y: &Tensor) -> Result<Tensor> {
        Ok(y.clone())
    }
    fn pinv(&self, y: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(y.clone()))
    }
    fn svd(&self) -> Result<Option<&dyn Svd>> {
        Ok(Some(&self.svd))
    }
}

/// The longest image side whose separable SVD is computed: the 1-D factors are decomposed by a dense
/// Jacobi SVD on the host, O(n³) in the side length (about 15 s at 2048 on one core).
pub const MAX_SVD_SIDE: usize = 2048;

/// The SVD of a separable per-channel correlation (the same 1-D `taps` along both axes), computed on
/// first use: measuring and the solvers that need no SVD (DPS, MCG with `A⁺`) never pay for it.
struct LazySvd {
    gpu: Gpu,
    x_shape: [usize; 3],
    taps: Vec<f64>,
    stride: usize,
    pad: usize,
    y_hw: (usize, usize),
    cell: std::sync::OnceLock<Separable>,
}

impl LazySvd {
    fn new(
        gpu: &Gpu,
        x_shape: [usize; 3],
        taps: &[f64],
        stride: usize,
        pad: usize,
        y_hw: (usize, usize),
    ) -> Self {
        LazySvd {
            gpu: gpu.clone(),
            x_shape,
            taps: taps.to_vec(),
            stride,
            pad,
            y_hw,
            cell: std::sync::OnceLock::new(),
        }
    }

    /// The decomposition, computed once; an error for images beyond [`MAX_SVD_SIDE`].
    fn get(&self, what: &str) -> Result<&Separable> {
        if let Some(s) = self.cell.get() {
            return Ok(s);
        }
        let [c, h, w] = self.x_shape;
        if h.max(w) > MAX_SVD_SIDE {
            return Err(Error::Input(format!(
                "{what} on {w}x{h} images: the SVD that DDRM, DDNM and PiGDM work in is computed up to \
                 {MAX_SVD_SIDE} pixels a side (a dense decomposition per axis, cubic in the side); \
                 use dps (or a smaller image)"
            )));
        }
        let (mh, mw) = self.y_hw;
        let sep = Separable::new(
            &self.gpu,
            c,
            &correlation_matrix(&self.taps, h, mh, self.stride, self.pad),
            (mh, h),
            &correlation_matrix(&self.taps, w, mw, self.stride, self.pad),
            (mw, w),
        )?;
        Ok(self.cell.get_or_init(|| sep))
    }
}

/// Super-resolution by `factor`×`factor` average pooling. `A Aᵀ = I / factor²`, so
/// `A⁺ = factor² Aᵀ`: nearest-neighbour enlargement.
pub struct AvgPool {
    conv: ChannelConv,
    factor: usize,
    svd: LazySvd,
    task: Described,
}

impl AvgPool {
    /// Pooling of images `[C, H, W]` (H and W divisible by `factor`).
    pub fn new(gpu: &Gpu, x_shape: [usize; 3], factor: usize, task: Described) -> Result<Self> {
        let conv = ChannelConv::pool(gpu, x_shape, factor)?;
        let taps = vec![1.0 / factor as f64; factor];
        let svd = LazySvd::new(gpu, x_shape, &taps, factor, 0, (conv.y_shape[1], conv.y_shape[2]));
        Ok(AvgPool {
            conv,
            factor,
            svd,
            task,
        })
    }
}

impl Operator for AvgPool {
    described!();
    fn x_shape(&self) -> [usize; 3] {
        self.conv.x_shape
    }
    fn y_shape(&self) -> Vec<usize> {
        self.conv.y_shape.to_vec()
    }
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.conv.forward(x)
    }
    fn linear(&self) -> Option<&dyn Linear> {
        Some(self)
    }
}

impl View for AvgPool {}

impl Linear for AvgPool {
    fn adjoint(&self, y: &Tensor) -> Result<Tensor> {
        self.conv.adjoint(y)
    }
    fn pinv(&self, y: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(self.conv.pool_pinv(y, self.factor)?))
    }
    fn svd(&self) -> Result<Option<&dyn Svd>> {
        Ok(Some(self.svd.get(&self.describe())?))
    }
}

/// The cubic convolution kernel (Keys, a = -0.5), as MATLAB's imresize uses it.
fn cubic(x: f64) -> f64 {
    let a = -0.5;
    let x = x.abs();
    if x <= 1.0 {
        (a + 2.0) * x.powi(3) - (a + 3.0) * x * x + 1.0
    } else if x < 2.0 {
        a * x.powi(3) - 5.0 * a * x * x + 8.0 * a * x - 4.0 * a
    } else {
        0.0
    }
}

/// Super-resolution by bicubic antialiased downsampling (the cubic kernel stretched by the factor,
/// 4·factor taps, zero padding at the borders). Its trivial estimate is the nearest-neighbour
/// enlargement of the observation.
pub struct Bicubic {
    conv: ChannelConv,
    pool: ChannelConv,
    factor: usize,
    svd: LazySvd,
    task: Described,
}

impl Bicubic {
    /// Bicubic ×`factor` downsampling of images `[C, H, W]` (`factor` even, dividing H and W).
    pub fn new(gpu: &Gpu, x_shape: [usize; 3], factor: usize, task: Described) -> Result<Self> {
        let f = factor as f64;
        let k = 4 * factor;
        let taps: Vec<f64> = (0..k).map(|i| cubic((i as f64 - 2.0 * f + 0.5) / f)).collect();
        let s: f64 = taps.iter().sum();
        let kernel: Vec<f32> = (0..k * k)
            .map(|i| (taps[i / k] * taps[i % k] / (s * s)) as f32)
            .collect();
        let pad = (3 * factor) / 2;
        let spec = Conv2dSpec {
            stride: factor,
            pad: [pad, k - factor - pad, pad, k - factor - pad],
        };
        let conv = ChannelConv::new(gpu, x_shape, k, &kernel, spec)?;
        let taps: Vec<f64> = taps.iter().map(|t| t / s).collect();
        let svd = LazySvd::new(
            gpu,
            x_shape,
            &taps,
            factor,
            pad,
            (conv.y_shape[1], conv.y_shape[2]),
        );
        Ok(Bicubic {
            conv,
            pool: ChannelConv::pool(gpu, x_shape, factor)?,
            factor,
            svd,
            task,
        })
    }
}

impl Operator for Bicubic {
    described!();
    fn x_shape(&self) -> [usize; 3] {
        self.conv.x_shape
    }
    fn y_shape(&self) -> Vec<usize> {
        self.conv.y_shape.to_vec()
    }
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.conv.forward(x)
    }
    fn trivial(&self, y: &Tensor) -> Result<Tensor> {
        self.pool.pool_pinv(y, self.factor)
    }
    fn linear(&self) -> Option<&dyn Linear> {
        Some(self)
    }
}

impl View for Bicubic {}

impl Linear for Bicubic {
    fn adjoint(&self, y: &Tensor) -> Result<Tensor> {
        self.conv.adjoint(y)
    }
    fn svd(&self) -> Result<Option<&dyn Svd>> {
        Ok(Some(self.svd.get(&self.describe())?))
    }
}

/// Blur with a fixed kernel (same-size output, zero padding). Its trivial estimate is the blurred
/// observation itself. A separable kernel (Gaussian) has an SVD; a motion-blur kernel has none.
pub struct Blur {
    conv: ChannelConv,
    task: Described,
    picture: Option<Tensor>,
    svd: Option<LazySvd>,
}

impl Blur {
    /// The separable kernel `taps ⊗ taps` (odd length) applied to each channel as two 1-D passes;
    /// the taps also give the SVD.
    pub fn separable(gpu: &Gpu, x_shape: [usize; 3], taps: &[f64], task: Described) -> Result<Self> {
        let (h, w) = (x_shape[1], x_shape[2]);
        Ok(Blur {
            conv: ChannelConv::separable(gpu, x_shape, taps)?,
            task,
            picture: None,
            svd: Some(LazySvd::new(gpu, x_shape, taps, 1, taps.len() / 2, (h, w))),
        })
    }

    /// A dense `size`×`size` kernel (odd size) applied to each channel; no SVD. With `show`, the
    /// kernel is a picture saved beside degrade's output ([`View::extras`]).
    pub fn dense(
        gpu: &Gpu,
        x_shape: [usize; 3],
        size: usize,
        kernel: &[f32],
        task: Described,
        show: bool,
    ) -> Result<Self> {
        Ok(Blur {
            conv: ChannelConv::new(gpu, x_shape, size, kernel, Conv2dSpec::new(1, size / 2))?,
            task,
            picture: show
                .then(|| super::kernel_picture(gpu, kernel, size))
                .transpose()?,
            svd: None,
        })
    }
}

impl Operator for Blur {
    described!();
    fn x_shape(&self) -> [usize; 3] {
        self.conv.x_shape
    }
    fn y_shape(&self) -> Vec<usize> {
        self.conv.y_shape.to_vec()
    }
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.conv.forward(x)
    }
    fn trivial(&self, y: &Tensor) -> Result<Tensor> {
        Ok(y.clone())
    }
    fn linear(&self) -> Option<&dyn Linear> {
        Some(self)
    }
}

impl View for Blur {
    fn extras(&self) -> Result<Vec<(String, Tensor)>> {
        Ok(self
            .picture
            .iter()
            .map(|p| ("kernel".to_string(), p.clone()))
            .collect())
    }
}

impl Linear for Blur {
    fn adjoint(&self, y: &Tensor) -> Result<Tensor> {
        self.conv.adjoint(y)
    }
    fn svd(&self) -> Result<Option<&dyn Svd>> {
        match &self.svd {
            Some(s) => Ok(Some(s.get(&self.task.spec)? as &dyn Svd)),
            None => Ok(None),
        }
    }
}

/// Colorization: the observation is the channel mean (a grayscale image). `A Aᵀ = I / 3`, so
/// `A⁺ = 3 Aᵀ` copies the gray value to every channel.
pub struct Colorize {
    w: Tensor,
    x_shape: [usize; 3],
    svd: ChannelMean,
    task: Described,
}

impl Colorize {
    /// For RGB images `[3, H, W]`.
    pub fn new(gpu: &Gpu, x_shape: [usize; 3], task: Described) -> Result<Self> {
        Ok(Colorize {
            w: Tensor::from_slice(gpu, &[1, 3, 1, 1], &[1.0 / 3.0; 3])?,
            x_shape,
            svd: ChannelMean::new(gpu, x_shape[1], x_shape[2])?,
            task,
        })
    }
}

impl Operator for Colorize {
    described!();
    fn x_shape(&self) -> [usize; 3] {
        self.x_shape
    }
    fn y_shape(&self) -> Vec<usize> {
        vec![1, self.x_shape[1], self.x_shape[2]]
    }
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        ops::conv2d(x, &self.w, None, Conv2dSpec::new(1, 0))
    }
    fn linear(&self) -> Option<&dyn Linear> {
        Some(self)
    }
}

impl View for Colorize {}

impl Linear for Colorize {
    fn adjoint(&self, y: &Tensor) -> Result<Tensor> {
        let [c, h, w] = self.x_shape;
        ops::conv2d_backward_input(y, &self.w, &[y.shape()[0], c, h, w], Conv2dSpec::new(1, 0))
    }
    fn pinv(&self, y: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(ops::scale(&self.adjoint(y)?, 3.0)?))
    }
    fn svd(&self) -> Result<Option<&dyn Svd>> {
        Ok(Some(&self.svd))
    }
}
