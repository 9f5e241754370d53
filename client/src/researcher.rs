//! The researcher: browse datasets, pay for a job, follow it, fetch what
//! the data owner released.
//!
//! - [`list_datasets`]: every dataset with its policy, price, cohort and
//!   metadata (geometry, preprocessing) read from the blob store.
//! - [`default_params`] / [`read_params_file`]: the pipeline parameters of a
//!   job: defaults derived from the dataset geometry (for `lv-area`: the
//!   default LV ellipse mask and threshold of `blindfold-echo`), or any
//!   pipeline from a JSON file.
//! - [`request_job`]: publishes the [`JobSpec`] blob and calls `request`
//!   with escrow `price + worker_fee × (replication + 1)`
//!   ([`required_escrow`]).
//! - [`job_status`]: where a job is in its lifecycle; a sharded job with
//!   each of its shards ([`shards_of`]), a shard with its sharded job and range.
//! - [`fetch_result`]: the released result, hash-checked against the chain;
//!   [`fetch_to_dir`] also saves it and draws its plots ([`Fetched`]).
//! - [`result_table`]: the result as text tables.
//!
//! Each report type ([`Requested`], [`JobReport`], [`Fetched`]) renders
//! itself for people with its `summary`; the CLI prints that, or the JSON.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use blindfold_chain::{Chain, Signer};
use blindfold_fhe::{
    Conv3x3Params, Geometry, HistogramParams, LvAreaParams, Mask, PipelineParams, Scheme,
};
use blindfold_job::blobs::JSON_LIMIT;
use blindfold_job::{DatasetMetadata, JobSpec, ReleasedResult};
use blindfold_protocol::types::{
    required_escrow, Balance, DatasetId, Hash, JobId, JobInfo, MilliEpsilon, ShardOf, Timestamp,
    MAX_SHARDS,
};
use blindfold_store::BlobStore;
use serde::Serialize;

use crate::error::{ClientError, Result};
use crate::plot::{self, Labels, PlotReport};
use crate::units::{format_epsilon, format_units, short_hex};
use crate::{status_name, Client};

/// Time from request to the commit deadline unless the caller says otherwise.
pub const DEFAULT_COMPUTE_WINDOW_MS: u64 = 3_600_000;

// ---- datasets ------------------------------------------------------------------

/// One dataset as a researcher sees it.
#[derive(Clone, Debug, Serialize)]
pub struct DatasetListing {
    /// Dataset id.
    pub id: DatasetId,
    /// Owner account.
    #[serde(with = "crate::units::hex32")]
    pub owner: [u8; 32],
    /// Price per job (base units).
    #[serde(with = "crate::units::units_str")]
    pub price: Balance,
    /// Escrow a job needs now (base units).
    #[serde(with = "crate::units::units_str")]
    pub escrow: Balance,
    /// Allowed pipelines.
    pub pipelines: Vec<String>,
    /// Minimum cohort.
    pub min_cohort: u32,
    /// Replication factor.
    pub replication: u8,
    /// Differential-privacy budget (thousandths of epsilon), if enforced.
    pub dp_budget_milli: Option<MilliEpsilon>,
    /// Epsilon spent so far (thousandths).
    pub dp_spent_milli: MilliEpsilon,
    /// Whether it takes jobs.
    pub active: bool,
    /// Live submissions.
    pub cohort: u64,
    /// The metadata, when the store has it.
    pub metadata: Option<DatasetMetadata>,
    /// Why the metadata could not be read, if it could not.
    pub metadata_error: Option<String>,
}

/// Every dataset on the marketplace.
pub async fn list_datasets<C: Chain, S: BlobStore>(
    client: &Client<C, S>,
) -> Result<Vec<DatasetListing>> {
    let state = client.market().state().await?;
    let mut out = Vec::new();
    for id in 0..state.dataset_count {
        let info = client.market().dataset(id).await?;
        let (metadata, metadata_error) = match client.dataset(id).await {
            Ok((_, m)) => (Some(m), None),
            Err(e) => (None, Some(e.to_string())),
        };
        out.push(DatasetListing {
            id,
            owner: info.owner,
            price: info.price,
            escrow: required_escrow(
                info.price,
                state.params.worker_fee,
                info.policy.replication,
                1,
            )
            .unwrap_or(Balance::MAX),
            pipelines: info
                .policy
                .allowed_pipelines
                .iter()
                .map(|p| p.as_str().to_string())
                .collect(),
            min_cohort: info.policy.min_cohort,
            replication: info.policy.replication,
            dp_budget_milli: info.policy.dp_epsilon_budget,
            dp_spent_milli: info.epsilon_spent,
            active: info.active,
            cohort: info.cohort(),
            metadata,
            metadata_error,
        });
    }
    Ok(out)
}

/// The datasets as a text table.
pub fn datasets_table(list: &[DatasetListing]) -> String {
    if list.is_empty() {
        return "no datasets registered yet\n".into();
    }
    let mut t = Table::new(&[
        "id",
        "name",
        "videos",
        "geometry",
        "pipelines",
        "price",
        "escrow",
        "min cohort",
        "repl",
        "DP budget",
        "active",
    ]);
    for d in list {
        let (name, geometry) = match &d.metadata {
            Some(m) => (
                m.name.clone(),
                format!(
                    "{}x{}x{}f {}b{}",
                    m.geometry.width,
                    m.geometry.height,
                    m.geometry.frames,
                    m.geometry.bits,
                    if m.aggregates_only { " agg-only" } else { "" }
                ),
            ),
            None => ("?".into(), "metadata missing".into()),
        };
        let dp = match d.dp_budget_milli {
            Some(b) => format!(
                "{} of {}",
                format_epsilon(d.dp_spent_milli),
                format_epsilon(b)
            ),
            None => "none".into(),
        };
        t.row(vec![
            d.id.to_string(),
            name,
            d.cohort.to_string(),
            geometry,
            d.pipelines.join(","),
            format_units(d.price),
            format_units(d.escrow),
            d.min_cohort.to_string(),
            d.replication.to_string(),
            dp,
            if d.active { "yes" } else { "no" }.into(),
        ]);
    }
    t.render()
}

