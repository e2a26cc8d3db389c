//! Fuzzing of what a user hands the engine as files and strings: the model loader (config.json and
//! safetensors), and task specs. Each run mutates committed inputs 100,000 times per parser (random
//! byte flips weighted toward the headers, truncations, header lengths, dtypes, shapes and offsets
//! rewritten, JSON values swapped for hostile ones) from a fixed seed, so a failure repeats. Every
//! mutant must give `Ok` or a clear `Err`: no panic, no hang (a watchdog aborts after 20 s without
//! progress), and no allocation driven by what the file claims rather than what it holds: the peak
//! heap growth while parsing is bounded by a small multiple of the input's own size (f16 and bf16
//! widen to f32, so a safetensors file may take twice its size, plus the parsed header).
//! 2,000 mutants of a whole model folder also go through `UNet2DModel::load` on the device.

mod common;
use common::fixture;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Counts the heap bytes of the current thread (the parsers are single-threaded).
struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn add(n: isize) {
    let _ = LIVE.try_with(|l| {
        let v = l.get() + n;
        l.set(v);
        let _ = PEAK.try_with(|p| {
            if v > p.get() {
                p.set(v)
            }
        });
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        add(l.size() as isize);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        add(-(l.size() as isize));
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        add(l.size() as isize);
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        add(new as isize - l.size() as isize);
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Runs `f` and returns its result with the peak heap growth of this thread during it.
fn measured<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.with(|l| l.get());
    PEAK.with(|p| p.set(base));
    let out = f();
    let peak = PEAK.with(|p| p.get());
    (out, (peak - base).max(0) as usize)
}

/// splitmix64: a small seeded generator, so that every run mutates the same way.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

const N: usize = 100_000;

/// Aborts the process when `progress` stops moving for 20 s, naming the case it stopped at.
fn watchdog(what: &'static str, progress: Arc<AtomicU64>) -> Arc<AtomicU64> {
    let done = Arc::new(AtomicU64::new(0));
    let d = done.clone();
    std::thread::spawn(move || {
        let mut last = u64::MAX;
        let mut since = Instant::now();
        while d.load(Ordering::Relaxed) == 0 {
            std::thread::sleep(Duration::from_millis(200));
            let p = progress.load(Ordering::Relaxed);
            if p != last {
                last = p;
                since = Instant::now();
            } else if since.elapsed() > Duration::from_secs(20) {
                eprintln!("{what}: case {p} hangs (no progress for 20 s)");
                std::process::abort();
            }
        }
    });
    done
}

/// Runs `n` cases of `case(rng, i) -> (input size, peak bytes)` under the watchdog, with panics
/// caught and reported with the case number.
fn fuzz(
    what: &'static str,
    n: usize,
    seed: u64,
    limit: impl Fn(usize) -> usize,
    mut case: impl FnMut(&mut Rng) -> (usize, usize),
) {
    let progress = Arc::new(AtomicU64::new(0));
    let done = watchdog(what, progress.clone());
    let mut rng = Rng(seed);
    let mut worst = (0usize, 0usize, 0usize);
    std::panic::set_hook(Box::new(|_| {}));
    for i in 0..n {
        progress.store(i as u64, Ordering::Relaxed);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| case(&mut rng)));
        let (size, peak) = match r {
            Ok(v) => v,
            Err(e) => {
                let _ = std::panic::take_hook();
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                panic!("{what}: case {i} (seed {seed}) panicked: {msg}");
            }
        };
        if peak > limit(size) {
            let _ = std::panic::take_hook();
            panic!("{what}: case {i} (seed {seed}) allocated {peak} bytes for an input of {size} bytes");
        }
        if peak > worst.1 {
            worst = (size, peak, i);
        }
    }
    let _ = std::panic::take_hook();
    done.store(1, Ordering::Relaxed);
    eprintln!(
        "{what}: {n} mutants, largest heap growth {} bytes (input of {} bytes, case {})",
        worst.1, worst.0, worst.2
    );
}

