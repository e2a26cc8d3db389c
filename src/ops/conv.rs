//! Launcher for `shaders/conv2d.wgsl`.

use super::grad::{record, want};
use super::{same_device, u32_of};
use crate::error::{Error, Result};
use crate::gpu::params::{Conv2dDirectParams, Conv2dParams, WinogradParams};
use crate::gpu::{Access, KernelId};
use crate::tensor::{BackwardOp, InputGrads, Tensor};
use std::sync::{Arc, OnceLock};

/// The geometry words of the convolution kernels (`conv2d.wgsl`, and `conv2d_grad.wgsl`, whose
/// struct has the same layout): input `xs`, weight `ws`, output `ho × wo`, stride and padding; no
/// bias.
pub(crate) fn conv_geometry(
    xs: &[usize],
    ws: &[usize],
    ho: usize,
    wo: usize,
    stride: usize,
    pad: [usize; 4],
) -> Conv2dParams {
    Conv2dParams {
        batch: xs[0] as u32,
        cin: xs[1] as u32,
        h: xs[2] as u32,
        w: xs[3] as u32,
        cout: ws[0] as u32,
        ho: ho as u32,
        wo: wo as u32,
        kh: ws[2] as u32,
        kw: ws[3] as u32,
        stride: stride as u32,
        pad_t: pad[0] as u32,
        pad_l: pad[2] as u32,
        ..Default::default()
    }
}

/// Stride and padding of a convolution. Padding is `[top, bottom, left, right]` so that diffusers'
/// asymmetric downsample padding `(0, 1, 0, 1)` is expressible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dSpec {
    /// Stride in both directions.
    pub stride: usize,
    /// Zero padding: top, bottom, left, right.
    pub pad: [usize; 4],
}

impl Conv2dSpec {
    /// Symmetric padding `p` on every side.
    pub fn new(stride: usize, p: usize) -> Self {
        Conv2dSpec {
            stride,
            pad: [p, p, p, p],
        }
    }

    /// Output height and width for an input of `h` x `w` and a `kh` x `kw` kernel.
    pub fn out_size(&self, h: usize, w: usize, kh: usize, kw: usize) -> Result<(usize, usize)> {
        let hp = h + self.pad[0] + self.pad[1];
        let wp = w + self.pad[2] + self.pad[3];
        if self.stride == 0 || hp < kh || wp < kw {
            return Err(Error::Shape(format!(
                "a {kh}x{kw} convolution with {self:?} does not fit a {h}x{w} input"
            )));
        }
        Ok(((hp - kh) / self.stride + 1, (wp - kw) / self.stride + 1))
    }
}

/// 2-D convolution (cross-correlation, as `torch.nn.functional.conv2d`) of `x` `[N, Cin, H, W]` with
/// `w` `[Cout, Cin, KH, KW]` and an optional bias `[Cout]`.
pub fn conv2d(x: &Tensor, w: &Tensor, bias: Option<&Tensor>, spec: Conv2dSpec) -> Result<Tensor> {
    conv2d_packed(x, w, bias, spec, None)
}

