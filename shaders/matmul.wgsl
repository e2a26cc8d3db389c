// Batched strided matrix product:
//   out[b, m, n] = alpha * sum_k A[b, m, k] * B[b, k, n] + bias[n]
// with A[b, m, k] = a[b*sab + m*sam + k*sak] and B[b, k, n] = bm[b*sbb + k*sbk + n*sbn], so transposes
// and head splits are strides, not copies. The output is contiguous [batch, M, N].
//
// Tiling: a workgroup of TY x TX threads computes a (8*TY) x (8*TX) output tile; each thread an 8x8
// block (rows ty*4.. and (ty+TY)*4.., columns tx*4.. and (tx+TX)*4..) in sixteen named vec4
// accumulators. BK = 8 deep slices of A and B are staged in workgroup memory as vec4 rows over m and
// over n, whatever the strides: each thread gathers four consecutive m (or n) of one k and stores one
// vec4. The launcher says which index runs fastest in memory (a_kfast / b_kfast) so that neighbouring
// invocations read neighbouring addresses. Interior tiles skip every bounds test. Entry points differ
// only in the thread grid: matmul_t16x16 (128x128 tiles), matmul_t4x64 (32x512, for M <= 32) and
// matmul_t2x64 (16x512, for M <= 16, e.g. attention's P.V with small heads). matmul_t8x8w (at the
// end) is the variant for CPU adapters.

struct P {
    m: u32, n: u32, k: u32, has_bias: u32,
    sab: u32, sam: u32, sak: u32, alpha: f32,
    sbb: u32, sbk: u32, sbn: u32, a_kfast: u32,
    b_kfast: u32, _p0: u32, _p1: u32, _p2: u32,
}

@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> bm: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

const BK: u32 = 8u;

var<workgroup> As: array<vec4<f32>, 256>;  // [BK][BM/4], BM <= 128
var<workgroup> Bs: array<vec4<f32>, 1024>; // [BK][BN/4], BN <= 512

// A[b, m0 + m4*4 .. +4, k0 .. k0 + BK] into As; ap = BM/4 vec4 per k row.
fn load_a(batch: u32, m0: u32, k0: u32, tid: u32, nt: u32, ap: u32) {
    let full = m0 + 4u * ap <= p.m && k0 + BK <= p.k;
    for (var i = tid; i < BK * ap; i += nt) {
        var k = i / ap;
        var m4 = i % ap;
        if (p.a_kfast != 0u) {
            k = i % BK;
            m4 = i / BK;
        }
        let m = m0 + m4 * 4u;
        let kg = k0 + k;
        let s = p.sam;
        let base = batch * p.sab + m * s + kg * p.sak;
        var v = vec4<f32>(0.0);
        if (full) {
            v = vec4<f32>(a[base], a[base + s], a[base + 2u * s], a[base + 3u * s]);
        } else if (kg < p.k) {
            if (m < p.m) { v.x = a[base]; }
            if (m + 1u < p.m) { v.y = a[base + s]; }
            if (m + 2u < p.m) { v.z = a[base + 2u * s]; }
            if (m + 3u < p.m) { v.w = a[base + 3u * s]; }
        }
        As[k * ap + m4] = v;
    }
}

// B[b, k0 .. k0 + BK, n0 + n4*4 .. +4] into Bs; bp = BN/4 vec4 per k row.
fn load_b(batch: u32, n0: u32, k0: u32, tid: u32, nt: u32, bp: u32) {
    let full = n0 + 4u * bp <= p.n && k0 + BK <= p.k;
    for (var i = tid; i < BK * bp; i += nt) {
        var k = i / bp;
        var n4 = i % bp;
        if (p.b_kfast != 0u) {
            k = i % BK;
            n4 = i / BK;
        }
        let n = n0 + n4 * 4u;
        let kg = k0 + k;
        let s = p.sbn;
        let base = batch * p.sbb + kg * p.sbk + n * s;
        var v = vec4<f32>(0.0);
        if (full) {
            v = vec4<f32>(bm[base], bm[base + s], bm[base + 2u * s], bm[base + 3u * s]);
        } else if (kg < p.k) {
            if (n < p.n) { v.x = bm[base]; }
            if (n + 1u < p.n) { v.y = bm[base + s]; }
            if (n + 2u < p.n) { v.z = bm[base + 2u * s]; }
            if (n + 3u < p.n) { v.w = bm[base + 3u * s]; }
        }
        Bs[k * bp + n4] = v;
    }
}

