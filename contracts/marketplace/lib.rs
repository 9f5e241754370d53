#![cfg_attr(not(feature = "std"), no_std, no_main)]
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
//!    `price + worker_fee × (replication + 1)`. The job snapshots the dataset's
//!    input digest; its epsilon is charged to the dataset's privacy budget.
//! 4. `Open`: up to `replication` workers `claim` and `commit` a sealed
//!    commitment `seal(commitment, worker)` before the job's deadline.
//! 5. `Revealing`: each reveals its result blob hash; the contract recomputes
//!    the commitment from the job's own fields and checks the seal.
//! 6. Agreement (all `replication` results equal) makes the job `Computed`.
//!    Otherwise (mismatch or missing results) it is `Disputed`: one tie-break
//!    worker claims, commits and reveals; a unique plurality of at least two
//!    wins and dissenters are slashed; with no such plurality the researcher is
//!    refunded. With replication 1 a `Challenge` window lets any staked worker
//!    post a conflicting result, which starts the same tie-break.
//! 7. The data owner `release`s (posts the released-result hash) and anyone
//!    `finalize`s: the owner gets the price, each winning worker the fee, stakes
//!    unlock, and the rest of the escrow goes back to the researcher.
//! 8. Deadlines: anyone may `advance` a job whose current deadline passed.
//!    Missing workers are slashed; a job with no result, no majority, a cohort
//!    below the minimum, or no release in time refunds the researcher.
//!    `cancel` refunds an unclaimed job.
//!
//! ## Money
//! Pull payments: every payout is credited to `earnings` and leaves with
//! `withdraw`; only `withdraw` and `withdraw_stake` transfer. The contract's
//! balance always equals open escrow + stakes + unpaid earnings ([`Totals`]).
//! Slashed stakes are credited to the contract owner. Arithmetic is checked.
//!
//! ## Admin
//! The contract owner sets params, pauses (no new datasets, stakes, jobs,
//! claims or challenges; everything that settles or withdraws still works),
//! upgrades the code (`set_code_hash`) and transfers ownership.

