//! Launchers for `shaders/spectral.wgsl`: the per-coordinate updates of the spectral solvers in an
//! operator's SVD space (see [`crate::operators::Svd`]). Each has a plain-Rust reference in
//! [`super::reference`].

use super::u32_of;
use crate::error::{Error, Result};
use crate::gpu::{Access, KernelId, grid1d};
use crate::tensor::Tensor;

/// The spectral inputs of one step, all of one shape except `s` (one sample's singular values).
#[derive(Clone, Copy)]
pub struct Spectral<'a> {
    /// `Vᵀ x̂0`.
    pub x0: &'a Tensor,
    /// `Uᵀ y` in the spectral layout (zero where `s = 0`).
    pub uty: &'a Tensor,
    /// `Vᵀ ε`.
    pub ebar: &'a Tensor,
    /// Fresh standard normal noise.
    pub z: &'a Tensor,
    /// Singular values; zero marks a coordinate the measurement does not see.
    pub s: &'a Tensor,
}

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

fn check(sp: &Spectral) -> Result<()> {
    let shape = sp.x0.shape();
    for (t, name) in [(sp.uty, "Uᵀy"), (sp.ebar, "Vᵀε"), (sp.z, "noise")] {
        t.expect_shape(
            shape,
            &format!("spectral step: {name} must have the shape of Vᵀx̂0"),
        )?;
    }
    if sp.s.numel() == 0 || !sp.x0.numel().is_multiple_of(sp.s.numel()) {
        return Err(Error::Shape(format!(
            "spectral step: {} singular values for coordinates {:?}",
            sp.s.numel(),
            shape
        )));
    }
    Ok(())
}

fn launch(entry: &'static str, sp: &Spectral, mode: u32, f: [f64; 5]) -> Result<Tensor> {
    let out = Tensor::empty(sp.x0.gpu(), sp.x0.shape())?;
    let b = |v: f64| (v as f32).to_bits();
    let params = [
        u32_of(sp.x0.numel(), "spectral step")?,
        u32_of(sp.s.numel(), "singular values")?,
        mode,
        0,
        b(f[0]),
        b(f[1]),
        b(f[2]),
        b(f[3]),
        b(f[4]),
    ];
    sp.x0.gpu().dispatch(
        &KernelId::new("spectral.wgsl", entry),
        &params,
        &[
            sp.x0.bind(Access::Read),
            sp.uty.bind(Access::Read),
            sp.ebar.bind(Access::Read),
            sp.z.bind(Access::Read),
            sp.s.bind(Access::Read),
            out.bind(Access::ReadWrite),
        ],
        grid1d(sp.x0.numel(), 256),
    )?;
    Ok(out)
}

/// One DDRM update of the spectral coordinates (see [`DdrmStep`]); returns `scale · x̄_next`, to be
/// mapped back with `V`.
pub fn ddrm_step(sp: &Spectral, st: &DdrmStep) -> Result<Tensor> {
    check(sp)?;
    launch(
        "ddrm_step",
        sp,
        st.init as u32,
        [st.scale, st.sigma_next, st.sigma_y, st.eta, st.eta_b],
    )
}

/// One DDNM / DDNM+ update of the spectral coordinates (see [`DdnmStep`]); returns `x̄_next`.
pub fn ddnm_step(sp: &Spectral, st: &DdnmStep) -> Result<Tensor> {
    check(sp)?;
    launch(
        "ddnm_step",
        sp,
        st.plus as u32,
        [st.a, st.sigma_t, st.sigma_y, st.eta, 0.0],
    )
}

/// `s / (s² + c) ⊙ x` (zero where `s = 0`): `Σ (Σ² + c)⁻¹` in spectral coordinates, the core of
/// `Aᵀ (A Aᵀ + c I)⁻¹`.
pub fn spectral_gain(x: &Tensor, s: &Tensor, c: f64) -> Result<Tensor> {
    let sp = Spectral {
        x0: x,
        uty: x,
        ebar: x,
        z: x,
        s,
    };
    check(&sp)?;
    launch("gain", &sp, 0, [0.0, c, 0.0, 0.0, 0.0])
}
