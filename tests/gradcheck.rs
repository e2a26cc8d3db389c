//! Gradient checks through the tape: central finite differences along random directions for every
//! differentiable op and for whole UNets, torch.autograd goldens for the fixture models, and proof
//! that the checks catch a wrong backward (a flipped sign, a dropped term).
//!
//! Finite-difference tolerance: inputs of unit scale, step h = 3e-3 along a random direction (FD_H
//! overrides it). The central difference has truncation error O(h^2): measured on the SiLU-fused group
//! norm (the most curved op here), the gap was 1.9e-2, 4.8e-3, 1.2e-3 and 4.0e-4 at h = 2e-2, 1e-2,
//! 5e-3 and 2.5e-3 — four times smaller per halving, so truncation, not a wrong gradient. Evaluating
//! <u, f(x ± h v)> from f32 outputs adds about 1e-7 * |u||f| / (2h), some 1e-5 relative. We accept
//! 2e-3 relative error between the directional derivative <VJP(u), v> and its finite difference; a
//! flipped sign gives 2, and the dropped terms tested below give far more than 2e-3.

mod common;
use common::{fixture, gpu, randn};
use tweedie::autograd;
use tweedie::models::UNet2DModel;
use tweedie::ops::{self, Conv2dSpec, MatmulSpec, reference::rel_l2};
use tweedie::{Gpu, Tensor};

const TOL: f64 = 2e-3;

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum()
}

/// Relative gap between the tape's directional derivative and central finite differences of `f`
/// at `inputs` along random directions (all inputs perturbed together). `sign` = -1 flips the
/// analytic side (a deliberately broken backward).
fn fd_gap(
    g: &Gpu,
    inputs: &[Vec<usize>],
    seed: u64,
    f: &dyn Fn(&[Tensor]) -> Tensor,
    sign: f64,
    skip: Option<&str>,
) -> f64 {
    fd_gap_with(g, inputs, seed, f, sign, skip, 3e-3, false)
}

/// [`fd_gap`] with step `h` (`FD_H` overrides it) and, with `fourth_order`, the five-point stencil
/// (f(x-2h) - 8 f(x-h) + 8 f(x+h) - f(x+2h)) / 12h: truncation O(h^4), so a larger step keeps the
/// f32 rounding of the forward passes small. Used for the whole UNet, where the rounding of its
/// outputs depends on each kernel path's summation order: with the three-point rule at h = 3e-3 the
/// gap moved between 8e-4 and 5e-3 over the kernel paths (h = 2e-2: truncation, 2.5e-3).
#[allow(clippy::too_many_arguments)]
fn fd_gap_with(
    g: &Gpu,
    inputs: &[Vec<usize>],
    seed: u64,
    f: &dyn Fn(&[Tensor]) -> Tensor,
    sign: f64,
    skip: Option<&str>,
    h: f32,
    fourth_order: bool,
) -> f64 {
    let xs: Vec<Vec<f32>> = inputs
        .iter()
        .enumerate()
        .map(|(i, s)| randn(seed + i as u64, s.iter().product()))
        .collect();
    let vs: Vec<Vec<f32>> = inputs
        .iter()
        .enumerate()
        .map(|(i, s)| randn(seed + 100 + i as u64, s.iter().product()))
        .collect();
    let up = |d: &[Vec<f32>], shift: f32| -> Vec<Tensor> {
        inputs
            .iter()
            .zip(d.iter().zip(&vs))
            .map(|(s, (x, v))| {
                let p: Vec<f32> = x.iter().zip(v).map(|(a, b)| a + shift * b).collect();
                Tensor::from_slice(g, s, &p).unwrap()
            })
            .collect()
    };
    let x0: Vec<Tensor> = up(&xs, 0.0).iter().map(|t| t.tracked()).collect();
    let y = f(&x0);
    let u = randn(seed + 200, y.numel());
    let ut = Tensor::from_slice(g, y.shape(), &u).unwrap();
    let refs: Vec<&Tensor> = x0.iter().collect();
    let grads = autograd::backward_skipping(&y, &ut, &refs, skip).unwrap();
    let analytic: f64 = sign
        * grads
            .iter()
            .zip(&vs)
            .map(|(gr, v)| dot(&gr.to_vec().unwrap(), v))
            .sum::<f64>();
    let h: f32 = std::env::var("FD_H")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(h);
    let at = |k: f32| dot(&f(&up(&xs, k * h)).to_vec().unwrap(), &u);
    let numeric = if fourth_order {
        (at(-2.0) - 8.0 * at(-1.0) + 8.0 * at(1.0) - at(2.0)) / (12.0 * h as f64)
    } else {
        (at(1.0) - at(-1.0)) / (2.0 * h as f64)
    };
    (analytic - numeric).abs() / analytic.abs().max(numeric.abs()).max(1e-12)
}

