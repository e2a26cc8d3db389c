//! Plain-Rust references of every op, accumulating in f64. The tests compare the kernels with these on
//! random inputs; they are also handy for anyone checking a new kernel.

use super::{Conv2dSpec, MatmulSpec};

/// Reference of [`super::conv2d`]; shapes as there.
pub fn conv2d(
    x: &[f32],
    xs: [usize; 4],
    w: &[f32],
    ws: [usize; 4],
    bias: Option<&[f32]>,
    spec: Conv2dSpec,
) -> (Vec<f32>, [usize; 4]) {
    let [n, cin, h, wd] = xs;
    let [cout, _, kh, kw] = ws;
    let (ho, wo) = spec.out_size(h, wd, kh, kw).expect("conv does not fit");
    let mut out = vec![0f32; n * cout * ho * wo];
    for b in 0..n {
        for co in 0..cout {
            for oy in 0..ho {
                for ox in 0..wo {
                    let mut acc = bias.map_or(0.0, |b| b[co] as f64);
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
                                acc += w[((co * cin + ci) * kh + ky) * kw + kx] as f64
                                    * x[((b * cin + ci) * h + iy as usize) * wd + ix as usize] as f64;
                            }
                        }
                    }
                    out[((b * cout + co) * ho + oy) * wo + ox] = acc as f32;
                }
            }
        }
    }
    (out, [n, cout, ho, wo])
}

/// Reference of [`super::matmul`].
pub fn matmul(a: &[f32], b: &[f32], bias: Option<&[f32]>, s: MatmulSpec) -> Vec<f32> {
    let mut out = vec![0f32; s.batch * s.m * s.n];
    for bt in 0..s.batch {
        for i in 0..s.m {
            for j in 0..s.n {
                let mut acc = 0f64;
                for k in 0..s.k {
                    acc += a[bt * s.a_strides[0] + i * s.a_strides[1] + k * s.a_strides[2]] as f64
                        * b[bt * s.b_strides[0] + k * s.b_strides[1] + j * s.b_strides[2]] as f64;
                }
                out[(bt * s.m + i) * s.n + j] =
                    (s.alpha as f64 * acc + bias.map_or(0.0, |b| b[j] as f64)) as f32;
            }
        }
    }
    out
}

/// Reference of [`super::group_norm`] for `x` of `n` samples and `c` channels.
#[allow(clippy::too_many_arguments)]
pub fn group_norm(
    x: &[f32],
    n: usize,
    c: usize,
    gamma: &[f32],
    beta: &[f32],
    groups: usize,
    eps: f32,
    fuse_silu: bool,
) -> Vec<f32> {
    let hw = x.len() / (n * c);
    let cpg = c / groups;
    let mut out = vec![0f32; x.len()];
    for b in 0..n {
        for g in 0..groups {
            let base = (b * c + g * cpg) * hw;
            let vals = &x[base..base + cpg * hw];
            let mean = vals.iter().map(|&v| v as f64).sum::<f64>() / vals.len() as f64;
            let var = vals.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / vals.len() as f64;
            let inv = 1.0 / (var + eps as f64).sqrt();
            for (i, &v) in vals.iter().enumerate() {
                let ch = g * cpg + i / hw;
                let mut y = (v as f64 - mean) * inv * gamma[ch] as f64 + beta[ch] as f64;
                if fuse_silu {
                    y = silu1(y);
                }
                out[base + i] = y as f32;
            }
        }
    }
    out
}

fn silu1(v: f64) -> f64 {
    v / (1.0 + (-v).exp())
}

/// Reference of [`super::silu`].
pub fn silu(x: &[f32]) -> Vec<f32> {
    x.iter().map(|&v| silu1(v as f64) as f32).collect()
}

