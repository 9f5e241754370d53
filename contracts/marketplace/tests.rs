//! Unit tests of the marketplace contract in ink!'s off-chain environment:
//! every message, every reachable error path and every role check, then whole
//! lifecycles (agreement, challenge window, sealed challenges, the owner's
//! rejection, dispute, refunds, slashing).
//!
//! `support` holds the fixtures shared with the property test.

// Test arithmetic on fixtures may be plain; the contract's may not.
#![allow(clippy::arithmetic_side_effects, clippy::cast_possible_truncation)]

use blindfold_protocol::events::*;
use blindfold_protocol::hash::{self, Sha2};
use blindfold_protocol::*;
use ink::env::test;
use ink::primitives::AccountId;
use ink::scale::Encode;

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

    /// Fixture params: fee 10, claim stake 100, windows of 1 s (the offer
    /// window too), compute window 2..=2_000 s, upgrade delay 5 s.
    pub fn params() -> Params {
        Params {
            worker_fee: 10,
            claim_stake: 100,
            min_compute_window: 2_000,
            max_compute_window: 2_000_000,
            offer_window: 1_000,
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
            1,
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
            .request(ds, PipelineId::Histogram, [3; 32], 0, now() + 20_000, e, 0)
            .expect("request");
        as_(a.researcher);
        id
    }

    /// `n` more workers (accounts `0xD0..`), funded like every actor, each
    /// staking `amount`.
    pub fn extra_workers(m: &mut Marketplace, n: usize, amount: Balance) -> Vec<AccountId> {
        (0..n)
            .map(|i| {
                let w = AccountId::from([0xD0 + i as u8; 32]);
                test::set_account_balance::<Env>(w, FUNDS);
                pay(w, amount);
                m.stake().expect("stake");
                w
            })
            .collect()
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

    /// The draw secret `worker` seals into its offers. A fixed value per
    /// worker is enough: the seed hash binds the job, the round and the
    /// worker, and the draw's seed the job and the round.
    pub fn secret(worker: AccountId) -> Digest {
        let mut s = acc(worker);
        s[0] ^= 0x5E;
        s[31] ^= 0xC7;
        s
    }

    /// The seed hash `worker` posts with an offer for the current round of
    /// `job_id` (computed off chain with the sha2 crate).
    pub fn seed_hash(m: &Marketplace, job_id: JobId, worker: AccountId) -> Digest {
        let round = m.job(job_id).map(|j| j.round).unwrap_or(0);
        hash::offer_seed(job_id, round, &acc(worker), &secret(worker))
    }

    /// `worker` offers for a slot of the current round of `job_id`.
    pub fn offer(m: &mut Marketplace, job_id: JobId, worker: AccountId) {
        let sealed = seed_hash(m, job_id, worker);
        as_(worker);
        m.offer(job_id, sealed).expect("offer");
    }

    /// Moves the market clock to `deadline` (chain time moves as far; a
    /// running pause holds the market clock back).
    pub fn until(m: &Marketplace, deadline: Timestamp) {
        let clock = m.state().expect("state").clock;
        if clock < deadline {
            at(now() + (deadline - clock));
        }
    }

    /// Closes the current offer window of `job_id` (time moves to its
    /// deadline; nothing to do if it is drawing already) and, when more
    /// offered than there are free slots, every offerer reveals its secret,
    /// so the slots are drawn at once. Returns the workers drawn, in offer
    /// order.
    pub fn draw_now(m: &mut Marketplace, job_id: JobId) -> Vec<AccountId> {
        let job = m.job(job_id).expect("job");
        let before = job.claims.len();
        if job.status != JobStatus::Drawing {
            until(m, job.deadline);
            m.advance(job_id).expect("close the offer window");
        }
        let job = m.job(job_id).expect("job");
        if job.status == JobStatus::Drawing {
            for o in &job.offers {
                let w = AccountId::from(o.worker);
                as_(w);
                m.reveal_seed(job_id, secret(w)).expect("reveal seed");
            }
        }
        let job = m.job(job_id).expect("job");
        job.claims[before.min(job.claims.len())..]
            .iter()
            .map(|c| AccountId::from(c.worker))
            .collect()
    }

    /// `workers` (no more than the free slots) offer for the current round
    /// of `job_id` and, the window closed, are all drawn: the job is
    /// `Computing`.
    pub fn assign(m: &mut Marketplace, job_id: JobId, workers: &[AccountId]) {
        for w in workers {
            offer(m, job_id, *w);
        }
        assert_eq!(draw_now(m, job_id), workers, "every offerer fits");
        assert_eq!(status(m, job_id), JobStatus::Computing);
    }

    /// Drawn claimant `worker` commits to `result`.
    pub fn commit(m: &mut Marketplace, job_id: JobId, worker: AccountId, result: &Digest) {
        let sealed = seal_for(m, job_id, worker, result);
        as_(worker);
        m.commit(job_id, sealed).expect("commit");
    }

    /// The workers of `results` are assigned the current round's free
    /// slots of `job_id` (they all fit: see `assign`) and each commits to
    /// its result. The last commit opens the reveal phase.
    pub fn work(m: &mut Marketplace, job_id: JobId, results: &[(AccountId, Digest)]) {
        let workers: Vec<AccountId> = results.iter().map(|(w, _)| *w).collect();
        assign(m, job_id, &workers);
        for (w, r) in results {
            commit(m, job_id, *w, r);
        }
    }

    pub fn reveal(m: &mut Marketplace, job_id: JobId, worker: AccountId, result: &Digest) {
        as_(worker);
        m.reveal(job_id, *result).expect("reveal");
    }

    /// `challenger` posts a sealed, bonded challenge of the result under
    /// challenge on `job_id`, sealing its own `result`.
    pub fn challenge(m: &mut Marketplace, job_id: JobId, challenger: AccountId, result: &Digest) {
        let sealed = seal_for(m, job_id, challenger, result);
        as_(challenger);
        m.challenge(job_id, sealed).expect("challenge");
    }

    /// Lets `job_id`'s challenge window pass unchallenged: time moves to
    /// its deadline and `advance` agrees the result (`Computed`).
    pub fn pass_challenge(m: &mut Marketplace, job_id: JobId) {
        assert_eq!(status(m, job_id), JobStatus::Challenge);
        until(m, m.job(job_id).expect("job").deadline);
        m.advance(job_id).expect("close the challenge window");
        assert_eq!(status(m, job_id), JobStatus::Computed);
    }

    /// Closes `job_id`'s challenge window (time moves to its deadline): with
    /// challengers, their reveal round opens.
    pub fn close_challenges(m: &mut Marketplace, job_id: JobId) -> JobStatus {
        assert_eq!(status(m, job_id), JobStatus::Challenge);
        until(m, m.job(job_id).expect("job").deadline);
        m.advance(job_id).expect("close the challenge window")
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
        "Offered",
        "DrawOpened",
        "Drawn",
        "Revealed",
        "ChallengeOpened",
        "Challenged",
        "Rejected",
        "JobFinalized",
        "JobRefunded",
        "WorkerSlashed",
    ] {
        assert!(
            event_labels.iter().any(|l| l == name),
            "event {name} in metadata"
        );
    }
    assert_eq!(event_labels.len(), 33, "{event_labels:?}");
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
        m.request(
            ds,
            PipelineId::Histogram,
            [3; 32],
            0,
            T0 + 20_000,
            expected(&m, ds),
            0
        ),
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
    // An offer's bond counts as an open claim, and so does the claim it
    // becomes once drawn.
    offer(&mut m, job, a.workers[0]);
    as_(a.workers[0]);
    assert_eq!(m.withdraw_stake(10), Err(Error::OpenClaims));
    assert_eq!(draw_now(&mut m, job), [a.workers[0]]);
    as_(a.workers[0]);
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
        .request(
            ds,
            PipelineId::LvArea,
            [9; 32],
            1_000,
            T0 + 10_000,
            expected(&m, ds),
            0,
        )
        .expect("request");
    assert_eq!(job_id, 0);
    let job = m.job(job_id).expect("job");
    assert_eq!(job.researcher, acc(a.researcher));
    assert_eq!(
        (
            job.escrow,
            job.price,
            job.terms.worker_fee,
            job.terms.claim_stake
        ),
        (value, PRICE, 10, 100)
    );
    // Windows frozen at request; the dispute windows cover the 10 s compute window.
    assert_eq!(
        (
            job.terms.offer_window,
            job.terms.reveal_window,
            job.terms.challenge_window,
            job.terms.tiebreak_window,
            job.terms.release_window
        ),
        (1_000, 1_000, 10_000, 10_000, 1_000)
    );
    assert_eq!(job.slashed, 0);
    assert_eq!((job.replication, job.slots, job.round), (2, 2, 0));
    // The job opens its offer window; the requested deadline is the commit deadline.
    assert_eq!(
        (
            job.status,
            job.deadline,
            job.commit_deadline,
            job.requested_at
        ),
        (JobStatus::Open, T0 + 1_000, T0 + 10_000, T0)
    );
    assert!(job.offers.is_empty() && job.claims.is_empty());
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
        let r = m.request(ds, pipeline, [3; 32], eps, deadline, e, 0);
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
    // The commit deadline must leave the offer window, a draw's reveal
    // window and the minimum compute window: 1 + 1 + 2 s.
    assert_eq!(
        try_request(&mut m, ds, h, 1, T0 + 3_999, need),
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
    assert_eq!(try_request(&mut m, ds, h, 400, T0 + 4_000, need), Ok(1));
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
        .request(
            ds,
            PipelineId::Histogram,
            [3; 32],
            700,
            T0 + 10_000,
            expected(&m, ds),
            0,
        )
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
    // An offer is enough: a worker bonded for the job.
    offer(&mut m, job, a.workers[0]);
    as_(a.researcher);
    assert_eq!(m.cancel(job), Err(Error::JobClaimed));
    draw_now(&mut m, job);
    as_(a.researcher);
    assert_eq!(m.cancel(job), Err(Error::WrongStatus));
}

#[ink::test]
fn offer_locks_the_claim_stake_as_a_bond() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    stake_all(&mut m, &a, 150);
    let job = request(&mut m, &a, ds);
    let w = a.workers[0];
    let sealed = seed_hash(&m, job, w);
    as_(w);
    assert_eq!(m.offer(job, sealed), Ok(()));
    let info = m.worker(w).expect("worker");
    assert_eq!((info.stake, info.locked, info.open_claims), (150, 100, 1));
    let e: Offered = last();
    assert_eq!(
        (e.job_id, e.worker, e.round, e.weight, e.deadline),
        (job, acc(w), 0, 150, T0 + 1_000)
    );
    // The offer weighs the worker's whole stake and seals its secret.
    let offers = m.job(job).expect("job").offers;
    assert_eq!(
        offers,
        [Offer {
            worker: acc(w),
            weight: 150,
            seed_hash: sealed,
            secret: None
        }]
    );
    // 50 free is below the claim stake of 100.
    let second = request(&mut m, &a, ds);
    let sealed = seed_hash(&m, second, w);
    as_(w);
    assert_eq!(m.offer(second, sealed), Err(Error::InsufficientStake));
    // The window closes with one offer for two slots: it is drawn without
    // a draw, and its bond becomes the claim's stake until the commit deadline.
    assert_eq!(draw_now(&mut m, job), [w]);
    let drawn: Drawn = last();
    assert_eq!(
        (drawn.job_id, drawn.round, drawn.seed, drawn.offers),
        (job, 0, None, 1)
    );
    let e: JobClaimed = last();
    assert_eq!(
        (
            e.job_id,
            e.dataset_id,
            e.worker,
            e.round,
            e.stake,
            e.deadline
        ),
        (job, ds, acc(w), 0, 100, T0 + 20_000)
    );
    let info = m.job(job).expect("job");
    assert_eq!(
        (info.status, info.deadline, info.claims.len()),
        (JobStatus::Computing, T0 + 20_000, 1)
    );
    assert!(info.offers.is_empty());
    assert_eq!(
        m.worker(w).map(|i| (i.stake, i.locked, i.open_claims)),
        Ok((150, 100, 1))
    );
}

#[ink::test]
fn offer_errors() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    stake_all(&mut m, &a, 500);
    let job = request(&mut m, &a, ds);
    let sealed = seed_hash(&m, job, a.outsider);
    as_(a.outsider);
    assert_eq!(m.offer(job, sealed), Err(Error::NotWorker));
    let sealed = seed_hash(&m, job, a.workers[0]);
    as_(a.workers[0]);
    assert_eq!(m.offer(9, sealed), Err(Error::JobNotFound));
    assert_eq!(m.offer(job, sealed), Ok(()));
    assert_eq!(m.offer(job, sealed), Err(Error::AlreadyOffered));
    // More offers than slots are taken: first-come `claim` refused a third
    // claim with `NoFreeSlot`; now the window's offers are drawn, whenever
    // they came, so a late honest worker still has its chance.
    offer(&mut m, job, a.workers[1]);
    offer(&mut m, job, a.workers[2]);
    // Up to MAX_OFFERS a round (the draw's gas is bounded).
    let more = extra_workers(&mut m, usize::from(MAX_OFFERS) - 2, 500);
    for w in &more[..more.len() - 1] {
        offer(&mut m, job, *w);
    }
    assert_eq!(
        m.job(job).map(|j| j.offers.len()),
        Ok(usize::from(MAX_OFFERS))
    );
    let extra = more[more.len() - 1];
    let sealed = seed_hash(&m, job, extra);
    as_(extra);
    assert_eq!(m.offer(job, sealed), Err(Error::TooManyOffers));
    // The window's deadline closes it.
    at(T0 + 1_000);
    let sealed = seed_hash(&m, job, a.workers[3]);
    as_(a.workers[3]);
    assert_eq!(m.offer(job, sealed), Err(Error::DeadlinePassed));
    // Sixteen offers, two slots drawn.
    let drawn = draw_now(&mut m, job);
    assert_eq!(drawn.len(), 2);
    assert_eq!(last::<Drawn>().offers, MAX_OFFERS);
    // Once drawn, the round takes no offer.
    as_(a.workers[3]);
    assert_eq!(m.offer(job, sealed), Err(Error::WrongStatus));
    let late = request(&mut m, &a, ds);
    as_(a.researcher);
    m.cancel(late).expect("cancel");
    let sealed = seed_hash(&m, late, a.workers[3]);
    as_(a.workers[3]);
    assert_eq!(m.offer(late, sealed), Err(Error::WrongStatus));
    let open = request(&mut m, &a, ds);
    as_(a.admin);
    m.set_paused(true).expect("pause");
    let sealed = seed_hash(&m, open, a.workers[3]);
    as_(a.workers[3]);
    assert_eq!(m.offer(open, sealed), Err(Error::Paused));
}

