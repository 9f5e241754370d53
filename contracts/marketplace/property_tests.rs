//! Randomised property test of the marketplace in ink!'s off-chain environment.
//!
//! Each sequence deploys a fresh contract (seeded, deterministic RNG) and runs
//! a random number of random operations: any message, from a random actor (the
//! right role most of the time, anyone otherwise), with random amounts,
//! deadlines, results and time steps. Offers carry a correct seed hash most
//! of the time; draw secrets are revealed, withheld (the offerer never gets
//! round to it) or wrong. Challenges are sealed, mostly correctly (some
//! seal the result under challenge itself, a lazy challenger's, some are
//! junk that opens to nothing); challengers reveal, withhold or try the
//! result under challenge; the dataset owner `reject`s results under
//! challenge or agreed. A failed payable call has its transfer undone, as
//! the runtime does on chain.
//!
//! After every step it asserts:
//! - the contract's balance equals open escrow + stakes + unpaid earnings, and
//!   those totals equal the sums over jobs, workers and accounts;
//! - a failed call changed no money;
//! - no job pays twice: at most one settlement event per job, its amounts add
//!   up to the job's escrow, and an ended job never changes again;
//! - every worker's locked stake and open-claim count equal its locked
//!   claims' and offers' bonds, and only a job in an offer window or a draw
//!   holds offers (more than its free slots while drawing);
//! - a result under challenge (`Challenge`, and its challengers' reveal
//!   round) has no commitment, its sealed challengers (at most
//!   `MAX_OFFERS`) hold no result before the window closes, and no
//!   challenger ever reveals the challenged result (`JobInfo::challenged`,
//!   also after the owner's rejection); an agreed (`Computed`) result has
//!   its commitment; only a job in its challenge window holds claims of a
//!   later round;
//! - the challengers' reveal round slashes nobody into `job.slashed` (a
//!   challenger's forfeited bond goes to the researcher), and no settlement
//!   pays the workers more than the fee reserve and `job.slashed`;
//! - once a jury sits (`jury_from > 0`: a contested challenge or a
//!   rejection), it sits from a round after 0 no later than the current
//!   one, and an agreed result is the strict majority (at least two) of the
//!   jurors' votes: drawn claims of its rounds, never a party's;
//! - every job past its deadline has a transition anyone can trigger.
//!
//! A third of the requests are sharded (shard sizes 0..4, some splitting
//! into more than `MAX_SHARDS`): each shard plays the whole game above as a
//! job of its own, and the sharded job, which holds the price, ends with
//! them (released when all agreed, refunded when one fails). Agreed shards
//! are finalized once their job released or ended.
//!
//! While a jury sits on an open job, a sequence runs up to 400 more random
//! steps, so that juries decide in many sequences.
//!
//! At the end of each sequence (a random point of a random history) it moves
//! time past every deadline and drives every job to its end using only
//! `advance` and `finalize` (no cooperation from anyone; a sharded job
//! ends through its shards), then everyone
//! withdraws and the contract must be empty.
//!
//! `MARKETPLACE_PROPTEST_SEQUENCES` overrides the number of sequences (10,000).

// Test arithmetic on fixtures may be plain; the contract's may not.
#![allow(clippy::arithmetic_side_effects, clippy::cast_possible_truncation)]

use std::collections::{HashMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};

use blindfold_protocol::events::{
    ChallengeOpened, DrawOpened, Drawn, JobCancelled, JobDisputed, JobFinalized, JobRefunded,
    JobRequested, WorkerSlashed,
};
use blindfold_protocol::*;
use ink::env::{test, Event as _};
use ink::primitives::AccountId;
use ink::scale::Decode;

use crate::marketplace::{Digest, Marketplace};
use crate::tests::support::*;

/// SplitMix64: small, seeded, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

const RESULTS: [Digest; 3] = [[0xA0; 32], [0xB0; 32], [0xC0; 32]];

#[derive(Default)]
struct Stats {
    sequences: u64,
    steps: u64,
    ok: u64,
    err: u64,
    jobs: u64,
    finalized: u64,
    refunded: u64,
    cancelled: u64,
    disputes: u64,
    draws: u64,
    drawn_by_seed: u64,
    drain_calls: u64,
    challenge_windows: u64,
    /// Sharded jobs, and those of them released and paid out.
    sharded: u64,
    sharded_finalized: u64,
    game: Game,
}

/// What happened in challenge windows (one sequence's, or all of them).
#[derive(Default, Clone, Copy)]
struct Game {
    /// Sealed challenges accepted.
    challenges: u64,
    /// Of those, sealing the result under challenge (lazy) or junk.
    lazy_or_junk: u64,
    /// Reveals of the result under challenge refused (`NotConflicting`).
    lazy_refused: u64,
    /// Rejections by the dataset owner accepted.
    rejects: u64,
    /// Of those, during the challenge window.
    rejects_in_window: u64,
    /// Challenge windows that closed with challengers: their reveal round.
    challenge_rounds: u64,
    /// Of those rounds, contested (a challenger revealed a conflict: fresh
    /// replicas decide) or upheld (nobody did: the result is agreed).
    contested: u64,
    upheld: u64,
    /// Challengers' reveal rounds that forfeited a bond (to the researcher).
    bonds_forfeited: u64,
    /// Reveals of the challenged result refused after the owner's rejection.
    lazy_refused_after_reject: u64,
    /// Jobs whose jury decided (agreed a result), or refunded undecided.
    jury_verdicts: u64,
    jury_refunds: u64,
}

