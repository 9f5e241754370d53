//! A real `substrate-contracts-node` 0.42.0 over `subxt` 0.38.
//!
//! - **Dry runs** go through the `ContractsApi_call` / `ContractsApi_instantiate`
//!   runtime APIs; their results are decoded field by field (the prefix we need),
//!   so no generated metadata types are required.
//! - **Transactions** are dynamic `Contracts::call` / `instantiate_with_code`
//!   extrinsics, signed with sr25519, submitted, and awaited until finalized
//!   (the dev node seals and finalizes each transaction at once). One lock
//!   per signing account, shared by every connection in the process, keeps
//!   nonces apart; a nonce taken by another process is retried.
//! - **Refusals** come back as the contract's own error either way: from the
//!   dry run, or, when another transaction changed the state between the dry
//!   run and inclusion and the call reverted in its block, from a dry run
//!   repeated at that block (the block keeps no revert data).
//! - **Events** are read block by block from the cursor up to the finalized
//!   head: `Contracts::ContractEmitted` of the chosen contract, with topics.
//!   Events are block state, so following a contract from its deployment
//!   needs a node that keeps old state (`--state-pruning archive`).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use parity_scale_codec::{Compact, Decode, Encode, Input};
use subxt::backend::legacy::LegacyRpcMethods;
use subxt::backend::rpc::RpcClient;
use subxt::dynamic::Value;
use subxt::{OnlineClient, SubstrateConfig};
use tokio::sync::Mutex;

use crate::signer::Signer;
use crate::{
    Account, Balance, CallReceipt, Chain, ChainError, ContractEvent, Cursor, DryRun, Hash,
};

type Config = SubstrateConfig;
type BlockHash = <Config as subxt::Config>::Hash;
type Payload = subxt::tx::DefaultPayload<subxt::ext::scale_value::Composite<()>>;
type InBlock = subxt::tx::TxInBlock<Config, OnlineClient<Config>>;
type Events = subxt::blocks::ExtrinsicEvents<Config>;

/// Why a finalized transaction failed, as a [`ChainError`].
fn failed(e: subxt::Error) -> ChainError {
    match e {
        subxt::Error::Runtime(d) => ChainError::Dispatch(d.to_string()),
        other => rpc_err(other),
    }
}

/// Whether the transaction failed because the contract reverted.
fn contract_reverted(e: &subxt::Error) -> bool {
    match e {
        subxt::Error::Runtime(subxt::error::DispatchError::Module(m)) => m
            .details()
            .is_ok_and(|d| d.pallet.name() == "Contracts" && d.variant.name == "ContractReverted"),
        _ => false,
    }
}

/// Upper bound of gas any one call may use (the dev node's block limit is far above).
const MAX_REF_TIME: u64 = 500_000_000_000;
const MAX_PROOF_SIZE: u64 = 5 * 1024 * 1024;

/// A connection to a substrate-contracts-node.
pub struct NodeChain {
    url: String,
    api: OnlineClient<Config>,
    rpc: LegacyRpcMethods<Config>,
}

impl std::fmt::Debug for NodeChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeChain").field("url", &self.url).finish()
    }
}

fn rpc_err(e: impl std::fmt::Display) -> ChainError {
    ChainError::Rpc(e.to_string())
}

impl NodeChain {
    /// Connects to `url` (`ws://127.0.0.1:9944`).
    pub async fn connect(url: &str) -> Result<Self, ChainError> {
        if !(url.starts_with("ws://") || url.starts_with("wss://")) {
            return Err(ChainError::Invalid(format!(
                "node URL must start with ws:// or wss://, got '{url}'"
            )));
        }
        let client = RpcClient::from_insecure_url(url)
            .await
            .map_err(|e| ChainError::Rpc(format!("cannot connect to {url}: {e}")))?;
        let api = OnlineClient::<Config>::from_rpc_client(client.clone())
            .await
            .map_err(|e| ChainError::Rpc(format!("cannot read metadata from {url}: {e}")))?;
        Ok(NodeChain {
            url: url.to_string(),
            api,
            rpc: LegacyRpcMethods::new(client),
        })
    }

    /// Calls a runtime API on the state after block `at`, or the latest.
    async fn runtime_call(
        &self,
        function: &str,
        args: Vec<u8>,
        at: Option<BlockHash>,
    ) -> Result<Vec<u8>, ChainError> {
        let api = match at {
            Some(hash) => self.api.runtime_api().at(hash),
            None => self.api.runtime_api().at_latest().await.map_err(rpc_err)?,
        };
        let RawBytes(bytes) = api
            .call_raw::<RawBytes>(function, Some(&args))
            .await
            .map_err(rpc_err)?;
        Ok(bytes)
    }

