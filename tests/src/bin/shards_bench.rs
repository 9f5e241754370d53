//! `blindfold-shards-bench`: the throughput of one sharded job as workers
//! are added (a benchmark, not a test: it asserts nothing about time).
//!
//! For each worker count it starts a fresh embedded chain and store
//! ([`Scenario`]), registers a TFHE dataset of synthetic videos (replication
//! 1), requests one `lv-area` job split into shards, runs that many workers
//! (each its own account, state file and FHE thread pool of `--threads`
//! threads: one core's share each by default) until every shard agreed, and
//! reports the wall time from the request to the job's `Computed`, the
//! throughput and the speed-up over one worker, which worker computed which
//! shard, and the chain calls the driver made.
//!
//! ```sh
//! cargo build --release -p blindfold-worker   # the worker processes
//! cargo run --release -p blindfold-e2e --bin blindfold-shards-bench -- \
//!     --videos 32 --shard-size 8 --workers 1,2,4 --threads 1
//! ```
//!
//! By default (`--mode processes`) each worker is a separate
//! `offchain-worker run` process, as an operator runs it, sharing the
//! embedded chain with the driver through its state file; `--mode tasks`
//! runs them as services inside this process instead. Either way the driver
//! moves the embedded chain's clock past each offer and challenge window as
//! soon as it can, so what is measured is the compute, how the shards
//! spread over the workers, and what the coordination costs.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Result;
use blindfold_e2e::process::{ProcessConfig, WorkerProcess};
use blindfold_e2e::{DatasetConfig, Scenario, ScenarioWorker};
use blindfold_protocol::types::{Account, JobInfo, JobStatus};
use clap::Parser;

/// Throughput of one sharded job with 1, 2 and 4 workers.
#[derive(Debug, clap::Parser)]
struct Args {
    /// Synthetic videos in the dataset
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..))]
    videos: u64,
    /// Videos per shard
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..))]
    shard_size: u64,
    /// Worker counts to run, each on a fresh chain (1 to 4)
    #[arg(long, value_delimiter = ',', default_value = "1,2,4",
          value_parser = clap::value_parser!(u64).range(1..=4))]
    workers: Vec<u64>,
    /// FHE threads of each worker: each worker's share of the cores
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    threads: u64,
    /// Shards each worker takes at once (its tasks share its pool, so one
    /// computes while another waits on the chain)
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    max_jobs: u64,
    /// How often each worker polls the chain (ms); the polls run the
    /// embedded chain's contract in this process, on the same cores
    #[arg(long, default_value_t = 500)]
    poll_ms: u64,
    /// Side of the preprocessed frames (pixels)
    #[arg(long, default_value_t = 8)]
    side: u16,
    /// Where the workers run
    #[arg(long, value_enum, default_value_t = Mode::Processes)]
    mode: Mode,
}

/// Where the workers run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Mode {
    /// Separate `offchain-worker` processes
    Processes,
    /// Worker services in this process
    Tasks,
}

/// One measured run.
struct Run {
    workers: usize,
    threads: usize,
    shards: u32,
    seconds: f64,
    /// Shards each worker computed.
    per_worker: BTreeMap<String, usize>,
    chain_calls: u64,
    chain_seconds: f64,
}

