//! The backward rules of the differentiable ops: what each op keeps for its backward kernel and how
//! the gradients of its inputs follow from its output's. Ops attach an [`Op`] to their output with
//! [`record`] when an input is tracked; [`crate::autograd`] walks the graph and calls
//! [`BackwardOp::backward`] on each node.

use crate::error::{Error, Result};
use crate::ops::{self, Conv2dSpec, MatmulSpec};
use crate::tensor::{BackwardOp, Tensor};

/// What an op needs to run backward (its inputs and output are kept in the [`Node`]).
#[derive(Debug, Clone)]
pub(crate) enum Op {
    /// inputs: x, w, [bias]; the layer's packed weights where the forward used them (their flipped
    /// transpose is packed once, at the first input gradient, and kept with them)
    Conv2d(Conv2dSpec, Option<std::sync::Arc<ops::PackedWeights>>),
    /// inputs: a, b, [bias]
    Matmul(MatmulSpec),
    /// inputs: q, k, v (the fused kernels of CPU adapters; the output is used), with the
    /// log-sum-exp of each query's scores
    Attention { spec: ops::AttentionSpec, lse: Tensor },
    /// inputs: x, gamma, beta; `stats`: the forward's (mean, 1/std) per (sample, group) where its
    /// kernel kept them (CPU adapters), so the backward does not recompute them
    GroupNorm {
        groups: usize,
        eps: f32,
        silu: bool,
        stats: Option<Tensor>,
    },
    /// inputs: x (the output is used)
    Softmax { scale: f32 },
    /// inputs: x
    Silu,
    /// inputs: x, y
    Axpby { a: f32, b: f32 },
    /// inputs: x
    Affine { a: f32 },
    /// inputs: x, y (`[N, C]` broadcast)
    AddBcast { a: f32 },
    /// inputs: x, y
    Concat,
    /// inputs: x
    Upsample2x,
    /// inputs: x, m (a constant broadcast over the batch)
    MulBcast,
    /// inputs: x
    Clamp { lo: f32, hi: f32 },
    /// inputs: x
    SumRows,
    /// inputs: x
    SumsqRows,
    /// inputs: z (complex)
    Fft2 { inverse: bool },
    /// inputs: x (real)
    EmbedComplex,
    /// inputs: z (complex)
    CropReal,
    /// inputs: z (complex)
    Cabs,
    /// inputs: x, [scale | shift]
    Film,
    /// inputs: x
    AvgPool2x,
    /// inputs: x (`total` channels)
    NarrowChannels { off: usize, total: usize },
}

impl Op {
    /// A short name of the op kind.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Op::Conv2d(..) => "conv2d",
            Op::Matmul(_) => "matmul",
            Op::Attention { .. } => "attention",
            Op::GroupNorm { .. } => "group_norm",
            Op::Softmax { .. } => "softmax",
            Op::Silu => "silu",
            Op::Axpby { .. } => "axpby",
            Op::Affine { .. } => "affine",
            Op::AddBcast { .. } => "add_bcast",
            Op::Concat => "concat",
            Op::Upsample2x => "upsample2x",
            Op::MulBcast => "mul_bcast",
            Op::Clamp { .. } => "clamp",
            Op::SumRows => "sum_rows",
            Op::SumsqRows => "sumsq_rows",
            Op::Fft2 { .. } => "fft2",
            Op::EmbedComplex => "embed_complex",
            Op::CropReal => "crop_real",
            Op::Cabs => "cabs",
            Op::Film => "film",
            Op::AvgPool2x => "avg_pool2x",
            Op::NarrowChannels { .. } => "narrow_channels",
        }
    }
}

/// Called by every differentiable op on its output: attaches the op to the graph when an input is
/// tracked (see [`Tensor::tracked`]), and returns the output unchanged otherwise.
pub(crate) fn record(out: Tensor, inputs: &[&Tensor], op: Op) -> Tensor {
    out.with_node(inputs, op)
}

impl BackwardOp for Op {
    fn name(&self) -> &'static str {
        Op::name(self)
    }

    fn backward(
        &self,
        inputs: &[Tensor],
        out: &Tensor,
        g: &Tensor,
        need: &[bool],
    ) -> Result<Vec<Option<Tensor>>> {
        backward_node(self.clone(), inputs, out, g, need)
    }
}

/// `a * g`, or `g` itself (no kernel, no copy) for `a = 1`: gradients are never written in place,
/// so sharing the buffer is safe, and residual sums and unit scales are everywhere in a UNet.
fn scaled(g: &Tensor, a: f32) -> Result<Tensor> {
    if a == 1.0 { Ok(g.clone()) } else { ops::scale(g, a) }
}