impl Game {
    fn add(&mut self, o: &Game) {
        self.challenges += o.challenges;
        self.lazy_or_junk += o.lazy_or_junk;
        self.lazy_refused += o.lazy_refused;
        self.rejects += o.rejects;
        self.rejects_in_window += o.rejects_in_window;
        self.challenge_rounds += o.challenge_rounds;
        self.contested += o.contested;
        self.upheld += o.upheld;
        self.bonds_forfeited += o.bonds_forfeited;
        self.lazy_refused_after_reject += o.lazy_refused_after_reject;
        self.jury_verdicts += o.jury_verdicts;
        self.jury_refunds += o.jury_refunds;
    }
}

/// What the harness remembers across steps of one sequence.
struct World {
    m: Marketplace,
    a: Actors,
    rng: Rng,
    /// The result each (job, worker) committed to.
    committed: HashMap<(JobId, AccountId), Digest>,
    /// Escrow at request, by job.
    escrow: HashMap<JobId, Balance>,
    /// Settlement events seen, by job.
    settlements: HashMap<JobId, u32>,
    /// Ended jobs as they were when they ended.
    ended: HashMap<JobId, JobInfo>,
    /// Events already checked.
    seen_events: usize,
    /// Each open job's status at the last check.
    statuses: HashMap<JobId, JobStatus>,
    /// Jobs in their challengers' reveal round.
    challenge_round: HashSet<JobId>,
    /// Each job's `slashed` during its challenge window.
    slashed_in_window: HashMap<JobId, Balance>,
    /// What each settled job paid its workers.
    workers_paid: HashMap<JobId, Balance>,
    /// Jobs whose jury agreed a result.
    jury_agreed: HashSet<JobId>,
    /// This sequence's challenge counts.
    game: Game,
}

impl World {
    fn workers(&self) -> Vec<AccountId> {
        let mut w = self.a.workers.to_vec();
        w.push(self.a.outsider);
        w
    }

    /// Mostly a staked worker, sometimes anyone who could be one.
    fn some_worker(&mut self) -> AccountId {
        let staked: Vec<AccountId> = self
            .workers()
            .into_iter()
            .filter(|w| self.m.worker(*w).is_ok())
            .collect();
        if !staked.is_empty() && self.rng.chance(85) {
            return self.rng.pick(&staked);
        }
        let workers = self.workers();
        self.rng.pick(&workers)
    }

    /// Mostly a staked worker that has neither offered for nor claimed
    /// `job`, else `some_worker`.
    fn fresh_worker(&mut self, job: JobId) -> AccountId {
        let fresh: Vec<AccountId> = match self.m.job(job) {
            Ok(j) => self
                .workers()
                .into_iter()
                .filter(|w| self.m.worker(*w).is_ok())
                .filter(|w| j.offer_of(&acc(*w)).is_none() && j.claim_of(&acc(*w)).is_none())
                .collect(),
            Err(_) => Vec::new(),
        };
        if !fresh.is_empty() && self.rng.chance(85) {
            self.rng.pick(&fresh)
        } else {
            self.some_worker()
        }
    }

    fn anyone(&mut self) -> AccountId {
        let all = self.a.all();
        self.rng.pick(&all)
    }

    /// Mostly an existing dataset, sometimes a missing id.
    fn some_dataset(&mut self) -> DatasetId {
        let n = u64::from(self.m.dataset_count().expect("count"));
        if n > 0 && self.rng.chance(90) {
            self.rng.below(n) as DatasetId
        } else {
            n as DatasetId
        }
    }

    /// Mostly an existing job, sometimes a missing id.
    fn some_job(&mut self) -> JobId {
        let n = self.m.job_count().expect("count");
        if n > 0 && self.rng.chance(90) {
            self.rng.below(n)
        } else {
            n
        }
    }

    /// Mostly a job for which `fits` holds (the interesting case), else any id.
    fn job_where(&mut self, fits: impl Fn(&JobInfo) -> bool) -> JobId {
        let n = self.m.job_count().expect("count");
        let fitting: Vec<JobId> = (0..n)
            .filter(|id| self.m.job(*id).map(|j| fits(&j)).unwrap_or(false))
            .collect();
        if !fitting.is_empty() && self.rng.chance(90) {
            self.rng.pick(&fitting)
        } else {
            self.some_job()
        }
    }

    /// Mostly a worker whose offer on `job` satisfies `fits`, else any worker.
    fn offerer_where(&mut self, job: JobId, fits: impl Fn(&Offer) -> bool) -> AccountId {
        let fitting: Vec<AccountId> = self
            .m
            .job(job)
            .map(|j| {
                j.offers
                    .iter()
                    .filter(|o| fits(o))
                    .map(|o| AccountId::from(o.worker))
                    .collect()
            })
            .unwrap_or_default();
        if !fitting.is_empty() && self.rng.chance(85) {
            self.rng.pick(&fitting)
        } else {
            self.some_worker()
        }
    }

    /// Mostly a worker whose claim on `job` satisfies `fits`, else any worker.
    fn claimant_where(&mut self, job: JobId, fits: impl Fn(&Claim) -> bool) -> AccountId {
        let fitting: Vec<AccountId> = self
            .m
            .job(job)
            .map(|j| {
                j.claims
                    .iter()
                    .filter(|c| c.round == j.round && c.stake == StakeState::Locked && fits(c))
                    .map(|c| AccountId::from(c.worker))
                    .collect()
            })
            .unwrap_or_default();
        if !fitting.is_empty() && self.rng.chance(85) {
            self.rng.pick(&fitting)
        } else {
            self.some_worker()
        }
    }

