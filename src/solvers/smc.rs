//! What the particle solvers (TDS, SMCDiff, MCGdiff, FPS) share: `K` particles per observation as the
//! batch (particle `k` of observation `b` in row `b K + k`), their settings, the measurement
//! repeated per particle, the model evaluated in chunks that fit the device, and the result — one
//! particle drawn by weight, or the weighted mean — with the weighted per-pixel standard deviation.

use super::Params;
use crate::error::{Error, Result};
use crate::ops;
use crate::ops::particles::{gather_rows, resample, resample_uniform, weighted_moments};
use crate::tensor::Tensor;

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

impl ParticleSettings {
    /// Reads `particles`, `ess`, `output` (`sample` | `mean`) and `chunk` with the solver's defaults.
    pub fn parse(p: &mut Params, k: usize, ess: f64) -> Result<Self> {
        let k = p.usize("particles", k, 1)?;
        let ess = p.f64("ess", ess, 0.0, 1.0)?;
        let output = match p.word("output", "sample")?.as_str() {
            "sample" => Output::Sample,
            "mean" => Output::Mean,
            o => {
                return Err(Error::Input(format!(
                    "--set output={o}: expects sample (one particle drawn by weight) or mean (the weighted mean)"
                )));
            }
        };
        let chunk = p.usize("chunk", 0, 0)?;
        Ok(ParticleSettings {
            k,
            ess,
            output,
            chunk,
        })
    }

    /// The settings as `key=value` pairs.
    pub fn pairs(&self) -> Vec<(String, String)> {
        vec![
            ("particles".into(), self.k.to_string()),
            ("ess".into(), self.ess.to_string()),
            (
                "output".into(),
                if self.output == Output::Mean {
                    "mean"
                } else {
                    "sample"
                }
                .into(),
            ),
            ("chunk".into(), self.chunk.to_string()),
        ]
    }

    /// Resamples where the ESS fell under the threshold: the particles' ancestors and the new log
    /// weights (`ess` 1 resamples every step).
    pub fn resample(&self, logw: &Tensor, seed: u64, step: u32) -> Result<(Tensor, Tensor)> {
        let threshold = if self.ess >= 1.0 { 2.0 } else { self.ess };
        let r = resample(logw, self.k, threshold, seed, step)?;
        Ok((r.ancestors, r.log_weights))
    }
}

/// Each row of `x` repeated `k` times in place (`[B, ...]` → `[B k, ...]`).
pub fn repeat_rows(x: &Tensor, k: usize) -> Result<Tensor> {
    let b = x.shape()[0];
    let idx: Vec<f32> = (0..b * k).map(|r| (r / k) as f32).collect();
    gather_rows(x, &Tensor::from_slice(x.gpu(), &[b * k], &idx)?)
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