/// Reference of [`super::softmax_rows`].
pub fn softmax_rows(x: &[f32], len: usize, scale: f32) -> Vec<f32> {
    let mut out = vec![0f32; x.len()];
    for (row, o) in x.chunks(len).zip(out.chunks_mut(len)) {
        let m = row
            .iter()
            .map(|&v| scale as f64 * v as f64)
            .fold(f64::MIN, f64::max);
        let e: Vec<f64> = row.iter().map(|&v| (scale as f64 * v as f64 - m).exp()).collect();
        let s: f64 = e.iter().sum();
        for (o, e) in o.iter_mut().zip(e) {
            *o = (e / s) as f32;
        }
    }
    out
}

/// Reference of [`super::add_bcast`] (`a * x + y[i / inner]`).
pub fn add_bcast(x: &[f32], a: f32, y: &[f32], inner: usize) -> Vec<f32> {
    x.iter().enumerate().map(|(i, &v)| a * v + y[i / inner]).collect()
}

/// Reference of [`super::concat_channels`].
pub fn concat_channels(x: &[f32], c1: usize, y: &[f32], c2: usize, n: usize, hw: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(x.len() + y.len());
    for b in 0..n {
        out.extend_from_slice(&x[b * c1 * hw..(b + 1) * c1 * hw]);
        out.extend_from_slice(&y[b * c2 * hw..(b + 1) * c2 * hw]);
    }
    out
}

/// Reference of [`super::upsample_nearest2x`] for `nc` planes of `h` x `w`.
pub fn upsample_nearest2x(x: &[f32], nc: usize, h: usize, w: usize) -> Vec<f32> {
    let mut out = vec![0f32; nc * 4 * h * w];
    for p in 0..nc {
        for oy in 0..2 * h {
            for ox in 0..2 * w {
                out[(p * 2 * h + oy) * 2 * w + ox] = x[(p * h + oy / 2) * w + ox / 2];
            }
        }
    }
    out
}

/// Reference of [`super::timestep_embedding`], in f64 as diffusers' formula states it.
pub fn timestep_embedding(t: &[f32], dim: usize, flip_sin_to_cos: bool, shift: f64) -> Vec<f32> {
    let half = dim / 2;
    let mut out = vec![0f32; t.len() * dim];
    for (b, &tv) in t.iter().enumerate() {
        for k in 0..half {
            let f = (-(10000f64).ln() * k as f64 / (half as f64 - shift)).exp();
            let arg = tv as f64 * f;
            let (first, second) = if flip_sin_to_cos {
                (arg.cos(), arg.sin())
            } else {
                (arg.sin(), arg.cos())
            };
            out[b * dim + k] = first as f32;
            out[b * dim + half + k] = second as f32;
        }
    }
    out
}

/// Reference of [`super::sum_rows`] / [`super::sumsq_rows`].
pub fn row_sums(x: &[f32], rows: usize, squared: bool) -> Vec<f32> {
    x.chunks(x.len() / rows)
        .map(|r| {
            r.iter()
                .map(|&v| if squared { (v as f64).powi(2) } else { v as f64 })
                .sum::<f64>() as f32
        })
        .collect()
}

/// Relative L2 error `||a - b|| / ||b||` in f64 (the tests' measure).
pub fn rel_l2(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len(), "rel_l2 of slices of different lengths");
    let num: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (x as f64 - y as f64).powi(2))
        .sum();
    let den: f64 = b.iter().map(|&y| (y as f64).powi(2)).sum();
    (num / den.max(1e-300)).sqrt()
}

/// Reference of [`crate::ops::spectral_gain`], in f64.
pub fn spectral_gain(x: &[f32], s: &[f32], c: f64) -> Vec<f32> {
    (0..x.len())
        .map(|i| {
            let sj = s[i % s.len()] as f64;
            if sj > 0.0 {
                (sj / (sj * sj + c) * x[i] as f64) as f32
            } else {
                0.0
            }
        })
        .collect()
}

