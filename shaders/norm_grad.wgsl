// Gradients of group normalisation (with its optional fused SiLU) and of the row softmax.
//
// Group norm: u = xhat * gamma + beta, xhat = (x - mean) * inv, y = silu(u) or u. With
// du = dy * silu'(u) and g = du * gamma, the input gradient is
//   dx = inv * (g - mean(g) - xhat * mean(g * xhat))        (means over the group)
// groupnorm_dx: one workgroup per (sample, group); it also stores (mean, inv) per group for
// groupnorm_dparams, which sums dgamma[c] = sum du * xhat and dbeta[c] = sum du over samples and pixels,
// one workgroup per channel.
//
// Softmax (y = softmax(s * x) per row): dx = s * y * (dy - sum(dy * y)).

struct P {
    c: u32,
    hw: u32,
    groups: u32,
    silu: u32,
    eps: f32,
    batch: u32,
    len: u32,
    scale: f32,
}

@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;      // softmax: y
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;   // dx, or dgamma
@group(0) @binding(6) var<storage, read_write> aux: array<f32>;   // stats (dx), or dbeta

var<workgroup> red: array<vec2<f32>, 256>;

fn reduce2(lid: u32, v: vec2<f32>) -> vec2<f32> {
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

fn dsilu(u: f32) -> f32 {
    let sg = 1.0 / (1.0 + exp(-u));
    return sg * (1.0 + u * (1.0 - sg));
}

var<workgroup> red16: array<vec2<f32>, 16>;

// A sum over the workgroup in two barriers (16 threads add 16 partials each, then every thread adds
// those 16), instead of reduce2's tree of nine: on CPU adapters each barrier is a switch per SIMD group.
fn reduce_fast(lid: u32, v: vec2<f32>) -> vec2<f32> {
    red[lid] = v;
    workgroupBarrier();
    if (lid < 16u) {
        var t = vec2<f32>(0.0);
        for (var j = 0u; j < 16u; j++) { t += red[lid * 16u + j]; }
        red16[lid] = t;
    }
    workgroupBarrier();
    var r = vec2<f32>(0.0);
    for (var j = 0u; j < 16u; j++) { r += red16[j]; }
    return r;
}

@compute @workgroup_size(256)
fn groupnorm_dx(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let ng = wid.x;
    let g = ng % p.groups;
    let n = ng / p.groups;
    let cpg = p.c / p.groups;
    let count = cpg * p.hw;
    let base = (n * p.c + g * cpg) * p.hw;
    let fc = f32(count);

    var s = 0.0;
    for (var i = lid; i < count; i += 256u) { s += x[base + i]; }
    let mean = reduce_fast(lid, vec2<f32>(s, 0.0)).x / fc;
    var s2 = 0.0;
    for (var i = lid; i < count; i += 256u) {
        let d = x[base + i] - mean;
        s2 += d * d;
    }
    let inv = inverseSqrt(reduce_fast(lid, vec2<f32>(s2, 0.0)).x / fc + p.eps);

    // walk the group's channels without a division per element (i = ch * hw + r), loading gamma and
    // beta when the channel changes
    var ch = g * cpg + lid / p.hw;
    var r = lid % p.hw;
    var gm = 0.0;
    var bt = 0.0;
    if (lid < count) {
        gm = gamma[ch];
        bt = beta[ch];
    }
    var acc = vec2<f32>(0.0);
    for (var i = lid; i < count; i += 256u) {
        let xh = (x[base + i] - mean) * inv;
        var du = dy[base + i];
        if (p.silu != 0u) { du *= dsilu(xh * gm + bt); }
        let gg = du * gm;
        acc += vec2<f32>(gg, gg * xh);
        r += 256u;
        while (r >= p.hw) {
            r -= p.hw;
            ch += 1u;
            if (ch < p.c) {
                gm = gamma[ch];
                bt = beta[ch];
            }
        }
    }
    let m = reduce_fast(lid, acc) / fc;
    ch = g * cpg + lid / p.hw;
    r = lid % p.hw;
    if (lid < count) {
        gm = gamma[ch];
        bt = beta[ch];
    }
    for (var i = lid; i < count; i += 256u) {
        let xh = (x[base + i] - mean) * inv;
        var du = dy[base + i];
        if (p.silu != 0u) { du *= dsilu(xh * gm + bt); }
        out[base + i] = inv * (du * gm - m.x - xh * m.y);
        r += 256u;
        while (r >= p.hw) {
            r -= p.hw;
            ch += 1u;
            if (ch < p.c) {
                gm = gamma[ch];
                bt = beta[ch];
            }
        }
    }
    if (lid == 0u) {
        aux[2u * ng] = mean;
        aux[2u * ng + 1u] = inv;
    }
}

// The (mean, inv) table that groupnorm_dx wrote; groupnorm_dparams writes dgamma to `out`, dbeta to `aux`.
@group(0) @binding(7) var<storage, read> stats: array<f32>;

@compute @workgroup_size(256)
fn groupnorm_dparams(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let ch = wid.x;
    let cpg = p.c / p.groups;
    let g = ch / cpg;
    var acc = vec2<f32>(0.0);
    for (var n = 0u; n < p.batch; n++) {
        let ng = n * p.groups + g;
        let mean = stats[2u * ng];
        let inv = stats[2u * ng + 1u];
        let base = (n * p.c + ch) * p.hw;
        for (var i = lid; i < p.hw; i += 256u) {
            let xh = (x[base + i] - mean) * inv;
            var du = dy[base + i];
            if (p.silu != 0u) { du *= dsilu(xh * gamma[ch] + beta[ch]); }
            acc += vec2<f32>(du * xh, du);
        }
    }
    let r = reduce2(lid, acc);
    if (lid == 0u) {
        out[ch] = r.x;
        aux[ch] = r.y;
    }
}

@compute @workgroup_size(256)
fn softmax_backward(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
                    @builtin(num_workgroups) nwg: vec3<u32>) {
    let row = wid.x + wid.y * nwg.x;
    if (row >= p.batch) { return; }
    let base = row * p.len;
    var s = 0.0;
    for (var j = lid; j < p.len; j += 256u) { s += dy[base + j] * x[base + j]; }
    let dot = reduce2(lid, vec2<f32>(s, 0.0)).x;
    for (var j = lid; j < p.len; j += 256u) {
        out[base + j] = p.scale * x[base + j] * (dy[base + j] - dot);
    }
}

// Softmax gradient for CPU adapters: one invocation per row, no workgroup memory and no barrier (on
// llvmpipe a 256-wide workgroup per 64-long attention row left most lanes idle and paid a switch per
// barrier). Rows on a 2-D grid of 64-invocation groups.
@compute @workgroup_size(64)
fn softmax_backward_rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let row = gid.x + gid.y * nwg.x * 64u;
    if (row >= p.batch) { return; }
    let base = row * p.len;
    var s = 0.0;
    for (var j = 0u; j < p.len; j++) { s += dy[base + j] * x[base + j]; }
    for (var j = 0u; j < p.len; j++) {
        out[base + j] = p.scale * x[base + j] * (dy[base + j] - s);
    }
}
