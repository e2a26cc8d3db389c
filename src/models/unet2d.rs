//! diffusers' `UNet2DModel` (the DDPM UNet of google/ddpm-cifar10-32, ddpm-celebahq-256, ...), loaded
//! from a diffusers directory and run with tweedie's kernels in f32.

use super::config::UNet2DConfig;
use crate::diffusion::{Denoiser, Schedule, Timestep};
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::nn::{Attention, Conv2d, GroupNorm, Linear, ResnetBlock2D, ResnetConfig, Weights};
use crate::ops::{self, Conv2dSpec};
use crate::tensor::Tensor;
use std::path::Path;

struct Block {
    resnets: Vec<ResnetBlock2D>,
    attentions: Vec<Attention>,
    /// Downsampling (stride-2) or upsampling (after a nearest 2x) convolution.
    resample: Option<Conv2d>,
}

struct MidBlock {
    resnet0: ResnetBlock2D,
    attention: Option<Attention>,
    resnet1: ResnetBlock2D,
}

/// A diffusers `UNet2DModel` on the GPU: `forward(x, t)` returns the model output (ε for the DDPM
/// checkpoints).
pub struct UNet2DModel {
    /// The configuration it was built from.
    pub config: UNet2DConfig,
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

/// diffusers' `Timesteps` + `TimestepEmbedding` of the UNets: sinusoidal features of the timestep
/// (`block_out_channels[0]` of them, `freq_shift`), then linear, SiLU, linear.
pub(crate) struct TimeEmbedding {
    freq_table: Tensor,
    channels: usize,
    linear_1: Linear,
    linear_2: Linear,
}

impl TimeEmbedding {
    /// `time_embedding.linear_1` / `linear_2` of `ws`, from `channels` features to `dim`.
    pub(crate) fn load(
        gpu: &Gpu,
        ws: &mut Weights,
        channels: usize,
        dim: usize,
        freq_shift: f64,
    ) -> Result<Self> {
        let table = ops::timestep_freq_table(channels, freq_shift);
        Ok(TimeEmbedding {
            freq_table: Tensor::from_slice(gpu, &[table.len()], &table)?,
            channels,
            linear_1: Linear::load(ws, "time_embedding.linear_1", channels, dim)?,
            linear_2: Linear::load(ws, "time_embedding.linear_2", dim, dim)?,
        })
    }

    /// The embedding `[B, dim]` of timesteps `t` `[B]`.
    pub(crate) fn forward(&self, t: &Tensor, flip_sin_to_cos: bool) -> Result<Tensor> {
        let emb = ops::timestep_embedding(t, &self.freq_table, self.channels, flip_sin_to_cos)?;
        self.linear_2.forward(&ops::silu(&self.linear_1.forward(&emb)?)?)
    }
}

impl UNet2DModel {
    /// Loads `config.json` and `diffusion_pytorch_model.safetensors` from a diffusers model directory,
    /// and the noise schedule from its `scheduler_config.json` (the DDPM default without one).
    pub fn load(gpu: &Gpu, dir: &Path) -> Result<Self> {
        let cfg_path = dir.join("config.json");
        if !dir.is_dir() {
            return Err(Error::Model(format!(
                "model directory {} does not exist; pass a diffusers UNet2DModel directory (config.json + diffusion_pytorch_model.safetensors)",
                dir.display()
            )));
        }
        if !cfg_path.is_file() {
            return Err(Error::Model(format!(
                "{} has no config.json; a diffusers UNet2DModel directory holds config.json and diffusion_pytorch_model.safetensors",
                dir.display()
            )));
        }
        let (config, mut ws) = super::config::read_model_dir(gpu, dir, UNet2DConfig::from_json)?;
        let model = Self::build(gpu, config, &mut ws)?;
        ws.finish()?;
        Ok(model.with_schedule(Schedule::for_model_dir(dir)?))
    }

