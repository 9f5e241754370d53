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
//! - [`release_job`]: verifies a job's agreed result against its own
//!   recomputation (the job layer's, [`blindfold_job`]) and decrypts only a
//!   verified one; applies the [`policy`](crate::policy), posts the released
//!   result's hash and publishes it, then finalises (pays out). A mismatch
//!   decrypts nothing and is rejected on chain where the contract allows
//!   ([`dispute`]).
//!   [`watch`] does all this for every job that becomes ready on the owner's
//!   datasets.
//! - [`withdraw`]: transfers the account's earnings to it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use blindfold_chain::{Account, Chain, Signer};
use blindfold_fhe::Scheme;
use blindfold_job::blobs::{DpNoise, BACKEND_CPU, DATASET_FORMAT};
use blindfold_job::DatasetMetadata;
use blindfold_job::{Mismatch, Verification, VerifyPolicy};
use blindfold_protocol::types::{
    Balance, DatasetId, Hash, JobId, JobInfo, JobStatus, Policy, MAX_BATCH,
};
use blindfold_store::BlobStore;
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};

use crate::error::{join_error, ClientError, Dispute, Result};
use crate::keys::{self, OwnerKeys};
use crate::policy::{self, Decision, Decrypted, ReleasePolicy};
use crate::seal;
use crate::sources::{prepare, PrepSpec, Source};
use crate::units::{format_epsilon, format_units, hex32, short_hex};
use crate::{status_name, Client};

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

impl KeygenReport {
    /// Where the keys went, for people; `store` names the blob store as the
    /// user wrote it.
    pub fn summary(&self, store: &str) -> String {
        format!(
            "keys in {} (client.key is secret, mode 0600; back it up)\n\
             server key {} ({} bytes) stored in {}",
            self.dir.display(),
            hex32(&self.server_key_hash),
            self.server_key_bytes,
            store
        )
    }
}

/// Generates keys into `dir` (refusing to replace a client key unless
/// `force`) and puts the compressed server key in `store`. Takes seconds.
pub async fn keygen<S: BlobStore>(
    dir: &Path,
    store: &S,
    scheme: Scheme,
    force: bool,
) -> Result<(OwnerKeys, KeygenReport)> {
    let owned = dir.to_path_buf();
    let generated = tokio::task::spawn_blocking(move || keys::generate(&owned, scheme, force))
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
    /// Allow releases in the clear for jobs that name no release key.
    pub public_releases: bool,
    /// How results are verified before decryption (kept in the owner's
    /// private record of the dataset, not on chain).
    pub verify: VerifyPolicy,
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
    /// Price per job, in base units (in the text summary, not the JSON).
    #[serde(skip)]
    pub price: Balance,
    /// The on-chain policy (in the text summary, not the JSON).
    #[serde(skip)]
    pub policy: Policy,
}

