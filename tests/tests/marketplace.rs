//! The marketplace end to end: every case on the embedded chain, and on a
//! real substrate-contracts-node when `BLINDFOLD_NODE_URL` is set
//! (`scripts/test.sh` starts one when the cached binary exists and runs the
//! `node_` cases, which are `#[ignore]`d otherwise).
//!
//! Each case asserts how money moved (contract earnings and stakes, and
//! conservation of the contract's funds), not only job statuses.

use std::time::Duration;

use anyhow::Result;
use blindfold_chain::Chain;
use blindfold_chain::Signer;
use blindfold_client::owner::{self, Ledger, ReleaseOptions, ReleaseOutcome, ReleaseReport};
use blindfold_client::policy::{self, Decision, Decrypted, ReleasePolicy};
use blindfold_client::researcher;
use blindfold_client::verify::verify_job;
use blindfold_client::{ClientError, Dispute};
use blindfold_e2e::{Balances, Dataset, DatasetConfig, Scenario};
use blindfold_fhe::{EncryptedResult, Scheme};
use blindfold_job::ResultBundle;
use blindfold_job::VerifyPolicy;
use blindfold_market::UNIT;
use blindfold_protocol::types::{ClaimKind, Hash, JobId, JobInfo, JobStatus, PipelineSet, Policy};
use blindfold_protocol::Error as ContractError;
use blindfold_store::BlobStore;
use blindfold_worker::state::Phase;
use indicatif::ProgressBar;

const TIMEOUT: Duration = Duration::from_secs(600);

async fn scenario(chain: &str) -> Result<(tempfile::TempDir, Scenario)> {
    let dir = tempfile::tempdir()?;
    let s = Scenario::start(chain, dir.path()).await?;
    Ok((dir, s))
}

fn status_is(status: JobStatus) -> impl Fn(&JobInfo) -> bool {
    move |j| j.status == status
}

async fn nothing(_: JobInfo) -> Result<()> {
    Ok(())
}

/// Fee and stake settings the scenario deployed with.
async fn fees(s: &Scenario) -> Result<(u128, u128)> {
    let p = s.market().state().await?.params;
    Ok((p.worker_fee, p.claim_stake))
}

/// The hospital verifies and releases `job` (two threads), and finalises it.
async fn release(s: &Scenario, data: &Dataset, job: JobId) -> Result<ReleaseReport> {
    let options = ReleaseOptions {
        threads: Some(2),
        ..ReleaseOptions::default()
    };
    Ok(owner::release_job(&s.client, &s.owner, &data.keys, job, &options).await?)
}

/// Workers 0 and 1 (one FHE thread each) run until `job` is computed.
async fn two_workers_compute(s: &Scenario, job: JobId) -> Result<JobInfo> {
    let workers = [s.worker(0, 1)?, s.worker(1, 1)?];
    s.run_workers_until(
        &workers,
        job,
        TIMEOUT,
        status_is(JobStatus::Computed),
        nothing,
    )
    .await
}

/// 1. Two workers agree, the owner releases, everyone is paid (TFHE).
async fn happy_path(chain: &str) -> Result<()> {
    happy_path_under(chain, Scheme::TFHE).await
}

/// 1b. The same under BFV: the same job path, the same twin, the same payouts.
async fn bfv_happy_path(chain: &str) -> Result<()> {
    happy_path_under(chain, Scheme::BFV).await
}

async fn happy_path_under(chain: &str, scheme: Scheme) -> Result<()> {
    let (_dir, s) = scenario(chain).await?;
    let data = s
        .dataset(&DatasetConfig {
            scheme,
            ..DatasetConfig::tiny(3)
        })
        .await?;
    assert_eq!(data.keys.scheme(), scheme);
    let (fee, _) = fees(&s).await?;
    let before = s.balances().await?;
    let job = s.request_lv_area(&data, 0).await?;
    let escrow = s.client.job(job).await?.escrow;
    let info = two_workers_compute(&s, job).await?;
    assert_eq!(info.claims.len(), 2);
    assert!(info
        .claims
        .iter()
        .all(|c| c.result_blob_hash == info.result_blob_hash));

    // The agreed result decrypts to exactly the plaintext twin.
    let params = s.params_of(job).await?;
    let bundle_hash = info.result_blob_hash.expect("agreed result");
    let bundle = ResultBundle::from_bytes(&s.client.store().get(&bundle_hash, 1 << 30).await?)?;
    let ctx = s.client.job_context(job, info.clone()).await?;
    let units = ctx.units();
    // TFHE: one item per video; BFV lv-area: the 3 videos packed into one.
    let expected_units = if scheme == Scheme::BFV { 1 } else { 3 };
    assert_eq!(
        (bundle.items.len(), units.len()),
        (expected_units, expected_units)
    );
    let geometry = data.plain[0].geometry();
    for ((first, bytes), unit) in bundle.items.iter().zip(&units) {
        assert_eq!(*first, unit[0].index);
        let decrypted =
            data.keys
                .client_key()
                .decrypt_unit(bytes, &params, &geometry, unit.len())?;
        assert_eq!(decrypted.len(), unit.len());
        for (input, output) in unit.iter().zip(decrypted) {
            assert_eq!(output, params.plaintext(&data.plain[input.index as usize])?);
        }
    }

    let report = release(&s, &data, job).await?;
    assert!(
        matches!(report.outcome, ReleaseOutcome::Released { cohort: 3, .. }),
        "{report:?}"
    );
    assert!(report.finalized);
    assert_eq!(s.client.job(job).await?.status, JobStatus::Finalized);
    let released = researcher::fetch_result(&s.client, job, Some(&s.release_key)).await?;
    assert_eq!(released.videos.len(), 3);

    let after = s.balances().await?;
    assert_eq!(
        after.earned_since(&before, "owner"),
        5 * UNIT as i128,
        "owner gets the price"
    );
    assert_eq!(
        after.earned_since(&before, "worker-0"),
        fee as i128,
        "each agreeing worker gets one fee"
    );
    assert_eq!(after.earned_since(&before, "worker-1"), fee as i128);
    // The researcher gets back what the job did not use: the reserve fee.
    assert_eq!(
        after.earned_since(&before, "researcher"),
        (escrow - 5 * UNIT - 2 * fee) as i128
    );
    after.check_conservation(&before)?;

    // Withdrawing moves the earnings to the owner's account.
    let amount = s.market().withdraw(&s.owner).await?;
    assert_eq!(amount, after.entries["owner"].earned);
    assert_eq!(s.market().earnings(&s.owner.account()).await?, 0);
    Ok(())
}

