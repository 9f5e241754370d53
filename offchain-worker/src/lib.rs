//! The Blindfold off-chain worker.
//!
//! A worker follows the marketplace's events, claims jobs it can serve, runs
//! the homomorphic pipeline on the job's ciphertexts, stores the encrypted
//! result, and posts a sealed commitment, then reveals it. It is paid when
//! its result agrees with the other replicas'.
//!
//! Parts, top-down:
//!
//! - this file: [`Worker`] (everything a job needs: market, store, account,
//!   state, thread pool), [`WorkerConfig`] and [`WorkerError`];
//! - [`service`]: [`service::run`], the event loop: one task per job, a
//!   concurrency limit, graceful shutdown;
//! - [`job`]: one job from claim to reveal, resumable at every step;
//! - [`inputs`]: fetching and checking everything a job reads (the refusal
//!   rules live here);
//! - [`state`]: the crash-safe state file;
//! - [`retry`]: retries with backoff for RPC trouble.
//!
//! The binary (`offchain-worker run ...`) is a thin shell over [`service::run`].

pub mod inputs;
pub mod job;
pub mod retry;
pub mod service;
pub mod state;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use blindfold_chain::{Chain, Signer};
use blindfold_fhe::SchemeServerKey;
use blindfold_market::{Market, MarketError};
use blindfold_protocol::types::{Hash, JobId, PipelineSet};
use blindfold_store::{BlobStore, DirStore, StoreError};

use crate::state::StateFile;

/// Settings of one worker.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// The state file (one per worker account).
    pub state_path: PathBuf,
    /// Threads of the FHE pool.
    pub threads: usize,
    /// Jobs computed at once.
    pub max_jobs: usize,
    /// How often to poll the chain.
    pub poll: Duration,
    /// Stake to hold (topped up at start when the free stake is below one
    /// claim stake).
    pub stake: u128,
    /// Pipelines this worker serves.
    pub pipelines: PipelineSet,
    /// A job is claimed only if (seconds for its first input, measured
    /// here) × inputs × this fits before its deadline.
    pub safety_margin: f64,
}

impl WorkerConfig {
    /// Defaults: 2 threads, 1 job at a time, 500 ms polls, 100 units of
    /// stake, every pipeline, a safety margin of 1.5.
    pub fn new(state_path: impl Into<PathBuf>) -> Self {
        WorkerConfig {
            state_path: state_path.into(),
            threads: 2,
            max_jobs: 1,
            poll: Duration::from_millis(500),
            stake: 100 * blindfold_market::UNIT,
            pipelines: PipelineSet::ALL,
            safety_margin: 1.5,
        }
    }
}

/// Why a worker or one of its jobs stopped.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The marketplace refused, or the chain failed.
    #[error(transparent)]
    Market(#[from] MarketError),
    /// The blob store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The job's inputs are not acceptable: refused without committing.
    #[error("job {job}: refused: {reason}")]
    Refused {
        /// The job.
        job: JobId,
        /// Why.
        reason: String,
    },
    /// The FHE evaluation failed.
    #[error("job {job}: evaluation failed")]
    Fhe {
        /// The job.
        job: JobId,
        /// The error.
        #[source]
        source: blindfold_fhe::FheError,
    },
    /// Reading or writing the state file failed.
    #[error("cannot read or write the worker state {path}")]
    State {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The state file cannot be used.
    #[error("worker state {path} is corrupt or not ours: {reason}")]
    CorruptState {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A bad setting.
    #[error("{0}")]
    Config(String),
    /// Shutdown was requested while the job was in progress (state is saved).
    #[error("shutting down")]
    Shutdown,
}

/// Everything the worker's tasks share.
pub struct Worker<C, S> {
    /// The marketplace.
    pub market: Arc<Market<C>>,
    /// The blob store.
    pub store: Arc<S>,
    /// The worker's account.
    pub signer: Signer,
    /// Settings.
    pub config: WorkerConfig,
    /// Persisted progress.
    pub state: StateFile,
    /// Results not yet published: kept beside the state file until the job's
    /// commit phase closes, so that no co-worker can copy them from the
    /// shared store and commit them as its own.
    results: DirStore,
    pool: rayon::ThreadPool,
    keys: Mutex<HashMap<Hash, Arc<SchemeServerKey>>>,
    shutdown: tokio::sync::watch::Receiver<bool>,
    shutdown_tx: tokio::sync::watch::Sender<bool>,
}

impl<C, S> std::fmt::Debug for Worker<C, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("account", &self.signer)
            .field("config", &self.config)
            .finish()
    }
}

impl<C: Chain + 'static, S: BlobStore + 'static> Worker<C, S> {
    /// A worker for `signer` on `market`, keeping its state in
    /// `config.state_path`.
    pub fn new(
        market: Arc<Market<C>>,
        store: Arc<S>,
        signer: Signer,
        config: WorkerConfig,
    ) -> Result<Arc<Self>, WorkerError> {
        if config.threads == 0 || config.max_jobs == 0 {
            return Err(WorkerError::Config(
                "--threads and --max-jobs must be at least 1".into(),
            ));
        }
        if !(config.safety_margin.is_finite() && config.safety_margin >= 1.0) {
            return Err(WorkerError::Config(format!(
                "--safety-margin must be a number of at least 1, not {}",
                config.safety_margin
            )));
        }
        let state = StateFile::open(&config.state_path, &hex::encode(signer.account()))?;
        let results = DirStore::open(config.state_path.with_extension("results"))?;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(config.threads)
            .thread_name(|i| format!("fhe-{i}"))
            .build()
            .map_err(|e| {
                WorkerError::Config(format!("cannot start {} FHE threads: {e}", config.threads))
            })?;
        let (shutdown_tx, shutdown) = tokio::sync::watch::channel(false);
        Ok(Arc::new(Worker {
            market,
            store,
            signer,
            config,
            state,
            results,
            pool,
            keys: Mutex::new(HashMap::new()),
            shutdown,
            shutdown_tx,
        }))
    }

    /// Asks every task to stop at its next step boundary.
    pub fn request_shutdown(&self) {
        let _ = self.shutdown_tx.send(true);
    }

    /// Whether shutdown was requested.
    pub fn shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Sleeps `d`, or less when shutdown is requested (then errors).
    pub(crate) async fn pause(&self, d: Duration) -> Result<(), WorkerError> {
        let mut rx = self.shutdown.clone();
        if *rx.borrow() {
            return Err(WorkerError::Shutdown);
        }
        tokio::select! {
            _ = tokio::time::sleep(d) => Ok(()),
            _ = rx.changed() => Err(WorkerError::Shutdown),
        }
    }
}
