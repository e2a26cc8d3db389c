//! Kernels (WGSL entry points), their bind-group layouts, and the pipeline cache that compiles each
//! kernel variant once.

use crate::error::{Error, Result};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A compute kernel: an entry point in one of the WGSL files of `shaders/` ([`SHADERS`]) or in a
/// module a host registered ([`crate::Gpu::register_shader`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KernelId {
    /// File name in `shaders/`, e.g. `"conv2d.wgsl"` (with a variant suffix such as `#small`), or the
    /// name a module was registered under.
    pub file: &'static str,
    /// The `@compute` entry point.
    pub entry: &'static str,
}

impl KernelId {
    /// Names a kernel.
    pub const fn new(file: &'static str, entry: &'static str) -> Self {
        KernelId { file, entry }
    }
}

/// How a kernel uses a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// `var<storage, read>`
    Read,
    /// `var<storage, read_write>`
    ReadWrite,
    /// `var<uniform>` (a window of a buffer made with `UNIFORM` usage)
    Uniform,
}

/// Every WGSL file of the crate, embedded at compile time (a host adds its own modules at run time
/// with [`crate::Gpu::register_shader`]).
pub const SHADERS: &[(&str, &str)] = &[
    ("elementwise.wgsl", include_str!("../../shaders/elementwise.wgsl")),
    ("conv2d.wgsl", include_str!("../../shaders/conv2d.wgsl")),
    (
        "elementwise_v4.wgsl",
        include_str!("../../shaders/elementwise_v4.wgsl"),
    ),
    (
        "conv2d_direct.wgsl",
        include_str!("../../shaders/conv2d_direct.wgsl"),
    ),
    (
        "conv2d_direct_sg.wgsl",
        include_str!("../../shaders/conv2d_direct_sg.wgsl"),
    ),
    (
        "conv2d_winograd.wgsl",
        include_str!("../../shaders/conv2d_winograd.wgsl"),
    ),
    ("matmul.wgsl", include_str!("../../shaders/matmul.wgsl")),
    ("groupnorm.wgsl", include_str!("../../shaders/groupnorm.wgsl")),
    (
        "groupnorm_cpu.wgsl",
        include_str!("../../shaders/groupnorm_cpu.wgsl"),
    ),
    ("softmax.wgsl", include_str!("../../shaders/softmax.wgsl")),
    (
        "attention_cpu.wgsl",
        include_str!("../../shaders/attention_cpu.wgsl"),
    ),
    ("reduce.wgsl", include_str!("../../shaders/reduce.wgsl")),
    ("diffusion.wgsl", include_str!("../../shaders/diffusion.wgsl")),
    ("random.wgsl", include_str!("../../shaders/random.wgsl")),
    ("spectral.wgsl", include_str!("../../shaders/spectral.wgsl")),
    ("texture.wgsl", include_str!("../../shaders/texture.wgsl")),
    ("optim.wgsl", include_str!("../../shaders/optim.wgsl")),
    ("simplex.wgsl", include_str!("../../shaders/simplex.wgsl")),
    ("cg.wgsl", include_str!("../../shaders/cg.wgsl")),
    ("fft.wgsl", include_str!("../../shaders/fft.wgsl")),
    ("particles.wgsl", include_str!("../../shaders/particles.wgsl")),
    (
        "particle_rows.wgsl",
        include_str!("../../shaders/particle_rows.wgsl"),
    ),
    ("conv2d_grad.wgsl", include_str!("../../shaders/conv2d_grad.wgsl")),
    ("norm_grad.wgsl", include_str!("../../shaders/norm_grad.wgsl")),
    (
        "elementwise_grad.wgsl",
        include_str!("../../shaders/elementwise_grad.wgsl"),
    ),
    ("transformer.wgsl", include_str!("../../shaders/transformer.wgsl")),
];

/// Suffix of a shader file name that selects its small-tile variant: the GEMM staging array for
/// 512-wide tiles (16 KiB) shrunk to the 128-wide tiles' 4 KiB, so that the entry points with
/// 128-wide tiles fit the WebGPU default of 16 KiB of workgroup memory.
pub const SMALL_TILES: &str = "#small";

