//! Crash safety of the real `offchain-worker` binary: killed with SIGKILL in
//! the middle of a job, restarted, it finishes the job without offering or
//! claiming twice, without recomputing the videos it had finished, and reveals; then
//! SIGTERM stops it gracefully.
//!
//! The test and the worker process share one embedded chain through its
//! state file (`--chain embedded:<file>`), as the CLI and a daemon do.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use blindfold_chain::Chain;
use blindfold_e2e::{DatasetConfig, Scenario};
use blindfold_protocol::events::MarketEvent;
use blindfold_protocol::types::JobStatus;
use blindfold_worker::state::WorkerState;

/// The `offchain-worker` binary of this build: beside the test binary's
/// `deps/` directory (`scripts/test.sh` builds every binary first; by hand,
/// `cargo build --release -p blindfold-worker`). The worker package does not
/// depend on this harness, so the test lives here, not there.
fn worker_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>");
    let bin = dir.join(format!("offchain-worker{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} is missing: build it with `cargo build --release -p blindfold-worker` \
         (scripts/test.sh does)",
        bin.display()
    );
    bin
}

fn spawn_worker(dir: &Path, chain: &str, contract: &[u8; 32], log: &str) -> Child {
    let log = std::fs::File::create(dir.join(log)).expect("log file");
    Command::new(worker_binary())
        .args([
            "run",
            "--chain",
            chain,
            "--account",
            "//Dave",
            "--threads",
            "1",
            "--poll-ms",
            "100",
        ])
        .arg("--store")
        .arg(dir.join("store"))
        .arg("--state")
        .arg(dir.join("dave.json"))
        .arg("--contract")
        .arg(format!("0x{}", hex::encode(contract)))
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start offchain-worker")
}

fn state(dir: &Path) -> Option<WorkerState> {
    serde_json::from_slice(&std::fs::read(dir.join("dave.json")).ok()?).ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_job_resumes_without_claiming_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let chain = format!("embedded:{}", dir.join("chain.state").display());
    let s = Scenario::start(&chain, dir).await.unwrap();
    let mut cfg = DatasetConfig::tiny(3);
    cfg.side = 16;
    cfg.replication = 1;
    let data = s.dataset(&cfg).await.unwrap();
    let job = s.request_lv_area(&data, 0).await.unwrap();
    let contract = s.market().address();

    // First run: kill it as soon as two videos' results are saved (the
    // first it computes before offering, to time itself; the second after
    // it was drawn). The embedded clock moves only when told: the offer
    // window passes once the worker offered.
    let mut first = spawn_worker(dir, &chain, &contract, "first.log");
    let started = Instant::now();
    let partial = loop {
        let info = s.client.job(job).await.unwrap();
        if info.status == JobStatus::Open && !info.offers.is_empty() {
            let now = s.market().chain().now().await.unwrap();
            s.advance(info.deadline.saturating_sub(now)).await.unwrap();
        }
        if let Some(st) = state(dir) {
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
        assert!(
            first.try_wait().unwrap().is_none(),
            "the worker exited early"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    first.kill().unwrap(); // SIGKILL: no chance to clean up
    first.wait().unwrap();
    let info = s.client.job(job).await.unwrap();
    assert_eq!(info.claims.len(), 1, "drawn before computing");
    assert!(info.claims[0].sealed.is_none(), "killed before committing");
    assert!(partial.len() < 3, "killed mid-job, not after it");

    // Second run: resumes and reveals.
    let mut second = spawn_worker(dir, &chain, &contract, "second.log");
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
        assert!(
            second.try_wait().unwrap().is_none(),
            "the restarted worker exited early"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // SIGTERM: a graceful stop with status 0.
    let pid = second.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let status = second.wait().unwrap();
    assert!(status.success(), "graceful shutdown exits 0, got {status}");

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
    let final_state = state(dir).unwrap();
    let rec = &final_state.jobs[&job];
    for (index, hash) in &partial {
        assert_eq!(rec.partial.get(index), Some(hash));
    }
    let second_log = std::fs::read_to_string(dir.join("second.log")).unwrap();
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
