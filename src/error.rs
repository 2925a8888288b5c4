//! The library error type, grouped by subsystem. Every variant that concerns a file names it.

use std::path::PathBuf;

/// Result alias used throughout the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong inside hark.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or decoding audio failed.
    #[error("{path}: {kind}")]
    Audio { path: PathBuf, kind: AudioError },

    /// A manifest line or file is unusable.
    #[error("{path}:{line}: {message}")]
    Manifest {
        path: PathBuf,
        line: usize,
        message: String,
    },

    /// A model directory is missing, corrupt or inconsistent.
    #[error("model {path}: {message}")]
    Model { path: PathBuf, message: String },

    /// A configuration value is out of range or inconsistent.
    #[error("invalid configuration: {0}")]
    Config(String),

    /// A training example cannot be used (e.g. too short for its transcript).
    #[error("{0}")]
    Data(String),

    /// The requested device/backend is not available in this build.
    #[error("device: {0}")]
    Device(String),

    /// A game data file (the real-speech corpora) is not in the expected format.
    #[error("{path}: {message}")]
    GameData { path: PathBuf, message: String },

    /// Plain I/O on a named file. The cause is part of the message and not also a `source`,
    /// so that a report of the whole chain names it once.
    #[error("{path}: {cause}")]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
}

/// Why an audio file could not be turned into a waveform.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("file not found")]
    NotFound,
    #[error("is a directory, not a file")]
    IsDirectory,
    #[error("permission denied")]
    PermissionDenied,
    #[error("not a WAV file ({0})")]
    NotWav(String),
    #[error(
        "unsupported encoding: {0} (hark reads WAV as PCM, float, A-law, µ-law or ADPCM; FLAC, MP3, Ogg Vorbis)"
    )]
    UnsupportedEncoding(String),
    #[error("invalid header: {0}")]
    InvalidHeader(String),
    #[error("truncated data: header promises {expected} bytes of samples, file holds {available}")]
    Truncated { expected: u64, available: u64 },
    #[error("no audio samples")]
    Empty,
    #[error("sample {index} is not finite ({value})")]
    NonFinite { index: usize, value: f32 },
    #[error("sample {index} is {value:e}, far outside any audio range (corrupt data?)")]
    OutOfRange { index: usize, value: f32 },
    #[error("resampling from {from} Hz failed: {message}")]
    Resample { from: u32, message: String },
    #[error("I/O error: {0}")]
    Io(std::io::Error),
}

impl AudioError {
    /// The error for an unusable sample value at `index`.
    pub fn bad_sample(index: usize, value: f32) -> Self {
        if value.is_finite() {
            AudioError::OutOfRange { index, value }
        } else {
            AudioError::NonFinite { index, value }
        }
    }
}

impl Error {
    /// Wrap an [`AudioError`] with the file it concerns.
    pub fn audio(path: impl Into<PathBuf>, kind: AudioError) -> Self {
        Error::Audio {
            path: path.into(),
            kind,
        }
    }

    /// Wrap an I/O error with the file it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            cause: source,
        }
    }

    /// A model-directory error.
    pub fn model(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Model {
            path: path.into(),
            message: message.into(),
        }
    }
}
