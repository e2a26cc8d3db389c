//! The particle kernels of the SMC solvers against plain-Rust references on random inputs:
//! systematic resampling (ancestors and ESS for given uniforms; the expected number of copies of each
//! particle is K·wᵢ over many uniforms), the ESS threshold, row gathering and the weighted moments.

mod common;
use common::{gpu, randn};
use tweedie::Tensor;
use tweedie::ops::particles::{cat_rows, gather_rows, resample, resample_uniform, rows, weighted_moments};
use tweedie::ops::reference::resample_systematic;

/// Log weights of `groups` groups of `k`, spread over a few units so that weights differ by e^±6.
fn log_weights(seed: u64, groups: usize, k: usize) -> Vec<f32> {
    randn(seed, groups * k).iter().map(|v| 2.0 * v).collect()
}

/// The device's ancestors equal the reference's for the same uniforms, except where a position
/// `(u + j)/K` lies within f32 rounding (1e-5) of a cumulative weight; the ESS matches to 1e-4
/// (relative). Group sizes below, at and above the 256-thread workgroup (the chunked prefix sums).
#[test]
fn resampling_matches_the_reference() {
    let g = gpu();
    for (k, groups) in [(7usize, 3usize), (256, 2), (300, 3), (1000, 2)] {
        let lw = log_weights(k as u64, groups, k);
        let t = Tensor::from_slice(&g, &[groups * k], &lw).unwrap();
        let r = resample(&t, k, 2.0, 11, 5).unwrap();
        let anc = r.ancestors.to_vec().unwrap();
        let ess = r.ess.to_vec().unwrap();
        let after = r.log_weights.to_vec().unwrap();
        assert!(after.iter().all(|&v| v == 0.0), "resampled weights are not reset");
        for gi in 0..groups {
            let w = &lw[gi * k..(gi + 1) * k];
            let u = resample_uniform(11, 5, gi as u32);
            let (want, want_ess) = resample_systematic(w, u);
            assert!(
                (ess[gi] as f64 - want_ess).abs() <= 1e-4 * want_ess,
                "K {k} group {gi}: ESS {} vs {want_ess}",
                ess[gi]
            );
            // the cumulative weights, to excuse ties within rounding
            let m = w.iter().fold(f64::NEG_INFINITY, |a, &v| a.max(v as f64));
            let ws: Vec<f64> = w.iter().map(|&v| (v as f64 - m).exp()).collect();
            let s: f64 = ws.iter().sum();
            let cdf: Vec<f64> = ws
                .iter()
                .scan(0.0, |a, v| {
                    *a += v / s;
                    Some(*a)
                })
                .collect();
            for j in 0..k {
                let got = anc[gi * k + j] as usize;
                assert!(
                    got >= gi * k && got < (gi + 1) * k,
                    "ancestor {got} outside group {gi}"
                );
                let got = got - gi * k;
                if got != want[j] {
                    let pos = (u + j as f64) / k as f64;
                    let near = cdf.iter().any(|&c| (c - pos).abs() < 1e-5);
                    assert!(
                        near,
                        "K {k} group {gi} particle {j}: ancestor {got}, reference {}",
                        want[j]
                    );
                }
            }
        }
    }
}

/// Over 4,000 groups holding the same K = 16 weights (each group its own uniform), particle i is
/// copied K·wᵢ times on average: systematic resampling is unbiased. Each count is ⌊K wᵢ⌋ or
/// ⌈K wᵢ⌉, so the mean over 4,000 groups is within 0.5/sqrt(4000) · 4 ≈ 0.03 of K wᵢ with room;
/// bound 0.05 per particle.
#[test]
fn expected_copies_are_k_times_the_weight() {
    let g = gpu();
    let (k, groups) = (16usize, 4000usize);
    let w1 = log_weights(99, 1, k);
    let lw: Vec<f32> = (0..groups).flat_map(|_| w1.iter().copied()).collect();
    let t = Tensor::from_slice(&g, &[groups * k], &lw).unwrap();
    let anc = resample(&t, k, 2.0, 3, 1).unwrap().ancestors.to_vec().unwrap();
    let mut copies = vec![0f64; k];
    for (r, a) in anc.iter().enumerate() {
        let local = *a as usize - (r / k) * k;
        copies[local] += 1.0;
    }
    let m = w1.iter().fold(f64::NEG_INFINITY, |a, &v| a.max(v as f64));
    let s: f64 = w1.iter().map(|&v| (v as f64 - m).exp()).sum();
    for i in 0..k {
        let want = k as f64 * (w1[i] as f64 - m).exp() / s;
        let got = copies[i] / groups as f64;
        assert!(
            (got - want).abs() < 0.05,
            "particle {i}: {got:.3} copies on average, K w = {want:.3}"
        );
    }
}

