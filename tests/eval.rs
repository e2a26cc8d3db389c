//! `tweedie eval`: a small sweep writes complete, parseable outputs; a run interrupted (rows lost, a
//! line cut) and restarted with the same folder computes only what is missing and ends with the same
//! results; a resumed run reuses only rows computed exactly as it would compute them (σ_y, `--set`,
//! model, image content), reads columns by name and reports what it moved; shards merge into the
//! unsharded table.

use std::path::{Path, PathBuf};
use tweedie::eval::{self, EvalSpec, read_results};
use tweedie::models::UNet2DModel;

mod common;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn model(g: &tweedie::Gpu) -> UNet2DModel {
    UNet2DModel::load(g, &root().join("weights/fmnist32")).unwrap()
}

fn folder(name: &str) -> PathBuf {
    let out = std::env::temp_dir().join(format!("tweedie-eval-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    out
}

fn spec(out: &Path, images: usize) -> EvalSpec {
    EvalSpec {
        images: (0..images)
            .map(|i| root().join(format!("tests/data/fmnist_test_{i:05}.png")))
            .collect(),
        axes: eval::Axes {
            tasks: eval::split_tasks("inpaint-box:x=8,y=8,w=16,h=16,deblur-gauss"),
            solvers: vec!["ddrm".into(), "red-diff".into()],
            steps: vec![4, 5],
            seeds: 1,
            sigma_y: 0.05,
            sets: vec![],
            batch: 8,
            shard: None,
        },
        out: out.to_path_buf(),
        model: "fmnist32".into(),
    }
}

/// A cell: (task, solver, steps, seed, image).
type Cell = (String, String, usize, u64, String);

/// (task, solver, steps, seed, image) → (psnr, ssim), sorted.
fn results(rows: &[eval::Row]) -> Vec<(Cell, (f64, f64))> {
    let mut v: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                (r.task.clone(), r.solver.clone(), r.steps, r.seed, r.image.clone()),
                (r.psnr, r.ssim),
            )
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// The table without its seconds column and its header line (device, shard note).
fn table_cells(md: &str) -> Vec<String> {
    md.lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| task"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').collect();
            cells[..cells.len() - 2].join("|")
        })
        .collect()
}

