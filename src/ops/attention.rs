//! Scaled dot-product attention over `[BH, d, HW]` blocks (the layout of 1x1 projections): the
//! composition of two products and a softmax on every adapter, fused (`shaders/attention_cpu.wgsl`,
//! forward and flash-style backward) on CPU adapters for heads of up to eight channels.

use super::grad::record;
use super::{MatmulSpec, matmul, softmax_rows, u32_of};
use crate::error::{Error, Result};
use crate::gpu::params::AttentionCpuParams;
use crate::gpu::{Access, KernelId};
use crate::tensor::{BackwardOp, InputGrads, Tensor};

const FILE: &str = "attention_cpu.wgsl";
/// Floats in one uniform window (64 KiB).
const WINDOW: usize = 16384;
/// Channels a head the fused kernels take at most (shared with the generator of attention_cpu.wgsl
/// through shaders/constants.rs).
const MAX_D: usize = crate::gpu::shader_consts::ATTENTION_MAX_D;

/// The sizes of an attention: `bh` (batch x heads) blocks of `d` channels x `hw` tokens, and the
/// scale `alpha` of the scores (`1 / sqrt(d)`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttentionSpec {
    /// Batch times heads.
    pub bh: usize,
    /// Channels a head.
    pub d: usize,
    /// Tokens (pixels).
    pub hw: usize,
    /// Scale of the scores.
    pub alpha: f32,
}

impl AttentionSpec {
    fn numel(&self) -> usize {
        self.bh * self.d * self.hw
    }

    /// Whether the fused kernels run it: a CPU adapter, heads of at most eight channels, and a
    /// (batch x head) block of keys (d x hw floats) within one 64 KiB uniform window.
    fn fused(&self, gpu: &crate::Gpu) -> bool {
        gpu.cpu_kernels()
            && self.d <= MAX_D
            && self.d * self.hw <= WINDOW
            && gpu.limits().max_uniform_buffer_binding_size >= (WINDOW * 4) as u64
            && gpu.limits().max_uniform_buffers_per_shader_stage >= 4
    }

    /// Blocks a uniform window holds.
    fn per_window(&self) -> usize {
        (WINDOW / (self.d * self.hw)).min(self.bh)
    }
}

/// `o[b, :, p] = sum_j softmax_j(alpha q[b, :, p] . k[b, :, j]) v[b, :, j]` for each of `bh` blocks
/// of `q`, `k`, `v` laid out as `[bh, d, hw]` (any shape with that many elements). Returns
/// `[bh, d, hw]`. Differentiable in `q`, `k` and `v`.
pub fn attention(q: &Tensor, k: &Tensor, v: &Tensor, spec: AttentionSpec) -> Result<Tensor> {
    let s = spec;
    for (t, name) in [(q, "q"), (k, "k"), (v, "v")] {
        if t.numel() != s.numel() || s.numel() == 0 {
            return Err(Error::Shape(format!(
                "attention {name} {:?} for {} blocks of {} channels x {} tokens",
                t.shape(),
                s.bh,
                s.d,
                s.hw
            )));
        }
        super::same_device(q, t)?;
    }
    if !s.fused(q.gpu()) {
        return composed(q, k, v, s);
    }
    let gpu = q.gpu();
    let o = Tensor::empty(gpu, &[s.bh, s.d, s.hw])?;
    let lse = Tensor::empty(gpu, &[s.bh * s.hw])?;
    let (kw, vw) = (windows(k, s, s.d * s.hw)?, windows(v, s, s.d * s.hw)?);
    launch("attn_fwd", s, [q, q, q], [&o, &lse], &[&kw, &vw])?;
    Ok(record(o, &[q, k, v], Attention { spec: s, lse }))
}

/// Gradients of [`attention`] with respect to `q`, `k` and `v`, from the output `o`, the forward's
/// log-sum-exp per query `lse` and the output's gradient `g` (fused kernels only).
pub(crate) fn attention_backward(
    [q, k, v]: [&Tensor; 3],
    o: &Tensor,
    lse: &Tensor,
    g: &Tensor,
    spec: AttentionSpec,
) -> Result<[Tensor; 3]> {
    let s = spec;
    let gpu = q.gpu();
    let shape = [s.bh, s.d, s.hw];
    let (dq, dd) = (Tensor::empty(gpu, &shape)?, Tensor::empty(gpu, &[s.bh * s.hw])?);
    let blocks = s.d * s.hw;
    let (kw, vw, lw) = (
        windows(k, s, blocks)?,
        windows(v, s, blocks)?,
        windows(lse, s, s.hw)?,
    );
    launch("attn_dq", s, [q, g, o], [&dq, &dd], &[&kw, &vw, &lw])?;
    let (dk, dv) = (Tensor::empty(gpu, &shape)?, Tensor::empty(gpu, &shape)?);
    let (qw, gw, dw) = (
        windows(q, s, blocks)?,
        windows(g, s, blocks)?,
        windows(&dd, s, s.hw)?,
    );
    launch("attn_dkv", s, [k, v, k], [&dk, &dv], &[&qw, &gw, &lw, &dw])?;
    Ok([dq, dk, dv])
}

