//! Launchers of the backward kernels (`shaders/*_grad.wgsl`): the vector-Jacobian products of every
//! forward op. [`crate::autograd`] strings them together; [`super::reference_grad`] holds their
//! plain-Rust references.

use super::norm::vec4_group_norm;
use super::{Conv2dSpec, MatmulSpec, matmul, u32_of};
use crate::error::{Error, Result};
use crate::gpu::params::{Conv2dGradParams, ElementwiseGradParams, GroupNormCpuParams, NormGradParams};
use crate::gpu::{Access, KernelId, grid1d};
use crate::tensor::Tensor;
use crate::tensor::binds;

fn conv_params(xs: &[usize], ws: &[usize], ho: usize, wo: usize, spec: Conv2dSpec) -> Conv2dGradParams {
    // the gradient kernels' struct is the forward's, its bias word unused
    bytemuck::cast(super::conv::conv_geometry(xs, ws, ho, wo, spec.stride, spec.pad))
}

/// Gradient of [`super::conv2d`] with respect to its input of shape `x_shape`: a transposed
/// convolution of `dy` with `w`.
pub fn conv2d_backward_input(dy: &Tensor, w: &Tensor, x_shape: &[usize], spec: Conv2dSpec) -> Result<Tensor> {
    conv2d_input_grad(dy, w, x_shape, spec, None)
}

/// [`conv2d_backward_input`] with the packed weights of a layer, whose flipped transpose is packed
/// at the first call and kept with them (CPU adapters).
pub(crate) fn conv2d_input_grad(
    dy: &Tensor,
    w: &Tensor,
    x_shape: &[usize],
    spec: Conv2dSpec,
    packed: Option<&super::PackedWeights>,
) -> Result<Tensor> {
    let ws = w.shape();
    let (ho, wo) = spec.out_size(x_shape[2], x_shape[3], ws[2], ws[3])?;
    dy.expect_shape(&[x_shape[0], ws[0], ho, wo], "conv2d backward: dy")?;
    let (kh, kw) = (ws[2], ws[3]);
    if spec.stride == 2 && super::conv::direct_for(dy.gpu(), ws) {
        // CPU adapters, stride 2: zeros between the rows and columns of dy make it a stride-1
        // convolution, which the direct kernel runs faster than the transposed GEMM (4x the
        // multiply-adds, a quarter of them with zeros)
        let pad_t = (kh - 1) as i64 - spec.pad[0] as i64;
        let pad_l = (kw - 1) as i64 - spec.pad[2] as i64;
        let pad_b = x_shape[2] as i64 - 2 * ho as i64 - pad_t + kh as i64 - 1;
        let pad_r = x_shape[3] as i64 - 2 * wo as i64 - pad_l + kw as i64 - 1;
        if [pad_t, pad_l, pad_b, pad_r]
            .iter()
            .all(|&p| (0..kh as i64).contains(&p))
        {
            let s = dy.shape();
            let dd = Tensor::empty(dy.gpu(), &[s[0], s[1], 2 * ho, 2 * wo])?;
            elementwise_grad("dilate2x", dy, dy, &dd, dd.numel(), 0.0, 0, ho, wo, 0, 0, 0)?;
            let pad = [pad_t as usize, pad_b as usize, pad_l as usize, pad_r as usize];
            if let Some(dx) = super::conv::conv2d_flipped(&dd, w, pad, packed)? {
                return Ok(dx);
            }
            let wt = flip_transpose(dy, w, x_shape, ho, wo, spec)?;
            return super::conv2d(&dd, &wt, None, Conv2dSpec { stride: 1, pad });
        }
    }
    if spec.stride == 1 && spec.pad[0] < kh && spec.pad[1] < kh && spec.pad[2] < kw && spec.pad[3] < kw {
        // stride 1: a forward convolution of dy with the flipped, transposed weight and the
        // complementary padding (k - 1 - p), on the fast forward kernel
        let pad = [
            kh - 1 - spec.pad[0],
            kh - 1 - spec.pad[1],
            kw - 1 - spec.pad[2],
            kw - 1 - spec.pad[3],
        ];
        if let Some(dx) = super::conv::conv2d_flipped(dy, w, pad, packed)? {
            return Ok(dx);
        }
        let wt = flip_transpose(dy, w, x_shape, ho, wo, spec)?;
        return super::conv2d(dy, &wt, None, Conv2dSpec { stride: 1, pad });
    }
    let dx = Tensor::empty(dy.gpu(), x_shape)?;
    let ncols = u32_of(x_shape[0] * x_shape[2] * x_shape[3], "conv2d backward columns")?;
    let flops = 2 * (x_shape[0] * ho * wo) as u64 * ws.iter().product::<usize>() as u64;
    dy.gpu().dispatch_flops(
        &KernelId::new("conv2d_grad.wgsl", "conv2d_dx"),
        &conv_params(x_shape, ws, ho, wo, spec),
        &binds!(dy, w => dx),
        [ncols.div_ceil(64), (x_shape[1] as u32).div_ceil(64), 1],
        flops,
    )?;
    Ok(dx)
}

