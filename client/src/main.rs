//! `blindfold`: the command line of the marketplace.
//!
//! All logic lives in the library (`blindfold_client`). This file only
//! parses arguments (clap), resolves the settings ([`blindfold_client::config`])
//! and routes each command to its function in [`cmd`] (one file per role),
//! which calls one library function and prints its result: text for people,
//! or JSON with `--json`. Errors are printed as
//! one line, `error: ...`; the exit code is 2 for a usage mistake and 1 for
//! anything else.

mod cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use blindfold_client::config::{self, Settings};
use blindfold_client::ClientError;
use clap::{Args, Parser, Subcommand};

use cmd::operator::{ChainCommand, DeployArgs};
use cmd::owner::{RegisterArgs, ReleaseArgs, RevokeArgs, SubmitArgs, WatchArgs};
use cmd::researcher::{FetchArgs, RequestArgs, StatusArgs};
use cmd::verify::VerifyArgs;

const AFTER_HELP: &str = "\
A first run, all on the embedded chain in this directory (./blindfold.chain,
blobs in ./blindfold-blobs, owner keys in ./blindfold-keys):

  blindfold --account //Alice deploy                   operator: deploy the marketplace
  blindfold --account //Bob keygen                     data owner: BFV keys (--scheme tfhe)
  blindfold --account //Bob register --name demo --price 5 --min-cohort 5
  blindfold --account //Bob submit 0 --synthetic 20    encrypt 20 synthetic echos
  blindfold --account //Charlie datasets               researcher: what is on offer
  blindfold --keys charlie-keys researcher-key        researcher: the key releases are sealed to
  blindfold --account //Charlie --keys charlie-keys request 0    pay for lv-area on dataset 0
      ... workers offer, are drawn, compute and commit (blindfold-worker) ...
  blindfold --account //Bob watch --once               data owner: verify, decrypt and release
  blindfold --keys charlie-keys fetch 0                researcher: open, table, JSON and plots
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
    /// Data owner: generate keys (client key stays in the key directory, mode 0600)
    Keygen {
        /// The scheme every dataset registered with these keys uses: bfv
        /// (batched, 8192 pixels per ciphertext: fast) or tfhe (one bootstrap per pixel)
        #[arg(long, default_value = "bfv")]
        scheme: String,
        /// Replace an existing client key (datasets registered with it become undecryptable)
        #[arg(long)]
        force: bool,
    },
    /// Researcher: generate the age key that releases are sealed to (release.age in the key directory, mode 0600)
    ResearcherKey {
        /// Replace an existing release key (results sealed to it become unreadable)
        #[arg(long)]
        force: bool,
    },
    /// Data owner: register a dataset with its preprocessing, price and policy
    Register(RegisterArgs),
    /// Data owner: preprocess, encrypt, upload and record videos of a dataset
    Submit(SubmitArgs),
    /// Data owner: revoke a submission (withdrawn consent); later jobs exclude it
    Revoke(RevokeArgs),
    /// Data owner: verify a computed job's result, decrypt it, apply the policy, release and finalise it
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
    let (cfg, json) = (&cfg, g.json);
    match cli.command {
        Command::Deploy(a) => cmd::operator::deploy(cfg, json, a).await,
        Command::Chain(c) => cmd::operator::chain(cfg, json, c).await,
        Command::Balance { account } => cmd::operator::balance(cfg, json, account).await,
        Command::Keygen { scheme, force } => cmd::owner::keygen(cfg, json, &scheme, force).await,
        Command::ResearcherKey { force } => cmd::researcher::researcher_key(cfg, json, force),
        Command::Register(a) => cmd::owner::register(cfg, json, a).await,
        Command::Submit(a) => cmd::owner::submit(cfg, json, a).await,
        Command::Revoke(a) => cmd::owner::revoke(cfg, json, a).await,
        Command::Release(a) => cmd::owner::release(cfg, json, a).await,
        Command::Watch(a) => cmd::owner::watch(cfg, json, a).await,
        Command::Withdraw => cmd::owner::withdraw(cfg, json).await,
        Command::Datasets => cmd::researcher::datasets(cfg, json).await,
        Command::Request(a) => cmd::researcher::request(cfg, json, a).await,
        Command::Status(a) => cmd::researcher::status(cfg, json, a).await,
        Command::Fetch(a) => cmd::researcher::fetch(cfg, json, a).await,
        Command::Verify(a) => cmd::verify::verify(cfg, json, a).await,
    }
}
