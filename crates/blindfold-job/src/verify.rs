//! Verify before decrypt.
//!
//! A result ciphertext comes from untrusted workers. Decrypting a crafted
//! one leaks bits of the client key (the IND-CPA^D attacks on exact FHE), so
//! the data owner decrypts only a result it has matched against its own
//! recomputation from the public inputs. [`JobContext::verify_result`] does
//! that under a [`VerifyPolicy`] and returns a [`Verification`]:
//!
//! - [`Verification::Verified`] holds a [`Verified`] bundle. Only this
//!   module can make one, so a function that takes `&Verified` (the owner's
//!   decryption does) cannot be handed an unchecked bundle.
//! - [`Verification::Mismatch`] says which submissions differ and carries
//!   the correct result, which the owner can challenge with.
//!
//! ## Policies
//!
//! - **`full`** (the default): every input is recomputed and the owner
//!   decrypts *its own* bundle once its hash equals the agreed one. Nothing
//!   a worker wrote is ever decrypted. It costs one more evaluation of the
//!   job.
//! - **`sample:f`**: each result item (one per unit of inputs:
//!   [`JobContext::units`]) is recomputed with probability `f`, chosen by a
//!   keyed hash of the owner's secret and the job, so workers cannot tell
//!   which; the worker's bundle is decrypted when every sampled item
//!   matches byte for byte. A result with `k` forged items passes with
//!   probability about `(1 - f)^k`: a forger who forges one item of a large
//!   job is caught only with probability `f`, and each unverified item it
//!   slips through can leak a few key bits. Use it only where every worker
//!   is accountable, and keep `f` high.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use crate::ResultBundle;
use blindfold_fhe::SchemeServerKey;
use blindfold_market::Input;
use blindfold_protocol::types::{Hash, JobStatus};
use blindfold_store::BlobStore;
use sha2::{Digest, Sha256};

use crate::context::JobContext;
use crate::error::{JobError, Result};
use crate::eval::Recomputed;

/// Largest result bundle read (bytes) where no job is at hand to size it;
/// a job's own reads use [`JobContext::result_bundle_limit`].
pub const RESULT_BUNDLE_LIMIT: u64 = 4 << 30;

/// How much of a result the data owner recomputes before decrypting it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum VerifyPolicy {
    /// Recompute every input; decrypt only the owner's own bundle.
    #[default]
    Full,
    /// Recompute each input with this probability (in (0, 1]).
    Sample(f64),
}

impl FromStr for VerifyPolicy {
    type Err = String;

    /// `full` or `sample:F` with `0 < F <= 1`.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim() {
            "full" => Ok(VerifyPolicy::Full),
            other => {
                let f = other
                    .strip_prefix("sample:")
                    .and_then(|f| f.parse::<f64>().ok())
                    .ok_or_else(|| {
                        format!("verification policy '{s}' is neither 'full' nor 'sample:F'")
                    })?;
                if f > 0.0 && f <= 1.0 {
                    Ok(VerifyPolicy::Sample(f))
                } else {
                    Err(format!(
                        "verification policy '{s}': the sampled fraction must be in (0, 1]"
                    ))
                }
            }
        }
    }
}

impl fmt::Display for VerifyPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyPolicy::Full => f.write_str("full"),
            VerifyPolicy::Sample(x) => write!(f, "sample:{x}"),
        }
    }
}

/// A result bundle that matched the owner's recomputation.
#[derive(Clone, Debug)]
pub struct Verified {
    bundle: ResultBundle,
    units: Vec<Vec<u64>>,
    result_hash: Hash,
    recomputed: usize,
    pbs: u64,
    seconds: f64,
}

impl Verified {
    /// The bundle, safe to decrypt.
    pub fn bundle(&self) -> &ResultBundle {
        &self.bundle
    }

    /// Per bundle item, the submissions of its unit, in order: a unit's
    /// item decrypts to one output per submission.
    pub fn units(&self) -> &[Vec<u64>] {
        &self.units
    }

