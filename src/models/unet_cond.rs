//! diffusers' `UNet2DConditionModel` in the Stable Diffusion 1.x / 2.x layout: the UNet of
//! `UNet2DModel` with `Transformer2DModel`s after the resnets of its cross-attention blocks
//! (group norm → proj_in (1×1 convolution, or a linear layer with `use_linear_projection`) →
//! `BasicTransformerBlock`s (layer norm → self-attention, layer norm → cross-attention on the
//! encoder hidden states, layer norm → GEGLU feed-forward, each with a residual) → proj_out →
//! residual). Built from recorded ops, so [`UNet2DConditionModel::forward_vjp`] comes from the tape.
//! [`Conditioned`] binds a text embedding (and classifier-free guidance) to it as a [`Denoiser`].

use super::config::{bad, config_object};
use super::unet2d::TimeEmbedding;
use crate::diffusion::{Denoiser, Prediction, Schedule, Timestep};
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::nn::{Conv2d, GroupNorm, LayerNorm, Linear, ResnetBlock2D, ResnetConfig, Weights};
use crate::ops::{self, Conv2dSpec, Gelu, Heads, TokenAttentionSpec};
use crate::tensor::Tensor;
use serde_json::Value;
use std::path::Path;

/// The configuration of a diffusers `UNet2DConditionModel` (the keys Stable Diffusion 1.x/2.x
/// use, with diffusers' constructor defaults; per-block lists already expanded).
#[derive(Debug, Clone, PartialEq)]
pub struct UNet2DConditionConfig {
    /// Training resolution (height, width) of the latent, if stated.
    pub sample_size: Option<(usize, usize)>,
    /// Input (latent) channels.
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Maps the input from [0, 1] to [-1, 1] first.
    pub center_input_sample: bool,
    /// `[cos | sin]` instead of `[sin | cos]`.
    pub flip_sin_to_cos: bool,
    /// Shift of the sinusoidal frequencies.
    pub freq_shift: f64,
    /// `CrossAttnDownBlock2D` or `DownBlock2D` per level.
    pub down_block_types: Vec<String>,
    /// `CrossAttnUpBlock2D` or `UpBlock2D` per level.
    pub up_block_types: Vec<String>,
    /// Whether there is a `UNetMidBlock2DCrossAttn`.
    pub mid_block: bool,
    /// Channels per level.
    pub block_out_channels: Vec<usize>,
    /// Resnets per down block (up blocks have one more), per level.
    pub layers_per_block: Vec<usize>,
    /// Transformer blocks per `Transformer2DModel`, per level.
    pub transformer_layers_per_block: Vec<usize>,
    /// Attention heads per level: diffusers' `attention_head_dim`, which (for a naming accident
    /// kept for compatibility) is the number of heads; a head has `channels / heads` channels.
    pub heads: Vec<usize>,
    /// Width of the encoder hidden states the cross-attention reads.
    pub cross_attention_dim: usize,
    /// Linear proj_in/proj_out (SD 2.x) instead of 1×1 convolutions (SD 1.x).
    pub use_linear_projection: bool,
    /// Per level: the first attention of each transformer block attends to the encoder states too.
    pub only_cross_attention: Vec<bool>,
    /// Whether the attention scores are computed in f32 (always so here: a no-op).
    pub upcast_attention: bool,
    /// Padding of the downsampling convolution (0 means diffusers' asymmetric (0, 1, 0, 1)).
    pub downsample_padding: usize,
    /// Output scale of the mid block's resnets.
    pub mid_block_scale_factor: f32,
    /// GroupNorm groups.
    pub norm_num_groups: usize,
    /// GroupNorm epsilon of the resnets and the output norm.
    pub norm_eps: f32,
    /// Width of the time embedding (default `4 * block_out_channels[0]`).
    pub time_embedding_dim: usize,
}

