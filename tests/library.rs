//! The engine as a library: the `Denoiser` interface (the analytic Gaussian prior against its closed
//! forms), autograd state per computation (two VJPs interleaved on one device equal each alone, bit
//! for bit), and step-wise solver runs (interleaved runs equal runs alone; the estimate after each
//! step).

mod common;
use common::{fixture, gpu, randn};
use tweedie::diffusion::{Denoiser, GaussianDenoiser, Schedule, Timestep};
use tweedie::models::UNet2DModel;
use tweedie::operators::{self, TaskSpec};
use tweedie::solvers::{self, Problem};
use tweedie::{Tensor, autograd};

fn rel_l2(a: &[f32], b: &[f64]) -> f64 {
    let num: f64 = a.iter().zip(b).map(|(x, y)| (*x as f64 - y).powi(2)).sum();
    let den: f64 = b.iter().map(|y| y * y).sum();
    (num / den.max(1e-30)).sqrt()
}

fn gaussian(g: &tweedie::Gpu, shape: [usize; 3], seed: u64) -> GaussianDenoiser {
    let d: usize = shape.iter().product();
    let mean: Vec<f64> = randn(seed, d).iter().map(|&v| 0.5 * v as f64).collect();
    let std: Vec<f64> = randn(seed + 1, d)
        .iter()
        .map(|&v| 0.2 + 0.1 * (v as f64).abs())
        .collect();
    GaussianDenoiser::new(g, Schedule::ddpm_default(), shape, mean, std).unwrap()
}

/// ε and Tweedie's x̂0 of the Gaussian prior on the device match their closed forms in f64, and
/// its VJP is the closed-form slope times v. Tolerance 1e-5 relative L2 for ε and the VJP: a
/// handful of f32 elementwise ops (DESIGN.md's elementwise bound). x̂0 = (x − σε)/√ᾱ cancels and
/// then divides by √ᾱ (0.0067 at t = 990), which multiplies f32 rounding by up to 1/√ᾱ: its bound
/// is 1e-6/√ᾱ_t (measured 4e-8 at t = 10, 1.7e-5 at t = 990, bound 1.5e-4 there).
#[test]
fn gaussian_denoiser_matches_closed_forms() {
    let g = gpu();
    let shape = [2, 3, 5];
    let m = gaussian(&g, shape, 3);
    let x_host = randn(9, 3 * 30);
    let x = Tensor::from_slice(&g, &[3, 2, 3, 5], &x_host).unwrap();
    let mut worst = 0f64;
    for t in [10, 500, 990] {
        let ts = Timestep::new(&g, t).unwrap();
        let eps = m.eps(&x, &ts).unwrap();
        let e = rel_l2(&eps.to_vec().unwrap(), &m.eps_host(&x_host, t));
        // x̂0 from ε by Tweedie's formula on the device
        let (a, b) = m.schedule().x0_coefficients(t);
        let x0 = tweedie::ops::axpby(a as f32, &x, b as f32, &eps).unwrap();
        let e0 = rel_l2(&x0.to_vec().unwrap(), &m.x0_host(&x_host, t));
        // VJP: ε is affine in x with slope c = ε(x + 1) − ε(x) elementwise
        let v_host = randn(11 + t as u64, 90);
        let v = Tensor::from_slice(&g, &[3, 2, 3, 5], &v_host).unwrap();
        let (_, vjp) = m.eps_vjp(&x, &ts, &v).unwrap();
        let ones: Vec<f32> = x_host.iter().map(|v| v + 1.0).collect();
        let slope: Vec<f64> = m
            .eps_host(&ones, t)
            .iter()
            .zip(m.eps_host(&x_host, t))
            .zip(&v_host)
            .map(|((p, q), v)| (p - q) * *v as f64)
            .collect();
        let ev = rel_l2(&vjp.to_vec().unwrap(), &slope);
        println!("t={t}: eps {e:.2e}, x0 {e0:.2e}, vjp {ev:.2e}");
        assert!(
            e0 < 1e-6 / m.schedule().alpha_bar(Some(t)).sqrt(),
            "x0 at t={t}: {e0:.2e}"
        );
        worst = worst.max(e).max(ev);
    }
    assert!(worst < 1e-5, "Gaussian denoiser off its closed form: {worst:.2e}");
    assert!(m.check_input(&[1, 3, 2, 5]).is_err());
}

