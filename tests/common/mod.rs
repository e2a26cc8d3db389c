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
