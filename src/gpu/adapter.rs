//! Adapter discovery and choice.

use crate::error::{Error, Result};

/// One adapter as the `info` command shows it.
#[derive(Debug, Clone)]
pub struct AdapterSummary {
    /// Adapter name reported by the driver.
    pub name: String,
    /// Backend (Vulkan, Metal, Dx12, Gl).
    pub backend: wgpu::Backend,
    /// Discrete, integrated, virtual, CPU or other.
    pub device_type: wgpu::DeviceType,
    /// Driver name and version.
    pub driver: String,
}

fn instance(backends: wgpu::Backends) -> wgpu::Instance {
    let mut d = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    d.backends = backends;
    wgpu::Instance::new(d)
}

fn backends() -> wgpu::Backends {
    wgpu::Backends::from_env().unwrap_or(wgpu::Backends::all())
}

/// Lists every adapter wgpu can see under the current `WGPU_BACKEND` setting (blocks until the
/// instance answers: native only, [`list_adapters_async`] in a browser).
pub fn list_adapters() -> Vec<AdapterSummary> {
    pollster::block_on(list_adapters_async())
}

/// [`list_adapters`] without blocking.
pub async fn list_adapters_async() -> Vec<AdapterSummary> {
    let adapters = instance(backends()).enumerate_adapters(backends()).await;
    adapters.iter().map(|a| summary(&a.get_info())).collect()
}

fn summary(i: &wgpu::AdapterInfo) -> AdapterSummary {
    AdapterSummary {
        name: i.name.clone(),
        backend: i.backend,
        device_type: i.device_type,
        driver: format!("{} {}", i.driver, i.driver_info).trim().to_string(),
    }
}

/// Ranks an adapter: lower is better.
fn rank(i: &wgpu::AdapterInfo) -> (u8, u8) {
    let ty = match i.device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu | wgpu::DeviceType::Other => 2,
        wgpu::DeviceType::Cpu => 3,
    };
    let be = match i.backend {
        wgpu::Backend::Vulkan | wgpu::Backend::Metal | wgpu::Backend::Dx12 => 0,
        wgpu::Backend::Gl => 1,
        _ => 2,
    };
    (ty, be)
}

#[cfg(not(target_arch = "wasm32"))]
const HOW_TO_GET_ONE: &str = "install a GPU driver with Vulkan, Metal or DX12 support; on Linux without a \
GPU install Mesa's software Vulkan driver lavapipe (`apt-get install mesa-vulkan-drivers`)";
#[cfg(target_arch = "wasm32")]
const HOW_TO_GET_ONE: &str = "this browser offers no WebGPU adapter: use one with WebGPU on (Chrome or Edge \
113+, Safari 26+, Firefox 141+ on Windows; Chromium on Linux with --enable-unsafe-webgpu), and check that \
its GPU is not blocklisted (chrome://gpu)";

/// Chooses the adapter tweedie computes on (awaits the instance: on the web the browser answers
/// asynchronously; natively [`super::Gpu::with_options`] blocks on it).
pub(crate) async fn choose_adapter(options: &super::Options) -> Result<wgpu::Adapter> {
    // Without WGPU_BACKEND, look at the primary backends first and at GL only when they offer nothing
    // (this also keeps EGL from probing a display when Vulkan is there).
    let mut adapters = Vec::new();
    for b in match options.backends {
        Some(b) => vec![b],
        None => vec![wgpu::Backends::PRIMARY, wgpu::Backends::SECONDARY],
    } {
        adapters = instance(b).enumerate_adapters(b).await;
        if !adapters.is_empty() {
            break;
        }
    }
    if adapters.is_empty() {
        return Err(Error::NoAdapter(match options.backends {
            Some(b) if b.is_empty() => format!(
                "WGPU_BACKEND={:?} names no backend wgpu knows: set it to vulkan, metal, dx12 or gl, or unset it",
                std::env::var("WGPU_BACKEND").unwrap_or_default()
            ),
            Some(b) => {
                let all = wgpu::Backends::all();
                let others: Vec<String> = instance(all)
                    .enumerate_adapters(all)
                    .await
                    .iter()
                    .map(|a| format!("{} ({:?})", a.get_info().name, a.get_info().backend))
                    .collect();
                let env = std::env::var("WGPU_BACKEND").unwrap_or_default();
                format!(
                    "no adapter on the backends {b:?} that WGPU_BACKEND={env:?} selects; {}: unset WGPU_BACKEND or set it to one of their backends (vulkan, metal, dx12, gl)",
                    if others.is_empty() {
                        format!("no other backend has one either ({HOW_TO_GET_ONE})")
                    } else {
                        format!("adapters on other backends: {}", others.join(", "))
                    }
                )
            }
            None => format!("wgpu found no adapter; {HOW_TO_GET_ONE}"),
        }));
    }
    let wanted = options.adapter.as_ref().map(|s| s.to_lowercase());
    let mut candidates: Vec<wgpu::Adapter> = adapters
        .into_iter()
        .filter(|a| {
            let i = a.get_info();
            wanted.as_ref().is_none_or(|w| i.name.to_lowercase().contains(w))
                && a.get_downlevel_capabilities()
                    .flags
                    .contains(wgpu::DownlevelFlags::COMPUTE_SHADERS)
        })
        .collect();
    if candidates.is_empty() {
        let names: Vec<String> = list_adapters_async()
            .await
            .iter()
            .map(|a| format!("{} ({:?})", a.name, a.backend))
            .collect();
        return Err(Error::NoAdapter(match wanted {
            Some(w) => format!(
                "no compute-capable adapter's name contains {w:?} (TWEEDIE_ADAPTER on the command line); adapters seen: {}",
                names.join(", ")
            ),
            None => format!(
                "none of the adapters seen ({}) supports compute shaders; {HOW_TO_GET_ONE}",
                names.join(", ")
            ),
        }));
    }
    candidates.sort_by_key(|a| rank(&a.get_info()));
    Ok(candidates.remove(0))
}
