//! The `tweedie` command line.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use tweedie::models::UNet2DModel;
use tweedie::{Error, Gpu, Result, Tensor};

#[derive(Parser)]
#[command(
    name = "tweedie",
    version,
    about = "Diffusion models as priors for imaging inverse problems, on any GPU"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Lists the GPU adapters, the one chosen, its backend, features and key limits.
    Info,
    /// Runs the model once: writes `eps` = model(x, t) for the tensor `x` of the input file.
    Eps {
        /// diffusers UNet2DModel directory (config.json + diffusion_pytorch_model.safetensors).
        #[arg(long)]
        model: PathBuf,
        /// safetensors file holding `x` ([B, C, H, W], f32).
        #[arg(long)]
        input: PathBuf,
        /// Integer timestep, for the whole batch.
        #[arg(long)]
        t: u32,
        /// Output safetensors file (tensor `eps`).
        #[arg(long)]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let r = match cli.cmd {
        Cmd::Info => info(),
        Cmd::Eps { model, input, t, out } => eps(&model, &input, t, &out),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn info() -> Result<()> {
    println!("adapters seen:");
    for a in tweedie::gpu::list_adapters() {
        println!(
            "  {:<40} {:?}  {:?}  {}",
            a.name, a.backend, a.device_type, a.driver
        );
    }
    let gpu = Gpu::new()?;
    let i = gpu.adapter_info();
    let l = gpu.limits();
    println!("chosen: {} ({:?}, {:?})", i.name, i.backend, i.device_type);
    println!("driver: {} {}", i.driver, i.driver_info);
    println!("subgroup size: {}..{}", i.subgroup_min_size, i.subgroup_max_size);
    let f = gpu.features();
    let names: Vec<String> = [
        (wgpu::Features::TIMESTAMP_QUERY, "timestamps"),
        (wgpu::Features::SHADER_F16, "f16"),
        (wgpu::Features::SUBGROUP, "subgroups"),
        (wgpu::Features::IMMEDIATES, "immediates"),
    ]
    .iter()
    .map(|(flag, n)| format!("{n}={}", if f.contains(*flag) { "yes" } else { "no" }))
    .collect();
    println!("features: {}", names.join(" "));
    println!(
        "limits: max_storage_buffer_binding_size={} MiB max_buffer_size={} MiB max_compute_workgroups_per_dimension={} max_compute_workgroup_storage_size={} max_storage_buffers_per_shader_stage={}",
        l.max_storage_buffer_binding_size >> 20,
        l.max_buffer_size >> 20,
        l.max_compute_workgroups_per_dimension,
        l.max_compute_workgroup_storage_size,
        l.max_storage_buffers_per_shader_stage
    );
    Ok(())
}

fn read_tensor(path: &std::path::Path, name: &str) -> Result<tweedie::io::HostTensor> {
    let mut all = tweedie::io::read_safetensors(path)?;
    all.remove(name).ok_or_else(|| {
        Error::Input(format!(
            "{} has no tensor named {name:?} (it has: {})",
            path.display(),
            all.keys().cloned().collect::<Vec<_>>().join(", ")
        ))
    })
}

fn eps(model: &std::path::Path, input: &std::path::Path, t: u32, out: &std::path::Path) -> Result<()> {
    let gpu = Gpu::new()?;
    let m = UNet2DModel::load(&gpu, model)?;
    let x = read_tensor(input, "x")?;
    m.check_input(&x.shape)?;
    let xt = Tensor::from_slice(&gpu, &x.shape, &x.data)?;
    let e = m.forward_t(&xt, t as f32)?;
    let ev = e.to_vec()?;
    if let Some(i) = ev.iter().position(|v| !v.is_finite()) {
        return Err(Error::NonFinite(format!(
            "the model output has a non-finite value at index {i}"
        )));
    }
    tweedie::io::write_safetensors(out, &[("eps", e.shape(), &ev)])?;
    println!("wrote eps {:?} to {}", e.shape(), out.display());
    Ok(())
}
