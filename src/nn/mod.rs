//! Layers built from ops, loaded from named weights: Conv2d, GroupNorm, LayerNorm, Linear, the
//! diffusers ResnetBlock2D and Attention.

mod weights;

pub use weights::Weights;

use crate::error::Result;
use crate::ops::{self, Conv2dSpec};
use crate::tensor::Tensor;

/// A 2-D convolution with bias.
pub struct Conv2d {
    /// Weight `[Cout, Cin, KH, KW]` (constant: on CPU adapters a packed copy is made at the first
    /// forward pass and reused, so replace the layer rather than writing into `w`).
    pub w: Tensor,
    /// Bias `[Cout]`.
    pub b: Option<Tensor>,
    /// Stride and padding.
    pub spec: Conv2dSpec,
    packed: std::sync::OnceLock<Option<std::sync::Arc<ops::PackedWeights>>>,
}

impl Conv2d {
    /// Loads `{prefix}.weight` (and `{prefix}.bias`).
    pub fn load(
        ws: &mut Weights,
        prefix: &str,
        cin: usize,
        cout: usize,
        k: usize,
        spec: Conv2dSpec,
    ) -> Result<Self> {
        Ok(Conv2d {
            w: ws.get(&format!("{prefix}.weight"), &[cout, cin, k, k])?,
            b: Some(ws.get(&format!("{prefix}.bias"), &[cout])?),
            spec,
            packed: std::sync::OnceLock::new(),
        })
    }

    /// The 1×1 convolution of a residual block's skip path where the channel count changes
    /// (`{prefix}.weight`, `{prefix}.bias`), `None` where it does not (the identity).
    pub fn load_shortcut(ws: &mut Weights, prefix: &str, cin: usize, cout: usize) -> Result<Option<Self>> {
        if cin == cout {
            return Ok(None);
        }
        Ok(Some(Conv2d::load(
            ws,
            prefix,
            cin,
            cout,
            1,
            Conv2dSpec::new(1, 0),
        )?))
    }

    /// Applies the convolution.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if self.packed.get().is_none() {
            let _ = self
                .packed
                .set(ops::PackedWeights::new(&self.w)?.map(std::sync::Arc::new));
        }
        let packed = self.packed.get().and_then(|p| p.as_ref());
        ops::conv2d_packed(x, &self.w, self.b.as_ref(), self.spec, packed)
    }
}

/// A `Linear` layer (`x W^T + b`).
pub struct Linear {
    /// Weight `[out, in]` (constant: on CPU adapters [`Self::forward_channels`] packs a copy at its
    /// first call and reuses it, so replace the layer rather than writing into `w`).
    pub w: Tensor,
    /// Bias `[out]`.
    pub b: Tensor,
    packed: std::sync::OnceLock<Option<std::sync::Arc<ops::PackedWeights>>>,
}

impl Linear {
    /// The layer with weight `w` `[out, in]` and bias `b` `[out]`.
    pub fn new(w: Tensor, b: Tensor) -> Self {
        Linear {
            w,
            b,
            packed: std::sync::OnceLock::new(),
        }
    }

    /// Loads `{prefix}.weight` and `{prefix}.bias`.
    pub fn load(ws: &mut Weights, prefix: &str, fin: usize, fout: usize) -> Result<Self> {
        Ok(Linear::new(
            ws.get(&format!("{prefix}.weight"), &[fout, fin])?,
            ws.get(&format!("{prefix}.bias"), &[fout])?,
        ))
    }

    /// Applies the layer to `[B, in]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        ops::linear(x, &self.w, Some(&self.b))
    }

    /// Applies the layer along the channels of `[B, in, H, W]` (a 1x1 convolution).
    pub fn forward_channels(&self, x: &Tensor) -> Result<Tensor> {
        let s = self.w.shape();
        let w = self.w.reshape(&[s[0], s[1], 1, 1])?;
        if self.packed.get().is_none() {
            let _ = self
                .packed
                .set(ops::PackedWeights::new(&w)?.map(std::sync::Arc::new));
        }
        let packed = self.packed.get().and_then(|p| p.as_ref());
        ops::conv2d_packed(x, &w, Some(&self.b), Conv2dSpec::new(1, 0), packed)
    }
}

