//! diffusers pipeline folders (`model_index.json` with `vae/`, `unet/`, `scheduler/`, and for text
//! conditioning `text_encoder/` and `tokenizer/`) and [`Prior`]: what a command samples or restores
//! with, a pixel-space score model or a latent one with its autoencoder.
//!
//! On a latent prior a pixel-space operator `A` becomes `A ∘ D` ([`crate::operators::Decoded`]),
//! the solvers run on the latents, and their result is decoded ([`Prior::to_images`]); this is the
//! survey's latent family (Daras et al. 2024, §5: Latent DPS, PSLD, ReSample).

use crate::diffusion::{Denoiser, Schedule};
use crate::error::{Error, Result, io_err};
use crate::gpu::Gpu;
use crate::models::{AutoencoderKL, Conditioned, Model, TextEncoder, UNet2DConditionModel, UNet2DModel};
use crate::operators::{Decoded, Operator};
use crate::tensor::Tensor;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;

/// Whether `dir` is a diffusers pipeline folder (it holds `model_index.json`).
pub fn is_pipeline(dir: &Path) -> bool {
    dir.join("model_index.json").is_file()
}

/// The components a pipeline folder's `model_index.json` lists: name → (library, class).
pub fn pipeline_components(dir: &Path) -> Result<Vec<(String, String, String)>> {
    let p = dir.join("model_index.json");
    let text = std::fs::read_to_string(&p).map_err(|e| io_err(&p, e))?;
    let v: Value = serde_json::from_str(&text)
        .map_err(|e| Error::Model(format!("{} is not valid JSON: {e}", p.display())))?;
    let Value::Object(obj) = v else {
        return Err(Error::Model(format!("{} is not a JSON object", p.display())));
    };
    let mut out = Vec::new();
    for (k, v) in &obj {
        if k.starts_with('_') {
            continue;
        }
        // ["library", "Class"], or null for an absent optional component
        if let Some([lib, class]) = v.as_array().map(|a| a.as_slice())
            && let (Some(lib), Some(class)) = (lib.as_str(), class.as_str())
        {
            out.push((k.clone(), lib.to_string(), class.to_string()));
        }
    }
    Ok(out)
}

/// A latent diffusion prior: a score model on an autoencoder's latents (in the diffusion model's
/// scaling, [`AutoencoderKL::to_latent`]) and the autoencoder.
pub struct LatentPrior {
    /// The score model on latents `[C_z, h, w]`.
    pub unet: Box<dyn Denoiser>,
    /// The latent size (height, width) the score model was trained at, when its config says.
    pub sample_size: Option<(usize, usize)>,
    /// The autoencoder whose latents the score model works on.
    pub vae: Arc<AutoencoderKL>,
}

impl LatentPrior {
    /// The latent shape `[C_z, H / f, W / f]` of pictures `[C, H, W]`.
    pub fn state_shape(&self, image: [usize; 3]) -> [usize; 3] {
        let f = self.vae.factor();
        [self.vae.config.latent_channels, image[1] / f, image[2] / f]
    }

    /// Checks that pictures `[C, H, W]` can come from this prior: the decoder's channels, sides a
    /// multiple of its upsampling, latents the score model takes.
    pub fn check_image_shape(&self, image: [usize; 3]) -> Result<()> {
        let f = self.vae.factor();
        let [c, h, w] = image;
        if c != self.vae.config.out_channels || h % f != 0 || w % f != 0 || h == 0 || w == 0 {
            return Err(Error::Input(format!(
                "[{c}, {h}, {w}] pictures (channels, height, width) cannot come from this latent \
                 prior: its decoder makes {} channel(s) at a multiple of {f} a side",
                self.vae.config.out_channels
            )));
        }
        let [cz, hz, wz] = self.state_shape(image);
        self.unet.check_input(&[1, cz, hz, wz])
    }

    /// `op ∘ D` for the pixel-space operator `op` ([`Decoded`]).
    pub fn problem_operator(&self, op: Arc<dyn Operator>) -> Result<Arc<dyn Operator>> {
        Ok(Arc::new(Decoded::new(op, self.vae.clone())?))
    }

    /// The trivial estimate of the pictures behind `y` for the pixel-space operator `op`: `op`'s
    /// own (A⁺y, the observed pixels), or where that is the prior's mean, the decoded mean latent
    /// ([`crate::solvers::prior_mean`] of the score model).
    pub fn trivial(&self, op: &dyn Operator, y: &Tensor) -> Result<Tensor> {
        if !op.trivial_is_prior_mean() {
            return op.trivial(y);
        }
        let mean = crate::solvers::prior_mean(self.unet.as_ref(), self.state_shape(op.x_shape()))?;
        let mean = self.vae.decode_scaled(&mean)?;
        let rows = y.shape().first().copied().unwrap_or(0);
        crate::ops::particles::gather_rows(&mean, &Tensor::full(self.unet.gpu(), &[rows], 0.0)?)
    }
}

