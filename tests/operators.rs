//! Measurement operators: the adjoint identity <Ax, y> = <x, Aᵀy> on random vectors (relative error
//! 1e-5: f32 sums of up to a few thousand products), and A A⁺ A x = A x where A⁺ is provided.

mod common;
use common::{gpu, randn};
use tweedie::Tensor;
use tweedie::operators::{self, TaskSpec};

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum()
}

const TASKS: &[&str] = &[
    "denoise",
    "inpaint-box",
    "inpaint-box:x=3,y=5,w=7,h=11",
    "inpaint-random:p=0.7,seed=3",
    "sr:factor=4",
    "sr:factor=2",
    "sr-bicubic:factor=4",
    "deblur-gauss:size=9,sigma=1.5",
    "deblur-motion:size=9,intensity=0.5,seed=1",
    "colorize",
    "cs:ratio=0.25,seed=2",
    "mri:accel=4,center=0.08,mask=cartesian,seed=1",
    "mri:accel=4,center=0.08,mask=random,seed=2",
];

#[test]
fn every_operator_passes_the_adjoint_test_and_its_pseudo_inverse_identity() {
    let g = gpu();
    for task in TASKS {
        let spec: TaskSpec = task.parse().unwrap();
        let shape = [3, 32, 32];
        let op = operators::build(&g, &spec, shape).unwrap();
        let op = op.linear().expect("the linear tasks");
        let b = 2;
        let n = b * shape.iter().product::<usize>();
        let xv = randn(1, n);
        let x = Tensor::from_slice(&g, &[b, 3, 32, 32], &xv).unwrap();
        let ax = op.forward(&x).unwrap();
        let mut ys = vec![b];
        ys.extend(op.y_shape());
        assert_eq!(ax.shape(), &ys[..], "{task}: A x shape");
        let yv = randn(2, ax.numel());
        let y = Tensor::from_slice(&g, &ys, &yv).unwrap();
        let aty = op.adjoint(&y).unwrap();
        let (l, r) = (dot(&ax.to_vec().unwrap(), &yv), dot(&xv, &aty.to_vec().unwrap()));
        let err = (l - r).abs() / l.abs().max(r.abs());
        assert!(
            err < 1e-5,
            "{task}: <Ax,y> = {l}, <x,Aᵀy> = {r} (relative {err:.2e})"
        );
        if let Some(p) = op.pinv(&ax).unwrap() {
            let aapa = op.forward(&p).unwrap().to_vec().unwrap();
            let e = tweedie::ops::reference::rel_l2(&aapa, &ax.to_vec().unwrap());
            assert!(e < 1e-5, "{task}: A A⁺ A x != A x ({e:.2e})");
        }
        // the trivial estimate exists and has the image's shape (every linear task's is its own)
        assert_eq!(
            op.trivial(&ax).unwrap().shape(),
            x.shape(),
            "{task}: trivial estimate"
        );
    }
}

/// A = U Σ Vᵀ on random vectors for every operator that provides an SVD, with V orthogonal and
/// Uᵀ U the identity on the coordinates that have a singular value. Relative error 1e-5: f32
/// products of at most 1024 terms with orthonormal factors (measured ≤ 1e-6).
#[test]
fn every_svd_reconstructs_its_operator() {
    let g = gpu();
    let mut with_svd = 0;
    for task in TASKS {
        let spec: TaskSpec = task.parse().unwrap();
        let shape = [3, 32, 32];
        let op = operators::build(&g, &spec, shape).unwrap();
        let Some(svd) = op.linear().unwrap().svd().unwrap() else {
            assert!(task.starts_with("deblur-motion"), "{task} should have an SVD");
            continue;
        };
        with_svd += 1;
        let b = 2;
        let n = shape.iter().product::<usize>();
        let xv = randn(3, b * n);
        let x = Tensor::from_slice(&g, &[b, 3, 32, 32], &xv).unwrap();
        let s = svd.singulars();
        assert_eq!(s.len(), n, "{task}: one singular value per coordinate");
        assert!(s.iter().all(|v| *v >= 0.0) && s.iter().any(|v| *v > 0.0));
        let st = Tensor::from_slice(&g, &[n], s).unwrap();
        let sv = tweedie::ops::mul_bcast(&svd.vt(&x).unwrap(), &st).unwrap();
        let rel = |a: &Tensor, b: &Tensor| {
            tweedie::ops::reference::rel_l2(&a.to_vec().unwrap(), &b.to_vec().unwrap())
        };
        let ax = op.forward(&x).unwrap();
        let e = rel(&svd.u(&sv).unwrap().reshape(ax.shape()).unwrap(), &ax);
        assert!(e < 1e-5, "{task}: U Σ Vᵀ x != A x ({e:.2e})");
        let e = rel(&svd.v(&svd.vt(&x).unwrap()).unwrap(), &x);
        assert!(e < 1e-5, "{task}: V Vᵀ x != x ({e:.2e})");
        let e = rel(&svd.ut(&ax).unwrap(), &sv);
        assert!(e < 1e-5, "{task}: Uᵀ A x != Σ Vᵀ x ({e:.2e})");
    }
    assert_eq!(with_svd, TASKS.len() - 1);
}

