//! Measurement operators `y = A x + σ_y n`: each gives `A` (built from recorded ops, so solvers can
//! differentiate through it), its adjoint `Aᵀ`, and, where the structure makes it cheap, the
//! pseudo-inverse `A⁺`. Images are `[B, C, H, W]` in [-1, 1]; a measurement is `[B, ...]` of the
//! operator's own shape.
//!
//! Tasks are written `name[:key=value,...]` (see [`TaskSpec`]); defaults suit the image size and are
//! listed on [`build`].

mod blind;
mod blur;
mod cs;
mod linear;
mod mask;
mod nonlinear;
mod spec;
mod svd;

pub use blind::BlindBlur;
pub use blur::{gaussian_kernel, gaussian_taps, motion_kernel};
pub use linear::MAX_SVD_SIDE;
pub use nonlinear::{Hdr, PhaseRetrieval};
pub use spec::TaskSpec;
pub use svd::{Svd, correlation_matrix, svd as jacobi_svd};

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::io::Image;
use crate::tensor::Tensor;

/// The kind of problem an operator poses. Solvers choose their defaults from it (DPS's step size,
/// DiffPIR's λ, SMCDiff's applicability, the restarts of phase retrieval), never from task names,
/// so a host's own operator that declares a kind gets the same defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Masked pixels: `A` selects pixels. `region`: the missing pixels form one large region (a
    /// box) rather than being scattered (random pixels, a user's mask); DAPS's official step size
    /// differs between the two.
    Inpainting {
        /// One large missing region.
        region: bool,
    },
    /// Downsampling (average pooling, bicubic).
    SuperResolution,
    /// A convolution with a known (or, blind, unknown) kernel. `motion`: a motion-blur kernel,
    /// for which DAPS's official step size differs.
    Deblurring {
        /// A motion-blur kernel.
        motion: bool,
    },
    /// Fourier magnitudes.
    PhaseRetrieval,
    /// Anything else (denoising, colorization, compressed sensing, HDR, a host's operator).
    Other,
}

/// What an operator offers besides `A`: its [`Kind`] and the structure solvers need. Solvers decide
/// whether they run a problem, and with which defaults, from this alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// The kind of problem.
    pub kind: Kind,
    /// Whether the operator is linear (has `Aᵀ`).
    pub linear: bool,
    /// Whether it has an SVD.
    pub svd: bool,
    /// Whether `A⁺` is available, its own or through the SVD.
    pub pinv: bool,
    /// Whether part of it is unknown and fitted by the solver.
    pub blind: bool,
}

impl Caps {
    /// A linear operator of `kind` with neither SVD nor pseudo-inverse: what a host's own linear
    /// operator offers unless it says more.
    pub const fn linear(kind: Kind) -> Caps {
        Caps {
            kind,
            linear: true,
            svd: false,
            pinv: false,
            blind: false,
        }
    }
}

/// One task of the registry: its name and what its operator offers besides `A` and `Aᵀ` (which
/// solvers can run it). A unit test builds every entry and checks the flags against the operator.
pub struct TaskEntry {
    /// The name in a task spec.
    pub name: &'static str,
    /// The kind of problem (solvers' defaults).
    pub kind: Kind,
    /// Whether the operator has an SVD (DDRM, DDNM, ΠGDM).
    pub svd: bool,
    /// Whether `A⁺` is available, its own or through the SVD (MCG).
    pub pinv: bool,
    /// Whether it needs an RGB model.
    pub rgb_only: bool,
    /// Whether it takes a `seed` (a random mask, kernel or matrix).
    pub seeded: bool,
    /// Whether part of the operator is unknown and estimated by the solver (blind deblurring).
    pub blind: bool,
    /// Whether the operator is linear (`Aᵀ`): every solver needs that but the ones that take any
    /// forward model (DPS, RED-Diff, DMPlug, DAPS, TDS).
    pub linear: bool,
}

const fn task(name: &'static str, svd: bool, pinv: bool, rgb_only: bool) -> TaskEntry {
    TaskEntry {
        name,
        kind: Kind::Other,
        svd,
        pinv,
        rgb_only,
        seeded: false,
        blind: false,
        linear: true,
    }
}

