//! `tweedie eval`: solver × task × steps sweeps on a set of images, with the same measurements `y`
//! for every solver, written as `results.csv` (one row per image and run), `results.json` (the
//! sweep, the rows and the means), `table.md` and one PNG chart per task (PSNR against steps, a
//! line per solver).
//!
//! **What a row knows.** Each row carries everything that determines it besides the code: the
//! solver's full settings (defaults resolved for its task and steps), the task spec, steps, solver
//! seed, σ_y, the batch size (the solver's noise is drawn per batch), the measurement's seed, the
//! SHA-256 of the model's files and of the image file, and the tweedie version.
//!
//! **Resume.** A run restarted with the same output folder reads `results.csv` by column name and
//! reuses a row only when every one of those fields matches what this run would compute; rows
//! computed otherwise are moved to `results.stale.csv` and computed again, lines that cannot be
//! read are moved to `results.dropped.txt`, and rows of cells outside this sweep stay in
//! `results.csv` but not in the tables. Each of these is reported. Nothing is deleted.
//!
//! **Determinism.** Each image is degraded with its own seed (1000 + its position in the list),
//! and images are run in fixed batches (positions `[b·k, b·(k+1))`), a batch computed whole even
//! when only some of its rows are missing, so a row's numbers do not depend on which other rows a
//! folder already held, nor on the shard that computed it.
//!
//! **Shards.** [`EvalSpec::shard`] `(K, N)` computes a deterministic 1/N of the work (units of one
//! solver run on one batch, dealt to the least-loaded shard by cost in steps); [`merge`] joins
//! the shard folders into the table one unsharded run gives.

use crate::diffusion::Denoiser;
use crate::error::{Error, Result, io_err};
use crate::io::{Image, batch_to_images, read_image};
use crate::metrics::{psnr, ssim};
use crate::operators::{self, Operator, TaskSpec};
use crate::prior::{LatentPrior, Prior};
use crate::solvers::{self, Problem};
use crate::tensor::Tensor;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The axes of a sweep and what it holds fixed: what a user asks for ([`EvalSpec`]) and what
/// `results.json` records ([`Sweep`]) share them.
#[derive(Debug, Clone, PartialEq)]
pub struct Axes {
    /// Task specs.
    pub tasks: Vec<String>,
    /// Solver names.
    pub solvers: Vec<String>,
    /// Step counts.
    pub steps: Vec<usize>,
    /// Solver seeds per run (the measurement noise stays fixed per image).
    pub seeds: u64,
    /// Measurement noise, in [-1, 1] units.
    pub sigma_y: f64,
    /// Solver parameters applied to every solver that takes them (`key=value`); a key no solver of
    /// the sweep takes is an error.
    pub sets: Vec<(String, String)>,
    /// Images per batch.
    pub batch: usize,
    /// `Some((K, N))`: compute only shard K of N (0 <= K < N); see [`merge`].
    pub shard: Option<(usize, usize)>,
}

/// What to sweep.
#[derive(Debug, Clone)]
pub struct EvalSpec {
    /// The clean images (PNG), all of one shape.
    pub images: Vec<PathBuf>,
    /// Tasks, solvers, steps and what is held fixed.
    pub axes: Axes,
    /// Output folder.
    pub out: PathBuf,
    /// What identifies the model's weights (e.g. [`crate::io::content_hash`] of its files),
    /// written into every row: a resumed run reuses rows only of the same model.
    pub model: String,
}

/// The sweep as written into `results.json`: what [`merge`] checks the shards against and what the
/// tables are drawn from.
#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    /// `(name, SHA-256 of the file)` of each image, in order.
    pub images: Vec<(String, String)>,
    /// Tasks, solvers, steps and what is held fixed.
    pub axes: Axes,
    /// The model's identity ([`EvalSpec::model`]).
    pub model: String,
    /// The tweedie version that ran it.
    pub version: String,
}

macro_rules! axes_deref {
    ($t:ty) => {
        impl std::ops::Deref for $t {
            type Target = Axes;
            fn deref(&self) -> &Axes {
                &self.axes
            }
        }
        impl std::ops::DerefMut for $t {
            fn deref_mut(&mut self) -> &mut Axes {
                &mut self.axes
            }
        }
    };
}
axes_deref!(EvalSpec);
axes_deref!(Sweep);

/// One result: an image restored by one solver run (`solver` is `"trivial"` for the trivial
/// estimate and `"baseline"` for the classical baseline, both with steps 0), with what determines
/// it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Task spec as given.
    pub task: String,
    /// Solver name.
    pub solver: String,
    /// Steps.
    pub steps: usize,
    /// Solver seed.
    pub seed: u64,
    /// Image file name.
    pub image: String,
    /// PSNR in dB.
    pub psnr: f64,
    /// SSIM.
    pub ssim: f64,
    /// Wall time per image of its batch, seconds.
    pub seconds: f64,
    /// The adapter it ran on.
    pub device: String,
    /// The solver's full settings, `key=value` joined by `;` (empty for the trivial estimate).
    pub settings: String,
    /// Measurement noise.
    pub sigma_y: f64,
    /// Images per batch.
    pub batch: usize,
    /// The seed of the measurement noise of this image.
    pub y_seed: u64,
    /// The model's identity.
    pub model: String,
    /// SHA-256 of the image file.
    pub image_sha: String,
    /// tweedie version.
    pub version: String,
}

/// The columns of `results.csv`, in the order written.
pub const COLUMNS: [&str; 16] = [
    "task",
    "solver",
    "steps",
    "seed",
    "image",
    "psnr",
    "ssim",
    "seconds",
    "device",
    "settings",
    "sigma_y",
    "batch",
    "y_seed",
    "model",
    "image_sha",
    "version",
];

/// The columns without which a line is not a row at all.
const REQUIRED: [&str; 7] = ["task", "solver", "steps", "seed", "image", "psnr", "ssim"];

/// A cell of the sweep: (task, solver, steps, seed, image).
type Key = (String, String, usize, u64, String);