/// [`conv2d`] with `w` already packed for the direct kernel of CPU adapters ([`PackedWeights::new`]:
/// a layer packs its constant weights once instead of at every call). `packed` must come from `w`.
pub fn conv2d_packed(
    x: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    spec: Conv2dSpec,
    packed: Option<&Arc<PackedWeights>>,
) -> Result<Tensor> {
    same_device(x, w)?;
    let (xs, ws) = (x.shape(), w.shape());
    if xs.len() != 4 || ws.len() != 4 || xs[1] != ws[1] {
        return Err(Error::Shape(format!("conv2d of input {xs:?} with weight {ws:?}")));
    }
    if let Some(b) = bias
        && b.numel() != ws[0]
    {
        return Err(Error::Shape(format!(
            "conv2d bias {:?} for {} output channels",
            b.shape(),
            ws[0]
        )));
    }
    let (ho, wo) = spec.out_size(xs[2], xs[3], ws[2], ws[3])?;
    let out = Tensor::empty(x.gpu(), &[xs[0], ws[0], ho, wo])?;
    let ncols = u32_of(xs[0] * ho * wo, "conv2d output pixels")?;
    let params = Conv2dParams {
        has_bias: bias.is_some() as u32,
        ..conv_geometry(xs, ws, ho, wo, spec.stride, spec.pad)
    };
    let gpu = x.gpu();
    let b = bias.unwrap_or(w);
    let bindings = [
        x.bind(Access::Read),
        w.bind(Access::Read),
        b.bind(Access::Read),
        out.bind(Access::ReadWrite),
    ];
    // stride 1 (3x3, or 1x1 without padding), or a 3x3 stride 2 with more than four output channels
    let direct = direct_for(gpu, ws)
        && match spec.stride {
            1 => ws[2] == 3 || spec.pad == [0; 4],
            2 => ws[2] == 3 && ws[0] > FEW_ROWS,
            _ => false,
        };
    // a layer's packing is kept for the backward's flipped packing even where the forward does not
    // use it
    let cached = packed.filter(|p| p.fits(ws)).cloned();
    if spec.stride == 1
        && let Some(m) = winograd_for(gpu, ws, xs)
    {
        let fresh;
        let wt = [ws[0], ws[1], 3, 3];
        let ww = match cached
            .as_ref()
            .and_then(|p| WinoWeights::cached(&p.wino, w, wt, false, m).transpose())
        {
            Some(c) => c?,
            None => {
                fresh = WinoWeights::new(w, wt, false, m)?;
                &fresh
            }
        };
        winograd(x, bias.unwrap_or(w), &out, &params, ww)?;
        let out = match bias {
            Some(b) => record(out, &[x, w, b], Conv2d { spec, packed: cached }),
            None => record(out, &[x, w], Conv2d { spec, packed: cached }),
        };
        return Ok(out);
    }
    let fresh;
    let packed = match &cached {
        _ if !direct => None,
        Some(p) => Some(&**p),
        None => {
            fresh = PackedWeights::new(w)?;
            fresh.as_ref()
        }
    };
    match packed {
        Some(p) => direct3(x, w, bias, &out, &params, p)?,
        None => gemm(x, ws, &params, &bindings, ncols)?,
    }
    let out = match bias {
        Some(b) => record(out, &[x, w, b], Conv2d { spec, packed: cached }),
        None => record(out, &[x, w], Conv2d { spec, packed: cached }),
    };
    Ok(out)
}

/// The convolution of `x` with `w` `[Cout, Cin, k, k]` flipped in both spatial axes and transposed to
/// `[Cin, Cout, k, k]` (the input gradient of a convolution), stride 1, when the direct kernels run it
/// (CPU adapters): the flip and transposition happen while packing, so no flipped copy is made.
/// `None` where they do not run (the caller flips and takes [`conv2d`]). Not recorded.
///
/// With `cache` (the packed `w` of a layer) the flipped pack is made once and kept with it.
pub(crate) fn conv2d_flipped(
    x: &Tensor,
    w: &Tensor,
    pad: [usize; 4],
    cache: Option<&PackedWeights>,
) -> Result<Option<Tensor>> {
    let ws = w.shape();
    let wt = [ws[1], ws[0], ws[2], ws[3]];
    let spec = Conv2dSpec { stride: 1, pad };
    let gpu = x.gpu();
    if !(direct_for(gpu, &wt) && (wt[2] == 3 || pad == [0; 4])) || x.shape()[1] != wt[1] {
        return Ok(None);
    }
    let xs = x.shape();
    let (ho, wo) = spec.out_size(xs[2], xs[3], wt[2], wt[3])?;
    let params = conv_geometry(xs, &wt, ho, wo, 1, pad);
    if let Some(m) = winograd_for(gpu, &wt, xs) {
        let out = Tensor::empty(gpu, &[xs[0], wt[0], ho, wo])?;
        let fresh;
        let wino = cache.filter(|c| c.fits(ws)).map(|c| &c.wino_flipped);
        let ww = match wino.and_then(|c| WinoWeights::cached(c, w, wt, true, m).transpose()) {
            Some(c) => c?,
            None => {
                fresh = WinoWeights::new(w, wt, true, m)?;
                &fresh
            }
        };
        winograd(x, w, &out, &params, ww)?;
        return Ok(Some(out));
    }
    let fresh;
    let pw = match cache.filter(|c| c.fits(ws)) {
        Some(c) => {
            if c.flipped.get().is_none() {
                let _ = c.flipped.set(PackedWeights::pack(w, wt, true)?.map(Box::new));
            }
            c.flipped.get().and_then(|f| f.as_deref())
        }
        None => {
            fresh = PackedWeights::pack(w, wt, true)?;
            fresh.as_ref()
        }
    };
    let Some(pw) = pw else {
        return Ok(None);
    };
    let out = Tensor::empty(gpu, &[xs[0], wt[0], ho, wo])?;
    direct3(x, w, None, &out, &params, pw)?;
    Ok(Some(out))
}

