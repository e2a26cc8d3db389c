//! What the command line does, as library calls a host can make too: reading images, observations
//! and `--set` pairs, simulating and recording a measurement ([`degrade`]), restoring with every
//! check before compute ([`restore`]), the demo, sampling, the model's forward pass and the
//! autoencoder of latent diffusion ([`vae`]). Messages go
//! through a [`Frontend`] (the command line prints them; a host shows them its own way).

mod degrade;
mod demo;
mod eps;
mod eval;
mod info;
mod restore;
mod sample;
mod text;
mod vae;

pub use degrade::{Made, degrade, degrade_with};
pub use demo::demo;
pub use eps::{EpsConditioning, eps};
pub use eval::{Eval, eval, eval_merge};
pub use info::info;
pub use restore::{Restore, display_observation, read_observation, restore, restore_task};
pub use sample::sample;
pub use text::{TEXT_TENSOR, text};
pub use vae::vae;

use crate::diffusion::Denoiser;
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::io::Image;
use crate::models::Model;
use crate::operators::{self, Operator, TaskSpec};
use crate::tensor::Tensor;
use std::path::PathBuf;

/// Where the commands' messages, progress and device come from: the command line prints to
/// stdout/stderr and draws a progress bar; a host shows them its own way.
pub trait Frontend {
    /// The device, made when first needed (after every check that needs none).
    fn gpu(&mut self) -> Result<Gpu>;
    /// The architecture of a guided-diffusion checkpoint (`--model-config`), where given.
    fn model_config(&self) -> Option<&str> {
        None
    }
    /// A result line (stdout on the command line).
    fn say(&mut self, text: &str);
    /// A note about the inputs (stderr on the command line, after `note: `).
    fn note(&mut self, text: &str);
    /// What is about to run (stderr on the command line).
    fn status(&mut self, text: &str);
    /// Progress of a long step: `done` of `total` under `label`.
    fn progress(&mut self, label: &str, done: usize, total: usize);
}

/// Loads a model: a diffusers directory or a guided-diffusion checkpoint (with the front end's
/// `--model-config`).
pub fn load_model(f: &dyn Frontend, gpu: &Gpu, path: &std::path::Path) -> Result<Model> {
    Model::load(gpu, path, f.model_config())
}

/// Loads the prior `path` names (a pipeline folder: a latent prior; else [`load_model`]'s model)
/// with the frontend's `--model-config`, and for a text-conditioned pipeline `text`'s prompt and
/// guidance scale ([`crate::prior::Prior::load_with_text`]).
pub fn load_prior(
    f: &dyn Frontend,
    gpu: &Gpu,
    path: &std::path::Path,
    text: Option<(&str, f64)>,
) -> Result<crate::prior::Prior> {
    crate::prior::Prior::load_with_text(gpu, path, f.model_config(), text)
}

/// `--prompt` and `--guidance` as [`load_prior`] takes them: the guidance (default 1, no
/// classifier-free guidance) is refused without a prompt.
pub fn text_conditioning(prompt: Option<&str>, guidance: Option<f64>) -> Result<Option<(&str, f64)>> {
    match (prompt, guidance) {
        (None, None) => Ok(None),
        (None, Some(g)) => Err(Error::Input(format!(
            "--guidance {g} is classifier-free guidance of a prompt: give --prompt TEXT with it (a \
             text-conditioned pipeline folder)"
        ))),
        (Some(p), g) => Ok(Some((p, g.unwrap_or(1.0)))),
    }
}

/// Reads the tensor `name` of a safetensors file, refusing NaN and infinity with the file and the
/// tensor named.
pub fn read_tensor(path: &std::path::Path, name: &str) -> Result<crate::io::HostTensor> {
    let mut all = crate::io::read_safetensors(path)?;
    let t = all.remove(name).ok_or_else(|| {
        Error::Input(format!(
            "{} has no tensor named {name:?} (it has: {})",
            path.display(),
            all.keys().cloned().collect::<Vec<_>>().join(", ")
        ))
    })?;
    if let Some(i) = t.data.iter().position(|v| !v.is_finite()) {
        return Err(Error::Input(format!(
            "{}: tensor {name} holds {} at index {i}; the file is corrupt, write it again",
            path.display(),
            t.data[i]
        )));
    }
    Ok(t)
}

/// The measurement noise of degrade, restore and eval: finite, in [0, 100].
pub fn check_sigma_y(v: f64) -> Result<()> {
    if v.is_finite() && (0.0..=100.0).contains(&v) {
        return Ok(());
    }
    Err(Error::Input(format!(
        "--sigma-y {v}: the measurement noise must be a number in [0, 100], in units of the [-1, 1] image range (DPS uses 0.05)"
    )))
}

