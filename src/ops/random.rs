//! Random numbers, below every layer that draws them (samplers, particle resampling, operators'
//! random masks and kernels): Philox4x32-10 on the host, and the counter-based Gaussian stream keyed
//! by the seed with the counter (element, step, stream, 0), computed on the GPU by
//! `shaders/random.wgsl` (the generator itself is `shaders/philox.inc`, which every kernel that draws
//! random numbers includes).

use crate::error::Result;
use crate::gpu::params::RandomParams;
use crate::gpu::{Access, KernelId, grid1d};
use crate::tensor::Tensor;

/// Philox4x32-10 on the host (the reference of `shaders/philox.inc`).
pub fn philox4x32_10(ctr: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let (mut c, mut k) = (ctr, key);
    for _ in 0..10 {
        let p0 = 0xD251_1F53u64 * c[0] as u64;
        let p1 = 0xCD9E_8D57u64 * c[2] as u64;
        c = [
            (p1 >> 32) as u32 ^ c[1] ^ k[0],
            p1 as u32,
            (p0 >> 32) as u32 ^ c[3] ^ k[1],
            p0 as u32,
        ];
        k = [k[0].wrapping_add(0x9E37_79B9), k[1].wrapping_add(0xBB67_AE85)];
    }
    c
}

/// The normal sample the GPU stream gives element `i` (host reference, in f64).
pub fn randn_host(seed: u64, step: u32, stream: u32, i: u32) -> f64 {
    let r = philox4x32_10([i, step, stream, 0], [seed as u32, (seed >> 32) as u32]);
    let u1 = ((r[0] >> 8) as f64 + 1.0) / (1u64 << 24) as f64;
    let u2 = (r[1] >> 8) as f64 / (1u64 << 24) as f64;
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// The seed as the two 32-bit words of a Philox key (low, high).
pub fn seed_words(seed: u64) -> (u32, u32) {
    (seed as u32, (seed >> 32) as u32)
}

/// Standard normal samples of `shape` from the stream `(seed, step, stream)`.
pub fn randn(gpu: &crate::Gpu, shape: &[usize], seed: u64, step: u32, stream: u32) -> Result<Tensor> {
    let out = Tensor::empty(gpu, shape)?;
    let n = super::u32_of(out.numel(), "random tensor")?;
    let (lo, hi) = seed_words(seed);
    gpu.dispatch(
        &KernelId::new("random.wgsl", "randn"),
        &RandomParams {
            n,
            seed_lo: lo,
            seed_hi: hi,
            step,
            stream,
            ..Default::default()
        },
        &[out.bind(Access::ReadWrite)],
        grid1d(out.numel(), 256),
    )
    .map(|_| out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn philox_known_answer() {
        // Random123's known-answer vectors for Philox4x32-10.
        assert_eq!(
            super::philox4x32_10([0; 4], [0; 2]),
            [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]
        );
        assert_eq!(
            super::philox4x32_10([u32::MAX; 4], [u32::MAX; 2]),
            [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]
        );
    }
}
