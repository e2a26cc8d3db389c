//! `tweedie eval`: solver × task × steps sweeps on a set of images, with the same measurements `y`
//! for every solver, written as `results.csv` (one row per image and run), `results.json` (the rows
//! and the means), `table.md` and one PNG chart per task (PSNR against steps, a line per solver).
//!
//! Each image is degraded with its own fixed seed (its position in the list), so every solver and
//! step count sees the same `y`. Rows are appended to `results.csv` after every batch; a run
//! restarted with the same output folder reads it and computes only what is missing.

use crate::diffusion::Denoiser;
use crate::error::{Error, Result};
use crate::io::{Image, batch_to_images, read_image};
use crate::metrics::{psnr, ssim};
use crate::operators::{self, TaskSpec};
use crate::solvers::{self, Problem};
use crate::tensor::Tensor;
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What to sweep.
#[derive(Debug, Clone)]
pub struct EvalSpec {
    /// The clean images (PNG), all of one shape.
    pub images: Vec<PathBuf>,
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
    /// Solver parameters applied to every solver that takes them (`key=value`).
    pub sets: Vec<(String, String)>,
    /// Images per batch.
    pub batch: usize,
    /// Output folder.
    pub out: PathBuf,
}

/// One result: an image restored by one solver run (`solver` is `"trivial"` for the trivial
/// estimate, with steps 0).
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
}

const HEADER: &str = "task,solver,steps,seed,image,psnr,ssim,seconds,device";

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
        format!(
            "{},{},{},{},{},{},{},{},{}",
            quote(&self.task),
            quote(&self.solver),
            self.steps,
            self.seed,
            quote(&self.image),
            self.psnr,
            self.ssim,
            self.seconds,
            quote(&self.device)
        )
    }

    fn from_csv(line: &str) -> Option<Row> {
        let f = split_csv(line);
        if f.len() != 9 {
            return None;
        }
        Some(Row {
            task: f[0].clone(),
            solver: f[1].clone(),
            steps: f[2].parse().ok()?,
            seed: f[3].parse().ok()?,
            image: f[4].clone(),
            psnr: f[5].parse().ok()?,
            ssim: f[6].parse().ok()?,
            seconds: f[7].parse().ok()?,
            device: f[8].clone(),
        })
    }

    fn key(&self) -> (String, String, usize, u64, String) {
        (
            self.task.clone(),
            self.solver.clone(),
            self.steps,
            self.seed,
            self.image.clone(),
        )
    }
}

/// Reads `results.csv`, keeping the complete rows (a line cut by an interruption is dropped).
pub fn read_results(path: &Path) -> Result<Vec<Row>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(crate::error::io_err(path, e)),
    };
    Ok(text
        .lines()
        .skip_while(|l| *l == HEADER)
        .filter_map(Row::from_csv)
        .collect())
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
                .map_err(|e| crate::error::io_err(a, e))?
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

/// One unit of work: a solver at a step count and seed on a task (`"trivial"`: the trivial estimate).
struct Job {
    task: usize,
    solver: String,
    steps: usize,
    seed: u64,
}