const fn seeded(t: TaskEntry) -> TaskEntry {
    TaskEntry { seeded: true, ..t }
}

const fn of(kind: Kind, t: TaskEntry) -> TaskEntry {
    TaskEntry { kind, ..t }
}

impl TaskEntry {
    /// What the task's operator offers, for the solvers.
    pub fn caps(&self) -> Caps {
        Caps {
            kind: self.kind,
            linear: self.linear,
            svd: self.svd,
            pinv: self.pinv,
            blind: self.blind,
        }
    }
}

/// Every task [`build`] knows. Adding an operator is one file, one arm in [`build`] and one line here.
pub const TASKS: &[TaskEntry] = &[
    task("denoise", true, true, false),
    of(
        Kind::Inpainting { region: true },
        task("inpaint-box", true, true, false),
    ),
    of(
        Kind::Inpainting { region: false },
        seeded(task("inpaint-random", true, true, false)),
    ),
    of(
        Kind::Inpainting { region: false },
        task("inpaint-mask", true, true, false),
    ),
    of(Kind::SuperResolution, task("sr", true, true, false)),
    of(Kind::SuperResolution, task("sr-bicubic", true, true, false)),
    of(
        Kind::Deblurring { motion: false },
        task("deblur-gauss", true, true, false),
    ),
    of(
        Kind::Deblurring { motion: true },
        seeded(task("deblur-motion", false, false, false)),
    ),
    TaskEntry {
        blind: true,
        ..of(
            Kind::Deblurring { motion: false },
            task("deblur-blind", false, false, false),
        )
    },
    task("colorize", true, true, true),
    seeded(task("cs", true, true, false)),
    TaskEntry {
        linear: false,
        ..of(Kind::PhaseRetrieval, task("phase-retrieval", false, false, false))
    },
    TaskEntry {
        linear: false,
        ..task("hdr", false, false, false)
    },
];

/// The registry entry of a task name.
pub fn task_entry(name: &str) -> Option<&'static TaskEntry> {
    TASKS.iter().find(|t| t.name == name)
}

/// The names of the tasks for which `pred` holds.
pub fn task_names(pred: impl Fn(&TaskEntry) -> bool) -> Vec<&'static str> {
    TASKS.iter().filter(|t| pred(t)).map(|t| t.name).collect()
}

/// A forward model `y = A(x) + σ_y n`: any map built from recorded ops, so that its vector-Jacobian
/// product comes from the tape. Linear ones also implement [`Linear`] (`Aᵀ`, and where cheap `A⁺`
/// and the SVD) and say so through [`Operator::linear`]; the solvers that need more than `A` ask for
/// it there and refuse a nonlinear task with an error naming the solvers that take any forward model.
pub trait Operator: View + Send + Sync {
    /// The task as a spec string, with every parameter spelled out.
    fn describe(&self) -> String;
    /// Shape of one image `[C, H, W]`.
    fn x_shape(&self) -> [usize; 3];
    /// Shape of one measurement (e.g. `[C, H/4, W/4]` for ×4 super-resolution).
    fn y_shape(&self) -> Vec<usize>;
    /// `A(x)` for a batch `[B, C, H, W]`; differentiable through autograd.
    fn forward(&self, x: &Tensor) -> Result<Tensor>;
    /// The operator as a linear one (`Aᵀ`, `A⁺`, SVD), or `None` for a nonlinear forward model.
    fn linear(&self) -> Option<&dyn Linear> {
        None
    }
    /// The trivial estimate a solver must beat: `A⁺ y` where it exists, else the observation itself
    /// (blur) or its nearest-neighbour enlargement (super-resolution); each nonlinear model states
    /// its own.
    fn trivial(&self, y: &Tensor) -> Result<Tensor> {
        let pinv = match self.linear() {
            Some(l) => l.pinv(y)?,
            None => None,
        };
        pinv.ok_or_else(|| Error::Input(format!("{} has no trivial estimate", self.describe())))
    }
    /// Whether the trivial estimate is the prior's mean image rather than a function of `y` (phase
    /// retrieval, whose magnitudes fix no image without a prior): then [`Operator::trivial`] is an
    /// error and `solvers::trivial_estimate` computes it from the model.
    fn trivial_is_prior_mean(&self) -> bool {
        false
    }
    /// The operator's unknown parameters φ (the kernel of a blind blur), which a blind solver fits
    /// in place; `None` for a known operator, which every solver but the blind ones requires.
    fn unknown(&self) -> Option<&Tensor> {
        None
    }
    /// `A_φ x` with the parameters `phi` in place of [`Operator::unknown`]'s, differentiable in both
    /// `x` and `phi`. Only operators with unknown parameters have it.
    fn forward_with(&self, _x: &Tensor, _phi: &Tensor) -> Result<Tensor> {
        Err(Error::Input(format!(
            "{} has no unknown parameters to vary",
            self.describe()
        )))
    }
    /// Per-sample number of measurements.
    fn m(&self) -> usize {
        self.y_shape().iter().product()
    }
    /// Whether the operator is linear.
    fn is_linear(&self) -> bool {
        self.linear().is_some()
    }
}

