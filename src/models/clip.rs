//! transformers' `CLIPTextModel` (Stable Diffusion's text encoder) from a `text_encoder/` folder
//! (`config.json` + `model.safetensors`): token and position embeddings, pre-LN encoder layers
//! (layer norm → causal multi-head self-attention → residual; layer norm → fc1 → `hidden_act` → fc2
//! → residual), the final layer norm. Its output is `last_hidden_state` `[B, tokens, hidden]`, what
//! Stable Diffusion's UNet cross-attends to. [`TextEncoder`] pairs it with the tokenizer of a
//! pipeline folder.

use crate::error::{Error, Result, io_err};
use crate::gpu::Gpu;
use crate::nn::{LayerNorm, Linear, Weights};
use crate::ops::{self, Gelu, TokenAttentionSpec};
use crate::tensor::Tensor;
use std::path::{Path, PathBuf};

/// The keys of `config.json` the text model is built from (transformers' `CLIPTextConfig`).
#[derive(Debug, Clone, PartialEq)]
pub struct ClipTextConfig {
    /// Token embeddings.
    pub vocab_size: usize,
    /// Width of the residual stream.
    pub hidden_size: usize,
    /// Width of the MLP.
    pub intermediate_size: usize,
    /// Encoder layers.
    pub num_hidden_layers: usize,
    /// Attention heads (`hidden_size / heads` channels each).
    pub num_attention_heads: usize,
    /// Positions (the longest token sequence).
    pub max_position_embeddings: usize,
    /// The MLP's activation.
    pub hidden_act: Gelu,
    /// Epsilon of the layer norms.
    pub layer_norm_eps: f32,
}

impl ClipTextConfig {
    /// Parses and checks `config.json`'s text (a `CLIPTextConfig`, or a `CLIPConfig` with a
    /// `text_config`): every size positive, the heads dividing the width, a supported activation.
    pub fn from_json(text: &str) -> Result<Self> {
        let v: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| Error::Model(format!("config.json is not valid JSON ({e})")))?;
        let v = v.get("text_config").cloned().unwrap_or(v);
        let size = |key: &str, default: Option<usize>| -> Result<usize> {
            match v.get(key) {
                Some(x) => x
                    .as_u64()
                    .filter(|&n| n > 0 && n < 1 << 24)
                    .map(|n| n as usize)
                    .ok_or_else(|| {
                        Error::Model(format!("config.json: {key} is {x}, not a positive whole number"))
                    }),
                None => default.ok_or_else(|| {
                    Error::Model(format!(
                        "config.json has no {key}; is it a CLIPTextModel config (text_encoder/config.json)?"
                    ))
                }),
            }
        };
        // transformers' CLIPTextConfig defaults where a key is left out
        let act_name = match v.get("hidden_act") {
            None => "quick_gelu".to_string(),
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(x) => {
                return Err(Error::Model(format!(
                    "config.json: hidden_act is {x}, not a name"
                )));
            }
        };
        let hidden_act = Gelu::from_name(&act_name).ok_or_else(|| {
            Error::Model(format!(
                "config.json: hidden_act {act_name:?} is not supported; tweedie's CLIP text model runs quick_gelu, gelu, gelu_new and gelu_pytorch_tanh"
            ))
        })?;
        let eps = match v.get("layer_norm_eps") {
            None => 1e-5,
            Some(x) => x
                .as_f64()
                .filter(|e| e.is_finite() && *e > 0.0 && *e < 1.0)
                .ok_or_else(|| Error::Model(format!("config.json: layer_norm_eps {x} is not in (0, 1)")))?
                as f32,
        };
        let c = ClipTextConfig {
            vocab_size: size("vocab_size", Some(49408))?,
            hidden_size: size("hidden_size", Some(512))?,
            intermediate_size: size("intermediate_size", Some(2048))?,
            num_hidden_layers: size("num_hidden_layers", Some(12))?,
            num_attention_heads: size("num_attention_heads", Some(8))?,
            max_position_embeddings: size("max_position_embeddings", Some(77))?,
            hidden_act,
            layer_norm_eps: eps,
        };
        if !c.hidden_size.is_multiple_of(c.num_attention_heads) {
            return Err(Error::Model(format!(
                "config.json: hidden_size {} is not a multiple of num_attention_heads {}",
                c.hidden_size, c.num_attention_heads
            )));
        }
        if let Some(a) = v.get("model_type").and_then(|m| m.as_str())
            && !a.starts_with("clip")
        {
            return Err(Error::Model(format!(
                "config.json: model_type {a:?} is not a CLIP text model (clip_text_model)"
            )));
        }
        Ok(c)
    }

    /// Channels a head.
    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }
}