    /// [`Self::load`] from the three files' contents in memory, for hosts without a file system (a
    /// web page fetches them): `config.json`'s text, `diffusion_pytorch_model.safetensors`' bytes,
    /// and `scheduler_config.json`'s text (`None`: the DDPM default). Checked like files are.
    pub fn from_bytes(
        gpu: &Gpu,
        config_json: &str,
        safetensors: &[u8],
        scheduler_json: Option<&str>,
    ) -> Result<Self> {
        let config = UNet2DConfig::from_json(config_json)?;
        let tensors = crate::io::parse_safetensors(safetensors).map_err(|e| match e {
            Error::Model(m) => Error::Model(format!("the model's safetensors: {m}")),
            other => other,
        })?;
        let mut ws = Weights::new(gpu, "the model's safetensors", tensors);
        let model = Self::build(gpu, config, &mut ws)?;
        ws.finish()?;
        let schedule = match scheduler_json {
            Some(text) => Schedule::from_json(text, "the scheduler config")?,
            None => Schedule::ddpm_default(),
        };
        Ok(model.with_schedule(schedule))
    }

    /// Builds the model from a config and named weights, on the DDPM default schedule
    /// ([`Self::with_schedule`] sets another).
    pub fn build(gpu: &Gpu, config: UNet2DConfig, ws: &mut Weights) -> Result<Self> {
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
        let head = |ch: usize| c.attention_head_dim.unwrap_or(ch);
        // one layer of a down or up block: its resnet, and its attention in an attention block
        let layer = |ws: &mut Weights, p: &str, j: usize, cin: usize, cout: usize, attn: bool| {
            let r = ResnetBlock2D::load(ws, &format!("{p}.resnets.{j}"), cin, cout, rc)?;
            let a = if attn {
                let p = format!("{p}.attentions.{j}");
                Some(Attention::load(
                    ws,
                    &p,
                    cout,
                    head(cout),
                    Some(groups),
                    c.norm_eps,
                    1.0,
                )?)
            } else {
                None
            };
            Ok::<_, crate::Error>((r, a))
        };
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
            let last = i == boc.len() - 1;
            let p = format!("down_blocks.{i}");
            let mut resnets = Vec::new();
            let mut attentions = Vec::new();
            for j in 0..c.layers_per_block {
                let rin = if j == 0 { cin } else { cout };
                let (r, a) = layer(ws, &p, j, rin, cout, ty == "AttnDownBlock2D")?;
                resnets.push(r);
                attentions.extend(a);
            }
            let resample = if last {
                None
            } else {
                let spec = Conv2dSpec {
                    stride: 2,
                    pad: down_pad,
                };
                Some(Conv2d::load(
                    ws,
                    &format!("{p}.downsamplers.0.conv"),
                    cout,
                    cout,
                    3,
                    spec,
                )?)
            };
            down.push(Block {
                resnets,
                attentions,
                resample,
            });
        }

        let clast = *boc.last().unwrap();
        let mid = if c.mid_block {
            let mrc = ResnetConfig {
                output_scale_factor: c.mid_block_scale_factor,
                ..rc
            };
            Some(MidBlock {
                resnet0: ResnetBlock2D::load(ws, "mid_block.resnets.0", clast, clast, mrc)?,
                attention: if c.add_attention {
                    Some(Attention::load(
                        ws,
                        "mid_block.attentions.0",
                        clast,
                        head(clast),
                        Some(c.attn_norm_num_groups.unwrap_or(groups)),
                        c.norm_eps,
                        c.mid_block_scale_factor,
                    )?)
                } else {
                    None
                },
                resnet1: ResnetBlock2D::load(ws, "mid_block.resnets.1", clast, clast, mrc)?,
            })
        } else {
            None
        };

