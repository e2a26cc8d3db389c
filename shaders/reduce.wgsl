// Row reductions: out[r] = sum_j x[r, j] (sum_rows) or sum_j x[r, j]^2 (sumsq_rows). One 256-thread
// workgroup per row on a 2-D grid; each thread accumulates a strided slice, then a tree in workgroup
// memory.

struct P {
    rows: u32,
    len: u32,
    _p0: u32,
    _p1: u32,
}

@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> red: array<f32, 256>;

fn finish(lid: u32, row: u32, v: f32) {
    red[lid] = v;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s >>= 1u) {
        if (lid < s) { red[lid] += red[lid + s]; }
        workgroupBarrier();
    }
    if (lid == 0u) { out[row] = red[0]; }
}

@compute @workgroup_size(256)
fn sum_rows(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
            @builtin(num_workgroups) nwg: vec3<u32>) {
    let row = wid.x + wid.y * nwg.x;
    if (row >= p.rows) { return; }
    var s = 0.0;
    for (var j = lid; j < p.len; j += 256u) { s += x[row * p.len + j]; }
    finish(lid, row, s);
}

@compute @workgroup_size(256)
fn sumsq_rows(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
              @builtin(num_workgroups) nwg: vec3<u32>) {
    let row = wid.x + wid.y * nwg.x;
    if (row >= p.rows) { return; }
    var s = 0.0;
    for (var j = lid; j < p.len; j += 256u) {
        let v = x[row * p.len + j];
        s += v * v;
    }
    finish(lid, row, s);
}
