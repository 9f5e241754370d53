//! Data-owner commands: keys, datasets, submissions, releases, earnings.

use std::time::Duration;

use anyhow::Context as _;
use blindfold_client::config::Config;
use blindfold_client::owner::{self, DatasetSpec, ReleaseOptions, SubmitOptions};
use blindfold_client::sources::{parse_roi, FrameSpec, PrepSpec, Source};
use blindfold_client::units::{parse_epsilon, parse_units};
use blindfold_client::{ClientError, OwnerKeys};
use blindfold_echo::PhantomConfig;
use blindfold_fhe::Scheme;
use blindfold_job::VerifyPolicy;
use blindfold_protocol::types::{DatasetId, JobId, PipelineId, PipelineSet, Policy};
use blindfold_store::AnyStore;
use clap::{ArgGroup, Args};
use std::path::PathBuf;

use super::{bar, emit, open, signer, spinner, with_causes};

#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// A human-readable name
    #[arg(long)]
    name: String,
    /// Price per job in token units (paid to you when a job is finalised)
    #[arg(long, value_name = "UNITS")]
    price: String,
    /// Pipelines researchers may run, comma-separated
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "lv-area,histogram,conv3x3,linear-model"
    )]
    pipelines: Vec<String>,
    /// Fewest videos a job may cover and a release may come from
    #[arg(long, default_value_t = 5)]
    min_cohort: u32,
    /// Workers that compute each job independently (1..=3)
    #[arg(long, default_value_t = 1)]
    replication: u8,
    /// Total differential-privacy budget (epsilon); jobs then must spend some
    #[arg(long, value_name = "EPSILON")]
    dp_budget: Option<String>,
    /// Release only cohort aggregates, never per-video values
    #[arg(long)]
    aggregates_only: bool,
    /// Allow releases in the clear (readable by anyone) for jobs that name no release key
    #[arg(long)]
    public_releases: bool,
    /// How results are verified before you decrypt them: full (recompute
    /// everything) or sample:F (recompute each result unit with probability
    /// F: one video, or up to 64 under packed BFV lv-area);
    /// kept in your key directory, not on chain
    #[arg(long, default_value = "full", value_parser = parse_verify)]
    verify: VerifyPolicy,
    /// Encrypted frame size, WxH (downsampled by area averaging)
    #[arg(long, default_value = "32x32")]
    size: String,
    /// Bits per encrypted pixel (1..=4)
    #[arg(long, default_value_t = 4)]
    bits: u8,
    /// Frames kept per video: ed-es; stride:<start>:<step>:<count>; or
    /// cycle:<cycles>:<step>:<count>, `count` frames every `step`-th from the
    /// first end-diastole, spanning `cycles` whole cardiac cycles (found on
    /// your plaintext area curve before encryption; e.g. cycle:2:2:64)
    #[arg(long, default_value = "ed-es")]
    frames: String,
    /// Region of interest in source pixels, X,Y,WxH [default: the whole frame]
    #[arg(long)]
    roi: Option<String>,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["echonet", "dicom", "synthetic"])))]
pub struct SubmitArgs {
    /// The dataset
    dataset: DatasetId,
    /// An EchoNet-Dynamic directory (FileList.csv, VolumeTracings.csv, Videos/)
    #[arg(long, value_name = "DIR")]
    echonet: Option<PathBuf>,
    /// Multi-frame ultrasound DICOM files, or directories of them
    #[arg(long, value_name = "PATH", num_args = 1..)]
    dicom: Vec<PathBuf>,
    /// Generate this many synthetic echocardiograms (known EF) and submit them
    #[arg(long, value_name = "N")]
    synthetic: Option<usize>,
    /// Where the synthetic dataset is written
    #[arg(long, default_value = "synthetic-echo", value_name = "DIR")]
    synthetic_dir: PathBuf,
    /// Seed of the synthetic generator
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Frames per synthetic video
    #[arg(long, default_value_t = 64)]
    synthetic_frames: usize,
    /// Synthetic frame size in pixels (square)
    #[arg(long, default_value_t = 112)]
    synthetic_size: usize,
    /// Submit at most this many videos
    #[arg(long)]
    limit: Option<usize>,
    /// Submit again videos already submitted to this dataset
    #[arg(long)]
    resubmit: bool,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("which").required(true).args(["index", "source"])))]
