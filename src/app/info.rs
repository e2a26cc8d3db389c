//! `tweedie info`.

use super::*;

/// `tweedie info`: the adapters seen, the one chosen, its features, kernel path and key limits.
pub fn info(f: &mut dyn Frontend) -> Result<()> {
    f.say("adapters seen:");
    for a in crate::gpu::list_adapters() {
        f.say(&format!(
            "  {:<40} {:?}  {:?}  {}",
            a.name, a.backend, a.device_type, a.driver
        ));
    }
    let gpu = f.gpu()?;
    let i = gpu.adapter_info();
    let l = gpu.limits();
    f.say(&format!(
        "chosen: {} ({:?}, {:?})",
        i.name, i.backend, i.device_type
    ));
    f.say(&format!("driver: {} {}", i.driver, i.driver_info));
    f.say(&format!(
        "subgroup size: {}..{}",
        i.subgroup_min_size, i.subgroup_max_size
    ));
    let feat = gpu.features();
    let names: Vec<String> = [
        (wgpu::Features::TIMESTAMP_QUERY, "timestamps"),
        (wgpu::Features::SHADER_F16, "f16"),
        (wgpu::Features::SUBGROUP, "subgroups"),
        (wgpu::Features::IMMEDIATES, "immediates"),
    ]
    .iter()
    .map(|(flag, n)| format!("{n}={}", if feat.contains(*flag) { "yes" } else { "no" }))
    .collect();
    f.say(&format!("features: {}", names.join(" ")));
    f.say(&format!(
        "kernels: {} (TWEEDIE_KERNELS=auto|portable|cpu), subgroup reductions: {}, subgroup weight loads in direct convolutions: {} (TWEEDIE_SUBGROUPS=auto|on|off)",
        match gpu.kernel_path() {
            crate::gpu::KernelPath::Cpu => "cpu-tuned",
            _ => "portable",
        },
        if gpu.subgroups() { "yes" } else { "no" },
        if gpu.subgroup_convs() { "yes" } else { "no" }
    ));
    f.say(&format!(
        "winograd 3x3: {} (TWEEDIE_WINOGRAD=auto|on|f4|off; auto: the direct kernels wherever they measured faster, every shape on lavapipe)",
        match (gpu.kernel_path(), gpu.winograd()) {
            (crate::gpu::KernelPath::Portable, _) => "not on the portable path",
            (_, crate::gpu::Winograd::On) => "F(2x2, 3x3) forced",
            (_, crate::gpu::Winograd::F4) => "F(4x4, 3x3) forced",
            (_, crate::gpu::Winograd::Off) => "off",
            (_, crate::gpu::Winograd::Auto) => "auto",
        }
    ));
    f.say(&match gpu.pipeline_cache() {
        Some((path, state)) => format!(
            "pipeline cache: {} ({state}; TWEEDIE_PIPELINE_CACHE=DIR|off)",
            path.display()
        ),
        None => format!(
            "pipeline cache: none ({}; TWEEDIE_PIPELINE_CACHE=DIR|off)",
            if std::env::var("TWEEDIE_PIPELINE_CACHE").is_ok_and(|v| v == "off" || v == "0") {
                "turned off"
            } else if !gpu.features().contains(wgpu::Features::PIPELINE_CACHE) {
                "this backend keeps no application pipeline cache; the driver may keep its own"
            } else {
                "no cache directory on this platform"
            }
        ),
    });
    f.say(&format!(
        "limits: max_storage_buffer_binding_size={} MiB max_buffer_size={} MiB max_compute_workgroups_per_dimension={} max_compute_workgroup_storage_size={} max_storage_buffers_per_shader_stage={}",
        l.max_storage_buffer_binding_size >> 20,
        l.max_buffer_size >> 20,
        l.max_compute_workgroups_per_dimension,
        l.max_compute_workgroup_storage_size,
        l.max_storage_buffers_per_shader_stage
    ));
    Ok(())
}
