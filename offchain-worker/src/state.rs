//! Crash-safe worker state: one JSON file, rewritten atomically on every
//! change (temporary file, fsync, rename), so a worker killed at any point
//! restarts from the last step it completed.
//!
//! The chain stays the source of truth for what the worker *did* on chain
//! (its offer, its claim, its sealed commitment, its reveal); this file
//! remembers what only the worker knows: the event cursor, the secret behind
//! each offer (written before the offer is sent, so a restart can still
//! reveal it for a draw), and the result blobs it already computed, per
//! unit, so a restart never recomputes finished work.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use blindfold_protocol::types::{Hash, JobId};
use serde::{Deserialize, Serialize};

use crate::WorkerError;

const STATE_VERSION: u32 = 1;

/// Where one job stands, as far as this worker knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Seen; inputs being checked, or an offer being sent.
    Preparing,
    /// Offered for a slot; waiting for the draw.
    Offered,
    /// Drawn (claimed); computing.
    Claimed,
    /// Result bundle stored; commit next.
    Computed,
    /// Sealed commitment posted; reveal next.
    Committed,
    /// Revealed: nothing left for this worker to do.
    Revealed,
    /// Refused (bad inputs) or not ours to take (not drawn, infeasible).
    Skipped,
}

impl Phase {
    /// Whether the worker has nothing more to do for the job.
    pub fn is_final(self) -> bool {
        matches!(self, Phase::Revealed | Phase::Skipped)
    }
}

/// What the worker remembers of one job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRecord {
    /// The phase reached.
    pub phase: Phase,
    /// Per unit (by its first submission index): hex SHA-256 of its stored
    /// result item.
    #[serde(default)]
    pub partial: BTreeMap<u64, String>,
    /// Hex SHA-256 of the stored result bundle.
    #[serde(default)]
    pub result: Option<String>,
    /// Why the job was skipped.
    #[serde(default)]
    pub note: Option<String>,
    /// Milliseconds per input this worker took for the job's first unit,
    /// measured before claiming (the feasibility check).
    #[serde(default)]
    pub input_ms: Option<u64>,
    /// Per round: hex of the secret behind this worker's offer (its seed
    /// hash is on chain), kept to reveal it if the round needs a draw.
    #[serde(default)]
    pub secrets: BTreeMap<u8, String>,
}

impl JobRecord {
    pub(crate) fn new() -> Self {
        JobRecord {
            phase: Phase::Preparing,
            partial: BTreeMap::new(),
            result: None,
            note: None,
            input_ms: None,
            secrets: BTreeMap::new(),
        }
    }

    /// The result bundle hash, when computed.
    pub fn result_hash(&self) -> Option<Hash> {
        self.result.as_deref().and_then(parse_hash)
    }
}

/// Parses 64 hex digits.
pub fn parse_hash(hex_str: &str) -> Option<Hash> {
    hex::decode(hex_str).ok()?.try_into().ok()
}

/// The whole persisted state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerState {
    /// File format version.
    pub version: u32,
    /// The account this state belongs to (hex), so two workers never share a file.
    pub account: String,
    /// The next block of marketplace events to read.
    pub next_block: u64,
    /// Jobs seen.
    pub jobs: BTreeMap<JobId, JobRecord>,
    /// This worker's measured throughput, per scheme (`"tfhe"`, `"bfv"`):
    /// the expensive operations its units ran and the time they took. The
    /// feasibility check prices a job's operation count with it.
    #[serde(default)]
    pub throughput: BTreeMap<String, Throughput>,
}

/// Expensive operations run (TFHE bootstraps; BFV multiplications and
/// rotations) and the milliseconds they took, summed over computed units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Throughput {
    /// Operations run.
    pub ops: u64,
    /// Milliseconds taken.
    pub millis: u64,
}

impl Throughput {
    /// Milliseconds per operation, once anything was measured.
    pub fn millis_per_op(&self) -> Option<f64> {
        (self.ops > 0).then(|| self.millis as f64 / self.ops as f64)
    }
}