/// The noise model of `degrade` from `--sigma-y` and `--noise` (at most one of them; neither:
/// Gaussian with σ_y = 0.05), checked before any compute.
pub fn noise_of(sigma_y: Option<f64>, noise: Option<&str>) -> Result<operators::Noise> {
    match (sigma_y, noise) {
        (Some(s), Some(n)) => Err(Error::Input(format!(
            "--sigma-y {s} and --noise {n}: give one of them (--noise gaussian:sigma={s} is --sigma-y {s})"
        ))),
        (_, Some(n)) => n.parse(),
        (s, None) => {
            let sigma = s.unwrap_or(0.05);
            check_sigma_y(sigma)?;
            Ok(operators::Noise::Gaussian { sigma })
        }
    }
}

/// The kind of a picture-or-tensor output path.
pub fn output_kind(p: &std::path::Path) -> crate::io::Output {
    if is_safetensors(p) {
        crate::io::Output::Safetensors
    } else {
        crate::io::Output::Png
    }
}

/// Refuses NaN and infinity in `v`, naming `what` holds them.
pub fn finite(v: &[f32], what: &str) -> Result<()> {
    match v.iter().position(|x| !x.is_finite()) {
        Some(i) => Err(Error::NonFinite(format!(
            "{what} has a non-finite value at index {i}"
        ))),
        None => Ok(()),
    }
}

/// The bundled prior: `weights/fmnist32` under the working directory, else in the source tree.
pub fn default_model() -> PathBuf {
    let local = PathBuf::from("weights/fmnist32");
    if local.join("config.json").is_file() {
        return local;
    }
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/weights/fmnist32"))
}

/// What identifies a model in `eval` rows: the SHA-256 of its files (a diffusers folder whole; a
/// checkpoint with the configuration files that may sit beside it), and the --model-config given
/// (a file's content, a preset's name).
pub fn model_identity(model: &std::path::Path, model_config: Option<&str>) -> Result<String> {
    let mut id = crate::io::content_hash(model)?;
    if model.is_file() {
        let sidecars = [model.with_extension("json"), model.with_file_name("config.json")];
        for p in sidecars.iter().filter(|p| p.is_file()) {
            id = format!("{id}+{}", crate::io::content_hash(p)?);
        }
    }
    if let Some(cfg) = model_config {
        let p = std::path::Path::new(cfg);
        id = if p.is_file() {
            format!("{id}+{}", crate::io::content_hash(p)?)
        } else {
            format!("{id}+{cfg}")
        };
    }
    Ok(id)
}

/// A batch of images as one device tensor `[N, C, H, W]` (all of one size).
pub fn image_tensor(gpu: &Gpu, imgs: &[Image]) -> Result<Tensor> {
    let [c, h, w] = imgs[0].shape();
    let data: Vec<f32> = imgs.iter().flat_map(|i| i.data.iter().copied()).collect();
    Tensor::from_slice(gpu, &[imgs.len(), c, h, w], &data)
}

/// Whether a path names a safetensors file (else a picture).
pub fn is_safetensors(p: &std::path::Path) -> bool {
    p.extension().is_some_and(|e| e == "safetensors")
}

/// `--set key=value` pairs, split and trimmed.
pub fn parse_sets(sets: &[String]) -> Result<Vec<(String, String)>> {
    sets.iter()
        .map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| Error::Input(format!("--set {kv}: expected key=value")))
        })
        .collect()
}

/// The bundled test images (tests/data), under the working directory or the source tree.
pub fn test_image(i: usize) -> PathBuf {
    let rel = format!("tests/data/fmnist_test_{i:05}.png");
    let local = PathBuf::from(&rel);
    if local.is_file() {
        return local;
    }
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/")).join(rel)
}

/// Parses a whole-number option, so that `--steps -5` or `--seed -1` gets a range message rather than
/// clap's "unexpected argument".
pub fn whole<T: TryFrom<u64> + std::str::FromStr>(s: &str) -> std::result::Result<T, String> {
    match s.trim().parse::<i128>() {
        Ok(v) if v < 0 => Err(format!("{v} is negative: give a whole number from 0")),
        Ok(v) => u64::try_from(v)
            .ok()
            .and_then(|v| T::try_from(v).ok())
            .ok_or_else(|| format!("{v} is too large")),
        Err(_) => Err(format!("{s:?} is not a whole number")),
    }
}

/// The first picture of a `[B, C, H, W]` tensor, as a host image.
pub fn host_image(t: &Tensor) -> Result<Image> {
    let mut imgs = crate::io::batch_to_images(&t.to_vec()?, t.shape());
    Ok(imgs.swap_remove(0))
}