/// One pre-LN encoder layer.
struct ClipLayer {
    ln1: LayerNorm,
    q: Linear,
    k: Linear,
    v: Linear,
    out: Linear,
    ln2: LayerNorm,
    fc1: Linear,
    fc2: Linear,
}

/// transformers' `CLIPTextModel` (see the module documentation).
pub struct ClipTextModel {
    /// The architecture.
    pub config: ClipTextConfig,
    /// `[vocab, hidden]` on the host: a lookup table (CLIP's is 150-200 MB, past the 128 MiB a
    /// device binds at once), whose rows are gathered here and uploaded.
    token_embedding: Vec<f32>,
    position_embedding: Tensor,
    layers: Vec<ClipLayer>,
    final_ln: LayerNorm,
}

impl ClipTextModel {
    /// Loads a `text_encoder/` folder: `config.json` and `model.safetensors` (or
    /// `model.fp16.safetensors`), with the weights' names as transformers writes them (with or
    /// without the `text_model.` prefix of transformers 4).
    pub fn load(gpu: &Gpu, dir: &Path) -> Result<Self> {
        if !dir.is_dir() {
            return Err(Error::Model(format!(
                "text encoder folder {} does not exist; a Stable Diffusion pipeline folder has text_encoder/ with config.json and model.safetensors",
                dir.display()
            )));
        }
        let cfg_path = dir.join("config.json");
        if !cfg_path.is_file() {
            return Err(Error::Model(format!(
                "{} has no config.json; a CLIPTextModel folder holds config.json and model.safetensors",
                dir.display()
            )));
        }
        let text = std::fs::read_to_string(&cfg_path).map_err(|e| io_err(&cfg_path, e))?;
        let config = ClipTextConfig::from_json(&text).map_err(|e| match e {
            Error::Model(m) => Error::Model(m.replacen("config.json", &cfg_path.display().to_string(), 1)),
            other => other,
        })?;
        let wpath = Self::weights_path(dir)?;
        let mut tensors = crate::io::read_safetensors(&wpath)?;
        // transformers 4 writes text_model.*, transformers 5 the names without it; the position
        // ids buffer of older files is not a weight
        let prefix = if tensors.keys().any(|k| k.starts_with("text_model.")) {
            "text_model."
        } else {
            ""
        };
        tensors.remove(&format!("{prefix}embeddings.position_ids"));
        let mut ws = Weights::new(gpu, &wpath.display().to_string(), tensors);
        let model = Self::build(config, &mut ws, prefix)?;
        ws.finish()?;
        Ok(model)
    }

    /// The weights file of a text encoder folder.
    pub fn weights_path(dir: &Path) -> Result<PathBuf> {
        for name in ["model.safetensors", "model.fp16.safetensors"] {
            if dir.join(name).is_file() {
                return Ok(dir.join(name));
            }
        }
        let hint = if dir.join("pytorch_model.bin").is_file() {
            " (only the PyTorch pytorch_model.bin is there: convert it with transformers' save_pretrained(safe_serialization=True))"
        } else {
            ""
        };
        Err(Error::Model(format!(
            "{} is missing{hint}",
            dir.join("model.safetensors").display()
        )))
    }

