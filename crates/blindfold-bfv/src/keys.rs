//! Keys: the data owner's [`ClientKey`] and the public [`ServerKey`]
//! (the "evaluation keys" a worker computes with).
//!
//! The server key is the relinearisation key plus one Galois key per
//! rotation the pipelines use: column rotations by 1, 2, 4, ..., 2048 and
//! the row swap. Each Galois key is its own fhe.rs `EvaluationKey`, so key
//! generation consumes the RNG in a fixed order: fhe.rs builds a multi-key
//! `EvaluationKey` by iterating a `HashSet`, whose order changes between
//! processes, which would make keys from a fixed seed differ run to run.
//!
//! Server key bytes (after the [`wire`](crate::wire) header):
//!
//! ```text
//! relin    item     fhe.rs RelinearizationKey protobuf
//! count    u8       number of Galois keys (V1: 12 column rotations + the row swap)
//! count x  step u32 (0 = row swap, else the column rotation) + item (EvaluationKey protobuf)
//! ```

use std::sync::Arc;

use fhe::bfv::{
    BfvParameters, Ciphertext, EvaluationKey, EvaluationKeyBuilder, Multiplicator,
    RelinearizationKey, SecretKey,
};
use fhe::proto::bfv::{
    EvaluationKey as EvaluationKeyProto, KeySwitchingKey as KeySwitchingKeyProto,
    RelinearizationKey as RelinearizationKeyProto, SecretKey as SecretKeyProto,
};
use fhe_math::rq::traits::TryConvertFrom;
use fhe_math::rq::{Context, Poly, Representation};
use fhe_traits::{DeserializeParametrized, Serialize};
use prost::Message;
use rand09::{CryptoRng, RngCore};
use zeroize::Zeroizing;

use crate::error::{BfvError, Result};
use crate::params::{BfvParamSet, CLIENT_KEY_LIMIT, DEGREE, ROW, SERVER_KEY_LIMIT, VARIANCE};
use crate::wire::{header, put_item, Kind, Reader};

/// Largest accepted single key-switching key inside a server key.
const KSK_LIMIT: u64 = 8 << 20;

/// The column rotations the server key holds: 1, 2, 4, ..., ROW / 2.
pub fn column_steps() -> impl Iterator<Item = usize> {
    (0..ROW.trailing_zeros()).map(|i| 1usize << i)
}

/// The data owner's secret key. Never leaves the owner's key file; its
/// `Debug` prints no key material.
pub struct ClientKey {
    set: BfvParamSet,
    sk: SecretKey,
    /// The secret's coefficients (centred binomial, |c| <= 2 * VARIANCE), for encryption.
    coeffs: Zeroizing<Vec<i64>>,
}

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientKey")
            .field("set", &self.set)
            .finish_non_exhaustive()
    }
}

impl ClientKey {
    /// A fresh key from `rng` (use a CSPRNG seeded from the OS).
    pub fn generate<R: RngCore + CryptoRng>(set: BfvParamSet, rng: &mut R) -> Result<Self> {
        let sk = SecretKey::random(set.parameters(), rng);
        Self::from_secret(set, sk)
    }

    fn from_secret(set: BfvParamSet, sk: SecretKey) -> Result<Self> {
        let proto = Zeroizing::new(sk.to_bytes());
        let decoded = SecretKeyProto::decode(proto.as_slice())
            .map_err(|e| BfvError::malformed("BFV client key", e.to_string()))?;
        let coeffs = Zeroizing::new(decoded.coeffs);
        let bound = 2 * VARIANCE as i64;
        if coeffs.len() != DEGREE || coeffs.iter().any(|c| !(-bound..=bound).contains(c)) {
            return Err(BfvError::malformed(
                "BFV client key",
                format!(
                    "the secret is not a degree-{DEGREE} polynomial with coefficients in +-{bound}"
                ),
            ));
        }
        Ok(ClientKey { set, sk, coeffs })
    }

    /// The parameter set.
    pub fn param_set(&self) -> BfvParamSet {
        self.set
    }

    pub(crate) fn secret(&self) -> &SecretKey {
        &self.sk
    }