pub struct RevokeArgs {
    /// The dataset
    dataset: DatasetId,
    /// The submission index
    index: Option<u64>,
    /// The source video's name, looked up in your submission ledger
    #[arg(long)]
    source: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// The job to release
    #[arg(long)]
    job: JobId,
    #[command(flatten)]
    flags: ReleaseFlags,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Seconds between polls
    #[arg(long, default_value_t = 5)]
    interval: u64,
    /// One pass over the jobs, then exit (non-zero if a job failed)
    #[arg(long)]
    once: bool,
    #[command(flatten)]
    flags: ReleaseFlags,
}

/// What `release` and `watch` share.
#[derive(Debug, Args)]
pub struct ReleaseFlags {
    /// Verification before decryption: full or sample:F [default: the dataset's, set at register]
    #[arg(long, value_parser = parse_verify)]
    verify: Option<VerifyPolicy>,
    /// Threads that recompute the result [default: one per core]
    #[arg(long)]
    threads: Option<usize>,
    /// Post the release but do not finalise (pay out) the job
    #[arg(long)]
    no_finalize: bool,
}

impl ReleaseFlags {
    fn options(&self) -> ReleaseOptions {
        ReleaseOptions {
            verify: self.verify,
            threads: self.threads,
            finalize: !self.no_finalize,
        }
    }
}

fn parse_verify(s: &str) -> Result<VerifyPolicy, String> {
    s.parse()
}

/// `keygen`: keys of the chosen scheme into the key directory, the server
/// key into the store.
pub async fn keygen(cfg: &Config, json: bool, scheme: &str, force: bool) -> anyhow::Result<()> {
    let scheme = Scheme::parse(scheme).map_err(|e| ClientError::Usage(e.to_string()))?;
    let store = AnyStore::open(&cfg.store).map_err(ClientError::from)?;
    let bar = spinner(
        json,
        &format!(
            "generating {} keys (a few seconds)",
            scheme.family().to_uppercase()
        ),
    );
    let (_, report) = owner::keygen(&cfg.keys, &store, scheme, force).await?;
    bar.finish_and_clear();
    emit(json, &report, || report.summary(&cfg.store));
    Ok(())
}

/// `register`: a dataset's metadata and policy.
pub async fn register(cfg: &Config, json: bool, a: RegisterArgs) -> anyhow::Result<()> {
    let (w, h) = a
        .size
        .split_once('x')
        .and_then(|(w, h)| Some((w.parse::<u16>().ok()?, h.parse::<u16>().ok()?)))
        .ok_or_else(|| {
            ClientError::Usage(format!(
                "invalid --size '{}': write WxH, e.g. 32x32",
                a.size
            ))
        })?;
    let prep = PrepSpec {
        width: w,
        height: h,
        bits: a.bits,
        frames: a.frames.parse::<FrameSpec>()?,
        roi: a.roi.as_deref().map(parse_roi).transpose()?,
    };
    let mut pipelines = Vec::new();
    for name in &a.pipelines {
        let p: PipelineId = name.trim().parse().map_err(|_| {
            ClientError::Usage(format!(
                "unknown pipeline '{name}' in --pipelines (expected lv-area, conv3x3, histogram, linear-model)"
            ))
        })?;
        pipelines.push(p);
    }
    let policy = Policy {
        allowed_pipelines: PipelineSet::of(&pipelines),
        min_cohort: a.min_cohort,
        replication: a.replication,
        dp_epsilon_budget: a.dp_budget.as_deref().map(parse_epsilon).transpose()?,
    };
    let spec = DatasetSpec {
        name: a.name,
        price: parse_units(&a.price)?,
        policy,
        prep,
        aggregates_only: a.aggregates_only,
        public_releases: a.public_releases,
        verify: a.verify,
    };
    let client = open(cfg).await?;
    let signer = signer(cfg)?;
    let keys = OwnerKeys::load(&cfg.keys)?;
    let r = owner::register(&client, &signer, &keys, &spec).await?;
    emit(json, &r, || r.summary());
    Ok(())
}

