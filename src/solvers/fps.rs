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
//! `--set particles=…,ess=…,output=sample|mean,chunk=…,c=…,eta=…`; `measure=0` drops the
//! conditioning (plain DDPM particles).

use super::smc::{KalmanStep, ParticleSettings, Potential, ddim_mean, posterior, repeat_index};
use super::{Params, Problem, Run, Solver, Stepped, check_problem, next_t, require_svd, timesteps};
use crate::diffusion::randn;
use crate::error::{Error, Result};
use crate::ops;
use crate::tensor::Tensor;
use std::cell::RefCell;
use std::rc::Rc;

/// FPS-SMC with DDPM steps.
#[derive(Debug, Clone, Copy)]
pub struct Fps {
    /// Number of respaced steps.
    pub steps: usize,
    /// Particles, resampling and output.
    pub particles: ParticleSettings,
    /// The bridge's share of fresh noise (`c_rate`).
    pub c: f64,
    /// DDIM η of the particles' transition (1: DDPM).
    pub eta: f64,
    /// Whether the measurement is used at all.
    pub measure: bool,
}

impl Fps {
    /// FPS with `steps` (default 100) and `--set` parameters.
    pub fn new(steps: Option<usize>, sets: &[(String, String)]) -> Result<Self> {
        let mut p = Params::new("fps", sets);
        let d = Fps {
            steps: steps.unwrap_or(100),
            particles: ParticleSettings::parse(&mut p, 5, 1.0)?,
            c: p.f64("c", 0.95, 0.0, 1.0)?,
            eta: p.f64("eta", 1.0, 0.01, 1.0)?,
            measure: p.flag("measure", true)?,
        };
        p.finish()?;
        Ok(d)
    }
}

/// Singular values below this count as unobserved.
const MIN_SINGULAR: f64 = 1e-6;

impl Solver for Fps {
    fn name(&self) -> &'static str {
        "fps"
    }

    fn gives_std(&self) -> bool {
        true
    }

    fn settings(&self) -> Vec<(String, String)> {
        let mut s = vec![("steps".into(), self.steps.to_string())];
        s.extend(self.particles.pairs());
        s.push(("c".into(), self.c.to_string()));
        s.push(("eta".into(), self.eta.to_string()));
        s.push(("measure".into(), (self.measure as u8).to_string()));
        s
    }

    fn start<'a>(&self, p: &Problem<'a>, seed: u64) -> Result<Run<'a>> {
        let (p, me) = (*p, *self);
        let [b, c, h, w] = check_problem(&p)?;
        let svd = require_svd(&p, "fps")?;
        if me.measure && p.sigma_y <= 0.0 {
            return Err(Error::Input(
                "fps weighs particles by the Gaussian likelihood of the measurement: give --sigma-y > 0"
                    .into(),
            ));
        }
        let gpu = p.model.gpu();
        let k = me.particles.k;
        let tt = timesteps(&p, self.steps)?;
        let n = tt.len();
        let sched = p.schedule();
        let ab = |t: Option<usize>| sched.alpha_bar(t);
        let sv: Vec<f64> = svd.singulars().iter().map(|&v| v as f64).collect();
        let s_dev: Vec<f32> = sv.iter().map(|&v| v as f32).collect();
        let s_dev = Tensor::from_slice(gpu, &[s_dev.len()], &s_dev)?;
        // the measurement sequence in spectral coordinates, ȳ_t for every timestep, per observation
        let shape = [b, c, h, w];
        let ybar = svd.ut(p.y)?.reshape(&shape)?;
        let mut seq = vec![ops::mul_bcast(&randn(gpu, &shape, seed, 0, 4)?, &s_dev)?];
        for i in 0..n - 1 {
            let (ab_t, ab_s) = (ab(Some(tt[i].t)), ab(Some(tt[i + 1].t)));
            let c1 = ((1.0 - me.c) * (1.0 - ab_s) / (1.0 - ab_t)).sqrt();
            let c4 = (me.c * (1.0 - ab_s)).sqrt();
            let dev = ops::axpby(1.0, &seq[i], -ab_t.sqrt() as f32, &ybar)?;
            let fresh = ops::mul_bcast(&randn(gpu, &shape, seed, i as u32 + 1, 4)?, &s_dev)?;
            let next = ops::axpby(ab_s.sqrt() as f32, &ybar, c1 as f32, &dev)?;
            seq.push(ops::axpby(1.0, &next, c4 as f32, &fresh)?);
        }
        let observed: Vec<bool> = sv.iter().map(|&s| me.measure && s >= MIN_SINGULAR).collect();
        let mut plan = Vec::with_capacity(n);
        for i in 0..n {
            let (t, prev) = (tt[i].t, next_t(&tt, i));
            let (ab_t, ab_p) = (ab(Some(t)), ab(prev));
            let nu = me.eta
                * ((1.0 - ab_p) / (1.0 - ab_t) * (1.0 - ab_t / ab_p))
                    .max(0.0)
                    .sqrt();
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
        let logw = Rc::new(RefCell::new(Tensor::full(gpu, &[b * k], 0.0)?));
        let lw = logw.clone();
        let rep = repeat_index(gpu, b, k)?;
        let step = move |x: &Tensor, i: usize| {
            let (t, prev) = (&tt[i], next_t(&tt, i));
            let (m, _, x0) = ddim_mean(&p, x, t, prev, me.eta, me.particles.chunk)?;
            let (xbar, mbar) = (svd.vt(x)?, svd.vt(&m)?);
            let ys = ops::particles::gather_rows(&seq[(i + 1).min(n - 1)], &rep)?;
            let mut l = lw.borrow_mut();
            let (xn, logw) = plan[i].apply(&xbar, &mbar, &ys, &ys, &l, &me.particles, seed, i as u32)?;
            *l = logw;
            Ok(Stepped {
                x: svd.v(&xn)?,
                x0: Some(x0),
            })
        };
        let spec = me.particles;
        let finish = Box::new(move |x: Tensor| posterior(&x, &logw.borrow(), &spec, seed));
        Ok(Run::particles("fps", gpu, x, n, step, finish))
    }
}
