//! Definitions shared by the Blindfold marketplace contract (`no_std`, wasm) and
//! the off-chain crates (chain layer, worker, client), so that both sides encode,
//! decode and hash exactly the same things.
//!
//! Parts, in reading order:
//! - [`ids`]: ids and primitives ([`Hash`], [`DatasetId`], [`JobId`], ...)
//!   and [`PipelineId`]: the vocabulary [`hash`] and [`types`] share.
//! - [`types`]: the dataset [`Policy`], and what the contract stores and
//!   returns: [`DatasetInfo`], [`JobInfo`] with its [`Claim`]s and [`Terms`],
//!   [`WorkerInfo`], the admin [`Params`] and the money [`Totals`]
//!   (re-exporting [`ids`]).
//! - [`error`]: [`Error`], the contract's one error enum (every message returns
//!   `Result<_, Error>`).
//! - [`hash`]: the byte layouts and SHA-256 digests: the result
//!   [`commitment`](hash::commitment_with), its [`seal`](hash::seal_with), the
//!   running submission and revocation digests and the job
//!   [`input digest`](hash::input_digest_with).
//! - [`draw`]: the stake-weighted draw that assigns a round's slots among
//!   the workers that offered.
//! - [`selectors`]: the fixed 4-byte selector of every contract message.
//! - `events` (feature `ink`): the `#[ink::event]` types the contract emits.
//!
//! Features: `std` (host builds), `sha2` (the [`hash::Sha2`] backend; the
//! contract leaves it off and uses the chain's SHA-256 host function), `ink`
//! (SCALE `Encode`/`Decode`/`TypeInfo` on every type, ink! storage layout under
//! `std`, and the events).
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod draw;
pub mod error;
#[cfg(feature = "ink")]
pub mod events;
pub mod hash;
pub mod ids;
pub mod selectors;
pub mod types;

pub use error::Error;
pub use types::*;
