// Direct 3x3 convolution with stride 1 for CPU adapters (llvmpipe). llvmpipe runs a workgroup's
// invocations as SIMD lanes, and inside a loop it loads from a storage buffer lane by lane, even at
// an address every lane shares, while a uniform buffer read at a shared address is one load and a
// broadcast (measured on the bundled prior: the same kernel took 2.5 times as long with its weights
// in a storage buffer). So the weights come in 64 KiB uniform windows, packed by `pack_weights` as
// [co_chunk][ci_chunk][9] blocks; one dispatch per (output-channel chunk, input-channel chunk) adds
// its part into `out` (the first writes bias + sum). An invocation computes R = 32 output channels at
// eight neighbouring pixels of one row: per input channel it loads three input rows of ten values
// (clamped, zeroed outside the image: no divergent branch) and updates each of its 64 vec4
// accumulators once with nine multiply-adds, so accumulators spilled to the stack cost little.
// Tried on the bundled prior (batch 8, llvmpipe, 2 cores; time of its 3x3 convolutions, profiler):
// with the weights in a storage buffer this kernel was no faster than the implicit GEMM; with uniform
// weights, pixels x channels per invocation of 4 x 16, 4 x 32, 4 x 64, 8 x 16, 8 x 24 and 8 x 32
// took about 0.45, 0.42, 0.8, 0.37, 0.55 and 0.33 of the GEMM's time (run-to-run noise ~10 %).
// Workgroups of 16 invocations (two SIMD groups of llvmpipe's 8 lanes): at batch 1 the images give
// few invocations, and 64-wide groups left a core idle (batch 1 forward: 0.080 s in this kernel at
// 64, 0.056 at 16, 0.054 at 8; batch 8 unchanged).
// Same math and layout as conv2d.wgsl (cross-correlation, NCHW, asymmetric zero padding).

struct P {
    batch: u32, cin: u32, h: u32, w: u32,
    cout: u32, ho: u32, wo: u32, kh: u32,
    kw: u32, stride: u32, pad_t: u32, pad_l: u32,
    has_bias: u32, ci0: u32, ci_n: u32, co0: u32,
    ci_chunk: u32, co_chunk: u32, n_ci: u32, first: u32,
    total: u32, flip: u32, rows: u32, _p2: u32,
}

@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> wt: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<uniform> wu: array<vec4<f32>, 4096>; // one 64 KiB chunk of packed weights

// Packs w [cout, cin, kh, kw] (3x3 or 1x1) into chunks of 16384 values: chunk (a, c) holds output
// channels a*co_chunk.. and input channels c*ci_chunk.., zeros elsewhere; 1x1 at (r * ci_chunk + cl),
// 3x3 at ((g * ci_chunk + cl) * rows + r % rows) * 9 + k for row group g = r / rows (an invocation's
// rows: its nine taps of one input channel are 9 x rows contiguous values, whole vec4s); with `flip`,
// of the flipped transpose of wt [cin, cout, kh, kw].
@compute @workgroup_size(256)
fn pack_weights(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 256u;
    if (i >= p.total) { return; }
    let chunk = i / 16384u;
    let e = i % 16384u;
    let a = chunk / p.n_ci;
    let c = chunk % p.n_ci;
    let kk = p.kh * p.kw;
    let k = e % kk;
    let t = e / kk;
    var cl = t % p.ci_chunk;
    var r = t / p.ci_chunk;
    if (kk == 9u) {
        // 3x3: [row group][cl][rows][9], so an input channel's taps of a row group are contiguous
        let g = t / (p.ci_chunk * p.rows);
        let rest = t % (p.ci_chunk * p.rows);
        cl = rest / p.rows;
        r = g * p.rows + rest % p.rows;
    }
    let co = a * p.co_chunk + r;
    let ci = c * p.ci_chunk + cl;
    var v = 0.0;
    if (r < p.co_chunk && co < p.cout && ci < p.cin) {
        if (p.flip != 0u) {
            // the flipped transpose of wt [cin, cout, kh, kw] (an input gradient)
            v = wt[(ci * p.cout + co) * kk + kk - 1u - k];
        } else {
            v = wt[(co * p.cin + ci) * kk + k];
        }
    }
    put(i, v);
}

// Output (b, oy, ox0) of this invocation's four pixels; `ok` false past the end.
struct Site { b: u32, oy: u32, ox0: u32, ok: bool }

fn site(g0: u32) -> Site {
    let quads = (p.wo + 7u) / 8u;
    let per_image = p.ho * quads;
    var s: Site;
    s.ok = g0 < p.batch * per_image;
    let g = min(g0, p.batch * per_image - 1u);
    s.b = g / per_image;
    let r = g % per_image;
    s.oy = r / quads;
    s.ox0 = (r % quads) * 8u;
    return s;
}

// ---- output access: conv2d_direct.wgsl#out4 puts shaders/conv2d_direct_out4.inc here ----
// x[row base + ix] times `valid`, without a branch: the index is clamped into the row and the value
// multiplied by 0 outside it (a divergent branch costs a masked update per variable on llvmpipe).
fn xz(rb: u32, ix: i32, valid: f32) -> f32 {
    let inside = select(0.0, valid, u32(ix) < p.w);
    return x[rb + u32(clamp(ix, 0, i32(p.w) - 1))] * inside;
}

// The ten inputs ix0 .. ix0 + 9 of row `rb` that eight outputs of a 3x3 kernel read, as l, m0 (four),
// m1 (four), r; zero outside the row and where `valid` is 0.
struct Row10 { l: f32, m0: vec4<f32>, m1: vec4<f32>, r: f32 }

fn row10(rb: u32, ix0: i32, valid: f32) -> Row10 {
    return Row10(
        xz(rb, ix0, valid),
        vec4<f32>(xz(rb, ix0 + 1, valid), xz(rb, ix0 + 2, valid), xz(rb, ix0 + 3, valid), xz(rb, ix0 + 4, valid)),
        vec4<f32>(xz(rb, ix0 + 5, valid), xz(rb, ix0 + 6, valid), xz(rb, ix0 + 7, valid), xz(rb, ix0 + 8, valid)),
        xz(rb, ix0 + 9, valid));
}

// The seventeen inputs ix0 .. ix0 + 16 of row `rb` that eight outputs of a 3x3 kernel with stride 2
// read, as l and m0..m3 (four each); zero outside the row and where `valid` is 0.
struct Row17 { l: f32, m0: vec4<f32>, m1: vec4<f32>, m2: vec4<f32>, m3: vec4<f32> }

fn row17(rb: u32, ix0: i32, valid: f32) -> Row17 {
    return Row17(
        xz(rb, ix0, valid),
        vec4<f32>(xz(rb, ix0 + 1, valid), xz(rb, ix0 + 2, valid), xz(rb, ix0 + 3, valid), xz(rb, ix0 + 4, valid)),
        vec4<f32>(xz(rb, ix0 + 5, valid), xz(rb, ix0 + 6, valid), xz(rb, ix0 + 7, valid), xz(rb, ix0 + 8, valid)),
        vec4<f32>(xz(rb, ix0 + 9, valid), xz(rb, ix0 + 10, valid), xz(rb, ix0 + 11, valid), xz(rb, ix0 + 12, valid)),
        vec4<f32>(xz(rb, ix0 + 13, valid), xz(rb, ix0 + 14, valid), xz(rb, ix0 + 15, valid), xz(rb, ix0 + 16, valid)));
}

// Inputs ox .. ox + 3 of the row starting at `rb` (1x1 kernels; clamped to the row's last pixel).
fn quad(rb: u32, ox: u32) -> vec4<f32> {
    let e = p.w - 1u;
    return vec4<f32>(x[rb + min(ox, e)], x[rb + min(ox + 1u, e)], x[rb + min(ox + 2u, e)], x[rb + min(ox + 3u, e)]);
}

@group(0) @binding(4) var<storage, read_write> out: array<f32>;

fn put(i: u32, v: f32) {
    out[i] = v;
}

// Adds (or, for the first input-channel window, writes with the bias) four outputs of row pixels
// ox0.. of channel co, those inside the row.
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
// ---- end of output access ----

// ---- generated by shaders/gen_conv2d_direct.py below this line: edit the generator ----