impl UNet2DConditionConfig {
    /// Parses a `config.json` text, refusing (with the key named) what tweedie cannot run.
    pub fn from_json(text: &str) -> Result<Self> {
        let obj = &config_object(
            text,
            "UNet2DConditionModel",
            "tweedie runs diffusers' UNet2DConditionModel here (UNet2DModel folders are loaded as unconditional models)",
        )?;
        let get = |k: &str| obj.get(k).filter(|v| !v.is_null());
        let count = |v: &Value, k: &str| -> Result<usize> {
            v.as_u64()
                .map(|x| x as usize)
                .ok_or_else(|| bad(k, v, "is not a count"))
        };
        let usize_of = |k: &str, d: usize| -> Result<usize> { get(k).map_or(Ok(d), |v| count(v, k)) };
        let f64_of = |k: &str, d: f64| -> Result<f64> {
            match get(k) {
                None => Ok(d),
                Some(v) => v.as_f64().ok_or_else(|| bad(k, v, "is not a number")),
            }
        };
        let bool_of = |k: &str, d: bool| -> Result<bool> {
            match get(k) {
                None => Ok(d),
                Some(v) => v.as_bool().ok_or_else(|| bad(k, v, "is not true or false")),
            }
        };
        let strs = |k: &str, d: &[&str]| -> Result<Vec<String>> {
            match get(k) {
                None => Ok(d.iter().map(|s| s.to_string()).collect()),
                Some(v) => v
                    .as_array()
                    .and_then(|a| a.iter().map(|x| x.as_str().map(String::from)).collect())
                    .ok_or_else(|| bad(k, v, "is not a list of names")),
            }
        };
        const KNOWN: &[&str] = &[
            "sample_size",
            "in_channels",
            "out_channels",
            "center_input_sample",
            "flip_sin_to_cos",
            "freq_shift",
            "down_block_types",
            "mid_block_type",
            "up_block_types",
            "only_cross_attention",
            "block_out_channels",
            "layers_per_block",
            "downsample_padding",
            "mid_block_scale_factor",
            "dropout",
            "act_fn",
            "norm_num_groups",
            "norm_eps",
            "cross_attention_dim",
            "transformer_layers_per_block",
            "reverse_transformer_layers_per_block",
            "encoder_hid_dim",
            "encoder_hid_dim_type",
            "attention_head_dim",
            "num_attention_heads",
            "dual_cross_attention",
            "use_linear_projection",
            "class_embed_type",
            "addition_embed_type",
            "addition_time_embed_dim",
            "num_class_embeds",
            "upcast_attention",
            "resnet_time_scale_shift",
            "resnet_skip_time_act",
            "resnet_out_scale_factor",
            "time_embedding_type",
            "time_embedding_dim",
            "time_embedding_act_fn",
            "timestep_post_act",
            "time_cond_proj_dim",
            "conv_in_kernel",
            "conv_out_kernel",
            "projection_class_embeddings_input_dim",
            "attention_type",
            "class_embeddings_concat",
            "mid_block_only_cross_attention",
            "cross_attention_norm",
            "addition_embed_type_num_heads",
        ];
        for k in obj.keys() {
            if !k.starts_with('_') && !KNOWN.contains(&k.as_str()) {
                return Err(Error::Model(format!(
                    "config.json key {k:?} is not supported by tweedie's UNet2DConditionModel"
                )));
            }
        }
        // features of SDXL, Kandinsky, unCLIP, ControlNet-style models that the SD 1.x/2.x layout
        // does not use: refused by name rather than run wrongly
        for k in [
            "class_embed_type",
            "num_class_embeds",
            "addition_embed_type",
            "addition_time_embed_dim",
            "encoder_hid_dim",
            "encoder_hid_dim_type",
            "projection_class_embeddings_input_dim",
            "time_cond_proj_dim",
            "timestep_post_act",
            "time_embedding_act_fn",
            "cross_attention_norm",
            "reverse_transformer_layers_per_block",
            "num_attention_heads",
        ] {
            if let Some(v) = get(k) {
                return Err(bad(
                    k,
                    v,
                    "is not supported: tweedie runs the Stable Diffusion 1.x/2.x UNet (text cross-attention only, no class, added or projected embeddings)",
                ));
            }
        }
        let expect = |k: &str, allowed: &[Value]| -> Result<()> {
            if let Some(v) = get(k)
                && !allowed.contains(v)
            {
                return Err(bad(
                    k,
                    v,
                    &format!(
                        "is not supported (tweedie runs {})",
                        allowed
                            .iter()
                            .map(|a| a.to_string())
                            .collect::<Vec<_>>()
                            .join(" or ")
                    ),
                ));
            }
            Ok(())
        };
        let s = |x: &str| Value::String(x.into());
        expect("time_embedding_type", &[s("positional")])?;
        expect("act_fn", &[s("silu"), s("swish")])?;
        expect("resnet_time_scale_shift", &[s("default")])?;
        expect("attention_type", &[s("default")])?;
        expect("dual_cross_attention", &[Value::Bool(false)])?;
        expect("resnet_skip_time_act", &[Value::Bool(false)])?;
        expect("class_embeddings_concat", &[Value::Bool(false)])?;
        expect("conv_in_kernel", &[Value::from(3)])?;
        expect("conv_out_kernel", &[Value::from(3)])?;
        if let Some(v) = get("resnet_out_scale_factor")
            && v.as_f64() != Some(1.0)
        {
            return Err(bad("resnet_out_scale_factor", v, "is not supported (1.0 only)"));
        }
        let mid_block = match obj.get("mid_block_type") {
            None => true,
            Some(Value::Null) => false,
            Some(v) if v.as_str() == Some("UNetMidBlock2DCrossAttn") => true,
            Some(v) => {
                return Err(bad(
                    "mid_block_type",
                    v,
                    "is not supported (UNetMidBlock2DCrossAttn or null)",
                ));
            }
        };
        let block_out_channels: Vec<usize> = match get("block_out_channels") {
            None => vec![320, 640, 1280, 1280],
            Some(v) => v
                .as_array()
                .and_then(|a| a.iter().map(|x| x.as_u64().map(|u| u as usize)).collect())
                .ok_or_else(|| bad("block_out_channels", v, "is not a list of counts"))?,
        };
        let n = block_out_channels.len();
        let down = strs(
            "down_block_types",
            &[
                "CrossAttnDownBlock2D",
                "CrossAttnDownBlock2D",
                "CrossAttnDownBlock2D",
                "DownBlock2D",
            ],
        )?;
        let up = strs(
            "up_block_types",
            &[
                "UpBlock2D",
                "CrossAttnUpBlock2D",
                "CrossAttnUpBlock2D",
                "CrossAttnUpBlock2D",
            ],
        )?;
        for (k, list, ok) in [
            ("down_block_types", &down, ["DownBlock2D", "CrossAttnDownBlock2D"]),
            ("up_block_types", &up, ["UpBlock2D", "CrossAttnUpBlock2D"]),
        ] {
            if let Some(b) = list.iter().find(|b| !ok.contains(&b.as_str())) {
                return Err(Error::Model(format!(
                    "config.json: block type {b} in {k} is not supported (tweedie runs {ok:?})"
                )));
            }
        }
        if down.len() != n || up.len() != n || n == 0 {
            return Err(Error::Model(format!(
                "config.json: {} down blocks and {} up blocks for {n} block_out_channels",
                down.len(),
                up.len(),
            )));
        }
        // an int, or a list with one entry per level
        let per_level = |k: &str, d: usize| -> Result<Vec<usize>> {
            match get(k) {
                None => Ok(vec![d; n]),
                Some(v) if v.is_u64() => Ok(vec![count(v, k)?; n]),
                Some(v) => {
                    let list: Vec<usize> = v
                        .as_array()
                        .and_then(|a| a.iter().map(|x| x.as_u64().map(|u| u as usize)).collect())
                        .ok_or_else(|| {
                            bad(k, v, "is neither a count nor a list of counts (one per block)")
                        })?;
                    if list.len() != n {
                        return Err(bad(k, v, &format!("has {} entries for {n} blocks", list.len())));
                    }
                    Ok(list)
                }
            }
        };
        let cross = per_level("cross_attention_dim", 1280)?;
        if cross.iter().any(|&c| c != cross[0]) {
            return Err(bad(
                "cross_attention_dim",
                get("cross_attention_dim").unwrap_or(&Value::Null),
                "differs between blocks, which one encoder hidden state cannot feed",
            ));
        }
        let only_cross: Vec<bool> = match get("only_cross_attention") {
            None => vec![false; n],
            Some(Value::Bool(b)) => vec![*b; n],
            Some(v) => {
                let l: Vec<bool> = v
                    .as_array()
                    .and_then(|a| a.iter().map(|x| x.as_bool()).collect())
                    .ok_or_else(|| {
                        bad(
                            "only_cross_attention",
                            v,
                            "is neither true/false nor a list of them",
                        )
                    })?;
                if l.len() != n {
                    return Err(bad(
                        "only_cross_attention",
                        v,
                        &format!("has {} entries for {n} blocks", l.len()),
                    ));
                }
                l
            }
        };
        // mid_block_only_cross_attention is read by the UNetMidBlock2DSimpleCrossAttn only:
        // UNetMidBlock2DCrossAttn's self-attention stays self-attention
        bool_of("mid_block_only_cross_attention", false)?;
        let sample_size = match get("sample_size") {
            None => None,
            Some(v) => match (v.as_u64(), v.as_array()) {
                (Some(s), _) => Some((s as usize, s as usize)),
                (None, Some(a)) if a.len() == 2 => {
                    Some((count(&a[0], "sample_size")?, count(&a[1], "sample_size")?))
                }
                _ => return Err(bad("sample_size", v, "is not a size")),
            },
        };
        if obj.get("attention_head_dim").is_some_and(Value::is_null) {
            return Err(Error::Model(
                "config.json: attention_head_dim = null is not supported (give the heads per block)".into(),
            ));
        }
        let c0 = block_out_channels[0];
        let cfg = UNet2DConditionConfig {
            sample_size,
            in_channels: usize_of("in_channels", 4)?,
            out_channels: usize_of("out_channels", 4)?,
            center_input_sample: bool_of("center_input_sample", false)?,
            flip_sin_to_cos: bool_of("flip_sin_to_cos", true)?,
            freq_shift: f64_of("freq_shift", 0.0)?,
            down_block_types: down,
            up_block_types: up,
            mid_block,
            layers_per_block: per_level("layers_per_block", 2)?,
            transformer_layers_per_block: match get("transformer_layers_per_block") {
                Some(v) if v.as_array().is_some_and(|a| a.iter().any(Value::is_array)) => {
                    return Err(bad(
                        "transformer_layers_per_block",
                        v,
                        "(nested lists, SDXL-refiner style) is not supported",
                    ));
                }
                _ => per_level("transformer_layers_per_block", 1)?,
            },
            heads: per_level("attention_head_dim", 8)?,
            cross_attention_dim: cross[0],
            use_linear_projection: bool_of("use_linear_projection", false)?,
            only_cross_attention: only_cross,
            upcast_attention: bool_of("upcast_attention", false)?,
            downsample_padding: usize_of("downsample_padding", 1)?,
            mid_block_scale_factor: f64_of("mid_block_scale_factor", 1.0)? as f32,
            norm_num_groups: match obj.get("norm_num_groups") {
                Some(Value::Null) => {
                    return Err(Error::Model(
                        "config.json: norm_num_groups = null (no output norm) is not supported".into(),
                    ));
                }
                _ => usize_of("norm_num_groups", 32)?,
            },
            norm_eps: f64_of("norm_eps", 1e-5)? as f32,
            time_embedding_dim: usize_of("time_embedding_dim", 4 * c0)?,
            block_out_channels,
        };
        cfg.check_ranges()?;
        Ok(cfg)
    }