// Output channels an invocation of `conv2d_direct3` / `conv2d_direct3_r4` computes, and invocations
// a workgroup: shared with the generator of conv2d_direct.wgsl through shaders/constants.rs.
use crate::gpu::shader_consts::{DIRECT_ROWS, DIRECT_WORKGROUP, FEW_ROWS};
/// Floats in one uniform window of packed weights (64 KiB).
const WINDOW: usize = 16384;

/// Whether a stride-1 convolution with weight shape `ws` runs on the direct kernels: 3x3 or 1x1
/// (without padding, checked by the caller), on a CPU adapter.
pub(crate) fn direct_for(gpu: &crate::gpu::Gpu, ws: &[usize]) -> bool {
    gpu.cpu_kernels() && ((ws[2] == 3 && ws[3] == 3) || (ws[2] == 1 && ws[3] == 1))
}

/// A 3x3 or 1x1 weight `[Cout, Cin, k, k]` packed for the direct kernels of CPU adapters
/// (`shaders/conv2d_direct.wgsl`): 64 KiB uniform windows of up to 96 output x `16384 / (k² x that)`
/// input channels (a multiple of four for 1x1).
pub struct PackedWeights {
    buf: wgpu::Buffer,
    cout: usize,
    cin: usize,
    k: usize,
    co_chunk: usize,
    ci_chunk: usize,
    /// Output channels an invocation computes: [`DIRECT_ROWS`] or [`FEW_ROWS`].
    rows: usize,
    /// The flipped transpose of the same weight, for input gradients: packed at the first one.
    flipped: OnceLock<Option<Box<PackedWeights>>>,
    /// The Winograd transform of the weight, made at the first convolution that takes Winograd.
    wino: OnceLock<WinoWeights>,
    /// The Winograd transform of the flipped transpose, made at the first input gradient that
    /// takes Winograd.
    wino_flipped: OnceLock<WinoWeights>,
}

impl std::fmt::Debug for PackedWeights {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PackedWeights([{}, {}, {k}, {k}])",
            self.cout,
            self.cin,
            k = self.k
        )
    }
}

impl PackedWeights {
    /// Whether this is the packing of a weight of shape `ws` (`[Cout, Cin, k, k]`).
    fn fits(&self, ws: &[usize]) -> bool {
        ws.len() == 4 && [self.cout, self.cin, self.k] == [ws[0], ws[1], ws[2]]
    }

    /// Packs `w` on the device, or `None` where the direct kernel does not run (not a 3x3 weight, a
    /// GPU adapter, uniform bindings under 64 KiB).
    pub fn new(w: &Tensor) -> Result<Option<Self>> {
        let ws = w.shape();
        if ws.len() != 4 {
            return Ok(None);
        }
        Self::pack(w, [ws[0], ws[1], ws[2], ws[3]], false)
    }