// Output channels co0 + wid.y*16 .. +16 (rows of the chunk) at eight neighbouring pixels (two
// vec4), input channels ci0 .. ci0 + ci_n; stride 1.
@compute @workgroup_size(16)
fn conv2d_direct3(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
                  @builtin(num_workgroups) nwg: vec3<u32>) {
    let s = site(gid.x + gid.z * nwg.x * 16u);
    var s2 = s;
    s2.ox0 = s.ox0 + 4u;
    s2.ok = s.ok && s2.ox0 < p.wo;
    let rl = wid.y * 16u;
    let co = p.co0 + rl;
    var a0 = vec4<f32>(0.0); var b0 = vec4<f32>(0.0); var a1 = vec4<f32>(0.0); var b1 = vec4<f32>(0.0);
    var a2 = vec4<f32>(0.0); var b2 = vec4<f32>(0.0); var a3 = vec4<f32>(0.0); var b3 = vec4<f32>(0.0);
    var a4 = vec4<f32>(0.0); var b4 = vec4<f32>(0.0); var a5 = vec4<f32>(0.0); var b5 = vec4<f32>(0.0);
    var a6 = vec4<f32>(0.0); var b6 = vec4<f32>(0.0); var a7 = vec4<f32>(0.0); var b7 = vec4<f32>(0.0);
    var a8 = vec4<f32>(0.0); var b8 = vec4<f32>(0.0); var a9 = vec4<f32>(0.0); var b9 = vec4<f32>(0.0);
    var a10 = vec4<f32>(0.0); var b10 = vec4<f32>(0.0); var a11 = vec4<f32>(0.0); var b11 = vec4<f32>(0.0);
    var a12 = vec4<f32>(0.0); var b12 = vec4<f32>(0.0); var a13 = vec4<f32>(0.0); var b13 = vec4<f32>(0.0);
    var a14 = vec4<f32>(0.0); var b14 = vec4<f32>(0.0); var a15 = vec4<f32>(0.0); var b15 = vec4<f32>(0.0);
    let ix0 = i32(s.ox0) - i32(p.pad_l);
    for (var cl = 0u; cl < p.ci_n; cl++) {
        let cb = (s.b * p.cin + p.ci0 + cl) * p.h;
        let wb4 = (wid.y * p.ci_chunk + cl) * 36u;
        let iy0 = i32(s.oy + 0u) - i32(p.pad_t);
        let ok0 = select(0.0, 1.0, u32(iy0) < p.h);
        let rb0 = (cb + u32(clamp(iy0, 0, i32(p.h) - 1))) * p.w;
        let r0 = row10(rb0, ix0, ok0);
        let v00 = vec4<f32>(r0.l, r0.m0.x, r0.m0.y, r0.m0.z);
        let u00 = vec4<f32>(r0.m0.w, r0.m1.x, r0.m1.y, r0.m1.z);
        let v01 = vec4<f32>(r0.m0.x, r0.m0.y, r0.m0.z, r0.m0.w);
        let u01 = vec4<f32>(r0.m1.x, r0.m1.y, r0.m1.z, r0.m1.w);
        let v02 = vec4<f32>(r0.m0.y, r0.m0.z, r0.m0.w, r0.m1.x);
        let u02 = vec4<f32>(r0.m1.y, r0.m1.z, r0.m1.w, r0.r);
        let iy1 = i32(s.oy + 1u) - i32(p.pad_t);
        let ok1 = select(0.0, 1.0, u32(iy1) < p.h);
        let rb1 = (cb + u32(clamp(iy1, 0, i32(p.h) - 1))) * p.w;
        let r1 = row10(rb1, ix0, ok1);
        let v10 = vec4<f32>(r1.l, r1.m0.x, r1.m0.y, r1.m0.z);
        let u10 = vec4<f32>(r1.m0.w, r1.m1.x, r1.m1.y, r1.m1.z);
        let v11 = vec4<f32>(r1.m0.x, r1.m0.y, r1.m0.z, r1.m0.w);
        let u11 = vec4<f32>(r1.m1.x, r1.m1.y, r1.m1.z, r1.m1.w);
        let v12 = vec4<f32>(r1.m0.y, r1.m0.z, r1.m0.w, r1.m1.x);
        let u12 = vec4<f32>(r1.m1.y, r1.m1.z, r1.m1.w, r1.r);
        let iy2 = i32(s.oy + 2u) - i32(p.pad_t);
        let ok2 = select(0.0, 1.0, u32(iy2) < p.h);
        let rb2 = (cb + u32(clamp(iy2, 0, i32(p.h) - 1))) * p.w;
        let r2 = row10(rb2, ix0, ok2);
        let v20 = vec4<f32>(r2.l, r2.m0.x, r2.m0.y, r2.m0.z);
        let u20 = vec4<f32>(r2.m0.w, r2.m1.x, r2.m1.y, r2.m1.z);
        let v21 = vec4<f32>(r2.m0.x, r2.m0.y, r2.m0.z, r2.m0.w);
        let u21 = vec4<f32>(r2.m1.x, r2.m1.y, r2.m1.z, r2.m1.w);
        let v22 = vec4<f32>(r2.m0.y, r2.m0.z, r2.m0.w, r2.m1.x);
        let u22 = vec4<f32>(r2.m1.y, r2.m1.z, r2.m1.w, r2.r);
        let wv0 = wu[wb4 + 0u];
        let w0_0 = wv0.x;
        let w0_1 = wv0.y;
        let w0_2 = wv0.z;
        let w0_3 = wv0.w;
        let wv1 = wu[wb4 + 1u];
        let w0_4 = wv1.x;
        let w0_5 = wv1.y;
        let w0_6 = wv1.z;
        let w0_7 = wv1.w;
        let wv2 = wu[wb4 + 2u];
        let w0_8 = wv2.x;
        a0 += w0_0 * v00 + w0_1 * v01 + w0_2 * v02 + w0_3 * v10 + w0_4 * v11 + w0_5 * v12 + w0_6 * v20 + w0_7 * v21 + w0_8 * v22;
        b0 += w0_0 * u00 + w0_1 * u01 + w0_2 * u02 + w0_3 * u10 + w0_4 * u11 + w0_5 * u12 + w0_6 * u20 + w0_7 * u21 + w0_8 * u22;
        let w1_0 = wv2.y;
        let w1_1 = wv2.z;
        let w1_2 = wv2.w;
        let wv3 = wu[wb4 + 3u];
        let w1_3 = wv3.x;
        let w1_4 = wv3.y;
        let w1_5 = wv3.z;
        let w1_6 = wv3.w;
        let wv4 = wu[wb4 + 4u];
        let w1_7 = wv4.x;
        let w1_8 = wv4.y;
        a1 += w1_0 * v00 + w1_1 * v01 + w1_2 * v02 + w1_3 * v10 + w1_4 * v11 + w1_5 * v12 + w1_6 * v20 + w1_7 * v21 + w1_8 * v22;
        b1 += w1_0 * u00 + w1_1 * u01 + w1_2 * u02 + w1_3 * u10 + w1_4 * u11 + w1_5 * u12 + w1_6 * u20 + w1_7 * u21 + w1_8 * u22;
        let w2_0 = wv4.z;
        let w2_1 = wv4.w;
        let wv5 = wu[wb4 + 5u];
        let w2_2 = wv5.x;
        let w2_3 = wv5.y;
        let w2_4 = wv5.z;
        let w2_5 = wv5.w;
        let wv6 = wu[wb4 + 6u];
        let w2_6 = wv6.x;
        let w2_7 = wv6.y;
        let w2_8 = wv6.z;
        a2 += w2_0 * v00 + w2_1 * v01 + w2_2 * v02 + w2_3 * v10 + w2_4 * v11 + w2_5 * v12 + w2_6 * v20 + w2_7 * v21 + w2_8 * v22;
        b2 += w2_0 * u00 + w2_1 * u01 + w2_2 * u02 + w2_3 * u10 + w2_4 * u11 + w2_5 * u12 + w2_6 * u20 + w2_7 * u21 + w2_8 * u22;
        let w3_0 = wv6.w;
        let wv7 = wu[wb4 + 7u];
        let w3_1 = wv7.x;
        let w3_2 = wv7.y;
        let w3_3 = wv7.z;
        let w3_4 = wv7.w;
        let wv8 = wu[wb4 + 8u];
        let w3_5 = wv8.x;
        let w3_6 = wv8.y;
        let w3_7 = wv8.z;
        let w3_8 = wv8.w;
        a3 += w3_0 * v00 + w3_1 * v01 + w3_2 * v02 + w3_3 * v10 + w3_4 * v11 + w3_5 * v12 + w3_6 * v20 + w3_7 * v21 + w3_8 * v22;
        b3 += w3_0 * u00 + w3_1 * u01 + w3_2 * u02 + w3_3 * u10 + w3_4 * u11 + w3_5 * u12 + w3_6 * u20 + w3_7 * u21 + w3_8 * u22;
        let wv9 = wu[wb4 + 9u];
        let w4_0 = wv9.x;
        let w4_1 = wv9.y;
        let w4_2 = wv9.z;
        let w4_3 = wv9.w;
        let wv10 = wu[wb4 + 10u];
        let w4_4 = wv10.x;
        let w4_5 = wv10.y;
        let w4_6 = wv10.z;
        let w4_7 = wv10.w;
        let wv11 = wu[wb4 + 11u];
        let w4_8 = wv11.x;
        a4 += w4_0 * v00 + w4_1 * v01 + w4_2 * v02 + w4_3 * v10 + w4_4 * v11 + w4_5 * v12 + w4_6 * v20 + w4_7 * v21 + w4_8 * v22;
        b4 += w4_0 * u00 + w4_1 * u01 + w4_2 * u02 + w4_3 * u10 + w4_4 * u11 + w4_5 * u12 + w4_6 * u20 + w4_7 * u21 + w4_8 * u22;
        let w5_0 = wv11.y;
        let w5_1 = wv11.z;
        let w5_2 = wv11.w;
        let wv12 = wu[wb4 + 12u];
        let w5_3 = wv12.x;
        let w5_4 = wv12.y;
        let w5_5 = wv12.z;
        let w5_6 = wv12.w;
        let wv13 = wu[wb4 + 13u];
        let w5_7 = wv13.x;
        let w5_8 = wv13.y;
        a5 += w5_0 * v00 + w5_1 * v01 + w5_2 * v02 + w5_3 * v10 + w5_4 * v11 + w5_5 * v12 + w5_6 * v20 + w5_7 * v21 + w5_8 * v22;
        b5 += w5_0 * u00 + w5_1 * u01 + w5_2 * u02 + w5_3 * u10 + w5_4 * u11 + w5_5 * u12 + w5_6 * u20 + w5_7 * u21 + w5_8 * u22;
        let w6_0 = wv13.z;
        let w6_1 = wv13.w;
        let wv14 = wu[wb4 + 14u];
        let w6_2 = wv14.x;
        let w6_3 = wv14.y;
        let w6_4 = wv14.z;
        let w6_5 = wv14.w;
        let wv15 = wu[wb4 + 15u];
        let w6_6 = wv15.x;
        let w6_7 = wv15.y;
        let w6_8 = wv15.z;
        a6 += w6_0 * v00 + w6_1 * v01 + w6_2 * v02 + w6_3 * v10 + w6_4 * v11 + w6_5 * v12 + w6_6 * v20 + w6_7 * v21 + w6_8 * v22;
        b6 += w6_0 * u00 + w6_1 * u01 + w6_2 * u02 + w6_3 * u10 + w6_4 * u11 + w6_5 * u12 + w6_6 * u20 + w6_7 * u21 + w6_8 * u22;
        let w7_0 = wv15.w;
        let wv16 = wu[wb4 + 16u];
        let w7_1 = wv16.x;
        let w7_2 = wv16.y;
        let w7_3 = wv16.z;
        let w7_4 = wv16.w;
        let wv17 = wu[wb4 + 17u];
        let w7_5 = wv17.x;
        let w7_6 = wv17.y;
        let w7_7 = wv17.z;
        let w7_8 = wv17.w;
        a7 += w7_0 * v00 + w7_1 * v01 + w7_2 * v02 + w7_3 * v10 + w7_4 * v11 + w7_5 * v12 + w7_6 * v20 + w7_7 * v21 + w7_8 * v22;
        b7 += w7_0 * u00 + w7_1 * u01 + w7_2 * u02 + w7_3 * u10 + w7_4 * u11 + w7_5 * u12 + w7_6 * u20 + w7_7 * u21 + w7_8 * u22;
        let wv18 = wu[wb4 + 18u];
        let w8_0 = wv18.x;
        let w8_1 = wv18.y;
        let w8_2 = wv18.z;
        let w8_3 = wv18.w;
        let wv19 = wu[wb4 + 19u];
        let w8_4 = wv19.x;
        let w8_5 = wv19.y;
        let w8_6 = wv19.z;
        let w8_7 = wv19.w;
        let wv20 = wu[wb4 + 20u];
        let w8_8 = wv20.x;
        a8 += w8_0 * v00 + w8_1 * v01 + w8_2 * v02 + w8_3 * v10 + w8_4 * v11 + w8_5 * v12 + w8_6 * v20 + w8_7 * v21 + w8_8 * v22;
        b8 += w8_0 * u00 + w8_1 * u01 + w8_2 * u02 + w8_3 * u10 + w8_4 * u11 + w8_5 * u12 + w8_6 * u20 + w8_7 * u21 + w8_8 * u22;
        let w9_0 = wv20.y;
        let w9_1 = wv20.z;
        let w9_2 = wv20.w;
        let wv21 = wu[wb4 + 21u];
        let w9_3 = wv21.x;
        let w9_4 = wv21.y;
        let w9_5 = wv21.z;
        let w9_6 = wv21.w;
        let wv22 = wu[wb4 + 22u];
        let w9_7 = wv22.x;
        let w9_8 = wv22.y;
        a9 += w9_0 * v00 + w9_1 * v01 + w9_2 * v02 + w9_3 * v10 + w9_4 * v11 + w9_5 * v12 + w9_6 * v20 + w9_7 * v21 + w9_8 * v22;
        b9 += w9_0 * u00 + w9_1 * u01 + w9_2 * u02 + w9_3 * u10 + w9_4 * u11 + w9_5 * u12 + w9_6 * u20 + w9_7 * u21 + w9_8 * u22;
        let w10_0 = wv22.z;
        let w10_1 = wv22.w;
        let wv23 = wu[wb4 + 23u];
        let w10_2 = wv23.x;
        let w10_3 = wv23.y;
        let w10_4 = wv23.z;
        let w10_5 = wv23.w;
        let wv24 = wu[wb4 + 24u];
        let w10_6 = wv24.x;
        let w10_7 = wv24.y;
        let w10_8 = wv24.z;
        a10 += w10_0 * v00 + w10_1 * v01 + w10_2 * v02 + w10_3 * v10 + w10_4 * v11 + w10_5 * v12 + w10_6 * v20 + w10_7 * v21 + w10_8 * v22;
        b10 += w10_0 * u00 + w10_1 * u01 + w10_2 * u02 + w10_3 * u10 + w10_4 * u11 + w10_5 * u12 + w10_6 * u20 + w10_7 * u21 + w10_8 * u22;
        let w11_0 = wv24.w;
        let wv25 = wu[wb4 + 25u];
        let w11_1 = wv25.x;
        let w11_2 = wv25.y;
        let w11_3 = wv25.z;
        let w11_4 = wv25.w;
        let wv26 = wu[wb4 + 26u];
        let w11_5 = wv26.x;
        let w11_6 = wv26.y;
        let w11_7 = wv26.z;
        let w11_8 = wv26.w;
        a11 += w11_0 * v00 + w11_1 * v01 + w11_2 * v02 + w11_3 * v10 + w11_4 * v11 + w11_5 * v12 + w11_6 * v20 + w11_7 * v21 + w11_8 * v22;
        b11 += w11_0 * u00 + w11_1 * u01 + w11_2 * u02 + w11_3 * u10 + w11_4 * u11 + w11_5 * u12 + w11_6 * u20 + w11_7 * u21 + w11_8 * u22;
        let wv27 = wu[wb4 + 27u];
        let w12_0 = wv27.x;
        let w12_1 = wv27.y;
        let w12_2 = wv27.z;
        let w12_3 = wv27.w;
        let wv28 = wu[wb4 + 28u];
        let w12_4 = wv28.x;
        let w12_5 = wv28.y;
        let w12_6 = wv28.z;
        let w12_7 = wv28.w;
        let wv29 = wu[wb4 + 29u];
        let w12_8 = wv29.x;
        a12 += w12_0 * v00 + w12_1 * v01 + w12_2 * v02 + w12_3 * v10 + w12_4 * v11 + w12_5 * v12 + w12_6 * v20 + w12_7 * v21 + w12_8 * v22;
        b12 += w12_0 * u00 + w12_1 * u01 + w12_2 * u02 + w12_3 * u10 + w12_4 * u11 + w12_5 * u12 + w12_6 * u20 + w12_7 * u21 + w12_8 * u22;
        let w13_0 = wv29.y;
        let w13_1 = wv29.z;
        let w13_2 = wv29.w;
        let wv30 = wu[wb4 + 30u];
        let w13_3 = wv30.x;
        let w13_4 = wv30.y;
        let w13_5 = wv30.z;
        let w13_6 = wv30.w;
        let wv31 = wu[wb4 + 31u];
        let w13_7 = wv31.x;
        let w13_8 = wv31.y;
        a13 += w13_0 * v00 + w13_1 * v01 + w13_2 * v02 + w13_3 * v10 + w13_4 * v11 + w13_5 * v12 + w13_6 * v20 + w13_7 * v21 + w13_8 * v22;
        b13 += w13_0 * u00 + w13_1 * u01 + w13_2 * u02 + w13_3 * u10 + w13_4 * u11 + w13_5 * u12 + w13_6 * u20 + w13_7 * u21 + w13_8 * u22;
        let w14_0 = wv31.z;
        let w14_1 = wv31.w;
        let wv32 = wu[wb4 + 32u];
        let w14_2 = wv32.x;
        let w14_3 = wv32.y;
        let w14_4 = wv32.z;
        let w14_5 = wv32.w;
        let wv33 = wu[wb4 + 33u];
        let w14_6 = wv33.x;
        let w14_7 = wv33.y;
        let w14_8 = wv33.z;
        a14 += w14_0 * v00 + w14_1 * v01 + w14_2 * v02 + w14_3 * v10 + w14_4 * v11 + w14_5 * v12 + w14_6 * v20 + w14_7 * v21 + w14_8 * v22;
        b14 += w14_0 * u00 + w14_1 * u01 + w14_2 * u02 + w14_3 * u10 + w14_4 * u11 + w14_5 * u12 + w14_6 * u20 + w14_7 * u21 + w14_8 * u22;
        let w15_0 = wv33.w;
        let wv34 = wu[wb4 + 34u];
        let w15_1 = wv34.x;
        let w15_2 = wv34.y;
        let w15_3 = wv34.z;
        let w15_4 = wv34.w;
        let wv35 = wu[wb4 + 35u];
        let w15_5 = wv35.x;
        let w15_6 = wv35.y;
        let w15_7 = wv35.z;
        let w15_8 = wv35.w;
        a15 += w15_0 * v00 + w15_1 * v01 + w15_2 * v02 + w15_3 * v10 + w15_4 * v11 + w15_5 * v12 + w15_6 * v20 + w15_7 * v21 + w15_8 * v22;
        b15 += w15_0 * u00 + w15_1 * u01 + w15_2 * u02 + w15_3 * u10 + w15_4 * u11 + w15_5 * u12 + w15_6 * u20 + w15_7 * u21 + w15_8 * u22;
    }
    store(s, co + 0u, a0);
    store(s2, co + 0u, b0);
    store(s, co + 1u, a1);
    store(s2, co + 1u, b1);
    store(s, co + 2u, a2);
    store(s2, co + 2u, b2);
    store(s, co + 3u, a3);
    store(s2, co + 3u, b3);
    store(s, co + 4u, a4);
    store(s2, co + 4u, b4);
    store(s, co + 5u, a5);
    store(s2, co + 5u, b5);
    store(s, co + 6u, a6);
    store(s2, co + 6u, b6);
    store(s, co + 7u, a7);
    store(s2, co + 7u, b7);
    store(s, co + 8u, a8);
    store(s2, co + 8u, b8);
    store(s, co + 9u, a9);
    store(s2, co + 9u, b9);
    store(s, co + 10u, a10);
    store(s2, co + 10u, b10);
    store(s, co + 11u, a11);
    store(s2, co + 11u, b11);
    store(s, co + 12u, a12);
    store(s2, co + 12u, b12);
    store(s, co + 13u, a13);
    store(s2, co + 13u, b13);
    store(s, co + 14u, a14);
    store(s2, co + 14u, b14);
    store(s, co + 15u, a15);
    store(s2, co + 15u, b15);
}