    fn dispatch_error(&self, bytes: &[u8]) -> ChainError {
        match subxt::error::DispatchError::decode_from(Cow::Borrowed(bytes), self.api.metadata()) {
            Ok(e) => ChainError::Dispatch(e.to_string()),
            Err(_) => ChainError::Dispatch(format!(
                "undecodable dispatch error 0x{}",
                hex::encode(bytes)
            )),
        }
    }

    /// Signs, submits and waits for finalization; returns the events, the
    /// block number and the fee paid.
    async fn submit(
        &self,
        signer: &Signer,
        call: Payload,
    ) -> Result<(Events, u64, Balance), ChainError> {
        let in_block = self.finalized(signer, call).await?;
        let block_hash = in_block.block_hash();
        let events = in_block.wait_for_success().await.map_err(failed)?;
        let (block, fee) = self.included(block_hash, &events).await?;
        Ok((events, block, fee))
    }

    /// Signs and submits `call`, and waits until its block is finalized.
    async fn finalized(&self, signer: &Signer, call: Payload) -> Result<InBlock, ChainError> {
        let account = signer.account();
        let lock = account_lock(&account);
        let _guard = lock.lock().await;
        let pair = signer.keypair();
        let mut attempt = 0u32;
        let progress = loop {
            match self
                .api
                .tx()
                .sign_and_submit_then_watch_default(&call, pair)
                .await
            {
                Ok(progress) => break progress,
                // Another process signing as the same account took our nonce
                // between our read of it and the pool's check. The pool
                // refused the transaction outright, so signing again with the
                // next nonce cannot send it twice.
                Err(e) if is_nonce_race(&e) && attempt < NONCE_RETRIES => {
                    attempt = attempt.saturating_add(1);
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                Err(e) => return Err(rpc_err(e)),
            }
        };
        progress.wait_for_finalized().await.map_err(rpc_err)
    }

    /// The block number and the fee paid of a successful transaction,
    /// included in block `block_hash` with `events`.
    async fn included(
        &self,
        block_hash: BlockHash,
        events: &Events,
    ) -> Result<(u64, Balance), ChainError> {
        let header = self
            .rpc
            .chain_get_header(Some(block_hash))
            .await
            .map_err(rpc_err)?
            .ok_or_else(|| ChainError::Rpc("finalized block has no header".into()))?;
        let mut fee = 0;
        for ev in events.iter() {
            let ev = ev.map_err(rpc_err)?;
            if ev.pallet_name() == "TransactionPayment" && ev.variant_name() == "TransactionFeePaid"
            {
                // { who: AccountId32, actual_fee: u128, tip: u128 }
                let mut bytes = ev.field_bytes();
                let _who = Account::decode(&mut bytes).map_err(rpc_err)?;
                fee = u128::decode(&mut bytes).map_err(rpc_err)?;
            }
        }
        Ok((u64::from(header.number), fee))
    }

    /// Transfers `amount` from `from` to `to` (`Balances::transfer_keep_alive`),
    /// for example to fund a fresh account derived from a dev seed.
    pub async fn transfer(
        &self,
        from: &Signer,
        to: &Account,
        amount: Balance,
    ) -> Result<(), ChainError> {
        let call = subxt::dynamic::tx(
            "Balances",
            "transfer_keep_alive",
            vec![
                Value::unnamed_variant("Id", [Value::from_bytes(to)]),
                Value::u128(amount),
            ],
        );
        self.submit(from, call).await.map(|_| ())
    }

    async fn dry_run_call(
        &self,
        origin: &Account,
        contract: &Account,
        data: &[u8],
        value: Balance,
        at: Option<BlockHash>,
    ) -> Result<DryRun, ChainError> {
        // ContractsApi_call(origin, dest, value, gas_limit: Option<Weight>,
        //                   storage_deposit_limit: Option<Balance>, input_data)
        let mut args = Vec::new();
        origin.encode_to(&mut args);
        contract.encode_to(&mut args);
        value.encode_to(&mut args);
        Option::<(Compact<u64>, Compact<u64>)>::None.encode_to(&mut args);
        Option::<Balance>::None.encode_to(&mut args);
        data.encode_to(&mut args);
        let bytes = self.runtime_call("ContractsApi_call", args, at).await?;
        let mut input = &bytes[..];
        let head = ResultHead::decode(&mut input)
            .map_err(|e| ChainError::Rpc(format!("bad dry-run result: {e}")))?;
        match u8::decode(&mut input).map_err(rpc_err)? {
            0 => {
                let flags = u32::decode(&mut input).map_err(rpc_err)?;
                let ret = Vec::<u8>::decode(&mut input).map_err(rpc_err)?;
                Ok(DryRun {
                    data: ret,
                    reverted: flags & 1 == 1,
                    gas_required: head.gas_required,
                    storage_deposit: head.storage_deposit,
                })
            }
            _ => Err(self.dispatch_error(input)),
        }
    }
}

/// How far (ms) the latest block may lag the local clock before
/// [`Chain::catch_up`] seals a new one.
const CLOCK_LAG_MS: u64 = 1_000;

/// How often a submission refused for a stale nonce is signed again.
const NONCE_RETRIES: u32 = 5;

/// The submission lock of `account`, shared by every [`NodeChain`] in this
/// process: subxt reads the next nonce from the node, so two submissions by
/// one account must not overlap, even through two connections (as parallel
/// tests, or a client and a worker in one process, make them).
fn account_lock(account: &Account) -> Arc<Mutex<()>> {
    static LOCKS: OnceLock<std::sync::Mutex<HashMap<Account, Arc<Mutex<()>>>>> = OnceLock::new();
    let locks = LOCKS.get_or_init(Default::default);
    // A poisoned map only means another thread panicked while inserting;
    // the map itself is still whole.
    let mut locks = locks.lock().unwrap_or_else(|p| p.into_inner());
    Arc::clone(locks.entry(*account).or_default())
}

/// Whether the pool refused a transaction because its nonce was already used
/// (`Transaction is outdated`) or is in the pool (`Priority is too low`).
fn is_nonce_race(e: &subxt::Error) -> bool {
    let text = e.to_string();
    text.contains("Transaction is outdated") || text.contains("Priority is too low")
}

/// Every remaining byte of a runtime API answer.
struct RawBytes(Vec<u8>);

impl Decode for RawBytes {
    fn decode<I: Input>(input: &mut I) -> Result<Self, parity_scale_codec::Error> {
        let len = input.remaining_len()?.unwrap_or(0);
        let mut bytes = vec![0; len];
        input.read(&mut bytes)?;
        Ok(RawBytes(bytes))
    }
}

/// The fields of pallet-contracts' `ContractResult` before `result`.
struct ResultHead {
    gas_required: (u64, u64),
    storage_deposit: i128,
}

impl ResultHead {
    fn decode(input: &mut &[u8]) -> Result<Self, parity_scale_codec::Error> {
        let _gas_consumed = (
            Compact::<u64>::decode(input)?,
            Compact::<u64>::decode(input)?,
        );
        let ref_time = Compact::<u64>::decode(input)?.0;
        let proof_size = Compact::<u64>::decode(input)?.0;
        // StorageDeposit { Refund(Balance) = 0, Charge(Balance) = 1 }
        let kind = u8::decode(input)?;
        let amount = i128::try_from(u128::decode(input)?).unwrap_or(i128::MAX);
        let storage_deposit = if kind == 0 { -amount } else { amount };
        let _debug_message = Vec::<u8>::decode(input)?;
        Ok(ResultHead {
            gas_required: (ref_time, proof_size),
            storage_deposit,
        })
    }
}

/// The gas limit sent with a transaction: twice the dry run's, plus a little.
///
/// State may move between the dry run and inclusion: a worker's `reveal`
/// dry-run before the other worker's reveal lands does not pay for settling
/// the job, which the included one then must. Unused gas is refunded, so a
/// generous limit costs nothing but block room.
fn weight(gas: (u64, u64)) -> Value {
    let ref_time = gas.0.saturating_mul(2).saturating_add(1_000_000_000);
    let proof_size = gas.1.saturating_mul(2).saturating_add(64 * 1024);
    Value::named_composite([
        (
            "ref_time",
            Value::u128(u128::from(ref_time.min(MAX_REF_TIME))),
        ),
        (
            "proof_size",
            Value::u128(u128::from(proof_size.min(MAX_PROOF_SIZE))),
        ),
    ])
}

impl Chain for NodeChain {
    fn describe(&self) -> String {
        self.url.clone()
    }

