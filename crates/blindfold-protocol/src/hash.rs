//! Byte layouts and SHA-256 digests that bind a job to its inputs and result.
//!
//! Every digest is `SHA-256(domain tag ‖ fixed-width fields)`, integers
//! big-endian, hashes as their 32 raw bytes, no length prefixes (every field
//! has a fixed width, and each domain tag fixes the layout that follows it).
//!
//! - [`commitment_with`]: what a worker's result commits to.
//! - [`seal_with`]: the commitment bound to the worker's account, posted first.
//! - [`submissions_step_with`] / [`revocations_step_with`]: running digests the
//!   contract keeps per dataset (O(1) storage), and their folds
//!   [`submissions_digest_with`] / [`revocations_digest_with`] for off-chain code.
//! - [`input_digest_with`]: "submissions `0..n` minus these `r` revocations".
//! - [`shard_input_digest_with`]: a shard's input digest, "submissions
//!   `first..end` of that job's inputs", which its commitment binds in place
//!   of the job's; [`shards_step_with`] folds the shards' agreed commitments,
//!   in order, into the sharded job's result digest ([`shards_digest_with`]).
//! - [`offer_seed_with`]: a worker's sealed draw secret, posted with its offer.
//! - [`draw_start_with`], [`draw_step_with`], [`draw_pick_with`]: the draw's
//!   seed from the revealed secrets, and each slot's random number from it
//!   (used by [`crate::draw`]).
//!
//! Each function is generic over a [`Sha256`] backend: [`Sha2`] (the `sha2`
//! crate, feature `sha2`) off chain, the chain's host function in the contract.
//! The `*_preimage` functions are the single definition of each layout. With
//! feature `sha2`, the unsuffixed functions ([`commitment`], [`seal`], ...) use
//! [`Sha2`].

use crate::ids::{Account, DatasetId, Hash, JobId, PipelineId};

/// Domain tag of [`commitment_with`].
pub const RESULT_DOMAIN: &[u8; 19] = b"blindfold/v1/result";
/// Domain tag of [`seal_with`].
pub const SEAL_DOMAIN: &[u8; 17] = b"blindfold/v1/seal";
/// Domain tag of [`submissions_step_with`].
pub const SUBMISSION_DOMAIN: &[u8; 23] = b"blindfold/v1/submission";
/// Domain tag of [`revocations_step_with`].
pub const REVOCATION_DOMAIN: &[u8; 23] = b"blindfold/v1/revocation";
/// Domain tag of [`input_digest_with`].
pub const INPUT_DOMAIN: &[u8; 18] = b"blindfold/v1/input";
/// Domain tag of [`shard_input_digest_with`].
pub const SHARD_DOMAIN: &[u8; 18] = b"blindfold/v1/shard";
/// Domain tag of [`shards_step_with`].
pub const SHARDS_DOMAIN: &[u8; 19] = b"blindfold/v1/shards";
/// Domain tag of [`offer_seed_with`].
pub const OFFER_DOMAIN: &[u8; 18] = b"blindfold/v1/offer";
/// Domain tag of [`draw_start_with`].
pub const DRAW_DOMAIN: &[u8; 17] = b"blindfold/v1/draw";

/// The running digests' starting value (no submissions, no revocations).
pub const EMPTY_DIGEST: Hash = [0u8; 32];

/// Length of [`commitment_preimage`]: 19 + 8 + 4 + 1 + 4 × 32.
pub const COMMITMENT_PREIMAGE_LEN: usize = 160;
/// Length of [`seal_preimage`]: 17 + 32 + 32.
pub const SEAL_PREIMAGE_LEN: usize = 81;
/// Length of [`submissions_step_preimage`]: 23 + 32 + 8 + 32.
pub const SUBMISSION_PREIMAGE_LEN: usize = 95;
/// Length of [`revocations_step_preimage`]: 23 + 32 + 8.
pub const REVOCATION_PREIMAGE_LEN: usize = 63;
/// Length of [`input_digest_preimage`]: 18 + 4 + 32 + 8 + 32 + 8.
pub const INPUT_PREIMAGE_LEN: usize = 102;
/// Length of [`shard_input_preimage`]: 18 + 8 + 32 + 4 + 8 + 8.
pub const SHARD_INPUT_PREIMAGE_LEN: usize = 78;
/// Length of [`shards_step_preimage`]: 19 + 32 + 32.
pub const SHARDS_STEP_PREIMAGE_LEN: usize = 83;
/// Length of [`offer_seed_preimage`]: 18 + 8 + 1 + 32 + 32.
pub const OFFER_PREIMAGE_LEN: usize = 91;
/// Length of [`draw_start_preimage`]: 17 + 8 + 1.
pub const DRAW_START_PREIMAGE_LEN: usize = 26;
/// Length of [`draw_step_preimage`]: 32 + 32.
pub const DRAW_STEP_PREIMAGE_LEN: usize = 64;
/// Length of [`draw_pick_preimage`]: 32 + 1.
pub const DRAW_PICK_PREIMAGE_LEN: usize = 33;

