//! The operator: deploying the marketplace, and the embedded chain's demo
//! helpers.
//!
//! - [`read_wasm`] and [`deploy`]: upload and instantiate the release
//!   `artifacts/marketplace.wasm` with [`blindfold_market::default_params`];
//!   the deploying account becomes the contract owner. [`check_artifact`]
//!   first holds the code against the `manifest.json` beside it (its
//!   SHA-256 and code hash), so a corrupted or swapped wasm is never deployed.
//! - [`advance`] and [`fund`]: move the embedded chain's clock (deadlines) and
//!   mint tokens into an account. They exist only on the embedded chain; a
//!   real node's clock and balances are its own.
//! - [`chain_info`]: a chain's clock and, where a marketplace is deployed,
//!   its code hash, counts and money totals.
//! - [`account_info`]: an account's balance, earnings and stake.
//!
//! Each report type ([`Deployed`], [`Advanced`], [`Funded`], [`ChainInfo`],
//! [`AccountInfo`]) renders itself for people with its `summary`.

use std::path::{Path, PathBuf};

use blindfold_chain::embedded::EmbeddedChain;
use blindfold_chain::{Account, Chain, Signer};
use blindfold_market::Market;
use blindfold_protocol::types::Balance;
use blindfold_store::BlobStore;
use serde::Serialize;

use crate::error::{ClientError, Result};
use crate::units::{format_units, hex32};
use crate::Client;

/// Where `scripts/build-contract.sh` puts the contract code.
pub const DEFAULT_WASM: &str = "artifacts/marketplace.wasm";

/// Reads the contract code, saying how to build it when it is missing.
pub fn read_wasm(path: &Path) -> Result<Vec<u8>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ClientError::Usage(format!(
            "no contract code at {}: build it with scripts/build-contract.sh, or pass --wasm PATH",
            path.display()
        ))),
        Err(e) => Err(ClientError::io("reading", path, e)),
    }
}

/// What [`check_artifact`] found out about the code about to be deployed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Provenance {
    /// The code hash pallet-contracts will record (blake2-256 of the wasm).
    pub code_hash: String,
    /// The manifest the wasm matched, if one was beside it.
    pub manifest: Option<String>,
    /// The manifest's source digest (see `scripts/lib.sh`), if any.
    pub source_digest: Option<String>,
}

/// Checks `wasm` (read from `path`) against the `manifest.json` beside it,
/// as `scripts/build-contract.sh` writes it: its size, SHA-256 and code
/// hash must be the manifest's. With no manifest there, the code is
/// deployed as given and the provenance says so. A manifest that does not
/// parse, or does not match, is an error naming the difference.
pub fn check_artifact(path: &Path, wasm: &[u8]) -> Result<Provenance> {
    use sha2::{Digest, Sha256};
    let code_hash = hex::encode(blindfold_chain::code_hash(wasm));
    let manifest_path = path.with_file_name("manifest.json");
    let text = match std::fs::read_to_string(&manifest_path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Provenance {
                code_hash,
                manifest: None,
                source_digest: None,
            })
        }
        Err(e) => return Err(ClientError::io("reading", &manifest_path, e)),
    };
    let bad = |why: String| {
        ClientError::Usage(format!(
            "{} does not match {}: {why}; rebuild it with scripts/build-contract.sh",
            path.display(),
            manifest_path.display()
        ))
    };
    let manifest: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("the manifest is not JSON ({e})")))?;
    let field = |keys: &[&str]| -> Option<String> {
        let mut v = &manifest;
        for k in keys {
            v = v.get(*k)?;
        }
        v.as_str().map(str::to_owned)
    };
    let sha256 = hex::encode(Sha256::digest(wasm));
    let want_sha = field(&["wasm", "sha256"]).ok_or_else(|| bad("no wasm.sha256".into()))?;
    if sha256 != want_sha {
        return Err(bad(format!(
            "its SHA-256 is {sha256}, the manifest's {want_sha}"
        )));
    }
    let want_code = field(&["code_hash"]).ok_or_else(|| bad("no code_hash".into()))?;
    if want_code.trim_start_matches("0x") != code_hash {
        return Err(bad(format!(
            "its code hash is 0x{code_hash}, the manifest's {want_code}"
        )));
    }
    Ok(Provenance {
        code_hash,
        manifest: Some(manifest_path.display().to_string()),
        source_digest: field(&["source", "digest"]),
    })
}

/// Deploys the marketplace on `chain` with the demo params; `signer`
/// becomes its owner. `salt` tells apart several deployments of the same
/// code by the same account.
pub async fn deploy<C: Chain>(
    chain: C,
    signer: &Signer,
    wasm: &[u8],
    salt: &[u8],
) -> Result<Market<C>> {
    Ok(Market::deploy(
        chain,
        signer,
        wasm,
        blindfold_market::default_params(),
        salt,
    )
    .await?)
}