/// A raw mutation of `base`: flips, truncation, insertion, deletion or a rewritten length prefix.
fn mutate_bytes(rng: &mut Rng, base: &[u8], header: usize) -> Vec<u8> {
    let mut b = base.to_vec();
    for _ in 0..1 + rng.below(4) {
        match rng.below(7) {
            0 | 1 => {
                // flips, mostly in the header
                let span = if rng.below(4) > 0 {
                    header.min(b.len())
                } else {
                    b.len()
                };
                if span > 0 {
                    let i = rng.below(span);
                    b[i] ^= 1 << rng.below(8);
                }
            }
            2 => {
                let n = rng.below(b.len() + 1);
                b.truncate(n);
            }
            3 => {
                let i = rng.below(b.len() + 1);
                let v = rng.next() as u8;
                b.insert(i, v);
            }
            4 if !b.is_empty() => {
                let i = rng.below(b.len());
                b.remove(i);
            }
            5 if b.len() >= 8 => {
                // the 8-byte little-endian header length
                let v: u64 = match rng.below(5) {
                    0 => rng.next(),
                    1 => u64::MAX,
                    2 => (b.len() as u64).saturating_sub(rng.below(16) as u64),
                    3 => rng.below(1 << 20) as u64,
                    _ => 0,
                };
                b[..8].copy_from_slice(&v.to_le_bytes());
            }
            _ => {
                let i = rng.below(b.len().max(1));
                if i < b.len() {
                    b[i] = *rng.pick(b"{}[]\",:0123456789-eE.");
                }
            }
        }
    }
    b
}

/// Hostile JSON values.
fn wild_value(rng: &mut Rng) -> serde_json::Value {
    use serde_json::json;
    match rng.below(16) {
        0 => json!(null),
        1 => json!(-1),
        2 => json!(0),
        3 => json!(u64::MAX),
        4 => json!(4294967296u64),
        5 => json!(1e308),
        6 => json!(-0.5),
        7 => json!("UNet2DModel"),
        8 => json!(""),
        9 => json!([0, 0]),
        10 => json!([1_000_000_000u64, 3]),
        11 => json!(["DownBlock2D"]),
        12 => json!({"a": 1}),
        13 => json!(true),
        14 => json!(rng.below(70)),
        _ => json!([rng.below(40), rng.below(40), rng.below(40)]),
    }
}

/// A structural mutation of a JSON object: values replaced, keys removed or added.
fn mutate_json(rng: &mut Rng, base: &serde_json::Value) -> String {
    let mut v = base.clone();
    if let Some(obj) = v.as_object_mut() {
        for _ in 0..1 + rng.below(3) {
            let keys: Vec<String> = obj.keys().cloned().collect();
            match rng.below(4) {
                0 if !keys.is_empty() => {
                    obj.remove(rng.pick(&keys));
                }
                1 => {
                    obj.insert(format!("k{}", rng.below(9)), wild_value(rng));
                }
                _ if !keys.is_empty() => {
                    let k = rng.pick(&keys).clone();
                    let w = wild_value(rng);
                    obj.insert(k, w);
                }
                _ => {}
            }
        }
    }
    v.to_string()
}

fn configs() -> Vec<String> {
    ["attn_heads", "multi_attn", "odd_cifarlike"]
        .iter()
        .map(|d| std::fs::read_to_string(fixture(&format!("{d}/config.json"))).unwrap())
        .chain(std::iter::once(
            std::fs::read_to_string(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("weights/fmnist32/config.json"),
            )
            .unwrap(),
        ))
        .collect()
}

#[test]
fn the_config_parser_survives_100k_mutants() {
    let texts = configs();
    let parsed: Vec<serde_json::Value> = texts.iter().map(|t| serde_json::from_str(t).unwrap()).collect();
    for t in &texts {
        tweedie::models::UNet2DConfig::from_json(t).unwrap();
    }
    let mut errors = 0usize;
    fuzz(
        "config.json",
        N,
        1,
        |size| 64 * size + (64 << 10),
        |rng| {
            let k = rng.below(texts.len());
            let text = if rng.below(2) == 0 {
                mutate_json(rng, &parsed[k])
            } else {
                String::from_utf8_lossy(&mutate_bytes(rng, texts[k].as_bytes(), texts[k].len())).into_owned()
            };
            let (r, peak) = measured(|| tweedie::models::UNet2DConfig::from_json(&text));
            if let Err(e) = r {
                errors += 1;
                let m = e.to_string();
                assert!(!m.is_empty() && !m.contains('\n'), "{m}");
            }
            (text.len(), peak)
        },
    );
    assert!(
        errors > N / 2,
        "only {errors} of {N} mutants refused: the mutations are too mild"
    );
}