    async fn deploy(
        &self,
        signer: &Signer,
        wasm: &[u8],
        data: Vec<u8>,
        salt: Vec<u8>,
    ) -> Result<Account, ChainError> {
        // Dry run: ContractsApi_instantiate(origin, value, gas_limit, storage_deposit_limit,
        //                                   code: Code::Upload(wasm), data, salt)
        let mut args = Vec::new();
        signer.account().encode_to(&mut args);
        0u128.encode_to(&mut args);
        Option::<(Compact<u64>, Compact<u64>)>::None.encode_to(&mut args);
        Option::<Balance>::None.encode_to(&mut args);
        0u8.encode_to(&mut args); // Code::Upload
        wasm.encode_to(&mut args);
        data.encode_to(&mut args);
        salt.encode_to(&mut args);
        let bytes = self
            .runtime_call("ContractsApi_instantiate", args, None)
            .await?;
        let mut input = &bytes[..];
        let head = ResultHead::decode(&mut input)
            .map_err(|e| ChainError::Rpc(format!("bad dry-run result: {e}")))?;
        if u8::decode(&mut input).map_err(rpc_err)? != 0 {
            return Err(self.dispatch_error(input));
        }
        let flags = u32::decode(&mut input).map_err(rpc_err)?;
        let ret = Vec::<u8>::decode(&mut input).map_err(rpc_err)?;
        if flags & 1 == 1 {
            return Err(ChainError::Reverted { data: ret });
        }

        let call = subxt::dynamic::tx(
            "Contracts",
            "instantiate_with_code",
            vec![
                Value::u128(0),
                weight(head.gas_required),
                Value::unnamed_variant("None", []),
                Value::from_bytes(wasm),
                Value::from_bytes(&data),
                Value::from_bytes(&salt),
            ],
        );
        let (events, _, _) = self.submit(signer, call).await?;
        for ev in events.iter() {
            let ev = ev.map_err(rpc_err)?;
            if ev.pallet_name() == "Contracts" && ev.variant_name() == "Instantiated" {
                // { deployer: AccountId32, contract: AccountId32 }
                let fields = ev.field_bytes();
                if fields.len() >= 64 {
                    let mut contract = [0u8; 32];
                    contract.copy_from_slice(&fields[32..64]);
                    return Ok(contract);
                }
            }
        }
        Err(ChainError::Rpc(
            "instantiation was included but emitted no Instantiated event".into(),
        ))
    }

