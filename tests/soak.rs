//! A soak test: 1,000 DPS steps (a UNet forward and VJP each) on the `tiny` fixture model, the way an
//! unattended restoration runs for hours. After a 50-step warm-up the device buffer pool creates no
//! new buffers and holds the same bytes; the Rust heap and the process's resident memory (where
//! driver-side leaks show) are sampled every 25 steps, and the peak of the second half of the run
//! may not exceed the peak of the first half by more than a small slack. A second run with the same
//! seed gives the same bits. One test in this binary: the heap counter is process-wide.

mod common;
use common::{fixture, gpu};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use tweedie::Tensor;
use tweedie::models::UNet2DModel;
use tweedie::operators::{self, TaskSpec};
use tweedie::solvers::{self, Problem};

struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new as isize - l.size() as isize, Ordering::Relaxed);
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Resident memory of the process in bytes (Linux; 0 elsewhere).
fn rss() -> isize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|v| v.parse::<isize>().ok()))
        .map_or(0, |pages| pages * 4096)
}

const STEPS: usize = 1000;
const WARMUP: usize = 50;
const EVERY: usize = 25;
/// The steps compared bit for bit with a second run.
const REPEAT: usize = 100;

#[test]
fn a_thousand_steps_keep_memory_flat_and_repeat_bit_for_bit() {
    let g = gpu();
    let model = UNet2DModel::load(&g, &fixture("tiny")).unwrap();
    let x_shape = [1, 8, 8];
    let spec: TaskSpec = "inpaint-box".parse().unwrap();
    let op = operators::build(&g, &spec, x_shape).unwrap();
    let x: Vec<f32> = common::randn(5, 8 * 8)
        .iter()
        .map(|v| v.clamp(-1.0, 1.0))
        .collect();
    let x = Tensor::from_slice(&g, &[1, 1, 8, 8], &x).unwrap();
    let y = operators::add_noise(&op.forward(&x).unwrap(), 0.05, 1).unwrap();
    let p = Problem {
        model: &model,
        op: op.as_ref(),
        y: &y,
        sigma_y: 0.05,
    };
    let dps = solvers::create_for_task("dps", "inpaint-box", Some(STEPS), &[]).unwrap();

    let mut run = dps.start(&p, 11).unwrap();
    let mut pool0 = None;
    let mut at_repeat = Vec::new();
    let mut samples: Vec<(usize, isize, isize)> = Vec::new();
    while run.step().unwrap() {
        let i = run.done();
        if i == WARMUP {
            g.synchronize().unwrap();
            pool0 = Some(g.pool_stats());
        }
        if i == REPEAT {
            at_repeat = run.sample().to_vec().unwrap();
        }
        if i >= WARMUP && i.is_multiple_of(EVERY) {
            g.synchronize().unwrap();
            samples.push((i, LIVE.load(Ordering::Relaxed), rss()));
        }
    }
    let pool0 = pool0.unwrap();
    let pool1 = g.pool_stats();
    let half = (WARMUP + STEPS) / 2;
    let peak = |first: bool, f: fn(&(usize, isize, isize)) -> isize| {
        samples
            .iter()
            .filter(|s| (s.0 <= half) == first)
            .map(f)
            .max()
            .unwrap()
    };
    let (heap_a, heap_b) = (peak(true, |s| s.1), peak(false, |s| s.1));
    let (rss_a, rss_b) = (peak(true, |s| s.2), peak(false, |s| s.2));
    eprintln!(
        "pool after {WARMUP} steps: {} buffers created, {} B in use; after {STEPS}: {} buffers, {} B in use",
        pool0.allocations, pool0.bytes_in_use, pool1.allocations, pool1.bytes_in_use
    );
    eprintln!(
        "peak heap {heap_a} B in steps {WARMUP}..{half}, {heap_b} B in {half}..{STEPS}; peak rss {} / {} KiB",
        rss_a >> 10,
        rss_b >> 10
    );
    assert_eq!(
        pool1.allocations, pool0.allocations,
        "the pool created buffers after the warm-up"
    );
    assert_eq!(
        pool1.bytes_in_use, pool0.bytes_in_use,
        "device memory in use grew"
    );
    // wgpu's own bookkeeping saws up and down: about 300 bytes a submission, given back every
    // ~1,000 submissions (measured with one `add` a step), so the heap's peak may move by that much
    // between the halves. A leaked tensor handle per op (hundreds of ops a step, 950 steps) would
    // grow it by megabytes; the bound catches any leak above ~550 bytes a step.
    assert!(
        heap_b - heap_a < 512 << 10,
        "the heap's peak grew by {} bytes between the halves of the run",
        heap_b - heap_a
    );
    assert!(
        rss_b - rss_a < 8 << 20,
        "resident memory's peak grew by {} KiB between the halves of the run",
        (rss_b - rss_a) >> 10
    );
    run.finish().unwrap();

    let mut again = dps.start(&p, 11).unwrap();
    for _ in 0..REPEAT {
        again.step().unwrap();
    }
    let b = again.sample().to_vec().unwrap();
    let same = at_repeat.iter().zip(&b).all(|(u, v)| u.to_bits() == v.to_bits());
    assert!(same, "two runs with the same seed differ after {REPEAT} steps");
}
