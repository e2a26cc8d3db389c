//! Files in and out: safetensors tensors (f32, f16, bf16 read; f32 written).

use crate::error::{Error, Result, io_err};
use safetensors::{Dtype, SafeTensors};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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

/// Largest integer magnitude read into f32 exactly (2^24).
pub const MAX_EXACT_INTEGER: i64 = 1 << 24;

/// The one policy for integer tensors, in `.safetensors` and `.pt` alike: read as f32 when the value
/// is exact there (|v| <= 2^24), else refused with the tensor named, never rounded silently.
pub(crate) fn exact_integer(v: i64, name: &str) -> std::result::Result<f32, String> {
    if v.unsigned_abs() > MAX_EXACT_INTEGER as u64 {
        return Err(format!(
            "integer tensor {name} holds {v}, which f32 cannot hold exactly (tweedie reads integer \
             tensors whose values are at most 2^24 in magnitude); drop the tensor from the file or \
             store it as a float"
        ));
    }
    Ok(v as f32)
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
            Dtype::I64 | Dtype::I32 | Dtype::I16 | Dtype::I8 | Dtype::U8 | Dtype::BOOL => {
                let size = view.dtype().bitsize() / 8;
                raw.chunks_exact(size)
                    .map(|c| {
                        let v = match view.dtype() {
                            Dtype::I64 => i64::from_le_bytes(c.try_into().unwrap()),
                            Dtype::I32 => i32::from_le_bytes(c.try_into().unwrap()) as i64,
                            Dtype::I16 => i16::from_le_bytes(c.try_into().unwrap()) as i64,
                            Dtype::I8 => c[0] as i8 as i64,
                            _ => c[0] as i64,
                        };
                        exact_integer(v, &name).map_err(Error::Model)
                    })
                    .collect::<Result<_>>()?
            }
            other => {
                return Err(Error::Model(format!(
                    "tensor {name} is stored as {other:?}; tweedie reads f32, f16, bf16, f64 and \
                     integers exact in f32"
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
    write_safetensors_with(path, tensors, &Metadata::new())
}

/// [`write_safetensors`] with `meta` in the header's `__metadata__` (none when empty).
pub fn write_safetensors_with(
    path: &Path,
    tensors: &[(&str, &[usize], &[f32])],
    meta: &Metadata,
) -> Result<()> {
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = tensors
        .iter()
        .map(|(name, shape, data)| {
            let v =
                safetensors::tensor::TensorView::new(Dtype::F32, shape.to_vec(), bytemuck::cast_slice(data))
                    .map_err(|e| Error::Shape(format!("tensor {name}: {e}")))?;
            Ok((name.to_string(), v))
        })
        .collect::<Result<_>>()?;
    let info = (!meta.is_empty()).then(|| meta.clone().into_iter().collect());
    safetensors::serialize_to_file(views, info, path)
        .map_err(|e| Error::Io(format!("cannot write {}: {e}", path.display())))
}

/// An image in the engine's convention: `[C, H, W]` values in [-1, 1] (PNG 0..255 maps to -1..1).
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    /// Channels: 1 (grayscale) or 3 (RGB).
    pub channels: usize,
    /// Height in pixels.
    pub height: usize,
    /// Width in pixels.
    pub width: usize,
    /// Values in [-1, 1], channel-major.
    pub data: Vec<f32>,
}

impl Image {
    /// The shape `[C, H, W]`.
    pub fn shape(&self) -> [usize; 3] {
        [self.channels, self.height, self.width]
    }
}

/// Reads a PNG (or any format the `image` crate was built with): grayscale images give one channel,
/// everything else three (alpha is dropped).
pub fn read_image(path: &Path) -> Result<Image> {
    let name = path.display().to_string();
    let open =
        || image::ImageReader::open(path).map_err(|e| Error::Input(format!("cannot read image {name}: {e}")));
    decode_with(&name, open)
}

/// [`read_image`] on a file's bytes in memory (a web page's upload or fetch); `name` is what errors
/// call it.
pub fn decode_image(bytes: &[u8], name: &str) -> Result<Image> {
    let open = || Ok(image::ImageReader::new(std::io::Cursor::new(bytes)));
    decode_with(name, open)
}

/// Checks the size from the header first (a huge picture gets its size and the limit, not the
/// decoder's "Memory limit exceeded"), then decodes.
fn decode_with<R: std::io::BufRead + std::io::Seek>(
    name: &str,
    open: impl Fn() -> Result<image::ImageReader<R>>,
) -> Result<Image> {
    let cannot = |e: &dyn std::fmt::Display| Error::Input(format!("cannot read image {name}: {e}"));
    let (w, h) = open()?
        .with_guessed_format()
        .map_err(|e| cannot(&e))?
        .into_dimensions()
        .map_err(|e| cannot(&e))?;
    if w as u64 * h as u64 > MAX_IMAGE_PIXELS {
        return Err(Error::Input(format!(
            "image {name} is {w}x{h} ({:.0} megapixels); tweedie reads images of at most {} megapixels \
             (a diffusion prior works at its own training size, 256x256 for the common ones): \
             downscale or crop it first",
            w as f64 * h as f64 / 1e6,
            MAX_IMAGE_PIXELS / 1_000_000
        )));
    }
    let img = open()?
        .with_guessed_format()
        .map_err(|e| cannot(&e))?
        .decode()
        .map_err(|e| cannot(&e))?;
    let gray = matches!(
        img.color(),
        image::ColorType::L8 | image::ColorType::L16 | image::ColorType::La8 | image::ColorType::La16
    );
    let (w, h) = (img.width() as usize, img.height() as usize);
    let (channels, raw) = if gray {
        (1, img.to_luma8().into_raw())
    } else {
        (3, img.to_rgb8().into_raw())
    };
    let mut data = vec![0f32; channels * h * w];
    for (i, &v) in raw.iter().enumerate() {
        let (p, c) = (i / channels, i % channels);
        data[c * h * w + p] = v as f32 / 127.5 - 1.0;
    }
    Ok(Image {
        channels,
        height: h,
        width: w,
        data,
    })
}

fn to_u8(v: f32) -> u8 {
    ((v.clamp(-1.0, 1.0) + 1.0) * 127.5).round() as u8
}

/// Text metadata a file carries: key → value (PNG text chunks, the safetensors header's
/// `__metadata__`).
pub type Metadata = BTreeMap<String, String>;

/// Writes a `[C, H, W]` image in [-1, 1] (C = 1 or 3) as PNG carrying `meta` as UTF-8 text chunks
/// (iTXt, before the image data, so [`read_metadata`] finds them without decoding the pixels).
pub fn write_image_with(path: &Path, img: &Image, meta: &Metadata) -> Result<()> {
    let color = match img.channels {
        1 => png::ColorType::Grayscale,
        3 => png::ColorType::Rgb,
        c => {
            return Err(Error::Input(format!(
                "cannot write a {c}-channel image; 1 or 3 channels"
            )));
        }
    };
    let hw = img.height * img.width;
    let mut raw = vec![0u8; img.channels * hw];
    for (i, v) in raw.iter_mut().enumerate() {
        let (p, c) = (i / img.channels, i % img.channels);
        *v = to_u8(img.data[c * hw + p]);
    }
    let fail = |e: &dyn std::fmt::Display| Error::Io(format!("cannot write {}: {e}", path.display()));
    let file = std::fs::File::create(path).map_err(|e| io_err(path, e))?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), img.width as u32, img.height as u32);
    enc.set_color(color);
    enc.set_depth(png::BitDepth::Eight);
    for (k, v) in meta {
        enc.add_itxt_chunk(k.clone(), v.clone()).map_err(|e| fail(&e))?;
    }
    let mut w = enc.write_header().map_err(|e| fail(&e))?;
    w.write_image_data(&raw).map_err(|e| fail(&e))?;
    w.finish().map_err(|e| fail(&e))
}

/// The text metadata of a PNG (its tEXt, zTXt and iTXt chunks before the image data) or of a
/// safetensors file (its header's `__metadata__`); empty for files that carry none.
pub fn read_metadata(path: &Path) -> Result<Metadata> {
    let mut out = Metadata::new();
    if path.extension().is_some_and(|e| e == "safetensors") {
        let bytes = std::fs::read(path).map_err(|e| io_err(path, e))?;
        let (_, m) = SafeTensors::read_metadata(&bytes).map_err(|e| {
            Error::Input(format!(
                "{}: not a valid safetensors file ({e}); is it truncated or another format?",
                path.display()
            ))
        })?;
        out.extend(m.metadata().clone().unwrap_or_default());
        return Ok(out);
    }
    let file = std::fs::File::open(path).map_err(|e| io_err(path, e))?;
    let mut dec = png::Decoder::new(std::io::BufReader::new(file));
    dec.set_ignore_text_chunk(false);
    // not a PNG (or not one png can read): no metadata; reading the picture says what is wrong
    let Ok(reader) = dec.read_info() else {
        return Ok(out);
    };
    let info = reader.info();
    for c in &info.uncompressed_latin1_text {
        out.insert(c.keyword.clone(), c.text.clone());
    }
    for c in &info.compressed_latin1_text {
        if let Ok(t) = c.get_text() {
            out.insert(c.keyword.clone(), t);
        }
    }
    for c in &info.utf8_text {
        if let Ok(t) = c.get_text() {
            out.insert(c.keyword.clone(), t);
        }
    }
    Ok(out)
}

/// Writes a `[C, H, W]` image in [-1, 1] (C = 1 or 3) as PNG, enlarged `scale` times (nearest).
pub fn write_image(path: &Path, img: &Image, scale: usize) -> Result<()> {
    let s = scale.max(1);
    let (h, w) = (img.height * s, img.width * s);
    let hw = img.height * img.width;
    let px = |c: usize, y: usize, x: usize| to_u8(img.data[c * hw + (y / s) * img.width + x / s]);
    let res = match img.channels {
        1 => image::GrayImage::from_fn(w as u32, h as u32, |x, y| {
            image::Luma([px(0, y as usize, x as usize)])
        })
        .save(path),
        3 => image::RgbImage::from_fn(w as u32, h as u32, |x, y| {
            image::Rgb([0, 1, 2].map(|c| px(c, y as usize, x as usize)))
        })
        .save(path),
        c => {
            return Err(Error::Input(format!(
                "cannot write a {c}-channel image; 1 or 3 channels"
            )));
        }
    };
    res.map_err(|e| Error::Io(format!("cannot write {}: {e}", path.display())))
}

/// Tiles images of one shape into a grid of `cols` columns with a 1-pixel light border, enlarged
/// `scale` times.
pub fn grid(images: &[Image], cols: usize) -> Result<Image> {
    let first = images
        .first()
        .ok_or_else(|| Error::Input("no images for the grid".into()))?;
    let [c, h, w] = first.shape();
    if images.iter().any(|i| i.shape() != [c, h, w]) {
        return Err(Error::Shape("grid images must share one shape".into()));
    }
    let cols = cols.clamp(1, images.len());
    let rows = images.len().div_ceil(cols);
    let (gh, gw) = (rows * (h + 1) + 1, cols * (w + 1) + 1);
    let mut data = vec![0.6f32; c * gh * gw];
    for (k, img) in images.iter().enumerate() {
        let (oy, ox) = (1 + (k / cols) * (h + 1), 1 + (k % cols) * (w + 1));
        for ch in 0..c {
            for y in 0..h {
                for x in 0..w {
                    data[ch * gh * gw + (oy + y) * gw + ox + x] = img.data[ch * h * w + y * w + x];
                }
            }
        }
    }
    Ok(Image {
        channels: c,
        height: gh,
        width: gw,
        data,
    })
}

/// Splits a batch `[B, C, H, W]` into images.
pub fn batch_to_images(data: &[f32], shape: &[usize]) -> Vec<Image> {
    let (c, h, w) = (shape[1], shape[2], shape[3]);
    data.chunks(c * h * w)
        .map(|d| Image {
            channels: c,
            height: h,
            width: w,
            data: d.to_vec(),
        })
        .collect()
}

/// The largest picture [`read_image`] decodes, in pixels (64 megapixels: 768 MiB as f32 RGB).
pub const MAX_IMAGE_PIXELS: u64 = 64_000_000;

/// What an output path will hold, for [`check_output`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// A PNG picture.
    Png,
    /// A safetensors file.
    Safetensors,
    /// A folder (created if missing).
    Folder,
}

