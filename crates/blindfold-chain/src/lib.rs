//! Chain access for every Blindfold role.
//!
//! Blindfold needs very little from a chain, and all of it is in one trait,
//! [`Chain`]:
//!
//! - [`Chain::deploy`] uploads and instantiates the marketplace contract;
//! - [`Chain::call`] dry-runs a message (so the contract's own error surfaces
//!   before anything is signed), then submits it and waits for inclusion;
//! - [`Chain::query`] reads state with a dry run;
//! - [`Chain::events`] follows the contract's events from finalized blocks with
//!   a resumable [`Cursor`];
//! - [`Chain::balance`] reads an account's free balance, and
//!   [`Chain::code_hash`] the code hash of a deployed contract;
//! - [`Chain::now`] reads the chain's clock, and [`Chain::catch_up`] makes an
//!   idle instant-seal node's clock catch up with the wall clock;
//!   [`deadline_passed`] uses both to decide whether a deadline has passed.
//!
//! Two implementations:
//!
//! - [`embedded::EmbeddedChain`]: real `pallet-contracts` in-process
//!   (`ink_sandbox` 5.1.1), executing the same release `.wasm`. Blocks and time
//!   advance when the caller says so. Its state can persist to a file under a
//!   lock, so separate processes on one machine share one chain.
//! - [`node::NodeChain`]: a real `substrate-contracts-node` over `subxt`.
//!
//! The parts of this crate:
//!
//! - this file: the trait and the types every implementation shares;
//! - [`signer`]: accounts from dev seeds (`//Alice`) or key files;
//! - [`embedded`] and [`node`]: the two implementations;
//! - [`any`]: [`AnyChain`], either of them, chosen at run time by a `--chain` spec;
//! - [`metered`]: [`Metered`], any chain with its calls counted and timed.
//!
//! [`code_hash`] computes pallet-contracts' code hash of a wasm blob.
//!
//! The layer is deliberately untyped: messages are SCALE bytes in and out.
//! The typed marketplace client sits on top of it in `blindfold-market`.

pub mod any;
pub mod embedded;
pub mod metered;
pub mod node;
pub mod signer;

use std::future::Future;

pub use any::AnyChain;
/// The 32-byte names and the money of every chain: an [`Account`] is an
/// sr25519 public key as pallet-contracts uses it, a [`Hash`] a code hash or
/// an event topic, a [`Balance`] the chain's native amount. One definition,
/// in `blindfold-protocol`, for the whole workspace.
pub use blindfold_protocol::{Account, Balance, Hash};
pub use metered::Metered;
pub use signer::Signer;

/// pallet-contracts' code hash of `wasm`: its blake2-256, the hash that
/// `announce_upgrade` names and that `artifacts/manifest.json` records.
pub fn code_hash(wasm: &[u8]) -> Hash {
    use blake2::digest::consts::U32;
    use blake2::{Blake2b, Digest};
    Blake2b::<U32>::digest(wasm).into()
}

/// Where to resume following events: the first block not yet read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cursor {
    /// The next block number to read.
    pub next_block: u64,
}

/// One event emitted by a contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractEvent {
    /// Block the event was emitted in.
    pub block: u64,
    /// The emitting contract.
    pub contract: Account,
    /// Event topics (for ink! 5: the signature topic first, then the
    /// `#[ink(topic)]` fields).
    pub topics: Vec<Hash>,
    /// SCALE-encoded event payload.
    pub data: Vec<u8>,
}

/// What a successful state-changing call left behind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallReceipt {
    /// The message's return data (SCALE; for ink!, a `MessageResult<Result<T, E>>`).
    pub data: Vec<u8>,
    /// The block that included the call.
    pub block: u64,
    /// Gas the dry run said the call needs: (ref_time, proof_size).
    pub gas_required: (u64, u64),
    /// Storage deposit charged (positive) or refunded (negative) by the dry run.
    pub storage_deposit: i128,
    /// Fee the signer paid for the transaction (0 on the embedded chain).
    pub fee: Balance,
}