/// `submit`: preprocess, encrypt, upload and record videos.
pub async fn submit(cfg: &Config, json: bool, a: SubmitArgs) -> anyhow::Result<()> {
    let source = if let Some(dir) = a.echonet {
        Source::EchoNet(dir)
    } else if !a.dicom.is_empty() {
        Source::Dicom(a.dicom)
    } else {
        let videos = a.synthetic.context("no source given")?;
        Source::Synthetic {
            dir: a.synthetic_dir,
            config: PhantomConfig {
                videos,
                frames: a.synthetic_frames,
                width: a.synthetic_size,
                height: a.synthetic_size,
                seed: a.seed,
                ..PhantomConfig::default()
            },
        }
    };
    let client = open(cfg).await?;
    let signer = signer(cfg)?;
    let keys = OwnerKeys::load(&cfg.keys)?;
    let options = SubmitOptions {
        limit: a.limit,
        resubmit: a.resubmit,
    };
    let bar = bar(json, "videos");
    let report =
        owner::submit_videos(&client, &signer, &keys, a.dataset, &source, &options, &bar).await?;
    emit(json, &report, || report.summary());
    Ok(())
}

/// `revoke`: withdraws one submission from later jobs.
pub async fn revoke(cfg: &Config, json: bool, a: RevokeArgs) -> anyhow::Result<()> {
    let client = open(cfg).await?;
    let signer = signer(cfg)?;
    let index = match (a.index, &a.source) {
        (Some(i), _) => i,
        (None, Some(name)) => {
            let ledger = owner::Ledger::load(&cfg.keys, &client.market().address(), a.dataset)?;
            ledger.index_of(name).ok_or_else(|| {
                ClientError::Usage(format!(
                    "your ledger in {} has no submission of '{name}' to dataset {}",
                    cfg.keys.display(),
                    a.dataset
                ))
            })?
        }
        (None, None) => {
            return Err(
                ClientError::Usage("name the submission: an INDEX or --source NAME".into()).into(),
            )
        }
    };
    owner::revoke(&client, &signer, a.dataset, index).await?;
    let report = owner::Revoked {
        dataset_id: a.dataset,
        index,
    };
    emit(json, &report, || report.summary());
    Ok(())
}

/// `release`: verify, decrypt, apply the policy, seal, release, finalise.
pub async fn release(cfg: &Config, json: bool, a: ReleaseArgs) -> anyhow::Result<()> {
    let client = open(cfg).await?;
    let signer = signer(cfg)?;
    let keys = OwnerKeys::load(&cfg.keys)?;
    let options = a.flags.options();
    let report = owner::release_job(&client, &signer, &keys, a.job, &options).await?;
    emit(json, &report, || report.summary());
    Ok(())
}

/// `watch`: `release` for every job of the owner's datasets as it becomes ready.
pub async fn watch(cfg: &Config, json: bool, a: WatchArgs) -> anyhow::Result<()> {
    let client = open(cfg).await?;
    let signer = signer(cfg)?;
    let keys = OwnerKeys::load(&cfg.keys)?;
    let options = a.flags.options();
    if !json && !a.once {
        eprintln!(
            "watching the datasets of {} for computed jobs (every {} s; Ctrl-C stops)",
            signer.name(),
            a.interval
        );
    }
    let interval = Duration::from_secs(a.interval.max(1));
    let mut failed = Vec::new();
    owner::watch(
        &client,
        &signer,
        &keys,
        &options,
        interval,
        a.once,
        |job, r| match r {
            Ok(report) => emit(json, report, || report.summary()),
            Err(e) => {
                eprintln!("error: job {job}: {}", with_causes(e));
                failed.push(job);
            }
        },
    )
    .await?;
    if failed.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("jobs {failed:?} were not released (see the errors above)")
    }
}

/// `withdraw`: earnings to the account.
pub async fn withdraw(cfg: &Config, json: bool) -> anyhow::Result<()> {
    let client = open(cfg).await?;
    let signer = signer(cfg)?;
    let report = owner::Withdrawn {
        amount: owner::withdraw(&client, &signer).await?,
    };
    emit(json, &report, || report.summary(signer.name()));
    Ok(())
}
