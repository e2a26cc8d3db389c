// Group normalisation (torch.nn.GroupNorm: biased variance, eps inside the square root) with the affine
// transform and an optional fused SiLU. One 256-thread workgroup per (sample, group); the group's
// channels are contiguous in NCHW, so each pass streams one block of cpg*hw values. Mean first, then
// the variance of the centred values (two passes: no catastrophic cancellation). The reductions are
// wg_sum of reduce_workgroup.inc (16 threads add 16 partials each, then every thread adds those 16:
// no tree), or subgroup sums in the `#subgroup` variant (reduce_subgroup.inc).

struct P {
    c: u32,       // channels
    hw: u32,      // pixels per channel
    groups: u32,
    silu: u32,    // 1: apply x*sigmoid(x) after the affine transform
    eps: f32,
    _p0: u32, _p1: u32, _p2: u32,
}

@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

const WG: u32 = 256u;

//!include reduce_workgroup.inc

@compute @workgroup_size(256)
fn groupnorm(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let ng = wid.x;                  // n * groups + g
    let g = ng % p.groups;
    let n = ng / p.groups;
    let cpg = p.c / p.groups;
    let count = cpg * p.hw;
    let base = (n * p.c + g * cpg) * p.hw;

    var s = 0.0;
    for (var i = lid; i < count; i += WG) { s += x[base + i]; }
    let mean = wg_sum(lid, s) / f32(count);

    var s2 = 0.0;
    for (var i = lid; i < count; i += WG) {
        let d = x[base + i] - mean;
        s2 += d * d;
    }
    let inv = inverseSqrt(wg_sum(lid, s2) / f32(count) + p.eps);

    // walk the group's channels without a division per element (i = ch * hw + r), with the affine
    // transform folded into one scale and shift, reloaded when the channel changes
    var ch = g * cpg + lid / p.hw;
    var r = lid % p.hw;
    var sc = 0.0;
    var sh = 0.0;
    if (lid < count) {
        sc = inv * gamma[ch];
        sh = beta[ch] - mean * sc;
    }
    for (var i = lid; i < count; i += WG) {
        var v = x[base + i] * sc + sh;
        if (p.silu != 0u) { v = v / (1.0 + exp(-v)); }
        out[base + i] = v;
        r += WG;
        while (r >= p.hw) {
            r -= p.hw;
            ch += 1u;
            if (ch < p.c) {
                sc = inv * gamma[ch];
                sh = beta[ch] - mean * sc;
            }
        }
    }
}
