//! Every forward kernel against its plain-Rust reference (f64 accumulation) on random inputs, for
//! several shapes including odd ones. Tolerances (relative L2): elementwise 1e-6 — f32 rounding of one
//! or two operations (about 6e-8 each) with margin; reductions, norms, matrix products and convolutions
//! 1e-5 — sums of up to a few thousand f32 products, whose rounding error grows like sqrt(K) * 6e-8;
//! the DESIGN bound is 1e-4, and we hold the kernels to ten times better.

mod common;
use common::{gpu, randn};
use tweedie::ops::{self, Conv2dSpec, MatmulSpec, reference as r};
use tweedie::{Gpu, Tensor};

fn up(g: &Gpu, shape: &[usize], seed: u64) -> (Tensor, Vec<f32>) {
    let n: usize = shape.iter().product();
    let v = randn(seed, n);
    (Tensor::from_slice(g, shape, &v).unwrap(), v)
}

fn close(got: &Tensor, want: &[f32], tol: f64, what: &str) {
    let g = got.to_vec().unwrap();
    let e = r::rel_l2(&g, want);
    assert!(e <= tol, "{what}: relative L2 error {e:.3e} > {tol:e}");
}

/// (batch, cin, h, w, cout, kernel, stride, padding)
type ConvCase = (usize, usize, usize, usize, usize, usize, usize, [usize; 4]);

#[test]
fn conv2d_matches_reference() {
    let g = gpu();
    // (n, cin, h, w, cout, k, stride, pad)
    let cases: &[ConvCase] = &[
        (2, 3, 9, 7, 5, 3, 1, [1, 1, 1, 1]),
        (1, 17, 16, 16, 70, 3, 2, [0, 1, 0, 1]), // diffusers' asymmetric downsample
        (3, 8, 12, 10, 8, 3, 2, [1, 1, 1, 1]),
        (2, 21, 5, 6, 15, 1, 1, [0, 0, 0, 0]),
        (1, 4, 11, 13, 3, 5, 1, [2, 2, 2, 2]),
        (1, 2, 8, 8, 66, 3, 1, [0, 2, 1, 0]),
        (2, 24, 8, 8, 24, 3, 1, [1, 1, 1, 1]), // cout 17..32: the 32-row tile
        (2, 9, 10, 12, 1, 3, 1, [1, 1, 1, 1]), // cout <= 4: the 4-row direct kernel on CPU adapters
        (1, 600, 6, 9, 3, 3, 1, [1, 1, 1, 1]), // ... over two windows of input channels
        // stride 2 on rows of whole vec4s (the direct stride-2 kernel's vec4 access on CPU adapters)
        (2, 8, 16, 16, 40, 3, 2, [1, 1, 1, 1]),
        (1, 70, 8, 8, 36, 3, 2, [1, 1, 1, 1]),
        (1, 5, 7, 9, 6, 3, 2, [1, 1, 1, 1]), // odd sizes: its scalar access
        // rows of whole vec4s (the vec4 output access on CPU adapters) over several windows
        (1, 80, 6, 8, 64, 3, 1, [1, 1, 1, 1]),
        (1, 300, 4, 12, 40, 1, 1, [0, 0, 0, 0]),
        (1, 16, 6, 6, 130, 3, 1, [1, 1, 1, 1]), // cout > 128: several row tiles
        // CPU adapters' direct kernel: 2 output x 3 input chunks of weights, odd sizes
        (2, 40, 7, 9, 100, 3, 1, [1, 1, 1, 1]),
        // and its 1x1 kernel: input channels not a multiple of four, in two chunks
        (1, 173, 5, 11, 70, 1, 1, [0, 0, 0, 0]),
    ];
    for (i, &(n, cin, h, w, cout, k, s, pad)) in cases.iter().enumerate() {
        let (x, xv) = up(&g, &[n, cin, h, w], 10 + i as u64);
        let (wt, wv) = up(&g, &[cout, cin, k, k], 20 + i as u64);
        let (b, bv) = up(&g, &[cout], 30 + i as u64);
        let spec = Conv2dSpec { stride: s, pad };
        for bias in [true, false] {
            let out = ops::conv2d(&x, &wt, bias.then_some(&b), spec).unwrap();
            let (want, shape) = r::conv2d(
                &xv,
                [n, cin, h, w],
                &wv,
                [cout, cin, k, k],
                bias.then_some(&bv[..]),
                spec,
            );
            assert_eq!(out.shape(), &shape[..]);
            close(&out, &want, 1e-5, &format!("conv case {i} bias {bias}"));
        }
    }
}

