//! [`JobContext`]: everything public a job is defined by, each piece
//! fetched from the blob store by the hash the chain recorded and checked:
//!
//! - the dataset metadata (by the dataset's `metadata_hash`), which must
//!   name the job's server key;
//! - the job spec (by the job's `params_hash`), which must run the job's
//!   pipeline with parameters that fit the dataset's geometry;
//! - the live inputs, rebuilt from the submission events and checked
//!   against the job's input digest.
//!
//! Input ciphertexts and the server key are large, so they are fetched
//! separately: [`JobContext::fetch_input`] and [`JobContext::fetch_server_key`].

use std::sync::Arc;

use crate::blobs::JSON_LIMIT;
use crate::{DatasetMetadata, JobSpec};
use blindfold_chain::Chain;
use blindfold_fhe::{Ops, Scheme, SchemeServerKey, SchemeVideo};
use blindfold_market::{commitment, DatasetInputs, Input, Market};
use blindfold_protocol::types::{Hash, JobId, JobInfo};
use blindfold_store::BlobStore;

use crate::error::{JobError, Result};

/// A job's public context, checked against the chain.
#[derive(Clone, Debug)]
pub struct JobContext {
    /// The job id.
    pub job_id: JobId,
    /// The job as the chain had it when the context was loaded.
    pub job: JobInfo,
    /// What to run.
    pub spec: JobSpec,
    /// The dataset's metadata.
    pub metadata: DatasetMetadata,
    /// The live inputs, in submission order.
    pub inputs: Vec<Input>,
}

impl JobContext {
    /// Loads and checks the context of `job_id` (whose on-chain state is
    /// `job`), taking its inputs from `inputs`, the submissions and
    /// revocations of the job's dataset (from an `EventLog` or an
    /// [`EventIndex`](blindfold_market::EventIndex)), checked here against
    /// the digest the job bound.
    pub async fn load<C: Chain, S: BlobStore>(
        market: &Market<C>,
        store: &S,
        job_id: JobId,
        job: JobInfo,
        inputs: &DatasetInputs,
    ) -> Result<Self> {
        let dataset = market.dataset(job.dataset_id).await?;

        let bytes = store
            .get(&dataset.metadata_hash, JSON_LIMIT)
            .await
            .map_err(|e| JobError::store(job_id, "dataset metadata", e))?;
        let metadata = DatasetMetadata::from_bytes(&bytes)
            .map_err(|e| JobError::invalid(job_id, e.to_string()))?;
        if metadata.server_key_hash() != Some(job.server_key_hash) {
            return Err(JobError::invalid(
                job_id,
                format!(
                    "server key hash differs: the chain has {}, the dataset metadata names {}",
                    hex::encode(job.server_key_hash),
                    metadata.server_key
                ),
            ));
        }

        let bytes = store
            .get(&job.params_hash, JSON_LIMIT)
            .await
            .map_err(|e| JobError::store(job_id, "job spec", e))?;
        let spec =
            JobSpec::from_bytes(&bytes).map_err(|e| JobError::invalid(job_id, e.to_string()))?;
        if spec.param_set != metadata.param_set {
            return Err(JobError::invalid(
                job_id,
                format!(
                    "the job spec runs under {}, the dataset is encrypted under {}",
                    spec.param_set, metadata.param_set
                ),
            ));
        }
        if spec.params.id() != job.pipeline {
            return Err(JobError::invalid(
                job_id,
                format!(
                    "the job spec runs {}, the chain says {}",
                    spec.params.id(),
                    job.pipeline
                ),
            ));
        }
        metadata
            .scheme()
            .validate_params(&spec.params, &metadata.geometry)
            .map_err(|e| {
                JobError::invalid(
                    job_id,
                    format!("job parameters do not fit the dataset: {e}"),
                )
            })?;

        let inputs = inputs
            .for_job(job_id, &job)
            .map_err(|e| JobError::invalid(job_id, e.to_string()))?;
        Ok(JobContext {
            job_id,
            job,
            spec,
            metadata,
            inputs,
        })
    }

    /// The dataset's scheme and parameter set.
    pub fn scheme(&self) -> Scheme {
        self.metadata.scheme()
    }

    /// Programmable bootstraps one input costs (0 under BFV, or if the
    /// plan cannot say): the TFHE progress count. For the cost of a job
    /// under either scheme, see [`Self::ops`].
    pub fn pbs_per_input(&self) -> u64 {
        match self.scheme() {
            Scheme::Tfhe(_) => self
                .spec
                .params
                .pbs_count(&self.metadata.geometry)
                .unwrap_or(0),
            Scheme::Bfv(_) => 0,
        }
    }

