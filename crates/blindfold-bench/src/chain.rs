//! `blindfold-bench chain`: gas and storage deposit per marketplace message,
//! from the dry run that precedes every call, and transaction latency.
//!
//! It deploys `artifacts/marketplace.wasm` and drives one of each job's paths
//! through the real contract: a dataset with submissions (batches of 1, 16
//! and 128 hashes), staking, a replicated job from `request` to `finalize`,
//! a cancelled job, a challenged job, a job settled by `advance` after its
//! challenge window, withdrawals and the admin messages; then the queries.
//! Each message is recorded as it happened: gas required (ref_time,
//! proof_size) and storage deposit from the dry run, the latency of a
//! separate dry run (`query`), and the latency of the whole call (dry run,
//! signing, submission, inclusion: what a client waits for).
//!
//! The calls go through the typed [`Market`] client, like every other role's;
//! a recording [`Chain`] underneath it ([`Recorder`]) measures each one.
//!
//! On the embedded chain (the default) the latency is in-process
//! pallet-contracts execution; on a node (`--chain ws://…`) it includes RPC,
//! block production and inclusion. The report names which one was measured.

use std::time::Instant;

use std::sync::Mutex;

use anyhow::{anyhow, bail, Context, Result};
use blindfold_chain::embedded::EmbeddedChain;
use blindfold_chain::node::NodeChain;
use blindfold_chain::{
    Account, CallReceipt, Chain, ChainError, ContractEvent, Cursor, DryRun, Signer,
};
use blindfold_market::{commitment, Market};
use blindfold_protocol::hash::seal;
use blindfold_protocol::selectors;
use blindfold_protocol::types::{
    required_escrow, JobStatus, Params, PipelineId, PipelineSet, Policy, MAX_BATCH,
};
use serde::{Deserialize, Serialize};

use crate::fhe::say;
use crate::meta::Meta;

/// One native token (10^12 of the chain's smallest unit).
pub use blindfold_market::UNIT;
/// Compute window (ms) of the job that waits out its challenge window.
const SHORT_COMPUTE_MS: u64 = 35_000;
/// The replicated job's compute window: also its challenge window, which
/// the bench waits out (on a node, in real time).
const REPLICATED_COMPUTE_MS: u64 = 40_000;
/// The bench market's offer and reveal windows (ms): on the embedded chain,
/// whose clock stands still between calls, the shortest allowed; on a node,
/// where each call takes about a block, long enough for the offers of four
/// shards to land in one offer window and two reveals in one reveal window.
const EMBEDDED_WINDOWS: (u64, u64) = (1_000, 30_000);
const NODE_WINDOWS: (u64, u64) = (15_000, 10_000);
/// The sharded job's compute window (also its shards' challenge window): on
/// a node its shards' 4 × 9 calls take about a block each.
const SHARDED_COMPUTE_MS: u64 = 80_000;
/// Shards of the sharded job that goes from request to finalize.
const SHARDS: u32 = 4;
/// Shards of the sharded request that is cancelled: near `MAX_SHARDS`, as
/// many as the bench dataset's submissions allow.
const MANY_SHARDS: u32 = 64;

/// One recorded message.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Message {
    /// The message name (`request`, `add_submissions`, ...).
    pub name: String,
    /// Which case of it (`128 hashes`, `2nd replica`, ...).
    pub case: String,
    /// `tx` (a signed, state-changing call) or `query` (a dry run only).
    pub kind: String,
    /// The selector, `0xB1D0....`.
    pub selector: String,
    /// Gas required by the dry run: ref_time (picoseconds of weight).
    pub ref_time: u64,
    /// Gas required by the dry run: proof_size (bytes).
    pub proof_size: u64,
    /// Storage deposit the dry run charged (positive) or refunded (negative),
    /// in the chain's smallest unit.
    pub storage_deposit: i128,
    /// Latency of one dry run (`Chain::query`), milliseconds.
    pub dry_run_ms: f64,
    /// Latency of the whole call (`Chain::call`: dry run, submission,
    /// inclusion), milliseconds; `None` for queries.
    pub tx_ms: Option<f64>,
    /// Transaction fee paid (0 on the embedded chain).
    pub fee: u128,
}

/// Latency statistics of repeated identical calls.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Latency {
    /// What was repeated.
    pub what: String,
    /// Samples.
    pub samples: usize,
    /// Median, milliseconds.
    pub p50_ms: f64,
    /// 90th percentile, milliseconds.
    pub p90_ms: f64,
    /// Largest, milliseconds.
    pub max_ms: f64,
    /// Mean, milliseconds.
    pub mean_ms: f64,
}