#[test]
fn matmul_matches_reference_with_strides() {
    let g = gpu();
    for (i, &(batch, m, n, k)) in [
        (1, 1, 1, 1),
        (2, 65, 70, 33),
        (3, 7, 130, 129),
        (1, 128, 64, 16),
        (2, 24, 600, 40),
        (4, 8, 520, 300),
        (1, 150, 260, 9),
        // CPU adapters' exact tiles: 8 x 64 (full and partial) and 64 x 64
        (70, 8, 64, 300),
        (9, 7, 50, 2000),
        (20, 64, 64, 40),
        (5, 33, 61, 700),
    ]
    .iter()
    .enumerate()
    {
        let (a, av) = up(&g, &[batch * m * k], 40 + i as u64);
        let (b, bv) = up(&g, &[batch * k * n], 50 + i as u64);
        let (bias, biasv) = up(&g, &[n], 60 + i as u64);
        // every mix of contiguous and transposed (through strides) operands, as attention uses them
        let c = MatmulSpec::contiguous(batch, m, n, k);
        let specs = [
            c,
            MatmulSpec {
                a_strides: [m * k, 1, m],
                b_strides: [k * n, 1, k],
                alpha: 0.37,
                ..c
            },
            MatmulSpec {
                a_strides: [m * k, 1, m],
                ..c
            },
            MatmulSpec {
                b_strides: [k * n, 1, k],
                alpha: -1.3,
                ..c
            },
        ];
        for (j, spec) in specs.iter().enumerate() {
            let out = ops::matmul(&a, &b, Some(&bias), *spec).unwrap();
            let want = r::matmul(&av, &bv, Some(&biasv), *spec);
            close(&out, &want, 1e-5, &format!("matmul case {i} spec {j}"));
        }
    }
}

#[test]
fn linear_matches_reference() {
    let g = gpu();
    let (x, xv) = up(&g, &[3, 37], 1);
    let (w, wv) = up(&g, &[50, 37], 2);
    let (b, bv) = up(&g, &[50], 3);
    let out = ops::linear(&x, &w, Some(&b)).unwrap();
    assert_eq!(out.shape(), &[3, 50]);
    let spec = MatmulSpec {
        batch: 1,
        m: 3,
        n: 50,
        k: 37,
        a_strides: [0, 37, 1],
        b_strides: [0, 1, 37],
        alpha: 1.0,
    };
    close(&out, &r::matmul(&xv, &wv, Some(&bv), spec), 1e-5, "linear");
}

#[test]
fn group_norm_matches_reference() {
    let g = gpu();
    for (i, &(n, c, h, w, groups)) in [
        (2, 8, 5, 7, 4),
        (1, 15, 24, 20, 3),
        (3, 64, 4, 4, 32),
        (1, 6, 1, 1, 2),
        (1, 4, 64, 64, 1), // 4096 vec4s a group: 64 loop steps an invocation (CPU adapters)
    ]
    .iter()
    .enumerate()
    {
        let (x, xv) = up(&g, &[n, c, h, w], 70 + i as u64);
        let xv: Vec<f32> = xv.iter().map(|v| 3.0 * v + 1.5).collect(); // a non-zero mean
        let x2 = Tensor::from_slice(&g, x.shape(), &xv).unwrap();
        let (ga, gav) = up(&g, &[c], 80 + i as u64);
        let (be, bev) = up(&g, &[c], 90 + i as u64);
        for silu in [false, true] {
            let out = ops::group_norm(&x2, &ga, &be, groups, 1e-5, silu).unwrap();
            let want = r::group_norm(&xv, n, c, &gav, &bev, groups, 1e-5, silu);
            close(&out, &want, 1e-5, &format!("group norm case {i} silu {silu}"));
        }
    }
}

