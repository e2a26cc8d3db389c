//! The GPU runtime: adapter and device selection, the buffer pool, the pipeline cache and the command
//! stream that batches dispatches.
//!
//! A [`Gpu`] is a cheap handle (an `Arc`) that every tensor keeps, so buffers return to the pool when the
//! last tensor using them is dropped. Dispatches are recorded, not executed: the stream submits them when
//! a result is read back, when a batch limit is reached, or when [`Gpu::flush`] is called.

mod adapter;
mod kernel;
mod pool;
mod stream;

pub use adapter::{AdapterSummary, list_adapters};
pub use kernel::{Access, KernelId};
pub use pool::PoolStats;
pub(crate) use pool::PooledBuffer;

use crate::error::{Error, Result};
use std::sync::{Arc, Mutex};

use kernel::PipelineCache;
use pool::Pool;
use stream::Stream;

/// Optional device features the engine uses when the adapter has them.
pub const OPTIONAL_FEATURES: wgpu::Features = wgpu::Features::TIMESTAMP_QUERY
    .union(wgpu::Features::TIMESTAMP_QUERY_INSIDE_ENCODERS)
    .union(wgpu::Features::SHADER_F16)
    .union(wgpu::Features::SUBGROUP)
    .union(wgpu::Features::IMMEDIATES);

/// A handle to the device tweedie computes on. Clone it freely: all clones share one device, pool,
/// pipeline cache and command stream.
#[derive(Clone)]
pub struct Gpu {
    pub(crate) inner: Arc<GpuInner>,
}

pub(crate) struct GpuInner {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    pub(crate) info: wgpu::AdapterInfo,
    pub(crate) limits: wgpu::Limits,
    pub(crate) pool: Arc<Pool>,
    pub(crate) pipelines: PipelineCache,
    pub(crate) stream: Mutex<Stream>,
    /// Per-kernel (calls, seconds) when profiling (`TWEEDIE_PROFILE=1`).
    pub(crate) profile: Option<Mutex<std::collections::BTreeMap<String, (u64, f64)>>>,
    /// First uncaptured device error, for devices tweedie created itself.
    pub(crate) error: Arc<Mutex<Option<String>>>,
}

