//! Unconditional ancestral (DDPM) and DDIM sampling, entirely on the GPU.

use super::denoiser::{Denoiser, Timestep};
use super::schedule::{Schedule, respace};
use crate::error::{Error, Result, Setting};
use crate::tensor::Tensor;

/// The reverse-process update.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sampler {
    /// Ancestral sampling from the DDPM posterior q(x_s | x_t, x̂0) with the "fixed small" variance
    /// (Ho et al. 2020), on the respaced timesteps.
    Ddpm,
    /// DDIM (Song et al. 2021) with stochasticity `eta` (0: deterministic, 1: DDPM-like).
    Ddim {
        /// The η of the paper.
        eta: f64,
    },
}

/// Coefficients of `x_s = c_x0 x̂0 + c_x x_t + c_eps ε + σ z` for the step from `t` to `s` (`None`:
/// the end of sampling, ᾱ = 1).
pub fn step_coefficients(sched: &Schedule, t: usize, s: Option<usize>, sampler: Sampler) -> [f64; 4] {
    match sampler {
        Sampler::Ddpm => {
            let tr = sched.transition(t, s, 1.0);
            [tr.c_x0, tr.c_x, 0.0, tr.var.max(0.0).sqrt()]
        }
        Sampler::Ddim { eta } => {
            let tr = sched.transition(t, s, eta);
            [tr.ab_s.sqrt(), 0.0, tr.c_eps, tr.sigma]
        }
    }
}

/// One fused update from `x_t` and the model's `eps` (same shape) to `x_s`. The noise comes from the
/// stream `(seed, step)`.
#[allow(clippy::too_many_arguments)]
pub fn sampler_step(
    x: &Tensor,
    eps: &Tensor,
    sched: &Schedule,
    t: usize,
    s: Option<usize>,
    sampler: Sampler,
    seed: u64,
    step: u32,
) -> Result<Tensor> {
    let [c_x0, c_x, c_eps, sigma] = step_coefficients(sched, t, s, sampler);
    let ab = sched.alpha_bar(Some(t));
    let c = [c_x0, c_x, c_eps, sigma, 0.0, 0.0];
    crate::ops::sampler_update(x, eps, None, ab, sched.clip_sample, seed, step, c)
}

/// The DDPM step from `x_t` to `x_s` with the model's learned variance (guided-diffusion's
/// `learned_range`, as the official DPS code samples): `v` (the model's last `C` outputs, in [-1, 1])
/// interpolates the log-variance between the posterior variance `β̃ = β (1 − ᾱ_s) / (1 − ᾱ_t)` and
/// `β = 1 − ᾱ_t / ᾱ_s` of the respaced step, element by element. No noise at the last step.
#[allow(clippy::too_many_arguments)]
pub fn sampler_step_learned(
    x: &Tensor,
    eps: &Tensor,
    v: &Tensor,
    sched: &Schedule,
    t: usize,
    s: Option<usize>,
    seed: u64,
    step: u32,
) -> Result<Tensor> {
    let tr = sched.transition(t, s, 1.0);
    let [c_x0, c_x, _, sigma] = step_coefficients(sched, t, s, Sampler::Ddpm);
    let (beta, post) = (tr.beta, tr.var);
    let c = if sigma > 0.0 && post > 0.0 {
        [c_x0, c_x, 0.0, sigma, post.ln(), beta.ln()]
    } else {
        [c_x0, c_x, 0.0, 0.0, 0.0, 0.0]
    };
    let ab = sched.alpha_bar(Some(t));
    crate::ops::sampler_update(x, eps, Some(v), ab, sched.clip_sample, seed, step, c)
}

/// Checks a batch for NaN or infinity with one small readback (a per-sample sum of squares).
pub fn check_finite(x: &Tensor, what: &str) -> Result<()> {
    let b = x.shape()[0];
    let s = crate::ops::sumsq_rows(x, b)?.to_vec()?;
    if let Some(i) = s.iter().position(|v| !v.is_finite()) {
        return Err(Error::NonFinite(format!(
            "{what}: sample {i} holds NaN or infinity; try more steps, a smaller step size, or check the model"
        )));
    }
    Ok(())
}

/// The fewest steps [`sample`] takes: respaced chains start at `t = T - T/steps` (diffusers'
/// "leading" spacing), so one step starts and ends at `t = 0` (the noise comes back unchanged) and
/// two start half-way (blotchy); from three on (start at `2T/3`) the samples are data-like (DDIM and
/// DDPM, looked at on the bundled prior).
pub const MIN_SAMPLE_STEPS: usize = 3;

/// Draws `shape[0]` samples of `shape` from the model, starting from Gaussian noise of the stream
/// `seed`, in `steps` respaced steps. `progress(done, total)` is called after every step; the batch is
/// checked for NaN every 50 steps and at the end (the only readbacks).
pub fn sample(
    model: &dyn Denoiser,
    shape: &[usize],
    steps: usize,
    sampler: Sampler,
    seed: u64,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Tensor> {
    model.check_input(shape)?;
    if steps < MIN_SAMPLE_STEPS {
        return Err(Error::setting(
            Setting::Steps(steps.to_string()),
            format!(
                ": sampling takes at least {MIN_SAMPLE_STEPS} steps (the respaced chain \
             starts at t = T - T/steps, so with fewer it starts at or near t = 0 and returns the \
             starting noise)"
            ),
        ));
    }
    let sched = model.schedule();
    let ts = respace(sched.len(), steps)?;
    let gpu = model.gpu();
    let tt: Vec<Timestep> = ts.iter().map(|&t| Timestep::new(gpu, t)).collect::<Result<_>>()?;
    let mut x = super::randn(gpu, shape, seed, 0, 1)?;
    for (i, &t) in ts.iter().enumerate() {
        let eps = model.eps(&x, &tt[i])?;
        x = sampler_step(
            &x,
            &eps,
            sched,
            t,
            ts.get(i + 1).copied(),
            sampler,
            seed,
            i as u32 + 1,
        )?;
        if (i + 1) % 50 == 0 {
            check_finite(&x, &format!("sampling step {} of {} (t = {t})", i + 1, ts.len()))?;
        }
        gpu.pace()?;
        progress(i + 1, ts.len());
    }
    check_finite(&x, "the final sample")?;
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ddim_eta1_noise_matches_ddpm_variance_and_last_step_is_x0() {
        let s = Schedule::ddpm_default();
        let ddpm = step_coefficients(&s, 500, Some(480), Sampler::Ddpm);
        let ddim = step_coefficients(&s, 500, Some(480), Sampler::Ddim { eta: 1.0 });
        assert!((ddpm[3] - ddim[3]).abs() < 1e-12);
        for sm in [Sampler::Ddpm, Sampler::Ddim { eta: 0.3 }] {
            let c = step_coefficients(&s, 20, None, sm);
            assert!((c[0] - 1.0).abs() < 1e-12 && c[1].abs() < 1e-12 && c[2].abs() < 1e-12 && c[3] == 0.0);
        }
    }
}
