//! End-to-end scenarios of the Blindfold marketplace, shared by the test
//! cases in `tests/` and the demo binary (`blindfold-demo`).
//!
//! Everything is real: the release `marketplace.wasm` on real
//! pallet-contracts (the embedded chain, or a substrate-contracts-node),
//! real TFHE, the real worker service and the real client library. Parts:
//!
//! - [`Scenario`]: one deployed marketplace, a blob store, and the cast:
//!   operator `//Alice`, data owner `//Bob`, researcher `//Charlie` (with
//!   its release key), and workers `//Dave`, `//Eve`, `//Ferdie`;
//! - [`Scenario::dataset`]: keygen, register, and submit synthetic videos;
//! - [`Scenario::run_workers_until`]: run worker services until a job
//!   reaches a state, then shut them down gracefully;
//! - [`Balances`]: everyone's free balance and unpaid earnings, so cases can
//!   assert how money moved;
//! - [`process`]: the real `offchain-worker` binary as separate processes on
//!   the same chain and store ([`Scenario::run_processes_until`]).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use blindfold_chain::{AnyChain, Chain, Metered, Signer};
use blindfold_client::owner::{self, DatasetSpec, SubmitOptions};
use blindfold_client::researcher::{self, RequestOptions};
use blindfold_client::sources::{prepare, FrameSpec, PrepSpec, Source};
use blindfold_client::{seal, Client, OwnerKeys};
use blindfold_echo::PhantomConfig;
use blindfold_fhe::{PipelineParams, PlainVideo, Scheme};
use blindfold_market::{Market, UNIT};
use blindfold_protocol::types::{
    Account, Balance, DatasetId, Hash, JobId, JobInfo, JobStatus, Params, PipelineId, PipelineSet,
    Policy,
};
use blindfold_store::{BlobStore, DirStore};
use blindfold_worker::{service, Worker, WorkerConfig};
use indicatif::ProgressBar;

pub mod process;

/// The chain type every scenario uses: either implementation, metered, shared.
pub type SharedChain = Arc<Metered<AnyChain>>;
/// The worker type of a scenario (blobs in `S`).
pub type ScenarioWorker<S = DirStore> = Arc<Worker<SharedChain, S>>;

/// Where the release contract is: `$BLINDFOLD_WASM`, else
/// `artifacts/marketplace.wasm` at the workspace root.
///
/// The root is found from `CARGO_MANIFEST_DIR` as cargo sets it when it runs
/// a test, and only then from the path compiled in: a shared target
/// directory may hold binaries built from a checkout elsewhere.
pub fn wasm_path() -> PathBuf {
    if let Some(path) = std::env::var_os("BLINDFOLD_WASM") {
        return PathBuf::from(path);
    }
    let crate_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    crate_dir.join("../artifacts/marketplace.wasm")
}

/// The compute window of a case's job on a node (ms): the tiny datasets of
/// the cases compute in seconds, and the job's challenge window, as long as
/// this, passes in real time there.
pub const NODE_COMPUTE_WINDOW_MS: u64 = 60_000;

/// Contract settings for a chain: the demo defaults on the embedded chain
/// (whose clock only moves when told), windows of seconds on a real node
/// (a job's challenge and tie-break windows still grow to its compute
/// window).
pub fn params_for(chain: &AnyChain) -> Params {
    let mut p = blindfold_market::default_params();
    if chain.as_embedded().is_none() {
        p.min_compute_window = 1_000;
        // Long enough for a cold worker (stake, fetch the keys, time its
        // first input) to join a round another worker has already offered
        // in: at 5 s, one that started after that offer missed the draw.
        p.offer_window = 15_000;
        p.reveal_window = 30_000;
        p.challenge_window = 5_000;
        p.tiebreak_window = 120_000;
        p.release_window = 120_000;
        p.upgrade_delay = 2_000;
    }
    p
}

/// The draw secret a test actor offers with on `round` of `job`
/// (derived, so a test can reveal it without keeping it).
pub fn test_secret(account: &Signer, job: JobId, round: u8) -> Hash {
    let mut tag = account.account().to_vec();
    tag.extend(job.to_be_bytes());
    tag.push(round);
    blindfold_store::sha256(&tag)
}