// ---- job parameters ------------------------------------------------------------

/// Default parameters of `pipeline` for videos of geometry `g`:
/// - `lv-area`: every frame, the default LV ellipse mask
///   (`blindfold_echo::default_lv_mask`) and `default_threshold(bits)`;
/// - `histogram`: every frame, the same LV mask;
/// - `conv3x3`: every frame, the 3x3 box blur.
///
/// `linear-model` has no default: its weights are the researcher's model
/// (`--params model.json`).
pub fn default_params(pipeline: &str, g: &Geometry) -> Result<PipelineParams> {
    let lv_mask = || {
        let mask = blindfold_echo::default_lv_mask(usize::from(g.width), usize::from(g.height));
        Mask::Pixels(
            mask.iter()
                .enumerate()
                .filter(|(_, &inside)| inside)
                .map(|(i, _)| i as u32)
                .collect(),
        )
    };
    Ok(match pipeline {
        "lv-area" => PipelineParams::LvArea(LvAreaParams {
            frames: vec![],
            mask: lv_mask(),
            threshold: blindfold_echo::default_threshold(g.bits),
        }),
        "histogram" => PipelineParams::Histogram(HistogramParams {
            frames: vec![],
            mask: lv_mask(),
        }),
        "conv3x3" => PipelineParams::Conv3x3(Conv3x3Params {
            frames: vec![],
            kernel: Conv3x3Params::BOX_BLUR,
        }),
        "linear-model" => {
            return Err(ClientError::Usage(
                "linear-model has no default parameters: pass --params model.json with its features and bias"
                    .into(),
            ))
        }
        other => {
            return Err(ClientError::Usage(format!(
                "unknown pipeline '{other}' (expected lv-area, conv3x3, histogram or linear-model)"
            )))
        }
    })
}

/// Reads pipeline parameters from a JSON file holding either the parameters
/// (`{"pipeline": "lv-area", "params": {...}}`) or a whole job spec.
pub fn read_params_file(path: &Path) -> Result<PipelineParams> {
    let bytes = std::fs::read(path).map_err(|e| ClientError::io("reading", path, e))?;
    if let Ok(spec) = JobSpec::from_bytes(&bytes) {
        return Ok(spec.params);
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        ClientError::Usage(format!(
            "{} does not hold pipeline parameters: {e} \
             (expected {{\"pipeline\": \"lv-area\", \"params\": {{...}}}})",
            path.display()
        ))
    })
}

// ---- jobs ----------------------------------------------------------------------

/// What a researcher asks for.
#[derive(Clone, Debug)]
pub struct RequestOptions {
    /// The pipeline and its parameters.
    pub params: PipelineParams,
    /// Epsilon to spend (thousandths); required on datasets with a DP budget.
    pub epsilon_milli: MilliEpsilon,
    /// Time from now to the commit deadline; clamped into the contract's
    /// allowed window. Default [`DEFAULT_COMPUTE_WINDOW_MS`].
    pub compute_window_ms: Option<u64>,
    /// The researcher's `age` recipient (`age1…`) the release is sealed
    /// to. `None` asks for a release in the clear, which only a dataset
    /// with public releases allows.
    pub release_to: Option<String>,
    /// How the job is split into shards that different workers compute at
    /// once.
    pub shard_size: ShardSize,
}

/// How a job is split into shards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShardSize {
    /// Shards big enough that the chain traffic of each costs under 1 % of
    /// its compute, and at most `MAX_SHARDS` of them; see
    /// [`ShardSize::resolve`].
    Auto,
    /// Shards of this many submissions (at most `MAX_SHARDS` of them); 0
    /// computes the job whole.
    Fixed(u64),
}

/// The programmable bootstraps a TFHE shard computes at least when its size
/// is chosen for the researcher ([`ShardSize::Auto`]): about 18 minutes on a
/// 2-core machine at 14 ms per PBS per core (the fastest measured), so a
/// shard's own chain traffic (six to nine transactions, each about a second
/// on a node: `docs/shards.md`) stays under 1 % of its compute.
pub const AUTO_SHARD_PBS: u64 = 150_000;

impl ShardSize {
    /// The shard size to request for a job of `submissions` videos under
    /// `scheme`, each `pbs_per_video` bootstraps (TFHE).
    ///
    /// `Auto` splits a TFHE job into shards of at least [`AUTO_SHARD_PBS`]
    /// and at most `MAX_SHARDS` shards, and computes it whole when one
    /// shard would hold it all. A BFV job is always whole: packed BFV
    /// computes EchoNet-Dynamic's 10,030 videos in minutes on one machine,
    /// so a shard's chain traffic would cost more than the split saves.
    pub fn resolve(self, scheme: Scheme, pbs_per_video: u64, submissions: u64) -> u64 {
        match (self, scheme) {
            (ShardSize::Fixed(n), _) => n,
            (ShardSize::Auto, Scheme::Bfv(_)) => 0,
            (ShardSize::Auto, Scheme::Tfhe(_)) => {
                let by_work = AUTO_SHARD_PBS.div_ceil(pbs_per_video.max(1));
                let by_count = submissions.div_ceil(u64::from(MAX_SHARDS));
                let size = by_work.max(by_count);
                if size >= submissions {
                    0
                } else {
                    size
                }
            }
        }
    }
}

impl std::str::FromStr for ShardSize {
    type Err = String;

    /// `auto`, or a number of videos (0: whole).
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim() {
            "auto" => Ok(ShardSize::Auto),
            n => n.parse().map(ShardSize::Fixed).map_err(|_| {
                format!("'{s}' is not a shard size: give 'auto' or a number of videos (0: whole)")
            }),
        }
    }
}