// Output channels co0 + wid.y*4 .. +4 (rows of the chunk) at eight neighbouring pixels (two
// vec4), input channels ci0 .. ci0 + ci_n; stride 1.
@compute @workgroup_size(16)
fn conv2d_direct3_r4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
                  @builtin(num_workgroups) nwg: vec3<u32>) {
    let s = site(gid.x + gid.z * nwg.x * 16u);
    var s2 = s;
    s2.ox0 = s.ox0 + 4u;
    s2.ok = s.ok && s2.ox0 < p.wo;
    let rl = wid.y * 4u;
    let co = p.co0 + rl;
    var a0 = vec4<f32>(0.0); var b0 = vec4<f32>(0.0); var a1 = vec4<f32>(0.0); var b1 = vec4<f32>(0.0);
    var a2 = vec4<f32>(0.0); var b2 = vec4<f32>(0.0); var a3 = vec4<f32>(0.0); var b3 = vec4<f32>(0.0);
    let ix0 = i32(s.ox0) - i32(p.pad_l);
    for (var cl = 0u; cl < p.ci_n; cl++) {
        let cb = (s.b * p.cin + p.ci0 + cl) * p.h;
        let wb4 = (wid.y * p.ci_chunk + cl) * 9u;
        let iy0 = i32(s.oy + 0u) - i32(p.pad_t);
        let ok0 = select(0.0, 1.0, u32(iy0) < p.h);
        let rb0 = (cb + u32(clamp(iy0, 0, i32(p.h) - 1))) * p.w;
        let r0 = row10(rb0, ix0, ok0);
        let v00 = vec4<f32>(r0.l, r0.m0.x, r0.m0.y, r0.m0.z);
        let u00 = vec4<f32>(r0.m0.w, r0.m1.x, r0.m1.y, r0.m1.z);
        let v01 = vec4<f32>(r0.m0.x, r0.m0.y, r0.m0.z, r0.m0.w);
        let u01 = vec4<f32>(r0.m1.x, r0.m1.y, r0.m1.z, r0.m1.w);
        let v02 = vec4<f32>(r0.m0.y, r0.m0.z, r0.m0.w, r0.m1.x);
        let u02 = vec4<f32>(r0.m1.y, r0.m1.z, r0.m1.w, r0.r);
        let iy1 = i32(s.oy + 1u) - i32(p.pad_t);
        let ok1 = select(0.0, 1.0, u32(iy1) < p.h);
        let rb1 = (cb + u32(clamp(iy1, 0, i32(p.h) - 1))) * p.w;
        let r1 = row10(rb1, ix0, ok1);
        let v10 = vec4<f32>(r1.l, r1.m0.x, r1.m0.y, r1.m0.z);
        let u10 = vec4<f32>(r1.m0.w, r1.m1.x, r1.m1.y, r1.m1.z);
        let v11 = vec4<f32>(r1.m0.x, r1.m0.y, r1.m0.z, r1.m0.w);
        let u11 = vec4<f32>(r1.m1.x, r1.m1.y, r1.m1.z, r1.m1.w);
        let v12 = vec4<f32>(r1.m0.y, r1.m0.z, r1.m0.w, r1.m1.x);
        let u12 = vec4<f32>(r1.m1.y, r1.m1.z, r1.m1.w, r1.r);
        let iy2 = i32(s.oy + 2u) - i32(p.pad_t);
        let ok2 = select(0.0, 1.0, u32(iy2) < p.h);
        let rb2 = (cb + u32(clamp(iy2, 0, i32(p.h) - 1))) * p.w;
        let r2 = row10(rb2, ix0, ok2);
        let v20 = vec4<f32>(r2.l, r2.m0.x, r2.m0.y, r2.m0.z);
        let u20 = vec4<f32>(r2.m0.w, r2.m1.x, r2.m1.y, r2.m1.z);
        let v21 = vec4<f32>(r2.m0.x, r2.m0.y, r2.m0.z, r2.m0.w);
        let u21 = vec4<f32>(r2.m1.x, r2.m1.y, r2.m1.z, r2.m1.w);
        let v22 = vec4<f32>(r2.m0.y, r2.m0.z, r2.m0.w, r2.m1.x);
        let u22 = vec4<f32>(r2.m1.y, r2.m1.z, r2.m1.w, r2.r);
        let wv0 = wu[wb4 + 0u];
        let w0_0 = wv0.x;
        let w0_1 = wv0.y;
        let w0_2 = wv0.z;
        let w0_3 = wv0.w;
        let wv1 = wu[wb4 + 1u];
        let w0_4 = wv1.x;
        let w0_5 = wv1.y;
        let w0_6 = wv1.z;
        let w0_7 = wv1.w;
        let wv2 = wu[wb4 + 2u];
        let w0_8 = wv2.x;
        a0 += w0_0 * v00 + w0_1 * v01 + w0_2 * v02 + w0_3 * v10 + w0_4 * v11 + w0_5 * v12 + w0_6 * v20 + w0_7 * v21 + w0_8 * v22;
        b0 += w0_0 * u00 + w0_1 * u01 + w0_2 * u02 + w0_3 * u10 + w0_4 * u11 + w0_5 * u12 + w0_6 * u20 + w0_7 * u21 + w0_8 * u22;
        let w1_0 = wv2.y;
        let w1_1 = wv2.z;
        let w1_2 = wv2.w;
        let wv3 = wu[wb4 + 3u];
        let w1_3 = wv3.x;
        let w1_4 = wv3.y;
        let w1_5 = wv3.z;
        let w1_6 = wv3.w;
        let wv4 = wu[wb4 + 4u];
        let w1_7 = wv4.x;
        let w1_8 = wv4.y;
        a1 += w1_0 * v00 + w1_1 * v01 + w1_2 * v02 + w1_3 * v10 + w1_4 * v11 + w1_5 * v12 + w1_6 * v20 + w1_7 * v21 + w1_8 * v22;
        b1 += w1_0 * u00 + w1_1 * u01 + w1_2 * u02 + w1_3 * u10 + w1_4 * u11 + w1_5 * u12 + w1_6 * u20 + w1_7 * u21 + w1_8 * u22;
        let w2_0 = wv4.z;
        let w2_1 = wv4.w;
        let wv5 = wu[wb4 + 5u];
        let w2_2 = wv5.x;
        let w2_3 = wv5.y;
        let w2_4 = wv5.z;
        let w2_5 = wv5.w;
        let wv6 = wu[wb4 + 6u];
        let w2_6 = wv6.x;
        let w2_7 = wv6.y;
        let w2_8 = wv6.z;
        a2 += w2_0 * v00 + w2_1 * v01 + w2_2 * v02 + w2_3 * v10 + w2_4 * v11 + w2_5 * v12 + w2_6 * v20 + w2_7 * v21 + w2_8 * v22;
        b2 += w2_0 * u00 + w2_1 * u01 + w2_2 * u02 + w2_3 * u10 + w2_4 * u11 + w2_5 * u12 + w2_6 * u20 + w2_7 * u21 + w2_8 * u22;
        let w3_0 = wv6.w;
        let wv7 = wu[wb4 + 7u];
        let w3_1 = wv7.x;
        let w3_2 = wv7.y;
        let w3_3 = wv7.z;
        let w3_4 = wv7.w;
        let wv8 = wu[wb4 + 8u];
        let w3_5 = wv8.x;
        let w3_6 = wv8.y;
        let w3_7 = wv8.z;
        let w3_8 = wv8.w;
        a3 += w3_0 * v00 + w3_1 * v01 + w3_2 * v02 + w3_3 * v10 + w3_4 * v11 + w3_5 * v12 + w3_6 * v20 + w3_7 * v21 + w3_8 * v22;
        b3 += w3_0 * u00 + w3_1 * u01 + w3_2 * u02 + w3_3 * u10 + w3_4 * u11 + w3_5 * u12 + w3_6 * u20 + w3_7 * u21 + w3_8 * u22;
    }
    store(s, co + 0u, a0);
    store(s2, co + 0u, b0);
    store(s, co + 1u, a1);
    store(s2, co + 1u, b1);
    store(s, co + 2u, a2);
    store(s2, co + 2u, b2);
    store(s, co + 3u, a3);
    store(s2, co + 3u, b3);
}

