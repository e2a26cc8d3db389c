// Gradients of conv2d (see conv2d.wgsl for the forward and its layout), as implicit GEMMs with the
// same 64x64 tiling, 4x4 outputs per thread in named vec4 accumulators:
//   conv2d_dx: dx[n, ci, iy, ix] = sum_{co, ky, kx} w[co, ci, ky, kx] * dy[n, co, oy, ox]
//              where oy*s - pad_t + ky = iy (a transposed convolution): M = cin, N = batch*h*w,
//              K = cout*kh*kw; taps whose (iy + pad_t - ky) is not a multiple of the stride read zero.
//   conv2d_dw: dw[co, ci, ky, kx] = sum_{n, oy, ox} dy[n, co, oy, ox] * x[n, ci, oy*s - pad_t + ky, ...]
//              M = cout, N = cin*kh*kw, K = batch*ho*wo.

struct P {
    batch: u32, cin: u32, h: u32, w: u32,
    cout: u32, ho: u32, wo: u32, kh: u32,
    kw: u32, stride: u32, pad_t: u32, pad_l: u32,
    _p0: u32, _p1: u32, _p2: u32, _p3: u32,
}

@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> other: array<f32>; // w for dx, x for dw
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const BM: u32 = 64u;
const BN: u32 = 64u;
const BK: u32 = 16u;
const KIND_DX: u32 = 0u;
const KIND_DW: u32 = 1u;

var<workgroup> As: array<f32, 1024>;
var<workgroup> Bs: array<f32, 1024>;

fn dims(kind: u32) -> vec3<u32> {
    let khw = p.kh * p.kw;
    if (kind == KIND_DX) {
        return vec3<u32>(p.cin, p.batch * p.h * p.w, p.cout * khw);
    }
    return vec3<u32>(p.cout, p.cin * khw, p.batch * p.ho * p.wo);
}

fn load_a(kind: u32, row: u32, k: u32) -> f32 {
    let khw = p.kh * p.kw;
    if (kind == KIND_DX) {
        // w[co, ci=row, r]
        let co = k / khw;
        return other[(co * p.cin + row) * khw + k % khw];
    }
    // dy[n, co=row, pix]
    let howo = p.ho * p.wo;
    return dy[((k / howo) * p.cout + row) * howo + k % howo];
}

fn load_b(kind: u32, k: u32, col: u32) -> f32 {
    let khw = p.kh * p.kw;
    if (kind == KIND_DX) {
        let hw = p.h * p.w;
        let n = col / hw;
        let pix = col % hw;
        let iy = i32(pix / p.w);
        let ix = i32(pix % p.w);
        let co = k / khw;
        let r = k % khw;
        let ty = iy + i32(p.pad_t) - i32(r / p.kw);
        let tx = ix + i32(p.pad_l) - i32(r % p.kw);
        let s = i32(p.stride);
        if (ty < 0 || tx < 0 || ty % s != 0 || tx % s != 0) { return 0.0; }
        let oy = u32(ty / s);
        let ox = u32(tx / s);
        if (oy >= p.ho || ox >= p.wo) { return 0.0; }
        return dy[((n * p.cout + co) * p.ho + oy) * p.wo + ox];
    }
    // x[n, ci, oy*s - pad_t + ky, ox*s - pad_l + kx] with k = (n, oy, ox), col = (ci, ky, kx)
    let howo = p.ho * p.wo;
    let n = k / howo;
    let pix = k % howo;
    let ci = col / khw;
    let r = col % khw;
    let iy = i32((pix / p.wo) * p.stride + r / p.kw) - i32(p.pad_t);
    let ix = i32((pix % p.wo) * p.stride + r % p.kw) - i32(p.pad_l);
    if (iy < 0 || ix < 0 || iy >= i32(p.h) || ix >= i32(p.w)) { return 0.0; }
    return other[((n * p.cin + ci) * p.h + u32(iy)) * p.w + u32(ix)];
}

fn store(kind: u32, row: u32, col0: u32, v: vec4<f32>) {
    let d = dims(kind);
    if (row >= d.x) { return; }
    for (var j = 0u; j < 4u; j++) {
        let col = col0 + j;
        if (col < d.y) {
            if (kind == KIND_DX) {
                let hw = p.h * p.w;
                out[((col / hw) * p.cin + row) * hw + col % hw] = v[j];
            } else {
                out[row * d.y + col] = v[j];
            }
        }
    }
}

fn gemm(kind: u32, lid: vec3<u32>, wid: vec3<u32>) {
    let d = dims(kind);
    let tid = lid.y * 16u + lid.x;
    let m0 = wid.y * BM;
    let n0 = wid.x * BN;
    let bn = tid % BN;
    let bk = (tid / BN) * 4u;
    let am = tid / 4u;
    let ak = (tid % 4u) * 4u;
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    for (var k0 = 0u; k0 < d.z; k0 += BK) {
        for (var q = 0u; q < 4u; q++) {
            let k = k0 + ak + q;
            var v = 0.0;
            if (m0 + am < d.x && k < d.z) { v = load_a(kind, m0 + am, k); }
            As[(ak + q) * BM + am] = v;
        }
        for (var q = 0u; q < 4u; q++) {
            let k = k0 + bk + q;
            var v = 0.0;
            if (n0 + bn < d.y && k < d.z) { v = load_b(kind, k, n0 + bn); }
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
    store(kind, r0, c0, acc0);
    store(kind, r0 + 1u, c0, acc1);
    store(kind, r0 + 2u, c0, acc2);
    store(kind, r0 + 3u, c0, acc3);
}

@compute @workgroup_size(16, 16)
fn conv2d_dx(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    gemm(KIND_DX, lid, wid);
}

@compute @workgroup_size(16, 16)
fn conv2d_dw(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    gemm(KIND_DW, lid, wid);
}

// wt_out[ci, co, ky, kx] = w[co, ci, kh-1-ky, kw-1-kx]: the weight of the transposed convolution,
// so that the input gradient of a stride-1 convolution runs on the fast forward kernel.
// (`dy` is unused here; `other` holds w.) One thread per weight.
@compute @workgroup_size(256)
fn flip_transpose(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 256u;
    let khw = p.kh * p.kw;
    let n = p.cin * p.cout * khw;
    if (i >= n) { return; }
    let r = i % khw;
    let co = (i / khw) % p.cout;
    let ci = i / (khw * p.cout);
    let ky = r / p.kw;
    let kx = r % p.kw;
    out[i] = other[(co * p.cin + ci) * khw + (p.kh - 1u - ky) * p.kw + (p.kw - 1u - kx)];
}
