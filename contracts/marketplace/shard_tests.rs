//! Unit tests of sharded jobs: a job split into shards (contiguous ranges of
//! the submissions), each a job of its own with its own draw, commitments
//! and challenge window, released once for the whole job.
//!
//! The fixtures are `tests::support`'s.

#![allow(clippy::arithmetic_side_effects, clippy::cast_possible_truncation)]

use blindfold_protocol::events::*;
use blindfold_protocol::hash::{self, Sha2};
use blindfold_protocol::*;
use ink::primitives::AccountId;

use crate::marketplace::{Digest, Marketplace};
use crate::tests::support::*;

/// The escrow of a job split into `shards` shards on `ds`.
fn sharded_escrow(m: &Marketplace, ds: DatasetId, shards: u32) -> Balance {
    let d = m.dataset(ds).expect("dataset");
    let fee = m.params().expect("params").worker_fee;
    required_escrow(d.price, fee, d.policy.replication, shards).expect("escrow")
}

/// The researcher requests a histogram job on `ds` in shards of
/// `shard_size`, paying `extra` above the exact escrow for `shards` shards.
fn request_sharded(
    m: &mut Marketplace,
    a: &Actors,
    ds: DatasetId,
    shard_size: u64,
    shards: u32,
    extra: Balance,
) -> JobId {
    let value = sharded_escrow(m, ds, shards) + extra;
    pay(a.researcher, value);
    let e = expected(m, ds);
    let id = m
        .request(
            ds,
            PipelineId::Histogram,
            [3; 32],
            0,
            now() + 20_000,
            e,
            shard_size,
        )
        .expect("request");
    as_(a.researcher);
    id
}

/// Shards `job + 1 ..` run in step, as on chain, where every shard opens
/// at request: worker `i` offers for shard `i`, all are drawn, all commit
/// their results and reveal them. Each shard is left in its challenge
/// window.
fn compute_shards(m: &mut Marketplace, job: JobId, work: &[(AccountId, Digest)]) {
    let shards = || (job + 1..).zip(work);
    for (shard, (w, _)) in shards() {
        offer(m, shard, *w);
    }
    for (shard, (w, _)) in shards() {
        assert_eq!(draw_now(m, shard), [*w]);
    }
    for (shard, (w, r)) in shards() {
        commit(m, shard, *w, r);
    }
    for (shard, (w, r)) in shards() {
        reveal(m, shard, *w, r);
        assert_eq!(status(m, shard), JobStatus::Challenge);
    }
}

/// Shards `job + 1 ..` of `work` compute (see `compute_shards`) and nobody
/// challenges: each is `Computed`, in order.
fn agree_shards(m: &mut Marketplace, job: JobId, work: &[(AccountId, Digest)]) {
    compute_shards(m, job, work);
    for shard in job + 1..=job + work.len() as u64 {
        pass_challenge(m, shard);
    }
}

#[ink::test]
fn request_splits_the_submissions_and_the_escrow_into_shards() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(1), 10);
    let job = request_sharded(&mut m, &a, ds, 4, 3, 7);
    let parent = m.job(job).expect("job");
    assert_eq!(parent.status, JobStatus::Sharded);
    assert_eq!((parent.shards, parent.shards_computed), (3, 0));
    assert_eq!(parent.shard, None);
    // The job keeps the price (and the overpayment); each shard one fee per
    // replica plus the reserve.
    assert_eq!(parent.escrow, PRICE + 7);
    assert_eq!(m.job_count(), Ok(job + 4));
    let ranges: Vec<(u64, u64)> = (1..=3)
        .map(|i| {
            let s = m.job(job + i).expect("shard");
            assert_eq!(s.status, JobStatus::Open);
            assert_eq!((s.escrow, s.price, s.epsilon, s.shards), (20, 0, 0, 0));
            let place = s.shard.expect("a shard");
            assert_eq!((place.job, place.index), (job, i as u32 - 1));
            assert_eq!(
                s.input_digest,
                hash::shard_input_digest(
                    job,
                    &parent.input_digest,
                    place.index,
                    place.first,
                    place.end
                ),
                "a shard's input digest binds its range"
            );
            assert_eq!(s.range(), place.first..place.end);
            (place.first, place.end)
        })
        .collect();
    assert_eq!(ranges, [(0, 4), (4, 8), (8, 10)]);
    // One request event for the job and one per shard (workers see each
    // shard as a job to offer for).
    let requested: Vec<JobId> = events::<JobRequested>().iter().map(|e| e.job_id).collect();
    assert_eq!(requested, [job, job + 1, job + 2, job + 3]);
    assert_eq!(m.totals().expect("totals").escrow, PRICE + 7 + 60);
    assert_conserved(&m, &a.all());
    // Work happens on the shards only.
    let w = a.workers[0];
    pay(w, 500);
    m.stake().expect("stake");
    let sealed = seed_hash(&m, job, w);
    as_(w);
    assert_eq!(m.offer(job, sealed), Err(Error::WrongStatus));
    offer(&mut m, job + 1, w);
}

