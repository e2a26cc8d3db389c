//! What a web page does without a file system: the model from the three files' contents
//! (`UNet2DModel::from_bytes`), a guided-diffusion checkpoint from its `.pt` or `.safetensors` bytes
//! (`AdmUNet::from_bytes`) and an image from its PNG bytes (`io::decode_image`), each the same as
//! from the files, and bad bytes refused with an error that says what they were.

use crate::common;

use std::path::Path;
use tweedie::Tensor;
use tweedie::models::UNet2DModel;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_model_from_bytes_is_the_model_from_its_folder() {
    let gpu = common::gpu();
    let dir = root().join("weights/fmnist32");
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
    let text = |f: &str| String::from_utf8(read(f)).unwrap();
    let from_dir = UNet2DModel::load(&gpu, &dir).unwrap();
    let from_bytes = UNet2DModel::from_bytes(
        &gpu,
        &text("config.json"),
        &read("diffusion_pytorch_model.safetensors"),
        Some(&text("scheduler_config.json")),
    )
    .unwrap();
    let x = Tensor::from_slice(&gpu, &[2, 1, 32, 32], &common::randn(11, 2 * 32 * 32)).unwrap();
    let a = from_dir.forward_t(&x, 321.0).unwrap().to_vec().unwrap();
    let b = from_bytes.forward_t(&x, 321.0).unwrap().to_vec().unwrap();
    assert!(a == b, "the model from bytes computes something else");
    use tweedie::diffusion::Denoiser;
    let (s1, s2) = (from_dir.schedule(), from_bytes.schedule());
    assert_eq!(s1.len(), s2.len());
    for t in [0, 1, 500, s1.len() - 1] {
        assert_eq!(
            s1.alpha_bar(Some(t)),
            s2.alpha_bar(Some(t)),
            "the schedule at t = {t}"
        );
    }

    // bad bytes: each refused with what they were, before any compute
    let weights = read("diffusion_pytorch_model.safetensors");
    let e = UNet2DModel::from_bytes(&gpu, &text("config.json"), &weights[..weights.len() / 2], None)
        .err()
        .expect("truncated weights");
    assert!(e.to_string().contains("safetensors"), "{e}");
    let e = UNet2DModel::from_bytes(&gpu, "{not json", &weights, None)
        .err()
        .expect("a broken config");
    assert!(e.to_string().to_lowercase().contains("json"), "{e}");
    let e = UNet2DModel::from_bytes(&gpu, &text("config.json"), &weights, Some("{\"beta_start\": -1}"))
        .err()
        .expect("a bad schedule");
    assert!(e.to_string().contains("beta_start"), "{e}");
}

#[test]
fn an_image_from_bytes_is_the_image_from_its_file() {
    let path = root().join("tests/data/fmnist_test_00003.png");
    let from_file = tweedie::io::read_image(&path).unwrap();
    let from_bytes = tweedie::io::decode_image(&std::fs::read(&path).unwrap(), "upload").unwrap();
    assert_eq!(from_file, from_bytes);
    let e = tweedie::io::decode_image(b"\x89PNG\r\n\x1a\nnot really", "upload").unwrap_err();
    assert!(e.to_string().contains("cannot read image upload"), "{e}");
}

#[test]
fn a_guided_diffusion_checkpoint_from_bytes_is_the_one_from_its_file() {
    use tweedie::models::{AdmConfig, AdmUNet, Model};
    let gpu = common::gpu();
    let dir = root().join("tests/fixtures/adm/small32");
    let from_file = Model::load(&gpu, &dir.join("model.pt"), None).unwrap();
    let config = std::fs::read_to_string(dir.join("config.json")).unwrap();
    let pt = std::fs::read(dir.join("model.pt")).unwrap();
    let from_pt = AdmUNet::from_bytes(&gpu, AdmConfig::from_json(&config).unwrap(), &pt).unwrap();
    // the same weights as safetensors bytes
    let ts = tweedie::pt::read_pt(&dir.join("model.pt")).unwrap();
    let list: Vec<(&str, &[usize], &[f32])> = ts
        .iter()
        .map(|(k, t)| (k.as_str(), t.shape.as_slice(), t.data.as_slice()))
        .collect();
    let st = std::env::temp_dir().join(format!("tweedie-adm-bytes-{}.safetensors", std::process::id()));
    tweedie::io::write_safetensors(&st, &list).unwrap();
    let st_bytes = std::fs::read(&st).unwrap();
    std::fs::remove_file(&st).ok();
    let from_st = AdmUNet::from_bytes(&gpu, AdmConfig::from_json(&config).unwrap(), &st_bytes).unwrap();
    let c = from_pt.config.in_channels;
    let s = from_pt.config.image_size;
    let x = Tensor::from_slice(&gpu, &[1, c, s, s], &common::randn(3, c * s * s)).unwrap();
    let t = Tensor::full(&gpu, &[1], 250.0).unwrap();
    let want = from_file.forward(&x, &t).unwrap().to_vec().unwrap();
    assert!(
        from_pt.forward(&x, &t).unwrap().to_vec().unwrap() == want,
        ".pt bytes"
    );
    assert!(
        from_st.forward(&x, &t).unwrap().to_vec().unwrap() == want,
        "safetensors bytes"
    );
    let e = AdmUNet::from_bytes(&gpu, AdmConfig::from_json(&config).unwrap(), &pt[..pt.len() / 3])
        .err()
        .expect("a truncated checkpoint");
    assert!(e.to_string().contains("checkpoint"), "{e}");
}
