//! Filtering Posterior Sampling (FPS-SMC).
//!
//! Dou, Song, "Diffusion Posterior Sampling for Linear Inverse Problem Solving: A Filtering
//! Perspective", ICLR 2024; official code ZehaoDou-official/FPS-SMC-2023
//! (`guided_diffusion/gaussian_diffusion.py`: `p_sample_loop` builds the measurement sequence,
//! `DDIM.p_sample` the particle step; `sample_condition.py` for `c_rate` 0.95 and `particle_size` 5).
//!
//! First a sequence of measurements `y_t` running alongside the diffusion is drawn backward from
//! `y_T = A z` by the DDIM-like bridge
//!
//! ```text
//! y_s = sqrt(ᾱ_s) y + sqrt((1 − c)(1 − ᾱ_s)/(1 − ᾱ_t)) (y_t − sqrt(ᾱ_t) y) + sqrt(c (1 − ᾱ_s)) A n,
//! ```
//!
//! so that `y_t` is distributed as `A x_t + sqrt(ᾱ_t) σ_y n`. Then K particles filter them: each
//! step's model transition `N(m(x_t), ν²)` (DDPM: η = 1) is combined with the Gaussian likelihood
//! `N(y_s; A x_s, ᾱ_s σ_y²)` in closed form through the SVD; the weight is the predictive likelihood
//! `N(y_s; A m, ᾱ_s σ_y² + ν² A Aᵀ)`, the particles are resampled, and each is drawn from its exact
//! Gaussian conditional (per spectral coordinate: a Kalman step). The last step to x0 is the model's
//! mean, unconditioned, as officially.
//! Departures: systematic resampling where the ESS falls under `ess · K` (official: multinomial at
//! every step, weights from the drawn samples, the same in expectation; default `ess` 1); the
//! weight in predictive form (the official's sample-based ratio has the same expectation); the
//! start from noise instead of the official conditional draw at T (there y_T is pure noise too).
//!
//! **The joint filter** (`filter=joint`, ours). The official weights multiply the Gaussian
//! likelihoods of every `y_t`, as if each were a fresh measurement of the chain; but the sequence
//! is built from one `y`, so the measurement is counted many times over and the particle cloud
//! narrows as K grows (measured in `tests/smc.rs`). In the model the sequence comes from, the
//! residual is one noise draw scaled through time: `y_t − A x_t = sqrt(ᾱ_t) σ_y n` for the same
//! `n` at every t, and `y_{1:T} | y` is the measurement process's own Markov chain, whatever the
//! prior. So the joint filter draws the sequence with that chain's reverse step (the DDPM posterior:
//! fresh share `c = (1 − ᾱ_t/ᾱ_s)/(1 − ᾱ_t)`), gives each particle its own `n` at T (its x_T
//! pinned to `(ȳ_T − sqrt(ᾱ_T) σ_y n̄)/s`, weighted by the prior density there), and at each step
//! pins the spectral coordinate to `x̄_s = (ȳ_s − sqrt(ᾱ_s/ᾱ_t)(ȳ_t − s x̄_t))/s`, weighted by the
//! model transition's density at that point. This is a particle filter for the joint chain, exact
//! as K grows (up to the Gaussian reverse transitions), and it meets the closed-form posterior in
//! `tests/smc.rs`. Pinning costs particles where a coordinate's measurement is noisy (`σ_y/s_j`
//! large: each particle's `n` then places it far off), so only coordinates with `σ_y ≤ pin · s_j`
//! (`pin` 1) are pinned; the others enter through y's likelihood at the end — with few particles
//! that is close to no conditioning (Gaussian deblurring, images 0–3, K = 4, 20 steps: 16.8 dB
//! against the official filter's 23.5), which is why the official filter stays the default.
//!
//! `--set particles=…,ess=…,output=sample|mean,chunk=…,c=…,eta=…,filter=official|joint,pin=…`; `measure=0` drops the
//! conditioning (plain DDPM particles).

use super::params::Choice;
use super::smc::{KalmanStep, MIN_SINGULAR, ParticleSettings, Potential, ddim_mean, posterior, repeat_index};
use super::{Problem, Run, Solver, Stepped, check_problem, next_t, require_svd, timesteps};
use crate::diffusion::{q_sample, randn};
use crate::error::{Error, Result, Setting};
use crate::ops;
use crate::solver_params;
use crate::tensor::Tensor;
use std::sync::Arc;
use std::sync::Mutex;

