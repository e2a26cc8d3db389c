// Winograd F(2x2, 3x3) convolutions with stride 1 for CPU adapters (llvmpipe): a 3x3 convolution
// as 16 products of transformed tiles instead of 36 multiply-adds per 2x2 block of outputs (Lavin &
// Gray, "Fast algorithms for convolutional neural networks", 2016). Y = A^T [ sum_c (G g G^T) ⊙
// (B^T d B) ] A for each 4x4 input tile d (stride 2) of each input channel c, with
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1],
//   A^T = [1 1 1 0; 0 1 -1 -1].
// Three kernels: `wino_weights` transforms a layer's weights once into 64 KiB uniform windows of
// WINO_R output x (16384 / 16 / WINO_R) input channels, [cl][r][16] (the "uniform window" operand as
// in conv2d_direct.wgsl: llvmpipe loads a uniform at a shared address once and broadcasts it, a
// storage buffer lane by lane); `wino_input` transforms the input into V [b][c][ty][tx][2][16]
// (tx a pair of horizontally neighbouring tiles; a row has a multiple of WINO_PAIRS pairs); `wino_gemm`, one dispatch per window, sums the
// per-position products over its input channels for the two tiles of an invocation and adds the
// output transform of that partial sum into out (the transform is linear; the first window writes
// bias + sum). Same math and layout as conv2d.wgsl (cross-correlation, NCHW, asymmetric zero padding).
// Tried on the bundled prior's shapes at batch 8 (llvmpipe, 2 shared cores, best of 5-7 alternating
// trials, time against the direct kernel): output channels x tiles x input channels an expression
// (WINO_ROWS x 2 WINO_PAIRS x WINO_CPI) of 32x2x2, 16x2x2, 8x2x2, 8x2x4, 16x2x1, 8x2x8, 16x2x4,
// 4x4x8, 8x8x2, 32x4x1 and 16x4x2 all took 1.2x to 2.5x its time; 16x4x2, the best, is kept.
// Removing the weight loads from the product halved its time, removing the transformed-input loads
// took 15-40 % off: each uniform weight scalar serves 2 WINO_PAIRS multiply-adds here against 8 in
// the direct kernel. `ops::conv::winograd_for` therefore takes these kernels only when asked
// (TWEEDIE_WINOGRAD=on).

struct P {
    batch: u32, cin: u32, h: u32, w: u32,
    cout: u32, ho: u32, wo: u32, pad_t: u32,
    pad_l: u32, th: u32, tp: u32, has_bias: u32,
    ci0: u32, ci_n: u32, co0: u32, first: u32,
    ci_chunk: u32, n_ci: u32, total: u32, flip: u32,
}

@group(0) @binding(0) var<uniform> p: P;
// the input (wino_input), the weight (wino_weights), the bias (wino_gemm)
@group(0) @binding(1) var<storage, read> src: array<f32>;
// V (wino_input), the transformed weights (wino_weights), the output (wino_gemm)
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> wu: array<vec4<f32>, 4096>; // one window of transformed weights
@group(0) @binding(4) var<storage, read> vv: array<vec4<f32>>; // the transformed input

// One tap (k = 3 ky + kx) of output channel co, input channel ci: of src [cout, cin, 3, 3], or with
// `flip` of the flipped transpose of src [cin, cout, 3, 3] (an input gradient).
fn tap(co: u32, ci: u32, k: u32) -> f32 {
    if (p.flip != 0u) {
        return src[(ci * p.cout + co) * 9u + 8u - k];
    }
    return src[(co * p.cin + ci) * 9u + k];
}

// g G^T for one row of taps.
fn grow(a: f32, b: f32, c: f32) -> vec4<f32> {
    return vec4<f32>(a, 0.5 * (a + b + c), 0.5 * (a - b + c), c);
}

// Writes the total = n_co * n_ci * 4096 vec4s of the windows: window (a, c) holds output channels
// a * WINO_R.. and input channels c * ci_chunk.., row q of G g G^T at (cl * WINO_R + r) * 4 + q, zeros
// past cout and cin.
@compute @workgroup_size(256)
fn wino_weights(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 256u;
    if (i >= p.total) { return; }
    let win = i / 4096u;
    let e = i % 4096u;
    let q = e % 4u;
    let r = (e / 4u) % WINO_R;
    let cl = e / (4u * WINO_R);
    let co = (win / p.n_ci) * WINO_R + r;
    let ci = (win % p.n_ci) * p.ci_chunk + cl;
    if (co >= p.cout || ci >= p.cin) {
        dst[i] = vec4<f32>(0.0);
        return;
    }
    let h0 = grow(tap(co, ci, 0u), tap(co, ci, 1u), tap(co, ci, 2u));
    let h1 = grow(tap(co, ci, 3u), tap(co, ci, 4u), tap(co, ci, 5u));
    let h2 = grow(tap(co, ci, 6u), tap(co, ci, 7u), tap(co, ci, 8u));
    var u = h0;
    if (q == 1u) { u = 0.5 * (h0 + h1 + h2); }
    if (q == 2u) { u = 0.5 * (h0 - h1 + h2); }
    if (q == 3u) { u = h2; }
    dst[i] = u;
}

// x[row base + ix] times `valid`, zero outside the row, without a branch (clamped index).
fn xz(rb: u32, ix: i32, valid: f32) -> f32 {
    let inside = select(0.0, valid, u32(ix) < p.w);
    return src[rb + u32(clamp(ix, 0, i32(p.w) - 1))] * inside;
}

// Six inputs ix0 .. ix0 + 5 of row iy of the image at `base`, zero outside it.
struct Row6 { a: vec4<f32>, b: vec2<f32> }

fn row6(base: u32, iy: i32, ix0: i32) -> Row6 {
    let ok = select(0.0, 1.0, u32(iy) < p.h);
    let rb = base + u32(clamp(iy, 0, i32(p.h) - 1)) * p.w;
    return Row6(
        vec4<f32>(xz(rb, ix0, ok), xz(rb, ix0 + 1, ok), xz(rb, ix0 + 2, ok), xz(rb, ix0 + 3, ok)),
        vec2<f32>(xz(rb, ix0 + 4, ok), xz(rb, ix0 + 5, ok)));
}

// d B for one row d of a tile.
fn bcol(d: vec4<f32>) -> vec4<f32> {
    return vec4<f32>(d.x - d.z, d.y + d.z, d.z - d.y, d.y - d.w);
}

// The total = batch * cin * th * tp invocations: the 4 x 6 inputs of a pair of tiles of one channel
// (rows 2 ty - pad_t.., columns 4 tx - pad_l..), as B^T d B of each tile, 8 vec4s.
@compute @workgroup_size(WINO_WG)
fn wino_input(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * WINO_WG;
    if (i >= p.total) { return; }
    let tx = i % p.tp;
    let ty = (i / p.tp) % p.th;
    let bc = i / (p.tp * p.th);
    let iy0 = i32(2u * ty) - i32(p.pad_t);
    let ix0 = i32(4u * tx) - i32(p.pad_l);
    let base = bc * p.h * p.w;
    let d0 = row6(base, iy0, ix0);
    let d1 = row6(base, iy0 + 1, ix0);
    let d2 = row6(base, iy0 + 2, ix0);
    let d3 = row6(base, iy0 + 3, ix0);
    // B^T d: rows
    let e0 = Row6(d0.a - d2.a, d0.b - d2.b);
    let e1 = Row6(d1.a + d2.a, d1.b + d2.b);
    let e2 = Row6(d2.a - d1.a, d2.b - d1.b);
    let e3 = Row6(d1.a - d3.a, d1.b - d3.b);
    let o = i * 8u;
    dst[o] = bcol(e0.a);
    dst[o + 1u] = bcol(e1.a);
    dst[o + 2u] = bcol(e2.a);
    dst[o + 3u] = bcol(e3.a);
    dst[o + 4u] = bcol(vec4<f32>(e0.a.zw, e0.b));
    dst[o + 5u] = bcol(vec4<f32>(e1.a.zw, e1.b));
    dst[o + 6u] = bcol(vec4<f32>(e2.a.zw, e2.b));
    dst[o + 7u] = bcol(vec4<f32>(e3.a.zw, e3.b));
}

