// vec4 forms of the busiest elementwise and layout kernels, for CPU adapters: llvmpipe loads storage
// buffers lane by lane, so a vec4 per invocation does the work of four invocations for the cost of
// one. One invocation per four outputs, on the 2-D grid of elementwise.wgsl. The parameter words are
// those of the scalar kernel (elementwise.wgsl's P, or elementwise_grad.wgsl's P for
// split_channels_v4); the launcher checks that the sizes below are multiples of four.

@group(0) @binding(0) var<uniform> p: array<vec4<u32>, 2>;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> y: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>;

fn word(i: u32) -> u32 {
    return p[i / 4u][i % 4u];
}

fn real(i: u32) -> f32 {
    return bitcast<f32>(word(i));
}

// the vec4 index of this invocation, or none past the end (word 0 holds the element count)
fn flat4(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * 256u;
}

// out = a * x + b * y
@compute @workgroup_size(256)
fn axpby(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat4(gid, nwg);
    if (i >= word(0u) / 4u) { return; }
    out[i] = real(1u) * x[i] + real(2u) * y[i];
}

// out = a * x + b
@compute @workgroup_size(256)
fn affine(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat4(gid, nwg);
    if (i >= word(0u) / 4u) { return; }
    out[i] = real(1u) * x[i] + vec4<f32>(real(2u));
}

// out = x * sigmoid(x)
@compute @workgroup_size(256)
fn silu(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat4(gid, nwg);
    if (i >= word(0u) / 4u) { return; }
    let v = x[i];
    out[i] = v / (vec4<f32>(1.0) + exp(-v));
}

// out = a * x + y[element / inner] (inner = word 3, a multiple of 4; y one value per (batch, channel))
@compute @workgroup_size(256)
fn add_bcast(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat4(gid, nwg);
    if (i >= word(0u) / 4u) { return; }
    let j = (4u * i) / word(3u);
    out[i] = real(1u) * x[i] + vec4<f32>(y[j / 4u][j % 4u]);
}

// channel concat of x (c1 = word 4 channels) and y (c2 = word 5) with inner = word 3 pixels each
@compute @workgroup_size(256)
fn concat(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat4(gid, nwg);
    if (i >= word(0u) / 4u) { return; }
    let inner4 = word(3u) / 4u;
    let c1 = word(4u);
    let c2 = word(5u);
    let ct = c1 + c2;
    let n = i / (ct * inner4);
    let r = i % (ct * inner4);
    let c = r / inner4;
    let s = r % inner4;
    if (c < c1) {
        out[i] = x[(n * c1 + c) * inner4 + s];
    } else {
        out[i] = y[(n * c2 + (c - c1)) * inner4 + s];
    }
}

// out[n, c, s] = dy[n, off + c, s] for c < c1 of c2 channels (elementwise_grad.wgsl's words: n,
// a, inner, c1, c2, off); dy is bound second
@compute @workgroup_size(256)
fn split_channels(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat4(gid, nwg);
    if (i >= word(0u) / 4u) { return; }
    let inner4 = word(2u) / 4u;
    let c1 = word(3u);
    let n = i / (c1 * inner4);
    let r = i % (c1 * inner4);
    out[i] = y[(n * word(4u) + word(5u)) * inner4 + r];
}
