//! Owned, sendable runs (issue #31): a run that owns its model, operator and measurements is started
//! on one thread, moved to another, stepped and finished there, and gives the same bits as the
//! borrowed run stepped on one thread; a run without pacing and checks reads nothing back until the
//! host reads the result. Public API only.

mod common;

use std::sync::Arc;
use tweedie::diffusion::Denoiser;
use tweedie::models::UNet2DModel;
use tweedie::operators::{self, Operator, TaskSpec};
use tweedie::solvers::{self, OwnedRun, Problem, Run, RunOptions};
use tweedie::{Gpu, Tensor};

fn assert_send<T: Send>() {}

#[test]
fn runs_are_send() {
    assert_send::<OwnedRun>();
    assert_send::<Run<'static>>();
    assert_send::<Box<dyn solvers::Solver>>();
    assert_send::<Arc<dyn Denoiser>>();
    assert_send::<Arc<dyn Operator>>();
    assert_send::<Tensor>();
    assert_send::<Gpu>();
}

/// The bundled fmnist32 prior, box inpainting of the first test image with σ_y = 0.05.
fn problem(gpu: &Gpu) -> (Arc<dyn Denoiser>, Arc<dyn Operator>, Tensor) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = UNet2DModel::load(gpu, &root.join("weights/fmnist32")).unwrap();
    let truth = image::open(root.join("tests/data/fmnist_test_00000.png"))
        .unwrap()
        .to_luma8();
    let x: Vec<f32> = truth.pixels().map(|p| p[0] as f32 / 127.5 - 1.0).collect();
    let x = Tensor::from_slice(gpu, &[1, 1, 32, 32], &x).unwrap();
    let spec: TaskSpec = "inpaint-box".parse().unwrap();
    let op = operators::build(gpu, &spec, [1, 32, 32]).unwrap();
    let y = operators::add_noise(&op.forward(&x).unwrap(), 0.05, 1).unwrap();
    (Arc::new(model), Arc::from(op), y)
}

fn bits(t: &Tensor) -> Vec<u32> {
    t.to_vec().unwrap().iter().map(|v| v.to_bits()).collect()
}

#[test]
fn a_dps_run_started_on_one_thread_finishes_on_another_with_the_same_bits() {
    let gpu = common::gpu();
    let (model, op, y) = problem(&gpu);
    let solver = solvers::create("dps", op.as_ref(), Some(20), &[]).unwrap();

    // the borrowed route, on this thread
    let p = Problem {
        model: model.as_ref(),
        op: op.as_ref(),
        y: &y,
        sigma_y: 0.05,
    };
    let mut run = solver.start(&p, 7).unwrap();
    while run.step().unwrap() {}
    let want = bits(&run.finish().unwrap());

    // the owned route: started here, a few steps here, the rest and the finish on a worker thread
    let mut owned = OwnedRun::start(
        solver.as_ref(),
        model.clone(),
        op.clone(),
        y.clone(),
        0.05,
        7,
        RunOptions::default(),
    )
    .unwrap();
    drop((model, op, y)); // the run keeps what it needs
    for _ in 0..3 {
        assert!(owned.step().unwrap());
    }
    let worker = std::thread::spawn(move || {
        while owned.step().unwrap() {
            assert!(owned.estimate().is_some());
        }
        assert_eq!((owned.done(), owned.steps()), (20, 20));
        owned.finish().unwrap()
    });
    let got = bits(&worker.join().unwrap());
    assert_eq!(got.len(), 32 * 32);
    assert!(
        got == want,
        "the owned run on another thread differs from the borrowed run"
    );
}

/// With `pace: false, check_every: None` a whole 20-step DDRM and DPS run records and submits with
/// no host readback until the host reads the result ([`Gpu::readbacks`] counts them); `finish`
/// reads (its NaN check), and the result is the paced, checked run's to the bit.
#[test]
fn unpaced_unchecked_runs_read_nothing_back_until_finish() {
    let gpu = common::gpu();
    let (model, op, y) = problem(&gpu);
    let quiet = RunOptions {
        pace: false,
        check_every: None,
    };
    for name in ["ddrm", "dps"] {
        let solver = solvers::create(name, op.as_ref(), Some(20), &[]).unwrap();
        let p = Problem {
            model: model.as_ref(),
            op: op.as_ref(),
            y: &y,
            sigma_y: 0.05,
        };
        let want = bits(&solver.solve(&p, 7, &mut |_, _| {}).unwrap());
        let before = gpu.readbacks();
        let mut run = OwnedRun::start(
            solver.as_ref(),
            model.clone(),
            op.clone(),
            y.clone(),
            0.05,
            7,
            quiet,
        )
        .unwrap();
        let mut steps = 0;
        while run.step().unwrap() {
            steps += 1;
        }
        assert_eq!(steps, 20);
        assert_eq!(gpu.readbacks(), before, "{name}: a readback before finish");
        let out = run.finish().unwrap();
        assert!(gpu.readbacks() > before, "{name}: finish checks the result");
        assert!(bits(&out) == want, "{name}: options changed the numbers");
    }
}