/// Workgroup memory of the GEMM kernels with 512-wide tiles (`*_t4x64`, `*_t2x64`), in bytes; a
/// device with less gets the 128-wide tiles for every shape.
pub const WIDE_TILE_WORKGROUP_BYTES: u32 = 20 * 1024;

/// Suffix of `conv2d_direct.wgsl` that selects its vec4-output variant: the block between its
/// output-access marker lines replaced by `shaders/conv2d_direct_out4.inc`.
pub(crate) const OUT4: &str = "#out4";

const OUT_BEGIN: &str = "// ---- output access:";
const OUT_END: &str = "// ---- end of output access ----";

/// Suffix of a shader file name that selects its subgroup variant: the workgroup-memory reductions it
/// includes (`shaders/reduce_workgroup.inc`) swapped for subgroup operations
/// (`shaders/reduce_subgroup.inc`). Used on devices with `Features::SUBGROUP`
/// ([`crate::Gpu::subgroups`]). naga (wgpu's native backends) takes subgroup built-ins without
/// `enable subgroups;` and refuses the directive; WebGPU (Tint) requires it: the wasm build and the
/// Tint check ([`shader_modules`]'s `needs_subgroups`) put it first.
pub const SUBGROUP: &str = "#subgroup";

/// The reductions a shader file pulls in with a line `//!include reduce_workgroup.inc`.
const REDUCE_INCLUDE: &str = "//!include reduce_workgroup.inc";

/// What a line `//!include NAME` of a WGSL module may pull in (from `shaders/`): the reductions
/// (`reduce_workgroup.inc`, swapped for `reduce_subgroup.inc` in the [`SUBGROUP`] variant), the
/// Philox generator (`philox.inc`), the GEMM tile (`gemm_tile.inc`) and the common part of the direct
/// convolutions (`conv2d_direct.inc`). Registered modules
/// ([`crate::Gpu::register_shader`]) may include them too.
pub const INCLUDES: &[(&str, &str)] = &[
    (
        "reduce_workgroup.inc",
        include_str!("../../shaders/reduce_workgroup.inc"),
    ),
    (
        "reduce_subgroup.inc",
        include_str!("../../shaders/reduce_subgroup.inc"),
    ),
    ("philox.inc", include_str!("../../shaders/philox.inc")),
    ("gemm_tile.inc", include_str!("../../shaders/gemm_tile.inc")),
    (
        "conv2d_direct.inc",
        include_str!("../../shaders/conv2d_direct.inc"),
    ),
];

/// WGSL files whose kernels use subgroup operations in every variant (not only in a [`SUBGROUP`]
/// variant): compiled only on devices with `Features::SUBGROUP`.
pub const SUBGROUP_FILES: &[&str] = &["conv2d_direct_sg.wgsl"];

/// Whether the module `file` (a file of [`SHADERS`] or a variant) needs `Features::SUBGROUP`.
pub fn needs_subgroups(file: &str) -> bool {
    file.ends_with(SUBGROUP) || SUBGROUP_FILES.iter().any(|f| file.split('#').next() == Some(*f))
}

/// `src` with every line `//!include NAME` replaced by the file `NAME` of [`INCLUDES`] (itself
/// resolved), and `reduce_workgroup.inc` read as `reduce_subgroup.inc` where `subgroup`. Each file
/// is pulled in once per module (a repeated include is dropped). Errors name an unknown include.
pub(crate) fn resolve_includes(src: &str, subgroup: bool) -> std::result::Result<String, String> {
    fn go(
        src: &str,
        subgroup: bool,
        seen: &mut Vec<String>,
        out: &mut String,
    ) -> std::result::Result<(), String> {
        for line in src.split_inclusive('\n') {
            let Some(name) = line.trim().strip_prefix("//!include ") else {
                out.push_str(line);
                continue;
            };
            let name = match name.trim() {
                "reduce_workgroup.inc" if subgroup => "reduce_subgroup.inc",
                n => n,
            };
            if seen.iter().any(|s| s == name) {
                continue;
            }
            let body = INCLUDES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|i| i.1)
                .ok_or_else(|| {
                    let known: Vec<&str> = INCLUDES.iter().map(|i| i.0).collect();
                    format!(
                        "//!include {name}: no such include (there are {})",
                        known.join(", ")
                    )
                })?;
            seen.push(name.to_string());
            go(body, subgroup, seen, out)?;
            if !out.ends_with('\n') {
                out.push('\n');
            }
        }
        Ok(())
    }
    let mut out = String::with_capacity(src.len());
    go(src, subgroup, &mut Vec::new(), &mut out)?;
    Ok(out)
}

