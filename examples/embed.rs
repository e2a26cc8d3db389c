//! Embedding tweedie in a host wgpu application: the host owns the device (opened with
//! `wgpu::Limits::default()`, as a renderer does) and its textures; tweedie computes on them.
//!
//! The host puts a Fashion-MNIST test image into its own `rgba8unorm` texture and hands device,
//! queue and texture to tweedie, which simulates a box-inpainting observation, runs DDRM and DPS step
//! by step and writes each intermediate x̂0 into a host "preview" texture (where a renderer would
//! draw it) and each result into a host texture. The host reads the final textures back itself and
//! saves `embed.png` (truth | observation | DDRM | DPS). No `to_vec` / `from_slice` between host and
//! tweedie: images cross only as textures.
//!
//! `cargo run --release --example embed [-- out.png]`

use std::path::Path;
use tweedie::gpu::Options;
use tweedie::models::UNet2DModel;
use tweedie::operators::{self, TaskSpec};
use tweedie::solvers::{self, Problem};
use tweedie::{Gpu, ops};

const SIZE: u32 = 32;

/// PSNRs (dB) of the trivial estimate, DDRM and DPS against the truth, and the picture.
pub struct Outcome {
    /// The observation itself (the trivial estimate for inpainting).
    pub trivial: f64,
    /// DDRM, 20 steps.
    pub ddrm: f64,
    /// DPS, `dps_steps` steps.
    pub dps: f64,
    /// Intermediate x̂0 written to the preview texture.
    pub previews: usize,
}

fn host_texture(device: &wgpu::Device, label: &str) -> wgpu::Texture {
    device.create_texture(&wgpu::TextureDescriptor {
        label: Some(label),
        size: wgpu::Extent3d {
            width: SIZE,
            height: SIZE,
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: wgpu::TextureFormat::Rgba8Unorm,
        usage: wgpu::TextureUsages::TEXTURE_BINDING
            | wgpu::TextureUsages::COPY_SRC
            | wgpu::TextureUsages::COPY_DST,
        view_formats: &[],
    })
}

/// The host's own readback of a whole texture (rows without the copy padding), as it would save a
/// frame: `texel` bytes per texel.
pub fn read_texture(device: &wgpu::Device, queue: &wgpu::Queue, t: &wgpu::Texture, texel: u32) -> Vec<u8> {
    let row = (t.width() * texel).next_multiple_of(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT);
    let buf = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("host readback"),
        size: (row * t.height()) as u64,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut enc = device.create_command_encoder(&Default::default());
    enc.copy_texture_to_buffer(
        t.as_image_copy(),
        wgpu::TexelCopyBufferInfo {
            buffer: &buf,
            layout: wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(row),
                rows_per_image: None,
            },
        },
        t.size(),
    );
    queue.submit([enc.finish()]);
    buf.map_async(wgpu::MapMode::Read, .., |r| r.expect("map"));
    device.poll(wgpu::PollType::wait_indefinitely()).expect("poll");
    let data = buf.get_mapped_range(..).expect("mapped").to_vec();
    (0..t.height())
        .flat_map(|y| data[(y * row) as usize..(y * row + t.width() * texel) as usize].to_vec())
        .collect()
}

/// The red channel of an rgba8unorm texture.
fn read_red(device: &wgpu::Device, queue: &wgpu::Queue, t: &wgpu::Texture) -> Vec<u8> {
    read_texture(device, queue, t, 4)
        .iter()
        .step_by(4)
        .copied()
        .collect()
}

fn psnr(a: &[u8], b: &[u8]) -> f64 {
    let mse: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| (*x as f64 - *y as f64).powi(2))
        .sum::<f64>()
        / a.len() as f64;
    10.0 * (255.0f64 * 255.0 / mse.max(1e-12)).log10()
}