    /// Inputs evaluated together into one result item: 1, or under BFV
    /// lv-area a run of videos packed and gathered into one ciphertext
    /// ([`Scheme::unit_size`]).
    pub fn unit_size(&self) -> usize {
        // `load` checked the params against the geometry, so this cannot fail.
        self.scheme()
            .unit_size(&self.spec.params, &self.metadata.geometry)
            .unwrap_or(1)
            .max(1)
    }

    /// The job's units: its live inputs, in order, cut into runs of
    /// [`Self::unit_size`]. The result bundle holds one item per unit, keyed
    /// by the unit's first submission.
    pub fn units(&self) -> Vec<&[Input]> {
        self.inputs.chunks(self.unit_size()).collect()
    }

    /// The expensive operations the whole job costs ([`Ops`]: TFHE
    /// bootstraps, BFV multiplications and rotations), known before any
    /// work: the sum over [`Self::units`] of [`Scheme::unit_ops`], exactly
    /// what [`evaluate_unit`](crate::evaluate_unit) will return for them.
    ///
    /// `classes` are the live inputs' BFV packing classes, one per input in
    /// order ([`SchemeVideo::class`] of each fetched input). Only a packed
    /// BFV unit (lv-area on videos that share a ciphertext) reads them: its
    /// cost depends on how many packs its members fill, which their classes
    /// decide and which a per-input figure could not say. The data owner's
    /// client picks `submission index mod classes`, so a full unit is full
    /// packs; revocations or another client can leave more, smaller packs.
    pub fn ops(&self, classes: &[u8]) -> Result<Ops> {
        if classes.len() != self.inputs.len() {
            return Err(JobError::invalid(
                self.job_id,
                format!(
                    "{} packing classes for {} inputs",
                    classes.len(),
                    self.inputs.len()
                ),
            ));
        }
        let mut total = Ops::default();
        for unit in classes.chunks(self.unit_size()) {
            total += self
                .scheme()
                .unit_ops(&self.spec.params, &self.metadata.geometry, unit)
                .map_err(|e| JobError::invalid(self.job_id, e.to_string()))?;
        }
        Ok(total)
    }

    /// The commitment to the result bundle whose SHA-256 is `result_hash`.
    pub fn commitment(&self, result_hash: &Hash) -> Hash {
        commitment(self.job_id, &self.job, result_hash)
    }

    /// Fetches one input ciphertext (hash-checked by the store) and checks
    /// that it deserialises under the dataset's parameter set with the
    /// dataset's geometry.
    pub async fn fetch_input<S: BlobStore>(&self, store: &S, input: &Input) -> Result<SchemeVideo> {
        let bytes = self.fetch_input_bytes(store, input).await?;
        self.decode_input(input, &bytes)
    }

    /// The hash-checked bytes of one input ciphertext.
    pub async fn fetch_input_bytes<S: BlobStore>(
        &self,
        store: &S,
        input: &Input,
    ) -> Result<Vec<u8>> {
        let what = format!("submission {}", input.index);
        let limit = self
            .scheme()
            .video_limit(&self.metadata.geometry)
            .map_err(|e| JobError::invalid(self.job_id, e.to_string()))?;
        store
            .get(&input.blob_hash, limit)
            .await
            .map_err(|e| JobError::store(self.job_id, &what, e))
    }

    /// Deserialises and checks one input ciphertext (see [`Self::fetch_input`]).
    pub fn decode_input(&self, input: &Input, bytes: &[u8]) -> Result<SchemeVideo> {
        SchemeVideo::from_bytes(bytes, self.scheme(), &self.metadata.geometry)
            .map_err(|e| JobError::invalid(self.job_id, format!("submission {}: {e}", input.index)))
    }

    /// Fetches the job's server key by the hash on chain and loads it
    /// (a TFHE key is decompressed: seconds, on Tokio's blocking pool).
    pub async fn fetch_server_key<S: BlobStore>(&self, store: &S) -> Result<Arc<SchemeServerKey>> {
        let job_id = self.job_id;
        let scheme = self.scheme();
        let bytes = store
            .get(&self.job.server_key_hash, scheme.server_key_limit())
            .await
            .map_err(|e| JobError::store(job_id, "server key", e))?;
        let key = tokio::task::spawn_blocking(move || SchemeServerKey::from_blob(&bytes, scheme))
            .await
            .map_err(|e| JobError::task("server key loading", e))?
            .map_err(|e| JobError::invalid(job_id, format!("server key: {e}")))?;
        Ok(Arc::new(key))
    }
}
