//! An interactive viewer (#31): a winit window whose wgpu device and swapchain are the host's, with
//! tweedie computing on that device. Four panels: truth | observation (missing pixels dark red) |
//! x̂0 | error `|x̂0 − truth|` (after a particle solver, its particles' per-pixel spread where they
//! did not collapse to one), each 32×32 image drawn scaled up from one small "canvas" texture that
//! tweedie writes into (a region per panel, `ops::tensor_to_texture_with`); a progress bar under
//! them.
//!
//! The solver runs on a worker thread (`solvers::OwnedRun` moved there): after each step it writes
//! x̂0 into the canvas texture, submits, and asks the window to redraw. The render loop never waits
//! for the solver: it draws the canvas whenever the window asks, paints, takes keys and cancels a
//! run, all while a run steps. The main thread calls tweedie only while no run is in flight.
//!
//! ```text
//! cargo run --release --example viewer [-- --image my.png] [--steps N] [--sigma 0.05] [--seed 0]
//! cargo run --release --example viewer -- --script "solver=ddrm run wait screenshot=shot.png check quit"
//! ```
//!
//! Keys (printed at start): 1–4 task (box / random pixels inpainting, ×4 super-resolution, Gaussian
//! deblurring); left-drag paints a mask (missing pixels: the painted-mask inpainting task), C clears
//! it; D DDRM, P DPS, R RED-Diff, F DiffPIR, T TDS; Space or Enter runs
//! (again: restarts); Up/Down steps ±10; ←/→ the previous / next bundled test image; S saves a
//! screenshot; Esc or Q quits. The title shows the step, time per step and PSNRs.
//!
//! Scripted mode (`--script "…"` or `TWEEDIE_VIEWER_SCRIPT`): whitespace-separated actions played in
//! order, then the program exits (status 1 when a `check` fails, 2 on a bad script or setup error):
//! `image=N|PATH`, `task=SPEC`, `solver=NAME`, `steps=N`, `sigma=F`, `seed=N`,
//! `paint=x0,y0,x1,y1` (a brush stroke in image pixels, as a mouse drag paints), `clear`, `run`,
//! `wait` (until the run ends), `screenshot=PATH` (what the window shows: the swapchain image read
//! back after drawing, as PNG), `check` (on that screenshot: over the missing pixels the x̂0 panel
//! differs from the observation panel, and the x̂0 panel's PSNR against the truth panel beats the
//! observation panel's) and `quit`.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tweedie::diffusion::Denoiser;
use tweedie::io::Image;
use tweedie::models::UNet2DModel;
use tweedie::operators::{self, Caps, Described, Inpaint, Kind, Operator, TaskSpec};
use tweedie::ops::{self, TextureOptions, TextureRegion};
use tweedie::solvers::{self, OwnedRun, RunOptions, Solver};
use tweedie::{Gpu, Tensor};
use winit::application::ApplicationHandler;
use winit::event::{ElementState, MouseButton, WindowEvent};
use winit::event_loop::{ActiveEventLoop, ControlFlow, EventLoop};
use winit::keyboard::{Key, NamedKey};
use winit::window::{Window, WindowId};

/// The image side (the bundled Fashion-MNIST prior is 1×32×32).
const SIDE: usize = 32;
/// Canvas texels between panels.
const GAP: u32 = 2;
/// Truth, observation, x̂0, error (or spread).
const PANELS: u32 = 4;
/// The canvas texture: the panels side by side with gaps.
const CANVAS_W: u32 = PANELS * SIDE as u32 + (PANELS + 1) * GAP;
const CANVAS_H: u32 = SIDE as u32 + 2 * GAP;
/// Canvas units below the canvas: the progress bar (2) and a gap (2).
const BAR_H: u32 = 4;
/// Window pixels per canvas texel at start.
const SCALE: u32 = 8;
/// The keys 1–4.
const TASKS: [&str; 4] = ["inpaint-box", "inpaint-random", "sr:factor=4", "deblur-gauss"];
/// Brush radius in image pixels.
const BRUSH: f32 = 1.3;
/// `check`: the mean |x̂0 − observation| over the missing pixels (in [0, 1]) must exceed this.
const MIN_CHANGE: f64 = 0.05;
/// A script that has not finished by then fails.
const SCRIPT_LIMIT: Duration = Duration::from_secs(150);

const SHADER: &str = r#"
struct View { offset: vec2f, scale: f32, progress: f32 }
@group(0) @binding(0) var canvas: texture_2d<f32>;
@group(0) @binding(1) var<uniform> view: View;

@vertex
fn vs(@builtin(vertex_index) i: u32) -> @builtin(position) vec4f {
    let p = vec2f(f32((i << 1u) & 2u), f32(i & 2u));
    return vec4f(p * 2.0 - 1.0, 0.0, 1.0);
}

@fragment
fn fs(@builtin(position) pos: vec4f) -> @location(0) vec4f {
    let c = (pos.xy - view.offset) / view.scale;
    let dims = vec2f(textureDimensions(canvas));
    if c.x >= 0.0 && c.y >= 0.0 && c.x < dims.x && c.y < dims.y {
        return textureLoad(canvas, vec2i(floor(c)), 0);
    }
    if c.y >= dims.y && c.y < dims.y + 2.0 && c.x >= 2.0 && c.x < dims.x - 2.0 {
        if (c.x - 2.0) / (dims.x - 4.0) < view.progress {
            return vec4f(0.15, 0.6, 0.25, 1.0);
        }
        return vec4f(0.05, 0.05, 0.06, 1.0);
    }
    return vec4f(0.02, 0.02, 0.025, 1.0);
}
"#;

const HELP: &str = "tweedie viewer: truth | observation | x̂0 | error |x̂0 - truth|
  1-4      task: inpaint-box, inpaint-random, sr:factor=4, deblur-gauss
  drag     paint missing pixels (painted-mask inpainting); C clears the mask
  D P R F T  solver: DDRM, DPS, RED-Diff, DiffPIR, TDS
  Space/Enter  run (again: restart)     Up/Down  steps +-10
  Left/Right   previous / next test image
  S        screenshot (viewer-screenshot.png)     Esc/Q  quit
The title shows step k/N, time per step and PSNR of the observation and of x0.";

/// An error the user can act on; the program prints it and exits with status 2.
type Res<T> = std::result::Result<T, String>;

fn err<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> String + '_ {
    move |e| format!("{what}: {e}")
}

/// The one place a solver is built (for any operator: its capabilities give the defaults).
fn make_solver(name: &str, op: &dyn Operator, steps: usize) -> tweedie::Result<Box<dyn Solver>> {
    solvers::create(name, op, Some(steps), &[])
}

/// Steps each solver gets by default: a few seconds on a CPU Vulkan driver.
fn default_steps(solver: &str) -> usize {
    match solver {
        "dps" | "red-diff" => 50,
        _ => 20,
    }
}

/// One scripted action.
#[derive(Debug, Clone)]
enum Action {
    Image(String),
    Task(String),
    Solver(String),
    Steps(usize),
    Sigma(f64),
    Seed(u64),
    Paint([f32; 4]),
    Clear,
    Run,
    Wait,
    Screenshot(PathBuf),
    Check,
    Quit,
}

