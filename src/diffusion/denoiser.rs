//! The one interface every prior offers the solvers: ε-prediction at a timestep, its noise schedule,
//! and the vector-Jacobian product through it.
//!
//! [`crate::models::UNet2DModel`] implements it, and so does [`GaussianDenoiser`], an analytic prior
//! whose ε, Tweedie estimate and exact posterior for a linear operator are closed-form: the test bed
//! where a solver's output can be held against the true posterior.

use super::schedule::Schedule;
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::ops;
use crate::tensor::Tensor;
use std::collections::HashMap;
use std::sync::Mutex;

/// A timestep of the model's schedule, on the host and as a device tensor `[1]` (made once, before a
/// solver's loop, so that the loop uploads nothing).
#[derive(Debug, Clone)]
pub struct Timestep {
    /// The timestep index, `0..T`.
    pub t: usize,
    /// The same value on the device, `[1]` (broadcast over the batch).
    pub tensor: Tensor,
}

impl Timestep {
    /// Timestep `t` on `gpu`.
    pub fn new(gpu: &Gpu, t: usize) -> Result<Timestep> {
        Ok(Timestep {
            t,
            tensor: Tensor::full(gpu, &[1], t as f32)?,
        })
    }
}

/// An ε-prediction diffusion prior on the variance-preserving process
/// `x_t = sqrt(ᾱ_t) x_0 + sqrt(1 − ᾱ_t) ε`.
pub trait Denoiser: Send + Sync {
    /// The device the model computes on.
    fn gpu(&self) -> &Gpu;
    /// The noise schedule the model was trained with.
    fn schedule(&self) -> &Schedule;
    /// Checks that a batch of shape `[B, C, H, W]` can go through the model (a clear error if not).
    fn check_input(&self, shape: &[usize]) -> Result<()>;
    /// The predicted noise ε_θ(x_t, t) for `x` `[B, C, H, W]`. Differentiable in `x` through
    /// [`crate::autograd`] when `x` is tracked.
    fn eps(&self, x: &Tensor, t: &Timestep) -> Result<Tensor>;
    /// ε_θ(x_t, t) and the vector-Jacobian product `∇_x ⟨v, ε_θ(x, t)⟩`.
    fn eps_vjp(&self, x: &Tensor, t: &Timestep, v: &Tensor) -> Result<(Tensor, Tensor)> {
        let x = x.tracked();
        let eps = self.eps(&x, t)?;
        let g = crate::autograd::backward(&eps, v, &[&x])?.remove(0);
        Ok((eps.detach(), g))
    }
    /// Whether the model also predicts its variance (guided-diffusion's `learn_sigma`).
    fn learns_variance(&self) -> bool {
        false
    }
    /// ε_θ(x_t, t) and, for a model that [learns its variance](Self::learns_variance), the variance
    /// output `v` ∈ [-1, 1] (the interpolation between the posterior variance and β; not
    /// differentiated).
    fn eps_and_variance(&self, x: &Tensor, t: &Timestep) -> Result<(Tensor, Option<Tensor>)> {
        Ok((self.eps(x, t)?, None))
    }
    /// A one-line description for logs and errors.
    fn describe(&self) -> String;
}

/// The exact denoiser of a Gaussian prior `x_0 ~ N(μ, diag(s²))` on images `[C, H, W]`: with
/// `a = sqrt(ᾱ_t)`, `σ = sqrt(1 − ᾱ_t)` and `k = a s² / (a² s² + σ²)`,
///
/// ```text
/// E[x_0 | x_t] = μ + k (x_t − a μ)                  (Tweedie)
/// ε̂(x_t, t)   = (1 − a k)(x_t − a μ) / σ
/// ```
///
/// element by element; and for a linear `A` with noise `σ_y`, the posterior is
/// `N(m, Σ)` with `Σ = (diag(1/s²) + AᵀA/σ_y²)⁻¹`, `m = Σ (μ/s² + Aᵀy/σ_y²)` ([`Self::posterior`]).
pub struct GaussianDenoiser {
    gpu: Gpu,
    schedule: Schedule,
    shape: [usize; 3],
    mean: Vec<f64>,
    std: Vec<f64>,
    /// Per timestep: the slope `c` and offset `d` of `ε̂ = c x + d` on the device.
    coeffs: Mutex<HashMap<usize, (Tensor, Tensor)>>,
}

