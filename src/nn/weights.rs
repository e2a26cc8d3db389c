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
    /// Seed of [`Self::synthetic`] weights.
    synthetic: Option<u64>,
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
            synthetic: None,
        }
    }

    /// Random weights for any name asked for, keyed by `seed` and the name: matrices and kernels
    /// `N(0, 1/fan_in)`, norm scales 1, biases 0. For sizing and timing a model without its
    /// checkpoint (activations stay of unit scale through the layers).
    pub fn synthetic(gpu: &Gpu, seed: u64) -> Self {
        Weights {
            gpu: gpu.clone(),
            source: format!("synthetic weights (seed {seed})"),
            tensors: BTreeMap::new(),
            used: BTreeSet::new(),
            synthetic: Some(seed),
        }
    }

    fn synthesize(seed: u64, name: &str, shape: &[usize]) -> Vec<f32> {
        let n: usize = shape.iter().product();
        if name.ends_with("bias") {
            return vec![0.0; n];
        }
        if shape.len() == 1 {
            return vec![1.0; n];
        }
        let fan_in = (n / shape[0]).max(1);
        let std = 1.0 / (fan_in as f64).sqrt();
        // SplitMix64 keyed by the seed and an FNV-1a hash of the name; Box-Muller pairs
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in name.bytes() {
            h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
        let mut st = seed ^ h;
        let mut next = move || {
            st = st.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = st;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut out = Vec::with_capacity(n + 1);
        while out.len() < n {
            let r = (-2.0 * next().max(1e-300).ln()).sqrt() * std;
            let a = 2.0 * std::f64::consts::PI * next();
            out.push((r * a.cos()) as f32);
            out.push((r * a.sin()) as f32);
        }
        out.truncate(n);
        out
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
        let data = self.get_host(name, shape)?;
        Tensor::from_slice(&self.gpu, shape, &data)
    }

    /// The values of tensor `name` with the expected `shape` on the host (for layers that rearrange
    /// them before the upload), checked as [`Self::get`] checks them.
    pub fn get_host(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        if let Some(seed) = self.synthetic {
            return Ok(Self::synthesize(seed, name, shape));
        }
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
        let data = t.data.clone();
        self.used.insert(key);
        Ok(data)
    }

    /// The device the weights are uploaded to.
    pub fn gpu(&self) -> &Gpu {
        &self.gpu
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