/// A dataset a scenario registered.
#[derive(Debug)]
pub struct Dataset {
    /// Its id.
    pub id: DatasetId,
    /// The owner's keys.
    pub keys: OwnerKeys,
    /// Ground-truth EF (percent) per submission, from the generator.
    pub truth_ef: Vec<f64>,
    /// The preprocessed plaintext of each submission (the owner's copy).
    pub plain: Vec<PlainVideo>,
}

/// How to build a dataset.
#[derive(Clone, Debug)]
pub struct DatasetConfig {
    /// Synthetic videos.
    pub videos: usize,
    /// Preprocessed side (pixels).
    pub side: u16,
    /// Bits per pixel.
    pub bits: u8,
    /// Policy: minimum cohort.
    pub min_cohort: u32,
    /// Policy: replication factor.
    pub replication: u8,
    /// Policy: DP budget (thousandths of epsilon).
    pub dp_budget: Option<u64>,
    /// Price per job (base units).
    pub price: Balance,
    /// Release aggregates only.
    pub aggregates_only: bool,
    /// Generator seed.
    pub seed: u64,
    /// The scheme the owner's keys use.
    pub scheme: Scheme,
}

impl DatasetConfig {
    /// Tiny and fast: `videos` 8x8 4-bit videos (ED+ES), replication 2.
    pub fn tiny(videos: usize) -> Self {
        DatasetConfig {
            videos,
            side: 8,
            bits: 4,
            min_cohort: 2,
            replication: 2,
            dp_budget: None,
            price: 5 * UNIT,
            aggregates_only: false,
            seed: 7,
            scheme: Scheme::TFHE,
        }
    }
}

/// One deployed marketplace and its cast, with every blob in `S`: a local
/// directory unless the scenario was started with another store
/// ([`Scenario::start_with_store`]).
pub struct Scenario<S = DirStore> {
    /// The chain.
    pub chain: SharedChain,
    /// How the chain was opened (`embedded:<file>` or a `ws://` URL): what a
    /// worker process is given to reach the same chain.
    pub chain_spec: String,
    /// The secret URIs of the three workers, then the operator's (a fourth
    /// worker where a case needs one): what a worker process signs with.
    pub worker_uris: [String; 4],
    /// Files: the blob store, keys, generated data, worker state.
    pub dir: PathBuf,
    /// The client library, for the data owner, researcher and verifier.
    pub client: Client<SharedChain, S>,
    /// Deploys the contract: the admin.
    pub operator: Signer,
    /// The hospital.
    pub owner: Signer,
    /// Pays for jobs.
    pub researcher: Signer,
    /// Three worker accounts.
    pub workers: [Signer; 3],
    /// The researcher's release key: released results are sealed to it.
    pub release_key: seal::Identity,
}

impl<S> std::fmt::Debug for Scenario<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scenario")
            .field("chain", &self.chain.describe())
            .field("dir", &self.dir)
            .finish()
    }
}

fn dev(seed: &str) -> Signer {
    Signer::from_uri(seed).unwrap_or_else(|e| panic!("dev seed {seed}: {e}"))
}

/// What `//Alice` gives each member of a scenario's cast on a node. A case
/// spends tens of UNIT at most (stakes of 20, prices of 5, bonds, fees and
/// deposits). A dev node gives `//Alice` 2^60 base units (about 1.15
/// million UNIT), so this funds about 190 scenarios per node; at 10,000 UNIT
/// she ran dry after 19, and the last three of the 22 cases failed with
/// "Funds are unavailable".
const NODE_ENDOWMENT: Balance = 1_000 * UNIT;

/// The cast's secret URIs: operator, owner, researcher and three workers.
///
/// On the embedded chain (one chain per scenario) they are the dev accounts
/// `//Alice` … `//Ferdie`. On a node, scenarios run side by side and each
/// checks every member's balance, so each gets accounts of its own, derived
/// from the dev seeds with the scenario's salt and funded by `//Alice`.
async fn cast(chain: &AnyChain, salt: &[u8]) -> Result<[String; 6]> {
    const SEEDS: [&str; 6] = [
        "//Alice",
        "//Bob",
        "//Charlie",
        "//Dave",
        "//Eve",
        "//Ferdie",
    ];
    let Some(node) = chain.as_node() else {
        return Ok(SEEDS.map(String::from));
    };
    let tag = hex::encode(&blindfold_store::sha256(salt)[..6]);
    let alice = dev("//Alice");
    let mut cast = Vec::new();
    for seed in SEEDS {
        let uri = format!("{seed}//scenario-{tag}");
        node.transfer(&alice, &dev(&uri).account(), NODE_ENDOWMENT)
            .await?;
        cast.push(uri);
    }
    Ok(cast
        .try_into()
        .unwrap_or_else(|_| unreachable!("six seeds make six URIs")))
}