fn quote(s: &str) -> String {
    if s.contains([',', '"']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Splits one CSV line (quoted fields with doubled quotes inside).
fn split_csv(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                out.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(String::new()),
            (c, _) => out.last_mut().unwrap().push(c),
        }
    }
    out
}

impl Row {
    fn to_csv(&self) -> String {
        [
            quote(&self.task),
            quote(&self.solver),
            self.steps.to_string(),
            self.seed.to_string(),
            quote(&self.image),
            self.psnr.to_string(),
            self.ssim.to_string(),
            self.seconds.to_string(),
            quote(&self.device),
            quote(&self.settings),
            self.sigma_y.to_string(),
            self.batch.to_string(),
            self.y_seed.to_string(),
            quote(&self.model),
            quote(&self.image_sha),
            quote(&self.version),
        ]
        .join(",")
    }

    /// A row from a line's fields under the file's header; `None` when a field does not parse.
    /// Columns the header lacks (an older file) read as empty, which matches no run.
    fn from_fields(cols: &HashMap<String, usize>, f: &[String]) -> Option<Row> {
        let get = |name: &str| cols.get(name).map(|&i| f[i].as_str());
        let text = |name: &str| get(name).unwrap_or("").to_string();
        Some(Row {
            task: text("task"),
            solver: text("solver"),
            steps: get("steps")?.parse().ok()?,
            seed: get("seed")?.parse().ok()?,
            image: text("image"),
            psnr: get("psnr")?.parse().ok()?,
            ssim: get("ssim")?.parse().ok()?,
            seconds: get("seconds").map_or(Some(f64::NAN), |v| v.parse().ok())?,
            device: text("device"),
            settings: text("settings"),
            sigma_y: get("sigma_y").map_or(Some(f64::NAN), |v| v.parse().ok())?,
            batch: get("batch").map_or(Some(0), |v| v.parse().ok())?,
            y_seed: get("y_seed").map_or(Some(u64::MAX), |v| v.parse().ok())?,
            model: text("model"),
            image_sha: text("image_sha"),
            version: text("version"),
        })
    }

    /// The cell in words: `solver on image (task, S steps, seed N)`.
    fn cell(&self) -> String {
        format!(
            "{} on {} ({}, {} steps, seed {})",
            self.solver, self.image, self.task, self.steps, self.seed
        )
    }

    fn key(&self) -> Key {
        (
            self.task.clone(),
            self.solver.clone(),
            self.steps,
            self.seed,
            self.image.clone(),
        )
    }

    /// The first field in which this row differs from what `want` (a row this run would write)
    /// says determines it, as `(column, this row's value, the run's value)`.
    fn differs(&self, want: &Row) -> Option<(&'static str, String, String)> {
        let pairs = [
            ("settings", self.settings.clone(), want.settings.clone()),
            ("sigma_y", self.sigma_y.to_string(), want.sigma_y.to_string()),
            ("batch", self.batch.to_string(), want.batch.to_string()),
            ("y_seed", self.y_seed.to_string(), want.y_seed.to_string()),
            ("model", self.model.clone(), want.model.clone()),
            ("image_sha", self.image_sha.clone(), want.image_sha.clone()),
            ("version", self.version.clone(), want.version.clone()),
        ];
        pairs.into_iter().find(|(_, a, b)| a != b)
    }
}

/// What [`read_table`] found in a `results.csv`.
struct Table {
    rows: Vec<Row>,
    /// `(line number, text)` of lines that are not rows.
    dropped: Vec<(usize, String)>,
    /// The header was not [`COLUMNS`] in order (an older file, or columns moved by hand).
    reordered: bool,
}

/// Reads a `results.csv` by column name. A file whose first line lacks a required column is not an
/// eval results file and is an error (it is never rewritten).
fn read_table(path: &Path) -> Result<Table> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Table {
                rows: Vec::new(),
                dropped: Vec::new(),
                reordered: false,
            });
        }
        Err(e) => return Err(io_err(path, e)),
    };
    let mut lines = text.lines();
    let header: Vec<String> = split_csv(lines.next().unwrap_or(""))
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if header.len() == 1 && header[0].is_empty() {
        return Ok(Table {
            rows: Vec::new(),
            dropped: Vec::new(),
            reordered: false,
        });
    }
    if let Some(missing) = REQUIRED.iter().find(|c| !header.contains(&c.to_string())) {
        return Err(Error::Input(format!(
            "{}: its first line has no {missing:?} column, so it is not a tweedie eval results file; \
             move it away or give --out another folder (nothing was changed)",
            path.display()
        )));
    }
    let cols: HashMap<String, usize> = header.iter().enumerate().map(|(i, h)| (h.clone(), i)).collect();
    let mut rows = Vec::new();
    let mut dropped = Vec::new();
    for (n, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let f = split_csv(line);
        match (f.len() == header.len())
            .then(|| Row::from_fields(&cols, &f))
            .flatten()
        {
            Some(r) => rows.push(r),
            None => dropped.push((n + 2, line.to_string())),
        }
    }
    Ok(Table {
        rows,
        dropped,
        reordered: header != COLUMNS,
    })
}

/// Reads the rows of a `results.csv` by column name (lines that are not rows are skipped; an
/// absent file has none).
pub fn read_results(path: &Path) -> Result<Vec<Row>> {
    Ok(read_table(path)?.rows)
}

/// `--tasks` as specs: separated by `;`, or by `,` where the next piece starts a new task (a piece
/// with `=` and no `:` continues the previous spec's parameters).
pub fn split_tasks(arg: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in arg.split(';') {
        for piece in part.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match out.last_mut() {
                Some(prev) if piece.contains('=') && !piece.contains(':') && prev.contains(':') => {
                    prev.push(',');
                    prev.push_str(piece);
                }
                _ => out.push(piece.to_string()),
            }
        }
    }
    out
}