/// The WGSL source of `file`, includes resolved: `name.wgsl`, or a variant of it — `name.wgsl#small`
/// (small GEMM tiles), `conv2d_direct.wgsl#out4`, `name.wgsl#subgroup` (subgroup reductions, for
/// files that include the workgroup ones).
pub(crate) fn shader_source(file: &str) -> Option<String> {
    let base_of = |b: &str| SHADERS.iter().find(|(n, _)| *n == b).map(|s| s.1);
    if let Some(base) = file.strip_suffix(OUT4) {
        let src = resolve_includes(base_of(base)?, false).ok()?;
        let (a, b) = (src.find(OUT_BEGIN)?, src.find(OUT_END)?);
        return Some(format!(
            "{}{}{}",
            &src[..a],
            include_str!("../../shaders/conv2d_direct_out4.inc"),
            &src[b..]
        ));
    }
    if let Some(base) = file.strip_suffix(SUBGROUP) {
        let src = base_of(base)?;
        if !src.contains(REDUCE_INCLUDE) {
            return None;
        }
        let s = resolve_includes(src, true).ok()?;
        return Some(if cfg!(target_arch = "wasm32") {
            format!("enable subgroups;\n{s}")
        } else {
            s
        });
    }
    let (base, small) = match file.strip_suffix(SMALL_TILES) {
        Some(b) => (b, true),
        None => (file, false),
    };
    let src = resolve_includes(base_of(base)?, false).ok()?;
    Some(if small {
        src.replace("array<vec4<f32>, 1024>", "array<vec4<f32>, 256>")
    } else {
        src
    })
}

/// One WGSL module as the engine compiles it: a file of `shaders/` or one of its variants
/// (`#small`, `#out4`, `#subgroup`), with its compute entry points.
#[derive(Debug, Clone)]
pub struct ShaderModuleInfo {
    /// The name kernels use for it (`matmul.wgsl#small`, say).
    pub file: String,
    /// Its WGSL source, variant applied and includes resolved: the whole module.
    pub source: String,
    /// Its `@compute` entry points.
    pub entry_points: Vec<String>,
    /// Whether it needs `Features::SUBGROUP` (WebGPU's `subgroups`, which also wants the directive
    /// `enable subgroups;` first: see [`SUBGROUP`]).
    pub needs_subgroups: bool,
}

/// Every WGSL module and variant the engine can compile, with its entry points: what the naga tests
/// validate and the Tint check (`examples/tint_check.rs`) compiles in Chromium's WebGPU. Errors
/// name the module that naga cannot parse.
pub fn shader_modules() -> Result<Vec<ShaderModuleInfo>> {
    let mut out = Vec::new();
    for (name, src) in SHADERS {
        let whole = resolve_includes(src, false).map_err(|e| Error::Gpu(format!("{name}: {e}")))?;
        let mut files = vec![name.to_string()];
        if whole.contains("array<vec4<f32>, 1024>") {
            files.push(format!("{name}{SMALL_TILES}"));
        }
        if whole.contains(OUT_BEGIN) {
            files.push(format!("{name}{OUT4}"));
        }
        if src.contains(REDUCE_INCLUDE) {
            files.push(format!("{name}{SUBGROUP}"));
        }
        for file in files {
            let source = shader_source(&file)
                .ok_or_else(|| Error::Gpu(format!("no source for shader variant {file}")))?;
            let module = naga::front::wgsl::parse_str(&source)
                .map_err(|e| Error::Gpu(format!("{file}: {}", e.emit_to_string(&source))))?;
            out.push(ShaderModuleInfo {
                entry_points: module.entry_points.iter().map(|e| e.name.clone()).collect(),
                needs_subgroups: needs_subgroups(&file),
                file,
                source,
            });
        }
    }
    Ok(out)
}

