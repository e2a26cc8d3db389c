//! The random numbers of the samplers: the generator lives below `ops` ([`crate::ops::random`]);
//! its public paths under `diffusion` are kept.

pub use crate::ops::random::{philox4x32_10, randn, randn_host};
