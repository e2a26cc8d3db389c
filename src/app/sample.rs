//! `tweedie sample`: unconditional samples as a grid.

use super::*;

/// `n` samples with `steps` of `sampler` (ddpm, ddim with `eta`), as a grid in `out`: unconditional,
/// or of a text-conditioned pipeline with `text`'s prompt and guidance scale.
#[allow(clippy::too_many_arguments)]
pub fn sample(
    f: &mut dyn Frontend,
    model: Option<PathBuf>,
    n: usize,
    steps: usize,
    sampler: &str,
    eta: Option<f64>,
    seed: u64,
    out: &std::path::Path,
    text: Option<(&str, f64)>,
) -> Result<()> {
    use crate::diffusion::Sampler;
    let sampler = match (sampler, eta) {
        ("ddpm", Some(e)) => {
            return Err(Error::Input(format!(
                "--eta {e} with --sampler ddpm: the ancestral sampler has no eta (it is fixed); drop \
                 --eta, or use --sampler ddim --eta {e}"
            )));
        }
        ("ddpm", None) => Sampler::Ddpm,
        ("ddim", _) => Sampler::Ddim {
            eta: eta.unwrap_or(0.0),
        },
        (other, _) => {
            return Err(Error::Input(format!(
                "unknown sampler {other:?}; use ddpm or ddim"
            )));
        }
    };
    let eta = eta.unwrap_or(0.0);
    if steps < crate::diffusion::MIN_SAMPLE_STEPS {
        return Err(Error::Input(format!(
            "--steps {steps}: sampling takes at least {} steps (the respaced chain starts at t = T - T/steps: \
             one step starts and ends at t = 0 and returns the starting noise)",
            crate::diffusion::MIN_SAMPLE_STEPS
        )));
    }
    if n == 0 || n > 1024 {
        return Err(Error::Input(format!("--n {n}: draw from 1 to 1024 samples")));
    }
    if !(eta.is_finite() && (0.0..=1.0).contains(&eta)) {
        return Err(Error::Input(format!(
            "--eta {eta}: DDIM's stochasticity must be a number in [0, 1] (0: deterministic)"
        )));
    }
    if steps == 0 {
        return Err(Error::Input("--steps 0: sampling takes at least 1 step".into()));
    }
    crate::io::check_output(out, crate::io::Output::Png, "--out")?;
    let dir = model.unwrap_or_else(default_model);
    let gpu = f.gpu()?;
    let prior = load_prior(f, &gpu, &dir, text)?;
    let (h, w) = prior.image_size().ok_or_else(|| {
        Error::Model(format!(
            "{}: config.json has no sample_size to sample at",
            dir.display()
        ))
    })?;
    // on a latent prior: latents, decoded at the end
    let [c, hz, wz] = prior.state_shape([prior.image_channels(), h, w]);
    let x = crate::diffusion::sample(
        prior.denoiser(),
        &[n, c, hz, wz],
        steps,
        sampler,
        seed,
        &mut |d, t| f.progress("sampling", d, t),
    )?;
    let x = prior.to_images(&x)?;
    let shape = x.shape().to_vec();
    let images = crate::io::batch_to_images(&x.to_vec()?, &shape);
    let cols = (n as f64).sqrt().ceil() as usize;
    let scale = if h <= 64 { 4 } else { 1 };
    crate::io::write_image(out, &crate::io::grid(&images, cols)?, scale)?;
    f.say(&format!("wrote {n} samples to {}", out.display()));
    Ok(())
}
