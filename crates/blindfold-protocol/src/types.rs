//! Ids, primitives, and the records the contract stores and returns.
//!
//! - The primitives and pipeline ids of [`crate::ids`], re-exported here.
//! - [`Policy`]: what a data owner allows on its dataset.
//! - [`DatasetInfo`], [`JobInfo`] (with [`JobStatus`], its [`Offer`]s and
//!   [`Claim`]s, [`StakeState`] and its frozen [`Terms`]), [`Expected`] (a request's slippage bounds),
//!   [`WorkerInfo`], the admin [`Params`] (with its bounds), the money
//!   [`Totals`], a [`PendingUpgrade`] and the global [`MarketState`].
//!
//! With feature `ink` every type derives SCALE `Encode`/`Decode` and `TypeInfo`
//! (and ink!'s `StorageLayout` under `std`), so the contract stores these very
//! types and off-chain code decodes them from query results.

use alloc::vec::Vec;

use crate::error::Error;
use crate::hash::{self, Sha256};
pub use crate::ids::*;

/// Highest allowed replication factor.
pub const MAX_REPLICATION: u8 = 3;
/// Most submission hashes accepted in one `add_submissions` call.
pub const MAX_BATCH: u32 = 128;
/// Dispute rounds (one fresh tie-break slot each) a job may open before it
/// refunds for want of a strict majority.
pub const MAX_DISPUTE_ROUNDS: u8 = 3;
/// Most offers one round of a job holds (the draw's gas is bounded by it);
/// a full round takes a heavier offer in place of its lightest. Also the
/// most sealed challengers a result may have.
pub const MAX_OFFERS: u8 = 16;
/// Most shards one job may be split into (`request`'s shard size). A request
/// writes one job record per shard, and a job's last agreeing shard reads them
/// all to fold the job's result digest, so this bounds both calls' gas.
pub const MAX_SHARDS: u32 = 64;
/// Shortest window [`Params::validate`] accepts: one second (ms).
pub const MIN_WINDOW: Timestamp = 1_000;
/// Longest window [`Params::validate`] accepts: 30 days (ms).
pub const MAX_WINDOW: Timestamp = 30 * 24 * 3_600_000;
/// Most that pauses, all together over the contract's life, hold the market
/// clock back (30 days, ms): a pause extends every running job's deadlines,
/// but an admin cannot freeze escrowed money forever.
pub const MAX_PAUSE: Timestamp = MAX_WINDOW;

/// What a data owner allows on its dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "ink", ink::scale_derive(Encode, Decode, TypeInfo))]
#[cfg_attr(
    all(feature = "ink", feature = "std"),
    derive(ink::storage::traits::StorageLayout)
)]
pub struct Policy {
    /// Pipelines a job may run.
    pub allowed_pipelines: PipelineSet,
    /// Fewest live (submitted minus revoked) items a job may compute over and
    /// a released result may come from. At least 1.
    pub min_cohort: u32,
    /// How many workers compute each job independently: 1..=[`MAX_REPLICATION`].
    pub replication: u8,
    /// Total differential-privacy budget of the dataset, if it enforces one.
    /// Each job then must spend a positive epsilon, and requests that would
    /// exceed the budget are refused.
    pub dp_epsilon_budget: Option<MilliEpsilon>,
}

impl Policy {
    /// Checks the policy's ranges, naming the first field that is wrong.
    pub fn validate(&self) -> Result<(), Error> {
        if !self.allowed_pipelines.is_valid() {
            return Err(Error::InvalidPipelineSet);
        }
        if self.min_cohort == 0 {
            return Err(Error::InvalidMinCohort);
        }
        if self.replication == 0 || self.replication > MAX_REPLICATION {
            return Err(Error::InvalidReplication);
        }
        Ok(())
    }
}

