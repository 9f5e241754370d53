//! Worker processes: the real `offchain-worker` binary, started against a
//! scenario's chain and blob store, as an operator runs it.
//!
//! - [`worker_binary`]: where this build's `offchain-worker` is;
//! - [`WorkerProcess`]: one running worker (its account, log and state file),
//!   stopped with SIGKILL (a crash) or SIGTERM (a graceful stop);
//! - [`Scenario::spawn_worker`] and [`Scenario::run_processes_until`]: start
//!   workers for the scenario's cast, and drive a job until it reaches a state.
//!
//! On the embedded chain the processes and the scenario share one chain
//! through its state file (`embedded:<file>`), which every operation locks;
//! on a node they share it as any two clients do.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use blindfold_chain::Signer;
use blindfold_protocol::types::{Account, JobId, JobInfo};
use blindfold_store::DirStore;

use crate::Scenario;

/// The `offchain-worker` binary of this build: beside the running binary (a
/// `blindfold-e2e` bin) or one directory up (a test, in `deps/`).
/// `scripts/test.sh` builds every binary first; by hand, `cargo build
/// --release -p blindfold-worker`.
pub fn worker_binary() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("the running binary's path")?;
    let name = format!("offchain-worker{}", std::env::consts::EXE_SUFFIX);
    exe.ancestors()
        .skip(1)
        .take(2)
        .map(|dir| dir.join(&name))
        .find(|bin| bin.is_file())
        .ok_or_else(|| {
            anyhow!(
                "no {name} beside {}: build it with `cargo build --release -p blindfold-worker` \
                 (scripts/test.sh does)",
                exe.display()
            )
        })
}

/// How a worker process runs.
#[derive(Clone, Debug)]
pub struct ProcessConfig {
    /// FHE threads (`--threads`).
    pub threads: usize,
    /// Jobs (or shards) computed at once (`--max-jobs`).
    pub max_jobs: usize,
    /// Chain poll interval (`--poll-ms`).
    pub poll_ms: u64,
}

impl Default for ProcessConfig {
    /// One FHE thread, one job at a time, a 100 ms poll: what the crash
    /// tests run with.
    fn default() -> Self {
        ProcessConfig {
            threads: 1,
            max_jobs: 1,
            poll_ms: 100,
        }
    }
}

/// One running `offchain-worker run`.
#[derive(Debug)]
pub struct WorkerProcess {
    child: Child,
    /// What it signs with.
    pub account: Account,
    /// Its name in the scenario: its log is `<dir>/<name>.log`, its state
    /// file `<dir>/<name>.json`.
    pub name: String,
    /// Its log (stderr, at `RUST_LOG=info`).
    pub log: PathBuf,
    /// Its state file (crash recovery).
    pub state: PathBuf,
}

impl WorkerProcess {
    /// Fails if the process has exited.
    pub fn check_running(&mut self) -> Result<()> {
        match self.child.try_wait()? {
            None => Ok(()),
            Some(status) => bail!(
                "worker {} exited early ({status}); its log: {}",
                self.name,
                self.log.display()
            ),
        }
    }

    /// SIGKILL: a crash, with no chance to clean up.
    pub fn kill(mut self) -> Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// SIGTERM, then waits: a graceful stop. Fails unless it exits with 0.
    pub fn terminate(mut self) -> Result<ExitStatus> {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status()?;
        if !sent.success() {
            bail!("kill -TERM {pid} failed: {sent}");
        }
        let status = self.child.wait()?;
        if !status.success() {
            bail!(
                "worker {} did not stop gracefully ({status}); its log: {}",
                self.name,
                self.log.display()
            );
        }
        Ok(status)
    }
}

impl Drop for WorkerProcess {
    /// A process left running by a failed case is killed, not leaked.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Scenario<DirStore> {
    /// Starts `offchain-worker run` for `self.worker_uris[i]` (the three
    /// workers, then the operator), on this scenario's chain, contract and
    /// store, with its state file and log under `self.dir` named `name`.
    pub fn spawn_worker(
        &self,
        i: usize,
        name: &str,
        config: &ProcessConfig,
    ) -> Result<WorkerProcess> {
        let uri = self
            .worker_uris
            .get(i)
            .ok_or_else(|| anyhow!("no worker {i}: a scenario has {}", self.worker_uris.len()))?;
        let account = Signer::from_uri(uri)?.account();
        let log = self.dir.join(format!("{name}.log"));
        let state = self.dir.join(format!("{name}.json"));
        let log_file = std::fs::File::create(&log).with_context(|| log.display().to_string())?;
        let child = Command::new(worker_binary()?)
            .arg("run")
            .args(["--chain", &self.chain_spec])
            .args(["--account", uri])
            .args(["--threads", &config.threads.to_string()])
            .args(["--max-jobs", &config.max_jobs.to_string()])
            .args(["--poll-ms", &config.poll_ms.to_string()])
            .arg("--store")
            .arg(self.dir.join("store"))
            .arg("--state")
            .arg(&state)
            .arg("--contract")
            .arg(format!("0x{}", hex::encode(self.market().address())))
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .context("start offchain-worker")?;
        Ok(WorkerProcess {
            child,
            account,
            name: name.to_string(),
            log,
            state,
        })
    }

    /// Drives `job` until `done(job)` holds while the worker processes
    /// `workers` compute it ([`Scenario::drive_until`]), then stops each
    /// gracefully. Fails if one exits early or after `timeout`.
    pub async fn run_processes_until(
        &self,
        workers: Vec<WorkerProcess>,
        job: JobId,
        timeout: Duration,
        done: impl Fn(&JobInfo) -> bool,
    ) -> Result<JobInfo> {
        let mut workers = workers;
        let accounts: Vec<Account> = workers.iter().map(|w| w.account).collect();
        let info = self
            .drive_until(
                &accounts,
                job,
                timeout,
                done,
                |_| async { Ok(()) },
                || {
                    workers
                        .iter_mut()
                        .try_for_each(WorkerProcess::check_running)
                },
            )
            .await?;
        for w in workers {
            w.terminate()?;
        }
        Ok(info)
    }
}

/// The state file of a worker process, parsed; `None` until it exists.
pub fn worker_state(path: &Path) -> Option<blindfold_worker::state::WorkerState> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}
