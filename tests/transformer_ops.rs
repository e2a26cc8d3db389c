//! The transformer-block ops of `shaders/transformer.wgsl` (layer norm, the GELUs, the causal mask,
//! the head permutations) and the token-major attention composed from them: each forward and
//! backward against its f64 reference (`ops::reference`, `ops::reference_grad`) on random inputs of
//! odd shapes, and each op's tape gradient against central finite differences, with a flipped sign
//! caught. CI runs this binary on both kernel paths.
//!
//! Tolerances (relative L2): elementwise 1e-6 (one or two f32 roundings, ~6e-8 each, and the erf of
//! the kernel, A&S 7.1.26, absolute error 1.5e-7, with margin); layer norm and attention 1e-5 (row
//! sums over up to 1000 values, rounding ~sqrt(K) * 6e-8). Finite differences: step 3e-3 along a
//! random direction, relative gap below 2e-3 as in tests/gradcheck.rs (truncation O(h^2) and f32
//! rounding of the outputs; a flipped sign gives 2).

mod common;
use common::{gpu, randn};
use tweedie::ops::{self, Gelu, Heads, TokenAttentionSpec, reference as r, reference_grad as rg};
use tweedie::{Gpu, Tensor, autograd};

fn up(g: &Gpu, shape: &[usize], seed: u64) -> (Tensor, Vec<f32>) {
    let n: usize = shape.iter().product();
    let v = randn(seed, n);
    (Tensor::from_slice(g, shape, &v).unwrap(), v)
}

fn close(got: &Tensor, want: &[f32], tol: f64, what: &str) {
    let g = got.to_vec().unwrap();
    let e = r::rel_l2(&g, want);
    println!("{what}: relative L2 error {e:.2e}");
    assert!(e <= tol, "{what}: relative L2 error {e:.3e} > {tol:e}");
}

const GELUS: [Gelu; 3] = [Gelu::Quick, Gelu::Erf, Gelu::Tanh];

#[test]
fn layer_norm_matches_reference() {
    let g = gpu();
    for (i, &(rows, c)) in [(1, 1), (7, 33), (77, 48), (5, 1000), (130, 5)]
        .iter()
        .enumerate()
    {
        let s = i as u64 * 10;
        let (x, xv) = up(&g, &[rows, c], 1 + s);
        // shift and scale the rows so the mean is not ~0 (the two-pass variance matters)
        let xv: Vec<f32> = xv.iter().map(|v| 3.0 + 2.5 * v).collect();
        let x = Tensor::from_slice(&g, x.shape(), &xv).unwrap();
        let (gm, gv) = up(&g, &[c], 2 + s);
        let (bt, bv) = up(&g, &[c], 3 + s);
        let (dy, dyv) = up(&g, &[rows, c], 4 + s);
        let eps = 1e-5;
        let y = ops::layer_norm(&x, &gm, &bt, eps).unwrap();
        if c > 1 {
            close(&y, &r::layer_norm(&xv, &gv, &bv, c, eps), 1e-5, "layer_norm");
        }
        let (dx, p) = ops::layer_norm_backward(&x, &gm, &dy, eps, true).unwrap();
        let (dg, db) = p.unwrap();
        let (wx, wg, wb) = rg::layer_norm_backward(&xv, &gv, &dyv, c, eps);
        if c > 1 {
            close(&dx, &wx, 1e-5, "layer_norm dx");
        }
        close(&dg, &wg, 1e-5, "layer_norm dgamma");
        close(&db, &wb, 1e-5, "layer_norm dbeta");
    }
    // a wrong shape is an error, not a panic
    let (x, _) = up(&g, &[3, 4], 9);
    let (gm, _) = up(&g, &[5], 9);
    assert!(ops::layer_norm(&x, &gm, &gm, 1e-5).is_err());
}

#[test]
fn gelus_match_reference() {
    let g = gpu();
    for (i, &n) in [1usize, 63, 1000, 4099].iter().enumerate() {
        let (x, xv) = up(&g, &[n], 20 + i as u64);
        // spread the values over [-12, 12] and include the tails
        let xv: Vec<f32> = xv.iter().map(|v| 4.0 * v).collect();
        let x = Tensor::from_slice(&g, x.shape(), &xv).unwrap();
        let (dy, dyv) = up(&g, &[n], 30 + i as u64);
        for k in GELUS {
            close(
                &ops::gelu(&x, k).unwrap(),
                &r::gelu(&xv, k),
                1e-6,
                &format!("{k:?}"),
            );
            close(
                &ops::gelu_backward(&x, &dy, k).unwrap(),
                &rg::gelu_backward(&xv, &dyv, k),
                1e-6,
                &format!("{k:?} backward"),
            );
        }
    }
    assert_eq!(Gelu::from_name("quick_gelu"), Some(Gelu::Quick));
    assert_eq!(Gelu::from_name("gelu"), Some(Gelu::Erf));
    assert_eq!(Gelu::from_name("relu"), None);
}