/// Adam (Kingma & Ba 2015, Algorithm 1) in f64 from `x0` and zero moments, one step per gradient.
pub fn adam(x0: &[f32], grads: &[Vec<f32>], lr: f64, b1: f64, b2: f64, eps: f64) -> Vec<f64> {
    let mut x: Vec<f64> = x0.iter().map(|&v| v as f64).collect();
    let mut m = vec![0f64; x.len()];
    let mut v = vec![0f64; x.len()];
    for (t, g) in grads.iter().enumerate() {
        let t = t as i32 + 1;
        for i in 0..x.len() {
            let gi = g[i] as f64;
            m[i] = b1 * m[i] + (1.0 - b1) * gi;
            v[i] = b2 * v[i] + (1.0 - b2) * gi * gi;
            let mh = m[i] / (1.0 - b1.powi(t));
            let vh = v[i] / (1.0 - b2.powi(t));
            x[i] -= lr * mh / (vh.sqrt() + eps);
        }
    }
    x
}

/// The Euclidean projection of `v` onto the probability simplex by sorting (Duchi, Shalev-Shwartz,
/// Singer, Chandra 2008, Fig. 1), in f64.
pub fn project_simplex(v: &[f32]) -> Vec<f64> {
    let mut u: Vec<f64> = v.iter().map(|&x| x as f64).collect();
    u.sort_by(|a, b| b.total_cmp(a));
    let (mut cum, mut theta) = (0.0, 0.0);
    for (j, &uj) in u.iter().enumerate() {
        cum += uj;
        let t = (cum - 1.0) / (j + 1) as f64;
        if uj - t > 0.0 {
            theta = t;
        }
    }
    v.iter().map(|&x| (x as f64 - theta).max(0.0)).collect()
}

/// Systematic resampling of one group of log weights with the uniform `u` (f64): the ancestor of
/// each of the `k = logw.len()` new particles, the first `i` whose cumulative normalised weight
/// exceeds `(u + j) / k`; and the effective sample size `(Σ w)² / Σ w²`.
pub fn resample_systematic(logw: &[f32], u: f64) -> (Vec<usize>, f64) {
    let k = logw.len();
    let m = logw.iter().fold(f64::NEG_INFINITY, |a, &v| a.max(v as f64));
    let w: Vec<f64> = logw.iter().map(|&v| (v as f64 - m).exp()).collect();
    let s: f64 = w.iter().sum();
    let ess = s * s / w.iter().map(|v| v * v).sum::<f64>();
    let mut cdf = Vec::with_capacity(k);
    let mut acc = 0.0;
    for v in &w {
        acc += v / s;
        cdf.push(acc);
    }
    let anc = (0..k)
        .map(|j| {
            let pos = (u + j as f64) / k as f64;
            cdf.iter().position(|&c| c > pos).unwrap_or(k - 1)
        })
        .collect();
    (anc, ess)
}

/// The orthonormal 2-D DFT of `rows` complex `h × w` arrays (interleaved re, im; see
/// [`crate::ops::fft2`]) by the defining double sum, in f64: `O(h w (h + w))` per array.
pub fn dft2(z: &[f32], rows: usize, h: usize, w: usize, inverse: bool) -> Vec<f64> {
    let sign = if inverse { 1.0 } else { -1.0 };
    let dft = |x: &[(f64, f64)], n: usize| -> Vec<(f64, f64)> {
        (0..n)
            .map(|k| {
                let (mut re, mut im) = (0.0, 0.0);
                for (i, &(a, b)) in x.iter().enumerate() {
                    let ang = sign * 2.0 * std::f64::consts::PI * ((k * i) % n) as f64 / n as f64;
                    let (s, c) = ang.sin_cos();
                    re += a * c - b * s;
                    im += a * s + b * c;
                }
                (re / (n as f64).sqrt(), im / (n as f64).sqrt())
            })
            .collect()
    };
    let mut out = vec![0.0; rows * h * w * 2];
    for r in 0..rows {
        let at = |i: usize, j: usize| 2 * ((r * h + i) * w + j);
        let mut m: Vec<(f64, f64)> = (0..h * w)
            .map(|q| (z[at(q / w, q % w)] as f64, z[at(q / w, q % w) + 1] as f64))
            .collect();
        for i in 0..h {
            let line = dft(&m[i * w..(i + 1) * w], w);
            m[i * w..(i + 1) * w].copy_from_slice(&line);
        }
        for j in 0..w {
            let col: Vec<(f64, f64)> = (0..h).map(|i| m[i * w + j]).collect();
            for (i, v) in dft(&col, h).into_iter().enumerate() {
                m[i * w + j] = v;
            }
        }
        for (q, (a, b)) in m.into_iter().enumerate() {
            out[at(q / w, q % w)] = a;
            out[at(q / w, q % w) + 1] = b;
        }
    }
    out
}