// Output channels co0 + wid.y*16 .. +16 (rows of the chunk) at eight neighbouring pixels (two
// vec4), input channels ci0 .. ci0 + ci_n; stride 2.
@compute @workgroup_size(16)
fn conv2d_direct3s2(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
                  @builtin(num_workgroups) nwg: vec3<u32>) {
    let s = site(gid.x + gid.z * nwg.x * 16u);
    var s2 = s;
    s2.ox0 = s.ox0 + 4u;
    s2.ok = s.ok && s2.ox0 < p.wo;
    let rl = wid.y * 16u;
    let co = p.co0 + rl;
    var a0 = vec4<f32>(0.0); var b0 = vec4<f32>(0.0); var a1 = vec4<f32>(0.0); var b1 = vec4<f32>(0.0);
    var a2 = vec4<f32>(0.0); var b2 = vec4<f32>(0.0); var a3 = vec4<f32>(0.0); var b3 = vec4<f32>(0.0);
    var a4 = vec4<f32>(0.0); var b4 = vec4<f32>(0.0); var a5 = vec4<f32>(0.0); var b5 = vec4<f32>(0.0);
    var a6 = vec4<f32>(0.0); var b6 = vec4<f32>(0.0); var a7 = vec4<f32>(0.0); var b7 = vec4<f32>(0.0);
    var a8 = vec4<f32>(0.0); var b8 = vec4<f32>(0.0); var a9 = vec4<f32>(0.0); var b9 = vec4<f32>(0.0);
    var a10 = vec4<f32>(0.0); var b10 = vec4<f32>(0.0); var a11 = vec4<f32>(0.0); var b11 = vec4<f32>(0.0);
    var a12 = vec4<f32>(0.0); var b12 = vec4<f32>(0.0); var a13 = vec4<f32>(0.0); var b13 = vec4<f32>(0.0);
    var a14 = vec4<f32>(0.0); var b14 = vec4<f32>(0.0); var a15 = vec4<f32>(0.0); var b15 = vec4<f32>(0.0);
    let ix0 = i32(2u * s.ox0) - i32(p.pad_l);
    for (var cl = 0u; cl < p.ci_n; cl++) {
        let cb = (s.b * p.cin + p.ci0 + cl) * p.h;
        let wb4 = (wid.y * p.ci_chunk + cl) * 36u;
        let iy0 = i32(2u * s.oy + 0u) - i32(p.pad_t);
        let ok0 = select(0.0, 1.0, u32(iy0) < p.h);
        let rb0 = (cb + u32(clamp(iy0, 0, i32(p.h) - 1))) * p.w;
        let r0 = row17(rb0, ix0, ok0);
        let v00 = vec4<f32>(r0.l, r0.m0.y, r0.m0.w, r0.m1.y);
        let u00 = vec4<f32>(r0.m1.w, r0.m2.y, r0.m2.w, r0.m3.y);
        let v01 = vec4<f32>(r0.m0.x, r0.m0.z, r0.m1.x, r0.m1.z);
        let u01 = vec4<f32>(r0.m2.x, r0.m2.z, r0.m3.x, r0.m3.z);
        let v02 = vec4<f32>(r0.m0.y, r0.m0.w, r0.m1.y, r0.m1.w);
        let u02 = vec4<f32>(r0.m2.y, r0.m2.w, r0.m3.y, r0.m3.w);
        let iy1 = i32(2u * s.oy + 1u) - i32(p.pad_t);
        let ok1 = select(0.0, 1.0, u32(iy1) < p.h);
        let rb1 = (cb + u32(clamp(iy1, 0, i32(p.h) - 1))) * p.w;
        let r1 = row17(rb1, ix0, ok1);
        let v10 = vec4<f32>(r1.l, r1.m0.y, r1.m0.w, r1.m1.y);
        let u10 = vec4<f32>(r1.m1.w, r1.m2.y, r1.m2.w, r1.m3.y);
        let v11 = vec4<f32>(r1.m0.x, r1.m0.z, r1.m1.x, r1.m1.z);
        let u11 = vec4<f32>(r1.m2.x, r1.m2.z, r1.m3.x, r1.m3.z);
        let v12 = vec4<f32>(r1.m0.y, r1.m0.w, r1.m1.y, r1.m1.w);
        let u12 = vec4<f32>(r1.m2.y, r1.m2.w, r1.m3.y, r1.m3.w);
        let iy2 = i32(2u * s.oy + 2u) - i32(p.pad_t);
        let ok2 = select(0.0, 1.0, u32(iy2) < p.h);
        let rb2 = (cb + u32(clamp(iy2, 0, i32(p.h) - 1))) * p.w;
        let r2 = row17(rb2, ix0, ok2);
        let v20 = vec4<f32>(r2.l, r2.m0.y, r2.m0.w, r2.m1.y);
        let u20 = vec4<f32>(r2.m1.w, r2.m2.y, r2.m2.w, r2.m3.y);
        let v21 = vec4<f32>(r2.m0.x, r2.m0.z, r2.m1.x, r2.m1.z);
        let u21 = vec4<f32>(r2.m2.x, r2.m2.z, r2.m3.x, r2.m3.z);
        let v22 = vec4<f32>(r2.m0.y, r2.m0.w, r2.m1.y, r2.m1.w);
        let u22 = vec4<f32>(r2.m2.y, r2.m2.w, r2.m3.y, r2.m3.w);
        let wv0 = wu[wb4 + 0u];
        let w0_0 = wv0.x;
        let w0_1 = wv0.y;
        let w0_2 = wv0.z;
        let w0_3 = wv0.w;
        let wv1 = wu[wb4 + 1u];
        let w0_4 = wv1.x;
        let w0_5 = wv1.y;
        let w0_6 = wv1.z;
        let w0_7 = wv1.w;
        let wv2 = wu[wb4 + 2u];
        let w0_8 = wv2.x;
        a0 += w0_0 * v00 + w0_1 * v01 + w0_2 * v02 + w0_3 * v10 + w0_4 * v11 + w0_5 * v12 + w0_6 * v20 + w0_7 * v21 + w0_8 * v22;
        b0 += w0_0 * u00 + w0_1 * u01 + w0_2 * u02 + w0_3 * u10 + w0_4 * u11 + w0_5 * u12 + w0_6 * u20 + w0_7 * u21 + w0_8 * u22;
        let w1_0 = wv2.y;
        let w1_1 = wv2.z;
        let w1_2 = wv2.w;
        let wv3 = wu[wb4 + 3u];
        let w1_3 = wv3.x;
        let w1_4 = wv3.y;
        let w1_5 = wv3.z;
        let w1_6 = wv3.w;
        let wv4 = wu[wb4 + 4u];
        let w1_7 = wv4.x;
        let w1_8 = wv4.y;
        a1 += w1_0 * v00 + w1_1 * v01 + w1_2 * v02 + w1_3 * v10 + w1_4 * v11 + w1_5 * v12 + w1_6 * v20 + w1_7 * v21 + w1_8 * v22;
        b1 += w1_0 * u00 + w1_1 * u01 + w1_2 * u02 + w1_3 * u10 + w1_4 * u11 + w1_5 * u12 + w1_6 * u20 + w1_7 * u21 + w1_8 * u22;
        let w2_0 = wv4.z;
        let w2_1 = wv4.w;
        let wv5 = wu[wb4 + 5u];
        let w2_2 = wv5.x;
        let w2_3 = wv5.y;
        let w2_4 = wv5.z;
        let w2_5 = wv5.w;
        let wv6 = wu[wb4 + 6u];
        let w2_6 = wv6.x;
        let w2_7 = wv6.y;
        let w2_8 = wv6.z;
        a2 += w2_0 * v00 + w2_1 * v01 + w2_2 * v02 + w2_3 * v10 + w2_4 * v11 + w2_5 * v12 + w2_6 * v20 + w2_7 * v21 + w2_8 * v22;
        b2 += w2_0 * u00 + w2_1 * u01 + w2_2 * u02 + w2_3 * u10 + w2_4 * u11 + w2_5 * u12 + w2_6 * u20 + w2_7 * u21 + w2_8 * u22;
        let w3_0 = wv6.w;
        let wv7 = wu[wb4 + 7u];
        let w3_1 = wv7.x;
        let w3_2 = wv7.y;
        let w3_3 = wv7.z;
        let w3_4 = wv7.w;
        let wv8 = wu[wb4 + 8u];
        let w3_5 = wv8.x;
        let w3_6 = wv8.y;
        let w3_7 = wv8.z;
        let w3_8 = wv8.w;
        a3 += w3_0 * v00 + w3_1 * v01 + w3_2 * v02 + w3_3 * v10 + w3_4 * v11 + w3_5 * v12 + w3_6 * v20 + w3_7 * v21 + w3_8 * v22;
        b3 += w3_0 * u00 + w3_1 * u01 + w3_2 * u02 + w3_3 * u10 + w3_4 * u11 + w3_5 * u12 + w3_6 * u20 + w3_7 * u21 + w3_8 * u22;
        let wv9 = wu[wb4 + 9u];
        let w4_0 = wv9.x;
        let w4_1 = wv9.y;
        let w4_2 = wv9.z;
        let w4_3 = wv9.w;
        let wv10 = wu[wb4 + 10u];
        let w4_4 = wv10.x;
        let w4_5 = wv10.y;
        let w4_6 = wv10.z;
        let w4_7 = wv10.w;
        let wv11 = wu[wb4 + 11u];
        let w4_8 = wv11.x;
        a4 += w4_0 * v00 + w4_1 * v01 + w4_2 * v02 + w4_3 * v10 + w4_4 * v11 + w4_5 * v12 + w4_6 * v20 + w4_7 * v21 + w4_8 * v22;
        b4 += w4_0 * u00 + w4_1 * u01 + w4_2 * u02 + w4_3 * u10 + w4_4 * u11 + w4_5 * u12 + w4_6 * u20 + w4_7 * u21 + w4_8 * u22;
        let w5_0 = wv11.y;
        let w5_1 = wv11.z;
        let w5_2 = wv11.w;
        let wv12 = wu[wb4 + 12u];
        let w5_3 = wv12.x;
        let w5_4 = wv12.y;
        let w5_5 = wv12.z;
        let w5_6 = wv12.w;
        let wv13 = wu[wb4 + 13u];
        let w5_7 = wv13.x;
        let w5_8 = wv13.y;
        a5 += w5_0 * v00 + w5_1 * v01 + w5_2 * v02 + w5_3 * v10 + w5_4 * v11 + w5_5 * v12 + w5_6 * v20 + w5_7 * v21 + w5_8 * v22;
        b5 += w5_0 * u00 + w5_1 * u01 + w5_2 * u02 + w5_3 * u10 + w5_4 * u11 + w5_5 * u12 + w5_6 * u20 + w5_7 * u21 + w5_8 * u22;
        let w6_0 = wv13.z;
        let w6_1 = wv13.w;
        let wv14 = wu[wb4 + 14u];
        let w6_2 = wv14.x;
        let w6_3 = wv14.y;
        let w6_4 = wv14.z;
        let w6_5 = wv14.w;
        let wv15 = wu[wb4 + 15u];
        let w6_6 = wv15.x;
        let w6_7 = wv15.y;
        let w6_8 = wv15.z;
        a6 += w6_0 * v00 + w6_1 * v01 + w6_2 * v02 + w6_3 * v10 + w6_4 * v11 + w6_5 * v12 + w6_6 * v20 + w6_7 * v21 + w6_8 * v22;
        b6 += w6_0 * u00 + w6_1 * u01 + w6_2 * u02 + w6_3 * u10 + w6_4 * u11 + w6_5 * u12 + w6_6 * u20 + w6_7 * u21 + w6_8 * u22;
        let w7_0 = wv15.w;
        let wv16 = wu[wb4 + 16u];
        let w7_1 = wv16.x;
        let w7_2 = wv16.y;
        let w7_3 = wv16.z;
        let w7_4 = wv16.w;
        let wv17 = wu[wb4 + 17u];
        let w7_5 = wv17.x;
        let w7_6 = wv17.y;
        let w7_7 = wv17.z;
        let w7_8 = wv17.w;
        a7 += w7_0 * v00 + w7_1 * v01 + w7_2 * v02 + w7_3 * v10 + w7_4 * v11 + w7_5 * v12 + w7_6 * v20 + w7_7 * v21 + w7_8 * v22;
        b7 += w7_0 * u00 + w7_1 * u01 + w7_2 * u02 + w7_3 * u10 + w7_4 * u11 + w7_5 * u12 + w7_6 * u20 + w7_7 * u21 + w7_8 * u22;
        let wv18 = wu[wb4 + 18u];
        let w8_0 = wv18.x;
        let w8_1 = wv18.y;
        let w8_2 = wv18.z;
        let w8_3 = wv18.w;
        let wv19 = wu[wb4 + 19u];
        let w8_4 = wv19.x;
        let w8_5 = wv19.y;
        let w8_6 = wv19.z;
        let w8_7 = wv19.w;
        let wv20 = wu[wb4 + 20u];
        let w8_8 = wv20.x;
        a8 += w8_0 * v00 + w8_1 * v01 + w8_2 * v02 + w8_3 * v10 + w8_4 * v11 + w8_5 * v12 + w8_6 * v20 + w8_7 * v21 + w8_8 * v22;
        b8 += w8_0 * u00 + w8_1 * u01 + w8_2 * u02 + w8_3 * u10 + w8_4 * u11 + w8_5 * u12 + w8_6 * u20 + w8_7 * u21 + w8_8 * u22;
        let w9_0 = wv20.y;
        let w9_1 = wv20.z;
        let w9_2 = wv20.w;
        let wv21 = wu[wb4 + 21u];
        let w9_3 = wv21.x;
        let w9_4 = wv21.y;
        let w9_5 = wv21.z;
        let w9_6 = wv21.w;
        let wv22 = wu[wb4 + 22u];
        let w9_7 = wv22.x;
        let w9_8 = wv22.y;
        a9 += w9_0 * v00 + w9_1 * v01 + w9_2 * v02 + w9_3 * v10 + w9_4 * v11 + w9_5 * v12 + w9_6 * v20 + w9_7 * v21 + w9_8 * v22;
        b9 += w9_0 * u00 + w9_1 * u01 + w9_2 * u02 + w9_3 * u10 + w9_4 * u11 + w9_5 * u12 + w9_6 * u20 + w9_7 * u21 + w9_8 * u22;
        let w10_0 = wv22.z;
        let w10_1 = wv22.w;
        let wv23 = wu[wb4 + 23u];
        let w10_2 = wv23.x;
        let w10_3 = wv23.y;
        let w10_4 = wv23.z;
        let w10_5 = wv23.w;
        let wv24 = wu[wb4 + 24u];
        let w10_6 = wv24.x;
        let w10_7 = wv24.y;
        let w10_8 = wv24.z;
        a10 += w10_0 * v00 + w10_1 * v01 + w10_2 * v02 + w10_3 * v10 + w10_4 * v11 + w10_5 * v12 + w10_6 * v20 + w10_7 * v21 + w10_8 * v22;
        b10 += w10_0 * u00 + w10_1 * u01 + w10_2 * u02 + w10_3 * u10 + w10_4 * u11 + w10_5 * u12 + w10_6 * u20 + w10_7 * u21 + w10_8 * u22;
        let w11_0 = wv24.w;
        let wv25 = wu[wb4 + 25u];
        let w11_1 = wv25.x;
        let w11_2 = wv25.y;
        let w11_3 = wv25.z;
        let w11_4 = wv25.w;
        let wv26 = wu[wb4 + 26u];
        let w11_5 = wv26.x;
        let w11_6 = wv26.y;
        let w11_7 = wv26.z;
        let w11_8 = wv26.w;
        a11 += w11_0 * v00 + w11_1 * v01 + w11_2 * v02 + w11_3 * v10 + w11_4 * v11 + w11_5 * v12 + w11_6 * v20 + w11_7 * v21 + w11_8 * v22;
        b11 += w11_0 * u00 + w11_1 * u01 + w11_2 * u02 + w11_3 * u10 + w11_4 * u11 + w11_5 * u12 + w11_6 * u20 + w11_7 * u21 + w11_8 * u22;
        let wv27 = wu[wb4 + 27u];
        let w12_0 = wv27.x;
        let w12_1 = wv27.y;
        let w12_2 = wv27.z;
        let w12_3 = wv27.w;
        let wv28 = wu[wb4 + 28u];
        let w12_4 = wv28.x;
        let w12_5 = wv28.y;
        let w12_6 = wv28.z;
        let w12_7 = wv28.w;
        let wv29 = wu[wb4 + 29u];
        let w12_8 = wv29.x;
        a12 += w12_0 * v00 + w12_1 * v01 + w12_2 * v02 + w12_3 * v10 + w12_4 * v11 + w12_5 * v12 + w12_6 * v20 + w12_7 * v21 + w12_8 * v22;
        b12 += w12_0 * u00 + w12_1 * u01 + w12_2 * u02 + w12_3 * u10 + w12_4 * u11 + w12_5 * u12 + w12_6 * u20 + w12_7 * u21 + w12_8 * u22;
        let w13_0 = wv29.y;
        let w13_1 = wv29.z;
        let w13_2 = wv29.w;
        let wv30 = wu[wb4 + 30u];
        let w13_3 = wv30.x;
        let w13_4 = wv30.y;
        let w13_5 = wv30.z;
        let w13_6 = wv30.w;
        let wv31 = wu[wb4 + 31u];
        let w13_7 = wv31.x;
        let w13_8 = wv31.y;
        a13 += w13_0 * v00 + w13_1 * v01 + w13_2 * v02 + w13_3 * v10 + w13_4 * v11 + w13_5 * v12 + w13_6 * v20 + w13_7 * v21 + w13_8 * v22;
        b13 += w13_0 * u00 + w13_1 * u01 + w13_2 * u02 + w13_3 * u10 + w13_4 * u11 + w13_5 * u12 + w13_6 * u20 + w13_7 * u21 + w13_8 * u22;
        let w14_0 = wv31.z;
        let w14_1 = wv31.w;
        let wv32 = wu[wb4 + 32u];
        let w14_2 = wv32.x;
        let w14_3 = wv32.y;
        let w14_4 = wv32.z;
        let w14_5 = wv32.w;
        let wv33 = wu[wb4 + 33u];
        let w14_6 = wv33.x;
        let w14_7 = wv33.y;
        let w14_8 = wv33.z;
        a14 += w14_0 * v00 + w14_1 * v01 + w14_2 * v02 + w14_3 * v10 + w14_4 * v11 + w14_5 * v12 + w14_6 * v20 + w14_7 * v21 + w14_8 * v22;
        b14 += w14_0 * u00 + w14_1 * u01 + w14_2 * u02 + w14_3 * u10 + w14_4 * u11 + w14_5 * u12 + w14_6 * u20 + w14_7 * u21 + w14_8 * u22;
        let w15_0 = wv33.w;
        let wv34 = wu[wb4 + 34u];
        let w15_1 = wv34.x;
        let w15_2 = wv34.y;
        let w15_3 = wv34.z;
        let w15_4 = wv34.w;
        let wv35 = wu[wb4 + 35u];
        let w15_5 = wv35.x;
        let w15_6 = wv35.y;
        let w15_7 = wv35.z;
        let w15_8 = wv35.w;
        a15 += w15_0 * v00 + w15_1 * v01 + w15_2 * v02 + w15_3 * v10 + w15_4 * v11 + w15_5 * v12 + w15_6 * v20 + w15_7 * v21 + w15_8 * v22;
        b15 += w15_0 * u00 + w15_1 * u01 + w15_2 * u02 + w15_3 * u10 + w15_4 * u11 + w15_5 * u12 + w15_6 * u20 + w15_7 * u21 + w15_8 * u22;
    }
    store(s, co + 0u, a0);
    store(s2, co + 0u, b0);
    store(s, co + 1u, a1);
    store(s2, co + 1u, b1);
    store(s, co + 2u, a2);
    store(s2, co + 2u, b2);
    store(s, co + 3u, a3);
    store(s2, co + 3u, b3);
    store(s, co + 4u, a4);
    store(s2, co + 4u, b4);
    store(s, co + 5u, a5);
    store(s2, co + 5u, b5);
    store(s, co + 6u, a6);
    store(s2, co + 6u, b6);
    store(s, co + 7u, a7);
    store(s2, co + 7u, b7);
    store(s, co + 8u, a8);
    store(s2, co + 8u, b8);
    store(s, co + 9u, a9);
    store(s2, co + 9u, b9);
    store(s, co + 10u, a10);
    store(s2, co + 10u, b10);
    store(s, co + 11u, a11);
    store(s2, co + 11u, b11);
    store(s, co + 12u, a12);
    store(s2, co + 12u, b12);
    store(s, co + 13u, a13);
    store(s2, co + 13u, b13);
    store(s, co + 14u, a14);
    store(s2, co + 14u, b14);
    store(s, co + 15u, a15);
    store(s2, co + 15u, b15);
}