impl Latency {
    fn of(what: &str, mut ms: Vec<f64>) -> Self {
        ms.sort_by(f64::total_cmp);
        let n = ms.len().max(1);
        let at = |q: f64| ms.get(((n - 1) as f64 * q).round() as usize).copied();
        Latency {
            what: what.into(),
            samples: ms.len(),
            p50_ms: at(0.5).unwrap_or(0.0),
            p90_ms: at(0.9).unwrap_or(0.0),
            max_ms: ms.last().copied().unwrap_or(0.0),
            mean_ms: ms.iter().sum::<f64>() / n as f64,
        }
    }
}

/// Everything `blindfold-bench chain` writes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ChainRaw {
    /// Provenance.
    pub meta: Meta,
    /// `embedded` or `node`.
    pub kind: String,
    /// The chain's own description (`embedded (in memory)`, the node URL).
    pub chain: String,
    /// Set when nothing was measured, with the reason.
    pub skipped: Option<String>,
    /// The contract code size, bytes.
    pub wasm_bytes: usize,
    /// Deploy (upload + instantiate) latency, milliseconds.
    pub deploy_ms: f64,
    /// Every message, in the order sent.
    pub messages: Vec<Message>,
    /// Repeated transactions and queries.
    pub latency: Vec<Latency>,
    /// Sum of the call latencies of one replicated job's chain traffic
    /// (request, 2 claims, 2 commits, 2 reveals, release, finalize), ms.
    pub job_lifecycle_ms: f64,
    /// What a shard of a sharded job costs on chain (absent from reports
    /// written before shards).
    #[serde(default)]
    pub sharded: Option<ShardCost>,
}

/// The chain traffic of a sharded job, per shard and for the job itself.
///
/// A shard's own traffic is the whole verification game at replication 2:
/// two offers, the `advance` that draws both, two commits, two reveals, the
/// `advance` after its challenge window, and its `finalize`. The job's own
/// traffic is its `request` (which opens every shard), one `release` and
/// its `finalize`; it is shared by all the shards.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ShardCost {
    /// Shards of the measured job.
    pub shards: u32,
    /// Submissions per shard.
    pub shard_size: u64,
    /// Replication of each shard.
    pub replication: u8,
    /// Transactions of one shard's own traffic.
    pub txs_per_shard: usize,
    /// Their summed call latency, ms (the mean over the job's shards).
    pub ms_per_shard: f64,
    /// Their summed gas (ref_time; the mean over the job's shards).
    pub ref_time_per_shard: u64,
    /// The job's own transactions: request, release, finalize.
    pub job_txs: usize,
    /// Their summed call latency, ms.
    pub job_ms: f64,
}

impl ChainRaw {
    /// A record saying why the chain was not measured.
    pub fn skipped(quick: bool, kind: &str, chain: &str, reason: String) -> Self {
        let (mut meta, started) = Meta::start(if quick { "quick" } else { "full" });
        meta.finish(started);
        ChainRaw {
            meta,
            kind: kind.into(),
            chain: chain.into(),
            skipped: Some(reason),
            wasm_bytes: 0,
            deploy_ms: 0.0,
            messages: Vec::new(),
            latency: Vec::new(),
            job_lifecycle_ms: 0.0,
            sharded: None,
        }
    }
}

/// Runs the chain suite against `spec` (`embedded` or a `ws://` URL).
pub async fn run(quick: bool, spec: &str, wasm: &std::path::Path) -> Result<ChainRaw> {
    let kind = if spec == "embedded" {
        "embedded"
    } else {
        "node"
    };
    let code = match std::fs::read(wasm) {
        Ok(code) => code,
        Err(e) => {
            let reason = format!(
                "{}: {e}; build it with scripts/build-contract.sh",
                wasm.display()
            );
            say(&format!("chain: not measured: {reason}"));
            return Ok(ChainRaw::skipped(quick, kind, spec, reason));
        }
    };
    let (mut meta, started) = Meta::start(if quick { "quick" } else { "full" });
    let repeats = if quick { 10 } else { 50 };
    let mut raw = if spec == "embedded" {
        let chain = EmbeddedChain::new();
        let mut flow = Flow::new(&chain, Some(&chain), meta.clone(), kind, code.len());
        flow.run(&code, repeats).await?;
        flow.raw
    } else if spec.starts_with("ws://") || spec.starts_with("wss://") {
        let chain = NodeChain::connect(spec)
            .await
            .with_context(|| format!("connecting to {spec}"))?;
        let mut flow = Flow::new(&chain, None, meta.clone(), kind, code.len());
        flow.run(&code, repeats).await?;
        flow.raw
    } else {
        bail!("--chain must be 'embedded' or a ws:// node URL, got '{spec}'");
    };
    meta.finish(started);
    raw.meta = meta;
    say(&format!(
        "chain: {} messages on {} in {:.1} s",
        raw.messages.len(),
        raw.chain,
        raw.meta.elapsed_s
    ));
    Ok(raw)
}