/// guided-diffusion's scale-shift: `x * (1 + ss[n, c]) + ss[n, C + c]` for `x` `[N, C, inner]`.
pub fn film(x: &[f32], ss: &[f32], n: usize, c: usize) -> Vec<f32> {
    let inner = x.len() / (n * c);
    x.iter()
        .enumerate()
        .map(|(i, &v)| {
            let (b, ch) = (i / inner / c, (i / inner) % c);
            (v as f64 * (1.0 + ss[b * 2 * c + ch] as f64) + ss[b * 2 * c + c + ch] as f64) as f32
        })
        .collect()
}

/// 2x2 average pooling with stride 2 of `[NC, H, W]`.
pub fn avg_pool2x(x: &[f32], nc: usize, h: usize, w: usize) -> Vec<f32> {
    let (oh, ow) = (h / 2, w / 2);
    let mut out = vec![0f32; nc * oh * ow];
    for p in 0..nc {
        for y in 0..oh {
            for xx in 0..ow {
                let at = |dy: usize, dx: usize| x[p * h * w + (2 * y + dy) * w + 2 * xx + dx] as f64;
                out[(p * oh + y) * ow + xx] = (0.25 * (at(0, 0) + at(0, 1) + at(1, 0) + at(1, 1))) as f32;
            }
        }
    }
    out
}

/// Attention over `bh` blocks of `[d, hw]` (channels, then tokens):
/// `o[b, :, p] = sum_j softmax_j(alpha q[b, :, p] . k[b, :, j]) v[b, :, j]`; also the probabilities
/// `[bh, hw, hw]` (f64 accumulation).
pub fn attention(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    bh: usize,
    d: usize,
    hw: usize,
    alpha: f32,
) -> (Vec<f32>, Vec<f64>) {
    let mut o = vec![0f32; bh * d * hw];
    let mut probs = vec![0f64; bh * hw * hw];
    for b in 0..bh {
        let at = |t: &[f32], i: usize, p: usize| t[(b * d + i) * hw + p] as f64;
        for p in 0..hw {
            let s: Vec<f64> = (0..hw)
                .map(|j| alpha as f64 * (0..d).map(|i| at(q, i, p) * at(k, i, j)).sum::<f64>())
                .collect();
            let m = s.iter().cloned().fold(f64::MIN, f64::max);
            let e: Vec<f64> = s.iter().map(|v| (v - m).exp()).collect();
            let z: f64 = e.iter().sum();
            for j in 0..hw {
                probs[(b * hw + p) * hw + j] = e[j] / z;
            }
            for i in 0..d {
                o[(b * d + i) * hw + p] = (0..hw).map(|j| e[j] / z * at(v, i, j)).sum::<f64>() as f32;
            }
        }
    }
    (o, probs)
}

