//! The `tweedie` command line.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use tweedie::diffusion::Denoiser;
use tweedie::models::Model;
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
    /// Architecture of a guided-diffusion checkpoint given to --model: a preset (ffhq_10m,
    /// imagenet256_uncond) or a JSON file of guided-diffusion's create_model arguments. Default:
    /// <checkpoint>.json or config.json beside it, else the preset of its file name.
    #[arg(long, global = true, value_name = "PRESET|FILE")]
    model_config: Option<String>,
}

/// `--model-config`, for [`load_model`].
static MODEL_CONFIG: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();

/// Loads `--model`: a diffusers directory or a guided-diffusion checkpoint (with `--model-config`).
fn load_model(gpu: &Gpu, path: &std::path::Path) -> Result<Model> {
    let cfg = MODEL_CONFIG.get().and_then(|c| c.as_deref());
    Model::load(gpu, path, cfg)
}

#[derive(Subcommand)]
enum Cmd {
    /// Lists the GPU adapters, the one chosen, its backend, features and key limits.
    Info,
    /// Runs the model once: writes `eps` = model(x, t) for the tensor `x` of the input file.
    Eps {
        /// diffusers UNet2DModel directory (config.json + diffusion_pytorch_model.safetensors), or
        /// a guided-diffusion checkpoint (.pt or .safetensors; see --model-config).
        #[arg(long)]
        model: PathBuf,
        /// safetensors file holding `x` ([B, C, H, W], f32).
        #[arg(long)]
        input: PathBuf,
        /// Integer timestep, for the whole batch.
        #[arg(long, allow_negative_numbers = true, value_parser = whole::<u32>)]
        t: u32,
        /// Output safetensors file (tensor `eps`, and `vjp` with --vjp).
        #[arg(long)]
        out: PathBuf,
        /// safetensors file holding `v` (the shape of the output): also writes `vjp` = ∇_x ⟨v, eps⟩.
        #[arg(long)]
        vjp: Option<PathBuf>,
    },
    /// Simulates a measurement: y = A x + sigma_y n, written as a picture (or .safetensors).
    Degrade {
        /// Task spec, e.g. inpaint-box, sr:factor=4, deblur-gauss:size=9,sigma=1.5, cs:ratio=0.25.
        #[arg(long)]
        task: String,
        /// The clean image (PNG).
        #[arg(long)]
        input: PathBuf,
        /// Measurement noise in [-1, 1] units (DPS: 0.05).
        #[arg(long, default_value_t = 0.05, allow_negative_numbers = true)]
        sigma_y: f64,
        /// Seed of the noise (and of random masks and kernels left unspecified).
        #[arg(long, allow_negative_numbers = true, value_parser = whole::<u64>, default_value_t = 0)]
        seed: u64,
        /// Output: .png (the observation as a picture) or .safetensors (the exact measurement `y`).
        #[arg(long)]
        out: PathBuf,
    },
    /// Restores observations with a diffusion-model solver.
    Restore {
        /// Task spec the observations were made with (default: the one degrade recorded in them;
        /// a given spec must agree with it).
        #[arg(long)]
        task: Option<String>,
        /// Solver: dps, ddrm, ddnm, pigdm, mcg, score-ald, red-diff, dmplug, mmps, tmpd, diffpir,
        /// daps, the particle solvers tds, smcdiff (inpainting), mcgdiff and fps, or blind-red-diff
        /// for deblur-blind (ddrm, ddnm, pigdm, mcgdiff and fps need an operator with an SVD: every
        /// task but deblur-motion). README.md has each one's parameters.
        #[arg(long, default_value = "dps")]
        solver: String,
        /// Observations (PNG or .safetensors from degrade); several restore as one batch.
        #[arg(long, num_args = 1.., required = true)]
        observed: Vec<PathBuf>,
        /// Ground-truth images, one per observation: prints PSNR and SSIM.
        #[arg(long, num_args = 1..)]
        truth: Vec<PathBuf>,
        /// Solver steps (default: the solver's own).
        #[arg(long, allow_negative_numbers = true, value_parser = whole::<usize>)]
        steps: Option<usize>,
        /// Seed of the solver's noise.
        #[arg(long, allow_negative_numbers = true, value_parser = whole::<u64>, default_value_t = 0)]
        seed: u64,
        /// Measurement noise the observations carry, in [-1, 1] units (default: the σ_y degrade
        /// recorded in them, else 0.05).
        #[arg(long, allow_negative_numbers = true)]
        sigma_y: Option<f64>,
        /// Solver parameters, key=value (e.g. scale=0.5 for dps, eta=0.85 for ddrm; measure=0 makes
        /// any solver ignore the measurement).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// diffusers UNet2DModel directory or guided-diffusion checkpoint (.pt, .safetensors; see
        /// --model-config); default: the bundled weights/fmnist32.
        #[arg(long)]
        model: Option<PathBuf>,
        /// Output PNG (one observation) or directory (several).
        #[arg(long)]
        out: PathBuf,
        /// Also write observation | restored | truth side by side.
        #[arg(long)]
        grid: Option<PathBuf>,
        /// Particle solvers (tds, mcgdiff, fps): also write the per-pixel posterior standard
        /// deviation of the weighted particles as a picture (black 0, white the batch's largest,
        /// printed); a PNG for one observation, a directory for several. Added to --grid.
        #[arg(long)]
        std: Option<PathBuf>,
    },
    /// Sweeps solvers × tasks × steps on a set of images with the same measurements for every
    /// solver; writes results.csv / results.json, table.md and a PSNR-against-steps chart per task
    /// into --out. Restarted with the same --out, it computes only what is missing (reusing a row
    /// only when its settings, σ_y, model and image are this run's). --shard K/N runs one of N
    /// parts; --merge OUT DIR... joins the parts.
    Eval {
        /// Clean images: PNG files and/or folders of them (all of one size).
        #[arg(long, num_args = 1.., required_unless_present = "merge")]
        images: Vec<PathBuf>,
        /// Task specs, separated by ';' or ',' (e.g. "inpaint-box,sr:factor=4,deblur-gauss").
        #[arg(long, default_value = "inpaint-box;sr:factor=4;deblur-gauss")]
        tasks: String,
        /// Solvers, comma-separated.
        #[arg(long, default_value = "dps,ddrm,pigdm")]
        solvers: String,
        /// Step counts, comma-separated.
        #[arg(long, default_value = "20,50,100")]
        steps: String,
        /// Solver seeds per run.
        #[arg(long, allow_negative_numbers = true, value_parser = whole::<u64>, default_value_t = 1)]
        seeds: u64,
        /// Measurement noise, in [-1, 1] units.
        #[arg(long, default_value_t = 0.05, allow_negative_numbers = true)]
        sigma_y: f64,
        /// Solver parameters for every solver that takes them, key=value.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// Images per batch.
        #[arg(long, allow_negative_numbers = true, value_parser = whole::<usize>, default_value_t = 8)]
        batch: usize,
        /// diffusers UNet2DModel directory or guided-diffusion checkpoint (.pt, .safetensors; see
        /// --model-config); default: the bundled weights/fmnist32.
        #[arg(long)]
        model: Option<PathBuf>,
        /// Output folder.
        #[arg(long, default_value = "eval")]
        out: PathBuf,
        /// Computes only part K of N of the sweep (0 <= K < N), e.g. K = $SLURM_ARRAY_TASK_ID; join
        /// the parts' folders with --merge.
        #[arg(long, value_name = "K/N")]
        shard: Option<String>,
        /// Joins the --out folders of every shard of one sweep into OUT (results, table, charts)
        /// and exits; computes nothing.
        #[arg(long, num_args = 2.., value_names = ["OUT", "DIR"], conflicts_with_all = ["images", "shard"])]
        merge: Vec<PathBuf>,
    },
    /// Degrades a few bundled test images (box inpainting, x4 SR, Gaussian deblurring), restores them
    /// with DPS, writes one grid and prints PSNR/SSIM next to the trivial estimate's.
    Demo {
        /// DPS steps (20 restores the bundled images well with the few-step scale rule; 1000 is the
        /// paper's setting).
        #[arg(long, allow_negative_numbers = true, value_parser = whole::<usize>, default_value_t = 20)]
        steps: usize,
        /// How many bundled test images.
        #[arg(long, allow_negative_numbers = true, value_parser = whole::<usize>, default_value_t = 4)]
        images: usize,
        /// Output grid.
        #[arg(long, default_value = "demo.png")]
        out: PathBuf,
        /// diffusers UNet2DModel directory or guided-diffusion checkpoint (.pt, .safetensors; see
        /// --model-config); default: the bundled weights/fmnist32.
        #[arg(long)]
        model: Option<PathBuf>,
        /// Seed.
        #[arg(long, allow_negative_numbers = true, value_parser = whole::<u64>, default_value_t = 0)]
        seed: u64,
    },
    /// Draws unconditional samples from the model (the bundled Fashion-MNIST prior by default) and
    /// writes them as a grid.
    Sample {
        /// diffusers UNet2DModel directory or guided-diffusion checkpoint (.pt, .safetensors; see
        /// --model-config); default: the bundled weights/fmnist32.
        #[arg(long)]
        model: Option<PathBuf>,
        /// Number of samples.
        #[arg(long, allow_negative_numbers = true, value_parser = whole::<usize>, default_value_t = 16)]
        n: usize,
        /// Sampling steps (respaced from the training steps).
        #[arg(long, allow_negative_numbers = true, value_parser = whole::<usize>, default_value_t = 100)]
        steps: usize,
        /// ddpm (ancestral) or ddim.
        #[arg(long, default_value = "ddim")]
        sampler: String,
        /// DDIM stochasticity (0, the default: deterministic); ddpm takes none.
        #[arg(long, allow_negative_numbers = true)]
        eta: Option<f64>,
        /// Seed of the Gaussian stream.
        #[arg(long, allow_negative_numbers = true, value_parser = whole::<u64>, default_value_t = 0)]
        seed: u64,
        /// Output PNG grid.
        #[arg(long, default_value = "samples.png")]
        out: PathBuf,
    },
}