fn hash_of(tag: &str, i: u64) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(tag.as_bytes());
    h.update(i.to_be_bytes());
    h.finalize().into()
}

fn selector_name(selector: &[u8]) -> String {
    selectors::MESSAGES
        .iter()
        .find(|(_, s)| selector.starts_with(s))
        .map_or_else(|| "?".into(), |(n, _)| (*n).to_owned())
}

/// What one chain call cost, as [`Recorder`] saw it.
#[derive(Clone, Debug)]
struct Record {
    selector: [u8; 4],
    tx: bool,
    gas: (u64, u64),
    storage_deposit: i128,
    dry_run_ms: f64,
    tx_ms: Option<f64>,
    fee: u128,
}

/// The chain under the bench's typed [`Market`] client, recording what each
/// call cost: for a transaction, a separate dry run (its latency, gas and
/// storage deposit) and then the call itself (dry run, signing, submission,
/// inclusion); for a query, its dry run.
struct Recorder<'a, C> {
    inner: &'a C,
    records: Mutex<Vec<Record>>,
}

impl<C> Recorder<'_, C> {
    fn push(&self, record: Record) {
        self.records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(record);
    }

    /// Every record since the last call, oldest first.
    fn take(&self) -> Vec<Record> {
        std::mem::take(&mut *self.records.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

fn selector_of(data: &[u8]) -> [u8; 4] {
    let mut s = [0; 4];
    s.copy_from_slice(data.get(..4).unwrap_or(&[0; 4]));
    s
}

impl<C: Chain> Chain for Recorder<'_, C> {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    async fn deploy(
        &self,
        signer: &Signer,
        wasm: &[u8],
        data: Vec<u8>,
        salt: Vec<u8>,
    ) -> Result<Account, ChainError> {
        self.inner.deploy(signer, wasm, data, salt).await
    }

    async fn call(
        &self,
        signer: &Signer,
        contract: &Account,
        data: Vec<u8>,
        value: u128,
    ) -> Result<CallReceipt, ChainError> {
        let selector = selector_of(&data);
        let t = Instant::now();
        let dry = self
            .inner
            .query(&signer.account(), contract, data.clone(), value)
            .await?;
        let dry_run_ms = t.elapsed().as_secs_f64() * 1e3;
        let t = Instant::now();
        let receipt = self.inner.call(signer, contract, data, value).await?;
        let tx_ms = t.elapsed().as_secs_f64() * 1e3;
        if dry.gas_required != receipt.gas_required {
            say(&format!(
                "chain: note: {} gas differs between two dry runs: {:?} vs {:?}",
                selector_name(&selector),
                dry.gas_required,
                receipt.gas_required
            ));
        }
        self.push(Record {
            selector,
            tx: true,
            gas: receipt.gas_required,
            storage_deposit: receipt.storage_deposit,
            dry_run_ms,
            tx_ms: Some(tx_ms),
            fee: receipt.fee,
        });
        Ok(receipt)
    }

    async fn query(
        &self,
        origin: &Account,
        contract: &Account,
        data: Vec<u8>,
        value: u128,
    ) -> Result<DryRun, ChainError> {
        let selector = selector_of(&data);
        let t = Instant::now();
        let dry = self.inner.query(origin, contract, data, value).await?;
        self.push(Record {
            selector,
            tx: false,
            gas: dry.gas_required,
            storage_deposit: dry.storage_deposit,
            dry_run_ms: t.elapsed().as_secs_f64() * 1e3,
            tx_ms: None,
            fee: 0,
        });
        Ok(dry)
    }

    async fn events(
        &self,
        contract: &Account,
        cursor: Cursor,
    ) -> Result<(Vec<ContractEvent>, Cursor), ChainError> {
        self.inner.events(contract, cursor).await
    }

    async fn balance(&self, account: &Account) -> Result<u128, ChainError> {
        self.inner.balance(account).await
    }

    async fn code_hash(&self, contract: &Account) -> Result<Option<[u8; 32]>, ChainError> {
        self.inner.code_hash(contract).await
    }

    async fn now(&self) -> Result<u64, ChainError> {
        self.inner.now().await
    }

    async fn catch_up(&self, signer: &Signer) -> Result<u64, ChainError> {
        self.inner.catch_up(signer).await
    }
}

