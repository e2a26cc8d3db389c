//! The Winograd F(2x2, 3x3) convolutions of CPU adapters (`shaders/conv2d_winograd.wgsl`), forced
//! on (`Options::winograd`), against the f64 plain-Rust references: forward, input gradient (the
//! flipped-transpose convolution), and the whole layer's gradient by finite differences. Odd map
//! sizes (partial tiles), batch > 1, channel counts that are not multiples of 2, 4, 16 or 64 and
//! several 64 KiB windows of transformed weights each way.
//!
//! F(2x2, 3x3) (`TWEEDIE_WINOGRAD=on`) and F(4x4, 3x3) (`f4`) both. Tolerance (relative L2) of
//! F(2x2): 2e-5, twice the direct kernels' 1e-5 (tests/kernels.rs). Winograd adds
//! the rounding of the transforms to that of the sums: B^T d B forms sums of up to 4 inputs, the
//! weight transform (½ factors) sums of 9 taps, A^T m A sums of 9 products, so each output carries
//! a few more f32 roundings (about 6e-8 each) of terms up to ~4x the inputs' size; measured here:
//! at most 2.8e-7 forward and 3.2e-7 for the input gradient, so 2e-5 still fails on any indexing
//! mistake (errors near 1) while leaving room for other summation orders. On a GPU (`TWEEDIE_KERNELS=portable`)
//! Winograd never runs, which the test checks by the profiler's kernel names.

mod common;
use common::{options, randn};
use tweedie::gpu::{Options, Winograd};
use tweedie::ops::{self, Conv2dSpec, reference as r, reference_grad as rg};
use tweedie::{Gpu, Tensor};

const TOL: f64 = 2e-5;
/// F(4x4, 3x3) (`TWEEDIE_WINOGRAD=f4`): its transforms have coefficients up to 8 (A^T), 5 (B^T) and
/// 1/24 (G), so the rounding of each transformed value is amplified up to ~10x; measured 1.7e-6
/// forward and 1.6e-6 for the input gradient. 5e-5 keeps 30x margin and still fails on any indexing
/// mistake.
const TOL4: f64 = 5e-5;

fn open(winograd: Winograd) -> Gpu {
    Gpu::with_options(&Options {
        winograd,
        profile: true,
        ..options()
    })
    .unwrap_or_else(|e| panic!("tests need a GPU adapter (on CI: lavapipe): {e}"))
}

fn up(g: &Gpu, shape: &[usize], seed: u64) -> (Tensor, Vec<f32>) {
    let n: usize = shape.iter().product();
    let v = randn(seed, n);
    (Tensor::from_slice(g, shape, &v).unwrap(), v)
}

fn err(got: &Tensor, want: &[f32]) -> f64 {
    r::rel_l2(&got.to_vec().unwrap(), want)
}

/// Whether the profiler saw a Winograd product kernel since the last call (and clears it).
fn ran_winograd(g: &Gpu) -> bool {
    g.synchronize().unwrap();
    let (rows, _) = g.profile().unwrap();
    let ran = rows
        .iter()
        .any(|r| r.kernel.contains("conv2d_winograd.wgsl") && r.kernel.ends_with("_gemm") && r.calls > 0);
    g.reset_profile().unwrap();
    ran
}

/// (batch, cin, h, w, cout, padding)
type Case = (usize, usize, usize, usize, usize, [usize; 4]);

const CASES: &[Case] = &[
    (2, 3, 9, 7, 5, [1, 1, 1, 1]),     // odd sizes: partial tiles both ways
    (3, 17, 5, 11, 33, [1, 1, 1, 1]),  // cout over three 16-row windows, the last partial
    (2, 130, 7, 8, 20, [1, 1, 1, 1]),  // cin over three 64-channel windows; rows of whole vec4s
    (1, 2, 8, 8, 66, [0, 2, 1, 0]),    // asymmetric padding
    (2, 9, 1, 1, 7, [1, 1, 1, 1]),     // a 1x1 map
    (1, 64, 16, 16, 64, [1, 1, 1, 1]), // the prior's shape
    (2, 5, 6, 10, 1, [0, 0, 0, 0]),    // no padding: 4x8 outputs; one output channel
];

