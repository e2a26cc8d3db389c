//! One UNet forward pass, and one forward + VJP (∇_x ⟨v, ε⟩), timed with the device synchronised (criterion). Runs the bundled prior
//! (weights/fmnist32) when present, and the committed fixture models.
//!
//! `cargo bench --bench unet` — on lavapipe expect seconds per pass; the numbers to quote are ratios
//! between runs made in one session on one device. `benches/torch_cpu.py` times the same cases with
//! PyTorch on the CPU (the bundled prior at batch 1 and 8, the same inputs), for the side-by-side
//! table in the README.

use criterion::{Criterion, criterion_group, criterion_main};
use std::path::Path;
use tweedie::models::UNet2DModel;
use tweedie::{Gpu, Tensor};

fn bench_model(c: &mut Criterion, gpu: &Gpu, name: &str, dir: &Path, batch: usize) {
    let Ok(model) = UNet2DModel::load(gpu, dir) else {
        eprintln!("skipping {name}: cannot load {}", dir.display());
        return;
    };
    let (h, w) = model.config.sample_size.unwrap_or((32, 32));
    let shape = [batch, model.config.in_channels, h, w];
    let n: usize = shape.iter().product();
    let data: Vec<f32> = (0..n).map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0).collect();
    let x = Tensor::from_slice(gpu, &shape, &data).unwrap();
    let t = Tensor::full(gpu, &[batch], 500.0).unwrap();
    let v = Tensor::full(gpu, &[batch, model.config.out_channels, h, w], 0.1).unwrap();
    // peak device memory (pooled tensor bytes) of one forward, and of one forward + VJP
    let peak = |f: &dyn Fn()| {
        gpu.synchronize().unwrap();
        gpu.reset_peak();
        let base = gpu.pool_stats().bytes_in_use;
        f();
        gpu.synchronize().unwrap();
        (gpu.pool_stats().peak_bytes - base) as f64 / (1 << 20) as f64
    };
    let fwd = peak(&|| drop(model.forward(&x, &t).unwrap()));
    let vjp = peak(&|| drop(model.forward_vjp(&x, &t, &v).unwrap()));
    eprintln!("{name} {shape:?}: peak device memory {fwd:.1} MiB forward, {vjp:.1} MiB forward + VJP");
    c.bench_function(&format!("forward {name} {shape:?}"), |b| {
        b.iter(|| {
            let eps = model.forward(&x, &t).unwrap();
            gpu.synchronize().unwrap();
            eps
        })
    });
    c.bench_function(&format!("forward+vjp {name} {shape:?}"), |b| {
        b.iter(|| {
            let r = model.forward_vjp(&x, &t, &v).unwrap();
            gpu.synchronize().unwrap();
            r
        })
    });
}

fn unet(c: &mut Criterion) {
    let gpu = Gpu::with_options(&tweedie::gpu::Options::from_env().expect("TWEEDIE_* settings"))
        .expect("a GPU adapter");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    bench_model(c, &gpu, "fmnist32", &root.join("weights/fmnist32"), 1);
    bench_model(c, &gpu, "fmnist32", &root.join("weights/fmnist32"), 8);
    bench_model(c, &gpu, "attn_heads", &root.join("tests/fixtures/attn_heads"), 2);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(std::time::Duration::from_secs(10));
    targets = unet
}
criterion_main!(benches);
