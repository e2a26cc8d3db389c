//! Latent diffusion pipeline folders on the command line (issue #34): `--model DIR` with a
//! `model_index.json` is a latent prior (a `UNet2DModel` on an `AutoencoderKL`'s latents) for
//! `sample`, `restore` and `eval`; the latent solvers run on it, the pixel-space ones refuse it by
//! name, and a folder tweedie cannot run is refused before any compute. The folders are assembled
//! from the committed random-weight test models (tests/fixtures/vae/two_level_shift: 16x16 RGB
//! pictures, 4x8x8 latents; tests/fixtures/ldm_unet: a tiny UNet on those latents), so these
//! check the plumbing; the last test runs the bundled latent prior (weights/fmnist32-ldm).

mod common;
use common::{error_line, fixture, tweedie};
use std::path::{Path, PathBuf};

fn tmp(name: &str) -> std::path::PathBuf {
    common::scratch("pipeline", name)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for f in ["config.json", "diffusion_pytorch_model.safetensors"] {
        std::fs::copy(from.join(f), to.join(f)).unwrap();
    }
}

/// A pipeline folder in `dir`: `model_index.json` naming `unet_class`, the test UNet and VAE, and
/// a DDPM scheduler config.
fn pipeline(dir: &Path, unet_class: &str) -> PathBuf {
    let p = dir.join("ldm");
    copy_dir(&fixture("ldm_unet"), &p.join("unet"));
    copy_dir(&fixture("vae/two_level_shift"), &p.join("vae"));
    std::fs::create_dir_all(p.join("scheduler")).unwrap();
    std::fs::write(
        p.join("scheduler/scheduler_config.json"),
        r#"{"_class_name": "DDPMScheduler", "num_train_timesteps": 1000, "beta_start": 0.0001,
            "beta_end": 0.02, "beta_schedule": "linear", "prediction_type": "epsilon"}"#,
    )
    .unwrap();
    std::fs::write(
        p.join("model_index.json"),
        format!(
            r#"{{"_class_name": "LDMPipeline", "_diffusers_version": "0.42.1",
                "unet": ["diffusers", "{unet_class}"], "vae": ["diffusers", "AutoencoderKL"],
                "scheduler": ["diffusers", "DDPMScheduler"]}}"#
        ),
    )
    .unwrap();
    p
}

/// A 16x16 RGB picture with smooth random content.
fn picture(path: &Path) {
    let mut img = image::RgbImage::new(16, 16);
    for (x, y, p) in img.enumerate_pixels_mut() {
        let f = |a: f32, b: f32| (127.0 + 100.0 * ((x as f32) * a + (y as f32) * b).sin()) as u8;
        *p = image::Rgb([f(0.3, 0.1), f(0.1, 0.4), f(0.2, 0.2)]);
    }
    img.save(path).unwrap();
}