#[ink::test]
fn request_bounds_the_shards_and_needs_every_shards_escrow() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(1), 70);
    let try_request = |m: &mut Marketplace, value: Balance, shard_size: u64| {
        pay(a.researcher, value);
        let e = expected(m, ds);
        let r = m.request(
            ds,
            PipelineId::Histogram,
            [3; 32],
            0,
            T0 + 20_000,
            e,
            shard_size,
        );
        if r.is_err() {
            unpay(a.researcher, value);
        }
        r
    };
    // 70 submissions in shards of one: 70 > MAX_SHARDS.
    let lots = sharded_escrow(&m, ds, 70);
    assert_eq!(try_request(&mut m, lots, 1), Err(Error::TooManyShards));
    // Two shards of 35 need two shards' fees.
    let two = sharded_escrow(&m, ds, 2);
    assert_eq!(
        try_request(&mut m, two - 1, 35),
        Err(Error::InsufficientEscrow)
    );
    let job = try_request(&mut m, two, 35).expect("two shards");
    assert_eq!(m.job(job).map(|j| j.shards), Ok(2));
    // A shard size of 0, or of the whole dataset, computes the job whole.
    let one = sharded_escrow(&m, ds, 1);
    for size in [0, 70, 1_000] {
        let whole = try_request(&mut m, one, size).expect("whole");
        let j = m.job(whole).expect("job");
        assert_eq!((j.status, j.shards, j.shard), (JobStatus::Open, 0, None));
    }
    assert_conserved(&m, &a.all());
}

#[ink::test]
fn sharded_job_releases_once_every_shard_agreed() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(1), 6);
    stake_all(&mut m, &a, 500);
    let job = request_sharded(&mut m, &a, ds, 2, 3, 0);
    let results = [[7u8; 32], [8u8; 32], [9u8; 32]];
    // Different workers take different shards, at the same time.
    let work: Vec<(AccountId, Digest)> = a.workers.iter().copied().zip(results).collect();
    compute_shards(&mut m, job, &work);
    for i in 0..3u64 {
        let shard = job + 1 + i;
        assert_eq!(status(&m, job), JobStatus::Sharded, "shard {i} not agreed");
        pass_challenge(&mut m, shard);
        assert_eq!(m.job(job).map(|j| j.shards_computed), Ok(i as u32 + 1));
        // A shard alone is never released, nor paid before its job.
        as_(a.owner);
        assert_eq!(m.release(shard, [4; 32]), Err(Error::IsShard));
        assert_eq!(m.finalize(shard), Err(Error::JobNotReleased));
        assert_eq!(
            m.job(shard).map(|s| s.deadline),
            Ok(Timestamp::MAX),
            "a shard has no release window of its own"
        );
    }
    // The last shard's agreement makes the job `Computed`: its commitment
    // folds the shards' in order.
    let parent = m.job(job).expect("job");
    assert_eq!(parent.status, JobStatus::Computed);
    let commitments: Vec<Digest> = (1..=3)
        .map(|i| m.job(job + i).expect("shard").commitment.expect("agreed"))
        .collect();
    for (i, c) in commitments.iter().enumerate() {
        let shard = m.job(job + 1 + i as u64).expect("shard");
        assert_eq!(
            *c,
            shard.commitment_with::<Sha2>(job + 1 + i as u64, &results[i])
        );
    }
    assert_eq!(parent.commitment, Some(hash::shards_digest(&commitments)));
    let computed: JobComputed = last();
    assert_eq!(computed.job_id, job);
    assert_eq!(computed.commitment, hash::shards_digest(&commitments));
    assert_eq!(computed.result_blob_hash, hash::EMPTY_DIGEST);
    // One release, for the whole job; the owner is paid once, each shard's
    // worker its fee.
    as_(a.owner);
    assert_eq!(m.release(job, [4; 32]), Ok(()));
    as_(a.outsider);
    assert_eq!(m.finalize(job), Ok(()));
    assert_eq!(earned(&m, a.owner), PRICE);
    for i in 0..3u64 {
        assert_eq!(m.finalize(job + 1 + i), Ok(()));
        assert_eq!(m.finalize(job + 1 + i), Err(Error::WrongStatus));
        assert_eq!(status(&m, job + 1 + i), JobStatus::Finalized);
    }
    for w in &a.workers[..3] {
        assert_eq!(earned(&m, *w), 10);
        let info = m.worker(*w).expect("worker");
        assert_eq!((info.locked, info.open_claims), (0, 0));
    }
    // The unused reserve fees (one per shard) go back to the researcher.
    assert_eq!(earned(&m, a.researcher), 30);
    assert_eq!(m.totals().expect("totals").escrow, 0);
    assert_conserved(&m, &a.all());
}

