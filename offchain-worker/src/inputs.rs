//! Everything a job reads, fetched and checked against the chain before the
//! worker claims it. A job is refused (no claim, no commitment) when:
//!
//! - a blob's bytes do not hash to the hash the chain recorded (the store
//!   checks every read);
//! - the server key in the store is not the one the chain names, or the
//!   dataset metadata names another key;
//! - a ciphertext or key fails tfhe's safe deserialisation, or its geometry
//!   or parameter set is not the dataset's;
//! - the job spec does not parse, names another pipeline or backend, or its
//!   parameters do not fit the dataset;
//! - the submission events do not add up to the job's input digest.

use std::sync::Arc;

use blindfold_fhe::params::{COMPRESSED_SERVER_KEY_LIMIT, VIDEO_LIMIT};
use blindfold_fhe::{CompressedServerKey, EncryptedVideo, ServerKey};
use blindfold_market::blobs::JSON_LIMIT;
use blindfold_market::{DatasetMetadata, EventLog, Input, JobSpec};
use blindfold_protocol::types::{JobId, JobInfo};
use blindfold_store::{BlobStore, StoreError};

use crate::{Worker, WorkerError};
use blindfold_chain::Chain;

/// A job whose inputs all checked out.
#[derive(Clone)]
pub struct Prepared {
    /// The job id.
    pub job_id: JobId,
    /// The job as the chain had it.
    pub job: JobInfo,
    /// What to run.
    pub spec: JobSpec,
    /// The dataset's metadata.
    pub metadata: DatasetMetadata,
    /// The dataset's server key, decompressed.
    pub server_key: Arc<ServerKey>,
    /// The live inputs, in submission order.
    pub inputs: Vec<Input>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("job_id", &self.job_id)
            .field("pipeline", &self.spec.params.id())
            .field("inputs", &self.inputs.len())
            .finish()
    }
}

fn refused(job: JobId, reason: impl Into<String>) -> WorkerError {
    WorkerError::Refused {
        job,
        reason: reason.into(),
    }
}

/// A store error while reading a job's inputs: tampering and malformed
/// blobs refuse the job; I/O trouble is just an error.
fn store_refusal(job: JobId, what: &str, e: StoreError) -> WorkerError {
    match e {
        StoreError::HashMismatch { .. }
        | StoreError::NotFound { .. }
        | StoreError::TooLarge { .. } => refused(job, format!("{what}: {e}")),
        other => WorkerError::Store(other),
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
        let store = &self.store;
        let dataset = self.market.dataset(job.dataset_id).await?;

        let metadata = store
            .get(&dataset.metadata_hash, JSON_LIMIT)
            .await
            .map_err(|e| store_refusal(job_id, "dataset metadata", e))?;
        let metadata =
            DatasetMetadata::from_bytes(&metadata).map_err(|e| refused(job_id, e.to_string()))?;
        if metadata.server_key_hash() != Some(job.server_key_hash) {
            return Err(refused(
                job_id,
                format!(
                    "server key hash differs: the chain has {}, the dataset metadata names {}",
                    hex::encode(job.server_key_hash),
                    metadata.server_key
                ),
            ));
        }
        let param_set = metadata.param_set();

        let spec = store
            .get(&job.params_hash, JSON_LIMIT)
            .await
            .map_err(|e| store_refusal(job_id, "job spec", e))?;
        let spec = JobSpec::from_bytes(&spec).map_err(|e| refused(job_id, e.to_string()))?;
        if spec.params.id().as_str() != job.pipeline.as_str() {
            return Err(refused(
                job_id,
                format!(
                    "the job spec runs {}, the chain says {}",
                    spec.params.id(),
                    job.pipeline
                ),
            ));
        }
        if !self.config.pipelines.contains(job.pipeline) {
            return Err(refused(
                job_id,
                format!("this worker does not serve {}", job.pipeline),
            ));
        }
        spec.params
            .validate(param_set, &metadata.geometry)
            .map_err(|e| {
                refused(
                    job_id,
                    format!("job parameters do not fit the dataset: {e}"),
                )
            })?;

        let inputs = log
            .dataset_inputs(job.dataset_id)
            .for_job(job_id, job)
            .map_err(|e| refused(job_id, e.to_string()))?;
        for input in &inputs {
            self.load_video(job_id, input, &metadata).await?;
        }

        let server_key = self.server_key(job_id, job, param_set).await?;
        Ok(Prepared {
            job_id,
            job: job.clone(),
            spec,
            metadata,
            server_key,
            inputs,
        })
    }

    /// Fetches one encrypted video and checks it against the dataset.
    pub async fn load_video(
        &self,
        job_id: JobId,
        input: &Input,
        metadata: &DatasetMetadata,
    ) -> Result<EncryptedVideo, WorkerError> {
        let what = format!("submission {}", input.index);
        let bytes = self
            .store
            .get(&input.blob_hash, VIDEO_LIMIT)
            .await
            .map_err(|e| store_refusal(job_id, &what, e))?;
        let video = EncryptedVideo::from_bytes(&bytes, metadata.param_set())
            .map_err(|e| refused(job_id, format!("{what}: {e}")))?;
        if video.geometry() != metadata.geometry {
            return Err(refused(
                job_id,
                format!(
                    "{what}: geometry {:?} is not the dataset's {:?}",
                    video.geometry(),
                    metadata.geometry
                ),
            ));
        }
        Ok(video)
    }

    /// The job's server key: fetched by the hash on chain, decompressed
    /// once and cached.
    async fn server_key(
        &self,
        job_id: JobId,
        job: &JobInfo,
        param_set: blindfold_fhe::ParamSet,
    ) -> Result<Arc<ServerKey>, WorkerError> {
        let cached = self
            .keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&job.server_key_hash)
            .cloned();
        if let Some(key) = cached {
            return Ok(key);
        }
        let bytes = self
            .store
            .get(&job.server_key_hash, COMPRESSED_SERVER_KEY_LIMIT)
            .await
            .map_err(|e| store_refusal(job_id, "server key", e))?;
        tracing::info!(job = job_id, "decompressing the dataset's server key");
        let key = tokio::task::spawn_blocking(move || {
            CompressedServerKey::from_bytes(&bytes, param_set).map(|k| k.decompress())
        })
        .await
        .map_err(|e| refused(job_id, format!("server key task failed: {e}")))?
        .map_err(|e| refused(job_id, format!("server key: {e}")))?;
        let key = Arc::new(key);
        self.keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(job.server_key_hash, key.clone());
        Ok(key)
    }
}
