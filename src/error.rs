//! The crate's error type: every failure a user can cause or meet says what went wrong and what to do.

use std::fmt;

/// Everything that can go wrong in tweedie, each variant carrying a message meant for a person.
#[derive(Debug)]
pub enum Error {
    /// No GPU adapter (or no usable one) was found.
    NoAdapter(String),
    /// The GPU device reported an error (validation, out of memory, lost device).
    Gpu(String),
    /// A tensor or buffer exceeds a limit of the device.
    TooLarge {
        /// What was being allocated.
        what: String,
        /// Its size in bytes.
        bytes: u64,
        /// The device limit in bytes.
        limit: u64,
    },
    /// Shapes that do not fit together.
    Shape(String),
    /// A model directory, config or weights file that cannot be used.
    Model(String),
    /// A file could not be read or written.
    Io(String),
    /// Bad input from the user (arguments, images, masks).
    Input(String),
    /// A numerical blow-up (NaN or infinity) during a computation.
    NonFinite(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoAdapter(m) => write!(f, "no usable GPU adapter: {m}"),
            Error::Gpu(m) => write!(f, "GPU error: {m}"),
            Error::TooLarge { what, bytes, limit } => write!(
                f,
                "{what} needs {bytes} bytes but this device binds at most {limit} bytes per buffer; \
                 use a smaller batch or image, or a GPU with a larger max_storage_buffer_binding_size"
            ),
            Error::Shape(m) => write!(f, "shape mismatch: {m}"),
            Error::Model(m) => write!(f, "model error: {m}"),
            Error::Io(m) => write!(f, "{m}"),
            Error::Input(m) => write!(f, "{m}"),
            Error::NonFinite(m) => write!(f, "numerical blow-up: {m}"),
        }
    }
}

impl std::error::Error for Error {}

/// Short alias used across the crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Wraps an `std::io::Error` with the path it concerned.
pub(crate) fn io_err(path: &std::path::Path, e: std::io::Error) -> Error {
    Error::Io(format!("cannot access {}: {e}", path.display()))
}
