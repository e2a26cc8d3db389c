//! diffusers' `AutoencoderKL` (the VAE of Stable Diffusion 1.x/2.x, and of SD3/Flux-style configs
//! with a `shift_factor`), loaded from a diffusers folder and run with tweedie's kernels in f32.
//!
//! The encoder maps an image in [-1, 1] to the mean of its latent distribution (the posterior's
//! `latent_dist.mean`); the decoder maps a latent back to an image. Both are built from recorded ops,
//! so the decoder's vector-Jacobian product (what latent solvers differentiate through) comes from
//! the tape: [`AutoencoderKL::decode_vjp`].
//!
//! Latent scaling follows diffusers' pipelines: the diffusion model works on
//! `z = (mean - shift_factor) * scaling_factor` ([`AutoencoderKL::to_latent`]), and the decoder is
//! given `z / scaling_factor + shift_factor` ([`AutoencoderKL::from_latent`]); `shift_factor` is 0
//! where the config has none (SD 1.x/2.x).

use super::config::{bad, config_object, read_model_dir};
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::nn::{Attention, Conv2d, GroupNorm, Weights};
use crate::ops::{self, Conv2dSpec};
use crate::tensor::Tensor;
use std::path::{Path, PathBuf};

/// The GroupNorm epsilon diffusers' `Encoder` and `Decoder` hard-code (not in config.json).
const VAE_NORM_EPS: f32 = 1e-6;

/// The configuration of a diffusers `AutoencoderKL` (its `config.json`).
#[derive(Debug, Clone, PartialEq)]
pub struct VaeConfig {
    /// Image channels the encoder takes.
    pub in_channels: usize,
    /// Image channels the decoder gives.
    pub out_channels: usize,
    /// Latent channels.
    pub latent_channels: usize,
    /// Channels per level (the encoder's order; the decoder runs them reversed).
    pub block_out_channels: Vec<usize>,
    /// Resnets per encoder block (decoder blocks have one more).
    pub layers_per_block: usize,
    /// GroupNorm groups.
    pub norm_num_groups: usize,
    /// Training resolution, if stated.
    pub sample_size: Option<(usize, usize)>,
    /// Multiplies the latent mean before the diffusion model sees it.
    pub scaling_factor: f32,
    /// Subtracted from the latent mean before the scaling (0 when the config has none).
    pub shift_factor: f32,
    /// A 1x1 convolution after the encoder (`quant_conv`).
    pub use_quant_conv: bool,
    /// A 1x1 convolution before the decoder (`post_quant_conv`).
    pub use_post_quant_conv: bool,
    /// Self-attention in the encoder's and decoder's mid blocks.
    pub mid_block_add_attention: bool,
}