/// Image files from folders (their `.png` files, sorted) and files.
pub fn expand_images(args: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for a in args {
        if a.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(a)
                .map_err(|e| io_err(a, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("png")))
                .collect();
            v.sort();
            out.extend(v);
        } else if a.is_file() {
            out.push(a.clone());
        } else {
            return Err(Error::Input(format!(
                "--images {}: no such file or folder",
                a.display()
            )));
        }
    }
    if out.is_empty() {
        return Err(Error::Input("--images: no PNG images found".into()));
    }
    Ok(out)
}

/// `K/N` (0 <= K < N) as given to `--shard`.
pub fn parse_shard(s: &str) -> Result<(usize, usize)> {
    let bad = || {
        Error::Input(format!(
            "--shard {s}: expected K/N with 0 <= K < N, e.g. --shard 0/4 … --shard 3/4 \
             (K = $SLURM_ARRAY_TASK_ID or $JOB_COMPLETION_INDEX)"
        ))
    };
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let (k, n): (usize, usize) = (
        k.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || k >= n {
        return Err(bad());
    }
    Ok((k, n))
}

/// The name an image is reported under (its file name, with a folder prefix where two names clash).
fn image_names(images: &[PathBuf]) -> Vec<String> {
    let base: Vec<String> = images
        .iter()
        .map(|p| p.file_name().unwrap_or_default().to_string_lossy().into_owned())
        .collect();
    base.iter()
        .zip(images)
        .map(|(b, p)| {
            if base.iter().filter(|o| *o == b).count() > 1 {
                p.display().to_string()
            } else {
                b.clone()
            }
        })
        .collect()
}

/// A solver at a step count and seed on a task (`"trivial"`: the trivial estimate, steps 0).
struct Job {
    task: usize,
    solver: String,
    steps: usize,
    seed: u64,
    /// The `--set` pairs this solver takes.
    sets: Vec<(String, String)>,
    /// Its full settings, as written in the rows.
    settings: String,
}

/// A job on one fixed batch of images: the unit of work that shards are dealt.
struct Unit {
    job: usize,
    images: std::ops::Range<usize>,
    shard: usize,
}

/// `key=value;…`
fn join_settings(s: &[(String, String)]) -> String {
    s.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(";")
}

/// The classical, non-diffusion baseline every table shows beside the trivial estimate
/// ([`solvers::Baseline`]).
pub const BASELINE: &str = "baseline";

/// The rows every table holds whatever the solvers: the trivial estimate and the baseline, each at
/// steps 0.
pub const REFERENCES: &[&str] = &["trivial", BASELINE];

/// Checks the sweep's solvers, tasks and `--set` pairs (each key must be taken by at least one
/// solver; a solver gets only the keys it takes) and lays out its jobs and units, each unit dealt
/// to a shard. Needs no GPU.
fn plan(sw: &Sweep) -> Result<(Vec<Job>, Vec<Unit>)> {
    if sw.steps.is_empty() || sw.solvers.is_empty() || sw.tasks.is_empty() || sw.seeds == 0 {
        return Err(Error::Input(
            "eval needs at least one task, solver, step count and seed".into(),
        ));
    }
    if sw.images.is_empty() || sw.batch == 0 {
        return Err(Error::Input(
            "eval needs at least one image and a batch of at least 1".into(),
        ));
    }
    let names: Vec<String> = sw
        .tasks
        .iter()
        .map(|t| t.parse::<TaskSpec>().map(|s| s.name))
        .collect::<Result<_>>()?;
    // which keys each solver takes: its full settings, and `restarts` where it may restart
    let mut takes: Vec<(String, Vec<String>)> = Vec::new();
    for s in &sw.solvers {
        if REFERENCES.contains(&s.as_str()) {
            return Err(Error::Input(format!(
                "--solvers {s}: the trivial estimate and the classical baseline are in every table \
                 already; leave {s} out"
            )));
        }
        let base = solvers::create_for_task(s, &names[0], Some(sw.steps[0]), &[])?;
        let mut keys: Vec<String> = base.settings().into_iter().map(|(k, _)| k).collect();
        if solvers::nonlinear_solvers().contains(&s.as_str()) && !keys.iter().any(|k| k == "restarts") {
            keys.push("restarts".into());
        }
        // the switch every solver takes, whether or not its settings print it
        if !keys.iter().any(|k| k == "measure") {
            keys.push("measure".into());
        }
        takes.push((s.clone(), keys));
    }
    if let Some((k, _)) = sw
        .sets
        .iter()
        .find(|(k, _)| !takes.iter().any(|(_, keys)| keys.contains(k)))
    {
        return Err(Error::Input(format!(
            "--set {k}: no solver of this sweep takes it ({}); nothing was run",
            takes
                .iter()
                .map(|(s, keys)| format!("{s} takes {}", keys.join(", ")))
                .collect::<Vec<_>>()
                .join("; ")
        )));
    }
    let mut jobs = Vec::new();
    for (t, task) in sw.tasks.iter().enumerate() {
        jobs.push(Job {
            task: t,
            solver: "trivial".into(),
            steps: 0,
            seed: 0,
            sets: Vec::new(),
            settings: String::new(),
        });
        // the classical baseline beside it: no steps, no seed, its settings (λ) in the row
        let baseline = solvers::create_for_task(BASELINE, &names[t], None, &[])?;
        jobs.push(Job {
            task: t,
            solver: BASELINE.into(),
            steps: 0,
            seed: 0,
            sets: Vec::new(),
            settings: join_settings(&baseline.settings()),
        });
        for (s, keys) in &takes {
            let sets: Vec<(String, String)> = sw
                .sets
                .iter()
                .filter(|(k, _)| keys.contains(k))
                .cloned()
                .collect();
            for &n in &sw.steps {
                let solver = solvers::create_for_task(s, &names[t], Some(n), &sets)
                    .map_err(|e| e.in_context(&format!("eval: {s} on {task}")))?;
                solvers::check_min_steps(solver.as_ref())?;
                let settings = join_settings(&solver.settings());
                for seed in 0..sw.seeds {
                    jobs.push(Job {
                        task: t,
                        solver: s.clone(),
                        steps: n,
                        seed,
                        sets: sets.clone(),
                        settings: settings.clone(),
                    });
                }
            }
        }
    }
    let n_img = sw.images.len();
    let mut units = Vec::new();
    for j in 0..jobs.len() {
        for start in (0..n_img).step_by(sw.batch) {
            units.push(Unit {
                job: j,
                images: start..(start + sw.batch).min(n_img),
                shard: 0,
            });
        }
    }
    // dealt largest first to the least-loaded shard (ties: the lower index, then list order)
    let n = sw.shard.map_or(1, |s| s.1);
    let cost = |u: &Unit| jobs[u.job].steps.max(1) * u.images.len();
    let mut order: Vec<usize> = (0..units.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(cost(&units[i])), i));
    let mut load = vec![0usize; n];
    for i in order {
        let k = (0..n).min_by_key(|&k| (load[k], k)).unwrap_or(0);
        units[i].shard = k;
        load[k] += cost(&units[i]);
    }
    Ok((jobs, units))
}

