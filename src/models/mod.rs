//! Score models: the diffusers `UNet2DModel`.

mod config;
mod unet2d;

pub use config::UNet2DConfig;
pub use unet2d::UNet2DModel;