    /// Its SHA-256 (the agreed result hash on chain).
    pub fn result_hash(&self) -> Hash {
        self.result_hash
    }

    /// Inputs recomputed to verify it.
    pub fn recomputed(&self) -> usize {
        self.recomputed
    }

    /// PBS the recomputation ran.
    pub fn pbs(&self) -> u64 {
        self.pbs
    }

    /// Seconds the recomputation's evaluation took.
    pub fn seconds(&self) -> f64 {
        self.seconds
    }
}

/// The agreed result is not the one the public inputs give.
#[derive(Clone, Debug)]
pub struct Mismatch {
    /// The agreed result hash on chain.
    pub agreed: Hash,
    /// The hash of the correct result.
    pub correct_hash: Hash,
    /// Submissions whose result item differs (or is missing, or extra).
    pub differing: Vec<u64>,
    /// What was found, in words.
    pub reason: String,
    /// The correct result, recomputed in full.
    pub correct: Recomputed,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the agreed result {} is not what the public inputs give ({}): {}",
            hex::encode(self.agreed),
            hex::encode(self.correct_hash),
            self.reason
        )
    }
}

/// The outcome of [`JobContext::verify_result`].
#[derive(Clone, Debug)]
pub enum Verification {
    /// The result checked out.
    Verified(Verified),
    /// It did not; nothing of it may be decrypted.
    Mismatch(Box<Mismatch>),
}

impl JobContext {
    /// Checks the job's agreed result against a recomputation under
    /// `policy` (see the module docs). `secret` keys the sample choice
    /// (the owner's secret); `threads` sizes the pool (`None`: one per core).
    pub async fn verify_result<S: BlobStore>(
        &self,
        store: &S,
        key: Arc<SchemeServerKey>,
        policy: VerifyPolicy,
        secret: &[u8; 32],
        threads: Option<usize>,
        on_input: impl Fn() + Send + Sync + Clone + 'static,
    ) -> Result<Verification> {
        let agreed = self.candidate_result().ok_or_else(|| {
            JobError::invalid(self.job_id, "the job has no agreed result to verify")
        })?;
        if let Some(commitment) = self.job.commitment {
            if commitment != self.commitment(&agreed) {
                return Err(JobError::invalid(
                    self.job_id,
                    "the agreed commitment does not bind the agreed result hash",
                ));
            }
        }
        let units = self.units();
        let members: Vec<Vec<u64>> = units
            .iter()
            .map(|u| u.iter().map(|i| i.index).collect())
            .collect();
        if let VerifyPolicy::Sample(fraction) = policy {
            // An unreadable agreed bundle falls through to the full check.
            if let Ok(theirs) = self.agreed_bundle(store, &agreed).await? {
                let sample = self.sample(fraction, secret);
                let ours = self
                    .recompute(store, key.clone(), &sample, threads, on_input.clone())
                    .await?;
                if differing(&ours.bundle, &theirs, false).is_empty() {
                    return Ok(Verification::Verified(Verified {
                        bundle: theirs,
                        units: members,
                        result_hash: agreed,
                        recomputed: sample.iter().map(|u| u.len()).sum(),
                        pbs: ours.pbs,
                        seconds: ours.seconds,
                    }));
                }
            }
        }
        // Full recomputation: the policy says so, or a sample differed and
        // the correct result is needed to dispute it.
        let ours = self
            .recompute(store, key, &units, threads, on_input)
            .await?;
        if ours.result_hash == agreed {
            return Ok(Verification::Verified(Verified {
                result_hash: agreed,
                units: members,
                recomputed: self.inputs.len(),
                pbs: ours.pbs,
                seconds: ours.seconds,
                bundle: ours.bundle,
            }));
        }
        // Items are keyed by their unit's first submission: name every
        // submission of a differing unit (units are in submission order).
        let submissions_of = |firsts: Vec<u64>| -> Vec<u64> {
            firsts
                .iter()
                .flat_map(|f| match members.binary_search_by_key(f, |m| m[0]) {
                    Ok(u) => members[u].clone(),
                    Err(_) => vec![*f],
                })
                .collect()
        };
        let (differing, reason) = match self.agreed_bundle(store, &agreed).await? {
            Ok(theirs) => {
                let d = submissions_of(differing(&ours.bundle, &theirs, true));
                let reason = format!(
                    "{} of {} submissions differ: {}",
                    d.len(),
                    self.inputs.len(),
                    list(&d)
                );
                (d, reason)
            }
            Err(why) => (self.inputs.iter().map(|i| i.index).collect(), why),
        };
        Ok(Verification::Mismatch(Box::new(Mismatch {
            agreed,
            correct_hash: ours.result_hash,
            differing,
            reason,
            correct: ours,
        })))
    }

