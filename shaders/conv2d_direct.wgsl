// Direct 3x3 convolution with stride 1 for CPU adapters (llvmpipe). llvmpipe runs a workgroup's
// invocations as SIMD lanes, and inside a loop it loads from a storage buffer lane by lane, even at
// an address every lane shares, while a uniform buffer read at a shared address is one load and a
// broadcast (measured on the bundled prior: the same kernel takes 2.9 times as long with its weights
// in a storage buffer). So the weights come in 64 KiB uniform windows, packed by `pack_weights` as
// [co_chunk][ci_chunk][9] blocks; one dispatch per (output-channel chunk, input-channel chunk) adds
// its part into `out` (the first writes bias + sum). An invocation computes R = 32 output channels at
// four neighbouring pixels of one row: per input channel it loads three input rows of six values
// (clamped, zeroed outside the image: no divergent branch) and updates each accumulator once with
// nine vec4 multiply-adds, so accumulators spilled to the stack cost little. Same math and layout as
// conv2d.wgsl (cross-correlation, NCHW, asymmetric zero padding).

struct P {
    batch: u32, cin: u32, h: u32, w: u32,
    cout: u32, ho: u32, wo: u32, kh: u32,
    kw: u32, stride: u32, pad_t: u32, pad_l: u32,
    has_bias: u32, ci0: u32, ci_n: u32, co0: u32,
    ci_chunk: u32, co_chunk: u32, n_ci: u32, first: u32,
    total: u32, _p0: u32, _p1: u32, _p2: u32,
}

@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> wt: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<uniform> wu: array<vec4<f32>, 4096>; // one 64 KiB chunk of packed weights

// Packs w [cout, cin, 3, 3] into chunks of 16384 values: chunk (a, c) holds output channels
// a*co_chunk.. and input channels c*ci_chunk.., at ((r * ci_chunk + cl) * 9 + k), zeros elsewhere.
@compute @workgroup_size(256)
fn pack_weights(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 256u;
    if (i >= p.total) { return; }
    let chunk = i / 16384u;
    let e = i % 16384u;
    let a = chunk / p.n_ci;
    let c = chunk % p.n_ci;
    let k = e % 9u;
    let t = e / 9u;
    let cl = t % p.ci_chunk;
    let r = t / p.ci_chunk;
    let co = a * p.co_chunk + r;
    let ci = c * p.ci_chunk + cl;
    var v = 0.0;
    if (r < p.co_chunk && co < p.cout && ci < p.cin) { v = wt[(co * p.cin + ci) * 9u + k]; }
    out[i] = v;
}

fn wget(k: u32) -> f32 {
    return wu[k >> 2u][k & 3u];
}

// x[row base + ix] times `valid`, without a branch: the index is clamped into the row and the value
// multiplied by 0 outside it (a divergent branch costs a masked update per variable on llvmpipe).
fn xz(rb: u32, ix: i32, valid: f32) -> f32 {
    let inside = select(0.0, valid, u32(ix) < p.w);
    return x[rb + u32(clamp(ix, 0, i32(p.w) - 1))] * inside;
}

// Output (b, oy, ox0) of this invocation's four pixels; `ok` false past the end.
struct Site { b: u32, oy: u32, ox0: u32, ok: bool }

fn site(g0: u32) -> Site {
    let quads = (p.wo + 3u) / 4u;
    let per_image = p.ho * quads;
    var s: Site;
    s.ok = g0 < p.batch * per_image;
    let g = min(g0, p.batch * per_image - 1u);
    s.b = g / per_image;
    let r = g % per_image;
    s.oy = r / quads;
    s.ox0 = (r % quads) * 4u;
    return s;
}

fn store(s: Site, co: u32, v: vec4<f32>) {
    if (!s.ok || co >= p.cout) { return; }
    let o = ((s.b * p.cout + co) * p.ho + s.oy) * p.wo + s.ox0;
    var r = v;
    if (p.first != 0u) {
        if (p.has_bias != 0u) { r = r + bias[co]; }
    } else {
        r = r + vec4<f32>(out[o], out[min(o + 1u, o + p.wo - s.ox0 - 1u)],
                          out[min(o + 2u, o + p.wo - s.ox0 - 1u)], out[min(o + 3u, o + p.wo - s.ox0 - 1u)]);
    }
    out[o] = r.x;
    if (s.ox0 + 1u < p.wo) { out[o + 1u] = r.y; }
    if (s.ox0 + 2u < p.wo) { out[o + 2u] = r.z; }
    if (s.ox0 + 3u < p.wo) { out[o + 3u] = r.w; }
}

