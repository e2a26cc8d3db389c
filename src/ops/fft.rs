//! Complex tensors and the 2-D discrete Fourier transform on the device (launchers for
//! `shaders/fft.wgsl`).
//!
//! **Layout.** A complex tensor is an f32 tensor whose last axis has length 2 (real, imaginary):
//! `[..., H, W, 2]`; the transform runs over the two axes before it. Sizes are powers of two up to
//! [`MAX_FFT_SIDE`]. The transform is orthonormal (`1/sqrt(H W)` both ways), so it is unitary: its
//! adjoint, and so its vector-Jacobian product, is the inverse transform. All four ops here are
//! differentiable.

use super::grad::record;
use super::u32_of;
use crate::error::{Error, Result};
use crate::gpu::params::FftParams;
use crate::gpu::{KernelId, grid1d};
use crate::tensor::binds;
use crate::tensor::{BackwardOp, InputGrads, Tensor};

/// The longest side a transform takes (one line per workgroup, held in workgroup memory).
pub const MAX_FFT_SIDE: usize = 1024;

fn check_side(n: usize, what: &str) -> Result<u32> {
    if !n.is_power_of_two() || n > MAX_FFT_SIDE {
        return Err(Error::Shape(format!(
            "fft2: {what} {n} is not a power of two up to {MAX_FFT_SIDE}: pad the image to one"
        )));
    }
    Ok(n.trailing_zeros())
}

/// The orthonormal 2-D DFT of a complex tensor `[..., H, W, 2]` over its H and W axes:
/// `Z[k, l] = (H W)^(-1/2) Σ z[i, j] exp(∓2πi (k i / H + l j / W))` (− forward, + `inverse`).
pub fn fft2(z: &Tensor, inverse: bool) -> Result<Tensor> {
    let s = z.shape();
    if s.len() < 3 || s[s.len() - 1] != 2 {
        return Err(Error::Shape(format!(
            "fft2 takes a complex tensor [..., H, W, 2], got {s:?}"
        )));
    }
    let (h, w) = (s[s.len() - 3], s[s.len() - 2]);
    let (lh, lw) = (check_side(h, "height")?, check_side(w, "width")?);
    let rows = z.numel() / (2 * h * w);
    let sign = if inverse { 1.0 } else { -1.0 };
    let gpu = z.gpu();
    let mid = Tensor::empty(gpu, s)?;
    // along W: lines of stride 1; along H: lines of stride W
    line_pass(z, &mid, w, lw, rows * h, 1, sign, 1.0 / (w as f32).sqrt())?;
    let out = Tensor::empty(gpu, s)?;
    line_pass(&mid, &out, h, lh, rows * w, w, sign, 1.0 / (h as f32).sqrt())?;
    Ok(record(out, &[z], Fft2 { inverse }))
}

#[allow(clippy::too_many_arguments)]
fn line_pass(
    x: &Tensor,
    out: &Tensor,
    n: usize,
    log2n: u32,
    lines: usize,
    inner: usize,
    sign: f32,
    scale: f32,
) -> Result<()> {
    let lines32 = u32_of(lines, "fft lines")?;
    // one workgroup per line, split over two grid axes past 65,535 lines as every launcher does
    let groups = grid1d(lines, 1);
    x.gpu().dispatch(
        &KernelId::new("fft.wgsl", "fft_line"),
        &FftParams {
            a: n as u32,
            b: log2n,
            c: lines32,
            d: u32_of(inner, "fft stride")?,
            e: sign,
            f: scale,
            ..Default::default()
        },
        &binds!(x, x => out),
        groups,
    )
}

fn launch(
    entry: &'static str,
    params: FftParams,
    x: &Tensor,
    aux: &Tensor,
    out: &Tensor,
    n: usize,
) -> Result<()> {
    x.gpu().dispatch(
        &KernelId::new("fft.wgsl", entry),
        &params,
        &binds!(x, aux => out),
        grid1d(n, 256),
    )
}

/// A real tensor `[..., h, w]` as complex `[..., nh, nw, 2]`: the image centred in zeros (offsets
/// `(nh − h)/2`, `(nw − w)/2`), imaginary part 0. Its adjoint is [`crop_real`].
pub fn embed_complex(x: &Tensor, nh: usize, nw: usize) -> Result<Tensor> {
    let s = x.shape();
    if s.len() < 2 || s[s.len() - 2] > nh || s[s.len() - 1] > nw {
        return Err(Error::Shape(format!(
            "embed_complex: {s:?} does not fit in {nh}x{nw}"
        )));
    }
    let (h, w) = (s[s.len() - 2], s[s.len() - 1]);
    let rows = x.numel() / (h * w);
    let mut shape = s[..s.len() - 2].to_vec();
    shape.extend([nh, nw, 2]);
    let out = Tensor::empty(x.gpu(), &shape)?;
    let count = rows * nh * nw;
    let p = window_params(h, w, nh, nw, count);
    u32_of(2 * count, "embedded tensor")?;
    launch("embed", p, x, x, &out, count)?;
    Ok(record(out, &[x], Window { embed: true }))
}

