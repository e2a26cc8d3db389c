//! A device tensor: f32 values in a pooled GPU buffer with a row-major (NCHW) shape, and the node of
//! the autograd graph that made it, if it depends on a tracked tensor.
//!
//! Autograd state lives on the tensors (as in candle), not on the device: a computation that starts
//! from [`Tensor::tracked`] inputs builds its own graph, which [`crate::autograd::backward`] walks, and
//! which is freed with the last tensor that holds it. Two computations on one device never see each
//! other's graphs.

use crate::error::{Error, Result};
use crate::gpu::PooledBuffer;
use crate::gpu::params::ElementwiseParams;
use crate::gpu::{Access, Gpu, KernelId, grid1d};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The bindings of a dispatch in order: the tensors read, then after `=>` those written
/// (`binds!(x, w => out)`).
macro_rules! binds {
    ($($r:expr),* => $($w:expr),+) => {
        [$($r.bind($crate::gpu::Access::Read),)* $($w.bind($crate::gpu::Access::ReadWrite)),+]
    };
}
pub(crate) use binds;

/// The gradients of an op's inputs, in the order of its inputs: `None` where an input's gradient was
/// not asked for or does not exist.
pub type InputGrads = Vec<Option<Tensor>>;

/// The backward rule of a differentiable op: one type per op, holding what its backward needs beyond
/// the inputs and the output (the forward's spec, saved statistics), attached to the op's output by
/// [`Tensor::with_node`]. Every op of [`crate::ops`] is one (e.g. `SumRows` next to
/// [`crate::ops::sum_rows`]), and a host adds a differentiable op of its own the same way:
///
/// ```no_run
/// # fn main() -> tweedie::Result<()> {
/// use tweedie::tensor::{BackwardOp, InputGrads};
/// use tweedie::{Gpu, Result, Tensor, autograd, ops};
///
/// /// y = x², with its own backward 2 x g.
/// struct Square;
///
/// impl BackwardOp for Square {
///     fn name(&self) -> &'static str {
///         "square"
///     }
///
///     fn backward(&self, x: &[Tensor], _out: &Tensor, g: &Tensor, _need: &[bool]) -> Result<InputGrads> {
///         Ok(vec![Some(ops::scale(&ops::mul(&x[0], g)?, 2.0)?)])
///     }
/// }
///
/// fn square(x: &Tensor) -> Result<Tensor> {
///     // the forward on detached values records nothing; the op's own node carries the rule
///     let y = ops::mul(&x.detach(), &x.detach())?;
///     Ok(y.with_node(&[x], Square))
/// }
///
/// let gpu = Gpu::new()?;
/// let x = Tensor::from_slice(&gpu, &[1, 3], &[1.0, 2.0, 3.0])?.tracked();
/// let y = square(&x)?;
/// let dx = autograd::backward(&y, &Tensor::full(&gpu, &[1, 3], 1.0)?, &[&x])?.remove(0);
/// assert_eq!(dx.to_vec()?, vec![2.0, 4.0, 6.0]);
/// # Ok(()) }
/// ```
pub trait BackwardOp: Send + Sync {
    /// A short name of the op kind (e.g. `"conv2d"`), as [`crate::autograd::backward_skipping`]
    /// matches it.
    fn name(&self) -> &'static str;
    /// The gradients of the op's `inputs` (the values given to [`Tensor::with_node`], in that order,
    /// detached) from the gradient `g` of its output `out` (the output's values, `g` of its shape).
    /// `need[i]` says whether input `i` is tracked: a rule may return `None` for the others, or a
    /// gradient anyway (it is dropped). One entry per input; fewer count as `None`.
    fn backward(&self, inputs: &[Tensor], out: &Tensor, g: &Tensor, need: &[bool]) -> Result<InputGrads>;
}

/// A node of the autograd graph: a tracked leaf, or the op that made a tensor from its inputs.
pub(crate) struct GradNode {
    /// Unique per node; gradients are accumulated by it.
    pub(crate) id: u64,
    /// `None` for a leaf.
    pub(crate) op: Option<Box<dyn BackwardOp>>,
    /// The op's inputs (tracked or not: the backward rule may need them all).
    pub(crate) inputs: Vec<Tensor>,
    /// The op's output values (without the node, so no cycle).
    pub(crate) out: Option<Tensor>,
}

