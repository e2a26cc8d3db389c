//! The embedding path: the `embed` example (a host device with default limits, its own textures,
//! DDRM and DPS step by step) beats the trivial estimate, and texture ↔ tensor round trips are
//! exact for 8-bit images.

mod common;
#[path = "../examples/embed.rs"]
mod embed;

use tweedie::{Gpu, Tensor, ops};

/// Measured on this image (lavapipe, σ_y = 0.05, 20 steps each, bundled prior at 2,750 steps):
/// observation 15.20 dB, DDRM 18.85 dB, DPS 24.32 dB (with the earlier 433-step prior: 16.79 and
/// 19.49; 10 DPS steps gave only 15.79 there). Margins: 1 dB for DDRM, 2 dB for DPS.
#[test]
fn embed_example_beats_the_trivial_estimate() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::env::temp_dir().join("tweedie-embed-test.png");
    let o = embed::run(root, &out, 20).unwrap();
    println!(
        "trivial {:.2} dB, ddrm {:.2} dB, dps {:.2} dB, {} previews",
        o.trivial, o.ddrm, o.dps, o.previews
    );
    assert_eq!(o.previews, 40, "an x0 preview after every step");
    assert!(
        o.ddrm > o.trivial + 1.0,
        "DDRM {:.2} vs trivial {:.2}",
        o.ddrm,
        o.trivial
    );
    assert!(
        o.dps > o.trivial + 2.0,
        "DPS {:.2} vs trivial {:.2}",
        o.dps,
        o.trivial
    );
    assert!(out.is_file());
}

fn texture(device: &wgpu::Device, format: wgpu::TextureFormat, w: u32, h: u32) -> wgpu::Texture {
    device.create_texture(&wgpu::TextureDescriptor {
        label: None,
        size: wgpu::Extent3d {
            width: w,
            height: h,
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format,
        usage: wgpu::TextureUsages::COPY_SRC | wgpu::TextureUsages::COPY_DST,
        view_formats: &[],
    })
}

fn host() -> (wgpu::Device, wgpu::Queue) {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapter =
        pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions::default())).unwrap();
    pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor::default())).unwrap()
}

/// rgba8unorm → 3-channel tensor → rgba8unorm gives back every RGB byte (odd 13×7 size, rows padded
/// for the copy), the tensor holds 2p/255 − 1, and one channel reads red and writes it to R, G, B.
#[test]
fn texture_round_trips_are_exact_for_8_bit_images() {
    let (device, queue) = host();
    let gpu = Gpu::from_device(device.clone(), queue.clone(), &common::options()).unwrap();
    let (w, h) = (13u32, 7u32);
    let bytes: Vec<u8> = (0..w * h * 4).map(|i| ((i * 37 + 11) % 256) as u8).collect();
    let src = texture(&device, wgpu::TextureFormat::Rgba8Unorm, w, h);
    queue.write_texture(
        src.as_image_copy(),
        &bytes,
        wgpu::TexelCopyBufferLayout {
            offset: 0,
            bytes_per_row: Some(w * 4),
            rows_per_image: None,
        },
        src.size(),
    );
    let x = ops::texture_to_tensor(&gpu, &src, 3).unwrap();
    assert_eq!(x.shape(), &[1, 3, h as usize, w as usize]);
    let v = x.to_vec().unwrap();
    let n = (w * h) as usize;
    for c in 0..3 {
        for i in 0..n {
            let want = 2.0 * bytes[i * 4 + c] as f32 / 255.0 - 1.0;
            assert!((v[c * n + i] - want).abs() < 1e-6, "channel {c} pixel {i}");
        }
    }
    let dst = texture(&device, wgpu::TextureFormat::Rgba8Unorm, w, h);
    ops::tensor_to_texture(&x, 0, &dst).unwrap();
    gpu.flush().unwrap();
    let back = embed::read_texture(&device, &queue, &dst, 4);
    for i in 0..n {
        assert_eq!(&back[i * 4..i * 4 + 3], &bytes[i * 4..i * 4 + 3], "pixel {i}");
        assert_eq!(back[i * 4 + 3], 255);
    }
    // one channel: red in, red to R, G and B out
    let g1 = ops::texture_to_tensor(&gpu, &src, 1).unwrap();
    ops::tensor_to_texture(&g1, 0, &dst).unwrap();
    gpu.flush().unwrap();
    let back = embed::read_texture(&device, &queue, &dst, 4);
    for i in 0..n {
        assert_eq!([back[i * 4], back[i * 4 + 1], back[i * 4 + 2]], [bytes[i * 4]; 3]);
    }
    // r32float and rgba16float carry the values through (f16: 11-bit mantissa)
    let vals: Vec<f32> = common::randn(3, 2 * n)
        .iter()
        .map(|v| v.clamp(-1.0, 1.0))
        .collect();
    let t = Tensor::from_slice(&gpu, &[2, 1, h as usize, w as usize], &vals).unwrap();
    for (fmt, texel, tol) in [
        (wgpu::TextureFormat::R32Float, 4, 1e-6f32),
        (wgpu::TextureFormat::Rgba16Float, 8, 1e-3),
    ] {
        let tex = texture(&device, fmt, w, h);
        ops::tensor_to_texture(&t, 1, &tex).unwrap();
        let r = ops::texture_to_tensor(&gpu, &tex, 1).unwrap().to_vec().unwrap();
        for i in 0..n {
            assert!(
                (r[i] - vals[n + i]).abs() <= tol,
                "{fmt:?} pixel {i}: {} vs {}",
                r[i],
                vals[n + i]
            );
        }
        let _ = texel;
    }
    // wrong format, size and channels are errors
    let bad = texture(&device, wgpu::TextureFormat::Rgba8Snorm, w, h);
    assert!(
        ops::texture_to_tensor(&gpu, &bad, 3)
            .unwrap_err()
            .to_string()
            .contains("rgba8unorm")
    );
    let small = texture(&device, wgpu::TextureFormat::Rgba8Unorm, 5, 5);
    assert!(ops::tensor_to_texture(&x, 0, &small).is_err());
    assert!(ops::texture_to_tensor(&gpu, &src, 2).is_err());
}

/// A host's storage buffer wraps as a tensor without a copy, and a tensor's buffer is the host's.
#[test]
fn host_buffers_wrap_as_tensors_in_place() {
    let (device, queue) = host();
    let gpu = Gpu::from_device(device.clone(), queue.clone(), &common::options()).unwrap();
    let vals: Vec<f32> = common::randn(8, 24);
    let buf = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("host"),
        size: 96,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    queue.write_buffer(&buf, 0, bytemuck::cast_slice(&vals));
    let t = Tensor::from_buffer(&gpu, buf.clone(), &[2, 3, 4]).unwrap();
    assert_eq!(t.buffer(), &buf);
    let y = ops::affine(&t, 2.0, 0.5).unwrap();
    let want: Vec<f32> = vals.iter().map(|v| 2.0 * v + 0.5).collect();
    assert_eq!(y.to_vec().unwrap(), want);
    assert!(
        Tensor::from_buffer(&gpu, buf.clone(), &[5, 5]).is_err(),
        "too small"
    );
    let no_storage = device.create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: 96,
        usage: wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    assert!(
        Tensor::from_buffer(&gpu, no_storage, &[24])
            .unwrap_err()
            .to_string()
            .contains("STORAGE")
    );
}
