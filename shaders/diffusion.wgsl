// Diffusion kernels: the fused sampler update.
//
// Its noise is the Gaussian stream of random.wgsl: Philox4x32-10 (philox.inc) keyed by the 64-bit
// seed, with the counter (element index, step, stream, 0).

struct P {
    n: u32,
    seed_lo: u32,
    seed_hi: u32,
    step: u32,
    stream: u32,
    clip: u32,        // clip x0_hat to [-1, 1]
    inv_sqrt_ab: f32, // 1 / sqrt(alpha_bar_t)
    sqrt_1m_ab: f32,  // sqrt(1 - alpha_bar_t)
    c_x0: f32,        // x_s = c_x0 * x0_hat + c_x * x_t + c_eps * eps + sigma * z
    c_x: f32,
    c_eps: f32,
    sigma: f32,
    log_lo: f32,      // learned variance: log of the posterior variance (frac = 0)
    log_hi: f32,      // and of beta (frac = 1)
}

@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> eps: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read> var_v: array<f32>; // learned-variance outputs in [-1, 1]

//!include philox.inc

fn normal(i: u32) -> f32 {
    return philox_normal(vec4<u32>(i, p.step, p.stream, 0u), vec2<u32>(p.seed_lo, p.seed_hi));
}

fn flat(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * 256u;
}

// The DDPM / DDIM update from x_t and the model's eps, with Tweedie's x0_hat formed (and clipped) inline.
@compute @workgroup_size(256)
fn sampler_step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n) { return; }
    let xt = x[i];
    let e = eps[i];
    var x0 = (xt - p.sqrt_1m_ab * e) * p.inv_sqrt_ab;
    if (p.clip != 0u) { x0 = clamp(x0, -1.0, 1.0); }
    var v = p.c_x0 * x0 + p.c_x * xt + p.c_eps * e;
    if (p.sigma != 0.0) { v += p.sigma * normal(i); }
    out[i] = v;
}

// The DDPM update with guided-diffusion's learned variance (learned_range): per element,
// log sigma^2 = frac * log(beta) + (1 - frac) * log(posterior variance), frac = (v + 1) / 2; no noise
// when sigma == 0 (the last step).
@compute @workgroup_size(256)
fn sampler_step_learned(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n) { return; }
    let xt = x[i];
    let e = eps[i];
    var x0 = (xt - p.sqrt_1m_ab * e) * p.inv_sqrt_ab;
    if (p.clip != 0u) { x0 = clamp(x0, -1.0, 1.0); }
    var v = p.c_x0 * x0 + p.c_x * xt;
    if (p.sigma != 0.0) {
        let frac = 0.5 * (var_v[i] + 1.0);
        v += exp(0.5 * (frac * p.log_hi + (1.0 - frac) * p.log_lo)) * normal(i);
    }
    out[i] = v;
}