/// GEGLU (`[h | gate]` rows to `h * gelu(gate)`) and its backward against the f64 GELU references,
/// on odd widths; the tolerance is the elementwise one (one product more than the GELU's; a single
/// element with a gate far below 0 would see the erf's 1.5e-7 absolute error as a large relative
/// one, so every case has 27 or more outputs).
#[test]
fn geglu_matches_reference() {
    let g = gpu();
    for (i, &(rows, w)) in [(9usize, 3usize), (7, 33), (130, 40)].iter().enumerate() {
        let (x, xv) = up(&g, &[rows, 2 * w], 40 + i as u64);
        let xv: Vec<f32> = xv.iter().map(|v| 3.0 * v).collect();
        let x = Tensor::from_slice(&g, x.shape(), &xv).unwrap();
        let (dy, dyv) = up(&g, &[rows, w], 50 + i as u64);
        let split = |v: &[f32], half: usize| -> Vec<f32> {
            v.chunks(2 * w)
                .flat_map(|r| r[half * w..][..w].to_vec())
                .collect()
        };
        let (h, gate) = (split(&xv, 0), split(&xv, 1));
        for k in GELUS {
            let gg = r::gelu(&gate, k);
            let want: Vec<f32> = h
                .iter()
                .zip(&gg)
                .map(|(a, b)| (*a as f64 * *b as f64) as f32)
                .collect();
            let y = ops::geglu(&x, k).unwrap();
            assert_eq!(y.shape(), &[rows, w]);
            close(&y, &want, 1e-6, &format!("geglu {k:?}"));
            let dh: Vec<f32> = dyv
                .iter()
                .zip(&gg)
                .map(|(a, b)| (*a as f64 * *b as f64) as f32)
                .collect();
            let dyh: Vec<f32> = dyv
                .iter()
                .zip(&h)
                .map(|(a, b)| (*a as f64 * *b as f64) as f32)
                .collect();
            let dg = rg::gelu_backward(&gate, &dyh, k);
            let want: Vec<f32> = (0..rows)
                .flat_map(|r| {
                    let mut row = dh[r * w..][..w].to_vec();
                    row.extend_from_slice(&dg[r * w..][..w]);
                    row
                })
                .collect();
            close(
                &ops::geglu_backward(&x, &dy, k).unwrap(),
                &want,
                1e-6,
                &format!("geglu {k:?} backward"),
            );
        }
    }
    // an odd last dimension is an error, not a panic
    let (x, _) = up(&g, &[3, 5], 9);
    assert!(ops::geglu(&x, Gelu::Erf).is_err());
}

#[test]
fn the_reference_erf_is_exact() {
    // values of erf from tables (Abramowitz & Stegun 7.1), to 15 digits
    for (x, want) in [
        (0.5, 0.520499877813047),
        (1.0, 0.842700792949715),
        (2.0, 0.995322265018953),
        (3.5, 0.999999256901628),
        (-1.5, -0.966105146475311),
    ] {
        assert!((r::erf(x) - want).abs() < 1e-13, "erf({x}) = {}", r::erf(x));
    }
}

#[test]
fn causal_attention_matches_reference() {
    let g = gpu();
    // (batch, heads, tq, tk, dim_head, causal)
    for (i, &(b, h, tq, tk, d, causal)) in [
        (1, 1, 1, 1, 1, true),
        (2, 3, 7, 7, 5, true),
        (1, 12, 77, 77, 8, true),
        (3, 2, 5, 9, 4, false),
        (2, 2, 4, 6, 3, true),
    ]
    .iter()
    .enumerate()
    {
        let s = 40 + 10 * i as u64;
        let inner = h * d;
        let (q, qv) = up(&g, &[b, tq, inner], s);
        let (k, kv) = up(&g, &[b, tk, inner], s + 1);
        let (v, vv) = up(&g, &[b, tk, inner], s + 2);
        let spec = TokenAttentionSpec {
            batch: b,
            heads: h,
            tq,
            tk,
            dim_head: d,
            alpha: 1.0 / (d as f32).sqrt(),
            causal,
        };
        close(
            &ops::attention_tokens(&q, &k, &v, spec).unwrap(),
            &r::attention_tokens(&qv, &kv, &vv, spec),
            1e-5,
            &format!("attention_tokens {b}x{h}x{tq}x{tk}x{d} causal={causal}"),
        );
        let (x, xv) = up(&g, &[b * h, tq, tk], s + 3);
        close(
            &ops::causal_mask(&x, tq, tk).unwrap(),
            &r::causal_mask(&xv, tq, tk),
            0.0,
            "causal_mask",
        );
        // split then merge is the identity, and split moves head hh of token t to block (b, hh)
        let hs = Heads {
            batch: b,
            tokens: tq,
            heads: h,
            dim_head: d,
        };
        let sp = ops::split_heads(&q, hs).unwrap();
        let spv = sp.to_vec().unwrap();
        let (bb, tt, hh, e) = (b - 1, tq - 1, h - 1, d - 1);
        assert_eq!(
            spv[((bb * h + hh) * tq + tt) * d + e],
            qv[((bb * tq + tt) * h + hh) * d + e]
        );
        assert_eq!(ops::merge_heads(&sp, hs).unwrap().to_vec().unwrap(), qv);
    }
    let (q, _) = up(&g, &[2, 3, 4], 1);
    let bad = TokenAttentionSpec {
        batch: 2,
        heads: 1,
        tq: 3,
        tk: 3,
        dim_head: 5,
        alpha: 1.0,
        causal: true,
    };
    assert!(ops::attention_tokens(&q, &q, &q, bad).is_err());
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum()
}

