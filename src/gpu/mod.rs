//! The GPU runtime: adapter and device selection, the buffer pool, the pipeline cache and the command
//! stream that batches dispatches.
//!
//! A [`Gpu`] is a cheap handle (an `Arc`) that every tensor keeps, so buffers return to the pool when the
//! last tensor using them is dropped. Dispatches are recorded, not executed: the stream submits them when
//! a result is read back, when a batch limit is reached, or when [`Gpu::flush`] is called.

mod adapter;
mod kernel;
pub mod params;
mod pool;
mod stream;

pub use adapter::{AdapterSummary, list_adapters};
pub use kernel::{
    Access, INCLUDES, KernelId, SMALL_TILES, SUBGROUP, ShaderModuleInfo, WIDE_TILE_WORKGROUP_BYTES,
    shader_modules, validate_shader,
};

/// The constants shared by the WGSL generators (`shaders/gen_*.py`) and the launchers, from the one
/// file both read (`shaders/constants.rs`).
pub mod shader_consts {
    include!("../../shaders/constants.rs");
}
pub use pool::PoolStats;
pub(crate) use pool::PooledBuffer;

use crate::error::{Error, Result};
use std::sync::{Arc, Mutex};

use kernel::PipelineCache;
use pool::Pool;
pub use stream::KernelProfile;
use stream::{Stream, Tag};

/// Optional device features the engine uses when the adapter has them.
pub const OPTIONAL_FEATURES: wgpu::Features = wgpu::Features::TIMESTAMP_QUERY
    .union(wgpu::Features::TIMESTAMP_QUERY_INSIDE_ENCODERS)
    .union(wgpu::Features::SHADER_F16)
    .union(wgpu::Features::SUBGROUP)
    .union(wgpu::Features::IMMEDIATES)
    .union(wgpu::Features::PIPELINE_CACHE);

/// The limits every tweedie kernel runs within: the WebGPU defaults (`wgpu::Limits::default()`) for
/// compute. [`Gpu::from_device`] checks a host's device against them; devices with more workgroup
/// memory get wider GEMM tiles ([`WIDE_TILE_WORKGROUP_BYTES`]).
pub const REQUIRED_LIMITS: wgpu::Limits = {
    let mut l = wgpu::Limits::downlevel_defaults();
    l.max_compute_workgroups_per_dimension = 65535;
    l.max_compute_workgroup_storage_size = 16384;
    l.max_compute_invocations_per_workgroup = 256;
    l.max_compute_workgroup_size_x = 256;
    l.max_compute_workgroup_size_y = 16;
    l.max_compute_workgroup_size_z = 1;
    l.max_storage_buffers_per_shader_stage = 8;
    l.max_bind_groups = 1;
    l.max_uniform_buffer_binding_size = 256;
    l
};

/// Which family of kernels the engine runs. Every op that has a CPU-tuned kernel asks
/// [`Gpu::cpu_kernels`], which resolves this once when the [`Gpu`] is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KernelPath {
    /// By adapter type: the CPU-tuned kernels on CPU adapters (lavapipe, SwiftShader), the portable
    /// ones on every GPU.
    #[default]
    Auto,
    /// The kernels a GPU runs (implicit-GEMM convolutions, attention composed of products and
    /// softmax, workgroup-reduction group norm, tiled GEMMs), on any adapter.
    Portable,
    /// The CPU-tuned kernels (direct convolutions with uniform-window weights, fused attention,
    /// one-SIMD-group group norm, vec4 elementwise forms, one-invocation products), on any adapter.
    Cpu,
}

impl std::str::FromStr for KernelPath {
    type Err = Error;
    fn from_str(s: &str) -> Result<KernelPath> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Ok(KernelPath::Auto),
            "portable" | "gpu" => Ok(KernelPath::Portable),
            "cpu" => Ok(KernelPath::Cpu),
            _ => Err(Error::Input(format!(
                "TWEEDIE_KERNELS={s:?} is not a kernel path: use auto (by adapter type), portable (the \
                 kernels a GPU runs) or cpu (the CPU-tuned kernels)"
            ))),
        }
    }
}

/// Whether kernels use subgroup operations: the reductions (group norm, softmax), and on the
/// CPU-tuned path the direct convolutions' shared weight loads (`conv2d_direct_sg.wgsl`, on
/// subgroups of at least eight invocations).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Subgroups {
    /// Where the device has `Features::SUBGROUP`: the reductions where the portable kernels run (on
    /// the CPU path they measured no faster), the direct convolutions where the CPU-tuned ones run.
    #[default]
    Auto,
    /// Always: the portable reductions wherever they run (the CPU path too, for the shapes its own
    /// kernels do not take), and the direct convolutions' shared loads as under `Auto`; a device
    /// without `Features::SUBGROUP` is an error when the [`Gpu`] is built.
    On,
    /// Never: the workgroup-memory reductions and each lane's own weight loads everywhere.
    Off,
}