    /// Refuses sizes no model has before anything is allocated for them.
    fn check_ranges(&self) -> Result<()> {
        let range = super::config::in_range;
        range("in_channels", self.in_channels, 1, 64)?;
        range("out_channels", self.out_channels, 1, 128)?;
        range("norm_num_groups", self.norm_num_groups, 1, 8192)?;
        range("block_out_channels (levels)", self.block_out_channels.len(), 1, 8)?;
        for (i, &c) in self.block_out_channels.iter().enumerate() {
            range("block_out_channels", c, 1, 8192)?;
            if !c.is_multiple_of(self.norm_num_groups) {
                return Err(Error::Model(format!(
                    "config.json: block_out_channels {c} is not divisible by norm_num_groups = {}",
                    self.norm_num_groups
                )));
            }
            range("attention_head_dim (heads)", self.heads[i], 1, c)?;
            range("layers_per_block", self.layers_per_block[i], 1, 16)?;
            range(
                "transformer_layers_per_block",
                self.transformer_layers_per_block[i],
                1,
                64,
            )?;
        }
        range("cross_attention_dim", self.cross_attention_dim, 1, 16384)?;
        range("time_embedding_dim", self.time_embedding_dim, 1, 32768)?;
        range("downsample_padding", self.downsample_padding, 0, 8)?;
        if let Some((h, w)) = self.sample_size {
            range("sample_size", h, 1, 16384)?;
            range("sample_size", w, 1, 16384)?;
        }
        super::config::check_unet_numbers(self.freq_shift, self.norm_eps, self.mid_block_scale_factor)?;
        Ok(())
    }

