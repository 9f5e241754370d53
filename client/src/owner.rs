//! The data owner (hospital): keys, datasets, submissions, release, earnings.
//!
//! - [`keygen`]: a TFHE client key into the key directory (mode 0600) and its
//!   compressed server key into the key directory and the blob store.
//! - [`register`]: the dataset's metadata blob ([`DatasetMetadata`], its
//!   preprocessing and geometry) into the store, then `register_dataset` on
//!   chain with the metadata hash, server key hash, price and [`Policy`].
//! - [`submit_videos`]: each source video is preprocessed as the metadata
//!   says, encrypted into one blob, stored, and its hash recorded on chain
//!   in batches of at most 128 ([`MAX_BATCH`]). The [`Ledger`] in the key
//!   directory remembers which source video each submission index is, so a
//!   second run skips videos already submitted and `revoke --source` works.
//! - [`revoke`]: withdraws one submission from later jobs.
//! - [`release_job`]: decrypts a job's agreed result, applies the
//!   [`policy`](crate::policy), publishes the released result and posts its
//!   hash, then finalises (pays out). A replication-1 job whose challenge
//!   window passed unchallenged is first `advance`d to `Computed`. [`watch`]
//!   does all this for every job that becomes ready on the owner's datasets.
//! - [`withdraw`]: transfers the account's earnings to it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use blindfold_chain::{AccountId, Chain, Signer};
use blindfold_fhe::EncryptedResult;
use blindfold_market::blobs::{DpNoise, BACKEND_CPU, DATASET_FORMAT};
use blindfold_market::{DatasetMetadata, ResultBundle};
use blindfold_protocol::types::{Balance, DatasetId, Hash, JobId, JobStatus, Policy, MAX_BATCH};
use blindfold_store::BlobStore;
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};

use crate::error::{join_error, ClientError, Result};
use crate::keys::{self, OwnerKeys, PARAM_SET};
use crate::policy::{self, Decision, Decrypted, ReleasePolicy};
use crate::sources::{prepare, PrepSpec, Source};
use crate::units::{hex32, short_hex};
use crate::{status_name, Client};

/// Largest result bundle the owner reads (bytes).
pub const RESULT_BUNDLE_LIMIT: u64 = 4 << 30;

// ---- keys ----------------------------------------------------------------------

/// What [`keygen`] made.
#[derive(Clone, Debug, Serialize)]
pub struct KeygenReport {
    /// The key directory.
    pub dir: PathBuf,
    /// SHA-256 of the compressed server key (stored in the blob store).
    #[serde(with = "crate::units::hex32")]
    pub server_key_hash: Hash,
    /// Size of the compressed server key in bytes.
    pub server_key_bytes: usize,
}

/// Generates keys into `dir` (refusing to replace a client key unless
/// `force`) and puts the compressed server key in `store`. Takes seconds.
pub async fn keygen<S: BlobStore>(
    dir: &Path,
    store: &S,
    force: bool,
) -> Result<(OwnerKeys, KeygenReport)> {
    let owned = dir.to_path_buf();
    let generated = tokio::task::spawn_blocking(move || keys::generate(&owned, force))
        .await
        .map_err(|e| join_error("key generation", e))??;
    let server_key_bytes = generated.server_key.len();
    let stored = store.put(generated.server_key).await?;
    if stored != generated.keys.server_key_hash() {
        return Err(ClientError::Integrity(
            "the blob store named the server key by another hash".into(),
        ));
    }
    let report = KeygenReport {
        dir: dir.to_path_buf(),
        server_key_hash: stored,
        server_key_bytes,
    };
    Ok((generated.keys, report))
}

// ---- datasets ------------------------------------------------------------------

/// What the data owner registers.
#[derive(Clone, Debug)]
pub struct DatasetSpec {
    /// A human-readable name.
    pub name: String,
    /// Price per job, in base units.
    pub price: Balance,
    /// The on-chain policy.
    pub policy: Policy,
    /// How videos are preprocessed (fixes the geometry).
    pub prep: PrepSpec,
    /// Release only cohort aggregates, never per-video values.
    pub aggregates_only: bool,
}