#[test]
fn softmax_and_reductions_match_reference() {
    let g = gpu();
    for (i, &(rows, len)) in [(1, 1), (5, 300), (64, 64), (3, 1000)].iter().enumerate() {
        let (x, xv) = up(&g, &[rows, len], 100 + i as u64);
        close(
            &ops::softmax_rows(&x, 0.7).unwrap(),
            &r::softmax_rows(&xv, len, 0.7),
            1e-5,
            "softmax",
        );
        close(
            &ops::sum_rows(&x, rows).unwrap(),
            &r::row_sums(&xv, rows, false),
            1e-5,
            "sum_rows",
        );
        close(
            &ops::sumsq_rows(&x, rows).unwrap(),
            &r::row_sums(&xv, rows, true),
            1e-5,
            "sumsq_rows",
        );
    }
}

/// The device-side checks that spare a readback: `flag_nonfinite` against a host scan (random
/// values with a NaN, +inf or -inf planted at random places, and none; the first failure's code is
/// kept), `argmin_runs` against a host argmin over runs (random values, a non-finite value never
/// chosen, run 0 when none is finite).
#[test]
fn device_checks_match_reference() {
    let g = gpu();
    for (i, n) in [1usize, 255, 256, 257, 3000, 70_000].into_iter().enumerate() {
        let (_, mut xv) = up(&g, &[n], 500 + i as u64);
        let flag = Tensor::from_slice(&g, &[1], &[0.0]).unwrap();
        let clean = Tensor::from_slice(&g, &[n], &xv).unwrap();
        ops::flag_nonfinite(&clean, &flag, 3).unwrap();
        assert_eq!(flag.to_vec().unwrap(), vec![0.0], "n {n}: finite values flagged");
        for (k, bad) in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY]
            .into_iter()
            .enumerate()
        {
            let at = (xv[0].to_bits() as usize + 7919 * k) % n;
            let old = xv[at];
            xv[at] = bad;
            let t = Tensor::from_slice(&g, &[n], &xv).unwrap();
            let flag = Tensor::from_slice(&g, &[1], &[0.0]).unwrap();
            ops::flag_nonfinite(&t, &flag, 5 + k as u32).unwrap();
            ops::flag_nonfinite(&t, &flag, 99).unwrap(); // the first failure is kept
            ops::flag_nonfinite(&clean, &flag, 98).unwrap();
            assert_eq!(
                flag.to_vec().unwrap(),
                vec![5.0 + k as f32],
                "n {n}: {bad} at {at}"
            );
            xv[at] = old;
        }
    }
    let flag = Tensor::from_slice(&g, &[1], &[0.0]).unwrap();
    let x = Tensor::from_slice(&g, &[3], &[0.0; 3]).unwrap();
    assert!(ops::flag_nonfinite(&x, &flag, 0).is_err(), "code 0 is no failure");
    assert!(ops::flag_nonfinite(&x, &x, 1).is_err(), "a flag is one value");

    for (i, (runs, rows)) in [(1usize, 1usize), (4, 3), (7, 300)].into_iter().enumerate() {
        let (_, mut v) = up(&g, &[runs * rows], 600 + i as u64);
        if runs > 1 && rows > 1 {
            v[rows + 1] = f32::NAN; // run 1, observation 1: never the choice
            v[(runs - 1) * rows + 1] = f32::NEG_INFINITY; // nor is -inf
            for r in 0..runs {
                v[r * rows] = f32::NAN; // observation 0: nothing finite, so run 0
            }
        }
        let t = Tensor::from_slice(&g, &[runs * rows], &v).unwrap();
        let got = ops::argmin_runs(&t, rows).unwrap().to_vec().unwrap();
        let want: Vec<f32> = (0..rows)
            .map(|j| {
                let best = (0..runs)
                    .filter(|&r| v[r * rows + j].is_finite())
                    .min_by(|&a, &b| v[a * rows + j].total_cmp(&v[b * rows + j]))
                    .unwrap_or(0);
                (best * rows + j) as f32
            })
            .collect();
        assert_eq!(got, want, "{runs} runs of {rows}");
    }
    let t = Tensor::from_slice(&g, &[5], &[1.0; 5]).unwrap();
    assert!(
        ops::argmin_runs(&t, 2).is_err(),
        "5 values are no whole number of runs of 2"
    );
}

