//! Score models: the diffusers `UNet2DModel` and guided-diffusion's ADM `UNetModel`, and [`Model`],
//! which loads either from what the user points at; and diffusers' `AutoencoderKL` (latent diffusion).

mod adm;
mod adm_config;
mod clip;
mod clip_tokenizer;
mod config;
mod unet2d;
mod unet_cond;
mod vae;

pub use adm::AdmUNet;
pub use adm_config::{ADM_PRESETS, AdmConfig};
pub use clip::{ClipTextConfig, ClipTextModel, TextEncoder};
pub use clip_tokenizer::ClipTokenizer;
pub use config::UNet2DConfig;
pub use unet_cond::{Conditioned, UNet2DConditionConfig, UNet2DConditionModel, unet_cond_dir};
pub use unet2d::UNet2DModel;
pub use vae::{AutoencoderKL, VaeConfig, vae_dir};

use crate::diffusion::{Denoiser, Schedule, Timestep};
use crate::error::{Error, Result, Setting};
use crate::gpu::Gpu;
use crate::nn::Weights;
use crate::tensor::Tensor;
use std::path::Path;

/// A loaded score model of either architecture.
pub enum Model {
    /// A diffusers `UNet2DModel` directory.
    Diffusers(Box<UNet2DModel>),
    /// A guided-diffusion checkpoint (`.pt` or `.safetensors`).
    Adm(Box<AdmUNet>),
}

impl Model {
    /// Loads `path`: a diffusers model directory, or a guided-diffusion checkpoint file (`.pt` as
    /// `torch.save` wrote it, or `.safetensors` with the same names). A checkpoint's architecture
    /// comes from `config` (a preset name of [`ADM_PRESETS`] or a JSON file with guided-diffusion's
    /// `create_model` arguments), else from `<checkpoint>.json` or `config.json` beside it, else from
    /// the preset whose file name it has (`ffhq_10m.pt`, `256x256_diffusion_uncond.pt`).
    pub fn load(gpu: &Gpu, path: &Path, config: Option<&str>) -> Result<Model> {
        if path.is_dir() {
            if config.is_some() {
                return Err(Error::setting(
                    Setting::ModelConfig(String::new()),
                    format!(
                        " is for guided-diffusion checkpoint files; {} is a diffusers directory with its own config.json",
                        path.display()
                    ),
                ));
            }
            return Ok(Model::Diffusers(Box::new(UNet2DModel::load(gpu, path)?)));
        }
        if !path.exists() {
            return Err(Error::Model(format!(
                "model {} does not exist; pass a diffusers UNet2DModel directory or a guided-diffusion checkpoint (.pt or .safetensors)",
                path.display()
            )));
        }
        let cfg = adm_config_for(path, config)?;
        let tensors = match path.extension().and_then(|e| e.to_str()) {
            Some("safetensors") => crate::io::read_safetensors(path)?,
            _ => crate::pt::read_pt(path)?,
        };
        let ws = Weights::new(gpu, &path.display().to_string(), tensors);
        let model = AdmUNet::build_checked(gpu, cfg, ws)?;
        Ok(Model::Adm(Box::new(model)))
    }

    /// Image channels.
    pub fn in_channels(&self) -> usize {
        match self {
            Model::Diffusers(m) => m.config.in_channels,
            Model::Adm(m) => m.config.in_channels,
        }
    }

    /// Output channels of [`Self::forward`] (twice the image channels with a learned variance).
    pub fn out_channels(&self) -> usize {
        match self {
            Model::Diffusers(m) => m.config.out_channels,
            Model::Adm(m) => m.config.out_channels(),
        }
    }

    /// The training resolution (height, width), when known.
    pub fn sample_size(&self) -> Option<(usize, usize)> {
        match self {
            Model::Diffusers(m) => m.config.sample_size,
            Model::Adm(m) => Some((m.config.image_size, m.config.image_size)),
        }
    }

    /// The full model output (for a learned-variance ADM model: ε and the variance interpolation,
    /// `2C` channels) at timesteps `t` (`[B]` or `[1]`).
    pub fn forward(&self, x: &Tensor, t: &Tensor) -> Result<Tensor> {
        match self {
            Model::Diffusers(m) => m.forward(x, t),
            Model::Adm(m) => m.forward(x, t),
        }
    }

