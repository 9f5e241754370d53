//! Researcher commands: the release key, the catalogue, requests, status
//! and released results.

use std::path::PathBuf;
use std::time::Duration;

use blindfold_client::config::Config;
use blindfold_client::researcher::{self, RequestOptions, ShardSize};
use blindfold_client::units::parse_epsilon;
use blindfold_client::{plot, seal, ClientError};
use blindfold_protocol::types::{DatasetId, JobId};
use clap::Args;
use indicatif::ProgressBar;

use super::{bar, emit, open, signer};

#[derive(Debug, Args)]
pub struct RequestArgs {
    /// The dataset
    dataset: DatasetId,
    /// Pipeline, with default parameters for the dataset's geometry
    #[arg(long, default_value = "lv-area")]
    pipeline: String,
    /// Pipeline parameters from a JSON file (any pipeline; overrides --pipeline)
    #[arg(long, value_name = "FILE")]
    params: Option<PathBuf>,
    /// Differential-privacy epsilon to spend (required on datasets with a DP budget)
    #[arg(long, default_value = "0")]
    epsilon: String,
    /// Minutes the workers get until the commit deadline
    #[arg(long, default_value_t = 60)]
    window: u64,
    /// The age recipient (age1…) the release is sealed to [default: the key of `researcher-key`]
    #[arg(long, value_name = "RECIPIENT")]
    release_to: Option<String>,
    /// Ask for a release in the clear (only datasets with public releases allow it)
    #[arg(long, conflicts_with = "release_to")]
    public: bool,
    /// Split the job into shards of this many videos, computed by different
    /// workers at once (0: the job whole). `auto`: a TFHE job in shards of
    /// at least 150,000 PBS, at most 64 of them; a BFV job whole
    #[arg(long, default_value = "auto", value_name = "VIDEOS|auto")]
    shard_size: ShardSize,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The job
    job: JobId,
    /// Keep polling until the job is released or over (a shard: until it
    /// agreed); a sharded job shows a bar of its agreed shards
    #[arg(long)]
    watch: bool,
    /// Seconds between polls with --watch
    #[arg(long, default_value_t = 5)]
    interval: u64,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The job
    job: JobId,
    /// Directory for released.json and the plots [default: results/job-<JOB>]
    #[arg(long)]
    out: Option<PathBuf>,
    /// Do not write PNG plots
    #[arg(long)]
    no_plots: bool,
    /// Reference EF labels for the EF-vs-label and Bland-Altman plots: a
    /// CSV file with the columns submission (index) and ef (percent)
    #[arg(long, value_name = "FILE")]
    labels: Option<PathBuf>,
}

/// `researcher-key`: the age identity releases are sealed to.
pub fn researcher_key(cfg: &Config, json: bool, force: bool) -> anyhow::Result<()> {
    let report = seal::new_release_key(&cfg.keys, force)?;
    emit(json, &report, || report.summary());
    Ok(())
}

/// `datasets`: what is on offer.
pub async fn datasets(cfg: &Config, json: bool) -> anyhow::Result<()> {
    let client = open(cfg).await?;
    let list = researcher::list_datasets(&client).await?;
    emit(json, &list, || researcher::datasets_table(&list));
    Ok(())
}

/// `request`: a pipeline run, paid into escrow, sealed to the researcher's key.
pub async fn request(cfg: &Config, json: bool, a: RequestArgs) -> anyhow::Result<()> {
    let client = open(cfg).await?;
    let signer = signer(cfg)?;
    let params = match &a.params {
        Some(path) => researcher::read_params_file(path)?,
        None => {
            let (_, metadata) = client.dataset(a.dataset).await?;
            researcher::default_params(&a.pipeline, &metadata.geometry)?
        }
    };
    let identity = seal::identity_path(&cfg.keys);
    let release_to = match a.release_to {
        Some(r) => Some(r),
        None if a.public => None,
        None if identity.exists() => Some(seal::load_identity(&identity)?.to_public().to_string()),
        None => {
            return Err(ClientError::Usage(format!(
                "no release key at {}: run `blindfold researcher-key` (or pass --release-to age1…, \
                 or --public on a dataset that allows public releases)",
                identity.display()
            ))
            .into())
        }
    };
    let options = RequestOptions {
        params,
        epsilon_milli: parse_epsilon(&a.epsilon)?,
        compute_window_ms: Some(a.window.saturating_mul(60_000)),
        release_to,
        shard_size: a.shard_size,
    };
    let r = researcher::request_job(&client, &signer, a.dataset, &options).await?;
    emit(json, &r, || r.summary());
    Ok(())
}

/// `status`: where a job is, optionally until it is over. With `--watch`
/// on a sharded job, a progress bar counts its agreed shards (not with
/// `--json`).
pub async fn status(cfg: &Config, json: bool, a: StatusArgs) -> anyhow::Result<()> {
    let client = open(cfg).await?;
    let mut last = String::new();
    let mut shards_bar: Option<ProgressBar> = None;
    loop {
        let report = researcher::job_status(&client, a.job).await?;
        if let (true, false, Some((agreed, total))) = (a.watch, json, report.shard_progress()) {
            let bar = shards_bar.get_or_insert_with(|| bar(json, "shards agreed"));
            bar.set_length(u64::from(total));
            bar.set_position(u64::from(agreed));
        }
        let line = report.summary();
        if line != last {
            match &shards_bar {
                Some(bar) => bar.suspend(|| emit(json, &report, || line.clone())),
                None => emit(json, &report, || line.clone()),
            }
            last = line;
        }
        if !a.watch || report.done() {
            if let Some(bar) = shards_bar {
                bar.finish_and_clear();
            }
            return Ok(());
        }
        tokio::time::sleep(Duration::from_secs(a.interval.max(1))).await;
    }
}

/// `fetch`: open, check, tabulate and plot a released result.
pub async fn fetch(cfg: &Config, json: bool, a: FetchArgs) -> anyhow::Result<()> {
    let client = open(cfg).await?;
    let identity = seal::identity_path(&cfg.keys);
    let identity = if identity.exists() {
        Some(seal::load_identity(&identity)?)
    } else {
        None
    };
    let labels = a.labels.as_deref().map(plot::read_labels).transpose()?;
    let out = a
        .out
        .unwrap_or_else(|| PathBuf::from(format!("results/job-{}", a.job)));
    let fetched = researcher::fetch_to_dir(
        &client,
        a.job,
        identity.as_ref(),
        &out,
        !a.no_plots,
        labels.as_ref(),
    )
    .await?;
    emit(json, &fetched, || fetched.summary());
    Ok(())
}