/// `sample` on a pipeline folder draws latents and decodes them: a grid of 16x16 RGB pictures
/// (the decoder's size, twice the latents'), scaled 4x as small pictures are.
#[test]
fn sample_decodes_the_latents() {
    let d = tmp("sample");
    let p = pipeline(&d, "UNet2DModel");
    let out = d.join("s.png");
    let (ok, _, err) = tweedie(&[
        "sample",
        "--model",
        p.to_str().unwrap(),
        "--n",
        "4",
        "--steps",
        "5",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let img = image::open(&out).unwrap();
    // 2x2 tiles of 16x16 with a border, times 4
    assert_eq!(img.color().channel_count(), 3);
    assert!(img.width() >= 4 * 32 && img.width() < 4 * 40, "{}", img.width());
    let _ = std::fs::remove_dir_all(&d);
}

/// `degrade` then `restore` with each latent solver on the pipeline: a 16x16 RGB picture, and the
/// PSNR table (restored and trivial) when the truth is given. Pixel-space solvers that need the
/// operator's structure refuse it naming the latent ones; a latent solver on the pixel prior is
/// refused naming pipeline folders — each before any compute.
#[test]
fn restore_runs_the_latent_solvers_and_refuses_the_others() {
    let d = tmp("restore");
    let p = pipeline(&d, "UNet2DModel");
    let truth = d.join("truth.png");
    picture(&truth);
    let obs = d.join("obs.png");
    let (ok, _, err) = tweedie(&[
        "degrade",
        "--task",
        "inpaint-box:x=4,y=4,w=8,h=8",
        "--input",
        truth.to_str().unwrap(),
        "--out",
        obs.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    for (solver, extra) in [
        ("latent-dps", vec![]),
        ("psld", vec![]),
        ("resample", vec!["--set", "iters=5"]),
    ] {
        let out = d.join(format!("{solver}.png"));
        let mut args = vec![
            "restore",
            "--model",
            p.to_str().unwrap(),
            "--solver",
            solver,
            "--steps",
            "10",
            "--observed",
            obs.to_str().unwrap(),
            "--truth",
            truth.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        let (ok, stdout, err) = tweedie(&args);
        assert!(ok, "{solver}: {err}");
        assert!(stdout.contains("trivial PSNR"), "{solver}: {stdout}");
        let img = image::open(&out).unwrap();
        assert_eq!(
            (img.width(), img.height(), img.color().channel_count()),
            (16, 16, 3)
        );
    }
    // a pixel-space solver on the latent prior
    let out = d.join("ddrm.png");
    let (ok, _, err) = tweedie(&[
        "restore",
        "--model",
        p.to_str().unwrap(),
        "--solver",
        "ddrm",
        "--observed",
        obs.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!ok);
    let line = error_line(&err);
    assert!(
        line.contains("pixel-space solver") && line.contains("latent-dps, psld, resample"),
        "{line}"
    );
    assert!(!out.exists());
    // a latent solver on the bundled pixel prior
    let (ok, _, err) = tweedie(&[
        "restore",
        "--solver",
        "psld",
        "--observed",
        obs.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!ok);
    let line = error_line(&err);
    assert!(
        line.contains("pipeline folder") && line.contains("fmnist32-ldm"),
        "{line}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// A text-conditioned pipeline (the golden test's small `UNet2DConditionModel` on the test VAE's
/// latents, the CLIP fixture's text encoder): `sample --prompt` draws latents with the UNet
/// conditioned on the prompt and decodes them, `--guidance` adds classifier-free guidance (another
/// picture), `restore --prompt` runs Latent DPS with it and `eval --prompt` a sweep. Without a
/// prompt it is refused, as is a prompt for an unconditional model and a guidance scale without a
/// prompt.
#[test]
fn a_text_conditioned_pipeline_samples_and_restores_with_a_prompt() {
    let d = tmp("text");
    let p = pipeline(&d, "UNet2DConditionModel");
    copy_dir(&fixture("unet_cond/sd1_conv"), &p.join("unet"));
    for sub in ["text_encoder", "tokenizer"] {
        let to = p.join(sub);
        std::fs::create_dir_all(&to).unwrap();
        for e in std::fs::read_dir(fixture(&format!("clip/sd1/{sub}"))).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
    let sample = |out: &Path, extra: &[&str]| {
        let mut args = vec![
            "sample",
            "--model",
            p.to_str().unwrap(),
            "--n",
            "2",
            "--steps",
            "5",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        tweedie(&args)
    };
    let (a, b) = (d.join("a.png"), d.join("b.png"));
    let (ok, _, err) = sample(&a, &["--prompt", "a red shirt"]);
    assert!(ok, "{err}");
    let (ok, _, err) = sample(&b, &["--prompt", "a red shirt", "--guidance", "4"]);
    assert!(ok, "{err}");
    let (ia, ib) = (
        image::open(&a).unwrap().to_rgb8(),
        image::open(&b).unwrap().to_rgb8(),
    );
    assert_eq!(ia.dimensions(), ib.dimensions());
    assert!(ia != ib, "guidance 4 gave the pictures of guidance 1");
    // refusals, before any compute
    let never = d.join("never.png");
    let (ok, _, err) = sample(&never, &[]);
    assert!(!ok && error_line(&err).contains("--prompt"), "{err}");
    let (ok, _, err) = sample(&never, &["--guidance", "3"]);
    assert!(!ok && error_line(&err).contains("--prompt"), "{err}");
    let plain = pipeline(&d.join("plain"), "UNet2DModel");
    let (ok, _, err) = tweedie(&[
        "sample",
        "--model",
        plain.to_str().unwrap(),
        "--prompt",
        "x",
        "--out",
        never.to_str().unwrap(),
    ]);
    assert!(!ok && error_line(&err).contains("unconditional"), "{err}");
    assert!(!never.exists());
    // restore with the prompt
    let truth = d.join("truth.png");
    picture(&truth);
    let obs = d.join("obs.png");
    let (ok, _, err) = tweedie(&[
        "degrade",
        "--task",
        "sr:factor=2",
        "--input",
        truth.to_str().unwrap(),
        "--out",
        obs.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let out = d.join("r.png");
    let (ok, _, err) = tweedie(&[
        "restore",
        "--model",
        p.to_str().unwrap(),
        "--prompt",
        "a red shirt",
        "--guidance",
        "2",
        "--solver",
        "latent-dps",
        "--steps",
        "10",
        "--observed",
        obs.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert_eq!(image::open(&out).unwrap().width(), 16);
    // eval with the prompt; the prompt and guidance are part of the model's identity in the
    // results (a resumed sweep keeps one prompt); without a prompt it is refused
    let eval = |out: &Path, extra: &[&str]| {
        let mut args = vec![
            "eval",
            "--model",
            p.to_str().unwrap(),
            "--images",
            truth.to_str().unwrap(),
            "--tasks",
            "sr:factor=2",
            "--solvers",
            "latent-dps",
            "--steps",
            "10",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        tweedie(&args)
    };
    let ev = d.join("eval");
    let (ok, _, err) = eval(&ev, &["--prompt", "a red shirt", "--guidance", "2"]);
    assert!(ok, "{err}");
    let res = std::fs::read_to_string(ev.join("results.json")).unwrap();
    assert!(res.contains("latent-dps"), "{res}");
    assert!(res.contains(r#"prompt=\"a red shirt\"+guidance=2"#), "{res}");
    let (ok, _, err) = eval(&d.join("never"), &[]);
    assert!(!ok && error_line(&err).contains("--prompt"), "{err}");
    assert!(!d.join("never").exists());
    let _ = std::fs::remove_dir_all(&d);
}

/// Pipeline folders tweedie cannot run are one error line each, before any compute: a
/// text-conditioned UNet without a prompt, no vae listed, a UNet whose channels are not the VAE's
/// latents.
#[test]
fn folders_it_cannot_run_are_refused() {
    let d = tmp("refused");
    let truth = d.join("truth.png");
    picture(&truth);
    let run = |p: &Path| -> String {
        let (ok, _, err) = tweedie(&[
            "sample",
            "--model",
            p.to_str().unwrap(),
            "--n",
            "1",
            "--steps",
            "5",
            "--out",
            d.join("never.png").to_str().unwrap(),
        ]);
        assert!(!ok);
        assert!(!d.join("never.png").exists());
        error_line(&err)
    };
    let p = pipeline(&d, "UNet2DConditionModel");
    let line = run(&p);
    assert!(
        line.contains("UNet2DConditionModel") && line.contains("--prompt"),
        "{line}"
    );
    // no vae
    std::fs::write(
        p.join("model_index.json"),
        r#"{"_class_name": "LDMPipeline", "unet": ["diffusers", "UNet2DModel"]}"#,
    )
    .unwrap();
    let line = run(&p);
    assert!(line.contains("lists no vae"), "{line}");
    // the unet of another pipeline: 4 latent channels against a VAE with 2
    let p = pipeline(&d, "UNet2DModel");
    copy_dir(&fixture("vae/one_level_noattn"), &p.join("vae"));
    let line = run(&p);
    assert!(line.contains("not one pipeline"), "{line}");
    let _ = std::fs::remove_dir_all(&d);
}

fn mean_psnr(x: &tweedie::Tensor, truths: &[tweedie::io::Image]) -> f64 {
    let xs = tweedie::io::batch_to_images(&x.to_vec().unwrap(), x.shape());
    xs.iter()
        .zip(truths)
        .map(|(a, b)| tweedie::metrics::psnr(a, b))
        .sum::<f64>()
        / truths.len() as f64
}

/// The bundled latent prior (`weights/fmnist32-ldm`) loads as a pipeline folder; its autoencoder
/// reconstructs held-out test images 8–11 (never trained on) at 28.8 dB mean (bound 26, the issue's
/// bar for the held-out mean; over all 64 test images it is 30.0 dB); and Latent DPS at its
/// defaults (50 steps; PSLD's DDIM step without the gluing term) restores box inpainting of them
/// at 18.48 dB against the trivial estimate's 15.49, where with `measure=0` (the prior's samples)
/// it is 10.92 dB: bounds
/// trivial + 1.5 (the issue's bar for each latent solver and task) and trivial − 1.5. (README
/// "Latent diffusion" has the held-out table.)
#[test]
fn the_bundled_latent_prior_reconstructs_and_restores() {
    use std::sync::Arc;
    use tweedie::operators::{self, Operator};
    let g = common::gpu();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let prior = tweedie::prior::Prior::load(&g, &root.join("weights/fmnist32-ldm"), None).unwrap();
    let l = prior.latent().expect("a latent prior");
    assert_eq!(prior.image_size(), Some((32, 32)));
    let truths: Vec<tweedie::io::Image> = (8..12)
        .map(|i| tweedie::io::read_image(&root.join(format!("tests/data/fmnist_test_{i:05}.png"))).unwrap())
        .collect();
    let data: Vec<f32> = truths.iter().flat_map(|t| t.data.clone()).collect();
    let x = tweedie::Tensor::from_slice(&g, &[4, 1, 32, 32], &data).unwrap();
    let rec = l.vae.decode_scaled(&l.vae.encode_scaled(&x).unwrap()).unwrap();
    let rec_psnr = mean_psnr(&rec, &truths);
    println!("autoencoder: {rec_psnr:.2} dB");
    assert!(
        rec_psnr > 26.0,
        "the bundled autoencoder reconstructs at {rec_psnr:.2} dB"
    );
    let op: Arc<dyn Operator> =
        Arc::from(operators::build(&g, &"inpaint-box".parse().unwrap(), [1, 32, 32]).unwrap());
    let y = operators::add_noise(&op.forward(&x).unwrap(), 0.05, 3).unwrap();
    let trivial = mean_psnr(&prior.trivial(op.as_ref(), &y).unwrap(), &truths);
    let pop = prior.problem_operator(op.clone()).unwrap();
    let p = tweedie::solvers::Problem {
        model: prior.denoiser(),
        op: pop.as_ref(),
        y: &y,
        sigma_y: 0.05,
    };
    let run = |sets: &[(String, String)]| {
        let s = tweedie::solvers::create("latent-dps", pop.as_ref(), Some(50), sets).unwrap();
        let z = s.solve(&p, 0, &mut |_, _| {}).unwrap();
        mean_psnr(&prior.to_images(&z).unwrap(), &truths)
    };
    let with = run(&[]);
    let without = run(&[("measure".into(), "0".into())]);
    println!("box inpainting: latent-dps {with:.2} dB, measure=0 {without:.2} dB, trivial {trivial:.2} dB");
    assert!(
        with > trivial + 1.5,
        "latent-dps {with:.2} dB, trivial {trivial:.2} dB"
    );
    assert!(
        without < trivial - 1.5,
        "measure=0 {without:.2} dB, trivial {trivial:.2} dB"
    );
}
