//! `blindfold-demo`: the whole marketplace once, the way a newcomer first
//! meets it (run it through `scripts/demo.sh`).
//!
//! A hospital (`//Bob`) encrypts 8 synthetic echocardiograms and registers
//! them; a researcher (`//Charlie`) pays for an `lv-area` job; two workers
//! (`//Dave`, `//Eve`) compute it homomorphically, commit, reveal and
//! agree; the hospital decrypts, releases the cohort result and the escrow
//! pays out. The summary compares each video's encrypted-pipeline EF
//! estimate with the generator's ground truth, and shows money and time.
//! The last line is `DEMO OK videos=… ef_mae=… agreed=… settled=… seconds=…`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use blindfold_chain::Chain;
use blindfold_client::owner::{self, DatasetSpec, ReleaseOptions, ReleaseOutcome, SubmitOptions};
use blindfold_client::researcher::{self, RequestOptions, ShardSize};
use blindfold_client::sources::{FrameSpec, PrepSpec, Source};
use blindfold_e2e::{Balances, Scenario};
use blindfold_echo::{EchoNetDataset, PhantomConfig};
use blindfold_fhe::Scheme;
use blindfold_market::UNIT;
use blindfold_protocol::types::{JobStatus, PipelineSet, Policy};
use clap::Parser;
use indicatif::ProgressBar;

#[derive(Parser, Debug)]
#[command(about = "Runs the Blindfold marketplace end to end and prints a summary")]
struct Args {
    /// `embedded` (in-process) or a `ws://` substrate-contracts-node URL.
    #[arg(long, default_value = "embedded")]
    chain: String,
    /// Synthetic videos to submit.
    #[arg(long, default_value_t = 8)]
    videos: usize,
    /// Preprocessed frame side (pixels).
    #[arg(long, default_value_t = 32)]
    side: u16,
    /// Working directory (store, keys, data); emptied first.
    #[arg(long)]
    dir: PathBuf,
    /// The scheme: `bfv` (batched: 8192 pixels per ciphertext) or `tfhe`
    /// (one bootstrap per pixel).
    #[arg(long, default_value = "bfv")]
    scheme: String,
    /// Write per-stage timings as JSON here.
    #[arg(long, env = "BLINDFOLD_DEMO_TIMINGS")]
    timings: Option<PathBuf>,
}

struct Stages {
    started: Instant,
    rows: Vec<(String, f64)>,
    last: Instant,
}

impl Stages {
    fn new() -> Self {
        let now = Instant::now();
        Stages {
            started: now,
            rows: Vec::new(),
            last: now,
        }
    }

    fn done(&mut self, name: &str) {
        let now = Instant::now();
        let s = now.duration_since(self.last).as_secs_f64();
        eprintln!("[demo] {name}: {s:.1} s");
        self.rows.push((name.to_string(), s));
        self.last = now;
    }

    fn total(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }
}

