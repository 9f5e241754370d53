//! Everything a job reads, fetched and checked against the chain before the
//! worker offers for it. The checks are the job layer's
//! ([`JobContext::load`], [`JobContext::fetch_input`]), the same ones the
//! data owner and `verify` run; a job is refused (no offer, no commitment)
//! when:
//!
//! - a blob's bytes do not hash to the hash the chain recorded (the store
//!   checks every read);
//! - the server key in the store is not the one the chain names, or the
//!   dataset metadata names another key;
//! - a ciphertext or key fails tfhe's safe deserialisation, or its geometry
//!   or parameter set is not the dataset's;
//! - the job spec does not parse, names another pipeline or backend, or its
//!   parameters do not fit the dataset;
//! - the submission events do not add up to the job's input digest;
//! - this worker does not serve the job's pipeline.
//!
//! The checked bytes stay in memory (up to [`PREFETCH_BUDGET`]) for the
//! computation, which takes them instead of fetching each input again.

use std::sync::Arc;

use blindfold_fhe::{SchemeServerKey, SchemeVideo};
use blindfold_job::{JobContext, JobError};
use blindfold_market::{EventIndex, Input};
use blindfold_protocol::types::{JobId, JobInfo};
use blindfold_store::BlobStore;

use crate::{Worker, WorkerError};
use blindfold_chain::Chain;

/// A job whose inputs all checked out.
#[derive(Clone)]
pub struct Prepared {
    /// The job's public context.
    pub ctx: JobContext,
    /// The dataset's server key, loaded (TFHE: decompressed).
    pub server_key: Arc<SchemeServerKey>,
    /// Each live input's BFV packing class, read from its checked blob, in
    /// the order of `ctx.inputs` (0 under TFHE): what the static operation
    /// count of a packed unit needs ([`JobContext::ops`]).
    pub classes: Vec<u8>,
    /// Input bytes already fetched and checked by [`Worker::prepare`], kept
    /// (up to [`PREFETCH_BUDGET`] bytes) so that computing does not fetch
    /// them from the store a second time. Taken as they are used.
    fetched: Arc<std::sync::Mutex<std::collections::HashMap<u64, Vec<u8>>>>,
}

/// Most input bytes [`Worker::prepare`] keeps in memory for the computation;
/// inputs beyond it are fetched again when their turn comes.
pub const PREFETCH_BUDGET: usize = 1 << 30;

impl Prepared {
    /// The checked bytes of input `index`, if `prepare` kept them.
    pub fn take_fetched(&self, index: u64) -> Option<Vec<u8>> {
        self.fetched
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&index)
    }
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("job_id", &self.ctx.job_id)
            .field("pipeline", &self.ctx.spec.params.id())
            .field("inputs", &self.ctx.inputs.len())
            .finish()
    }
}

impl From<JobError> for WorkerError {
    fn from(e: JobError) -> Self {
        match e {
            JobError::Invalid { job, reason } => WorkerError::Refused { job, reason },
            JobError::Market(e) => WorkerError::Market(e),
            JobError::Store(e) => WorkerError::Store(e),
            JobError::Fhe { job, source } => WorkerError::Fhe { job, source },
            other => WorkerError::Config(other.to_string()),
        }
    }
}

impl<C: Chain + 'static, S: BlobStore + 'static> Worker<C, S> {
    /// Fetches and checks every input of `job_id` (see the module docs).
    pub async fn prepare(
        &self,
        job_id: JobId,
        job: &JobInfo,
        index: &EventIndex,
    ) -> Result<Prepared, WorkerError> {
        let inputs = index.dataset_inputs(job.dataset_id);
        let ctx =
            JobContext::load(&self.market, &*self.store, job_id, job.clone(), &inputs).await?;
        if !self.config.pipelines.contains(job.pipeline) {
            return Err(WorkerError::Refused {
                job: job_id,
                reason: format!("this worker does not serve {}", job.pipeline),
            });
        }
        let mut fetched = std::collections::HashMap::new();
        let mut kept = 0usize;
        let mut classes = Vec::with_capacity(ctx.inputs.len());
        for input in &ctx.inputs {
            let bytes = ctx.fetch_input_bytes(&*self.store, input).await?;
            classes.push(ctx.decode_input(input, &bytes)?.class());
            if kept.saturating_add(bytes.len()) <= PREFETCH_BUDGET {
                kept += bytes.len();
                fetched.insert(input.index, bytes);
            }
        }
        let server_key = self.server_key(&ctx).await?;
        Ok(Prepared {
            ctx,
            server_key,
            classes,
            fetched: Arc::new(std::sync::Mutex::new(fetched)),
        })
    }

    /// One encrypted video, checked against the dataset: from the bytes
    /// `prepare` kept, else fetched from the store.
    pub async fn load_video(
        &self,
        p: &Prepared,
        input: &Input,
    ) -> Result<SchemeVideo, WorkerError> {
        match p.take_fetched(input.index) {
            Some(bytes) => Ok(p.ctx.decode_input(input, &bytes)?),
            None => Ok(p.ctx.fetch_input(&*self.store, input).await?),
        }
    }

    /// The job's server key: fetched by the hash on chain, decompressed
    /// once and cached.
    async fn server_key(&self, ctx: &JobContext) -> Result<Arc<SchemeServerKey>, WorkerError> {
        let hash = ctx.job.server_key_hash;
        let cached = self
            .keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&hash)
            .cloned();
        if let Some(key) = cached {
            return Ok(key);
        }
        tracing::info!(job = ctx.job_id, scheme = %ctx.scheme(), "loading the dataset's server key");
        let key = ctx.fetch_server_key(&*self.store).await?;
        self.keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(hash, key.clone());
        Ok(key)
    }
}
