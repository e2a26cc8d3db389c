// Texture <-> tensor conversion through a staging buffer of whole texels (the texture is copied to or
// from it by the command encoder, rows padded to 256 bytes). Formats: 0 = rgba8unorm (one u32 per
// texel), 1 = rgba16float (two u32), 2 = r32float (one u32, the f32 bits). The tensor is one image
// [C, H, W] in the model's range [-1, 1]; texels are in [0, 1]: x = 2 v - 1 and v = (x + 1) / 2.
// C = 1 reads the red channel and writes it to red, green and blue; C = 3 reads and writes RGB;
// alpha is written as 1.

struct P {
    w: u32, h: u32, row_words: u32, fmt: u32,
    channels: u32, offset: u32, _p0: u32, _p1: u32,
}

@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;

fn texel(x: u32, y: u32) -> vec4<f32> {
    let i = y * p.row_words;
    if (p.fmt == 0u) {
        return unpack4x8unorm(src[i + x]);
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
        dst[row + x] = pack4x8unorm(v);
    } else if (p.fmt == 1u) {
        dst[row + 2u * x] = pack2x16float(v.xy);
        dst[row + 2u * x + 1u] = pack2x16float(v.zw);
    } else {
        dst[row + x] = bitcast<u32>(v.x);
    }
}