    fn dataset_owner(&mut self, ds: DatasetId) -> AccountId {
        match self.m.dataset(ds) {
            Ok(d) if self.rng.chance(90) => AccountId::from(d.owner),
            _ => self.anyone(),
        }
    }

    fn random_params(&mut self) -> Params {
        // Times are 20x those of the unit fixtures' scale: windows of
        // 1..=17 s, compute windows from 2 s; sometimes out of bounds.
        let claim_stake = if self.rng.chance(3) {
            0
        } else {
            1 + self.rng.below(200)
        };
        Params {
            worker_fee: self.rng.below(50) as Balance,
            claim_stake: claim_stake as Balance,
            min_compute_window: MIN_WINDOW + self.rng.below(2_000),
            max_compute_window: 4_000 + self.rng.below(60_000),
            offer_window: MIN_WINDOW + self.rng.below(16_000),
            reveal_window: MIN_WINDOW + self.rng.below(16_000),
            challenge_window: MIN_WINDOW + self.rng.below(16_000),
            tiebreak_window: MIN_WINDOW + self.rng.below(16_000),
            release_window: self.rng.below(20_000),
            upgrade_delay: MIN_WINDOW + self.rng.below(20_000),
        }
    }

    fn random_policy(&mut self) -> Policy {
        Policy {
            allowed_pipelines: PipelineSet(self.rng.below(17) as u8),
            min_cohort: self.rng.below(4) as u32,
            replication: self.rng.below(4) as u8 + u8::from(self.rng.chance(70)),
            dp_epsilon_budget: self.rng.chance(40).then(|| self.rng.below(3_000)),
        }
    }

