//! Operator commands: deploying the contract, the embedded chain's clock
//! and faucet, and anyone's balance.

use std::path::PathBuf;

use blindfold_chain::AnyChain;
use blindfold_client::config::{self, Config};
use blindfold_client::units::{format_units, hex32, parse_account, parse_units};
use blindfold_client::{operator, ClientError};
use blindfold_market::Market;
use clap::{Args, Subcommand};
use serde::Serialize;

use super::{emit, open, signer};

#[derive(Debug, Args)]
pub struct DeployArgs {
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
pub enum ChainCommand {
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

/// `deploy`: the marketplace contract, its address recorded in the config file.
pub async fn deploy(cfg: &Config, json: bool, a: DeployArgs) -> anyhow::Result<()> {
    let wasm = operator::read_wasm(&a.wasm)?;
    let provenance = operator::check_artifact(&a.wasm, &wasm)?;
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
        provenance: operator::Provenance,
    }
    let out = Deployed {
        provenance: provenance.clone(),
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
        s.push_str(&format!("\ncode hash 0x{}", provenance.code_hash));
        match (&provenance.manifest, &provenance.source_digest) {
            (Some(m), Some(d)) => s.push_str(&format!(", as {m} says (source digest {d})")),
            (Some(m), None) => s.push_str(&format!(", as {m} says")),
            (None, _) => s.push_str(" (no manifest.json beside the wasm: provenance unknown)"),
        }
        if !a.no_record {
            s.push_str(&format!("\naddress recorded in {}", cfg.file.display()));
        }
        s
    });
    Ok(())
}

/// `chain advance|fund|info`: the embedded chain's clock and faucet, and what a chain holds.
pub async fn chain(cfg: &Config, json: bool, command: ChainCommand) -> anyhow::Result<()> {
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
                /// The deployed contract's code hash (blake2-256 of its wasm).
                code_hash: Option<String>,
                /// The code hash of the release artifact here
                /// (`artifacts/marketplace.wasm`), when it exists.
                expected_code_hash: Option<String>,
                /// An announced upgrade: its code hash and when it may be enacted.
                pending_upgrade: Option<(String, u64)>,
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
                code_hash: None,
                expected_code_hash: std::fs::read(operator::DEFAULT_WASM)
                    .ok()
                    .map(|wasm| hex32(&blindfold_chain::code_hash(&wasm))),
                pending_upgrade: None,
                datasets: None,
                jobs: None,
                escrow: 0,
                stakes: 0,
            };
            if let Ok(address) = cfg.contract() {
                let market = Market::at(chain, address);
                let state = market.state().await.map_err(ClientError::from)?;
                info.contract = Some(hex32(&address));
                info.code_hash = market
                    .code_hash()
                    .await
                    .map_err(ClientError::from)?
                    .map(|h| hex32(&h));
                info.pending_upgrade = state
                    .pending_upgrade
                    .map(|u| (hex32(&u.code_hash), u.enact_after));
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
                if let Some(code) = &info.code_hash {
                    s.push_str(&format!("\ncode hash {code}"));
                    match &info.expected_code_hash {
                        Some(e) if e == code => {
                            s.push_str(&format!(" (matches {})", operator::DEFAULT_WASM))
                        }
                        Some(e) => s.push_str(&format!(
                            "\n  DIFFERS from {} here: {e}",
                            operator::DEFAULT_WASM
                        )),
                        None => {}
                    }
                }
                if let Some((code, at)) = &info.pending_upgrade {
                    s.push_str(&format!(
                        "\nupgrade announced to {code}, enactable from {at} ms"
                    ));
                }
                s
            });
        }
    }
    Ok(())
}

/// `balance`: an account's balance, earnings and stake.
pub async fn balance(cfg: &Config, json: bool, account: Option<String>) -> anyhow::Result<()> {
    let client = open(cfg).await?;
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
