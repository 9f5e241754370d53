//! The embedded chain: real `pallet-contracts` running in this process.
//!
//! [`EmbeddedChain`] wraps `ink_sandbox` 5.1.1's `DefaultSandbox`, a minimal
//! runtime with `frame-system`, `pallet-balances`, `pallet-timestamp` and
//! `pallet-contracts`. It executes the same release `.wasm` a node would.
//!
//! - **Blocks**: every submitted call gets a block of its own, as on a dev
//!   node with instant seal; every block is final at once.
//! - **Time** stands still until [`EmbeddedChain::advance_time`] moves it, so
//!   tests and demos control deadlines exactly.
//! - **Accounts**: the dev accounts ([`crate::signer::DEV_SEEDS`]) are funded
//!   at genesis with [`DEV_BALANCE`]; [`EmbeddedChain::fund`] mints more.
//! - **Persistence** (optional, [`EmbeddedChain::open`]): the whole state lives
//!   in one file. Every operation takes an exclusive lock on `<file>.lock`,
//!   reloads the file if another process changed it, and writes it back
//!   atomically (temporary file, then rename) when it changed anything. So
//!   the CLI and a worker daemon on one machine share one chain, and a crash
//!   never leaves a half-written state.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use blindfold_protocol::UNIT;
use fs4::fs_std::FileExt;
use ink_sandbox::api::prelude::*;
use ink_sandbox::frame_support::weights::Weight;
use ink_sandbox::macros::RuntimeEvent;
use ink_sandbox::pallet_contracts::{Determinism, ExecReturnValue};
use ink_sandbox::{AccountId32, DefaultSandbox, Sandbox, Snapshot, H256};
use parity_scale_codec::{Decode, Encode};

use crate::signer::{Signer, DEV_SEEDS};
use crate::{
    Account, Balance, CallReceipt, Chain, ChainError, ContractEvent, Cursor, DryRun, Hash,
};

/// What each dev account holds at genesis: 1,000,000 [`UNIT`]s.
pub const DEV_BALANCE: Balance = 1_000_000 * UNIT;
/// The chain clock at genesis (2026-01-01T00:00:00Z, in ms).
pub const GENESIS_TIME_MS: u64 = 1_767_225_600_000;
/// Gas limit for every call: the sandbox's default maximum.
const GAS_LIMIT: Weight = Weight::from_parts(100_000_000_000, 3 * 1024 * 1024);
/// Format version of the state file.
const STATE_VERSION: u32 = 1;

/// An in-process chain running real pallet-contracts.
pub struct EmbeddedChain {
    inner: Mutex<Inner>,
    file: Option<PathBuf>,
}

impl std::fmt::Debug for EmbeddedChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedChain")
            .field("file", &self.file)
            .finish()
    }
}

struct Inner {
    sandbox: DefaultSandbox,
    /// The chain clock (ms); re-applied after every block because the
    /// sandbox's block builder otherwise writes wall-clock seconds.
    clock_ms: u64,
    /// Every contract event so far, in order.
    log: Vec<ContractEvent>,
    /// Generation of the state file this memory reflects (0 = none).
    generation: u64,
}

/// Raw storage: key -> (value, reference count), as `ink_sandbox` snapshots it.
type RawStorage = Vec<(Vec<u8>, (Vec<u8>, i32))>;
/// One logged event: block, contract, topics, data.
type LoggedEvent = (u64, Account, Vec<Hash>, Vec<u8>);

/// The state file's contents.
#[derive(Encode, Decode)]
struct Persisted {
    version: u32,
    generation: u64,
    clock_ms: u64,
    storage: RawStorage,
    storage_root: [u8; 32],
    log: Vec<LoggedEvent>,
}

