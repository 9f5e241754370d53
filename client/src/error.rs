//! [`ClientError`]: every way a client operation can fail, each with a
//! complete one-line message.
//!
//! Wrapped errors of the lower crates (chain, marketplace, store, FHE, echo
//! readers) keep their type, so callers can match on them, and are
//! `#[error(transparent)]`: each layer's message says only its own words and
//! names its cause as its [`source`](std::error::Error::source), so the
//! binaries print every cause once (`{e:#}` in anyhow).
//!
//! [`ClientError::is_usage`] tells user mistakes (a bad flag value, a missing
//! setting, a malformed config file) from failures of the system, so the
//! binary can exit with 2 for the first and 1 for the rest.

use std::path::{Path, PathBuf};

use blindfold_chain::ChainError;
use blindfold_echo::EchoError;
use blindfold_fhe::FheError;
use blindfold_job::BlobError;
use blindfold_job::{JobError, Mismatch};
use blindfold_market::{InputMismatch, MarketError};
use blindfold_protocol::types::JobId;
use blindfold_store::StoreError;

/// Everything a client operation can refuse or fail with.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// A command-line or library argument is invalid.
    #[error("{0}")]
    Usage(String),
    /// A setting is missing, or the config file cannot be used.
    #[error("{0}")]
    Config(String),
    /// The key directory or a key file cannot be used.
    #[error("{0}")]
    Key(String),
    /// A file or directory could not be read or written.
    #[error("{action} {}: {reason}", path.display())]
    Io {
        /// What was being done ("reading", "writing").
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's complaint.
        reason: String,
    },
    /// The job or dataset is not in a state that allows the operation.
    #[error("{0}")]
    State(String),
    /// Public data does not add up (a hash, a count or an index differs
    /// from what the chain recorded).
    #[error("{0}")]
    Integrity(String),
    /// The chain refused or failed.
    #[error(transparent)]
    Chain(ChainError),
    /// The marketplace contract refused, or the chain failed under it.
    #[error(transparent)]
    Market(MarketError),
    /// The blob store failed, or a blob is missing or tampered with.
    #[error(transparent)]
    Store(StoreError),
    /// Key, encryption, evaluation or decryption failed in the FHE layer.
    #[error(transparent)]
    Fhe(FheError),
    /// A video file or dataset could not be read or preprocessed.
    #[error(transparent)]
    Echo(EchoError),
    /// A public blob (metadata, job spec, result bundle) is malformed.
    #[error(transparent)]
    Blob(BlobError),
    /// The submission events do not match a job's input digest.
    #[error(transparent)]
    Inputs(InputMismatch),
    /// A job's public context could not be loaded, evaluated or verified.
    #[error(transparent)]
    Job(JobError),
    /// The agreed result of a job is not what its public inputs give: the
    /// data owner decrypted nothing.
    #[error("job {job}: refusing to decrypt: {mismatch}; nothing was decrypted{disputed}")]
    Unverified {
        /// The job.
        job: JobId,
        /// What differed.
        mismatch: Box<Mismatch>,
        /// What the owner did about it on chain, in words (may be empty).
        disputed: String,
    },
}

/// Result alias of this crate.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;

impl ClientError {
    /// Whether this is the user's mistake (exit code 2) rather than a failure
    /// of the system (exit code 1).
    pub fn is_usage(&self) -> bool {
        matches!(self, ClientError::Usage(_) | ClientError::Config(_))
    }

    /// The marketplace contract's own error, if the contract refused.
    pub fn contract_error(&self) -> Option<blindfold_protocol::Error> {
        match self {
            ClientError::Market(e) => e.contract_error(),
            _ => None,
        }
    }

    /// An I/O error on `path`.
    pub fn io(action: &'static str, path: &Path, error: std::io::Error) -> Self {
        ClientError::Io {
            action,
            path: path.to_path_buf(),
            reason: error.to_string(),
        }
    }
}

macro_rules! wrap {
    ($($variant:ident($ty:ty)),* $(,)?) => {$(
        impl From<$ty> for ClientError {
            fn from(e: $ty) -> Self {
                ClientError::$variant(e)
            }
        }
    )*};
}

wrap!(
    Chain(ChainError),
    Market(MarketError),
    Store(StoreError),
    Fhe(FheError),
    Echo(EchoError),
    Blob(BlobError),
    Inputs(InputMismatch),
    Job(JobError),
);

/// A blocking task (run with `tokio::task::spawn_blocking`) that could not
/// finish: it panicked, or the runtime is shutting down.
pub(crate) fn join_error(what: &str, e: tokio::task::JoinError) -> ClientError {
    if e.is_panic() {
        std::panic::resume_unwind(e.into_panic());
    }
    ClientError::State(format!("{what} was cancelled: {e}"))
}
