// 2-D convolution (cross-correlation, as in PyTorch) as an implicit GEMM:
//   out[b, co, oy, ox] = bias[co] + sum_{ci, ky, kx} w[co, ci, ky, kx] * x[b, ci, oy*s - pad_t + ky, ox*s - pad_l + kx]
// Rows M = cout, columns N = batch * ho * wo, depth K = cin * kh * kw. Tiling as in matmul.wgsl: a
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

const BK: u32 = 8u;

var<workgroup> As: array<vec4<f32>, 256>;  // [BK][BM/4], BM <= 128: weights
var<workgroup> Bs: array<vec4<f32>, 1024>; // [BK][BN/4], BN <= 512: gathered input

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

// The whole product for one workgroup of ty_n x tx_n threads (constants at every call site).
fn conv(tid: u32, wid: vec3<u32>, ty_n: u32, tx_n: u32) {
    let nt = ty_n * tx_n;
    let ap = 2u * ty_n;
    let bp = 2u * tx_n;
    let ty = tid / tx_n;
    let tx = tid % tx_n;
    let m0 = wid.y * 8u * ty_n;
    let n0 = wid.x * 8u * tx_n;

    var c0 = vec4<f32>(0.0); var c1 = vec4<f32>(0.0); var c2 = vec4<f32>(0.0); var c3 = vec4<f32>(0.0);
    var c4 = vec4<f32>(0.0); var c5 = vec4<f32>(0.0); var c6 = vec4<f32>(0.0); var c7 = vec4<f32>(0.0);
    var d0 = vec4<f32>(0.0); var d1 = vec4<f32>(0.0); var d2 = vec4<f32>(0.0); var d3 = vec4<f32>(0.0);
    var d4 = vec4<f32>(0.0); var d5 = vec4<f32>(0.0); var d6 = vec4<f32>(0.0); var d7 = vec4<f32>(0.0);

    let kt = p.cin * p.kh * p.kw;
    for (var k0 = 0u; k0 < kt; k0 += BK) {
        load_w(m0, k0, tid, nt, ap);
        load_x(n0, k0, tid, nt, bp);
        workgroupBarrier();
        for (var kk = 0u; kk < BK; kk++) {
            let a0 = As[kk * ap + ty];
            let a1 = As[kk * ap + ty + ty_n];
            let b0 = Bs[kk * bp + tx];
            let b1 = Bs[kk * bp + tx + tx_n];
            c0 += a0.x * b0; d0 += a0.x * b1;
            c1 += a0.y * b0; d1 += a0.y * b1;
            c2 += a0.z * b0; d2 += a0.z * b1;
            c3 += a0.w * b0; d3 += a0.w * b1;
            c4 += a1.x * b0; d4 += a1.x * b1;
            c5 += a1.y * b0; d5 += a1.y * b1;
            c6 += a1.z * b0; d6 += a1.z * b1;
            c7 += a1.w * b0; d7 += a1.w * b1;
        }
        workgroupBarrier();
    }

    let r0 = m0 + ty * 4u;
    let r1 = m0 + (ty + ty_n) * 4u;
    let col0 = n0 + tx * 4u;
    let col1 = n0 + (tx + tx_n) * 4u;
    let ob0 = out_base(col0);
    let ob1 = out_base(col1);
    let howo = p.ho * p.wo;
    let f0 = ob0 != 0xffffffffu && (col0 % howo) + 4u <= howo;
    let f1 = ob1 != 0xffffffffu && (col1 % howo) + 4u <= howo;
    store4(r0, col0, ob0, f0, c0); store4(r0, col1, ob1, f1, d0);
    store4(r0 + 1u, col0, ob0, f0, c1); store4(r0 + 1u, col1, ob1, f1, d1);
    store4(r0 + 2u, col0, ob0, f0, c2); store4(r0 + 2u, col1, ob1, f1, d2);
    store4(r0 + 3u, col0, ob0, f0, c3); store4(r0 + 3u, col1, ob1, f1, d3);
    store4(r1, col0, ob0, f0, c4); store4(r1, col1, ob1, f1, d4);
    store4(r1 + 1u, col0, ob0, f0, c5); store4(r1 + 1u, col1, ob1, f1, d5);
    store4(r1 + 2u, col0, ob0, f0, c6); store4(r1 + 2u, col1, ob1, f1, d6);
    store4(r1 + 3u, col0, ob0, f0, c7); store4(r1 + 3u, col1, ob1, f1, d7);
}

@compute @workgroup_size(256)
fn conv2d_t16x16(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    conv(tid, wid, 16u, 16u);
}

@compute @workgroup_size(256)
fn conv2d_t4x64(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    conv(tid, wid, 4u, 64u);
}

@compute @workgroup_size(128)
fn conv2d_t2x64(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    conv(tid, wid, 2u, 64u);
}

