// 2-D convolution (cross-correlation, as in PyTorch) as an implicit GEMM:
//   out[b, co, oy, ox] = bias[co] + sum_{ci, ky, kx} w[co, ci, ky, kx] * x[b, ci, oy*s - pad_t + ky, ox*s - pad_l + kx]
// Rows M = cout, columns N = batch * ho * wo, depth K = cin * kh * kw. Each 16x16 workgroup computes a
// 64x64 output tile, each thread a 4x4 block kept in four named vec4 accumulators; 16-deep slices of the
// weights and of the gathered (im2col) input are staged in workgroup memory. Padding may be asymmetric:
// the output size is given, and out-of-range input taps read zero.

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

const BM: u32 = 64u;
const BN: u32 = 64u;
const BK: u32 = 16u;

var<workgroup> As: array<f32, 1024>; // [BK][BM]
var<workgroup> Bs: array<f32, 1024>; // [BK][BN]

fn store_row(row: u32, col0: u32, v: vec4<f32>) {
    if (row >= p.cout) { return; }
    let howo = p.ho * p.wo;
    let ncols = p.batch * howo;
    var bv = 0.0;
    if (p.has_bias != 0u) { bv = bias[row]; }
    for (var j = 0u; j < 4u; j++) {
        let col = col0 + j;
        if (col < ncols) {
            let b = col / howo;
            let pix = col % howo;
            out[(b * p.cout + row) * howo + pix] = v[j] + bv;
        }
    }
}

@compute @workgroup_size(16, 16)
fn conv2d(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let tid = lid.y * 16u + lid.x;
    let m0 = wid.y * BM;
    let n0 = wid.x * BN;
    let khw = p.kh * p.kw;
    let K = p.cin * khw;
    let howo = p.ho * p.wo;
    let ncols = p.batch * howo;

    // this thread's column of the gathered input tile, and its four k rows
    let bn = tid % BN;
    let bk = (tid / BN) * 4u;
    let col = n0 + bn;
    let col_ok = col < ncols;
    let bimg = col / howo;
    let pix = col % howo;
    let iy0 = i32((pix / p.wo) * p.stride) - i32(p.pad_t);
    let ix0 = i32((pix % p.wo) * p.stride) - i32(p.pad_l);
    let xbase = bimg * p.cin * p.h * p.w;

    // this thread's row of the weight tile, and its four k columns
    let am = tid / 4u;
    let ak = (tid % 4u) * 4u;
    let arow = m0 + am;

    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);

    for (var k0 = 0u; k0 < K; k0 += BK) {
        for (var q = 0u; q < 4u; q++) {
            let k = k0 + ak + q;
            var v = 0.0;
            if (arow < p.cout && k < K) { v = wt[arow * K + k]; }
            As[(ak + q) * BM + am] = v;
        }
        for (var q = 0u; q < 4u; q++) {
            let k = k0 + bk + q;
            var v = 0.0;
            if (col_ok && k < K) {
                let ci = k / khw;
                let r = k % khw;
                let iy = iy0 + i32(r / p.kw);
                let ix = ix0 + i32(r % p.kw);
                if (iy >= 0 && iy < i32(p.h) && ix >= 0 && ix < i32(p.w)) {
                    v = x[xbase + (ci * p.h + u32(iy)) * p.w + u32(ix)];
                }
            }
            Bs[(bk + q) * BN + bn] = v;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < BK; kk++) {
            let ao = kk * BM + lid.y * 4u;
            let bo = kk * BN + lid.x * 4u;
            let a = vec4<f32>(As[ao], As[ao + 1u], As[ao + 2u], As[ao + 3u]);
            let b = vec4<f32>(Bs[bo], Bs[bo + 1u], Bs[bo + 2u], Bs[bo + 3u]);
            acc0 += a.x * b;
            acc1 += a.y * b;
            acc2 += a.z * b;
            acc3 += a.w * b;
        }
        workgroupBarrier();
    }
    let r0 = m0 + lid.y * 4u;
    let c0 = n0 + lid.x * 4u;
    store_row(r0, c0, acc0);
    store_row(r0 + 1u, c0, acc1);
    store_row(r0 + 2u, c0, acc2);
    store_row(r0 + 3u, c0, acc3);
}
