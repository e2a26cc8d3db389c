//! Measurement operators `y = A x + σ_y n`: each gives `A` (built from recorded ops, so solvers can
//! differentiate through it), its adjoint `Aᵀ`, and, where the structure makes it cheap, the
//! pseudo-inverse `A⁺`. Images are `[B, C, H, W]` in [-1, 1]; a measurement is `[B, ...]` of the
//! operator's own shape.
//!
//! Tasks are written `name[:key=value,...]` (see [`TaskSpec`]). Each task is one [`TaskEntry`] in
//! its operator's file (name, keys, defaults and checks, description, capabilities, constructor);
//! [`TASKS`] lists them, and [`resolve`], [`Plan`] and [`build`] work through the entries alone.
//!
//! Adding an operator: in its file, the operator type ([`Operator`] with `described!()` for its
//! description and capabilities, [`View`], and [`Linear`] where it has `Aᵀ`) and a `pub(super)
//! const` [`TaskEntry`]; here, its `mod` line and one line in [`TASKS`]. Solvers and the CLI take it
//! from there (its [`Caps`] choose which solvers run it and their defaults), and the unit test
//! builds every entry and checks its capabilities and picture against the operator.

/// [`Operator::describe`] and [`Operator::caps`] of a registered operator that keeps the
/// [`Described`] its constructor was given in a field `task`.
macro_rules! described {
    () => {
        fn describe(&self) -> String {
            self.task.spec.clone()
        }
        fn caps(&self) -> super::Caps {
            self.task.caps
        }
    };
}

mod blind;
mod blur;
mod cs;
mod latent;
mod linear;
mod mask;
mod mri;
pub mod noise;
mod nonlinear;
mod spec;
mod svd;

pub use blind::BlindBlur;
pub use blur::{gaussian_kernel, gaussian_taps, motion_kernel};
pub use cs::WalshHadamard;
pub use latent::Decoded;
pub use linear::MAX_SVD_SIDE;
pub use linear::{AvgPool, Bicubic, Blur, Colorize, Identity};
pub use mask::Inpaint;
pub use mri::Mri;
pub use noise::{NOISE_KINDS, Noise, poisson_counts};
pub use nonlinear::{Hdr, PhaseRetrieval};
pub use spec::TaskSpec;
pub use svd::{ChannelMean, Diagonal, Separable, Svd, correlation_matrix, svd as jacobi_svd};

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::tensor::Tensor;
use std::sync::Arc;

/// Every task [`build`] knows, in the order error messages list them: one line per task, each
/// defined in its operator's file.
pub const TASKS: &[TaskEntry] = &[
    linear::DENOISE,
    mask::INPAINT_BOX,
    mask::INPAINT_RANDOM,
    mask::INPAINT_MASK,
    linear::SR,
    linear::SR_BICUBIC,
    linear::DEBLUR_GAUSS,
    linear::DEBLUR_MOTION,
    blind::DEBLUR_BLIND,
    linear::COLORIZE,
    cs::CS,
    nonlinear::PHASE_RETRIEVAL,
    nonlinear::HDR,
    mri::MRI,
];

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
    /// Anything else (denoising, colorization, compressed sensing, HDR, MRI, a host's operator).
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
    /// Whether it is a pixel-space operator seen from an autoencoder's latents, `A(D(z))`
    /// ([`Decoded`]): what the latent solvers (PSLD) run.
    pub latent: bool,
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
            latent: false,
        }
    }

    /// A linear operator of `kind` with an SVD (and so `A⁺`).
    pub const fn spectral(kind: Kind) -> Caps {
        Caps {
            svd: true,
            pinv: true,
            ..Caps::linear(kind)
        }
    }

    /// A nonlinear forward model of `kind` (no `Aᵀ`, no structure).
    pub const fn nonlinear(kind: Kind) -> Caps {
        Caps {
            linear: false,
            ..Caps::linear(kind)
        }
    }
}

/// How a task's measurements are saved as a picture by `degrade`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Picture {
    /// The picture is the measurement, read back exactly ([`View::measurement_from_image`]).
    Exact,
    /// The picture is a view only (phase retrieval's log magnitude): the exact measurement must be
    /// saved beside it.
    View,
    /// The measurement is not a picture (compressed sensing): it goes to a `.safetensors` file.
    None,
}

