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
use blindfold_protocol::types::{Hash, JobId};
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
    #[error("{action} {}", path.display())]
    Io {
        /// What was being done ("reading", "writing").
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's complaint.
        #[source]
        source: std::io::Error,
    },
    /// The job or dataset is not in a state that allows the operation.
    #[error("{0}")]
    State(String),
    /// Public data does not add up (a hash, a count or an index differs
    /// from what the chain recorded).
    #[error("{0}")]
    Integrity(String),
    /// A release could not be sealed to the researcher's `age` key.
    #[error("sealing the release failed")]
    Seal(#[source] age::EncryptError),
    /// A blocking task was cancelled before it finished (the runtime is
    /// shutting down).
    #[error("{what} was cancelled")]
    Cancelled {
        /// The work that did not finish ("encryption", "decryption").
        what: String,
        /// Tokio's report of the cancelled task.
        #[source]
        source: tokio::task::JoinError,
    },
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
        /// What the owner did about it on chain.
        disputed: Dispute,
    },
}

/// What the data owner did on chain about a result that failed
/// verification ([`ClientError::Unverified`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dispute {
    /// Rejected with the correct result (`reject`, bonded by one claim
    /// stake): a jury of fresh blind replicas decides.
    Rejected {
        /// SHA-256 of the correct result, published in the blob store.
        correct: Hash,
        /// The job's challenge window had closed before the owner acted, so
        /// it was `advance`d to `Computed` first and rejected there.
        advanced: bool,
    },
    /// The contract takes no rejection of this result: why, in words.
    /// Retrying changes nothing while the same result stands.
    Closed(String),
    /// The rejection did not go through (the chain or the store failed on
    /// the way); it may if retried. `watch` retries it.
    Failed(String),
}

impl Dispute {
    /// Whether trying again may dispute what this did not.
    pub fn is_transient(&self) -> bool {
        matches!(self, Dispute::Failed(_))
    }
}

impl std::fmt::Display for Dispute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dispute::Rejected { correct, advanced } => {
                if *advanced {
                    f.write_str(
                        "; its challenge window had closed, so the job was advanced to Computed and",
                    )?;
                } else {
                    f.write_str(";")?;
                }
                write!(
                    f,
                    " challenged on chain with the correct result {}",
                    hex::encode(correct)
                )
            }
            Dispute::Closed(why) => write!(f, "; nothing could be disputed: {why}"),
            Dispute::Failed(why) => write!(
                f,
                "; disputing it on chain failed ({why}): run release again to retry \
                 (watch retries on its next pass)"
            ),
        }
    }
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
            source: error,
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
    ClientError::Cancelled {
        what: what.to_string(),
        source: e,
    }
}
