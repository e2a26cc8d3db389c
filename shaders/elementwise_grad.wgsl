// Backward kernels of the elementwise and layout ops, and the reductions that bias gradients need.
// Flat index on a 2-D grid as in elementwise.wgsl.

struct P {
    n: u32,      // output elements
    a: f32,
    inner: u32,  // pixels per channel / row length
    c1: u32,     // channels of the output slice / input H for upsample
    c2: u32,     // channels of the full input / input W for upsample
    off: u32,    // first channel of the slice
    flag: u32,
    rows: u32,
}

@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn flat(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * 256u;
}

// dx = dy * silu'(x)
@compute @workgroup_size(256)
fn silu_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n) { return; }
    let v = x[i];
    let sg = 1.0 / (1.0 + exp(-v));
    out[i] = dy[i] * sg * (1.0 + v * (1.0 - sg));
}

// out[n, c, s] = dy[n, off + c, s] for c < c1 of c2 channels (the gradient of a channel concat)
@compute @workgroup_size(256)
fn split_channels(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n) { return; }
    let n = i / (p.c1 * p.inner);
    let r = i % (p.c1 * p.inner);
    out[i] = dy[(n * p.c2 + p.off) * p.inner + r];
}

// dx[nc, y, x] = a * (sum of the 2x2 block of dy it was copied to) (input H = c1, W = c2): the
// gradient of the nearest 2x upsample with a = 1, and the 2x2 average pool with a = 1/4
@compute @workgroup_size(256)
fn upsample2x_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n) { return; }
    let h = p.c1;
    let w = p.c2;
    let nc = i / (h * w);
    let r = i % (h * w);
    let y = r / w;
    let xx = r % w;
    let b = nc * 4u * h * w + (2u * y) * (2u * w) + 2u * xx;
    out[i] = p.a * (dy[b] + dy[b + 1u] + dy[b + 2u * w] + dy[b + 2u * w + 1u]);
}

// out[i] = a * dy[i / inner] * (flag ? x[i] : 1): gradients of row sums (flag 0) and of row sums of
// squares (a = 2, flag 1)
@compute @workgroup_size(256)
fn rows_scale(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n) { return; }
    var v = p.a * dy[i / p.inner];
    if (p.flag != 0u) { v *= x[i]; }
    out[i] = v;
}

// out[j] = sum_r dy[r * n + j] over `rows` rows (bias gradient of a matmul / linear)
@compute @workgroup_size(256)
fn col_sum(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let j = flat(gid, nwg);
    if (j >= p.n) { return; }
    var s = 0.0;
    for (var r = 0u; r < p.rows; r++) { s += dy[r * p.n + j]; }
    out[j] = s;
}

// out[c] = sum_{n, s} dy[n, c, s] over `rows` samples of c1 channels of `inner` pixels (conv bias
// gradient); one thread per channel
@compute @workgroup_size(256)
fn channel_sum(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let c = flat(gid, nwg);
    if (c >= p.n) { return; }
    var s = 0.0;
    for (var n = 0u; n < p.rows; n++) {
        let base = (n * p.c1 + c) * p.inner;
        for (var k = 0u; k < p.inner; k++) { s += dy[base + k]; }
    }
    out[c] = s;
}

// dx = dy where lo <= x <= hi (a = lo, bits of c1 = hi), else 0: the gradient of clamp
@compute @workgroup_size(256)
fn clamp_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n) { return; }
    let v = x[i];
    let hi = bitcast<f32>(p.c1);
    if (v >= p.a && v <= hi) { out[i] = dy[i]; } else { out[i] = 0.0; }
}

// Zero insertion: out[nc, 2y, 2x] = dy[nc, y, x] and zeros at odd rows and columns (input H = c1,
// W = c2; output 2H x 2W): turns the gradient of a stride-2 convolution into a stride-1 one.
@compute @workgroup_size(256)
fn dilate2x(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n) { return; }
    let h = p.c1;
    let w = p.c2;
    let nc = i / (4u * h * w);
    let r = i % (4u * h * w);
    let oy = r / (2u * w);
    let ox = r % (2u * w);
    var v = 0.0;
    if ((oy & 1u) == 0u && (ox & 1u) == 0u) { v = dy[nc * h * w + (oy / 2u) * w + ox / 2u]; }
    out[i] = v;
}