/// One task: its name, its parameters, what its operator offers, and how a spec of it is checked
/// and resolved into a [`Plan`] (which builds the operator). Each operator's file defines its
/// tasks' entries; [`TASKS`] lists them.
pub struct TaskEntry {
    /// The name in a task spec.
    pub name: &'static str,
    /// Its parameters and their defaults, in words (for 32×32 images; for ≥ 256×256 the DPS
    /// paper's settings, where they differ, in parentheses).
    pub about: &'static str,
    /// The keys a spec may give, in the order the description spells them.
    pub keys: &'static [&'static str],
    /// What the operator offers besides `A` (solvers' defaults and which of them run it); a unit
    /// test builds every entry and checks them against the operator.
    pub caps: Caps,
    /// Whether it needs RGB images (and an RGB model).
    pub rgb_only: bool,
    /// How its measurements are saved as a picture.
    pub picture: Picture,
    /// Checks a spec (its keys already checked against [`TaskEntry::keys`]) against images
    /// `[C, H, W]` and resolves every parameter.
    resolve: fn(&TaskSpec, [usize; 3]) -> Result<Resolved>,
}

impl TaskEntry {
    /// What the task's operator offers, for the solvers.
    pub fn caps(&self) -> Caps {
        self.caps
    }

    /// Whether it takes a `seed` (a random mask, kernel or matrix).
    pub fn seeded(&self) -> bool {
        self.keys.contains(&"seed")
    }
}

/// The registry entry of a task name.
pub fn task_entry(name: &str) -> Option<&'static TaskEntry> {
    TASKS.iter().find(|t| t.name == name)
}

/// The names of the tasks whose operators offer what `pred` asks of their [`Caps`].
pub fn task_names(pred: impl Fn(&Caps) -> bool) -> Vec<&'static str> {
    TASKS.iter().filter(|t| pred(&t.caps)).map(|t| t.name).collect()
}

/// What a registered operator says about itself: its task spec with every parameter spelled out
/// ([`Operator::describe`]) and its entry's capabilities ([`Operator::caps`]). [`build_plan`] hands
/// it to the operator's constructor.
#[derive(Debug, Clone, PartialEq)]
pub struct Described {
    /// The task spec with every parameter spelled out.
    pub spec: String,
    /// What the operator offers.
    pub caps: Caps,
}

type BuildFn = dyn Fn(&Gpu, [usize; 3], Described) -> Result<Box<dyn Operator>> + Send + Sync;
type AcceptFn = dyn Fn(&Plan) -> bool + Send + Sync;

/// A task's parameters once checked against an image shape, as a [`TaskEntry`]'s resolve gives
/// them: the values its description spells out and the constructor of its operator, with what the
/// user should be told and the few special rules some tasks have.
#[derive(Clone)]
pub struct Resolved {
    values: Vec<(&'static str, String)>,
    build: Arc<BuildFn>,
    note: Option<String>,
    content: Option<Arc<Vec<f32>>>,
    refusal: Option<String>,
    restores: Option<Arc<AcceptFn>>,
}

impl Resolved {
    /// The resolved `values` (key and value, in the order the description spells them) and the
    /// constructor of the operator for images `[C, H, W]`.
    pub fn new(
        values: &[(&'static str, &dyn std::fmt::Display)],
        build: impl Fn(&Gpu, [usize; 3], Described) -> Result<Box<dyn Operator>> + Send + Sync + 'static,
    ) -> Resolved {
        Resolved {
            values: values.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            build: Arc::new(build),
            note: None,
            content: None,
            refusal: None,
            restores: None,
        }
    }

    /// What a user should know about how the task was read ([`Plan::note`]).
    pub fn note(mut self, note: Option<String>) -> Resolved {
        self.note = note;
        self
    }

    /// What makes two plans of the task build the same operator when the description does not say
    /// it (a mask file's pixels rather than its path).
    pub fn content(mut self, content: Vec<f32>) -> Resolved {
        self.content = Some(Arc::new(content));
        self
    }

    /// Why observations cannot be made with the operator (a blind blur has no kernel to blur with).
    pub fn refuse_measuring(mut self, why: String) -> Resolved {
        self.refusal = Some(why);
        self
    }

    /// Which recorded plans the task restores besides its own (a blind blur restores the
    /// observations of a known blur of the same size).
    pub fn restores(mut self, accepts: impl Fn(&Plan) -> bool + Send + Sync + 'static) -> Resolved {
        self.restores = Some(Arc::new(accepts));
        self
    }
}

/// A task with every parameter resolved and checked against an image shape, before anything
/// touches the device: its [`TaskEntry`] and its [`Resolved`] values.
#[derive(Clone)]
pub struct Plan {
    task: &'static TaskEntry,
    r: Resolved,
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Plan({})", self.describe())
    }
}

impl Plan {
    /// The task's registry entry.
    pub fn task(&self) -> &'static TaskEntry {
        self.task
    }

