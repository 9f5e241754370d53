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
//!
//! A sharded job is verified shard by shard: steps 1-4 for each of its
//! shards (each a job of its own over a range of the submissions), then the
//! shards' commitments, in shard order, are folded
//! ([`hash::shards_digest`]) and compared with the sharded job's agreed
//! commitment ([`fold_shards`]).

use std::sync::Arc;
use std::time::Instant;

use blindfold_chain::Chain;
use blindfold_fhe::SchemeServerKey;
use blindfold_job::JobContext;
use blindfold_protocol::hash;
use blindfold_protocol::types::{Hash, JobId, JobInfo};
use blindfold_store::BlobStore;
use indicatif::ProgressBar;
use serde::Serialize;

use crate::error::{ClientError, Result};
use crate::researcher::{shard_ids, shards_of};
use crate::units::{hex32, short_hex};
use crate::{status_name, Client};

/// The outcome of a re-run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VerifyReport {
    /// The job.
    pub job_id: JobId,
    /// Whether our commitment equals the agreed one on chain (on a sharded
    /// job: every shard's does, and so does the fold).
    pub matches: bool,
    /// Our commitment (on a sharded job, the fold of our shards' commitments).
    #[serde(with = "crate::units::hex32")]
    pub ours: Hash,
    /// The agreed commitment on chain.
    #[serde(with = "crate::units::hex32")]
    pub on_chain: Hash,
    /// SHA-256 of our result bundle. All zeros on a sharded job, which has
    /// no bundle of its own (each shard's is in [`Self::shards`]).
    #[serde(with = "crate::units::hex32")]
    pub result_hash: Hash,
    /// The agreed result bundle hash on chain (none on a sharded job).
    #[serde(with = "crate::units::hex32::option")]
    pub result_hash_on_chain: Option<Hash>,
    /// Inputs re-evaluated (on a sharded job, over all its shards).
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
    /// On a sharded job: each shard's re-run, in shard order (empty otherwise).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<ShardVerify>,
}

/// The re-run of one shard of a sharded job.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ShardVerify {
    /// The shard's place in its sharded job, `0..shards`.
    pub index: u32,
    /// The first submission index it covers.
    pub first: u64,
    /// One past the last submission index it covers.
    pub end: u64,
    /// The shard's own re-run (its `job_id` is the shard's job id).
    #[serde(flatten)]
    pub report: VerifyReport,
}

impl VerifyReport {
    /// What differs from the chain, in one line; `None` when it matches.
    pub fn mismatch(&self) -> Option<String> {
        if self.matches {
            return None;
        }
        let job = self.job_id;
        if self.shards.is_empty() {
            return Some(format!(
                "job {job}: the re-run's commitment differs from the one on chain"
            ));
        }
        let differ = self.shards.iter().filter(|s| !s.report.matches).count();
        Some(if differ == 0 {
            format!(
                "job {job}: every shard's re-run matches the chain, but their fold differs from the job's commitment on chain"
            )
        } else {
            format!(
                "job {job}: the re-run commitments of {differ} of its {} shards differ from the ones on chain",
                self.shards.len()
            )
        })
    }

    /// Both commitments and what the re-run cost, for people; on a sharded
    /// job, one line per shard too.
    pub fn summary(&self) -> String {
        let verdict = |matches: bool| {
            if matches {
                "MATCHES the chain"
            } else {
                "DOES NOT MATCH the chain"
            }
        };
        let mut s = format!("job {}: {}", self.job_id, verdict(self.matches));
        if !self.shards.is_empty() {
            let agreeing = self.shards.iter().filter(|s| s.report.matches).count();
            s.push_str(&format!(
                " ({agreeing} of {} shards match; commitments folded in shard order)",
                self.shards.len()
            ));
        }
        s.push_str(&format!(
            "\n  our commitment    {}\n  chain commitment  {}",
            hex32(&self.ours),
            hex32(&self.on_chain)
        ));
        for shard in &self.shards {
            let r = &shard.report;
            s.push_str(&format!(
                "\n  shard {} (job {}, submissions {}..{}): {}",
                shard.index,
                r.job_id,
                shard.first,
                shard.end,
                verdict(r.matches)
            ));
            if r.matches {
                s.push_str(&format!(", {}", short_hex(&r.ours)));
            } else {
                s.push_str(&format!(
                    ", ours {} chain {}",
                    short_hex(&r.ours),
                    short_hex(&r.on_chain)
                ));
            }
        }
        s.push_str(&format!(
            "\n  re-ran {} inputs in {} units ({}) on {} threads in {:.2} s",
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
        ));
        s
    }
}