#[ink::test]
fn a_shard_without_a_result_refunds_its_job_and_the_agreed_shards_still_pay() {
    let (mut m, a) = deploy();
    let mut p = policy(1);
    p.dp_epsilon_budget = Some(1_000);
    let ds = dataset(&mut m, &a, p, 4);
    stake_all(&mut m, &a, 500);
    let value = sharded_escrow(&m, ds, 2);
    pay(a.researcher, value);
    let e = expected(&m, ds);
    let job = m
        .request(ds, PipelineId::Histogram, [3; 32], 400, T0 + 20_000, e, 2)
        .expect("request");
    assert_eq!(m.dataset(ds).map(|d| d.epsilon_spent), Ok(400));
    let r = [7u8; 32];
    // Shard 1 agrees; shard 2's worker never commits, and the commit
    // deadline passes.
    offer(&mut m, job + 1, a.workers[0]);
    offer(&mut m, job + 2, a.workers[1]);
    assert_eq!(draw_now(&mut m, job + 1), [a.workers[0]]);
    assert_eq!(draw_now(&mut m, job + 2), [a.workers[1]]);
    commit(&mut m, job + 1, a.workers[0], &r);
    reveal(&mut m, job + 1, a.workers[0], &r);
    pass_challenge(&mut m, job + 1);
    assert_eq!(m.job(job).map(|j| j.shards_computed), Ok(1));
    until(&m, m.job(job + 2).expect("shard").deadline);
    assert_eq!(m.advance(job + 2), Ok(JobStatus::Refunded));
    // The job ends with it: the price back less the reservation fee, the
    // epsilon back to the budget.
    let parent = m.job(job).expect("job");
    assert_eq!(parent.status, JobStatus::Refunded);
    let refunded = events::<JobRefunded>();
    let ended = refunded
        .iter()
        .find(|e| e.job_id == job)
        .expect("job refunded");
    assert_eq!(ended.reason, RefundReason::NoResult);
    assert_eq!(ended.owner_paid, reservation_fee(400, PRICE));
    assert_eq!(m.dataset(ds).map(|d| d.epsilon_spent), Ok(0));
    // The agreed shard delivered: its worker is paid.
    as_(a.outsider);
    assert_eq!(m.finalize(job + 1), Ok(()));
    assert_eq!(earned(&m, a.workers[0]), 10);
    // The missing worker was slashed; its stake goes to the researcher.
    assert_eq!(m.worker(a.workers[1]).map(|w| w.stake), Ok(400));
    assert_eq!(m.totals().expect("totals").escrow, 0);
    assert_conserved(&m, &a.all());
}

#[ink::test]
fn a_shard_agreed_after_its_job_ended_is_paid_at_once() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(1), 4);
    stake_all(&mut m, &a, 500);
    let job = request_sharded(&mut m, &a, ds, 2, 2, 0);
    // Shard 1 fails first; shard 2 is still in its challenge window and
    // agrees later.
    offer(&mut m, job + 1, a.workers[0]);
    offer(&mut m, job + 2, a.workers[1]);
    assert_eq!(draw_now(&mut m, job + 1), [a.workers[0]]);
    assert_eq!(draw_now(&mut m, job + 2), [a.workers[1]]);
    let r = [7u8; 32];
    commit(&mut m, job + 2, a.workers[1], &r);
    reveal(&mut m, job + 2, a.workers[1], &r);
    until(&m, m.job(job + 1).expect("shard").deadline);
    assert_eq!(m.advance(job + 1), Ok(JobStatus::Refunded));
    assert_eq!(status(&m, job), JobStatus::Refunded);
    pass_challenge(&mut m, job + 2);
    assert_eq!(
        m.job(job).map(|j| (j.status, j.shards_computed)),
        Ok((JobStatus::Refunded, 0)),
        "an ended job does not count late shards"
    );
    as_(a.outsider);
    assert_eq!(m.finalize(job + 2), Ok(()));
    assert_eq!(earned(&m, a.workers[1]), 10);
    assert_eq!(m.totals().expect("totals").escrow, 0);
    assert_conserved(&m, &a.all());
}