    /// Builds the model from `ws`, its names starting with `p` (`"text_model."` or `""`), checked
    /// against `config` (the caller checks that every tensor was used with [`Weights::finish`]).
    pub fn build(config: ClipTextConfig, ws: &mut Weights, p: &str) -> Result<Self> {
        let c = &config;
        let d = c.hidden_size;
        let token_embedding = ws.get_host(
            &format!("{p}embeddings.token_embedding.weight"),
            &[c.vocab_size, d],
        )?;
        let position_embedding = ws.get(
            &format!("{p}embeddings.position_embedding.weight"),
            &[c.max_position_embeddings, d],
        )?;
        let eps = c.layer_norm_eps;
        let mut layers = Vec::with_capacity(c.num_hidden_layers);
        for i in 0..c.num_hidden_layers {
            let l = format!("{p}encoder.layers.{i}");
            let lin = |ws: &mut Weights, n: &str, fin: usize, fout: usize| {
                Linear::load(ws, &format!("{l}.{n}"), fin, fout)
            };
            layers.push(ClipLayer {
                ln1: LayerNorm::load(ws, &format!("{l}.layer_norm1"), d, eps)?,
                q: lin(ws, "self_attn.q_proj", d, d)?,
                k: lin(ws, "self_attn.k_proj", d, d)?,
                v: lin(ws, "self_attn.v_proj", d, d)?,
                out: lin(ws, "self_attn.out_proj", d, d)?,
                ln2: LayerNorm::load(ws, &format!("{l}.layer_norm2"), d, eps)?,
                fc1: lin(ws, "mlp.fc1", d, c.intermediate_size)?,
                fc2: lin(ws, "mlp.fc2", c.intermediate_size, d)?,
            });
        }
        let final_ln = LayerNorm::load(ws, &format!("{p}final_layer_norm"), d, eps)?;
        Ok(ClipTextModel {
            config,
            token_embedding,
            position_embedding,
            layers,
            final_ln,
        })
    }

    /// `last_hidden_state` `[B, T, hidden]` for `B` sequences of `T` token ids each (`T` at most
    /// `max_position_embeddings`; every id below `vocab_size`). Causal self-attention, no padding
    /// mask (as Stable Diffusion's pipelines run it).
    pub fn forward(&self, ids: &[Vec<u32>]) -> Result<Tensor> {
        let c = &self.config;
        let b = ids.len();
        let t = ids.first().map(|s| s.len()).unwrap_or(0);
        if b == 0 || t == 0 || ids.iter().any(|s| s.len() != t) {
            return Err(Error::Input(format!(
                "the text model takes one or more token sequences of one length, got lengths {:?}",
                ids.iter().map(|s| s.len()).collect::<Vec<_>>()
            )));
        }
        if t > c.max_position_embeddings {
            return Err(Error::Input(format!(
                "{t} tokens, but the text model has {} positions",
                c.max_position_embeddings
            )));
        }
        if let Some(&bad) = ids.iter().flatten().find(|&&i| i as usize >= c.vocab_size) {
            return Err(Error::Input(format!(
                "token id {bad} is outside the text model's vocabulary of {}; do the tokenizer and the text encoder belong together?",
                c.vocab_size
            )));
        }
        let gpu = self.position_embedding.gpu();
        let d = c.hidden_size;
        let rows: Vec<f32> = ids
            .iter()
            .flatten()
            .flat_map(|&i| &self.token_embedding[i as usize * d..][..d])
            .copied()
            .collect();
        let tok = Tensor::from_slice(gpu, &[b * t, d], &rows)?;
        let pos_idx: Vec<f32> = (0..b).flat_map(|_| (0..t).map(|p| p as f32)).collect();
        let pos = ops::particles::gather_rows(
            &self.position_embedding,
            &Tensor::from_slice(gpu, &[b * t], &pos_idx)?,
        )?;
        let mut h = ops::add(&tok, &pos)?;
        let spec = TokenAttentionSpec {
            batch: b,
            heads: c.num_attention_heads,
            tq: t,
            tk: t,
            dim_head: c.head_dim(),
            alpha: 1.0 / (c.head_dim() as f32).sqrt(),
            causal: true,
        };
        for l in &self.layers {
            let x = l.ln1.forward(&h)?;
            let (q, k, v) = (l.q.forward(&x)?, l.k.forward(&x)?, l.v.forward(&x)?);
            let o = ops::attention_tokens(&q, &k, &v, spec)?.reshape(&[b * t, d])?;
            h = ops::add(&h, &l.out.forward(&o)?)?;
            let x = l.ln2.forward(&h)?;
            let x = ops::gelu(&l.fc1.forward(&x)?, c.hidden_act)?;
            h = ops::add(&h, &l.fc2.forward(&x)?)?;
        }
        self.final_ln.forward(&h)?.reshape(&[b, t, d])
    }
}

