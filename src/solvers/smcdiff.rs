//! SMCDiff: particle filtering with replacement, for inpainting.
//!
//! Trippe, Yim, Tischer, Baker, Broderick, Barzilay, Jaakkola, "Diffusion probabilistic modeling of
//! protein backbones in 3D for the motif-scaffolding problem", ICLR 2023; the image version in
//! blt2114/twisted_diffusion_sampler (`image_exp/image_diffusion/feynman_kac_image_ddpm.py`,
//! `SMCDiffDDPM`), which this follows.
//!
//! The observed pixels `y = M ⊙ x` are noised forward once, along one trajectory shared by the
//! particles (`y_t` from `y_s`, `s < t`, by the forward process); K particles run the model's DDPM
//! chain on the unobserved pixels, and at every step the observed pixels are replaced by `y_t`.
//! Each particle is weighted by how likely the model's own transition makes the replaced pixels,
//! `N(M ⊙ y_s; M ⊙ μ(x_t), ν²)`, and resampled. The result keeps `y` on the observed pixels and
//! the model's x̂0 elsewhere. The method assumes an exact measurement (as its paper and the
//! official code do); with σ_y > 0 the observed pixels keep y's noise, as replacement methods do.
//! Only for operators that are a 0/1 mask (inpainting). Defaults: 100 steps and K = 4 as the
//! official image demo; ESS-based resampling as TDS (`ess` 1: every step, as official).
//!
//! `--set particles=…,ess=…,output=sample|mean,chunk=…`; `measure=0` drops the replacement and
//! the weights (plain DDPM particles).

use super::smc::{ParticleSettings, ddim_mean, posterior, repeat_rows};
use super::{Problem, Run, Solver, Stepped, check_problem, next_t, require_linear, timesteps};
use crate::diffusion::{q_sample_from, randn};
use crate::error::{Error, Result};
use crate::ops;
use crate::solver_params;
use crate::tensor::Tensor;
use std::sync::Arc;
use std::sync::Mutex;

solver_params! {
    /// SMCDiff with DDPM steps.
    pub struct SmcDiff("smcdiff") {
        /// Number of respaced steps.
        steps: usize = steps(100);
        /// Particles, resampling and output.
        particles: ParticleSettings = set(ParticleSettings::new(4, 1.0));
        /// Whether the measurement is used at all.
        measure: bool = measure();
    }
}

impl Solver for SmcDiff {
    solver_params!(@particle_solver);

    fn start<'a>(&self, p: &Problem<'a>, seed: u64) -> Result<Run<'a>> {
        let (p, me) = (*p, *self);
        let [b, c, h, w] = check_problem(&p)?;
        require_linear(&p, Self::NAME)?;
        let gpu = p.model.gpu();
        // the mask: A applied to an all-ones image must be 0/1 and A must keep the image's shape
        let ones = Tensor::full(gpu, &[1, c, h, w], 1.0)?;
        let mask_host = if p.op.y_shape() == [c, h, w] {
            p.op.forward(&ones)?.to_vec()?
        } else {
            Vec::new()
        };
        if mask_host.is_empty() || mask_host.iter().any(|&v| v != 0.0 && v != 1.0) {
            return Err(Error::Input(format!(
                "smcdiff replaces observed pixels, so it needs an inpainting operator (a 0/1 mask); {} is not one. \
                 Use tds, mcgdiff or fps for other operators",
                p.op.describe()
            )));
        }
        let m = if me.measure { 1.0 } else { 0.0 };
        let mask: Vec<f32> = mask_host.iter().map(|&v| v * m).collect();
        let mask = Tensor::from_slice(gpu, &[mask.len()], &mask)?;
        let free: Vec<f32> = mask_host.iter().map(|&v| 1.0 - v * m).collect();
        let free = Tensor::from_slice(gpu, &[free.len()], &free)?;
        let k = me.particles.fitting(gpu, [b, c, h, w])?;
        let tt = timesteps(&p, self.steps)?;
        let n = tt.len();
        let sched = p.schedule();
        // the forward trajectory of y, from the last timestep up to the first (shared by the particles)
        let shape = [b, c, h, w];
        let mut traj: Vec<Tensor> = Vec::with_capacity(n);
        let mut cur = p.y.clone();
        for i in (0..n).rev() {
            let z = randn(gpu, &shape, seed, i as u32, 5)?;
            cur = q_sample_from(sched, &cur, next_t(&tt, i), tt[i].t, &z)?;
            traj.push(cur.clone());
        }
        traj.reverse(); // traj[i] is y at tt[i]
        let traj: Vec<Tensor> = traj.iter().map(|t| repeat_rows(t, k)).collect::<Result<_>>()?;
        let (mk, fr) = (mask.clone(), free.clone());
        let replace = move |x: &Tensor, yt: &Tensor| -> Result<Tensor> {
            ops::add(&ops::mul_bcast(yt, &mk)?, &ops::mul_bcast(x, &fr)?)
        };
        let x = replace(&randn(gpu, &[b * k, c, h, w], seed, 0, 1)?, &traj[0])?;
        let logw = Arc::new(Mutex::new(Tensor::full(gpu, &[b * k], 0.0)?));
        let lw = logw.clone();
        let yrep = repeat_rows(p.y, k)?;
        let step = move |x: &Tensor, i: usize| {
            let (t, next) = (&tt[i], next_t(&tt, i));
            let (mu, nu, x0) = ddim_mean(&p, x, t, next, 1.0, me.particles.chunk)?;
            if next.is_none() {
                // the end: y on the observed pixels, the model's x̂0 elsewhere
                let out = replace(&x0, &yrep)?;
                return Ok(Stepped {
                    x: out.clone(),
                    x0: Some(out),
                });
            }
            let ys = &traj[i + 1];
            // log N(M ⊙ y_s; M ⊙ μ, ν²) per particle (constants dropped)
            let r = ops::mul_bcast(&ops::axpby(1.0, ys, -1.0, &mu)?, &mask)?;
            let incr = ops::scale(&ops::sumsq_rows(&r, b * k)?, (-0.5 / (nu * nu)) as f32)?;
            let mut l = lw.lock().unwrap();
            let (anc, logw) = me.particles.resample(&ops::add(&l, &incr)?, seed, i as u32)?;
            *l = logw;
            let mu = ops::particles::gather_rows(&mu, &anc)?;
            let z = randn(gpu, mu.shape(), seed, i as u32 + 1, 1)?;
            let xs = ops::axpby(1.0, &mu, nu as f32, &z)?;
            Ok(Stepped {
                x: replace(&xs, ys)?,
                x0: Some(x0),
            })
        };
        let spec = me.particles;
        let finish = Box::new(move |x: Tensor| posterior(&x, &logw.lock().unwrap(), &spec, seed));
        Ok(Run::particles(Self::NAME, gpu, x, n, step, finish))
    }
}