    /// One random operation. Returns whether the call succeeded and a label.
    fn step(&mut self) -> (bool, String) {
        let op = self.rng.below(100);
        let r: Result<(), Error> = match op {
            0..=2 => {
                let who = if self.rng.chance(50) {
                    self.a.owner
                } else {
                    self.anyone()
                };
                let policy = self.random_policy();
                let price = self.rng.below(2_000) as Balance;
                as_(who);
                self.m
                    .register_dataset([1; 32], [2; 32], price, policy)
                    .map(drop)
            }
            3..=5 => {
                let ds = self.some_dataset();
                let who = self.dataset_owner(ds);
                let n = self.rng.below(5);
                let start = self.rng.below(1_000);
                as_(who);
                self.m
                    .add_submissions(ds, (start..start + n).map(blob).collect())
                    .map(drop)
            }
            6 => {
                let ds = self.some_dataset();
                let who = self.dataset_owner(ds);
                let count = self.m.dataset(ds).map(|d| d.submission_count).unwrap_or(0);
                let index = self.rng.below(count + 2);
                as_(who);
                self.m.revoke_submission(ds, index)
            }
            7..=8 => {
                let ds = self.some_dataset();
                let who = self.dataset_owner(ds);
                let policy = self.random_policy();
                let price = self.rng.below(2_000) as Balance;
                as_(who);
                if self.rng.chance(10) {
                    self.m.deactivate_dataset(ds)
                } else {
                    self.m.update_dataset(ds, price, policy)
                }
            }
            9..=12 => {
                let who = self.some_worker();
                let amount = self.rng.below(400) as Balance;
                self.payable(who, amount, |m| m.stake().map(drop))
            }
            13 => {
                let who = self.some_worker();
                let stake = self.m.worker(who).map(|w| w.stake).unwrap_or(0);
                let amount = if self.rng.chance(50) {
                    stake
                } else {
                    self.rng.below(500) as Balance
                };
                as_(who);
                self.m.withdraw_stake(amount)
            }
            14..=21 => {
                let ds = self.some_dataset();
                let who = if self.rng.chance(70) {
                    self.a.researcher
                } else {
                    self.anyone()
                };
                let pipeline = self.rng.pick(&PipelineId::ALL);
                let epsilon = self.rng.below(4) * 300;
                let deadline = now() + self.rng.below(70_000);
                // A third of the requests are sharded (some into too many).
                let shard_size = if self.rng.chance(33) {
                    self.rng.below(4)
                } else {
                    0
                };
                let need = self
                    .m
                    .dataset(ds)
                    .ok()
                    .and_then(|d| {
                        let fee = self.m.params().expect("params").worker_fee;
                        let shards = ShardOf::count(d.submission_count, shard_size).unwrap_or(1);
                        let shards = u32::try_from(shards).unwrap_or(u32::MAX);
                        required_escrow(d.price, fee, d.policy.replication, shards)
                    })
                    .unwrap_or(1_000);
                let value = match self.rng.below(10) {
                    0 => need.saturating_sub(1),
                    1..=2 => need + self.rng.below(100) as Balance,
                    _ => need,
                };
                // What the researcher read, sometimes stale.
                let mut terms = expected(&self.m, ds);
                match self.rng.below(30) {
                    0 => terms.price = terms.price.wrapping_add(1),
                    1 => terms.replication = terms.replication.wrapping_add(1),
                    2 => terms.input_digest[0] ^= 1,
                    _ => {}
                }
                self.payable(who, value, |m| {
                    m.request(ds, pipeline, [3; 32], epsilon, deadline, terms, shard_size)
                        .map(drop)
                })
            }
            22 => {
                let job =
                    self.job_where(|j| matches!(j.status, JobStatus::Open | JobStatus::Sharded));
                let who = match self.m.job(job) {
                    Ok(j) if self.rng.chance(80) => AccountId::from(j.researcher),
                    _ => self.anyone(),
                };
                as_(who);
                self.m.cancel(job)
            }
            23..=32 => {
                let at = now();
                let job = self.job_where(|j| {
                    matches!(j.status, JobStatus::Open | JobStatus::Disputed) && at < j.deadline
                });
                let who = self.fresh_worker(job);
                // The seed hash of the worker's secret, or (rarely) one that
                // no secret of its opens.
                let sealed = if self.rng.chance(90) {
                    seed_hash(&self.m, job, who)
                } else {
                    [0x66; 32]
                };
                as_(who);
                self.m.offer(job, sealed)
            }
            33..=39 => {
                // An offerer reveals its secret (a wrong one sometimes);
                // the others withhold theirs until the draw's deadline.
                let at = now();
                let job = self.job_where(|j| j.status == JobStatus::Drawing && at < j.deadline);
                let who = self.offerer_where(job, |o| o.secret.is_none());
                let revealed = if self.rng.chance(90) {
                    secret(who)
                } else {
                    secret(self.some_worker())
                };
                as_(who);
                self.m.reveal_seed(job, revealed)
            }
            40..=50 => {
                let at = now();
                let job = self.job_where(|j| j.status == JobStatus::Computing && at < j.deadline);
                let who = self.claimant_where(job, |c| c.sealed.is_none());
                let result = if self.rng.chance(75) {
                    RESULTS[0]
                } else {
                    self.rng.pick(&RESULTS)
                };
                let sealed = match self.m.job(job) {
                    Ok(_) if self.rng.chance(95) => seal_for(&self.m, job, who, &result),
                    _ => [0x77; 32],
                };
                as_(who);
                let r = self.m.commit(job, sealed);
                if r.is_ok() {
                    self.committed.insert((job, who), result);
                }
                r
            }
            51..=64 => {
                let job = self.job_where(|j| j.status == JobStatus::Revealing);
                let who = self
                    .claimant_where(job, |c| c.sealed.is_some() && c.result_blob_hash.is_none());
                // Mostly the committed result; sometimes a guess, or (a
                // lazy challenger's try, also after the owner's rejection)
                // the challenged result.
                let info = self.m.job(job).ok();
                let under = info.as_ref().and_then(|j| j.challenged);
                let rejected = info
                    .as_ref()
                    .is_some_and(|j| j.claims.iter().any(|c| c.kind == ClaimKind::Owner));
                let result = match (self.committed.get(&(job, who)), under) {
                    (_, Some(u)) if self.rng.chance(10) => u,
                    (Some(r), _) if self.rng.chance(92) => *r,
                    _ => self.rng.pick(&RESULTS),
                };
                as_(who);
                let r = self.m.reveal(job, result);
                if r == Err(Error::NotConflicting) {
                    self.game.lazy_refused += 1;
                    self.game.lazy_refused_after_reject += u64::from(rejected);
                }
                r
            }
            65..=67 => {
                // A sealed challenge in a challenge window: mostly of a
                // conflicting result, sometimes of the result under
                // challenge (lazy), sometimes junk that opens to nothing.
                let job = self.job_where(|j| j.status == JobStatus::Challenge);
                let who = self.fresh_worker(job);
                let under = self.m.job(job).ok().and_then(|j| j.result_blob_hash);
                let result = match under {
                    Some(u) if self.rng.chance(15) => u,
                    _ => self.rng.pick(&RESULTS),
                };
                let junk = self.m.job(job).is_err() || self.rng.chance(8);
                let sealed = if junk {
                    [0x88; 32]
                } else {
                    seal_for(&self.m, job, who, &result)
                };
                as_(who);
                let r = self.m.challenge(job, sealed);
                if r.is_ok() {
                    self.game.challenges += 1;
                    self.game.lazy_or_junk += u64::from(junk || Some(result) == under);
                    if !junk {
                        self.committed.insert((job, who), result);
                    }
                }
                r
            }
            68..=75 => {
                let at = now();
                let job = self.job_where(|j| !j.status.is_terminal() && at >= j.deadline);
                let who = self.anyone();
                as_(who);
                self.m.advance(job).map(drop)
            }
            76..=81 => {
                let job = self.job_where(|j| j.status == JobStatus::Computed);
                let ds = self.m.job(job).map(|j| j.dataset_id).unwrap_or(0);
                let who = self.dataset_owner(ds);
                as_(who);
                self.m.release(job, [4; 32])
            }
            82..=85 => {
                // A released job, or an agreed shard (paid once its job
                // released or ended).
                let job = self.job_where(|j| {
                    j.status == JobStatus::Released
                        || (j.status == JobStatus::Computed && j.shard.is_some())
                });
                let who = self.anyone();
                as_(who);
                self.m.finalize(job)
            }
            86 => {
                let who = self.anyone();
                as_(who);
                self.m.withdraw().map(drop)
            }
            87 => {
                // The dataset owner rejects a result under challenge or
                // agreed, with its own (sometimes one a replica revealed).
                let job = self
                    .job_where(|j| matches!(j.status, JobStatus::Challenge | JobStatus::Computed));
                let ds = self.m.job(job).map(|j| j.dataset_id).unwrap_or(0);
                let who = self.dataset_owner(ds);
                let result = self.rng.pick(&RESULTS);
                let in_window = self.m.job(job).map(|j| j.status) == Ok(JobStatus::Challenge);
                as_(who);
                let r = self.m.reject(job, result);
                if r.is_ok() {
                    self.game.rejects += 1;
                    self.game.rejects_in_window += u64::from(in_window);
                }
                r
            }
            88..=97 => {
                let dt = if self.rng.chance(8) {
                    10_000 + self.rng.below(60_000)
                } else {
                    self.rng.below(2_000)
                };
                at(now() + dt);
                return (true, format!("time +{dt} -> {}", now()));
            }
            _ => {
                let who = if self.rng.chance(80) {
                    self.m.owner().expect("owner")
                } else {
                    self.anyone()
                };
                as_(who);
                let paused = self.m.paused().expect("paused");
                let heir = self.anyone();
                match self.rng.below(12) {
                    0..=1 => self.m.set_paused(!paused),
                    2 => self.m.transfer_ownership(heir),
                    3 => {
                        as_(heir);
                        self.m.accept_ownership()
                    }
                    _ => {
                        let p = self.random_params();
                        self.m.set_params(p)
                    }
                }
            }
        };
        (r.is_ok(), format!("op {op} at {} -> {r:?}", now()))
    }

