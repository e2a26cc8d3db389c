// Group normalisation (torch.nn.GroupNorm: biased variance, eps inside the square root) with the affine
// transform and an optional fused SiLU. One 256-thread workgroup per (sample, group); the group's
// channels are contiguous in NCHW, so each pass streams one block of cpg*hw values. Mean first, then
// the variance of the centred values (two passes: no catastrophic cancellation). Each reduction takes
// two barriers (16 threads add 16 partials each, then every thread adds those 16) instead of a tree.

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

var<workgroup> red: array<vec4<f32>, 64>; // 256 partials
var<workgroup> red_a: array<vec4<f32>, 4>; // 16 partials of the first reduction
var<workgroup> red_b: array<vec4<f32>, 4>; // and of the second

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
    red[lid / 4u][lid % 4u] = s;
    workgroupBarrier();
    if (lid < 16u) {
        let b = lid * 4u;
        let v = (red[b] + red[b + 1u]) + (red[b + 2u] + red[b + 3u]);
        red_a[lid / 4u][lid % 4u] = (v.x + v.y) + (v.z + v.w);
    }
    workgroupBarrier();
    let ta = (red_a[0] + red_a[1]) + (red_a[2] + red_a[3]);
    let mean = ((ta.x + ta.y) + (ta.z + ta.w)) / f32(count);

    var s2 = 0.0;
    for (var i = lid; i < count; i += WG) {
        let d = x[base + i] - mean;
        s2 += d * d;
    }
    // red is free again: every thread read its partials before the second barrier
    red[lid / 4u][lid % 4u] = s2;
    workgroupBarrier();
    if (lid < 16u) {
        let b = lid * 4u;
        let v = (red[b] + red[b + 1u]) + (red[b + 2u] + red[b + 3u]);
        red_b[lid / 4u][lid % 4u] = (v.x + v.y) + (v.z + v.w);
    }
    workgroupBarrier();
    let tb = (red_b[0] + red_b[1]) + (red_b[2] + red_b[3]);
    let inv = inverseSqrt(((tb.x + tb.y) + (tb.z + tb.w)) / f32(count) + p.eps);

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
