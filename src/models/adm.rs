//! guided-diffusion's `UNetModel` (ADM: Dhariwal & Nichol, "Diffusion Models Beat GANs on Image
//! Synthesis", 2021; code: openai/guided-diffusion `guided_diffusion/unet.py`), the prior of DPS,
//! DDRM, ΠGDM, RED-diff, DAPS and InverseBench (`ffhq_10m.pt`, `256x256_diffusion_uncond.pt`), run with
//! tweedie's kernels in f32 and loaded from the official PyTorch checkpoint or from safetensors.
//!
//! What ADM adds to the diffusers UNet, and how it maps onto tweedie's ops:
//! - residual blocks with scale-shift norm: `h = silu(norm(h) * (1 + scale) + shift)` with
//!   `[scale | shift] = Linear(silu(emb))` ([`ops::film`]);
//! - residual up/down-sampling (`resblock_updown`): nearest 2x upsampling or 2x2 average pooling of
//!   both the block's input and its normalised hidden state, before the first convolution;
//! - attention with a fused qkv projection, in the legacy per-head order `[q_h | k_h | v_h]` or the
//!   new `[q | k | v]` order, split into q, k, v projections at load time ([`Attention`]);
//! - learned variance: `2C` outputs, ε the first `C`, the variance interpolation the rest.

use super::adm_config::AdmConfig;
use crate::diffusion::{Denoiser, Schedule, Timestep};
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::nn::{Attention, Conv2d, GroupNorm, Linear, Weights};
use crate::ops::{self, Conv2dSpec};
use crate::tensor::Tensor;

/// GroupNorm32's groups and epsilon.
const GROUPS: usize = 32;
const EPS: f32 = 1e-5;

#[derive(Clone, Copy, PartialEq)]
enum Resample {
    Up,
    Down,
}

/// guided-diffusion's `ResBlock`.
struct ResBlock {
    in_norm: GroupNorm,
    in_conv: Conv2d,
    emb: Linear,
    out_norm: GroupNorm,
    out_conv: Conv2d,
    skip: Option<Conv2d>,
    resample: Option<Resample>,
    scale_shift: bool,
}

impl ResBlock {
    fn load(
        ws: &mut Weights,
        p: &str,
        cfg: &AdmConfig,
        cin: usize,
        cout: usize,
        resample: Option<Resample>,
    ) -> Result<Self> {
        let c3 = Conv2dSpec::new(1, 1);
        let ted = cfg.time_embed_dim();
        let ss = cfg.use_scale_shift_norm;
        Ok(ResBlock {
            in_norm: GroupNorm::load(ws, &format!("{p}.in_layers.0"), cin, GROUPS, EPS)?,
            in_conv: Conv2d::load(ws, &format!("{p}.in_layers.2"), cin, cout, 3, c3)?,
            emb: Linear::load(
                ws,
                &format!("{p}.emb_layers.1"),
                ted,
                if ss { 2 * cout } else { cout },
            )?,
            out_norm: GroupNorm::load(ws, &format!("{p}.out_layers.0"), cout, GROUPS, EPS)?,
            out_conv: Conv2d::load(ws, &format!("{p}.out_layers.3"), cout, cout, 3, c3)?,
            skip: Conv2d::load_shortcut(ws, &format!("{p}.skip_connection"), cin, cout)?,
            resample,
            scale_shift: ss,
        })
    }

    /// `skip(x') + out_layers(in_layers(x'), emb)` with `x'` resampled when the block resamples;
    /// `emb_act` is `silu(emb)`.
    fn forward(&self, x: &Tensor, emb_act: &Tensor) -> Result<Tensor> {
        let mut h = self.in_norm.forward(x, true)?;
        let x = match self.resample {
            Some(Resample::Up) => {
                h = ops::upsample_nearest2x(&h)?;
                ops::upsample_nearest2x(x)?
            }
            Some(Resample::Down) => {
                h = ops::avg_pool2x(&h)?;
                ops::avg_pool2x(x)?
            }
            None => x.clone(),
        };
        let h = self.in_conv.forward(&h)?;
        let e = self.emb.forward(emb_act)?;
        let h = if self.scale_shift {
            ops::silu(&ops::film(&self.out_norm.forward(&h, false)?, &e)?)?
        } else {
            self.out_norm.forward(&ops::add_bcast(&h, 1.0, &e)?, true)?
        };
        let h = self.out_conv.forward(&h)?;
        match &self.skip {
            Some(c) => ops::add(&c.forward(&x)?, &h),
            None => ops::add(&x, &h),
        }
    }
}

