//! Typed access to the Blindfold marketplace contract, for every role.
//!
//! `blindfold-chain` moves SCALE bytes; this crate gives them meaning. Parts:
//!
//! - [`contract`]: [`Market`], one async method per contract message and
//!   query, with the contract's own [`Error`](blindfold_protocol::Error)
//!   surfaced as [`MarketError::Contract`]; decoded [`events`](Market::events).
//! - [`inputs`]: [`DatasetInputs`], the submission list of a dataset rebuilt
//!   from events and checked against the input digest a job bound.
//! - [`index`]: [`EventIndex`], every dataset's lists kept up to date from
//!   the events (and in a file between CLI runs), so finding a job's inputs
//!   does not replay the chain from genesis.
//!
//! It knows nothing of FHE: the blob formats whose hashes the chain records
//! live in `blindfold-job`'s `blobs`.
//!
//! Plus [`commitment`], the one function every worker and verifier uses to
//! commit to a result, and [`default_params`], the contract settings the
//! demo and tests deploy with.

pub mod contract;
pub mod index;
pub mod inputs;

pub use contract::{BlockEvent, Market, MarketError, Result};
pub use index::EventIndex;
pub use inputs::{DatasetInputs, Input, InputMismatch};

use blindfold_chain::{Chain, Cursor};
use blindfold_protocol::hash::Sha2;
use blindfold_protocol::types::{DatasetId, Hash, JobId, JobInfo, Params};

/// One unit of the dev chains' token (12 decimals), re-exported from
/// `blindfold-protocol`, where it is defined beside `Balance`.
pub use blindfold_protocol::UNIT;

/// The commitment a worker posts (sealed) and reveals for `job` and the
/// SHA-256 of its result bundle. The contract recomputes the same bytes.
pub fn commitment(job_id: JobId, job: &JobInfo, result_blob_hash: &Hash) -> Hash {
    job.commitment_with::<Sha2>(job_id, result_blob_hash)
}

/// Contract settings for demos and tests: a 1-unit worker fee, a 10-unit
/// claim stake, a 30-second offer window, windows of minutes (compute up to
/// a day; a job's challenge and tie-break windows grow to its compute
/// window) and a one-day upgrade delay.
pub fn default_params() -> Params {
    Params {
        worker_fee: UNIT,
        claim_stake: 10 * UNIT,
        min_compute_window: 60_000,
        max_compute_window: 86_400_000,
        offer_window: 30_000,
        reveal_window: 600_000,
        challenge_window: 600_000,
        tiebreak_window: 3_600_000,
        release_window: 3_600_000,
        upgrade_delay: 86_400_000,
    }
}

/// Marketplace events read so far and where to resume: a cache that
/// [`refresh`](EventLog::refresh) extends with only the new blocks, with
/// an [`EventIndex`] of every dataset's inputs kept beside it.
#[derive(Clone, Debug, Default)]
pub struct EventLog {
    cursor: Cursor,
    events: Vec<BlockEvent>,
    index: EventIndex,
}

impl EventLog {
    /// Reads the blocks since the last refresh; returns how many events were new.
    pub async fn refresh<C: Chain>(&mut self, market: &Market<C>) -> Result<usize> {
        let (new, next) = market.events(self.cursor).await?;
        let count = new.len();
        self.extend(new, next);
        Ok(count)
    }

    /// Appends `new`, the events read up to (not including) `next`, keeping
    /// the index in step.
    fn extend(&mut self, new: Vec<BlockEvent>, next: Cursor) {
        self.index.apply(&new);
        self.index.cursor = next;
        self.events.extend(new);
        self.cursor = next;
    }

    /// Where the next read starts.
    pub fn cursor(&self) -> Cursor {
        self.cursor
    }

    /// Every event read, in chain order.
    pub fn events(&self) -> &[BlockEvent] {
        &self.events
    }

    /// A dataset's submissions and revocations as of the last refresh.
    pub fn dataset_inputs(&self, dataset: DatasetId) -> DatasetInputs {
        self.index.dataset_inputs(dataset)
    }
}

impl<C: Chain> Market<C> {
    /// Every marketplace event since genesis.
    pub async fn history(&self) -> Result<EventLog> {
        let mut log = EventLog::default();
        log.refresh(self).await?;
        Ok(log)
    }
}