/// Parses and validates a host's WGSL module with naga (includes resolved), as
/// [`crate::Gpu::register_shader`] does before accepting it: the whole module, ready to compile.
pub fn validate_shader(name: &str, source: &str) -> Result<String> {
    let whole = resolve_includes(source, false).map_err(|e| Error::Gpu(format!("shader {name}: {e}")))?;
    let module = naga::front::wgsl::parse_str(&whole).map_err(|e| {
        Error::Gpu(format!(
            "shader {name} does not parse: {}",
            e.emit_to_string(&whole)
        ))
    })?;
    naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::all(),
    )
    .validate(&module)
    .map_err(|e| {
        Error::Gpu(format!(
            "shader {name} is not valid: {}",
            e.emit_to_string(&whole)
        ))
    })?;
    if !module
        .entry_points
        .iter()
        .any(|e| e.stage == naga::ShaderStage::Compute)
    {
        return Err(Error::Gpu(format!("shader {name} has no @compute entry point")));
    }
    Ok(whole)
}

pub(crate) struct Pipeline {
    pub(crate) pipeline: wgpu::ComputePipeline,
    pub(crate) layout: wgpu::BindGroupLayout,
}

type PipelineKey = (KernelId, Vec<Access>);

/// The driver's compiled pipelines kept on disk between runs: wgpu's `PipelineCache` (Vulkan
/// only: [`wgpu::util::pipeline_cache_key`] names the file by adapter and driver), loaded when the
/// [`crate::Gpu`] is built and written back when it is dropped, if new pipelines were compiled.
///
/// The file is `TWDPLC01`, the SHA-256 of the rest, then wgpu's data (its own header checks the
/// adapter, driver and ABI); a file that fails either check is never handed to the driver. A
/// damaged cache (right magic, wrong hash) is replaced at the next save; a file that is not one
/// (another magic) is someone else's and is never overwritten.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) struct DiskCache {
    pub(crate) cache: wgpu::PipelineCache,
    pub(crate) path: std::path::PathBuf,
    /// What loading found: `loaded N KiB`, `empty (no file yet)`, `ignored: ...`.
    pub(crate) state: String,
    dirty: std::sync::atomic::AtomicBool,
    /// The file at `path` is not a tweedie pipeline cache: leave it alone.
    foreign: bool,
}

#[cfg(not(target_arch = "wasm32"))]
const DISK_CACHE_MAGIC: &[u8; 8] = b"TWDPLC01";

#[cfg(not(target_arch = "wasm32"))]
impl DiskCache {
    /// Opens the cache for `device` in `dir`, or `None` where the backend keeps no application
    /// pipeline cache (the device lacks `Features::PIPELINE_CACHE`, or wgpu has no key for it).
    pub(crate) fn open(
        device: &wgpu::Device,
        info: &wgpu::AdapterInfo,
        dir: &std::path::Path,
    ) -> Option<Self> {
        use sha2::Digest;
        if !device.features().contains(wgpu::Features::PIPELINE_CACHE) {
            return None;
        }
        let path = dir.join(format!("{}.bin", wgpu::util::pipeline_cache_key(info)?));
        let mut foreign = false;
        let (data, state) = match std::fs::read(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (None, "empty (no file yet)".to_string()),
            Err(e) => (None, format!("ignored: could not read it ({e})")),
            Ok(bytes) if bytes.len() < 40 || bytes[..8] != DISK_CACHE_MAGIC[..] => {
                foreign = true;
                (
                    None,
                    "ignored: the file is not a tweedie pipeline cache and is left alone (move it, or \
                     set TWEEDIE_PIPELINE_CACHE to another directory)"
                        .into(),
                )
            }
            Ok(bytes) if bytes[8..40] != sha2::Sha256::digest(&bytes[40..])[..] => {
                (None, "ignored: damaged (it will be rewritten)".into())
            }
            Ok(bytes) => {
                let kib = (bytes.len() - 40) / 1024;
                (Some(bytes[40..].to_vec()), format!("loaded {kib} KiB"))
            }
        };
        // SAFETY: `data` is what `PipelineCache::get_data` returned for this adapter key in an
        // earlier run (checked by its SHA-256 above); wgpu checks its header against the adapter,
        // driver and ABI, and `fallback` makes an empty cache of anything it refuses.
        let cache = unsafe {
            device.create_pipeline_cache(&wgpu::PipelineCacheDescriptor {
                label: Some("tweedie pipelines"),
                data: data.as_deref(),
                fallback: true,
            })
        };
        Some(DiskCache {
            cache,
            path,
            state,
            dirty: Default::default(),
            foreign,
        })
    }