/// The composition on every other adapter: scores, softmax, weighted sum.
fn composed(q: &Tensor, k: &Tensor, v: &Tensor, s: AttentionSpec) -> Result<Tensor> {
    let (d, hw) = (s.d, s.hw);
    let scores = matmul(
        q,
        k,
        None,
        MatmulSpec {
            batch: s.bh,
            m: hw,
            n: hw,
            k: d,
            a_strides: [d * hw, 1, hw],
            b_strides: [d * hw, hw, 1],
            alpha: s.alpha,
        },
    )?;
    let probs = softmax_rows(&scores, 1.0)?;
    drop(scores);
    // o[bh, i, p] = sum_p' v[bh, i, p'] probs[bh, p, p']
    matmul(
        v,
        &probs,
        None,
        MatmulSpec {
            batch: s.bh,
            m: d,
            n: hw,
            k: hw,
            a_strides: [d * hw, hw, 1],
            b_strides: [hw * hw, 1, hw],
            alpha: 1.0,
        },
    )
}

/// `t`'s blocks of `block` floats copied into 64 KiB uniform windows, `spec.per_window()` blocks each
/// (a pooled tensor: the pool's buffers have uniform usage on CPU adapters).
fn windows(t: &Tensor, s: AttentionSpec, block: usize) -> Result<Tensor> {
    let gpu = t.gpu();
    let per = s.per_window();
    let n = s.bh.div_ceil(per);
    let out = Tensor::empty(gpu, &[n * WINDOW])?;
    let (src, dst) = (t.bind(Access::Read).0, out.bind(Access::Read).0);
    for w in 0..n {
        let blocks = per.min(s.bh - w * per);
        gpu.copy(
            src,
            (w * per * block * 4) as u64,
            dst,
            (w * WINDOW * 4) as u64,
            (blocks * block * 4) as u64,
        );
    }
    Ok(out)
}

/// One dispatch of `entry` a window: storage inputs `ins`, outputs `outs`, uniform windows `wins`.
fn launch(
    entry: &'static str,
    s: AttentionSpec,
    ins: [&Tensor; 3],
    outs: [&Tensor; 2],
    wins: &[&Tensor],
) -> Result<()> {
    let gpu = ins[0].gpu();
    let u = |v: usize| u32_of(v, "attention");
    let per = s.per_window();
    for w in 0..s.bh.div_ceil(per) {
        let params = AttentionCpuParams {
            bh: u(s.bh)?,
            d: u(s.d)?,
            hw: u(s.hw)?,
            b0: u(w * per)?,
            alpha: s.alpha,
            ..Default::default()
        };
        let mut bind: Vec<(&wgpu::Buffer, u64, u64, Access)> = Vec::new();
        for t in ins {
            let b = t.bind(Access::Read);
            bind.push((b.0, 0, b.1, Access::Read));
        }
        for t in outs {
            let b = t.bind(Access::ReadWrite);
            bind.push((b.0, 0, b.1, Access::ReadWrite));
        }
        for t in wins {
            let b = t.bind(Access::Uniform).0;
            bind.push((b, (w * WINDOW * 4) as u64, (WINDOW * 4) as u64, Access::Uniform));
        }
        let flops = 2 * (per.min(s.bh - w * per) * s.hw * s.hw * s.d) as u64 * wins.len().min(2) as u64;
        gpu.dispatch_counted(
            &KernelId::new(FILE, entry),
            &params,
            &bind,
            [u(s.hw.div_ceil(64))?, u(per.min(s.bh - w * per))?, 1],
            flops,
        )?;
    }
    Ok(())
}

/// [`attention`] with the fused kernels (inputs q, k, v; the output is used): the log-sum-exp of
/// each query's scores, for [`attention_backward`].
struct Attention {
    spec: AttentionSpec,
    lse: Tensor,
}

impl BackwardOp for Attention {
    fn name(&self) -> &'static str {
        "attention"
    }

    fn backward(&self, x: &[Tensor], out: &Tensor, g: &Tensor, _need: &[bool]) -> Result<InputGrads> {
        let [dq, dk, dv] = attention_backward([&x[0], &x[1], &x[2]], out, &self.lse, g, self.spec)?;
        Ok(vec![Some(dq), Some(dk), Some(dv)])
    }
}
