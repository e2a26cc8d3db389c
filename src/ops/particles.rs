//! Particle operations of the sequential Monte Carlo solvers (launchers for `shaders/particles.wgsl`
//! and `shaders/particle_rows.wgsl`): `G` groups (one per observation) of `K` weighted particles,
//! particle `k` of group `g` in row `g K + k` of a batch. Log weights, the effective sample size,
//! systematic resampling and the weighted moments stay on the device; nothing is read back.

use super::random::philox4x32_10;
use super::u32_of;
use crate::error::{Error, Result};
use crate::gpu::params::{ParticleRowsParams, ParticlesParams};
use crate::gpu::{KernelId, grid1d};
use crate::tensor::Tensor;
use crate::tensor::binds;

/// What [`resample`] gives: the ancestor of every particle and the weights after the step.
#[derive(Debug, Clone)]
pub struct Resampled {
    /// `[G K]`: the global row each particle is copied from (the identity when the group was not
    /// resampled), as f32 (exact below 2^24 rows); pass it to [`gather_rows`].
    pub ancestors: Tensor,
    /// `[G K]`: the log weights after the step: 0 in a resampled group, otherwise the input shifted
    /// so that the group's largest is 0 (the same normalised weights).
    pub log_weights: Tensor,
    /// `[G]`: the effective sample size `(Σ w)² / Σ w²` of each group before resampling.
    pub ess: Tensor,
}

/// Systematic resampling of `G = logw.numel() / k` groups of `k` particles: where a group's effective
/// sample size falls under `threshold · k` (always, with `threshold` above 1), its particles are
/// redrawn in proportion to their weights from one uniform `u` ([`resample_uniform`]): particle `j`
/// takes the first `i` whose cumulative normalised weight exceeds `(u + j) / k`, so each particle is
/// copied `⌊k wᵢ⌋` or `⌈k wᵢ⌉` times. `step` selects the uniforms of this resampling (one stream per
/// `(seed, step)`). Non-finite log weights count as zero weight.
pub fn resample(logw: &Tensor, k: usize, threshold: f64, seed: u64, step: u32) -> Result<Resampled> {
    let n = logw.numel();
    if k == 0 || !n.is_multiple_of(k) || n == 0 {
        return Err(Error::Shape(format!(
            "resample: {n} log weights are not groups of {k} particles"
        )));
    }
    let groups = n / k;
    let gpu = logw.gpu();
    let out = Resampled {
        ancestors: Tensor::empty(gpu, &[n])?,
        log_weights: Tensor::empty(gpu, &[n])?,
        ess: Tensor::empty(gpu, &[groups])?,
    };
    let cdf = Tensor::empty(gpu, &[n])?;
    let (lo, hi) = (seed as u32, (seed >> 32) as u32);
    let force = threshold > 1.0;
    gpu.dispatch(
        &KernelId::new("particles.wgsl", "resample"),
        &ParticlesParams {
            k: u32_of(k, "particles per group")?,
            groups: u32_of(groups, "particle groups")?,
            seed_lo: lo,
            seed_hi: hi,
            step,
            force: force as u32,
            threshold: threshold.min(1.0) as f32,
            ..Default::default()
        },
        &binds!(logw => out.ancestors, out.log_weights, out.ess, cdf),
        [u32_of(groups, "particle groups")?, 1, 1],
    )?;
    Ok(out)
}

/// The uniform in [0, 1) that [`resample`] draws for group `g` at `(seed, step)` (host reference of
/// the kernel's Philox counter `(g, step, 0x5E5A3, 0)`).
pub fn resample_uniform(seed: u64, step: u32, g: u32) -> f64 {
    let r = philox4x32_10([g, step, 0x5E5A3, 0], [seed as u32, (seed >> 32) as u32]);
    (r[0] >> 8) as f64 / (1u64 << 24) as f64
}