async fn run(args: &Args, workers: usize) -> Result<Run> {
    let dir = tempfile::tempdir()?;
    let chain = match args.mode {
        Mode::Processes => format!("embedded:{}", dir.path().join("chain.state").display()),
        Mode::Tasks => "embedded".to_string(),
    };
    let s = Scenario::start(&chain, dir.path()).await?;
    let data = s
        .dataset(&DatasetConfig {
            replication: 1,
            min_cohort: 1,
            side: args.side,
            ..DatasetConfig::tiny(args.videos as usize)
        })
        .await?;
    let threads = args.threads as usize;
    let max_jobs = args.max_jobs as usize;
    let poll = Duration::from_millis(args.poll_ms);
    let computed = |j: &JobInfo| j.status == JobStatus::Computed;
    let timeout = Duration::from_secs(7_200);
    // The three worker accounts, then the operator's as a fourth.
    let team = match args.mode {
        Mode::Processes => {
            let config = ProcessConfig {
                threads,
                max_jobs,
                poll_ms: args.poll_ms,
            };
            Team::Processes(
                (0..workers)
                    .map(|i| s.spawn_worker(i, &format!("worker-{i}"), &config))
                    .collect::<Result<Vec<_>>>()?,
            )
        }
        Mode::Tasks => {
            let mut services = Vec::new();
            for i in 0..workers {
                let tune = |c: &mut blindfold_worker::WorkerConfig| {
                    c.max_jobs = max_jobs;
                    c.poll = poll;
                };
                services.push(if i < s.workers.len() {
                    s.worker_with(i, threads, tune)?
                } else {
                    s.worker_as(s.operator.clone(), "worker-op", threads, tune)?
                });
            }
            Team::Tasks(services)
        }
    };
    let names: BTreeMap<Account, String> = team
        .accounts()
        .into_iter()
        .enumerate()
        .map(|(i, a)| (a, format!("worker-{i}")))
        .collect();
    let (calls0, spent0) = (s.chain.calls(), s.chain.spent());
    let started = Instant::now();
    let job = s
        .request_lv_area_sharded(&data, 0, 3_600_000, args.shard_size)
        .await?;
    let info = match team {
        Team::Processes(procs) => s.run_processes_until(procs, job, timeout, computed).await?,
        Team::Tasks(services) => {
            s.run_workers_until(&services, job, timeout, computed, |_| async { Ok(()) })
                .await?
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    let (calls, spent) = (s.chain.calls() - calls0, s.chain.spent() - spent0);
    let mut per_worker: BTreeMap<String, usize> = names.values().map(|n| (n.clone(), 0)).collect();
    for id in job + 1..=job + u64::from(info.shards) {
        let shard = s.client.job(id).await?;
        for c in shard.claims.iter().filter(|c| c.result_blob_hash.is_some()) {
            let name = names
                .get(&c.worker)
                .cloned()
                .unwrap_or_else(|| "other".into());
            *per_worker.entry(name).or_default() += 1;
        }
    }
    Ok(Run {
        workers,
        threads,
        shards: info.shards,
        seconds,
        per_worker,
        chain_calls: calls,
        chain_seconds: spent.as_secs_f64(),
    })
}

/// The workers of one run.
enum Team {
    Processes(Vec<WorkerProcess>),
    Tasks(Vec<ScenarioWorker>),
}

impl Team {
    fn accounts(&self) -> Vec<Account> {
        match self {
            Team::Processes(procs) => procs.iter().map(|p| p.account).collect(),
            Team::Tasks(services) => services.iter().map(|w| w.signer.account()).collect(),
        }
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "one lv-area job (TFHE, {} synthetic {}x{} videos, ED+ES, replication 1) in shards of {}, \
         on {cores} cores; each worker ({}) {} FHE thread(s), {} shard(s) at once",
        args.videos,
        args.side,
        args.side,
        args.shard_size,
        match args.mode {
            Mode::Processes => "a process of its own",
            Mode::Tasks => "a service in this process",
        },
        args.threads,
        args.max_jobs
    );
    println!(
        "| workers | threads each | shards | wall (s) | videos/s | speed-up | shards per worker | driver's chain calls | driver's chain wait (s, summed) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut base: Option<f64> = None;
    for &n in &args.workers {
        let r = run(&args, n as usize).await?;
        let rate = args.videos as f64 / r.seconds;
        let base_rate = *base.get_or_insert(rate);
        let spread: Vec<String> = r
            .per_worker
            .iter()
            .map(|(w, k)| format!("{w}: {k}"))
            .collect();
        println!(
            "| {} | {} | {} | {:.1} | {:.3} | {:.2}x | {} | {} | {:.1} |",
            r.workers,
            r.threads,
            r.shards,
            r.seconds,
            rate,
            rate / base_rate,
            spread.join(", "),
            r.chain_calls,
            r.chain_seconds
        );
    }
    Ok(())
}