impl Inner {
    fn genesis() -> Self {
        let mut sandbox = DefaultSandbox::default();
        for seed in DEV_SEEDS {
            let account = Signer::from_uri(seed)
                .map(|s| s.account())
                .unwrap_or([0; 32]);
            // Minting into a fresh account in a fresh sandbox cannot fail.
            let _ = sandbox.mint_into(&AccountId32::new(account), DEV_BALANCE);
        }
        let mut inner = Inner {
            sandbox,
            clock_ms: GENESIS_TIME_MS,
            log: Vec::new(),
            generation: 0,
        };
        inner.next_block();
        inner
    }

    /// Starts a new block at the current clock. Returns its number.
    fn next_block(&mut self) -> u64 {
        let number = self.sandbox.build_block();
        self.sandbox.set_timestamp(self.clock_ms);
        u64::from(number)
    }

    fn block_number(&mut self) -> u64 {
        u64::from(self.sandbox.block_number())
    }

    fn snapshot(&mut self) -> Persisted {
        let Snapshot {
            storage,
            storage_root,
        } = self.sandbox.take_snapshot();
        Persisted {
            version: STATE_VERSION,
            generation: self.generation,
            clock_ms: self.clock_ms,
            storage,
            storage_root: storage_root.0,
            log: self
                .log
                .iter()
                .map(|e| (e.block, e.contract, e.topics.clone(), e.data.clone()))
                .collect(),
        }
    }

    fn restore(&mut self, p: Persisted) {
        self.sandbox.restore_snapshot(Snapshot {
            storage: p.storage,
            storage_root: H256(p.storage_root),
        });
        self.clock_ms = p.clock_ms;
        self.generation = p.generation;
        self.log = p
            .log
            .into_iter()
            .map(|(block, contract, topics, data)| ContractEvent {
                block,
                contract,
                topics,
                data,
            })
            .collect();
    }

    /// Runs a call for real in a new block and records its contract events.
    fn exec(
        &mut self,
        origin: Account,
        contract: Account,
        data: Vec<u8>,
        value: Balance,
    ) -> (u64, Result<ExecReturnValue, ChainError>) {
        let block = self.next_block();
        let result = self.sandbox.call_contract(
            AccountId32::new(contract),
            value,
            data,
            AccountId32::new(origin),
            GAS_LIMIT,
            None,
            Determinism::Enforced,
        );
        if let Some(events) = &result.events {
            self.record(block, events);
        }
        let outcome = result
            .result
            .map_err(|e| ChainError::Dispatch(format!("{e:?}")));
        (block, outcome)
    }

    fn record(
        &mut self,
        block: u64,
        events: &[ink_sandbox::EventRecordOf<ink_sandbox::RuntimeOf<DefaultSandbox>>],
    ) {
        for record in events {
            if let RuntimeEvent::Contracts(
                ink_sandbox::pallet_contracts::Event::ContractEmitted { contract, data },
            ) = &record.event
            {
                self.log.push(ContractEvent {
                    block,
                    contract: *contract.as_ref(),
                    topics: record.topics.iter().map(|t| t.0).collect(),
                    data: data.clone(),
                });
            }
        }
    }

    fn dry_run(
        &mut self,
        origin: Account,
        contract: Account,
        data: Vec<u8>,
        value: Balance,
    ) -> Result<DryRun, ChainError> {
        let result = self.sandbox.dry_run(|sandbox| {
            sandbox.call_contract(
                AccountId32::new(contract),
                value,
                data,
                AccountId32::new(origin),
                GAS_LIMIT,
                None,
                Determinism::Enforced,
            )
        });
        let ret = result
            .result
            .map_err(|e| ChainError::Dispatch(format!("{e:?}")))?;
        Ok(DryRun {
            reverted: ret.did_revert(),
            data: ret.data,
            gas_required: (
                result.gas_required.ref_time(),
                result.gas_required.proof_size(),
            ),
            storage_deposit: deposit_value(&result.storage_deposit),
        })
    }
}