solver_params! {
    /// FPS-SMC with DDPM steps.
    pub struct Fps("fps") {
        /// Number of respaced steps.
        steps: usize = steps(100);
        /// Particles, resampling and output.
        particles: ParticleSettings = set(ParticleSettings::new(5, 1.0));
        /// The bridge's share of fresh noise (`c_rate`; the joint filter sets its own each step).
        c: f64 = set(0.95, 0.0..=1.0);
        /// DDIM η of the particles' transition (1: DDPM).
        eta: f64 = set(1.0, 0.01..=1.0);
        /// Which weights and proposals the particles use.
        filter: Filter = set(Filter::Official);
        /// The joint filter pins coordinates with `σ_y ≤ pin · s_j`.
        pin: f64 = set(1.0, 0.0..);
        /// Whether the measurement is used at all.
        measure: bool = measure();
    }
}

/// FPS's two filters of the measurement sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// The joint model of the chain and the sequence: residuals carried per particle, pinned
    /// coordinates, the sequence from the measurement process's own reverse step.
    Joint,
    /// The official code's Gaussian emissions at every step with the `c`-bridge (the default).
    Official,
}

impl Choice for Filter {
    const WORDS: &'static [(&'static str, Self)] =
        &[("joint", Filter::Joint), ("official", Filter::Official)];
    const EXPECTS: &'static str = "joint (exact as the particles grow) or official (the paper's weights)";
}

impl Solver for Fps {
    solver_params!(@particle_solver);

    fn start<'a>(&self, p: &Problem<'a>, seed: u64) -> Result<Run<'a>> {
        let (p, me) = (*p, *self);
        let [b, c, h, w] = check_problem(&p)?;
        let svd = require_svd(&p, Self::NAME)?;
        if me.measure && p.sigma_y <= 0.0 {
            return Err(Error::setting(
                Setting::SigmaY(p.sigma_y.to_string()),
                ": fps weighs particles by the Gaussian likelihood of the measurement, which needs σ_y > 0",
            ));
        }
        let sv: Vec<f64> = svd.singulars().iter().map(|&v| v as f64).collect();
        let s_dev: Vec<f32> = sv.iter().map(|&v| v as f32).collect();
        let shape = [b, c, h, w];
        let common = Common {
            shape,
            tt: timesteps(&p, me.steps)?,
            s_dev: Tensor::from_slice(p.model.gpu(), &[s_dev.len()], &s_dev)?,
            observed: sv.iter().map(|&s| me.measure && s >= MIN_SINGULAR).collect(),
            sv,
            ybar: svd.ut(p.y)?.reshape(&shape)?,
        };
        match me.filter {
            Filter::Joint => start_joint(&p, me, svd, seed, common),
            Filter::Official => start_official(&p, me, svd, seed, common),
        }
    }
}

/// What both filters start from: the batch's shape `[B, C, H, W]`, the respaced timesteps, the
/// singular values (host and device), the measurement in spectral coordinates `ȳ = Uᵀ y` and which
/// coordinates it observes.
struct Common {
    shape: [usize; 4],
    tt: Vec<crate::diffusion::Timestep>,
    sv: Vec<f64>,
    s_dev: Tensor,
    ybar: Tensor,
    observed: Vec<bool>,
}

/// The measurement sequence in spectral coordinates, `ȳ_t` for every respaced timestep (per
/// observation, `[B, C, H, W]`), drawn backward by the bridge with fresh-noise share `c(t, s)`.
fn bridge(
    p: &Problem,
    tt: &[crate::diffusion::Timestep],
    ybar: &Tensor,
    s_dev: &Tensor,
    seed: u64,
    start: Tensor,
    c: &dyn Fn(f64, f64) -> f64,
) -> Result<Vec<Tensor>> {
    let (gpu, shape) = (p.model.gpu(), ybar.shape().to_vec());
    let sched = p.schedule();
    let ab = |t: usize| sched.alpha_bar(Some(t));
    let mut seq = vec![start];
    for i in 0..tt.len() - 1 {
        let (ab_t, ab_s) = (ab(tt[i].t), ab(tt[i + 1].t));
        let c = c(ab_t, ab_s);
        let c1 = ((1.0 - c) * (1.0 - ab_s) / (1.0 - ab_t)).sqrt();
        let c4 = (c * (1.0 - ab_s)).sqrt();
        let dev = ops::axpby(1.0, &seq[i], -ab_t.sqrt() as f32, ybar)?;
        let fresh = ops::mul_bcast(&randn(gpu, &shape, seed, i as u32 + 1, 4)?, s_dev)?;
        let next = ops::axpby(ab_s.sqrt() as f32, ybar, c1 as f32, &dev)?;
        seq.push(ops::axpby(1.0, &next, c4 as f32, &fresh)?);
    }
    Ok(seq)
}

