//! The `blindfold` commands, one file per role, and what they share.
//!
//! Each command is one function `(cfg, json, args) -> anyhow::Result<()>`
//! that opens what it needs, calls one library function of
//! `blindfold_client` and prints the report it returns ([`emit`]): the
//! report's own `summary()` for people, or JSON with `--json`. No command
//! formats a report itself. Parts:
//!
//! - [`operator`]: `deploy`, `chain advance|fund|info`, `balance`;
//! - [`owner`]: `keygen`, `register`, `submit`, `revoke`, `release`, `watch`, `withdraw`;
//! - [`researcher`]: `researcher-key`, `datasets`, `request`, `status`, `fetch`;
//! - [`verify`]: the `verify` command;
//! - this file: opening the chain and store, the signer, progress bars, output.

pub mod operator;
pub mod owner;
pub mod researcher;
pub mod verify;

use std::time::Duration;

use blindfold_chain::{AnyChain, Signer};
use blindfold_client::config::Config;
use blindfold_client::units::hex32;
use blindfold_client::{Client, ClientError};
use blindfold_market::Market;
use blindfold_store::AnyStore;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

/// The client every command uses: any chain, any store.
pub type AnyClient = Client<AnyChain, AnyStore>;

/// Prints `value` as JSON, or `text()` for people.
pub fn emit<T: Serialize>(json: bool, value: &T, text: impl FnOnce() -> String) {
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

/// `e` and every error under it, as `{e:#}` prints an `anyhow::Error`:
/// `reading x.csv: No such file or directory`.
pub fn with_causes(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}

/// The chain and store of `cfg`, and the marketplace at its contract address
/// (checked to answer).
pub async fn open(cfg: &Config) -> Result<AnyClient, ClientError> {
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
    Ok(Client::new(market, store).with_event_index(event_index_path(cfg, &contract)))
}

/// Where the CLI keeps its event index for `contract` on `cfg.chain`:
/// `$BLINDFOLD_CACHE` (default `~/.cache/blindfold`)`/events/<chain>-<contract>.idx`,
/// the chain named by a hash of its spec.
fn event_index_path(cfg: &Config, contract: &[u8; 32]) -> std::path::PathBuf {
    let base = std::env::var_os("BLINDFOLD_CACHE")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".cache/blindfold"))
        })
        .unwrap_or_else(std::env::temp_dir);
    let chain = blindfold_store::sha256(cfg.chain.as_bytes());
    base.join("events").join(format!(
        "{}-{}.idx",
        hex::encode(&chain[..6]),
        hex::encode(contract)
    ))
}

/// The account that signs, from `--account`.
pub fn signer(cfg: &Config) -> Result<Signer, ClientError> {
    let spec = cfg.account()?;
    Signer::from_spec(spec)
        .map_err(|e| ClientError::Usage(format!("invalid --account '{spec}': {e}")))
}

/// A spinner for work of unknown length (hidden with `--json`).
pub fn spinner(json: bool, message: &str) -> ProgressBar {
    if json {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner().with_message(message.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// A progress bar counting `unit` (hidden with `--json`).
pub fn bar(json: bool, unit: &str) -> ProgressBar {
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
