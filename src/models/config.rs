//! diffusers' `UNet2DModel` config.json, parsed with the defaults of diffusers' constructor, and
//! refused with a message naming the key when tweedie cannot run it.

use crate::error::{Error, Result};
use serde_json::Value;

/// The configuration of a diffusers `UNet2DModel`.
#[derive(Debug, Clone, PartialEq)]
pub struct UNet2DConfig {
    /// Training resolution (height, width), if stated.
    pub sample_size: Option<(usize, usize)>,
    /// Input channels.
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Maps the input from [0, 1] to [-1, 1] first.
    pub center_input_sample: bool,
    /// Width of the time embedding (default `4 * block_out_channels[0]`).
    pub time_embedding_dim: usize,
    /// Shift of the sinusoidal frequencies.
    pub freq_shift: f64,
    /// `[cos | sin]` instead of `[sin | cos]`.
    pub flip_sin_to_cos: bool,
    /// `DownBlock2D` or `AttnDownBlock2D` per level.
    pub down_block_types: Vec<String>,
    /// `UpBlock2D` or `AttnUpBlock2D` per level.
    pub up_block_types: Vec<String>,
    /// Whether there is a `UNetMidBlock2D`.
    pub mid_block: bool,
    /// Channels per level.
    pub block_out_channels: Vec<usize>,
    /// Resnets per down block (up blocks have one more).
    pub layers_per_block: usize,
    /// Output scale of the mid block's resnets and attention.
    pub mid_block_scale_factor: f32,
    /// Padding of the downsampling convolution (0 means diffusers' asymmetric (0, 1, 0, 1)).
    pub downsample_padding: usize,
    /// Channels per attention head (`None`: one head over all channels).
    pub attention_head_dim: Option<usize>,
    /// GroupNorm groups.
    pub norm_num_groups: usize,
    /// GroupNorm groups of the mid-block attention (`None`: `norm_num_groups`).
    pub attn_norm_num_groups: Option<usize>,
    /// GroupNorm epsilon.
    pub norm_eps: f32,
    /// Attention in the mid block.
    pub add_attention: bool,
    /// Training timesteps, if stated.
    pub num_train_timesteps: Option<usize>,
}

pub(crate) fn bad(key: &str, v: &Value, why: &str) -> Error {
    Error::Model(format!("config.json: {key} = {v} {why}"))
}

/// Refuses `k = v` outside `[lo, hi]` (a size no model has) before anything is allocated for it.
pub(crate) fn in_range(k: &str, v: usize, lo: usize, hi: usize) -> Result<()> {
    if v < lo || v > hi {
        return Err(Error::Model(format!(
            "config.json: {k} = {v} is outside [{lo}, {hi}]"
        )));
    }
    Ok(())
}

/// Refuses a UNet config's non-finite `freq_shift`, `norm_eps` or `mid_block_scale_factor`, and a
/// `norm_eps` that is not positive.
pub(crate) fn check_unet_numbers(freq_shift: f64, norm_eps: f32, mid_block_scale_factor: f32) -> Result<()> {
    for (k, v) in [
        ("freq_shift", freq_shift),
        ("norm_eps", norm_eps as f64),
        ("mid_block_scale_factor", mid_block_scale_factor as f64),
    ] {
        if !v.is_finite() {
            return Err(Error::Model(format!(
                "config.json: {k} = {v} is not a finite number"
            )));
        }
    }
    if norm_eps <= 0.0 {
        return Err(Error::Model(format!(
            "config.json: norm_eps = {norm_eps} must be positive"
        )));
    }
    Ok(())
}

/// The JSON object of a diffusers `config.json` text, refused when its `_class_name` names another
/// class than `class` (`runs` says what tweedie runs instead).
pub(crate) fn config_object(text: &str, class: &str, runs: &str) -> Result<serde_json::Map<String, Value>> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| Error::Model(format!("config.json is not valid JSON: {e}")))?;
    let Value::Object(obj) = v else {
        return Err(Error::Model("config.json is not a JSON object".into()));
    };
    if let Some(c) = obj.get("_class_name").and_then(Value::as_str)
        && c != class
    {
        return Err(Error::Model(format!("config.json describes a {c}; {runs}")));
    }
    Ok(obj)
}

