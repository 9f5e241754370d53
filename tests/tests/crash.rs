//! Crash safety of the real `offchain-worker` binary: killed with SIGKILL in
//! the middle of a job, restarted, it finishes the job without offering or
//! claiming twice, without recomputing the videos it had finished, and reveals; then
//! SIGTERM stops it gracefully.
//!
//! The test and the worker process share one embedded chain through its
//! state file (`--chain embedded:<file>`), as the CLI and a daemon do.

use std::path::Path;
use std::time::{Duration, Instant};

use blindfold_chain::Chain;
use blindfold_e2e::process::{worker_state, ProcessConfig};
use blindfold_e2e::{Dataset, DatasetConfig, Scenario};
use blindfold_protocol::events::MarketEvent;
use blindfold_protocol::types::{JobId, JobStatus};

/// A scenario whose chain is shared through `dir/chain.state`, with a
/// dataset of `videos` 16x16 videos at replication 1.
async fn scenario(dir: &Path, videos: usize) -> (Scenario, Dataset) {
    let chain = format!("embedded:{}", dir.join("chain.state").display());
    let s = Scenario::start(&chain, dir).await.unwrap();
    let mut cfg = DatasetConfig::tiny(videos);
    cfg.side = 16;
    cfg.replication = 1;
    let data = s.dataset(&cfg).await.unwrap();
    (s, data)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_job_resumes_without_claiming_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let (s, data) = scenario(tmp.path(), 3).await;
    let job = s.request_lv_area(&data, 0).await.unwrap();

    // First run: kill it as soon as two videos' results are saved (the
    // first it computes before offering, to time itself; the second after
    // it was drawn). The embedded clock moves only when told: the offer
    // window passes once the worker offered.
    let mut first = s
        .spawn_worker(0, "dave", &ProcessConfig::default())
        .unwrap();
    let started = Instant::now();
    let partial = loop {
        let info = s.client.job(job).await.unwrap();
        if info.status == JobStatus::Open && !info.offers.is_empty() {
            let now = s.market().chain().now().await.unwrap();
            s.advance(info.deadline.saturating_sub(now)).await.unwrap();
        }
        if let Some(st) = worker_state(&first.state) {
            if let Some(rec) = st.jobs.get(&job) {
                if rec.partial.len() >= 2 {
                    break rec.partial.clone();
                }
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the worker never finished a video"
        );
        first.check_running().unwrap();
        std::thread::sleep(Duration::from_millis(20));
    };
    let state_file = first.state.clone();
    first.kill().unwrap(); // SIGKILL: no chance to clean up
    let info = s.client.job(job).await.unwrap();
    assert_eq!(info.claims.len(), 1, "drawn before computing");
    assert!(info.claims[0].sealed.is_none(), "killed before committing");
    assert!(partial.len() < 3, "killed mid-job, not after it");

    // Second run: resumes and reveals.
    let mut second = s
        .spawn_worker(0, "dave", &ProcessConfig::default())
        .unwrap();
    let started = Instant::now();
    loop {
        let info = s.client.job(job).await.unwrap();
        if info.status == JobStatus::Challenge {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "job still {:?}",
            info.status
        );
        second.check_running().unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // SIGTERM: a graceful stop with status 0.
    let second_log = second.log.clone();
    second.terminate().unwrap();
    let second_log = std::fs::read_to_string(second_log).unwrap();

    // Exactly one offer and one claim by this worker, ever.
    let history = s.market().history().await.unwrap();
    let claims = history
        .events()
        .iter()
        .filter(|e| matches!(&e.event, MarketEvent::JobClaimed(c) if c.job_id == job))
        .count();
    assert_eq!(claims, 1, "claimed once across the crash");
    let offers = history
        .events()
        .iter()
        .filter(|e| matches!(&e.event, MarketEvent::Offered(o) if o.job_id == job))
        .count();
    assert_eq!(offers, 1, "offered once across the crash");
    // The videos finished before the kill were reused, not recomputed.
    let final_state = worker_state(&state_file).unwrap();
    let rec = &final_state.jobs[&job];
    for (index, hash) in &partial {
        assert_eq!(rec.partial.get(index), Some(hash));
    }
    assert_eq!(
        second_log
            .matches("reusing the result computed before a restart")
            .count(),
        partial.len(),
        "{second_log}"
    );
    assert!(second_log.contains("revealed"), "{second_log}");
    assert!(second_log.contains("worker stopped"), "{second_log}");
    let info = s.client.job(job).await.unwrap();
    assert_eq!(
        info.claims[0].result_blob_hash,
        rec.result.as_deref().map(|h| {
            let v = hex::decode(h).unwrap();
            <[u8; 32]>::try_from(v).unwrap()
        })
    );
}

/// The same guarantees per shard, with two worker processes sharing one
/// sharded job: `//Dave` is killed in the middle of its shard while `//Eve`
/// computes another; restarted, Dave finishes its shard without offering
/// for it or claiming it twice and without recomputing the videos it had
/// saved, and the job is `Computed` once every shard agreed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_shard_resumes_its_shard_while_another_process_computes() {
    let tmp = tempfile::tempdir().unwrap();
    let (s, data) = scenario(tmp.path(), 8).await;
    let job = s
        .request_lv_area_sharded(&data, 0, 3_600_000, 4)
        .await
        .unwrap();
    let shards: Vec<JobId> = (job + 1..=job + 2).collect();
    assert_eq!(s.client.job(job).await.unwrap().shards, 2);

    // First run: kill Dave once two videos of a shard it was drawn for are
    // saved (its state file names the shard).
    let mut dave = s
        .spawn_worker(0, "dave", &ProcessConfig::default())
        .unwrap();
    let mut eve = s.spawn_worker(1, "eve", &ProcessConfig::default()).unwrap();
    let accounts = [dave.account, eve.account];
    let dave_state = dave.state.clone();
    let mid_shard = || {
        worker_state(&dave_state).and_then(|st| {
            st.jobs
                .iter()
                .find(|(id, rec)| shards.contains(id) && rec.partial.len() >= 2)
                .map(|(id, rec)| (*id, rec.partial.clone()))
        })
    };
    s.drive_until(
        &accounts,
        job,
        Duration::from_secs(600),
        |_| mid_shard().is_some(),
        |_| async { Ok(()) },
        || {
            dave.check_running()?;
            eve.check_running()
        },
    )
    .await
    .unwrap();
    let (shard, partial) = mid_shard().unwrap();
    dave.kill().unwrap(); // SIGKILL: no chance to clean up
    let info = s.client.job(shard).await.unwrap();
    let (_, claim) = info.claim_of(&accounts[0]).expect("drawn before computing");
    assert!(claim.sealed.is_none(), "killed before committing");
    assert!(partial.len() < 4, "killed mid-shard, not after it");

    // Second run: Dave resumes its shard; both run until the job agreed.
    let dave = s
        .spawn_worker(0, "dave", &ProcessConfig::default())
        .unwrap();
    let dave_log = dave.log.clone();
    let info = s
        .run_processes_until(vec![dave, eve], job, Duration::from_secs(600), |j| {
            j.status == JobStatus::Computed
        })
        .await
        .unwrap();
    assert_eq!(info.shards_computed, 2);

    // Dave offered for and claimed its shard once across the crash, and
    // reused the videos it had saved.
    let history = s.market().history().await.unwrap();
    let count = |matches: &dyn Fn(&MarketEvent) -> bool| {
        history
            .events()
            .iter()
            .filter(|e| matches(&e.event))
            .count()
    };
    assert_eq!(
        count(
            &|e| matches!(e, MarketEvent::JobClaimed(c) if c.job_id == shard && c.worker == accounts[0])
        ),
        1,
        "claimed its shard once across the crash"
    );
    assert_eq!(
        count(
            &|e| matches!(e, MarketEvent::Offered(o) if o.job_id == shard && o.worker == accounts[0])
        ),
        1,
        "offered for its shard once across the crash"
    );
    let rec = &worker_state(&dave_state).unwrap().jobs[&shard];
    for (index, hash) in &partial {
        assert_eq!(rec.partial.get(index), Some(hash));
    }
    let log = std::fs::read_to_string(dave_log).unwrap();
    assert_eq!(
        log.matches("reusing the result computed before a restart")
            .count(),
        partial.len(),
        "{log}"
    );
    // Every shard agreed on a result, and Eve computed one of them.
    let mut eve_shards = 0;
    for id in &shards {
        let info = s.client.job(*id).await.unwrap();
        assert_eq!(info.status, JobStatus::Computed, "shard {id}");
        assert!(info.result_blob_hash.is_some(), "shard {id} agreed");
        eve_shards += usize::from(info.claim_of(&accounts[1]).is_some());
    }
    assert!(eve_shards >= 1, "the second process computed a shard");
}
