// Row kernels of the particle solvers (see particles.wgsl):
// - gather_rows: out row r = x row idx[r], for particles and any per-particle state (idx as f32).
// - weighted_moments: for G groups of K rows and each element j, the mean and the standard deviation
//   over the group's rows weighted by exp(logw) (normalised by log-sum-exp; non-finite log weights
//   count as weight zero, and a group with no weight left averages uniformly).

struct P {
    rows: u32, // gather: output rows; moments: groups
    len: u32,  // elements per row
    k: u32,    // moments: rows per group
    _p: u32,
}

@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> aux: array<f32>; // gather: idx; moments: logw
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> out2: array<f32>;

const NEG: f32 = -3.0e38;

fn flat(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * 256u;
}

@compute @workgroup_size(256)
fn gather_rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.rows * p.len) { return; }
    let r = i / p.len;
    let src = u32(aux[r]);
    out[i] = x[src * p.len + (i - r * p.len)];
}

fn lw(i: u32) -> f32 {
    let v = aux[i];
    return select(NEG, v, (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u);
}

@compute @workgroup_size(256)
fn weighted_moments(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.rows * p.len) { return; }
    let g = i / p.len;
    let j = i - g * p.len;
    let base = g * p.k;
    var m = NEG;
    for (var r = 0u; r < p.k; r++) { m = max(m, lw(base + r)); }
    let dead = m <= NEG;
    var s = 0.0;
    var s1 = 0.0;
    for (var r = 0u; r < p.k; r++) {
        let w = select(exp(lw(base + r) - m), 1.0, dead);
        s += w;
        s1 += w * x[(base + r) * p.len + j];
    }
    let mean = s1 / s;
    var s2 = 0.0;
    for (var r = 0u; r < p.k; r++) {
        let w = select(exp(lw(base + r) - m), 1.0, dead);
        let d = x[(base + r) * p.len + j] - mean;
        s2 += w * d * d;
    }
    out[i] = mean;
    out2[i] = sqrt(s2 / s);
}
