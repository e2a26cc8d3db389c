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

/// What the profiler knows of one dispatch: its kernel, floating-point operations (0 where the
/// launcher does not count them) and the bytes of its bindings.
pub(crate) struct Tag {
    pub(crate) name: String,
    pub(crate) flops: u64,
    pub(crate) bytes: u64,
}

/// One kernel's row of the profile ([`super::Gpu::profile`]), summed over its calls.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KernelProfile {
    /// `file::entry` of the kernel.
    pub kernel: String,
    /// Dispatches timed.
    pub calls: u64,
    /// Seconds they took (device time with GPU timestamps, else host time of each dispatch alone).
    pub seconds: f64,
    /// Floating-point operations (a multiply-add counts two); 0 where the launcher does not count
    /// them (everything but convolutions and matrix products).
    pub flops: u64,
    /// Bytes bound (each buffer window once): what the dispatches had to move at least.
    pub bytes: u64,
}

impl KernelProfile {
    pub(crate) fn add(&mut self, tag: &Tag, seconds: f64) {
        self.calls += 1;
        self.seconds += seconds;
        self.flops += tag.flops;
        self.bytes += tag.bytes;
    }
}

/// GPU timestamps around each dispatch (profiling on a device with `TIMESTAMP_QUERY`): a query
/// pair per dispatch of a submission, resolved and read back after it.
struct Timestamps {
    set: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    readback: wgpu::Buffer,
    /// Nanoseconds per timestamp tick.
    period_ns: f64,
}