/// A registered dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ink", ink::scale_derive(Encode, Decode, TypeInfo))]
#[cfg_attr(
    all(feature = "ink", feature = "std"),
    derive(ink::storage::traits::StorageLayout)
)]
pub struct DatasetInfo {
    /// The data owner (hospital) account.
    pub owner: Account,
    /// SHA-256 of the metadata blob (geometry, preprocessing, TFHE parameter set).
    pub metadata_hash: Hash,
    /// SHA-256 of the TFHE server (evaluation) key blob.
    pub server_key_hash: Hash,
    /// Price per job, paid to the owner on finalisation.
    pub price: Balance,
    /// The owner's policy.
    pub policy: Policy,
    /// Whether new submissions and jobs are accepted.
    pub active: bool,
    /// When the dataset was registered.
    pub registered_at: Timestamp,
    /// Number of submissions so far (indices `0..submission_count`).
    pub submission_count: u64,
    /// Running digest over all submissions (see [`hash::submissions_step_with`]).
    pub submissions_digest: Hash,
    /// Number of revocations so far.
    pub revocation_count: u64,
    /// Running digest over all revoked indices, in revocation order.
    pub revocations_digest: Hash,
    /// Epsilon charged to the budget by open and finished jobs.
    pub epsilon_spent: MilliEpsilon,
}

impl DatasetInfo {
    /// Live items: submissions minus revocations.
    pub fn cohort(&self) -> u64 {
        self.submission_count.saturating_sub(self.revocation_count)
    }

    /// What a researcher who reads the dataset now expects of it at
    /// `request` (its price, replication and input digest).
    pub fn expected_with<H: Sha256>(&self, dataset_id: DatasetId) -> Expected {
        Expected {
            price: self.price,
            replication: self.policy.replication,
            input_digest: self.input_digest_with::<H>(dataset_id),
        }
    }

    /// The input digest a job requested now would bind.
    pub fn input_digest_with<H: Sha256>(&self, dataset_id: DatasetId) -> Hash {
        hash::input_digest_with::<H>(
            dataset_id,
            &self.submissions_digest,
            self.submission_count,
            &self.revocations_digest,
            self.revocation_count,
        )
    }
}

/// Where a job is in its lifecycle. Every job ends in `Finalized`, `Refunded`
/// or `Cancelled`; `deadline` in [`JobInfo`] is the deadline of the current status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "ink", ink::scale_derive(Encode, Decode, TypeInfo))]
#[cfg_attr(
    all(feature = "ink", feature = "std"),
    derive(ink::storage::traits::StorageLayout)
)]
pub enum JobStatus {
    /// Round 0's offer window: staked workers `offer` for the replication
    /// factor's slots, each with a sealed draw secret and a bond.
    Open,
    /// Commitments closed; claimants reveal their result blob hash.
    Revealing,
    /// Round 0 agreed on one result (every replica, or the only one): for
    /// the challenge window, any staked account may post a sealed, bonded
    /// conflicting result; the data owner may reject it.
    Challenge,
    /// Results disagreed or were missing: a dispute round's offer window,
    /// for one fresh tie-break slot.
    Disputed,
    /// More offers than free slots: the offerers reveal their draw secrets,
    /// then the slots are drawn by stake ([`crate::draw`]).
    Drawing,
    /// The drawn claimants compute and commit sealed commitments, until the
    /// round's commit deadline.
    Computing,
    /// An agreed result exists; the data owner may release.
    Computed,
    /// The data owner posted the released-result hash; `finalize` pays out.
    Released,
    /// Paid out. Terminal.
    Finalized,
    /// The researcher was refunded (see the `JobRefunded` event's reason). Terminal.
    Refunded,
    /// Cancelled by the researcher before any claim. Terminal.
    Cancelled,
    /// A sharded job while its shards run (each is a job of its own, with
    /// its own draw, commitments, challenges and disputes). It becomes
    /// `Computed` when every shard has agreed, and ends `Refunded` as soon
    /// as one shard ends without a result.
    Sharded,
}

impl JobStatus {
    /// Whether the job is over (no more money moves).
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            JobStatus::Finalized | JobStatus::Refunded | JobStatus::Cancelled
        )
    }
}