    /// A payable call: the transfer is undone if the call fails.
    fn payable(
        &mut self,
        who: AccountId,
        value: Balance,
        call: impl FnOnce(&mut Marketplace) -> Result<(), Error>,
    ) -> Result<(), Error> {
        pay(who, value);
        let r = call(&mut self.m);
        if r.is_err() {
            unpay(who, value);
        }
        as_(who);
        r
    }

    /// The per-step invariants.
    fn check(&mut self, money_before: (Totals, Balance), ok: bool) {
        assert_conserved(&self.m, &self.a.all());
        if !ok {
            assert_eq!(
                (self.m.totals().expect("totals"), contract_balance()),
                money_before,
                "a failed call moved money"
            );
        }
        let events: Vec<_> = test::recorded_events().skip(self.seen_events).collect();
        self.seen_events += events.len();
        for e in events {
            let topic = e.topics.first().cloned().unwrap_or_default();
            let is = |sig: Option<[u8; 32]>| sig.map(|s| s.to_vec()) == Some(topic.clone());
            let data = &mut &e.data[..];
            let (job_id, paid) = if is(JobRequested::SIGNATURE_TOPIC) {
                let ev = JobRequested::decode(data).expect("decode");
                self.escrow.insert(ev.job_id, ev.escrow);
                continue;
            } else if is(WorkerSlashed::SIGNATURE_TOPIC) {
                // A slashed stake joins its job's escrow and is paid out with it.
                let ev = WorkerSlashed::decode(data).expect("decode");
                *self.escrow.entry(ev.job_id).or_default() += ev.amount;
                continue;
            } else if is(JobFinalized::SIGNATURE_TOPIC) {
                let ev = JobFinalized::decode(data).expect("decode");
                self.workers_paid.insert(ev.job_id, ev.workers_paid);
                (
                    ev.job_id,
                    ev.owner_paid + ev.workers_paid + ev.researcher_refund,
                )
            } else if is(JobRefunded::SIGNATURE_TOPIC) {
                let ev = JobRefunded::decode(data).expect("decode");
                self.workers_paid.insert(ev.job_id, ev.workers_paid);
                (ev.job_id, ev.refund + ev.workers_paid + ev.owner_paid)
            } else if is(JobCancelled::SIGNATURE_TOPIC) {
                let ev = JobCancelled::decode(data).expect("decode");
                (ev.job_id, ev.refund + ev.owner_paid)
            } else {
                continue;
            };
            let count = self.settlements.entry(job_id).or_default();
            *count += 1;
            assert_eq!(*count, 1, "job {job_id} paid twice");
            assert_eq!(
                Some(&paid),
                self.escrow.get(&job_id),
                "job {job_id} payout vs escrow"
            );
        }
        // Stake locked by open claims and offers, job by job, equals the
        // workers' locked stake, and their number its open claims.
        let mut locked: HashMap<Account, Balance> = HashMap::new();
        let mut open: HashMap<Account, u32> = HashMap::new();
        for job_id in 0..self.m.job_count().expect("count") {
            let job = self.m.job(job_id).expect("job");
            if let Some(before) = self.ended.get(&job_id) {
                assert_eq!(before, &job, "ended job {job_id} changed");
                continue;
            }
            if job.status.is_terminal() {
                assert_eq!(job.escrow, 0, "ended job {job_id} holds escrow");
                assert_eq!(
                    self.settlements.get(&job_id),
                    Some(&1),
                    "job {job_id} ended unpaid"
                );
                assert!(job.claims.iter().all(|c| c.stake != StakeState::Locked));
                assert!(job.offers.is_empty(), "ended job {job_id} holds offers");
                // Winners share the fee reserve and `job.slashed`, no more:
                // a challenger's forfeited bond is the researcher's.
                let paid = self.workers_paid.get(&job_id).copied().unwrap_or(0);
                let fees = job.terms.worker_fee * (Balance::from(job.replication) + 1);
                assert!(
                    paid <= fees + job.slashed,
                    "job {job_id} paid its workers {paid} of fees {fees} and slashed {}",
                    job.slashed
                );
                self.jury_claims(job_id, &job);
                if job.jury_from > 0 && job.status != JobStatus::Cancelled {
                    if self.jury_agreed.contains(&job_id) {
                        self.game.jury_verdicts += 1;
                    } else {
                        self.game.jury_refunds += 1;
                    }
                }
                self.statuses.remove(&job_id);
                self.challenge_round.remove(&job_id);
                self.slashed_in_window.remove(&job_id);
                self.ended.insert(job_id, job);
                continue;
            }
            self.challenge_game(job_id, &job);
            self.jury_claims(job_id, &job);
            self.jury(job_id, &job);
            match job.status {
                JobStatus::Open | JobStatus::Disputed => {
                    assert!(job.offers.iter().all(|o| o.secret.is_none()));
                }
                JobStatus::Drawing => assert!(
                    job.offers.len() > job.free_slots(),
                    "job {job_id} draws with room for every offer"
                ),
                _ => assert!(job.offers.is_empty(), "job {job_id} keeps offers"),
            }
            assert!(job.offers.len() <= usize::from(MAX_OFFERS));
            for o in &job.offers {
                *locked.entry(o.worker).or_default() += job.terms.claim_stake;
                *open.entry(o.worker).or_default() += 1;
            }
            assert_eq!(
                self.escrow.get(&job_id),
                Some(&job.escrow),
                "open job {job_id} escrow"
            );
            for c in job.claims.iter().filter(|c| c.stake == StakeState::Locked) {
                *locked.entry(c.worker).or_default() += job.terms.claim_stake;
                *open.entry(c.worker).or_default() += 1;
            }
        }
        for who in self.a.all() {
            let worker = self.m.worker(who).unwrap_or_default();
            let expected = locked.get(&acc(who)).copied().unwrap_or(0);
            assert_eq!(worker.locked, expected, "locked stake of {who:?}");
            let claims = open.get(&acc(who)).copied().unwrap_or(0);
            assert_eq!(worker.open_claims, claims, "open claims of {who:?}");
            assert!(worker.locked <= worker.stake, "locked above stake");
        }
    }