/// The row a unit's job would write for image `i`, but for the measured values.
fn expected(sw: &Sweep, job: &Job, i: usize) -> Row {
    Row {
        task: sw.tasks[job.task].clone(),
        solver: job.solver.clone(),
        steps: job.steps,
        seed: job.seed,
        image: sw.images[i].0.clone(),
        psnr: f64::NAN,
        ssim: f64::NAN,
        seconds: f64::NAN,
        device: String::new(),
        settings: job.settings.clone(),
        sigma_y: sw.sigma_y,
        batch: sw.batch,
        y_seed: 1000 + i as u64,
        model: sw.model.clone(),
        image_sha: sw.images[i].1.clone(),
        version: sw.version.clone(),
    }
}

impl Sweep {
    /// The sweep `spec` describes, over `images` as `(name, SHA-256)`, run by this version.
    pub fn of(spec: &EvalSpec, images: Vec<(String, String)>) -> Sweep {
        Sweep {
            images,
            axes: spec.axes.clone(),
            model: spec.model.clone(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }

    /// As JSON (the `"sweep"` object of `results.json`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "images": self.images.iter().map(|(n, h)| serde_json::json!({"name": n, "sha256": h})).collect::<Vec<_>>(),
            "tasks": self.tasks,
            "solvers": self.solvers,
            "steps": self.steps,
            "seeds": self.seeds,
            "sigma_y": self.sigma_y,
            "sets": self.sets.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>(),
            "batch": self.batch,
            "model": self.model,
            "version": self.version,
            "shard": self.shard.map(|(k, n)| format!("{k}/{n}")),
        })
    }

    /// From [`Sweep::to_json`]'s form; `None` when a field is missing or of another type.
    pub fn from_json(v: &serde_json::Value) -> Option<Sweep> {
        let strings = |v: &serde_json::Value| -> Option<Vec<String>> {
            v.as_array()?
                .iter()
                .map(|s| s.as_str().map(String::from))
                .collect()
        };
        Some(Sweep {
            images: v["images"]
                .as_array()?
                .iter()
                .map(|i| Some((i["name"].as_str()?.to_string(), i["sha256"].as_str()?.to_string())))
                .collect::<Option<_>>()?,
            axes: Axes {
                tasks: strings(&v["tasks"])?,
                solvers: strings(&v["solvers"])?,
                steps: v["steps"]
                    .as_array()?
                    .iter()
                    .map(|n| n.as_u64().map(|n| n as usize))
                    .collect::<Option<_>>()?,
                seeds: v["seeds"].as_u64()?,
                sigma_y: v["sigma_y"].as_f64()?,
                sets: strings(&v["sets"])?
                    .iter()
                    .map(|kv| kv.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
                    .collect::<Option<_>>()?,
                batch: v["batch"].as_u64()? as usize,
                shard: match &v["shard"] {
                    serde_json::Value::Null => None,
                    s => Some(parse_shard(s.as_str()?).ok()?),
                },
            },
            model: v["model"].as_str()?.to_string(),
            version: v["version"].as_str()?.to_string(),
        })
    }
}

fn append_lines(path: &Path, header: Option<&str>, lines: &[String]) -> Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let fresh = !path.exists();
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| io_err(path, e))?;
    let mut text = String::new();
    if let (true, Some(h)) = (fresh, header) {
        text += h;
        text.push('\n');
    }
    for l in lines {
        text += l;
        text.push('\n');
    }
    f.write_all(text.as_bytes()).map_err(|e| io_err(path, e))
}