/// Rows of `x` (its first axis) picked by `idx` (global row numbers as f32, e.g.
/// [`Resampled::ancestors`]): row `r` of the result is row `idx[r]` of `x`. The result has
/// `idx.numel()` rows.
pub fn gather_rows(x: &Tensor, idx: &Tensor) -> Result<Tensor> {
    super::same_device(x, idx)?;
    let rows_in = *x.shape().first().unwrap_or(&0);
    if rows_in == 0 || idx.numel() == 0 {
        return Err(Error::Shape(format!(
            "gather_rows: {} rows picked from a tensor of shape {:?}",
            idx.numel(),
            x.shape()
        )));
    }
    let len = x.numel() / rows_in;
    let rows = idx.numel();
    let mut shape = x.shape().to_vec();
    shape[0] = rows;
    let out = Tensor::empty(x.gpu(), &shape)?;
    x.gpu().dispatch(
        &KernelId::new("particle_rows.wgsl", "gather_rows"),
        &ParticleRowsParams {
            rows: u32_of(rows, "rows")?,
            len: u32_of(len, "row length")?,
            ..Default::default()
        },
        &binds!(x, idx => out),
        grid1d(out.numel(), 256),
    )?;
    Ok(out)
}

/// The weighted mean and standard deviation of each group of `k` rows of `x` (weights `exp(logw)`,
/// `logw` `[G k]`), element by element: two tensors of `x`'s shape with `G` rows.
pub fn weighted_moments(x: &Tensor, logw: &Tensor, k: usize) -> Result<(Tensor, Tensor)> {
    super::same_device(x, logw)?;
    let rows = *x.shape().first().unwrap_or(&0);
    if k == 0 || rows != logw.numel() || !rows.is_multiple_of(k) || rows == 0 {
        return Err(Error::Shape(format!(
            "weighted_moments: {} log weights for {rows} rows in groups of {k}",
            logw.numel()
        )));
    }
    let groups = rows / k;
    let len = x.numel() / rows;
    let mut shape = x.shape().to_vec();
    shape[0] = groups;
    let mean = Tensor::empty(x.gpu(), &shape)?;
    let std = Tensor::empty(x.gpu(), &shape)?;
    x.gpu().dispatch(
        &KernelId::new("particle_rows.wgsl", "weighted_moments"),
        &ParticleRowsParams {
            rows: u32_of(groups, "groups")?,
            len: u32_of(len, "row length")?,
            k: u32_of(k, "group size")?,
            ..Default::default()
        },
        &binds!(x, logw => mean, std),
        grid1d(mean.numel(), 256),
    )?;
    Ok((mean, std))
}

/// Rows `start .. start + count` of `x` (its first axis) as a new tensor (a device copy).
pub fn rows(x: &Tensor, start: usize, count: usize) -> Result<Tensor> {
    let n = *x.shape().first().unwrap_or(&0);
    if count == 0 || start + count > n {
        return Err(Error::Shape(format!(
            "rows {start}..{} of a tensor of shape {:?}",
            start + count,
            x.shape()
        )));
    }
    let row = (x.numel() / n * 4) as u64;
    let mut shape = x.shape().to_vec();
    shape[0] = count;
    let out = Tensor::empty(x.gpu(), &shape)?;
    x.gpu().copy(
        x.buffer(),
        start as u64 * row,
        out.buffer(),
        0,
        count as u64 * row,
    );
    Ok(out)
}

/// The tensors of `parts` stacked along their first axis (each must have the same trailing shape).
pub fn cat_rows(parts: &[Tensor]) -> Result<Tensor> {
    let first = parts
        .first()
        .ok_or_else(|| Error::Shape("cat_rows of no tensors".into()))?;
    let tail = &first.shape()[1..];
    if let Some(p) = parts.iter().find(|p| &p.shape()[1..] != tail) {
        return Err(Error::Shape(format!(
            "cat_rows: {:?} and {:?}",
            first.shape(),
            p.shape()
        )));
    }
    let mut shape = first.shape().to_vec();
    shape[0] = parts.iter().map(|p| p.shape()[0]).sum();
    let out = Tensor::empty(first.gpu(), &shape)?;
    let mut off = 0u64;
    for p in parts {
        super::same_device(first, p)?;
        first.gpu().copy(p.buffer(), 0, out.buffer(), off, p.bytes());
        off += p.bytes();
    }
    Ok(out)
}