/// The official filter: Gaussian emissions `N(ȳ_s; s x̄_s, ᾱ_s σ_y²)` at every step.
fn start_official<'a>(
    p: &Problem<'a>,
    me: Fps,
    svd: &'a dyn crate::operators::Svd,
    seed: u64,
    common: Common,
) -> Result<Run<'a>> {
    let p = *p;
    let Common {
        shape,
        tt,
        sv,
        s_dev,
        ybar,
        observed,
    } = common;
    let [b, c, h, w] = shape;
    let gpu = p.model.gpu();
    let k = me.particles.fitting(gpu, [b, c, h, w])?;
    let n = tt.len();
    let sched = p.schedule();
    let start = ops::mul_bcast(&randn(gpu, &shape, seed, 0, 4)?, &s_dev)?;
    let seq = bridge(&p, &tt, &ybar, &s_dev, seed, start, &|_, _| me.c)?;
    let mut plan = Vec::with_capacity(n);
    for i in 0..n {
        let (t, prev) = (tt[i].t, next_t(&tt, i));
        let tr = sched.transition(t, prev, me.eta);
        let (nu, ab_p) = (tr.sigma, tr.ab_s);
        // N(ȳ_s; s x̄, ᾱ_s σ_y²) per coordinate: x̄_j ~ ȳ_s,j / s_j with variance ᾱ_s σ_y² / s_j²
        let next = Potential {
            active: observed.iter().map(|&o| o && prev.is_some()).collect(),
            gain: sv.iter().map(|&s| 1.0 / s.max(MIN_SINGULAR)).collect(),
            var: sv
                .iter()
                .map(|&s| ab_p * p.sigma_y * p.sigma_y / s.max(MIN_SINGULAR).powi(2))
                .collect(),
        };
        plan.push(KalmanStep::new(gpu, nu, &next, None)?);
    }
    let x = randn(gpu, &[b * k, c, h, w], seed, 0, 1)?;
    let logw = Arc::new(Mutex::new(Tensor::full(gpu, &[b * k], 0.0)?));
    let lw = logw.clone();
    let rep = repeat_index(gpu, b, k)?;
    let step = move |x: &Tensor, i: usize| {
        let (t, prev) = (&tt[i], next_t(&tt, i));
        let (m, _, x0) = ddim_mean(&p, x, t, prev, me.eta, me.particles.chunk)?;
        let (xbar, mbar) = (svd.vt(x)?, svd.vt(&m)?);
        let ys = ops::particles::gather_rows(&seq[(i + 1).min(n - 1)], &rep)?;
        let mut l = lw.lock().unwrap();
        let (xn, logw) = plan[i].apply(&xbar, &mbar, &ys, &ys, &l, &me.particles, seed, i as u32)?;
        *l = logw;
        Ok(Stepped {
            x: svd.v(&xn)?,
            x0: Some(x0),
        })
    };
    let spec = me.particles;
    let finish = Box::new(move |x: Tensor| posterior(&x, &logw.lock().unwrap(), &spec, seed));
    Ok(Run::particles(Fps::NAME, gpu, x, n, step, finish))
}

