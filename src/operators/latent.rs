//! A pixel-space operator seen from a latent space: `z ↦ A(D(z))`, with `D` an autoencoder's
//! decoder. This is how the survey's latent family (Latent DPS, PSLD, ReSample; Daras et al. 2024,
//! §5) poses a problem: the prior lives on latents `z`, the measurements on pixels. Every solver
//! that takes a nonlinear operator runs on it, differentiating through the decoder by autograd (the
//! decoder's backward kernels), so DPS on a latent prior with this operator is Latent DPS.

use super::{Caps, Operator, View};
use crate::error::{Error, Result};
use crate::models::AutoencoderKL;
use crate::tensor::Tensor;
use std::sync::Arc;

/// `A ∘ D`: the operator `inner` (on the decoder's pictures) applied to `D(z)`, the decoded picture
/// of a latent `z` in the diffusion model's scaling ([`AutoencoderKL::decode_scaled`]). Nonlinear;
/// its trivial estimate is the encoder's latent of `inner`'s trivial estimate.
pub struct Decoded {
    inner: Arc<dyn Operator>,
    vae: Arc<AutoencoderKL>,
    z_shape: [usize; 3],
}

impl Decoded {
    /// `inner ∘ D` for `inner` on the pictures `vae` decodes. Errors (before any compute) when
    /// `inner`'s image shape is not one the decoder makes: its channels are not the decoder's
    /// output channels, or its sides are not multiples of the decoder's upsampling factor.
    pub fn new(inner: Arc<dyn Operator>, vae: Arc<AutoencoderKL>) -> Result<Self> {
        let [c, h, w] = inner.x_shape();
        let cfg = &vae.config;
        let f = vae.factor();
        if c != cfg.out_channels || h % f != 0 || w % f != 0 || h == 0 || w == 0 {
            return Err(Error::Input(format!(
                "{} works on [{c}, {h}, {w}] pictures, which {} cannot decode: it makes {} channels \
                 at a multiple of {f} a side; build the operator for such pictures",
                inner.describe(),
                vae.describe(),
                cfg.out_channels
            )));
        }
        Ok(Decoded {
            z_shape: [cfg.latent_channels, h / f, w / f],
            inner,
            vae,
        })
    }

    /// The pixel-space operator.
    pub fn inner(&self) -> &dyn Operator {
        self.inner.as_ref()
    }

    /// The autoencoder.
    pub fn vae(&self) -> &AutoencoderKL {
        &self.vae
    }

    /// `D(z)`: the picture of a batch of latents (differentiable).
    pub fn decode(&self, z: &Tensor) -> Result<Tensor> {
        self.vae.decode_scaled(z)
    }
}

impl Operator for Decoded {
    fn describe(&self) -> String {
        format!("latent({})", self.inner.describe())
    }
    /// Nonlinear whatever `inner` is, with the kind of `inner` (solvers' defaults follow the
    /// problem the measurements pose), latent, and neither SVD nor `A⁺`.
    fn caps(&self) -> Caps {
        Caps {
            latent: true,
            ..Caps::nonlinear(self.inner.caps().kind)
        }
    }
    fn decoded(&self) -> Option<&Decoded> {
        Some(self)
    }
    fn x_shape(&self) -> [usize; 3] {
        self.z_shape
    }
    fn y_shape(&self) -> Vec<usize> {
        self.inner.y_shape()
    }
    fn forward(&self, z: &Tensor) -> Result<Tensor> {
        self.inner.forward(&self.decode(z)?)
    }
    /// The latent of `inner`'s trivial estimate (`E(A⁺ y)` in the model's scaling).
    fn trivial(&self, y: &Tensor) -> Result<Tensor> {
        self.vae.encode_scaled(&self.inner.trivial(y)?)
    }
    fn trivial_is_prior_mean(&self) -> bool {
        self.inner.trivial_is_prior_mean()
    }
}

impl View for Decoded {
    fn observation_image(&self, y: &Tensor) -> Result<Option<Tensor>> {
        self.inner.observation_image(y)
    }
    fn measurement_from_image(&self, img: &Tensor) -> Result<Tensor> {
        self.inner.measurement_from_image(img)
    }
    fn extras(&self) -> Result<Vec<(String, Tensor)>> {
        self.inner.extras()
    }
}
