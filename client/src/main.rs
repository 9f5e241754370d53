//! `blindfold`: the command line of the marketplace.
//!
//! All logic lives in the library (`blindfold_client`). This file only
//! parses arguments (clap), resolves the settings ([`blindfold_client::config`]),
//! opens the chain and blob store, calls one library function and prints its
//! result: text for people, or JSON with `--json`. Errors are printed as
//! one line, `error: ...`; the exit code is 2 for a usage mistake and 1 for
//! anything else.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use blindfold_chain::{AnyChain, Signer};
use blindfold_client::config::{self, Config, Settings};
use blindfold_client::owner::{self, DatasetSpec, ReleaseOptions, SubmitOptions};
use blindfold_client::researcher::{self, RequestOptions};
use blindfold_client::sources::{parse_roi, FrameSpec, PrepSpec, Source};
use blindfold_client::units::{
    format_epsilon, format_units, hex32, parse_account, parse_epsilon, parse_units,
};
use blindfold_client::{operator, plot, verify, Client, ClientError, OwnerKeys};
use blindfold_echo::PhantomConfig;
use blindfold_market::Market;
use blindfold_protocol::types::{DatasetId, JobId, PipelineId, PipelineSet, Policy};
use blindfold_store::AnyStore;
use clap::{ArgGroup, Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

const AFTER_HELP: &str = "\
A first run, all on the embedded chain in this directory (./blindfold.chain,
blobs in ./blindfold-blobs, owner keys in ./blindfold-keys):

  blindfold --account //Alice deploy                   operator: deploy the marketplace
  blindfold --account //Bob keygen                     data owner: TFHE keys
  blindfold --account //Bob register --name demo --price 5 --min-cohort 5
  blindfold --account //Bob submit 0 --synthetic 20    encrypt 20 synthetic echos
  blindfold --account //Charlie datasets               researcher: what is on offer
  blindfold --account //Charlie request 0              pay for lv-area on dataset 0
      ... workers claim, compute and commit (blindfold-worker) ...
  blindfold --account //Bob watch --once               data owner: decrypt and release
  blindfold --account //Charlie fetch 0                table, result JSON and plots
  blindfold verify 0                                   anyone: re-run and compare

Settings come from flags, then BLINDFOLD_CHAIN / BLINDFOLD_STORE /
BLINDFOLD_ACCOUNT / BLINDFOLD_CONTRACT / BLINDFOLD_KEYS, then the config file
(./blindfold.toml or --config PATH, with keys chain, store, account, contract,
keys). `deploy` records the contract address there.";