/// `reveal_seed` opens the caller's own seed hash, only while the job is
/// drawing and before the draw's deadline.
#[ink::test]
fn reveal_seed_errors() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(1), 3);
    stake_all(&mut m, &a, 500);
    let job = request(&mut m, &a, ds);
    let [w0, w1, w2, _] = a.workers;
    offer(&mut m, job, w0);
    offer(&mut m, job, w1);
    as_(w0);
    assert_eq!(m.reveal_seed(job, secret(w0)), Err(Error::WrongStatus));
    at(T0 + 1_000);
    assert_eq!(m.advance(job), Ok(JobStatus::Drawing));
    let e: DrawOpened = last();
    assert_eq!(
        (e.job_id, e.round, e.offers, e.slots, e.deadline),
        (job, 0, 2, 1, T0 + 2_000)
    );
    assert_eq!(m.reveal_seed(9, secret(w0)), Err(Error::JobNotFound));
    // Only an offerer, with its own secret.
    as_(w2);
    assert_eq!(m.reveal_seed(job, secret(w2)), Err(Error::NotOfferer));
    as_(a.outsider);
    assert_eq!(m.reveal_seed(job, secret(w0)), Err(Error::NotOfferer));
    as_(w1);
    assert_eq!(
        m.reveal_seed(job, secret(w0)),
        Err(Error::SeedMismatch),
        "another offerer's secret"
    );
    assert_eq!(m.reveal_seed(job, [0; 32]), Err(Error::SeedMismatch));
    as_(w0);
    assert_eq!(m.reveal_seed(job, secret(w0)), Ok(()));
    // A revealed offer is not revealed twice.
    assert_eq!(m.reveal_seed(job, secret(w0)), Err(Error::NotOfferer));
    assert_eq!(status(&m, job), JobStatus::Drawing);
    at(T0 + 2_000);
    as_(w1);
    assert_eq!(m.reveal_seed(job, secret(w1)), Err(Error::DeadlinePassed));
    // w1 withheld its secret: slashed, and w0 alone fits the slot.
    assert_eq!(m.advance(job), Ok(JobStatus::Computing));
    assert_eq!(last::<WorkerSlashed>().worker, acc(w1));
    assert_eq!(m.job(job).map(|j| j.claims[0].worker), Ok(acc(w0)));
    as_(w0);
    assert_eq!(m.reveal_seed(job, secret(w0)), Err(Error::WrongStatus));
    assert_conserved(&m, &a.all());
}

/// The offer window is the only way into a round: an offer at its
/// deadline, during the draw or after it is refused, while one in the
/// window's last millisecond takes part like the first.
#[ink::test]
fn offers_after_the_window_are_refused() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(1), 3);
    stake_all(&mut m, &a, 500);
    let job = request(&mut m, &a, ds);
    let [w0, w1, w2, w3] = a.workers;
    offer(&mut m, job, w0);
    at(T0 + 999);
    offer(&mut m, job, w1);
    at(T0 + 1_000);
    let late = seed_hash(&m, job, w2);
    as_(w2);
    assert_eq!(m.offer(job, late), Err(Error::DeadlinePassed));
    assert_eq!(m.advance(job), Ok(JobStatus::Drawing));
    as_(w2);
    assert_eq!(m.offer(job, late), Err(Error::WrongStatus));
    for w in [w0, w1] {
        as_(w);
        m.reveal_seed(job, secret(w)).expect("reveal seed");
    }
    assert_eq!(status(&m, job), JobStatus::Computing);
    // The draw took the two offers of the window, and only those.
    assert_eq!(last::<Drawn>().offers, 2);
    let claims = m.job(job).expect("job").claims;
    assert!(claims.len() == 1 && [acc(w0), acc(w1)].contains(&claims[0].worker));
    let sealed = seed_hash(&m, job, w3);
    as_(w3);
    assert_eq!(m.offer(job, sealed), Err(Error::WrongStatus));
    assert_eq!(m.worker(w2).map(|w| (w.locked, w.open_claims)), Ok((0, 0)));
    assert_conserved(&m, &a.all());
}

/// Offerers that are not drawn get their bonds back at once and may leave;
/// the drawn offer's bond becomes its claim's stake. Nobody is slashed.
#[ink::test]
fn undrawn_bonds_return() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(1), 3);
    stake_all(&mut m, &a, 500);
    let job = request(&mut m, &a, ds);
    let offerers = [a.workers[0], a.workers[1], a.workers[2]];
    for w in offerers {
        offer(&mut m, job, w);
        assert_eq!(
            m.worker(w).map(|i| (i.stake, i.locked, i.open_claims)),
            Ok((500, 100, 1))
        );
    }
    let drawn = draw_now(&mut m, job);
    assert_eq!(drawn.len(), 1);
    let e: Drawn = last();
    assert!(e.seed.is_some());
    assert_eq!(e.offers, 3);
    assert!(m.job(job).expect("job").offers.is_empty());
    for w in offerers {
        let info = m.worker(w).expect("worker");
        if w == drawn[0] {
            assert_eq!((info.stake, info.locked, info.open_claims), (500, 100, 1));
        } else {
            assert_eq!((info.stake, info.locked, info.open_claims), (500, 0, 0));
            as_(w);
            assert_eq!(m.withdraw_stake(500), Ok(()));
        }
    }
    assert!(events::<WorkerSlashed>().is_empty());
    assert_conserved(&m, &a.all());
}

/// Attack: sixteen cheap Sybil accounts fill a round's offer list as the
/// window opens, so no honest stake can offer (`TooManyOffers`). A full
/// list now takes an offer whose stake is strictly heavier than its
/// lightest offer's weight, in its place; the displaced bond returns. An
/// offer no heavier than the lightest is still refused.
#[ink::test]
fn offer_list_full_takes_heavier_stake() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(1), 3);
    let job = request(&mut m, &a, ds);
    // Sixteen Sybils of stake 200, one of them 150: the lightest.
    let sybils: Vec<AccountId> = (0..MAX_OFFERS)
        .map(|i| {
            let w = AccountId::from([0xD0 + i; 32]);
            test::set_account_balance::<Env>(w, FUNDS);
            pay(w, if i == 5 { 150 } else { 200 });
            m.stake().expect("stake");
            offer(&mut m, job, w);
            w
        })
        .collect();
    let [honest, equal, lighter, _] = a.workers;
    for (w, amount) in [(honest, 1_000), (equal, 200), (lighter, 150)] {
        pay(w, amount);
        m.stake().expect("stake");
    }
    let stakes = m.totals().expect("totals").stakes;
    let sealed = seed_hash(&m, job, honest);
    as_(honest);
    assert_eq!(m.offer(job, sealed), Ok(()));
    assert_eq!(last::<Offered>().weight, 1_000);
    // The lightest offer made room, and its bond is free again.
    let offers = m.job(job).expect("job").offers;
    assert_eq!(offers.len(), usize::from(MAX_OFFERS));
    assert!(offers.iter().all(|o| o.worker != acc(sybils[5])));
    assert_eq!(offers.last().map(|o| o.worker), Some(acc(honest)));
    assert_eq!(
        m.worker(sybils[5])
            .map(|w| (w.stake, w.locked, w.open_claims)),
        Ok((150, 0, 0))
    );
    assert!(events::<WorkerSlashed>().is_empty());
    assert_eq!(m.totals().map(|t| t.stakes), Ok(stakes));
    // The lightest weight is now 200: an equal or lighter offer is refused.
    for w in [equal, lighter] {
        let sealed = seed_hash(&m, job, w);
        as_(w);
        assert_eq!(m.offer(job, sealed), Err(Error::TooManyOffers));
        assert_eq!(m.worker(w).map(|i| i.locked), Ok(0));
    }
    as_(sybils[5]);
    assert_eq!(m.withdraw_stake(150), Ok(()));
    // One slot drawn among the sixteen; every other bond returns.
    let drawn = draw_now(&mut m, job);
    assert_eq!(drawn.len(), 1);
    assert_eq!(last::<Drawn>().offers, MAX_OFFERS);
    let mut accounts = a.all();
    accounts.extend(sybils);
    for w in &accounts {
        let locked = if drawn.contains(w) { 100 } else { 0 };
        assert_eq!(m.worker(*w).map(|i| i.locked).unwrap_or(0), locked);
    }
    assert_conserved(&m, &accounts);
}

/// Attack: nobody advances a job whose offer window closed until its
/// commit deadline has passed (or the draw's secrets come in after it);
/// drawing then would make claimants that had no time to compute, slashed
/// at the next `advance`. Such a draw draws nobody: every bond returns and
/// the round closes empty.
#[ink::test]
fn a_draw_after_the_commit_deadline_draws_nobody() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(1), 3);
    stake_all(&mut m, &a, 500);
    let [w0, w1, _, _] = a.workers;
    // One offer for one slot; the window closes at the commit deadline.
    let job = request(&mut m, &a, ds);
    offer(&mut m, job, w0);
    at(T0 + 20_000);
    as_(a.outsider);
    assert_eq!(m.advance(job), Ok(JobStatus::Refunded));
    assert_eq!(last::<JobRefunded>().reason, RefundReason::NoResult);
    assert!(m.job(job).expect("job").claims.is_empty());
    assert!(events::<JobClaimed>().is_empty());
    assert!(events::<Drawn>().is_empty());
    // A draw whose last secret comes in after the commit deadline.
    let job = request(&mut m, &a, ds);
    let commit_deadline = m.job(job).expect("job").commit_deadline;
    offer(&mut m, job, w0);
    offer(&mut m, job, w1);
    at(commit_deadline - 500);
    assert_eq!(m.advance(job), Ok(JobStatus::Drawing));
    as_(w0);
    m.reveal_seed(job, secret(w0)).expect("reveal seed");
    at(commit_deadline);
    as_(w1);
    assert_eq!(m.reveal_seed(job, secret(w1)), Ok(()));
    assert_eq!(status(&m, job), JobStatus::Refunded);
    assert!(m.job(job).expect("job").claims.is_empty());
    assert!(events::<Drawn>().is_empty());
    assert!(events::<WorkerSlashed>().is_empty());
    for w in [w0, w1] {
        assert_eq!(
            m.worker(w).map(|i| (i.stake, i.locked, i.open_claims)),
            Ok((500, 0, 0))
        );
    }
    assert_eq!(earned(&m, a.researcher), 2 * escrow_for(&m, ds));
    assert_conserved(&m, &a.all());
}

/// With no offer, the window reopens while a draw still fits before the
/// commit deadline (a late worker can still take the job); then the job
/// refunds the researcher.
#[ink::test]
fn no_offer_reopens_the_window_then_refunds() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    stake_all(&mut m, &a, 500);
    let job = request(&mut m, &a, ds);
    as_(a.outsider);
    assert_eq!(m.advance(job), Err(Error::DeadlineNotReached));
    // Windows of 1 s before the commit deadline T0 + 20 s: a window
    // reopens while it and a draw's reveal window end before that.
    let mut reopened = 0;
    loop {
        let deadline = m.job(job).expect("job").deadline;
        at(deadline);
        let next = m.advance(job).expect("advance");
        if next != JobStatus::Open {
            assert_eq!(next, JobStatus::Refunded);
            break;
        }
        reopened += 1;
        assert_eq!(m.job(job).map(|j| j.deadline), Ok(deadline + 1_000));
    }
    assert_eq!((reopened, now()), (17, T0 + 18_000));
    let e: JobRefunded = last();
    assert_eq!(
        (e.reason, e.refund, e.owner_paid),
        (RefundReason::NoResult, escrow_for(&m, ds), 0)
    );
    // A worker that arrives in a reopened window takes the job.
    let second = request(&mut m, &a, ds);
    at(T0 + 19_000);
    assert_eq!(m.advance(second), Ok(JobStatus::Open));
    assign(&mut m, second, &[a.workers[0]]);
    let info = m.job(second).expect("job");
    assert_eq!((info.deadline, info.claims.len()), (T0 + 38_000, 1));
    assert_conserved(&m, &a.all());
}

