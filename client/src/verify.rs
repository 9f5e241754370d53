//! Anyone: re-run a job from public data and compare commitments.
//!
//! [`verify_job`] needs no key and trusts nobody:
//!
//! 1. reads the job from the chain, and its spec, the dataset metadata (for
//!    the parameter set) and the compressed server key from the blob store,
//!    each checked against the hash the chain recorded;
//! 2. rebuilds the job's inputs from the submission events and checks them
//!    against the job's input digest;
//! 3. evaluates the pipeline on every unit of input ciphertexts (one
//!    input, or a run of BFV inputs packed together) in a rayon pool
//!    (evaluation is deterministic bit for bit, whatever the thread count);
//! 4. bundles the results, hashes the bundle, computes the commitment and
//!    compares it with the agreed commitment on chain.
//!
//! Steps 1-4 are the job layer's ([`blindfold_job`]): the worker and the data
//! owner's verify-before-decrypt run the same code.

use blindfold_chain::Chain;
use blindfold_protocol::types::{Hash, JobId};
use blindfold_store::BlobStore;
use indicatif::ProgressBar;
use serde::Serialize;

use crate::error::{ClientError, Result};
use crate::units::hex32;
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
    /// Units they were evaluated in (result items).
    pub units: usize,
    /// Programmable bootstraps run (TFHE).
    pub pbs: u64,
    /// Ciphertext multiplications run (BFV).
    pub multiplications: u64,
    /// Rotations run (BFV).
    pub rotations: u64,
    /// Threads of the evaluation pool.
    pub threads: usize,
    /// Seconds the re-run took (server key expansion and evaluation).
    pub seconds: f64,
}

impl VerifyReport {
    /// Both commitments and what the re-run cost, for people.
    pub fn summary(&self) -> String {
        format!(
            "job {}: {}\n  our commitment    {}\n  chain commitment  {}\n  \
             re-ran {} inputs in {} units ({}) on {} threads in {:.2} s",
            self.job_id,
            if self.matches {
                "MATCHES the chain"
            } else {
                "DOES NOT MATCH the chain"
            },
            hex32(&self.ours),
            hex32(&self.on_chain),
            self.inputs,
            self.units,
            if self.pbs > 0 || self.multiplications + self.rotations == 0 {
                format!("{} PBS", self.pbs)
            } else {
                format!(
                    "{} multiplications, {} rotations",
                    self.multiplications, self.rotations
                )
            },
            self.threads,
            self.seconds
        )
    }
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
    let result_hash_on_chain = job.result_blob_hash;
    let ctx = client.job_context(job_id, job).await?;
    let started = std::time::Instant::now();
    let key = ctx.fetch_server_key(client.store()).await?;
    progress.set_length(ctx.inputs.len() as u64);
    let bar = progress.clone();
    let ours = ctx
        .recompute(client.store(), key, &ctx.units(), threads, move || {
            bar.inc(1)
        })
        .await?;
    progress.finish_and_clear();
    Ok(VerifyReport {
        job_id,
        matches: ours.commitment == on_chain,
        ours: ours.commitment,
        on_chain,
        result_hash: ours.result_hash,
        result_hash_on_chain,
        inputs: ctx.inputs.len(),
        units: ours.bundle.items.len(),
        pbs: ours.pbs,
        multiplications: ours.ops.multiplications,
        rotations: ours.ops.rotations,
        threads: ours.threads,
        seconds: started.elapsed().as_secs_f64(),
    })
}