/// 1c. A sharded job: four videos in two shards of two, each a job of its
///     own, computed by two worker processes (one FHE thread each); the
///     owner verifies each shard before decrypting it and releases once,
///     for the whole job. Each shard decrypts to the plaintext twin of its
///     own range; the owner is paid the price once, each shard's worker its
///     fee.
async fn sharded_job(chain: &str) -> Result<()> {
    let (_dir, s) = scenario(chain).await?;
    let data = s
        .dataset(&DatasetConfig {
            replication: 1,
            ..DatasetConfig::tiny(4)
        })
        .await?;
    let (fee, _) = fees(&s).await?;
    let before = s.balances().await?;
    // Twice a case's compute window: on a node, a shard whose 15 s offer
    // window closes before a cold worker offers (it stakes, fetches the keys
    // and times its first input first) reopens only while an offer window
    // and a draw still fit before the commit deadline; at 60 s the shard
    // often closed empty and the job refunded.
    let job = s
        .request_lv_area_sharded(&data, 0, 2 * s.compute_window_ms(), 2)
        .await?;
    let parent = s.client.job(job).await?;
    assert_eq!((parent.status, parent.shards), (JobStatus::Sharded, 2));
    let shards = [job + 1, job + 2];
    let mut escrow = parent.escrow;
    for id in shards {
        escrow += s.client.job(id).await?.escrow;
    }
    let info = two_workers_compute(&s, job).await?;

    // Each shard agreed on its own range, and the job's commitment folds
    // the shards' in order.
    let params = s.params_of(job).await?;
    let geometry = data.plain[0].geometry();
    let mut commitments = Vec::new();
    for (i, id) in shards.into_iter().enumerate() {
        let shard = s.client.job(id).await?;
        assert_eq!(shard.status, JobStatus::Computed);
        assert_eq!(shard.range(), 2 * i as u64..2 * i as u64 + 2);
        assert_eq!(shard.claims.len(), 1, "replication 1");
        commitments.push(shard.commitment.expect("agreed"));
        let bundle_hash = shard.result_blob_hash.expect("agreed result");
        let bundle = ResultBundle::from_bytes(&s.client.store().get(&bundle_hash, 1 << 30).await?)?;
        let ctx = s.client.job_context(id, shard.clone()).await?;
        let units = ctx.units();
        assert_eq!(units.len(), 2, "shard {i}: its two videos only");
        for ((_, bytes), unit) in bundle.items.iter().zip(&units) {
            let decrypted =
                data.keys
                    .client_key()
                    .decrypt_unit(bytes, &params, &geometry, unit.len())?;
            for (input, output) in unit.iter().zip(decrypted) {
                assert!(shard.range().contains(&input.index));
                assert_eq!(output, params.plaintext(&data.plain[input.index as usize])?);
            }
        }
    }
    assert_eq!(
        info.commitment,
        Some(blindfold_protocol::hash::shards_digest(&commitments))
    );
    // Anyone re-runs every shard and the fold.
    let verified = verify_job(&s.client, job, Some(2), &ProgressBar::hidden()).await?;
    assert!(verified.matches, "{verified:?}");
    assert_eq!((verified.shards.len(), verified.inputs), (2, 4));

    let report = release(&s, &data, job).await?;
    assert!(
        matches!(report.outcome, ReleaseOutcome::Released { cohort: 4, .. }),
        "{report:?}"
    );
    assert_eq!(report.verified.as_ref().map(|v| v.recomputed), Some(4));
    assert!(report.finalized);
    for id in [job, job + 1, job + 2] {
        assert_eq!(s.client.job(id).await?.status, JobStatus::Finalized);
    }
    let released = researcher::fetch_result(&s.client, job, Some(&s.release_key)).await?;
    assert_eq!(released.videos.len(), 4);

    let after = s.balances().await?;
    assert_eq!(after.earned_since(&before, "owner"), 5 * UNIT as i128);
    let workers_paid =
        after.earned_since(&before, "worker-0") + after.earned_since(&before, "worker-1");
    assert_eq!(workers_paid, 2 * fee as i128, "one fee per shard");
    assert_eq!(
        after.earned_since(&before, "researcher"),
        (escrow - 5 * UNIT - 2 * fee) as i128,
        "the reserve fee of each shard comes back"
    );
    after.check_conservation(&before)?;
    Ok(())
}

/// 2. A worker that posts a wrong result is outvoted by a tie-break and
///    slashed; the honest workers are paid.
async fn dishonest_worker(chain: &str) -> Result<()> {
    let (_dir, s) = scenario(chain).await?;
    let data = s.dataset(&DatasetConfig::tiny(2)).await?;
    let (fee, claim_stake) = fees(&s).await?;
    let liar = s.workers[1].clone();
    s.market().stake(&liar, 20 * UNIT).await?;
    let before = s.balances().await?;
    let job = s.request_lv_area(&data, 0).await?;

    // The liar offers first; both offers fit the two slots, so both are
    // drawn. The liar commits to garbage, the honest worker computes,
    // commits and reveals, and the liar reveals its garbage.
    s.offer(&liar, job).await?;
    let garbage = [0xEE; 32];
    let honest = [s.worker(0, 2)?];
    let liar_reveal = |j: JobInfo| {
        let s = &s;
        let liar = liar.clone();
        async move {
            let mine = j.claims.iter().find(|c| c.worker == liar.account());
            match (j.status, mine) {
                (JobStatus::Computing, Some(c)) if c.sealed.is_none() => {
                    s.commit(&liar, job, garbage).await?
                }
                (JobStatus::Revealing, Some(c)) if c.result_blob_hash.is_none() => {
                    s.market().reveal(&liar, job, garbage).await?
                }
                _ => {}
            }
            Ok(())
        }
    };
    s.run_workers_until(
        &honest,
        job,
        TIMEOUT,
        status_is(JobStatus::Disputed),
        liar_reveal,
    )
    .await?;

    // A third worker is drawn for the tie-break slot; the majority wins.
    let both = [s.worker(0, 1)?, s.worker(2, 1)?];
    let info = s
        .run_workers_until(&both, job, TIMEOUT, status_is(JobStatus::Computed), nothing)
        .await?;
    assert_ne!(info.result_blob_hash, Some(garbage));
    release(&s, &data, job).await?;

    let after = s.balances().await?;
    // Each winner: its fee and half the liar's slashed stake.
    let share = (claim_stake / 2) as i128;
    assert_eq!(after.earned_since(&before, "worker-0"), fee as i128 + share);
    assert_eq!(after.earned_since(&before, "worker-2"), fee as i128 + share);
    assert_eq!(
        after.earned_since(&before, "worker-1"),
        0,
        "the liar earns nothing"
    );
    assert_eq!(
        after.stake_since(&before, "worker-1"),
        -(claim_stake as i128),
        "the liar loses its claim stake"
    );
    assert_eq!(
        after.earned_since(&before, "operator"),
        0,
        "the slashed stake pays the honest side, never the admin"
    );
    assert_eq!(after.earned_since(&before, "owner"), 5 * UNIT as i128);
    after.check_conservation(&before)?;
    Ok(())
}

/// 3. A drawn worker never delivers: after the deadline the researcher is
///    refunded and the worker slashed.
async fn claim_never_delivered(chain: &str) -> Result<()> {
    let (_dir, s) = scenario(chain).await?;
    let mut cfg = DatasetConfig::tiny(2);
    cfg.replication = 1;
    let data = s.dataset(&cfg).await?;
    let (_, claim_stake) = fees(&s).await?;
    let idle = s.workers[0].clone();
    s.market().stake(&idle, 20 * UNIT).await?;
    let before = s.balances().await?;
    // On a node the test waits the window out: the shortest the node's
    // params allow (offer 15 s + draw reveal 30 s + minimum 1 s) plus slack,
    // which NODE_COMPUTE_WINDOW_MS is. (It asked for 20 s, which the node
    // refused as DeadlineTooSoon.)
    let job = s.request_lv_area(&data, 0).await?;
    let escrow = s.client.job(job).await?.escrow;
    s.offer(&idle, job).await?;
    let info = s.close_offers(job).await?;
    let now = s.market().chain().now().await?;
    s.advance(info.deadline.saturating_sub(now) + 1_000).await?;
    let status = s.market().advance(&s.researcher, job).await?;
    // Nobody committed: the commit phase closes, and with nothing revealed the job refunds.
    let status = if status == JobStatus::Refunded {
        status
    } else {
        let info = s.client.job(job).await?;
        let now = s.market().chain().now().await?;
        s.advance(info.deadline.saturating_sub(now) + 1_000).await?;
        s.market().advance(&s.researcher, job).await?
    };
    assert_eq!(status, JobStatus::Refunded);
    let after = s.balances().await?;
    assert_eq!(
        after.earned_since(&before, "researcher"),
        (escrow + claim_stake) as i128,
        "full refund, and the idle worker's slashed stake"
    );
    assert_eq!(
        after.stake_since(&before, "worker-0"),
        -(claim_stake as i128),
        "slashed"
    );
    assert_eq!(after.earned_since(&before, "owner"), 0);
    after.check_conservation(&before)?;
    Ok(())
}

/// 4. A revoked submission is excluded from a later job's input digest and
///    from its computation; one revoked while a job is in flight is left out
///    of its release, and under TFHE (one video per result item) never
///    decrypted.
async fn revoked_submission_excluded(chain: &str) -> Result<()> {
    revoked_submission_excluded_under(chain, Scheme::TFHE).await
}

/// 4b. The same under BFV, whose lv-area results pack a unit of up to 64
///     submissions into one item: the revoked submission shares its unit
///     with kept ones, so it is decrypted with that unit on the owner's
///     machine, then dropped: never released.
async fn bfv_revoked_submission_excluded(chain: &str) -> Result<()> {
    revoked_submission_excluded_under(chain, Scheme::BFV).await
}