/// A SHA-256 implementation.
pub trait Sha256 {
    /// SHA-256 of `data`.
    fn sha256(data: &[u8]) -> Hash;
}

/// SHA-256 from the `sha2` crate.
#[cfg(feature = "sha2")]
#[derive(Debug, Clone, Copy)]
pub enum Sha2 {}

#[cfg(feature = "sha2")]
impl Sha256 for Sha2 {
    fn sha256(data: &[u8]) -> Hash {
        use sha2::Digest as _;
        sha2::Sha256::digest(data).into()
    }
}

/// Fills a fixed-size buffer field by field.
struct Writer<const N: usize> {
    buf: [u8; N],
    at: usize,
}

impl<const N: usize> Writer<N> {
    fn new() -> Self {
        Writer {
            buf: [0u8; N],
            at: 0,
        }
    }

    fn put(mut self, bytes: &[u8]) -> Self {
        let end = self.at.saturating_add(bytes.len());
        // The layouts are constants and checked by the tests, so this never
        // falls outside the buffer.
        if let Some(dst) = self.buf.get_mut(self.at..end) {
            dst.copy_from_slice(bytes);
        }
        self.at = end;
        self
    }

    fn finish(self) -> [u8; N] {
        debug_assert_eq!(self.at, N, "preimage layout length");
        self.buf
    }
}

/// The 160-byte commitment preimage:
///
/// | bytes   | field                                  |
/// |---------|----------------------------------------|
/// | 0..19   | `"blindfold/v1/result"` (ASCII)        |
/// | 19..27  | job id, u64 big-endian                 |
/// | 27..31  | dataset id, u32 big-endian             |
/// | 31      | pipeline id byte                       |
/// | 32..64  | params hash (job-spec blob SHA-256)    |
/// | 64..96  | input digest ([`input_digest_with`])   |
/// | 96..128 | server key hash                        |
/// | 128..160| result blob hash (SHA-256 of the blob) |
pub fn commitment_preimage(
    job_id: JobId,
    dataset_id: DatasetId,
    pipeline: PipelineId,
    params_hash: &Hash,
    input_digest: &Hash,
    server_key_hash: &Hash,
    result_blob_hash: &Hash,
) -> [u8; COMMITMENT_PREIMAGE_LEN] {
    Writer::new()
        .put(RESULT_DOMAIN)
        .put(&job_id.to_be_bytes())
        .put(&dataset_id.to_be_bytes())
        .put(&[pipeline.as_u8()])
        .put(params_hash)
        .put(input_digest)
        .put(server_key_hash)
        .put(result_blob_hash)
        .finish()
}

/// `SHA-256("blindfold/v1/result" ‖ job id u64 BE ‖ dataset id u32 BE ‖
/// pipeline u8 ‖ params hash ‖ input digest ‖ server key hash ‖ result blob hash)`;
/// layout in [`commitment_preimage`].
pub fn commitment_with<H: Sha256>(
    job_id: JobId,
    dataset_id: DatasetId,
    pipeline: PipelineId,
    params_hash: &Hash,
    input_digest: &Hash,
    server_key_hash: &Hash,
    result_blob_hash: &Hash,
) -> Hash {
    H::sha256(&commitment_preimage(
        job_id,
        dataset_id,
        pipeline,
        params_hash,
        input_digest,
        server_key_hash,
        result_blob_hash,
    ))
}

/// The 81-byte seal preimage: `"blindfold/v1/seal"` (17 bytes) ‖ commitment
/// (32) ‖ worker account id (32).
pub fn seal_preimage(commitment: &Hash, worker: &Account) -> [u8; SEAL_PREIMAGE_LEN] {
    Writer::new()
        .put(SEAL_DOMAIN)
        .put(commitment)
        .put(worker)
        .finish()
}

