//! One job, from offer to reveal.
//!
//! [`Worker::process`] is a loop over the job's on-chain state, so it can
//! start (or restart after a crash) at any point:
//!
//! 1. **Prepare** (no claim yet): fetch and check every input
//!    ([`crate::inputs`]); a bad input refuses the job before anything is sent.
//! 2. **Offer**, unless the chain already shows this worker's offer or
//!    claim (an offer window that lapsed empty is reopened first, with
//!    `advance`), and only if the job fits before its commit deadline: the
//!    worker prices the job's operation count (known from its plan) at its
//!    own measured throughput, or, with nothing measured yet, computes the
//!    first unit, times it, and extrapolates; either with a safety
//!    margin. The offer carries the seed hash of a fresh secret, written to
//!    the state file first. Then **wait for the draw**: reveal the secret if
//!    more workers offered than there are slots; stop if not drawn.
//! 3. **Compute** each unit of live inputs (`JobContext::units`: one input,
//!    or a run of BFV inputs packed together) not already in the state
//!    file, storing each unit's result blob as soon as it exists; then
//!    store the bundle.
//!    These stay in the worker's private results directory (beside its
//!    state file), not in the shared store.
//! 4. **Commit** `seal(commitment, worker)`, unless the chain shows it.
//! 5. **Reveal** once the reveal phase opens: publish the bundle to the
//!    shared store (the commitments are closed, so nobody can copy it into
//!    a commitment of its own), then reveal its hash, unless the chain
//!    shows it.
//!
//! Deadlines that pass while waiting are pushed along with `advance` (anyone
//! may call it), so a job never waits on someone else's housekeeping.

use std::sync::Arc;
use std::time::{Duration, Instant};

use blindfold_chain::Chain;
use blindfold_fhe::params::RESULT_LIMIT;
use blindfold_fhe::Progress;
use blindfold_job::evaluate_unit;
use blindfold_job::ResultBundle;
use blindfold_market::{EventIndex, Input};
use blindfold_protocol::hash;
use blindfold_protocol::types::{Claim, Hash, JobId, JobInfo, JobStatus};
use blindfold_protocol::Error as ContractError;
use blindfold_store::BlobStore;

use crate::inputs::Prepared;
use crate::retry::with_backoff;
use crate::state::{parse_hash, JobRecord, Phase};
use crate::{Worker, WorkerError};

/// How a job ended for this worker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Revealed its result; payment follows at finalize.
    Revealed,
    /// Not taken: not drawn, the job moved on, or it was refused.
    Skipped(String),
}

/// How often to log the progress of a long computation.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

impl<C: Chain + 'static, S: BlobStore + 'static> Worker<C, S> {
    async fn job_info(&self, job_id: JobId) -> Result<JobInfo, WorkerError> {
        Ok(with_backoff("read job", || self.market.job(job_id)).await?)
    }

