//! Anyone: re-run a job from public data and compare commitments.
//!
//! [`verify_job`] needs no key and trusts nobody:
//!
//! 1. reads the job from the chain, and its spec, the dataset metadata (for
//!    the parameter set) and the compressed server key from the blob store,
//!    each checked against the hash the chain recorded;
//! 2. rebuilds the job's inputs from the submission events and checks them
//!    against the job's input digest;
//! 3. evaluates the pipeline on every input ciphertext in a rayon pool
//!    (TFHE evaluation is deterministic bit for bit, whatever the thread count);
//! 4. bundles the results ([`ResultBundle`]), hashes the bundle, computes the
//!    commitment and compares it with the agreed commitment on chain.

use std::sync::Arc;
use std::time::Instant;

use blindfold_chain::Chain;
use blindfold_fhe::params::{COMPRESSED_SERVER_KEY_LIMIT, VIDEO_LIMIT};
use blindfold_fhe::{evaluate, CompressedServerKey, EncryptedVideo, Progress};
use blindfold_market::{commitment, ResultBundle};
use blindfold_protocol::types::{Hash, JobId};
use blindfold_store::BlobStore;
use indicatif::ProgressBar;
use rayon::prelude::*;
use serde::Serialize;

use crate::error::{join_error, ClientError, Result};
use crate::{status_name, Client};

/// The outcome of a re-run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VerifyReport {
    /// The job.
    pub job_id: JobId,
    /// Whether our commitment equals the agreed one on chain.
    pub matches: bool,
    /// Our commitment.
    #[serde(with = "crate::units::hex32")]
    pub ours: Hash,
    /// The agreed commitment on chain.
    #[serde(with = "crate::units::hex32")]
    pub on_chain: Hash,
    /// SHA-256 of our result bundle.
    #[serde(with = "crate::units::hex32")]
    pub result_hash: Hash,
    /// The agreed result bundle hash on chain.
    #[serde(with = "crate::units::hex32::option")]
    pub result_hash_on_chain: Option<Hash>,
    /// Inputs re-evaluated.
    pub inputs: usize,
    /// Programmable bootstraps run.
    pub pbs: u64,
    /// Threads of the evaluation pool.
    pub threads: usize,
    /// Seconds the re-run took (server key expansion and evaluation).
    pub seconds: f64,
}

/// Re-runs job `job_id` from public data with `threads` rayon threads
/// (`None`: one per core). `progress` counts inputs.
pub async fn verify_job<C: Chain, S: BlobStore>(
    client: &Client<C, S>,
    job_id: JobId,
    threads: Option<usize>,
    progress: &ProgressBar,
) -> Result<VerifyReport> {
    let job = client.job(job_id).await?;
    let on_chain = job.commitment.ok_or_else(|| {
        ClientError::State(format!(
            "job {job_id} is {}: workers have not agreed on a commitment yet, so there is nothing to verify",
            status_name(job.status)
        ))
    })?;
    let spec = client.job_spec(job_id, &job).await?;
    let (_, metadata) = client.dataset(job.dataset_id).await?;
    let param_set = metadata.param_set();
    let key_bytes = client
        .get(
            &job.server_key_hash,
            COMPRESSED_SERVER_KEY_LIMIT,
            &format!("server key of job {job_id}"),
        )
        .await?;
    let inputs = client
        .market()
        .history()
        .await?
        .dataset_inputs(job.dataset_id)
        .for_job(job_id, &job)?;
    let mut videos = Vec::with_capacity(inputs.len());
    for input in &inputs {
        let what = format!("submission {} of dataset {}", input.index, job.dataset_id);
        let bytes = client.get(&input.blob_hash, VIDEO_LIMIT, &what).await?;
        videos.push((input.index, bytes));
    }

    let pool = {
        let mut builder = rayon::ThreadPoolBuilder::new();
        if let Some(n) = threads {
            builder = builder.num_threads(n.max(1));
        }
        builder
            .build()
            .map_err(|e| ClientError::State(format!("cannot start the thread pool: {e}")))?
    };
    let threads = pool.current_num_threads();
    progress.set_length(videos.len() as u64);
    let bar = progress.clone();
    let params = Arc::new(spec.params);
    let (bundle, pbs, seconds) = tokio::task::spawn_blocking(move || -> Result<_> {
        let start = Instant::now();
        let items = pool.install(|| -> Result<Vec<(u64, Vec<u8>, u64)>> {
            let key = CompressedServerKey::from_bytes(&key_bytes, param_set)?.decompress();
            videos
                .par_iter()
                .map(|(index, bytes)| {
                    let video = EncryptedVideo::from_bytes(bytes, param_set)?;
                    // One counter per evaluation: `evaluate` restarts it at 0.
                    let progress = Progress::new();
                    let result = evaluate(&key, &params, &video, &progress)?;
                    bar.inc(1);
                    Ok((*index, result.to_bytes()?, progress.pbs_done()))
                })
                .collect()
        })?;
        let pbs = items.iter().map(|(_, _, pbs)| pbs).sum::<u64>();
        let items = items.into_iter().map(|(i, bytes, _)| (i, bytes)).collect();
        Ok((ResultBundle { items }, pbs, start.elapsed().as_secs_f64()))
    })
    .await
    .map_err(|e| join_error("the re-run", e))??;
    progress.finish_and_clear();

    let result_hash = blindfold_store::sha256(&bundle.to_bytes());
    let ours = commitment(job_id, &job, &result_hash);
    Ok(VerifyReport {
        job_id,
        matches: ours == on_chain,
        ours,
        on_chain,
        result_hash,
        result_hash_on_chain: job.result_blob_hash,
        inputs: bundle.items.len(),
        pbs,
        threads,
        seconds,
    })
}
