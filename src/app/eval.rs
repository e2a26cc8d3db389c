//! `tweedie eval` from the command line's options.

use super::*;

/// `tweedie eval`: checks the sweep (solvers, tasks, `--set` keys, steps) before the model is
/// read, runs it into `out` (resuming what is there) and prints the table.
#[allow(clippy::too_many_arguments)]
pub fn eval(
    f: &mut dyn Frontend,
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
    let shard = shard.map(crate::eval::parse_shard).transpose()?;
    let model = model.unwrap_or_else(default_model);
    let mut spec = crate::eval::EvalSpec {
        images: crate::eval::expand_images(&images)?,
        tasks: crate::eval::split_tasks(tasks),
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
    crate::eval::check(&spec)?;
    spec.model = model_identity(&model, f.model_config())?;
    let gpu = f.gpu()?;
    let m = load_model(f, &gpu, &model)?;
    let rows = crate::eval::run(&m, &spec, &mut |label, done, total| {
        f.progress(label, done, total)
    })?;
    f.say(
        std::fs::read_to_string(out.join("table.md"))
            .unwrap_or_default()
            .trim_end(),
    );
    f.say(&format!(
        "{} rows in {}/results.csv; results.json, table.md and psnr_*.png beside it",
        rows.len(),
        out.display()
    ));
    Ok(())
}

/// `tweedie eval --merge OUT DIR...`: joins the shards' folders into OUT.
pub fn eval_merge(f: &mut dyn Frontend, args: &[PathBuf]) -> Result<()> {
    let (out, dirs) = args
        .split_first()
        .ok_or_else(|| Error::Input("--merge OUT DIR...".into()))?;
    crate::io::check_output(out, crate::io::Output::Folder, "--merge OUT")?;
    let rows = crate::eval::merge(out, dirs)?;
    f.say(
        std::fs::read_to_string(out.join("table.md"))
            .unwrap_or_default()
            .trim_end(),
    );
    f.say(&format!(
        "{} rows from {} shards in {}/results.csv; results.json, table.md and psnr_*.png beside it",
        rows.len(),
        dirs.len(),
        out.display()
    ));
    Ok(())
}
