//! Keys: generation, serialisation with tfhe's `safe_serialize`, and
//! loading of untrusted bytes with `safe_deserialize_conformant` and size limits.
//!
//! * [`ClientKey`]: the data owner's secret key (encrypts videos, decrypts results).
//! * [`ServerKey`]: the evaluation key workers compute with.
//! * [`CompressedServerKey`]: the seeded form of the server key (about 4x
//!   smaller); what the data owner publishes. Workers call
//!   [`CompressedServerKey::decompress`].
//!
//! All three serialise through the tfhe high-level types (`tfhe::ClientKey`,
//! `tfhe::ServerKey`, `tfhe::CompressedServerKey`), so the bytes carry tfhe's
//! versioned header and type name.

use tfhe::core_crypto::prelude::*;
use tfhe::safe_serialization::{safe_deserialize, safe_deserialize_conformant, safe_serialize};
use tfhe::shortint::atomic_pattern::AtomicPatternServerKey;
use tfhe::shortint::client_key::atomic_pattern::AtomicPatternClientKey;

use crate::error::{FheError, Result};
use crate::params::{ParamSet, CLIENT_KEY_LIMIT, COMPRESSED_SERVER_KEY_LIMIT, SERVER_KEY_LIMIT};

/// The data owner's secret key.
#[derive(Clone)]
pub struct ClientKey {
    param_set: ParamSet,
    hl: tfhe::ClientKey,
    sk: tfhe::shortint::ClientKey,
}

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientKey")
            .field("param_set", &self.param_set)
            .finish_non_exhaustive()
    }
}

/// The evaluation key a worker computes with.
#[derive(Clone)]
pub struct ServerKey {
    param_set: ParamSet,
    hl: tfhe::ServerKey,
}

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerKey")
            .field("param_set", &self.param_set)
            .finish_non_exhaustive()
    }
}

/// The seeded (compressed) server key: the form to publish and hash.
#[derive(Clone)]
pub struct CompressedServerKey {
    param_set: ParamSet,
    hl: tfhe::CompressedServerKey,
}

impl std::fmt::Debug for CompressedServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompressedServerKey")
            .field("param_set", &self.param_set)
            .finish_non_exhaustive()
    }
}

impl ClientKey {
    /// Generate a fresh client key (randomness from the OS).
    pub fn generate(param_set: ParamSet) -> Self {
        let hl = tfhe::ClientKey::generate(param_set.config());
        Self::from_hl(param_set, hl)
    }

    fn from_hl(param_set: ParamSet, hl: tfhe::ClientKey) -> Self {
        let sk = hl.clone().into_raw_parts().0.into_raw_parts();
        Self { param_set, hl, sk }
    }

    /// The parameter set of this key.
    pub fn param_set(&self) -> ParamSet {
        self.param_set
    }

    /// Generate the (uncompressed) server key.
    pub fn server_key(&self) -> ServerKey {
        let hl = self.hl.generate_server_key();
        ServerKey::from_hl(self.param_set, hl)
    }

    /// Generate the compressed (seeded) server key.
    pub fn compressed_server_key(&self) -> CompressedServerKey {
        CompressedServerKey {
            param_set: self.param_set,
            hl: self.hl.generate_compressed_server_key(),
        }
    }

    /// Serialise with tfhe's `safe_serialize`.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        safe_serialize(&self.hl, &mut out, CLIENT_KEY_LIMIT).map_err(|e| FheError::Serialize {
            what: "client key",
            reason: e.to_string(),
        })?;
        Ok(out)
    }

    /// Load a client key (at most [`CLIENT_KEY_LIMIT`] bytes) and check that
    /// it uses `param_set`.
    pub fn from_bytes(bytes: &[u8], param_set: ParamSet) -> Result<Self> {
        let hl: tfhe::ClientKey =
            safe_deserialize(bytes, CLIENT_KEY_LIMIT).map_err(|reason| FheError::Deserialize {
                what: "client key",
                reason,
            })?;
        if hl.computation_parameters() != param_set.tfhe_parameters() {
            return Err(FheError::NotConformant {
                what: "client key",
                param_set: param_set.name(),
            });
        }
        // The key material must have the sizes the parameters imply, or
        // encryption would index out of bounds.
        let key = Self::from_hl(param_set, hl);
        let enc = param_set.encoding();
        let small_ok = key
            .small_key()
            .is_some_and(|k| k.lwe_dimension().to_lwe_size().0 == enc.small_lwe_size);
        if key.sk.encryption_key().lwe_dimension().to_lwe_size().0 != enc.lwe_size || !small_ok {
            return Err(FheError::NotConformant {
                what: "client key",
                param_set: param_set.name(),
            });
        }
        Ok(key)
    }

    /// The small LWE key (u32) that the server key's key switch maps to.
    fn small_key(&self) -> Option<LweSecretKeyView<'_, u32>> {
        match &self.sk.atomic_pattern {
            AtomicPatternClientKey::KeySwitch32(k) => Some(k.small_lwe_secret_key()),
            AtomicPatternClientKey::Standard(_) => None,
        }
    }

    /// The LWE key ciphertexts are encrypted and decrypted under, with its
    /// encryption noise distribution.
    pub(crate) fn encryption_key_and_noise(
        &self,
    ) -> (LweSecretKeyView<'_, u64>, DynamicDistribution<u64>) {
        self.sk.encryption_key_and_noise()
    }

    /// Decrypt a raw big-key LWE ciphertext to its phase (no decoding).
    pub(crate) fn phase(&self, lwe: &[u64]) -> u64 {
        let ct = LweCiphertext::from_container(lwe, CiphertextModulus::new_native());
        decrypt_lwe_ciphertext(&self.sk.encryption_key(), &ct).0
    }

    /// Decrypt a raw small-key LWE ciphertext (modulus 2^32) to its phase.
    /// `None` if the length is not the small key's `n + 1` (or the key has
    /// no small key, which a conformant V1 key always has).
    pub(crate) fn small_phase(&self, lwe: &[u32]) -> Option<u32> {
        let key = self.small_key()?;
        if lwe.len() != key.lwe_dimension().to_lwe_size().0 {
            return None;
        }
        let ct = LweCiphertext::from_container(lwe, CiphertextModulus::<u32>::new_native());
        Some(decrypt_lwe_ciphertext(&key, &ct).0)
    }
}