/// A registered dataset.
#[derive(Clone, Debug, Serialize)]
pub struct Registered {
    /// Its id.
    pub dataset_id: DatasetId,
    /// SHA-256 of its metadata blob.
    #[serde(with = "crate::units::hex32")]
    pub metadata_hash: Hash,
    /// SHA-256 of its compressed server key blob.
    #[serde(with = "crate::units::hex32")]
    pub server_key_hash: Hash,
    /// The metadata published.
    pub metadata: DatasetMetadata,
}

/// Publishes the metadata and server key of a new dataset and registers it.
pub async fn register<C: Chain, S: BlobStore>(
    client: &Client<C, S>,
    owner: &Signer,
    keys: &OwnerKeys,
    spec: &DatasetSpec,
) -> Result<Registered> {
    spec.policy
        .validate()
        .map_err(|e| ClientError::Usage(format!("invalid policy: {e}")))?;
    let geometry = spec.prep.geometry()?;
    let server_key = keys::server_key_bytes(keys.dir())?;
    let server_key_hash = client.put(server_key).await?;
    if server_key_hash != keys.server_key_hash() {
        return Err(ClientError::Key(format!(
            "{} changed since the keys were loaded",
            keys.dir().join(keys::SERVER_KEY_FILE).display()
        )));
    }
    let metadata = DatasetMetadata {
        format: DATASET_FORMAT.into(),
        name: spec.name.clone(),
        param_set: PARAM_SET.name().into(),
        geometry,
        preprocessing: spec.prep.preprocessing_text(),
        frame_selection: spec.prep.frames.to_string(),
        server_key: hex::encode(server_key_hash),
        backend: BACKEND_CPU.into(),
        aggregates_only: spec.aggregates_only,
    };
    let metadata_hash = client.put(metadata.to_bytes()).await?;
    let dataset_id = client
        .market()
        .register_dataset(
            owner,
            metadata_hash,
            server_key_hash,
            spec.price,
            spec.policy,
        )
        .await?;
    Ok(Registered {
        dataset_id,
        metadata_hash,
        server_key_hash,
        metadata,
    })
}

// ---- submissions ---------------------------------------------------------------

/// One submission the data owner made: which source video an index is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// Submission index on chain.
    pub index: u64,
    /// The source video's name.
    pub source: String,
    /// Hex SHA-256 of the encrypted blob.
    pub blob: String,
    /// The source's EF label in percent, if it had one.
    #[serde(default)]
    pub label_ef: Option<f64>,
}

/// The data owner's private record of its submissions to one dataset of one
/// contract, kept in the key directory (mode 0600).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Ledger {
    /// Every submission, in index order.
    pub entries: Vec<LedgerEntry>,
}

impl Ledger {
    /// Where the ledger of `dataset` on `contract` lives.
    pub fn path(keys_dir: &Path, contract: &AccountId, dataset: DatasetId) -> PathBuf {
        keys_dir.join(format!(
            "ledger-{}-{dataset}.json",
            hex::encode(&contract[..8])
        ))
    }

    /// Reads a ledger (empty if there is none yet).
    pub fn load(keys_dir: &Path, contract: &AccountId, dataset: DatasetId) -> Result<Self> {
        let path = Self::path(keys_dir, contract, dataset);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                ClientError::Key(format!(
                    "submission ledger {} is corrupt: {e}",
                    path.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Ledger::default()),
            Err(e) => Err(ClientError::io("reading", &path, e)),
        }
    }

    fn save(&self, keys_dir: &Path, contract: &AccountId, dataset: DatasetId) -> Result<()> {
        let path = Self::path(keys_dir, contract, dataset);
        let bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        keys::write_private(&path, &bytes)
    }

    /// The submission index of the source video `name`, if submitted.
    pub fn index_of(&self, name: &str) -> Option<u64> {
        self.entries
            .iter()
            .find(|e| e.source == name)
            .map(|e| e.index)
    }
}

/// Options of [`submit_videos`].
#[derive(Clone, Debug, Default)]
pub struct SubmitOptions {
    /// Submit at most this many videos (after skipping submitted ones).
    pub limit: Option<usize>,
    /// Submit videos the ledger says were already submitted, again.
    pub resubmit: bool,
}

