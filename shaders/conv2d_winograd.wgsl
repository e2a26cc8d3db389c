// Winograd F(2x2, 3x3) and F(4x4, 3x3) convolutions with stride 1 for CPU adapters (llvmpipe),
// taken only where asked for (TWEEDIE_WINOGRAD=on / f4; see `ops::conv::winograd_for`). F(2x2): a 3x3 convolution
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
// the direct kernel.
// F(4x4, 3x3) (`wino4_*`, below the generated F(2x2) product; B^T, G, A^T of Lavin & Gray, points
// 0, ±1, ±2, ∞): 36 products a 4x4 tile (a quarter of the direct multiply-adds), weights in windows
// of WINO4_R output x 16384 / 36 / WINO4_R input channels, the transformed input one 6x6 tile an
// invocation, the product WINO4_R channels x WINO4_T tiles. WINO4_R x WINO4_T of 8x2, 4x2 and 4x4
// took 1.2x to 1.7x the direct kernel's time at batch 8 (2.5x on 8x8 maps, about 3x at batch 1,
// where an image gives few invocations); 8x2 is kept. Its f32 error is about 6x F(2x2)'s (1.7e-6
// relative L2 on random layers, 2.7e-6 at most on the diffusers goldens), enough to take the
// whole-UNet finite-difference gradcheck (tests/gradcheck.rs, five-point stencil, 2e-3) to 2.3e-3
// through the rounding of the forwards it differences (F(2x2): 1.2e-3; direct: 1.7e-4), while the
// VJP still matches torch.autograd to 4.4e-6.

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

// Image b, tile row ty and group tx of WINO4_T 4x4 tiles of a wino4_gemm invocation.
fn site4(g0: u32) -> Site {
    let groups = p.tp / WINO4_T;
    let per = p.th * groups;
    var s: Site;
    s.ok = g0 < p.batch * per;
    let g = min(g0, p.batch * per - 1u);
    s.b = g / per;
    s.ty = (g % per) / groups;
    s.tx = g % groups;
    return s;
}

// Adds (the first window: writes with bias bv) row i of tile t of a wino4_gemm invocation's
// outputs of channel co: row 4 ty + i, columns 4 (tx WINO4_T + t) .. + 3, those inside.
fn store4(s: Site, co: u32, i: u32, t: u32, v: vec4<f32>, bv: f32) {
    let oy = 4u * s.ty + i;
    let ox0 = 4u * (s.tx * WINO4_T + t);
    if (oy >= p.ho || ox0 >= p.wo) { return; }
    store_row(((s.b * p.cout + co) * p.ho + oy) * p.wo + ox0, ox0, v, bv);
}

// ---- generated by shaders/gen_conv2d_winograd.py below this line: edit the generator ----

const WINO_R: u32 = 16u;
const WINO_WG: u32 = 16u;
const WINO_PAIRS: u32 = 2u;
const WINO4_R: u32 = 8u;
const WINO4_T: u32 = 2u;

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

// Writes the windows of F(4x4, 3x3): total = n_co * n_ci * ci_chunk * WINO4_R invocations, one
// (output, input) channel pair each; window (a, c) starts at vec4 4096 (a n_ci + c) and holds
// G g G^T (6x6, nine vec4s) of output channel a WINO4_R + r, input channel c ci_chunk + cl at
// (cl WINO4_R + r) * 9; zeros past cout and cin.
@compute @workgroup_size(256)
fn wino4_weights(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 256u;
    if (i >= p.total) { return; }
    let per = p.ci_chunk * WINO4_R;
    let win = i / per;
    let e = i % per;
    let co = (win / p.n_ci) * WINO4_R + e % WINO4_R;
    let ci = (win % p.n_ci) * p.ci_chunk + e / WINO4_R;
    let o = win * 4096u + e * 9u;
    if (co >= p.cout || ci >= p.cin) {
        for (var k = 0u; k < 9u; k++) { dst[o + k] = vec4<f32>(0.0); }
        return;
    }
    let g00 = tap(co, ci, 0u);
    let g01 = tap(co, ci, 1u);
    let g02 = tap(co, ci, 2u);
    let g10 = tap(co, ci, 3u);
    let g11 = tap(co, ci, 4u);
    let g12 = tap(co, ci, 5u);
    let g20 = tap(co, ci, 6u);
    let g21 = tap(co, ci, 7u);
    let g22 = tap(co, ci, 8u);
    let h00 = 0.25 * g00;
    let h01 = -0.16666666666666666 * g00 - 0.16666666666666666 * g01 - 0.16666666666666666 * g02;
    let h02 = -0.16666666666666666 * g00 + 0.16666666666666666 * g01 - 0.16666666666666666 * g02;
    let h03 = 0.041666666666666664 * g00 + 0.08333333333333333 * g01 + 0.16666666666666666 * g02;
    let h04 = 0.041666666666666664 * g00 - 0.08333333333333333 * g01 + 0.16666666666666666 * g02;
    let h05 = g02;
    let h10 = 0.25 * g10;
    let h11 = -0.16666666666666666 * g10 - 0.16666666666666666 * g11 - 0.16666666666666666 * g12;
    let h12 = -0.16666666666666666 * g10 + 0.16666666666666666 * g11 - 0.16666666666666666 * g12;
    let h13 = 0.041666666666666664 * g10 + 0.08333333333333333 * g11 + 0.16666666666666666 * g12;
    let h14 = 0.041666666666666664 * g10 - 0.08333333333333333 * g11 + 0.16666666666666666 * g12;
    let h15 = g12;
    let h20 = 0.25 * g20;
    let h21 = -0.16666666666666666 * g20 - 0.16666666666666666 * g21 - 0.16666666666666666 * g22;
    let h22 = -0.16666666666666666 * g20 + 0.16666666666666666 * g21 - 0.16666666666666666 * g22;
    let h23 = 0.041666666666666664 * g20 + 0.08333333333333333 * g21 + 0.16666666666666666 * g22;
    let h24 = 0.041666666666666664 * g20 - 0.08333333333333333 * g21 + 0.16666666666666666 * g22;
    let h25 = g22;
    let u00 = 0.25 * h00;
    let u01 = 0.25 * h01;
    let u02 = 0.25 * h02;
    let u03 = 0.25 * h03;
    let u04 = 0.25 * h04;
    let u05 = 0.25 * h05;
    let u10 = -0.16666666666666666 * h00 - 0.16666666666666666 * h10 - 0.16666666666666666 * h20;
    let u11 = -0.16666666666666666 * h01 - 0.16666666666666666 * h11 - 0.16666666666666666 * h21;
    let u12 = -0.16666666666666666 * h02 - 0.16666666666666666 * h12 - 0.16666666666666666 * h22;
    let u13 = -0.16666666666666666 * h03 - 0.16666666666666666 * h13 - 0.16666666666666666 * h23;
    let u14 = -0.16666666666666666 * h04 - 0.16666666666666666 * h14 - 0.16666666666666666 * h24;
    let u15 = -0.16666666666666666 * h05 - 0.16666666666666666 * h15 - 0.16666666666666666 * h25;
    let u20 = -0.16666666666666666 * h00 + 0.16666666666666666 * h10 - 0.16666666666666666 * h20;
    let u21 = -0.16666666666666666 * h01 + 0.16666666666666666 * h11 - 0.16666666666666666 * h21;
    let u22 = -0.16666666666666666 * h02 + 0.16666666666666666 * h12 - 0.16666666666666666 * h22;
    let u23 = -0.16666666666666666 * h03 + 0.16666666666666666 * h13 - 0.16666666666666666 * h23;
    let u24 = -0.16666666666666666 * h04 + 0.16666666666666666 * h14 - 0.16666666666666666 * h24;
    let u25 = -0.16666666666666666 * h05 + 0.16666666666666666 * h15 - 0.16666666666666666 * h25;
    let u30 = 0.041666666666666664 * h00 + 0.08333333333333333 * h10 + 0.16666666666666666 * h20;
    let u31 = 0.041666666666666664 * h01 + 0.08333333333333333 * h11 + 0.16666666666666666 * h21;
    let u32 = 0.041666666666666664 * h02 + 0.08333333333333333 * h12 + 0.16666666666666666 * h22;
    let u33 = 0.041666666666666664 * h03 + 0.08333333333333333 * h13 + 0.16666666666666666 * h23;
    let u34 = 0.041666666666666664 * h04 + 0.08333333333333333 * h14 + 0.16666666666666666 * h24;
    let u35 = 0.041666666666666664 * h05 + 0.08333333333333333 * h15 + 0.16666666666666666 * h25;
    let u40 = 0.041666666666666664 * h00 - 0.08333333333333333 * h10 + 0.16666666666666666 * h20;
    let u41 = 0.041666666666666664 * h01 - 0.08333333333333333 * h11 + 0.16666666666666666 * h21;
    let u42 = 0.041666666666666664 * h02 - 0.08333333333333333 * h12 + 0.16666666666666666 * h22;
    let u43 = 0.041666666666666664 * h03 - 0.08333333333333333 * h13 + 0.16666666666666666 * h23;
    let u44 = 0.041666666666666664 * h04 - 0.08333333333333333 * h14 + 0.16666666666666666 * h24;
    let u45 = 0.041666666666666664 * h05 - 0.08333333333333333 * h15 + 0.16666666666666666 * h25;
    let u50 = h20;
    let u51 = h21;
    let u52 = h22;
    let u53 = h23;
    let u54 = h24;
    let u55 = h25;
    dst[o + 0u] = vec4<f32>(u00, u01, u02, u03);
    dst[o + 1u] = vec4<f32>(u04, u05, u10, u11);
    dst[o + 2u] = vec4<f32>(u12, u13, u14, u15);
    dst[o + 3u] = vec4<f32>(u20, u21, u22, u23);
    dst[o + 4u] = vec4<f32>(u24, u25, u30, u31);
    dst[o + 5u] = vec4<f32>(u32, u33, u34, u35);
    dst[o + 6u] = vec4<f32>(u40, u41, u42, u43);
    dst[o + 7u] = vec4<f32>(u44, u45, u50, u51);
    dst[o + 8u] = vec4<f32>(u52, u53, u54, u55);
}

// F(4x4, 3x3) input transform: total = batch * cin * th * tp invocations, one 6x6 tile each (rows
// 4 ty - pad_t.., columns 4 tx - pad_l..; tp a multiple of WINO4_T), B^T d B as nine vec4s at 9 i.
@compute @workgroup_size(WINO_WG)
fn wino4_input(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * WINO_WG;
    if (i >= p.total) { return; }
    let tx = i % p.tp;
    let ty = (i / p.tp) % p.th;
    let bc = i / (p.tp * p.th);
    let iy0 = i32(4u * ty) - i32(p.pad_t);
    let ix0 = i32(4u * tx) - i32(p.pad_l);
    let base = bc * p.h * p.w;
    let o = i * 9u;
    let ok0 = select(0.0, 1.0, u32(iy0 + 0) < p.h);
    let rb0 = base + u32(clamp(iy0 + 0, 0, i32(p.h) - 1)) * p.w;
    let d00 = xz(rb0, ix0 + 0, ok0);
    let d01 = xz(rb0, ix0 + 1, ok0);
    let d02 = xz(rb0, ix0 + 2, ok0);
    let d03 = xz(rb0, ix0 + 3, ok0);
    let d04 = xz(rb0, ix0 + 4, ok0);
    let d05 = xz(rb0, ix0 + 5, ok0);
    let ok1 = select(0.0, 1.0, u32(iy0 + 1) < p.h);
    let rb1 = base + u32(clamp(iy0 + 1, 0, i32(p.h) - 1)) * p.w;
    let d10 = xz(rb1, ix0 + 0, ok1);
    let d11 = xz(rb1, ix0 + 1, ok1);
    let d12 = xz(rb1, ix0 + 2, ok1);
    let d13 = xz(rb1, ix0 + 3, ok1);
    let d14 = xz(rb1, ix0 + 4, ok1);
    let d15 = xz(rb1, ix0 + 5, ok1);
    let ok2 = select(0.0, 1.0, u32(iy0 + 2) < p.h);
    let rb2 = base + u32(clamp(iy0 + 2, 0, i32(p.h) - 1)) * p.w;
    let d20 = xz(rb2, ix0 + 0, ok2);
    let d21 = xz(rb2, ix0 + 1, ok2);
    let d22 = xz(rb2, ix0 + 2, ok2);
    let d23 = xz(rb2, ix0 + 3, ok2);
    let d24 = xz(rb2, ix0 + 4, ok2);
    let d25 = xz(rb2, ix0 + 5, ok2);
    let ok3 = select(0.0, 1.0, u32(iy0 + 3) < p.h);
    let rb3 = base + u32(clamp(iy0 + 3, 0, i32(p.h) - 1)) * p.w;
    let d30 = xz(rb3, ix0 + 0, ok3);
    let d31 = xz(rb3, ix0 + 1, ok3);
    let d32 = xz(rb3, ix0 + 2, ok3);
    let d33 = xz(rb3, ix0 + 3, ok3);
    let d34 = xz(rb3, ix0 + 4, ok3);
    let d35 = xz(rb3, ix0 + 5, ok3);
    let ok4 = select(0.0, 1.0, u32(iy0 + 4) < p.h);
    let rb4 = base + u32(clamp(iy0 + 4, 0, i32(p.h) - 1)) * p.w;
    let d40 = xz(rb4, ix0 + 0, ok4);
    let d41 = xz(rb4, ix0 + 1, ok4);
    let d42 = xz(rb4, ix0 + 2, ok4);
    let d43 = xz(rb4, ix0 + 3, ok4);
    let d44 = xz(rb4, ix0 + 4, ok4);
    let d45 = xz(rb4, ix0 + 5, ok4);
    let ok5 = select(0.0, 1.0, u32(iy0 + 5) < p.h);
    let rb5 = base + u32(clamp(iy0 + 5, 0, i32(p.h) - 1)) * p.w;
    let d50 = xz(rb5, ix0 + 0, ok5);
    let d51 = xz(rb5, ix0 + 1, ok5);
    let d52 = xz(rb5, ix0 + 2, ok5);
    let d53 = xz(rb5, ix0 + 3, ok5);
    let d54 = xz(rb5, ix0 + 4, ok5);
    let d55 = xz(rb5, ix0 + 5, ok5);
    let e00 = 4.0 * d00 - 5.0 * d20 + d40;
    let e01 = 4.0 * d01 - 5.0 * d21 + d41;
    let e02 = 4.0 * d02 - 5.0 * d22 + d42;
    let e03 = 4.0 * d03 - 5.0 * d23 + d43;
    let e04 = 4.0 * d04 - 5.0 * d24 + d44;
    let e05 = 4.0 * d05 - 5.0 * d25 + d45;
    let e10 = -4.0 * d10 - 4.0 * d20 + d30 + d40;
    let e11 = -4.0 * d11 - 4.0 * d21 + d31 + d41;
    let e12 = -4.0 * d12 - 4.0 * d22 + d32 + d42;
    let e13 = -4.0 * d13 - 4.0 * d23 + d33 + d43;
    let e14 = -4.0 * d14 - 4.0 * d24 + d34 + d44;
    let e15 = -4.0 * d15 - 4.0 * d25 + d35 + d45;
    let e20 = 4.0 * d10 - 4.0 * d20 - d30 + d40;
    let e21 = 4.0 * d11 - 4.0 * d21 - d31 + d41;
    let e22 = 4.0 * d12 - 4.0 * d22 - d32 + d42;
    let e23 = 4.0 * d13 - 4.0 * d23 - d33 + d43;
    let e24 = 4.0 * d14 - 4.0 * d24 - d34 + d44;
    let e25 = 4.0 * d15 - 4.0 * d25 - d35 + d45;
    let e30 = -2.0 * d10 - d20 + 2.0 * d30 + d40;
    let e31 = -2.0 * d11 - d21 + 2.0 * d31 + d41;
    let e32 = -2.0 * d12 - d22 + 2.0 * d32 + d42;
    let e33 = -2.0 * d13 - d23 + 2.0 * d33 + d43;
    let e34 = -2.0 * d14 - d24 + 2.0 * d34 + d44;
    let e35 = -2.0 * d15 - d25 + 2.0 * d35 + d45;
    let e40 = 2.0 * d10 - d20 - 2.0 * d30 + d40;
    let e41 = 2.0 * d11 - d21 - 2.0 * d31 + d41;
    let e42 = 2.0 * d12 - d22 - 2.0 * d32 + d42;
    let e43 = 2.0 * d13 - d23 - 2.0 * d33 + d43;
    let e44 = 2.0 * d14 - d24 - 2.0 * d34 + d44;
    let e45 = 2.0 * d15 - d25 - 2.0 * d35 + d45;
    let e50 = 4.0 * d10 - 5.0 * d30 + d50;
    let e51 = 4.0 * d11 - 5.0 * d31 + d51;
    let e52 = 4.0 * d12 - 5.0 * d32 + d52;
    let e53 = 4.0 * d13 - 5.0 * d33 + d53;
    let e54 = 4.0 * d14 - 5.0 * d34 + d54;
    let e55 = 4.0 * d15 - 5.0 * d35 + d55;
    let v00 = 4.0 * e00 - 5.0 * e02 + e04;
    let v01 = -4.0 * e01 - 4.0 * e02 + e03 + e04;
    let v02 = 4.0 * e01 - 4.0 * e02 - e03 + e04;
    let v03 = -2.0 * e01 - e02 + 2.0 * e03 + e04;
    let v04 = 2.0 * e01 - e02 - 2.0 * e03 + e04;
    let v05 = 4.0 * e01 - 5.0 * e03 + e05;
    let v10 = 4.0 * e10 - 5.0 * e12 + e14;
    let v11 = -4.0 * e11 - 4.0 * e12 + e13 + e14;
    let v12 = 4.0 * e11 - 4.0 * e12 - e13 + e14;
    let v13 = -2.0 * e11 - e12 + 2.0 * e13 + e14;
    let v14 = 2.0 * e11 - e12 - 2.0 * e13 + e14;
    let v15 = 4.0 * e11 - 5.0 * e13 + e15;
    let v20 = 4.0 * e20 - 5.0 * e22 + e24;
    let v21 = -4.0 * e21 - 4.0 * e22 + e23 + e24;
    let v22 = 4.0 * e21 - 4.0 * e22 - e23 + e24;
    let v23 = -2.0 * e21 - e22 + 2.0 * e23 + e24;
    let v24 = 2.0 * e21 - e22 - 2.0 * e23 + e24;
    let v25 = 4.0 * e21 - 5.0 * e23 + e25;
    let v30 = 4.0 * e30 - 5.0 * e32 + e34;
    let v31 = -4.0 * e31 - 4.0 * e32 + e33 + e34;
    let v32 = 4.0 * e31 - 4.0 * e32 - e33 + e34;
    let v33 = -2.0 * e31 - e32 + 2.0 * e33 + e34;
    let v34 = 2.0 * e31 - e32 - 2.0 * e33 + e34;
    let v35 = 4.0 * e31 - 5.0 * e33 + e35;
    let v40 = 4.0 * e40 - 5.0 * e42 + e44;
    let v41 = -4.0 * e41 - 4.0 * e42 + e43 + e44;
    let v42 = 4.0 * e41 - 4.0 * e42 - e43 + e44;
    let v43 = -2.0 * e41 - e42 + 2.0 * e43 + e44;
    let v44 = 2.0 * e41 - e42 - 2.0 * e43 + e44;
    let v45 = 4.0 * e41 - 5.0 * e43 + e45;
    let v50 = 4.0 * e50 - 5.0 * e52 + e54;
    let v51 = -4.0 * e51 - 4.0 * e52 + e53 + e54;
    let v52 = 4.0 * e51 - 4.0 * e52 - e53 + e54;
    let v53 = -2.0 * e51 - e52 + 2.0 * e53 + e54;
    let v54 = 2.0 * e51 - e52 - 2.0 * e53 + e54;
    let v55 = 4.0 * e51 - 5.0 * e53 + e55;
    dst[o + 0u] = vec4<f32>(v00, v01, v02, v03);
    dst[o + 1u] = vec4<f32>(v04, v05, v10, v11);
    dst[o + 2u] = vec4<f32>(v12, v13, v14, v15);
    dst[o + 3u] = vec4<f32>(v20, v21, v22, v23);
    dst[o + 4u] = vec4<f32>(v24, v25, v30, v31);
    dst[o + 5u] = vec4<f32>(v32, v33, v34, v35);
    dst[o + 6u] = vec4<f32>(v40, v41, v42, v43);
    dst[o + 7u] = vec4<f32>(v44, v45, v50, v51);
    dst[o + 8u] = vec4<f32>(v52, v53, v54, v55);
}

