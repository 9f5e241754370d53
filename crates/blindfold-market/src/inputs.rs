//! Which ciphertexts a job computes over.
//!
//! The contract stores only running digests (O(1) per batch). Off-chain code
//! rebuilds the lists from `SubmissionsAdded` and `SubmissionRevoked` events
//! ([`DatasetInputs`]) and checks them against the digest a job bound
//! ([`DatasetInputs::for_job`]): a job computes over submissions
//! `0..submission_count` minus the first `revocation_count` revocations; a
//! shard of a sharded job over those of its range (`JobInfo::range`), which
//! its own input digest binds ([`hash::shard_input_digest`]).

use std::collections::BTreeSet;

use blindfold_protocol::hash;
use blindfold_protocol::types::{DatasetId, Hash, JobId, JobInfo};

use crate::contract::BlockEvent;
use crate::index::EventIndex;

/// One live input of a job: a submission index and its ciphertext blob hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Input {
    /// Submission index within the dataset.
    pub index: u64,
    /// SHA-256 of the encrypted video blob.
    pub blob_hash: Hash,
}

/// The events do not add up to what the job bound on chain.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("job {job}: the submission events do not match its input digest ({reason})")]
pub struct InputMismatch {
    /// The job.
    pub job: JobId,
    /// What did not match.
    pub reason: String,
}

/// A dataset's submissions and revocations, in chain order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DatasetInputs {
    /// The dataset.
    pub dataset_id: DatasetId,
    /// `blob_hashes[i]` is submission `i`.
    pub blob_hashes: Vec<Hash>,
    /// Revoked indices in the order they were revoked.
    pub revoked: Vec<u64>,
}