async fn revoked_submission_excluded_under(chain: &str, scheme: Scheme) -> Result<()> {
    let (_dir, s) = scenario(chain).await?;
    let data = s
        .dataset(&DatasetConfig {
            scheme,
            ..DatasetConfig::tiny(4)
        })
        .await?;
    // TFHE: one item per live submission; BFV: one packed unit, keyed by
    // its first submission.
    let (items, decrypted) = match scheme {
        Scheme::BFV => (vec![0], 1),
        _ => (vec![0, 2, 3], 2),
    };
    owner::revoke(&s.client, &s.owner, data.id, 1).await?;
    let before = s.balances().await?;
    let job = s.request_lv_area(&data, 0).await?;
    let info = s.client.job(job).await?;
    assert_eq!(info.cohort(), 3);
    let inputs = s.market().history().await?.dataset_inputs(data.id);
    let live: Vec<u64> = inputs
        .for_job(job, &info)?
        .iter()
        .map(|i| i.index)
        .collect();
    assert_eq!(live, vec![0, 2, 3]);
    let info = two_workers_compute(&s, job).await?;
    let bundle = ResultBundle::from_bytes(
        &s.client
            .store()
            .get(&info.result_blob_hash.unwrap(), 1 << 30)
            .await?,
    )?;
    let computed: Vec<u64> = bundle.items.iter().map(|(i, _)| *i).collect();
    assert_eq!(computed, items, "the revoked video was not computed");
    let units: Vec<Vec<u64>> = s
        .client
        .job_context(job, info.clone())
        .await?
        .units()
        .iter()
        .map(|u| u.iter().map(|i| i.index).collect())
        .collect();
    match scheme {
        Scheme::BFV => assert_eq!(units, [vec![0, 2, 3]]),
        _ => assert_eq!(units, [vec![0], vec![2], vec![3]]),
    }

    // Consent for video 3 is withdrawn while the job is in flight: it is
    // left out of the release. Under TFHE its item is never decrypted;
    // under BFV it is decrypted with its unit, then dropped.
    owner::revoke(&s.client, &s.owner, data.id, 3).await?;
    let report = release(&s, &data, job).await?;
    assert!(matches!(
        report.outcome,
        ReleaseOutcome::Released { cohort: 2, .. }
    ));
    assert_eq!(data.keys.decryptions(), decrypted, "result items decrypted");
    let released = researcher::fetch_result(&s.client, job, Some(&s.release_key)).await?;
    let videos: Vec<u64> = released.videos.iter().map(|v| v.submission).collect();
    assert_eq!(videos, vec![0, 2]);
    let after = s.balances().await?;
    assert_eq!(after.earned_since(&before, "owner"), 5 * UNIT as i128);
    after.check_conservation(&before)?;
    Ok(())
}

/// 5. A job whose cohort is below the policy minimum is never released, and
///    the researcher is refunded (the workers did the work and are paid).
async fn cohort_below_minimum(chain: &str) -> Result<()> {
    let (_dir, s) = scenario(chain).await?;
    let data = s.dataset(&DatasetConfig::tiny(2)).await?;
    let (fee, _) = fees(&s).await?;
    let before = s.balances().await?;
    let job = s.request_lv_area(&data, 0).await?;
    let escrow = s.client.job(job).await?.escrow;
    // The hospital tightens its policy while the job runs.
    let policy = Policy {
        allowed_pipelines: PipelineSet::ALL,
        min_cohort: 3,
        replication: 2,
        dp_epsilon_budget: None,
    };
    s.market()
        .update_dataset(&s.owner, data.id, 5 * UNIT, policy)
        .await?;
    two_workers_compute(&s, job).await?;
    let report = release(&s, &data, job).await?;
    assert!(
        matches!(
            report.outcome,
            ReleaseOutcome::Refused {
                cohort: 2,
                min_cohort: 3
            }
        ),
        "{report:?}"
    );
    let info = s.client.job(job).await?;
    assert_eq!(info.status, JobStatus::Refunded);
    assert_eq!(info.released_hash, None, "nothing was released");
    let after = s.balances().await?;
    assert_eq!(
        after.earned_since(&before, "owner"),
        0,
        "the owner is not paid"
    );
    assert_eq!(after.earned_since(&before, "worker-0"), fee as i128);
    assert_eq!(after.earned_since(&before, "worker-1"), fee as i128);
    assert_eq!(
        after.earned_since(&before, "researcher"),
        (escrow - 2 * fee) as i128
    );
    after.check_conservation(&before)?;
    Ok(())
}

/// 6. A tampered ciphertext in the store is detected: the worker refuses the
///    job, claims nothing and commits nothing.
async fn tampered_ciphertext_refused(chain: &str) -> Result<()> {
    let (_dir, s) = scenario(chain).await?;
    let data = s.dataset(&DatasetConfig::tiny(2)).await?;
    let job = s.request_lv_area(&data, 0).await?;
    let info = s.client.job(job).await?;
    let inputs = s
        .market()
        .history()
        .await?
        .dataset_inputs(data.id)
        .for_job(job, &info)?;
    let victim = s.client.store().path_of(&inputs[1].blob_hash);
    let mut bytes = std::fs::read(&victim)?;
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(&victim, bytes)?;

    let worker = s.worker(0, 1)?;
    worker.ensure_staked().await?;
    let before = s.balances().await?;
    let refused = |_: &JobInfo| false;
    let mut polls = 0;
    let _ = s
        .run_workers_until(
            std::slice::from_ref(&worker),
            job,
            Duration::from_secs(60),
            refused,
            |_| {
                polls += 1;
                let phase = worker.state.job(job).map(|r| r.phase);
                async move {
                    if phase == Some(Phase::Skipped) {
                        anyhow::bail!("refused")
                    }
                    Ok(())
                }
            },
        )
        .await;
    let record = worker.state.job(job).expect("the worker recorded the job");
    assert_eq!(record.phase, Phase::Skipped);
    let note = record.note.unwrap_or_default();
    assert!(
        note.contains("refused") && note.contains("submission 1"),
        "{note}"
    );
    let info = s.client.job(job).await?;
    assert!(
        info.claims.is_empty(),
        "no claim, so no commitment: {:?}",
        info.claims
    );
    let after = s.balances().await?;
    assert_eq!(after.entries, before.entries, "no money moved");
    let stake = s.market().worker(&s.workers[0].account()).await?;
    assert_eq!(stake.locked, 0, "no stake locked by a claim");
    assert!(polls > 0);
    Ok(())
}

/// 6b. The worker's other refusals: a submission whose blob has the right
///     hash but is not a ciphertext, and a dataset whose metadata names
///     another server key than the chain. No claim, no commitment.
async fn bad_inputs_refused(chain: &str) -> Result<()> {
    let (_dir, s) = scenario(chain).await?;
    let data = s.dataset(&DatasetConfig::tiny(2)).await?;

    // Hash-correct garbage as a third submission.
    let garbage = s
        .client
        .store()
        .put(b"not a tfhe ciphertext".to_vec())
        .await?;
    s.market()
        .add_submissions(&s.owner, data.id, vec![garbage])
        .await?;
    let job_bad_blob = s.request_lv_area(&data, 0).await?;

    // A second dataset: the same videos, but the chain names a server key
    // the metadata does not.
    let info = s.market().dataset(data.id).await?;
    let other_key = s.client.store().put(b"some other key".to_vec()).await?;
    let ds2 = s
        .market()
        .register_dataset(
            &s.owner,
            info.metadata_hash,
            other_key,
            info.price,
            info.policy,
        )
        .await?;
    let videos = s
        .market()
        .history()
        .await?
        .dataset_inputs(data.id)
        .blob_hashes;
    s.market()
        .add_submissions(&s.owner, ds2, videos[..2].to_vec())
        .await?;
    let spec_job = s.client.job(job_bad_blob).await?;
    let escrow = spec_job.escrow;
    // The compute window must also hold the offer window and a draw.
    let p = s.market().state().await?.params;
    let window = p.min_compute_window + p.offer_window + p.reveal_window;
    let deadline = s.market().chain().now().await? + window.max(s.compute_window_ms());
    let expected = s.market().expected(ds2).await?;
    let job_bad_key = s
        .market()
        .request(
            &s.researcher,
            ds2,
            spec_job.pipeline,
            spec_job.params_hash,
            0,
            deadline,
            expected,
            0,
            escrow,
        )
        .await?;

    let worker = s.worker(0, 1)?;
    let both_refused = |w: &blindfold_e2e::ScenarioWorker| {
        [job_bad_blob, job_bad_key]
            .iter()
            .all(|j| w.state.job(*j).map(|r| r.phase) == Some(Phase::Skipped))
    };
    let w = worker.clone();
    let _ = s
        .run_workers_until(
            std::slice::from_ref(&worker),
            job_bad_key,
            Duration::from_secs(120),
            |_| false,
            |_| {
                let done = both_refused(&w);
                async move {
                    if done {
                        anyhow::bail!("both refused")
                    }
                    Ok(())
                }
            },
        )
        .await;
    let note = |j| worker.state.job(j).and_then(|r| r.note).unwrap_or_default();
    assert!(
        note(job_bad_blob).contains("submission 2"),
        "{}",
        note(job_bad_blob)
    );
    assert!(
        note(job_bad_blob).contains("deserial"),
        "{}",
        note(job_bad_blob)
    );
    assert!(
        note(job_bad_key).contains("server key hash differs"),
        "{}",
        note(job_bad_key)
    );
    for job in [job_bad_blob, job_bad_key] {
        assert!(
            s.client.job(job).await?.claims.is_empty(),
            "job {job} was claimed"
        );
    }
    assert_eq!(s.market().worker(&s.workers[0].account()).await?.locked, 0);
    Ok(())
}

