//! Launchers for `shaders/elementwise.wgsl`.

use super::grad::{record, want};
use super::{same_device, u32_of};
use crate::error::{Error, Result};
use crate::gpu::params::ElementwiseParams;
use crate::gpu::{KernelId, grid1d};
use crate::tensor::binds;
use crate::tensor::{BackwardOp, InputGrads, Tensor};

const FILE: &str = "elementwise.wgsl";

#[allow(clippy::too_many_arguments)]
fn launch(
    entry: &'static str,
    x: &Tensor,
    y: &Tensor,
    out: &Tensor,
    a: f32,
    b: f32,
    inner: u32,
    c1: u32,
    c2: u32,
    flag: u32,
) -> Result<()> {
    let n = u32_of(out.numel(), "elementwise output")?;
    let params = ElementwiseParams {
        n,
        a,
        b,
        inner,
        c1,
        c2,
        flag,
        e: 0.0,
    };
    launch_p(entry, x, y, out, params)
}

fn launch_p(
    entry: &'static str,
    x: &Tensor,
    y: &Tensor,
    out: &Tensor,
    params: ElementwiseParams,
) -> Result<()> {
    let n = out.numel();
    // the vec4 forms where every bound size is a multiple of four (see `vec4_elementwise`)
    let whole = |v: usize| v.is_multiple_of(4);
    let v4 = match entry {
        "axpby" | "affine" | "silu" => whole(n) && whole(x.numel()) && whole(y.numel()),
        "add_bcast" | "concat" => whole(params.inner as usize) && whole(y.numel()),
        _ => false,
    } && vec4_elementwise(out.gpu());
    out.gpu().dispatch(
        &KernelId::new(if v4 { FILE_V4 } else { FILE }, entry),
        &params,
        &binds!(x, y => out),
        grid1d(if v4 { n / 4 } else { n }, 256),
    )
}

/// `shaders/elementwise_v4.wgsl`: vec4 forms of the busiest elementwise kernels.
pub(crate) const FILE_V4: &str = "elementwise_v4.wgsl";

/// Whether elementwise kernels take their vec4 forms: on CPU adapters, where llvmpipe pays per load
/// rather than per byte (a batch-8 forward + VJP of the bundled prior spends about a tenth of its
/// time in these kernels).
pub(crate) fn vec4_elementwise(gpu: &crate::Gpu) -> bool {
    gpu.cpu_kernels()
}

fn check_same(x: &Tensor, y: &Tensor, what: &str) -> Result<()> {
    same_device(x, y)?;
    if x.shape() != y.shape() {
        return Err(Error::Shape(format!(
            "{what}: {:?} vs {:?}",
            x.shape(),
            y.shape()
        )));
    }
    Ok(())
}

/// `a * x + b * y` for tensors of one shape.
pub fn axpby(a: f32, x: &Tensor, b: f32, y: &Tensor) -> Result<Tensor> {
    check_same(x, y, "axpby operands")?;
    let out = Tensor::empty(x.gpu(), x.shape())?;
    launch("axpby", x, y, &out, a, b, 0, 0, 0, 0)?;
    let out = record(out, &[x, y], Axpby { a, b });
    Ok(out)
}

/// `x + y`.
pub fn add(x: &Tensor, y: &Tensor) -> Result<Tensor> {
    axpby(1.0, x, 1.0, y)
}

/// `a * x + b` elementwise.
pub fn affine(x: &Tensor, a: f32, b: f32) -> Result<Tensor> {
    let out = Tensor::empty(x.gpu(), x.shape())?;
    launch("affine", x, x, &out, a, b, 0, 0, 0, 0)?;
    let out = record(out, &[x], Affine { a });
    Ok(out)
}

/// `s * x`.
pub fn scale(x: &Tensor, s: f32) -> Result<Tensor> {
    affine(x, s, 0.0)
}

/// Fills `t` with `value` (writes in place; used to initialise fresh tensors).
pub fn fill(t: &Tensor, value: f32) -> Result<()> {
    t.fill(value)
}

/// SiLU: `x * sigmoid(x)`.
pub fn silu(x: &Tensor) -> Result<Tensor> {
    let out = Tensor::empty(x.gpu(), x.shape())?;
    launch("silu", x, x, &out, 0.0, 0.0, 0, 0, 0, 0)?;
    let out = record(out, &[x], Silu);
    Ok(out)
}