impl std::str::FromStr for Subgroups {
    type Err = Error;
    fn from_str(s: &str) -> Result<Subgroups> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Ok(Subgroups::Auto),
            "on" | "1" => Ok(Subgroups::On),
            "off" | "0" => Ok(Subgroups::Off),
            _ => Err(Error::Input(format!(
                "TWEEDIE_SUBGROUPS={s:?} is not a subgroup setting: use auto (where the device has \
                 them), on or off"
            ))),
        }
    }
}

/// Whether stride-1 3x3 convolutions on the CPU-tuned path take Winograd F(2x2, 3x3) kernels
/// (`shaders/conv2d_winograd.wgsl`) instead of the direct ones. The portable path never does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Winograd {
    /// By shape, where it measured faster than the direct kernel: on lavapipe (Mesa 22.3) no shape
    /// yet, so this is the direct kernels.
    #[default]
    Auto,
    /// F(2x2, 3x3) for every stride-1 3x3 convolution the CPU-tuned path runs (for tests and
    /// benchmarks).
    On,
    /// F(4x4, 3x3) likewise (`TWEEDIE_WINOGRAD=f4`): a quarter of the direct multiplies, about
    /// 6x F(2x2)'s f32 error (the goldens hold; the whole-UNet finite-difference gradcheck, whose
    /// gap is the forwards' rounding, does not: 2.3e-3 against its 2e-3).
    F4,
    /// Never: the direct kernels.
    Off,
}

impl std::str::FromStr for Winograd {
    type Err = Error;
    fn from_str(s: &str) -> Result<Winograd> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Ok(Winograd::Auto),
            "on" | "1" | "f2" => Ok(Winograd::On),
            "f4" => Ok(Winograd::F4),
            "off" | "0" => Ok(Winograd::Off),
            _ => Err(Error::Input(format!(
                "TWEEDIE_WINOGRAD={s:?} is not a Winograd setting: use auto (by shape), on (F(2x2, \
                 3x3)), f4 (F(4x4, 3x3)) or off"
            ))),
        }
    }
}

/// How tweedie opens or uses a device. The command line fills it from the environment
/// ([`Options::from_env`]); a library user sets the fields.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Time every kernel: with GPU timestamps where the device has `TIMESTAMP_QUERY`, else on the
    /// host (each dispatch runs alone). Slow either way (every submission is waited for); for tuning.
    pub profile: bool,
    /// With `profile`: time on the host even where the device has timestamps
    /// (`TWEEDIE_PROFILE=host`).
    pub host_timing: bool,
    /// [`Gpu::with_options`] only: take the adapter whose name contains this (case-insensitive).
    pub adapter: Option<String>,
    /// [`Gpu::with_options`] only: the backends to consider (default: Vulkan, Metal and DX12, then GL).
    pub backends: Option<wgpu::Backends>,
    /// Which kernels run (`TWEEDIE_KERNELS=auto|portable|cpu`).
    pub kernels: KernelPath,
    /// Subgroup reductions (`TWEEDIE_SUBGROUPS=auto|on|off`).
    pub subgroups: Subgroups,
    /// Winograd 3x3 convolutions on the CPU-tuned path (`TWEEDIE_WINOGRAD=auto|on|off`).
    pub winograd: Winograd,
    /// A directory to keep the driver's compiled pipelines in between runs (wgpu's
    /// `PipelineCache`; Vulkan only, ignored elsewhere and on the web). `None` (the default for a
    /// library user) keeps nothing; the command line uses [`default_pipeline_cache_dir`]
    /// (`TWEEDIE_PIPELINE_CACHE=DIR` or `off`).
    pub pipeline_cache: Option<std::path::PathBuf>,
}

/// Where the command line keeps compiled pipelines by default: `tweedie/` in the user's cache
/// directory (`$XDG_CACHE_HOME` or `~/.cache` on Linux, `~/Library/Caches` on macOS,
/// `%LOCALAPPDATA%` on Windows), or `None` where the platform has none.
#[cfg(not(target_arch = "wasm32"))]
pub fn default_pipeline_cache_dir() -> Option<std::path::PathBuf> {
    dirs::cache_dir().map(|d| d.join("tweedie"))
}