/// The parameters of the window kernels: an `h × w` image in a `nh × nw` frame, `count` outputs.
fn window_params(h: usize, w: usize, nh: usize, nw: usize, count: usize) -> FftParams {
    FftParams {
        a: h as u32,
        b: w as u32,
        c: nh as u32,
        d: nw as u32,
        count: count as u32,
        ..Default::default()
    }
}

/// The real part of the centred `h × w` window of a complex `[..., nh, nw, 2]`: `[..., h, w]`.
pub fn crop_real(z: &Tensor, h: usize, w: usize) -> Result<Tensor> {
    let s = z.shape();
    if s.len() < 3 || s[s.len() - 1] != 2 || s[s.len() - 3] < h || s[s.len() - 2] < w {
        return Err(Error::Shape(format!(
            "crop_real: {s:?} is not a complex tensor holding {h}x{w}"
        )));
    }
    let (nh, nw) = (s[s.len() - 3], s[s.len() - 2]);
    let rows = z.numel() / (2 * nh * nw);
    let mut shape = s[..s.len() - 3].to_vec();
    shape.extend([h, w]);
    let out = Tensor::empty(z.gpu(), &shape)?;
    let count = rows * h * w;
    let p = window_params(h, w, nh, nw, count);
    launch("crop_real", p, z, z, &out, count)?;
    Ok(record(out, &[z], Window { embed: false }))
}

/// `|z|` of a complex tensor `[..., 2]`: `[...]`. Its gradient is `g z / |z|` (0 where `z = 0`).
pub fn cabs(z: &Tensor) -> Result<Tensor> {
    let s = z.shape();
    if s.len() < 2 || s[s.len() - 1] != 2 {
        return Err(Error::Shape(format!(
            "cabs takes a complex tensor [..., 2], got {s:?}"
        )));
    }
    let out = Tensor::empty(z.gpu(), &s[..s.len() - 1])?;
    let n = out.numel();
    let p = FftParams {
        a: u32_of(n, "cabs")?,
        ..Default::default()
    };
    launch("cabs", p, z, z, &out, n)?;
    Ok(record(out, &[z], Cabs))
}

/// The vector-Jacobian product of [`cabs`] at `z` for the output gradient `g`.
pub fn cabs_backward(z: &Tensor, g: &Tensor) -> Result<Tensor> {
    g.expect_shape(&z.shape()[..z.shape().len() - 1], "cabs backward: g")?;
    let out = Tensor::empty(z.gpu(), z.shape())?;
    let n = g.numel();
    let p = FftParams {
        a: u32_of(n, "cabs")?,
        ..Default::default()
    };
    launch("cabs_grad", p, g, z, &out, n)?;
    Ok(out)
}

/// [`fft2`] (one input, the transform): unitary, so the adjoint is the inverse.
struct Fft2 {
    inverse: bool,
}

impl BackwardOp for Fft2 {
    fn name(&self) -> &'static str {
        "fft2"
    }

    fn backward(&self, _x: &[Tensor], _out: &Tensor, g: &Tensor, _need: &[bool]) -> Result<InputGrads> {
        Ok(vec![Some(fft2(g, !self.inverse)?)])
    }
}

/// [`embed_complex`] (`embed`) or [`crop_real`]: each is the adjoint of the other, to the input's
/// size.
struct Window {
    embed: bool,
}

impl BackwardOp for Window {
    fn name(&self) -> &'static str {
        if self.embed { "embed_complex" } else { "crop_real" }
    }

    fn backward(&self, x: &[Tensor], _out: &Tensor, g: &Tensor, _need: &[bool]) -> Result<InputGrads> {
        let s = x[0].shape();
        let n = s.len();
        Ok(vec![Some(if self.embed {
            crop_real(g, s[n - 2], s[n - 1])?
        } else {
            embed_complex(g, s[n - 3], s[n - 2])?
        })])
    }
}

/// [`cabs`]: [`cabs_backward`] at the input.
struct Cabs;

impl BackwardOp for Cabs {
    fn name(&self) -> &'static str {
        "cabs"
    }

    fn backward(&self, x: &[Tensor], _out: &Tensor, g: &Tensor, _need: &[bool]) -> Result<InputGrads> {
        Ok(vec![Some(cabs_backward(&x[0], g)?)])
    }
}
