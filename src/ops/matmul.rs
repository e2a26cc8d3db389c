//! Launcher for `shaders/matmul.wgsl`.

use super::grad::{record, want};
use super::{same_device, u32_of};
use crate::error::{Error, Result};
use crate::gpu::params::MatmulParams;
use crate::gpu::{Access, KernelId};
use crate::tensor::{BackwardOp, InputGrads, Tensor};

/// Sizes and strides of a batched product `out[b] = alpha * A[b] B[b] (+ bias)`, with
/// `A[b, m, k] = a[b*a_strides[0] + m*a_strides[1] + k*a_strides[2]]` and likewise for B
/// (`[batch, k, n]` strides). The output is contiguous `[batch, m, n]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatmulSpec {
    /// Number of independent products.
    pub batch: usize,
    /// Rows of A and of the output.
    pub m: usize,
    /// Columns of B and of the output.
    pub n: usize,
    /// Shared inner dimension.
    pub k: usize,
    /// Strides of A over (batch, m, k).
    pub a_strides: [usize; 3],
    /// Strides of B over (batch, k, n).
    pub b_strides: [usize; 3],
    /// Scale of the product.
    pub alpha: f32,
}

impl MatmulSpec {
    /// Plain row-major `[batch, m, k] x [batch, k, n]`.
    pub fn contiguous(batch: usize, m: usize, n: usize, k: usize) -> Self {
        MatmulSpec {
            batch,
            m,
            n,
            k,
            a_strides: [m * k, k, 1],
            b_strides: [k * n, n, 1],
            alpha: 1.0,
        }
    }

    /// The highest element index the spec reads from A and from B, plus one.
    fn extents(&self) -> (usize, usize) {
        let ea = (self.batch - 1) * self.a_strides[0]
            + (self.m - 1) * self.a_strides[1]
            + (self.k - 1) * self.a_strides[2]
            + 1;
        let eb = (self.batch - 1) * self.b_strides[0]
            + (self.k - 1) * self.b_strides[1]
            + (self.n - 1) * self.b_strides[2]
            + 1;
        (ea, eb)
    }
}

/// Products of at most this many multiply-adds take `matmul_small` on CPU adapters.
const SMALL_MACS: usize = 1 << 20;