/// Group normalisation with affine parameters.
pub struct GroupNorm {
    /// Scale `[C]`.
    pub gamma: Tensor,
    /// Shift `[C]`.
    pub beta: Tensor,
    /// Number of groups.
    pub groups: usize,
    /// Added to the variance.
    pub eps: f32,
}

impl GroupNorm {
    /// Loads `{prefix}.weight` and `{prefix}.bias`.
    pub fn load(ws: &mut Weights, prefix: &str, c: usize, groups: usize, eps: f32) -> Result<Self> {
        if groups == 0 || !c.is_multiple_of(groups) {
            return Err(crate::Error::Model(format!(
                "{prefix}: {c} channels cannot be split into {groups} groups (norm_num_groups)"
            )));
        }
        Ok(GroupNorm {
            gamma: ws.get(&format!("{prefix}.weight"), &[c])?,
            beta: ws.get(&format!("{prefix}.bias"), &[c])?,
            groups,
            eps,
        })
    }

    /// Normalises, optionally followed by SiLU.
    pub fn forward(&self, x: &Tensor, silu: bool) -> Result<Tensor> {
        ops::group_norm(x, &self.gamma, &self.beta, self.groups, self.eps, silu)
    }
}

/// Layer normalisation over the last dimension (`torch.nn.LayerNorm`).
pub struct LayerNorm {
    /// Scale `[C]`.
    pub gamma: Tensor,
    /// Shift `[C]`.
    pub beta: Tensor,
    /// Added to the variance.
    pub eps: f32,
}

impl LayerNorm {
    /// Loads `{prefix}.weight` and `{prefix}.bias` over `c` channels.
    pub fn load(ws: &mut Weights, prefix: &str, c: usize, eps: f32) -> Result<Self> {
        Ok(LayerNorm {
            gamma: ws.get(&format!("{prefix}.weight"), &[c])?,
            beta: ws.get(&format!("{prefix}.bias"), &[c])?,
            eps,
        })
    }

    /// Normalises `x` `[..., C]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        ops::layer_norm(x, &self.gamma, &self.beta, self.eps)
    }
}

/// diffusers' `ResnetBlock2D` with the default time-embedding norm:
/// `out = (shortcut(x) + conv2(silu(norm2(conv1(silu(norm1(x))) + proj(silu(temb)))))) / scale`.
pub struct ResnetBlock2D {
    norm1: GroupNorm,
    conv1: Conv2d,
    time_emb_proj: Linear,
    norm2: GroupNorm,
    conv2: Conv2d,
    conv_shortcut: Option<Conv2d>,
    output_scale_factor: f32,
}

/// Hyperparameters shared by the resnets of a block.
#[derive(Debug, Clone, Copy)]
pub struct ResnetConfig {
    /// Width of the time embedding.
    pub temb: usize,
    /// GroupNorm groups.
    pub groups: usize,
    /// GroupNorm epsilon.
    pub eps: f32,
    /// Divides the output.
    pub output_scale_factor: f32,
}

impl ResnetBlock2D {
    /// Loads the block at `prefix`.
    pub fn load(ws: &mut Weights, prefix: &str, cin: usize, cout: usize, rc: ResnetConfig) -> Result<Self> {
        let c3 = Conv2dSpec::new(1, 1);
        Ok(ResnetBlock2D {
            norm1: GroupNorm::load(ws, &format!("{prefix}.norm1"), cin, rc.groups, rc.eps)?,
            conv1: Conv2d::load(ws, &format!("{prefix}.conv1"), cin, cout, 3, c3)?,
            time_emb_proj: Linear::load(ws, &format!("{prefix}.time_emb_proj"), rc.temb, cout)?,
            norm2: GroupNorm::load(ws, &format!("{prefix}.norm2"), cout, rc.groups, rc.eps)?,
            conv2: Conv2d::load(ws, &format!("{prefix}.conv2"), cout, cout, 3, c3)?,
            conv_shortcut: Conv2d::load_shortcut(ws, &format!("{prefix}.conv_shortcut"), cin, cout)?,
            output_scale_factor: rc.output_scale_factor,
        })
    }