fn check(name: &str, inputs: &[Vec<usize>], f: &dyn Fn(&[Tensor]) -> Tensor) {
    let g = gpu();
    let gap = fd_gap(&g, inputs, 7, f, 1.0, None);
    println!("{name}: finite-difference gap {gap:.2e}");
    assert!(
        gap < TOL,
        "{name}: gradient disagrees with finite differences ({gap:.3e})"
    );
    let flipped = fd_gap(&g, inputs, 7, f, -1.0, None);
    assert!(
        flipped > TOL,
        "{name}: a flipped sign went unnoticed ({flipped:.3e})"
    );
}

#[test]
fn conv2d_gradients_pass_finite_differences() {
    for (s, pad) in [(1, [1, 1, 1, 1]), (2, [0, 1, 0, 1])] {
        check("conv2d", &[vec![2, 3, 8, 6], vec![5, 3, 3, 3], vec![5]], &|x| {
            ops::conv2d(&x[0], &x[1], Some(&x[2]), Conv2dSpec { stride: s, pad }).unwrap()
        });
    }
}

#[test]
fn matmul_and_linear_gradients_pass_finite_differences() {
    check(
        "matmul transposed operands",
        &[vec![2 * 7 * 5], vec![2 * 5 * 9], vec![9]],
        &|x| {
            let spec = MatmulSpec {
                batch: 2,
                m: 7,
                n: 9,
                k: 5,
                a_strides: [35, 1, 7],
                b_strides: [45, 1, 5],
                alpha: 0.8,
            };
            ops::matmul(&x[0], &x[1], Some(&x[2]), spec).unwrap()
        },
    );
    check("linear", &[vec![3, 10], vec![4, 10], vec![4]], &|x| {
        ops::linear(&x[0], &x[1], Some(&x[2])).unwrap()
    });
}

#[test]
fn norm_and_softmax_gradients_pass_finite_differences() {
    for silu in [false, true] {
        check("group_norm", &[vec![2, 6, 4, 3], vec![6], vec![6]], &|x| {
            ops::group_norm(&x[0], &x[1], &x[2], 3, 1e-5, silu).unwrap()
        });
    }
    check("softmax", &[vec![4, 13]], &|x| {
        ops::softmax_rows(&x[0], 0.9).unwrap()
    });
    let spec = ops::AttentionSpec {
        bh: 3,
        d: 6,
        hw: 11,
        alpha: 0.7,
    };
    let s = vec![3, 6, 11];
    check("attention", &[s.clone(), s.clone(), s], &|x| {
        ops::attention(&x[0], &x[1], &x[2], spec).unwrap()
    });
}