/// Attack: an offerer that saw the others' secrets withholds its own, to
/// steer the draw or stall it. The draw goes on without it at the reveal
/// deadline, and the withheld secret costs its bond (`Missed`), which
/// pays the job's honest side.
#[ink::test]
fn withheld_secret_is_slashed() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(1), 3);
    stake_all(&mut m, &a, 500);
    let job = request(&mut m, &a, ds);
    let [w0, w1, w2, _] = a.workers;
    for w in [w0, w1, w2] {
        offer(&mut m, job, w);
    }
    at(T0 + 1_000);
    assert_eq!(m.advance(job), Ok(JobStatus::Drawing));
    for w in [w0, w1] {
        as_(w);
        m.reveal_seed(job, secret(w)).expect("reveal seed");
    }
    assert_eq!(status(&m, job), JobStatus::Drawing);
    // w2 keeps its secret past the draw's deadline.
    at(T0 + 2_000);
    as_(a.outsider);
    assert_eq!(m.advance(job), Ok(JobStatus::Computing));
    let slash: WorkerSlashed = last();
    assert_eq!(
        (slash.job_id, slash.worker, slash.amount, slash.reason),
        (job, acc(w2), 100, SlashReason::Missed)
    );
    assert_eq!(
        m.worker(w2).map(|w| (w.stake, w.locked, w.open_claims)),
        Ok((400, 0, 0))
    );
    let info = m.job(job).expect("job");
    assert_eq!((info.slashed, info.escrow), (100, escrow_for(&m, ds) + 100));
    // The slot is drawn among the two that revealed, from their secrets.
    let seed = draw::seed_with::<Sha2>(job, 0, &[secret(w0), secret(w1)]);
    assert_eq!(last::<Drawn>().seed, Some(seed));
    let winner = [w0, w1][draw::draw_with::<Sha2>(&seed, &[500, 500], 1)[0]];
    let loser = if winner == w0 { w1 } else { w0 };
    let claimants: Vec<Account> = info.claims.iter().map(|c| c.worker).collect();
    assert_eq!(claimants, [acc(winner)]);
    assert_eq!(m.worker(loser).map(|w| (w.stake, w.locked)), Ok((500, 0)));
    assert_conserved(&m, &a.all());
    // The winner delivers and takes the withheld bond with its fee.
    let r = [7u8; 32];
    commit(&mut m, job, winner, &r);
    reveal(&mut m, job, winner, &r);
    at(m.job(job).expect("job").deadline);
    assert_eq!(m.advance(job), Ok(JobStatus::Computed));
    as_(a.owner);
    m.release(job, [4; 32]).expect("release");
    m.finalize(job).expect("finalize");
    assert_eq!(earned(&m, winner), 10 + 100);
    assert_eq!(earned(&m, loser), 0);
    assert_eq!(earned(&m, a.researcher), 10);
    assert_eq!(earned(&m, a.admin), 0);
    assert_conserved(&m, &a.all());
}

/// Attack: a party races to the front (three Sybil accounts offer as the
/// window opens) to take every slot before an honest worker arrives, as it
/// could with first-come `claim`. The window's offers are drawn whenever
/// they came: the honest worker, offering in the window's last
/// millisecond, wins its share of the slots, and offering first wins no
/// more than offering last.
#[ink::test]
fn racing_wins_no_slot() {
    let (mut m, a) = deploy();
    // Equal stakes, deep enough for every bond of the test: each account
    // has the same chance of each slot.
    stake_all(&mut m, &a, 1_000_000);
    let [first, s1, s2, honest] = a.workers;
    // (replication, jobs, the 99.9 % binomial interval of one account's
    // wins, mean ± 3.29 sd): replication 1, p = 1/4, n = 200: 50 ± 20;
    // replication 2, p = 1/2, n = 100: 50 ± 17. First-come gives the
    // honest worker none and the first Sybil every job.
    for (replication, jobs, bounds) in [(1u8, 200u32, 30..=70u32), (2, 100, 33..=67)] {
        let ds = dataset(&mut m, &a, policy(replication), 3);
        let (mut won_first, mut won_honest) = (0, 0);
        for _ in 0..jobs {
            let job = request(&mut m, &a, ds);
            for w in [first, s1, s2] {
                offer(&mut m, job, w);
            }
            at(m.job(job).expect("job").deadline - 1);
            offer(&mut m, job, honest);
            let drawn = draw_now(&mut m, job);
            assert_eq!(drawn.len(), usize::from(replication));
            won_first += u32::from(drawn.contains(&first));
            won_honest += u32::from(drawn.contains(&honest));
        }
        assert!(
            bounds.contains(&won_honest),
            "replication {replication}: the last offerer won {won_honest} of {jobs}"
        );
        assert!(
            bounds.contains(&won_first),
            "replication {replication}: the first offerer won {won_first} of {jobs}"
        );
    }
}

/// Attack: a party splits its stake over k accounts to win k times the
/// slots, as counting offers (accounts) would give it. Each offer weighs
/// its worker's stake: a party of three accounts with stake s in all,
/// against one honest account with stake s, wins about half the slots,
/// not three quarters.
#[ink::test]
fn slots_follow_stake_not_accounts() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(1), 3);
    let party = [a.workers[0], a.workers[1], a.workers[2]];
    let honest = a.workers[3];
    let s: Balance = 90_000;
    for w in party {
        pay(w, s / 3);
        m.stake().expect("stake");
    }
    pay(honest, s);
    m.stake().expect("stake");
    // 300 jobs of one slot. By stake, the party wins each with p = 1/2:
    // mean 150, sd 8.7, so 99.9 % of runs fall in 150 ± 29 (3.29 sd).
    // Counting accounts (p = 3/4) gives 225 ± 25: outside it.
    let jobs = 300u32;
    let mut party_wins = 0u32;
    for n in 0..jobs {
        let job = request(&mut m, &a, ds);
        // Who offers first alternates; it makes no difference.
        if n % 2 == 0 {
            offer(&mut m, job, honest);
        }
        for w in party {
            offer(&mut m, job, w);
        }
        if n % 2 == 1 {
            offer(&mut m, job, honest);
        }
        if n == 0 {
            let weights: Vec<Balance> = m
                .job(job)
                .expect("job")
                .offers
                .iter()
                .map(|o| o.weight)
                .collect();
            assert_eq!(weights, [s, s / 3, s / 3, s / 3]);
        }
        let drawn = draw_now(&mut m, job);
        party_wins += u32::from(party.contains(&drawn[0]));
    }
    assert!(
        (121..=179).contains(&party_wins),
        "the party won {party_wins} of {jobs} slots"
    );
}

#[ink::test]
fn commit_opens_reveal_when_all_slots_committed() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    stake_all(&mut m, &a, 500);
    let job = request(&mut m, &a, ds);
    let r = [7u8; 32];
    assign(&mut m, job, &a.workers[..2]);
    assert_eq!(now(), T0 + 1_000);
    commit(&mut m, job, a.workers[0], &r);
    let e: Committed = last();
    assert_eq!((e.job_id, e.worker), (job, acc(a.workers[0])));
    assert_eq!(status(&m, job), JobStatus::Computing);
    at(T0 + 1_200);
    commit(&mut m, job, a.workers[1], &r);
    assert_eq!(status(&m, job), JobStatus::Revealing);
    assert_eq!(m.job(job).map(|j| j.deadline), Ok(T0 + 1_200 + 1_000));
    let e: RevealOpened = last();
    assert_eq!((e.job_id, e.round, e.deadline), (job, 0, T0 + 2_200));
}

#[ink::test]
fn commit_errors() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    stake_all(&mut m, &a, 500);
    let job = request(&mut m, &a, ds);
    as_(a.workers[0]);
    assert_eq!(m.commit(9, [0; 32]), Err(Error::JobNotFound));
    // Commits wait for the draw (first-come claimants committed while Open).
    offer(&mut m, job, a.workers[0]);
    as_(a.workers[0]);
    assert_eq!(m.commit(job, [0; 32]), Err(Error::WrongStatus));
    offer(&mut m, job, a.workers[1]);
    draw_now(&mut m, job);
    as_(a.workers[2]);
    assert_eq!(m.commit(job, [0; 32]), Err(Error::NotClaimant));
    as_(a.workers[0]);
    assert_eq!(m.commit(job, [1; 32]), Ok(()));
    assert_eq!(m.commit(job, [1; 32]), Err(Error::AlreadyCommitted));
    as_(a.workers[1]);
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
    assign(&mut m, job, &a.workers[..2]);
    commit(&mut m, job, a.workers[0], &r);
    // Worker 1 copies worker 0's seal: it cannot open it.
    let copied = seal_for(&m, job, a.workers[0], &r);
    as_(a.workers[1]);
    m.commit(job, copied).expect("commit");
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
    // The reveal window opened with the last commit, at T0 + 1 s.
    at(T0 + 2_000);
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
        .request(
            ds,
            PipelineId::Histogram,
            [3; 32],
            0,
            T0 + 20_000,
            expected(&m, ds),
            0,
        )
        .expect("request");
    let r = [7u8; 32];
    work(&mut m, job, &[(a.workers[0], r), (a.workers[1], r)]);
    reveal(&mut m, job, a.workers[0], &r);
    assert_eq!(status(&m, job), JobStatus::Revealing);
    reveal(&mut m, job, a.workers[1], &r);
    // Agreement opens the challenge window first; nobody challenges.
    assert_eq!(status(&m, job), JobStatus::Challenge);
    pass_challenge(&mut m, job);
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
    work(&mut m, job, &[(a.workers[0], good), (a.workers[1], bad)]);
    reveal(&mut m, job, a.workers[0], &good);
    reveal(&mut m, job, a.workers[1], &bad);
    assert_eq!(status(&m, job), JobStatus::Disputed);
    let d: JobDisputed = last();
    assert_eq!((d.job_id, d.dataset_id), (job, ds));
    let info = m.job(job).expect("job");
    assert_eq!((info.round, info.slots), (1, 3));
    let sealed = seed_hash(&m, job, a.workers[0]);
    as_(a.workers[0]);
    assert_eq!(m.offer(job, sealed), Err(Error::AlreadyClaimed));
    work(&mut m, job, &[(a.workers[2], good)]);
    assert_eq!(status(&m, job), JobStatus::Revealing);
    let sealed = seed_hash(&m, job, a.workers[3]);
    as_(a.workers[3]);
    assert_eq!(m.offer(job, sealed), Err(Error::WrongStatus));
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