#[test]
fn elementwise_match_reference() {
    let g = gpu();
    // pixels per channel of 35 (scalar kernels) and 24 (vec4 forms on CPU adapters)
    for (k, shape) in [[2, 3, 5, 7], [2, 4, 4, 6]].into_iter().enumerate() {
        let seed = 300 + 10 * k as u64;
        let (x, xv) = up(&g, &shape, seed);
        let (y, yv) = up(&g, &shape, seed + 1);
        let inner = shape[2] * shape[3];
        let want: Vec<f32> = xv.iter().zip(&yv).map(|(a, b)| 0.3 * a - 1.7 * b).collect();
        close(&ops::axpby(0.3, &x, -1.7, &y).unwrap(), &want, 1e-6, "axpby");
        let want: Vec<f32> = xv.iter().map(|a| 2.0 * a - 1.0).collect();
        close(&ops::affine(&x, 2.0, -1.0).unwrap(), &want, 1e-6, "affine");
        close(&ops::silu(&x).unwrap(), &r::silu(&xv), 1e-6, "silu");
        let (t, tv) = up(&g, &shape[..2], seed + 2);
        close(
            &ops::add_bcast(&x, 0.5, &t).unwrap(),
            &r::add_bcast(&xv, 0.5, &tv, inner),
            1e-6,
            "add_bcast",
        );
        let (z, zv) = up(&g, &[2, 4, shape[2], shape[3]], seed + 3);
        close(
            &ops::concat_channels(&x, &z).unwrap(),
            &r::concat_channels(&xv, shape[1], &zv, 4, 2, inner),
            0.0,
            "concat",
        );
    }
    let (x, xv) = up(&g, &[2, 3, 5, 7], 200);
    let (z, zv) = up(&g, &[2, 4, 5, 7], 203);
    close(
        &ops::upsample_nearest2x(&x).unwrap(),
        &r::upsample_nearest2x(&xv, 6, 5, 7),
        0.0,
        "upsample",
    );
    let (ss, ssv) = up(&g, &[2, 6], 204);
    close(
        &ops::film(&x, &ss).unwrap(),
        &r::film(&xv, &ssv, 2, 3),
        1e-6,
        "film",
    );
    let (p, pv) = up(&g, &[2, 3, 6, 8], 205);
    close(
        &ops::avg_pool2x(&p).unwrap(),
        &r::avg_pool2x(&pv, 6, 6, 8),
        1e-6,
        "avg_pool2x",
    );
    close(
        &ops::narrow_channels(&z, 1, 2).unwrap(),
        &zv.chunks(35)
            .enumerate()
            .filter(|(i, _)| (1..3).contains(&(i % 4)))
            .flat_map(|(_, c)| c.to_vec())
            .collect::<Vec<_>>(),
        0.0,
        "narrow_channels",
    );
    let f = Tensor::full(&g, &[3, 333], 2.5).unwrap();
    assert!(f.to_vec().unwrap().iter().all(|&v| v == 2.5));
}

