//! The events the marketplace contract emits: one per lifecycle transition.
//!
//! These are standalone ink! 5 events (`#[ink::event]`), defined once here and
//! emitted by the contract, so off-chain code decodes the very same types. Topics
//! (at most three per event besides the signature topic) let a worker filter on
//! dataset id, job id and worker account.
//!
//! | group    | events |
//! |----------|--------|
//! | datasets | [`DatasetRegistered`], [`DatasetUpdated`], [`DatasetDeactivated`], [`SubmissionsAdded`], [`SubmissionRevoked`] |
//! | workers  | [`Staked`], [`StakeWithdrawn`] |
//! | jobs     | [`JobRequested`], [`JobCancelled`], [`JobClaimed`], [`Committed`], [`RevealOpened`], [`Revealed`], [`ChallengeOpened`], [`Challenged`], [`JobDisputed`], [`JobComputed`], [`WorkerSlashed`], [`ResultReleased`], [`JobFinalized`], [`JobRefunded`] |
//! | money    | [`Withdrawn`] |
//! | admin    | [`ParamsSet`], [`PausedSet`], [`UpgradeAnnounced`], [`UpgradeCancelled`], [`CodeHashSet`], [`OwnershipProposed`], [`OwnershipTransferred`] |

use alloc::vec::Vec;

use crate::types::{
    Account, Balance, DatasetId, Hash, JobId, MilliEpsilon, Params, PipelineId, Policy,
    RefundReason, SlashReason, Timestamp,
};

/// A dataset was registered.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetRegistered {
    /// The new dataset.
    #[ink(topic)]
    pub dataset_id: DatasetId,
    /// Its owner.
    #[ink(topic)]
    pub owner: Account,
    /// Metadata blob hash.
    pub metadata_hash: Hash,
    /// Server key blob hash.
    pub server_key_hash: Hash,
    /// Price per job.
    pub price: Balance,
    /// Policy.
    pub policy: Policy,
}

/// The owner changed a dataset's price and policy.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetUpdated {
    /// The dataset.
    #[ink(topic)]
    pub dataset_id: DatasetId,
    /// New price.
    pub price: Balance,
    /// New policy.
    pub policy: Policy,
}

/// The owner deactivated a dataset: no new submissions or jobs.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetDeactivated {
    /// The dataset.
    #[ink(topic)]
    pub dataset_id: DatasetId,
}

/// A batch of submissions was recorded. Off-chain code rebuilds the submission
/// list from these events and checks it against `digest`.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionsAdded {
    /// The dataset.
    #[ink(topic)]
    pub dataset_id: DatasetId,
    /// Index of `blob_hashes[0]`.
    pub first_index: u64,
    /// SHA-256 of each ciphertext blob, in index order.
    pub blob_hashes: Vec<Hash>,
    /// Submission count after the batch.
    pub count: u64,
    /// Running submission digest after the batch.
    pub digest: Hash,
}

/// A submission was revoked (withdrawn consent): later jobs exclude it.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionRevoked {
    /// The dataset.
    #[ink(topic)]
    pub dataset_id: DatasetId,
    /// The revoked submission's index.
    pub index: u64,
    /// Revocation count after this one (this is revocation number `count - 1`).
    pub count: u64,
    /// Running revocation digest after this one.
    pub digest: Hash,
}

/// A worker added stake (registering on its first stake).
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staked {
    /// The worker.
    #[ink(topic)]
    pub worker: Account,
    /// Amount added.
    pub amount: Balance,
    /// Total stake after.
    pub stake: Balance,
}

/// A worker withdrew stake (unregistering when none is left).
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StakeWithdrawn {
    /// The worker.
    #[ink(topic)]
    pub worker: Account,
    /// Amount withdrawn.
    pub amount: Balance,
    /// Stake left.
    pub stake: Balance,
}