/// A requested job.
#[derive(Clone, Debug, Serialize)]
pub struct Requested {
    /// The new job's id.
    pub job_id: JobId,
    /// Its dataset.
    pub dataset_id: DatasetId,
    /// Its pipeline.
    pub pipeline: String,
    /// SHA-256 of the job-spec blob.
    #[serde(with = "crate::units::hex32")]
    pub params_hash: Hash,
    /// Escrow paid (base units).
    #[serde(with = "crate::units::units_str")]
    pub escrow: Balance,
    /// Commit deadline (chain time, ms).
    pub deadline: Timestamp,
    /// Programmable bootstraps per video the workers will run.
    pub pbs_per_video: u64,
    /// Submissions per shard (0: the job whole).
    pub shard_size: u64,
    /// Its shards (1: the job whole).
    pub shards: u32,
}

impl Requested {
    /// The new job and how to follow it, for people.
    pub fn summary(&self) -> String {
        let split = match self.shards {
            0 | 1 => "whole".to_string(),
            n => format!("in {n} shards of up to {} videos", self.shard_size),
        };
        format!(
            "requested job {} ({} on dataset {}, {split}), escrow {} paid, {} PBS per video\n\
             follow it with: blindfold status {} --watch",
            self.job_id,
            self.pipeline,
            self.dataset_id,
            format_units(self.escrow),
            self.pbs_per_video,
            self.job_id
        )
    }
}

/// Publishes the job spec and requests the job, paying the escrow.
pub async fn request_job<C: Chain, S: BlobStore>(
    client: &Client<C, S>,
    researcher: &Signer,
    dataset: DatasetId,
    options: &RequestOptions,
) -> Result<Requested> {
    let (info, metadata) = client.dataset(dataset).await?;
    let params = &options.params;
    let scheme = metadata.scheme();
    let pbs_per_video = scheme
        .validate_params(params, &metadata.geometry)
        .and_then(|()| match scheme {
            Scheme::Tfhe(_) => params.pbs_count(&metadata.geometry),
            Scheme::Bfv(_) => Ok(0),
        })
        .map_err(|e| {
            ClientError::Usage(format!(
                "the {} parameters do not fit dataset {dataset} ({}x{}, {} frames, {} bits): {e}",
                params.id(),
                metadata.geometry.width,
                metadata.geometry.height,
                metadata.geometry.frames,
                metadata.geometry.bits
            ))
        })?;
    let pipeline = params.id();
    if !info.policy.allowed_pipelines.contains(pipeline) {
        let allowed: Vec<&str> = info
            .policy
            .allowed_pipelines
            .iter()
            .map(|p| p.as_str())
            .collect();
        return Err(ClientError::Usage(format!(
            "dataset {dataset} does not allow {pipeline} (allowed: {})",
            allowed.join(", ")
        )));
    }
    if info.policy.dp_epsilon_budget.is_some() && options.epsilon_milli == 0 {
        return Err(ClientError::Usage(format!(
            "dataset {dataset} enforces a differential-privacy budget: pass --epsilon (e.g. 0.5)"
        )));
    }
    let state = client.market().state().await?;
    let p = state.params;
    let shard_size = options
        .shard_size
        .resolve(scheme, pbs_per_video, info.submission_count);
    let shards = ShardOf::count(info.submission_count, shard_size).unwrap_or(1);
    if shards > u64::from(MAX_SHARDS) {
        return Err(ClientError::Usage(format!(
            "--shard-size {} splits dataset {dataset}'s {} submissions into {shards} shards; \
             the most is {MAX_SHARDS} (use --shard-size {} or more)",
            shard_size,
            info.submission_count,
            info.submission_count.div_ceil(u64::from(MAX_SHARDS))
        )));
    }
    let shards = u32::try_from(shards).unwrap_or(MAX_SHARDS);
    let escrow = required_escrow(info.price, p.worker_fee, info.policy.replication, shards)
        .ok_or_else(|| ClientError::State("the escrow overflows".into()))?;
    // The offer window and a draw's reveal window come first: the shortest
    // window the contract takes leaves the minimum compute time after them.
    let shortest = p
        .min_compute_window
        .saturating_add(p.offer_window)
        .saturating_add(p.reveal_window)
        .min(p.max_compute_window);
    let window = options
        .compute_window_ms
        .unwrap_or(DEFAULT_COMPUTE_WINDOW_MS)
        .clamp(shortest, p.max_compute_window);
    let release_to = match &options.release_to {
        Some(text) => Some(crate::seal::parse_recipient(text)?.to_string()),
        None if metadata.public_releases => None,
        None => {
            return Err(ClientError::Usage(format!(
                "dataset {dataset} releases results only sealed to the researcher: \
                 create a release key with `blindfold researcher-key` (or pass --release-to age1…)"
            )))
        }
    };
    let spec = JobSpec {
        release_to,
        ..JobSpec::new(scheme, params.clone())
    };
    let params_hash = client.put(spec.to_bytes()).await?;
    // The dataset as read above: if its owner changes the price, the
    // replication or the inputs before the request lands, it is refused.
    let expected = info.expected_with::<blindfold_protocol::hash::Sha2>(dataset);
    // The contract's answer first, so that a refused request sends nothing.
    let chain = client.market().chain();
    let now = chain.now().await?;
    client
        .market()
        .check_request(
            &researcher.account(),
            dataset,
            pipeline,
            params_hash,
            options.epsilon_milli,
            now.saturating_add(window),
            expected,
            shard_size,
            escrow,
        )
        .await?;
    // The deadline counts from the chain's time, brought up to date first
    // (an idle instant-seal node's clock stands still until a block is made).
    let now = chain.catch_up(researcher).await?;
    let deadline = now.saturating_add(window);
    let job_id = client
        .market()
        .request(
            researcher,
            dataset,
            pipeline,
            params_hash,
            options.epsilon_milli,
            deadline,
            expected,
            shard_size,
            escrow,
        )
        .await?;
    Ok(Requested {
        job_id,
        dataset_id: dataset,
        pipeline: pipeline.as_str().into(),
        params_hash,
        escrow,
        deadline,
        pbs_per_video,
        shard_size,
        shards,
    })
}

