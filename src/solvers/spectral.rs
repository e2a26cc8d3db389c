//! What DDRM and DDNM share in the operator's SVD space: their per-coordinate update steps (the
//! scalars of each method and the launch of its `shaders/spectral.wgsl` kernel, with f64 references
//! in [`reference`](mod@reference)) and the step loop that maps ε and Tweedie's x̂0 to spectral coordinates and back.

use super::{Problem, Run, Stepped, next_t, require_svd, singulars, timesteps};
use crate::diffusion::tweedie;
use crate::error::Result;
use crate::operators::Svd;
use crate::ops::{self, Spectral};
use crate::tensor::Tensor;

/// The scalars of a DDRM step (Kawar et al. 2022, eq. 7–8; `efficient_generalized_steps`).
#[derive(Debug, Clone, Copy)]
pub struct DdrmStep {
    /// σ of the next step in variance-exploding units, `sqrt(1 − ᾱ) / sqrt(ᾱ)`.
    pub sigma_next: f64,
    /// Measurement noise σ_y.
    pub sigma_y: f64,
    /// η (the official η_A = η_C).
    pub eta: f64,
    /// η_b.
    pub eta_b: f64,
    /// Scale of the result (`sqrt(ᾱ)` of the next step: back to variance-preserving units).
    pub scale: f64,
    /// Draw the starting point `x_T ~ p(x_T | y)` instead of a step (`x0` and `ebar` are unused).
    pub init: bool,
}

impl DdrmStep {
    /// The step to the respaced timestep `next` (`None`: the end) of `p`'s schedule, with `η` and
    /// `η_b`; `init` draws the start.
    pub fn at(p: &Problem<'_>, eta: f64, eta_b: f64, next: Option<usize>, init: bool) -> Self {
        DdrmStep {
            sigma_next: p.schedule().ve_sigma(next),
            sigma_y: p.sigma_y,
            eta,
            eta_b,
            scale: p.schedule().alpha_bar(next).sqrt(),
            init,
        }
    }
}

/// The scalars of a DDNM / DDNM+ step (Wang et al. 2023, eq. 13 and 17–18; `Lambda`,
/// `Lambda_noise`).
#[derive(Debug, Clone, Copy)]
pub struct DdnmStep {
    /// `sqrt(ᾱ)` of the next step.
    pub a: f64,
    /// `sqrt(1 − ᾱ)` of the next step.
    pub sigma_t: f64,
    /// Measurement noise σ_y.
    pub sigma_y: f64,
    /// η.
    pub eta: f64,
    /// Use the noisy-case λ_t and γ_t (DDNM+); without, the measurement is taken as exact.
    pub plus: bool,
}

/// One DDRM update of the spectral coordinates (see [`DdrmStep`]); returns `scale · x̄_next`, to be
/// mapped back with `V`.
pub fn ddrm_step(sp: &Spectral, st: &DdrmStep) -> Result<Tensor> {
    ops::spectral_check(sp)?;
    ops::spectral_launch(
        "ddrm_step",
        sp,
        st.init as u32,
        [st.scale, st.sigma_next, st.sigma_y, st.eta, st.eta_b],
    )
}

/// One DDNM / DDNM+ update of the spectral coordinates (see [`DdnmStep`]); returns `x̄_next`.
pub fn ddnm_step(sp: &Spectral, st: &DdnmStep) -> Result<Tensor> {
    ops::spectral_check(sp)?;
    ops::spectral_launch(
        "ddnm_step",
        sp,
        st.plus as u32,
        [st.a, st.sigma_t, st.sigma_y, st.eta, 0.0],
    )
}

/// What DDRM and DDNM share: the operator's SVD, its (thresholded) singular values, `Uᵀ y`, and the
/// step loop that maps ε and Tweedie's x̂0 to spectral coordinates, applies a per-coordinate update
/// and maps back through `V`.
pub struct SpectralRun<'a> {
    /// The operator's SVD.
    pub svd: &'a dyn Svd,
    /// Singular values, zero where unseen (all zero with the measurement switched off).
    pub s: Tensor,
    /// `Uᵀ y` in the spectral layout.
    pub uty: Tensor,
    /// Batch shape `[B, C, H, W]`.
    pub shape: [usize; 4],
}

impl<'a> SpectralRun<'a> {
    /// Checks the problem and prepares the spectral pieces for `solver`.
    pub(crate) fn new(p: &Problem<'a>, solver: &str, min_singular: f64, measure: bool) -> Result<Self> {
        let shape = super::check_problem(p)?;
        let svd = require_svd(p, solver)?;
        Ok(SpectralRun {
            svd,
            s: singulars(p, svd, min_singular, measure)?,
            uty: svd.ut(p.y)?.reshape(&shape)?,
            shape,
        })
    }

