// Complex tensors and the discrete Fourier transform. A complex tensor is f32 pairs (re, im) in its
// last axis: shape [..., H, W, 2].
// - fft_line: one radix-2 transform of length n (a power of two, <= 1024) per workgroup, along lines
//   of stride `inner` (1: the W axis; W: the H axis): bit-reversed load into workgroup memory, log2 n
//   in-place butterfly stages (Cooley-Tukey decimation in time), scaled store. sign -1: forward.
// - embed: real [R, h, w] -> complex [R, nh, nw, 2], the image centred in zeros (imaginary part 0).
// - crop_real: the adjoint of embed: the real part of the centred h x w window.
// - cabs / cabs_grad: |z| and its vector-Jacobian product g z / |z| (0 where z = 0).

struct P {
    a: u32,     // fft: n;      embed/crop: h;  cabs: count
    b: u32,     // fft: log2 n; embed/crop: w
    c: u32,     // fft: lines;  embed/crop: nh
    d: u32,     // fft: inner;  embed/crop: nw
    e: f32,     // fft: sign
    f: f32,     // fft: scale
    count: u32, // embed/crop: output elements (complex for embed, real for crop)
    _p: u32,
}

@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> aux: array<f32>; // cabs_grad: z
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const PI: f32 = 3.14159265358979;
const WG: u32 = 128u;

var<workgroup> re: array<f32, 1024>;
var<workgroup> im: array<f32, 1024>;

@compute @workgroup_size(128)
fn fft_line(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) tid: u32,
) {
    let l = wg.x + wg.y * nwg.x;
    if (l >= p.c) {
        return;
    }
    let n = p.a;
    let base = (l / p.d) * (n * p.d) + (l % p.d);
    for (var i = tid; i < n; i += WG) {
        let r = reverseBits(i) >> (32u - p.b);
        let src = 2u * (base + r * p.d);
        re[i] = x[src];
        im[i] = x[src + 1u];
    }
    workgroupBarrier();
    var half = 1u;
    for (var s = 0u; s < p.b; s += 1u) {
        for (var j = tid; j < n / 2u; j += WG) {
            let k = j % half;
            let ia = (j / half) * 2u * half + k;
            let ib = ia + half;
            let ang = p.e * PI * f32(k) / f32(half);
            let wr = cos(ang);
            let wi = sin(ang);
            let br = re[ib] * wr - im[ib] * wi;
            let bi = re[ib] * wi + im[ib] * wr;
            let ar = re[ia];
            let ai = im[ia];
            re[ia] = ar + br;
            im[ia] = ai + bi;
            re[ib] = ar - br;
            im[ib] = ai - bi;
        }
        workgroupBarrier();
        half *= 2u;
    }
    for (var i = tid; i < n; i += WG) {
        let dst = 2u * (base + i * p.d);
        out[dst] = re[i] * p.f;
        out[dst + 1u] = im[i] * p.f;
    }
}

fn flat(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * 256u;
}

@compute @workgroup_size(256)
fn embed(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let o = flat(gid, nwg); // complex element of [R, nh, nw]
    if (o >= p.count) {
        return;
    }
    let j = o % p.d;
    let i = (o / p.d) % p.c;
    let r = o / (p.d * p.c);
    let oi = (p.c - p.a) / 2u;
    let oj = (p.d - p.b) / 2u;
    var v = 0.0;
    if (i >= oi && i < oi + p.a && j >= oj && j < oj + p.b) {
        v = x[(r * p.a + (i - oi)) * p.b + (j - oj)];
    }
    out[2u * o] = v;
    out[2u * o + 1u] = 0.0;
}

@compute @workgroup_size(256)
fn crop_real(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let o = flat(gid, nwg); // real element of [R, h, w]
    if (o >= p.count) {
        return;
    }
    let j = o % p.b;
    let i = (o / p.b) % p.a;
    let r = o / (p.a * p.b);
    let oi = (p.c - p.a) / 2u;
    let oj = (p.d - p.b) / 2u;
    out[o] = x[2u * ((r * p.c + i + oi) * p.d + j + oj)];
}

@compute @workgroup_size(256)
fn cabs(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let o = flat(gid, nwg);
    if (o >= p.a) {
        return;
    }
    let zr = x[2u * o];
    let zi = x[2u * o + 1u];
    out[o] = sqrt(zr * zr + zi * zi);
}

@compute @workgroup_size(256)
fn cabs_grad(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let o = flat(gid, nwg); // x: g [count]; aux: z [count, 2]
    if (o >= p.a) {
        return;
    }
    let zr = aux[2u * o];
    let zi = aux[2u * o + 1u];
    let m = sqrt(zr * zr + zi * zi);
    var s = 0.0;
    if (m > 0.0) {
        s = x[o] / m;
    }
    out[2u * o] = s * zr;
    out[2u * o + 1u] = s * zi;
}