/// The dense posterior for denoising (A = I) equals the per-pixel conjugate formula.
#[test]
fn gaussian_posterior_for_denoising_is_conjugate() {
    let g = gpu();
    let shape = [1, 4, 3];
    let m = gaussian(&g, shape, 5);
    let spec: TaskSpec = "denoise".parse().unwrap();
    let op = operators::build(&g, &spec, shape).unwrap();
    let y = randn(21, 12);
    let sy = 0.3;
    let (mean, cov) = m.posterior(&|x| op.forward(x), &y, sy).unwrap();
    for i in 0..12 {
        let (mu, s) = (m.mean()[i], m.std()[i]);
        let var = 1.0 / (1.0 / (s * s) + 1.0 / (sy * sy));
        let mi = var * (mu / (s * s) + y[i] as f64 / (sy * sy));
        assert!(
            (mean[i] - mi).abs() < 1e-6 * (1.0 + mi.abs()),
            "mean {i}: {} vs {mi}",
            mean[i]
        );
        assert!((cov[i * 12 + i] - var).abs() < 1e-6 * var, "var {i}");
        assert!(cov[i * 12 + (i + 1) % 12].abs() < 1e-9, "independent pixels");
    }
}

/// Two computations with VJPs on one device, their forward passes and backward passes interleaved,
/// give the same gradients as each alone, bit for bit (the autograd graph belongs to the
/// computation, not the device).
#[test]
fn interleaved_vjps_equal_each_alone() {
    let g = gpu();
    let m = UNet2DModel::load(&g, &fixture("attn_heads")).unwrap();
    let t = Timestep::new(&g, 321).unwrap();
    let mk = |seed| Tensor::from_slice(&g, &[1, 3, 16, 16], &randn(seed, 768)).unwrap();
    let (x1, x2, v1, v2) = (mk(1), mk(2), mk(3), mk(4));
    let alone = |x: &Tensor, v: &Tensor| m.eps_vjp(x, &t, v).unwrap().1.to_vec().unwrap();
    let (g1, g2) = (alone(&x1, &v1), alone(&x2, &v2));
    let (a, b) = (x1.tracked(), x2.tracked());
    let e1 = m.eps(&a, &t).unwrap();
    let e2 = m.eps(&b, &t).unwrap();
    assert!(e1.is_tracked() && e2.is_tracked());
    let h2 = autograd::backward(&e2, &v2, &[&b]).unwrap().remove(0);
    let h1 = autograd::backward(&e1, &v1, &[&a]).unwrap().remove(0);
    assert_eq!(
        h1.to_vec().unwrap(),
        g1,
        "first VJP changed by the second computation"
    );
    assert_eq!(
        h2.to_vec().unwrap(),
        g2,
        "second VJP changed by the first computation"
    );
    // the cross terms are zero: e1 does not depend on x2
    let z = autograd::backward(&e1, &v1, &[&b]).unwrap().remove(0);
    assert!(z.to_vec().unwrap().iter().all(|&v| v == 0.0));
}

/// Two solver runs with VJPs (DPS and ΠGDM) advanced alternately, step by step, on one device give
/// the same results as each run alone, bit for bit; a run reports its steps and, after each step,
/// an estimate of x0; `solve` equals the step-wise run.
#[test]
fn interleaved_solver_runs_equal_runs_alone() {
    let g = gpu();
    let model = UNet2DModel::load(&g, &fixture("attn_heads")).unwrap();
    let spec: TaskSpec = "inpaint-box:x=4,y=4,w=8,h=8".parse().unwrap();
    let op = operators::build(&g, &spec, [3, 16, 16]).unwrap();
    let x = Tensor::from_slice(&g, &[1, 3, 16, 16], &randn(5, 768)).unwrap();
    let y = operators::add_noise(&op.forward(&x).unwrap(), 0.05, 1).unwrap();
    let p = Problem {
        model: &model,
        op: op.as_ref(),
        y: &y,
        sigma_y: 0.05,
    };
    let dps = solvers::create_for_task("dps", "inpaint-box", Some(3), &[]).unwrap();
    let pigdm = solvers::create_for_task("pigdm", "inpaint-box", Some(3), &[]).unwrap();
    let alone = |s: &dyn solvers::Solver| s.solve(&p, 11, &mut |_, _| {}).unwrap().to_vec().unwrap();
    let (a1, a2) = (alone(dps.as_ref()), alone(pigdm.as_ref()));

    let mut r1 = dps.start(&p, 11).unwrap();
    let mut r2 = pigdm.start(&p, 11).unwrap();
    assert_eq!((r1.steps(), r1.done()), (3, 0));
    assert!(r1.estimate().is_none(), "no estimate before the first step");
    let mut estimates = 0;
    loop {
        let (s1, s2) = (r1.step().unwrap(), r2.step().unwrap());
        if !(s1 || s2) {
            break;
        }
        for r in [&r1, &r2] {
            let e = r.estimate().expect("an estimate after each step");
            assert_eq!(e.shape(), &[1, 3, 16, 16]);
            assert!(!e.is_tracked(), "the estimate holds no autograd graph");
            estimates += 1;
        }
    }
    assert_eq!(estimates, 6);
    assert!(r1.is_finished() && r1.done() == 3);
    assert_eq!(
        r1.finish().unwrap().to_vec().unwrap(),
        a1,
        "DPS changed by interleaving"
    );
    assert_eq!(
        r2.finish().unwrap().to_vec().unwrap(),
        a2,
        "PiGDM changed by interleaving"
    );
}