/// Why a job ended refunded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "ink", ink::scale_derive(Encode, Decode, TypeInfo))]
pub enum RefundReason {
    /// No claimant revealed a result in time.
    NoResult,
    /// After [`MAX_DISPUTE_ROUNDS`] tie-break rounds, no result had a strict
    /// majority (more than half of the live results, at least two).
    NoMajority,
    /// The job's cohort is below the dataset's current `min_cohort`.
    CohortBelowMinimum,
    /// The data owner did not release before the release deadline.
    ReleaseTimeout,
}

/// Why a worker's claim stake was slashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "ink", ink::scale_derive(Encode, Decode, TypeInfo))]
pub enum SlashReason {
    /// Claimed but did not commit, or committed but did not reveal, in time.
    Missed,
    /// Revealed a result that lost to the majority.
    Dissent,
}

/// What became of the stake a claim locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "ink", ink::scale_derive(Encode, Decode, TypeInfo))]
#[cfg_attr(
    all(feature = "ink", feature = "std"),
    derive(ink::storage::traits::StorageLayout)
)]
pub enum StakeState {
    /// Locked in the job.
    Locked,
    /// Unlocked (back in the worker's free stake).
    Returned,
    /// Forfeited to the job's honest side (see [`JobInfo::slashed`]).
    Slashed,
}

/// One worker's offer for a slot of a job's current round. It locks the
/// job's claim stake as a bond: returned if the worker is not drawn,
/// slashed if it does not reveal its secret when a draw needs it, and the
/// claim's stake if it is drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ink", ink::scale_derive(Encode, Decode, TypeInfo))]
#[cfg_attr(
    all(feature = "ink", feature = "std"),
    derive(ink::storage::traits::StorageLayout)
)]
pub struct Offer {
    /// The worker.
    pub worker: Account,
    /// Its weight in the draw: the worker's whole stake when it offered.
    pub weight: Balance,
    /// [`hash::offer_seed_with`] of its secret.
    pub seed_hash: Hash,
    /// The secret, once revealed.
    pub secret: Option<Hash>,
}

/// How a claim joined its job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "ink", ink::scale_derive(Encode, Decode, TypeInfo))]
#[cfg_attr(
    all(feature = "ink", feature = "std"),
    derive(ink::storage::traits::StorageLayout)
)]
pub enum ClaimKind {
    /// Drawn among a round's offers: a replica, or a fresh tie-break replica.
    Drawn,
    /// A sealed challenge of the result under challenge: it may never
    /// reveal that result.
    Challenger,
    /// The data owner's rejection, with its result in the clear.
    Owner,
}

/// One worker's claim on a job.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ink", ink::scale_derive(Encode, Decode, TypeInfo))]
#[cfg_attr(
    all(feature = "ink", feature = "std"),
    derive(ink::storage::traits::StorageLayout)
)]
pub struct Claim {
    /// The worker.
    pub worker: Account,
    /// 0 for the replicas; the dispute round a challenger or tie-break
    /// worker joined in (1..=[`MAX_DISPUTE_ROUNDS`]).
    pub round: u8,
    /// The sealed commitment ([`hash::seal_with`]), once committed.
    pub sealed: Option<Hash>,
    /// The revealed SHA-256 of the worker's result blob.
    pub result_blob_hash: Option<Hash>,
    /// The claim's stake.
    pub stake: StakeState,
    /// How it joined.
    pub kind: ClaimKind,
}