/// guided-diffusion's `AttentionBlock` as tweedie's [`Attention`]: the fused `qkv` (a 1-D
/// convolution `[3C, C, 1]`) is split into q, k and v projections.
fn load_attention(ws: &mut Weights, p: &str, c: usize, heads: usize, new_order: bool) -> Result<Attention> {
    let d = c / heads;
    let qkv_w = ws.get_host(&format!("{p}.qkv.weight"), &[3 * c, c, 1])?;
    let qkv_b = ws.get_host(&format!("{p}.qkv.bias"), &[3 * c])?;
    // row of the fused projection that feeds channel i of head h of part j (0 q, 1 k, 2 v)
    let row = |j: usize, h: usize, i: usize| {
        if new_order {
            j * c + h * d + i
        } else {
            h * 3 * d + j * d + i
        }
    };
    let gpu = ws.gpu().clone();
    let part = |j: usize| -> Result<Linear> {
        let mut w = Vec::with_capacity(c * c);
        let mut b = Vec::with_capacity(c);
        for h in 0..heads {
            for i in 0..d {
                let r = row(j, h, i);
                w.extend_from_slice(&qkv_w[r * c..(r + 1) * c]);
                b.push(qkv_b[r]);
            }
        }
        Ok(Linear::new(
            Tensor::from_slice(&gpu, &[c, c], &w)?,
            Tensor::from_slice(&gpu, &[c], &b)?,
        ))
    };
    let (q, k, v) = (part(0)?, part(1)?, part(2)?);
    // guided-diffusion's AttentionBlock: its fused qkv projection split into three
    Ok(Attention {
        group_norm: Some(GroupNorm::load(ws, &format!("{p}.norm"), c, GROUPS, EPS)?),
        to_q: q,
        to_k: k,
        to_v: v,
        to_out: Linear::load(ws, &format!("{p}.proj_out"), c, c)?,
        heads,
        dim_head: d,
        rescale_output_factor: 1.0,
    })
}

/// One layer of a `TimestepEmbedSequential`.
enum Layer {
    Res(Box<ResBlock>),
    Attn(Box<Attention>),
    /// Stride-2 convolution (`Downsample` with `conv_resample`).
    Down(Conv2d),
    /// Nearest 2x upsampling and a convolution (`Upsample` with `conv_resample`).
    Up(Conv2d),
}

impl Layer {
    fn res(r: ResBlock) -> Self {
        Layer::Res(Box::new(r))
    }

    fn attn(a: Attention) -> Self {
        Layer::Attn(Box::new(a))
    }

    fn forward(&self, x: &Tensor, emb_act: &Tensor) -> Result<Tensor> {
        match self {
            Layer::Res(r) => r.forward(x, emb_act),
            Layer::Attn(a) => a.forward(x),
            Layer::Down(c) => c.forward(x),
            Layer::Up(c) => c.forward(&ops::upsample_nearest2x(x)?),
        }
    }
}

/// A guided-diffusion (ADM) UNet on the GPU: `forward(x, t)` returns the model output (ε, and with a
/// learned variance the interpolation `v` of the log-variance in the last `C` channels).
pub struct AdmUNet {
    /// The configuration it was built from.
    pub config: AdmConfig,
    gpu: Gpu,
    schedule: Schedule,
    freq_table: Tensor,
    time_1: Linear,
    time_2: Linear,
    conv_in: Conv2d,
    input: Vec<Vec<Layer>>,
    middle: Vec<Layer>,
    output: Vec<Vec<Layer>>,
    out_norm: GroupNorm,
    out_conv: Conv2d,
}

