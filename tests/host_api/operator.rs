//! A host's own kernel, op and operator, from outside the crate:
//! - a WGSL module registered at run time (`Gpu::register_shader`), its entry dispatched in
//!   tweedie's command stream with a typed parameter struct whose layout is checked against the WGSL;
//! - a differentiable op built on it, whose backward is the same host kernel (a mask is its own
//!   adjoint), attached with `Tensor::with_node` and checked by finite differences;
//! - a host operator (box inpainting written with that op) declaring its `Kind`, restored by DPS:
//!   the defaults come from the kind (the same as the registered `inpaint-box`'s, not those of
//!   `Kind::Other`), the host backward runs inside every DPS step, and the result is the registered
//!   operator's to the bit (the host kernel computes the same products) and beats the observation.

use crate::common;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tweedie::gpu::params::{KernelParams, Layout, Member, check_layout};
use tweedie::gpu::{Access, KernelId, grid1d};
use tweedie::models::UNet2DModel;
use tweedie::operators::{self, Caps, Kind, Linear, Operator, View};
use tweedie::solvers::{self, Problem};
use tweedie::tensor::{BackwardOp, InputGrads};
use tweedie::{Gpu, Result, Tensor, autograd};

const MASK_WGSL: &str = "
struct MaskP { n: u32, len: u32, _p0: u32, _p1: u32 }
@group(0) @binding(0) var<uniform> p: MaskP;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(64)
fn masked(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 64u;
    if (i >= p.n) { return; }
    out[i] = x[i] * m[i % p.len];
}
";

/// The WGSL `MaskP`, as the host declares it.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct MaskP {
    n: u32,
    len: u32,
    _p0: u32,
    _p1: u32,
}

impl KernelParams for MaskP {
    const WGSL: (&'static str, &'static str) = ("host_mask.wgsl", "MaskP");
    fn members() -> Vec<Member> {
        let m = |name, offset| Member {
            name,
            offset,
            size: 4,
        };
        vec![
            m("n", std::mem::offset_of!(MaskP, n)),
            m("len", std::mem::offset_of!(MaskP, len)),
            m("_p0", std::mem::offset_of!(MaskP, _p0)),
            m("_p1", std::mem::offset_of!(MaskP, _p1)),
        ]
    }
}

/// `x ⊙ m` (the mask broadcast over the batch) by the host kernel, on detached values.
fn launch(x: &Tensor, m: &Tensor) -> Result<Tensor> {
    let out = Tensor::empty(x.gpu(), x.shape())?;
    x.gpu().dispatch(
        &KernelId::new("host_mask.wgsl", "masked"),
        &MaskP {
            n: x.numel() as u32,
            len: m.numel() as u32,
            _p0: 0,
            _p1: 0,
        },
        &[
            x.bind(Access::Read),
            m.bind(Access::Read),
            out.bind(Access::ReadWrite),
        ],
        grid1d(x.numel(), 64),
    )?;
    Ok(out)
}

/// The op's backward: `g ⊙ m`, the same host kernel; counts its calls.
struct Masked {
    mask: Tensor,
    calls: Arc<AtomicUsize>,
}

impl BackwardOp for Masked {
    fn name(&self) -> &'static str {
        "host_masked"
    }

    fn backward(&self, _x: &[Tensor], _out: &Tensor, g: &Tensor, _need: &[bool]) -> Result<InputGrads> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        Ok(vec![Some(launch(g, &self.mask)?)])
    }
}

/// The differentiable host op.
fn masked(x: &Tensor, mask: &Tensor, calls: &Arc<AtomicUsize>) -> Result<Tensor> {
    Ok(launch(&x.detach(), mask)?.with_node(
        &[x],
        Masked {
            mask: mask.clone(),
            calls: calls.clone(),
        },
    ))
}

/// Box inpainting as a host writes it: its own op, its declared kind, no SVD.
struct HostBox {
    mask: Tensor,
    kind: Kind,
    calls: Arc<AtomicUsize>,
}

impl HostBox {
    /// The registered `inpaint-box`'s default box (x = y = 8, 16 × 16) on 32 × 32 images.
    fn new(gpu: &Gpu, kind: Kind) -> HostBox {
        let m: Vec<f32> = (0..32 * 32)
            .map(|i| {
                let (r, c) = (i / 32, i % 32);
                if (8..24).contains(&r) && (8..24).contains(&c) {
                    0.0
                } else {
                    1.0
                }
            })
            .collect();
        gpu.register_shader("host_mask.wgsl", MASK_WGSL).unwrap();
        HostBox {
            mask: Tensor::from_slice(gpu, &[32 * 32], &m).unwrap(),
            kind,
            calls: Arc::default(),
        }
    }
}

impl View for HostBox {}

impl Operator for HostBox {
    fn describe(&self) -> String {
        "host-box".into()
    }
    fn caps(&self) -> Caps {
        Caps::linear(self.kind)
    }
    fn x_shape(&self) -> [usize; 3] {
        [1, 32, 32]
    }
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        masked(x, &self.mask, &self.calls)
    }
    fn linear(&self) -> Option<&dyn Linear> {
        Some(self)
    }
}

impl Linear for HostBox {
    fn adjoint(&self, y: &Tensor) -> Result<Tensor> {
        masked(y, &self.mask, &self.calls)
    }
    fn pinv(&self, y: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(masked(y, &self.mask, &self.calls)?))
    }
}