/// Writes `text` to `path` through a temporary file beside it and a rename, so an interruption
/// leaves the old file or the new one, never half of one.
fn write_atomic(path: &Path, text: &str) -> Result<()> {
    let tmp = path.with_extension("csv.partial");
    std::fs::write(&tmp, text).map_err(|e| io_err(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io_err(path, e))
}

fn csv_text(rows: &[Row]) -> String {
    let mut text = COLUMNS.join(",");
    text.push('\n');
    for r in rows {
        text += &r.to_csv();
        text.push('\n');
    }
    text
}

/// Checks a sweep's tasks, solvers, step counts and `--set` keys without images, model or device
/// (what [`run`] checks first, for a command line to refuse before it loads anything).
pub fn check(spec: &EvalSpec) -> Result<()> {
    for t in &spec.tasks {
        t.parse::<TaskSpec>()?;
    }
    let mut sweep = Sweep::of(spec, vec![(String::new(), String::new())]);
    sweep.batch = sweep.batch.max(1);
    plan(&sweep).map(|_| ())
}

/// Runs the sweep (or its shard), reusing the rows of `results.csv` in the output folder that were
/// computed exactly as this run would compute them; calls `progress(label, done, total)` in solver
/// steps and prints what it dropped, moved or kept to stderr. Everything is checked (images, model,
/// tasks, solvers, `--set` keys and values) before the output folder is created. Returns the rows of
/// this run's cells, old and new.
pub fn run(
    model: &dyn Denoiser,
    spec: &EvalSpec,
    progress: &mut dyn FnMut(&str, usize, usize),
) -> Result<Vec<Row>> {
    run_on(model, None, spec, progress)
}

/// [`run`] for what a command line loads ([`Prior`]): on a latent prior every solver works on the
/// latents with the task's operator after the decoder, the rows score the decoded pictures, and
/// the trivial estimate and the classical baseline stay in pixels.
pub fn run_prior(
    prior: &Prior,
    spec: &EvalSpec,
    progress: &mut dyn FnMut(&str, usize, usize),
) -> Result<Vec<Row>> {
    run_on(prior.denoiser(), prior.latent(), spec, progress)
}

fn run_on(
    model: &dyn Denoiser,
    latent: Option<&LatentPrior>,
    spec: &EvalSpec,
    progress: &mut dyn FnMut(&str, usize, usize),
) -> Result<Vec<Row>> {
    let gpu = model.gpu();
    let device = gpu.adapter_info().name.clone();
    if !(spec.sigma_y.is_finite() && spec.sigma_y >= 0.0) {
        return Err(Error::Input(format!(
            "--sigma-y {}: must be a finite number >= 0",
            spec.sigma_y
        )));
    }
    if let Some((k, n)) = spec.shard
        && (n == 0 || k >= n)
    {
        return Err(Error::Input(format!(
            "--shard {k}/{n}: expected K/N with 0 <= K < N"
        )));
    }
    if spec.images.is_empty() {
        return Err(Error::Input("--images: no images given".into()));
    }
    let truths: Vec<Image> = spec.images.iter().map(|p| read_image(p)).collect::<Result<_>>()?;
    let names = image_names(&spec.images);
    let shape = truths[0].shape();
    if let Some((p, t)) = spec.images.iter().zip(&truths).find(|(_, t)| t.shape() != shape) {
        return Err(Error::Input(format!(
            "{} is {:?} (channels, height, width) but the first image is {shape:?}: eval needs one size",
            p.display(),
            t.shape()
        )));
    }
    match latent {
        Some(l) => l.check_image_shape(shape)?,
        None => model.check_input(&[1, shape[0], shape[1], shape[2]])?,
    }
    let specs: Vec<TaskSpec> = spec.tasks.iter().map(|t| t.parse()).collect::<Result<_>>()?;
    // a latent prior: each solver on the operator after the decoder (the classical rows stay in
    // pixels)
    for s in &spec.solvers {
        for t in &specs {
            solvers::check_prior(s, &t.name, latent.is_some())?;
        }
    }
    let ops: Vec<std::sync::Arc<dyn Operator>> = specs
        .iter()
        .map(|s| operators::build(gpu, s, shape).map(Into::into))
        .collect::<Result<Vec<_>>>()?;
    let problem_ops = ops
        .iter()
        .map(|o| match latent {
            Some(l) => l.problem_operator(o.clone()),
            None => Ok(o.clone()),
        })
        .collect::<Result<Vec<_>>>()?;
    if let Some(op) = ops.iter().find(|o| o.unknown().is_some()) {
        return Err(Error::Input(format!(
            "eval degrades each image with the task's own operator, and {} has an unknown kernel: \
             evaluate blind deblurring with the blind_deblur example (cargo run --release --example blind_deblur)",
            op.describe()
        )));
    }
    let sweep = Sweep::of(
        spec,
        names
            .iter()
            .zip(&spec.images)
            .map(|(n, p)| Ok((n.clone(), crate::io::content_hash(p)?)))
            .collect::<Result<_>>()?,
    );
    let (jobs, units) = plan(&sweep)?;
    let mine = spec.shard.map_or(0, |s| s.0);
    let units: Vec<&Unit> = units.iter().filter(|u| u.shard == mine).collect();
    let mut want: HashMap<Key, Row> = HashMap::new();
    let mut order: Vec<Key> = Vec::new();
    for u in &units {
        for i in u.images.clone() {
            let r = expected(&sweep, &jobs[u.job], i);
            order.push(r.key());
            want.insert(r.key(), r);
        }
    }

    // everything is checked: only now the output folder
    std::fs::create_dir_all(&spec.out).map_err(|e| io_err(&spec.out, e))?;
    let csv = spec.out.join("results.csv");
    let table = read_table(&csv)?;
    let mut have: HashMap<Key, Row> = HashMap::new();
    let mut kept: Vec<Row> = Vec::new();
    let mut stale: Vec<(Row, (&'static str, String, String))> = Vec::new();
    let mut outside = 0;
    let existed = csv.exists();
    for r in table.rows.iter().cloned() {
        match want.get(&r.key()) {
            None => {
                outside += 1;
                kept.push(r);
            }
            Some(w) => match r.differs(w) {
                Some(d) => stale.push((r, d)),
                None if have.contains_key(&r.key()) => {
                    stale.push((r, ("duplicate", String::new(), String::new())))
                }
                None => {
                    have.insert(r.key(), r.clone());
                    kept.push(r);
                }
            },
        }
    }
    if !table.dropped.is_empty() {
        let at: Vec<String> = table.dropped.iter().take(5).map(|(n, _)| n.to_string()).collect();
        append_lines(
            &spec.out.join("results.dropped.txt"),
            None,
            &table.dropped.iter().map(|(_, l)| l.clone()).collect::<Vec<_>>(),
        )?;
        eprintln!(
            "eval: {} line(s) of results.csv are not complete rows (line {}{}; a run interrupted \
             mid-write leaves one): moved to results.dropped.txt",
            table.dropped.len(),
            at.join(", "),
            if table.dropped.len() > 5 { ", …" } else { "" }
        );
    }
    if !stale.is_empty() {
        append_lines(
            &spec.out.join("results.stale.csv"),
            Some(&COLUMNS.join(",")),
            &stale.iter().map(|(r, _)| r.to_csv()).collect::<Vec<_>>(),
        )?;
        let mut by: BTreeMap<&str, (usize, String, String)> = BTreeMap::new();
        for (_, (c, a, b)) in &stale {
            by.entry(c).or_insert((0, a.clone(), b.clone())).0 += 1;
        }
        for (c, (n, a, b)) in by {
            let what = match c {
                "duplicate" => "are duplicates of rows kept".to_string(),
                _ if a.is_empty() => format!("carry no {c} (written by an older tweedie)"),
                _ => format!("were computed with another {c} ({a}; this run: {b})"),
            };
            eprintln!("eval: {n} row(s) of results.csv {what}: moved to results.stale.csv, computed again");
        }
    }
    if outside > 0 {
        eprintln!(
            "eval: {outside} row(s) of results.csv are of cells outside this run (other images, \
             tasks, solvers, steps, seeds or shards): kept in results.csv, left out of the tables"
        );
    }
    if table.reordered && !table.rows.is_empty() {
        eprintln!("eval: results.csv's columns were read by name and are rewritten in the standard order");
    }
    if !existed || !table.dropped.is_empty() || !stale.is_empty() || table.reordered {
        write_atomic(&csv, &csv_text(&kept))?;
    }

    let missing = |u: &Unit, have: &HashMap<Key, Row>| -> Vec<usize> {
        u.images
            .clone()
            .filter(|&i| !have.contains_key(&expected(&sweep, &jobs[u.job], i).key()))
            .collect()
    };
    let total: usize = units
        .iter()
        .filter(|u| !missing(u, &have).is_empty())
        .map(|u| jobs[u.job].steps)
        .sum();
    let mut steps_done = 0;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&csv)
        .map_err(|e| io_err(&csv, e))?;
    for u in &units {
        let todo = missing(u, &have);
        if todo.is_empty() {
            continue;
        }
        let j = &jobs[u.job];
        let op = ops[j.task].as_ref();
        let task = &spec.tasks[j.task];
        // the whole fixed batch, so a row never depends on which others were missing
        let chunk: Vec<usize> = u.images.clone().collect();
        let mut yall = Vec::new();
        for &i in &chunk {
            let x = Tensor::from_slice(gpu, &[1, shape[0], shape[1], shape[2]], &truths[i].data)?;
            let y = operators::add_noise(&op.forward(&x)?, spec.sigma_y, 1000 + i as u64)?;
            yall.extend(y.to_vec()?);
        }
        let mut ys = vec![chunk.len()];
        ys.extend(op.y_shape());
        let y = Tensor::from_slice(gpu, &ys, &yall)?;
        let t0 = web_time::Instant::now();
        let out = if j.solver == "trivial" {
            match latent {
                Some(l) => l.trivial(op, &y)?,
                None => solvers::trivial_estimate(model, op, &y)?,
            }
        } else if j.solver == BASELINE
            && let Some(l) = latent
        {
            // classical, no prior: in pixels whatever the prior. Where the trivial estimate is the
            // prior's mean (phase retrieval) it is that; otherwise it passes no model, and a flat
            // stand-in of the pictures' shape carries the device
            if op.trivial_is_prior_mean() {
                l.trivial(op, &y)?
            } else {
                let n = shape.iter().product();
                let flat = crate::diffusion::GaussianDenoiser::new(
                    gpu,
                    crate::diffusion::Schedule::ddpm_default(),
                    shape,
                    vec![0.0; n],
                    vec![1.0; n],
                )?;
                let solver = solvers::create_for_task(BASELINE, &specs[j.task].name, None, &j.sets)?;
                let p = Problem {
                    model: &flat,
                    op,
                    y: &y,
                    sigma_y: spec.sigma_y,
                };
                solver.solve(&p, j.seed, &mut |_, _| {})?
            }
        } else {
            // the baseline takes no steps (0 in its row)
            let steps = (j.steps > 0).then_some(j.steps);
            let solver = solvers::create_for_task(&j.solver, &specs[j.task].name, steps, &j.sets)?;
            let p = Problem {
                model,
                op: problem_ops[j.task].as_ref(),
                y: &y,
                sigma_y: spec.sigma_y,
            };
            let mut run = match solver.start_with(&p, j.seed, solvers::RunOptions::default()) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("eval: {} on {task}: {e}", j.solver);
                    steps_done += j.steps;
                    continue;
                }
            };
            let label = format!("{task} {} {} steps", j.solver, j.steps);
            // a run may take more steps than asked (restarts, inner iterations): progress
            // counts fractions of the asked steps
            let (base, per) = (steps_done, j.steps as f64 / run.steps().max(1) as f64);
            while run.step()? {
                steps_done = base + (run.done() as f64 * per).round() as usize;
                // the baseline's one step is no solver step: nothing to report
                if j.steps > 0 {
                    progress(&label, steps_done, total);
                }
            }
            steps_done = base + j.steps;
            let x = run.finish()?;
            match latent {
                Some(l) => l.vae.decode_scaled(&x)?,
                None => x,
            }
        };
        let imgs = batch_to_images(&out.to_vec()?, out.shape());
        let secs = t0.elapsed().as_secs_f64() / chunk.len() as f64;
        for (img, &i) in imgs.iter().zip(&chunk) {
            if !todo.contains(&i) {
                continue;
            }
            let r = Row {
                psnr: psnr(img, &truths[i]),
                ssim: ssim(img, &truths[i]),
                seconds: secs,
                device: device.clone(),
                ..expected(&sweep, j, i)
            };
            writeln!(f, "{}", r.to_csv()).map_err(|e| io_err(&csv, e))?;
            have.insert(r.key(), r);
        }
        f.flush().map_err(|e| io_err(&csv, e))?;
    }
    let rows: Vec<Row> = order.iter().filter_map(|k| have.get(k).cloned()).collect();
    write_reports(&spec.out, &sweep, &rows)?;
    Ok(rows)
}

