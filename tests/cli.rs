//! The command line as a user meets it: clear one-line errors, never a panic.

mod common;
use common::{error_line, fixture, tweedie};
use std::process::Command;

fn tmp(name: &str) -> std::path::PathBuf {
    common::scratch("cli", name)
}

/// An unknown kernel path (or subgroup or profile setting) is one error line naming the valid values,
/// before any work; the removed `TWEEDIE_CONV` is refused rather than ignored.
#[test]
fn unknown_tweedie_settings_are_one_line_errors() {
    for (var, value, valid) in [
        ("TWEEDIE_KERNELS", "banana", "portable"),
        ("TWEEDIE_SUBGROUPS", "maybe", "auto"),
        ("TWEEDIE_PROFILE", "garbage", "host"),
        ("TWEEDIE_CONV", "gemm", "TWEEDIE_KERNELS=portable"),
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_tweedie"))
            .arg("info")
            .env(var, value)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{var}={value} was accepted");
        let line = error_line(&stderr);
        assert!(line.contains(var) && line.contains(valid), "{line}");
        assert!(
            o.stdout.is_empty(),
            "work ran before the check: {}",
            String::from_utf8_lossy(&o.stdout)
        );
    }
}

#[test]
fn eps_writes_the_model_output() {
    let d = tmp("eps");
    let out = d.join("eps.safetensors");
    let m = fixture("attn_heads");
    let io = fixture("attn_heads/io.safetensors");
    let (ok, _, err) = tweedie(&[
        "eps",
        "--model",
        m.to_str().unwrap(),
        "--input",
        io.to_str().unwrap(),
        "--t",
        "37",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let got = tweedie::io::read_safetensors(&out).unwrap();
    let want = tweedie::io::read_safetensors(&io).unwrap();
    let e = tweedie::ops::reference::rel_l2(&got["eps"].data, &want["eps"].data);
    assert!(e < 1e-4, "{e}");
}

#[test]
fn missing_config_json_is_one_clear_line() {
    let d = tmp("noconfig");
    std::fs::copy(
        fixture("attn_heads/diffusion_pytorch_model.safetensors"),
        d.join("diffusion_pytorch_model.safetensors"),
    )
    .unwrap();
    let io = fixture("attn_heads/io.safetensors");
    let (ok, _, err) = tweedie(&[
        "eps",
        "--model",
        d.to_str().unwrap(),
        "--input",
        io.to_str().unwrap(),
        "--t",
        "1",
        "--out",
        "/dev/null",
    ]);
    assert!(!ok);
    let line = error_line(&err);
    assert!(line.contains("config.json"), "{line}");
}

#[test]
fn a_mis_shaped_weight_names_the_tensor_and_both_shapes() {
    let d = tmp("misshaped");
    std::fs::copy(fixture("attn_heads/config.json"), d.join("config.json")).unwrap();
    let mut ts =
        tweedie::io::read_safetensors(&fixture("attn_heads/diffusion_pytorch_model.safetensors")).unwrap();
    let w = ts.get_mut("conv_in.weight").unwrap();
    w.shape = vec![32, 3, 1, 9]; // same number of values, wrong shape
    let list: Vec<(&str, &[usize], &[f32])> = ts
        .iter()
        .map(|(k, v)| (k.as_str(), &v.shape[..], &v.data[..]))
        .collect();
    tweedie::io::write_safetensors(&d.join("diffusion_pytorch_model.safetensors"), &list).unwrap();
    let io = fixture("attn_heads/io.safetensors");
    let (ok, _, err) = tweedie(&[
        "eps",
        "--model",
        d.to_str().unwrap(),
        "--input",
        io.to_str().unwrap(),
        "--t",
        "1",
        "--out",
        "/dev/null",
    ]);
    assert!(!ok);
    let line = error_line(&err);
    assert!(
        line.contains("conv_in.weight") && line.contains("[32, 3, 1, 9]") && line.contains("[32, 3, 3, 3]"),
        "{line}"
    );
}

#[test]
fn a_corrupt_weights_file_is_one_clear_line() {
    let d = tmp("corrupt");
    std::fs::copy(fixture("attn_heads/config.json"), d.join("config.json")).unwrap();
    let bytes = std::fs::read(fixture("attn_heads/diffusion_pytorch_model.safetensors")).unwrap();
    std::fs::write(
        d.join("diffusion_pytorch_model.safetensors"),
        &bytes[..bytes.len() / 2],
    )
    .unwrap();
    let io = fixture("attn_heads/io.safetensors");
    let (ok, _, err) = tweedie(&[
        "eps",
        "--model",
        d.to_str().unwrap(),
        "--input",
        io.to_str().unwrap(),
        "--t",
        "1",
        "--out",
        "/dev/null",
    ]);
    assert!(!ok);
    assert!(error_line(&err).contains("not a valid safetensors file"), "{err}");
}

#[test]
fn an_unsupported_config_key_is_named() {
    let d = tmp("badkey");
    let cfg = std::fs::read_to_string(fixture("attn_heads/config.json")).unwrap();
    std::fs::write(
        d.join("config.json"),
        cfg.replace("\"default\"", "\"scale_shift\""),
    )
    .unwrap();
    std::fs::copy(
        fixture("attn_heads/diffusion_pytorch_model.safetensors"),
        d.join("diffusion_pytorch_model.safetensors"),
    )
    .unwrap();
    let io = fixture("attn_heads/io.safetensors");
    let (ok, _, err) = tweedie(&[
        "eps",
        "--model",
        d.to_str().unwrap(),
        "--input",
        io.to_str().unwrap(),
        "--t",
        "1",
        "--out",
        "/dev/null",
    ]);
    assert!(!ok);
    assert!(error_line(&err).contains("resnet_time_scale_shift"), "{err}");
}

#[test]
fn a_wrong_input_size_is_one_clear_line() {
    let d = tmp("badsize");
    let x = vec![0.5f32; 2 * 3 * 15 * 16];
    tweedie::io::write_safetensors(&d.join("x.safetensors"), &[("x", &[2, 3, 15, 16], &x)]).unwrap();
    let m = fixture("attn_heads");
    let (ok, _, err) = tweedie(&[
        "eps",
        "--model",
        m.to_str().unwrap(),
        "--input",
        d.join("x.safetensors").to_str().unwrap(),
        "--t",
        "1",
        "--out",
        "/dev/null",
    ]);
    assert!(!ok);
    assert!(error_line(&err).contains("multiples of 2"), "{err}");
}

#[test]
fn a_backend_without_an_adapter_names_the_variable() {
    // No Metal on Linux: the message must name WGPU_BACKEND and what it could be set to.
    if cfg!(target_os = "macos") {
        return;
    }
    let o = Command::new(env!("CARGO_BIN_EXE_tweedie"))
        .arg("info")
        .env("WGPU_BACKEND", "metal")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    let line = error_line(&err);
    assert!(
        line.contains("WGPU_BACKEND=\"metal\"") && line.contains("vulkan"),
        "{line}"
    );
}

#[test]
fn eps_vjp_writes_the_vector_jacobian_product() {
    let d = tmp("vjp");
    let out = d.join("out.safetensors");
    let m = fixture("odd_cifarlike");
    let io = fixture("odd_cifarlike/io.safetensors");
    let (ok, _, err) = tweedie(&[
        "eps",
        "--model",
        m.to_str().unwrap(),
        "--input",
        io.to_str().unwrap(),
        "--t",
        "999",
        "--vjp",
        io.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let got = tweedie::io::read_safetensors(&out).unwrap();
    let want = tweedie::io::read_safetensors(&io).unwrap();
    let e = tweedie::ops::reference::rel_l2(&got["vjp"].data, &want["vjp"].data);
    assert!(e < 1e-4, "{e}");
}

#[test]
fn restore_and_degrade_reject_bad_input_with_one_line() {
    let d = tmp("badrestore");
    let img = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fmnist_test_00000.png");
    let img = img.to_str().unwrap();
    let out = d.join("o.png");
    let out = out.to_str().unwrap();
    // an observation of the wrong size for x4 super-resolution
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "restore",
                "--task",
                "sr:factor=4",
                "--observed",
                img,
                "--out",
                out,
            ],
            "expects an observation",
        ),
        (
            vec!["restore", "--task", "blur", "--observed", img, "--out", out],
            "unknown task",
        ),
        (
            vec![
                "restore",
                "--task",
                "denoise",
                "--solver",
                "magic",
                "--observed",
                img,
                "--out",
                out,
            ],
            "unknown solver",
        ),
        (
            vec![
                "restore",
                "--task",
                "denoise",
                "--set",
                "zeta=1",
                "--observed",
                img,
                "--out",
                out,
            ],
            "no such parameter",
        ),
        (
            vec![
                "restore",
                "--task",
                "denoise",
                "--observed",
                "/nonexistent.png",
                "--out",
                out,
            ],
            "cannot read image",
        ),
        (
            vec!["degrade", "--task", "cs", "--input", img, "--out", out],
            "not images",
        ),
        (
            vec![
                "degrade",
                "--task",
                "inpaint-mask:path=/nonexistent.png",
                "--input",
                img,
                "--out",
                out,
            ],
            "cannot read image",
        ),
    ];
    for (args, needle) in cases {
        let (ok, _, err) = tweedie(&args);
        assert!(!ok, "{args:?} succeeded");
        let line = error_line(&err);
        assert!(line.contains(needle), "{args:?}: {line}");
    }
}

#[test]
fn degrade_writes_observations_and_the_motion_kernel() {
    let d = tmp("degrade");
    let img = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fmnist_test_00001.png");
    for (task, name) in [
        ("sr:factor=4", "sr.png"),
        ("inpaint-box", "box.png"),
        ("deblur-motion:size=9,seed=3", "motion.png"),
    ] {
        let out = d.join(name);
        let (ok, _, err) = tweedie(&[
            "degrade",
            "--task",
            task,
            "--input",
            img.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(ok, "{task}: {err}");
        let y = tweedie::io::read_image(&out).unwrap();
        assert_eq!(
            (y.width, y.height),
            if task.starts_with("sr") { (8, 8) } else { (32, 32) }
        );
    }
    assert!(d.join("motion.kernel.png").is_file());
    let out = d.join("cs.safetensors");
    let (ok, _, err) = tweedie(&[
        "degrade",
        "--task",
        "cs:ratio=0.25",
        "--input",
        img.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert_eq!(
        tweedie::io::read_safetensors(&out).unwrap()["y"].shape,
        vec![1, 1, 256]
    );
}

/// Blind deblurring from the command line: degrade with a known blur, restore with the kernel
/// unknown (a few steps), and the estimated kernel is written beside the output; degrade and eval
/// refuse `deblur-blind` (it has no kernel to blur with) with a line that says what to do.
#[test]
fn blind_deblurring_writes_the_estimated_kernel() {
    let d = tmp("blind");
    let img = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fmnist_test_00002.png");
    let img = img.to_str().unwrap();
    let y = d.join("y.png");
    let y = y.to_str().unwrap();
    let (ok, _, err) = tweedie(&[
        "degrade",
        "--task",
        "deblur-gauss:size=9,sigma=2",
        "--input",
        img,
        "--out",
        y,
    ]);
    assert!(ok, "{err}");
    let out = d.join("x.png");
    let (ok, stdout, err) = tweedie(&[
        "restore",
        "--task",
        "deblur-blind:size=9",
        "--solver",
        "blind-red-diff",
        "--steps",
        "3",
        "--observed",
        y,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(stdout.contains("estimated kernel"), "{stdout}");
    let k = tweedie::io::read_image(&d.join("x.kernel.png")).unwrap();
    assert_eq!((k.width, k.height), (72, 72));
    let (ok, _, err) = tweedie(&["degrade", "--task", "deblur-blind", "--input", img, "--out", y]);
    assert!(!ok);
    assert!(error_line(&err).contains("deblur-gauss:size=9"), "{err}");
    let z = d.join("z.png");
    let (ok, _, err) = tweedie(&[
        "restore",
        "--task",
        "deblur-blind",
        "--observed",
        y,
        "--out",
        z.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(error_line(&err).contains("blind-red-diff"), "{err}");
}

/// Phase retrieval from the command line: degrade writes the log-magnitude picture and the exact
/// measurement beside it; restore refuses the picture (it says to pass the .safetensors), takes
/// the .safetensors with DPS (ten steps, its fewest, one restart: a plumbing check) and with TDS under two
/// restarts writing the chosen run's spread, and a linear-only solver refuses the task naming the
/// ones that take it.
#[test]
fn phase_retrieval_round_trip() {
    let d = tmp("phase");
    let img = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fmnist_test_00003.png");
    let img = img.to_str().unwrap();
    let y = d.join("y.png");
    let ys = d.join("y.safetensors");
    let y = y.to_str().unwrap();
    let (ok, stdout, err) = tweedie(&["degrade", "--task", "phase-retrieval", "--input", img, "--out", y]);
    assert!(ok, "{err}");
    assert!(stdout.contains("y.safetensors"), "{stdout}");
    let pic = tweedie::io::read_image(std::path::Path::new(y)).unwrap();
    assert_eq!((pic.width, pic.height), (64, 64));
    assert_eq!(
        tweedie::io::read_safetensors(&ys).unwrap()["y"].shape,
        vec![1, 1, 64, 64]
    );
    let out = d.join("x.png");
    let out = out.to_str().unwrap();
    let restore = |observed: &str, solver: &str| {
        tweedie(&[
            "restore",
            "--task",
            "phase-retrieval",
            "--solver",
            solver,
            "--steps",
            "10",
            "--set",
            "restarts=1",
            "--observed",
            observed,
            "--out",
            out,
        ])
    };
    let (ok, _, err) = restore(y, "dps");
    assert!(!ok);
    assert!(error_line(&err).contains(".safetensors"), "{err}");
    let (ok, _, err) = restore(ys.to_str().unwrap(), "dps");
    assert!(ok, "{err}");
    assert!(std::path::Path::new(out).is_file());
    // a particle solver under restarts keeps the spread of the run it chose
    let sd = d.join("s.png");
    let (ok, _, err) = tweedie(&[
        "restore",
        "--task",
        "phase-retrieval",
        "--solver",
        "tds",
        "--steps",
        "6",
        "--set",
        "restarts=2",
        "--set",
        "particles=2",
        "--observed",
        ys.to_str().unwrap(),
        "--out",
        out,
        "--std",
        sd.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(sd.is_file());
    let (ok, _, err) = tweedie(&[
        "restore",
        "--task",
        "phase-retrieval",
        "--solver",
        "ddrm",
        "--observed",
        ys.to_str().unwrap(),
        "--out",
        out,
    ]);
    assert!(!ok);
    let e = error_line(&err);
    assert!(e.contains("nonlinear") && e.contains("dps"), "{err}");
}

/// `eps` on a guided-diffusion checkpoint (`.pt`, config.json beside it, or `--model-config`): the
/// first sample of the golden batch was made at t = 37. A checkpoint without a configuration is one
/// clear line that names the flag and the presets.
#[test]
fn eps_runs_a_guided_diffusion_checkpoint() {
    let d = tmp("adm");
    let golden = tweedie::io::read_safetensors(&fixture("adm/small64/golden.safetensors")).unwrap();
    let x = &golden["x"];
    let per = x.data.len() / 2;
    let shape = [1, x.shape[1], x.shape[2], x.shape[3]];
    let input = d.join("x.safetensors");
    tweedie::io::write_safetensors(&input, &[("x", &shape, &x.data[..per])]).unwrap();
    let out = d.join("eps.safetensors");
    let m = fixture("adm/small64/model.pt");
    let cfg = fixture("adm/small64/config.json");
    let (ok, _, err) = tweedie(&[
        "eps",
        "--model",
        m.to_str().unwrap(),
        "--model-config",
        cfg.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--t",
        "37",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let got = tweedie::io::read_safetensors(&out).unwrap();
    assert_eq!(
        got["eps"].shape,
        vec![1, 6, 64, 64],
        "ε and the variance channels"
    );
    let want = &golden["out64"].data[..got["eps"].data.len()];
    let e = tweedie::ops::reference::rel_l2(&got["eps"].data, want);
    assert!(e < 1e-4, "{e}");

    let bare = d.join("weights.pt");
    std::fs::copy(&m, &bare).unwrap();
    let (ok, _, err) = tweedie(&[
        "eps",
        "--model",
        bare.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--t",
        "37",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!ok);
    let line = error_line(&err);
    assert!(
        line.contains("--model-config") && line.contains("ffhq_10m"),
        "{line}"
    );
}

/// Poisson noise from the command line: `degrade --noise poisson:rate=R` records the noise model,
/// gives the same bits for the same seed, and `restore` reads the record and runs DPS with the
/// Poisson likelihood (the rate in its printed settings) with no noise option given.
#[test]
fn poisson_noise_round_trip() {
    let d = tmp("poisson");
    let img = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fmnist_test_00001.png");
    let img = img.to_str().unwrap();
    let y = |n: &str| d.join(n).to_str().unwrap().to_string();
    for name in ["y.png", "again.png"] {
        let (ok, out, err) = tweedie(&[
            "degrade",
            "--task",
            "sr:factor=4",
            "--noise",
            "poisson:rate=2",
            "--seed",
            "4",
            "--input",
            img,
            "--out",
            &y(name),
        ]);
        assert!(ok, "{err}");
        assert!(out.contains("--noise poisson:rate=2"), "{out}");
    }
    assert_eq!(
        std::fs::read(y("y.png")).unwrap(),
        std::fs::read(y("again.png")).unwrap()
    );
    let m = tweedie::io::read_metadata(std::path::Path::new(&y("y.png"))).unwrap();
    let rec: serde_json::Value = serde_json::from_str(&m["tweedie"]).unwrap();
    assert_eq!(rec["noise"], "poisson:rate=2");
    assert_eq!(rec["sigma_y"], 0.0);
    let (ok, out, err) = tweedie(&[
        "restore",
        "--solver",
        "dps",
        "--steps",
        "10",
        "--observed",
        &y("y.png"),
        "--truth",
        img,
        "--out",
        &y("restored.png"),
    ]);
    assert!(ok, "{err}");
    assert!(
        err.contains("poisson=2"),
        "the run prints the Poisson rate it uses: {err}"
    );
    assert!(out.contains("PSNR"), "{out}");
    assert!(d.join("restored.png").is_file());
}

/// MRI through the CLI: `degrade` to a PNG writes the log-magnitude k-space picture, the exact
/// complex y `[1, C, H, W, 2]` beside it and the mask picture; `restore` reads the `.safetensors`
/// (and refuses the picture, naming the file to use).
#[test]
fn mri_degrades_to_complex_safetensors_and_restores() {
    let d = tmp("mri");
    let img = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fmnist_test_00001.png");
    let out = d.join("y.png");
    let (ok, _, err) = tweedie(&[
        "degrade",
        "--task",
        "mri:mask=random",
        "--input",
        img.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(d.join("y.mask.png").is_file());
    let exact = d.join("y.safetensors");
    assert_eq!(
        tweedie::io::read_safetensors(&exact).unwrap()["y"].shape,
        vec![1, 1, 32, 32, 2]
    );
    let (ok, _, err) = tweedie(&[
        "restore",
        "--observed",
        out.to_str().unwrap(),
        "--solver",
        "ddrm",
        "--steps",
        "5",
        "--out",
        d.join("x.png").to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(error_line(&err).contains(".safetensors"), "{err}");
    let (ok, stdout, err) = tweedie(&[
        "restore",
        "--observed",
        exact.to_str().unwrap(),
        "--solver",
        "ddrm",
        "--steps",
        "5",
        "--out",
        d.join("x.png").to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let said = format!("{stdout}{err}");
    assert!(
        said.contains("mri:accel=4,center=0.08,mask=random,seed=0"),
        "{said}"
    );
    assert!(d.join("x.png").is_file());
}