    /// Packs the weight of shape `ws` held by `w`: `w` itself, or with `flip` the flipped transpose
    /// of `w` (`w` then has shape `[ws[1], ws[0], k, k]`).
    fn pack(w: &Tensor, ws: [usize; 4], flip: bool) -> Result<Option<Self>> {
        let gpu = w.gpu();
        let ws = &ws[..];
        if ws.len() != 4
            || !direct_for(gpu, ws)
            || gpu.limits().max_uniform_buffer_binding_size < (WINDOW * 4) as u64
        {
            return Ok(None);
        }
        let (cout, cin, k) = (ws[0], ws[1], ws[2]);
        let rows = if k == 3 && cout <= FEW_ROWS {
            FEW_ROWS
        } else {
            DIRECT_ROWS
        };
        let co_chunk = cout.div_ceil(rows).min(3) * rows;
        let ci_chunk = if k == 3 {
            WINDOW / (co_chunk * 9)
        } else {
            WINDOW / co_chunk / 4 * 4
        };
        let (n_co, n_ci) = (cout.div_ceil(co_chunk), cin.div_ceil(ci_chunk));
        let total = n_co * n_ci * WINDOW;
        let buf = gpu.uniform_scratch(total as u64 * 4);
        let u = |v: usize| u32_of(v, "conv2d weight packing");
        let pp = Conv2dDirectParams {
            cin: u(cin)?,
            cout: u(cout)?,
            kh: u(k)?,
            kw: u(k)?,
            ci_chunk: u(ci_chunk)?,
            co_chunk: u(co_chunk)?,
            n_ci: u(n_ci)?,
            total: u(total)?,
            flip: flip as u32,
            rows: u(rows)?,
            ..Default::default()
        };
        let wb = w.bind(Access::Read);
        gpu.dispatch_counted(
            &KernelId::new("conv2d_direct.wgsl", "pack_weights"),
            &pp,
            &[
                (wb.0, 0, wb.1, Access::Read),
                (wb.0, 0, wb.1, Access::Read),
                (wb.0, 0, wb.1, Access::Read),
                (&buf, 0, total as u64 * 4, Access::ReadWrite),
            ],
            crate::gpu::grid1d(total, 256),
            0,
        )?;
        Ok(Some(PackedWeights {
            buf,
            cout,
            cin,
            k,
            co_chunk,
            ci_chunk,
            rows,
            flipped: OnceLock::new(),
            wino: OnceLock::new(),
            wino_flipped: OnceLock::new(),
        }))
    }
}