/// Joins the folders of every shard of one sweep (`tweedie eval --shard K/N`, K = 0..N) into `out`:
/// one `results.csv`, `results.json`, `table.md` and the charts, as one unsharded run writes them.
/// Refuses folders of different sweeps, a missing or repeated shard, rows whose settings disagree
/// with their sweep, two different rows for one cell, and an `out` that already holds results.
pub fn merge(out: &Path, dirs: &[PathBuf]) -> Result<Vec<Row>> {
    if dirs.is_empty() {
        return Err(Error::Input(
            "--merge OUT DIR...: give the shard folders after OUT".into(),
        ));
    }
    let mut sweeps = Vec::new();
    for d in dirs {
        let jp = d.join("results.json");
        let text = std::fs::read_to_string(&jp).map_err(|e| {
            Error::Input(format!(
                "--merge: cannot read {} ({e}); is {} the --out folder of a `tweedie eval --shard` run?",
                jp.display(),
                d.display()
            ))
        })?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| Error::Input(format!("--merge: {} is not valid JSON ({e})", jp.display())))?;
        let sw = Sweep::from_json(&v["sweep"]).ok_or_else(|| {
            Error::Input(format!(
                "--merge: {} has no sweep description (written by an older tweedie?); run the shard again",
                jp.display()
            ))
        })?;
        sweeps.push(sw);
    }
    let plain = |s: &Sweep| {
        let mut s = s.clone();
        s.shard = None;
        s
    };
    for (d, s) in dirs.iter().zip(&sweeps).skip(1) {
        if plain(s) != plain(&sweeps[0]) {
            let (a, b) = (plain(s).to_json(), plain(&sweeps[0]).to_json());
            let field = a
                .as_object()
                .and_then(|o| {
                    o.iter()
                        .find(|(k, v)| b[k.as_str()] != **v)
                        .map(|(k, _)| k.clone())
                })
                .unwrap_or_default();
            return Err(Error::Input(format!(
                "--merge: {} and {} are shards of different sweeps (their {field} differs): \
                 merge only the shards of one sweep",
                dirs[0].display(),
                d.display()
            )));
        }
    }
    let n = match sweeps[0].shard {
        Some((_, n)) => n,
        None => {
            return Err(Error::Input(format!(
                "--merge: {} was run without --shard; merge joins the folders of `--shard K/N` runs",
                dirs[0].display()
            )));
        }
    };
    let mut seen: Vec<Option<&PathBuf>> = vec![None; n];
    for (d, s) in dirs.iter().zip(&sweeps) {
        match s.shard {
            Some((k, m)) if m == n => {
                if let Some(prev) = seen[k] {
                    return Err(Error::Input(format!(
                        "--merge: shard {k}/{n} is given twice ({} and {})",
                        prev.display(),
                        d.display()
                    )));
                }
                seen[k] = Some(d);
            }
            _ => {
                return Err(Error::Input(format!(
                    "--merge: {} is not a shard of {n} like {}",
                    d.display(),
                    dirs[0].display()
                )));
            }
        }
    }
    let absent: Vec<String> = (0..n)
        .filter(|&k| seen[k].is_none())
        .map(|k| format!("{k}/{n}"))
        .collect();
    if !absent.is_empty() {
        return Err(Error::Input(format!(
            "--merge: shard {} missing; merge needs the folder of every shard",
            absent.join(", ")
        )));
    }
    if dirs.iter().any(|d| crate::io::same_file(d, out)) {
        return Err(Error::Input(format!(
            "--merge {}: OUT is one of the shard folders; merge into a new folder",
            out.display()
        )));
    }
    if out.join("results.csv").exists() {
        return Err(Error::Input(format!(
            "--merge {}: it already holds results.csv; merge into a new folder (nothing was changed)",
            out.display()
        )));
    }
    let base = plain(&sweeps[0]);
    let mut whole = base.clone();
    whole.shard = Some((0, n));
    let (jobs, units) = plan(&whole)?;
    let mut got: HashMap<Key, Row> = HashMap::new();
    let mut outside = 0;
    for (d, s) in dirs.iter().zip(&sweeps) {
        let k = s.shard.map_or(0, |s| s.0);
        let mut want = HashMap::new();
        for u in units.iter().filter(|u| u.shard == k) {
            for i in u.images.clone() {
                let r = expected(&base, &jobs[u.job], i);
                want.insert(r.key(), r);
            }
        }
        let path = d.join("results.csv");
        for r in read_table(&path)?.rows {
            let Some(w) = want.get(&r.key()) else {
                outside += 1;
                continue;
            };
            if let Some((c, a, b)) = r.differs(w) {
                return Err(Error::Input(format!(
                    "--merge: {} holds {} computed with {c} {a:?}, but its sweep says {b:?}: \
                     refusing to merge rows whose settings disagree",
                    path.display(),
                    r.cell()
                )));
            }
            match got.get(&r.key()) {
                Some(prev)
                    if prev.psnr.to_bits() != r.psnr.to_bits() || prev.ssim.to_bits() != r.ssim.to_bits() =>
                {
                    return Err(Error::Input(format!(
                        "--merge: {} holds two different results for {}",
                        path.display(),
                        r.cell()
                    )));
                }
                Some(_) => {}
                None => {
                    got.insert(r.key(), r);
                }
            }
        }
    }
    let cells: usize = units.iter().map(|u| u.images.len()).sum();
    if got.len() < cells {
        eprintln!(
            "eval --merge: {} of {cells} cells have no row (a shard unfinished, or a solver that \
             refused a task): their table cells read –; rerun that shard (it resumes) and merge again",
            cells - got.len()
        );
    }
    if outside > 0 {
        eprintln!("eval --merge: {outside} row(s) outside their shard's cells were left out");
    }
    std::fs::create_dir_all(out).map_err(|e| io_err(out, e))?;
    // in the order one unsharded run writes them
    let rows: Vec<Row> = units
        .iter()
        .flat_map(|u| u.images.clone().map(|i| expected(&base, &jobs[u.job], i).key()))
        .filter_map(|k| got.get(&k).cloned())
        .collect();
    write_atomic(&out.join("results.csv"), &csv_text(&rows))?;
    write_reports(out, &base, &rows)?;
    Ok(rows)
}