/// One submitted video.
#[derive(Clone, Debug, Serialize)]
pub struct Submitted {
    /// Its submission index.
    pub index: u64,
    /// The source video.
    pub source: String,
    /// SHA-256 of its encrypted blob.
    #[serde(with = "crate::units::hex32")]
    pub blob_hash: Hash,
}

/// What [`submit_videos`] did.
#[derive(Clone, Debug, Serialize)]
pub struct SubmitReport {
    /// The dataset.
    pub dataset_id: DatasetId,
    /// The new submissions, in index order.
    pub submitted: Vec<Submitted>,
    /// Source videos skipped because the ledger says they were submitted.
    pub skipped: Vec<String>,
    /// The dataset's submission count afterwards.
    pub submission_count: u64,
}

/// Preprocesses, encrypts, stores and records the videos of `source` as
/// submissions to `dataset`. `progress` counts videos (use
/// `ProgressBar::hidden()` when nobody watches).
pub async fn submit_videos<C: Chain, S: BlobStore>(
    client: &Client<C, S>,
    owner: &Signer,
    keys: &OwnerKeys,
    dataset: DatasetId,
    source: &Source,
    options: &SubmitOptions,
    progress: &ProgressBar,
) -> Result<SubmitReport> {
    let (info, metadata) = client.dataset(dataset).await?;
    check_owner(&info.owner, owner, dataset)?;
    if !info.active {
        return Err(ClientError::State(format!(
            "dataset {dataset} is deactivated and takes no submissions"
        )));
    }
    keys.check_server_key(&info.server_key_hash, &format!("dataset {dataset}"))?;
    let spec = PrepSpec::from_metadata(&metadata)?;
    let contract = client.market().address();
    let mut ledger = Ledger::load(keys.dir(), &contract, dataset)?;

    let listing = source.clone();
    let videos = tokio::task::spawn_blocking(move || listing.videos())
        .await
        .map_err(|e| join_error("listing the videos", e))??;
    let (mut todo, mut skipped) = (Vec::new(), Vec::new());
    for video in videos {
        if !options.resubmit && ledger.index_of(&video.name()).is_some() {
            skipped.push(video.name());
        } else {
            todo.push(video);
        }
    }
    if let Some(limit) = options.limit {
        todo.truncate(limit);
    }

    progress.set_length(todo.len() as u64);
    let key = Arc::new(keys.client_key().clone());
    let mut pending: Vec<(String, Option<f64>, Hash)> = Vec::new();
    let mut report = SubmitReport {
        dataset_id: dataset,
        submitted: Vec::new(),
        skipped,
        submission_count: info.submission_count,
    };
    for video in todo {
        let name = video.name();
        progress.set_message(name.clone());
        let key = key.clone();
        let (label, blob) = tokio::task::spawn_blocking(move || -> Result<_> {
            let decoded = video.read()?;
            let plain = prepare(&decoded, &spec)?;
            Ok((decoded.label_ef, plain.encrypt(&key)?.to_bytes()?))
        })
        .await
        .map_err(|e| join_error("encryption", e))??;
        let hash = client.put(blob).await?;
        pending.push((name, label, hash));
        progress.inc(1);
        if pending.len() == MAX_BATCH as usize {
            flush(
                client,
                owner,
                keys,
                dataset,
                &mut pending,
                &mut ledger,
                &mut report,
            )
            .await?;
        }
    }
    flush(
        client,
        owner,
        keys,
        dataset,
        &mut pending,
        &mut ledger,
        &mut report,
    )
    .await?;
    progress.finish_and_clear();
    Ok(report)
}