/// A pipeline's text encoder with its tokenizer: prompts to `last_hidden_state`, each prompt padded
/// to the tokenizer's maximum length as diffusers' pipelines pad it.
pub struct TextEncoder {
    /// The tokenizer (`tokenizer/`).
    pub tokenizer: super::ClipTokenizer,
    /// The model (`text_encoder/`).
    pub model: ClipTextModel,
    /// The files read (for the command line's output checks).
    pub files: Vec<PathBuf>,
}

impl TextEncoder {
    /// Loads `dir`: a pipeline folder (or any folder) holding `text_encoder/` and `tokenizer/`.
    pub fn load(gpu: &Gpu, dir: &Path) -> Result<Self> {
        let (te, tk) = (dir.join("text_encoder"), dir.join("tokenizer"));
        if !dir.is_dir() {
            return Err(Error::Model(format!(
                "model folder {} does not exist; give a Stable Diffusion pipeline folder (with text_encoder/ and tokenizer/)",
                dir.display()
            )));
        }
        if !te.is_dir() || !tk.is_dir() {
            let missing: Vec<&str> = [("text_encoder/", &te), ("tokenizer/", &tk)]
                .iter()
                .filter(|(_, p)| !p.is_dir())
                .map(|(n, _)| *n)
                .collect();
            return Err(Error::Model(format!(
                "{} has no {}; give a Stable Diffusion pipeline folder (model_index.json, text_encoder/, tokenizer/, ...) or a folder holding those two",
                dir.display(),
                missing.join(" or ")
            )));
        }
        let model = ClipTextModel::load(gpu, &te)?;
        let tokenizer = super::ClipTokenizer::load(&tk, model.config.max_position_embeddings)?;
        if tokenizer.max_length > model.config.max_position_embeddings {
            return Err(Error::Model(format!(
                "{}: model_max_length {} is longer than the text encoder's {} positions",
                tk.display(),
                tokenizer.max_length,
                model.config.max_position_embeddings
            )));
        }
        if tokenizer.vocab_size() > model.config.vocab_size {
            return Err(Error::Model(format!(
                "{}: {} tokens, but the text encoder embeds {}; do they belong together?",
                tk.display(),
                tokenizer.vocab_size(),
                model.config.vocab_size
            )));
        }
        let files = Self::files(dir);
        Ok(TextEncoder {
            tokenizer,
            model,
            files,
        })
    }

    /// The files of `dir` a [`Self::load`] reads (those that exist): the text encoder's config and
    /// weights, the tokenizer's vocabulary, merges and configs.
    pub fn files(dir: &Path) -> Vec<PathBuf> {
        let (te, tk) = (dir.join("text_encoder"), dir.join("tokenizer"));
        let mut files: Vec<PathBuf> = ["config.json", "model.safetensors", "model.fp16.safetensors"]
            .iter()
            .map(|n| te.join(n))
            .collect();
        for n in [
            "vocab.json",
            "merges.txt",
            "tokenizer.json",
            "tokenizer_config.json",
            "special_tokens_map.json",
        ] {
            files.push(tk.join(n));
        }
        files.retain(|p| p.is_file());
        files
    }

    /// `last_hidden_state` `[B, max_length, hidden]` of the prompts.
    pub fn encode(&self, prompts: &[&str]) -> Result<Tensor> {
        let ids = prompts
            .iter()
            .map(|p| self.tokenizer.encode(p))
            .collect::<Result<Vec<_>>>()?;
        self.model.forward(&ids)
    }
}