/// A dispute round's fresh slot is drawn like the first round's: workers
/// that hold a claim cannot offer, the fresh offerers reveal their
/// secrets, and the drawn one breaks the tie within the tie-break window.
#[ink::test]
fn a_dispute_round_draws_its_tie_breaker() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    stake_all(&mut m, &a, 500);
    pay(a.outsider, 500);
    m.stake().expect("a fifth worker");
    let job = request(&mut m, &a, ds);
    let (good, bad) = ([7u8; 32], [6u8; 32]);
    work(&mut m, job, &[(a.workers[0], good), (a.workers[1], bad)]);
    reveal(&mut m, job, a.workers[0], &good);
    reveal(&mut m, job, a.workers[1], &bad);
    let t = now();
    let info = m.job(job).expect("job");
    assert_eq!(
        (info.status, info.round, info.slots),
        (JobStatus::Disputed, 1, 3)
    );
    // The round's offer window, then a draw's reveal window and the
    // tie-break window (the job's 20 s compute window).
    assert_eq!(
        (info.deadline, info.commit_deadline),
        (t + 1_000, t + 1_000 + 1_000 + 20_000)
    );
    assert_eq!(last::<JobDisputed>().deadline, t + 1_000);
    for w in &a.workers[..2] {
        let sealed = seed_hash(&m, job, *w);
        as_(*w);
        assert_eq!(m.offer(job, sealed), Err(Error::AlreadyClaimed));
    }
    let fresh = [a.workers[2], a.workers[3], a.outsider];
    for w in fresh {
        offer(&mut m, job, w);
    }
    at(t + 1_000);
    assert_eq!(m.advance(job), Ok(JobStatus::Drawing));
    let e: DrawOpened = last();
    assert_eq!((e.round, e.offers, e.slots), (1, 3, 1));
    for w in fresh {
        as_(w);
        m.reveal_seed(job, secret(w)).expect("reveal seed");
    }
    // The seed folds in the round and every fresh secret.
    let seed = draw::seed_with::<Sha2>(job, 1, &fresh.map(secret));
    let drawn: Drawn = last();
    assert_eq!((drawn.round, drawn.seed), (1, Some(seed)));
    let tiebreaker = fresh[draw::draw_with::<Sha2>(&seed, &[500; 3], 1)[0]];
    let info = m.job(job).expect("job");
    assert_eq!(
        (info.status, info.deadline),
        (JobStatus::Computing, t + 22_000)
    );
    let claim = info.claims.last().expect("claim");
    assert_eq!((claim.worker, claim.round), (acc(tiebreaker), 1));
    for w in fresh {
        let locked = if w == tiebreaker { 100 } else { 0 };
        assert_eq!(m.worker(w).map(|i| i.locked), Ok(locked));
    }
    commit(&mut m, job, tiebreaker, &good);
    assert_eq!(status(&m, job), JobStatus::Revealing);
    reveal(&mut m, job, tiebreaker, &good);
    assert_eq!(status(&m, job), JobStatus::Computed);
    let slash: WorkerSlashed = last();
    assert_eq!(
        (slash.worker, slash.reason),
        (acc(a.workers[1]), SlashReason::Dissent)
    );
    as_(a.owner);
    m.release(job, [4; 32]).expect("release");
    m.finalize(job).expect("finalize");
    assert_eq!(earned(&m, a.workers[0]), 10 + 50);
    assert_eq!(earned(&m, tiebreaker), 10 + 50);
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
    work(
        &mut m,
        job,
        &[(a.workers[0], x), (a.workers[1], x), (a.workers[2], y)],
    );
    for (w, r) in [(0, x), (1, x), (2, y)] {
        reveal(&mut m, job, a.workers[w], &r);
    }
    assert_eq!(status(&m, job), JobStatus::Disputed);
    // The tie-break sides with the minority: 2 against 2, no strict majority.
    work(&mut m, job, &[(a.workers[3], y)]);
    reveal(&mut m, job, a.workers[3], &y);
    assert_eq!(status(&m, job), JobStatus::Disputed);
    let d: JobDisputed = last();
    assert_eq!(d.round, 2);
    let info = m.job(job).expect("job");
    assert_eq!((info.round, info.slots), (2, 5));
    assert!(events::<WorkerSlashed>().is_empty());
    // A fresh replica breaks the tie: 3 of 5.
    work(&mut m, job, &[(a.outsider, x)]);
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
/// result, and nobody challenges it in the window. The data owner, whose
/// recomputation differs (verify before decrypt), rejects the agreed result
/// with a bonded `reject`; fresh blind replicas decide, and the colluders
/// are slashed.
#[ink::test]
fn owner_rejects_an_agreed_result_and_fresh_replicas_decide() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    stake_all(&mut m, &a, 500);
    let job = request(&mut m, &a, ds);
    let (forged, correct) = ([6u8; 32], [7u8; 32]);
    work(
        &mut m,
        job,
        &[(a.workers[0], forged), (a.workers[1], forged)],
    );
    for w in &a.workers[..2] {
        reveal(&mut m, job, *w, &forged);
    }
    pass_challenge(&mut m, job);
    // The challenge window is over; only the dataset owner may reject an
    // agreed result, with a bond.
    let sealed = seal_for(&m, job, a.workers[2], &correct);
    as_(a.workers[2]);
    assert_eq!(m.challenge(job, sealed), Err(Error::WrongStatus));
    assert_eq!(m.reject(job, correct), Err(Error::NotDatasetOwner));
    as_(a.owner);
    assert_eq!(m.reject(job, correct), Err(Error::NotWorker));
    pay(a.owner, 100);
    m.stake().expect("the owner's bond");
    as_(a.owner);
    assert_eq!(m.reject(job, forged), Err(Error::NotConflicting));
    assert_eq!(m.reject(job, correct), Ok(()));
    let e: Rejected = last();
    let commitment = m
        .job(job)
        .expect("job")
        .commitment_with::<Sha2>(job, &correct);
    assert_eq!(
        (e.job_id, e.owner, e.result_blob_hash, e.commitment),
        (job, acc(a.owner), correct, commitment)
    );
    let info = m.job(job).expect("job");
    assert_eq!((info.status, info.round), (JobStatus::Disputed, 1));
    assert_eq!((info.result_blob_hash, info.commitment), (None, None));
    let claim = info.claims.last().expect("the owner's claim");
    assert_eq!(
        (claim.worker, claim.round, claim.result_blob_hash),
        (acc(a.owner), 1, Some(correct))
    );
    assert_eq!(claim.sealed, Some(hash::seal(&commitment, &acc(a.owner))));
    assert_eq!(m.release(job, [4; 32]), Err(Error::WrongStatus));
    // The replicas and the owner are parties: a jury of fresh replicas,
    // drawn from round 1 on, decides.
    assert_eq!(info.jury_from, 1);
    // Round 1: a fresh juror computes the truth; one vote is no majority.
    work(&mut m, job, &[(a.workers[2], correct)]);
    reveal(&mut m, job, a.workers[2], &correct);
    assert_eq!(
        m.job(job).map(|j| (j.status, j.round)),
        Ok((JobStatus::Disputed, 2))
    );
    // Round 2: a second juror agrees: the jury decides.
    work(&mut m, job, &[(a.workers[3], correct)]);
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
    work(&mut m, job, &[(a.workers[0], right), (a.workers[1], right)]);
    for w in &a.workers[..2] {
        reveal(&mut m, job, *w, &right);
    }
    pass_challenge(&mut m, job);
    as_(a.owner);
    m.reject(job, wrong).expect("reject");
    // Two jurors, in rounds 1 and 2, side with the replicas.
    for juror in &a.workers[2..] {
        work(&mut m, job, &[(*juror, right)]);
        reveal(&mut m, job, *juror, &right);
    }
    assert_eq!(
        m.job(job).map(|j| (j.status, j.round)),
        Ok((JobStatus::Computed, 2))
    );
    let slash: WorkerSlashed = last();
    assert_eq!(
        (slash.worker, slash.reason),
        (acc(a.owner), SlashReason::Dissent)
    );
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
    work(
        &mut m,
        job,
        &[(a.workers[0], [1; 32]), (a.workers[1], [2; 32])],
    );
    reveal(&mut m, job, a.workers[0], &[1; 32]);
    reveal(&mut m, job, a.workers[1], &[2; 32]);
    as_(a.outsider);
    for round in 1..=MAX_DISPUTE_ROUNDS {
        let info = m.job(job).expect("job");
        assert_eq!((info.status, info.round), (JobStatus::Disputed, round));
        // Nobody offers: the round's offer window reopens while a draw
        // still fits before its commit deadline, then the round closes.
        while m.job(job).map(|j| (j.status, j.round)) == Ok((JobStatus::Disputed, round)) {
            at(m.job(job).expect("job").deadline);
            m.advance(job).expect("advance");
        }
        assert_eq!(now(), info.commit_deadline - 2_000);
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
    work(&mut m, job, &[(a.workers[0], r)]);
    reveal(&mut m, job, a.workers[0], &r);
    assert_eq!(status(&m, job), JobStatus::Challenge);
    let open: ChallengeOpened = last();
    // The challenge window is at least the job's compute window (20 s):
    // a challenger must recompute the whole job. It opened when the
    // result was revealed, after the 1 s offer window.
    assert_eq!(
        (
            open.job_id,
            open.dataset_id,
            open.result_blob_hash,
            open.deadline
        ),
        (job, ds, r, T0 + 21_000)
    );
    // The result is under challenge, not agreed: no commitment yet.
    let info = m.job(job).expect("job");
    assert_eq!((info.result_blob_hash, info.commitment), (Some(r), None));
    as_(a.outsider);
    assert_eq!(m.advance(job), Err(Error::DeadlineNotReached));
    at(T0 + 21_000);
    assert_eq!(m.advance(job), Ok(JobStatus::Computed));
    let info = m.job(job).expect("job");
    assert_eq!(info.result_blob_hash, Some(r));
    assert_eq!(info.commitment, Some(info.commitment_with::<Sha2>(job, &r)));
}

#[ink::test]
fn challenge_with_tiebreak_slashes_the_loser() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(1), 3);
    stake_all(&mut m, &a, 500);
    let job = request(&mut m, &a, ds);
    let (lazy, right) = ([6u8; 32], [7u8; 32]);
    work(&mut m, job, &[(a.workers[0], lazy)]);
    reveal(&mut m, job, a.workers[0], &lazy);
    let sealed = seal_for(&m, job, a.workers[1], &right);
    as_(a.workers[1]);
    assert_eq!(m.challenge(job, sealed), Ok(()));
    let c: Challenged = last();
    assert_eq!(
        (c.job_id, c.worker, c.sealed),
        (job, acc(a.workers[1]), sealed)
    );
    // The challenger's claim, a round ahead, holds its seal and its bond;
    // the job stays in its window.
    let info = m.job(job).expect("job");
    assert_eq!(
        (info.status, info.round, info.slots),
        (JobStatus::Challenge, 0, 1)
    );
    assert_eq!(
        info.claims.last(),
        Some(&Claim {
            worker: acc(a.workers[1]),
            round: 1,
            sealed: Some(sealed),
            result_blob_hash: None,
            stake: StakeState::Locked,
            kind: ClaimKind::Challenger,
        })
    );
    assert_eq!(m.worker(a.workers[1]).map(|w| w.locked), Ok(100));
    // The window closes: the challenger reveals its conflicting result and
    // the job goes to a fresh blind replica.
    assert_eq!(close_challenges(&mut m, job), JobStatus::Revealing);
    let e: RevealOpened = last();
    assert_eq!((e.round, e.deadline), (1, T0 + 22_000));
    reveal(&mut m, job, a.workers[1], &right);
    let info = m.job(job).expect("job");
    assert_eq!(
        (info.status, info.round, info.slots),
        (JobStatus::Disputed, 2, 3)
    );
    assert_eq!(info.result_blob_hash, None);
    // The challenger holds a claim: one fresh slot is drawn.
    let sealed = seed_hash(&m, job, a.workers[1]);
    as_(a.workers[1]);
    assert_eq!(m.offer(job, sealed), Err(Error::AlreadyClaimed));
    // The replica and the challenger are parties: only the jury (fresh
    // replicas from round 2 on) votes, and one juror is no majority.
    assert_eq!(m.job(job).map(|j| j.jury_from), Ok(2));
    work(&mut m, job, &[(a.workers[2], right)]);
    reveal(&mut m, job, a.workers[2], &right);
    let info = m.job(job).expect("job");
    assert_eq!(
        (info.status, info.round, info.slots),
        (JobStatus::Disputed, 3, 4)
    );
    work(&mut m, job, &[(a.workers[3], right)]);
    reveal(&mut m, job, a.workers[3], &right);
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
    // Three winners share the fee reserve (1 replica + 1 reserve: 20) and
    // the lazy worker's stake equally: 6 + 33 each, whatever order they
    // claimed in (before, the last juror got no fee); the odd units go
    // back to the researcher.
    assert_eq!(earned(&m, a.workers[1]), 6 + 33);
    assert_eq!(earned(&m, a.workers[2]), 6 + 33);
    assert_eq!(earned(&m, a.workers[3]), 6 + 33);
    assert_eq!(earned(&m, a.researcher), 2 + 1);
    assert_conserved(&m, &a.all());
}

/// The sealed challenge's errors. (`NotConflicting` moved to `reveal`: a
/// seal hides the result until the window closes.)
#[ink::test]
fn challenge_errors() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(1), 3);
    stake_all(&mut m, &a, 500);
    let job = request(&mut m, &a, ds);
    let r = [7u8; 32];
    let sealed = [1u8; 32];
    as_(a.workers[1]);
    assert_eq!(m.challenge(job, sealed), Err(Error::WrongStatus));
    work(&mut m, job, &[(a.workers[0], r)]);
    reveal(&mut m, job, a.workers[0], &r);
    as_(a.workers[1]);
    assert_eq!(m.challenge(9, sealed), Err(Error::JobNotFound));
    as_(a.outsider);
    assert_eq!(m.challenge(job, sealed), Err(Error::NotWorker));
    // The replica cannot challenge its own result.
    as_(a.workers[0]);
    assert_eq!(m.challenge(job, sealed), Err(Error::AlreadyClaimed));
    as_(a.workers[1]);
    assert_eq!(m.challenge(job, sealed), Ok(()));
    assert_eq!(m.challenge(job, sealed), Err(Error::AlreadyClaimed));
    pay(a.outsider, 50);
    m.stake().expect("stake");
    as_(a.outsider);
    assert_eq!(m.challenge(job, sealed), Err(Error::InsufficientStake));
    as_(a.admin);
    m.set_paused(true).expect("pause");
    as_(a.workers[2]);
    assert_eq!(m.challenge(job, sealed), Err(Error::Paused));
    as_(a.admin);
    m.set_paused(false).expect("unpause");
    // Up to MAX_OFFERS challengers (the reveal round's gas is bounded).
    let more = extra_workers(&mut m, usize::from(MAX_OFFERS), 500);
    for w in &more[..more.len() - 1] {
        as_(*w);
        m.challenge(job, sealed).expect("challenge");
    }
    let extra = more[more.len() - 1];
    as_(extra);
    assert_eq!(m.challenge(job, sealed), Err(Error::TooManyOffers));
    let info = m.job(job).expect("job");
    assert_eq!(
        info.claims.iter().filter(|c| c.round == 1).count(),
        usize::from(MAX_OFFERS)
    );
    at(T0 + 21_000);
    as_(a.workers[2]);
    assert_eq!(m.challenge(job, sealed), Err(Error::DeadlinePassed));
    // Once closed, the challengers reveal; no more challenges.
    assert_eq!(m.advance(job), Ok(JobStatus::Revealing));
    assert_eq!(m.challenge(job, sealed), Err(Error::WrongStatus));
    let mut accounts = a.all();
    accounts.extend(more);
    assert_conserved(&m, &accounts);
}