#[ink::test]
fn owner_rejection_of_an_agreed_shard_reopens_its_job() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(1), 4);
    stake_all(&mut m, &a, 500);
    let job = request_sharded(&mut m, &a, ds, 2, 2, 0);
    let (bad, good) = ([6u8; 32], [7u8; 32]);
    agree_shards(&mut m, job, &[(a.workers[0], good), (a.workers[1], bad)]);
    assert_eq!(status(&m, job), JobStatus::Computed);
    // The owner's verify-before-decrypt fails on shard 2: it rejects it,
    // bonded. The job waits for shard 2 again and cannot release.
    pay(a.owner, 500);
    m.stake().expect("owner stakes");
    as_(a.owner);
    assert_eq!(m.reject(job + 2, good), Ok(()));
    assert_eq!(status(&m, job + 2), JobStatus::Disputed);
    let parent = m.job(job).expect("job");
    assert_eq!(
        (parent.status, parent.shards_computed, parent.commitment),
        (JobStatus::Sharded, 1, None)
    );
    assert_eq!(m.release(job, [4; 32]), Err(Error::WrongStatus));
    // An agreed shard of a released job can no longer be rejected.
    let ds2 = dataset(&mut m, &a, policy(1), 4);
    let job2 = request_sharded(&mut m, &a, ds2, 2, 2, 0);
    agree_shards(&mut m, job2, &[(a.workers[2], good), (a.workers[3], good)]);
    as_(a.owner);
    assert_eq!(m.release(job2, [4; 32]), Ok(()));
    assert_eq!(m.reject(job2 + 1, bad), Err(Error::WrongStatus));
    assert_conserved(&m, &a.all());
}

#[ink::test]
fn release_timeout_of_a_sharded_job_pays_its_shards_workers() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(1), 4);
    stake_all(&mut m, &a, 500);
    let job = request_sharded(&mut m, &a, ds, 2, 2, 0);
    let r = [7u8; 32];
    agree_shards(&mut m, job, &[(a.workers[0], r), (a.workers[1], r)]);
    // A shard has no deadline of its own to push.
    assert_eq!(m.advance(job + 1), Err(Error::DeadlineNotReached));
    assert_eq!(m.advance(job), Err(Error::DeadlineNotReached));
    until(&m, m.job(job).expect("job").deadline);
    assert_eq!(m.advance(job), Ok(JobStatus::Refunded));
    assert_eq!(last::<JobRefunded>().reason, RefundReason::ReleaseTimeout);
    as_(a.outsider);
    for shard in [job + 1, job + 2] {
        assert_eq!(m.finalize(shard), Ok(()));
    }
    assert_eq!(earned(&m, a.workers[0]), 10);
    assert_eq!(earned(&m, a.workers[1]), 10);
    assert_eq!(earned(&m, a.researcher), PRICE + 20);
    assert_conserved(&m, &a.all());
}

#[ink::test]
fn cancel_takes_a_sharded_job_whole_while_no_shard_has_an_offer() {
    let (mut m, a) = deploy();
    let ds = dataset(&mut m, &a, policy(1), 4);
    stake_all(&mut m, &a, 500);
    let job = request_sharded(&mut m, &a, ds, 2, 2, 0);
    as_(a.researcher);
    assert_eq!(m.cancel(job + 1), Err(Error::IsShard));
    offer(&mut m, job + 2, a.workers[0]);
    as_(a.researcher);
    assert_eq!(m.cancel(job), Err(Error::JobClaimed));
    let job2 = request_sharded(&mut m, &a, ds, 2, 2, 0);
    as_(a.researcher);
    assert_eq!(m.cancel(job2), Ok(()));
    for id in [job2, job2 + 1, job2 + 2] {
        assert_eq!(status(&m, id), JobStatus::Cancelled);
        assert_eq!(m.job(id).map(|j| j.escrow), Ok(0));
    }
    assert_eq!(earned(&m, a.researcher), sharded_escrow(&m, ds, 2));
    assert_conserved(&m, &a.all());
}