/// A diffusers model folder's `config.json`, parsed by `parse` (its errors name the file), and its
/// `diffusion_pytorch_model.safetensors` as [`Weights`] (a missing one is named, with a hint where
/// only the PyTorch `.bin` is there).
pub(crate) fn read_model_dir<C>(
    gpu: &crate::gpu::Gpu,
    dir: &std::path::Path,
    parse: impl FnOnce(&str) -> Result<C>,
) -> Result<(C, crate::nn::Weights)> {
    let cfg_path = dir.join("config.json");
    let text = std::fs::read_to_string(&cfg_path).map_err(|e| crate::error::io_err(&cfg_path, e))?;
    let config = parse(&text).map_err(|e| match e {
        Error::Model(m) => Error::Model(m.replacen("config.json", &cfg_path.display().to_string(), 1)),
        other => other,
    })?;
    let wpath = dir.join("diffusion_pytorch_model.safetensors");
    if !wpath.is_file() {
        let hint = if dir.join("diffusion_pytorch_model.bin").is_file() {
            " (only the PyTorch .bin is there: convert it with diffusers' save_pretrained(safe_serialization=True))"
        } else {
            ""
        };
        return Err(Error::Model(format!("{} is missing{hint}", wpath.display())));
    }
    let tensors = crate::io::read_safetensors(&wpath)?;
    Ok((
        config,
        crate::nn::Weights::new(gpu, &wpath.display().to_string(), tensors),
    ))
}

