//! Named weights read from a safetensors file, checked against the shapes a layer expects.

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::io::HostTensor;
use crate::tensor::Tensor;
use std::collections::{BTreeMap, BTreeSet};

/// Weights by name, uploaded on request. Tracks which names were used, so that a file holding tensors
/// the model never asked for (a config from another model) is caught.
pub struct Weights {
    gpu: Gpu,
    source: String,
    tensors: BTreeMap<String, HostTensor>,
    used: BTreeSet<String>,
}

/// Older diffusers checkpoints (e.g. google/ddpm-*) name the attention projections differently.
const ALIASES: &[(&str, &str)] = &[
    (".to_q.", ".query."),
    (".to_k.", ".key."),
    (".to_v.", ".value."),
    (".to_out.0.", ".proj_attn."),
];

impl Weights {
    /// Wraps tensors read from `source` (a path, for messages).
    pub fn new(gpu: &Gpu, source: &str, tensors: BTreeMap<String, HostTensor>) -> Self {
        Weights {
            gpu: gpu.clone(),
            source: source.to_string(),
            tensors,
            used: BTreeSet::new(),
        }
    }

    fn find(&self, name: &str) -> Option<String> {
        if self.tensors.contains_key(name) {
            return Some(name.to_string());
        }
        ALIASES.iter().find_map(|(new, old)| {
            let alt = name.replace(new, old);
            (alt != name && self.tensors.contains_key(&alt)).then_some(alt)
        })
    }

    /// The tensor `name` with the expected `shape`, uploaded. A shape that differs only by trailing
    /// 1s (a Linear stored as a 1x1 convolution) is accepted.
    pub fn get(&mut self, name: &str, shape: &[usize]) -> Result<Tensor> {
        let key = self.find(name).ok_or_else(|| {
            Error::Model(format!(
                "{}: tensor {name} (shape {shape:?}) is missing",
                self.source
            ))
        })?;
        let t = &self.tensors[&key];
        let strip = |s: &[usize]| -> Vec<usize> {
            let mut v = s.to_vec();
            while v.len() > 1 && v.last() == Some(&1) {
                v.pop();
            }
            v
        };
        if t.shape != shape && strip(&t.shape) != strip(shape) {
            return Err(Error::Model(format!(
                "{}: tensor {key} has shape {:?} but the config needs {shape:?}",
                self.source, t.shape
            )));
        }
        if let Some(bad) = t.data.iter().position(|v| !v.is_finite()) {
            return Err(Error::Model(format!(
                "{}: tensor {key} holds a non-finite value at index {bad}; the file is corrupt",
                self.source
            )));
        }
        let out = Tensor::from_slice(&self.gpu, shape, &t.data)?;
        self.used.insert(key);
        Ok(out)
    }

    /// Errors if the file holds tensors that were never requested.
    pub fn finish(self) -> Result<()> {
        let unused: Vec<&String> = self.tensors.keys().filter(|k| !self.used.contains(*k)).collect();
        if unused.is_empty() {
            return Ok(());
        }
        let shown: Vec<&str> = unused.iter().take(4).map(|s| s.as_str()).collect();
        Err(Error::Model(format!(
            "{}: {} tensors are not used by the configuration (e.g. {}); does config.json belong to these weights?",
            self.source,
            unused.len(),
            shown.join(", ")
        )))
    }
}