#[test]
fn eval_writes_parseable_outputs_and_resumes_after_an_interruption() {
    let g = common::gpu();
    let model = model(&g);
    let out = folder("resume");
    let spec = spec(&out, 2);
    assert_eq!(spec.tasks, vec!["inpaint-box:x=8,y=8,w=16,h=16", "deblur-gauss"]);
    let mut steps = 0;
    let rows = eval::run(&model, &spec, &mut |_, _, _| steps += 1).unwrap();
    // 2 tasks × (trivial + baseline + 2 solvers × 2 step counts) × 2 images
    assert_eq!(rows.len(), 2 * 6 * 2);
    assert_eq!(steps, 2 * 2 * (4 + 5), "one progress call per solver step");
    let csv = out.join("results.csv");
    let parsed = read_results(&csv).unwrap();
    assert_eq!(parsed, rows);
    assert!(parsed.iter().all(|r| r.psnr.is_finite()
        && r.ssim.is_finite()
        && !r.device.is_empty()
        && r.model == "fmnist32"
        && r.image_sha.len() == 64
        && r.sigma_y == 0.05
        && r.version == env!("CARGO_PKG_VERSION")));
    let red = parsed.iter().find(|r| r.solver == "red-diff").unwrap();
    assert!(red.settings.contains("lambda="), "{}", red.settings);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(json["rows"].as_array().unwrap().len(), rows.len());
    assert_eq!(json["means"].as_array().unwrap().len(), 12);
    assert_eq!(json["sweep"]["images"].as_array().unwrap().len(), 2);
    let md = std::fs::read_to_string(out.join("table.md")).unwrap();
    assert!(md.contains("| deblur-gauss | ddrm |") && md.contains("4 steps"));
    // the classical baseline sits beside the trivial estimate in every table
    assert!(
        md.contains("| deblur-gauss | baseline |")
            && md.contains("| inpaint-box:x=8,y=8,w=16,h=16 | baseline |")
    );
    let base = parsed.iter().find(|r| r.solver == "baseline").unwrap();
    assert_eq!((base.steps, base.settings.as_str()), (0, "lambda=auto"));
    assert!(out.join("psnr_0_inpaint-box.png").is_file() && out.join("psnr_1_deblur-gauss.png").is_file());
    image::open(out.join("psnr_1_deblur-gauss.png")).unwrap();

    // an interruption: the last RED-Diff run's rows are lost and a line is cut in half
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let keep = lines.len() - 2;
    let mut cut = lines[..keep].join("\n");
    cut.push('\n');
    cut.push_str(&lines[keep][..20]);
    std::fs::write(&csv, cut).unwrap();
    let mut again = 0;
    let rows2 = eval::run(&model, &spec, &mut |_, _, _| again += 1).unwrap();
    assert_eq!(
        again, 5,
        "only the lost RED-Diff run (5 steps, one batch) is computed again"
    );
    assert_eq!(
        results(&rows),
        results(&rows2),
        "the resumed sweep ends with the same results"
    );
    let dropped = std::fs::read_to_string(out.join("results.dropped.txt")).unwrap();
    assert_eq!(
        dropped.trim(),
        &lines[keep][..20],
        "the cut line is kept aside, not lost"
    );
    // and a complete folder computes nothing
    let mut none = 0;
    eval::run(&model, &spec, &mut |_, _, _| none += 1).unwrap();
    assert_eq!(none, 0);
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn eval_resume_reuses_only_rows_computed_as_this_run_would() {
    let g = common::gpu();
    let model = model(&g);
    let out = folder("provenance");
    let mut spec = spec(&out, 2);
    spec.tasks = vec!["inpaint-box:x=8,y=8,w=16,h=16".into()];
    spec.steps = vec![4];
    let count = |spec: &EvalSpec| {
        let mut n = 0;
        let rows = eval::run(&model, spec, &mut |_, _, _| n += 1).unwrap();
        (n, rows)
    };
    let (n, first) = count(&spec);
    assert_eq!(n, 8);
    // σ_y changed: every row is recomputed, the old ones moved aside, the table says the new σ_y
    let mut s2 = spec.clone();
    s2.sigma_y = 0.5;
    let (n, rows) = count(&s2);
    assert_eq!(n, 8, "a σ_y change recomputes every solver run");
    assert!(rows.iter().all(|r| r.sigma_y == 0.5));
    assert!(rows.iter().zip(&first).any(|(a, b)| a.psnr != b.psnr));
    let stale = read_results(&out.join("results.stale.csv")).unwrap();
    assert_eq!(stale.len(), first.len(), "the σ_y 0.05 rows are kept aside");
    let md = std::fs::read_to_string(out.join("table.md")).unwrap();
    assert!(md.contains("σ_y = 0.5"));
    // back to 0.05 with a --set that only RED-Diff takes: DDRM's rows (σ_y 0.05 now stale,
    // recomputed) and RED-Diff's with its new lambda
    let mut s3 = spec.clone();
    s3.sets = vec![("lambda".into(), "0.5".into())];
    count(&s3);
    let (n, rows) = count(&s3);
    assert_eq!(n, 0, "a complete folder computes nothing");
    assert!(
        rows.iter()
            .filter(|r| r.solver == "red-diff")
            .all(|r| r.settings.contains("lambda=0.5"))
    );
    // a --set only RED-Diff takes leaves DDRM's rows valid
    let mut s4 = s3.clone();
    s4.sets = vec![("lambda".into(), "0.7".into())];
    let (n, _) = count(&s4);
    assert_eq!(
        n, 4,
        "only RED-Diff is recomputed after a RED-Diff-only --set change"
    );
    // another model: everything again
    let mut s5 = s4.clone();
    s5.model = "another".into();
    assert_eq!(count(&s5).0, 8);
    // an image whose content changed: only its rows
    let imgs = out.join("imgs");
    std::fs::create_dir_all(&imgs).unwrap();
    let a = imgs.join("a.png");
    let b = imgs.join("b.png");
    std::fs::copy(&s5.images[0], &a).unwrap();
    std::fs::copy(&s5.images[1], &b).unwrap();
    let mut s6 = s5.clone();
    s6.images = vec![a.clone(), b.clone()];
    s6.batch = 1;
    count(&s6);
    std::fs::copy(&s5.images[0], &b).unwrap();
    let (n, rows) = count(&s6);
    assert_eq!(
        n, 8,
        "only b.png's runs are recomputed (batch 1): 2 solvers × 4 steps"
    );
    assert_eq!(rows.len(), 8, "trivial, baseline, ddrm and red-diff on 2 images");
    // fewer images: the table averages only this run's
    let mut s7 = s6.clone();
    s7.images = vec![a.clone()];
    let (n, rows) = count(&s7);
    assert_eq!(n, 0);
    assert!(rows.iter().all(|r| r.image == "a.png"));
    let md = std::fs::read_to_string(out.join("table.md")).unwrap();
    assert!(md.contains("over 1 image(s)"), "{md}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert!(json["means"].as_array().unwrap().iter().all(|m| m["count"] == 1));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn eval_reads_columns_by_name_and_reports_garbage() {
    let g = common::gpu();
    let model = model(&g);
    let out = folder("columns");
    let mut spec = spec(&out, 1);
    spec.tasks = vec!["deblur-gauss".into()];
    spec.solvers = vec!["ddrm".into()];
    spec.steps = vec![4];
    let rows = eval::run(&model, &spec, &mut |_, _, _| {}).unwrap();
    // swap the psnr and ssim columns (header and values) and add a garbage line
    let csv = out.join("results.csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    let swapped: Vec<String> = text
        .lines()
        .map(|l| {
            let mut f: Vec<&str> = l.split(',').collect();
            f.swap(5, 6);
            f.join(",")
        })
        .collect();
    std::fs::write(&csv, swapped.join("\n") + "\nthis,is,not,a,row\n").unwrap();
    let mut n = 0;
    let again = eval::run(&model, &spec, &mut |_, _, _| n += 1).unwrap();
    assert_eq!(n, 0, "the rows are read by name and reused");
    assert_eq!(again, rows, "PSNR and SSIM are read from their named columns");
    let reread = read_results(&csv).unwrap();
    assert_eq!(reread, rows);
    assert!(
        std::fs::read_to_string(&csv)
            .unwrap()
            .starts_with(&eval::COLUMNS.join(","))
    );
    assert!(
        std::fs::read_to_string(out.join("results.dropped.txt"))
            .unwrap()
            .contains("this,is,not,a,row")
    );
    // a file that is not an eval results file is refused and left alone
    std::fs::write(&csv, "name,score\nx,1\n").unwrap();
    let e = eval::run(&model, &spec, &mut |_, _, _| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a tweedie eval results file"), "{e}");
    assert_eq!(std::fs::read_to_string(&csv).unwrap(), "name,score\nx,1\n");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn eval_refuses_an_unknown_set_key_before_any_work() {
    let g = common::gpu();
    let model = model(&g);
    let out = folder("bogus");
    let mut spec = spec(&out, 1);
    spec.sets = vec![("bogus".into(), "1".into())];
    let e = eval::run(&model, &spec, &mut |_, _, _| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("--set bogus") && e.contains("red-diff takes"), "{e}");
    assert!(!out.exists(), "a failed eval creates no output folder");
    // a bad value for a key one solver takes: also before any work
    spec.sets = vec![("lambda".into(), "-1".into())];
    let e = eval::run(&model, &spec, &mut |_, _, _| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("lambda"), "{e}");
    assert!(!out.exists());
}

#[test]
fn three_shards_merge_into_the_unsharded_table() {
    let g = common::gpu();
    let model = model(&g);
    let whole = folder("whole");
    let mut spec = spec(&whole, 3);
    spec.batch = 2;
    let all = eval::run(&model, &spec, &mut |_, _, _| {}).unwrap();
    let mut dirs = Vec::new();
    let mut counts = Vec::new();
    for k in 0..3 {
        let d = folder(&format!("shard{k}"));
        let mut s = spec.clone();
        s.out = d.clone();
        s.shard = Some((k, 3));
        let mut steps = 0;
        let rows = eval::run(&model, &s, &mut |_, _, _| steps += 1).unwrap();
        counts.push((rows.len(), steps));
        dirs.push(d);
    }
    assert_eq!(
        counts.iter().map(|c| c.0).sum::<usize>(),
        all.len(),
        "the shards split the cells"
    );
    assert!(counts.iter().all(|c| c.0 > 0), "{counts:?}");
    let merged = folder("merged");
    // a missing shard is refused
    let e = eval::merge(&merged, &dirs[..2]).unwrap_err().to_string();
    assert!(e.contains("shard 2/3 missing"), "{e}");
    assert!(!merged.exists());
    let rows = eval::merge(&merged, &dirs).unwrap();
    assert_eq!(results(&rows), results(&all), "bit-identical results");
    let t = |d: &Path| table_cells(&std::fs::read_to_string(d.join("table.md")).unwrap());
    assert_eq!(t(&merged), t(&whole));
    assert!(merged.join("psnr_1_deblur-gauss.png").is_file());
    // merging again into the same folder is refused (nothing overwritten)
    let e = eval::merge(&merged, &dirs).unwrap_err().to_string();
    assert!(e.contains("already holds results.csv"), "{e}");
    // a shard whose rows disagree with its sweep is refused
    let csv = dirs[1].join("results.csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    std::fs::write(&csv, text.replace(",0.05,", ",0.5,")).unwrap();
    let again = folder("merged2");
    let e = eval::merge(&again, &dirs).unwrap_err().to_string();
    assert!(e.contains("disagree"), "{e}");
    for d in dirs.iter().chain([&whole, &merged]) {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn reports_say_why_a_nan_mean_has_no_chart() {
    let out = folder("nan");
    std::fs::create_dir_all(&out).unwrap();
    let sw = eval::Sweep {
        images: vec![("a.png".into(), "0".repeat(64))],
        axes: eval::Axes {
            tasks: vec!["sr:factor=4".into()],
            solvers: vec!["dps".into()],
            steps: vec![2],
            seeds: 1,
            sigma_y: 0.05,
            sets: vec![],
            batch: 1,
            shard: None,
        },
        model: "m".into(),
        version: "v".into(),
    };
    let row = eval::Row {
        task: "sr:factor=4".into(),
        solver: "dps".into(),
        steps: 2,
        seed: 0,
        image: "a.png".into(),
        psnr: f64::NAN,
        ssim: f64::NAN,
        seconds: 1.0,
        device: "d".into(),
        settings: String::new(),
        sigma_y: 0.05,
        batch: 1,
        y_seed: 1000,
        model: "m".into(),
        image_sha: "0".repeat(64),
        version: "v".into(),
    };
    eval::write_reports(&out, &sw, std::slice::from_ref(&row)).unwrap();
    let md = std::fs::read_to_string(out.join("table.md")).unwrap();
    assert!(md.contains("| sr:factor=4 | dps | NaN |"), "{md}");
    assert!(md.contains("No chart for sr:factor=4"), "{md}");
    let _ = std::fs::remove_dir_all(&out);
}

/// The trivial estimate and the classical baseline are rows of every table: naming either as a
/// solver is refused before any work.
#[test]
fn eval_refuses_the_reference_rows_as_solvers() {
    for s in ["trivial", "baseline"] {
        let mut sp = spec(&folder("references"), 1);
        sp.solvers = vec![s.into()];
        let e = eval::check(&sp).unwrap_err().to_string();
        assert!(e.contains("in every table") && e.contains(s), "{e}");
    }
}

/// `--set measure=0` (the switch every solver takes, which DPS's printed settings leave out) is
/// accepted by a sweep, as `restore` accepts it; an unknown key is still refused.
#[test]
fn eval_takes_measure_for_every_solver() {
    let mut sp = spec(&folder("measure"), 1);
    sp.solvers = vec!["dps".into(), "ddrm".into()];
    sp.steps = vec![10];
    sp.sets = vec![("measure".into(), "0".into())];
    eval::check(&sp).unwrap();
    sp.sets = vec![("nonsense".into(), "0".into())];
    let e = eval::check(&sp).unwrap_err().to_string();
    assert!(e.contains("no solver of this sweep takes it"), "{e}");
}
