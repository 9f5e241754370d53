//! Unit tests of the marketplace contract in ink!'s off-chain environment:
//! every message, every reachable error path and every role check, then whole
//! lifecycles (agreement, dispute, challenge, refunds, slashing).
//!
//! `support` holds the fixtures shared with the property test.

// Test arithmetic on fixtures may be plain; the contract's may not.
#![allow(clippy::arithmetic_side_effects, clippy::cast_possible_truncation)]

use blindfold_protocol::events::*;
use blindfold_protocol::hash::{self, Sha2};
use blindfold_protocol::*;
use ink::env::test;
use ink::primitives::AccountId;

use crate::marketplace::{Digest, Marketplace};
use support::*;

/// Fixtures: actors, params, and one-line helpers for each role.
pub(crate) mod support {
    use super::*;

    pub type Env = ink::env::DefaultEnvironment;

    /// The contract's own account.
    pub const CONTRACT: [u8; 32] = [0xC0; 32];
    /// Starting balance of every actor.
    pub const FUNDS: Balance = 1_000_000_000_000;
    /// Dataset price used by the fixtures.
    pub const PRICE: Balance = 1_000;
    /// The contract account's own balance before any call: the off-chain
    /// engine's existential minimum (on chain the deployer pays the deposit).
    pub const CONTRACT_ED: Balance = 1_000_000;
    /// Start time (ms).
    pub const T0: Timestamp = 1_000_000;

    /// Fixture params: fee 10, claim stake 100, windows of 1 s, compute
    /// window 2..=2_000 s, upgrade delay 5 s.
    pub fn params() -> Params {
        Params {
            worker_fee: 10,
            claim_stake: 100,
            min_compute_window: 2_000,
            max_compute_window: 2_000_000,
            reveal_window: 1_000,
            challenge_window: 1_000,
            tiebreak_window: 1_000,
            release_window: 1_000,
            upgrade_delay: 5_000,
        }
    }

    /// Shorthands for the fields of the `state` query.
    pub trait StateExt {
        fn params(&self) -> Result<Params, Error>;
        fn totals(&self) -> Result<Totals, Error>;
        fn owner(&self) -> Result<AccountId, Error>;
        fn paused(&self) -> Result<bool, Error>;
        fn dataset_count(&self) -> Result<DatasetId, Error>;
        fn job_count(&self) -> Result<JobId, Error>;
    }

    impl StateExt for Marketplace {
        fn params(&self) -> Result<Params, Error> {
            self.state().map(|s| s.params)
        }
        fn totals(&self) -> Result<Totals, Error> {
            self.state().map(|s| s.totals)
        }
        fn owner(&self) -> Result<AccountId, Error> {
            self.state().map(|s| AccountId::from(s.owner))
        }
        fn paused(&self) -> Result<bool, Error> {
            self.state().map(|s| s.paused)
        }
        fn dataset_count(&self) -> Result<DatasetId, Error> {
            self.state().map(|s| s.dataset_count)
        }
        fn job_count(&self) -> Result<JobId, Error> {
            self.state().map(|s| s.job_count)
        }
    }

    /// The people in a test.
    pub struct Actors {
        /// Contract owner.
        pub admin: AccountId,
        /// Data owner.
        pub owner: AccountId,
        /// Researcher.
        pub researcher: AccountId,
        /// Workers.
        pub workers: [AccountId; 4],
        /// Someone with no role.
        pub outsider: AccountId,
    }

    impl Actors {
        pub fn new() -> Self {
            Actors {
                admin: AccountId::from([0xA0; 32]),
                owner: AccountId::from([0xA1; 32]),
                researcher: AccountId::from([0xA2; 32]),
                workers: [
                    AccountId::from([0xB0; 32]),
                    AccountId::from([0xB1; 32]),
                    AccountId::from([0xB2; 32]),
                    AccountId::from([0xB3; 32]),
                ],
                outsider: AccountId::from([0xEE; 32]),
            }
        }

        pub fn all(&self) -> Vec<AccountId> {
            let mut all = vec![self.admin, self.owner, self.researcher, self.outsider];
            all.extend(self.workers);
            all
        }
    }

    /// Funds everyone, points the environment at the contract account and
    /// deploys as `admin`. Call inside `#[ink::test]` / `run_test`.
    pub fn deploy() -> (Marketplace, Actors) {
        let actors = Actors::new();
        for account in actors.all() {
            test::set_account_balance::<Env>(account, FUNDS);
        }
        let contract = AccountId::from(CONTRACT);
        test::set_account_balance::<Env>(contract, CONTRACT_ED);
        test::set_callee::<Env>(contract);
        at(T0);
        as_(actors.admin);
        let market = Marketplace::new(params()).expect("deploy");
        (market, actors)
    }

    /// Sets the caller, with no value attached.
    pub fn as_(who: AccountId) {
        test::set_caller::<Env>(who);
        test::set_value_transferred::<Env>(0);
    }

    /// Sets the caller and moves `value` from it to the contract, as a payable
    /// call does.
    pub fn pay(who: AccountId, value: Balance) {
        test::set_caller::<Env>(who);
        test::transfer_in::<Env>(value);
    }

    /// Undoes `pay` after a failed call (on chain the runtime reverts it).
    pub fn unpay(who: AccountId, value: Balance) {
        let contract = AccountId::from(CONTRACT);
        let c = balance(contract);
        let w = balance(who);
        test::set_account_balance::<Env>(contract, c - value);
        test::set_account_balance::<Env>(who, w + value);
        test::set_value_transferred::<Env>(0);
    }

    pub fn balance(who: AccountId) -> Balance {
        test::get_account_balance::<Env>(who).unwrap_or(0)
    }

    /// The contract's balance above its existential deposit.
    pub fn contract_balance() -> Balance {
        balance(AccountId::from(CONTRACT)) - CONTRACT_ED
    }

    /// Sets the block timestamp.
    pub fn at(t: Timestamp) {
        test::set_block_timestamp::<Env>(t);
    }

    pub fn now() -> Timestamp {
        ink::env::block_timestamp::<Env>()
    }

    pub fn acc(who: AccountId) -> Account {
        *who.as_ref()
    }

    pub fn policy(replication: u8) -> Policy {
        Policy {
            allowed_pipelines: PipelineSet::ALL,
            min_cohort: 2,
            replication,
            dp_epsilon_budget: None,
        }
    }

    /// The i-th fake submission blob hash.
    pub fn blob(i: u64) -> Digest {
        let mut h = [0x5Au8; 32];
        h[..8].copy_from_slice(&i.to_be_bytes());
        h
    }

    /// `owner` registers a dataset with `items` submissions.
    pub fn dataset(m: &mut Marketplace, a: &Actors, policy: Policy, items: u64) -> DatasetId {
        as_(a.owner);
        let id = m
            .register_dataset([1; 32], [2; 32], PRICE, policy)
            .expect("register");
        if items > 0 {
            m.add_submissions(id, (0..items).map(blob).collect())
                .expect("submissions");
        }
        id
    }

    /// What a researcher reads before requesting on `ds` (zeros for a
    /// dataset that does not exist).
    pub fn expected(m: &Marketplace, ds: DatasetId) -> Expected {
        match m.dataset(ds) {
            Ok(d) => d.expected_with::<Sha2>(ds),
            Err(_) => Expected {
                price: 0,
                replication: 0,
                input_digest: [0; 32],
            },
        }
    }

    pub fn escrow_for(m: &Marketplace, ds: DatasetId) -> Balance {
        let d = m.dataset(ds).expect("dataset");
        required_escrow(
            d.price,
            m.params().expect("params").worker_fee,
            d.policy.replication,
        )
        .expect("escrow")
    }

    /// `researcher` requests a histogram job with the exact escrow, commit
    /// deadline `now + 20 s` (so its challenge and tie-break windows are 20 s).
    pub fn request(m: &mut Marketplace, a: &Actors, ds: DatasetId) -> JobId {
        let value = escrow_for(m, ds);
        pay(a.researcher, value);
        let e = expected(m, ds);
        let id = m
            .request(ds, PipelineId::Histogram, [3; 32], 0, now() + 20_000, e)
            .expect("request");
        as_(a.researcher);
        id
    }

    /// Every worker stakes `amount`.
    pub fn stake_all(m: &mut Marketplace, a: &Actors, amount: Balance) {
        for w in a.workers {
            pay(w, amount);
            m.stake().expect("stake");
        }
        as_(a.admin);
    }

    /// The seal `worker` posts for `result` on `job_id` (computed off chain
    /// with the sha2 crate).
    pub fn seal_for(m: &Marketplace, job_id: JobId, worker: AccountId, result: &Digest) -> Digest {
        let job = m.job(job_id).expect("job");
        hash::seal(&job.commitment_with::<Sha2>(job_id, result), &acc(worker))
    }

    /// `worker` claims and commits to `result`.
    pub fn work(m: &mut Marketplace, job_id: JobId, worker: AccountId, result: &Digest) {
        as_(worker);
        m.claim(job_id).expect("claim");
        let sealed = seal_for(m, job_id, worker, result);
        m.commit(job_id, sealed).expect("commit");
    }

    pub fn reveal(m: &mut Marketplace, job_id: JobId, worker: AccountId, result: &Digest) {
        as_(worker);
        m.reveal(job_id, *result).expect("reveal");
    }

    pub fn status(m: &Marketplace, job_id: JobId) -> JobStatus {
        m.job(job_id).expect("job").status
    }

    pub fn earned(m: &Marketplace, who: AccountId) -> Balance {
        m.earnings(who).expect("earnings")
    }