impl VaeConfig {
    /// Parses an `AutoencoderKL` config.json text with the defaults of diffusers' constructor,
    /// refusing (with the key named) what tweedie cannot run.
    pub fn from_json(text: &str) -> Result<Self> {
        let obj = &config_object(
            text,
            "AutoencoderKL",
            "tweedie's autoencoder is diffusers' AutoencoderKL (the VAE of Stable Diffusion 1.x/2.x)",
        )?;
        let get = |k: &str| obj.get(k).filter(|v| !v.is_null());
        let count = |k: &str, d: usize| -> Result<usize> {
            match get(k) {
                None => Ok(d),
                Some(v) => v
                    .as_u64()
                    .map(|x| x as usize)
                    .ok_or_else(|| bad(k, v, "is not a count")),
            }
        };
        let f64_of = |k: &str| -> Result<Option<f64>> {
            get(k)
                .map(|v| v.as_f64().ok_or_else(|| bad(k, v, "is not a number")))
                .transpose()
        };
        let bool_of = |k: &str, d: bool| -> Result<bool> {
            match get(k) {
                None => Ok(d),
                Some(v) => v.as_bool().ok_or_else(|| bad(k, v, "is not true or false")),
            }
        };
        let strs = |k: &str| -> Result<Vec<String>> {
            match get(k) {
                None => Ok(Vec::new()),
                Some(v) => v
                    .as_array()
                    .and_then(|a| a.iter().map(|x| x.as_str().map(String::from)).collect())
                    .ok_or_else(|| bad(k, v, "is not a list of names")),
            }
        };
        const KNOWN: &[&str] = &[
            "in_channels",
            "out_channels",
            "down_block_types",
            "up_block_types",
            "block_out_channels",
            "layers_per_block",
            "act_fn",
            "latent_channels",
            "norm_num_groups",
            "sample_size",
            "scaling_factor",
            "shift_factor",
            "latents_mean",
            "latents_std",
            "force_upcast",
            "use_quant_conv",
            "use_post_quant_conv",
            "mid_block_add_attention",
        ];
        for k in obj.keys() {
            if !k.starts_with('_') && !KNOWN.contains(&k.as_str()) {
                return Err(Error::Model(format!(
                    "config.json key {k:?} is not supported by tweedie's AutoencoderKL (it runs the SD 1.x/2.x layout: \
                     DownEncoderBlock2D/UpDecoderBlock2D with a mid-block attention)"
                )));
            }
        }
        const REQUIRED: &[&str] = &[
            "in_channels",
            "out_channels",
            "latent_channels",
            "block_out_channels",
            "down_block_types",
            "up_block_types",
            "layers_per_block",
        ];
        let missing: Vec<&str> = REQUIRED.iter().copied().filter(|k| get(k).is_none()).collect();
        if !missing.is_empty() {
            return Err(Error::Model(format!(
                "config.json lacks {}: these keys set the architecture, and a config saved by diffusers has them all",
                missing.join(", ")
            )));
        }
        if let Some(a) = get("act_fn")
            && !matches!(a.as_str(), Some("silu") | Some("swish"))
        {
            return Err(bad(
                "act_fn",
                a,
                "is not supported: tweedie's AutoencoderKL runs silu (as every Stable Diffusion VAE)",
            ));
        }
        for k in ["latents_mean", "latents_std"] {
            if let Some(v) = get(k) {
                return Err(bad(
                    k,
                    v,
                    "(per-channel latent normalisation) is not supported; tweedie scales latents by scaling_factor and shift_factor only",
                ));
            }
        }
        let boc: Vec<usize> = match get("block_out_channels") {
            None => vec![64],
            Some(v) => v
                .as_array()
                .and_then(|a| a.iter().map(|x| x.as_u64().map(|u| u as usize)).collect())
                .ok_or_else(|| bad("block_out_channels", v, "is not a list of counts"))?,
        };
        let down = strs("down_block_types")?;
        let up = strs("up_block_types")?;
        for (k, list, ok) in [
            ("down_block_types", &down, "DownEncoderBlock2D"),
            ("up_block_types", &up, "UpDecoderBlock2D"),
        ] {
            if let Some(b) = list.iter().find(|b| b.as_str() != ok) {
                return Err(Error::Model(format!(
                    "config.json: block type {b} in {k} is not supported (tweedie's AutoencoderKL runs {ok}, as the Stable Diffusion VAEs)"
                )));
            }
        }
        if boc.is_empty() || down.len() != boc.len() || up.len() != boc.len() {
            return Err(Error::Model(format!(
                "config.json: {} down_block_types and {} up_block_types for {} block_out_channels; give one of each per level",
                down.len(),
                up.len(),
                boc.len()
            )));
        }
        let sample_size = match get("sample_size") {
            None => None,
            Some(v) => match (v.as_u64(), v.as_array()) {
                (Some(s), _) => Some((s as usize, s as usize)),
                (None, Some(a)) if a.len() == 2 && a.iter().all(|x| x.as_u64().is_some()) => Some((
                    a[0].as_u64().unwrap_or(0) as usize,
                    a[1].as_u64().unwrap_or(0) as usize,
                )),
                _ => return Err(bad("sample_size", v, "is not a size")),
            },
        };
        let cfg = VaeConfig {
            in_channels: count("in_channels", 3)?,
            out_channels: count("out_channels", 3)?,
            latent_channels: count("latent_channels", 4)?,
            block_out_channels: boc,
            layers_per_block: count("layers_per_block", 1)?,
            norm_num_groups: count("norm_num_groups", 32)?,
            sample_size,
            scaling_factor: f64_of("scaling_factor")?.unwrap_or(0.18215) as f32,
            shift_factor: f64_of("shift_factor")?.unwrap_or(0.0) as f32,
            use_quant_conv: bool_of("use_quant_conv", true)?,
            use_post_quant_conv: bool_of("use_post_quant_conv", true)?,
            mid_block_add_attention: bool_of("mid_block_add_attention", true)?,
        };
        cfg.check_ranges()?;
        Ok(cfg)
    }

