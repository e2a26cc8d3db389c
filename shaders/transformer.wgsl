// Kernels of transformer blocks (CLIP's text encoder; Stable Diffusion's UNet transformer blocks):
// layer norm over the last dimension and its backward, GELU variants and their backward, the causal
// mask of self-attention and the head split/merge permutations. One invocation per output element
// (per row for the layer norms, per column for their parameter gradients), 64-thread workgroups on a
// 2-D grid: the flat index is gid.x + gid.y * num_workgroups.x * 64. The same kernels run on every
// adapter (they are a small share of a text encoder's time; the products dominate).

struct P {
    n: u32,     // outputs (elements, rows or columns)
    rows: u32,  // layer norm: rows
    len: u32,   // layer norm: row length; mask: keys per row
    mode: u32,  // gelu: 0 quick_gelu, 1 erf, 2 tanh; permute: 0 split, 1 merge
    eps: f32,   // layer norm epsilon
    t: u32,     // mask: queries per block; permute: tokens
    h: u32,     // permute: heads
    d: u32,     // permute: channels a head
}

@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> c: array<f32>;
@group(0) @binding(4) var<storage, read> s: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@group(0) @binding(6) var<storage, read_write> out2: array<f32>;

fn flat(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * 64u;
}

// Layer norm of row r of a (len values): out = (a - mean) / sqrt(var + eps) * b + c (b: gamma, c:
// beta); out2[2r], out2[2r + 1] = mean, 1 / sqrt(var + eps) for the backward. Two passes over the row
// (the variance of the centred values, not E[x^2] - mean^2).
@compute @workgroup_size(64)
fn layer_norm(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let r = flat(gid, nwg);
    if (r >= p.rows) { return; }
    let base = r * p.len;
    var sum = 0.0;
    for (var j = 0u; j < p.len; j++) { sum += a[base + j]; }
    let mean = sum / f32(p.len);
    var sq = 0.0;
    for (var j = 0u; j < p.len; j++) {
        let dv = a[base + j] - mean;
        sq += dv * dv;
    }
    let rstd = inverseSqrt(sq / f32(p.len) + p.eps);
    for (var j = 0u; j < p.len; j++) {
        out[base + j] = (a[base + j] - mean) * rstd * b[j] + c[j];
    }
    out2[2u * r] = mean;
    out2[2u * r + 1u] = rstd;
}

// Gradient of the layer norm with respect to its input, row r: with xh = (a - mean) * rstd and
// gh = c * b (c: the output's gradient, b: gamma), out = rstd * (gh - mean(gh) - xh * mean(gh * xh)).
// s holds the forward's (mean, rstd) per row.
@compute @workgroup_size(64)
fn layer_norm_dx(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let r = flat(gid, nwg);
    if (r >= p.rows) { return; }
    let base = r * p.len;
    let mean = s[2u * r];
    let rstd = s[2u * r + 1u];
    var m1 = 0.0;
    var m2 = 0.0;
    for (var j = 0u; j < p.len; j++) {
        let gh = c[base + j] * b[j];
        m1 += gh;
        m2 += gh * (a[base + j] - mean) * rstd;
    }
    m1 /= f32(p.len);
    m2 /= f32(p.len);
    for (var j = 0u; j < p.len; j++) {
        let xh = (a[base + j] - mean) * rstd;
        out[base + j] = rstd * (c[base + j] * b[j] - m1 - xh * m2);
    }
}

// Gradients of gamma and beta, column j: out[j] = sum_r c[r, j] * xh[r, j], out2[j] = sum_r c[r, j].
@compute @workgroup_size(64)
fn layer_norm_dparams(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let j = flat(gid, nwg);
    if (j >= p.len) { return; }
    var dg = 0.0;
    var db = 0.0;
    for (var r = 0u; r < p.rows; r++) {
        let i = r * p.len + j;
        dg += c[i] * (a[i] - s[2u * r]) * s[2u * r + 1u];
        db += c[i];
    }
    out[j] = dg;
    out2[j] = db;
}

const SQRT_2_OVER_PI: f32 = 0.7978845608028654;
const INV_SQRT_2: f32 = 0.7071067811865476;
const INV_SQRT_2PI: f32 = 0.3989422804014327;

fn sigmoid(z: f32) -> f32 {
    return 1.0 / (1.0 + exp(-z));
}