/// Blindfold: paid homomorphic computation on encrypted echocardiograms.
///
/// A data owner encrypts videos with TFHE and registers them as a dataset;
/// a researcher pays into escrow for a pipeline run; workers compute on the
/// ciphertexts; the data owner decrypts and releases what its policy allows;
/// anyone can re-run a job and check the workers' commitment.
#[derive(Debug, Parser)]
#[command(name = "blindfold", version, after_help = AFTER_HELP)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
struct Global {
    /// Config file, TOML (or JSON if named *.json) [default: ./blindfold.toml when it exists]
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Chain: embedded:<state file> (shared by processes), embedded (in memory), or ws://host:port [default: embedded:blindfold.chain]
    #[arg(long, global = true, value_name = "SPEC")]
    chain: Option<String>,
    /// Blob store: a directory, file://..., s3://bucket/prefix or memory:// [default: blindfold-blobs]
    #[arg(long, global = true, value_name = "SPEC")]
    store: Option<String>,
    /// Account that signs: a dev seed like //Alice, or a file holding a secret seed
    #[arg(long, global = true, value_name = "SEED|FILE")]
    account: Option<String>,
    /// Marketplace contract address (64 hex digits); `deploy` records it in the config file
    #[arg(long, global = true, value_name = "ADDRESS")]
    contract: Option<String>,
    /// Data owner's key directory (client.key stays here, mode 0600) [default: blindfold-keys]
    #[arg(long, global = true, value_name = "DIR")]
    keys: Option<String>,
    /// Print results as JSON on stdout
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Operator: deploy the marketplace contract and record its address in the config file
    Deploy(DeployArgs),
    /// Embedded chain only: move its clock, mint tokens, show its state
    #[command(subcommand)]
    Chain(ChainCommand),
    /// Anyone: an account's balance, marketplace earnings and worker stake
    Balance {
        /// The account (dev seed, key file or 64 hex digits) [default: --account]
        account: Option<String>,
    },
    /// Data owner: generate TFHE keys (client key stays in the key directory, mode 0600)
    Keygen {
        /// Replace an existing client key (datasets registered with it become undecryptable)
        #[arg(long)]
        force: bool,
    },
    /// Data owner: register a dataset with its preprocessing, price and policy
    Register(RegisterArgs),
    /// Data owner: preprocess, encrypt, upload and record videos of a dataset
    Submit(SubmitArgs),
    /// Data owner: revoke a submission (withdrawn consent); later jobs exclude it
    Revoke(RevokeArgs),
    /// Data owner: decrypt a computed job, apply the policy, release and finalise it
    Release(ReleaseArgs),
    /// Data owner: release every job of your datasets as soon as it is computed
    Watch(WatchArgs),
    /// Anyone: withdraw your marketplace earnings to your account
    Withdraw,
    /// Researcher: list datasets with their policies and prices
    Datasets,
    /// Researcher: request a pipeline run on a dataset, paying the escrow
    Request(RequestArgs),
    /// Researcher: show where a job is (optionally until it is released)
    Status(StatusArgs),
    /// Researcher: fetch a released result, check its hash, print it and plot it
    Fetch(FetchArgs),
    /// Anyone: re-run a job from public data and compare its commitment with the chain's
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
struct DeployArgs {
    /// The contract code, built by scripts/build-contract.sh
    #[arg(long, default_value = operator::DEFAULT_WASM, value_name = "PATH")]
    wasm: PathBuf,
    /// Salt, to deploy the same code again from the same account
    #[arg(long, default_value = "")]
    salt: String,
    /// Do not write the address to the config file
    #[arg(long)]
    no_record: bool,
}

#[derive(Debug, Subcommand)]
enum ChainCommand {
    /// Move the embedded chain's clock forward (deadlines pass)
    Advance {
        /// Seconds to add
        seconds: u64,
    },
    /// Mint tokens into an account on the embedded chain (a faucet)
    Fund {
        /// Dev seed (//Dave), key file or 64-hex-digit account id
        account: String,
        /// Amount in token units (10, 0.5)
        units: String,
    },
    /// Show the chain, its clock and the marketplace's money totals
    Info,
}

#[derive(Debug, Args)]
struct RegisterArgs {
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
    /// Encrypted frame size, WxH (downsampled by area averaging)
    #[arg(long, default_value = "32x32")]
    size: String,
    /// Bits per encrypted pixel (1..=4)
    #[arg(long, default_value_t = 4)]
    bits: u8,
    /// Frames kept per video: ed-es, or stride:<start>:<step>:<count>
    #[arg(long, default_value = "ed-es")]
    frames: String,
    /// Region of interest in source pixels, X,Y,WxH [default: the whole frame]
    #[arg(long)]
    roi: Option<String>,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["echonet", "dicom", "synthetic"])))]
struct SubmitArgs {
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
struct RevokeArgs {
    /// The dataset
    dataset: DatasetId,
    /// The submission index
    index: Option<u64>,
    /// The source video's name, looked up in your submission ledger
    #[arg(long)]
    source: Option<String>,
}

#[derive(Debug, Args)]
struct ReleaseArgs {
    /// The job to release
    #[arg(long)]
    job: JobId,
    /// Seed of the differential-privacy noise [default: random]
    #[arg(long)]
    dp_seed: Option<u64>,
    /// Post the release but do not finalise (pay out) the job
    #[arg(long)]
    no_finalize: bool,
}

#[derive(Debug, Args)]
struct WatchArgs {
    /// Seconds between polls
    #[arg(long, default_value_t = 5)]
    interval: u64,
    /// One pass over the jobs, then exit
    #[arg(long)]
    once: bool,
    /// Post releases but do not finalise (pay out) the jobs
    #[arg(long)]
    no_finalize: bool,
}

#[derive(Debug, Args)]
struct RequestArgs {
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
}

#[derive(Debug, Args)]
struct StatusArgs {
    /// The job
    job: JobId,
    /// Keep polling until the job is released or over
    #[arg(long)]
    watch: bool,
    /// Seconds between polls with --watch
    #[arg(long, default_value_t = 5)]
    interval: u64,
}

#[derive(Debug, Args)]
struct FetchArgs {
    /// The job
    job: JobId,
    /// Directory for released.json and the plots [default: results/job-<JOB>]
    #[arg(long)]
    out: Option<PathBuf>,
    /// Do not write PNG plots
    #[arg(long)]
    no_plots: bool,
}

#[derive(Debug, Args)]
struct VerifyArgs {
    /// The job
    job: JobId,
    /// Threads for the re-run [default: one per core]
    #[arg(long)]
    threads: Option<usize>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            let usage = e
                .downcast_ref::<ClientError>()
                .is_some_and(ClientError::is_usage);
            ExitCode::from(if usage { 2 } else { 1 })
        }
    }
}

