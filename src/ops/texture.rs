//! Textures in and out of tensors on the device, for host applications that keep images in
//! textures: the formats of [`TEXTURE_FORMATS`] (`rgba8unorm`, `rgba8unorm-srgb`, `bgra8unorm`,
//! `bgra8unorm-srgb`, `rgba16float`, `r32float`), 1 or 3 channels, texel values [0, 1] ↔ the model's
//! [-1, 1]. The whole texture, or a [`TextureRegion`] of it (an atlas rectangle, one layer of a 2-D
//! array texture), is copied to or from a pooled staging buffer by the command encoder and converted
//! by one kernel: nothing passes through the CPU, and no optional device feature is needed (the
//! texture is never bound as a storage texture, so sRGB and BGRA formats work under
//! `wgpu::Limits::default()`).
//!
//! sRGB formats: by default the tensor holds the stored, sRGB-encoded values — what a PNG holds and
//! what the models restore — so a PNG uploaded byte for byte round-trips exactly and a renderer's
//! sRGB render target is read as it would be saved. With [`TextureOptions::linear`] the tensor holds
//! linear-light values instead: the kernel decodes with the sRGB transfer function on read and
//! encodes on write (IEC 61966-2-1, the same function the sampler and the render target apply).

use crate::error::{Error, Result};
use crate::gpu::params::TextureParams;
use crate::gpu::{Access, Gpu, KernelId, grid1d};
use crate::ops::u32_of;
use crate::tensor::Tensor;
use wgpu::TextureFormat as F;

/// The texture formats that convert to and from tensors.
pub const TEXTURE_FORMATS: &[wgpu::TextureFormat] = &[
    F::Rgba8Unorm,
    F::Rgba8UnormSrgb,
    F::Bgra8Unorm,
    F::Bgra8UnormSrgb,
    F::Rgba16Float,
    F::R32Float,
];

/// A rectangle of one array layer of a 2-D texture (mip 0): `origin` and `size` in texels as
/// `[x, y]` and `[width, height]`; `layer` is 0 for a plain 2-D texture.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TextureRegion {
    /// Top-left texel `[x, y]`.
    pub origin: [u32; 2],
    /// `[width, height]` in texels.
    pub size: [u32; 2],
    /// Array layer (`0..depth_or_array_layers`).
    pub layer: u32,
}

impl TextureRegion {
    /// All of layer 0 of `texture`.
    pub fn whole(texture: &wgpu::Texture) -> Self {
        Self::layer(texture, 0)
    }

    /// All of array layer `layer` of `texture`.
    pub fn layer(texture: &wgpu::Texture, layer: u32) -> Self {
        TextureRegion {
            origin: [0, 0],
            size: [texture.width(), texture.height()],
            layer,
        }
    }
}

/// How a texture converts: which part of it, and what an sRGB texture's tensor holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TextureOptions {
    /// The part of the texture read or written; `None` is all of layer 0.
    pub region: Option<TextureRegion>,
    /// For the sRGB formats only: the tensor holds linear-light values (`x = 2·lin − 1`), decoded
    /// from the stored bytes on read and encoded into them on write. `false` (the default): the
    /// tensor holds the stored sRGB-encoded values (`x = 2·p/255 − 1`, as a PNG's). Setting it for a
    /// format that is not sRGB is an error.
    pub linear: bool,
}

/// A checked conversion: the copy geometry and the kernel's parameters (all but the image offset).
struct Plan {
    origin: wgpu::Origin3d,
    size: wgpu::Extent3d,
    row_bytes: u32,
    params: TextureParams,
}

/// Bytes per texel, the kernel's format code, BGRA order, sRGB.
fn format_of(f: wgpu::TextureFormat) -> Result<(u32, u32, bool, bool)> {
    Ok(match f {
        F::Rgba8Unorm => (4, 0, false, false),
        F::Rgba8UnormSrgb => (4, 0, false, true),
        F::Bgra8Unorm => (4, 0, true, false),
        F::Bgra8UnormSrgb => (4, 0, true, true),
        F::Rgba16Float => (8, 1, false, false),
        F::R32Float => (4, 2, false, false),
        f => {
            return Err(Error::Input(format!(
                "texture format {f:?} is not supported; use rgba8unorm, rgba8unorm-srgb, \
                 bgra8unorm, bgra8unorm-srgb, rgba16float or r32float"
            )));
        }
    })
}

