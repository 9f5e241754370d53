//! The Blindfold client: every role's logic, as a library the `blindfold`
//! binary, the end-to-end tests and the demo all call in-process.
//!
//! Everything runs against a [`Client`]: the marketplace contract on some
//! chain `C: Chain` and a blob store `S: BlobStore`. The account that signs
//! is passed to each call, so one client serves several roles (as in tests).
//!
//! Parts, in the order of a job's life:
//!
//! - [`config`]: where the chain, store, account, contract and key directory
//!   come from (flag > environment > config file > default).
//! - [`keys`]: the data owner's key directory (`client.key`, mode 0600, never printed).
//! - [`sources`]: EchoNet directories, DICOM files and the synthetic
//!   generator, and the preprocessing recorded in the dataset metadata.
//! - [`owner`]: the data owner: `keygen`, `register`, `submit_videos`,
//!   `revoke`, `release_job` (verify before decrypt), `watch`, `withdraw`.
//! - [`policy`]: what a release may contain (minimum cohort, aggregates
//!   only, integer discrete-Laplace noise); pure functions.
//! - [`researcher`]: `list_datasets`, `request_job`, `job_status`,
//!   `fetch_result`, and the result table.
//! - [`seal`]: sealed releases, encrypted to the researcher's `age` key.
//! - [`plot`]: the researcher's PNG plots (area over time, EF histogram).
//! - [`verify`]: anyone re-runs a job from public data and compares commitments.
//! - [`operator`]: deploying the contract; the embedded chain's clock and faucet.
//! - [`units`]: token amounts, epsilon, hashes and accounts as users write them.
//! - [`error`]: [`ClientError`], one complete line per failure.
//!
//! Each operation returns a report type that serialises to the CLI's
//! `--json` and renders itself for people with a `summary()` beside its
//! definition ([`owner::ReleaseReport::summary`],
//! [`operator::ChainInfo::summary`], ...), so the binary only prints.
//!
//! All async functions need a Tokio runtime (the blob stores use it);
//! CPU-heavy TFHE work runs on Tokio's blocking pool.

pub mod config;
pub mod error;
pub mod keys;
pub mod operator;
pub mod owner;
pub mod plot;
pub mod policy;
pub mod researcher;
pub mod seal;
pub mod sources;
pub mod units;
pub mod verify;

pub use error::{ClientError, Dispute, Result};
pub use keys::OwnerKeys;

use blindfold_chain::Chain;
use blindfold_job::{DatasetMetadata, JobContext, JobSpec};
use blindfold_market::{DatasetInputs, EventIndex, Market};
use blindfold_protocol::types::{DatasetId, DatasetInfo, Hash, JobId, JobInfo};
use blindfold_protocol::Error as ContractError;
use blindfold_store::{BlobStore, StoreError};

/// The marketplace on chain `C` and the blob store `S`.
#[derive(Debug)]
pub struct Client<C, S> {
    market: Market<C>,
    store: S,
    event_index: Option<std::path::PathBuf>,
}

impl<C: Chain, S: BlobStore> Client<C, S> {
    /// A client of `market` storing blobs in `store`.
    pub fn new(market: Market<C>, store: S) -> Self {
        Client {
            market,
            store,
            event_index: None,
        }
    }

    /// Keeps an [`EventIndex`] of the datasets' inputs in `path` between
    /// runs, so that loading a job reads only the blocks since the last run.
    pub fn with_event_index(mut self, path: std::path::PathBuf) -> Self {
        self.event_index = Some(path);
        self
    }

    /// The public context of `job_id` (on-chain state `job`): spec, dataset
    /// metadata and live inputs, each checked against the chain by the job
    /// layer.
    pub async fn job_context(&self, job_id: JobId, job: JobInfo) -> Result<JobContext> {
        let inputs = self
            .dataset_inputs(job.dataset_id, Some((job_id, &job)))
            .await?;
        Ok(JobContext::load(&self.market, &self.store, job_id, job, &inputs).await?)
    }