// Output channels co0 + wid.y*32 .. +32 (rows of the chunk), input channels ci0 .. ci0 + ci_n.
@compute @workgroup_size(64)
fn conv2d_direct3(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
                  @builtin(num_workgroups) nwg: vec3<u32>) {
    let s = site(gid.x + gid.z * nwg.x * 64u);
    let rl = wid.y * 32u;
    let co = p.co0 + rl;
    let st = p.ci_chunk * 9u;
    var a0 = vec4<f32>(0.0); var a1 = vec4<f32>(0.0); var a2 = vec4<f32>(0.0); var a3 = vec4<f32>(0.0);
    var a4 = vec4<f32>(0.0); var a5 = vec4<f32>(0.0); var a6 = vec4<f32>(0.0); var a7 = vec4<f32>(0.0);
    var a8 = vec4<f32>(0.0); var a9 = vec4<f32>(0.0); var a10 = vec4<f32>(0.0); var a11 = vec4<f32>(0.0);
    var a12 = vec4<f32>(0.0); var a13 = vec4<f32>(0.0); var a14 = vec4<f32>(0.0); var a15 = vec4<f32>(0.0);
    var a16 = vec4<f32>(0.0); var a17 = vec4<f32>(0.0); var a18 = vec4<f32>(0.0); var a19 = vec4<f32>(0.0);
    var a20 = vec4<f32>(0.0); var a21 = vec4<f32>(0.0); var a22 = vec4<f32>(0.0); var a23 = vec4<f32>(0.0);
    var a24 = vec4<f32>(0.0); var a25 = vec4<f32>(0.0); var a26 = vec4<f32>(0.0); var a27 = vec4<f32>(0.0);
    var a28 = vec4<f32>(0.0); var a29 = vec4<f32>(0.0); var a30 = vec4<f32>(0.0); var a31 = vec4<f32>(0.0);
    let ix0 = i32(s.ox0) - i32(p.pad_l);
    for (var cl = 0u; cl < p.ci_n; cl++) {
        let cb = (s.b * p.cin + p.ci0 + cl) * p.h;
        let iy0 = i32(s.oy + 0u) - i32(p.pad_t);
        let ok0 = select(0.0, 1.0, u32(iy0) < p.h);
        let rb0 = (cb + u32(clamp(iy0, 0, i32(p.h) - 1))) * p.w;
        let x00 = xz(rb0, ix0 + 0, ok0);
        let x01 = xz(rb0, ix0 + 1, ok0);
        let x02 = xz(rb0, ix0 + 2, ok0);
        let x03 = xz(rb0, ix0 + 3, ok0);
        let x04 = xz(rb0, ix0 + 4, ok0);
        let x05 = xz(rb0, ix0 + 5, ok0);
        let v00 = vec4<f32>(x00, x01, x02, x03);
        let v01 = vec4<f32>(x01, x02, x03, x04);
        let v02 = vec4<f32>(x02, x03, x04, x05);
        let iy1 = i32(s.oy + 1u) - i32(p.pad_t);
        let ok1 = select(0.0, 1.0, u32(iy1) < p.h);
        let rb1 = (cb + u32(clamp(iy1, 0, i32(p.h) - 1))) * p.w;
        let x10 = xz(rb1, ix0 + 0, ok1);
        let x11 = xz(rb1, ix0 + 1, ok1);
        let x12 = xz(rb1, ix0 + 2, ok1);
        let x13 = xz(rb1, ix0 + 3, ok1);
        let x14 = xz(rb1, ix0 + 4, ok1);
        let x15 = xz(rb1, ix0 + 5, ok1);
        let v10 = vec4<f32>(x10, x11, x12, x13);
        let v11 = vec4<f32>(x11, x12, x13, x14);
        let v12 = vec4<f32>(x12, x13, x14, x15);
        let iy2 = i32(s.oy + 2u) - i32(p.pad_t);
        let ok2 = select(0.0, 1.0, u32(iy2) < p.h);
        let rb2 = (cb + u32(clamp(iy2, 0, i32(p.h) - 1))) * p.w;
        let x20 = xz(rb2, ix0 + 0, ok2);
        let x21 = xz(rb2, ix0 + 1, ok2);
        let x22 = xz(rb2, ix0 + 2, ok2);
        let x23 = xz(rb2, ix0 + 3, ok2);
        let x24 = xz(rb2, ix0 + 4, ok2);
        let x25 = xz(rb2, ix0 + 5, ok2);
        let v20 = vec4<f32>(x20, x21, x22, x23);
        let v21 = vec4<f32>(x21, x22, x23, x24);
        let v22 = vec4<f32>(x22, x23, x24, x25);
        let wb = (rl * p.ci_chunk + cl) * 9u;
        var o = 0u;
        o = wb + 0u * st;
        a0 += wget(o + 0u) * v00 + wget(o + 1u) * v01 + wget(o + 2u) * v02 + wget(o + 3u) * v10 + wget(o + 4u) * v11 + wget(o + 5u) * v12 + wget(o + 6u) * v20 + wget(o + 7u) * v21 + wget(o + 8u) * v22;
        o = wb + 1u * st;
        a1 += wget(o + 0u) * v00 + wget(o + 1u) * v01 + wget(o + 2u) * v02 + wget(o + 3u) * v10 + wget(o + 4u) * v11 + wget(o + 5u) * v12 + wget(o + 6u) * v20 + wget(o + 7u) * v21 + wget(o + 8u) * v22;
        o = wb + 2u * st;
        a2 += wget(o + 0u) * v00 + wget(o + 1u) * v01 + wget(o + 2u) * v02 + wget(o + 3u) * v10 + wget(o + 4u) * v11 + wget(o + 5u) * v12 + wget(o + 6u) * v20 + wget(o + 7u) * v21 + wget(o + 8u) * v22;
        o = wb + 3u * st;
        a3 += wget(o + 0u) * v00 + wget(o + 1u) * v01 + wget(o + 2u) * v02 + wget(o + 3u) * v10 + wget(o + 4u) * v11 + wget(o + 5u) * v12 + wget(o + 6u) * v20 + wget(o + 7u) * v21 + wget(o + 8u) * v22;
        o = wb + 4u * st;
        a4 += wget(o + 0u) * v00 + wget(o + 1u) * v01 + wget(o + 2u) * v02 + wget(o + 3u) * v10 + wget(o + 4u) * v11 + wget(o + 5u) * v12 + wget(o + 6u) * v20 + wget(o + 7u) * v21 + wget(o + 8u) * v22;
        o = wb + 5u * st;
        a5 += wget(o + 0u) * v00 + wget(o + 1u) * v01 + wget(o + 2u) * v02 + wget(o + 3u) * v10 + wget(o + 4u) * v11 + wget(o + 5u) * v12 + wget(o + 6u) * v20 + wget(o + 7u) * v21 + wget(o + 8u) * v22;
        o = wb + 6u * st;
        a6 += wget(o + 0u) * v00 + wget(o + 1u) * v01 + wget(o + 2u) * v02 + wget(o + 3u) * v10 + wget(o + 4u) * v11 + wget(o + 5u) * v12 + wget(o + 6u) * v20 + wget(o + 7u) * v21 + wget(o + 8u) * v22;
        o = wb + 7u * st;
        a7 += wget(o + 0u) * v00 + wget(o + 1u) * v01 + wget(o + 2u) * v02 + wget(o + 3u) * v10 + wget(o + 4u) * v11 + wget(o + 5u) * v12 + wget(o + 6u) * v20 + wget(o + 7u) * v21 + wget(o + 8u) * v22;
        o = wb + 8u * st;
        a8 += wget(o + 0u) * v00 + wget(o + 1u) * v01 + wget(o + 2u) * v02 + wget(o + 3u) * v10 + wget(o + 4u) * v11 + wget(o + 5u) * v12 + wget(o + 6u) * v20 + wget(o + 7u) * v21 + wget(o + 8u) * v22;
        o = wb + 9u * st;
        a9 += wget(o + 0u) * v00 + wget(o + 1u) * v01 + wget(o + 2u) * v02 + wget(o + 3u) * v10 + wget(o + 4u) * v11 + wget(o + 5u) * v12 + wget(o + 6u) * v20 + wget(o + 7u) * v21 + wget(o + 8u) * v22;
        o = wb + 10u * st;
        a10 += wget(o + 0u) * v00 + wget(o + 1u) * v01 + wget(o + 2u) * v02 + wget(o + 3u) * v10 + wget(o + 4u) * v11 + wget(o + 5u) * v12 + wget(o + 6u) * v20 + wget(o + 7u) * v21 + wget(o + 8u) * v22;
        o = wb + 11u * st;
        a11 += wget(o + 0u) * v00 + wget(o + 1u) * v01 + wget(o + 2u) * v02 + wget(o + 3u) * v10 + wget(o + 4u) * v11 + wget(o + 5u) * v12 + wget(o + 6u) * v20 + wget(o + 7u) * v21 + wget(o + 8u) * v22;
        o = wb + 12u * st;
        a12 += wget(o + 0u) * v00 + wget(o + 1u) * v01 + wget(o + 2u) * v02 + wget(o + 3u) * v10 + wget(o + 4u) * v11 + wget(o + 5u) * v12 + wget(o + 6u) * v20 + wget(o + 7u) * v21 + wget(o + 8u) * v22;
        o = wb + 13u * st;
        a13 += wget(o + 0u) * v00 + wget(o + 1u) * v01 + wget(o + 2u) * v02 + wget(o + 3u) * v10 + wget(o + 4u) * v11 + wget(o + 5u) * v12 + wget(o + 6u) * v20 + wget(o + 7u) * v21 + wget(o + 8u) * v22;
        o = wb + 14u * st;
        a14 += wget(o + 0u) * v00 + wget(o + 1u) * v01 + wget(o + 2u) * v02 + wget(o + 3u) * v10 + wget(o + 4u) * v11 + wget(o + 5u) * v12 + wget(o + 6u) * v20 + wget(o + 7u) * v21 + wget(o + 8u) * v22;
        o = wb + 15u * st;
        a15 += wget(o + 0u) * v00 + wget(o + 1u) * v01 + wget(o + 2u) * v02 + wget(o + 3u) * v10 + wget(o + 4u) * v11 + wget(o + 5u) * v12 + wget(o + 6u) * v20 + wget(o + 7u) * v21 + wget(o + 8u) * v22;
        o = wb + 16u * st;
        a16 += wget(o + 0u) * v00 + wget(o + 1u) * v01 + wget(o + 2u) * v02 + wget(o + 3u) * v10 + wget(o + 4u) * v11 + wget(o + 5u) * v12 + wget(o + 6u) * v20 + wget(o + 7u) * v21 + wget(o + 8u) * v22;
        o = wb + 17u * st;
        a17 += wget(o + 0u) * v00 + wget(o + 1u) * v01 + wget(o + 2u) * v02 + wget(o + 3u) * v10 + wget(o + 4u) * v11 + wget(o + 5u) * v12 + wget(o + 6u) * v20 + wget(o + 7u) * v21 + wget(o + 8u) * v22;
        o = wb + 18u * st;
        a18 += wget(o + 0u) * v00 + wget(o + 1u) * v01 + wget(o + 2u) * v02 + wget(o + 3u) * v10 + wget(o + 4u) * v11 + wget(o + 5u) * v12 + wget(o + 6u) * v20 + wget(o + 7u) * v21 + wget(o + 8u) * v22;
        o = wb + 19u * st;
        a19 += wget(o + 0u) * v00 + wget(o + 1u) * v01 + wget(o + 2u) * v02 + wget(o + 3u) * v10 + wget(o + 4u) * v11 + wget(o + 5u) * v12 + wget(o + 6u) * v20 + wget(o + 7u) * v21 + wget(o + 8u) * v22;
        o = wb + 20u * st;
        a20 += wget(o + 0u) * v00 + wget(o + 1u) * v01 + wget(o + 2u) * v02 + wget(o + 3u) * v10 + wget(o + 4u) * v11 + wget(o + 5u) * v12 + wget(o + 6u) * v20 + wget(o + 7u) * v21 + wget(o + 8u) * v22;
        o = wb + 21u * st;
        a21 += wget(o + 0u) * v00 + wget(o + 1u) * v01 + wget(o + 2u) * v02 + wget(o + 3u) * v10 + wget(o + 4u) * v11 + wget(o + 5u) * v12 + wget(o + 6u) * v20 + wget(o + 7u) * v21 + wget(o + 8u) * v22;
        o = wb + 22u * st;
        a22 += wget(o + 0u) * v00 + wget(o + 1u) * v01 + wget(o + 2u) * v02 + wget(o + 3u) * v10 + wget(o + 4u) * v11 + wget(o + 5u) * v12 + wget(o + 6u) * v20 + wget(o + 7u) * v21 + wget(o + 8u) * v22;
        o = wb + 23u * st;
        a23 += wget(o + 0u) * v00 + wget(o + 1u) * v01 + wget(o + 2u) * v02 + wget(o + 3u) * v10 + wget(o + 4u) * v11 + wget(o + 5u) * v12 + wget(o + 6u) * v20 + wget(o + 7u) * v21 + wget(o + 8u) * v22;
        o = wb + 24u * st;
        a24 += wget(o + 0u) * v00 + wget(o + 1u) * v01 + wget(o + 2u) * v02 + wget(o + 3u) * v10 + wget(o + 4u) * v11 + wget(o + 5u) * v12 + wget(o + 6u) * v20 + wget(o + 7u) * v21 + wget(o + 8u) * v22;
        o = wb + 25u * st;
        a25 += wget(o + 0u) * v00 + wget(o + 1u) * v01 + wget(o + 2u) * v02 + wget(o + 3u) * v10 + wget(o + 4u) * v11 + wget(o + 5u) * v12 + wget(o + 6u) * v20 + wget(o + 7u) * v21 + wget(o + 8u) * v22;
        o = wb + 26u * st;
        a26 += wget(o + 0u) * v00 + wget(o + 1u) * v01 + wget(o + 2u) * v02 + wget(o + 3u) * v10 + wget(o + 4u) * v11 + wget(o + 5u) * v12 + wget(o + 6u) * v20 + wget(o + 7u) * v21 + wget(o + 8u) * v22;
        o = wb + 27u * st;
        a27 += wget(o + 0u) * v00 + wget(o + 1u) * v01 + wget(o + 2u) * v02 + wget(o + 3u) * v10 + wget(o + 4u) * v11 + wget(o + 5u) * v12 + wget(o + 6u) * v20 + wget(o + 7u) * v21 + wget(o + 8u) * v22;
        o = wb + 28u * st;
        a28 += wget(o + 0u) * v00 + wget(o + 1u) * v01 + wget(o + 2u) * v02 + wget(o + 3u) * v10 + wget(o + 4u) * v11 + wget(o + 5u) * v12 + wget(o + 6u) * v20 + wget(o + 7u) * v21 + wget(o + 8u) * v22;
        o = wb + 29u * st;
        a29 += wget(o + 0u) * v00 + wget(o + 1u) * v01 + wget(o + 2u) * v02 + wget(o + 3u) * v10 + wget(o + 4u) * v11 + wget(o + 5u) * v12 + wget(o + 6u) * v20 + wget(o + 7u) * v21 + wget(o + 8u) * v22;
        o = wb + 30u * st;
        a30 += wget(o + 0u) * v00 + wget(o + 1u) * v01 + wget(o + 2u) * v02 + wget(o + 3u) * v10 + wget(o + 4u) * v11 + wget(o + 5u) * v12 + wget(o + 6u) * v20 + wget(o + 7u) * v21 + wget(o + 8u) * v22;
        o = wb + 31u * st;
        a31 += wget(o + 0u) * v00 + wget(o + 1u) * v01 + wget(o + 2u) * v02 + wget(o + 3u) * v10 + wget(o + 4u) * v11 + wget(o + 5u) * v12 + wget(o + 6u) * v20 + wget(o + 7u) * v21 + wget(o + 8u) * v22;
    }
    store(s, co + 0u, a0);
    store(s, co + 1u, a1);
    store(s, co + 2u, a2);
    store(s, co + 3u, a3);
    store(s, co + 4u, a4);
    store(s, co + 5u, a5);
    store(s, co + 6u, a6);
    store(s, co + 7u, a7);
    store(s, co + 8u, a8);
    store(s, co + 9u, a9);
    store(s, co + 10u, a10);
    store(s, co + 11u, a11);
    store(s, co + 12u, a12);
    store(s, co + 13u, a13);
    store(s, co + 14u, a14);
    store(s, co + 15u, a15);
    store(s, co + 16u, a16);
    store(s, co + 17u, a17);
    store(s, co + 18u, a18);
    store(s, co + 19u, a19);
    store(s, co + 20u, a20);
    store(s, co + 21u, a21);
    store(s, co + 22u, a22);
    store(s, co + 23u, a23);
    store(s, co + 24u, a24);
    store(s, co + 25u, a25);
    store(s, co + 26u, a26);
    store(s, co + 27u, a27);
    store(s, co + 28u, a28);
    store(s, co + 29u, a29);
    store(s, co + 30u, a30);
    store(s, co + 31u, a31);
}
