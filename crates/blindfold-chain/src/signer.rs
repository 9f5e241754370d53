//! Accounts: an sr25519 key pair from a dev seed (`//Alice`) or a key file.
//!
//! The same [`Signer`] works on both chains: the node verifies its signatures,
//! the embedded chain uses its public key as the caller.

use std::path::Path;
use std::str::FromStr;

use subxt_signer::{sr25519::Keypair, SecretUri};

use crate::{Account, ChainError};

/// The dev accounts both chains fund at genesis.
pub const DEV_SEEDS: [&str; 6] = [
    "//Alice",
    "//Bob",
    "//Charlie",
    "//Dave",
    "//Eve",
    "//Ferdie",
];

/// An account that can sign transactions.
#[derive(Clone)]
pub struct Signer {
    name: String,
    pair: Keypair,
}

impl std::fmt::Debug for Signer {
    // Never print the secret: only the name and the public account id.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("name", &self.name)
            .field("account", &hex::encode(self.account()))
            .finish()
    }
}

impl Signer {
    /// A signer from a secret URI such as `//Alice`, a BIP-39 phrase with an
    /// optional derivation path, or a `0x`-prefixed 32-byte hex seed.
    pub fn from_uri(uri: &str) -> Result<Self, ChainError> {
        let secret = SecretUri::from_str(uri.trim())
            .map_err(|e| ChainError::Invalid(format!("invalid account seed: {e}")))?;
        let pair = Keypair::from_uri(&secret)
            .map_err(|e| ChainError::Invalid(format!("invalid account seed: {e}")))?;
        // A dev seed is public knowledge, so it can name the account; anything
        // else is named by its public key only.
        let name = if uri.trim().starts_with("//") && !uri.contains("///") {
            uri.trim().to_string()
        } else {
            format!("0x{}", hex::encode(&pair.public_key().0[..8]))
        };
        Ok(Signer { name, pair })
    }

    /// A signer from `spec`: a path to a key file holding a secret URI (one
    /// line), or otherwise a secret URI itself (`//Alice`).
    pub fn from_spec(spec: &str) -> Result<Self, ChainError> {
        let path = Path::new(spec);
        if !spec.starts_with("//") && path.is_file() {
            let text = std::fs::read_to_string(path).map_err(|source| ChainError::KeyFile {
                path: path.to_path_buf(),
                source,
            })?;
            let mut signer = Self::from_uri(text.trim()).map_err(|_| {
                ChainError::Invalid(format!(
                    "key file {} does not hold a valid secret URI or 0x seed",
                    path.display()
                ))
            })?;
            signer.name = path.display().to_string();
            return Ok(signer);
        }
        Self::from_uri(spec)
    }

    /// A human-readable name: the dev seed, the key file, or a public-key prefix.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The account id (public key).
    pub fn account(&self) -> Account {
        self.pair.public_key().0
    }

    /// The key pair, for signing extrinsics.
    pub(crate) fn keypair(&self) -> &Keypair {
        &self.pair
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alice_is_the_well_known_dev_account() {
        let alice = Signer::from_uri("//Alice").unwrap();
        assert_eq!(
            hex::encode(alice.account()),
            "d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d"
        );
        assert_eq!(alice.name(), "//Alice");
    }

    #[test]
    fn debug_never_shows_secrets() {
        let s = Signer::from_uri("//Alice").unwrap();
        let shown = format!("{s:?}");
        assert!(shown.contains("d43593c7"));
        assert!(!shown.contains("secret"));
    }

    #[test]
    fn key_file_and_bad_seeds() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("key");
        std::fs::write(&file, "//Bob\n").unwrap();
        let bob = Signer::from_spec(file.to_str().unwrap()).unwrap();
        assert_eq!(bob.account(), Signer::from_uri("//Bob").unwrap().account());

        std::fs::write(&file, "not a seed at all").unwrap();
        let err = Signer::from_spec(file.to_str().unwrap()).unwrap_err();
        assert!(err.to_string().contains("key file"), "{err}");
        assert!(Signer::from_uri("0x1234").is_err());
    }
}
