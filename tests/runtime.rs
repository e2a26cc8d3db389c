//! The runtime's promises: a host's device can be shared, the pool stops allocating in steady state,
//! each kernel compiles once, submissions are batched, and limits give errors instead of panics.

mod common;
use common::{fixture, gpu, randn};
use tweedie::models::UNet2DModel;
use tweedie::{Error, Gpu, Tensor, ops};

#[test]
fn from_device_runs_kernels_on_a_host_device() {
    // A host application makes its own device...
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions::default()))
        .expect("an adapter");
    let (device, queue) =
        pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor::default())).expect("a device");
    // ...and hands it to tweedie.
    let g = Gpu::from_device(device.clone(), queue, &Default::default()).unwrap();
    let x = Tensor::from_slice(&g, &[4], &[1.0, -2.0, 3.0, 0.5]).unwrap();
    let y = ops::affine(&x, 2.0, 1.0).unwrap();
    assert_eq!(y.to_vec().unwrap(), vec![3.0, -3.0, 7.0, 2.0]);
    assert!(std::ptr::eq(g.device(), g.device()));
    assert_eq!(
        g.device().limits().max_buffer_size,
        device.limits().max_buffer_size
    );
}

/// A host device opened with the WebGPU defaults (16 KiB of workgroup memory, as many renderers
/// request).
fn default_limits_device() -> Gpu {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions::default()))
        .expect("an adapter");
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        required_limits: wgpu::Limits::default(),
        ..Default::default()
    }))
    .expect("a device with the default limits");
    Gpu::from_device(device, queue, &Default::default()).unwrap()
}

fn max_rel(a: &[f32], b: &[f32]) -> f64 {
    let num: f64 = a.iter().zip(b).map(|(x, y)| ((x - y) as f64).powi(2)).sum();
    let den: f64 = b.iter().map(|y| (*y as f64).powi(2)).sum();
    (num / den.max(1e-30)).sqrt()
}

/// On a device with `wgpu::Limits::default()` every kernel runs (the GEMMs on their small-tile
/// variants), and a UNet forward, its VJP and a DPS step agree with the normal device within 1e-5
/// (relative L2: the tile shapes differ, not the arithmetic; measured: printed).
#[test]
fn default_limits_device_matches_the_normal_device() {
    use tweedie::diffusion::{Denoiser, Timestep};
    let run = |g: &Gpu| -> Vec<Vec<f32>> {
        let m = UNet2DModel::load(g, &fixture("attn_heads")).unwrap();
        let x = Tensor::from_slice(g, &[2, 3, 16, 16], &randn(3, 1536)).unwrap();
        let v = Tensor::from_slice(g, &[2, 3, 16, 16], &randn(4, 1536)).unwrap();
        let t = Timestep::new(g, 400).unwrap();
        let (eps, vjp) = m.eps_vjp(&x, &t, &v).unwrap();
        let spec: tweedie::operators::TaskSpec = "sr:factor=2".parse().unwrap();
        let op = tweedie::operators::build(g, &spec, [3, 16, 16]).unwrap();
        let y = op.forward(&x).unwrap();
        let p = tweedie::solvers::Problem {
            model: &m,
            op: op.as_ref(),
            y: &y,
            sigma_y: 0.05,
        };
        let dps = tweedie::solvers::create_for_task("dps", "sr", Some(10), &[]).unwrap();
        let mut r = dps.start(&p, 3).unwrap();
        r.step().unwrap();
        vec![
            eps.to_vec().unwrap(),
            vjp.to_vec().unwrap(),
            r.sample().to_vec().unwrap(),
        ]
    };
    let small = default_limits_device();
    assert!(!small.wide_tiles());
    let (a, b) = (run(&gpu()), run(&small));
    for (what, (x, y)) in ["forward", "VJP", "DPS step"].iter().zip(a.iter().zip(&b)) {
        let e = max_rel(y, x);
        println!("{what}: relative L2 gap {e:.2e}");
        assert!(e <= 1e-5, "{what} differs on the default-limits device: {e:.2e}");
    }
}

/// A host device opened with less than tweedie needs gets an error that names the limit.
#[test]
fn a_device_missing_a_limit_is_refused_by_name() {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions::default()))
        .expect("an adapter");
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        required_limits: wgpu::Limits {
            max_compute_workgroup_storage_size: 8192,
            ..wgpu::Limits::default()
        },
        ..Default::default()
    }))
    .expect("a device");
    let e = Gpu::from_device(device, queue, &Default::default())
        .err()
        .expect("refused")
        .to_string();
    assert!(
        e.contains("max_compute_workgroup_storage_size") && e.contains("16384"),
        "{e}"
    );
}

