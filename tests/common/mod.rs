//! Helpers shared by the integration tests.
#![allow(dead_code)]

use tweedie::Gpu;

/// The device the tests run on (lavapipe on CI), with the kernel path and subgroup setting of
/// `TWEEDIE_KERNELS` / `TWEEDIE_SUBGROUPS` (CI runs the kernel, gradient, golden and solver tests on
/// each path). Fails with the engine's own message when none.
pub fn gpu() -> Gpu {
    match Gpu::with_options(&options()) {
        Ok(g) => g,
        Err(e) => panic!("tests need a GPU adapter (on CI: lavapipe): {e}"),
    }
}

/// The options the tests open devices with: the environment's kernel path and subgroup setting.
pub fn options() -> tweedie::gpu::Options {
    tweedie::gpu::Options::from_env().unwrap_or_else(|e| panic!("{e}"))
}

/// Deterministic normal samples (SplitMix64 + Box-Muller).
pub fn randn(seed: u64, n: usize) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(1);
    let mut next = move || {
        s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n)
        .map(|_| {
            let u1 = next().max(1e-300);
            let u2 = next();
            ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
        })
        .collect()
}

/// Path of a committed fixture.
pub fn fixture(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// Runs the `tweedie` binary with `args`: (success, stdout, stderr).
pub fn tweedie(args: &[&str]) -> (bool, String, String) {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_tweedie"))
        .args(args)
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

/// The engine's one error line on stderr (Mesa may print unrelated lines of its own there); fails
/// on a panic or on more or fewer than one.
pub fn error_line(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: ") && !l.contains("XDG_RUNTIME_DIR"))
        .collect();
    assert_eq!(lines.len(), 1, "expected one error line, got: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    lines[0].to_string()
}

/// A scratch folder `tweedie-<test>-<pid>-<name>` under the system's temporary folder (created if
/// missing; one process's tests share it by name).
pub fn scratch(test: &str, name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("tweedie-{test}-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
