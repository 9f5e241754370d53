//! Deterministic TFHE pipelines on encrypted, preprocessed medical videos.
//!
//! Usable with no chain at all: the data owner generates keys and encrypts a
//! [`PlainVideo`] into an [`EncryptedVideo`] blob; a worker runs a pipeline
//! with the [`ServerKey`] ([`evaluate`]) and publishes the
//! [`EncryptedResult`] blob; the data owner decrypts it. Every pipeline also
//! has a plaintext twin ([`PipelineParams::plaintext`]) that returns exactly
//! what decryption returns.
//!
//! Parts, top-down:
//! * [`params`]: the pinned parameter set [`ParamSet::V1`], encodings, size limits.
//! * [`keys`]: key generation and `safe_serialize` / `safe_deserialize_conformant` loading.
//! * [`video`]: [`PlainVideo`] (validated) and the encrypted video blob.
//! * [`pipelines`]: `lv-area`, `conv3x3`, `histogram`, `linear-model`: params
//!   (with a canonical encoding and params hash), plaintext twins, PBS formulas.
//! * [`eval`]: the engine the pipelines compile to (PBS jobs, leveled parts,
//!   range and noise bookkeeping) and [`Progress`] reporting.
//! * [`result`]: [`evaluate`], the result blob and its decryption.
//! * [`error`]: [`FheError`].
//!
//! # What a verifier must match
//!
//! A result blob is reproducible bit for bit when the verifier uses:
//! * `tfhe = "=1.8.2"` with features `shortint`, `integer`,
//!   `experimental-force_fft_algo_dif4` (fixed FFT plan instead of one chosen
//!   by timing) and `pbs-stats`, `default-features = false`, and
//!   `tfhe-versionable = "=0.8.0"` (pinned in the workspace `Cargo.lock`);
//! * the parameter set named in the dataset metadata ([`ParamSet::name`]);
//! * the same server key bytes (the hash recorded on chain);
//! * the CPU backend (a GPU build is not bit-identical; a job names its backend).
//!
//! The thread count does not matter: every PBS is computed independently
//! with a fixed algorithm, and parts are accumulated with exact wrapping
//! integer arithmetic, so any scheduling gives the same bits (tested with 1
//! and 2 rayon threads). No tfhe integer-level operation (whose carry
//! propagation strategy depends on `rayon::current_num_threads()`) and no
//! multi-bit PBS is used.

pub mod error;
pub mod eval;
pub mod keys;
pub mod params;
pub mod pipelines;
pub mod result;
pub mod video;

pub use error::{FheError, Result};
pub use eval::{measure_pbs_latency, Progress};
pub use keys::{ClientKey, CompressedServerKey, ServerKey};
pub use params::ParamSet;
pub use pipelines::{
    Conv3x3Params, Feature, FeatureKind, HistogramParams, LinearModelParams, LvAreaParams, Mask,
    PipelineId, PipelineParams, PlainOutput,
};
pub use result::{evaluate, EncryptedResult};
pub use video::{EncryptedVideo, Geometry, PlainVideo};

/// tfhe's process-wide count of blind rotations (feature `pbs-stats`).
/// It counts every PBS of every thread of the process; use
/// [`Progress::pbs_done`] for the PBS of one evaluation.
pub fn tfhe_global_pbs_count() -> u64 {
    tfhe::shortint::server_key::get_pbs_count()
}

/// Reset tfhe's process-wide PBS counter.
pub fn tfhe_reset_global_pbs_count() {
    tfhe::shortint::server_key::reset_pbs_count();
}
