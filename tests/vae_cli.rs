//! `tweedie vae` (issue #34): --encode writes (mean - shift_factor) * scaling_factor, --decode divides
//! by scaling_factor and adds shift_factor first (both checked against the diffusers goldens of
//! tests/fixtures/vae, within the golden tolerance 1e-4 of tests/vae_golden.rs); a pipeline folder's
//! vae/ is found; bad input is one error line before compute, with nothing written.

mod common;
use common::{error_line, fixture, randn, tweedie};
use std::path::{Path, PathBuf};
use tweedie::ops::reference::rel_l2;

fn vae(model: &Path, flag: &str, input: &Path, out: &Path) -> (bool, String, String) {
    tweedie(&[
        "vae",
        "--model",
        model.to_str().unwrap(),
        flag,
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
}

fn tmp(name: &str) -> std::path::PathBuf {
    common::scratch("vae-cli", name)
}

fn io(name: &str) -> std::collections::BTreeMap<String, tweedie::io::HostTensor> {
    tweedie::io::read_safetensors(&fixture(&format!("vae/{name}/io.safetensors"))).unwrap()
}

/// A pipeline folder (model_index.json and vae/) around a fixture's VAE.
fn pipeline(name: &str) -> PathBuf {
    let d = tmp(&format!("pipe-{name}"));
    let v = d.join("vae");
    std::fs::create_dir_all(&v).unwrap();
    for f in ["config.json", "diffusion_pytorch_model.safetensors"] {
        std::fs::copy(fixture(&format!("vae/{name}/{f}")), v.join(f)).unwrap();
    }
    std::fs::write(
        d.join("model_index.json"),
        "{\"_class_name\": \"StableDiffusionPipeline\"}",
    )
    .unwrap();
    d
}

#[test]
fn encode_and_decode_match_diffusers_in_the_pipelines_scaling() {
    let name = "two_level_shift";
    let (s, t) = (0.3611f32, 0.1159f32);
    let g = io(name);
    let d = tmp("roundtrip");
    let m = pipeline(name);
    // encode: the tensor x of io.safetensors
    let z_out = d.join("z.safetensors");
    let (ok, stdout, err) = vae(
        &m,
        "--encode",
        &fixture(&format!("vae/{name}/io.safetensors")),
        &z_out,
    );
    assert!(ok, "{err}");
    assert!(
        stdout.contains("scaling_factor") && stdout.contains("shift_factor"),
        "{stdout}"
    );
    let z = tweedie::io::read_safetensors(&z_out).unwrap();
    let want: Vec<f32> = g["mean"].data.iter().map(|u| (u - t) * s).collect();
    assert_eq!(z["z"].shape, g["mean"].shape);
    let e = rel_l2(&z["z"].data, &want);
    assert!(e <= 1e-4, "encode: {e:.3e}");

    // decode: a scaled latent whose unscaled value is the golden's z
    let zs: Vec<f32> = g["z"].data.iter().map(|u| (u - t) * s).collect();
    let z_in = d.join("zs.safetensors");
    tweedie::io::write_safetensors(&z_in, &[("z", &g["z"].shape, &zs)]).unwrap();
    let x_out = d.join("x.safetensors");
    let (ok, _, err) = vae(&m.join("vae"), "--decode", &z_in, &x_out);
    assert!(ok, "{err}");
    let x = tweedie::io::read_safetensors(&x_out).unwrap();
    assert_eq!(x["x"].shape, g["dec"].shape);
    let e = rel_l2(&x["x"].data, &g["dec"].data);
    assert!(e <= 1e-4, "decode: {e:.3e}");

    // an existing --out is replaced, as every command's --out is (only an input is protected)
    let (ok, _, err) = vae(&m, "--decode", &z_in, &x_out);
    assert!(ok, "{err}");
}

#[test]
fn pictures_in_and_out() {
    let d = tmp("png");
    // encode a PNG: the same latent as the library gives for the picture read back
    let img = tweedie::io::Image {
        channels: 3,
        height: 16,
        width: 16,
        data: randn(5, 3 * 256)
            .iter()
            .map(|v| (v * 0.5).clamp(-1.0, 1.0))
            .collect(),
    };
    let png = d.join("in.png");
    tweedie::io::write_image(&png, &img, 1).unwrap();
    let m = fixture("vae/two_level_shift");
    let z_out = d.join("z.safetensors");
    let (ok, _, err) = vae(&m, "--encode", &png, &z_out);
    assert!(ok, "{err}");
    let z = tweedie::io::read_safetensors(&z_out).unwrap();
    let back = tweedie::io::read_image(&png).unwrap();
    let gpu = common::gpu();
    let model = tweedie::models::AutoencoderKL::load(&gpu, &m).unwrap();
    let x = tweedie::Tensor::from_slice(&gpu, &[1, 3, 16, 16], &back.data).unwrap();
    let want = model.encode_scaled(&x).unwrap().to_vec().unwrap();
    assert_eq!(z["z"].shape, vec![1, 4, 8, 8]);
    assert!(rel_l2(&z["z"].data, &want) <= 1e-5);

    // decode one latent to a grayscale PNG of the image size (32x20 from 8x5)
    let g = io("three_level_noquant");
    let z_in = d.join("z1.safetensors");
    let s = 0.18215f32;
    let zs: Vec<f32> = g["z"].data.iter().map(|u| u * s).collect();
    tweedie::io::write_safetensors(&z_in, &[("z", &g["z"].shape, &zs)]).unwrap();
    let out = d.join("x.png");
    let (ok, _, err) = vae(&fixture("vae/three_level_noquant"), "--decode", &z_in, &out);
    assert!(ok, "{err}");
    let pic = tweedie::io::read_image(&out).unwrap();
    assert_eq!(pic.shape(), [1, 32, 20]);
    // 8-bit quantisation of the golden image (clamped to [-1, 1]): within half a level
    let want: Vec<f32> = g["dec"].data.iter().map(|v| v.clamp(-1.0, 1.0)).collect();
    let worst = pic
        .data
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(worst <= 1.0 / 127.5 * 0.5 + 1e-4, "{worst}");
}

/// Each bad input is one error line naming what is wrong, before any compute, and nothing is
/// written.
#[test]
fn bad_input_is_one_line_before_compute() {
    let d = tmp("bad");
    let m = fixture("vae/two_level_shift");
    let ms = m.to_str().unwrap();
    let io_path = fixture("vae/two_level_shift/io.safetensors");
    let out = d.join("out.safetensors");
    let outs = out.to_str().unwrap();
    let write = |name: &str, tensors: &[(&str, &[usize], &[f32])]| {
        let p = d.join(name);
        tweedie::io::write_safetensors(&p, tensors).unwrap();
        p
    };
    let x15 = write(
        "x15.safetensors",
        &[("x", &[1, 3, 15, 16], &randn(1, 3 * 15 * 16))],
    );
    let x1c = write("x1c.safetensors", &[("x", &[1, 1, 16, 16], &randn(2, 256))]);
    let mut nan = randn(3, 4 * 16);
    nan[7] = f32::NAN;
    let znan = write("znan.safetensors", &[("z", &[1, 4, 4, 4], &nan)]);
    let noz = write("noz.safetensors", &[("latent", &[1, 4, 4, 4], &randn(4, 64))]);
    let z3 = write("z3.safetensors", &[("z", &[1, 3, 4, 4], &randn(5, 48))]);
    let z2 = write("z2.safetensors", &[("z", &[2, 4, 4, 4], &randn(6, 128))]);
    let gray = d.join("gray.png");
    let gimg = tweedie::io::Image {
        channels: 1,
        height: 16,
        width: 16,
        data: randn(7, 256).iter().map(|v| v.clamp(-1.0, 1.0)).collect(),
    };
    tweedie::io::write_image(&gray, &gimg, 1).unwrap();
    let nopipe = tmp("nopipe");
    std::fs::write(nopipe.join("model_index.json"), "{}").unwrap();
    let png_out = d.join("x.png");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["--encode".into(), s(&x15)], "multiples of 2"),
        (vec!["--encode".into(), s(&x1c)], "3-channel"),
        (vec!["--encode".into(), s(&gray)], "3-channel"),
        (vec!["--decode".into(), s(&znan)], "NaN"),
        (vec!["--decode".into(), s(&noz)], "no tensor named \"z\""),
        (vec!["--decode".into(), s(&z3)], "[batch, 4, height, width]"),
        (
            vec!["--decode".into(), s(&io_path), "--out".into(), s(&io_path)],
            "same file",
        ),
        (
            vec!["--decode".into(), s(&z2), "--out".into(), s(&png_out)],
            "2 latents",
        ),
        (
            vec!["--encode".into(), s(&io_path), "--out".into(), s(&png_out)],
            ".safetensors",
        ),
        (
            vec!["--encode".into(), s(&io_path), "--decode".into(), s(&z3)],
            "cannot be used with",
        ),
        (vec![], "required arguments"),
        (
            vec!["--model".into(), s(&nopipe), "--decode".into(), s(&z3)],
            "pipeline folder without vae",
        ),
        (
            vec!["--model".into(), s(&d.join("missing")), "--decode".into(), s(&z3)],
            "does not exist",
        ),
    ];
    for (args, want) in cases {
        let mut full: Vec<String> = vec!["vae".into()];
        if !args.contains(&"--model".to_string()) {
            full.extend(["--model".into(), ms.into()]);
        }
        full.extend(args.iter().cloned());
        if !args.contains(&"--out".to_string()) {
            full.extend(["--out".into(), outs.into()]);
        }
        let refs: Vec<&str> = full.iter().map(String::as_str).collect();
        let (ok, stdout, err) = tweedie(&refs);
        assert!(!ok, "accepted: {full:?}");
        let line = error_line(&err);
        assert!(line.contains(want), "{full:?}: {line}");
        assert!(stdout.is_empty(), "{full:?} printed {stdout}");
        assert!(!out.exists() && !png_out.exists(), "{full:?} wrote a file");
    }
    // a 2-channel decoder cannot write a PNG
    let z = write("z2c.safetensors", &[("z", &[1, 2, 3, 5], &randn(8, 30))]);
    let (ok, _, err) = vae(&fixture("vae/one_level_noattn"), "--decode", &z, &png_out);
    assert!(!ok);
    assert!(error_line(&err).contains("2-channel"), "{err}");
    assert!(!png_out.exists());
}