/// The direct 3x3 (stride 1 or 2) and 1x1 convolutions for CPU adapters (`shaders/conv2d_direct.wgsl`) with packed
/// weights: one dispatch per 64 KiB window of weights, adding into the output.
fn direct3(
    x: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    out: &Tensor,
    params: &Conv2dParams,
    pw: &PackedWeights,
) -> Result<()> {
    let gpu = x.gpu();
    let win = (WINDOW * 4) as u64;
    let (xs, os) = (x.shape(), out.shape());
    let (cin, cout, co_chunk, ci_chunk) = (pw.cin, pw.cout, pw.co_chunk, pw.ci_chunk);
    let (n_co, n_ci) = (cout.div_ceil(co_chunk), cin.div_ceil(ci_chunk));
    let u = |v: usize| u32_of(v, "conv2d");
    let p = params;
    let mut pp = Conv2dDirectParams {
        batch: p.batch,
        cin: p.cin,
        h: p.h,
        w: p.w,
        cout: p.cout,
        ho: p.ho,
        wo: p.wo,
        kh: p.kh,
        kw: p.kw,
        stride: p.stride,
        pad_t: p.pad_t,
        pad_l: p.pad_l,
        has_bias: p.has_bias,
        ci_chunk: u(ci_chunk)?,
        co_chunk: u(co_chunk)?,
        n_ci: u(n_ci)?,
        ..Default::default()
    };
    let wb = w.bind(Access::Read);
    // rows of whole vec4s in and out, aligned (3x3: one column of left padding; 1x1: none): the
    // vec4 memory access of conv2d_direct_out4.inc
    let out4 = os[3].is_multiple_of(4) && xs[3].is_multiple_of(4) && params.pad_l == (pw.k == 3) as u32;
    let file = match (gpu.subgroup_convs(), out4) {
        (false, false) => "conv2d_direct.wgsl",
        (false, true) => "conv2d_direct.wgsl#out4",
        (true, false) => "conv2d_direct_sg.wgsl",
        (true, true) => "conv2d_direct_sg.wgsl#out4",
    };
    let entry = if params.stride == 2 {
        "conv2d_direct3s2"
    } else if pw.k == 3 && pw.rows == FEW_ROWS {
        "conv2d_direct3_r4"
    } else if pw.k == 3 {
        "conv2d_direct3"
    } else {
        "conv2d_direct1"
    };
    let quads = xs[0] * os[2] * os[3].div_ceil(8);
    let groups = u(quads.div_ceil(DIRECT_WORKGROUP))?;
    let max = gpu.limits().max_compute_workgroups_per_dimension;
    let (gx, gz) = if groups <= max {
        (groups, 1)
    } else {
        (max, groups.div_ceil(max))
    };
    let xb = x.bind(Access::Read);
    let bb = bias.unwrap_or(w).bind(Access::Read);
    let ob = out.bind(Access::ReadWrite);
    for a in 0..n_co {
        for c in 0..n_ci {
            let (ci0, co0) = (c * ci_chunk, a * co_chunk);
            pp.ci0 = u(ci0)?;
            pp.ci_n = u(ci_chunk.min(cin - ci0))?;
            pp.co0 = u(co0)?;
            pp.first = (c == 0) as u32;
            let rows = co_chunk.min(cout - co0);
            let flops = 2 * (xs[0] * os[2] * os[3] * rows * ci_chunk.min(cin - ci0) * pw.k * pw.k) as u64;
            gpu.dispatch_counted(
                &KernelId::new(file, entry),
                &pp,
                &[
                    (xb.0, 0, xb.1, Access::Read),
                    (wb.0, 0, wb.1, Access::Read),
                    (bb.0, 0, bb.1, Access::Read),
                    (ob.0, 0, ob.1, Access::ReadWrite),
                    (
                        &pw.buf,
                        ((a * n_ci + c) * WINDOW * 4) as u64,
                        win,
                        Access::Uniform,
                    ),
                    (xb.0, 0, xb.1, Access::Read),
                ][..if out4 { 6 } else { 5 }],
                [gx, u(rows.div_ceil(pw.rows))?, gz],
                flops,
            )?;
        }
    }
    Ok(())
}