/// `SHA-256("blindfold/v1/seal" ‖ commitment ‖ worker account)`: what a worker
/// posts before revealing, so that no one can copy its commitment.
pub fn seal_with<H: Sha256>(commitment: &Hash, worker: &Account) -> Hash {
    H::sha256(&seal_preimage(commitment, worker))
}

/// The 95-byte submission step preimage: `"blindfold/v1/submission"` (23 bytes)
/// ‖ previous digest (32) ‖ submission index u64 BE (8) ‖ blob hash (32).
pub fn submissions_step_preimage(
    prev: &Hash,
    index: u64,
    blob_hash: &Hash,
) -> [u8; SUBMISSION_PREIMAGE_LEN] {
    Writer::new()
        .put(SUBMISSION_DOMAIN)
        .put(prev)
        .put(&index.to_be_bytes())
        .put(blob_hash)
        .finish()
}

/// One step of a dataset's running submission digest:
/// `SHA-256("blindfold/v1/submission" ‖ prev ‖ index u64 BE ‖ blob hash)`.
/// The digest of no submissions is [`EMPTY_DIGEST`]; submission `i` is folded
/// in with `index = i`.
pub fn submissions_step_with<H: Sha256>(prev: &Hash, index: u64, blob_hash: &Hash) -> Hash {
    H::sha256(&submissions_step_preimage(prev, index, blob_hash))
}

/// The 63-byte revocation step preimage: `"blindfold/v1/revocation"` (23 bytes)
/// ‖ previous digest (32) ‖ revoked submission index u64 BE (8).
pub fn revocations_step_preimage(prev: &Hash, index: u64) -> [u8; REVOCATION_PREIMAGE_LEN] {
    Writer::new()
        .put(REVOCATION_DOMAIN)
        .put(prev)
        .put(&index.to_be_bytes())
        .finish()
}

/// One step of a dataset's running revocation digest:
/// `SHA-256("blindfold/v1/revocation" ‖ prev ‖ revoked index u64 BE)`, folded in
/// revocation order from [`EMPTY_DIGEST`].
pub fn revocations_step_with<H: Sha256>(prev: &Hash, index: u64) -> Hash {
    H::sha256(&revocations_step_preimage(prev, index))
}

/// The 102-byte input digest preimage: `"blindfold/v1/input"` (18 bytes) ‖
/// dataset id u32 BE (4) ‖ submissions digest (32) ‖ submission count u64 BE (8)
/// ‖ revocations digest (32) ‖ revocation count u64 BE (8).
pub fn input_digest_preimage(
    dataset_id: DatasetId,
    submissions_digest: &Hash,
    submission_count: u64,
    revocations_digest: &Hash,
    revocation_count: u64,
) -> [u8; INPUT_PREIMAGE_LEN] {
    Writer::new()
        .put(INPUT_DOMAIN)
        .put(&dataset_id.to_be_bytes())
        .put(submissions_digest)
        .put(&submission_count.to_be_bytes())
        .put(revocations_digest)
        .put(&revocation_count.to_be_bytes())
        .finish()
}

/// What a job computes over: submissions `0..submission_count` minus the
/// revocations folded into `revocations_digest`. Layout in
/// [`input_digest_preimage`].
pub fn input_digest_with<H: Sha256>(
    dataset_id: DatasetId,
    submissions_digest: &Hash,
    submission_count: u64,
    revocations_digest: &Hash,
    revocation_count: u64,
) -> Hash {
    H::sha256(&input_digest_preimage(
        dataset_id,
        submissions_digest,
        submission_count,
        revocations_digest,
        revocation_count,
    ))
}

/// The 78-byte shard input preimage: `"blindfold/v1/shard"` (18 bytes) ‖
/// sharded job id u64 BE (8) ‖ the job's input digest (32) ‖ shard index u32
/// BE (4) ‖ first submission index u64 BE (8) ‖ end (one past the last) u64
/// BE (8).
pub fn shard_input_preimage(
    job_id: JobId,
    job_input_digest: &Hash,
    index: u32,
    first: u64,
    end: u64,
) -> [u8; SHARD_INPUT_PREIMAGE_LEN] {
    Writer::new()
        .put(SHARD_DOMAIN)
        .put(&job_id.to_be_bytes())
        .put(job_input_digest)
        .put(&index.to_be_bytes())
        .put(&first.to_be_bytes())
        .put(&end.to_be_bytes())
        .finish()
}