/// Runs the host program: `root` is the repository (bundled prior and test image), `out` the PNG.
pub fn run(root: &Path, out: &Path, dps_steps: usize) -> tweedie::Result<Outcome> {
    // --- the host: its own device with the WebGPU default limits, and its own textures ---
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions::default()))
        .map_err(|e| tweedie::Error::NoAdapter(format!("the host found no adapter: {e}")))?;
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        required_limits: wgpu::Limits::default(),
        ..Default::default()
    }))
    .map_err(|e| tweedie::Error::Gpu(format!("the host could not open a device: {e}")))?;
    let truth = image::open(root.join("tests/data/fmnist_test_00000.png"))
        .map_err(|e| tweedie::Error::Input(format!("test image: {e}")))?
        .to_luma8();
    let rgba: Vec<u8> = truth.pixels().flat_map(|p| [p[0], p[0], p[0], 255]).collect();
    let input = host_texture(&device, "host image");
    queue.write_texture(
        input.as_image_copy(),
        &rgba,
        wgpu::TexelCopyBufferLayout {
            offset: 0,
            bytes_per_row: Some(SIZE * 4),
            rows_per_image: None,
        },
        input.size(),
    );
    let preview = host_texture(&device, "preview");
    let outs: Vec<wgpu::Texture> = (0..3).map(|_| host_texture(&device, "result")).collect();

    // --- tweedie on the host's device ---
    let gpu = Gpu::from_device(device.clone(), queue.clone(), &Options::default())?;
    let model = UNet2DModel::load(&gpu, &root.join("weights/fmnist32"))?;
    let x = ops::texture_to_tensor(&gpu, &input, 1)?;
    model.check_input(x.shape())?;
    let spec: TaskSpec = "inpaint-box:x=8,y=8,w=16,h=16".parse()?;
    let op = operators::build(&gpu, &spec, [1, SIZE as usize, SIZE as usize])?;
    let y = operators::add_noise(&op.forward(&x)?, 0.05, 1)?;
    let problem = Problem {
        model: &model,
        op: op.as_ref(),
        y: &y,
        sigma_y: 0.05,
    };
    ops::tensor_to_texture(&op.trivial(&y)?, 0, &outs[0])?;
    let mut previews = 0;
    for (solver, steps, tex) in [("ddrm", 20, &outs[1]), ("dps", dps_steps, &outs[2])] {
        let s = solvers::create(solver, op.as_ref(), Some(steps), &[])?;
        let mut run = s.start(&problem, 7)?;
        while run.step()? {
            if let Some(x0) = run.estimate() {
                // a renderer would draw `preview` now
                ops::tensor_to_texture(&ops::clamp(x0, -1.0, 1.0)?, 0, &preview)?;
                gpu.flush()?;
                previews += 1;
            }
            eprint!("\r{solver}: step {}/{}", run.done(), run.steps());
        }
        eprintln!();
        ops::tensor_to_texture(&run.finish()?, 0, tex)?;
    }
    gpu.flush()?; // everything tweedie recorded is submitted before the host's readback below

    // --- the host reads its textures back itself ---
    let truth_px: Vec<u8> = truth.pixels().map(|p| p[0]).collect();
    let imgs: Vec<Vec<u8>> = outs.iter().map(|t| read_red(&device, &queue, t)).collect();
    let mut canvas = image::GrayImage::new(SIZE * 4, SIZE);
    for (k, img) in std::iter::once(&truth_px).chain(&imgs).enumerate() {
        for (i, &v) in img.iter().enumerate() {
            canvas.put_pixel(
                k as u32 * SIZE + i as u32 % SIZE,
                i as u32 / SIZE,
                image::Luma([v]),
            );
        }
    }
    let canvas = image::imageops::resize(&canvas, SIZE * 16, SIZE * 4, image::imageops::FilterType::Nearest);
    canvas
        .save(out)
        .map_err(|e| tweedie::Error::Input(format!("writing {}: {e}", out.display())))?;
    Ok(Outcome {
        trivial: psnr(&imgs[0], &truth_px),
        ddrm: psnr(&imgs[1], &truth_px),
        dps: psnr(&imgs[2], &truth_px),
        previews,
    })
}

#[allow(dead_code)]
fn main() -> tweedie::Result<()> {
    let out = std::env::args().nth(1).unwrap_or_else(|| "embed.png".into());
    let o = run(Path::new(env!("CARGO_MANIFEST_DIR")), Path::new(&out), 20)?;
    println!(
        "box inpainting, PSNR vs truth: observation {:.2} dB, DDRM {:.2} dB, DPS {:.2} dB ({} previews); wrote {out}",
        o.trivial, o.ddrm, o.dps, o.previews
    );
    Ok(())
}
