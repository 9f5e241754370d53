//! [`AnyChain`]: the chain a user names on the command line.
//!
//! [`Chain`] has `async fn`s, so it is not object-safe; binaries that pick
//! their chain at run time hold this enum instead of a `Box<dyn Chain>`.
//! [`AnyChain::open`] parses the `--chain` flag:
//!
//! | spec | chain |
//! |---|---|
//! | `embedded` | a fresh in-memory embedded chain (gone at exit) |
//! | `embedded:<file>` | the embedded chain persisted in `<file>`, shared by processes |
//! | `ws://…` / `wss://…` | a substrate-contracts-node over subxt |

use crate::embedded::EmbeddedChain;
use crate::node::NodeChain;
use crate::Signer;
use crate::{
    Account, Balance, CallReceipt, Chain, ChainError, ContractEvent, Cursor, DryRun, Hash,
};

/// Either chain implementation, chosen at run time.
#[derive(Debug)]
pub enum AnyChain {
    /// The in-process chain (boxed: it holds a whole runtime).
    Embedded(Box<EmbeddedChain>),
    /// A real node.
    Node(NodeChain),
}

impl AnyChain {
    /// Opens the chain named by `spec` (see the module docs).
    pub async fn open(spec: &str) -> Result<Self, ChainError> {
        let spec = spec.trim();
        if spec == "embedded" {
            return Ok(AnyChain::Embedded(Box::default()));
        }
        if let Some(file) = spec.strip_prefix("embedded:") {
            if file.is_empty() {
                return Err(ChainError::Invalid(
                    "--chain embedded:<file> needs a file name after the colon".into(),
                ));
            }
            return Ok(AnyChain::Embedded(Box::new(EmbeddedChain::open(file)?)));
        }
        if spec.starts_with("ws://") || spec.starts_with("wss://") {
            return Ok(AnyChain::Node(NodeChain::connect(spec).await?));
        }
        Err(ChainError::Invalid(format!(
            "unknown chain '{spec}': use 'embedded', 'embedded:<state file>' or a ws:// node URL"
        )))
    }

    /// The embedded chain, when this is one (tests and demos move its clock).
    pub fn as_embedded(&self) -> Option<&EmbeddedChain> {
        match self {
            AnyChain::Embedded(chain) => Some(chain),
            AnyChain::Node(_) => None,
        }
    }

    /// The node, when this is one (for node-only operations such as
    /// [`NodeChain::transfer`]).
    pub fn as_node(&self) -> Option<&NodeChain> {
        match self {
            AnyChain::Embedded(_) => None,
            AnyChain::Node(chain) => Some(chain),
        }
    }
}

macro_rules! dispatch {
    ($self:ident, $chain:ident => $body:expr) => {
        match $self {
            AnyChain::Embedded($chain) => $body,
            AnyChain::Node($chain) => $body,
        }
    };
}

impl Chain for AnyChain {
    fn describe(&self) -> String {
        dispatch!(self, c => c.describe())
    }

    async fn deploy(
        &self,
        signer: &Signer,
        wasm: &[u8],
        data: Vec<u8>,
        salt: Vec<u8>,
    ) -> Result<Account, ChainError> {
        dispatch!(self, c => c.deploy(signer, wasm, data, salt).await)
    }

    async fn call(
        &self,
        signer: &Signer,
        contract: &Account,
        data: Vec<u8>,
        value: Balance,
    ) -> Result<CallReceipt, ChainError> {
        dispatch!(self, c => c.call(signer, contract, data, value).await)
    }

    async fn query(
        &self,
        origin: &Account,
        contract: &Account,
        data: Vec<u8>,
        value: Balance,
    ) -> Result<DryRun, ChainError> {
        dispatch!(self, c => c.query(origin, contract, data, value).await)
    }

    async fn events(
        &self,
        contract: &Account,
        cursor: Cursor,
    ) -> Result<(Vec<ContractEvent>, Cursor), ChainError> {
        dispatch!(self, c => c.events(contract, cursor).await)
    }

    async fn balance(&self, account: &Account) -> Result<Balance, ChainError> {
        dispatch!(self, c => c.balance(account).await)
    }

    async fn code_hash(&self, contract: &Account) -> Result<Option<Hash>, ChainError> {
        dispatch!(self, c => c.code_hash(contract).await)
    }

    async fn now(&self) -> Result<u64, ChainError> {
        dispatch!(self, c => c.now().await)
    }

    async fn catch_up(&self, signer: &Signer) -> Result<u64, ChainError> {
        dispatch!(self, c => c.catch_up(signer).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bad_specs_are_named() {
        let err = AnyChain::open("ftp://x").await.unwrap_err();
        assert!(err.to_string().contains("unknown chain 'ftp://x'"), "{err}");
        let err = AnyChain::open("embedded:").await.unwrap_err();
        assert!(err.to_string().contains("needs a file name"), "{err}");
        assert!(AnyChain::open("embedded")
            .await
            .unwrap()
            .as_embedded()
            .is_some());
    }
}
