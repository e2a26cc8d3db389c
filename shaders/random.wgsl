// The counter-based Gaussian stream: standard normal samples from Philox4x32-10 (philox.inc) keyed
// by the 64-bit seed, with the counter (element index, step, stream, 0): the same seed gives the same
// numbers on any device, in any dispatch order. The host reference is `ops::random::randn_host`.

struct P {
    n: u32,
    seed_lo: u32,
    seed_hi: u32,
    step: u32,
    stream: u32,
    _p0: u32, _p1: u32, _p2: u32,
}

@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

//!include philox.inc

// out = standard normal samples
@compute @workgroup_size(256)
fn randn(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 256u;
    if (i >= p.n) { return; }
    out[i] = philox_normal(vec4<u32>(i, p.step, p.stream, 0u), vec2<u32>(p.seed_lo, p.seed_hi));
}
