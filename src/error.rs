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
    /// A bad value of one of the user's settings: which ([`Setting`]), then the rest of the sentence
    /// (`rest` starts with its own separator, e.g. `": ddrm expects a number in [0, 1]"`). The
    /// library names the setting in words; the command line by its flag ([`Error::on_command_line`]).
    Setting {
        /// The setting, with the value given.
        setting: Setting,
        /// What is wrong with it and what to do, continuing the sentence.
        rest: String,
    },
}

/// A user setting an [`Error::Setting`] is about, with the value given (empty where the setting as
/// a whole is meant).
#[derive(Debug, Clone, PartialEq)]
pub enum Setting {
    /// A solver parameter: `key` or `key=value`.
    SolverParam(String),
    /// The number of steps.
    Steps(String),
    /// The measurement noise σ_y.
    SigmaY(String),
    /// The architecture of a guided-diffusion checkpoint (a preset or a JSON file).
    ModelConfig(String),
}

impl Setting {
    /// The setting as the library says it (`solver parameter eta=2`, `steps 0`).
    pub fn words(&self) -> String {
        let (name, v) = self.parts();
        [name, v]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The setting as the command line says it (`--set eta=2`, `--steps 0`).
    pub fn flag(&self) -> String {
        let flag = match self {
            Setting::SolverParam(_) => "--set",
            Setting::Steps(_) => "--steps",
            Setting::SigmaY(_) => "--sigma-y",
            Setting::ModelConfig(_) => "--model-config",
        };
        let (_, v) = self.parts();
        if v.is_empty() {
            flag.to_string()
        } else {
            format!("{flag} {v}")
        }
    }

    fn parts(&self) -> (&'static str, &str) {
        match self {
            Setting::SolverParam(v) => ("solver parameter", v),
            Setting::Steps(v) => ("steps", v),
            Setting::SigmaY(v) => ("sigma_y", v),
            Setting::ModelConfig(v) => ("model config", v),
        }
    }
}

impl Error {
    /// A bad value of `setting`; `rest` continues the sentence after it.
    pub fn setting(setting: Setting, rest: impl Into<String>) -> Error {
        Error::Setting {
            setting,
            rest: rest.into(),
        }
    }

    /// The error with `ctx` (where it happened) added: after a setting's sentence, so that the
    /// setting still leads; before any other message.
    pub fn in_context(self, ctx: &str) -> Error {
        match self {
            Error::Setting { setting, rest } => Error::Setting {
                setting,
                rest: format!("{rest} ({ctx})"),
            },
            e => Error::Input(format!("{ctx}: {e}")),
        }
    }

    /// The message as the command line prints it: settings named by their flags.
    pub fn on_command_line(&self) -> String {
        match self {
            Error::Setting { setting, rest } => format!("{}{rest}", setting.flag()),
            e => e.to_string(),
        }
    }
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
            Error::Setting { setting, rest } => write!(f, "{}{rest}", setting.words()),
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
