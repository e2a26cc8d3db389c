//! Kernels (WGSL entry points), their bind-group layouts, and the pipeline cache that compiles each
//! kernel variant once.

use crate::error::{Error, Result};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A compute kernel: an entry point in one of the WGSL files of `shaders/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KernelId {
    /// File name in `shaders/`, e.g. `"conv2d.wgsl"`.
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

/// Every WGSL file of the crate, embedded at compile time.
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

/// The WGSL source of `file`: `name.wgsl`, or a variant of it — `name.wgsl#small` (small GEMM
/// tiles), `conv2d_direct.wgsl#out4`, `name.wgsl#subgroup` (subgroup reductions, for files that
/// include the workgroup ones).
pub(crate) fn shader_source(file: &str) -> Option<String> {
    let reduce = |src: &str, subgroup: bool| {
        if subgroup {
            let s = src.replace(REDUCE_INCLUDE, include_str!("../../shaders/reduce_subgroup.inc"));
            if cfg!(target_arch = "wasm32") {
                format!("enable subgroups;\n{s}")
            } else {
                s
            }
        } else {
            src.replace(REDUCE_INCLUDE, include_str!("../../shaders/reduce_workgroup.inc"))
        }
    };
    let base_of = |b: &str| SHADERS.iter().find(|(n, _)| *n == b).map(|s| s.1);
    if let Some(base) = file.strip_suffix(OUT4) {
        let src = base_of(base)?;
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
        return src.contains(REDUCE_INCLUDE).then(|| reduce(src, true));
    }
    let (base, small) = match file.strip_suffix(SMALL_TILES) {
        Some(b) => (b, true),
        None => (file, false),
    };
    let src = reduce(base_of(base)?, false);
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
    /// Its WGSL source, variant applied.
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
        let mut files = vec![name.to_string()];
        if src.contains("array<vec4<f32>, 1024>") {
            files.push(format!("{name}{SMALL_TILES}"));
        }
        if src.contains(OUT_BEGIN) {
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
                needs_subgroups: file.ends_with(SUBGROUP),
                file,
                source,
            });
        }
    }
    Ok(out)
}

pub(crate) struct Pipeline {
    pub(crate) pipeline: wgpu::ComputePipeline,
    pub(crate) layout: wgpu::BindGroupLayout,
}

type PipelineKey = (KernelId, Vec<Access>);

pub(crate) struct PipelineCache {
    device: wgpu::Device,
    modules: Mutex<HashMap<&'static str, wgpu::ShaderModule>>,
    pipelines: Mutex<HashMap<PipelineKey, Arc<Pipeline>>>,
}

impl PipelineCache {
    pub(crate) fn new(device: wgpu::Device) -> Self {
        PipelineCache {
            device,
            modules: Mutex::default(),
            pipelines: Mutex::default(),
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
        let scope = dev.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = {
            let mut modules = self.modules.lock().unwrap_or_else(|p| p.into_inner());
            if !modules.contains_key(kernel.file) {
                let src = shader_source(kernel.file)
                    .ok_or_else(|| Error::Gpu(format!("unknown shader file {}", kernel.file)))?;
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
            cache: None,
        });
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
        }
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