/// 7. `verify` reports a match on a settled job and a mismatch on a forged
///    commitment.
async fn verify_reruns(chain: &str) -> Result<()> {
    let (_dir, s) = scenario(chain).await?;
    let mut cfg = DatasetConfig::tiny(2);
    cfg.replication = 1;
    let data = s.dataset(&cfg).await?;

    // Honest, settled.
    let job = s.request_lv_area(&data, 0).await?;
    let workers = [s.worker(0, 2)?];
    s.run_workers_until(
        &workers,
        job,
        TIMEOUT,
        status_is(JobStatus::Challenge),
        nothing,
    )
    .await?;
    let info = s.client.job(job).await?;
    let now = s.market().chain().now().await?;
    s.advance(info.deadline.saturating_sub(now) + 1_000).await?;
    assert_eq!(
        s.market().advance(&s.researcher, job).await?,
        JobStatus::Computed
    );
    release(&s, &data, job).await?;
    let report = verify_job(&s.client, job, Some(2), &ProgressBar::hidden()).await?;
    assert!(report.matches, "{report:?}");
    assert_eq!(report.ours, report.on_chain);

    // A lone worker forges its result; nobody challenges in time.
    let forger = s.workers[1].clone();
    s.market().stake(&forger, 20 * UNIT).await?;
    let job = s.request_lv_area(&data, 0).await?;
    let forged = s.client.store().put(b"not a real result".to_vec()).await?;
    offer_and_commit(&s, &[&forger], job, forged).await?;
    s.market().reveal(&forger, job, forged).await?;
    let info = s.client.job(job).await?;
    assert_eq!(info.status, JobStatus::Challenge);
    let now = s.market().chain().now().await?;
    s.advance(info.deadline.saturating_sub(now) + 1_000).await?;
    assert_eq!(
        s.market().advance(&s.researcher, job).await?,
        JobStatus::Computed
    );
    let report = verify_job(&s.client, job, Some(2), &ProgressBar::hidden()).await?;
    assert!(
        !report.matches,
        "a forged commitment must not verify: {report:?}"
    );
    assert_ne!(report.ours, report.on_chain);
    Ok(())
}

/// 8. A request that would overspend the dataset's DP budget is refused,
///    and nothing is charged.
async fn dp_budget_enforced(chain: &str) -> Result<()> {
    let (_dir, s) = scenario(chain).await?;
    let mut cfg = DatasetConfig::tiny(2);
    cfg.dp_budget = Some(1_000);
    let data = s.dataset(&cfg).await?;
    let first = s.request_lv_area(&data, 600).await?;
    assert_eq!(s.client.job(first).await?.epsilon, 600);
    assert_eq!(s.market().dataset(data.id).await?.epsilon_spent, 600);
    let before: Balances = s.balances().await?;
    let err = s.request_lv_area(&data, 600).await.unwrap_err();
    let contract_error = err
        .downcast_ref::<blindfold_client::ClientError>()
        .and_then(|e| e.contract_error());
    assert_eq!(
        contract_error,
        Some(ContractError::EpsilonBudgetExhausted),
        "{err:#}"
    );
    let after = s.balances().await?;
    assert_eq!(
        after, before,
        "the refused request moved no money (the dry run stopped it)"
    );
    assert_eq!(s.market().dataset(data.id).await?.epsilon_spent, 600);
    // What is left can still be spent.
    s.request_lv_area(&data, 400).await?;
    assert_eq!(s.market().dataset(data.id).await?.epsilon_spent, 1_000);
    Ok(())
}

/// What a key-recovery attacker posts: the honest result of every input
/// with each value's LWE ciphertexts replaced, keeping every part's scale,
/// window and length, so the structure check passes. Value `j`'s first part
/// becomes `a = Δ·e_j, b = Δ` (the rest zero): its decryption would be
/// `offset + scale·(1 − s_j)`, one bit of the client key per value.
async fn key_probe_bundle(s: &Scenario, job: JobId) -> Result<ResultBundle> {
    let info = s.client.job(job).await?;
    let ctx = s.client.job_context(job, info).await?;
    let key = ctx.fetch_server_key(s.client.store()).await?;
    let honest = ctx
        .recompute(s.client.store(), key, &ctx.units(), Some(2), || {})
        .await?;
    let mut forged = ResultBundle::default();
    for (index, bytes) in honest.bundle.items {
        let result = EncryptedResult::from_bytes(&bytes)?;
        let mut value = serde_json::to_value(&result)?;
        let values = value["values"].as_array_mut().expect("values");
        for (j, v) in values.iter_mut().enumerate() {
            let parts = v["parts"].as_array_mut().expect("parts");
            for (k, part) in parts.iter_mut().enumerate() {
                let delta = 1u64 << part["log_delta"].as_u64().expect("log_delta");
                // A big-key part (`[..]`, older blobs) or a tagged one
                // (`{"Big": [..]}`, `{"Small": [..]}`, key-switched).
                let lwe = match &mut part["lwe"] {
                    serde_json::Value::Object(tagged) => tagged.values_mut().next(),
                    plain => Some(plain),
                }
                .and_then(|v| v.as_array_mut())
                .expect("lwe");
                let body = lwe.len() - 1;
                lwe.iter_mut().for_each(|x| *x = 0.into());
                if k == 0 {
                    lwe[j % body] = delta.into();
                    lwe[body] = delta.into();
                }
            }
        }
        let crafted: EncryptedResult = serde_json::from_value(value)?;
        forged.items.push((index, crafted.to_bytes()?));
    }
    Ok(forged)
}

/// `accounts` (no more than the job's free slots) offer for `job`, are
/// drawn when the offer window passes, and each commits to `result`.
async fn offer_and_commit(
    s: &Scenario,
    accounts: &[&Signer],
    job: JobId,
    result: Hash,
) -> Result<()> {
    offer_all(s, accounts, job).await?;
    close_and_commit(s, accounts, job, result).await
}

/// `accounts` offer for `job`. A case whose colluders first compute their
/// forgery offers before it: on a node the offer window is 15 s, shorter
/// than a recompute on shared cores, and a second offer after it is refused.
async fn offer_all(s: &Scenario, accounts: &[&Signer], job: JobId) -> Result<()> {
    for account in accounts {
        s.offer(account, job).await?;
    }
    Ok(())
}

/// The offer window of `job` passes, every offerer in `accounts` is drawn,
/// and each commits to `result`.
async fn close_and_commit(
    s: &Scenario,
    accounts: &[&Signer],
    job: JobId,
    result: Hash,
) -> Result<()> {
    s.close_offers(job).await?;
    for account in accounts {
        s.commit(account, job, result).await?;
    }
    Ok(())
}

/// The owner's release of `job` was refused as unverified, nothing was
/// decrypted, and nothing was released.
async fn assert_refused_unverified(
    s: &Scenario,
    data: &Dataset,
    job: JobId,
    result: Result<ReleaseReport, ClientError>,
) -> Result<String> {
    let err = match result {
        Err(e @ ClientError::Unverified { .. }) => e,
        other => anyhow::bail!("a crafted result must not be released: {other:?}"),
    };
    assert_eq!(data.keys.decryptions(), 0, "nothing may be decrypted");
    let info = s.client.job(job).await?;
    assert_eq!(info.released_hash, None, "no release hash on chain");
    assert!(
        researcher::fetch_result(&s.client, job, Some(&s.release_key))
            .await
            .is_err(),
        "no released blob"
    );
    Ok(err.to_string())
}

