//! What the particle solvers (TDS, SMCDiff, MCGdiff, FPS) share: `K` particles per observation as the
//! batch (particle `k` of observation `b` in row `b K + k`), their settings, the measurement
//! repeated per particle, the model evaluated in chunks that fit the device, and the result — one
//! particle drawn by weight, or the weighted mean — with the weighted per-pixel standard deviation.

use super::params::{Choice, Param, Params};
use crate::error::{Error, Result};
use crate::ops;
use crate::ops::particles::{gather_rows, resample, resample_uniform, weighted_moments};
use crate::tensor::Tensor;
use std::ops::RangeBounds;

/// Singular values below this count as unobserved (the particle filters in the SVD basis:
/// MCGdiff, FPS).
pub(crate) const MIN_SINGULAR: f64 = 1e-6;

/// Which picture a particle run returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// One particle per observation, drawn in proportion to its weight (a posterior sample).
    Sample,
    /// The weighted mean of the particles (an estimate of the posterior mean).
    Mean,
}

/// The settings every particle solver takes: `particles`, `ess`, `output`, `chunk`.
#[derive(Debug, Clone, Copy)]
pub struct ParticleSettings {
    /// Particles per observation, K.
    pub k: usize,
    /// Resample a group when its effective sample size falls under `ess · K` (1: every step).
    pub ess: f64,
    /// What the run returns.
    pub output: Output,
    /// Particles per model pass (0: all at once, halved while a buffer exceeds the device's limits).
    pub chunk: usize,
}

impl Choice for Output {
    const WORDS: &'static [(&'static str, Self)] = &[("sample", Output::Sample), ("mean", Output::Mean)];
    const EXPECTS: &'static str = "sample (one particle drawn by weight) or mean (the weighted mean)";
}

/// The four keys a particle solver takes, read and printed as one parameter (`particles: ParticleSettings
/// = set(ParticleSettings::new(K, ESS))` in [`crate::solver_params!`]).
impl Param for ParticleSettings {
    fn read(p: &mut Params, _: &'static str, d: Self, _: impl RangeBounds<Self>) -> Result<Self> {
        Ok(ParticleSettings {
            k: usize::read(p, "particles", d.k, 1..)?,
            ess: f64::read(p, "ess", d.ess, 0.0..=1.0)?,
            output: Output::read(p, "output", d.output, ..)?,
            chunk: usize::read(p, "chunk", d.chunk, 0..)?,
        })
    }

    fn pairs(&self, _: &str) -> Vec<(String, String)> {
        [
            self.k.pairs("particles"),
            self.ess.pairs("ess"),
            self.output.pairs("output"),
            self.chunk.pairs("chunk"),
        ]
        .concat()
    }
}

impl ParticleSettings {
    /// The defaults of a solver: `k` particles, resampling under `ess · K`, one sample drawn by
    /// weight, the model's passes unchunked.
    pub const fn new(k: usize, ess: f64) -> Self {
        ParticleSettings {
            k,
            ess,
            output: Output::Sample,
            chunk: 0,
        }
    }

    /// K, once it is known that all particles' images (`[B K, C, H, W]`, one buffer) fit the device's
    /// binding limit: otherwise an error before any compute that names `particles` and the most that
    /// fit (`chunk` splits only the model's passes, so it cannot help).
    pub fn fitting(&self, gpu: &crate::Gpu, shape: [usize; 4]) -> Result<usize> {
        let per_particle = (shape[1] * shape[2] * shape[3] * 4) as u64;
        let limit = gpu.max_binding_bytes();
        let bytes = (shape[0] * self.k) as u64 * per_particle;
        if bytes > limit {
            let most = limit / (per_particle * shape[0] as u64).max(1);
            return Err(Error::Input(format!(
                "particles={} for {} observation(s) of {}x{}x{} hold {} MiB of images in one buffer, \
                 over this device's {} MiB per binding: use at most particles={most} (chunk= splits \
                 only the model's passes, not the particles themselves)",
                self.k,
                shape[0],
                shape[1],
                shape[2],
                shape[3],
                bytes >> 20,
                limit >> 20
            )));
        }
        Ok(self.k)
    }

    /// Resamples where the ESS fell under the threshold: the particles' ancestors and the new log
    /// weights (`ess` 1 resamples every step).
    pub fn resample(&self, logw: &Tensor, seed: u64, step: u32) -> Result<(Tensor, Tensor)> {
        let threshold = if self.ess >= 1.0 { 2.0 } else { self.ess };
        let r = resample(logw, self.k, threshold, seed, step)?;
        Ok((r.ancestors, r.log_weights))
    }
}

/// The row indices that repeat each of `b` rows `k` times in place, for [`gather_rows`] (made once,
/// so that a loop repeating rows uploads nothing).
pub fn repeat_index(gpu: &crate::Gpu, b: usize, k: usize) -> Result<Tensor> {
    let idx: Vec<f32> = (0..b * k).map(|r| (r / k) as f32).collect();
    Tensor::from_slice(gpu, &[b * k], &idx)
}

