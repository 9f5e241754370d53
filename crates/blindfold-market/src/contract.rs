//! [`Market`]: every marketplace message as a typed async method.
//!
//! A call is `selector ‖ SCALE(args)`; the answer is ink!'s
//! `Result<Result<T, Error>, LangError>`. [`Market::send`] and
//! [`Market::read`] do that encoding once for every message, and turn a
//! contract revert into [`MarketError::Contract`] with the contract's own
//! [`Error`], which the chain layer surfaces from its dry run before anything
//! is signed.

use blindfold_chain::{Account, CallReceipt, Chain, ChainError, Cursor, Signer};
use blindfold_protocol::events::MarketEvent;
use blindfold_protocol::selectors::{self, Selector};
use blindfold_protocol::types::{
    Balance, DatasetId, DatasetInfo, Expected, Hash, JobId, JobInfo, JobStatus, MarketState,
    MilliEpsilon, Params, PipelineId, Policy, Timestamp, WorkerInfo,
};
use blindfold_protocol::Error;
use parity_scale_codec::{Decode, Encode};

/// Errors of typed marketplace access.
#[derive(Debug, thiserror::Error)]
pub enum MarketError {
    /// The contract refused the message with its own error.
    #[error("the marketplace refused {message}: {error}")]
    Contract {
        /// The message's name.
        message: &'static str,
        /// The contract's error.
        error: Error,
    },
    /// The chain could not run the message.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The contract's answer or an event did not decode.
    #[error("cannot decode the marketplace's answer to {message}: {reason}")]
    Decode {
        /// The message or event.
        message: &'static str,
        /// The codec's complaint.
        reason: String,
    },
}

impl MarketError {
    /// The contract's own error, if that is what this is.
    pub fn contract_error(&self) -> Option<Error> {
        match self {
            MarketError::Contract { error, .. } => Some(*error),
            _ => None,
        }
    }

    /// Whether retrying later may succeed (RPC trouble only).
    pub fn is_transient(&self) -> bool {
        matches!(self, MarketError::Chain(e) if e.is_transient())
    }
}

/// Result alias of this crate.
pub type Result<T, E = MarketError> = std::result::Result<T, E>;

/// A decoded marketplace event and the block it was emitted in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockEvent {
    /// Block number.
    pub block: u64,
    /// The event.
    pub event: MarketEvent,
}

/// The deployed marketplace contract on chain `C`.
#[derive(Debug)]
pub struct Market<C> {
    chain: C,
    address: Account,
}

fn call_data(selector: Selector, args: impl Encode) -> Vec<u8> {
    let mut data = selector.to_vec();
    args.encode_to(&mut data);
    data
}

fn decode_answer<T: Decode>(message: &'static str, bytes: &[u8]) -> Result<T> {
    let outer = <std::result::Result<std::result::Result<T, Error>, u8>>::decode(&mut &bytes[..])
        .map_err(|e| MarketError::Decode {
        message,
        reason: e.to_string(),
    })?;
    match outer {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(MarketError::Contract { message, error }),
        Err(lang) => Err(MarketError::Decode {
            message,
            reason: format!(
                "ink! dispatcher error (LangError {lang}): wrong contract or selector?"
            ),
        }),
    }
}

/// Turns a reverted dry run into the contract's own error.
fn refused(message: &'static str, error: ChainError) -> MarketError {
    match error {
        ChainError::Reverted { data } => match decode_answer::<()>(message, &data) {
            Err(e) => e,
            Ok(()) => MarketError::Decode {
                message,
                reason: "the call reverted but returned Ok".into(),
            },
        },
        other => MarketError::Chain(other),
    }
}

impl<C: Chain> Market<C> {
    /// Uploads and instantiates the contract (`wasm` is the release
    /// `marketplace.wasm`) with `params`; `signer` becomes its owner.
    pub async fn deploy(
        chain: C,
        signer: &Signer,
        wasm: &[u8],
        params: Params,
        salt: &[u8],
    ) -> Result<Self> {
        let address = chain
            .deploy(
                signer,
                wasm,
                call_data(selectors::NEW, params),
                salt.to_vec(),
            )
            .await
            .map_err(|e| refused("new", e))?;
        Ok(Market { chain, address })
    }

