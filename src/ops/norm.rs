//! Launchers for `shaders/groupnorm.wgsl` and `shaders/softmax.wgsl`.

use super::grad::{record, want};
use super::u32_of;
use crate::error::{Error, Result};
use crate::gpu::params::{GroupNormCpuParams, GroupNormParams, SoftmaxParams};
use crate::gpu::{Access, KernelId, grid1d};
use crate::tensor::binds;
use crate::tensor::{BackwardOp, InputGrads, Tensor};

/// Group normalisation of `x` `[N, C, ...]` with per-channel `gamma` and `beta`, as
/// `torch.nn.GroupNorm(groups, C, eps)`, optionally followed by SiLU (fused).
pub fn group_norm(
    x: &Tensor,
    gamma: &Tensor,
    beta: &Tensor,
    groups: usize,
    eps: f32,
    fuse_silu: bool,
) -> Result<Tensor> {
    let s = x.shape();
    if s.len() < 2 || groups == 0 || !s[1].is_multiple_of(groups) {
        return Err(Error::Shape(format!(
            "group norm with {groups} groups of input {s:?}"
        )));
    }
    let c = s[1];
    if gamma.numel() != c || beta.numel() != c {
        return Err(Error::Shape(format!(
            "group norm over {c} channels with gamma {:?} and beta {:?}",
            gamma.shape(),
            beta.shape()
        )));
    }
    let hw = x.numel() / (s[0] * c);
    let out = Tensor::empty(x.gpu(), s)?;
    let v4 = vec4_group_norm(x.gpu(), hw);
    // the vec4 kernel keeps (mean, 1/std) per group for the backward when it will run
    let stats = if v4 && [x, gamma, beta].iter().any(|t| t.is_tracked()) {
        Some(Tensor::empty(x.gpu(), &[s[0] * groups * 2])?)
    } else {
        None
    };
    let (c32, hw32, g32) = (c as u32, u32_of(hw, "group norm")?, groups as u32);
    let grid = [u32_of(s[0] * groups, "group norm groups")?, 1, 1];
    if v4 {
        let scratch;
        let st = match &stats {
            Some(t) => t,
            None => {
                scratch = Tensor::empty(x.gpu(), &[2])?;
                &scratch
            }
        };
        x.gpu().dispatch(
            &KernelId::new("groupnorm_cpu.wgsl", "groupnorm_v4"),
            &GroupNormCpuParams {
                c: c32,
                hw: hw32,
                groups: g32,
                silu: fuse_silu as u32,
                eps,
                keep: stats.is_some() as u32,
                ..Default::default()
            },
            &binds!(x, x, gamma, beta => out, st),
            grid,
        )?;
    } else {
        // subgroup sums where the device has them (the `#subgroup` variant, same entry point)
        let file = if x.gpu().subgroups() {
            "groupnorm.wgsl#subgroup"
        } else {
            "groupnorm.wgsl"
        };
        x.gpu().dispatch(
            &KernelId::new(file, "groupnorm"),
            &GroupNormParams {
                c: c32,
                hw: hw32,
                groups: g32,
                silu: fuse_silu as u32,
                eps,
                ..Default::default()
            },
            &binds!(x, gamma, beta => out),
            grid,
        )?;
    }
    let out = record(
        out,
        &[x, gamma, beta],
        GroupNorm {
            groups,
            eps,
            silu: fuse_silu,
            stats,
        },
    );
    Ok(out)
}

/// Whether group norm and its gradient take the vec4 kernels of `shaders/groupnorm_cpu.wgsl`: on CPU
/// adapters, where llvmpipe pays per load rather than per byte, when each channel's `hw` pixels
/// come in whole vec4s.
pub(crate) fn vec4_group_norm(gpu: &crate::Gpu, hw: usize) -> bool {
    gpu.cpu_kernels() && hw.is_multiple_of(4)
}

/// Softmax over the last dimension of `x`, of `scale * x`.
pub fn softmax_rows(x: &Tensor, scale: f32) -> Result<Tensor> {
    let len = *x
        .shape()
        .last()
        .ok_or_else(|| Error::Shape("softmax of a scalar".into()))?;
    let rows = x.numel() / len;
    let out = Tensor::empty(x.gpu(), x.shape())?;
    let params = SoftmaxParams {
        rows: u32_of(rows, "softmax rows")?,
        len: u32_of(len, "softmax row")?,
        scale,
        ..Default::default()
    };
    // CPU adapters: a row per invocation (no barriers); GPUs: a workgroup per row
    let cpu = x.gpu().cpu_kernels();
    let (entry, g) = if cpu {
        ("softmax_rows_cpu", grid1d(rows, 64))
    } else {
        ("softmax", grid1d(rows, 1))
    };
    let file = if !cpu && x.gpu().subgroups() {
        "softmax.wgsl#subgroup"
    } else {
        "softmax.wgsl"
    };
    x.gpu().dispatch(
        &KernelId::new(file, entry),
        &params,
        &[x.bind(Access::Read), out.bind(Access::ReadWrite)],
        g,
    )?;
    let out = record(out, &[x], Softmax { scale });
    Ok(out)
}

/// [`group_norm`] (inputs x, gamma, beta). `stats`: the forward's (mean, 1/std) per (sample, group)
/// where its kernel kept them (CPU adapters), so the backward does not recompute them.
struct GroupNorm {
    groups: usize,
    eps: f32,
    silu: bool,
    stats: Option<Tensor>,
}

impl BackwardOp for GroupNorm {
    fn name(&self) -> &'static str {
        "group_norm"
    }

    fn backward(&self, x: &[Tensor], _out: &Tensor, g: &Tensor, need: &[bool]) -> Result<InputGrads> {
        let (dx, p) = super::backward::group_norm_grad(
            [&x[0], &x[1], &x[2]],
            g,
            (self.groups, self.eps, self.silu),
            want(need, 1) || want(need, 2),
            self.stats.as_ref(),
        )?;
        let (dg, db) = match p {
            Some((a, b)) => (Some(a), Some(b)),
            None => (None, None),
        };
        Ok(vec![want(need, 0).then_some(dx), dg, db])
    }
}

/// [`softmax_rows`] (input x; the output is used).
struct Softmax {
    scale: f32,
}

impl BackwardOp for Softmax {
    fn name(&self) -> &'static str {
        "softmax"
    }

    fn backward(&self, _x: &[Tensor], out: &Tensor, g: &Tensor, _need: &[bool]) -> Result<InputGrads> {
        Ok(vec![Some(super::softmax_backward(out, g, self.scale)?)])
    }
}