/// Each row of `x` repeated `k` times in place (`[B, ...]` → `[B k, ...]`).
pub fn repeat_rows(x: &Tensor, k: usize) -> Result<Tensor> {
    gather_rows(x, &repeat_index(x.gpu(), x.shape()[0], k)?)
}

/// Evaluates `f(rows, first row)` on the rows of `x` in chunks of `chunk` rows (0: all at once,
/// halved while a buffer exceeds the device's limits) and stacks each of its outputs. `f` must
/// treat rows independently (as the model and the operators do), so that the chunking does not
/// change the result.
pub fn chunked(
    x: &Tensor,
    chunk: usize,
    mut f: impl FnMut(&Tensor, usize) -> Result<Vec<Tensor>>,
) -> Result<Vec<Tensor>> {
    let n = x.shape()[0];
    let mut size = if chunk == 0 { n } else { chunk.min(n) };
    loop {
        match chunks_of(x, size, &mut f) {
            Err(Error::TooLarge { .. }) if chunk == 0 && size > 1 => size = size.div_ceil(2),
            r => return r,
        }
    }
}

fn chunks_of(
    x: &Tensor,
    size: usize,
    f: &mut impl FnMut(&Tensor, usize) -> Result<Vec<Tensor>>,
) -> Result<Vec<Tensor>> {
    let n = x.shape()[0];
    if size >= n {
        return f(x, 0);
    }
    let mut parts: Vec<Vec<Tensor>> = Vec::new();
    let mut start = 0;
    while start < n {
        let c = size.min(n - start);
        let outs = f(&ops::particles::rows(x, start, c)?, start)?;
        if parts.is_empty() {
            parts = outs.iter().map(|_| Vec::new()).collect();
        }
        for (p, o) in parts.iter_mut().zip(outs) {
            p.push(o.detach());
        }
        start += c;
    }
    parts.iter().map(|p| ops::particles::cat_rows(p)).collect()
}

/// The result of a particle run from its last particles `x` `[B K, ...]` and log weights: one
/// particle per observation drawn by weight (resampling step `u32::MAX`), or the weighted mean;
/// with the weighted per-pixel standard deviation.
pub fn posterior(x: &Tensor, logw: &Tensor, s: &ParticleSettings, seed: u64) -> Result<(Tensor, Tensor)> {
    let (mean, std) = weighted_moments(x, logw, s.k)?;
    if s.output == Output::Mean {
        return Ok((mean, std));
    }
    let b = x.shape()[0] / s.k;
    let r = resample(logw, s.k, 2.0, seed, u32::MAX)?;
    // one of the K systematic draws at random: its position (u + j)/K is uniform on [0, 1), so
    // the particle it lands on is picked with probability equal to its weight
    let first: Vec<f32> = (0..b)
        .map(|g| {
            let j = (resample_uniform(seed, u32::MAX - 1, g as u32) * s.k as f64) as usize;
            (g * s.k + j.min(s.k - 1)) as f32
        })
        .collect();
    let first = Tensor::from_slice(x.gpu(), &[b], &first)?;
    let pick = gather_rows(&r.ancestors.reshape(&[b * s.k, 1])?, &first)?;
    Ok((gather_rows(x, &pick.reshape(&[b])?)?, std))
}

/// `Σ_pixels (a − b)²` per particle: `[rows]`.
pub fn sq_dist(a: &Tensor, b: &Tensor, rows: usize) -> Result<Tensor> {
    ops::sumsq_rows(&ops::axpby(1.0, a, -1.0, b)?, rows)
}

/// A Gaussian potential on each spectral coordinate of the particles (`Vᵀ x`, see
/// [`crate::operators::Svd`]): `N(x̄_j; g_j ȳ_j, var_j)` on the active coordinates, with `ȳ` a
/// measurement-derived vector in the same layout; what MCGdiff's and FPS's steps condition on.
pub struct Potential {
    /// Whether each coordinate is conditioned.
    pub active: Vec<bool>,
    /// The gain `g_j` that maps the measurement vector to the coordinate's centre.
    pub gain: Vec<f64>,
    /// The variance of each active coordinate.
    pub var: Vec<f64>,
}

/// The per-coordinate constants of one fully adapted step from the model's Gaussian transition
/// `N(m, ν²)` under a [`Potential`], on the device: the predictive weight's `1/sqrt(ν² + var)`, the
/// Kalman gain `ν²/(ν² + var)`, the proposal's standard deviation `sqrt(var · gain)` (ν where the
/// coordinate is free), and the potential's centre gains; with, optionally, the potential the
/// particles were under before the step (its `1/sqrt(var)` and gains), which the weight divides out.
pub struct KalmanStep {
    sqrtw: Tensor,
    kgain: Tensor,
    noise: Tensor,
    centre: Tensor,
    before: Option<(Tensor, Tensor)>,
}