    /// The result that stands: the agreed one, or, in a replication-1
    /// job's challenge window, the one result revealed so far.
    pub fn candidate_result(&self) -> Option<Hash> {
        self.job.result_blob_hash.or_else(|| {
            if self.job.status != JobStatus::Challenge {
                return None;
            }
            self.job.claims.iter().find_map(|c| c.result_blob_hash)
        })
    }

    /// The largest result blob of one of the job's units: from the
    /// dataset's geometry and the job's pipeline params, before anything is
    /// read ([`blindfold_fhe::Scheme::result_limit`]).
    pub fn result_item_limit(&self) -> Result<u64> {
        self.scheme()
            .result_limit(&self.spec.params, &self.metadata.geometry)
            .map_err(|e| JobError::invalid(self.job_id, format!("result size limit: {e}")))
    }

    /// The largest result bundle of the job: one item per unit
    /// ([`Self::units`]) of at most [`Self::result_item_limit`] bytes, plus
    /// the bundle's framing ([`ResultBundle::limit`]).
    pub fn result_bundle_limit(&self) -> Result<u64> {
        Ok(ResultBundle::limit(
            self.units().len() as u64,
            self.result_item_limit()?,
        ))
    }

    /// The agreed bundle, or why it cannot be read (missing, over the job's
    /// size limits, malformed, covering other submissions). Store I/O
    /// trouble is an error.
    async fn agreed_bundle<S: BlobStore>(
        &self,
        store: &S,
        agreed: &Hash,
    ) -> Result<std::result::Result<ResultBundle, String>> {
        let units = self.units();
        let item_limit = self.result_item_limit()?;
        let limit = ResultBundle::limit(units.len() as u64, item_limit);
        let bytes = match store.get(agreed, limit).await {
            Ok(bytes) => bytes,
            // Over the limit: refused unread, "job N: agreed result: blob
            // H is S bytes, over the limit of L bytes".
            Err(e) => match JobError::store(self.job_id, "agreed result", e) {
                invalid @ JobError::Invalid { .. } => return Ok(Err(invalid.to_string())),
                other => return Err(other),
            },
        };
        let bundle = match ResultBundle::from_bytes(&bytes) {
            Ok(b) => b,
            Err(e) => return Ok(Err(format!("agreed result: {e}"))),
        };
        if let Some((index, bytes)) = bundle
            .items
            .iter()
            .find(|(_, b)| b.len() as u64 > item_limit)
        {
            return Ok(Err(format!(
                "job {}: the agreed result's item for submission {index} is {} bytes, over \
                 the job's limit of {item_limit} bytes per unit",
                self.job_id,
                bytes.len()
            )));
        }
        let indices: Vec<u64> = bundle.items.iter().map(|(i, _)| *i).collect();
        let expected: Vec<u64> = units.iter().map(|u| u[0].index).collect();
        if indices != expected {
            return Ok(Err(format!(
                "the agreed result has items for submissions {}, the job's units start at {}",
                list(&indices),
                list(&expected)
            )));
        }
        Ok(Ok(bundle))
    }