// Wide variant for CPU adapters (see matmul_t8x8w in matmul.wgsl): 8 x 8 threads, each a 16x16 block
// (rows (ty + 8r)*4.., columns (tx + 8j)*4..) in sixteen mat4x4 accumulators (column q of c_rj is
// row q of the 4x4 block), 128x128 tiles.
fn store_mat(row0: u32, col0: u32, c: mat4x4<f32>) {
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
    let ty = tid / 8u;
    let tx = tid % 8u;
    let m0 = wid.y * 128u;
    let n0 = wid.x * 128u;
    var c00 = mat4x4<f32>(); var c01 = mat4x4<f32>(); var c02 = mat4x4<f32>(); var c03 = mat4x4<f32>();
    var c10 = mat4x4<f32>(); var c11 = mat4x4<f32>(); var c12 = mat4x4<f32>(); var c13 = mat4x4<f32>();
    var c20 = mat4x4<f32>(); var c21 = mat4x4<f32>(); var c22 = mat4x4<f32>(); var c23 = mat4x4<f32>();
    var c30 = mat4x4<f32>(); var c31 = mat4x4<f32>(); var c32 = mat4x4<f32>(); var c33 = mat4x4<f32>();
    let kt = p.cin * p.kh * p.kw;
    for (var k0 = 0u; k0 < kt; k0 += BK) {
        load_w(m0, k0, tid, 64u, 32u);
        load_x(n0, k0, tid, 64u, 32u);
        workgroupBarrier();
        for (var kk = 0u; kk < BK; kk++) {
            let a0 = As[kk * 32u + ty + 0u];
            let a1 = As[kk * 32u + ty + 8u];
            let a2 = As[kk * 32u + ty + 16u];
            let a3 = As[kk * 32u + ty + 24u];
            let b0 = Bs[kk * 32u + tx + 0u];
            let b1 = Bs[kk * 32u + tx + 8u];
            let b2 = Bs[kk * 32u + tx + 16u];
            let b3 = Bs[kk * 32u + tx + 24u];
            c00 += mat4x4<f32>(a0.x * b0, a0.y * b0, a0.z * b0, a0.w * b0);
            c01 += mat4x4<f32>(a0.x * b1, a0.y * b1, a0.z * b1, a0.w * b1);
            c02 += mat4x4<f32>(a0.x * b2, a0.y * b2, a0.z * b2, a0.w * b2);
            c03 += mat4x4<f32>(a0.x * b3, a0.y * b3, a0.z * b3, a0.w * b3);
            c10 += mat4x4<f32>(a1.x * b0, a1.y * b0, a1.z * b0, a1.w * b0);
            c11 += mat4x4<f32>(a1.x * b1, a1.y * b1, a1.z * b1, a1.w * b1);
            c12 += mat4x4<f32>(a1.x * b2, a1.y * b2, a1.z * b2, a1.w * b2);
            c13 += mat4x4<f32>(a1.x * b3, a1.y * b3, a1.z * b3, a1.w * b3);
            c20 += mat4x4<f32>(a2.x * b0, a2.y * b0, a2.z * b0, a2.w * b0);
            c21 += mat4x4<f32>(a2.x * b1, a2.y * b1, a2.z * b1, a2.w * b1);
            c22 += mat4x4<f32>(a2.x * b2, a2.y * b2, a2.z * b2, a2.w * b2);
            c23 += mat4x4<f32>(a2.x * b3, a2.y * b3, a2.z * b3, a2.w * b3);
            c30 += mat4x4<f32>(a3.x * b0, a3.y * b0, a3.z * b0, a3.w * b0);
            c31 += mat4x4<f32>(a3.x * b1, a3.y * b1, a3.z * b1, a3.w * b1);
            c32 += mat4x4<f32>(a3.x * b2, a3.y * b2, a3.z * b2, a3.w * b2);
            c33 += mat4x4<f32>(a3.x * b3, a3.y * b3, a3.z * b3, a3.w * b3);
        }
        workgroupBarrier();
    }

    let r0 = m0 + ty * 4u;
    let c0 = n0 + tx * 4u;
    store_mat(r0, c0, c00); store_mat(r0, c0 + 32u, c01); store_mat(r0, c0 + 64u, c02); store_mat(r0, c0 + 96u, c03);
    store_mat(r0 + 32u, c0, c10); store_mat(r0 + 32u, c0 + 32u, c11);
    store_mat(r0 + 32u, c0 + 64u, c12); store_mat(r0 + 32u, c0 + 96u, c13);
    store_mat(r0 + 64u, c0, c20); store_mat(r0 + 64u, c0 + 32u, c21);
    store_mat(r0 + 64u, c0 + 64u, c22); store_mat(r0 + 64u, c0 + 96u, c23);
    store_mat(r0 + 96u, c0, c30); store_mat(r0 + 96u, c0 + 32u, c31);
    store_mat(r0 + 96u, c0 + 64u, c32); store_mat(r0 + 96u, c0 + 96u, c33);
}
