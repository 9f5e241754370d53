//! The pinned, named and versioned BFV parameter set, and the size limits
//! used when loading untrusted bytes.
//!
//! There is one set today, [`BfvParamSet::V1`]:
//!
//! | | |
//! |---|---|
//! | ring degree N | 8192 (8192 SIMD slots, as 2 rows of 4096) |
//! | plaintext modulus t | 114689 = 7 * 2^14 + 1, prime, 17 bits, t = 1 mod 2N (SIMD) |
//! | ciphertext modulus q | 5 primes of 43, 43, 44, 44, 44 bits: 218 bits |
//! | error | centred binomial, variance 10 (fhe.rs's default) |
//! | secret | centred binomial, variance 10 (fhe.rs's `SecretKey::random`) |
//!
//! **Security.** q and N are fhe.rs 0.1.1's `default_parameters_128` for
//! N = 8192, and t is the 17-bit prime that function picks for N = 8192.
//! log2 q = 218 is the largest modulus the homomorphicencryption.org
//! standard (Albrecht et al., 2018, Table 1) allows at N = 8192 for
//! 128-bit classical security (its tables hold for ternary secrets and for
//! secrets drawn from the error distribution, as fhe.rs's are). The moduli are written
//! out here rather than taken from fhe.rs at run time, so a later fhe.rs
//! cannot change them under a dataset.

use std::sync::{Arc, OnceLock};

use fhe::bfv::{BfvParameters, BfvParametersBuilder};

use crate::error::{BfvError, Result};

/// Ring degree N: the number of SIMD slots.
pub const DEGREE: usize = 8192;
/// Slots per SIMD row. Column rotations move slots within a row.
pub const ROW: usize = DEGREE / 2;
/// The plaintext modulus t.
pub const PLAINTEXT: u64 = 114_689;
/// The ciphertext moduli q_0 .. q_4 (fhe.rs `default_parameters_128`, N = 8192).
pub const MODULI: [u64; 5] = [
    0x7ff_fffd_8001,
    0x7ff_fffc_8001,
    0xfff_ffff_c001,
    0xfff_fff6_c001,
    0xfff_ffeb_c001,
];
/// Variance of the centred binomial error distribution.
pub const VARIANCE: usize = 10;
/// Largest pixel bit width: the pipelines' polynomials interpolate on 0 .. 2^4.
pub const MAX_PIXEL_BITS: u8 = 4;

/// Largest accepted client key file, in bytes (V1: about 70 kB).
pub const CLIENT_KEY_LIMIT: u64 = 1 << 20;
/// Largest accepted server key (relinearisation + Galois keys), in bytes (V1: about 17 MB).
pub const SERVER_KEY_LIMIT: u64 = 64 << 20;
/// Largest number of ciphertexts in a video or a result blob.
pub const MAX_CIPHERTEXTS: usize = 4096;

/// A pinned BFV parameter set. Its [`name`](BfvParamSet::name) goes into
/// dataset metadata and job specs; a verifier must use the same one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BfvParamSet {
    /// `blindfold-bfv-v1-n8192-t114689`: see the module docs.
    V1,
}

impl BfvParamSet {
    /// Every known parameter set.
    pub const ALL: [BfvParamSet; 1] = [BfvParamSet::V1];

    /// The stable name recorded in dataset metadata.
    pub const fn name(self) -> &'static str {
        match self {
            BfvParamSet::V1 => "blindfold-bfv-v1-n8192-t114689",
        }
    }

    /// The stable numeric id used in binary headers.
    pub const fn id(self) -> u16 {
        match self {
            BfvParamSet::V1 => 1,
        }
    }

    /// Look a parameter set up by name.
    pub fn from_name(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| BfvError::UnknownParamSet(name.to_owned()))
    }

    /// Look a parameter set up by id.
    pub fn from_id(id: u16) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.id() == id)
            .ok_or_else(|| BfvError::UnknownParamSet(format!("id {id}")))
    }

    /// The fhe.rs parameters: one shared `Arc` per process, because fhe.rs
    /// requires every key, plaintext and ciphertext of one computation to
    /// hold the same `Arc`.
    pub fn parameters(self) -> &'static Arc<BfvParameters> {
        static V1: OnceLock<Arc<BfvParameters>> = OnceLock::new();
        match self {
            BfvParamSet::V1 => V1.get_or_init(|| {
                BfvParametersBuilder::new()
                    .set_degree(DEGREE)
                    .set_plaintext_modulus(PLAINTEXT)
                    .set_moduli(&MODULI)
                    .set_variance(VARIANCE)
                    .build_arc()
                    // The constants above are fixed and tested (params_build).
                    .unwrap_or_else(|e| panic!("the pinned BFV V1 parameters are invalid: {e}"))
            }),
        }
    }

    /// The deepest level (one modulus left): where results are stored.
    pub fn last_level(self) -> usize {
        MODULI.len() - 1
    }

    /// Bytes of one serialised polynomial at `level` (fhe.rs packs each
    /// residue in the bit width of its modulus).
    pub fn poly_bytes(self, level: usize) -> usize {
        MODULI[..MODULI.len() - level.min(MODULI.len() - 1)]
            .iter()
            .map(|q| (64 - q.leading_zeros() as usize) * DEGREE / 8)
            .sum()
    }

    /// Largest accepted serialised ciphertext at `level`: two polynomials
    /// and their protobuf framing.
    pub fn ciphertext_limit(self, level: usize) -> u64 {
        (2 * self.poly_bytes(level) + 256) as u64
    }
}

impl std::fmt::Display for BfvParamSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_build() {
        let p = BfvParamSet::V1.parameters();
        assert_eq!(p.degree(), DEGREE);
        assert_eq!(p.plaintext(), PLAINTEXT);
        assert_eq!(p.moduli(), &MODULI);
        assert_eq!(p.moduli_sizes().iter().sum::<usize>(), 218);
        assert_eq!(PLAINTEXT % (2 * DEGREE as u64), 1);
        assert!(Arc::ptr_eq(p, BfvParamSet::V1.parameters()));
    }

    #[test]
    fn names_round_trip() {
        for p in BfvParamSet::ALL {
            assert_eq!(BfvParamSet::from_name(p.name()).unwrap(), p);
            assert_eq!(BfvParamSet::from_id(p.id()).unwrap(), p);
        }
        assert!(BfvParamSet::from_name("blindfold-v1-2_2-ks32-pbs").is_err());
    }

    #[test]
    fn pinned_moduli_are_fhe_rs_defaults() {
        let defaults = BfvParameters::default_parameters_128(17)
            .unwrap()
            .find(|p| p.degree() == DEGREE)
            .unwrap();
        assert_eq!(defaults.moduli(), &MODULI);
        assert_eq!(defaults.plaintext(), PLAINTEXT);
    }
}
