//! The hyperparameters of a guided-diffusion (ADM) UNet, with the names of guided-diffusion's
//! `create_model` (and of DPS's `configs/model_config.yaml`), presets for the two checkpoints the
//! field evaluates with, and the noise schedule the model was trained on.

use crate::error::{Error, Result};
use serde_json::Value;

/// The architecture of a guided-diffusion `UNetModel` (openai/guided-diffusion `unet.py`) and its
/// training schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct AdmConfig {
    /// Training resolution (square).
    pub image_size: usize,
    /// Image channels (3 in every released checkpoint).
    pub in_channels: usize,
    /// Base channel count (`num_channels`).
    pub model_channels: usize,
    /// Residual blocks per level.
    pub num_res_blocks: usize,
    /// Channel multiplier per level (`channel_mult`; guided-diffusion's default by image size when
    /// empty).
    pub channel_mult: Vec<f64>,
    /// Downsampling factors (1, 2, 4, ...) at which attention runs, from `attention_resolutions`
    /// (`image_size / resolution`).
    pub attention_ds: Vec<usize>,
    /// Attention heads when `num_head_channels` is not set.
    pub num_heads: usize,
    /// Channels per attention head (overrides `num_heads`).
    pub num_head_channels: Option<usize>,
    /// Heads of the decoder's attention when `num_head_channels` is not set.
    pub num_heads_upsample: usize,
    /// FiLM conditioning: `norm(h) * (1 + scale) + shift` instead of adding the embedding.
    pub use_scale_shift_norm: bool,
    /// Residual blocks do the up- and downsampling (instead of a convolution).
    pub resblock_updown: bool,
    /// `QKVAttention` (q, k, v as three blocks of channels) instead of the legacy per-head order.
    pub use_new_attention_order: bool,
    /// The model also outputs the interpolation of its variance (2 x channels).
    pub learn_sigma: bool,
    /// `linear` or `cosine`.
    pub noise_schedule: String,
    /// Training timesteps.
    pub diffusion_steps: usize,
}

/// The named configurations: (name, checkpoint file name, what it is, JSON).
pub const ADM_PRESETS: &[(&str, &str, &str, &str)] = &[
    (
        "ffhq_10m",
        "ffhq_10m.pt",
        "FFHQ 256x256, released with DPS (Chung et al. 2023; configs/model_config.yaml)",
        r#"{"image_size": 256, "num_channels": 128, "num_res_blocks": 1, "channel_mult": "",
            "learn_sigma": true, "attention_resolutions": "16", "num_heads": 4,
            "num_head_channels": 64, "num_heads_upsample": -1, "use_scale_shift_norm": true,
            "resblock_updown": true, "use_new_attention_order": false,
            "noise_schedule": "linear", "diffusion_steps": 1000}"#,
    ),
    (
        "imagenet256_uncond",
        "256x256_diffusion_uncond.pt",
        "ImageNet 256x256 unconditional, openai/guided-diffusion (Dhariwal & Nichol 2021)",
        r#"{"image_size": 256, "num_channels": 256, "num_res_blocks": 2, "channel_mult": "",
            "learn_sigma": true, "attention_resolutions": "32,16,8", "num_heads": 4,
            "num_head_channels": 64, "num_heads_upsample": -1, "use_scale_shift_norm": true,
            "resblock_updown": true, "use_new_attention_order": false,
            "noise_schedule": "linear", "diffusion_steps": 1000}"#,
    ),
];

/// Keys of guided-diffusion's argument dictionaries that do not change the computation here
/// (memory checkpointing, f16 training, dropout at evaluation, paths, sampler settings that are
/// tweedie's own options).
const IGNORED: &[&str] = &[
    "use_checkpoint",
    "use_fp16",
    "dropout",
    "model_path",
    "timestep_respacing",
    "sampler",
    "steps",
    "clip_denoised",
    "dynamic_threshold",
    "model_var_type",
    "use_kl",
    "rescale_learned_sigmas",
];

fn bad(key: &str, v: &Value, why: &str) -> Error {
    Error::Model(format!("model config: {key} = {v} {why}"))
}

impl AdmConfig {
    /// The preset `name` (a name of [`ADM_PRESETS`] or its checkpoint's file name).
    pub fn preset(name: &str) -> Option<Self> {
        ADM_PRESETS
            .iter()
            .find(|p| p.0 == name || p.1 == name)
            .map(|p| Self::from_json(p.3).expect("presets parse"))
    }