    /// Writes the cache's data to its file (through a temporary file and a rename, so a reader never
    /// sees half a file), if pipelines were compiled since it was loaded or last saved.
    pub(crate) fn save(&self) -> Result<()> {
        use sha2::Digest;
        use std::sync::atomic::Ordering;
        if !self.dirty.swap(false, Ordering::AcqRel) {
            return Ok(());
        }
        if self.foreign {
            return Err(Error::Io(format!(
                "not writing the pipeline cache: {} exists and is not one (move it, or set \
                 TWEEDIE_PIPELINE_CACHE to another directory or to off)",
                self.path.display()
            )));
        }
        let Some(data) = self.cache.get_data() else {
            return Ok(());
        };
        let fail = |e: std::io::Error| {
            Error::Io(format!(
                "writing the pipeline cache {}: {e} (set TWEEDIE_PIPELINE_CACHE=off or to a writable \
                 directory)",
                self.path.display()
            ))
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        let mut bytes = Vec::with_capacity(data.len() + 40);
        bytes.extend_from_slice(DISK_CACHE_MAGIC);
        bytes.extend_from_slice(&sha2::Sha256::digest(&data));
        bytes.extend_from_slice(&data);
        let tmp = self.path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, &bytes).map_err(fail)?;
        std::fs::rename(&tmp, &self.path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            fail(e)
        })
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl Drop for DiskCache {
    fn drop(&mut self) {
        // best effort: a cache that cannot be written only costs the next run its compile time
        let _ = self.save();
    }
}

pub(crate) struct PipelineCache {
    device: wgpu::Device,
    /// The driver's pipeline cache on disk, where the backend has one and the options asked for it.
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) disk: Option<DiskCache>,
    /// Modules a host registered ([`crate::Gpu::register_shader`]): name -> whole source.
    registered: Mutex<HashMap<&'static str, String>>,
    modules: Mutex<HashMap<&'static str, wgpu::ShaderModule>>,
    pipelines: Mutex<HashMap<PipelineKey, Arc<Pipeline>>>,
}

impl PipelineCache {
    pub(crate) fn new(
        device: wgpu::Device,
        #[cfg(not(target_arch = "wasm32"))] disk: Option<DiskCache>,
    ) -> Self {
        PipelineCache {
            device,
            #[cfg(not(target_arch = "wasm32"))]
            disk,
            registered: Mutex::default(),
            modules: Mutex::default(),
            pipelines: Mutex::default(),
        }
    }

