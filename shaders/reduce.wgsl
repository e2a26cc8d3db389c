// Row reductions: out[r] = sum_j x[r, j] (sum_rows) or sum_j x[r, j]^2 (sumsq_rows). One 256-thread
// workgroup per row on a 2-D grid; each thread accumulates a strided slice, then two barriers: 16
// threads each add 16 partials, and the first thread adds those 16 (a tree would take 8 barriers, each
// a switch per SIMD group on CPU backends).
// Device-side checks that spare a readback:
// - flag_nonfinite: one workgroup; if any of the `len` values of x is NaN or infinite and the flag
//   out[0] is still 0, out[0] = code (the first failure is kept, so the host learns where it began).
// - argmin_runs: x holds `len` runs' values for `rows` observations (run r, observation i at
//   r * rows + i); out[i] = the global row r * rows + i of the smallest finite value (run 0 when none
//   is finite), as f32, for gather_rows.

struct P {
    rows: u32,
    len: u32,
    code: u32, // flag_nonfinite: the value written to the flag
    _p1: u32,
}

@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

const WG: u32 = 256u;

var<workgroup> red: array<vec4<f32>, 64>;  // 256 partials
var<workgroup> red2: array<f32, 16>;

fn finish(lid: u32, row: u32, v: f32) {
    red[lid / 4u][lid % 4u] = v;
    workgroupBarrier();
    if (lid < 16u) {
        let b = lid * 4u;
        let s = (red[b] + red[b + 1u]) + (red[b + 2u] + red[b + 3u]);
        red2[lid] = (s.x + s.y) + (s.z + s.w);
    }
    workgroupBarrier();
    if (lid == 0u) {
        var t = 0.0;
        for (var i = 0u; i < 16u; i++) { t += red2[i]; }
        out[row] = t;
    }
}

@compute @workgroup_size(256)
fn sum_rows(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
            @builtin(num_workgroups) nwg: vec3<u32>) {
    let row = wid.x + wid.y * nwg.x;
    if (row >= p.rows) { return; }
    let base = row * p.len;
    var s0 = 0.0;
    var s1 = 0.0;
    var j = lid;
    for (; j + WG < p.len; j += 2u * WG) {
        s0 += x[base + j];
        s1 += x[base + j + WG];
    }
    if (j < p.len) { s0 += x[base + j]; }
    finish(lid, row, s0 + s1);
}

@compute @workgroup_size(256)
fn sumsq_rows(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
              @builtin(num_workgroups) nwg: vec3<u32>) {
    let row = wid.x + wid.y * nwg.x;
    if (row >= p.rows) { return; }
    let base = row * p.len;
    var s0 = 0.0;
    var s1 = 0.0;
    var j = lid;
    for (; j + WG < p.len; j += 2u * WG) {
        let u = x[base + j];
        let v = x[base + j + WG];
        s0 += u * u;
        s1 += v * v;
    }
    if (j < p.len) {
        let u = x[base + j];
        s0 += u * u;
    }
    finish(lid, row, s0 + s1);
}

fn nonfinite(v: f32) -> bool {
    // the exponent bits, not v != v: WGSL lets a compiler assume no NaN or infinity in arithmetic
    return (bitcast<u32>(v) & 0x7f800000u) == 0x7f800000u;
}

var<workgroup> bad: atomic<u32>;

@compute @workgroup_size(256)
fn flag_nonfinite(@builtin(local_invocation_index) lid: u32) {
    // kernels are compiled without workgroup zero-initialisation: clear it first
    if (lid == 0u) { atomicStore(&bad, 0u); }
    workgroupBarrier();
    var found = false;
    for (var j = lid; j < p.len; j += WG) {
        found = found || nonfinite(x[j]);
    }
    if (found) { atomicStore(&bad, 1u); }
    workgroupBarrier();
    if (lid == 0u && atomicLoad(&bad) != 0u && out[0] == 0.0) {
        out[0] = f32(p.code);
    }
}

@compute @workgroup_size(256)
fn argmin_runs(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * WG;
    if (i >= p.rows) { return; }
    var best = 0u;
    var bv = 0.0;
    var have = false;
    for (var r = 0u; r < p.len; r++) {
        let v = x[r * p.rows + i];
        if (!nonfinite(v) && (!have || v < bv)) {
            best = r;
            bv = v;
            have = true;
        }
    }
    out[i] = f32(best * p.rows + i);
}