/// Records the pending hashes on chain as one batch and in the ledger.
async fn flush<C: Chain, S: BlobStore>(
    client: &Client<C, S>,
    owner: &Signer,
    keys: &OwnerKeys,
    dataset: DatasetId,
    pending: &mut Vec<(String, Option<f64>, Hash)>,
    ledger: &mut Ledger,
    report: &mut SubmitReport,
) -> Result<()> {
    if pending.is_empty() {
        return Ok(());
    }
    let hashes = pending.iter().map(|(_, _, h)| *h).collect();
    let count = client
        .market()
        .add_submissions(owner, dataset, hashes)
        .await?;
    let first = count - pending.len() as u64;
    for (i, (source, label_ef, blob_hash)) in pending.drain(..).enumerate() {
        let index = first + i as u64;
        ledger.entries.push(LedgerEntry {
            index,
            source: source.clone(),
            blob: hex::encode(blob_hash),
            label_ef,
        });
        report.submitted.push(Submitted {
            index,
            source,
            blob_hash,
        });
    }
    report.submission_count = count;
    ledger.save(keys.dir(), &client.market().address(), dataset)
}

fn check_owner(dataset_owner: &AccountId, signer: &Signer, dataset: DatasetId) -> Result<()> {
    if dataset_owner == &signer.account() {
        Ok(())
    } else {
        Err(ClientError::Usage(format!(
            "dataset {dataset} belongs to {}, not to your account {} ({})",
            short_hex(dataset_owner),
            short_hex(&signer.account()),
            signer.name()
        )))
    }
}

/// Revokes submission `index` of `dataset`: later jobs exclude it.
pub async fn revoke<C: Chain, S: BlobStore>(
    client: &Client<C, S>,
    owner: &Signer,
    dataset: DatasetId,
    index: u64,
) -> Result<()> {
    let (info, _) = client.dataset(dataset).await?;
    check_owner(&info.owner, owner, dataset)?;
    if index >= info.submission_count {
        return Err(ClientError::Usage(format!(
            "dataset {dataset} has {} submissions; there is no index {index}",
            info.submission_count
        )));
    }
    Ok(client
        .market()
        .revoke_submission(owner, dataset, index)
        .await?)
}

// ---- release -------------------------------------------------------------------

/// Options of [`release_job`].
#[derive(Clone, Copy, Debug)]
pub struct ReleaseOptions {
    /// Seed of the DP noise; `None` draws one from the operating system.
    pub seed: Option<u64>,
    /// Call `finalize` after releasing, so everyone is paid.
    pub finalize: bool,
}

impl Default for ReleaseOptions {
    fn default() -> Self {
        ReleaseOptions {
            seed: None,
            finalize: true,
        }
    }
}

/// What happened to a job's result.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ReleaseOutcome {
    /// The released result was published and its hash posted.
    Released {
        /// SHA-256 of the released-result blob.
        #[serde(with = "crate::units::hex32")]
        released_hash: Hash,
        /// Videos it covers.
        cohort: u64,
        /// Whether per-video values were released.
        per_video: bool,
        /// The noise added, if the job spent epsilon.
        dp: Option<DpNoise>,
    },
    /// Released before (by an earlier run); only finalised now.
    AlreadyReleased {
        /// SHA-256 of the released-result blob.
        #[serde(with = "crate::units::hex32")]
        released_hash: Hash,
    },
    /// The cohort is below the policy's minimum: nothing was released, and
    /// the contract refunded the researcher (workers were paid).
    Refused {
        /// Videos in the job.
        cohort: u64,
        /// The policy's minimum.
        min_cohort: u32,
    },
}

/// What [`release_job`] did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReleaseReport {
    /// The job.
    pub job_id: JobId,
    /// Its dataset.
    pub dataset_id: DatasetId,
    /// The outcome.
    #[serde(flatten)]
    pub outcome: ReleaseOutcome,
    /// Whether the job was finalised (paid out) by this call.
    pub finalized: bool,
}