    /// The spectral inputs with `x0` and `ebar` (and the noise) given.
    pub(crate) fn inputs<'b>(&'b self, x0: &'b Tensor, ebar: &'b Tensor, z: &'b Tensor) -> ops::Spectral<'b> {
        ops::Spectral {
            x0,
            uty: &self.uty,
            ebar,
            z,
            s: &self.s,
        }
    }

    /// A run of `steps` respaced steps from `x`: each computes ε, x̂0 (see [`tweedie`], clamped as
    /// the schedule says), `Vᵀx̂0`, `Vᵀε` and fresh noise, and steps to `V update(inputs, next
    /// timestep)`.
    pub(crate) fn run(
        self,
        p: &Problem<'a>,
        name: &'static str,
        (x, steps): (Tensor, usize),
        seed: u64,
        update: impl Fn(&ops::Spectral, Option<usize>) -> Result<Tensor> + Send + 'a,
    ) -> Result<Run<'a>> {
        let p = *p;
        let tt = timesteps(&p, steps)?;
        let n = tt.len();
        let step = move |x: &Tensor, i: usize| {
            let eps = p.model.eps(x, &tt[i])?;
            let x0 = tweedie(p.schedule(), x, &eps, tt[i].t, p.schedule().clip_sample)?;
            let (x0b, eb) = (self.svd.vt(&x0)?, self.svd.vt(&eps)?);
            let z = crate::diffusion::randn(p.model.gpu(), &self.shape, seed, i as u32 + 1, 1)?;
            let x = self
                .svd
                .v(&update(&self.inputs(&x0b, &eb, &z), next_t(&tt, i))?)?;
            Ok(Stepped { x, x0: Some(x0) })
        };
        Ok(Run::new(name, p.model.gpu(), x, n, step, None))
    }
}

/// f64 references of the spectral updates, for the kernel tests.
pub mod reference {
    /// Reference of [`super::ddrm_step`], in f64.
    pub fn ddrm_step(
        x0: &[f32],
        uty: &[f32],
        ebar: &[f32],
        z: &[f32],
        s: &[f32],
        st: &super::DdrmStep,
    ) -> Vec<f32> {
        let (sig, sy) = (st.sigma_next, st.sigma_y);
        (0..x0.len())
            .map(|i| {
                let sj = s[i % s.len()] as f64;
                let (x, u, e, n) = (x0[i] as f64, uty[i] as f64, ebar[i] as f64, z[i] as f64);
                let seen_noisier = sj > 0.0 && sj * sig > sy;
                let v = if st.init {
                    if seen_noisier {
                        u / sj + (sig * sig - sy * sy / (sj * sj)).max(0.0).sqrt() * n
                    } else {
                        sig * n
                    }
                } else if seen_noisier {
                    st.eta_b * u / sj
                        + (1.0 - st.eta_b) * x
                        + (sig * sig - sy * sy * st.eta_b * st.eta_b / (sj * sj))
                            .max(0.0)
                            .sqrt()
                            * n
                } else if sj > 0.0 && sj * sig < sy {
                    x + (1.0 - st.eta * st.eta).sqrt() * sig * (u - sj * x) / sy + st.eta * sig * n
                } else {
                    x + (1.0 - st.eta * st.eta).sqrt() * sig * e + st.eta * sig * n
                };
                (st.scale * v) as f32
            })
            .collect()
    }

    /// Reference of [`super::ddnm_step`], in f64.
    pub fn ddnm_step(
        x0: &[f32],
        uty: &[f32],
        ebar: &[f32],
        z: &[f32],
        s: &[f32],
        st: &super::DdnmStep,
    ) -> Vec<f32> {
        let (a, sig, sy) = (st.a, st.sigma_t, st.sigma_y);
        let keep = (1.0 - st.eta * st.eta).sqrt();
        (0..x0.len())
            .map(|i| {
                let sj = s[i % s.len()] as f64;
                let mut x = x0[i] as f64;
                let (mut d1, mut d2) = (sig * st.eta, sig * keep);
                if sj > 0.0 {
                    let mut lam = 1.0;
                    if st.plus && sy > 0.0 {
                        if sj * sig < a * sy {
                            lam = sj * sig * keep / (a * sy);
                            d2 = 0.0;
                        } else if sj * sig > a * sy {
                            d1 = (sig * sig - a * a * sy * sy / (sj * sj)).max(0.0).sqrt();
                            d2 = 0.0;
                        }
                    }
                    x -= lam * (x - uty[i] as f64 / sj);
                }
                (a * x + d1 * z[i] as f64 + d2 * ebar[i] as f64) as f32
            })
            .collect()
    }
}