/// Re-runs job `job_id` from public data with `threads` rayon threads
/// (`None`: one per core). `progress` counts inputs (on a sharded job, the
/// inputs of all its shards). A sharded job re-runs each shard and checks
/// the fold of their commitments against its own ([`fold_shards`]).
pub async fn verify_job<C: Chain, S: BlobStore>(
    client: &Client<C, S>,
    job_id: JobId,
    threads: Option<usize>,
    progress: &ProgressBar,
) -> Result<VerifyReport> {
    let job = client.job(job_id).await?;
    if job.is_sharded() {
        return verify_sharded(client, job_id, job, threads, progress).await;
    }
    let on_chain = job.commitment.ok_or_else(|| {
        ClientError::State(format!(
            "job {job_id} is {}: workers have not agreed on a commitment yet, so there is nothing to verify",
            status_name(job.status)
        ))
    })?;
    let ctx = client.job_context(job_id, job).await?;
    let started = Instant::now();
    let key = ctx.fetch_server_key(client.store()).await?;
    progress.set_length(ctx.inputs.len() as u64);
    let mut report = rerun(client.store(), &ctx, on_chain, key, threads, progress).await?;
    progress.finish_and_clear();
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// [`verify_job`] of sharded job `job_id` (on-chain state `job`): every
/// shard re-run with one server key, then the fold.
async fn verify_sharded<C: Chain, S: BlobStore>(
    client: &Client<C, S>,
    job_id: JobId,
    job: JobInfo,
    threads: Option<usize>,
    progress: &ProgressBar,
) -> Result<VerifyReport> {
    let Some(on_chain) = job.commitment else {
        return Err(ClientError::State(not_agreed(job_id, &job)));
    };
    let shards = shards_of(client, job_id, &job).await?;
    // The shards share the sharded job's dataset inputs (read once) and
    // server key; each context is checked against the shard's own input
    // digest, which binds its range.
    let inputs = client
        .dataset_inputs(job.dataset_id, Some((job_id, &job)))
        .await?;
    let mut contexts = Vec::with_capacity(shards.len());
    for (id, shard) in shards {
        let place = shard.shard.ok_or_else(|| {
            ClientError::Integrity(format!("job {id} is not a shard of job {job_id}"))
        })?;
        let agreed = shard.commitment.ok_or_else(|| {
            ClientError::State(format!(
                "job {job_id} is {} but its shard {} (job {id}) is {} and has no agreed commitment",
                status_name(job.status),
                place.index,
                status_name(shard.status)
            ))
        })?;
        let ctx = JobContext::load(client.market(), client.store(), id, shard, &inputs).await?;
        contexts.push((place, agreed, ctx));
    }
    let started = Instant::now();
    let total: usize = contexts.iter().map(|(_, _, ctx)| ctx.inputs.len()).sum();
    progress.set_length(total as u64);
    let mut key: Option<(Hash, Arc<SchemeServerKey>)> = None;
    let mut reports = Vec::with_capacity(contexts.len());
    for (place, agreed, ctx) in &contexts {
        let shard_key = match &key {
            Some((hash, k)) if *hash == ctx.job.server_key_hash => Arc::clone(k),
            _ => {
                let k = ctx.fetch_server_key(client.store()).await?;
                key = Some((ctx.job.server_key_hash, Arc::clone(&k)));
                k
            }
        };
        let report = rerun(client.store(), ctx, *agreed, shard_key, threads, progress).await?;
        reports.push(ShardVerify {
            index: place.index,
            first: place.first,
            end: place.end,
            report,
        });
    }
    progress.finish_and_clear();
    Ok(fold_shards(
        job_id,
        on_chain,
        reports,
        started.elapsed().as_secs_f64(),
    ))
}

/// Why sharded job `job_id` (state `job`, without an agreed commitment)
/// cannot be verified: its status, how many of its shards agreed, and which
/// jobs its shards are (each agreed one verifies on its own).
pub fn not_agreed(job_id: JobId, job: &JobInfo) -> String {
    let mut s = format!(
        "job {job_id} is {}: {} of its {} shards have agreed, so there is no job commitment and nothing to verify",
        status_name(job.status),
        job.shards_computed,
        job.shards
    );
    if let Ok(ids) = shard_ids(job_id, job) {
        if let (Some(first), Some(last)) = (ids.first(), ids.last()) {
            s.push_str(&format!(
                " (its shards are jobs {first} to {last}; `blindfold verify` re-runs an agreed shard on its own)"
            ));
        }
    }
    s
}

/// The whole-job report of sharded job `job_id` from its shards' re-runs
/// (in shard order): `ours` folds our shard commitments
/// ([`hash::shards_digest`]); it `matches` when every shard matches its
/// agreed commitment and the fold equals `on_chain`, the sharded job's
/// agreed commitment. Counts are sums over the shards; `threads` is the
/// largest pool; `seconds` is the whole re-run's.
pub fn fold_shards(
    job_id: JobId,
    on_chain: Hash,
    shards: Vec<ShardVerify>,
    seconds: f64,
) -> VerifyReport {
    let commitments: Vec<Hash> = shards.iter().map(|s| s.report.ours).collect();
    let ours = hash::shards_digest(&commitments);
    let each = shards.iter().map(|s| &s.report);
    VerifyReport {
        job_id,
        matches: !shards.is_empty() && each.clone().all(|r| r.matches) && ours == on_chain,
        ours,
        on_chain,
        result_hash: [0; 32],
        result_hash_on_chain: None,
        inputs: each.clone().fold(0, |n, r| n.saturating_add(r.inputs)),
        units: each.clone().fold(0, |n, r| n.saturating_add(r.units)),
        pbs: each.clone().fold(0, |n, r| n.saturating_add(r.pbs)),
        multiplications: each
            .clone()
            .fold(0, |n, r| n.saturating_add(r.multiplications)),
        rotations: each.clone().fold(0, |n, r| n.saturating_add(r.rotations)),
        threads: each.map(|r| r.threads).max().unwrap_or(0),
        seconds,
        shards,
    }
}

/// Re-runs one job (a whole job or a shard) from its loaded context `ctx`
/// with `key`, and compares its commitment with `on_chain`. `progress`
/// advances by one per input; its length is the caller's to set.
async fn rerun<S: BlobStore>(
    store: &S,
    ctx: &JobContext,
    on_chain: Hash,
    key: Arc<SchemeServerKey>,
    threads: Option<usize>,
    progress: &ProgressBar,
) -> Result<VerifyReport> {
    let started = Instant::now();
    let bar = progress.clone();
    let ours = ctx
        .recompute(store, key, &ctx.units(), threads, move || bar.inc(1))
        .await?;
    Ok(VerifyReport {
        job_id: ctx.job_id,
        matches: ours.commitment == on_chain,
        ours: ours.commitment,
        on_chain,
        result_hash: ours.result_hash,
        result_hash_on_chain: ctx.job.result_blob_hash,
        inputs: ctx.inputs.len(),
        units: ours.bundle.items.len(),
        pbs: ours.pbs,
        multiplications: ours.ops.multiplications,
        rotations: ours.ops.rotations,
        threads: ours.threads,
        seconds: started.elapsed().as_secs_f64(),
        shards: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::researcher::tests::sharded;

    /// Shard `index` (job `4 + index`) over submissions `2 index .. 2 index + 2`,
    /// our commitment `ours`, the chain's `on_chain`.
    fn shard(index: u32, ours: Hash, on_chain: Hash) -> ShardVerify {
        ShardVerify {
            index,
            first: 2 * u64::from(index),
            end: 2 * u64::from(index) + 2,
            report: VerifyReport {
                job_id: 4 + u64::from(index),
                matches: ours == on_chain,
                ours,
                on_chain,
                result_hash: [7; 32],
                result_hash_on_chain: Some([7; 32]),
                inputs: 2,
                units: 1,
                pbs: 0,
                multiplications: 3,
                rotations: 5,
                threads: 2,
                seconds: 0.5,
                shards: Vec::new(),
            },
        }
    }

    #[test]
    fn the_fold_matches_only_in_shard_order_with_every_shard() {
        let (a, b) = ([1; 32], [2; 32]);
        let folded = hash::shards_digest(&[a, b]);
        let report = fold_shards(3, folded, vec![shard(0, a, a), shard(1, b, b)], 1.5);
        assert!(report.matches, "{report:?}");
        assert_eq!(report.mismatch(), None);
        assert_eq!(report.ours, folded);
        assert_eq!(report.on_chain, folded);
        assert_eq!(report.result_hash, [0; 32]);
        assert_eq!(report.result_hash_on_chain, None);
        assert_eq!(
            (
                report.inputs,
                report.units,
                report.multiplications,
                report.rotations
            ),
            (4, 2, 6, 10)
        );
        assert_eq!((report.threads, report.seconds), (2, 1.5));

        // The same shards in the other order fold to another digest.
        let swapped = fold_shards(3, folded, vec![shard(1, b, b), shard(0, a, a)], 1.0);
        assert!(!swapped.matches);
        assert_ne!(swapped.ours, folded);

        // A shard that does not match its own agreed commitment fails the
        // job, even when the chain's fold is of our commitments.
        let c = [3; 32];
        let report = fold_shards(
            3,
            hash::shards_digest(&[a, c]),
            vec![shard(0, a, a), shard(1, c, b)],
            1.0,
        );
        assert!(!report.matches);
        assert_eq!(report.ours, report.on_chain);

        assert_eq!(
            report.mismatch().unwrap(),
            "job 3: the re-run commitments of 1 of its 2 shards differ from the ones on chain"
        );

        // Every shard matches, but the chain's job commitment is another fold.
        let report = fold_shards(3, [0; 32], vec![shard(0, a, a), shard(1, b, b)], 1.0);
        assert!(!report.matches);
        assert!(report.mismatch().unwrap().contains("their fold differs"));

        assert!(!fold_shards(3, hash::shards_digest(&[]), vec![], 0.0).matches);
    }

    #[test]
    fn a_sharded_report_shows_each_shard() {
        let (a, b) = ([1; 32], [2; 32]);
        let report = fold_shards(
            3,
            hash::shards_digest(&[a, a]),
            vec![shard(0, a, a), shard(1, a, b)],
            1.0,
        );
        let text = report.summary();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "job 3: DOES NOT MATCH the chain (1 of 2 shards match; commitments folded in shard order)"
        );
        assert_eq!(
            lines[3],
            "  shard 0 (job 4, submissions 0..2): MATCHES the chain, 0x0101010101010101…"
        );
        assert_eq!(
            lines[4],
            "  shard 1 (job 5, submissions 2..4): DOES NOT MATCH the chain, \
             ours 0x0101010101010101… chain 0x0202020202020202…"
        );
        assert_eq!(
            lines[5],
            "  re-ran 4 inputs in 2 units (6 multiplications, 10 rotations) on 2 threads in 1.00 s"
        );
        let json = serde_json::to_value(&report).unwrap();
        let shards = json["shards"].as_array().unwrap();
        assert_eq!(shards.len(), 2);
        assert_eq!(shards[1]["index"], 1);
        assert_eq!(shards[1]["job_id"], 5);
        assert_eq!(shards[1]["first"], 2);
        assert_eq!(shards[1]["matches"], false);
        assert!(shards[1].get("shards").is_none());

        // A whole job's report: no shards, in JSON or in text.
        let whole = shard(0, a, a).report;
        assert!(serde_json::to_value(&whole)
            .unwrap()
            .get("shards")
            .is_none());
        assert!(!whole.summary().contains("shard"));
        assert!(whole.summary().starts_with("job 4: MATCHES the chain\n"));
        let forged = shard(0, a, b).report;
        assert_eq!(
            forged.mismatch().unwrap(),
            "job 4: the re-run's commitment differs from the one on chain"
        );
    }

    #[test]
    fn a_sharded_job_without_a_commitment_says_how_many_shards_agreed() {
        let (parent, _) = sharded();
        let text = not_agreed(3, &parent);
        assert_eq!(
            text,
            "job 3 is Sharded: 1 of its 3 shards have agreed, so there is no job commitment \
             and nothing to verify (its shards are jobs 4 to 6; `blindfold verify` re-runs \
             an agreed shard on its own)"
        );
    }
}
