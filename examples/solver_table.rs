//! The solver × task table of README.md: every solver on the committed Fashion-MNIST test images
//! with the bundled prior, σ_y = 0.05, printed as Markdown (PSNR / SSIM mean over the images, the
//! trivial estimate's for reference, steps, and wall time per image on this machine's adapter).
//!
//! ```text
//! cargo run --release --example solver_table -- [--images N] [--solvers a,b] [--tasks t1;t2]
//!     [--first K] [--steps N] [--set k=v ...]
//! ```
//!
//! Images are `tests/data/fmnist_test_K..K+N` (`--first`, default 0). Without `--steps` each solver
//! runs its own default. Unsupported pairs print the solver's error.
use std::path::Path;
use std::time::Instant;
use tweedie::io::{Image, batch_to_images, read_image};
use tweedie::metrics::{psnr, ssim};
use tweedie::models::UNet2DModel;
use tweedie::operators::{self, TaskSpec};
use tweedie::solvers::{self, Problem};
use tweedie::{Gpu, Tensor};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let get = |k: &str| args.iter().position(|a| a == k).map(|i| args[i + 1].clone());
    let images: usize = get("--images").map_or(8, |v| v.parse().unwrap());
    let first: usize = get("--first").map_or(0, |v| v.parse().unwrap());
    let steps: Option<usize> = get("--steps").map(|v| v.parse().unwrap());
    let solvers_arg = get("--solvers").unwrap_or_else(|| solvers::names().join(","));
    let tasks_arg =
        get("--tasks").unwrap_or_else(|| "inpaint-box;sr:factor=4;deblur-gauss;cs:ratio=0.25".to_string());
    let sets: Vec<(String, String)> = args
        .iter()
        .enumerate()
        .filter(|(_, a)| *a == "--set")
        .map(|(i, _)| {
            let (k, v) = args[i + 1].split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let g = Gpu::new().unwrap();
    let dir = root.join("weights/fmnist32");
    let model = UNet2DModel::load(&g, &dir).unwrap();
    let truths: Vec<Image> = (first..first + images)
        .map(|i| read_image(&root.join(format!("tests/data/fmnist_test_{i:05}.png"))).unwrap())
        .collect();
    let data: Vec<f32> = truths.iter().flat_map(|t| t.data.iter().copied()).collect();
    let x = Tensor::from_slice(&g, &[images, 1, 32, 32], &data).unwrap();
    let score = |t: &Tensor| {
        let imgs = batch_to_images(&t.to_vec().unwrap(), t.shape());
        let n = truths.len() as f64;
        (
            imgs.iter().zip(&truths).map(|(a, b)| psnr(a, b)).sum::<f64>() / n,
            imgs.iter().zip(&truths).map(|(a, b)| ssim(a, b)).sum::<f64>() / n,
        )
    };
    println!("adapter: {}", g.adapter_info().name);
    println!("| solver | task | steps | PSNR (dB) | SSIM | trivial PSNR / SSIM | s / image |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for task in tasks_arg.split(';') {
        let spec: TaskSpec = task.parse().unwrap();
        let op = operators::build(&g, &spec, [1, 32, 32]).unwrap();
        let y = operators::add_noise(&op.forward(&x).unwrap(), 0.05, 1).unwrap();
        let (tp, ts) = score(&op.trivial(&y).unwrap());
        for name in solvers_arg.split(',') {
            let s = match solvers::create_for_task(name, &spec.name, steps, &sets) {
                Ok(s) => s,
                Err(e) => {
                    println!("| {name} | {task} | – | {e} | | | |");
                    continue;
                }
            };
            let st = s.settings();
            let steps = st
                .iter()
                .find(|(k, _)| k == "steps" || k == "levels")
                .map_or("?".into(), |(_, v)| v.clone());
            let p = Problem {
                model: &model,
                op: op.as_ref(),
                y: &y,
                sigma_y: 0.05,
            };
            let t0 = Instant::now();
            match s.solve(&p, 7, &mut |_, _| {}) {
                Ok(out) => {
                    let (sp, ss) = score(&out);
                    let dt = t0.elapsed().as_secs_f64() / images as f64;
                    println!(
                        "| {name} | {task} | {steps} | {sp:.2} | {ss:.3} | {tp:.2} / {ts:.3} | {dt:.1} |"
                    );
                }
                Err(e) => println!("| {name} | {task} | {steps} | {e} | | {tp:.2} / {ts:.3} | |"),
            }
        }
    }
}
