//! Everything a job reads, fetched and checked against the chain before the
//! worker claims it. The checks are the job layer's
//! ([`JobContext::load`], [`JobContext::fetch_input`]), the same ones the
//! data owner and `verify` run; a job is refused (no claim, no commitment)
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

use std::sync::Arc;

use blindfold_fhe::{SchemeServerKey, SchemeVideo};
use blindfold_job::{JobContext, JobError};
use blindfold_market::{EventLog, Input};
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
        log: &EventLog,
    ) -> Result<Prepared, WorkerError> {
        let inputs = log.dataset_inputs(job.dataset_id);
        let ctx =
            JobContext::load(&self.market, &*self.store, job_id, job.clone(), &inputs).await?;
        if !self.config.pipelines.contains(job.pipeline) {
            return Err(WorkerError::Refused {
                job: job_id,
                reason: format!("this worker does not serve {}", job.pipeline),
            });
        }
        for input in &ctx.inputs {
            ctx.fetch_input(&*self.store, input).await?;
        }
        let server_key = self.server_key(&ctx).await?;
        Ok(Prepared { ctx, server_key })
    }

    /// Fetches one encrypted video and checks it against the dataset.
    pub async fn load_video(
        &self,
        ctx: &JobContext,
        input: &Input,
    ) -> Result<SchemeVideo, WorkerError> {
        Ok(ctx.fetch_input(&*self.store, input).await?)
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
