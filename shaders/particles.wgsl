// Particle kernels of the sequential Monte Carlo solvers (TDS, SMCDiff, MCGdiff, FPS): G groups
// (one per observation) of K weighted particles, particle k of group g in row g*K + k.
//
// - resample: per group, log-sum-exp normalisation of the log weights, the effective sample size,
//   and, when ESS/K falls under a threshold (or always, when forced), systematic resampling: one
//   uniform u per group from the Philox stream, the positions (u + j)/K searched in the prefix sums
//   of the normalised weights. Writes the ancestor (a global row index) of every particle, the new
//   log weights (0 after resampling; shifted so that their maximum is 0 otherwise) and the ESS.
//   Non-finite log weights count as weight zero; a group whose weights are all zero resamples
//   uniformly.
//
// Ancestors travel as f32 (exact below 2^24 rows); particle_rows.wgsl gathers rows by them.

struct P {
    k: u32,
    groups: u32,
    seed_lo: u32,
    seed_hi: u32,
    step: u32,
    force: u32,
    threshold: f32, // resample when ESS < threshold * K
    _p: u32,
}

@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> logw: array<f32>;
@group(0) @binding(2) var<storage, read_write> anc: array<f32>;
@group(0) @binding(3) var<storage, read_write> logw_out: array<f32>;
@group(0) @binding(4) var<storage, read_write> ess_out: array<f32>;
@group(0) @binding(5) var<storage, read_write> cdf: array<f32>;

const WG: u32 = 256u;
const NEG: f32 = -3.0e38;

var<workgroup> red: array<f32, 256>;
var<workgroup> red2: array<f32, 256>;

//!include philox.inc

fn finite(v: f32) -> bool {
    return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u;
}

fn lw(i: u32) -> f32 {
    let v = logw[i];
    return select(NEG, v, finite(v));
}

// Sum (or max, when is_max) over the workgroup of each thread's value; every thread gets the result.
fn reduce(lid: u32, v: f32, is_max: bool) -> f32 {
    red[lid] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
        if (lid < s) {
            let o = red[lid + s];
            red[lid] = select(red[lid] + o, max(red[lid], o), is_max);
        }
        workgroupBarrier();
    }
    let r = workgroupUniformLoad(&red[0]); // uniform, so that later barriers stay in uniform control flow
    workgroupBarrier();
    return r;
}

@compute @workgroup_size(256)
fn resample(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let g = wid.x;
    if (g >= p.groups) { return; }
    let k = p.k;
    let base = g * k;
    var m = NEG;
    for (var j = lid; j < k; j += WG) { m = max(m, lw(base + j)); }
    m = reduce(lid, m, true);
    let dead = m <= NEG; // every weight zero: resample uniformly
    var s = 0.0;
    var s2 = 0.0;
    for (var j = lid; j < k; j += WG) {
        let w = select(exp(lw(base + j) - m), 1.0, dead);
        s += w;
        s2 += w * w;
    }
    s = reduce(lid, s, false);
    s2 = reduce(lid, s2, false);
    let ess = s * s / s2;
    if (lid == 0u) { ess_out[g] = ess; }
    let go = p.force != 0u || dead || ess < p.threshold * f32(k);
    if (!go) {
        for (var j = lid; j < k; j += WG) {
            anc[base + j] = f32(base + j);
            logw_out[base + j] = lw(base + j) - m;
        }
        return;
    }
    // prefix sums of the normalised weights: each thread a contiguous chunk
    let chunk = (k + WG - 1u) / WG;
    let lo = min(lid * chunk, k);
    let hi = min(lo + chunk, k);
    var local = 0.0;
    for (var j = lo; j < hi; j++) { local += select(exp(lw(base + j) - m), 1.0, dead) / s; }
    red2[lid] = local;
    workgroupBarrier();
    if (lid == 0u) {
        var acc = 0.0;
        for (var i = 0u; i < WG; i++) {
            let v = red2[i];
            red2[i] = acc;
            acc += v;
        }
    }
    workgroupBarrier();
    var run = red2[lid];
    for (var j = lo; j < hi; j++) {
        run += select(exp(lw(base + j) - m), 1.0, dead) / s;
        cdf[base + j] = run;
    }
    storageBarrier();
    workgroupBarrier();
    let r = philox(vec4<u32>(g, p.step, 0x5E5A3u, 0u), vec2<u32>(p.seed_lo, p.seed_hi));
    let u = f32(r.x >> 8u) * 5.9604644775390625e-8; // [0, 1)
    for (var j = lid; j < k; j += WG) {
        let pos = (u + f32(j)) / f32(k);
        // the first i with cdf[i] > pos
        var a = 0u;
        var b = k - 1u;
        while (a < b) {
            let mid = (a + b) / 2u;
            if (cdf[base + mid] > pos) { b = mid; } else { a = mid + 1u; }
        }
        anc[base + j] = f32(base + a);
        logw_out[base + j] = 0.0;
    }
}