// F(4x4, 3x3) products of one window: output channels co0 .. co0 + 8 at the 2 tiles (a 4 x 8
// block of outputs) of this invocation, input channels ci0 .. ci0 + ci_n, 2 an iteration; then
// A^T m A, added into out.
@compute @workgroup_size(16)
fn wino4_gemm(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let s = site4(gid.x + gid.y * nwg.x * 16u);
    var m0_0_0 = vec4<f32>(0.0); var m0_0_1 = vec4<f32>(0.0); var m0_0_2 = vec4<f32>(0.0); var m0_0_3 = vec4<f32>(0.0); var m0_0_4 = vec4<f32>(0.0); var m0_0_5 = vec4<f32>(0.0); var m0_0_6 = vec4<f32>(0.0); var m0_0_7 = vec4<f32>(0.0); var m0_0_8 = vec4<f32>(0.0);
    var m0_1_0 = vec4<f32>(0.0); var m0_1_1 = vec4<f32>(0.0); var m0_1_2 = vec4<f32>(0.0); var m0_1_3 = vec4<f32>(0.0); var m0_1_4 = vec4<f32>(0.0); var m0_1_5 = vec4<f32>(0.0); var m0_1_6 = vec4<f32>(0.0); var m0_1_7 = vec4<f32>(0.0); var m0_1_8 = vec4<f32>(0.0);
    var m1_0_0 = vec4<f32>(0.0); var m1_0_1 = vec4<f32>(0.0); var m1_0_2 = vec4<f32>(0.0); var m1_0_3 = vec4<f32>(0.0); var m1_0_4 = vec4<f32>(0.0); var m1_0_5 = vec4<f32>(0.0); var m1_0_6 = vec4<f32>(0.0); var m1_0_7 = vec4<f32>(0.0); var m1_0_8 = vec4<f32>(0.0);
    var m1_1_0 = vec4<f32>(0.0); var m1_1_1 = vec4<f32>(0.0); var m1_1_2 = vec4<f32>(0.0); var m1_1_3 = vec4<f32>(0.0); var m1_1_4 = vec4<f32>(0.0); var m1_1_5 = vec4<f32>(0.0); var m1_1_6 = vec4<f32>(0.0); var m1_1_7 = vec4<f32>(0.0); var m1_1_8 = vec4<f32>(0.0);
    var m2_0_0 = vec4<f32>(0.0); var m2_0_1 = vec4<f32>(0.0); var m2_0_2 = vec4<f32>(0.0); var m2_0_3 = vec4<f32>(0.0); var m2_0_4 = vec4<f32>(0.0); var m2_0_5 = vec4<f32>(0.0); var m2_0_6 = vec4<f32>(0.0); var m2_0_7 = vec4<f32>(0.0); var m2_0_8 = vec4<f32>(0.0);
    var m2_1_0 = vec4<f32>(0.0); var m2_1_1 = vec4<f32>(0.0); var m2_1_2 = vec4<f32>(0.0); var m2_1_3 = vec4<f32>(0.0); var m2_1_4 = vec4<f32>(0.0); var m2_1_5 = vec4<f32>(0.0); var m2_1_6 = vec4<f32>(0.0); var m2_1_7 = vec4<f32>(0.0); var m2_1_8 = vec4<f32>(0.0);
    var m3_0_0 = vec4<f32>(0.0); var m3_0_1 = vec4<f32>(0.0); var m3_0_2 = vec4<f32>(0.0); var m3_0_3 = vec4<f32>(0.0); var m3_0_4 = vec4<f32>(0.0); var m3_0_5 = vec4<f32>(0.0); var m3_0_6 = vec4<f32>(0.0); var m3_0_7 = vec4<f32>(0.0); var m3_0_8 = vec4<f32>(0.0);
    var m3_1_0 = vec4<f32>(0.0); var m3_1_1 = vec4<f32>(0.0); var m3_1_2 = vec4<f32>(0.0); var m3_1_3 = vec4<f32>(0.0); var m3_1_4 = vec4<f32>(0.0); var m3_1_5 = vec4<f32>(0.0); var m3_1_6 = vec4<f32>(0.0); var m3_1_7 = vec4<f32>(0.0); var m3_1_8 = vec4<f32>(0.0);
    var m4_0_0 = vec4<f32>(0.0); var m4_0_1 = vec4<f32>(0.0); var m4_0_2 = vec4<f32>(0.0); var m4_0_3 = vec4<f32>(0.0); var m4_0_4 = vec4<f32>(0.0); var m4_0_5 = vec4<f32>(0.0); var m4_0_6 = vec4<f32>(0.0); var m4_0_7 = vec4<f32>(0.0); var m4_0_8 = vec4<f32>(0.0);
    var m4_1_0 = vec4<f32>(0.0); var m4_1_1 = vec4<f32>(0.0); var m4_1_2 = vec4<f32>(0.0); var m4_1_3 = vec4<f32>(0.0); var m4_1_4 = vec4<f32>(0.0); var m4_1_5 = vec4<f32>(0.0); var m4_1_6 = vec4<f32>(0.0); var m4_1_7 = vec4<f32>(0.0); var m4_1_8 = vec4<f32>(0.0);
    var m5_0_0 = vec4<f32>(0.0); var m5_0_1 = vec4<f32>(0.0); var m5_0_2 = vec4<f32>(0.0); var m5_0_3 = vec4<f32>(0.0); var m5_0_4 = vec4<f32>(0.0); var m5_0_5 = vec4<f32>(0.0); var m5_0_6 = vec4<f32>(0.0); var m5_0_7 = vec4<f32>(0.0); var m5_0_8 = vec4<f32>(0.0);
    var m5_1_0 = vec4<f32>(0.0); var m5_1_1 = vec4<f32>(0.0); var m5_1_2 = vec4<f32>(0.0); var m5_1_3 = vec4<f32>(0.0); var m5_1_4 = vec4<f32>(0.0); var m5_1_5 = vec4<f32>(0.0); var m5_1_6 = vec4<f32>(0.0); var m5_1_7 = vec4<f32>(0.0); var m5_1_8 = vec4<f32>(0.0);
    var m6_0_0 = vec4<f32>(0.0); var m6_0_1 = vec4<f32>(0.0); var m6_0_2 = vec4<f32>(0.0); var m6_0_3 = vec4<f32>(0.0); var m6_0_4 = vec4<f32>(0.0); var m6_0_5 = vec4<f32>(0.0); var m6_0_6 = vec4<f32>(0.0); var m6_0_7 = vec4<f32>(0.0); var m6_0_8 = vec4<f32>(0.0);
    var m6_1_0 = vec4<f32>(0.0); var m6_1_1 = vec4<f32>(0.0); var m6_1_2 = vec4<f32>(0.0); var m6_1_3 = vec4<f32>(0.0); var m6_1_4 = vec4<f32>(0.0); var m6_1_5 = vec4<f32>(0.0); var m6_1_6 = vec4<f32>(0.0); var m6_1_7 = vec4<f32>(0.0); var m6_1_8 = vec4<f32>(0.0);
    var m7_0_0 = vec4<f32>(0.0); var m7_0_1 = vec4<f32>(0.0); var m7_0_2 = vec4<f32>(0.0); var m7_0_3 = vec4<f32>(0.0); var m7_0_4 = vec4<f32>(0.0); var m7_0_5 = vec4<f32>(0.0); var m7_0_6 = vec4<f32>(0.0); var m7_0_7 = vec4<f32>(0.0); var m7_0_8 = vec4<f32>(0.0);
    var m7_1_0 = vec4<f32>(0.0); var m7_1_1 = vec4<f32>(0.0); var m7_1_2 = vec4<f32>(0.0); var m7_1_3 = vec4<f32>(0.0); var m7_1_4 = vec4<f32>(0.0); var m7_1_5 = vec4<f32>(0.0); var m7_1_6 = vec4<f32>(0.0); var m7_1_7 = vec4<f32>(0.0); var m7_1_8 = vec4<f32>(0.0);
    for (var cl = 0u; cl < p.ci_n; cl += 2u) {
        let vb0 = (((s.b * p.cin + min(p.ci0 + cl + 0u, p.cin - 1u)) * p.th + s.ty) * p.tp + s.tx * 2u) * 9u;
        let v0_0_0 = vv[vb0 + 0u];
        let v0_0_1 = vv[vb0 + 1u];
        let v0_0_2 = vv[vb0 + 2u];
        let v0_0_3 = vv[vb0 + 3u];
        let v0_0_4 = vv[vb0 + 4u];
        let v0_0_5 = vv[vb0 + 5u];
        let v0_0_6 = vv[vb0 + 6u];
        let v0_0_7 = vv[vb0 + 7u];
        let v0_0_8 = vv[vb0 + 8u];
        let v0_1_0 = vv[vb0 + 9u];
        let v0_1_1 = vv[vb0 + 10u];
        let v0_1_2 = vv[vb0 + 11u];
        let v0_1_3 = vv[vb0 + 12u];
        let v0_1_4 = vv[vb0 + 13u];
        let v0_1_5 = vv[vb0 + 14u];
        let v0_1_6 = vv[vb0 + 15u];
        let v0_1_7 = vv[vb0 + 16u];
        let v0_1_8 = vv[vb0 + 17u];
        let vb1 = (((s.b * p.cin + min(p.ci0 + cl + 1u, p.cin - 1u)) * p.th + s.ty) * p.tp + s.tx * 2u) * 9u;
        let v1_0_0 = vv[vb1 + 0u];
        let v1_0_1 = vv[vb1 + 1u];
        let v1_0_2 = vv[vb1 + 2u];
        let v1_0_3 = vv[vb1 + 3u];
        let v1_0_4 = vv[vb1 + 4u];
        let v1_0_5 = vv[vb1 + 5u];
        let v1_0_6 = vv[vb1 + 6u];
        let v1_0_7 = vv[vb1 + 7u];
        let v1_0_8 = vv[vb1 + 8u];
        let v1_1_0 = vv[vb1 + 9u];
        let v1_1_1 = vv[vb1 + 10u];
        let v1_1_2 = vv[vb1 + 11u];
        let v1_1_3 = vv[vb1 + 12u];
        let v1_1_4 = vv[vb1 + 13u];
        let v1_1_5 = vv[vb1 + 14u];
        let v1_1_6 = vv[vb1 + 15u];
        let v1_1_7 = vv[vb1 + 16u];
        let v1_1_8 = vv[vb1 + 17u];
        let u0_0_0 = wu[(cl + 0u) * 72u + 0u];
        let u0_0_1 = wu[(cl + 0u) * 72u + 1u];
        let u0_0_2 = wu[(cl + 0u) * 72u + 2u];
        let u0_0_3 = wu[(cl + 0u) * 72u + 3u];
        let u0_0_4 = wu[(cl + 0u) * 72u + 4u];
        let u0_0_5 = wu[(cl + 0u) * 72u + 5u];
        let u0_0_6 = wu[(cl + 0u) * 72u + 6u];
        let u0_0_7 = wu[(cl + 0u) * 72u + 7u];
        let u0_0_8 = wu[(cl + 0u) * 72u + 8u];
        let u0_1_0 = wu[(cl + 1u) * 72u + 0u];
        let u0_1_1 = wu[(cl + 1u) * 72u + 1u];
        let u0_1_2 = wu[(cl + 1u) * 72u + 2u];
        let u0_1_3 = wu[(cl + 1u) * 72u + 3u];
        let u0_1_4 = wu[(cl + 1u) * 72u + 4u];
        let u0_1_5 = wu[(cl + 1u) * 72u + 5u];
        let u0_1_6 = wu[(cl + 1u) * 72u + 6u];
        let u0_1_7 = wu[(cl + 1u) * 72u + 7u];
        let u0_1_8 = wu[(cl + 1u) * 72u + 8u];
        m0_0_0 += u0_0_0 * v0_0_0 + u0_1_0 * v1_0_0;
        m0_0_1 += u0_0_1 * v0_0_1 + u0_1_1 * v1_0_1;
        m0_0_2 += u0_0_2 * v0_0_2 + u0_1_2 * v1_0_2;
        m0_0_3 += u0_0_3 * v0_0_3 + u0_1_3 * v1_0_3;
        m0_0_4 += u0_0_4 * v0_0_4 + u0_1_4 * v1_0_4;
        m0_0_5 += u0_0_5 * v0_0_5 + u0_1_5 * v1_0_5;
        m0_0_6 += u0_0_6 * v0_0_6 + u0_1_6 * v1_0_6;
        m0_0_7 += u0_0_7 * v0_0_7 + u0_1_7 * v1_0_7;
        m0_0_8 += u0_0_8 * v0_0_8 + u0_1_8 * v1_0_8;
        m0_1_0 += u0_0_0 * v0_1_0 + u0_1_0 * v1_1_0;
        m0_1_1 += u0_0_1 * v0_1_1 + u0_1_1 * v1_1_1;
        m0_1_2 += u0_0_2 * v0_1_2 + u0_1_2 * v1_1_2;
        m0_1_3 += u0_0_3 * v0_1_3 + u0_1_3 * v1_1_3;
        m0_1_4 += u0_0_4 * v0_1_4 + u0_1_4 * v1_1_4;
        m0_1_5 += u0_0_5 * v0_1_5 + u0_1_5 * v1_1_5;
        m0_1_6 += u0_0_6 * v0_1_6 + u0_1_6 * v1_1_6;
        m0_1_7 += u0_0_7 * v0_1_7 + u0_1_7 * v1_1_7;
        m0_1_8 += u0_0_8 * v0_1_8 + u0_1_8 * v1_1_8;
        let u1_0_0 = wu[(cl + 0u) * 72u + 9u];
        let u1_0_1 = wu[(cl + 0u) * 72u + 10u];
        let u1_0_2 = wu[(cl + 0u) * 72u + 11u];
        let u1_0_3 = wu[(cl + 0u) * 72u + 12u];
        let u1_0_4 = wu[(cl + 0u) * 72u + 13u];
        let u1_0_5 = wu[(cl + 0u) * 72u + 14u];
        let u1_0_6 = wu[(cl + 0u) * 72u + 15u];
        let u1_0_7 = wu[(cl + 0u) * 72u + 16u];
        let u1_0_8 = wu[(cl + 0u) * 72u + 17u];
        let u1_1_0 = wu[(cl + 1u) * 72u + 9u];
        let u1_1_1 = wu[(cl + 1u) * 72u + 10u];
        let u1_1_2 = wu[(cl + 1u) * 72u + 11u];
        let u1_1_3 = wu[(cl + 1u) * 72u + 12u];
        let u1_1_4 = wu[(cl + 1u) * 72u + 13u];
        let u1_1_5 = wu[(cl + 1u) * 72u + 14u];
        let u1_1_6 = wu[(cl + 1u) * 72u + 15u];
        let u1_1_7 = wu[(cl + 1u) * 72u + 16u];
        let u1_1_8 = wu[(cl + 1u) * 72u + 17u];
        m1_0_0 += u1_0_0 * v0_0_0 + u1_1_0 * v1_0_0;
        m1_0_1 += u1_0_1 * v0_0_1 + u1_1_1 * v1_0_1;
        m1_0_2 += u1_0_2 * v0_0_2 + u1_1_2 * v1_0_2;
        m1_0_3 += u1_0_3 * v0_0_3 + u1_1_3 * v1_0_3;
        m1_0_4 += u1_0_4 * v0_0_4 + u1_1_4 * v1_0_4;
        m1_0_5 += u1_0_5 * v0_0_5 + u1_1_5 * v1_0_5;
        m1_0_6 += u1_0_6 * v0_0_6 + u1_1_6 * v1_0_6;
        m1_0_7 += u1_0_7 * v0_0_7 + u1_1_7 * v1_0_7;
        m1_0_8 += u1_0_8 * v0_0_8 + u1_1_8 * v1_0_8;
        m1_1_0 += u1_0_0 * v0_1_0 + u1_1_0 * v1_1_0;
        m1_1_1 += u1_0_1 * v0_1_1 + u1_1_1 * v1_1_1;
        m1_1_2 += u1_0_2 * v0_1_2 + u1_1_2 * v1_1_2;
        m1_1_3 += u1_0_3 * v0_1_3 + u1_1_3 * v1_1_3;
        m1_1_4 += u1_0_4 * v0_1_4 + u1_1_4 * v1_1_4;
        m1_1_5 += u1_0_5 * v0_1_5 + u1_1_5 * v1_1_5;
        m1_1_6 += u1_0_6 * v0_1_6 + u1_1_6 * v1_1_6;
        m1_1_7 += u1_0_7 * v0_1_7 + u1_1_7 * v1_1_7;
        m1_1_8 += u1_0_8 * v0_1_8 + u1_1_8 * v1_1_8;
        let u2_0_0 = wu[(cl + 0u) * 72u + 18u];
        let u2_0_1 = wu[(cl + 0u) * 72u + 19u];
        let u2_0_2 = wu[(cl + 0u) * 72u + 20u];
        let u2_0_3 = wu[(cl + 0u) * 72u + 21u];
        let u2_0_4 = wu[(cl + 0u) * 72u + 22u];
        let u2_0_5 = wu[(cl + 0u) * 72u + 23u];
        let u2_0_6 = wu[(cl + 0u) * 72u + 24u];
        let u2_0_7 = wu[(cl + 0u) * 72u + 25u];
        let u2_0_8 = wu[(cl + 0u) * 72u + 26u];
        let u2_1_0 = wu[(cl + 1u) * 72u + 18u];
        let u2_1_1 = wu[(cl + 1u) * 72u + 19u];
        let u2_1_2 = wu[(cl + 1u) * 72u + 20u];
        let u2_1_3 = wu[(cl + 1u) * 72u + 21u];
        let u2_1_4 = wu[(cl + 1u) * 72u + 22u];
        let u2_1_5 = wu[(cl + 1u) * 72u + 23u];
        let u2_1_6 = wu[(cl + 1u) * 72u + 24u];
        let u2_1_7 = wu[(cl + 1u) * 72u + 25u];
        let u2_1_8 = wu[(cl + 1u) * 72u + 26u];
        m2_0_0 += u2_0_0 * v0_0_0 + u2_1_0 * v1_0_0;
        m2_0_1 += u2_0_1 * v0_0_1 + u2_1_1 * v1_0_1;
        m2_0_2 += u2_0_2 * v0_0_2 + u2_1_2 * v1_0_2;
        m2_0_3 += u2_0_3 * v0_0_3 + u2_1_3 * v1_0_3;
        m2_0_4 += u2_0_4 * v0_0_4 + u2_1_4 * v1_0_4;
        m2_0_5 += u2_0_5 * v0_0_5 + u2_1_5 * v1_0_5;
        m2_0_6 += u2_0_6 * v0_0_6 + u2_1_6 * v1_0_6;
        m2_0_7 += u2_0_7 * v0_0_7 + u2_1_7 * v1_0_7;
        m2_0_8 += u2_0_8 * v0_0_8 + u2_1_8 * v1_0_8;
        m2_1_0 += u2_0_0 * v0_1_0 + u2_1_0 * v1_1_0;
        m2_1_1 += u2_0_1 * v0_1_1 + u2_1_1 * v1_1_1;
        m2_1_2 += u2_0_2 * v0_1_2 + u2_1_2 * v1_1_2;
        m2_1_3 += u2_0_3 * v0_1_3 + u2_1_3 * v1_1_3;
        m2_1_4 += u2_0_4 * v0_1_4 + u2_1_4 * v1_1_4;
        m2_1_5 += u2_0_5 * v0_1_5 + u2_1_5 * v1_1_5;
        m2_1_6 += u2_0_6 * v0_1_6 + u2_1_6 * v1_1_6;
        m2_1_7 += u2_0_7 * v0_1_7 + u2_1_7 * v1_1_7;
        m2_1_8 += u2_0_8 * v0_1_8 + u2_1_8 * v1_1_8;
        let u3_0_0 = wu[(cl + 0u) * 72u + 27u];
        let u3_0_1 = wu[(cl + 0u) * 72u + 28u];
        let u3_0_2 = wu[(cl + 0u) * 72u + 29u];
        let u3_0_3 = wu[(cl + 0u) * 72u + 30u];
        let u3_0_4 = wu[(cl + 0u) * 72u + 31u];
        let u3_0_5 = wu[(cl + 0u) * 72u + 32u];
        let u3_0_6 = wu[(cl + 0u) * 72u + 33u];
        let u3_0_7 = wu[(cl + 0u) * 72u + 34u];
        let u3_0_8 = wu[(cl + 0u) * 72u + 35u];
        let u3_1_0 = wu[(cl + 1u) * 72u + 27u];
        let u3_1_1 = wu[(cl + 1u) * 72u + 28u];
        let u3_1_2 = wu[(cl + 1u) * 72u + 29u];
        let u3_1_3 = wu[(cl + 1u) * 72u + 30u];
        let u3_1_4 = wu[(cl + 1u) * 72u + 31u];
        let u3_1_5 = wu[(cl + 1u) * 72u + 32u];
        let u3_1_6 = wu[(cl + 1u) * 72u + 33u];
        let u3_1_7 = wu[(cl + 1u) * 72u + 34u];
        let u3_1_8 = wu[(cl + 1u) * 72u + 35u];
        m3_0_0 += u3_0_0 * v0_0_0 + u3_1_0 * v1_0_0;
        m3_0_1 += u3_0_1 * v0_0_1 + u3_1_1 * v1_0_1;
        m3_0_2 += u3_0_2 * v0_0_2 + u3_1_2 * v1_0_2;
        m3_0_3 += u3_0_3 * v0_0_3 + u3_1_3 * v1_0_3;
        m3_0_4 += u3_0_4 * v0_0_4 + u3_1_4 * v1_0_4;
        m3_0_5 += u3_0_5 * v0_0_5 + u3_1_5 * v1_0_5;
        m3_0_6 += u3_0_6 * v0_0_6 + u3_1_6 * v1_0_6;
        m3_0_7 += u3_0_7 * v0_0_7 + u3_1_7 * v1_0_7;
        m3_0_8 += u3_0_8 * v0_0_8 + u3_1_8 * v1_0_8;
        m3_1_0 += u3_0_0 * v0_1_0 + u3_1_0 * v1_1_0;
        m3_1_1 += u3_0_1 * v0_1_1 + u3_1_1 * v1_1_1;
        m3_1_2 += u3_0_2 * v0_1_2 + u3_1_2 * v1_1_2;
        m3_1_3 += u3_0_3 * v0_1_3 + u3_1_3 * v1_1_3;
        m3_1_4 += u3_0_4 * v0_1_4 + u3_1_4 * v1_1_4;
        m3_1_5 += u3_0_5 * v0_1_5 + u3_1_5 * v1_1_5;
        m3_1_6 += u3_0_6 * v0_1_6 + u3_1_6 * v1_1_6;
        m3_1_7 += u3_0_7 * v0_1_7 + u3_1_7 * v1_1_7;
        m3_1_8 += u3_0_8 * v0_1_8 + u3_1_8 * v1_1_8;
        let u4_0_0 = wu[(cl + 0u) * 72u + 36u];
        let u4_0_1 = wu[(cl + 0u) * 72u + 37u];
        let u4_0_2 = wu[(cl + 0u) * 72u + 38u];
        let u4_0_3 = wu[(cl + 0u) * 72u + 39u];
        let u4_0_4 = wu[(cl + 0u) * 72u + 40u];
        let u4_0_5 = wu[(cl + 0u) * 72u + 41u];
        let u4_0_6 = wu[(cl + 0u) * 72u + 42u];
        let u4_0_7 = wu[(cl + 0u) * 72u + 43u];
        let u4_0_8 = wu[(cl + 0u) * 72u + 44u];
        let u4_1_0 = wu[(cl + 1u) * 72u + 36u];
        let u4_1_1 = wu[(cl + 1u) * 72u + 37u];
        let u4_1_2 = wu[(cl + 1u) * 72u + 38u];
        let u4_1_3 = wu[(cl + 1u) * 72u + 39u];
        let u4_1_4 = wu[(cl + 1u) * 72u + 40u];
        let u4_1_5 = wu[(cl + 1u) * 72u + 41u];
        let u4_1_6 = wu[(cl + 1u) * 72u + 42u];
        let u4_1_7 = wu[(cl + 1u) * 72u + 43u];
        let u4_1_8 = wu[(cl + 1u) * 72u + 44u];
        m4_0_0 += u4_0_0 * v0_0_0 + u4_1_0 * v1_0_0;
        m4_0_1 += u4_0_1 * v0_0_1 + u4_1_1 * v1_0_1;
        m4_0_2 += u4_0_2 * v0_0_2 + u4_1_2 * v1_0_2;
        m4_0_3 += u4_0_3 * v0_0_3 + u4_1_3 * v1_0_3;
        m4_0_4 += u4_0_4 * v0_0_4 + u4_1_4 * v1_0_4;
        m4_0_5 += u4_0_5 * v0_0_5 + u4_1_5 * v1_0_5;
        m4_0_6 += u4_0_6 * v0_0_6 + u4_1_6 * v1_0_6;
        m4_0_7 += u4_0_7 * v0_0_7 + u4_1_7 * v1_0_7;
        m4_0_8 += u4_0_8 * v0_0_8 + u4_1_8 * v1_0_8;
        m4_1_0 += u4_0_0 * v0_1_0 + u4_1_0 * v1_1_0;
        m4_1_1 += u4_0_1 * v0_1_1 + u4_1_1 * v1_1_1;
        m4_1_2 += u4_0_2 * v0_1_2 + u4_1_2 * v1_1_2;
        m4_1_3 += u4_0_3 * v0_1_3 + u4_1_3 * v1_1_3;
        m4_1_4 += u4_0_4 * v0_1_4 + u4_1_4 * v1_1_4;
        m4_1_5 += u4_0_5 * v0_1_5 + u4_1_5 * v1_1_5;
        m4_1_6 += u4_0_6 * v0_1_6 + u4_1_6 * v1_1_6;
        m4_1_7 += u4_0_7 * v0_1_7 + u4_1_7 * v1_1_7;
        m4_1_8 += u4_0_8 * v0_1_8 + u4_1_8 * v1_1_8;
        let u5_0_0 = wu[(cl + 0u) * 72u + 45u];
        let u5_0_1 = wu[(cl + 0u) * 72u + 46u];
        let u5_0_2 = wu[(cl + 0u) * 72u + 47u];
        let u5_0_3 = wu[(cl + 0u) * 72u + 48u];
        let u5_0_4 = wu[(cl + 0u) * 72u + 49u];
        let u5_0_5 = wu[(cl + 0u) * 72u + 50u];
        let u5_0_6 = wu[(cl + 0u) * 72u + 51u];
        let u5_0_7 = wu[(cl + 0u) * 72u + 52u];
        let u5_0_8 = wu[(cl + 0u) * 72u + 53u];
        let u5_1_0 = wu[(cl + 1u) * 72u + 45u];
        let u5_1_1 = wu[(cl + 1u) * 72u + 46u];
        let u5_1_2 = wu[(cl + 1u) * 72u + 47u];
        let u5_1_3 = wu[(cl + 1u) * 72u + 48u];
        let u5_1_4 = wu[(cl + 1u) * 72u + 49u];
        let u5_1_5 = wu[(cl + 1u) * 72u + 50u];
        let u5_1_6 = wu[(cl + 1u) * 72u + 51u];
        let u5_1_7 = wu[(cl + 1u) * 72u + 52u];
        let u5_1_8 = wu[(cl + 1u) * 72u + 53u];
        m5_0_0 += u5_0_0 * v0_0_0 + u5_1_0 * v1_0_0;
        m5_0_1 += u5_0_1 * v0_0_1 + u5_1_1 * v1_0_1;
        m5_0_2 += u5_0_2 * v0_0_2 + u5_1_2 * v1_0_2;
        m5_0_3 += u5_0_3 * v0_0_3 + u5_1_3 * v1_0_3;
        m5_0_4 += u5_0_4 * v0_0_4 + u5_1_4 * v1_0_4;
        m5_0_5 += u5_0_5 * v0_0_5 + u5_1_5 * v1_0_5;
        m5_0_6 += u5_0_6 * v0_0_6 + u5_1_6 * v1_0_6;
        m5_0_7 += u5_0_7 * v0_0_7 + u5_1_7 * v1_0_7;
        m5_0_8 += u5_0_8 * v0_0_8 + u5_1_8 * v1_0_8;
        m5_1_0 += u5_0_0 * v0_1_0 + u5_1_0 * v1_1_0;
        m5_1_1 += u5_0_1 * v0_1_1 + u5_1_1 * v1_1_1;
        m5_1_2 += u5_0_2 * v0_1_2 + u5_1_2 * v1_1_2;
        m5_1_3 += u5_0_3 * v0_1_3 + u5_1_3 * v1_1_3;
        m5_1_4 += u5_0_4 * v0_1_4 + u5_1_4 * v1_1_4;
        m5_1_5 += u5_0_5 * v0_1_5 + u5_1_5 * v1_1_5;
        m5_1_6 += u5_0_6 * v0_1_6 + u5_1_6 * v1_1_6;
        m5_1_7 += u5_0_7 * v0_1_7 + u5_1_7 * v1_1_7;
        m5_1_8 += u5_0_8 * v0_1_8 + u5_1_8 * v1_1_8;
        let u6_0_0 = wu[(cl + 0u) * 72u + 54u];
        let u6_0_1 = wu[(cl + 0u) * 72u + 55u];
        let u6_0_2 = wu[(cl + 0u) * 72u + 56u];
        let u6_0_3 = wu[(cl + 0u) * 72u + 57u];
        let u6_0_4 = wu[(cl + 0u) * 72u + 58u];
        let u6_0_5 = wu[(cl + 0u) * 72u + 59u];
        let u6_0_6 = wu[(cl + 0u) * 72u + 60u];
        let u6_0_7 = wu[(cl + 0u) * 72u + 61u];
        let u6_0_8 = wu[(cl + 0u) * 72u + 62u];
        let u6_1_0 = wu[(cl + 1u) * 72u + 54u];
        let u6_1_1 = wu[(cl + 1u) * 72u + 55u];
        let u6_1_2 = wu[(cl + 1u) * 72u + 56u];
        let u6_1_3 = wu[(cl + 1u) * 72u + 57u];
        let u6_1_4 = wu[(cl + 1u) * 72u + 58u];
        let u6_1_5 = wu[(cl + 1u) * 72u + 59u];
        let u6_1_6 = wu[(cl + 1u) * 72u + 60u];
        let u6_1_7 = wu[(cl + 1u) * 72u + 61u];
        let u6_1_8 = wu[(cl + 1u) * 72u + 62u];
        m6_0_0 += u6_0_0 * v0_0_0 + u6_1_0 * v1_0_0;
        m6_0_1 += u6_0_1 * v0_0_1 + u6_1_1 * v1_0_1;
        m6_0_2 += u6_0_2 * v0_0_2 + u6_1_2 * v1_0_2;
        m6_0_3 += u6_0_3 * v0_0_3 + u6_1_3 * v1_0_3;
        m6_0_4 += u6_0_4 * v0_0_4 + u6_1_4 * v1_0_4;
        m6_0_5 += u6_0_5 * v0_0_5 + u6_1_5 * v1_0_5;
        m6_0_6 += u6_0_6 * v0_0_6 + u6_1_6 * v1_0_6;
        m6_0_7 += u6_0_7 * v0_0_7 + u6_1_7 * v1_0_7;
        m6_0_8 += u6_0_8 * v0_0_8 + u6_1_8 * v1_0_8;
        m6_1_0 += u6_0_0 * v0_1_0 + u6_1_0 * v1_1_0;
        m6_1_1 += u6_0_1 * v0_1_1 + u6_1_1 * v1_1_1;
        m6_1_2 += u6_0_2 * v0_1_2 + u6_1_2 * v1_1_2;
        m6_1_3 += u6_0_3 * v0_1_3 + u6_1_3 * v1_1_3;
        m6_1_4 += u6_0_4 * v0_1_4 + u6_1_4 * v1_1_4;
        m6_1_5 += u6_0_5 * v0_1_5 + u6_1_5 * v1_1_5;
        m6_1_6 += u6_0_6 * v0_1_6 + u6_1_6 * v1_1_6;
        m6_1_7 += u6_0_7 * v0_1_7 + u6_1_7 * v1_1_7;
        m6_1_8 += u6_0_8 * v0_1_8 + u6_1_8 * v1_1_8;
        let u7_0_0 = wu[(cl + 0u) * 72u + 63u];
        let u7_0_1 = wu[(cl + 0u) * 72u + 64u];
        let u7_0_2 = wu[(cl + 0u) * 72u + 65u];
        let u7_0_3 = wu[(cl + 0u) * 72u + 66u];
        let u7_0_4 = wu[(cl + 0u) * 72u + 67u];
        let u7_0_5 = wu[(cl + 0u) * 72u + 68u];
        let u7_0_6 = wu[(cl + 0u) * 72u + 69u];
        let u7_0_7 = wu[(cl + 0u) * 72u + 70u];
        let u7_0_8 = wu[(cl + 0u) * 72u + 71u];
        let u7_1_0 = wu[(cl + 1u) * 72u + 63u];
        let u7_1_1 = wu[(cl + 1u) * 72u + 64u];
        let u7_1_2 = wu[(cl + 1u) * 72u + 65u];
        let u7_1_3 = wu[(cl + 1u) * 72u + 66u];
        let u7_1_4 = wu[(cl + 1u) * 72u + 67u];
        let u7_1_5 = wu[(cl + 1u) * 72u + 68u];
        let u7_1_6 = wu[(cl + 1u) * 72u + 69u];
        let u7_1_7 = wu[(cl + 1u) * 72u + 70u];
        let u7_1_8 = wu[(cl + 1u) * 72u + 71u];
        m7_0_0 += u7_0_0 * v0_0_0 + u7_1_0 * v1_0_0;
        m7_0_1 += u7_0_1 * v0_0_1 + u7_1_1 * v1_0_1;
        m7_0_2 += u7_0_2 * v0_0_2 + u7_1_2 * v1_0_2;
        m7_0_3 += u7_0_3 * v0_0_3 + u7_1_3 * v1_0_3;
        m7_0_4 += u7_0_4 * v0_0_4 + u7_1_4 * v1_0_4;
        m7_0_5 += u7_0_5 * v0_0_5 + u7_1_5 * v1_0_5;
        m7_0_6 += u7_0_6 * v0_0_6 + u7_1_6 * v1_0_6;
        m7_0_7 += u7_0_7 * v0_0_7 + u7_1_7 * v1_0_7;
        m7_0_8 += u7_0_8 * v0_0_8 + u7_1_8 * v1_0_8;
        m7_1_0 += u7_0_0 * v0_1_0 + u7_1_0 * v1_1_0;
        m7_1_1 += u7_0_1 * v0_1_1 + u7_1_1 * v1_1_1;
        m7_1_2 += u7_0_2 * v0_1_2 + u7_1_2 * v1_1_2;
        m7_1_3 += u7_0_3 * v0_1_3 + u7_1_3 * v1_1_3;
        m7_1_4 += u7_0_4 * v0_1_4 + u7_1_4 * v1_1_4;
        m7_1_5 += u7_0_5 * v0_1_5 + u7_1_5 * v1_1_5;
        m7_1_6 += u7_0_6 * v0_1_6 + u7_1_6 * v1_1_6;
        m7_1_7 += u7_0_7 * v0_1_7 + u7_1_7 * v1_1_7;
        m7_1_8 += u7_0_8 * v0_1_8 + u7_1_8 * v1_1_8;
    }
    if (!s.ok) { return; }
    if (p.co0 + 0u < p.cout) {
        var bv0 = 0.0;
        if (p.has_bias != 0u && p.first != 0u) { bv0 = src[p.co0 + 0u]; }
        let s0_0_00 = m0_0_0.x + m0_0_1.z + m0_0_3.x + m0_0_4.z + m0_0_6.x;
        let s0_0_01 = m0_0_0.y + m0_0_1.w + m0_0_3.y + m0_0_4.w + m0_0_6.y;
        let s0_0_02 = m0_0_0.z + m0_0_2.x + m0_0_3.z + m0_0_5.x + m0_0_6.z;
        let s0_0_03 = m0_0_0.w + m0_0_2.y + m0_0_3.w + m0_0_5.y + m0_0_6.w;
        let s0_0_04 = m0_0_1.x + m0_0_2.z + m0_0_4.x + m0_0_5.z + m0_0_7.x;
        let s0_0_05 = m0_0_1.y + m0_0_2.w + m0_0_4.y + m0_0_5.w + m0_0_7.y;
        let s0_0_10 = m0_0_1.z - m0_0_3.x + 2.0 * m0_0_4.z - 2.0 * m0_0_6.x;
        let s0_0_11 = m0_0_1.w - m0_0_3.y + 2.0 * m0_0_4.w - 2.0 * m0_0_6.y;
        let s0_0_12 = m0_0_2.x - m0_0_3.z + 2.0 * m0_0_5.x - 2.0 * m0_0_6.z;
        let s0_0_13 = m0_0_2.y - m0_0_3.w + 2.0 * m0_0_5.y - 2.0 * m0_0_6.w;
        let s0_0_14 = m0_0_2.z - m0_0_4.x + 2.0 * m0_0_5.z - 2.0 * m0_0_7.x;
        let s0_0_15 = m0_0_2.w - m0_0_4.y + 2.0 * m0_0_5.w - 2.0 * m0_0_7.y;
        let s0_0_20 = m0_0_1.z + m0_0_3.x + 4.0 * m0_0_4.z + 4.0 * m0_0_6.x;
        let s0_0_21 = m0_0_1.w + m0_0_3.y + 4.0 * m0_0_4.w + 4.0 * m0_0_6.y;
        let s0_0_22 = m0_0_2.x + m0_0_3.z + 4.0 * m0_0_5.x + 4.0 * m0_0_6.z;
        let s0_0_23 = m0_0_2.y + m0_0_3.w + 4.0 * m0_0_5.y + 4.0 * m0_0_6.w;
        let s0_0_24 = m0_0_2.z + m0_0_4.x + 4.0 * m0_0_5.z + 4.0 * m0_0_7.x;
        let s0_0_25 = m0_0_2.w + m0_0_4.y + 4.0 * m0_0_5.w + 4.0 * m0_0_7.y;
        let s0_0_30 = m0_0_1.z - m0_0_3.x + 8.0 * m0_0_4.z - 8.0 * m0_0_6.x + m0_0_7.z;
        let s0_0_31 = m0_0_1.w - m0_0_3.y + 8.0 * m0_0_4.w - 8.0 * m0_0_6.y + m0_0_7.w;
        let s0_0_32 = m0_0_2.x - m0_0_3.z + 8.0 * m0_0_5.x - 8.0 * m0_0_6.z + m0_0_8.x;
        let s0_0_33 = m0_0_2.y - m0_0_3.w + 8.0 * m0_0_5.y - 8.0 * m0_0_6.w + m0_0_8.y;
        let s0_0_34 = m0_0_2.z - m0_0_4.x + 8.0 * m0_0_5.z - 8.0 * m0_0_7.x + m0_0_8.z;
        let s0_0_35 = m0_0_2.w - m0_0_4.y + 8.0 * m0_0_5.w - 8.0 * m0_0_7.y + m0_0_8.w;
        store4(s, p.co0 + 0u, 0u, 0u, vec4<f32>(s0_0_00 + s0_0_01 + s0_0_02 + s0_0_03 + s0_0_04, s0_0_01 - s0_0_02 + 2.0 * s0_0_03 - 2.0 * s0_0_04, s0_0_01 + s0_0_02 + 4.0 * s0_0_03 + 4.0 * s0_0_04, s0_0_01 - s0_0_02 + 8.0 * s0_0_03 - 8.0 * s0_0_04 + s0_0_05), bv0);
        store4(s, p.co0 + 0u, 1u, 0u, vec4<f32>(s0_0_10 + s0_0_11 + s0_0_12 + s0_0_13 + s0_0_14, s0_0_11 - s0_0_12 + 2.0 * s0_0_13 - 2.0 * s0_0_14, s0_0_11 + s0_0_12 + 4.0 * s0_0_13 + 4.0 * s0_0_14, s0_0_11 - s0_0_12 + 8.0 * s0_0_13 - 8.0 * s0_0_14 + s0_0_15), bv0);
        store4(s, p.co0 + 0u, 2u, 0u, vec4<f32>(s0_0_20 + s0_0_21 + s0_0_22 + s0_0_23 + s0_0_24, s0_0_21 - s0_0_22 + 2.0 * s0_0_23 - 2.0 * s0_0_24, s0_0_21 + s0_0_22 + 4.0 * s0_0_23 + 4.0 * s0_0_24, s0_0_21 - s0_0_22 + 8.0 * s0_0_23 - 8.0 * s0_0_24 + s0_0_25), bv0);
        store4(s, p.co0 + 0u, 3u, 0u, vec4<f32>(s0_0_30 + s0_0_31 + s0_0_32 + s0_0_33 + s0_0_34, s0_0_31 - s0_0_32 + 2.0 * s0_0_33 - 2.0 * s0_0_34, s0_0_31 + s0_0_32 + 4.0 * s0_0_33 + 4.0 * s0_0_34, s0_0_31 - s0_0_32 + 8.0 * s0_0_33 - 8.0 * s0_0_34 + s0_0_35), bv0);
        let s0_1_00 = m0_1_0.x + m0_1_1.z + m0_1_3.x + m0_1_4.z + m0_1_6.x;
        let s0_1_01 = m0_1_0.y + m0_1_1.w + m0_1_3.y + m0_1_4.w + m0_1_6.y;
        let s0_1_02 = m0_1_0.z + m0_1_2.x + m0_1_3.z + m0_1_5.x + m0_1_6.z;
        let s0_1_03 = m0_1_0.w + m0_1_2.y + m0_1_3.w + m0_1_5.y + m0_1_6.w;
        let s0_1_04 = m0_1_1.x + m0_1_2.z + m0_1_4.x + m0_1_5.z + m0_1_7.x;
        let s0_1_05 = m0_1_1.y + m0_1_2.w + m0_1_4.y + m0_1_5.w + m0_1_7.y;
        let s0_1_10 = m0_1_1.z - m0_1_3.x + 2.0 * m0_1_4.z - 2.0 * m0_1_6.x;
        let s0_1_11 = m0_1_1.w - m0_1_3.y + 2.0 * m0_1_4.w - 2.0 * m0_1_6.y;
        let s0_1_12 = m0_1_2.x - m0_1_3.z + 2.0 * m0_1_5.x - 2.0 * m0_1_6.z;
        let s0_1_13 = m0_1_2.y - m0_1_3.w + 2.0 * m0_1_5.y - 2.0 * m0_1_6.w;
        let s0_1_14 = m0_1_2.z - m0_1_4.x + 2.0 * m0_1_5.z - 2.0 * m0_1_7.x;
        let s0_1_15 = m0_1_2.w - m0_1_4.y + 2.0 * m0_1_5.w - 2.0 * m0_1_7.y;
        let s0_1_20 = m0_1_1.z + m0_1_3.x + 4.0 * m0_1_4.z + 4.0 * m0_1_6.x;
        let s0_1_21 = m0_1_1.w + m0_1_3.y + 4.0 * m0_1_4.w + 4.0 * m0_1_6.y;
        let s0_1_22 = m0_1_2.x + m0_1_3.z + 4.0 * m0_1_5.x + 4.0 * m0_1_6.z;
        let s0_1_23 = m0_1_2.y + m0_1_3.w + 4.0 * m0_1_5.y + 4.0 * m0_1_6.w;
        let s0_1_24 = m0_1_2.z + m0_1_4.x + 4.0 * m0_1_5.z + 4.0 * m0_1_7.x;
        let s0_1_25 = m0_1_2.w + m0_1_4.y + 4.0 * m0_1_5.w + 4.0 * m0_1_7.y;
        let s0_1_30 = m0_1_1.z - m0_1_3.x + 8.0 * m0_1_4.z - 8.0 * m0_1_6.x + m0_1_7.z;
        let s0_1_31 = m0_1_1.w - m0_1_3.y + 8.0 * m0_1_4.w - 8.0 * m0_1_6.y + m0_1_7.w;
        let s0_1_32 = m0_1_2.x - m0_1_3.z + 8.0 * m0_1_5.x - 8.0 * m0_1_6.z + m0_1_8.x;
        let s0_1_33 = m0_1_2.y - m0_1_3.w + 8.0 * m0_1_5.y - 8.0 * m0_1_6.w + m0_1_8.y;
        let s0_1_34 = m0_1_2.z - m0_1_4.x + 8.0 * m0_1_5.z - 8.0 * m0_1_7.x + m0_1_8.z;
        let s0_1_35 = m0_1_2.w - m0_1_4.y + 8.0 * m0_1_5.w - 8.0 * m0_1_7.y + m0_1_8.w;
        store4(s, p.co0 + 0u, 0u, 1u, vec4<f32>(s0_1_00 + s0_1_01 + s0_1_02 + s0_1_03 + s0_1_04, s0_1_01 - s0_1_02 + 2.0 * s0_1_03 - 2.0 * s0_1_04, s0_1_01 + s0_1_02 + 4.0 * s0_1_03 + 4.0 * s0_1_04, s0_1_01 - s0_1_02 + 8.0 * s0_1_03 - 8.0 * s0_1_04 + s0_1_05), bv0);
        store4(s, p.co0 + 0u, 1u, 1u, vec4<f32>(s0_1_10 + s0_1_11 + s0_1_12 + s0_1_13 + s0_1_14, s0_1_11 - s0_1_12 + 2.0 * s0_1_13 - 2.0 * s0_1_14, s0_1_11 + s0_1_12 + 4.0 * s0_1_13 + 4.0 * s0_1_14, s0_1_11 - s0_1_12 + 8.0 * s0_1_13 - 8.0 * s0_1_14 + s0_1_15), bv0);
        store4(s, p.co0 + 0u, 2u, 1u, vec4<f32>(s0_1_20 + s0_1_21 + s0_1_22 + s0_1_23 + s0_1_24, s0_1_21 - s0_1_22 + 2.0 * s0_1_23 - 2.0 * s0_1_24, s0_1_21 + s0_1_22 + 4.0 * s0_1_23 + 4.0 * s0_1_24, s0_1_21 - s0_1_22 + 8.0 * s0_1_23 - 8.0 * s0_1_24 + s0_1_25), bv0);
        store4(s, p.co0 + 0u, 3u, 1u, vec4<f32>(s0_1_30 + s0_1_31 + s0_1_32 + s0_1_33 + s0_1_34, s0_1_31 - s0_1_32 + 2.0 * s0_1_33 - 2.0 * s0_1_34, s0_1_31 + s0_1_32 + 4.0 * s0_1_33 + 4.0 * s0_1_34, s0_1_31 - s0_1_32 + 8.0 * s0_1_33 - 8.0 * s0_1_34 + s0_1_35), bv0);
    }
    if (p.co0 + 1u < p.cout) {
        var bv1 = 0.0;
        if (p.has_bias != 0u && p.first != 0u) { bv1 = src[p.co0 + 1u]; }
        let s1_0_00 = m1_0_0.x + m1_0_1.z + m1_0_3.x + m1_0_4.z + m1_0_6.x;
        let s1_0_01 = m1_0_0.y + m1_0_1.w + m1_0_3.y + m1_0_4.w + m1_0_6.y;
        let s1_0_02 = m1_0_0.z + m1_0_2.x + m1_0_3.z + m1_0_5.x + m1_0_6.z;
        let s1_0_03 = m1_0_0.w + m1_0_2.y + m1_0_3.w + m1_0_5.y + m1_0_6.w;
        let s1_0_04 = m1_0_1.x + m1_0_2.z + m1_0_4.x + m1_0_5.z + m1_0_7.x;
        let s1_0_05 = m1_0_1.y + m1_0_2.w + m1_0_4.y + m1_0_5.w + m1_0_7.y;
        let s1_0_10 = m1_0_1.z - m1_0_3.x + 2.0 * m1_0_4.z - 2.0 * m1_0_6.x;
        let s1_0_11 = m1_0_1.w - m1_0_3.y + 2.0 * m1_0_4.w - 2.0 * m1_0_6.y;
        let s1_0_12 = m1_0_2.x - m1_0_3.z + 2.0 * m1_0_5.x - 2.0 * m1_0_6.z;
        let s1_0_13 = m1_0_2.y - m1_0_3.w + 2.0 * m1_0_5.y - 2.0 * m1_0_6.w;
        let s1_0_14 = m1_0_2.z - m1_0_4.x + 2.0 * m1_0_5.z - 2.0 * m1_0_7.x;
        let s1_0_15 = m1_0_2.w - m1_0_4.y + 2.0 * m1_0_5.w - 2.0 * m1_0_7.y;
        let s1_0_20 = m1_0_1.z + m1_0_3.x + 4.0 * m1_0_4.z + 4.0 * m1_0_6.x;
        let s1_0_21 = m1_0_1.w + m1_0_3.y + 4.0 * m1_0_4.w + 4.0 * m1_0_6.y;
        let s1_0_22 = m1_0_2.x + m1_0_3.z + 4.0 * m1_0_5.x + 4.0 * m1_0_6.z;
        let s1_0_23 = m1_0_2.y + m1_0_3.w + 4.0 * m1_0_5.y + 4.0 * m1_0_6.w;
        let s1_0_24 = m1_0_2.z + m1_0_4.x + 4.0 * m1_0_5.z + 4.0 * m1_0_7.x;
        let s1_0_25 = m1_0_2.w + m1_0_4.y + 4.0 * m1_0_5.w + 4.0 * m1_0_7.y;
        let s1_0_30 = m1_0_1.z - m1_0_3.x + 8.0 * m1_0_4.z - 8.0 * m1_0_6.x + m1_0_7.z;
        let s1_0_31 = m1_0_1.w - m1_0_3.y + 8.0 * m1_0_4.w - 8.0 * m1_0_6.y + m1_0_7.w;
        let s1_0_32 = m1_0_2.x - m1_0_3.z + 8.0 * m1_0_5.x - 8.0 * m1_0_6.z + m1_0_8.x;
        let s1_0_33 = m1_0_2.y - m1_0_3.w + 8.0 * m1_0_5.y - 8.0 * m1_0_6.w + m1_0_8.y;
        let s1_0_34 = m1_0_2.z - m1_0_4.x + 8.0 * m1_0_5.z - 8.0 * m1_0_7.x + m1_0_8.z;
        let s1_0_35 = m1_0_2.w - m1_0_4.y + 8.0 * m1_0_5.w - 8.0 * m1_0_7.y + m1_0_8.w;
        store4(s, p.co0 + 1u, 0u, 0u, vec4<f32>(s1_0_00 + s1_0_01 + s1_0_02 + s1_0_03 + s1_0_04, s1_0_01 - s1_0_02 + 2.0 * s1_0_03 - 2.0 * s1_0_04, s1_0_01 + s1_0_02 + 4.0 * s1_0_03 + 4.0 * s1_0_04, s1_0_01 - s1_0_02 + 8.0 * s1_0_03 - 8.0 * s1_0_04 + s1_0_05), bv1);
        store4(s, p.co0 + 1u, 1u, 0u, vec4<f32>(s1_0_10 + s1_0_11 + s1_0_12 + s1_0_13 + s1_0_14, s1_0_11 - s1_0_12 + 2.0 * s1_0_13 - 2.0 * s1_0_14, s1_0_11 + s1_0_12 + 4.0 * s1_0_13 + 4.0 * s1_0_14, s1_0_11 - s1_0_12 + 8.0 * s1_0_13 - 8.0 * s1_0_14 + s1_0_15), bv1);
        store4(s, p.co0 + 1u, 2u, 0u, vec4<f32>(s1_0_20 + s1_0_21 + s1_0_22 + s1_0_23 + s1_0_24, s1_0_21 - s1_0_22 + 2.0 * s1_0_23 - 2.0 * s1_0_24, s1_0_21 + s1_0_22 + 4.0 * s1_0_23 + 4.0 * s1_0_24, s1_0_21 - s1_0_22 + 8.0 * s1_0_23 - 8.0 * s1_0_24 + s1_0_25), bv1);
        store4(s, p.co0 + 1u, 3u, 0u, vec4<f32>(s1_0_30 + s1_0_31 + s1_0_32 + s1_0_33 + s1_0_34, s1_0_31 - s1_0_32 + 2.0 * s1_0_33 - 2.0 * s1_0_34, s1_0_31 + s1_0_32 + 4.0 * s1_0_33 + 4.0 * s1_0_34, s1_0_31 - s1_0_32 + 8.0 * s1_0_33 - 8.0 * s1_0_34 + s1_0_35), bv1);
        let s1_1_00 = m1_1_0.x + m1_1_1.z + m1_1_3.x + m1_1_4.z + m1_1_6.x;
        let s1_1_01 = m1_1_0.y + m1_1_1.w + m1_1_3.y + m1_1_4.w + m1_1_6.y;
        let s1_1_02 = m1_1_0.z + m1_1_2.x + m1_1_3.z + m1_1_5.x + m1_1_6.z;
        let s1_1_03 = m1_1_0.w + m1_1_2.y + m1_1_3.w + m1_1_5.y + m1_1_6.w;
        let s1_1_04 = m1_1_1.x + m1_1_2.z + m1_1_4.x + m1_1_5.z + m1_1_7.x;
        let s1_1_05 = m1_1_1.y + m1_1_2.w + m1_1_4.y + m1_1_5.w + m1_1_7.y;
        let s1_1_10 = m1_1_1.z - m1_1_3.x + 2.0 * m1_1_4.z - 2.0 * m1_1_6.x;
        let s1_1_11 = m1_1_1.w - m1_1_3.y + 2.0 * m1_1_4.w - 2.0 * m1_1_6.y;
        let s1_1_12 = m1_1_2.x - m1_1_3.z + 2.0 * m1_1_5.x - 2.0 * m1_1_6.z;
        let s1_1_13 = m1_1_2.y - m1_1_3.w + 2.0 * m1_1_5.y - 2.0 * m1_1_6.w;
        let s1_1_14 = m1_1_2.z - m1_1_4.x + 2.0 * m1_1_5.z - 2.0 * m1_1_7.x;
        let s1_1_15 = m1_1_2.w - m1_1_4.y + 2.0 * m1_1_5.w - 2.0 * m1_1_7.y;
        let s1_1_20 = m1_1_1.z + m1_1_3.x + 4.0 * m1_1_4.z + 4.0 * m1_1_6.x;
        let s1_1_21 = m1_1_1.w + m1_1_3.y + 4.0 * m1_1_4.w + 4.0 * m1_1_6.y;
        let s1_1_22 = m1_1_2.x + m1_1_3.z + 4.0 * m1_1_5.x + 4.0 * m1_1_6.z;
        let s1_1_23 = m1_1_2.y + m1_1_3.w + 4.0 * m1_1_5.y + 4.0 * m1_1_6.w;
        let s1_1_24 = m1_1_2.z + m1_1_4.x + 4.0 * m1_1_5.z + 4.0 * m1_1_7.x;
        let s1_1_25 = m1_1_2.w + m1_1_4.y + 4.0 * m1_1_5.w + 4.0 * m1_1_7.y;
        let s1_1_30 = m1_1_1.z - m1_1_3.x + 8.0 * m1_1_4.z - 8.0 * m1_1_6.x + m1_1_7.z;
        let s1_1_31 = m1_1_1.w - m1_1_3.y + 8.0 * m1_1_4.w - 8.0 * m1_1_6.y + m1_1_7.w;
        let s1_1_32 = m1_1_2.x - m1_1_3.z + 8.0 * m1_1_5.x - 8.0 * m1_1_6.z + m1_1_8.x;
        let s1_1_33 = m1_1_2.y - m1_1_3.w + 8.0 * m1_1_5.y - 8.0 * m1_1_6.w + m1_1_8.y;
        let s1_1_34 = m1_1_2.z - m1_1_4.x + 8.0 * m1_1_5.z - 8.0 * m1_1_7.x + m1_1_8.z;
        let s1_1_35 = m1_1_2.w - m1_1_4.y + 8.0 * m1_1_5.w - 8.0 * m1_1_7.y + m1_1_8.w;
        store4(s, p.co0 + 1u, 0u, 1u, vec4<f32>(s1_1_00 + s1_1_01 + s1_1_02 + s1_1_03 + s1_1_04, s1_1_01 - s1_1_02 + 2.0 * s1_1_03 - 2.0 * s1_1_04, s1_1_01 + s1_1_02 + 4.0 * s1_1_03 + 4.0 * s1_1_04, s1_1_01 - s1_1_02 + 8.0 * s1_1_03 - 8.0 * s1_1_04 + s1_1_05), bv1);
        store4(s, p.co0 + 1u, 1u, 1u, vec4<f32>(s1_1_10 + s1_1_11 + s1_1_12 + s1_1_13 + s1_1_14, s1_1_11 - s1_1_12 + 2.0 * s1_1_13 - 2.0 * s1_1_14, s1_1_11 + s1_1_12 + 4.0 * s1_1_13 + 4.0 * s1_1_14, s1_1_11 - s1_1_12 + 8.0 * s1_1_13 - 8.0 * s1_1_14 + s1_1_15), bv1);
        store4(s, p.co0 + 1u, 2u, 1u, vec4<f32>(s1_1_20 + s1_1_21 + s1_1_22 + s1_1_23 + s1_1_24, s1_1_21 - s1_1_22 + 2.0 * s1_1_23 - 2.0 * s1_1_24, s1_1_21 + s1_1_22 + 4.0 * s1_1_23 + 4.0 * s1_1_24, s1_1_21 - s1_1_22 + 8.0 * s1_1_23 - 8.0 * s1_1_24 + s1_1_25), bv1);
        store4(s, p.co0 + 1u, 3u, 1u, vec4<f32>(s1_1_30 + s1_1_31 + s1_1_32 + s1_1_33 + s1_1_34, s1_1_31 - s1_1_32 + 2.0 * s1_1_33 - 2.0 * s1_1_34, s1_1_31 + s1_1_32 + 4.0 * s1_1_33 + 4.0 * s1_1_34, s1_1_31 - s1_1_32 + 8.0 * s1_1_33 - 8.0 * s1_1_34 + s1_1_35), bv1);
    }
    if (p.co0 + 2u < p.cout) {
        var bv2 = 0.0;
        if (p.has_bias != 0u && p.first != 0u) { bv2 = src[p.co0 + 2u]; }
        let s2_0_00 = m2_0_0.x + m2_0_1.z + m2_0_3.x + m2_0_4.z + m2_0_6.x;
        let s2_0_01 = m2_0_0.y + m2_0_1.w + m2_0_3.y + m2_0_4.w + m2_0_6.y;
        let s2_0_02 = m2_0_0.z + m2_0_2.x + m2_0_3.z + m2_0_5.x + m2_0_6.z;
        let s2_0_03 = m2_0_0.w + m2_0_2.y + m2_0_3.w + m2_0_5.y + m2_0_6.w;
        let s2_0_04 = m2_0_1.x + m2_0_2.z + m2_0_4.x + m2_0_5.z + m2_0_7.x;
        let s2_0_05 = m2_0_1.y + m2_0_2.w + m2_0_4.y + m2_0_5.w + m2_0_7.y;
        let s2_0_10 = m2_0_1.z - m2_0_3.x + 2.0 * m2_0_4.z - 2.0 * m2_0_6.x;
        let s2_0_11 = m2_0_1.w - m2_0_3.y + 2.0 * m2_0_4.w - 2.0 * m2_0_6.y;
        let s2_0_12 = m2_0_2.x - m2_0_3.z + 2.0 * m2_0_5.x - 2.0 * m2_0_6.z;
        let s2_0_13 = m2_0_2.y - m2_0_3.w + 2.0 * m2_0_5.y - 2.0 * m2_0_6.w;
        let s2_0_14 = m2_0_2.z - m2_0_4.x + 2.0 * m2_0_5.z - 2.0 * m2_0_7.x;
        let s2_0_15 = m2_0_2.w - m2_0_4.y + 2.0 * m2_0_5.w - 2.0 * m2_0_7.y;
        let s2_0_20 = m2_0_1.z + m2_0_3.x + 4.0 * m2_0_4.z + 4.0 * m2_0_6.x;
        let s2_0_21 = m2_0_1.w + m2_0_3.y + 4.0 * m2_0_4.w + 4.0 * m2_0_6.y;
        let s2_0_22 = m2_0_2.x + m2_0_3.z + 4.0 * m2_0_5.x + 4.0 * m2_0_6.z;
        let s2_0_23 = m2_0_2.y + m2_0_3.w + 4.0 * m2_0_5.y + 4.0 * m2_0_6.w;
        let s2_0_24 = m2_0_2.z + m2_0_4.x + 4.0 * m2_0_5.z + 4.0 * m2_0_7.x;
        let s2_0_25 = m2_0_2.w + m2_0_4.y + 4.0 * m2_0_5.w + 4.0 * m2_0_7.y;
        let s2_0_30 = m2_0_1.z - m2_0_3.x + 8.0 * m2_0_4.z - 8.0 * m2_0_6.x + m2_0_7.z;
        let s2_0_31 = m2_0_1.w - m2_0_3.y + 8.0 * m2_0_4.w - 8.0 * m2_0_6.y + m2_0_7.w;
        let s2_0_32 = m2_0_2.x - m2_0_3.z + 8.0 * m2_0_5.x - 8.0 * m2_0_6.z + m2_0_8.x;
        let s2_0_33 = m2_0_2.y - m2_0_3.w + 8.0 * m2_0_5.y - 8.0 * m2_0_6.w + m2_0_8.y;
        let s2_0_34 = m2_0_2.z - m2_0_4.x + 8.0 * m2_0_5.z - 8.0 * m2_0_7.x + m2_0_8.z;
        let s2_0_35 = m2_0_2.w - m2_0_4.y + 8.0 * m2_0_5.w - 8.0 * m2_0_7.y + m2_0_8.w;
        store4(s, p.co0 + 2u, 0u, 0u, vec4<f32>(s2_0_00 + s2_0_01 + s2_0_02 + s2_0_03 + s2_0_04, s2_0_01 - s2_0_02 + 2.0 * s2_0_03 - 2.0 * s2_0_04, s2_0_01 + s2_0_02 + 4.0 * s2_0_03 + 4.0 * s2_0_04, s2_0_01 - s2_0_02 + 8.0 * s2_0_03 - 8.0 * s2_0_04 + s2_0_05), bv2);
        store4(s, p.co0 + 2u, 1u, 0u, vec4<f32>(s2_0_10 + s2_0_11 + s2_0_12 + s2_0_13 + s2_0_14, s2_0_11 - s2_0_12 + 2.0 * s2_0_13 - 2.0 * s2_0_14, s2_0_11 + s2_0_12 + 4.0 * s2_0_13 + 4.0 * s2_0_14, s2_0_11 - s2_0_12 + 8.0 * s2_0_13 - 8.0 * s2_0_14 + s2_0_15), bv2);
        store4(s, p.co0 + 2u, 2u, 0u, vec4<f32>(s2_0_20 + s2_0_21 + s2_0_22 + s2_0_23 + s2_0_24, s2_0_21 - s2_0_22 + 2.0 * s2_0_23 - 2.0 * s2_0_24, s2_0_21 + s2_0_22 + 4.0 * s2_0_23 + 4.0 * s2_0_24, s2_0_21 - s2_0_22 + 8.0 * s2_0_23 - 8.0 * s2_0_24 + s2_0_25), bv2);
        store4(s, p.co0 + 2u, 3u, 0u, vec4<f32>(s2_0_30 + s2_0_31 + s2_0_32 + s2_0_33 + s2_0_34, s2_0_31 - s2_0_32 + 2.0 * s2_0_33 - 2.0 * s2_0_34, s2_0_31 + s2_0_32 + 4.0 * s2_0_33 + 4.0 * s2_0_34, s2_0_31 - s2_0_32 + 8.0 * s2_0_33 - 8.0 * s2_0_34 + s2_0_35), bv2);
        let s2_1_00 = m2_1_0.x + m2_1_1.z + m2_1_3.x + m2_1_4.z + m2_1_6.x;
        let s2_1_01 = m2_1_0.y + m2_1_1.w + m2_1_3.y + m2_1_4.w + m2_1_6.y;
        let s2_1_02 = m2_1_0.z + m2_1_2.x + m2_1_3.z + m2_1_5.x + m2_1_6.z;
        let s2_1_03 = m2_1_0.w + m2_1_2.y + m2_1_3.w + m2_1_5.y + m2_1_6.w;
        let s2_1_04 = m2_1_1.x + m2_1_2.z + m2_1_4.x + m2_1_5.z + m2_1_7.x;
        let s2_1_05 = m2_1_1.y + m2_1_2.w + m2_1_4.y + m2_1_5.w + m2_1_7.y;
        let s2_1_10 = m2_1_1.z - m2_1_3.x + 2.0 * m2_1_4.z - 2.0 * m2_1_6.x;
        let s2_1_11 = m2_1_1.w - m2_1_3.y + 2.0 * m2_1_4.w - 2.0 * m2_1_6.y;
        let s2_1_12 = m2_1_2.x - m2_1_3.z + 2.0 * m2_1_5.x - 2.0 * m2_1_6.z;
        let s2_1_13 = m2_1_2.y - m2_1_3.w + 2.0 * m2_1_5.y - 2.0 * m2_1_6.w;
        let s2_1_14 = m2_1_2.z - m2_1_4.x + 2.0 * m2_1_5.z - 2.0 * m2_1_7.x;
        let s2_1_15 = m2_1_2.w - m2_1_4.y + 2.0 * m2_1_5.w - 2.0 * m2_1_7.y;
        let s2_1_20 = m2_1_1.z + m2_1_3.x + 4.0 * m2_1_4.z + 4.0 * m2_1_6.x;
        let s2_1_21 = m2_1_1.w + m2_1_3.y + 4.0 * m2_1_4.w + 4.0 * m2_1_6.y;
        let s2_1_22 = m2_1_2.x + m2_1_3.z + 4.0 * m2_1_5.x + 4.0 * m2_1_6.z;
        let s2_1_23 = m2_1_2.y + m2_1_3.w + 4.0 * m2_1_5.y + 4.0 * m2_1_6.w;
        let s2_1_24 = m2_1_2.z + m2_1_4.x + 4.0 * m2_1_5.z + 4.0 * m2_1_7.x;
        let s2_1_25 = m2_1_2.w + m2_1_4.y + 4.0 * m2_1_5.w + 4.0 * m2_1_7.y;
        let s2_1_30 = m2_1_1.z - m2_1_3.x + 8.0 * m2_1_4.z - 8.0 * m2_1_6.x + m2_1_7.z;
        let s2_1_31 = m2_1_1.w - m2_1_3.y + 8.0 * m2_1_4.w - 8.0 * m2_1_6.y + m2_1_7.w;
        let s2_1_32 = m2_1_2.x - m2_1_3.z + 8.0 * m2_1_5.x - 8.0 * m2_1_6.z + m2_1_8.x;
        let s2_1_33 = m2_1_2.y - m2_1_3.w + 8.0 * m2_1_5.y - 8.0 * m2_1_6.w + m2_1_8.y;
        let s2_1_34 = m2_1_2.z - m2_1_4.x + 8.0 * m2_1_5.z - 8.0 * m2_1_7.x + m2_1_8.z;
        let s2_1_35 = m2_1_2.w - m2_1_4.y + 8.0 * m2_1_5.w - 8.0 * m2_1_7.y + m2_1_8.w;
        store4(s, p.co0 + 2u, 0u, 1u, vec4<f32>(s2_1_00 + s2_1_01 + s2_1_02 + s2_1_03 + s2_1_04, s2_1_01 - s2_1_02 + 2.0 * s2_1_03 - 2.0 * s2_1_04, s2_1_01 + s2_1_02 + 4.0 * s2_1_03 + 4.0 * s2_1_04, s2_1_01 - s2_1_02 + 8.0 * s2_1_03 - 8.0 * s2_1_04 + s2_1_05), bv2);
        store4(s, p.co0 + 2u, 1u, 1u, vec4<f32>(s2_1_10 + s2_1_11 + s2_1_12 + s2_1_13 + s2_1_14, s2_1_11 - s2_1_12 + 2.0 * s2_1_13 - 2.0 * s2_1_14, s2_1_11 + s2_1_12 + 4.0 * s2_1_13 + 4.0 * s2_1_14, s2_1_11 - s2_1_12 + 8.0 * s2_1_13 - 8.0 * s2_1_14 + s2_1_15), bv2);
        store4(s, p.co0 + 2u, 2u, 1u, vec4<f32>(s2_1_20 + s2_1_21 + s2_1_22 + s2_1_23 + s2_1_24, s2_1_21 - s2_1_22 + 2.0 * s2_1_23 - 2.0 * s2_1_24, s2_1_21 + s2_1_22 + 4.0 * s2_1_23 + 4.0 * s2_1_24, s2_1_21 - s2_1_22 + 8.0 * s2_1_23 - 8.0 * s2_1_24 + s2_1_25), bv2);
        store4(s, p.co0 + 2u, 3u, 1u, vec4<f32>(s2_1_30 + s2_1_31 + s2_1_32 + s2_1_33 + s2_1_34, s2_1_31 - s2_1_32 + 2.0 * s2_1_33 - 2.0 * s2_1_34, s2_1_31 + s2_1_32 + 4.0 * s2_1_33 + 4.0 * s2_1_34, s2_1_31 - s2_1_32 + 8.0 * s2_1_33 - 8.0 * s2_1_34 + s2_1_35), bv2);
    }
    if (p.co0 + 3u < p.cout) {
        var bv3 = 0.0;
        if (p.has_bias != 0u && p.first != 0u) { bv3 = src[p.co0 + 3u]; }
        let s3_0_00 = m3_0_0.x + m3_0_1.z + m3_0_3.x + m3_0_4.z + m3_0_6.x;
        let s3_0_01 = m3_0_0.y + m3_0_1.w + m3_0_3.y + m3_0_4.w + m3_0_6.y;
        let s3_0_02 = m3_0_0.z + m3_0_2.x + m3_0_3.z + m3_0_5.x + m3_0_6.z;
        let s3_0_03 = m3_0_0.w + m3_0_2.y + m3_0_3.w + m3_0_5.y + m3_0_6.w;
        let s3_0_04 = m3_0_1.x + m3_0_2.z + m3_0_4.x + m3_0_5.z + m3_0_7.x;
        let s3_0_05 = m3_0_1.y + m3_0_2.w + m3_0_4.y + m3_0_5.w + m3_0_7.y;
        let s3_0_10 = m3_0_1.z - m3_0_3.x + 2.0 * m3_0_4.z - 2.0 * m3_0_6.x;
        let s3_0_11 = m3_0_1.w - m3_0_3.y + 2.0 * m3_0_4.w - 2.0 * m3_0_6.y;
        let s3_0_12 = m3_0_2.x - m3_0_3.z + 2.0 * m3_0_5.x - 2.0 * m3_0_6.z;
        let s3_0_13 = m3_0_2.y - m3_0_3.w + 2.0 * m3_0_5.y - 2.0 * m3_0_6.w;
        let s3_0_14 = m3_0_2.z - m3_0_4.x + 2.0 * m3_0_5.z - 2.0 * m3_0_7.x;
        let s3_0_15 = m3_0_2.w - m3_0_4.y + 2.0 * m3_0_5.w - 2.0 * m3_0_7.y;
        let s3_0_20 = m3_0_1.z + m3_0_3.x + 4.0 * m3_0_4.z + 4.0 * m3_0_6.x;
        let s3_0_21 = m3_0_1.w + m3_0_3.y + 4.0 * m3_0_4.w + 4.0 * m3_0_6.y;
        let s3_0_22 = m3_0_2.x + m3_0_3.z + 4.0 * m3_0_5.x + 4.0 * m3_0_6.z;
        let s3_0_23 = m3_0_2.y + m3_0_3.w + 4.0 * m3_0_5.y + 4.0 * m3_0_6.w;
        let s3_0_24 = m3_0_2.z + m3_0_4.x + 4.0 * m3_0_5.z + 4.0 * m3_0_7.x;
        let s3_0_25 = m3_0_2.w + m3_0_4.y + 4.0 * m3_0_5.w + 4.0 * m3_0_7.y;
        let s3_0_30 = m3_0_1.z - m3_0_3.x + 8.0 * m3_0_4.z - 8.0 * m3_0_6.x + m3_0_7.z;
        let s3_0_31 = m3_0_1.w - m3_0_3.y + 8.0 * m3_0_4.w - 8.0 * m3_0_6.y + m3_0_7.w;
        let s3_0_32 = m3_0_2.x - m3_0_3.z + 8.0 * m3_0_5.x - 8.0 * m3_0_6.z + m3_0_8.x;
        let s3_0_33 = m3_0_2.y - m3_0_3.w + 8.0 * m3_0_5.y - 8.0 * m3_0_6.w + m3_0_8.y;
        let s3_0_34 = m3_0_2.z - m3_0_4.x + 8.0 * m3_0_5.z - 8.0 * m3_0_7.x + m3_0_8.z;
        let s3_0_35 = m3_0_2.w - m3_0_4.y + 8.0 * m3_0_5.w - 8.0 * m3_0_7.y + m3_0_8.w;
        store4(s, p.co0 + 3u, 0u, 0u, vec4<f32>(s3_0_00 + s3_0_01 + s3_0_02 + s3_0_03 + s3_0_04, s3_0_01 - s3_0_02 + 2.0 * s3_0_03 - 2.0 * s3_0_04, s3_0_01 + s3_0_02 + 4.0 * s3_0_03 + 4.0 * s3_0_04, s3_0_01 - s3_0_02 + 8.0 * s3_0_03 - 8.0 * s3_0_04 + s3_0_05), bv3);
        store4(s, p.co0 + 3u, 1u, 0u, vec4<f32>(s3_0_10 + s3_0_11 + s3_0_12 + s3_0_13 + s3_0_14, s3_0_11 - s3_0_12 + 2.0 * s3_0_13 - 2.0 * s3_0_14, s3_0_11 + s3_0_12 + 4.0 * s3_0_13 + 4.0 * s3_0_14, s3_0_11 - s3_0_12 + 8.0 * s3_0_13 - 8.0 * s3_0_14 + s3_0_15), bv3);
        store4(s, p.co0 + 3u, 2u, 0u, vec4<f32>(s3_0_20 + s3_0_21 + s3_0_22 + s3_0_23 + s3_0_24, s3_0_21 - s3_0_22 + 2.0 * s3_0_23 - 2.0 * s3_0_24, s3_0_21 + s3_0_22 + 4.0 * s3_0_23 + 4.0 * s3_0_24, s3_0_21 - s3_0_22 + 8.0 * s3_0_23 - 8.0 * s3_0_24 + s3_0_25), bv3);
        store4(s, p.co0 + 3u, 3u, 0u, vec4<f32>(s3_0_30 + s3_0_31 + s3_0_32 + s3_0_33 + s3_0_34, s3_0_31 - s3_0_32 + 2.0 * s3_0_33 - 2.0 * s3_0_34, s3_0_31 + s3_0_32 + 4.0 * s3_0_33 + 4.0 * s3_0_34, s3_0_31 - s3_0_32 + 8.0 * s3_0_33 - 8.0 * s3_0_34 + s3_0_35), bv3);
        let s3_1_00 = m3_1_0.x + m3_1_1.z + m3_1_3.x + m3_1_4.z + m3_1_6.x;
        let s3_1_01 = m3_1_0.y + m3_1_1.w + m3_1_3.y + m3_1_4.w + m3_1_6.y;
        let s3_1_02 = m3_1_0.z + m3_1_2.x + m3_1_3.z + m3_1_5.x + m3_1_6.z;
        let s3_1_03 = m3_1_0.w + m3_1_2.y + m3_1_3.w + m3_1_5.y + m3_1_6.w;
        let s3_1_04 = m3_1_1.x + m3_1_2.z + m3_1_4.x + m3_1_5.z + m3_1_7.x;
        let s3_1_05 = m3_1_1.y + m3_1_2.w + m3_1_4.y + m3_1_5.w + m3_1_7.y;
        let s3_1_10 = m3_1_1.z - m3_1_3.x + 2.0 * m3_1_4.z - 2.0 * m3_1_6.x;
        let s3_1_11 = m3_1_1.w - m3_1_3.y + 2.0 * m3_1_4.w - 2.0 * m3_1_6.y;
        let s3_1_12 = m3_1_2.x - m3_1_3.z + 2.0 * m3_1_5.x - 2.0 * m3_1_6.z;
        let s3_1_13 = m3_1_2.y - m3_1_3.w + 2.0 * m3_1_5.y - 2.0 * m3_1_6.w;
        let s3_1_14 = m3_1_2.z - m3_1_4.x + 2.0 * m3_1_5.z - 2.0 * m3_1_7.x;
        let s3_1_15 = m3_1_2.w - m3_1_4.y + 2.0 * m3_1_5.w - 2.0 * m3_1_7.y;
        let s3_1_20 = m3_1_1.z + m3_1_3.x + 4.0 * m3_1_4.z + 4.0 * m3_1_6.x;
        let s3_1_21 = m3_1_1.w + m3_1_3.y + 4.0 * m3_1_4.w + 4.0 * m3_1_6.y;
        let s3_1_22 = m3_1_2.x + m3_1_3.z + 4.0 * m3_1_5.x + 4.0 * m3_1_6.z;
        let s3_1_23 = m3_1_2.y + m3_1_3.w + 4.0 * m3_1_5.y + 4.0 * m3_1_6.w;
        let s3_1_24 = m3_1_2.z + m3_1_4.x + 4.0 * m3_1_5.z + 4.0 * m3_1_7.x;
        let s3_1_25 = m3_1_2.w + m3_1_4.y + 4.0 * m3_1_5.w + 4.0 * m3_1_7.y;
        let s3_1_30 = m3_1_1.z - m3_1_3.x + 8.0 * m3_1_4.z - 8.0 * m3_1_6.x + m3_1_7.z;
        let s3_1_31 = m3_1_1.w - m3_1_3.y + 8.0 * m3_1_4.w - 8.0 * m3_1_6.y + m3_1_7.w;
        let s3_1_32 = m3_1_2.x - m3_1_3.z + 8.0 * m3_1_5.x - 8.0 * m3_1_6.z + m3_1_8.x;
        let s3_1_33 = m3_1_2.y - m3_1_3.w + 8.0 * m3_1_5.y - 8.0 * m3_1_6.w + m3_1_8.y;
        let s3_1_34 = m3_1_2.z - m3_1_4.x + 8.0 * m3_1_5.z - 8.0 * m3_1_7.x + m3_1_8.z;
        let s3_1_35 = m3_1_2.w - m3_1_4.y + 8.0 * m3_1_5.w - 8.0 * m3_1_7.y + m3_1_8.w;
        store4(s, p.co0 + 3u, 0u, 1u, vec4<f32>(s3_1_00 + s3_1_01 + s3_1_02 + s3_1_03 + s3_1_04, s3_1_01 - s3_1_02 + 2.0 * s3_1_03 - 2.0 * s3_1_04, s3_1_01 + s3_1_02 + 4.0 * s3_1_03 + 4.0 * s3_1_04, s3_1_01 - s3_1_02 + 8.0 * s3_1_03 - 8.0 * s3_1_04 + s3_1_05), bv3);
        store4(s, p.co0 + 3u, 1u, 1u, vec4<f32>(s3_1_10 + s3_1_11 + s3_1_12 + s3_1_13 + s3_1_14, s3_1_11 - s3_1_12 + 2.0 * s3_1_13 - 2.0 * s3_1_14, s3_1_11 + s3_1_12 + 4.0 * s3_1_13 + 4.0 * s3_1_14, s3_1_11 - s3_1_12 + 8.0 * s3_1_13 - 8.0 * s3_1_14 + s3_1_15), bv3);
        store4(s, p.co0 + 3u, 2u, 1u, vec4<f32>(s3_1_20 + s3_1_21 + s3_1_22 + s3_1_23 + s3_1_24, s3_1_21 - s3_1_22 + 2.0 * s3_1_23 - 2.0 * s3_1_24, s3_1_21 + s3_1_22 + 4.0 * s3_1_23 + 4.0 * s3_1_24, s3_1_21 - s3_1_22 + 8.0 * s3_1_23 - 8.0 * s3_1_24 + s3_1_25), bv3);
        store4(s, p.co0 + 3u, 3u, 1u, vec4<f32>(s3_1_30 + s3_1_31 + s3_1_32 + s3_1_33 + s3_1_34, s3_1_31 - s3_1_32 + 2.0 * s3_1_33 - 2.0 * s3_1_34, s3_1_31 + s3_1_32 + 4.0 * s3_1_33 + 4.0 * s3_1_34, s3_1_31 - s3_1_32 + 8.0 * s3_1_33 - 8.0 * s3_1_34 + s3_1_35), bv3);
    }
    if (p.co0 + 4u < p.cout) {
        var bv4 = 0.0;
        if (p.has_bias != 0u && p.first != 0u) { bv4 = src[p.co0 + 4u]; }
        let s4_0_00 = m4_0_0.x + m4_0_1.z + m4_0_3.x + m4_0_4.z + m4_0_6.x;
        let s4_0_01 = m4_0_0.y + m4_0_1.w + m4_0_3.y + m4_0_4.w + m4_0_6.y;
        let s4_0_02 = m4_0_0.z + m4_0_2.x + m4_0_3.z + m4_0_5.x + m4_0_6.z;
        let s4_0_03 = m4_0_0.w + m4_0_2.y + m4_0_3.w + m4_0_5.y + m4_0_6.w;
        let s4_0_04 = m4_0_1.x + m4_0_2.z + m4_0_4.x + m4_0_5.z + m4_0_7.x;
        let s4_0_05 = m4_0_1.y + m4_0_2.w + m4_0_4.y + m4_0_5.w + m4_0_7.y;
        let s4_0_10 = m4_0_1.z - m4_0_3.x + 2.0 * m4_0_4.z - 2.0 * m4_0_6.x;
        let s4_0_11 = m4_0_1.w - m4_0_3.y + 2.0 * m4_0_4.w - 2.0 * m4_0_6.y;
        let s4_0_12 = m4_0_2.x - m4_0_3.z + 2.0 * m4_0_5.x - 2.0 * m4_0_6.z;
        let s4_0_13 = m4_0_2.y - m4_0_3.w + 2.0 * m4_0_5.y - 2.0 * m4_0_6.w;
        let s4_0_14 = m4_0_2.z - m4_0_4.x + 2.0 * m4_0_5.z - 2.0 * m4_0_7.x;
        let s4_0_15 = m4_0_2.w - m4_0_4.y + 2.0 * m4_0_5.w - 2.0 * m4_0_7.y;
        let s4_0_20 = m4_0_1.z + m4_0_3.x + 4.0 * m4_0_4.z + 4.0 * m4_0_6.x;
        let s4_0_21 = m4_0_1.w + m4_0_3.y + 4.0 * m4_0_4.w + 4.0 * m4_0_6.y;
        let s4_0_22 = m4_0_2.x + m4_0_3.z + 4.0 * m4_0_5.x + 4.0 * m4_0_6.z;
        let s4_0_23 = m4_0_2.y + m4_0_3.w + 4.0 * m4_0_5.y + 4.0 * m4_0_6.w;
        let s4_0_24 = m4_0_2.z + m4_0_4.x + 4.0 * m4_0_5.z + 4.0 * m4_0_7.x;
        let s4_0_25 = m4_0_2.w + m4_0_4.y + 4.0 * m4_0_5.w + 4.0 * m4_0_7.y;
        let s4_0_30 = m4_0_1.z - m4_0_3.x + 8.0 * m4_0_4.z - 8.0 * m4_0_6.x + m4_0_7.z;
        let s4_0_31 = m4_0_1.w - m4_0_3.y + 8.0 * m4_0_4.w - 8.0 * m4_0_6.y + m4_0_7.w;
        let s4_0_32 = m4_0_2.x - m4_0_3.z + 8.0 * m4_0_5.x - 8.0 * m4_0_6.z + m4_0_8.x;
        let s4_0_33 = m4_0_2.y - m4_0_3.w + 8.0 * m4_0_5.y - 8.0 * m4_0_6.w + m4_0_8.y;
        let s4_0_34 = m4_0_2.z - m4_0_4.x + 8.0 * m4_0_5.z - 8.0 * m4_0_7.x + m4_0_8.z;
        let s4_0_35 = m4_0_2.w - m4_0_4.y + 8.0 * m4_0_5.w - 8.0 * m4_0_7.y + m4_0_8.w;
        store4(s, p.co0 + 4u, 0u, 0u, vec4<f32>(s4_0_00 + s4_0_01 + s4_0_02 + s4_0_03 + s4_0_04, s4_0_01 - s4_0_02 + 2.0 * s4_0_03 - 2.0 * s4_0_04, s4_0_01 + s4_0_02 + 4.0 * s4_0_03 + 4.0 * s4_0_04, s4_0_01 - s4_0_02 + 8.0 * s4_0_03 - 8.0 * s4_0_04 + s4_0_05), bv4);
        store4(s, p.co0 + 4u, 1u, 0u, vec4<f32>(s4_0_10 + s4_0_11 + s4_0_12 + s4_0_13 + s4_0_14, s4_0_11 - s4_0_12 + 2.0 * s4_0_13 - 2.0 * s4_0_14, s4_0_11 + s4_0_12 + 4.0 * s4_0_13 + 4.0 * s4_0_14, s4_0_11 - s4_0_12 + 8.0 * s4_0_13 - 8.0 * s4_0_14 + s4_0_15), bv4);
        store4(s, p.co0 + 4u, 2u, 0u, vec4<f32>(s4_0_20 + s4_0_21 + s4_0_22 + s4_0_23 + s4_0_24, s4_0_21 - s4_0_22 + 2.0 * s4_0_23 - 2.0 * s4_0_24, s4_0_21 + s4_0_22 + 4.0 * s4_0_23 + 4.0 * s4_0_24, s4_0_21 - s4_0_22 + 8.0 * s4_0_23 - 8.0 * s4_0_24 + s4_0_25), bv4);
        store4(s, p.co0 + 4u, 3u, 0u, vec4<f32>(s4_0_30 + s4_0_31 + s4_0_32 + s4_0_33 + s4_0_34, s4_0_31 - s4_0_32 + 2.0 * s4_0_33 - 2.0 * s4_0_34, s4_0_31 + s4_0_32 + 4.0 * s4_0_33 + 4.0 * s4_0_34, s4_0_31 - s4_0_32 + 8.0 * s4_0_33 - 8.0 * s4_0_34 + s4_0_35), bv4);
        let s4_1_00 = m4_1_0.x + m4_1_1.z + m4_1_3.x + m4_1_4.z + m4_1_6.x;
        let s4_1_01 = m4_1_0.y + m4_1_1.w + m4_1_3.y + m4_1_4.w + m4_1_6.y;
        let s4_1_02 = m4_1_0.z + m4_1_2.x + m4_1_3.z + m4_1_5.x + m4_1_6.z;
        let s4_1_03 = m4_1_0.w + m4_1_2.y + m4_1_3.w + m4_1_5.y + m4_1_6.w;
        let s4_1_04 = m4_1_1.x + m4_1_2.z + m4_1_4.x + m4_1_5.z + m4_1_7.x;
        let s4_1_05 = m4_1_1.y + m4_1_2.w + m4_1_4.y + m4_1_5.w + m4_1_7.y;
        let s4_1_10 = m4_1_1.z - m4_1_3.x + 2.0 * m4_1_4.z - 2.0 * m4_1_6.x;
        let s4_1_11 = m4_1_1.w - m4_1_3.y + 2.0 * m4_1_4.w - 2.0 * m4_1_6.y;
        let s4_1_12 = m4_1_2.x - m4_1_3.z + 2.0 * m4_1_5.x - 2.0 * m4_1_6.z;
        let s4_1_13 = m4_1_2.y - m4_1_3.w + 2.0 * m4_1_5.y - 2.0 * m4_1_6.w;
        let s4_1_14 = m4_1_2.z - m4_1_4.x + 2.0 * m4_1_5.z - 2.0 * m4_1_7.x;
        let s4_1_15 = m4_1_2.w - m4_1_4.y + 2.0 * m4_1_5.w - 2.0 * m4_1_7.y;
        let s4_1_20 = m4_1_1.z + m4_1_3.x + 4.0 * m4_1_4.z + 4.0 * m4_1_6.x;
        let s4_1_21 = m4_1_1.w + m4_1_3.y + 4.0 * m4_1_4.w + 4.0 * m4_1_6.y;
        let s4_1_22 = m4_1_2.x + m4_1_3.z + 4.0 * m4_1_5.x + 4.0 * m4_1_6.z;
        let s4_1_23 = m4_1_2.y + m4_1_3.w + 4.0 * m4_1_5.y + 4.0 * m4_1_6.w;
        let s4_1_24 = m4_1_2.z + m4_1_4.x + 4.0 * m4_1_5.z + 4.0 * m4_1_7.x;
        let s4_1_25 = m4_1_2.w + m4_1_4.y + 4.0 * m4_1_5.w + 4.0 * m4_1_7.y;
        let s4_1_30 = m4_1_1.z - m4_1_3.x + 8.0 * m4_1_4.z - 8.0 * m4_1_6.x + m4_1_7.z;
        let s4_1_31 = m4_1_1.w - m4_1_3.y + 8.0 * m4_1_4.w - 8.0 * m4_1_6.y + m4_1_7.w;
        let s4_1_32 = m4_1_2.x - m4_1_3.z + 8.0 * m4_1_5.x - 8.0 * m4_1_6.z + m4_1_8.x;
        let s4_1_33 = m4_1_2.y - m4_1_3.w + 8.0 * m4_1_5.y - 8.0 * m4_1_6.w + m4_1_8.y;
        let s4_1_34 = m4_1_2.z - m4_1_4.x + 8.0 * m4_1_5.z - 8.0 * m4_1_7.x + m4_1_8.z;
        let s4_1_35 = m4_1_2.w - m4_1_4.y + 8.0 * m4_1_5.w - 8.0 * m4_1_7.y + m4_1_8.w;
        store4(s, p.co0 + 4u, 0u, 1u, vec4<f32>(s4_1_00 + s4_1_01 + s4_1_02 + s4_1_03 + s4_1_04, s4_1_01 - s4_1_02 + 2.0 * s4_1_03 - 2.0 * s4_1_04, s4_1_01 + s4_1_02 + 4.0 * s4_1_03 + 4.0 * s4_1_04, s4_1_01 - s4_1_02 + 8.0 * s4_1_03 - 8.0 * s4_1_04 + s4_1_05), bv4);
        store4(s, p.co0 + 4u, 1u, 1u, vec4<f32>(s4_1_10 + s4_1_11 + s4_1_12 + s4_1_13 + s4_1_14, s4_1_11 - s4_1_12 + 2.0 * s4_1_13 - 2.0 * s4_1_14, s4_1_11 + s4_1_12 + 4.0 * s4_1_13 + 4.0 * s4_1_14, s4_1_11 - s4_1_12 + 8.0 * s4_1_13 - 8.0 * s4_1_14 + s4_1_15), bv4);
        store4(s, p.co0 + 4u, 2u, 1u, vec4<f32>(s4_1_20 + s4_1_21 + s4_1_22 + s4_1_23 + s4_1_24, s4_1_21 - s4_1_22 + 2.0 * s4_1_23 - 2.0 * s4_1_24, s4_1_21 + s4_1_22 + 4.0 * s4_1_23 + 4.0 * s4_1_24, s4_1_21 - s4_1_22 + 8.0 * s4_1_23 - 8.0 * s4_1_24 + s4_1_25), bv4);
        store4(s, p.co0 + 4u, 3u, 1u, vec4<f32>(s4_1_30 + s4_1_31 + s4_1_32 + s4_1_33 + s4_1_34, s4_1_31 - s4_1_32 + 2.0 * s4_1_33 - 2.0 * s4_1_34, s4_1_31 + s4_1_32 + 4.0 * s4_1_33 + 4.0 * s4_1_34, s4_1_31 - s4_1_32 + 8.0 * s4_1_33 - 8.0 * s4_1_34 + s4_1_35), bv4);
    }
    if (p.co0 + 5u < p.cout) {
        var bv5 = 0.0;
        if (p.has_bias != 0u && p.first != 0u) { bv5 = src[p.co0 + 5u]; }
        let s5_0_00 = m5_0_0.x + m5_0_1.z + m5_0_3.x + m5_0_4.z + m5_0_6.x;
        let s5_0_01 = m5_0_0.y + m5_0_1.w + m5_0_3.y + m5_0_4.w + m5_0_6.y;
        let s5_0_02 = m5_0_0.z + m5_0_2.x + m5_0_3.z + m5_0_5.x + m5_0_6.z;
        let s5_0_03 = m5_0_0.w + m5_0_2.y + m5_0_3.w + m5_0_5.y + m5_0_6.w;
        let s5_0_04 = m5_0_1.x + m5_0_2.z + m5_0_4.x + m5_0_5.z + m5_0_7.x;
        let s5_0_05 = m5_0_1.y + m5_0_2.w + m5_0_4.y + m5_0_5.w + m5_0_7.y;
        let s5_0_10 = m5_0_1.z - m5_0_3.x + 2.0 * m5_0_4.z - 2.0 * m5_0_6.x;
        let s5_0_11 = m5_0_1.w - m5_0_3.y + 2.0 * m5_0_4.w - 2.0 * m5_0_6.y;
        let s5_0_12 = m5_0_2.x - m5_0_3.z + 2.0 * m5_0_5.x - 2.0 * m5_0_6.z;
        let s5_0_13 = m5_0_2.y - m5_0_3.w + 2.0 * m5_0_5.y - 2.0 * m5_0_6.w;
        let s5_0_14 = m5_0_2.z - m5_0_4.x + 2.0 * m5_0_5.z - 2.0 * m5_0_7.x;
        let s5_0_15 = m5_0_2.w - m5_0_4.y + 2.0 * m5_0_5.w - 2.0 * m5_0_7.y;
        let s5_0_20 = m5_0_1.z + m5_0_3.x + 4.0 * m5_0_4.z + 4.0 * m5_0_6.x;
        let s5_0_21 = m5_0_1.w + m5_0_3.y + 4.0 * m5_0_4.w + 4.0 * m5_0_6.y;
        let s5_0_22 = m5_0_2.x + m5_0_3.z + 4.0 * m5_0_5.x + 4.0 * m5_0_6.z;
        let s5_0_23 = m5_0_2.y + m5_0_3.w + 4.0 * m5_0_5.y + 4.0 * m5_0_6.w;
        let s5_0_24 = m5_0_2.z + m5_0_4.x + 4.0 * m5_0_5.z + 4.0 * m5_0_7.x;
        let s5_0_25 = m5_0_2.w + m5_0_4.y + 4.0 * m5_0_5.w + 4.0 * m5_0_7.y;
        let s5_0_30 = m5_0_1.z - m5_0_3.x + 8.0 * m5_0_4.z - 8.0 * m5_0_6.x + m5_0_7.z;
        let s5_0_31 = m5_0_1.w - m5_0_3.y + 8.0 * m5_0_4.w - 8.0 * m5_0_6.y + m5_0_7.w;
        let s5_0_32 = m5_0_2.x - m5_0_3.z + 8.0 * m5_0_5.x - 8.0 * m5_0_6.z + m5_0_8.x;
        let s5_0_33 = m5_0_2.y - m5_0_3.w + 8.0 * m5_0_5.y - 8.0 * m5_0_6.w + m5_0_8.y;
        let s5_0_34 = m5_0_2.z - m5_0_4.x + 8.0 * m5_0_5.z - 8.0 * m5_0_7.x + m5_0_8.z;
        let s5_0_35 = m5_0_2.w - m5_0_4.y + 8.0 * m5_0_5.w - 8.0 * m5_0_7.y + m5_0_8.w;
        store4(s, p.co0 + 5u, 0u, 0u, vec4<f32>(s5_0_00 + s5_0_01 + s5_0_02 + s5_0_03 + s5_0_04, s5_0_01 - s5_0_02 + 2.0 * s5_0_03 - 2.0 * s5_0_04, s5_0_01 + s5_0_02 + 4.0 * s5_0_03 + 4.0 * s5_0_04, s5_0_01 - s5_0_02 + 8.0 * s5_0_03 - 8.0 * s5_0_04 + s5_0_05), bv5);
        store4(s, p.co0 + 5u, 1u, 0u, vec4<f32>(s5_0_10 + s5_0_11 + s5_0_12 + s5_0_13 + s5_0_14, s5_0_11 - s5_0_12 + 2.0 * s5_0_13 - 2.0 * s5_0_14, s5_0_11 + s5_0_12 + 4.0 * s5_0_13 + 4.0 * s5_0_14, s5_0_11 - s5_0_12 + 8.0 * s5_0_13 - 8.0 * s5_0_14 + s5_0_15), bv5);
        store4(s, p.co0 + 5u, 2u, 0u, vec4<f32>(s5_0_20 + s5_0_21 + s5_0_22 + s5_0_23 + s5_0_24, s5_0_21 - s5_0_22 + 2.0 * s5_0_23 - 2.0 * s5_0_24, s5_0_21 + s5_0_22 + 4.0 * s5_0_23 + 4.0 * s5_0_24, s5_0_21 - s5_0_22 + 8.0 * s5_0_23 - 8.0 * s5_0_24 + s5_0_25), bv5);
        store4(s, p.co0 + 5u, 3u, 0u, vec4<f32>(s5_0_30 + s5_0_31 + s5_0_32 + s5_0_33 + s5_0_34, s5_0_31 - s5_0_32 + 2.0 * s5_0_33 - 2.0 * s5_0_34, s5_0_31 + s5_0_32 + 4.0 * s5_0_33 + 4.0 * s5_0_34, s5_0_31 - s5_0_32 + 8.0 * s5_0_33 - 8.0 * s5_0_34 + s5_0_35), bv5);
        let s5_1_00 = m5_1_0.x + m5_1_1.z + m5_1_3.x + m5_1_4.z + m5_1_6.x;
        let s5_1_01 = m5_1_0.y + m5_1_1.w + m5_1_3.y + m5_1_4.w + m5_1_6.y;
        let s5_1_02 = m5_1_0.z + m5_1_2.x + m5_1_3.z + m5_1_5.x + m5_1_6.z;
        let s5_1_03 = m5_1_0.w + m5_1_2.y + m5_1_3.w + m5_1_5.y + m5_1_6.w;
        let s5_1_04 = m5_1_1.x + m5_1_2.z + m5_1_4.x + m5_1_5.z + m5_1_7.x;
        let s5_1_05 = m5_1_1.y + m5_1_2.w + m5_1_4.y + m5_1_5.w + m5_1_7.y;
        let s5_1_10 = m5_1_1.z - m5_1_3.x + 2.0 * m5_1_4.z - 2.0 * m5_1_6.x;
        let s5_1_11 = m5_1_1.w - m5_1_3.y + 2.0 * m5_1_4.w - 2.0 * m5_1_6.y;
        let s5_1_12 = m5_1_2.x - m5_1_3.z + 2.0 * m5_1_5.x - 2.0 * m5_1_6.z;
        let s5_1_13 = m5_1_2.y - m5_1_3.w + 2.0 * m5_1_5.y - 2.0 * m5_1_6.w;
        let s5_1_14 = m5_1_2.z - m5_1_4.x + 2.0 * m5_1_5.z - 2.0 * m5_1_7.x;
        let s5_1_15 = m5_1_2.w - m5_1_4.y + 2.0 * m5_1_5.w - 2.0 * m5_1_7.y;
        let s5_1_20 = m5_1_1.z + m5_1_3.x + 4.0 * m5_1_4.z + 4.0 * m5_1_6.x;
        let s5_1_21 = m5_1_1.w + m5_1_3.y + 4.0 * m5_1_4.w + 4.0 * m5_1_6.y;
        let s5_1_22 = m5_1_2.x + m5_1_3.z + 4.0 * m5_1_5.x + 4.0 * m5_1_6.z;
        let s5_1_23 = m5_1_2.y + m5_1_3.w + 4.0 * m5_1_5.y + 4.0 * m5_1_6.w;
        let s5_1_24 = m5_1_2.z + m5_1_4.x + 4.0 * m5_1_5.z + 4.0 * m5_1_7.x;
        let s5_1_25 = m5_1_2.w + m5_1_4.y + 4.0 * m5_1_5.w + 4.0 * m5_1_7.y;
        let s5_1_30 = m5_1_1.z - m5_1_3.x + 8.0 * m5_1_4.z - 8.0 * m5_1_6.x + m5_1_7.z;
        let s5_1_31 = m5_1_1.w - m5_1_3.y + 8.0 * m5_1_4.w - 8.0 * m5_1_6.y + m5_1_7.w;
        let s5_1_32 = m5_1_2.x - m5_1_3.z + 8.0 * m5_1_5.x - 8.0 * m5_1_6.z + m5_1_8.x;
        let s5_1_33 = m5_1_2.y - m5_1_3.w + 8.0 * m5_1_5.y - 8.0 * m5_1_6.w + m5_1_8.y;
        let s5_1_34 = m5_1_2.z - m5_1_4.x + 8.0 * m5_1_5.z - 8.0 * m5_1_7.x + m5_1_8.z;
        let s5_1_35 = m5_1_2.w - m5_1_4.y + 8.0 * m5_1_5.w - 8.0 * m5_1_7.y + m5_1_8.w;
        store4(s, p.co0 + 5u, 0u, 1u, vec4<f32>(s5_1_00 + s5_1_01 + s5_1_02 + s5_1_03 + s5_1_04, s5_1_01 - s5_1_02 + 2.0 * s5_1_03 - 2.0 * s5_1_04, s5_1_01 + s5_1_02 + 4.0 * s5_1_03 + 4.0 * s5_1_04, s5_1_01 - s5_1_02 + 8.0 * s5_1_03 - 8.0 * s5_1_04 + s5_1_05), bv5);
        store4(s, p.co0 + 5u, 1u, 1u, vec4<f32>(s5_1_10 + s5_1_11 + s5_1_12 + s5_1_13 + s5_1_14, s5_1_11 - s5_1_12 + 2.0 * s5_1_13 - 2.0 * s5_1_14, s5_1_11 + s5_1_12 + 4.0 * s5_1_13 + 4.0 * s5_1_14, s5_1_11 - s5_1_12 + 8.0 * s5_1_13 - 8.0 * s5_1_14 + s5_1_15), bv5);
        store4(s, p.co0 + 5u, 2u, 1u, vec4<f32>(s5_1_20 + s5_1_21 + s5_1_22 + s5_1_23 + s5_1_24, s5_1_21 - s5_1_22 + 2.0 * s5_1_23 - 2.0 * s5_1_24, s5_1_21 + s5_1_22 + 4.0 * s5_1_23 + 4.0 * s5_1_24, s5_1_21 - s5_1_22 + 8.0 * s5_1_23 - 8.0 * s5_1_24 + s5_1_25), bv5);
        store4(s, p.co0 + 5u, 3u, 1u, vec4<f32>(s5_1_30 + s5_1_31 + s5_1_32 + s5_1_33 + s5_1_34, s5_1_31 - s5_1_32 + 2.0 * s5_1_33 - 2.0 * s5_1_34, s5_1_31 + s5_1_32 + 4.0 * s5_1_33 + 4.0 * s5_1_34, s5_1_31 - s5_1_32 + 8.0 * s5_1_33 - 8.0 * s5_1_34 + s5_1_35), bv5);
    }
    if (p.co0 + 6u < p.cout) {
        var bv6 = 0.0;
        if (p.has_bias != 0u && p.first != 0u) { bv6 = src[p.co0 + 6u]; }
        let s6_0_00 = m6_0_0.x + m6_0_1.z + m6_0_3.x + m6_0_4.z + m6_0_6.x;
        let s6_0_01 = m6_0_0.y + m6_0_1.w + m6_0_3.y + m6_0_4.w + m6_0_6.y;
        let s6_0_02 = m6_0_0.z + m6_0_2.x + m6_0_3.z + m6_0_5.x + m6_0_6.z;
        let s6_0_03 = m6_0_0.w + m6_0_2.y + m6_0_3.w + m6_0_5.y + m6_0_6.w;
        let s6_0_04 = m6_0_1.x + m6_0_2.z + m6_0_4.x + m6_0_5.z + m6_0_7.x;
        let s6_0_05 = m6_0_1.y + m6_0_2.w + m6_0_4.y + m6_0_5.w + m6_0_7.y;
        let s6_0_10 = m6_0_1.z - m6_0_3.x + 2.0 * m6_0_4.z - 2.0 * m6_0_6.x;
        let s6_0_11 = m6_0_1.w - m6_0_3.y + 2.0 * m6_0_4.w - 2.0 * m6_0_6.y;
        let s6_0_12 = m6_0_2.x - m6_0_3.z + 2.0 * m6_0_5.x - 2.0 * m6_0_6.z;
        let s6_0_13 = m6_0_2.y - m6_0_3.w + 2.0 * m6_0_5.y - 2.0 * m6_0_6.w;
        let s6_0_14 = m6_0_2.z - m6_0_4.x + 2.0 * m6_0_5.z - 2.0 * m6_0_7.x;
        let s6_0_15 = m6_0_2.w - m6_0_4.y + 2.0 * m6_0_5.w - 2.0 * m6_0_7.y;
        let s6_0_20 = m6_0_1.z + m6_0_3.x + 4.0 * m6_0_4.z + 4.0 * m6_0_6.x;
        let s6_0_21 = m6_0_1.w + m6_0_3.y + 4.0 * m6_0_4.w + 4.0 * m6_0_6.y;
        let s6_0_22 = m6_0_2.x + m6_0_3.z + 4.0 * m6_0_5.x + 4.0 * m6_0_6.z;
        let s6_0_23 = m6_0_2.y + m6_0_3.w + 4.0 * m6_0_5.y + 4.0 * m6_0_6.w;
        let s6_0_24 = m6_0_2.z + m6_0_4.x + 4.0 * m6_0_5.z + 4.0 * m6_0_7.x;
        let s6_0_25 = m6_0_2.w + m6_0_4.y + 4.0 * m6_0_5.w + 4.0 * m6_0_7.y;
        let s6_0_30 = m6_0_1.z - m6_0_3.x + 8.0 * m6_0_4.z - 8.0 * m6_0_6.x + m6_0_7.z;
        let s6_0_31 = m6_0_1.w - m6_0_3.y + 8.0 * m6_0_4.w - 8.0 * m6_0_6.y + m6_0_7.w;
        let s6_0_32 = m6_0_2.x - m6_0_3.z + 8.0 * m6_0_5.x - 8.0 * m6_0_6.z + m6_0_8.x;
        let s6_0_33 = m6_0_2.y - m6_0_3.w + 8.0 * m6_0_5.y - 8.0 * m6_0_6.w + m6_0_8.y;
        let s6_0_34 = m6_0_2.z - m6_0_4.x + 8.0 * m6_0_5.z - 8.0 * m6_0_7.x + m6_0_8.z;
        let s6_0_35 = m6_0_2.w - m6_0_4.y + 8.0 * m6_0_5.w - 8.0 * m6_0_7.y + m6_0_8.w;
        store4(s, p.co0 + 6u, 0u, 0u, vec4<f32>(s6_0_00 + s6_0_01 + s6_0_02 + s6_0_03 + s6_0_04, s6_0_01 - s6_0_02 + 2.0 * s6_0_03 - 2.0 * s6_0_04, s6_0_01 + s6_0_02 + 4.0 * s6_0_03 + 4.0 * s6_0_04, s6_0_01 - s6_0_02 + 8.0 * s6_0_03 - 8.0 * s6_0_04 + s6_0_05), bv6);
        store4(s, p.co0 + 6u, 1u, 0u, vec4<f32>(s6_0_10 + s6_0_11 + s6_0_12 + s6_0_13 + s6_0_14, s6_0_11 - s6_0_12 + 2.0 * s6_0_13 - 2.0 * s6_0_14, s6_0_11 + s6_0_12 + 4.0 * s6_0_13 + 4.0 * s6_0_14, s6_0_11 - s6_0_12 + 8.0 * s6_0_13 - 8.0 * s6_0_14 + s6_0_15), bv6);
        store4(s, p.co0 + 6u, 2u, 0u, vec4<f32>(s6_0_20 + s6_0_21 + s6_0_22 + s6_0_23 + s6_0_24, s6_0_21 - s6_0_22 + 2.0 * s6_0_23 - 2.0 * s6_0_24, s6_0_21 + s6_0_22 + 4.0 * s6_0_23 + 4.0 * s6_0_24, s6_0_21 - s6_0_22 + 8.0 * s6_0_23 - 8.0 * s6_0_24 + s6_0_25), bv6);
        store4(s, p.co0 + 6u, 3u, 0u, vec4<f32>(s6_0_30 + s6_0_31 + s6_0_32 + s6_0_33 + s6_0_34, s6_0_31 - s6_0_32 + 2.0 * s6_0_33 - 2.0 * s6_0_34, s6_0_31 + s6_0_32 + 4.0 * s6_0_33 + 4.0 * s6_0_34, s6_0_31 - s6_0_32 + 8.0 * s6_0_33 - 8.0 * s6_0_34 + s6_0_35), bv6);
        let s6_1_00 = m6_1_0.x + m6_1_1.z + m6_1_3.x + m6_1_4.z + m6_1_6.x;
        let s6_1_01 = m6_1_0.y + m6_1_1.w + m6_1_3.y + m6_1_4.w + m6_1_6.y;
        let s6_1_02 = m6_1_0.z + m6_1_2.x + m6_1_3.z + m6_1_5.x + m6_1_6.z;
        let s6_1_03 = m6_1_0.w + m6_1_2.y + m6_1_3.w + m6_1_5.y + m6_1_6.w;
        let s6_1_04 = m6_1_1.x + m6_1_2.z + m6_1_4.x + m6_1_5.z + m6_1_7.x;
        let s6_1_05 = m6_1_1.y + m6_1_2.w + m6_1_4.y + m6_1_5.w + m6_1_7.y;
        let s6_1_10 = m6_1_1.z - m6_1_3.x + 2.0 * m6_1_4.z - 2.0 * m6_1_6.x;
        let s6_1_11 = m6_1_1.w - m6_1_3.y + 2.0 * m6_1_4.w - 2.0 * m6_1_6.y;
        let s6_1_12 = m6_1_2.x - m6_1_3.z + 2.0 * m6_1_5.x - 2.0 * m6_1_6.z;
        let s6_1_13 = m6_1_2.y - m6_1_3.w + 2.0 * m6_1_5.y - 2.0 * m6_1_6.w;
        let s6_1_14 = m6_1_2.z - m6_1_4.x + 2.0 * m6_1_5.z - 2.0 * m6_1_7.x;
        let s6_1_15 = m6_1_2.w - m6_1_4.y + 2.0 * m6_1_5.w - 2.0 * m6_1_7.y;
        let s6_1_20 = m6_1_1.z + m6_1_3.x + 4.0 * m6_1_4.z + 4.0 * m6_1_6.x;
        let s6_1_21 = m6_1_1.w + m6_1_3.y + 4.0 * m6_1_4.w + 4.0 * m6_1_6.y;
        let s6_1_22 = m6_1_2.x + m6_1_3.z + 4.0 * m6_1_5.x + 4.0 * m6_1_6.z;
        let s6_1_23 = m6_1_2.y + m6_1_3.w + 4.0 * m6_1_5.y + 4.0 * m6_1_6.w;
        let s6_1_24 = m6_1_2.z + m6_1_4.x + 4.0 * m6_1_5.z + 4.0 * m6_1_7.x;
        let s6_1_25 = m6_1_2.w + m6_1_4.y + 4.0 * m6_1_5.w + 4.0 * m6_1_7.y;
        let s6_1_30 = m6_1_1.z - m6_1_3.x + 8.0 * m6_1_4.z - 8.0 * m6_1_6.x + m6_1_7.z;
        let s6_1_31 = m6_1_1.w - m6_1_3.y + 8.0 * m6_1_4.w - 8.0 * m6_1_6.y + m6_1_7.w;
        let s6_1_32 = m6_1_2.x - m6_1_3.z + 8.0 * m6_1_5.x - 8.0 * m6_1_6.z + m6_1_8.x;
        let s6_1_33 = m6_1_2.y - m6_1_3.w + 8.0 * m6_1_5.y - 8.0 * m6_1_6.w + m6_1_8.y;
        let s6_1_34 = m6_1_2.z - m6_1_4.x + 8.0 * m6_1_5.z - 8.0 * m6_1_7.x + m6_1_8.z;
        let s6_1_35 = m6_1_2.w - m6_1_4.y + 8.0 * m6_1_5.w - 8.0 * m6_1_7.y + m6_1_8.w;
        store4(s, p.co0 + 6u, 0u, 1u, vec4<f32>(s6_1_00 + s6_1_01 + s6_1_02 + s6_1_03 + s6_1_04, s6_1_01 - s6_1_02 + 2.0 * s6_1_03 - 2.0 * s6_1_04, s6_1_01 + s6_1_02 + 4.0 * s6_1_03 + 4.0 * s6_1_04, s6_1_01 - s6_1_02 + 8.0 * s6_1_03 - 8.0 * s6_1_04 + s6_1_05), bv6);
        store4(s, p.co0 + 6u, 1u, 1u, vec4<f32>(s6_1_10 + s6_1_11 + s6_1_12 + s6_1_13 + s6_1_14, s6_1_11 - s6_1_12 + 2.0 * s6_1_13 - 2.0 * s6_1_14, s6_1_11 + s6_1_12 + 4.0 * s6_1_13 + 4.0 * s6_1_14, s6_1_11 - s6_1_12 + 8.0 * s6_1_13 - 8.0 * s6_1_14 + s6_1_15), bv6);
        store4(s, p.co0 + 6u, 2u, 1u, vec4<f32>(s6_1_20 + s6_1_21 + s6_1_22 + s6_1_23 + s6_1_24, s6_1_21 - s6_1_22 + 2.0 * s6_1_23 - 2.0 * s6_1_24, s6_1_21 + s6_1_22 + 4.0 * s6_1_23 + 4.0 * s6_1_24, s6_1_21 - s6_1_22 + 8.0 * s6_1_23 - 8.0 * s6_1_24 + s6_1_25), bv6);
        store4(s, p.co0 + 6u, 3u, 1u, vec4<f32>(s6_1_30 + s6_1_31 + s6_1_32 + s6_1_33 + s6_1_34, s6_1_31 - s6_1_32 + 2.0 * s6_1_33 - 2.0 * s6_1_34, s6_1_31 + s6_1_32 + 4.0 * s6_1_33 + 4.0 * s6_1_34, s6_1_31 - s6_1_32 + 8.0 * s6_1_33 - 8.0 * s6_1_34 + s6_1_35), bv6);
    }
    if (p.co0 + 7u < p.cout) {
        var bv7 = 0.0;
        if (p.has_bias != 0u && p.first != 0u) { bv7 = src[p.co0 + 7u]; }
        let s7_0_00 = m7_0_0.x + m7_0_1.z + m7_0_3.x + m7_0_4.z + m7_0_6.x;
        let s7_0_01 = m7_0_0.y + m7_0_1.w + m7_0_3.y + m7_0_4.w + m7_0_6.y;
        let s7_0_02 = m7_0_0.z + m7_0_2.x + m7_0_3.z + m7_0_5.x + m7_0_6.z;
        let s7_0_03 = m7_0_0.w + m7_0_2.y + m7_0_3.w + m7_0_5.y + m7_0_6.w;
        let s7_0_04 = m7_0_1.x + m7_0_2.z + m7_0_4.x + m7_0_5.z + m7_0_7.x;
        let s7_0_05 = m7_0_1.y + m7_0_2.w + m7_0_4.y + m7_0_5.w + m7_0_7.y;
        let s7_0_10 = m7_0_1.z - m7_0_3.x + 2.0 * m7_0_4.z - 2.0 * m7_0_6.x;
        let s7_0_11 = m7_0_1.w - m7_0_3.y + 2.0 * m7_0_4.w - 2.0 * m7_0_6.y;
        let s7_0_12 = m7_0_2.x - m7_0_3.z + 2.0 * m7_0_5.x - 2.0 * m7_0_6.z;
        let s7_0_13 = m7_0_2.y - m7_0_3.w + 2.0 * m7_0_5.y - 2.0 * m7_0_6.w;
        let s7_0_14 = m7_0_2.z - m7_0_4.x + 2.0 * m7_0_5.z - 2.0 * m7_0_7.x;
        let s7_0_15 = m7_0_2.w - m7_0_4.y + 2.0 * m7_0_5.w - 2.0 * m7_0_7.y;
        let s7_0_20 = m7_0_1.z + m7_0_3.x + 4.0 * m7_0_4.z + 4.0 * m7_0_6.x;
        let s7_0_21 = m7_0_1.w + m7_0_3.y + 4.0 * m7_0_4.w + 4.0 * m7_0_6.y;
        let s7_0_22 = m7_0_2.x + m7_0_3.z + 4.0 * m7_0_5.x + 4.0 * m7_0_6.z;
        let s7_0_23 = m7_0_2.y + m7_0_3.w + 4.0 * m7_0_5.y + 4.0 * m7_0_6.w;
        let s7_0_24 = m7_0_2.z + m7_0_4.x + 4.0 * m7_0_5.z + 4.0 * m7_0_7.x;
        let s7_0_25 = m7_0_2.w + m7_0_4.y + 4.0 * m7_0_5.w + 4.0 * m7_0_7.y;
        let s7_0_30 = m7_0_1.z - m7_0_3.x + 8.0 * m7_0_4.z - 8.0 * m7_0_6.x + m7_0_7.z;
        let s7_0_31 = m7_0_1.w - m7_0_3.y + 8.0 * m7_0_4.w - 8.0 * m7_0_6.y + m7_0_7.w;
        let s7_0_32 = m7_0_2.x - m7_0_3.z + 8.0 * m7_0_5.x - 8.0 * m7_0_6.z + m7_0_8.x;
        let s7_0_33 = m7_0_2.y - m7_0_3.w + 8.0 * m7_0_5.y - 8.0 * m7_0_6.w + m7_0_8.y;
        let s7_0_34 = m7_0_2.z - m7_0_4.x + 8.0 * m7_0_5.z - 8.0 * m7_0_7.x + m7_0_8.z;
        let s7_0_35 = m7_0_2.w - m7_0_4.y + 8.0 * m7_0_5.w - 8.0 * m7_0_7.y + m7_0_8.w;
        store4(s, p.co0 + 7u, 0u, 0u, vec4<f32>(s7_0_00 + s7_0_01 + s7_0_02 + s7_0_03 + s7_0_04, s7_0_01 - s7_0_02 + 2.0 * s7_0_03 - 2.0 * s7_0_04, s7_0_01 + s7_0_02 + 4.0 * s7_0_03 + 4.0 * s7_0_04, s7_0_01 - s7_0_02 + 8.0 * s7_0_03 - 8.0 * s7_0_04 + s7_0_05), bv7);
        store4(s, p.co0 + 7u, 1u, 0u, vec4<f32>(s7_0_10 + s7_0_11 + s7_0_12 + s7_0_13 + s7_0_14, s7_0_11 - s7_0_12 + 2.0 * s7_0_13 - 2.0 * s7_0_14, s7_0_11 + s7_0_12 + 4.0 * s7_0_13 + 4.0 * s7_0_14, s7_0_11 - s7_0_12 + 8.0 * s7_0_13 - 8.0 * s7_0_14 + s7_0_15), bv7);
        store4(s, p.co0 + 7u, 2u, 0u, vec4<f32>(s7_0_20 + s7_0_21 + s7_0_22 + s7_0_23 + s7_0_24, s7_0_21 - s7_0_22 + 2.0 * s7_0_23 - 2.0 * s7_0_24, s7_0_21 + s7_0_22 + 4.0 * s7_0_23 + 4.0 * s7_0_24, s7_0_21 - s7_0_22 + 8.0 * s7_0_23 - 8.0 * s7_0_24 + s7_0_25), bv7);
        store4(s, p.co0 + 7u, 3u, 0u, vec4<f32>(s7_0_30 + s7_0_31 + s7_0_32 + s7_0_33 + s7_0_34, s7_0_31 - s7_0_32 + 2.0 * s7_0_33 - 2.0 * s7_0_34, s7_0_31 + s7_0_32 + 4.0 * s7_0_33 + 4.0 * s7_0_34, s7_0_31 - s7_0_32 + 8.0 * s7_0_33 - 8.0 * s7_0_34 + s7_0_35), bv7);
        let s7_1_00 = m7_1_0.x + m7_1_1.z + m7_1_3.x + m7_1_4.z + m7_1_6.x;
        let s7_1_01 = m7_1_0.y + m7_1_1.w + m7_1_3.y + m7_1_4.w + m7_1_6.y;
        let s7_1_02 = m7_1_0.z + m7_1_2.x + m7_1_3.z + m7_1_5.x + m7_1_6.z;
        let s7_1_03 = m7_1_0.w + m7_1_2.y + m7_1_3.w + m7_1_5.y + m7_1_6.w;
        let s7_1_04 = m7_1_1.x + m7_1_2.z + m7_1_4.x + m7_1_5.z + m7_1_7.x;
        let s7_1_05 = m7_1_1.y + m7_1_2.w + m7_1_4.y + m7_1_5.w + m7_1_7.y;
        let s7_1_10 = m7_1_1.z - m7_1_3.x + 2.0 * m7_1_4.z - 2.0 * m7_1_6.x;
        let s7_1_11 = m7_1_1.w - m7_1_3.y + 2.0 * m7_1_4.w - 2.0 * m7_1_6.y;
        let s7_1_12 = m7_1_2.x - m7_1_3.z + 2.0 * m7_1_5.x - 2.0 * m7_1_6.z;
        let s7_1_13 = m7_1_2.y - m7_1_3.w + 2.0 * m7_1_5.y - 2.0 * m7_1_6.w;
        let s7_1_14 = m7_1_2.z - m7_1_4.x + 2.0 * m7_1_5.z - 2.0 * m7_1_7.x;
        let s7_1_15 = m7_1_2.w - m7_1_4.y + 2.0 * m7_1_5.w - 2.0 * m7_1_7.y;
        let s7_1_20 = m7_1_1.z + m7_1_3.x + 4.0 * m7_1_4.z + 4.0 * m7_1_6.x;
        let s7_1_21 = m7_1_1.w + m7_1_3.y + 4.0 * m7_1_4.w + 4.0 * m7_1_6.y;
        let s7_1_22 = m7_1_2.x + m7_1_3.z + 4.0 * m7_1_5.x + 4.0 * m7_1_6.z;
        let s7_1_23 = m7_1_2.y + m7_1_3.w + 4.0 * m7_1_5.y + 4.0 * m7_1_6.w;
        let s7_1_24 = m7_1_2.z + m7_1_4.x + 4.0 * m7_1_5.z + 4.0 * m7_1_7.x;
        let s7_1_25 = m7_1_2.w + m7_1_4.y + 4.0 * m7_1_5.w + 4.0 * m7_1_7.y;
        let s7_1_30 = m7_1_1.z - m7_1_3.x + 8.0 * m7_1_4.z - 8.0 * m7_1_6.x + m7_1_7.z;
        let s7_1_31 = m7_1_1.w - m7_1_3.y + 8.0 * m7_1_4.w - 8.0 * m7_1_6.y + m7_1_7.w;
        let s7_1_32 = m7_1_2.x - m7_1_3.z + 8.0 * m7_1_5.x - 8.0 * m7_1_6.z + m7_1_8.x;
        let s7_1_33 = m7_1_2.y - m7_1_3.w + 8.0 * m7_1_5.y - 8.0 * m7_1_6.w + m7_1_8.y;
        let s7_1_34 = m7_1_2.z - m7_1_4.x + 8.0 * m7_1_5.z - 8.0 * m7_1_7.x + m7_1_8.z;
        let s7_1_35 = m7_1_2.w - m7_1_4.y + 8.0 * m7_1_5.w - 8.0 * m7_1_7.y + m7_1_8.w;
        store4(s, p.co0 + 7u, 0u, 1u, vec4<f32>(s7_1_00 + s7_1_01 + s7_1_02 + s7_1_03 + s7_1_04, s7_1_01 - s7_1_02 + 2.0 * s7_1_03 - 2.0 * s7_1_04, s7_1_01 + s7_1_02 + 4.0 * s7_1_03 + 4.0 * s7_1_04, s7_1_01 - s7_1_02 + 8.0 * s7_1_03 - 8.0 * s7_1_04 + s7_1_05), bv7);
        store4(s, p.co0 + 7u, 1u, 1u, vec4<f32>(s7_1_10 + s7_1_11 + s7_1_12 + s7_1_13 + s7_1_14, s7_1_11 - s7_1_12 + 2.0 * s7_1_13 - 2.0 * s7_1_14, s7_1_11 + s7_1_12 + 4.0 * s7_1_13 + 4.0 * s7_1_14, s7_1_11 - s7_1_12 + 8.0 * s7_1_13 - 8.0 * s7_1_14 + s7_1_15), bv7);
        store4(s, p.co0 + 7u, 2u, 1u, vec4<f32>(s7_1_20 + s7_1_21 + s7_1_22 + s7_1_23 + s7_1_24, s7_1_21 - s7_1_22 + 2.0 * s7_1_23 - 2.0 * s7_1_24, s7_1_21 + s7_1_22 + 4.0 * s7_1_23 + 4.0 * s7_1_24, s7_1_21 - s7_1_22 + 8.0 * s7_1_23 - 8.0 * s7_1_24 + s7_1_25), bv7);
        store4(s, p.co0 + 7u, 3u, 1u, vec4<f32>(s7_1_30 + s7_1_31 + s7_1_32 + s7_1_33 + s7_1_34, s7_1_31 - s7_1_32 + 2.0 * s7_1_33 - 2.0 * s7_1_34, s7_1_31 + s7_1_32 + 4.0 * s7_1_33 + 4.0 * s7_1_34, s7_1_31 - s7_1_32 + 8.0 * s7_1_33 - 8.0 * s7_1_34 + s7_1_35), bv7);
    }
}