    /// The secret as a polynomial in `ctx`, NTT domain.
    pub(crate) fn secret_ntt(&self, ctx: &Arc<Context>) -> Result<Zeroizing<Poly>> {
        let mut s = Zeroizing::new(Poly::try_convert_from(
            self.coeffs.as_slice(),
            ctx,
            false,
            Representation::PowerBasis,
        )?);
        s.change_representation(Representation::Ntt);
        Ok(s)
    }

    /// The evaluation keys for this secret, from `rng`.
    pub fn server_key<R: RngCore + CryptoRng>(&self, rng: &mut R) -> Result<ServerKey> {
        let relin = RelinearizationKey::new(&self.sk, rng)
            .map_err(BfvError::fhe("generate the relinearisation key"))?;
        let mut galois = Vec::new();
        for step in column_steps() {
            let ek = EvaluationKeyBuilder::new(&self.sk)
                .and_then(|mut b| {
                    b.enable_column_rotation(step)?;
                    b.build(rng)
                })
                .map_err(BfvError::fhe("generate a Galois key"))?;
            galois.push((step as u32, ek));
        }
        let row = EvaluationKeyBuilder::new(&self.sk)
            .and_then(|mut b| {
                b.enable_row_rotation()?;
                b.build(rng)
            })
            .map_err(BfvError::fhe("generate the row-rotation key"))?;
        galois.push((0, row));
        ServerKey::new(self.set, relin, galois)
    }

    /// The key file's bytes. Secret: write them only to the owner's key file.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = header(Kind::ClientKey, self.set);
        put_item(&mut out, &Zeroizing::new(self.sk.to_bytes()));
        Zeroizing::new(out)
    }

    /// Reads a key file.
    pub fn from_bytes(bytes: &[u8], set: BfvParamSet) -> Result<Self> {
        let mut r = Reader::open(bytes, Kind::ClientKey, set, CLIENT_KEY_LIMIT)?;
        let item = r.item(CLIENT_KEY_LIMIT)?;
        r.finish()?;
        let sk = SecretKey::from_bytes(item, set.parameters())
            .map_err(|e| BfvError::malformed("BFV client key", e.to_string()))?;
        Self::from_secret(set, sk)
    }
}

/// The public evaluation keys of one dataset, and the multiplier built on
/// them.
pub struct ServerKey {
    set: BfvParamSet,
    relin: RelinearizationKey,
    /// `(step, key)`: step 0 is the row swap, else a column rotation.
    galois: Vec<(u32, EvaluationKey)>,
    mul: Multiplicator,
}

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerKey")
            .field("set", &self.set)
            .field("galois_keys", &self.galois.len())
            .finish_non_exhaustive()
    }
}

impl ServerKey {
    fn new(
        set: BfvParamSet,
        relin: RelinearizationKey,
        galois: Vec<(u32, EvaluationKey)>,
    ) -> Result<Self> {
        let mul = Multiplicator::default(&relin).map_err(BfvError::fhe("set up multiplication"))?;
        Ok(ServerKey {
            set,
            relin,
            galois,
            mul,
        })
    }

    /// The parameter set.
    pub fn param_set(&self) -> BfvParamSet {
        self.set
    }