/// The device of the command, kept for the profile report (`TWEEDIE_PROFILE=1`).
static PROFILED: std::sync::Mutex<Option<Gpu>> = std::sync::Mutex::new(None);

/// Parses a whole-number option, so that `--steps -5` or `--seed -1` gets a range message rather than
/// clap's "unexpected argument".
fn whole<T: TryFrom<u64> + std::str::FromStr>(s: &str) -> std::result::Result<T, String> {
    match s.trim().parse::<i128>() {
        Ok(v) if v < 0 => Err(format!("{v} is negative: give a whole number from 0")),
        Ok(v) => u64::try_from(v)
            .ok()
            .and_then(|v| T::try_from(v).ok())
            .ok_or_else(|| format!("{v} is too large")),
        Err(_) => Err(format!("{s:?} is not a whole number")),
    }
}

fn gpu() -> Result<Gpu> {
    let g = Gpu::with_options(&tweedie::gpu::Options::from_env()?)?;
    if let Ok(mut p) = PROFILED.lock() {
        *p = Some(g.clone());
    }
    Ok(g)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    MODEL_CONFIG.set(cli.model_config.clone()).ok();
    // the TWEEDIE_* settings are checked before anything else runs
    if let Err(e) = tweedie::gpu::Options::from_env() {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    let r = match cli.cmd {
        Cmd::Info => info(),
        Cmd::Eps {
            model,
            input,
            t,
            out,
            vjp,
        } => eps(&model, &input, t, &out, vjp.as_deref()),
        Cmd::Degrade {
            task,
            input,
            sigma_y,
            seed,
            out,
        } => degrade(&task, &input, sigma_y, seed, &out),
        Cmd::Restore {
            task,
            solver,
            observed,
            truth,
            steps,
            seed,
            sigma_y,
            sets,
            model,
            out,
            grid,
            std,
        } => restore(RestoreArgs {
            task,
            solver,
            observed,
            truth,
            steps,
            seed,
            sigma_y,
            sets,
            model,
            out,
            grid,
            std,
        }),
        Cmd::Demo {
            steps,
            images,
            out,
            model,
            seed,
        } => demo(steps, images, &out, model, seed),
        Cmd::Eval {
            images,
            tasks,
            solvers,
            steps,
            seeds,
            sigma_y,
            sets,
            batch,
            model,
            out,
            shard,
            merge,
        } if merge.is_empty() => eval(
            images,
            &tasks,
            &solvers,
            &steps,
            seeds,
            sigma_y,
            &sets,
            batch,
            model,
            out,
            shard.as_deref(),
        ),
        Cmd::Eval { merge, .. } => eval_merge(&merge),
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
    if let Ok(g) = PROFILED.lock()
        && let Some(rep) = g.as_ref().and_then(|g| g.profile_report())
    {
        eprintln!("{rep}");
    }
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
    let gpu = gpu()?;
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
        "kernels: {} (TWEEDIE_KERNELS=auto|portable|cpu), subgroup reductions: {} (TWEEDIE_SUBGROUPS=auto|on|off)",
        match gpu.kernel_path() {
            tweedie::gpu::KernelPath::Cpu => "cpu-tuned",
            _ => "portable",
        },
        if gpu.subgroups() { "yes" } else { "no" }
    );
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

/// Reads the tensor `name` of a safetensors file, refusing NaN and infinity with the file and the
/// tensor named.
fn read_tensor(path: &std::path::Path, name: &str) -> Result<tweedie::io::HostTensor> {
    let mut all = tweedie::io::read_safetensors(path)?;
    let t = all.remove(name).ok_or_else(|| {
        Error::Input(format!(
            "{} has no tensor named {name:?} (it has: {})",
            path.display(),
            all.keys().cloned().collect::<Vec<_>>().join(", ")
        ))
    })?;
    if let Some(i) = t.data.iter().position(|v| !v.is_finite()) {
        return Err(Error::Input(format!(
            "{}: tensor {name} holds {} at index {i}; the file is corrupt, write it again",
            path.display(),
            t.data[i]
        )));
    }
    Ok(t)
}

/// The measurement noise of degrade, restore and eval: finite, in [0, 100].
fn check_sigma_y(v: f64) -> Result<()> {
    if v.is_finite() && (0.0..=100.0).contains(&v) {
        return Ok(());
    }
    Err(Error::Input(format!(
        "--sigma-y {v}: the measurement noise must be a number in [0, 100], in units of the [-1, 1] image range (DPS uses 0.05)"
    )))
}

/// The kind of a picture-or-tensor output path.
fn output_kind(p: &std::path::Path) -> tweedie::io::Output {
    if is_safetensors(p) {
        tweedie::io::Output::Safetensors
    } else {
        tweedie::io::Output::Png
    }
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
    let mut inputs = vec![("--input", input)];
    inputs.extend(vjp.map(|v| ("--vjp", v)));
    inputs.extend(Some(model).filter(|m| m.is_file()).map(|m| ("--model", m)));
    tweedie::io::check_distinct(&inputs, &[("--out", out)])?;
    tweedie::io::check_output(out, tweedie::io::Output::Safetensors, "--out")?;
    let x = read_tensor(input, "x")?;
    let gpu = gpu()?;
    let m = load_model(&gpu, model)?;
    let len = m.schedule().len();
    if t as usize >= len {
        return Err(Error::Input(format!(
            "--t {t}: the model's schedule has {len} timesteps, so t must be from 0 to {}",
            len - 1
        )));
    }
    m.check_input(&x.shape)
        .map_err(|e| Error::Input(format!("{}: tensor x: {e}", input.display())))?;
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
            let want: Vec<usize> = vec![x.shape[0], m.out_channels(), x.shape[2], x.shape[3]];
            if v.shape != want {
                return Err(Error::Input(format!(
                    "{}: v has shape {:?} but the model output has shape {want:?}",
                    vpath.display(),
                    v.shape
                )));
            }
            let vt = Tensor::from_slice(&gpu, &v.shape, &v.data)?;
            let xt = xt.tracked();
            let e = m.forward(&xt, &tt)?;
            let g = tweedie::autograd::backward(&e, &vt, &[&xt])?.remove(0);
            let e = e.detach();
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

#[allow(clippy::too_many_arguments)]
fn eval(
    images: Vec<PathBuf>,
    tasks: &str,
    solvers: &str,
    steps: &str,
    seeds: u64,
    sigma_y: f64,
    sets: &[String],
    batch: usize,
    model: Option<PathBuf>,
    out: PathBuf,
    shard: Option<&str>,
) -> Result<()> {
    let list = |s: &str| -> Vec<String> {
        s.split(',')
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect()
    };
    check_sigma_y(sigma_y)?;
    if batch == 0 || seeds == 0 {
        return Err(Error::Input(format!(
            "--batch {batch} --seeds {seeds}: both must be at least 1"
        )));
    }
    // the folder is created only once everything is checked (by eval::run)
    if out.is_file() {
        return Err(Error::Io(format!(
            "--out {} is a file; eval writes a folder of results",
            out.display()
        )));
    }
    let steps: Vec<usize> = list(steps)
        .iter()
        .map(|v| {
            v.parse()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| Error::Input(format!("--steps {v}: expected whole numbers above 0")))
        })
        .collect::<Result<_>>()?;
    let shard = shard.map(tweedie::eval::parse_shard).transpose()?;
    let model = model.unwrap_or_else(default_model);
    let mut spec = tweedie::eval::EvalSpec {
        images: tweedie::eval::expand_images(&images)?,
        tasks: tweedie::eval::split_tasks(tasks),
        solvers: list(solvers),
        steps,
        seeds,
        sigma_y,
        sets: parse_sets(sets)?,
        batch,
        out: out.clone(),
        model: String::new(),
        shard,
    };
    // solvers, tasks and --set keys before the model is read
    tweedie::eval::check(&spec)?;
    spec.model = model_identity(&model)?;
    let gpu = gpu()?;
    let m = load_model(&gpu, &model)?;
    let start = std::time::Instant::now();
    let mut last = String::new();
    let rows = tweedie::eval::run(&m, &spec, &mut |label, done, total| {
        if label != last {
            if !last.is_empty() {
                eprintln!();
            }
            last = label.to_string();
        }
        let el = start.elapsed().as_secs_f64();
        let left = el / done.max(1) as f64 * total.saturating_sub(done) as f64;
        eprint!("\r{label}: {done}/{total} steps of the sweep, {el:.0}s elapsed, ~{left:.0}s left   ");
    })?;
    eprintln!();
    print!(
        "{}",
        std::fs::read_to_string(out.join("table.md")).unwrap_or_default()
    );
    println!(
        "{} rows in {}/results.csv; results.json, table.md and psnr_*.png beside it",
        rows.len(),
        out.display()
    );
    Ok(())
}

/// What identifies a model in `eval` rows: the SHA-256 of its files (a diffusers folder whole; a
/// checkpoint with the configuration files that may sit beside it), and the --model-config given
/// (a file's content, a preset's name).
fn model_identity(model: &std::path::Path) -> Result<String> {
    let mut id = tweedie::io::content_hash(model)?;
    if model.is_file() {
        let sidecars = [model.with_extension("json"), model.with_file_name("config.json")];
        for p in sidecars.iter().filter(|p| p.is_file()) {
            id = format!("{id}+{}", tweedie::io::content_hash(p)?);
        }
    }
    if let Some(cfg) = MODEL_CONFIG.get().and_then(|c| c.as_deref()) {
        let p = std::path::Path::new(cfg);
        id = if p.is_file() {
            format!("{id}+{}", tweedie::io::content_hash(p)?)
        } else {
            format!("{id}+{cfg}")
        };
    }
    Ok(id)
}

fn eval_merge(args: &[PathBuf]) -> Result<()> {
    let (out, dirs) = args
        .split_first()
        .ok_or_else(|| Error::Input("--merge OUT DIR...".into()))?;
    tweedie::io::check_output(out, tweedie::io::Output::Folder, "--merge OUT")?;
    let rows = tweedie::eval::merge(out, dirs)?;
    print!(
        "{}",
        std::fs::read_to_string(out.join("table.md")).unwrap_or_default()
    );
    println!(
        "{} rows from {} shards in {}/results.csv; results.json, table.md and psnr_*.png beside it",
        rows.len(),
        dirs.len(),
        out.display()
    );
    Ok(())
}

fn sample(
    model: Option<PathBuf>,
    n: usize,
    steps: usize,
    sampler: &str,
    eta: Option<f64>,
    seed: u64,
    out: &std::path::Path,
) -> Result<()> {
    use tweedie::diffusion::Sampler;
    let sampler = match (sampler, eta) {
        ("ddpm", Some(e)) => {
            return Err(Error::Input(format!(
                "--eta {e} with --sampler ddpm: the ancestral sampler has no eta (it is fixed); drop \
                 --eta, or use --sampler ddim --eta {e}"
            )));
        }
        ("ddpm", None) => Sampler::Ddpm,
        ("ddim", _) => Sampler::Ddim {
            eta: eta.unwrap_or(0.0),
        },
        (other, _) => {
            return Err(Error::Input(format!(
                "unknown sampler {other:?}; use ddpm or ddim"
            )));
        }
    };
    let eta = eta.unwrap_or(0.0);
    if steps < tweedie::diffusion::MIN_SAMPLE_STEPS {
        return Err(Error::Input(format!(
            "--steps {steps}: sampling takes at least {} steps (the respaced chain starts at t = T - T/steps: \
             one step starts and ends at t = 0 and returns the starting noise)",
            tweedie::diffusion::MIN_SAMPLE_STEPS
        )));
    }
    if n == 0 || n > 1024 {
        return Err(Error::Input(format!("--n {n}: draw from 1 to 1024 samples")));
    }
    if !(eta.is_finite() && (0.0..=1.0).contains(&eta)) {
        return Err(Error::Input(format!(
            "--eta {eta}: DDIM's stochasticity must be a number in [0, 1] (0: deterministic)"
        )));
    }
    if steps == 0 {
        return Err(Error::Input("--steps 0: sampling takes at least 1 step".into()));
    }
    tweedie::io::check_output(out, tweedie::io::Output::Png, "--out")?;
    let dir = model.unwrap_or_else(default_model);
    let gpu = gpu()?;
    let m = load_model(&gpu, &dir)?;
    let (h, w) = m.sample_size().ok_or_else(|| {
        Error::Model(format!(
            "{}: config.json has no sample_size to sample at",
            dir.display()
        ))
    })?;
    let shape = [n, m.in_channels(), h, w];
    let x = tweedie::diffusion::sample(&m, &shape, steps, sampler, seed, &mut progress_bar("sampling"))?;
    let images = tweedie::io::batch_to_images(&x.to_vec()?, &shape);
    let cols = (n as f64).sqrt().ceil() as usize;
    let scale = if h <= 64 { 4 } else { 1 };
    tweedie::io::write_image(out, &tweedie::io::grid(&images, cols)?, scale)?;
    println!("wrote {n} samples to {}", out.display());
    Ok(())
}

use tweedie::io::Image;
use tweedie::operators::{self, Operator, TaskSpec};

fn image_tensor(gpu: &Gpu, imgs: &[Image]) -> Result<Tensor> {
    let [c, h, w] = imgs[0].shape();
    let data: Vec<f32> = imgs.iter().flat_map(|i| i.data.iter().copied()).collect();
    Tensor::from_slice(gpu, &[imgs.len(), c, h, w], &data)
}

fn is_safetensors(p: &std::path::Path) -> bool {
    p.extension().is_some_and(|e| e == "safetensors")
}

fn degrade(
    task: &str,
    input: &std::path::Path,
    sigma_y: f64,
    seed: u64,
    out: &std::path::Path,
) -> Result<()> {
    check_sigma_y(sigma_y)?;
    let mut spec: TaskSpec = task.parse()?;
    if operators::task_entry(&spec.name).is_some_and(|t| t.seeded()) {
        spec = spec.with_default("seed", &seed.to_string());
    }
    let mask = spec.get("path").map(PathBuf::from);
    let mut inputs = vec![("--input", input)];
    inputs.extend(mask.as_deref().map(|m| ("--task path=", m)));
    tweedie::io::check_distinct(&inputs, &[("--out", out)])?;
    tweedie::io::check_output(out, output_kind(out), "--out")?;
    let img = tweedie::io::read_image(input)?;
    let plan = operators::resolve(&spec, img.shape())?;
    // a blind task makes no observations; measurements that are not pictures go to .safetensors
    plan.check_measurable(!is_safetensors(out))?;
    if let Some(n) = plan.note() {
        eprintln!("note: {n}");
    }
    // a picture that is a view (phase retrieval's log magnitude): the exact y goes beside it
    let view = plan.picture() == operators::Picture::View;
    let gpu = gpu()?;
    let op = operators::build_plan(&gpu, plan, img.shape())?;
    // the pictures written beside the output (a motion kernel): checked before the compute
    let pictures = op.extras()?;
    let extras: Vec<PathBuf> = pictures
        .iter()
        .map(|(suffix, _)| out.with_extension(format!("{suffix}.png")))
        .collect();
    let mut outs = vec![("--out", out)];
    outs.extend(
        extras
            .iter()
            .map(|p| ("the kernel picture (beside --out)", p.as_path())),
    );
    let exact = (!is_safetensors(out) && view).then(|| out.with_extension("safetensors"));
    if let Some(e) = &exact {
        outs.push(("the exact measurement (beside --out)", e.as_path()));
        tweedie::io::check_output(
            e,
            tweedie::io::Output::Safetensors,
            "the exact measurement (beside --out)",
        )?;
    }
    tweedie::io::check_distinct(&inputs, &outs)?;
    for p in &extras {
        tweedie::io::check_output(p, tweedie::io::Output::Png, "the kernel picture (beside --out)")?;
    }
    let x = image_tensor(&gpu, std::slice::from_ref(&img))?;
    let y = operators::add_noise(&op.forward(&x)?, sigma_y, seed)?;
    // how it was made goes into the file: restore reads the task (a random mask's seed
    // included), σ_y and the image size from it
    let meta = Made {
        task: op.describe(),
        sigma_y,
        shape: img.shape(),
    }
    .metadata();
    if is_safetensors(out) {
        tweedie::io::write_safetensors_with(out, &[("y", y.shape(), &y.to_vec()?)], &meta)?;
    } else {
        let obs = op.observation_image(&y)?.ok_or_else(|| {
            Error::Input(format!(
                "{} measurements are not images: write them with --out y.safetensors",
                op.describe()
            ))
        })?;
        let s = obs.shape();
        let im = Image {
            channels: s[1],
            height: s[2],
            width: s[3],
            data: obs.to_vec()?,
        };
        tweedie::io::write_image_with(out, &im, &meta)?;
        if op.measurement_from_image(&obs).is_err() {
            // the picture is a view (phase retrieval's log magnitude): the exact y goes beside it
            let exact = exact.unwrap_or_else(|| out.with_extension("safetensors"));
            tweedie::io::write_safetensors_with(&exact, &[("y", y.shape(), &y.to_vec()?)], &meta)?;
            println!(
                "the picture is for viewing only; restore from {} (the exact measurement)",
                exact.display()
            );
        }
    }
    for ((suffix, pic), p) in pictures.into_iter().zip(&extras) {
        tweedie::io::write_image(p, &host_image(&pic)?, 8)?;
        println!("wrote the {suffix} to {}", p.display());
    }
    println!(
        "wrote {} of {} to {}",
        op.describe(),
        input.display(),
        out.display()
    );
    println!(
        "it records --task '{}' --sigma-y {sigma_y}: restore reads them from it",
        op.describe()
    );
    Ok(())
}

/// The metadata key under which `degrade` records how it made an observation (one key holding a
/// JSON object, so the file's bytes do not depend on a map's order).
const MADE_KEY: &str = "tweedie";

/// How `degrade` made an observation: the task spec with every parameter spelled out (a random
/// mask's resolved seed included), the measurement noise and the clean image's `[C, H, W]`.
#[derive(Debug, Clone, PartialEq)]
struct Made {
    task: String,
    sigma_y: f64,
    shape: [usize; 3],
}

impl Made {
    fn metadata(&self) -> tweedie::io::Metadata {
        let json = serde_json::json!({
            "task": self.task,
            "sigma_y": self.sigma_y,
            "shape": self.shape,
            "version": env!("CARGO_PKG_VERSION"),
        });
        [(MADE_KEY.to_string(), json.to_string())].into_iter().collect()
    }

    /// What `path` records, `None` when it records nothing (not written by `degrade`, or by a
    /// version before the record); a record that cannot be read is an error naming the field.
    fn read(path: &std::path::Path) -> Result<Option<Made>> {
        // a file that cannot be read records nothing here: reading the observation says why
        let Ok(m) = tweedie::io::read_metadata(path) else {
            return Ok(None);
        };
        let Some(text) = m.get(MADE_KEY) else {
            return Ok(None);
        };
        let bad = |field: &str| {
            Error::Input(format!(
                "{}: its record of how degrade made it ({MADE_KEY:?} metadata) has no valid {field}: {text}; \
                 give --task and --sigma-y yourself, or degrade the image again",
                path.display()
            ))
        };
        let v: serde_json::Value = serde_json::from_str(text).map_err(|_| bad("JSON"))?;
        let task = v["task"].as_str().ok_or_else(|| bad("task"))?.to_string();
        let sigma_y = v["sigma_y"]
            .as_f64()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| bad("sigma_y"))?;
        let dims: Vec<usize> = v["shape"]
            .as_array()
            .map(|a| a.iter().filter_map(|d| d.as_u64().map(|d| d as usize)).collect())
            .unwrap_or_default();
        let shape: [usize; 3] = dims
            .try_into()
            .ok()
            .filter(|d: &[usize; 3]| d.iter().all(|&n| n > 0))
            .ok_or_else(|| bad("shape"))?;
        Ok(Some(Made { task, sigma_y, shape }))
    }
}

/// The record the observations carry (the first one's, with its path): all that carry one must
/// agree, since a batch restores with one operator and one σ_y.
fn observations_made(observed: &[PathBuf]) -> Result<Option<(PathBuf, Made)>> {
    let mut first: Option<(PathBuf, Made)> = None;
    for p in observed {
        let Some(m) = Made::read(p)? else { continue };
        match &first {
            None => first = Some((p.clone(), m)),
            Some((q, f)) if *f != m => {
                return Err(Error::Input(format!(
                    "{} was degraded with --task '{}' --sigma-y {} from a {}x{} image, but {} with --task '{}' --sigma-y {} from a {}x{} image: a batch restores with one operator; restore them in separate runs",
                    q.display(),
                    f.task,
                    f.sigma_y,
                    f.shape[2],
                    f.shape[1],
                    p.display(),
                    m.task,
                    m.sigma_y,
                    m.shape[2],
                    m.shape[1]
                )));
            }
            Some(_) => {}
        }
    }
    Ok(first)
}

/// The first picture of a `[B, C, H, W]` tensor.
fn host_image(t: &Tensor) -> Result<Image> {
    let mut imgs = tweedie::io::batch_to_images(&t.to_vec()?, t.shape());
    Ok(imgs.swap_remove(0))
}

/// The task to restore with: the one the observations record, or `--task`, which must agree with
/// the record where there is one (parameters it leaves out are taken from the record).
fn restore_task(
    given: Option<&str>,
    made: Option<&(PathBuf, Made)>,
    observed: &[PathBuf],
) -> Result<TaskSpec> {
    match (given, made) {
        (None, None) if std::fs::File::open(&observed[0]).is_err() => {
            let e = std::fs::File::open(&observed[0])
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            Err(Error::Input(format!(
                "cannot read image {}: {e}",
                observed[0].display()
            )))
        }
        (None, None) => Err(Error::Input(format!(
            "--task is needed: {} does not record how it was made (it was not written by tweedie \
             degrade, or by a version before the record); give the task spec degrade was given, e.g. \
             --task sr:factor=4",
            observed[0].display()
        ))),
        (Some(t), None) => t.parse(),
        (None, Some((p, m))) => {
            let spec: TaskSpec = m.task.parse()?;
            // a recorded mask file is read from where restore runs
            operators::resolve(&spec, m.shape).map_err(|e| {
                Error::Input(format!(
                    "{} records --task '{}', which cannot be rebuilt here ({e}); give --task with the \
                     mask's path as seen from this folder",
                    p.display(),
                    m.task
                ))
            })?;
            Ok(spec)
        }
        (Some(t), Some((p, m))) => {
            let recorded: TaskSpec = m.task.parse()?;
            let (spec, agreement) = operators::agreement(t.parse()?, &recorded, m.shape)?;
            let agree = match agreement {
                operators::Agreement::Agrees => true,
                // the recorded mask file is not where degrade read it (another folder): the given
                // --task is all there is to go by
                operators::Agreement::Unchecked(e) => {
                    eprintln!(
                        "note: --task {t} cannot be checked against {}'s record: {e}",
                        p.display()
                    );
                    true
                }
                operators::Agreement::Disagrees => false,
            };
            if !agree {
                return Err(Error::Input(format!(
                    "--task {t} disagrees with {}, which degrade made with --task '{}': leave --task out \
                     to use the recorded task, or give the observation that task was for",
                    p.display(),
                    m.task
                )));
            }
            Ok(spec)
        }
    }
}

struct RestoreArgs {
    task: Option<String>,
    solver: String,
    observed: Vec<PathBuf>,
    truth: Vec<PathBuf>,
    steps: Option<usize>,
    seed: u64,
    sigma_y: Option<f64>,
    sets: Vec<String>,
    model: Option<PathBuf>,
    out: PathBuf,
    grid: Option<PathBuf>,
    std: Option<PathBuf>,
}

/// Reads one observation as the measurement tensor `[1, ...]` of `op`.
fn read_observation(gpu: &Gpu, op: &dyn Operator, path: &std::path::Path) -> Result<Tensor> {
    let want = op.y_shape();
    if is_safetensors(path) {
        let t = read_tensor(path, "y")?;
        let per: Vec<usize> = if t.shape.first() == Some(&1) && t.shape.len() == want.len() + 1 {
            t.shape[1..].to_vec()
        } else {
            t.shape.clone()
        };
        if per != want {
            return Err(Error::Input(format!(
                "{}: y has shape {:?} but {} expects {want:?} per image",
                path.display(),
                t.shape,
                op.describe()
            )));
        }
        let mut s = vec![1];
        s.extend(&want);
        return Tensor::from_slice(gpu, &s, &t.data);
    }
    let img = tweedie::io::read_image(path)?;
    if img.shape().to_vec() != want {
        return Err(Error::Input(format!(
            "{} is {}x{} with {} channel(s), but {} on {}x{} images expects an observation of {want:?} (channels, height, width)",
            path.display(),
            img.width,
            img.height,
            img.channels,
            op.describe(),
            op.x_shape()[2],
            op.x_shape()[1]
        )));
    }
    op.measurement_from_image(&image_tensor(gpu, &[img])?)
}

fn parse_sets(sets: &[String]) -> Result<Vec<(String, String)>> {
    sets.iter()
        .map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| Error::Input(format!("--set {kv}: expected key=value")))
        })
        .collect()
}