/// `w` `[Cout, Cin, KH, KW]` flipped in both spatial axes and transposed to `[Cin, Cout, KH, KW]`.
fn flip_transpose(
    dy: &Tensor,
    w: &Tensor,
    x_shape: &[usize],
    ho: usize,
    wo: usize,
    spec: Conv2dSpec,
) -> Result<Tensor> {
    let ws = w.shape();
    let wt = Tensor::empty(dy.gpu(), &[ws[1], ws[0], ws[2], ws[3]])?;
    dy.gpu().dispatch(
        &KernelId::new("conv2d_grad.wgsl", "flip_transpose"),
        &conv_params(x_shape, ws, ho, wo, spec),
        &binds!(dy, w => wt),
        grid1d(w.numel(), 256),
    )?;
    Ok(wt)
}

/// Gradient of [`super::conv2d`] with respect to its weight of shape `w_shape`.
pub fn conv2d_backward_weight(
    dy: &Tensor,
    x: &Tensor,
    w_shape: &[usize],
    spec: Conv2dSpec,
) -> Result<Tensor> {
    let xs = x.shape();
    let (ho, wo) = spec.out_size(xs[2], xs[3], w_shape[2], w_shape[3])?;
    dy.expect_shape(&[xs[0], w_shape[0], ho, wo], "conv2d backward: dy")?;
    let dw = Tensor::empty(dy.gpu(), w_shape)?;
    let ncols = u32_of(w_shape[1] * w_shape[2] * w_shape[3], "conv2d weight gradient")?;
    let flops = 2 * (xs[0] * ho * wo) as u64 * w_shape.iter().product::<usize>() as u64;
    dy.gpu().dispatch_flops(
        &KernelId::new("conv2d_grad.wgsl", "conv2d_dw"),
        &conv_params(xs, w_shape, ho, wo, spec),
        &binds!(dy, x => dw),
        [ncols.div_ceil(64), (w_shape[0] as u32).div_ceil(64), 1],
        flops,
    )?;
    Ok(dw)
}

#[allow(clippy::too_many_arguments)]
fn elementwise_grad(
    entry: &'static str,
    x: &Tensor,
    dy: &Tensor,
    out: &Tensor,
    n: usize,
    a: f32,
    inner: usize,
    c1: usize,
    c2: usize,
    off: usize,
    flag: u32,
    rows: usize,
) -> Result<()> {
    let u = |v: usize| u32_of(v, entry);
    let params = ElementwiseGradParams {
        n: u(n)?,
        a,
        inner: u(inner)?,
        c1: u(c1)?,
        c2: u(c2)?,
        off: u(off)?,
        flag,
        rows: u(rows)?,
    };
    // split_channels in vec4s where the pixels per channel come in fours (CPU adapters)
    let v4 = entry == "split_channels"
        && inner.is_multiple_of(4)
        && super::elementwise::vec4_elementwise(out.gpu());
    let (file, n) = if v4 {
        (super::elementwise::FILE_V4, n / 4)
    } else {
        ("elementwise_grad.wgsl", n)
    };
    out.gpu().dispatch(
        &KernelId::new(file, entry),
        &params,
        &binds!(x, dy => out),
        grid1d(n, 256),
    )
}

/// Bias gradient of a convolution: `out[c] = sum over samples and pixels of dy[n, c, ...]`.
pub fn channel_sum(dy: &Tensor) -> Result<Tensor> {
    let s = dy.shape();
    let inner = dy.numel() / (s[0] * s[1]);
    let out = Tensor::empty(dy.gpu(), &[s[1]])?;
    elementwise_grad("channel_sum", dy, dy, &out, s[1], 0.0, inner, s[1], 0, 0, 0, s[0])?;
    Ok(out)
}