    /// Registers a host's module under `name` (validated by [`validate_shader`]). A built-in name is
    /// refused; registering a name again is accepted only with the same source.
    pub(crate) fn register(&self, name: &'static str, source: &str) -> Result<()> {
        if shader_source(name).is_some() {
            return Err(Error::Gpu(format!(
                "shader {name}: a built-in module has that name; register it under another"
            )));
        }
        let whole = validate_shader(name, source)?;
        let mut reg = self.registered.lock().unwrap_or_else(|p| p.into_inner());
        match reg.get(name) {
            Some(old) if *old != whole => Err(Error::Gpu(format!(
                "shader {name} is already registered with another source"
            ))),
            Some(_) => Ok(()),
            None => {
                reg.insert(name, whole);
                Ok(())
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.pipelines.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// The pipeline for `kernel` with a storage binding per entry of `access`, compiled on first use.
    pub(crate) fn get(&self, kernel: &KernelId, access: &[Access]) -> Result<Arc<Pipeline>> {
        let key = (*kernel, access.to_vec());
        if let Some(p) = self.pipelines.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return Ok(p.clone());
        }
        let p = Arc::new(self.compile(kernel, access)?);
        self.pipelines
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, p.clone());
        Ok(p)
    }

    fn compile(&self, kernel: &KernelId, access: &[Access]) -> Result<Pipeline> {
        let dev = &self.device;
        // natively a validation scope catches a kernel that fails to compile, here; a web page
        // cannot block on the scope's answer, so there the device's uncaptured-error handler gets
        // it and the next submission reports it
        #[cfg(not(target_arch = "wasm32"))]
        let scope = dev.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = {
            let mut modules = self.modules.lock().unwrap_or_else(|p| p.into_inner());
            if !modules.contains_key(kernel.file) {
                let registered = self
                    .registered
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get(kernel.file)
                    .cloned();
                let src = registered.or_else(|| shader_source(kernel.file)).ok_or_else(|| {
                    Error::Gpu(format!(
                        "unknown shader file {} (neither built in nor registered with Gpu::register_shader)",
                        kernel.file
                    ))
                })?;
                let m = dev.create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some(kernel.file),
                    source: wgpu::ShaderSource::Wgsl(src.into()),
                });
                modules.insert(kernel.file, m);
            }
            modules[kernel.file].clone()
        };
        let mut entries = vec![wgpu::BindGroupLayoutEntry {
            binding: 0,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Uniform,
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        }];
        for (i, a) in access.iter().enumerate() {
            entries.push(wgpu::BindGroupLayoutEntry {
                binding: i as u32 + 1,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty: match a {
                        Access::Uniform => wgpu::BufferBindingType::Uniform,
                        _ => wgpu::BufferBindingType::Storage {
                            read_only: *a == Access::Read,
                        },
                    },
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            });
        }
        let layout = dev.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some(kernel.entry),
            entries: &entries,
        });
        let pl = dev.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some(kernel.entry),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = dev.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(kernel.entry),
            layout: Some(&pl),
            module: &module,
            entry_point: Some(kernel.entry),
            compilation_options: wgpu::PipelineCompilationOptions {
                constants: &[],
                zero_initialize_workgroup_memory: false,
            },
            #[cfg(not(target_arch = "wasm32"))]
            cache: self.disk.as_ref().map(|d| &d.cache),
            #[cfg(target_arch = "wasm32")]
            cache: None,
        });
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(d) = &self.disk {
            d.dirty.store(true, std::sync::atomic::Ordering::Release);
        }
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(Error::Gpu(format!(
                "compiling kernel {}::{} failed: {e}",
                kernel.file, kernel.entry
            )));
        }
        Ok(Pipeline { pipeline, layout })
    }
}

#[cfg(test)]
mod tests {
    use super::SHADERS;

    /// Every WGSL module and variant ([`super::shader_modules`]) parses and validates with naga (no
    /// GPU needed), and every file in shaders/ is embedded.
    #[test]
    fn every_shader_validates_with_naga() {
        let modules = super::shader_modules().unwrap();
        for m in &modules {
            let module = naga::front::wgsl::parse_str(&m.source).unwrap();
            naga::valid::Validator::new(
                naga::valid::ValidationFlags::all(),
                naga::valid::Capabilities::all(),
            )
            .validate(&module)
            .unwrap_or_else(|e| panic!("{}: {}", m.file, e.emit_to_string(&m.source)));
            assert!(!m.entry_points.is_empty(), "{} has no entry point", m.file);
        }
        for variant in [super::OUT4, super::SMALL_TILES, super::SUBGROUP] {
            assert!(
                modules.iter().any(|m| m.file.ends_with(variant)),
                "no {variant} module"
            );
        }
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
        for f in std::fs::read_dir(dir).unwrap() {
            let f = f.unwrap().file_name().into_string().unwrap();
            if f.ends_with(".wgsl") {
                assert!(SHADERS.iter().any(|(n, _)| *n == f), "{f} is not in SHADERS");
            }
            if f.ends_with(".inc") && f != "conv2d_direct_out4.inc" {
                assert!(
                    super::INCLUDES.iter().any(|(n, _)| *n == f),
                    "{f} is not in INCLUDES"
                );
            }
        }
    }