/// What a grid shows for an observation: the picture if it has the image's size (box-averaged down
/// when it is a whole factor larger), else A⁺y or the trivial estimate (small SR observations
/// enlarged, CS back-projected).
fn display_observation(
    model: &dyn tweedie::diffusion::Denoiser,
    op: &dyn Operator,
    y: &Tensor,
) -> Result<Tensor> {
    if let Some(o) = op.observation_image(y)? {
        let [c, h, w] = op.x_shape();
        let s = o.shape().to_vec();
        if s[1..] == [c, h, w] {
            return Ok(o);
        }
        // a picture larger by a whole factor (phase retrieval's 2× padded spectrum): shown
        // box-averaged to the image's size
        if s.len() == 4 && s[1] == c && s[2] > h && s[2] % h == 0 && s[3] % w == 0 && s[2] / h == s[3] / w {
            let f = s[2] / h;
            let v = o.to_vec()?;
            let mut out = vec![0f32; s[0] * c * h * w];
            for (q, o) in out.iter_mut().enumerate() {
                let (r, i, j) = (q / (h * w), (q / w) % h, q % w);
                let mut acc = 0.0;
                for a in 0..f {
                    for b in 0..f {
                        acc += v[(r * s[2] + i * f + a) * s[3] + j * f + b];
                    }
                }
                *o = acc / (f * f) as f32;
            }
            return Tensor::from_slice(y.gpu(), &[s[0], c, h, w], &out);
        }
    }
    tweedie::solvers::trivial_estimate(model, op, y)
}