/// How a task's measurements are shown to a person and read back: the display side of an operator,
/// kept out of the math of [`Operator`] and [`Linear`] (every operator implements it; the defaults
/// treat the measurement as a picture).
pub trait View {
    /// The observation as a picture a person can look at (e.g. missing pixels black), or `None` when
    /// the measurement is not an image (compressed sensing). By default the measurement itself.
    fn observation_image(&self, y: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(y.clone()))
    }
    /// Reads an observation back from its picture (the inverse of [`View::observation_image`]); an
    /// error where the picture loses information (then `degrade` writes a `.safetensors` too). By
    /// default the picture is the measurement.
    fn measurement_from_image(&self, img: &Tensor) -> Result<Tensor> {
        Ok(img.clone())
    }
    /// Extra pictures worth saving beside the output (the motion-blur kernel), with a file suffix.
    fn extras(&self) -> Vec<(String, Image)> {
        Vec::new()
    }
}

/// What a linear operator adds to its forward map.
pub trait Linear: Operator {
    /// `Aᵀ y` for a batch of measurements.
    fn adjoint(&self, y: &Tensor) -> Result<Tensor>;
    /// `A⁺ y`, where the operator's structure gives it cheaply.
    fn pinv(&self, _y: &Tensor) -> Result<Option<Tensor>> {
        Ok(None)
    }
    /// The operator's SVD, where its structure makes it cheap (see [`Svd`]); the spectral solvers
    /// (DDRM, DDNM, ΠGDM) need it. Separable ones are computed on first use, and refused with an
    /// error for images larger than [`MAX_SVD_SIDE`] a side.
    fn svd(&self) -> Result<Option<&dyn Svd>> {
        Ok(None)
    }
}

/// Builds the operator of a task for images of shape `[C, H, W]`: [`resolve`] (every parameter checked
/// on the host), then the device tensors.
///
/// | task | parameters (defaults for 32×32; for ≥ 256×256 the DPS paper's settings) |
/// | --- | --- |
/// | `denoise` | — |
/// | `inpaint-box` | `x, y, w, h`: a centred box of half the size (16×16; 128×128) |
/// | `inpaint-random` | `p` = fraction of pixels missing, 0.7; `seed` 0 |
/// | `inpaint-mask` | `path` = a PNG of the image's size, white = observed |
/// | `sr` | `factor` 4: average pooling |
/// | `sr-bicubic` | `factor` 4: bicubic (a = -0.5) antialiased downsampling |
/// | `deblur-gauss` | `size` 9, `sigma` 1.5 (61, 3.0) |
/// | `deblur-motion` | `size` 9 (61), `intensity` 0.5, `seed` 0: a random-trajectory kernel |
/// | `deblur-blind` | `size` 9 (61), `init_sigma` size/6 (0: a delta): the kernel is unknown, estimated by `blind-red-diff` |
/// | `colorize` | — (RGB models): the channel mean |
/// | `cs` | `ratio` 0.25, `seed` 0: random signs and a subsampled Walsh–Hadamard transform per channel |
/// | `phase-retrieval` | `oversample` 2: `y = |F(P x)|`, zero-padded to 2× the side (nonlinear) |
/// | `hdr` | `scale` 2: `y = clip(scale · x, −1, 1)` (nonlinear) |
pub fn build(gpu: &Gpu, spec: &TaskSpec, x_shape: [usize; 3]) -> Result<Box<dyn Operator>> {
    build_plan(gpu, resolve(spec, x_shape)?, x_shape)
}