/// Whether a stride-1 convolution with weight `ws` (`[Cout, Cin, k, k]`) of an input of shape `xs`
/// takes the Winograd F(2x2, 3x3) kernels (`shaders/conv2d_winograd.wgsl`): the one place this is
/// decided. Only 3x3 weights on the CPU-tuned path (uniform bindings of 64 KiB); then by
/// `TWEEDIE_WINOGRAD` ([`crate::gpu::Options::winograd`]); under `auto` by shape, where it measured
/// faster than the direct kernel: on lavapipe nowhere yet (below).
///
/// `Some(m)`: F(m x m, 3x3), m = 2 or 4.
pub(crate) fn winograd_for(gpu: &crate::gpu::Gpu, ws: &[usize], xs: &[usize]) -> Option<usize> {
    use crate::gpu::Winograd;
    if !(gpu.cpu_kernels()
        && ws.len() == 4
        && xs.len() == 4
        && ws[2] == 3
        && ws[3] == 3
        && gpu.limits().max_uniform_buffer_binding_size >= (WINDOW * 4) as u64)
    {
        return None;
    }
    match gpu.winograd() {
        Winograd::On => Some(2),
        Winograd::F4 => Some(4),
        Winograd::Off => None,
        // Measured on lavapipe (2-core AMD EPYC VM, `examples/conv3x3_bench.rs`, batch 1 and 8, the
        // bundled prior's shapes: 1..128 input, 1..64 output channels, 8x8..32x32 maps): Winograd
        // F(2x2, 3x3) took 1.2x to 2.5x the direct kernel's time at every shape (14x with one output
        // channel), so no shape takes it by default. llvmpipe loads each uniform weight scalar once
        // per use site: the direct kernel uses each for 8 pixels (9 taps x 8 = 72 multiply-adds a
        // row and input channel for 9 loads), the Winograd product for 4 tiles (64 multiply-adds for
        // 16 loads, standing for 144 direct ones), and its transformed input is 4x the input's size
        // in storage loads; removing the weight loads halved the product's time. F(4x4, 3x3) (a
        // quarter of the multiply-adds) took 1.2x to 1.7x at batch 8, 2.5x on 8x8 maps, ~3x at
        // batch 1.
        Winograd::Auto => None,
    }
}

use crate::gpu::shader_consts::{WINO_CPI, WINO_PAIRS, WINO_ROWS, WINO_WORKGROUP, WINO4_ROWS, WINO4_TILES};

/// A 3x3 weight `[Cout, Cin, 3, 3]` (or the flipped transpose of one) transformed for the Winograd
/// kernels of CPU adapters: `G g G^T` (4x4) of every (output, input) channel pair, in 64 KiB uniform
/// windows of [`WINO_ROWS`] output x `ci_chunk` input channels.
pub(crate) struct WinoWeights {
    buf: wgpu::Buffer,
    cout: usize,
    cin: usize,
    ci_chunk: usize,
    /// F(m x m, 3x3): 2 or 4.
    m: usize,
}

impl WinoWeights {
    /// Transforms `w` on the device for a convolution of weight shape `ws`: `w` itself, or with
    /// `flip` the flipped transpose of `w` (`w` then has shape `[ws[1], ws[0], 3, 3]`).
    fn new(w: &Tensor, ws: [usize; 4], flip: bool, m: usize) -> Result<Self> {
        let gpu = w.gpu();
        let (cout, cin) = (ws[0], ws[1]);
        let rows = if m == 4 { WINO4_ROWS } else { WINO_ROWS };
        let ci_chunk = WINDOW / (m + 2).pow(2) / rows / WINO_CPI * WINO_CPI;
        let (n_co, n_ci) = (cout.div_ceil(rows), cin.div_ceil(ci_chunk));
        let bytes = (n_co * n_ci * WINDOW * 4) as u64;
        // F(2x2): one invocation a vec4 of the windows; F(4x4): one a channel pair
        let (total, entry) = if m == 4 {
            (n_co * n_ci * ci_chunk * rows, "wino4_weights")
        } else {
            (n_co * n_ci * WINDOW / 4, "wino_weights")
        };
        let buf = gpu.uniform_scratch(bytes);
        let u = |v: usize| u32_of(v, "Winograd weight transform");
        let pp = WinogradParams {
            cin: u(cin)?,
            cout: u(cout)?,
            ci_chunk: u(ci_chunk)?,
            n_ci: u(n_ci)?,
            total: u(total)?,
            flip: flip as u32,
            ..Default::default()
        };
        let wb = w.bind(Access::Read);
        gpu.dispatch_counted(
            &KernelId::new("conv2d_winograd.wgsl", entry),
            &pp,
            &[(wb.0, 0, wb.1, Access::Read), (&buf, 0, bytes, Access::ReadWrite)],
            crate::gpu::grid1d(total, 256),
            0,
        )?;
        Ok(WinoWeights {
            buf,
            cout,
            cin,
            ci_chunk,
            m,
        })
    }

