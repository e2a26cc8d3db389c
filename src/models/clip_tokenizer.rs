//! CLIP's byte-level BPE tokenizer, built with HF's `tokenizers` crate from a Stable Diffusion
//! `tokenizer/` folder the way transformers' `CLIPTokenizer` builds it (`vocab.json` + `merges.txt`,
//! with `tokenizer_config.json` / `special_tokens_map.json` for the special tokens and the maximum
//! length): NFC, whitespace runs collapsed to one space, lowercase; CLIP's split pattern, then the
//! byte-level alphabet; BPE with the `</w>` end-of-word suffix; `<|startoftext|> … <|endoftext|>`
//! around the prompt; truncated and padded to `model_max_length` as diffusers' pipelines call it
//! (`padding="max_length", truncation=True`). A folder with only `tokenizer.json` is read from it,
//! with the same truncation and padding.

use crate::error::{Error, Result, io_err};
use std::collections::HashMap;
use std::path::Path;
use tokenizers::models::bpe::BPE;
use tokenizers::normalizers::{Lowercase, NFC, Replace, Sequence as NormSequence};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::sequence::Sequence as PreSequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::processors::roberta::RobertaProcessing;
use tokenizers::{
    AddedToken, PaddingDirection, PaddingParams, PaddingStrategy, SplitDelimiterBehavior, Tokenizer,
    TruncationDirection, TruncationParams, TruncationStrategy,
};

/// CLIP's pre-tokenizer pattern (transformers' `CLIPTokenizer`): the special tokens, English
/// contractions, runs of letters, single digits, runs of other non-space characters.
const CLIP_PATTERN: &str =
    r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+";

/// Above this, a `model_max_length` is transformers' "no limit" placeholder (1e30), not a length.
const NO_LIMIT: u64 = 1 << 40;

/// A CLIP tokenizer with its padding: every prompt becomes exactly [`Self::max_length`] ids.
pub struct ClipTokenizer {
    inner: Tokenizer,
    /// The same without truncation and padding, to count a prompt's tokens.
    plain: Tokenizer,
    /// Ids a prompt is padded (and truncated) to: `model_max_length` (77 for Stable Diffusion).
    pub max_length: usize,
    /// The padding token's id (`<|endoftext|>` in SD 1.x, `!` in SD 2.x).
    pub pad_id: u32,
    /// The padding token.
    pub pad_token: String,
    /// The end token's id (`<|endoftext|>`).
    pub eos_id: u32,
}

/// The special tokens and maximum length of a tokenizer folder's configs.
struct Specials {
    bos: String,
    eos: String,
    unk: String,
    pad: String,
    max_length: Option<usize>,
}

/// A token of a config: a string or an AddedToken dict (`{"content": ...}`).
fn token_of(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Object(m) => m.get("content").and_then(|c| c.as_str()).map(String::from),
        _ => None,
    }
}

fn read_json(path: &Path) -> Result<Option<serde_json::Value>> {
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(path).map_err(|e| io_err(path, e))?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| Error::Model(format!("{}: not valid JSON ({e})", path.display())))
}

fn specials(dir: &Path) -> Result<Specials> {
    let mut s = Specials {
        bos: "<|startoftext|>".into(),
        eos: "<|endoftext|>".into(),
        unk: "<|endoftext|>".into(),
        pad: "<|endoftext|>".into(),
        max_length: None,
    };
    // tokenizer_config.json, then special_tokens_map.json over it (transformers reads both)
    for name in ["tokenizer_config.json", "special_tokens_map.json"] {
        let path = dir.join(name);
        let Some(v) = read_json(&path)? else { continue };
        for (key, slot) in [
            ("bos_token", &mut s.bos),
            ("eos_token", &mut s.eos),
            ("unk_token", &mut s.unk),
            ("pad_token", &mut s.pad),
        ] {
            if let Some(t) = v.get(key).and_then(token_of) {
                *slot = t;
            }
        }
        if let Some(m) = v.get("model_max_length") {
            let n = m.as_u64().or_else(|| {
                m.as_f64()
                    .filter(|f| *f >= 0.0)
                    .map(|f| f.min(u64::MAX as f64) as u64)
            });
            match n {
                Some(n) if n < NO_LIMIT => s.max_length = Some(n as usize),
                Some(_) => {}
                None => {
                    return Err(Error::Model(format!(
                        "{}: model_max_length {m} is not a whole number",
                        path.display()
                    )));
                }
            }
        }
    }
    Ok(s)
}