/// Checks before any work that `path` can be written as `kind`: the extension, that the folder it
/// goes in exists and takes new files, and that it is not a folder (or, for [`Output::Folder`], that
/// it is or can become one). `what` names the option in messages (e.g. `--out`). Leaves nothing
/// behind but a folder it was asked to create.
pub fn check_output(path: &Path, kind: Output, what: &str) -> Result<()> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let probe_dir = |dir: &Path| -> Result<()> {
        let probe = dir.join(format!(".tweedie-write-test-{}", std::process::id()));
        std::fs::File::create(&probe).map_err(|e| {
            Error::Io(format!(
                "{what} {}: cannot write in {}: {e}",
                path.display(),
                dir.display()
            ))
        })?;
        let _ = std::fs::remove_file(&probe);
        Ok(())
    };
    match kind {
        Output::Folder => {
            if path.is_file() {
                return Err(Error::Io(format!(
                    "{what} {} is a file; several outputs need a folder",
                    path.display()
                )));
            }
            std::fs::create_dir_all(path).map_err(|e| {
                Error::Io(format!(
                    "{what} {}: cannot create the folder: {e}",
                    path.display()
                ))
            })?;
            probe_dir(path)
        }
        Output::Png | Output::Safetensors => {
            if path.exists() && !path.is_file() && !path.is_dir() {
                // a device such as /dev/null: writable or not, the write says so
                return Ok(());
            }
            let want = if kind == Output::Png { "png" } else { "safetensors" };
            if path.is_dir() {
                return Err(Error::Io(format!(
                    "{what} {} is a folder; give a .{want} file name",
                    path.display()
                )));
            }
            if ext != want {
                return Err(Error::Input(format!(
                    "{what} {}: expected a .{want} file name",
                    path.display()
                )));
            }
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            if dir.exists() && !dir.is_dir() {
                return Err(Error::Io(format!(
                    "{what} {}: {} is a file, not a folder; give a path in a folder",
                    path.display(),
                    dir.display()
                )));
            }
            if !dir.is_dir() {
                return Err(Error::Io(format!(
                    "{what} {}: the folder {} does not exist; create it first",
                    path.display(),
                    dir.display()
                )));
            }
            if path.exists() {
                std::fs::OpenOptions::new()
                    .append(true)
                    .open(path)
                    .map(|_| ())
                    .map_err(|e| Error::Io(format!("{what} {} cannot be overwritten: {e}", path.display())))
            } else {
                probe_dir(dir)
            }
        }
    }
}