impl GaussianDenoiser {
    /// The prior `N(mean, diag(std²))` on images of `shape` `[C, H, W]`, on `schedule`.
    pub fn new(
        gpu: &Gpu,
        schedule: Schedule,
        shape: [usize; 3],
        mean: Vec<f64>,
        std: Vec<f64>,
    ) -> Result<Self> {
        let d: usize = shape.iter().product();
        if d == 0 || mean.len() != d || std.len() != d {
            return Err(Error::Input(format!(
                "a Gaussian prior on {shape:?} images needs {d} means and {d} standard deviations, got {} and {}",
                mean.len(),
                std.len()
            )));
        }
        if std.iter().any(|&s| !(s > 0.0 && s.is_finite())) || mean.iter().any(|m| !m.is_finite()) {
            return Err(Error::Input(
                "a Gaussian prior needs finite means and positive, finite standard deviations".into(),
            ));
        }
        Ok(GaussianDenoiser {
            gpu: gpu.clone(),
            schedule,
            shape,
            mean,
            std,
            coeffs: Mutex::new(HashMap::new()),
        })
    }

    /// The image shape `[C, H, W]`.
    pub fn image_shape(&self) -> [usize; 3] {
        self.shape
    }

    /// The prior mean μ.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// The prior standard deviations s.
    pub fn std(&self) -> &[f64] {
        &self.std
    }

    /// Per-element `(k, a, σ)` at timestep `t`.
    fn gains(&self, t: usize) -> impl Iterator<Item = (f64, f64, f64)> + '_ {
        let ab = self.schedule.alpha_bar(Some(t));
        let (a, sig) = (ab.sqrt(), (1.0 - ab).sqrt());
        self.std
            .iter()
            .map(move |&s| (a * s * s / (a * a * s * s + sig * sig), a, sig))
    }

    /// Tweedie's `E[x_0 | x_t]` on the host, for `x` holding whole images (f64, closed form).
    pub fn x0_host(&self, x: &[f32], t: usize) -> Vec<f64> {
        let d = self.mean.len();
        let g: Vec<_> = self.gains(t).collect();
        x.iter()
            .enumerate()
            .map(|(i, &v)| {
                let (k, a, _) = g[i % d];
                let mu = self.mean[i % d];
                mu + k * (v as f64 - a * mu)
            })
            .collect()
    }

    /// The exact ε̂(x_t, t) on the host (f64, closed form).
    pub fn eps_host(&self, x: &[f32], t: usize) -> Vec<f64> {
        let d = self.mean.len();
        let g: Vec<_> = self.gains(t).collect();
        x.iter()
            .enumerate()
            .map(|(i, &v)| {
                let (k, a, sig) = g[i % d];
                (1.0 - a * k) * (v as f64 - a * self.mean[i % d]) / sig
            })
            .collect()
    }

    /// The exact posterior `p(x_0 | y)` for one measurement `y` (host values of one sample) of the
    /// linear operator `apply_a` (the operator's `A` on a batch of images, as the device computes
    /// it) with Gaussian noise `sigma_y > 0`: its mean and its covariance (row-major `d × d`).
    /// Dense: for images of at most 1,024 values.
    pub fn posterior(
        &self,
        apply_a: &dyn Fn(&Tensor) -> Result<Tensor>,
        y: &[f32],
        sigma_y: f64,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        let d = self.mean.len();
        if d > 1024 {
            return Err(Error::Input(format!(
                "the dense Gaussian posterior is for images of at most 1024 values; this one has {d}"
            )));
        }
        if sigma_y <= 0.0 {
            return Err(Error::Input("the Gaussian posterior needs sigma_y > 0".into()));
        }
        // A's columns: A applied to the d basis images as one batch
        let mut basis = vec![0f32; d * d];
        for i in 0..d {
            basis[i * d + i] = 1.0;
        }
        let [c, h, w] = self.shape;
        let e = Tensor::from_slice(&self.gpu, &[d, c, h, w], &basis)?;
        let cols = apply_a(&e)?.to_vec()?; // [d, m]: row i = A e_i
        let m = cols.len() / d;
        if y.len() != m {
            return Err(Error::Shape(format!(
                "posterior: y has {} values, the operator gives {m}",
                y.len()
            )));
        }
        let a_ji = |j: usize, i: usize| cols[i * m + j] as f64;
        let inv_var = 1.0 / (sigma_y * sigma_y);
        // precision P = diag(1/s²) + AᵀA/σ_y², and b = μ/s² + Aᵀy/σ_y²
        let mut p = vec![0f64; d * d];
        let mut b = vec![0f64; d];
        for i in 0..d {
            for k in i..d {
                let v: f64 = (0..m).map(|j| a_ji(j, i) * a_ji(j, k)).sum::<f64>() * inv_var;
                p[i * d + k] = v;
                p[k * d + i] = v;
            }
            p[i * d + i] += 1.0 / (self.std[i] * self.std[i]);
            b[i] = self.mean[i] / (self.std[i] * self.std[i])
                + (0..m).map(|j| a_ji(j, i) * y[j] as f64).sum::<f64>() * inv_var;
        }
        let l = cholesky(&p, d)?;
        let cov = cholesky_inverse(&l, d);
        let mean = (0..d)
            .map(|i| (0..d).map(|k| cov[i * d + k] * b[k]).sum())
            .collect();
        Ok((mean, cov))
    }

    fn coefficients(&self, t: usize) -> Result<(Tensor, Tensor)> {
        let mut cache = self.coeffs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = cache.get(&t) {
            return Ok(c.clone());
        }
        let (mut slope, mut offset) = (Vec::new(), Vec::new());
        for ((k, a, sig), &mu) in self.gains(t).zip(&self.mean) {
            let c = (1.0 - a * k) / sig;
            slope.push(c as f32);
            offset.push((-c * a * mu) as f32);
        }
        let d = slope.len();
        let c = (
            Tensor::from_slice(&self.gpu, &[d], &slope)?,
            Tensor::from_slice(&self.gpu, &[d], &offset)?,
        );
        cache.insert(t, c.clone());
        Ok(c)
    }
}