/// Where each restored image of a batch goes: `out/<observation name>.png`, refusing two
/// observations that would land on one file.
fn batch_outputs(observed: &[PathBuf], out: &std::path::Path) -> Result<Vec<PathBuf>> {
    let mut seen: std::collections::HashMap<PathBuf, &PathBuf> = std::collections::HashMap::new();
    let mut paths = Vec::new();
    for obs in observed {
        let name = obs.with_extension("png");
        let p = out.join(name.file_name().unwrap_or_default());
        if let Some(first) = seen.insert(p.clone(), obs) {
            return Err(Error::Input(format!(
                "--observed {} and {} would both be written to {}: give the observations distinct file names, or restore them in separate runs",
                first.display(),
                obs.display(),
                p.display()
            )));
        }
        paths.push(p);
    }
    Ok(paths)
}

/// The files `restore` reads, by option: observations, truths, a mask named by the task, a model file.
fn restore_inputs<'a>(
    a: &'a RestoreArgs,
    mask: Option<&'a std::path::Path>,
) -> Vec<(&'static str, &'a std::path::Path)> {
    let mut v: Vec<(&str, &std::path::Path)> =
        a.observed.iter().map(|p| ("--observed", p.as_path())).collect();
    v.extend(a.truth.iter().map(|p| ("--truth", p.as_path())));
    v.extend(mask.map(|m| ("--task path=", m)));
    v.extend(a.model.as_deref().filter(|m| m.is_file()).map(|m| ("--model", m)));
    v
}

