//! The UNet2DConditionModel against diffusers: each fixture in tests/fixtures/unet_cond/ (written by
//! tests/reference/make_unet_cond_goldens.py, goldens computed in float64 from the stored weights:
//! SD 1.x's convolution projections, SD 2.x's linear ones with per-block heads and f16 weights, a
//! 6x10 latent with a transformer width unlike the block's, 5 or 7 text tokens) must match within
//! relative L2 1e-4, the output and the VJP `d<w, out>/dx` alike. An f32 PyTorch forward of the same
//! weights lands near 5e-7 (the script prints it), so 1e-4 leaves room for other summation orders
//! while any structural mistake (a wrong head count, a missing residual, a swapped GEGLU half) gives
//! errors near 1. CI runs this binary on both kernel paths.

mod common;
use common::{fixture, gpu};
use tweedie::Tensor;
use tweedie::io::HostTensor;
use tweedie::models::UNet2DConditionModel;
use tweedie::ops::reference::rel_l2;

const TOL: f64 = 1e-4;

struct Case {
    model: UNet2DConditionModel,
    io: std::collections::BTreeMap<String, HostTensor>,
    g: tweedie::Gpu,
    name: String,
}

impl Case {
    fn load(name: &str) -> Case {
        let g = gpu();
        let dir = fixture(&format!("unet_cond/{name}"));
        let model = UNet2DConditionModel::load(&g, &dir).unwrap();
        let io = tweedie::io::read_safetensors(&dir.join("io.safetensors")).unwrap();
        Case {
            model,
            io,
            g,
            name: name.to_string(),
        }
    }

    /// The model loaded again on the same device.
    fn again(&self) -> UNet2DConditionModel {
        UNet2DConditionModel::load(&self.g, &fixture(&format!("unet_cond/{}", self.name))).unwrap()
    }

    fn up(&self, k: &str) -> Tensor {
        let h = &self.io[k];
        Tensor::from_slice(&self.g, &h.shape, &h.data).unwrap()
    }
}

fn close(name: &str, what: &str, got: &Tensor, want: &HostTensor) {
    assert_eq!(got.shape(), &want.shape[..], "{name}: {what} shape");
    let err = rel_l2(&got.to_vec().unwrap(), &want.data);
    println!("{name}: {what} relative L2 error {err:.3e}");
    assert!(err <= TOL, "{name}: {what} relative L2 error {err:.3e} > {TOL:e}");
}

fn check(name: &str) {
    let c = Case::load(name);
    let (x, t, cond, w) = (c.up("x"), c.up("t"), c.up("cond"), c.up("w"));
    let out = c.model.forward(&x, &t, &cond).unwrap();
    close(name, "output", &out, &c.io["out"]);
    let (out2, vjp) = c.model.forward_vjp(&x, &t, &cond, &w).unwrap();
    assert_eq!(out2.to_vec().unwrap(), out.to_vec().unwrap());
    close(name, "VJP", &vjp, &c.io["vjp"]);
    // the VJP is linear in the cotangent: a flipped w flips it (the tape is not reusing a stale
    // gradient)
    let (_, neg) = c
        .model
        .forward_vjp(&x, &t, &cond, &tweedie::ops::scale(&w, -1.0).unwrap())
        .unwrap();
    let (a, b) = (vjp.to_vec().unwrap(), neg.to_vec().unwrap());
    assert!(
        a.iter()
            .zip(&b)
            .all(|(p, q)| (p + q).abs() <= 1e-5 * (1.0 + p.abs()))
    );
}

#[test]
fn sd1_conv_projection_matches_diffusers() {
    check("sd1_conv");
}

#[test]
fn sd2_linear_projection_matches_diffusers() {
    check("sd2_linear");
}

#[test]
fn odd_latent_and_transformer_width_match_diffusers() {
    check("odd_6x10");
}

/// One embedding `[1, T, D]` broadcast over a batch of 2 gives what the embedding repeated per
/// sample gives, and a batch of 2 gives each sample what it gets alone.
#[test]
fn cond_broadcast_and_batch_agree() {
    let c = Case::load("sd1_conv");
    let (x, t, cond) = (c.up("x"), c.up("t"), c.up("cond"));
    let full = c.model.forward(&x, &t, &cond).unwrap().to_vec().unwrap();
    let rep = tweedie::ops::particles::cat_rows(&[cond.clone(), cond.clone()]).unwrap();
    let rep = c.model.forward(&x, &t, &rep).unwrap().to_vec().unwrap();
    assert!(rel_l2(&rep, &full) < 1e-6);
    let x1 = tweedie::ops::particles::rows(&x, 1, 1).unwrap();
    let one = c.model.forward(&x1, &t, &cond).unwrap().to_vec().unwrap();
    assert!(rel_l2(&one, &full[full.len() / 2..]) < 1e-5);
}

