//! What a web page does without a file system: the model from the three files' contents
//! (`UNet2DModel::from_bytes`) and an image from its PNG bytes (`io::decode_image`), each the same
//! as from the files, and bad bytes refused with an error that says what they were.

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
