//! The operator: deploying the marketplace, and the embedded chain's demo
//! helpers.
//!
//! - [`read_wasm`] and [`deploy`]: upload and instantiate the release
//!   `artifacts/marketplace.wasm` with [`blindfold_market::default_params`];
//!   the deploying account becomes the contract owner.
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