#[test]
fn elementwise_and_layout_gradients_pass_finite_differences() {
    check("silu", &[vec![40]], &|x| ops::silu(&x[0]).unwrap());
    check("axpby", &[vec![30], vec![30]], &|x| {
        ops::axpby(0.3, &x[0], -1.2, &x[1]).unwrap()
    });
    check("affine", &[vec![30]], &|x| ops::affine(&x[0], 1.7, 0.2).unwrap());
    check("add_bcast", &[vec![2, 3, 4, 4], vec![2, 3]], &|x| {
        ops::add_bcast(&x[0], 0.5, &x[1]).unwrap()
    });
    check("concat", &[vec![2, 3, 2, 2], vec![2, 1, 2, 2]], &|x| {
        ops::concat_channels(&x[0], &x[1]).unwrap()
    });
    check("upsample", &[vec![1, 2, 3, 3]], &|x| {
        ops::upsample_nearest2x(&x[0]).unwrap()
    });
    check("sum_rows", &[vec![3, 20]], &|x| ops::sum_rows(&x[0], 3).unwrap());
    check("sumsq_rows", &[vec![3, 20]], &|x| {
        ops::sumsq_rows(&x[0], 3).unwrap()
    });
    check("clamp", &[vec![40]], &|x| ops::clamp(&x[0], -0.8, 0.8).unwrap());
    check("film", &[vec![2, 3, 4, 5], vec![2, 6]], &|x| {
        ops::film(&x[0], &x[1]).unwrap()
    });
    check("avg_pool2x", &[vec![2, 3, 4, 6]], &|x| {
        ops::avg_pool2x(&x[0]).unwrap()
    });
    check("narrow_channels", &[vec![2, 5, 3, 3]], &|x| {
        ops::narrow_channels(&x[0], 1, 3).unwrap()
    });
}

/// The FFT ops and the nonlinear forward models built from them: the 2-D FFT and its inverse
/// (unitary: the backward is the other one), padding into a complex tensor and its crop, |z|, and
/// whole phase-retrieval and HDR forward maps (`|F(P x)|`, `clip(2 x, -1, 1)`).
#[test]
fn fft_and_nonlinear_operator_gradients_pass_finite_differences() {
    check("fft2", &[vec![2, 8, 16, 2]], &|x| {
        ops::fft2(&x[0], false).unwrap()
    });
    check("ifft2", &[vec![1, 16, 8, 2]], &|x| {
        ops::fft2(&x[0], true).unwrap()
    });
    check("embed_complex", &[vec![2, 3, 5]], &|x| {
        ops::embed_complex(&x[0], 8, 8).unwrap()
    });
    check("crop_real", &[vec![2, 8, 4, 2]], &|x| {
        ops::crop_real(&x[0], 5, 3).unwrap()
    });
    check("cabs", &[vec![30, 2]], &|x| ops::cabs(&x[0]).unwrap());
    // |z| curves like 1/|z|: on a 4x4 image padded to 8x8, where some frequencies are small, the
    // gap was 1.5e-3 at h = 3e-3 and 5.4e-4 at 1e-3 (truncation); on 8x8 padded to 16x16 it is
    // 6e-5
    check("phase retrieval", &[vec![2, 1, 8, 8]], &|x| {
        ops::cabs(&ops::fft2(&ops::embed_complex(&x[0], 16, 16).unwrap(), false).unwrap()).unwrap()
    });
    check("hdr", &[vec![2, 1, 4, 4]], &|x| {
        ops::clamp(&ops::scale(&x[0], 2.0).unwrap(), -1.0, 1.0).unwrap()
    });
}

fn load(name: &str) -> (Gpu, UNet2DModel, tweedie::io::HostTensor, f32) {
    let g = gpu();
    let m = UNet2DModel::load(&g, &fixture(name)).unwrap();
    let io = tweedie::io::read_safetensors(&fixture(&format!("{name}/io.safetensors"))).unwrap();
    let t = io["t"].data[0];
    (g, m, io["x"].clone(), t)
}

