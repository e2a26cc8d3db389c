// 2-D convolution (cross-correlation, as in PyTorch) as an implicit GEMM:
//   out[b, co, oy, ox] = bias[co] + sum_{ci, ky, kx} w[co, ci, ky, kx] * x[b, ci, oy*s - pad_t + ky, ox*s - pad_l + kx]
// Rows M = cout, columns N = batch * ho * wo, depth K = cin * kh * kw. Tiling of gemm_tile.inc: a
// workgroup of TY x TX threads computes an (8*TY) x (8*TX) tile, each thread 8x8 outputs in sixteen
// named vec4 accumulators, with BK = 8 deep slices of the weights and of the gathered (im2col) input
// staged in workgroup memory as vec4 rows. Each thread gathers the same four output pixels in every
// slice, so their image offsets are computed once; a tap then costs one add and two unsigned range
// tests. Padding may be asymmetric: the output size is given, and out-of-range taps read zero. Entry
// points: conv2d_t16x16 (128x128 tiles), conv2d_t4x64 (32x512, cout <= 32), conv2d_t2x64 (16x512,
// cout <= 16), and conv2d_t8x8w (at the end) for CPU adapters.

struct P {
    batch: u32, cin: u32, h: u32, w: u32,
    cout: u32, ho: u32, wo: u32, kh: u32,
    kw: u32, stride: u32, pad_t: u32, pad_l: u32,
    has_bias: u32, _p0: u32, _p1: u32, _p2: u32,
}

@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> wt: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

//!include gemm_tile.inc

// w[m0 + m4*4 .. +4, k0 .. k0 + BK] into As (neighbouring threads take neighbouring k).
fn load_w(m0: u32, k0: u32, tid: u32, nt: u32, ap: u32) {
    let kt = p.cin * p.kh * p.kw;
    let full = m0 + 4u * ap <= p.cout && k0 + BK <= kt;
    for (var i = tid; i < BK * ap; i += nt) {
        let k = i % BK;
        let m4 = i / BK;
        let m = m0 + m4 * 4u;
        let kg = k0 + k;
        let base = m * kt + kg;
        var v = vec4<f32>(0.0);
        if (full) {
            v = vec4<f32>(wt[base], wt[base + kt], wt[base + 2u * kt], wt[base + 3u * kt]);
        } else if (kg < kt) {
            if (m < p.cout) { v.x = wt[base]; }
            if (m + 1u < p.cout) { v.y = wt[base + kt]; }
            if (m + 2u < p.cout) { v.z = wt[base + 2u * kt]; }
            if (m + 3u < p.cout) { v.w = wt[base + 3u * kt]; }
        }
        As[k * ap + m4] = v;
    }
}

// Offset of the tap (0, 0) of output column col in x, as i32 (may be negative at a padded border),
// and the tap's input row and column (iy0, ix0). Columns past the end get a row far out of range.
fn col_origin(col: u32) -> vec3<i32> {
    let howo = p.ho * p.wo;
    if (col >= p.batch * howo) { return vec3<i32>(0, -0x10000000, 0); }
    let b = col / howo;
    let pix = col % howo;
    let iy0 = i32((pix / p.wo) * p.stride) - i32(p.pad_t);
    let ix0 = i32((pix % p.wo) * p.stride) - i32(p.pad_l);
    let off = i32(b * p.cin * p.h * p.w) + iy0 * i32(p.w) + ix0;
    return vec3<i32>(off, iy0, ix0);
}

fn tap(o: vec3<i32>, dy: i32, dx: i32, koff: i32) -> f32 {
    if (u32(o.y + dy) < p.h && u32(o.z + dx) < p.w) { return x[u32(o.x + koff)]; }
    return 0.0;
}