#[test]
fn winograd_forward_and_input_gradient_match_reference() {
    check_against_reference(Winograd::On, TOL);
}

#[test]
fn winograd_f4_forward_and_input_gradient_match_reference() {
    check_against_reference(Winograd::F4, TOL4);
}

fn check_against_reference(kind: Winograd, tol: f64) {
    let g = open(kind);
    let mut worst = (0.0f64, 0.0f64);
    for (i, &(n, cin, h, w, cout, pad)) in CASES.iter().enumerate() {
        let spec = Conv2dSpec { stride: 1, pad };
        let (x, xv) = up(&g, &[n, cin, h, w], 400 + i as u64);
        let (wt, wv) = up(&g, &[cout, cin, 3, 3], 410 + i as u64);
        let (b, bv) = up(&g, &[cout], 420 + i as u64);
        for bias in [true, false] {
            g.reset_profile().unwrap();
            let out = ops::conv2d(&x, &wt, bias.then_some(&b), spec).unwrap();
            let (want, shape) = r::conv2d(
                &xv,
                [n, cin, h, w],
                &wv,
                [cout, cin, 3, 3],
                bias.then_some(&bv[..]),
                spec,
            );
            assert_eq!(out.shape(), &shape[..]);
            let e = err(&out, &want);
            assert!(
                e <= tol,
                "{kind:?} forward case {i} bias {bias}: relative L2 error {e:.3e} > {tol:e}"
            );
            worst.0 = worst.0.max(e);
            assert_eq!(
                ran_winograd(&g),
                g.cpu_kernels(),
                "forward case {i}: Winograd ran"
            );
        }
        let (ho, wo) = spec.out_size(h, w, 3, 3).unwrap();
        let (dy, dyv) = up(&g, &[n, cout, ho, wo], 430 + i as u64);
        let (dx, _, _) = rg::conv2d_backward(&xv, [n, cin, h, w], &wv, [cout, cin, 3, 3], &dyv, spec);
        let got = ops::conv2d_backward_input(&dy, &wt, x.shape(), spec).unwrap();
        let e = err(&got, &dx);
        assert!(
            e <= tol,
            "{kind:?} input gradient case {i}: relative L2 error {e:.3e} > {tol:e}"
        );
        worst.1 = worst.1.max(e);
        assert_eq!(
            ran_winograd(&g),
            g.cpu_kernels(),
            "input gradient case {i}: Winograd ran"
        );
    }
    eprintln!(
        "{kind:?}: worst relative L2 error: forward {:.2e}, input gradient {:.2e}",
        worst.0, worst.1
    );
}

/// The layer's gradients (recorded forward, then backward) by central differences of a random
/// projection of the output, in f64 on the host from f32 forwards: Winograd's own forward and
/// backward must agree with each other.
#[test]
fn winograd_gradient_matches_finite_differences() {
    for kind in [Winograd::On, Winograd::F4] {
        gradient_by_finite_differences(kind);
    }
}

fn gradient_by_finite_differences(kind: Winograd) {
    let g = open(kind);
    let (n, cin, h, w, cout) = (2, 5, 7, 9, 6);
    let spec = Conv2dSpec::new(1, 1);
    let xv = randn(500, n * cin * h * w);
    let (wt, _) = up(&g, &[cout, cin, 3, 3], 501);
    let pv = randn(502, n * cout * h * w);
    let p = Tensor::from_slice(&g, &[n, cout, h, w], &pv).unwrap();
    let loss = |xs: &[f32]| -> f64 {
        let x = Tensor::from_slice(&g, &[n, cin, h, w], xs).unwrap();
        let y = ops::conv2d(&x, &wt, None, spec).unwrap().to_vec().unwrap();
        y.iter().zip(&pv).map(|(a, b)| *a as f64 * *b as f64).sum()
    };
    let x = Tensor::from_slice(&g, &[n, cin, h, w], &xv).unwrap();
    let dx = ops::conv2d_backward_input(&p, &wt, x.shape(), spec)
        .unwrap()
        .to_vec()
        .unwrap();
    // the loss is linear in x: the central difference is exact up to f32 rounding of the forwards
    let h_ = 0.5f32;
    let mut worst = 0.0f64;
    for k in (0..xv.len()).step_by(37) {
        let (mut a, mut b) = (xv.clone(), xv.clone());
        a[k] += h_;
        b[k] -= h_;
        let fd = (loss(&a) - loss(&b)) / (2.0 * h_ as f64);
        let scale = pv.iter().map(|v| v.abs() as f64).fold(0.0, f64::max) * 3.0;
        worst = worst.max((fd - dx[k] as f64).abs() / scale);
    }
    assert!(
        worst < 2e-3,
        "finite differences against the input gradient: {worst:.3e}"
    );
    assert_eq!(ran_winograd(&g), g.cpu_kernels());
}