static NEXT_NODE: AtomicU64 = AtomicU64::new(1);

impl Drop for GradNode {
    /// Frees long chains (a tape through many UNet passes) iteratively, not by recursion.
    fn drop(&mut self) {
        let mut stack = std::mem::take(&mut self.inputs);
        while let Some(mut t) = stack.pop() {
            if let Some(node) = t.node.take()
                && let Ok(mut n) = Arc::try_unwrap(node)
            {
                stack.append(&mut n.inputs);
            }
        }
    }
}

/// An f32 tensor on the GPU. Cloning shares the buffer; the buffer returns to the pool when the last
/// clone is dropped. Ops never write into their inputs, so a tensor's values do not change.
#[derive(Clone)]
pub struct Tensor {
    gpu: Gpu,
    buf: Arc<PooledBuffer>,
    shape: Vec<usize>,
    node: Option<Arc<GradNode>>,
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
            node: None,
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

    /// Wraps a storage buffer the host owns as a tensor of `shape`, without a copy: kernels read and
    /// write the host's memory (ops write only their outputs, never their inputs). The buffer needs
    /// `STORAGE`, `COPY_SRC` and `COPY_DST` usage and at least `4 × numel` bytes, f32 values in
    /// row-major order from offset 0. Work the host submitted to the buffer before this call is
    /// ordered before tweedie's next submission on the same queue.
    pub fn from_buffer(gpu: &Gpu, buffer: wgpu::Buffer, shape: &[usize]) -> Result<Tensor> {
        let numel: usize = shape.iter().product();
        let need = numel as u64 * 4;
        let want = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST;
        if numel == 0 {
            return Err(Error::Shape(format!(
                "cannot wrap a buffer as the empty shape {shape:?}"
            )));
        }
        if !buffer.usage().contains(want) {
            return Err(Error::Input(format!(
                "a host buffer for a tensor needs the usages {want:?}; this one has {:?}",
                buffer.usage()
            )));
        }
        if buffer.size() < need {
            return Err(Error::Shape(format!(
                "a buffer of {} bytes cannot hold a tensor of shape {shape:?} ({need} bytes of f32)",
                buffer.size()
            )));
        }
        if need > gpu.max_binding_bytes() {
            return Err(Error::TooLarge {
                what: format!("a tensor of shape {shape:?}"),
                bytes: need,
                limit: gpu.max_binding_bytes(),
            });
        }
        Ok(Tensor {
            gpu: gpu.clone(),
            buf: Arc::new(PooledBuffer::external(buffer)),
            shape: shape.to_vec(),
            node: None,
        })
    }

    /// The device buffer holding the values (f32, row-major, from offset 0; the buffer may be
    /// larger). For handing a result to the host without a copy: call [`Gpu::flush`] before the host
    /// submits work that reads it, and keep this tensor alive while the host uses the buffer (a
    /// pooled buffer is reused once its last tensor is dropped).
    pub fn buffer(&self) -> &wgpu::Buffer {
        &self.buf.buffer
    }

    /// A tensor filled with `value`, on the device.
    pub fn full(gpu: &Gpu, shape: &[usize], value: f32) -> Result<Tensor> {
        let t = Tensor::empty(gpu, shape)?;
        t.fill(value)?;
        Ok(t)
    }

    /// Sets every value to `value`, on the device: `fill` of `shaders/elementwise.wgsl`, launched
    /// here so that tensors need nothing from `ops`.
    pub fn fill(&self, value: f32) -> Result<()> {
        let n = u32::try_from(self.numel()).map_err(|_| Error::TooLarge {
            what: "elementwise output".to_string(),
            bytes: self.numel() as u64,
            limit: u32::MAX as u64,
        })?;
        let p = ElementwiseParams {
            n,
            a: value,
            ..Default::default()
        };
        // the entry point reads nothing, but its layout has two read bindings: bind a scratch value
        // (a buffer may not be bound read-only and read-write in one dispatch)
        let scratch = Tensor::empty(&self.gpu, &[1])?;
        self.gpu.dispatch(
            &KernelId::new("elementwise.wgsl", "fill"),
            &p,
            &binds!(scratch, scratch => self),
            grid1d(self.numel(), 256),
        )
    }

