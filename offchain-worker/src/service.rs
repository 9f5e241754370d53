//! The worker's event loop, in the shape of mini-redis's server:
//! `run(worker, shutdown)` polls the chain, spawns one task per job (at
//! most `max_jobs` computing at once), and on shutdown stops taking jobs,
//! lets running tasks stop at their next step boundary, and waits for them.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;

use blindfold_chain::Chain;
use blindfold_market::{BlockEvent, EventIndex};
use blindfold_protocol::events::MarketEvent;
use blindfold_protocol::types::JobId;
use blindfold_protocol::Error as ContractError;
use blindfold_store::BlobStore;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::job::Outcome;
use crate::retry::with_backoff;
use crate::{Worker, WorkerError};

impl<C: Chain + 'static, S: BlobStore + 'static> Worker<C, S> {
    /// Stakes `config.stake` when the worker's free stake cannot cover one
    /// claim (or it never staked).
    pub async fn ensure_staked(&self) -> Result<(), WorkerError> {
        let me = self.signer.account();
        let claim_stake = with_backoff("read state", || self.market.state())
            .await?
            .params
            .claim_stake;
        let free = match self.market.worker(&me).await {
            Ok(info) => info.free(),
            Err(e) if e.contract_error() == Some(ContractError::NotWorker) => 0,
            Err(e) => return Err(e.into()),
        };
        if free < claim_stake {
            let total = with_backoff("stake", || {
                self.market.stake(&self.signer, self.config.stake)
            })
            .await?;
            tracing::info!(account = %hex::encode(me), staked = self.config.stake, total, "staked");
        }
        Ok(())
    }

    /// Jobs worth a look after reading `new` events (those from `from_block`
    /// on count): new requests, disputes (a tie-break slot opened), and jobs
    /// the state file left unfinished, these first.
    ///
    /// The new ones come in an order of this worker's own
    /// (`SHA-256(account ‖ job id)`), the order its tasks take the job
    /// permits in: a sharded request opens many shards at once, and
    /// workers that each took them in id order would all offer for the
    /// first and leave the rest waiting.
    fn candidates(&self, new: &[BlockEvent], from_block: u64) -> Vec<JobId> {
        let state = self.state.snapshot();
        let mut unfinished: Vec<JobId> = state
            .jobs
            .iter()
            .filter(|(_, r)| !r.phase.is_final())
            .map(|(id, _)| *id)
            .collect();
        unfinished.sort_unstable();
        let mut new_jobs = Vec::new();
        for e in new.iter().filter(|e| e.block >= from_block) {
            match &e.event {
                MarketEvent::JobRequested(r) if !state.jobs.contains_key(&r.job_id) => {
                    new_jobs.push(r.job_id)
                }
                MarketEvent::JobDisputed(d) => new_jobs.push(d.job_id),
                _ => {}
            }
        }
        let me = self.signer.account();
        let key = |job: &JobId| {
            let mut bytes = me.to_vec();
            bytes.extend_from_slice(&job.to_be_bytes());
            blindfold_store::sha256(&bytes)
        };
        new_jobs.sort_by_cached_key(key);
        new_jobs.retain(|j| !unfinished.contains(j));
        new_jobs.dedup();
        unfinished.extend(new_jobs);
        unfinished
    }
}

/// Runs the worker until `shutdown` completes or a fatal error occurs.
pub async fn run<C, S>(
    worker: Arc<Worker<C, S>>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), WorkerError>
where
    C: Chain + 'static,
    S: BlobStore + 'static,
{
    worker.ensure_staked().await?;
    tracing::info!(
        account = %hex::encode(worker.signer.account()),
        chain = %worker.market.chain().describe(),
        threads = worker.config.threads,
        max_jobs = worker.config.max_jobs,
        "worker running"
    );
    let permits = Arc::new(Semaphore::new(worker.config.max_jobs));
    let mut tasks: JoinSet<(JobId, Result<Outcome, WorkerError>)> = JoinSet::new();
    let mut running: HashSet<JobId> = HashSet::new();
    // Every dataset's inputs, from the events read so far (a job's inputs
    // come from here); the events themselves are not kept.
    let mut index = EventIndex::default();
    tokio::pin!(shutdown);

    let result = loop {
        let from_block = worker.state.snapshot().next_block;
        let cursor = index.cursor;
        let new = match with_backoff("read events", || worker.market.events(cursor)).await {
            Ok((new, next)) => {
                index.apply(&new);
                index.cursor = next;
                new
            }
            Err(e) => break Err(e.into()),
        };
        // Tasks share one snapshot of the index, taken only when one starts.
        let mut snapshot: Option<Arc<EventIndex>> = None;
        for job_id in worker.candidates(&new, from_block) {
            if !running.insert(job_id) {
                continue;
            }
            let index = snapshot
                .get_or_insert_with(|| Arc::new(index.clone()))
                .clone();
            let (worker, permits) = (worker.clone(), permits.clone());
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await;
                (job_id, worker.process(job_id, &index).await)
            });
        }
        if let Err(e) = worker
            .state
            .update(|s| s.next_block = index.cursor.next_block)
        {
            break Err(e);
        }

        // Wait for the next poll, a finished task, or shutdown.
        tokio::select! {
            _ = &mut shutdown => break Ok(()),
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                if let Ok((job_id, outcome)) = done {
                    running.remove(&job_id);
                    report(job_id, outcome);
                }
            }
            _ = tokio::time::sleep(worker.config.poll) => {}
        }
    };

    tracing::info!("shutting down: waiting for running jobs to reach a safe point");
    worker.request_shutdown();
    while let Some(done) = tasks.join_next().await {
        if let Ok((job_id, outcome)) = done {
            report(job_id, outcome);
        }
    }
    tracing::info!("worker stopped");
    result
}

fn report(job_id: JobId, outcome: Result<Outcome, WorkerError>) {
    match outcome {
        Ok(Outcome::Revealed) => tracing::info!(job = job_id, "done: result revealed"),
        Ok(Outcome::Skipped(why)) => tracing::debug!(job = job_id, "done: skipped ({why})"),
        Err(WorkerError::Shutdown) => {
            tracing::info!(job = job_id, "paused for shutdown; resumes on restart")
        }
        Err(e @ WorkerError::Refused { .. }) => tracing::error!(job = job_id, "{}", causes(&e)),
        Err(e) => tracing::error!(
            job = job_id,
            "failed: {}; will retry at the next poll",
            causes(&e)
        ),
    }
}

/// `e` and its causes, each in its own words: `a: b: c`.
fn causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cause_is_printed_once() {
        let e = WorkerError::State {
            path: "/x/state.json".into(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "gone"),
        };
        assert_eq!(
            causes(&e),
            "cannot read or write the worker state /x/state.json: gone"
        );
        let store = WorkerError::Store(blindfold_store::StoreError::Io {
            path: "/s".into(),
            source: std::io::Error::other("disk full"),
        });
        assert_eq!(causes(&store), "i/o error on /s: disk full");
    }
}
