//! The host API (#31), one test crate that uses only the public API, as a host application would:
//! - `runs`: a run started on one thread and finished on another; the web page's solvers stepped
//!   20 steps with no host readback until the host reads the result (counted by
//!   `Gpu::readbacks`), the device-side NaN flag, async readbacks, a deferred finish;
//! - `bytes`: a model and an image from bytes in memory (a web page has no files), as from files;
//! - `textures`: sRGB and BGRA textures, a sub-rectangle and an array layer, round trips;
//! - `ops`: a host op with its own backward, checked by finite differences;
//! - `operator`: a host WGSL kernel registered at run time as a differentiable op, inside a host
//!   operator that DPS restores with, its defaults coming from the operator's declared kind.

#[path = "../common/mod.rs"]
mod common;

mod bytes;
mod operator;
mod ops;
mod runs;
mod textures;