/// `a * x + y` with `y` ([N, C]) broadcast over the trailing dimensions of `x` ([N, C, ...]): the time
/// embedding added to a feature map.
pub fn add_bcast(x: &Tensor, a: f32, y: &Tensor) -> Result<Tensor> {
    same_device(x, y)?;
    let s = x.shape();
    if s.len() < 2 || y.numel() != s[0] * s[1] {
        return Err(Error::Shape(format!(
            "broadcast add of {:?} onto {s:?}: needs one value per (batch, channel)",
            y.shape()
        )));
    }
    let inner = x.numel() / (s[0] * s[1]);
    let out = Tensor::empty(x.gpu(), s)?;
    launch(
        "add_bcast",
        x,
        y,
        &out,
        a,
        0.0,
        u32_of(inner, "broadcast")?,
        0,
        0,
        0,
    )?;
    let out = record(out, &[x, y], AddBcast { a });
    Ok(out)
}

/// Concatenates `[N, C1, H, W]` and `[N, C2, H, W]` along channels.
pub fn concat_channels(x: &Tensor, y: &Tensor) -> Result<Tensor> {
    same_device(x, y)?;
    let (a, b) = (x.shape(), y.shape());
    if a.len() != 4 || b.len() != 4 || a[0] != b[0] || a[2..] != b[2..] {
        return Err(Error::Shape(format!("channel concat of {a:?} and {b:?}")));
    }
    let out = Tensor::empty(x.gpu(), &[a[0], a[1] + b[1], a[2], a[3]])?;
    let inner = u32_of(a[2] * a[3], "concat")?;
    launch("concat", x, y, &out, 0.0, 0.0, inner, a[1] as u32, b[1] as u32, 0)?;
    let out = record(out, &[x, y], Concat);
    Ok(out)
}

/// Nearest-neighbour 2x upsampling of `[N, C, H, W]` to `[N, C, 2H, 2W]`.
pub fn upsample_nearest2x(x: &Tensor) -> Result<Tensor> {
    let s = x.shape();
    if s.len() != 4 {
        return Err(Error::Shape(format!("upsample expects NCHW, got {s:?}")));
    }
    let out = upsample2x_scaled(x, 1.0)?;
    let out = record(out, &[x], Upsample2x);
    Ok(out)
}

/// `a` times the nearest 2x upsample of `x` `[N, C, H, W]` (not recorded).
pub(crate) fn upsample2x_scaled(x: &Tensor, a: f32) -> Result<Tensor> {
    let s = x.shape();
    let out = Tensor::empty(x.gpu(), &[s[0], s[1], 2 * s[2], 2 * s[3]])?;
    launch("upsample2x", x, x, &out, a, 0.0, s[3] as u32, s[2] as u32, 0, 0)?;
    Ok(out)
}

/// The frequency table of the sinusoidal embedding for `timestep_embedding`: for each of the `dim/2`
/// frequencies `exp(-ln(10000) * k / (dim/2 - shift))`, computed in f64 and split into three f32 parts
/// of at most 12 significant bits each (so `t * part` is exact in f32 for integer `t < 4096`); three
/// zeros when `dim < 2` (no frequency).
pub fn timestep_freq_table(dim: usize, shift: f64) -> Vec<f32> {
    let half = dim / 2;
    let mut out = Vec::with_capacity(3 * half);
    for k in 0..half {
        let f = (-(10000f64).ln() * k as f64 / (half as f64 - shift)).exp();
        let mut rest = f;
        for _ in 0..3 {
            let part = round_to_bits(rest, 12);
            out.push(part as f32);
            rest -= part;
        }
    }
    if out.is_empty() {
        // dim < 2: no frequency, the embedding is all zero padding (as diffusers'); one unused
        // entry keeps the uploaded table non-empty
        out.extend([0.0; 3]);
    }
    out
}

/// Rounds `v` to `bits` significant bits.
fn round_to_bits(v: f64, bits: i32) -> f64 {
    if v == 0.0 {
        return 0.0;
    }
    let e = v.abs().log2().floor() as i32;
    let q = 2f64.powi(e - bits + 1);
    (v / q).round() * q
}

