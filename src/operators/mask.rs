//! Inpainting: `y = m ⊙ x` with a 0/1 mask shared by the channels.

use super::svd::{Diagonal, Svd};
use super::{Caps, Described, Kind, Linear, Operator, Picture, Resolved, TaskEntry, View};
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::ops;
use crate::tensor::Tensor;

/// `inpaint-box`: a box of missing pixels.
pub(super) const INPAINT_BOX: TaskEntry = TaskEntry {
    name: "inpaint-box",
    about: "`x, y, w, h`: a centred box of half the size (16×16; 128×128)",
    keys: &["x", "y", "w", "h"],
    caps: Caps::spectral(Kind::Inpainting { region: true }),
    rgb_only: false,
    picture: Picture::Exact,
    resolve: |spec, [_, h, w]| {
        let bw = spec.usize("w", w / 2, 1)?;
        let bh = spec.usize("h", h / 2, 1)?;
        let bx = spec.usize("x", (w - bw.min(w)) / 2, 0)?;
        let by = spec.usize("y", (h - bh.min(h)) / 2, 0)?;
        if bx.checked_add(bw).is_none_or(|e| e > w) || by.checked_add(bh).is_none_or(|e| e > h) {
            return Err(Error::Input(format!(
                "inpaint-box x={bx},y={by},w={bw},h={bh} does not fit a {w}x{h} image: the box must lie inside it"
            )));
        }
        let mut m = vec![1f32; h * w];
        for yy in by..by + bh {
            m[yy * w + bx..yy * w + bx + bw].fill(0.0);
        }
        Ok(masked(&[("x", &bx), ("y", &by), ("w", &bw), ("h", &bh)], m))
    },
};

/// `inpaint-random`: pixels missing at random.
pub(super) const INPAINT_RANDOM: TaskEntry = TaskEntry {
    name: "inpaint-random",
    about: "`p` = fraction of pixels missing, 0.7; `seed` 0",
    keys: &["p", "seed"],
    caps: Caps::spectral(Kind::Inpainting { region: false }),
    rgb_only: false,
    picture: Picture::Exact,
    resolve: |spec, [_, h, w]| {
        let p = spec.f64(
            "p",
            0.7,
            |p| (0.0..1.0).contains(&p),
            "in [0, 1) (the missing fraction)",
        )?;
        let seed = spec.u64("seed", 0)?;
        let m: Vec<f32> = (0..h * w)
            .map(|i| {
                let r = crate::ops::random::philox4x32_10(
                    [i as u32, 0, 7, 0],
                    [seed as u32, (seed >> 32) as u32],
                );
                if (r[0] as f64 / 4294967296.0) < p {
                    0.0
                } else {
                    1.0
                }
            })
            .collect();
        Ok(masked(&[("p", &p), ("seed", &seed)], m))
    },
};

/// `inpaint-mask`: a user's black-and-white mask file.
pub(super) const INPAINT_MASK: TaskEntry = TaskEntry {
    name: "inpaint-mask",
    about: "`path` = a PNG of the image's size, white = observed",
    keys: &["path"],
    caps: Caps::spectral(Kind::Inpainting { region: false }),
    rgb_only: false,
    picture: Picture::Exact,
    resolve: |spec, [_, h, w]| {
        let path = spec
            .get("path")
            .ok_or_else(|| Error::Input("inpaint-mask needs path=mask.png".into()))?;
        let img = crate::io::read_image(std::path::Path::new(path))?;
        if img.height != h || img.width != w {
            return Err(Error::Input(format!(
                "mask {path} is {}x{} but the images are {w}x{h}",
                img.width, img.height
            )));
        }
        // gray pixels (an anti-aliased edge, a soft brush) are thresholded at mid-gray; the
        // caller is told how many through Plan::note
        let gray = (0..h * w)
            .filter(|&i| (0..img.channels).any(|c| img.data[c * h * w + i].abs() < 1.0 - 1e-3))
            .count();
        let m: Vec<f32> = (0..h * w)
            .map(|i| if img.data[i] > 0.0 { 1.0 } else { 0.0 })
            .collect();
        let note = (gray > 0).then(|| {
            format!(
                "inpaint-mask:path={path}: {gray} of the mask's {} pixels are neither black nor white; those \
                 brighter than mid-gray count as observed (white), the others as missing — give a \
                 black-and-white mask to choose each pixel yourself",
                m.len()
            )
        });
        Ok(masked(&[("path", &path)], m).note(note))
    },
};

/// The plan of an inpainting task with the pixel mask `m` (1 = observed, H×W): two such plans
/// build the same operator when their masks agree.
fn masked(values: &[(&'static str, &dyn std::fmt::Display)], m: Vec<f32>) -> Resolved {
    let mask = m.clone();
    Resolved::new(values, move |gpu, x_shape, task| {
        Ok(Box::new(Inpaint::new(gpu, x_shape, &mask, task)?))
    })
    .content(m)
}

/// Inpainting with a fixed mask (1 = observed). `A` is a projector, so `Aᵀ = A⁺ = A`.
pub struct Inpaint {
    x_shape: [usize; 3],
    mask: Tensor,
    host: Vec<f32>,
    task: Described,
    svd: Diagonal,
}

impl Inpaint {
    /// `pixel_mask` is `H * W` values, 1 where the pixel is observed.
    pub fn new(gpu: &Gpu, x_shape: [usize; 3], pixel_mask: &[f32], task: Described) -> Result<Self> {
        let [c, _, _] = x_shape;
        let host: Vec<f32> = (0..c).flat_map(|_| pixel_mask.iter().copied()).collect();
        Ok(Inpaint {
            x_shape,
            mask: Tensor::from_slice(gpu, &[host.len()], &host)?,
            svd: Diagonal::new(gpu, &host)?,
            host,
            task,
        })
    }
}

impl Operator for Inpaint {
    described!();
    fn x_shape(&self) -> [usize; 3] {
        self.x_shape
    }
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        ops::mul_bcast(x, &self.mask)
    }
    fn linear(&self) -> Option<&dyn Linear> {
        Some(self)
    }
}

impl View for Inpaint {
    fn observation_image(&self, y: &Tensor) -> Result<Option<Tensor>> {
        // missing pixels black (-1): y·m + (m − 1), exact for a 0/1 mask, on the device (a web
        // page cannot wait for a readback)
        let offset: Vec<f32> = (0..y.numel())
            .map(|i| {
                if self.host[i % self.host.len()] > 0.5 {
                    0.0
                } else {
                    -1.0
                }
            })
            .collect();
        let offset = Tensor::from_slice(y.gpu(), y.shape(), &offset)?;
        Ok(Some(ops::add(&ops::mul_bcast(y, &self.mask)?, &offset)?))
    }
    fn measurement_from_image(&self, img: &Tensor) -> Result<Tensor> {
        self.forward(img)
    }
}

impl Linear for Inpaint {
    fn adjoint(&self, y: &Tensor) -> Result<Tensor> {
        ops::mul_bcast(y, &self.mask)
    }
    fn pinv(&self, y: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(ops::mul_bcast(y, &self.mask)?))
    }
    fn svd(&self) -> Result<Option<&dyn Svd>> {
        Ok(Some(&self.svd))
    }
}