    /// Parses a JSON object with guided-diffusion's argument names (as `create_model` takes them;
    /// DPS's `model_config.yaml` written as JSON). Unknown keys are refused with their name.
    pub fn from_json(text: &str) -> Result<Self> {
        let v: Value = serde_json::from_str(text)
            .map_err(|e| Error::Model(format!("model config is not valid JSON: {e}")))?;
        let obj = v
            .as_object()
            .ok_or_else(|| Error::Model("model config is not a JSON object".into()))?;
        const KNOWN: &[&str] = &[
            "image_size",
            "in_channels",
            "num_channels",
            "num_res_blocks",
            "channel_mult",
            "learn_sigma",
            "class_cond",
            "attention_resolutions",
            "num_heads",
            "num_head_channels",
            "num_heads_upsample",
            "use_scale_shift_norm",
            "resblock_updown",
            "use_new_attention_order",
            "noise_schedule",
            "diffusion_steps",
            "predict_xstart",
            "rescale_timesteps",
            "model_mean_type",
        ];
        for k in obj.keys() {
            if !KNOWN.contains(&k.as_str()) && !IGNORED.contains(&k.as_str()) {
                return Err(Error::Model(format!(
                    "model config key {k:?} is not a guided-diffusion UNet setting tweedie knows (known: {})",
                    KNOWN.join(", ")
                )));
            }
        }
        let get = |k: &str| obj.get(k).filter(|v| !v.is_null());
        let int_of = |k: &str, d: i64| -> Result<i64> {
            match get(k) {
                None => Ok(d),
                Some(v) => v.as_i64().ok_or_else(|| bad(k, v, "is not an integer")),
            }
        };
        let count = |k: &str, d: i64, lo: i64, hi: i64| -> Result<usize> {
            let x = int_of(k, d)?;
            if x < lo || x > hi {
                return Err(Error::Model(format!(
                    "model config: {k} = {x} is outside [{lo}, {hi}]"
                )));
            }
            Ok(x as usize)
        };
        let flag = |k: &str, d: bool| -> Result<bool> {
            match get(k) {
                None => Ok(d),
                Some(v) => v.as_bool().ok_or_else(|| bad(k, v, "is not true or false")),
            }
        };
        for (k, want) in [
            ("class_cond", false),
            ("predict_xstart", false),
            ("rescale_timesteps", false),
        ] {
            if flag(k, want)? != want {
                return Err(Error::Model(format!(
                    "model config: {k} = {} is not supported (tweedie runs unconditional ε-prediction models on the original timesteps)",
                    !want
                )));
            }
        }
        if let Some(v) = get("model_mean_type")
            && v.as_str() != Some("epsilon")
        {
            return Err(bad("model_mean_type", v, "is not supported (only epsilon)"));
        }
        let image_size = match get("image_size") {
            Some(_) => count("image_size", 0, 8, 4096)?,
            None => {
                return Err(Error::Model(
                    "model config lacks image_size (and num_channels, num_res_blocks): these set the architecture".into(),
                ));
            }
        };
        let model_channels = match get("num_channels") {
            Some(_) => count("num_channels", 0, 1, 8192)?,
            None => return Err(Error::Model("model config lacks num_channels".into())),
        };
        let num_res_blocks = match get("num_res_blocks") {
            Some(_) => count("num_res_blocks", 0, 1, 16)?,
            None => return Err(Error::Model("model config lacks num_res_blocks".into())),
        };
        let channel_mult: Vec<f64> = match get("channel_mult") {
            None => vec![],
            Some(Value::String(s)) if s.trim().is_empty() => vec![],
            Some(Value::String(s)) => s
                .split(',')
                .map(|x| x.trim().parse::<f64>().ok())
                .collect::<Option<Vec<f64>>>()
                .ok_or_else(|| {
                    bad(
                        "channel_mult",
                        &Value::String(s.clone()),
                        "is not a list of numbers",
                    )
                })?,
            Some(v @ Value::Array(a)) => a
                .iter()
                .map(Value::as_f64)
                .collect::<Option<Vec<f64>>>()
                .ok_or_else(|| bad("channel_mult", v, "is not a list of numbers"))?,
            Some(v) => return Err(bad("channel_mult", v, "is not a list of numbers")),
        };
        let channel_mult = if channel_mult.is_empty() {
            match image_size {
                512 => vec![0.5, 1.0, 1.0, 2.0, 2.0, 4.0, 4.0],
                256 => vec![1.0, 1.0, 2.0, 2.0, 4.0, 4.0],
                128 => vec![1.0, 1.0, 2.0, 3.0, 4.0],
                64 => vec![1.0, 2.0, 3.0, 4.0],
                s => {
                    return Err(Error::Model(format!(
                        "model config: channel_mult is empty and guided-diffusion has no default for image_size {s}; give it (e.g. \"1,2,2\")"
                    )));
                }
            }
        } else {
            channel_mult
        };
        let resolutions: Vec<i64> = match get("attention_resolutions") {
            None => vec![16],
            Some(Value::String(s)) if s.trim().is_empty() => vec![],
            Some(Value::String(s)) => s
                .split(',')
                .map(|x| x.trim().parse::<i64>().ok())
                .collect::<Option<Vec<i64>>>()
                .ok_or_else(|| {
                    bad(
                        "attention_resolutions",
                        &Value::String(s.clone()),
                        "is not a list of resolutions",
                    )
                })?,
            Some(v @ Value::Number(_)) => {
                vec![
                    v.as_i64()
                        .ok_or_else(|| bad("attention_resolutions", v, "is not a resolution"))?,
                ]
            }
            Some(v @ Value::Array(a)) => a
                .iter()
                .map(Value::as_i64)
                .collect::<Option<Vec<i64>>>()
                .ok_or_else(|| bad("attention_resolutions", v, "is not a list of resolutions"))?,
            Some(v) => return Err(bad("attention_resolutions", v, "is not a list of resolutions")),
        };
        let mut attention_ds = Vec::new();
        for r in resolutions {
            if r < 1 || r as usize > image_size {
                return Err(Error::Model(format!(
                    "model config: attention resolution {r} is not within 1..={image_size}"
                )));
            }
            attention_ds.push(image_size / r as usize);
        }
        let num_heads = count("num_heads", 1, 1, 1024)?;
        let num_head_channels = match int_of("num_head_channels", -1)? {
            -1 => None,
            _ => Some(count("num_head_channels", -1, 1, 8192)?),
        };
        let num_heads_upsample = match int_of("num_heads_upsample", -1)? {
            -1 => num_heads,
            _ => count("num_heads_upsample", -1, 1, 1024)?,
        };
        let noise_schedule = match get("noise_schedule") {
            None => "linear".to_string(),
            Some(v) => match v.as_str() {
                Some(s @ ("linear" | "cosine")) => s.to_string(),
                _ => return Err(bad("noise_schedule", v, "is not supported (linear or cosine)")),
            },
        };
        let cfg = AdmConfig {
            image_size,
            in_channels: count("in_channels", 3, 1, 64)?,
            model_channels,
            num_res_blocks,
            channel_mult,
            attention_ds,
            num_heads,
            num_head_channels,
            num_heads_upsample,
            use_scale_shift_norm: flag("use_scale_shift_norm", false)?,
            resblock_updown: flag("resblock_updown", false)?,
            use_new_attention_order: flag("use_new_attention_order", false)?,
            learn_sigma: flag("learn_sigma", false)?,
            noise_schedule,
            diffusion_steps: count("diffusion_steps", 1000, 1, 100_000)?,
        };
        cfg.check()?;
        Ok(cfg)
    }