fn parse_script(s: &str) -> Res<VecDeque<Action>> {
    let mut out = VecDeque::new();
    for tok in s.split_whitespace() {
        let (k, v) = tok.split_once('=').unwrap_or((tok, ""));
        let need = |what: &str| -> Res<()> {
            if v.is_empty() {
                Err(format!("script action {k:?} needs a value: {k}={what}"))
            } else {
                Ok(())
            }
        };
        let a = match k {
            "image" => {
                need("N|PATH")?;
                Action::Image(v.into())
            }
            "task" => {
                need("SPEC")?;
                Action::Task(v.into())
            }
            "solver" => {
                need("NAME")?;
                Action::Solver(v.into())
            }
            "steps" => Action::Steps(
                v.parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| format!("steps={v}: give a positive whole number"))?,
            ),
            "sigma" => Action::Sigma(
                v.parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s >= 0.0)
                    .ok_or_else(|| format!("sigma={v}: give a number >= 0"))?,
            ),
            "seed" => Action::Seed(v.parse().map_err(|_| format!("seed={v}: give a whole number"))?),
            "paint" => {
                let c: Vec<f32> = v.split(',').filter_map(|x| x.trim().parse().ok()).collect();
                if c.len() != 4 || c.iter().any(|x| !x.is_finite()) {
                    return Err(format!(
                        "paint={v}: give a stroke as x0,y0,x1,y1 in image pixels (0..{SIDE})"
                    ));
                }
                Action::Paint([c[0], c[1], c[2], c[3]])
            }
            "clear" => Action::Clear,
            "run" => Action::Run,
            "wait" => Action::Wait,
            "screenshot" => {
                need("PATH")?;
                Action::Screenshot(v.into())
            }
            "check" => Action::Check,
            "quit" => Action::Quit,
            _ => {
                return Err(format!(
                    "unknown script action {tok:?}; actions: image=N|PATH task=SPEC solver=NAME steps=N \
                     sigma=F seed=N paint=x0,y0,x1,y1 clear run wait screenshot=PATH check quit"
                ));
            }
        };
        out.push_back(a);
    }
    Ok(out)
}

/// Command-line options.
struct Args {
    image: Option<PathBuf>,
    weights: PathBuf,
    steps: Option<usize>,
    sigma: f64,
    seed: u64,
    script: Option<VecDeque<Action>>,
}

fn parse_args() -> Res<Args> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut a = Args {
        image: None,
        weights: root.join("weights/fmnist32"),
        steps: None,
        sigma: 0.05,
        seed: 0,
        script: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--image" => a.image = Some(value()?.into()),
            "--weights" => a.weights = value()?.into(),
            "--steps" => {
                let v = value()?;
                a.steps = Some(
                    v.parse()
                        .ok()
                        .filter(|&n| n > 0)
                        .ok_or_else(|| format!("--steps {v}: give a positive whole number"))?,
                )
            }
            "--sigma" => {
                let v = value()?;
                a.sigma = v
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s >= 0.0)
                    .ok_or_else(|| format!("--sigma {v}: give a number >= 0"))?
            }
            "--seed" => {
                let v = value()?;
                a.seed = v
                    .parse()
                    .map_err(|_| format!("--seed {v}: give a whole number"))?
            }
            "--script" => a.script = Some(parse_script(&value()?)?),
            "-h" | "--help" => {
                println!(
                    "usage: viewer [--image PNG] [--weights DIR] [--steps N] [--sigma F] [--seed N] [--script \"ACTIONS\"]\n\n{HELP}"
                );
                std::process::exit(0);
            }
            _ => return Err(format!("unknown argument {flag:?}; try --help")),
        }
    }
    if a.script.is_none()
        && let Ok(s) = std::env::var("TWEEDIE_VIEWER_SCRIPT")
    {
        a.script = Some(parse_script(&s)?);
    }
    Ok(a)
}

/// The bundled Fashion-MNIST test images.
fn test_images() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("fmnist_test_") && n.ends_with(".png"))
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// A picture as the prior's 1×32×32 gray image in [-1, 1]: colour is converted to gray and another
/// size resized (with a note).
fn load_image(path: &Path) -> Res<Vec<f32>> {
    let img = image::open(path).map_err(|e| {
        format!(
            "cannot read {} as an image ({e}); give a PNG (or another format the image crate reads)",
            path.display()
        )
    })?;
    let mut g = img.to_luma8();
    if g.dimensions() != (SIDE as u32, SIDE as u32) {
        println!(
            "{} is {}x{}: resized to {SIDE}x{SIDE} (the bundled prior's size), in gray",
            path.display(),
            g.width(),
            g.height()
        );
        g = image::imageops::resize(
            &g,
            SIDE as u32,
            SIDE as u32,
            image::imageops::FilterType::Triangle,
        );
    }
    Ok(g.pixels().map(|p| p[0] as f32 / 127.5 - 1.0).collect())
}

fn gray(data: Vec<f32>) -> Image {
    Image {
        channels: 1,
        height: SIDE,
        width: SIDE,
        data,
    }
}

fn psnr(x: &[f32], truth: &[f32]) -> f64 {
    tweedie::metrics::psnr(&gray(x.to_vec()), &gray(truth.to_vec()))
}

/// The canvas region of panel `k`.
fn panel(k: u32) -> TextureOptions {
    TextureOptions {
        region: Some(TextureRegion {
            origin: [GAP + k * (SIDE as u32 + GAP), GAP],
            size: [SIDE as u32, SIDE as u32],
            layer: 0,
        }),
        linear: false,
    }
}

/// `|x − truth|` as a picture: black where exact, white from an error of half the range.
fn error_map(x: &Tensor, truth: &Tensor) -> tweedie::Result<Tensor> {
    let d = ops::axpby(1.0, x, -1.0, truth)?;
    let abs = ops::pow(&ops::mul(&d, &d)?, 1.0, 0.5, 0.0)?;
    ops::affine(&abs, 2.0, -1.0)
}

/// What the worker tells the window.
enum Msg {
    Step {
        done: usize,
        steps: usize,
        elapsed: Duration,
        psnr: f64,
    },
    Finished {
        steps: usize,
        elapsed: Duration,
        psnr: f64,
    },
    Cancelled,
    Failed(String),
}

struct Worker {
    handle: JoinHandle<()>,
    cancel: Arc<AtomicBool>,
    rx: mpsc::Receiver<Msg>,
}

/// Everything a run needs, moved to the worker thread.
struct Job {
    gpu: Gpu,
    solver: Box<dyn Solver>,
    model: Arc<dyn Denoiser>,
    op: Arc<dyn Operator>,
    y: Tensor,
    sigma_y: f64,
    seed: u64,
    truth: Vec<f32>,
    canvas: wgpu::Texture,
    window: Arc<Window>,
}