fn deposit_value(d: &ink_sandbox::pallet_contracts::StorageDeposit<Balance>) -> i128 {
    use ink_sandbox::pallet_contracts::StorageDeposit;
    match d {
        StorageDeposit::Charge(v) => i128::try_from(*v).unwrap_or(i128::MAX),
        StorageDeposit::Refund(v) => i128::try_from(*v).map(|v| -v).unwrap_or(i128::MIN),
    }
}

impl EmbeddedChain {
    /// A fresh chain in memory, gone when dropped.
    pub fn new() -> Self {
        EmbeddedChain {
            inner: Mutex::new(Inner::genesis()),
            file: None,
        }
    }

    /// A chain persisted in `file` (created at genesis if missing), shared
    /// with any other process that opens the same file.
    pub fn open(file: impl AsRef<Path>) -> Result<Self, ChainError> {
        let chain = EmbeddedChain {
            inner: Mutex::new(Inner::genesis()),
            file: Some(file.as_ref().to_path_buf()),
        };
        // Load (or create) the file now, so a bad path fails early.
        chain.with_state(true, |_| ())?;
        Ok(chain)
    }

    /// Moves the chain clock forward by `ms` and seals a block at the new time.
    pub fn advance_time(&self, ms: u64) -> Result<u64, ChainError> {
        self.with_state(true, |inner| {
            inner.clock_ms = inner.clock_ms.saturating_add(ms);
            inner.next_block();
            inner.clock_ms
        })
    }

    /// Mints `amount` into `account` (tests and demos: a faucet).
    pub fn fund(&self, account: &Account, amount: Balance) -> Result<(), ChainError> {
        self.with_state(true, |inner| {
            inner
                .sandbox
                .mint_into(&AccountId32::new(*account), amount)
                .map(|_| ())
                .map_err(|e| ChainError::Dispatch(format!("{e:?}")))
        })?
    }

    /// The current block number.
    pub fn block_number(&self) -> Result<u64, ChainError> {
        self.with_state(false, |inner| inner.block_number())
    }

    /// Runs `f` on the state, reloading it from the file first and saving it
    /// after when `mutates` is set, all under the file lock.
    fn with_state<T>(
        &self,
        mutates: bool,
        f: impl FnOnce(&mut Inner) -> T,
    ) -> Result<T, ChainError> {
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(path) = &self.file else {
            return Ok(f(&mut inner));
        };
        let io = |source| ChainError::State {
            path: path.clone(),
            source,
        };
        let lock_path = path.with_extension("lock");
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io)?;
        lock.lock_exclusive().map_err(io)?;

        match std::fs::read(path) {
            Ok(bytes) => {
                let p = decode_state(path, &bytes)?;
                if p.generation != inner.generation {
                    inner.restore(p);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // A new chain: genesis is what we already hold; write it.
                if inner.generation != 0 {
                    *inner = Inner::genesis();
                }
                write_state(path, &mut inner).map_err(io)?;
            }
            Err(e) => return Err(io(e)),
        }
        let out = f(&mut inner);
        if mutates {
            write_state(path, &mut inner).map_err(io)?;
        }
        // The lock is released when `lock` is dropped.
        drop(lock);
        Ok(out)
    }
}

impl Default for EmbeddedChain {
    fn default() -> Self {
        Self::new()
    }
}

fn decode_state(path: &Path, bytes: &[u8]) -> Result<Persisted, ChainError> {
    let corrupt = |reason: String| ChainError::CorruptState {
        path: path.to_path_buf(),
        reason,
    };
    let p = Persisted::decode(&mut &bytes[..]).map_err(|e| corrupt(e.to_string()))?;
    if p.version != STATE_VERSION {
        return Err(corrupt(format!(
            "format version {} (this build reads {STATE_VERSION})",
            p.version
        )));
    }
    Ok(p)
}

