//! Batched conjugate gradients on the device (launchers for `shaders/cg.wgsl`): solves `M u = b`
//! for each sample of a batch, where `M` is symmetric positive definite and given as a closure over
//! tensors (an operator product, VJPs, anything that maps a batch to a batch sample by sample). The
//! step sizes stay on the device, one per sample: an iteration is one product with `M`, two inner
//! products and three vector updates, and nothing is read back.

use super::u32_of;
use crate::error::{Error, Result};
use crate::gpu::params::CgParams;
use crate::gpu::{KernelId, grid1d};
use crate::tensor::Tensor;
use crate::tensor::binds;

/// Per-sample inner products `out[r] = ⟨x_r, y_r⟩` of two tensors viewed as `rows` equal rows.
pub fn dot_rows(x: &Tensor, y: &Tensor, rows: usize) -> Result<Tensor> {
    super::same_device(x, y)?;
    if x.shape() != y.shape() || rows == 0 || !x.numel().is_multiple_of(rows) {
        return Err(Error::Shape(format!(
            "dot_rows: {:?} and {:?} in {rows} rows",
            x.shape(),
            y.shape()
        )));
    }
    let out = Tensor::empty(x.gpu(), &[rows])?;
    let len = x.numel() / rows;
    // the kernel binds five inputs; the ratio operands are unused here
    x.gpu().dispatch(
        &KernelId::new("cg.wgsl", "dot_rows"),
        &CgParams {
            rows: u32_of(rows, "rows")?,
            len: u32_of(len, "row length")?,
            ..Default::default()
        },
        &binds!(x, y, x, x => out),
        grid1d(rows, 1),
    )?;
    Ok(out)
}

/// `x + s (num_r / den_r) y` row by row (`num`, `den`: `[rows]`; a zero denominator gives `x`).
pub fn axpy_ratio(x: &Tensor, s: f32, num: &Tensor, den: &Tensor, y: &Tensor) -> Result<Tensor> {
    let rows = num.numel();
    if x.shape() != y.shape() || den.numel() != rows || rows == 0 || !x.numel().is_multiple_of(rows) {
        return Err(Error::Shape(format!(
            "axpy_ratio: {:?} and {:?} with {} / {} ratios",
            x.shape(),
            y.shape(),
            rows,
            den.numel()
        )));
    }
    let out = Tensor::empty(x.gpu(), x.shape())?;
    x.gpu().dispatch(
        &KernelId::new("cg.wgsl", "axpy_ratio"),
        &CgParams {
            rows: u32_of(rows, "rows")?,
            len: u32_of(x.numel() / rows, "row length")?,
            s,
            ..Default::default()
        },
        &binds!(x, y, num, den => out),
        grid1d(x.numel(), 256),
    )?;
    Ok(out)
}

/// `iters` iterations of conjugate gradients for `M u = b` per sample (`b`: `[B, ...]`), from
/// `u = 0` (Hestenes & Stiefel 1952):
///
/// ```text
/// r = p = b;  ρ = ⟨r, r⟩
/// repeat:  q = M p;  α = ρ / ⟨p, q⟩;  u += α p;  r −= α q;  ρ' = ⟨r, r⟩;  p = r + (ρ'/ρ) p;  ρ = ρ'
/// ```
///
/// A sample whose residual vanishes stops moving (its ratios become 0/0 → 0). `M` must be symmetric
/// positive definite sample by sample; nothing checks it.
pub fn cg(m: &dyn Fn(&Tensor) -> Result<Tensor>, b: &Tensor, iters: usize) -> Result<Tensor> {
    cg_floored(m, b, iters, 0.0)
}

/// [`cg`] for a matrix known to satisfy `M ⪰ floor · I` but computed inexactly (a network's
/// Jacobian is only nearly symmetric positive semi-definite): each curvature `⟨p, M p⟩` is raised to
/// at least `floor · ⟨p, p⟩`, so that a direction the products wrongly see as flat or negative gives
/// a bounded step instead of a near-division by zero. With `floor = 0` it is plain [`cg`].
pub fn cg_floored(
    m: &dyn Fn(&Tensor) -> Result<Tensor>,
    b: &Tensor,
    iters: usize,
    floor: f32,
) -> Result<Tensor> {
    let rows = *b
        .shape()
        .first()
        .ok_or_else(|| Error::Shape("cg: a batch of right-hand sides, not a scalar".into()))?;
    let mut u = Tensor::full(b.gpu(), b.shape(), 0.0)?;
    let mut r = b.detach();
    let mut p = b.detach();
    let mut rho = dot_rows(&r, &r, rows)?;
    for _ in 0..iters {
        let q = m(&p)?.detach();
        let mut pq = dot_rows(&p, &q, rows)?;
        if floor > 0.0 {
            // max(⟨p, q⟩, floor ⟨p, p⟩) = f + max(⟨p, q⟩ − f, 0)
            let f = super::scale(&dot_rows(&p, &p, rows)?, floor)?;
            pq = super::axpby(
                1.0,
                &f,
                1.0,
                &super::clamp(&super::axpby(1.0, &pq, -1.0, &f)?, 0.0, f32::MAX)?,
            )?;
        }
        u = axpy_ratio(&u, 1.0, &rho, &pq, &p)?;
        r = axpy_ratio(&r, -1.0, &rho, &pq, &q)?;
        let rho_next = dot_rows(&r, &r, rows)?;
        p = axpy_ratio(&r, 1.0, &rho_next, &rho, &p)?;
        rho = rho_next;
    }
    Ok(u)
}
