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

/// How a kernel uses a storage buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// `var<storage, read>`
    Read,
    /// `var<storage, read_write>`
    ReadWrite,
}

/// Every WGSL file of the crate, embedded at compile time.
pub const SHADERS: &[(&str, &str)] = &[
    ("elementwise.wgsl", include_str!("../../shaders/elementwise.wgsl")),
    ("conv2d.wgsl", include_str!("../../shaders/conv2d.wgsl")),
    ("matmul.wgsl", include_str!("../../shaders/matmul.wgsl")),
    ("groupnorm.wgsl", include_str!("../../shaders/groupnorm.wgsl")),
    ("softmax.wgsl", include_str!("../../shaders/softmax.wgsl")),
    ("reduce.wgsl", include_str!("../../shaders/reduce.wgsl")),
    ("diffusion.wgsl", include_str!("../../shaders/diffusion.wgsl")),
    ("spectral.wgsl", include_str!("../../shaders/spectral.wgsl")),
    ("conv2d_grad.wgsl", include_str!("../../shaders/conv2d_grad.wgsl")),
    ("norm_grad.wgsl", include_str!("../../shaders/norm_grad.wgsl")),
    (
        "elementwise_grad.wgsl",
        include_str!("../../shaders/elementwise_grad.wgsl"),
    ),
];

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
                let src = SHADERS
                    .iter()
                    .find(|(n, _)| *n == kernel.file)
                    .ok_or_else(|| Error::Gpu(format!("unknown shader file {}", kernel.file)))?
                    .1;
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
                    ty: wgpu::BufferBindingType::Storage {
                        read_only: *a == Access::Read,
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

    /// Every WGSL file parses and validates with naga (no GPU needed), and every file in shaders/ is
    /// embedded.
    #[test]
    fn every_shader_validates_with_naga() {
        for (name, src) in SHADERS {
            let module = naga::front::wgsl::parse_str(src)
                .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(src)));
            naga::valid::Validator::new(
                naga::valid::ValidationFlags::all(),
                naga::valid::Capabilities::all(),
            )
            .validate(&module)
            .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(src)));
            assert!(!module.entry_points.is_empty(), "{name} has no entry point");
        }
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
        for f in std::fs::read_dir(dir).unwrap() {
            let f = f.unwrap().file_name().into_string().unwrap();
            if f.ends_with(".wgsl") {
                assert!(SHADERS.iter().any(|(n, _)| *n == f), "{f} is not in SHADERS");
            }
        }
    }
}
