// Texture <-> tensor conversion through a staging buffer of whole texels (a region of the texture is
// copied to or from it by the command encoder, rows padded to 256 bytes). Formats: 0 = 8-bit RGBA
// (one u32 per texel: rgba8unorm, bgra8unorm and their sRGB forms), 1 = rgba16float (two u32),
// 2 = r32float (one u32, the f32 bits). `swap` = 1 for BGRA byte order (blue and red exchanged on read
// and on write). `linear` = 1 for an sRGB texture whose tensor holds linear values: the stored
// (encoded) bytes are decoded on read and encoded on write with the sRGB transfer function; with
// `linear` = 0 the tensor holds the stored values themselves (a PNG's). The tensor is one image
// [C, H, W] (H, W the region's size) in the model's range [-1, 1]; texel values are in [0, 1]:
// x = 2 v - 1 and v = (x + 1) / 2. C = 1 reads the red channel and writes it to red, green and blue;
// C = 3 reads and writes RGB; alpha is written as 1.

struct P {
    w: u32, h: u32, row_words: u32, fmt: u32,
    channels: u32, offset: u32, swap: u32, linear: u32,
}

@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;

// sRGB (IEC 61966-2-1) encoded value -> linear, and back; both on [0, 1]
fn srgb_to_linear(c: vec3<f32>) -> vec3<f32> {
    let lo = c / 12.92;
    let hi = pow((c + 0.055) / 1.055, vec3<f32>(2.4));
    return select(hi, lo, c <= vec3<f32>(0.04045));
}

fn linear_to_srgb(l: vec3<f32>) -> vec3<f32> {
    let lo = l * 12.92;
    let hi = 1.055 * pow(l, vec3<f32>(1.0 / 2.4)) - 0.055;
    return select(hi, lo, l <= vec3<f32>(0.0031308));
}

fn texel(x: u32, y: u32) -> vec4<f32> {
    let i = y * p.row_words;
    if (p.fmt == 0u) {
        var v = unpack4x8unorm(src[i + x]);
        if (p.swap == 1u) { v = v.zyxw; }
        if (p.linear == 1u) { v = vec4<f32>(srgb_to_linear(v.xyz), v.w); }
        return v;
    } else if (p.fmt == 1u) {
        let a = unpack2x16float(src[i + 2u * x]);
        let b = unpack2x16float(src[i + 2u * x + 1u]);
        return vec4<f32>(a, b);
    }
    return vec4<f32>(bitcast<f32>(src[i + x]), 0.0, 0.0, 1.0);
}

// staging (src) -> tensor (dst, f32 bits), one invocation per pixel
@compute @workgroup_size(256)
fn unpack_texels(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
    let n = p.w * p.h;
    let i = gid.x + gid.y * nw.x * 256u;
    if (i >= n) { return; }
    let v = texel(i % p.w, i / p.w);
    for (var c = 0u; c < p.channels; c++) {
        dst[c * n + i] = bitcast<u32>(2.0 * v[c] - 1.0);
    }
}

// tensor (src, f32 bits, image at `offset` floats) -> staging (dst), one invocation per pixel
@compute @workgroup_size(256)
fn pack_texels(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
    let n = p.w * p.h;
    let i = gid.x + gid.y * nw.x * 256u;
    if (i >= n) { return; }
    var v = vec4<f32>(0.0, 0.0, 0.0, 1.0);
    for (var c = 0u; c < 3u; c++) {
        let cc = min(c, p.channels - 1u);
        v[c] = (bitcast<f32>(src[p.offset + cc * n + i]) + 1.0) * 0.5;
    }
    let x = i % p.w;
    let row = (i / p.w) * p.row_words;
    if (p.fmt == 0u) {
        if (p.linear == 1u) { v = vec4<f32>(linear_to_srgb(clamp(v.xyz, vec3<f32>(0.0), vec3<f32>(1.0))), v.w); }
        if (p.swap == 1u) { v = v.zyxw; }
        dst[row + x] = pack4x8unorm(v);
    } else if (p.fmt == 1u) {
        dst[row + 2u * x] = pack2x16float(v.xy);
        dst[row + 2u * x + 1u] = pack2x16float(v.zw);
    } else {
        dst[row + x] = bitcast<u32>(v.x);
    }
}
