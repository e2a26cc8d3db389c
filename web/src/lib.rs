//! tweedie in a browser tab: the wasm module behind `web/index.html`.
//!
//! The same crate as the command line, on the browser's WebGPU: [`Engine::open`] awaits the
//! adapter and device and builds the bundled prior from the files' bytes (the page fetches them);
//! [`Engine::start`] degrades a test image with a task and starts a solver run
//! ([`tweedie::solvers::RunOptions::background`]: a step records and submits its work and never
//! waits); the page calls [`Restoration::step`] and awaits [`Restoration::estimate`] after each step
//! (an asynchronous readback: the page returns to the browser's event loop while the GPU works, so
//! it stays responsive), and awaits [`Restoration::finish`] for the result, checked for NaN on the
//! device, with its PSNR and, for the particle solvers, the per-pixel posterior standard deviation.

use std::sync::Arc;
use tweedie::diffusion::Denoiser;
use tweedie::io::Image;
use tweedie::models::UNet2DModel;
use tweedie::operators::{self, Caps, Described, Inpaint, Kind, Operator, TaskSpec};
use tweedie::solvers::{self, OwnedRun, RunOptions};
use tweedie::wgpu::DeviceType as wgpu_kind;
use tweedie::{Gpu, Tensor};
use wasm_bindgen::prelude::*;

fn js(e: tweedie::Error) -> JsError {
    JsError::new(&e.to_string())
}

fn jsv(e: tweedie::Error) -> JsValue {
    js(e).into()
}

/// Shows Rust panics in the browser console (with their message, not "unreachable").
#[wasm_bindgen(start)]
pub fn init() {
    console_error_panic_hook::set_once();
}

/// The browser's WebGPU device and the prior on it.
#[wasm_bindgen]
pub struct Engine {
    gpu: Gpu,
    model: Arc<dyn Denoiser>,
}

#[wasm_bindgen]
impl Engine {
    /// Opens the browser's WebGPU device (awaits the adapter and device) and builds the model from
    /// the contents of a diffusers model folder: `config.json`'s text,
    /// `diffusion_pytorch_model.safetensors`' bytes and `scheduler_config.json`'s text.
    pub async fn open(config: String, weights: Vec<u8>, scheduler: String) -> Result<Engine, JsError> {
        let gpu = Gpu::new_async().await.map_err(js)?;
        let model = UNet2DModel::from_bytes(&gpu, &config, &weights, Some(&scheduler)).map_err(js)?;
        Ok(Engine {
            gpu,
            model: Arc::new(model),
        })
    }

    /// The adapter the device runs on, as the browser reports it.
    pub fn adapter(&self) -> String {
        let i = self.gpu.adapter_info();
        let name = [i.name.as_str(), i.driver.as_str(), i.driver_info.as_str()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let kind = match i.device_type {
            wgpu_kind::Cpu => "a CPU",
            wgpu_kind::DiscreteGpu => "a discrete GPU",
            wgpu_kind::IntegratedGpu => "an integrated GPU",
            _ => "a GPU",
        };
        if name.is_empty() {
            format!("WebGPU on {kind}")
        } else {
            format!("WebGPU on {kind}: {name}")
        }
    }

    /// Degrades the PNG `truth` with `task` (a task spec such as `inpaint-box`, `sr:factor=4`,
    /// `deblur-gauss`; or `inpaint-painted` with `mask`, one byte a pixel, non-zero where observed)
    /// and noise `sigma_y`, and starts `solver` on it for `steps` steps (0: the solver's default).
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        &self,
        truth: &[u8],
        task: &str,
        mask: Option<Vec<u8>>,
        solver: &str,
        steps: u32,
        sigma_y: f64,
        seed: u32,
    ) -> Result<Restoration, JsError> {
        let gpu = &self.gpu;
        let mut truth = tweedie::io::decode_image(truth, "the test image").map_err(js)?;
        let [c, h, w] = truth.shape();
        if let Err(e) = self.model.check_input(&[1, c, h, w]) {
            // a picture the page drew (an upload) is RGBA; a grey model takes its luminance
            if c == 3 && self.model.check_input(&[1, 1, h, w]).is_ok() {
                truth = grey(&truth);
            } else {
                return Err(js(e));
            }
        }
        let shape = truth.shape();
        let [c, h, w] = shape;
        if !(0.0..=1.0).contains(&sigma_y) {
            return Err(JsError::new(&format!(
                "sigma_y {sigma_y}: the noise level must be in [0, 1]"
            )));
        }
        let x = Tensor::from_slice(gpu, &[1, c, h, w], &truth.data).map_err(js)?;
        let op: Arc<dyn Operator> = match (task, mask) {
            ("inpaint-painted", Some(mask)) => {
                if mask.len() != h * w {
                    return Err(JsError::new(&format!(
                        "the painted mask has {} pixels, the image {h}x{w}",
                        mask.len()
                    )));
                }
                let m: Vec<f32> = mask.iter().map(|&b| if b != 0 { 1.0 } else { 0.0 }).collect();
                Arc::new(
                    Inpaint::new(
                        gpu,
                        shape,
                        &m,
                        Described {
                            spec: "inpaint (painted)".into(),
                            caps: Caps::spectral(Kind::Inpainting { region: true }),
                        },
                    )
                    .map_err(js)?,
                )
            }
            ("inpaint-painted", None) => {
                return Err(JsError::new("inpaint-painted needs the painted mask"));
            }
            (spec, _) => {
                let spec: TaskSpec = spec.parse().map_err(js)?;
                Arc::from(operators::build(gpu, &spec, shape).map_err(js)?)
            }
        };
        let y = operators::add_noise(&op.forward(&x).map_err(js)?, sigma_y, seed as u64).map_err(js)?;
        let steps = (steps > 0).then_some(steps as usize);
        let s = solvers::create(solver, op.as_ref(), steps, &[]).map_err(js)?;
        // the observation as a person looks at it (holes black); A⁺y where the measurement is not
        // a picture of the image's size (super-resolution)
        let observation = match op.observation_image(&y).map_err(js)? {
            Some(o) if o.shape() == [1, c, h, w] => o,
            _ => op.trivial(&y).map_err(js)?,
        };
        let trivial = solvers::trivial_estimate(self.model.as_ref(), op.as_ref(), &y).map_err(js)?;
        let run = OwnedRun::start(
            s.as_ref(),
            self.model.clone(),
            op,
            y,
            sigma_y,
            seed as u64,
            RunOptions::background(),
        )
        .map_err(js)?;
        Ok(Restoration {
            run: Some(run),
            truth,
            observation,
            trivial,
        })
    }
}