/// The joint filter: the measurement sequence drawn from its own reverse process, and each
/// particle carrying the residual `ȳ_t − s x̄_t = sqrt(ᾱ_t) σ_y n̄` on its deterministic path, so
/// that the coordinates it pins are exact given the particle's past.
fn start_joint<'a>(
    p: &Problem<'a>,
    me: Fps,
    svd: &'a dyn crate::operators::Svd,
    seed: u64,
    common: Common,
) -> Result<Run<'a>> {
    let p = *p;
    let Common {
        shape,
        tt,
        sv,
        s_dev,
        ybar,
        observed,
    } = common;
    let [b, c, h, w] = shape;
    let gpu = p.model.gpu();
    let k = me.particles.fitting(gpu, [b, c, h, w])?;
    let n = tt.len();
    let sched = p.schedule();
    let ab = |t: Option<usize>| sched.alpha_bar(t);
    let sy = p.sigma_y;
    let vec_dev = |v: &dyn Fn(f64, usize) -> f64| -> Result<Tensor> {
        let v: Vec<f32> = sv.iter().enumerate().map(|(j, &s)| v(s, j) as f32).collect();
        Tensor::from_slice(gpu, &[v.len()], &v)
    };
    // coordinates whose measurement is sharper than `pin` follow the sequence; the rest enter
    // through the likelihood of y itself at the end
    let pinned: Vec<bool> = sv
        .iter()
        .zip(&observed)
        .map(|(&s, &o)| o && sy <= me.pin * s)
        .collect();
    let pin_mask = vec_dev(&|_, j| pinned[j] as u8 as f64)?;
    let inv_s = vec_dev(&|s, j| if pinned[j] { 1.0 / s } else { 0.0 })?;
    let ab_first = ab(Some(tt[0].t));
    let start = q_sample(
        sched,
        &ybar,
        tt[0].t,
        &ops::mul_bcast(&randn(gpu, &shape, seed, 0, 4)?, &s_dev)?,
    )?;
    // the y process's own reverse step (the DDPM posterior): fresh share (1 − ᾱ_t/ᾱ_s)/(1 − ᾱ_t)
    let seq = bridge(&p, &tt, &ybar, &s_dev, seed, start, &|ab_t, ab_s| {
        ((1.0 - ab_t / ab_s) / (1.0 - ab_t)).clamp(0.0, 1.0)
    })?;
    let mut plan = Vec::with_capacity(n);
    let mut rho = Vec::with_capacity(n);
    for i in 0..n {
        let (t, prev) = (tt[i].t, next_t(&tt, i));
        let nu = sched.transition(t, prev, me.eta).sigma;
        rho.push((ab(prev) / ab(Some(t))).sqrt() as f32);
        let gain = sv.iter().map(|&s| 1.0 / s.max(MIN_SINGULAR)).collect();
        let next = match prev {
            Some(_) => Potential {
                active: pinned.clone(),
                gain,
                var: vec![0.0; sv.len()],
            },
            None => Potential {
                active: observed.iter().zip(&pinned).map(|(&o, &q)| o && !q).collect(),
                gain,
                var: sv
                    .iter()
                    .map(|&s| sy * sy / s.max(MIN_SINGULAR).powi(2))
                    .collect(),
            },
        };
        plan.push(KalmanStep::new(gpu, nu, &next, None)?);
    }
    let rep = repeat_index(gpu, b, k)?;
    // x_T: the pinned coordinates at (ȳ_T − sqrt(ᾱ_T) σ_y n̄)/s, each particle with its own n̄,
    // weighted by their prior density N(0, 1); the others from the prior
    let rows = [b * k, c, h, w];
    let z = randn(gpu, &rows, seed, 0, 1)?;
    let nbar = randn(gpu, &rows, seed, 0, 5)?;
    let y_first = ops::particles::gather_rows(&seq[0], &rep)?;
    let r = ops::axpby(1.0, &y_first, -(ab_first.sqrt() * sy) as f32, &nbar)?;
    let pinned_x = ops::mul_bcast(&r, &inv_s)?;
    let free = ops::axpby(1.0, &z, -1.0, &ops::mul_bcast(&z, &pin_mask)?)?;
    let xbar = ops::add(&free, &pinned_x)?;
    let logw = ops::scale(&ops::sumsq_rows(&pinned_x, b * k)?, -0.5)?;
    let x = svd.v(&xbar)?;
    let logw = Arc::new(Mutex::new(logw));
    let lw = logw.clone();
    let y0 = ops::particles::gather_rows(&ybar, &rep)?;
    let step = move |x: &Tensor, i: usize| {
        let (t, prev) = (&tt[i], next_t(&tt, i));
        let (m, _, x0) = ddim_mean(&p, x, t, prev, me.eta, me.particles.chunk)?;
        let (xbar, mbar) = (svd.vt(x)?, svd.vt(&m)?);
        // the target of the pinned coordinates: ȳ_s − sqrt(ᾱ_s/ᾱ_t) (ȳ_t − s x̄_t)
        let yt = ops::particles::gather_rows(&seq[i], &rep)?;
        let ys = match prev {
            Some(_) => ops::particles::gather_rows(&seq[i + 1], &rep)?,
            None => y0.clone(),
        };
        let resid = ops::axpby(1.0, &yt, -1.0, &ops::mul_bcast(&xbar, &s_dev)?)?;
        let target = ops::axpby(1.0, &ys, -rho[i], &resid)?;
        let mut l = lw.lock().unwrap();
        let (xn, logw) = match prev {
            Some(_) => plan[i].apply(&xbar, &mbar, &target, &target, &l, &me.particles, seed, i as u32)?,
            None => {
                // the last transition is deterministic: the pinned coordinates land on their
                // target, the others on the model's mean, weighted by y's likelihood
                let keep = ops::axpby(1.0, &mbar, -1.0, &ops::mul_bcast(&mbar, &pin_mask)?)?;
                let mbar = ops::add(&keep, &ops::mul_bcast(&target, &inv_s)?)?;
                plan[i].apply(&xbar, &mbar, &y0, &y0, &l, &me.particles, seed, i as u32)?
            }
        };
        *l = logw;
        Ok(Stepped {
            x: svd.v(&xn)?,
            x0: Some(x0),
        })
    };
    let spec = me.particles;
    let finish = Box::new(move |x: Tensor| posterior(&x, &logw.lock().unwrap(), &spec, seed));
    Ok(Run::particles(Fps::NAME, gpu, x, n, step, finish))
}