/// A job: a researcher's paid request to run one pipeline over a dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ink", ink::scale_derive(Encode, Decode, TypeInfo))]
#[cfg_attr(
    all(feature = "ink", feature = "std"),
    derive(ink::storage::traits::StorageLayout)
)]
pub struct JobInfo {
    /// The dataset computed over.
    pub dataset_id: DatasetId,
    /// Who pays, and receives refunds and the released result.
    pub researcher: Account,
    /// The pipeline.
    pub pipeline: PipelineId,
    /// SHA-256 of the job-spec blob (pipeline parameters, backend).
    pub params_hash: Hash,
    /// The dataset's input digest at request time ([`hash::input_digest_with`]):
    /// submissions `0..submission_count` minus the first `revocation_count`
    /// revocations.
    pub input_digest: Hash,
    /// The dataset's server-key hash at request time.
    pub server_key_hash: Hash,
    /// Submissions the job covers (indices `0..submission_count`).
    pub submission_count: u64,
    /// Revocations (the first this many, in revocation order) the job excludes.
    pub revocation_count: u64,
    /// Epsilon charged to the dataset's budget (returned if the job is refunded
    /// or cancelled).
    pub epsilon: MilliEpsilon,
    /// Dataset price at request time, owed to the data owner on finalisation.
    pub price: Balance,
    /// Fee, stake and windows, frozen at request: `set_params` never changes
    /// a running job.
    pub terms: Terms,
    /// Money the contract holds for this job, the slashed stakes included; 0
    /// once the job ended.
    pub escrow: Balance,
    /// Stakes slashed in this job so far (held in `escrow`). At the end they
    /// go to the claims that revealed the agreed result, in equal shares, or
    /// to the researcher when no result was agreed (never to the admin).
    pub slashed: Balance,
    /// Replication factor at request time.
    pub replication: u8,
    /// Claims allowed so far: the replication factor, plus one tie-break slot
    /// per dispute round, plus the challenger's slot after a challenge.
    pub slots: u8,
    /// Offers for the current round's free slots (empty once drawn).
    pub offers: Vec<Offer>,
    /// The result round 0 agreed on, once it was open to challenge (kept
    /// for the job's life: a challenger may never reveal it).
    pub challenged: Option<Hash>,
    /// 0 while every live result votes. Once a revealed challenge or the
    /// owner's rejection made round 0's replicas a party to the dispute,
    /// the first round whose drawn replicas form the jury: only they vote,
    /// so colluding replicas (however many) or Sybil challengers cannot
    /// outvote fresh blind replicas.
    pub jury_from: u8,
    /// When the current round's claimants must have committed (market clock):
    /// the researcher's deadline in round 0, the tie-break window after the
    /// draw in a dispute round.
    pub commit_deadline: Timestamp,
    /// 0 while the replicas work; the dispute round once disputed or
    /// challenged (at most [`MAX_DISPUTE_ROUNDS`]).
    pub round: u8,
    /// Current status.
    pub status: JobStatus,
    /// When the job was requested (market clock, see [`MarketState::clock`]).
    pub requested_at: Timestamp,
    /// Deadline of the current status (market clock: pauses extend it).
    pub deadline: Timestamp,
    /// Claims in order.
    pub claims: Vec<Claim>,
    /// The agreed result blob hash, once `Computed`.
    pub result_blob_hash: Option<Hash>,
    /// The agreed commitment, once `Computed`.
    pub commitment: Option<Hash>,
    /// SHA-256 of the released-result blob, once `Released`.
    pub released_hash: Option<Hash>,
    /// On a shard: the sharded job it belongs to and the submissions it
    /// computes. `None` on a job computed whole and on a sharded job.
    pub shard: Option<ShardOf>,
    /// On a sharded job: how many shards it has (jobs `id + 1 ..= id +
    /// shards`, in submission order). 0 on a job computed whole and on a shard.
    pub shards: u32,
    /// On a sharded job: how many of its shards have agreed (`Computed`).
    pub shards_computed: u32,
}

/// Where a shard sits in its sharded job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "ink", ink::scale_derive(Encode, Decode, TypeInfo))]
#[cfg_attr(
    all(feature = "ink", feature = "std"),
    derive(ink::storage::traits::StorageLayout)
)]
pub struct ShardOf {
    /// The sharded job.
    pub job: JobId,
    /// The shard's place, `0..shards`.
    pub index: u32,
    /// The first submission index it covers.
    pub first: u64,
    /// One past the last submission index it covers.
    pub end: u64,
}

impl ShardOf {
    /// The shards of a job over `submissions` submissions (indices `0..n`) at
    /// `shard_size` each: `None` when the job is computed whole (`shard_size`
    /// 0, or at least `submissions`), else the shard count, which
    /// `request` bounds by [`MAX_SHARDS`].
    pub fn count(submissions: u64, shard_size: u64) -> Option<u64> {
        if shard_size == 0 || shard_size >= submissions {
            return None;
        }
        Some(submissions.div_ceil(shard_size))
    }