impl AdmUNet {
    /// Builds the model from a configuration and the weights of a state dict with guided-diffusion's
    /// names (`input_blocks.1.0.in_layers.0.weight`, ...), on the schedule the configuration names.
    pub fn build(gpu: &Gpu, config: AdmConfig, ws: &mut Weights) -> Result<Self> {
        let cfg = &config;
        let mc = cfg.model_channels;
        let ted = cfg.time_embed_dim();
        let c3 = Conv2dSpec::new(1, 1);
        let levels = cfg.channel_mult.len();
        let table = ops::timestep_freq_table(mc, 0.0);
        let freq_table = Tensor::from_slice(gpu, &[table.len()], &table)?;
        let time_1 = Linear::load(ws, "time_embed.0", mc, ted)?;
        let time_2 = Linear::load(ws, "time_embed.2", ted, ted)?;
        let mut ch = cfg.level_channels(0);
        let conv_in = Conv2d::load(ws, "input_blocks.0.0", cfg.in_channels, ch, 3, c3)?;
        let mut chans = vec![ch];
        // a res block, then attention at the resolutions that have it (`up`: the output side's head
        // count)
        let res_attn = |ws: &mut Weights, p: &str, cin: usize, out: usize, ds: usize, up: bool| {
            let mut layers = vec![Layer::res(ResBlock::load(
                ws,
                &format!("{p}.0"),
                cfg,
                cin,
                out,
                None,
            )?)];
            if cfg.attention_ds.contains(&ds) {
                layers.push(Layer::attn(load_attention(
                    ws,
                    &format!("{p}.1"),
                    out,
                    cfg.heads(out, up)?,
                    cfg.use_new_attention_order,
                )?));
            }
            Ok::<_, Error>(layers)
        };
        let mut input = Vec::new();
        let mut ds = 1;
        let mut k = 1;
        for level in 0..levels {
            for _ in 0..cfg.num_res_blocks {
                let p = format!("input_blocks.{k}");
                let out = cfg.level_channels(level);
                input.push(res_attn(ws, &p, ch, out, ds, false)?);
                ch = out;
                chans.push(ch);
                k += 1;
            }
            if level != levels - 1 {
                let p = format!("input_blocks.{k}.0");
                input.push(vec![if cfg.resblock_updown {
                    Layer::res(ResBlock::load(ws, &p, cfg, ch, ch, Some(Resample::Down))?)
                } else {
                    let spec = Conv2dSpec {
                        stride: 2,
                        pad: [1; 4],
                    };
                    Layer::Down(Conv2d::load(ws, &format!("{p}.op"), ch, ch, 3, spec)?)
                }]);
                chans.push(ch);
                ds *= 2;
                k += 1;
            }
        }
        let middle = vec![
            Layer::res(ResBlock::load(ws, "middle_block.0", cfg, ch, ch, None)?),
            Layer::attn(load_attention(
                ws,
                "middle_block.1",
                ch,
                cfg.heads(ch, false)?,
                cfg.use_new_attention_order,
            )?),
            Layer::res(ResBlock::load(ws, "middle_block.2", cfg, ch, ch, None)?),
        ];
        let mut output = Vec::new();
        let mut k = 0;
        for level in (0..levels).rev() {
            for i in 0..=cfg.num_res_blocks {
                let p = format!("output_blocks.{k}");
                let ich = chans
                    .pop()
                    .ok_or_else(|| Error::Model("ADM skip channels ran out".into()))?;
                let out = cfg.level_channels(level);
                let mut layers = res_attn(ws, &p, ch + ich, out, ds, true)?;
                ch = out;
                if level > 0 && i == cfg.num_res_blocks {
                    let q = format!("{p}.{}", layers.len());
                    layers.push(if cfg.resblock_updown {
                        Layer::res(ResBlock::load(ws, &q, cfg, ch, ch, Some(Resample::Up))?)
                    } else {
                        Layer::Up(Conv2d::load(ws, &format!("{q}.conv"), ch, ch, 3, c3)?)
                    });
                    ds /= 2;
                }
                output.push(layers);
                k += 1;
            }
        }
        let out_norm = GroupNorm::load(ws, "out.0", ch, GROUPS, EPS)?;
        let out_conv = Conv2d::load(ws, "out.2", ch, cfg.out_channels(), 3, c3)?;
        let schedule = match cfg.noise_schedule.as_str() {
            "cosine" => Schedule::cosine(cfg.diffusion_steps),
            // guided-diffusion's linear schedule: betas from 1e-4 to 0.02, scaled by 1000 / T
            _ => {
                let s = 1000.0 / cfg.diffusion_steps as f64;
                Schedule::linear(cfg.diffusion_steps, 1e-4 * s, 0.02 * s)
            }
        };
        Ok(AdmUNet {
            config,
            gpu: gpu.clone(),
            schedule,
            freq_table,
            time_1,
            time_2,
            conv_in,
            input,
            middle,
            output,
            out_norm,
            out_conv,
        })
    }