    fn my_claim<'a>(&self, job: &'a JobInfo) -> Option<&'a Claim> {
        job.claim_of(&self.signer.account()).map(|(_, c)| c)
    }

    fn skip(&self, job_id: JobId, why: String) -> Result<Outcome, WorkerError> {
        tracing::info!(job = job_id, "skipped: {why}");
        self.state.update_job(job_id, |r| {
            r.phase = Phase::Skipped;
            r.note = Some(why.clone());
        })?;
        Ok(Outcome::Skipped(why))
    }

    /// Takes `job_id` as far as this worker can (see the module docs).
    pub async fn process(
        self: &Arc<Self>,
        job_id: JobId,
        index: &EventIndex,
    ) -> Result<Outcome, WorkerError> {
        let mut job = self.job_info(job_id).await?;
        let me = self.signer.account();
        if self.my_claim(&job).is_none()
            && job.offer_of(&me).is_none()
            && !matches!(job.status, JobStatus::Open | JobStatus::Disputed)
        {
            return self.skip(job_id, format!("job is {:?}", job.status));
        }
        self.state.update_job(job_id, |r| {
            if r.phase == Phase::Skipped {
                r.phase = Phase::Preparing;
            }
        })?;

        let prepared = match self.prepare(job_id, &job, index).await {
            Ok(p) => p,
            Err(WorkerError::Refused { job, reason }) => {
                tracing::error!(job, "refusing the job: {reason}");
                self.state.update_job(job, |r| {
                    r.phase = Phase::Skipped;
                    r.note = Some(format!("refused: {reason}"));
                })?;
                return Err(WorkerError::Refused { job, reason });
            }
            Err(e) => return Err(e),
        };

        // 2. Offer, if this worker can meet the deadline, and wait for the draw.
        if self.my_claim(&job).is_none() && job.offer_of(&me).is_none() {
            if let Some(why) = self.infeasible(&prepared, &job).await? {
                return self.skip(job_id, why);
            }
            job = self.job_info(job_id).await?;
            if job.offers.is_empty() && matches!(job.status, JobStatus::Open | JobStatus::Disputed)
            {
                // An offer window that closed with nobody in it reopens on
                // `advance` while a round still fits before the commit
                // deadline (shards wait for a free worker this way).
                self.nudge(job_id, &job).await?;
                job = self.job_info(job_id).await?;
            }
            if self.my_claim(&job).is_none() && job.offer_of(&me).is_none() {
                if let Err(why) = self.offer(job_id, &job).await? {
                    return self.skip(job_id, why);
                }
                tracing::info!(job = job_id, pipeline = %job.pipeline, inputs = prepared.ctx.inputs.len(), round = job.round, "offered");
            }
        }
        if self.my_claim(&job).is_none() {
            match self.await_draw(job_id).await? {
                Ok(drawn) => job = drawn,
                Err(why) => return self.skip(job_id, why),
            }
            tracing::info!(job = job_id, round = job.round, "drawn: computing");
        }
        self.state.update_job(job_id, |r| {
            if matches!(r.phase, Phase::Preparing | Phase::Offered) {
                r.phase = Phase::Claimed;
            }
        })?;

        // 3. Compute.
        let result_hash = self.compute(&prepared).await?;

        // 4. Commit.
        let sealed = hash::seal(
            &prepared.ctx.commitment(&result_hash),
            &self.signer.account(),
        );
        let Some(claim) = self.my_claim(&job) else {
            return self.skip(
                job_id,
                "our claim is gone (slashed for a missed deadline?)".into(),
            );
        };
        if claim.sealed.is_none() {
            match with_backoff("commit", || {
                self.market.commit(&self.signer, job_id, sealed)
            })
            .await
            {
                Ok(()) => {
                    tracing::info!(job = job_id, result = %hex::encode(result_hash), "committed")
                }
                Err(e) => match e.contract_error() {
                    Some(err @ (ContractError::WrongStatus | ContractError::DeadlinePassed)) => {
                        return self.skip(job_id, format!("commit refused: {err}"))
                    }
                    _ => return Err(e.into()),
                },
            }
        }
        self.state
            .update_job(job_id, |r| r.phase = Phase::Committed)?;

        // 5. Reveal, once the reveal phase opens.
        loop {
            job = self.job_info(job_id).await?;
            let Some(claim) = self.my_claim(&job).cloned() else {
                return self.skip(job_id, "our claim is gone".into());
            };
            if claim.result_blob_hash.is_some() {
                break;
            }
            match job.status {
                JobStatus::Revealing => {
                    // Commitments are closed: the result may go public now.
                    self.publish(job_id, &result_hash).await?;
                    match with_backoff("reveal", || {
                        self.market.reveal(&self.signer, job_id, result_hash)
                    })
                    .await
                    {
                        Ok(()) => {
                            tracing::info!(job = job_id, "revealed");
                            break;
                        }
                        Err(e) if e.contract_error().is_some() => {
                            return self.skip(job_id, format!("reveal refused: {e}"))
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                JobStatus::Computing => {
                    // Waiting for the other replicas to commit, or for the deadline.
                    self.nudge(job_id, &job).await?;
                    self.pause(self.config.poll).await?;
                }
                status => {
                    return self.skip(job_id, format!("job moved to {status:?} before our reveal"))
                }
            }
        }
        self.state
            .update_job(job_id, |r| r.phase = Phase::Revealed)?;
        Ok(Outcome::Revealed)
    }

    /// Offers for a slot of `job`'s current round: a fresh secret goes into
    /// the state file first, then its seed hash on chain. `Ok(Err(why))`
    /// when the contract refuses in a way that means "not this job".
    async fn offer(&self, job_id: JobId, job: &JobInfo) -> Result<Result<(), String>, WorkerError> {
        let round = job.round;
        let secret = match self.secret(job_id, round) {
            Some(secret) => secret,
            None => {
                let mut secret = [0u8; 32];
                rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
                self.state.update_job(job_id, |r| {
                    r.secrets.insert(round, hex::encode(secret));
                })?;
                secret
            }
        };
        let seed_hash = hash::offer_seed(job_id, round, &self.signer.account(), &secret);
        match with_backoff("offer", || {
            self.market.offer(&self.signer, job_id, seed_hash)
        })
        .await
        {
            Ok(()) => {}
            Err(e) => match e.contract_error() {
                Some(ContractError::AlreadyOffered) => {}
                Some(
                    err @ (ContractError::WrongStatus
                    | ContractError::DeadlinePassed
                    | ContractError::AlreadyClaimed
                    | ContractError::TooManyOffers
                    | ContractError::InsufficientStake),
                ) => return Ok(Err(format!("offer refused: {err}"))),
                _ => return Err(e.into()),
            },
        }
        self.state.update_job(job_id, |r| {
            if r.phase == Phase::Preparing {
                r.phase = Phase::Offered;
            }
        })?;
        Ok(Ok(()))
    }

    /// The secret behind this worker's offer for `round` of `job_id`.
    fn secret(&self, job_id: JobId, round: u8) -> Option<Hash> {
        self.state
            .job(job_id)
            .and_then(|r| r.secrets.get(&round).and_then(|h| parse_hash(h)))
    }

    /// Waits until the round's slots are drawn, revealing this worker's
    /// secret when the draw needs it and pushing deadlines along. The job
    /// once this worker holds a claim, or `Err(why)` when it was not drawn.
    async fn await_draw(&self, job_id: JobId) -> Result<Result<JobInfo, String>, WorkerError> {
        let me = self.signer.account();
        loop {
            if self.shutting_down() {
                return Err(WorkerError::Shutdown);
            }
            let job = self.job_info(job_id).await?;
            if self.my_claim(&job).is_some() {
                return Ok(Ok(job));
            }
            let Some((_, offer)) = job.offer_of(&me) else {
                return Ok(Err(format!("not drawn (job is {:?})", job.status)));
            };
            if job.status == JobStatus::Drawing && offer.secret.is_none() {
                let Some(secret) = self.secret(job_id, job.round) else {
                    return Ok(Err(
                        "the secret behind our offer is not in the state file: it cannot be \
                         revealed, and the offer's bond will be slashed"
                            .into(),
                    ));
                };
                match with_backoff("reveal seed", || {
                    self.market.reveal_seed(&self.signer, job_id, secret)
                })
                .await
                {
                    Ok(()) => tracing::info!(job = job_id, "draw secret revealed"),
                    Err(e) if e.contract_error().is_some() => {
                        tracing::warn!(job = job_id, "revealing the draw secret refused: {e}")
                    }
                    Err(e) => return Err(e.into()),
                }
                continue;
            }
            self.nudge(job_id, &job).await?;
            self.pause(self.config.poll).await?;
        }
    }

    /// Calls `advance` when the job's current deadline has passed (on an
    /// idle instant-seal node, after making the chain's clock catch up).
    async fn nudge(&self, job_id: JobId, job: &JobInfo) -> Result<(), WorkerError> {
        let advanced = self
            .market
            .advance_if_passed(&self.signer, job_id, job.deadline)
            .await?;
        if let Some(status) = advanced {
            tracing::info!(job = job_id, ?status, "deadline passed: advanced");
        }
        Ok(())
    }

    /// Copies the result bundle `hash` from the worker's private results to
    /// the shared store, once the job's commit phase has closed.
    async fn publish(
        &self,
        job_id: JobId,
        hash: &blindfold_protocol::types::Hash,
    ) -> Result<(), WorkerError> {
        if self.store.contains(hash).await? {
            return Ok(());
        }
        let bytes = self
            .results
            .get(hash, blindfold_job::RESULT_BUNDLE_LIMIT)
            .await?;
        self.store.put(bytes).await?;
        tracing::info!(job = job_id, result = %hex::encode(hash), "result published");
        Ok(())
    }

    /// Computes (or finds already computed) the job's result bundle and
    /// returns its hash, keeping it in the worker's private results. Each
    /// unit's result is stored and recorded as soon as it exists, so a
    /// crash loses at most the unit in progress.
    async fn compute(
        self: &Arc<Self>,
        p: &Prepared,
    ) -> Result<blindfold_protocol::types::Hash, WorkerError> {
        let ctx = &p.ctx;
        let job_id = ctx.job_id;
        if let Some(hash) = self.state.job(job_id).and_then(|r| r.result_hash()) {
            if self.results.contains(&hash).await? {
                tracing::info!(job = job_id, "result already computed before a restart");
                return Ok(hash);
            }
        }
        let total_pbs = ctx.pbs_per_input().saturating_mul(ctx.inputs.len() as u64);
        let started = Instant::now();
        let units = ctx.units();
        let mut bundle = ResultBundle::default();
        for n in 0..units.len() {
            if self.shutting_down() {
                return Err(WorkerError::Shutdown);
            }
            let (first, bytes) = match self.known_item(p, &units, n).await {
                Some(item) => item,
                None => self.compute_item(p, &units, n, started).await?,
            };
            bundle.items.push((first, bytes));
        }
        let hash = self.results.put(bundle.to_bytes()).await?;
        self.state.update_job(job_id, |r| {
            r.result = Some(hex::encode(hash));
            r.phase = Phase::Computed;
        })?;
        tracing::info!(
            job = job_id,
            videos = ctx.inputs.len(),
            units = bundle.items.len(),
            pbs = total_pbs,
            seconds = format!("{:.1}", started.elapsed().as_secs_f64()),
            result = %hex::encode(hash),
            "computed"
        );
        Ok(hash)
    }

    /// Whether this worker can compute the whole job before its commit
    /// deadline, with the configured safety margin. The cost is the job's
    /// operation count priced at this worker's own measured throughput for
    /// the job's scheme (the state file keeps the operations its earlier
    /// units ran and the milliseconds they took). The count is known from
    /// the plan before any work ([`JobContext::ops`]): under TFHE the
    /// pipeline's bootstraps per input; under BFV the multiplications and
    /// rotations of each unit, which for packed lv-area units depend on the
    /// inputs' packing classes (read by `prepare`). Without a measured
    /// throughput (a first job under the scheme) it computes the first
    /// unit now (kept as a partial result, so nothing is lost) and
    /// extrapolates per input. `Some(why)` when it cannot make it: then it
    /// does not offer, and risks no bond on a deadline it would miss.
    ///
    /// [`JobContext::ops`]: blindfold_job::JobContext::ops
    async fn infeasible(
        self: &Arc<Self>,
        p: &Prepared,
        job: &JobInfo,
    ) -> Result<Option<String>, WorkerError> {
        let n = p.ctx.inputs.len();
        if n == 0 {
            return Ok(None);
        }
        let job_id = p.ctx.job_id;
        let rate = self
            .state
            .throughput(p.ctx.scheme().name())
            .and_then(|t| t.millis_per_op());
        // The whole job's operations; 0 if the plan cannot say (it can:
        // `prepare` checked the params against the dataset).
        let ops = match p.ctx.ops(&p.classes) {
            Ok(ops) => ops,
            Err(e) => {
                tracing::warn!(job = job_id, "no static operation count: {e}");
                Default::default()
            }
        };
        let total = ops.total();
        let measured = self.state.job(job_id).and_then(|r| r.input_ms);
        let (per_input, basis) = match (rate, total, measured) {
            (Some(ms_per_op), total, _) if total > 0 => {
                let ops_per_input = total as f64 / n as f64;
                let what = if ops.pbs > 0 {
                    format!("{ops_per_input:.0} PBS")
                } else {
                    format!("{ops_per_input:.1} multiplications and rotations")
                };
                (
                    ops_per_input * ms_per_op / 1e3,
                    format!("{what} per input at {ms_per_op:.1} ms each, measured here"),
                )
            }
            (_, _, Some(ms)) => (ms as f64 / 1e3, "measured here".to_string()),
            _ => {
                // Timed even if a crash left its result behind: a read is no
                // measure of the work.
                let started = Instant::now();
                let units = p.ctx.units();
                self.compute_item(p, &units, 0, started).await?;
                let first_unit = units[0].len().max(1);
                let ms = u64::try_from(started.elapsed().as_millis() / first_unit as u128)
                    .unwrap_or(u64::MAX);
                self.state.update_job(job_id, |r| r.input_ms = Some(ms))?;
                (
                    ms as f64 / 1e3,
                    "measured here on its first unit".to_string(),
                )
            }
        };
        let needed = estimate_seconds(per_input, n, self.config.safety_margin);
        let clock = self.market.state().await?.clock;
        let left = job.commit_deadline.saturating_sub(clock) as f64 / 1e3;
        if needed <= left {
            tracing::info!(
                job = p.ctx.job_id,
                "feasible: about {needed:.0} s of work for {n} inputs ({basis}), {left:.0} s left"
            );
            return Ok(None);
        }
        Ok(Some(format!(
            "infeasible: about {needed:.0} s of work for {n} inputs ({per_input:.2} s per \
             input: {basis}; safety margin {}), {left:.0} s before the commit deadline",
            self.config.safety_margin
        )))
    }

    /// Unit `n` of `units` (the job's, `JobContext::units`): its result
    /// item (its first submission, its bytes), if an earlier run stored it.
    async fn known_item(
        &self,
        p: &Prepared,
        units: &[&[Input]],
        n: usize,
    ) -> Option<(u64, Vec<u8>)> {
        let job_id = p.ctx.job_id;
        let first = units.get(n)?.first()?.index;
        let hash = self
            .state
            .job(job_id)
            .and_then(|r| r.partial.get(&first).and_then(|h| parse_hash(h)))?;
        match self
            .results
            .get(&hash, p.ctx.result_item_limit().unwrap_or(RESULT_LIMIT))
            .await
        {
            Ok(bytes) => {
                tracing::info!(
                    job = job_id,
                    unit = n + 1,
                    of = units.len(),
                    "reusing the result computed before a restart (or before claiming)"
                );
                Some((first, bytes))
            }
            Err(e) => {
                tracing::warn!(
                    job = job_id,
                    "stored partial result unusable ({e}); recomputing"
                );
                None
            }
        }
    }

    /// Evaluates unit `n` of `units` (the job's, `JobContext::units`),
    /// logging progress (`started`: when the job's computation began), and
    /// stores and records its result item.
    async fn compute_item(
        self: &Arc<Self>,
        p: &Prepared,
        units: &[&[Input]],
        n: usize,
        started: Instant,
    ) -> Result<(u64, Vec<u8>), WorkerError> {
        let ctx = &p.ctx;
        let job_id = ctx.job_id;
        let unit = units[n];
        // Every unit but the last is full.
        let done_inputs = n * units[0].len();
        let per_video = ctx.pbs_per_input();
        let total_pbs = per_video.saturating_mul(ctx.inputs.len() as u64);
        let done_pbs = per_video.saturating_mul(done_inputs as u64);
        let mut videos = Vec::with_capacity(unit.len());
        for input in unit {
            videos.push(self.load_video(p, input).await?);
        }
        let first = unit[0].index;
        let progress = Progress::new();
        let unit_started = Instant::now();
        let worker = self.clone();
        let key = p.server_key.clone();
        let params = ctx.spec.params.clone();
        let task_progress = progress.clone();
        let mut task = tokio::task::spawn_blocking(move || {
            worker
                .pool
                .install(|| evaluate_unit(&key, &params, &videos, &task_progress))
        });
        let (bytes, ops) = loop {
            tokio::select! {
                out = &mut task => break out,
                _ = tokio::time::sleep(PROGRESS_EVERY) => {
                    let done = done_pbs + progress.pbs_done();
                    let elapsed = started.elapsed().as_secs_f64();
                    let eta = if done > 0 { elapsed * (total_pbs.saturating_sub(done)) as f64 / done as f64 } else { f64::NAN };
                    tracing::info!(
                        job = job_id,
                        unit = n + 1,
                        of = units.len(),
                        "computing: {done}/{total_pbs} PBS ({:.0}%), ETA {eta:.0} s",
                        100.0 * done as f64 / total_pbs.max(1) as f64
                    );
                }
            }
        }
        .map_err(|e| WorkerError::Config(format!("evaluation task failed: {e}")))?
        .map_err(|source| WorkerError::Fhe { job: job_id, source })?;
        if ops.pbs == 0 {
            tracing::info!(
                job = job_id,
                unit = n + 1,
                of = units.len(),
                videos = unit.len(),
                "computed: {} multiplications, {} rotations",
                ops.multiplications,
                ops.rotations
            );
        }
        let millis = u64::try_from(unit_started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let counted = ops.total();
        let hash = self.results.put(bytes.clone()).await?;
        // The unit's result and the worker's throughput, in one state write.
        self.state.update(|s| {
            let t = s
                .throughput
                .entry(ctx.scheme().name().to_string())
                .or_default();
            t.ops = t.ops.saturating_add(counted);
            t.millis = t.millis.saturating_add(millis);
            s.jobs
                .entry(job_id)
                .or_insert_with(JobRecord::new)
                .partial
                .insert(first, hex::encode(hash));
        })?;
        Ok((first, bytes))
    }
}

/// Seconds a job of `inputs` inputs needs at `per_input` seconds each, with
/// a safety `margin` (1.5: half as long again).
fn estimate_seconds(per_input: f64, inputs: usize, margin: f64) -> f64 {
    per_input * inputs as f64 * margin
}

#[cfg(test)]
mod tests {
    use super::estimate_seconds;

    #[test]
    fn estimate_scales_with_inputs_and_margin() {
        assert_eq!(estimate_seconds(2.0, 10, 1.5), 30.0);
        assert_eq!(estimate_seconds(0.5, 0, 1.5), 0.0);
        assert!(estimate_seconds(1.0, 100, 2.0) > estimate_seconds(1.0, 100, 1.5));
    }
}