/// Column sums of `dy` viewed as `[rows, n]` (bias gradient of a matmul).
pub fn col_sum(dy: &Tensor, n: usize) -> Result<Tensor> {
    if n == 0 || !dy.numel().is_multiple_of(n) {
        return Err(Error::Shape(format!(
            "column sums of {:?} over {n} columns",
            dy.shape()
        )));
    }
    let out = Tensor::empty(dy.gpu(), &[n])?;
    elementwise_grad("col_sum", dy, dy, &out, n, 0.0, 0, 0, 0, 0, 0, dy.numel() / n)?;
    Ok(out)
}

/// How a `[batch, r, c]` operand of a matmul sits in its buffer.
#[derive(Clone, Copy, PartialEq)]
enum Layout {
    /// `[batch, r, c]` row-major.
    Rows,
    /// `[batch, c, r]` row-major (the operand is read transposed).
    Cols,
}

fn layout(strides: [usize; 3], batch: usize, r: usize, c: usize, what: &str) -> Result<Layout> {
    let batch_ok = batch == 1 || strides[0] == r * c;
    if batch_ok && strides[2] == 1 && (strides[1] == c || r == 1) {
        Ok(Layout::Rows)
    } else if batch_ok && strides[1] == 1 && (strides[2] == r || c == 1) {
        Ok(Layout::Cols)
    } else {
        Err(Error::Shape(format!(
            "matmul backward: {what} strides {strides:?} are neither [b, r, c] nor [b, c, r] row-major"
        )))
    }
}

/// Gradients of [`super::matmul`] with respect to A and B (each when asked), in the operand's own
/// buffer layout, and of the bias.
pub fn matmul_backward(
    a: &Tensor,
    b: &Tensor,
    dc: &Tensor,
    spec: MatmulSpec,
    need: [bool; 3],
) -> Result<[Option<Tensor>; 3]> {
    let s = spec;
    let (m, n, k) = (s.m, s.n, s.k);
    let dc_rows = [m * n, n, 1]; // dC[b, m, n]
    let dc_cols = [m * n, 1, n]; // dC read as [b, n, m]
    let mut out = [None, None, None];
    if need[0] {
        let g = match layout(s.a_strides, s.batch, m, k, "A")? {
            // dA[b, m, k] = alpha * dC[b, m, :] . B[b, k, :]
            Layout::Rows => matmul(
                dc,
                b,
                None,
                MatmulSpec {
                    batch: s.batch,
                    m,
                    n: k,
                    k: n,
                    a_strides: dc_rows,
                    b_strides: [s.b_strides[0], s.b_strides[2], s.b_strides[1]],
                    alpha: s.alpha,
                },
            )?,
            // dA^T[b, k, m] = alpha * B[b, k, :] . dC[b, m, :]
            Layout::Cols => matmul(
                b,
                dc,
                None,
                MatmulSpec {
                    batch: s.batch,
                    m: k,
                    n: m,
                    k: n,
                    a_strides: s.b_strides,
                    b_strides: dc_cols,
                    alpha: s.alpha,
                },
            )?,
        };
        out[0] = Some(g.reshape(a.shape())?);
    }
    if need[1] {
        let g = match layout(s.b_strides, s.batch, k, n, "B")? {
            // dB[b, k, n] = alpha * A[b, :, k] . dC[b, :, n]
            Layout::Rows => matmul(
                a,
                dc,
                None,
                MatmulSpec {
                    batch: s.batch,
                    m: k,
                    n,
                    k: m,
                    a_strides: [s.a_strides[0], s.a_strides[2], s.a_strides[1]],
                    b_strides: dc_rows,
                    alpha: s.alpha,
                },
            )?,
            // dB^T[b, n, k] = alpha * dC[b, :, n] . A[b, :, k]
            Layout::Cols => matmul(
                dc,
                a,
                None,
                MatmulSpec {
                    batch: s.batch,
                    m: n,
                    n: k,
                    k: m,
                    a_strides: dc_cols,
                    b_strides: s.a_strides,
                    alpha: s.alpha,
                },
            )?,
        };
        out[1] = Some(g.reshape(b.shape())?);
    }
    if need[2] {
        out[2] = Some(col_sum(dc, n)?);
    }
    Ok(out)
}