    /// The contract already deployed at `address`.
    pub fn at(chain: C, address: Account) -> Self {
        Market { chain, address }
    }

    /// The chain.
    pub fn chain(&self) -> &C {
        &self.chain
    }

    /// The contract's address.
    pub fn address(&self) -> Account {
        self.address
    }

    /// Sends `selector(args)` with `value` attached, signed by `signer`, and
    /// decodes its answer. The dry run comes first: a refusal sends nothing.
    pub async fn send<T: Decode>(
        &self,
        message: &'static str,
        signer: &Signer,
        selector: Selector,
        args: impl Encode,
        value: Balance,
    ) -> Result<(T, CallReceipt)> {
        let receipt = self
            .chain
            .call(signer, &self.address, call_data(selector, args), value)
            .await
            .map_err(|e| refused(message, e))?;
        let value = decode_answer(message, &receipt.data)?;
        Ok((value, receipt))
    }

    /// Reads `selector(args)` with a dry run as `origin`.
    pub async fn read<T: Decode>(
        &self,
        message: &'static str,
        origin: &Account,
        selector: Selector,
        args: impl Encode,
    ) -> Result<T> {
        self.dry_run(message, origin, selector, args, 0).await
    }

    /// Dry-runs `selector(args)` as `origin` with `value` attached: the
    /// answer the message would give now, or the contract's refusal. Sends
    /// nothing.
    pub async fn dry_run<T: Decode>(
        &self,
        message: &'static str,
        origin: &Account,
        selector: Selector,
        args: impl Encode,
        value: Balance,
    ) -> Result<T> {
        let dry = self
            .chain
            .query(origin, &self.address, call_data(selector, args), value)
            .await?;
        decode_answer(message, &dry.data)
    }

    async fn tx<T: Decode>(
        &self,
        message: &'static str,
        signer: &Signer,
        selector: Selector,
        args: impl Encode,
        value: Balance,
    ) -> Result<T> {
        self.send(message, signer, selector, args, value)
            .await
            .map(|(v, _)| v)
    }

    // ---- datasets ---------------------------------------------------------------

    /// Registers a dataset; returns its id.
    pub async fn register_dataset(
        &self,
        owner: &Signer,
        metadata_hash: Hash,
        server_key_hash: Hash,
        price: Balance,
        policy: Policy,
    ) -> Result<DatasetId> {
        let args = (metadata_hash, server_key_hash, price, policy);
        self.tx(
            "register_dataset",
            owner,
            selectors::REGISTER_DATASET,
            args,
            0,
        )
        .await
    }

    /// Changes a dataset's price and policy (owner only).
    pub async fn update_dataset(
        &self,
        owner: &Signer,
        dataset: DatasetId,
        price: Balance,
        policy: Policy,
    ) -> Result<()> {
        let args = (dataset, price, policy);
        self.tx("update_dataset", owner, selectors::UPDATE_DATASET, args, 0)
            .await
    }

    /// Deactivates a dataset (owner only).
    pub async fn deactivate_dataset(&self, owner: &Signer, dataset: DatasetId) -> Result<()> {
        self.tx(
            "deactivate_dataset",
            owner,
            selectors::DEACTIVATE_DATASET,
            dataset,
            0,
        )
        .await
    }

    /// Records a batch of ciphertext blob hashes; returns the new count.
    pub async fn add_submissions(
        &self,
        owner: &Signer,
        dataset: DatasetId,
        blob_hashes: Vec<Hash>,
    ) -> Result<u64> {
        let args = (dataset, blob_hashes);
        self.tx(
            "add_submissions",
            owner,
            selectors::ADD_SUBMISSIONS,
            args,
            0,
        )
        .await
    }

    /// Revokes submission `index` (withdrawn consent).
    pub async fn revoke_submission(
        &self,
        owner: &Signer,
        dataset: DatasetId,
        index: u64,
    ) -> Result<()> {
        let args = (dataset, index);
        self.tx(
            "revoke_submission",
            owner,
            selectors::REVOKE_SUBMISSION,
            args,
            0,
        )
        .await
    }