    /// A guided-diffusion checkpoint from its bytes in memory, for hosts without a file system (a
    /// web page fetches it): `.pt` as `torch.save` wrote it (a zip archive, read without running
    /// anything) or `.safetensors` with the same names, told apart by their first bytes; the
    /// architecture from `config` ([`AdmConfig::preset`] or [`AdmConfig::from_json`]). Checked as
    /// [`super::Model::load`] checks files.
    pub fn from_bytes(gpu: &Gpu, config: AdmConfig, checkpoint: &[u8]) -> Result<Self> {
        let tensors = if checkpoint.starts_with(b"PK") {
            crate::pt::parse_pt(checkpoint).map_err(|e| Error::Model(format!("the checkpoint: {e}")))?
        } else {
            crate::io::parse_safetensors(checkpoint).map_err(|e| match e {
                Error::Model(m) => Error::Model(format!("the checkpoint's safetensors: {m}")),
                other => other,
            })?
        };
        Self::build_checked(gpu, config, Weights::new(gpu, "the checkpoint", tensors))
    }

    /// [`Self::build`], then every weight used ([`Weights::finish`]) and the configuration's own
    /// image size accepted.
    pub(crate) fn build_checked(gpu: &Gpu, config: AdmConfig, mut ws: Weights) -> Result<Self> {
        let model = Self::build(gpu, config, &mut ws)?;
        ws.finish()?;
        model.check_input(&[
            1,
            model.config.in_channels,
            model.config.image_size,
            model.config.image_size,
        ])?;
        Ok(model)
    }

    /// The model with random weights ([`Weights::synthetic`]): for sizing and timing a configuration
    /// without its checkpoint.
    pub fn random(gpu: &Gpu, config: AdmConfig, seed: u64) -> Result<Self> {
        Self::build(gpu, config, &mut Weights::synthetic(gpu, seed))
    }

    /// The device the model lives on.
    pub fn gpu(&self) -> &Gpu {
        &self.gpu
    }

    /// The bytes of the largest buffer one forward pass of a batch `[b, C, h, w]` needs: the
    /// decoder's first concatenation at full resolution, or an attention score matrix.
    pub fn largest_buffer(&self, b: usize, h: usize, w: usize) -> (u64, String) {
        let cfg = &self.config;
        let mut best = (0u64, String::new());
        let mut take = |bytes: u64, what: String| {
            if bytes > best.0 {
                best = (bytes, what);
            }
        };
        for level in 0..cfg.channel_mult.len() {
            let (hh, ww) = (h >> level, w >> level);
            let ch = cfg.level_channels(level);
            let prev = if level + 1 < cfg.channel_mult.len() {
                cfg.level_channels(level + 1)
            } else {
                ch
            };
            // the decoder's first resnet at this level concatenates the level above's output
            // (upsampled) with a skip of this level
            let cat = (b * (prev.max(ch) + ch) * hh * ww * 4) as u64;
            take(
                cat,
                format!("the {}-channel concatenation at {hh}x{ww}", prev.max(ch) + ch),
            );
            if cfg.attention_ds.contains(&(1 << level)) || level + 1 == cfg.channel_mult.len() {
                let heads = cfg.heads(ch, false).unwrap_or(1);
                let scores = (b * heads * (hh * ww) * (hh * ww) * 4) as u64;
                take(
                    scores,
                    format!("the attention scores at {hh}x{ww} ({heads} heads)"),
                );
            }
        }
        best
    }