#[ink::test]
fn challenge_without_tiebreak_ends_without_majority() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(1), 3);
    stake_all(&mut m, &a, 500);
    let job = request(&mut m, &a, ds);
    work(&mut m, job, &[(a.workers[0], [7; 32])]);
    reveal(&mut m, job, a.workers[0], &[7; 32]);
    challenge(&mut m, job, a.workers[1], &[8; 32]);
    assert_eq!(close_challenges(&mut m, job), JobStatus::Revealing);
    reveal(&mut m, job, a.workers[1], &[8; 32]);
    assert_eq!(status(&m, job), JobStatus::Disputed);
    // A tie-break worker is drawn but never commits; nobody offers for the
    // last round's slot.
    assign(&mut m, job, &[a.workers[2]]);
    at(m.job(job).expect("job").commit_deadline);
    assert_eq!(m.advance(job), Ok(JobStatus::Disputed));
    while status(&m, job) == JobStatus::Disputed {
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
    for w in [a.workers[0], a.workers[1]] {
        assert_eq!(m.worker(w).map(|w| (w.stake, w.locked)), Ok((500, 0)));
    }
    assert_conserved(&m, &a.all());
}

/// Attack: two colluding replicas agree on a forged result, which the old
/// contract made `Computed` at once (only replication 1 had a challenge
/// window). Now every replication factor's agreement opens one, as long as
/// the job's compute window, before the result is agreed.
#[ink::test]
fn replication_two_gets_a_challenge_window() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    stake_all(&mut m, &a, 500);
    let job = request(&mut m, &a, ds);
    let forged = [6u8; 32];
    work(
        &mut m,
        job,
        &[(a.workers[0], forged), (a.workers[1], forged)],
    );
    reveal(&mut m, job, a.workers[0], &forged);
    reveal(&mut m, job, a.workers[1], &forged);
    let t = now();
    let info = m.job(job).expect("job");
    assert_eq!(
        (info.status, info.round, info.deadline),
        (JobStatus::Challenge, 0, t + 20_000)
    );
    // Under challenge, not agreed: no commitment, no `JobComputed`.
    assert_eq!(
        (info.result_blob_hash, info.commitment),
        (Some(forged), None)
    );
    let open: ChallengeOpened = last();
    assert_eq!(
        (
            open.job_id,
            open.dataset_id,
            open.result_blob_hash,
            open.deadline
        ),
        (job, ds, forged, t + 20_000)
    );
    assert!(events::<JobComputed>().is_empty());
    as_(a.owner);
    assert_eq!(m.release(job, [4; 32]), Err(Error::WrongStatus));
    // A staked outsider challenges in the window, and reveals once it closes.
    challenge(&mut m, job, a.workers[2], &[7; 32]);
    assert_eq!(close_challenges(&mut m, job), JobStatus::Revealing);
    assert_conserved(&m, &a.all());
}

/// With nobody challenging, the result under challenge is agreed when the
/// window closes (not before), and pays like any agreed result.
#[ink::test]
fn unchallenged_result_is_agreed_after_the_window() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(3), 3);
    stake_all(&mut m, &a, 500);
    let job = request(&mut m, &a, ds);
    let r = [7u8; 32];
    let replicas = [a.workers[0], a.workers[1], a.workers[2]];
    work(&mut m, job, &replicas.map(|w| (w, r)));
    for w in replicas {
        reveal(&mut m, job, w, &r);
    }
    assert_eq!(status(&m, job), JobStatus::Challenge);
    let deadline = m.job(job).expect("job").deadline;
    at(deadline - 1);
    as_(a.outsider);
    assert_eq!(m.advance(job), Err(Error::DeadlineNotReached));
    at(deadline);
    let sealed = seal_for(&m, job, a.workers[3], &[8; 32]);
    as_(a.workers[3]);
    assert_eq!(m.challenge(job, sealed), Err(Error::DeadlinePassed));
    assert_eq!(m.advance(job), Ok(JobStatus::Computed));
    let info = m.job(job).expect("job");
    let commitment = info.commitment_with::<Sha2>(job, &r);
    assert_eq!(
        (info.result_blob_hash, info.commitment, info.deadline),
        (Some(r), Some(commitment), deadline + 1_000)
    );
    let e: JobComputed = last();
    assert_eq!(
        (
            e.job_id,
            e.dataset_id,
            e.result_blob_hash,
            e.commitment,
            e.deadline
        ),
        (job, ds, r, commitment, deadline + 1_000)
    );
    assert!(events::<WorkerSlashed>().is_empty());
    as_(a.owner);
    m.release(job, [4; 32]).expect("release");
    m.finalize(job).expect("finalize");
    let fin: JobFinalized = last();
    assert_eq!(
        (fin.owner_paid, fin.workers_paid, fin.researcher_refund),
        (PRICE, 30, 10)
    );
    for w in replicas {
        assert_eq!(earned(&m, w), 10);
        assert_eq!(m.worker(w).map(|i| (i.stake, i.locked)), Ok((500, 0)));
    }
    assert_conserved(&m, &a.all());
}

/// Attack: a challenge in the clear could be copied (a lazy worker posts
/// someone else's result) and squatted (the first challenge took the only
/// challenger slot, so a colluder could take it first with a challenge it
/// means to lose). Challenges are now sealed and several: neither result
/// shows on chain before the window closes, a second challenger gets in
/// after the first, and a copied seal cannot be opened.
#[ink::test]
fn challenges_are_sealed_and_several() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    stake_all(&mut m, &a, 500);
    pay(a.outsider, 500);
    m.stake().expect("the copycat's stake");
    let jurors = extra_workers(&mut m, 2, 500);
    let (fresh, juror) = (jurors[0], jurors[1]);
    let job = request(&mut m, &a, ds);
    let [w0, w1, c1, c2] = a.workers;
    let (forged, correct) = ([6u8; 32], [0xE7u8; 32]);
    work(&mut m, job, &[(w0, forged), (w1, forged)]);
    reveal(&mut m, job, w0, &forged);
    reveal(&mut m, job, w1, &forged);
    // Whether `correct` is anywhere on chain: the job's record or an event.
    let visible = |m: &Marketplace| {
        let mut bytes = m.job(job).expect("job").encode();
        for e in test::recorded_events() {
            bytes.extend(e.data);
            e.topics.into_iter().for_each(|t| bytes.extend(t));
        }
        bytes.windows(32).any(|w| w == correct)
    };
    challenge(&mut m, job, c1, &correct);
    let first: Challenged = last();
    assert_eq!(
        (first.job_id, first.worker, first.sealed),
        (job, acc(c1), seal_for(&m, job, c1, &correct))
    );
    // A second challenger still gets in after the first.
    challenge(&mut m, job, c2, &correct);
    // A copycat posts the first challenger's seal; the seal binds c1.
    as_(a.outsider);
    assert_eq!(m.challenge(job, first.sealed), Ok(()));
    assert_eq!(status(&m, job), JobStatus::Challenge);
    let info = m.job(job).expect("job");
    let challengers: Vec<_> = info
        .claims
        .iter()
        .filter(|c| c.round == 1)
        .map(|c| (c.worker, c.result_blob_hash.is_some()))
        .collect();
    assert_eq!(
        challengers,
        [(acc(c1), false), (acc(c2), false), (acc(a.outsider), false)]
    );
    assert_ne!(info.claims[2].sealed, info.claims[3].sealed);
    assert!(!visible(&m), "a challenger's result is on chain");
    assert_eq!(close_challenges(&mut m, job), JobStatus::Revealing);
    // The copycat opens the copied seal with neither the result under
    // challenge nor the challenger's.
    as_(a.outsider);
    assert_eq!(m.reveal(job, forged), Err(Error::NotConflicting));
    assert_eq!(m.reveal(job, correct), Err(Error::SealMismatch));
    reveal(&mut m, job, c1, &correct);
    reveal(&mut m, job, c2, &correct);
    assert!(visible(&m));
    assert_eq!(status(&m, job), JobStatus::Revealing);
    at(m.job(job).expect("job").deadline);
    assert_eq!(m.advance(job), Ok(JobStatus::Disputed));
    let slash: WorkerSlashed = last();
    assert_eq!(
        (slash.worker, slash.reason),
        (acc(a.outsider), SlashReason::Missed)
    );
    let info = m.job(job).expect("job");
    assert_eq!(
        (info.round, info.slots, info.result_blob_hash),
        (2, 6, None)
    );
    // The copycat's bond stays in the escrow, for the researcher.
    assert_eq!(info.slashed, 0);
    // A jury of fresh blind replicas decides: two agreeing, in rounds 2
    // and 3.
    work(&mut m, job, &[(fresh, correct)]);
    reveal(&mut m, job, fresh, &correct);
    assert_eq!(status(&m, job), JobStatus::Disputed);
    work(&mut m, job, &[(juror, correct)]);
    reveal(&mut m, job, juror, &correct);
    assert_eq!(status(&m, job), JobStatus::Computed);
    assert_eq!(m.job(job).map(|j| j.result_blob_hash), Ok(Some(correct)));
    let slashed: Vec<_> = events::<WorkerSlashed>()
        .into_iter()
        .map(|e| (e.worker, e.reason))
        .collect();
    assert_eq!(
        slashed,
        [
            (acc(a.outsider), SlashReason::Missed),
            (acc(w0), SlashReason::Dissent),
            (acc(w1), SlashReason::Dissent)
        ]
    );
    as_(a.owner);
    m.release(job, [4; 32]).expect("release");
    m.finalize(job).expect("finalize");
    // Both challengers and the two jurors: a quarter of the replicas' two
    // slashed stakes each, and an equal share of the three fees (7 each;
    // the odd 2 and the copycat's bond go to the researcher).
    for w in [c1, c2, fresh, juror] {
        assert_eq!(earned(&m, w), 7 + 50);
    }
    for w in [w0, w1, a.outsider] {
        assert_eq!(earned(&m, w), 0);
        assert_eq!(m.worker(w).map(|i| (i.stake, i.locked)), Ok((400, 0)));
    }
    assert_eq!(earned(&m, a.researcher), 100 + 2);
    let mut accounts = a.all();
    accounts.extend([fresh, juror]);
    assert_conserved(&m, &accounts);
}

/// Attack: a lazy challenger seals the public result under challenge, to
/// ride along without computing (or to pad the challenger list). It cannot
/// open its seal: revealing the result under challenge is refused
/// (`NotConflicting`), so it misses the reveal deadline and loses its bond,
/// to the researcher (not to the replicas it challenged).
#[ink::test]
fn a_lazy_challenger_loses_its_bond() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    stake_all(&mut m, &a, 500);
    let job = request(&mut m, &a, ds);
    let r = [7u8; 32];
    let [w0, w1, lazy, _] = a.workers;
    work(&mut m, job, &[(w0, r), (w1, r)]);
    reveal(&mut m, job, w0, &r);
    reveal(&mut m, job, w1, &r);
    challenge(&mut m, job, lazy, &r);
    assert_eq!(close_challenges(&mut m, job), JobStatus::Revealing);
    as_(lazy);
    assert_eq!(m.reveal(job, r), Err(Error::NotConflicting));
    assert_eq!(m.reveal(job, [8; 32]), Err(Error::SealMismatch));
    at(m.job(job).expect("job").deadline);
    as_(a.outsider);
    assert_eq!(m.advance(job), Ok(JobStatus::Computed));
    let slash: WorkerSlashed = last();
    assert_eq!(
        (slash.job_id, slash.worker, slash.amount, slash.reason),
        (job, acc(lazy), 100, SlashReason::Missed)
    );
    let info = m.job(job).expect("job");
    assert_eq!(
        (info.result_blob_hash, info.slashed, info.escrow),
        (Some(r), 0, PRICE + 30 + 100)
    );
    as_(a.owner);
    m.release(job, [4; 32]).expect("release");
    m.finalize(job).expect("finalize");
    // The replicas earn their fees; the lazy bond and the unused reserve
    // fee go back to the researcher.
    assert_eq!(earned(&m, w0), 10);
    assert_eq!(earned(&m, w1), 10);
    assert_eq!(earned(&m, lazy), 0);
    assert_eq!(earned(&m, a.researcher), 10 + 100);
    assert_eq!(m.worker(lazy).map(|i| (i.stake, i.locked)), Ok((400, 0)));
    assert_conserved(&m, &a.all());
}