    // ---- workers ------------------------------------------------------------------

    /// Adds `amount` to the caller's stake; returns the total.
    pub async fn stake(&self, worker: &Signer, amount: Balance) -> Result<Balance> {
        self.tx("stake", worker, selectors::STAKE, (), amount).await
    }

    /// Withdraws `amount` of free stake.
    pub async fn withdraw_stake(&self, worker: &Signer, amount: Balance) -> Result<()> {
        self.tx(
            "withdraw_stake",
            worker,
            selectors::WITHDRAW_STAKE,
            amount,
            0,
        )
        .await
    }

    // ---- jobs ---------------------------------------------------------------------

    /// What a researcher expects of `dataset` now: its price, replication
    /// and input digest. [`Market::request`] passes it, so that a dataset
    /// changed in between refuses the request.
    pub async fn expected(&self, dataset: DatasetId) -> Result<Expected> {
        let info = self.dataset(dataset).await?;
        Ok(info.expected_with::<blindfold_protocol::hash::Sha2>(dataset))
    }

    /// Requests a job, escrowing `escrow`; returns its id. `expected`: see
    /// [`Market::expected`]. `shard_size` > 0 splits it into shards of that
    /// many submissions (jobs `id + 1 ..`; see `JobInfo::shards`); 0 computes
    /// it whole.
    #[allow(clippy::too_many_arguments)]
    pub async fn request(
        &self,
        researcher: &Signer,
        dataset: DatasetId,
        pipeline: PipelineId,
        params_hash: Hash,
        epsilon: MilliEpsilon,
        deadline: Timestamp,
        expected: Expected,
        shard_size: u64,
        escrow: Balance,
    ) -> Result<JobId> {
        let args = (
            dataset,
            pipeline,
            params_hash,
            epsilon,
            deadline,
            expected,
            shard_size,
        );
        self.tx("request", researcher, selectors::REQUEST, args, escrow)
            .await
    }

    /// Dry-runs [`Market::request`]: the id the job would get, or the
    /// contract's refusal. Sends nothing.
    #[allow(clippy::too_many_arguments)]
    pub async fn check_request(
        &self,
        researcher: &Account,
        dataset: DatasetId,
        pipeline: PipelineId,
        params_hash: Hash,
        epsilon: MilliEpsilon,
        deadline: Timestamp,
        expected: Expected,
        shard_size: u64,
        escrow: Balance,
    ) -> Result<JobId> {
        let args = (
            dataset,
            pipeline,
            params_hash,
            epsilon,
            deadline,
            expected,
            shard_size,
        );
        self.dry_run("request", researcher, selectors::REQUEST, args, escrow)
            .await
    }

    /// Cancels an unclaimed job (researcher only).
    pub async fn cancel(&self, researcher: &Signer, job: JobId) -> Result<()> {
        self.tx("cancel", researcher, selectors::CANCEL, job, 0)
            .await
    }

    /// Offers for a slot of `job`'s current round, with the seed hash of a
    /// secret the worker keeps ([`blindfold_protocol::hash::offer_seed`]).
    pub async fn offer(&self, worker: &Signer, job: JobId, seed_hash: Hash) -> Result<()> {
        self.tx("offer", worker, selectors::OFFER, (job, seed_hash), 0)
            .await
    }

    /// Reveals the secret of the worker's offer, while `job` is `Drawing`.
    pub async fn reveal_seed(&self, worker: &Signer, job: JobId, secret: Hash) -> Result<()> {
        self.tx(
            "reveal_seed",
            worker,
            selectors::REVEAL_SEED,
            (job, secret),
            0,
        )
        .await
    }

    /// Posts the sealed commitment `seal(commitment, worker)`.
    pub async fn commit(&self, worker: &Signer, job: JobId, sealed: Hash) -> Result<()> {
        self.tx("commit", worker, selectors::COMMIT, (job, sealed), 0)
            .await
    }