    /// The challenge game's invariants for open job `job_id`, and its
    /// counts (a challenge window closing with challengers, and how their
    /// reveal round ends).
    fn challenge_game(&mut self, job_id: JobId, job: &JobInfo) {
        let was = self.statuses.insert(job_id, job.status);
        if was == Some(JobStatus::Challenge) && job.status == JobStatus::Revealing {
            self.game.challenge_rounds += 1;
            self.challenge_round.insert(job_id);
        } else if job.status != JobStatus::Revealing && self.challenge_round.remove(&job_id) {
            match job.status {
                JobStatus::Disputed => self.game.contested += 1,
                JobStatus::Computed => self.game.upheld += 1,
                other => panic!("job {job_id}'s challenge round ended {other:?}"),
            }
            // A challenger slashed in its reveal round leaves its bond in
            // the escrow, for the researcher: `slashed` did not move.
            let before = self.slashed_in_window.remove(&job_id);
            assert_eq!(
                Some(job.slashed),
                before,
                "job {job_id}: a challenger's bond went to the replicas"
            );
            let round = job
                .claims
                .iter()
                .filter(|c| c.kind == ClaimKind::Challenger && c.stake == StakeState::Slashed);
            self.game.bonds_forfeited += u64::from(round.count() > 0);
        }
        match job.status {
            JobStatus::Challenge => {
                self.slashed_in_window.insert(job_id, job.slashed);
                assert_eq!(
                    job.challenged, job.result_blob_hash,
                    "job {job_id}: the challenged result is not the one under challenge"
                );
                assert!(
                    job.result_blob_hash.is_some() && job.commitment.is_none(),
                    "job {job_id}: a result under challenge is not agreed"
                );
                let challengers: Vec<&Claim> =
                    job.claims.iter().filter(|c| c.round > job.round).collect();
                assert!(challengers.len() <= usize::from(MAX_OFFERS));
                assert!(
                    challengers.iter().all(|c| c.round == job.round + 1
                        && c.sealed.is_some()
                        && c.result_blob_hash.is_none()
                        && c.stake == StakeState::Locked),
                    "job {job_id}: a challenger's result shows in the window"
                );
            }
            // A sharded job's result is its shards': its commitment folds
            // theirs, and it has no blob of its own.
            JobStatus::Computed | JobStatus::Released => assert!(
                job.result_blob_hash.is_some() != job.is_sharded() && job.commitment.is_some(),
                "job {job_id}: agreed without a commitment"
            ),
            _ => assert!(
                job.claims.iter().all(|c| c.round <= job.round),
                "job {job_id}: a claim ahead of its round outside the window"
            ),
        }
        if let (Some(under), None) = (job.result_blob_hash, job.commitment) {
            assert!(
                matches!(job.status, JobStatus::Challenge | JobStatus::Revealing),
                "job {job_id}: a result under challenge in {:?}",
                job.status
            );
            assert!(
                job.claims
                    .iter()
                    .filter(|c| c.round > 0)
                    .all(|c| c.result_blob_hash != Some(under)),
                "job {job_id}: a challenger revealed the result under challenge"
            );
        }
    }

    /// Claims' kinds, for job `job_id` (open or ended): round 0 is drawn,
    /// a challenger never reveals the challenged result, the owner's
    /// claim is the dataset owner's, and a jury sits only after a
    /// challenge or a rejection, from a round after 0 up to the current.
    fn jury_claims(&mut self, job_id: JobId, job: &JobInfo) {
        let owner = self.m.dataset(job.dataset_id).expect("dataset").owner;
        for c in &job.claims {
            match c.kind {
                ClaimKind::Drawn => {}
                ClaimKind::Challenger => {
                    assert!(c.round == 1 && job.challenged.is_some());
                    assert!(
                        c.result_blob_hash != job.challenged,
                        "job {job_id}: a challenger revealed the challenged result"
                    );
                }
                ClaimKind::Owner => {
                    assert!(c.round > 0 && c.worker == owner && c.result_blob_hash.is_some());
                }
            }
            assert!(c.round > 0 || c.kind == ClaimKind::Drawn);
        }
        let rejected = job.claims.iter().any(|c| c.kind == ClaimKind::Owner);
        if job.jury_from > 0 {
            assert!(
                job.jury_from <= job.round && (rejected || job.challenged.is_some()),
                "job {job_id}: a jury from round {} at round {}",
                job.jury_from,
                job.round
            );
        } else {
            assert!(!rejected, "job {job_id}: rejected without a jury");
        }
    }