impl Scenario {
    /// Opens `chain_spec` (`embedded` or a `ws://` URL), deploys the
    /// marketplace from [`wasm_path`] and keeps files under `dir`, blobs in
    /// `dir/store`.
    pub async fn start(chain_spec: &str, dir: &Path) -> Result<Self> {
        let store = DirStore::open(dir.join("store"))?;
        Self::start_with_store(chain_spec, dir, store).await
    }
}

impl<S: BlobStore + Clone + 'static> Scenario<S> {
    /// [`Scenario::start`] with every blob in `store` (the client's and every
    /// worker's): an S3 bucket, say.
    pub async fn start_with_store(chain_spec: &str, dir: &Path, store: S) -> Result<Self> {
        let wasm_file = wasm_path();
        let wasm = std::fs::read(&wasm_file).with_context(|| {
            format!(
                "{}: the release contract is missing; run scripts/build-contract.sh",
                wasm_file.display()
            )
        })?;
        let chain: SharedChain = Arc::new(Metered::new(AnyChain::open(chain_spec).await?));
        let params = params_for(chain.inner());
        // A fresh salt per scenario, so one node hosts many.
        let salt = format!("{:?}{}", Instant::now(), dir.display()).into_bytes();
        let uris = cast(chain.inner(), &salt).await?;
        let [operator, owner, researcher, w0, w1, w2] = uris.clone().map(|u| dev(&u));
        let market = Market::deploy(chain.clone(), &operator, &wasm, params, &salt).await?;
        std::fs::create_dir_all(dir)?;
        let researcher_keys = dir.join("researcher-keys");
        seal::generate_identity(&researcher_keys, true)?;
        let release_key = seal::load_identity(&seal::identity_path(&researcher_keys))?;
        Ok(Scenario {
            chain,
            chain_spec: chain_spec.to_string(),
            worker_uris: [&uris[3], &uris[4], &uris[5], &uris[0]].map(String::clone),
            dir: dir.to_path_buf(),
            client: Client::new(market, store),
            operator,
            owner,
            researcher,
            workers: [w0, w1, w2],
            release_key,
        })
    }

    /// The marketplace.
    pub fn market(&self) -> &Market<SharedChain> {
        self.client.market()
    }

    /// A worker for `self.workers[i]` with `threads` FHE threads.
    pub fn worker(&self, i: usize, threads: usize) -> Result<ScenarioWorker<S>> {
        self.worker_with(i, threads, |_| {})
    }

    /// [`Scenario::worker`], with `tune` applied to its configuration.
    pub fn worker_with(
        &self,
        i: usize,
        threads: usize,
        tune: impl FnOnce(&mut WorkerConfig),
    ) -> Result<ScenarioWorker<S>> {
        self.worker_as(
            self.workers[i].clone(),
            &format!("worker-{i}"),
            threads,
            tune,
        )
    }

    /// A worker for any member of the cast (`name` names its state file).
    pub fn worker_as(
        &self,
        signer: Signer,
        name: &str,
        threads: usize,
        tune: impl FnOnce(&mut WorkerConfig),
    ) -> Result<ScenarioWorker<S>> {
        let mut config = WorkerConfig::new(self.dir.join(format!("{name}.json")));
        config.threads = threads;
        config.poll = Duration::from_millis(100);
        tune(&mut config);
        let market = Arc::new(Market::at(self.chain.clone(), self.market().address()));
        let store = Arc::new(self.client.store().clone());
        Ok(Worker::new(market, store, signer, config)?)
    }

    /// Generates keys, registers a dataset allowing every pipeline, and
    /// submits `cfg.videos` synthetic videos.
    pub async fn dataset(&self, cfg: &DatasetConfig) -> Result<Dataset> {
        let keys_dir = self.dir.join(format!("keys-{}", cfg.seed));
        let (keys, _) = owner::keygen(&keys_dir, self.client.store(), cfg.scheme, true).await?;
        let prep = PrepSpec {
            width: cfg.side,
            height: cfg.side,
            bits: cfg.bits,
            frames: FrameSpec::EdEs,
            roi: None,
        };
        let spec = DatasetSpec {
            name: format!("synthetic-{}", cfg.seed),
            price: cfg.price,
            policy: Policy {
                allowed_pipelines: PipelineSet::ALL,
                min_cohort: cfg.min_cohort,
                replication: cfg.replication,
                dp_epsilon_budget: cfg.dp_budget,
            },
            prep,
            aggregates_only: cfg.aggregates_only,
            public_releases: false,
            verify: blindfold_job::VerifyPolicy::Full,
        };
        let registered = owner::register(&self.client, &self.owner, &keys, &spec).await?;
        let data_dir = self.dir.join(format!("echonet-{}", cfg.seed));
        let phantom = PhantomConfig {
            videos: cfg.videos,
            frames: 16,
            width: 48,
            height: 48,
            seed: cfg.seed,
            ..PhantomConfig::default()
        };
        let source = Source::Synthetic {
            dir: data_dir.clone(),
            config: phantom,
        };
        owner::submit_videos(
            &self.client,
            &self.owner,
            &keys,
            registered.dataset_id,
            &source,
            &SubmitOptions::default(),
            &ProgressBar::hidden(),
        )
        .await?;
        // The owner's plaintext copy and the generator's ground truth.
        let echonet = Source::EchoNet(data_dir.clone());
        let mut plain = Vec::new();
        for video in echonet.videos()? {
            plain.push(prepare(&video.read()?, &prep)?);
        }
        let list = blindfold_echo::EchoNetDataset::open(&data_dir)?;
        let truth_ef = list.entries().iter().map(|e| e.ef).collect();
        Ok(Dataset {
            id: registered.dataset_id,
            keys,
            truth_ef,
            plain,
        })
    }

    /// The compute window a case's job asks for: 10 minutes on the embedded
    /// chain, whose clock jumps over it; [`NODE_COMPUTE_WINDOW_MS`] on a
    /// node, where a job's challenge window (at least its compute window)
    /// passes in real time.
    pub fn compute_window_ms(&self) -> u64 {
        match self.chain.inner().as_embedded() {
            Some(_) => 600_000,
            None => NODE_COMPUTE_WINDOW_MS,
        }
    }

    /// Requests an `lv-area` job with the researcher's default parameters
    /// and the chain's [`Scenario::compute_window_ms`].
    pub async fn request_lv_area(&self, dataset: &Dataset, epsilon_milli: u64) -> Result<JobId> {
        self.request_lv_area_within(dataset, epsilon_milli, self.compute_window_ms())
            .await
    }

    /// Requests an `lv-area` job whose compute window is `window_ms` (a test
    /// that waits for the deadline on a node waits that long).
    pub async fn request_lv_area_within(
        &self,
        dataset: &Dataset,
        epsilon_milli: u64,
        window_ms: u64,
    ) -> Result<JobId> {
        self.request_lv_area_sharded(dataset, epsilon_milli, window_ms, 0)
            .await
    }

    /// [`Scenario::request_lv_area_within`], split into shards of
    /// `shard_size` videos (0: whole).
    pub async fn request_lv_area_sharded(
        &self,
        dataset: &Dataset,
        epsilon_milli: u64,
        window_ms: u64,
        shard_size: u64,
    ) -> Result<JobId> {
        let (_, metadata) = self.client.dataset(dataset.id).await?;
        let params = researcher::default_params("lv-area", &metadata.geometry)?;
        let options = RequestOptions {
            params,
            epsilon_milli,
            compute_window_ms: Some(window_ms),
            release_to: Some(self.release_key.to_public().to_string()),
            shard_size: researcher::ShardSize::Fixed(shard_size),
        };
        Ok(
            researcher::request_job(&self.client, &self.researcher, dataset.id, &options)
                .await?
                .job_id,
        )
    }

    /// The job spec's params of `job`.
    pub async fn params_of(&self, job: JobId) -> Result<PipelineParams> {
        let info = self.client.job(job).await?;
        Ok(self.client.job_spec(job, &info).await?.params)
    }

    /// Runs the worker services of `workers` until `done(job)` holds, then
    /// shuts them down gracefully. `also` runs at every poll (a test's
    /// dishonest actor, say). Fails after `timeout`.
    ///
    /// On the embedded chain, whose clock moves only when told, an offer
    /// window passes as soon as every worker here has offered (or holds a
    /// claim), or 10 s after the first offer if one of them never does,
    /// and a challenge window passes at once (nobody here challenges): the
    /// clock jumps to the window's end and the job is advanced. A sharded
    /// job's shards get the same treatment, except that a shard's offer
    /// window passes as soon as its offers fill its free slots (each worker
    /// takes one shard at a time, so not everyone offers for each). On a
    /// node they pass in real time.
    pub async fn run_workers_until<F, A, Fut>(
        &self,
        workers: &[ScenarioWorker<S>],
        job: JobId,
        timeout: Duration,
        done: F,
        mut also: A,
    ) -> Result<JobInfo>
    where
        F: Fn(&JobInfo) -> bool,
        A: FnMut(JobInfo) -> Fut,
        Fut: std::future::Future<Output = Result<()>>,
    {
        let mut handles = Vec::new();
        let mut stops = Vec::new();
        for w in workers {
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            stops.push(tx);
            let w = w.clone();
            handles.push(tokio::spawn(async move {
                service::run(w, async {
                    let _ = rx.await;
                })
                .await
            }));
        }
        let accounts: Vec<Account> = workers.iter().map(|w| w.signer.account()).collect();
        let outcome = self
            .drive_until(&accounts, job, timeout, done, &mut also, || {
                match handles.iter().any(|h| h.is_finished()) {
                    true => Err(anyhow!("a worker service stopped early")),
                    false => Ok(()),
                }
            })
            .await;
        for tx in stops {
            let _ = tx.send(());
        }
        for h in handles {
            match h.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => bail!("worker service failed: {e}"),
                Err(e) => bail!("worker task panicked: {e}"),
            }
        }
        // A job stuck in the wrong state is explained by what each worker
        // recorded for it and its shards (a skipped round says why).
        outcome.with_context(|| {
            let records: Vec<String> = workers
                .iter()
                .map(|w| {
                    let jobs = w.state.snapshot().jobs;
                    let seen: Vec<String> = jobs
                        .iter()
                        .map(|(id, r)| {
                            format!(
                                "job {id} {:?} ({})",
                                r.phase,
                                r.note.as_deref().unwrap_or("")
                            )
                        })
                        .collect();
                    format!("{}: {}", w.signer.name(), seen.join(", "))
                })
                .collect();
            format!("workers' records: {}", records.join("; "))
        })
    }

    /// Polls `job` until `done(job)` holds, passing its windows (and its
    /// shards') for the workers `accounts` by the rules of
    /// [`Scenario::run_workers_until`]; `also` runs at every poll, and
    /// `alive` checks the workers, wherever they run. Fails after `timeout`.
    pub async fn drive_until<F, A, Fut>(
        &self,
        accounts: &[Account],
        job: JobId,
        timeout: Duration,
        done: F,
        mut also: A,
        mut alive: impl FnMut() -> Result<()>,
    ) -> Result<JobInfo>
    where
        F: Fn(&JobInfo) -> bool,
        A: FnMut(JobInfo) -> Fut,
        Fut: std::future::Future<Output = Result<()>>,
    {
        let started = Instant::now();
        let mut first_offer: HashMap<JobId, Instant> = HashMap::new();
        loop {
            let info = self.client.job(job).await?;
            if done(&info) {
                return Ok(info);
            }
            if info.status.is_terminal() {
                bail!(
                    "job {job} ended {:?} without reaching what the case waits for",
                    info.status
                );
            }
            self.pass_all_windows(accounts, job, &info, &mut first_offer)
                .await?;
            also(info.clone()).await?;
            if started.elapsed() > timeout {
                bail!("job {job} still {:?} after {timeout:?}", info.status);
            }
            alive()?;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// [`Scenario::pass_windows`] for `job`, or for each of its shards.
    async fn pass_all_windows(
        &self,
        accounts: &[Account],
        job: JobId,
        info: &JobInfo,
        first_offer: &mut HashMap<JobId, Instant>,
    ) -> Result<()> {
        if !info.is_sharded() {
            return self.pass_windows(accounts, job, info, first_offer).await;
        }
        let mut shards = Vec::new();
        for shard in job + 1..=job + u64::from(info.shards) {
            shards.push((shard, self.client.job(shard).await?));
        }
        // A challenge window is as long as the compute window: passing one
        // while another shard still computes would make that one miss its
        // commit deadline.
        let computing = shards.iter().any(|(_, s)| {
            matches!(
                s.status,
                JobStatus::Open
                    | JobStatus::Disputed
                    | JobStatus::Drawing
                    | JobStatus::Computing
                    | JobStatus::Revealing
            )
        });
        for (shard, shard_info) in shards {
            if computing && shard_info.status == JobStatus::Challenge {
                continue;
            }
            self.pass_windows(accounts, shard, &shard_info, first_offer)
                .await?;
        }
        Ok(())
    }

    /// The embedded chain's window rules of [`Scenario::run_workers_until`];
    /// on a node, [`Scenario::push_passed_deadline`].
    async fn pass_windows(
        &self,
        accounts: &[Account],
        job: JobId,
        info: &JobInfo,
        first_offer: &mut HashMap<JobId, Instant>,
    ) -> Result<()> {
        let Some(chain) = self.chain.inner().as_embedded() else {
            return self.push_passed_deadline(job, info).await;
        };
        if info.status == JobStatus::Challenge {
            let now = chain.now().await?;
            chain.advance_time(info.deadline.saturating_sub(now))?;
            self.market().advance(&self.operator, job).await?;
            return Ok(());
        }
        if !matches!(info.status, JobStatus::Open | JobStatus::Disputed) || info.offers.is_empty() {
            first_offer.remove(&job);
            return Ok(());
        }
        let since = *first_offer.entry(job).or_insert_with(Instant::now);
        let everyone = accounts
            .iter()
            .all(|me| info.claim_of(me).is_some() || info.offer_of(me).is_some())
            || (info.shard.is_some() && info.offers.len() >= info.free_slots());
        let now = chain.now().await?;
        if (everyone || since.elapsed() > Duration::from_secs(10)) && now < info.deadline {
            chain.advance_time(info.deadline - now)?;
        }
        Ok(())
    }

    /// On a node, windows pass in real time, but a contract moves only when
    /// called: once `job`'s current deadline has passed, the operator calls
    /// `advance`, as anyone may. Workers push the phases they wait in
    /// themselves; this covers the rest (the challenge window after every
    /// worker has gone, a reveal phase a dishonest claimant leaves open). An
    /// open round with no offers is left to the workers, as on the embedded
    /// chain, and so is a computed job's release window.
    async fn push_passed_deadline(&self, job: JobId, info: &JobInfo) -> Result<()> {
        let pushable = match info.status {
            JobStatus::Challenge
            | JobStatus::Drawing
            | JobStatus::Computing
            | JobStatus::Revealing => true,
            JobStatus::Open | JobStatus::Disputed => !info.offers.is_empty(),
            _ => false,
        };
        if pushable {
            self.market()
                .advance_if_passed(&self.operator, job, info.deadline)
                .await?;
        }
        Ok(())
    }

    /// `account` offers for the current round of `job`, with the seed hash
    /// of [`test_secret`].
    pub async fn offer(&self, account: &Signer, job: JobId) -> Result<()> {
        let round = self.client.job(job).await?.round;
        let secret = test_secret(account, job, round);
        let seed_hash =
            blindfold_protocol::hash::offer_seed(job, round, &account.account(), &secret);
        self.market().offer(account, job, seed_hash).await?;
        Ok(())
    }

    /// Lets `job`'s offer window pass and advances it: every offerer is
    /// drawn (a test that offers no more than the free slots). Fails if
    /// the job then needs a draw.
    pub async fn close_offers(&self, job: JobId) -> Result<JobInfo> {
        let info = self.client.job(job).await?;
        let now = self.market().chain().now().await?;
        self.advance(info.deadline.saturating_sub(now) + 1_000)
            .await?;
        let status = self.market().advance(&self.researcher, job).await?;
        if status != JobStatus::Computing {
            bail!("job {job} is {status:?} after its offer window, expected Computing");
        }
        Ok(self.client.job(job).await?)
    }

    /// `account` commits to `result` on `job` (sealed), as a drawn claimant.
    pub async fn commit(&self, account: &Signer, job: JobId, result: Hash) -> Result<()> {
        let info = self.client.job(job).await?;
        let sealed = blindfold_protocol::hash::seal(
            &blindfold_market::commitment(job, &info, &result),
            &account.account(),
        );
        self.market().commit(account, job, sealed).await?;
        Ok(())
    }

    /// `account` challenges the result under challenge on `job` with a
    /// sealed commitment to `result`.
    pub async fn commit_challenge(&self, account: &Signer, job: JobId, result: Hash) -> Result<()> {
        let info = self.client.job(job).await?;
        let sealed = blindfold_protocol::hash::seal(
            &blindfold_market::commitment(job, &info, &result),
            &account.account(),
        );
        self.market().challenge(account, job, sealed).await?;
        Ok(())
    }

    /// Moves chain time on by `ms`: instantly on the embedded chain; on a
    /// node by waiting, then sealing a block so dry runs see the new time.
    pub async fn advance(&self, ms: u64) -> Result<()> {
        match self.chain.inner().as_embedded() {
            Some(chain) => {
                chain.advance_time(ms)?;
            }
            None => {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                self.chain.catch_up(&self.operator).await?;
            }
        }
        Ok(())
    }

    /// Free balance and unpaid earnings of every member of the cast.
    pub async fn balances(&self) -> Result<Balances> {
        let mut entries = BTreeMap::new();
        let cast = [
            ("operator", &self.operator),
            ("owner", &self.owner),
            ("researcher", &self.researcher),
            ("worker-0", &self.workers[0]),
            ("worker-1", &self.workers[1]),
            ("worker-2", &self.workers[2]),
        ];
        for (role, signer) in cast {
            let account = signer.account();
            let free = self.market().balance(&account).await?;
            let earned = self.market().earnings(&account).await?;
            let stake = match self.market().worker(&account).await {
                Ok(w) => w.stake,
                Err(e) if e.contract_error().is_some() => 0,
                Err(e) => return Err(e.into()),
            };
            entries.insert(
                role.to_string(),
                Money {
                    free,
                    earned,
                    stake,
                },
            );
        }
        let totals = self.market().state().await?.totals;
        let held = self.market().balance(&self.market().address()).await?;
        Ok(Balances {
            entries,
            contract_free: held,
            owed: totals
                .escrow
                .saturating_add(totals.stakes)
                .saturating_add(totals.earnings),
        })
    }
}

/// One account's money.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Money {
    /// Free balance on chain.
    pub free: Balance,
    /// Unpaid earnings in the contract.
    pub earned: Balance,
    /// Stake in the contract.
    pub stake: Balance,
}