    /// Channels of level `i` (`int(channel_mult[i] * model_channels)`, as guided-diffusion).
    pub fn level_channels(&self, i: usize) -> usize {
        (self.channel_mult[i] * self.model_channels as f64) as usize
    }

    /// Output channels: the image channels, twice with a learned variance.
    pub fn out_channels(&self) -> usize {
        self.in_channels * if self.learn_sigma { 2 } else { 1 }
    }

    /// Width of the time embedding (`4 * model_channels`).
    pub fn time_embed_dim(&self) -> usize {
        4 * self.model_channels
    }

    /// How many times the model halves the resolution.
    pub fn downsamples(&self) -> usize {
        self.channel_mult.len() - 1
    }

    /// Heads of an attention block over `ch` channels (`up`: in the decoder).
    pub fn heads(&self, ch: usize, up: bool) -> Result<usize> {
        match self.num_head_channels {
            Some(hc) if ch.is_multiple_of(hc) => Ok(ch / hc),
            Some(hc) => Err(Error::Model(format!(
                "model config: num_head_channels = {hc} does not divide the {ch} channels of an attention block"
            ))),
            None => {
                let h = if up {
                    self.num_heads_upsample
                } else {
                    self.num_heads
                };
                if ch.is_multiple_of(h) {
                    Ok(h)
                } else {
                    Err(Error::Model(format!(
                        "model config: {h} attention heads do not divide {ch} channels"
                    )))
                }
            }
        }
    }

    fn check(&self) -> Result<()> {
        if self.channel_mult.is_empty() || self.channel_mult.len() > 8 {
            return Err(Error::Model(format!(
                "model config: channel_mult has {} levels (1 to 8)",
                self.channel_mult.len()
            )));
        }
        for i in 0..self.channel_mult.len() {
            let m = self.channel_mult[i];
            let c = self.level_channels(i);
            if !(m > 0.0 && m.is_finite()) || c == 0 || c > 8192 || !c.is_multiple_of(32) {
                return Err(Error::Model(format!(
                    "model config: level {i} has {c} channels (channel_mult {m} x num_channels {}); guided-diffusion's GroupNorm32 needs a positive multiple of 32",
                    self.model_channels
                )));
            }
        }
        if !self.image_size.is_multiple_of(1 << self.downsamples()) {
            return Err(Error::Model(format!(
                "model config: image_size {} is not divisible by 2^{} (one halving per level)",
                self.image_size,
                self.downsamples()
            )));
        }
        Ok(())
    }
}
