//! Owned, sendable runs: a run that owns its model, operator and measurements is started on one
//! thread, moved to another, stepped and finished there, and gives the same bits as the borrowed run
//! stepped on one thread; a background run (no pacing, checks on the device) reads nothing back
//! until the host reads the result, and its flag reports a NaN where it began.

use crate::common;

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

/// Starts `solver` on the problem (σ_y = 0.05) with background options, as a web page does.
fn start_background(
    solver: &(dyn solvers::Solver + 'static),
    model: &Arc<dyn Denoiser>,
    op: &Arc<dyn Operator>,
    y: &Tensor,
    seed: u64,
) -> tweedie::Result<OwnedRun> {
    OwnedRun::start(
        solver,
        model.clone(),
        op.clone(),
        y.clone(),
        0.05,
        seed,
        RunOptions::background(),
    )
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

/// With [`RunOptions::background`] (no pacing, every step checked on the device) a whole 20-step
/// run of each solver the web page offers (DDRM, DPS, DiffPIR, RED-Diff, TDS: a page cannot block
/// on a readback mid-run) records and submits with no host readback until the host reads the
/// result ([`Gpu::readbacks`] counts them); `finish` reads once (the flag), and the result is the
/// paced, host-checked run's to the bit.
#[test]
fn background_runs_read_nothing_back_until_finish() {
    let gpu = common::gpu();
    let (model, op, y) = problem(&gpu);
    for name in ["ddrm", "dps", "diffpir", "red-diff", "tds"] {
        let solver = solvers::create(name, op.as_ref(), Some(20), &[]).unwrap();
        let p = Problem {
            model: model.as_ref(),
            op: op.as_ref(),
            y: &y,
            sigma_y: 0.05,
        };
        let want = bits(&solver.solve(&p, 7, &mut |_, _| {}).unwrap());
        let before = gpu.readbacks();
        let mut run = start_background(solver.as_ref(), &model, &op, &y, 7).unwrap();
        let mut steps = 0;
        while run.step().unwrap() {
            steps += 1;
        }
        assert_eq!(steps, 20);
        assert_eq!(gpu.readbacks(), before, "{name}: a readback before finish");
        let out = run.finish().unwrap();
        assert_eq!(gpu.readbacks(), before + 1, "{name}: finish reads the flag once");
        assert!(bits(&out) == want, "{name}: options changed the numbers");
    }
}

/// `finish_deferred` (what a web page uses) records the rest of the run and starts the flag's
/// readback without waiting; polled once a "frame" or awaited, it gives the blocking `finish`'s
/// bits, and the TDS spread with them; on NaN measurements it fails with the flag's error.
#[test]
fn deferred_finish_gives_the_blocking_result_without_waiting() {
    let gpu = common::gpu();
    let (model, op, y) = problem(&gpu);
    for name in ["ddrm", "tds"] {
        let solver = solvers::create(name, op.as_ref(), Some(10), &[]).unwrap();
        let start = || start_background(solver.as_ref(), &model, &op, &y, 3).unwrap();
        let (want, want_std) = start().finish_with_std().unwrap();
        let before = gpu.readbacks();
        let mut run = start();
        run.step().unwrap();
        let mut f = run.finish_deferred().unwrap();
        assert_eq!(
            gpu.readbacks(),
            before + 1,
            "{name}: the flag's readback, started"
        );
        let (out, std) = loop {
            if let Some(r) = f.poll() {
                break r.unwrap();
            }
            std::thread::yield_now();
        };
        assert!(bits(&out) == bits(&want), "{name}: polled result differs");
        assert_eq!(std.is_some(), want_std.is_some(), "{name}: the spread");
        assert!(f.poll().unwrap().is_err(), "{name}: a second take is an error");
        let (out, _) = pollster::block_on(start().finish_deferred().unwrap()).unwrap();
        assert!(bits(&out) == bits(&want), "{name}: awaited result differs");
    }
    let mut v = y.to_vec().unwrap();
    v[100] = f32::NAN;
    let bad = Tensor::from_slice(&gpu, y.shape(), &v).unwrap();
    let solver = solvers::create("ddrm", op.as_ref(), Some(5), &[]).unwrap();
    let run = OwnedRun::start(solver.as_ref(), model, op, bad, 0.05, 7, RunOptions::background()).unwrap();
    let e = pollster::block_on(run.finish_deferred().unwrap()).expect_err("a flagged run fails");
    assert!(e.to_string().contains("measurements"), "{e}");
}

/// Polls a readback as a render loop would, once a "frame", until it is done.
fn poll_until_done(mut r: tweedie::gpu::Readback) -> Vec<f32> {
    for _ in 0..100_000 {
        if let Some(v) = r.poll() {
            return v.unwrap();
        }
        std::thread::yield_now();
    }
    panic!("a readback never completed");
}

/// NaN in the measurements of a background run: nothing is read back while it runs, the device
/// flag holds the first failure (the measurements, code 1), read asynchronously it names them, and
/// `finish` fails with that error rather than return a picture. Checks on the host (the default
/// options) refuse the same measurements at the start.
#[test]
fn a_nan_is_flagged_on_the_device_and_reported_where_it_began() {
    let gpu = common::gpu();
    let (model, op, y) = problem(&gpu);
    let mut v = y.to_vec().unwrap();
    v[100] = f32::NAN;
    let bad = Tensor::from_slice(&gpu, y.shape(), &v).unwrap();
    let solver = solvers::create("ddrm", op.as_ref(), Some(5), &[]).unwrap();
    let e = OwnedRun::start(
        solver.as_ref(),
        model.clone(),
        op.clone(),
        bad.clone(),
        0.05,
        7,
        RunOptions::default(),
    )
    .err()
    .expect("host checks refuse NaN measurements at the start");
    assert!(e.to_string().contains("non-finite"), "{e}");

    let before = gpu.readbacks();
    let mut run =
        OwnedRun::start(solver.as_ref(), model, op, bad, 0.05, 7, RunOptions::background()).unwrap();
    while run.step().unwrap() {}
    assert_eq!(gpu.readbacks(), before, "a readback before the host asked");
    let flag = poll_until_done(run.flag().unwrap().read_async().unwrap());
    assert_eq!(
        flag,
        vec![1.0],
        "the flag keeps the first failure: the measurements"
    );
    let said = run.flag_error(flag[0]).to_string();
    assert!(said.contains("measurements"), "{said}");
    let e = run.finish().expect_err("finish fails on a flagged run");
    assert_eq!(e.to_string(), said);
}

/// `read_async` gives what `to_vec` gives, through the future as well as by polling.
#[test]
fn async_readbacks_match_blocking_ones() {
    let gpu = common::gpu();
    let vals = common::randn(5, 1000);
    let t = tweedie::ops::scale(&Tensor::from_slice(&gpu, &[1000], &vals).unwrap(), 3.0).unwrap();
    let want = t.to_vec().unwrap();
    assert_eq!(poll_until_done(t.read_async().unwrap()), want);
    assert_eq!(pollster::block_on(t.read_async().unwrap()).unwrap(), want);
}

/// What the web page does to start a restoration (a page cannot block on a readback): build the
/// operator of each task it offers, degrade, take the observation's picture and the trivial
/// estimate, and start each of its solvers with background options, all without a host readback.
#[test]
fn starting_the_web_pages_restorations_reads_nothing_back() {
    let gpu = common::gpu();
    let (model, _, _) = problem(&gpu);
    let x = Tensor::from_slice(&gpu, &[1, 1, 32, 32], &common::randn(4, 1024)).unwrap();
    for task in [
        "inpaint-box",
        "inpaint-random:p=0.7",
        "sr:factor=4",
        "deblur-gauss",
    ] {
        for name in ["ddrm", "dps", "diffpir", "red-diff", "tds"] {
            let before = gpu.readbacks();
            let mut at = Vec::new();
            let mut mark = |what: &str| at.push((what.to_string(), gpu.readbacks() - before));
            let spec: TaskSpec = task.parse().unwrap();
            let op: Arc<dyn Operator> = Arc::from(operators::build(&gpu, &spec, [1, 32, 32]).unwrap());
            mark("operator");
            let y = operators::add_noise(&op.forward(&x).unwrap(), 0.05, 0).unwrap();
            mark("degrade");
            let solver = solvers::create(name, op.as_ref(), Some(20), &[]).unwrap();
            mark("solver");
            op.observation_image(&y).unwrap();
            op.trivial(&y).unwrap();
            mark("observation");
            solvers::trivial_estimate(model.as_ref(), op.as_ref(), &y).unwrap();
            mark("trivial estimate");
            let mut run = start_background(solver.as_ref(), &model, &op, &y, 0).unwrap();
            mark("start");
            run.step().unwrap();
            mark("a step");
            assert!(at.iter().all(|(_, n)| *n == 0), "{task} {name}: readbacks {at:?}");
        }
    }
}

/// Every registered solver that runs box inpainting steps with background options without a host
/// readback (a web page cannot wait for one mid-run), at its fewest steps; and starts without one,
/// except SMCDiff, which reads A·1 back once at its start to check that the operator is a 0/1 mask
/// (a page gets a clear error for it: the web page does not offer SMCDiff).
#[test]
fn no_solver_reads_back_mid_run() {
    let gpu = common::gpu();
    let (model, op, y) = problem(&gpu);
    let (mut at_start, mut mid_run) = (Vec::new(), Vec::new());
    for name in solvers::names() {
        let steps = solvers::min_steps(name).unwrap_or(1).max(2);
        let Ok(solver) = solvers::create(name, op.as_ref(), Some(steps), &[]) else {
            continue; // not for inpainting (blind deblurring, ILVR)
        };
        let before = gpu.readbacks();
        let Ok(mut run) = start_background(solver.as_ref(), &model, &op, &y, 1) else {
            continue;
        };
        if gpu.readbacks() > before {
            at_start.push(name);
        }
        let before = gpu.readbacks();
        while run.step().unwrap() {}
        if gpu.readbacks() > before {
            mid_run.push(name);
        }
    }
    assert!(mid_run.is_empty(), "solvers that read back mid-run: {mid_run:?}");
    assert_eq!(at_start, ["smcdiff"], "solvers that read back at their start");
}
