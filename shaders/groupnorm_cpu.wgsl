// Group normalisation and its input gradient for CPU adapters (same maths as groupnorm.wgsl and
// norm_grad.wgsl's groupnorm_dx), when every channel's pixel count is a multiple of four.
//
// On llvmpipe a storage load at a per-invocation address inside a loop is done lane by lane, so the
// cost is the number of loads, not the bytes: these kernels read and write vec4s (a quarter of the
// loads), and a workgroup is 8 invocations, one SIMD group of llvmpipe's 8 lanes: with several, each
// barrier switches between their fibres, and everything live across it is saved and restored (three
// batch-8 forward + VJPs of the bundled prior: 0.155 s in these kernels with 64 invocations, 0.091
// with 8).
// One workgroup per (sample, group); vec4 i of the group lies in channel g * cpg + i / (hw / 4).

struct P {
    c: u32,       // channels
    hw: u32,      // pixels per channel (a multiple of 4)
    groups: u32,
    silu: u32,    // 1: y = silu(u) after the affine transform u
    eps: f32,
    keep: u32,    // groupnorm_v4: store (mean, inv) per group in `stats` for the backward
    given: u32,   // groupnorm_dx_v4: read them from `stats` instead of recomputing them
    _p: u32,
}

@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> dy: array<vec4<f32>>;    // groupnorm_v4: x again
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> stats: array<f32>; // (mean, inv) per (sample, group)

const WG: u32 = 8u;

var<workgroup> red: array<vec2<f32>, 8>;

// Sum over the workgroup's eight invocations.
fn reduce(lid: u32, v: vec2<f32>) -> vec2<f32> {
    red[lid] = v;
    workgroupBarrier();
    let r = ((red[0] + red[1]) + (red[2] + red[3])) + ((red[4] + red[5]) + (red[6] + red[7]));
    workgroupBarrier();
    return r;
}

fn hsum(v: vec4<f32>) -> f32 {
    return (v.x + v.y) + (v.z + v.w);
}

struct Stats {
    mean: f32,
    inv: f32,
}

// Mean and inverse standard deviation of the group's `n4` vec4s from `base4`, in one pass: sums of
// the values and their squares shifted by the group's first value (which lies within a few standard
// deviations of the mean, so the difference of the two sums loses little to cancellation).
fn group_stats(lid: u32, base4: u32, n4: u32) -> Stats {
    let fc = f32(4u * n4);
    let shift = vec4<f32>(x[base4].x);
    var s = vec4<f32>(0.0);
    var s2 = vec4<f32>(0.0);
    for (var i = lid; i < n4; i += WG) {
        let d = x[base4 + i] - shift;
        s += d;
        s2 += d * d;
    }
    let t = reduce(lid, vec2<f32>(hsum(s), hsum(s2))) / fc;
    let inv = inverseSqrt(max(t.y - t.x * t.x, 0.0) + p.eps);
    return Stats(shift.x + t.x, inv);
}

fn silu4(v: vec4<f32>) -> vec4<f32> {
    return v / (vec4<f32>(1.0) + exp(-v));
}

fn dsilu4(u: vec4<f32>) -> vec4<f32> {
    let sg = vec4<f32>(1.0) / (vec4<f32>(1.0) + exp(-u));
    return sg * (vec4<f32>(1.0) + u * (vec4<f32>(1.0) - sg));
}

@compute @workgroup_size(8)
fn groupnorm_v4(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let ng = wid.x;
    let g = ng % p.groups;
    let n = ng / p.groups;
    let cpg = p.c / p.groups;
    let hw4 = p.hw / 4u;
    let n4 = cpg * hw4;
    let base4 = (n * p.c + g * cpg) * hw4;
    let st = group_stats(lid, base4, n4);
    if (p.keep != 0u && lid == 0u) {
        stats[2u * ng] = st.mean;
        stats[2u * ng + 1u] = st.inv;
    }

    // walk the channels (vec4 i = ch * hw4 + r) with the affine transform folded into scale and shift
    var ch = g * cpg + lid / hw4;
    var r = lid % hw4;
    var sc = 0.0;
    var sh = 0.0;
    if (lid < n4) {
        sc = st.inv * gamma[ch];
        sh = beta[ch] - st.mean * sc;
    }
    for (var i = lid; i < n4; i += WG) {
        var v = x[base4 + i] * sc + vec4<f32>(sh);
        if (p.silu != 0u) { v = silu4(v); }
        out[base4 + i] = v;
        r += WG;
        while (r >= hw4) {
            r -= hw4;
            ch += 1u;
            if (ch < p.c) {
                sc = st.inv * gamma[ch];
                sh = beta[ch] - st.mean * sc;
            }
        }
    }
}

// dx = inv * (g - mean(g) - xhat * mean(g * xhat)) with du = dy * silu'(u) (or dy), g = du * gamma;
// takes (mean, inv) from `stats` where the forward kept them (`given`), else computes and stores them
// there for norm_grad.wgsl's groupnorm_dparams.
@compute @workgroup_size(8)
fn groupnorm_dx_v4(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let ng = wid.x;
    let g = ng % p.groups;
    let n = ng / p.groups;
    let cpg = p.c / p.groups;
    let hw4 = p.hw / 4u;
    let n4 = cpg * hw4;
    let base4 = (n * p.c + g * cpg) * hw4;
    var st: Stats;
    if (p.given != 0u) {
        st = Stats(stats[2u * ng], stats[2u * ng + 1u]);
    } else {
        st = group_stats(lid, base4, n4);
    }
    let mean = vec4<f32>(st.mean);

    var ch = g * cpg + lid / hw4;
    var r = lid % hw4;
    var gm = 0.0;
    var bt = 0.0;
    if (lid < n4) {
        gm = gamma[ch];
        bt = beta[ch];
    }
    var acc = vec2<f32>(0.0);
    for (var i = lid; i < n4; i += WG) {
        let xh = (x[base4 + i] - mean) * st.inv;
        var du = dy[base4 + i];
        if (p.silu != 0u) { du *= dsilu4(xh * gm + vec4<f32>(bt)); }
        let gg = du * gm;
        acc += vec2<f32>(hsum(gg), hsum(gg * xh));
        r += WG;
        while (r >= hw4) {
            r -= hw4;
            ch += 1u;
            if (ch < p.c) {
                gm = gamma[ch];
                bt = beta[ch];
            }
        }
    }
    let m = reduce(lid, acc) / f32(4u * n4);
    ch = g * cpg + lid / hw4;
    r = lid % hw4;
    if (lid < n4) {
        gm = gamma[ch];
        bt = beta[ch];
    }
    for (var i = lid; i < n4; i += WG) {
        let xh = (x[base4 + i] - mean) * st.inv;
        var du = dy[base4 + i];
        if (p.silu != 0u) { du *= dsilu4(xh * gm + vec4<f32>(bt)); }
        out[base4 + i] = st.inv * (du * gm - vec4<f32>(m.x) - xh * m.y);
        r += WG;
        while (r >= hw4) {
            r -= hw4;
            ch += 1u;
            if (ch < p.c) {
                gm = gamma[ch];
                bt = beta[ch];
            }
        }
    }
    if (lid == 0u && p.given == 0u) {
        stats[2u * ng] = st.mean;
        stats[2u * ng + 1u] = st.inv;
    }
}
