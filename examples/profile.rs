//! The steady-state kernel profile of one UNet forward pass (or forward + VJP): runs the model a few
//! times, forgets the first runs (which also pay for fresh buffers and packing the weights) and
//! prints the per-kernel table of the rest (GPU timestamps where the device has them; seconds,
//! share, GFLOP/s of convolutions, products and attention, GB/s of the bytes bound), with the wall
//! time of each run.
//!
//! ```text
//! cargo run --release --example profile -- [--batch 8] [--vjp] [--runs 5] [--model weights/fmnist32]
//! ```
use std::path::PathBuf;
use std::time::Instant;
use tweedie::gpu::Options;
use tweedie::models::UNet2DModel;
use tweedie::{Gpu, Tensor};

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let (mut batch, mut vjp, mut runs) = (8usize, false, 5usize);
    let mut model = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("weights/fmnist32");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--batch" => batch = args.next().ok_or("--batch needs a value")?.parse()?,
            "--runs" => runs = args.next().ok_or("--runs needs a value")?.parse()?,
            "--model" => model = args.next().ok_or("--model needs a directory")?.into(),
            "--vjp" => vjp = true,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let runs = runs.max(3);
    let gpu = Gpu::with_options(&Options {
        profile: true,
        ..Options::from_env()?
    })?;
    let m = UNet2DModel::load(&gpu, &model)?;
    let (h, w) = m.config.sample_size.unwrap_or((32, 32));
    let shape = [batch, m.config.in_channels, h, w];
    let n: usize = shape.iter().product();
    let data: Vec<f32> = (0..n).map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0).collect();
    let x = Tensor::from_slice(&gpu, &shape, &data)?;
    let t = Tensor::full(&gpu, &[batch], 500.0)?;
    let v = Tensor::full(&gpu, &[batch, m.config.out_channels, h, w], 0.1)?;
    let what = if vjp { "forward + VJP" } else { "forward" };
    for r in 0..runs {
        if r == 2 {
            gpu.reset_profile()?;
        }
        let start = Instant::now();
        if vjp {
            drop(m.forward_vjp(&x, &t, &v)?);
        } else {
            drop(m.forward(&x, &t)?);
        }
        gpu.synchronize()?;
        let note = if r < 2 { " (warm-up, not profiled)" } else { "" };
        eprintln!(
            "{what} {shape:?} run {r}: {:.1} ms{note}",
            start.elapsed().as_secs_f64() * 1e3
        );
    }
    if let Some(report) = gpu.profile_report() {
        println!("{what} {shape:?}, {} profiled runs\n{report}", runs - 2);
    }
    Ok(())
}
