//! `tweedie eval`: a small sweep writes complete, parseable outputs, and a run interrupted (rows
//! lost, a line cut) and restarted with the same folder computes only what is missing and ends with
//! the same results.

use std::path::Path;
use tweedie::eval::{self, EvalSpec, read_results};
use tweedie::models::UNet2DModel;

mod common;

#[test]
fn eval_writes_parseable_outputs_and_resumes_after_an_interruption() {
    let g = common::gpu();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = UNet2DModel::load(&g, &root.join("weights/fmnist32")).unwrap();
    let out = std::env::temp_dir().join(format!("tweedie-eval-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let spec = EvalSpec {
        images: (0..2)
            .map(|i| root.join(format!("tests/data/fmnist_test_{i:05}.png")))
            .collect(),
        tasks: eval::split_tasks("inpaint-box:x=8,y=8,w=16,h=16,deblur-gauss"),
        solvers: vec!["ddrm".into(), "dps".into()],
        steps: vec![2, 3],
        seeds: 1,
        sigma_y: 0.05,
        sets: vec![],
        batch: 8,
        out: out.clone(),
    };
    assert_eq!(spec.tasks, vec!["inpaint-box:x=8,y=8,w=16,h=16", "deblur-gauss"]);
    let mut steps = 0;
    let rows = eval::run(&model, &spec, &mut |_, _, _| steps += 1).unwrap();
    // 2 tasks × (trivial + 2 solvers × 2 step counts) × 2 images
    assert_eq!(rows.len(), 2 * 5 * 2);
    assert_eq!(steps, 2 * 2 * (2 + 3), "one progress call per solver step");
    let csv = out.join("results.csv");
    let parsed = read_results(&csv).unwrap();
    assert_eq!(parsed.len(), rows.len());
    assert!(
        parsed
            .iter()
            .all(|r| r.psnr.is_finite() && r.ssim.is_finite() && !r.device.is_empty())
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(json["rows"].as_array().unwrap().len(), rows.len());
    assert_eq!(json["means"].as_array().unwrap().len(), 10);
    let md = std::fs::read_to_string(out.join("table.md")).unwrap();
    assert!(md.contains("| deblur-gauss | ddrm |") && md.contains("2 steps"));
    assert!(out.join("psnr_0_inpaint-box.png").is_file() && out.join("psnr_1_deblur-gauss.png").is_file());
    image::open(out.join("psnr_1_deblur-gauss.png")).unwrap();

    // an interruption: the last DPS run's rows are lost and a line is cut in half
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let keep = lines.len() - 2;
    let mut cut = lines[..keep].join("\n");
    cut.push('\n');
    cut.push_str(&lines[keep][..20]);
    std::fs::write(&csv, cut).unwrap();
    let mut again = 0;
    let rows2 = eval::run(&model, &spec, &mut |_, _, _| again += 1).unwrap();
    assert_eq!(
        again, 3,
        "only the lost DPS run (3 steps, one batch) is computed again"
    );
    let key = |r: &eval::Row| (r.task.clone(), r.solver.clone(), r.steps, r.image.clone());
    let mut a: Vec<_> = rows.iter().map(|r| (key(r), r.psnr)).collect();
    let mut b: Vec<_> = rows2.iter().map(|r| (key(r), r.psnr)).collect();
    a.sort_by(|x, y| x.0.cmp(&y.0));
    b.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(a, b, "the resumed sweep ends with the same results");
    // and a complete folder computes nothing
    let mut none = 0;
    eval::run(&model, &spec, &mut |_, _, _| none += 1).unwrap();
    assert_eq!(none, 0);
    let _ = std::fs::remove_dir_all(&out);
}