    /// Applies the block; `temb_act` is `silu(temb)`, shared by every block.
    pub fn forward(&self, x: &Tensor, temb_act: &Tensor) -> Result<Tensor> {
        let h = self.norm1.forward(x, true)?;
        let h = self.conv1.forward(&h)?;
        let t = self.time_emb_proj.forward(temb_act)?;
        let h = ops::add_bcast(&h, 1.0, &t)?;
        let h = self.norm2.forward(&h, true)?;
        let h = self.conv2.forward(&h)?;
        let s = 1.0 / self.output_scale_factor;
        match &self.conv_shortcut {
            Some(c) => ops::axpby(s, &c.forward(x)?, s, &h),
            None => ops::axpby(s, x, s, &h),
        }
    }
}

/// diffusers' `Attention` as UNet2DModel's blocks build it (`_from_deprecated_attn_block`): group norm,
/// multi-head self-attention over the pixels, output projection, residual, and a rescale.
pub struct Attention {
    /// The input norm, if any.
    pub group_norm: Option<GroupNorm>,
    /// Query projection `[heads * dim_head, C]`.
    pub to_q: Linear,
    /// Key projection.
    pub to_k: Linear,
    /// Value projection.
    pub to_v: Linear,
    /// Output projection `[C, heads * dim_head]`.
    pub to_out: Linear,
    /// Number of heads.
    pub heads: usize,
    /// Channels per head.
    pub dim_head: usize,
    /// Divides the output (after the residual).
    pub rescale_output_factor: f32,
}

impl Attention {
    /// Loads the attention at `prefix` over `c` channels with heads of `dim_head` channels
    /// (`heads = c / dim_head`, as diffusers computes it).
    pub fn load(
        ws: &mut Weights,
        prefix: &str,
        c: usize,
        dim_head: usize,
        groups: Option<usize>,
        eps: f32,
        rescale_output_factor: f32,
    ) -> Result<Self> {
        let heads = c / dim_head.max(1);
        if dim_head == 0 || heads == 0 {
            return Err(crate::Error::Model(format!(
                "{prefix}: attention_head_dim {dim_head} does not fit {c} channels"
            )));
        }
        let inner = heads * dim_head;
        let group_norm = match groups {
            Some(g) => Some(GroupNorm::load(ws, &format!("{prefix}.group_norm"), c, g, eps)?),
            None => None,
        };
        let lin = |ws: &mut Weights, name: &str, i: usize, o: usize| {
            Linear::load(ws, &format!("{prefix}.{name}"), i, o)
        };
        Ok(Attention {
            group_norm,
            to_q: lin(ws, "to_q", c, inner)?,
            to_k: lin(ws, "to_k", c, inner)?,
            to_v: lin(ws, "to_v", c, inner)?,
            to_out: lin(ws, "to_out.0", inner, c)?,
            heads,
            dim_head,
            rescale_output_factor,
        })
    }

    /// Applies the block to `[B, C, H, W]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let s = x.shape();
        let (b, hw) = (s[0], s[2] * s[3]);
        let (heads, d) = (self.heads, self.dim_head);
        let h = match &self.group_norm {
            Some(gn) => gn.forward(x, false)?,
            None => x.clone(),
        };
        // q, k, v: [B, heads*d, HW], i.e. [B*heads, d, HW]
        let q = self.to_q.forward_channels(&h)?;
        let k = self.to_k.forward_channels(&h)?;
        let v = self.to_v.forward_channels(&h)?;
        let o = ops::attention(
            &q,
            &k,
            &v,
            ops::AttentionSpec {
                bh: b * heads,
                d,
                hw,
                alpha: 1.0 / (d as f32).sqrt(),
            },
        )?
        .reshape(&[b, heads * d, s[2], s[3]])?;
        let out = self.to_out.forward_channels(&o)?;
        let r = 1.0 / self.rescale_output_factor;
        ops::axpby(r, &out, r, x)
    }
}