    fn inner(&self) -> &dyn Denoiser {
        match self {
            Model::Diffusers(m) => m.as_ref(),
            Model::Adm(m) => m.as_ref(),
        }
    }
}

/// Checks that `shape` is `[B, in_channels, H, W]` with B > 0 and H, W positive multiples of
/// 2^`downsamples` (a UNet that halves the resolution that many times).
pub(crate) fn check_unet_input(shape: &[usize], in_channels: usize, downsamples: usize) -> Result<()> {
    let f = 1usize << downsamples;
    if shape.len() == 4 && shape[0] == 0 {
        return Err(Error::Input(format!(
            "a batch of 0 images ({shape:?}): give at least one, as [batch, {in_channels}, height, width]"
        )));
    }
    if shape.len() != 4 || shape[1] != in_channels {
        return Err(Error::Input(format!(
            "the model takes [batch, {in_channels}, height, width] inputs, got {shape:?}"
        )));
    }
    if !shape[2].is_multiple_of(f) || !shape[3].is_multiple_of(f) || shape[2] == 0 || shape[3] == 0 {
        return Err(Error::Input(format!(
            "input size {}x{} (width x height) does not fit this model: it halves the resolution {downsamples} times, so width and height must be multiples of {f}",
            shape[3], shape[2]
        )));
    }
    Ok(())
}

/// The timesteps `t` (`[b]`, or `[1]` for the whole batch) as `[b]`, broadcast on the device (no
/// readback).
pub(crate) fn batch_timesteps(gpu: &Gpu, t: &Tensor, b: usize) -> Result<Tensor> {
    if t.numel() == b {
        Ok(t.clone())
    } else if t.numel() == 1 {
        crate::ops::mul_bcast(&Tensor::full(gpu, &[b], 1.0)?, t)
    } else {
        Err(Error::Shape(format!(
            "{} timesteps for a batch of {b}",
            t.numel()
        )))
    }
}

/// The ADM configuration for the checkpoint at `path` (see [`Model::load`]).
fn adm_config_for(path: &Path, config: Option<&str>) -> Result<AdmConfig> {
    let from_file = |p: &Path| -> Result<AdmConfig> {
        let text = std::fs::read_to_string(p).map_err(|e| crate::error::io_err(p, e))?;
        AdmConfig::from_json(&text).map_err(|e| match e {
            Error::Model(m) => Error::Model(format!("{}: {m}", p.display())),
            other => other,
        })
    };
    if let Some(c) = config {
        if let Some(cfg) = AdmConfig::preset(c) {
            return Ok(cfg);
        }
        let p = Path::new(c);
        if !p.is_file() {
            return Err(Error::setting(
                Setting::ModelConfig(c.to_string()),
                format!(" is neither a preset ({}) nor a JSON file", preset_names()),
            ));
        }
        return from_file(p);
    }
    let beside = path.with_extension("json");
    if beside.is_file() {
        return from_file(&beside);
    }
    if let Some(cfg) = path.parent().map(|d| d.join("config.json"))
        && cfg.is_file()
    {
        return from_file(&cfg);
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if let Some(cfg) = AdmConfig::preset(name) {
        return Ok(cfg);
    }
    Err(Error::setting(
        Setting::ModelConfig(String::new()),
        format!(
            " is needed: {} is a checkpoint file without a configuration; give a preset ({}) or a JSON of guided-diffusion's create_model arguments, or put one at {}",
            path.display(),
            preset_names(),
            beside.display()
        ),
    ))
}

fn preset_names() -> String {
    ADM_PRESETS.iter().map(|p| p.0).collect::<Vec<_>>().join(", ")
}

impl Denoiser for Model {
    fn gpu(&self) -> &Gpu {
        self.inner().gpu()
    }

    fn schedule(&self) -> &Schedule {
        self.inner().schedule()
    }

    fn check_input(&self, shape: &[usize]) -> Result<()> {
        self.inner().check_input(shape)
    }

    fn eps(&self, x: &Tensor, t: &Timestep) -> Result<Tensor> {
        self.inner().eps(x, t)
    }

    fn learns_variance(&self) -> bool {
        self.inner().learns_variance()
    }

    fn eps_and_variance(&self, x: &Tensor, t: &Timestep) -> Result<(Tensor, Option<Tensor>)> {
        self.inner().eps_and_variance(x, t)
    }

    fn describe(&self) -> String {
        self.inner().describe()
    }
}
