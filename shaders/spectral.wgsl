// Per-coordinate updates in the spectral space of an operator's SVD A = U S V^T (see
// src/ops/spectral.rs): the DDRM step (Kawar et al. 2022, functions/denoising.py of
// bahjat-kawar/ddrm), the DDNM / DDNM+ step (Wang et al. 2023, functions/svd_operators.py
// Lambda / Lambda_noise of wyhuai/DDNM) and the gain s / (s^2 + c) of the noisy Pi-GDM guidance.
//
// Every buffer holds spectral coordinates of a batch; s has one sample's worth and is broadcast.
// A coordinate with s = 0 is one the measurement does not see.

struct P {
    n: u32,
    inner: u32,    // singular values per sample
    mode: u32,     // ddrm: 1 = draw x_T from p(x_T | y); ddnm: 1 = noisy-case lambda and gamma (DDNM+)
    pad: u32,
    a: f32,        // scale of the output (sqrt(abar) of the next step)
    sig: f32,      // ddrm: VE sigma of the next step; ddnm: sqrt(1 - abar_next); gain: c
    sigma_y: f32,
    eta: f32,
    eta_b: f32,
}

@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x0: array<f32>;   // V^T x0_hat (gain: its input)
@group(0) @binding(2) var<storage, read> uty: array<f32>;  // U^T y, zero where s = 0
@group(0) @binding(3) var<storage, read> ebar: array<f32>; // V^T eps
@group(0) @binding(4) var<storage, read> z: array<f32>;    // fresh standard normals
@group(0) @binding(5) var<storage, read> s: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;

fn flat(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * 256u;
}

@compute @workgroup_size(256)
fn ddrm_step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n) { return; }
    let sj = s[i % p.inner];
    let sig = p.sig;
    let sy = p.sigma_y;
    var v: f32;
    if (p.mode == 1u) {
        // x_T: where y is less noisy than x_T, start from y's estimate plus the missing noise
        if (sj > 0.0 && sj * sig > sy) {
            v = uty[i] / sj + sqrt(max(sig * sig - sy * sy / (sj * sj), 0.0)) * z[i];
        } else {
            v = sig * z[i];
        }
    } else if (sj > 0.0 && sj * sig > sy) {
        // y is noisier than x_t here: pull towards y's estimate, with the noise that y lacks
        v = p.eta_b * uty[i] / sj + (1.0 - p.eta_b) * x0[i]
            + sqrt(max(sig * sig - sy * sy * p.eta_b * p.eta_b / (sj * sj), 0.0)) * z[i];
    } else if (sj > 0.0 && sj * sig < sy) {
        // y is less noisy: a DDIM-like step whose deterministic direction is the residual of y
        v = x0[i] + sqrt(1.0 - p.eta * p.eta) * sig * (uty[i] - sj * x0[i]) / sy + p.eta * sig * z[i];
    } else {
        // unobserved (or at the boundary): plain DDIM with eta
        v = x0[i] + sqrt(1.0 - p.eta * p.eta) * sig * ebar[i] + p.eta * sig * z[i];
    }
    out[i] = p.a * v;
}

@compute @workgroup_size(256)
fn ddnm_step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n) { return; }
    let sj = s[i % p.inner];
    let sig = p.sig;
    let sy = p.sigma_y;
    let a = p.a;
    let keep = sqrt(1.0 - p.eta * p.eta);
    var x = x0[i];
    var d1 = sig * p.eta;
    var d2 = sig * keep;
    if (sj > 0.0) {
        var lam = 1.0;
        if (p.mode == 1u && sy > 0.0) {
            if (sj * sig < a * sy) {
                lam = sj * sig * keep / (a * sy);
                d2 = 0.0;
            } else if (sj * sig > a * sy) {
                d1 = sqrt(max(sig * sig - a * a * sy * sy / (sj * sj), 0.0));
                d2 = 0.0;
            }
        }
        // range-space correction x0 - lambda A^+ (A x0 - y), coordinate by coordinate
        x = x - lam * (x - uty[i] / sj);
    }
    out[i] = a * x + d1 * z[i] + d2 * ebar[i];
}

@compute @workgroup_size(256)
fn gain(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n) { return; }
    let sj = s[i % p.inner];
    var g = 0.0;
    if (sj > 0.0) { g = sj / (sj * sj + p.sig); }
    out[i] = g * x0[i];
}