#[test]
fn unet_vjp_passes_finite_differences_and_catches_broken_variants() {
    let (g, m, x, t) = load("attn_heads");
    let tt = Tensor::full(&g, &[x.shape[0]], t).unwrap();
    let f = |xs: &[Tensor]| m.forward(&xs[0], &tt).unwrap();
    let gap = fd_gap_with(&g, std::slice::from_ref(&x.shape), 11, &f, 1.0, None, 1e-2, true);
    println!("whole UNet: finite-difference gap {gap:.2e}");
    assert!(gap < TOL, "UNet VJP disagrees with finite differences: {gap:.3e}");
    let flipped = fd_gap(&g, std::slice::from_ref(&x.shape), 11, &f, -1.0, None);
    assert!(flipped > 1.0, "flipped sign: {flipped:.3e}");
    // dropped terms: the attention's softmax path (on CPU adapters the fused attention, which has
    // no softmax node), the group norms
    let attention = if g.cpu_kernels() { "attention" } else { "softmax" };
    for skip in [attention, "group_norm"] {
        let gap = fd_gap(&g, std::slice::from_ref(&x.shape), 11, &f, 1.0, Some(skip));
        println!("UNet with the {skip} backward dropped: gap {gap:.2e}");
        assert!(
            gap > TOL,
            "dropping the {skip} backward went unnoticed ({gap:.3e})"
        );
    }
}

fn torch_golden(name: &str) {
    let (g, m, x, t) = load(name);
    let io = tweedie::io::read_safetensors(&fixture(&format!("{name}/io.safetensors"))).unwrap();
    let xt = Tensor::from_slice(&g, &x.shape, &x.data).unwrap();
    let v = Tensor::from_slice(&g, &io["v"].shape, &io["v"].data).unwrap();
    let tt = Tensor::full(&g, &[x.shape[0]], t).unwrap();
    // twice: the second pass reuses the layers' packed weights and their flipped packings (CPU
    // adapters), which the first made
    for pass in 0..2 {
        let (eps, vjp) = m.forward_vjp(&xt, &tt, &v).unwrap();
        let e1 = rel_l2(&eps.to_vec().unwrap(), &io["eps"].data);
        let e2 = rel_l2(&vjp.to_vec().unwrap(), &io["vjp"].data);
        println!("{name} pass {pass}: eps error {e1:.2e}, vjp error {e2:.2e} (torch.autograd, float64)");
        assert!(
            e1 <= 1e-4 && e2 <= 1e-4,
            "{name} pass {pass}: eps {e1:.3e} vjp {e2:.3e}"
        );
    }
}

#[test]
fn vjp_matches_torch_autograd_attn_heads() {
    torch_golden("attn_heads");
}

#[test]
fn vjp_matches_torch_autograd_odd_cifarlike() {
    torch_golden("odd_cifarlike");
}

#[test]
fn vjp_matches_torch_autograd_multi_attn() {
    torch_golden("multi_attn");
}

#[test]
fn plain_forward_records_nothing_and_backward_frees_saved_tensors() {
    let (g, m, x, t) = load("attn_heads");
    let xt = Tensor::from_slice(&g, &x.shape, &x.data).unwrap();
    let tt = Tensor::full(&g, &[x.shape[0]], t).unwrap();
    // warm the pool with one plain forward
    drop(m.forward(&xt, &tt).unwrap().to_vec().unwrap());
    let idle = g.pool_stats().bytes_in_use;
    let eps = m.forward(&xt, &tt).unwrap();
    assert!(!eps.is_tracked(), "nothing tracked: nothing recorded");
    assert_eq!(autograd::graph_len(&eps), 0);
    drop(eps);
    let v = Tensor::full(&g, &[x.shape[0], 3, 16, 16], 0.1).unwrap();
    let (eps, vjp) = m.forward_vjp(&xt, &tt, &v).unwrap();
    drop((eps, vjp, v));
    assert_eq!(
        g.pool_stats().bytes_in_use,
        idle,
        "saved tensors stayed out of the pool"
    );
}
