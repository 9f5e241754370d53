//! Sealed releases: what the data owner releases is encrypted to the
//! researcher's key, so only the researcher can read it from the public
//! blob store.
//!
//! The researcher's key is an `age` X25519 identity ([`generate_identity`],
//! a file of mode 0600 in its key directory, [`IDENTITY_FILE`]); its public
//! half, an `age1…` recipient, goes into the job spec
//! (`JobSpec::release_to`), which the job's `params_hash` binds on chain.
//! The owner seals the released result to it ([`seal`]) and posts the hash
//! of the sealed bytes; `blindfold fetch` opens it ([`open`]). No crypto is
//! hand-made here: this is `age`'s X25519 recipient type, as `rage` uses it.

use std::path::{Path, PathBuf};

use age::secrecy::ExposeSecret;
pub use age::x25519::{Identity, Recipient};
use serde::Serialize;

use crate::error::{ClientError, Result};
use crate::keys;

/// The researcher's identity file in its key directory.
pub const IDENTITY_FILE: &str = "release.age";

/// Where the identity of key directory `dir` lives.
pub fn identity_path(dir: &Path) -> PathBuf {
    dir.join(IDENTITY_FILE)
}

/// Generates an identity into `dir` (mode 0600), refusing to replace one
/// unless `force`; returns its recipient.
pub fn generate_identity(dir: &Path, force: bool) -> Result<Recipient> {
    let path = identity_path(dir);
    if path.exists() && !force {
        return Err(ClientError::Usage(format!(
            "{} already exists; replacing it makes every result sealed to it unreadable \
             (pass --force to replace it anyway)",
            path.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| ClientError::io("creating", dir, e))?;
    let identity = Identity::generate();
    let text = format!("{}\n", identity.to_string().expose_secret());
    keys::write_private(&path, text.as_bytes())?;
    Ok(identity.to_public())
}

/// A researcher's new release key, as `researcher-key` reports it.
#[derive(Clone, Debug, Serialize)]
pub struct ReleaseKey {
    /// The identity file (secret, mode 0600).
    pub identity: PathBuf,
    /// Its public half, the `age1…` recipient releases are sealed to.
    pub recipient: String,
}

impl ReleaseKey {
    /// Where the key is and its recipient, for people.
    pub fn summary(&self) -> String {
        format!(
            "release key in {} (secret, mode 0600; back it up)\nrecipient {} \
             (`request` seals releases to it)",
            self.identity.display(),
            self.recipient
        )
    }
}

/// [`generate_identity`] into `dir`, reported with the file it wrote.
pub fn new_release_key(dir: &Path, force: bool) -> Result<ReleaseKey> {
    let recipient = generate_identity(dir, force)?;
    Ok(ReleaseKey {
        identity: identity_path(dir),
        recipient: recipient.to_string(),
    })
}

/// Loads the identity file at `path`.
pub fn load_identity(path: &Path) -> Result<Identity> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            ClientError::Key(format!(
                "no release identity at {}: run `blindfold researcher-key` first, or point --keys at your key directory",
                path.display()
            ))
        } else {
            ClientError::io("reading", path, e)
        }
    })?;
    text.trim().parse().map_err(|_| {
        ClientError::Key(format!(
            "{} is not an age X25519 identity (AGE-SECRET-KEY-1…)",
            path.display()
        ))
    })
}

/// Parses an `age1…` recipient.
pub fn parse_recipient(text: &str) -> Result<Recipient> {
    text.trim()
        .parse()
        .map_err(|_| ClientError::Usage(format!("'{text}' is not an age X25519 recipient (age1…)")))
}

/// Encrypts `bytes` to `recipient`.
pub fn seal(bytes: &[u8], recipient: &Recipient) -> Result<Vec<u8>> {
    age::encrypt(recipient, bytes).map_err(ClientError::Seal)
}

/// Decrypts sealed `bytes` with `identity`; `what` names them in errors.
pub fn open(bytes: &[u8], identity: &Identity, what: &str) -> Result<Vec<u8>> {
    age::decrypt(identity, bytes).map_err(|e| {
        ClientError::Key(format!(
            "the {what} does not open with your release identity (sealed to another key?): {e}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_bytes_open_only_with_the_identity() {
        let dir = tempfile::tempdir().unwrap();
        let recipient = generate_identity(dir.path(), false).unwrap();
        assert!(
            generate_identity(dir.path(), false).is_err(),
            "no silent replace"
        );
        let identity = load_identity(&identity_path(dir.path())).unwrap();
        let sealed = seal(b"released", &recipient).unwrap();
        assert!(!sealed.windows(8).any(|w| w == b"released"));
        assert_eq!(open(&sealed, &identity, "result").unwrap(), b"released");
        let other = Identity::generate();
        let err = open(&sealed, &other, "result").unwrap_err();
        assert!(err.to_string().contains("does not open"), "{err}");
        let recipient_text = recipient.to_string();
        assert_eq!(
            parse_recipient(&recipient_text).unwrap().to_string(),
            recipient_text
        );
        assert!(parse_recipient("age1nope").is_err());
    }
}
