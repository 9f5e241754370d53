//! [`Error`]: the marketplace contract's one error enum.
//!
//! ink! 5.1.1 has no `#[ink::error]` attribute, so the enum derives its SCALE
//! codec and type info with `#[ink::scale_derive(Encode, Decode, TypeInfo)]`
//! (feature `ink`). Every contract message returns `Result<_, Error>`; an `Err`
//! reverts the call's state changes on chain. Off-chain code decodes the same
//! enum from a dry run or a failed call.
//!
//! The SCALE encoding is the variant's position (one byte), so variants are only
//! ever appended, never reordered.

use core::fmt;

/// Everything a marketplace message can refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "ink", ink::scale_derive(Encode, Decode, TypeInfo))]
pub enum Error {
    /// The caller is not the contract owner.
    NotOwner,
    /// The contract is paused: no new datasets, stakes, jobs or claims.
    Paused,
    /// Admin params out of range (see `Params::validate`).
    InvalidParams,
    /// The runtime refused `set_code_hash` (unknown code hash).
    SetCodeHashFailed,
    /// The runtime refused a transfer out of the contract.
    TransferFailed,
    /// An amount or counter would overflow.
    Overflow,
    /// No dataset with this id.
    DatasetNotFound,
    /// The caller does not own the dataset.
    NotDatasetOwner,
    /// The dataset was deactivated.
    DatasetInactive,
    /// The policy's pipeline set is empty or names an unknown pipeline.
    InvalidPipelineSet,
    /// The policy's `min_cohort` is 0.
    InvalidMinCohort,
    /// The policy's replication is not in `1..=MAX_REPLICATION`.
    InvalidReplication,
    /// `add_submissions` got no hashes.
    EmptyBatch,
    /// `add_submissions` got more than `MAX_BATCH` hashes.
    BatchTooLarge,
    /// No submission with this index.
    SubmissionNotFound,
    /// The submission was already revoked.
    AlreadyRevoked,
    /// A payable call that needs value got none.
    ZeroValue,
    /// The caller is not a registered worker.
    NotWorker,
    /// The worker's free stake is below the claim stake.
    InsufficientStake,
    /// The worker still has open claims.
    OpenClaims,
    /// The amount is more than the worker's stake (or is zero).
    InvalidAmount,
    /// The dataset's policy does not allow this pipeline.
    PipelineNotAllowed,
    /// The value sent is below `price + worker_fee × (replication + 1)`.
    InsufficientEscrow,
    /// The dataset's live submissions are fewer than its `min_cohort`.
    CohortTooSmall,
    /// The dataset enforces a privacy budget, so the job's epsilon must be positive.
    EpsilonRequired,
    /// The job's epsilon exceeds the dataset's remaining budget.
    EpsilonBudgetExhausted,
    /// The deadline is sooner than `now + min_compute_window`.
    DeadlineTooSoon,
    /// The deadline is later than `now + max_compute_window`.
    DeadlineTooFar,
    /// No job with this id.
    JobNotFound,
    /// The job's status does not allow this message.
    WrongStatus,
    /// The current status's deadline has passed.
    DeadlinePassed,
    /// The current status's deadline has not passed yet (and nothing else ends it).
    DeadlineNotReached,
    /// The caller already claimed this job.
    AlreadyClaimed,
    /// Every slot of the job is claimed.
    NoFreeSlot,
    /// The caller has no open claim on this job.
    NotClaimant,
    /// The caller already committed.
    AlreadyCommitted,
    /// The caller already revealed.
    AlreadyRevealed,
    /// The revealed result does not open the sealed commitment.
    SealMismatch,
    /// A challenge must reveal a result different from the one revealed.
    NotConflicting,
    /// The caller is not the job's researcher.
    NotResearcher,
    /// The job already has a claim and can no longer be cancelled.
    JobClaimed,
    /// Nothing to withdraw.
    NothingToWithdraw,
    /// `request`: the dataset's price is not the one the researcher expected.
    PriceChanged,
    /// `request`: the dataset's replication is not the one the researcher expected.
    ReplicationChanged,
    /// `request`: the dataset's inputs (submissions or revocations) changed
    /// since the researcher read them.
    InputsChanged,
    /// The caller is not the account `transfer_ownership` named.
    NotPendingOwner,
    /// No code upgrade is announced.
    NoPendingUpgrade,
    /// The announced upgrade's delay has not passed yet.
    UpgradeNotDue,
    /// `set_params` may raise the upgrade delay, never lower it.
    UpgradeDelayLowered,
    /// The caller already offered for this round of the job.
    AlreadyOffered,
    /// The round already has [`crate::MAX_OFFERS`] offers.
    TooManyOffers,
    /// The caller has no unrevealed offer in this round of the job.
    NotOfferer,
    /// The revealed secret does not open the offer's seed hash.
    SeedMismatch,
    /// `request`: the shard size splits the dataset into more than
    /// [`crate::MAX_SHARDS`] shards.
    TooManyShards,
    /// The job is a shard of a sharded job: release or cancel the sharded
    /// job itself; a shard is paid out with `finalize` once its job released
    /// or ended.
    IsShard,
    /// The shard's job has not released or ended yet.
    JobNotReleased,
}