/// A revealed challenge sends the job to a jury of fresh blind replicas
/// (rounds 2 and 3, which must agree), and it decides both ways: a
/// challenger on the losing side loses its bond to the winners; one on the
/// winning side is paid like them, with the replicas' slashed stakes.
#[ink::test]
fn a_losing_challenger_is_slashed_and_a_winning_one_paid() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    stake_all(&mut m, &a, 500);
    pay(a.outsider, 500);
    m.stake().expect("a fifth worker");
    let [w0, w1, challenger, f1] = a.workers;
    let f2 = a.outsider;
    let (x, y) = ([1u8; 32], [2u8; 32]);

    // The replicas are right: the fresh replica sides with them.
    let job = request(&mut m, &a, ds);
    work(&mut m, job, &[(w0, x), (w1, x)]);
    reveal(&mut m, job, w0, &x);
    reveal(&mut m, job, w1, &x);
    challenge(&mut m, job, challenger, &y);
    close_challenges(&mut m, job);
    reveal(&mut m, job, challenger, &y);
    assert_eq!(
        m.job(job).map(|j| (j.status, j.round)),
        Ok((JobStatus::Disputed, 2))
    );
    work(&mut m, job, &[(f1, x)]);
    reveal(&mut m, job, f1, &x);
    assert_eq!(
        m.job(job).map(|j| (j.status, j.round)),
        Ok((JobStatus::Disputed, 3))
    );
    work(&mut m, job, &[(f2, x)]);
    reveal(&mut m, job, f2, &x);
    assert_eq!(status(&m, job), JobStatus::Computed);
    assert_eq!(m.job(job).map(|j| j.result_blob_hash), Ok(Some(x)));
    let slash: WorkerSlashed = last();
    assert_eq!(
        (slash.worker, slash.amount, slash.reason),
        (acc(challenger), 100, SlashReason::Dissent)
    );
    as_(a.owner);
    m.release(job, [4; 32]).expect("release");
    m.finalize(job).expect("finalize");
    // Four winners: a quarter of the bond each, and an equal share of the
    // three fees (7 each; the odd 2 back to the researcher).
    for w in [w0, w1, f1, f2] {
        assert_eq!(earned(&m, w), 7 + 25);
    }
    assert_eq!(earned(&m, challenger), 0);
    assert_eq!(earned(&m, a.researcher), 2);
    assert_eq!(m.worker(challenger).map(|i| i.stake), Ok(400));

    // The replicas forged: both jurors side with the challenger.
    let job = request(&mut m, &a, ds);
    work(&mut m, job, &[(w0, x), (w1, x)]);
    reveal(&mut m, job, w0, &x);
    reveal(&mut m, job, w1, &x);
    challenge(&mut m, job, challenger, &y);
    close_challenges(&mut m, job);
    reveal(&mut m, job, challenger, &y);
    work(&mut m, job, &[(f1, y)]);
    reveal(&mut m, job, f1, &y);
    assert_eq!(
        m.job(job).map(|j| (j.status, j.round)),
        Ok((JobStatus::Disputed, 3))
    );
    work(&mut m, job, &[(f2, y)]);
    reveal(&mut m, job, f2, &y);
    assert_eq!(status(&m, job), JobStatus::Computed);
    assert_eq!(m.job(job).map(|j| j.result_blob_hash), Ok(Some(y)));
    let slashed: Vec<_> = events::<WorkerSlashed>()
        .into_iter()
        .skip(1)
        .map(|e| (e.worker, e.reason))
        .collect();
    assert_eq!(
        slashed,
        [
            (acc(w0), SlashReason::Dissent),
            (acc(w1), SlashReason::Dissent)
        ]
    );
    as_(a.owner);
    m.release(job, [4; 32]).expect("release");
    m.finalize(job).expect("finalize");
    // The challenger and both fresh replicas: a fee each and a third of
    // the two slashed stakes (the odd 2 to the researcher).
    assert_eq!(earned(&m, challenger), 10 + 66);
    assert_eq!(earned(&m, f1), 7 + 25 + 10 + 66);
    assert_eq!(earned(&m, f2), 7 + 25 + 10 + 66);
    assert_eq!(earned(&m, w0), 7 + 25);
    assert_eq!(earned(&m, a.researcher), 2 + 2);
    assert_eq!(m.worker(w0).map(|i| (i.stake, i.locked)), Ok((400, 0)));
    assert_conserved(&m, &a.all());
}

/// Attack: forged agreement, with a sealed challenger already in the
/// window. The data owner need not wait for the window to close: it
/// rejects at once, in the clear and bonded; the challenger joins the
/// dispute round and reveals there, but only the jury of fresh blind
/// replicas (rounds 1 to 3) votes.
#[ink::test]
fn the_owner_rejects_during_the_challenge_window() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    stake_all(&mut m, &a, 500);
    pay(a.owner, 100);
    m.stake().expect("the owner's bond");
    pay(a.outsider, 500);
    m.stake().expect("a late challenger's stake");
    let job = request(&mut m, &a, ds);
    let [w0, w1, challenger, fresh] = a.workers;
    let juror = a.outsider;
    let (forged, correct) = ([6u8; 32], [7u8; 32]);
    work(&mut m, job, &[(w0, forged), (w1, forged)]);
    reveal(&mut m, job, w0, &forged);
    reveal(&mut m, job, w1, &forged);
    challenge(&mut m, job, challenger, &correct);
    as_(a.owner);
    assert_eq!(m.reject(job, forged), Err(Error::NotConflicting));
    assert_eq!(m.reject(job, correct), Ok(()));
    let commitment = m
        .job(job)
        .expect("job")
        .commitment_with::<Sha2>(job, &correct);
    let e: Rejected = last();
    assert_eq!(
        (e.job_id, e.owner, e.result_blob_hash, e.commitment),
        (job, acc(a.owner), correct, commitment)
    );
    let info = m.job(job).expect("job");
    assert_eq!(
        (info.status, info.round, info.slots),
        (JobStatus::Disputed, 1, 5)
    );
    assert_eq!((info.result_blob_hash, info.commitment), (None, None));
    assert_eq!((info.challenged, info.jury_from), (Some(forged), 1));
    assert_eq!(last::<JobDisputed>().round, 1);
    // The sealed challenger and the owner hold claims of the dispute round.
    let round_one: Vec<_> = info
        .claims
        .iter()
        .filter(|c| c.round == 1)
        .map(|c| (c.worker, c.result_blob_hash))
        .collect();
    assert_eq!(
        round_one,
        [(acc(challenger), None), (acc(a.owner), Some(correct))]
    );
    // The window is over for new challenges; the challenger reveals with
    // the round, not now.
    let sealed = seal_for(&m, job, a.outsider, &correct);
    as_(a.outsider);
    assert_eq!(m.challenge(job, sealed), Err(Error::WrongStatus));
    as_(challenger);
    assert_eq!(m.reveal(job, correct), Err(Error::WrongStatus));
    work(&mut m, job, &[(fresh, correct)]);
    assert_eq!(status(&m, job), JobStatus::Revealing);
    reveal(&mut m, job, challenger, &correct);
    reveal(&mut m, job, fresh, &correct);
    // The owner and the challenger are parties: one juror is no majority.
    assert_eq!(
        m.job(job).map(|j| (j.status, j.round)),
        Ok((JobStatus::Disputed, 2))
    );
    // A second juror agrees: the jury decides.
    work(&mut m, job, &[(juror, correct)]);
    reveal(&mut m, job, juror, &correct);
    assert_eq!(status(&m, job), JobStatus::Computed);
    assert_eq!(m.job(job).map(|j| j.result_blob_hash), Ok(Some(correct)));
    let slashed: Vec<_> = events::<WorkerSlashed>()
        .into_iter()
        .map(|e| (e.worker, e.reason))
        .collect();
    assert_eq!(
        slashed,
        [
            (acc(w0), SlashReason::Dissent),
            (acc(w1), SlashReason::Dissent)
        ]
    );
    as_(a.owner);
    m.release(job, [4; 32]).expect("release");
    m.finalize(job).expect("finalize");
    // Four winners (the challenger, the owner and both jurors): half of a
    // slashed stake each, and an equal share of the three fees (7 each;
    // the odd 2 back to the researcher).
    assert_eq!(earned(&m, challenger), 7 + 50);
    assert_eq!(earned(&m, a.owner), PRICE + 7 + 50);
    assert_eq!(earned(&m, fresh), 7 + 50);
    assert_eq!(earned(&m, juror), 7 + 50);
    assert_eq!(earned(&m, a.researcher), 2);
    assert_eq!(m.worker(a.owner).map(|i| (i.stake, i.locked)), Ok((100, 0)));
    assert_conserved(&m, &a.all());
}

/// Attack: colluding replicas forge X and their Sybil accounts seal X as
/// "challenges" (a lazy seal, free to make). Before, the owner's
/// `reject` cleared the result under challenge, so the Sybils could then
/// open their seals of X in the dispute round and outvote the owner and
/// the fresh replica. A challenger may never reveal the challenged result,
/// also after a rejection, and only the jury votes: the Sybils miss their
/// reveal and lose their bonds, the jurors decide the owner's result, and
/// the owner keeps its bond.
#[ink::test]
fn a_rejection_keeps_lazy_seals_from_voting() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    stake_all(&mut m, &a, 500);
    pay(a.owner, 100);
    m.stake().expect("the owner's bond");
    let jurors = extra_workers(&mut m, 2, 500);
    let job = request(&mut m, &a, ds);
    let [w0, w1, s1, s2] = a.workers;
    let (forged, correct) = ([6u8; 32], [7u8; 32]);
    work(&mut m, job, &[(w0, forged), (w1, forged)]);
    reveal(&mut m, job, w0, &forged);
    reveal(&mut m, job, w1, &forged);
    challenge(&mut m, job, s1, &forged);
    challenge(&mut m, job, s2, &forged);
    as_(a.owner);
    m.reject(job, correct).expect("reject");
    let info = m.job(job).expect("job");
    assert_eq!(
        (info.status, info.round, info.challenged, info.jury_from),
        (JobStatus::Disputed, 1, Some(forged), 1)
    );
    let kinds: Vec<_> = info.claims.iter().map(|c| (c.worker, c.kind)).collect();
    assert_eq!(
        kinds,
        [
            (acc(w0), ClaimKind::Drawn),
            (acc(w1), ClaimKind::Drawn),
            (acc(s1), ClaimKind::Challenger),
            (acc(s2), ClaimKind::Challenger),
            (acc(a.owner), ClaimKind::Owner)
        ]
    );
    // Round 1: the first juror; the Sybils cannot open their seals.
    work(&mut m, job, &[(jurors[0], correct)]);
    for s in [s1, s2] {
        as_(s);
        assert_eq!(m.reveal(job, forged), Err(Error::NotConflicting));
    }
    reveal(&mut m, job, jurors[0], &correct);
    at(m.job(job).expect("job").deadline);
    as_(a.outsider);
    assert_eq!(m.advance(job), Ok(JobStatus::Disputed));
    // Round 2: a second juror agrees.
    work(&mut m, job, &[(jurors[1], correct)]);
    reveal(&mut m, job, jurors[1], &correct);
    let info = m.job(job).expect("job");
    assert_eq!(
        (info.status, info.round, info.result_blob_hash),
        (JobStatus::Computed, 2, Some(correct))
    );
    let slashed: Vec<_> = events::<WorkerSlashed>()
        .into_iter()
        .map(|e| (e.worker, e.reason))
        .collect();
    assert_eq!(
        slashed,
        [
            (acc(s1), SlashReason::Missed),
            (acc(s2), SlashReason::Missed),
            (acc(w0), SlashReason::Dissent),
            (acc(w1), SlashReason::Dissent)
        ]
    );
    as_(a.owner);
    m.release(job, [4; 32]).expect("release");
    m.finalize(job).expect("finalize");
    // The owner and both jurors win: a fee each and a third of the four
    // slashed stakes (the odd unit to the researcher).
    assert_eq!(earned(&m, a.owner), PRICE + 10 + 133);
    for j in &jurors {
        assert_eq!(earned(&m, *j), 10 + 133);
    }
    for w in [w0, w1, s1, s2] {
        assert_eq!(earned(&m, w), 0);
        assert_eq!(m.worker(w).map(|i| (i.stake, i.locked)), Ok((400, 0)));
    }
    assert_eq!(m.worker(a.owner).map(|i| (i.stake, i.locked)), Ok((100, 0)));
    assert_eq!(earned(&m, a.researcher), 1);
    let mut accounts = a.all();
    accounts.extend(jurors);
    assert_conserved(&m, &accounts);
}

