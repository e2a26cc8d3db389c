//! Launchers for `shaders/spectral.wgsl`: per-coordinate kernels in an operator's SVD space (see
//! [`crate::operators::Svd`]): the generic launcher the spectral solvers' updates use (their step
//! math lives with them, in `crate::solvers::spectral`) and the gain `s / (s² + c)`, which has a
//! plain-Rust reference in [`super::reference`].

use super::u32_of;
use crate::error::{Error, Result};
use crate::gpu::params::SpectralParams;
use crate::gpu::{KernelId, grid1d};
use crate::tensor::Tensor;
use crate::tensor::binds;

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

/// Checks that the spectral inputs have one shape and the singular values divide it.
pub(crate) fn check(sp: &Spectral) -> Result<()> {
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

/// Runs the per-coordinate kernel `entry` of `spectral.wgsl` with its mode switch and five scalars.
pub(crate) fn launch(entry: &'static str, sp: &Spectral, mode: u32, f: [f64; 5]) -> Result<Tensor> {
    let out = Tensor::empty(sp.x0.gpu(), sp.x0.shape())?;
    let params = SpectralParams {
        n: u32_of(sp.x0.numel(), "spectral step")?,
        inner: u32_of(sp.s.numel(), "singular values")?,
        mode,
        pad: 0,
        a: f[0] as f32,
        sig: f[1] as f32,
        sigma_y: f[2] as f32,
        eta: f[3] as f32,
        eta_b: f[4] as f32,
    };
    sp.x0.gpu().dispatch(
        &KernelId::new("spectral.wgsl", entry),
        &params,
        &binds!(sp.x0, sp.uty, sp.ebar, sp.z, sp.s => out),
        grid1d(sp.x0.numel(), 256),
    )?;
    Ok(out)
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