    /// The units a `sample:fraction` check recomputes: each with
    /// probability `fraction`, by a keyed hash of its first submission (at
    /// least one).
    pub fn sample(&self, fraction: f64, secret: &[u8; 32]) -> Vec<&[Input]> {
        let score = |unit: &[Input]| {
            let input = &unit[0];
            let h: [u8; 32] = Sha256::new()
                .chain_update(b"blindfold/v1/verify-sample")
                .chain_update(secret)
                .chain_update(self.job_id.to_be_bytes())
                .chain_update(input.index.to_be_bytes())
                .finalize()
                .into();
            u64::from_be_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]])
        };
        let threshold = (fraction.clamp(0.0, 1.0) * u64::MAX as f64) as u64;
        let units = self.units();
        let mut picked: Vec<&[Input]> = units
            .iter()
            .filter(|u| fraction >= 1.0 || score(u) < threshold)
            .copied()
            .collect();
        if picked.is_empty() {
            picked.extend(units.iter().min_by_key(|u| score(u)).copied());
        }
        picked
    }
}

/// Items (by their key, the unit's first submission) that differ between
/// `ours` and `theirs`. With `complete`, items of one that the other lacks
/// count too.
fn differing(ours: &ResultBundle, theirs: &ResultBundle, complete: bool) -> Vec<u64> {
    let mut out = Vec::new();
    for (index, bytes) in &ours.items {
        match theirs.items.iter().find(|(i, _)| i == index) {
            Some((_, other)) if other == bytes => {}
            _ => out.push(*index),
        }
    }
    if complete {
        for (index, _) in &theirs.items {
            if !ours.items.iter().any(|(i, _)| i == index) {
                out.push(*index);
            }
        }
    }
    out
}