fn write_state(path: &Path, inner: &mut Inner) -> std::io::Result<()> {
    inner.generation = inner.generation.wrapping_add(1).max(1);
    let bytes = inner.snapshot().encode();
    let tmp = path.with_extension("tmp");
    {
        use std::io::Write;
        let mut f = File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

impl Chain for EmbeddedChain {
    fn describe(&self) -> String {
        match &self.file {
            Some(p) => format!("embedded ({})", p.display()),
            None => "embedded (in memory)".into(),
        }
    }

    async fn deploy(
        &self,
        signer: &Signer,
        wasm: &[u8],
        data: Vec<u8>,
        salt: Vec<u8>,
    ) -> Result<Account, ChainError> {
        let origin = signer.account();
        let wasm = wasm.to_vec();
        self.with_state(true, move |inner| {
            let block = inner.next_block();
            let result = inner.sandbox.deploy_contract(
                wasm,
                0,
                data,
                salt,
                AccountId32::new(origin),
                GAS_LIMIT,
                None,
            );
            if let Some(events) = &result.events {
                inner.record(block, events);
            }
            let ok = result
                .result
                .map_err(|e| ChainError::Dispatch(format!("{e:?}")))?;
            if ok.result.did_revert() {
                return Err(ChainError::Reverted {
                    data: ok.result.data,
                });
            }
            Ok(*ok.account_id.as_ref())
        })?
    }

    async fn call(
        &self,
        signer: &Signer,
        contract: &Account,
        data: Vec<u8>,
        value: Balance,
    ) -> Result<CallReceipt, ChainError> {
        let origin = signer.account();
        let contract = *contract;
        self.with_state(true, move |inner| {
            let dry = inner.dry_run(origin, contract, data.clone(), value)?;
            if dry.reverted {
                return Err(ChainError::Reverted { data: dry.data });
            }
            let (block, outcome) = inner.exec(origin, contract, data, value);
            let ret = outcome?;
            if ret.did_revert() {
                return Err(ChainError::Reverted { data: ret.data });
            }
            Ok(CallReceipt {
                data: ret.data,
                block,
                gas_required: dry.gas_required,
                storage_deposit: dry.storage_deposit,
                fee: 0,
            })
        })?
    }

    async fn query(
        &self,
        origin: &Account,
        contract: &Account,
        data: Vec<u8>,
        value: Balance,
    ) -> Result<DryRun, ChainError> {
        let (origin, contract) = (*origin, *contract);
        self.with_state(false, move |inner| {
            inner.dry_run(origin, contract, data, value)
        })?
    }

    async fn events(
        &self,
        contract: &Account,
        cursor: Cursor,
    ) -> Result<(Vec<ContractEvent>, Cursor), ChainError> {
        self.with_state(false, |inner| {
            let head = inner.block_number();
            let events = inner
                .log
                .iter()
                .filter(|e| {
                    e.block >= cursor.next_block && e.block <= head && &e.contract == contract
                })
                .cloned()
                .collect();
            (
                events,
                Cursor {
                    next_block: head.saturating_add(1),
                },
            )
        })
    }

    async fn balance(&self, account: &Account) -> Result<Balance, ChainError> {
        let account = AccountId32::new(*account);
        self.with_state(false, move |inner| inner.sandbox.free_balance(&account))
    }

    async fn code_hash(&self, contract: &Account) -> Result<Option<Hash>, ChainError> {
        let account = AccountId32::new(*contract);
        self.with_state(false, move |inner| {
            inner.sandbox.execute_with(|| {
                ink_sandbox::pallet_contracts::Pallet::<
                    ink_sandbox::RuntimeOf<DefaultSandbox>,
                >::code_hash(&account)
                .map(|h| h.to_fixed_bytes())
            })
        })
    }

    async fn now(&self) -> Result<u64, ChainError> {
        self.with_state(false, |inner| inner.clock_ms)
    }

    /// The embedded clock moves only with [`EmbeddedChain::advance_time`].
    async fn catch_up(&self, _signer: &Signer) -> Result<u64, ChainError> {
        self.now().await
    }
}