/// What shard `index` of job `job_id` computes over: the live submissions
/// `first..end` of the job's inputs (`job_input_digest`). A shard's
/// commitment binds this in place of the job's input digest, so it binds
/// the shard's range. Layout in [`shard_input_preimage`].
pub fn shard_input_digest_with<H: Sha256>(
    job_id: JobId,
    job_input_digest: &Hash,
    index: u32,
    first: u64,
    end: u64,
) -> Hash {
    H::sha256(&shard_input_preimage(
        job_id,
        job_input_digest,
        index,
        first,
        end,
    ))
}

/// The 83-byte shards step preimage: `"blindfold/v1/shards"` (19 bytes) ‖
/// prev (32) ‖ the shard's agreed commitment (32).
pub fn shards_step_preimage(prev: &Hash, commitment: &Hash) -> [u8; SHARDS_STEP_PREIMAGE_LEN] {
    Writer::new()
        .put(SHARDS_DOMAIN)
        .put(prev)
        .put(commitment)
        .finish()
}

/// One step of a sharded job's result digest, folded over its shards'
/// agreed commitments in shard order from [`EMPTY_DIGEST`]. Layout in
/// [`shards_step_preimage`].
pub fn shards_step_with<H: Sha256>(prev: &Hash, commitment: &Hash) -> Hash {
    H::sha256(&shards_step_preimage(prev, commitment))
}

/// A sharded job's result digest: its shards' agreed commitments, in shard
/// order, folded with [`shards_step_with`].
pub fn shards_digest_with<H: Sha256>(commitments: &[Hash]) -> Hash {
    commitments
        .iter()
        .fold(EMPTY_DIGEST, |prev, c| shards_step_with::<H>(&prev, c))
}

/// The running submission digest of `blob_hashes` (submission `i` = element `i`).
pub fn submissions_digest_with<H: Sha256>(blob_hashes: &[Hash]) -> Hash {
    blob_hashes
        .iter()
        .zip(0u64..)
        .fold(EMPTY_DIGEST, |prev, (blob, index)| {
            submissions_step_with::<H>(&prev, index, blob)
        })
}

/// The running revocation digest of `revoked` (submission indices in
/// revocation order).
pub fn revocations_digest_with<H: Sha256>(revoked: &[u64]) -> Hash {
    revoked.iter().fold(EMPTY_DIGEST, |prev, index| {
        revocations_step_with::<H>(&prev, *index)
    })
}

/// [`commitment_with`] using [`Sha2`].
#[cfg(feature = "sha2")]
pub fn commitment(
    job_id: JobId,
    dataset_id: DatasetId,
    pipeline: PipelineId,
    params_hash: &Hash,
    input_digest: &Hash,
    server_key_hash: &Hash,
    result_blob_hash: &Hash,
) -> Hash {
    commitment_with::<Sha2>(
        job_id,
        dataset_id,
        pipeline,
        params_hash,
        input_digest,
        server_key_hash,
        result_blob_hash,
    )
}

/// [`seal_with`] using [`Sha2`].
#[cfg(feature = "sha2")]
pub fn seal(commitment: &Hash, worker: &Account) -> Hash {
    seal_with::<Sha2>(commitment, worker)
}

/// [`offer_seed_with`] using [`Sha2`].
#[cfg(feature = "sha2")]
pub fn offer_seed(job_id: JobId, round: u8, worker: &Account, secret: &Hash) -> Hash {
    offer_seed_with::<Sha2>(job_id, round, worker, secret)
}

/// [`submissions_step_with`] using [`Sha2`].
#[cfg(feature = "sha2")]
pub fn submissions_step(prev: &Hash, index: u64, blob_hash: &Hash) -> Hash {
    submissions_step_with::<Sha2>(prev, index, blob_hash)
}

/// [`revocations_step_with`] using [`Sha2`].
#[cfg(feature = "sha2")]
pub fn revocations_step(prev: &Hash, index: u64) -> Hash {
    revocations_step_with::<Sha2>(prev, index)
}

/// [`input_digest_with`] using [`Sha2`].
#[cfg(feature = "sha2")]
pub fn input_digest(
    dataset_id: DatasetId,
    submissions_digest: &Hash,
    submission_count: u64,
    revocations_digest: &Hash,
    revocation_count: u64,
) -> Hash {
    input_digest_with::<Sha2>(
        dataset_id,
        submissions_digest,
        submission_count,
        revocations_digest,
        revocation_count,
    )
}