fn list(indices: &[u64]) -> String {
    const SHOWN: usize = 16;
    let mut s: Vec<String> = indices.iter().take(SHOWN).map(u64::to_string).collect();
    if indices.len() > SHOWN {
        s.push(format!("… ({} in all)", indices.len()));
    }
    format!("[{}]", s.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse_and_print() {
        assert_eq!("full".parse(), Ok(VerifyPolicy::Full));
        assert_eq!("sample:0.25".parse(), Ok(VerifyPolicy::Sample(0.25)));
        assert_eq!(VerifyPolicy::Sample(0.25).to_string(), "sample:0.25");
        for bad in [
            "",
            "half",
            "sample:0",
            "sample:1.5",
            "sample:x",
            "sample:-1",
        ] {
            assert!(bad.parse::<VerifyPolicy>().is_err(), "{bad}");
        }
    }

    #[test]
    fn differing_lists_changed_missing_and_extra_items() {
        let ours = ResultBundle {
            items: vec![(0, vec![1]), (1, vec![2]), (2, vec![3])],
        };
        let theirs = ResultBundle {
            items: vec![(0, vec![1]), (1, vec![9]), (5, vec![3])],
        };
        assert_eq!(differing(&ours, &theirs, false), vec![1, 2]);
        assert_eq!(differing(&ours, &theirs, true), vec![1, 2, 5]);
    }
}

#[cfg(test)]
mod sample_tests {
    use crate::blobs::{BACKEND_CPU, DATASET_FORMAT};
    use crate::{DatasetMetadata, JobSpec, ResultBundle, RESULT_BUNDLE_LIMIT};
    use blindfold_fhe::{Geometry, LvAreaParams, Mask, PipelineParams, Scheme};
    use blindfold_market::Input;
    use blindfold_protocol::types::{JobInfo, JobStatus, PipelineId, Terms};
    use blindfold_store::{BlobStore, DirStore};

    use crate::JobContext;

    fn context(inputs: u64) -> JobContext {
        context_under(Scheme::TFHE, 8, inputs)
    }

    fn context_under(scheme: Scheme, side: u16, inputs: u64) -> JobContext {
        let geometry = Geometry {
            width: side,
            height: side,
            bits: 4,
            frames: 2,
        };
        JobContext {
            job_id: 3,
            job: JobInfo {
                dataset_id: 0,
                researcher: [0; 32],
                pipeline: PipelineId::LvArea,
                params_hash: [0; 32],
                input_digest: [0; 32],
                server_key_hash: [0; 32],
                submission_count: inputs,
                revocation_count: 0,
                epsilon: 0,
                price: 0,
                terms: Terms::default(),
                escrow: 0,
                slashed: 0,
                replication: 1,
                slots: 1,
                offers: vec![],
                challenged: None,
                jury_from: 0,
                commit_deadline: 0,
                round: 0,
                status: JobStatus::Computed,
                requested_at: 0,
                deadline: 0,
                claims: vec![],
                result_blob_hash: None,
                commitment: None,
                released_hash: None,
                shard: None,
                shards: 0,
                shards_computed: 0,
            },
            spec: JobSpec::new(
                scheme,
                PipelineParams::LvArea(LvAreaParams {
                    frames: vec![],
                    mask: Mask::All,
                    threshold: 4,
                }),
            ),
            metadata: DatasetMetadata {
                format: DATASET_FORMAT.into(),
                name: "t".into(),
                param_set: scheme.name().into(),
                geometry,
                preprocessing: String::new(),
                roi: None,
                frame_selection: String::new(),
                server_key: hex::encode([0; 32]),
                backend: BACKEND_CPU.into(),
                aggregates_only: false,
                public_releases: false,
            },
            inputs: (0..inputs)
                .map(|index| Input {
                    index,
                    blob_hash: [index as u8; 32],
                })
                .collect(),
        }
    }

    #[test]
    fn result_limits_come_from_the_dataset_and_the_params() {
        // TFHE lv-area on every pixel of 32x32x2: 2 x 34 key-switched parts.
        let tfhe = context_under(Scheme::TFHE, 32, 10_030);
        let item = tfhe.result_item_limit().expect("limit");
        let g = tfhe.metadata.geometry;
        assert_eq!(
            item,
            Scheme::TFHE
                .result_limit(&tfhe.spec.params, &g)
                .expect("limit")
        );
        assert!((250_000..300_000).contains(&item), "{item}");
        let bundle = tfhe.result_bundle_limit().expect("limit");
        assert_eq!(bundle, ResultBundle::limit(10_030, item));
        // 10,030 such videos: about 2.6 GB, under the old fixed 4 GiB.
        assert!(bundle < RESULT_BUNDLE_LIMIT, "{bundle}");
        // BFV packs 64 videos a unit: 157 units of one packed result each.
        let bfv = context_under(Scheme::BFV, 32, 10_030);
        assert_eq!(bfv.units().len(), 157);
        let item = bfv.result_item_limit().expect("limit");
        assert_eq!(
            bfv.result_bundle_limit().expect("limit"),
            ResultBundle::limit(157, item)
        );
    }

    #[tokio::test]
    async fn agreed_bundles_over_the_job_limits_are_refused() {
        let dir = std::env::temp_dir().join(format!(
            "blindfold-verify-limits-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let store = DirStore::open(&dir).expect("store");
        let ctx = context(2);
        let item = ctx.result_item_limit().expect("limit");
        let limit = ctx.result_bundle_limit().expect("limit");
        // Within the bundle limit, but one item over the per-unit limit.
        let bundle = ResultBundle {
            items: vec![(0, vec![0; item as usize + 1]), (1, vec![])],
        };
        let hash = store.put(bundle.to_bytes()).await.expect("put");
        let why = ctx
            .agreed_bundle(&store, &hash)
            .await
            .expect("no I/O error")
            .expect_err("an item over the limit");
        assert!(
            why.contains("job 3") && why.contains(&format!("limit of {item} bytes")),
            "{why}"
        );
        // Over the bundle limit: the store refuses it unread.
        let bundle = ResultBundle {
            items: vec![(0, vec![0; limit as usize]), (1, vec![])],
        };
        let hash = store.put(bundle.to_bytes()).await.expect("put");
        let why = ctx
            .agreed_bundle(&store, &hash)
            .await
            .expect("no I/O error")
            .expect_err("a bundle over the limit");
        assert!(
            why.contains("job 3") && why.contains(&format!("limit of {limit} bytes")),
            "{why}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn samples_are_keyed_sized_and_never_empty() {
        let ctx = context(1000);
        let a = ctx.sample(0.2, &[1; 32]);
        assert_eq!(a, ctx.sample(0.2, &[1; 32]), "same key, same sample");
        assert_ne!(a, ctx.sample(0.2, &[2; 32]), "another key, another sample");
        assert!((150..250).contains(&a.len()), "about 20%: {}", a.len());
        assert_eq!(ctx.sample(1.0, &[1; 32]), ctx.units());
        let small = context(3);
        let tiny = small.sample(0.000_001, &[1; 32]);
        assert_eq!(tiny.len(), 1, "at least one unit is always recomputed");
    }

    #[test]
    fn bfv_lv_area_runs_in_units_of_64_and_samples_whole_units() {
        let tfhe = context_under(Scheme::TFHE, 32, 130);
        assert_eq!(tfhe.units().len(), 130, "TFHE: one input per unit");
        let ctx = context_under(Scheme::BFV, 32, 130);
        let sizes: Vec<usize> = ctx.units().iter().map(|u| u.len()).collect();
        assert_eq!(sizes, [64, 64, 2]);
        assert_eq!(ctx.units()[1][0].index, 64);
        let sample = ctx.sample(0.5, &[3; 32]);
        assert!(sample.iter().all(|u| ctx.units().contains(u)));
        // Geometry too large for one ciphertext: one video per unit again.
        let big = context_under(Scheme::BFV, 112, 5);
        assert_eq!(big.units().len(), 5);
    }

    #[test]
    fn job_ops_add_up_the_units_static_counts() {
        // TFHE: the bootstraps of every input.
        let tfhe = context(5);
        let pbs = tfhe.spec.params.pbs_count(&tfhe.metadata.geometry).unwrap();
        assert!(pbs > 0);
        let ops = tfhe.ops(&[0; 5]).unwrap();
        assert_eq!((ops.pbs, ops.total()), (5 * pbs, 5 * pbs));
        assert!(tfhe.ops(&[0; 4]).is_err(), "one class per input");

        // BFV lv-area on 32x32: units of 64, 4 classes. In client order
        // (index mod 4) a full unit is 16 packs of 7 multiplications and
        // 10 rotations, gathered with 15 rotations; the last unit of 2
        // videos is one pack.
        let ctx = context_under(Scheme::BFV, 32, 130);
        let classes: Vec<u8> = ctx.inputs.iter().map(|i| (i.index % 4) as u8).collect();
        let ops = ctx.ops(&classes).unwrap();
        assert_eq!(ops.pbs, 0);
        assert_eq!(ops.multiplications, 2 * 16 * 7 + 7);
        assert_eq!(ops.rotations, 2 * (16 * 10 + 15) + 10);
        // The same videos all in one class: one pack each, far more work.
        let same = ctx.ops(&[0; 130]).unwrap();
        assert_eq!(same.multiplications, 130 * 7);
        assert!(same.total() > 3 * ops.total());

        // Not packed (112x112: 4 ciphertexts a video): per video, the plan's count.
        let big = context_under(Scheme::BFV, 112, 5);
        let one = big
            .spec
            .params
            .bfv_plan(&big.metadata.geometry)
            .unwrap()
            .counts();
        let ops = big.ops(&[0; 5]).unwrap();
        assert_eq!(
            (ops.multiplications, ops.rotations),
            (5 * one.multiplications, 5 * one.rotations)
        );
        assert!(one.expensive() > 0);
    }
}
