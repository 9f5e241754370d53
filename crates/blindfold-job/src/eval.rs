//! Evaluating a job's inputs.
//!
//! - [`evaluate_unit`]: one unit of input ciphertexts
//!   ([`JobContext::units`]: one video, or a run of BFV videos packed
//!   together) into the bytes of its result item. The worker calls it once
//!   per unit (storing each result as it goes, so a crash loses one unit
//!   at most).
//! - [`JobContext::recompute`]: the given units in a rayon pool into a
//!   [`ResultBundle`], its SHA-256 and the commitment. `verify` and the
//!   data owner's verification call it.
//!
//! Both end in the same bytes: evaluation under either scheme (TFHE or
//! BFV, dispatched once, in `blindfold_fhe::evaluate_bytes`) is
//! deterministic bit for bit whatever the thread count, and the bundle's
//! layout is fixed ([`ResultBundle::to_bytes`]).

use std::sync::Arc;
use std::time::Instant;

use crate::ResultBundle;
use blindfold_fhe::{FheError, Ops, PipelineParams, Progress, SchemeServerKey, SchemeVideo};
use blindfold_market::Input;
use blindfold_protocol::types::Hash;
use blindfold_store::BlobStore;
use rayon::prelude::*;

use crate::context::JobContext;
use crate::error::{JobError, Result};

/// Runs `params` on one unit of inputs under the dataset's scheme: the
/// bytes of its result blob, which the result bundle holds, and the
/// operations it took. `progress` counts TFHE bootstraps as they happen.
pub fn evaluate_unit(
    key: &SchemeServerKey,
    params: &PipelineParams,
    videos: &[SchemeVideo],
    progress: &Progress,
) -> std::result::Result<(Vec<u8>, Ops), FheError> {
    blindfold_fhe::evaluate_unit(key, params, videos, progress)
}

/// A recomputed result.
#[derive(Clone, Debug)]
pub struct Recomputed {
    /// The result bundle: one item per unit, in the order given.
    pub bundle: ResultBundle,
    /// SHA-256 of the bundle's bytes.
    pub result_hash: Hash,
    /// The commitment to it (meaningful when every live input was recomputed).
    pub commitment: Hash,
    /// Programmable bootstraps run (TFHE).
    pub pbs: u64,
    /// Every expensive operation run (bootstraps; BFV multiplications and rotations).
    pub ops: Ops,
    /// Threads of the pool.
    pub threads: usize,
    /// Seconds the evaluation took (fetching excluded).
    pub seconds: f64,
}

impl JobContext {
    /// Fetches the inputs of `units` (each a run of [`JobContext::units`])
    /// and evaluates them with `key` on a pool of `threads` threads
    /// (`None`: one per core), calling `on_input` once per input as each
    /// unit finishes.
    pub async fn recompute<S: BlobStore>(
        &self,
        store: &S,
        key: Arc<SchemeServerKey>,
        units: &[&[Input]],
        threads: Option<usize>,
        on_input: impl Fn() + Send + Sync + 'static,
    ) -> Result<Recomputed> {
        let mut fetched = Vec::with_capacity(units.len());
        for unit in units {
            let mut bytes = Vec::with_capacity(unit.len());
            for input in *unit {
                bytes.push((*input, self.fetch_input_bytes(store, input).await?));
            }
            fetched.push(bytes);
        }
        let mut builder = rayon::ThreadPoolBuilder::new();
        if let Some(n) = threads {
            builder = builder.num_threads(n.max(1));
        }
        let pool = builder.build().map_err(|e| JobError::Pool {
            threads: threads.unwrap_or(0),
            reason: e.to_string(),
        })?;
        let threads = pool.current_num_threads();
        let ctx = self.clone();
        let (items, ops, seconds) = tokio::task::spawn_blocking(move || -> Result<_> {
            let start = Instant::now();
            let items = pool.install(|| {
                fetched
                    .par_iter()
                    .map(|unit| {
                        let videos = unit
                            .iter()
                            .map(|(input, bytes)| ctx.decode_input(input, bytes))
                            .collect::<Result<Vec<_>>>()?;
                        // One counter per evaluation: `evaluate` restarts it at 0.
                        let progress = Progress::new();
                        let (result, ops) =
                            evaluate_unit(&key, &ctx.spec.params, &videos, &progress).map_err(
                                |source| JobError::Fhe {
                                    job: ctx.job_id,
                                    source,
                                },
                            )?;
                        for _ in unit {
                            on_input();
                        }
                        let first = unit.first().map_or(0, |(input, _)| input.index);
                        Ok((first, result, ops))
                    })
                    .collect::<Result<Vec<_>>>()
            })?;
            Ok((items, start.elapsed().as_secs_f64()))
        })
        .await
        .map_err(|e| JobError::task("evaluation", e))?
        .map(|(items, seconds)| {
            let mut ops = Ops::default();
            for (_, _, o) in &items {
                ops += *o;
            }
            let items = items.into_iter().map(|(i, bytes, _)| (i, bytes)).collect();
            (items, ops, seconds)
        })?;
        let bundle = ResultBundle { items };
        let result_hash = blindfold_store::sha256(&bundle.to_bytes());
        Ok(Recomputed {
            commitment: self.commitment(&result_hash),
            bundle,
            result_hash,
            pbs: ops.pbs,
            ops,
            threads,
            seconds,
        })
    }
}
