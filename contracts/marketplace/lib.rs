#![cfg_attr(not(feature = "std"), no_std, no_main)]
// ink! messages take their arguments flat, and `request` has eight (the
// code ink! generates for it too), so the lint is off for the crate.
#![allow(clippy::too_many_arguments)]
//! # Blindfold marketplace contract (ink! 5.1.1)
//!
//! Escrows payment for homomorphic computation jobs on private datasets and
//! records the hashes that bind each job to its inputs and result. The types,
//! errors, events, selectors and hash layouts live in `blindfold-protocol`,
//! shared with the off-chain crates.
//!
//! ## Lifecycle
//! 1. A data owner `register_dataset`s (metadata hash, server-key hash, price,
//!    policy), `add_submissions` in batches (a running digest binds submissions
//!    `0..n`), and may `revoke_submission` (later jobs exclude it).
//! 2. Workers `stake` (payable). Each claim locks `claim_stake` of it.
//! 3. A researcher `request`s a job, paying at least
//!    `price + worker_fee × (replication + 1)`, and names the price,
//!    replication and input digest it expects (a changed dataset refuses the
//!    request). The job snapshots the dataset's input digest and freezes its
//!    [`Terms`](blindfold_protocol::Terms): fee, stake and every window, so
//!    `set_params` never changes a running job. Its epsilon is charged to the
//!    dataset's privacy budget.
//! 4. `Open`: for the offer window, staked workers `offer` for the
//!    `replication` slots, each with a bond (the claim stake) and a sealed
//!    draw secret. When the window closes, every offerer is drawn if they
//!    fit; otherwise (`Drawing`) the offerers `reveal_seed` and the slots are
//!    drawn by stake from a seed that folds in every secret
//!    (`blindfold_protocol::draw`), so racing wins nothing and k accounts
//!    win no more than their stake. Undrawn bonds return; an offerer that
//!    withholds its secret is slashed. Nobody offered: the window reopens
//!    while a round still fits before the commit deadline.
//!    `Computing`: the drawn claimants `commit` a sealed commitment
//!    `seal(commitment, worker)` before the job's commit deadline.
//! 5. `Revealing`: each reveals its result blob hash; the contract recomputes
//!    the commitment from the job's own fields and checks the seal.
//! 6. Agreement (all `replication` results equal, or the one result) opens
//!    the `Challenge` window, at every replication factor: any staked
//!    account may `challenge` with a sealed, bonded conflicting result
//!    (several may), revealed once the window closes, and the data owner may
//!    `reject` it (bonded, in the clear). Unchallenged, it is `Computed`.
//!    Otherwise (mismatch or missing results) it is `Disputed`: a round opens
//!    one more slot, drawn among fresh offerers like the first; the drawn
//!    tie-break worker commits and reveals.
//!    A strict majority (more than half, at least two) of the live results,
//!    or, once a revealed challenge or a rejection made round 0's replicas a
//!    party, of the jury (the fresh replicas drawn since) wins, and every
//!    dissenter is slashed. Without one, another round opens, up to
//!    `MAX_DISPUTE_ROUNDS`; only then is the researcher refunded. The
//!    challenge and tie-break windows are at least the job's compute window.
//! 7. The data owner `release`s (posts the released-result hash) and anyone
//!    `finalize`s: the owner gets the price, each winning worker the fee, stakes
//!    unlock, and the rest of the escrow goes back to the researcher.
//! 8. Deadlines: anyone may `advance` a job whose current deadline passed.
//!    Missing workers are slashed; a job with no result, no majority, a cohort
//!    below the minimum, or no release in time refunds the researcher.
//!    `cancel` refunds a job nobody offered for.
//!
//! ## Shards
//! `request` with a shard size splits the job into shards (at most
//! `MAX_SHARDS`): jobs of their own, with the next ids, each over a
//! contiguous range of the submissions that its input digest binds
//! (`hash::shard_input_digest_with`), holding one shard's fees. Each plays
//! steps 4-6 alone; the job waits `Sharded`, holding the price and the
//! epsilon. When the last shard agrees the job is `Computed`, its commitment
//! the fold of the shards' (`hash::shards_step_with`), and it releases once
//! (7); a shard is paid by `finalize` once its job released or ended. A
//! shard without a result refunds the job; the owner's rejection of an
//! agreed shard makes the job wait for it again. `docs/shards.md` has the
//! state diagram.
//!
//! ## Money
//! Pull payments: every payout is credited to `earnings` and leaves with
//! `withdraw`; only `withdraw` and `withdraw_stake` transfer. The contract's
//! balance always equals open escrow + stakes + unpaid earnings ([`Totals`]).
//! A slashed stake stays in its job's escrow and pays the honest side when
//! the job ends: the claims that revealed the agreed result share it, or the
//! researcher takes it when no result was agreed. The admin never gets it.
//! Arithmetic is checked.
//!
//! ## Admin
//! The contract owner sets params for new jobs (within bounds; the upgrade
//! delay only rises), pauses (no new datasets, stakes, jobs, offers,
//! challenges or rejections; everything that settles or withdraws still works, and the
//! market clock stops, so every running job's deadlines move by the length
//! of the pause), upgrades the code in two steps (`announce_upgrade`, then
//! `enact_upgrade` once `upgrade_delay` has passed) and hands ownership over
//! in two steps (`transfer_ownership`, then `accept_ownership`).

#[ink::contract]
mod marketplace {
    use blindfold_protocol::events::{
        ChallengeOpened, Challenged, CodeHashSet, Committed, DatasetDeactivated, DatasetRegistered,
        DatasetUpdated, DrawOpened, Drawn, JobCancelled, JobClaimed, JobComputed, JobDisputed,
        JobFinalized, JobRefunded, JobRequested, Offered, OwnershipProposed, OwnershipTransferred,
        ParamsSet, PausedSet, Rejected, ResultReleased, RevealOpened, Revealed, StakeWithdrawn,
        Staked, SubmissionRevoked, SubmissionsAdded, UpgradeAnnounced, UpgradeCancelled, Withdrawn,
        WorkerSlashed,
    };
    use blindfold_protocol::hash::{self, Sha256};
    use blindfold_protocol::{
        draw, required_escrow, reservation_fee, shard_escrow, Account, Claim, ClaimKind, DatasetId,
        DatasetInfo, Error, Expected, JobId, JobInfo, JobStatus, MarketState, MilliEpsilon, Offer,
        Params, PendingUpgrade, PipelineId, Policy, RefundReason, ShardOf, SlashReason, StakeState,
        Terms, Totals, WorkerInfo, MAX_BATCH, MAX_DISPUTE_ROUNDS, MAX_OFFERS, MAX_PAUSE,
        MAX_SHARDS,
    };
    use ink::prelude::vec::Vec;
    use ink::storage::Mapping;

    /// A SHA-256 digest (`blindfold_protocol::Hash`; ink!'s `Hash` is another type).
    pub type Digest = [u8; 32];
    /// Every message returns this.
    pub type Result<T> = core::result::Result<T, Error>;

    /// SHA-256 by the chain's `hash_sha2_256` host function: the same digest as
    /// the `sha2` crate off chain, without its code in the wasm.
    #[derive(Debug)]
    pub enum ChainSha256 {}

    impl Sha256 for ChainSha256 {
        fn sha256(data: &[u8]) -> Digest {
            let mut out = [0u8; 32];
            ink::env::hash_bytes::<ink::env::hash::Sha2x256>(data, &mut out);
            out
        }
    }

    // ---------------------------------------------------------------- storage

    /// The marketplace.
    #[ink(storage)]
    pub struct Marketplace {
        /// Admin: params, pause, code upgrade.
        owner: AccountId,
        /// The proposed owner, until it accepts.
        pending_owner: Option<AccountId>,
        /// The announced code upgrade.
        pending_upgrade: Option<PendingUpgrade>,
        /// Whether new business is refused (and the market clock stopped).
        paused: bool,
        /// When the current pause began (chain time), while `paused`.
        paused_at: Timestamp,
        /// How far finished pauses hold the market clock back (at most
        /// `MAX_PAUSE`): see `clock`.
        paused_total: Timestamp,
        /// Fees, stakes and windows for new jobs.
        params: Params,
        /// Money by purpose; sums to the contract's balance.
        totals: Totals,
        /// Next dataset id.
        dataset_count: DatasetId,
        /// Next job id.
        job_count: JobId,
        /// Datasets by id.
        datasets: Mapping<DatasetId, DatasetInfo>,
        /// Revoked submissions, by (dataset, index).
        revoked: Mapping<(DatasetId, u64), ()>,
        /// Jobs by id.
        jobs: Mapping<JobId, JobInfo>,
        /// Workers by account.
        workers: Mapping<AccountId, WorkerInfo>,
        /// Credited, not yet withdrawn, by account.
        earnings: Mapping<AccountId, Balance>,
    }

    // ----------------------------------------------------------------- events
    // Defined once in `blindfold_protocol::events` (imported above) and emitted
    // from here, so off-chain code decodes the same types.

    // ----------------------------------------------------------------- errors
    // `blindfold_protocol::Error` (imported above): one enum for every message.

    fn acct(account: AccountId) -> Account {
        *account.as_ref()
    }

    fn plus(a: Balance, b: Balance) -> Result<Balance> {
        a.checked_add(b).ok_or(Error::Overflow)
    }

    fn minus(a: Balance, b: Balance) -> Result<Balance> {
        a.checked_sub(b).ok_or(Error::Overflow)
    }

    fn later(now: Timestamp, window: Timestamp) -> Result<Timestamp> {
        now.checked_add(window).ok_or(Error::Overflow)
    }