    /// What the operator offers.
    pub fn caps(&self) -> Caps {
        self.task.caps
    }

    /// The resolved value of `key`, as the description spells it.
    pub fn value(&self, key: &str) -> Option<&str> {
        self.r
            .values
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The task spec with every parameter spelled out (what `restore` must be given to rebuild the
    /// same operator).
    pub fn describe(&self) -> String {
        if self.r.values.is_empty() {
            return self.task.name.into();
        }
        let kv: Vec<String> = self.r.values.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{}:{}", self.task.name, kv.join(","))
    }

    /// What a user should know about how the task was read, when there is something (a mask file
    /// with gray pixels, which are thresholded at mid-gray).
    pub fn note(&self) -> Option<String> {
        self.r.note.clone()
    }

    /// How its measurements are saved as a picture.
    pub fn picture(&self) -> Picture {
        self.task.picture
    }

    /// Whether observations can be made with the operator and written where `picture` says (a
    /// picture, or else a `.safetensors` file): a blind blur has no kernel to blur with, and
    /// measurements that are not pictures (compressed sensing) go to a `.safetensors` file.
    pub fn check_measurable(&self, picture: bool) -> Result<()> {
        if let Some(why) = &self.r.refusal {
            return Err(Error::Input(why.clone()));
        }
        if picture && self.picture() == Picture::None {
            return Err(Error::Input(format!(
                "{} measurements are not images: write them to a .safetensors file",
                self.describe()
            )));
        }
        Ok(())
    }

    /// Whether two plans build the same operator (masks compared by content, so `path=./m.png` and
    /// `path=m.png` agree).
    pub fn same(&self, other: &Plan) -> bool {
        match (&self.r.content, &other.r.content) {
            (Some(a), Some(b)) => a == b && self.task.name == other.task.name,
            _ => self.describe() == other.describe(),
        }
    }

    /// Whether this plan restores the observations that `made` made: the same operator, or for a
    /// blind task one whose unknown part the plan estimates (a known blur of its size).
    pub fn restores(&self, made: &Plan) -> bool {
        match &self.r.restores {
            Some(accepts) => accepts(made),
            None => self.same(made),
        }
    }
}

/// How a task given for restoring relates to the task an observation records ([`agreement`]).
#[derive(Debug)]
pub enum Agreement {
    /// The given task restores the recorded observations.
    Agrees,
    /// The recorded task cannot be rebuilt here (its mask file is not where it was read), so the
    /// given task cannot be checked against it: why.
    Unchecked(Error),
    /// The given task builds another operator.
    Disagrees,
}

/// Checks the task `given` for restoring against the task `recorded` in an observation of images
/// `[C, H, W]`, returning the task to restore with: `given` with the parameters it leaves out taken
/// from the record. A blind task (whose unknown part the solver estimates) agrees with the known
/// operator it estimates ([`Plan::restores`]).
pub fn agreement(given: TaskSpec, recorded: &TaskSpec, x_shape: [usize; 3]) -> Result<(TaskSpec, Agreement)> {
    let agrees = |b: bool| {
        if b {
            Agreement::Agrees
        } else {
            Agreement::Disagrees
        }
    };
    if task_entry(&given.name).is_some_and(|t| t.caps.blind) {
        let got = resolve(&given, x_shape)?;
        let made = resolve(recorded, x_shape)?;
        let a = agrees(got.restores(&made));
        return Ok((given, a));
    }
    if given.name != recorded.name {
        return Ok((given, Agreement::Disagrees));
    }
    let mut spec = given;
    for (k, v) in &recorded.params {
        spec = spec.with_default(k, v);
    }
    let got = resolve(&spec, x_shape)?;
    let a = match resolve(recorded, x_shape) {
        Ok(want) => agrees(got.restores(&want)),
        Err(e) => Agreement::Unchecked(e),
    };
    Ok((spec, a))
}

/// A forward model `y = A(x) + σ_y n`: any map built from recorded ops, so that its vector-Jacobian
/// product comes from the tape. Linear ones also implement [`Linear`] (`Aᵀ`, and where cheap `A⁺`
/// and the SVD) and say so through [`Operator::linear`]; the solvers that need more than `A` ask for
/// it there and refuse a nonlinear task with an error naming the solvers that take any forward model.
pub trait Operator: View + Send + Sync {
    /// The task as a spec string, with every parameter spelled out.
    fn describe(&self) -> String;
    /// What the operator offers (its [`Kind`], linearity, SVD, `A⁺`, unknown parameters): the
    /// registered ones report their [`TaskEntry`]'s. By default what the trait methods show without
    /// computing anything: [`Kind::Other`], linear when [`Operator::linear`] is there, blind when
    /// [`Operator::unknown`] is, and neither SVD nor `A⁺` (a host's operator that has them says so).
    fn caps(&self) -> Caps {
        Caps {
            linear: self.is_linear(),
            blind: self.unknown().is_some(),
            ..Caps::nonlinear(Kind::Other)
        }
    }
    /// Shape of one image `[C, H, W]`.
    fn x_shape(&self) -> [usize; 3];
    /// Shape of one measurement (e.g. `[C, H/4, W/4]` for ×4 super-resolution); by default the
    /// image's.
    fn y_shape(&self) -> Vec<usize> {
        self.x_shape().to_vec()
    }
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
    /// The operator as a latent problem `A(D(z))` ([`Decoded`]: its pixel-space operator and
    /// autoencoder), for the latent solvers; `None` for every pixel-space operator.
    fn decoded(&self) -> Option<&Decoded> {
        None
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
    /// Extra pictures worth saving beside the output (the motion-blur kernel), each with a file
    /// suffix, as `[1, C, H, W]` tensors in [-1, 1].
    fn extras(&self) -> Result<Vec<(String, Tensor)>> {
        Ok(Vec::new())
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
/// on the host), then the device tensors. The tasks are those of [`TASKS`]; each entry's
/// [`TaskEntry::about`] gives its parameters and their defaults.
pub fn build(gpu: &Gpu, spec: &TaskSpec, x_shape: [usize; 3]) -> Result<Box<dyn Operator>> {
    build_plan(gpu, resolve(spec, x_shape)?, x_shape)
}

/// The operator of a [`Plan`] that [`resolve`] made for images of shape `[C, H, W]`.
pub fn build_plan(gpu: &Gpu, plan: Plan, x_shape: [usize; 3]) -> Result<Box<dyn Operator>> {
    let task = Described {
        spec: plan.describe(),
        caps: plan.caps(),
    };
    (plan.r.build)(gpu, x_shape, task)
}

/// Checks a task spec against images of shape `[C, H, W]` without a device: the name, each key, each
/// value's type and range (the range is in the message), and that the task fits the image. Reads
/// the mask file of `inpaint-mask`.
pub fn resolve(spec: &TaskSpec, x_shape: [usize; 3]) -> Result<Plan> {
    let [c, h, w] = x_shape;
    if c == 0 || h == 0 || w == 0 {
        return Err(Error::Input(format!("images of shape {x_shape:?} are empty")));
    }
    let task = task_entry(&spec.name).ok_or_else(|| {
        Error::Input(format!(
            "unknown task {:?}; tasks: {}",
            spec.name,
            task_names(|_| true).join(", ")
        ))
    })?;
    spec.check_keys(task.keys)?;
    Ok(Plan {
        task,
        r: (task.resolve)(spec, x_shape)?,
    })
}

/// Whether images of `[C, H, W]` are large enough for the DPS paper's settings (≥ 256 a side).
fn big(x_shape: [usize; 3]) -> bool {
    x_shape[1].min(x_shape[2]) >= 256
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

/// A `size`×`size` kernel as a picture `[1, 1, size, size]` in [-1, 1] (largest tap white).
fn kernel_picture(gpu: &Gpu, k: &[f32], size: usize) -> Result<Tensor> {
    let mx = k.iter().cloned().fold(f32::MIN, f32::max).max(1e-12);
    let v: Vec<f32> = k.iter().map(|v| 2.0 * v / mx - 1.0).collect();
    Tensor::from_slice(gpu, &[1, 1, size, size], &v)
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

    /// The registry's capabilities are what the operators offer and report, their pictures are
    /// what their views do, and every registered name builds.
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
            let plan = resolve(&spec, [c, 32, 32]).unwrap_or_else(|e| panic!("{}: {e}", t.name));
            let desc = plan.describe();
            let op = build_plan(&gpu, plan, [c, 32, 32]).unwrap_or_else(|e| panic!("{}: {e}", t.name));
            assert_eq!(op.describe(), desc, "{}: description", t.name);
            assert_eq!(op.caps(), t.caps, "{}: the operator's caps", t.name);
            assert_eq!(op.is_linear(), t.caps.linear, "{}: linear flag", t.name);
            assert_eq!(op.unknown().is_some(), t.caps.blind, "{}: blind flag", t.name);
            let mut ys = vec![1];
            ys.extend(op.y_shape());
            let y = Tensor::full(&gpu, &ys, 0.1).unwrap();
            let shown = op.observation_image(&y).unwrap();
            let picture = match &shown {
                None => Picture::None,
                Some(p) if op.measurement_from_image(p).is_err() => Picture::View,
                Some(_) => Picture::Exact,
            };
            assert_eq!(picture, t.picture, "{}: picture", t.name);
            let Some(lin) = op.linear() else {
                assert!(
                    !t.caps.svd && !t.caps.pinv,
                    "{}: a nonlinear task with linear structure",
                    t.name
                );
                continue;
            };
            assert_eq!(lin.svd().unwrap().is_some(), t.caps.svd, "{}: svd flag", t.name);
            let own = lin.pinv(&y).unwrap().is_some();
            assert_eq!(own || t.caps.svd, t.caps.pinv, "{}: pinv flag", t.name);
        }
        assert!(build(&gpu, &"nope".parse().unwrap(), [1, 32, 32]).is_err());
    }

    fn plan(spec: &str, x_shape: [usize; 3]) -> Plan {
        resolve(&spec.parse().unwrap(), x_shape).unwrap()
    }

    /// Each task's description spells out every parameter, defaults included, in its key order.
    #[test]
    fn descriptions_spell_out_every_parameter() {
        for (spec, c, want) in [
            ("denoise", 1, "denoise"),
            ("inpaint-box", 1, "inpaint-box:x=8,y=8,w=16,h=16"),
            ("inpaint-random", 1, "inpaint-random:p=0.7,seed=0"),
            ("sr", 1, "sr:factor=4"),
            ("sr-bicubic:factor=2", 1, "sr-bicubic:factor=2"),
            ("deblur-gauss", 1, "deblur-gauss:size=9,sigma=1.5"),
            (
                "deblur-motion:seed=3",
                1,
                "deblur-motion:size=9,intensity=0.5,seed=3",
            ),
            ("deblur-blind", 1, "deblur-blind:size=9,init_sigma=1.5"),
            ("colorize", 3, "colorize"),
            ("cs", 1, "cs:ratio=0.25,seed=0"),
            ("phase-retrieval", 1, "phase-retrieval:oversample=2"),
            ("hdr", 1, "hdr:scale=2"),
            ("mri", 1, "mri:accel=4,center=0.08,mask=cartesian,seed=0"),
        ] {
            assert_eq!(plan(spec, [c, 32, 32]).describe(), want);
        }
        assert_eq!(
            plan("deblur-gauss", [3, 256, 256]).describe(),
            "deblur-gauss:size=61,sigma=3"
        );
        let e = resolve(&"sr:size=3".parse().unwrap(), [1, 32, 32]).unwrap_err();
        assert!(e.to_string().contains("it takes: factor"), "{e}");
    }

    /// The special rules some tasks carry in their definitions: a blind blur makes no observations
    /// and restores those of a known blur of its size; compressed-sensing measurements are no
    /// picture; a given task takes the parameters it leaves out from the record.
    #[test]
    fn tasks_carry_their_own_rules() {
        let s = [1, 32, 32];
        let e = plan("deblur-blind:size=5", s)
            .check_measurable(false)
            .unwrap_err();
        assert!(e.to_string().contains("deblur-gauss:size=5"), "{e}");
        let e = plan("cs", s).check_measurable(true).unwrap_err();
        assert!(e.to_string().contains("not images"), "{e}");
        plan("cs", s).check_measurable(false).unwrap();
        plan("sr", s).check_measurable(true).unwrap();
        let agree = |given: &str, recorded: &str| {
            let (spec, a) = agreement(given.parse().unwrap(), &recorded.parse().unwrap(), s).unwrap();
            (spec.params.len(), matches!(a, Agreement::Agrees))
        };
        assert_eq!(
            agree("deblur-blind:size=5", "deblur-gauss:size=5,sigma=1"),
            (1, true)
        );
        assert_eq!(agree("deblur-blind:size=5", "deblur-motion:size=5"), (1, true));
        assert_eq!(agree("deblur-blind", "deblur-gauss:size=5,sigma=1"), (0, false));
        assert_eq!(agree("deblur-blind:size=5", "sr"), (1, false));
        assert_eq!(agree("sr", "sr:factor=2"), (1, true));
        assert_eq!(agree("sr:factor=4", "sr:factor=2"), (1, false));
        assert_eq!(agree("sr-bicubic", "sr:factor=4"), (0, false));
        assert!(plan("inpaint-box", s).same(&plan("inpaint-box:x=8,y=8,w=16,h=16", s)));
        assert!(!plan("inpaint-box", s).same(&plan("inpaint-box:x=7", s)));
    }
}