/// [`submissions_digest_with`] using [`Sha2`].
#[cfg(feature = "sha2")]
pub fn submissions_digest(blob_hashes: &[Hash]) -> Hash {
    submissions_digest_with::<Sha2>(blob_hashes)
}

/// [`shard_input_digest_with`] using [`Sha2`].
#[cfg(feature = "sha2")]
pub fn shard_input_digest(
    job_id: JobId,
    job_input_digest: &Hash,
    index: u32,
    first: u64,
    end: u64,
) -> Hash {
    shard_input_digest_with::<Sha2>(job_id, job_input_digest, index, first, end)
}

/// [`shards_digest_with`] using [`Sha2`].
#[cfg(feature = "sha2")]
pub fn shards_digest(commitments: &[Hash]) -> Hash {
    shards_digest_with::<Sha2>(commitments)
}

/// [`revocations_digest_with`] using [`Sha2`].
#[cfg(feature = "sha2")]
pub fn revocations_digest(revoked: &[u64]) -> Hash {
    revocations_digest_with::<Sha2>(revoked)
}

/// The 91-byte offer preimage: `"blindfold/v1/offer"` (18 bytes) ‖ job id
/// u64 BE (8) ‖ round (1) ‖ worker account id (32) ‖ secret (32).
pub fn offer_seed_preimage(
    job_id: JobId,
    round: u8,
    worker: &Account,
    secret: &Hash,
) -> [u8; OFFER_PREIMAGE_LEN] {
    Writer::new()
        .put(OFFER_DOMAIN)
        .put(&job_id.to_be_bytes())
        .put(&[round])
        .put(worker)
        .put(secret)
        .finish()
}

/// `SHA-256("blindfold/v1/offer" ‖ job id ‖ round ‖ worker ‖ secret)`: what
/// a worker posts with its offer, and opens (by revealing `secret`) when
/// more workers offered than there are slots. Binding the job, the round
/// and the worker means nobody can copy another's offer and open it.
pub fn offer_seed_with<H: Sha256>(
    job_id: JobId,
    round: u8,
    worker: &Account,
    secret: &Hash,
) -> Hash {
    H::sha256(&offer_seed_preimage(job_id, round, worker, secret))
}

/// The 26-byte draw start preimage: `"blindfold/v1/draw"` (17 bytes) ‖ job
/// id u64 BE (8) ‖ round (1).
pub fn draw_start_preimage(job_id: JobId, round: u8) -> [u8; DRAW_START_PREIMAGE_LEN] {
    Writer::new()
        .put(DRAW_DOMAIN)
        .put(&job_id.to_be_bytes())
        .put(&[round])
        .finish()
}

/// `SHA-256("blindfold/v1/draw" ‖ job id ‖ round)`: the draw seed before
/// any secret is folded in.
pub fn draw_start_with<H: Sha256>(job_id: JobId, round: u8) -> Hash {
    H::sha256(&draw_start_preimage(job_id, round))
}

/// The 64-byte draw step preimage: previous seed (32) ‖ revealed secret (32).
pub fn draw_step_preimage(prev: &Hash, secret: &Hash) -> [u8; DRAW_STEP_PREIMAGE_LEN] {
    Writer::new().put(prev).put(secret).finish()
}

/// `SHA-256(prev ‖ secret)`: folds one revealed secret into the draw seed
/// (in offer order). One honest secret makes the seed unpredictable.
pub fn draw_step_with<H: Sha256>(prev: &Hash, secret: &Hash) -> Hash {
    H::sha256(&draw_step_preimage(prev, secret))
}

/// The 33-byte draw pick preimage: seed (32) ‖ slot (1).
pub fn draw_pick_preimage(seed: &Hash, slot: u8) -> [u8; DRAW_PICK_PREIMAGE_LEN] {
    Writer::new().put(seed).put(&[slot]).finish()
}

/// The random number of draw slot `slot`: the first 16 bytes of
/// `SHA-256(seed ‖ slot)`, as a big-endian u128.
pub fn draw_pick_with<H: Sha256>(seed: &Hash, slot: u8) -> u128 {
    let digest = H::sha256(&draw_pick_preimage(seed, slot));
    let mut head = [0u8; 16];
    head.copy_from_slice(&digest[..16]);
    u128::from_be_bytes(head)
}

