//! `tweedie vae`: a diffusers `AutoencoderKL`'s encoder or decoder once, in the latent scaling of
//! diffusers' pipelines.

use super::*;
use crate::models::{AutoencoderKL, VaeConfig, vae_dir};
use std::path::Path;

/// Encodes or decodes with the `AutoencoderKL` at `model` (its folder, or a pipeline folder holding
/// `vae/`), writing `out`:
/// - `encode` (a picture, or a safetensors file with `x` `[B, C, H, W]` in [-1, 1]): writes `z` =
///   `(mean - shift_factor) * scaling_factor`, the latent distribution's mean in the scaling the
///   diffusion model sees (diffusers' pipelines; `shift_factor` is 0 where the config has none), to a
///   `.safetensors` file;
/// - `decode` (a safetensors file with `z` `[B, latent_channels, h, w]`): decodes
///   `z / scaling_factor + shift_factor` and writes the image (one picture as `.png`, or `x` in a
///   `.safetensors` file).
///
/// Exactly one of `encode` and `decode`. Every input, its shape and the output path are checked
/// before the model runs.
pub fn vae(
    f: &mut dyn Frontend,
    model: &Path,
    encode: Option<&Path>,
    decode: Option<&Path>,
    out: &Path,
) -> Result<()> {
    let (input, flag) = match (encode, decode) {
        (Some(e), None) => (e, "--encode"),
        (None, Some(d)) => (d, "--decode"),
        _ => {
            return Err(Error::Input(
                "give one of --encode IMAGE (writes the latent) and --decode LATENT (writes the image)"
                    .into(),
            ));
        }
    };
    let kind = if encode.is_some() {
        if !is_safetensors(out) {
            return Err(Error::Input(format!(
                "--out {}: --encode writes the latent z, a tensor: give a .safetensors file name",
                out.display()
            )));
        }
        crate::io::Output::Safetensors
    } else {
        output_kind(out)
    };
    crate::io::check_distinct(&[(flag, input)], &[("--out", out)])?;
    crate::io::check_output(out, kind, "--out")?;
    let dir = vae_dir(model)?;
    let cfg_path = dir.join("config.json");
    let text = std::fs::read_to_string(&cfg_path).map_err(|e| crate::error::io_err(&cfg_path, e))?;
    let cfg = VaeConfig::from_json(&text).map_err(|e| match e {
        Error::Model(m) => Error::Model(m.replacen("config.json", &cfg_path.display().to_string(), 1)),
        other => other,
    })?;
    let (s, t) = (cfg.scaling_factor, cfg.shift_factor);
    let factor = 1usize << cfg.downsamples();

    if let Some(path) = encode {
        // the image, as [B, C, H, W] in [-1, 1]
        let (shape, data) = if is_safetensors(path) {
            let x = read_tensor(path, "x")?;
            (x.shape, x.data)
        } else {
            let img = crate::io::read_image(path)?;
            let [c, h, w] = img.shape();
            (vec![1, c, h, w], img.data)
        };
        crate::models::check_unet_input(&shape, cfg.in_channels, cfg.downsamples()).map_err(|e| {
            let hint = if shape.len() == 4 && shape[1] != cfg.in_channels {
                format!(
                    " (the VAE takes {}-channel images; this one has {})",
                    cfg.in_channels, shape[1]
                )
            } else {
                String::new()
            };
            Error::Input(format!("--encode {}: {e}{hint}", path.display()))
        })?;
        let gpu = f.gpu()?;
        let m = AutoencoderKL::load(&gpu, &dir)?;
        f.status(&format!("encoding {shape:?} with {}", m.describe()));
        let x = Tensor::from_slice(&gpu, &shape, &data)?;
        let z = m.encode_scaled(&x)?;
        let zv = z.to_vec()?;
        finite(&zv, "the latent")?;
        crate::io::write_safetensors(out, &[("z", z.shape(), &zv)])?;
        f.say(&format!(
            "wrote z {:?} = (mean - {t}) * {s} (the latent mean, minus shift_factor, times scaling_factor) to {}",
            z.shape(),
            out.display()
        ));
        return Ok(());
    }

    let z = read_tensor(input, "z")?;
    let lc = cfg.latent_channels;
    if z.shape.len() != 4 || z.shape[1] != lc || z.shape.contains(&0) {
        return Err(Error::Input(format!(
            "--decode {}: z has shape {:?}, but this VAE decodes latents [batch, {lc}, height, width]",
            input.display(),
            z.shape
        )));
    }
    let (b, hh, ww) = (z.shape[0], z.shape[2] * factor, z.shape[3] * factor);
    if kind == crate::io::Output::Png && b != 1 {
        return Err(Error::Input(format!(
            "--decode {}: z holds {b} latents but --out {} is one picture; decode one latent at a time, or give a .safetensors --out",
            input.display(),
            out.display()
        )));
    }
    if kind == crate::io::Output::Png && !matches!(cfg.out_channels, 1 | 3) {
        return Err(Error::Input(format!(
            "--out {}: this VAE decodes {}-channel images, which a PNG cannot hold; give a .safetensors --out",
            out.display(),
            cfg.out_channels
        )));
    }
    if (b * hh * ww) as u64 > crate::io::MAX_IMAGE_PIXELS {
        return Err(Error::Input(format!(
            "--decode {}: z {:?} decodes to {b} images of {ww}x{hh}, over {} megapixels in all; decode smaller latents or fewer at a time",
            input.display(),
            z.shape,
            crate::io::MAX_IMAGE_PIXELS / 1_000_000
        )));
    }
    let gpu = f.gpu()?;
    let m = AutoencoderKL::load(&gpu, &dir)?;
    f.status(&format!("decoding {:?} with {}", z.shape, m.describe()));
    let zt = Tensor::from_slice(&gpu, &z.shape, &z.data)?;
    let x = m.decode_scaled(&zt)?;
    let xv = x.to_vec()?;
    finite(&xv, "the decoded image")?;
    match kind {
        crate::io::Output::Png => {
            let img = crate::io::batch_to_images(&xv, x.shape()).swap_remove(0);
            crate::io::write_image(out, &img, 1)?;
        }
        _ => crate::io::write_safetensors(out, &[("x", x.shape(), &xv)])?,
    }
    f.say(&format!(
        "wrote x {:?} = decode(z / {s} + {t}) (z divided by scaling_factor, plus shift_factor) to {}",
        x.shape(),
        out.display()
    ));
    Ok(())
}