/// Sinusoidal timestep embedding `[B, dim]` of the timesteps `t` (`[B]`), as diffusers'
/// `get_timestep_embedding`: `[sin | cos]`, or `[cos | sin]` with `flip_sin_to_cos`, zero-padded when
/// `dim` is odd. `table` is [`timestep_freq_table`] uploaded once.
pub fn timestep_embedding(t: &Tensor, table: &Tensor, dim: usize, flip_sin_to_cos: bool) -> Result<Tensor> {
    if table.numel() != 3 * (dim / 2).max(1) {
        return Err(Error::Shape(format!(
            "timestep frequency table of {} values for dimension {dim}",
            table.numel()
        )));
    }
    let b = t.numel();
    let out = Tensor::empty(t.gpu(), &[b, dim])?;
    let half = (dim / 2) as u32;
    launch(
        "timestep_embedding",
        t,
        table,
        &out,
        0.0,
        0.0,
        0,
        half,
        dim as u32,
        flip_sin_to_cos as u32,
    )?;
    Ok(out)
}

/// `x * m` with `m` (one sample's worth of values, e.g. an inpainting mask `[C, H, W]`) applied to
/// every sample of `x` `[B, C, H, W]`. Differentiable in `x` (`m` is a constant).
pub fn mul_bcast(x: &Tensor, m: &Tensor) -> Result<Tensor> {
    same_device(x, m)?;
    let inner = m.numel();
    if !x.numel().is_multiple_of(inner) {
        return Err(Error::Shape(format!(
            "broadcast multiply of {:?} by {:?}",
            x.shape(),
            m.shape()
        )));
    }
    let out = Tensor::empty(x.gpu(), x.shape())?;
    launch("mul_bcast", x, m, &out, 0.0, 0.0, u32_of(inner, "mask")?, 0, 0, 0)?;
    let out = record(out, &[x, m], MulBcast);
    Ok(out)
}

/// `clamp(x, lo, hi)`; its gradient passes where `lo <= x <= hi`.
pub fn clamp(x: &Tensor, lo: f32, hi: f32) -> Result<Tensor> {
    let out = Tensor::empty(x.gpu(), x.shape())?;
    launch("clamp_values", x, x, &out, lo, hi, 0, 0, 0, 0)?;
    let out = record(out, &[x], Clamp { lo, hi });
    Ok(out)
}

/// `a * (x + e)^p` elementwise (not differentiated: used for step sizes and cotangents computed on
/// the device, such as `1 / (2 ||r||)`).
pub fn pow(x: &Tensor, a: f32, p: f32, e: f32) -> Result<Tensor> {
    let out = Tensor::empty(x.gpu(), x.shape())?;
    let n = u32_of(x.numel(), "pow")?;
    launch_p(
        "pow_values",
        x,
        x,
        &out,
        ElementwiseParams {
            n,
            a,
            b: p,
            e,
            ..Default::default()
        },
    )?;
    Ok(out)
}

/// `x * y` elementwise (same shapes; not differentiated: used inside backward rules).
pub fn mul(x: &Tensor, y: &Tensor) -> Result<Tensor> {
    check_same(x, y, "mul")?;
    let out = Tensor::empty(x.gpu(), x.shape())?;
    launch("mul", x, y, &out, 0.0, 0.0, 0, 0, 0, 0)?;
    Ok(out)
}

/// guided-diffusion's scale-shift conditioning (FiLM): `x * (1 + scale) + shift` for `x`
/// `[N, C, ...]` and `ss = [scale | shift]` `[N, 2C]`, one pair per (sample, channel). Differentiable
/// in both.
pub fn film(x: &Tensor, ss: &Tensor) -> Result<Tensor> {
    let out = film_launch(x, ss, true)?;
    Ok(record(out, &[x, ss], Film))
}

/// [`film`] without the shift (`x * (1 + scale)`): the gradient with respect to `x`.
pub(crate) fn film_launch(x: &Tensor, ss: &Tensor, shift: bool) -> Result<Tensor> {
    same_device(x, ss)?;
    let s = x.shape();
    if s.len() < 2 || ss.numel() != 2 * s[0] * s[1] {
        return Err(Error::Shape(format!(
            "scale-shift of {s:?} by {:?}: needs [batch, 2 x channels]",
            ss.shape()
        )));
    }
    let inner = x.numel() / (s[0] * s[1]);
    let out = Tensor::empty(x.gpu(), s)?;
    launch(
        "film",
        x,
        ss,
        &out,
        0.0,
        0.0,
        u32_of(inner, "scale-shift")?,
        u32_of(s[1], "scale-shift")?,
        0,
        shift as u32,
    )?;
    Ok(out)
}