// Image b, tile row ty and group tx of WINO_PAIRS tile pairs of a wino_gemm invocation; `ok` false
// past the end.
struct Site { b: u32, ty: u32, tx: u32, ok: bool }

fn site(g0: u32) -> Site {
    let groups = p.tp / WINO_PAIRS;
    let per = p.th * groups;
    var s: Site;
    s.ok = g0 < p.batch * per;
    let g = min(g0, p.batch * per - 1u);
    s.b = g / per;
    s.ty = (g % per) / groups;
    s.tx = g % groups;
    return s;
}

// A^T m A of one tile's 4x4 products (rows m0..m3): its outputs (y00, y01, y10, y11).
fn out_tile(m0: vec4<f32>, m1: vec4<f32>, m2: vec4<f32>, m3: vec4<f32>) -> vec4<f32> {
    let t0 = m0 + m1 + m2;
    let t1 = m1 - m2 - m3;
    return vec4<f32>(t0.x + t0.y + t0.z, t0.y - t0.z - t0.w, t1.x + t1.y + t1.z, t1.y - t1.z - t1.w);
}

// Adds (the first window: writes with bias `bv`) four outputs of a row from flat index o (column
// ox0), those inside the row: one aligned vec4 where rows are whole vec4s.
fn store_row(o: u32, ox0: u32, v: vec4<f32>, bv: f32) {
    if (p.wo % 4u == 0u) {
        var r = v + bv;
        if (p.first == 0u) { r = r + dst[o / 4u]; }
        dst[o / 4u] = r;
        return;
    }
    for (var k = 0u; k < 4u; k++) {
        if (ox0 + k < p.wo) {
            let j = o + k;
            var r = v[k] + bv;
            if (p.first == 0u) { r = r + dst[j / 4u][j % 4u]; }
            dst[j / 4u][j % 4u] = r;
        }
    }
}

// The outputs of channel co of tile pair k of an invocation (y0, y1 from out_tile): rows 2 ty and
// 2 ty + 1, columns 4 (tx WINO_PAIRS + k) .. + 3.
fn store(s: Site, co: u32, k: u32, y0: vec4<f32>, y1: vec4<f32>) {
    let ox0 = 4u * (s.tx * WINO_PAIRS + k);
    if (co >= p.cout || ox0 >= p.wo) { return; }
    var bv = 0.0;
    if (p.has_bias != 0u && p.first != 0u) { bv = src[co]; }
    let oy = 2u * s.ty;
    let o = ((s.b * p.cout + co) * p.ho + oy) * p.wo + ox0;
    store_row(o, ox0, vec4<f32>(y0.xy, y1.xy), bv);
    if (oy + 1u < p.ho) {
        store_row(o + p.wo, ox0, vec4<f32>(y0.zw, y1.zw), bv);
    }
}

// ---- generated by shaders/gen_conv2d_winograd.py below this line: edit the generator ----

const WINO_R: u32 = 16u;
const WINO_WG: u32 = 16u;
const WINO_PAIRS: u32 = 2u;

