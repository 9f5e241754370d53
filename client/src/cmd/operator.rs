//! Operator commands: deploying the contract, the embedded chain's clock
//! and faucet, and anyone's balance.

use std::path::PathBuf;

use blindfold_chain::AnyChain;
use blindfold_client::config::{self, Config};
use blindfold_client::units::{hex32, parse_account, parse_units};
use blindfold_client::{operator, ClientError};
use clap::{Args, Subcommand};

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
    let report = operator::Deployed {
        contract: address,
        chain: cfg.chain.clone(),
        owner: signer.name().to_string(),
        config: (!a.no_record).then(|| cfg.file.clone()),
        provenance,
    };
    emit(json, &report, || report.summary());
    Ok(())
}

/// `chain advance|fund|info`: the embedded chain's clock and faucet, and what a chain holds.
pub async fn chain(cfg: &Config, json: bool, command: ChainCommand) -> anyhow::Result<()> {
    let chain = AnyChain::open(&cfg.chain)
        .await
        .map_err(ClientError::from)?;
    let embedded = |name| {
        chain
            .as_embedded()
            .ok_or_else(|| operator::embedded_only(name, &cfg.chain))
    };
    match command {
        ChainCommand::Advance { seconds } => {
            let report = operator::advance(embedded("advance")?, seconds).await?;
            emit(json, &report, || report.summary());
        }
        ChainCommand::Fund { account, units } => {
            let chain = embedded("fund")?;
            let report = operator::fund(chain, &parse_account(&account)?, parse_units(&units)?)?;
            emit(json, &report, || report.summary(&account));
        }
        ChainCommand::Info => {
            let report = operator::chain_info(chain, cfg.contract().ok()).await?;
            emit(json, &report, || report.summary());
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
    emit(json, &info, || info.summary(&spec));
    Ok(())
}