/// A path's identity for [`check_distinct`]: the canonical path of the file where it exists (through
/// symlinks, `./`, `..`), else the canonical folder joined with the file name.
fn canonical(path: &Path) -> PathBuf {
    if let Ok(c) = std::fs::canonicalize(path) {
        return c;
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    match (std::fs::canonicalize(dir), path.file_name()) {
        (Ok(d), Some(name)) => d.join(name),
        _ => path.to_path_buf(),
    }
}

/// Whether `a` and `b` name the same file: the same canonical path, or (on Unix, both existing) the
/// same device and inode, which also catches hard links.
pub fn same_file(a: &Path, b: &Path) -> bool {
    if canonical(a) == canonical(b) {
        return true;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return ma.is_file() && ma.dev() == mb.dev() && ma.ino() == mb.ino();
        }
    }
    false
}

/// Refuses, before any work, an output that would overwrite one of the inputs or another output:
/// `inputs` and `outputs` are `(option, path)` pairs (e.g. `("--observed", y.png)`), compared as
/// files ([`same_file`]), and the message names both options and the path.
pub fn check_distinct(inputs: &[(&str, &Path)], outputs: &[(&str, &Path)]) -> Result<()> {
    for (i, (what, out)) in outputs.iter().enumerate() {
        if let Some((flag, input)) = inputs.iter().find(|(_, p)| same_file(p, out)) {
            return Err(Error::Input(format!(
                "{what} {} is the same file as {flag} {}: writing it would destroy the input; give \
                 {what} another path",
                out.display(),
                input.display()
            )));
        }
        if let Some((flag, other)) = outputs[..i].iter().find(|(_, p)| same_file(p, out)) {
            return Err(Error::Input(format!(
                "{what} {} and {flag} {} are the same file: one would overwrite the other; give them \
                 different paths",
                out.display(),
                other.display()
            )));
        }
    }
    Ok(())
}

