// Row softmax with a scale: out[r, j] = exp(s*x[r, j] - max) / sum. One 64-thread workgroup per row
// (2-D grid for many rows). Each thread keeps a private max and sum over its strided slice, reduced by
// wg_max / wg_sum of reduce_workgroup.inc (subgroup operations in the `#subgroup` variant,
// reduce_subgroup.inc). The exponentials are written in the sum pass and rescaled in place, so each
// element is exponentiated once.

struct P {
    rows: u32,
    len: u32,
    scale: f32,
    _p0: u32,
}

@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

const WG: u32 = 64u;

//!include reduce_workgroup.inc

@compute @workgroup_size(64)
fn softmax(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
           @builtin(num_workgroups) nwg: vec3<u32>) {
    let row = wid.x + wid.y * nwg.x;
    // uniform over the workgroup, so the barriers below stay in uniform control flow
    if (row >= p.rows) { return; }
    let base = row * p.len;
    let s = p.scale;

    var m = -3.4e38;
    for (var j = lid; j < p.len; j += WG) { m = max(m, s * x[base + j]); }
    let mx = wg_max(lid, m);

    var sum = 0.0;
    for (var j = lid; j < p.len; j += WG) {
        let e = exp(s * x[base + j] - mx);
        out[base + j] = e;
        sum += e;
    }
    let inv = 1.0 / wg_sum(lid, sum);
    for (var j = lid; j < p.len; j += WG) { out[base + j] *= inv; }
}

// The same for CPU adapters: one invocation per row (see softmax_backward_rows in norm_grad.wgsl).
@compute @workgroup_size(64)
fn softmax_rows_cpu(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let row = gid.x + gid.y * nwg.x * 64u;
    if (row >= p.rows) { return; }
    let base = row * p.len;
    let s = p.scale;
    var mx = -3.4e38;
    for (var j = 0u; j < p.len; j++) { mx = max(mx, s * x[base + j]); }
    var sum = 0.0;
    for (var j = 0u; j < p.len; j++) {
        let e = exp(s * x[base + j] - mx);
        out[base + j] = e;
        sum += e;
    }
    let inv = 1.0 / sum;
    for (var j = 0u; j < p.len; j++) { out[base + j] *= inv; }
}