    /// Copies the values back to the host (submits pending work and waits for it).
    pub fn to_vec(&self) -> Result<Vec<f32>> {
        let bytes = self.gpu.read_bytes(&self.buf.buffer, self.bytes())?;
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    }

    /// Starts reading the values back without waiting (the work recorded so far is submitted):
    /// [`crate::gpu::Readback::poll`] once a frame gives them when the device is done, or `.await`
    /// the readback. Counted by [`Gpu::readbacks`] like [`Tensor::to_vec`], which blocks instead.
    pub fn read_async(&self) -> Result<crate::gpu::Readback> {
        self.gpu.read_bytes_async(&self.buf.buffer, self.bytes())
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
            node: self.node.clone(),
        })
    }

    /// A copy in a new buffer.
    pub fn deep_clone(&self) -> Result<Tensor> {
        let t = Tensor::empty(&self.gpu, &self.shape)?;
        self.gpu.copy(&self.buf.buffer, 0, &t.buf.buffer, 0, self.bytes());
        Ok(t)
    }

    /// The same values as a leaf of a new autograd graph: ops on it (and on what depends on it)
    /// record what their backward needs, and [`crate::autograd::backward`] can return the
    /// vector-Jacobian product with respect to it. Ops on untracked tensors record nothing.
    pub fn tracked(&self) -> Tensor {
        Tensor {
            gpu: self.gpu.clone(),
            buf: self.buf.clone(),
            shape: self.shape.clone(),
            node: Some(Arc::new(GradNode {
                id: NEXT_NODE.fetch_add(1, Ordering::Relaxed),
                op: None,
                inputs: Vec::new(),
                out: None,
            })),
        }
    }

    /// The same values without a graph (a constant for autograd).
    pub fn detach(&self) -> Tensor {
        Tensor {
            gpu: self.gpu.clone(),
            buf: self.buf.clone(),
            shape: self.shape.clone(),
            node: None,
        }
    }

    /// Whether this tensor depends on a tracked tensor (has a node in an autograd graph).
    pub fn is_tracked(&self) -> bool {
        self.node.is_some()
    }

    /// Makes this tensor the output of the differentiable op `op` applied to `inputs`: when an input
    /// is tracked (see [`Tensor::tracked`]), the returned tensor carries a node of the autograd graph
    /// holding `op`, the inputs and these values, and [`crate::autograd::backward`] calls
    /// [`BackwardOp::backward`] on it; when none is, the tensor is returned unchanged (nothing is
    /// recorded). Every op of [`crate::ops`] ends this way, and so does a host's own op (see
    /// [`BackwardOp`]). Any node this tensor already had is replaced: compute it from detached
    /// values, or the graph behind them is cut here.
    pub fn with_node(mut self, inputs: &[&Tensor], op: impl BackwardOp + 'static) -> Tensor {
        if !inputs.iter().any(|t| t.is_tracked()) {
            return self;
        }
        let out = self.detach();
        self.node = Some(Arc::new(GradNode {
            id: NEXT_NODE.fetch_add(1, Ordering::Relaxed),
            op: Some(Box::new(op)),
            inputs: inputs.iter().map(|t| (*t).clone()).collect(),
            out: Some(out),
        }));
        self
    }

    /// This tensor's autograd node.
    pub(crate) fn node(&self) -> Option<&Arc<GradNode>> {
        self.node.as_ref()
    }

    /// Whether two tensors share one buffer.
    pub fn same_buffer(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.buf, &other.buf)
    }

    /// The buffer binding of this tensor for a kernel ([`crate::Gpu::dispatch`]'s `buffers`, in
    /// the order of the kernel's bindings after its parameters).
    pub fn bind(&self, access: Access) -> (&wgpu::Buffer, u64, Access) {
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