struct Flow<'a, C: Chain> {
    chain: &'a C,
    /// The same chain when it is the embedded one (its clock can be moved).
    embedded: Option<&'a EmbeddedChain>,
    /// The typed client, once deployed, over the recording chain.
    market: Option<Market<Recorder<'a, C>>>,
    /// Every measured message, in the order sent.
    messages: Mutex<Vec<Message>>,
    raw: ChainRaw,
}

impl<'a, C: Chain> Flow<'a, C> {
    fn new(
        chain: &'a C,
        embedded: Option<&'a EmbeddedChain>,
        meta: Meta,
        kind: &str,
        wasm_bytes: usize,
    ) -> Self {
        Flow {
            chain,
            embedded,
            market: None,
            messages: Mutex::new(Vec::new()),
            raw: ChainRaw {
                meta,
                kind: kind.into(),
                chain: chain.describe(),
                skipped: None,
                wasm_bytes,
                deploy_ms: 0.0,
                messages: Vec::new(),
                latency: Vec::new(),
                job_lifecycle_ms: 0.0,
                sharded: None,
            },
        }
    }

    fn market(&self) -> Result<&Market<Recorder<'a, C>>> {
        self.market
            .as_ref()
            .ok_or_else(|| anyhow!("the marketplace is not deployed yet"))
    }

    /// Awaits one typed market call and records the chain call it made (the
    /// last one: a typed call may read something first) as `case`.
    async fn measured<T>(
        &self,
        case: &str,
        call: impl std::future::Future<Output = blindfold_market::Result<T>>,
    ) -> Result<T> {
        let market = self.market()?;
        market.chain().take();
        let value = call.await.with_context(|| format!("({case})"))?;
        let Some(r) = market.chain().take().pop() else {
            bail!("({case}) made no chain call");
        };
        self.messages
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Message {
                name: selector_name(&r.selector),
                case: case.into(),
                kind: if r.tx { "tx" } else { "query" }.into(),
                selector: format!("0x{}", hex_upper(&r.selector)),
                ref_time: r.gas.0,
                proof_size: r.gas.1,
                storage_deposit: r.storage_deposit,
                dry_run_ms: r.dry_run_ms,
                tx_ms: r.tx_ms,
                fee: r.fee,
            });
        Ok(value)
    }

    /// Messages recorded so far.
    fn recorded(&self) -> usize {
        self.messages
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    /// Lets `ms` of chain time pass: the embedded chain's clock moves; on a
    /// node the bench sleeps, then seals a block (`Chain::catch_up`) so that
    /// dry runs see the new timestamp.
    async fn pass_time(&self, ms: u64, poke: &Signer) -> Result<()> {
        if let Some(chain) = self.embedded {
            chain.advance_time(ms)?;
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(ms + 1_000)).await;
        self.chain.catch_up(poke).await?;
        Ok(())
    }

    async fn run(&mut self, code: &[u8], repeats: usize) -> Result<()> {
        let alice = Signer::from_uri("//Alice")?; // contract owner and data owner
        let bob = Signer::from_uri("//Bob")?; // researcher
        let charlie = Signer::from_uri("//Charlie")?; // worker
        let dave = Signer::from_uri("//Dave")?; // worker
        let eve = Signer::from_uri("//Eve")?; // worker, challenger
        let ferdie = Signer::from_uri("//Ferdie")?; // latency loop
        let params = Params {
            worker_fee: UNIT,
            claim_stake: 10 * UNIT,
            min_compute_window: 1_000,
            max_compute_window: 86_400_000,
            offer_window: self.offer_ms(),
            reveal_window: self.windows().1,
            challenge_window: 1_000,
            tiebreak_window: 600_000,
            release_window: 600_000,
            upgrade_delay: 1_000,
        };
        let salt = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
            .to_le_bytes()
            .to_vec();
        let recorder = Recorder {
            inner: self.chain,
            records: Mutex::new(Vec::new()),
        };
        let t = Instant::now();
        let market = Market::deploy(recorder, &alice, code, params, &salt)
            .await
            .context("deploying the marketplace")?;
        self.raw.deploy_ms = t.elapsed().as_secs_f64() * 1e3;
        self.market = Some(market);
        say(&format!(
            "chain: deployed on {} in {:.0} ms",
            self.raw.chain, self.raw.deploy_ms
        ));
        let (lifecycle_ms, sharded) = self
            .messages_of_a_market(&alice, &bob, &charlie, &dave, &eve, &ferdie, params, code)
            .await?;
        self.raw.job_lifecycle_ms = lifecycle_ms;
        self.raw.sharded = Some(sharded);
        let latency = self.latency(&ferdie, repeats).await?;
        self.raw.latency.extend(latency);
        self.raw.messages =
            std::mem::take(&mut *self.messages.lock().unwrap_or_else(|p| p.into_inner()));
        Ok(())
    }

    /// One of each message, in the paths a job takes. Returns the summed
    /// call latency of the replicated job's traffic (ms) and what the
    /// sharded job cost ([`Flow::sharded_job`]).
    #[allow(clippy::too_many_arguments)]
    async fn messages_of_a_market(
        &self,
        alice: &Signer,
        bob: &Signer,
        charlie: &Signer,
        dave: &Signer,
        eve: &Signer,
        ferdie: &Signer,
        params: Params,
        code: &[u8],
    ) -> Result<(f64, ShardCost)> {
        let m = self.market()?;
        // Datasets and submissions.
        let price = 5 * UNIT;
        let policy = |replication| Policy {
            allowed_pipelines: PipelineSet::ALL,
            min_cohort: 1,
            replication,
            dp_epsilon_budget: None,
        };
        let register = |i: u64, replication: u8| {
            m.register_dataset(
                alice,
                hash_of("metadata", i),
                hash_of("server-key", i),
                price,
                policy(replication),
            )
        };
        let ds2 = self.measured("replication 2", register(0, 2)).await?;
        let ds1 = self.measured("replication 1", register(1, 1)).await?;
        let mut next = 0u64;
        for n in [1u64, 16, u64::from(MAX_BATCH)] {
            let hashes: Vec<[u8; 32]> = (next..next + n).map(|i| hash_of("video", i)).collect();
            next += n;
            let case = if n == 1 {
                "1 hash".to_owned()
            } else {
                format!("{n} hashes")
            };
            self.measured(&case, m.add_submissions(alice, ds2, hashes))
                .await?;
        }
        let one = vec![hash_of("video", 1_000)];
        self.measured("1 hash", m.add_submissions(alice, ds1, one))
            .await?;
        self.measured("withdrawn consent", m.revoke_submission(alice, ds2, 0))
            .await?;
        self.measured(
            "same price and policy",
            m.update_dataset(alice, ds2, price, policy(2)),
        )
        .await?;

        // Workers.
        for w in [charlie, dave, eve] {
            self.measured("first stake", m.stake(w, 100 * UNIT)).await?;
        }
        self.measured("first stake", m.stake(ferdie, 20 * UNIT))
            .await?;
        self.measured("top-up", m.stake(charlie, 10 * UNIT)).await?;

        // A replicated job, request to finalize.
        let escrow2 = required_escrow(price, params.worker_fee, 2, 1).context("escrow")?;
        let escrow1 = required_escrow(price, params.worker_fee, 1, 1).context("escrow")?;
        let lifecycle_start = self.recorded();
        let job = self
            .request(bob, ds2, escrow2, REPLICATED_COMPUTE_MS, "replication 2")
            .await
            .context("request")?;
        self.offer(charlie, job, "1st replica").await?;
        self.offer(dave, job, "2nd replica").await?;
        self.pass_time(self.offer_ms(), ferdie).await?;
        self.measured("offer window over (both drawn)", m.advance(ferdie, job))
            .await?;
        let result = hash_of("result", job);
        self.commit(charlie, job, result, "1st replica").await?;
        self.commit(dave, job, result, "2nd replica (closes commits)")
            .await?;
        self.measured("1st replica", m.reveal(charlie, job, result))
            .await?;
        self.measured(
            "2nd replica (tally: agreed, opens challenge)",
            m.reveal(dave, job, result),
        )
        .await?;
        self.pass_time(REPLICATED_COMPUTE_MS, ferdie).await?;
        self.measured("challenge window over (agreed)", m.advance(ferdie, job))
            .await?;
        let released = hash_of("released", job);
        self.measured("agreed result", m.release(alice, job, released))
            .await?;
        self.measured("pays owner and 2 workers", m.finalize(bob, job))
            .await?;
        let lifecycle_ms: f64 = self.messages.lock().unwrap_or_else(|p| p.into_inner())
            [lifecycle_start..]
            .iter()
            .filter_map(|m| m.tx_ms)
            .sum();
        let status = m.job(job).await?.status;
        if status != JobStatus::Finalized {
            bail!("job {job} ended {status:?}, expected Finalized");
        }

        // The same job in shards, then a request for as many shards as a
        // bench dataset allows, cancelled: how request and cancel grow.
        let sharded = self
            .sharded_job(alice, bob, charlie, dave, ferdie, ds2, price, params)
            .await
            .context("sharded job")?;

        // A cancelled job.
        let job = self
            .request(bob, ds2, escrow2, 3_600_000, "to be cancelled")
            .await?;
        self.measured("unclaimed job", m.cancel(bob, job)).await?;

        // Replication 1: a challenged job.
        let job = self
            .request(bob, ds1, escrow1, 3_600_000, "replication 1")
            .await?;
        // Two offers for one slot: a draw.
        self.offer(charlie, job, "one of two for one slot").await?;
        self.offer(dave, job, "two of two for one slot").await?;
        self.pass_time(self.offer_ms(), ferdie).await?;
        self.measured("offer window over (opens the draw)", m.advance(ferdie, job))
            .await?;
        self.measured(
            "first secret",
            m.reveal_seed(charlie, job, secret_of(charlie, job, 0)),
        )
        .await?;
        self.measured(
            "last secret (draws the slot)",
            m.reveal_seed(dave, job, secret_of(dave, job, 0)),
        )
        .await?;
        let drawn = m.job(job).await?.claims.first().map(|c| c.worker);
        let replica = if drawn == Some(charlie.account()) {
            charlie
        } else {
            dave
        };
        let result = hash_of("result", job);
        self.commit(replica, job, result, "single replica").await?;
        self.measured(
            "single replica (opens challenge)",
            m.reveal(replica, job, result),
        )
        .await?;
        let other = hash_of("other result", job);
        let info = m.job(job).await?;
        let sealed = seal(&commitment(job, &info, &other), &eve.account());
        self.measured("sealed conflicting result", m.challenge(eve, job, sealed))
            .await?;
        self.measured("owner's bond", m.stake(alice, 10 * UNIT))
            .await?;
        let correct = hash_of("correct result", job);
        self.measured(
            "owner's correct result (opens tie-break)",
            m.reject(alice, job, correct),
        )
        .await?;

        // Replication 1: a job agreed by `advance` after a short challenge
        // window (a job's challenge window is at least its compute window).
        let short = Params {
            challenge_window: 1_000,
            reveal_window: self.windows().1.min(5_000),
            ..params
        };
        self.measured("1 s challenge window", m.set_params(alice, short))
            .await?;
        let job = self
            .request(bob, ds1, escrow1, SHORT_COMPUTE_MS, "replication 1")
            .await?;
        self.offer(dave, job, "single replica").await?;
        self.pass_time(self.offer_ms(), ferdie).await?;
        self.measured("offer window over (drawn alone)", m.advance(ferdie, job))
            .await?;
        let result = hash_of("result", job);
        self.commit(dave, job, result, "single replica").await?;
        self.measured(
            "single replica (opens challenge)",
            m.reveal(dave, job, result),
        )
        .await?;
        self.pass_time(SHORT_COMPUTE_MS, ferdie).await?;
        self.measured("challenge window over (agreed)", m.advance(ferdie, job))
            .await?;
        self.measured("restore", m.set_params(alice, params))
            .await?;

        // Money out and admin.
        self.measured("data owner's price", m.withdraw(alice))
            .await?;
        self.measured("worker fee", m.withdraw(charlie)).await?;
        self.measured(
            "part of a stake, no open claim",
            m.withdraw_stake(ferdie, 10 * UNIT),
        )
        .await?;
        self.measured("pause", m.set_paused(alice, true)).await?;
        self.measured("unpause", m.set_paused(alice, false)).await?;
        self.measured(
            "proposed to itself",
            m.transfer_ownership(alice, &alice.account()),
        )
        .await?;
        self.measured("by itself", m.accept_ownership(alice))
            .await?;
        // The upgrade path, to the same code: announce, cancel, announce,
        // wait out the delay, enact.
        let code_hash = blindfold_chain::code_hash(code);
        self.measured("same code", m.announce_upgrade(alice, code_hash))
            .await?;
        self.measured("withdrawn", m.cancel_upgrade(alice)).await?;
        self.measured("same code, again", m.announce_upgrade(alice, code_hash))
            .await?;
        self.pass_time(params.upgrade_delay, ferdie).await?;
        self.measured("after the delay", m.enact_upgrade(alice))
            .await?;
        self.measured("dataset", m.deactivate_dataset(alice, ds1))
            .await?;

        // Queries.
        self.measured("dataset", m.dataset(ds2)).await?;
        self.measured("finalized job", m.job(0)).await?;
        self.measured("worker", m.worker(&charlie.account()))
            .await?;
        self.measured("earnings", m.earnings(&dave.account()))
            .await?;
        self.measured("global state", m.state()).await?;
        self.measured("revoked item", m.is_revoked(ds2, 0)).await?;
        Ok((lifecycle_ms, sharded))
    }

    /// The market's offer and reveal windows on this chain (ms).
    fn windows(&self) -> (u64, u64) {
        match self.embedded {
            Some(_) => EMBEDDED_WINDOWS,
            None => NODE_WINDOWS,
        }
    }

    fn offer_ms(&self) -> u64 {
        self.windows().0
    }

    /// A job on `ds` (replication 2) in [`SHARDS`] shards, each through the
    /// whole game at once (so the windows are waited out once), released
    /// and finalized; then a request at [`MANY_SHARDS`] shards, cancelled.
    #[allow(clippy::too_many_arguments)]
    async fn sharded_job(
        &self,
        alice: &Signer,
        bob: &Signer,
        charlie: &Signer,
        dave: &Signer,
        ferdie: &Signer,
        ds: u32,
        price: u128,
        params: Params,
    ) -> Result<ShardCost> {
        let m = self.market()?;
        let submissions = m.dataset(ds).await?.submission_count;
        let shard_size = submissions.div_ceil(u64::from(SHARDS));
        let escrow = required_escrow(price, params.worker_fee, 2, SHARDS).context("escrow")?;
        let first = self.recorded();
        let job = self
            .request_sharded(
                bob,
                ds,
                escrow,
                SHARDED_COMPUTE_MS,
                shard_size,
                &format!("{SHARDS} shards of {shard_size}"),
            )
            .await?;
        let mut job_calls = vec![first];
        let shards: Vec<u64> = (job + 1..=job + u64::from(SHARDS)).collect();
        let mut of_shard: Vec<Vec<usize>> = vec![Vec::new(); shards.len()];
        let mut mark = |k: usize, at: usize| of_shard[k].push(at);
        for (k, &shard) in shards.iter().enumerate() {
            mark(k, self.recorded());
            self.offer(charlie, shard, "shard, 1st replica").await?;
            mark(k, self.recorded());
            self.offer(dave, shard, "shard, 2nd replica").await?;
        }
        self.pass_time(self.offer_ms(), ferdie).await?;
        for (k, &shard) in shards.iter().enumerate() {
            mark(k, self.recorded());
            self.measured(
                "shard: offer window over (both drawn)",
                m.advance(ferdie, shard),
            )
            .await?;
        }
        for (k, &shard) in shards.iter().enumerate() {
            let result = hash_of("shard result", shard);
            mark(k, self.recorded());
            self.commit(charlie, shard, result, "shard, 1st replica")
                .await?;
            mark(k, self.recorded());
            self.commit(dave, shard, result, "shard, 2nd replica (closes commits)")
                .await?;
            mark(k, self.recorded());
            self.measured("shard, 1st replica", m.reveal(charlie, shard, result))
                .await?;
            mark(k, self.recorded());
            self.measured(
                "shard, 2nd replica (tally: agreed, opens challenge)",
                m.reveal(dave, shard, result),
            )
            .await?;
        }
        self.pass_time(SHARDED_COMPUTE_MS, ferdie).await?;
        for (k, &shard) in shards.iter().enumerate() {
            mark(k, self.recorded());
            let case = if k + 1 == shards.len() {
                "shard: challenge window over (the last: job computed)"
            } else {
                "shard: challenge window over (agreed)"
            };
            self.measured(case, m.advance(ferdie, shard)).await?;
        }
        let status = m.job(job).await?.status;
        if status != JobStatus::Computed {
            bail!("sharded job {job} is {status:?} after every shard agreed, expected Computed");
        }
        job_calls.push(self.recorded());
        self.measured(
            &format!("sharded job ({SHARDS} shards)"),
            m.release(alice, job, hash_of("released", job)),
        )
        .await?;
        job_calls.push(self.recorded());
        self.measured(
            &format!("sharded job: pays the owner, {SHARDS} shards unpaid"),
            m.finalize(bob, job),
        )
        .await?;
        for (k, &shard) in shards.iter().enumerate() {
            mark(k, self.recorded());
            self.measured("shard: pays 2 workers", m.finalize(bob, shard))
                .await?;
        }
        let cost = {
            let messages = self.messages.lock().unwrap_or_else(|p| p.into_inner());
            let sum = |calls: &[usize]| {
                calls.iter().fold((0.0, 0u64), |(ms, gas), &i| {
                    let msg = &messages[i];
                    (ms + msg.tx_ms.unwrap_or(0.0), gas + msg.ref_time)
                })
            };
            let per_shard: Vec<(f64, u64)> = of_shard.iter().map(|c| sum(c)).collect();
            let n = per_shard.len().max(1);
            let (job_ms, _) = sum(&job_calls);
            ShardCost {
                shards: SHARDS,
                shard_size,
                replication: 2,
                txs_per_shard: of_shard.first().map_or(0, Vec::len),
                ms_per_shard: per_shard.iter().map(|p| p.0).sum::<f64>() / n as f64,
                ref_time_per_shard: per_shard.iter().map(|p| p.1).sum::<u64>() / n as u64,
                job_txs: job_calls.len(),
                job_ms,
            }
        };
        for (k, &shard) in shards.iter().enumerate() {
            let status = m.job(shard).await?.status;
            if status != JobStatus::Finalized {
                bail!("shard {k} (job {shard}) ended {status:?}, expected Finalized");
            }
        }

        // How request and cancel grow with the shard count.
        let many = submissions.div_ceil(u64::from(MANY_SHARDS));
        let shards = u32::try_from(submissions.div_ceil(many)).context("shard count")?;
        let escrow = required_escrow(price, params.worker_fee, 2, shards).context("escrow")?;
        let job = self
            .request_sharded(
                bob,
                ds,
                escrow,
                3_600_000,
                many,
                &format!("{shards} shards of {many}"),
            )
            .await?;
        self.measured(
            &format!("unclaimed job of {shards} shards"),
            m.cancel(bob, job),
        )
        .await?;
        Ok(cost)
    }

    /// The same small transaction and query, repeated.
    async fn latency(&self, ferdie: &Signer, repeats: usize) -> Result<[Latency; 2]> {
        let m = self.market()?;
        let mut tx_ms = Vec::with_capacity(repeats);
        let mut q_ms = Vec::with_capacity(repeats);
        for _ in 0..repeats {
            let t = Instant::now();
            m.stake(ferdie, UNIT).await?;
            tx_ms.push(t.elapsed().as_secs_f64() * 1e3);
            let t = Instant::now();
            m.state().await?;
            q_ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
        m.chain().take();
        Ok([
            Latency::of("stake (1 unit), signed and included", tx_ms),
            Latency::of("state query (dry run)", q_ms),
        ])
    }

    /// Requests a job on `ds` whose commit deadline is `compute_ms` away,
    /// expecting the dataset as it stands.
    async fn request(
        &self,
        bob: &Signer,
        ds: u32,
        escrow: u128,
        compute_ms: u64,
        case: &str,
    ) -> Result<u64> {
        self.request_sharded(bob, ds, escrow, compute_ms, 0, case)
            .await
    }

    /// [`Flow::request`] in shards of `shard_size` submissions (0: whole).
    async fn request_sharded(
        &self,
        bob: &Signer,
        ds: u32,
        escrow: u128,
        compute_ms: u64,
        shard_size: u64,
        case: &str,
    ) -> Result<u64> {
        let m = self.market()?;
        // The embedded clock stands still; a node's next block takes the wall
        // clock, which may be ahead of its last block's timestamp.
        let mut now = self.chain.now().await?;
        if self.embedded.is_none() {
            let wall = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            now = now.max(wall);
        }
        let expected = m.expected(ds).await?;
        let spec = hash_of("job spec", u64::from(ds));
        let request = m.request(
            bob,
            ds,
            PipelineId::LvArea,
            spec,
            0,
            now + compute_ms,
            expected,
            shard_size,
            escrow,
        );
        self.measured(case, request).await
    }

    /// `worker` offers for the current round of `job`, with the seed hash
    /// of [`secret_of`].
    async fn offer(&self, worker: &Signer, job: u64, case: &str) -> Result<()> {
        let m = self.market()?;
        let round = m.job(job).await?.round;
        let seed_hash = blindfold_protocol::hash::offer_seed(
            job,
            round,
            &worker.account(),
            &secret_of(worker, job, round),
        );
        self.measured(case, m.offer(worker, job, seed_hash)).await
    }

    async fn commit(&self, worker: &Signer, job: u64, result: [u8; 32], case: &str) -> Result<()> {
        let m = self.market()?;
        let info = m.job(job).await?;
        let sealed = seal(&commitment(job, &info, &result), &worker.account());
        self.measured(case, m.commit(worker, job, sealed)).await
    }
}

/// The draw secret `worker` offers with on `round` of `job` (a bench
/// market's secrets need not be secret).
fn secret_of(worker: &Signer, job: u64, round: u8) -> [u8; 32] {
    let tag = format!("secret {:?} {round}", worker.account());
    hash_of(&tag, job)
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}