impl Error {
    /// A one-line description.
    pub const fn message(self) -> &'static str {
        match self {
            Error::NotOwner => "caller is not the contract owner",
            Error::Paused => "contract is paused",
            Error::InvalidParams => {
                "params out of range (claim stake 0, a window or the upgrade delay outside \
                 1 s..=30 days, or min > max compute window)"
            }
            Error::SetCodeHashFailed => "runtime refused set_code_hash",
            Error::TransferFailed => "runtime refused the transfer",
            Error::Overflow => "arithmetic overflow",
            Error::DatasetNotFound => "no such dataset",
            Error::NotDatasetOwner => "caller does not own the dataset",
            Error::DatasetInactive => "dataset is deactivated",
            Error::InvalidPipelineSet => "policy pipeline set is empty or has unknown bits",
            Error::InvalidMinCohort => "policy min_cohort must be at least 1",
            Error::InvalidReplication => "policy replication must be 1..=3",
            Error::EmptyBatch => "submission batch is empty",
            Error::BatchTooLarge => "submission batch is larger than MAX_BATCH",
            Error::SubmissionNotFound => "no submission with this index",
            Error::AlreadyRevoked => "submission already revoked",
            Error::ZeroValue => "call needs a positive transferred value",
            Error::NotWorker => "caller is not a registered worker",
            Error::InsufficientStake => "free stake is below the claim stake",
            Error::OpenClaims => "worker has open claims",
            Error::InvalidAmount => "amount is zero or exceeds the stake",
            Error::PipelineNotAllowed => "pipeline not allowed by the dataset policy",
            Error::InsufficientEscrow => "value below price + worker_fee * (replication + 1)",
            Error::CohortTooSmall => "live submissions fewer than the policy min_cohort",
            Error::EpsilonRequired => "dataset has a privacy budget: epsilon must be positive",
            Error::EpsilonBudgetExhausted => "epsilon exceeds the remaining privacy budget",
            Error::DeadlineTooSoon => "deadline sooner than now + min_compute_window",
            Error::DeadlineTooFar => "deadline later than now + max_compute_window",
            Error::JobNotFound => "no such job",
            Error::WrongStatus => "job status does not allow this message",
            Error::DeadlinePassed => "deadline of the current status has passed",
            Error::DeadlineNotReached => "deadline of the current status has not passed",
            Error::AlreadyClaimed => "caller already claimed this job",
            Error::NoFreeSlot => "every slot of the job is claimed",
            Error::NotClaimant => "caller has no open claim on this job",
            Error::AlreadyCommitted => "caller already committed",
            Error::AlreadyRevealed => "caller already revealed",
            Error::SealMismatch => "revealed result does not open the sealed commitment",
            Error::NotConflicting => "challenge result equals the revealed result",
            Error::NotResearcher => "caller is not the job's researcher",
            Error::JobClaimed => "job already claimed; cannot cancel",
            Error::NothingToWithdraw => "nothing to withdraw",
            Error::PriceChanged => "dataset price differs from the expected price",
            Error::ReplicationChanged => "dataset replication differs from the expected one",
            Error::InputsChanged => "dataset inputs changed since the researcher read them",
            Error::NotPendingOwner => "caller is not the proposed new owner",
            Error::NoPendingUpgrade => "no code upgrade is announced",
            Error::UpgradeNotDue => "the announced upgrade's delay has not passed",
            Error::UpgradeDelayLowered => "the upgrade delay may be raised, never lowered",
            Error::AlreadyOffered => "caller already offered for this round of the job",
            Error::TooManyOffers => "this round of the job has the most offers it takes",
            Error::NotOfferer => "caller has no unrevealed offer in this round of the job",
            Error::SeedMismatch => "the secret does not open the offer's seed hash",
            Error::TooManyShards => "the shard size splits the dataset into too many shards",
            Error::IsShard => "the job is a shard: release or cancel its sharded job",
            Error::JobNotReleased => "the shard's job has not released or ended yet",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl core::error::Error for Error {}

#[cfg(all(test, feature = "ink"))]
mod tests {
    use super::*;
    use ink::scale::{Decode, Encode};

    #[test]
    fn encoding_is_the_variant_position() {
        assert_eq!(Error::NotOwner.encode(), [0]);
        assert_eq!(Error::JobNotFound.encode(), [28]);
        assert_eq!(Error::NothingToWithdraw.encode(), [41]);
        assert_eq!(
            Error::decode(&mut &[30u8][..]).ok(),
            Some(Error::DeadlinePassed)
        );
        assert_eq!(Error::UpgradeDelayLowered.encode(), [48]);
        assert_eq!(Error::SeedMismatch.encode(), [52]);
        assert_eq!(Error::TooManyShards.encode(), [53]);
        assert_eq!(Error::JobNotReleased.encode(), [55]);
        assert!(Error::decode(&mut &[56u8][..]).is_err());
    }
}
