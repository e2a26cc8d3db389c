// The vector pieces of batched conjugate gradients (see src/ops/cg.rs), all per row (one row per
// sample), so that no scalar leaves the device between iterations:
//   dot_rows:    out[r] = sum_j x[r, j] * y[r, j]          (one 256-thread workgroup per row)
//   axpy_ratio:  out[i] = x[i] + s * (num[r] / den[r]) * y[i],  r = i / len; 0 where den[r] = 0

struct P {
    rows: u32,
    len: u32,
    s: f32,
    _p0: u32,
}

@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read> num: array<f32>;
@group(0) @binding(4) var<storage, read> den: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(256)
fn dot_rows(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
            @builtin(num_workgroups) nwg: vec3<u32>) {
    let row = wid.x + wid.y * nwg.x;
    // every thread of the group reaches the barriers: rows past the end only skip the loads and store
    let live = row < p.rows;
    var s = 0.0;
    if (live) {
        let base = row * p.len;
        for (var j = lid; j < p.len; j += 256u) { s += x[base + j] * y[base + j]; }
    }
    red[lid] = s;
    workgroupBarrier();
    for (var k = 128u; k > 0u; k = k >> 1u) {
        if (lid < k) { red[lid] += red[lid + k]; }
        workgroupBarrier();
    }
    if (live && lid == 0u) { out[row] = red[0]; }
}

@compute @workgroup_size(256)
fn axpy_ratio(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 256u;
    if (i >= p.rows * p.len) { return; }
    let r = i / p.len;
    let d = den[r];
    var a = 0.0;
    if (d != 0.0) { a = num[r] / d; }
    out[i] = x[i] + p.s * a * y[i];
}