impl ServerKey {
    fn from_hl(param_set: ParamSet, hl: tfhe::ServerKey) -> Self {
        Self { param_set, hl }
    }

    /// The shortint key the PBS run with.
    pub(crate) fn shortint(&self) -> &tfhe::shortint::ServerKey {
        let integer: &tfhe::integer::ServerKey = self.hl.as_ref();
        integer.as_ref()
    }

    /// The key-switching key of the KS32 atomic pattern: big LWE key (u64)
    /// to small LWE key (u32). Every PBS starts with it; results use it to
    /// store parts compactly.
    pub(crate) fn key_switching_key(&self) -> Result<&LweKeyswitchKeyOwned<u32>> {
        match &self.shortint().atomic_pattern {
            AtomicPatternServerKey::KeySwitch32(ap) => Ok(&ap.key_switching_key),
            _ => Err(FheError::NotConformant {
                what: "server key (no KS32 key-switching key)",
                param_set: self.param_set.name(),
            }),
        }
    }

    /// The parameter set of this key.
    pub fn param_set(&self) -> ParamSet {
        self.param_set
    }

    /// Serialise with tfhe's `safe_serialize` (as a `tfhe::ServerKey`).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        safe_serialize(&self.hl, &mut out, SERVER_KEY_LIMIT).map_err(|e| FheError::Serialize {
            what: "server key",
            reason: e.to_string(),
        })?;
        Ok(out)
    }

    /// Load an untrusted server key: at most [`SERVER_KEY_LIMIT`] bytes, and
    /// conformant with `param_set` (tfhe's `safe_deserialize_conformant`).
    pub fn from_bytes(bytes: &[u8], param_set: ParamSet) -> Result<Self> {
        let hl: tfhe::ServerKey =
            safe_deserialize_conformant(bytes, SERVER_KEY_LIMIT, &param_set.config().into())
                .map_err(|reason| FheError::Deserialize {
                    what: "server key",
                    reason,
                })?;
        Ok(Self::from_hl(param_set, hl))
    }
}

impl CompressedServerKey {
    /// The parameter set of this key.
    pub fn param_set(&self) -> ParamSet {
        self.param_set
    }

    /// Expand the seeded key into a server key (deterministic: the same
    /// bytes always give the same key).
    pub fn decompress(&self) -> ServerKey {
        ServerKey::from_hl(self.param_set, self.hl.decompress())
    }

    /// Serialise with tfhe's `safe_serialize`.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        safe_serialize(&self.hl, &mut out, COMPRESSED_SERVER_KEY_LIMIT).map_err(|e| {
            FheError::Serialize {
                what: "compressed server key",
                reason: e.to_string(),
            }
        })?;
        Ok(out)
    }

    /// Load an untrusted compressed server key: at most
    /// [`COMPRESSED_SERVER_KEY_LIMIT`] bytes, conformant with `param_set`.
    pub fn from_bytes(bytes: &[u8], param_set: ParamSet) -> Result<Self> {
        let hl: tfhe::CompressedServerKey = safe_deserialize_conformant(
            bytes,
            COMPRESSED_SERVER_KEY_LIMIT,
            &param_set.config().into(),
        )
        .map_err(|reason| FheError::Deserialize {
            what: "compressed server key",
            reason,
        })?;
        Ok(Self { param_set, hl })
    }
}