    /// An open job's agreed result, once a jury sits, is the jury's: the
    /// strict majority (at least two) of the results the drawn claims of
    /// its rounds revealed (a dissenting juror's too, slashed since).
    fn jury(&mut self, job_id: JobId, job: &JobInfo) {
        if job.jury_from == 0 || !matches!(job.status, JobStatus::Computed | JobStatus::Released) {
            return;
        }
        let votes: Vec<Digest> = job
            .claims
            .iter()
            .filter(|c| c.kind == ClaimKind::Drawn && c.round >= job.jury_from)
            .filter_map(|c| c.result_blob_hash)
            .collect();
        let agreed = job.result_blob_hash.expect("agreed");
        let for_it = votes.iter().filter(|v| **v == agreed).count();
        assert!(
            for_it >= 2 && for_it * 2 > votes.len(),
            "job {job_id}: {agreed:?} agreed with {for_it} of the jury's {votes:?}"
        );
        self.jury_agreed.insert(job_id);
    }

    /// Moves time past every deadline and ends every job with `advance` and
    /// `finalize` only; then everyone withdraws and the contract must be empty.
    fn drain(&mut self, stats: &mut Stats) {
        let jobs = self.m.job_count().expect("count");
        for _round in 0..12 {
            // Past every deadline, however long the contract was paused
            // (pauses extend deadlines by at most MAX_PAUSE in all).
            at(now() + MAX_PAUSE + 1_000_000);
            let mut open = 0;
            for job_id in 0..jobs {
                let job = self.m.job(job_id).expect("job");
                let status = job.status;
                if status.is_terminal() {
                    continue;
                }
                open += 1;
                if status == JobStatus::Sharded {
                    // Not timed: it ends with its shards.
                    continue;
                }
                let before = (self.m.totals().expect("totals"), contract_balance());
                as_(self.a.outsider);
                let shard_agreed = job.shard.is_some() && status == JobStatus::Computed;
                if let (true, Some(place)) = (shard_agreed, job.shard) {
                    let parent = self.m.job(place.job).expect("job").status;
                    if parent != JobStatus::Released && !parent.is_terminal() {
                        // Paid once its job ends.
                        continue;
                    }
                }
                let r = if status == JobStatus::Released || shard_agreed {
                    self.m.finalize(job_id)
                } else {
                    self.m.advance(job_id).map(drop)
                };
                assert_eq!(r, Ok(()), "job {job_id} in {status:?} past its deadline");
                stats.drain_calls += 1;
                self.check(before, true);
            }
            if open == 0 {
                break;
            }
        }
        for job_id in 0..jobs {
            let job = self.m.job(job_id).expect("job");
            assert!(
                job.status.is_terminal(),
                "job {job_id} stuck in {:?}",
                job.status
            );
            if job.is_sharded() {
                stats.sharded += 1;
                stats.sharded_finalized += u64::from(job.status == JobStatus::Finalized);
            }
            match job.status {
                JobStatus::Finalized => stats.finalized += 1,
                JobStatus::Refunded => stats.refunded += 1,
                _ => stats.cancelled += 1,
            }
        }
        stats.jobs += jobs;
        assert_eq!(self.m.totals().expect("totals").escrow, 0);
        for who in self.a.all() {
            as_(who);
            if self.m.earnings(who).expect("earnings") > 0 {
                self.m.withdraw().expect("withdraw");
            }
            if let Ok(w) = self.m.worker(who) {
                assert_eq!((w.locked, w.open_claims), (0, 0), "worker still locked");
                self.m.withdraw_stake(w.stake).expect("unstake");
            }
        }
        assert_eq!(self.m.totals().expect("totals"), Totals::default());
        assert_eq!(
            contract_balance(),
            0,
            "contract not empty after everyone withdrew"
        );
        let total: Balance = self.a.all().iter().map(|w| balance(*w)).sum();
        assert_eq!(
            total,
            FUNDS * self.a.all().len() as Balance,
            "money created or lost"
        );
    }
}