    /// Decoded events of type `E`, in emission order.
    pub fn events<E: ink::env::Event + ink::scale::Decode>() -> Vec<E> {
        let Some(signature) = E::SIGNATURE_TOPIC else {
            return Vec::new();
        };
        test::recorded_events()
            .filter(|e| e.topics.first().map(|t| t.as_slice()) == Some(&signature[..]))
            .map(|e| E::decode(&mut &e.data[..]).expect("event decodes"))
            .collect()
    }

    pub fn last<E: ink::env::Event + ink::scale::Decode>() -> E {
        events::<E>().pop().expect("event emitted")
    }

    /// Contract balance == escrow + stakes + earnings, and the totals match the
    /// sums over jobs, workers and actors.
    pub fn assert_conserved(m: &Marketplace, accounts: &[AccountId]) {
        let totals = m.totals().expect("totals");
        assert_eq!(
            contract_balance(),
            totals.escrow + totals.stakes + totals.earnings,
            "contract balance vs totals"
        );
        let escrow: Balance = (0..m.job_count().expect("count"))
            .map(|id| m.job(id).expect("job").escrow)
            .sum();
        assert_eq!(escrow, totals.escrow, "escrow sum");
        let stakes: Balance = accounts
            .iter()
            .map(|w| m.worker(*w).map(|w| w.stake).unwrap_or(0))
            .sum();
        assert_eq!(stakes, totals.stakes, "stake sum");
        let earnings: Balance = accounts.iter().map(|a| earned(m, *a)).sum();
        assert_eq!(earnings, totals.earnings, "earnings sum");
    }
}

// ------------------------------------------------------------- constructor

#[ink::test]
fn new_sets_owner_params_and_empty_totals() {
    let (m, a) = deploy();
    assert_eq!(m.owner(), Ok(a.admin));
    assert_eq!(m.params(), Ok(params()));
    assert_eq!(m.paused(), Ok(false));
    assert_eq!(m.totals(), Ok(Totals::default()));
    assert_eq!(m.dataset_count(), Ok(0));
    assert_eq!(m.job_count(), Ok(0));
}

#[ink::test]
fn new_rejects_invalid_params() {
    let mut p = params();
    p.reveal_window = 0;
    assert_eq!(Marketplace::new(p).err(), Some(Error::InvalidParams));
}

#[test]
fn metadata_selectors_match_protocol_table() {
    extern "Rust" {
        fn __ink_generate_metadata() -> ink::metadata::InkProject;
    }
    // SAFETY: `#[ink::contract]` defines this function in this crate (std
    // builds); it takes nothing and returns an owned value.
    let project = unsafe { __ink_generate_metadata() };
    let spec = project.spec();
    let mut found: Vec<(String, [u8; 4])> = spec
        .messages()
        .iter()
        .map(|m| {
            let selector: [u8; 4] = m.selector().to_bytes().try_into().expect("4 bytes");
            (m.label().clone(), selector)
        })
        .collect();
    let mut expected: Vec<(String, [u8; 4])> = selectors::MESSAGES
        .iter()
        .map(|(name, sel)| (name.to_string(), *sel))
        .collect();
    found.sort();
    expected.sort();
    assert_eq!(found, expected, "metadata messages vs selectors::MESSAGES");
    let constructors: Vec<_> = spec
        .constructors()
        .iter()
        .map(|c| (c.label().clone(), c.selector().to_bytes().to_vec()))
        .collect();
    assert_eq!(constructors, [("new".to_string(), selectors::NEW.to_vec())]);
    let mut event_labels: Vec<String> = spec.events().iter().map(|e| e.label().clone()).collect();
    event_labels.sort();
    for name in [
        "DatasetRegistered",
        "SubmissionsAdded",
        "JobRequested",
        "Revealed",
        "JobFinalized",
        "JobRefunded",
        "WorkerSlashed",
    ] {
        assert!(
            event_labels.iter().any(|l| l == name),
            "event {name} in metadata"
        );
    }
    assert_eq!(event_labels.len(), 29, "{event_labels:?}");
}

// ---------------------------------------------------------------- datasets

#[ink::test]
fn register_dataset_assigns_ids_and_emits() {
    let (mut m, a) = deploy();
    as_(a.owner);
    assert_eq!(m.register_dataset([1; 32], [2; 32], 5, policy(2)), Ok(0));
    assert_eq!(m.register_dataset([1; 32], [2; 32], 5, policy(1)), Ok(1));
    let d = m.dataset(0).expect("dataset");
    assert_eq!(d.owner, acc(a.owner));
    assert_eq!((d.price, d.policy, d.active), (5, policy(2), true));
    assert_eq!(d.registered_at, T0);
    assert_eq!(
        (d.submission_count, d.submissions_digest),
        (0, hash::EMPTY_DIGEST)
    );
    assert_eq!(m.dataset_count(), Ok(2));
    let e: DatasetRegistered = last();
    assert_eq!((e.dataset_id, e.owner, e.price), (1, acc(a.owner), 5));
}

#[ink::test]
fn register_dataset_validates_policy_and_pause() {
    let (mut m, a) = deploy();
    as_(a.owner);
    let mut p = policy(2);
    p.allowed_pipelines = PipelineSet(0b1_0000);
    assert_eq!(
        m.register_dataset([1; 32], [2; 32], 5, p),
        Err(Error::InvalidPipelineSet)
    );
    let mut p = policy(2);
    p.min_cohort = 0;
    assert_eq!(
        m.register_dataset([1; 32], [2; 32], 5, p),
        Err(Error::InvalidMinCohort)
    );
    assert_eq!(
        m.register_dataset([1; 32], [2; 32], 5, policy(4)),
        Err(Error::InvalidReplication)
    );
    assert_eq!(
        m.register_dataset([1; 32], [2; 32], 5, policy(0)),
        Err(Error::InvalidReplication)
    );
    as_(a.admin);
    m.set_paused(true).expect("pause");
    as_(a.owner);
    assert_eq!(
        m.register_dataset([1; 32], [2; 32], 5, policy(2)),
        Err(Error::Paused)
    );
    assert_eq!(m.dataset_count(), Ok(0));
}

#[ink::test]
fn update_dataset_owner_only() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 0);
    as_(a.outsider);
    assert_eq!(
        m.update_dataset(ds, 9, policy(3)),
        Err(Error::NotDatasetOwner)
    );
    as_(a.owner);
    assert_eq!(
        m.update_dataset(ds, 9, policy(9)),
        Err(Error::InvalidReplication)
    );
    assert_eq!(
        m.update_dataset(7, 9, policy(3)),
        Err(Error::DatasetNotFound)
    );
    assert_eq!(m.update_dataset(ds, 9, policy(3)), Ok(()));
    let d = m.dataset(ds).expect("dataset");
    assert_eq!((d.price, d.policy), (9, policy(3)));
    let e: DatasetUpdated = last();
    assert_eq!((e.dataset_id, e.price, e.policy), (ds, 9, policy(3)));
}

#[ink::test]
fn deactivate_dataset_owner_only_and_once() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    as_(a.outsider);
    assert_eq!(m.deactivate_dataset(ds), Err(Error::NotDatasetOwner));
    as_(a.owner);
    assert_eq!(m.deactivate_dataset(9), Err(Error::DatasetNotFound));
    assert_eq!(m.deactivate_dataset(ds), Ok(()));
    assert!(!m.dataset(ds).expect("dataset").active);
    assert_eq!(last::<DatasetDeactivated>().dataset_id, ds);
    assert_eq!(m.deactivate_dataset(ds), Err(Error::DatasetInactive));
    assert_eq!(
        m.add_submissions(ds, vec![[0; 32]]),
        Err(Error::DatasetInactive)
    );
    // Consent can still be withdrawn.
    assert_eq!(m.revoke_submission(ds, 1), Ok(()));
    pay(a.researcher, 10_000);
    assert_eq!(
        m.request(ds, PipelineId::Histogram, [3; 32], 0, T0 + 20_000, expected(&m, ds)),
        Err(Error::DatasetInactive)
    );
}

#[ink::test]
fn add_submissions_folds_the_running_digest() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 0);
    let first: Vec<Digest> = (0..3).map(blob).collect();
    as_(a.owner);
    assert_eq!(m.add_submissions(ds, first.clone()), Ok(3));
    assert_eq!(m.add_submissions(ds, vec![blob(3)]), Ok(4));
    let all: Vec<Digest> = (0..4).map(blob).collect();
    let d = m.dataset(ds).expect("dataset");
    // The contract's host-function SHA-256 equals the sha2 crate's.
    assert_eq!(d.submissions_digest, hash::submissions_digest(&all));
    assert_eq!(d.submission_count, 4);
    let e: SubmissionsAdded = last();
    assert_eq!((e.first_index, e.count), (3, 4));
    assert_eq!(e.blob_hashes, vec![blob(3)]);
    assert_eq!(e.digest, d.submissions_digest);
    assert_eq!(events::<SubmissionsAdded>()[0].blob_hashes, first);
}

#[ink::test]
fn add_submissions_errors() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 0);
    as_(a.outsider);
    assert_eq!(
        m.add_submissions(ds, vec![blob(0)]),
        Err(Error::NotDatasetOwner)
    );
    as_(a.owner);
    assert_eq!(
        m.add_submissions(5, vec![blob(0)]),
        Err(Error::DatasetNotFound)
    );
    assert_eq!(m.add_submissions(ds, vec![]), Err(Error::EmptyBatch));
    let too_many = (0..u64::from(MAX_BATCH) + 1).map(blob).collect();
    assert_eq!(m.add_submissions(ds, too_many), Err(Error::BatchTooLarge));
    let max = (0..u64::from(MAX_BATCH)).map(blob).collect();
    assert_eq!(m.add_submissions(ds, max), Ok(u64::from(MAX_BATCH)));
}