fn restore(a: RestoreArgs) -> Result<()> {
    // everything that can be checked without the device and the model, first
    if let Some(v) = a.sigma_y {
        check_sigma_y(v)?;
    }
    // how the observations were made, as degrade recorded it: the task, σ_y and image size
    let made = observations_made(&a.observed)?;
    let spec = restore_task(a.task.as_deref(), made.as_ref(), &a.observed)?;
    let sigma_y = match (a.sigma_y, &made) {
        (Some(v), Some((p, m))) if v != m.sigma_y => {
            eprintln!(
                "note: restoring with --sigma-y {v}, though {} was degraded with σ_y {}",
                p.display(),
                m.sigma_y
            );
            v
        }
        (Some(v), _) => v,
        (None, Some((_, m))) => m.sigma_y,
        (None, None) => 0.05,
    };
    let sets = parse_sets(&a.sets)?;
    let solver = tweedie::solvers::create(&a.solver, &spec.name, a.steps, &sets)?;
    tweedie::solvers::check_min_steps(solver.as_ref())?;
    if !a.truth.is_empty() && a.truth.len() != a.observed.len() {
        return Err(Error::Input(format!(
            "{} --truth images for {} observations: give one per observation, in the same order",
            a.truth.len(),
            a.observed.len()
        )));
    }
    // every output against every input and each other, before anything is created or computed
    let batch = a.observed.len() > 1;
    if batch {
        tweedie::io::check_folder_name(&a.out, "--out", a.observed.len())?;
        if let Some(sp) = &a.std {
            tweedie::io::check_folder_name(sp, "--std", a.observed.len())?;
        }
    }
    let outputs = if batch {
        batch_outputs(&a.observed, &a.out)?
    } else {
        vec![a.out.clone()]
    };
    let std_outputs = match &a.std {
        None => Vec::new(),
        Some(_) if !solver.gives_std() => {
            return Err(Error::Input(format!(
                "--std needs a particle solver (its weighted particles give the spread); {} gives one \
                 picture. Use --solver {}",
                solver.name(),
                tweedie::solvers::particle_solvers().join(" or ")
            )));
        }
        Some(sp) if !batch => vec![sp.clone()],
        Some(sp) => batch_outputs(&a.observed, sp)?,
    };
    let mask = spec.get("path").map(PathBuf::from);
    let inputs = restore_inputs(&a, mask.as_deref());
    let mut outs: Vec<(&str, &std::path::Path)> = outputs.iter().map(|p| ("--out", p.as_path())).collect();
    outs.extend(a.grid.as_deref().map(|g| ("--grid", g)));
    outs.extend(std_outputs.iter().map(|p| ("--std", p.as_path())));
    tweedie::io::check_distinct(&inputs, &outs)?;
    if batch {
        tweedie::io::check_output(&a.out, tweedie::io::Output::Folder, "--out")?;
    } else {
        tweedie::io::check_output(&a.out, tweedie::io::Output::Png, "--out")?;
    }
    if let Some(g) = &a.grid {
        tweedie::io::check_output(g, tweedie::io::Output::Png, "--grid")?;
    }
    match &a.std {
        Some(sp) if batch => tweedie::io::check_output(sp, tweedie::io::Output::Folder, "--std")?,
        Some(sp) => tweedie::io::check_output(sp, tweedie::io::Output::Png, "--std")?,
        None => {}
    }
    let truths: Vec<Image> = a
        .truth
        .iter()
        .map(|p| tweedie::io::read_image(p))
        .collect::<Result<_>>()?;
    if let Some((i, t)) = truths
        .iter()
        .enumerate()
        .find(|(_, t)| t.shape() != truths[0].shape())
    {
        return Err(Error::Input(format!(
            "--truth {} is {}x{} with {} channel(s) but {} is {}x{} with {}: the truth images must share one size",
            a.truth[i].display(),
            t.width,
            t.height,
            t.channels,
            a.truth[0].display(),
            truths[0].width,
            truths[0].height,
            truths[0].channels
        )));
    }
    let dir = a.model.clone().unwrap_or_else(default_model);
    let gpu = gpu()?;
    let model = load_model(&gpu, &dir)?;
    let model_shape = model.sample_size().map(|(h, w)| [model.in_channels(), h, w]);
    if let (Some(t), Some((p, m))) = (truths.first(), &made)
        && t.shape() != m.shape
    {
        return Err(Error::Input(format!(
            "--truth {} is {}x{} with {} channel(s), but {} was degraded from a {}x{} image with {}: give the clean image the observation was made from",
            a.truth[0].display(),
            t.width,
            t.height,
            t.channels,
            p.display(),
            m.shape[2],
            m.shape[1],
            m.shape[0]
        )));
    }
    let x_shape = match (truths.first(), model_shape, &made) {
        (Some(t), _, _) => t.shape(),
        (None, _, Some((_, m))) => m.shape,
        (None, Some(s), None) => s,
        (None, None, None) => {
            return Err(Error::Input(
                "the model config has no sample_size: pass --truth to give the image size".into(),
            ));
        }
    };
    if x_shape[0] != model.in_channels() {
        return Err(Error::Input(format!(
            "--truth {} has {} channel(s) but the model restores images with {}",
            a.truth[0].display(),
            x_shape[0],
            model.in_channels()
        )));
    }
    let plan = operators::resolve(&spec, x_shape)?;
    if let Some(n) = plan.note() {
        eprintln!("note: {n}");
    }
    let op = operators::build_plan(&gpu, plan, x_shape)?;
    // the estimated kernel of a blind solve goes beside the output: checked like the others, before
    // the solve
    let side_outputs: Vec<(String, PathBuf)> = if op.unknown().is_some() {
        op.extras()?
            .into_iter()
            .map(|(suffix, _)| {
                let p = if batch {
                    a.out.join(format!("{suffix}.png"))
                } else {
                    a.out.with_extension(format!("{suffix}.png"))
                };
                (suffix, p)
            })
            .collect()
    } else {
        Vec::new()
    };
    for (suffix, p) in &side_outputs {
        tweedie::io::check_output(
            p,
            tweedie::io::Output::Png,
            &format!("the estimated {suffix} (beside --out)"),
        )?;
    }
    let side: Vec<(&str, &std::path::Path)> = side_outputs
        .iter()
        .map(|(_, p)| ("the estimated kernel (beside --out)", p.as_path()))
        .collect();
    tweedie::io::check_distinct(&inputs, &[outs.clone(), side].concat())?;
    let ys: Vec<Tensor> = match a
        .observed
        .iter()
        .map(|p| read_observation(&gpu, op.as_ref(), p))
        .collect::<Result<Vec<_>>>()
    {
        Ok(ys) => ys,
        Err(e) => {
            // the truth's size sets the problem; when the observations fit the model's own size
            // instead, the truth is the one that is wrong
            if let (Some(t), Some(ms)) = (truths.first(), model_shape)
                && ms != x_shape
                && let Ok(mop) = operators::build(&gpu, &spec, ms)
                && a.observed
                    .iter()
                    .all(|p| read_observation(&gpu, mop.as_ref(), p).is_ok())
            {
                return Err(Error::Input(format!(
                    "--truth {} is {}x{} but the observations are of {}x{} images (the model's size): give the clean images at the size of the restored ones",
                    a.truth[0].display(),
                    t.width,
                    t.height,
                    ms[2],
                    ms[1]
                )));
            }
            return Err(e);
        }
    };
    let mut all = Vec::new();
    for y in &ys {
        all.extend(y.to_vec()?);
    }
    let mut yshape = vec![ys.len()];
    yshape.extend(op.y_shape());
    let y = Tensor::from_slice(&gpu, &yshape, &all)?;
    let problem = tweedie::solvers::Problem {
        model: &model,
        op: op.as_ref(),
        y: &y,
        sigma_y,
    };
    let settings: Vec<String> = solver
        .settings()
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    eprintln!(
        "{} on {} x{} ({})",
        solver.name(),
        op.describe(),
        ys.len(),
        settings.join(", ")
    );
    let (x, std) = solver.solve_with_std(&problem, a.seed, &mut progress_bar(solver.name()))?;
    let xs = x.shape().to_vec();
    let restored = tweedie::io::batch_to_images(&x.to_vec()?, &xs);
    for (img, p) in restored.iter().zip(&outputs) {
        tweedie::io::write_image(p, img, 1)?;
    }
    // the spread as a picture: 0 black, the largest standard deviation of the batch white
    let spread = match (&std, std_outputs.is_empty()) {
        (Some(s), false) => {
            let v = s.to_vec()?;
            let top = v.iter().fold(0f32, |a, &b| a.max(b)).max(1e-6);
            let scaled: Vec<f32> = v.iter().map(|&x| 2.0 * x / top - 1.0).collect();
            let pics = tweedie::io::batch_to_images(&scaled, &xs);
            for (img, p) in pics.iter().zip(&std_outputs) {
                tweedie::io::write_image(p, img, 1)?;
            }
            let mean = v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
            // a spread of zero is not certainty: resampling kept copies of one particle
            let per = v.len() / xs[0].max(1);
            for (i, img) in v.chunks(per.max(1)).enumerate() {
                if img.iter().all(|&x| x == 0.0) {
                    eprintln!(
                        "note: the standard deviation of {} is zero everywhere: the weighted \
                         particles collapsed onto one (all the weight on one particle, or resampling \
                         left copies of one), so the picture says nothing about uncertainty; more \
                         particles (--set particles=N) or steps keep them apart",
                        a.observed[i].display()
                    );
                }
            }
            println!(
                "wrote the posterior standard deviation to {} (white = {top:.3}, mean {mean:.3}, in [-1, 1] pixel units)",
                a.std
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            );
            pics
        }
        _ => Vec::new(),
    };
    if outputs.len() == 1 {
        println!("wrote {}", a.out.display());
    } else {
        println!("wrote {} images to {}", restored.len(), a.out.display());
    }
    // a blind solve: the estimated kernel beside the output (paths checked before the solve)
    for ((suffix, pic), (_, p)) in op.extras()?.into_iter().zip(&side_outputs) {
        tweedie::io::write_image(p, &host_image(&pic)?, 8)?;
        println!("wrote the estimated {suffix} to {}", p.display());
    }
    if !truths.is_empty() {
        let triv = tweedie::solvers::trivial_estimate(&model, op.as_ref(), &y)?;
        let trivial = tweedie::io::batch_to_images(&triv.to_vec()?, &xs);
        println!(
            "{:<28} {:>10} {:>8} {:>12} {:>10}",
            "image", "PSNR (dB)", "SSIM", "trivial PSNR", "trivial SSIM"
        );
        for i in 0..truths.len() {
            println!(
                "{:<28} {:>10.2} {:>8.4} {:>12.2} {:>10.4}",
                a.observed[i].file_name().unwrap_or_default().to_string_lossy(),
                tweedie::metrics::psnr(&restored[i], &truths[i]),
                tweedie::metrics::ssim(&restored[i], &truths[i]),
                tweedie::metrics::psnr(&trivial[i], &truths[i]),
                tweedie::metrics::ssim(&trivial[i], &truths[i]),
            );
        }
    }
    if let Some(gp) = &a.grid {
        let obs = display_observation(&model, op.as_ref(), &y)?;
        let obs = tweedie::io::batch_to_images(&obs.to_vec()?, &xs);
        let mut tiles = Vec::new();
        for i in 0..restored.len() {
            tiles.push(obs[i].clone());
            tiles.push(restored[i].clone());
            if let Some(sp) = spread.get(i) {
                tiles.push(sp.clone());
            }
            if let Some(t) = truths.get(i) {
                tiles.push(t.clone());
            }
        }
        let cols = 2 + usize::from(!truths.is_empty()) + usize::from(!spread.is_empty());
        let scale = if x_shape[1] <= 64 { 4 } else { 1 };
        tweedie::io::write_image(gp, &tweedie::io::grid(&tiles, cols)?, scale)?;
        println!("wrote {}", gp.display());
    }
    Ok(())
}