/// The operator of a [`Plan`] that [`resolve`] made for images of shape `[C, H, W]`.
pub fn build_plan(gpu: &Gpu, plan: Plan, x_shape: [usize; 3]) -> Result<Box<dyn Operator>> {
    let desc = plan.describe();
    let op: Box<dyn Operator> = match plan {
        Plan::Denoise => Box::new(linear::Identity::new(gpu, x_shape)?),
        Plan::Mask { mask, .. } => Box::new(mask::Inpaint::new(gpu, x_shape, &mask, desc)?),
        Plan::Sr {
            factor,
            bicubic: false,
        } => Box::new(linear::AvgPool::new(gpu, x_shape, factor)?),
        Plan::Sr {
            factor,
            bicubic: true,
        } => Box::new(linear::Bicubic::new(gpu, x_shape, factor)?),
        Plan::Gauss { size, sigma } => Box::new(linear::Blur::separable(
            gpu,
            x_shape,
            &gaussian_taps(size, sigma),
            desc,
        )?),
        Plan::Motion {
            size,
            intensity,
            seed,
        } => {
            let k = motion_kernel(size, intensity, seed);
            let img = Image {
                channels: 1,
                height: size,
                width: size,
                data: kernel_picture(&k),
            };
            Box::new(linear::Blur::dense(gpu, x_shape, size, &k, desc, Some(img))?)
        }
        Plan::Blind { size, init_sigma } => {
            Box::new(blind::BlindBlur::new(gpu, x_shape, size, init_sigma, desc)?)
        }
        Plan::Colorize => Box::new(linear::Colorize::new(gpu, x_shape)?),
        Plan::Cs { ratio, seed } => Box::new(cs::WalshHadamard::new(gpu, x_shape, ratio, seed)?),
        Plan::PhaseRetrieval { oversample } => {
            Box::new(nonlinear::PhaseRetrieval::new(gpu, x_shape, oversample)?)
        }
        Plan::Hdr { scale } => Box::new(nonlinear::Hdr::new(x_shape, scale)),
    };
    Ok(op)
}

/// A task with every parameter resolved and checked, before anything touches the device.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// `denoise`.
    Denoise,
    /// The inpainting tasks: the mask (1 = observed) over H×W and the resolved spec.
    Mask {
        /// 1 where a pixel is observed, 0 where it is missing, row-major H×W.
        mask: Vec<f32>,
        /// The spec with every parameter spelled out.
        spec: String,
        /// Pixels of a mask file that were neither black nor white (thresholded at mid-gray).
        gray: usize,
    },
    /// `sr` (average pooling) or `sr-bicubic`.
    Sr {
        /// The downsampling factor.
        factor: usize,
        /// Bicubic instead of average pooling.
        bicubic: bool,
    },
    /// `deblur-gauss`.
    Gauss {
        /// Kernel side (odd).
        size: usize,
        /// Standard deviation in pixels.
        sigma: f64,
    },
    /// `deblur-motion`.
    Motion {
        /// Kernel side (odd).
        size: usize,
        /// How much the trajectory wanders, in [0, 1].
        intensity: f64,
        /// Seed of the trajectory.
        seed: u64,
    },
    /// `deblur-blind`: the kernel is unknown.
    Blind {
        /// Kernel side (odd).
        size: usize,
        /// Standard deviation of the starting Gaussian (0: a delta).
        init_sigma: f64,
    },
    /// `colorize`.
    Colorize,
    /// `cs`.
    Cs {
        /// Measurements per pixel and channel, in (0, 1].
        ratio: f64,
        /// Seed of the rows and signs.
        seed: u64,
    },
    /// `phase-retrieval`.
    PhaseRetrieval {
        /// Padded side over the image side (the padded side a power of two).
        oversample: usize,
    },
    /// `hdr`.
    Hdr {
        /// The gain before clipping.
        scale: f64,
    },
}