    fn minus_time(a: Timestamp, b: Timestamp) -> Result<Timestamp> {
        a.checked_sub(b).ok_or(Error::Overflow)
    }

    /// Whether every claim of the current round committed (the draw is
    /// over, so no claim can join it).
    fn all_committed(job: &JobInfo) -> bool {
        job.claims
            .iter()
            .filter(|c| c.round == job.round)
            .all(|c| c.sealed.is_some())
    }

    /// Whether a locked claim of the current round committed but has not revealed.
    fn reveal_pending(job: &JobInfo) -> bool {
        job.claims.iter().any(|c| {
            c.round == job.round
                && c.stake == StakeState::Locked
                && c.sealed.is_some()
                && c.result_blob_hash.is_none()
        })
    }

    /// Results of the claims still in the running (stake locked).
    fn live_results(job: &JobInfo) -> Vec<Digest> {
        job.claims
            .iter()
            .filter(|c| c.stake == StakeState::Locked)
            .filter_map(|c| c.result_blob_hash)
            .collect()
    }

    /// The result under challenge: round 0's, set while `Challenge` and
    /// while its challengers reveal, before it is agreed (no commitment).
    fn under_challenge(job: &JobInfo) -> Option<Digest> {
        match job.commitment {
            None => job.result_blob_hash,
            Some(_) => None,
        }
    }

    /// The result that more than half of `results` name, with at least two
    /// votes, if any.
    fn majority(results: &[Digest]) -> Option<Digest> {
        results.iter().copied().find(|r| {
            let votes = results.iter().filter(|x| *x == r).count();
            votes >= 2 && votes.saturating_mul(2) > results.len()
        })
    }

    impl Marketplace {
        // ------------------------------------------------------------ constructor

        /// Creates the marketplace; the caller becomes its owner.
        #[ink(constructor, selector = 0xB1D00000)]
        pub fn new(params: Params) -> Result<Self> {
            params.validate()?;
            Ok(Self {
                owner: Self::env().caller(),
                pending_owner: None,
                pending_upgrade: None,
                paused: false,
                paused_at: 0,
                paused_total: 0,
                params,
                totals: Totals::default(),
                dataset_count: 0,
                job_count: 0,
                datasets: Mapping::default(),
                revoked: Mapping::default(),
                jobs: Mapping::default(),
                workers: Mapping::default(),
                earnings: Mapping::default(),
            })
        }

        // --------------------------------------------------------------- datasets

        /// Registers a dataset owned by the caller; returns its id.
        #[ink(message, selector = 0xB1D00101)]
        pub fn register_dataset(
            &mut self,
            metadata_hash: Digest,
            server_key_hash: Digest,
            price: Balance,
            policy: Policy,
        ) -> Result<DatasetId> {
            self.ensure_live()?;
            policy.validate()?;
            let dataset_id = self.dataset_count;
            self.dataset_count = dataset_id.checked_add(1).ok_or(Error::Overflow)?;
            let owner = acct(self.env().caller());
            self.datasets.insert(
                dataset_id,
                &DatasetInfo {
                    owner,
                    metadata_hash,
                    server_key_hash,
                    price,
                    policy,
                    active: true,
                    registered_at: self.env().block_timestamp(),
                    submission_count: 0,
                    submissions_digest: hash::EMPTY_DIGEST,
                    revocation_count: 0,
                    revocations_digest: hash::EMPTY_DIGEST,
                    epsilon_spent: 0,
                },
            );
            self.env().emit_event(DatasetRegistered {
                dataset_id,
                owner,
                metadata_hash,
                server_key_hash,
                price,
                policy,
            });
            Ok(dataset_id)
        }

        /// Dataset owner: sets a new price and policy (open jobs keep theirs,
        /// except that `release` checks the current `min_cohort`).
        #[ink(message, selector = 0xB1D00102)]
        pub fn update_dataset(
            &mut self,
            dataset_id: DatasetId,
            price: Balance,
            policy: Policy,
        ) -> Result<()> {
            let mut dataset = self.owned_dataset(dataset_id)?;
            policy.validate()?;
            dataset.price = price;
            dataset.policy = policy;
            self.save_dataset(dataset_id, &dataset);
            self.env().emit_event(DatasetUpdated {
                dataset_id,
                price,
                policy,
            });
            Ok(())
        }

        /// Dataset owner: stops new submissions and jobs. Open jobs go on.
        #[ink(message, selector = 0xB1D00103)]
        pub fn deactivate_dataset(&mut self, dataset_id: DatasetId) -> Result<()> {
            let mut dataset = self.owned_dataset(dataset_id)?;
            if !dataset.active {
                return Err(Error::DatasetInactive);
            }
            dataset.active = false;
            self.save_dataset(dataset_id, &dataset);
            self.env().emit_event(DatasetDeactivated { dataset_id });
            Ok(())
        }

        /// Dataset owner: appends submissions (ciphertext blob hashes) and folds
        /// them into the running digest. Returns the new submission count.
        #[ink(message, selector = 0xB1D00104)]
        pub fn add_submissions(
            &mut self,
            dataset_id: DatasetId,
            blob_hashes: Vec<Digest>,
        ) -> Result<u64> {
            let mut dataset = self.owned_dataset(dataset_id)?;
            if !dataset.active {
                return Err(Error::DatasetInactive);
            }
            if blob_hashes.is_empty() {
                return Err(Error::EmptyBatch);
            }
            if blob_hashes.len() > MAX_BATCH as usize {
                return Err(Error::BatchTooLarge);
            }
            let first_index = dataset.submission_count;
            for blob in &blob_hashes {
                dataset.submissions_digest = hash::submissions_step_with::<ChainSha256>(
                    &dataset.submissions_digest,
                    dataset.submission_count,
                    blob,
                );
                dataset.submission_count = dataset
                    .submission_count
                    .checked_add(1)
                    .ok_or(Error::Overflow)?;
            }
            let count = dataset.submission_count;
            let digest = dataset.submissions_digest;
            self.save_dataset(dataset_id, &dataset);
            self.env().emit_event(SubmissionsAdded {
                dataset_id,
                first_index,
                blob_hashes,
                count,
                digest,
            });
            Ok(count)
        }

        /// Dataset owner: revokes submission `index` (withdrawn consent). Jobs
        /// requested afterwards exclude it. Allowed on deactivated datasets.
        #[ink(message, selector = 0xB1D00105)]
        pub fn revoke_submission(&mut self, dataset_id: DatasetId, index: u64) -> Result<()> {
            let mut dataset = self.owned_dataset(dataset_id)?;
            if index >= dataset.submission_count {
                return Err(Error::SubmissionNotFound);
            }
            if self.revoked.contains((dataset_id, index)) {
                return Err(Error::AlreadyRevoked);
            }
            dataset.revocations_digest =
                hash::revocations_step_with::<ChainSha256>(&dataset.revocations_digest, index);
            dataset.revocation_count = dataset
                .revocation_count
                .checked_add(1)
                .ok_or(Error::Overflow)?;
            self.revoked.insert((dataset_id, index), &());
            self.save_dataset(dataset_id, &dataset);
            self.env().emit_event(SubmissionRevoked {
                dataset_id,
                index,
                count: dataset.revocation_count,
                digest: dataset.revocations_digest,
            });
            Ok(())
        }

        // ---------------------------------------------------------------- workers

        /// Adds the transferred value to the caller's stake (registering it as a
        /// worker). Returns the total stake.
        #[ink(message, payable, selector = 0xB1D00201)]
        pub fn stake(&mut self) -> Result<Balance> {
            self.ensure_live()?;
            let amount = self.env().transferred_value();
            if amount == 0 {
                return Err(Error::ZeroValue);
            }
            let worker_id = self.env().caller();
            let mut worker = self.worker_info(worker_id).unwrap_or_default();
            worker.stake = plus(worker.stake, amount)?;
            self.totals.stakes = plus(self.totals.stakes, amount)?;
            self.workers.insert(worker_id, &worker);
            self.env().emit_event(Staked {
                worker: acct(worker_id),
                amount,
                stake: worker.stake,
            });
            Ok(worker.stake)
        }

        /// Transfers `amount` of the caller's stake back to it. Only with no
        /// open claim; a worker with no stake left is unregistered.
        #[ink(message, selector = 0xB1D00202)]
        pub fn withdraw_stake(&mut self, amount: Balance) -> Result<()> {
            let worker_id = self.env().caller();
            let mut worker = self.worker_info(worker_id).ok_or(Error::NotWorker)?;
            if worker.open_claims > 0 {
                return Err(Error::OpenClaims);
            }
            if amount == 0 || amount > worker.stake {
                return Err(Error::InvalidAmount);
            }
            worker.stake = minus(worker.stake, amount)?;
            self.totals.stakes = minus(self.totals.stakes, amount)?;
            self.store_worker(worker_id, &worker);
            self.env()
                .transfer(worker_id, amount)
                .map_err(|_| Error::TransferFailed)?;
            self.env().emit_event(StakeWithdrawn {
                worker: acct(worker_id),
                amount,
                stake: worker.stake,
            });
            Ok(())
        }

        // ------------------------------------------------------------------- jobs