    /// The transform kept in `cell` (made there at the first call), or `None` where the one kept is
    /// of another F(m x m).
    fn cached<'a>(
        cell: &'a OnceLock<WinoWeights>,
        w: &Tensor,
        ws: [usize; 4],
        flip: bool,
        m: usize,
    ) -> Result<Option<&'a WinoWeights>> {
        if cell.get().is_none() {
            let _ = cell.set(WinoWeights::new(w, ws, flip, m)?);
        }
        Ok(cell.get().filter(|c| c.m == m))
    }
}

/// The Winograd F(2x2, 3x3) convolution (stride 1) of `x` into `out` with transformed weights `ww`
/// (`params`: the geometry; `bias`, read where `params.has_bias`, else any buffer): the input
/// transform, then one product dispatch per 64 KiB window, each adding the output transform of its
/// partial sum into `out`.
fn winograd(x: &Tensor, bias: &Tensor, out: &Tensor, params: &Conv2dParams, ww: &WinoWeights) -> Result<()> {
    let gpu = x.gpu();
    let p = params;
    let (n, cin, cout) = (p.batch as usize, ww.cin, ww.cout);
    let (ho, wo) = (p.ho as usize, p.wo as usize);
    let m = ww.m;
    // F(2x2): pairs of tiles a row, a multiple of the pairs an invocation of the product takes;
    // F(4x4): tiles a row, a multiple of the tiles an invocation takes
    let (th, tp, per_site, rows) = if m == 4 {
        (
            ho.div_ceil(4),
            wo.div_ceil(4 * WINO4_TILES) * WINO4_TILES,
            WINO4_TILES,
            WINO4_ROWS,
        )
    } else {
        (
            ho.div_ceil(2),
            wo.div_ceil(4 * WINO_PAIRS) * WINO_PAIRS,
            WINO_PAIRS,
            WINO_ROWS,
        )
    };
    let (input, product) = if m == 4 {
        ("wino4_input", "wino4_gemm")
    } else {
        ("wino_input", "wino_gemm")
    };
    let u = |v: usize| u32_of(v, "Winograd convolution");
    // transformed input: 36 values a 4x4 tile (F(4x4)), 32 a pair of 2x2 tiles (F(2x2))
    let v = Tensor::empty(gpu, &[n * cin * th * tp * if m == 4 { 36 } else { 32 }])?;
    let mut pp = WinogradParams {
        batch: p.batch,
        cin: p.cin,
        h: p.h,
        w: p.w,
        cout: p.cout,
        ho: p.ho,
        wo: p.wo,
        pad_t: p.pad_t,
        pad_l: p.pad_l,
        th: u(th)?,
        tp: u(tp)?,
        has_bias: p.has_bias,
        ci_chunk: u(ww.ci_chunk)?,
        total: u(n * cin * th * tp)?,
        ..Default::default()
    };
    let (xb, vb, ob, bb) = (
        x.bind(Access::Read),
        v.bind(Access::ReadWrite),
        out.bind(Access::ReadWrite),
        bias.bind(Access::Read),
    );
    gpu.dispatch_counted(
        &KernelId::new("conv2d_winograd.wgsl", input),
        &pp,
        &[(xb.0, 0, xb.1, Access::Read), (vb.0, 0, vb.1, Access::ReadWrite)],
        crate::gpu::grid1d(n * cin * th * tp, WINO_WORKGROUP as u32),
        0,
    )?;
    let (n_co, n_ci) = (cout.div_ceil(rows), cin.div_ceil(ww.ci_chunk));
    let sites = n * th * tp / per_site;
    let win = (WINDOW * 4) as u64;
    for a in 0..n_co {
        for c in 0..n_ci {
            let (ci0, co0) = (c * ww.ci_chunk, a * rows);
            let ci_n = ww.ci_chunk.min(cin - ci0);
            pp.ci0 = u(ci0)?;
            pp.ci_n = u(ci_n)?;
            pp.co0 = u(co0)?;
            pp.first = (c == 0) as u32;
            // the direct convolution's multiply-adds, so that GFLOP/s compare
            let flops = 2 * (n * ho * wo * rows.min(cout - co0) * ci_n * 9) as u64;
            gpu.dispatch_counted(
                &KernelId::new("conv2d_winograd.wgsl", product),
                &pp,
                &[
                    (bb.0, 0, bb.1, Access::Read),
                    (ob.0, 0, ob.1, Access::ReadWrite),
                    (
                        &ww.buf,
                        ((a * n_ci + c) * WINDOW * 4) as u64,
                        win,
                        Access::Uniform,
                    ),
                    (vb.0, 0, vb.1, Access::Read),
                ],
                crate::gpu::grid1d(sites, WINO_WORKGROUP as u32),
                flops,
            )?;
        }
    }
    Ok(())
}

