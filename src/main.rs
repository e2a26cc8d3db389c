//! The `tweedie` command line.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use tweedie::app::{self, Frontend};
use tweedie::{Gpu, Result};

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

/// The command line as the library's [`Frontend`]: results on stdout, notes on stderr, a progress
/// bar (indicatif: drawn only on a terminal) cleared at the end for one line that says what ran and
/// how long it took (the only line a log or a pipe gets).
struct Console {
    model_config: Option<String>,
    bar: Option<(String, indicatif::ProgressBar)>,
}

impl Frontend for Console {
    fn gpu(&mut self) -> Result<Gpu> {
        gpu()
    }
    fn model_config(&self) -> Option<&str> {
        self.model_config.as_deref()
    }
    fn say(&mut self, text: &str) {
        println!("{text}");
    }
    fn note(&mut self, text: &str) {
        eprintln!("note: {text}");
    }
    fn status(&mut self, text: &str) {
        eprintln!("{text}");
    }
    fn progress(&mut self, label: &str, done: usize, total: usize) {
        if self.bar.as_ref().is_none_or(|(l, _)| l != label) {
            if let Some((_, old)) = self.bar.take() {
                old.finish_and_clear();
            }
            let style = indicatif::ProgressStyle::with_template(
                "{prefix} [{bar:30}] {pos}/{len}  {elapsed} elapsed, {eta} left",
            )
            .expect("a valid template")
            .progress_chars("=> ");
            let b = indicatif::ProgressBar::new(total as u64).with_style(style);
            b.set_prefix(label.to_string());
            if b.is_hidden() && done > 0 {
                // a sweep's next job, in a log
                eprintln!("{label} ({done}/{total} steps)");
            }
            self.bar = Some((label.to_string(), b));
        }
        let Some((_, b)) = &self.bar else { return };
        b.set_position(done as u64);
        if done == total {
            b.finish_and_clear();
            eprintln!("{label}: {total} steps in {:.1} s", b.elapsed().as_secs_f64());
            self.bar = None;
        }
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Lists the GPU adapters, the one chosen, its backend, features and key limits.
    Info,
    /// Runs the model once: writes `eps` = model(x, t) for the tensor `x` of the input file. A
    /// text-conditioned UNet (Stable Diffusion's) takes --prompt or --cond, and --guidance; its
    /// `eps` is ε also for a v_prediction model (converted per the scheduler config).
    Eps {
        /// diffusers UNet2DModel directory (config.json + diffusion_pytorch_model.safetensors), a
        /// guided-diffusion checkpoint (.pt or .safetensors; see --model-config), a diffusers
        /// UNet2DConditionModel directory, or a Stable Diffusion pipeline folder (unet/, and
        /// text_encoder/ + tokenizer/ for --prompt).
        #[arg(long)]
        model: PathBuf,
        /// safetensors file holding `x` ([B, C, H, W], f32).
        #[arg(long)]
        input: PathBuf,
        /// Integer timestep, for the whole batch.
        #[arg(long, allow_negative_numbers = true, value_parser = app::whole::<u32>)]
        t: u32,
        /// Output safetensors file (tensor `eps`, and `vjp` with --vjp).
        #[arg(long)]
        out: PathBuf,
        /// safetensors file holding `v` (the shape of the output): also writes `vjp` = ∇_x ⟨v, eps⟩.
        #[arg(long)]
        vjp: Option<PathBuf>,
        /// Text-conditioned UNet: safetensors file with one tensor [1 or B, tokens,
        /// cross_attention_dim] (one embedding is used for the whole batch), e.g. from tweedie text.
        #[arg(long)]
        cond: Option<PathBuf>,
        /// Text-conditioned UNet in a pipeline folder: the prompt, encoded by its CLIP text encoder
        /// (padded to the tokenizer's maximum length, as diffusers' pipelines pad it).
        #[arg(long)]
        prompt: Option<String>,
        /// Classifier-free guidance scale g: eps = eps_uncond + g (eps_cond - eps_uncond), the
        /// unconditional branch being the empty prompt. Default 1: the conditional branch alone,
        /// no guidance (Stable Diffusion's pipelines use 7.5).
        #[arg(long, allow_negative_numbers = true)]
        guidance: Option<f64>,
        /// With --cond and --guidance: the unconditional embedding [1, tokens, dim] (the empty
        /// prompt's, from tweedie text --prompt ""); without it the pipeline folder's text encoder
        /// encodes the empty prompt.
        #[arg(long)]
        uncond: Option<PathBuf>,
    },
    /// Runs a diffusers AutoencoderKL (a Stable Diffusion VAE) once: --encode writes the latent
    /// mean in the diffusion model's scaling, z = (mean - shift_factor) * scaling_factor; --decode
    /// divides by scaling_factor (and adds shift_factor) first, then decodes.
    Vae {
        /// diffusers AutoencoderKL folder (config.json + diffusion_pytorch_model.safetensors), or a
        /// pipeline folder holding one in vae/.
        #[arg(long)]
        model: PathBuf,
        /// The image to encode: a picture (PNG, in [0, 255] -> [-1, 1]) or a safetensors file
        /// holding `x` ([B, C, H, W] in [-1, 1]); H and W multiples of the VAE's factor (8 for SD).
        #[arg(long, conflicts_with = "decode", required_unless_present = "decode")]
        encode: Option<PathBuf>,
        /// The latent to decode: a safetensors file holding `z` ([B, latent_channels, h, w]).
        #[arg(long)]
        decode: Option<PathBuf>,
        /// Output: .safetensors (`z` with --encode; `x` with --decode) or, with --decode of one
        /// latent, .png.
        #[arg(long)]
        out: PathBuf,
    },
    /// Encodes a prompt with a Stable Diffusion pipeline's CLIP text encoder: writes the encoder's
    /// last hidden state as the tensor `emb` [1, max_length, hidden] (max_length: the tokenizer's
    /// model_max_length, 77 for SD 1.x/2.x), the prompt padded to it as diffusers' pipelines do.
    Text {
        /// Pipeline folder holding text_encoder/ (config.json + model.safetensors) and tokenizer/
        /// (vocab.json + merges.txt, or tokenizer.json).
        #[arg(long)]
        model: PathBuf,
        /// The prompt ("" for the empty prompt, classifier-free guidance's unconditional branch).
        #[arg(long, allow_hyphen_values = true)]
        prompt: String,
        /// Output safetensors file (tensor `emb`).
        #[arg(long)]
        out: PathBuf,
    },
    /// Simulates a measurement: y = A x + sigma_y n (or Poisson counts with --noise), written as a
    /// picture (or .safetensors).
    Degrade {
        /// Task spec, e.g. inpaint-box, sr:factor=4, deblur-gauss:size=9,sigma=1.5, cs:ratio=0.25.
        #[arg(long)]
        task: String,
        /// The clean image (PNG).
        #[arg(long)]
        input: PathBuf,
        /// Gaussian measurement noise in [-1, 1] units (default 0.05, as DPS); for another noise
        /// model give --noise instead.
        #[arg(long, allow_negative_numbers = true)]
        sigma_y: Option<f64>,
        /// Noise model: gaussian:sigma=S (the same as --sigma-y S) or poisson:rate=R (photon
        /// counts, 255·R at full white, as the DPS code; restore then needs a solver that takes
        /// Poisson measurements, e.g. dps).
        #[arg(long)]
        noise: Option<String>,
        /// Seed of the noise (and of random masks and kernels left unspecified).
        #[arg(long, allow_negative_numbers = true, value_parser = app::whole::<u64>, default_value_t = 0)]
        seed: u64,
        /// Output: .png (the observation as a picture) or .safetensors (the exact measurement `y`).
        #[arg(long)]
        out: PathBuf,
    },
    /// Restores observations with a diffusion-model solver.
    Restore(app::Restore),
    /// Sweeps solvers × tasks × steps on a set of images with the same measurements for every
    /// solver; writes results.csv / results.json, table.md and a PSNR-against-steps chart per task
    /// into --out. Restarted with the same --out, it computes only what is missing (reusing a row
    /// only when its settings, σ_y, model and image are this run's). --shard K/N runs one of N
    /// parts; --merge OUT DIR... joins the parts.
    Eval(app::Eval),
    /// Degrades a few bundled test images (box inpainting, x4 SR, Gaussian deblurring), restores them
    /// with DPS, writes one grid and prints PSNR/SSIM next to the trivial estimate's.
    Demo {
        /// DPS steps (20 restores the bundled images well with the few-step scale rule; 1000 is the
        /// paper's setting).
        #[arg(long, allow_negative_numbers = true, value_parser = app::whole::<usize>, default_value_t = 20)]
        steps: usize,
        /// How many bundled test images.
        #[arg(long, allow_negative_numbers = true, value_parser = app::whole::<usize>, default_value_t = 4)]
        images: usize,
        /// Output grid.
        #[arg(long, default_value = "demo.png")]
        out: PathBuf,
        /// diffusers UNet2DModel directory or guided-diffusion checkpoint (.pt, .safetensors; see
        /// --model-config); default: the bundled weights/fmnist32.
        #[arg(long)]
        model: Option<PathBuf>,
        /// Seed.
        #[arg(long, allow_negative_numbers = true, value_parser = app::whole::<u64>, default_value_t = 0)]
        seed: u64,
    },
    /// Draws unconditional samples from the model (the bundled Fashion-MNIST prior by default) and
    /// writes them as a grid.
    Sample {
        /// diffusers UNet2DModel directory, guided-diffusion checkpoint (.pt, .safetensors; see
        /// --model-config), or a latent diffusion pipeline folder (model_index.json, unet/, vae/,
        /// scheduler/: latents sampled, then decoded); default: the bundled weights/fmnist32.
        #[arg(long)]
        model: Option<PathBuf>,
        /// Number of samples.
        #[arg(long, allow_negative_numbers = true, value_parser = app::whole::<usize>, default_value_t = 16)]
        n: usize,
        /// Sampling steps (respaced from the training steps).
        #[arg(long, allow_negative_numbers = true, value_parser = app::whole::<usize>, default_value_t = 100)]
        steps: usize,
        /// ddpm (ancestral) or ddim.
        #[arg(long, default_value = "ddim")]
        sampler: String,
        /// DDIM stochasticity (0, the default: deterministic); ddpm takes none.
        #[arg(long, allow_negative_numbers = true)]
        eta: Option<f64>,
        /// Seed of the Gaussian stream.
        #[arg(long, allow_negative_numbers = true, value_parser = app::whole::<u64>, default_value_t = 0)]
        seed: u64,
        /// Output PNG grid.
        #[arg(long, default_value = "samples.png")]
        out: PathBuf,
        /// A text-conditioned pipeline folder's prompt (encoded by its CLIP).
        #[arg(long)]
        prompt: Option<String>,
        /// Classifier-free guidance scale with --prompt (default 1: the conditional branch alone;
        /// Stable Diffusion's pipelines use 7.5).
        #[arg(long, allow_negative_numbers = true)]
        guidance: Option<f64>,
    },
}

/// The device of the command, kept for the profile report (`TWEEDIE_PROFILE=1`) and to write its
/// pipeline cache when the command ends.
static PROFILED: std::sync::Mutex<Option<Gpu>> = std::sync::Mutex::new(None);

fn gpu() -> Result<Gpu> {
    let g = Gpu::with_options(&tweedie::gpu::Options::from_env()?)?;
    if let Ok(mut p) = PROFILED.lock() {
        *p = Some(g.clone());
    }
    Ok(g)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let f = &mut Console {
        model_config: cli.model_config.clone(),
        bar: None,
    };
    // the TWEEDIE_* settings are checked before anything else runs
    if let Err(e) = tweedie::gpu::Options::from_env() {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    let r = match cli.cmd {
        Cmd::Info => app::info(f),
        Cmd::Eps {
            model,
            input,
            t,
            out,
            vjp,
            cond,
            prompt,
            guidance,
            uncond,
        } => app::eps(
            f,
            &model,
            &input,
            t,
            &out,
            vjp.as_deref(),
            app::EpsConditioning {
                cond: cond.as_deref(),
                uncond: uncond.as_deref(),
                prompt: prompt.as_deref(),
                guidance,
            },
        ),
        Cmd::Vae {
            model,
            encode,
            decode,
            out,
        } => app::vae(f, &model, encode.as_deref(), decode.as_deref(), &out),
        Cmd::Text { model, prompt, out } => app::text(f, &model, &prompt, &out),
        Cmd::Degrade {
            task,
            input,
            sigma_y,
            noise,
            seed,
            out,
        } => app::noise_of(sigma_y, noise.as_deref())
            .and_then(|n| app::degrade_with(f, &task, &input, n, seed, &out)),
        Cmd::Restore(a) => app::restore(f, a),
        Cmd::Demo {
            steps,
            images,
            out,
            model,
            seed,
        } => app::demo(f, steps, images, &out, model, seed),
        Cmd::Eval(a) => app::eval(f, a),
        Cmd::Sample {
            model,
            n,
            steps,
            sampler,
            eta,
            seed,
            out,
            prompt,
            guidance,
        } => app::text_conditioning(prompt.as_deref(), guidance)
            .and_then(|text| app::sample(f, model, n, steps, &sampler, eta, seed, &out, text)),
    };
    if let Some(g) = PROFILED.lock().ok().and_then(|mut g| g.take()) {
        if let Some(rep) = g.profile_report() {
            eprintln!("{rep}");
        }
        // the next run starts from the pipelines this one compiled; failing to keep them is not
        // the command's failure
        if let Err(e) = g.save_pipeline_cache() {
            eprintln!("note: {e}");
        }
    }
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", e.on_command_line());
            ExitCode::FAILURE
        }
    }
}