    /// Shard `index` of sharded job `job` over `submissions` submissions at
    /// `shard_size` each (the last one may be shorter).
    pub fn nth(job: JobId, index: u32, submissions: u64, shard_size: u64) -> ShardOf {
        let first = u64::from(index).saturating_mul(shard_size).min(submissions);
        ShardOf {
            job,
            index,
            first,
            end: first.saturating_add(shard_size).min(submissions),
        }
    }
}

impl JobInfo {
    /// Live items the job covers. On a shard, an upper bound (the revoked
    /// submissions of its range are not known on chain).
    pub fn cohort(&self) -> u64 {
        match self.shard {
            Some(s) => s.end.saturating_sub(s.first),
            None => self.submission_count.saturating_sub(self.revocation_count),
        }
    }

    /// The submission indices the job computes over (the revoked ones among
    /// its first `revocation_count` revocations excluded): `0..submission_count`,
    /// or a shard's range.
    pub fn range(&self) -> core::ops::Range<u64> {
        match self.shard {
            Some(s) => s.first..s.end,
            None => 0..self.submission_count,
        }
    }

    /// Whether this is a sharded job (its shards compute; it releases).
    pub fn is_sharded(&self) -> bool {
        self.shards > 0
    }

    /// The commitment a worker computes for this job and `result_blob_hash`.
    pub fn commitment_with<H: Sha256>(&self, job_id: JobId, result_blob_hash: &Hash) -> Hash {
        hash::commitment_with::<H>(
            job_id,
            self.dataset_id,
            self.pipeline,
            &self.params_hash,
            &self.input_digest,
            &self.server_key_hash,
            result_blob_hash,
        )
    }

    /// The index and offer of `worker` in the current round, if it offered.
    pub fn offer_of(&self, worker: &Account) -> Option<(usize, &Offer)> {
        self.offers
            .iter()
            .enumerate()
            .find(|(_, o)| &o.worker == worker)
    }

    /// Slots of the current round not yet claimed.
    pub fn free_slots(&self) -> usize {
        usize::from(self.slots).saturating_sub(self.claims.len())
    }

    /// The index and claim of `worker`, if it claimed this job.
    pub fn claim_of(&self, worker: &Account) -> Option<(usize, &Claim)> {
        self.claims
            .iter()
            .enumerate()
            .find(|(_, c)| &c.worker == worker)
    }
}

/// A job's terms, copied from the admin [`Params`] at request. The challenge
/// and tie-break windows are at least the job's own compute window, since a
/// challenger or a tie-break worker must compute the whole job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "ink", ink::scale_derive(Encode, Decode, TypeInfo))]
#[cfg_attr(
    all(feature = "ink", feature = "std"),
    derive(ink::storage::traits::StorageLayout)
)]
pub struct Terms {
    /// Paid to each worker whose result wins.
    pub worker_fee: Balance,
    /// Stake each claim (and each offer, as its bond) locks.
    pub claim_stake: Balance,
    /// Time for workers to offer for a round's slots.
    pub offer_window: Timestamp,
    /// Time to reveal once commitments close.
    pub reveal_window: Timestamp,
    /// Time for challenges once round 0 agreed on a result.
    pub challenge_window: Timestamp,
    /// Time for a drawn tie-break worker to compute and commit.
    pub tiebreak_window: Timestamp,
    /// Time for the data owner to release once the result is agreed.
    pub release_window: Timestamp,
}

impl Terms {
    /// The terms of a job requested under `params` with `compute_window`
    /// (ms from request to the commit deadline).
    pub fn freeze(params: &Params, compute_window: Timestamp) -> Terms {
        Terms {
            worker_fee: params.worker_fee,
            claim_stake: params.claim_stake,
            offer_window: params.offer_window,
            reveal_window: params.reveal_window,
            challenge_window: params.challenge_window.max(compute_window),
            tiebreak_window: params.tiebreak_window.max(compute_window),
            release_window: params.release_window,
        }
    }
}