    /// A dataset's submissions and revocations as the chain has them now:
    /// from the event index when the client keeps one (an unwritable index
    /// file is only a lost cache; an index whose lists do not match `job`'s
    /// digest is rebuilt from genesis), else from a replay of the events
    /// since genesis.
    pub async fn dataset_inputs(
        &self,
        dataset: DatasetId,
        job: Option<(JobId, &JobInfo)>,
    ) -> Result<DatasetInputs> {
        let Some(path) = &self.event_index else {
            return Ok(self.market.history().await?.dataset_inputs(dataset));
        };
        let (index, _saved) = EventIndex::open(&self.market, path).await?;
        let inputs = index.dataset_inputs(dataset);
        match job {
            Some((job_id, job)) if inputs.for_job(job_id, job).is_err() => {
                let (index, _saved) = EventIndex::rebuild(&self.market, path).await?;
                Ok(index.dataset_inputs(dataset))
            }
            _ => Ok(inputs),
        }
    }

    /// The marketplace contract.
    pub fn market(&self) -> &Market<C> {
        &self.market
    }

    /// The blob store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Stores a blob; returns its SHA-256.
    pub async fn put(&self, bytes: Vec<u8>) -> Result<Hash> {
        Ok(self.store.put(bytes).await?)
    }

    /// Reads the blob `hash` (at most `limit` bytes). The store checks that
    /// the bytes hash to `hash`; `what` names the blob in errors.
    pub async fn get(&self, hash: &Hash, limit: u64, what: &str) -> Result<Vec<u8>> {
        match self.store.get(hash, limit).await {
            Ok(bytes) => Ok(bytes),
            Err(StoreError::NotFound { .. }) => Err(ClientError::Integrity(format!(
                "the {what} (blob {}) is not in the blob store {}: is --store the store the data owner and workers use?",
                units::short_hex(hash),
                self.store.describe()
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// A dataset and its metadata (read from the store, hash-checked).
    pub async fn dataset(&self, id: DatasetId) -> Result<(DatasetInfo, DatasetMetadata)> {
        let info = self.market.dataset(id).await.map_err(|e| {
            if e.contract_error() == Some(ContractError::DatasetNotFound) {
                ClientError::Usage(format!(
                    "there is no dataset {id} (`blindfold datasets` lists them)"
                ))
            } else {
                e.into()
            }
        })?;
        let what = format!("metadata of dataset {id}");
        let bytes = self
            .get(&info.metadata_hash, blindfold_job::blobs::JSON_LIMIT, &what)
            .await?;
        let metadata = DatasetMetadata::from_bytes(&bytes)?;
        Ok((info, metadata))
    }

    /// A job.
    pub async fn job(&self, id: JobId) -> Result<JobInfo> {
        self.market.job(id).await.map_err(|e| {
            if e.contract_error() == Some(ContractError::JobNotFound) {
                ClientError::Usage(format!("there is no job {id}"))
            } else {
                e.into()
            }
        })
    }

    /// A job's spec (read from the store by its `params_hash`), checked to
    /// name the job's pipeline.
    pub async fn job_spec(&self, id: JobId, job: &JobInfo) -> Result<JobSpec> {
        let what = format!("job spec of job {id}");
        let bytes = self
            .get(&job.params_hash, blindfold_job::blobs::JSON_LIMIT, &what)
            .await?;
        let spec = JobSpec::from_bytes(&bytes)?;
        if spec.params.id() != job.pipeline {
            return Err(ClientError::Integrity(format!(
                "job {id} is a {} job, but its spec is for {}",
                job.pipeline,
                spec.params.id()
            )));
        }
        Ok(spec)
    }
}

/// The status of a job as users read it (`Open`, `Computed`, ...).
pub fn status_name(status: blindfold_protocol::types::JobStatus) -> String {
    format!("{status:?}")
}