/// The state file and its in-memory copy.
#[derive(Debug)]
pub struct StateFile {
    path: PathBuf,
    state: Mutex<WorkerState>,
}

impl StateFile {
    /// Opens (or creates) the state of `account` at `path`.
    pub fn open(path: &Path, account: &str) -> Result<Self, WorkerError> {
        let io = |source| WorkerError::State {
            path: path.to_path_buf(),
            source,
        };
        let state = match std::fs::read(path) {
            Ok(bytes) => {
                let state: WorkerState =
                    serde_json::from_slice(&bytes).map_err(|e| WorkerError::CorruptState {
                        path: path.to_path_buf(),
                        reason: e.to_string(),
                    })?;
                if state.version != STATE_VERSION {
                    return Err(WorkerError::CorruptState {
                        path: path.to_path_buf(),
                        reason: format!(
                            "format version {} (expected {STATE_VERSION})",
                            state.version
                        ),
                    });
                }
                if state.account != account {
                    return Err(WorkerError::CorruptState {
                        path: path.to_path_buf(),
                        reason: format!(
                            "it belongs to account {}, not {account}: give each worker its own --state",
                            state.account
                        ),
                    });
                }
                state
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(io)?;
                }
                WorkerState {
                    version: STATE_VERSION,
                    account: account.to_string(),
                    ..Default::default()
                }
            }
            Err(e) => return Err(io(e)),
        };
        let file = StateFile {
            path: path.to_path_buf(),
            state: Mutex::new(state),
        };
        file.update(|_| ())?;
        Ok(file)
    }

    /// A copy of the current state.
    pub fn snapshot(&self) -> WorkerState {
        self.lock().clone()
    }

    /// The record of `job`, if any.
    pub fn job(&self, job: JobId) -> Option<JobRecord> {
        self.lock().jobs.get(&job).cloned()
    }

    /// This worker's measured throughput under `scheme`, if any.
    pub fn throughput(&self, scheme: &str) -> Option<Throughput> {
        self.lock().throughput.get(scheme).copied()
    }

    /// Applies `f` to the state and writes it out atomically.
    pub fn update<T>(&self, f: impl FnOnce(&mut WorkerState) -> T) -> Result<T, WorkerError> {
        let mut state = self.lock();
        let out = f(&mut state);
        let bytes = serde_json::to_vec_pretty(&*state).unwrap_or_default();
        write_atomic(&self.path, &bytes).map_err(|source| WorkerError::State {
            path: self.path.clone(),
            source,
        })?;
        Ok(out)
    }

    /// Applies `f` to the record of `job` (created when missing) and saves.
    pub fn update_job<T>(
        &self,
        job: JobId,
        f: impl FnOnce(&mut JobRecord) -> T,
    ) -> Result<T, WorkerError> {
        self.update(|s| f(s.jobs.entry(job).or_insert_with(JobRecord::new)))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, WorkerState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throughput_prices_an_operation() {
        assert_eq!(Throughput::default().millis_per_op(), None);
        let t = Throughput {
            ops: 400,
            millis: 10_000,
        };
        assert_eq!(t.millis_per_op(), Some(25.0));
    }

    #[test]
    fn survives_reopen_and_refuses_other_accounts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w/state.json");
        let s = StateFile::open(&path, "aa").unwrap();
        s.update_job(3, |r| {
            r.phase = Phase::Claimed;
            r.partial.insert(0, "00".repeat(32));
        })
        .unwrap();
        s.update(|st| st.next_block = 9).unwrap();
        drop(s);
        let s = StateFile::open(&path, "aa").unwrap();
        let snap = s.snapshot();
        assert_eq!(snap.next_block, 9);
        assert_eq!(snap.jobs[&3].phase, Phase::Claimed);
        assert_eq!(snap.jobs[&3].partial.len(), 1);
        let err = StateFile::open(&path, "bb").unwrap_err();
        assert!(err.to_string().contains("belongs to account aa"), "{err}");
        std::fs::write(&path, b"{ not json").unwrap();
        let err = StateFile::open(&path, "aa").unwrap_err();
        assert!(err.to_string().contains("corrupt"), "{err}");
    }
}