/// Every check of a conversion, before any GPU work.
fn plan(
    t: &wgpu::Texture,
    channels: usize,
    usage: wgpu::TextureUsages,
    opts: &TextureOptions,
) -> Result<Plan> {
    let (texel, fmt, swap, srgb) = format_of(t.format())?;
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
    if opts.linear && !srgb {
        return Err(Error::Input(format!(
            "linear values are for sRGB textures; a {:?} texture stores its values as they are",
            t.format()
        )));
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
    let r = opts.region.unwrap_or_else(|| TextureRegion::whole(t));
    let layers = t.depth_or_array_layers();
    if r.layer >= layers {
        return Err(Error::Input(format!(
            "layer {} of a texture with {layers} array layer(s)",
            r.layer
        )));
    }
    let [x, y] = r.origin;
    let [w, h] = r.size;
    if w == 0 || h == 0 {
        return Err(Error::Input(format!("an empty texture region ({w}x{h})")));
    }
    let fits = |o: u32, s: u32, n: u32| o.checked_add(s).is_some_and(|e| e <= n);
    if !fits(x, w, t.width()) || !fits(y, h, t.height()) {
        return Err(Error::Input(format!(
            "the region {w}x{h} at ({x}, {y}) is outside the {}x{} texture",
            t.width(),
            t.height()
        )));
    }
    let row_bytes = (w * texel).next_multiple_of(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT);
    Ok(Plan {
        origin: wgpu::Origin3d { x, y, z: r.layer },
        size: wgpu::Extent3d {
            width: w,
            height: h,
            depth_or_array_layers: 1,
        },
        row_bytes,
        params: TextureParams {
            w,
            h,
            row_words: row_bytes / 4,
            fmt,
            channels: channels as u32,
            swap: swap as u32,
            linear: opts.linear as u32,
            ..Default::default()
        },
    })
}

/// A 2-D texture as a tensor `[1, channels, H, W]` in [-1, 1] (`x = 2v − 1`; one channel reads red).
/// All of layer 0; [`texture_to_tensor_with`] reads a region or another layer.
/// The texture needs `COPY_SRC` usage; the host's writes to it submitted before this call are seen.
pub fn texture_to_tensor(gpu: &Gpu, texture: &wgpu::Texture, channels: usize) -> Result<Tensor> {
    texture_to_tensor_with(gpu, texture, channels, &TextureOptions::default())
}

/// A region of a 2-D texture (`opts.region`, all of layer 0 when `None`) as a tensor
/// `[1, channels, height, width]` in [-1, 1] (`x = 2v − 1`; one channel reads red; BGRA textures
/// give RGB order; sRGB textures give the encoded values unless `opts.linear`). The texture needs
/// `COPY_SRC` usage; the host's writes to it submitted before this call are seen. Every error
/// (format, usage, channels, region, layer) is found before any GPU work.
pub fn texture_to_tensor_with(
    gpu: &Gpu,
    texture: &wgpu::Texture,
    channels: usize,
    opts: &TextureOptions,
) -> Result<Tensor> {
    let p = plan(texture, channels, wgpu::TextureUsages::COPY_SRC, opts)?;
    let (w, h) = (p.size.width as usize, p.size.height as usize);
    let staging = Tensor::empty(gpu, &[(p.row_bytes as usize / 4) * h])?;
    gpu.copy_texture(texture, staging.buffer(), p.row_bytes, p.origin, p.size, true);
    let out = Tensor::empty(gpu, &[1, channels, h, w])?;
    gpu.dispatch(
        &KernelId::new("texture.wgsl", "unpack_texels"),
        &p.params,
        &[staging.bind(Access::Read), out.bind(Access::ReadWrite)],
        grid1d(w * h, 256),
    )?;
    Ok(out)
}

/// Writes image `index` of `x` `[B, C, H, W]` (C = 1 or 3, values in [-1, 1]) into a 2-D texture of
/// the same size, layer 0 (`v = (x + 1) / 2`, clamped and rounded to 8 bits for the 8-bit formats;
/// one channel goes to red, green and blue; alpha 1). [`tensor_to_texture_with`] writes a region or
/// another layer. The texture needs `COPY_DST` usage; call [`Gpu::flush`] before the host submits
/// work that reads it.
pub fn tensor_to_texture(x: &Tensor, index: usize, texture: &wgpu::Texture) -> Result<()> {
    tensor_to_texture_with(x, index, texture, &TextureOptions::default())
}

/// Writes image `index` of `x` `[B, C, H, W]` (C = 1 or 3, values in [-1, 1]) into a region of a 2-D
/// texture (`opts.region`, all of layer 0 when `None`; its size must be `W x H`); texels outside it
/// are untouched. `v = (x + 1) / 2`, clamped and rounded to 8 bits for the 8-bit formats; one channel
/// goes to red, green and blue; alpha 1; BGRA textures get their byte order; sRGB textures store the
/// values as they are unless `opts.linear` (then they are encoded). The texture needs `COPY_DST`
/// usage; call [`Gpu::flush`] before the host submits work that reads it. Every error is found
/// before any GPU work.
pub fn tensor_to_texture_with(
    x: &Tensor,
    index: usize,
    texture: &wgpu::Texture,
    opts: &TextureOptions,
) -> Result<()> {
    let s = x.shape();
    if s.len() != 4 || index >= s[0] {
        return Err(Error::Shape(format!(
            "tensor_to_texture: image {index} of a tensor of shape {s:?} (expects [B, C, H, W])"
        )));
    }
    let mut p = plan(texture, s[1], wgpu::TextureUsages::COPY_DST, opts)?;
    let (w, h) = (p.size.width as usize, p.size.height as usize);
    if (s[2], s[3]) != (h, w) {
        let what = if opts.region.is_some() {
            "region"
        } else {
            "texture"
        };
        return Err(Error::Shape(format!(
            "a {}x{} image does not fit a {w}x{h} {what}",
            s[3], s[2]
        )));
    }
    p.params.offset = u32_of(index * s[1] * s[2] * s[3], "image offset")?;
    let gpu = x.gpu();
    let staging = Tensor::empty(gpu, &[(p.row_bytes as usize / 4) * h])?;
    gpu.dispatch(
        &KernelId::new("texture.wgsl", "pack_texels"),
        &p.params,
        &[x.bind(Access::Read), staging.bind(Access::ReadWrite)],
        grid1d(w * h, 256),
    )?;
    gpu.copy_texture(texture, staging.buffer(), p.row_bytes, p.origin, p.size, false);
    Ok(())
}