/// A deployed marketplace, as `deploy` reports it.
#[derive(Clone, Debug, Serialize)]
pub struct Deployed {
    /// The contract address (`0x` and 64 hex digits).
    pub contract: String,
    /// The chain, as the user named it.
    pub chain: String,
    /// The owner account, as the user named it.
    pub owner: String,
    /// The config file the address was recorded in, if it was.
    pub config: Option<PathBuf>,
    /// Where the code came from ([`check_artifact`]).
    pub provenance: Provenance,
}

impl Deployed {
    /// The address, the code's provenance and where the address was
    /// recorded, for people.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "marketplace deployed at {} on {} (owner {})",
            self.contract, self.chain, self.owner
        );
        let provenance = &self.provenance;
        s.push_str(&format!("\ncode hash 0x{}", provenance.code_hash));
        match (&provenance.manifest, &provenance.source_digest) {
            (Some(m), Some(d)) => s.push_str(&format!(", as {m} says (source digest {d})")),
            (Some(m), None) => s.push_str(&format!(", as {m} says")),
            (None, _) => s.push_str(" (no manifest.json beside the wasm: provenance unknown)"),
        }
        if let Some(file) = &self.config {
            s.push_str(&format!("\naddress recorded in {}", file.display()));
        }
        s
    }
}

/// The refusal for a demo helper on a real node.
pub fn embedded_only(command: &str, chain: &str) -> ClientError {
    ClientError::Usage(format!(
        "`blindfold chain {command}` works on the embedded chain only; {chain} is a real node, \
         whose clock and balances are its own"
    ))
}

/// How far [`advance`] moved the clock.
#[derive(Clone, Debug, Serialize)]
pub struct Advanced {
    /// Seconds added.
    pub seconds: u64,
    /// The chain time now (ms).
    pub now_ms: u64,
}

impl Advanced {
    /// One line, for people.
    pub fn summary(&self) -> String {
        format!(
            "chain clock moved {} s forward (now {} ms)",
            self.seconds, self.now_ms
        )
    }
}

/// Moves the embedded chain's clock forward by `seconds`; reports the new
/// chain time (ms).
pub async fn advance(chain: &EmbeddedChain, seconds: u64) -> Result<Advanced> {
    let ms = seconds
        .checked_mul(1000)
        .ok_or_else(|| ClientError::Usage(format!("{seconds} seconds is too far")))?;
    chain.advance_time(ms)?;
    Ok(Advanced {
        seconds,
        now_ms: chain.now().await?,
    })
}

/// What [`fund`] minted.
#[derive(Clone, Debug, Serialize)]
pub struct Funded {
    /// The account.
    #[serde(with = "crate::units::hex32")]
    pub account: Account,
    /// The amount minted (base units).
    #[serde(with = "crate::units::units_str")]
    pub amount: Balance,
}

impl Funded {
    /// One line, for people; `name` is the account as the user wrote it.
    pub fn summary(&self, name: &str) -> String {
        format!("minted {} units into {name}", format_units(self.amount))
    }
}

/// Mints `amount` base units into `account` on the embedded chain.
pub fn fund(chain: &EmbeddedChain, account: &Account, amount: Balance) -> Result<Funded> {
    chain.fund(account, amount)?;
    Ok(Funded {
        account: *account,
        amount,
    })
}

/// A chain and the marketplace on it, as `chain info` reports them.
#[derive(Clone, Debug, Serialize)]
pub struct ChainInfo {
    /// The chain ([`Chain::describe`]).
    pub chain: String,
    /// Its clock (ms).
    pub now_ms: u64,
    /// The marketplace's address, when one is configured.
    pub contract: Option<String>,
    /// The deployed contract's code hash (blake2-256 of its wasm).
    pub code_hash: Option<String>,
    /// The code hash of the release artifact here ([`DEFAULT_WASM`]),
    /// when it exists.
    pub expected_code_hash: Option<String>,
    /// An announced upgrade: its code hash and when it may be enacted.
    pub pending_upgrade: Option<(String, u64)>,
    /// Datasets registered.
    pub datasets: Option<u32>,
    /// Jobs requested.
    pub jobs: Option<u64>,
    /// Escrow held (base units).
    #[serde(with = "crate::units::units_str")]
    pub escrow: Balance,
    /// Worker stakes held (base units).
    #[serde(with = "crate::units::units_str")]
    pub stakes: Balance,
}

