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
//! On the embedded chain (the default) the latency is in-process
//! pallet-contracts execution; on a node (`--chain ws://…`) it includes RPC,
//! block production and inclusion. The report names which one was measured.

use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use blindfold_chain::embedded::EmbeddedChain;
use blindfold_chain::node::NodeChain;
use blindfold_chain::{AccountId, Chain, ChainError, Signer};
use blindfold_protocol::hash::{seal, Sha2};
use blindfold_protocol::types::{
    required_escrow, DatasetInfo, JobInfo, JobStatus, Params, PipelineId, PipelineSet, Policy,
    MAX_BATCH,
};
use blindfold_protocol::{selectors, Error as MarketError};
use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::fhe::say;
use crate::meta::Meta;

/// One native token (10^12 of the chain's smallest unit).
pub const UNIT: u128 = 1_000_000_000_000;
/// Compute window (ms) of the job that waits out its challenge window.
const SHORT_COMPUTE_MS: u64 = 5_000;

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

fn call_data(selector: [u8; 4], args: impl Encode) -> Vec<u8> {
    let mut data = selector.to_vec();
    args.encode_to(&mut data);
    data
}

/// Decodes ink's `MessageResult<Result<T, Error>>`.
fn decode_result<T: Decode>(bytes: &[u8]) -> Result<T> {
    let outer = <Result<Result<T, MarketError>, u8>>::decode(&mut &bytes[..])
        .map_err(|e| anyhow!("undecodable return data: {e}"))?;
    outer
        .map_err(|e| anyhow!("ink! LangError {e}"))?
        .map_err(|e| anyhow!("contract error {e:?}"))
}

fn hash_of(tag: &str, i: u64) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(tag.as_bytes());
    h.update(i.to_be_bytes());
    h.finalize().into()
}

fn selector_name(selector: [u8; 4]) -> String {
    selectors::MESSAGES
        .iter()
        .find(|(_, s)| *s == selector)
        .map_or_else(|| "?".into(), |(n, _)| (*n).to_owned())
}