/// 2x2 average pooling with stride 2 of `[N, C, H, W]` (H and W even), as guided-diffusion's
/// `Downsample(use_conv=False)`.
pub fn avg_pool2x(x: &Tensor) -> Result<Tensor> {
    let s = x.shape();
    if s.len() != 4 || !s[2].is_multiple_of(2) || !s[3].is_multiple_of(2) {
        return Err(Error::Shape(format!(
            "2x2 average pooling needs NCHW with even height and width, got {s:?}"
        )));
    }
    let out = super::backward::sum_pool2x(x, 0.25)?;
    Ok(record(out, &[x], AvgPool2x))
}

/// Channels `off..off + cn` of `x` `[N, C, H, W]` (e.g. ε, the first half of a learned-variance
/// model's output). Differentiable.
pub fn narrow_channels(x: &Tensor, off: usize, cn: usize) -> Result<Tensor> {
    let out = super::backward::split_channels(x, off, cn)?;
    let total = x.shape()[1];
    Ok(record(out, &[x], NarrowChannels { off, total }))
}

/// `g` `[N, cn, H, W]` placed at channels `off..off + cn` of zeros `[N, total, H, W]`: the gradient of
/// [`narrow_channels`].
pub(crate) fn pad_channels(g: &Tensor, off: usize, total: usize) -> Result<Tensor> {
    let s = g.shape();
    let zeros = |c: usize| Tensor::full(g.gpu(), &[s[0], c, s[2], s[3]], 0.0);
    let mut out = g.clone();
    if off > 0 {
        out = concat_channels(&zeros(off)?, &out)?;
    }
    let after = total - off - s[1];
    if after > 0 {
        out = concat_channels(&out, &zeros(after)?)?;
    }
    Ok(out)
}

/// `a * g`, or `g` itself (no kernel, no copy) for `a = 1`: gradients are never written in place,
/// so sharing the buffer is safe, and residual sums and unit scales are everywhere in a UNet.
fn scaled(g: &Tensor, a: f32) -> Result<Tensor> {
    if a == 1.0 { Ok(g.clone()) } else { scale(g, a) }
}

/// [`axpby`] (inputs x, y).
struct Axpby {
    a: f32,
    b: f32,
}

impl BackwardOp for Axpby {
    fn name(&self) -> &'static str {
        "axpby"
    }

    fn backward(&self, _x: &[Tensor], _out: &Tensor, g: &Tensor, need: &[bool]) -> Result<InputGrads> {
        let dx = if want(need, 0) {
            Some(scaled(g, self.a)?)
        } else {
            None
        };
        let dy = if want(need, 1) {
            Some(scaled(g, self.b)?)
        } else {
            None
        };
        Ok(vec![dx, dy])
    }
}

/// [`affine`] (input x).
struct Affine {
    a: f32,
}

impl BackwardOp for Affine {
    fn name(&self) -> &'static str {
        "affine"
    }

    fn backward(&self, _x: &[Tensor], _out: &Tensor, g: &Tensor, _need: &[bool]) -> Result<InputGrads> {
        Ok(vec![Some(scaled(g, self.a)?)])
    }
}

/// [`silu`] (input x).
struct Silu;

impl BackwardOp for Silu {
    fn name(&self) -> &'static str {
        "silu"
    }

    fn backward(&self, x: &[Tensor], _out: &Tensor, g: &Tensor, _need: &[bool]) -> Result<InputGrads> {
        Ok(vec![Some(super::silu_backward(&x[0], g)?)])
    }
}

/// [`add_bcast`] (inputs x, y broadcast as `[N, C]`).
struct AddBcast {
    a: f32,
}

impl BackwardOp for AddBcast {
    fn name(&self) -> &'static str {
        "add_bcast"
    }

    fn backward(&self, x: &[Tensor], _out: &Tensor, g: &Tensor, need: &[bool]) -> Result<InputGrads> {
        let dx = if want(need, 0) {
            Some(scaled(g, self.a)?)
        } else {
            None
        };
        let dy = if want(need, 1) {
            Some(super::sum_rows(g, x[1].numel())?)
        } else {
            None
        };
        Ok(vec![dx, dy])
    }
}