#[test]
fn bad_task_specs_are_clear_errors() {
    let g = gpu();
    for (task, needle) in [
        ("blur", "unknown task"),
        ("sr:factor=3", "divide"),
        ("inpaint-box:x=30,w=8", "does not fit"),
        ("deblur-gauss:size=8", "odd"),
        ("inpaint-random:q=1", "no parameter"),
        ("sr:factor=four", "must be a whole number"),
        ("cs:ratio=0", "ratio"),
        ("mri:mask=radial", "mask=cartesian"),
        ("mri:accel=0.5", "accel"),
        ("mri:accel=16,center=0.5", "lower center"),
    ] {
        let e = task
            .parse::<TaskSpec>()
            .and_then(|s| operators::build(&g, &s, [1, 32, 32]).map(|_| ()))
            .unwrap_err();
        assert!(e.to_string().contains(needle), "{task}: {e}");
    }
    let e = operators::build(&g, &"colorize".parse().unwrap(), [1, 32, 32])
        .map(|_| ())
        .unwrap_err();
    assert!(e.to_string().contains("RGB"), "{e}");
    // a dense CS matrix over the binding limit is refused before it is built
    let e = operators::build(&g, &"cs".parse().unwrap(), [1, 256, 256])
        .map(|_| ())
        .unwrap_err();
    assert!(e.to_string().contains("compressed-sensing matrix"), "{e}");
    let e = operators::build(&g, &"mri".parse().unwrap(), [1, 24, 32])
        .map(|_| ())
        .unwrap_err();
    assert!(e.to_string().contains("powers of two"), "{e}");
}

/// The nonlinear forward models: phase retrieval's magnitude equals the DFT of the padded image
/// computed on the host, is blind to the image's sign (the ambiguity the prior must break), and its
/// picture cannot be read back; HDR clips `scale · x`; both state their trivial estimate; sizes
/// the FFT cannot take are refused with the reason.
#[test]
fn nonlinear_operators_compute_their_maps_and_refuse_what_they_cannot() {
    let g = gpu();
    let shape = [1, 8, 8];
    let pr = operators::build(&g, &"phase-retrieval".parse().unwrap(), shape).unwrap();
    assert!(!pr.is_linear());
    assert_eq!(pr.describe(), "phase-retrieval:oversample=2");
    assert_eq!(pr.y_shape(), vec![1, 16, 16]);
    let xv = randn(5, 2 * 64);
    let x = Tensor::from_slice(&g, &[2, 1, 8, 8], &xv).unwrap();
    let y = pr.forward(&x).unwrap().to_vec().unwrap();
    // host: pad to 16x16 (centred), DFT, magnitude
    let mut z = vec![0f32; 2 * 256 * 2];
    for r in 0..2 {
        for i in 0..8 {
            for j in 0..8 {
                z[2 * ((r * 16 + i + 4) * 16 + j + 4)] = xv[(r * 8 + i) * 8 + j];
            }
        }
    }
    let f = tweedie::ops::reference::dft2(&z, 2, 16, 16, false);
    let want: Vec<f32> = (0..512).map(|q| f[2 * q].hypot(f[2 * q + 1]) as f32).collect();
    let e = tweedie::ops::reference::rel_l2(&y, &want);
    assert!(e < 1e-5, "phase retrieval vs host DFT: {e:.2e}");
    let neg = tweedie::ops::scale(&x, -1.0).unwrap();
    let yn = pr.forward(&neg).unwrap().to_vec().unwrap();
    assert!(
        tweedie::ops::reference::rel_l2(&yn, &y) < 1e-6,
        "|F(-x)| = |F(x)|"
    );
    let yt = pr.forward(&x).unwrap();
    assert!(pr.trivial_is_prior_mean() && pr.trivial(&yt).is_err());
    let pic = pr.observation_image(&yt).unwrap().unwrap();
    assert_eq!(pic.shape(), &[2, 1, 16, 16]);
    let e = pr.measurement_from_image(&pic).err().unwrap().to_string();
    assert!(e.contains(".safetensors"), "{e}");
    for bad in ["phase-retrieval:oversample=3", "phase-retrieval:oversample=256"] {
        let e = operators::build(&g, &bad.parse().unwrap(), shape)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("power of two"), "{bad}: {e}");
    }

    let hdr = operators::build(&g, &"hdr:scale=2".parse().unwrap(), shape).unwrap();
    assert!(!hdr.is_linear());
    let yh = hdr.forward(&x).unwrap();
    let got = yh.to_vec().unwrap();
    for (a, b) in got.iter().zip(&xv) {
        assert_eq!(*a, (2.0 * b).clamp(-1.0, 1.0));
    }
    let t = hdr.trivial(&yh).unwrap().to_vec().unwrap();
    for (a, b) in t.iter().zip(&got) {
        assert!((a - b / 2.0).abs() < 1e-7);
    }
    let e = operators::build(&g, &"hdr:scale=0.5".parse().unwrap(), shape)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("[1, 100]"), "{e}");
}