/// The implicit-GEMM convolution (any stride and kernel size).
fn gemm(
    x: &Tensor,
    ws: &[usize],
    params: &Conv2dParams,
    bindings: &[(&wgpu::Buffer, u64, Access); 4],
    ncols: u32,
) -> Result<()> {
    // Output tile (channels x pixels) of one workgroup; CPU adapters get the wide 16x16 blocks per
    // thread (see `matmul`).
    let gpu = x.gpu();
    let cpu = gpu.cpu_kernels();
    // 512-wide tiles for few output rows where the device has the workgroup memory for them; the
    // 128-wide tiles otherwise, from the small-tile module (4 KiB of staging instead of 16 KiB). Each
    // output's sum runs over k in the same order in every GEMM variant, so results agree bit for bit
    // (the direct kernels of CPU adapters sum in their own order).
    let wide = gpu.wide_tiles();
    let (entry, bm, bn) = if ws[0] <= 16 && wide {
        ("conv2d_t2x64", 16, 512)
    } else if ws[0] <= 32 && wide {
        ("conv2d_t4x64", 32, 512)
    } else if cpu {
        ("conv2d_t8x8w", 128, 128)
    } else {
        ("conv2d_t16x16", 128, 128)
    };
    let file = if bn == 512 {
        "conv2d.wgsl"
    } else {
        "conv2d.wgsl#small"
    };
    let flops = 2 * ncols as u64 * ws.iter().product::<usize>() as u64;
    gpu.dispatch_flops(
        &KernelId::new(file, entry),
        params,
        bindings,
        [ncols.div_ceil(bn), (ws[0] as u32).div_ceil(bm), 1],
        flops,
    )
}

/// [`conv2d`] (inputs x, w, [bias]). `packed`: the layer's packed weights where the forward used
/// them (their flipped transpose is packed once, at the first input gradient, and kept with them).
struct Conv2d {
    spec: Conv2dSpec,
    packed: Option<Arc<PackedWeights>>,
}

impl BackwardOp for Conv2d {
    fn name(&self) -> &'static str {
        "conv2d"
    }

    fn backward(&self, x: &[Tensor], _out: &Tensor, g: &Tensor, need: &[bool]) -> Result<InputGrads> {
        let spec = self.spec;
        let dx = if want(need, 0) {
            let packed = self.packed.as_deref();
            Some(super::backward::conv2d_input_grad(
                g,
                &x[1],
                x[0].shape(),
                spec,
                packed,
            )?)
        } else {
            None
        };
        let dw = if want(need, 1) {
            Some(super::conv2d_backward_weight(g, &x[0], x[1].shape(), spec)?)
        } else {
            None
        };
        let db = if want(need, 2) {
            Some(super::channel_sum(g)?)
        } else {
            None
        };
        Ok(vec![dx, dw, db])
    }
}