#[test]
fn steady_state_forward_allocates_nothing_and_compiles_nothing() {
    let g = gpu();
    let model = UNet2DModel::load(&g, &fixture("multi_attn")).unwrap();
    let x = Tensor::from_slice(&g, &[2, 3, 32, 32], &randn(5, 2 * 3 * 32 * 32)).unwrap();
    let first = model.forward_t(&x, 10.0).unwrap().to_vec().unwrap();
    let allocs = g.pool_stats().allocations;
    let pipelines = g.pipeline_count();
    for _ in 0..3 {
        let again = model.forward_t(&x, 10.0).unwrap().to_vec().unwrap();
        assert_eq!(again, first, "the same input gives the same bits");
    }
    assert_eq!(
        g.pool_stats().allocations,
        allocs,
        "the pool allocated in steady state"
    );
    assert_eq!(g.pipeline_count(), pipelines, "a pipeline was compiled twice");
    assert!(g.pool_stats().reuses > 0);
}

#[test]
fn dispatches_are_batched_until_a_result_is_needed() {
    let g = gpu();
    let x = Tensor::from_slice(&g, &[1000], &randn(1, 1000)).unwrap();
    g.synchronize().unwrap();
    let before = g.submit_count();
    let mut y = x.clone();
    for _ in 0..50 {
        y = ops::affine(&y, 1.0, 0.01).unwrap();
    }
    assert_eq!(g.submit_count(), before, "recording submitted work");
    let v = y.to_vec().unwrap();
    assert_eq!(g.submit_count(), before + 1, "one readback, one submission");
    let want = randn(1, 1000)[7] + 0.5;
    assert!((v[7] - want).abs() < 1e-5);
}