/// Everyone's money at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Balances {
    /// By role.
    pub entries: BTreeMap<String, Money>,
    /// The contract account's free balance.
    pub contract_free: Balance,
    /// What the contract owes: open escrow + stakes + unpaid earnings.
    pub owed: Balance,
}

impl Balances {
    /// Change of `role`'s earnings from `before` to `self`.
    pub fn earned_since(&self, before: &Balances, role: &str) -> i128 {
        self.entries[role].earned as i128 - before.entries[role].earned as i128
    }

    /// Change of `role`'s stake from `before` to `self`.
    pub fn stake_since(&self, before: &Balances, role: &str) -> i128 {
        self.entries[role].stake as i128 - before.entries[role].stake as i128
    }

    /// Money is conserved: what the contract holds above what it owes
    /// (open escrow + stakes + unpaid earnings) is what it held above that
    /// at `baseline` (its existential deposit).
    pub fn check_conservation(&self, baseline: &Balances) -> Result<()> {
        let surplus = |l: &Balances| l.contract_free as i128 - l.owed as i128;
        if surplus(self) != surplus(baseline) {
            bail!(
                "contract holds {} and owes {}: surplus {} changed from {}",
                self.contract_free,
                self.owed,
                surplus(self),
                surplus(baseline)
            );
        }
        Ok(())
    }
}

/// The pipeline id of `lv-area` on chain.
pub const LV_AREA: PipelineId = PipelineId::LvArea;
