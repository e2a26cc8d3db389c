//! A device tensor: f32 values in a pooled GPU buffer with a row-major (NCHW) shape.

use crate::error::{Error, Result};
use crate::gpu::PooledBuffer;
use crate::gpu::{Access, Gpu};
use std::sync::Arc;

/// An f32 tensor on the GPU. Cloning shares the buffer; the buffer returns to the pool when the last
/// clone is dropped. Ops never write into their inputs, so a tensor's values do not change.
#[derive(Clone)]
pub struct Tensor {
    gpu: Gpu,
    buf: Arc<PooledBuffer>,
    shape: Vec<usize>,
}

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tensor{:?}", self.shape)
    }
}

impl Tensor {
    /// A tensor with unspecified contents (a pooled buffer), to be written by a kernel.
    pub fn empty(gpu: &Gpu, shape: &[usize]) -> Result<Tensor> {
        let numel: usize = shape.iter().product();
        if numel == 0 {
            return Err(Error::Shape(format!(
                "cannot create an empty tensor of shape {shape:?}"
            )));
        }
        let bytes = numel as u64 * 4;
        let limit = gpu.max_binding_bytes();
        if bytes > limit {
            return Err(Error::TooLarge {
                what: format!("a tensor of shape {shape:?}"),
                bytes,
                limit,
            });
        }
        let buf = Arc::new(gpu.inner.pool.acquire(bytes));
        Ok(Tensor {
            gpu: gpu.clone(),
            buf,
            shape: shape.to_vec(),
        })
    }

    /// Uploads host data.
    pub fn from_slice(gpu: &Gpu, shape: &[usize], data: &[f32]) -> Result<Tensor> {
        let numel: usize = shape.iter().product();
        if numel != data.len() {
            return Err(Error::Shape(format!(
                "shape {shape:?} holds {numel} values but {} were given",
                data.len()
            )));
        }
        let t = Tensor::empty(gpu, shape)?;
        gpu.upload(&t.buf.buffer, bytemuck::cast_slice(data))?;
        Ok(t)
    }

    /// A tensor filled with `value`, on the device.
    pub fn full(gpu: &Gpu, shape: &[usize], value: f32) -> Result<Tensor> {
        let t = Tensor::empty(gpu, shape)?;
        crate::ops::fill(&t, value)?;
        Ok(t)
    }

    /// Copies the values back to the host (submits pending work and waits for it).
    pub fn to_vec(&self) -> Result<Vec<f32>> {
        let bytes = self.gpu.read_bytes(&self.buf.buffer, self.bytes())?;
        Ok(bytemuck::cast_slice(&bytes).to_vec())
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// Size of the values in bytes.
    pub fn bytes(&self) -> u64 {
        self.numel() as u64 * 4
    }

    /// The device this tensor lives on.
    pub fn gpu(&self) -> &Gpu {
        &self.gpu
    }

    /// The same values with another shape of equal size (no copy).
    pub fn reshape(&self, shape: &[usize]) -> Result<Tensor> {
        let n: usize = shape.iter().product();
        if n != self.numel() {
            return Err(Error::Shape(format!(
                "cannot reshape {:?} ({} values) to {shape:?} ({n} values)",
                self.shape,
                self.numel()
            )));
        }
        Ok(Tensor {
            gpu: self.gpu.clone(),
            buf: self.buf.clone(),
            shape: shape.to_vec(),
        })
    }

    /// A copy in a new buffer.
    pub fn deep_clone(&self) -> Result<Tensor> {
        let t = Tensor::empty(&self.gpu, &self.shape)?;
        self.gpu.copy(&self.buf.buffer, 0, &t.buf.buffer, 0, self.bytes());
        Ok(t)
    }

    /// Identity of the buffer (shared by reshapes), used by the autograd tape.
    pub(crate) fn key(&self) -> usize {
        Arc::as_ptr(&self.buf) as usize
    }

    /// Whether two tensors share one buffer.
    pub fn same_buffer(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.buf, &other.buf)
    }

    /// The buffer binding of this tensor for a kernel.
    pub(crate) fn bind(&self, access: Access) -> (&wgpu::Buffer, u64, Access) {
        (&self.buf.buffer, self.bytes(), access)
    }

    /// Checks the shape, naming `what` in the error.
    pub fn expect_shape(&self, shape: &[usize], what: &str) -> Result<()> {
        if self.shape != shape {
            return Err(Error::Shape(format!(
                "{what}: expected {shape:?}, got {:?}",
                self.shape
            )));
        }
        Ok(())
    }
}
