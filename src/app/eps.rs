//! `tweedie eps`: the model once, and its vector-Jacobian product; on a text-conditioned UNet
//! (diffusers' `UNet2DConditionModel`, alone or in a Stable Diffusion pipeline folder) with the
//! conditioning of `--cond` or `--prompt` and classifier-free guidance.

use super::*;
use std::path::Path;

/// The text conditioning of `tweedie eps` on a `UNet2DConditionModel`.
#[derive(Debug, Clone, Copy, Default)]
pub struct EpsConditioning<'a> {
    /// A safetensors file holding one tensor `[1 or B, tokens, dim]` (or `emb`, as `tweedie text`
    /// writes it).
    pub cond: Option<&'a Path>,
    /// The unconditional embedding for guidance with `cond` (the empty prompt's, `[1, tokens, dim]`).
    pub uncond: Option<&'a Path>,
    /// A prompt, encoded by the pipeline folder's CLIP text encoder.
    pub prompt: Option<&'a str>,
    /// Classifier-free guidance scale (`None`: 1, the conditional branch alone).
    pub guidance: Option<f64>,
}

impl EpsConditioning<'_> {
    fn any(&self) -> bool {
        self.cond.is_some() || self.uncond.is_some() || self.prompt.is_some() || self.guidance.is_some()
    }
}

/// The model once on the tensor `x` of `input` at timestep `t`, written to `out` as `eps`, with
/// `vjp` = ∇_x ⟨v, eps⟩ when a file of `v` is given. A text-conditioned UNet takes `c`.
pub fn eps(
    f: &mut dyn Frontend,
    model: &Path,
    input: &Path,
    t: u32,
    out: &Path,
    vjp: Option<&Path>,
    c: EpsConditioning,
) -> Result<()> {
    let mut inputs = vec![("--input", input)];
    inputs.extend(vjp.map(|v| ("--vjp", v)));
    inputs.extend(c.cond.map(|v| ("--cond", v)));
    inputs.extend(c.uncond.map(|v| ("--uncond", v)));
    inputs.extend(Some(model).filter(|m| m.is_file()).map(|m| ("--model", m)));
    crate::io::check_distinct(&inputs, &[("--out", out)])?;
    crate::io::check_output(out, crate::io::Output::Safetensors, "--out")?;
    if let Some(unet) = crate::models::unet_cond_dir(model) {
        return eps_cond(f, model, &unet, input, t, out, vjp, c);
    }
    if c.any() {
        let flag = [
            (c.cond.is_some(), "--cond"),
            (c.prompt.is_some(), "--prompt"),
            (c.uncond.is_some(), "--uncond"),
            (c.guidance.is_some(), "--guidance"),
        ]
        .iter()
        .find(|p| p.0)
        .map_or("--cond", |p| p.1);
        return Err(Error::Input(format!(
            "{flag} is for a text-conditioned UNet (a diffusers UNet2DConditionModel folder, or a Stable Diffusion pipeline folder with unet/); {} is not one (an unconditional model takes --input and --t alone)",
            model.display()
        )));
    }
    let x = read_tensor(input, "x")?;
    let gpu = f.gpu()?;
    let m = load_model(f, &gpu, model)?;
    let len = m.schedule().len();
    if t as usize >= len {
        return Err(Error::Input(format!(
            "--t {t}: the model's schedule has {len} timesteps, so t must be from 0 to {}",
            len - 1
        )));
    }
    m.check_input(&x.shape)
        .map_err(|e| Error::Input(format!("{}: tensor x: {e}", input.display())))?;
    let xt = Tensor::from_slice(&gpu, &x.shape, &x.data)?;
    let tt = Tensor::full(&gpu, &[x.shape[0]], t as f32)?;
    match vjp {
        None => write_eps(f, out, &m.forward(&xt, &tt)?, None),
        Some(vpath) => {
            let v = read_tensor(vpath, "v")?;
            check_cotangent(&v, [x.shape[0], m.out_channels(), x.shape[2], x.shape[3]], vpath)?;
            let vt = Tensor::from_slice(&gpu, &v.shape, &v.data)?;
            let xt = xt.tracked();
            let e = m.forward(&xt, &tt)?;
            let g = crate::autograd::backward(&e, &vt, &[&xt])?.remove(0);
            write_eps(f, out, &e.detach(), Some(&g))
        }
    }
}

