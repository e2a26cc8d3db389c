//! Textures in and out of tensors on the device, for host applications that keep images in
//! textures: `rgba8unorm`, `rgba16float` and `r32float`, 1 or 3 channels, texel values [0, 1] ↔ the
//! model's [-1, 1]. The texture is copied whole (mip 0, layer 0) to or from a pooled staging buffer by
//! the command encoder and converted by one kernel: nothing passes through the CPU.

use crate::error::{Error, Result};
use crate::gpu::params::TextureParams;
use crate::gpu::{Access, Gpu, KernelId, grid1d};
use crate::ops::u32_of;
use crate::tensor::Tensor;

/// Bytes per texel and the kernel's format code.
fn format_of(t: &wgpu::Texture) -> Result<(u32, u32)> {
    match t.format() {
        wgpu::TextureFormat::Rgba8Unorm => Ok((4, 0)),
        wgpu::TextureFormat::Rgba16Float => Ok((8, 1)),
        wgpu::TextureFormat::R32Float => Ok((4, 2)),
        f => Err(Error::Input(format!(
            "texture format {f:?} is not supported; use rgba8unorm, rgba16float or r32float"
        ))),
    }
}

fn check(t: &wgpu::Texture, channels: usize, usage: wgpu::TextureUsages) -> Result<(u32, u32, u32)> {
    let (texel, fmt) = format_of(t)?;
    if channels != 1 && channels != 3 {
        return Err(Error::Input(format!(
            "{channels} channels: textures convert to 1- or 3-channel images"
        )));
    }
    if fmt == 2 && channels == 3 {
        return Err(Error::Input(
            "an r32float texture holds one channel, not 3".into(),
        ));
    }
    if !t.usage().contains(usage) {
        return Err(Error::Input(format!(
            "the texture needs {usage:?} usage for this (it has {:?})",
            t.usage()
        )));
    }
    if t.dimension() != wgpu::TextureDimension::D2 || t.sample_count() != 1 {
        return Err(Error::Input(
            "only single-sampled 2-D textures convert to tensors".into(),
        ));
    }
    let row_bytes = (t.width() * texel).next_multiple_of(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT);
    Ok((texel, fmt, row_bytes))
}

fn params(
    t: &wgpu::Texture,
    row_bytes: u32,
    fmt: u32,
    channels: usize,
    offset: usize,
) -> Result<TextureParams> {
    Ok(TextureParams {
        w: t.width(),
        h: t.height(),
        row_words: row_bytes / 4,
        fmt,
        channels: channels as u32,
        offset: u32_of(offset, "image offset")?,
        ..Default::default()
    })
}

/// A 2-D texture as a tensor `[1, channels, H, W]` in [-1, 1] (`x = 2v − 1`; one channel reads red).
/// The texture needs `COPY_SRC` usage; the host's writes to it submitted before this call are seen.
pub fn texture_to_tensor(gpu: &Gpu, texture: &wgpu::Texture, channels: usize) -> Result<Tensor> {
    let (_, fmt, row_bytes) = check(texture, channels, wgpu::TextureUsages::COPY_SRC)?;
    let (w, h) = (texture.width() as usize, texture.height() as usize);
    let staging = Tensor::empty(gpu, &[(row_bytes as usize / 4) * h])?;
    gpu.copy_texture(texture, staging.buffer(), row_bytes, true);
    let out = Tensor::empty(gpu, &[1, channels, h, w])?;
    gpu.dispatch(
        &KernelId::new("texture.wgsl", "unpack_texels"),
        &params(texture, row_bytes, fmt, channels, 0)?,
        &[staging.bind(Access::Read), out.bind(Access::ReadWrite)],
        grid1d(w * h, 256),
    )?;
    Ok(out)
}

/// Writes image `index` of `x` `[B, C, H, W]` (C = 1 or 3, values in [-1, 1]) into a 2-D texture of
/// the same size (`v = (x + 1) / 2`, clamped and rounded to 8 bits for `rgba8unorm`; one channel
/// goes to red, green and blue; alpha 1). The texture needs `COPY_DST` usage; call [`Gpu::flush`]
/// before the host submits work that reads it.
pub fn tensor_to_texture(x: &Tensor, index: usize, texture: &wgpu::Texture) -> Result<()> {
    let s = x.shape();
    if s.len() != 4 || index >= s[0] {
        return Err(Error::Shape(format!(
            "tensor_to_texture: image {index} of a tensor of shape {s:?} (expects [B, C, H, W])"
        )));
    }
    let (_, fmt, row_bytes) = check(texture, s[1], wgpu::TextureUsages::COPY_DST)?;
    if (s[2], s[3]) != (texture.height() as usize, texture.width() as usize) {
        return Err(Error::Shape(format!(
            "a {}x{} image does not fit a {}x{} texture",
            s[3],
            s[2],
            texture.width(),
            texture.height()
        )));
    }
    let gpu = x.gpu();
    let staging = Tensor::empty(gpu, &[(row_bytes as usize / 4) * s[2]])?;
    gpu.dispatch(
        &KernelId::new("texture.wgsl", "pack_texels"),
        &params(texture, row_bytes, fmt, s[1], index * s[1] * s[2] * s[3])?,
        &[x.bind(Access::Read), staging.bind(Access::ReadWrite)],
        grid1d(s[2] * s[3], 256),
    )?;
    gpu.copy_texture(texture, staging.buffer(), row_bytes, false);
    Ok(())
}
