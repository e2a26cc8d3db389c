//! `tweedie eval` from the command line's options.

use super::*;

/// What `eval` is given: the command line's options (`tweedie eval --help`).
#[derive(clap::Args, Debug, Clone)]
pub struct Eval {
    /// Clean images: PNG files and/or folders of them (all of one size).
    #[arg(long, num_args = 1.., required_unless_present = "merge")]
    pub images: Vec<PathBuf>,
    /// Task specs, separated by ';' or ',' (e.g. "inpaint-box,sr:factor=4,deblur-gauss").
    #[arg(long, default_value = "inpaint-box;sr:factor=4;deblur-gauss")]
    pub tasks: String,
    /// Solvers, comma-separated (every table also holds the trivial estimate and the classical
    /// baseline, `--solver baseline`, as rows at 0 steps).
    #[arg(long, default_value = "dps,ddrm,pigdm")]
    pub solvers: String,
    /// Step counts, comma-separated.
    #[arg(long, default_value = "20,50,100")]
    pub steps: String,
    /// Solver seeds per run.
    #[arg(long, allow_negative_numbers = true, value_parser = whole::<u64>, default_value_t = 1)]
    pub seeds: u64,
    /// Measurement noise, in [-1, 1] units.
    #[arg(long, default_value_t = 0.05, allow_negative_numbers = true)]
    pub sigma_y: f64,
    /// Solver parameters for every solver that takes them, key=value.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Images per batch.
    #[arg(long, allow_negative_numbers = true, value_parser = whole::<usize>, default_value_t = 8)]
    pub batch: usize,
    /// diffusers UNet2DModel directory, guided-diffusion checkpoint (.pt, .safetensors; see
    /// --model-config), or a latent diffusion pipeline folder (model_index.json, unet/, vae/,
    /// scheduler/, e.g. weights/fmnist32-ldm: the latent solvers); default: the bundled
    /// weights/fmnist32.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// A text-conditioned pipeline folder's prompt (encoded by its CLIP), for every image of the
    /// sweep; it is recorded with the model's identity in the results, so a resumed sweep keeps
    /// one prompt.
    #[arg(long)]
    pub prompt: Option<String>,
    /// Classifier-free guidance scale with --prompt (default 1: the conditional branch alone;
    /// Stable Diffusion's pipelines use 7.5).
    #[arg(long, allow_negative_numbers = true)]
    pub guidance: Option<f64>,
    /// Output folder.
    #[arg(long, default_value = "eval")]
    pub out: PathBuf,
    /// Computes only part K of N of the sweep (0 <= K < N), e.g. K = $SLURM_ARRAY_TASK_ID; join
    /// the parts' folders with --merge.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Joins the --out folders of every shard of one sweep into OUT (results, table, charts)
    /// and exits; computes nothing.
    #[arg(long, num_args = 2.., value_names = ["OUT", "DIR"], conflicts_with_all = ["images", "shard", "prompt", "guidance"])]
    pub merge: Vec<PathBuf>,
}

/// `tweedie eval`: checks the sweep (solvers, tasks, `--set` keys, steps) before the model is
/// read, runs it into `out` (resuming what is there) and prints the table.
pub fn eval(f: &mut dyn Frontend, a: Eval) -> Result<()> {
    if !a.merge.is_empty() {
        return eval_merge(f, &a.merge);
    }
    let Eval {
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
        prompt,
        guidance,
        ..
    } = a;
    let text = text_conditioning(prompt.as_deref(), guidance)?;
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
    let steps: Vec<usize> = list(&steps)
        .iter()
        .map(|v| {
            v.parse()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| Error::Input(format!("--steps {v}: expected whole numbers above 0")))
        })
        .collect::<Result<_>>()?;
    let shard = shard.as_deref().map(crate::eval::parse_shard).transpose()?;
    let model = model.unwrap_or_else(default_model);
    let mut spec = crate::eval::EvalSpec {
        images: crate::eval::expand_images(&images)?,
        axes: crate::eval::Axes {
            tasks: crate::eval::split_tasks(&tasks),
            solvers: list(&solvers),
            steps,
            seeds,
            sigma_y,
            sets: parse_sets(&sets)?,
            batch,
            shard,
        },
        out: out.clone(),
        model: String::new(),
    };
    // solvers, tasks and --set keys before the model is read
    crate::eval::check(&spec)?;
    let latent = crate::prior::is_pipeline(&model);
    for s in &spec.axes.solvers {
        for t in &spec.axes.tasks {
            crate::solvers::check_prior(s, t, latent)?;
        }
    }
    spec.model = model_identity(&model, f.model_config())?;
    if let Some((p, g)) = text {
        // another prompt or guidance is another prior: its results are not resumed as these
        spec.model = format!("{}+prompt={p:?}+guidance={g}", spec.model);
    }
    let gpu = f.gpu()?;
    let prior = load_prior(f, &gpu, &model, text)?;
    let rows = crate::eval::run_prior(&prior, &spec, &mut |label, done, total| {
        f.progress(label, done, total)
    })?;
    report(f, &out, &format!("{} rows", rows.len()));
    Ok(())
}

/// `tweedie eval --merge OUT DIR...`: joins the shards' folders into OUT.
pub fn eval_merge(f: &mut dyn Frontend, args: &[PathBuf]) -> Result<()> {
    let (out, dirs) = args
        .split_first()
        .ok_or_else(|| Error::Input("--merge OUT DIR...".into()))?;
    crate::io::check_output(out, crate::io::Output::Folder, "--merge OUT")?;
    let rows = crate::eval::merge(out, dirs)?;
    report(f, out, &format!("{} rows from {} shards", rows.len(), dirs.len()));
    Ok(())
}

/// Prints the table of a results folder and where its files are.
fn report(f: &mut dyn Frontend, out: &std::path::Path, rows: &str) {
    let table = std::fs::read_to_string(out.join("table.md")).unwrap_or_default();
    f.say(table.trim_end());
    f.say(&format!(
        "{rows} in {}/results.csv; results.json, table.md and psnr_*.png beside it",
        out.display()
    ));
}