/// A researcher requested (and paid for) a job.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRequested {
    /// The new job.
    #[ink(topic)]
    pub job_id: JobId,
    /// Its dataset.
    #[ink(topic)]
    pub dataset_id: DatasetId,
    /// The researcher.
    #[ink(topic)]
    pub researcher: Account,
    /// Pipeline.
    pub pipeline: PipelineId,
    /// Job-spec blob hash.
    pub params_hash: Hash,
    /// Input digest bound by the job.
    pub input_digest: Hash,
    /// Epsilon charged to the dataset budget.
    pub epsilon: MilliEpsilon,
    /// Escrow held.
    pub escrow: Balance,
    /// Commit deadline.
    pub deadline: Timestamp,
}

/// The researcher cancelled an unclaimed job; `refund` went to its earnings.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobCancelled {
    /// The job.
    #[ink(topic)]
    pub job_id: JobId,
    /// Amount credited back to the researcher.
    pub refund: Balance,
    /// Credited to the data owner: the privacy-budget reservation fee
    /// ([`crate::types::reservation_fee`]), 0 for a job with no epsilon.
    pub owner_paid: Balance,
}

/// A worker offered for a slot of `round`, locking the claim stake as a bond.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offered {
    /// The job.
    #[ink(topic)]
    pub job_id: JobId,
    /// The worker.
    #[ink(topic)]
    pub worker: Account,
    /// The round (0 for the replicas, the dispute round for a tie-break).
    pub round: u8,
    /// Its weight in the draw (its whole stake).
    pub weight: Balance,
    /// When the offer window closes.
    pub deadline: Timestamp,
}

/// More workers offered than there are free slots: the offerers reveal
/// their draw secrets until `deadline`, then the slots are drawn.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrawOpened {
    /// The job.
    #[ink(topic)]
    pub job_id: JobId,
    /// The round.
    pub round: u8,
    /// Offers made.
    pub offers: u8,
    /// Free slots.
    pub slots: u8,
    /// Secret-reveal deadline.
    pub deadline: Timestamp,
}

/// The draw of `round` assigned its slots (`JobClaimed` follows for each
/// drawn worker).
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drawn {
    /// The job.
    #[ink(topic)]
    pub job_id: JobId,
    /// The round.
    pub round: u8,
    /// The seed the slots were drawn from; `None` when every offerer fitted.
    pub seed: Option<Hash>,
    /// Offers that took part.
    pub offers: u8,
}

/// A worker was drawn for (or, as a challenger, took) a job slot; its
/// offer's bond is now the claim's stake.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobClaimed {
    /// The job.
    #[ink(topic)]
    pub job_id: JobId,
    /// Its dataset.
    #[ink(topic)]
    pub dataset_id: DatasetId,
    /// The worker.
    #[ink(topic)]
    pub worker: Account,
    /// 0 for a replica, the dispute round for a tie-break worker.
    pub round: u8,
    /// Stake locked.
    pub stake: Balance,
    /// Commit deadline.
    pub deadline: Timestamp,
}

/// A worker posted its sealed commitment.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    /// The job.
    #[ink(topic)]
    pub job_id: JobId,
    /// The worker.
    #[ink(topic)]
    pub worker: Account,
    /// `seal(commitment, worker)`.
    pub sealed: Hash,
}

/// Commitments closed; claimants may reveal until `deadline`.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevealOpened {
    /// The job.
    #[ink(topic)]
    pub job_id: JobId,
    /// 0 for the replicas, 1 for the tie-break.
    pub round: u8,
    /// Reveal deadline.
    pub deadline: Timestamp,
}

/// A worker revealed its result; the contract recomputed its commitment and
/// checked it against the seal.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revealed {
    /// The job.
    #[ink(topic)]
    pub job_id: JobId,
    /// The worker.
    #[ink(topic)]
    pub worker: Account,
    /// SHA-256 of the worker's result blob.
    pub result_blob_hash: Hash,
    /// The commitment recomputed from the job's fields and `result_blob_hash`.
    pub commitment: Hash,
}

/// Replication 1: the result is revealed; any staked worker may challenge it
/// until `deadline`.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeOpened {
    /// The job.
    #[ink(topic)]
    pub job_id: JobId,
    /// Its dataset.
    #[ink(topic)]
    pub dataset_id: DatasetId,
    /// The result round 0 agreed on, open to challenge.
    pub result_blob_hash: Hash,
    /// Challenge deadline.
    pub deadline: Timestamp,
}