#[ink::test]
fn revoke_submission_updates_digest_and_jobs_bind_it() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 5);
    as_(a.owner);
    assert_eq!(m.revoke_submission(ds, 3), Ok(()));
    assert_eq!(m.revoke_submission(ds, 0), Ok(()));
    assert_eq!(m.is_revoked(ds, 3), Ok(true));
    assert_eq!(m.is_revoked(ds, 1), Ok(false));
    let d = m.dataset(ds).expect("dataset");
    assert_eq!(d.revocations_digest, hash::revocations_digest(&[3, 0]));
    assert_eq!((d.revocation_count, d.cohort()), (2, 3));
    let e: SubmissionRevoked = last();
    assert_eq!((e.index, e.count, e.digest), (0, 2, d.revocations_digest));
    let job_id = request(&mut m, &a, ds);
    let job = m.job(job_id).expect("job");
    let subs = hash::submissions_digest(&(0..5).map(blob).collect::<Vec<_>>());
    let expected = hash::input_digest(ds, &subs, 5, &hash::revocations_digest(&[3, 0]), 2);
    assert_eq!(job.input_digest, expected);
    assert_eq!((job.submission_count, job.revocation_count), (5, 2));
}

#[ink::test]
fn revoke_submission_errors() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 2);
    as_(a.outsider);
    assert_eq!(m.revoke_submission(ds, 0), Err(Error::NotDatasetOwner));
    as_(a.owner);
    assert_eq!(m.revoke_submission(9, 0), Err(Error::DatasetNotFound));
    assert_eq!(m.revoke_submission(ds, 2), Err(Error::SubmissionNotFound));
    assert_eq!(m.revoke_submission(ds, 1), Ok(()));
    assert_eq!(m.revoke_submission(ds, 1), Err(Error::AlreadyRevoked));
    assert_eq!(m.is_revoked(9, 0), Err(Error::DatasetNotFound));
}

// ----------------------------------------------------------------- workers

#[ink::test]
fn stake_registers_and_tops_up() {
    let (mut m, a) = deploy();
    let w = a.workers[0];
    assert_eq!(m.worker(w), Err(Error::NotWorker));
    pay(w, 300);
    assert_eq!(m.stake(), Ok(300));
    pay(w, 200);
    assert_eq!(m.stake(), Ok(500));
    assert_eq!(m.worker(w).map(|i| (i.stake, i.locked)), Ok((500, 0)));
    assert_eq!(m.totals().map(|t| t.stakes), Ok(500));
    assert_eq!(contract_balance(), 500);
    let e: Staked = last();
    assert_eq!((e.worker, e.amount, e.stake), (acc(w), 200, 500));
}

#[ink::test]
fn stake_errors() {
    let (mut m, a) = deploy();
    as_(a.workers[0]);
    assert_eq!(m.stake(), Err(Error::ZeroValue));
    as_(a.admin);
    m.set_paused(true).expect("pause");
    pay(a.workers[0], 5);
    assert_eq!(m.stake(), Err(Error::Paused));
}

#[ink::test]
fn withdraw_stake_transfers_and_unregisters() {
    let (mut m, a) = deploy();
    let w = a.workers[0];
    pay(w, 300);
    m.stake().expect("stake");
    as_(w);
    assert_eq!(m.withdraw_stake(0), Err(Error::InvalidAmount));
    assert_eq!(m.withdraw_stake(301), Err(Error::InvalidAmount));
    assert_eq!(m.withdraw_stake(100), Ok(()));
    assert_eq!(balance(w), FUNDS - 200);
    assert_eq!(last::<StakeWithdrawn>().stake, 200);
    assert_eq!(m.withdraw_stake(200), Ok(()));
    assert_eq!(balance(w), FUNDS);
    assert_eq!(m.worker(w), Err(Error::NotWorker));
    assert_eq!(m.withdraw_stake(1), Err(Error::NotWorker));
    assert_eq!(contract_balance(), 0);
}

#[ink::test]
fn withdraw_stake_refused_with_open_claim() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    stake_all(&mut m, &a, 500);
    let job = request(&mut m, &a, ds);
    as_(a.workers[0]);
    m.claim(job).expect("claim");
    assert_eq!(m.withdraw_stake(10), Err(Error::OpenClaims));
}

// -------------------------------------------------------------------- jobs

#[ink::test]
fn request_escrows_and_snapshots() {
    let (mut m, a) = deploy();
    let mut p = policy(2);
    p.dp_epsilon_budget = Some(1_500);
    let ds = dataset(&mut m, &a, p, 3);
    let value = PRICE + 10 * 3 + 7; // price + fee × (2 + 1), plus 7 extra
    pay(a.researcher, value);
    let job_id = m
        .request(ds, PipelineId::LvArea, [9; 32], 1_000, T0 + 10_000, expected(&m, ds))
        .expect("request");
    assert_eq!(job_id, 0);
    let job = m.job(job_id).expect("job");
    assert_eq!(job.researcher, acc(a.researcher));
    assert_eq!(
        (job.escrow, job.price, job.terms.worker_fee, job.terms.claim_stake),
        (value, PRICE, 10, 100)
    );
    // Windows frozen at request; the dispute windows cover the 10 s compute window.
    assert_eq!(
        (
            job.terms.reveal_window,
            job.terms.challenge_window,
            job.terms.tiebreak_window,
            job.terms.release_window
        ),
        (1_000, 10_000, 10_000, 1_000)
    );
    assert_eq!(job.slashed, 0);
    assert_eq!((job.replication, job.slots, job.round), (2, 2, 0));
    assert_eq!(
        (job.status, job.deadline, job.requested_at),
        (JobStatus::Open, T0 + 10_000, T0)
    );
    assert_eq!(
        (job.pipeline, job.params_hash, job.epsilon),
        (PipelineId::LvArea, [9; 32], 1_000)
    );
    assert_eq!(job.server_key_hash, [2; 32]);
    assert_eq!(m.dataset(ds).map(|d| d.epsilon_spent), Ok(1_000));
    assert_eq!(m.totals().map(|t| t.escrow), Ok(value));
    assert_eq!(contract_balance(), value);
    let e: JobRequested = last();
    assert_eq!(
        (e.job_id, e.dataset_id, e.researcher, e.escrow),
        (0, ds, acc(a.researcher), value)
    );
    assert_eq!(e.input_digest, job.input_digest);
    assert_eq!(m.job_count(), Ok(1));
}

#[ink::test]
fn request_errors() {
    let (mut m, a) = deploy();
    let mut p = policy(2);
    p.allowed_pipelines = PipelineSet::of(&[PipelineId::Histogram]);
    p.dp_epsilon_budget = Some(1_000);
    p.min_cohort = 3;
    let ds = dataset(&mut m, &a, p, 3);
    let need = escrow_for(&m, ds);
    let h = PipelineId::Histogram;
    let try_request = |m: &mut Marketplace, ds, pipeline, eps, deadline, value| {
        pay(a.researcher, value);
        let e = expected(m, ds);
        let r = m.request(ds, pipeline, [3; 32], eps, deadline, e);
        if r.is_err() {
            unpay(a.researcher, value);
        }
        r
    };
    assert_eq!(
        try_request(&mut m, 9, h, 1, T0 + 10_000, need),
        Err(Error::DatasetNotFound)
    );
    assert_eq!(
        try_request(&mut m, ds, PipelineId::Conv3x3, 1, T0 + 10_000, need),
        Err(Error::PipelineNotAllowed)
    );
    assert_eq!(
        try_request(&mut m, ds, h, 1, T0 + 1_980, need),
        Err(Error::DeadlineTooSoon)
    );
    assert_eq!(
        try_request(&mut m, ds, h, 1, T0 + 2_000_020, need),
        Err(Error::DeadlineTooFar)
    );
    assert_eq!(
        try_request(&mut m, ds, h, 1, T0 + 10_000, need - 1),
        Err(Error::InsufficientEscrow)
    );
    assert_eq!(
        try_request(&mut m, ds, h, 0, T0 + 10_000, need),
        Err(Error::EpsilonRequired)
    );
    assert_eq!(
        try_request(&mut m, ds, h, 1_001, T0 + 10_000, need),
        Err(Error::EpsilonBudgetExhausted)
    );
    assert_eq!(try_request(&mut m, ds, h, 600, T0 + 10_000, need), Ok(0));
    assert_eq!(
        try_request(&mut m, ds, h, 401, T0 + 10_000, need),
        Err(Error::EpsilonBudgetExhausted)
    );
    assert_eq!(try_request(&mut m, ds, h, 400, T0 + 2_000, need), Ok(1));
    as_(a.owner);
    m.revoke_submission(ds, 0).expect("revoke");
    assert_eq!(
        try_request(&mut m, ds, h, 1, T0 + 10_000, need),
        Err(Error::CohortTooSmall)
    );
    // price + fees overflowing u128 is refused, not wrapped.
    as_(a.owner);
    let big = m
        .register_dataset([1; 32], [2; 32], Balance::MAX, policy(1))
        .expect("register");
    m.add_submissions(big, (0..3).map(blob).collect())
        .expect("subs");
    assert_eq!(
        try_request(&mut m, big, h, 0, T0 + 10_000, 1),
        Err(Error::Overflow)
    );
    as_(a.admin);
    m.set_paused(true).expect("pause");
    assert_eq!(
        try_request(&mut m, ds, h, 1, T0 + 10_000, need),
        Err(Error::Paused)
    );
    assert_eq!(m.job_count(), Ok(2));
    assert_conserved(&m, &a.all());
}

