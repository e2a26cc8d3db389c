//! The launcher of `shaders/diffusion.wgsl`: the fused reverse-process update that the samplers of
//! [`crate::diffusion`] parametrise.

use super::random::seed_words;
use crate::error::Result;
use crate::gpu::params::DiffusionParams;
use crate::gpu::{Access, KernelId, grid1d};
use crate::tensor::Tensor;

/// The fused reverse-process update of `shaders/diffusion.wgsl` from `x_t` (with ᾱ_t = `ab`) and the
/// model's `eps`: `x_s = c_x0 x̂0 + c_x x_t + c_eps ε + σ z` with `c = [c_x0, c_x, c_eps, σ, 0, 0]`
/// (x̂0 clamped to [-1, 1] when `clip`), or, with the variance output `v`, the learned-variance DDPM
/// step with `c = [c_x0, c_x, 0, σ, ln β̃, ln β]`. The noise `z` is the stream `(seed, step)`.
/// `diffusion::sampler_step` and `sampler_step_learned` compute the coefficients.
#[allow(clippy::too_many_arguments)]
pub fn sampler_update(
    x: &Tensor,
    eps: &Tensor,
    v: Option<&Tensor>,
    ab: f64,
    clip: bool,
    seed: u64,
    step: u32,
    c: [f64; 6],
) -> Result<Tensor> {
    x.expect_shape(eps.shape(), "sampler step: eps must have the shape of x")?;
    let (lo, hi) = seed_words(seed);
    let params = DiffusionParams {
        n: super::u32_of(x.numel(), "sampler step")?,
        seed_lo: lo,
        seed_hi: hi,
        step,
        stream: 0,
        clip: clip as u32,
        inv_sqrt_ab: (1.0 / ab.sqrt()) as f32,
        sqrt_1m_ab: (1.0 - ab).sqrt() as f32,
        c_x0: c[0] as f32,
        c_x: c[1] as f32,
        c_eps: c[2] as f32,
        sigma: c[3] as f32,
        log_lo: c[4] as f32,
        log_hi: c[5] as f32,
    };
    let out = Tensor::empty(x.gpu(), x.shape())?;
    let mut bindings = vec![
        x.bind(Access::Read),
        eps.bind(Access::Read),
        out.bind(Access::ReadWrite),
    ];
    let entry = match v {
        Some(v) => {
            x.expect_shape(
                v.shape(),
                "sampler step: the variance output must have the shape of x",
            )?;
            bindings.push(v.bind(Access::Read));
            "sampler_step_learned"
        }
        None => "sampler_step",
    };
    x.gpu().dispatch(
        &KernelId::new("diffusion.wgsl", entry),
        &params,
        &bindings,
        grid1d(x.numel(), 256),
    )?;
    Ok(out)
}