/// A staked account challenged the result under challenge with a sealed
/// conflicting one, bonded by its claim stake; it reveals once the
/// challenge window closes.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenged {
    /// The job.
    #[ink(topic)]
    pub job_id: JobId,
    /// The challenger.
    #[ink(topic)]
    pub worker: Account,
    /// `seal(commitment, challenger)` of its result.
    pub sealed: Hash,
}

/// The data owner rejected the result under challenge or agreed on (it did
/// not verify), posting the correct one in the clear with a bond: fresh
/// blind replicas decide.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The job.
    #[ink(topic)]
    pub job_id: JobId,
    /// The data owner.
    #[ink(topic)]
    pub owner: Account,
    /// The result the owner computed.
    pub result_blob_hash: Hash,
    /// Its commitment.
    pub commitment: Hash,
}

/// Results disagreed, were missing, or had no strict majority: dispute round
/// `round` opened one more tie-break slot, open until `deadline`.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobDisputed {
    /// The job.
    #[ink(topic)]
    pub job_id: JobId,
    /// Its dataset (tie-break workers filter on it).
    #[ink(topic)]
    pub dataset_id: DatasetId,
    /// The dispute round (1..=`MAX_DISPUTE_ROUNDS`).
    pub round: u8,
    /// When the round's offer window closes.
    pub deadline: Timestamp,
}

/// A result was agreed; the data owner may release until `deadline`.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobComputed {
    /// The job.
    #[ink(topic)]
    pub job_id: JobId,
    /// Its dataset (the data owner filters on it).
    #[ink(topic)]
    pub dataset_id: DatasetId,
    /// The agreed result blob hash; zero on a sharded job, whose result is
    /// its shards' results.
    pub result_blob_hash: Hash,
    /// The agreed commitment; on a sharded job, its shards' agreed
    /// commitments folded in shard order ([`crate::hash::shards_digest_with`]).
    pub commitment: Hash,
    /// Release deadline (on a shard, none of its own: its job's).
    pub deadline: Timestamp,
}

/// A worker's claim stake was slashed (credited to the contract owner).
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerSlashed {
    /// The job.
    #[ink(topic)]
    pub job_id: JobId,
    /// The worker.
    #[ink(topic)]
    pub worker: Account,
    /// Amount slashed.
    pub amount: Balance,
    /// Why.
    pub reason: SlashReason,
}

/// The data owner posted the released result.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultReleased {
    /// The job.
    #[ink(topic)]
    pub job_id: JobId,
    /// Its dataset.
    #[ink(topic)]
    pub dataset_id: DatasetId,
    /// SHA-256 of the released-result blob.
    pub released_hash: Hash,
}

/// A released job was paid out: owner price, worker fees, researcher change.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobFinalized {
    /// The job.
    #[ink(topic)]
    pub job_id: JobId,
    /// Credited to the data owner.
    pub owner_paid: Balance,
    /// Credited to the winning workers in total.
    pub workers_paid: Balance,
    /// Credited back to the researcher (unused fees and overpayment).
    pub researcher_refund: Balance,
}

/// A job ended without a release; the researcher got `refund` back.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRefunded {
    /// The job.
    #[ink(topic)]
    pub job_id: JobId,
    /// Why.
    pub reason: RefundReason,
    /// Credited back to the researcher.
    pub refund: Balance,
    /// Credited to winning workers, who did their part (cohort refusal or
    /// release timeout), with their shares of slashed stakes; 0 otherwise.
    pub workers_paid: Balance,
    /// Credited to the data owner: the privacy-budget reservation fee
    /// ([`crate::types::reservation_fee`]) when the job spent epsilon and
    /// failed through no fault of the owner; 0 otherwise.
    pub owner_paid: Balance,
}

/// An account withdrew its earnings.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawn {
    /// The account.
    #[ink(topic)]
    pub account: Account,
    /// Amount transferred.
    pub amount: Balance,
}

/// The contract owner changed the params.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamsSet {
    /// New params.
    pub params: Params,
}

/// The contract owner paused or unpaused the contract.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PausedSet {
    /// Whether paused now.
    pub paused: bool,
}

/// The contract owner replaced the contract code.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeHashSet {
    /// The new code hash.
    pub code_hash: Hash,
}