#[ink::test]
fn cancel_refunds_an_unclaimed_job() {
    let (mut m, a) = deploy();
    let mut p = policy(2);
    p.dp_epsilon_budget = Some(1_000);
    let ds = dataset(&mut m, &a, p, 3);
    let value = escrow_for(&m, ds);
    pay(a.researcher, value);
    let job = m
        .request(ds, PipelineId::Histogram, [3; 32], 700, T0 + 10_000, expected(&m, ds))
        .expect("request");
    as_(a.outsider);
    assert_eq!(m.cancel(job), Err(Error::NotResearcher));
    as_(a.researcher);
    assert_eq!(m.cancel(9), Err(Error::JobNotFound));
    assert_eq!(m.cancel(job), Ok(()));
    assert_eq!(status(&m, job), JobStatus::Cancelled);
    // The job held privacy budget: the owner keeps a tenth of the price.
    let fee = PRICE / 10;
    assert_eq!(earned(&m, a.researcher), value - fee);
    assert_eq!(earned(&m, a.owner), fee);
    assert_eq!(m.dataset(ds).map(|d| d.epsilon_spent), Ok(0));
    let e: JobCancelled = last();
    assert_eq!((e.refund, e.owner_paid), (value - fee, fee));
    assert_eq!(m.cancel(job), Err(Error::WrongStatus));
    assert_eq!(m.withdraw(), Ok(value - fee));
    assert_eq!(balance(a.researcher), FUNDS - fee);
    assert_conserved(&m, &a.all());
}

#[ink::test]
fn cancel_refused_once_claimed() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    stake_all(&mut m, &a, 500);
    let job = request(&mut m, &a, ds);
    as_(a.workers[0]);
    m.claim(job).expect("claim");
    as_(a.researcher);
    assert_eq!(m.cancel(job), Err(Error::JobClaimed));
}

#[ink::test]
fn claim_locks_stake() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    stake_all(&mut m, &a, 150);
    let job = request(&mut m, &a, ds);
    let w = a.workers[0];
    as_(w);
    assert_eq!(m.claim(job), Ok(()));
    let info = m.worker(w).expect("worker");
    assert_eq!((info.stake, info.locked, info.open_claims), (150, 100, 1));
    let e: JobClaimed = last();
    assert_eq!(
        (e.job_id, e.dataset_id, e.worker, e.round, e.stake),
        (job, ds, acc(w), 0, 100)
    );
    // 50 free is below the claim stake of 100.
    let second = request(&mut m, &a, ds);
    as_(w);
    assert_eq!(m.claim(second), Err(Error::InsufficientStake));
}

#[ink::test]
fn claim_errors() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    stake_all(&mut m, &a, 500);
    let job = request(&mut m, &a, ds);
    as_(a.outsider);
    assert_eq!(m.claim(job), Err(Error::NotWorker));
    as_(a.workers[0]);
    assert_eq!(m.claim(9), Err(Error::JobNotFound));
    assert_eq!(m.claim(job), Ok(()));
    assert_eq!(m.claim(job), Err(Error::AlreadyClaimed));
    as_(a.workers[1]);
    assert_eq!(m.claim(job), Ok(()));
    as_(a.workers[2]);
    assert_eq!(m.claim(job), Err(Error::NoFreeSlot));
    let late = request(&mut m, &a, ds);
    at(T0 + 20_000);
    as_(a.workers[2]);
    assert_eq!(m.claim(late), Err(Error::DeadlinePassed));
    at(T0);
    as_(a.researcher);
    m.cancel(late).expect("cancel");
    as_(a.workers[2]);
    assert_eq!(m.claim(late), Err(Error::WrongStatus));
    as_(a.admin);
    m.set_paused(true).expect("pause");
    as_(a.workers[2]);
    assert_eq!(m.claim(job), Err(Error::Paused));
}

#[ink::test]
fn commit_opens_reveal_when_all_slots_committed() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    stake_all(&mut m, &a, 500);
    let job = request(&mut m, &a, ds);
    let r = [7u8; 32];
    work(&mut m, job, a.workers[0], &r);
    let e: Committed = last();
    assert_eq!((e.job_id, e.worker), (job, acc(a.workers[0])));
    assert_eq!(status(&m, job), JobStatus::Open);
    at(T0 + 200);
    work(&mut m, job, a.workers[1], &r);
    assert_eq!(status(&m, job), JobStatus::Revealing);
    assert_eq!(m.job(job).map(|j| j.deadline), Ok(T0 + 200 + 1_000));
    let e: RevealOpened = last();
    assert_eq!((e.job_id, e.round, e.deadline), (job, 0, T0 + 1_200));
}

#[ink::test]
fn commit_errors() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    stake_all(&mut m, &a, 500);
    let job = request(&mut m, &a, ds);
    as_(a.workers[0]);
    assert_eq!(m.commit(9, [0; 32]), Err(Error::JobNotFound));
    assert_eq!(m.commit(job, [0; 32]), Err(Error::NotClaimant));
    m.claim(job).expect("claim");
    assert_eq!(m.commit(job, [1; 32]), Ok(()));
    assert_eq!(m.commit(job, [1; 32]), Err(Error::AlreadyCommitted));
    as_(a.workers[1]);
    m.claim(job).expect("claim");
    at(T0 + 20_000);
    assert_eq!(m.commit(job, [1; 32]), Err(Error::DeadlinePassed));
    m.advance(job).expect("advance");
    assert_eq!(status(&m, job), JobStatus::Revealing);
    assert_eq!(m.commit(job, [1; 32]), Err(Error::WrongStatus));
}

#[ink::test]
fn reveal_checks_the_seal_against_the_jobs_own_fields() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    stake_all(&mut m, &a, 500);
    let job = request(&mut m, &a, ds);
    let r = [7u8; 32];
    work(&mut m, job, a.workers[0], &r);
    // Worker 1 copies worker 0's seal: it cannot open it.
    as_(a.workers[1]);
    m.claim(job).expect("claim");
    let copied = seal_for(&m, job, a.workers[0], &r);
    m.commit(job, copied).expect("commit");
    as_(a.workers[1]);
    assert_eq!(m.reveal(job, r), Err(Error::SealMismatch));
    as_(a.workers[0]);
    assert_eq!(m.reveal(job, [8; 32]), Err(Error::SealMismatch));
    assert_eq!(m.reveal(job, r), Ok(()));
    let e: Revealed = last();
    let info = m.job(job).expect("job");
    // The commitment the contract recomputed equals the protocol's sha2 one.
    let expected = hash::commitment(
        job,
        ds,
        PipelineId::Histogram,
        &[3; 32],
        &info.input_digest,
        &[2; 32],
        &r,
    );
    assert_eq!(
        (e.worker, e.result_blob_hash, e.commitment),
        (acc(a.workers[0]), r, expected)
    );
    assert_eq!(m.reveal(job, r), Err(Error::AlreadyRevealed));
    as_(a.outsider);
    assert_eq!(m.reveal(job, r), Err(Error::NotClaimant));
    at(T0 + 1_200);
    as_(a.workers[1]);
    assert_eq!(m.reveal(job, r), Err(Error::DeadlinePassed));
    // The copier never revealed: slashed as missed; one result is not
    // agreement, so the job goes to a tie-break.
    assert_eq!(m.advance(job), Ok(JobStatus::Disputed));
    let slash: WorkerSlashed = last::<WorkerSlashed>();
    assert_eq!(
        (slash.worker, slash.reason, slash.amount),
        (acc(a.workers[1]), SlashReason::Missed, 100)
    );
    assert_eq!(m.reveal(job, r), Err(Error::WrongStatus));
    assert_eq!(m.reveal(9, r), Err(Error::JobNotFound));
    assert_conserved(&m, &a.all());
}

#[ink::test]
fn happy_path_replication_two_pays_everyone_once() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    stake_all(&mut m, &a, 500);
    let value = escrow_for(&m, ds) + 5;
    pay(a.researcher, value);
    let job = m
        .request(ds, PipelineId::Histogram, [3; 32], 0, T0 + 20_000, expected(&m, ds))
        .expect("request");
    let r = [7u8; 32];
    work(&mut m, job, a.workers[0], &r);
    work(&mut m, job, a.workers[1], &r);
    reveal(&mut m, job, a.workers[0], &r);
    assert_eq!(status(&m, job), JobStatus::Revealing);
    reveal(&mut m, job, a.workers[1], &r);
    assert_eq!(status(&m, job), JobStatus::Computed);
    let computed: JobComputed = last();
    assert_eq!(computed.result_blob_hash, r);
    assert_eq!(
        m.job(job).map(|j| j.commitment),
        Ok(Some(computed.commitment))
    );
    as_(a.owner);
    assert_eq!(m.release(job, [4; 32]), Ok(()));
    assert_eq!(last::<ResultReleased>().released_hash, [4; 32]);
    assert_eq!(status(&m, job), JobStatus::Released);
    as_(a.outsider);
    assert_eq!(m.finalize(job), Ok(()));
    assert_eq!(m.finalize(job), Err(Error::WrongStatus));
    let fin: JobFinalized = last();
    assert_eq!(
        (fin.owner_paid, fin.workers_paid, fin.researcher_refund),
        (PRICE, 20, 10 + 5)
    );
    assert_eq!(earned(&m, a.owner), PRICE);
    assert_eq!(earned(&m, a.workers[0]), 10);
    assert_eq!(earned(&m, a.workers[1]), 10);
    assert_eq!(earned(&m, a.researcher), 15);
    for w in &a.workers[..2] {
        let info = m.worker(*w).expect("worker");
        assert_eq!((info.stake, info.locked, info.open_claims), (500, 0, 0));
    }
    assert_eq!(m.job(job).map(|j| j.escrow), Ok(0));
    assert_conserved(&m, &a.all());
    // Everyone takes their money out; the contract ends empty.
    for who in [a.owner, a.researcher, a.workers[0], a.workers[1]] {
        as_(who);
        m.withdraw().expect("withdraw");
    }
    for w in a.workers {
        as_(w);
        m.withdraw_stake(500).expect("unstake");
    }
    assert_eq!(contract_balance(), 0);
    assert_eq!(balance(a.owner), FUNDS + PRICE);
    assert_eq!(balance(a.researcher), FUNDS - PRICE - 20);
    assert_eq!(balance(a.workers[0]), FUNDS + 10);
}