fn run_sequence(seed: u64, stats: &mut Stats, log: &mut Vec<String>) {
    test::run_test::<Env, _>(|_| {
        let (m, a) = deploy();
        let mut w = World {
            m,
            a,
            rng: Rng(seed),
            committed: HashMap::new(),
            escrow: HashMap::new(),
            settlements: HashMap::new(),
            ended: HashMap::new(),
            seen_events: 0,
            statuses: HashMap::new(),
            challenge_round: HashSet::new(),
            slashed_in_window: HashMap::new(),
            workers_paid: HashMap::new(),
            jury_agreed: HashSet::new(),
            game: Game::default(),
        };
        // Windows long enough for several steps to happen inside each.
        let mut p = params();
        p.offer_window = 2_000;
        p.reveal_window = 8_000;
        p.challenge_window = 8_000;
        p.tiebreak_window = 12_000;
        p.release_window = 16_000;
        w.m.set_params(p).expect("params");
        // A staked worker pool and a dataset to start from, most of the time.
        if w.rng.chance(80) {
            stake_all(&mut w.m, &w.a, 300);
            // The data owner holds a bond, to reject agreed results.
            pay(w.a.owner, 300);
            w.m.stake().expect("owner stake");
            let replication = 1 + w.rng.below(3) as u8;
            let ds = dataset(&mut w.m, &w.a, policy(replication), 3);
            for _ in 0..w.rng.below(3) {
                request(&mut w.m, &w.a, ds);
            }
        }
        w.check((Totals::default(), 0), true);
        // Long enough for a job to pass its offer window, a draw, the
        // commits and reveals, and a release, in many sequences.
        let steps = 1 + w.rng.below(250);
        // Overtime: while a jury sits on an open job, up to 400 more
        // random steps, so juries get to decide in many sequences (two
        // drawn rounds after a challenge or a rejection take long).
        let mut overtime = 0;
        for step in 0.. {
            let jury_sits = || {
                (0..w.m.job_count().expect("count")).any(|id| {
                    let j = w.m.job(id).expect("job");
                    j.jury_from > 0 && !j.status.is_terminal()
                })
            };
            if step >= steps {
                if overtime == 400 || !jury_sits() {
                    break;
                }
                overtime += 1;
            }
            let before = (w.m.totals().expect("totals"), contract_balance());
            let (ok, label) = w.step();
            log.push(label);
            stats.steps += 1;
            if ok {
                stats.ok += 1;
            } else {
                stats.err += 1;
            }
            w.check(before, ok);
        }
        for e in test::recorded_events() {
            let topic = e.topics.first().map(|t| t.to_vec());
            let is = |sig: Option<[u8; 32]>| sig.map(|s| s.to_vec()) == topic;
            if is(JobDisputed::SIGNATURE_TOPIC) {
                stats.disputes += 1;
            } else if is(DrawOpened::SIGNATURE_TOPIC) {
                stats.draws += 1;
            } else if is(ChallengeOpened::SIGNATURE_TOPIC) {
                stats.challenge_windows += 1;
            } else if is(Drawn::SIGNATURE_TOPIC) {
                let drawn = Drawn::decode(&mut &e.data[..]).expect("decode");
                stats.drawn_by_seed += u64::from(drawn.seed.is_some());
            }
        }
        w.drain(stats);
        stats.game.add(&w.game);
        Ok(())
    })
    .expect("run_test");
}

#[test]
fn random_operation_sequences_conserve_money_and_end() {
    let sequences: u64 = std::env::var("MARKETPLACE_PROPTEST_SEQUENCES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let mut stats = Stats::default();
    let started = std::time::Instant::now();
    for seed in 0..sequences {
        let mut log = Vec::new();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            run_sequence(seed, &mut stats, &mut log)
        }));
        if let Err(panic) = outcome {
            let last: Vec<_> = log.iter().rev().take(25).rev().cloned().collect();
            eprintln!(
                "sequence seed {seed} failed; last operations:\n{}",
                last.join("\n")
            );
            std::panic::resume_unwind(panic);
        }
        stats.sequences += 1;
    }
    let g = stats.game;
    println!(
        "property test: {} sequences in {:.1?}, {} steps ({} ok, {} refused), {} jobs \
         ({} finalized, {} refunded, {} cancelled), {} disputes, {} draws opened \
         ({} drawn from a seed), {} drain calls; {} challenge windows, {} sealed \
         challenges ({} lazy or junk), {} challenge rounds ({} contested, {} upheld), \
         {} lazy reveals refused ({} after a rejection), {} rejects ({} in the window), \
         {} challenge rounds forfeiting a bond to the researcher; juries: {} verdicts, \
         {} refunds; {} sharded jobs ({} finalized)",
        stats.sequences,
        started.elapsed(),
        stats.steps,
        stats.ok,
        stats.err,
        stats.jobs,
        stats.finalized,
        stats.refunded,
        stats.cancelled,
        stats.disputes,
        stats.draws,
        stats.drawn_by_seed,
        stats.drain_calls,
        stats.challenge_windows,
        g.challenges,
        g.lazy_or_junk,
        g.challenge_rounds,
        g.contested,
        g.upheld,
        g.lazy_refused,
        g.lazy_refused_after_reject,
        g.rejects,
        g.rejects_in_window,
        g.bonds_forfeited,
        g.jury_verdicts,
        g.jury_refunds,
        stats.sharded,
        stats.sharded_finalized
    );
    assert_eq!(stats.sequences, sequences);
    assert!(
        stats.sequences < 10_000 || stats.finalized > 0,
        "no job ever finalized"
    );
    assert!(
        stats.sequences < 10_000 || stats.drawn_by_seed > 0,
        "no draw ever ran"
    );
    let played = [
        ("challenge", g.challenges),
        ("contested challenge round", g.contested),
        ("upheld challenge round", g.upheld),
        ("refused lazy reveal", g.lazy_refused),
        ("reject in the window", g.rejects_in_window),
        (
            "reject of an agreed result",
            g.rejects - g.rejects_in_window,
        ),
        ("bond forfeited in a challenge round", g.bonds_forfeited),
        ("jury verdict", g.jury_verdicts),
        ("jury refund", g.jury_refunds),
        ("sharded job", stats.sharded),
        ("sharded job finalized", stats.sharded_finalized),
    ];
    for (what, count) in played {
        assert!(stats.sequences < 10_000 || count > 0, "no {what} ever");
    }
}
