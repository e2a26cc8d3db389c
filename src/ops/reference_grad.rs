//! Plain-Rust references of the backward kernels (f64 accumulation), for the tests.

use super::Conv2dSpec;

/// Gradients of a convolution: `(dx, dw, db)` for `y = conv2d(x, w) + b` and the cotangent `dy`.
pub fn conv2d_backward(
    x: &[f32],
    xs: [usize; 4],
    w: &[f32],
    ws: [usize; 4],
    dy: &[f32],
    spec: Conv2dSpec,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let [n, cin, h, wd] = xs;
    let [cout, _, kh, kw] = ws;
    let (ho, wo) = spec.out_size(h, wd, kh, kw).expect("conv does not fit");
    let mut dx = vec![0f64; x.len()];
    let mut dw = vec![0f64; w.len()];
    let mut db = vec![0f64; cout];
    for b in 0..n {
        for co in 0..cout {
            for oy in 0..ho {
                for ox in 0..wo {
                    let g = dy[((b * cout + co) * ho + oy) * wo + ox] as f64;
                    db[co] += g;
                    for ci in 0..cin {
                        for ky in 0..kh {
                            let iy = (oy * spec.stride + ky) as isize - spec.pad[0] as isize;
                            if iy < 0 || iy >= h as isize {
                                continue;
                            }
                            for kx in 0..kw {
                                let ix = (ox * spec.stride + kx) as isize - spec.pad[2] as isize;
                                if ix < 0 || ix >= wd as isize {
                                    continue;
                                }
                                let xi = ((b * cin + ci) * h + iy as usize) * wd + ix as usize;
                                let wi = ((co * cin + ci) * kh + ky) * kw + kx;
                                dx[xi] += w[wi] as f64 * g;
                                dw[wi] += x[xi] as f64 * g;
                            }
                        }
                    }
                }
            }
        }
    }
    let f = |v: Vec<f64>| v.into_iter().map(|a| a as f32).collect();
    (f(dx), f(dw), f(db))
}

/// Gradients of group norm (with optional fused SiLU): `(dx, dgamma, dbeta)`.
#[allow(clippy::too_many_arguments)]
pub fn group_norm_backward(
    x: &[f32],
    n: usize,
    c: usize,
    gamma: &[f32],
    beta: &[f32],
    dy: &[f32],
    groups: usize,
    eps: f32,
    fused_silu: bool,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let hw = x.len() / (n * c);
    let cpg = c / groups;
    let cnt = (cpg * hw) as f64;
    let mut dx = vec![0f32; x.len()];
    let mut dg = vec![0f64; c];
    let mut dbt = vec![0f64; c];
    for b in 0..n {
        for g in 0..groups {
            let base = (b * c + g * cpg) * hw;
            let idx = base..base + cpg * hw;
            let mean = idx.clone().map(|i| x[i] as f64).sum::<f64>() / cnt;
            let var = idx.clone().map(|i| (x[i] as f64 - mean).powi(2)).sum::<f64>() / cnt;
            let inv = 1.0 / (var + eps as f64).sqrt();
            let mut du = vec![0f64; cpg * hw];
            let mut xh = vec![0f64; cpg * hw];
            for (j, i) in idx.clone().enumerate() {
                let ch = g * cpg + j / hw;
                xh[j] = (x[i] as f64 - mean) * inv;
                let u = xh[j] * gamma[ch] as f64 + beta[ch] as f64;
                let d = if fused_silu {
                    let s = 1.0 / (1.0 + (-u).exp());
                    s * (1.0 + u * (1.0 - s))
                } else {
                    1.0
                };
                du[j] = dy[i] as f64 * d;
                dg[ch] += du[j] * xh[j];
                dbt[ch] += du[j];
            }
            let gg: Vec<f64> = (0..cpg * hw)
                .map(|j| du[j] * gamma[g * cpg + j / hw] as f64)
                .collect();
            let m1 = gg.iter().sum::<f64>() / cnt;
            let m2 = gg.iter().zip(&xh).map(|(a, b)| a * b).sum::<f64>() / cnt;
            for (j, i) in idx.enumerate() {
                dx[i] = (inv * (gg[j] - m1 - xh[j] * m2)) as f32;
            }
        }
    }
    (
        dx,
        dg.into_iter().map(|v| v as f32).collect(),
        dbt.into_iter().map(|v| v as f32).collect(),
    )
}

/// Gradient of the row softmax of `scale * x` from its output `y`.
pub fn softmax_backward(y: &[f32], dy: &[f32], len: usize, scale: f32) -> Vec<f32> {
    let mut dx = vec![0f32; y.len()];
    for r in 0..y.len() / len {
        let s = r * len..(r + 1) * len;
        let dot: f64 = s.clone().map(|i| y[i] as f64 * dy[i] as f64).sum();
        for i in s {
            dx[i] = (scale as f64 * y[i] as f64 * (dy[i] as f64 - dot)) as f32;
        }
    }
    dx
}