/// Refuses a file-like name (an image or tensor extension) where several outputs need a folder:
/// `--out multi.png` for a batch would otherwise become a folder named `multi.png`.
pub fn check_folder_name(path: &Path, what: &str, count: usize) -> Result<()> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    if ["png", "jpg", "jpeg", "safetensors", "pt", "csv", "json", "md"].contains(&ext.as_str())
        && !path.is_dir()
    {
        return Err(Error::Input(format!(
            "{what} {} names a .{ext} file, but {count} inputs make {count} outputs, which go in a \
             folder: give a folder name (it is created), or restore one observation at a time",
            path.display()
        )));
    }
    Ok(())
}

/// The SHA-256 of a file's bytes, or of a folder's regular files (recursively, by sorted relative
/// path, each name hashed with its bytes), as 64 hex digits: what ties an `eval` row to the model
/// and the image it was computed with.
pub fn content_hash(path: &Path) -> Result<String> {
    use sha2::{Digest, Sha256};
    fn files(dir: &Path, rel: &Path, out: &mut Vec<(PathBuf, PathBuf)>) -> Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| io_err(dir, e))?
            .filter_map(|e| e.ok())
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let p = e.path();
            let r = rel.join(e.file_name());
            if p.is_dir() {
                files(&p, &r, out)?;
            } else if p.is_file() {
                out.push((p, r));
            }
        }
        Ok(())
    }
    let mut h = Sha256::new();
    if path.is_dir() {
        let mut list = Vec::new();
        files(path, Path::new(""), &mut list)?;
        for (p, r) in list {
            let bytes = std::fs::read(&p).map_err(|e| io_err(&p, e))?;
            h.update(r.to_string_lossy().as_bytes());
            h.update([0u8]);
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(&bytes);
        }
    } else {
        h.update(std::fs::read(path).map_err(|e| io_err(path, e))?);
    }
    Ok(format!("{:x}", h.finalize()))
}