        /// Requests a job on `dataset_id`, escrowing the transferred value, which
        /// must cover `price + shards × worker_fee × (replication + 1)`.
        /// `deadline` is the commit deadline (chain time). `expected` is what
        /// the researcher saw: a dataset whose price, replication or inputs
        /// differ refuses the request. `shard_size` > 0 splits the job into
        /// shards of that many submissions (jobs `id + 1 ..`, at most
        /// `MAX_SHARDS`); 0 (or at least the submission count) computes it
        /// whole. Returns the job id.
        #[ink(message, payable, selector = 0xB1D00301)]
        pub fn request(
            &mut self,
            dataset_id: DatasetId,
            pipeline: PipelineId,
            params_hash: Digest,
            epsilon: MilliEpsilon,
            deadline: Timestamp,
            expected: Expected,
            shard_size: u64,
        ) -> Result<JobId> {
            self.ensure_live()?;
            let mut dataset = self.dataset_info(dataset_id)?;
            if !dataset.active {
                return Err(Error::DatasetInactive);
            }
            let policy = dataset.policy;
            if dataset.price != expected.price {
                return Err(Error::PriceChanged);
            }
            if policy.replication != expected.replication {
                return Err(Error::ReplicationChanged);
            }
            let input_digest = dataset.input_digest_with::<ChainSha256>(dataset_id);
            if input_digest != expected.input_digest {
                return Err(Error::InputsChanged);
            }
            if !policy.allowed_pipelines.contains(pipeline) {
                return Err(Error::PipelineNotAllowed);
            }
            if dataset.cohort() < u64::from(policy.min_cohort) {
                return Err(Error::CohortTooSmall);
            }
            let now = self.clock();
            let wall = self.env().block_timestamp();
            let deadline = deadline.saturating_sub(self.clock_lag(wall));
            // The offer window and a draw's reveal window come out of the
            // compute window: what is left must still be the minimum.
            let draw_time = later(self.params.offer_window, self.params.reveal_window)?;
            if deadline < later(later(now, draw_time)?, self.params.min_compute_window)? {
                return Err(Error::DeadlineTooSoon);
            }
            if deadline > later(now, self.params.max_compute_window)? {
                return Err(Error::DeadlineTooFar);
            }
            let shards = match ShardOf::count(dataset.submission_count, shard_size) {
                None => 0,
                Some(n) => u32::try_from(n)
                    .ok()
                    .filter(|n| *n <= MAX_SHARDS)
                    .ok_or(Error::TooManyShards)?,
            };
            let escrow = self.env().transferred_value();
            let needed = required_escrow(
                dataset.price,
                self.params.worker_fee,
                policy.replication,
                shards,
            )
            .ok_or(Error::Overflow)?;
            if escrow < needed {
                return Err(Error::InsufficientEscrow);
            }
            let spent = dataset
                .epsilon_spent
                .checked_add(epsilon)
                .ok_or(Error::Overflow)?;
            if let Some(budget) = policy.dp_epsilon_budget {
                if epsilon == 0 {
                    return Err(Error::EpsilonRequired);
                }
                if spent > budget {
                    return Err(Error::EpsilonBudgetExhausted);
                }
            }
            let job_id = self.job_count;
            self.job_count = job_id
                .checked_add(u64::from(shards))
                .and_then(|id| id.checked_add(1))
                .ok_or(Error::Overflow)?;
            self.totals.escrow = plus(self.totals.escrow, escrow)?;
            dataset.epsilon_spent = spent;
            let terms = Terms::freeze(&self.params, minus_time(deadline, now)?);
            let researcher = acct(self.env().caller());
            let mut job = JobInfo {
                dataset_id,
                researcher,
                pipeline,
                params_hash,
                input_digest,
                server_key_hash: dataset.server_key_hash,
                submission_count: dataset.submission_count,
                revocation_count: dataset.revocation_count,
                epsilon,
                price: dataset.price,
                terms,
                escrow,
                slashed: 0,
                replication: policy.replication,
                slots: policy.replication,
                offers: Vec::new(),
                challenged: None,
                jury_from: 0,
                commit_deadline: deadline,
                round: 0,
                status: JobStatus::Open,
                requested_at: now,
                deadline: later(now, terms.offer_window)?,
                claims: Vec::new(),
                result_blob_hash: None,
                commitment: None,
                released_hash: None,
                shard: None,
                shards,
                shards_computed: 0,
            };
            // A sharded job keeps the price; each shard holds its fees.
            let each = shard_escrow(terms.worker_fee, policy.replication).ok_or(Error::Overflow)?;
            let fees = each
                .checked_mul(Balance::from(shards))
                .ok_or(Error::Overflow)?;
            job.escrow = minus(job.escrow, fees)?;
            self.save_dataset(dataset_id, &dataset);
            self.env().emit_event(JobRequested {
                job_id,
                dataset_id,
                researcher,
                pipeline,
                params_hash,
                input_digest,
                epsilon,
                escrow: job.escrow,
                deadline,
            });
            if shards > 0 {
                self.open_shards(job_id, &mut job, shard_size, each)?;
            }
            self.save_job(job_id, &job);
            Ok(job_id)
        }

        /// Researcher: cancels a job nobody has claimed; the escrow is credited
        /// back, less the reservation fee for any epsilon, which returns to
        /// the dataset budget.
        #[ink(message, selector = 0xB1D00302)]
        pub fn cancel(&mut self, job_id: JobId) -> Result<()> {
            let mut job = self.job_info(job_id)?;
            if job.researcher != acct(self.env().caller()) {
                return Err(Error::NotResearcher);
            }
            if job.shard.is_some() {
                return Err(Error::IsShard);
            }
            let waiting = if job.is_sharded() {
                JobStatus::Sharded
            } else {
                JobStatus::Open
            };
            if job.status != waiting {
                return Err(Error::WrongStatus);
            }
            if !job.claims.is_empty() || !job.offers.is_empty() {
                return Err(Error::JobClaimed);
            }
            // A sharded job cancels whole, while no shard has an offer.
            for shard_id in Self::shard_ids(job_id, &job)? {
                let shard = self.job_info(shard_id)?;
                if shard.status != JobStatus::Open
                    || !shard.claims.is_empty()
                    || !shard.offers.is_empty()
                {
                    return Err(Error::JobClaimed);
                }
            }
            for shard_id in Self::shard_ids(job_id, &job)? {
                let mut shard = self.job_info(shard_id)?;
                let (_, refund) = self.settle(shard_id, &mut shard, 0, false)?;
                shard.status = JobStatus::Cancelled;
                self.save_job(shard_id, &shard);
                self.env().emit_event(JobCancelled {
                    job_id: shard_id,
                    refund,
                    owner_paid: 0,
                });
            }
            let owner_paid = reservation_fee(job.epsilon, job.price);
            let (_, refund) = self.settle(job_id, &mut job, owner_paid, false)?;
            self.return_epsilon(&job)?;
            job.status = JobStatus::Cancelled;
            self.save_job(job_id, &job);
            self.env().emit_event(JobCancelled {
                job_id,
                refund,
                owner_paid,
            });
            Ok(())
        }

