//! One path from a job to its commitment.
//!
//! A worker that computes a job, anyone who re-runs it (`blindfold verify`)
//! and the data owner who checks a result before decrypting it must produce
//! bit-identical result bundles, so the path from "job id on chain" to
//! "commitment" is written here once and all three call it. Parts, in the
//! order a job is handled:
//!
//! - [`blobs`]: the public blob formats the roles exchange through the
//!   store ([`DatasetMetadata`], [`JobSpec`], [`ResultBundle`],
//!   [`ReleasedResult`]), whose hashes the chain records.
//! - [`context`]: [`JobContext`], a job's public context (spec, dataset
//!   metadata, live inputs), each piece checked against what the chain
//!   recorded; its *units* (one input, or a run of BFV inputs packed into
//!   one ciphertext); fetching one input ciphertext and the server key.
//! - [`eval`]: [`evaluate_unit`], the one call of the FHE pipeline per
//!   unit, and [`JobContext::recompute`], units in a thread pool into a
//!   [`ResultBundle`] and its commitment.
//! - [`verify`]: [`JobContext::verify_result`], which compares the agreed
//!   result with a recomputation under a [`VerifyPolicy`] and returns either
//!   a [`Verified`] result (the only thing the data owner's client can
//!   decrypt) or a [`Mismatch`] naming what differed.
//! - [`error`]: [`JobError`], why a job cannot be loaded, evaluated or verified.

pub mod blobs;
pub mod context;
pub mod error;
pub mod eval;
pub mod verify;

pub use blobs::{BlobError, DatasetMetadata, JobSpec, ReleasedResult, ResultBundle};
pub use context::JobContext;
pub use error::{JobError, Result};
pub use eval::{evaluate_unit, Recomputed};
pub use verify::{Mismatch, Verification, Verified, VerifyPolicy, RESULT_BUNDLE_LIMIT};