impl Job {
    /// The truth repeated to `rows` images (kept in `cache` while the count stays).
    fn truth_rows(
        gpu: &Gpu,
        truth: &[f32],
        cache: &mut Option<Tensor>,
        rows: usize,
    ) -> tweedie::Result<Tensor> {
        if let Some(t) = cache
            && t.shape()[0] == rows
        {
            return Ok(t.clone());
        }
        let data: Vec<f32> = (0..rows).flat_map(|_| truth.iter().copied()).collect();
        let t = Tensor::from_slice(gpu, &[rows, 1, SIDE, SIDE], &data)?;
        *cache = Some(t.clone());
        Ok(t)
    }

    /// Steps the run, writing x̂0 into the canvas after each step; never touched by the render loop.
    fn run(self, cancel: &AtomicBool, tx: &mpsc::Sender<Msg>) -> tweedie::Result<()> {
        let t0 = Instant::now();
        // paced: the device stays at most one step ahead, so the window's frames (on the same
        // queue) wait for at most one step's work; every step is checked for NaN on the device,
        // read back once by finish
        let options = RunOptions {
            pace: true,
            ..RunOptions::background()
        };
        let mut run = OwnedRun::start(
            self.solver.as_ref(),
            self.model,
            self.op,
            self.y,
            self.sigma_y,
            self.seed,
            options,
        )?;
        let steps = run.steps();
        // one copy of the truth per row of the estimate (a particle solver's K particles; the
        // panels show the first)
        let mut truth: Option<Tensor> = None;
        while run.step()? {
            if let Some(x0) = run.estimate() {
                let truth = Self::truth_rows(&self.gpu, &self.truth, &mut truth, x0.shape()[0])?;
                ops::tensor_to_texture_with(x0, 0, &self.canvas, &panel(2))?;
                ops::tensor_to_texture_with(&error_map(x0, &truth)?, 0, &self.canvas, &panel(3))?;
                self.gpu.submit()?;
                let psnr = psnr(&x0.to_vec()?[..SIDE * SIDE], &self.truth);
                let _ = tx.send(Msg::Step {
                    done: run.done(),
                    steps,
                    elapsed: t0.elapsed(),
                    psnr,
                });
                self.window.request_redraw();
            }
            if cancel.load(Ordering::Relaxed) {
                let _ = tx.send(Msg::Cancelled);
                return Ok(());
            }
        }
        let (x, std) = run.finish_with_std()?;
        ops::tensor_to_texture_with(&x, 0, &self.canvas, &panel(2))?;
        let truth = Self::truth_rows(&self.gpu, &self.truth, &mut truth, x.shape()[0])?;
        ops::tensor_to_texture_with(&error_map(&x, &truth)?, 0, &self.canvas, &panel(3))?;
        let spread = match std {
            Some(std) => Some(std.to_vec()?).filter(|s| s.iter().any(|&v| v > 1e-4)),
            None => None,
        };
        if let Some(s) = spread {
            // the particles' per-pixel spread (brightest at its maximum) replaces the error map
            let max = s.iter().cloned().fold(1e-6f32, f32::max);
            let v: Vec<f32> = s[..SIDE * SIDE].iter().map(|v| v / max * 2.0 - 1.0).collect();
            let t = Tensor::from_slice(&self.gpu, &[1, 1, SIDE, SIDE], &v)?;
            ops::tensor_to_texture_with(&t, 0, &self.canvas, &panel(3))?;
        }
        self.gpu.submit()?;
        let psnr = psnr(&x.to_vec()?[..SIDE * SIDE], &self.truth);
        let _ = tx.send(Msg::Finished {
            steps,
            elapsed: t0.elapsed(),
            psnr,
        });
        self.window.request_redraw();
        Ok(())
    }
}

/// The window, its surface and the drawing of the canvas.
struct Gfx {
    window: Arc<Window>,
    surface: wgpu::Surface<'static>,
    config: wgpu::SurfaceConfiguration,
    device: wgpu::Device,
    queue: wgpu::Queue,
    pipeline: wgpu::RenderPipeline,
    bind_group: wgpu::BindGroup,
    uniform: wgpu::Buffer,
    canvas: wgpu::Texture,
    /// The swapchain images can be copied from (else a screenshot draws into an offscreen texture).
    copyable: bool,
    adapter: String,
}

/// Window pixels per canvas texel and the canvas's top-left corner in the window.
#[derive(Clone, Copy)]
struct Layout {
    scale: f32,
    offset: [f32; 2],
}

impl Layout {
    fn of(w: u32, h: u32) -> Layout {
        let s = (w / CANVAS_W).min(h / (CANVAS_H + BAR_H)).max(1);
        Layout {
            scale: s as f32,
            offset: [
                ((w as i64 - (CANVAS_W * s) as i64) / 2).max(0) as f32,
                ((h as i64 - ((CANVAS_H + BAR_H) * s) as i64) / 2).max(0) as f32,
            ],
        }
    }

    /// Image pixel coordinates of a window position over one of the panels.
    fn image_at(&self, x: f64, y: f64) -> Option<(f32, f32)> {
        let cx = (x as f32 - self.offset[0]) / self.scale - GAP as f32;
        let cy = (y as f32 - self.offset[1]) / self.scale - GAP as f32;
        let pitch = (SIDE as u32 + GAP) as f32;
        let k = (cx / pitch).floor();
        let lx = cx - k * pitch;
        let side = SIDE as f32;
        (k >= 0.0 && k < PANELS as f32 && lx < side + 0.5 && (-0.5..side + 0.5).contains(&cy))
            .then_some((lx, cy))
    }

    /// The window position of image point (x, y) (in pixels, fractional) of panel k.
    fn window_at(&self, k: u32, x: f32, y: f32) -> (f64, f64) {
        let cx = (GAP + k * (SIDE as u32 + GAP)) as f32 + x;
        let cy = GAP as f32 + y;
        (
            (self.offset[0] + cx * self.scale) as f64,
            (self.offset[1] + cy * self.scale) as f64,
        )
    }

    /// The window pixel at the centre of image pixel (i, j) of panel k.
    fn pixel(&self, k: u32, i: usize, j: usize) -> (u32, u32) {
        let cx = (GAP + k * (SIDE as u32 + GAP)) as f32 + i as f32 + 0.5;
        let cy = GAP as f32 + j as f32 + 0.5;
        (
            (self.offset[0] + cx * self.scale) as u32,
            (self.offset[1] + cy * self.scale) as u32,
        )
    }
}

/// A screenshot: RGB8 rows of the window and the layout it was drawn with.
struct Shot {
    rgb: image::RgbImage,
    layout: Layout,
}

impl Shot {
    /// Panel `k` as 32×32 values in [0, 1] (the green channel at each texel's centre).
    fn panel(&self, k: u32) -> Vec<f64> {
        (0..SIDE * SIDE)
            .map(|p| {
                let (x, y) = self.layout.pixel(k, p % SIDE, p / SIDE);
                self.rgb
                    .get_pixel_checked(x, y)
                    .map_or(0.0, |px| px[1] as f64 / 255.0)
            })
            .collect()
    }
}

fn psnr01(x: &[f64], t: &[f64]) -> f64 {
    let mse = x.iter().zip(t).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / x.len() as f64;
    10.0 * (1.0 / mse.max(1e-12)).log10()
}

