//! Nonlinear forward models: Fourier phase retrieval and high-dynamic-range clipping. Each is a
//! composition of recorded ops, so its vector-Jacobian product comes from the tape; neither has an
//! adjoint, so only the solvers that take any forward model run them.

use super::{Caps, Described, Kind, Operator, Picture, Resolved, TaskEntry, View};
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::ops;
use crate::tensor::Tensor;

/// `phase-retrieval`: Fourier magnitudes of the zero-padded image.
pub(super) const PHASE_RETRIEVAL: TaskEntry = TaskEntry {
    name: "phase-retrieval",
    about: "`oversample` 2: `y = |F(P x)|`, zero-padded to 2× the side (nonlinear)",
    keys: &["oversample"],
    caps: Caps::nonlinear(Kind::PhaseRetrieval),
    rgb_only: false,
    picture: Picture::View,
    resolve: |spec, [_, h, w]| {
        let oversample = spec.usize("oversample", 2, 1)?;
        check_padding(h, w, oversample)?;
        Ok(Resolved::new(
            &[("oversample", &oversample)],
            move |gpu, x_shape, task| Ok(Box::new(PhaseRetrieval::new(gpu, x_shape, oversample, task)?)),
        ))
    },
};

/// `hdr`: clipping after a gain.
pub(super) const HDR: TaskEntry = TaskEntry {
    name: "hdr",
    about: "`scale` 2: `y = clip(scale · x, −1, 1)` (nonlinear)",
    keys: &["scale"],
    caps: Caps::nonlinear(Kind::Other),
    rgb_only: false,
    picture: Picture::Exact,
    resolve: |spec, _| {
        let scale = spec.f64("scale", 2.0, |s| (1.0..=100.0).contains(&s), "in [1, 100]")?;
        Ok(Resolved::new(&[("scale", &scale)], move |_, x_shape, task| {
            Ok(Box::new(Hdr::new(x_shape, scale, task)))
        }))
    },
};

/// The padded sides `oversample · H` and `oversample · W` must be powers of two the FFT takes.
fn check_padding(h: usize, w: usize, oversample: usize) -> Result<()> {
    for side in [h * oversample, w * oversample] {
        if !side.is_power_of_two() || side > ops::MAX_FFT_SIDE {
            return Err(Error::Input(format!(
                "phase-retrieval:oversample={oversample} pads {h}x{w} images to {}x{}: the \
                 padded side must be a power of two up to {}",
                h * oversample,
                w * oversample,
                ops::MAX_FFT_SIDE
            )));
        }
    }
    Ok(())
}

/// Fourier phase retrieval `y = |F(P x)|`: each channel zero-padded (centred) to `oversample`
/// times its side, then the magnitude of its orthonormal 2-D DFT ([`ops::fft2`]). The DPS paper's
/// setting is an oversampling of 2.0 with torch's FFT of any size; here the padded side must be a
/// power of two (`oversample · H`), and the ratio is per side.
pub struct PhaseRetrieval {
    gpu: Gpu,
    x_shape: [usize; 3],
    oversample: usize,
    task: Described,
}

impl PhaseRetrieval {
    /// The operator for images `[C, H, W]` padded to `oversample · H × oversample · W` (`task` as
    /// [`super::build_plan`] gives it).
    pub fn new(gpu: &Gpu, x_shape: [usize; 3], oversample: usize, task: Described) -> Result<Self> {
        check_padding(x_shape[1], x_shape[2], oversample)?;
        Ok(PhaseRetrieval {
            gpu: gpu.clone(),
            x_shape,
            oversample,
            task,
        })
    }

    fn padded(&self) -> (usize, usize) {
        (
            self.x_shape[1] * self.oversample,
            self.x_shape[2] * self.oversample,
        )
    }
}

impl Operator for PhaseRetrieval {
    described!();
    fn x_shape(&self) -> [usize; 3] {
        self.x_shape
    }
    fn y_shape(&self) -> Vec<usize> {
        let (nh, nw) = self.padded();
        vec![self.x_shape[0], nh, nw]
    }
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (nh, nw) = self.padded();
        ops::cabs(&ops::fft2(&ops::embed_complex(x, nh, nw)?, false)?)
    }
    /// The magnitude fixes the image only up to sign, translation and point reflection, so no
    /// estimate follows from `y` alone: the trivial estimate is the prior's mean image.
    fn trivial_is_prior_mean(&self) -> bool {
        true
    }
    fn trivial(&self, _y: &Tensor) -> Result<Tensor> {
        Err(Error::Input(
            "phase retrieval's trivial estimate is the prior's mean image: use \
             solvers::trivial_estimate with the model"
                .into(),
        ))
    }
}

impl View for PhaseRetrieval {
    /// `log(1 + |y|)`, its zero frequency moved to the centre, scaled so that the largest value is
    /// white.
    fn observation_image(&self, y: &Tensor) -> Result<Option<Tensor>> {
        let v = y.to_vec()?;
        let s = y.shape().to_vec();
        let (nh, nw) = (s[s.len() - 2], s[s.len() - 1]);
        let top = v
            .iter()
            .fold(0f32, |m, &a| m.max((1.0 + a.abs()).ln()))
            .max(1e-12);
        let mut out = vec![0f32; v.len()];
        for (r, plane) in v.chunks(nh * nw).enumerate() {
            for i in 0..nh {
                for j in 0..nw {
                    let a = plane[((i + nh / 2) % nh) * nw + (j + nw / 2) % nw];
                    out[r * nh * nw + i * nw + j] = 2.0 * (1.0 + a.abs()).ln() / top - 1.0;
                }
            }
        }
        Ok(Some(Tensor::from_slice(&self.gpu, &s, &out)?))
    }
    fn measurement_from_image(&self, _img: &Tensor) -> Result<Tensor> {
        Err(Error::Input(
            "a phase-retrieval picture is a log-scaled view of |F(P x)| and cannot be read back: pass \
             the .safetensors file degrade writes beside it"
                .into(),
        ))
    }
}

/// High dynamic range reconstruction `y = clip(scale · x, −1, 1)` (as in DAPS and RED-diff): the
/// bright and dark parts saturate; the solver recovers them from the prior.
pub struct Hdr {
    x_shape: [usize; 3],
    scale: f64,
    task: Described,
}

impl Hdr {
    /// The operator for images `[C, H, W]` (`task` as [`super::build_plan`] gives it).
    pub fn new(x_shape: [usize; 3], scale: f64, task: Described) -> Self {
        Hdr { x_shape, scale, task }
    }
}

impl Operator for Hdr {
    described!();
    fn x_shape(&self) -> [usize; 3] {
        self.x_shape
    }
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        ops::clamp(&ops::scale(x, self.scale as f32)?, -1.0, 1.0)
    }
    /// `y / scale`: right wherever nothing saturated.
    fn trivial(&self, y: &Tensor) -> Result<Tensor> {
        ops::scale(y, (1.0 / self.scale) as f32)
    }
}

impl View for Hdr {}