enum Cmd {
    Dispatch {
        pipeline: Arc<Pipeline>,
        bind_group: wgpu::BindGroup,
        groups: [u32; 3],
        /// Set when the dispatch is timed by GPU timestamps.
        tag: Option<Tag>,
    },
    Copy {
        src: wgpu::Buffer,
        src_off: u64,
        dst: wgpu::Buffer,
        dst_off: u64,
        size: u64,
    },
    /// Copy between a region of a texture (mip 0; `origin.z` is the array layer) and a buffer with
    /// `row_bytes` per row.
    TextureCopy {
        texture: wgpu::Texture,
        buffer: wgpu::Buffer,
        row_bytes: u32,
        origin: wgpu::Origin3d,
        size: wgpu::Extent3d,
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
    timestamps: Option<Timestamps>,
}

impl Stream {
    /// A stream with a parameter arena of [`BATCH`] slots of `align` bytes; with `timestamps`
    /// (the queue's tick period) it times every dispatch on the device for the profiler.
    pub(crate) fn new(device: &wgpu::Device, align: u64, timestamps: Option<f32>) -> Self {
        let timestamps = timestamps.map(|period| {
            let bytes = 2 * BATCH * 8;
            Timestamps {
                set: device.create_query_set(&wgpu::QuerySetDescriptor {
                    label: Some("tweedie profile"),
                    ty: wgpu::QueryType::Timestamp,
                    count: 2 * BATCH as u32,
                }),
                resolve: device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("tweedie profile resolve"),
                    size: bytes,
                    usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                    mapped_at_creation: false,
                }),
                readback: device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("tweedie profile readback"),
                    size: bytes,
                    usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                }),
                period_ns: period as f64,
            }
        });
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
            timestamps,
        }
    }

    /// Whether dispatches are timed by GPU timestamps.
    pub(crate) fn timed_on_device(&self) -> bool {
        self.timestamps.is_some()
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
        params: &[u8],
        buffers: &[(&wgpu::Buffer, u64, u64, Access)],
        groups: [u32; 3],
        tag: Option<Tag>,
    ) {
        assert!(
            params.len() as u64 <= PARAM_BYTES,
            "kernel parameter block too large"
        );
        let offset = self.dispatches * self.align;
        self.params.resize((offset + self.align) as usize, 0);
        self.params[offset as usize..offset as usize + params.len()].copy_from_slice(params);
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
            tag: tag.filter(|_| self.timestamps.is_some()),
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

    /// Records a copy of a texture region (mip 0; `origin.z` is the array layer) into `buffer`
    /// (`to_buffer`) or back, with `row_bytes` (a multiple of 256) per row in the buffer.
    pub(crate) fn record_texture_copy(
        &mut self,
        texture: &wgpu::Texture,
        buffer: &wgpu::Buffer,
        row_bytes: u32,
        origin: wgpu::Origin3d,
        size: wgpu::Extent3d,
        to_buffer: bool,
    ) {
        self.cmds.push(Cmd::TextureCopy {
            texture: texture.clone(),
            buffer: buffer.clone(),
            row_bytes,
            origin,
            size,
            to_buffer,
        });
    }

    /// Encodes everything recorded into one command buffer (consecutive dispatches share one compute
    /// pass; with GPU timestamps each tagged dispatch has a timed pass of its own) and submits it.
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
        // indices (into cmds) of the dispatches timed in this submission
        let mut timed = Vec::new();
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
                    origin,
                    size,
                    to_buffer,
                } => {
                    let tex = wgpu::TexelCopyTextureInfo {
                        origin: *origin,
                        ..texture.as_image_copy()
                    };
                    let buf = wgpu::TexelCopyBufferInfo {
                        buffer,
                        layout: wgpu::TexelCopyBufferLayout {
                            offset: 0,
                            bytes_per_row: Some(*row_bytes),
                            rows_per_image: None,
                        },
                    };
                    if *to_buffer {
                        enc.copy_texture_to_buffer(tex, buf, *size);
                    } else {
                        enc.copy_buffer_to_texture(buf, tex, *size);
                    }
                    i += 1;
                }
                Cmd::Dispatch {
                    pipeline,
                    bind_group,
                    groups,
                    tag: Some(_),
                } => {
                    let ts = self.timestamps.as_ref().expect("tags only with timestamps");
                    let at = 2 * timed.len() as u32;
                    let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                        label: None,
                        timestamp_writes: Some(wgpu::ComputePassTimestampWrites {
                            query_set: &ts.set,
                            beginning_of_pass_write_index: Some(at),
                            end_of_pass_write_index: Some(at + 1),
                        }),
                    });
                    pass.set_pipeline(&pipeline.pipeline);
                    pass.set_bind_group(0, bind_group, &[]);
                    pass.dispatch_workgroups(groups[0], groups[1], groups[2]);
                    timed.push(i);
                    i += 1;
                }
                Cmd::Dispatch { .. } => {
                    let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
                    while let Some(Cmd::Dispatch {
                        pipeline,
                        bind_group,
                        groups,
                        tag: None,
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
        if let (Some(ts), false) = (&self.timestamps, timed.is_empty()) {
            let n = 2 * timed.len() as u32;
            enc.resolve_query_set(&ts.set, 0..n, &ts.resolve, 0);
            enc.copy_buffer_to_buffer(&ts.resolve, 0, &ts.readback, 0, n as u64 * 8);
        }
        self.last = Some(gpu.queue.submit([enc.finish()]));
        if !timed.is_empty() {
            self.read_timestamps(gpu, &cmds, &timed)?;
        }
        self.params.clear();
        self.dispatches = 0;
        self.submits += 1;
        let mut slot = gpu.error.lock().unwrap_or_else(|p| p.into_inner());
        match slot.take() {
            Some(e) => Err(Error::Gpu(e)),
            None => Ok(()),
        }
    }

    /// Waits for the submission just made, reads its timestamps and adds each timed dispatch's
    /// device time to the profile.
    fn read_timestamps(&self, gpu: &GpuInner, cmds: &[Cmd], timed: &[usize]) -> Result<()> {
        let ts = self
            .timestamps
            .as_ref()
            .expect("timed dispatches need timestamps");
        let bytes = timed.len() as u64 * 16;
        let (tx, rx) = std::sync::mpsc::channel();
        ts.readback.map_async(wgpu::MapMode::Read, ..bytes, move |r| {
            let _ = tx.send(r);
        });
        gpu.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Gpu(format!("waiting for the device failed: {e}")))?;
        rx.recv()
            .map_err(|_| Error::Gpu("timestamp readback callback never ran".into()))?
            .map_err(|e| Error::Gpu(format!("mapping the timestamp buffer failed: {e}")))?;
        let ticks: Vec<u64> = bytemuck::cast_slice(
            &ts.readback
                .get_mapped_range(..bytes)
                .map_err(|e| Error::Gpu(format!("reading timestamps failed: {e:?}")))?,
        )
        .to_vec();
        ts.readback.unmap();
        if let Some(prof) = &gpu.profile {
            let mut p = prof.lock().unwrap_or_else(|p| p.into_inner());
            for (j, &i) in timed.iter().enumerate() {
                if let Cmd::Dispatch { tag: Some(tag), .. } = &cmds[i] {
                    let dt = ticks[2 * j + 1].saturating_sub(ticks[2 * j]) as f64 * ts.period_ns * 1e-9;
                    p.entry(tag.name.clone()).or_default().add(tag, dt);
                }
            }
        }
        Ok(())
    }
}