    /// Refuses sizes no model has before anything is allocated for them.
    fn check_ranges(&self) -> Result<()> {
        let range = super::config::in_range;
        range("in_channels", self.in_channels, 1, 64)?;
        range("out_channels", self.out_channels, 1, 64)?;
        range("latent_channels", self.latent_channels, 1, 1024)?;
        range("norm_num_groups", self.norm_num_groups, 1, 8192)?;
        range("block_out_channels (levels)", self.block_out_channels.len(), 1, 8)?;
        range("layers_per_block", self.layers_per_block, 1, 16)?;
        for &c in &self.block_out_channels {
            range("block_out_channels", c, 1, 8192)?;
            if !c.is_multiple_of(self.norm_num_groups) {
                return Err(Error::Model(format!(
                    "config.json: block_out_channels {c} is not divisible by norm_num_groups = {}; the group norms need whole groups",
                    self.norm_num_groups
                )));
            }
        }
        if let Some((h, w)) = self.sample_size {
            range("sample_size", h, 1, 16384)?;
            range("sample_size", w, 1, 16384)?;
        }
        let s = self.scaling_factor;
        if !s.is_finite() || s == 0.0 {
            return Err(Error::Model(format!(
                "config.json: scaling_factor = {s} must be a finite, nonzero number (SD 1.x/2.x use 0.18215)"
            )));
        }
        if !self.shift_factor.is_finite() {
            return Err(Error::Model(format!(
                "config.json: shift_factor = {} is not a finite number",
                self.shift_factor
            )));
        }
        Ok(())
    }

    /// How many times the encoder halves the resolution (the decoder doubles it as often).
    pub fn downsamples(&self) -> usize {
        self.block_out_channels.len() - 1
    }
}

/// diffusers' `ResnetBlock2D` without a time embedding (the VAE's):
/// `shortcut(x) + conv2(silu(norm2(conv1(silu(norm1(x))))))`.
struct ResBlock {
    norm1: GroupNorm,
    conv1: Conv2d,
    norm2: GroupNorm,
    conv2: Conv2d,
    conv_shortcut: Option<Conv2d>,
}