    /// How many times the model halves the resolution.
    pub fn downsamples(&self) -> usize {
        self.block_out_channels.len() - 1
    }
}

/// diffusers' `Attention` of a transformer block: projections without bias, multi-head attention
/// over tokens, output projection with bias.
struct TokenAttn {
    to_q: Tensor,
    to_k: Tensor,
    to_v: Tensor,
    to_out: Linear,
    heads: usize,
    dim_head: usize,
}

impl TokenAttn {
    fn load(
        ws: &mut Weights,
        p: &str,
        dim: usize,
        kv_dim: usize,
        heads: usize,
        dim_head: usize,
    ) -> Result<Self> {
        let inner = heads * dim_head;
        Ok(TokenAttn {
            to_q: ws.get(&format!("{p}.to_q.weight"), &[inner, dim])?,
            to_k: ws.get(&format!("{p}.to_k.weight"), &[inner, kv_dim])?,
            to_v: ws.get(&format!("{p}.to_v.weight"), &[inner, kv_dim])?,
            to_out: Linear::load(ws, &format!("{p}.to_out.0"), inner, dim)?,
            heads,
            dim_head,
        })
    }

    /// `x` `[B*tq, dim]` attending to `ctx` `[B*tk, kv_dim]`.
    fn forward(&self, x: &Tensor, ctx: &Tensor, b: usize, budget: usize) -> Result<Tensor> {
        let (tq, tk) = (x.shape()[0] / b, ctx.shape()[0] / b);
        let inner = self.heads * self.dim_head;
        let q = ops::linear(x, &self.to_q, None)?;
        let k = ops::linear(ctx, &self.to_k, None)?;
        let v = ops::linear(ctx, &self.to_v, None)?;
        let spec = |batch: usize, tq: usize| TokenAttentionSpec {
            batch,
            heads: self.heads,
            tq,
            tk,
            dim_head: self.dim_head,
            alpha: 1.0 / (self.dim_head as f32).sqrt(),
            causal: false,
        };
        // the scores [batch*heads, tq, tk] are materialised: past `budget` floats (Stable
        // Diffusion's 64x64 latent gives 8 x 4096 x 4096, past what a device binds at once) the
        // queries go in chunks, per sample, through recorded row slices and concatenations
        let rows_fit = (budget / (self.heads * tk)).max(1);
        let o = if b * tq <= rows_fit {
            ops::attention_tokens(&q, &k, &v, spec(b, tq))?.reshape(&[b * tq, inner])?
        } else {
            let chunk = rows_fit.min(tq);
            let mut parts = Vec::new();
            for i in 0..b {
                let (kb, vb) = if b == 1 {
                    (k.clone(), v.clone())
                } else {
                    (row_slice(&k, i * tk, tk)?, row_slice(&v, i * tk, tk)?)
                };
                let mut s0 = 0;
                while s0 < tq {
                    let n = chunk.min(tq - s0);
                    let qc = row_slice(&q, i * tq + s0, n)?;
                    let oc = ops::attention_tokens(&qc, &kb, &vb, spec(1, n))?;
                    parts.push(oc.reshape(&[1, n, inner, 1])?);
                    s0 += n;
                }
            }
            cat_rows_recorded(parts)?.reshape(&[b * tq, inner])?
        };
        self.to_out.forward(&o)
    }
}

/// The most attention scores (floats) one product materialises by default: 64 MiB, half the
/// 128 MiB a device binds at once.
const SCORES: usize = 16 << 20;

/// Rows `start..start + n` of `x` `[rows, C]` as `[n, C]`, recorded (a channel slice of the
/// `[1, rows, C, 1]` view).
fn row_slice(x: &Tensor, start: usize, n: usize) -> Result<Tensor> {
    let (r, c) = (x.shape()[0], x.shape()[1]);
    ops::narrow_channels(&x.reshape(&[1, r, c, 1])?, start, n)?.reshape(&[n, c])
}

/// `[1, n_i, C, 1]` parts stacked along their rows, recorded, pairwise (each row copied about
/// log2(parts) times, not parts times).
fn cat_rows_recorded(mut parts: Vec<Tensor>) -> Result<Tensor> {
    while parts.len() > 1 {
        let mut next = Vec::with_capacity(parts.len().div_ceil(2));
        let mut it = parts.into_iter();
        while let Some(a) = it.next() {
            next.push(match it.next() {
                Some(b) => ops::concat_channels(&a, &b)?,
                None => a,
            });
        }
        parts = next;
    }
    parts
        .pop()
        .ok_or_else(|| Error::Shape("attention of no queries".into()))
}

/// diffusers' `BasicTransformerBlock` (layer norms, self- and cross-attention, GEGLU feed-forward).
struct BasicTransformerBlock {
    norm1: LayerNorm,
    attn1: TokenAttn,
    norm2: LayerNorm,
    attn2: TokenAttn,
    norm3: LayerNorm,
    ff_proj: Linear,
    ff_out: Linear,
    only_cross: bool,
}

impl BasicTransformerBlock {
    fn load(
        ws: &mut Weights,
        p: &str,
        dim: usize,
        heads: usize,
        dim_head: usize,
        cross: usize,
        only_cross: bool,
    ) -> Result<Self> {
        let ff = 4 * dim;
        let ln = |ws: &mut Weights, n: &str| LayerNorm::load(ws, &format!("{p}.{n}"), dim, 1e-5);
        Ok(BasicTransformerBlock {
            norm1: ln(ws, "norm1")?,
            attn1: TokenAttn::load(
                ws,
                &format!("{p}.attn1"),
                dim,
                if only_cross { cross } else { dim },
                heads,
                dim_head,
            )?,
            norm2: ln(ws, "norm2")?,
            attn2: TokenAttn::load(ws, &format!("{p}.attn2"), dim, cross, heads, dim_head)?,
            norm3: ln(ws, "norm3")?,
            ff_proj: Linear::load(ws, &format!("{p}.ff.net.0.proj"), dim, 2 * ff)?,
            ff_out: Linear::load(ws, &format!("{p}.ff.net.2"), ff, dim)?,
            only_cross,
        })
    }

