//! Bad input, tried as a hostile new user would: every case exits non-zero with one error line that
//! names what is wrong (the asserted words), never a panic, and writes nothing. Cases that the
//! command can refuse before loading the model are given a model directory that does not exist, so
//! the test fails if the check moved behind the solve. Degrade and restore are deterministic.

mod common;
use common::fixture;
use std::path::{Path, PathBuf};
use std::process::Command;

fn run(args: &[String], env: &[(&str, &str)]) -> (bool, String, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tweedie"));
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

/// The engine's own error line (Mesa may print unrelated lines of its own on stderr).
fn error_line(args: &str, stderr: &str) -> String {
    assert!(!stderr.contains("panicked"), "{args}: {stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: ") && !l.contains("XDG_RUNTIME_DIR"))
        .collect();
    assert_eq!(lines.len(), 1, "{args}: expected one error line, got: {stderr}");
    lines[0].to_string()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tweedie-bad-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn test_image(i: usize) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/data/fmnist_test_{i:05}.png"))
}

/// A PNG whose header says `w` x `h` (a 1x1 gray picture with its IHDR rewritten, CRC and all): what
/// a reader sees of a huge picture before decoding it, without making one.
fn huge_png(path: &Path, w: u32, h: u32) {
    let mut bytes = Vec::new();
    image::GrayImage::from_pixel(1, 1, image::Luma([7]))
        .write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
        .unwrap();
    // signature (8), IHDR length (4), "IHDR" (4), then width and height; the CRC covers type + data
    bytes[16..20].copy_from_slice(&w.to_be_bytes());
    bytes[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = {
        let mut c = 0xFFFF_FFFFu32;
        for &b in &bytes[12..29] {
            c ^= b as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    (c >> 1) ^ 0xEDB8_8320
                } else {
                    c >> 1
                };
            }
        }
        !c
    };
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    std::fs::write(path, bytes).unwrap();
}