#[ink::test]
fn dispute_tiebreak_slashes_the_dissenter() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    stake_all(&mut m, &a, 500);
    let job = request(&mut m, &a, ds);
    let (good, bad) = ([7u8; 32], [6u8; 32]);
    work(&mut m, job, a.workers[0], &good);
    work(&mut m, job, a.workers[1], &bad);
    reveal(&mut m, job, a.workers[0], &good);
    reveal(&mut m, job, a.workers[1], &bad);
    assert_eq!(status(&m, job), JobStatus::Disputed);
    let d: JobDisputed = last();
    assert_eq!((d.job_id, d.dataset_id), (job, ds));
    let info = m.job(job).expect("job");
    assert_eq!((info.round, info.slots), (1, 3));
    as_(a.workers[0]);
    assert_eq!(m.claim(job), Err(Error::AlreadyClaimed));
    work(&mut m, job, a.workers[2], &good);
    assert_eq!(status(&m, job), JobStatus::Revealing);
    as_(a.workers[3]);
    assert_eq!(m.claim(job), Err(Error::WrongStatus));
    reveal(&mut m, job, a.workers[2], &good);
    assert_eq!(status(&m, job), JobStatus::Computed);
    let slash: WorkerSlashed = last();
    assert_eq!(
        (slash.worker, slash.reason),
        (acc(a.workers[1]), SlashReason::Dissent)
    );
    assert_eq!(
        m.worker(a.workers[1]).map(|w| (w.stake, w.locked)),
        Ok((400, 0))
    );
    // The slashed stake stays with the job, for the honest side: not the admin.
    assert_eq!(earned(&m, a.admin), 0);
    assert_eq!(m.job(job).map(|j| j.slashed), Ok(100));
    as_(a.owner);
    m.release(job, [4; 32]).expect("release");
    m.finalize(job).expect("finalize");
    // Each winner: its fee and half the dissenter's stake.
    assert_eq!(earned(&m, a.workers[0]), 10 + 50);
    assert_eq!(earned(&m, a.workers[2]), 10 + 50);
    assert_eq!(earned(&m, a.workers[1]), 0);
    assert_eq!(earned(&m, a.researcher), 10);
    assert_eq!(earned(&m, a.admin), 0);
    assert_conserved(&m, &a.all());
}

/// Attack: with replication 3, a tie-break that sides with the minority
/// used to end in a refund that slashed nobody (a free way to kill a job),
/// and a bare plurality (two of four) could win. Now a round without a
/// strict majority escalates to fresh replicas, and every dissenter is
/// slashed once a majority exists.
#[ink::test]
fn dispute_escalates_until_a_strict_majority() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(3), 3);
    stake_all(&mut m, &a, 500);
    pay(a.outsider, 500);
    m.stake().expect("a fifth worker");
    let job = request(&mut m, &a, ds);
    let (x, y) = ([1u8; 32], [2u8; 32]);
    work(&mut m, job, a.workers[0], &x);
    work(&mut m, job, a.workers[1], &x);
    work(&mut m, job, a.workers[2], &y);
    for (w, r) in [(0, x), (1, x), (2, y)] {
        reveal(&mut m, job, a.workers[w], &r);
    }
    assert_eq!(status(&m, job), JobStatus::Disputed);
    // The tie-break sides with the minority: 2 against 2, no strict majority.
    work(&mut m, job, a.workers[3], &y);
    reveal(&mut m, job, a.workers[3], &y);
    assert_eq!(status(&m, job), JobStatus::Disputed);
    let d: JobDisputed = last();
    assert_eq!(d.round, 2);
    let info = m.job(job).expect("job");
    assert_eq!((info.round, info.slots), (2, 5));
    assert!(events::<WorkerSlashed>().is_empty());
    // A fresh replica breaks the tie: 3 of 5.
    work(&mut m, job, a.outsider, &x);
    reveal(&mut m, job, a.outsider, &x);
    assert_eq!(status(&m, job), JobStatus::Computed);
    let slashed: Vec<_> = events::<WorkerSlashed>()
        .into_iter()
        .map(|e| (e.worker, e.reason))
        .collect();
    assert_eq!(
        slashed,
        [
            (acc(a.workers[2]), SlashReason::Dissent),
            (acc(a.workers[3]), SlashReason::Dissent)
        ]
    );
    as_(a.owner);
    m.release(job, [4; 32]).expect("release");
    m.finalize(job).expect("finalize");
    // Three winners: a fee each (the reserve covers four) and a third of
    // the two slashed stakes; the odd unit goes back to the researcher.
    for w in [a.workers[0], a.workers[1], a.outsider] {
        assert_eq!(earned(&m, w), 10 + 66);
    }
    assert_eq!(earned(&m, a.researcher), 10 + 2);
    assert_eq!(earned(&m, a.admin), 0);
    assert_conserved(&m, &a.all());
}

/// Attack: two colluding accounts take both slots and agree on a forged
/// result. The data owner, whose recomputation differs (verify before
/// decrypt), rejects the agreed result with a bonded challenge; fresh blind
/// replicas decide, and the colluders are slashed. (The old contract had no
/// way to reject an agreed result.)
#[ink::test]
fn owner_rejects_an_agreed_result_and_fresh_replicas_decide() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    stake_all(&mut m, &a, 500);
    let job = request(&mut m, &a, ds);
    let (forged, correct) = ([6u8; 32], [7u8; 32]);
    for w in &a.workers[..2] {
        work(&mut m, job, *w, &forged);
    }
    for w in &a.workers[..2] {
        reveal(&mut m, job, *w, &forged);
    }
    assert_eq!(status(&m, job), JobStatus::Computed);
    // Only the dataset owner may reject an agreed result, with a bond.
    as_(a.workers[2]);
    assert_eq!(m.challenge(job, correct), Err(Error::WrongStatus));
    as_(a.owner);
    assert_eq!(m.challenge(job, correct), Err(Error::NotWorker));
    pay(a.owner, 100);
    m.stake().expect("the owner's bond");
    as_(a.owner);
    assert_eq!(m.challenge(job, forged), Err(Error::NotConflicting));
    assert_eq!(m.challenge(job, correct), Ok(()));
    let info = m.job(job).expect("job");
    assert_eq!((info.status, info.round), (JobStatus::Disputed, 1));
    assert_eq!((info.result_blob_hash, info.commitment), (None, None));
    assert_eq!(m.release(job, [4; 32]), Err(Error::WrongStatus));
    // Round 1: a fresh replica computes the truth; 2 against 2.
    work(&mut m, job, a.workers[2], &correct);
    reveal(&mut m, job, a.workers[2], &correct);
    assert_eq!(m.job(job).map(|j| (j.status, j.round)), Ok((JobStatus::Disputed, 2)));
    // Round 2: another fresh replica; the truth has 3 of 5.
    work(&mut m, job, a.workers[3], &correct);
    reveal(&mut m, job, a.workers[3], &correct);
    assert_eq!(status(&m, job), JobStatus::Computed);
    assert_eq!(m.job(job).map(|j| j.result_blob_hash), Ok(Some(correct)));
    let slashed: Vec<_> = events::<WorkerSlashed>().iter().map(|e| e.worker).collect();
    assert_eq!(slashed, [acc(a.workers[0]), acc(a.workers[1])]);
    as_(a.owner);
    m.release(job, [4; 32]).expect("release");
    m.finalize(job).expect("finalize");
    // Winners: the owner, workers 2 and 3 (fees from the reserve of three,
    // a third of the two slashed stakes each).
    assert_eq!(earned(&m, a.workers[2]), 10 + 66);
    assert_eq!(earned(&m, a.workers[3]), 10 + 66);
    assert_eq!(earned(&m, a.owner), PRICE + 10 + 66);
    assert_eq!(earned(&m, a.workers[0]), 0);
    assert_conserved(&m, &a.all());
}

/// A frivolous rejection costs the owner its bond.
#[ink::test]
fn owner_loses_its_bond_rejecting_a_correct_result() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    stake_all(&mut m, &a, 500);
    pay(a.owner, 100);
    m.stake().expect("the owner's bond");
    let job = request(&mut m, &a, ds);
    let (right, wrong) = ([7u8; 32], [6u8; 32]);
    for w in &a.workers[..2] {
        work(&mut m, job, *w, &right);
    }
    for w in &a.workers[..2] {
        reveal(&mut m, job, *w, &right);
    }
    as_(a.owner);
    m.challenge(job, wrong).expect("reject");
    work(&mut m, job, a.workers[2], &right);
    reveal(&mut m, job, a.workers[2], &right);
    assert_eq!(status(&m, job), JobStatus::Computed);
    let slash: WorkerSlashed = last();
    assert_eq!((slash.worker, slash.reason), (acc(a.owner), SlashReason::Dissent));
    assert_eq!(m.worker(a.owner).map(|w| w.stake), Err(Error::NotWorker));
    assert_conserved(&m, &a.all());
}

