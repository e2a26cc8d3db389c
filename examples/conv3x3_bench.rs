//! Times the stride-1 3x3 convolutions of the CPU-tuned path, Winograd (`TWEEDIE_WINOGRAD=on`)
//! against the direct kernel (`off`), shape by shape, alternating between the two in one process
//! and keeping the best of several trials (the machine may be shared and noisy): the measurement
//! behind `ops::conv::winograd_for`'s crossover.
//!
//! cargo run --release --example conv3x3_bench -- [--trials 5] [--batch 1,8] [--shapes cin:cout:hw,...]
//!     [--kind on|f4]   (TWEEDIE_WINOGRAD's values: F(2x2, 3x3) or F(4x4, 3x3); default on)
//!
//! Prints, per shape, milliseconds a convolution and GFLOP/s counted as the direct convolution's
//! multiply-adds (2 · N · H · W · Cout · Cin · 9), so that the two compare.

use std::time::Instant;
use tweedie::gpu::{Options, Winograd};
use tweedie::ops::{self, Conv2dSpec};
use tweedie::{Gpu, Tensor};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut trials = 5;
    let mut kind = Winograd::On;
    let mut batches = vec![1usize, 8];
    // the bundled prior's 3x3 convolutions (diffusers UNet2DModel, channels 32/64/64)
    let mut shapes: Vec<[usize; 3]> = vec![
        [1, 32, 32],
        [32, 32, 32],
        [64, 32, 32],
        [96, 32, 32],
        [32, 64, 16],
        [64, 64, 16],
        [128, 64, 16],
        [64, 64, 8],
        [128, 64, 8],
        [32, 1, 32],
    ];
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next().ok_or(format!("{a} needs a value"))?;
        match a.as_str() {
            "--trials" => trials = v.parse()?,
            "--kind" => kind = v.parse()?,
            "--batch" => batches = v.split(',').map(|s| s.parse()).collect::<Result<_, _>>()?,
            "--shapes" => {
                shapes = v
                    .split(',')
                    .map(|s| {
                        let p: Vec<usize> = s.split(':').map(|t| t.parse().unwrap_or(0)).collect();
                        match p[..] {
                            [a, b, c] if a * b * c > 0 => Ok([a, b, c]),
                            _ => Err(format!("--shapes: {s:?} is not cin:cout:hw")),
                        }
                    })
                    .collect::<Result<_, _>>()?
            }
            _ => return Err(format!("unknown argument {a}").into()),
        }
    }
    let open = |winograd| {
        Gpu::with_options(&Options {
            winograd,
            ..Options::from_env()?
        })
    };
    let gpus = [open(Winograd::Off)?, open(kind)?];
    println!(
        "| batch | cin → cout | map | direct ms | Winograd ms | direct GFLOP/s | Winograd GFLOP/s | Winograd ÷ direct |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for &n in &batches {
        for &[cin, cout, hw] in &shapes {
            let flops = 2.0 * (n * hw * hw * cout * cin * 9) as f64;
            // enough repetitions for about 20 ms of work at 20 GFLOP/s
            let reps = ((20e-3 * 20e9 / flops).ceil() as usize).clamp(1, 200);
            let xv: Vec<f32> = (0..n * cin * hw * hw)
                .map(|i| ((i * 7919 % 1000) as f32 - 500.0) * 1e-3)
                .collect();
            let wv: Vec<f32> = (0..cout * cin * 9)
                .map(|i| ((i * 104729 % 1000) as f32 - 500.0) * 1e-3)
                .collect();
            let mut best = [f64::INFINITY; 2];
            let mut inputs = Vec::new();
            for g in &gpus {
                let x = Tensor::from_slice(g, &[n, cin, hw, hw], &xv)?;
                let w = Tensor::from_slice(g, &[cout, cin, 3, 3], &wv)?;
                let packed = ops::PackedWeights::new(&w)?.map(std::sync::Arc::new);
                // warm-up: pipelines, pool, weight packing
                ops::conv2d_packed(&x, &w, None, Conv2dSpec::new(1, 1), packed.as_ref())?.to_vec()?;
                inputs.push((x, w, packed));
            }
            for _ in 0..trials {
                for (k, g) in gpus.iter().enumerate() {
                    let (x, w, packed) = &inputs[k];
                    g.synchronize()?;
                    let t = Instant::now();
                    for _ in 0..reps {
                        let _y = ops::conv2d_packed(x, w, None, Conv2dSpec::new(1, 1), packed.as_ref())?;
                    }
                    g.synchronize()?;
                    best[k] = best[k].min(t.elapsed().as_secs_f64() / reps as f64);
                }
            }
            println!(
                "| {n} | {cin} → {cout} | {hw}x{hw} | {:.3} | {:.3} | {:.1} | {:.1} | {:.2} |",
                best[0] * 1e3,
                best[1] * 1e3,
                flops / best[0] * 1e-9,
                flops / best[1] * 1e-9,
                best[1] / best[0]
            );
        }
    }
    // TWEEDIE_PROFILE=1: each side's kernels
    for g in &gpus {
        if let Some(report) = g.profile_report() {
            println!("{report}");
        }
    }
    Ok(())
}