/// Decrypts job `job_id`'s agreed result, applies the dataset's policy,
/// publishes the released result, posts its hash and (with
/// `options.finalize`) finalises the job. A job in an expired challenge
/// window (replication 1) is advanced to `Computed` first.
pub async fn release_job<C: Chain, S: BlobStore>(
    client: &Client<C, S>,
    owner: &Signer,
    keys: &OwnerKeys,
    job_id: JobId,
    options: &ReleaseOptions,
) -> Result<ReleaseReport> {
    let mut job = client.job(job_id).await?;
    let (info, metadata) = client.dataset(job.dataset_id).await?;
    check_owner(&info.owner, owner, job.dataset_id)?;
    if challenge_over(client, owner, &job).await? {
        // Replication 1: nobody challenged the result in time; agree on it.
        client.market().advance(owner, job_id).await?;
        job = client.job(job_id).await?;
    }
    let mut report = ReleaseReport {
        job_id,
        dataset_id: job.dataset_id,
        outcome: ReleaseOutcome::Refused {
            cohort: job.cohort(),
            min_cohort: info.policy.min_cohort,
        },
        finalized: false,
    };
    match job.status {
        JobStatus::Computed => {}
        JobStatus::Released => {
            report.outcome = ReleaseOutcome::AlreadyReleased {
                released_hash: job.released_hash.unwrap_or_default(),
            };
            if options.finalize {
                client.market().finalize(owner, job_id).await?;
                report.finalized = true;
            }
            return Ok(report);
        }
        status => {
            return Err(ClientError::State(format!(
            "job {job_id} is {}: only a Computed job (workers agreed on a result) can be released",
            status_name(status)
        )))
        }
    }
    keys.check_server_key(&job.server_key_hash, &format!("job {job_id}"))?;

    // Minimum cohort, as the contract counts it: refuse, and let the
    // contract refund the researcher now rather than at the release deadline.
    if job.cohort() < u64::from(info.policy.min_cohort) {
        client.market().release(owner, job_id, [0; 32]).await?;
        return Ok(report);
    }

    let spec = client.job_spec(job_id, &job).await?;
    let history = client.market().history().await?;
    let inputs = history
        .dataset_inputs(job.dataset_id)
        .for_job(job_id, &job)?;
    let result_hash = job.result_blob_hash.ok_or_else(|| {
        ClientError::Integrity(format!("job {job_id} is Computed but has no result hash"))
    })?;
    let bundle_bytes = client
        .get(
            &result_hash,
            RESULT_BUNDLE_LIMIT,
            &format!("result of job {job_id}"),
        )
        .await?;
    let bundle = ResultBundle::from_bytes(&bundle_bytes)?;
    let indices: Vec<u64> = bundle.items.iter().map(|(i, _)| *i).collect();
    let expected: Vec<u64> = inputs.iter().map(|i| i.index).collect();
    if indices != expected {
        return Err(ClientError::Integrity(format!(
            "the result of job {job_id} covers submissions {indices:?}, the job's inputs are {expected:?}"
        )));
    }

    let key = Arc::new(keys.client_key().clone());
    let params = spec.params.clone();
    let decrypted = tokio::task::spawn_blocking(move || -> Result<Vec<Decrypted>> {
        bundle
            .items
            .iter()
            .map(|(submission, bytes)| {
                let output = EncryptedResult::from_bytes(bytes)?.decrypt(&key, &params)?;
                Ok(Decrypted {
                    submission: *submission,
                    output,
                })
            })
            .collect()
    })
    .await
    .map_err(|e| join_error("decryption", e))??;

    let release_policy = ReleasePolicy {
        min_cohort: info.policy.min_cohort,
        aggregates_only: metadata.aggregates_only,
        epsilon_milli: job.epsilon,
        seed: options.seed.unwrap_or_else(rand::random),
    };
    let released = match policy::decide(
        job_id,
        &spec.params,
        &metadata.geometry,
        &decrypted,
        &release_policy,
    )? {
        Decision::Release(r) => r,
        Decision::Refuse { .. } => {
            // Cannot happen: the cohort was checked against the chain above.
            return Err(ClientError::Integrity(format!(
                "job {job_id}: the decrypted cohort ({}) differs from the job's ({})",
                decrypted.len(),
                job.cohort()
            )));
        }
    };
    let released_hash = client.put(released.to_bytes()).await?;
    client
        .market()
        .release(owner, job_id, released_hash)
        .await?;
    report.outcome = ReleaseOutcome::Released {
        released_hash,
        cohort: released.cohort,
        per_video: !released.videos.is_empty(),
        dp: released.dp,
    };
    if options.finalize {
        client.market().finalize(owner, job_id).await?;
        report.finalized = true;
    }
    Ok(report)
}