// 1x1 kernels (stride 1, no padding): the same scheme, 16 output channels at eight pixels of a row an
// invocation, four input channels an iteration (ci_chunk is a multiple of four; channels past cin
// read the last one and meet zero weights), each accumulator updated once per four multiply-adds.
@compute @workgroup_size(16)
fn conv2d_direct1(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
                  @builtin(num_workgroups) nwg: vec3<u32>) {
    let s = site(gid.x + gid.z * nwg.x * 16u);
    var s2 = s;
    s2.ox0 = s.ox0 + 4u;
    s2.ok = s.ok && s2.ox0 < p.wo;
    let rl = wid.y * 16u;
    let co = p.co0 + rl;
    var a0 = vec4<f32>(0.0); var b0 = vec4<f32>(0.0); var a1 = vec4<f32>(0.0); var b1 = vec4<f32>(0.0);
    var a2 = vec4<f32>(0.0); var b2 = vec4<f32>(0.0); var a3 = vec4<f32>(0.0); var b3 = vec4<f32>(0.0);
    var a4 = vec4<f32>(0.0); var b4 = vec4<f32>(0.0); var a5 = vec4<f32>(0.0); var b5 = vec4<f32>(0.0);
    var a6 = vec4<f32>(0.0); var b6 = vec4<f32>(0.0); var a7 = vec4<f32>(0.0); var b7 = vec4<f32>(0.0);
    var a8 = vec4<f32>(0.0); var b8 = vec4<f32>(0.0); var a9 = vec4<f32>(0.0); var b9 = vec4<f32>(0.0);
    var a10 = vec4<f32>(0.0); var b10 = vec4<f32>(0.0); var a11 = vec4<f32>(0.0); var b11 = vec4<f32>(0.0);
    var a12 = vec4<f32>(0.0); var b12 = vec4<f32>(0.0); var a13 = vec4<f32>(0.0); var b13 = vec4<f32>(0.0);
    var a14 = vec4<f32>(0.0); var b14 = vec4<f32>(0.0); var a15 = vec4<f32>(0.0); var b15 = vec4<f32>(0.0);
    for (var cl = 0u; cl < p.ci_n; cl += 4u) {
        let cb0 = (s.b * p.cin + min(p.ci0 + cl + 0u, p.cin - 1u)) * p.h * p.w + s.oy * p.w;
        let v0 = quad(cb0, s.ox0);
        let u0 = quad(cb0, s.ox0 + 4u);
        let cb1 = (s.b * p.cin + min(p.ci0 + cl + 1u, p.cin - 1u)) * p.h * p.w + s.oy * p.w;
        let v1 = quad(cb1, s.ox0);
        let u1 = quad(cb1, s.ox0 + 4u);
        let cb2 = (s.b * p.cin + min(p.ci0 + cl + 2u, p.cin - 1u)) * p.h * p.w + s.oy * p.w;
        let v2 = quad(cb2, s.ox0);
        let u2 = quad(cb2, s.ox0 + 4u);
        let cb3 = (s.b * p.cin + min(p.ci0 + cl + 3u, p.cin - 1u)) * p.h * p.w + s.oy * p.w;
        let v3 = quad(cb3, s.ox0);
        let u3 = quad(cb3, s.ox0 + 4u);
        let wb = rl * p.ci_chunk + cl;
        let wr0 = wu[(wb + 0u * p.ci_chunk) / 4u];
        let w0_0 = wr0.x;
        let w0_1 = wr0.y;
        let w0_2 = wr0.z;
        let w0_3 = wr0.w;
        a0 += w0_0 * v0 + w0_1 * v1 + w0_2 * v2 + w0_3 * v3;
        b0 += w0_0 * u0 + w0_1 * u1 + w0_2 * u2 + w0_3 * u3;
        let wr1 = wu[(wb + 1u * p.ci_chunk) / 4u];
        let w1_0 = wr1.x;
        let w1_1 = wr1.y;
        let w1_2 = wr1.z;
        let w1_3 = wr1.w;
        a1 += w1_0 * v0 + w1_1 * v1 + w1_2 * v2 + w1_3 * v3;
        b1 += w1_0 * u0 + w1_1 * u1 + w1_2 * u2 + w1_3 * u3;
        let wr2 = wu[(wb + 2u * p.ci_chunk) / 4u];
        let w2_0 = wr2.x;
        let w2_1 = wr2.y;
        let w2_2 = wr2.z;
        let w2_3 = wr2.w;
        a2 += w2_0 * v0 + w2_1 * v1 + w2_2 * v2 + w2_3 * v3;
        b2 += w2_0 * u0 + w2_1 * u1 + w2_2 * u2 + w2_3 * u3;
        let wr3 = wu[(wb + 3u * p.ci_chunk) / 4u];
        let w3_0 = wr3.x;
        let w3_1 = wr3.y;
        let w3_2 = wr3.z;
        let w3_3 = wr3.w;
        a3 += w3_0 * v0 + w3_1 * v1 + w3_2 * v2 + w3_3 * v3;
        b3 += w3_0 * u0 + w3_1 * u1 + w3_2 * u2 + w3_3 * u3;
        let wr4 = wu[(wb + 4u * p.ci_chunk) / 4u];
        let w4_0 = wr4.x;
        let w4_1 = wr4.y;
        let w4_2 = wr4.z;
        let w4_3 = wr4.w;
        a4 += w4_0 * v0 + w4_1 * v1 + w4_2 * v2 + w4_3 * v3;
        b4 += w4_0 * u0 + w4_1 * u1 + w4_2 * u2 + w4_3 * u3;
        let wr5 = wu[(wb + 5u * p.ci_chunk) / 4u];
        let w5_0 = wr5.x;
        let w5_1 = wr5.y;
        let w5_2 = wr5.z;
        let w5_3 = wr5.w;
        a5 += w5_0 * v0 + w5_1 * v1 + w5_2 * v2 + w5_3 * v3;
        b5 += w5_0 * u0 + w5_1 * u1 + w5_2 * u2 + w5_3 * u3;
        let wr6 = wu[(wb + 6u * p.ci_chunk) / 4u];
        let w6_0 = wr6.x;
        let w6_1 = wr6.y;
        let w6_2 = wr6.z;
        let w6_3 = wr6.w;
        a6 += w6_0 * v0 + w6_1 * v1 + w6_2 * v2 + w6_3 * v3;
        b6 += w6_0 * u0 + w6_1 * u1 + w6_2 * u2 + w6_3 * u3;
        let wr7 = wu[(wb + 7u * p.ci_chunk) / 4u];
        let w7_0 = wr7.x;
        let w7_1 = wr7.y;
        let w7_2 = wr7.z;
        let w7_3 = wr7.w;
        a7 += w7_0 * v0 + w7_1 * v1 + w7_2 * v2 + w7_3 * v3;
        b7 += w7_0 * u0 + w7_1 * u1 + w7_2 * u2 + w7_3 * u3;
        let wr8 = wu[(wb + 8u * p.ci_chunk) / 4u];
        let w8_0 = wr8.x;
        let w8_1 = wr8.y;
        let w8_2 = wr8.z;
        let w8_3 = wr8.w;
        a8 += w8_0 * v0 + w8_1 * v1 + w8_2 * v2 + w8_3 * v3;
        b8 += w8_0 * u0 + w8_1 * u1 + w8_2 * u2 + w8_3 * u3;
        let wr9 = wu[(wb + 9u * p.ci_chunk) / 4u];
        let w9_0 = wr9.x;
        let w9_1 = wr9.y;
        let w9_2 = wr9.z;
        let w9_3 = wr9.w;
        a9 += w9_0 * v0 + w9_1 * v1 + w9_2 * v2 + w9_3 * v3;
        b9 += w9_0 * u0 + w9_1 * u1 + w9_2 * u2 + w9_3 * u3;
        let wr10 = wu[(wb + 10u * p.ci_chunk) / 4u];
        let w10_0 = wr10.x;
        let w10_1 = wr10.y;
        let w10_2 = wr10.z;
        let w10_3 = wr10.w;
        a10 += w10_0 * v0 + w10_1 * v1 + w10_2 * v2 + w10_3 * v3;
        b10 += w10_0 * u0 + w10_1 * u1 + w10_2 * u2 + w10_3 * u3;
        let wr11 = wu[(wb + 11u * p.ci_chunk) / 4u];
        let w11_0 = wr11.x;
        let w11_1 = wr11.y;
        let w11_2 = wr11.z;
        let w11_3 = wr11.w;
        a11 += w11_0 * v0 + w11_1 * v1 + w11_2 * v2 + w11_3 * v3;
        b11 += w11_0 * u0 + w11_1 * u1 + w11_2 * u2 + w11_3 * u3;
        let wr12 = wu[(wb + 12u * p.ci_chunk) / 4u];
        let w12_0 = wr12.x;
        let w12_1 = wr12.y;
        let w12_2 = wr12.z;
        let w12_3 = wr12.w;
        a12 += w12_0 * v0 + w12_1 * v1 + w12_2 * v2 + w12_3 * v3;
        b12 += w12_0 * u0 + w12_1 * u1 + w12_2 * u2 + w12_3 * u3;
        let wr13 = wu[(wb + 13u * p.ci_chunk) / 4u];
        let w13_0 = wr13.x;
        let w13_1 = wr13.y;
        let w13_2 = wr13.z;
        let w13_3 = wr13.w;
        a13 += w13_0 * v0 + w13_1 * v1 + w13_2 * v2 + w13_3 * v3;
        b13 += w13_0 * u0 + w13_1 * u1 + w13_2 * u2 + w13_3 * u3;
        let wr14 = wu[(wb + 14u * p.ci_chunk) / 4u];
        let w14_0 = wr14.x;
        let w14_1 = wr14.y;
        let w14_2 = wr14.z;
        let w14_3 = wr14.w;
        a14 += w14_0 * v0 + w14_1 * v1 + w14_2 * v2 + w14_3 * v3;
        b14 += w14_0 * u0 + w14_1 * u1 + w14_2 * u2 + w14_3 * u3;
        let wr15 = wu[(wb + 15u * p.ci_chunk) / 4u];
        let w15_0 = wr15.x;
        let w15_1 = wr15.y;
        let w15_2 = wr15.z;
        let w15_3 = wr15.w;
        a15 += w15_0 * v0 + w15_1 * v1 + w15_2 * v2 + w15_3 * v3;
        b15 += w15_0 * u0 + w15_1 * u1 + w15_2 * u2 + w15_3 * u3;
    }
    store(s, co + 0u, a0);
    store(s2, co + 0u, b0);
    store(s, co + 1u, a1);
    store(s2, co + 1u, b1);
    store(s, co + 2u, a2);
    store(s2, co + 2u, b2);
    store(s, co + 3u, a3);
    store(s2, co + 3u, b3);
    store(s, co + 4u, a4);
    store(s2, co + 4u, b4);
    store(s, co + 5u, a5);
    store(s2, co + 5u, b5);
    store(s, co + 6u, a6);
    store(s2, co + 6u, b6);
    store(s, co + 7u, a7);
    store(s2, co + 7u, b7);
    store(s, co + 8u, a8);
    store(s2, co + 8u, b8);
    store(s, co + 9u, a9);
    store(s2, co + 9u, b9);
    store(s, co + 10u, a10);
    store(s2, co + 10u, b10);
    store(s, co + 11u, a11);
    store(s2, co + 11u, b11);
    store(s, co + 12u, a12);
    store(s2, co + 12u, b12);
    store(s, co + 13u, a13);
    store(s2, co + 13u, b13);
    store(s, co + 14u, a14);
    store(s2, co + 14u, b14);
    store(s, co + 15u, a15);
    store(s2, co + 15u, b15);
}