/// 9. Key recovery, replication 1: a lone worker posts crafted ciphertexts
///    whose decryption would be bits of the client key. The owner recomputes,
///    decrypts nothing, and rejects it on chain with the correct result in
///    its challenge window; a jury of two fresh blind replicas (one per
///    dispute round) sides with the owner, the forger is slashed, and the
///    correct result is then released.
async fn key_probe_alone(chain: &str) -> Result<()> {
    let (_dir, s) = scenario(chain).await?;
    let mut cfg = DatasetConfig::tiny(2);
    cfg.replication = 1;
    let data = s.dataset(&cfg).await?;
    let (_, claim_stake) = fees(&s).await?;
    let forger = s.workers[1].clone();
    s.market().stake(&forger, 20 * UNIT).await?;
    let before = s.balances().await?;
    let job = s.request_lv_area(&data, 0).await?;

    let forged = key_probe_bundle(&s, job).await?;
    // The crafted items pass every check the old release path made.
    let params = s.params_of(job).await?;
    let geometry = data.plain[0].geometry();
    for (_, bytes) in &forged.items {
        data.keys
            .client_key()
            .decrypt_result(bytes, &params, &geometry)?;
    }
    let forged_hash = s.client.store().put(forged.to_bytes()).await?;
    offer_and_commit(&s, &[&forger], job, forged_hash).await?;
    s.market().reveal(&forger, job, forged_hash).await?;
    assert_eq!(s.client.job(job).await?.status, JobStatus::Challenge);

    let refused = release(&s, &data, job).await;
    let refused = refused.map_err(|e| e.downcast::<ClientError>().expect("a client error"));
    let message = assert_refused_unverified(&s, &data, job, refused).await?;
    assert!(message.contains("challenged on chain"), "{message}");
    assert_eq!(s.client.job(job).await?.status, JobStatus::Disputed);

    // A jury of two fresh blind replicas (the forger is a party, not a
    // voter) computes honestly and decides.
    let jury = [
        s.worker(0, 1)?,
        s.worker_as(s.operator.clone(), "operator-worker", 1, |_| {})?,
    ];
    fresh_replicas_decide(&s, &data, &jury, job, forged_hash).await?;
    let after = s.balances().await?;
    assert_eq!(
        after.stake_since(&before, "worker-1"),
        -(claim_stake as i128),
        "the forger loses its claim stake"
    );
    after.check_conservation(&before)?;
    Ok(())
}

/// `fresh` workers run until `job` is agreed again; the forged result must
/// have lost, and the owner's release then decrypts the verified result
/// only (its 2 videos).
async fn fresh_replicas_decide(
    s: &Scenario,
    data: &Dataset,
    fresh: &[blindfold_e2e::ScenarioWorker],
    job: JobId,
    forged_hash: Hash,
) -> Result<JobInfo> {
    let info = s
        .run_workers_until(fresh, job, TIMEOUT, status_is(JobStatus::Computed), nothing)
        .await?;
    assert_ne!(info.result_blob_hash, Some(forged_hash));
    let report = release(s, data, job).await?;
    assert!(
        matches!(report.outcome, ReleaseOutcome::Released { cohort: 2, .. }),
        "{report:?}"
    );
    assert_eq!(data.keys.decryptions(), 2, "the verified result only");
    Ok(info)
}

/// 10. Key recovery, replication 2: two colluding accounts take both slots
///     and agree on the same crafted result. The owner's release refuses
///     (sampled verification like full) and decrypts nothing, and rejects
///     the agreed result on chain with a bond; fresh blind replicas decide,
///     the colluders are slashed, and the correct result is then released.
async fn key_probe_colluding(chain: &str) -> Result<()> {
    let (_dir, s) = scenario(chain).await?;
    let data = s.dataset(&DatasetConfig::tiny(2)).await?;
    let colluders = [s.workers[1].clone(), s.workers[2].clone()];
    for c in &colluders {
        s.market().stake(c, 20 * UNIT).await?;
    }
    let job = s.request_lv_area(&data, 0).await?;
    offer_all(&s, &[&colluders[0], &colluders[1]], job).await?;
    let forged = key_probe_bundle(&s, job).await?;
    let forged_hash = s.client.store().put(forged.to_bytes()).await?;
    close_and_commit(&s, &[&colluders[0], &colluders[1]], job, forged_hash).await?;
    for c in &colluders {
        s.market().reveal(c, job, forged_hash).await?;
    }
    // Agreed on by both: open to challenge (its commitment is not set yet).
    let info = s.client.job(job).await?;
    assert_eq!(info.status, JobStatus::Challenge);
    assert_eq!(info.result_blob_hash, Some(forged_hash));

    let (_, claim_stake) = fees(&s).await?;
    let before = s.balances().await?;
    let options = ReleaseOptions {
        verify: Some(VerifyPolicy::Sample(0.5)),
        threads: Some(2),
        ..ReleaseOptions::default()
    };
    let refused = owner::release_job(&s.client, &s.owner, &data.keys, job, &options).await;
    let message = assert_refused_unverified(&s, &data, job, refused).await?;
    assert!(message.contains("2 of 2 submissions differ"), "{message}");
    assert!(message.contains("challenged on chain"), "{message}");
    let info = s.client.job(job).await?;
    assert_eq!((info.status, info.round), (JobStatus::Disputed, 1));
    assert_eq!(info.result_blob_hash, None, "the agreement is set aside");

    // A jury of fresh blind replicas decides (the colluders and the owner
    // are parties, not voters): the two jurors of rounds 1 and 2 (worker 0
    // and the operator's account, which neither colluded) agree.
    let fresh = [
        s.worker(0, 1)?,
        s.worker_as(s.operator.clone(), "operator-worker", 1, |_| {})?,
    ];
    let info = fresh_replicas_decide(&s, &data, &fresh, job, forged_hash).await?;
    assert_eq!(info.round, 2);
    let after = s.balances().await?;
    for colluder in ["worker-1", "worker-2"] {
        assert_eq!(
            after.stake_since(&before, colluder),
            -(claim_stake as i128),
            "{colluder} loses its claim stake"
        );
    }
    after.check_conservation(&before)?;
    Ok(())
}

/// 11. A third party's sealed challenge: a lone worker forges a result; a
///     challenger who recomputed it posts a sealed, bonded challenge in the
///     challenge window (nobody can copy or squat it), reveals once the
///     window closes, and a jury of fresh drawn replicas sides with it: the
///     forger is slashed, and the challenger is paid, like each juror, an
///     equal share of the fee reserve and of the forger's stake.
async fn sealed_challenge_overturns_a_forgery(chain: &str) -> Result<()> {
    let (_dir, s) = scenario(chain).await?;
    let mut cfg = DatasetConfig::tiny(2);
    cfg.replication = 1;
    let data = s.dataset(&cfg).await?;
    let (fee, claim_stake) = fees(&s).await?;
    let [challenger, forger, _] = s.workers.clone();
    for w in [&challenger, &forger] {
        s.market().stake(w, 20 * UNIT).await?;
    }
    let before = s.balances().await?;
    let job = s.request_lv_area(&data, 0).await?;
    let forged = s.client.store().put(b"a forged result".to_vec()).await?;
    offer_and_commit(&s, &[&forger], job, forged).await?;
    s.market().reveal(&forger, job, forged).await?;
    let info = s.client.job(job).await?;
    assert_eq!(info.status, JobStatus::Challenge);

    // The challenger recomputes and seals the correct result's commitment.
    let ctx = s.client.job_context(job, info.clone()).await?;
    let key = ctx.fetch_server_key(s.client.store()).await?;
    let honest = ctx
        .recompute(s.client.store(), key, &ctx.units(), Some(2), || {})
        .await?;
    let bytes = honest.bundle.to_bytes();
    let correct = blindfold_store::sha256(&bytes);
    s.commit_challenge(&challenger, job, correct).await?;
    let on_chain = s.client.job(job).await?;
    assert!(
        on_chain
            .claims
            .iter()
            .all(|c| c.result_blob_hash != Some(correct)),
        "a sealed challenge shows no result"
    );

    // The window closes; the challenger publishes and reveals.
    let now = s.market().chain().now().await?;
    s.advance(on_chain.deadline.saturating_sub(now) + 1_000)
        .await?;
    assert_eq!(
        s.market().advance(&s.researcher, job).await?,
        JobStatus::Revealing
    );
    s.client.store().put(bytes).await?;
    s.market().reveal(&challenger, job, correct).await?;
    assert_eq!(s.client.job(job).await?.status, JobStatus::Disputed);

    // A jury of two fresh drawn replicas decides (the forger and the
    // challenger are parties, not voters).
    let fresh = [
        s.worker(2, 1)?,
        s.worker_as(s.operator.clone(), "operator-worker", 1, |_| {})?,
    ];
    let info = s
        .run_workers_until(
            &fresh,
            job,
            TIMEOUT,
            status_is(JobStatus::Computed),
            nothing,
        )
        .await?;
    assert_eq!(info.result_blob_hash, Some(correct));
    release(&s, &data, job).await?;
    let after = s.balances().await?;
    assert_eq!(
        after.stake_since(&before, "worker-1"),
        -(claim_stake as i128),
        "the forger loses its stake"
    );
    assert_eq!(
        after.earned_since(&before, "worker-0"),
        (2 * fee / 3 + claim_stake / 3) as i128,
        "the challenger: a third of the fee reserve (two fees, replication 1) and of the \
         forger's stake, shared equally with the two jurors"
    );
    after.check_conservation(&before)?;
    Ok(())
}