/// What a researcher saw before `request`: the contract refuses the request
/// if the dataset changed since (the owner front-running it with
/// `update_dataset` or new submissions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "ink", ink::scale_derive(Encode, Decode, TypeInfo))]
pub struct Expected {
    /// The dataset's price.
    pub price: Balance,
    /// The dataset's replication factor.
    pub replication: u8,
    /// The input digest the job would bind ([`DatasetInfo::input_digest_with`]).
    pub input_digest: Hash,
}

/// The escrow a job needs: `price + shards × worker_fee × (replication + 1)`,
/// i.e. for each shard (1 for a job computed whole) one fee per replica plus
/// one reserve fee for a tie-break worker. Unused fees are refunded to the
/// researcher. `None` on overflow.
pub fn required_escrow(
    price: Balance,
    worker_fee: Balance,
    replication: u8,
    shards: u32,
) -> Option<Balance> {
    let fees = shard_escrow(worker_fee, replication)?.checked_mul(Balance::from(shards.max(1)))?;
    price.checked_add(fees)
}

/// What one shard (or a job computed whole, less its price) holds for its
/// workers: `worker_fee × (replication + 1)`. `None` on overflow.
pub fn shard_escrow(worker_fee: Balance, replication: u8) -> Option<Balance> {
    worker_fee.checked_mul(Balance::from(replication).checked_add(1)?)
}

/// What a job that reserved privacy budget (epsilon > 0) pays the data
/// owner when it ends without a release through no fault of the owner
/// (cancelled, no result, or no majority after a dispute the owner did not
/// start with a rejection): a tenth of its price. Without it, a
/// griefer could hold a dataset's whole budget hostage for free, job after
/// job, and get every payment back. 0 for a job with no epsilon.
pub fn reservation_fee(epsilon: MilliEpsilon, price: Balance) -> Balance {
    if epsilon == 0 {
        0
    } else {
        price / DP_RESERVATION_DIVISOR
    }
}

/// [`reservation_fee`] is the price divided by this.
pub const DP_RESERVATION_DIVISOR: Balance = 10;

/// A registered worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "ink", ink::scale_derive(Encode, Decode, TypeInfo))]
#[cfg_attr(
    all(feature = "ink", feature = "std"),
    derive(ink::storage::traits::StorageLayout)
)]
pub struct WorkerInfo {
    /// Total stake held, locked part included.
    pub stake: Balance,
    /// Stake locked by open claims.
    pub locked: Balance,
    /// Claims whose stake is still locked.
    pub open_claims: u32,
}

impl WorkerInfo {
    /// Stake not locked by a claim.
    pub fn free(&self) -> Balance {
        self.stake.saturating_sub(self.locked)
    }
}

/// Contract-wide settings, changed only by the contract owner. Windows are in
/// milliseconds. A job copies its [`Terms`] at request, so a change applies
/// to new jobs only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "ink", ink::scale_derive(Encode, Decode, TypeInfo))]
#[cfg_attr(
    all(feature = "ink", feature = "std"),
    derive(ink::storage::traits::StorageLayout)
)]
pub struct Params {
    /// Paid to each worker whose result wins.
    pub worker_fee: Balance,
    /// Stake each claim locks; slashed for a missed deadline or a dissent.
    /// Positive.
    pub claim_stake: Balance,
    /// Shortest allowed time from request to the job's commit deadline,
    /// beyond the offer and reveal windows the draw may take.
    pub min_compute_window: Timestamp,
    /// Longest allowed time from request to the job's commit deadline.
    pub max_compute_window: Timestamp,
    /// Time for workers to offer for a round's slots (the draw takes every
    /// offer made within it, whenever it came).
    pub offer_window: Timestamp,
    /// Time to reveal once commitments close (and to reveal draw secrets).
    pub reveal_window: Timestamp,
    /// Time for challenges once round 0 agreed on a result.
    pub challenge_window: Timestamp,
    /// Time for the tie-break worker to compute and commit, once drawn.
    pub tiebreak_window: Timestamp,
    /// Time for the data owner to release once the result is agreed.
    pub release_window: Timestamp,
    /// Time between announcing a code upgrade and enacting it. `set_params`
    /// may raise it, never lower it.
    pub upgrade_delay: Timestamp,
}

