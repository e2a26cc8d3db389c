//! Optimisers on the device, for solvers that fit a tensor by gradient steps (RED-Diff's mean, a
//! blur kernel, DMPlug's initial noise). Launchers for `shaders/optim.wgsl`.

use super::{same_device, u32_of};
use crate::error::{Error, Result};
use crate::gpu::params::{OptimParams, SimplexParams};
use crate::gpu::{Access, KernelId, grid1d};
use crate::tensor::Tensor;
use crate::tensor::binds;

/// Adam (Kingma & Ba 2015, Algorithm 1) with its state on the device: one fused kernel per step
/// updates both moments and the parameter. The defaults are the paper's (β₁ 0.9, β₂ 0.999,
/// ε 1e-8); RED-Diff and DMPlug set their own learning rates.
pub struct Adam {
    /// Learning rate.
    pub lr: f32,
    /// Decay of the first moment.
    pub b1: f32,
    /// Decay of the second moment.
    pub b2: f32,
    /// Added to √v̂ in the denominator.
    pub eps: f32,
    m: Tensor,
    v: Tensor,
    t: i32,
}

impl Adam {
    /// Adam for parameters of `shape`, moments zero, with learning rate `lr` and the paper's β, ε.
    pub fn new(gpu: &crate::Gpu, shape: &[usize], lr: f32) -> Result<Self> {
        if !(lr.is_finite() && lr > 0.0) {
            return Err(Error::Input(format!(
                "Adam learning rate {lr}: must be a positive number"
            )));
        }
        Ok(Adam {
            lr,
            b1: 0.9,
            b2: 0.999,
            eps: 1e-8,
            m: Tensor::full(gpu, shape, 0.0)?,
            v: Tensor::full(gpu, shape, 0.0)?,
            t: 0,
        })
    }

    /// Steps taken so far.
    pub fn steps(&self) -> i32 {
        self.t
    }

    /// One step against the gradient `g`: updates `x`'s buffer in place (every clone of `x` sees
    /// the new values; `x` should be a detached leaf, not a value some graph still refers to).
    pub fn step(&mut self, x: &Tensor, g: &Tensor) -> Result<()> {
        same_device(x, g)?;
        if x.shape() != self.m.shape() || g.shape() != self.m.shape() {
            return Err(Error::Shape(format!(
                "Adam for {:?}: parameter {:?}, gradient {:?}",
                self.m.shape(),
                x.shape(),
                g.shape()
            )));
        }
        self.t += 1;
        let c1 = 1.0 / (1.0 - (self.b1 as f64).powi(self.t));
        let c2 = 1.0 / (1.0 - (self.b2 as f64).powi(self.t));
        let n = u32_of(x.numel(), "Adam parameter")?;
        x.gpu().dispatch(
            &KernelId::new("optim.wgsl", "adam"),
            &OptimParams {
                n,
                lr: self.lr,
                b1: self.b1,
                b2: self.b2,
                eps: self.eps,
                c1: c1 as f32,
                c2: c2 as f32,
                ..Default::default()
            },
            &binds!(g => x, self.m, self.v),
            grid1d(x.numel(), 256),
        )
    }
}

/// Projects each of the `rows` rows of `k` onto the probability simplex `{w ≥ 0, Σ w = 1}` in
/// place: the Euclidean projection `w = max(k − τ, 0)` (Duchi et al. 2008), with τ found on the
/// device by bisection (one workgroup per row). Keeps an estimated blur kernel a blur.
pub fn project_simplex(k: &Tensor, rows: usize) -> Result<()> {
    if rows == 0 || !k.numel().is_multiple_of(rows) {
        return Err(Error::Shape(format!(
            "simplex projection: {} values do not split into {rows} rows",
            k.numel()
        )));
    }
    let n = u32_of(k.numel() / rows, "simplex row")?;
    let r = u32_of(rows, "simplex rows")?;
    let scratch = Tensor::empty(k.gpu(), &[1])?;
    k.gpu().dispatch(
        &KernelId::new("simplex.wgsl", "project_simplex"),
        &SimplexParams {
            n,
            rows: r,
            ..Default::default()
        },
        &[scratch.bind(Access::Read), k.bind(Access::ReadWrite)],
        [r, 1, 1],
    )
}