    /// Checks that `x` is `[B, in_channels, H, W]` with H and W divisible by 2^(levels - 1), and that
    /// its largest buffer fits the device's binding limit.
    pub fn check_input(&self, shape: &[usize]) -> Result<()> {
        let c = &self.config;
        super::check_unet_input(shape, c.in_channels, c.downsamples())?;
        let (bytes, what) = self.largest_buffer(shape[0], shape[2], shape[3]);
        let limit = self.gpu.max_binding_bytes();
        if bytes > limit {
            return Err(Error::Input(format!(
                "a batch of {} at {}x{} needs {what} of {} MiB in one buffer, over this device's limit of {} MiB per binding; use a smaller batch (e.g. 1) or a device with larger bindings",
                shape[0],
                shape[3],
                shape[2],
                bytes >> 20,
                limit >> 20
            )));
        }
        Ok(())
    }

    /// The full model output for `x` `[B, C, H, W]` at timesteps `t` (`[B]`, or `[1]` for the whole
    /// batch): `[B, C or 2C, H, W]`.
    pub fn forward(&self, x: &Tensor, t: &Tensor) -> Result<Tensor> {
        self.check_input(x.shape())?;
        let b = x.shape()[0];
        let t = super::batch_timesteps(&self.gpu, t, b)?;
        let mc = self.config.model_channels;
        let emb = ops::timestep_embedding(&t, &self.freq_table, mc, true)?;
        let emb = self.time_2.forward(&ops::silu(&self.time_1.forward(&emb)?)?)?;
        let emb_act = ops::silu(&emb)?;
        let mut h = self.conv_in.forward(x)?;
        let mut skips = vec![h.clone()];
        for layers in &self.input {
            for l in layers {
                h = l.forward(&h, &emb_act)?;
            }
            skips.push(h.clone());
        }
        for l in &self.middle {
            h = l.forward(&h, &emb_act)?;
        }
        for layers in &self.output {
            let skip = skips
                .pop()
                .ok_or_else(|| Error::Model("skip connections ran out".into()))?;
            h = ops::concat_channels(&h, &skip)?;
            for l in layers {
                h = l.forward(&h, &emb_act)?;
            }
        }
        let h = self.out_norm.forward(&h, true)?;
        self.out_conv.forward(&h)
    }

    /// Forward with one integer timestep for the whole batch.
    pub fn forward_t(&self, x: &Tensor, t: f32) -> Result<Tensor> {
        self.forward(x, &Tensor::full(&self.gpu, &[1], t)?)
    }
}

impl Denoiser for AdmUNet {
    crate::denoiser_fields!();

    fn check_input(&self, shape: &[usize]) -> Result<()> {
        AdmUNet::check_input(self, shape)
    }

    fn eps(&self, x: &Tensor, t: &Timestep) -> Result<Tensor> {
        let out = self.forward(x, &t.tensor)?;
        if self.config.learn_sigma {
            ops::narrow_channels(&out, 0, self.config.in_channels)
        } else {
            Ok(out)
        }
    }

    fn learns_variance(&self) -> bool {
        self.config.learn_sigma
    }

    fn eps_and_variance(&self, x: &Tensor, t: &Timestep) -> Result<(Tensor, Option<Tensor>)> {
        let out = self.forward(x, &t.tensor)?;
        let c = self.config.in_channels;
        if self.config.learn_sigma {
            let v = ops::narrow_channels(&out.detach(), c, c)?;
            Ok((ops::narrow_channels(&out, 0, c)?, Some(v)))
        } else {
            Ok((out, None))
        }
    }

    fn describe(&self) -> String {
        let c = &self.config;
        format!(
            "guided-diffusion UNet ({}x{}, {} channels x {:?}, {} res blocks{})",
            c.image_size,
            c.image_size,
            c.model_channels,
            c.channel_mult,
            c.num_res_blocks,
            if c.learn_sigma { ", learned variance" } else { "" }
        )
    }
}
