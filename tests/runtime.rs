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
    let g = Gpu::from_device(device.clone(), queue);
    let x = Tensor::from_slice(&g, &[4], &[1.0, -2.0, 3.0, 0.5]).unwrap();
    let y = ops::affine(&x, 2.0, 1.0).unwrap();
    assert_eq!(y.to_vec().unwrap(), vec![3.0, -3.0, 7.0, 2.0]);
    assert!(std::ptr::eq(g.device(), g.device()));
    assert_eq!(
        g.device().limits().max_buffer_size,
        device.limits().max_buffer_size
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