/// Refuses a `--vjp` cotangent whose shape is not the model output's.
fn check_cotangent(v: &crate::io::HostTensor, want: [usize; 4], path: &Path) -> Result<()> {
    if v.shape != want {
        return Err(Error::Input(format!(
            "{}: v has shape {:?} but the model output has shape {want:?}",
            path.display(),
            v.shape
        )));
    }
    Ok(())
}

/// Writes `eps` (and `vjp` when given) to `out`, refusing NaN and infinity, and says so.
fn write_eps(f: &mut dyn Frontend, out: &Path, e: &Tensor, g: Option<&Tensor>) -> Result<()> {
    let ev = e.to_vec()?;
    finite(&ev, "the model output")?;
    match g {
        None => {
            crate::io::write_safetensors(out, &[("eps", e.shape(), &ev)])?;
            f.say(&format!("wrote eps {:?} to {}", e.shape(), out.display()));
        }
        Some(g) => {
            let gv = g.to_vec()?;
            finite(&gv, "the vector-Jacobian product")?;
            crate::io::write_safetensors(out, &[("eps", e.shape(), &ev), ("vjp", g.shape(), &gv)])?;
            f.say(&format!(
                "wrote eps {:?} and vjp {:?} to {}",
                e.shape(),
                g.shape(),
                out.display()
            ));
        }
    }
    Ok(())
}

/// The tensor of a `--cond` / `--uncond` file: its only tensor, or the one named `emb` (what
/// `tweedie text` writes).
fn read_embedding(path: &Path, flag: &str) -> Result<crate::io::HostTensor> {
    let all = crate::io::read_safetensors(path)?;
    let name = if all.len() == 1 {
        all.keys().next().cloned()
    } else {
        all.contains_key(super::text::TEXT_TENSOR)
            .then(|| super::text::TEXT_TENSOR.to_string())
    };
    let Some(name) = name else {
        return Err(Error::Input(format!(
            "{flag} {}: holds {} tensors ({}); give a file with one tensor [1 or batch, tokens, dim] (as tweedie text writes it)",
            path.display(),
            all.len(),
            all.keys().cloned().collect::<Vec<_>>().join(", ")
        )));
    };
    read_tensor(path, &name)
}