/// `auto` and `off` agree with `on` within the tolerance, and `off` never runs Winograd.
#[test]
fn winograd_settings_agree() {
    let (n, cin, h, w, cout) = (2, 24, 13, 12, 40);
    let xv = randn(600, n * cin * h * w);
    let wv = randn(601, cout * cin * 9);
    let spec = Conv2dSpec::new(1, 1);
    let (want, _) = r::conv2d(&xv, [n, cin, h, w], &wv, [cout, cin, 3, 3], None, spec);
    for setting in [Winograd::Auto, Winograd::On, Winograd::F4, Winograd::Off] {
        let g = open(setting);
        let x = Tensor::from_slice(&g, &[n, cin, h, w], &xv).unwrap();
        let wt = Tensor::from_slice(&g, &[cout, cin, 3, 3], &wv).unwrap();
        g.reset_profile().unwrap();
        let e = err(&ops::conv2d(&x, &wt, None, spec).unwrap(), &want);
        assert!(e <= TOL4, "{setting:?}: relative L2 error {e:.3e}");
        if setting == Winograd::Off {
            assert!(!ran_winograd(&g), "TWEEDIE_WINOGRAD=off ran Winograd");
        }
    }
    assert!("sometimes".parse::<Winograd>().is_err());
}

/// The diffusers goldens (tests/unet_golden.rs, relative L2 1e-4) with every stride-1 3x3
/// convolution on Winograd: CI's default (`auto`) keeps the direct kernels, so this is where the
/// Winograd path meets whole models.
#[test]
fn goldens_hold_with_winograd() {
    for kind in [Winograd::On, Winograd::F4] {
        goldens(kind);
    }
}

fn goldens(kind: Winograd) {
    use tweedie::models::UNet2DModel;
    let g = open(kind);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let cases = [
        (
            "attn_heads",
            common::fixture("attn_heads"),
            "attn_heads/io.safetensors",
        ),
        (
            "odd_cifarlike",
            common::fixture("odd_cifarlike"),
            "odd_cifarlike/io.safetensors",
        ),
        (
            "multi_attn",
            common::fixture("multi_attn"),
            "multi_attn/io.safetensors",
        ),
        ("tiny", common::fixture("tiny"), "tiny/io.safetensors"),
        (
            "fmnist32",
            root.join("weights/fmnist32"),
            "fmnist32_io.safetensors",
        ),
    ];
    for (name, dir, io) in cases {
        let model = UNet2DModel::load(&g, &dir).unwrap();
        let io = tweedie::io::read_safetensors(&common::fixture(io)).unwrap();
        let x = &io["x"];
        let xt = Tensor::from_slice(&g, &x.shape, &x.data).unwrap();
        g.reset_profile().unwrap();
        let eps = model.forward_t(&xt, io["t"].data[0]).unwrap();
        let e = err(&eps, &io["eps"].data);
        println!("{name}: relative L2 error with Winograd {kind:?} {e:.3e}");
        assert!(e <= 1e-4, "{name}: relative L2 error {e:.3e} > 1e-4");
        assert_eq!(ran_winograd(&g), g.cpu_kernels(), "{name}: Winograd ran");
    }
}
