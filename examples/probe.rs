//! Timing probe for the tiled kernels: `cargo run --release --example probe [reps]`. Each case is
//! checked once against the f64 reference (random inputs), then timed as the median of `reps` runs
//! (default 5), each ending in a readback.
use std::time::Instant;
use tweedie::ops::{self, Conv2dSpec, MatmulSpec, reference as r};
use tweedie::{Gpu, Tensor};

fn rand(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

fn main() {
    let reps: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    let g = Gpu::new().unwrap();
    let up = |shape: &[usize], seed: u64| {
        let v = rand(shape.iter().product(), seed);
        (Tensor::from_slice(&g, shape, &v).unwrap(), v)
    };
    let only = std::env::args().nth(2).unwrap_or_default();
    let t = |name: &str, want: &[f32], f: &dyn Fn() -> Tensor| {
        if !name.contains(only.as_str()) {
            return;
        }
        let err = r::rel_l2(&f().to_vec().unwrap(), want);
        let mut ms: Vec<f64> = (0..reps)
            .map(|_| {
                let s = Instant::now();
                f().to_vec().unwrap();
                s.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        ms.sort_by(f64::total_cmp);
        println!("{name:24} {:9.2} ms   (rel L2 {err:.1e})", ms[reps / 2]);
        assert!(err < 1e-5, "{name}: error {err:e}");
    };

    let (a, av) = up(&[512, 512], 8);
    let sv: Vec<f32> = av.iter().map(|v| v * 2.0).collect();
    t("scale 512x512", &sv, &|| ops::scale(&a, 2.0).unwrap());
    let (x, xv) = up(&[2, 16, 32, 32], 1);
    let (w, wv) = up(&[16, 16, 3, 3], 2);
    let spec = Conv2dSpec::new(1, 1);
    let (want, _) = r::conv2d(&xv, [2, 16, 32, 32], &wv, [16, 16, 3, 3], None, spec);
    t("conv 16->16 32x32 b2", &want, &|| {
        ops::conv2d(&x, &w, None, spec).unwrap()
    });
    let (x2, x2v) = up(&[1, 64, 32, 32], 3);
    let (w2, w2v) = up(&[128, 64, 3, 3], 4);
    let (b2, b2v) = up(&[128], 5);
    let spec2 = Conv2dSpec {
        stride: 2,
        pad: [0, 1, 0, 1],
    };
    let (want, _) = r::conv2d(&x2v, [1, 64, 32, 32], &w2v, [128, 64, 3, 3], Some(&b2v), spec2);
    t("conv 64->128 s2 32x32", &want, &|| {
        ops::conv2d(&x2, &w2, Some(&b2), spec2).unwrap()
    });
    let (x3, x3v) = up(&[2, 128, 32, 32], 13);
    let (w3, w3v) = up(&[128, 128, 3, 3], 14);
    let spec3 = Conv2dSpec::new(1, 1);
    let (want, _) = r::conv2d(&x3v, [2, 128, 32, 32], &w3v, [128, 128, 3, 3], None, spec3);
    t("conv 128->128 32x32 b2", &want, &|| {
        ops::conv2d(&x3, &w3, None, spec3).unwrap()
    });

    let (hw, d, bh) = (1024, 8, 4);
    let (q, qv) = up(&[bh, d, hw], 6);
    let sc = MatmulSpec {
        batch: bh,
        m: hw,
        n: hw,
        k: d,
        a_strides: [d * hw, 1, hw],
        b_strides: [d * hw, hw, 1],
        alpha: 0.35,
    };
    t("scores k=8", &r::matmul(&qv, &qv, None, sc), &|| {
        ops::matmul(&q, &q, None, sc).unwrap()
    });
    let (pm, pmv) = up(&[bh, hw, hw], 7);
    t("softmax 4096x1024", &r::softmax_rows(&pmv, hw, 1.3), &|| {
        ops::softmax_rows(&pm, 1.3).unwrap()
    });
    let pv = MatmulSpec {
        batch: bh,
        m: d,
        n: hw,
        k: hw,
        a_strides: [d * hw, hw, 1],
        b_strides: [hw * hw, 1, hw],
        alpha: 1.0,
    };
    t("pv d=8 k=1024", &r::matmul(&qv, &pmv, None, pv), &|| {
        ops::matmul(&q, &pm, None, pv).unwrap()
    });
    let pv24 = MatmulSpec {
        m: 24,
        a_strides: [0, hw, 1],
        ..pv
    };
    t("pv d=24 k=1024", &r::matmul(&pmv, &pmv, None, pv24), &|| {
        ops::matmul(&pm, &pm, None, pv24).unwrap()
    });
    let (a, av) = up(&[512, 512], 8);
    let (bias, biasv) = up(&[512], 9);
    let mm = MatmulSpec::contiguous(1, 512, 512, 512);
    t("mm512", &r::matmul(&av, &av, Some(&biasv), mm), &|| {
        ops::matmul(&a, &a, Some(&bias), mm).unwrap()
    });
    let mmt = MatmulSpec {
        a_strides: [0, 1, 512],
        b_strides: [0, 1, 512],
        ..mm
    };
    t("mm512 both transposed", &r::matmul(&av, &av, None, mmt), &|| {
        ops::matmul(&a, &a, None, mmt).unwrap()
    });

    let (ga, gav) = up(&[128], 10);
    let (be, bev) = up(&[128], 11);
    let (gx, gxv) = up(&[2, 128, 32, 32], 12);
    t(
        "groupnorm 2x128x32x32",
        &r::group_norm(&gxv, 2, 128, &gav, &bev, 32, 1e-5, true),
        &|| ops::group_norm(&gx, &ga, &be, 32, 1e-5, true).unwrap(),
    );
    t("sum_rows 64x65536", &r::row_sums(&pmv, 64, false), &|| {
        ops::sum_rows(&pm, 64).unwrap()
    });
    t("sumsq_rows 4096x1024", &r::row_sums(&pmv, 4096, true), &|| {
        ops::sumsq_rows(&pm, 4096).unwrap()
    });
}