        /// Worker: offers for a slot of the current round of an `Open` or
        /// `Disputed` job, within its offer window, locking `claim_stake` of
        /// its free stake as a bond. `seed_hash` is
        /// `hash::offer_seed(job_id, round, caller, secret)` for a secret the
        /// worker keeps until a draw asks for it. Every offer in the window
        /// weighs the same per unit of stake, whenever it came.
        #[ink(message, selector = 0xB1D00303)]
        pub fn offer(&mut self, job_id: JobId, seed_hash: Digest) -> Result<()> {
            self.ensure_live()?;
            let worker_id = self.env().caller();
            let mut worker = self.worker_info(worker_id).ok_or(Error::NotWorker)?;
            let mut job = self.job_info(job_id)?;
            if !matches!(job.status, JobStatus::Open | JobStatus::Disputed) {
                return Err(Error::WrongStatus);
            }
            if self.clock() >= job.deadline {
                return Err(Error::DeadlinePassed);
            }
            let account = acct(worker_id);
            if job.claim_of(&account).is_some() {
                return Err(Error::AlreadyClaimed);
            }
            if job.offer_of(&account).is_some() {
                return Err(Error::AlreadyOffered);
            }
            if worker.free() < job.terms.claim_stake {
                return Err(Error::InsufficientStake);
            }
            if job.offers.len() >= usize::from(MAX_OFFERS) {
                // A full list takes a heavier offer in place of the lightest
                // (whose bond returns), so cheap accounts that came first
                // cannot crowd out stake.
                let lightest = job
                    .offers
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, o)| o.weight)
                    .map(|(i, o)| (i, o.weight));
                match lightest {
                    Some((i, weight)) if worker.stake > weight => {
                        let out = job.offers.remove(i);
                        self.unlock(job_id, &mut job, out.worker, None)?;
                    }
                    _ => return Err(Error::TooManyOffers),
                }
            }
            worker.locked = plus(worker.locked, job.terms.claim_stake)?;
            worker.open_claims = worker.open_claims.checked_add(1).ok_or(Error::Overflow)?;
            job.offers.push(Offer {
                worker: account,
                weight: worker.stake,
                seed_hash,
                secret: None,
            });
            self.workers.insert(worker_id, &worker);
            self.save_job(job_id, &job);
            self.env().emit_event(Offered {
                job_id,
                worker: account,
                round: job.round,
                weight: worker.stake,
                deadline: job.deadline,
            });
            Ok(())
        }

        /// Offerer, while `Drawing`: reveals the secret its seed hash sealed.
        /// The last secret draws the slots at once.
        #[ink(message, selector = 0xB1D0030A)]
        pub fn reveal_seed(&mut self, job_id: JobId, secret: Digest) -> Result<()> {
            let mut job = self.job_info(job_id)?;
            if job.status != JobStatus::Drawing {
                return Err(Error::WrongStatus);
            }
            let now = self.clock();
            if now >= job.deadline {
                return Err(Error::DeadlinePassed);
            }
            let account = acct(self.env().caller());
            let expected =
                hash::offer_seed_with::<ChainSha256>(job_id, job.round, &account, &secret);
            let offer = job
                .offers
                .iter_mut()
                .find(|o| o.worker == account && o.secret.is_none())
                .ok_or(Error::NotOfferer)?;
            if offer.seed_hash != expected {
                return Err(Error::SeedMismatch);
            }
            offer.secret = Some(secret);
            if job.offers.iter().all(|o| o.secret.is_some()) {
                self.close_draw(job_id, &mut job, now)?;
            }
            self.save_job(job_id, &job);
            Ok(())
        }

        /// Drawn claimant, while `Computing`: posts `sealed = seal(commitment,
        /// caller)`. When every claim of the round committed, the reveal
        /// phase opens at once.
        #[ink(message, selector = 0xB1D00304)]
        pub fn commit(&mut self, job_id: JobId, sealed: Digest) -> Result<()> {
            let mut job = self.job_info(job_id)?;
            if job.status != JobStatus::Computing {
                return Err(Error::WrongStatus);
            }
            let now = self.clock();
            if now >= job.deadline {
                return Err(Error::DeadlinePassed);
            }
            let worker = acct(self.env().caller());
            let round = job.round;
            let claim = job
                .claims
                .iter_mut()
                .find(|c| c.worker == worker && c.round == round)
                .ok_or(Error::NotClaimant)?;
            if claim.sealed.is_some() {
                return Err(Error::AlreadyCommitted);
            }
            claim.sealed = Some(sealed);
            self.env().emit_event(Committed {
                job_id,
                worker,
                sealed,
            });
            if all_committed(&job) {
                self.close_commits(job_id, &mut job, now)?;
            }
            self.save_job(job_id, &job);
            Ok(())
        }

        /// Claimant: reveals its result blob hash. The contract recomputes the
        /// commitment from the job's fields and checks `seal(commitment, caller)`.
        /// The last reveal of the round tallies the results.
        #[ink(message, selector = 0xB1D00305)]
        pub fn reveal(&mut self, job_id: JobId, result_blob_hash: Digest) -> Result<()> {
            let mut job = self.job_info(job_id)?;
            if job.status != JobStatus::Revealing {
                return Err(Error::WrongStatus);
            }
            let now = self.clock();
            if now >= job.deadline {
                return Err(Error::DeadlinePassed);
            }
            let worker = acct(self.env().caller());
            let commitment = Self::commitment_of(&job, job_id, &result_blob_hash);
            let round = job.round;
            let challenged = job.challenged;
            let claim = job
                .claims
                .iter_mut()
                .find(|c| c.worker == worker && c.round == round && c.stake == StakeState::Locked)
                .ok_or(Error::NotClaimant)?;
            // A challenger copying the public result to farm the losers'
            // stakes (or to vote with it) cannot open its seal.
            if claim.kind == ClaimKind::Challenger && challenged == Some(result_blob_hash) {
                return Err(Error::NotConflicting);
            }
            if claim.result_blob_hash.is_some() {
                return Err(Error::AlreadyRevealed);
            }
            // Every locked claim of the round committed: close_commits slashed the rest.
            let sealed = claim.sealed.ok_or(Error::NotClaimant)?;
            if hash::seal_with::<ChainSha256>(&commitment, &worker) != sealed {
                return Err(Error::SealMismatch);
            }
            claim.result_blob_hash = Some(result_blob_hash);
            self.env().emit_event(Revealed {
                job_id,
                worker,
                result_blob_hash,
                commitment,
            });
            if !reveal_pending(&job) {
                self.close_reveals(job_id, &mut job, now)?;
            }
            self.save_job(job_id, &job);
            Ok(())
        }

        /// A staked account that has not claimed the job, while `Challenge`:
        /// posts `sealed = seal(commitment, caller)` of a result that
        /// conflicts with the one under challenge, locking its claim stake
        /// as a bond. Several may challenge (up to `MAX_OFFERS`), and none
        /// sees another's result, so a challenge can be neither copied nor
        /// squatted. Challengers reveal once the window closes; a result
        /// equal to the one under challenge is refused, so a lazy
        /// challenger loses its bond. A revealed conflict sends the job to
        /// fresh blind replicas; a challenger on the losing side is slashed.
        #[ink(message, selector = 0xB1D00306)]
        pub fn challenge(&mut self, job_id: JobId, sealed: Digest) -> Result<()> {
            self.ensure_live()?;
            let worker_id = self.env().caller();
            let mut worker = self.worker_info(worker_id).ok_or(Error::NotWorker)?;
            let mut job = self.job_info(job_id)?;
            if job.status != JobStatus::Challenge {
                return Err(Error::WrongStatus);
            }
            if self.clock() >= job.deadline {
                return Err(Error::DeadlinePassed);
            }
            let account = acct(worker_id);
            if job.claim_of(&account).is_some() {
                return Err(Error::AlreadyClaimed);
            }
            let round = job.round.checked_add(1).ok_or(Error::Overflow)?;
            let challengers = job.claims.iter().filter(|c| c.round == round).count();
            if challengers >= usize::from(MAX_OFFERS) {
                return Err(Error::TooManyOffers);
            }
            if worker.free() < job.terms.claim_stake {
                return Err(Error::InsufficientStake);
            }
            worker.locked = plus(worker.locked, job.terms.claim_stake)?;
            worker.open_claims = worker.open_claims.checked_add(1).ok_or(Error::Overflow)?;
            job.claims.push(Claim {
                worker: account,
                round,
                sealed: Some(sealed),
                result_blob_hash: None,
                stake: StakeState::Locked,
                kind: ClaimKind::Challenger,
            });
            self.workers.insert(worker_id, &worker);
            self.save_job(job_id, &job);
            self.env().emit_event(Challenged {
                job_id,
                worker: account,
                sealed,
            });
            Ok(())
        }

        /// The dataset owner, while `Challenge` or against an agreed
        /// (`Computed`) result before its release while the two dispute
        /// rounds a jury needs remain: rejects the result (it did not verify before decrypt)
        /// with the correct one, in the clear (only the owner can reject, so
        /// nobody can squat it), bonded by its claim stake. The result is
        /// set aside and fresh blind replicas decide; whoever loses is
        /// slashed, the owner included.
        #[ink(message, selector = 0xB1D0030B)]
        pub fn reject(&mut self, job_id: JobId, result_blob_hash: Digest) -> Result<()> {
            self.ensure_live()?;
            let worker_id = self.env().caller();
            let mut worker = self.worker_info(worker_id).ok_or(Error::NotWorker)?;
            let mut job = self.job_info(job_id)?;
            let account = acct(worker_id);
            if self.dataset_info(job.dataset_id)?.owner != account {
                return Err(Error::NotDatasetOwner);
            }
            // A jury needs two rounds to reach a majority: a rejection that
            // could not be decided would turn an agreed result into a refund.
            let open = job.status == JobStatus::Challenge
                || (job.status == JobStatus::Computed
                    && job.round.saturating_add(2) <= MAX_DISPUTE_ROUNDS);
            if !open {
                return Err(Error::WrongStatus);
            }
            let now = self.clock();
            if now >= job.deadline {
                return Err(Error::DeadlinePassed);
            }
            if job.claim_of(&account).is_some() {
                return Err(Error::AlreadyClaimed);
            }
            if live_results(&job).contains(&result_blob_hash) {
                return Err(Error::NotConflicting);
            }
            if let (Some(place), JobStatus::Computed) = (job.shard, job.status) {
                // An agreed shard is open to the owner's rejection until its
                // job releases (or its release window passes).
                self.shard_reopened(place.job, now)?;
            }
            if worker.free() < job.terms.claim_stake {
                return Err(Error::InsufficientStake);
            }
            worker.locked = plus(worker.locked, job.terms.claim_stake)?;
            worker.open_claims = worker.open_claims.checked_add(1).ok_or(Error::Overflow)?;
            let commitment = Self::commitment_of(&job, job_id, &result_blob_hash);
            job.claims.push(Claim {
                worker: account,
                round: job.round.checked_add(1).ok_or(Error::Overflow)?,
                sealed: Some(hash::seal_with::<ChainSha256>(&commitment, &account)),
                result_blob_hash: Some(result_blob_hash),
                stake: StakeState::Locked,
                kind: ClaimKind::Owner,
            });
            self.workers.insert(worker_id, &worker);
            self.env().emit_event(Rejected {
                job_id,
                owner: account,
                result_blob_hash,
                commitment,
            });
            // The result stands no more: a jury of fresh blind replicas
            // decides, from the round that opens now.
            job.result_blob_hash = None;
            job.commitment = None;
            self.open_tiebreak(job_id, &mut job, now)?;
            job.jury_from = job.round;
            self.save_job(job_id, &job);
            Ok(())
        }

        /// Anyone: applies the transition due when the current deadline has
        /// passed, and returns the new status:
        /// - `Open`/`Disputed`: the offer window closes: the offerers are
        ///   drawn (or asked for their secrets), or, with no offer, the
        ///   window reopens while a round still fits;
        /// - `Drawing`: offerers that kept their secret are slashed, the rest
        ///   drawn;
        /// - `Computing`: claimants that did not commit are slashed; reveal
        ///   opens, or (nothing to reveal) the results are tallied;
        /// - `Revealing`: committed claimants that did not reveal are slashed and
        ///   the results tallied;
        /// - `Challenge`: unchallenged, the result is agreed (`Computed`);
        ///   challenged, the challengers reveal;
        /// - `Computed`: no release in time: workers are paid, the researcher
        ///   refunded the rest.
        #[ink(message, selector = 0xB1D00307)]
        pub fn advance(&mut self, job_id: JobId) -> Result<JobStatus> {
            let mut job = self.job_info(job_id)?;
            let now = self.clock();
            let timed = matches!(
                job.status,
                JobStatus::Open
                    | JobStatus::Disputed
                    | JobStatus::Drawing
                    | JobStatus::Computing
                    | JobStatus::Revealing
                    | JobStatus::Challenge
                    | JobStatus::Computed
            );
            if !timed {
                return Err(Error::WrongStatus);
            }
            if now < job.deadline {
                return Err(Error::DeadlineNotReached);
            }
            match job.status {
                JobStatus::Open | JobStatus::Disputed => {
                    self.close_offers(job_id, &mut job, now)?
                }
                JobStatus::Drawing => self.close_draw(job_id, &mut job, now)?,
                JobStatus::Computing => self.close_commits(job_id, &mut job, now)?,
                JobStatus::Revealing => self.close_reveals(job_id, &mut job, now)?,
                JobStatus::Challenge => self.close_challenges(job_id, &mut job, now)?,
                _ => self.refund(job_id, &mut job, RefundReason::ReleaseTimeout, true)?,
            }
            self.save_job(job_id, &job);
            Ok(job.status)
        }

        /// Dataset owner, while `Computed`: posts the released-result hash. If
        /// the job's cohort is below the dataset's current `min_cohort`, the
        /// release is refused instead: workers are paid, the researcher is
        /// refunded the rest, and the job ends `Refunded`.
        #[ink(message, selector = 0xB1D00308)]
        pub fn release(&mut self, job_id: JobId, released_hash: Digest) -> Result<()> {
            let mut job = self.job_info(job_id)?;
            let dataset = self.dataset_info(job.dataset_id)?;
            if dataset.owner != acct(self.env().caller()) {
                return Err(Error::NotDatasetOwner);
            }
            if job.shard.is_some() {
                return Err(Error::IsShard);
            }
            if job.status != JobStatus::Computed {
                return Err(Error::WrongStatus);
            }
            if self.clock() >= job.deadline {
                return Err(Error::DeadlinePassed);
            }
            if job.cohort() < u64::from(dataset.policy.min_cohort) {
                self.refund(job_id, &mut job, RefundReason::CohortBelowMinimum, true)?;
            } else {
                job.released_hash = Some(released_hash);
                job.status = JobStatus::Released;
                self.env().emit_event(ResultReleased {
                    job_id,
                    dataset_id: job.dataset_id,
                    released_hash,
                });
            }
            self.save_job(job_id, &job);
            Ok(())
        }

        /// Anyone, once `Released`: credits the data owner the price, each
        /// winning worker the fee, unlocks their stakes, and credits the rest of
        /// the escrow back to the researcher. On an agreed shard, once its
        /// sharded job released or ended: pays the shard's winners the same
        /// way (a shard holds no price).
        #[ink(message, selector = 0xB1D00309)]
        pub fn finalize(&mut self, job_id: JobId) -> Result<()> {
            let mut job = self.job_info(job_id)?;
            if let Some(place) = job.shard {
                if job.status != JobStatus::Computed {
                    return Err(Error::WrongStatus);
                }
                let parent = self.job_info(place.job)?.status;
                if parent != JobStatus::Released && !parent.is_terminal() {
                    return Err(Error::JobNotReleased);
                }
            } else if job.status != JobStatus::Released {
                return Err(Error::WrongStatus);
            }
            let price = job.price;
            let (workers_paid, researcher_refund) = self.settle(job_id, &mut job, price, true)?;
            job.status = JobStatus::Finalized;
            self.save_job(job_id, &job);
            self.env().emit_event(JobFinalized {
                job_id,
                owner_paid: job.price,
                workers_paid,
                researcher_refund,
            });
            Ok(())
        }

        // ------------------------------------------------------------------ money

        /// Transfers the caller's earnings to it; returns the amount.
        #[ink(message, selector = 0xB1D00401)]
        pub fn withdraw(&mut self) -> Result<Balance> {
            let account = self.env().caller();
            let amount = self.earnings.get(account).unwrap_or(0);
            if amount == 0 {
                return Err(Error::NothingToWithdraw);
            }
            self.earnings.remove(account);
            self.totals.earnings = minus(self.totals.earnings, amount)?;
            self.env()
                .transfer(account, amount)
                .map_err(|_| Error::TransferFailed)?;
            self.env().emit_event(Withdrawn {
                account: acct(account),
                amount,
            });
            Ok(amount)
        }

        // ------------------------------------------------------------------ admin

        /// Owner: sets the params for new jobs (running jobs keep their
        /// terms). The upgrade delay may rise, never fall.
        #[ink(message, selector = 0xB1D00501)]
        pub fn set_params(&mut self, params: Params) -> Result<()> {
            self.ensure_owner()?;
            params.validate()?;
            if params.upgrade_delay < self.params.upgrade_delay {
                return Err(Error::UpgradeDelayLowered);
            }
            self.params = params;
            self.env().emit_event(ParamsSet { params });
            Ok(())
        }

        /// Owner: pauses or unpauses new business. The market clock stands
        /// still while paused, so no running job's deadline passes during a
        /// pause: each moves by the pause's length.
        #[ink(message, selector = 0xB1D00502)]
        pub fn set_paused(&mut self, paused: bool) -> Result<()> {
            self.ensure_owner()?;
            let now = self.env().block_timestamp();
            match (self.paused, paused) {
                (false, true) => self.paused_at = now,
                (true, false) => self.paused_total = self.clock_lag(now),
                _ => {}
            }
            self.paused = paused;
            self.env().emit_event(PausedSet { paused });
            Ok(())
        }

        /// Owner: announces a code upgrade (storage layout must stay
        /// compatible). It can be enacted once `upgrade_delay` has passed, so
        /// everyone with a job running sees it coming. Replaces any earlier
        /// announcement, whose delay does not carry over.
        #[ink(message, selector = 0xB1D00503)]
        pub fn announce_upgrade(&mut self, code_hash: Digest) -> Result<()> {
            self.ensure_owner()?;
            let enact_after = later(self.env().block_timestamp(), self.params.upgrade_delay)?;
            self.pending_upgrade = Some(PendingUpgrade {
                code_hash,
                enact_after,
            });
            self.env().emit_event(UpgradeAnnounced {
                code_hash,
                enact_after,
            });
            Ok(())
        }

        /// Owner, once the announced upgrade's delay has passed: replaces the
        /// contract's code.
        #[ink(message, selector = 0xB1D00506)]
        pub fn enact_upgrade(&mut self) -> Result<()> {
            self.ensure_owner()?;
            let upgrade = self.pending_upgrade.ok_or(Error::NoPendingUpgrade)?;
            if self.env().block_timestamp() < upgrade.enact_after {
                return Err(Error::UpgradeNotDue);
            }
            self.pending_upgrade = None;
            self.env()
                .set_code_hash(&upgrade.code_hash.into())
                .map_err(|_| Error::SetCodeHashFailed)?;
            self.env().emit_event(CodeHashSet {
                code_hash: upgrade.code_hash,
            });
            Ok(())
        }

        /// Owner: withdraws the announced upgrade.
        #[ink(message, selector = 0xB1D00507)]
        pub fn cancel_upgrade(&mut self) -> Result<()> {
            self.ensure_owner()?;
            let upgrade = self.pending_upgrade.take().ok_or(Error::NoPendingUpgrade)?;
            self.env().emit_event(UpgradeCancelled {
                code_hash: upgrade.code_hash,
            });
            Ok(())
        }

        /// Owner: proposes `new_owner`, who takes over by `accept_ownership`
        /// (so a mistyped account cannot lock the admin out).
        #[ink(message, selector = 0xB1D00504)]
        pub fn transfer_ownership(&mut self, new_owner: AccountId) -> Result<()> {
            self.ensure_owner()?;
            self.pending_owner = Some(new_owner);
            self.env().emit_event(OwnershipProposed {
                owner: acct(self.owner),
                proposed: acct(new_owner),
            });
            Ok(())
        }

        /// The proposed owner: takes ownership.
        #[ink(message, selector = 0xB1D00505)]
        pub fn accept_ownership(&mut self) -> Result<()> {
            let caller = self.env().caller();
            if self.pending_owner != Some(caller) {
                return Err(Error::NotPendingOwner);
            }
            let previous = self.owner;
            self.owner = caller;
            self.pending_owner = None;
            self.env().emit_event(OwnershipTransferred {
                previous: acct(previous),
                owner: acct(caller),
            });
            Ok(())
        }

        // ---------------------------------------------------------------- queries

        /// The dataset `dataset_id`.
        #[ink(message, selector = 0xB1D00601)]
        pub fn dataset(&self, dataset_id: DatasetId) -> Result<DatasetInfo> {
            self.dataset_info(dataset_id)
        }

        /// The job `job_id`.
        #[ink(message, selector = 0xB1D00602)]
        pub fn job(&self, job_id: JobId) -> Result<JobInfo> {
            self.job_info(job_id)
        }

        /// The worker `account`.
        #[ink(message, selector = 0xB1D00603)]
        pub fn worker(&self, account: AccountId) -> Result<WorkerInfo> {
            self.workers.get(account).ok_or(Error::NotWorker)
        }

        /// Unwithdrawn earnings of `account`.
        #[ink(message, selector = 0xB1D00604)]
        pub fn earnings(&self, account: AccountId) -> Result<Balance> {
            Ok(self.earnings.get(account).unwrap_or(0))
        }

        /// Owner, pause flag, params, money totals and id counters.
        #[ink(message, selector = 0xB1D00605)]
        pub fn state(&self) -> Result<MarketState> {
            Ok(MarketState {
                owner: acct(self.owner),
                pending_owner: self.pending_owner.map(acct),
                pending_upgrade: self.pending_upgrade,
                paused: self.paused,
                clock: self.clock(),
                params: self.params,
                totals: self.totals,
                dataset_count: self.dataset_count,
                job_count: self.job_count,
            })
        }

        /// Whether submission `index` of `dataset_id` is revoked.
        #[ink(message, selector = 0xB1D00606)]
        pub fn is_revoked(&self, dataset_id: DatasetId, index: u64) -> Result<bool> {
            self.dataset_info(dataset_id)?;
            Ok(self.revoked.contains((dataset_id, index)))
        }

        // --------------------------------------------------------------- internal

        fn ensure_owner(&self) -> Result<()> {
            if self.env().caller() != self.owner {
                return Err(Error::NotOwner);
            }
            Ok(())
        }

        /// The market clock: chain time minus the time spent paused, at
        /// most `MAX_PAUSE` in all; it stands still during a pause (until
        /// that cap). Every job deadline is on it.
        fn clock(&self) -> Timestamp {
            let now = self.env().block_timestamp();
            now.saturating_sub(self.clock_lag(now))
        }

        /// How far the market clock is behind the chain's at `now`.
        fn clock_lag(&self, now: Timestamp) -> Timestamp {
            let current = if self.paused {
                now.saturating_sub(self.paused_at)
            } else {
                0
            };
            self.paused_total.saturating_add(current).min(MAX_PAUSE)
        }

        fn ensure_live(&self) -> Result<()> {
            if self.paused {
                return Err(Error::Paused);
            }
            Ok(())
        }

        #[inline(never)]
        fn dataset_info(&self, dataset_id: DatasetId) -> Result<DatasetInfo> {
            self.datasets.get(dataset_id).ok_or(Error::DatasetNotFound)
        }

        fn owned_dataset(&self, dataset_id: DatasetId) -> Result<DatasetInfo> {
            let dataset = self.dataset_info(dataset_id)?;
            if dataset.owner != acct(self.env().caller()) {
                return Err(Error::NotDatasetOwner);
            }
            Ok(dataset)
        }

        // Loads and stores are `inline(never)`: the SCALE codecs of the big
        // records would otherwise be copied into every message (wasm size).

        #[inline(never)]
        fn job_info(&self, job_id: JobId) -> Result<JobInfo> {
            self.jobs.get(job_id).ok_or(Error::JobNotFound)
        }

        #[inline(never)]
        fn save_job(&mut self, job_id: JobId, job: &JobInfo) {
            self.jobs.insert(job_id, job);
        }

        #[inline(never)]
        fn save_dataset(&mut self, dataset_id: DatasetId, dataset: &DatasetInfo) {
            self.datasets.insert(dataset_id, dataset);
        }

        #[inline(never)]
        fn worker_info(&self, worker_id: AccountId) -> Option<WorkerInfo> {
            self.workers.get(worker_id)
        }

        /// The commitment of `result` for this job (the contract's own fields).
        #[inline(never)]
        fn commitment_of(job: &JobInfo, job_id: JobId, result: &Digest) -> Digest {
            job.commitment_with::<ChainSha256>(job_id, result)
        }

        /// Stores `worker`, or forgets it once it holds nothing.
        #[inline(never)]
        fn store_worker(&mut self, worker_id: AccountId, worker: &WorkerInfo) {
            if worker.stake == 0 && worker.open_claims == 0 {
                self.workers.remove(worker_id);
            } else {
                self.workers.insert(worker_id, worker);
            }
        }

        /// Adds `amount` to `account`'s earnings.
        #[inline(never)]
        fn credit(&mut self, account: AccountId, amount: Balance) -> Result<()> {
            if amount == 0 {
                return Ok(());
            }
            let balance = plus(self.earnings.get(account).unwrap_or(0), amount)?;
            self.earnings.insert(account, &balance);
            self.totals.earnings = plus(self.totals.earnings, amount)?;
            Ok(())
        }

        /// Ends claim `index`'s lock: returned to the worker's free stake, or
        /// slashed into the job's escrow (`job.slashed`), for the honest side.
        #[inline(never)]
        fn end_claim(
            &mut self,
            job_id: JobId,
            job: &mut JobInfo,
            index: usize,
            slash: Option<SlashReason>,
        ) -> Result<()> {
            let Some(claim) = job.claims.get_mut(index) else {
                return Ok(());
            };
            if claim.stake != StakeState::Locked {
                return Ok(());
            }
            claim.stake = if slash.is_some() {
                StakeState::Slashed
            } else {
                StakeState::Returned
            };
            let account = claim.worker;
            self.unlock(job_id, job, account, slash)
        }

        /// Ends one lock of the job's claim stake held by `account` (a
        /// claim's or an offer's): back to its free stake, or slashed into
        /// the job's escrow (`job.slashed`), for the honest side.
        #[inline(never)]
        fn unlock(
            &mut self,
            job_id: JobId,
            job: &mut JobInfo,
            account: Account,
            slash: Option<SlashReason>,
        ) -> Result<()> {
            let amount = job.terms.claim_stake;
            let worker_id = AccountId::from(account);
            let mut worker = self.worker_info(worker_id).unwrap_or_default();
            worker.locked = minus(worker.locked, amount)?;
            worker.open_claims = worker.open_claims.checked_sub(1).ok_or(Error::Overflow)?;
            if let Some(reason) = slash {
                worker.stake = minus(worker.stake, amount)?;
                self.totals.stakes = minus(self.totals.stakes, amount)?;
                self.totals.escrow = plus(self.totals.escrow, amount)?;
                job.escrow = plus(job.escrow, amount)?;
                job.slashed = plus(job.slashed, amount)?;
                self.env().emit_event(WorkerSlashed {
                    job_id,
                    worker: account,
                    amount,
                    reason,
                });
            }
            self.store_worker(worker_id, &worker);
            Ok(())
        }

        /// The offer window closed. Every offerer is drawn when they fit in
        /// the free slots; otherwise the offerers reveal their secrets for a
        /// draw. With no offer, the window reopens while a round still fits
        /// before the commit deadline, and otherwise the round closes empty.
        #[inline(never)]
        fn close_offers(&mut self, job_id: JobId, job: &mut JobInfo, now: Timestamp) -> Result<()> {
            if job.offers.is_empty() {
                let reopened = later(now, job.terms.offer_window)?;
                if later(reopened, job.terms.reveal_window)? < job.commit_deadline {
                    job.deadline = reopened;
                    return Ok(());
                }
                job.status = JobStatus::Computing;
                return self.close_commits(job_id, job, now);
            }
            if job.offers.len() <= job.free_slots() {
                let everyone: Vec<usize> = (0..job.offers.len()).collect();
                return self.assign(job_id, job, &everyone, None, now);
            }
            job.status = JobStatus::Drawing;
            job.deadline = later(now, job.terms.reveal_window)?;
            self.env().emit_event(DrawOpened {
                job_id,
                round: job.round,
                offers: u8::try_from(job.offers.len()).map_err(|_| Error::Overflow)?,
                slots: u8::try_from(job.free_slots()).map_err(|_| Error::Overflow)?,
                deadline: job.deadline,
            });
            Ok(())
        }

        /// The draw's secrets are in (all of them, or the deadline passed):
        /// offerers that kept theirs are slashed, and the free slots are
        /// drawn by stake among the rest.
        #[inline(never)]
        fn close_draw(&mut self, job_id: JobId, job: &mut JobInfo, now: Timestamp) -> Result<()> {
            let offers = core::mem::take(&mut job.offers);
            for offer in offers.iter().filter(|o| o.secret.is_none()) {
                self.unlock(job_id, job, offer.worker, Some(SlashReason::Missed))?;
            }
            job.offers = offers.into_iter().filter(|o| o.secret.is_some()).collect();
            if job.offers.len() <= job.free_slots() {
                job.status = if job.round == 0 {
                    JobStatus::Open
                } else {
                    JobStatus::Disputed
                };
                return self.close_offers(job_id, job, now);
            }
            let seed = draw::seed_with::<ChainSha256>(
                job_id,
                job.round,
                job.offers.iter().filter_map(|o| o.secret.as_ref()),
            );
            let weights: Vec<Balance> = job.offers.iter().map(|o| o.weight).collect();
            let winners = draw::draw_with::<ChainSha256>(&seed, &weights, job.free_slots());
            self.assign(job_id, job, &winners, Some(seed), now)
        }

        /// Makes offers `winners` the round's claims (their bonds become
        /// claim stakes), returns every other bond, and opens `Computing`
        /// until the round's commit deadline. A draw closed after that
        /// deadline (nobody advanced the job in time) draws nobody: every
        /// bond returns and the round closes empty, so no drawn worker is
        /// slashed for time it never had.
        #[inline(never)]
        fn assign(
            &mut self,
            job_id: JobId,
            job: &mut JobInfo,
            winners: &[usize],
            seed: Option<Digest>,
            now: Timestamp,
        ) -> Result<()> {
            let offers = core::mem::take(&mut job.offers);
            if now >= job.commit_deadline {
                for offer in &offers {
                    self.unlock(job_id, job, offer.worker, None)?;
                }
                job.status = JobStatus::Computing;
                return self.close_commits(job_id, job, now);
            }
            self.env().emit_event(Drawn {
                job_id,
                round: job.round,
                seed,
                offers: u8::try_from(offers.len()).map_err(|_| Error::Overflow)?,
            });
            for (index, offer) in offers.iter().enumerate() {
                if !winners.contains(&index) {
                    self.unlock(job_id, job, offer.worker, None)?;
                    continue;
                }
                job.claims.push(Claim {
                    worker: offer.worker,
                    round: job.round,
                    sealed: None,
                    result_blob_hash: None,
                    stake: StakeState::Locked,
                    kind: ClaimKind::Drawn,
                });
                self.env().emit_event(JobClaimed {
                    job_id,
                    dataset_id: job.dataset_id,
                    worker: offer.worker,
                    round: job.round,
                    stake: job.terms.claim_stake,
                    deadline: job.commit_deadline,
                });
            }
            job.status = JobStatus::Computing;
            job.deadline = job.commit_deadline;
            Ok(())
        }

        /// Slashes every locked claim of the current round for which `missed` holds.
        #[inline(never)]
        fn slash_missed(
            &mut self,
            job_id: JobId,
            job: &mut JobInfo,
            missed: fn(&Claim) -> bool,
        ) -> Result<()> {
            for index in 0..job.claims.len() {
                let due = job
                    .claims
                    .get(index)
                    .is_some_and(|c| c.round == job.round && missed(c));
                if due {
                    self.end_claim(job_id, job, index, Some(SlashReason::Missed))?;
                }
            }
            Ok(())
        }

        /// The commit phase is over (all committed, or the deadline passed).
        #[inline(never)]
        fn close_commits(
            &mut self,
            job_id: JobId,
            job: &mut JobInfo,
            now: Timestamp,
        ) -> Result<()> {
            self.slash_missed(job_id, job, |c| c.sealed.is_none())?;
            if reveal_pending(job) {
                job.status = JobStatus::Revealing;
                job.deadline = later(now, job.terms.reveal_window)?;
                self.env().emit_event(RevealOpened {
                    job_id,
                    round: job.round,
                    deadline: job.deadline,
                });
                Ok(())
            } else {
                self.tally(job_id, job, now)
            }
        }

        /// The reveal phase is over (all revealed, or the deadline passed).
        #[inline(never)]
        fn close_reveals(
            &mut self,
            job_id: JobId,
            job: &mut JobInfo,
            now: Timestamp,
        ) -> Result<()> {
            if let Some(result) = under_challenge(job) {
                // The challengers revealed, or are slashed for not doing so:
                // their bonds go to the researcher, not to the challenged
                // replicas (who could otherwise crowd out honest challengers
                // with junk seals from their own accounts, for free).
                let slashed_before = job.slashed;
                self.slash_missed(job_id, job, |c| c.result_blob_hash.is_none())?;
                job.slashed = slashed_before;
                let round = job.round;
                let contested = job.claims.iter().any(|c| {
                    c.round == round
                        && c.stake == StakeState::Locked
                        && c.result_blob_hash.is_some()
                });
                if !contested {
                    return self.agree(job_id, job, result, now);
                }
                // A conflict: round 0's replicas are now a party, and a
                // jury of fresh blind replicas decides.
                job.result_blob_hash = None;
                self.open_tiebreak(job_id, job, now)?;
                job.jury_from = job.round;
                return Ok(());
            }
            self.slash_missed(job_id, job, |c| c.result_blob_hash.is_none())?;
            self.tally(job_id, job, now)
        }

        /// The challenge window is over: unchallenged, the result is
        /// agreed; challenged, the challengers reveal.
        #[inline(never)]
        fn close_challenges(
            &mut self,
            job_id: JobId,
            job: &mut JobInfo,
            now: Timestamp,
        ) -> Result<()> {
            let result = under_challenge(job).ok_or(Error::WrongStatus)?;
            let round = job.round.checked_add(1).ok_or(Error::Overflow)?;
            if !job.claims.iter().any(|c| c.round == round) {
                return self.agree(job_id, job, result, now);
            }
            job.round = round;
            job.status = JobStatus::Revealing;
            job.deadline = later(now, job.terms.reveal_window)?;
            self.env().emit_event(RevealOpened {
                job_id,
                round,
                deadline: job.deadline,
            });
            Ok(())
        }

        /// Decides the round: agreement, challenge window, dispute or refund.
        #[inline(never)]
        fn tally(&mut self, job_id: JobId, job: &mut JobInfo, now: Timestamp) -> Result<()> {
            let results = live_results(job);
            if job.round == 0 {
                let Some(first) = results.first().copied() else {
                    return self.refund(job_id, job, RefundReason::NoResult, false);
                };
                let agreed = results.len() == usize::from(job.replication)
                    && results.iter().all(|r| *r == first);
                if !agreed {
                    return self.open_tiebreak(job_id, job, now);
                }
                // Every replica agreed (or the only one revealed): open to
                // sealed challenges, at every replication factor.
                job.result_blob_hash = Some(first);
                job.challenged = Some(first);
                job.status = JobStatus::Challenge;
                job.deadline = later(now, job.terms.challenge_window)?;
                self.env().emit_event(ChallengeOpened {
                    job_id,
                    dataset_id: job.dataset_id,
                    result_blob_hash: first,
                    deadline: job.deadline,
                });
                return Ok(());
            }
            // Once round 0's replicas are a party (challenged or rejected),
            // only the jury votes: replicas drawn from `jury_from` on.
            let votes: Vec<Digest> = if job.jury_from > 0 {
                job.claims
                    .iter()
                    .filter(|c| {
                        c.stake == StakeState::Locked
                            && c.kind == ClaimKind::Drawn
                            && c.round >= job.jury_from
                    })
                    .filter_map(|c| c.result_blob_hash)
                    .collect()
            } else {
                results
            };
            let Some(winner) = majority(&votes) else {
                // No strict majority yet: fresh blind replicas, a bounded
                // number of rounds; then the job refunds.
                if job.round < MAX_DISPUTE_ROUNDS {
                    return self.open_tiebreak(job_id, job, now);
                }
                return self.refund(job_id, job, RefundReason::NoMajority, false);
            };
            for index in 0..job.claims.len() {
                let dissent = job.claims.get(index).is_some_and(|c| {
                    c.stake == StakeState::Locked && c.result_blob_hash.is_some_and(|r| r != winner)
                });
                if dissent {
                    self.end_claim(job_id, job, index, Some(SlashReason::Dissent))?;
                }
            }
            self.agree(job_id, job, winner, now)
        }

        /// Opens the next dispute round with one more slot, drawn among fresh
        /// offerers in an offer window; the drawn tie-break worker then has
        /// the tie-break window to compute and commit.
        #[inline(never)]
        fn open_tiebreak(
            &mut self,
            job_id: JobId,
            job: &mut JobInfo,
            now: Timestamp,
        ) -> Result<()> {
            let taken = u8::try_from(job.claims.len()).map_err(|_| Error::Overflow)?;
            job.round = job.round.checked_add(1).ok_or(Error::Overflow)?;
            job.slots = taken.checked_add(1).ok_or(Error::Overflow)?;
            job.status = JobStatus::Disputed;
            job.deadline = later(now, job.terms.offer_window)?;
            let draw_time = later(job.terms.offer_window, job.terms.reveal_window)?;
            job.commit_deadline = later(later(now, draw_time)?, job.terms.tiebreak_window)?;
            self.env().emit_event(JobDisputed {
                job_id,
                dataset_id: job.dataset_id,
                round: job.round,
                deadline: job.deadline,
            });
            Ok(())
        }

        /// Records `result` as the agreed result; the release window opens.
        #[inline(never)]
        fn agree(
            &mut self,
            job_id: JobId,
            job: &mut JobInfo,
            result: Digest,
            now: Timestamp,
        ) -> Result<()> {
            let commitment = Self::commitment_of(job, job_id, &result);
            job.result_blob_hash = Some(result);
            job.commitment = Some(commitment);
            job.status = JobStatus::Computed;
            job.deadline = later(now, job.terms.release_window)?;
            if job.shard.is_some() {
                // A shard has no release window of its own: its job's opens
                // when the last shard agrees.
                job.deadline = Timestamp::MAX;
            }
            self.env().emit_event(JobComputed {
                job_id,
                dataset_id: job.dataset_id,
                result_blob_hash: result,
                commitment,
                deadline: job.deadline,
            });
            if let Some(place) = job.shard {
                self.shard_agreed(place.job, job_id, commitment, now)?;
            }
            Ok(())
        }

        /// Ends a job without a release: settles (paying the winners if
        /// `pay_workers`), returns the epsilon, refunds the researcher.
        #[inline(never)]
        fn refund(
            &mut self,
            job_id: JobId,
            job: &mut JobInfo,
            reason: RefundReason,
            pay_workers: bool,
        ) -> Result<()> {
            let owner_rejected = job.claims.iter().any(|c| c.kind == ClaimKind::Owner);
            self.refund_as(job_id, job, reason, pay_workers, owner_rejected)
        }

        /// [`Self::refund`], told whether the owner's own rejection is why:
        /// a sharded job ends this way when one of its shards did.
        #[inline(never)]
        fn refund_as(
            &mut self,
            job_id: JobId,
            job: &mut JobInfo,
            reason: RefundReason,
            pay_workers: bool,
            owner_rejected: bool,
        ) -> Result<()> {
            // The owner is paid for the budget the job held, unless the
            // owner is why it failed (no release, a cohort it shrank, or a
            // rejection of its own that the jury could not decide).
            let owner_paid = match reason {
                RefundReason::NoResult => reservation_fee(job.epsilon, job.price),
                RefundReason::NoMajority if !owner_rejected => {
                    reservation_fee(job.epsilon, job.price)
                }
                RefundReason::NoMajority
                | RefundReason::CohortBelowMinimum
                | RefundReason::ReleaseTimeout => 0,
            };
            let (workers_paid, refund) = self.settle(job_id, job, owner_paid, pay_workers)?;
            self.return_epsilon(job)?;
            job.status = JobStatus::Refunded;
            self.env().emit_event(JobRefunded {
                job_id,
                reason,
                refund,
                workers_paid,
                owner_paid,
            });
            if let Some(place) = job.shard {
                // A shard without a result ends its job: the price and the
                // epsilon go back; the other shards settle on their own.
                let mut parent = self.job_info(place.job)?;
                if parent.status == JobStatus::Sharded {
                    self.refund_as(place.job, &mut parent, reason, false, owner_rejected)?;
                    self.save_job(place.job, &parent);
                }
            }
            Ok(())
        }

        // ------------------------------------------------------------------ shards

        /// The ids of `job_id`'s shards (none for a job computed whole).
        fn shard_ids(job_id: JobId, job: &JobInfo) -> Result<core::ops::RangeInclusive<JobId>> {
            let first = job_id.checked_add(1).ok_or(Error::Overflow)?;
            let last = job_id
                .checked_add(u64::from(job.shards))
                .ok_or(Error::Overflow)?;
            Ok(first..=last)
        }

        /// Splits a new job into its shards: each a job of its own (ids
        /// `job_id + 1 ..`) over a contiguous range of the submissions, with
        /// the job's terms, `each` ([`shard_escrow`]: its fees, already taken
        /// out of the job's escrow), and an input digest that binds its
        /// range. The job keeps the price and the epsilon and waits,
        /// `Sharded`.
        #[inline(never)]
        fn open_shards(
            &mut self,
            job_id: JobId,
            job: &mut JobInfo,
            shard_size: u64,
            each: Balance,
        ) -> Result<()> {
            for (index, shard_id) in (0..job.shards).zip(Self::shard_ids(job_id, job)?) {
                let place = ShardOf::nth(job_id, index, job.submission_count, shard_size);
                let mut shard = job.clone();
                shard.input_digest = hash::shard_input_digest_with::<ChainSha256>(
                    job_id,
                    &job.input_digest,
                    index,
                    place.first,
                    place.end,
                );
                shard.epsilon = 0;
                shard.price = 0;
                shard.escrow = each;
                shard.shard = Some(place);
                shard.shards = 0;
                self.save_job(shard_id, &shard);
                self.env().emit_event(JobRequested {
                    job_id: shard_id,
                    dataset_id: job.dataset_id,
                    researcher: job.researcher,
                    pipeline: job.pipeline,
                    params_hash: job.params_hash,
                    input_digest: shard.input_digest,
                    epsilon: 0,
                    escrow: each,
                    deadline: job.commit_deadline,
                });
            }
            // Not timed: its shards are, and each ends with a result or
            // without (which ends the job).
            job.status = JobStatus::Sharded;
            job.deadline = Timestamp::MAX;
            Ok(())
        }

        /// Shard `shard_id` of `job_id` agreed on `commitment`. The last one
        /// makes the job `Computed`: its commitment folds its shards' in
        /// order ([`hash::shards_step_with`]) and its release window opens.
        /// Nothing happens once the job ended (another shard failed).
        #[inline(never)]
        fn shard_agreed(
            &mut self,
            job_id: JobId,
            shard_id: JobId,
            commitment: Digest,
            now: Timestamp,
        ) -> Result<()> {
            let mut job = self.job_info(job_id)?;
            if job.status != JobStatus::Sharded {
                return Ok(());
            }
            job.shards_computed = job.shards_computed.checked_add(1).ok_or(Error::Overflow)?;
            if job.shards_computed == job.shards {
                let mut digest = hash::EMPTY_DIGEST;
                for id in Self::shard_ids(job_id, &job)? {
                    // The agreeing shard is not saved yet.
                    let agreed = if id == shard_id {
                        Some(commitment)
                    } else {
                        self.job_info(id)?.commitment
                    };
                    let agreed = agreed.ok_or(Error::WrongStatus)?;
                    digest = hash::shards_step_with::<ChainSha256>(&digest, &agreed);
                }
                job.commitment = Some(digest);
                job.status = JobStatus::Computed;
                let release_window = job.terms.release_window;
                job.deadline = later(now, release_window)?;
                self.env().emit_event(JobComputed {
                    job_id,
                    dataset_id: job.dataset_id,
                    result_blob_hash: hash::EMPTY_DIGEST,
                    commitment: digest,
                    deadline: job.deadline,
                });
            }
            self.save_job(job_id, &job);
            Ok(())
        }

        /// The owner rejected an agreed shard of `job_id`: it no longer
        /// counts, so the job waits for it again (its release window closes
        /// until the last shard agrees anew). Refused once the job released
        /// or ended, or its release window passed.
        #[inline(never)]
        fn shard_reopened(&mut self, job_id: JobId, now: Timestamp) -> Result<()> {
            let mut job = self.job_info(job_id)?;
            match job.status {
                JobStatus::Sharded => {}
                JobStatus::Computed if now < job.deadline => {
                    job.status = JobStatus::Sharded;
                    job.commitment = None;
                    job.deadline = Timestamp::MAX;
                }
                JobStatus::Computed => return Err(Error::DeadlinePassed),
                _ => return Err(Error::WrongStatus),
            }
            job.shards_computed = job.shards_computed.checked_sub(1).ok_or(Error::Overflow)?;
            self.save_job(job_id, &job);
            Ok(())
        }

        /// Empties the job's escrow: `owner_paid` to the data owner; to each
        /// locked claim that revealed the agreed result (a winner) the fee (if
        /// `pay_workers`; an equal share of the fee reserve when there are
        /// more winners than it holds fees) and an equal share of the
        /// slashed stakes; every
        /// remaining lock returned; the rest (the slashed stakes too, when
        /// nobody won) to the researcher. Returns (workers paid, researcher
        /// refund).
        #[inline(never)]
        fn settle(
            &mut self,
            job_id: JobId,
            job: &mut JobInfo,
            owner_paid: Balance,
            pay_workers: bool,
        ) -> Result<(Balance, Balance)> {
            let agreed = job.result_blob_hash;
            let is_winner = move |c: &Claim| {
                c.stake == StakeState::Locked && agreed.is_some() && c.result_blob_hash == agreed
            };
            let winners = job.claims.iter().filter(|c| is_winner(c)).count();
            let share = match Balance::try_from(winners) {
                Ok(n) if n > 0 => job.slashed.checked_div(n).ok_or(Error::Overflow)?,
                _ => 0,
            };
            // Fees come from the researcher's reserve: one per replica plus
            // one. When a dispute leaves more winners than that, they share
            // the reserve equally, whatever order they claimed in (before,
            // the first ones took a full fee each and the last juror none).
            let fee = if pay_workers { job.terms.worker_fee } else { 0 };
            let reserve = fee
                .checked_mul(
                    Balance::from(job.replication)
                        .checked_add(1)
                        .ok_or(Error::Overflow)?,
                )
                .ok_or(Error::Overflow)?;
            let fee = match Balance::try_from(winners) {
                Ok(n) if n > 0 => fee.min(reserve.checked_div(n).ok_or(Error::Overflow)?),
                _ => 0,
            };
            let mut workers_paid: Balance = 0;
            // Offers are drawn before any job can end; return any bond left.
            for offer in core::mem::take(&mut job.offers) {
                self.unlock(job_id, job, offer.worker, None)?;
            }
            for index in 0..job.claims.len() {
                let Some(claim) = job.claims.get(index) else {
                    continue;
                };
                if claim.stake != StakeState::Locked {
                    continue;
                }
                if is_winner(claim) {
                    let pay = plus(fee, share)?;
                    self.credit(AccountId::from(claim.worker), pay)?;
                    workers_paid = plus(workers_paid, pay)?;
                }
                self.end_claim(job_id, job, index, None)?;
            }
            let refund = minus(minus(job.escrow, owner_paid)?, workers_paid)?;
            if owner_paid > 0 {
                let dataset = self.dataset_info(job.dataset_id)?;
                self.credit(AccountId::from(dataset.owner), owner_paid)?;
            }
            self.credit(AccountId::from(job.researcher), refund)?;
            self.totals.escrow = minus(self.totals.escrow, job.escrow)?;
            job.escrow = 0;
            Ok((workers_paid, refund))
        }

        /// Gives the job's epsilon back to its dataset's budget.
        #[inline(never)]
        fn return_epsilon(&mut self, job: &JobInfo) -> Result<()> {
            let mut dataset = self.dataset_info(job.dataset_id)?;
            dataset.epsilon_spent = dataset
                .epsilon_spent
                .checked_sub(job.epsilon)
                .ok_or(Error::Overflow)?;
            self.save_dataset(job.dataset_id, &dataset);
            Ok(())
        }
    }
}

// -------------------------------------------------------------------- tests
// Unit tests (every message, error path and role check) and the randomised
// property test live in their own files: `#[ink::contract]` cannot take file
// modules inside the contract module.
#[cfg(test)]
mod tests;

#[cfg(test)]
mod property_tests;

#[cfg(test)]
mod shard_tests;