/// What a command samples or restores with.
pub enum Prior {
    /// A score model on pictures.
    Pixel(Model),
    /// A score model on an autoencoder's latents.
    Latent(LatentPrior),
}

impl Prior {
    /// Loads `path`: a diffusers pipeline folder (`model_index.json`: an unconditional latent
    /// prior, `unet/` a `UNet2DModel` and `vae/` an `AutoencoderKL`, the noise schedule from
    /// `scheduler/scheduler_config.json`), else what [`Model::load`] loads.
    pub fn load(gpu: &Gpu, path: &Path, config: Option<&str>) -> Result<Prior> {
        Self::load_with_text(gpu, path, config, None)
    }

    /// [`Self::load`], and for a text-conditioned pipeline (`unet/` a `UNet2DConditionModel`,
    /// with `text_encoder/` and `tokenizer/`) the prompt and classifier-free guidance scale of
    /// `text`: the prompt and the empty prompt are encoded by the pipeline's CLIP and the UNet is
    /// [`Conditioned`] on them. A prompt for a model without text conditioning is refused, and a
    /// text-conditioned pipeline without one.
    pub fn load_with_text(
        gpu: &Gpu,
        path: &Path,
        config: Option<&str>,
        text: Option<(&str, f64)>,
    ) -> Result<Prior> {
        if !(path.is_dir() && is_pipeline(path)) {
            if text.is_some() {
                return Err(Error::Input(format!(
                    "--prompt is for a text-conditioned pipeline folder (unet/ a UNet2DConditionModel, \
                     with text_encoder/ and tokenizer/); {} is an unconditional model",
                    path.display()
                )));
            }
            return Ok(Prior::Pixel(Model::load(gpu, path, config)?));
        }
        if config.is_some() {
            return Err(Error::Model(format!(
                "--model-config is for guided-diffusion checkpoint files; {} is a diffusers pipeline folder with its own configs",
                path.display()
            )));
        }
        let comps = pipeline_components(path)?;
        // each component's class, or what is wrong with it
        let want = |name: &str, class: &str| -> Result<()> {
            match comps.iter().find(|c| c.0 == name).map(|c| c.2.as_str()) {
                Some(c) if c == class => Ok(()),
                Some(other) => Err(Error::Model(format!(
                    "{}: its {name} is a {other}; tweedie runs a diffusers {class} there",
                    path.display()
                ))),
                None => Err(Error::Model(format!(
                    "{}/model_index.json lists no {name}; a latent diffusion pipeline folder has \
                     unet/, vae/ and scheduler/",
                    path.display()
                ))),
            }
        };
        want("vae", "AutoencoderKL")?;
        let conditional = comps
            .iter()
            .any(|c| c.0 == "unet" && c.2 == "UNet2DConditionModel");
        if conditional {
            return Self::load_conditional(gpu, path, text);
        }
        want("unet", "UNet2DModel")?;
        if text.is_some() {
            return Err(Error::Input(format!(
                "--prompt is for a text-conditioned pipeline; {}'s unet is an unconditional \
                 UNet2DModel: leave --prompt and --guidance out",
                path.display()
            )));
        }
        let vae = Arc::new(AutoencoderKL::load(gpu, &path.join("vae"))?);
        let sched_path = path.join("scheduler").join("scheduler_config.json");
        let schedule = if sched_path.is_file() {
            let text = std::fs::read_to_string(&sched_path).map_err(|e| io_err(&sched_path, e))?;
            Schedule::from_json(&text, &sched_path.display().to_string())?
        } else {
            Schedule::for_model_dir(&path.join("unet"))?
        };
        let unet = UNet2DModel::load(gpu, &path.join("unet"))?.with_schedule(schedule);
        if unet.config.in_channels != vae.config.latent_channels
            || unet.config.out_channels != vae.config.latent_channels
        {
            return Err(Error::Model(format!(
                "{}: the unet takes {} channels and gives {}, but the vae's latents have {}: the two \
                 are not one pipeline",
                path.display(),
                unet.config.in_channels,
                unet.config.out_channels,
                vae.config.latent_channels
            )));
        }
        Ok(Prior::Latent(LatentPrior {
            sample_size: unet.config.sample_size,
            unet: Box::new(unet),
            vae,
        }))
    }