/// Attack: colluding replicas forge X and fill the challenger list
/// (`MAX_OFFERS`) with junk seals from their own Sybil accounts, so no
/// honest challenger gets in, and never reveal. Before, the Sybils' bonds,
/// slashed for the missed reveal, went to the replicas they "challenged":
/// crowding out challengers cost the colluders nothing. Now the bonds stay
/// in the job's escrow for the researcher, at finalize and at a refund
/// alike; the replicas earn only their fees.
#[ink::test]
fn junk_challenges_pay_the_researcher_not_the_replicas() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    stake_all(&mut m, &a, 500);
    let sybils = extra_workers(&mut m, usize::from(MAX_OFFERS), 500);
    let [w0, w1, honest, _] = a.workers;
    let (forged, correct) = ([6u8; 32], [7u8; 32]);
    let bonds = 100 * Balance::from(MAX_OFFERS);

    // Finalized: the owner releases the forged result.
    let job = request(&mut m, &a, ds);
    work(&mut m, job, &[(w0, forged), (w1, forged)]);
    reveal(&mut m, job, w0, &forged);
    reveal(&mut m, job, w1, &forged);
    for s in &sybils {
        as_(*s);
        m.challenge(job, [0x88; 32]).expect("junk challenge");
    }
    let sealed = seal_for(&m, job, honest, &correct);
    as_(honest);
    assert_eq!(m.challenge(job, sealed), Err(Error::TooManyOffers));
    assert_eq!(close_challenges(&mut m, job), JobStatus::Revealing);
    at(m.job(job).expect("job").deadline);
    as_(a.outsider);
    assert_eq!(m.advance(job), Ok(JobStatus::Computed));
    assert_eq!(events::<WorkerSlashed>().len(), sybils.len());
    assert!(events::<WorkerSlashed>()
        .iter()
        .all(|e| e.reason == SlashReason::Missed));
    let info = m.job(job).expect("job");
    assert_eq!(
        (info.result_blob_hash, info.slashed, info.escrow),
        (Some(forged), 0, PRICE + 30 + bonds)
    );
    as_(a.owner);
    m.release(job, [4; 32]).expect("release");
    m.finalize(job).expect("finalize");
    let e: JobFinalized = last();
    assert_eq!((e.workers_paid, e.researcher_refund), (20, 10 + bonds));
    assert_eq!(earned(&m, w0), 10);
    assert_eq!(earned(&m, w1), 10);
    assert_eq!(earned(&m, a.researcher), 10 + bonds);

    // Refunded: the owner lets the release window pass.
    let job = request(&mut m, &a, ds);
    work(&mut m, job, &[(w0, forged), (w1, forged)]);
    reveal(&mut m, job, w0, &forged);
    reveal(&mut m, job, w1, &forged);
    for s in &sybils[..2] {
        as_(*s);
        m.challenge(job, [0x88; 32]).expect("junk challenge");
    }
    close_challenges(&mut m, job);
    at(m.job(job).expect("job").deadline);
    as_(a.outsider);
    assert_eq!(m.advance(job), Ok(JobStatus::Computed));
    assert_eq!(m.job(job).map(|j| j.slashed), Ok(0));
    at(m.job(job).expect("job").deadline);
    assert_eq!(m.advance(job), Ok(JobStatus::Refunded));
    let e: JobRefunded = last();
    assert_eq!(
        (e.reason, e.workers_paid, e.owner_paid, e.refund),
        (RefundReason::ReleaseTimeout, 20, 0, PRICE + 10 + 200)
    );
    assert_eq!(earned(&m, w0), 10 + 10);
    assert_eq!(earned(&m, w1), 10 + 10);
    assert_eq!(earned(&m, a.researcher), 10 + bonds + PRICE + 10 + 200);
    for (i, s) in sybils.iter().enumerate() {
        let stake = if i < 2 { 300 } else { 400 };
        assert_eq!(m.worker(*s).map(|w| (w.stake, w.locked)), Ok((stake, 0)));
        assert_eq!(earned(&m, *s), 0);
    }
    let mut accounts = a.all();
    accounts.extend(sybils);
    assert_conserved(&m, &accounts);
}

/// Attack: every replica colludes (replication 3, all forge X) against one
/// honest challenger. Before, the replicas voted in the dispute they were
/// a party to: with the first fresh replica's vote, X had 3 of 5 and won,
/// slashing the challenger and the juror. Now only the jury (fresh blind
/// replicas of rounds 2 and 3) votes, however many replicas collude: C
/// wins, and the three colluders are slashed.
#[ink::test]
fn colluding_replicas_cannot_outvote_the_jury() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(3), 3);
    stake_all(&mut m, &a, 500);
    let jurors = extra_workers(&mut m, 2, 500);
    let [w0, w1, w2, challenger] = a.workers;
    let (forged, correct) = ([6u8; 32], [7u8; 32]);
    let job = request(&mut m, &a, ds);
    work(&mut m, job, &[(w0, forged), (w1, forged), (w2, forged)]);
    for w in [w0, w1, w2] {
        reveal(&mut m, job, w, &forged);
    }
    challenge(&mut m, job, challenger, &correct);
    close_challenges(&mut m, job);
    reveal(&mut m, job, challenger, &correct);
    let info = m.job(job).expect("job");
    assert_eq!(
        (info.status, info.round, info.jury_from),
        (JobStatus::Disputed, 2, 2)
    );
    // Round 2: one juror, no majority (on every live result, X had 3 of 5).
    work(&mut m, job, &[(jurors[0], correct)]);
    reveal(&mut m, job, jurors[0], &correct);
    assert_eq!(
        m.job(job).map(|j| (j.status, j.round)),
        Ok((JobStatus::Disputed, 3))
    );
    assert!(events::<WorkerSlashed>().is_empty());
    // Round 3: the second juror agrees.
    work(&mut m, job, &[(jurors[1], correct)]);
    reveal(&mut m, job, jurors[1], &correct);
    assert_eq!(status(&m, job), JobStatus::Computed);
    assert_eq!(m.job(job).map(|j| j.result_blob_hash), Ok(Some(correct)));
    let slashed: Vec<_> = events::<WorkerSlashed>()
        .into_iter()
        .map(|e| (e.worker, e.reason))
        .collect();
    assert_eq!(
        slashed,
        [
            (acc(w0), SlashReason::Dissent),
            (acc(w1), SlashReason::Dissent),
            (acc(w2), SlashReason::Dissent)
        ]
    );
    as_(a.owner);
    m.release(job, [4; 32]).expect("release");
    m.finalize(job).expect("finalize");
    // The challenger and the jurors: a fee each and a third of the three
    // slashed stakes; the unused fee goes back to the researcher.
    assert_eq!(earned(&m, challenger), 10 + 100);
    for j in &jurors {
        assert_eq!(earned(&m, *j), 10 + 100);
    }
    for w in [w0, w1, w2] {
        assert_eq!(earned(&m, w), 0);
        assert_eq!(m.worker(w).map(|i| (i.stake, i.locked)), Ok((400, 0)));
    }
    assert_eq!(earned(&m, a.researcher), 10);
    let mut accounts = a.all();
    accounts.extend(jurors);
    assert_conserved(&m, &accounts);
}