fn units(v: i128) -> String {
    format!("{:+.3}", v as f64 / UNIT as f64)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("warn,blindfold_worker=info")
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(e) = run(Args::parse()).await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<()> {
    let mut stages = Stages::new();
    if args.dir.exists() {
        std::fs::remove_dir_all(&args.dir)
            .with_context(|| format!("clearing {}", args.dir.display()))?;
    }
    let s = Scenario::start(&args.chain, &args.dir).await?;
    stages.done("deploy marketplace");
    let before = s.balances().await?;
    let chain_started = before.clone();

    // The hospital: keys, dataset, encrypted submissions.
    let scheme = Scheme::parse(&args.scheme)?;
    let (keys, keygen) = owner::keygen(
        &args.dir.join("hospital-keys"),
        s.client.store(),
        scheme,
        true,
    )
    .await?;
    stages.done(&format!(
        "owner: generate {} keys",
        scheme.family().to_uppercase()
    ));
    let prep = PrepSpec {
        width: args.side,
        height: args.side,
        bits: 4,
        frames: FrameSpec::EdEs,
        roi: None,
    };
    let spec = DatasetSpec {
        name: "synthetic EchoNet (demo)".into(),
        price: 5 * UNIT,
        policy: Policy {
            allowed_pipelines: PipelineSet::ALL,
            min_cohort: 4,
            replication: 2,
            dp_epsilon_budget: None,
        },
        prep,
        aggregates_only: false,
        public_releases: false,
        verify: blindfold_job::VerifyPolicy::Full,
    };
    let registered = owner::register(&s.client, &s.owner, &keys, &spec).await?;
    let data_dir = args.dir.join("echonet");
    let phantom = PhantomConfig {
        videos: args.videos,
        seed: 2026,
        ..PhantomConfig::default()
    };
    let source = Source::Synthetic {
        dir: data_dir.clone(),
        config: phantom,
    };
    let bar = ProgressBar::new(args.videos as u64);
    owner::submit_videos(
        &s.client,
        &s.owner,
        &keys,
        registered.dataset_id,
        &source,
        &SubmitOptions::default(),
        &bar,
    )
    .await?;
    bar.finish_and_clear();
    stages.done("owner: generate, preprocess, encrypt, submit");

    // The researcher pays for an lv-area job.
    let (_, metadata) = s.client.dataset(registered.dataset_id).await?;
    let params = researcher::default_params("lv-area", &metadata.geometry)?;
    let requested = researcher::request_job(
        &s.client,
        &s.researcher,
        registered.dataset_id,
        &RequestOptions {
            params,
            epsilon_milli: 0,
            compute_window_ms: Some(3_600_000),
            release_to: Some(s.release_key.to_public().to_string()),
            shard_size: ShardSize::Fixed(0),
        },
    )
    .await?;
    let job = requested.job_id;
    stages.done("researcher: request job");

    // Two workers compute, commit, reveal and agree.
    let workers = [s.worker(0, 1)?, s.worker(1, 1)?];
    let info = s
        .run_workers_until(
            &workers,
            job,
            Duration::from_secs(3_600),
            |j| j.status == JobStatus::Computed,
            |_| async { Ok(()) },
        )
        .await?;
    stages.done("workers: compute (FHE), commit, reveal");
    let agreed = info.claims.len() == 2
        && info
            .claims
            .iter()
            .all(|c| c.result_blob_hash == info.result_blob_hash);

    // The hospital releases; the escrow pays out.
    let report =
        owner::release_job(&s.client, &s.owner, &keys, job, &ReleaseOptions::default()).await?;
    stages.done("owner: verify (recompute), decrypt, apply policy, seal, release, finalize");
    let released = researcher::fetch_result(&s.client, job, Some(&s.release_key)).await?;
    let settled = report.finalized && s.client.job(job).await?.status == JobStatus::Finalized;
    let plots = blindfold_client::plot::write_plots(&released, &args.dir.join("plots"))?;
    stages.done("researcher: fetch result, plot");
    let after = s.balances().await?;

    // Summary.
    let truth = EchoNetDataset::open(&data_dir)?;
    println!();
    println!(
        "Blindfold demo on {} ({} videos)",
        s.chain.describe(),
        args.videos
    );
    println!(
        "  scheme {}; preprocessing: whole 112x112 frame area-averaged to {}x{}, 4-bit pixels, frames ED+ES; lv-area mask {} pixels, {} PBS per video",
        scheme,
        args.side,
        args.side,
        match &researcher::default_params("lv-area", &metadata.geometry)? {
            blindfold_fhe::PipelineParams::LvArea(p) => match &p.mask {
                blindfold_fhe::Mask::Pixels(px) => px.len(),
                _ => 0,
            },
            _ => 0,
        },
        requested.pbs_per_video
    );
    println!(
        "  server key: {} bytes (hash {})",
        keygen.server_key_bytes,
        hex::encode(&keygen.server_key_hash[..8])
    );
    println!();
    println!(
        "  {:<32} {:>10} {:>10} {:>8}",
        "video", "EF (FHE)", "EF truth", "error"
    );
    let mut errors = Vec::new();
    for (v, entry) in released.videos.iter().zip(truth.entries()) {
        let ef = v.ef_percent.unwrap_or(f64::NAN);
        errors.push((ef - entry.ef).abs());
        println!(
            "  {:<32} {:>9.1}% {:>9.1}% {:>8.1}",
            entry.file_name,
            ef,
            entry.ef,
            ef - entry.ef
        );
    }
    let mae = errors.iter().sum::<f64>() / errors.len().max(1) as f64;
    println!(
        "  EF mean absolute error: {mae:.1} EF points over {} videos",
        errors.len()
    );
    println!();
    println!(
        "  agreed commitment: {}",
        info.commitment.map(hex::encode).unwrap_or_default()
    );
    println!(
        "  released result:   {}",
        match &report.outcome {
            ReleaseOutcome::Released { released_hash, .. } => hex::encode(released_hash),
            other => format!("{other:?}"),
        }
    );
    println!(
        "  plots:             {}",
        plots
            .files
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!();
    print_money(&before, &after);
    after.check_conservation(&chain_started)?;
    println!(
        "  contract funds conserved: holds {} = owes {} + deposit",
        after.contract_free, after.owed
    );
    println!();
    println!("  {:<48} {:>9}", "stage", "seconds");
    for (name, secs) in &stages.rows {
        println!("  {name:<48} {secs:>9.1}");
    }
    let total = stages.total();
    println!("  {:<48} {:>9.1}", "total", total);
    println!(
        "  time inside {} chain calls (all actors, polling included): {:.1} s ({:.0}% of the total)",
        s.chain.calls(),
        s.chain.spent().as_secs_f64(),
        100.0 * s.chain.spent().as_secs_f64() / total
    );

    if let Some(path) = &args.timings {
        let json = serde_json::json!({
            "videos": args.videos,
            "side": args.side,
            "chain": s.chain.describe(),
            "stages": stages.rows.iter().map(|(n, s)| serde_json::json!({"name": n, "seconds": s})).collect::<Vec<_>>(),
            "chain_seconds": s.chain.spent().as_secs_f64(),
            "chain_calls": s.chain.calls(),
            "total_seconds": total,
        });
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_vec_pretty(&json)?)?;
    }
    println!();
    println!(
        "DEMO OK videos={} ef_mae={mae:.1} agreed={agreed} settled={settled} seconds={}",
        args.videos,
        total.round() as u64
    );
    Ok(())
}

fn print_money(before: &Balances, after: &Balances) {
    println!(
        "  {:<12} {:>14} {:>14} {:>14}",
        "role", "earned (unit)", "stake (unit)", "free balance"
    );
    for (role, label) in [
        ("operator", "operator"),
        ("owner", "hospital"),
        ("researcher", "researcher"),
        ("worker-0", "worker Dave"),
        ("worker-1", "worker Eve"),
    ] {
        let b = before.entries[role];
        let a = after.entries[role];
        println!(
            "  {label:<12} {:>14} {:>14} {:>14}",
            units(a.earned as i128 - b.earned as i128),
            units(a.stake as i128 - b.stake as i128),
            units(a.free as i128 - b.free as i128),
        );
    }
}