/// Conditioning of the wrong width or batch, and a latent of the wrong shape, are refused with
/// messages that say what fits.
#[test]
fn bad_conditioning_is_refused() {
    let c = Case::load("sd1_conv");
    let (x, t) = (c.up("x"), c.up("t"));
    let wide = Tensor::full(&c.g, &[1, 7, 13], 0.5).unwrap();
    let e = c.model.forward(&x, &t, &wide).err().unwrap().to_string();
    assert!(e.contains("cross_attention_dim is 48"), "{e}");
    let three = Tensor::full(&c.g, &[3, 7, 48], 0.5).unwrap();
    let e = c.model.forward(&x, &t, &three).err().unwrap().to_string();
    assert!(e.contains("3 embeddings for a batch of 2"), "{e}");
    let flat = Tensor::full(&c.g, &[7, 48], 0.5).unwrap();
    let e = c.model.forward(&x, &t, &flat).err().unwrap().to_string();
    assert!(e.contains("[1 or batch, tokens, 48]"), "{e}");
    let odd = Tensor::full(&c.g, &[1, 4, 7, 8], 0.5).unwrap();
    let cond = c.up("cond");
    let e = c.model.forward(&odd, &t, &cond).err().unwrap().to_string();
    assert!(e.contains("multiples of 2"), "{e}");
}

/// Classifier-free guidance through [`Conditioned`] against diffusers' pipeline arithmetic
/// (`e_u + g (e_c - e_u)` on one batch of `[uncond; cond]`, g = 7.5), the ε of a `v_prediction`
/// model (sd2_linear: `sqrt(ab) v + sqrt(1 - ab) x`, as DDIMScheduler.step computes
/// `pred_epsilon`), and the VJP of the guided ε through the tape, each within 1e-4 (g = 7.5
/// amplifies the branches' difference, and the f32 errors with it, by at most ~8x: still near 1e-6).
fn check_cfg(name: &str, v_pred: bool) {
    use tweedie::diffusion::{Denoiser, Prediction, Timestep};
    use tweedie::models::Conditioned;
    let c = Case::load(name);
    let want_pred = if v_pred {
        Prediction::V
    } else {
        Prediction::Epsilon
    };
    assert_eq!(c.model.prediction, want_pred, "{name}: prediction type");
    let (x, cond, uncond, w) = (c.up("x"), c.up("cond"), c.up("uncond"), c.up("w"));
    let t = Timestep::new(&c.g, c.io["t"].data[0] as usize).unwrap();
    let ab = c.model.schedule().alpha_bar(Some(t.t));
    let want_ab = c.io["alpha_bar"].data[0] as f64;
    assert!(
        (ab - want_ab).abs() < 1e-6 * want_ab,
        "{name}: alpha_bar {ab} vs {want_ab}"
    );
    let g = c.io["guidance"].data[0];
    let den = Conditioned::guided(c.again(), cond.clone(), Some(uncond.clone()), g).unwrap();
    den.check_input(x.shape()).unwrap();
    let (eps, vjp) = den.eps_vjp(&x, &t, &w).unwrap();
    close(name, "guided epsilon", &eps, &c.io["cfg"]);
    close(name, "guided epsilon VJP", &vjp, &c.io["cfg_vjp"]);
    // g = 1 is the conditional branch alone (converted to epsilon)
    let one = Conditioned::guided(c.model, cond.clone(), Some(uncond), 1.0).unwrap();
    let e1 = one.eps(&x, &t).unwrap().to_vec().unwrap();
    let raw = one
        .unet()
        .forward(&x, &t.tensor, &cond)
        .unwrap()
        .to_vec()
        .unwrap();
    let xv = x.to_vec().unwrap();
    let want: Vec<f32> = if v_pred {
        raw.iter()
            .zip(&xv)
            .map(|(v, x)| (ab.sqrt() * *v as f64 + (1.0 - ab).sqrt() * *x as f64) as f32)
            .collect()
    } else {
        raw
    };
    assert!(rel_l2(&e1, &want) < 1e-6, "{name}: g = 1");
}

#[test]
fn guidance_matches_diffusers_epsilon() {
    check_cfg("sd1_conv", false);
}

#[test]
fn guidance_matches_diffusers_v_prediction() {
    check_cfg("sd2_linear", true);
}

/// Guidance without an unconditional embedding, or a non-finite scale, is refused.
#[test]
fn guidance_needs_an_unconditional_embedding() {
    use tweedie::models::Conditioned;
    let c = Case::load("sd1_conv");
    let cond = c.up("cond");
    let e = Conditioned::guided(c.again(), cond.clone(), None, 7.5)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("unconditional embedding"), "{e}");
    let e = Conditioned::guided(c.model, cond, None, f32::NAN)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("not a finite number"), "{e}");
}