/// A job as the researcher follows it.
#[derive(Clone, Debug, Serialize)]
pub struct JobReport {
    /// The job.
    pub job_id: JobId,
    /// Its dataset.
    pub dataset_id: DatasetId,
    /// Its pipeline.
    pub pipeline: String,
    /// Lifecycle status (`Open`, `Computed`, `Released`, `Finalized`, ...).
    pub status: String,
    /// Whether no more money moves.
    pub terminal: bool,
    /// Videos it covers.
    pub cohort: u64,
    /// Replication factor.
    pub replication: u8,
    /// Offers for the current round's free slots, before its draw.
    pub offers: usize,
    /// Claims so far.
    pub claims: usize,
    /// Claims that posted a sealed commitment.
    pub committed: usize,
    /// Claims that revealed.
    pub revealed: usize,
    /// Epsilon spent (thousandths).
    pub epsilon_milli: MilliEpsilon,
    /// Escrow still held (base units).
    #[serde(with = "crate::units::units_str")]
    pub escrow: Balance,
    /// Deadline of the current status (chain time, ms; `u64::MAX` while a
    /// sharded job waits for its shards and on an agreed shard).
    pub deadline: Timestamp,
    /// The chain's time now (ms).
    pub now: Timestamp,
    /// The agreed result blob hash (none on a sharded job: its shards have one each).
    #[serde(with = "crate::units::hex32::option")]
    pub result_blob_hash: Option<Hash>,
    /// The agreed commitment (on a sharded job, the fold of its shards'
    /// commitments, once every shard agreed).
    #[serde(with = "crate::units::hex32::option")]
    pub commitment: Option<Hash>,
    /// The released-result hash.
    #[serde(with = "crate::units::hex32::option")]
    pub released_hash: Option<Hash>,
    /// On a shard: the sharded job it belongs to and the submissions it covers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard_of: Option<ShardPlace>,
    /// On a sharded job: how many of its shards have agreed (the chain's count).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shards_computed: Option<u32>,
    /// On a sharded job: each shard, in order (empty otherwise).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<ShardReport>,
}

/// Where a shard sits in its sharded job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ShardPlace {
    /// The sharded job.
    pub job: JobId,
    /// The shard's place, `0..shards`.
    pub index: u32,
    /// The first submission index it covers.
    pub first: u64,
    /// One past the last submission index it covers.
    pub end: u64,
}

impl From<ShardOf> for ShardPlace {
    fn from(s: ShardOf) -> Self {
        ShardPlace {
            job: s.job,
            index: s.index,
            first: s.first,
            end: s.end,
        }
    }
}

/// One shard of a sharded job, as its [`JobReport`] lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ShardReport {
    /// The shard's own job id.
    pub job_id: JobId,
    /// Its place, `0..shards`.
    pub index: u32,
    /// The first submission index it covers.
    pub first: u64,
    /// One past the last submission index it covers.
    pub end: u64,
    /// Its lifecycle status.
    pub status: String,
    /// Its agreed commitment, once `Computed`.
    #[serde(with = "crate::units::hex32::option")]
    pub commitment: Option<Hash>,
    /// Its agreed result blob hash, once `Computed`.
    #[serde(with = "crate::units::hex32::option")]
    pub result_blob_hash: Option<Hash>,
}

/// The shards of sharded job `job_id` (whose on-chain state is `job`), in
/// order: jobs `job_id + 1 ..= job_id + job.shards` with their state, each
/// checked to be the shard of `job_id` at its place. Empty for a job that
/// is not sharded.
pub async fn shards_of<C: Chain, S: BlobStore>(
    client: &Client<C, S>,
    job_id: JobId,
    job: &JobInfo,
) -> Result<Vec<(JobId, JobInfo)>> {
    let ids = shard_ids(job_id, job)?;
    let mut out = Vec::with_capacity(ids.len());
    for (index, id) in (0u32..).zip(ids) {
        let shard = client.job(id).await?;
        check_shard(job_id, index, id, &shard)?;
        out.push((id, shard));
    }
    Ok(out)
}

/// The job ids of sharded job `job_id`'s shards (`job_id + 1 ..= job_id +
/// job.shards`; none for a job that is not sharded). Refuses a shard count
/// above [`MAX_SHARDS`] or ids past the last job id, which no contract
/// writes.
pub fn shard_ids(job_id: JobId, job: &JobInfo) -> Result<Vec<JobId>> {
    if job.shards > MAX_SHARDS {
        return Err(ClientError::Integrity(format!(
            "the chain says job {job_id} has {} shards; the contract allows at most {MAX_SHARDS}",
            job.shards
        )));
    }
    (1..=u64::from(job.shards))
        .map(|k| {
            job_id.checked_add(k).ok_or_else(|| {
                ClientError::Integrity(format!(
                    "the shards of job {job_id} ({} of them) run past the last job id",
                    job.shards
                ))
            })
        })
        .collect()
}

/// Checks that job `id` (state `shard`) is shard `index` of job `parent`.
pub fn check_shard(parent: JobId, index: u32, id: JobId, shard: &JobInfo) -> Result<()> {
    match shard.shard {
        Some(s) if s.job == parent && s.index == index && s.first <= s.end => Ok(()),
        Some(s) => Err(ClientError::Integrity(format!(
            "job {id} should be shard {index} of job {parent}, but the chain has it as shard {} of job {} (submissions {}..{})",
            s.index, s.job, s.first, s.end
        ))),
        None => Err(ClientError::Integrity(format!(
            "job {id} should be shard {index} of job {parent}, but the chain has it as a job of its own"
        ))),
    }
}

