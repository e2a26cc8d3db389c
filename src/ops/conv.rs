//! Launcher for `shaders/conv2d.wgsl`.

use super::grad::{Op, record};
use super::{same_device, u32_of};
use crate::error::{Error, Result};
use crate::gpu::{Access, KernelId};
use crate::tensor::Tensor;

/// Stride and padding of a convolution. Padding is `[top, bottom, left, right]` so that diffusers'
/// asymmetric downsample padding `(0, 1, 0, 1)` is expressible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dSpec {
    /// Stride in both directions.
    pub stride: usize,
    /// Zero padding: top, bottom, left, right.
    pub pad: [usize; 4],
}

impl Conv2dSpec {
    /// Symmetric padding `p` on every side.
    pub fn new(stride: usize, p: usize) -> Self {
        Conv2dSpec {
            stride,
            pad: [p, p, p, p],
        }
    }

    /// Output height and width for an input of `h` x `w` and a `kh` x `kw` kernel.
    pub fn out_size(&self, h: usize, w: usize, kh: usize, kw: usize) -> Result<(usize, usize)> {
        let hp = h + self.pad[0] + self.pad[1];
        let wp = w + self.pad[2] + self.pad[3];
        if self.stride == 0 || hp < kh || wp < kw {
            return Err(Error::Shape(format!(
                "a {kh}x{kw} convolution with {self:?} does not fit a {h}x{w} input"
            )));
        }
        Ok(((hp - kh) / self.stride + 1, (wp - kw) / self.stride + 1))
    }
}

/// 2-D convolution (cross-correlation, as `torch.nn.functional.conv2d`) of `x` `[N, Cin, H, W]` with
/// `w` `[Cout, Cin, KH, KW]` and an optional bias `[Cout]`.
pub fn conv2d(x: &Tensor, w: &Tensor, bias: Option<&Tensor>, spec: Conv2dSpec) -> Result<Tensor> {
    same_device(x, w)?;
    let (xs, ws) = (x.shape(), w.shape());
    if xs.len() != 4 || ws.len() != 4 || xs[1] != ws[1] {
        return Err(Error::Shape(format!("conv2d of input {xs:?} with weight {ws:?}")));
    }
    if let Some(b) = bias
        && b.numel() != ws[0]
    {
        return Err(Error::Shape(format!(
            "conv2d bias {:?} for {} output channels",
            b.shape(),
            ws[0]
        )));
    }
    let (ho, wo) = spec.out_size(xs[2], xs[3], ws[2], ws[3])?;
    let out = Tensor::empty(x.gpu(), &[xs[0], ws[0], ho, wo])?;
    let ncols = u32_of(xs[0] * ho * wo, "conv2d output pixels")?;
    let params = [
        xs[0] as u32,
        xs[1] as u32,
        xs[2] as u32,
        xs[3] as u32,
        ws[0] as u32,
        ho as u32,
        wo as u32,
        ws[2] as u32,
        ws[3] as u32,
        spec.stride as u32,
        spec.pad[0] as u32,
        spec.pad[2] as u32,
        bias.is_some() as u32,
        0,
        0,
        0,
    ];
    // Output tile (channels x pixels) of one workgroup; CPU adapters get the wide 16x16 blocks per
    // thread (see `matmul`).
    let gpu = x.gpu();
    let cpu = gpu.adapter_info().device_type == wgpu::DeviceType::Cpu;
    // 512-wide tiles for few output rows where the device has the workgroup memory for them; the
    // 128-wide tiles otherwise, from the small-tile module (4 KiB of staging instead of 16 KiB). Each
    // output's sum runs over k in the same order in every variant, so results agree bit for bit.
    let wide = gpu.wide_tiles();
    let (entry, bm, bn) = if ws[0] <= 16 && wide {
        ("conv2d_t2x64", 16, 512)
    } else if ws[0] <= 32 && wide {
        ("conv2d_t4x64", 32, 512)
    } else if cpu {
        ("conv2d_t8x8w", 128, 128)
    } else {
        ("conv2d_t16x16", 128, 128)
    };
    let file = if bn == 512 {
        "conv2d.wgsl"
    } else {
        "conv2d.wgsl#small"
    };
    let b = bias.unwrap_or(w);
    x.gpu().dispatch(
        &KernelId::new(file, entry),
        &params,
        &[
            x.bind(Access::Read),
            w.bind(Access::Read),
            b.bind(Access::Read),
            out.bind(Access::ReadWrite),
        ],
        [ncols.div_ceil(bn), (ws[0] as u32).div_ceil(bm), 1],
    )?;
    let out = match bias {
        Some(b) => record(out, &[x, w, b], Op::Conv2d(spec)),
        None => record(out, &[x, w], Op::Conv2d(spec)),
    };
    Ok(out)
}