impl DatasetInputs {
    /// Rebuilds the lists of `dataset_id` from the contract's events (the
    /// fold is [`EventIndex::apply`]'s, written once).
    pub fn from_events<'a>(
        dataset_id: DatasetId,
        events: impl IntoIterator<Item = &'a BlockEvent>,
    ) -> Self {
        let mut index = EventIndex::default();
        index.apply(events);
        index.dataset_inputs(dataset_id)
    }

    /// The live inputs of `job`, after checking that the first
    /// `job.submission_count` submissions and `job.revocation_count`
    /// revocations digest to `job.input_digest` (on a shard: that this
    /// digest, with the shard's place and range, digests to it).
    pub fn for_job(&self, job_id: JobId, job: &JobInfo) -> Result<Vec<Input>, InputMismatch> {
        let mismatch = |reason: String| InputMismatch {
            job: job_id,
            reason,
        };
        if job.dataset_id != self.dataset_id {
            return Err(mismatch(format!(
                "job is on dataset {}, these events are of dataset {}",
                job.dataset_id, self.dataset_id
            )));
        }
        let n = usize::try_from(job.submission_count).unwrap_or(usize::MAX);
        let r = usize::try_from(job.revocation_count).unwrap_or(usize::MAX);
        if n > self.blob_hashes.len() || r > self.revoked.len() {
            return Err(mismatch(format!(
                "job binds {n} submissions and {r} revocations, events show {} and {}",
                self.blob_hashes.len(),
                self.revoked.len()
            )));
        }
        let digest = hash::input_digest(
            job.dataset_id,
            &hash::submissions_digest(&self.blob_hashes[..n]),
            job.submission_count,
            &hash::revocations_digest(&self.revoked[..r]),
            job.revocation_count,
        );
        let digest = match job.shard {
            Some(s) => hash::shard_input_digest(s.job, &digest, s.index, s.first, s.end),
            None => digest,
        };
        if digest != job.input_digest {
            return Err(mismatch("digest differs".into()));
        }
        let revoked: BTreeSet<u64> = self.revoked[..r].iter().copied().collect();
        let range = job.range();
        Ok(self.blob_hashes[..n]
            .iter()
            .enumerate()
            .map(|(i, h)| Input {
                index: i as u64,
                blob_hash: *h,
            })
            .filter(|input| range.contains(&input.index) && !revoked.contains(&input.index))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use blindfold_protocol::events::{MarketEvent, SubmissionRevoked, SubmissionsAdded};
    use blindfold_protocol::types::{JobStatus, PipelineId, Terms};

    fn added(first: u64, hashes: Vec<Hash>) -> BlockEvent {
        BlockEvent {
            block: 1,
            event: MarketEvent::SubmissionsAdded(SubmissionsAdded {
                dataset_id: 7,
                first_index: first,
                count: first + hashes.len() as u64,
                blob_hashes: hashes,
                digest: [0; 32],
            }),
        }
    }

    fn job(n: u64, revoked: &[u64], hashes: &[Hash]) -> JobInfo {
        JobInfo {
            dataset_id: 7,
            researcher: [0; 32],
            pipeline: PipelineId::LvArea,
            params_hash: [0; 32],
            input_digest: hash::input_digest(
                7,
                &hash::submissions_digest(&hashes[..n as usize]),
                n,
                &hash::revocations_digest(revoked),
                revoked.len() as u64,
            ),
            server_key_hash: [0; 32],
            submission_count: n,
            revocation_count: revoked.len() as u64,
            epsilon: 0,
            price: 0,
            terms: Terms::default(),
            escrow: 0,
            slashed: 0,
            replication: 1,
            slots: 1,
            offers: vec![],
            challenged: None,
            jury_from: 0,
            commit_deadline: 0,
            round: 0,
            status: JobStatus::Open,
            requested_at: 0,
            deadline: 0,
            claims: vec![],
            result_blob_hash: None,
            commitment: None,
            released_hash: None,
            shard: None,
            shards: 0,
            shards_computed: 0,
        }
    }

    #[test]
    fn revocations_and_later_submissions_are_excluded() {
        let hashes: Vec<Hash> = (0..5u8).map(|i| [i; 32]).collect();
        let events = vec![
            added(0, hashes[..3].to_vec()),
            BlockEvent {
                block: 2,
                event: MarketEvent::SubmissionRevoked(SubmissionRevoked {
                    dataset_id: 7,
                    index: 1,
                    count: 1,
                    digest: [0; 32],
                }),
            },
            added(3, hashes[3..].to_vec()),
        ];
        let inputs = DatasetInputs::from_events(7, &events);
        assert_eq!(inputs.blob_hashes, hashes);
        // A job requested after the revocation but before the second batch.
        let live = inputs.for_job(3, &job(3, &[1], &hashes)).unwrap();
        let indices: Vec<u64> = live.iter().map(|i| i.index).collect();
        assert_eq!(indices, vec![0, 2]);
        // Forged digest.
        let mut forged = job(3, &[1], &hashes);
        forged.input_digest[0] ^= 1;
        let err = inputs.for_job(3, &forged).unwrap_err();
        assert!(err.to_string().contains("digest differs"), "{err}");
        // Shard 1 (submissions 2..3) of job 3 over the same inputs.
        let mut shard = job(3, &[1], &hashes);
        let place = blindfold_protocol::types::ShardOf::nth(3, 1, 3, 2);
        shard.input_digest =
            hash::shard_input_digest(3, &shard.input_digest, 1, place.first, place.end);
        shard.shard = Some(place);
        let live = inputs.for_job(5, &shard).unwrap();
        assert_eq!(live.iter().map(|i| i.index).collect::<Vec<_>>(), vec![2]);
        // A shard that claims another range than its digest binds.
        shard.shard = Some(blindfold_protocol::types::ShardOf { first: 0, ..place });
        let err = inputs.for_job(5, &shard).unwrap_err();
        assert!(err.to_string().contains("digest differs"), "{err}");
        // Other dataset's events show nothing.
        assert!(DatasetInputs::from_events(8, &events)
            .blob_hashes
            .is_empty());
    }
}