        let rev: Vec<usize> = boc.iter().rev().copied().collect();
        let mut up = Vec::new();
        let mut cout = rev[0];
        for (i, ty) in c.up_block_types.iter().enumerate() {
            let prev = cout;
            cout = rev[i];
            let cin = rev[(i + 1).min(rev.len() - 1)];
            let last = i == rev.len() - 1;
            let p = format!("up_blocks.{i}");
            let n = c.layers_per_block + 1;
            let mut resnets = Vec::new();
            let mut attentions = Vec::new();
            for j in 0..n {
                let skip = if j == n - 1 { cin } else { cout };
                let rin = if j == 0 { prev } else { cout };
                let (r, a) = layer(ws, &p, j, rin + skip, cout, ty == "AttnUpBlock2D")?;
                resnets.push(r);
                attentions.extend(a);
            }
            let resample = if last {
                None
            } else {
                Some(Conv2d::load(
                    ws,
                    &format!("{p}.upsamplers.0.conv"),
                    cout,
                    cout,
                    3,
                    c3,
                )?)
            };
            up.push(Block {
                resnets,
                attentions,
                resample,
            });
        }
        let norm_out = GroupNorm::load(ws, "conv_norm_out", c0, groups, c.norm_eps)?;
        let conv_out = Conv2d::load(ws, "conv_out", c0, c.out_channels, 3, c3)?;
        Ok(UNet2DModel {
            config,
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

    /// The same model with another noise schedule.
    pub fn with_schedule(mut self, schedule: Schedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// The device the model lives on.
    pub fn gpu(&self) -> &Gpu {
        &self.gpu
    }

    /// Checks that `x` is `[B, in_channels, H, W]` with H and W divisible by 2^(levels - 1).
    pub fn check_input(&self, shape: &[usize]) -> Result<()> {
        let c = &self.config;
        super::check_unet_input(shape, c.in_channels, c.downsamples())
    }

    /// The model output for `x` `[B, C, H, W]` at timesteps `t` (`[B]`, or `[1]` for the whole batch).
    pub fn forward(&self, x: &Tensor, t: &Tensor) -> Result<Tensor> {
        self.check_input(x.shape())?;
        let b = x.shape()[0];
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
                    h = a.forward(&h)?;
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
            if let Some(a) = &m.attention {
                h = a.forward(&h)?;
            }
            h = m.resnet1.forward(&h, &temb_act)?;
        }
        for blk in &self.up {
            for (j, r) in blk.resnets.iter().enumerate() {
                let skip = skips
                    .pop()
                    .ok_or_else(|| Error::Model("skip connections ran out".into()))?;
                h = r.forward(&ops::concat_channels(&h, &skip)?, &temb_act)?;
                if let Some(a) = blk.attentions.get(j) {
                    h = a.forward(&h)?;
                }
            }
            if let Some(u) = &blk.resample {
                h = u.forward(&ops::upsample_nearest2x(&h)?)?;
            }
        }
        let h = self.norm_out.forward(&h, true)?;
        self.conv_out.forward(&h)
    }

    /// The model output and the vector-Jacobian product `∇_x ⟨v, model(x, t)⟩`, through the
    /// hand-derived backward kernels.
    pub fn forward_vjp(&self, x: &Tensor, t: &Tensor, v: &Tensor) -> Result<(Tensor, Tensor)> {
        let x = x.tracked();
        let eps = self.forward(&x, t)?;
        let mut g = crate::autograd::backward(&eps, v, &[&x])?;
        Ok((eps.detach(), g.remove(0)))
    }

    /// Forward with an integer timestep for the whole batch.
    pub fn forward_t(&self, x: &Tensor, t: f32) -> Result<Tensor> {
        let b = x.shape().first().copied().unwrap_or(1);
        let tt = Tensor::from_slice(&self.gpu, &[b], &vec![t; b])?;
        self.forward(x, &tt)
    }
}

impl Denoiser for UNet2DModel {
    crate::denoiser_fields!();

    fn check_input(&self, shape: &[usize]) -> Result<()> {
        UNet2DModel::check_input(self, shape)
    }

    fn eps(&self, x: &Tensor, t: &Timestep) -> Result<Tensor> {
        self.forward(x, &t.tensor)
    }

    fn describe(&self) -> String {
        let c = &self.config;
        format!(
            "diffusers UNet2DModel ({} channels, blocks {:?})",
            c.in_channels, c.block_out_channels
        )
    }
}
