//! guided-diffusion (ADM) UNets against goldens made with the official openai/guided-diffusion code
//! (`tests/reference/make_adm_goldens.py`): two small random-weight configurations saved with
//! `torch.save` as the released checkpoints are, loaded from the `.pt` (and from safetensors).
//!
//! - `small32`: additive time embedding, conv down/upsampling, the new `[q | k | v]` attention order,
//!   2 heads, ε only;
//! - `small64`: scale-shift (FiLM) norm, residual up/down-sampling, the legacy per-head qkv order with
//!   16-channel heads, learned variance (6 outputs).
//!
//! Tolerance: the goldens are computed in f64 by the official code (its f32 casts lifted); the f32
//! PyTorch forward itself is 1e-6 from them (printed by the script), and tweedie's f32 kernels sum
//! in other orders: 1e-4 relative L2 for the output and the VJP, as for the diffusers goldens.

mod common;
use common::{fixture, gpu};
use std::path::Path;
use tweedie::models::{AdmConfig, AdmUNet, Model};
use tweedie::ops::reference::rel_l2;
use tweedie::{Tensor, autograd, ops};

const TOL: f64 = 1e-4;

fn golden(name: &str) -> std::collections::BTreeMap<String, tweedie::io::HostTensor> {
    tweedie::io::read_safetensors(&fixture(&format!("adm/{name}/golden.safetensors"))).unwrap()
}

/// The model output and the VJP of ⟨v, ε⟩ for the golden inputs.
fn run(m: &Model, name: &str) -> (Vec<f32>, Vec<f32>) {
    let g = golden(name);
    let gpu = tweedie::diffusion::Denoiser::gpu(m).clone();
    let up = |k: &str| Tensor::from_slice(&gpu, &g[k].shape, &g[k].data).unwrap();
    let x = up("x").tracked();
    let t = up("t");
    let out = m.forward(&x, &t).unwrap();
    let c = g["v"].shape[1];
    let eps = if out.shape()[1] == c {
        out.clone()
    } else {
        ops::narrow_channels(&out, 0, c).unwrap()
    };
    let vjp = autograd::backward(&eps, &up("v"), &[&x]).unwrap().remove(0);
    (out.to_vec().unwrap(), vjp.to_vec().unwrap())
}

fn check(name: &str, m: &Model) {
    let g = golden(name);
    let (out, vjp) = run(m, name);
    let eo = rel_l2(&out, &g["out64"].data);
    let ev = rel_l2(&vjp, &g["vjp"].data);
    println!("{name}: output rel L2 {eo:.2e}, VJP rel L2 {ev:.2e}");
    assert!(
        eo <= TOL,
        "{name}: output differs from guided-diffusion by {eo:.3e}"
    );
    assert!(ev <= TOL, "{name}: VJP differs from torch.autograd by {ev:.3e}");
}

#[test]
fn adm_small32_matches_guided_diffusion() {
    let g = gpu();
    // config.json beside the checkpoint
    let m = Model::load(&g, &fixture("adm/small32/model.pt"), None).unwrap();
    check("small32", &m);
}