/// Where job `job_id` is; on a sharded job, each of its shards too.
pub async fn job_status<C: Chain, S: BlobStore>(
    client: &Client<C, S>,
    job_id: JobId,
) -> Result<JobReport> {
    let job = client.job(job_id).await?;
    let shards = shards_of(client, job_id, &job).await?;
    let now = client.market().chain().now().await?;
    Ok(JobReport::new(job_id, &job, now, &shards))
}

impl JobReport {
    /// The report of job `job_id` in state `job` at chain time `now`, with
    /// its `shards` (see [`shards_of`]; empty unless the job is sharded).
    pub fn new(job_id: JobId, job: &JobInfo, now: Timestamp, shards: &[(JobId, JobInfo)]) -> Self {
        JobReport {
            job_id,
            dataset_id: job.dataset_id,
            pipeline: job.pipeline.as_str().into(),
            status: status_name(job.status),
            terminal: job.status.is_terminal(),
            cohort: job.cohort(),
            replication: job.replication,
            offers: job.offers.len(),
            claims: job.claims.len(),
            committed: job.claims.iter().filter(|c| c.sealed.is_some()).count(),
            revealed: job
                .claims
                .iter()
                .filter(|c| c.result_blob_hash.is_some())
                .count(),
            epsilon_milli: job.epsilon,
            escrow: job.escrow,
            deadline: job.deadline,
            now,
            result_blob_hash: job.result_blob_hash,
            commitment: job.commitment,
            released_hash: job.released_hash,
            shard_of: job.shard.map(ShardPlace::from),
            shards_computed: job.is_sharded().then_some(job.shards_computed),
            shards: shards
                .iter()
                .map(|(id, s)| {
                    let range = s.range();
                    ShardReport {
                        job_id: *id,
                        index: s.shard.map_or(0, |p| p.index),
                        first: range.start,
                        end: range.end,
                        status: status_name(s.status),
                        commitment: s.commitment,
                        result_blob_hash: s.result_blob_hash,
                    }
                })
                .collect(),
        }
    }

    /// On a sharded job: (shards agreed, shards).
    pub fn shard_progress(&self) -> Option<(u32, u32)> {
        let total = u32::try_from(self.shards.len()).unwrap_or(u32::MAX);
        self.shards_computed.map(|done| (done, total))
    }

    /// Whether following the job is over: it ended, or it was released, or
    /// it is a shard that agreed (a shard is never released itself; its
    /// sharded job is, once every shard agreed).
    pub fn done(&self) -> bool {
        self.terminal
            || self.released_hash.is_some()
            || (self.shard_of.is_some() && self.commitment.is_some())
    }

    /// For people: one line, `job 3 (lv-area on dataset 0, 20 videos): Open,
    /// 3 offers, 0/2 claimed ...`; a shard names its sharded job and range;
    /// a sharded job counts its agreed shards and lists them below, one per
    /// line.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "job {} ({} on dataset {}, {} videos",
            self.job_id, self.pipeline, self.dataset_id, self.cohort
        );
        if let Some(p) = &self.shard_of {
            let _ = write!(
                s,
                ", shard {} of job {}, submissions {}..{}",
                p.index, p.job, p.first, p.end
            );
        }
        let _ = write!(s, "): {}", self.status);
        if let Some((done, total)) = self.shard_progress() {
            let _ = write!(s, ", {done}/{total} shards agreed");
        }
        if !self.terminal {
            let agreed_shard = self.shard_of.zip(self.commitment);
            if let Some((p, c)) = agreed_shard {
                let _ = write!(
                    s,
                    ", agreed {}, paid when job {} is released or ends",
                    short_hex(&c),
                    p.job
                );
            } else if self.shards_computed.is_none() {
                if self.offers > 0 {
                    let _ = write!(s, ", {} offers", self.offers);
                }
                let _ = write!(
                    s,
                    ", {}/{} claimed, {} committed, {} revealed",
                    self.claims, self.replication, self.committed, self.revealed
                );
            }
            // A sharded job waiting for its shards, and an agreed shard,
            // have no deadline of their own.
            if self.deadline != Timestamp::MAX {
                let left = self.deadline.saturating_sub(self.now) / 1000;
                let _ = write!(s, ", deadline in {left} s");
            }
        }
        if let Some(h) = &self.released_hash {
            let _ = write!(s, ", released {}", short_hex(h));
        }
        for shard in &self.shards {
            let _ = write!(
                s,
                "\n  shard {} (job {}, submissions {}..{}): {}",
                shard.index, shard.job_id, shard.first, shard.end, shard.status
            );
            if let Some(c) = &shard.commitment {
                let _ = write!(s, ", commitment {}", short_hex(c));
            }
            if let Some(r) = &shard.result_blob_hash {
                let _ = write!(s, ", result {}", short_hex(r));
            }
        }
        s
    }
}

/// The released result of job `job_id`, after checking that its bytes hash
/// to the `released_hash` on chain and that it names this job.
pub async fn fetch_result<C: Chain, S: BlobStore>(
    client: &Client<C, S>,
    job_id: JobId,
    identity: Option<&age::x25519::Identity>,
) -> Result<ReleasedResult> {
    let job = client.job(job_id).await?;
    let hash = job.released_hash.ok_or_else(|| {
        ClientError::State(format!(
            "job {job_id} is {} and has no released result yet",
            status_name(job.status)
        ))
    })?;
    if hash == [0; 32] {
        return Err(ClientError::State(format!(
            "job {job_id} was refused by the data owner's policy: nothing was released"
        )));
    }
    // The store checks the bytes against the hash recorded on chain.
    let what = format!("released result of job {job_id}");
    let bytes = client.get(&hash, JSON_LIMIT, &what).await?;
    let spec = client.job_spec(job_id, &job).await?;
    let bytes = match (&spec.release_to, identity) {
        (None, _) => bytes,
        (Some(_), Some(identity)) => crate::seal::open(&bytes, identity, &what)?,
        (Some(recipient), None) => {
            return Err(ClientError::Key(format!(
                "the {what} is sealed to {recipient}: pass the identity file that holds its key (--keys)"
            )))
        }
    };
    let result = ReleasedResult::from_bytes(&bytes)?;
    if result.job_id != job_id || result.pipeline != job.pipeline.as_str() {
        return Err(ClientError::Integrity(format!(
            "the released result recorded for job {job_id} is for job {} ({})",
            result.job_id, result.pipeline
        )));
    }
    Ok(result)
}

