//! Blind deblurring with Blind RED-Diff on the committed Fashion-MNIST test images: each image is
//! blurred by a kernel the solver is not given (Gaussian σ 1.0 and 2.0, a seeded motion kernel;
//! 9×9), noised, and restored with `deblur-blind:size=9`; RED-Diff with the true kernel is the
//! upper bound. Prints a Markdown table (PSNR of the observation, the blind and the non-blind
//! restorations; relative L2 error of the kernel at the start and at the end) and writes a picture:
//! one row per blur, truth | observation | blind | non-blind | true kernel | starting kernel |
//! estimated kernel.
//!
//! ```text
//! cargo run --release --example blind_deblur -- [--first K] [--images N] [--steps S]
//!     [--sigma-y 0.02] [--solver blind-red-diff|blind-dps|gibbs-ddrm] [--set k=v ...] [--out docs/blind.png]
//! ```
//!
//! `--set` goes to the blind solver (for blind RED-Diff, all but `kernel_lr` to RED-Diff too).
//!
//! ```text
//! ```
use std::path::Path;
use std::time::Instant;
use tweedie::io::{Image, batch_to_images, read_image, write_image};
use tweedie::metrics::psnr;
use tweedie::models::UNet2DModel;
use tweedie::operators::{self, TaskSpec, gaussian_kernel, motion_kernel};
use tweedie::ops::reference::rel_l2;
use tweedie::solvers::{self, Problem};
use tweedie::{Gpu, Tensor};

const SIZE: usize = 9;

fn mean_psnr(x: &Tensor, truths: &[Image]) -> f64 {
    let imgs = batch_to_images(&x.to_vec().unwrap(), x.shape());
    imgs.iter().zip(truths).map(|(a, b)| psnr(a, b)).sum::<f64>() / truths.len() as f64
}

/// A 32×32 tile with the kernel enlarged ×3 in its centre, scaled so its peak is white.
fn kernel_tile(k: &[f32]) -> Vec<f32> {
    let mx = k.iter().cloned().fold(1e-12, f32::max);
    let mut t = vec![-1.0; 32 * 32];
    let off = (32 - 3 * SIZE) / 2;
    for y in 0..3 * SIZE {
        for x in 0..3 * SIZE {
            t[(off + y) * 32 + off + x] = 2.0 * k[(y / 3) * SIZE + x / 3] / mx - 1.0;
        }
    }
    t
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let get = |k: &str| args.iter().position(|a| a == k).map(|i| args[i + 1].clone());
    let first: usize = get("--first").map_or(4, |v| v.parse().unwrap());
    let images: usize = get("--images").map_or(4, |v| v.parse().unwrap());
    let steps: usize = get("--steps").map_or(100, |v| v.parse().unwrap());
    let sigma_y: f64 = get("--sigma-y").map_or(0.02, |v| v.parse().unwrap());
    let out = get("--out").unwrap_or_else(|| "docs/blind.png".into());
    let solver = get("--solver").unwrap_or_else(|| "blind-red-diff".into());
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
    let model = UNet2DModel::load(&g, &root.join("weights/fmnist32")).unwrap();
    let truths: Vec<Image> = (first..first + images)
        .map(|i| read_image(&root.join(format!("tests/data/fmnist_test_{i:05}.png"))).unwrap())
        .collect();
    let data: Vec<f32> = truths.iter().flat_map(|t| t.data.iter().copied()).collect();
    let x = Tensor::from_slice(&g, &[images, 1, 32, 32], &data).unwrap();
    let cases = [
        (
            "Gaussian σ 1.0",
            "deblur-gauss:size=9,sigma=1",
            gaussian_kernel(SIZE, 1.0),
        ),
        (
            "Gaussian σ 2.0",
            "deblur-gauss:size=9,sigma=2",
            gaussian_kernel(SIZE, 2.0),
        ),
        (
            "motion (seed 3)",
            "deblur-motion:size=9,intensity=0.5,seed=3",
            motion_kernel(SIZE, 0.5, 3),
        ),
    ];
    println!(
        "{solver}, {steps} steps, σ_y = {sigma_y}, test images {first}..{}, on {}\n",
        first + images - 1,
        g.adapter_info().name
    );
    println!(
        "| blur | observation | {solver} | RED-Diff, true kernel | kernel error: start → end | s / image |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    let mut rows: Vec<Vec<f32>> = Vec::new();
    for (name, task, truth_k) in &cases {
        let spec: TaskSpec = task.parse().unwrap();
        let op = operators::build(&g, &spec, [1, 32, 32]).unwrap();
        let y = operators::add_noise(&op.forward(&x).unwrap(), sigma_y, 1).unwrap();
        let blind_spec: TaskSpec = "deblur-blind:size=9".parse().unwrap();
        let blind = operators::build(&g, &blind_spec, [1, 32, 32]).unwrap();
        let k0 = blind.unknown().unwrap().to_vec().unwrap();
        let solve = |name: &str, task: &str, op: &dyn operators::Operator| {
            // kernel_lr is the blind solver's alone; another blind solver's settings are its own
            let sets: Vec<(String, String)> = sets
                .iter()
                .filter(|(k, _)| name == solver || (solver == "blind-red-diff" && k != "kernel_lr"))
                .cloned()
                .collect();
            let s = solvers::create_for_task(name, task, Some(steps), &sets).unwrap();
            let p = Problem {
                model: &model,
                op,
                y: &y,
                sigma_y,
            };
            s.solve(&p, 7, &mut |_, _| {}).unwrap()
        };
        let t0 = Instant::now();
        let xb = solve(&solver, "deblur-blind", blind.as_ref());
        let secs = t0.elapsed().as_secs_f64() / images as f64;
        let k1 = blind.unknown().unwrap().to_vec().unwrap();
        let xn = solve("red-diff", &spec.name, op.as_ref());
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} | {:.3} → {:.3} | {secs:.1} |",
            mean_psnr(&y, &truths),
            mean_psnr(&xb, &truths),
            mean_psnr(&xn, &truths),
            rel_l2(&k0, truth_k),
            rel_l2(&k1, truth_k)
        );
        let (yb, bb, nb) = (y.to_vec().unwrap(), xb.to_vec().unwrap(), xn.to_vec().unwrap());
        let mut row = vec![-1.0f32; 32 * 32 * 7];
        let tiles = [
            truths[0].data.clone(),
            yb[..1024].to_vec(),
            bb[..1024].iter().map(|v| v.clamp(-1.0, 1.0)).collect(),
            nb[..1024].iter().map(|v| v.clamp(-1.0, 1.0)).collect(),
            kernel_tile(truth_k),
            kernel_tile(&k0),
            kernel_tile(&k1),
        ];
        for (j, t) in tiles.iter().enumerate() {
            for yy in 0..32 {
                for xx in 0..32 {
                    row[yy * 32 * 7 + j * 32 + xx] = t[yy * 32 + xx];
                }
            }
        }
        rows.push(row);
    }
    let pic = Image {
        channels: 1,
        height: 32 * rows.len(),
        width: 32 * 7,
        data: rows.concat(),
    };
    let out = Path::new(&out);
    if let Some(d) = out.parent() {
        std::fs::create_dir_all(d).unwrap();
    }
    write_image(out, &pic, 3).unwrap();
    println!(
        "\nwrote {} (rows: the blurs above; columns: truth, observation, blind, non-blind, true kernel, starting kernel, estimate)",
        out.display()
    );
}
