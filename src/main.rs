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
        /// Output safetensors file (tensor `eps`, and `vjp` with --vjp).
        #[arg(long)]
        out: PathBuf,
        /// safetensors file holding `v` (the shape of the output): also writes `vjp` = ∇_x ⟨v, eps⟩.
        #[arg(long)]
        vjp: Option<PathBuf>,
    },
    /// Draws unconditional samples from the model (the bundled Fashion-MNIST prior by default) and
    /// writes them as a grid.
    Sample {
        /// diffusers UNet2DModel directory; default: the bundled weights/fmnist32.
        #[arg(long)]
        model: Option<PathBuf>,
        /// Number of samples.
        #[arg(long, default_value_t = 16)]
        n: usize,
        /// Sampling steps (respaced from the training steps).
        #[arg(long, default_value_t = 100)]
        steps: usize,
        /// ddpm (ancestral) or ddim.
        #[arg(long, default_value = "ddim")]
        sampler: String,
        /// DDIM stochasticity (0: deterministic).
        #[arg(long, default_value_t = 0.0)]
        eta: f64,
        /// Seed of the Gaussian stream.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Output PNG grid.
        #[arg(long, default_value = "samples.png")]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let r = match cli.cmd {
        Cmd::Info => info(),
        Cmd::Eps {
            model,
            input,
            t,
            out,
            vjp,
        } => eps(&model, &input, t, &out, vjp.as_deref()),
        Cmd::Sample {
            model,
            n,
            steps,
            sampler,
            eta,
            seed,
            out,
        } => sample(model, n, steps, &sampler, eta, seed, &out),
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

fn finite(v: &[f32], what: &str) -> Result<()> {
    match v.iter().position(|x| !x.is_finite()) {
        Some(i) => Err(Error::NonFinite(format!(
            "{what} has a non-finite value at index {i}"
        ))),
        None => Ok(()),
    }
}

fn eps(
    model: &std::path::Path,
    input: &std::path::Path,
    t: u32,
    out: &std::path::Path,
    vjp: Option<&std::path::Path>,
) -> Result<()> {
    let gpu = Gpu::new()?;
    let m = UNet2DModel::load(&gpu, model)?;
    let x = read_tensor(input, "x")?;
    m.check_input(&x.shape)?;
    let xt = Tensor::from_slice(&gpu, &x.shape, &x.data)?;
    let tt = Tensor::full(&gpu, &[x.shape[0]], t as f32)?;
    match vjp {
        None => {
            let e = m.forward(&xt, &tt)?;
            let ev = e.to_vec()?;
            finite(&ev, "the model output")?;
            tweedie::io::write_safetensors(out, &[("eps", e.shape(), &ev)])?;
            println!("wrote eps {:?} to {}", e.shape(), out.display());
        }
        Some(vpath) => {
            let v = read_tensor(vpath, "v")?;
            let want: Vec<usize> = vec![x.shape[0], m.config.out_channels, x.shape[2], x.shape[3]];
            if v.shape != want {
                return Err(Error::Input(format!(
                    "{}: v has shape {:?} but the model output has shape {want:?}",
                    vpath.display(),
                    v.shape
                )));
            }
            let vt = Tensor::from_slice(&gpu, &v.shape, &v.data)?;
            let (e, g) = m.forward_vjp(&xt, &tt, &vt)?;
            let (ev, gv) = (e.to_vec()?, g.to_vec()?);
            finite(&ev, "the model output")?;
            finite(&gv, "the vector-Jacobian product")?;
            tweedie::io::write_safetensors(out, &[("eps", e.shape(), &ev), ("vjp", g.shape(), &gv)])?;
            println!(
                "wrote eps {:?} and vjp {:?} to {}",
                e.shape(),
                g.shape(),
                out.display()
            );
        }
    }
    Ok(())
}

/// The bundled prior: `weights/fmnist32` under the working directory, else in the source tree.
fn default_model() -> PathBuf {
    let local = PathBuf::from("weights/fmnist32");
    if local.join("config.json").is_file() {
        return local;
    }
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/weights/fmnist32"))
}

/// A one-line progress bar on stderr.
fn progress_bar(label: &str) -> impl FnMut(usize, usize) {
    let start = std::time::Instant::now();
    let label = label.to_string();
    move |done, total| {
        let width = 30;
        let filled = done * width / total.max(1);
        let el = start.elapsed().as_secs_f64();
        let eta = if done > 0 {
            el / done as f64 * (total - done) as f64
        } else {
            0.0
        };
        eprint!(
            "\r{label} [{}{}] {done}/{total}  {el:.0}s elapsed, {eta:.0}s left ",
            "=".repeat(filled),
            " ".repeat(width - filled)
        );
        if done == total {
            eprintln!();
        }
    }
}

fn sample(
    model: Option<PathBuf>,
    n: usize,
    steps: usize,
    sampler: &str,
    eta: f64,
    seed: u64,
    out: &std::path::Path,
) -> Result<()> {
    use tweedie::diffusion::{Sampler, Schedule};
    let sampler = match sampler {
        "ddpm" => Sampler::Ddpm,
        "ddim" => Sampler::Ddim { eta },
        other => {
            return Err(Error::Input(format!(
                "unknown sampler {other:?}; use ddpm or ddim"
            )));
        }
    };
    if n == 0 {
        return Err(Error::Input("--n must be at least 1".into()));
    }
    let dir = model.unwrap_or_else(default_model);
    let gpu = Gpu::new()?;
    let m = UNet2DModel::load(&gpu, &dir)?;
    let sched = Schedule::for_model_dir(&dir)?;
    let (h, w) = m.config.sample_size.ok_or_else(|| {
        Error::Model(format!(
            "{}: config.json has no sample_size to sample at",
            dir.display()
        ))
    })?;
    let shape = [n, m.config.in_channels, h, w];
    let x = tweedie::diffusion::sample(
        &m,
        &sched,
        &shape,
        steps,
        sampler,
        seed,
        &mut progress_bar("sampling"),
    )?;
    let images = tweedie::io::batch_to_images(&x.to_vec()?, &shape);
    let cols = (n as f64).sqrt().ceil() as usize;
    let scale = if h <= 64 { 4 } else { 1 };
    tweedie::io::write_image(out, &tweedie::io::grid(&images, cols)?, scale)?;
    println!("wrote {n} samples to {}", out.display());
    Ok(())
}