    /// `h` `[B*T, dim]`, `cond` `[B*tokens, cross]`.
    fn forward(&self, h: &Tensor, cond: &Tensor, b: usize, budget: usize) -> Result<Tensor> {
        let n = self.norm1.forward(h)?;
        let a = if self.only_cross {
            self.attn1.forward(&n, cond, b, budget)?
        } else {
            self.attn1.forward(&n, &n, b, budget)?
        };
        let h = ops::add(&a, h)?;
        let a = self.attn2.forward(&self.norm2.forward(&h)?, cond, b, budget)?;
        let h = ops::add(&a, &h)?;
        let f = ops::geglu(&self.ff_proj.forward(&self.norm3.forward(&h)?)?, Gelu::Erf)?;
        ops::add(&self.ff_out.forward(&f)?, &h)
    }
}

/// diffusers' `Transformer2DModel` on continuous inputs.
struct Transformer2D {
    norm: GroupNorm,
    proj_in: Linear,
    blocks: Vec<BasicTransformerBlock>,
    proj_out: Linear,
    linear: bool,
    inner: usize,
}

impl Transformer2D {
    #[allow(clippy::too_many_arguments)]
    fn load(
        ws: &mut Weights,
        p: &str,
        c: usize,
        heads: usize,
        layers: usize,
        cfg: &UNet2DConditionConfig,
        only_cross: bool,
    ) -> Result<Self> {
        let dim_head = c / heads;
        let inner = heads * dim_head;
        let blocks = (0..layers)
            .map(|l| {
                BasicTransformerBlock::load(
                    ws,
                    &format!("{p}.transformer_blocks.{l}"),
                    inner,
                    heads,
                    dim_head,
                    cfg.cross_attention_dim,
                    only_cross,
                )
            })
            .collect::<Result<_>>()?;
        Ok(Transformer2D {
            // diffusers fixes this norm's epsilon at 1e-6
            norm: GroupNorm::load(ws, &format!("{p}.norm"), c, cfg.norm_num_groups, 1e-6)?,
            proj_in: Linear::load(ws, &format!("{p}.proj_in"), c, inner)?,
            blocks,
            proj_out: Linear::load(ws, &format!("{p}.proj_out"), inner, c)?,
            linear: cfg.use_linear_projection,
            inner,
        })
    }

    /// `x` `[B, C, H, W]`, `cond` `[B*tokens, cross]`.
    fn forward(&self, x: &Tensor, cond: &Tensor, budget: usize) -> Result<Tensor> {
        let s = x.shape();
        let (b, hw) = (s[0], s[2] * s[3]);
        // [B, ch, H, W] <-> [B*HW, ch]: the head permutation with one channel a "head" swaps the
        // channel and pixel axes
        let perm = |ch: usize| Heads {
            batch: b,
            tokens: ch,
            heads: hw,
            dim_head: 1,
        };
        let to_tokens = |t: &Tensor, ch: usize| ops::split_heads(t, perm(ch))?.reshape(&[b * hw, ch]);
        let from_tokens =
            |t: &Tensor, ch: usize| ops::merge_heads(t, perm(ch))?.reshape(&[b, ch, s[2], s[3]]);
        let h = self.norm.forward(x, false)?;
        let mut h = if self.linear {
            self.proj_in.forward(&to_tokens(&h, s[1])?)?
        } else {
            to_tokens(&self.proj_in.forward_channels(&h)?, self.inner)?
        };
        for blk in &self.blocks {
            h = blk.forward(&h, cond, b, budget)?;
        }
        let h = if self.linear {
            from_tokens(&self.proj_out.forward(&h)?, s[1])?
        } else {
            self.proj_out.forward_channels(&from_tokens(&h, self.inner)?)?
        };
        ops::add(&h, x)
    }
}

struct Block {
    resnets: Vec<ResnetBlock2D>,
    attentions: Vec<Transformer2D>,
    resample: Option<Conv2d>,
}

struct MidBlock {
    resnet0: ResnetBlock2D,
    layers: Vec<(Transformer2D, ResnetBlock2D)>,
}

/// A diffusers `UNet2DConditionModel` on the GPU: `forward(x, t, cond)` is the model output for a
/// latent `x` and encoder hidden states `cond` (a text encoder's last hidden state).
pub struct UNet2DConditionModel {
    /// The configuration it was built from.
    pub config: UNet2DConditionConfig,
    /// What the output is (from the scheduler config): ε, or v (converted by [`Conditioned`]).
    pub prediction: Prediction,
    score_budget: usize,
    gpu: Gpu,
    schedule: Schedule,
    time: TimeEmbedding,
    conv_in: Conv2d,
    down: Vec<Block>,
    mid: Option<MidBlock>,
    up: Vec<Block>,
    norm_out: GroupNorm,
    conv_out: Conv2d,
}

