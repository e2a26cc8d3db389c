// Batched strided matrix product:
//   out[b, m, n] = alpha * sum_k A[b, m, k] * B[b, k, n] + bias[n]
// with A[b, m, k] = a[b*sab + m*sam + k*sak] and B[b, k, n] = bm[b*sbb + k*sbk + n*sbn], so transposes
// and head splits are strides, not copies. The output is contiguous [batch, M, N]. Tiling as in
// conv2d.wgsl: 64x64 tile per 16x16 workgroup, 4x4 per thread in named vec4 accumulators, BK = 16.

struct P {
    m: u32, n: u32, k: u32, has_bias: u32,
    sab: u32, sam: u32, sak: u32, alpha: f32,
    sbb: u32, sbk: u32, sbn: u32, _p0: u32,
}

@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> bm: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

const BM: u32 = 64u;
const BN: u32 = 64u;
const BK: u32 = 16u;

var<workgroup> As: array<f32, 1024>; // [BK][BM]
var<workgroup> Bs: array<f32, 1024>; // [BK][BN]

fn store_row(batch: u32, row: u32, col0: u32, v: vec4<f32>) {
    if (row >= p.m) { return; }
    for (var j = 0u; j < 4u; j++) {
        let col = col0 + j;
        if (col < p.n) {
            var bv = 0.0;
            if (p.has_bias != 0u) { bv = bias[col]; }
            out[(batch * p.m + row) * p.n + col] = p.alpha * v[j] + bv;
        }
    }
}

@compute @workgroup_size(16, 16)
fn matmul(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let tid = lid.y * 16u + lid.x;
    let batch = wid.z;
    let m0 = wid.y * BM;
    let n0 = wid.x * BN;

    let bn = tid % BN;
    let bk = (tid / BN) * 4u;
    let col = n0 + bn;
    let am = tid / 4u;
    let ak = (tid % 4u) * 4u;
    let row = m0 + am;
    let abase = batch * p.sab + row * p.sam;
    let bbase = batch * p.sbb + col * p.sbn;

    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);

    for (var k0 = 0u; k0 < p.k; k0 += BK) {
        for (var q = 0u; q < 4u; q++) {
            let k = k0 + ak + q;
            var v = 0.0;
            if (row < p.m && k < p.k) { v = a[abase + k * p.sak]; }
            As[(ak + q) * BM + am] = v;
        }
        for (var q = 0u; q < 4u; q++) {
            let k = k0 + bk + q;
            var v = 0.0;
            if (col < p.n && k < p.k) { v = bm[bbase + k * p.sbk]; }
            Bs[(bk + q) * BN + bn] = v;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < BK; kk++) {
            let ao = kk * BM + lid.y * 4u;
            let bo = kk * BN + lid.x * 4u;
            let av = vec4<f32>(As[ao], As[ao + 1u], As[ao + 2u], As[ao + 3u]);
            let bv = vec4<f32>(Bs[bo], Bs[bo + 1u], Bs[bo + 2u], Bs[bo + 3u]);
            acc0 += av.x * bv;
            acc1 += av.y * bv;
            acc2 += av.z * bv;
            acc3 += av.w * bv;
        }
        workgroupBarrier();
    }
    let r0 = m0 + lid.y * 4u;
    let c0 = n0 + lid.x * 4u;
    store_row(batch, r0, c0, acc0);
    store_row(batch, r0 + 1u, c0, acc1);
    store_row(batch, r0 + 2u, c0, acc2);
    store_row(batch, r0 + 3u, c0, acc3);
}
