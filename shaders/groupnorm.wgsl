// Group normalisation (torch.nn.GroupNorm: biased variance, eps inside the square root) with the affine
// transform and an optional fused SiLU. One 256-thread workgroup per (sample, group); the group's
// channels are contiguous in NCHW, so each pass streams one block of cpg*hw values. Mean first, then
// the variance of the centred values (two passes: no catastrophic cancellation).

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

var<workgroup> red: array<f32, 256>;

fn reduce_sum(lid: u32, v: f32) -> f32 {
    red[lid] = v;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s >>= 1u) {
        if (lid < s) { red[lid] += red[lid + s]; }
        workgroupBarrier();
    }
    let r = red[0];
    workgroupBarrier();
    return r;
}

@compute @workgroup_size(256)
fn groupnorm(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let ng = wid.x;                  // n * groups + g
    let g = ng % p.groups;
    let n = ng / p.groups;
    let cpg = p.c / p.groups;
    let count = cpg * p.hw;
    let base = (n * p.c + g * cpg) * p.hw;

    var s = 0.0;
    for (var i = lid; i < count; i += 256u) { s += x[base + i]; }
    let mean = reduce_sum(lid, s) / f32(count);
    var s2 = 0.0;
    for (var i = lid; i < count; i += 256u) {
        let d = x[base + i] - mean;
        s2 += d * d;
    }
    let inv = inverseSqrt(reduce_sum(lid, s2) / f32(count) + p.eps);
    for (var i = lid; i < count; i += 256u) {
        let ch = g * cpg + i / p.hw;
        var v = (x[base + i] - mean) * inv * gamma[ch] + beta[ch];
        if (p.silu != 0u) { v = v / (1.0 + exp(-v)); }
        out[base + i] = v;
    }
}