/// A small safetensors file with every dtype the loader reads and one it refuses.
fn small_safetensors() -> Vec<u8> {
    use safetensors::Dtype;
    use safetensors::tensor::TensorView;
    let f32s: Vec<u8> = (0..24)
        .flat_map(|i| (i as f32 * 0.25 - 2.0).to_le_bytes())
        .collect();
    let f16s: Vec<u8> = (0..16)
        .flat_map(|i| half::f16::from_f32(i as f32 * 0.5).to_le_bytes())
        .collect();
    let bf16s: Vec<u8> = (0..12)
        .flat_map(|i| half::bf16::from_f32(i as f32 - 3.0).to_le_bytes())
        .collect();
    let f64s: Vec<u8> = (0..6).flat_map(|i| (i as f64 / 7.0).to_le_bytes()).collect();
    let views = vec![
        (
            "a.weight",
            TensorView::new(Dtype::F32, vec![2, 3, 4], &f32s).unwrap(),
        ),
        ("b.bias", TensorView::new(Dtype::F16, vec![16], &f16s).unwrap()),
        ("c", TensorView::new(Dtype::BF16, vec![3, 4], &bf16s).unwrap()),
        ("d", TensorView::new(Dtype::F64, vec![6], &f64s).unwrap()),
    ];
    safetensors::serialize(views, None).unwrap()
}

/// Rewrites one dtype, shape or offset in the JSON header of a safetensors file.
fn mutate_header(rng: &mut Rng, base: &[u8]) -> Vec<u8> {
    let n = u64::from_le_bytes(base[..8].try_into().unwrap()) as usize;
    let mut header: serde_json::Value = serde_json::from_slice(&base[8..8 + n]).unwrap();
    let names: Vec<String> = header
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| !k.starts_with("__"))
        .cloned()
        .collect();
    let name = rng.pick(&names).clone();
    let t = header.get_mut(&name).unwrap();
    use serde_json::json;
    match rng.below(3) {
        0 => {
            t["dtype"] = json!(*rng.pick(&[
                "F32", "F16", "BF16", "F64", "I8", "U8", "BOOL", "F8_E4M3", "I64", "XX", ""
            ]))
        }
        1 => {
            t["shape"] = match rng.below(5) {
                0 => json!([u64::MAX, 2]),
                1 => json!([4294967296u64, 4294967296u64]),
                2 => json!([]),
                3 => json!([0]),
                _ => json!([rng.below(64), rng.below(64)]),
            }
        }
        _ => {
            let end = rng.below(base.len() * 2) as u64;
            t["data_offsets"] = match rng.below(3) {
                0 => json!([0, u64::MAX]),
                1 => json!([end, end / 2]),
                _ => json!([0, end]),
            }
        }
    }
    let h = header.to_string().into_bytes();
    let mut out = (h.len() as u64).to_le_bytes().to_vec();
    out.extend(h);
    out.extend(&base[8 + n..]);
    out
}

#[test]
fn the_safetensors_reader_survives_100k_mutants() {
    let small = small_safetensors();
    let io = std::fs::read(fixture("fmnist32_io.safetensors")).unwrap();
    assert_eq!(tweedie::io::parse_safetensors(&small).unwrap().len(), 4);
    let mut errors = 0usize;
    fuzz(
        "safetensors",
        N,
        2,
        |size| 4 * size + (64 << 10),
        |rng| {
            // mostly the small file (fast), sometimes a real fixture
            let base: &[u8] = if rng.below(50) == 0 { &io } else { &small };
            let hl = 8 + u64::from_le_bytes(base[..8].try_into().unwrap()) as usize;
            let bytes = if rng.below(3) == 0 {
                mutate_header(rng, base)
            } else {
                mutate_bytes(rng, base, hl)
            };
            let (r, peak) = measured(|| tweedie::io::parse_safetensors(&bytes));
            if let Err(e) = r {
                errors += 1;
                let m = e.to_string();
                assert!(!m.is_empty() && !m.contains('\n'), "{m}");
            }
            (bytes.len(), peak)
        },
    );
    assert!(
        errors > N / 2,
        "only {errors} of {N} mutants refused: the mutations are too mild"
    );
}