#[test]
fn adm_small64_scale_shift_updown_learned_sigma_matches_guided_diffusion() {
    let g = gpu();
    let cfg = fixture("adm/small64/config.json");
    let m = Model::load(&g, &fixture("adm/small64/model.pt"), Some(cfg.to_str().unwrap())).unwrap();
    assert!(matches!(&m, Model::Adm(a) if a.config.learn_sigma));
    check("small64", &m);

    // the same weights as safetensors give the same numbers
    let dir = std::env::temp_dir().join(format!("tweedie-adm-st-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ts = tweedie::pt::read_pt(&fixture("adm/small64/model.pt")).unwrap();
    let list: Vec<(&str, &[usize], &[f32])> = ts
        .iter()
        .map(|(k, t)| (k.as_str(), t.shape.as_slice(), t.data.as_slice()))
        .collect();
    let st = dir.join("model.safetensors");
    tweedie::io::write_safetensors(&st, &list).unwrap();
    let m2 = Model::load(&g, &st, Some(cfg.to_str().unwrap())).unwrap();
    let (a, _) = run(&m, "small64");
    let (b, _) = run(&m2, "small64");
    assert_eq!(a, b, "safetensors and .pt load the same weights");
    std::fs::remove_dir_all(&dir).ok();
}

/// A wrong configuration, a missing one, truncated and corrupted checkpoints: clear errors, no panic.
#[test]
fn bad_checkpoints_and_configs_are_clear_errors() {
    let g = gpu();
    let dir = std::env::temp_dir().join(format!("tweedie-adm-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bytes = std::fs::read(fixture("adm/small32/model.pt")).unwrap();
    let err = |p: &Path, cfg: Option<&str>| -> String {
        match Model::load(&g, p, cfg) {
            Ok(_) => panic!("{} loaded", p.display()),
            Err(e) => e.to_string(),
        }
    };
    // no configuration anywhere
    let bare = dir.join("weights.pt");
    std::fs::write(&bare, &bytes).unwrap();
    let e = err(&bare, None);
    assert!(e.contains("model config") && e.contains("ffhq_10m"), "{e}");
    // the other fixture's configuration: names or shapes do not match
    let other = fixture("adm/small64/config.json");
    let e = err(&fixture("adm/small32/model.pt"), Some(other.to_str().unwrap()));
    assert!(e.contains("missing") || e.contains("shape"), "{e}");
    // a preset for a 256x256 model on small weights
    let e = err(&fixture("adm/small32/model.pt"), Some("ffhq_10m"));
    assert!(e.contains("tensor"), "{e}");
    // truncated at several points, and one byte flipped inside the weights
    let cfg = fixture("adm/small32/config.json");
    for cut in [10, bytes.len() / 3, bytes.len() - 30] {
        let p = dir.join(format!("cut{cut}.pt"));
        std::fs::write(&p, &bytes[..cut]).unwrap();
        let e = err(&p, Some(cfg.to_str().unwrap()));
        assert!(e.contains(&p.display().to_string()), "names the file: {e}");
    }
    let mut flipped = bytes.clone();
    let at = bytes.len() / 2;
    flipped[at] ^= 0x40;
    let p = dir.join("flipped.pt");
    std::fs::write(&p, &flipped).unwrap();
    let e = err(&p, Some(cfg.to_str().unwrap()));
    assert!(e.to_lowercase().contains("crc") || e.contains("corrupt"), "{e}");
    // configs that cannot be run
    for (json, want) in [
        (
            r#"{"image_size": 256, "num_channels": 128, "num_res_blocks": 1, "class_cond": true}"#,
            "class_cond",
        ),
        (
            r#"{"image_size": 48, "num_channels": 128, "num_res_blocks": 1}"#,
            "channel_mult",
        ),
        (
            r#"{"image_size": 64, "num_channels": 40, "num_res_blocks": 1, "channel_mult": "1,2"}"#,
            "multiple of 32",
        ),
        (
            r#"{"image_size": 64, "num_channels": 64, "num_res_blocks": 1, "learn_sigmaa": true}"#,
            "learn_sigmaa",
        ),
    ] {
        let e = AdmConfig::from_json(json).err().unwrap().to_string();
        assert!(e.contains(want), "{json}: {e}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// The published FFHQ configuration (DPS's `ffhq_10m.pt`, 93.6M parameters) with random weights: one
/// forward at 256x256, batch 1. Time and peak device memory are printed, not asserted; a batch whose
/// largest buffer exceeds the binding limit is refused with the numbers before anything runs.
#[test]
fn full_size_ffhq_forward_runs() {
    let g = gpu();
    let cfg = AdmConfig::preset("ffhq_10m").unwrap();
    let t0 = std::time::Instant::now();
    let m = AdmUNet::random(&g, cfg, 1).unwrap();
    let built = t0.elapsed();
    g.reset_peak();
    let x = Tensor::from_slice(&g, &[1, 3, 256, 256], &common::randn(3, 3 * 256 * 256)).unwrap();
    let t1 = std::time::Instant::now();
    let out = m.forward_t(&x, 500.0).unwrap();
    let v = out.to_vec().unwrap();
    let ran = t1.elapsed();
    assert_eq!(out.shape(), &[1, 6, 256, 256]);
    assert!(v.iter().all(|x| x.is_finite()), "finite output");
    let stats = g.pool_stats();
    println!(
        "FFHQ 256 ADM, random weights, batch 1 on {}: build {:.1} s, forward {:.1} s, peak pool {:?}",
        g.adapter_info().name,
        built.as_secs_f64(),
        ran.as_secs_f64(),
        stats
    );
    let (bytes, what) = m.largest_buffer(1, 256, 256);
    println!("largest buffer at batch 1: {what}, {} MiB", bytes >> 20);
    let huge = m.check_input(&[64, 3, 256, 256]).err().unwrap().to_string();
    assert!(huge.contains("MiB") && huge.contains("batch"), "{huge}");
}

/// DPS on a learned-variance checkpoint samples with the model's variance by default (as the official
/// code), `variance=fixed` with the DDPM posterior variance: the two runs differ, both finite; asking
/// a fixed-variance model for its learned variance is a clear error.
#[test]
fn dps_uses_the_learned_variance() {
    use tweedie::operators;
    use tweedie::solvers::{self, Problem};
    let g = gpu();
    let cfg = fixture("adm/small64/config.json");
    let m = Model::load(&g, &fixture("adm/small64/model.pt"), Some(cfg.to_str().unwrap())).unwrap();
    let spec: operators::TaskSpec = "inpaint-box".parse().unwrap();
    let op = operators::build(&g, &spec, [3, 64, 64]).unwrap();
    let truth = Tensor::from_slice(&g, &[1, 3, 64, 64], &common::randn(5, 3 * 64 * 64)).unwrap();
    let y = op.forward(&ops::clamp(&truth, -1.0, 1.0).unwrap()).unwrap();
    let p = Problem {
        model: &m,
        op: op.as_ref(),
        y: &y,
        sigma_y: 0.05,
    };
    let run = |v: &str| {
        let sets = [("variance".to_string(), v.to_string())];
        let s = solvers::create_for_task("dps", "inpaint-box", Some(4), &sets).unwrap();
        s.solve(&p, 3, &mut |_, _| {}).unwrap().to_vec().unwrap()
    };
    let (learned, auto, fixed) = (run("learned"), run("auto"), run("fixed"));
    assert!(learned.iter().chain(&fixed).all(|v| v.is_finite()));
    assert_eq!(
        learned, auto,
        "a learned-variance model samples with it by default"
    );
    let d = rel_l2(&learned, &fixed);
    assert!(d > 1e-3, "the learned variance changes the samples ({d:.2e})");

    let small = Model::load(&g, &fixture("adm/small32/model.pt"), None).unwrap();
    let p = Problem {
        model: &small,
        op: op.as_ref(),
        y: &y,
        sigma_y: 0.05,
    };
    let sets = [("variance".to_string(), "learned".to_string())];
    let s = solvers::create_for_task("dps", "inpaint-box", Some(2), &sets).unwrap();
    let e = s.start(&p, 0).err().expect("refused").to_string();
    assert!(e.contains("variance=fixed"), "{e}");
}
