// Row softmax with a scale: out[r, j] = exp(s*x[r, j] - max) / sum. One 256-thread workgroup per row
// (2-D grid for many rows); max, then sum of exponentials, then the write.

struct P {
    rows: u32,
    len: u32,
    scale: f32,
    _p0: u32,
}

@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(256)
fn softmax(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
           @builtin(num_workgroups) nwg: vec3<u32>) {
    let row = wid.x + wid.y * nwg.x;
    if (row >= p.rows) { return; }
    let base = row * p.len;
    var m = -3.4e38;
    for (var j = lid; j < p.len; j += 256u) { m = max(m, p.scale * x[base + j]); }
    red[lid] = m;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s >>= 1u) {
        if (lid < s) { red[lid] = max(red[lid], red[lid + s]); }
        workgroupBarrier();
    }
    let mx = red[0];
    workgroupBarrier();
    var sum = 0.0;
    for (var j = lid; j < p.len; j += 256u) { sum += exp(p.scale * x[base + j] - mx); }
    red[lid] = sum;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s >>= 1u) {
        if (lid < s) { red[lid] += red[lid + s]; }
        workgroupBarrier();
    }
    let inv = 1.0 / red[0];
    for (var j = lid; j < p.len; j += 256u) {
        out[base + j] = exp(p.scale * x[base + j] - mx) * inv;
    }
}