impl Gfx {
    fn new(event_loop: &ActiveEventLoop) -> Res<Gfx> {
        let attrs = Window::default_attributes()
            .with_title("tweedie viewer")
            .with_inner_size(winit::dpi::PhysicalSize::new(
                CANVAS_W * SCALE,
                (CANVAS_H + BAR_H) * SCALE,
            ));
        let window = Arc::new(event_loop.create_window(attrs).map_err(err(
            "could not open a window (is DISPLAY set? under CI use xvfb-run)",
        ))?);
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_with_display_handle_from_env(
            Box::new(event_loop.owned_display_handle()),
        ));
        let surface = instance
            .create_surface(window.clone())
            .map_err(err("could not make a wgpu surface for the window"))?;
        let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            compatible_surface: Some(&surface),
            ..Default::default()
        }))
        .map_err(err(
            "no adapter can present to this window (install a Vulkan driver such as Mesa's \
             lavapipe, or try WGPU_BACKEND=gl)",
        ))?;
        // the host's device: the adapter's own limits (at least tweedie's) and whatever of
        // tweedie's optional features it has
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("viewer"),
            required_features: adapter.features() & tweedie::gpu::OPTIONAL_FEATURES,
            required_limits: adapter.limits(),
            ..Default::default()
        }))
        .map_err(err("could not open a device"))?;
        let size = window.inner_size();
        let caps = surface.get_capabilities(&adapter);
        let mut config = surface
            .get_default_config(&adapter, size.width.max(1), size.height.max(1))
            .ok_or("the adapter cannot present to this window's surface")?;
        use wgpu::TextureFormat as F;
        config.format = caps
            .formats
            .iter()
            .copied()
            .find(|f| {
                matches!(
                    f,
                    F::Bgra8UnormSrgb | F::Rgba8UnormSrgb | F::Bgra8Unorm | F::Rgba8Unorm
                )
            })
            .ok_or_else(|| format!("the surface offers no 8-bit RGBA/BGRA format: {:?}", caps.formats))?;
        let copyable = caps.usages.contains(wgpu::TextureUsages::COPY_SRC);
        if copyable {
            config.usage |= wgpu::TextureUsages::COPY_SRC;
        }
        surface.configure(&device, &config);

        // the canvas holds the bytes tweedie writes; sRGB when the surface is, so that the
        // surface shows them unchanged
        let canvas = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("canvas"),
            size: wgpu::Extent3d {
                width: CANVAS_W,
                height: CANVAS_H,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: if config.format.is_srgb() {
                F::Rgba8UnormSrgb
            } else {
                F::Rgba8Unorm
            },
            usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
            view_formats: &[],
        });
        let bg: Vec<u8> = (0..CANVAS_W * CANVAS_H).flat_map(|_| [28, 28, 34, 255]).collect();
        queue.write_texture(
            canvas.as_image_copy(),
            &bg,
            wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(CANVAS_W * 4),
                rows_per_image: None,
            },
            canvas.size(),
        );
        let uniform = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("view"),
            size: 16,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("viewer"),
            source: wgpu::ShaderSource::Wgsl(SHADER.into()),
        });
        let bgl = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: None,
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Texture {
                        sample_type: wgpu::TextureSampleType::Float { filterable: false },
                        view_dimension: wgpu::TextureViewDimension::D2,
                        multisampled: false,
                    },
                    count: None,
                },
                wgpu::BindGroupLayoutEntry {
                    binding: 1,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                },
            ],
        });
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &bgl,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::TextureView(&canvas.create_view(&Default::default())),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: uniform.as_entire_binding(),
                },
            ],
        });
        let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: None,
            bind_group_layouts: &[Some(&bgl)],
            immediate_size: 0,
        });
        let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("canvas"),
            layout: Some(&layout),
            vertex: wgpu::VertexState {
                module: &module,
                entry_point: Some("vs"),
                compilation_options: Default::default(),
                buffers: &[],
            },
            primitive: Default::default(),
            depth_stencil: None,
            multisample: Default::default(),
            fragment: Some(wgpu::FragmentState {
                module: &module,
                entry_point: Some("fs"),
                compilation_options: Default::default(),
                targets: &[Some(config.format.into())],
            }),
            multiview_mask: None,
            cache: None,
        });
        let info = adapter.get_info();
        Ok(Gfx {
            window,
            surface,
            config,
            device,
            queue,
            pipeline,
            bind_group,
            uniform,
            canvas,
            copyable,
            adapter: format!("{} ({:?})", info.name, info.backend),
        })
    }

    fn layout(&self) -> Layout {
        Layout::of(self.config.width, self.config.height)
    }

    fn resize(&mut self, w: u32, h: u32) {
        if w > 0 && h > 0 {
            self.config.width = w;
            self.config.height = h;
            self.surface.configure(&self.device, &self.config);
        }
    }

    fn pass(&self, enc: &mut wgpu::CommandEncoder, view: &wgpu::TextureView) {
        let mut pass = enc.begin_render_pass(&wgpu::RenderPassDescriptor {
            label: Some("canvas"),
            color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                view,
                depth_slice: None,
                resolve_target: None,
                ops: wgpu::Operations {
                    load: wgpu::LoadOp::Clear(wgpu::Color::BLACK),
                    store: wgpu::StoreOp::Store,
                },
            })],
            depth_stencil_attachment: None,
            timestamp_writes: None,
            occlusion_query_set: None,
            multiview_mask: None,
        });
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.bind_group, &[]);
        pass.draw(0..3, 0..1);
    }

    /// Draws a frame; with `shot`, also reads back exactly what was presented.
    fn draw(&mut self, progress: f32, shot: bool) -> Res<Option<Shot>> {
        let layout = self.layout();
        let u = [layout.offset[0], layout.offset[1], layout.scale, progress];
        self.queue
            .write_buffer(&self.uniform, 0, bytemuck::cast_slice(&u));
        let frame = match self.surface.get_current_texture() {
            wgpu::CurrentSurfaceTexture::Success(f) | wgpu::CurrentSurfaceTexture::Suboptimal(f) => f,
            wgpu::CurrentSurfaceTexture::Outdated | wgpu::CurrentSurfaceTexture::Lost => {
                let s = self.window.inner_size();
                self.resize(s.width, s.height);
                self.window.request_redraw();
                return Ok(None);
            }
            other => {
                if shot {
                    self.window.request_redraw();
                }
                eprintln!("viewer: no swapchain image this frame ({other:?})");
                return Ok(None);
            }
        };
        let view = frame.texture.create_view(&Default::default());
        let mut enc = self.device.create_command_encoder(&Default::default());
        self.pass(&mut enc, &view);
        let mut read = None;
        if shot {
            // the swapchain image itself when the surface allows copies, else the same pass drawn
            // into an offscreen texture of the same size and format
            let offscreen;
            let src = if self.copyable {
                &frame.texture
            } else {
                offscreen = self.device.create_texture(&wgpu::TextureDescriptor {
                    label: Some("screenshot"),
                    size: frame.texture.size(),
                    mip_level_count: 1,
                    sample_count: 1,
                    dimension: wgpu::TextureDimension::D2,
                    format: self.config.format,
                    usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
                    view_formats: &[],
                });
                self.pass(&mut enc, &offscreen.create_view(&Default::default()));
                &offscreen
            };
            let (w, h) = (src.width(), src.height());
            let row = (w * 4).next_multiple_of(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT);
            let buf = self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("screenshot"),
                size: (row * h) as u64,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            enc.copy_texture_to_buffer(
                src.as_image_copy(),
                wgpu::TexelCopyBufferInfo {
                    buffer: &buf,
                    layout: wgpu::TexelCopyBufferLayout {
                        offset: 0,
                        bytes_per_row: Some(row),
                        rows_per_image: None,
                    },
                },
                src.size(),
            );
            read = Some((buf, row, w, h));
        }
        self.queue.submit([enc.finish()]);
        self.window.pre_present_notify();
        self.queue.present(frame);
        let Some((buf, row, w, h)) = read else {
            return Ok(None);
        };
        buf.map_async(wgpu::MapMode::Read, .., |_| {});
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(err("waiting for the screenshot"))?;
        let data = buf
            .get_mapped_range(..)
            .map_err(err("reading the screenshot back"))?
            .to_vec();
        let bgra = matches!(
            self.config.format,
            wgpu::TextureFormat::Bgra8Unorm | wgpu::TextureFormat::Bgra8UnormSrgb
        );
        let mut rgb = image::RgbImage::new(w, h);
        for (y, r) in (0..h).zip(data.chunks(row as usize)) {
            for x in 0..w {
                let p = &r[(x * 4) as usize..(x * 4 + 4) as usize];
                let px = if bgra {
                    [p[2], p[1], p[0]]
                } else {
                    [p[0], p[1], p[2]]
                };
                rgb.put_pixel(x, y, image::Rgb(px));
            }
        }
        Ok(Some(Shot { rgb, layout }))
    }
}