/// `scheduler_config.json`'s prediction_type: `v_prediction` is accepted and reported where the
/// caller converts it (the conditional UNet), still refused where ε is assumed, and the other
/// kinds (`sample`) refused everywhere.
#[test]
fn prediction_types_are_read_and_refused() {
    use tweedie::diffusion::{Prediction, Schedule};
    let v = r#"{"prediction_type": "v_prediction", "beta_schedule": "scaled_linear"}"#;
    let (_, p) = Schedule::from_json_predicting(v, "s.json").unwrap();
    assert_eq!(p, Prediction::V);
    let e = Schedule::from_json(v, "s.json").err().unwrap().to_string();
    assert!(e.contains("v_prediction"), "{e}");
    let (_, p) = Schedule::from_json_predicting("{}", "s.json").unwrap();
    assert_eq!(p, Prediction::Epsilon);
    for bad in [r#"{"prediction_type": "sample"}"#, r#"{"prediction_type": 3}"#] {
        let e = Schedule::from_json_predicting(bad, "s.json")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("epsilon or v_prediction"), "{e}");
    }
}

/// Configurations the SD 1.x/2.x UNet cannot run are refused before anything is computed, naming
/// the key; SD 1.5's and SD 2.1's own configs (diffusers' defaults plus their keys) parse.
#[test]
fn unsupported_configs_are_refused() {
    use tweedie::models::UNet2DConditionConfig as C;
    let sd15 = r#"{"_class_name": "UNet2DConditionModel", "sample_size": 64, "cross_attention_dim": 768,
        "attention_head_dim": 8, "block_out_channels": [320, 640, 1280, 1280]}"#;
    let c = C::from_json(sd15).unwrap();
    assert_eq!((c.heads.clone(), c.cross_attention_dim), (vec![8; 4], 768));
    let sd21 = r#"{"_class_name": "UNet2DConditionModel", "cross_attention_dim": 1024, "use_linear_projection": true,
        "attention_head_dim": [5, 10, 20, 20], "upcast_attention": true, "sample_size": 96}"#;
    let c = C::from_json(sd21).unwrap();
    assert_eq!(c.heads, vec![5, 10, 20, 20]);
    assert!(c.use_linear_projection);
    for (cfg, says) in [
        (r#"{"class_embed_type": "timestep"}"#, "class_embed_type"),
        (r#"{"addition_embed_type": "text_time"}"#, "addition_embed_type"),
        (r#"{"num_class_embeds": 10}"#, "num_class_embeds"),
        (
            r#"{"down_block_types": ["SimpleCrossAttnDownBlock2D", "DownBlock2D", "DownBlock2D", "DownBlock2D"]}"#,
            "SimpleCrossAttnDownBlock2D",
        ),
        (
            r#"{"mid_block_type": "UNetMidBlock2DSimpleCrossAttn"}"#,
            "mid_block_type",
        ),
        (r#"{"attention_head_dim": [8, 8]}"#, "2 entries for 4 blocks"),
        (
            r#"{"cross_attention_dim": [768, 768, 1024, 1024]}"#,
            "differs between blocks",
        ),
        (
            r#"{"transformer_layers_per_block": [[1, 2], [1, 2], [1, 2], [1, 2]]}"#,
            "nested lists",
        ),
        (
            r#"{"resnet_time_scale_shift": "scale_shift"}"#,
            "resnet_time_scale_shift",
        ),
        (r#"{"some_future_key": 1}"#, "some_future_key"),
        (r#"{"_class_name": "UNet2DModel"}"#, "UNet2DModel"),
        (
            r#"{"attention_head_dim": 400}"#,
            "attention_head_dim (heads) = 400",
        ),
    ] {
        let e = C::from_json(cfg)
            .err()
            .unwrap_or_else(|| panic!("{cfg} was accepted"))
            .to_string();
        assert!(e.contains(says), "{cfg}: {e}");
    }
}

/// Attention in query chunks (what a Stable Diffusion latent of 64x64 needs: its 8 x 4096 x 4096
/// self-attention scores pass what a device binds) is exact: with a budget of a few rows per chunk
/// (uneven last chunks, several samples), output and VJP still match diffusers within 1e-4.
#[test]
fn chunked_attention_matches_diffusers() {
    for name in ["sd1_conv", "odd_6x10"] {
        let c = Case::load(name);
        let model = c.again().with_attention_budget(2 * 7 * 5);
        let (x, t, cond, w) = (c.up("x"), c.up("t"), c.up("cond"), c.up("w"));
        let (out, vjp) = model.forward_vjp(&x, &t, &cond, &w).unwrap();
        close(name, "chunked output", &out, &c.io["out"]);
        close(name, "chunked VJP", &vjp, &c.io["vjp"]);
    }
}