/// A restoration in progress: one solver run on one degraded image.
#[wasm_bindgen]
pub struct Restoration {
    run: Option<OwnedRun>,
    truth: Image,
    observation: Tensor,
    trivial: Tensor,
}

#[wasm_bindgen]
impl Restoration {
    fn run(&self) -> Result<&OwnedRun, JsError> {
        self.run
            .as_ref()
            .ok_or_else(|| JsError::new("this restoration was finished already"))
    }

    /// The solver's name.
    pub fn solver(&self) -> Result<String, JsError> {
        Ok(self.run()?.name().to_string())
    }

    /// Steps in the whole run.
    pub fn steps(&self) -> Result<u32, JsError> {
        Ok(self.run()?.steps() as u32)
    }

    /// Steps taken so far.
    pub fn done(&self) -> Result<u32, JsError> {
        Ok(self.run()?.done() as u32)
    }

    /// Records and submits the next step (never waits); `false` once every step was taken.
    pub fn step(&mut self) -> Result<bool, JsError> {
        self.run
            .as_mut()
            .ok_or_else(|| JsError::new("this restoration was finished already"))?
            .step()
            .map_err(js)
    }

    /// The observation as a picture, with its PSNR (resolves to a [`Frame`]).
    pub fn observation(&self) -> Result<js_sys::Promise, JsError> {
        frame_promise(&self.observation, Some(self.truth.clone()), Shade::Image)
    }

    /// The trivial estimate (the task's classical guess, or the prior mean), with its PSNR.
    pub fn trivial(&self) -> Result<js_sys::Promise, JsError> {
        frame_promise(&self.trivial, Some(self.truth.clone()), Shade::Image)
    }

    /// The truth, as a [`Frame`] (no device work).
    pub fn truth(&self) -> Frame {
        let t = &self.truth;
        frame(&t.data, [t.channels, t.height, t.width], None, Shade::Image)
    }

    /// The run's current estimate of x0 (the sample itself where the method forms none), with its
    /// PSNR; read back asynchronously after the steps recorded so far.
    pub fn estimate(&self) -> Result<js_sys::Promise, JsError> {
        let run = self.run()?;
        let t = run.estimate().unwrap_or(run.sample());
        frame_promise(t, Some(self.truth.clone()), Shade::Image)
    }

    /// Records the remaining steps and resolves to an [`Outcome`]: the result with its PSNR, and
    /// the posterior standard deviation for the particle solvers. Fails (rejects) with the run's
    /// NaN check's error if a step or the result went non-finite.
    pub fn finish(&mut self) -> Result<js_sys::Promise, JsError> {
        let run = self
            .run
            .take()
            .ok_or_else(|| JsError::new("this restoration was finished already"))?;
        let finishing = run.finish_deferred().map_err(js)?;
        let truth = self.truth.clone();
        Ok(wasm_bindgen_futures::future_to_promise(async move {
            let (out, std) = finishing.await.map_err(jsv)?;
            let result = read_frame(&out, Some(&truth), Shade::Image).await?;
            let uncertainty = match std {
                Some(s) => Some(read_frame(&s, None, Shade::Spread).await?),
                None => None,
            };
            Ok(Outcome { result, uncertainty }.into())
        }))
    }
}