impl UNet2DConfig {
    /// Parses a config.json text.
    pub fn from_json(text: &str) -> Result<Self> {
        let obj = &config_object(text, "UNet2DModel", "tweedie runs diffusers' UNet2DModel")?;
        let get = |k: &str| obj.get(k).filter(|v| !v.is_null());
        // a count, `None` when absent
        let count_of = |k: &str| -> Result<Option<usize>> {
            get(k)
                .map(|v| {
                    v.as_u64()
                        .map(|x| x as usize)
                        .ok_or_else(|| bad(k, v, "is not a count"))
                })
                .transpose()
        };
        let usize_of = |k: &str, d: usize| -> Result<usize> { Ok(count_of(k)?.unwrap_or(d)) };
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
        let expect_str = |k: &str, allowed: &[&str]| -> Result<()> {
            if let Some(v) = get(k)
                && !allowed.iter().any(|a| v.as_str() == Some(a))
            {
                return Err(bad(k, v, &format!("is not supported (tweedie runs {allowed:?})")));
            }
            Ok(())
        };

        const KNOWN: &[&str] = &[
            "sample_size",
            "in_channels",
            "out_channels",
            "center_input_sample",
            "time_embedding_type",
            "time_embedding_dim",
            "freq_shift",
            "flip_sin_to_cos",
            "down_block_types",
            "mid_block_type",
            "up_block_types",
            "block_out_channels",
            "layers_per_block",
            "mid_block_scale_factor",
            "downsample_padding",
            "downsample_type",
            "upsample_type",
            "dropout",
            "act_fn",
            "attention_head_dim",
            "norm_num_groups",
            "attn_norm_num_groups",
            "norm_eps",
            "resnet_time_scale_shift",
            "add_attention",
            "class_embed_type",
            "num_class_embeds",
            "num_train_timesteps",
        ];
        for k in obj.keys() {
            if !k.starts_with('_') && !KNOWN.contains(&k.as_str()) {
                return Err(Error::Model(format!(
                    "config.json key {k:?} is not supported by tweedie's UNet2DModel"
                )));
            }
        }
        const REQUIRED: &[&str] = &[
            "in_channels",
            "out_channels",
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
        expect_str("time_embedding_type", &["positional"])?;
        expect_str("downsample_type", &["conv"])?;
        expect_str("upsample_type", &["conv"])?;
        expect_str("act_fn", &["silu", "swish"])?;
        expect_str("resnet_time_scale_shift", &["default"])?;
        for k in ["class_embed_type", "num_class_embeds"] {
            if let Some(v) = get(k) {
                return Err(bad(
                    k,
                    v,
                    "(class conditioning) is not supported; only unconditional models",
                ));
            }
        }
        let mid_block = match obj.get("mid_block_type") {
            None => true,
            Some(Value::Null) => false,
            Some(v) if v.as_str() == Some("UNetMidBlock2D") => true,
            Some(v) => {
                return Err(bad(
                    "mid_block_type",
                    v,
                    "is not supported (UNetMidBlock2D or null)",
                ));
            }
        };

        let block_out_channels: Vec<usize> = match get("block_out_channels") {
            None => vec![224, 448, 672, 896],
            Some(v) => v
                .as_array()
                .and_then(|a| a.iter().map(|x| x.as_u64().map(|u| u as usize)).collect())
                .ok_or_else(|| bad("block_out_channels", v, "is not a list of counts"))?,
        };
        let down = strs(
            "down_block_types",
            &[
                "DownBlock2D",
                "AttnDownBlock2D",
                "AttnDownBlock2D",
                "AttnDownBlock2D",
            ],
        )?;
        let up = strs(
            "up_block_types",
            &["AttnUpBlock2D", "AttnUpBlock2D", "AttnUpBlock2D", "UpBlock2D"],
        )?;
        for (k, list, ok) in [
            ("down_block_types", &down, ["DownBlock2D", "AttnDownBlock2D"]),
            ("up_block_types", &up, ["UpBlock2D", "AttnUpBlock2D"]),
        ] {
            if let Some(b) = list.iter().find(|b| !ok.contains(&b.as_str())) {
                return Err(Error::Model(format!(
                    "config.json: block type {b} in {k} is not supported (tweedie runs {ok:?})"
                )));
            }
        }
        if down.len() != block_out_channels.len() || up.len() != block_out_channels.len() || down.is_empty() {
            return Err(Error::Model(format!(
                "config.json: {} down blocks and {} up blocks for {} block_out_channels",
                down.len(),
                up.len(),
                block_out_channels.len()
            )));
        }
        let sample_size = match get("sample_size") {
            None => None,
            Some(v) => match (v.as_u64(), v.as_array()) {
                (Some(s), _) => Some((s as usize, s as usize)),
                (None, Some(a)) if a.len() == 2 => Some((
                    a[0].as_u64()
                        .ok_or_else(|| bad("sample_size", v, "is not a size"))? as usize,
                    a[1].as_u64()
                        .ok_or_else(|| bad("sample_size", v, "is not a size"))? as usize,
                )),
                _ => return Err(bad("sample_size", v, "is not a size")),
            },
        };
        let attention_head_dim = match obj.get("attention_head_dim") {
            None => Some(8),
            Some(Value::Null) => None,
            Some(v) => Some(
                v.as_u64()
                    .ok_or_else(|| bad("attention_head_dim", v, "is not a count"))? as usize,
            ),
        };
        let c0 = block_out_channels[0];
        let cfg = UNet2DConfig {
            sample_size,
            in_channels: usize_of("in_channels", 3)?,
            out_channels: usize_of("out_channels", 3)?,
            center_input_sample: bool_of("center_input_sample", false)?,
            time_embedding_dim: usize_of("time_embedding_dim", 4 * c0)?,
            freq_shift: f64_of("freq_shift", 0.0)?,
            flip_sin_to_cos: bool_of("flip_sin_to_cos", true)?,
            down_block_types: down,
            up_block_types: up,
            mid_block,
            block_out_channels,
            layers_per_block: usize_of("layers_per_block", 2)?,
            mid_block_scale_factor: f64_of("mid_block_scale_factor", 1.0)? as f32,
            downsample_padding: usize_of("downsample_padding", 1)?,
            attention_head_dim,
            norm_num_groups: usize_of("norm_num_groups", 32)?,
            attn_norm_num_groups: count_of("attn_norm_num_groups")?,
            norm_eps: f64_of("norm_eps", 1e-5)? as f32,
            add_attention: bool_of("add_attention", true)?,
            num_train_timesteps: count_of("num_train_timesteps")?,
        };
        cfg.check_ranges()?;
        Ok(cfg)
    }

    /// Refuses sizes no model has, before anything is allocated for them (a corrupt or hostile
    /// config must not ask for gigabytes).
    fn check_ranges(&self) -> Result<()> {
        let range = super::config::in_range;
        range("in_channels", self.in_channels, 1, 64)?;
        range("out_channels", self.out_channels, 1, 128)?;
        range("norm_num_groups", self.norm_num_groups, 1, 8192)?;
        range("block_out_channels (levels)", self.block_out_channels.len(), 1, 8)?;
        for &c in &self.block_out_channels {
            range("block_out_channels", c, 1, 8192)?;
            if !c.is_multiple_of(self.norm_num_groups) {
                return Err(Error::Model(format!(
                    "config.json: block_out_channels {c} is not divisible by norm_num_groups = {}",
                    self.norm_num_groups
                )));
            }
        }
        range("time_embedding_dim", self.time_embedding_dim, 1, 32768)?;
        range("layers_per_block", self.layers_per_block, 1, 16)?;
        if let Some(g) = self.attn_norm_num_groups {
            range("attn_norm_num_groups", g, 1, 8192)?;
        }
        if let Some(h) = self.attention_head_dim {
            range("attention_head_dim", h, 1, 8192)?;
        }
        range("downsample_padding", self.downsample_padding, 0, 8)?;
        if let Some((h, w)) = self.sample_size {
            range("sample_size", h, 1, 16384)?;
            range("sample_size", w, 1, 16384)?;
        }
        if let Some(t) = self.num_train_timesteps {
            range("num_train_timesteps", t, 1, 100_000)?;
        }
        super::config::check_unet_numbers(self.freq_shift, self.norm_eps, self.mid_block_scale_factor)?;
        Ok(())
    }

    /// How many times the model halves the resolution.
    pub fn downsamples(&self) -> usize {
        self.block_out_channels.len() - 1
    }
}
