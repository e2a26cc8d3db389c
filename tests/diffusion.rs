//! The diffusion core on the GPU: the Philox Gaussian stream against its host reference, its
//! determinism, and the fused sampler update against the formula.

mod common;
use common::{gpu, randn};
use tweedie::Tensor;
use tweedie::diffusion::{self, Sampler, Schedule};
use tweedie::ops::reference::rel_l2;

#[test]
fn gpu_gaussian_stream_matches_host_philox_and_is_deterministic() {
    let g = gpu();
    let n = 10_007;
    let a = diffusion::randn(&g, &[n], 0xDEAD_BEEF_1234, 7, 1)
        .unwrap()
        .to_vec()
        .unwrap();
    let b = diffusion::randn(&g, &[n], 0xDEAD_BEEF_1234, 7, 1)
        .unwrap()
        .to_vec()
        .unwrap();
    assert_eq!(a, b, "same seed, same device: same bits");
    let c = diffusion::randn(&g, &[n], 0xDEAD_BEEF_1234, 8, 1)
        .unwrap()
        .to_vec()
        .unwrap();
    assert_ne!(a, c, "another step gives other numbers");
    let host: Vec<f32> = (0..n as u32)
        .map(|i| diffusion::randn_host(0xDEAD_BEEF_1234, 7, 1, i) as f32)
        .collect();
    // f32 log/cos on the device against f64 on the host: 1e-5 relative is a few ulps of each
    assert!(rel_l2(&a, &host) < 1e-5, "{}", rel_l2(&a, &host));
    let mean = a.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
    let var = a.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n as f64;
    assert!(
        mean.abs() < 0.04 && (var - 1.0).abs() < 0.05,
        "mean {mean} var {var}"
    );
}

#[test]
fn sampler_step_matches_the_formula() {
    let g = gpu();
    let sched = Schedule::ddpm_default();
    let n = 3 * 64;
    let xv = randn(1, n);
    let ev = randn(2, n);
    let x = Tensor::from_slice(&g, &[3, 64], &xv).unwrap();
    let e = Tensor::from_slice(&g, &[3, 64], &ev).unwrap();
    for (sampler, t, s) in [
        (Sampler::Ddim { eta: 0.0 }, 600, Some(560)),
        (Sampler::Ddpm, 300, Some(280)),
        (Sampler::Ddim { eta: 0.5 }, 40, None),
    ] {
        let out = diffusion::sampler_step(&x, &e, &sched, t, s, sampler, 99, 3)
            .unwrap()
            .to_vec()
            .unwrap();
        let [c0, cx, ce, sig] = diffusion::step_coefficients(&sched, t, s, sampler);
        let ab = sched.alphas_cumprod[t];
        let want: Vec<f32> = (0..n)
            .map(|i| {
                let x0 = ((xv[i] as f64 - (1.0 - ab).sqrt() * ev[i] as f64) / ab.sqrt()).clamp(-1.0, 1.0);
                let z = diffusion::randn_host(99, 3, 0, i as u32);
                (c0 * x0 + cx * xv[i] as f64 + ce * ev[i] as f64 + sig * z) as f32
            })
            .collect();
        let err = rel_l2(&out, &want);
        assert!(err < 1e-5, "{sampler:?}: {err}");
    }
}

/// The DDPM step with a learned variance: per element σ² = exp(f ln β + (1 − f) ln β̃), f = (v + 1)/2,
/// on the same Gaussian stream; v = −1 is the fixed small variance, and no noise at the last step.
#[test]
fn learned_variance_step_matches_the_formula() {
    let g = gpu();
    let sched = Schedule::ddpm_default();
    let n = 2 * 50;
    let xv = randn(11, n);
    let ev = randn(12, n);
    let vv: Vec<f32> = randn(13, n).iter().map(|v| v.tanh()).collect();
    let x = Tensor::from_slice(&g, &[2, 50], &xv).unwrap();
    let e = Tensor::from_slice(&g, &[2, 50], &ev).unwrap();
    let v = Tensor::from_slice(&g, &[2, 50], &vv).unwrap();
    for (t, s) in [(700, Some(650)), (300, Some(280)), (20, None)] {
        let out = diffusion::sampler_step_learned(&x, &e, &v, &sched, t, s, 5, 4)
            .unwrap()
            .to_vec()
            .unwrap();
        let [c0, cx, _, sig] = diffusion::step_coefficients(&sched, t, s, Sampler::Ddpm);
        let ab = sched.alphas_cumprod[t];
        let ab_s = s.map_or(1.0, |s| sched.alphas_cumprod[s]);
        let beta = 1.0 - ab / ab_s;
        let post = beta * (1.0 - ab_s) / (1.0 - ab);
        let want: Vec<f32> = (0..n)
            .map(|i| {
                let x0 = ((xv[i] as f64 - (1.0 - ab).sqrt() * ev[i] as f64) / ab.sqrt()).clamp(-1.0, 1.0);
                let z = diffusion::randn_host(5, 4, 0, i as u32);
                let f = (vv[i] as f64 + 1.0) / 2.0;
                let sd = if sig > 0.0 {
                    (0.5 * (f * beta.ln() + (1.0 - f) * post.ln())).exp()
                } else {
                    0.0
                };
                (c0 * x0 + cx * xv[i] as f64 + sd * z) as f32
            })
            .collect();
        let err = rel_l2(&out, &want);
        assert!(err < 1e-5, "t {t}: {err}");
        // v = -1 everywhere: the fixed small variance
        let lo = Tensor::full(&g, &[2, 50], -1.0).unwrap();
        let a = diffusion::sampler_step_learned(&x, &e, &lo, &sched, t, s, 5, 4).unwrap();
        let b = diffusion::sampler_step(&x, &e, &sched, t, s, Sampler::Ddpm, 5, 4).unwrap();
        let err = rel_l2(&a.to_vec().unwrap(), &b.to_vec().unwrap());
        assert!(err < 1e-6, "t {t}: v = -1 is the fixed variance ({err})");
    }
}