impl Options {
    /// The command line's options: `TWEEDIE_PROFILE=1` (or `host`: host timing), `TWEEDIE_ADAPTER`
    /// (a substring of the adapter name), `WGPU_BACKEND` (e.g. `vulkan`, `gl`), `TWEEDIE_KERNELS`
    /// `TWEEDIE_SUBGROUPS` and `TWEEDIE_WINOGRAD`. An unknown value is an error naming the valid ones.
    pub fn from_env() -> Result<Options> {
        let var = |k: &str| std::env::var(k).unwrap_or_default();
        let profile = var("TWEEDIE_PROFILE");
        if !["", "0", "1", "host"].contains(&profile.as_str()) {
            return Err(Error::Input(format!(
                "TWEEDIE_PROFILE={profile:?} is not a profile setting: use 1 (GPU timestamps where the \
                 device has them), host (host timing) or 0"
            )));
        }
        if std::env::var_os("TWEEDIE_CONV").is_some() {
            return Err(Error::Input(
                "TWEEDIE_CONV is gone: TWEEDIE_KERNELS=portable runs the implicit-GEMM convolutions \
                 (and every other GPU kernel) on any adapter; unset TWEEDIE_CONV"
                    .into(),
            ));
        }
        Ok(Options {
            profile: profile == "1" || profile == "host",
            host_timing: profile == "host",
            adapter: std::env::var("TWEEDIE_ADAPTER").ok().filter(|s| !s.is_empty()),
            backends: wgpu::Backends::from_env(),
            kernels: var("TWEEDIE_KERNELS").parse()?,
            subgroups: var("TWEEDIE_SUBGROUPS").parse()?,
            winograd: var("TWEEDIE_WINOGRAD").parse()?,
            pipeline_cache: match var("TWEEDIE_PIPELINE_CACHE").trim() {
                "" => {
                    #[cfg(not(target_arch = "wasm32"))]
                    {
                        default_pipeline_cache_dir()
                    }
                    #[cfg(target_arch = "wasm32")]
                    {
                        None
                    }
                }
                "off" | "0" => None,
                dir => Some(std::path::PathBuf::from(dir)),
            },
        })
    }
}

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
    /// Per-kernel rows when profiling (`TWEEDIE_PROFILE=1`).
    pub(crate) profile: Option<Mutex<std::collections::BTreeMap<String, KernelProfile>>>,
    /// First uncaptured device error, for devices tweedie created itself.
    pub(crate) error: Arc<Mutex<Option<String>>>,
    /// The CPU-tuned kernels run ([`KernelPath`] resolved against the adapter type).
    pub(crate) cpu_kernels: bool,
    /// Reductions use subgroup operations.
    pub(crate) subgroups: bool,
    /// The CPU path's direct convolutions share their weight loads through subgroups.
    pub(crate) subgroup_convs: bool,
    /// [`Options::winograd`].
    pub(crate) winograd: Winograd,
    /// Host readbacks so far ([`Gpu::readbacks`]).
    pub(crate) readbacks: std::sync::atomic::AtomicU64,
}

impl Gpu {
    /// Picks the best adapter (discrete > integrated > other > CPU; Vulkan, Metal and DX12 before GL)
    /// with the default [`Options`], and opens a device with the adapter's own limits and the
    /// optional features it has. Reads no environment variable (the command line uses
    /// [`Gpu::with_options`] with [`Options::from_env`]).
    pub fn new() -> Result<Gpu> {
        Self::with_options(&Options::default())
    }

    /// [`Gpu::new`] with options: an adapter by name, the backends, profiling.
    ///
    /// Blocks until the driver answers; in a browser (where a page cannot block) use
    /// [`Gpu::with_options_async`].
    pub fn with_options(options: &Options) -> Result<Gpu> {
        pollster::block_on(Self::with_options_async(options))
    }

    /// [`Gpu::new`] without blocking: what a web page awaits (the browser's WebGPU answers
    /// asynchronously).
    pub async fn new_async() -> Result<Gpu> {
        Self::with_options_async(&Options::default()).await
    }