type AnyClient = Client<AnyChain, AnyStore>;

/// Prints `value` as JSON, or `text()` for people.
fn emit<T: Serialize>(json: bool, value: &T, text: impl FnOnce() -> String) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_default()
        );
    } else {
        let t = text();
        print!("{t}");
        if !t.ends_with('\n') {
            println!();
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let g = cli.global;
    let flags = Settings {
        chain: g.chain,
        store: g.store,
        account: g.account,
        contract: g.contract,
        keys: g.keys,
    };
    let cfg = config::resolve(flags, g.config.as_deref(), |k| std::env::var(k).ok())?;
    let json = g.json;
    match cli.command {
        Command::Deploy(a) => deploy(&cfg, json, a).await,
        Command::Chain(c) => chain(&cfg, json, c).await,
        Command::Balance { account } => {
            let client = open(&cfg).await?;
            let spec = match account {
                Some(a) => a,
                None => cfg.account()?.to_string(),
            };
            let info = operator::account_info(&client, &parse_account(&spec)?).await?;
            emit(json, &info, || {
                format!(
                    "{}: balance {}, earnings {}, stake {}",
                    spec,
                    format_units(info.balance),
                    format_units(info.earnings),
                    format_units(info.stake)
                )
            });
            Ok(())
        }
        Command::Keygen { force } => {
            let store = AnyStore::open(&cfg.store).map_err(ClientError::from)?;
            let bar = spinner(json, "generating TFHE keys (a few seconds)");
            let (_, report) = owner::keygen(&cfg.keys, &store, force).await?;
            bar.finish_and_clear();
            emit(json, &report, || {
                format!(
                    "keys in {} (client.key is secret, mode 0600; back it up)\n\
                     server key {} ({} bytes) stored in {}",
                    report.dir.display(),
                    hex32(&report.server_key_hash),
                    report.server_key_bytes,
                    cfg.store
                )
            });
            Ok(())
        }
        Command::Register(a) => register(&cfg, json, a).await,
        Command::Submit(a) => submit(&cfg, json, a).await,
        Command::Revoke(a) => {
            let client = open(&cfg).await?;
            let signer = signer(&cfg)?;
            let index = match (a.index, &a.source) {
                (Some(i), _) => i,
                (None, Some(name)) => {
                    let ledger =
                        owner::Ledger::load(&cfg.keys, &client.market().address(), a.dataset)?;
                    ledger.index_of(name).ok_or_else(|| {
                        ClientError::Usage(format!(
                            "your ledger in {} has no submission of '{name}' to dataset {}",
                            cfg.keys.display(),
                            a.dataset
                        ))
                    })?
                }
                (None, None) => {
                    return Err(ClientError::Usage(
                        "name the submission: an INDEX or --source NAME".into(),
                    )
                    .into())
                }
            };
            owner::revoke(&client, &signer, a.dataset, index).await?;
            #[derive(Serialize)]
            struct Revoked {
                dataset_id: DatasetId,
                index: u64,
            }
            emit(
                json,
                &Revoked {
                    dataset_id: a.dataset,
                    index,
                },
                || {
                    format!("revoked submission {index} of dataset {}; jobs requested from now on exclude it", a.dataset)
                },
            );
            Ok(())
        }
        Command::Release(a) => {
            let client = open(&cfg).await?;
            let signer = signer(&cfg)?;
            let keys = OwnerKeys::load(&cfg.keys)?;
            let options = ReleaseOptions {
                seed: a.dp_seed,
                finalize: !a.no_finalize,
            };
            let report = owner::release_job(&client, &signer, &keys, a.job, &options).await?;
            emit(json, &report, || release_line(&report));
            Ok(())
        }
        Command::Watch(a) => {
            let client = open(&cfg).await?;
            let signer = signer(&cfg)?;
            let keys = OwnerKeys::load(&cfg.keys)?;
            let options = ReleaseOptions {
                seed: None,
                finalize: !a.no_finalize,
            };
            if !json && !a.once {
                eprintln!(
                    "watching the datasets of {} for computed jobs (every {} s; Ctrl-C stops)",
                    signer.name(),
                    a.interval
                );
            }
            let interval = Duration::from_secs(a.interval.max(1));
            owner::watch(
                &client,
                &signer,
                &keys,
                &options,
                interval,
                a.once,
                |job, r| match r {
                    Ok(report) => emit(json, report, || release_line(report)),
                    Err(e) => eprintln!("error: job {job}: {e}"),
                },
            )
            .await?;
            Ok(())
        }
        Command::Withdraw => {
            let client = open(&cfg).await?;
            let signer = signer(&cfg)?;
            let amount = owner::withdraw(&client, &signer).await?;
            #[derive(Serialize)]
            struct Withdrawn {
                #[serde(with = "blindfold_client::units::units_str")]
                amount: u128,
            }
            emit(json, &Withdrawn { amount }, || {
                format!("withdrew {} to {}", format_units(amount), signer.name())
            });
            Ok(())
        }
        Command::Datasets => {
            let client = open(&cfg).await?;
            let list = researcher::list_datasets(&client).await?;
            emit(json, &list, || researcher::datasets_table(&list));
            Ok(())
        }
        Command::Request(a) => request(&cfg, json, a).await,
        Command::Status(a) => {
            let client = open(&cfg).await?;
            let mut last = String::new();
            loop {
                let report = researcher::job_status(&client, a.job).await?;
                let line = report.summary();
                if line != last {
                    emit(json, &report, || line.clone());
                    last = line;
                }
                let done = report.terminal || report.released_hash.is_some();
                if !a.watch || done {
                    return Ok(());
                }
                tokio::time::sleep(Duration::from_secs(a.interval.max(1))).await;
            }
        }
        Command::Fetch(a) => fetch(&cfg, json, a).await,
        Command::Verify(a) => {
            let client = open(&cfg).await?;
            let bar = bar(json, "inputs");
            let report = verify::verify_job(&client, a.job, a.threads, &bar).await?;
            emit(json, &report, || {
                format!(
                    "job {}: {}\n  our commitment    {}\n  chain commitment  {}\n  \
                     re-ran {} inputs ({} PBS) on {} threads in {:.2} s",
                    report.job_id,
                    if report.matches {
                        "MATCHES the chain"
                    } else {
                        "DOES NOT MATCH the chain"
                    },
                    hex32(&report.ours),
                    hex32(&report.on_chain),
                    report.inputs,
                    report.pbs,
                    report.threads,
                    report.seconds
                )
            });
            if !report.matches {
                anyhow::bail!(
                    "job {}: the re-run's commitment differs from the one on chain",
                    report.job_id
                );
            }
            Ok(())
        }
    }
}

/// The chain and store of `cfg`, and the marketplace at its contract address
/// (checked to answer).
async fn open(cfg: &Config) -> Result<AnyClient, ClientError> {
    let contract = cfg.contract()?;
    let chain = AnyChain::open(&cfg.chain).await?;
    let store = AnyStore::open(&cfg.store)?;
    let market = Market::at(chain, contract);
    market.state().await.map_err(|e| {
        ClientError::Config(format!(
            "no Blindfold marketplace answers at {} on {} ({e}); check --contract and --chain, or run `blindfold deploy`",
            hex32(&contract),
            cfg.chain
        ))
    })?;
    Ok(Client::new(market, store))
}

fn signer(cfg: &Config) -> Result<Signer, ClientError> {
    let spec = cfg.account()?;
    Signer::from_spec(spec)
        .map_err(|e| ClientError::Usage(format!("invalid --account '{spec}': {e}")))
}

fn spinner(json: bool, message: &str) -> ProgressBar {
    if json {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner().with_message(message.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

fn bar(json: bool, unit: &str) -> ProgressBar {
    if json {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    let template =
        format!("[{{elapsed_precise}}] {{bar:32}} {{pos}}/{{len}} {unit}, ETA {{eta}} {{msg}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}

fn release_line(report: &owner::ReleaseReport) -> String {
    format!(
        "job {} (dataset {}): {}{}",
        report.job_id,
        report.dataset_id,
        owner::describe_outcome(&report.outcome),
        if report.finalized {
            "; finalised, everyone paid"
        } else {
            ""
        }
    )
}

async fn deploy(cfg: &Config, json: bool, a: DeployArgs) -> anyhow::Result<()> {
    let wasm = operator::read_wasm(&a.wasm)?;
    let signer = signer(cfg)?;
    let chain = AnyChain::open(&cfg.chain)
        .await
        .map_err(ClientError::from)?;
    let market = operator::deploy(chain, &signer, &wasm, a.salt.as_bytes()).await?;
    let address = hex32(&market.address());
    if !a.no_record {
        config::record_contract(&cfg.file, &address, &cfg.chain, &cfg.store)?;
    }
    #[derive(Serialize)]
    struct Deployed {
        contract: String,
        chain: String,
        owner: String,
        config: Option<PathBuf>,
    }
    let out = Deployed {
        contract: address.clone(),
        chain: cfg.chain.clone(),
        owner: signer.name().to_string(),
        config: (!a.no_record).then(|| cfg.file.clone()),
    };
    emit(json, &out, || {
        let mut s = format!(
            "marketplace deployed at {address} on {} (owner {})",
            cfg.chain,
            signer.name()
        );
        if !a.no_record {
            s.push_str(&format!("\naddress recorded in {}", cfg.file.display()));
        }
        s
    });
    Ok(())
}

async fn chain(cfg: &Config, json: bool, command: ChainCommand) -> anyhow::Result<()> {
    let chain = AnyChain::open(&cfg.chain)
        .await
        .map_err(ClientError::from)?;
    let name = match &command {
        ChainCommand::Advance { .. } => "advance",
        ChainCommand::Fund { .. } => "fund",
        ChainCommand::Info => "info",
    };
    match command {
        ChainCommand::Advance { seconds } => {
            let embedded = chain
                .as_embedded()
                .ok_or_else(|| operator::embedded_only(name, &cfg.chain))?;
            let now = operator::advance(embedded, seconds).await?;
            #[derive(Serialize)]
            struct Advanced {
                seconds: u64,
                now_ms: u64,
            }
            emit(
                json,
                &Advanced {
                    seconds,
                    now_ms: now,
                },
                || format!("chain clock moved {seconds} s forward (now {now} ms)"),
            );
        }
        ChainCommand::Fund { account, units } => {
            let embedded = chain
                .as_embedded()
                .ok_or_else(|| operator::embedded_only(name, &cfg.chain))?;
            let id = parse_account(&account)?;
            let amount = parse_units(&units)?;
            operator::fund(embedded, &id, amount)?;
            #[derive(Serialize)]
            struct Funded {
                account: String,
                #[serde(with = "blindfold_client::units::units_str")]
                amount: u128,
            }
            emit(
                json,
                &Funded {
                    account: hex32(&id),
                    amount,
                },
                || format!("minted {} units into {account}", format_units(amount)),
            );
        }
        ChainCommand::Info => {
            use blindfold_chain::Chain as _;
            let now = chain.now().await.map_err(ClientError::from)?;
            #[derive(Serialize)]
            struct Info {
                chain: String,
                now_ms: u64,
                contract: Option<String>,
                datasets: Option<u32>,
                jobs: Option<u64>,
                #[serde(with = "blindfold_client::units::units_str")]
                escrow: u128,
                #[serde(with = "blindfold_client::units::units_str")]
                stakes: u128,
            }
            let mut info = Info {
                chain: chain.describe(),
                now_ms: now,
                contract: None,
                datasets: None,
                jobs: None,
                escrow: 0,
                stakes: 0,
            };
            if let Ok(address) = cfg.contract() {
                let market = Market::at(chain, address);
                let state = market.state().await.map_err(ClientError::from)?;
                info.contract = Some(hex32(&address));
                info.datasets = Some(state.dataset_count);
                info.jobs = Some(state.job_count);
                info.escrow = state.totals.escrow;
                info.stakes = state.totals.stakes;
            }
            emit(json, &info, || {
                let mut s = format!("chain {} at {} ms", info.chain, info.now_ms);
                if let (Some(c), Some(d), Some(j)) = (&info.contract, info.datasets, info.jobs) {
                    s.push_str(&format!(
                        "\nmarketplace {c}: {d} datasets, {j} jobs, escrow {}, stakes {}",
                        format_units(info.escrow),
                        format_units(info.stakes)
                    ));
                }
                s
            });
        }
    }
    Ok(())
}

async fn register(cfg: &Config, json: bool, a: RegisterArgs) -> anyhow::Result<()> {
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
    };
    let client = open(cfg).await?;
    let signer = signer(cfg)?;
    let keys = OwnerKeys::load(&cfg.keys)?;
    let r = owner::register(&client, &signer, &keys, &spec).await?;
    emit(json, &r, || {
        let g = r.metadata.geometry;
        format!(
            "registered dataset {} '{}': {}x{} pixels, {} bits, {} frames ({}), price {}, \
             min cohort {}, replication {}{}\nmetadata {}\nnext: blindfold submit {} --synthetic 20 (or --echonet DIR / --dicom FILES)",
            r.dataset_id,
            r.metadata.name,
            g.width,
            g.height,
            g.bits,
            g.frames,
            r.metadata.frame_selection,
            format_units(spec.price),
            spec.policy.min_cohort,
            spec.policy.replication,
            spec.policy
                .dp_epsilon_budget
                .map(|b| format!(", DP budget epsilon {}", format_epsilon(b)))
                .unwrap_or_default(),
            hex32(&r.metadata_hash),
            r.dataset_id
        )
    });
    Ok(())
}

async fn submit(cfg: &Config, json: bool, a: SubmitArgs) -> anyhow::Result<()> {
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
    emit(json, &report, || {
        let mut s = format!(
            "submitted {} encrypted videos to dataset {} (it now has {} submissions)",
            report.submitted.len(),
            report.dataset_id,
            report.submission_count
        );
        if !report.skipped.is_empty() {
            s.push_str(&format!(
                "\nskipped {} videos already submitted (--resubmit submits them again)",
                report.skipped.len()
            ));
        }
        s
    });
    Ok(())
}

async fn request(cfg: &Config, json: bool, a: RequestArgs) -> anyhow::Result<()> {
    let client = open(cfg).await?;
    let signer = signer(cfg)?;
    let params = match &a.params {
        Some(path) => researcher::read_params_file(path)?,
        None => {
            let (_, metadata) = client.dataset(a.dataset).await?;
            researcher::default_params(&a.pipeline, &metadata.geometry)?
        }
    };
    let options = RequestOptions {
        params,
        epsilon_milli: parse_epsilon(&a.epsilon)?,
        compute_window_ms: Some(a.window.saturating_mul(60_000)),
    };
    let r = researcher::request_job(&client, &signer, a.dataset, &options).await?;
    emit(json, &r, || {
        format!(
            "requested job {} ({} on dataset {}), escrow {} paid, {} PBS per video\n\
             follow it with: blindfold status {} --watch",
            r.job_id,
            r.pipeline,
            r.dataset_id,
            format_units(r.escrow),
            r.pbs_per_video,
            r.job_id
        )
    });
    Ok(())
}

async fn fetch(cfg: &Config, json: bool, a: FetchArgs) -> anyhow::Result<()> {
    let client = open(cfg).await?;
    let result = researcher::fetch_result(&client, a.job).await?;
    let out = a
        .out
        .unwrap_or_else(|| PathBuf::from(format!("results/job-{}", a.job)));
    std::fs::create_dir_all(&out).map_err(|e| ClientError::io("creating", &out, e))?;
    let file = out.join("released.json");
    std::fs::write(&file, result.to_bytes()).map_err(|e| ClientError::io("writing", &file, e))?;
    let plots = if a.no_plots {
        plot::PlotReport::default()
    } else {
        plot::write_plots(&result, &out)?
    };
    #[derive(Serialize)]
    struct Fetched<'a> {
        result: &'a blindfold_market::ReleasedResult,
        file: PathBuf,
        plots: plot::PlotReport,
    }
    let fetched = Fetched {
        result: &result,
        file: file.clone(),
        plots,
    };
    emit(json, &fetched, || {
        let mut s = researcher::result_table(&result);
        s.push_str(&format!(
            "\nhash checked against the chain; saved to {}\n",
            file.display()
        ));
        for f in &fetched.plots.files {
            s.push_str(&format!("plot: {}\n", f.display()));
        }
        for n in &fetched.plots.notes {
            s.push_str(&format!("note: {n}\n"));
        }
        s
    });
    Ok(())
}