/// `chain`'s clock and, when `contract` is given, the marketplace there:
/// its code hash (held against the release artifact [`DEFAULT_WASM`]
/// when that exists here), pending upgrade, counts and money totals.
pub async fn chain_info<C: Chain>(chain: C, contract: Option<Account>) -> Result<ChainInfo> {
    let now_ms = chain.now().await?;
    let mut info = ChainInfo {
        chain: chain.describe(),
        now_ms,
        contract: None,
        code_hash: None,
        expected_code_hash: std::fs::read(DEFAULT_WASM)
            .ok()
            .map(|wasm| hex32(&blindfold_chain::code_hash(&wasm))),
        pending_upgrade: None,
        datasets: None,
        jobs: None,
        escrow: 0,
        stakes: 0,
    };
    if let Some(address) = contract {
        let market = Market::at(chain, address);
        let state = market.state().await?;
        info.contract = Some(hex32(&address));
        info.code_hash = market.code_hash().await?.map(|h| hex32(&h));
        info.pending_upgrade = state
            .pending_upgrade
            .map(|u| (hex32(&u.code_hash), u.enact_after));
        info.datasets = Some(state.dataset_count);
        info.jobs = Some(state.job_count);
        info.escrow = state.totals.escrow;
        info.stakes = state.totals.stakes;
    }
    Ok(info)
}

impl ChainInfo {
    /// The clock, the marketplace's counts and totals, its code hash against
    /// the artifact here, and any announced upgrade, for people.
    pub fn summary(&self) -> String {
        let mut s = format!("chain {} at {} ms", self.chain, self.now_ms);
        if let (Some(c), Some(d), Some(j)) = (&self.contract, self.datasets, self.jobs) {
            s.push_str(&format!(
                "\nmarketplace {c}: {d} datasets, {j} jobs, escrow {}, stakes {}",
                format_units(self.escrow),
                format_units(self.stakes)
            ));
        }
        if let Some(code) = &self.code_hash {
            s.push_str(&format!("\ncode hash {code}"));
            match &self.expected_code_hash {
                Some(e) if e == code => s.push_str(&format!(" (matches {DEFAULT_WASM})")),
                Some(e) => s.push_str(&format!("\n  DIFFERS from {DEFAULT_WASM} here: {e}")),
                None => {}
            }
        }
        if let Some((code, at)) = &self.pending_upgrade {
            s.push_str(&format!(
                "\nupgrade announced to {code}, enactable from {at} ms"
            ));
        }
        s
    }
}

/// An account's money.
#[derive(Clone, Debug, Serialize)]
pub struct AccountInfo {
    /// The account.
    #[serde(with = "crate::units::hex32")]
    pub account: Account,
    /// Free balance on the chain.
    #[serde(with = "crate::units::units_str")]
    pub balance: Balance,
    /// Earnings credited by the marketplace, not yet withdrawn.
    #[serde(with = "crate::units::units_str")]
    pub earnings: Balance,
    /// Worker stake (locked part included).
    #[serde(with = "crate::units::units_str")]
    pub stake: Balance,
}

impl AccountInfo {
    /// One line, for people; `name` is the account as the user wrote it.
    pub fn summary(&self, name: &str) -> String {
        format!(
            "{}: balance {}, earnings {}, stake {}",
            name,
            format_units(self.balance),
            format_units(self.earnings),
            format_units(self.stake)
        )
    }
}

/// `account`'s balance, marketplace earnings and stake.
pub async fn account_info<C: Chain, S: BlobStore>(
    client: &Client<C, S>,
    account: &Account,
) -> Result<AccountInfo> {
    let m = client.market();
    Ok(AccountInfo {
        account: *account,
        balance: m.balance(account).await?,
        earnings: m.earnings(account).await?,
        stake: match m.worker(account).await {
            Ok(w) => w.stake,
            Err(e) if e.contract_error() == Some(blindfold_protocol::Error::NotWorker) => 0,
            Err(e) => return Err(e.into()),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_artifact_matches_its_manifest_and_a_changed_one_does_not() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../artifacts");
        let path = dir.join("marketplace.wasm");
        let wasm = std::fs::read(&path).unwrap();
        let p = check_artifact(&path, &wasm).unwrap();
        assert!(p.manifest.is_some() && p.source_digest.is_some());
        assert_eq!(p.code_hash, hex::encode(blindfold_chain::code_hash(&wasm)));

        let mut changed = wasm.clone();
        changed[100] ^= 1;
        let e = check_artifact(&path, &changed).unwrap_err().to_string();
        assert!(
            e.contains("SHA-256") && e.contains("build-contract.sh"),
            "{e}"
        );

        // No manifest beside it: deployed as given, provenance unknown.
        let tmp = tempfile::tempdir().unwrap();
        let alone = tmp.path().join("marketplace.wasm");
        let p = check_artifact(&alone, &wasm).unwrap();
        assert_eq!(p.manifest, None);
        // A manifest that is not JSON is an error.
        std::fs::write(tmp.path().join("manifest.json"), "{").unwrap();
        assert!(check_artifact(&alone, &wasm).is_err());
    }
}