/// MRI: `A x` is the orthonormal DFT of the host (`dft2`) on the mask and 0 off it, for both masks;
/// the mask is Hermitian-symmetric and samples about 1/accel; the singular values are the mask;
/// `Uᵀ` pairs `y_k` with `conj y_−k` (a measurement that is antisymmetric in that sense, in the null
/// space of `Aᵀ`, has `Uᵀ y = 0`); the picture is a view and the exact y is what restore reads.
#[test]
fn mri_measures_the_masked_spectrum() {
    let g = gpu();
    let (h, w) = (16, 32);
    for (task, lines) in [("mri:mask=cartesian", true), ("mri:mask=random,accel=3", false)] {
        let op = operators::build(&g, &task.parse().unwrap(), [2, h, w]).unwrap();
        assert_eq!(op.y_shape(), vec![2, h, w, 2]);
        let xv = randn(7, 2 * 2 * h * w);
        let x = Tensor::from_slice(&g, &[2, 2, h, w], &xv).unwrap();
        let y = op.forward(&x).unwrap().to_vec().unwrap();
        let z: Vec<f32> = xv.iter().flat_map(|&v| [v, 0.0]).collect();
        let f = tweedie::ops::reference::dft2(&z, 4, h, w, false);
        let ones = Tensor::full(&g, &[1, 2, h, w, 2], 1.0).unwrap();
        let lin = op.linear().unwrap();
        let svd = lin.svd().unwrap().unwrap();
        let s = svd.singulars();
        assert!(s.iter().all(|&v| v == 0.0 || v == 1.0));
        let mask = &s[..h * w];
        let sampled = mask.iter().filter(|&&m| m == 1.0).count();
        let want = (h * w) as f64 / if lines { 4.0 } else { 3.0 };
        assert!(
            (sampled as f64 - want).abs() <= if lines { h as f64 } else { 1.0 },
            "{task}: {sampled}"
        );
        for k in 0..h * w {
            let nk = ((h - k / w) % h) * w + (w - k % w) % w;
            assert_eq!(mask[k], mask[nk], "{task}: symmetric at {k}");
            if lines {
                assert_eq!(mask[k], mask[k % w], "{task}: whole columns");
            }
        }
        let want: Vec<f32> = (0..4 * h * w)
            .flat_map(|q| {
                let m = mask[q % (h * w)] as f64;
                [(f[2 * q] * m) as f32, (f[2 * q + 1] * m) as f32]
            })
            .collect();
        let e = tweedie::ops::reference::rel_l2(&y, &want);
        assert!(e < 1e-5, "{task}: A x vs the host's masked DFT: {e:.2e}");
        // y_k = 1 + i at k and at −k: (1 + i, 1 + i) is (1, 1) + i (1, 1); the imaginary part is
        // antisymmetric under k ↔ −k with conjugation, so A⁺ and Uᵀ see only the real (1, 1)
        let ut = svd.ut(&ones).unwrap().to_vec().unwrap();
        let back = lin.adjoint(&ones).unwrap().to_vec().unwrap();
        let real = Tensor::from_slice(
            &g,
            &[1, 2, h, w, 2],
            &(0..2 * h * w).flat_map(|_| [1.0f32, 0.0]).collect::<Vec<_>>(),
        )
        .unwrap();
        let ut_real = svd.ut(&real).unwrap().to_vec().unwrap();
        assert!(
            tweedie::ops::reference::rel_l2(&ut, &ut_real) < 1e-5,
            "{task}: Uᵀ drops the antisymmetric part"
        );
        let back_real = lin.adjoint(&real).unwrap().to_vec().unwrap();
        assert!(tweedie::ops::reference::rel_l2(&back, &back_real) < 1e-5);
        let yt = op.forward(&x).unwrap();
        let pic = op.observation_image(&yt).unwrap().unwrap();
        assert_eq!(pic.shape(), &[2, 2, h, w]);
        let e = op.measurement_from_image(&pic).err().unwrap().to_string();
        assert!(e.contains(".safetensors"), "{e}");
        assert_eq!(op.extras().unwrap()[0].0, "mask");
        // the trivial estimate is the zero-filled inverse
        let t = op.trivial(&yt).unwrap().to_vec().unwrap();
        let zf = lin.adjoint(&yt).unwrap().to_vec().unwrap();
        assert_eq!(t, zf);
    }
}