// The products of one window: output channels co0 .. co0 + 16 (the window's chunk) at the 4 tiles
// (a 2 x 8 block of outputs) of this invocation, input channels ci0 .. ci0 + ci_n, 2 an iteration
// (ci_chunk is a multiple of 2; channels past cin read the last one and meet zero weights); then
// the output transform, added into out.
@compute @workgroup_size(16)
fn wino_gemm(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let s = site(gid.x + gid.y * nwg.x * 16u);
    var m0_00 = vec4<f32>(0.0); var m0_01 = vec4<f32>(0.0); var m0_02 = vec4<f32>(0.0); var m0_03 = vec4<f32>(0.0); var m0_10 = vec4<f32>(0.0); var m0_11 = vec4<f32>(0.0); var m0_12 = vec4<f32>(0.0); var m0_13 = vec4<f32>(0.0); var m0_20 = vec4<f32>(0.0); var m0_21 = vec4<f32>(0.0); var m0_22 = vec4<f32>(0.0); var m0_23 = vec4<f32>(0.0); var m0_30 = vec4<f32>(0.0); var m0_31 = vec4<f32>(0.0); var m0_32 = vec4<f32>(0.0); var m0_33 = vec4<f32>(0.0);
    var m1_00 = vec4<f32>(0.0); var m1_01 = vec4<f32>(0.0); var m1_02 = vec4<f32>(0.0); var m1_03 = vec4<f32>(0.0); var m1_10 = vec4<f32>(0.0); var m1_11 = vec4<f32>(0.0); var m1_12 = vec4<f32>(0.0); var m1_13 = vec4<f32>(0.0); var m1_20 = vec4<f32>(0.0); var m1_21 = vec4<f32>(0.0); var m1_22 = vec4<f32>(0.0); var m1_23 = vec4<f32>(0.0); var m1_30 = vec4<f32>(0.0); var m1_31 = vec4<f32>(0.0); var m1_32 = vec4<f32>(0.0); var m1_33 = vec4<f32>(0.0);
    var m2_00 = vec4<f32>(0.0); var m2_01 = vec4<f32>(0.0); var m2_02 = vec4<f32>(0.0); var m2_03 = vec4<f32>(0.0); var m2_10 = vec4<f32>(0.0); var m2_11 = vec4<f32>(0.0); var m2_12 = vec4<f32>(0.0); var m2_13 = vec4<f32>(0.0); var m2_20 = vec4<f32>(0.0); var m2_21 = vec4<f32>(0.0); var m2_22 = vec4<f32>(0.0); var m2_23 = vec4<f32>(0.0); var m2_30 = vec4<f32>(0.0); var m2_31 = vec4<f32>(0.0); var m2_32 = vec4<f32>(0.0); var m2_33 = vec4<f32>(0.0);
    var m3_00 = vec4<f32>(0.0); var m3_01 = vec4<f32>(0.0); var m3_02 = vec4<f32>(0.0); var m3_03 = vec4<f32>(0.0); var m3_10 = vec4<f32>(0.0); var m3_11 = vec4<f32>(0.0); var m3_12 = vec4<f32>(0.0); var m3_13 = vec4<f32>(0.0); var m3_20 = vec4<f32>(0.0); var m3_21 = vec4<f32>(0.0); var m3_22 = vec4<f32>(0.0); var m3_23 = vec4<f32>(0.0); var m3_30 = vec4<f32>(0.0); var m3_31 = vec4<f32>(0.0); var m3_32 = vec4<f32>(0.0); var m3_33 = vec4<f32>(0.0);
    var m4_00 = vec4<f32>(0.0); var m4_01 = vec4<f32>(0.0); var m4_02 = vec4<f32>(0.0); var m4_03 = vec4<f32>(0.0); var m4_10 = vec4<f32>(0.0); var m4_11 = vec4<f32>(0.0); var m4_12 = vec4<f32>(0.0); var m4_13 = vec4<f32>(0.0); var m4_20 = vec4<f32>(0.0); var m4_21 = vec4<f32>(0.0); var m4_22 = vec4<f32>(0.0); var m4_23 = vec4<f32>(0.0); var m4_30 = vec4<f32>(0.0); var m4_31 = vec4<f32>(0.0); var m4_32 = vec4<f32>(0.0); var m4_33 = vec4<f32>(0.0);
    var m5_00 = vec4<f32>(0.0); var m5_01 = vec4<f32>(0.0); var m5_02 = vec4<f32>(0.0); var m5_03 = vec4<f32>(0.0); var m5_10 = vec4<f32>(0.0); var m5_11 = vec4<f32>(0.0); var m5_12 = vec4<f32>(0.0); var m5_13 = vec4<f32>(0.0); var m5_20 = vec4<f32>(0.0); var m5_21 = vec4<f32>(0.0); var m5_22 = vec4<f32>(0.0); var m5_23 = vec4<f32>(0.0); var m5_30 = vec4<f32>(0.0); var m5_31 = vec4<f32>(0.0); var m5_32 = vec4<f32>(0.0); var m5_33 = vec4<f32>(0.0);
    var m6_00 = vec4<f32>(0.0); var m6_01 = vec4<f32>(0.0); var m6_02 = vec4<f32>(0.0); var m6_03 = vec4<f32>(0.0); var m6_10 = vec4<f32>(0.0); var m6_11 = vec4<f32>(0.0); var m6_12 = vec4<f32>(0.0); var m6_13 = vec4<f32>(0.0); var m6_20 = vec4<f32>(0.0); var m6_21 = vec4<f32>(0.0); var m6_22 = vec4<f32>(0.0); var m6_23 = vec4<f32>(0.0); var m6_30 = vec4<f32>(0.0); var m6_31 = vec4<f32>(0.0); var m6_32 = vec4<f32>(0.0); var m6_33 = vec4<f32>(0.0);
    var m7_00 = vec4<f32>(0.0); var m7_01 = vec4<f32>(0.0); var m7_02 = vec4<f32>(0.0); var m7_03 = vec4<f32>(0.0); var m7_10 = vec4<f32>(0.0); var m7_11 = vec4<f32>(0.0); var m7_12 = vec4<f32>(0.0); var m7_13 = vec4<f32>(0.0); var m7_20 = vec4<f32>(0.0); var m7_21 = vec4<f32>(0.0); var m7_22 = vec4<f32>(0.0); var m7_23 = vec4<f32>(0.0); var m7_30 = vec4<f32>(0.0); var m7_31 = vec4<f32>(0.0); var m7_32 = vec4<f32>(0.0); var m7_33 = vec4<f32>(0.0);
    var m8_00 = vec4<f32>(0.0); var m8_01 = vec4<f32>(0.0); var m8_02 = vec4<f32>(0.0); var m8_03 = vec4<f32>(0.0); var m8_10 = vec4<f32>(0.0); var m8_11 = vec4<f32>(0.0); var m8_12 = vec4<f32>(0.0); var m8_13 = vec4<f32>(0.0); var m8_20 = vec4<f32>(0.0); var m8_21 = vec4<f32>(0.0); var m8_22 = vec4<f32>(0.0); var m8_23 = vec4<f32>(0.0); var m8_30 = vec4<f32>(0.0); var m8_31 = vec4<f32>(0.0); var m8_32 = vec4<f32>(0.0); var m8_33 = vec4<f32>(0.0);
    var m9_00 = vec4<f32>(0.0); var m9_01 = vec4<f32>(0.0); var m9_02 = vec4<f32>(0.0); var m9_03 = vec4<f32>(0.0); var m9_10 = vec4<f32>(0.0); var m9_11 = vec4<f32>(0.0); var m9_12 = vec4<f32>(0.0); var m9_13 = vec4<f32>(0.0); var m9_20 = vec4<f32>(0.0); var m9_21 = vec4<f32>(0.0); var m9_22 = vec4<f32>(0.0); var m9_23 = vec4<f32>(0.0); var m9_30 = vec4<f32>(0.0); var m9_31 = vec4<f32>(0.0); var m9_32 = vec4<f32>(0.0); var m9_33 = vec4<f32>(0.0);
    var m10_00 = vec4<f32>(0.0); var m10_01 = vec4<f32>(0.0); var m10_02 = vec4<f32>(0.0); var m10_03 = vec4<f32>(0.0); var m10_10 = vec4<f32>(0.0); var m10_11 = vec4<f32>(0.0); var m10_12 = vec4<f32>(0.0); var m10_13 = vec4<f32>(0.0); var m10_20 = vec4<f32>(0.0); var m10_21 = vec4<f32>(0.0); var m10_22 = vec4<f32>(0.0); var m10_23 = vec4<f32>(0.0); var m10_30 = vec4<f32>(0.0); var m10_31 = vec4<f32>(0.0); var m10_32 = vec4<f32>(0.0); var m10_33 = vec4<f32>(0.0);
    var m11_00 = vec4<f32>(0.0); var m11_01 = vec4<f32>(0.0); var m11_02 = vec4<f32>(0.0); var m11_03 = vec4<f32>(0.0); var m11_10 = vec4<f32>(0.0); var m11_11 = vec4<f32>(0.0); var m11_12 = vec4<f32>(0.0); var m11_13 = vec4<f32>(0.0); var m11_20 = vec4<f32>(0.0); var m11_21 = vec4<f32>(0.0); var m11_22 = vec4<f32>(0.0); var m11_23 = vec4<f32>(0.0); var m11_30 = vec4<f32>(0.0); var m11_31 = vec4<f32>(0.0); var m11_32 = vec4<f32>(0.0); var m11_33 = vec4<f32>(0.0);
    var m12_00 = vec4<f32>(0.0); var m12_01 = vec4<f32>(0.0); var m12_02 = vec4<f32>(0.0); var m12_03 = vec4<f32>(0.0); var m12_10 = vec4<f32>(0.0); var m12_11 = vec4<f32>(0.0); var m12_12 = vec4<f32>(0.0); var m12_13 = vec4<f32>(0.0); var m12_20 = vec4<f32>(0.0); var m12_21 = vec4<f32>(0.0); var m12_22 = vec4<f32>(0.0); var m12_23 = vec4<f32>(0.0); var m12_30 = vec4<f32>(0.0); var m12_31 = vec4<f32>(0.0); var m12_32 = vec4<f32>(0.0); var m12_33 = vec4<f32>(0.0);
    var m13_00 = vec4<f32>(0.0); var m13_01 = vec4<f32>(0.0); var m13_02 = vec4<f32>(0.0); var m13_03 = vec4<f32>(0.0); var m13_10 = vec4<f32>(0.0); var m13_11 = vec4<f32>(0.0); var m13_12 = vec4<f32>(0.0); var m13_13 = vec4<f32>(0.0); var m13_20 = vec4<f32>(0.0); var m13_21 = vec4<f32>(0.0); var m13_22 = vec4<f32>(0.0); var m13_23 = vec4<f32>(0.0); var m13_30 = vec4<f32>(0.0); var m13_31 = vec4<f32>(0.0); var m13_32 = vec4<f32>(0.0); var m13_33 = vec4<f32>(0.0);
    var m14_00 = vec4<f32>(0.0); var m14_01 = vec4<f32>(0.0); var m14_02 = vec4<f32>(0.0); var m14_03 = vec4<f32>(0.0); var m14_10 = vec4<f32>(0.0); var m14_11 = vec4<f32>(0.0); var m14_12 = vec4<f32>(0.0); var m14_13 = vec4<f32>(0.0); var m14_20 = vec4<f32>(0.0); var m14_21 = vec4<f32>(0.0); var m14_22 = vec4<f32>(0.0); var m14_23 = vec4<f32>(0.0); var m14_30 = vec4<f32>(0.0); var m14_31 = vec4<f32>(0.0); var m14_32 = vec4<f32>(0.0); var m14_33 = vec4<f32>(0.0);
    var m15_00 = vec4<f32>(0.0); var m15_01 = vec4<f32>(0.0); var m15_02 = vec4<f32>(0.0); var m15_03 = vec4<f32>(0.0); var m15_10 = vec4<f32>(0.0); var m15_11 = vec4<f32>(0.0); var m15_12 = vec4<f32>(0.0); var m15_13 = vec4<f32>(0.0); var m15_20 = vec4<f32>(0.0); var m15_21 = vec4<f32>(0.0); var m15_22 = vec4<f32>(0.0); var m15_23 = vec4<f32>(0.0); var m15_30 = vec4<f32>(0.0); var m15_31 = vec4<f32>(0.0); var m15_32 = vec4<f32>(0.0); var m15_33 = vec4<f32>(0.0);
    for (var cl = 0u; cl < p.ci_n; cl += 2u) {
        let vb0 = ((s.b * p.cin + min(p.ci0 + cl + 0u, p.cin - 1u)) * p.th + s.ty) * p.tp + s.tx * 2u;
        let v0_00 = vv[vb0 * 8u + 0u];
        let v0_01 = vv[vb0 * 8u + 1u];
        let v0_02 = vv[vb0 * 8u + 2u];
        let v0_03 = vv[vb0 * 8u + 3u];
        let v0_10 = vv[vb0 * 8u + 4u];
        let v0_11 = vv[vb0 * 8u + 5u];
        let v0_12 = vv[vb0 * 8u + 6u];
        let v0_13 = vv[vb0 * 8u + 7u];
        let v0_20 = vv[vb0 * 8u + 8u];
        let v0_21 = vv[vb0 * 8u + 9u];
        let v0_22 = vv[vb0 * 8u + 10u];
        let v0_23 = vv[vb0 * 8u + 11u];
        let v0_30 = vv[vb0 * 8u + 12u];
        let v0_31 = vv[vb0 * 8u + 13u];
        let v0_32 = vv[vb0 * 8u + 14u];
        let v0_33 = vv[vb0 * 8u + 15u];
        let vb1 = ((s.b * p.cin + min(p.ci0 + cl + 1u, p.cin - 1u)) * p.th + s.ty) * p.tp + s.tx * 2u;
        let v1_00 = vv[vb1 * 8u + 0u];
        let v1_01 = vv[vb1 * 8u + 1u];
        let v1_02 = vv[vb1 * 8u + 2u];
        let v1_03 = vv[vb1 * 8u + 3u];
        let v1_10 = vv[vb1 * 8u + 4u];
        let v1_11 = vv[vb1 * 8u + 5u];
        let v1_12 = vv[vb1 * 8u + 6u];
        let v1_13 = vv[vb1 * 8u + 7u];
        let v1_20 = vv[vb1 * 8u + 8u];
        let v1_21 = vv[vb1 * 8u + 9u];
        let v1_22 = vv[vb1 * 8u + 10u];
        let v1_23 = vv[vb1 * 8u + 11u];
        let v1_30 = vv[vb1 * 8u + 12u];
        let v1_31 = vv[vb1 * 8u + 13u];
        let v1_32 = vv[vb1 * 8u + 14u];
        let v1_33 = vv[vb1 * 8u + 15u];
        let u0_00 = wu[(cl + 0u) * 64u + 0u];
        let u0_01 = wu[(cl + 0u) * 64u + 1u];
        let u0_02 = wu[(cl + 0u) * 64u + 2u];
        let u0_03 = wu[(cl + 0u) * 64u + 3u];
        let u0_10 = wu[(cl + 1u) * 64u + 0u];
        let u0_11 = wu[(cl + 1u) * 64u + 1u];
        let u0_12 = wu[(cl + 1u) * 64u + 2u];
        let u0_13 = wu[(cl + 1u) * 64u + 3u];
        m0_00 += u0_00 * v0_00 + u0_10 * v1_00;
        m0_01 += u0_01 * v0_01 + u0_11 * v1_01;
        m0_02 += u0_02 * v0_02 + u0_12 * v1_02;
        m0_03 += u0_03 * v0_03 + u0_13 * v1_03;
        m0_10 += u0_00 * v0_10 + u0_10 * v1_10;
        m0_11 += u0_01 * v0_11 + u0_11 * v1_11;
        m0_12 += u0_02 * v0_12 + u0_12 * v1_12;
        m0_13 += u0_03 * v0_13 + u0_13 * v1_13;
        m0_20 += u0_00 * v0_20 + u0_10 * v1_20;
        m0_21 += u0_01 * v0_21 + u0_11 * v1_21;
        m0_22 += u0_02 * v0_22 + u0_12 * v1_22;
        m0_23 += u0_03 * v0_23 + u0_13 * v1_23;
        m0_30 += u0_00 * v0_30 + u0_10 * v1_30;
        m0_31 += u0_01 * v0_31 + u0_11 * v1_31;
        m0_32 += u0_02 * v0_32 + u0_12 * v1_32;
        m0_33 += u0_03 * v0_33 + u0_13 * v1_33;
        let u1_00 = wu[(cl + 0u) * 64u + 4u];
        let u1_01 = wu[(cl + 0u) * 64u + 5u];
        let u1_02 = wu[(cl + 0u) * 64u + 6u];
        let u1_03 = wu[(cl + 0u) * 64u + 7u];
        let u1_10 = wu[(cl + 1u) * 64u + 4u];
        let u1_11 = wu[(cl + 1u) * 64u + 5u];
        let u1_12 = wu[(cl + 1u) * 64u + 6u];
        let u1_13 = wu[(cl + 1u) * 64u + 7u];
        m1_00 += u1_00 * v0_00 + u1_10 * v1_00;
        m1_01 += u1_01 * v0_01 + u1_11 * v1_01;
        m1_02 += u1_02 * v0_02 + u1_12 * v1_02;
        m1_03 += u1_03 * v0_03 + u1_13 * v1_03;
        m1_10 += u1_00 * v0_10 + u1_10 * v1_10;
        m1_11 += u1_01 * v0_11 + u1_11 * v1_11;
        m1_12 += u1_02 * v0_12 + u1_12 * v1_12;
        m1_13 += u1_03 * v0_13 + u1_13 * v1_13;
        m1_20 += u1_00 * v0_20 + u1_10 * v1_20;
        m1_21 += u1_01 * v0_21 + u1_11 * v1_21;
        m1_22 += u1_02 * v0_22 + u1_12 * v1_22;
        m1_23 += u1_03 * v0_23 + u1_13 * v1_23;
        m1_30 += u1_00 * v0_30 + u1_10 * v1_30;
        m1_31 += u1_01 * v0_31 + u1_11 * v1_31;
        m1_32 += u1_02 * v0_32 + u1_12 * v1_32;
        m1_33 += u1_03 * v0_33 + u1_13 * v1_33;
        let u2_00 = wu[(cl + 0u) * 64u + 8u];
        let u2_01 = wu[(cl + 0u) * 64u + 9u];
        let u2_02 = wu[(cl + 0u) * 64u + 10u];
        let u2_03 = wu[(cl + 0u) * 64u + 11u];
        let u2_10 = wu[(cl + 1u) * 64u + 8u];
        let u2_11 = wu[(cl + 1u) * 64u + 9u];
        let u2_12 = wu[(cl + 1u) * 64u + 10u];
        let u2_13 = wu[(cl + 1u) * 64u + 11u];
        m2_00 += u2_00 * v0_00 + u2_10 * v1_00;
        m2_01 += u2_01 * v0_01 + u2_11 * v1_01;
        m2_02 += u2_02 * v0_02 + u2_12 * v1_02;
        m2_03 += u2_03 * v0_03 + u2_13 * v1_03;
        m2_10 += u2_00 * v0_10 + u2_10 * v1_10;
        m2_11 += u2_01 * v0_11 + u2_11 * v1_11;
        m2_12 += u2_02 * v0_12 + u2_12 * v1_12;
        m2_13 += u2_03 * v0_13 + u2_13 * v1_13;
        m2_20 += u2_00 * v0_20 + u2_10 * v1_20;
        m2_21 += u2_01 * v0_21 + u2_11 * v1_21;
        m2_22 += u2_02 * v0_22 + u2_12 * v1_22;
        m2_23 += u2_03 * v0_23 + u2_13 * v1_23;
        m2_30 += u2_00 * v0_30 + u2_10 * v1_30;
        m2_31 += u2_01 * v0_31 + u2_11 * v1_31;
        m2_32 += u2_02 * v0_32 + u2_12 * v1_32;
        m2_33 += u2_03 * v0_33 + u2_13 * v1_33;
        let u3_00 = wu[(cl + 0u) * 64u + 12u];
        let u3_01 = wu[(cl + 0u) * 64u + 13u];
        let u3_02 = wu[(cl + 0u) * 64u + 14u];
        let u3_03 = wu[(cl + 0u) * 64u + 15u];
        let u3_10 = wu[(cl + 1u) * 64u + 12u];
        let u3_11 = wu[(cl + 1u) * 64u + 13u];
        let u3_12 = wu[(cl + 1u) * 64u + 14u];
        let u3_13 = wu[(cl + 1u) * 64u + 15u];
        m3_00 += u3_00 * v0_00 + u3_10 * v1_00;
        m3_01 += u3_01 * v0_01 + u3_11 * v1_01;
        m3_02 += u3_02 * v0_02 + u3_12 * v1_02;
        m3_03 += u3_03 * v0_03 + u3_13 * v1_03;
        m3_10 += u3_00 * v0_10 + u3_10 * v1_10;
        m3_11 += u3_01 * v0_11 + u3_11 * v1_11;
        m3_12 += u3_02 * v0_12 + u3_12 * v1_12;
        m3_13 += u3_03 * v0_13 + u3_13 * v1_13;
        m3_20 += u3_00 * v0_20 + u3_10 * v1_20;
        m3_21 += u3_01 * v0_21 + u3_11 * v1_21;
        m3_22 += u3_02 * v0_22 + u3_12 * v1_22;
        m3_23 += u3_03 * v0_23 + u3_13 * v1_23;
        m3_30 += u3_00 * v0_30 + u3_10 * v1_30;
        m3_31 += u3_01 * v0_31 + u3_11 * v1_31;
        m3_32 += u3_02 * v0_32 + u3_12 * v1_32;
        m3_33 += u3_03 * v0_33 + u3_13 * v1_33;
        let u4_00 = wu[(cl + 0u) * 64u + 16u];
        let u4_01 = wu[(cl + 0u) * 64u + 17u];
        let u4_02 = wu[(cl + 0u) * 64u + 18u];
        let u4_03 = wu[(cl + 0u) * 64u + 19u];
        let u4_10 = wu[(cl + 1u) * 64u + 16u];
        let u4_11 = wu[(cl + 1u) * 64u + 17u];
        let u4_12 = wu[(cl + 1u) * 64u + 18u];
        let u4_13 = wu[(cl + 1u) * 64u + 19u];
        m4_00 += u4_00 * v0_00 + u4_10 * v1_00;
        m4_01 += u4_01 * v0_01 + u4_11 * v1_01;
        m4_02 += u4_02 * v0_02 + u4_12 * v1_02;
        m4_03 += u4_03 * v0_03 + u4_13 * v1_03;
        m4_10 += u4_00 * v0_10 + u4_10 * v1_10;
        m4_11 += u4_01 * v0_11 + u4_11 * v1_11;
        m4_12 += u4_02 * v0_12 + u4_12 * v1_12;
        m4_13 += u4_03 * v0_13 + u4_13 * v1_13;
        m4_20 += u4_00 * v0_20 + u4_10 * v1_20;
        m4_21 += u4_01 * v0_21 + u4_11 * v1_21;
        m4_22 += u4_02 * v0_22 + u4_12 * v1_22;
        m4_23 += u4_03 * v0_23 + u4_13 * v1_23;
        m4_30 += u4_00 * v0_30 + u4_10 * v1_30;
        m4_31 += u4_01 * v0_31 + u4_11 * v1_31;
        m4_32 += u4_02 * v0_32 + u4_12 * v1_32;
        m4_33 += u4_03 * v0_33 + u4_13 * v1_33;
        let u5_00 = wu[(cl + 0u) * 64u + 20u];
        let u5_01 = wu[(cl + 0u) * 64u + 21u];
        let u5_02 = wu[(cl + 0u) * 64u + 22u];
        let u5_03 = wu[(cl + 0u) * 64u + 23u];
        let u5_10 = wu[(cl + 1u) * 64u + 20u];
        let u5_11 = wu[(cl + 1u) * 64u + 21u];
        let u5_12 = wu[(cl + 1u) * 64u + 22u];
        let u5_13 = wu[(cl + 1u) * 64u + 23u];
        m5_00 += u5_00 * v0_00 + u5_10 * v1_00;
        m5_01 += u5_01 * v0_01 + u5_11 * v1_01;
        m5_02 += u5_02 * v0_02 + u5_12 * v1_02;
        m5_03 += u5_03 * v0_03 + u5_13 * v1_03;
        m5_10 += u5_00 * v0_10 + u5_10 * v1_10;
        m5_11 += u5_01 * v0_11 + u5_11 * v1_11;
        m5_12 += u5_02 * v0_12 + u5_12 * v1_12;
        m5_13 += u5_03 * v0_13 + u5_13 * v1_13;
        m5_20 += u5_00 * v0_20 + u5_10 * v1_20;
        m5_21 += u5_01 * v0_21 + u5_11 * v1_21;
        m5_22 += u5_02 * v0_22 + u5_12 * v1_22;
        m5_23 += u5_03 * v0_23 + u5_13 * v1_23;
        m5_30 += u5_00 * v0_30 + u5_10 * v1_30;
        m5_31 += u5_01 * v0_31 + u5_11 * v1_31;
        m5_32 += u5_02 * v0_32 + u5_12 * v1_32;
        m5_33 += u5_03 * v0_33 + u5_13 * v1_33;
        let u6_00 = wu[(cl + 0u) * 64u + 24u];
        let u6_01 = wu[(cl + 0u) * 64u + 25u];
        let u6_02 = wu[(cl + 0u) * 64u + 26u];
        let u6_03 = wu[(cl + 0u) * 64u + 27u];
        let u6_10 = wu[(cl + 1u) * 64u + 24u];
        let u6_11 = wu[(cl + 1u) * 64u + 25u];
        let u6_12 = wu[(cl + 1u) * 64u + 26u];
        let u6_13 = wu[(cl + 1u) * 64u + 27u];
        m6_00 += u6_00 * v0_00 + u6_10 * v1_00;
        m6_01 += u6_01 * v0_01 + u6_11 * v1_01;
        m6_02 += u6_02 * v0_02 + u6_12 * v1_02;
        m6_03 += u6_03 * v0_03 + u6_13 * v1_03;
        m6_10 += u6_00 * v0_10 + u6_10 * v1_10;
        m6_11 += u6_01 * v0_11 + u6_11 * v1_11;
        m6_12 += u6_02 * v0_12 + u6_12 * v1_12;
        m6_13 += u6_03 * v0_13 + u6_13 * v1_13;
        m6_20 += u6_00 * v0_20 + u6_10 * v1_20;
        m6_21 += u6_01 * v0_21 + u6_11 * v1_21;
        m6_22 += u6_02 * v0_22 + u6_12 * v1_22;
        m6_23 += u6_03 * v0_23 + u6_13 * v1_23;
        m6_30 += u6_00 * v0_30 + u6_10 * v1_30;
        m6_31 += u6_01 * v0_31 + u6_11 * v1_31;
        m6_32 += u6_02 * v0_32 + u6_12 * v1_32;
        m6_33 += u6_03 * v0_33 + u6_13 * v1_33;
        let u7_00 = wu[(cl + 0u) * 64u + 28u];
        let u7_01 = wu[(cl + 0u) * 64u + 29u];
        let u7_02 = wu[(cl + 0u) * 64u + 30u];
        let u7_03 = wu[(cl + 0u) * 64u + 31u];
        let u7_10 = wu[(cl + 1u) * 64u + 28u];
        let u7_11 = wu[(cl + 1u) * 64u + 29u];
        let u7_12 = wu[(cl + 1u) * 64u + 30u];
        let u7_13 = wu[(cl + 1u) * 64u + 31u];
        m7_00 += u7_00 * v0_00 + u7_10 * v1_00;
        m7_01 += u7_01 * v0_01 + u7_11 * v1_01;
        m7_02 += u7_02 * v0_02 + u7_12 * v1_02;
        m7_03 += u7_03 * v0_03 + u7_13 * v1_03;
        m7_10 += u7_00 * v0_10 + u7_10 * v1_10;
        m7_11 += u7_01 * v0_11 + u7_11 * v1_11;
        m7_12 += u7_02 * v0_12 + u7_12 * v1_12;
        m7_13 += u7_03 * v0_13 + u7_13 * v1_13;
        m7_20 += u7_00 * v0_20 + u7_10 * v1_20;
        m7_21 += u7_01 * v0_21 + u7_11 * v1_21;
        m7_22 += u7_02 * v0_22 + u7_12 * v1_22;
        m7_23 += u7_03 * v0_23 + u7_13 * v1_23;
        m7_30 += u7_00 * v0_30 + u7_10 * v1_30;
        m7_31 += u7_01 * v0_31 + u7_11 * v1_31;
        m7_32 += u7_02 * v0_32 + u7_12 * v1_32;
        m7_33 += u7_03 * v0_33 + u7_13 * v1_33;
        let u8_00 = wu[(cl + 0u) * 64u + 32u];
        let u8_01 = wu[(cl + 0u) * 64u + 33u];
        let u8_02 = wu[(cl + 0u) * 64u + 34u];
        let u8_03 = wu[(cl + 0u) * 64u + 35u];
        let u8_10 = wu[(cl + 1u) * 64u + 32u];
        let u8_11 = wu[(cl + 1u) * 64u + 33u];
        let u8_12 = wu[(cl + 1u) * 64u + 34u];
        let u8_13 = wu[(cl + 1u) * 64u + 35u];
        m8_00 += u8_00 * v0_00 + u8_10 * v1_00;
        m8_01 += u8_01 * v0_01 + u8_11 * v1_01;
        m8_02 += u8_02 * v0_02 + u8_12 * v1_02;
        m8_03 += u8_03 * v0_03 + u8_13 * v1_03;
        m8_10 += u8_00 * v0_10 + u8_10 * v1_10;
        m8_11 += u8_01 * v0_11 + u8_11 * v1_11;
        m8_12 += u8_02 * v0_12 + u8_12 * v1_12;
        m8_13 += u8_03 * v0_13 + u8_13 * v1_13;
        m8_20 += u8_00 * v0_20 + u8_10 * v1_20;
        m8_21 += u8_01 * v0_21 + u8_11 * v1_21;
        m8_22 += u8_02 * v0_22 + u8_12 * v1_22;
        m8_23 += u8_03 * v0_23 + u8_13 * v1_23;
        m8_30 += u8_00 * v0_30 + u8_10 * v1_30;
        m8_31 += u8_01 * v0_31 + u8_11 * v1_31;
        m8_32 += u8_02 * v0_32 + u8_12 * v1_32;
        m8_33 += u8_03 * v0_33 + u8_13 * v1_33;
        let u9_00 = wu[(cl + 0u) * 64u + 36u];
        let u9_01 = wu[(cl + 0u) * 64u + 37u];
        let u9_02 = wu[(cl + 0u) * 64u + 38u];
        let u9_03 = wu[(cl + 0u) * 64u + 39u];
        let u9_10 = wu[(cl + 1u) * 64u + 36u];
        let u9_11 = wu[(cl + 1u) * 64u + 37u];
        let u9_12 = wu[(cl + 1u) * 64u + 38u];
        let u9_13 = wu[(cl + 1u) * 64u + 39u];
        m9_00 += u9_00 * v0_00 + u9_10 * v1_00;
        m9_01 += u9_01 * v0_01 + u9_11 * v1_01;
        m9_02 += u9_02 * v0_02 + u9_12 * v1_02;
        m9_03 += u9_03 * v0_03 + u9_13 * v1_03;
        m9_10 += u9_00 * v0_10 + u9_10 * v1_10;
        m9_11 += u9_01 * v0_11 + u9_11 * v1_11;
        m9_12 += u9_02 * v0_12 + u9_12 * v1_12;
        m9_13 += u9_03 * v0_13 + u9_13 * v1_13;
        m9_20 += u9_00 * v0_20 + u9_10 * v1_20;
        m9_21 += u9_01 * v0_21 + u9_11 * v1_21;
        m9_22 += u9_02 * v0_22 + u9_12 * v1_22;
        m9_23 += u9_03 * v0_23 + u9_13 * v1_23;
        m9_30 += u9_00 * v0_30 + u9_10 * v1_30;
        m9_31 += u9_01 * v0_31 + u9_11 * v1_31;
        m9_32 += u9_02 * v0_32 + u9_12 * v1_32;
        m9_33 += u9_03 * v0_33 + u9_13 * v1_33;
        let u10_00 = wu[(cl + 0u) * 64u + 40u];
        let u10_01 = wu[(cl + 0u) * 64u + 41u];
        let u10_02 = wu[(cl + 0u) * 64u + 42u];
        let u10_03 = wu[(cl + 0u) * 64u + 43u];
        let u10_10 = wu[(cl + 1u) * 64u + 40u];
        let u10_11 = wu[(cl + 1u) * 64u + 41u];
        let u10_12 = wu[(cl + 1u) * 64u + 42u];
        let u10_13 = wu[(cl + 1u) * 64u + 43u];
        m10_00 += u10_00 * v0_00 + u10_10 * v1_00;
        m10_01 += u10_01 * v0_01 + u10_11 * v1_01;
        m10_02 += u10_02 * v0_02 + u10_12 * v1_02;
        m10_03 += u10_03 * v0_03 + u10_13 * v1_03;
        m10_10 += u10_00 * v0_10 + u10_10 * v1_10;
        m10_11 += u10_01 * v0_11 + u10_11 * v1_11;
        m10_12 += u10_02 * v0_12 + u10_12 * v1_12;
        m10_13 += u10_03 * v0_13 + u10_13 * v1_13;
        m10_20 += u10_00 * v0_20 + u10_10 * v1_20;
        m10_21 += u10_01 * v0_21 + u10_11 * v1_21;
        m10_22 += u10_02 * v0_22 + u10_12 * v1_22;
        m10_23 += u10_03 * v0_23 + u10_13 * v1_23;
        m10_30 += u10_00 * v0_30 + u10_10 * v1_30;
        m10_31 += u10_01 * v0_31 + u10_11 * v1_31;
        m10_32 += u10_02 * v0_32 + u10_12 * v1_32;
        m10_33 += u10_03 * v0_33 + u10_13 * v1_33;
        let u11_00 = wu[(cl + 0u) * 64u + 44u];
        let u11_01 = wu[(cl + 0u) * 64u + 45u];
        let u11_02 = wu[(cl + 0u) * 64u + 46u];
        let u11_03 = wu[(cl + 0u) * 64u + 47u];
        let u11_10 = wu[(cl + 1u) * 64u + 44u];
        let u11_11 = wu[(cl + 1u) * 64u + 45u];
        let u11_12 = wu[(cl + 1u) * 64u + 46u];
        let u11_13 = wu[(cl + 1u) * 64u + 47u];
        m11_00 += u11_00 * v0_00 + u11_10 * v1_00;
        m11_01 += u11_01 * v0_01 + u11_11 * v1_01;
        m11_02 += u11_02 * v0_02 + u11_12 * v1_02;
        m11_03 += u11_03 * v0_03 + u11_13 * v1_03;
        m11_10 += u11_00 * v0_10 + u11_10 * v1_10;
        m11_11 += u11_01 * v0_11 + u11_11 * v1_11;
        m11_12 += u11_02 * v0_12 + u11_12 * v1_12;
        m11_13 += u11_03 * v0_13 + u11_13 * v1_13;
        m11_20 += u11_00 * v0_20 + u11_10 * v1_20;
        m11_21 += u11_01 * v0_21 + u11_11 * v1_21;
        m11_22 += u11_02 * v0_22 + u11_12 * v1_22;
        m11_23 += u11_03 * v0_23 + u11_13 * v1_23;
        m11_30 += u11_00 * v0_30 + u11_10 * v1_30;
        m11_31 += u11_01 * v0_31 + u11_11 * v1_31;
        m11_32 += u11_02 * v0_32 + u11_12 * v1_32;
        m11_33 += u11_03 * v0_33 + u11_13 * v1_33;
        let u12_00 = wu[(cl + 0u) * 64u + 48u];
        let u12_01 = wu[(cl + 0u) * 64u + 49u];
        let u12_02 = wu[(cl + 0u) * 64u + 50u];
        let u12_03 = wu[(cl + 0u) * 64u + 51u];
        let u12_10 = wu[(cl + 1u) * 64u + 48u];
        let u12_11 = wu[(cl + 1u) * 64u + 49u];
        let u12_12 = wu[(cl + 1u) * 64u + 50u];
        let u12_13 = wu[(cl + 1u) * 64u + 51u];
        m12_00 += u12_00 * v0_00 + u12_10 * v1_00;
        m12_01 += u12_01 * v0_01 + u12_11 * v1_01;
        m12_02 += u12_02 * v0_02 + u12_12 * v1_02;
        m12_03 += u12_03 * v0_03 + u12_13 * v1_03;
        m12_10 += u12_00 * v0_10 + u12_10 * v1_10;
        m12_11 += u12_01 * v0_11 + u12_11 * v1_11;
        m12_12 += u12_02 * v0_12 + u12_12 * v1_12;
        m12_13 += u12_03 * v0_13 + u12_13 * v1_13;
        m12_20 += u12_00 * v0_20 + u12_10 * v1_20;
        m12_21 += u12_01 * v0_21 + u12_11 * v1_21;
        m12_22 += u12_02 * v0_22 + u12_12 * v1_22;
        m12_23 += u12_03 * v0_23 + u12_13 * v1_23;
        m12_30 += u12_00 * v0_30 + u12_10 * v1_30;
        m12_31 += u12_01 * v0_31 + u12_11 * v1_31;
        m12_32 += u12_02 * v0_32 + u12_12 * v1_32;
        m12_33 += u12_03 * v0_33 + u12_13 * v1_33;
        let u13_00 = wu[(cl + 0u) * 64u + 52u];
        let u13_01 = wu[(cl + 0u) * 64u + 53u];
        let u13_02 = wu[(cl + 0u) * 64u + 54u];
        let u13_03 = wu[(cl + 0u) * 64u + 55u];
        let u13_10 = wu[(cl + 1u) * 64u + 52u];
        let u13_11 = wu[(cl + 1u) * 64u + 53u];
        let u13_12 = wu[(cl + 1u) * 64u + 54u];
        let u13_13 = wu[(cl + 1u) * 64u + 55u];
        m13_00 += u13_00 * v0_00 + u13_10 * v1_00;
        m13_01 += u13_01 * v0_01 + u13_11 * v1_01;
        m13_02 += u13_02 * v0_02 + u13_12 * v1_02;
        m13_03 += u13_03 * v0_03 + u13_13 * v1_03;
        m13_10 += u13_00 * v0_10 + u13_10 * v1_10;
        m13_11 += u13_01 * v0_11 + u13_11 * v1_11;
        m13_12 += u13_02 * v0_12 + u13_12 * v1_12;
        m13_13 += u13_03 * v0_13 + u13_13 * v1_13;
        m13_20 += u13_00 * v0_20 + u13_10 * v1_20;
        m13_21 += u13_01 * v0_21 + u13_11 * v1_21;
        m13_22 += u13_02 * v0_22 + u13_12 * v1_22;
        m13_23 += u13_03 * v0_23 + u13_13 * v1_23;
        m13_30 += u13_00 * v0_30 + u13_10 * v1_30;
        m13_31 += u13_01 * v0_31 + u13_11 * v1_31;
        m13_32 += u13_02 * v0_32 + u13_12 * v1_32;
        m13_33 += u13_03 * v0_33 + u13_13 * v1_33;
        let u14_00 = wu[(cl + 0u) * 64u + 56u];
        let u14_01 = wu[(cl + 0u) * 64u + 57u];
        let u14_02 = wu[(cl + 0u) * 64u + 58u];
        let u14_03 = wu[(cl + 0u) * 64u + 59u];
        let u14_10 = wu[(cl + 1u) * 64u + 56u];
        let u14_11 = wu[(cl + 1u) * 64u + 57u];
        let u14_12 = wu[(cl + 1u) * 64u + 58u];
        let u14_13 = wu[(cl + 1u) * 64u + 59u];
        m14_00 += u14_00 * v0_00 + u14_10 * v1_00;
        m14_01 += u14_01 * v0_01 + u14_11 * v1_01;
        m14_02 += u14_02 * v0_02 + u14_12 * v1_02;
        m14_03 += u14_03 * v0_03 + u14_13 * v1_03;
        m14_10 += u14_00 * v0_10 + u14_10 * v1_10;
        m14_11 += u14_01 * v0_11 + u14_11 * v1_11;
        m14_12 += u14_02 * v0_12 + u14_12 * v1_12;
        m14_13 += u14_03 * v0_13 + u14_13 * v1_13;
        m14_20 += u14_00 * v0_20 + u14_10 * v1_20;
        m14_21 += u14_01 * v0_21 + u14_11 * v1_21;
        m14_22 += u14_02 * v0_22 + u14_12 * v1_22;
        m14_23 += u14_03 * v0_23 + u14_13 * v1_23;
        m14_30 += u14_00 * v0_30 + u14_10 * v1_30;
        m14_31 += u14_01 * v0_31 + u14_11 * v1_31;
        m14_32 += u14_02 * v0_32 + u14_12 * v1_32;
        m14_33 += u14_03 * v0_33 + u14_13 * v1_33;
        let u15_00 = wu[(cl + 0u) * 64u + 60u];
        let u15_01 = wu[(cl + 0u) * 64u + 61u];
        let u15_02 = wu[(cl + 0u) * 64u + 62u];
        let u15_03 = wu[(cl + 0u) * 64u + 63u];
        let u15_10 = wu[(cl + 1u) * 64u + 60u];
        let u15_11 = wu[(cl + 1u) * 64u + 61u];
        let u15_12 = wu[(cl + 1u) * 64u + 62u];
        let u15_13 = wu[(cl + 1u) * 64u + 63u];
        m15_00 += u15_00 * v0_00 + u15_10 * v1_00;
        m15_01 += u15_01 * v0_01 + u15_11 * v1_01;
        m15_02 += u15_02 * v0_02 + u15_12 * v1_02;
        m15_03 += u15_03 * v0_03 + u15_13 * v1_03;
        m15_10 += u15_00 * v0_10 + u15_10 * v1_10;
        m15_11 += u15_01 * v0_11 + u15_11 * v1_11;
        m15_12 += u15_02 * v0_12 + u15_12 * v1_12;
        m15_13 += u15_03 * v0_13 + u15_13 * v1_13;
        m15_20 += u15_00 * v0_20 + u15_10 * v1_20;
        m15_21 += u15_01 * v0_21 + u15_11 * v1_21;
        m15_22 += u15_02 * v0_22 + u15_12 * v1_22;
        m15_23 += u15_03 * v0_23 + u15_13 * v1_23;
        m15_30 += u15_00 * v0_30 + u15_10 * v1_30;
        m15_31 += u15_01 * v0_31 + u15_11 * v1_31;
        m15_32 += u15_02 * v0_32 + u15_12 * v1_32;
        m15_33 += u15_03 * v0_33 + u15_13 * v1_33;
    }
    if (!s.ok) { return; }
    let y0_0 = out_tile(m0_00, m0_01, m0_02, m0_03);
    let y0_1 = out_tile(m0_10, m0_11, m0_12, m0_13);
    let y0_2 = out_tile(m0_20, m0_21, m0_22, m0_23);
    let y0_3 = out_tile(m0_30, m0_31, m0_32, m0_33);
    store(s, p.co0 + 0u, 0u, y0_0, y0_1);
    store(s, p.co0 + 0u, 1u, y0_2, y0_3);
    let y1_0 = out_tile(m1_00, m1_01, m1_02, m1_03);
    let y1_1 = out_tile(m1_10, m1_11, m1_12, m1_13);
    let y1_2 = out_tile(m1_20, m1_21, m1_22, m1_23);
    let y1_3 = out_tile(m1_30, m1_31, m1_32, m1_33);
    store(s, p.co0 + 1u, 0u, y1_0, y1_1);
    store(s, p.co0 + 1u, 1u, y1_2, y1_3);
    let y2_0 = out_tile(m2_00, m2_01, m2_02, m2_03);
    let y2_1 = out_tile(m2_10, m2_11, m2_12, m2_13);
    let y2_2 = out_tile(m2_20, m2_21, m2_22, m2_23);
    let y2_3 = out_tile(m2_30, m2_31, m2_32, m2_33);
    store(s, p.co0 + 2u, 0u, y2_0, y2_1);
    store(s, p.co0 + 2u, 1u, y2_2, y2_3);
    let y3_0 = out_tile(m3_00, m3_01, m3_02, m3_03);
    let y3_1 = out_tile(m3_10, m3_11, m3_12, m3_13);
    let y3_2 = out_tile(m3_20, m3_21, m3_22, m3_23);
    let y3_3 = out_tile(m3_30, m3_31, m3_32, m3_33);
    store(s, p.co0 + 3u, 0u, y3_0, y3_1);
    store(s, p.co0 + 3u, 1u, y3_2, y3_3);
    let y4_0 = out_tile(m4_00, m4_01, m4_02, m4_03);
    let y4_1 = out_tile(m4_10, m4_11, m4_12, m4_13);
    let y4_2 = out_tile(m4_20, m4_21, m4_22, m4_23);
    let y4_3 = out_tile(m4_30, m4_31, m4_32, m4_33);
    store(s, p.co0 + 4u, 0u, y4_0, y4_1);
    store(s, p.co0 + 4u, 1u, y4_2, y4_3);
    let y5_0 = out_tile(m5_00, m5_01, m5_02, m5_03);
    let y5_1 = out_tile(m5_10, m5_11, m5_12, m5_13);
    let y5_2 = out_tile(m5_20, m5_21, m5_22, m5_23);
    let y5_3 = out_tile(m5_30, m5_31, m5_32, m5_33);
    store(s, p.co0 + 5u, 0u, y5_0, y5_1);
    store(s, p.co0 + 5u, 1u, y5_2, y5_3);
    let y6_0 = out_tile(m6_00, m6_01, m6_02, m6_03);
    let y6_1 = out_tile(m6_10, m6_11, m6_12, m6_13);
    let y6_2 = out_tile(m6_20, m6_21, m6_22, m6_23);
    let y6_3 = out_tile(m6_30, m6_31, m6_32, m6_33);
    store(s, p.co0 + 6u, 0u, y6_0, y6_1);
    store(s, p.co0 + 6u, 1u, y6_2, y6_3);
    let y7_0 = out_tile(m7_00, m7_01, m7_02, m7_03);
    let y7_1 = out_tile(m7_10, m7_11, m7_12, m7_13);
    let y7_2 = out_tile(m7_20, m7_21, m7_22, m7_23);
    let y7_3 = out_tile(m7_30, m7_31, m7_32, m7_33);
    store(s, p.co0 + 7u, 0u, y7_0, y7_1);
    store(s, p.co0 + 7u, 1u, y7_2, y7_3);
    let y8_0 = out_tile(m8_00, m8_01, m8_02, m8_03);
    let y8_1 = out_tile(m8_10, m8_11, m8_12, m8_13);
    let y8_2 = out_tile(m8_20, m8_21, m8_22, m8_23);
    let y8_3 = out_tile(m8_30, m8_31, m8_32, m8_33);
    store(s, p.co0 + 8u, 0u, y8_0, y8_1);
    store(s, p.co0 + 8u, 1u, y8_2, y8_3);
    let y9_0 = out_tile(m9_00, m9_01, m9_02, m9_03);
    let y9_1 = out_tile(m9_10, m9_11, m9_12, m9_13);
    let y9_2 = out_tile(m9_20, m9_21, m9_22, m9_23);
    let y9_3 = out_tile(m9_30, m9_31, m9_32, m9_33);
    store(s, p.co0 + 9u, 0u, y9_0, y9_1);
    store(s, p.co0 + 9u, 1u, y9_2, y9_3);
    let y10_0 = out_tile(m10_00, m10_01, m10_02, m10_03);
    let y10_1 = out_tile(m10_10, m10_11, m10_12, m10_13);
    let y10_2 = out_tile(m10_20, m10_21, m10_22, m10_23);
    let y10_3 = out_tile(m10_30, m10_31, m10_32, m10_33);
    store(s, p.co0 + 10u, 0u, y10_0, y10_1);
    store(s, p.co0 + 10u, 1u, y10_2, y10_3);
    let y11_0 = out_tile(m11_00, m11_01, m11_02, m11_03);
    let y11_1 = out_tile(m11_10, m11_11, m11_12, m11_13);
    let y11_2 = out_tile(m11_20, m11_21, m11_22, m11_23);
    let y11_3 = out_tile(m11_30, m11_31, m11_32, m11_33);
    store(s, p.co0 + 11u, 0u, y11_0, y11_1);
    store(s, p.co0 + 11u, 1u, y11_2, y11_3);
    let y12_0 = out_tile(m12_00, m12_01, m12_02, m12_03);
    let y12_1 = out_tile(m12_10, m12_11, m12_12, m12_13);
    let y12_2 = out_tile(m12_20, m12_21, m12_22, m12_23);
    let y12_3 = out_tile(m12_30, m12_31, m12_32, m12_33);
    store(s, p.co0 + 12u, 0u, y12_0, y12_1);
    store(s, p.co0 + 12u, 1u, y12_2, y12_3);
    let y13_0 = out_tile(m13_00, m13_01, m13_02, m13_03);
    let y13_1 = out_tile(m13_10, m13_11, m13_12, m13_13);
    let y13_2 = out_tile(m13_20, m13_21, m13_22, m13_23);
    let y13_3 = out_tile(m13_30, m13_31, m13_32, m13_33);
    store(s, p.co0 + 13u, 0u, y13_0, y13_1);
    store(s, p.co0 + 13u, 1u, y13_2, y13_3);
    let y14_0 = out_tile(m14_00, m14_01, m14_02, m14_03);
    let y14_1 = out_tile(m14_10, m14_11, m14_12, m14_13);
    let y14_2 = out_tile(m14_20, m14_21, m14_22, m14_23);
    let y14_3 = out_tile(m14_30, m14_31, m14_32, m14_33);
    store(s, p.co0 + 14u, 0u, y14_0, y14_1);
    store(s, p.co0 + 14u, 1u, y14_2, y14_3);
    let y15_0 = out_tile(m15_00, m15_01, m15_02, m15_03);
    let y15_1 = out_tile(m15_10, m15_11, m15_12, m15_13);
    let y15_2 = out_tile(m15_20, m15_21, m15_22, m15_23);
    let y15_3 = out_tile(m15_30, m15_31, m15_32, m15_33);
    store(s, p.co0 + 15u, 0u, y15_0, y15_1);
    store(s, p.co0 + 15u, 1u, y15_2, y15_3);
}
