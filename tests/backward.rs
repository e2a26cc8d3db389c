//! Every backward kernel against its plain-Rust reference (f64 accumulation) on random inputs.
//! Tolerances as for the forward kernels (tests/kernels.rs): 1e-5 relative L2 for sums of products,
//! 1e-6 for pure data movement and elementwise maps.

mod common;
use common::{gpu, randn};
use tweedie::ops::{self, Conv2dSpec, MatmulSpec, reference as r, reference_grad as rg};
use tweedie::{Gpu, Tensor};

fn up(g: &Gpu, shape: &[usize], seed: u64) -> (Tensor, Vec<f32>) {
    let n: usize = shape.iter().product();
    let v = randn(seed, n);
    (Tensor::from_slice(g, shape, &v).unwrap(), v)
}

fn close(got: &Tensor, want: &[f32], tol: f64, what: &str) {
    let e = r::rel_l2(&got.to_vec().unwrap(), want);
    assert!(e <= tol, "{what}: relative L2 error {e:.3e} > {tol:e}");
}

/// (batch, cin, h, w, cout, kernel, stride, padding)
type ConvCase = (usize, usize, usize, usize, usize, usize, usize, [usize; 4]);

#[test]
fn conv2d_gradients_match_reference() {
    let g = gpu();
    let cases: &[ConvCase] = &[
        (2, 3, 9, 7, 5, 3, 1, [1, 1, 1, 1]),
        (1, 6, 16, 12, 10, 3, 2, [0, 1, 0, 1]),
        (2, 5, 8, 8, 7, 3, 2, [1, 1, 1, 1]),
        (3, 9, 5, 6, 4, 1, 1, [0, 0, 0, 0]),
        (1, 2, 7, 9, 3, 5, 1, [2, 2, 2, 2]),
        // stride 2 on odd sizes (CPU adapters: zero insertion and the direct kernel)
        (1, 4, 7, 9, 6, 3, 2, [1, 1, 1, 1]),
        (2, 3, 7, 5, 4, 3, 2, [0, 1, 0, 1]),
    ];
    for (i, &(n, cin, h, w, cout, k, s, pad)) in cases.iter().enumerate() {
        let spec = Conv2dSpec { stride: s, pad };
        let (ho, wo) = spec.out_size(h, w, k, k).unwrap();
        let (x, xv) = up(&g, &[n, cin, h, w], 300 + i as u64);
        let (wt, wv) = up(&g, &[cout, cin, k, k], 310 + i as u64);
        let (dy, dyv) = up(&g, &[n, cout, ho, wo], 320 + i as u64);
        let (dx, dw, db) = rg::conv2d_backward(&xv, [n, cin, h, w], &wv, [cout, cin, k, k], &dyv, spec);
        close(
            &ops::conv2d_backward_input(&dy, &wt, x.shape(), spec).unwrap(),
            &dx,
            1e-5,
            &format!("dx case {i}"),
        );
        close(
            &ops::conv2d_backward_weight(&dy, &x, wt.shape(), spec).unwrap(),
            &dw,
            1e-5,
            &format!("dw case {i}"),
        );
        close(
            &ops::channel_sum(&dy).unwrap(),
            &db,
            1e-5,
            &format!("db case {i}"),
        );
    }
}

/// Reads `A[b, i, j]` of a strided operand.
fn at(v: &[f32], s: [usize; 3], b: usize, i: usize, j: usize) -> f64 {
    v[b * s[0] + i * s[1] + j * s[2]] as f64
}