/// Gradients of [`super::group_norm`]: the input, and (when `params`) gamma and beta.
#[allow(clippy::too_many_arguments)]
pub fn group_norm_backward(
    x: &Tensor,
    gamma: &Tensor,
    beta: &Tensor,
    dy: &Tensor,
    groups: usize,
    eps: f32,
    fused_silu: bool,
    params: bool,
) -> Result<(Tensor, Option<(Tensor, Tensor)>)> {
    group_norm_grad([x, gamma, beta], dy, (groups, eps, fused_silu), params, None)
}

/// [`group_norm_backward`] of `[x, gamma, beta]` with `(groups, eps, fused_silu)`, given the
/// forward's (mean, 1/std) per group where its kernel kept them (the vec4 kernels of CPU adapters).
pub(crate) fn group_norm_grad(
    [x, gamma, beta]: [&Tensor; 3],
    dy: &Tensor,
    (groups, eps, fused_silu): (usize, f32, bool),
    params: bool,
    given: Option<&Tensor>,
) -> Result<(Tensor, Option<(Tensor, Tensor)>)> {
    let s = x.shape();
    dy.expect_shape(s, "group norm backward: dy")?;
    let (nb, c) = (s[0], s[1]);
    let hw = x.numel() / (nb * c);
    let g = x.gpu();
    let dx = Tensor::empty(g, s)?;
    let v4 = vec4_group_norm(g, hw);
    let given = given.filter(|t| v4 && t.numel() == nb * groups * 2);
    let stats = match given {
        Some(t) => t.clone(),
        None => Tensor::empty(g, &[nb * groups * 2])?,
    };
    let u = |v: usize| u32_of(v, "group norm backward");
    let pr = NormGradParams {
        c: u(c)?,
        hw: u(hw)?,
        groups: u(groups)?,
        silu: fused_silu as u32,
        eps,
        batch: u(nb)?,
        ..Default::default()
    };
    let ins = [
        x.bind(Access::Read),
        dy.bind(Access::Read),
        gamma.bind(Access::Read),
        beta.bind(Access::Read),
    ];
    let bind = [
        ins[0],
        ins[1],
        ins[2],
        ins[3],
        dx.bind(Access::ReadWrite),
        stats.bind(Access::ReadWrite),
    ];
    let grid = [u(nb * groups)?, 1, 1];
    if v4 {
        let p = GroupNormCpuParams {
            c: pr.c,
            hw: pr.hw,
            groups: pr.groups,
            silu: pr.silu,
            eps,
            given: given.is_some() as u32,
            ..Default::default()
        };
        g.dispatch(
            &KernelId::new("groupnorm_cpu.wgsl", "groupnorm_dx_v4"),
            &p,
            &bind,
            grid,
        )?;
    } else {
        g.dispatch(&KernelId::new("norm_grad.wgsl", "groupnorm_dx"), &pr, &bind, grid)?;
    }
    if !params {
        return Ok((dx, None));
    }
    let dgamma = Tensor::empty(g, &[c])?;
    let dbeta = Tensor::empty(g, &[c])?;
    g.dispatch(
        &KernelId::new("norm_grad.wgsl", "groupnorm_dparams"),
        &pr,
        &[
            ins[0],
            ins[1],
            ins[2],
            ins[3],
            dgamma.bind(Access::ReadWrite),
            dbeta.bind(Access::ReadWrite),
            stats.bind(Access::Read),
        ],
        [u(c)?, 1, 1],
    )?;
    Ok((dx, Some((dgamma, dbeta))))
}

/// Gradient of [`super::softmax_rows`] from its output `y`.
pub fn softmax_backward(y: &Tensor, dy: &Tensor, scale: f32) -> Result<Tensor> {
    dy.expect_shape(y.shape(), "softmax backward: dy")?;
    let len = *y.shape().last().unwrap();
    let rows = y.numel() / len;
    let dx = Tensor::empty(y.gpu(), y.shape())?;
    let u = |v: usize| u32_of(v, "softmax backward");
    let pr = NormGradParams {
        groups: 1,
        batch: u(rows)?,
        len: u(len)?,
        scale,
        ..Default::default()
    };
    // CPU adapters: a row per invocation (no barriers); GPUs: a workgroup per row
    let cpu = y.gpu().cpu_kernels();
    let (entry, grid) = if cpu {
        ("softmax_backward_rows", grid1d(rows, 64))
    } else {
        ("softmax_backward", grid1d(rows, 1))
    };
    y.gpu().dispatch(
        &KernelId::new("norm_grad.wgsl", entry),
        &pr,
        &binds!(y, dy, y, y => dx),
        grid,
    )?;
    Ok(dx)
}