    /// A text-conditioned pipeline: the UNet conditioned on `text`'s prompt through the pipeline's
    /// CLIP, with classifier-free guidance against the empty prompt.
    fn load_conditional(gpu: &Gpu, path: &Path, text: Option<(&str, f64)>) -> Result<Prior> {
        let Some((prompt, guidance)) = text else {
            return Err(Error::Input(format!(
                "{}'s unet is a text-conditioned UNet2DConditionModel: give --prompt TEXT (and \
                 --guidance G for classifier-free guidance; the pipelines use 7.5)",
                path.display()
            )));
        };
        if !guidance.is_finite() || guidance.abs() > 1e4 {
            return Err(Error::Input(format!(
                "--guidance {guidance}: give a finite scale (1 = the conditional branch alone; \
                 Stable Diffusion's pipelines use 7.5)"
            )));
        }
        if !(path.join("text_encoder").is_dir() && path.join("tokenizer").is_dir()) {
            return Err(Error::Input(format!(
                "--prompt needs the pipeline's text encoder: {} has no text_encoder/ and tokenizer/",
                path.display()
            )));
        }
        let vae = Arc::new(AutoencoderKL::load(gpu, &path.join("vae"))?);
        let unet = UNet2DConditionModel::load(gpu, &path.join("unet"))?;
        if unet.config.in_channels != vae.config.latent_channels
            || unet.config.out_channels != vae.config.latent_channels
        {
            return Err(Error::Model(format!(
                "{}: the unet takes {} channels and gives {}, but the vae's latents have {}: the two \
                 are not one pipeline",
                path.display(),
                unet.config.in_channels,
                unet.config.out_channels,
                vae.config.latent_channels
            )));
        }
        let encoder = TextEncoder::load(gpu, path)?;
        let cond = encoder.encode(&[prompt])?;
        let uncond = if guidance == 1.0 {
            None
        } else {
            Some(encoder.encode(&[""])?)
        };
        let sample_size = unet.config.sample_size;
        let den = Conditioned::guided(unet, cond, uncond, guidance as f32)?;
        Ok(Prior::Latent(LatentPrior {
            unet: Box::new(den),
            sample_size,
            vae,
        }))
    }

    /// The score model the solvers call (on pictures or on latents).
    pub fn denoiser(&self) -> &dyn Denoiser {
        match self {
            Prior::Pixel(m) => m,
            Prior::Latent(l) => l.unet.as_ref(),
        }
    }

    /// The latent prior, if this is one.
    pub fn latent(&self) -> Option<&LatentPrior> {
        match self {
            Prior::Pixel(_) => None,
            Prior::Latent(l) => Some(l),
        }
    }

    /// Channels of the pictures it makes.
    pub fn image_channels(&self) -> usize {
        match self {
            Prior::Pixel(m) => m.in_channels(),
            Prior::Latent(l) => l.vae.config.out_channels,
        }
    }

    /// The size (height, width) of the pictures it was trained on, when known: the score model's
    /// `sample_size` (a latent prior's times the decoder's upsampling).
    pub fn image_size(&self) -> Option<(usize, usize)> {
        match self {
            Prior::Pixel(m) => m.sample_size(),
            Prior::Latent(l) => {
                let f = l.vae.factor();
                l.sample_size.map(|(h, w)| (h * f, w * f))
            }
        }
    }

    /// The shape `[C, H, W]` the solvers work in for pictures `[C, H, W]`: the same, or the
    /// latent shape of such pictures.
    pub fn state_shape(&self, image: [usize; 3]) -> [usize; 3] {
        match self {
            Prior::Pixel(_) => image,
            Prior::Latent(l) => l.state_shape(image),
        }
    }

    /// Checks that pictures `[C, H, W]` can be made by this prior, with an error that says what
    /// to give ([`LatentPrior::check_image_shape`]; a pixel prior's model's size rules).
    pub fn check_image_shape(&self, image: [usize; 3]) -> Result<()> {
        match self {
            Prior::Pixel(m) => m.check_input(&[1, image[0], image[1], image[2]]),
            Prior::Latent(l) => l.check_image_shape(image),
        }
    }

    /// The operator the solvers see for the pixel-space operator `op`: `op` itself, or `op ∘ D`.
    pub fn problem_operator(&self, op: Arc<dyn Operator>) -> Result<Arc<dyn Operator>> {
        match self {
            Prior::Pixel(_) => Ok(op),
            Prior::Latent(l) => l.problem_operator(op),
        }
    }

    /// Pictures of what the solvers return: the same tensor, or the decoded latents.
    pub fn to_images(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            Prior::Pixel(_) => Ok(x.clone()),
            Prior::Latent(l) => l.vae.decode_scaled(x),
        }
    }

    /// The trivial estimate of the pictures behind `y` for the pixel-space operator `op`
    /// ([`crate::solvers::trivial_estimate`], or [`LatentPrior::trivial`]).
    pub fn trivial(&self, op: &dyn Operator, y: &Tensor) -> Result<Tensor> {
        match self {
            Prior::Pixel(m) => crate::solvers::trivial_estimate(m, op, y),
            Prior::Latent(l) => l.trivial(op, y),
        }
    }

    /// One line for logs: the score model, and the autoencoder of a latent prior.
    pub fn describe(&self) -> String {
        match self {
            Prior::Pixel(m) => m.describe(),
            Prior::Latent(l) => format!(
                "latent prior: {} on the latents of {}",
                l.unet.describe(),
                l.vae.describe()
            ),
        }
    }
}