#[test]
fn timestep_embedding_matches_f64_formula() {
    // Large timesteps are where a naive f32 phase loses accuracy; the split table keeps it.
    let g = gpu();
    let ts = [0.0f32, 1.0, 37.0, 250.0, 999.0, 4000.0];
    let t = Tensor::from_slice(&g, &[ts.len()], &ts).unwrap();
    for (dim, flip, shift) in [
        (32, true, 0.0),
        (15, false, 1.0),
        (128, false, 1.0),
        (64, true, 1.0),
        // no frequency: all zero padding, as diffusers' (a UNet whose first block has 1 channel)
        (1, true, 1.0),
    ] {
        let table = ops::timestep_freq_table(dim, shift);
        let tab = Tensor::from_slice(&g, &[table.len()], &table).unwrap();
        let out = ops::timestep_embedding(&t, &tab, dim, flip)
            .unwrap()
            .to_vec()
            .unwrap();
        let want = r::timestep_embedding(&ts, dim, flip, shift);
        let max = out
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        // |sin| <= 1: an absolute bound; 1e-5 is what f32 sin/cos of a reduced phase can promise
        assert!(
            max < 1e-5,
            "dim {dim} flip {flip} shift {shift}: max abs error {max:e}"
        );
    }
}

#[test]
fn shape_errors_are_errors_not_panics() {
    let g = gpu();
    let (x, _) = up(&g, &[1, 3, 8, 8], 1);
    let (w, _) = up(&g, &[4, 2, 3, 3], 2);
    assert!(ops::conv2d(&x, &w, None, Conv2dSpec::new(1, 1)).is_err());
    let (y, _) = up(&g, &[1, 3, 8, 9], 3);
    assert!(ops::add(&x, &y).is_err());
    assert!(ops::group_norm(&x, &w, &w, 2, 1e-5, false).is_err());
}

/// The spectral-solver updates (DDRM, DDNM / DDNM+, the ΠGDM gain) against their f64 references, with
/// singular values that put coordinates in every branch: zero (unseen), below and above the noise
/// crossover σ_y / σ. Tolerance 1e-6: a dozen f32 operations per element.
#[test]
fn spectral_updates_match_reference() {
    let g = gpu();
    let shape = [3, 2, 9, 11];
    let inner = 2 * 9 * 11;
    let (x0, x0v) = up(&g, &shape, 300);
    let (uty, utyv) = up(&g, &shape, 301);
    let (eb, ebv) = up(&g, &shape, 302);
    let (z, zv) = up(&g, &shape, 303);
    let sv: Vec<f32> = randn(304, inner)
        .iter()
        .enumerate()
        .map(|(i, v)| if i % 5 == 0 { 0.0 } else { v.abs() * 0.3 })
        .collect();
    let s = Tensor::from_slice(&g, &[inner], &sv).unwrap();
    let sp = ops::Spectral {
        x0: &x0,
        uty: &uty,
        ebar: &eb,
        z: &z,
        s: &s,
    };
    let (mut below, mut above) = (0, 0);
    for (sigma_next, sigma_y, init) in [
        (0.8, 0.05, false),
        (0.3, 0.05, true),
        (0.0, 0.0, false),
        (2.0, 0.0, false),
    ] {
        below += sv
            .iter()
            .filter(|&&v| v > 0.0 && (v as f64) * sigma_next < sigma_y)
            .count();
        above += sv
            .iter()
            .filter(|&&v| v > 0.0 && (v as f64) * sigma_next > sigma_y)
            .count();
        let st = tweedie::solvers::spectral::DdrmStep {
            sigma_next,
            sigma_y,
            eta: 0.85,
            eta_b: 0.7,
            scale: 0.9,
            init,
        };
        close(
            &tweedie::solvers::spectral::ddrm_step(&sp, &st).unwrap(),
            &tweedie::solvers::spectral::reference::ddrm_step(&x0v, &utyv, &ebv, &zv, &sv, &st),
            1e-6,
            &format!("ddrm {st:?}"),
        );
    }
    assert!(below > 10 && above > 10, "both noise regimes exercised");
    for (a, sigma_t, sigma_y, plus) in [
        (0.6, 0.8, 0.05, true),
        (0.99, 0.1, 0.2, true),
        (0.6, 0.8, 0.05, false),
    ] {
        let st = tweedie::solvers::spectral::DdnmStep {
            a,
            sigma_t,
            sigma_y,
            eta: 0.85,
            plus,
        };
        close(
            &tweedie::solvers::spectral::ddnm_step(&sp, &st).unwrap(),
            &tweedie::solvers::spectral::reference::ddnm_step(&x0v, &utyv, &ebv, &zv, &sv, &st),
            1e-6,
            &format!("ddnm {st:?}"),
        );
    }
    for c in [0.0, 0.01] {
        close(
            &ops::spectral_gain(&x0, &s, c).unwrap(),
            &r::spectral_gain(&x0v, &sv, c),
            1e-6,
            "gain",
        );
    }
    // wrong shapes are errors
    let sp_bad = ops::Spectral { z: &s, ..sp };
    assert!(
        tweedie::solvers::spectral::ddrm_step(
            &sp_bad,
            &tweedie::solvers::spectral::DdrmStep {
                sigma_next: 1.0,
                sigma_y: 0.0,
                eta: 0.0,
                eta_b: 1.0,
                scale: 1.0,
                init: false
            }
        )
        .is_err()
    );
}