fn store4(batch: u32, row: u32, col0: u32, v: vec4<f32>, bv: vec4<f32>) {
    if (row >= p.m) { return; }
    let o = (batch * p.m + row) * p.n + col0;
    let r = p.alpha * v + bv;
    if (col0 + 4u <= p.n) {
        out[o] = r.x;
        out[o + 1u] = r.y;
        out[o + 2u] = r.z;
        out[o + 3u] = r.w;
    } else {
        if (col0 < p.n) { out[o] = r.x; }
        if (col0 + 1u < p.n) { out[o + 1u] = r.y; }
        if (col0 + 2u < p.n) { out[o + 2u] = r.z; }
    }
}

fn bias4(col0: u32) -> vec4<f32> {
    var bv = vec4<f32>(0.0);
    if (p.has_bias != 0u) {
        if (col0 < p.n) { bv.x = bias[col0]; }
        if (col0 + 1u < p.n) { bv.y = bias[col0 + 1u]; }
        if (col0 + 2u < p.n) { bv.z = bias[col0 + 2u]; }
        if (col0 + 3u < p.n) { bv.w = bias[col0 + 3u]; }
    }
    return bv;
}

// The whole product for one workgroup of ty_n x tx_n threads (constants at every call site).
fn mm(tid: u32, wid: vec3<u32>, ty_n: u32, tx_n: u32) {
    let nt = ty_n * tx_n;
    let ap = 2u * ty_n;
    let bp = 2u * tx_n;
    let ty = tid / tx_n;
    let tx = tid % tx_n;
    let batch = wid.z;
    let m0 = wid.y * 8u * ty_n;
    let n0 = wid.x * 8u * tx_n;

    var c0 = vec4<f32>(0.0); var c1 = vec4<f32>(0.0); var c2 = vec4<f32>(0.0); var c3 = vec4<f32>(0.0);
    var c4 = vec4<f32>(0.0); var c5 = vec4<f32>(0.0); var c6 = vec4<f32>(0.0); var c7 = vec4<f32>(0.0);
    var d0 = vec4<f32>(0.0); var d1 = vec4<f32>(0.0); var d2 = vec4<f32>(0.0); var d3 = vec4<f32>(0.0);
    var d4 = vec4<f32>(0.0); var d5 = vec4<f32>(0.0); var d6 = vec4<f32>(0.0); var d7 = vec4<f32>(0.0);

    for (var k0 = 0u; k0 < p.k; k0 += BK) {
        load_a(batch, m0, k0, tid, nt, ap);
        load_b(batch, n0, k0, tid, nt, bp);
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
    let bv0 = bias4(col0);
    let bv1 = bias4(col1);
    store4(batch, r0, col0, c0, bv0); store4(batch, r0, col1, d0, bv1);
    store4(batch, r0 + 1u, col0, c1, bv0); store4(batch, r0 + 1u, col1, d1, bv1);
    store4(batch, r0 + 2u, col0, c2, bv0); store4(batch, r0 + 2u, col1, d2, bv1);
    store4(batch, r0 + 3u, col0, c3, bv0); store4(batch, r0 + 3u, col1, d3, bv1);
    store4(batch, r1, col0, c4, bv0); store4(batch, r1, col1, d4, bv1);
    store4(batch, r1 + 1u, col0, c5, bv0); store4(batch, r1 + 1u, col1, d5, bv1);
    store4(batch, r1 + 2u, col0, c6, bv0); store4(batch, r1 + 2u, col1, d6, bv1);
    store4(batch, r1 + 3u, col0, c7, bv0); store4(batch, r1 + 3u, col1, d7, bv1);
}

@compute @workgroup_size(256)
fn matmul_t16x16(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    mm(tid, wid, 16u, 16u);
}

@compute @workgroup_size(256)
fn matmul_t4x64(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    mm(tid, wid, 4u, 64u);
}

@compute @workgroup_size(128)
fn matmul_t2x64(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    mm(tid, wid, 2u, 64u);
}

// Wide variant for CPU adapters (lavapipe/llvmpipe): 8 x 8 threads, each a 16x16 block (rows
// (ty + 8r)*4.., columns (tx + 8j)*4..) in sixteen mat4x4 accumulators (column q of c_rj is row q of
// the 4x4 block), 128x128 tiles. llvmpipe runs eight invocations as SIMD lanes and performs every
// load whose address varies across lanes (workgroup or storage memory alike) lane by lane, one
// scalar at a time; the cost is the number of loaded scalars per multiply-add, 1/8 here against 1/4
// for the 8x8 blocks, which makes this about twice as fast there. On a real GPU the 256 accumulators
// would spill, so the launcher picks this entry point only for CPU adapters.
fn store_mat(batch: u32, row0: u32, col0: u32, c: mat4x4<f32>, bv: vec4<f32>) {
    store4(batch, row0, col0, c[0], bv);
    store4(batch, row0 + 1u, col0, c[1], bv);
    store4(batch, row0 + 2u, col0, c[2], bv);
    store4(batch, row0 + 3u, col0, c[3], bv);
}

// 8x64 tiles for CPU adapters: one 8-lane SIMD group a workgroup, for products of at most 8 rows and
// 64 columns (attention's P.V with 8-channel heads over 64 tokens), which a 16x512 tile mostly wastes.
@compute @workgroup_size(8)
fn matmul_t1x8(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    mm(tid, wid, 1u, 8u);
}

// 64x64 tiles for CPU adapters: products of at most 64 x 64 (attention's scores over 64 tokens).
@compute @workgroup_size(64)
fn matmul_t8x8(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    mm(tid, wid, 8u, 8u);
}

@compute @workgroup_size(64)
fn matmul_t8x8w(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let ty = tid / 8u;
    let tx = tid % 8u;
    let batch = wid.z;
    let m0 = wid.y * 128u;
    let n0 = wid.x * 128u;
    var c00 = mat4x4<f32>(); var c01 = mat4x4<f32>(); var c02 = mat4x4<f32>(); var c03 = mat4x4<f32>();
    var c10 = mat4x4<f32>(); var c11 = mat4x4<f32>(); var c12 = mat4x4<f32>(); var c13 = mat4x4<f32>();
    var c20 = mat4x4<f32>(); var c21 = mat4x4<f32>(); var c22 = mat4x4<f32>(); var c23 = mat4x4<f32>();
    var c30 = mat4x4<f32>(); var c31 = mat4x4<f32>(); var c32 = mat4x4<f32>(); var c33 = mat4x4<f32>();
    for (var k0 = 0u; k0 < p.k; k0 += BK) {
        load_a(batch, m0, k0, tid, 64u, 32u);
        load_b(batch, n0, k0, tid, 64u, 32u);
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
    let bv0 = bias4(c0);
    let bv1 = bias4(c0 + 32u);
    let bv2 = bias4(c0 + 64u);
    let bv3 = bias4(c0 + 96u);
    store_mat(batch, r0, c0, c00, bv0); store_mat(batch, r0, c0 + 32u, c01, bv1);
    store_mat(batch, r0, c0 + 64u, c02, bv2); store_mat(batch, r0, c0 + 96u, c03, bv3);
    store_mat(batch, r0 + 32u, c0, c10, bv0); store_mat(batch, r0 + 32u, c0 + 32u, c11, bv1);
    store_mat(batch, r0 + 32u, c0 + 64u, c12, bv2); store_mat(batch, r0 + 32u, c0 + 96u, c13, bv3);
    store_mat(batch, r0 + 64u, c0, c20, bv0); store_mat(batch, r0 + 64u, c0 + 32u, c21, bv1);
    store_mat(batch, r0 + 64u, c0 + 64u, c22, bv2); store_mat(batch, r0 + 64u, c0 + 96u, c23, bv3);
    store_mat(batch, r0 + 96u, c0, c30, bv0); store_mat(batch, r0 + 96u, c0 + 32u, c31, bv1);
    store_mat(batch, r0 + 96u, c0 + 64u, c32, bv2); store_mat(batch, r0 + 96u, c0 + 96u, c33, bv3);
}

// Small products on CPU adapters (the time embedding's Linear layers, a batch of one): one invocation
// per output, the sum over k in the same order as the tiled entry points, no workgroup memory and no
// barriers (on llvmpipe a 16x512 tile mostly out of range cost ~1 ms where this costs ~0.05).
@compute @workgroup_size(64)
fn matmul_small(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 64u;
    let mn = p.m * p.n;
    if (i >= mn) { return; }
    let batch = gid.z;
    let row = (i % mn) / p.n;
    let col = i % p.n;
    var ia = batch * p.sab + row * p.sam;
    var ib = batch * p.sbb + col * p.sbn;
    var v = 0.0;
    for (var k = 0u; k < p.k; k++) {
        v += a[ia] * bm[ib];
        ia += p.sak;
        ib += p.sbk;
    }
    var bv = 0.0;
    if (p.has_bias != 0u) { bv = bias[col]; }
    out[batch * mn + row * p.n + col] = p.alpha * v + bv;
}