/// A fetched result: what [`fetch_to_dir`] read, saved and drew.
#[derive(Debug, Serialize)]
pub struct Fetched {
    /// The released result.
    pub result: ReleasedResult,
    /// The `released.json` it was saved to.
    pub file: PathBuf,
    /// The plots drawn (none when plots were not asked for).
    pub plots: PlotReport,
}

/// [`fetch_result`], then saves the result as `released.json` in `out`
/// (created if needed) and, with `plots`, draws its plots there
/// ([`plot::write_plots_with_labels`], against `labels` when given).
pub async fn fetch_to_dir<C: Chain, S: BlobStore>(
    client: &Client<C, S>,
    job_id: JobId,
    identity: Option<&age::x25519::Identity>,
    out: &Path,
    plots: bool,
    labels: Option<&Labels>,
) -> Result<Fetched> {
    let result = fetch_result(client, job_id, identity).await?;
    std::fs::create_dir_all(out).map_err(|e| ClientError::io("creating", out, e))?;
    let file = out.join("released.json");
    std::fs::write(&file, result.to_bytes()).map_err(|e| ClientError::io("writing", &file, e))?;
    let plots = if plots {
        plot::write_plots_with_labels(&result, out, labels)?
    } else {
        PlotReport::default()
    };
    Ok(Fetched {
        result,
        file,
        plots,
    })
}

impl Fetched {
    /// The result's tables, where it was saved, the plots and the agreement
    /// with the labels, for people.
    pub fn summary(&self) -> String {
        let mut s = result_table(&self.result);
        s.push_str(&format!(
            "\nhash checked against the chain; saved to {}\n",
            self.file.display()
        ));
        for f in &self.plots.files {
            s.push_str(&format!("plot: {}\n", f.display()));
        }
        if let Some(a) = &self.plots.agreement {
            s.push_str(&format!(
                "EF against the labels ({} videos): MAE {:.2}, bias {:+.2}, 95% limits of agreement {:+.2} to {:+.2} EF points\n",
                a.n, a.mae, a.bias, a.loa_low, a.loa_high
            ));
        }
        for n in &self.plots.notes {
            s.push_str(&format!("note: {n}\n"));
        }
        s
    }
}

/// The released result as text: a header, the aggregates, and one row per video.
pub fn result_table(r: &ReleasedResult) -> String {
    let mut out = format!(
        "job {}: {} over {} videos\n",
        r.job_id, r.pipeline, r.cohort
    );
    if let Some(dp) = &r.dp {
        let _ = writeln!(
            out,
            "differential privacy: epsilon {}, Laplace noise of scale {:.4} (L1 sensitivity {:.4}) added to every aggregate",
            format_epsilon(dp.epsilon_milli),
            dp.laplace_scale,
            dp.sensitivity
        );
    }
    out.push('\n');
    let mut t = Table::new(&["aggregate", "value"]);
    for (name, value) in &r.aggregates {
        t.row(vec![name.clone(), format!("{value:.3}")]);
    }
    out.push_str(&t.render());
    if r.videos.is_empty() {
        out.push_str("\nper-video values were not released (the dataset's policy)\n");
        return out;
    }
    out.push('\n');
    // Whole-cycle results: each beat's EF and the beat-to-beat SD.
    let beats = r.videos.iter().any(|v| !v.beats.is_empty());
    let mut t = if beats {
        Table::new(&["submission", "EF %", "EF per beat % (SD)", "values"])
    } else {
        Table::new(&["submission", "EF %", "values"])
    };
    for v in &r.videos {
        const SHOWN: usize = 8;
        let mut values: Vec<String> = v
            .values
            .iter()
            .take(SHOWN)
            .map(|x| format!("{x}"))
            .collect();
        if v.values.len() > SHOWN {
            values.push(format!("… ({} values)", v.values.len()));
        }
        let mut row = vec![
            v.submission.to_string(),
            v.ef_percent.map_or("-".into(), |e| format!("{e:.1}")),
        ];
        if beats {
            let each: Vec<String> = v
                .beats
                .iter()
                .map(|b| format!("{:.1}", b.ef_percent))
                .collect();
            let sd = v
                .ef_beat_sd
                .map_or(String::new(), |sd| format!(" ({sd:.1})"));
            row.push(if each.is_empty() {
                "-".into()
            } else {
                format!("{}{sd}", each.join(" "))
            });
        }
        row.push(values.join(" "));
        t.row(row);
    }
    out.push_str(&t.render());
    out
}