/// The gradients of one node's inputs (for those in `need`) from the gradient `g` of its output.
fn backward_node(
    op: Op,
    x: &[Tensor],
    out: &Tensor,
    g: &Tensor,
    need: &[bool],
) -> Result<Vec<Option<Tensor>>> {
    let want = |i: usize| need.get(i).copied().unwrap_or(false);
    Ok(match op {
        Op::Conv2d(spec, packed) => vec![
            if want(0) {
                Some(ops::backward::conv2d_input_grad(
                    g,
                    &x[1],
                    x[0].shape(),
                    spec,
                    packed.as_deref(),
                )?)
            } else {
                None
            },
            if want(1) {
                Some(ops::conv2d_backward_weight(g, &x[0], x[1].shape(), spec)?)
            } else {
                None
            },
            if want(2) { Some(ops::channel_sum(g)?) } else { None },
        ],
        Op::Matmul(spec) => {
            let [a, b, c] = ops::matmul_backward(&x[0], &x[1], g, spec, [want(0), want(1), want(2)])?;
            vec![a, b, c]
        }
        Op::GroupNorm {
            groups,
            eps,
            silu,
            stats,
        } => {
            let (dx, p) = ops::backward::group_norm_grad(
                [&x[0], &x[1], &x[2]],
                g,
                (groups, eps, silu),
                want(1) || want(2),
                stats.as_ref(),
            )?;
            let (dg, db) = match p {
                Some((a, b)) => (Some(a), Some(b)),
                None => (None, None),
            };
            vec![want(0).then_some(dx), dg, db]
        }
        Op::Softmax { scale } => vec![Some(ops::softmax_backward(out, g, scale)?)],
        Op::Attention { spec, lse } => {
            let [dq, dk, dv] = ops::attention::attention_backward([&x[0], &x[1], &x[2]], out, &lse, g, spec)?;
            vec![Some(dq), Some(dk), Some(dv)]
        }
        Op::Silu => vec![Some(ops::silu_backward(&x[0], g)?)],
        Op::Axpby { a, b } => vec![
            if want(0) { Some(scaled(g, a)?) } else { None },
            if want(1) { Some(scaled(g, b)?) } else { None },
        ],
        Op::Affine { a } => vec![Some(scaled(g, a)?)],
        Op::AddBcast { a } => vec![
            if want(0) { Some(scaled(g, a)?) } else { None },
            if want(1) {
                Some(ops::sum_rows(g, x[1].numel())?)
            } else {
                None
            },
        ],
        Op::Concat => {
            let (c1, c2) = (x[0].shape()[1], x[1].shape()[1]);
            vec![
                if want(0) {
                    Some(ops::split_channels(g, 0, c1)?)
                } else {
                    None
                },
                if want(1) {
                    Some(ops::split_channels(g, c1, c2)?)
                } else {
                    None
                },
            ]
        }
        Op::Upsample2x => vec![Some(ops::upsample2x_backward(g)?)],
        Op::MulBcast => {
            if want(1) {
                return Err(Error::Input(
                    "gradients with respect to a broadcast mask are not supported".into(),
                ));
            }
            vec![Some(ops::mul_bcast(g, &x[1])?), None]
        }
        Op::Clamp { lo, hi } => vec![Some(ops::clamp_backward(&x[0], g, lo, hi)?)],
        Op::SumRows => vec![Some(ops::rows_scale(None, x[0].shape(), g, 1.0)?)],
        Op::SumsqRows => vec![Some(ops::rows_scale(Some(&x[0]), x[0].shape(), g, 2.0)?)],
        Op::Film => {
            let dss = if want(1) {
                // d scale[n, c] = Σ_hw g x, d shift[n, c] = Σ_hw g
                let s = x[0].shape();
                let nc = s[0] * s[1];
                let col = [s[0], s[1], 1, 1];
                let ds = ops::sum_rows(&ops::mul(g, &x[0])?, nc)?.reshape(&col)?;
                let dh = ops::sum_rows(g, nc)?.reshape(&col)?;
                Some(ops::concat_channels(&ds, &dh)?)
            } else {
                None
            };
            let dx = if want(0) {
                Some(super::elementwise::film_launch(g, &x[1], false)?)
            } else {
                None
            };
            vec![dx, dss]
        }
        Op::AvgPool2x => vec![Some(super::elementwise::upsample2x_scaled(g, 0.25)?)],
        Op::NarrowChannels { off, total } => {
            vec![Some(super::elementwise::pad_channels(g, off, total)?)]
        }
        Op::Fft2 { .. } | Op::EmbedComplex | Op::CropReal | Op::Cabs => {
            vec![Some(super::fft::backward(op, &x[0], g)?)]
        }
    })
}