impl ClipTokenizer {
    /// Loads a tokenizer folder (`vocab.json` + `merges.txt`, or `tokenizer.json`). `default_max`:
    /// the length used where the configs give none (the text encoder's `max_position_embeddings`).
    pub fn load(dir: &Path, default_max: usize) -> Result<Self> {
        if !dir.is_dir() {
            return Err(Error::Model(format!(
                "tokenizer folder {} does not exist; a Stable Diffusion pipeline folder has tokenizer/ with vocab.json and merges.txt",
                dir.display()
            )));
        }
        let sp = specials(dir)?;
        let (vocab_path, merges_path) = (dir.join("vocab.json"), dir.join("merges.txt"));
        let mut tok = if vocab_path.is_file() && merges_path.is_file() {
            let vocab_text = std::fs::read_to_string(&vocab_path).map_err(|e| io_err(&vocab_path, e))?;
            let merges_text = std::fs::read_to_string(&merges_path).map_err(|e| io_err(&merges_path, e))?;
            Self::build(&vocab_text, &merges_text, &sp).map_err(|e| match e {
                Error::Model(m) => Error::Model(format!("{}: {m}", dir.display())),
                other => other,
            })?
        } else if dir.join("tokenizer.json").is_file() {
            let p = dir.join("tokenizer.json");
            Tokenizer::from_file(&p).map_err(|e| Error::Model(format!("{}: {e}", p.display())))?
        } else {
            return Err(Error::Model(format!(
                "{} has neither vocab.json + merges.txt nor tokenizer.json; point --model at a Stable Diffusion pipeline folder (its tokenizer/ folder)",
                dir.display()
            )));
        };
        let max_length = sp.max_length.unwrap_or(default_max);
        let pad_id = tok.token_to_id(&sp.pad).ok_or_else(|| {
            Error::Model(format!(
                "{}: the pad token {:?} is not in the vocabulary",
                dir.display(),
                sp.pad
            ))
        })?;
        if max_length < 2 {
            return Err(Error::Model(format!(
                "{}: model_max_length {max_length} leaves no room for the start and end tokens",
                dir.display()
            )));
        }
        let eos_id = tok.token_to_id(&sp.eos).ok_or_else(|| {
            Error::Model(format!(
                "{}: the end token {:?} is not in the vocabulary",
                dir.display(),
                sp.eos
            ))
        })?;
        let plain = tok.clone();
        tok.with_truncation(Some(TruncationParams {
            direction: TruncationDirection::Right,
            max_length,
            strategy: TruncationStrategy::LongestFirst,
            stride: 0,
        }))
        .map_err(|e| Error::Model(format!("{}: {e}", dir.display())))?;
        tok.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::Fixed(max_length),
            direction: PaddingDirection::Right,
            pad_to_multiple_of: None,
            pad_id,
            pad_type_id: 0,
            pad_token: sp.pad.clone(),
        }));
        Ok(ClipTokenizer {
            inner: tok,
            plain,
            eos_id,
            max_length,
            pad_id,
            pad_token: sp.pad,
        })
    }

    /// The tokenizer of a vocabulary (`vocab.json`'s text) and merges (`merges.txt`'s text), as
    /// transformers' `CLIPTokenizer` builds it, without truncation or padding.
    fn build(vocab_text: &str, merges_text: &str, sp: &Specials) -> Result<Tokenizer> {
        let vocab: HashMap<String, u32> = serde_json::from_str(vocab_text)
            .map_err(|e| Error::Model(format!("vocab.json is not a JSON map of tokens to ids ({e})")))?;
        let mut merges = Vec::new();
        for (i, line) in merges_text.lines().enumerate() {
            if line.starts_with("#version") || line.trim().is_empty() {
                continue;
            }
            let mut parts = line.split(' ');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(a), Some(b), None) if !a.is_empty() && !b.is_empty() => {
                    merges.push((a.to_string(), b.to_string()))
                }
                _ => {
                    return Err(Error::Model(format!(
                        "merges.txt line {}: {line:?} is not a pair of tokens separated by one space",
                        i + 1
                    )));
                }
            }
        }
        for t in [&sp.bos, &sp.eos, &sp.unk, &sp.pad] {
            if !vocab.contains_key(t) {
                return Err(Error::Model(format!(
                    "the special token {t:?} is not in vocab.json"
                )));
            }
        }
        let bpe = BPE::builder()
            .vocab_and_merges(
                vocab.into_iter().collect::<tokenizers::models::bpe::Vocab>(),
                merges,
            )
            .continuing_subword_prefix(String::new())
            .end_of_word_suffix("</w>".into())
            .unk_token(sp.unk.clone())
            .fuse_unk(false)
            .build()
            .map_err(|e| Error::Model(format!("vocab.json and merges.txt do not fit together: {e}")))?;
        let mut tok = Tokenizer::new(bpe);
        let err = |e: tokenizers::Error| Error::Model(format!("tokenizer: {e}"));
        let normalizer = NormSequence::new(vec![
            NFC.into(),
            Replace::new(
                tokenizers::normalizers::replace::ReplacePattern::Regex(r"\s+".into()),
                " ",
            )
            .map_err(err)?
            .into(),
            Lowercase.into(),
        ]);
        tok.with_normalizer(Some(normalizer)).map_err(err)?;
        let split = Split::new(
            SplitPattern::Regex(CLIP_PATTERN.into()),
            SplitDelimiterBehavior::Removed,
            true,
        )
        .map_err(err)?;
        tok.with_pre_tokenizer(Some(PreSequence::new(vec![
            split.into(),
            ByteLevel::new(false, true, true).into(),
        ])));
        let id = |t: &str| tok.token_to_id(t).unwrap_or(0);
        let post = RobertaProcessing::new((sp.eos.clone(), id(&sp.eos)), (sp.bos.clone(), id(&sp.bos)))
            .trim_offsets(false)
            .add_prefix_space(false);
        tok.with_post_processor(Some(post));
        let mut specials: Vec<AddedToken> = Vec::new();
        for t in [&sp.bos, &sp.eos, &sp.unk, &sp.pad] {
            if !specials.iter().any(|a| &a.content == t) {
                specials.push(AddedToken::from(t.clone(), true));
            }
        }
        tok.add_special_tokens(specials).map_err(err)?;
        Ok(tok)
    }

    /// The ids of `prompt`: `<|startoftext|>`, the prompt's tokens (truncated so that the whole fits),
    /// `<|endoftext|>`, then the pad token up to [`Self::max_length`].
    pub fn encode(&self, prompt: &str) -> Result<Vec<u32>> {
        let enc = self
            .inner
            .encode(prompt, true)
            .map_err(|e| Error::Input(format!("cannot tokenize the prompt: {e}")))?;
        let ids = enc.get_ids().to_vec();
        if ids.len() != self.max_length {
            return Err(Error::Input(format!(
                "the prompt became {} tokens, not the tokenizer's {}",
                ids.len(),
                self.max_length
            )));
        }
        Ok(ids)
    }

    /// How many ids `prompt` makes with its start and end tokens, before truncation and padding
    /// (more than [`Self::max_length`]: [`Self::encode`] cuts the prompt's end).
    pub fn count(&self, prompt: &str) -> Result<usize> {
        self.plain
            .encode(prompt, true)
            .map(|e| e.get_ids().len())
            .map_err(|e| Error::Input(format!("cannot tokenize the prompt: {e}")))
    }

    /// The size of the vocabulary, with the special tokens.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }
}