    async fn call(
        &self,
        signer: &Signer,
        contract: &Account,
        data: Vec<u8>,
        value: Balance,
    ) -> Result<CallReceipt, ChainError> {
        let dry = self
            .dry_run_call(&signer.account(), contract, &data, value, None)
            .await?;
        if dry.reverted {
            return Err(ChainError::Reverted { data: dry.data });
        }
        let call = subxt::dynamic::tx(
            "Contracts",
            "call",
            vec![
                Value::unnamed_variant("Id", [Value::from_bytes(contract)]),
                Value::u128(value),
                weight(dry.gas_required),
                Value::unnamed_variant("None", []),
                Value::from_bytes(&data),
            ],
        );
        let in_block = self.finalized(signer, call).await?;
        let block_hash = in_block.block_hash();
        let events = match in_block.wait_for_success().await {
            Ok(events) => events,
            // The dry run passed, but a transaction before this one changed
            // the contract's state and the call reverted in its block. The
            // block keeps no revert data; the call changed nothing, so the
            // same dry run on the state after that block gives the
            // contract's own error, as a refused dry run would have.
            Err(e) if contract_reverted(&e) => {
                let again = self
                    .dry_run_call(&signer.account(), contract, &data, value, Some(block_hash))
                    .await?;
                return Err(if again.reverted {
                    ChainError::Reverted { data: again.data }
                } else {
                    failed(e)
                });
            }
            Err(e) => return Err(failed(e)),
        };
        let (block, fee) = self.included(block_hash, &events).await?;
        Ok(CallReceipt {
            data: dry.data,
            block,
            gas_required: dry.gas_required,
            storage_deposit: dry.storage_deposit,
            fee,
        })
    }

    async fn query(
        &self,
        origin: &Account,
        contract: &Account,
        data: Vec<u8>,
        value: Balance,
    ) -> Result<DryRun, ChainError> {
        self.dry_run_call(origin, contract, &data, value, None)
            .await
    }

