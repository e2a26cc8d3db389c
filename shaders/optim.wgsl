// Optimisers that update a tensor in place on the device (see src/ops/optim.rs).
//
// adam: one fused pass of Adam (Kingma & Ba 2015) per element: the moments m and v, their bias
// correction (c1 = 1 / (1 - b1^t), c2 = 1 / (1 - b2^t), computed on the host) and the step
//   x <- x - lr * (m c1) / (sqrt(v c2) + eps).

struct P {
    n: u32,
    pad0: u32,
    pad1: u32,
    pad2: u32,
    lr: f32,
    b1: f32,
    b2: f32,
    eps: f32,
    c1: f32,
    c2: f32,
    pad3: f32,
    pad4: f32,
}

@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;

@compute @workgroup_size(256)
fn adam(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 256u;
    if (i >= p.n) { return; }
    let gi = g[i];
    let mi = p.b1 * m[i] + (1.0 - p.b1) * gi;
    let vi = p.b2 * v[i] + (1.0 - p.b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    x[i] = x[i] - p.lr * (mi * p.c1) / (sqrt(vi * p.c2) + p.eps);
}