impl Registered {
    /// The new dataset and what to do next, for people.
    pub fn summary(&self) -> String {
        let g = self.metadata.geometry;
        format!(
            "registered dataset {} '{}': {}x{} pixels, {} bits, {} frames ({}), price {}, \
             min cohort {}, replication {}{}\nmetadata {}\nnext: blindfold submit {} --synthetic 20 (or --echonet DIR / --dicom FILES)",
            self.dataset_id,
            self.metadata.name,
            g.width,
            g.height,
            g.bits,
            g.frames,
            self.metadata.frame_selection,
            format_units(self.price),
            self.policy.min_cohort,
            self.policy.replication,
            self.policy
                .dp_epsilon_budget
                .map(|b| format!(", DP budget epsilon {}", format_epsilon(b)))
                .unwrap_or_default(),
            hex32(&self.metadata_hash),
            self.dataset_id
        )
    }
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
        param_set: keys.scheme().name().into(),
        geometry,
        preprocessing: spec.prep.preprocessing_text(),
        roi: spec.prep.source_roi()?,
        frame_selection: spec.prep.frames.to_string(),
        server_key: hex::encode(server_key_hash),
        backend: BACKEND_CPU.into(),
        aggregates_only: spec.aggregates_only,
        public_releases: spec.public_releases,
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
    let contract = client.market().address();
    let mut ledger = Ledger::load(keys.dir(), &contract, dataset_id)?;
    ledger.verify = Some(spec.verify.to_string());
    ledger.save(keys.dir(), &contract, dataset_id)?;
    Ok(Registered {
        dataset_id,
        metadata_hash,
        server_key_hash,
        metadata,
        price: spec.price,
        policy: spec.policy,
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
    /// How results of this dataset are verified before decryption
    /// (`full` or `sample:F`; absent: `full`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<String>,
}

impl Ledger {
    /// Where the ledger of `dataset` on `contract` lives.
    pub fn path(keys_dir: &Path, contract: &Account, dataset: DatasetId) -> PathBuf {
        keys_dir.join(format!(
            "ledger-{}-{dataset}.json",
            hex::encode(&contract[..8])
        ))
    }

    /// Reads a ledger (empty if there is none yet).
    pub fn load(keys_dir: &Path, contract: &Account, dataset: DatasetId) -> Result<Self> {
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

    fn save(&self, keys_dir: &Path, contract: &Account, dataset: DatasetId) -> Result<()> {
        let path = Self::path(keys_dir, contract, dataset);
        let bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        keys::write_private(&path, &bytes)
    }

    /// The dataset's verification policy (`full` unless set).
    pub fn verify_policy(&self) -> Result<VerifyPolicy> {
        match &self.verify {
            None => Ok(VerifyPolicy::Full),
            Some(p) => p
                .parse()
                .map_err(|e| ClientError::Key(format!("the submission ledger's {e}"))),
        }
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

impl SubmitReport {
    /// How many videos went in and how many were skipped, for people.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "submitted {} encrypted videos to dataset {} (it now has {} submissions)",
            self.submitted.len(),
            self.dataset_id,
            self.submission_count
        );
        if !self.skipped.is_empty() {
            s.push_str(&format!(
                "\nskipped {} videos already submitted (--resubmit submits them again)",
                self.skipped.len()
            ));
        }
        s
    }
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
    for (n, video) in todo.into_iter().enumerate() {
        let name = video.name();
        progress.set_message(name.clone());
        let key = key.clone();
        // The index this video will most likely get: BFV packs consecutive
        // submissions together by it (any index decrypts correctly).
        let submission = info.submission_count + n as u64;
        let (label, blob) = tokio::task::spawn_blocking(move || -> Result<_> {
            let decoded = video.read()?;
            let plain = prepare(&decoded, &spec)?;
            Ok((decoded.label_ef, key.encrypt(&plain, submission)?))
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

fn check_owner(dataset_owner: &Account, signer: &Signer, dataset: DatasetId) -> Result<()> {
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

/// A revoked submission, as `revoke` reports it.
#[derive(Clone, Debug, Serialize)]
pub struct Revoked {
    /// The dataset.
    pub dataset_id: DatasetId,
    /// The submission index revoked.
    pub index: u64,
}

impl Revoked {
    /// What was revoked and what it changes, for people.
    pub fn summary(&self) -> String {
        format!(
            "revoked submission {} of dataset {}; jobs requested from now on exclude it",
            self.index, self.dataset_id
        )
    }
}

// ---- release -------------------------------------------------------------------

/// Options of [`release_job`].
#[derive(Clone, Copy, Debug)]
pub struct ReleaseOptions {
    /// How much of the agreed result to recompute before decrypting it;
    /// `None`: the dataset's policy in the owner's record (default `full`).
    pub verify: Option<VerifyPolicy>,
    /// Threads of the verification's evaluation pool (`None`: one per core).
    pub threads: Option<usize>,
    /// Call `finalize` after releasing, so everyone is paid.
    pub finalize: bool,
}

impl Default for ReleaseOptions {
    fn default() -> Self {
        ReleaseOptions {
            verify: None,
            threads: None,
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
    /// How the agreed result was verified before decryption (`None` when
    /// nothing was decrypted by this call).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<VerifiedSummary>,
}

impl ReleaseReport {
    /// One line about the release, for people.
    pub fn summary(&self) -> String {
        let verified = match &self.verified {
            Some(v) => format!(
                "verified ({}: {} inputs recomputed, {} PBS, {:.1} s), ",
                v.policy, v.recomputed, v.pbs, v.seconds
            ),
            None => String::new(),
        };
        format!(
            "job {} (dataset {}): {verified}{}{}",
            self.job_id,
            self.dataset_id,
            describe_outcome(&self.outcome),
            if self.finalized {
                "; finalised, everyone paid"
            } else {
                ""
            }
        )
    }
}

/// Verifies job `job_id`'s agreed result, decrypts it, applies the
/// dataset's policy, posts the released result's hash, publishes it and
/// (with `options.finalize`) finalises the job.
///
/// 1. **Verify before decrypt.** The agreed result is checked against a
///    recomputation from the public inputs
///    ([`JobContext::verify_result`](blindfold_job::JobContext::verify_result),
///    the code the workers and `verify` run) under the dataset's
///    [`VerifyPolicy`]. On a mismatch nothing is decrypted: the owner
///    rejects the result on chain with the correct one where the contract
///    allows ([`dispute`]: in its challenge window, or, once that window
///    has closed, after `advance`ing the job to `Computed`), and the call
///    fails with [`ClientError::Unverified`], naming the submissions that
///    differ and what was disputed ([`Dispute`]).
/// 2. A verified job whose challenge window is over is `advance`d to
///    `Computed`; one whose window is still open is left alone.
/// 3. Submissions revoked since the job was requested are left out of the
///    release; the released cohort counts only what is left, and below the
///    minimum cohort nothing is released. A result item none of whose
///    submissions is kept is never decrypted; but an item is decrypted
///    whole, so under BFV lv-area packing (up to 64 submissions per item) a
///    revoked submission that shares its unit with kept ones *is* decrypted
///    on this machine with its unit, then dropped: it is never released.
///    Under TFHE, and for pipelines that are not packed, every item is one
///    submission, and a revoked one is not decrypted at all.
/// 4. The released result's hash goes on chain before the blob is
///    published; the blob is first saved in the key directory, so a crash
///    in between loses nothing, and the next run publishes the saved blob.
///    A crash before the hash is posted makes the next run decrypt again
///    and publish the same numbers: the DP noise is keyed by the owner's
///    secret and the job ([`OwnerKeys::dp_seed`]).
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
    if let Some(place) = job.shard {
        return Err(ClientError::Usage(format!(
            "job {job_id} is shard {} of job {}: release job {} (it releases once, when every \
             shard agreed)",
            place.index, place.job, place.job
        )));
    }
    let mut report = ReleaseReport {
        job_id,
        dataset_id: job.dataset_id,
        outcome: ReleaseOutcome::Refused {
            cohort: job.cohort(),
            min_cohort: info.policy.min_cohort,
        },
        finalized: false,
        verified: None,
    };
    match job.status {
        JobStatus::Computed | JobStatus::Challenge => {}
        JobStatus::Released => {
            let released_hash = job.released_hash.unwrap_or_default();
            publish_saved(client, keys, job_id, &released_hash).await?;
            report.outcome = ReleaseOutcome::AlreadyReleased { released_hash };
            if options.finalize {
                finalize_all(client, owner, job_id, &job).await?;
                report.finalized = true;
            }
            return Ok(report);
        }
        JobStatus::Sharded => {
            return Err(ClientError::State(format!(
                "job {job_id} is sharded and {} of its {} shards agreed so far: it releases once \
                 every shard has",
                job.shards_computed, job.shards
            )))
        }
        status => {
            return Err(ClientError::State(format!(
                "job {job_id} is {}: only a job whose workers agreed on a result \
                 (Computed, or in its challenge window) can be released",
                status_name(status)
            )))
        }
    }
    keys.check_server_key(&job.server_key_hash, &format!("job {job_id}"))?;

    // Minimum cohort, as the contract counts it: refuse, and let the
    // contract refund the researcher now rather than at the release deadline.
    if job.status == JobStatus::Computed && job.cohort() < u64::from(info.policy.min_cohort) {
        client.market().release(owner, job_id, [0; 32]).await?;
        return Ok(report);
    }

    // 1. Verify before decrypt: the job's result, or each of its shards'
    // (each shard's own result, against its own commitment).
    let spec = client.job_spec(job_id, &job).await?;
    match &spec.release_to {
        Some(recipient) => {
            seal::parse_recipient(recipient)?;
        }
        None if metadata.public_releases => {}
        None => {
            return Err(ClientError::State(format!(
                "job {job_id} names no release key and dataset {} does not allow public releases: \
                 nothing was decrypted",
                job.dataset_id
            )))
        }
    }
    let contract = client.market().address();
    let policy = match options.verify {
        Some(p) => p,
        None => Ledger::load(keys.dir(), &contract, job.dataset_id)?.verify_policy()?,
    };
    let parts = if job.is_sharded() {
        crate::researcher::shards_of(client, job_id, &job).await?
    } else {
        vec![(job_id, job.clone())]
    };
    let mut key = None;
    let mut verified_parts = Vec::with_capacity(parts.len());
    let mut summary = VerifiedSummary {
        policy: policy.to_string(),
        recomputed: 0,
        pbs: 0,
        seconds: 0.0,
    };
    for (part_id, part) in parts {
        let ctx = client.job_context(part_id, part).await?;
        let key = match &key {
            Some(k) => Arc::clone(k),
            None => key
                .insert(ctx.fetch_server_key(client.store()).await?)
                .clone(),
        };
        let verification = ctx
            .verify_result(
                client.store(),
                key,
                policy,
                &keys.sample_key(),
                options.threads,
                || {},
            )
            .await?;
        let verified = match verification {
            Verification::Verified(v) => v,
            Verification::Mismatch(mismatch) => {
                // A shard's result is disputed on the shard: its job waits
                // for it again.
                let disputed = dispute(client, owner, part_id, &mismatch).await;
                return Err(ClientError::Unverified {
                    job: part_id,
                    mismatch,
                    disputed,
                });
            }
        };
        summary.recomputed += verified.recomputed();
        summary.pbs += verified.pbs();
        summary.seconds += verified.seconds();
        verified_parts.push(verified);
    }
    report.verified = Some(summary);

    // 2. The challenge window.
    if job.status == JobStatus::Challenge {
        if !challenge_over(client, owner, &job).await? {
            return Err(ClientError::State(format!(
                "job {job_id}'s result verified, but its challenge window is open until {} ms; \
                 release it after that",
                job.deadline
            )));
        }
        client.market().advance(owner, job_id).await?;
        job = client.job(job_id).await?;
        if job.cohort() < u64::from(info.policy.min_cohort) {
            client.market().release(owner, job_id, [0; 32]).await?;
            return Ok(report);
        }
    }

    // 3. Decrypt what is still consented to.
    let revoked: BTreeSet<u64> = client
        .dataset_inputs(job.dataset_id, None)
        .await?
        .revoked
        .into_iter()
        .collect();
    let decrypting = keys.clone();
    let params = spec.params.clone();
    let geometry = metadata.geometry;
    let decrypted = tokio::task::spawn_blocking(move || {
        // The shards in order: the same outputs, in the same order, as the
        // job computed whole.
        let mut all = Vec::new();
        for verified in &verified_parts {
            all.extend(
                decrypting
                    .decrypt_verified(verified, &params, &geometry, |i| !revoked.contains(&i))?,
            );
        }
        Ok::<_, ClientError>(all)
    })
    .await
    .map_err(|e| join_error("decryption", e))??;
    let decrypted: Vec<Decrypted> = decrypted
        .into_iter()
        .map(|(submission, output)| Decrypted { submission, output })
        .collect();

    // 4. The policy, then the hash on chain, then the blob.
    let release_policy = ReleasePolicy {
        min_cohort: info.policy.min_cohort,
        aggregates_only: metadata.aggregates_only,
        epsilon_milli: job.epsilon,
        seed: keys.dp_seed(&contract, job_id),
    };
    let released = match policy::decide(
        job_id,
        &spec.params,
        &metadata.geometry,
        &decrypted,
        &release_policy,
    )? {
        Decision::Release(r) => r,
        Decision::Refuse { cohort, min_cohort } => {
            // Revocations since the request took the cohort below the minimum.
            client.market().release(owner, job_id, [0; 32]).await?;
            report.outcome = ReleaseOutcome::Refused { cohort, min_cohort };
            return Ok(report);
        }
    };
    let bytes = match &spec.release_to {
        Some(recipient) => seal::seal(&released.to_bytes(), &seal::parse_recipient(recipient)?)?,
        None if metadata.public_releases => released.to_bytes(),
        None => {
            // Checked before decrypting too; kept here so no path skips it.
            return Err(ClientError::State(format!(
                "job {job_id} names no release key and dataset {} does not allow public releases",
                job.dataset_id
            )));
        }
    };
    let released_hash = blindfold_store::sha256(&bytes);
    keys::write_private(&saved_release_path(keys, &contract, job_id), &bytes)?;
    client
        .market()
        .release(owner, job_id, released_hash)
        .await?;
    publish_saved(client, keys, job_id, &released_hash).await?;
    report.outcome = ReleaseOutcome::Released {
        released_hash,
        cohort: released.cohort,
        per_video: !released.videos.is_empty(),
        dp: released.dp,
    };
    if options.finalize {
        finalize_all(client, owner, job_id, &job).await?;
        report.finalized = true;
    }
    Ok(report)
}

/// Finalises released job `job_id` (pays the owner and refunds the rest),
/// then each of its shards (pays their workers) that is not paid yet.
async fn finalize_all<C: Chain, S: BlobStore>(
    client: &Client<C, S>,
    owner: &Signer,
    job_id: JobId,
    job: &JobInfo,
) -> Result<()> {
    client.market().finalize(owner, job_id).await?;
    for id in crate::researcher::shard_ids(job_id, job)? {
        if client.job(id).await?.status == JobStatus::Computed {
            client.market().finalize(owner, id).await?;
        }
    }
    Ok(())
}

/// How a release's verification went.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VerifiedSummary {
    /// The policy (`full`, `sample:F`).
    pub policy: String,
    /// Inputs recomputed.
    pub recomputed: usize,
    /// PBS the recomputation ran.
    pub pbs: u64,
    /// Seconds its evaluation took.
    pub seconds: f64,
}

/// Where the owner keeps a released result between deciding it and
/// publishing it.
fn saved_release_path(keys: &OwnerKeys, contract: &Account, job_id: JobId) -> PathBuf {
    keys.dir().join(format!(
        "released-{}-{job_id}.bin",
        hex::encode(&contract[..8])
    ))
}

/// Makes sure the released blob `released_hash` of `job_id` is in the
/// store, publishing the copy saved in the key directory if it is not.
async fn publish_saved<C: Chain, S: BlobStore>(
    client: &Client<C, S>,
    keys: &OwnerKeys,
    job_id: JobId,
    released_hash: &Hash,
) -> Result<()> {
    if *released_hash == [0; 32] || client.store().contains(released_hash).await? {
        return Ok(());
    }
    let path = saved_release_path(keys, &client.market().address(), job_id);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ClientError::State(format!(
                "job {job_id} was released as {}, but that blob is neither in the store nor saved at {}",
                hex32(released_hash),
                path.display()
            )))
        }
        Err(e) => return Err(ClientError::io("reading", &path, e)),
    };
    if blindfold_store::sha256(&bytes) != *released_hash {
        return Err(ClientError::Integrity(format!(
            "{} does not hash to the released hash {} of job {job_id}",
            path.display(),
            hex32(released_hash)
        )));
    }
    client.put(bytes).await?;
    Ok(())
}

/// Disputes a result of `job_id` that failed verification (`mismatch`) on
/// chain where the contract allows it: the owner publishes the correct
/// result and rejects the standing one with it (`reject`), staking one
/// claim stake as its bond if its free stake is short; a jury of fresh
/// blind replicas then decides.
///
/// The contract takes a rejection while the job is in its challenge window,
/// or against an agreed (`Computed`) result before its release deadline
/// while the two dispute rounds a jury needs remain (a round-0 result). A
/// job whose challenge window closed before the owner acted (what `watch`
/// sees: it hands over a `Challenge` job only then) is first `advance`d to
/// `Computed`, then rejected there. Where nothing can be disputed the
/// answer says why ([`Dispute::Closed`]); a call that failed on the way is
/// [`Dispute::Failed`], to be retried.
pub async fn dispute<C: Chain, S: BlobStore>(
    client: &Client<C, S>,
    owner: &Signer,
    job_id: JobId,
    mismatch: &Mismatch,
) -> Dispute {
    match try_dispute(client, owner, job_id, mismatch).await {
        Ok(done) => done,
        Err(e) => {
            // The whole chain of causes: the error itself says only its own words.
            let mut why = e.to_string();
            let mut cause = std::error::Error::source(&e);
            while let Some(c) = cause {
                why.push_str(": ");
                why.push_str(&c.to_string());
                cause = c.source();
            }
            Dispute::Failed(why)
        }
    }
}

async fn try_dispute<C: Chain, S: BlobStore>(
    client: &Client<C, S>,
    owner: &Signer,
    job_id: JobId,
    mismatch: &Mismatch,
) -> Result<Dispute> {
    let mut job = client.job(job_id).await?;
    if standing_result(&job) != Some(mismatch.agreed) {
        return Ok(Dispute::Closed(format!(
            "the job is {} and {} is no longer its standing result",
            status_name(job.status),
            hex32(&mismatch.agreed)
        )));
    }
    let mut advanced = false;
    if challenge_over(client, owner, &job).await? {
        // Too late to reject it under challenge: agree it first (nobody
        // else challenged), then reject the agreed result.
        let moved = client.market().advance(owner, job_id).await;
        job = client.job(job_id).await?;
        match moved {
            Ok(_) => advanced = true,
            // Someone advanced it first.
            Err(_) if job.status != JobStatus::Challenge => {}
            Err(e) => return Err(e.into()),
        }
    }
    let rounds = blindfold_protocol::types::MAX_DISPUTE_ROUNDS;
    let closed = match job.status {
        JobStatus::Challenge => None,
        JobStatus::Computed if job.round.saturating_add(2) > rounds => Some(format!(
            "it was agreed in dispute round {} and the contract takes a rejection only while \
             the two rounds a jury needs remain (at most {rounds}); its release window will \
             lapse at {} ms and refund the researcher",
            job.round, job.deadline
        )),
        JobStatus::Computed if client.market().deadline_passed(owner, job.deadline).await? => Some(
            "its release window is over: `advance` ends it and refunds the researcher".to_string(),
        ),
        JobStatus::Computed => None,
        JobStatus::Revealing => Some(
            "a third party challenged it within its challenge window: the challengers reveal \
             and a jury of fresh replicas decides; release the job once it is agreed again"
                .to_string(),
        ),
        status => Some(format!("the job is {} now", status_name(status))),
    };
    if let Some(why) = closed {
        return Ok(Dispute::Closed(why));
    }
    let correct = client.put(mismatch.correct.bundle.to_bytes()).await?;
    let free = match client.market().worker(&owner.account()).await {
        Ok(w) => w.free(),
        Err(e) if e.contract_error().is_some() => 0,
        Err(e) => return Err(e.into()),
    };
    if free < job.terms.claim_stake {
        client
            .market()
            .stake(owner, job.terms.claim_stake - free)
            .await?;
    }
    client.market().reject(owner, job_id, correct).await?;
    Ok(Dispute::Rejected { correct, advanced })
}

/// The result that stands on `job`: the agreed one, or, in a
/// replication-1 job's challenge window, the one result revealed so far
/// (what [`JobContext::candidate_result`](blindfold_job::JobContext::candidate_result)
/// verifies).
fn standing_result(job: &JobInfo) -> Option<Hash> {
    job.result_blob_hash.or_else(|| {
        if job.status != JobStatus::Challenge {
            return None;
        }
        job.claims.iter().find_map(|c| c.result_blob_hash)
    })
}

/// Whether `job` is in its challenge window and the window has passed, so
/// `advance` makes it `Computed` (when nobody challenged).
async fn challenge_over<C: Chain, S: BlobStore>(
    client: &Client<C, S>,
    owner: &Signer,
    job: &JobInfo,
) -> Result<bool> {
    Ok(job.status == JobStatus::Challenge
        && client.market().deadline_passed(owner, job.deadline).await?)
}

/// Jobs on datasets owned by `owner` that wait for a release: status
/// `Computed`, or `Challenge` with the challenge window over. Skips ids in
/// `done` (jobs known to be over, or on other owners' datasets). A shard
/// is never listed (its job is): one whose challenge window is over is
/// `advance`d to `Computed` here, which makes its job `Computed` once it
/// is the last.
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
        if job.shard.is_some() && job.status == JobStatus::Computed {
            // Released with its job, and paid by `finalize_all`.
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
        } else if job.shard.is_some() {
            // A shard whose challenge window is over is agreed now; its
            // job is released, verifying every shard, once all are.
            if challenge_over(client, owner, &job).await? {
                client.market().advance(owner, id).await?;
            }
        } else if job.status == JobStatus::Computed || challenge_over(client, owner, &job).await? {
            ready.push(id);
        }
    }
    Ok(ready)
}

/// Releases every job of the owner's datasets as soon as it is `Computed`
/// (or in `Challenge` with its window over), polling every `interval`;
/// with `once`, makes one pass and returns. Each attempt is reported to
/// `on_release`; a failed job is retried next pass.
///
/// A result that failed verification is disputed ([`dispute`]: a
/// `Challenge` job whose window closed is advanced, then rejected) and not
/// recomputed while it stands; the job is taken up again when it comes back
/// with another result or in another round (a jury's). A dispute that
/// failed on the way ([`Dispute::Failed`]) is retried next pass, with the
/// result already recomputed.
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
    let mut refusals = Refusals::default();
    loop {
        for job_id in releasable_jobs(client, owner, &mut done).await? {
            let job = match client.job(job_id).await {
                Ok(job) => job,
                Err(e) => {
                    on_release(job_id, &Err(e));
                    continue;
                }
            };
            if refusals.settled(job_id, &job) {
                continue;
            }
            let result = match refusals.undisputed(job_id, &job) {
                Some(mismatch) => {
                    let disputed = dispute(client, owner, job_id, &mismatch).await;
                    Err(ClientError::Unverified {
                        job: job_id,
                        mismatch,
                        disputed,
                    })
                }
                None => release_job(client, owner, keys, job_id, options).await,
            };
            if result.is_ok() {
                done.insert(job_id);
            }
            refusals.record(job_id, &job, &result);
            on_release(job_id, &result);
        }
        if once {
            return Ok(());
        }
        tokio::time::sleep(interval).await;
    }
}

/// What [`watch`] remembers of results that failed verification.
#[derive(Debug, Default)]
struct Refusals {
    /// Disputed, or beyond dispute: the result and the round it stood in.
    settled: std::collections::BTreeMap<JobId, (Hash, u8)>,
    /// Whose dispute failed on the way: disputed again, not recomputed.
    undisputed: std::collections::BTreeMap<JobId, Box<Mismatch>>,
}

impl Refusals {
    /// Whether `job`'s standing result was refused and dealt with.
    fn settled(&self, job_id: JobId, job: &JobInfo) -> bool {
        let standing = standing_result(job).map(|h| (h, job.round));
        standing.is_some() && self.settled.get(&job_id) == standing.as_ref()
    }

    /// The mismatch of `job`'s standing result, if its dispute failed.
    fn undisputed(&mut self, job_id: JobId, job: &JobInfo) -> Option<Box<Mismatch>> {
        let mismatch = self.undisputed.remove(&job_id)?;
        (standing_result(job) == Some(mismatch.agreed)).then_some(mismatch)
    }

    /// Notes what became of `job` (as it was before the attempt).
    fn record(&mut self, job_id: JobId, job: &JobInfo, result: &Result<ReleaseReport>) {
        match result {
            Err(ClientError::Unverified {
                mismatch, disputed, ..
            }) if disputed.is_transient() => {
                self.undisputed.insert(job_id, mismatch.clone());
            }
            Err(ClientError::Unverified { mismatch, .. }) => {
                self.settled.insert(job_id, (mismatch.agreed, job.round));
            }
            _ => {}
        }
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

/// What `withdraw` moved, as the command reports it.
#[derive(Clone, Debug, Serialize)]
pub struct Withdrawn {
    /// The amount withdrawn (base units).
    #[serde(with = "crate::units::units_str")]
    pub amount: Balance,
}

impl Withdrawn {
    /// The amount and where it went (`to`: the account's name), for people.
    pub fn summary(&self, to: &str) -> String {
        format!("withdrew {} to {to}", format_units(self.amount))
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use blindfold_job::{Recomputed, ResultBundle};
    use blindfold_protocol::types::{PipelineId, Terms};

    fn job(status: JobStatus, round: u8, result: Option<Hash>) -> JobInfo {
        JobInfo {
            dataset_id: 0,
            researcher: [0; 32],
            pipeline: PipelineId::LvArea,
            params_hash: [0; 32],
            input_digest: [0; 32],
            server_key_hash: [0; 32],
            submission_count: 2,
            revocation_count: 0,
            epsilon: 0,
            price: 0,
            terms: Terms::default(),
            escrow: 0,
            slashed: 0,
            replication: 1,
            slots: 1,
            offers: vec![],
            challenged: None,
            jury_from: 0,
            commit_deadline: 0,
            round,
            status,
            requested_at: 0,
            deadline: 0,
            claims: vec![],
            result_blob_hash: result,
            commitment: None,
            released_hash: None,
            shard: None,
            shards: 0,
            shards_computed: 0,
        }
    }

    fn unverified(agreed: Hash, disputed: Dispute) -> Result<ReleaseReport> {
        let correct = Recomputed {
            bundle: ResultBundle::default(),
            result_hash: [2; 32],
            commitment: [0; 32],
            pbs: 0,
            ops: Default::default(),
            threads: 1,
            seconds: 0.0,
        };
        Err(ClientError::Unverified {
            job: 5,
            mismatch: Box::new(Mismatch {
                agreed,
                correct_hash: [2; 32],
                differing: vec![0],
                reason: "forged".into(),
                correct,
            }),
            disputed,
        })
    }

    /// `watch` keeps at a refused result only while a dispute of it may
    /// still go through, and takes the job up again when another result
    /// (or the same one in a later round) stands.
    #[test]
    fn watch_retries_failed_disputes_and_new_results_only() {
        let forged = [1; 32];
        let agreed = job(JobStatus::Computed, 0, Some(forged));

        // A dispute that failed on the way: retried, without recomputing.
        let mut r = Refusals::default();
        r.record(
            5,
            &agreed,
            &unverified(forged, Dispute::Failed("rpc".into())),
        );
        assert!(!r.settled(5, &agreed), "a failed dispute is retried");
        let again = r.undisputed(5, &agreed).expect("the mismatch is kept");
        assert_eq!(again.agreed, forged);
        assert!(r.undisputed(5, &agreed).is_none(), "taken once");
        // ... but not against another result than the one it recomputed.
        r.record(
            5,
            &agreed,
            &unverified(forged, Dispute::Failed("rpc".into())),
        );
        let other = job(JobStatus::Computed, 0, Some([3; 32]));
        assert!(r.undisputed(5, &other).is_none());

        // Rejected, or beyond dispute: not recomputed while it stands.
        for disputed in [
            Dispute::Rejected {
                correct: [2; 32],
                advanced: true,
            },
            Dispute::Closed("spent".into()),
        ] {
            let mut r = Refusals::default();
            r.record(5, &agreed, &unverified(forged, disputed));
            assert!(r.settled(5, &agreed));
            assert!(!r.settled(4, &agreed), "only that job");
            assert!(!r.settled(5, &other), "a jury's new result is verified");
            let later = job(JobStatus::Computed, 2, Some(forged));
            assert!(!r.settled(5, &later), "so is the same one in a later round");
            assert!(r.undisputed(5, &agreed).is_none());
        }

        // Other failures are retried from scratch.
        let mut r = Refusals::default();
        r.record(5, &agreed, &Err(ClientError::State("store down".into())));
        assert!(!r.settled(5, &agreed));
        assert!(r.undisputed(5, &agreed).is_none());
    }

    #[test]
    fn dispute_messages_say_what_happened() {
        let rejected = Dispute::Rejected {
            correct: [0xab; 32],
            advanced: true,
        }
        .to_string();
        assert!(rejected.contains("advanced to Computed"), "{rejected}");
        assert!(rejected.contains("challenged on chain"), "{rejected}");
        let failed = Dispute::Failed("connection reset".into());
        assert!(failed.is_transient());
        assert!(failed.to_string().contains("retry"), "{failed}");
        assert!(!Dispute::Closed("spent".into()).is_transient());
    }
}
