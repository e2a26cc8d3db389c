//! The UNet2DModel against diffusers: each fixture in tests/fixtures/ (written by
//! tests/reference/make_goldens.py, goldens computed in float64 from the stored weights) must match
//! within relative L2 1e-4. A plain f32 PyTorch forward lands near 1e-6, so 1e-4 leaves room for
//! different summation orders while catching any structural mistake (those give errors near 1).

mod common;
use common::{fixture, gpu};
use tweedie::Tensor;
use tweedie::models::UNet2DModel;
use tweedie::ops::reference::rel_l2;

fn check(name: &str) {
    let g = gpu();
    let model = UNet2DModel::load(&g, &fixture(name)).unwrap();
    let io = tweedie::io::read_safetensors(&fixture(&format!("{name}/io.safetensors"))).unwrap();
    let x = &io["x"];
    let t = io["t"].data[0];
    let xt = Tensor::from_slice(&g, &x.shape, &x.data).unwrap();
    let eps = model.forward_t(&xt, t).unwrap();
    assert_eq!(eps.shape(), &io["eps"].shape[..]);
    let err = rel_l2(&eps.to_vec().unwrap(), &io["eps"].data);
    println!("{name}: relative L2 error {err:.3e}");
    assert!(err <= 1e-4, "{name}: relative L2 error {err:.3e} > 1e-4");
    // one timestep given for the whole batch is broadcast on the device: the same bits
    let t1 = Tensor::from_slice(&g, &[1], &[t]).unwrap();
    assert_eq!(
        model.forward(&xt, &t1).unwrap().to_vec().unwrap(),
        eps.to_vec().unwrap()
    );
}

#[test]
fn attn_heads_matches_diffusers() {
    check("attn_heads");
}

#[test]
fn odd_cifarlike_matches_diffusers() {
    check("odd_cifarlike");
}

#[test]
fn multi_attn_matches_diffusers() {
    check("multi_attn");
}

#[test]
fn tiny_matches_diffusers() {
    check("tiny");
}

/// The bundled prior (weights/fmnist32, f16 storage) against diffusers on the same input; the golden
/// is written by `make_goldens.py --fmnist` from the committed weights.
#[test]
fn bundled_prior_matches_diffusers() {
    let g = gpu();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = UNet2DModel::load(&g, &root.join("weights/fmnist32")).unwrap();
    let io = tweedie::io::read_safetensors(&fixture("fmnist32_io.safetensors")).unwrap();
    let x = &io["x"];
    let xt = Tensor::from_slice(&g, &x.shape, &x.data).unwrap();
    let eps = model.forward_t(&xt, io["t"].data[0]).unwrap();
    let err = rel_l2(&eps.to_vec().unwrap(), &io["eps"].data);
    println!("fmnist32: relative L2 error {err:.3e}");
    assert!(err <= 1e-4, "fmnist32: relative L2 error {err:.3e} > 1e-4");
}
