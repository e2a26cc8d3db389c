//! RED-Diff: regularisation by denoising diffusion, a variational solver.
//!
//! Mardani, Song, Kautz, Vahdat, "A Variational Perspective on Solving Inverse Problems with
//! Diffusion Models", ICLR 2024; official code NVlabs/RED-diff (`algos/reddiff.py`, `REDDIFF.sample`
//! and `initialize`; defaults in `_configs/algo/reddiff.yaml` and the README's example).
//!
//! The posterior is approximated by a point mass at μ, fitted with Adam (β = 0.9, 0.99). μ starts at
//! `A⁺ y` (the official `initialize`; the observation itself for operators without a
//! pseudo-inverse, such as motion blur), and the timesteps are swept once from high to low. At each
//! timestep `t`, with fresh noise ε:
//!
//! ```text
//! x_t   = sqrt(ᾱ_t) μ + sqrt(1−ᾱ_t) ε
//! loss  = ‖y − A μ‖² / (2m)  +  λ ω_t ⟨sg(ε_θ(x_t, t) − ε), μ⟩ / d
//! ω_t   = sqrt(1−ᾱ_t) / sqrt(ᾱ_t)                       ("linear" weighting, 1/SNR in σ units)
//! μ    ← Adam(μ, ∇_μ loss)
//! ```
//!
//! `m` and `d` are the measurement and image sizes (the official losses are means), `sg` stops the
//! gradient: no VJP through the UNet, only through `A` (on the tape, so any operator the tape can
//! differentiate works; `Aᵀ` is never called). The paper writes the data term as
//! `‖y − Aμ‖²/(2σ_y²)` with λ absorbing σ_y²; the official code, followed here, uses weight 1.
//!
//! Defaults: λ = 0.25, linear weighting, learning rate 0.1 at 1000 steps (the official config;
//! its README's 100-step example takes 0.5). Fewer steps take lr_S = min(0.2, 0.1 (1000/S)^0.3),
//! measured on the bundled prior, test images 0–3, σ_y = 0.05 (mean PSNR box / ×4 SR / Gaussian
//! deblurring): at 20 steps lr 0.1 → 17.20 / 17.31 / 19.30 dB, 0.2 → 18.65 / 17.97 / 19.77,
//! 0.25 → 17.25 / 17.47 / 19.61, 0.3 → 17.82 / 18.12 / 19.47, 0.6 → 15.44 / 17.69 / 18.59; at
//! 100 steps lr 0.25 → 19.75 / 20.97 / 23.43, 0.5 → 18.04 / 20.69 / 22.84 (the trivial
//! estimates: 14.07 / 14.84 / 15.63; held-out numbers in README.md).
//!
//! `--set lr=…,lambda=…,measure=0|1`; `measure=0` drops the data term, leaving the prior's pull
//! alone.

use super::params::show;
use super::{Problem, Run, Solver, Stepped, check_problem, timesteps};
use crate::autograd;
use crate::diffusion::{q_sample, randn};
use crate::error::{Error, Result};
use crate::ops::{self, Adam};
use crate::solver_params;
use crate::tensor::Tensor;

solver_params! {
    /// RED-Diff with Adam on the device.
    pub struct RedDiff("red-diff") {
        /// Number of timesteps (one Adam step each).
        steps: usize = steps(100);
        /// Adam's learning rate.
        lr: f64 = set(RedDiff::default_lr(steps), 1e-6..=1e3), show = show::places4;
        /// λ, the weight of the denoising regulariser.
        lambda: f64 = set(0.25, 0.0..=1e4);
        /// Whether the data term is used.
        measure: bool = measure(), show = show::hidden;
    }
}

impl RedDiff {
    /// The learning rate of the few-step rule (see the module notes).
    pub fn default_lr(steps: usize) -> f64 {
        (0.1 * (1000.0 / steps.max(1) as f64).powf(0.3)).min(0.2)
    }
}

impl Solver for RedDiff {
    solver_params!(@solver);

    fn start<'a>(&self, p: &Problem<'a>, seed: u64) -> Result<Run<'a>> {
        let p = *p;
        let shape = check_problem(&p)?;
        let mu = initial_mean(&p)?;
        let mut fit = RedFit::new(&p, &shape, self.lr, self.lambda, self.measure)?;
        let tt = timesteps(&p, self.steps)?;
        let n = tt.len();
        let step = move |mu: &Tensor, i: usize| {
            fit.step(&p, mu, &tt[i], seed, i as u32 + 1)?;
            Ok(Stepped {
                x: mu.clone(),
                x0: Some(mu.clone()),
            })
        };
        Ok(Run::new(Self::NAME, p.model.gpu(), mu, n, step, None))
    }
}