/// Batched strided matrix product with an optional bias over columns. Returns `[batch, m, n]`.
pub fn matmul(a: &Tensor, b: &Tensor, bias: Option<&Tensor>, spec: MatmulSpec) -> Result<Tensor> {
    same_device(a, b)?;
    let s = &spec;
    if s.batch == 0 || s.m == 0 || s.n == 0 || s.k == 0 {
        return Err(Error::Shape(format!("matmul with an empty dimension: {spec:?}")));
    }
    let (ea, eb) = s.extents();
    if ea > a.numel() || eb > b.numel() {
        return Err(Error::Shape(format!(
            "matmul {spec:?} reads past its operands ({:?}, {:?})",
            a.shape(),
            b.shape()
        )));
    }
    if let Some(bias) = bias
        && bias.numel() != s.n
    {
        return Err(Error::Shape(format!(
            "matmul bias {:?} for {} columns",
            bias.shape(),
            s.n
        )));
    }
    let out = Tensor::empty(a.gpu(), &[s.batch, s.m, s.n])?;
    let u = |v: usize| u32_of(v, "matmul size");
    // Neighbouring invocations gather along whichever of (m, k) / (k, n) is closer in memory.
    let a_kfast = s.a_strides[2] <= s.a_strides[1];
    let b_kfast = s.b_strides[1] < s.b_strides[2];
    let params = MatmulParams {
        m: u(s.m)?,
        n: u(s.n)?,
        k: u(s.k)?,
        has_bias: bias.is_some() as u32,
        sab: u(s.a_strides[0])?,
        sam: u(s.a_strides[1])?,
        sak: u(s.a_strides[2])?,
        alpha: s.alpha,
        sbb: u(s.b_strides[0])?,
        sbk: u(s.b_strides[1])?,
        sbn: u(s.b_strides[2])?,
        a_kfast: a_kfast as u32,
        b_kfast: b_kfast as u32,
        ..Default::default()
    };
    // Output tile (rows x columns) of one workgroup. On CPU adapters (llvmpipe), where every varying
    // load costs a scalar per lane, the wide entry point's 16x16 blocks per thread halve the loads
    // per multiply-add; real GPUs keep the 8x8 blocks.
    let gpu = a.gpu();
    let cpu = gpu.cpu_kernels();
    // 512-wide tiles for few output rows where the device has the workgroup memory for them; the
    // 128-wide tiles otherwise, from the small-tile module (4 KiB of staging instead of 16 KiB). On
    // CPU adapters products of up to 64 rows take the 32-row tiles too: Mesa 22.3 lavapipe leaked
    // ~2.3 MB of driver memory per call of the 128x128 tile on the 64-token attention product
    // (tests/driver_memory.rs). Each output's sum runs over k in the same order in every variant, so
    // results agree bit for bit.
    let wide = gpu.wide_tiles();
    let flops = 2 * (s.batch * s.m * s.n * s.k) as u64;
    let bb = bias.unwrap_or(b);
    let bindings = [
        a.bind(Access::Read),
        b.bind(Access::Read),
        bb.bind(Access::Read),
        out.bind(Access::ReadWrite),
    ];
    let (kernel, grid) = if cpu && s.batch * s.m * s.n * s.k <= SMALL_MACS {
        // one invocation per output, no workgroup memory (see `matmul_small`)
        let groups = u(s.m * s.n)?.div_ceil(64);
        let max = gpu.limits().max_compute_workgroups_per_dimension;
        let grid = if groups <= max {
            [groups, 1, u(s.batch)?]
        } else {
            [max, groups.div_ceil(max), u(s.batch)?]
        };
        (KernelId::new("matmul.wgsl#small", "matmul_small"), grid)
    } else {
        let (entry, bm, bn) = if cpu && s.m <= 8 && s.n <= 64 {
            ("matmul_t1x8", 8, 64)
        } else if cpu && s.m <= 64 && s.n <= 64 {
            ("matmul_t8x8", 64, 64)
        } else if s.m <= 16 && wide {
            ("matmul_t2x64", 16, 512)
        } else if (s.m <= 32 || (cpu && s.m <= 64)) && wide {
            ("matmul_t4x64", 32, 512)
        } else if cpu {
            ("matmul_t8x8w", 128, 128)
        } else {
            ("matmul_t16x16", 128, 128)
        };
        let file = if bn == 512 {
            "matmul.wgsl"
        } else {
            "matmul.wgsl#small"
        };
        (
            KernelId::new(file, entry),
            [u(s.n)?.div_ceil(bn), u(s.m)?.div_ceil(bm), u(s.batch)?],
        )
    };
    gpu.dispatch_flops(&kernel, &params, &bindings, grid, flops)?;
    let out = match bias {
        Some(c) => record(out, &[a, b, c], Matmul(spec)),
        None => record(out, &[a, b], Matmul(spec)),
    };
    Ok(out)
}

/// `x W^T + b` for `x` `[B, in]` and a PyTorch `Linear` weight `W` `[out, in]`. Returns `[B, out]`.
pub fn linear(x: &Tensor, w: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
    let (xs, ws) = (x.shape(), w.shape());
    if xs.len() != 2 || ws.len() != 2 || xs[1] != ws[1] {
        return Err(Error::Shape(format!("linear of input {xs:?} with weight {ws:?}")));
    }
    let (bsz, fin, fout) = (xs[0], xs[1], ws[0]);
    let spec = MatmulSpec {
        batch: 1,
        m: bsz,
        n: fout,
        k: fin,
        a_strides: [0, fin, 1],
        b_strides: [0, 1, fin],
        alpha: 1.0,
    };
    matmul(x, w, bias, spec)?.reshape(&[bsz, fout])
}

/// [`matmul`] (inputs a, b, [bias]): [`super::matmul_backward`] for those asked for.
struct Matmul(MatmulSpec);

impl BackwardOp for Matmul {
    fn name(&self) -> &'static str {
        "matmul"
    }

    fn backward(&self, x: &[Tensor], _out: &Tensor, g: &Tensor, need: &[bool]) -> Result<InputGrads> {
        let w = |i| want(need, i);
        let [a, b, c] = super::matmul_backward(&x[0], &x[1], g, self.0, [w(0), w(1), w(2)])?;
        Ok(vec![a, b, c])
    }
}
