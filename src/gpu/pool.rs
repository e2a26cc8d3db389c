//! A buffer pool that reuses freed storage buffers by size class, so a model's steady-state forward
//! pass allocates nothing new.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Counters of the buffer pool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Buffers created on the device since the start.
    pub allocations: u64,
    /// Buffers handed out again from the free lists.
    pub reuses: u64,
    /// Bytes of buffers held by live tensors now.
    pub bytes_in_use: u64,
    /// Largest `bytes_in_use` seen since the start or the last reset.
    pub peak_bytes: u64,
    /// Bytes of buffers waiting in the free lists.
    pub bytes_free: u64,
}

pub(crate) struct Pool {
    device: wgpu::Device,
    usage: wgpu::BufferUsages,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    free: HashMap<u64, Vec<wgpu::Buffer>>,
    stats: PoolStats,
}

/// Size classes: powers of two and 1.5 times powers of two, from 256 bytes up; at most 33% slack.
pub(crate) fn size_class(bytes: u64) -> u64 {
    let b = bytes.max(256);
    let p = b.next_power_of_two();
    let mid = p / 4 * 3;
    if b <= mid { mid } else { p }
}

impl Pool {
    /// A pool of STORAGE | COPY_SRC | COPY_DST buffers, and UNIFORM with `uniform` (CPU adapters,
    /// whose kernels read some tensors as uniform windows).
    pub(crate) fn new(device: wgpu::Device, uniform: bool) -> Self {
        let mut usage =
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST;
        if uniform {
            usage |= wgpu::BufferUsages::UNIFORM;
        }
        Pool {
            device,
            usage,
            state: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn stats(&self) -> PoolStats {
        self.lock().stats
    }

    pub(crate) fn reset_peak(&self) {
        let mut s = self.lock();
        s.stats.peak_bytes = s.stats.bytes_in_use;
    }

    /// A buffer of at least `bytes` bytes (with the pool's usage).
    pub(crate) fn acquire(self: &Arc<Self>, bytes: u64) -> PooledBuffer {
        let class = size_class(bytes);
        let mut s = self.lock();
        let reused = s.free.get_mut(&class).and_then(|v| v.pop());
        let buffer = match reused {
            Some(b) => {
                s.stats.reuses += 1;
                s.stats.bytes_free -= class;
                b
            }
            None => {
                s.stats.allocations += 1;
                self.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("tweedie tensor"),
                    size: class,
                    usage: self.usage,
                    mapped_at_creation: false,
                })
            }
        };
        s.stats.bytes_in_use += class;
        s.stats.peak_bytes = s.stats.peak_bytes.max(s.stats.bytes_in_use);
        PooledBuffer {
            buffer,
            class,
            pool: Some(self.clone()),
        }
    }

    fn release(&self, buffer: wgpu::Buffer, class: u64) {
        let mut s = self.lock();
        s.stats.bytes_in_use -= class;
        s.stats.bytes_free += class;
        s.free.entry(class).or_default().push(buffer);
    }
}

/// A pooled device buffer; it returns to the pool when dropped. Work already recorded on the stream
/// that reads it stays correct: later writes to a reused buffer are recorded after it, and uploads
/// submit pending work first.
pub(crate) struct PooledBuffer {
    pub(crate) buffer: wgpu::Buffer,
    class: u64,
    /// `None` for a buffer the host owns (see [`PooledBuffer::external`]): never pooled.
    pool: Option<Arc<Pool>>,
}

impl PooledBuffer {
    /// A host's buffer, used in place and never returned to the pool.
    pub(crate) fn external(buffer: wgpu::Buffer) -> Self {
        PooledBuffer {
            class: buffer.size(),
            buffer,
            pool: None,
        }
    }
}

impl Drop for PooledBuffer {
    fn drop(&mut self) {
        if let Some(pool) = &self.pool {
            pool.release(self.buffer.clone(), self.class);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::size_class;

    #[test]
    fn size_classes_cover_and_bound_slack() {
        for b in [1u64, 255, 256, 257, 1000, 4096, 5000, 123_457, 1 << 26] {
            let c = size_class(b);
            assert!(c >= b);
            assert!(c as f64 <= (b.max(256) as f64) * 1.5 + 1.0, "{b} -> {c}");
        }
    }
}