impl Plan {
    /// What a user should know about how the task was read, when there is something: a mask file
    /// with gray pixels, which are thresholded at mid-gray.
    pub fn note(&self) -> Option<String> {
        match self {
            Plan::Mask { spec, gray, mask } if *gray > 0 => Some(format!(
                "{spec}: {gray} of the mask's {} pixels are neither black nor white; those brighter than \
                 mid-gray count as observed (white), the others as missing — give a black-and-white mask \
                 to choose each pixel yourself",
                mask.len()
            )),
            _ => None,
        }
    }

    /// The task spec with every parameter spelled out (what `restore` must be given to rebuild the
    /// same operator).
    pub fn describe(&self) -> String {
        match self {
            Plan::Denoise => "denoise".into(),
            Plan::Mask { spec, .. } => spec.clone(),
            Plan::Sr { factor, bicubic } => {
                format!("{}:factor={factor}", if *bicubic { "sr-bicubic" } else { "sr" })
            }
            Plan::Gauss { size, sigma } => format!("deblur-gauss:size={size},sigma={sigma}"),
            Plan::Motion {
                size,
                intensity,
                seed,
            } => {
                format!("deblur-motion:size={size},intensity={intensity},seed={seed}")
            }
            Plan::Colorize => "colorize".into(),
            Plan::Blind { size, init_sigma } => format!("deblur-blind:size={size},init_sigma={init_sigma}"),
            Plan::Cs { ratio, seed } => format!("cs:ratio={ratio},seed={seed}"),
            Plan::PhaseRetrieval { oversample } => format!("phase-retrieval:oversample={oversample}"),
            Plan::Hdr { scale } => format!("hdr:scale={scale}"),
        }
    }
}