/// Gradient of [`super::silu`] at `x`.
pub fn silu_backward(x: &Tensor, dy: &Tensor) -> Result<Tensor> {
    dy.expect_shape(x.shape(), "silu backward: dy")?;
    let dx = Tensor::empty(x.gpu(), x.shape())?;
    elementwise_grad("silu_backward", x, dy, &dx, x.numel(), 0.0, 0, 0, 0, 0, 0, 0)?;
    Ok(dx)
}

/// Channels `off..off + cn` of `dy` `[N, C, H, W]` (the gradient of one operand of a concat).
pub fn split_channels(dy: &Tensor, off: usize, cn: usize) -> Result<Tensor> {
    let s = dy.shape();
    if s.len() != 4 || off + cn > s[1] {
        return Err(Error::Shape(format!("channels {off}..{} of {s:?}", off + cn)));
    }
    let out = Tensor::empty(dy.gpu(), &[s[0], cn, s[2], s[3]])?;
    elementwise_grad(
        "split_channels",
        dy,
        dy,
        &out,
        out.numel(),
        0.0,
        s[2] * s[3],
        cn,
        s[1],
        off,
        0,
        0,
    )?;
    Ok(out)
}

/// Gradient of [`super::upsample_nearest2x`]: sums of 2x2 blocks.
pub fn upsample2x_backward(dy: &Tensor) -> Result<Tensor> {
    sum_pool2x(dy, 1.0)
}

/// `a` times the sums of the 2x2 blocks of `dy` `[N, C, H, W]` (H, W even).
pub(crate) fn sum_pool2x(dy: &Tensor, a: f32) -> Result<Tensor> {
    let s = dy.shape();
    if s.len() != 4 || !s[2].is_multiple_of(2) || !s[3].is_multiple_of(2) {
        return Err(Error::Shape(format!("2x2 block sums of {s:?}")));
    }
    let out = Tensor::empty(dy.gpu(), &[s[0], s[1], s[2] / 2, s[3] / 2])?;
    elementwise_grad(
        "upsample2x_backward",
        dy,
        dy,
        &out,
        out.numel(),
        a,
        0,
        s[2] / 2,
        s[3] / 2,
        0,
        0,
        0,
    )?;
    Ok(out)
}

/// `out[i] = a * dy_rows[row(i)] * (x[i] if given, else 1)` with rows of `x_shape` split into
/// `dy_rows.numel()` equal parts: the gradients of [`super::sum_rows`] and [`super::sumsq_rows`].
pub fn rows_scale(x: Option<&Tensor>, x_shape: &[usize], dy_rows: &Tensor, a: f32) -> Result<Tensor> {
    let n: usize = x_shape.iter().product();
    let rows = dy_rows.numel();
    if !n.is_multiple_of(rows) {
        return Err(Error::Shape(format!(
            "{rows} row gradients for a tensor of shape {x_shape:?}"
        )));
    }
    let out = Tensor::empty(dy_rows.gpu(), x_shape)?;
    let xb = x.unwrap_or(dy_rows);
    elementwise_grad(
        "rows_scale",
        xb,
        dy_rows,
        &out,
        n,
        a,
        n / rows,
        0,
        0,
        0,
        x.is_some() as u32,
        0,
    )?;
    Ok(out)
}

/// Gradient of [`super::clamp`]: `dy` where `lo <= x <= hi`, else 0.
pub fn clamp_backward(x: &Tensor, dy: &Tensor, lo: f32, hi: f32) -> Result<Tensor> {
    dy.expect_shape(x.shape(), "clamp backward: dy")?;
    let dx = Tensor::empty(x.gpu(), x.shape())?;
    elementwise_grad(
        "clamp_backward",
        x,
        dy,
        &dx,
        x.numel(),
        lo,
        0,
        hi.to_bits() as usize,
        0,
        0,
        0,
        0,
    )?;
    Ok(dx)
}
