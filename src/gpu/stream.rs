//! The command stream: dispatches and copies are recorded here and submitted together, only when a
//! result is needed, when [`BATCH`] dispatches have piled up, or on an explicit flush.

use super::GpuInner;
use super::kernel::{Access, Pipeline};
use crate::error::{Error, Result};
use std::num::NonZeroU64;
use std::sync::Arc;

/// Dispatches per submission at most (each takes one slot of the parameter arena).
pub(crate) const BATCH: u64 = 512;
/// Bytes of parameters a kernel may take.
pub(crate) const PARAM_BYTES: u64 = 256;

enum Cmd {
    Dispatch {
        pipeline: Arc<Pipeline>,
        bind_group: wgpu::BindGroup,
        groups: [u32; 3],
    },
    Copy {
        src: wgpu::Buffer,
        src_off: u64,
        dst: wgpu::Buffer,
        dst_off: u64,
        size: u64,
    },
    /// Whole-texture copy between a texture (mip 0, layer 0) and a buffer with `row_bytes` per row.
    TextureCopy {
        texture: wgpu::Texture,
        buffer: wgpu::Buffer,
        row_bytes: u32,
        to_buffer: bool,
    },
}

pub(crate) struct Stream {
    cmds: Vec<Cmd>,
    /// Parameter blocks of the recorded dispatches, one `align`-sized slot each.
    params: Vec<u8>,
    dispatches: u64,
    arena: wgpu::Buffer,
    align: u64,
    pub(crate) submits: u64,
    /// Index of the latest submission.
    pub(crate) last: Option<wgpu::SubmissionIndex>,
    /// Submission waited for by the next [`super::Gpu::pace`].
    pub(crate) paced: Option<wgpu::SubmissionIndex>,
}

impl Stream {
    pub(crate) fn new(device: &wgpu::Device, align: u64) -> Self {
        let arena = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("tweedie kernel parameters"),
            size: BATCH * align,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        Stream {
            cmds: Vec::new(),
            params: Vec::new(),
            dispatches: 0,
            arena,
            align,
            submits: 0,
            last: None,
            paced: None,
        }
    }

    pub(crate) fn is_full(&self) -> bool {
        self.dispatches >= BATCH
    }

    pub(crate) fn has_pending(&self) -> bool {
        !self.cmds.is_empty()
    }

    pub(crate) fn record_dispatch(
        &mut self,
        device: &wgpu::Device,
        pipeline: Arc<Pipeline>,
        params: &[u32],
        buffers: &[(&wgpu::Buffer, u64, u64, Access)],
        groups: [u32; 3],
    ) {
        assert!(
            params.len() as u64 * 4 <= PARAM_BYTES,
            "kernel parameter block too large"
        );
        let offset = self.dispatches * self.align;
        self.params.resize((offset + self.align) as usize, 0);
        self.params[offset as usize..offset as usize + params.len() * 4]
            .copy_from_slice(bytemuck::cast_slice(params));
        let mut entries = vec![wgpu::BindGroupEntry {
            binding: 0,
            resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                buffer: &self.arena,
                offset,
                size: NonZeroU64::new(PARAM_BYTES),
            }),
        }];
        for (i, (buf, at, bytes, _)) in buffers.iter().enumerate() {
            entries.push(wgpu::BindGroupEntry {
                binding: i as u32 + 1,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: buf,
                    offset: *at,
                    size: NonZeroU64::new(*bytes),
                }),
            });
        }
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &pipeline.layout,
            entries: &entries,
        });
        self.cmds.push(Cmd::Dispatch {
            pipeline,
            bind_group,
            groups,
        });
        self.dispatches += 1;
    }

    pub(crate) fn record_copy(
        &mut self,
        src: &wgpu::Buffer,
        src_off: u64,
        dst: &wgpu::Buffer,
        dst_off: u64,
        size: u64,
    ) {
        self.cmds.push(Cmd::Copy {
            src: src.clone(),
            src_off,
            dst: dst.clone(),
            dst_off,
            size,
        });
    }

    /// Records a copy of a whole 2-D texture (mip 0, layer 0) into `buffer` (`to_buffer`) or back,
    /// with `row_bytes` (a multiple of 256) per row in the buffer.
    pub(crate) fn record_texture_copy(
        &mut self,
        texture: &wgpu::Texture,
        buffer: &wgpu::Buffer,
        row_bytes: u32,
        to_buffer: bool,
    ) {
        self.cmds.push(Cmd::TextureCopy {
            texture: texture.clone(),
            buffer: buffer.clone(),
            row_bytes,
            to_buffer,
        });
    }

    /// Encodes everything recorded into one command buffer (consecutive dispatches share one compute
    /// pass) and submits it.
    pub(crate) fn flush(&mut self, gpu: &GpuInner) -> Result<()> {
        if self.cmds.is_empty() {
            return Ok(());
        }
        if !self.params.is_empty() {
            gpu.queue.write_buffer(&self.arena, 0, &self.params);
        }
        let mut enc = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("tweedie"),
            });
        let cmds = std::mem::take(&mut self.cmds);
        let mut i = 0;
        while i < cmds.len() {
            match &cmds[i] {
                Cmd::Copy {
                    src,
                    src_off,
                    dst,
                    dst_off,
                    size,
                } => {
                    enc.copy_buffer_to_buffer(src, *src_off, dst, *dst_off, *size);
                    i += 1;
                }
                Cmd::TextureCopy {
                    texture,
                    buffer,
                    row_bytes,
                    to_buffer,
                } => {
                    let tex = texture.as_image_copy();
                    let buf = wgpu::TexelCopyBufferInfo {
                        buffer,
                        layout: wgpu::TexelCopyBufferLayout {
                            offset: 0,
                            bytes_per_row: Some(*row_bytes),
                            rows_per_image: None,
                        },
                    };
                    let size = wgpu::Extent3d {
                        width: texture.width(),
                        height: texture.height(),
                        depth_or_array_layers: 1,
                    };
                    if *to_buffer {
                        enc.copy_texture_to_buffer(tex, buf, size);
                    } else {
                        enc.copy_buffer_to_texture(buf, tex, size);
                    }
                    i += 1;
                }
                Cmd::Dispatch { .. } => {
                    let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
                    while let Some(Cmd::Dispatch {
                        pipeline,
                        bind_group,
                        groups,
                    }) = cmds.get(i)
                    {
                        pass.set_pipeline(&pipeline.pipeline);
                        pass.set_bind_group(0, bind_group, &[]);
                        pass.dispatch_workgroups(groups[0], groups[1], groups[2]);
                        i += 1;
                    }
                }
            }
        }
        self.last = Some(gpu.queue.submit([enc.finish()]));
        self.params.clear();
        self.dispatches = 0;
        self.submits += 1;
        let mut slot = gpu.error.lock().unwrap_or_else(|p| p.into_inner());
        match slot.take() {
            Some(e) => Err(Error::Gpu(e)),
            None => Ok(()),
        }
    }
}