/// Rounds are bounded: with no strict majority after `MAX_DISPUTE_ROUNDS`
/// rounds the job refunds.
#[ink::test]
fn dispute_refunds_after_the_last_round() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    stake_all(&mut m, &a, 500);
    let job = request(&mut m, &a, ds);
    work(&mut m, job, a.workers[0], &[1; 32]);
    work(&mut m, job, a.workers[1], &[2; 32]);
    reveal(&mut m, job, a.workers[0], &[1; 32]);
    reveal(&mut m, job, a.workers[1], &[2; 32]);
    as_(a.outsider);
    for round in 1..=MAX_DISPUTE_ROUNDS {
        let info = m.job(job).expect("job");
        assert_eq!((info.status, info.round), (JobStatus::Disputed, round));
        at(info.deadline);
        m.advance(job).expect("advance");
    }
    assert_eq!(status(&m, job), JobStatus::Refunded);
    let refund: JobRefunded = last();
    assert_eq!(
        (refund.reason, refund.refund, refund.workers_paid),
        (RefundReason::NoMajority, escrow_for(&m, ds), 0)
    );
    assert!(events::<WorkerSlashed>().is_empty());
    assert_conserved(&m, &a.all());
}

#[ink::test]
fn replication_one_challenge_window_then_computed() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(1), 3);
    stake_all(&mut m, &a, 500);
    let job = request(&mut m, &a, ds);
    let r = [7u8; 32];
    work(&mut m, job, a.workers[0], &r);
    reveal(&mut m, job, a.workers[0], &r);
    assert_eq!(status(&m, job), JobStatus::Challenge);
    let open: ChallengeOpened = last();
    // The challenge window is at least the job's compute window (20 s):
    // a challenger must recompute the whole job.
    assert_eq!((open.dataset_id, open.deadline), (ds, T0 + 20_000));
    as_(a.outsider);
    assert_eq!(m.advance(job), Err(Error::DeadlineNotReached));
    at(T0 + 20_000);
    assert_eq!(m.advance(job), Ok(JobStatus::Computed));
    assert_eq!(m.job(job).map(|j| j.result_blob_hash), Ok(Some(r)));
}

#[ink::test]
fn challenge_with_tiebreak_slashes_the_loser() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(1), 3);
    stake_all(&mut m, &a, 500);
    let job = request(&mut m, &a, ds);
    let (lazy, right) = ([6u8; 32], [7u8; 32]);
    work(&mut m, job, a.workers[0], &lazy);
    reveal(&mut m, job, a.workers[0], &lazy);
    as_(a.workers[1]);
    assert_eq!(m.challenge(job, right), Ok(()));
    let c: Challenged = last();
    assert_eq!((c.worker, c.result_blob_hash), (acc(a.workers[1]), right));
    let info = m.job(job).expect("job");
    assert_eq!(
        (info.status, info.round, info.slots),
        (JobStatus::Disputed, 1, 3)
    );
    work(&mut m, job, a.workers[2], &right);
    reveal(&mut m, job, a.workers[2], &right);
    assert_eq!(status(&m, job), JobStatus::Computed);
    assert_eq!(m.job(job).map(|j| j.result_blob_hash), Ok(Some(right)));
    let slash: WorkerSlashed = last();
    assert_eq!(
        (slash.worker, slash.reason),
        (acc(a.workers[0]), SlashReason::Dissent)
    );
    as_(a.owner);
    m.release(job, [4; 32]).expect("release");
    m.finalize(job).expect("finalize");
    // Two winners paid from the fee slots (1 replica + 1 reserve), and the
    // lazy worker's stake shared between the challenger and the tie-breaker.
    assert_eq!(earned(&m, a.workers[1]), 10 + 50);
    assert_eq!(earned(&m, a.workers[2]), 10 + 50);
    assert_eq!(earned(&m, a.researcher), 0);
    assert_conserved(&m, &a.all());
}

#[ink::test]
fn challenge_errors() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(1), 3);
    stake_all(&mut m, &a, 500);
    let job = request(&mut m, &a, ds);
    let r = [7u8; 32];
    as_(a.workers[1]);
    assert_eq!(m.challenge(job, [1; 32]), Err(Error::WrongStatus));
    assert_eq!(m.challenge(9, [1; 32]), Err(Error::JobNotFound));
    work(&mut m, job, a.workers[0], &r);
    reveal(&mut m, job, a.workers[0], &r);
    as_(a.outsider);
    assert_eq!(m.challenge(job, [1; 32]), Err(Error::NotWorker));
    as_(a.workers[0]);
    assert_eq!(m.challenge(job, [1; 32]), Err(Error::AlreadyClaimed));
    as_(a.workers[1]);
    assert_eq!(m.challenge(job, r), Err(Error::NotConflicting));
    pay(a.outsider, 50);
    m.stake().expect("stake");
    as_(a.outsider);
    assert_eq!(m.challenge(job, [1; 32]), Err(Error::InsufficientStake));
    as_(a.admin);
    m.set_paused(true).expect("pause");
    as_(a.workers[1]);
    assert_eq!(m.challenge(job, [1; 32]), Err(Error::Paused));
    as_(a.admin);
    m.set_paused(false).expect("unpause");
    at(T0 + 20_000);
    as_(a.workers[1]);
    assert_eq!(m.challenge(job, [1; 32]), Err(Error::DeadlinePassed));
}

#[ink::test]
fn challenge_without_tiebreak_ends_without_majority() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(1), 3);
    stake_all(&mut m, &a, 500);
    let job = request(&mut m, &a, ds);
    work(&mut m, job, a.workers[0], &[7; 32]);
    reveal(&mut m, job, a.workers[0], &[7; 32]);
    as_(a.workers[1]);
    m.challenge(job, [8; 32]).expect("challenge");
    // A tie-break worker claims but never commits; nobody claims the later
    // rounds' slots either.
    as_(a.workers[2]);
    m.claim(job).expect("claim");
    at(T0 + 20_000);
    assert_eq!(m.advance(job), Ok(JobStatus::Disputed));
    for _ in 2..=MAX_DISPUTE_ROUNDS {
        at(m.job(job).expect("job").deadline);
        m.advance(job).expect("advance");
    }
    assert_eq!(status(&m, job), JobStatus::Refunded);
    let refund: JobRefunded = last();
    assert_eq!(refund.reason, RefundReason::NoMajority);
    assert_eq!(events::<WorkerSlashed>().len(), 1);
    // The silent tie-break worker's stake goes to the researcher.
    assert_eq!(refund.refund, escrow_for(&m, ds) + 100);
    assert_eq!(m.worker(a.workers[2]).map(|w| w.stake), Ok(400));
    assert_eq!(
        m.worker(a.workers[0]).map(|w| (w.stake, w.locked)),
        Ok((500, 0))
    );
    assert_conserved(&m, &a.all());
}

#[ink::test]
fn advance_unclaimed_job_refunds_without_result() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    let job = request(&mut m, &a, ds);
    as_(a.outsider);
    assert_eq!(m.advance(job), Err(Error::DeadlineNotReached));
    assert_eq!(m.advance(9), Err(Error::JobNotFound));
    at(T0 + 20_000);
    assert_eq!(m.advance(job), Ok(JobStatus::Refunded));
    let e: JobRefunded = last();
    assert_eq!(
        (e.reason, e.refund),
        (RefundReason::NoResult, escrow_for(&m, ds))
    );
    assert_eq!(m.advance(job), Err(Error::WrongStatus));
    assert_conserved(&m, &a.all());
}

#[ink::test]
fn advance_slashes_claimants_that_never_commit() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    stake_all(&mut m, &a, 500);
    let job = request(&mut m, &a, ds);
    for w in &a.workers[..2] {
        as_(*w);
        m.claim(job).expect("claim");
    }
    at(T0 + 20_000);
    assert_eq!(m.advance(job), Ok(JobStatus::Refunded));
    assert_eq!(events::<WorkerSlashed>().len(), 2);
    // No result was agreed, so the researcher, whose job failed, takes the
    // slashed stakes; the admin takes nothing.
    assert_eq!(earned(&m, a.admin), 0);
    assert_eq!(earned(&m, a.researcher), escrow_for(&m, ds) + 200);
    assert_conserved(&m, &a.all());
}

#[ink::test]
fn advance_opens_reveal_for_partial_commits() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    stake_all(&mut m, &a, 500);
    let job = request(&mut m, &a, ds);
    work(&mut m, job, a.workers[0], &[7; 32]);
    at(T0 + 20_000);
    assert_eq!(m.advance(job), Ok(JobStatus::Revealing));
    reveal(&mut m, job, a.workers[0], &[7; 32]);
    // One result of two: tie-break needed.
    assert_eq!(status(&m, job), JobStatus::Disputed);
    work(&mut m, job, a.workers[1], &[7; 32]);
    reveal(&mut m, job, a.workers[1], &[7; 32]);
    assert_eq!(status(&m, job), JobStatus::Computed);
}