/// Runs the sweep, skipping what `results.csv` in the output folder already holds; calls
/// `progress(label, done, total)` in solver steps. Returns every row (old and new).
pub fn run(
    model: &dyn Denoiser,
    spec: &EvalSpec,
    progress: &mut dyn FnMut(&str, usize, usize),
) -> Result<Vec<Row>> {
    let gpu = model.gpu();
    let device = gpu.adapter_info().name.clone();
    if spec.steps.is_empty() || spec.solvers.is_empty() || spec.tasks.is_empty() || spec.seeds == 0 {
        return Err(Error::Input(
            "eval needs at least one task, solver, step count and seed".into(),
        ));
    }
    if !(spec.sigma_y.is_finite() && spec.sigma_y >= 0.0) {
        return Err(Error::Input(format!(
            "--sigma-y {}: must be a finite number >= 0",
            spec.sigma_y
        )));
    }
    std::fs::create_dir_all(&spec.out).map_err(|e| crate::error::io_err(&spec.out, e))?;
    let csv = spec.out.join("results.csv");
    let mut rows = read_results(&csv)?;
    // rewrite the file clean (drops a line cut by an interruption), then append
    {
        let mut f = std::fs::File::create(&csv).map_err(|e| crate::error::io_err(&csv, e))?;
        writeln!(f, "{HEADER}").map_err(|e| crate::error::io_err(&csv, e))?;
        for r in &rows {
            writeln!(f, "{}", r.to_csv()).map_err(|e| crate::error::io_err(&csv, e))?;
        }
    }
    let mut done: HashSet<_> = rows.iter().map(Row::key).collect();
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
    model.check_input(&[1, shape[0], shape[1], shape[2]])?;
    let specs: Vec<TaskSpec> = spec.tasks.iter().map(|t| t.parse()).collect::<Result<_>>()?;
    let ops = specs
        .iter()
        .map(|s| operators::build(gpu, s, shape))
        .collect::<Result<Vec<_>>>()?;
    if let Some(op) = ops.iter().find(|o| o.unknown().is_some()) {
        return Err(Error::Input(format!(
            "eval degrades each image with the task's own operator, and {} has an unknown kernel: \
             evaluate blind deblurring with the blind_deblur example (cargo run --release --example blind_deblur)",
            op.describe()
        )));
    }
    // check every solver name and its settings before any work
    for s in &spec.solvers {
        solvers::create(s, &specs[0].name, Some(spec.steps[0]), &[])?;
    }
    let mut jobs = Vec::new();
    for t in 0..specs.len() {
        jobs.push(Job {
            task: t,
            solver: "trivial".into(),
            steps: 0,
            seed: 0,
        });
        for s in &spec.solvers {
            for &n in &spec.steps {
                for seed in 0..spec.seeds {
                    jobs.push(Job {
                        task: t,
                        solver: s.clone(),
                        steps: n,
                        seed,
                    });
                }
            }
        }
    }
    let missing = |j: &Job, done: &HashSet<(String, String, usize, u64, String)>| -> Vec<usize> {
        (0..truths.len())
            .filter(|&i| {
                !done.contains(&(
                    spec.tasks[j.task].clone(),
                    j.solver.clone(),
                    j.steps,
                    j.seed,
                    names[i].clone(),
                ))
            })
            .collect()
    };
    let batch = spec.batch.max(1);
    let total: usize = jobs
        .iter()
        .map(|j| missing(j, &done).len().div_ceil(batch) * j.steps)
        .sum();
    let mut steps_done = 0;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&csv)
        .map_err(|e| crate::error::io_err(&csv, e))?;
    for j in &jobs {
        let todo = missing(j, &done);
        let op = ops[j.task].as_ref();
        let task = &spec.tasks[j.task];
        for chunk in todo.chunks(batch) {
            // the same y for every solver: each image with its own seed
            let mut yall = Vec::new();
            for &i in chunk {
                let x = Tensor::from_slice(gpu, &[1, shape[0], shape[1], shape[2]], &truths[i].data)?;
                let y = operators::add_noise(&op.forward(&x)?, spec.sigma_y, 1000 + i as u64)?;
                yall.extend(y.to_vec()?);
            }
            let mut ys = vec![chunk.len()];
            ys.extend(op.y_shape());
            let y = Tensor::from_slice(gpu, &ys, &yall)?;
            let t0 = std::time::Instant::now();
            let out = if j.solver == "trivial" {
                solvers::trivial_estimate(model, op, &y)?
            } else {
                let solver = match solvers::create(&j.solver, &specs[j.task].name, Some(j.steps), &spec.sets)
                {
                    Ok(s) => s,
                    Err(e) => {
                        eprintln!("eval: {} on {task}: {e}", j.solver);
                        break;
                    }
                };
                let p = Problem {
                    model,
                    op,
                    y: &y,
                    sigma_y: spec.sigma_y,
                };
                let mut run = match solver.start(&p, j.seed) {
                    Ok(r) => r,
                    Err(e) => {
                        eprintln!("eval: {} on {task}: {e}", j.solver);
                        steps_done += j.steps * todo.len().div_ceil(batch);
                        break;
                    }
                };
                let label = format!("{task} {} {} steps", j.solver, j.steps);
                // a run may take more steps than asked (restarts, inner iterations): progress
                // counts fractions of the asked steps
                let (base, per) = (steps_done, j.steps as f64 / run.steps().max(1) as f64);
                while run.step()? {
                    steps_done = base + (run.done() as f64 * per).round() as usize;
                    progress(&label, steps_done, total);
                }
                steps_done = base + j.steps;
                run.finish()?
            };
            let imgs = batch_to_images(&out.to_vec()?, out.shape());
            let secs = t0.elapsed().as_secs_f64() / chunk.len() as f64;
            for (img, &i) in imgs.iter().zip(chunk) {
                let r = Row {
                    task: task.clone(),
                    solver: j.solver.clone(),
                    steps: j.steps,
                    seed: j.seed,
                    image: names[i].clone(),
                    psnr: psnr(img, &truths[i]),
                    ssim: ssim(img, &truths[i]),
                    seconds: secs,
                    device: device.clone(),
                };
                writeln!(f, "{}", r.to_csv()).map_err(|e| crate::error::io_err(&csv, e))?;
                done.insert(r.key());
                rows.push(r);
            }
            f.flush().map_err(|e| crate::error::io_err(&csv, e))?;
        }
    }
    write_reports(&spec.out, spec, &rows)?;
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