#[test]
fn the_host_kernels_parameters_match_its_wgsl() {
    check_layout(
        &Layout::of::<MaskP>(),
        &tweedie::gpu::validate_shader("host_mask.wgsl", MASK_WGSL).unwrap(),
    )
    .unwrap();
}

/// The host op's gradient through `autograd::backward` against a central finite difference of
/// `<u, A(x + t v)>` (random x, u, v; the op is linear, so the difference is exact up to f32
/// rounding: 1e-4 relative).
#[test]
fn the_host_op_has_the_gradient_of_its_backward() {
    let gpu = common::gpu();
    let op = HostBox::new(&gpu, Kind::Other);
    let n = 2 * 32 * 32;
    let (x, v, u) = (common::randn(1, n), common::randn(2, n), common::randn(3, n));
    let t = |vals: &[f32]| Tensor::from_slice(&gpu, &[2, 1, 32, 32], vals).unwrap();
    let x0 = t(&x).tracked();
    let y = op.forward(&x0).unwrap();
    let dx = autograd::backward(&y, &t(&u), &[&x0]).unwrap().remove(0);
    let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(p, q)| *p as f64 * *q as f64).sum::<f64>();
    let analytic = dot(&dx.to_vec().unwrap(), &v);
    let h = 1e-2f32;
    let side = |s: f32| {
        let p: Vec<f32> = x.iter().zip(&v).map(|(a, b)| a + s * b).collect();
        dot(&op.forward(&t(&p)).unwrap().to_vec().unwrap(), &u)
    };
    let numeric = (side(h) - side(-h)) / (2.0 * h as f64);
    let gap = (analytic - numeric).abs() / analytic.abs().max(1e-9);
    assert!(gap < 1e-4, "analytic {analytic} numeric {numeric}: gap {gap}");
    assert_eq!(op.calls.load(Ordering::Relaxed), 1, "the host backward ran once");
}

/// PSNR (dB) of `x` against `truth`, both in [-1, 1].
fn psnr(x: &[f32], truth: &[f32]) -> f64 {
    let mse = x
        .iter()
        .zip(truth)
        .map(|(a, b)| ((a.clamp(-1.0, 1.0) - b) as f64 / 2.0).powi(2))
        .sum::<f64>()
        / x.len() as f64;
    -10.0 * mse.log10()
}

/// DPS with the host operator: its defaults come from the declared kind, the host backward runs in
/// every step, and it restores like the registered `inpaint-box`.
#[test]
fn dps_restores_with_a_host_operator_whose_defaults_come_from_its_kind() {
    let gpu = common::gpu();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = UNet2DModel::load(&gpu, &root.join("weights/fmnist32")).unwrap();
    let img = image::open(root.join("tests/data/fmnist_test_00000.png"))
        .unwrap()
        .to_luma8();
    let truth: Vec<f32> = img.pixels().map(|p| p[0] as f32 / 127.5 - 1.0).collect();
    let x = Tensor::from_slice(&gpu, &[1, 1, 32, 32], &truth).unwrap();

    let host = HostBox::new(&gpu, Kind::Inpainting { region: true });
    let registered = operators::build(&gpu, &"inpaint-box".parse().unwrap(), [1, 32, 32]).unwrap();
    let y = operators::add_noise(&host.forward(&x.detach()).unwrap(), 0.05, 1).unwrap();
    let y_reg = operators::add_noise(&registered.forward(&x).unwrap(), 0.05, 1).unwrap();
    assert_eq!(y.to_vec().unwrap(), y_reg.to_vec().unwrap(), "the same A");

    // the defaults follow the kind: inpainting's step size, as the registered task gets
    let steps = 20;
    let dps = solvers::create("dps", &host, Some(steps), &[]).unwrap();
    let reg = solvers::create("dps", registered.as_ref(), Some(steps), &[]).unwrap();
    assert_eq!(dps.settings(), reg.settings());
    let other = HostBox::new(&gpu, Kind::Other);
    let dps_other = solvers::create("dps", &other, Some(steps), &[]).unwrap();
    assert_ne!(
        dps.settings(),
        dps_other.settings(),
        "Kind::Other gets other defaults"
    );

    fn p<'a>(model: &'a UNet2DModel, op: &'a dyn Operator, y: &'a Tensor) -> Problem<'a> {
        Problem {
            model,
            op,
            y,
            sigma_y: 0.05,
        }
    }
    let before = host.calls.load(Ordering::Relaxed);
    let got = dps.solve(&p(&model, &host, &y), 7, &mut |_, _| {}).unwrap();
    let calls = host.calls.load(Ordering::Relaxed) - before;
    assert!(
        calls >= steps,
        "the host backward ran {calls} times in {steps} steps"
    );
    let want = reg
        .solve(&p(&model, registered.as_ref(), &y), 7, &mut |_, _| {})
        .unwrap();
    let (g, w) = (got.to_vec().unwrap(), want.to_vec().unwrap());
    assert!(g == w, "the host operator restores differently from inpaint-box");

    let obs = psnr(&host.trivial(&y).unwrap().to_vec().unwrap(), &truth);
    let restored = psnr(&g, &truth);
    assert!(
        restored > obs + 1.0,
        "DPS {restored:.2} dB vs the observation's {obs:.2} dB"
    );
}