// im2col(x)[k0 .. k0 + BK, n0 + n4*4 .. +4] into Bs. With nt a multiple of bp (every launch), a thread
// keeps the same n4 in every slice.
fn load_x(n0: u32, k0: u32, tid: u32, nt: u32, bp: u32) {
    let kt = p.cin * p.kh * p.kw;
    let khw = p.kh * p.kw;
    let n4 = tid % bp;
    let col = n0 + n4 * 4u;
    let o0 = col_origin(col);
    let o1 = col_origin(col + 1u);
    let o2 = col_origin(col + 2u);
    let o3 = col_origin(col + 3u);
    for (var i = tid; i < BK * bp; i += nt) {
        let k = i / bp;
        let kg = k0 + k;
        var v = vec4<f32>(0.0);
        if (kg < kt) {
            let ci = kg / khw;
            let r = kg - ci * khw;
            let dy = r / p.kw;
            let dx = r - dy * p.kw;
            let koff = i32(ci * p.h * p.w) + i32(dy * p.w + dx);
            v = vec4<f32>(tap(o0, i32(dy), i32(dx), koff), tap(o1, i32(dy), i32(dx), koff),
                          tap(o2, i32(dy), i32(dx), koff), tap(o3, i32(dy), i32(dx), koff));
        }
        Bs[k * bp + n4] = v;
    }
}

// Offset of output column col at channel 0, or a huge value for columns past the end.
fn out_base(col: u32) -> u32 {
    let howo = p.ho * p.wo;
    if (col >= p.batch * howo) { return 0xffffffffu; }
    return (col / howo) * p.cout * howo + col % howo;
}

fn store1(row: u32, ob: u32, v: f32) {
    if (ob != 0xffffffffu) { out[ob + row * p.ho * p.wo] = v; }
}

// ob: out_base(col0); fast: the four columns lie in one image.
fn store4(row: u32, col0: u32, ob: u32, fast: bool, v: vec4<f32>) {
    if (row >= p.cout) { return; }
    var bv = 0.0;
    if (p.has_bias != 0u) { bv = bias[row]; }
    let r = v + bv;
    let howo = p.ho * p.wo;
    if (fast) {
        let o = ob + row * howo;
        out[o] = r.x;
        out[o + 1u] = r.y;
        out[o + 2u] = r.z;
        out[o + 3u] = r.w;
    } else {
        store1(row, out_base(col0), r.x);
        store1(row, out_base(col0 + 1u), r.y);
        store1(row, out_base(col0 + 2u), r.z);
        store1(row, out_base(col0 + 3u), r.w);
    }
}

fn gemm_depth() -> u32 {
    return p.cin * p.kh * p.kw;
}

// A: the weights (rows: output channels); B: the gathered input (columns: output pixels).
fn gemm_load(wid: vec3<u32>, m0: u32, n0: u32, k0: u32, tid: u32, nt: u32, ap: u32, bp: u32) {
    load_w(m0, k0, tid, nt, ap);
    load_x(n0, k0, tid, nt, bp);
}

@compute @workgroup_size(256)
fn conv2d_t16x16(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    gemm_tile(tid, wid, 16u, 16u);
}

@compute @workgroup_size(256)
fn conv2d_t4x64(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    gemm_tile(tid, wid, 4u, 64u);
}

@compute @workgroup_size(128)
fn conv2d_t2x64(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    gemm_tile(tid, wid, 2u, 64u);
}

// The 4x4 output block at (row0, col0): row q is c[q].
fn gemm_store(wid: vec3<u32>, row0: u32, col0: u32, c: mat4x4<f32>) {
    let ob = out_base(col0);
    let howo = p.ho * p.wo;
    let fast = ob != 0xffffffffu && (col0 % howo) + 4u <= howo;
    store4(row0, col0, ob, fast, c[0]);
    store4(row0 + 1u, col0, ob, fast, c[1]);
    store4(row0 + 2u, col0, ob, fast, c[2]);
    store4(row0 + 3u, col0, ob, fast, c[3]);
}

@compute @workgroup_size(64)
fn conv2d_t8x8w(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    gemm_tile_8x8w(tid, wid);
}