#[ink::contract]
mod marketplace {
    use blindfold_protocol::events::{
        ChallengeOpened, Challenged, CodeHashSet, Committed, DatasetDeactivated, DatasetRegistered,
        DatasetUpdated, JobCancelled, JobClaimed, JobComputed, JobDisputed, JobFinalized,
        JobRefunded, JobRequested, OwnershipTransferred, ParamsSet, PausedSet, ResultReleased,
        RevealOpened, Revealed, StakeWithdrawn, Staked, SubmissionRevoked, SubmissionsAdded,
        Withdrawn, WorkerSlashed,
    };
    use blindfold_protocol::hash::{self, Sha256};
    use blindfold_protocol::{
        required_escrow, Account, Claim, DatasetId, DatasetInfo, Error, JobId, JobInfo, JobStatus,
        MarketState, MilliEpsilon, Params, PipelineId, Policy, RefundReason, SlashReason,
        StakeState, Totals, WorkerInfo, MAX_BATCH,
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
        /// Admin: params, pause, code upgrade; receives slashed stakes.
        owner: AccountId,
        /// Whether new business is refused.
        paused: bool,
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

    /// Whether every slot is claimed and every claim of the current round committed.
    fn all_committed(job: &JobInfo) -> bool {
        job.claims.len() == usize::from(job.slots)
            && job
                .claims
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

    /// The result with a unique plurality of at least two votes, if any.
    fn plurality(results: &[Digest]) -> Option<Digest> {
        let mut best: Option<(Digest, usize)> = None;
        let mut tied = false;
        for r in results {
            let votes = results.iter().filter(|x| *x == r).count();
            match best {
                Some((b, n)) if votes < n || (votes == n && b == *r) => {}
                Some((_, n)) if votes == n => tied = true,
                _ => {
                    best = Some((*r, votes));
                    tied = false;
                }
            }
        }
        match best {
            Some((r, n)) if n >= 2 && !tied => Some(r),
            _ => None,
        }
    }

    impl Marketplace {
        // ------------------------------------------------------------ constructor

        /// Creates the marketplace; the caller becomes its owner.
        #[ink(constructor, selector = 0xB1D00000)]
        pub fn new(params: Params) -> Result<Self> {
            params.validate()?;
            Ok(Self {
                owner: Self::env().caller(),
                paused: false,
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
        /// must cover `price + worker_fee × (replication + 1)`. `deadline` is
        /// the commit deadline. Returns the job id.
        #[ink(message, payable, selector = 0xB1D00301)]
        pub fn request(
            &mut self,
            dataset_id: DatasetId,
            pipeline: PipelineId,
            params_hash: Digest,
            epsilon: MilliEpsilon,
            deadline: Timestamp,
        ) -> Result<JobId> {
            self.ensure_live()?;
            let mut dataset = self.dataset_info(dataset_id)?;
            if !dataset.active {
                return Err(Error::DatasetInactive);
            }
            let policy = dataset.policy;
            if !policy.allowed_pipelines.contains(pipeline) {
                return Err(Error::PipelineNotAllowed);
            }
            if dataset.cohort() < u64::from(policy.min_cohort) {
                return Err(Error::CohortTooSmall);
            }
            let now = self.env().block_timestamp();
            if deadline < later(now, self.params.min_compute_window)? {
                return Err(Error::DeadlineTooSoon);
            }
            if deadline > later(now, self.params.max_compute_window)? {
                return Err(Error::DeadlineTooFar);
            }
            let escrow = self.env().transferred_value();
            let needed = required_escrow(dataset.price, self.params.worker_fee, policy.replication)
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
            self.job_count = job_id.checked_add(1).ok_or(Error::Overflow)?;
            self.totals.escrow = plus(self.totals.escrow, escrow)?;
            dataset.epsilon_spent = spent;
            let input_digest = dataset.input_digest_with::<ChainSha256>(dataset_id);
            let researcher = acct(self.env().caller());
            self.jobs.insert(
                job_id,
                &JobInfo {
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
                    worker_fee: self.params.worker_fee,
                    claim_stake: self.params.claim_stake,
                    escrow,
                    replication: policy.replication,
                    slots: policy.replication,
                    round: 0,
                    status: JobStatus::Open,
                    requested_at: now,
                    deadline,
                    claims: Vec::new(),
                    result_blob_hash: None,
                    commitment: None,
                    released_hash: None,
                },
            );
            self.save_dataset(dataset_id, &dataset);
            self.env().emit_event(JobRequested {
                job_id,
                dataset_id,
                researcher,
                pipeline,
                params_hash,
                input_digest,
                epsilon,
                escrow,
                deadline,
            });
            Ok(job_id)
        }

        /// Researcher: cancels a job nobody has claimed; the escrow is credited
        /// back and the epsilon returned to the dataset budget.
        #[ink(message, selector = 0xB1D00302)]
        pub fn cancel(&mut self, job_id: JobId) -> Result<()> {
            let mut job = self.job_info(job_id)?;
            if job.researcher != acct(self.env().caller()) {
                return Err(Error::NotResearcher);
            }
            if job.status != JobStatus::Open {
                return Err(Error::WrongStatus);
            }
            if !job.claims.is_empty() {
                return Err(Error::JobClaimed);
            }
            let (_, refund) = self.settle(job_id, &mut job, 0, false)?;
            self.return_epsilon(&job)?;
            job.status = JobStatus::Cancelled;
            self.save_job(job_id, &job);
            self.env().emit_event(JobCancelled { job_id, refund });
            Ok(())
        }

        /// Worker: claims a free slot of an `Open` or `Disputed` job before its
        /// deadline, locking `claim_stake` of its free stake.
        #[ink(message, selector = 0xB1D00303)]
        pub fn claim(&mut self, job_id: JobId) -> Result<()> {
            self.ensure_live()?;
            let worker_id = self.env().caller();
            let mut worker = self.worker_info(worker_id).ok_or(Error::NotWorker)?;
            let mut job = self.job_info(job_id)?;
            if !matches!(job.status, JobStatus::Open | JobStatus::Disputed) {
                return Err(Error::WrongStatus);
            }
            if self.env().block_timestamp() >= job.deadline {
                return Err(Error::DeadlinePassed);
            }
            if job.claim_of(&acct(worker_id)).is_some() {
                return Err(Error::AlreadyClaimed);
            }
            if job.claims.len() >= usize::from(job.slots) {
                return Err(Error::NoFreeSlot);
            }
            if worker.free() < job.claim_stake {
                return Err(Error::InsufficientStake);
            }
            worker.locked = plus(worker.locked, job.claim_stake)?;
            worker.open_claims = worker.open_claims.checked_add(1).ok_or(Error::Overflow)?;
            job.claims.push(Claim {
                worker: acct(worker_id),
                round: job.round,
                sealed: None,
                result_blob_hash: None,
                stake: StakeState::Locked,
            });
            self.workers.insert(worker_id, &worker);
            self.save_job(job_id, &job);
            self.env().emit_event(JobClaimed {
                job_id,
                dataset_id: job.dataset_id,
                worker: acct(worker_id),
                round: job.round,
                stake: job.claim_stake,
                deadline: job.deadline,
            });
            Ok(())
        }

        /// Claimant: posts `sealed = seal(commitment, caller)`. When every slot
        /// is claimed and committed, the reveal phase opens at once.
        #[ink(message, selector = 0xB1D00304)]
        pub fn commit(&mut self, job_id: JobId, sealed: Digest) -> Result<()> {
            let mut job = self.job_info(job_id)?;
            if !matches!(job.status, JobStatus::Open | JobStatus::Disputed) {
                return Err(Error::WrongStatus);
            }
            let now = self.env().block_timestamp();
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
            let now = self.env().block_timestamp();
            if now >= job.deadline {
                return Err(Error::DeadlinePassed);
            }
            let worker = acct(self.env().caller());
            let commitment = Self::commitment_of(&job, job_id, &result_blob_hash);
            let round = job.round;
            let claim = job
                .claims
                .iter_mut()
                .find(|c| c.worker == worker && c.round == round && c.stake == StakeState::Locked)
                .ok_or(Error::NotClaimant)?;
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

        /// Replication 1, during the challenge window: a staked worker that has
        /// not claimed the job posts a conflicting result (in the clear: it must
        /// differ from the public one). Locks its claim stake and opens one
        /// tie-break slot.
        #[ink(message, selector = 0xB1D00306)]
        pub fn challenge(&mut self, job_id: JobId, result_blob_hash: Digest) -> Result<()> {
            self.ensure_live()?;
            let worker_id = self.env().caller();
            let mut worker = self.worker_info(worker_id).ok_or(Error::NotWorker)?;
            let mut job = self.job_info(job_id)?;
            if job.status != JobStatus::Challenge {
                return Err(Error::WrongStatus);
            }
            let now = self.env().block_timestamp();
            if now >= job.deadline {
                return Err(Error::DeadlinePassed);
            }
            let account = acct(worker_id);
            if job.claim_of(&account).is_some() {
                return Err(Error::AlreadyClaimed);
            }
            if live_results(&job).contains(&result_blob_hash) {
                return Err(Error::NotConflicting);
            }
            if worker.free() < job.claim_stake {
                return Err(Error::InsufficientStake);
            }
            worker.locked = plus(worker.locked, job.claim_stake)?;
            worker.open_claims = worker.open_claims.checked_add(1).ok_or(Error::Overflow)?;
            let commitment = Self::commitment_of(&job, job_id, &result_blob_hash);
            job.claims.push(Claim {
                worker: account,
                round: 1,
                sealed: Some(hash::seal_with::<ChainSha256>(&commitment, &account)),
                result_blob_hash: Some(result_blob_hash),
                stake: StakeState::Locked,
            });
            self.workers.insert(worker_id, &worker);
            self.env().emit_event(Challenged {
                job_id,
                worker: account,
                result_blob_hash,
                commitment,
            });
            self.open_tiebreak(job_id, &mut job, now)?;
            self.save_job(job_id, &job);
            Ok(())
        }

        /// Anyone: applies the transition due when the current deadline has
        /// passed, and returns the new status:
        /// - `Open`/`Disputed`: claimants that did not commit are slashed; reveal
        ///   opens, or (nothing to reveal) the results are tallied;
        /// - `Revealing`: committed claimants that did not reveal are slashed and
        ///   the results tallied;
        /// - `Challenge`: the unchallenged result is agreed (`Computed`);
        /// - `Computed`: no release in time: workers are paid, the researcher
        ///   refunded the rest.
        #[ink(message, selector = 0xB1D00307)]
        pub fn advance(&mut self, job_id: JobId) -> Result<JobStatus> {
            let mut job = self.job_info(job_id)?;
            let now = self.env().block_timestamp();
            let timed = matches!(
                job.status,
                JobStatus::Open
                    | JobStatus::Disputed
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
                    self.close_commits(job_id, &mut job, now)?
                }
                JobStatus::Revealing => self.close_reveals(job_id, &mut job, now)?,
                JobStatus::Challenge => {
                    let results = live_results(&job);
                    let result = results.first().copied().ok_or(Error::WrongStatus)?;
                    self.agree(job_id, &mut job, result, now)?;
                }
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
            if job.status != JobStatus::Computed {
                return Err(Error::WrongStatus);
            }
            if self.env().block_timestamp() >= job.deadline {
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
        /// the escrow back to the researcher.
        #[ink(message, selector = 0xB1D00309)]
        pub fn finalize(&mut self, job_id: JobId) -> Result<()> {
            let mut job = self.job_info(job_id)?;
            if job.status != JobStatus::Released {
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

        /// Owner: sets the params for new jobs.
        #[ink(message, selector = 0xB1D00501)]
        pub fn set_params(&mut self, params: Params) -> Result<()> {
            self.ensure_owner()?;
            params.validate()?;
            self.params = params;
            self.env().emit_event(ParamsSet { params });
            Ok(())
        }

        /// Owner: pauses or unpauses new business.
        #[ink(message, selector = 0xB1D00502)]
        pub fn set_paused(&mut self, paused: bool) -> Result<()> {
            self.ensure_owner()?;
            self.paused = paused;
            self.env().emit_event(PausedSet { paused });
            Ok(())
        }

        /// Owner: replaces the contract's code (storage layout must stay compatible).
        #[ink(message, selector = 0xB1D00503)]
        pub fn set_code_hash(&mut self, code_hash: Digest) -> Result<()> {
            self.ensure_owner()?;
            self.env()
                .set_code_hash(&code_hash.into())
                .map_err(|_| Error::SetCodeHashFailed)?;
            self.env().emit_event(CodeHashSet { code_hash });
            Ok(())
        }

        /// Owner: hands ownership (and future slashed stakes) to `new_owner`.
        #[ink(message, selector = 0xB1D00504)]
        pub fn transfer_ownership(&mut self, new_owner: AccountId) -> Result<()> {
            self.ensure_owner()?;
            let previous = self.owner;
            self.owner = new_owner;
            self.env().emit_event(OwnershipTransferred {
                previous: acct(previous),
                owner: acct(new_owner),
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
                paused: self.paused,
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
        /// slashed to the contract owner.
        #[inline(never)]
        fn end_claim(
            &mut self,
            job_id: JobId,
            job: &mut JobInfo,
            index: usize,
            slash: Option<SlashReason>,
        ) -> Result<()> {
            let amount = job.claim_stake;
            let Some(claim) = job.claims.get_mut(index) else {
                return Ok(());
            };
            if claim.stake != StakeState::Locked {
                return Ok(());
            }
            let worker_id = AccountId::from(claim.worker);
            let mut worker = self.worker_info(worker_id).unwrap_or_default();
            worker.locked = minus(worker.locked, amount)?;
            worker.open_claims = worker.open_claims.checked_sub(1).ok_or(Error::Overflow)?;
            if let Some(reason) = slash {
                claim.stake = StakeState::Slashed;
                worker.stake = minus(worker.stake, amount)?;
                self.totals.stakes = minus(self.totals.stakes, amount)?;
                self.credit(self.owner, amount)?;
                self.env().emit_event(WorkerSlashed {
                    job_id,
                    worker: claim.worker,
                    amount,
                    reason,
                });
            } else {
                claim.stake = StakeState::Returned;
            }
            self.store_worker(worker_id, &worker);
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
                job.deadline = later(now, self.params.reveal_window)?;
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
            self.slash_missed(job_id, job, |c| c.result_blob_hash.is_none())?;
            self.tally(job_id, job, now)
        }

        /// Decides the round: agreement, challenge window, dispute or refund.
        #[inline(never)]
        fn tally(&mut self, job_id: JobId, job: &mut JobInfo, now: Timestamp) -> Result<()> {
            let results = live_results(job);
            if job.round == 0 {
                let Some(first) = results.first().copied() else {
                    return self.refund(job_id, job, RefundReason::NoResult, false);
                };
                if job.replication == 1 {
                    job.status = JobStatus::Challenge;
                    job.deadline = later(now, self.params.challenge_window)?;
                    self.env().emit_event(ChallengeOpened {
                        job_id,
                        dataset_id: job.dataset_id,
                        deadline: job.deadline,
                    });
                    return Ok(());
                }
                let agreed = results.len() == usize::from(job.replication)
                    && results.iter().all(|r| *r == first);
                if agreed {
                    return self.agree(job_id, job, first, now);
                }
                return self.open_tiebreak(job_id, job, now);
            }
            let Some(winner) = plurality(&results) else {
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

        /// Opens round 1 with one more slot for a tie-break worker.
        #[inline(never)]
        fn open_tiebreak(
            &mut self,
            job_id: JobId,
            job: &mut JobInfo,
            now: Timestamp,
        ) -> Result<()> {
            let taken = u8::try_from(job.claims.len()).map_err(|_| Error::Overflow)?;
            job.round = 1;
            job.slots = taken.checked_add(1).ok_or(Error::Overflow)?;
            job.status = JobStatus::Disputed;
            job.deadline = later(now, self.params.tiebreak_window)?;
            self.env().emit_event(JobDisputed {
                job_id,
                dataset_id: job.dataset_id,
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
            job.deadline = later(now, self.params.release_window)?;
            self.env().emit_event(JobComputed {
                job_id,
                dataset_id: job.dataset_id,
                result_blob_hash: result,
                commitment,
                deadline: job.deadline,
            });
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
            let (workers_paid, refund) = self.settle(job_id, job, 0, pay_workers)?;
            self.return_epsilon(job)?;
            job.status = JobStatus::Refunded;
            self.env().emit_event(JobRefunded {
                job_id,
                reason,
                refund,
                workers_paid,
            });
            Ok(())
        }

        /// Empties the job's escrow: `owner_paid` to the data owner, the fee to
        /// each locked claim that revealed the agreed result (if `pay_workers`),
        /// every remaining lock returned, the rest to the researcher. Returns
        /// (workers paid, researcher refund).
        #[inline(never)]
        fn settle(
            &mut self,
            job_id: JobId,
            job: &mut JobInfo,
            owner_paid: Balance,
            pay_workers: bool,
        ) -> Result<(Balance, Balance)> {
            let mut workers_paid: Balance = 0;
            for index in 0..job.claims.len() {
                let Some(claim) = job.claims.get(index) else {
                    continue;
                };
                if claim.stake != StakeState::Locked {
                    continue;
                }
                let winner = job.result_blob_hash.is_some()
                    && claim.result_blob_hash == job.result_blob_hash;
                if pay_workers && winner {
                    self.credit(AccountId::from(claim.worker), job.worker_fee)?;
                    workers_paid = plus(workers_paid, job.worker_fee)?;
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