/// A jury that does not agree decides nothing: after a contested
/// challenge, jurors of rounds 2 and 3 that differ, or after the owner's
/// rejection, three jurors that all differ, refund the job (`NoMajority`),
/// and nobody is slashed. Before, the parties voted: the replicas' X with
/// one juror's had 3 of 5 and won.
#[ink::test]
fn a_split_jury_refunds() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    stake_all(&mut m, &a, 500);
    pay(a.owner, 100);
    m.stake().expect("the owner's bond");
    let jurors = extra_workers(&mut m, 3, 500);
    let [w0, w1, challenger, _] = a.workers;
    let (x, c, z) = ([6u8; 32], [7u8; 32], [8u8; 32]);
    let mut accounts = a.all();
    accounts.extend(&jurors);
    let stakes = |m: &Marketplace| {
        accounts
            .iter()
            .map(|w| {
                m.worker(*w)
                    .map(|i| (i.stake, i.locked))
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
    };
    let before = stakes(&m);

    // A contested challenge: the jurors of rounds 2 and 3 split.
    let job = request(&mut m, &a, ds);
    work(&mut m, job, &[(w0, x), (w1, x)]);
    reveal(&mut m, job, w0, &x);
    reveal(&mut m, job, w1, &x);
    challenge(&mut m, job, challenger, &c);
    close_challenges(&mut m, job);
    reveal(&mut m, job, challenger, &c);
    work(&mut m, job, &[(jurors[0], c)]);
    reveal(&mut m, job, jurors[0], &c);
    assert_eq!(
        m.job(job).map(|j| (j.status, j.round)),
        Ok((JobStatus::Disputed, 3))
    );
    work(&mut m, job, &[(jurors[1], x)]);
    reveal(&mut m, job, jurors[1], &x);
    assert_eq!(status(&m, job), JobStatus::Refunded);
    let e: JobRefunded = last();
    assert_eq!(
        (e.reason, e.workers_paid, e.owner_paid, e.refund),
        (RefundReason::NoMajority, 0, 0, PRICE + 30)
    );
    assert!(events::<WorkerSlashed>().is_empty());
    assert_eq!(stakes(&m), before);

    // The owner rejects in the window: jurors of rounds 1 to 3 all differ.
    let job = request(&mut m, &a, ds);
    work(&mut m, job, &[(w0, x), (w1, x)]);
    reveal(&mut m, job, w0, &x);
    reveal(&mut m, job, w1, &x);
    as_(a.owner);
    m.reject(job, c).expect("reject");
    for (round, (juror, result)) in jurors.iter().zip([c, x, z]).enumerate() {
        assert_eq!(
            m.job(job).map(|j| (j.status, j.round)),
            Ok((JobStatus::Disputed, round as u8 + 1))
        );
        work(&mut m, job, &[(*juror, result)]);
        reveal(&mut m, job, *juror, &result);
    }
    assert_eq!(status(&m, job), JobStatus::Refunded);
    let e: JobRefunded = last();
    assert_eq!(
        (e.reason, e.workers_paid, e.refund),
        (RefundReason::NoMajority, 0, PRICE + 30)
    );
    assert!(events::<WorkerSlashed>().is_empty());
    assert_eq!(stakes(&m), before);
    for w in &accounts {
        let expected = if *w == a.researcher {
            2 * (PRICE + 30)
        } else {
            0
        };
        assert_eq!(earned(&m, *w), expected);
    }
    assert_conserved(&m, &accounts);
}

/// `reject`: the dataset owner's, bonded, against a result under
/// challenge or agreed, before its deadline, while dispute rounds remain.
#[ink::test]
fn reject_errors() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(2), 3);
    stake_all(&mut m, &a, 500);
    pay(a.outsider, 500);
    m.stake().expect("a fifth worker");
    let (x, y, z) = ([7u8; 32], [8u8; 32], [9u8; 32]);
    let job = request(&mut m, &a, ds);
    as_(a.owner);
    assert_eq!(m.reject(job, y), Err(Error::NotWorker));
    pay(a.owner, 50);
    m.stake().expect("too small a bond");
    as_(a.owner);
    assert_eq!(m.reject(9, y), Err(Error::JobNotFound));
    assert_eq!(m.reject(job, y), Err(Error::WrongStatus));
    work(&mut m, job, &[(a.workers[0], x), (a.workers[1], x)]);
    as_(a.owner);
    assert_eq!(m.reject(job, y), Err(Error::WrongStatus));
    reveal(&mut m, job, a.workers[0], &x);
    reveal(&mut m, job, a.workers[1], &x);
    assert_eq!(status(&m, job), JobStatus::Challenge);
    // Only the dataset owner, staked enough, with a result no live claim has.
    as_(a.workers[2]);
    assert_eq!(m.reject(job, y), Err(Error::NotDatasetOwner));
    as_(a.owner);
    assert_eq!(m.reject(job, x), Err(Error::NotConflicting));
    assert_eq!(m.reject(job, y), Err(Error::InsufficientStake));
    pay(a.owner, 150);
    m.stake().expect("a bond for two jobs");
    as_(a.admin);
    m.set_paused(true).expect("pause");
    as_(a.owner);
    assert_eq!(m.reject(job, y), Err(Error::Paused));
    as_(a.admin);
    m.set_paused(false).expect("unpause");
    // The window's deadline, then the release deadline, close it.
    let deadline = m.job(job).expect("job").deadline;
    at(deadline);
    as_(a.owner);
    assert_eq!(m.reject(job, y), Err(Error::DeadlinePassed));
    assert_eq!(m.advance(job), Ok(JobStatus::Computed));
    at(deadline + 1_000);
    assert_eq!(m.reject(job, y), Err(Error::DeadlinePassed));
    assert_eq!(m.advance(job), Ok(JobStatus::Refunded));
    assert_eq!(m.reject(job, y), Err(Error::WrongStatus));

    // An owner that challenged the job holds a claim on it already.
    let job = request(&mut m, &a, ds);
    work(&mut m, job, &[(a.workers[0], x), (a.workers[1], x)]);
    reveal(&mut m, job, a.workers[0], &x);
    reveal(&mut m, job, a.workers[1], &x);
    challenge(&mut m, job, a.owner, &y);
    as_(a.owner);
    assert_eq!(m.reject(job, y), Err(Error::AlreadyClaimed));

    // A result agreed with fewer than two dispute rounds left cannot be
    // rejected: a jury needs two rounds to decide it (else a rejection
    // would turn an agreed result into a refund).
    let ds3 = dataset(&mut m, &a, policy(3), 3);
    let job = request(&mut m, &a, ds3);
    work(
        &mut m,
        job,
        &[(a.workers[0], x), (a.workers[1], y), (a.workers[2], z)],
    );
    reveal(&mut m, job, a.workers[0], &x);
    reveal(&mut m, job, a.workers[1], &y);
    reveal(&mut m, job, a.workers[2], &z);
    work(&mut m, job, &[(a.workers[3], x)]);
    reveal(&mut m, job, a.workers[3], &x);
    work(&mut m, job, &[(a.outsider, x)]);
    reveal(&mut m, job, a.outsider, &x);
    let info = m.job(job).expect("job");
    assert_eq!((info.status, info.round), (JobStatus::Computed, 2));
    as_(a.owner);
    assert_eq!(m.reject(job, y), Err(Error::WrongStatus));

    let job = request(&mut m, &a, ds);
    work(&mut m, job, &[(a.workers[0], x), (a.workers[1], y)]);
    reveal(&mut m, job, a.workers[0], &x);
    reveal(&mut m, job, a.workers[1], &y);
    work(&mut m, job, &[(a.workers[2], z)]);
    reveal(&mut m, job, a.workers[2], &z);
    work(&mut m, job, &[(a.workers[3], y)]);
    reveal(&mut m, job, a.workers[3], &y);
    work(&mut m, job, &[(a.outsider, y)]);
    reveal(&mut m, job, a.outsider, &y);
    let info = m.job(job).expect("job");
    assert_eq!(
        (info.status, info.round),
        (JobStatus::Computed, MAX_DISPUTE_ROUNDS)
    );
    as_(a.owner);
    assert_eq!(m.reject(job, x), Err(Error::WrongStatus));
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
    // Past the commit deadline no offer window reopens.
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
    assign(&mut m, job, &a.workers[..2]);
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
    // Both slots are drawn; one claimant commits. (First-come left the
    // second slot unclaimed; a drawn claimant that never commits is slashed.)
    assign(&mut m, job, &a.workers[..2]);
    commit(&mut m, job, a.workers[0], &[7; 32]);
    at(T0 + 20_000);
    assert_eq!(m.advance(job), Ok(JobStatus::Revealing));
    assert_eq!(last::<WorkerSlashed>().worker, acc(a.workers[1]));
    reveal(&mut m, job, a.workers[0], &[7; 32]);
    // One result of two: tie-break needed.
    assert_eq!(status(&m, job), JobStatus::Disputed);
    work(&mut m, job, &[(a.workers[2], [7; 32])]);
    reveal(&mut m, job, a.workers[2], &[7; 32]);
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
        .request(
            ds,
            PipelineId::Histogram,
            [3; 32],
            300,
            T0 + 20_000,
            expected(&m, ds),
            0,
        )
        .expect("request");
    work(
        &mut m,
        job,
        &[(a.workers[0], [7; 32]), (a.workers[1], [7; 32])],
    );
    for w in &a.workers[..2] {
        reveal(&mut m, job, *w, &[7; 32]);
    }
    pass_challenge(&mut m, job);
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
    work(
        &mut m,
        job,
        &[(a.workers[0], [7; 32]), (a.workers[1], [7; 32])],
    );
    for w in &a.workers[..2] {
        reveal(&mut m, job, *w, &[7; 32]);
    }
    pass_challenge(&mut m, job);
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
    work(&mut m, job, &[(a.workers[0], [7; 32])]);
    reveal(&mut m, job, a.workers[0], &[7; 32]);
    at(T0 + 21_000);
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
        bad(|b| b.offer_window = 0),
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
    p.offer_window = 5_000;
    p.reveal_window = 50_000;
    p.release_window = 50_000;
    m.set_params(p).expect("long windows");
    // The commit deadline leaves the offer window, a draw and the minimum
    // compute window: 5 + 50 + 2 s at least.
    pay(a.researcher, escrow_for(&m, ds));
    let job = m
        .request(
            ds,
            PipelineId::Histogram,
            [3; 32],
            0,
            T0 + 100_000,
            expected(&m, ds),
            0,
        )
        .expect("request");
    // The admin turns hostile: the shortest windows and a huge claim stake.
    let mut hostile = params();
    hostile.claim_stake = 400;
    hostile.worker_fee = 0;
    as_(a.admin);
    m.set_params(hostile).expect("short windows");
    // Three offers for two slots: a draw, whose reveal window is the job's.
    for w in &a.workers[..3] {
        offer(&mut m, job, *w);
    }
    assert_eq!(m.worker(a.workers[0]).map(|w| w.locked), Ok(100));
    at(T0 + 5_000);
    assert_eq!(m.advance(job), Ok(JobStatus::Drawing));
    assert_eq!(
        m.job(job).map(|j| j.deadline),
        Ok(T0 + 55_000),
        "offer and draw windows frozen at request"
    );
    let drawn = draw_now(&mut m, job);
    assert_eq!(drawn.len(), 2);
    let r = [7u8; 32];
    for w in &drawn {
        commit(&mut m, job, *w, &r);
    }
    let info = m.job(job).expect("job");
    assert_eq!(
        info.deadline,
        T0 + 55_000,
        "reveal window frozen at request"
    );
    assert_eq!((info.terms.worker_fee, info.terms.claim_stake), (10, 100));
    assert_eq!(m.worker(drawn[0]).map(|w| w.locked), Ok(100));
    at(T0 + 40_000);
    for w in &drawn {
        reveal(&mut m, job, *w, &r);
    }
    // The challenge window is the job's 100 s compute window, not the
    // hostile 1 s.
    assert_eq!(status(&m, job), JobStatus::Challenge);
    assert_eq!(
        m.job(job).map(|j| j.deadline),
        Ok(T0 + 140_000),
        "challenge window frozen at request"
    );
    pass_challenge(&mut m, job);
    assert_eq!(
        m.job(job).map(|j| j.deadline),
        Ok(T0 + 190_000),
        "release window frozen at request"
    );
    assert!(events::<WorkerSlashed>().is_empty());
    as_(a.owner);
    m.release(job, [4; 32]).expect("release");
    m.finalize(job).expect("finalize");
    assert_eq!(earned(&m, drawn[0]), 10);
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
        let r = m.request(ds, PipelineId::Histogram, [3; 32], 0, T0 + 10_000, seen, 0);
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
        m.request(
            ds2,
            PipelineId::Histogram,
            [3; 32],
            0,
            T0 + 10_000,
            seen2,
            0
        ),
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
    work(&mut m, job, &[(a.workers[0], [7; 32])]);
    reveal(&mut m, job, a.workers[0], &[7; 32]);
    at(T0 + 21_000);
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

/// Attack: a pause blocks challenges and tie-break offers while deadlines
/// keep running. Now the market clock stops: every running job's deadlines
/// move by the length of the pause.
#[ink::test]
fn pause_extends_running_deadlines() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(1), 3);
    stake_all(&mut m, &a, 500);
    let job = request(&mut m, &a, ds);
    work(&mut m, job, &[(a.workers[0], [6; 32])]);
    reveal(&mut m, job, a.workers[0], &[6; 32]);
    let deadline = m.job(job).expect("job").deadline;
    assert_eq!(deadline, T0 + 21_000);
    at(T0 + 20_000);
    as_(a.admin);
    m.set_paused(true).expect("pause");
    at(T0 + 500_000);
    assert_eq!(m.state().map(|s| s.clock), Ok(T0 + 20_000));
    as_(a.outsider);
    assert_eq!(m.advance(job), Err(Error::DeadlineNotReached));
    let sealed = seal_for(&m, job, a.workers[1], &[7; 32]);
    as_(a.workers[1]);
    assert_eq!(m.challenge(job, sealed), Err(Error::Paused));
    as_(a.admin);
    m.set_paused(false).expect("unpause");
    // 1 s of the window was left when the pause began; it is still there.
    at(T0 + 500_500);
    as_(a.workers[1]);
    assert_eq!(m.challenge(job, sealed), Ok(()));
    assert_eq!(m.job(job).map(|j| j.deadline), Ok(T0 + 21_000));
    // New deadlines count on the market clock too: the challenger's reveal
    // window, then the dispute round's offer window and its draw and
    // tie-break windows.
    at(T0 + 501_000);
    as_(a.outsider);
    assert_eq!(m.advance(job), Ok(JobStatus::Revealing));
    assert_eq!(m.job(job).map(|j| j.deadline), Ok(T0 + 21_000 + 1_000));
    reveal(&mut m, job, a.workers[1], &[7; 32]);
    let info = m.job(job).expect("job");
    assert_eq!(info.status, JobStatus::Disputed);
    assert_eq!(info.deadline, T0 + 21_000 + 1_000);
    assert_eq!(info.commit_deadline, T0 + 21_000 + 1_000 + 1_000 + 20_000);
    assert_eq!(m.state().map(|s| s.clock), Ok(T0 + 21_000));
    // A request names a chain-time deadline; the job stores it on the market clock.
    pay(a.researcher, escrow_for(&m, ds));
    let second = m
        .request(
            ds,
            PipelineId::Histogram,
            [3; 32],
            0,
            T0 + 540_500,
            expected(&m, ds),
            0,
        )
        .expect("request");
    let info = m.job(second).expect("job");
    assert_eq!(
        (info.deadline, info.commit_deadline),
        (T0 + 22_000, T0 + 60_500)
    );
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
        .request(
            ds,
            PipelineId::Histogram,
            [3; 32],
            1_000,
            T0 + 20_000,
            expected(&m, ds),
            0,
        )
        .expect("the whole budget");
    // A Sybil offers, is drawn and never commits.
    assign(&mut m, job, &[a.workers[0]]);
    at(T0 + 20_000);
    assert_eq!(m.advance(job), Ok(JobStatus::Refunded));
    let e: JobRefunded = last();
    assert_eq!(
        (e.reason, e.owner_paid),
        (RefundReason::NoResult, PRICE / 10)
    );
    assert_eq!(earned(&m, a.owner), PRICE / 10);
    assert_eq!(m.dataset(ds).map(|d| d.epsilon_spent), Ok(0));
    // The owner's own failure to release earns it nothing.
    pay(a.researcher, value);
    let job = m
        .request(
            ds,
            PipelineId::Histogram,
            [3; 32],
            1_000,
            T0 + 40_000,
            expected(&m, ds),
            0,
        )
        .expect("again");
    work(&mut m, job, &[(a.workers[1], [7; 32])]);
    reveal(&mut m, job, a.workers[1], &[7; 32]);
    at(T0 + 41_000);
    assert_eq!(m.advance(job), Ok(JobStatus::Computed));
    at(T0 + 42_000);
    assert_eq!(m.advance(job), Ok(JobStatus::Refunded));
    let e: JobRefunded = last();
    assert_eq!((e.reason, e.owner_paid), (RefundReason::ReleaseTimeout, 0));
    assert_eq!(earned(&m, a.owner), PRICE / 10);
    // Requesting the whole budget and cancelling before anyone offers
    // costs the fee too.
    pay(a.researcher, value);
    let job = m
        .request(
            ds,
            PipelineId::Histogram,
            [3; 32],
            1_000,
            T0 + 60_000,
            expected(&m, ds),
            0,
        )
        .expect("once more");
    assert_eq!(m.cancel(job), Ok(()));
    let e: JobCancelled = last();
    assert_eq!(e.owner_paid, PRICE / 10);
    assert_eq!(earned(&m, a.owner), 2 * (PRICE / 10));
    assert_eq!(m.dataset(ds).map(|d| d.epsilon_spent), Ok(0));
    // Nor does a rejection of its own that the jury cannot decide: the
    // owner rejects an agreed result and three jurors all differ.
    let jurors = extra_workers(&mut m, 3, 500);
    pay(a.owner, 100);
    m.stake().expect("the owner's bond");
    pay(a.researcher, value);
    let job = m
        .request(
            ds,
            PipelineId::Histogram,
            [3; 32],
            1_000,
            T0 + 80_000,
            expected(&m, ds),
            0,
        )
        .expect("a fourth time");
    work(&mut m, job, &[(a.workers[2], [7; 32])]);
    reveal(&mut m, job, a.workers[2], &[7; 32]);
    as_(a.owner);
    m.reject(job, [8; 32]).expect("reject");
    for (juror, result) in jurors.iter().zip([[7; 32], [8; 32], [9; 32]]) {
        work(&mut m, job, &[(*juror, result)]);
        reveal(&mut m, job, *juror, &result);
    }
    assert_eq!(status(&m, job), JobStatus::Refunded);
    let e: JobRefunded = last();
    assert_eq!((e.reason, e.owner_paid), (RefundReason::NoMajority, 0));
    assert_eq!(earned(&m, a.owner), 2 * (PRICE / 10));
    assert_eq!(m.dataset(ds).map(|d| d.epsilon_spent), Ok(0));
    let mut accounts = a.all();
    accounts.extend(jurors);
    assert_conserved(&m, &accounts);
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