/// What `watch` reported for one job: the dispute of an unverified
/// result, or the release, in words.
#[derive(Debug)]
struct Watched {
    job: JobId,
    disputed: Option<Dispute>,
    outcome: Option<ReleaseOutcome>,
    message: String,
}

impl Watched {
    fn of(job: JobId, result: &Result<ReleaseReport, ClientError>) -> Self {
        Watched {
            job,
            disputed: match result {
                Err(ClientError::Unverified { disputed, .. }) => Some(disputed.clone()),
                _ => None,
            },
            outcome: result.as_ref().ok().map(|r| r.outcome.clone()),
            message: match result {
                Ok(r) => format!("{r:?}"),
                Err(e) => e.to_string(),
            },
        }
    }
}

/// 12. A forged result whose challenge window closed before the owner
///     acted (`watch` hands over a `Challenge` job only then, and `reject`
///     under challenge is then refused): the owner's watch advances the job
///     to `Computed` and rejects the agreed forgery there. Nothing is
///     decrypted or released; a jury of two fresh blind replicas decides,
///     and a running watch verifies and releases the jury's result.
async fn late_forgery_disputed_by_watch(chain: &str) -> Result<()> {
    let (_dir, s) = scenario(chain).await?;
    let mut cfg = DatasetConfig::tiny(2);
    cfg.replication = 1;
    let data = s.dataset(&cfg).await?;
    let (_, claim_stake) = fees(&s).await?;
    let forger = s.workers[1].clone();
    s.market().stake(&forger, 20 * UNIT).await?;
    let before = s.balances().await?;
    let job = s.request_lv_area(&data, 0).await?;
    // The honest result with one byte of one ciphertext changed: a bundle
    // that parses, whatever the result format.
    let info = s.client.job(job).await?;
    let ctx = s.client.job_context(job, info).await?;
    let key = ctx.fetch_server_key(s.client.store()).await?;
    let mut forged = ctx
        .recompute(s.client.store(), key, &ctx.units(), Some(2), || {})
        .await?
        .bundle;
    let item = &mut forged.items[0].1;
    let at = item.len() / 2;
    item[at] ^= 0x40;
    let forged_hash = s.client.store().put(forged.to_bytes()).await?;
    offer_and_commit(&s, &[&forger], job, forged_hash).await?;
    s.market().reveal(&forger, job, forged_hash).await?;
    let info = s.client.job(job).await?;
    assert_eq!(info.status, JobStatus::Challenge);

    // The owner is away until the challenge window has closed; nobody
    // advances the job.
    let now = s.market().chain().now().await?;
    s.advance(info.deadline.saturating_sub(now) + 1_000).await?;
    assert_eq!(s.client.job(job).await?.status, JobStatus::Challenge);

    let options = ReleaseOptions {
        threads: Some(2),
        ..ReleaseOptions::default()
    };
    let mut seen = Vec::new();
    owner::watch(
        &s.client,
        &s.owner,
        &data.keys,
        &options,
        Duration::from_millis(200),
        true,
        |id, r| seen.push(Watched::of(id, r)),
    )
    .await?;
    let [report] = &seen[..] else {
        anyhow::bail!("one job to watch, one report: {seen:?}");
    };
    assert_eq!(report.job, job);
    let correct = match &report.disputed {
        Some(Dispute::Rejected {
            correct,
            advanced: true,
        }) => *correct,
        other => anyhow::bail!("not advanced and rejected: {other:?}: {}", report.message),
    };
    assert!(
        report.message.contains("refusing to decrypt"),
        "{}",
        report.message
    );
    assert_eq!(data.keys.decryptions(), 0, "nothing may be decrypted");
    let info = s.client.job(job).await?;
    assert_eq!((info.status, info.round), (JobStatus::Disputed, 1));
    assert_eq!(info.result_blob_hash, None, "the forgery is set aside");
    assert_eq!(info.released_hash, None, "no release hash on chain");
    assert!(
        info.claims.iter().any(|c| c.kind == ClaimKind::Owner
            && c.worker == s.owner.account()
            && c.result_blob_hash == Some(correct)),
        "the owner's rejection is on chain: {:?}",
        info.claims
    );
    assert!(
        researcher::fetch_result(&s.client, job, Some(&s.release_key))
            .await
            .is_err(),
        "no released blob"
    );

    // A jury of two fresh blind replicas decides while the owner watches;
    // the watch verifies the jury's result and releases it.
    let jury = [
        s.worker(0, 1)?,
        s.worker_as(s.operator.clone(), "operator-worker", 1, |_| {})?,
    ];
    // Until the watch reports on the job (the chain's status alone could
    // end the wait between the watch's `finalize` and its report).
    let later = std::sync::Mutex::new(Vec::new());
    let watching = owner::watch(
        &s.client,
        &s.owner,
        &data.keys,
        &options,
        Duration::from_millis(200),
        false,
        |id, r| later.lock().unwrap().push(Watched::of(id, r)),
    );
    let reported = |_: &JobInfo| later.lock().unwrap().iter().any(|w| w.job == job);
    let deciding = s.run_workers_until(&jury, job, TIMEOUT, reported, nothing);
    tokio::select! {
        stopped = watching => anyhow::bail!("watch stopped: {stopped:?}"),
        decided = deciding => decided?,
    };
    let later = later.into_inner().unwrap();
    assert!(
        matches!(
            later[..],
            [Watched {
                outcome: Some(ReleaseOutcome::Released { cohort: 2, .. }),
                ..
            }]
        ),
        "{later:?}"
    );
    let info = s.client.job(job).await?;
    assert_eq!(info.status, JobStatus::Finalized);
    assert_eq!(
        info.result_blob_hash,
        Some(correct),
        "the owner's result won"
    );
    assert_eq!(info.round, 2, "one juror per dispute round, two rounds");
    assert_eq!(data.keys.decryptions(), 2, "the verified result only");
    let after = s.balances().await?;
    assert_eq!(
        after.stake_since(&before, "worker-1"),
        -(claim_stake as i128),
        "the forger loses its claim stake"
    );
    after.check_conservation(&before)?;
    Ok(())
}

/// 13. Colluding workers agree on bytes that are no result bundle at all
///     (an honest bundle cut in half). The owner's release refuses as
///     unverified: nothing is decrypted or released, the owner's ledger
///     is untouched, and the agreed garbage is rejected on chain.
async fn garbage_agreed_bundle_refused(chain: &str) -> Result<()> {
    let (_dir, s) = scenario(chain).await?;
    let data = s.dataset(&DatasetConfig::tiny(2)).await?;
    let colluders = [s.workers[1].clone(), s.workers[2].clone()];
    for c in &colluders {
        s.market().stake(c, 20 * UNIT).await?;
    }
    let job = s.request_lv_area(&data, 0).await?;
    offer_all(&s, &[&colluders[0], &colluders[1]], job).await?;
    let info = s.client.job(job).await?;
    let ctx = s.client.job_context(job, info).await?;
    let key = ctx.fetch_server_key(s.client.store()).await?;
    let honest = ctx
        .recompute(s.client.store(), key, &ctx.units(), Some(2), || {})
        .await?
        .bundle
        .to_bytes();
    let truncated = honest[..honest.len() / 2].to_vec();
    assert!(
        ResultBundle::from_bytes(&truncated).is_err(),
        "not a bundle"
    );
    let garbage = s.client.store().put(truncated).await?;
    close_and_commit(&s, &[&colluders[0], &colluders[1]], job, garbage).await?;
    for c in &colluders {
        s.market().reveal(c, job, garbage).await?;
    }
    let info = s.client.job(job).await?;
    assert_eq!(info.status, JobStatus::Challenge);
    assert_eq!(info.result_blob_hash, Some(garbage));

    let ledger_path = Ledger::path(data.keys.dir(), &s.market().address(), data.id);
    let ledger = std::fs::read(&ledger_path)?;
    let files = key_files(&data)?;
    let refused = release(&s, &data, job).await;
    let refused = refused.map_err(|e| e.downcast::<ClientError>().expect("a client error"));
    let message = assert_refused_unverified(&s, &data, job, refused).await?;
    assert!(message.contains("agreed result"), "{message}");
    assert!(message.contains("challenged on chain"), "{message}");
    assert_eq!(
        std::fs::read(&ledger_path)?,
        ledger,
        "the ledger is byte for byte what it was"
    );
    assert_eq!(
        key_files(&data)?,
        files,
        "nothing saved in the key directory"
    );
    let info = s.client.job(job).await?;
    assert_eq!((info.status, info.round), (JobStatus::Disputed, 1));
    Ok(())
}