#[test]
fn task_specs_survive_100k_mutants() {
    let names: Vec<&str> = tweedie::operators::TASKS
        .iter()
        .map(|t| t.name)
        .filter(|n| *n != "inpaint-mask") // reads a file: covered by the CLI tests
        .chain(["", "sr ", "SR", "deblur", "inpaint-box:", "::", "cs:cs"])
        .collect();
    let keys = [
        "factor",
        "size",
        "sigma",
        "p",
        "seed",
        "x",
        "y",
        "w",
        "h",
        "ratio",
        "intensity",
        "",
        "path",
        "factor ",
    ];
    let values = [
        "4",
        "2",
        "0",
        "-1",
        "-2",
        "1",
        "3",
        "9",
        "8",
        "0.5",
        "1.5",
        "nan",
        "NaN",
        "inf",
        "-inf",
        "1e308",
        "1e-308",
        "18446744073709551615",
        "18446744073709551616",
        "4294967297",
        "",
        " ",
        "0x10",
        "1_000",
        "+3",
        "٣",
        "9999999999",
    ];
    let shapes = [[1, 32, 32], [3, 16, 16], [1, 8, 8], [3, 64, 32], [1, 1, 1]];
    let mut accepted = 0usize;
    fuzz(
        "task spec",
        N,
        3,
        |_| 64 << 10 | (4 * 64 * 32 * 4),
        |rng| {
            let mut s = rng.pick(&names).to_string();
            let n = rng.below(4);
            for j in 0..n {
                s.push(if j == 0 && !s.contains(':') {
                    ':'
                } else {
                    *rng.pick(&[',', ',', ',', ';', ':'])
                });
                match rng.below(8) {
                    0 => s.push_str(rng.pick::<&str>(&keys)),
                    1 => s.push_str(rng.pick::<&str>(&values)),
                    _ => {
                        s.push_str(rng.pick::<&str>(&keys));
                        s.push('=');
                        s.push_str(rng.pick::<&str>(&values));
                    }
                }
            }
            if rng.below(10) == 0 {
                let mut b = s.into_bytes();
                let m = mutate_bytes(rng, &b, b.len());
                b = m;
                s = String::from_utf8_lossy(&b).into_owned();
            }
            let shape = *rng.pick(&shapes);
            let (r, peak) = measured(|| {
                s.parse::<tweedie::operators::TaskSpec>()
                    .and_then(|spec| tweedie::operators::resolve(&spec, shape))
            });
            match r {
                Ok(_) => accepted += 1,
                Err(e) => {
                    let m = e.to_string();
                    assert!(!m.is_empty() && !m.contains('\n'), "{m}");
                }
            }
            (s.len(), peak)
        },
    );
    assert!(
        accepted > 100,
        "only {accepted} specs accepted: the generator is too wild"
    );
}

/// Whole model folders, mutated, through `UNet2DModel::load` on the device: the config's values and
/// the weights' header, so that a config that parses but does not match its weights (or asks for
/// absurd sizes) is refused before anything is built for it.
#[test]
fn the_model_loader_survives_mutated_folders() {
    let gpu = common::gpu();
    let src = fixture("odd_cifarlike");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(src.join("config.json")).unwrap()).unwrap();
    let weights = std::fs::read(src.join("diffusion_pytorch_model.safetensors")).unwrap();
    let hl = 8 + u64::from_le_bytes(weights[..8].try_into().unwrap()) as usize;
    let dir = std::env::temp_dir().join(format!("tweedie-fuzz-model-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut loaded = 0usize;
    fuzz(
        "model folder",
        2000,
        4,
        |_| usize::MAX,
        |rng| {
            let (text, bytes) = match rng.below(3) {
                0 => (config.to_string(), mutate_header(rng, &weights)),
                1 => (config.to_string(), mutate_bytes(rng, &weights, hl)),
                _ => (mutate_json(rng, &config), weights.clone()),
            };
            std::fs::write(dir.join("config.json"), &text).unwrap();
            std::fs::write(dir.join("diffusion_pytorch_model.safetensors"), &bytes).unwrap();
            match tweedie::models::UNet2DModel::load(&gpu, &dir) {
                Ok(_) => loaded += 1,
                Err(e) => {
                    let m = e.to_string();
                    assert!(!m.is_empty() && !m.contains('\n'), "{m}");
                }
            }
            (bytes.len(), 0)
        },
    );
    eprintln!("model folder: {loaded} of 2000 mutants loaded");
}