impl Gpu {
    /// Picks the best adapter (discrete > integrated > other > CPU; Vulkan, Metal and DX12 before GL),
    /// honouring `WGPU_BACKEND` (e.g. `vulkan`, `gl`) and `TWEEDIE_ADAPTER` (a substring of the adapter
    /// name), and opens a device with the adapter's own limits and the optional features it has.
    pub fn new() -> Result<Gpu> {
        let adapter = adapter::choose_adapter()?;
        let features = adapter.features() & OPTIONAL_FEATURES;
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("tweedie"),
            required_features: features,
            required_limits: adapter.limits(),
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        }))
        .map_err(|e| Error::NoAdapter(format!("the adapter refused to open a device: {e}")))?;
        let error = Arc::new(Mutex::new(None::<String>));
        let slot = error.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            let mut s = slot.lock().unwrap_or_else(|p| p.into_inner());
            if s.is_none() {
                *s = Some(e.to_string());
            }
        }));
        Ok(Self::build(device, queue, error))
    }

    /// Wraps a device that a host wgpu application already owns, so tweedie computes on it and shares
    /// its memory. The host keeps its own uncaptured-error handler, which sees any device error;
    /// tweedie still checks its own shader compilation with error scopes.
    pub fn from_device(device: wgpu::Device, queue: wgpu::Queue) -> Gpu {
        Self::build(device, queue, Arc::new(Mutex::new(None)))
    }

    fn build(device: wgpu::Device, queue: wgpu::Queue, error: Arc<Mutex<Option<String>>>) -> Gpu {
        let info = device.adapter_info();
        let limits = device.limits();
        let pool = Arc::new(Pool::new(device.clone()));
        let align = limits.min_uniform_buffer_offset_alignment.max(256) as u64;
        let stream = Stream::new(&device, align);
        Gpu {
            inner: Arc::new(GpuInner {
                pipelines: PipelineCache::new(device.clone()),
                device,
                queue,
                info,
                limits,
                pool,
                stream: Mutex::new(stream),
                profile: std::env::var("TWEEDIE_PROFILE")
                    .is_ok_and(|v| v == "1")
                    .then(|| Mutex::new(Default::default())),
                error,
            }),
        }
    }

    /// The wgpu device.
    pub fn device(&self) -> &wgpu::Device {
        &self.inner.device
    }

    /// The wgpu queue.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.inner.queue
    }

    /// What the driver says about the adapter behind this device.
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.inner.info
    }

    /// The limits the device was opened with.
    pub fn limits(&self) -> &wgpu::Limits {
        &self.inner.limits
    }

    /// The features the device was opened with.
    pub fn features(&self) -> wgpu::Features {
        self.inner.device.features()
    }

    /// Statistics of the buffer pool (allocations, bytes in use, peak).
    pub fn pool_stats(&self) -> PoolStats {
        self.inner.pool.stats()
    }

    /// Resets the pool's peak-bytes counter to the bytes in use now.
    pub fn reset_peak(&self) {
        self.inner.pool.reset_peak();
    }

    /// Number of distinct compute pipelines compiled so far.
    pub fn pipeline_count(&self) -> usize {
        self.inner.pipelines.len()
    }

    /// Number of command submissions made so far.
    pub fn submit_count(&self) -> u64 {
        self.lock_stream().submits
    }

    /// Records a compute dispatch of `kernel` with `params` (a small block of 32-bit words, at most 64)
    /// and the storage `buffers` (bound at bindings 1.. in order; the parameters are binding 0).
    pub fn dispatch(
        &self,
        kernel: &KernelId,
        params: &[u32],
        buffers: &[(&wgpu::Buffer, u64, Access)],
        groups: [u32; 3],
    ) -> Result<()> {
        let max = self.inner.limits.max_compute_workgroups_per_dimension;
        if groups.iter().any(|&g| g > max) {
            return Err(Error::TooLarge {
                what: format!(
                    "kernel {}::{} grid {:?} (workgroups)",
                    kernel.file, kernel.entry, groups
                ),
                bytes: *groups.iter().max().unwrap() as u64,
                limit: max as u64,
            });
        }
        if groups.contains(&0) {
            return Ok(());
        }
        let access: Vec<Access> = buffers.iter().map(|b| b.2).collect();
        let pipeline = self.inner.pipelines.get(kernel, &access)?;
        let mut stream = self.lock_stream();
        if stream.is_full() || self.inner.profile.is_some() {
            stream.flush(&self.inner)?;
        }
        stream.record_dispatch(&self.inner.device, pipeline, params, buffers, groups);
        if let Some(prof) = &self.inner.profile {
            // profiling: run each dispatch alone and time it on the host (coarse, but it needs no
            // timestamp support and on CPU adapters it is exact enough)
            self.inner.device.poll(wgpu::PollType::wait_indefinitely()).ok();
            let start = std::time::Instant::now();
            stream.flush(&self.inner)?;
            self.inner.device.poll(wgpu::PollType::wait_indefinitely()).ok();
            let dt = start.elapsed().as_secs_f64();
            let mut p = prof.lock().unwrap_or_else(|p| p.into_inner());
            let e = p.entry(format!("{}::{}", kernel.file, kernel.entry)).or_default();
            e.0 += 1;
            e.1 += dt;
        }
        Ok(())
    }

    /// With `TWEEDIE_PROFILE=1`: per-kernel calls and total seconds, slowest first.
    pub fn profile_report(&self) -> Option<String> {
        let p = self
            .inner
            .profile
            .as_ref()?
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let total: f64 = p.values().map(|v| v.1).sum();
        let mut rows: Vec<_> = p.into_iter().collect();
        rows.sort_by(|a, b| b.1.1.total_cmp(&a.1.1));
        let mut out = format!(
            "{:<44} {:>8} {:>10} {:>6}\n",
            "kernel", "calls", "seconds", "share"
        );
        for (k, (n, t)) in rows {
            out += &format!(
                "{k:<44} {n:>8} {t:>10.3} {:>5.1}%\n",
                100.0 * t / total.max(1e-12)
            );
        }
        Some(out)
    }

    /// Records a buffer-to-buffer copy in the stream.
    pub(crate) fn copy(&self, src: &wgpu::Buffer, src_off: u64, dst: &wgpu::Buffer, dst_off: u64, size: u64) {
        self.lock_stream().record_copy(src, src_off, dst, dst_off, size);
    }

    /// Submits everything recorded so far (does not wait for it).
    pub fn flush(&self) -> Result<()> {
        self.lock_stream().flush(&self.inner)
    }

    /// Submits everything recorded so far and waits until the device has finished it.
    pub fn synchronize(&self) -> Result<()> {
        let mut s = self.lock_stream();
        s.flush(&self.inner)?;
        drop(s);
        self.inner
            .device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Gpu(format!("waiting for the device failed: {e}")))?;
        self.check_error()
    }

    /// Submits the work recorded so far and waits until the work submitted at the previous `pace` has
    /// finished. Called once per sampler or solver step, it keeps the device at most one step ahead of
    /// the host (so progress reports mean something) without idling it between steps.
    pub fn pace(&self) -> Result<()> {
        let mut s = self.lock_stream();
        s.flush(&self.inner)?;
        let last = s.last.clone();
        let wait = std::mem::replace(&mut s.paced, last);
        drop(s);
        if let Some(idx) = wait {
            self.inner
                .device
                .poll(wgpu::PollType::Wait {
                    submission_index: Some(idx),
                    timeout: None,
                })
                .map_err(|e| Error::Gpu(format!("waiting for the device failed: {e}")))?;
        }
        self.check_error()
    }

    /// Writes `bytes` into `buffer` at offset 0, ordered after every dispatch recorded so far.
    pub(crate) fn upload(&self, buffer: &wgpu::Buffer, bytes: &[u8]) -> Result<()> {
        let mut s = self.lock_stream();
        // queue.write_buffer lands before the next submission's commands: submit pending work first so a
        // pooled buffer that pending dispatches still read is not overwritten early.
        if s.has_pending() {
            s.flush(&self.inner)?;
        }
        self.inner.queue.write_buffer(buffer, 0, bytes);
        Ok(())
    }

    /// Copies `size` bytes of `buffer` back to the host, after all recorded work. The one place where
    /// results leave the device.
    pub(crate) fn read_bytes(&self, buffer: &wgpu::Buffer, size: u64) -> Result<Vec<u8>> {
        let staging = self.inner.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("tweedie readback"),
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut s = self.lock_stream();
        s.record_copy(buffer, 0, &staging, 0, size);
        s.flush(&self.inner)?;
        drop(s);
        let (tx, rx) = std::sync::mpsc::channel();
        staging.map_async(wgpu::MapMode::Read, .., move |r| {
            let _ = tx.send(r);
        });
        self.inner
            .device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Gpu(format!("waiting for the device failed: {e}")))?;
        self.check_error()?;
        rx.recv()
            .map_err(|_| Error::Gpu("readback callback never ran".into()))?
            .map_err(|e| Error::Gpu(format!("mapping a readback buffer failed: {e}")))?;
        let out = staging
            .get_mapped_range(..)
            .map_err(|e| Error::Gpu(format!("reading a mapped buffer failed: {e:?}")))?
            .to_vec();
        staging.unmap();
        Ok(out)
    }

    pub(crate) fn check_error(&self) -> Result<()> {
        let mut slot = self.inner.error.lock().unwrap_or_else(|p| p.into_inner());
        match slot.take() {
            Some(e) => Err(Error::Gpu(e)),
            None => Ok(()),
        }
    }

    fn lock_stream(&self) -> std::sync::MutexGuard<'_, Stream> {
        self.inner.stream.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Largest buffer binding the device allows, in bytes.
    pub fn max_binding_bytes(&self) -> u64 {
        self.inner
            .limits
            .max_storage_buffer_binding_size
            .min(self.inner.limits.max_buffer_size)
    }
}

/// Splits `n` invocations of a 1-D kernel with `wg` threads per workgroup into a 2-D grid that stays
/// under the 65,535-workgroups-per-dimension limit. Kernels recover the flat index as
/// `gid.x + gid.y * num_workgroups.x * wg`.
pub fn grid1d(n: usize, wg: u32) -> [u32; 3] {
    let groups = n.div_ceil(wg as usize).max(1);
    if groups <= 65535 {
        [groups as u32, 1, 1]
    } else {
        let gy = groups.div_ceil(32768);
        [32768, gy as u32, 1]
    }
}