/// Checks a task spec against images of shape `[C, H, W]` without a device: the name, each key, each
/// value's type and range (the range is in the message), and that the task fits the image. Reads
/// the mask file of `inpaint-mask`.
pub fn resolve(spec: &TaskSpec, x_shape: [usize; 3]) -> Result<Plan> {
    let [c, h, w] = x_shape;
    if c == 0 || h == 0 || w == 0 {
        return Err(Error::Input(format!("images of shape {x_shape:?} are empty")));
    }
    let big = h.min(w) >= 256;
    let plan = match spec.name.as_str() {
        "denoise" => {
            spec.check_keys(&[])?;
            Plan::Denoise
        }
        "inpaint-box" => {
            spec.check_keys(&["x", "y", "w", "h"])?;
            let bw = spec.usize("w", w / 2, 1)?;
            let bh = spec.usize("h", h / 2, 1)?;
            let bx = spec.usize("x", (w - bw.min(w)) / 2, 0)?;
            let by = spec.usize("y", (h - bh.min(h)) / 2, 0)?;
            if bx.checked_add(bw).is_none_or(|e| e > w) || by.checked_add(bh).is_none_or(|e| e > h) {
                return Err(Error::Input(format!(
                    "inpaint-box x={bx},y={by},w={bw},h={bh} does not fit a {w}x{h} image: the box must lie inside it"
                )));
            }
            let mut m = vec![1f32; h * w];
            for yy in by..by + bh {
                m[yy * w + bx..yy * w + bx + bw].fill(0.0);
            }
            Plan::Mask {
                mask: m,
                spec: format!("inpaint-box:x={bx},y={by},w={bw},h={bh}"),
                gray: 0,
            }
        }
        "inpaint-random" => {
            spec.check_keys(&["p", "seed"])?;
            let p = spec.f64(
                "p",
                0.7,
                |p| (0.0..1.0).contains(&p),
                "in [0, 1) (the missing fraction)",
            )?;
            let seed = spec.u64("seed", 0)?;
            let m: Vec<f32> = (0..h * w)
                .map(|i| {
                    let r = crate::ops::random::philox4x32_10(
                        [i as u32, 0, 7, 0],
                        [seed as u32, (seed >> 32) as u32],
                    );
                    if (r[0] as f64 / 4294967296.0) < p {
                        0.0
                    } else {
                        1.0
                    }
                })
                .collect();
            Plan::Mask {
                mask: m,
                spec: format!("inpaint-random:p={p},seed={seed}"),
                gray: 0,
            }
        }
        "inpaint-mask" => {
            spec.check_keys(&["path"])?;
            let path = spec
                .get("path")
                .ok_or_else(|| Error::Input("inpaint-mask needs path=mask.png".into()))?;
            let img = crate::io::read_image(std::path::Path::new(path))?;
            if img.height != h || img.width != w {
                return Err(Error::Input(format!(
                    "mask {path} is {}x{} but the images are {w}x{h}",
                    img.width, img.height
                )));
            }
            // gray pixels (an anti-aliased edge, a soft brush) are thresholded at mid-gray; the
            // caller is told how many through Plan::note
            let gray = (0..h * w)
                .filter(|&i| (0..img.channels).any(|c| img.data[c * h * w + i].abs() < 1.0 - 1e-3))
                .count();
            Plan::Mask {
                mask: (0..h * w)
                    .map(|i| if img.data[i] > 0.0 { 1.0 } else { 0.0 })
                    .collect(),
                spec: format!("inpaint-mask:path={path}"),
                gray,
            }
        }
        "sr" | "sr-bicubic" => {
            spec.check_keys(&["factor"])?;
            let f = spec.usize("factor", 4, 2)?;
            if !h.is_multiple_of(f) || !w.is_multiple_of(f) {
                return Err(Error::Input(format!(
                    "{}: factor {f} must divide the image size {w}x{h}",
                    spec.name
                )));
            }
            Plan::Sr {
                factor: f,
                bicubic: spec.name == "sr-bicubic",
            }
        }
        "deblur-gauss" => {
            spec.check_keys(&["size", "sigma"])?;
            let size = spec.usize("size", if big { 61 } else { 9 }, 1)?;
            let sigma = spec.f64(
                "sigma",
                if big { 3.0 } else { 1.5 },
                |s| (0.1..=1000.0).contains(&s),
                "in [0.1, 1000] (pixels)",
            )?;
            odd_kernel("deblur-gauss", size, h, w)?;
            Plan::Gauss { size, sigma }
        }
        "deblur-motion" => {
            spec.check_keys(&["size", "intensity", "seed"])?;
            let size = spec.usize("size", if big { 61 } else { 9 }, 1)?;
            let intensity = spec.f64("intensity", 0.5, |i| (0.0..=1.0).contains(&i), "in [0, 1]")?;
            let seed = spec.u64("seed", 0)?;
            odd_kernel("deblur-motion", size, h, w)?;
            Plan::Motion {
                size,
                intensity,
                seed,
            }
        }
        "deblur-blind" => {
            spec.check_keys(&["size", "init_sigma"])?;
            let size = spec.usize("size", if big { 61 } else { 9 }, 1)?;
            let init_sigma = spec.f64(
                "init_sigma",
                size as f64 / 6.0,
                |s| s == 0.0 || (0.1..=1000.0).contains(&s),
                "0 (a delta) or in [0.1, 1000] (pixels)",
            )?;
            odd_kernel("deblur-blind", size, h, w)?;
            Plan::Blind { size, init_sigma }
        }
        "colorize" => {
            spec.check_keys(&[])?;
            if c != 3 {
                return Err(Error::Input(format!(
                    "colorize works on RGB images (3 channels), and these have {c}: use an RGB picture and an RGB model"
                )));
            }
            Plan::Colorize
        }
        "phase-retrieval" => {
            spec.check_keys(&["oversample"])?;
            let oversample = spec.usize("oversample", 2, 1)?;
            for side in [h * oversample, w * oversample] {
                if !side.is_power_of_two() || side > crate::ops::MAX_FFT_SIDE {
                    return Err(Error::Input(format!(
                        "phase-retrieval:oversample={oversample} pads {h}x{w} images to {}x{}: the \
                         padded side must be a power of two up to {}",
                        h * oversample,
                        w * oversample,
                        crate::ops::MAX_FFT_SIDE
                    )));
                }
            }
            Plan::PhaseRetrieval { oversample }
        }
        "hdr" => {
            spec.check_keys(&["scale"])?;
            let scale = spec.f64("scale", 2.0, |s| (1.0..=100.0).contains(&s), "in [1, 100]")?;
            Plan::Hdr { scale }
        }
        "cs" => {
            spec.check_keys(&["ratio", "seed"])?;
            let ratio = spec.f64(
                "ratio",
                0.25,
                |r| r > 0.0 && r <= 1.0,
                "in (0, 1] (measurements per pixel)",
            )?;
            let seed = spec.u64("seed", 0)?;
            let n = h * w;
            if !n.is_power_of_two() || n > 65536 {
                return Err(Error::Input(format!(
                    "cs needs images whose height x width is a power of two up to 65536; these have {n}"
                )));
            }
            Plan::Cs { ratio, seed }
        }
        other => {
            return Err(Error::Input(format!(
                "unknown task {other:?}; tasks: {}",
                task_names(|_| true).join(", ")
            )));
        }
    };
    Ok(plan)
}