    pub(crate) fn parameters(&self) -> &'static Arc<BfvParameters> {
        self.set.parameters()
    }

    /// Multiplies two ciphertexts and relinearises.
    pub(crate) fn multiply(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext> {
        self.mul
            .multiply(a, b)
            .map_err(BfvError::fhe("multiply ciphertexts"))
    }

    /// Rotates every row left by `step` (a power of two below ROW), or
    /// swaps the rows (`step` 0).
    pub(crate) fn rotate(&self, ct: &Ciphertext, step: u32) -> Result<Ciphertext> {
        let (_, ek) = self
            .galois
            .iter()
            .find(|(s, _)| *s == step)
            .ok_or_else(|| {
                BfvError::Invalid(format!("the server key has no rotation by {step}"))
            })?;
        if step == 0 {
            ek.rotates_rows(ct).map_err(BfvError::fhe("swap rows"))
        } else {
            ek.rotates_columns_by(ct, step as usize)
                .map_err(BfvError::fhe("rotate columns"))
        }
    }

    /// The key's bytes (public: their SHA-256 goes on chain).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = header(Kind::ServerKey, self.set);
        put_item(&mut out, &self.relin.to_bytes());
        out.push(self.galois.len() as u8);
        for (step, ek) in &self.galois {
            out.extend_from_slice(&step.to_be_bytes());
            put_item(&mut out, &ek.to_bytes());
        }
        out
    }

    /// Reads untrusted server-key bytes: the size first, then every key,
    /// which must be one key per rotation [`ClientKey::server_key`] makes,
    /// in its order, each at level 0 and able to do that rotation.
    pub fn from_bytes(bytes: &[u8], set: BfvParamSet) -> Result<Self> {
        const WHAT: &str = "BFV server key";
        let par = set.parameters();
        let mut r = Reader::open(bytes, Kind::ServerKey, set, SERVER_KEY_LIMIT)?;
        let item = r.item(KSK_LIMIT)?;
        let proto = RelinearizationKeyProto::decode(item)
            .map_err(|e| BfvError::malformed(WHAT, format!("relinearisation key: {e}")))?;
        check_levels("relinearisation key", proto.ksk.as_ref())?;
        let relin = RelinearizationKey::from_bytes(item, par)
            .map_err(|e| BfvError::malformed(WHAT, format!("relinearisation key: {e}")))?;
        let expected: Vec<u32> = column_steps()
            .map(|s| s as u32)
            .chain(std::iter::once(0))
            .collect();
        let count = r.u8()?;
        if usize::from(count) != expected.len() {
            return Err(BfvError::malformed(
                WHAT,
                format!("{count} Galois keys, not {}", expected.len()),
            ));
        }
        let mut galois = Vec::with_capacity(expected.len());
        for &want in &expected {
            let step = r.u32()?;
            if step != want {
                return Err(BfvError::malformed(
                    WHAT,
                    format!("Galois key for step {step} where step {want} belongs"),
                ));
            }
            let item = r.item(KSK_LIMIT)?;
            let proto = EvaluationKeyProto::decode(item)
                .map_err(|e| BfvError::malformed(WHAT, format!("Galois key {step}: {e}")))?;
            if proto.ciphertext_level != 0 || proto.evaluation_key_level != 0 || proto.gk.len() != 1
            {
                return Err(BfvError::malformed(
                    WHAT,
                    format!(
                        "Galois key {step}: {} keys at levels {}/{}, not one key at level 0",
                        proto.gk.len(),
                        proto.ciphertext_level,
                        proto.evaluation_key_level
                    ),
                ));
            }
            check_levels("Galois key", proto.gk[0].ksk.as_ref())?;
            let ek = EvaluationKey::from_bytes(item, par)
                .map_err(|e| BfvError::malformed(WHAT, format!("Galois key {step}: {e}")))?;
            let ok = if step == 0 {
                ek.supports_row_rotation()
            } else {
                ek.supports_column_rotation_by(step as usize)
            };
            if !ok {
                return Err(BfvError::malformed(
                    WHAT,
                    format!("the Galois key for step {step} does not rotate by {step}"),
                ));
            }
            galois.push((step, ek));
        }
        r.finish()?;
        Self::new(set, relin, galois)
    }
}

/// A key-switching key inside a server key must work on level-0
/// ciphertexts with level-0 key material (what [`ClientKey::server_key`] makes).
fn check_levels(what: &str, ksk: Option<&KeySwitchingKeyProto>) -> Result<()> {
    match ksk {
        Some(k) if k.ciphertext_level == 0 && k.ksk_level == 0 => Ok(()),
        Some(k) => Err(BfvError::malformed(
            "BFV server key",
            format!(
                "{what} for ciphertext level {} with key level {}, not 0",
                k.ciphertext_level, k.ksk_level
            ),
        )),
        None => Err(BfvError::malformed(
            "BFV server key",
            format!("{what} has no key-switching key"),
        )),
    }
}