#[ink::test]
fn advance_release_timeout_pays_workers_and_refunds_price() {
    let (mut m, a) = deploy();
    let mut p = policy(2);
    p.dp_epsilon_budget = Some(1_000);
    let ds = dataset(&mut m, &a, p, 3);
    stake_all(&mut m, &a, 500);
    let value = escrow_for(&m, ds);
    pay(a.researcher, value);
    let job = m
        .request(ds, PipelineId::Histogram, [3; 32], 300, T0 + 20_000, expected(&m, ds))
        .expect("request");
    for w in &a.workers[..2] {
        work(&mut m, job, *w, &[7; 32]);
    }
    for w in &a.workers[..2] {
        reveal(&mut m, job, *w, &[7; 32]);
    }
    let deadline = m.job(job).expect("job").deadline;
    at(deadline);
    as_(a.owner);
    assert_eq!(m.release(job, [4; 32]), Err(Error::DeadlinePassed));
    assert_eq!(m.advance(job), Ok(JobStatus::Refunded));
    let e: JobRefunded = last();
    assert_eq!(
        (e.reason, e.workers_paid, e.refund),
        (RefundReason::ReleaseTimeout, 20, value - 20)
    );
    assert_eq!(m.dataset(ds).map(|d| d.epsilon_spent), Ok(0));
    assert_eq!(earned(&m, a.owner), 0);
    assert_conserved(&m, &a.all());
}

#[ink::test]
fn release_refused_below_current_min_cohort() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    stake_all(&mut m, &a, 500);
    let job = request(&mut m, &a, ds);
    for w in &a.workers[..2] {
        work(&mut m, job, *w, &[7; 32]);
    }
    for w in &a.workers[..2] {
        reveal(&mut m, job, *w, &[7; 32]);
    }
    as_(a.owner);
    let mut stricter = policy(2);
    stricter.min_cohort = 4;
    m.update_dataset(ds, PRICE, stricter).expect("update");
    assert_eq!(m.release(job, [4; 32]), Ok(()));
    assert_eq!(status(&m, job), JobStatus::Refunded);
    assert_eq!(
        last::<JobRefunded>().reason,
        RefundReason::CohortBelowMinimum
    );
    assert_eq!(earned(&m, a.workers[0]), 10);
    assert_eq!(earned(&m, a.owner), 0);
    assert_conserved(&m, &a.all());
}

#[ink::test]
fn release_errors() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(1), 3);
    stake_all(&mut m, &a, 500);
    let job = request(&mut m, &a, ds);
    as_(a.owner);
    assert_eq!(m.release(job, [4; 32]), Err(Error::WrongStatus));
    assert_eq!(m.release(9, [4; 32]), Err(Error::JobNotFound));
    work(&mut m, job, a.workers[0], &[7; 32]);
    reveal(&mut m, job, a.workers[0], &[7; 32]);
    at(T0 + 20_000);
    m.advance(job).expect("advance");
    as_(a.researcher);
    assert_eq!(m.release(job, [4; 32]), Err(Error::NotDatasetOwner));
    as_(a.owner);
    assert_eq!(m.release(job, [4; 32]), Ok(()));
    assert_eq!(m.release(job, [4; 32]), Err(Error::WrongStatus));
    assert_eq!(m.advance(job), Err(Error::WrongStatus));
}

#[ink::test]
fn finalize_errors() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(1), 3);
    let job = request(&mut m, &a, ds);
    assert_eq!(m.finalize(job), Err(Error::WrongStatus));
    assert_eq!(m.finalize(9), Err(Error::JobNotFound));
}

// ------------------------------------------------------------------- money

#[ink::test]
fn withdraw_pays_out_once() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    let job = request(&mut m, &a, ds);
    as_(a.researcher);
    assert_eq!(m.withdraw(), Err(Error::NothingToWithdraw));
    m.cancel(job).expect("cancel");
    let value = escrow_for(&m, ds);
    assert_eq!(m.withdraw(), Ok(value));
    let e: Withdrawn = last();
    assert_eq!((e.account, e.amount), (acc(a.researcher), value));
    assert_eq!(m.withdraw(), Err(Error::NothingToWithdraw));
    assert_eq!(balance(a.researcher), FUNDS);
    assert_eq!(contract_balance(), 0);
}

// ------------------------------------------------------------------- admin

#[ink::test]
fn set_params_owner_only_within_bounds() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    let mut p = params();
    p.worker_fee = 99;
    p.claim_stake = 7;
    p.upgrade_delay = 6_000;
    as_(a.outsider);
    assert_eq!(m.set_params(p), Err(Error::NotOwner));
    as_(a.admin);
    let bad = |f: fn(&mut Params)| {
        let mut b = params();
        f(&mut b);
        b
    };
    for b in [
        bad(|b| b.min_compute_window = b.max_compute_window + 1),
        bad(|b| b.claim_stake = 0),
        bad(|b| b.reveal_window = 1),
        bad(|b| b.challenge_window = u64::MAX - 1),
        bad(|b| b.release_window = MAX_WINDOW + 1),
        bad(|b| b.upgrade_delay = 0),
    ] {
        assert_eq!(m.set_params(b), Err(Error::InvalidParams), "{b:?}");
    }
    // The upgrade delay only rises.
    assert_eq!(
        m.set_params(bad(|b| b.upgrade_delay = 4_999)),
        Err(Error::UpgradeDelayLowered)
    );
    assert_eq!(m.set_params(p), Ok(()));
    assert_eq!(m.params(), Ok(p));
    assert_eq!(last::<ParamsSet>().params, p);
    assert_eq!(escrow_for(&m, ds), PRICE + 99 * 3);
}

/// Attack: the admin shortens the windows of running jobs with `set_params`
/// to push every worker into `Missed`. Each job keeps the terms it was
/// requested with.
#[ink::test]
fn set_params_never_changes_a_running_job() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    stake_all(&mut m, &a, 500);
    let mut p = params();
    p.reveal_window = 50_000;
    p.release_window = 50_000;
    m.set_params(p).expect("long windows");
    let job = request(&mut m, &a, ds);
    // The admin turns hostile: the shortest windows and a huge claim stake.
    let mut hostile = params();
    hostile.claim_stake = 400;
    hostile.worker_fee = 0;
    as_(a.admin);
    m.set_params(hostile).expect("short windows");
    let r = [7u8; 32];
    work(&mut m, job, a.workers[0], &r);
    work(&mut m, job, a.workers[1], &r);
    let info = m.job(job).expect("job");
    assert_eq!(info.deadline, T0 + 50_000, "reveal window frozen at request");
    assert_eq!((info.terms.worker_fee, info.terms.claim_stake), (10, 100));
    assert_eq!(m.worker(a.workers[0]).map(|w| w.locked), Ok(100));
    at(T0 + 40_000);
    reveal(&mut m, job, a.workers[0], &r);
    reveal(&mut m, job, a.workers[1], &r);
    assert_eq!(status(&m, job), JobStatus::Computed);
    assert_eq!(m.job(job).map(|j| j.deadline), Ok(T0 + 90_000));
    assert!(events::<WorkerSlashed>().is_empty());
    as_(a.owner);
    m.release(job, [4; 32]).expect("release");
    m.finalize(job).expect("finalize");
    assert_eq!(earned(&m, a.workers[0]), 10);
    assert_conserved(&m, &a.all());
}

/// Attack: the owner front-runs a request with `update_dataset` (price,
/// replication) or new submissions. The researcher's expectations refuse it.
#[ink::test]
fn request_refuses_a_dataset_changed_under_it() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    let seen = expected(&m, ds);
    let value = escrow_for(&m, ds) * 10;
    let try_request = |m: &mut Marketplace| {
        pay(a.researcher, value);
        let r = m.request(ds, PipelineId::Histogram, [3; 32], 0, T0 + 10_000, seen);
        if r.is_err() {
            unpay(a.researcher, value);
        }
        r
    };
    as_(a.owner);
    m.update_dataset(ds, PRICE + 1, policy(2)).expect("price");
    assert_eq!(try_request(&mut m), Err(Error::PriceChanged));
    as_(a.owner);
    m.update_dataset(ds, PRICE, policy(1)).expect("replication");
    assert_eq!(try_request(&mut m), Err(Error::ReplicationChanged));
    as_(a.owner);
    m.update_dataset(ds, PRICE, policy(2)).expect("back");
    m.add_submissions(ds, vec![blob(99)]).expect("more inputs");
    assert_eq!(try_request(&mut m), Err(Error::InputsChanged));
    as_(a.owner);
    let ds2 = dataset(&mut m, &a, policy(2), 3);
    let seen2 = expected(&m, ds2);
    as_(a.owner);
    m.revoke_submission(ds2, 1).expect("revoke");
    pay(a.researcher, value);
    assert_eq!(
        m.request(ds2, PipelineId::Histogram, [3; 32], 0, T0 + 10_000, seen2),
        Err(Error::InputsChanged)
    );
    unpay(a.researcher, value);
    assert_eq!(m.job_count(), Ok(0));
    assert_eq!(try_request(&mut m).err(), Some(Error::InputsChanged));
    assert_conserved(&m, &a.all());
}

#[ink::test]
fn pause_blocks_new_business_but_not_settlement() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(1), 3);
    stake_all(&mut m, &a, 500);
    let job = request(&mut m, &a, ds);
    work(&mut m, job, a.workers[0], &[7; 32]);
    reveal(&mut m, job, a.workers[0], &[7; 32]);
    at(T0 + 20_000);
    m.advance(job).expect("advance");
    as_(a.outsider);
    assert_eq!(m.set_paused(true), Err(Error::NotOwner));
    as_(a.admin);
    assert_eq!(m.set_paused(true), Ok(()));
    assert_eq!(m.paused(), Ok(true));
    assert!(last::<PausedSet>().paused);
    as_(a.workers[1]);
    pay(a.workers[1], 10);
    assert_eq!(m.stake(), Err(Error::Paused));
    unpay(a.workers[1], 10);
    as_(a.owner);
    m.release(job, [4; 32]).expect("release");
    m.finalize(job).expect("finalize");
    m.withdraw().expect("withdraw");
    as_(a.workers[0]);
    m.withdraw().expect("withdraw fee");
    m.withdraw_stake(500).expect("unstake");
    as_(a.admin);
    assert_eq!(m.set_paused(false), Ok(()));
    assert_eq!(m.paused(), Ok(false));
}

