//! `tweedie eps` on a text-conditioned UNet (issue #34): with --cond (an embedding file), --uncond
//! and --guidance, and with --prompt on a pipeline folder (unet/ + the CLIP fixture's text_encoder/
//! and tokenizer/), its eps and vjp against the diffusers goldens of tests/fixtures/unet_cond
//! (written by tests/reference/make_unet_cond_goldens.py; the prompt goldens encode the prompt with
//! transformers' CLIP) within the golden tolerance 1e-4 of tests/unet_cond_golden.rs; a
//! v_prediction model's output is written as ε. Each refusal is one error line before compute.

mod common;
use common::{error_line, fixture, tweedie};
use std::path::{Path, PathBuf};
use tweedie::io::HostTensor;
use tweedie::ops::reference::rel_l2;

const PROMPT: &str = "a photograph of an astronaut riding a horse";

fn tmp(name: &str) -> PathBuf {
    common::scratch("unet-cond-cli", name)
}

fn io(name: &str) -> std::collections::BTreeMap<String, HostTensor> {
    tweedie::io::read_safetensors(&fixture(&format!("unet_cond/{name}/io.safetensors"))).unwrap()
}

/// Writes the fixture's tensor `key` to `dir/file` under the name `as_name`.
fn write(dir: &Path, file: &str, t: &HostTensor, as_name: &str) -> PathBuf {
    let p = dir.join(file);
    tweedie::io::write_safetensors(&p, &[(as_name, &t.shape, &t.data)]).unwrap();
    p
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// A pipeline folder: unet/ (the fixture), text_encoder/ and tokenizer/ (the CLIP fixture sd1).
fn pipeline(name: &str) -> PathBuf {
    let d = tmp(&format!("pipe-{name}"));
    copy_dir(&fixture(&format!("unet_cond/{name}")), &d.join("unet"));
    std::fs::remove_file(d.join("unet/io.safetensors")).unwrap();
    copy_dir(&fixture("clip/sd1/text_encoder"), &d.join("text_encoder"));
    copy_dir(&fixture("clip/sd1/tokenizer"), &d.join("tokenizer"));
    d
}

fn eps(model: &Path, input: &Path, t: f32, out: &Path, extra: &[&str]) -> (bool, String, String) {
    let ts = format!("{}", t as u32);
    let mut args = vec![
        "eps",
        "--model",
        model.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--t",
        &ts,
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    tweedie(&args)
}

fn close(what: &str, got: &HostTensor, want: &HostTensor) {
    assert_eq!(got.shape, want.shape, "{what}: shape");
    let e = rel_l2(&got.data, &want.data);
    println!("{what}: relative L2 error {e:.3e}");
    assert!(e <= 1e-4, "{what}: relative L2 error {e:.3e} > 1e-4");
}

fn read(p: &Path) -> std::collections::BTreeMap<String, HostTensor> {
    tweedie::io::read_safetensors(p).unwrap()
}

/// --cond alone (g = 1), --cond with --uncond and --guidance, and --vjp, on an ε model (sd1_conv,
/// one embedding for a batch of 2) and a v_prediction model (sd2_linear, written as ε).
#[test]
fn eps_with_cond_matches_diffusers() {
    for (name, v_pred) in [("sd1_conv", false), ("sd2_linear", true)] {
        let d = tmp(&format!("cond-{name}"));
        let g = io(name);
        let dir = fixture(&format!("unet_cond/{name}"));
        let x = write(&d, "x.safetensors", &g["x"], "x");
        let cond = write(&d, "cond.safetensors", &g["cond"], "emb");
        let uncond = write(&d, "uncond.safetensors", &g["uncond"], "anything");
        let w = write(&d, "w.safetensors", &g["w"], "v");
        let t = g["t"].data[0];
        let out = d.join("eps.safetensors");
        let (ok, _, err) = eps(
            &dir,
            &x,
            t,
            &out,
            &["--cond", cond.to_str().unwrap(), "--vjp", w.to_str().unwrap()],
        );
        assert!(ok, "{err}");
        let got = read(&out);
        if v_pred {
            // the model's ε from its v output, as DDIMScheduler.step computes pred_epsilon
            let ab = g["alpha_bar"].data[0] as f64;
            let mut want = g["out"].clone();
            for (o, x) in want.data.iter_mut().zip(&g["x"].data) {
                *o = (ab.sqrt() * *o as f64 + (1.0 - ab).sqrt() * *x as f64) as f32;
            }
            close(&format!("{name} eps (from v)"), &got["eps"], &want);
        } else {
            close(&format!("{name} eps"), &got["eps"], &g["out"]);
            close(&format!("{name} vjp"), &got["vjp"], &g["vjp"]);
        }
        let gs = format!("{}", g["guidance"].data[0]);
        let (ok, _, err) = eps(
            &dir,
            &x,
            t,
            &out,
            &[
                "--cond",
                cond.to_str().unwrap(),
                "--uncond",
                uncond.to_str().unwrap(),
                "--guidance",
                &gs,
                "--vjp",
                w.to_str().unwrap(),
            ],
        );
        assert!(ok, "{err}");
        let got = read(&out);
        close(&format!("{name} guided eps"), &got["eps"], &g["cfg"]);
        close(&format!("{name} guided vjp"), &got["vjp"], &g["cfg_vjp"]);
    }
}

/// A pipeline folder as diffusers saves it: the schedule (here v_prediction) is read from
/// scheduler/scheduler_config.json beside unet/, and the weights from the `.fp16` variant file
/// when that is the only one.
#[test]
fn pipeline_layout_schedule_and_fp16_variant() {
    let d = tmp("layout");
    let pipe = pipeline("sd2_linear");
    std::fs::create_dir_all(pipe.join("scheduler")).unwrap();
    std::fs::rename(
        pipe.join("unet/scheduler_config.json"),
        pipe.join("scheduler/scheduler_config.json"),
    )
    .unwrap();
    std::fs::rename(
        pipe.join("unet/diffusion_pytorch_model.safetensors"),
        pipe.join("unet/diffusion_pytorch_model.fp16.safetensors"),
    )
    .unwrap();
    let g = io("sd2_linear");
    let x = write(&d, "x.safetensors", &g["x"], "x");
    let cond = write(&d, "cond.safetensors", &g["cond"], "emb");
    let w = write(&d, "w.safetensors", &g["w"], "v");
    let out = d.join("eps.safetensors");
    let gs = format!("{}", g["guidance"].data[0]);
    // the empty prompt of the unconditional branch has the CLIP fixture's 77 tokens, not the
    // golden's 5: refused with the reason
    let (ok, _, err) = eps(
        &pipe,
        &x,
        g["t"].data[0],
        &out,
        &["--cond", cond.to_str().unwrap(), "--guidance", &gs],
    );
    assert!(!ok);
    assert!(error_line(&err).contains("give --uncond"), "{err}");
    let uncond = write(&d, "uncond.safetensors", &g["uncond"], "emb");
    let (ok, _, err) = eps(
        &pipe,
        &x,
        g["t"].data[0],
        &out,
        &[
            "--cond",
            cond.to_str().unwrap(),
            "--uncond",
            uncond.to_str().unwrap(),
            "--guidance",
            &gs,
            "--vjp",
            w.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    let got = read(&out);
    close(
        "pipeline layout guided eps (v_prediction)",
        &got["eps"],
        &g["cfg"],
    );
    close("pipeline layout guided vjp", &got["vjp"], &g["cfg_vjp"]);
}

/// --prompt on a pipeline folder: the prompt and the empty prompt through the pipeline's CLIP,
/// against transformers' CLIP + diffusers' UNet; and --cond with tweedie text's output and the
/// folder's text encoder for the empty prompt gives the same guided ε.
#[test]
fn eps_with_prompt_matches_diffusers() {
    let d = tmp("prompt");
    let pipe = pipeline("sd1_conv");
    let g = io("sd1_conv");
    let x = write(&d, "x.safetensors", &g["x"], "x");
    let t = g["t"].data[0];
    let out = d.join("eps.safetensors");
    let (ok, _, err) = eps(&pipe, &x, t, &out, &["--prompt", PROMPT]);
    assert!(ok, "{err}");
    close("prompt eps", &read(&out)["eps"], &g["prompt_out"]);
    let gs = format!("{}", g["guidance"].data[0]);
    let (ok, _, err) = eps(&pipe, &x, t, &out, &["--prompt", PROMPT, "--guidance", &gs]);
    assert!(ok, "{err}");
    close("prompt guided eps", &read(&out)["eps"], &g["prompt_cfg"]);
    let emb = d.join("emb.safetensors");
    let (ok, _, err) = tweedie(&[
        "text",
        "--model",
        pipe.to_str().unwrap(),
        "--prompt",
        PROMPT,
        "--out",
        emb.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let (ok, _, err) = eps(
        &pipe,
        &x,
        t,
        &out,
        &["--cond", emb.to_str().unwrap(), "--guidance", &gs],
    );
    assert!(ok, "{err}");
    close("text then --cond, guided", &read(&out)["eps"], &g["prompt_cfg"]);
}

/// Each mistake is one error line that says what to do, and nothing is written.
#[test]
fn eps_refuses_bad_conditioning() {
    let d = tmp("refuse");
    let g = io("sd1_conv");
    let dir = fixture("unet_cond/sd1_conv");
    let pipe = pipeline("sd1_conv");
    let x = write(&d, "x.safetensors", &g["x"], "x");
    let cond = write(&d, "cond.safetensors", &g["cond"], "emb");
    let narrow = write(
        &d,
        "narrow.safetensors",
        &HostTensor {
            shape: vec![1, 7, 13],
            data: vec![0.5; 7 * 13],
        },
        "emb",
    );
    let three = write(
        &d,
        "three.safetensors",
        &HostTensor {
            shape: vec![3, 7, 48],
            data: vec![0.5; 3 * 7 * 48],
        },
        "emb",
    );
    let two = d.join("two.safetensors");
    tweedie::io::write_safetensors(
        &two,
        &[
            ("a", &[1, 7, 48][..], &vec![0.5; 7 * 48]),
            ("b", &[1, 7, 48][..], &vec![0.5; 7 * 48]),
        ],
    )
    .unwrap();
    let tiny_x = d.join("tiny_x.safetensors");
    let tiny_io = tweedie::io::read_safetensors(&fixture("tiny/io.safetensors")).unwrap();
    write(&d, "tiny_x.safetensors", &tiny_io["x"], "x");
    let out = d.join("eps.safetensors");
    let tiny = fixture("tiny");
    let c = cond.to_str().unwrap();
    let cases: Vec<(&Path, &Path, Vec<&str>, &str)> = vec![
        (
            &dir,
            &x,
            vec!["--cond", narrow.to_str().unwrap()],
            "cross_attention_dim is 48",
        ),
        (
            &dir,
            &x,
            vec!["--cond", three.to_str().unwrap()],
            "3 embeddings for a batch of 2",
        ),
        (&dir, &x, vec![], "give --prompt TEXT"),
        (
            &dir,
            &x,
            vec!["--prompt", PROMPT],
            "no text_encoder/ and tokenizer/",
        ),
        (&pipe, &x, vec!["--prompt", PROMPT, "--cond", c], "give one"),
        (&dir, &x, vec!["--cond", c, "--guidance", "7.5"], "--uncond"),
        (&dir, &x, vec!["--cond", c, "--guidance", "nan"], "finite scale"),
        (&dir, &x, vec!["--cond", two.to_str().unwrap()], "holds 2 tensors"),
        (&tiny, &tiny_x, vec!["--cond", c], "text-conditioned UNet"),
        (
            &tiny,
            &tiny_x,
            vec!["--prompt", PROMPT],
            "--prompt is for a text-conditioned UNet",
        ),
    ];
    // --out onto the UNet's weights would destroy them
    let weights = pipe.join("unet/diffusion_pytorch_model.safetensors");
    let before = std::fs::metadata(&weights).unwrap().len();
    let (ok, _, err) = eps(&pipe, &x, 601.0, &weights, &["--cond", c]);
    assert!(!ok);
    assert!(error_line(&err).contains("destroy the input"), "{err}");
    assert_eq!(std::fs::metadata(&weights).unwrap().len(), before);
    for (model, input, extra, says) in cases {
        let (ok, _, err) = eps(model, input, 601.0, &out, &extra);
        assert!(!ok, "{extra:?} was accepted");
        let line = error_line(&err);
        assert!(line.contains(says), "{extra:?}: {line}");
        assert!(!out.exists(), "{extra:?}: wrote {}", out.display());
    }
}
