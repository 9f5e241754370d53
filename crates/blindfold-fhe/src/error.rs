//! The crate's error type. Every failure on untrusted input (keys, blobs,
//! params) is a value of [`FheError`], never a panic.

use thiserror::Error;

/// Everything that can go wrong in this crate.
#[derive(Debug, Error)]
pub enum FheError {
    /// A serialised object could not be read: truncated, garbage, wrong type
    /// name, wrong tfhe version, or larger than the size limit.
    #[error("cannot deserialise {what}: {reason}")]
    Deserialize {
        /// What was being read (for example "server key").
        what: &'static str,
        /// The underlying reason, as reported by tfhe's safe deserialiser.
        reason: String,
    },
    /// An untrusted blob is larger than the limit its expected content
    /// implies; refused before parsing.
    #[error("{what} blob is {size} bytes, over its limit of {limit} bytes")]
    TooLarge {
        /// Which blob.
        what: &'static str,
        /// Its size.
        size: u64,
        /// The limit (for a result: from the job's plan).
        limit: u64,
    },
    /// An object could not be serialised (for example it exceeds the size limit).
    #[error("cannot serialise {what}: {reason}")]
    Serialize {
        /// What was being written.
        what: &'static str,
        /// The underlying reason.
        reason: String,
    },
    /// A key or blob deserialised fine but does not match the pinned parameter set.
    #[error("{what} does not conform to parameter set {param_set}")]
    NotConformant {
        /// What was checked.
        what: &'static str,
        /// The expected parameter set name.
        param_set: &'static str,
    },
    /// A parameter-set name or id that this build does not know.
    #[error("unknown parameter set {0:?}")]
    UnknownParamSet(String),
    /// A plaintext video is malformed (geometry, bit width, pixel range).
    #[error("invalid video: {0}")]
    InvalidVideo(String),
    /// An encrypted video blob is structurally inconsistent.
    #[error("invalid encrypted video: {0}")]
    InvalidEncryptedVideo(String),
    /// Pipeline parameters are malformed or do not fit the video.
    #[error("invalid {pipeline} params: {reason}")]
    InvalidParams {
        /// The pipeline id.
        pipeline: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The computation would exceed the precision or noise budget of the
    /// parameter set (the params are valid but too large for exact evaluation).
    #[error("{pipeline}: {reason}")]
    Capacity {
        /// The pipeline id.
        pipeline: &'static str,
        /// Which budget is exceeded.
        reason: String,
    },
    /// A result blob does not have the structure its pipeline params imply.
    #[error("invalid result: {0}")]
    InvalidResult(String),
    /// Keys, video and result belong to different parameter sets.
    /// The BFV scheme refused a key, blob, program or evaluation.
    #[error(transparent)]
    Bfv(#[from] blindfold_bfv::BfvError),
    #[error("parameter set mismatch: expected {expected}, found {found}")]
    ParamSetMismatch {
        /// The expected parameter set.
        expected: String,
        /// What was found.
        found: String,
    },
}

/// Shorthand result type.
pub type Result<T, E = FheError> = std::result::Result<T, E>;