impl Params {
    /// Checks the bounds: a positive claim stake, every window (and the
    /// upgrade delay) within [`MIN_WINDOW`]..=[`MAX_WINDOW`], and
    /// `min_compute_window <= max_compute_window`.
    pub fn validate(&self) -> Result<(), Error> {
        let windows = [
            self.min_compute_window,
            self.max_compute_window,
            self.offer_window,
            self.reveal_window,
            self.challenge_window,
            self.tiebreak_window,
            self.release_window,
            self.upgrade_delay,
        ];
        if self.claim_stake == 0
            || windows
                .iter()
                .any(|w| !(MIN_WINDOW..=MAX_WINDOW).contains(w))
            || self.min_compute_window > self.max_compute_window
        {
            return Err(Error::InvalidParams);
        }
        Ok(())
    }
}

/// The contract's money, by purpose. The contract's balance (above its
/// existential deposit) always equals `escrow + stakes + earnings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "ink", ink::scale_derive(Encode, Decode, TypeInfo))]
#[cfg_attr(
    all(feature = "ink", feature = "std"),
    derive(ink::storage::traits::StorageLayout)
)]
pub struct Totals {
    /// Held for jobs that have not ended.
    pub escrow: Balance,
    /// Worker stakes, locked or free.
    pub stakes: Balance,
    /// Credited but not yet withdrawn (pull payments).
    pub earnings: Balance,
}

/// A code upgrade announced by the contract owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "ink", ink::scale_derive(Encode, Decode, TypeInfo))]
#[cfg_attr(
    all(feature = "ink", feature = "std"),
    derive(ink::storage::traits::StorageLayout)
)]
pub struct PendingUpgrade {
    /// The code hash it will set.
    pub code_hash: Hash,
    /// The wall-clock time (`block_timestamp`) from which it may be enacted.
    pub enact_after: Timestamp,
}