/// Writes `results.json`, `table.md` and the charts for the rows of this spec.
pub fn write_reports(out: &Path, spec: &EvalSpec, rows: &[Row]) -> Result<()> {
    let rows: Vec<Row> = rows
        .iter()
        .filter(|r| spec.tasks.contains(&r.task))
        .cloned()
        .collect();
    let m = means(&rows);
    let device = rows.first().map_or(String::new(), |r| r.device.clone());
    let json = serde_json::json!({
        "device": device,
        "sigma_y": spec.sigma_y,
        "images": spec.images.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "means": m.iter().map(|((t, s, n), (p, ss, sec, c))| serde_json::json!({
            "task": t, "solver": s, "steps": n, "psnr": p, "ssim": ss, "seconds_per_image": sec, "count": c
        })).collect::<Vec<_>>(),
        "rows": rows.iter().map(|r| serde_json::json!({
            "task": r.task, "solver": r.solver, "steps": r.steps, "seed": r.seed, "image": r.image,
            "psnr": r.psnr, "ssim": r.ssim, "seconds": r.seconds, "device": r.device
        })).collect::<Vec<_>>(),
    });
    let jp = out.join("results.json");
    std::fs::write(&jp, serde_json::to_string_pretty(&json).unwrap_or_default())
        .map_err(|e| crate::error::io_err(&jp, e))?;
    let mut md = format!(
        "Mean PSNR (dB) / SSIM over {} image(s) × {} seed(s), σ_y = {}; s / image on {device}.\n\n",
        spec.images.len(),
        spec.seeds,
        spec.sigma_y
    );
    md += "| task | solver |";
    for n in &spec.steps {
        md += &format!(" {n} steps |");
    }
    md += " s / image |\n| --- | --- |";
    md += &" --- |".repeat(spec.steps.len() + 1);
    md += "\n";
    for task in &spec.tasks {
        if let Some((p, s, _, _)) = m.get(&(task.clone(), "trivial".into(), 0)) {
            md += &format!(
                "| {task} | trivial |{}|\n",
                format!(" {p:.2} / {s:.3} |").repeat(spec.steps.len()) + " – "
            );
        }
        for solver in &spec.solvers {
            let mut line = format!("| {task} | {solver} |");
            let mut secs = Vec::new();
            for n in &spec.steps {
                match m.get(&(task.clone(), solver.clone(), *n)) {
                    Some((p, s, sec, _)) => {
                        line += &format!(" {p:.2} / {s:.3} |");
                        secs.push(format!("{sec:.1}"));
                    }
                    None => line += " – |",
                }
            }
            md += &format!("{line} {} |\n", secs.join(" / "));
        }
    }
    let mp = out.join("table.md");
    std::fs::write(&mp, md).map_err(|e| crate::error::io_err(&mp, e))?;
    let x_labels: Vec<String> = spec.steps.iter().map(|n| n.to_string()).collect();
    for (k, task) in spec.tasks.iter().enumerate() {
        let mut series = Vec::new();
        for solver in &spec.solvers {
            let points: Vec<(usize, f64)> = spec
                .steps
                .iter()
                .enumerate()
                .filter_map(|(i, n)| m.get(&(task.clone(), solver.clone(), *n)).map(|v| (i, v.0)))
                .collect();
            if !points.is_empty() {
                series.push(crate::plot::Series {
                    label: solver.clone(),
                    points,
                    dashed: false,
                });
            }
        }
        if let Some((p, ..)) = m.get(&(task.clone(), "trivial".into(), 0)) {
            series.push(crate::plot::Series {
                label: "trivial".into(),
                points: (0..spec.steps.len()).map(|i| (i, *p)).collect(),
                dashed: true,
            });
        }
        if series.iter().any(|s| !s.dashed) {
            let name = task.split(':').next().unwrap_or("task");
            crate::plot::line_chart(
                &out.join(format!("psnr_{k}_{name}.png")),
                task,
                "psnr (db)",
                &x_labels,
                &series,
            )?;
        }
    }
    Ok(())
}