/// Reference of [`super::layer_norm`] over rows of `c` values.
pub fn layer_norm(x: &[f32], gamma: &[f32], beta: &[f32], c: usize, eps: f32) -> Vec<f32> {
    let mut out = Vec::with_capacity(x.len());
    for row in x.chunks(c) {
        let mean = row.iter().map(|&v| v as f64).sum::<f64>() / c as f64;
        let var = row.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / c as f64;
        let rstd = 1.0 / (var + eps as f64).sqrt();
        for (j, &v) in row.iter().enumerate() {
            out.push(((v as f64 - mean) * rstd * gamma[j] as f64 + beta[j] as f64) as f32);
        }
    }
    out
}

/// `erf` in f64 (the Maclaurin series below 3, the continued fraction of `erfc` above; error near
/// 1e-15), for the GELU references.
pub fn erf(x: f64) -> f64 {
    let a = x.abs();
    let v = if a < 3.0 {
        let (mut term, mut sum) = (a, a);
        for n in 1..200 {
            term *= -a * a / n as f64;
            let t = term / (2 * n + 1) as f64;
            sum += t;
            if t.abs() < 1e-17 * sum.abs() {
                break;
            }
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    } else {
        // erfc(a) = exp(-a^2) / sqrt(pi) / (a + (1/2) / (a + 1 / (a + (3/2) / (a + ...))))
        let mut f = a;
        for k in (1..80).rev() {
            f = a + (k as f64 / 2.0) / f;
        }
        1.0 - (-a * a).exp() / std::f64::consts::PI.sqrt() / f
    };
    v.copysign(x)
}

/// Reference of [`super::gelu`].
pub fn gelu(x: &[f32], kind: super::Gelu) -> Vec<f32> {
    x.iter()
        .map(|&v| {
            let v = v as f64;
            let y = match kind {
                super::Gelu::Quick => v / (1.0 + (-1.702 * v).exp()),
                super::Gelu::Erf => 0.5 * v * (1.0 + erf(v / std::f64::consts::SQRT_2)),
                super::Gelu::Tanh => {
                    let u = (2.0 / std::f64::consts::PI).sqrt() * (v + 0.044715 * v * v * v);
                    0.5 * v * (1.0 + u.tanh())
                }
            };
            y as f32
        })
        .collect()
}

/// Reference of [`super::causal_mask`]: `-1e30` where a key comes after its query.
pub fn causal_mask(x: &[f32], tq: usize, tk: usize) -> Vec<f32> {
    x.iter()
        .enumerate()
        .map(|(i, &v)| {
            let (k, q) = (i % tk, (i / tk) % tq);
            if k + tq > q + tk { -1e30 } else { v }
        })
        .collect()
}

/// Reference of [`super::attention_tokens`]: `q` `[B, tq, H*d]`, `k`, `v` `[B, tk, H*d]`.
pub fn attention_tokens(q: &[f32], k: &[f32], v: &[f32], s: super::TokenAttentionSpec) -> Vec<f32> {
    let (h, d) = (s.heads, s.dim_head);
    let inner = h * d;
    let mut out = vec![0f32; s.batch * s.tq * inner];
    for b in 0..s.batch {
        for hh in 0..h {
            for i in 0..s.tq {
                let qi = &q[(b * s.tq + i) * inner + hh * d..][..d];
                let visible = if s.causal { i + s.tk - s.tq + 1 } else { s.tk };
                let sc: Vec<f64> = (0..visible)
                    .map(|j| {
                        let kj = &k[(b * s.tk + j) * inner + hh * d..][..d];
                        s.alpha as f64 * qi.iter().zip(kj).map(|(a, c)| *a as f64 * *c as f64).sum::<f64>()
                    })
                    .collect();
                let m = sc.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = sc.iter().map(|x| (x - m).exp()).collect();
                let z: f64 = e.iter().sum();
                for c in 0..d {
                    let o: f64 = (0..visible)
                        .map(|j| e[j] / z * v[(b * s.tk + j) * inner + hh * d + c] as f64)
                        .sum();
                    out[(b * s.tq + i) * inner + hh * d + c] = o as f32;
                }
            }
        }
    }
    out
}