/// What a finished restoration gives.
#[wasm_bindgen]
pub struct Outcome {
    result: Frame,
    uncertainty: Option<Frame>,
}

#[wasm_bindgen]
impl Outcome {
    /// The restored image and its PSNR.
    #[wasm_bindgen(getter)]
    pub fn result(&self) -> Frame {
        self.result.clone()
    }

    /// The per-pixel posterior standard deviation (particle solvers: TDS, SMCDiff, MCGdiff, FPS),
    /// white at its largest value ([`Frame::peak`]); `undefined` for the others.
    #[wasm_bindgen(getter)]
    pub fn uncertainty(&self) -> Option<Frame> {
        self.uncertainty.clone()
    }
}

/// A picture for a canvas: RGBA bytes, row-major, and the PSNR against the truth where known.
#[wasm_bindgen]
#[derive(Clone)]
pub struct Frame {
    width: u32,
    height: u32,
    rgba: Vec<u8>,
    psnr: f64,
    peak: f64,
}

#[wasm_bindgen]
impl Frame {
    /// Width in pixels.
    #[wasm_bindgen(getter)]
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    #[wasm_bindgen(getter)]
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The pixels, 4 bytes each (for `ImageData`).
    #[wasm_bindgen(getter)]
    pub fn rgba(&self) -> Vec<u8> {
        self.rgba.clone()
    }

    /// PSNR in dB against the truth (`NaN` where there is none to compare with).
    #[wasm_bindgen(getter)]
    pub fn psnr(&self) -> f64 {
        self.psnr
    }

    /// For a spread map, the value shown white (in the image's [-1, 1] units); else 1.
    #[wasm_bindgen(getter)]
    pub fn peak(&self) -> f64 {
        self.peak
    }
}

/// The luminance (Rec. 601) of an RGB image.
fn grey(rgb: &Image) -> Image {
    let n = rgb.height * rgb.width;
    let d = &rgb.data;
    Image {
        channels: 1,
        height: rgb.height,
        width: rgb.width,
        data: (0..n)
            .map(|p| 0.299 * d[p] + 0.587 * d[n + p] + 0.114 * d[2 * n + p])
            .collect(),
    }
}

#[derive(Clone, Copy)]
enum Shade {
    /// Values in [-1, 1].
    Image,
    /// Non-negative values, scaled so the largest is white.
    Spread,
}

fn frame_promise(t: &Tensor, truth: Option<Image>, shade: Shade) -> Result<js_sys::Promise, JsError> {
    let shape = image_shape(t)?;
    let readback = t.read_async().map_err(js)?;
    Ok(wasm_bindgen_futures::future_to_promise(async move {
        let v = readback.await.map_err(jsv)?;
        Ok(frame(&v, shape, truth.as_ref(), shade).into())
    }))
}

async fn read_frame(t: &Tensor, truth: Option<&Image>, shade: Shade) -> Result<Frame, JsValue> {
    let shape = image_shape(t).map_err(JsValue::from)?;
    let v = t.read_async().map_err(jsv)?.await.map_err(jsv)?;
    Ok(frame(&v, shape, truth, shade))
}

/// `[C, H, W]` of a `[N, C, H, W]` tensor (the first image is shown).
fn image_shape(t: &Tensor) -> Result<[usize; 3], JsError> {
    match *t.shape() {
        [_, c, h, w] => Ok([c, h, w]),
        ref s => Err(JsError::new(&format!("not an image batch: shape {s:?}"))),
    }
}

fn frame(v: &[f32], [c, h, w]: [usize; 3], truth: Option<&Image>, shade: Shade) -> Frame {
    let n = c * h * w;
    let img = Image {
        channels: c,
        height: h,
        width: w,
        data: v[..n.min(v.len())].to_vec(),
    };
    let psnr = match truth {
        Some(t) if t.shape() == img.shape() => tweedie::metrics::psnr(&img, t),
        _ => f64::NAN,
    };
    let peak = match shade {
        Shade::Image => 1.0,
        Shade::Spread => img.data.iter().fold(1e-6f32, |a, &b| a.max(b)) as f64,
    };
    let byte = |x: f32| match shade {
        Shade::Image => ((x.clamp(-1.0, 1.0) + 1.0) * 127.5).round() as u8,
        Shade::Spread => ((x / peak as f32).clamp(0.0, 1.0) * 255.0).round() as u8,
    };
    let mut rgba = Vec::with_capacity(h * w * 4);
    for p in 0..h * w {
        let at = |ch: usize| img.data.get(ch.min(c - 1) * h * w + p).copied().unwrap_or(0.0);
        rgba.extend_from_slice(&[byte(at(0)), byte(at(1)), byte(at(2)), 255]);
    }
    Frame {
        width: w as u32,
        height: h as u32,
        rgba,
        psnr,
        peak,
    }
}