/// The files the cases refer to, by placeholder.
struct Files {
    d: PathBuf,
    subs: Vec<(&'static str, String)>,
}

impl Files {
    /// The files in a folder of their own per test (`name`): tests run in parallel, and one test's
    /// outputs must not land among another's "nothing was written" checks.
    fn new(name: &str) -> Files {
        let d = tmp(name);
        let s = |p: &Path| p.to_str().unwrap().to_string();
        let img = test_image(0);
        // two observations with one file name, in two folders
        for sub in ["a", "b"] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
            std::fs::copy(&img, d.join(sub).join("y.png")).unwrap();
        }
        // a 16x16 picture: the wrong size for the 32x32 problems
        image::GrayImage::from_fn(16, 16, |x, y| image::Luma([(x * 13 + y * 7) as u8]))
            .save(d.join("small.png"))
            .unwrap();
        // measurements and model inputs holding NaN
        let mut y = vec![0.25f32; 32 * 32];
        y[100] = f32::NAN;
        tweedie::io::write_safetensors(&d.join("nan_y.safetensors"), &[("y", &[1, 1, 32, 32], &y)]).unwrap();
        let mut x = vec![0.1f32; 3 * 16 * 16];
        x[7] = f32::INFINITY;
        tweedie::io::write_safetensors(&d.join("nan_x.safetensors"), &[("x", &[1, 3, 16, 16], &x)]).unwrap();
        let x = vec![0.1f32; 3 * 16 * 15];
        tweedie::io::write_safetensors(&d.join("odd_x.safetensors"), &[("x", &[1, 3, 16, 15], &x)]).unwrap();
        // model folders with a broken config beside good weights
        let weights = fixture("attn_heads/diffusion_pytorch_model.safetensors");
        for (name, config) in [
            ("empty_config", "{}".to_string()),
            (
                "odd_key",
                std::fs::read_to_string(fixture("attn_heads/config.json"))
                    .unwrap()
                    .replacen('{', "{\"cross_attention_dim\": 8,", 1),
            ),
            (
                "huge_channels",
                std::fs::read_to_string(fixture("attn_heads/config.json"))
                    .unwrap()
                    .replace(
                        "\"block_out_channels\": [\n    32,",
                        "\"block_out_channels\": [\n    3200000,",
                    ),
            ),
        ] {
            std::fs::create_dir_all(d.join(name)).unwrap();
            std::fs::write(d.join(name).join("config.json"), config).unwrap();
            std::fs::copy(&weights, d.join(name).join("diffusion_pytorch_model.safetensors")).unwrap();
        }
        // good model folders with a scheduler_config.json that no schedule can come from
        for (name, sched) in [
            ("beta_neg", r#"{"beta_start": -1, "beta_end": 0.02}"#),
            ("beta_big", r#"{"beta_start": 0.0001, "beta_end": 5}"#),
            ("t_zero", r#"{"num_train_timesteps": 0}"#),
            ("beta_text", r#"{"beta_start": "small"}"#),
        ] {
            std::fs::create_dir_all(d.join(name)).unwrap();
            std::fs::copy(
                fixture("attn_heads/config.json"),
                d.join(name).join("config.json"),
            )
            .unwrap();
            std::fs::copy(&weights, d.join(name).join("diffusion_pytorch_model.safetensors")).unwrap();
            std::fs::write(d.join(name).join("scheduler_config.json"), sched).unwrap();
        }
        huge_png(&d.join("huge.png"), 30_000, 30_000);
        tweedie::io::write_safetensors(&d.join("empty_x.safetensors"), &[("x", &[0, 3, 16, 16], &[])])
            .unwrap();
        std::fs::create_dir_all(d.join("out")).unwrap();
        let subs = vec![
            ("{img}", s(&img)),
            ("{img1}", s(&test_image(1))),
            ("{d}", s(&d)),
            ("{out}", s(&d.join("out/o.png"))),
            ("{nomodel}", s(&d.join("no-such-model"))),
            ("{fixture}", s(&fixture("attn_heads"))),
            ("{fixture_x}", s(&fixture("attn_heads/io.safetensors"))),
        ];
        Files { d, subs }
    }

    fn args(&self, case: &str) -> Vec<String> {
        case.split_whitespace()
            .map(|a| {
                let mut a = a.to_string();
                for (k, v) in &self.subs {
                    a = a.replace(k, v);
                }
                a
            })
            .collect()
    }
}

/// (arguments, environment, words the error must contain). `{nomodel}` marks the cases refused before
/// the model is loaded.
type Case = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static [&'static str],
);

const CASES: &[Case] = &[
    // negative whole numbers get a range message (clap read "-5" as an unknown option)
    (
        "restore --task denoise --steps -5 --observed {img} --model {nomodel} --out {out}",
        &[],
        &["-5", "negative"],
    ),
    (
        "sample --seed -1 --model {nomodel} --out {out}",
        &[],
        &["-1", "negative"],
    ),
    // an output inside a path that is a file
    (
        "degrade --task denoise --input {img} --out {img}/r.png",
        &[],
        &["is a file, not a folder"],
    ),
    // unknown TWEEDIE_* settings are errors, not ignored
    (
        "sample --model {nomodel} --out {out}",
        &[("TWEEDIE_PROFILE", "garbage")],
        &["TWEEDIE_PROFILE", "garbage"],
    ),
    (
        "sample --model {nomodel} --out {out}",
        &[("TWEEDIE_CONV", "banana")],
        &["TWEEDIE_CONV"],
    ),
    // a 30000x30000 picture: its size and the limit, before the decoder runs out of memory
    (
        "degrade --task denoise --input {d}/huge.png --out {out}",
        &[],
        &["huge.png", "30000x30000", "megapixels"],
    ),
    // more particles than one buffer holds: named, with the most that fit
    (
        "restore --task inpaint-box --solver tds --set particles=100000 --steps 6 --observed {img} --out {out}",
        &[],
        &["particles=100000", "at most particles="],
    ),
    // an empty batch
    (
        "eps --model {fixture} --input {d}/empty_x.safetensors --t 3 --out {d}/e.safetensors",
        &[],
        &["batch of 0"],
    ),
    // an option the chosen sampler would ignore
    (
        "sample --sampler ddpm --eta 0.5 --model {nomodel} --out {out}",
        &[],
        &["--eta", "ddpm"],
    ),
    // a scheduler_config.json out of range, named with its key
    (
        "sample --model {d}/beta_neg --steps 3 --out {out}",
        &[],
        &["scheduler_config.json", "beta_start"],
    ),
    (
        "sample --model {d}/beta_big --steps 3 --out {out}",
        &[],
        &["scheduler_config.json", "beta_end"],
    ),
    (
        "sample --model {d}/t_zero --steps 3 --out {out}",
        &[],
        &["scheduler_config.json", "num_train_timesteps"],
    ),
    (
        "sample --model {d}/beta_text --steps 3 --out {out}",
        &[],
        &["scheduler_config.json", "beta_start"],
    ),
    // non-finite or out-of-range numbers
    (
        "degrade --task denoise --input {img} --sigma-y nan --out {out}",
        &[],
        &["--sigma-y nan", "[0, 100]"],
    ),
    (
        "degrade --task denoise --input {img} --sigma-y inf --out {out}",
        &[],
        &["--sigma-y inf"],
    ),
    (
        "degrade --task denoise --input {img} --sigma-y -0.05 --out {out}",
        &[],
        &["--sigma-y -0.05"],
    ),
    (
        "restore --task denoise --observed {img} --sigma-y nan --model {nomodel} --out {out}",
        &[],
        &["--sigma-y nan"],
    ),
    (
        "restore --task denoise --observed {img} --sigma-y inf --model {nomodel} --out {out}",
        &[],
        &["--sigma-y inf"],
    ),
    (
        "restore --task denoise --observed {img} --sigma-y -0.05 --model {nomodel} --out {out}",
        &[],
        &["--sigma-y -0.05"],
    ),
    (
        "restore --task denoise --observed {img} --sigma-y 1e9 --model {nomodel} --out {out}",
        &[],
        &["--sigma-y"],
    ),
    (
        "eval --images {img} --sigma-y nan --model {nomodel} --out {d}/eval",
        &[],
        &["sigma"],
    ),
    (
        "eval --images {img} --batch 0 --model {nomodel} --out {d}/eval",
        &[],
        &["--batch 0"],
    ),
    (
        "degrade --task deblur-gauss:sigma=nan --input {img} --out {out}",
        &[],
        &["sigma=nan", "[0.1, 1000]"],
    ),
    (
        "degrade --task deblur-gauss:sigma=inf --input {img} --out {out}",
        &[],
        &["sigma=inf"],
    ),
    (
        "degrade --task deblur-gauss:sigma=0 --input {img} --out {out}",
        &[],
        &["sigma=0"],
    ),
    (
        "degrade --task deblur-gauss:size=8 --input {img} --out {out}",
        &[],
        &["size=8", "odd"],
    ),
    (
        "degrade --task deblur-motion:intensity=nan --input {img} --out {out}",
        &[],
        &["intensity=nan", "[0, 1]"],
    ),
    (
        "degrade --task inpaint-random:p=1.5 --input {img} --out {out}",
        &[],
        &["p=1.5", "[0, 1)"],
    ),
    (
        "degrade --task inpaint-random:seed=-1 --input {img} --out {out}",
        &[],
        &["seed=-1", "whole number"],
    ),
    (
        "degrade --task inpaint-box:w=0 --input {img} --out {out}",
        &[],
        &["w=0", "at least 1"],
    ),
    (
        "degrade --task inpaint-box:x=30,w=8 --input {img} --out {out}",
        &[],
        &["does not fit"],
    ),
    (
        "degrade --task cs:ratio=0 --input {img} --out {d}/y.safetensors",
        &[],
        &["ratio=0", "(0, 1]"],
    ),
    (
        "degrade --task sr:factor=3 --input {img} --out {out}",
        &[],
        &["factor 3", "divide"],
    ),
    (
        "restore --task denoise --solver ddrm --set eta=nan --observed {img} --model {nomodel} --out {out}",
        &[],
        &["eta=nan", "[0, 1]"],
    ),
    (
        "restore --task denoise --solver ddrm --set eta=2 --observed {img} --model {nomodel} --out {out}",
        &[],
        &["eta=2"],
    ),
    (
        "restore --task denoise --solver dps --set scale=-1e30 --observed {img} --model {nomodel} --out {out}",
        &[],
        &["scale=-1e30"],
    ),
    (
        "restore --task denoise --solver dps --set scale=inf --observed {img} --model {nomodel} --out {out}",
        &[],
        &["scale=inf"],
    ),
    (
        "restore --task denoise --solver score-ald --set k=0 --observed {img} --model {nomodel} --out {out}",
        &[],
        &["k=0", "at least 1"],
    ),
    (
        "restore --task denoise --steps 0 --observed {img} --model {nomodel} --out {out}",
        &[],
        &["--steps 0"],
    ),
    (
        "sample --eta nan --model {nomodel} --out {out}",
        &[],
        &["--eta nan", "[0, 1]"],
    ),
    ("sample --eta 2 --model {nomodel} --out {out}", &[], &["--eta 2"]),
    ("sample --n 0 --model {nomodel} --out {out}", &[], &["--n 0"]),
    (
        "sample --steps 0 --model {nomodel} --out {out}",
        &[],
        &["--steps 0"],
    ),
    (
        "eps --model {fixture} --input {fixture_x} --t 1000 --out {d}/e.safetensors",
        &[],
        &["--t 1000", "0 to 999"],
    ),
    (
        "eps --model {fixture} --input {fixture_x} --t 5000 --out {d}/e.safetensors",
        &[],
        &["--t 5000"],
    ),
    // keys given twice, malformed specs
    (
        "degrade --task sr:factor=4,factor=2 --input {img} --out {out}",
        &[],
        &["factor", "twice"],
    ),
    (
        "degrade --task sr:factor=-2 --input {img} --out {out}",
        &[],
        &["factor=-2", "at least 2"],
    ),
    (
        "degrade --task sr:factor --input {img} --out {out}",
        &[],
        &["key=value"],
    ),
    (
        "degrade --task :factor=4 --input {img} --out {out}",
        &[],
        &["no name"],
    ),
    (
        "degrade --task sr:zoom=4 --input {img} --out {out}",
        &[],
        &["zoom", "factor"],
    ),
    (
        "restore --task denoise --solver ddrm --set eta=0.5 --set eta=0.9 --observed {img} --model {nomodel} --out {out}",
        &[],
        &["eta", "twice"],
    ),
    (
        "restore --task denoise --set eta --observed {img} --model {nomodel} --out {out}",
        &[],
        &["key=value"],
    ),
    // outputs: distinct, writable, checked before the work
    (
        "restore --task denoise --observed {d}/a/y.png {d}/b/y.png --model {nomodel} --out {d}/out/many",
        &[],
        &["would both be written", "distinct"],
    ),
    (
        "restore --task denoise --observed {img} --model {nomodel} --out {d}/missing/o.png",
        &[],
        &["does not exist"],
    ),
    (
        "restore --task denoise --observed {img} --model {nomodel} --out {out} --grid {d}/missing/g.png",
        &[],
        &["--grid", "does not exist"],
    ),
    (
        "restore --task denoise --observed {img} --model {nomodel} --out {out} --grid {d}/g.jpg",
        &[],
        &["--grid", ".png"],
    ),
    (
        "restore --task denoise --observed {img} --model {nomodel} --out {d}/out",
        &[],
        &["is a folder"],
    ),
    (
        "restore --task denoise --observed {img} --model {nomodel} --out {out} --grid {out}",
        &[],
        &["--grid", "--out", "same file"],
    ),
    // --std needs a particle solver, and a path of its own
    (
        "restore --task denoise --solver dps --observed {img} --model {nomodel} --out {out} --std {d}/s.png",
        &[],
        &["--std", "particle solver", "tds"],
    ),
    (
        "restore --task denoise --solver tds --observed {img} --model {nomodel} --out {out} --std {out}",
        &[],
        &["--std", "--out", "same file"],
    ),
    (
        "restore --task denoise --solver tds --set output=median --observed {img} --model {nomodel} --out {out}",
        &[],
        &["output=median", "sample", "mean"],
    ),
    (
        "degrade --task denoise --input {img} --out {d}/missing/o.png",
        &[],
        &["does not exist"],
    ),
    (
        "degrade --task denoise --input {img} --out {d}/o.bmp",
        &[],
        &[".png"],
    ),
    (
        "degrade --task cs --input {img} --out {out}",
        &[],
        &["not images", ".safetensors"],
    ),
    (
        "sample --model {nomodel} --out {d}/missing/s.png",
        &[],
        &["does not exist"],
    ),
    ("demo --steps 0 --out {out}", &[], &["--steps 0"]),
    ("demo --images 0 --out {out}", &[], &["--images 0"]),
    ("demo --out {d}/missing/demo.png", &[], &["does not exist"]),
    (
        "eps --model {fixture} --input {fixture_x} --t 3 --out {d}/e.png",
        &[],
        &[".safetensors"],
    ),
    // clear errors that blame the right thing
    (
        "eps --model {d}/empty_config --input {fixture_x} --t 1 --out {d}/e.safetensors",
        &[],
        &["lacks", "block_out_channels"],
    ),
    (
        "eps --model {d}/huge_channels --input {fixture_x} --t 1 --out {d}/e.safetensors",
        &[],
        &["block_out_channels = 3200000", "outside"],
    ),
    (
        "restore --task denoise --observed {d}/nan_y.safetensors --out {out}",
        &[],
        &["nan_y.safetensors", "tensor y", "NaN"],
    ),
    (
        "eps --model {fixture} --input {d}/nan_x.safetensors --t 1 --out {d}/e.safetensors",
        &[],
        &["nan_x.safetensors", "tensor x", "inf"],
    ),
    (
        "eps --model {fixture} --input {d}/odd_x.safetensors --t 1 --out {d}/e.safetensors",
        &[],
        &["15x16 (width x height)", "odd_x.safetensors"],
    ),
    (
        "restore --task denoise --observed {img} --truth {d}/small.png --out {out}",
        &[],
        &["--truth", "small.png", "16x16"],
    ),
    (
        "restore --task denoise --observed {img} {img1} --truth {img} --out {d}/out/two",
        &[],
        &["--truth", "one per observation"],
    ),
    (
        "restore --task denoise --observed {d}/small.png --out {out}",
        &[],
        &["small.png", "16x16"],
    ),
    (
        "restore --task inpaint-mask:path={d}/small.png --observed {img} --out {out}",
        &[],
        &["mask", "16x16", "32x32"],
    ),
    (
        "degrade --task colorize --input {img} --out {out}",
        &[],
        &["colorize", "RGB images"],
    ),
    // a --set key no solver of the sweep takes: before any work, and no --out folder
    (
        "eval --images {img} --solvers ddrm,dps --set bogus=1 --model {nomodel} --out {d}/eval",
        &[],
        &["--set bogus", "no solver"],
    ),
    // fewer steps than a chain needs to get from noise to the data: refused with the minimum
    (
        "sample --steps 1 --model {nomodel} --out {out}",
        &[],
        &["--steps 1", "at least 3"],
    ),
    (
        "restore --task inpaint-box --steps 1 --observed {img} --model {nomodel} --out {out}",
        &[],
        &["--steps 1", "dps", "at least 10"],
    ),
    (
        "restore --task inpaint-box --solver fps --steps 3 --observed {img} --model {nomodel} --out {out}",
        &[],
        &["--steps 3", "fps", "at least 4"],
    ),
    (
        "eval --images {img} --solvers ddrm,dps --steps 2,20 --model {nomodel} --out {d}/eval",
        &[],
        &["--steps 2", "ddrm", "at least 3"],
    ),
    // an observation that does not record its task, without --task
    (
        "restore --observed {img} --model {nomodel} --out {out}",
        &[],
        &["--task is needed", "does not record"],
    ),
    ("info", &[("WGPU_BACKEND", "dx12")], &["WGPU_BACKEND=\"dx12\""]),
    (
        "info",
        &[("WGPU_BACKEND", "cuda")],
        &["WGPU_BACKEND=\"cuda\"", "vulkan"],
    ),
];

#[test]
fn every_bad_input_gets_one_clear_line_and_writes_nothing() {
    let f = Files::new("cases");
    println!("{} cases", CASES.len());
    let mut fails = Vec::new();
    for (case, env, words) in CASES {
        let args = f.args(case);
        let (ok, stdout, stderr) = run(&args, env);
        if ok {
            fails.push(format!("{case}: succeeded"));
            continue;
        }
        let line = error_line(case, &stderr);
        let lower = line.to_lowercase();
        if let Some(w) = words.iter().find(|w| !lower.contains(&w.to_lowercase())) {
            fails.push(format!("{case}: the error lacks {w:?}: {line}"));
        }
        if line.matches("config.json").count() > 1 {
            fails.push(format!("{case}: doubled prefix: {line}"));
        }
        if case.starts_with("demo") && !stdout.trim().is_empty() {
            fails.push(format!("{case}: printed before failing: {stdout}"));
        }
    }
    // nothing was written
    for p in [
        "out/o.png",
        "o.bmp",
        "g.jpg",
        "e.png",
        "e.safetensors",
        "y.safetensors",
        "eval",
    ] {
        if f.d.join(p).exists() {
            fails.push(format!("{p} was written"));
        }
    }
    assert!(
        fails.is_empty(),
        "{} of {} cases:\n{}",
        fails.len(),
        CASES.len(),
        fails.join("\n")
    );
}

fn bytes(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// `degrade --seed` reaches random masks, CS matrices and motion kernels (unless the spec has its
/// own seed), and degrade and restore give the same bits on two runs.
#[test]
fn seeds_reach_the_operators_and_runs_repeat_bit_for_bit() {
    let f = Files::new("seeds");
    let d = &f.d;
    let img = test_image(2);
    let img = img.to_str().unwrap();
    let degrade = |task: &str, seed: &str, out: &str| {
        // no noise: the pictures differ only where the operators do
        let args: Vec<String> = [
            "degrade",
            "--task",
            task,
            "--input",
            img,
            "--seed",
            seed,
            "--sigma-y",
            "0",
            "--out",
            out,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let (ok, stdout, stderr) = run(&args, &[]);
        assert!(ok, "{args:?}: {stderr}");
        stdout
    };
    let p = |n: &str| d.join(n).to_str().unwrap().to_string();
    for task in ["inpaint-random", "deblur-motion", "cs"] {
        let ext = if task == "cs" { "safetensors" } else { "png" };
        let (a, b, c) = (
            p(&format!("{task}0.{ext}")),
            p(&format!("{task}5.{ext}")),
            p(&format!("{task}5b.{ext}")),
        );
        degrade(task, "0", &a);
        let said = degrade(task, "5", &b);
        degrade(task, "5", &c);
        assert_ne!(
            bytes(Path::new(&a)),
            bytes(Path::new(&b)),
            "{task}: --seed did not reach the operator"
        );
        assert_eq!(
            bytes(Path::new(&b)),
            bytes(Path::new(&c)),
            "{task}: two runs differ"
        );
        assert!(
            said.contains("seed=5"),
            "{task}: degrade must say the seed to restore with: {said}"
        );
        // a seed in the spec wins over --seed
        let e = p(&format!("{task}_spec.{ext}"));
        degrade(&format!("{task}:seed=0"), "5", &e);
        assert_eq!(
            bytes(Path::new(&a)),
            bytes(Path::new(&e)),
            "{task}: the spec's seed must win"
        );
    }
    // restore twice with the same seed: the same bits
    let y = p("y.safetensors");
    degrade("sr:factor=4", "3", &y);
    let restore = |out: &str| {
        let args: Vec<String> = [
            "restore",
            "--task",
            "sr:factor=4",
            "--observed",
            &y,
            "--steps",
            "10",
            "--seed",
            "7",
            "--out",
            out,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let (ok, _, stderr) = run(&args, &[]);
        assert!(ok, "{stderr}");
    };
    let (r1, r2) = (p("r1.png"), p("r2.png"));
    restore(&r1);
    restore(&r2);
    assert_eq!(
        bytes(Path::new(&r1)),
        bytes(Path::new(&r2)),
        "restore is not deterministic"
    );
}

/// Prints every case's error line (`cargo test --release --test bad_input -- --ignored
/// --nocapture`): the list the closing note and reviews read.
#[test]
#[ignore]
fn print_error_lines() {
    let f = Files::new("print");
    for (case, env, _) in CASES {
        let (_, _, stderr) = run(&f.args(case), env);
        println!("{case}\n    {}", error_line(case, &stderr));
    }
}

/// No output may overwrite an input or another output — the same path, the same file through `./`,
/// `..` or a symlink, a batch folder holding the observations, the kernel picture written beside
/// the output — and a batch's `--out` must be a folder name. Each is refused before any work (the
/// model folder given does not exist, so a check behind the model load fails the test), with one
/// line naming both options; every input keeps its bytes and nothing new is written.
#[test]
fn outputs_never_overwrite_inputs() {
    let d = tmp("overwrite");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let obs = d.join("y.png");
    let truth = d.join("x.png");
    std::fs::copy(test_image(1), &obs).unwrap();
    std::fs::copy(test_image(2), &truth).unwrap();
    std::fs::create_dir_all(d.join("obs")).unwrap();
    for n in ["a.png", "b.png"] {
        std::fs::copy(test_image(3), d.join("obs").join(n)).unwrap();
    }
    #[cfg(unix)]
    std::os::unix::fs::symlink(&obs, d.join("link.png")).unwrap();
    let dotted = d.join("obs").join("..").join(".").join("y.png");
    let before: Vec<(PathBuf, Vec<u8>)> = [
        obs.clone(),
        truth.clone(),
        d.join("obs/a.png"),
        d.join("obs/b.png"),
    ]
    .into_iter()
    .map(|p| {
        let b = bytes(&p);
        (p, b)
    })
    .collect();
    let nomodel = s(&d.join("no-such-model"));
    let restore = |extra: &[String]| -> Vec<String> {
        let mut v: Vec<String> = [
            "restore",
            "--task",
            "inpaint-box",
            "--solver",
            "dps",
            "--model",
            &nomodel,
        ]
        .iter()
        .map(|x| x.to_string())
        .collect();
        v.extend_from_slice(extra);
        v
    };
    let o = |x: &str| x.to_string();
    let mut cases: Vec<(&str, Vec<String>, &[&str])> = vec![
        (
            "restore --out = --observed",
            restore(&[o("--observed"), s(&obs), o("--out"), s(&obs)]),
            &["--out", "--observed"],
        ),
        (
            "restore --out = --observed through obs/.././",
            restore(&[o("--observed"), s(&obs), o("--out"), s(&dotted)]),
            &["--out", "--observed"],
        ),
        (
            "restore --out = --truth",
            restore(&[
                o("--observed"),
                s(&obs),
                o("--truth"),
                s(&truth),
                o("--out"),
                s(&truth),
            ]),
            &["--out", "--truth"],
        ),
        (
            "restore --grid = --observed",
            restore(&[
                o("--observed"),
                s(&obs),
                o("--out"),
                s(&d.join("r.png")),
                o("--grid"),
                s(&obs),
            ]),
            &["--grid", "--observed"],
        ),
        (
            "restore --grid = --out",
            restore(&[
                o("--observed"),
                s(&obs),
                o("--out"),
                s(&d.join("r.png")),
                o("--grid"),
                s(&d.join("r.png")),
            ]),
            &["--grid", "--out"],
        ),
        (
            "batch restore into the folder of the observations",
            restore(&[
                o("--observed"),
                s(&d.join("obs/a.png")),
                s(&d.join("obs/b.png")),
                o("--out"),
                s(&d.join("obs")),
            ]),
            &["--out", "--observed"],
        ),
        (
            "batch restore to a file name",
            restore(&[
                o("--observed"),
                s(&d.join("obs/a.png")),
                s(&d.join("obs/b.png")),
                o("--out"),
                s(&d.join("multi.png")),
            ]),
            &["--out", "folder"],
        ),
        (
            "degrade --out = --input",
            vec![
                o("degrade"),
                o("--task"),
                o("inpaint-box"),
                o("--input"),
                s(&obs),
                o("--out"),
                s(&obs),
            ],
            &["--out", "--input"],
        ),
    ];
    #[cfg(unix)]
    cases.push((
        "restore --out = a symlink to --observed",
        restore(&[o("--observed"), s(&obs), o("--out"), s(&d.join("link.png"))]),
        &["--out", "--observed"],
    ));
    let mut fails = Vec::new();
    for (name, args, words) in &cases {
        let (ok, _, stderr) = run(args, &[]);
        if ok {
            fails.push(format!("{name}: succeeded"));
            continue;
        }
        let line = error_line(name, &stderr);
        if let Some(w) = words.iter().find(|w| !line.contains(*w)) {
            fails.push(format!("{name}: the error lacks {w:?}: {line}"));
        }
    }
    for (p, b) in &before {
        if bytes(p) != *b {
            fails.push(format!("{} was changed", p.display()));
        }
    }
    for p in ["r.png", "multi.png"] {
        if d.join(p).exists() {
            fails.push(format!("{p} was written"));
        }
    }
    assert!(fails.is_empty(), "{}", fails.join("\n"));
}

/// The estimated kernel of a blind solve (`<out>.kernel.png`) is checked with the other outputs
/// before the solve: one that would overwrite the observation is refused, and so is one that cannot
/// be written, and the restored image is not written either.
#[test]
fn blind_kernel_picture_is_checked_before_the_solve() {
    let d = tmp("blind-kernel");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let obs = d.join("r.kernel.png");
    std::fs::copy(test_image(1), &obs).unwrap();
    let before = bytes(&obs);
    // a folder where the kernel picture would go
    std::fs::create_dir_all(d.join("q.kernel.png")).unwrap();
    let restore = |out: &Path| -> Vec<String> {
        [
            "restore",
            "--task",
            "deblur-blind:size=5",
            "--solver",
            "blind-red-diff",
            "--steps",
            "2",
            "--observed",
        ]
        .iter()
        .map(|x| x.to_string())
        .chain([s(&obs), "--out".to_string(), s(out)])
        .collect()
    };
    for (out, words) in [
        (d.join("r.png"), ["kernel", "--observed"]),
        (d.join("q.png"), ["kernel", "folder"]),
    ] {
        let (ok, _, stderr) = run(&restore(&out), &[]);
        assert!(!ok, "{}: succeeded", out.display());
        let line = error_line("blind", &stderr);
        for w in words {
            assert!(
                line.contains(w),
                "{}: the error lacks {w:?}: {line}",
                out.display()
            );
        }
        assert!(!out.exists(), "{} was written before the failure", out.display());
    }
    assert_eq!(bytes(&obs), before, "the observation was changed");
}

fn strings(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

/// `degrade` records the task it used (a random mask's seed included), σ_y and the image size in
/// the observation (PNG text, safetensors metadata); `restore` reads them, so `--task` may be left
/// out, a `--task` without the seed gets the recorded one (it used seed 0 before, silently), and a
/// `--task` that disagrees is refused before any work.
#[test]
fn degrade_records_how_it_made_the_observation() {
    let d = tmp("record");
    let img = test_image(3);
    let img = img.to_str().unwrap();
    let p = |n: &str| d.join(n).to_str().unwrap().to_string();
    let ok = |args: &[&str]| {
        let (ok, stdout, stderr) = run(&strings(args), &[]);
        assert!(ok, "{args:?}: {stderr}");
        (stdout, stderr)
    };
    for ext in ["png", "safetensors"] {
        let y = p(&format!("y.{ext}"));
        ok(&[
            "degrade",
            "--task",
            "inpaint-random",
            "--seed",
            "5",
            "--sigma-y",
            "0.1",
            "--input",
            img,
            "--out",
            &y,
        ]);
        let m = tweedie::io::read_metadata(Path::new(&y)).unwrap();
        let rec: serde_json::Value = serde_json::from_str(&m["tweedie"]).unwrap();
        assert_eq!(rec["task"], "inpaint-random:p=0.7,seed=5", "{ext}");
        assert_eq!(rec["sigma_y"], 0.1, "{ext}");
        assert_eq!(rec["shape"], serde_json::json!([1, 32, 32]), "{ext}");
        // no --task; the spec without its seed; the spec with it: one result
        let outs: Vec<String> = (0..3).map(|i| p(&format!("r{i}_{ext}.png"))).collect();
        for (task, out) in [None, Some("inpaint-random"), Some("inpaint-random:seed=5")]
            .into_iter()
            .zip(&outs)
        {
            let mut args = vec![
                "restore",
                "--solver",
                "ddrm",
                "--steps",
                "3",
                "--observed",
                &y,
                "--out",
                out,
            ];
            args.extend(task.iter().flat_map(|t| ["--task", *t]));
            let (stdout, stderr) = ok(&args);
            assert!(
                stderr.contains("inpaint-random:p=0.7,seed=5"),
                "{args:?}: the run names the recorded task: {stdout}{stderr}"
            );
        }
        assert_eq!(bytes(Path::new(&outs[0])), bytes(Path::new(&outs[1])), "{ext}");
        assert_eq!(bytes(Path::new(&outs[0])), bytes(Path::new(&outs[2])), "{ext}");
        // the recorded σ_y is the default; another one is used, with a note
        let (_, stderr) = ok(&[
            "restore",
            "--solver",
            "ddrm",
            "--steps",
            "3",
            "--sigma-y",
            "0.05",
            "--observed",
            &y,
            "--out",
            &p("s.png"),
        ]);
        assert!(stderr.contains("degraded with σ_y 0.1"), "{stderr}");
        // a --task that disagrees: refused before the model is read, nothing written
        for task in ["inpaint-random:seed=0", "sr:factor=4", "inpaint-random:p=0.5"] {
            let out = p("never.png");
            let args = strings(&[
                "restore",
                "--task",
                task,
                "--observed",
                &y,
                "--model",
                &p("no-such-model"),
                "--out",
                &out,
            ]);
            let (ok, _, stderr) = run(&args, &[]);
            assert!(!ok, "{task}");
            let line = error_line(task, &stderr);
            assert!(
                line.contains("disagrees") && line.contains("seed=5"),
                "{task}: {line}"
            );
            assert!(!Path::new(&out).exists());
        }
    }
    // a batch whose records disagree (two random masks): refused, it restores with one operator
    let y6 = p("y6.png");
    ok(&[
        "degrade",
        "--task",
        "inpaint-random",
        "--seed",
        "6",
        "--input",
        img,
        "--out",
        &y6,
    ]);
    let args = strings(&["restore", "--observed", &p("y.png"), &y6, "--out", &p("batch")]);
    let (ok1, _, stderr) = run(&args, &[]);
    assert!(!ok1);
    assert!(error_line("batch", &stderr).contains("one operator"), "{stderr}");
    // a truth of another size than the recorded one
    let args = strings(&[
        "restore",
        "--observed",
        &p("y.png"),
        "--truth",
        &p("small.png"),
        "--out",
        &p("never.png"),
    ]);
    image::GrayImage::from_pixel(16, 16, image::Luma([9]))
        .save(p("small.png"))
        .unwrap();
    let (ok2, _, stderr) = run(&args, &[]);
    assert!(!ok2);
    assert!(
        error_line("truth", &stderr).contains("was degraded from a 32x32 image"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// A mask file with gray pixels is thresholded at mid-gray, and says so (it said nothing before).
#[test]
fn a_gray_mask_gets_a_note() {
    let d = tmp("gray-mask");
    let p = |n: &str| d.join(n).to_str().unwrap().to_string();
    let img = test_image(1);
    let img = img.to_str().unwrap();
    let note = |mask: &str| {
        let (ok, _, stderr) = run(
            &strings(&[
                "degrade",
                "--task",
                &format!("inpaint-mask:path={mask}"),
                "--input",
                img,
                "--out",
                &p("y.png"),
            ]),
            &[],
        );
        assert!(ok, "{stderr}");
        stderr.contains("neither black nor white")
    };
    image::GrayImage::from_fn(32, 32, |x, _| image::Luma([if x < 16 { 0 } else { 255 }]))
        .save(p("bw.png"))
        .unwrap();
    image::GrayImage::from_fn(32, 32, |x, _| image::Luma([(x * 8) as u8]))
        .save(p("ramp.png"))
        .unwrap();
    assert!(!note(&p("bw.png")), "a black-and-white mask needs no note");
    assert!(note(&p("ramp.png")), "a gray mask must be named");
    let _ = std::fs::remove_dir_all(&d);
}

/// A particle solver's standard deviation that is zero everywhere (its particles collapsed, as TDS's
/// do in a few steps) is named as such, not left to read as certainty.
#[test]
fn a_collapsed_spread_gets_a_note() {
    let d = tmp("collapsed");
    let p = |n: &str| d.join(n).to_str().unwrap().to_string();
    let img = test_image(1);
    let img = img.to_str().unwrap();
    let (ok, _, stderr) = run(
        &strings(&[
            "degrade",
            "--task",
            "inpaint-box",
            "--input",
            img,
            "--out",
            &p("y.png"),
        ]),
        &[],
    );
    assert!(ok, "{stderr}");
    let mut seen = [false; 2];
    for (solver, steps) in [("tds", "6"), ("fps", "4")] {
        let (ok, _, stderr) = run(
            &strings(&[
                "restore",
                "--solver",
                solver,
                "--steps",
                steps,
                "--observed",
                &p("y.png"),
                "--out",
                &p("r.png"),
                "--std",
                &p("s.png"),
            ]),
            &[],
        );
        assert!(ok, "{stderr}");
        let zero = image::open(p("s.png"))
            .unwrap()
            .to_luma8()
            .pixels()
            .all(|q| q.0[0] == 0);
        let noted = stderr.contains("zero everywhere");
        assert_eq!(
            zero, noted,
            "{solver}: an all-black spread is noted, and only that: {stderr}"
        );
        seen[zero as usize] = true;
    }
    assert!(seen[1], "TDS at 6 steps collapses (the case this test is for)");
    let _ = std::fs::remove_dir_all(&d);
}

/// Bad noise models are refused before anything is read or computed (the input does not exist,
/// so an error about the noise shows the check came first), Poisson noise only on measurements
/// that are pictures, and restore refuses a Poisson observation for a solver without a Poisson
/// likelihood, naming those with one (before the model is loaded: it does not exist).
#[test]
fn bad_noise_models_are_refused_before_compute() {
    let d = tmp("noise");
    let p = |n: &str| d.join(n).to_str().unwrap().to_string();
    let missing = p("missing.png");
    for (args, want) in [
        (vec!["--noise", "poisson:rate=0"], "rate must be"),
        (vec!["--noise", "poisson:rate=-2"], "rate must be"),
        (vec!["--noise", "poisson:rate=NaN"], "rate must be"),
        (vec!["--noise", "poisson:rate=lots"], "not a number"),
        (vec!["--noise", "poisson"], "needs rate"),
        (vec!["--noise", "laplace:b=1"], "unknown noise kind"),
        (
            vec!["--noise", "poisson:rate=1", "--sigma-y", "0.1"],
            "give one of them",
        ),
    ] {
        let mut a = vec!["degrade", "--task", "sr:factor=4", "--input", &missing, "--out"];
        let out = p("y.png");
        a.push(&out);
        a.extend(args.iter().copied());
        let (ok, _, stderr) = run(&strings(&a), &[]);
        assert!(!ok, "{a:?} was accepted");
        let line = error_line(&format!("{a:?}"), &stderr);
        assert!(line.contains(want) && line.contains("--"), "{a:?}: {line}");
        assert!(!d.join("y.png").exists());
    }
    // a measurement that is not a picture has no photons to count
    let (ok, _, stderr) = run(
        &strings(&[
            "degrade",
            "--task",
            "cs:ratio=0.25",
            "--noise",
            "poisson:rate=1",
            "--input",
            test_image(0).to_str().unwrap(),
            "--out",
            &p("cs.safetensors"),
        ]),
        &[],
    );
    assert!(!ok);
    let line = error_line("cs poisson", &stderr);
    assert!(line.contains("Poisson") && line.contains("--sigma-y"), "{line}");
    // a Poisson observation: only DPS restores it
    let y = p("y.png");
    let (ok, _, stderr) = run(
        &strings(&[
            "degrade",
            "--task",
            "inpaint-box",
            "--noise",
            "poisson:rate=1",
            "--input",
            test_image(0).to_str().unwrap(),
            "--out",
            &y,
        ]),
        &[],
    );
    assert!(ok, "{stderr}");
    let no_model = p("no-model");
    let r = p("r.png");
    for (solver, extra, want) in [
        ("ddrm", None, "the solvers with a Poisson likelihood: dps"),
        ("dps", Some("--sigma-y"), "has no σ_y"),
    ] {
        let mut a = vec![
            "restore",
            "--solver",
            solver,
            "--observed",
            &y,
            "--out",
            &r,
            "--model",
            &no_model,
        ];
        if let Some(e) = extra {
            a.extend([e, "0.1"]);
        }
        let (ok, _, stderr) = run(&strings(&a), &[]);
        assert!(!ok, "{a:?} was accepted");
        let line = error_line(&format!("{a:?}"), &stderr);
        assert!(line.contains(want), "{a:?}: {line}");
        assert!(!d.join("r.png").exists());
    }
}
