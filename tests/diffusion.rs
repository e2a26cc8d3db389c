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