impl KalmanStep {
    /// The constants for transition noise `nu` under `next`, dividing out `before` when given.
    pub fn new(gpu: &crate::Gpu, nu: f64, next: &Potential, before: Option<&Potential>) -> Result<Self> {
        let n2 = nu * nu;
        let t = |v: Vec<f64>| -> Result<Tensor> {
            let v: Vec<f32> = v.iter().map(|&x| x as f32).collect();
            Tensor::from_slice(gpu, &[v.len()], &v)
        };
        let on = |p: &Potential, f: &dyn Fn(usize) -> f64, off: f64| -> Vec<f64> {
            (0..p.active.len())
                .map(|j| if p.active[j] { f(j) } else { off })
                .collect()
        };
        let sqrtw = t(on(next, &|j| 1.0 / (n2 + next.var[j]).sqrt(), 0.0))?;
        let kg: Vec<f64> = on(next, &|j| n2 / (n2 + next.var[j]), 0.0);
        let noise = t(on(next, &|j| (next.var[j] * kg[j]).sqrt(), nu))?;
        let before = match before {
            Some(b) => Some((
                t(on(b, &|j| 1.0 / b.var[j].sqrt(), 0.0))?,
                t(on(b, &|j| b.gain[j], 0.0))?,
            )),
            None => None,
        };
        Ok(KalmanStep {
            sqrtw,
            kgain: t(kg)?,
            noise,
            centre: t(on(next, &|j| next.gain[j], 0.0))?,
            before,
        })
    }

    /// The step for particles `xbar` (spectral, `[B K, ...]`) whose model transition has mean `mbar`,
    /// with the measurement vectors `ybar` (`[B K, ...]`, for the potential after the step) and
    /// `ybar_before` (for the one before): the log weights gain the predictive likelihood of the
    /// new potential over the old one, the particles are resampled where the ESS is low, and each
    /// new particle is drawn from the exact product of its transition and the potential. Returns
    /// the new particles (spectral) and log weights.
    #[allow(clippy::too_many_arguments)]
    pub fn apply(
        &self,
        xbar: &Tensor,
        mbar: &Tensor,
        ybar: &Tensor,
        ybar_before: &Tensor,
        logw: &Tensor,
        s: &ParticleSettings,
        seed: u64,
        step: u32,
    ) -> Result<(Tensor, Tensor)> {
        let n = xbar.shape()[0];
        let centre = ops::mul_bcast(ybar, &self.centre)?;
        let r = ops::mul_bcast(&ops::axpby(1.0, mbar, -1.0, &centre)?, &self.sqrtw)?;
        let mut incr = ops::scale(&ops::sumsq_rows(&r, n)?, -0.5)?;
        if let Some((w, g)) = &self.before {
            let c = ops::mul_bcast(ybar_before, g)?;
            let r = ops::mul_bcast(&ops::axpby(1.0, xbar, -1.0, &c)?, w)?;
            incr = ops::axpby(1.0, &incr, 0.5, &ops::sumsq_rows(&r, n)?)?;
        }
        let (anc, logw) = s.resample(&ops::add(logw, &incr)?, seed, step)?;
        let m = gather_rows(mbar, &anc)?;
        // a particle's centre goes with it (FPS's joint filter gives each particle its own)
        let centre = gather_rows(&centre, &anc)?;
        let pull = ops::mul_bcast(&ops::axpby(1.0, &centre, -1.0, &m)?, &self.kgain)?;
        let z = crate::diffusion::randn(xbar.gpu(), xbar.shape(), seed, step + 1, 3)?;
        let x = ops::add(&ops::add(&m, &pull)?, &ops::mul_bcast(&z, &self.noise)?)?;
        Ok((x, logw))
    }
}

/// The model's DDIM transition from `x` (pixels, `[B K, ...]`) at `t` to `prev` (`None`: the end,
/// ᾱ = 1) with `η`, evaluated in chunks: its mean `sqrt(ᾱ_prev) x̂0 + sqrt(1 − ᾱ_prev − ν²) ε` (x̂0
/// clamped as the schedule says, ε taken from it), its standard deviation ν, and x̂0.
pub(crate) fn ddim_mean(
    p: &super::Problem,
    x: &Tensor,
    t: &crate::diffusion::Timestep,
    prev: Option<usize>,
    eta: f64,
    chunk: usize,
) -> Result<(Tensor, f64, Tensor)> {
    let sched = p.schedule();
    let tr = sched.transition(t.t, prev, eta);
    let outs = chunked(x, chunk, |xc, _| {
        let eps = p.model.eps(xc, t)?;
        let x0 = crate::diffusion::tweedie(sched, xc, &eps, t.t, sched.clip_sample)?;
        let e = crate::diffusion::eps_from_x0(sched, xc, &x0, t.t)?;
        let m = ops::axpby(tr.ab_s.sqrt() as f32, &x0, tr.c_eps as f32, &e)?;
        Ok(vec![m, x0])
    })?;
    Ok((outs[0].clone(), tr.sigma, outs[1].clone()))
}