/// A plain text table with columns padded to their widest cell.
#[derive(Debug)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers.
    pub fn new(header: &[&str]) -> Self {
        Table {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table, one line per row, the header underlined.
    pub fn render(&self) -> String {
        let width = |i: usize| {
            std::iter::once(&self.header)
                .chain(&self.rows)
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..self.header.len()).map(width).collect();
        let line = |cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            padded.join("  ").trim_end().to_string() + "\n"
        };
        let mut out = line(&self.header);
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        out.push_str(&line(&rule));
        for r in &self.rows {
            out.push_str(&line(r));
        }
        out
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use blindfold_job::blobs::{ReleasedVideo, RELEASED_FORMAT};
    use blindfold_protocol::types::{JobStatus, PipelineId, Terms};

    use crate::units::hex32;

    #[test]
    fn auto_shards_a_tfhe_job_by_work_and_count_and_keeps_bfv_whole() {
        // TFHE lv-area on 32x32 ED+ES: 1,616 PBS per video, so a shard's
        // worth of work (150,000 PBS) is 93 videos.
        let auto = |scheme, n| ShardSize::Auto.resolve(scheme, 1_616, n);
        assert_eq!(auto(Scheme::TFHE, 10_030), 157, "64 shards at most");
        assert_eq!(auto(Scheme::TFHE, 1_000), 93, "a shard's worth of work");
        assert_eq!(auto(Scheme::TFHE, 93), 0, "one shard's worth: whole");
        assert_eq!(auto(Scheme::TFHE, 8), 0);
        assert_eq!(auto(Scheme::BFV, 10_030), 0, "BFV computes whole");
        assert_eq!(ShardSize::Fixed(8).resolve(Scheme::BFV, 0, 100), 8);
        assert_eq!(ShardSize::Auto.resolve(Scheme::TFHE, 0, 10), 0);
        for n in [1u64, 2, 63, 64, 65, 1_000, 10_030, 1 << 40] {
            let size = auto(Scheme::TFHE, n);
            let shards = ShardOf::count(n, size).unwrap_or(1);
            assert!(
                (1..=u64::from(MAX_SHARDS)).contains(&shards),
                "{n}: {shards}"
            );
        }
        assert_eq!("auto".parse(), Ok(ShardSize::Auto));
        assert_eq!(" 12 ".parse(), Ok(ShardSize::Fixed(12)));
        let err = "12 videos".parse::<ShardSize>().unwrap_err();
        assert!(err.contains("'12 videos' is not a shard size"), "{err}");
    }

    /// A job in `status` over 6 submissions, replication 2, with no claims.
    pub(crate) fn job(status: JobStatus) -> JobInfo {
        JobInfo {
            dataset_id: 0,
            researcher: [0; 32],
            pipeline: PipelineId::LvArea,
            params_hash: [0; 32],
            input_digest: [0; 32],
            server_key_hash: [0; 32],
            submission_count: 6,
            revocation_count: 0,
            epsilon: 0,
            price: 0,
            terms: Terms::default(),
            escrow: 0,
            slashed: 0,
            replication: 2,
            slots: 2,
            offers: vec![],
            challenged: None,
            jury_from: 0,
            commit_deadline: 0,
            round: 0,
            status,
            requested_at: 0,
            deadline: 60_000,
            claims: vec![],
            result_blob_hash: None,
            commitment: None,
            released_hash: None,
            shard: None,
            shards: 0,
            shards_computed: 0,
        }
    }

    /// Sharded job 3 over 6 submissions in 3 shards of 2 (jobs 4, 5, 6),
    /// shard 0 agreed, and its shards.
    pub(crate) fn sharded() -> (JobInfo, Vec<(JobId, JobInfo)>) {
        let mut parent = job(JobStatus::Sharded);
        parent.shards = 3;
        parent.shards_computed = 1;
        parent.deadline = Timestamp::MAX;
        let statuses = [JobStatus::Computed, JobStatus::Revealing, JobStatus::Open];
        let shards = (0u32..)
            .zip(statuses)
            .map(|(index, status)| {
                let mut shard = job(status);
                shard.shard = Some(ShardOf::nth(3, index, 6, 2));
                if status == JobStatus::Computed {
                    shard.commitment = Some([1; 32]);
                    shard.result_blob_hash = Some([2; 32]);
                    shard.deadline = Timestamp::MAX;
                }
                (4 + u64::from(index), shard)
            })
            .collect();
        (parent, shards)
    }

    #[test]
    fn a_whole_job_reports_as_before() {
        let report = JobReport::new(2, &job(JobStatus::Open), 20_000, &[]);
        assert_eq!(
            report.summary(),
            "job 2 (lv-area on dataset 0, 6 videos): Open, 0/2 claimed, 0 committed, 0 revealed, deadline in 40 s"
        );
        assert_eq!(report.shard_progress(), None);
        assert!(!report.done());
        let json = serde_json::to_value(&report).unwrap();
        for key in ["shards", "shard_of", "shards_computed"] {
            assert!(json.get(key).is_none(), "{key} in {json}");
        }
    }

    #[test]
    fn a_sharded_job_lists_its_shards_and_progress() {
        let (parent, shards) = sharded();
        for (index, (id, shard)) in (0u32..).zip(&shards) {
            check_shard(3, index, *id, shard).unwrap();
        }
        let report = JobReport::new(3, &parent, 20_000, &shards);
        assert_eq!(report.shard_progress(), Some((1, 3)));
        assert!(!report.done());
        let text = report.summary();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "job 3 (lv-area on dataset 0, 6 videos): Sharded, 1/3 shards agreed",
                "  shard 0 (job 4, submissions 0..2): Computed, commitment 0x0101010101010101…, result 0x0202020202020202…",
                "  shard 1 (job 5, submissions 2..4): Revealing",
                "  shard 2 (job 6, submissions 4..6): Open",
            ],
            "{text}"
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["shards_computed"], 1);
        let listed = json["shards"].as_array().unwrap();
        assert_eq!(listed.len(), 3);
        assert_eq!(listed[0]["job_id"], 4);
        assert_eq!(listed[0]["index"], 0);
        assert_eq!(listed[0]["first"], 0);
        assert_eq!(listed[0]["end"], 2);
        assert_eq!(listed[0]["status"], "Computed");
        assert_eq!(listed[0]["commitment"], hex32(&[1; 32]));
        assert_eq!(listed[0]["result_blob_hash"], hex32(&[2; 32]));
        assert!(listed[2]["commitment"].is_null());
        assert!(json.get("shard_of").is_none());

        // Every shard agreed: Computed, with its release window.
        let mut computed = parent.clone();
        computed.status = JobStatus::Computed;
        computed.shards_computed = 3;
        computed.commitment = Some([9; 32]);
        computed.deadline = 80_000;
        let text = JobReport::new(3, &computed, 20_000, &shards).summary();
        assert!(
            text.starts_with("job 3 (lv-area on dataset 0, 6 videos): Computed, 3/3 shards agreed, deadline in 60 s\n"),
            "{text}"
        );
    }

    #[test]
    fn a_shard_names_its_job_and_range() {
        let (_, shards) = sharded();
        let (id, agreed) = &shards[0];
        let report = JobReport::new(*id, agreed, 20_000, &[]);
        assert_eq!(
            report.summary(),
            "job 4 (lv-area on dataset 0, 2 videos, shard 0 of job 3, submissions 0..2): Computed, \
             agreed 0x0101010101010101…, paid when job 3 is released or ends"
        );
        assert!(report.done(), "an agreed shard is followed to the end");
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(
            json["shard_of"],
            serde_json::json!({"job": 3, "index": 0, "first": 0, "end": 2})
        );
        assert!(json.get("shards").is_none());
        let (id, computing) = &shards[1];
        let report = JobReport::new(*id, computing, 20_000, &[]);
        assert_eq!(
            report.summary(),
            "job 5 (lv-area on dataset 0, 2 videos, shard 1 of job 3, submissions 2..4): Revealing, \
             0/2 claimed, 0 committed, 0 revealed, deadline in 40 s"
        );
        assert!(!report.done());
    }

    #[test]
    fn shard_ids_and_places_are_checked() {
        let (mut parent, shards) = sharded();
        assert_eq!(shard_ids(3, &parent).unwrap(), vec![4, 5, 6]);
        assert!(shard_ids(3, &job(JobStatus::Open)).unwrap().is_empty());
        parent.shards = MAX_SHARDS + 1;
        let err = shard_ids(3, &parent).unwrap_err().to_string();
        assert!(err.contains("at most 64"), "{err}");
        parent.shards = 2;
        let err = shard_ids(u64::MAX - 1, &parent).unwrap_err().to_string();
        assert!(err.contains("past the last job id"), "{err}");

        let err = check_shard(3, 1, 4, &shards[0].1).unwrap_err().to_string();
        assert!(
            err.contains(
                "job 4 should be shard 1 of job 3, but the chain has it as shard 0 of job 3"
            ),
            "{err}"
        );
        let err = check_shard(2, 0, 4, &shards[0].1).unwrap_err().to_string();
        assert!(err.contains("shard 0 of job 3"), "{err}");
        let err = check_shard(3, 0, 4, &job(JobStatus::Open))
            .unwrap_err()
            .to_string();
        assert!(err.contains("a job of its own"), "{err}");
    }

    #[test]
    fn default_lv_area_params_fit_the_geometry() {
        let g = Geometry {
            width: 32,
            height: 32,
            bits: 4,
            frames: 2,
        };
        let p = default_params("lv-area", &g).unwrap();
        let PipelineParams::LvArea(lv) = &p else {
            panic!("{p:?}")
        };
        assert_eq!(lv.threshold, blindfold_echo::default_threshold(4));
        let Mask::Pixels(px) = &lv.mask else { panic!() };
        let inside = blindfold_echo::default_lv_mask(32, 32)
            .iter()
            .filter(|&&b| b)
            .count();
        assert_eq!(px.len(), inside);
        assert_eq!(p.pbs_count(&g).unwrap(), 2 * inside as u64);
        assert!(default_params("linear-model", &g)
            .unwrap_err()
            .to_string()
            .contains("--params"));
        assert!(default_params("nope", &g).unwrap_err().is_usage());
    }

    #[test]
    fn params_files_hold_params_or_a_spec() {
        let dir = tempfile::tempdir().unwrap();
        let g = Geometry {
            width: 8,
            height: 8,
            bits: 2,
            frames: 2,
        };
        let p = default_params("histogram", &g).unwrap();
        let a = dir.path().join("a.json");
        std::fs::write(&a, serde_json::to_vec(&p).unwrap()).unwrap();
        assert_eq!(read_params_file(&a).unwrap(), p);
        let b = dir.path().join("b.json");
        std::fs::write(&b, JobSpec::new(Scheme::TFHE, p.clone()).to_bytes()).unwrap();
        assert_eq!(read_params_file(&b).unwrap(), p);
        std::fs::write(&b, "{}").unwrap();
        assert!(read_params_file(&b).unwrap_err().is_usage());
    }

    #[test]
    fn result_table_shows_aggregates_and_videos() {
        let r = ReleasedResult {
            format: RELEASED_FORMAT.into(),
            job_id: 4,
            pipeline: "lv-area".into(),
            cohort: 2,
            videos: vec![ReleasedVideo {
                submission: 1,
                values: vec![40.0, 20.0],
                ef_percent: Some(64.6),
                beats: Vec::new(),
                ef_beat_sd: None,
            }],
            aggregates: [("mean_ef_percent".to_string(), 64.6)].into(),
            dp: None,
        };
        let text = result_table(&r);
        assert!(text.contains("mean_ef_percent  64.600"), "{text}");
        assert!(text.contains("64.6"), "{text}");
        assert!(text.contains("40 20"), "{text}");
        assert!(!text.contains("per beat"), "{text}");
        let mut whole = r.clone();
        whole.videos[0].values = vec![100.0, 64.0, 99.0, 66.0, 100.0];
        whole.videos[0].beats = vec![
            blindfold_job::blobs::ReleasedBeat {
                ed_frame: 0,
                es_frame: 1,
                ef_percent: 48.8,
            },
            blindfold_job::blobs::ReleasedBeat {
                ed_frame: 2,
                es_frame: 3,
                ef_percent: 45.6,
            },
        ];
        whole.videos[0].ef_beat_sd = Some(2.26);
        let text = result_table(&whole);
        assert!(text.contains("EF per beat % (SD)"), "{text}");
        assert!(text.contains("48.8 45.6 (2.3)"), "{text}");
    }
}
