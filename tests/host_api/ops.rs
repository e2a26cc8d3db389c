//! A differentiable op defined outside the crate, as a host would: its forward from public ops on
//! detached values, its own backward rule as a [`BackwardOp`], attached with [`Tensor::with_node`].
//! The gradients that [`autograd::backward`] returns through it are held against central finite
//! differences, alone and composed with library ops on both sides.
//!
//! Tolerance as in `gradcheck.rs`: unit-scale inputs, step 3e-3 along a random direction, 2e-3
//! relative gap between the directional derivative and its finite difference.

use crate::common;
use common::{gpu, randn};
use tweedie::tensor::{BackwardOp, InputGrads};
use tweedie::{Gpu, Result, Tensor, autograd, ops};

const TOL: f64 = 2e-3;
const H: f32 = 3e-3;

/// `y = x²`, elementwise, with the hand-written backward `2 x g`.
struct Square;

impl BackwardOp for Square {
    fn name(&self) -> &'static str {
        "square"
    }

    fn backward(&self, x: &[Tensor], _out: &Tensor, g: &Tensor, _need: &[bool]) -> Result<InputGrads> {
        Ok(vec![Some(ops::scale(&ops::mul(&x[0], g)?, 2.0)?)])
    }
}

fn square(x: &Tensor) -> Result<Tensor> {
    let xd = x.detach();
    ops::mul(&xd, &xd).map(|y| y.with_node(&[x], Square))
}

/// `z = x ⊙ y` with the backward `(g y, g x)`, each only where asked for.
struct Product;

impl BackwardOp for Product {
    fn name(&self) -> &'static str {
        "product"
    }

    fn backward(&self, x: &[Tensor], _out: &Tensor, g: &Tensor, need: &[bool]) -> Result<InputGrads> {
        let dx = if need[0] { Some(ops::mul(g, &x[1])?) } else { None };
        let dy = if need[1] { Some(ops::mul(g, &x[0])?) } else { None };
        Ok(vec![dx, dy])
    }
}

fn product(x: &Tensor, y: &Tensor) -> Result<Tensor> {
    ops::mul(&x.detach(), &y.detach()).map(|z| z.with_node(&[x, y], Product))
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum()
}

/// Relative gap between `<VJP(u), v>` from the tape and the central difference of `<u, f(x + t v)>`
/// at `x` of `shape` (random `x`, `u`, `v` from `seed`); `skip` drops the recorded ops of that name.
fn fd_gap(g: &Gpu, shape: &[usize], seed: u64, f: &dyn Fn(&Tensor) -> Tensor, skip: Option<&str>) -> f64 {
    let n: usize = shape.iter().product();
    let (x, v) = (randn(seed, n), randn(seed + 1, n));
    let at = |t: f32| {
        let p: Vec<f32> = x.iter().zip(&v).map(|(a, b)| a + t * b).collect();
        Tensor::from_slice(g, shape, &p).unwrap()
    };
    let x0 = at(0.0).tracked();
    let y = f(&x0);
    let u = randn(seed + 2, y.numel());
    let ut = Tensor::from_slice(g, y.shape(), &u).unwrap();
    let dx = autograd::backward_skipping(&y, &ut, &[&x0], skip)
        .unwrap()
        .remove(0);
    let analytic = dot(&dx.to_vec().unwrap(), &v);
    let side = |t: f32| dot(&f(&at(t)).to_vec().unwrap(), &u);
    let numeric = (side(H) - side(-H)) / (2.0 * H as f64);
    (analytic - numeric).abs() / analytic.abs().max(numeric.abs()).max(1e-12)
}

#[test]
fn a_host_op_has_the_gradient_of_its_own_backward() {
    let g = gpu();
    let gap = fd_gap(&g, &[2, 3, 5, 7], 11, &|x| square(x).unwrap(), None);
    assert!(gap < TOL, "square alone: gap {gap:.2e}");
    // the exact values: 2 x u
    let x = Tensor::from_slice(&g, &[1, 3], &[1.0, -2.0, 0.5])
        .unwrap()
        .tracked();
    let u = Tensor::from_slice(&g, &[1, 3], &[1.0, 1.0, 3.0]).unwrap();
    let dx = autograd::backward(&square(&x).unwrap(), &u, &[&x])
        .unwrap()
        .remove(0);
    assert_eq!(dx.to_vec().unwrap(), vec![2.0, -4.0, 3.0]);
}

#[test]
fn a_host_op_composes_with_library_ops() {
    let g = gpu();
    // library ops before (SiLU, a convolution) and after (a broadcast add, the row sums of squares)
    let w = Tensor::from_slice(&g, &[4, 3, 3, 3], &randn(7, 4 * 3 * 3 * 3)).unwrap();
    let b = Tensor::from_slice(&g, &[2, 4], &randn(8, 8)).unwrap();
    let spec = ops::Conv2dSpec {
        stride: 1,
        pad: [1; 4],
    };
    let f = |x: &Tensor| {
        let h = ops::conv2d(&ops::silu(x).unwrap(), &w, None, spec).unwrap();
        let s = ops::add_bcast(&square(&h).unwrap(), 0.5, &b).unwrap();
        ops::sumsq_rows(&s, 2).unwrap()
    };
    let gap = fd_gap(&g, &[2, 3, 6, 5], 21, &f, None);
    assert!(gap < TOL, "composed: gap {gap:.2e}");
    // the op is one node of the graph, found by its name: dropping it breaks the gradient
    let x = Tensor::from_slice(&g, &[2, 3, 6, 5], &randn(21, 180))
        .unwrap()
        .tracked();
    assert_eq!(autograd::graph_len(&f(&x)), 5);
    let wrong = fd_gap(&g, &[2, 3, 6, 5], 21, &f, Some("square"));
    assert!(
        wrong > 0.1,
        "skipping the host op went unnoticed: gap {wrong:.2e}"
    );
}

#[test]
fn a_host_op_records_only_for_tracked_inputs() {
    let g = gpu();
    let (xv, yv) = (randn(31, 24), randn(32, 24));
    let x = Tensor::from_slice(&g, &[4, 6], &xv).unwrap();
    let y = Tensor::from_slice(&g, &[4, 6], &yv).unwrap();
    // nothing tracked: nothing recorded
    assert!(!product(&x, &y).unwrap().is_tracked());
    // one input tracked: its rule sees `need` = [true, false] and the gradient is g y
    let xt = x.tracked();
    let z = product(&xt, &y).unwrap();
    assert_eq!(autograd::graph_len(&z), 1);
    let u = randn(33, 24);
    let ut = Tensor::from_slice(&g, &[4, 6], &u).unwrap();
    let dx = autograd::backward(&z, &ut, &[&xt])
        .unwrap()
        .remove(0)
        .to_vec()
        .unwrap();
    let want: Vec<f32> = u.iter().zip(&yv).map(|(a, b)| a * b).collect();
    assert_eq!(dx, want);
    // both tracked, through a library op: d/dx Σ (x ⊙ x)·u by the product rule is 2 x u
    let gap = fd_gap(
        &g,
        &[4, 6],
        41,
        &|x| ops::scale(&product(x, x).unwrap(), 1.5).unwrap(),
        None,
    );
    assert!(gap < TOL, "product with itself: gap {gap:.2e}");
}
