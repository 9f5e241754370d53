//! Deterministic pipelines on encrypted, preprocessed medical videos, under
//! TFHE (this crate's engine) or BFV (`blindfold-bfv`), chosen per dataset.
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
//! * [`scheme`]: [`Scheme`] and the scheme-generic keys, videos and
//!   [`evaluate_unit`] that the job layer, the worker and the client call.
//! * [`error`]: the error type [`FheError`].
//!
//! # Cost model (why the pipelines are cheap)
//!
//! * Pixels are encrypted with 20 bits of headroom, so any plaintext-weighted
//!   sum of pixels (a convolution, a pooled intensity) is leveled and exact:
//!   `conv3x3` needs no PBS at all.
//! * Every non-linear step is one lookup table per pixel (or per packed
//!   group of 1- and 2-bit pixels); one blind rotation can serve 16
//!   functions of its input (strided sample extraction), which makes the
//!   16-bin `histogram` cost one PBS per pixel.
//! * Outputs are never carry-propagated homomorphically: an encrypted value
//!   is a list of parts whose ranges and noise the planner tracks exactly;
//!   the client adds the decrypted parts. So the PBS count of a pipeline is
//!   exactly its number of non-linear pixel evaluations (formulas in each
//!   pipeline module; [`PipelineParams::pbs_count`]).
//! * Result parts are stored compactly where the noise allows: key-switched
//!   with the server key's own KS32 key-switching key to the small LWE key
//!   (918 + 1 coefficients of 32 bits, 3.7 kB instead of 16.4 kB). Every
//!   PBS-output part qualifies (lv-area, histogram, linear-model's dark
//!   counts: about 4.4x smaller results); leveled sums of 4-bit pixels
//!   (conv3x3, intensity sums) have too wide a range and stay under the big
//!   key. The choice is a pure function of the plan ([`result`]).
//!
//! # What a verifier must match
//!
//! A result blob is reproducible bit for bit when the verifier uses:
//! * `tfhe = "=1.8.2"` with `default-features = false` and the features
//!   `shortint`, `integer`, `experimental-force_fft_algo_dif4` (a fixed FFT
//!   plan instead of one chosen by timing) and `pbs-stats`, plus
//!   `tfhe-versionable = "=0.8.0"`, as pinned by the workspace and its
//!   `Cargo.lock` (`tfhe-fft 0.10.1`, `tfhe-csprng 0.10.0`, `pulp 0.22.3`);
//! * the parameter set named in the dataset metadata ([`ParamSet::name`],
//!   today `blindfold-v1-2_2-ks32-pbs`) and this crate's pipeline semantics
//!   (the params hash is over [`PipelineParams::canonical_bytes`]);
//! * the same server key bytes (whose hash is on chain);
//! * the CPU backend. A GPU build (feature `gpu`) is not bit-identical and a
//!   job's spec names its backend.
//!
//! The thread count does not matter: every PBS is computed independently
//! with a fixed algorithm, and parts are accumulated with exact wrapping
//! integer arithmetic, so any scheduling gives the same bits (tested with
//! rayon pools of 1 and 2 threads, across runs, and with a server key
//! re-loaded from bytes). No tfhe integer-level operation (whose carry
//! propagation depends on `rayon::current_num_threads()`) and no multi-bit
//! PBS is used.
//!
//! AVX-512: the workspace builds tfhe without its default `avx512` feature;
//! this crate's feature `avx512` forwards it. On this project's AVX-512
//! machine (avx512f/bw/dq/vl/ifma/vbmi) both builds give byte-identical
//! bytes for the server key expanded from a compressed key (which runs the
//! FFT of the bootstrapping key) and for lv-area, histogram and
//! linear-model results, with 1 and 2 threads (`examples/determinism_probe.rs`
//! run from both builds on the same key and video files). The AVX-512
//! build's PBS was about 10% faster. Not checked: CPUs without AVX2/FMA,
//! where tfhe-fft falls back to scalar code; a verifier should use an
//! x86-64 CPU with at least AVX2 + FMA.

pub mod error;
pub mod eval;
pub mod keys;
pub mod params;
pub mod pipelines;
pub mod result;
pub mod scheme;
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
pub use scheme::{
    evaluate_bytes, evaluate_unit, Ops, Scheme, SchemeClientKey, SchemeServerKey, SchemeVideo,
};
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
