//! The pieces of the optimisation-based solvers: the VJP through a K-step DDIM chain (DMPlug) by
//! finite differences, the chain's memory with K, and the blur-kernel gradient (Blind RED-Diff) by
//! finite differences. (Adam and the simplex projection are checked against plain-Rust references in
//! tests/kernels.rs; the solvers themselves in tests/solvers.rs.)
//!
//! Finite-difference tolerance as in tests/gradcheck.rs: step h = 3e-3 along a random direction,
//! central differences (truncation O(h²), ~1e-3 relative on the curved ops), f32 outputs; 2e-3
//! relative between ⟨VJP(u), v⟩ and its finite difference. A flipped sign gives a gap of 2.

mod common;
use common::{fixture, gpu, randn};
use tweedie::models::UNet2DModel;
use tweedie::solvers::DdimChain;
use tweedie::{Gpu, Tensor};

const TOL: f64 = 2e-3;
const H: f32 = 3e-3;

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum()
}

/// Relative gap between `⟨grad(x, u), v⟩` and the central difference of `⟨u, f(x ± h v)⟩`.
fn fd_gap(
    g: &Gpu,
    shape: &[usize],
    x: &[f32],
    f: &dyn Fn(&Tensor) -> Tensor,
    grad: &dyn Fn(&Tensor, &Tensor) -> Tensor,
) -> f64 {
    let n: usize = shape.iter().product();
    let v = randn(91, n);
    let at = |s: f32| {
        let p: Vec<f32> = x.iter().zip(&v).map(|(a, b)| a + s * b).collect();
        Tensor::from_slice(g, shape, &p).unwrap()
    };
    let y = f(&at(0.0));
    let u = Tensor::from_slice(g, y.shape(), &randn(92, y.numel())).unwrap();
    let analytic = dot(&grad(&at(0.0), &u).to_vec().unwrap(), &v);
    let uu = u.to_vec().unwrap();
    let numeric =
        (dot(&f(&at(H)).to_vec().unwrap(), &uu) - dot(&f(&at(-H)).to_vec().unwrap(), &uu)) / (2.0 * H as f64);
    (analytic - numeric).abs() / analytic.abs().max(numeric.abs()).max(1e-12)
}

/// DMPlug's gradient: the checkpointed VJP through 1 and 3 DDIM steps of the tiny fixture UNet,
/// with and without the x̂0 clamp, against finite differences; a flipped sign is caught.
#[test]
fn ddim_chain_vjp_passes_finite_differences() {
    let g = gpu();
    let model = UNet2DModel::load(&g, &fixture("tiny")).unwrap();
    let shape = [2, 1, 8, 8];
    let z = randn(5, 128);
    for (k, clip) in [(1, false), (3, false), (3, true)] {
        let chain = DdimChain::new(&model, k, clip).unwrap();
        let f = |x: &Tensor| chain.sample(x).unwrap();
        let grad = |x: &Tensor, u: &Tensor| {
            let (_, inputs) = chain.sample_saving(x).unwrap();
            chain.vjp(&inputs, u).unwrap()
        };
        let gap = fd_gap(&g, &shape, &z, &f, &grad);
        println!("DDIM chain K = {k}, clip {clip}: finite-difference gap {gap:.2e}");
        assert!(gap < TOL, "K = {k}, clip {clip}: VJP off by {gap:.3e}");
        let flipped = |x: &Tensor, u: &Tensor| tweedie::ops::scale(&grad(x, u), -1.0).unwrap();
        assert!(fd_gap(&g, &shape, &z, &f, &flipped) > TOL);
    }
}

/// Peak pool memory of the chain's gradient with K = 2 and 4 exceeds K = 1's by no more than K
/// inputs' worth (the stored inputs plus one cotangent in flight; measured: exactly 2 and 4 inputs
/// on [2, 1, 32, 32], 16 / 32 KiB over 4.8 MiB); the same gradient on one tape through all K passes
/// grows by whole passes of activations (measured 3.3x at K = 4), so the check can fail.
#[test]
fn ddim_chain_gradient_memory_grows_only_by_the_inputs() {
    let g = gpu();
    let model = UNet2DModel::load(&g, &fixture("tiny")).unwrap();
    let shape = [2, 1, 32, 32];
    let input_bytes = (shape.iter().product::<usize>() * 4) as u64;
    let z = Tensor::from_slice(&g, &shape, &randn(3, 2048)).unwrap();
    let u = Tensor::from_slice(&g, &shape, &randn(4, 2048)).unwrap();
    let peak = |k: usize, checkpoint: bool| -> u64 {
        let chain = DdimChain::new(&model, k, true).unwrap();
        g.synchronize().unwrap();
        g.reset_peak();
        let base = g.pool_stats().bytes_in_use;
        let grad = if checkpoint {
            let (_, inputs) = chain.sample_saving(&z).unwrap();
            chain.vjp(&inputs, &u).unwrap()
        } else {
            let zt = z.tracked();
            let mut x = zt.clone();
            for i in 0..k {
                x = chain.step(&x, i).unwrap();
            }
            tweedie::autograd::backward(&x, &u, &[&zt]).unwrap().remove(0)
        };
        drop(grad);
        g.synchronize().unwrap();
        g.pool_stats().peak_bytes - base
    };
    let ck: Vec<u64> = [1, 2, 4].iter().map(|&k| peak(k, true)).collect();
    let tape: Vec<u64> = [1, 4].iter().map(|&k| peak(k, false)).collect();
    println!(
        "peak bytes, checkpointed K = 1, 2, 4: {ck:?}; one tape K = 1, 4: {tape:?}; input {input_bytes}"
    );
    for (i, k) in [1u64, 2, 4].iter().enumerate() {
        let allowed = ck[0] + k * input_bytes;
        assert!(
            ck[i] <= allowed,
            "K = {k}: peak {} bytes, more than K = 1's {} plus {k} inputs",
            ck[i],
            ck[0]
        );
    }
    assert!(
        tape[1] > tape[0] + 3 * input_bytes + input_bytes,
        "one tape through 4 passes should hold far more than 4 inputs ({tape:?})"
    );
}

/// Blind RED-Diff's kernel gradient: `∇_φ ⟨u, A_φ x⟩` of the blind blur (the weight gradient of
/// the per-channel convolution, summed over batch and channels) against finite differences, on a
/// 3-channel batch of two; a flipped sign is caught.
#[test]
fn blind_blur_kernel_gradient_passes_finite_differences() {
    let g = gpu();
    let spec: tweedie::operators::TaskSpec = "deblur-blind:size=5".parse().unwrap();
    let op = tweedie::operators::build(&g, &spec, [3, 12, 10]).unwrap();
    let x = Tensor::from_slice(&g, &[2, 3, 12, 10], &randn(8, 720)).unwrap();
    let phi = randn(9, 25);
    let f = |k: &Tensor| op.forward_with(&x, k).unwrap();
    let grad = |k: &Tensor, u: &Tensor| {
        let kt = k.tracked();
        let y = op.forward_with(&x, &kt).unwrap();
        tweedie::autograd::backward(&y, u, &[&kt]).unwrap().remove(0)
    };
    let gap = fd_gap(&g, &[1, 1, 5, 5], &phi, &f, &grad);
    println!("blind blur kernel gradient: finite-difference gap {gap:.2e}");
    assert!(gap < TOL, "kernel gradient off by {gap:.3e}");
    let flipped = |k: &Tensor, u: &Tensor| tweedie::ops::scale(&grad(k, u), -1.0).unwrap();
    assert!(fd_gap(&g, &[1, 1, 5, 5], &phi, &f, &flipped) > TOL);
}
