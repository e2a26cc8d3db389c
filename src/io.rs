//! Files in and out: safetensors tensors (f32, f16, bf16 read; f32 written).

use crate::error::{Error, Result, io_err};
use safetensors::{Dtype, SafeTensors};
use std::collections::BTreeMap;
use std::path::Path;

/// A host tensor read from a file: shape and values converted to f32.
#[derive(Debug, Clone, PartialEq)]
pub struct HostTensor {
    /// Row-major shape.
    pub shape: Vec<usize>,
    /// Values, converted to f32.
    pub data: Vec<f32>,
}

/// Reads every tensor of a safetensors file, converting f32, f16 and bf16 to f32. Other dtypes give an
/// error naming the tensor.
pub fn read_safetensors(path: &Path) -> Result<BTreeMap<String, HostTensor>> {
    let bytes = std::fs::read(path).map_err(|e| io_err(path, e))?;
    parse_safetensors(&bytes).map_err(|e| match e {
        Error::Model(m) => Error::Model(format!("{}: {m}", path.display())),
        other => other,
    })
}

/// [`read_safetensors`] on bytes in memory.
pub fn parse_safetensors(bytes: &[u8]) -> Result<BTreeMap<String, HostTensor>> {
    let st = SafeTensors::deserialize(bytes).map_err(|e| {
        Error::Model(format!(
            "not a valid safetensors file ({e}); is it truncated or another format?"
        ))
    })?;
    let mut out = BTreeMap::new();
    for (name, view) in st.tensors() {
        let raw = view.data();
        let data: Vec<f32> = match view.dtype() {
            Dtype::F32 => raw
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            Dtype::F16 => raw
                .chunks_exact(2)
                .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            Dtype::BF16 => raw
                .chunks_exact(2)
                .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            Dtype::F64 => raw
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap()) as f32)
                .collect(),
            other => {
                return Err(Error::Model(format!(
                    "tensor {name} is stored as {other:?}; tweedie reads f32, f16, bf16 and f64"
                )));
            }
        };
        out.insert(
            name,
            HostTensor {
                shape: view.shape().to_vec(),
                data,
            },
        );
    }
    Ok(out)
}

/// Writes f32 tensors to a safetensors file.
pub fn write_safetensors(path: &Path, tensors: &[(&str, &[usize], &[f32])]) -> Result<()> {
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = tensors
        .iter()
        .map(|(name, shape, data)| {
            let v =
                safetensors::tensor::TensorView::new(Dtype::F32, shape.to_vec(), bytemuck::cast_slice(data))
                    .map_err(|e| Error::Shape(format!("tensor {name}: {e}")))?;
            Ok((name.to_string(), v))
        })
        .collect::<Result<_>>()?;
    safetensors::serialize_to_file(views, None, path)
        .map_err(|e| Error::Io(format!("cannot write {}: {e}", path.display())))
}