/// A blur kernel side must be odd and fit the image.
fn odd_kernel(task: &str, size: usize, h: usize, w: usize) -> Result<()> {
    if size.is_multiple_of(2) || size > h.min(w) {
        return Err(Error::Input(format!(
            "{task}: size={size} must be odd and at most the image's shorter side ({})",
            h.min(w)
        )));
    }
    Ok(())
}

/// A kernel scaled to [-1, 1] for viewing (largest tap white).
fn kernel_picture(k: &[f32]) -> Vec<f32> {
    let mx = k.iter().cloned().fold(f32::MIN, f32::max).max(1e-12);
    k.iter().map(|v| 2.0 * v / mx - 1.0).collect()
}

/// Adds `sigma * n` (Gaussian noise from the stream `seed`) to a measurement.
pub fn add_noise(y: &Tensor, sigma: f64, seed: u64) -> Result<Tensor> {
    if sigma == 0.0 {
        return Ok(y.clone());
    }
    let n = crate::ops::random::randn(y.gpu(), y.shape(), seed, 0, 2)?;
    crate::ops::axpby(1.0, y, sigma as f32, &n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The registry's flags are what the operators offer, and every registered name builds.
    #[test]
    fn task_registry_matches_the_operators() {
        let gpu = match Gpu::new() {
            Ok(g) => g,
            Err(_) => return, // no adapter: the integration tests report it
        };
        let dir = std::env::temp_dir().join("tweedie-task-registry");
        std::fs::create_dir_all(&dir).unwrap();
        let mask = dir.join("mask.png");
        image::GrayImage::from_fn(32, 32, |x, _| image::Luma([if x < 16 { 255 } else { 0 }]))
            .save(&mask)
            .unwrap();
        for t in TASKS {
            let spec: TaskSpec = match t.name {
                "inpaint-mask" => format!("inpaint-mask:path={}", mask.display()).parse().unwrap(),
                n => n.parse().unwrap(),
            };
            let c = if t.rgb_only { 3 } else { 1 };
            let op = build(&gpu, &spec, [c, 32, 32]).unwrap_or_else(|e| panic!("{}: {e}", t.name));
            assert_eq!(op.is_linear(), t.linear, "{}: linear flag", t.name);
            let Some(lin) = op.linear() else {
                assert!(
                    !t.svd && !t.pinv,
                    "{}: a nonlinear task with linear structure",
                    t.name
                );
                continue;
            };
            assert_eq!(lin.svd().unwrap().is_some(), t.svd, "{}: svd flag", t.name);
            let mut ys = vec![1];
            ys.extend(op.y_shape());
            let y = Tensor::full(&gpu, &ys, 0.1).unwrap();
            let own = lin.pinv(&y).unwrap().is_some();
            assert_eq!(own || t.svd, t.pinv, "{}: pinv flag", t.name);
        }
        assert!(build(&gpu, &"nope".parse().unwrap(), [1, 32, 32]).is_err());
    }
}