/// `gpu()` and `schedule()` of a [`Denoiser`] that keeps them in fields named `gpu` and `schedule`
/// (the models here, and a host's own denoiser): `impl Denoiser for Mine { denoiser_fields!(); ... }`.
#[macro_export]
macro_rules! denoiser_fields {
    () => {
        fn gpu(&self) -> &$crate::gpu::Gpu {
            &self.gpu
        }

        fn schedule(&self) -> &$crate::diffusion::Schedule {
            &self.schedule
        }
    };
}

impl Denoiser for GaussianDenoiser {
    crate::denoiser_fields!();

    fn check_input(&self, shape: &[usize]) -> Result<()> {
        if shape.len() != 4 || shape[0] == 0 || shape[1..] != self.shape {
            return Err(Error::Input(format!(
                "the Gaussian prior is on [batch, {}, {}, {}] images, got {shape:?}",
                self.shape[0], self.shape[1], self.shape[2]
            )));
        }
        Ok(())
    }

    fn eps(&self, x: &Tensor, t: &Timestep) -> Result<Tensor> {
        self.check_input(x.shape())?;
        if t.t >= self.schedule.len() {
            return Err(Error::Input(format!(
                "timestep {} is past the schedule's {} steps",
                t.t,
                self.schedule.len()
            )));
        }
        let (c, d) = self.coefficients(t.t)?;
        let ones = Tensor::full(&self.gpu, x.shape(), 1.0)?;
        ops::axpby(1.0, &ops::mul_bcast(x, &c)?, 1.0, &ops::mul_bcast(&ones, &d)?)
    }

    fn describe(&self) -> String {
        format!("Gaussian prior on {:?} images", self.shape)
    }
}

/// Lower Cholesky factor of a symmetric positive-definite `d × d` matrix.
fn cholesky(a: &[f64], d: usize) -> Result<Vec<f64>> {
    let mut l = vec![0f64; d * d];
    for i in 0..d {
        for j in 0..=i {
            let s: f64 = a[i * d + j] - (0..j).map(|k| l[i * d + k] * l[j * d + k]).sum::<f64>();
            if i == j {
                if s <= 0.0 {
                    return Err(Error::Input(
                        "the posterior precision is not positive definite".into(),
                    ));
                }
                l[i * d + i] = s.sqrt();
            } else {
                l[i * d + j] = s / l[j * d + j];
            }
        }
    }
    Ok(l)
}

/// `(L Lᵀ)⁻¹` from the lower Cholesky factor `L`.
fn cholesky_inverse(l: &[f64], d: usize) -> Vec<f64> {
    // L⁻¹ by forward substitution, then (L⁻¹)ᵀ L⁻¹
    let mut li = vec![0f64; d * d];
    for c in 0..d {
        for i in c..d {
            let rhs = if i == c { 1.0 } else { 0.0 };
            let s: f64 = rhs - (c..i).map(|k| l[i * d + k] * li[k * d + c]).sum::<f64>();
            li[i * d + c] = s / l[i * d + i];
        }
    }
    let mut inv = vec![0f64; d * d];
    for i in 0..d {
        for j in 0..=i {
            let v: f64 = (i..d).map(|k| li[k * d + i] * li[k * d + j]).sum();
            inv[i * d + j] = v;
            inv[j * d + i] = v;
        }
    }
    inv
}