/// Means keyed by (task, solver, steps): (PSNR, SSIM, seconds per image, rows).
pub type Means = BTreeMap<(String, String, usize), (f64, f64, f64, usize)>;

/// Mean PSNR, SSIM and seconds per image of each (task, solver, steps), over images and seeds.
pub fn means(rows: &[Row]) -> Means {
    let mut m = Means::new();
    for r in rows {
        let e = m.entry((r.task.clone(), r.solver.clone(), r.steps)).or_default();
        e.0 += r.psnr;
        e.1 += r.ssim;
        e.2 += r.seconds;
        e.3 += 1;
    }
    for v in m.values_mut() {
        let n = v.3 as f64;
        (v.0, v.1, v.2) = (v.0 / n, v.1 / n, v.2 / n);
    }
    m
}

/// Writes `results.json`, `table.md` and the charts for `rows` (the rows of one run's cells) of the
/// sweep `sw`. A mean that is not finite (a solver that diverged on some image) reads `NaN` in the
/// table, is left out of its chart, and a task with no finite mean gets a line saying why it has no
/// chart instead of one.
pub fn write_reports(out: &Path, sw: &Sweep, rows: &[Row]) -> Result<()> {
    let m = means(rows);
    let mut devices: Vec<&str> = rows.iter().map(|r| r.device.as_str()).collect();
    devices.sort();
    devices.dedup();
    let device = devices.join(", ");
    let json = serde_json::json!({
        "sweep": sw.to_json(),
        "device": device,
        "means": m.iter().map(|((t, s, n), (p, ss, sec, c))| serde_json::json!({
            "task": t, "solver": s, "steps": n, "psnr": p, "ssim": ss, "seconds_per_image": sec, "count": c
        })).collect::<Vec<_>>(),
        "rows": rows.iter().map(|r| serde_json::json!({
            "task": r.task, "solver": r.solver, "steps": r.steps, "seed": r.seed, "image": r.image,
            "psnr": r.psnr, "ssim": r.ssim, "seconds": r.seconds, "device": r.device,
            "settings": r.settings, "sigma_y": r.sigma_y, "batch": r.batch, "y_seed": r.y_seed,
            "model": r.model, "image_sha": r.image_sha, "version": r.version
        })).collect::<Vec<_>>(),
    });
    let jp = out.join("results.json");
    std::fs::write(&jp, serde_json::to_string_pretty(&json).unwrap_or_default())
        .map_err(|e| io_err(&jp, e))?;
    let images: HashSet<&str> = rows.iter().map(|r| r.image.as_str()).collect();
    let mut md = format!(
        "Mean PSNR (dB) / SSIM over {} image(s) × {} seed(s), σ_y = {}; s / image on {device}.\n",
        images.len(),
        sw.seeds,
        sw.sigma_y
    );
    if let Some((k, n)) = sw.shard {
        md += &format!(
            "Shard {k}/{n}: only this shard's cells (join the shards with `tweedie eval --merge`).\n"
        );
    }
    md += "\n| task | solver |";
    for n in &sw.steps {
        md += &format!(" {n} steps |");
    }
    md += " s / image |\n| --- | --- |";
    md += &" --- |".repeat(sw.steps.len() + 1);
    md += "\n";
    let cell = |p: f64, s: f64| {
        if p.is_finite() {
            format!(" {p:.2} / {s:.3} |")
        } else {
            " NaN |".to_string()
        }
    };
    for task in &sw.tasks {
        for reference in REFERENCES {
            if let Some((p, s, _, _)) = m.get(&(task.clone(), reference.to_string(), 0)) {
                md += &format!(
                    "| {task} | {reference} |{}|\n",
                    cell(*p, *s).repeat(sw.steps.len()) + " – "
                );
            }
        }
        for solver in &sw.solvers {
            let mut line = format!("| {task} | {solver} |");
            let mut secs = Vec::new();
            for n in &sw.steps {
                match m.get(&(task.clone(), solver.clone(), *n)) {
                    Some((p, s, sec, _)) => {
                        line += &cell(*p, *s);
                        secs.push(format!("{sec:.1}"));
                    }
                    None => line += " – |",
                }
            }
            md += &format!("{line} {} |\n", secs.join(" / "));
        }
    }
    let x_labels: Vec<String> = sw.steps.iter().map(|n| n.to_string()).collect();
    let mut notes = String::new();
    for (k, task) in sw.tasks.iter().enumerate() {
        let mut series = Vec::new();
        for solver in &sw.solvers {
            let points: Vec<(usize, f64)> = sw
                .steps
                .iter()
                .enumerate()
                .filter_map(|(i, n)| m.get(&(task.clone(), solver.clone(), *n)).map(|v| (i, v.0)))
                .filter(|p| p.1.is_finite())
                .collect();
            if !points.is_empty() {
                series.push(crate::plot::Series {
                    label: solver.clone(),
                    points,
                    dashed: false,
                });
            }
        }
        for reference in REFERENCES {
            if let Some((p, ..)) = m.get(&(task.clone(), reference.to_string(), 0))
                && p.is_finite()
            {
                series.push(crate::plot::Series {
                    label: reference.to_string(),
                    points: (0..sw.steps.len()).map(|i| (i, *p)).collect(),
                    dashed: true,
                });
            }
        }
        let nan = m
            .iter()
            .any(|((t, s, _), v)| t == task && !REFERENCES.contains(&s.as_str()) && !v.0.is_finite());
        if series.iter().any(|s| !s.dashed) {
            let name = task.split(':').next().unwrap_or("task");
            crate::plot::line_chart(
                &out.join(format!("psnr_{k}_{name}.png")),
                task,
                "PSNR (dB)",
                &x_labels,
                &series,
            )?;
            if nan {
                notes += &format!(
                    "\nThe chart of {task} leaves out the NaN means (a solver diverged on some image; \
                     results.csv has its rows).\n"
                );
            }
        } else if nan {
            notes += &format!(
                "\nNo chart for {task}: every solver's mean PSNR is NaN (the solvers diverged; \
                 results.csv has the rows).\n"
            );
        }
    }
    md += &notes;
    let mp = out.join("table.md");
    std::fs::write(&mp, md).map_err(|e| io_err(&mp, e))?;
    Ok(())
}