/// The fused Adam kernel against Adam in f64 over six steps with fresh random gradients (an odd
/// length, and gradients scaled 1e-3 and 1e3 so that both the ε-dominated and the ratio-dominated
/// regimes run). Tolerance: max |Δx| ≤ 1e-5 · lr per step taken — each step moves x by at most
/// about lr, and the f32 update is a handful of roundings (~1e-7 relative each) of that move plus the
/// rounding of x itself (x ~ N(0, 1): ulp ≈ 2.4e-7 below 4), so 1e-5 · lr · 6 = 6e-7 for lr = 1e-2
/// holds with margin above the ~2e-7 of one rounding of x.
#[test]
fn adam_matches_reference() {
    let g = gpu();
    for (scale, seed) in [(1.0f32, 1u64), (1e-3, 2), (1e3, 3)] {
        let n = 1037;
        let (x, x0) = up(&g, &[n], seed);
        let lr = 1e-2;
        let mut adam = ops::Adam::new(&g, &[n], lr).unwrap();
        let grads: Vec<Vec<f32>> = (0..6)
            .map(|k| randn(seed * 100 + k, n).iter().map(|v| v * scale).collect())
            .collect();
        for gr in &grads {
            let gt = Tensor::from_slice(&g, &[n], gr).unwrap();
            adam.step(&x, &gt).unwrap();
        }
        let want = r::adam(&x0, &grads, lr as f64, 0.9, 0.999, 1e-8);
        let got = x.to_vec().unwrap();
        let err = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (*a as f64 - b).abs())
            .fold(0.0, f64::max);
        let moved = x0
            .iter()
            .zip(&want)
            .map(|(a, b)| (*a as f64 - b).abs())
            .fold(0.0, f64::max);
        assert!(moved > 1e-3, "scale {scale}: Adam did not move x ({moved})");
        assert!(err <= 1e-5 * lr as f64 * 6.0, "scale {scale}: max |dx| {err:.2e}");
    }
    let mut adam = ops::Adam::new(&g, &[4], 0.1).unwrap();
    let x = Tensor::full(&g, &[5], 0.0).unwrap();
    assert!(adam.step(&x, &x).is_err());
    assert!(ops::Adam::new(&g, &[4], f32::NAN).is_err());
}

/// The simplex projection of a blur kernel estimate against the sorting reference, on rows of
/// random values at three scales (mostly zeroed, a few kept, all kept) and lengths up to beyond a
/// workgroup. Bisection to f32 resolution: 1e-5 absolute (values are at most 1).
#[test]
fn simplex_projection_matches_reference() {
    let g = gpu();
    for (n, rows, scale, seed) in [
        (81usize, 3usize, 1.0f32, 1u64),
        (961, 1, 0.01, 2),
        (5, 2, 10.0, 3),
    ] {
        let v: Vec<f32> = randn(seed, n * rows).iter().map(|x| x * scale).collect();
        let k = Tensor::from_slice(&g, &[rows, n], &v).unwrap();
        ops::project_simplex(&k, rows).unwrap();
        let got = k.to_vec().unwrap();
        for r in 0..rows {
            let want = ops::reference::project_simplex(&v[r * n..(r + 1) * n]);
            let err = want
                .iter()
                .zip(&got[r * n..(r + 1) * n])
                .map(|(a, b)| (a - *b as f64).abs())
                .fold(0.0, f64::max);
            let sum: f64 = got[r * n..(r + 1) * n].iter().map(|&x| x as f64).sum();
            println!("simplex n = {n}, scale {scale}: max error {err:.2e}, sum {sum:.7}");
            assert!(err < 1e-5, "row {r} of {n}: error {err:.3e}");
            assert!((sum - 1.0).abs() < 1e-4);
        }
    }
}