/// Whether `dir` holds a `UNet2DConditionModel` (its `config.json` names that class), or is a
/// pipeline folder whose `unet/` does. Returns the UNet's folder.
pub fn unet_cond_dir(dir: &Path) -> Option<std::path::PathBuf> {
    let is_cond = |d: &Path| {
        std::fs::read_to_string(d.join("config.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|v| v.get("_class_name").and_then(Value::as_str).map(String::from))
            .is_some_and(|c| c == "UNet2DConditionModel")
    };
    if is_cond(dir) {
        Some(dir.to_path_buf())
    } else if is_cond(&dir.join("unet")) {
        Some(dir.join("unet"))
    } else {
        None
    }
}

impl UNet2DConditionModel {
    /// Loads a diffusers `UNet2DConditionModel` folder (`config.json` and
    /// `diffusion_pytorch_model.safetensors`, or its `.fp16` variant; f32, f16 or bf16 weights),
    /// with the schedule of `scheduler_config.json` beside it or in the pipeline's `scheduler/`
    /// (the DDPM default without one).
    pub fn load(gpu: &Gpu, dir: &Path) -> Result<Self> {
        if !dir.join("config.json").is_file() {
            return Err(Error::Model(format!(
                "{} has no config.json; a diffusers UNet2DConditionModel folder holds config.json and diffusion_pytorch_model.safetensors",
                dir.display()
            )));
        }
        let fp16 = dir.join("diffusion_pytorch_model.fp16.safetensors");
        let (config, mut ws) = if !dir.join("diffusion_pytorch_model.safetensors").is_file() && fp16.is_file()
        {
            let cfg_path = dir.join("config.json");
            let text = std::fs::read_to_string(&cfg_path).map_err(|e| crate::error::io_err(&cfg_path, e))?;
            let config = UNet2DConditionConfig::from_json(&text).map_err(|e| match e {
                Error::Model(m) => {
                    Error::Model(m.replacen("config.json", &cfg_path.display().to_string(), 1))
                }
                other => other,
            })?;
            let tensors = crate::io::read_safetensors(&fp16)?;
            (config, Weights::new(gpu, &fp16.display().to_string(), tensors))
        } else {
            super::config::read_model_dir(gpu, dir, UNet2DConditionConfig::from_json)?
        };
        let model = Self::build(gpu, config, &mut ws)?;
        ws.finish()?;
        let sched = dir.join("scheduler_config.json");
        let sibling = dir.parent().map(|p| p.join("scheduler"));
        let (schedule, prediction) = match sibling {
            Some(s) if !sched.is_file() && s.join("scheduler_config.json").is_file() => {
                Schedule::for_model_dir_predicting(&s)?
            }
            _ => Schedule::for_model_dir_predicting(dir)?,
        };
        Ok(model.with_schedule(schedule, prediction))
    }

    /// Builds the model from a config and named weights, on the DDPM default schedule.
    pub fn build(gpu: &Gpu, config: UNet2DConditionConfig, ws: &mut Weights) -> Result<Self> {
        let c = &config;
        let boc = &c.block_out_channels;
        let c0 = boc[0];
        let ted = c.time_embedding_dim;
        let groups = c.norm_num_groups;
        let rc = ResnetConfig {
            temb: ted,
            groups,
            eps: c.norm_eps,
            output_scale_factor: 1.0,
        };
        let c3 = Conv2dSpec::new(1, 1);
        let time = TimeEmbedding::load(gpu, ws, c0, ted, c.freq_shift)?;
        let conv_in = Conv2d::load(ws, "conv_in", c.in_channels, c0, 3, c3)?;
        let down_pad = if c.downsample_padding == 0 {
            [0, 1, 0, 1]
        } else {
            [c.downsample_padding; 4]
        };

        let mut down = Vec::new();
        let mut cout = c0;
        for (i, ty) in c.down_block_types.iter().enumerate() {
            let cin = cout;
            cout = boc[i];
            let p = format!("down_blocks.{i}");
            let attn = ty == "CrossAttnDownBlock2D";
            let mut blk = Block {
                resnets: Vec::new(),
                attentions: Vec::new(),
                resample: None,
            };
            for j in 0..c.layers_per_block[i] {
                let rin = if j == 0 { cin } else { cout };
                blk.resnets.push(ResnetBlock2D::load(
                    ws,
                    &format!("{p}.resnets.{j}"),
                    rin,
                    cout,
                    rc,
                )?);
                if attn {
                    blk.attentions.push(Transformer2D::load(
                        ws,
                        &format!("{p}.attentions.{j}"),
                        cout,
                        c.heads[i],
                        c.transformer_layers_per_block[i],
                        c,
                        c.only_cross_attention[i],
                    )?);
                }
            }
            if i + 1 < boc.len() {
                let spec = Conv2dSpec {
                    stride: 2,
                    pad: down_pad,
                };
                blk.resample = Some(Conv2d::load(
                    ws,
                    &format!("{p}.downsamplers.0.conv"),
                    cout,
                    cout,
                    3,
                    spec,
                )?);
            }
            down.push(blk);
        }

        let n = boc.len();
        let clast = boc[n - 1];
        let mid = if c.mid_block {
            let mrc = ResnetConfig {
                output_scale_factor: c.mid_block_scale_factor,
                ..rc
            };
            let t = Transformer2D::load(
                ws,
                "mid_block.attentions.0",
                clast,
                c.heads[n - 1],
                c.transformer_layers_per_block[n - 1],
                c,
                false,
            )?;
            Some(MidBlock {
                resnet0: ResnetBlock2D::load(ws, "mid_block.resnets.0", clast, clast, mrc)?,
                layers: vec![(
                    t,
                    ResnetBlock2D::load(ws, "mid_block.resnets.1", clast, clast, mrc)?,
                )],
            })
        } else {
            None
        };

        let rev: Vec<usize> = boc.iter().rev().copied().collect();
        let mut up = Vec::new();
        let mut cout = rev[0];
        for (i, ty) in c.up_block_types.iter().enumerate() {
            let lvl = n - 1 - i;
            let prev = cout;
            cout = rev[i];
            let cin = rev[(i + 1).min(n - 1)];
            let p = format!("up_blocks.{i}");
            let attn = ty == "CrossAttnUpBlock2D";
            let layers = c.layers_per_block[lvl] + 1;
            let mut blk = Block {
                resnets: Vec::new(),
                attentions: Vec::new(),
                resample: None,
            };
            for j in 0..layers {
                let skip = if j == layers - 1 { cin } else { cout };
                let rin = if j == 0 { prev } else { cout };
                blk.resnets.push(ResnetBlock2D::load(
                    ws,
                    &format!("{p}.resnets.{j}"),
                    rin + skip,
                    cout,
                    rc,
                )?);
                if attn {
                    blk.attentions.push(Transformer2D::load(
                        ws,
                        &format!("{p}.attentions.{j}"),
                        cout,
                        c.heads[lvl],
                        c.transformer_layers_per_block[lvl],
                        c,
                        c.only_cross_attention[lvl],
                    )?);
                }
            }
            if i + 1 < n {
                blk.resample = Some(Conv2d::load(
                    ws,
                    &format!("{p}.upsamplers.0.conv"),
                    cout,
                    cout,
                    3,
                    c3,
                )?);
            }
            up.push(blk);
        }
        let norm_out = GroupNorm::load(ws, "conv_norm_out", c0, groups, c.norm_eps)?;
        let conv_out = Conv2d::load(ws, "conv_out", c0, c.out_channels, 3, c3)?;
        Ok(UNet2DConditionModel {
            config,
            prediction: Prediction::Epsilon,
            score_budget: SCORES,
            gpu: gpu.clone(),
            schedule: Schedule::ddpm_default(),
            time,
            conv_in,
            down,
            mid,
            up,
            norm_out,
            conv_out,
        })
    }

    /// The same model with another noise schedule and prediction type.
    pub fn with_schedule(mut self, schedule: Schedule, prediction: Prediction) -> Self {
        self.schedule = schedule;
        self.prediction = prediction;
        self
    }

    /// The same model with attention computed in query chunks whose scores hold at most `floats`
    /// values (default 16 Mi, 64 MiB): exact either way; smaller chunks use less memory.
    pub fn with_attention_budget(mut self, floats: usize) -> Self {
        self.score_budget = floats.max(1);
        self
    }

    /// The device the model lives on.
    pub fn gpu(&self) -> &Gpu {
        &self.gpu
    }

    /// The noise schedule.
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// Checks that `x` is `[B, in_channels, H, W]` with H and W divisible by 2^(levels - 1).
    pub fn check_input(&self, shape: &[usize]) -> Result<()> {
        let c = &self.config;
        super::check_unet_input(shape, c.in_channels, c.downsamples())
    }

    /// Checks that `cond` is `[1 or batch, tokens, cross_attention_dim]`.
    pub fn check_cond(&self, cond: &[usize], batch: usize) -> Result<()> {
        let d = self.config.cross_attention_dim;
        if cond.len() != 3 || cond[1] == 0 || cond[0] == 0 {
            return Err(Error::Input(format!(
                "the conditioning must be [1 or batch, tokens, {d}] (a text encoder's last hidden state), got {cond:?}"
            )));
        }
        if cond[2] != d {
            return Err(Error::Input(format!(
                "the conditioning has width {} but this UNet's cross_attention_dim is {d}; encode the prompt with the text encoder the UNet was trained with",
                cond[2]
            )));
        }
        if cond[0] != 1 && cond[0] != batch {
            return Err(Error::Input(format!(
                "the conditioning holds {} embeddings for a batch of {batch}: give 1 (used for every sample) or {batch}",
                cond[0]
            )));
        }
        Ok(())
    }

    /// The model output for the latent `x` `[B, C, H, W]` at timesteps `t` (`[B]` or `[1]`),
    /// cross-attending to `cond` `[1 or B, tokens, cross_attention_dim]`. Differentiable in `x`
    /// through the tape (and in `cond` where it has one row per sample; a broadcast one is copied).
    pub fn forward(&self, x: &Tensor, t: &Tensor, cond: &Tensor) -> Result<Tensor> {
        self.check_input(x.shape())?;
        let b = x.shape()[0];
        self.check_cond(cond.shape(), b)?;
        let (tokens, d) = (cond.shape()[1], cond.shape()[2]);
        let cond = cond.reshape(&[cond.shape()[0] * tokens, d])?;
        let cond = if cond.shape()[0] == tokens && b > 1 {
            ops::particles::cat_rows(&vec![cond; b])?
        } else {
            cond
        };
        let t = super::batch_timesteps(&self.gpu, t, b)?;
        let c = &self.config;
        let temb = self.time.forward(&t, c.flip_sin_to_cos)?;
        let temb_act = ops::silu(&temb)?;
        let x = if c.center_input_sample {
            ops::affine(x, 2.0, -1.0)?
        } else {
            x.clone()
        };
        let mut h = self.conv_in.forward(&x)?;
        let mut skips = vec![h.clone()];
        for blk in &self.down {
            for (j, r) in blk.resnets.iter().enumerate() {
                h = r.forward(&h, &temb_act)?;
                if let Some(a) = blk.attentions.get(j) {
                    h = a.forward(&h, &cond, self.score_budget)?;
                }
                skips.push(h.clone());
            }
            if let Some(d) = &blk.resample {
                h = d.forward(&h)?;
                skips.push(h.clone());
            }
        }
        if let Some(m) = &self.mid {
            h = m.resnet0.forward(&h, &temb_act)?;
            for (a, r) in &m.layers {
                h = a.forward(&h, &cond, self.score_budget)?;
                h = r.forward(&h, &temb_act)?;
            }
        }
        for blk in &self.up {
            for (j, r) in blk.resnets.iter().enumerate() {
                let skip = skips
                    .pop()
                    .ok_or_else(|| Error::Model("skip connections ran out".into()))?;
                h = r.forward(&ops::concat_channels(&h, &skip)?, &temb_act)?;
                if let Some(a) = blk.attentions.get(j) {
                    h = a.forward(&h, &cond, self.score_budget)?;
                }
            }
            if let Some(u) = &blk.resample {
                h = u.forward(&ops::upsample_nearest2x(&h)?)?;
            }
        }
        let h = self.norm_out.forward(&h, true)?;
        self.conv_out.forward(&h)
    }

    /// The model output and the vector-Jacobian product `∇_x ⟨v, model(x, t, cond)⟩` through the
    /// tape.
    pub fn forward_vjp(&self, x: &Tensor, t: &Tensor, cond: &Tensor, v: &Tensor) -> Result<(Tensor, Tensor)> {
        let x = x.tracked();
        let eps = self.forward(&x, t, cond)?;
        let mut g = crate::autograd::backward(&eps, v, &[&x])?;
        Ok((eps.detach(), g.remove(0)))
    }

    /// A one-line description.
    pub fn describe(&self) -> String {
        let c = &self.config;
        format!(
            "diffusers UNet2DConditionModel ({} channels, blocks {:?}, cross-attention on width {})",
            c.in_channels, c.block_out_channels, c.cross_attention_dim
        )
    }
}

/// A [`UNet2DConditionModel`] bound to its conditioning, as a [`Denoiser`]: ε for the text
/// embedding `cond` (`[1 or B, tokens, dim]`, one embedding broadcast over the batch), with
/// classifier-free guidance `ε = ε_u + g (ε_c − ε_u)` against the unconditional embedding (the empty
/// prompt's) when `g ≠ 1`, and a `v_prediction` output converted to ε (`ε = sqrt(ᾱ_t) v +
/// sqrt(1 − ᾱ_t) x_t`). The two branches are two forward passes (the memory of one batch of B, not
/// 2B); everything is recorded, so solvers' VJPs go through it.
pub struct Conditioned {
    unet: UNet2DConditionModel,
    cond: Tensor,
    uncond: Option<Tensor>,
    guidance: f32,
}

impl Conditioned {
    /// `unet` conditioned on `cond` alone (no guidance).
    pub fn new(unet: UNet2DConditionModel, cond: Tensor) -> Result<Self> {
        Self::guided(unet, cond, None, 1.0)
    }

    /// `unet` with classifier-free guidance of scale `guidance` between `cond` and `uncond`
    /// (`[1, tokens, dim]`; needed unless `guidance` is 1, where it is not run).
    pub fn guided(
        unet: UNet2DConditionModel,
        cond: Tensor,
        uncond: Option<Tensor>,
        guidance: f32,
    ) -> Result<Self> {
        if !guidance.is_finite() {
            return Err(Error::Input(format!(
                "guidance scale {guidance} is not a finite number (1 means no guidance; Stable Diffusion's pipelines default to 7.5)"
            )));
        }
        let d = unet.config.cross_attention_dim;
        let s = cond.shape();
        if s.len() != 3 || s[0] == 0 || s[1] == 0 || s[2] != d {
            return Err(Error::Input(format!(
                "the conditioning is {s:?}; this UNet cross-attends to [1 or batch, tokens, {d}] (cross_attention_dim {d})"
            )));
        }
        let uncond = if guidance == 1.0 { None } else { uncond };
        if guidance != 1.0 {
            match &uncond {
                None => {
                    return Err(Error::Input(format!(
                        "guidance {guidance} needs the unconditional embedding (the empty prompt's); without one, use guidance 1"
                    )));
                }
                Some(u) if u.shape() != [1, s[1], d] => {
                    return Err(Error::Input(format!(
                        "the unconditional embedding is {:?}; it must be [1, {}, {d}] like the conditioning's tokens",
                        u.shape(),
                        s[1]
                    )));
                }
                _ => {}
            }
        }
        Ok(Conditioned {
            unet,
            cond,
            uncond,
            guidance,
        })
    }

    /// The UNet.
    pub fn unet(&self) -> &UNet2DConditionModel {
        &self.unet
    }

    /// The guidance scale.
    pub fn guidance(&self) -> f32 {
        self.guidance
    }

    /// `raw` (the model's output for `x`) as ε at timestep `t`.
    fn to_eps(&self, raw: Tensor, x: &Tensor, t: usize) -> Result<Tensor> {
        match self.unet.prediction {
            Prediction::Epsilon => Ok(raw),
            Prediction::V => {
                let ab = self.unet.schedule.alpha_bar(Some(t));
                ops::axpby(ab.sqrt() as f32, &raw, (1.0 - ab).sqrt() as f32, x)
            }
        }
    }
}

impl Denoiser for Conditioned {
    fn gpu(&self) -> &Gpu {
        &self.unet.gpu
    }

    fn schedule(&self) -> &Schedule {
        &self.unet.schedule
    }

    fn check_input(&self, shape: &[usize]) -> Result<()> {
        self.unet.check_input(shape)?;
        self.unet.check_cond(self.cond.shape(), shape[0])
    }

    fn eps(&self, x: &Tensor, t: &Timestep) -> Result<Tensor> {
        let c = self.unet.forward(x, &t.tensor, &self.cond)?;
        let raw = match &self.uncond {
            None => c,
            Some(u) => {
                let u = self.unet.forward(x, &t.tensor, u)?;
                let g = self.guidance;
                ops::axpby(1.0 - g, &u, g, &c)?
            }
        };
        self.to_eps(raw, x, t.t)
    }

    fn describe(&self) -> String {
        let mut s = self.unet.describe();
        if self.uncond.is_some() {
            s.push_str(&format!(", classifier-free guidance {}", self.guidance));
        }
        if self.unet.prediction == Prediction::V {
            s.push_str(", v_prediction converted to epsilon");
        }
        s
    }
}