/// RED-Diff's starting mean: `A⁺ y` where the operator has one, else its trivial estimate (the
/// observation for blurs), as a fresh tensor the optimiser may update in place.
pub(crate) fn initial_mean(p: &Problem) -> Result<Tensor> {
    let pinv = match p.op.linear() {
        Some(l) => l.pinv(p.y)?,
        None => None,
    };
    let t = match pinv {
        Some(t) => t,
        None => super::trivial_estimate(p.model, p.op, p.y).map_err(|e| {
            Error::Input(format!(
                "RED-Diff starts from A⁺y or the operator's trivial estimate, and {} has neither ({e})",
                p.op.describe()
            ))
        })?,
    };
    ops::scale(&t, 1.0)
}

/// The state of one RED-Diff fit of μ: Adam's moments and the constants of the loss.
pub(crate) struct RedFit {
    adam: Adam,
    lambda: f64,
    /// `1/(2m)` per sample: the cotangent of the per-sample sums of squared residuals.
    cot: Option<Tensor>,
    d: f64,
}

impl RedFit {
    /// A fit of a batch of `shape` with learning rate `lr` and regulariser weight `lambda`; no
    /// data term when `measure` is false.
    pub fn new(p: &Problem, shape: &[usize; 4], lr: f64, lambda: f64, measure: bool) -> Result<Self> {
        let gpu = p.model.gpu();
        let mut adam = Adam::new(gpu, shape, lr as f32)?;
        adam.b2 = 0.99;
        let cot = if measure {
            Some(Tensor::full(gpu, &[shape[0]], 0.5 / p.op.m() as f32)?)
        } else {
            None
        };
        Ok(RedFit {
            adam,
            lambda,
            cot,
            d: (shape[1] * shape[2] * shape[3]) as f64,
        })
    }

    /// The gradients of the data term `Σ_i ‖y_i − A_φ μ_i‖² / (2m)` through the tape, with respect
    /// to μ and, when `phi` is given (a blind operator's unknowns), to φ from the same pass (`None`
    /// when the measurement is off).
    pub fn data_grad(
        &self,
        p: &Problem,
        mu: &Tensor,
        phi: Option<&Tensor>,
    ) -> Result<Option<(Tensor, Option<Tensor>)>> {
        let Some(cot) = &self.cot else {
            return Ok(None);
        };
        let m = mu.tracked();
        let (ax, k) = match phi {
            Some(phi) => {
                let k = phi.tracked();
                (p.op.forward_with(&m, &k)?, Some(k))
            }
            None => (p.op.forward(&m)?, None),
        };
        let r = ops::axpby(1.0, p.y, -1.0, &ax)?;
        let ss = ops::sumsq_rows(&r, m.shape()[0])?;
        let mut wrt = vec![&m];
        wrt.extend(k.as_ref());
        let mut gs = autograd::backward(&ss, cot, &wrt)?.into_iter();
        let gm = gs.next().expect("the gradient for μ");
        Ok(Some((gm, gs.next())))
    }

    /// The gradient of the regulariser `λ ω_t ⟨sg(ε_θ(x_t, t) − ε), μ⟩ / d` at timestep `t`, with
    /// the noise of `(seed, step)`.
    pub fn prior_grad(
        &self,
        p: &Problem,
        mu: &Tensor,
        t: &crate::diffusion::Timestep,
        seed: u64,
        step: u32,
    ) -> Result<Tensor> {
        let noise = randn(p.model.gpu(), mu.shape(), seed, step, 0)?;
        let xt = q_sample(p.schedule(), mu, t.t, &noise)?;
        let eps = p.model.eps(&xt, t)?;
        let w = self.lambda * p.schedule().ve_sigma(Some(t.t)) / self.d;
        ops::axpby(w as f32, &eps, -w as f32, &noise)
    }

    /// Adam's step on `mu` (in place) against the gradient `g`.
    pub fn adam_step(&mut self, mu: &Tensor, g: &Tensor) -> Result<()> {
        self.adam.step(mu, g)
    }

    /// One Adam step on `mu` (in place) at timestep `t`, with the noise of `(seed, step)`.
    pub fn step(
        &mut self,
        p: &Problem,
        mu: &Tensor,
        t: &crate::diffusion::Timestep,
        seed: u64,
        step: u32,
    ) -> Result<()> {
        let prior = self.prior_grad(p, mu, t, seed, step)?;
        let g = match self.data_grad(p, mu, None)? {
            Some((gd, _)) => ops::add(&prior, &gd)?,
            None => prior,
        };
        self.adam.step(mu, &g)
    }
}