/// The files of the owner's key directory.
fn key_files(data: &Dataset) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(data.keys.dir())? {
        names.push(entry?.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

/// 14. A release under differential privacy survives a crash: the owner
///     posts the released hash without finalising, then "crashes" before
///     the blob reaches the store (here: the blob is taken out of it). The
///     next run publishes the saved blob, byte for byte the one whose hash
///     is on chain, decrypts nothing more and finalises; the dataset spent
///     the job's epsilon once. A crash before the hash was posted would
///     decide again from the same seed: the same noisy numbers.
async fn dp_release_survives_a_crash(chain: &str) -> Result<()> {
    let (_dir, s) = scenario(chain).await?;
    let mut cfg = DatasetConfig::tiny(3);
    cfg.dp_budget = Some(1_000);
    let data = s.dataset(&cfg).await?;
    let job = s.request_lv_area(&data, 500).await?;
    assert_eq!(s.market().dataset(data.id).await?.epsilon_spent, 500);
    two_workers_compute(&s, job).await?;

    let options = ReleaseOptions {
        threads: Some(2),
        finalize: false,
        ..ReleaseOptions::default()
    };
    let first = owner::release_job(&s.client, &s.owner, &data.keys, job, &options).await?;
    let released_hash = match &first.outcome {
        ReleaseOutcome::Released {
            released_hash,
            cohort: 3,
            dp: Some(_),
            ..
        } => *released_hash,
        other => anyhow::bail!("a noisy release of 3 videos: {other:?}"),
    };
    assert!(!first.finalized);
    let info = s.client.job(job).await?;
    assert_eq!(info.status, JobStatus::Released);
    assert_eq!(info.released_hash, Some(released_hash));
    let published = s.client.store().get(&released_hash, 1 << 30).await?;
    let numbers = researcher::fetch_result(&s.client, job, Some(&s.release_key)).await?;
    assert!(numbers.dp.is_some(), "{numbers:?}");
    let decrypted = data.keys.decryptions();
    let saved: Vec<_> = key_files(&data)?
        .into_iter()
        .filter(|f| f.starts_with("released-") && f.ends_with(&format!("-{job}.bin")))
        .collect();
    let [saved] = &saved[..] else {
        anyhow::bail!("one saved release: {saved:?}");
    };
    let saved = data.keys.dir().join(saved);
    assert_eq!(std::fs::read(&saved)?, published, "saved before publishing");

    // The crash: the hash is on chain, the blob never reached the store.
    std::fs::remove_file(s.client.store().path_of(&released_hash))?;
    assert!(!s.client.store().contains(&released_hash).await?);
    assert!(
        researcher::fetch_result(&s.client, job, Some(&s.release_key))
            .await
            .is_err()
    );

    // The retry publishes the saved blob and finalises.
    let options = ReleaseOptions {
        finalize: true,
        ..options
    };
    let second = owner::release_job(&s.client, &s.owner, &data.keys, job, &options).await?;
    assert_eq!(
        second.outcome,
        ReleaseOutcome::AlreadyReleased { released_hash }
    );
    assert!(second.finalized);
    assert_eq!(
        s.client.store().get(&released_hash, 1 << 30).await?,
        published,
        "the same bytes"
    );
    assert_eq!(
        researcher::fetch_result(&s.client, job, Some(&s.release_key)).await?,
        numbers
    );
    assert_eq!(
        data.keys.decryptions(),
        decrypted,
        "the retry decrypts nothing"
    );
    let info = s.client.job(job).await?;
    assert_eq!(info.status, JobStatus::Finalized);
    assert_eq!(info.released_hash, Some(released_hash));
    assert_eq!(
        s.market().dataset(data.id).await?.epsilon_spent,
        500,
        "epsilon spent once"
    );

    // Had the crash come before the hash went on chain, the next run would
    // decide again: from the same seed, the same numbers.
    let params = s.params_of(job).await?;
    let mut items = Vec::new();
    for (i, plain) in data.plain.iter().enumerate() {
        items.push(Decrypted {
            submission: i as u64,
            output: params.plaintext(plain)?,
        });
    }
    let seeded = |seed| ReleasePolicy {
        min_cohort: cfg.min_cohort,
        aggregates_only: cfg.aggregates_only,
        epsilon_milli: 500,
        seed,
    };
    let geometry = data.plain[0].geometry();
    let contract = s.market().address();
    let again = policy::decide(
        job,
        &params,
        &geometry,
        &items,
        &seeded(data.keys.dp_seed(&contract, job)),
    )?;
    assert_eq!(
        again,
        Decision::Release(numbers.clone()),
        "the same numbers"
    );
    let other = policy::decide(
        job,
        &params,
        &geometry,
        &items,
        &seeded(data.keys.dp_seed(&contract, job + 1)),
    )?;
    assert_ne!(
        other,
        Decision::Release(numbers),
        "another job's noise differs"
    );
    Ok(())
}

fn node_url() -> Option<String> {
    let url = std::env::var("BLINDFOLD_NODE_URL").ok();
    if url.is_none() {
        eprintln!("SKIPPED: BLINDFOLD_NODE_URL is not set (scripts/test.sh sets it when scripts/node.sh build has run)");
    }
    url
}

/// A lazy co-worker watches the shared store for a replica's result, to
/// commit the same hash without computing. Results stay private until the
/// commit phase closes: while the job waits for the second replica's
/// commitment, the first replica's result is nowhere in the store.
async fn results_private_until_commits_close(chain: &str) -> Result<()> {
    let (_dir, s) = scenario(chain).await?;
    let data = s.dataset(&DatasetConfig::tiny(2)).await?;
    // Both stake first, so that worker 0 has the rest of the offer window
    // (on a node it passes in real time) to fetch the keys and time its
    // first input before it offers.
    for w in &s.workers[..2] {
        s.market().stake(w, 20 * UNIT).await?;
    }
    let job = s.request_lv_area(&data, 0).await?;
    // The second replica (worker 1) offers now and computes later: both
    // offers fit the two slots, so both are drawn.
    s.offer(&s.workers[1], job).await?;
    let first = s.worker(0, 2)?;
    let me = s.workers[0].account();
    let info = s
        .run_workers_until(
            std::slice::from_ref(&first),
            job,
            TIMEOUT,
            move |j: &JobInfo| {
                j.claims
                    .iter()
                    .any(|c| c.worker == me && c.sealed.is_some())
            },
            nothing,
        )
        .await?;
    assert_eq!(
        info.status,
        JobStatus::Computing,
        "the second replica has not committed"
    );
    let result = first
        .state
        .job(job)
        .and_then(|r| r.result_hash())
        .expect("the first replica computed its result");
    assert!(
        !s.client.store().contains(&result).await?,
        "a committed result is in the shared store before the commit phase closed"
    );
    let info = s
        .run_workers_until(
            &[s.worker(0, 1)?, s.worker(1, 1)?],
            job,
            TIMEOUT,
            status_is(JobStatus::Computed),
            nothing,
        )
        .await?;
    assert_eq!(info.result_blob_hash, Some(result));
    assert!(
        s.client.store().contains(&result).await?,
        "published at reveal"
    );
    Ok(())
}

/// Bait: a researcher sets a deadline no worker can meet, hoping a worker
/// claims and is slashed for missing it. A worker times the first input,
/// extrapolates (here with an absurd safety margin, so that any job is too
/// big) and does not claim: it locks no stake.
async fn infeasible_job_not_claimed(chain: &str) -> Result<()> {
    let (_dir, s) = scenario(chain).await?;
    let data = s.dataset(&DatasetConfig::tiny(2)).await?;
    let job = s.request_lv_area(&data, 0).await?;
    let cautious = s.worker_with(0, 1, |c| c.safety_margin = 1e9)?;
    let w = cautious.clone();
    let skipped = move |_: &JobInfo| w.state.job(job).map(|r| r.phase) == Some(Phase::Skipped);
    let info = s
        .run_workers_until(
            std::slice::from_ref(&cautious),
            job,
            TIMEOUT,
            skipped,
            nothing,
        )
        .await?;
    assert!(info.claims.is_empty(), "{:?}", info.claims);
    let note = cautious
        .state
        .job(job)
        .and_then(|r| r.note)
        .unwrap_or_default();
    assert!(note.starts_with("infeasible"), "{note}");
    let worker = s.market().worker(&s.workers[0].account()).await?;
    assert_eq!((worker.locked, worker.open_claims), (0, 0));
    Ok(())
}

/// The CLI's event index gives the same inputs as a replay from genesis,
/// reads only new blocks on the next run, and is rebuilt when stale (here: a
/// file whose lists a reset chain would no longer match).
async fn event_index_matches_replay(chain: &str) -> Result<()> {
    let (dir, s) = scenario(chain).await?;
    let data = s.dataset(&DatasetConfig::tiny(3)).await?;
    let job = s.request_lv_area(&data, 0).await?;
    let path = dir.path().join("events.idx");
    let market = blindfold_market::Market::at(s.chain.clone(), s.market().address());
    let store = blindfold_store::DirStore::open(s.dir.join("store"))?;
    let indexed = blindfold_client::Client::new(market, store).with_event_index(path.clone());
    let replayed = s.client.job_context(job, s.client.job(job).await?).await?;
    let ctx = indexed.job_context(job, s.client.job(job).await?).await?;
    assert_eq!(ctx.inputs, replayed.inputs);
    assert_eq!(ctx.inputs.len(), 3);
    assert!(path.exists(), "the index is kept between runs");

    // Stale: the file claims other submissions for this dataset.
    let mut stale = blindfold_market::EventIndex::default();
    stale.apply(&[blindfold_market::BlockEvent {
        block: 0,
        event: blindfold_protocol::events::MarketEvent::SubmissionsAdded(
            blindfold_protocol::events::SubmissionsAdded {
                dataset_id: data.id,
                first_index: 0,
                blob_hashes: vec![[9; 32]; 3],
                count: 3,
                digest: [0; 32],
            },
        ),
    }]);
    stale.cursor = s.market().events(Default::default()).await?.1;
    stale.save(&path, &s.market().address())?;
    let ctx = indexed.job_context(job, s.client.job(job).await?).await?;
    assert_eq!(ctx.inputs, replayed.inputs, "rebuilt from genesis");
    Ok(())
}

/// The contract error of a failed market call, if that is why it failed.
fn refusal<T>(r: blindfold_market::Result<T>) -> Option<ContractError> {
    r.err().and_then(|e| e.contract_error())
}

/// The admin's powers, end to end: a code upgrade is announced, refused
/// before its delay, enacted after it (to the code already uploaded, so the
/// contract goes on answering; an unknown code hash is refused by the
/// runtime), and ownership moves only when the proposed owner accepts.
async fn admin_upgrade_and_handover(chain: &str) -> Result<()> {
    let (_dir, s) = scenario(chain).await?;
    let m = s.market();
    let wasm = std::fs::read(blindfold_e2e::wasm_path())?;
    let code_hash = blindfold_chain::code_hash(&wasm);
    let delay = m.state().await?.params.upgrade_delay;
    // What `blindfold chain info` shows: the deployed code's hash, which is
    // the release artifact's; an account with no contract has none.
    assert_eq!(m.code_hash().await?, Some(code_hash));
    assert_eq!(s.chain.code_hash(&s.owner.account()).await?, None);

    let not_owner = m.announce_upgrade(&s.researcher, code_hash).await;
    assert_eq!(refusal(not_owner), Some(ContractError::NotOwner));
    let nothing = m.enact_upgrade(&s.operator).await;
    assert_eq!(refusal(nothing), Some(ContractError::NoPendingUpgrade));

    m.announce_upgrade(&s.operator, [7; 32]).await?;
    let early = m.enact_upgrade(&s.operator).await;
    assert_eq!(refusal(early), Some(ContractError::UpgradeNotDue));
    s.advance(delay + 1_000).await?;
    let unknown = m.enact_upgrade(&s.operator).await;
    assert_eq!(refusal(unknown), Some(ContractError::SetCodeHashFailed));

    // A new announcement replaces the old one and starts its own delay.
    m.announce_upgrade(&s.operator, code_hash).await?;
    let pending = m.state().await?.pending_upgrade.expect("announced");
    assert_eq!(pending.code_hash, code_hash);
    let early = m.enact_upgrade(&s.operator).await;
    assert_eq!(refusal(early), Some(ContractError::UpgradeNotDue));
    s.advance(delay + 1_000).await?;
    m.enact_upgrade(&s.operator).await?;
    let state = m.state().await?;
    assert_eq!(state.pending_upgrade, None);
    assert_eq!(m.code_hash().await?, Some(code_hash));
    let (events, _) = m.events(Default::default()).await?;
    let set: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.event {
            blindfold_protocol::events::MarketEvent::CodeHashSet(c) => Some(c.code_hash),
            _ => None,
        })
        .collect();
    assert_eq!(set, [code_hash]);

    // Two-step handover: the admin stays until the proposed owner accepts.
    m.transfer_ownership(&s.operator, &s.owner.account())
        .await?;
    assert_eq!(m.state().await?.owner, s.operator.account());
    let wrong = m.accept_ownership(&s.researcher).await;
    assert_eq!(refusal(wrong), Some(ContractError::NotPendingOwner));
    m.accept_ownership(&s.owner).await?;
    let state = m.state().await?;
    assert_eq!(
        (state.owner, state.pending_owner),
        (s.owner.account(), None)
    );
    let old_admin = m.set_paused(&s.operator, true).await;
    assert_eq!(refusal(old_admin), Some(ContractError::NotOwner));
    Ok(())
}

macro_rules! on_both_chains {
    ($($case:ident => $embedded:ident, $node:ident;)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $embedded() -> Result<()> {
            $case("embedded").await
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        #[ignore = "needs a substrate-contracts-node: BLINDFOLD_NODE_URL"]
        async fn $node() -> Result<()> {
            match node_url() {
                Some(url) => $case(&url).await,
                None => Ok(()),
            }
        }
    )*};
}

on_both_chains! {
    happy_path => embedded_happy_path, node_happy_path;
    bfv_happy_path => embedded_bfv_happy_path, node_bfv_happy_path;
    sharded_job => embedded_sharded_job, node_sharded_job;
    dishonest_worker => embedded_dishonest_worker, node_dishonest_worker;
    claim_never_delivered => embedded_claim_never_delivered, node_claim_never_delivered;
    revoked_submission_excluded => embedded_revoked_submission_excluded, node_revoked_submission_excluded;
    bfv_revoked_submission_excluded => embedded_bfv_revoked_submission_excluded, node_bfv_revoked_submission_excluded;
    cohort_below_minimum => embedded_cohort_below_minimum, node_cohort_below_minimum;
    tampered_ciphertext_refused => embedded_tampered_ciphertext_refused, node_tampered_ciphertext_refused;
    bad_inputs_refused => embedded_bad_inputs_refused, node_bad_inputs_refused;
    verify_reruns => embedded_verify_reruns, node_verify_reruns;
    dp_budget_enforced => embedded_dp_budget_enforced, node_dp_budget_enforced;
    key_probe_alone => embedded_key_probe_alone, node_key_probe_alone;
    key_probe_colluding => embedded_key_probe_colluding, node_key_probe_colluding;
    sealed_challenge_overturns_a_forgery => embedded_sealed_challenge_overturns_a_forgery, node_sealed_challenge_overturns_a_forgery;
    late_forgery_disputed_by_watch => embedded_late_forgery_disputed_by_watch, node_late_forgery_disputed_by_watch;
    garbage_agreed_bundle_refused => embedded_garbage_agreed_bundle_refused, node_garbage_agreed_bundle_refused;
    dp_release_survives_a_crash => embedded_dp_release_survives_a_crash, node_dp_release_survives_a_crash;
    admin_upgrade_and_handover => embedded_admin_upgrade_and_handover, node_admin_upgrade_and_handover;
    results_private_until_commits_close => embedded_results_private_until_commits_close, node_results_private_until_commits_close;
    infeasible_job_not_claimed => embedded_infeasible_job_not_claimed, node_infeasible_job_not_claimed;
    event_index_matches_replay => embedded_event_index_matches_replay, node_event_index_matches_replay;
}