// erf by Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7); WGSL has no erf.
fn erf_approx(z: f32) -> f32 {
    let t = 1.0 / (1.0 + 0.3275911 * abs(z));
    let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    let e = 1.0 - poly * exp(-z * z);
    return select(-e, e, z >= 0.0);
}

// tanh with its argument clamped (tanh(15) is 1 in f32), so no exp overflows into NaN
fn tanh_safe(z: f32) -> f32 {
    return tanh(clamp(z, -15.0, 15.0));
}

fn tanh_arg(x: f32) -> f32 {
    return SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
}

// mode 0: quick_gelu x * sigmoid(1.702 x); 1: x * Phi(x) (erf); 2: the tanh approximation
fn gelu_of(x: f32) -> f32 {
    if (p.mode == 0u) {
        return x * sigmoid(1.702 * x);
    } else if (p.mode == 1u) {
        return 0.5 * x * (1.0 + erf_approx(x * INV_SQRT_2));
    }
    return 0.5 * x * (1.0 + tanh_safe(tanh_arg(x)));
}

// the derivative of gelu_of
fn gelu_deriv(x: f32) -> f32 {
    if (p.mode == 0u) {
        let sg = sigmoid(1.702 * x);
        return sg + 1.702 * x * sg * (1.0 - sg);
    } else if (p.mode == 1u) {
        return 0.5 * (1.0 + erf_approx(x * INV_SQRT_2)) + x * INV_SQRT_2PI * exp(-0.5 * x * x);
    }
    let th = tanh_safe(tanh_arg(x));
    return 0.5 * (1.0 + th) + 0.5 * x * (1.0 - th * th) * SQRT_2_OVER_PI * (1.0 + 3.0 * 0.044715 * x * x);
}

@compute @workgroup_size(64)
fn gelu(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n) { return; }
    out[i] = gelu_of(a[i]);
}

// out = c * gelu'(a)
@compute @workgroup_size(64)
fn gelu_grad(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n) { return; }
    out[i] = c[i] * gelu_deriv(a[i]);
}

// GEGLU (diffusers' feed-forward gate): rows of a are [x | g], len values each; out[r, j] =
// x[r, j] * gelu(g[r, j]) over n = rows * len outputs.
@compute @workgroup_size(64)
fn geglu(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n) { return; }
    let r = i / p.len;
    let j = i % p.len;
    let base = r * 2u * p.len;
    out[i] = a[base + j] * gelu_of(a[base + p.len + j]);
}

// Its gradient with respect to a ([rows, 2 len], n = rows * 2 len outputs) from the output's
// gradient c ([rows, len]): dx = c * gelu(g), dg = c * x * gelu'(g).
@compute @workgroup_size(64)
fn geglu_grad(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n) { return; }
    let w = 2u * p.len;
    let r = i / w;
    let k = i % w;
    let j = k % p.len;
    let x = a[r * w + j];
    let g = a[r * w + p.len + j];
    let dy = c[r * p.len + j];
    out[i] = select(dy * x * gelu_deriv(g), dy * gelu_of(g), k < p.len);
}

// Causal mask of [blocks, t, len] scores (query row q, key column k): keys after the query's position
// (k > q + len - t) are replaced by -1e30 (softmax gives them weight 0), the others are copied. mode 1:
// the backward, c's values passed where they were kept and 0 elsewhere.
@compute @workgroup_size(64)
fn causal_mask(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n) { return; }
    let k = i % p.len;
    let q = (i / p.len) % p.t;
    let masked = k + p.t > q + p.len;
    if (p.mode == 0u) {
        out[i] = select(a[i], -1e30, masked);
    } else {
        out[i] = select(c[i], 0.0, masked);
    }
}

// Heads: mode 0 splits [B, t, h, d] into [B, h, t, d]; mode 1 merges [B, h, t, d] into [B, t, h, d].
@compute @workgroup_size(64)
fn permute_heads(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n) { return; }
    let e = i % p.d;
    let r = i / p.d;
    if (p.mode == 0u) {
        // i indexes [B, h, t, d]
        let tt = r % p.t;
        let hh = (r / p.t) % p.h;
        let bb = r / (p.t * p.h);
        out[i] = a[((bb * p.t + tt) * p.h + hh) * p.d + e];
    } else {
        // i indexes [B, t, h, d]
        let hh = r % p.h;
        let tt = (r / p.h) % p.t;
        let bb = r / (p.t * p.h);
        out[i] = a[((bb * p.h + hh) * p.t + tt) * p.d + e];
    }
}