/// The bundled test images (tests/data), under the working directory or the source tree.
fn test_image(i: usize) -> PathBuf {
    let rel = format!("tests/data/fmnist_test_{i:05}.png");
    let local = PathBuf::from(&rel);
    if local.is_file() {
        return local;
    }
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/")).join(rel)
}

fn demo(steps: usize, n: usize, out: &std::path::Path, model: Option<PathBuf>, seed: u64) -> Result<()> {
    if n == 0 || n > 64 {
        return Err(Error::Input(format!("--images {n}: between 1 and 64")));
    }
    let min = tweedie::solvers::min_steps("dps").unwrap_or(1);
    if steps < min || steps > 1000 {
        return Err(Error::Input(format!(
            "--steps {steps}: the demo's DPS takes {min} to 1000 steps (with fewer its chain ends in noise)"
        )));
    }
    tweedie::io::check_output(out, tweedie::io::Output::Png, "--out")?;
    let dir = model.unwrap_or_else(default_model);
    let gpu = gpu()?;
    let m = load_model(&gpu, &dir)?;
    let truths: Vec<Image> = (0..n)
        .map(|i| tweedie::io::read_image(&test_image(i)))
        .collect::<Result<_>>()?;
    let x_shape = truths[0].shape();
    m.check_input(&[1, x_shape[0], x_shape[1], x_shape[2]])?;
    let x = image_tensor(&gpu, &truths)?;
    let sigma_y = 0.05;
    let mut tiles = Vec::new();
    println!(
        "DPS, {steps} steps, sigma_y = {sigma_y}, {n} Fashion-MNIST test images, on {}",
        gpu.adapter_info().name
    );
    println!(
        "{:<14} {:>5} {:>14} {:>14} {:>12} {:>12}",
        "task", "image", "trivial PSNR", "DPS PSNR", "trivial SSIM", "DPS SSIM"
    );
    for task in ["inpaint-box", "sr:factor=4", "deblur-gauss:size=9,sigma=1.5"] {
        let spec: TaskSpec = task.parse()?;
        let op = operators::build(&gpu, &spec, x_shape)?;
        let y = operators::add_noise(&op.forward(&x)?, sigma_y, seed)?;
        let solver = tweedie::solvers::create("dps", &spec.name, Some(steps), &[])?;
        let p = tweedie::solvers::Problem {
            model: &m,
            op: op.as_ref(),
            y: &y,
            sigma_y,
        };
        let r = solver.solve(&p, seed, &mut progress_bar(&spec.name))?;
        let xs = r.shape().to_vec();
        let restored = tweedie::io::batch_to_images(&r.to_vec()?, &xs);
        let trivial = tweedie::io::batch_to_images(
            &tweedie::solvers::trivial_estimate(&m, op.as_ref(), &y)?.to_vec()?,
            &xs,
        );
        let obs = tweedie::io::batch_to_images(&display_observation(&m, op.as_ref(), &y)?.to_vec()?, &xs);
        for i in 0..n {
            println!(
                "{:<14} {:>5} {:>14.2} {:>14.2} {:>12.4} {:>12.4}",
                spec.name,
                i,
                tweedie::metrics::psnr(&trivial[i], &truths[i]),
                tweedie::metrics::psnr(&restored[i], &truths[i]),
                tweedie::metrics::ssim(&trivial[i], &truths[i]),
                tweedie::metrics::ssim(&restored[i], &truths[i]),
            );
            tiles.extend([
                obs[i].clone(),
                trivial[i].clone(),
                restored[i].clone(),
                truths[i].clone(),
            ]);
        }
    }
    tweedie::io::write_image(out, &tweedie::io::grid(&tiles, 4)?, 4)?;
    println!(
        "wrote {} (each row: observation | trivial estimate | DPS | truth)",
        out.display()
    );
    Ok(())
}