    /// Opens the commitment by revealing the result blob hash.
    pub async fn reveal(&self, worker: &Signer, job: JobId, result_blob_hash: Hash) -> Result<()> {
        let args = (job, result_blob_hash);
        self.tx("reveal", worker, selectors::REVEAL, args, 0).await
    }

    /// Challenges the result under challenge with `sealed = seal(commitment,
    /// challenger)` of a conflicting result, bonded by the claim stake.
    pub async fn challenge(&self, worker: &Signer, job: JobId, sealed: Hash) -> Result<()> {
        self.tx("challenge", worker, selectors::CHALLENGE, (job, sealed), 0)
            .await
    }

    /// The data owner rejects the result under challenge or agreed on, with
    /// the correct `result_blob_hash`, bonded by the claim stake.
    pub async fn reject(&self, owner: &Signer, job: JobId, result_blob_hash: Hash) -> Result<()> {
        self.tx(
            "reject",
            owner,
            selectors::REJECT,
            (job, result_blob_hash),
            0,
        )
        .await
    }

    /// Applies the transition due once the current deadline passed.
    pub async fn advance(&self, anyone: &Signer, job: JobId) -> Result<JobStatus> {
        self.tx("advance", anyone, selectors::ADVANCE, job, 0).await
    }

    /// Posts the released-result hash (dataset owner only).
    pub async fn release(&self, owner: &Signer, job: JobId, released_hash: Hash) -> Result<()> {
        let args = (job, released_hash);
        self.tx("release", owner, selectors::RELEASE, args, 0).await
    }

    /// Pays out a released job.
    pub async fn finalize(&self, anyone: &Signer, job: JobId) -> Result<()> {
        self.tx("finalize", anyone, selectors::FINALIZE, job, 0)
            .await
    }

    /// Withdraws the caller's earnings; returns the amount.
    pub async fn withdraw(&self, account: &Signer) -> Result<Balance> {
        self.tx("withdraw", account, selectors::WITHDRAW, (), 0)
            .await
    }

    // ---- admin --------------------------------------------------------------------

    /// Changes the contract params (contract owner only).
    pub async fn set_params(&self, owner: &Signer, params: Params) -> Result<()> {
        self.tx("set_params", owner, selectors::SET_PARAMS, params, 0)
            .await
    }

    /// Pauses or resumes new business (contract owner only). A pause
    /// stops the market clock, so running jobs' deadlines move with it.
    pub async fn set_paused(&self, owner: &Signer, paused: bool) -> Result<()> {
        self.tx("set_paused", owner, selectors::SET_PAUSED, paused, 0)
            .await
    }

    /// Announces a code upgrade, enactable after the upgrade delay
    /// (contract owner only).
    pub async fn announce_upgrade(&self, owner: &Signer, code_hash: Hash) -> Result<()> {
        let selector = selectors::ANNOUNCE_UPGRADE;
        self.tx("announce_upgrade", owner, selector, code_hash, 0)
            .await
    }

    /// Sets the announced code hash once its delay has passed (contract
    /// owner only).
    pub async fn enact_upgrade(&self, owner: &Signer) -> Result<()> {
        self.tx("enact_upgrade", owner, selectors::ENACT_UPGRADE, (), 0)
            .await
    }

    /// Withdraws the announced upgrade (contract owner only).
    pub async fn cancel_upgrade(&self, owner: &Signer) -> Result<()> {
        self.tx("cancel_upgrade", owner, selectors::CANCEL_UPGRADE, (), 0)
            .await
    }

    /// Proposes `new_owner` as the contract owner; it takes over with
    /// [`Market::accept_ownership`].
    pub async fn transfer_ownership(&self, owner: &Signer, new_owner: &Account) -> Result<()> {
        let selector = selectors::TRANSFER_OWNERSHIP;
        self.tx("transfer_ownership", owner, selector, *new_owner, 0)
            .await
    }

    /// The proposed owner takes ownership.
    pub async fn accept_ownership(&self, proposed: &Signer) -> Result<()> {
        let selector = selectors::ACCEPT_OWNERSHIP;
        self.tx("accept_ownership", proposed, selector, (), 0).await
    }