/// Above the threshold nothing moves: the ancestors are the identity and the log weights are only
/// shifted (max 0); below it, the group is resampled. Groups decide independently.
#[test]
fn ess_threshold_decides_per_group() {
    let g = gpu();
    let k = 8;
    // group 0: equal weights (ESS = K); group 1: one particle holds nearly everything (ESS ≈ 1)
    let mut lw = vec![0.5f32; k];
    lw.extend((0..k).map(|i| if i == 3 { 0.0 } else { -20.0 }));
    let t = Tensor::from_slice(&g, &[2 * k], &lw).unwrap();
    let r = resample(&t, k, 0.5, 1, 1).unwrap();
    let anc = r.ancestors.to_vec().unwrap();
    let after = r.log_weights.to_vec().unwrap();
    let ess = r.ess.to_vec().unwrap();
    assert!((ess[0] - 8.0).abs() < 1e-4 && ess[1] < 1.01, "ESS {ess:?}");
    for j in 0..k {
        assert_eq!(anc[j] as usize, j, "group 0 was resampled");
        assert_eq!(after[j], 0.0);
        assert_eq!(
            anc[k + j] as usize,
            k + 3,
            "group 1 not collapsed onto its heavy particle"
        );
    }
}

/// Rows gathered by index, the weighted mean and standard deviation per group (against f64 sums),
/// and row slicing and stacking round trips.
#[test]
fn gather_moments_and_row_copies() {
    let g = gpu();
    let (groups, k, len) = (3usize, 5usize, 37usize);
    let x = randn(7, groups * k * len);
    let lw = log_weights(8, groups, k);
    let xt = Tensor::from_slice(&g, &[groups * k, 1, 1, len], &x).unwrap();
    let idx: Vec<f32> = [4usize, 0, 14, 7, 7].iter().map(|&i| i as f32).collect();
    let it = Tensor::from_slice(&g, &[idx.len()], &idx).unwrap();
    let got = gather_rows(&xt, &it).unwrap();
    assert_eq!(got.shape(), &[5, 1, 1, len]);
    let got = got.to_vec().unwrap();
    for (r, &i) in idx.iter().enumerate() {
        assert_eq!(
            &got[r * len..(r + 1) * len],
            &x[i as usize * len..(i as usize + 1) * len]
        );
    }
    let lt = Tensor::from_slice(&g, &[groups * k], &lw).unwrap();
    let (mean, std) = weighted_moments(&xt, &lt, k).unwrap();
    assert_eq!(mean.shape(), &[groups, 1, 1, len]);
    let (mean, std) = (mean.to_vec().unwrap(), std.to_vec().unwrap());
    for gi in 0..groups {
        let w: Vec<f64> = lw[gi * k..(gi + 1) * k]
            .iter()
            .map(|&v| (v as f64).exp())
            .collect();
        let s: f64 = w.iter().sum();
        for j in 0..len {
            let v = |r: usize| x[(gi * k + r) * len + j] as f64;
            let m: f64 = (0..k).map(|r| w[r] * v(r)).sum::<f64>() / s;
            let sd = ((0..k).map(|r| w[r] * (v(r) - m).powi(2)).sum::<f64>() / s).sqrt();
            assert!((mean[gi * len + j] as f64 - m).abs() < 1e-5, "mean {gi},{j}");
            assert!((std[gi * len + j] as f64 - sd).abs() < 1e-5, "std {gi},{j}");
        }
    }
    let parts = [rows(&xt, 0, 4).unwrap(), rows(&xt, 4, 11).unwrap()];
    assert_eq!(cat_rows(&parts).unwrap().to_vec().unwrap(), x);
    assert!(rows(&xt, 10, 6).is_err(), "rows past the end");
}

/// The particle solvers' chunking really splits: 8 rows in chunks of 3 are three calls of 3, 3 and 2
/// rows starting at rows 0, 3 and 6, and the stacked outputs equal one call over all rows (so the
/// solver test comparing chunked and whole runs compares two different paths).
#[test]
fn chunked_calls_split_the_rows() {
    let g = gpu();
    let x = randn(12, 8 * 5);
    let xt = Tensor::from_slice(&g, &[8, 5], &x).unwrap();
    let mut calls = Vec::new();
    let out = tweedie::solvers::smc::chunked(&xt, 3, |xc, start| {
        calls.push((start, xc.shape()[0]));
        Ok(vec![tweedie::ops::scale(xc, 2.0)?])
    })
    .unwrap();
    assert_eq!(calls, vec![(0, 3), (3, 3), (6, 2)]);
    let want: Vec<f32> = x.iter().map(|v| 2.0 * v).collect();
    assert_eq!(out[0].to_vec().unwrap(), want);
}
