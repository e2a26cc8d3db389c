//! Reverse-mode automatic differentiation with hand-derived backward kernels.
//!
//! While a [`Tape`] is alive on a device, every op whose inputs depend on a watched tensor records
//! what its backward kernel needs (its inputs, its output and its settings). [`Tape::backward`] walks
//! the records in reverse and returns the vector-Jacobian products for the tensors asked for, through
//! any composition of ops: UNet → Tweedie's x̂0 → measurement operator → norm. Ops on tensors that do
//! not depend on a watched tensor (the time embedding, the weights unless watched) record nothing, and
//! without a tape nothing is recorded at all. Saved tensors return to the pool when the tape is
//! consumed or dropped.

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::ops::{self, Conv2dSpec, MatmulSpec};
use crate::tensor::Tensor;
use std::collections::{HashMap, HashSet};

/// What an op needs to run backward (its inputs and output are kept in the [`Node`]).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Op {
    /// inputs: x, w, [bias]
    Conv2d(Conv2dSpec),
    /// inputs: a, b, [bias]
    Matmul(MatmulSpec),
    /// inputs: x, gamma, beta
    GroupNorm { groups: usize, eps: f32, silu: bool },
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
}

impl Op {
    /// A short name of the op kind.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Op::Conv2d(_) => "conv2d",
            Op::Matmul(_) => "matmul",
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
        }
    }
}

pub(crate) struct Node {
    op: Op,
    inputs: Vec<Tensor>,
    out: Tensor,
}

#[derive(Default)]
pub(crate) struct TapeState {
    nodes: Vec<Node>,
    /// Buffers that depend on a watched tensor.
    tracked: HashSet<usize>,
}

/// Called by every differentiable op after it has recorded its dispatches.
pub(crate) fn record(out: &Tensor, inputs: &[&Tensor], op: Op) {
    let mut guard = out.gpu().inner.tape.lock().unwrap_or_else(|p| p.into_inner());
    let Some(state) = guard.as_mut() else { return };
    if !inputs.iter().any(|t| state.tracked.contains(&t.key())) {
        return;
    }
    state.tracked.insert(out.key());
    state.nodes.push(Node {
        op,
        inputs: inputs.iter().map(|t| (*t).clone()).collect(),
        out: out.clone(),
    });
}

/// A recording session on one device. Only one tape can record on a device at a time.
pub struct Tape {
    gpu: Gpu,
}

impl Tape {
    /// Starts recording on `gpu`.
    pub fn new(gpu: &Gpu) -> Result<Tape> {
        let mut guard = gpu.inner.tape.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_some() {
            return Err(Error::Input("a tape is already recording on this device".into()));
        }
        *guard = Some(TapeState::default());
        Ok(Tape { gpu: gpu.clone() })
    }

    /// Marks `t` as an input to differentiate with respect to: ops on it (and on what depends on it)
    /// are recorded from now on.
    pub fn watch(&self, t: &Tensor) {
        if let Some(s) = self
            .gpu
            .inner
            .tape
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_mut()
        {
            s.tracked.insert(t.key());
        }
    }

    /// Number of recorded ops.
    pub fn len(&self) -> usize {
        self.gpu
            .inner
            .tape
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map_or(0, |s| s.nodes.len())
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The vector-Jacobian products `∂⟨cotangent, output⟩ / ∂w` for each `w` in `wrt` (zeros where the
    /// output does not depend on it). Ends the recording; saved tensors go back to the pool.
    pub fn backward(self, output: &Tensor, cotangent: &Tensor, wrt: &[&Tensor]) -> Result<Vec<Tensor>> {
        self.backward_skipping(output, cotangent, wrt, None)
    }

    /// [`Tape::backward`] that ignores every recorded op of the kind `skip` (e.g. `"softmax"`): a
    /// deliberately wrong gradient, used by the tests to show that the gradient checks catch a
    /// dropped term.
    #[doc(hidden)]
    pub fn backward_skipping(
        self,
        output: &Tensor,
        cotangent: &Tensor,
        wrt: &[&Tensor],
        skip: Option<&str>,
    ) -> Result<Vec<Tensor>> {
        cotangent.expect_shape(
            output.shape(),
            "backward: the cotangent must have the output's shape",
        )?;
        let state = self
            .gpu
            .inner
            .tape
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .ok_or_else(|| Error::Input("the tape was already consumed".into()))?;
        let keep: HashSet<usize> = wrt.iter().map(|t| t.key()).collect();
        let mut grads: HashMap<usize, Tensor> = HashMap::new();
        grads.insert(output.key(), cotangent.clone());
        let tracked = state.tracked;
        for node in state.nodes.into_iter().rev() {
            let key = node.out.key();
            let g = if keep.contains(&key) {
                grads.get(&key).cloned()
            } else {
                grads.remove(&key)
            };
            let Some(g) = g else { continue };
            if skip == Some(node.op.name()) {
                continue;
            }
            let g = g.reshape(node.out.shape())?;
            let need: Vec<bool> = node.inputs.iter().map(|t| tracked.contains(&t.key())).collect();
            let ins = backward_node(&node, &g, &need)?;
            for (inp, gi) in node.inputs.iter().zip(ins) {
                let Some(gi) = gi else { continue };
                let gi = gi.reshape(inp.shape())?;
                let k = inp.key();
                let acc = match grads.remove(&k) {
                    Some(prev) => ops::add(&prev.reshape(inp.shape())?, &gi)?,
                    None => gi,
                };
                grads.insert(k, acc);
            }
        }
        wrt.iter()
            .map(|w| match grads.get(&w.key()) {
                Some(g) => g.reshape(w.shape()),
                None => Tensor::full(&self.gpu, w.shape(), 0.0),
            })
            .collect()
    }
}

impl Drop for Tape {
    fn drop(&mut self) {
        *self.gpu.inner.tape.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

/// The gradients of one node's inputs (for those in `need`) from the gradient `g` of its output.
fn backward_node(node: &Node, g: &Tensor, need: &[bool]) -> Result<Vec<Option<Tensor>>> {
    let x = &node.inputs;
    let want = |i: usize| need.get(i).copied().unwrap_or(false);
    Ok(match node.op {
        Op::Conv2d(spec) => vec![
            if want(0) {
                Some(ops::conv2d_backward_input(g, &x[1], x[0].shape(), spec)?)
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
        Op::GroupNorm { groups, eps, silu } => {
            let (dx, p) =
                ops::group_norm_backward(&x[0], &x[1], &x[2], g, groups, eps, silu, want(1) || want(2))?;
            let (dg, db) = match p {
                Some((a, b)) => (Some(a), Some(b)),
                None => (None, None),
            };
            vec![want(0).then_some(dx), dg, db]
        }
        Op::Softmax { scale } => vec![Some(ops::softmax_backward(&node.out, g, scale)?)],
        Op::Silu => vec![Some(ops::silu_backward(&x[0], g)?)],
        Op::Axpby { a, b } => vec![
            if want(0) { Some(ops::scale(g, a)?) } else { None },
            if want(1) { Some(ops::scale(g, b)?) } else { None },
        ],
        Op::Affine { a } => vec![Some(ops::scale(g, a)?)],
        Op::AddBcast { a } => vec![
            if want(0) { Some(ops::scale(g, a)?) } else { None },
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
    })
}
