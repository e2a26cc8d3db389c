//! `tweedie text`: a prompt through a pipeline's CLIP text encoder.

use super::*;

/// The tensor name `tweedie text` writes.
pub const TEXT_TENSOR: &str = "emb";

/// Encodes `prompt` with the tokenizer and text encoder of `model` (a folder holding `tokenizer/` and
/// `text_encoder/`, such as a Stable Diffusion pipeline folder) and writes the encoder's
/// `last_hidden_state` `[1, max_length, hidden]` to `out` as the tensor `emb`, the prompt padded to the
/// tokenizer's maximum length as diffusers' pipelines pad it.
pub fn text(
    f: &mut dyn Frontend,
    model: &std::path::Path,
    prompt: &str,
    out: &std::path::Path,
) -> Result<()> {
    crate::io::check_output(out, crate::io::Output::Safetensors, "--out")?;
    if model.is_file() {
        return Err(Error::Input(format!(
            "--model {} is a file; give a Stable Diffusion pipeline folder (with text_encoder/ and tokenizer/)",
            model.display()
        )));
    }
    // nothing is overwritten that was an input: the weights, configs and tokenizer files it reads
    let files = crate::models::TextEncoder::files(model);
    let inputs: Vec<(&str, &std::path::Path)> = files.iter().map(|p| ("--model's", p.as_path())).collect();
    crate::io::check_distinct(&inputs, &[("--out", out)])?;
    let gpu = f.gpu()?;
    let enc = crate::models::TextEncoder::load(&gpu, model)?;
    let ids = enc.tokenizer.encode(prompt)?;
    let (count, max) = (enc.tokenizer.count(prompt)?, enc.tokenizer.max_length);
    if count > max {
        f.note(&format!(
            "the prompt is {count} tokens with its start and end tokens; the text encoder takes {max}, \
             so its last {} tokens are dropped (as diffusers' pipelines drop them)",
            count - max
        ));
    }
    let e = enc.model.forward(std::slice::from_ref(&ids))?;
    let v = e.to_vec()?;
    finite(&v, "the text encoder's output")?;
    crate::io::write_safetensors(out, &[(TEXT_TENSOR, e.shape(), &v)])?;
    f.say(&format!(
        "wrote {TEXT_TENSOR} {:?} to {} (the prompt: {} tokens with its start and end, padded to {max})",
        e.shape(),
        out.display(),
        count.min(max)
    ));
    Ok(())
}