#[cfg(all(test, feature = "sha2"))]
mod tests {
    //! Fixed test vectors, computed once with Python's `hashlib` from the
    //! layouts documented above. Any change to a layout fails here.
    use super::*;

    fn hex32(s: &str) -> Hash {
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex");
        }
        out
    }

    const JOB: JobId = 0x0102_0304_0506_0708;
    /// `offer_seed(JOB, 2, [0x55; 32], [0x66; 32])`, by Python's hashlib.
    const OFFER_VECTOR: &str = "5ccc46cd826b039496b5a613530c72873f97403f7223d563e5e58c3528ca9eb1";
    /// `draw_start(JOB, 3)`, by Python's hashlib.
    const DRAW_START_VECTOR: &str =
        "2dd49b2619c7c9a5497c4823fc6a63c92b50468713293ac0378bec010318d7ad";
    const DATASET: DatasetId = 0x0A0B_0C0D;
    /// `shard_input_digest(JOB, [0x22; 32], 3, 16, 24)`, by Python's hashlib.
    const SHARD_INPUT_VECTOR: &str =
        "b7c4cf9997c4563049c58a3b7d9ae6f48fbee84bfb63998e9cd369c40d1a2d7c";
    /// `shards_digest([[1; 32], [2; 32]])`, by Python's hashlib.
    const SHARDS_VECTOR: &str = "b0caf512b877b7df2daee57bd331f004ae4fac6d86278e462b3b87331a6376a4";

    fn vector_commitment() -> Hash {
        commitment(
            JOB,
            DATASET,
            PipelineId::Histogram,
            &[0x11; 32],
            &[0x22; 32],
            &[0x33; 32],
            &[0x44; 32],
        )
    }

    #[test]
    fn commitment_vector() {
        assert_eq!(
            vector_commitment(),
            hex32("02a6632496ad9ead3cd9ca8a799a38915eec0be6076727230b7c6e6c0afa63e4")
        );
    }

    #[test]
    fn commitment_layout_offsets() {
        let pre = commitment_preimage(
            JOB,
            DATASET,
            PipelineId::Histogram,
            &[0x11; 32],
            &[0x22; 32],
            &[0x33; 32],
            &[0x44; 32],
        );
        assert_eq!(&pre[..19], RESULT_DOMAIN);
        assert_eq!(pre[19..27], [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(pre[27..31], [0x0A, 0x0B, 0x0C, 0x0D]);
        assert_eq!(pre[31], 2);
        assert_eq!(pre[32..64], [0x11; 32]);
        assert_eq!(pre[64..96], [0x22; 32]);
        assert_eq!(pre[96..128], [0x33; 32]);
        assert_eq!(pre[128..160], [0x44; 32]);
    }

    #[test]
    fn every_field_changes_the_commitment() {
        let base = vector_commitment();
        let p = PipelineId::Histogram;
        let (a, b, c, d) = (&[0x11; 32], &[0x22; 32], &[0x33; 32], &[0x44; 32]);
        let x = &[0x99; 32];
        let variants = [
            commitment(JOB + 1, DATASET, p, a, b, c, d),
            commitment(JOB, DATASET + 1, p, a, b, c, d),
            commitment(JOB, DATASET, PipelineId::LvArea, a, b, c, d),
            commitment(JOB, DATASET, p, x, b, c, d),
            commitment(JOB, DATASET, p, a, x, c, d),
            commitment(JOB, DATASET, p, a, b, x, d),
            commitment(JOB, DATASET, p, a, b, c, x),
        ];
        for v in variants {
            assert_ne!(v, base);
        }
    }

    #[test]
    fn seal_vector_binds_the_worker() {
        let c = vector_commitment();
        assert_eq!(
            seal(&c, &[0x55; 32]),
            hex32("0356c4e27f1049cbf5e4a8b10c63a225de0bffc7dc10923d0fd31d5a530187c4")
        );
        assert_ne!(seal(&c, &[0x55; 32]), seal(&c, &[0x56; 32]));
        assert_eq!(&seal_preimage(&c, &[0x55; 32])[..17], SEAL_DOMAIN);
    }

    #[test]
    fn running_digests_vectors() {
        let blobs = [[1u8; 32], [2u8; 32], [3u8; 32]];
        let step0 = submissions_step(&EMPTY_DIGEST, 0, &blobs[0]);
        assert_eq!(
            step0,
            hex32("ded24dd3b12483988c7c3ac93c2ea639b7f4c546013c241f8e99c4156ceed11a")
        );
        let subs = submissions_digest(&blobs);
        assert_eq!(
            subs,
            hex32("a25ed60fa08e52ae7319f8bb42c019f19a76abb280120168d1043a66e13f6d84")
        );
        assert_eq!(submissions_digest(&[]), EMPTY_DIGEST);
        let revs = revocations_digest(&[1, 0]);
        assert_eq!(
            revs,
            hex32("9988e558c70d41e4b8be0b55016fe90363f453ab5d722a3e2e6285449f8420e7")
        );
        assert_ne!(revs, revocations_digest(&[0, 1]), "order matters");
        assert_eq!(
            input_digest(7, &subs, 3, &revs, 2),
            hex32("827cee94f0d2e64215414da0cd828db12f8181306fb30e07b75fed0a284fef65")
        );
        assert_eq!(
            input_digest(0, &EMPTY_DIGEST, 0, &EMPTY_DIGEST, 0),
            hex32("8de551b8ae1a71ea5b0ea4af27aeb931efbac942a239da14ba3aca158712ccbd")
        );
    }

    #[test]
    fn preimage_lengths_match_domains() {
        assert_eq!(
            submissions_step_preimage(&EMPTY_DIGEST, 9, &[7; 32])[23..55],
            EMPTY_DIGEST
        );
        assert_eq!(
            revocations_step_preimage(&[5; 32], 9)[55..63],
            9u64.to_be_bytes()
        );
        assert_eq!(
            input_digest_preimage(1, &[1; 32], 2, &[3; 32], 4)[94..102],
            4u64.to_be_bytes()
        );
    }

    #[test]
    fn shard_layouts() {
        let pre = shard_input_preimage(JOB, &[0x22; 32], 3, 16, 24);
        assert_eq!(&pre[..18], SHARD_DOMAIN);
        assert_eq!(pre[18..26], [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(pre[26..58], [0x22; 32]);
        assert_eq!(pre[58..62], 3u32.to_be_bytes());
        assert_eq!(pre[62..70], 16u64.to_be_bytes());
        assert_eq!(pre[70..78], 24u64.to_be_bytes());
        let step = shards_step_preimage(&[1; 32], &[2; 32]);
        assert_eq!(&step[..19], SHARDS_DOMAIN);
        assert_eq!(step[19..51], [1; 32]);
        assert_eq!(step[51..83], [2; 32]);
        assert_eq!(
            shard_input_digest(JOB, &[0x22; 32], 3, 16, 24),
            hex32(SHARD_INPUT_VECTOR)
        );
        assert_eq!(shards_digest(&[[1; 32], [2; 32]]), hex32(SHARDS_VECTOR));
        assert_ne!(
            shards_digest(&[[1; 32], [2; 32]]),
            shards_digest(&[[2; 32], [1; 32]]),
            "order matters"
        );
        assert_eq!(shards_digest(&[]), EMPTY_DIGEST);
    }

    #[test]
    fn offer_and_draw_layouts() {
        let pre = offer_seed_preimage(JOB, 2, &[0x55; 32], &[0x66; 32]);
        assert_eq!(&pre[..18], OFFER_DOMAIN);
        assert_eq!(pre[18..26], [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(pre[26], 2);
        assert_eq!(pre[27..59], [0x55; 32]);
        assert_eq!(pre[59..91], [0x66; 32]);
        let start = draw_start_preimage(JOB, 3);
        assert_eq!(&start[..17], DRAW_DOMAIN);
        assert_eq!(start[17..25], [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(start[25], 3);
        assert_eq!(draw_step_preimage(&[1; 32], &[2; 32])[32..], [2; 32]);
        assert_eq!(draw_pick_preimage(&[1; 32], 7)[32], 7);
        assert_eq!(
            offer_seed_with::<Sha2>(JOB, 2, &[0x55; 32], &[0x66; 32]),
            hex32(OFFER_VECTOR)
        );
        assert_eq!(draw_start_with::<Sha2>(JOB, 3), hex32(DRAW_START_VECTOR));
        assert_ne!(
            offer_seed_with::<Sha2>(JOB, 2, &[0x55; 32], &[0x66; 32]),
            offer_seed_with::<Sha2>(JOB, 2, &[0x56; 32], &[0x66; 32]),
            "the worker is bound"
        );
    }
}
