//! `offchain-worker`: the Blindfold worker daemon.
//!
//! ```text
//! offchain-worker run --chain embedded:chain.state --store ./store --account //Bob \
//!     --contract 0x… --state bob.json
//! offchain-worker withdraw --chain … --account //Bob --contract 0x…
//! ```
//!
//! Every flag can also come from the environment (`BLINDFOLD_CHAIN`,
//! `BLINDFOLD_STORE`, `BLINDFOLD_ACCOUNT`, `BLINDFOLD_CONTRACT`, ...). Logs go
//! to stderr (`RUST_LOG` filters them; default `info`). SIGINT or SIGTERM
//! stops it gracefully; its state file lets a restart resume every job.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use blindfold_chain::{AnyChain, Signer};
use blindfold_market::{Market, UNIT};
use blindfold_protocol::types::{PipelineId, PipelineSet};
use blindfold_store::AnyStore;
use blindfold_worker::{service, Worker, WorkerConfig};
use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "offchain-worker",
    version,
    about = "Claims Blindfold marketplace jobs, computes them homomorphically, commits and reveals the results"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Follow the marketplace and serve jobs until SIGINT/SIGTERM.
    Run(RunArgs),
    /// Withdraw this worker's earnings (fees and returned stakes) to its account.
    Withdraw(Common),
}

#[derive(Args, Debug)]
struct Common {
    /// The chain: `embedded:<state file>` or a `ws://` node URL.
    #[arg(long, env = "BLINDFOLD_CHAIN")]
    chain: String,
    /// The worker's account: a dev seed (`//Bob`) or a key file holding a secret URI.
    #[arg(long, env = "BLINDFOLD_ACCOUNT")]
    account: String,
    /// The marketplace contract's address (0x + 64 hex digits).
    #[arg(long, env = "BLINDFOLD_CONTRACT")]
    contract: String,
}

#[derive(Args, Debug)]
struct RunArgs {
    #[command(flatten)]
    common: Common,
    /// The blob store: a directory, `s3://bucket/prefix` or `memory://`.
    #[arg(long, env = "BLINDFOLD_STORE")]
    store: String,
    /// The worker's state file (crash recovery); one per account.
    #[arg(long, env = "BLINDFOLD_WORKER_STATE")]
    state: PathBuf,
    /// Threads for the FHE computation.
    #[arg(long, env = "BLINDFOLD_WORKER_THREADS", default_value_t = default_threads())]
    threads: usize,
    /// Jobs computed at once.
    #[arg(long, env = "BLINDFOLD_WORKER_MAX_JOBS", default_value_t = 1)]
    max_jobs: usize,
    /// Chain poll interval in milliseconds.
    #[arg(long, default_value_t = 500)]
    poll_ms: u64,
    /// Stake to post when the free stake cannot cover a claim, in units.
    #[arg(long, default_value_t = 100)]
    stake: u128,
    /// Pipelines to serve, comma-separated (default: all).
    #[arg(long, value_delimiter = ',')]
    pipelines: Vec<String>,
    /// Claim a job only if its first input, timed here, times the number of
    /// inputs times this margin fits before the deadline.
    #[arg(long, default_value_t = 1.5)]
    safety_margin: f64,
}

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn parse_contract(s: &str) -> anyhow::Result<[u8; 32]> {
    let hex_part = s.trim().strip_prefix("0x").unwrap_or(s.trim());
    let bytes = hex::decode(hex_part).map_err(|_| anyhow!("--contract '{s}' is not hex"))?;
    bytes
        .try_into()
        .map_err(|_| anyhow!("--contract must be 32 bytes (64 hex digits), got '{s}'"))
}

async fn market(common: &Common) -> anyhow::Result<(Arc<Market<AnyChain>>, Signer)> {
    let contract = parse_contract(&common.contract)?;
    let signer = Signer::from_spec(&common.account).context("--account")?;
    let chain = AnyChain::open(&common.chain).await.context("--chain")?;
    if common.chain.trim() == "embedded" {
        bail!("--chain embedded is a fresh in-memory chain with no marketplace on it; use embedded:<state file> shared with the client");
    }
    Ok((Arc::new(Market::at(chain, contract)), signer))
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
        _ = term.recv() => tracing::info!("SIGTERM received"),
    }
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    let (market, signer) = market(&args.common).await?;
    let store = Arc::new(AnyStore::open(&args.store).context("--store")?);
    let mut pipelines = PipelineSet::ALL;
    if !args.pipelines.is_empty() {
        let ids = args
            .pipelines
            .iter()
            .map(|p| {
                p.parse::<PipelineId>()
                    .map_err(|_| anyhow!("unknown pipeline '{p}' in --pipelines"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        pipelines = PipelineSet::of(&ids);
    }
    let config = WorkerConfig {
        state_path: args.state,
        threads: args.threads,
        max_jobs: args.max_jobs,
        poll: Duration::from_millis(args.poll_ms.max(10)),
        stake: args
            .stake
            .checked_mul(UNIT)
            .ok_or_else(|| anyhow!("--stake {} is too large", args.stake))?,
        pipelines,
        safety_margin: args.safety_margin,
    };
    let worker = Worker::new(market, store, signer, config)?;
    service::run(worker, shutdown_signal()).await?;
    Ok(())
}

async fn withdraw(common: Common) -> anyhow::Result<()> {
    let (market, signer) = market(&common).await?;
    let amount = market.withdraw(&signer).await?;
    println!("withdrew {amount} (planck) to {}", signer.name());
    Ok(())
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(args).await,
        Command::Withdraw(common) => withdraw(common).await,
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