    /// [`Gpu::with_options`] without blocking.
    pub async fn with_options_async(options: &Options) -> Result<Gpu> {
        let adapter = adapter::choose_adapter(options).await?;
        let features = adapter.features() & OPTIONAL_FEATURES;
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("tweedie"),
                required_features: features,
                required_limits: adapter.limits(),
                experimental_features: wgpu::ExperimentalFeatures::disabled(),
                memory_hints: wgpu::MemoryHints::Performance,
                trace: wgpu::Trace::Off,
            })
            .await
            .map_err(|e| Error::NoAdapter(format!("the adapter refused to open a device: {e}")))?;
        let error = Arc::new(Mutex::new(None::<String>));
        let slot = error.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            let mut s = slot.lock().unwrap_or_else(|p| p.into_inner());
            if s.is_none() {
                *s = Some(e.to_string());
            }
        }));
        Self::check_limits(&device.limits())?;
        Self::build(device, queue, error, options)
    }

    /// Wraps a device that a host wgpu application already owns (a renderer, an editor), so tweedie
    /// computes on it and shares its memory: tensors can wrap the host's buffers
    /// ([`crate::Tensor::from_buffer`]) and textures ([`crate::ops::texture_to_tensor`]) without a
    /// copy through the CPU.
    ///
    /// The device needs no optional feature, and every kernel runs within `wgpu::Limits::default()`
    /// ([`REQUIRED_LIMITS`]); a device opened with less gets an error that names the limit. Wider GEMM
    /// tiles are used where the device allows them.
    ///
    /// Sharing the queue: tweedie records its dispatches and submits them on the shared queue when a
    /// result is needed, at [`Gpu::flush`], [`Gpu::pace`] or [`Gpu::synchronize`]. Work the host
    /// submits afterwards on the same queue runs after it, so: call [`Gpu::flush`] before the host
    /// submits work that reads tweedie's output, and submit the host's writes to a buffer or texture
    /// before handing it to tweedie (tweedie's next submission runs after them). The host keeps its
    /// own uncaptured-error handler, which sees any device error; tweedie checks its own shader
    /// compilation with error scopes.
    pub fn from_device(device: wgpu::Device, queue: wgpu::Queue, options: &Options) -> Result<Gpu> {
        Self::check_limits(&device.limits())?;
        Self::build(device, queue, Arc::new(Mutex::new(None)), options)
    }

    /// Errors naming each compute limit of `have` below [`REQUIRED_LIMITS`].
    pub fn check_limits(have: &wgpu::Limits) -> Result<()> {
        let r = &REQUIRED_LIMITS;
        let checks = [
            (
                "max_compute_workgroup_storage_size",
                have.max_compute_workgroup_storage_size as u64,
                r.max_compute_workgroup_storage_size as u64,
            ),
            (
                "max_compute_invocations_per_workgroup",
                have.max_compute_invocations_per_workgroup as u64,
                r.max_compute_invocations_per_workgroup as u64,
            ),
            (
                "max_compute_workgroup_size_x",
                have.max_compute_workgroup_size_x as u64,
                r.max_compute_workgroup_size_x as u64,
            ),
            (
                "max_compute_workgroup_size_y",
                have.max_compute_workgroup_size_y as u64,
                r.max_compute_workgroup_size_y as u64,
            ),
            (
                "max_compute_workgroups_per_dimension",
                have.max_compute_workgroups_per_dimension as u64,
                r.max_compute_workgroups_per_dimension as u64,
            ),
            (
                "max_storage_buffers_per_shader_stage",
                have.max_storage_buffers_per_shader_stage as u64,
                r.max_storage_buffers_per_shader_stage as u64,
            ),
            (
                "max_bind_groups",
                have.max_bind_groups as u64,
                r.max_bind_groups as u64,
            ),
            (
                "max_uniform_buffer_binding_size",
                have.max_uniform_buffer_binding_size,
                r.max_uniform_buffer_binding_size,
            ),
        ];
        let short: Vec<String> = checks
            .iter()
            .filter(|(_, have, need)| have < need)
            .map(|(name, have, need)| format!("{name} is {have}, tweedie needs {need}"))
            .collect();
        if short.is_empty() {
            Ok(())
        } else {
            Err(Error::Gpu(format!(
                "the device's limits are too low for tweedie's kernels: {}; request at least \
                 wgpu::Limits::default() (or tweedie::gpu::REQUIRED_LIMITS) when creating the device",
                short.join("; ")
            )))
        }
    }

    /// Whether the GEMM kernels may use their 512-wide tiles (the device has at least
    /// [`WIDE_TILE_WORKGROUP_BYTES`] of workgroup memory).
    pub fn wide_tiles(&self) -> bool {
        self.inner.limits.max_compute_workgroup_storage_size >= WIDE_TILE_WORKGROUP_BYTES
    }

    fn build(
        device: wgpu::Device,
        queue: wgpu::Queue,
        error: Arc<Mutex<Option<String>>>,
        options: &Options,
    ) -> Result<Gpu> {
        let info = device.adapter_info();
        let limits = device.limits();
        let cpu_kernels = match options.kernels {
            KernelPath::Auto => info.device_type == wgpu::DeviceType::Cpu,
            KernelPath::Portable => false,
            KernelPath::Cpu => true,
        };
        let has_subgroups = device.features().contains(wgpu::Features::SUBGROUP);
        let subgroups = match options.subgroups {
            Subgroups::Auto => has_subgroups && !cpu_kernels,
            Subgroups::Off => false,
            Subgroups::On if has_subgroups => true,
            Subgroups::On => {
                return Err(Error::Gpu(format!(
                    "subgroups were asked for (TWEEDIE_SUBGROUPS=on) but the device {} ({:?}) was \
                     opened without Features::SUBGROUP; use auto or off",
                    info.name, info.backend
                )));
            }
        };
        // the CPU path's direct convolutions with shared weight loads: not in a browser (WebGPU
        // wants `enable subgroups;`, and no WebGPU adapter measured this)
        let subgroup_convs = cpu_kernels
            && has_subgroups
            && options.subgroups != Subgroups::Off
            && info.subgroup_min_size as usize >= shader_consts::SG_LANES
            && !cfg!(target_arch = "wasm32");
        // CPU-path kernels read some tensors as uniform windows
        let pool = Arc::new(Pool::new(device.clone(), cpu_kernels));
        let align = limits.min_uniform_buffer_offset_alignment.max(256) as u64;
        let timestamps = (options.profile
            && !options.host_timing
            && device.features().contains(wgpu::Features::TIMESTAMP_QUERY))
        .then(|| queue.get_timestamp_period());
        let stream = Stream::new(&device, align, timestamps);
        Ok(Gpu {
            inner: Arc::new(GpuInner {
                pipelines: PipelineCache::new(
                    device.clone(),
                    #[cfg(not(target_arch = "wasm32"))]
                    options
                        .pipeline_cache
                        .as_deref()
                        .and_then(|dir| kernel::DiskCache::open(&device, &info, dir)),
                ),
                device,
                queue,
                info,
                limits,
                pool,
                stream: Mutex::new(stream),
                profile: options.profile.then(|| Mutex::new(Default::default())),
                error,
                cpu_kernels,
                subgroups,
                subgroup_convs,
                winograd: options.winograd,
                readbacks: Default::default(),
            }),
        })
    }

    /// Whether the CPU-tuned kernels run ([`Options::kernels`] resolved against the adapter type,
    /// once, when the `Gpu` was built). The one place an op asks which kernel family to take.
    pub fn cpu_kernels(&self) -> bool {
        self.inner.cpu_kernels
    }

    /// [`Options::winograd`] as given (the CPU-tuned convolutions decide by shape under `Auto`).
    pub fn winograd(&self) -> Winograd {
        self.inner.winograd
    }

    /// The kernel path in force: [`KernelPath::Cpu`] or [`KernelPath::Portable`], never `Auto`.
    pub fn kernel_path(&self) -> KernelPath {
        if self.inner.cpu_kernels {
            KernelPath::Cpu
        } else {
            KernelPath::Portable
        }
    }

    /// Whether reductions use subgroup operations ([`Options::subgroups`] resolved against the
    /// device's features).
    pub fn subgroups(&self) -> bool {
        self.inner.subgroups
    }

    /// Whether the CPU-tuned direct convolutions share their weight loads through subgroup
    /// operations (`conv2d_direct_sg.wgsl`): CPU-tuned kernels, `Features::SUBGROUP`, subgroups of
    /// at least [`SG_LANES`](shader_consts::SG_LANES) invocations, and [`Options::subgroups`] not
    /// `Off`.
    pub fn subgroup_convs(&self) -> bool {
        self.inner.subgroup_convs
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

    /// Registers a WGSL module of the host's under `name` (e.g. `"my_kernels.wgsl"`), so its entry
    /// points dispatch like the built-in ones: `gpu.dispatch(&KernelId::new(name, entry), &params,
    /// ...)`, with the parameters at binding 0 and the buffers at 1.. (see [`Gpu::dispatch`]). The
    /// module may pull in the crate's shared WGSL with `//!include NAME` ([`INCLUDES`]: the Philox
    /// generator, the GEMM tile, the reductions). It is parsed and validated by naga now, so a broken
    /// module is an error here that shows the offending line, not at the first dispatch. A built-in
    /// name is refused, and so is a second registration of `name` with another source.
    pub fn register_shader(&self, name: &'static str, source: &str) -> Result<()> {
        self.inner.pipelines.register(name, source)
    }

    /// The file this device's compiled pipelines are kept in between runs, and what loading it
    /// found (`loaded N KiB`, `empty (no file yet)`, `ignored: ...`); `None` where no cache is kept
    /// ([`Options::pipeline_cache`] unset, a backend without application pipeline caches, the web).
    pub fn pipeline_cache(&self) -> Option<(&std::path::Path, &str)> {
        #[cfg(not(target_arch = "wasm32"))]
        {
            self.inner
                .pipelines
                .disk
                .as_ref()
                .map(|d| (d.path.as_path(), d.state.as_str()))
        }
        #[cfg(target_arch = "wasm32")]
        {
            None
        }
    }

    /// Writes the pipeline cache ([`Gpu::pipeline_cache`]) now, if pipelines were compiled since it
    /// was loaded or last written (it is also written when the last clone of the `Gpu` is dropped,
    /// ignoring errors there). Errors name the file and how to turn the cache off.
    pub fn save_pipeline_cache(&self) -> Result<()> {
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(d) = &self.inner.pipelines.disk {
            return d.save();
        }
        Ok(())
    }

    /// Number of distinct compute pipelines compiled so far.
    pub fn pipeline_count(&self) -> usize {
        self.inner.pipelines.len()
    }

    /// Number of command submissions made so far.
    pub fn submit_count(&self) -> u64 {
        self.lock_stream().submits
    }

    /// Records a compute dispatch of `kernel` with `params` (binding 0: a `#[repr(C)]` plain-data
    /// struct laid out as the kernel's WGSL parameter struct, at most 256 bytes; the crate's are in
    /// [`params`], checked against their WGSL by a naga test) and the storage `buffers` (bound at
    /// bindings 1.. in order).
    pub fn dispatch(
        &self,
        kernel: &KernelId,
        params: &impl bytemuck::Pod,
        buffers: &[(&wgpu::Buffer, u64, Access)],
        groups: [u32; 3],
    ) -> Result<()> {
        self.dispatch_flops(kernel, params, buffers, groups, 0)
    }

    /// A scratch buffer of `bytes` that kernels may write as storage and read as uniform windows
    /// (outside the tensor pool; freed when dropped and no pending work uses it).
    pub(crate) fn uniform_scratch(&self, bytes: u64) -> wgpu::Buffer {
        self.inner.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("tweedie uniform scratch"),
            size: bytes,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::UNIFORM,
            mapped_at_creation: false,
        })
    }

    /// [`Self::dispatch`] of a kernel that does `flops` floating-point operations (multiply-adds
    /// count two), for the profile's GFLOP/s column.
    pub(crate) fn dispatch_flops(
        &self,
        kernel: &KernelId,
        params: &impl bytemuck::Pod,
        buffers: &[(&wgpu::Buffer, u64, Access)],
        groups: [u32; 3],
        flops: u64,
    ) -> Result<()> {
        let at: Vec<(&wgpu::Buffer, u64, u64, Access)> =
            buffers.iter().map(|&(b, n, a)| (b, 0, n, a)).collect();
        self.dispatch_counted(kernel, params, &at, groups, flops)
    }

    /// [`Self::dispatch_flops`] with each buffer bound from a byte offset: `(buffer, offset, size,
    /// access)` (a uniform window of a larger buffer, for instance).
    pub(crate) fn dispatch_counted(
        &self,
        kernel: &KernelId,
        params: &impl bytemuck::Pod,
        buffers: &[(&wgpu::Buffer, u64, u64, Access)],
        groups: [u32; 3],
        flops: u64,
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
        let params = bytemuck::bytes_of(params);
        let access: Vec<Access> = buffers.iter().map(|b| b.3).collect();
        let pipeline = self.inner.pipelines.get(kernel, &access)?;
        let tag = self.inner.profile.as_ref().map(|_| {
            // bytes bound, each buffer window counted once: what the kernel must at least move
            let mut seen: Vec<(&wgpu::Buffer, u64)> = Vec::new();
            let mut bytes = 0;
            for &(b, at, n, _) in buffers {
                if !seen.contains(&(b, at)) {
                    seen.push((b, at));
                    bytes += n;
                }
            }
            Tag {
                name: format!("{}::{}", kernel.file, kernel.entry),
                flops,
                bytes,
            }
        });
        let mut stream = self.lock_stream();
        let host_timed = tag.is_some() && !stream.timed_on_device();
        if stream.is_full() || host_timed {
            stream.flush(&self.inner)?;
        }
        if !host_timed {
            // with timestamps, flush reads each submission's times back after waiting for it
            stream.record_dispatch(&self.inner.device, pipeline, params, buffers, groups, tag);
            return Ok(());
        }
        // host timing (no timestamps): run each dispatch alone and time it on the host (coarse, but
        // on CPU adapters exact enough)
        stream.record_dispatch(&self.inner.device, pipeline, params, buffers, groups, None);
        self.inner.device.poll(wgpu::PollType::wait_indefinitely()).ok();
        let start = web_time::Instant::now();
        stream.flush(&self.inner)?;
        self.inner.device.poll(wgpu::PollType::wait_indefinitely()).ok();
        let dt = start.elapsed().as_secs_f64();
        if let (Some(prof), Some(tag)) = (&self.inner.profile, tag) {
            let mut p = prof.lock().unwrap_or_else(|p| p.into_inner());
            p.entry(tag.name.clone()).or_default().add(&tag, dt);
        }
        Ok(())
    }

    /// With [`Options::profile`]: one row per kernel, slowest first, and whether the times are GPU
    /// timestamps (`true`) or host times of each dispatch run alone. Work still recorded but not
    /// submitted is not in it ([`Self::synchronize`] first).
    pub fn profile(&self) -> Option<(Vec<KernelProfile>, bool)> {
        let p = self.inner.profile.as_ref()?;
        let mut rows: Vec<KernelProfile> = p
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, r)| KernelProfile {
                kernel: k.clone(),
                ..r.clone()
            })
            .collect();
        rows.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
        Some((rows, self.lock_stream().timed_on_device()))
    }

    /// Forgets the profile so far (after warm-up runs, say: the first run of a model also pays for
    /// fresh buffers). Submits and waits for the work recorded until now, so it is not counted later.
    pub fn reset_profile(&self) -> Result<()> {
        self.synchronize()?;
        if let Some(p) = &self.inner.profile {
            p.lock().unwrap_or_else(|p| p.into_inner()).clear();
        }
        Ok(())
    }

    /// [`Self::profile`] as a table (`TWEEDIE_PROFILE=1` on the command line prints it): per
    /// kernel, calls, seconds, share, and the rates reached: GFLOP/s where the launcher counts
    /// operations (convolutions, matrix products) and GB/s of the bytes bound (each binding moved
    /// once: a lower bound of the traffic). The first line names the device and the clock.
    pub fn profile_report(&self) -> Option<String> {
        let (rows, device_clock) = self.profile()?;
        let total: f64 = rows.iter().map(|r| r.seconds).sum();
        let clock = if device_clock {
            "GPU timestamps"
        } else {
            "host, each dispatch alone"
        };
        let mut out = format!(
            "profile on {} (clock: {clock})\n{:<44} {:>8} {:>10} {:>6} {:>8} {:>8}\n",
            self.inner.info.name, "kernel", "calls", "seconds", "share", "GFLOP/s", "GB/s"
        );
        for r in rows {
            let t = r.seconds.max(1e-12);
            let gflops = if r.flops > 0 {
                format!("{:.2}", r.flops as f64 / t * 1e-9)
            } else {
                "-".into()
            };
            out += &format!(
                "{:<44} {:>8} {:>10.4} {:>5.1}% {gflops:>8} {:>8.2}\n",
                r.kernel,
                r.calls,
                r.seconds,
                100.0 * r.seconds / total.max(1e-12),
                r.bytes as f64 / t * 1e-9
            );
        }
        out += &format!("{:<44} {:>8} {total:>10.4}\n", "total", "");
        Some(out)
    }

    /// Records a buffer-to-buffer copy in the stream.
    pub(crate) fn copy(&self, src: &wgpu::Buffer, src_off: u64, dst: &wgpu::Buffer, dst_off: u64, size: u64) {
        self.lock_stream().record_copy(src, src_off, dst, dst_off, size);
    }

    /// Records a copy of a texture region (mip 0; `origin.z` is the array layer) to (`to_buffer`) or
    /// from a buffer with `row_bytes` per row.
    pub(crate) fn copy_texture(
        &self,
        texture: &wgpu::Texture,
        buffer: &wgpu::Buffer,
        row_bytes: u32,
        origin: wgpu::Origin3d,
        size: wgpu::Extent3d,
        to_buffer: bool,
    ) {
        self.lock_stream()
            .record_texture_copy(texture, buffer, row_bytes, origin, size, to_buffer);
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

    /// How many times results were read back to the host on this device so far: [`Tensor::to_vec`]
    /// and everything built on it (each one waits for the device), and [`Tensor::read_async`]
    /// (which does not). A host that must never stall counts them around its frame.
    ///
    /// [`Tensor::to_vec`]: crate::Tensor::to_vec
    /// [`Tensor::read_async`]: crate::Tensor::read_async
    pub fn readbacks(&self) -> u64 {
        self.inner.readbacks.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Submits the work recorded so far without waiting for it (nor for any earlier work).
    pub fn submit(&self) -> Result<()> {
        let mut s = self.lock_stream();
        s.flush(&self.inner)?;
        drop(s);
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

    /// Copies `size` bytes of `buffer` back to the host, after all recorded work, and waits for
    /// them ([`Gpu::read_bytes_async`] and a wait).
    pub(crate) fn read_bytes(&self, buffer: &wgpu::Buffer, size: u64) -> Result<Vec<u8>> {
        self.read_bytes_async(buffer, size)?.wait_bytes()
    }

    /// Starts copying `size` bytes of `buffer` back to the host after all recorded work, and returns
    /// at once: the recorded work is submitted, nothing waits. The one place where results leave
    /// the device. [`Readback`] gives the bytes when the
    /// device is done ([`Readback::poll`] each frame, or `.await`).
    pub(crate) fn read_bytes_async(&self, buffer: &wgpu::Buffer, size: u64) -> Result<Readback> {
        self.inner
            .readbacks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
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
        self.check_error()?;
        let state: Arc<Mutex<MapState>> = Arc::default();
        let cb = state.clone();
        staging.map_async(wgpu::MapMode::Read, .., move |r| {
            let mut st = cb.lock().unwrap_or_else(|p| p.into_inner());
            st.done = Some(r.map_err(|e| format!("mapping a readback buffer failed: {e}")));
            if let Some(w) = st.waker.take() {
                w.wake();
            }
        });
        Ok(Readback {
            gpu: self.clone(),
            staging: Some(staging),
            state,
        })
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

/// What a mapping callback reported, and who waits for it.
#[derive(Default)]
struct MapState {
    done: Option<std::result::Result<(), String>>,
    waker: Option<std::task::Waker>,
}

/// A readback in flight ([`crate::Tensor::read_async`]): the copy is submitted and nothing has
/// waited. A render loop calls [`Readback::poll`] once a frame (it never blocks); async code
/// `.await`s it (on the web the browser's event loop completes it; natively each poll of the
/// future checks the device once and asks to be polled again, so it never blocks either).
pub struct Readback {
    gpu: Gpu,
    staging: Option<wgpu::Buffer>,
    state: Arc<Mutex<MapState>>,
}

impl Readback {
    /// The values if the device has finished the copy, `None` if not yet (checks the device once,
    /// without blocking). After it gave `Some`, later calls give an error.
    pub fn poll(&mut self) -> Option<Result<Vec<f32>>> {
        self.poll_bytes()
            .map(|r| r.map(|b| bytemuck::pod_collect_to_vec(&b)))
    }

    /// [`Readback::poll`] as bytes.
    fn poll_bytes(&mut self) -> Option<Result<Vec<u8>>> {
        if self.staging.is_none() {
            return Some(Err(Error::Gpu("this readback was taken already".into())));
        }
        if let Err(e) = self.gpu.inner.device.poll(wgpu::PollType::Poll) {
            return Some(Err(Error::Gpu(format!("polling the device failed: {e}"))));
        }
        let done = self.state.lock().unwrap_or_else(|p| p.into_inner()).done.take()?;
        let staging = self.staging.take()?;
        Some(self.take(staging, done))
    }

    /// Waits for the values (blocks until the device is done: native hosts only; a web page must
    /// `.await` the readback instead, since the browser completes it only once the page yields).
    /// After it gave the values, later calls give an error.
    pub fn wait(&mut self) -> Result<Vec<f32>> {
        self.wait_bytes().map(|b| bytemuck::pod_collect_to_vec(&b))
    }

    /// [`Readback::wait`] as bytes.
    fn wait_bytes(&mut self) -> Result<Vec<u8>> {
        self.gpu
            .inner
            .device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Gpu(format!("waiting for the device failed: {e}")))?;
        self.poll_bytes().unwrap_or_else(|| {
            Err(Error::Gpu(if cfg!(target_arch = "wasm32") {
                "a blocking read cannot finish in a web page (the browser maps the buffer only once \
                 the page yields): use Tensor::read_async and await it, or Run::finish_deferred"
                    .into()
            } else {
                "readback callback never ran".into()
            }))
        })
    }

    fn take(&self, staging: wgpu::Buffer, done: std::result::Result<(), String>) -> Result<Vec<u8>> {
        self.gpu.check_error()?;
        done.map_err(Error::Gpu)?;
        let out = staging
            .get_mapped_range(..)
            .map_err(|e| Error::Gpu(format!("reading a mapped buffer failed: {e:?}")))?
            .to_vec();
        staging.unmap();
        Ok(out)
    }
}

impl std::future::Future for Readback {
    type Output = Result<Vec<f32>>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).waker = Some(cx.waker().clone());
        match Readback::poll(&mut self) {
            Some(r) => std::task::Poll::Ready(r),
            None => {
                // natively nothing completes the mapping unless the device is polled: ask to be
                // polled again rather than block (the browser completes it on the web)
                #[cfg(not(target_arch = "wasm32"))]
                cx.waker().wake_by_ref();
                std::task::Poll::Pending
            }
        }
    }
}
