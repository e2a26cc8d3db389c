//! What the differentiable ops share for their backward rules. Each op's rule is a type next to its
//! launcher (e.g. `SumRows` in `reduce.rs`) implementing the public [`BackwardOp`] trait; an op
//! attaches it to its output with [`record`] when an input is tracked, and [`crate::autograd`] walks
//! the graph and calls [`BackwardOp::backward`] on each node. A host adds an op the same way, through
//! [`Tensor::with_node`].

use crate::tensor::{BackwardOp, Tensor};

/// Called by every differentiable op on its output: attaches `op` to the graph when an input is
/// tracked (see [`Tensor::tracked`]), and returns the output unchanged otherwise.
pub(crate) fn record(out: Tensor, inputs: &[&Tensor], op: impl BackwardOp + 'static) -> Tensor {
    out.with_node(inputs, op)
}

/// Whether input `i`'s gradient is asked for (`need` may be shorter than the op's inputs).
pub(crate) fn want(need: &[bool], i: usize) -> bool {
    need.get(i).copied().unwrap_or(false)
}