/// Batched conjugate gradients against a direct solve: `M v = Aᵀ(A v) + 0.5 v` with `A` the 5-tap
/// Gaussian blur on 1×8×8 images (symmetric positive definite, condition number ~3), two right-hand
/// sides. `M` is made dense on the host by applying it to the 64 unit vectors in one batch and solved
/// in f64 by Gaussian elimination; 30 iterations agree to 1e-4 relative (f32 products; CG converges
/// geometrically at this conditioning). The per-row inner products are checked against the host too.
#[test]
fn conjugate_gradients_match_a_direct_solve() {
    let g = gpu();
    let spec: tweedie::operators::TaskSpec = "deblur-gauss:size=5,sigma=1.5".parse().unwrap();
    let op = tweedie::operators::build(&g, &spec, [1, 8, 8]).unwrap();
    let m = |v: &Tensor| -> tweedie::Result<Tensor> {
        let ata = op.linear().expect("a blur is linear").adjoint(&op.forward(v)?)?;
        ops::axpby(1.0, &ata, 0.5, v)
    };
    let n = 64;
    let mut eye = vec![0f32; n * n];
    for i in 0..n {
        eye[i * n + i] = 1.0;
    }
    let cols = m(&Tensor::from_slice(&g, &[n, 1, 8, 8], &eye).unwrap())
        .unwrap()
        .to_vec()
        .unwrap();
    let b = randn(21, 2 * n);
    let bt = Tensor::from_slice(&g, &[2, 1, 8, 8], &b).unwrap();
    let dots = ops::dot_rows(&bt, &bt, 2).unwrap().to_vec().unwrap();
    for r in 0..2 {
        let want: f64 = b[r * n..(r + 1) * n].iter().map(|v| (*v as f64).powi(2)).sum();
        assert!((dots[r] as f64 - want).abs() < 1e-4 * want, "dot row {r}");
    }
    let got = ops::cg(&m, &bt, 30).unwrap().to_vec().unwrap();
    for r in 0..2 {
        // M[i][j] = (M e_j)_i, so column j of M is row j of `cols`
        let mut a: Vec<Vec<f64>> = (0..n)
            .map(|i| {
                let mut row: Vec<f64> = (0..n).map(|j| cols[j * n + i] as f64).collect();
                row.push(b[r * n + i] as f64);
                row
            })
            .collect();
        for c in 0..n {
            let piv = (c..n)
                .max_by(|&x, &y| a[x][c].abs().total_cmp(&a[y][c].abs()))
                .unwrap();
            a.swap(c, piv);
            let pivot = a[c].clone();
            for (i, row) in a.iter_mut().enumerate() {
                if i != c {
                    let f = row[c] / pivot[c];
                    for (x, p) in row.iter_mut().zip(&pivot).skip(c) {
                        *x -= f * p;
                    }
                }
            }
        }
        let want: Vec<f64> = (0..n).map(|i| a[i][n] / a[i][i]).collect();
        let err = ops::reference::rel_l2(
            &got[r * n..(r + 1) * n],
            &want.iter().map(|v| *v as f32).collect::<Vec<_>>(),
        );
        println!("cg row {r}: relative error {err:.2e} after 30 iterations");
        assert!(err < 1e-4, "cg row {r}: relative error {err:.3e}");
        // and the comparison can fail: two iterations are far from the solution
        let early = ops::cg(&m, &bt, 2).unwrap().to_vec().unwrap();
        let want32: Vec<f32> = want.iter().map(|v| *v as f32).collect();
        assert!(ops::reference::rel_l2(&early[r * n..(r + 1) * n], &want32) > 1e-3);
    }
}