/// Attack: a pause blocks challenges and tie-break claims while deadlines
/// keep running. Now the market clock stops: every running job's deadlines
/// move by the length of the pause.
#[ink::test]
fn pause_extends_running_deadlines() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(1), 3);
    stake_all(&mut m, &a, 500);
    let job = request(&mut m, &a, ds);
    work(&mut m, job, a.workers[0], &[6; 32]);
    reveal(&mut m, job, a.workers[0], &[6; 32]);
    let deadline = m.job(job).expect("job").deadline;
    assert_eq!(deadline, T0 + 20_000);
    at(T0 + 19_000);
    as_(a.admin);
    m.set_paused(true).expect("pause");
    at(T0 + 500_000);
    assert_eq!(m.state().map(|s| s.clock), Ok(T0 + 19_000));
    as_(a.outsider);
    assert_eq!(m.advance(job), Err(Error::DeadlineNotReached));
    as_(a.workers[1]);
    assert_eq!(m.challenge(job, [7; 32]), Err(Error::Paused));
    as_(a.admin);
    m.set_paused(false).expect("unpause");
    // 1 s of the window was left when the pause began; it is still there.
    at(T0 + 500_500);
    as_(a.workers[1]);
    assert_eq!(m.challenge(job, [7; 32]), Ok(()));
    // New deadlines count on the market clock too.
    let info = m.job(job).expect("job");
    assert_eq!(info.deadline, T0 + 19_500 + 20_000);
    assert_eq!(m.state().map(|s| s.clock), Ok(T0 + 19_500));
    // A request names a chain-time deadline; the job stores it on the market clock.
    pay(a.researcher, escrow_for(&m, ds));
    let second = m
        .request(ds, PipelineId::Histogram, [3; 32], 0, T0 + 520_500, expected(&m, ds))
        .expect("request");
    assert_eq!(m.job(second).map(|j| j.deadline), Ok(T0 + 39_500));
    assert_conserved(&m, &a.all());
}

/// A pause holds the clock back by at most `MAX_PAUSE` in all: an admin
/// cannot freeze escrowed money forever.
#[ink::test]
fn pauses_hold_the_clock_back_at_most_max_pause() {
    let (mut m, a) = deploy();
    as_(a.admin);
    m.set_paused(true).expect("pause");
    at(T0 + MAX_PAUSE + 7_000);
    assert_eq!(m.state().map(|s| s.clock), Ok(T0 + 7_000));
    m.set_paused(false).expect("unpause");
    m.set_paused(true).expect("pause again");
    at(T0 + MAX_PAUSE + 9_000);
    assert_eq!(m.state().map(|s| s.clock), Ok(T0 + 9_000));
}

#[ink::test]
fn upgrades_are_announced_then_enacted_after_the_delay() {
    // The off-chain environment cannot swap code: `enact_upgrade`'s success
    // path runs on the embedded chain and the node (e2e `upgrade_after_delay`).
    let (mut m, a) = deploy();
    as_(a.outsider);
    assert_eq!(m.announce_upgrade([9; 32]), Err(Error::NotOwner));
    assert_eq!(m.enact_upgrade(), Err(Error::NotOwner));
    assert_eq!(m.cancel_upgrade(), Err(Error::NotOwner));
    as_(a.admin);
    assert_eq!(m.enact_upgrade(), Err(Error::NoPendingUpgrade));
    assert_eq!(m.cancel_upgrade(), Err(Error::NoPendingUpgrade));
    at(T0 + 100);
    assert_eq!(m.announce_upgrade([9; 32]), Ok(()));
    let e: UpgradeAnnounced = last();
    assert_eq!((e.code_hash, e.enact_after), ([9; 32], T0 + 5_100));
    let pending = m.state().expect("state").pending_upgrade;
    assert_eq!(
        pending,
        Some(PendingUpgrade {
            code_hash: [9; 32],
            enact_after: T0 + 5_100
        })
    );
    at(T0 + 5_099);
    assert_eq!(m.enact_upgrade(), Err(Error::UpgradeNotDue));
    assert_eq!(m.cancel_upgrade(), Ok(()));
    assert_eq!(last::<UpgradeCancelled>().code_hash, [9; 32]);
    assert_eq!(m.state().map(|s| s.pending_upgrade), Ok(None));
    at(T0 + 6_000);
    assert_eq!(m.enact_upgrade(), Err(Error::NoPendingUpgrade));
}

/// Ownership moves in two steps: a mistyped account cannot take the admin
/// role (or lock it out).
#[ink::test]
fn ownership_is_proposed_then_accepted() {
    let (mut m, a) = deploy();
    as_(a.outsider);
    assert_eq!(m.transfer_ownership(a.outsider), Err(Error::NotOwner));
    assert_eq!(m.accept_ownership(), Err(Error::NotPendingOwner));
    as_(a.admin);
    assert_eq!(m.transfer_ownership(a.outsider), Ok(()));
    let e: OwnershipProposed = last();
    assert_eq!((e.owner, e.proposed), (acc(a.admin), acc(a.outsider)));
    assert_eq!(m.owner(), Ok(a.admin));
    assert_eq!(
        m.state().map(|s| s.pending_owner),
        Ok(Some(acc(a.outsider)))
    );
    as_(a.researcher);
    assert_eq!(m.accept_ownership(), Err(Error::NotPendingOwner));
    as_(a.outsider);
    assert_eq!(m.accept_ownership(), Ok(()));
    assert_eq!(m.owner(), Ok(a.outsider));
    assert_eq!(m.state().map(|s| s.pending_owner), Ok(None));
    let e: OwnershipTransferred = last();
    assert_eq!((e.previous, e.owner), (acc(a.admin), acc(a.outsider)));
    as_(a.admin);
    assert_eq!(m.set_paused(true), Err(Error::NotOwner));
    as_(a.outsider);
    assert_eq!(m.accept_ownership(), Err(Error::NotPendingOwner));
}

/// Attack: a griefer reserves a dataset's whole privacy budget, lets the
/// job fail (its own workers never deliver) and gets every payment back,
/// again and again. Each failed reservation now pays the owner a tenth of
/// the price; a job the owner failed (no release) pays it nothing.
#[ink::test]
fn failed_reservations_of_epsilon_cost_the_griefer() {
    let (mut m, a) = deploy();
    let mut p = policy(1);
    p.dp_epsilon_budget = Some(1_000);
    let ds = dataset(&mut m, &a, p, 3);
    stake_all(&mut m, &a, 500);
    let value = escrow_for(&m, ds);
    pay(a.researcher, value);
    let job = m
        .request(ds, PipelineId::Histogram, [3; 32], 1_000, T0 + 20_000, expected(&m, ds))
        .expect("the whole budget");
    as_(a.workers[0]);
    m.claim(job).expect("a sybil claims and never commits");
    at(T0 + 20_000);
    assert_eq!(m.advance(job), Ok(JobStatus::Refunded));
    let e: JobRefunded = last();
    assert_eq!((e.reason, e.owner_paid), (RefundReason::NoResult, PRICE / 10));
    assert_eq!(earned(&m, a.owner), PRICE / 10);
    assert_eq!(m.dataset(ds).map(|d| d.epsilon_spent), Ok(0));
    // The owner's own failure to release earns it nothing.
    pay(a.researcher, value);
    let job = m
        .request(ds, PipelineId::Histogram, [3; 32], 1_000, T0 + 40_000, expected(&m, ds))
        .expect("again");
    work(&mut m, job, a.workers[1], &[7; 32]);
    reveal(&mut m, job, a.workers[1], &[7; 32]);
    at(T0 + 40_000);
    assert_eq!(m.advance(job), Ok(JobStatus::Computed));
    at(T0 + 41_000);
    assert_eq!(m.advance(job), Ok(JobStatus::Refunded));
    let e: JobRefunded = last();
    assert_eq!((e.reason, e.owner_paid), (RefundReason::ReleaseTimeout, 0));
    assert_eq!(earned(&m, a.owner), PRICE / 10);
    // Requesting the whole budget and cancelling before anyone claims
    // costs the fee too.
    pay(a.researcher, value);
    let job = m
        .request(ds, PipelineId::Histogram, [3; 32], 1_000, T0 + 60_000, expected(&m, ds))
        .expect("once more");
    assert_eq!(m.cancel(job), Ok(()));
    let e: JobCancelled = last();
    assert_eq!(e.owner_paid, PRICE / 10);
    assert_eq!(earned(&m, a.owner), 2 * (PRICE / 10));
    assert_eq!(m.dataset(ds).map(|d| d.epsilon_spent), Ok(0));
    assert_conserved(&m, &a.all());
}

// ----------------------------------------------------------------- queries

#[ink::test]
fn queries_report_missing_records() {
    let (m, a) = deploy();
    assert_eq!(m.dataset(0), Err(Error::DatasetNotFound));
    assert_eq!(m.job(0), Err(Error::JobNotFound));
    assert_eq!(m.worker(a.workers[0]), Err(Error::NotWorker));
    assert_eq!(m.earnings(a.outsider), Ok(0));
    assert_eq!(m.is_revoked(0, 0), Err(Error::DatasetNotFound));
}