/// [`concat_channels`] (inputs x, y): each input's gradient is its channels of `g`.
struct Concat;

impl BackwardOp for Concat {
    fn name(&self) -> &'static str {
        "concat"
    }

    fn backward(&self, x: &[Tensor], _out: &Tensor, g: &Tensor, need: &[bool]) -> Result<InputGrads> {
        let (c1, c2) = (x[0].shape()[1], x[1].shape()[1]);
        let dx = if want(need, 0) {
            Some(super::split_channels(g, 0, c1)?)
        } else {
            None
        };
        let dy = if want(need, 1) {
            Some(super::split_channels(g, c1, c2)?)
        } else {
            None
        };
        Ok(vec![dx, dy])
    }
}

/// [`upsample_nearest2x`] (input x): sums of 2x2 blocks.
struct Upsample2x;

impl BackwardOp for Upsample2x {
    fn name(&self) -> &'static str {
        "upsample2x"
    }

    fn backward(&self, _x: &[Tensor], _out: &Tensor, g: &Tensor, _need: &[bool]) -> Result<InputGrads> {
        Ok(vec![Some(super::upsample2x_backward(g)?)])
    }
}

/// [`mul_bcast`] (inputs x, m: a constant broadcast over the batch).
struct MulBcast;

impl BackwardOp for MulBcast {
    fn name(&self) -> &'static str {
        "mul_bcast"
    }

    fn backward(&self, x: &[Tensor], _out: &Tensor, g: &Tensor, need: &[bool]) -> Result<InputGrads> {
        if want(need, 1) {
            return Err(Error::Input(
                "gradients with respect to a broadcast mask are not supported".into(),
            ));
        }
        Ok(vec![Some(mul_bcast(g, &x[1])?), None])
    }
}

/// [`clamp`] (input x): `g` inside `[lo, hi]`, 0 outside.
struct Clamp {
    lo: f32,
    hi: f32,
}

impl BackwardOp for Clamp {
    fn name(&self) -> &'static str {
        "clamp"
    }

    fn backward(&self, x: &[Tensor], _out: &Tensor, g: &Tensor, _need: &[bool]) -> Result<InputGrads> {
        Ok(vec![Some(super::clamp_backward(&x[0], g, self.lo, self.hi)?)])
    }
}

/// [`film`] (inputs x, [scale | shift]).
struct Film;

impl BackwardOp for Film {
    fn name(&self) -> &'static str {
        "film"
    }

    fn backward(&self, x: &[Tensor], _out: &Tensor, g: &Tensor, need: &[bool]) -> Result<InputGrads> {
        let dss = if want(need, 1) {
            // d scale[n, c] = Σ_hw g x, d shift[n, c] = Σ_hw g
            let s = x[0].shape();
            let nc = s[0] * s[1];
            let col = [s[0], s[1], 1, 1];
            let ds = super::sum_rows(&mul(g, &x[0])?, nc)?.reshape(&col)?;
            let dh = super::sum_rows(g, nc)?.reshape(&col)?;
            Some(concat_channels(&ds, &dh)?)
        } else {
            None
        };
        let dx = if want(need, 0) {
            Some(film_launch(g, &x[1], false)?)
        } else {
            None
        };
        Ok(vec![dx, dss])
    }
}

/// [`avg_pool2x`] (input x): a quarter of `g` on each pixel of its 2x2 block.
struct AvgPool2x;

impl BackwardOp for AvgPool2x {
    fn name(&self) -> &'static str {
        "avg_pool2x"
    }

    fn backward(&self, _x: &[Tensor], _out: &Tensor, g: &Tensor, _need: &[bool]) -> Result<InputGrads> {
        Ok(vec![Some(upsample2x_scaled(g, 0.25)?)])
    }
}

/// [`narrow_channels`] (input x of `total` channels): `g` in its channels, zeros elsewhere.
struct NarrowChannels {
    off: usize,
    total: usize,
}

impl BackwardOp for NarrowChannels {
    fn name(&self) -> &'static str {
        "narrow_channels"
    }

    fn backward(&self, _x: &[Tensor], _out: &Tensor, g: &Tensor, _need: &[bool]) -> Result<InputGrads> {
        Ok(vec![Some(pad_channels(g, self.off, self.total)?)])
    }
}