    /// The code hash of the contract's code on chain (`None`: no contract
    /// at this address).
    pub async fn code_hash(&self) -> Result<Option<Hash>> {
        Ok(self.chain.code_hash(&self.address).await?)
    }

    // ---- time ---------------------------------------------------------------------

    /// Whether a job `deadline` (on the market clock, which pauses hold
    /// back: see [`MarketState::clock`]) has passed for the chain's next
    /// call. Converts it to chain time and asks
    /// [`blindfold_chain::deadline_passed`], which makes an idle node's clock
    /// catch up first.
    pub async fn deadline_passed(&self, signer: &Signer, deadline: Timestamp) -> Result<bool> {
        let clock = self.state().await?.clock;
        let lag = self.chain.now().await?.saturating_sub(clock);
        let at = deadline.saturating_add(lag);
        Ok(blindfold_chain::deadline_passed(&self.chain, signer, at).await?)
    }

    /// Calls `advance` on `job` once its current `deadline` has passed
    /// ([`Market::deadline_passed`]), as anyone may: the job's new status,
    /// or `None` when the deadline has not passed or the contract refused
    /// (someone advanced it first).
    pub async fn advance_if_passed(
        &self,
        anyone: &Signer,
        job: JobId,
        deadline: Timestamp,
    ) -> Result<Option<JobStatus>> {
        if !self.deadline_passed(anyone, deadline).await? {
            return Ok(None);
        }
        match self.advance(anyone, job).await {
            Ok(status) => Ok(Some(status)),
            Err(e) if e.contract_error().is_some() => Ok(None),
            Err(e) => Err(e),
        }
    }

    // ---- queries ------------------------------------------------------------------

    /// A dataset.
    pub async fn dataset(&self, dataset: DatasetId) -> Result<DatasetInfo> {
        self.read("dataset", &self.address, selectors::DATASET, dataset)
            .await
    }

    /// A job.
    pub async fn job(&self, job: JobId) -> Result<JobInfo> {
        self.read("job", &self.address, selectors::JOB, job).await
    }

    /// A worker's stake.
    pub async fn worker(&self, account: &Account) -> Result<WorkerInfo> {
        self.read("worker", &self.address, selectors::WORKER, *account)
            .await
    }

    /// Unpaid earnings of `account`.
    pub async fn earnings(&self, account: &Account) -> Result<Balance> {
        self.read("earnings", &self.address, selectors::EARNINGS, *account)
            .await
    }

    /// Global state: owner, params, money totals, counts.
    pub async fn state(&self) -> Result<MarketState> {
        self.read("state", &self.address, selectors::STATE, ())
            .await
    }

    /// Whether submission `index` of `dataset` is revoked.
    pub async fn is_revoked(&self, dataset: DatasetId, index: u64) -> Result<bool> {
        let args = (dataset, index);
        self.read("is_revoked", &self.address, selectors::IS_REVOKED, args)
            .await
    }

    /// The free balance of `account` on the chain.
    pub async fn balance(&self, account: &Account) -> Result<Balance> {
        Ok(self.chain.balance(account).await?)
    }

    /// Marketplace events from `cursor` on, decoded, and the cursor to resume
    /// from. Events of other contracts never appear; an event of this
    /// contract that does not decode is an error (wrong contract version).
    pub async fn events(&self, cursor: Cursor) -> Result<(Vec<BlockEvent>, Cursor)> {
        let (raw, next) = self.chain.events(&self.address, cursor).await?;
        let mut events = Vec::with_capacity(raw.len());
        for e in raw {
            let Some(topic) = e.topics.first() else {
                continue;
            };
            match MarketEvent::decode(topic, &e.data) {
                Ok(Some(event)) => events.push(BlockEvent {
                    block: e.block,
                    event,
                }),
                Ok(None) => {}
                Err(err) => {
                    return Err(MarketError::Decode {
                        message: "an event",
                        reason: err.to_string(),
                    })
                }
            }
        }
        Ok((events, next))
    }
}
