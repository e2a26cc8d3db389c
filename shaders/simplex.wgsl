// Euclidean projection of each row of k onto the probability simplex {w >= 0, sum w = 1}, in place
// (see src/ops/optim.rs, project_simplex). One workgroup per row: w = max(k - tau, 0), where tau
// solves sum max(k - tau, 0) = 1. That sum falls monotonically in tau, equals 0 at tau = max k and
// is at least 1 at tau = max k - 1, so tau is found by bisection on [max k - 1, max k] (48 halvings
// reach f32 resolution), each with a workgroup reduction.

struct P {
    n: u32,
    rows: u32,
    pad0: u32,
    pad1: u32,
}

@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> unused: array<f32>;
@group(0) @binding(2) var<storage, read_write> k: array<f32>;

var<workgroup> red: array<f32, 256>;

fn wg_sum(l: u32, v: f32) -> f32 {
    red[l] = v;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s = s >> 1u) {
        if (l < s) { red[l] = red[l] + red[l + s]; }
        workgroupBarrier();
    }
    let r = red[0];
    workgroupBarrier();
    return r;
}

fn wg_max(l: u32, v: f32) -> f32 {
    red[l] = v;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s = s >> 1u) {
        if (l < s) { red[l] = max(red[l], red[l + s]); }
        workgroupBarrier();
    }
    let r = red[0];
    workgroupBarrier();
    return r;
}

@compute @workgroup_size(256)
fn project_simplex(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let base = wid.x * p.n;
    let l = lid.x;
    var mx = -3.0e38;
    for (var i = l; i < p.n; i = i + 256u) { mx = max(mx, k[base + i]); }
    mx = wg_max(l, mx);
    var lo = mx - 1.0;
    var hi = mx;
    for (var it = 0u; it < 48u; it = it + 1u) {
        let tau = 0.5 * (lo + hi);
        var s = 0.0;
        for (var i = l; i < p.n; i = i + 256u) { s = s + max(k[base + i] - tau, 0.0); }
        s = wg_sum(l, s);
        if (s > 1.0) { lo = tau; } else { hi = tau; }
    }
    let tau = 0.5 * (lo + hi);
    for (var i = l; i < p.n; i = i + 256u) { k[base + i] = max(k[base + i] - tau, 0.0); }
}