/// [`eps`] on a `UNet2DConditionModel` (in `unet`; `model` is what the user named).
#[allow(clippy::too_many_arguments)]
fn eps_cond(
    f: &mut dyn Frontend,
    model: &Path,
    unet_dir: &Path,
    input: &Path,
    t: u32,
    out: &Path,
    vjp: Option<&Path>,
    c: EpsConditioning,
) -> Result<()> {
    use crate::diffusion::{Denoiser, Timestep};
    use crate::models::{Conditioned, TextEncoder, UNet2DConditionModel};
    // nothing is overwritten that the model folder holds (weights, configs, tokenizer files)
    let mut files: Vec<std::path::PathBuf> = [
        "config.json",
        "diffusion_pytorch_model.safetensors",
        "diffusion_pytorch_model.fp16.safetensors",
        "scheduler_config.json",
    ]
    .iter()
    .map(|n| unet_dir.join(n))
    .collect();
    files.push(model.join("scheduler/scheduler_config.json"));
    files.extend(TextEncoder::files(model));
    files.retain(|p| p.is_file());
    let inputs: Vec<(&str, &Path)> = files.iter().map(|p| ("--model's", p.as_path())).collect();
    crate::io::check_distinct(&inputs, &[("--out", out)])?;
    let guidance = c.guidance.unwrap_or(1.0);
    if !guidance.is_finite() || guidance.abs() > 1e4 {
        return Err(Error::Input(format!(
            "--guidance {guidance}: give a finite scale (1 = the conditional branch alone, no guidance; Stable Diffusion's pipelines use 7.5)"
        )));
    }
    match (c.cond, c.prompt) {
        (None, None) => {
            return Err(Error::Input(format!(
                "{} is a text-conditioned UNet: give --prompt TEXT (with a pipeline folder holding text_encoder/ and tokenizer/) or --cond emb.safetensors (one tensor [1 or batch, tokens, dim], e.g. from tweedie text)",
                model.display()
            )));
        }
        (Some(_), Some(_)) => {
            return Err(Error::Input(
                "--cond and --prompt both give the conditioning: give one".into(),
            ));
        }
        _ => {}
    }
    if c.prompt.is_some() && c.uncond.is_some() {
        return Err(Error::Input(
            "--uncond is for --cond; with --prompt the unconditional branch is the empty prompt, encoded by the same text encoder".into(),
        ));
    }
    // the pipeline folder that would hold the text encoder is the folder named (a UNet folder
    // named alone has none beside it)
    let pipe = model;
    let has_text = pipe.join("text_encoder").is_dir() && pipe.join("tokenizer").is_dir();
    if c.prompt.is_some() && !has_text {
        return Err(Error::Input(format!(
            "--prompt needs a text encoder: {} has no text_encoder/ and tokenizer/; give the Stable Diffusion pipeline folder, or encode the prompt with tweedie text --model PIPELINE and pass --cond",
            model.display()
        )));
    }
    if c.cond.is_some() && guidance != 1.0 && c.uncond.is_none() && !has_text {
        return Err(Error::Input(format!(
            "--guidance {guidance} with --cond needs the unconditional embedding: give --uncond (the empty prompt's, from tweedie text --prompt \"\"), or a pipeline folder with text_encoder/ and tokenizer/ to encode it"
        )));
    }
    let x = read_tensor(input, "x")?;
    let cond_host = c.cond.map(|p| read_embedding(p, "--cond")).transpose()?;
    let uncond_host = c.uncond.map(|p| read_embedding(p, "--uncond")).transpose()?;
    let v_host = vjp.map(|p| read_tensor(p, "v")).transpose()?;
    let gpu = f.gpu()?;
    let unet = UNet2DConditionModel::load(&gpu, unet_dir)?;
    let len = unet.schedule().len();
    if t as usize >= len {
        return Err(Error::Input(format!(
            "--t {t}: the model's schedule has {len} timesteps, so t must be from 0 to {}",
            len - 1
        )));
    }
    unet.check_input(&x.shape)
        .map_err(|e| Error::Input(format!("{}: tensor x: {e}", input.display())))?;
    let b = x.shape[0];
    let up = |h: &crate::io::HostTensor| Tensor::from_slice(&gpu, &h.shape, &h.data);
    let encoder = if c.prompt.is_some() || (guidance != 1.0 && uncond_host.is_none()) {
        Some(TextEncoder::load(&gpu, pipe)?)
    } else {
        None
    };
    let (cond, what) = match (&cond_host, c.prompt, &encoder) {
        (Some(h), _, _) => (
            up(h)?,
            format!("--cond {}", c.cond.unwrap_or(Path::new("")).display()),
        ),
        (None, Some(p), Some(enc)) => (enc.encode(&[p])?, "--prompt".to_string()),
        _ => return Err(Error::Input("give --cond or --prompt".into())),
    };
    unet.check_cond(cond.shape(), b)
        .map_err(|e| Error::Input(format!("{what}: {e}")))?;
    let uncond = if guidance == 1.0 {
        None
    } else if let Some(h) = &uncond_host {
        let u = up(h)?;
        if u.shape() != [1, cond.shape()[1], cond.shape()[2]] {
            return Err(Error::Input(format!(
                "--uncond {}: the unconditional embedding is {:?}; it must be [1, {}, {}], one embedding with the conditioning's tokens and width",
                c.uncond.unwrap_or(Path::new("")).display(),
                u.shape(),
                cond.shape()[1],
                cond.shape()[2]
            )));
        }
        Some(u)
    } else {
        let enc = encoder
            .as_ref()
            .ok_or_else(|| Error::Input("no text encoder for the empty prompt".into()))?;
        let u = enc.encode(&[""])?;
        if u.shape()[1] != cond.shape()[1] {
            return Err(Error::Input(format!(
                "{what}: the conditioning has {} tokens, but the pipeline's text encoder gives the empty prompt {}; give --uncond with the conditioning's token count",
                cond.shape()[1],
                u.shape()[1]
            )));
        }
        Some(u)
    };
    let den = Conditioned::guided(unet, cond, uncond, guidance as f32)?;
    let xt = Tensor::from_slice(&gpu, &x.shape, &x.data)?;
    let ts = Timestep::new(&gpu, t as usize)?;
    match v_host {
        None => write_eps(f, out, &den.eps(&xt, &ts)?, None),
        Some(v) => {
            let want = [b, den.unet().config.out_channels, x.shape[2], x.shape[3]];
            check_cotangent(&v, want, vjp.unwrap_or(Path::new("")))?;
            let (e, g) = den.eps_vjp(&xt, &ts, &up(&v)?)?;
            write_eps(f, out, &e, Some(&g))
        }
    }
}