/// The owner announced a code upgrade; it can be enacted from `enact_after`.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeAnnounced {
    /// The code hash it will set.
    pub code_hash: Hash,
    /// Wall-clock time (ms) from which `enact_upgrade` may run.
    pub enact_after: Timestamp,
}

/// The owner withdrew an announced upgrade.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeCancelled {
    /// The code hash that will not be set.
    pub code_hash: Hash,
}

/// The owner proposed a new owner, who must accept.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnershipProposed {
    /// Current owner.
    #[ink(topic)]
    pub owner: Account,
    /// Proposed owner.
    #[ink(topic)]
    pub proposed: Account,
}

/// Contract ownership moved.
#[ink::event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnershipTransferred {
    /// Previous owner.
    #[ink(topic)]
    pub previous: Account,
    /// New owner.
    #[ink(topic)]
    pub owner: Account,
}

macro_rules! market_events {
    ($($name:ident),* $(,)?) => {
        /// Any marketplace event, for decoding a contract's event stream.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum MarketEvent {
            $(
                #[doc = concat!("A [`", stringify!($name), "`] event.")]
                $name($name),
            )*
        }

        impl MarketEvent {
            /// Decodes an event from its first topic (the ink! signature topic)
            /// and SCALE payload. `Ok(None)`: not a marketplace event.
            pub fn decode(signature_topic: &[u8], data: &[u8]) -> Result<Option<Self>, ink::scale::Error> {
                use ink::env::Event as _;
                use ink::scale::Decode as _;
                $(
                    if <$name>::SIGNATURE_TOPIC.as_ref().map(|t| &t[..]) == Some(signature_topic) {
                        return $name::decode(&mut &data[..]).map(|e| Some(MarketEvent::$name(e)));
                    }
                )*
                Ok(None)
            }

            /// The event's name, e.g. `"JobRequested"`.
            pub fn name(&self) -> &'static str {
                match self {
                    $(MarketEvent::$name(_) => stringify!($name),)*
                }
            }
        }
    };
}

market_events!(
    DatasetRegistered,
    DatasetUpdated,
    DatasetDeactivated,
    SubmissionsAdded,
    SubmissionRevoked,
    Staked,
    StakeWithdrawn,
    JobRequested,
    JobCancelled,
    Offered,
    DrawOpened,
    Drawn,
    JobClaimed,
    Committed,
    RevealOpened,
    Revealed,
    ChallengeOpened,
    Challenged,
    Rejected,
    JobDisputed,
    JobComputed,
    WorkerSlashed,
    ResultReleased,
    JobFinalized,
    JobRefunded,
    Withdrawn,
    ParamsSet,
    PausedSet,
    CodeHashSet,
    OwnershipTransferred,
    UpgradeAnnounced,
    UpgradeCancelled,
    OwnershipProposed,
);

#[cfg(test)]
mod tests {
    use super::*;
    use ink::env::Event as _;
    use ink::scale::Encode as _;

    #[test]
    fn decodes_by_signature_topic() {
        let event = JobRefunded {
            job_id: 7,
            reason: RefundReason::NoMajority,
            refund: 1_000,
            workers_paid: 0,
            owner_paid: 0,
        };
        let topic = JobRefunded::SIGNATURE_TOPIC.expect("not anonymous");
        let decoded = MarketEvent::decode(&topic, &event.encode());
        assert_eq!(decoded, Ok(Some(MarketEvent::JobRefunded(event))));
        assert_eq!(MarketEvent::decode(&[0u8; 32], &[]), Ok(None));
        assert!(MarketEvent::decode(&topic, &[1, 2]).is_err());
    }

    #[test]
    fn signature_topics_are_distinct() {
        let topics = [
            DatasetRegistered::SIGNATURE_TOPIC,
            JobRequested::SIGNATURE_TOPIC,
            JobClaimed::SIGNATURE_TOPIC,
            Revealed::SIGNATURE_TOPIC,
            JobFinalized::SIGNATURE_TOPIC,
            JobRefunded::SIGNATURE_TOPIC,
        ];
        for (i, a) in topics.iter().enumerate() {
            assert!(a.is_some());
            for b in &topics[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
