//! Batched exact BFV (fhe.rs) for Blindfold's pipelines.
//!
//! A second scheme beside TFHE (`blindfold-fhe`): the data owner picks one
//! per dataset. BFV packs 8192 pixels into one ciphertext and evaluates a
//! pipeline on all of them at once, with a handful of ciphertext
//! multiplications and rotations instead of one bootstrap per pixel.
//!
//! Parts, top-down:
//! * [`params`]: the pinned parameter set [`BfvParamSet::V1`] (N = 8192,
//!   t = 114689, 218-bit q: 128-bit security) and size limits.
//! * [`keys`]: [`ClientKey`] (the owner's secret) and [`ServerKey`]
//!   (relinearisation + Galois keys), with bounded, validated loading.
//! * [`layout`]: where each pixel sits in the slots ([`Shape`], [`Layout`]).
//! * [`video`]: [`Video`], one encrypted video per blob.
//! * [`program`]: [`Program`], what a pipeline compiles to, its [`Plan`]
//!   and [`evaluate`].
//! * [`pack`]: many videos per ciphertext and many packs per result
//!   ciphertext ([`pack::evaluate_packed`], [`pack::PackedResult`]: lv-area).
//! * [`eval`]: the counted operations ([`Counts`]) programs are built from.
//! * [`result`]: [`BfvResult`], the result blob at the last level, and its decryption.
//! * [`cipher`] (crate-private): encryption, validated decoding, noise.
//! * [`wire`]: the blob header, written once.
//!
//! The plaintext twin of every program is the pipeline's own, in
//! `blindfold-fhe`; its tests check `decrypt(bfv(x)) == plain(x)`.
//!
//! # Determinism
//!
//! Evaluation is integer arithmetic mod q (RNS, NTT) with no floating
//! point and no randomness, and each ciphertext is evaluated on its own, so
//! a result's bytes depend only on the server key and the input bytes: not
//! on the thread count, the run or the CPU (`tests/determinism.rs` fixes keys,
//! inputs and the result hash from a seed).

mod cipher;
pub mod error;
pub mod eval;
pub mod keys;
pub mod layout;
pub mod pack;
pub mod params;
pub mod program;
pub mod result;
pub mod video;
pub mod wire;

pub use cipher::noise_budget;
pub use error::{BfvError, Result};
pub use eval::Counts;
pub use keys::{ClientKey, ServerKey};
pub use layout::{Layout, Shape};
pub use params::BfvParamSet;
pub use program::{evaluate, Part, Plan, Program, Term};
pub use result::BfvResult;
pub use video::Video;

pub use rand09::SeedableRng;
/// Re-exported so callers can seed key generation and encryption without
/// naming fhe.rs's rand version.
pub use rand_chacha09::ChaCha20Rng;

/// A CSPRNG seeded from the operating system, for keys and encryption.
pub fn os_rng() -> ChaCha20Rng {
    use rand09::RngCore;
    let mut seed = [0u8; 32];
    rand09::rng().fill_bytes(&mut seed);
    ChaCha20Rng::from_seed(seed)
}