#[test]
fn a_tensor_over_the_binding_limit_is_an_error_naming_both_sizes() {
    let g = gpu();
    let limit = g.max_binding_bytes();
    let n = (limit / 4) as usize + 1;
    match Tensor::empty(&g, &[n]) {
        Err(Error::TooLarge { bytes, limit: l, .. }) => {
            assert_eq!(l, limit);
            assert_eq!(bytes, n as u64 * 4);
            let msg = Tensor::empty(&g, &[n]).unwrap_err().to_string();
            assert!(
                msg.contains(&bytes.to_string()) && msg.contains(&limit.to_string()),
                "{msg}"
            );
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

#[test]
fn reused_buffers_do_not_corrupt_pending_work() {
    // A buffer freed while recorded work still reads it, then reused for an upload, must not change
    // the result of that work.
    let g = gpu();
    let a = Tensor::from_slice(&g, &[256], &vec![1.0; 256]).unwrap();
    let b = ops::affine(&a, 3.0, 0.0).unwrap(); // recorded, reads a
    drop(a);
    let c = Tensor::from_slice(&g, &[256], &vec![100.0; 256]).unwrap(); // may reuse a's buffer
    assert!(b.to_vec().unwrap().iter().all(|&v| v == 3.0));
    assert!(c.to_vec().unwrap().iter().all(|&v| v == 100.0));
}

#[test]
fn profile_times_kernels_and_counts_their_operations() {
    use tweedie::gpu::Options;
    let (n, ci, co, hw) = (2, 8, 16, 16);
    // the conv's multiply-adds, counted twice; the matmul's likewise
    let conv_flops = 2 * (n * co * hw * hw * ci * 9) as u64;
    let mm_flops = 2 * (3 * 40 * 24 * 56) as u64;
    for host_timing in [false, true] {
        let g = Gpu::with_options(&Options {
            profile: true,
            host_timing,
            ..Default::default()
        })
        .unwrap();
        let x = Tensor::from_slice(&g, &[n, ci, hw, hw], &randn(1, n * ci * hw * hw)).unwrap();
        let w = Tensor::from_slice(&g, &[co, ci, 3, 3], &randn(2, co * ci * 9)).unwrap();
        let y = ops::conv2d(&x, &w, None, ops::Conv2dSpec::new(1, 1)).unwrap();
        let a = Tensor::from_slice(&g, &[3, 40, 56], &randn(3, 3 * 40 * 56)).unwrap();
        let b = Tensor::from_slice(&g, &[3, 56, 24], &randn(4, 3 * 56 * 24)).unwrap();
        let c = ops::matmul(&a, &b, None, ops::MatmulSpec::contiguous(3, 40, 24, 56)).unwrap();
        y.to_vec().unwrap();
        c.to_vec().unwrap();
        let (rows, device_clock) = g.profile().expect("profiling was asked for");
        let timestamps = g.features().contains(wgpu::Features::TIMESTAMP_QUERY);
        assert_eq!(device_clock, timestamps && !host_timing, "clock");
        let sum = |pat: &str| -> (u64, f64) {
            rows.iter()
                .filter(|r| r.kernel.contains(pat))
                .fold((0, 0.0), |(f, t), r| (f + r.flops, t + r.seconds))
        };
        let (cf, ct) = sum("conv2d");
        let (mf, mt) = sum("matmul");
        assert_eq!(cf, conv_flops, "conv operations counted");
        assert_eq!(mf, mm_flops, "matmul operations counted");
        assert!(ct > 0.0 && mt > 0.0, "kernel times {ct} {mt}");
        assert!(
            rows.iter()
                .all(|r| r.calls > 0 && r.bytes > 0 && r.seconds.is_finite())
        );
        let report = g.profile_report().unwrap();
        let clock = if device_clock { "GPU timestamps" } else { "host" };
        assert!(report.contains(clock) && report.contains("GFLOP/s"), "{report}");
    }
    assert!(gpu().profile().is_none(), "no profile unless asked for");
}

/// `Options::kernels` picks the kernel family and `Options::subgroups` the reductions (and, on the
/// CPU path, whether the direct convolutions share their weight loads through subgroups), whatever
/// the adapter: checked by the kernels the profiler saw and by the results, which agree across the
/// paths. `Auto` on a CPU adapter is the CPU path; subgroups asked of a device without them are an
/// error when the `Gpu` is built.
#[test]
fn kernel_path_and_subgroup_options_pick_the_kernels() {
    use tweedie::gpu::{KernelPath, Options, Subgroups};
    let auto = gpu();
    if auto.adapter_info().device_type == wgpu::DeviceType::Cpu
        && common::options().kernels == KernelPath::Auto
    {
        assert_eq!(auto.kernel_path(), KernelPath::Cpu);
    }
    let has_subgroups = auto.features().contains(wgpu::Features::SUBGROUP);
    let mut results: Vec<(String, Vec<f32>)> = Vec::new();
    let wide_subgroups = auto.adapter_info().subgroup_min_size >= 8;
    for (kernels, subgroups) in [
        (KernelPath::Cpu, Subgroups::Off),
        (KernelPath::Cpu, Subgroups::Auto),
        (KernelPath::Portable, Subgroups::Off),
        (KernelPath::Portable, Subgroups::On),
    ] {
        let opts = Options {
            profile: true,
            kernels,
            subgroups,
            ..common::options()
        };
        if subgroups == Subgroups::On && !has_subgroups {
            let e = Gpu::with_options(&opts)
                .err()
                .expect("subgroups on a device without them");
            assert!(e.to_string().contains("SUBGROUP"), "{e}");
            println!("no subgroups on this device: the subgroup kernels are not run here");
            continue;
        }
        let g = Gpu::with_options(&opts).unwrap();
        assert_eq!(g.kernel_path(), kernels);
        assert_eq!(g.subgroups(), subgroups == Subgroups::On);
        let x = Tensor::from_slice(&g, &[2, 8, 16, 16], &randn(1, 2 * 8 * 256)).unwrap();
        let w = Tensor::from_slice(&g, &[8, 8, 3, 3], &randn(2, 8 * 8 * 9)).unwrap();
        let y = ops::conv2d(&x, &w, None, ops::Conv2dSpec::new(1, 1)).unwrap();
        let gamma = Tensor::from_slice(&g, &[8], &randn(3, 8)).unwrap();
        let beta = Tensor::from_slice(&g, &[8], &randn(4, 8)).unwrap();
        let n = ops::group_norm(&y, &gamma, &beta, 4, 1e-5, true).unwrap();
        let s = ops::softmax_rows(&n.reshape(&[32, 128]).unwrap(), 0.5).unwrap();
        let out = s.to_vec().unwrap();
        let (rows, _) = g.profile().unwrap();
        let names: Vec<&str> = rows.iter().map(|r| r.kernel.as_str()).collect();
        let has = |pat: &str| names.iter().any(|k| k.contains(pat));
        let label = format!("{kernels:?}/{subgroups:?}: {names:?}");
        // the subgroup weight loads of the direct convolutions: CPU path, subgroups of 8 or more,
        // not turned off
        let sg_convs =
            kernels == KernelPath::Cpu && subgroups != Subgroups::Off && has_subgroups && wide_subgroups;
        assert_eq!(g.subgroup_convs(), sg_convs, "{label}");
        match kernels {
            KernelPath::Cpu => {
                assert!(has("groupnorm_cpu") && has("softmax_rows_cpu"), "{label}");
                assert_eq!(has("conv2d_direct_sg.wgsl"), sg_convs, "{label}");
                // (the weight packing is conv2d_direct.wgsl's on either)
                let plain = names
                    .iter()
                    .any(|k| k.starts_with("conv2d_direct.wgsl") && !k.ends_with("pack_weights"));
                assert_eq!(plain, !sg_convs, "{label}");
            }
            _ => assert!(
                has("conv2d.wgsl") && !has("direct") && !has("_cpu") && !has("_v4"),
                "{label}"
            ),
        }
        if kernels == KernelPath::Portable {
            let sg = subgroups == Subgroups::On;
            assert_eq!(has("groupnorm.wgsl#subgroup::groupnorm"), sg, "{label}");
            assert_eq!(has("softmax.wgsl#subgroup::softmax"), sg, "{label}");
            assert_eq!(has("groupnorm.wgsl::groupnorm"), !sg, "{label}");
        }
        results.push((label, out));
    }
    // the same numbers from every path (summation orders differ: 1e-5 relative)
    for (label, r) in &results[1..] {
        let e = tweedie::ops::reference::rel_l2(r, &results[0].1);
        assert!(e < 1e-5, "{label} differs from the CPU path by {e:.2e}");
    }
}

/// A host registers its own WGSL module at run time (validated by naga on registration, with the
/// crate's shared includes available) and dispatches its entry point through the same `KernelId` /
/// `Gpu::dispatch` path as the built-in kernels, with a typed parameter struct checked against the
/// WGSL by the same layout checker.
#[test]
fn a_registered_shader_runs_through_dispatch() {
    use tweedie::gpu::params::{KernelParams, Layout, Member, check_layout};
    use tweedie::gpu::{Access, KernelId, grid1d};

    const SRC: &str = "
struct Q { n: u32, scale: f32, seed: u32, _p: u32 }
@group(0) @binding(0) var<uniform> p: Q;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
//!include philox.inc
@compute @workgroup_size(64)
fn scale_plus_bits(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= p.n) { return; }
    out[i] = p.scale * x[i] + f32(philox(vec4<u32>(i, 0u, 0u, 0u), vec2<u32>(p.seed, 0u)).x & 1u);
}
";
    #[repr(C)]
    #[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
    struct Q {
        n: u32,
        scale: f32,
        seed: u32,
        _p: u32,
    }
    impl KernelParams for Q {
        const WGSL: (&'static str, &'static str) = ("host_scale.wgsl", "Q");
        fn members() -> Vec<Member> {
            let m = |name, offset| Member {
                name,
                offset,
                size: 4,
            };
            vec![
                m("n", std::mem::offset_of!(Q, n)),
                m("scale", std::mem::offset_of!(Q, scale)),
                m("seed", std::mem::offset_of!(Q, seed)),
                m("_p", std::mem::offset_of!(Q, _p)),
            ]
        }
    }
    check_layout(
        &Layout::of::<Q>(),
        &tweedie::gpu::validate_shader("host_scale.wgsl", SRC).unwrap(),
    )
    .unwrap();

    let g = gpu();
    g.register_shader("host_scale.wgsl", SRC).unwrap();
    // again with the same source: accepted; with another, or under a built-in name: refused
    g.register_shader("host_scale.wgsl", SRC).unwrap();
    let e = g
        .register_shader("host_scale.wgsl", "@compute @workgroup_size(1) fn f() {}")
        .unwrap_err();
    assert!(e.to_string().contains("already registered"), "{e}");
    assert!(
        g.register_shader("matmul.wgsl", SRC)
            .unwrap_err()
            .to_string()
            .contains("built-in")
    );
    // a broken module is refused at registration, naming it and the problem
    let e = g
        .register_shader("broken.wgsl", "@compute @workgroup_size(1) fn f() { let a = ; }")
        .unwrap_err();
    assert!(e.to_string().contains("broken.wgsl"), "{e}");
    let e = g
        .register_shader("noinc.wgsl", "//!include nope.inc\n")
        .unwrap_err();
    assert!(e.to_string().contains("nope.inc"), "{e}");

    let vals = [1.0f32, -2.0, 3.0, 0.5, 7.0];
    let x = Tensor::from_slice(&g, &[5], &vals).unwrap();
    let out = Tensor::empty(&g, &[5]).unwrap();
    let bytes = (5 * 4) as u64;
    g.dispatch(
        &KernelId::new("host_scale.wgsl", "scale_plus_bits"),
        &Q {
            n: 5,
            scale: 2.0,
            seed: 7,
            _p: 0,
        },
        &[
            (x.buffer(), bytes, Access::Read),
            (out.buffer(), bytes, Access::ReadWrite),
        ],
        grid1d(5, 64),
    )
    .unwrap();
    let got = out.to_vec().unwrap();
    for (i, (v, o)) in vals.iter().zip(&got).enumerate() {
        let bit = (tweedie::ops::random::philox4x32_10([i as u32, 0, 0, 0], [7, 0])[0] & 1) as f32;
        assert_eq!(*o, 2.0 * v + bit, "element {i}");
    }
}

/// The compiled-pipeline cache on disk: a library user's default keeps none; with a directory,
/// the file is written when asked (and when the device is dropped), found again by the next
/// device, a damaged or foreign file is ignored (never handed to the driver) and then replaced,
/// and an unwritable directory is an error that names the file and the way out. Where the
/// backend keeps no application cache (GL, the web) there is none to report.
#[test]
fn pipeline_cache_round_trip() {
    use tweedie::gpu::Options;
    let dir = std::env::temp_dir().join(format!("tweedie-pc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let base = Options::from_env().unwrap();
    assert!(
        Gpu::with_options(&Options {
            pipeline_cache: None,
            ..base.clone()
        })
        .unwrap()
        .pipeline_cache()
        .is_none()
    );
    let opts = Options {
        pipeline_cache: Some(dir.clone()),
        ..base.clone()
    };
    let work = |g: &Gpu| {
        let x = Tensor::from_slice(g, &[5], &[1.0, -2.0, 3.0, 0.5, 4.0]).unwrap();
        ops::affine(&x, 2.0, 1.0).unwrap().to_vec().unwrap()
    };
    let g = Gpu::with_options(&opts).unwrap();
    let Some((path, state)) = g.pipeline_cache().map(|(p, s)| (p.to_path_buf(), s.to_string())) else {
        assert!(!g.features().contains(wgpu::Features::PIPELINE_CACHE));
        eprintln!("this backend keeps no application pipeline cache: nothing more to check");
        return;
    };
    assert!(path.starts_with(&dir), "{}", path.display());
    assert_eq!(state, "empty (no file yet)");
    assert_eq!(work(&g), vec![3.0, -3.0, 7.0, 2.0, 9.0]);
    g.save_pipeline_cache().unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..8], b"TWDPLC01");
    drop(g);
    // a device opened on the directory: what loading found, and the work runs
    let opens = |want: &str| {
        let g = Gpu::with_options(&opts).unwrap();
        let state = g.pipeline_cache().unwrap().1.to_string();
        assert!(state.contains(want), "{state}");
        assert_eq!(work(&g), vec![3.0, -3.0, 7.0, 2.0, 9.0]);
        g
    };
    // found again
    drop(opens("loaded"));
    // damaged (one byte of the payload flipped): ignored, then rewritten when the device is dropped
    let mut damaged = bytes.clone();
    let last = damaged.len() - 1;
    damaged[last] ^= 0x5a;
    std::fs::write(&path, &damaged).unwrap();
    drop(opens("ignored: damaged"));
    drop(opens("loaded"));
    // a file that is not a cache at all (a user's): ignored and never overwritten
    std::fs::write(&path, b"someone else's file").unwrap();
    let g = opens("left alone");
    let e = g.save_pipeline_cache().unwrap_err().to_string();
    assert!(
        e.contains("is not one") && e.contains("TWEEDIE_PIPELINE_CACHE"),
        "{e}"
    );
    drop(g);
    assert_eq!(std::fs::read(&path).unwrap(), b"someone else's file");
    std::fs::remove_file(&path).unwrap();
    // a directory that cannot be made (a file is in the way)
    let blocked = dir.join("a-file");
    std::fs::write(&blocked, b"x").unwrap();
    let g = Gpu::with_options(&Options {
        pipeline_cache: Some(blocked.join("sub")),
        ..base
    })
    .unwrap();
    work(&g);
    let e = g.save_pipeline_cache().unwrap_err().to_string();
    assert!(
        e.contains("pipeline cache") && e.contains("TWEEDIE_PIPELINE_CACHE=off"),
        "{e}"
    );
    drop(g);
    let _ = std::fs::remove_dir_all(&dir);
}