/// The contract's global state, as the `state` query returns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "ink", ink::scale_derive(Encode, Decode, TypeInfo))]
pub struct MarketState {
    /// The contract owner (admin).
    pub owner: Account,
    /// The account `transfer_ownership` named, until it accepts.
    pub pending_owner: Option<Account>,
    /// The announced code upgrade, if any.
    pub pending_upgrade: Option<PendingUpgrade>,
    /// Whether new business is paused.
    pub paused: bool,
    /// The market clock (ms): the chain's time minus the time spent paused
    /// (at most [`MAX_PAUSE`] in all). Job deadlines are on this clock, so a
    /// pause extends every deadline by its length; it stands still while
    /// paused.
    pub clock: Timestamp,
    /// Current params (for new jobs).
    pub params: Params,
    /// Money held, by purpose.
    pub totals: Totals,
    /// Number of datasets (ids are `0..dataset_count`).
    pub dataset_count: DatasetId,
    /// Number of jobs (ids are `0..job_count`).
    pub job_count: JobId,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy {
            allowed_pipelines: PipelineSet::ALL,
            min_cohort: 5,
            replication: 2,
            dp_epsilon_budget: Some(3000),
        }
    }

    #[test]
    fn policy_validation_names_the_field() {
        assert_eq!(policy().validate(), Ok(()));
        let bad = |f: fn(&mut Policy)| {
            let mut p = policy();
            f(&mut p);
            p.validate()
        };
        assert_eq!(
            bad(|p| p.allowed_pipelines = PipelineSet::EMPTY),
            Err(Error::InvalidPipelineSet)
        );
        assert_eq!(bad(|p| p.min_cohort = 0), Err(Error::InvalidMinCohort));
        assert_eq!(bad(|p| p.replication = 0), Err(Error::InvalidReplication));
        assert_eq!(bad(|p| p.replication = 4), Err(Error::InvalidReplication));
    }

    #[test]
    fn escrow_is_price_plus_replicas_and_reserve() {
        assert_eq!(required_escrow(100, 7, 2, 1), Some(121));
        assert_eq!(required_escrow(100, 7, 1, 1), Some(114));
        assert_eq!(required_escrow(100, 7, 1, 0), Some(114), "0 shards: whole");
        assert_eq!(required_escrow(100, 7, 2, 4), Some(100 + 4 * 21));
        assert_eq!(required_escrow(Balance::MAX, 1, 1, 1), None);
        assert_eq!(required_escrow(0, Balance::MAX, 3, 1), None);
    }

    #[test]
    fn shards_split_the_submissions_in_order() {
        assert_eq!(ShardOf::count(10, 0), None, "0: whole");
        assert_eq!(ShardOf::count(10, 10), None, "one shard is the whole job");
        assert_eq!(ShardOf::count(10, 4), Some(3));
        assert_eq!(ShardOf::count(8, 4), Some(2));
        let ranges: Vec<(u64, u64)> = (0..3)
            .map(|i| ShardOf::nth(7, i, 10, 4))
            .map(|s| (s.first, s.end))
            .collect();
        assert_eq!(ranges, [(0, 4), (4, 8), (8, 10)]);
        assert_eq!(ShardOf::nth(7, 2, 10, 4).job, 7);
    }

    #[test]
    fn params_validation() {
        let params = Params {
            worker_fee: 1,
            claim_stake: 1,
            min_compute_window: 10_000,
            max_compute_window: 20_000,
            offer_window: MIN_WINDOW,
            reveal_window: MIN_WINDOW,
            challenge_window: MIN_WINDOW,
            tiebreak_window: MIN_WINDOW,
            release_window: MAX_WINDOW,
            upgrade_delay: MIN_WINDOW,
        };
        assert_eq!(params.validate(), Ok(()));
        let bad = |f: fn(&mut Params)| {
            let mut p = params;
            f(&mut p);
            p.validate()
        };
        assert_eq!(
            bad(|p| p.min_compute_window = 20_001),
            Err(Error::InvalidParams)
        );
        assert_eq!(bad(|p| p.release_window = 0), Err(Error::InvalidParams));
        assert_eq!(bad(|p| p.reveal_window = 1), Err(Error::InvalidParams));
        assert_eq!(
            bad(|p| p.reveal_window = MAX_WINDOW + 1),
            Err(Error::InvalidParams)
        );
        assert_eq!(
            bad(|p| p.upgrade_delay = u64::MAX),
            Err(Error::InvalidParams)
        );
        assert_eq!(bad(|p| p.claim_stake = 0), Err(Error::InvalidParams));
        assert_eq!(bad(|p| p.offer_window = 999), Err(Error::InvalidParams));
    }

    #[test]
    fn terms_scale_the_dispute_windows_with_the_compute_window() {
        let params = Params {
            worker_fee: 1,
            claim_stake: 2,
            min_compute_window: MIN_WINDOW,
            max_compute_window: MAX_WINDOW,
            offer_window: 2_000,
            reveal_window: 3_000,
            challenge_window: 4_000,
            tiebreak_window: 5_000,
            release_window: 6_000,
            upgrade_delay: MIN_WINDOW,
        };
        let short = Terms::freeze(&params, 1_000);
        assert_eq!(
            (short.challenge_window, short.tiebreak_window),
            (4_000, 5_000)
        );
        let day = 24 * 3_600_000;
        let long = Terms::freeze(&params, day);
        assert_eq!((long.challenge_window, long.tiebreak_window), (day, day));
        assert_eq!(
            (
                long.worker_fee,
                long.claim_stake,
                long.reveal_window,
                long.release_window
            ),
            (1, 2, 3_000, 6_000)
        );
    }

    #[test]
    fn job_status_terminal() {
        assert!(JobStatus::Finalized.is_terminal());
        assert!(JobStatus::Refunded.is_terminal());
        assert!(JobStatus::Cancelled.is_terminal());
        assert!(!JobStatus::Released.is_terminal());
        assert!(!JobStatus::Open.is_terminal());
    }
}