#[test]
fn matmul_gradients_match_reference_in_every_layout() {
    let g = gpu();
    let (batch, m, n, k) = (3, 19, 23, 11);
    let layouts = |r: usize, c: usize| [[r * c, c, 1], [r * c, 1, r]];
    for (ia, sa) in layouts(m, k).into_iter().enumerate() {
        for (ib, sb) in layouts(k, n).into_iter().enumerate() {
            let spec = MatmulSpec {
                batch,
                m,
                n,
                k,
                a_strides: sa,
                b_strides: sb,
                alpha: 0.7,
            };
            let (a, av) = up(&g, &[batch * m * k], 400 + ia as u64);
            let (b, bv) = up(&g, &[batch * k * n], 410 + ib as u64);
            let (dc, dcv) = up(&g, &[batch, m, n], 420);
            let [da, db, dbias] = ops::matmul_backward(&a, &b, &dc, spec, [true, true, true]).unwrap();
            let mut want_a = vec![0f32; batch * m * k];
            let mut want_b = vec![0f32; batch * k * n];
            for bt in 0..batch {
                for i in 0..m {
                    for kk in 0..k {
                        let s: f64 = (0..n)
                            .map(|j| dcv[(bt * m + i) * n + j] as f64 * at(&bv, sb, bt, kk, j))
                            .sum();
                        want_a[bt * sa[0] + i * sa[1] + kk * sa[2]] = (0.7 * s) as f32;
                    }
                }
                for kk in 0..k {
                    for j in 0..n {
                        let s: f64 = (0..m)
                            .map(|i| dcv[(bt * m + i) * n + j] as f64 * at(&av, sa, bt, i, kk))
                            .sum();
                        want_b[bt * sb[0] + kk * sb[1] + j * sb[2]] = (0.7 * s) as f32;
                    }
                }
            }
            let want_bias: Vec<f32> = (0..n)
                .map(|j| (0..batch * m).map(|r| dcv[r * n + j]).sum())
                .collect();
            close(&da.unwrap(), &want_a, 1e-5, &format!("dA layouts {ia}{ib}"));
            close(&db.unwrap(), &want_b, 1e-5, &format!("dB layouts {ia}{ib}"));
            close(&dbias.unwrap(), &want_bias, 1e-5, "dbias");
        }
    }
}

#[test]
fn group_norm_gradients_match_reference() {
    let g = gpu();
    // pixel counts that are and are not multiples of 4 (CPU adapters take vec4 kernels for the
    // former); the last case walks several channels per loop step over several steps
    for (i, &(n, c, h, w, groups)) in [
        (2, 8, 5, 7, 4),
        (1, 15, 6, 4, 3),
        (3, 4, 2, 2, 1),
        (2, 12, 16, 8, 2),
        (1, 4, 64, 64, 1), // 4096 vec4s a group: 64 loop steps an invocation (CPU adapters)
    ]
    .iter()
    .enumerate()
    {
        let (_, xv) = up(&g, &[n, c, h, w], 500 + i as u64);
        let xv: Vec<f32> = xv.iter().map(|v| 2.0 * v + 0.7).collect();
        let x = Tensor::from_slice(&g, &[n, c, h, w], &xv).unwrap();
        let (ga, gav) = up(&g, &[c], 510 + i as u64);
        let (be, bev) = up(&g, &[c], 520 + i as u64);
        let (dy, dyv) = up(&g, &[n, c, h, w], 530 + i as u64);
        for silu in [false, true] {
            let (dx, p) = ops::group_norm_backward(&x, &ga, &be, &dy, groups, 1e-5, silu, true).unwrap();
            let (wdx, wdg, wdb) = rg::group_norm_backward(&xv, n, c, &gav, &bev, &dyv, groups, 1e-5, silu);
            let (dg, db) = p.unwrap();
            close(&dx, &wdx, 1e-5, &format!("gn dx {i} silu {silu}"));
            close(&dg, &wdg, 1e-5, &format!("gn dgamma {i} silu {silu}"));
            close(&db, &wdb, 1e-5, &format!("gn dbeta {i} silu {silu}"));
        }
    }
}