/// The result of a dry run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DryRun {
    /// Return data (SCALE).
    pub data: Vec<u8>,
    /// Whether the contract reverted (ink! reverts on `Err`).
    pub reverted: bool,
    /// Gas required: (ref_time, proof_size).
    pub gas_required: (u64, u64),
    /// Storage deposit charged (positive) or refunded (negative).
    pub storage_deposit: i128,
}

/// Errors from chain access.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The contract ran and reverted. `data` is its SCALE-encoded return value,
    /// which the typed layer decodes into the contract's own error.
    #[error("the contract reverted the call (return data 0x{})", hex::encode(.data))]
    Reverted {
        /// The revert payload.
        data: Vec<u8>,
    },
    /// The runtime refused the call before or outside the contract (out of gas,
    /// no such contract, insufficient balance, a trap in the contract ...).
    #[error("the chain refused the call: {0}")]
    Dispatch(String),
    /// Talking to the node failed (connection, RPC, decoding).
    #[error("RPC error talking to the node: {0}")]
    Rpc(String),
    /// A bad argument: malformed URL, seed, key file or code.
    #[error("{0}")]
    Invalid(String),
    /// Reading or writing the embedded chain's state file failed.
    #[error("cannot read or write the embedded chain state {path}")]
    State {
        /// The state file.
        path: std::path::PathBuf,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// A signer's key file could not be read.
    #[error("cannot read the key file {path}")]
    KeyFile {
        /// The key file.
        path: std::path::PathBuf,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// The embedded chain's state file exists but cannot be decoded.
    #[error("embedded chain state {path} is corrupt: {reason}")]
    CorruptState {
        /// The state file.
        path: std::path::PathBuf,
        /// Why it cannot be read.
        reason: String,
    },
}

impl ChainError {
    /// Whether retrying the same call later may succeed (connection trouble),
    /// as opposed to a definite answer from the chain or the contract.
    pub fn is_transient(&self) -> bool {
        matches!(self, ChainError::Rpc(_))
    }
}

/// Everything Blindfold needs from a chain.
///
/// Every method takes `&self`; implementations synchronise internally, so one
/// handle can be shared by the tasks of a worker.
pub trait Chain: Send + Sync {
    /// A short human-readable description ("embedded", "ws://127.0.0.1:9944").
    fn describe(&self) -> String;

    /// Uploads `wasm` and instantiates it with the SCALE-encoded constructor
    /// call `data` (selector first). Returns the contract's address.
    fn deploy(
        &self,
        signer: &Signer,
        wasm: &[u8],
        data: Vec<u8>,
        salt: Vec<u8>,
    ) -> impl Future<Output = Result<Account, ChainError>> + Send;

    /// Dry-runs `data` (selector first) against `contract` with `value`
    /// attached; on success submits it signed by `signer` and waits until it
    /// is in a block. A revert in the dry run returns
    /// [`ChainError::Reverted`] and sends nothing.
    fn call(
        &self,
        signer: &Signer,
        contract: &Account,
        data: Vec<u8>,
        value: Balance,
    ) -> impl Future<Output = Result<CallReceipt, ChainError>> + Send;

    /// Dry-runs a message as `origin` without changing state.
    fn query(
        &self,
        origin: &Account,
        contract: &Account,
        data: Vec<u8>,
        value: Balance,
    ) -> impl Future<Output = Result<DryRun, ChainError>> + Send;

    /// Events emitted by `contract` in finalized blocks from `cursor` on, and
    /// the cursor to resume from.
    fn events(
        &self,
        contract: &Account,
        cursor: Cursor,
    ) -> impl Future<Output = Result<(Vec<ContractEvent>, Cursor), ChainError>> + Send;

    /// The free balance of `account`.
    fn balance(
        &self,
        account: &Account,
    ) -> impl Future<Output = Result<Balance, ChainError>> + Send;

    /// The code hash of the contract at `contract` (see [`code_hash`]), or
    /// `None` when no contract lives there.
    fn code_hash(
        &self,
        contract: &Account,
    ) -> impl Future<Output = Result<Option<Hash>, ChainError>> + Send;

    /// The chain's current time in milliseconds (the `pallet-timestamp` value
    /// contracts see as `block_timestamp`).
    fn now(&self) -> impl Future<Output = Result<u64, ChainError>> + Send;

    /// Brings the chain's clock up to the wall clock where blocks are only
    /// made on demand, then returns [`Chain::now`].
    ///
    /// A substrate-contracts-node seals a block only when a transaction
    /// arrives (instant seal), so on an idle node time stands still and a
    /// passed deadline stays unpassed for every dry run. There this seals a
    /// block with an empty `System::remark` signed by `signer`, when the
    /// latest block is more than a second behind the local clock. The
    /// embedded chain's clock moves only when told: there this reads it.
    fn catch_up(&self, signer: &Signer) -> impl Future<Output = Result<u64, ChainError>> + Send;
}

/// Whether `deadline` (chain time, ms) has passed for the chain's next call.
///
/// When the chain's clock says no but the wall clock says yes, the chain is
/// first made to [`Chain::catch_up`] (a block signed by `signer` on an idle
/// instant-seal node), so that a dry run sees the deadline passed too. No
/// transaction is sent while the deadline is still ahead.
pub async fn deadline_passed<C: Chain>(
    chain: &C,
    signer: &Signer,
    deadline: u64,
) -> Result<bool, ChainError> {
    let mut now = chain.now().await?;
    if now < deadline && wall_clock_ms() >= deadline {
        now = chain.catch_up(signer).await?;
    }
    Ok(now >= deadline)
}

/// The local wall clock in milliseconds since the Unix epoch, the scale of
/// [`Chain::now`] on a node.
fn wall_clock_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// A shared chain is a chain: one in-process chain can serve the client, a
/// test and several workers at once (`Market<Arc<EmbeddedChain>>`).
impl<T: Chain> Chain for std::sync::Arc<T> {
    fn describe(&self) -> String {
        (**self).describe()
    }

    fn deploy(
        &self,
        signer: &Signer,
        wasm: &[u8],
        data: Vec<u8>,
        salt: Vec<u8>,
    ) -> impl Future<Output = Result<Account, ChainError>> + Send {
        (**self).deploy(signer, wasm, data, salt)
    }

    fn call(
        &self,
        signer: &Signer,
        contract: &Account,
        data: Vec<u8>,
        value: Balance,
    ) -> impl Future<Output = Result<CallReceipt, ChainError>> + Send {
        (**self).call(signer, contract, data, value)
    }

    fn query(
        &self,
        origin: &Account,
        contract: &Account,
        data: Vec<u8>,
        value: Balance,
    ) -> impl Future<Output = Result<DryRun, ChainError>> + Send {
        (**self).query(origin, contract, data, value)
    }

    fn events(
        &self,
        contract: &Account,
        cursor: Cursor,
    ) -> impl Future<Output = Result<(Vec<ContractEvent>, Cursor), ChainError>> + Send {
        (**self).events(contract, cursor)
    }

    fn balance(
        &self,
        account: &Account,
    ) -> impl Future<Output = Result<Balance, ChainError>> + Send {
        (**self).balance(account)
    }

    fn code_hash(
        &self,
        contract: &Account,
    ) -> impl Future<Output = Result<Option<Hash>, ChainError>> + Send {
        (**self).code_hash(contract)
    }

    fn now(&self) -> impl Future<Output = Result<u64, ChainError>> + Send {
        (**self).now()
    }

    fn catch_up(&self, signer: &Signer) -> impl Future<Output = Result<u64, ChainError>> + Send {
        (**self).catch_up(signer)
    }
}