/// Which measurement operator: a registered task, or the mask painted by mouse.
#[derive(Clone, PartialEq)]
enum Task {
    Registered(String),
    Painted,
}

/// The problem currently shown: the operator, the measurements, and what the observation panel
/// shows.
struct Problem {
    op: Arc<dyn Operator>,
    y: Tensor,
    /// Pixels the observation lacks (an inpainting mask's holes; all pixels for other tasks).
    missing: Vec<bool>,
    psnr_obs: f64,
}

/// Where a run stands, for the title and the progress bar.
#[derive(Default)]
struct Status {
    done: usize,
    steps: usize,
    ms_per_step: f64,
    psnr: Option<f64>,
    note: String,
}

struct Viewer {
    args: Args,
    gfx: Option<Gfx>,
    gpu: Option<Gpu>,
    model: Option<Arc<dyn Denoiser>>,
    images: Vec<PathBuf>,
    image_idx: usize,
    image_name: String,
    truth: Vec<f32>,
    task: Task,
    mask: Vec<f32>,
    solver: String,
    steps: Option<usize>,
    sigma: f64,
    seed: u64,
    problem: Option<Problem>,
    /// The problem must be rebuilt (task, image, mask, σ or seed changed).
    dirty: bool,
    worker: Option<Worker>,
    /// Start a run as soon as the current one is gone and the problem is built.
    start_pending: bool,
    status: Status,
    script: Option<VecDeque<Action>>,
    script_started: Instant,
    waiting: bool,
    shot_to: Option<PathBuf>,
    last_shot: Option<Shot>,
    painting: bool,
    last_paint: Option<(f32, f32)>,
    cursor: (f64, f64),
    title: String,
    exit_code: i32,
    /// Frames presented while the current run was in flight, and the longest time between two.
    frames: usize,
    longest_gap: Duration,
    last_frame: Option<Instant>,
    /// The last run's error (a script stops on it).
    run_failed: Option<String>,
}

impl Viewer {
    fn new(args: Args) -> Res<Viewer> {
        let images = test_images();
        let (truth, name) = match &args.image {
            Some(p) => (load_image(p)?, p.display().to_string()),
            None => {
                let p = images
                    .first()
                    .ok_or("no bundled test images in tests/data; give one with --image PATH".to_string())?;
                (load_image(p)?, file_name(p))
            }
        };
        Ok(Viewer {
            steps: args.steps,
            sigma: args.sigma,
            seed: args.seed,
            script: args.script.clone(),
            args,
            gfx: None,
            gpu: None,
            model: None,
            images,
            image_idx: 0,
            image_name: name,
            truth,
            task: Task::Registered(TASKS[0].into()),
            mask: vec![1.0; SIDE * SIDE],
            solver: "ddrm".into(),
            problem: None,
            dirty: true,
            worker: None,
            start_pending: false,
            status: Status::default(),
            script_started: Instant::now(),
            waiting: false,
            shot_to: None,
            last_shot: None,
            painting: false,
            last_paint: None,
            cursor: (0.0, 0.0),
            title: String::new(),
            exit_code: 0,
            frames: 0,
            longest_gap: Duration::ZERO,
            last_frame: None,
            run_failed: None,
        })
    }

    fn steps(&self) -> usize {
        self.steps.unwrap_or_else(|| default_steps(&self.solver))
    }

    fn task_name(&self) -> String {
        match &self.task {
            Task::Registered(s) => s.clone(),
            Task::Painted => "inpaint (painted)".into(),
        }
    }

    /// Fails the program: prints `msg` and exits with `code` once the event loop returns.
    fn fail(&mut self, event_loop: &ActiveEventLoop, code: i32, msg: &str) {
        eprintln!("viewer: {msg}");
        self.exit_code = code;
        self.shutdown();
        event_loop.exit();
    }

    fn shutdown(&mut self) {
        if let Some(w) = self.worker.take() {
            w.cancel.store(true, Ordering::Relaxed);
            let _ = w.handle.join();
        }
    }