    async fn events(
        &self,
        contract: &Account,
        cursor: Cursor,
    ) -> Result<(Vec<ContractEvent>, Cursor), ChainError> {
        let head_hash = self.rpc.chain_get_finalized_head().await.map_err(rpc_err)?;
        let head = self
            .rpc
            .chain_get_header(Some(head_hash))
            .await
            .map_err(rpc_err)?
            .map(|h| u64::from(h.number))
            .ok_or_else(|| ChainError::Rpc("finalized head has no header".into()))?;
        let mut out = Vec::new();
        let mut number = cursor.next_block;
        while number <= head {
            let hash = self
                .rpc
                .chain_get_block_hash(Some(number.into()))
                .await
                .map_err(rpc_err)?
                .ok_or_else(|| ChainError::Rpc(format!("no block {number} on the node")))?;
            let events = self.api.events().at(hash).await.map_err(|e| {
                let text = e.to_string();
                if text.contains("State already discarded") {
                    ChainError::Rpc(format!(
                        "the node no longer keeps the state of block {number}, so its events \
                         cannot be read: run an archive node (--state-pruning archive, as \
                         scripts/node.sh start does)"
                    ))
                } else {
                    rpc_err(text)
                }
            })?;
            for ev in events.iter() {
                let ev = ev.map_err(rpc_err)?;
                if ev.pallet_name() != "Contracts" || ev.variant_name() != "ContractEmitted" {
                    continue;
                }
                // { contract: AccountId32, data: Vec<u8> }
                let mut fields = ev.field_bytes();
                let emitter = Account::decode(&mut fields).map_err(rpc_err)?;
                if &emitter != contract {
                    continue;
                }
                let data = Vec::<u8>::decode(&mut fields).map_err(rpc_err)?;
                out.push(ContractEvent {
                    block: number,
                    contract: emitter,
                    topics: ev.topics().iter().map(|t| t.0).collect(),
                    data,
                });
            }
            number = number.saturating_add(1);
        }
        Ok((out, Cursor { next_block: number }))
    }

    async fn balance(&self, account: &Account) -> Result<Balance, ChainError> {
        let query = subxt::dynamic::storage("System", "Account", vec![Value::from_bytes(account)]);
        let storage = self.api.storage().at_latest().await.map_err(rpc_err)?;
        let Some(info) = storage.fetch(&query).await.map_err(rpc_err)? else {
            return Ok(0);
        };
        // AccountInfo { nonce: u32, consumers: u32, providers: u32, sufficients: u32,
        //               data: AccountData { free: u128, .. } }
        let bytes = info.encoded();
        let mut input = bytes.get(16..).unwrap_or_default();
        u128::decode(&mut input).map_err(rpc_err)
    }

    async fn code_hash(&self, contract: &Account) -> Result<Option<Hash>, ChainError> {
        let query = subxt::dynamic::storage(
            "Contracts",
            "ContractInfoOf",
            vec![Value::from_bytes(contract)],
        );
        let storage = self.api.storage().at_latest().await.map_err(rpc_err)?;
        let Some(info) = storage.fetch(&query).await.map_err(rpc_err)? else {
            return Ok(None);
        };
        // ContractInfo { trie_id: BoundedVec<u8> (compact length, bytes),
        //                code_hash: H256, .. }
        let mut input = info.encoded();
        let _trie_id = Vec::<u8>::decode(&mut input).map_err(rpc_err)?;
        let code_hash = Hash::decode(&mut input).map_err(rpc_err)?;
        Ok(Some(code_hash))
    }

    async fn catch_up(&self, signer: &Signer) -> Result<u64, ChainError> {
        let now = self.now().await?;
        if crate::wall_clock_ms().saturating_sub(now) <= CLOCK_LAG_MS {
            return Ok(now);
        }
        let remark = subxt::dynamic::tx("System", "remark", vec![Value::from_bytes([])]);
        self.submit(signer, remark).await?;
        self.now().await
    }

    async fn now(&self) -> Result<u64, ChainError> {
        let query = subxt::dynamic::storage("Timestamp", "Now", Vec::<Value>::new());
        let storage = self.api.storage().at_latest().await.map_err(rpc_err)?;
        let Some(now) = storage.fetch(&query).await.map_err(rpc_err)? else {
            return Ok(0);
        };
        u64::decode(&mut now.encoded()).map_err(rpc_err)
    }
}