/// Whether `job` is in its challenge window (replication 1) and the window
/// has passed, so `advance` makes it `Computed`.
async fn challenge_over<C: Chain, S: BlobStore>(
    client: &Client<C, S>,
    owner: &Signer,
    job: &blindfold_protocol::types::JobInfo,
) -> Result<bool> {
    Ok(job.status == JobStatus::Challenge
        && blindfold_chain::deadline_passed(client.market().chain(), owner, job.deadline).await?)
}

/// Jobs on datasets owned by `owner` that wait for a release: status
/// `Computed`, or `Challenge` with the challenge window over. Skips ids in
/// `done` (jobs known to be over, or on other owners' datasets).
pub async fn releasable_jobs<C: Chain, S: BlobStore>(
    client: &Client<C, S>,
    owner: &Signer,
    done: &mut BTreeSet<JobId>,
) -> Result<Vec<JobId>> {
    let count = client.market().state().await?.job_count;
    let mut owners = std::collections::BTreeMap::new();
    let mut ready = Vec::new();
    for id in 0..count {
        if done.contains(&id) {
            continue;
        }
        let job = client.market().job(id).await?;
        if job.status.is_terminal() {
            done.insert(id);
            continue;
        }
        if !matches!(job.status, JobStatus::Computed | JobStatus::Challenge) {
            continue;
        }
        let dataset_owner = match owners.get(&job.dataset_id) {
            Some(o) => *o,
            None => {
                let o = client.market().dataset(job.dataset_id).await?.owner;
                owners.insert(job.dataset_id, o);
                o
            }
        };
        if dataset_owner != owner.account() {
            done.insert(id);
        } else if job.status == JobStatus::Computed || challenge_over(client, owner, &job).await? {
            ready.push(id);
        }
    }
    Ok(ready)
}

/// Releases every job of the owner's datasets as soon as it is `Computed`,
/// polling every `interval`; with `once`, makes one pass and returns. Each
/// attempt is reported to `on_release`; a failed job is retried next pass.
pub async fn watch<C: Chain, S: BlobStore>(
    client: &Client<C, S>,
    owner: &Signer,
    keys: &OwnerKeys,
    options: &ReleaseOptions,
    interval: Duration,
    once: bool,
    mut on_release: impl FnMut(JobId, &Result<ReleaseReport>),
) -> Result<()> {
    let mut done = BTreeSet::new();
    loop {
        for job_id in releasable_jobs(client, owner, &mut done).await? {
            let result = release_job(client, owner, keys, job_id, options).await;
            if result.is_ok() {
                done.insert(job_id);
            }
            on_release(job_id, &result);
        }
        if once {
            return Ok(());
        }
        tokio::time::sleep(interval).await;
    }
}

/// Withdraws the account's earnings; returns the amount.
pub async fn withdraw<C: Chain, S: BlobStore>(
    client: &Client<C, S>,
    account: &Signer,
) -> Result<Balance> {
    let earned = client.market().earnings(&account.account()).await?;
    if earned == 0 {
        return Err(ClientError::State(format!(
            "account {} has no earnings to withdraw",
            account.name()
        )));
    }
    Ok(client.market().withdraw(account).await?)
}

/// The display form of a released hash, for messages.
pub fn describe_outcome(outcome: &ReleaseOutcome) -> String {
    match outcome {
        ReleaseOutcome::Released {
            released_hash,
            cohort,
            per_video,
            dp,
        } => {
            let what = if dp.is_some() {
                "noisy aggregates (differential privacy)"
            } else if *per_video {
                "per-video values and aggregates"
            } else {
                "aggregates only"
            };
            format!(
                "released {what} over {cohort} videos as {}",
                hex32(released_hash)
            )
        }
        ReleaseOutcome::AlreadyReleased { released_hash } => {
            format!("already released as {}", hex32(released_hash))
        }
        ReleaseOutcome::Refused { cohort, min_cohort } => format!(
            "refused: the job covers {cohort} videos, the policy's minimum cohort is {min_cohort}; \
             nothing was released and the researcher was refunded"
        ),
    }
}
