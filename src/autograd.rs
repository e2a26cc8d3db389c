//! Reverse-mode automatic differentiation with hand-derived backward kernels.
//!
//! The graph lives on the tensors: [`Tensor::tracked`] makes a leaf, every differentiable op whose
//! inputs depend on a tracked tensor attaches a node to its output (its backward rule, its inputs
//! and its output values), and [`backward`] walks the nodes that an output depends on in reverse
//! topological order and returns the vector-Jacobian products for the tensors asked for, through any
//! composition of ops: UNet → Tweedie's x̂0 → measurement operator → norm. Ops on tensors that do
//! not depend on a tracked tensor (the time embedding, the weights) record nothing.
//!
//! A backward rule is a [`BackwardOp`](crate::tensor::BackwardOp): one type per op, next to its
//! launcher in [`crate::ops`], attached with [`Tensor::with_node`]. A host adds a differentiable op
//! of its own the same way, and the walk treats it like any other (`tests/host_api/ops.rs`).
//!
//! Nothing is kept on the device: each computation owns its graph, two solvers on one device record
//! independently and may interleave step by step, and the saved tensors return to the pool when the
//! last tensor of the graph is dropped.
//!
//! ```no_run
//! # fn main() -> tweedie::Result<()> {
//! use tweedie::{Gpu, Tensor, autograd, ops};
//! let gpu = Gpu::new()?;
//! let x = Tensor::from_slice(&gpu, &[1, 3], &[1.0, 2.0, 3.0])?.tracked();
//! let y = ops::sumsq_rows(&x, 1)?; // Σ x²
//! let one = Tensor::full(&gpu, &[1], 1.0)?;
//! let dx = autograd::backward(&y, &one, &[&x])?.remove(0); // 2x
//! assert_eq!(dx.to_vec()?, vec![2.0, 4.0, 6.0]);
//! # Ok(()) }
//! ```

use crate::error::Result;
use crate::ops;
use crate::tensor::{GradNode, Tensor};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// The vector-Jacobian products `∂⟨cotangent, output⟩ / ∂w` for each `w` in `wrt` (zeros where the
/// output does not depend on it, or `w` is not tracked).
pub fn backward(output: &Tensor, cotangent: &Tensor, wrt: &[&Tensor]) -> Result<Vec<Tensor>> {
    backward_skipping(output, cotangent, wrt, None)
}

/// [`backward`] that ignores every recorded op of the kind `skip` (e.g. `"softmax"`): a deliberately
/// wrong gradient, used by the tests to show that the gradient checks catch a dropped term.
#[doc(hidden)]
pub fn backward_skipping(
    output: &Tensor,
    cotangent: &Tensor,
    wrt: &[&Tensor],
    skip: Option<&str>,
) -> Result<Vec<Tensor>> {
    cotangent.expect_shape(
        output.shape(),
        "backward: the cotangent must have the output's shape",
    )?;
    let zeros = |w: &Tensor| Tensor::full(w.gpu(), w.shape(), 0.0);
    let Some(root) = output.node() else {
        return wrt.iter().map(|w| zeros(w)).collect();
    };
    let order = topological(root);
    let keep: HashSet<u64> = wrt.iter().filter_map(|t| t.node().map(|n| n.id)).collect();
    let mut grads: HashMap<u64, Tensor> = HashMap::new();
    // the backward pass records nothing: it runs on detached values
    grads.insert(root.id, cotangent.detach());
    for node in order.iter().rev() {
        let g = if keep.contains(&node.id) {
            grads.get(&node.id).cloned()
        } else {
            grads.remove(&node.id)
        };
        let (Some(g), Some(op), Some(out)) = (g, node.op.as_ref(), node.out.as_ref()) else {
            continue;
        };
        if skip == Some(op.name()) {
            continue;
        }
        let g = g.reshape(out.shape())?;
        let need: Vec<bool> = node.inputs.iter().map(|t| t.is_tracked()).collect();
        let values: Vec<Tensor> = node.inputs.iter().map(|t| t.detach()).collect();
        let ins = op.backward(&values, out, &g, &need)?;
        for (inp, gi) in node.inputs.iter().zip(ins) {
            let (Some(gi), Some(n)) = (gi, inp.node()) else {
                continue;
            };
            let gi = gi.detach().reshape(inp.shape())?;
            let acc = match grads.remove(&n.id) {
                Some(prev) => ops::add(&prev.reshape(inp.shape())?, &gi)?,
                None => gi,
            };
            grads.insert(n.id, acc);
        }
    }
    wrt.iter()
        .map(|w| match w.node().and_then(|n| grads.get(&n.id)) {
            Some(g) => g.reshape(w.shape()),
            None => zeros(w),
        })
        .collect()
}

/// The nodes `root` depends on, each after all of its inputs (iterative depth-first search).
fn topological(root: &Arc<GradNode>) -> Vec<Arc<GradNode>> {
    let mut order = Vec::new();
    let mut seen: HashSet<u64> = HashSet::new();
    // (node, whether its inputs were pushed already)
    let mut stack = vec![(root.clone(), false)];
    while let Some((node, expanded)) = stack.pop() {
        if expanded {
            order.push(node);
            continue;
        }
        if !seen.insert(node.id) {
            continue;
        }
        stack.push((node.clone(), true));
        for inp in &node.inputs {
            if let Some(n) = inp.node()
                && !seen.contains(&n.id)
            {
                stack.push((n.clone(), false));
            }
        }
    }
    order
}

/// The number of recorded ops `output` depends on (0 when it is not tracked).
pub fn graph_len(output: &Tensor) -> usize {
    output
        .node()
        .map_or(0, |r| topological(r).iter().filter(|n| n.op.is_some()).count())
}
