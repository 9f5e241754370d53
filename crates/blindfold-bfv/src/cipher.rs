//! One ciphertext: encryption into fhe.rs's seeded wire form, bounded and
//! validated decoding, decryption into slots.
//!
//! Encryption is fhe.rs's symmetric RLWE encryption written out here, for
//! one reason: fhe.rs 0.1.1 draws the seed of the uniform polynomial `a`
//! from its thread RNG, whatever RNG the caller passes, so a test could
//! never fix an input's bytes from a seed. Here every random choice comes
//! from the caller's RNG (a CSPRNG seeded from the OS in production):
//!
//! ```text
//! a  = Poly::random_from_seed(seed)      (seed: 32 bytes from the RNG)
//! e  <- centred binomial, variance 10     (from the RNG)
//! c0 = e - a*s + Delta*m,  c1 = a
//! ```
//!
//! The bytes are fhe.rs's own seeded `Ciphertext` protobuf (c0 and the
//! seed), so `Ciphertext::from_bytes` reads them and re-expands `a`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use fhe::bfv::{BfvParameters, Ciphertext, Encoding, Plaintext};
use fhe::proto::bfv::Ciphertext as CiphertextProto;
use fhe_math::rq::{Poly, Representation};
use fhe_traits::{DeserializeParametrized, FheDecoder, FheDecrypter, FheEncoder, Serialize};
use prost::Message;
use rand09::{CryptoRng, RngCore};

use crate::error::{BfvError, Result};
use crate::keys::ClientKey;
use crate::params::{BfvParamSet, VARIANCE};

/// Encrypts `slots` (each `< t`, at most N of them) under `key` at level 0.
/// Returns the ciphertext's bytes (fhe.rs's seeded protobuf form).
pub(crate) fn encrypt<R: RngCore + CryptoRng>(
    key: &ClientKey,
    slots: &[u64],
    rng: &mut R,
) -> Result<Vec<u8>> {
    let par = key.param_set().parameters();
    let ctx = par
        .context_at_level(0)
        .map_err(BfvError::fhe("pick the level-0 context"))?;
    let pt = Plaintext::try_encode(slots, Encoding::simd(), par)
        .map_err(BfvError::fhe("encode a plaintext"))?;
    // Delta*m, in the NTT domain, as the first polynomial of a trivial ciphertext.
    let zero = Ciphertext::new(
        vec![
            Poly::zero(ctx, Representation::Ntt),
            Poly::zero(ctx, Representation::Ntt),
        ],
        par,
    )
    .map_err(BfvError::fhe("build a trivial ciphertext"))?;
    let trivial = &zero + &pt;

    let mut seed = [0u8; 32];
    rng.fill_bytes(&mut seed);
    let a = Poly::random_from_seed(ctx, Representation::Ntt, seed);
    let s = key.secret_ntt(ctx)?;
    let mut c0 = Poly::small(ctx, Representation::Ntt, VARIANCE, rng)?;
    c0 -= &(&a * s.as_ref());
    c0 += &trivial[0];

    let proto = CiphertextProto {
        c: vec![c0.to_bytes()],
        seed: seed.to_vec(),
        level: 0,
    };
    Ok(proto.encode_to_vec())
}

/// Decodes one ciphertext under `set`, after checking its size, and checks
/// that it is exactly what this crate writes at `level`: two polynomials
/// in the NTT domain, at that level, in canonical bytes (re-encoding gives
/// the same bytes, so no unreduced coefficient and no alternative encoding
/// of the same value gets through).
pub(crate) fn decode(
    bytes: &[u8],
    set: BfvParamSet,
    level: usize,
    what: &'static str,
) -> Result<Ciphertext> {
    let limit = set.ciphertext_limit(level);
    if bytes.len() as u64 > limit {
        return Err(BfvError::TooLarge {
            what,
            size: bytes.len() as u64,
            limit,
        });
    }
    let par: &Arc<BfvParameters> = set.parameters();
    // fhe.rs validates what it decodes; the unwind guard is a second line
    // against a decoder panic on crafted bytes (none is known).
    let ct = catch_unwind(AssertUnwindSafe(|| Ciphertext::from_bytes(bytes, par)))
        .map_err(|_| BfvError::malformed(what, "the fhe.rs decoder panicked on these bytes"))?
        .map_err(|e| BfvError::malformed(what, e.to_string()))?;
    if ct.len() != 2 {
        return Err(BfvError::malformed(
            what,
            format!("{} polynomials, not 2", ct.len()),
        ));
    }
    let want = par
        .context_at_level(level)
        .map_err(BfvError::fhe("pick a context"))?;
    for p in ct.iter() {
        if p.ctx() != want {
            return Err(BfvError::malformed(
                what,
                format!(
                    "a polynomial has {} moduli, not the {} of level {level}",
                    p.ctx().moduli().len(),
                    want.moduli().len()
                ),
            ));
        }
        if p.representation() != &Representation::Ntt {
            return Err(BfvError::malformed(
                what,
                "a polynomial is not in the NTT domain",
            ));
        }
    }
    if ct.to_bytes() != bytes {
        return Err(BfvError::malformed(
            what,
            "not in canonical form (re-encoding changes the bytes)",
        ));
    }
    Ok(ct)
}

/// Decrypts one ciphertext into its N slot values (each `< t`).
pub(crate) fn decrypt(key: &ClientKey, ct: &Ciphertext) -> Result<Vec<u64>> {
    let pt = key
        .secret()
        .try_decrypt(ct)
        .map_err(BfvError::fhe("decrypt"))?;
    Vec::<u64>::try_decode(&pt, Encoding::simd()).map_err(BfvError::fhe("decode slots"))
}

/// Bits of noise in `ct`: the largest |c0 + c1*s - Delta*m| coefficient.
fn noise_bits(key: &ClientKey, ct: &Ciphertext) -> Result<u64> {
    use num_bigint::BigUint;
    let par = key.param_set().parameters();
    let slots = decrypt(key, ct)?;
    let ctx = ct[0].ctx().clone();
    let level = par
        .level_of_context(&ctx)
        .map_err(BfvError::fhe("find a ciphertext's level"))?;
    let pt = Plaintext::try_encode(slots.as_slice(), Encoding::simd_at_level(level), par)
        .map_err(BfvError::fhe("encode a plaintext"))?;
    let zero = Ciphertext::new(
        vec![
            Poly::zero(&ctx, Representation::Ntt),
            Poly::zero(&ctx, Representation::Ntt),
        ],
        par,
    )
    .map_err(BfvError::fhe("build a trivial ciphertext"))?;
    let delta_m = &zero + &pt;
    let s = key.secret_ntt(&ctx)?;
    let mut v = &ct[1] * s.as_ref();
    v += &ct[0];
    v -= &delta_m[0];
    v.change_representation(Representation::PowerBasis);
    let q = ctx.modulus();
    Ok(Vec::<BigUint>::from(&v)
        .iter()
        .map(|c| c.bits().min((q - c).bits()))
        .max()
        .unwrap_or(0))
}

/// Noise budget left in `ct`, in bits: how much more noise decryption
/// tolerates (`log2(q / 2t) - noise`). Decryption is correct while it is > 0.
pub fn noise_budget(key: &ClientKey, ct: &Ciphertext) -> Result<i64> {
    let q_bits = ct[0].ctx().modulus().bits() as i64;
    let t_bits = 64 - i64::from(crate::params::PLAINTEXT.leading_zeros());
    Ok(q_bits - 1 - t_bits - noise_bits(key, ct)? as i64)
}