struct Flow<'a, C: Chain> {
    chain: &'a C,
    /// The same chain when it is the embedded one (its clock can be moved).
    embedded: Option<&'a EmbeddedChain>,
    contract: AccountId,
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
            contract: [0; 32],
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
            },
        }
    }

    /// Dry-runs, then sends, one message; records it; returns its return data.
    async fn tx(
        &mut self,
        who: &Signer,
        selector: [u8; 4],
        args: impl Encode,
        value: u128,
        case: &str,
    ) -> Result<Vec<u8>> {
        let name = selector_name(selector);
        let data = call_data(selector, args);
        let t = Instant::now();
        let dry = self
            .chain
            .query(&who.account(), &self.contract, data.clone(), value)
            .await
            .with_context(|| format!("dry run of {name} ({case})"))?;
        let dry_run_ms = t.elapsed().as_secs_f64() * 1e3;
        let t = Instant::now();
        let receipt = match self.chain.call(who, &self.contract, data, value).await {
            Ok(r) => r,
            Err(ChainError::Reverted { data }) => {
                let err = decode_result::<()>(&data).err();
                bail!("{name} ({case}) reverted: {err:?}")
            }
            Err(e) => return Err(e).with_context(|| format!("{name} ({case})")),
        };
        let tx_ms = t.elapsed().as_secs_f64() * 1e3;
        if dry.gas_required != receipt.gas_required {
            say(&format!(
                "chain: note: {name} ({case}) gas differs between two dry runs: {:?} vs {:?}",
                dry.gas_required, receipt.gas_required
            ));
        }
        self.raw.messages.push(Message {
            name,
            case: case.into(),
            kind: "tx".into(),
            selector: format!("0x{}", hex_upper(&selector)),
            ref_time: receipt.gas_required.0,
            proof_size: receipt.gas_required.1,
            storage_deposit: receipt.storage_deposit,
            dry_run_ms,
            tx_ms: Some(tx_ms),
            fee: receipt.fee,
        });
        Ok(receipt.data)
    }

    /// Dry-runs a query message; records it; returns its return data.
    async fn query(
        &mut self,
        who: &Signer,
        selector: [u8; 4],
        args: impl Encode,
        case: &str,
    ) -> Result<Vec<u8>> {
        let name = selector_name(selector);
        let t = Instant::now();
        let dry = self
            .chain
            .query(&who.account(), &self.contract, call_data(selector, args), 0)
            .await
            .with_context(|| format!("query {name}"))?;
        let dry_run_ms = t.elapsed().as_secs_f64() * 1e3;
        if dry.reverted {
            bail!(
                "query {name} reverted: {:?}",
                decode_result::<()>(&dry.data).err()
            );
        }
        self.raw.messages.push(Message {
            name,
            case: case.into(),
            kind: "query".into(),
            selector: format!("0x{}", hex_upper(&selector)),
            ref_time: dry.gas_required.0,
            proof_size: dry.gas_required.1,
            storage_deposit: dry.storage_deposit,
            dry_run_ms,
            tx_ms: None,
            fee: 0,
        });
        Ok(dry.data)
    }

    async fn job(&mut self, who: &Signer, job_id: u64) -> Result<JobInfo> {
        let data = self
            .chain
            .query(
                &who.account(),
                &self.contract,
                call_data(selectors::JOB, job_id),
                0,
            )
            .await?;
        decode_result(&data.data)
    }

    /// Lets `ms` of chain time pass: the embedded chain's clock moves; on a
    /// node the bench sleeps, then seals a block (`Chain::catch_up`) so that
    /// dry runs see the new timestamp.
    async fn pass_time(&mut self, ms: u64, poke: &Signer) -> Result<()> {
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
            reveal_window: 600_000,
            challenge_window: 600_000,
            tiebreak_window: 600_000,
            release_window: 600_000,
            upgrade_delay: 1_000,
        };
        let salt = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
            .to_le_bytes()
            .to_vec();
        let t = Instant::now();
        self.contract = self
            .chain
            .deploy(&alice, code, call_data(selectors::NEW, params), salt)
            .await
            .context("deploying the marketplace")?;
        self.raw.deploy_ms = t.elapsed().as_secs_f64() * 1e3;
        say(&format!(
            "chain: deployed on {} in {:.0} ms",
            self.raw.chain, self.raw.deploy_ms
        ));

        // Datasets and submissions.
        let price = 5 * UNIT;
        let policy = |replication| Policy {
            allowed_pipelines: PipelineSet::ALL,
            min_cohort: 1,
            replication,
            dp_epsilon_budget: None,
        };
        let data = self
            .tx(
                &alice,
                selectors::REGISTER_DATASET,
                (
                    hash_of("metadata", 0),
                    hash_of("server-key", 0),
                    price,
                    policy(2),
                ),
                0,
                "replication 2",
            )
            .await?;
        let ds2: u32 = decode_result(&data)?;
        let data = self
            .tx(
                &alice,
                selectors::REGISTER_DATASET,
                (
                    hash_of("metadata", 1),
                    hash_of("server-key", 1),
                    price,
                    policy(1),
                ),
                0,
                "replication 1",
            )
            .await?;
        let ds1: u32 = decode_result(&data)?;
        let mut next = 0u64;
        for n in [1u64, 16, u64::from(MAX_BATCH)] {
            let hashes: Vec<[u8; 32]> = (next..next + n).map(|i| hash_of("video", i)).collect();
            next += n;
            let case = if n == 1 {
                "1 hash".to_owned()
            } else {
                format!("{n} hashes")
            };
            self.tx(&alice, selectors::ADD_SUBMISSIONS, (ds2, hashes), 0, &case)
                .await?;
        }
        self.tx(
            &alice,
            selectors::ADD_SUBMISSIONS,
            (ds1, vec![hash_of("video", 1_000)]),
            0,
            "1 hash",
        )
        .await?;
        self.tx(
            &alice,
            selectors::REVOKE_SUBMISSION,
            (ds2, 0u64),
            0,
            "withdrawn consent",
        )
        .await?;
        self.tx(
            &alice,
            selectors::UPDATE_DATASET,
            (ds2, price, policy(2)),
            0,
            "same price and policy",
        )
        .await?;

        // Workers.
        for (w, case) in [(&charlie, "first stake"), (&dave, "first stake")] {
            self.tx(w, selectors::STAKE, (), 100 * UNIT, case).await?;
        }
        self.tx(&eve, selectors::STAKE, (), 100 * UNIT, "first stake")
            .await?;
        self.tx(&ferdie, selectors::STAKE, (), 20 * UNIT, "first stake")
            .await?;
        self.tx(&charlie, selectors::STAKE, (), 10 * UNIT, "top-up")
            .await?;

        // A replicated job, request to finalize.
        let escrow2 = required_escrow(price, params.worker_fee, 2).context("escrow")?;
        let escrow1 = required_escrow(price, params.worker_fee, 1).context("escrow")?;
        let lifecycle_start = self.raw.messages.len();
        let job = self
            .request(&bob, ds2, escrow2, "replication 2")
            .await
            .context("request")?;
        self.tx(&charlie, selectors::CLAIM, job, 0, "1st replica")
            .await?;
        self.tx(&dave, selectors::CLAIM, job, 0, "2nd replica")
            .await?;
        let result = hash_of("result", job);
        self.commit(&charlie, job, result, "1st replica").await?;
        self.commit(&dave, job, result, "2nd replica (closes commits)")
            .await?;
        self.tx(&charlie, selectors::REVEAL, (job, result), 0, "1st replica")
            .await?;
        self.tx(
            &dave,
            selectors::REVEAL,
            (job, result),
            0,
            "2nd replica (tally: agreed)",
        )
        .await?;
        self.tx(
            &alice,
            selectors::RELEASE,
            (job, hash_of("released", job)),
            0,
            "agreed result",
        )
        .await?;
        self.tx(
            &bob,
            selectors::FINALIZE,
            job,
            0,
            "pays owner and 2 workers",
        )
        .await?;
        self.raw.job_lifecycle_ms = self.raw.messages[lifecycle_start..]
            .iter()
            .filter_map(|m| m.tx_ms)
            .sum();
        let status = self.job(&bob, job).await?.status;
        if status != JobStatus::Finalized {
            bail!("job {job} ended {status:?}, expected Finalized");
        }

        // A cancelled job.
        let job = self.request(&bob, ds2, escrow2, "to be cancelled").await?;
        self.tx(&bob, selectors::CANCEL, job, 0, "unclaimed job")
            .await?;

        // Replication 1: a challenged job.
        let job = self.request(&bob, ds1, escrow1, "replication 1").await?;
        self.tx(&charlie, selectors::CLAIM, job, 0, "single replica")
            .await?;
        let result = hash_of("result", job);
        self.commit(&charlie, job, result, "single replica").await?;
        self.tx(
            &charlie,
            selectors::REVEAL,
            (job, result),
            0,
            "single replica (opens challenge)",
        )
        .await?;
        self.tx(
            &eve,
            selectors::CHALLENGE,
            (job, hash_of("other result", job)),
            0,
            "conflicting result (opens tie-break)",
        )
        .await?;

        // Replication 1: a job agreed by `advance` after a short challenge
        // window (a job's challenge window is at least its compute window).
        let short = Params {
            challenge_window: 1_000,
            ..params
        };
        self.tx(
            &alice,
            selectors::SET_PARAMS,
            short,
            0,
            "1 s challenge window",
        )
        .await?;
        let job = self
            .request_within(&bob, ds1, escrow1, SHORT_COMPUTE_MS, "replication 1")
            .await?;
        self.tx(&dave, selectors::CLAIM, job, 0, "single replica")
            .await?;
        let result = hash_of("result", job);
        self.commit(&dave, job, result, "single replica").await?;
        self.tx(
            &dave,
            selectors::REVEAL,
            (job, result),
            0,
            "single replica (opens challenge)",
        )
        .await?;
        self.pass_time(SHORT_COMPUTE_MS, &ferdie).await?;
        self.tx(
            &ferdie,
            selectors::ADVANCE,
            job,
            0,
            "challenge window over (agreed)",
        )
        .await?;
        self.tx(&alice, selectors::SET_PARAMS, params, 0, "restore")
            .await?;

        // Money out and admin.
        self.tx(&alice, selectors::WITHDRAW, (), 0, "data owner's price")
            .await?;
        self.tx(&charlie, selectors::WITHDRAW, (), 0, "worker fee")
            .await?;
        self.tx(
            &ferdie,
            selectors::WITHDRAW_STAKE,
            10 * UNIT,
            0,
            "part of a stake, no open claim",
        )
        .await?;
        self.tx(&alice, selectors::SET_PAUSED, true, 0, "pause")
            .await?;
        self.tx(&alice, selectors::SET_PAUSED, false, 0, "unpause")
            .await?;
        self.tx(
            &alice,
            selectors::TRANSFER_OWNERSHIP,
            alice.account(),
            0,
            "proposed to itself",
        )
        .await?;
        self.tx(&alice, selectors::ACCEPT_OWNERSHIP, (), 0, "by itself")
            .await?;
        // The upgrade path, to the same code: announce, cancel, announce,
        // wait out the delay, enact.
        let code_hash = blindfold_chain::code_hash(code);
        self.tx(
            &alice,
            selectors::ANNOUNCE_UPGRADE,
            code_hash,
            0,
            "same code",
        )
        .await?;
        self.tx(&alice, selectors::CANCEL_UPGRADE, (), 0, "withdrawn")
            .await?;
        self.tx(
            &alice,
            selectors::ANNOUNCE_UPGRADE,
            code_hash,
            0,
            "same code, again",
        )
        .await?;
        self.pass_time(params.upgrade_delay, &ferdie).await?;
        self.tx(&alice, selectors::ENACT_UPGRADE, (), 0, "after the delay")
            .await?;
        self.tx(&alice, selectors::DEACTIVATE_DATASET, ds1, 0, "dataset")
            .await?;

        // Queries.
        self.query(&bob, selectors::DATASET, ds2, "dataset").await?;
        self.query(&bob, selectors::JOB, 0u64, "finalized job")
            .await?;
        self.query(&bob, selectors::WORKER, charlie.account(), "worker")
            .await?;
        self.query(&bob, selectors::EARNINGS, dave.account(), "earnings")
            .await?;
        self.query(&bob, selectors::STATE, (), "global state")
            .await?;
        self.query(&bob, selectors::IS_REVOKED, (ds2, 0u64), "revoked item")
            .await?;

        // Latency: the same small transaction and query, repeated.
        let mut tx_ms = Vec::with_capacity(repeats);
        let mut q_ms = Vec::with_capacity(repeats);
        for _ in 0..repeats {
            let t = Instant::now();
            self.chain
                .call(&ferdie, &self.contract, selectors::STAKE.to_vec(), UNIT)
                .await?;
            tx_ms.push(t.elapsed().as_secs_f64() * 1e3);
            let t = Instant::now();
            self.chain
                .query(
                    &ferdie.account(),
                    &self.contract,
                    selectors::STATE.to_vec(),
                    0,
                )
                .await?;
            q_ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
        self.raw
            .latency
            .push(Latency::of("stake (1 unit), signed and included", tx_ms));
        self.raw
            .latency
            .push(Latency::of("state query (dry run)", q_ms));
        Ok(())
    }

    async fn request(&mut self, bob: &Signer, ds: u32, escrow: u128, case: &str) -> Result<u64> {
        self.request_within(bob, ds, escrow, 3_600_000, case).await
    }

    /// Requests a job on `ds` whose commit deadline is `compute_ms` away,
    /// expecting the dataset as it stands.
    async fn request_within(
        &mut self,
        bob: &Signer,
        ds: u32,
        escrow: u128,
        compute_ms: u64,
        case: &str,
    ) -> Result<u64> {
        // The embedded clock stands still; a node's next block takes the wall
        // clock, which may be ahead of its last block's timestamp.
        let mut now = self.chain.now().await?;
        if self.embedded.is_none() {
            let wall = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            now = now.max(wall);
        }
        let deadline = now + compute_ms;
        let info: DatasetInfo = decode_result(
            &self
                .chain
                .query(
                    &bob.account(),
                    &self.contract,
                    call_data(selectors::DATASET, ds),
                    0,
                )
                .await?
                .data,
        )?;
        let expected = info.expected_with::<Sha2>(ds);
        let data = self
            .tx(
                bob,
                selectors::REQUEST,
                (
                    ds,
                    PipelineId::LvArea,
                    hash_of("job spec", u64::from(ds)),
                    0u64,
                    deadline,
                    expected,
                ),
                escrow,
                case,
            )
            .await?;
        decode_result(&data)
    }

    async fn commit(
        &mut self,
        worker: &Signer,
        job: u64,
        result: [u8; 32],
        case: &str,
    ) -> Result<()> {
        let info = self.job(worker, job).await?;
        let commitment = info.commitment_with::<Sha2>(job, &result);
        let sealed = seal(&commitment, &worker.account());
        self.tx(worker, selectors::COMMIT, (job, sealed), 0, case)
            .await?;
        Ok(())
    }
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}
