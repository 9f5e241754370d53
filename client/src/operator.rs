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
//! - [`account_info`]: an account's balance, earnings and stake.

use std::path::Path;

use blindfold_chain::embedded::EmbeddedChain;
use blindfold_chain::{AccountId, Chain, Signer};
use blindfold_market::Market;
use blindfold_protocol::types::Balance;
use blindfold_store::BlobStore;
use serde::Serialize;

use crate::error::{ClientError, Result};
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

/// The refusal for a demo helper on a real node.
pub fn embedded_only(command: &str, chain: &str) -> ClientError {
    ClientError::Usage(format!(
        "`blindfold chain {command}` works on the embedded chain only; {chain} is a real node, \
         whose clock and balances are its own"
    ))
}

/// Moves the embedded chain's clock forward by `seconds`; returns the new
/// chain time (ms).
pub async fn advance(chain: &EmbeddedChain, seconds: u64) -> Result<u64> {
    let ms = seconds
        .checked_mul(1000)
        .ok_or_else(|| ClientError::Usage(format!("{seconds} seconds is too far")))?;
    chain.advance_time(ms)?;
    Ok(chain.now().await?)
}

/// Mints `amount` base units into `account` on the embedded chain.
pub fn fund(chain: &EmbeddedChain, account: &AccountId, amount: Balance) -> Result<()> {
    Ok(chain.fund(account, amount)?)
}

/// An account's money.
#[derive(Clone, Debug, Serialize)]
pub struct AccountInfo {
    /// The account.
    #[serde(with = "crate::units::hex32")]
    pub account: AccountId,
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

/// `account`'s balance, marketplace earnings and stake.
pub async fn account_info<C: Chain, S: BlobStore>(
    client: &Client<C, S>,
    account: &AccountId,
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