impl ResBlock {
    fn load(ws: &mut Weights, p: &str, cin: usize, cout: usize, groups: usize) -> Result<Self> {
        let c3 = Conv2dSpec::new(1, 1);
        Ok(ResBlock {
            norm1: GroupNorm::load(ws, &format!("{p}.norm1"), cin, groups, VAE_NORM_EPS)?,
            conv1: Conv2d::load(ws, &format!("{p}.conv1"), cin, cout, 3, c3)?,
            norm2: GroupNorm::load(ws, &format!("{p}.norm2"), cout, groups, VAE_NORM_EPS)?,
            conv2: Conv2d::load(ws, &format!("{p}.conv2"), cout, cout, 3, c3)?,
            conv_shortcut: Conv2d::load_shortcut(ws, &format!("{p}.conv_shortcut"), cin, cout)?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let h = self.conv1.forward(&self.norm1.forward(x, true)?)?;
        let h = self.conv2.forward(&self.norm2.forward(&h, true)?)?;
        match &self.conv_shortcut {
            Some(c) => ops::add(&c.forward(x)?, &h),
            None => ops::add(x, &h),
        }
    }
}

/// `UNetMidBlock2D` without a time embedding: resnet, single-head attention over all channels
/// (optional), resnet.
struct MidBlock {
    resnet0: ResBlock,
    attention: Option<Attention>,
    resnet1: ResBlock,
}

impl MidBlock {
    fn load(ws: &mut Weights, p: &str, c: usize, groups: usize, attn: bool) -> Result<Self> {
        Ok(MidBlock {
            resnet0: ResBlock::load(ws, &format!("{p}.resnets.0"), c, c, groups)?,
            attention: if attn {
                // heads = C / attention_head_dim with attention_head_dim = C: one head of C channels
                Some(Attention::load(
                    ws,
                    &format!("{p}.attentions.0"),
                    c,
                    c,
                    Some(groups),
                    VAE_NORM_EPS,
                    1.0,
                )?)
            } else {
                None
            },
            resnet1: ResBlock::load(ws, &format!("{p}.resnets.1"), c, c, groups)?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = self.resnet0.forward(x)?;
        if let Some(a) = &self.attention {
            h = a.forward(&h)?;
        }
        self.resnet1.forward(&h)
    }
}

/// A `DownEncoderBlock2D` or an `UpDecoderBlock2D`: resnets, then a stride-2 convolution (down) or a
/// nearest 2x upsample and a convolution (up).
struct Block {
    resnets: Vec<ResBlock>,
    resample: Option<Conv2d>,
}

/// diffusers' `AutoencoderKL` on the GPU.
pub struct AutoencoderKL {
    /// The configuration it was built from.
    pub config: VaeConfig,
    gpu: Gpu,
    // encoder
    enc_conv_in: Conv2d,
    enc_down: Vec<Block>,
    enc_mid: MidBlock,
    enc_norm_out: GroupNorm,
    enc_conv_out: Conv2d,
    quant_conv: Option<Conv2d>,
    // decoder
    post_quant_conv: Option<Conv2d>,
    dec_conv_in: Conv2d,
    dec_mid: MidBlock,
    dec_up: Vec<Block>,
    dec_norm_out: GroupNorm,
    dec_conv_out: Conv2d,
}

/// The folder of an `AutoencoderKL` given a VAE folder itself or a diffusers pipeline folder holding
/// one in `vae/`.
pub fn vae_dir(dir: &Path) -> Result<PathBuf> {
    if !dir.is_dir() {
        return Err(Error::Model(format!(
            "model folder {} does not exist; pass a diffusers AutoencoderKL folder (config.json + diffusion_pytorch_model.safetensors) or a pipeline folder with vae/",
            dir.display()
        )));
    }
    let sub = dir.join("vae");
    if sub.join("config.json").is_file() {
        return Ok(sub);
    }
    if dir.join("config.json").is_file() {
        return Ok(dir.to_path_buf());
    }
    let what = if dir.join("model_index.json").is_file() {
        "is a pipeline folder without vae/config.json"
    } else {
        "has no config.json and no vae/ folder"
    };
    Err(Error::Model(format!(
        "{} {what}; pass a diffusers AutoencoderKL folder (config.json + diffusion_pytorch_model.safetensors) or a pipeline folder with vae/",
        dir.display()
    )))
}

impl AutoencoderKL {
    /// Loads `config.json` and `diffusion_pytorch_model.safetensors` from a diffusers
    /// `AutoencoderKL` folder, or from the `vae/` folder of a diffusers pipeline folder.
    pub fn load(gpu: &Gpu, dir: &Path) -> Result<Self> {
        let dir = vae_dir(dir)?;
        let (config, mut ws) = read_model_dir(gpu, &dir, VaeConfig::from_json)?;
        let model = Self::build(gpu, config, &mut ws)?;
        ws.finish()?;
        Ok(model)
    }

    /// [`Self::load`] from the two files' contents in memory (a host without a file system):
    /// `config.json`'s text and `diffusion_pytorch_model.safetensors`' bytes. Checked like files are.
    pub fn from_bytes(gpu: &Gpu, config_json: &str, safetensors: &[u8]) -> Result<Self> {
        let config = VaeConfig::from_json(config_json)?;
        let tensors = crate::io::parse_safetensors(safetensors).map_err(|e| match e {
            Error::Model(m) => Error::Model(format!("the VAE's safetensors: {m}")),
            other => other,
        })?;
        let mut ws = Weights::new(gpu, "the VAE's safetensors", tensors);
        let model = Self::build(gpu, config, &mut ws)?;
        ws.finish()?;
        Ok(model)
    }

    /// Builds the model from a config and named weights (diffusers' names: `encoder.*`,
    /// `decoder.*`, `quant_conv`, `post_quant_conv`); [`Weights::synthetic`] gives a model of any
    /// size for timing.
    pub fn build(gpu: &Gpu, config: VaeConfig, ws: &mut Weights) -> Result<Self> {
        let c = &config;
        let boc = &c.block_out_channels;
        let g = c.norm_num_groups;
        let lc = c.latent_channels;
        let c3 = Conv2dSpec::new(1, 1);
        let c1 = Conv2dSpec::new(1, 0);
        let clast = *boc.last().unwrap_or(&1);

        // encoder
        let enc_conv_in = Conv2d::load(ws, "encoder.conv_in", c.in_channels, boc[0], 3, c3)?;
        let mut enc_down = Vec::new();
        let mut cout = boc[0];
        for (i, &ch) in boc.iter().enumerate() {
            let cin = cout;
            cout = ch;
            let p = format!("encoder.down_blocks.{i}");
            let resnets = (0..c.layers_per_block)
                .map(|j| {
                    let rin = if j == 0 { cin } else { cout };
                    ResBlock::load(ws, &format!("{p}.resnets.{j}"), rin, cout, g)
                })
                .collect::<Result<Vec<_>>>()?;
            // Downsample2D(padding=0): F.pad (0, 1, 0, 1), then a stride-2 3x3 convolution
            let resample = if i + 1 < boc.len() {
                let spec = Conv2dSpec {
                    stride: 2,
                    pad: [0, 1, 0, 1],
                };
                Some(Conv2d::load(
                    ws,
                    &format!("{p}.downsamplers.0.conv"),
                    cout,
                    cout,
                    3,
                    spec,
                )?)
            } else {
                None
            };
            enc_down.push(Block { resnets, resample });
        }
        let enc_mid = MidBlock::load(ws, "encoder.mid_block", clast, g, c.mid_block_add_attention)?;
        let enc_norm_out = GroupNorm::load(ws, "encoder.conv_norm_out", clast, g, VAE_NORM_EPS)?;
        let enc_conv_out = Conv2d::load(ws, "encoder.conv_out", clast, 2 * lc, 3, c3)?;
        let quant_conv = if c.use_quant_conv {
            Some(Conv2d::load(ws, "quant_conv", 2 * lc, 2 * lc, 1, c1)?)
        } else {
            None
        };

        // decoder
        let post_quant_conv = if c.use_post_quant_conv {
            Some(Conv2d::load(ws, "post_quant_conv", lc, lc, 1, c1)?)
        } else {
            None
        };
        let dec_conv_in = Conv2d::load(ws, "decoder.conv_in", lc, clast, 3, c3)?;
        let dec_mid = MidBlock::load(ws, "decoder.mid_block", clast, g, c.mid_block_add_attention)?;
        let rev: Vec<usize> = boc.iter().rev().copied().collect();
        let mut dec_up = Vec::new();
        let mut cout = rev[0];
        for (i, &ch) in rev.iter().enumerate() {
            let prev = cout;
            cout = ch;
            let p = format!("decoder.up_blocks.{i}");
            let resnets = (0..c.layers_per_block + 1)
                .map(|j| {
                    let rin = if j == 0 { prev } else { cout };
                    ResBlock::load(ws, &format!("{p}.resnets.{j}"), rin, cout, g)
                })
                .collect::<Result<Vec<_>>>()?;
            let resample = if i + 1 < rev.len() {
                Some(Conv2d::load(
                    ws,
                    &format!("{p}.upsamplers.0.conv"),
                    cout,
                    cout,
                    3,
                    c3,
                )?)
            } else {
                None
            };
            dec_up.push(Block { resnets, resample });
        }
        let dec_norm_out = GroupNorm::load(ws, "decoder.conv_norm_out", boc[0], g, VAE_NORM_EPS)?;
        let dec_conv_out = Conv2d::load(ws, "decoder.conv_out", boc[0], c.out_channels, 3, c3)?;
        Ok(AutoencoderKL {
            config,
            gpu: gpu.clone(),
            enc_conv_in,
            enc_down,
            enc_mid,
            enc_norm_out,
            enc_conv_out,
            quant_conv,
            post_quant_conv,
            dec_conv_in,
            dec_mid,
            dec_up,
            dec_norm_out,
            dec_conv_out,
        })
    }

    /// The device the model lives on.
    pub fn gpu(&self) -> &Gpu {
        &self.gpu
    }

    /// The factor between image and latent sizes (2^(levels - 1); 8 for Stable Diffusion).
    pub fn factor(&self) -> usize {
        1 << self.config.downsamples()
    }

    /// Checks that an image batch is `[B, in_channels, H, W]` with B > 0 and H, W positive
    /// multiples of [`Self::factor`].
    pub fn check_image(&self, shape: &[usize]) -> Result<()> {
        super::check_unet_input(shape, self.config.in_channels, self.config.downsamples())
    }

    /// Checks that a latent batch is `[B, latent_channels, h, w]` with B, h, w > 0.
    pub fn check_latent(&self, shape: &[usize]) -> Result<()> {
        let lc = self.config.latent_channels;
        if shape.len() != 4 || shape[1] != lc || shape.contains(&0) {
            return Err(Error::Input(format!(
                "the VAE's decoder takes latents [batch, {lc}, height, width] (all positive), got {shape:?}"
            )));
        }
        Ok(())
    }

    /// The largest tensor the encoder (`decoder` false, for images `[b, C, h, w]`) or the decoder
    /// (`decoder` true, for latents `[b, L, h, w]`) makes, with its size in bytes: a feature map at
    /// the largest resolution, or the mid-block attention's scores `[b, hw, hw]`.
    pub fn largest_tensor(&self, b: usize, h: usize, w: usize, decoder: bool) -> (Vec<usize>, u64) {
        let boc = &self.config.block_out_channels;
        let n = boc.len();
        let mut cands: Vec<Vec<usize>> = Vec::new();
        // level i of the encoder runs at (h, w) / 2^i; the decoder's level i at (h, w) * 2^i
        let at = |i: usize| {
            if decoder {
                (h << i, w << i)
            } else {
                (h >> i, w >> i)
            }
        };
        let (hl, wl) = if decoder { (h, w) } else { at(n - 1) };
        if self.config.mid_block_add_attention {
            cands.push(vec![b, hl * wl, hl * wl]);
        }
        if decoder {
            let rev: Vec<usize> = boc.iter().rev().copied().collect();
            for i in 0..n {
                let (hh, ww) = at(i);
                let cin = if i == 0 { rev[0] } else { rev[i - 1] };
                cands.push(vec![b, cin.max(rev[i]), hh, ww]);
                if i + 1 < n {
                    cands.push(vec![b, rev[i], 2 * hh, 2 * ww]);
                }
            }
        } else {
            for (i, &c) in boc.iter().enumerate() {
                let (hh, ww) = at(i);
                let cin = if i == 0 { c } else { boc[i - 1] };
                cands.push(vec![b, cin.max(c), hh, ww]);
            }
        }
        let size = |s: &Vec<usize>| s.iter().map(|&v| v as u64).product::<u64>() * 4;
        let big = cands.into_iter().max_by_key(size).unwrap_or_default();
        let bytes = size(&big);
        (big, bytes)
    }

    /// Refuses, before any compute, an encode or decode whose largest tensor
    /// ([`Self::largest_tensor`]) exceeds the device's buffer binding limit (lavapipe's is 128 MiB: an
    /// SD-size decode of a 64x64 latent makes a `[1, 256, 512, 512]` map of 256 MiB).
    fn check_fits(&self, shape: &[usize], decoder: bool) -> Result<()> {
        let (big, bytes) = self.largest_tensor(shape[0], shape[2], shape[3], decoder);
        let limit = self.gpu.max_binding_bytes();
        if bytes > limit {
            let what = if decoder { "decoding" } else { "encoding" };
            return Err(Error::TooLarge {
                what: format!("{what} {shape:?} makes a tensor of shape {big:?}, which"),
                bytes,
                limit,
            });
        }
        Ok(())
    }

    /// The encoder's full output `[B, 2 * latent_channels, H/f, W/f]`: the posterior's mean and
    /// log-variance, stacked along the channels (diffusers' `DiagonalGaussianDistribution.parameters`).
    pub fn encode_moments(&self, x: &Tensor) -> Result<Tensor> {
        self.check_image(x.shape())?;
        self.check_fits(x.shape(), false)?;
        let mut h = self.enc_conv_in.forward(x)?;
        for blk in &self.enc_down {
            for r in &blk.resnets {
                h = r.forward(&h)?;
            }
            if let Some(d) = &blk.resample {
                h = d.forward(&h)?;
            }
        }
        h = self.enc_mid.forward(&h)?;
        h = self.enc_norm_out.forward(&h, true)?;
        h = self.enc_conv_out.forward(&h)?;
        match &self.quant_conv {
            Some(q) => q.forward(&h),
            None => Ok(h),
        }
    }

    /// The latent distribution's mean for images `x` `[B, in_channels, H, W]` in [-1, 1]
    /// (diffusers' `vae.encode(x).latent_dist.mean`), unscaled: `[B, latent_channels, H/f, W/f]`.
    pub fn encode_mean(&self, x: &Tensor) -> Result<Tensor> {
        let m = self.encode_moments(x)?;
        ops::narrow_channels(&m, 0, self.config.latent_channels)
    }

    /// The decoder's image for an unscaled latent `z` `[B, latent_channels, h, w]` (diffusers'
    /// `vae.decode(z).sample`): `[B, out_channels, h*f, w*f]`, nominally in [-1, 1].
    /// Differentiable in `z` (recorded when `z` is tracked).
    pub fn decode(&self, z: &Tensor) -> Result<Tensor> {
        self.check_latent(z.shape())?;
        self.check_fits(z.shape(), true)?;
        let mut h = match &self.post_quant_conv {
            Some(p) => p.forward(z)?,
            None => z.clone(),
        };
        h = self.dec_conv_in.forward(&h)?;
        h = self.dec_mid.forward(&h)?;
        for blk in &self.dec_up {
            for r in &blk.resnets {
                h = r.forward(&h)?;
            }
            if let Some(u) = &blk.resample {
                h = u.forward(&ops::upsample_nearest2x(&h)?)?;
            }
        }
        h = self.dec_norm_out.forward(&h, true)?;
        self.dec_conv_out.forward(&h)
    }

    /// The decoder's image and the vector-Jacobian product `∇_z ⟨v, decode(z)⟩` through the
    /// hand-derived backward kernels (`v` has the image's shape).
    pub fn decode_vjp(&self, z: &Tensor, v: &Tensor) -> Result<(Tensor, Tensor)> {
        let z = z.tracked();
        let x = self.decode(&z)?;
        let mut g = crate::autograd::backward(&x, v, &[&z])?;
        Ok((x.detach(), g.remove(0)))
    }

    /// The diffusion model's latent for an encoder mean: `(mean - shift_factor) * scaling_factor`,
    /// as diffusers' pipelines scale `vae.encode(x)` (differentiable).
    pub fn to_latent(&self, mean: &Tensor) -> Result<Tensor> {
        let (s, t) = (self.config.scaling_factor, self.config.shift_factor);
        ops::affine(mean, s, -t * s)
    }

    /// The decoder's input for a diffusion-model latent: `z / scaling_factor + shift_factor`, as
    /// diffusers' pipelines do before `vae.decode` (differentiable).
    pub fn from_latent(&self, z: &Tensor) -> Result<Tensor> {
        let (s, t) = (self.config.scaling_factor, self.config.shift_factor);
        ops::affine(z, 1.0 / s, t)
    }

    /// [`Self::encode_mean`] then [`Self::to_latent`]: what `tweedie vae --encode` writes.
    pub fn encode_scaled(&self, x: &Tensor) -> Result<Tensor> {
        self.to_latent(&self.encode_mean(x)?)
    }

    /// [`Self::from_latent`] then [`Self::decode`]: the `D(z)` latent solvers differentiate
    /// through, and what `tweedie vae --decode` writes.
    pub fn decode_scaled(&self, z: &Tensor) -> Result<Tensor> {
        self.check_latent(z.shape())?;
        self.decode(&self.from_latent(z)?)
    }

    /// A one-line description for messages.
    pub fn describe(&self) -> String {
        let c = &self.config;
        format!(
            "diffusers AutoencoderKL ({} -> {} latent channels, /{} resolution, blocks {:?}, scaling_factor {}, shift_factor {})",
            c.in_channels,
            c.latent_channels,
            self.factor(),
            c.block_out_channels,
            c.scaling_factor,
            c.shift_factor
        )
    }
}