/// Relative gap between the tape's directional derivative and central finite differences of `f`
/// along a random direction of all inputs; `sign` -1 flips the analytic side.
fn fd_gap(g: &Gpu, inputs: &[Vec<usize>], f: &dyn Fn(&[Tensor]) -> Tensor, sign: f64) -> f64 {
    let xs: Vec<Vec<f32>> = inputs
        .iter()
        .enumerate()
        .map(|(i, s)| randn(7 + i as u64, s.iter().product()))
        .collect();
    let vs: Vec<Vec<f32>> = inputs
        .iter()
        .enumerate()
        .map(|(i, s)| randn(107 + i as u64, s.iter().product()))
        .collect();
    let at = |shift: f32| -> Vec<Tensor> {
        inputs
            .iter()
            .zip(xs.iter().zip(&vs))
            .map(|(s, (x, v))| {
                let p: Vec<f32> = x.iter().zip(v).map(|(a, b)| a + shift * b).collect();
                Tensor::from_slice(g, s, &p).unwrap()
            })
            .collect()
    };
    let x0: Vec<Tensor> = at(0.0).iter().map(|t| t.tracked()).collect();
    let y = f(&x0);
    let u = randn(207, y.numel());
    let ut = Tensor::from_slice(g, y.shape(), &u).unwrap();
    let refs: Vec<&Tensor> = x0.iter().collect();
    let grads = autograd::backward(&y, &ut, &refs).unwrap();
    let analytic: f64 = sign
        * grads
            .iter()
            .zip(&vs)
            .map(|(gr, v)| dot(&gr.to_vec().unwrap(), v))
            .sum::<f64>();
    let h = 3e-3f32;
    let val = |k: f32| dot(&f(&at(k * h)).to_vec().unwrap(), &u);
    let numeric = (val(1.0) - val(-1.0)) / (2.0 * h as f64);
    (analytic - numeric).abs() / analytic.abs().max(numeric.abs()).max(1e-12)
}

fn check(name: &str, inputs: &[Vec<usize>], f: &dyn Fn(&[Tensor]) -> Tensor) {
    let g = gpu();
    let gap = fd_gap(&g, inputs, f, 1.0);
    println!("{name}: finite-difference gap {gap:.2e}");
    assert!(
        gap < 2e-3,
        "{name}: gradient disagrees with finite differences ({gap:.3e})"
    );
    let flipped = fd_gap(&g, inputs, f, -1.0);
    assert!(
        flipped > 2e-3,
        "{name}: a flipped sign went unnoticed ({flipped:.3e})"
    );
}

#[test]
fn transformer_op_gradients_pass_finite_differences() {
    check("layer_norm", &[vec![5, 37], vec![37], vec![37]], &|x| {
        ops::layer_norm(&x[0], &x[1], &x[2], 1e-5).unwrap()
    });
    for k in GELUS {
        check(&format!("{k:?}"), &[vec![3, 41]], &|x| {
            ops::gelu(&x[0], k).unwrap()
        });
    }
    let spec = TokenAttentionSpec {
        batch: 2,
        heads: 3,
        tq: 6,
        tk: 6,
        dim_head: 4,
        alpha: 0.5,
        causal: true,
    };
    check(
        "attention_tokens (causal)",
        &[vec![2, 6, 12], vec![2, 6, 12], vec![2, 6, 12]],
        &|x| ops::attention_tokens(&x[0], &x[1], &x[2], spec).unwrap(),
    );
    let cross = TokenAttentionSpec {
        tk: 9,
        causal: false,
        ..spec
    };
    check(
        "attention_tokens (cross, 9 keys)",
        &[vec![2, 6, 12], vec![2, 9, 12], vec![2, 9, 12]],
        &|x| ops::attention_tokens(&x[0], &x[1], &x[2], cross).unwrap(),
    );
    for k in GELUS {
        check(&format!("geglu {k:?}"), &[vec![3, 2 * 13]], &|x| {
            ops::geglu(&x[0], k).unwrap()
        });
    }
    // a layer norm + quick_gelu + linear chain, as in a CLIP MLP
    check(
        "layer_norm -> gelu -> linear",
        &[vec![4, 10], vec![10], vec![10], vec![7, 10]],
        &|x| {
            let h = ops::layer_norm(&x[0], &x[1], &x[2], 1e-5).unwrap();
            let h = ops::gelu(&h, Gelu::Quick).unwrap();
            ops::linear(&h, &x[3], None).unwrap()
        },
    );
}
