// Batched strided matrix product:
//   out[b, m, n] = alpha * sum_k A[b, m, k] * B[b, k, n] + bias[n]
// with A[b, m, k] = a[b*sab + m*sam + k*sak] and B[b, k, n] = bm[b*sbb + k*sbk + n*sbn], so transposes
// and head splits are strides, not copies. The output is contiguous [batch, M, N].
//
// Tiling (gemm_tile.inc, shared with conv2d.wgsl): a workgroup of TY x TX threads computes a (8*TY) x (8*TX) output tile; each thread an 8x8
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

//!include gemm_tile.inc

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

fn gemm_depth() -> u32 {
    return p.k;
}

fn gemm_load(wid: vec3<u32>, m0: u32, n0: u32, k0: u32, tid: u32, nt: u32, ap: u32, bp: u32) {
    load_a(wid.z, m0, k0, tid, nt, ap);
    load_b(wid.z, n0, k0, tid, nt, bp);
}

// The 4x4 output block at (row0, col0) of product wid.z: row q is c[q].
fn gemm_store(wid: vec3<u32>, row0: u32, col0: u32, c: mat4x4<f32>) {
    let bv = bias4(col0);
    store4(wid.z, row0, col0, c[0], bv);
    store4(wid.z, row0 + 1u, col0, c[1], bv);
    store4(wid.z, row0 + 2u, col0, c[2], bv);
    store4(wid.z, row0 + 3u, col0, c[3], bv);
}

@compute @workgroup_size(256)
fn matmul_t16x16(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    gemm_tile(tid, wid, 16u, 16u);
}

@compute @workgroup_size(256)
fn matmul_t4x64(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    gemm_tile(tid, wid, 4u, 64u);
}

@compute @workgroup_size(128)
fn matmul_t2x64(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    gemm_tile(tid, wid, 2u, 64u);
}



// 8x64 tiles for CPU adapters: one 8-lane SIMD group a workgroup, for products of at most 8 rows and
// 64 columns (attention's P.V with 8-channel heads over 64 tokens), which a 16x512 tile mostly wastes.
@compute @workgroup_size(8)
fn matmul_t1x8(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    gemm_tile(tid, wid, 1u, 8u);
}

// 64x64 tiles for CPU adapters: products of at most 64 x 64 (attention's scores over 64 tokens).
@compute @workgroup_size(64)
fn matmul_t8x8(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    gemm_tile(tid, wid, 8u, 8u);
}

@compute @workgroup_size(64)
fn matmul_t8x8w(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    gemm_tile_8x8w(tid, wid);
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