    /// Includes resolve once each, nested and in variants; an unknown one is an error naming it;
    /// the shared Philox and GEMM tile are included where they were copied before.
    #[test]
    fn includes_resolve() {
        let unresolved = |s: &str| s.lines().any(|l| l.trim().starts_with("//!include"));
        let src = "//!include philox.inc\n//!include philox.inc\nfn f() {}\n";
        let out = super::resolve_includes(src, false).unwrap();
        assert_eq!(out.matches("fn philox(").count(), 1);
        assert!(out.ends_with("fn f() {}\n"));
        let e = super::resolve_includes("//!include nope.inc\n", false).unwrap_err();
        assert!(e.contains("nope.inc") && e.contains("philox.inc"), "{e}");
        for (file, inc) in [
            ("diffusion.wgsl", "philox.inc"),
            ("particles.wgsl", "philox.inc"),
            ("random.wgsl", "philox.inc"),
            ("conv2d.wgsl", "gemm_tile.inc"),
            ("matmul.wgsl", "gemm_tile.inc"),
        ] {
            let raw = SHADERS.iter().find(|s| s.0 == file).unwrap().1;
            assert!(raw.contains(&format!("//!include {inc}")), "{file}");
            let whole = super::shader_source(file).unwrap();
            assert!(!unresolved(&whole), "{file}");
        }
        let sg = super::shader_source("softmax.wgsl#subgroup").unwrap();
        assert!(sg.contains("subgroup") && !unresolved(&sg));
    }

    /// What every entry point needs (workgroup memory, invocations, storage bindings), computed with
    /// naga, is within [`crate::gpu::REQUIRED_LIMITS`] for the kernels a constrained device runs
    /// (the small-tile variants of the GEMM files), and the wide-tile entry points need at most
    /// [`super::WIDE_TILE_WORKGROUP_BYTES`].
    #[test]
    fn every_kernel_fits_the_required_limits() {
        let req = crate::gpu::REQUIRED_LIMITS;
        let mut worst_wide = 0u32;
        for m in super::shader_modules().unwrap() {
            {
                let (file, src) = (&m.file, &m.source);
                let module = naga::front::wgsl::parse_str(src).unwrap();
                let info = naga::valid::Validator::new(
                    naga::valid::ValidationFlags::all(),
                    naga::valid::Capabilities::all(),
                )
                .validate(&module)
                .unwrap();
                let storage = module
                    .global_variables
                    .iter()
                    .filter(|(_, g)| matches!(g.space, naga::AddressSpace::Storage { .. }))
                    .count() as u32;
                assert!(
                    storage <= req.max_storage_buffers_per_shader_stage,
                    "{file}: {storage} storage buffers"
                );
                for (i, ep) in module.entry_points.iter().enumerate() {
                    let fi = info.get_entry_point(i);
                    let bytes: u32 = module
                        .global_variables
                        .iter()
                        .filter(|(h, g)| g.space == naga::AddressSpace::WorkGroup && !fi[*h].is_empty())
                        .map(|(_, g)| module.types[g.ty].inner.size(module.to_ctx()))
                        .sum();
                    let [x, y, z] = ep.workgroup_size;
                    assert!(
                        x * y * z <= req.max_compute_invocations_per_workgroup,
                        "{file}::{}",
                        ep.name
                    );
                    assert!(x <= req.max_compute_workgroup_size_x && y <= req.max_compute_workgroup_size_y);
                    let wide = ep.name.contains("x64");
                    if file.ends_with(super::SMALL_TILES) && !wide
                        || !file.contains("matmul") && !file.contains("conv2d.")
                    {
                        assert!(
                            bytes <= req.max_compute_workgroup_storage_size,
                            "{file}::{} uses {bytes} bytes of workgroup memory",
                            ep.name
                        );
                    } else if wide {
                        worst_wide = worst_wide.max(bytes);
                    }
                }
            }
        }
        assert!(
            worst_wide > 0 && worst_wide <= super::WIDE_TILE_WORKGROUP_BYTES,
            "{worst_wide}"
        );
    }
}
