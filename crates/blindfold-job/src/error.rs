//! [`JobError`]: why a job's public context or its evaluation is unusable.

use blindfold_fhe::FheError;
use blindfold_market::MarketError;
use blindfold_protocol::types::JobId;
use blindfold_store::StoreError;

/// Why a job cannot be loaded, evaluated or verified.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Public data does not match what the chain recorded, or is malformed
    /// (a blob with the wrong hash, a missing blob, a spec for another
    /// pipeline, inputs that do not add up to the job's digest). A worker
    /// refuses such a job without claiming it.
    #[error("job {job}: {reason}")]
    Invalid {
        /// The job.
        job: JobId,
        /// What does not match.
        reason: String,
    },
    /// The marketplace refused, or the chain failed.
    #[error(transparent)]
    Market(#[from] MarketError),
    /// The blob store failed (I/O, not a bad blob: those are [`JobError::Invalid`]).
    #[error(transparent)]
    Store(StoreError),
    /// Homomorphic evaluation failed.
    #[error("job {job}: evaluation failed")]
    Fhe {
        /// The job.
        job: JobId,
        /// The FHE layer's error.
        #[source]
        source: FheError,
    },
    /// A background task died (a panic in evaluation).
    #[error("{what} task failed: {reason}")]
    Task {
        /// The task.
        what: &'static str,
        /// The join error.
        reason: String,
    },
    /// The thread pool could not start.
    #[error("cannot start a thread pool of {threads} threads: {reason}")]
    Pool {
        /// Threads asked for.
        threads: usize,
        /// Why.
        reason: String,
    },
}

/// Result alias of this crate.
pub type Result<T, E = JobError> = std::result::Result<T, E>;

impl JobError {
    /// Whether the job itself is at fault (refuse it) rather than the machine.
    pub fn is_invalid(&self) -> bool {
        matches!(self, JobError::Invalid { .. })
    }

    pub(crate) fn invalid(job: JobId, reason: impl Into<String>) -> Self {
        JobError::Invalid {
            job,
            reason: reason.into(),
        }
    }

    /// A store error while reading `what` of `job`: tampered, missing and
    /// oversized blobs make the job invalid; I/O trouble is just an error.
    pub(crate) fn store(job: JobId, what: &str, e: StoreError) -> Self {
        match e {
            StoreError::HashMismatch { .. }
            | StoreError::NotFound { .. }
            | StoreError::TooLarge { .. } => JobError::invalid(job, format!("{what}: {e}")),
            other => JobError::Store(other),
        }
    }

    pub(crate) fn task(what: &'static str, e: tokio::task::JoinError) -> Self {
        JobError::Task {
            what,
            reason: e.to_string(),
        }
    }
}