    /// Builds the operator and measurements from the truth and writes the truth and observation
    /// panels (main thread, only while no run is in flight).
    fn rebuild(&mut self) -> tweedie::Result<()> {
        let (Some(gpu), Some(gfx)) = (&self.gpu, &self.gfx) else {
            return Ok(());
        };
        let x = Tensor::from_slice(gpu, &[1, 1, SIDE, SIDE], &self.truth)?;
        let shape = [1, SIDE, SIDE];
        let op: Arc<dyn Operator> = match &self.task {
            Task::Registered(spec) => Arc::from(operators::build(gpu, &spec.parse::<TaskSpec>()?, shape)?),
            Task::Painted => Arc::new(Inpaint::new(
                gpu,
                shape,
                &self.mask,
                Described {
                    spec: "inpaint (painted)".into(),
                    caps: Caps::spectral(Kind::Inpainting { region: true }),
                },
            )?),
        };
        let y = operators::add_noise(&op.forward(&x)?, self.sigma, self.seed)?;
        // the observation as a person looks at it (holes black); an upsampled A⁺y where the
        // measurement is not an image of the same size (super-resolution)
        let obs = match op.observation_image(&y)? {
            Some(o) if o.shape() == [1, 1, SIDE, SIDE] => o,
            _ => op.trivial(&y)?,
        };
        let inpainting = matches!(op.caps().kind, Kind::Inpainting { .. });
        let missing = if inpainting {
            let ones = Tensor::from_slice(gpu, &[1, 1, SIDE, SIDE], &[1.0; SIDE * SIDE])?;
            op.forward(&ones)?.to_vec()?.iter().map(|&m| m < 0.5).collect()
        } else {
            vec![true; SIDE * SIDE]
        };
        let obs = obs.to_vec()?;
        let psnr_obs = psnr(&obs, &self.truth);
        // the missing pixels in dark red (green and blue stay the observation's black)
        let red = obs
            .iter()
            .zip(&missing)
            .map(|(&v, &m)| if m && inpainting { -0.1 } else { v });
        let tinted: Vec<f32> = red
            .chain(obs.iter().copied())
            .chain(obs.iter().copied())
            .collect();
        let obs = Tensor::from_slice(gpu, &[1, 3, SIDE, SIDE], &tinted)?;
        let blank = Tensor::from_slice(gpu, &[1, 1, SIDE, SIDE], &[-1.0; SIDE * SIDE])?;
        ops::tensor_to_texture_with(&x, 0, &gfx.canvas, &panel(0))?;
        ops::tensor_to_texture_with(&obs, 0, &gfx.canvas, &panel(1))?;
        ops::tensor_to_texture_with(&blank, 0, &gfx.canvas, &panel(2))?;
        ops::tensor_to_texture_with(&blank, 0, &gfx.canvas, &panel(3))?;
        gpu.flush()?;
        self.problem = Some(Problem {
            op,
            y,
            missing,
            psnr_obs,
        });
        self.status = Status {
            note: format!("observation {psnr_obs:.2} dB"),
            ..Status::default()
        };
        gfx.window.request_redraw();
        Ok(())
    }

    /// Starts a run on a worker thread.
    fn start(&mut self) -> Res<()> {
        let (Some(gpu), Some(gfx), Some(model), Some(p)) = (&self.gpu, &self.gfx, &self.model, &self.problem)
        else {
            return Ok(());
        };
        let caps = p.op.caps();
        if let Some(e) = solvers::REGISTRY.iter().find(|e| e.name == self.solver)
            && !(e.runs)(&caps)
        {
            return Err(format!(
                "{} does not run {}: pick another solver",
                self.solver,
                self.task_name()
            ));
        }
        let solver = make_solver(&self.solver, p.op.as_ref(), self.steps()).map_err(|e| e.to_string())?;
        // fewer steps than its chain needs give noise (the command line refuses them too)
        solvers::check_min_steps(solver.as_ref()).map_err(|e| e.to_string())?;
        let job = Job {
            gpu: gpu.clone(),
            solver,
            model: model.clone(),
            op: p.op.clone(),
            y: p.y.clone(),
            sigma_y: self.sigma,
            seed: self.seed,
            truth: self.truth.clone(),
            canvas: gfx.canvas.clone(),
            window: gfx.window.clone(),
        };
        let cancel = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        let c = cancel.clone();
        let handle = std::thread::Builder::new()
            .name("solver".into())
            .spawn(move || {
                if let Err(e) = job.run(&c, &tx) {
                    let _ = tx.send(Msg::Failed(e.to_string()));
                }
            })
            .map_err(err("could not start the solver thread"))?;
        self.worker = Some(Worker { handle, cancel, rx });
        (self.frames, self.longest_gap, self.last_frame) = (0, Duration::ZERO, None);
        self.status = Status {
            steps: self.steps(),
            note: "starting".into(),
            ..Status::default()
        };
        println!(
            "{} on {} of {}: {} steps, σ_y {}",
            self.solver,
            self.task_name(),
            self.image_name,
            self.steps(),
            self.sigma
        );
        Ok(())
    }

    /// Cancels the run in flight (it stops after its current step).
    fn cancel(&mut self) {
        if let Some(w) = &self.worker {
            w.cancel.store(true, Ordering::Relaxed);
        }
    }

    fn set_dirty(&mut self) {
        self.cancel();
        self.dirty = true;
    }