/// Gradient of SiLU.
pub fn silu_backward(x: &[f32], dy: &[f32]) -> Vec<f32> {
    x.iter()
        .zip(dy)
        .map(|(&v, &g)| {
            let v = v as f64;
            let s = 1.0 / (1.0 + (-v).exp());
            (g as f64 * s * (1.0 + v * (1.0 - s))) as f32
        })
        .collect()
}

/// Gradients `(dq, dk, dv)` of [`super::reference::attention`] for the cotangent `g` of its output.
#[allow(clippy::too_many_arguments)]
pub fn attention_backward(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    g: &[f32],
    bh: usize,
    d: usize,
    hw: usize,
    alpha: f32,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let (_, probs) = super::reference::attention(q, k, v, bh, d, hw, alpha);
    let n = bh * d * hw;
    let (mut dq, mut dk, mut dv) = (vec![0f64; n], vec![0f64; n], vec![0f64; n]);
    let a = alpha as f64;
    for b in 0..bh {
        let ix = |i: usize, p: usize| (b * d + i) * hw + p;
        for p in 0..hw {
            let pr = |j: usize| probs[(b * hw + p) * hw + j];
            // dP_pj = g_p . v_j; dS_pj = P_pj (dP_pj - sum_j' P_pj' dP_pj')
            let dp: Vec<f64> = (0..hw)
                .map(|j| (0..d).map(|i| g[ix(i, p)] as f64 * v[ix(i, j)] as f64).sum())
                .collect();
            let dot: f64 = (0..hw).map(|j| pr(j) * dp[j]).sum();
            for j in 0..hw {
                let ds = pr(j) * (dp[j] - dot);
                for i in 0..d {
                    dq[ix(i, p)] += a * ds * k[ix(i, j)] as f64;
                    dk[ix(i, j)] += a * ds * q[ix(i, p)] as f64;
                    dv[ix(i, j)] += pr(j) * g[ix(i, p)] as f64;
                }
            }
        }
    }
    let f = |v: Vec<f64>| v.into_iter().map(|x| x as f32).collect();
    (f(dq), f(dk), f(dv))
}

/// Gradients of [`super::layer_norm`] over rows of `c` values: `(dx, dgamma, dbeta)`.
pub fn layer_norm_backward(
    x: &[f32],
    gamma: &[f32],
    dy: &[f32],
    c: usize,
    eps: f32,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let mut dx = Vec::with_capacity(x.len());
    let (mut dg, mut db) = (vec![0f64; c], vec![0f64; c]);
    for (row, g) in x.chunks(c).zip(dy.chunks(c)) {
        let mean = row.iter().map(|&v| v as f64).sum::<f64>() / c as f64;
        let var = row.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / c as f64;
        let rstd = 1.0 / (var + eps as f64).sqrt();
        let xh: Vec<f64> = row.iter().map(|&v| (v as f64 - mean) * rstd).collect();
        let gh: Vec<f64> = g.iter().zip(gamma).map(|(a, b)| *a as f64 * *b as f64).collect();
        let m1 = gh.iter().sum::<f64>() / c as f64;
        let m2 = gh.iter().zip(&xh).map(|(a, b)| a * b).sum::<f64>() / c as f64;
        for j in 0..c {
            dx.push((rstd * (gh[j] - m1 - xh[j] * m2)) as f32);
            dg[j] += g[j] as f64 * xh[j];
            db[j] += g[j] as f64;
        }
    }
    let f = |v: Vec<f64>| v.into_iter().map(|x| x as f32).collect();
    (dx, f(dg), f(db))
}

/// Gradient of [`super::gelu`]: `dy * gelu'(x)`.
pub fn gelu_backward(x: &[f32], dy: &[f32], kind: super::Gelu) -> Vec<f32> {
    use std::f64::consts::{PI, SQRT_2};
    x.iter()
        .zip(dy)
        .map(|(&v, &g)| {
            let v = v as f64;
            let d = match kind {
                super::Gelu::Quick => {
                    let s = 1.0 / (1.0 + (-1.702 * v).exp());
                    s + 1.702 * v * s * (1.0 - s)
                }
                super::Gelu::Erf => {
                    0.5 * (1.0 + super::reference::erf(v / SQRT_2))
                        + v * (-0.5 * v * v).exp() / (2.0 * PI).sqrt()
                }
                super::Gelu::Tanh => {
                    let c = (2.0 / PI).sqrt();
                    let t = (c * (v + 0.044715 * v * v * v)).tanh();
                    0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * c * (1.0 + 3.0 * 0.044715 * v * v)
                }
            };
            (g as f64 * d) as f32
        })
        .collect()
}