#[test]
fn softmax_silu_and_layout_gradients_match_reference() {
    let g = gpu();
    let (x, xv) = up(&g, &[6, 77], 600);
    let y = ops::softmax_rows(&x, 0.6).unwrap();
    let yv = y.to_vec().unwrap();
    let (dy, dyv) = up(&g, &[6, 77], 601);
    close(
        &ops::softmax_backward(&y, &dy, 0.6).unwrap(),
        &rg::softmax_backward(&yv, &dyv, 77, 0.6),
        1e-5,
        "softmax",
    );
    close(
        &ops::silu_backward(&x, &dy).unwrap(),
        &rg::silu_backward(&xv, &dyv),
        1e-6,
        "silu",
    );

    let (d4, d4v) = up(&g, &[2, 7, 3, 5], 602);
    let want: Vec<f32> = (0..2)
        .flat_map(|n| d4v[(n * 7 + 3) * 15..(n * 7 + 7) * 15].to_vec())
        .collect();
    close(&ops::split_channels(&d4, 3, 4).unwrap(), &want, 0.0, "split");
    // 16 pixels per channel: the vec4 form on CPU adapters
    let (d8, d8v) = up(&g, &[2, 8, 4, 4], 604);
    let want: Vec<f32> = (0..2)
        .flat_map(|n| d8v[(n * 8 + 3) * 16..(n * 8 + 7) * 16].to_vec())
        .collect();
    close(&ops::split_channels(&d8, 3, 4).unwrap(), &want, 0.0, "split vec4");
    let (du, duv) = up(&g, &[2, 3, 4, 6], 603);
    let mut want = vec![0f32; 2 * 3 * 2 * 3];
    for (i, v) in duv.iter().enumerate() {
        let (p, yy, xx) = (i / 24, (i % 24) / 6, i % 6);
        want[p * 6 + (yy / 2) * 3 + xx / 2] += v;
    }
    close(
        &ops::upsample2x_backward(&du).unwrap(),
        &want,
        1e-6,
        "upsample backward",
    );
    let (rows, rv) = up(&g, &[3], 604);
    let want: Vec<f32> = d4v
        .iter()
        .enumerate()
        .map(|(i, v)| 2.0 * v * rv[i / 70])
        .collect();
    close(
        &ops::rows_scale(Some(&d4), d4.shape(), &rows, 2.0).unwrap(),
        &want,
        1e-6,
        "rows_scale",
    );
    let (c2, c2v) = up(&g, &[5, 9], 605);
    let want: Vec<f32> = (0..9).map(|j| (0..5).map(|r| c2v[r * 9 + j]).sum()).collect();
    close(&ops::col_sum(&c2, 9).unwrap(), &want, 1e-6, "col_sum");
}

#[test]
fn attention_and_its_gradients_match_reference() {
    let g = gpu();
    // heads of 8 and 5 channels over 64 and 37 tokens (the fused kernels of CPU adapters, one and
    // several uniform windows of blocks), and 12-channel heads (the composition everywhere)
    for (i, &(bh, d, hw)) in [(3, 8, 64), (70, 5, 37), (2, 12, 10)].iter().enumerate() {
        let alpha = 1.0 / (d as f32).sqrt();
        let shape = [bh, d, hw];
        let (q, qv) = up(&g, &shape, 700 + 10 * i as u64);
        let (k, kv) = up(&g, &shape, 701 + 10 * i as u64);
        let (v, vv) = up(&g, &shape, 702 + 10 * i as u64);
        let (c, cv) = up(&g, &shape, 703 + 10 * i as u64);
        let spec = ops::AttentionSpec { bh, d, hw, alpha };
        let (q, k, v) = (q.tracked(), k.tracked(), v.tracked());
        let o = ops::attention(&q, &k, &v, spec).unwrap();
        let (want, _) = r::attention(&qv, &kv, &vv, bh, d, hw, alpha);
        close(&o, &want, 1e-5, &format!("attention case {i}"));
        let grads = tweedie::autograd::backward(&o, &c, &[&q, &k, &v]).unwrap();
        let (dq, dk, dv) = rg::attention_backward(&qv, &kv, &vv, &cv, bh, d, hw, alpha);
        close(&grads[0], &dq, 1e-5, &format!("attention dq case {i}"));
        close(&grads[1], &dk, 1e-5, &format!("attention dk case {i}"));
        close(&grads[2], &dv, 1e-5, &format!("attention dv case {i}"));
    }
}