    /// Marks the brush's pixels missing along a stroke (image pixel coordinates).
    fn paint(&mut self, a: (f32, f32), b: (f32, f32)) {
        let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
        let n = (len * 4.0).ceil().max(1.0) as usize;
        let mut changed = false;
        if self.task != Task::Painted {
            self.task = Task::Painted;
            changed = true;
        }
        for s in 0..=n {
            let t = s as f32 / n as f32;
            let (px, py) = (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
            for j in 0..SIDE {
                for i in 0..SIDE {
                    let (dx, dy) = (i as f32 + 0.5 - px, j as f32 + 0.5 - py);
                    if dx * dx + dy * dy <= BRUSH * BRUSH && self.mask[j * SIDE + i] != 0.0 {
                        self.mask[j * SIDE + i] = 0.0;
                        changed = true;
                    }
                }
            }
        }
        if changed {
            self.set_dirty();
        }
    }

    fn set_image(&mut self, idx: usize) -> Res<()> {
        let p = self
            .images
            .get(idx)
            .ok_or_else(|| format!("image={idx}: there are {} bundled test images", self.images.len()))?
            .clone();
        self.truth = load_image(&p)?;
        self.image_idx = idx;
        self.image_name = file_name(&p);
        self.set_dirty();
        Ok(())
    }

    fn set_task(&mut self, spec: &str) -> Res<()> {
        // checked here, so a bad spec is an error at once, not later in the event loop
        let s: TaskSpec = spec.parse().map_err(|e: tweedie::Error| e.to_string())?;
        if !operators::TASKS.iter().any(|t| t.name == s.name) {
            return Err(format!(
                "unknown task {:?}; tasks: {}",
                s.name,
                operators::TASKS
                    .iter()
                    .map(|t| t.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        self.task = Task::Registered(spec.into());
        self.set_dirty();
        Ok(())
    }

    fn set_solver(&mut self, name: &str) -> Res<()> {
        if !solvers::REGISTRY.iter().any(|e| e.name == name) {
            return Err(format!(
                "unknown solver {name:?}; solvers: {}",
                solvers::REGISTRY
                    .iter()
                    .map(|e| e.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        self.solver = name.into();
        self.status.note = format!("solver {name}, {} steps", self.steps());
        Ok(())
    }

    fn key(&mut self, event_loop: &ActiveEventLoop, key: &Key) -> Res<()> {
        match key {
            Key::Named(NamedKey::Escape) => {
                self.shutdown();
                event_loop.exit();
            }
            Key::Named(NamedKey::Space | NamedKey::Enter) => {
                self.cancel();
                self.start_pending = true;
            }
            Key::Named(NamedKey::ArrowUp) => self.steps = Some(self.steps() + 10),
            Key::Named(NamedKey::ArrowDown) => self.steps = Some(self.steps().saturating_sub(10).max(1)),
            Key::Named(NamedKey::ArrowRight) if !self.images.is_empty() => {
                self.set_image((self.image_idx + 1) % self.images.len())?
            }
            Key::Named(NamedKey::ArrowLeft) if !self.images.is_empty() => {
                self.set_image((self.image_idx + self.images.len() - 1) % self.images.len())?
            }
            Key::Character(c) => match c.to_lowercase().as_str() {
                "q" => {
                    self.shutdown();
                    event_loop.exit();
                }
                d @ ("1" | "2" | "3" | "4") => self.set_task(TASKS[d.parse::<usize>().unwrap_or(1) - 1])?,
                "c" => {
                    self.mask.fill(1.0);
                    if self.task == Task::Painted {
                        self.set_dirty();
                    }
                }
                "d" => self.set_solver("ddrm")?,
                "p" => self.set_solver("dps")?,
                "r" => self.set_solver("red-diff")?,
                "f" => self.set_solver("diffpir")?,
                "t" => self.set_solver("tds")?,
                "s" => self.shot_to = Some("viewer-screenshot.png".into()),
                _ => {}
            },
            _ => {}
        }
        Ok(())
    }

    /// Plays script actions until one has to wait (a run, a screenshot) or the script ends.
    fn play(&mut self, event_loop: &ActiveEventLoop) -> Res<()> {
        if self.script_started.elapsed() > SCRIPT_LIMIT {
            return Err(format!("the script did not finish within {SCRIPT_LIMIT:?}"));
        }
        loop {
            if let Some(e) = self.run_failed.take() {
                return Err(format!("the scripted run failed: {e}"));
            }
            // each change is applied (and its errors reported) before the next action
            if self.dirty || self.start_pending {
                return Ok(());
            }
            if self.waiting {
                if self.worker.is_some() || self.start_pending || self.dirty {
                    return Ok(());
                }
                self.waiting = false;
            }
            if self.shot_to.is_some() {
                return Ok(());
            }
            let Some(a) = self.script.as_mut().and_then(|s| s.pop_front()) else {
                return Ok(());
            };
            println!("script: {a:?}");
            match a {
                Action::Image(v) => match v.parse::<usize>() {
                    Ok(i) => self.set_image(i)?,
                    Err(_) => {
                        self.truth = load_image(Path::new(&v))?;
                        self.image_name = v;
                        self.set_dirty();
                    }
                },
                Action::Task(s) => self.set_task(&s)?,
                Action::Solver(s) => self.set_solver(&s)?,
                Action::Steps(n) => self.steps = Some(n),
                Action::Sigma(s) => {
                    self.sigma = s;
                    self.set_dirty();
                }
                Action::Seed(s) => {
                    self.seed = s;
                    self.set_dirty();
                }
                Action::Paint([x0, y0, x1, y1]) => {
                    // a drag over the observation panel, through the mouse's own path
                    let l = self.gfx.as_ref().map(|g| g.layout()).ok_or("no window")?;
                    self.last_paint = None;
                    for (x, y) in [(x0, y0), (x1, y1)] {
                        let (wx, wy) = l.window_at(1, x, y);
                        self.paint_at((wx, wy));
                    }
                    self.last_paint = None;
                }
                Action::Clear => {
                    self.mask.fill(1.0);
                    self.set_dirty();
                }
                Action::Run => self.start_pending = true,
                Action::Wait => self.waiting = true,
                Action::Screenshot(p) => {
                    self.shot_to = Some(p);
                    // the shot waits for the problem and any pending run to be on screen
                    self.waiting = true;
                }
                Action::Check => self.check()?,
                Action::Quit => {
                    self.shutdown();
                    event_loop.exit();
                    return Ok(());
                }
            }
            if let Some(g) = &self.gfx {
                g.window.request_redraw();
            }
        }
    }

    /// The scripted check, on the last screenshot only (what the window showed).
    fn check(&mut self) -> Res<()> {
        let shot = self
            .last_shot
            .as_ref()
            .ok_or("check: take a screenshot=PATH first")?;
        let p = self.problem.as_ref().ok_or("check: no problem was set up")?;
        let (truth, obs, est) = (shot.panel(0), shot.panel(1), shot.panel(2));
        let holes: Vec<usize> = (0..SIDE * SIDE).filter(|&i| p.missing[i]).collect();
        if holes.is_empty() {
            return Err("check: the observation lacks no pixel (paint a mask or choose a task)".into());
        }
        let change = holes.iter().map(|&i| (est[i] - obs[i]).abs()).sum::<f64>() / holes.len() as f64;
        let (p_obs, p_est) = (psnr01(&obs, &truth), psnr01(&est, &truth));
        println!(
            "check: over the {} missing pixels x̂0 differs from the observation by {change:.3} on average \
             (need > {MIN_CHANGE}); PSNR of the panels against the truth panel: observation {p_obs:.2} dB, \
             x̂0 {p_est:.2} dB",
            holes.len()
        );
        if change <= MIN_CHANGE || p_est <= p_obs {
            self.exit_code = 1;
            return Err("check failed: the restored panel does not improve on the observation".into());
        }
        println!("check: ok");
        Ok(())
    }

    /// Takes the worker's messages; forgets the worker once it is gone.
    fn poll_worker(&mut self) {
        let Some(w) = &self.worker else { return };
        let mut gone = false;
        while let Ok(m) = w.rx.try_recv() {
            match m {
                Msg::Step {
                    done,
                    steps,
                    elapsed,
                    psnr,
                } => {
                    self.status.done = done;
                    self.status.steps = steps;
                    self.status.ms_per_step = elapsed.as_secs_f64() * 1e3 / done as f64;
                    self.status.psnr = Some(psnr);
                    self.status.note.clear();
                }
                Msg::Finished { steps, elapsed, psnr } => {
                    let obs = self.problem.as_ref().map_or(f64::NAN, |p| p.psnr_obs);
                    self.status.done = steps;
                    self.status.psnr = Some(psnr);
                    self.status.note = "done".into();
                    println!(
                        "{} on {}: {steps} steps in {:.2} s ({:.0} ms/step); PSNR observation {obs:.2} dB, \
                         x̂0 {psnr:.2} dB; the window drew {} frames meanwhile, at most {:.0} ms apart",
                        self.solver,
                        self.task_name(),
                        elapsed.as_secs_f64(),
                        elapsed.as_secs_f64() * 1e3 / steps as f64,
                        self.frames,
                        self.longest_gap.as_secs_f64() * 1e3
                    );
                    gone = true;
                }
                Msg::Cancelled => {
                    self.status.note = "cancelled".into();
                    gone = true;
                }
                Msg::Failed(e) => {
                    eprintln!("viewer: the run failed: {e}");
                    self.run_failed = Some(e.clone());
                    self.status.note = format!("failed: {e}");
                    gone = true;
                }
            }
        }
        if gone || w.handle.is_finished() {
            if let Some(w) = self.worker.take() {
                let _ = w.handle.join();
            }
            // a message sent just before the thread ended
            if !gone && let Some(g) = &self.gfx {
                g.window.request_redraw();
            }
        }
    }

    fn update_title(&mut self) {
        let s = &self.status;
        let mut t = format!(
            "tweedie viewer — {} · {} · {} · step {}/{}",
            self.image_name,
            self.task_name(),
            self.solver,
            s.done,
            if s.steps > 0 { s.steps } else { self.steps() }
        );
        if s.done > 0 {
            t += &format!(" · {:.0} ms/step", s.ms_per_step);
        }
        if let Some(p) = &self.problem {
            t += &format!(" · PSNR obs {:.2} dB", p.psnr_obs);
        }
        if let Some(p) = s.psnr {
            t += &format!(", x̂0 {p:.2} dB");
        }
        if !s.note.is_empty() {
            t += &format!(" · {}", s.note);
        }
        if t != self.title
            && let Some(g) = &self.gfx
        {
            g.window.set_title(&t);
            self.title = t;
        }
    }

    fn init(&mut self, event_loop: &ActiveEventLoop) -> Res<()> {
        let gfx = Gfx::new(event_loop)?;
        let gpu = Gpu::from_device(
            gfx.device.clone(),
            gfx.queue.clone(),
            &tweedie::gpu::Options::default(),
        )
        .map_err(err("tweedie cannot use this device"))?;
        let model = UNet2DModel::load(&gpu, &self.args.weights).map_err(|e| {
            format!(
                "cannot load the prior from {}: {e} (give --weights DIR with a diffusers UNet of 1×32×32)",
                self.args.weights.display()
            )
        })?;
        model.check_input(&[1, 1, SIDE, SIDE]).map_err(|e| {
            format!(
                "the prior in {} does not take 1×32×32 images: {e}",
                self.args.weights.display()
            )
        })?;
        println!("{HELP}\nadapter: {}", gfx.adapter);
        self.gfx = Some(gfx);
        self.gpu = Some(gpu);
        self.model = Some(Arc::new(model));
        self.script_started = Instant::now();
        Ok(())
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())
}

impl ApplicationHandler for Viewer {
    fn resumed(&mut self, event_loop: &ActiveEventLoop) {
        if self.gfx.is_none()
            && let Err(e) = self.init(event_loop)
        {
            self.fail(event_loop, 2, &e);
        }
    }

    fn window_event(&mut self, event_loop: &ActiveEventLoop, _: WindowId, event: WindowEvent) {
        let r = match event {
            WindowEvent::CloseRequested => {
                self.shutdown();
                event_loop.exit();
                Ok(())
            }
            WindowEvent::Resized(s) => {
                if let Some(g) = &mut self.gfx {
                    g.resize(s.width, s.height);
                    g.window.request_redraw();
                }
                Ok(())
            }
            WindowEvent::KeyboardInput { event, .. }
                if event.state == ElementState::Pressed && !event.repeat =>
            {
                self.key(event_loop, &event.logical_key)
            }
            WindowEvent::MouseInput {
                state,
                button: MouseButton::Left,
                ..
            } => {
                self.painting = state == ElementState::Pressed;
                self.last_paint = None;
                if self.painting {
                    self.paint_at(self.cursor);
                }
                Ok(())
            }
            WindowEvent::CursorMoved { position, .. } => {
                self.cursor = (position.x, position.y);
                if self.painting {
                    self.paint_at(self.cursor);
                }
                Ok(())
            }
            WindowEvent::RedrawRequested => self.redraw(),
            _ => Ok(()),
        };
        if let Err(e) = r {
            if self.script.is_some() {
                let code = if self.exit_code == 0 { 2 } else { self.exit_code };
                self.fail(event_loop, code, &e);
            } else {
                eprintln!("viewer: {e}");
                self.status.note = e;
            }
        }
    }

    fn about_to_wait(&mut self, event_loop: &ActiveEventLoop) {
        if self.gfx.is_none() {
            return;
        }
        self.poll_worker();
        let mut r = Ok(());
        if self.worker.is_none() {
            if self.dirty {
                self.dirty = false;
                r = self.rebuild().map_err(|e| e.to_string());
            }
            if r.is_ok() && self.start_pending {
                self.start_pending = false;
                r = self.start();
            }
        }
        if r.is_ok() && self.script.is_some() {
            r = self.play(event_loop);
        }
        if let Err(e) = r {
            if self.script.is_some() {
                let code = if self.exit_code == 0 { 2 } else { self.exit_code };
                self.fail(event_loop, code, &e);
                return;
            }
            eprintln!("viewer: {e}");
            self.status.note = e;
        }
        // the window redraws on its own while a run is in flight (as a renderer's frame loop
        // does), and for a screenshot
        if (self.worker.is_some() || (self.shot_to.is_some() && !self.waiting))
            && let Some(g) = &self.gfx
        {
            g.window.request_redraw();
        }
        self.update_title();
        // wake up regularly while anything is going on; sleep until an event otherwise
        let busy = self.worker.is_some() || self.dirty || self.start_pending || self.script.is_some();
        event_loop.set_control_flow(if busy {
            ControlFlow::WaitUntil(Instant::now() + Duration::from_millis(30))
        } else {
            ControlFlow::Wait
        });
    }
}

impl Viewer {
    fn paint_at(&mut self, pos: (f64, f64)) {
        let Some(g) = &self.gfx else { return };
        if let Some(p) = g.layout().image_at(pos.0, pos.1) {
            let from = self.last_paint.unwrap_or(p);
            self.paint(from, p);
            self.last_paint = Some(p);
        } else {
            self.last_paint = None;
        }
    }

    fn redraw(&mut self) -> Res<()> {
        let take = self.shot_to.is_some() && !self.waiting;
        let progress = if self.status.steps > 0 {
            self.status.done as f32 / self.status.steps as f32
        } else {
            0.0
        };
        let Some(g) = &mut self.gfx else { return Ok(()) };
        let shot = g.draw(progress, take)?;
        if self.worker.is_some() {
            let now = Instant::now();
            if let Some(t) = self.last_frame {
                self.longest_gap = self.longest_gap.max(now - t);
            }
            self.last_frame = Some(now);
            self.frames += 1;
        }
        if let Some(shot) = shot {
            let path = self.shot_to.take().unwrap_or_default();
            shot.rgb
                .save(&path)
                .map_err(|e| format!("writing the screenshot {}: {e}", path.display()))?;
            println!(
                "screenshot: {} ({}x{}, {})",
                path.display(),
                shot.rgb.width(),
                shot.rgb.height(),
                if g.copyable {
                    "the presented swapchain image"
                } else {
                    "the frame drawn again offscreen: this surface cannot be copied from"
                }
            );
            self.last_shot = Some(shot);
        }
        Ok(())
    }
}

fn main() {
    let run = || -> Res<i32> {
        let args = parse_args()?;
        let mut viewer = Viewer::new(args)?;
        let event_loop = EventLoop::new().map_err(err(
            "could not connect to a display (set DISPLAY, or run under xvfb-run for a virtual one)",
        ))?;
        event_loop
            .run_app(&mut viewer)
            .map_err(err("the event loop failed"))?;
        viewer.shutdown();
        Ok(viewer.exit_code)
    };
    match run() {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("viewer: {e}");
            std::process::exit(2);
        }
    }
}