/// The 2-D FFT and its inverse against the f64 DFT by its defining sum, on random complex inputs of
/// sizes 8…256 (square and not). Tolerance: relative L2 1e-5 — the kernel's twiddles come from f32
/// `cos`/`sin` of f32 angles (error ~1e-7 each) and every output sums log2(HW) ≤ 16 rounded
/// butterfly stages, so the expected error is a few 1e-7 (measured: see `--nocapture`); a wrong
/// twiddle, sign or bit reversal gives order-one errors. The round trip returns the input.
#[test]
fn fft2_matches_the_dft_reference() {
    let g = gpu();
    for (rows, h, w) in [(3, 8, 8), (2, 16, 32), (1, 64, 64), (2, 8, 256), (1, 256, 256)] {
        let z = randn((h * w) as u64, rows * h * w * 2);
        let zt = Tensor::from_slice(&g, &[rows, h, w, 2], &z).unwrap();
        for inverse in [false, true] {
            let got = ops::fft2(&zt, inverse).unwrap().to_vec().unwrap();
            let want = r::dft2(&z, rows, h, w, inverse);
            let num: f64 = got.iter().zip(&want).map(|(a, b)| (*a as f64 - b).powi(2)).sum();
            let den: f64 = want.iter().map(|b| b * b).sum();
            let e = (num / den).sqrt();
            println!("fft2 {rows}x{h}x{w} inverse={inverse}: relative L2 {e:.2e}");
            assert!(e < 1e-5, "fft2 {rows}x{h}x{w} inverse={inverse}: {e:.2e}");
        }
        let back = ops::fft2(&ops::fft2(&zt, false).unwrap(), true).unwrap();
        let e = r::rel_l2(&back.to_vec().unwrap(), &z);
        assert!(e < 1e-5, "fft2 round trip {h}x{w}: {e:.2e}");
    }
    for bad in [[1, 12, 8, 2], [1, 8, 2048, 2], [1, 8, 8, 3]] {
        let t = Tensor::from_slice(&g, &bad, &vec![0.5; bad.iter().product()]).unwrap();
        assert!(ops::fft2(&t, false).is_err(), "fft2 took {bad:?}");
    }
}

/// Zero-padding into a complex tensor, its adjoint crop, and |z| against plain loops.
#[test]
fn embed_crop_and_cabs_match_plain_loops() {
    let g = gpu();
    let (r, h, w, nh, nw) = (2, 5, 6, 8, 16);
    let x = randn(41, r * h * w);
    let xt = Tensor::from_slice(&g, &[r, h, w], &x).unwrap();
    let z = ops::embed_complex(&xt, nh, nw).unwrap();
    assert_eq!(z.shape(), &[r, nh, nw, 2]);
    let zv = z.to_vec().unwrap();
    let (oi, oj) = ((nh - h) / 2, (nw - w) / 2);
    for q in 0..r * nh * nw {
        let (rr, i, j) = (q / (nh * nw), (q / nw) % nh, q % nw);
        let inside = (oi..oi + h).contains(&i) && (oj..oj + w).contains(&j);
        let want = if inside {
            x[(rr * h + i - oi) * w + j - oj]
        } else {
            0.0
        };
        assert_eq!((zv[2 * q], zv[2 * q + 1]), (want, 0.0), "embed at {rr},{i},{j}");
    }
    assert_eq!(ops::crop_real(&z, h, w).unwrap().to_vec().unwrap(), x);
    let c = randn(42, 2 * 37);
    let ct = Tensor::from_slice(&g, &[37, 2], &c).unwrap();
    let m = ops::cabs(&ct).unwrap().to_vec().unwrap();
    for i in 0..37 {
        let want = (c[2 * i].powi(2) + c[2 * i + 1].powi(2)).sqrt();
        assert!((m[i] - want).abs() <= 1e-6 * want.max(1.0), "cabs {i}");
    }
}
