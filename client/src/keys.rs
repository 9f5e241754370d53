//! The data owner's key directory.
//!
//! | file | contents | mode |
//! |---|---|---|
//! | `client.key` | the client (secret) key of the chosen scheme: TFHE's `ClientKey::to_bytes` or BFV's (which starts with BFV's magic) | 0600 |
//! | `server-key.bin` | the public server key: TFHE's compressed server key, or BFV's relinearisation and Galois keys | default |
//! | `ledger-<contract>-<dataset>.json` | which source video each submission index is ([`crate::owner`]) | 0600 |
//!
//! The server key is public: the same bytes go to the blob store,
//! and their SHA-256 is the dataset's `server_key_hash` on chain.
//!
//! The client key never leaves this directory. [`OwnerKeys`] holds it in
//! memory and prints only the parameter set and the server key hash (its
//! `Debug` and `Display` never show key material). [`OwnerKeys::load`]
//! refuses a `client.key` that other users could read, like `ssh` does.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use blindfold_fhe::{Geometry, PipelineParams, PlainOutput, Scheme, SchemeClientKey};
use blindfold_job::Verified;
use blindfold_protocol::types::JobId;
use sha2::{Digest, Sha256};

use blindfold_fhe::ParamSet;
use blindfold_protocol::types::Hash;

use crate::error::{ClientError, Result};

/// The client key's file name in the key directory.
pub const CLIENT_KEY_FILE: &str = "client.key";
/// The compressed server key's file name in the key directory.
pub const SERVER_KEY_FILE: &str = "server-key.bin";
/// The pixel limits every video is checked against (1..=4 bits, the same
/// under both schemes).
pub const PARAM_SET: ParamSet = ParamSet::V1;

/// A loaded key directory: the client key and the hash of its server key.
///
/// Besides encrypting, the client key keys two things, through a secret
/// derived from it ([`OwnerKeys::new`]): which inputs a sampled verification
/// recomputes, and the DP noise of each job's release. Decryption goes only
/// through [`OwnerKeys::decrypt_verified`], which takes a result the job
/// layer verified and counts what it decrypts.
#[derive(Clone)]
pub struct OwnerKeys {
    dir: PathBuf,
    client: SchemeClientKey,
    server_key_hash: Hash,
    secret: [u8; 32],
    decryptions: Arc<AtomicU64>,
}

impl std::fmt::Debug for OwnerKeys {
    // Never the key: only where it lives and what is public about it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnerKeys")
            .field("dir", &self.dir)
            .field("param_set", &self.client.scheme().name())
            .field(
                "server_key_hash",
                &crate::units::hex32(&self.server_key_hash),
            )
            .finish_non_exhaustive()
    }
}

impl std::fmt::Display for OwnerKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} keys in {} ({}, server key {})",
            self.client.scheme().family().to_uppercase(),
            self.dir.display(),
            self.client.scheme(),
            crate::units::short_hex(&self.server_key_hash)
        )
    }
}

impl OwnerKeys {
    /// Keys already in memory (tests, demos); `server_key_hash` is the
    /// SHA-256 of the compressed server key blob.
    pub fn new(
        dir: impl Into<PathBuf>,
        client: SchemeClientKey,
        server_key_hash: Hash,
    ) -> Result<Self> {
        // A secret of the owner's that is not the key itself: SHA-256 under
        // a domain tag of the client key's canonical bytes.
        let secret = Sha256::new()
            .chain_update(b"blindfold/v1/owner-secret")
            .chain_update(client.to_bytes()?)
            .finalize()
            .into();
        Ok(OwnerKeys {
            dir: dir.into(),
            client,
            server_key_hash,
            secret,
            decryptions: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Loads the key directory `dir`: the client key (which must not be
    /// readable by other users) and the hash of the server key file.
    pub fn load(dir: &Path) -> Result<Self> {
        let client_path = dir.join(CLIENT_KEY_FILE);
        if !client_path.is_file() {
            return Err(ClientError::Key(format!(
                "no client key at {}: run `blindfold keygen` first, or point --keys at your key directory",
                client_path.display()
            )));
        }
        check_private(&client_path)?;
        let bytes =
            std::fs::read(&client_path).map_err(|e| ClientError::io("reading", &client_path, e))?;
        let client = SchemeClientKey::from_bytes(&bytes).map_err(|e| {
            ClientError::Key(format!(
                "{} is not a usable client key: {e}",
                client_path.display()
            ))
        })?;
        let server = server_key_bytes(dir)?;
        OwnerKeys::new(dir, client, blindfold_store::sha256(&server))
    }

    /// The key directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The client (secret) key.
    pub fn client_key(&self) -> &SchemeClientKey {
        &self.client
    }

    /// The scheme and parameter set of these keys.
    pub fn scheme(&self) -> Scheme {
        self.client.scheme()
    }

    /// The key of a sampled verification's choice of inputs.
    pub fn sample_key(&self) -> [u8; 32] {
        Sha256::new()
            .chain_update(b"blindfold/v1/sample-key")
            .chain_update(self.secret)
            .finalize()
            .into()
    }

    /// The seed of job `job`'s DP noise on `contract`: the same on every
    /// retry, different for every job.
    pub fn dp_seed(&self, contract: &[u8; 32], job: JobId) -> [u8; 32] {
        Sha256::new()
            .chain_update(b"blindfold/v1/dp-seed")
            .chain_update(self.secret)
            .chain_update(contract)
            .chain_update(job.to_be_bytes())
            .finalize()
            .into()
    }

    /// Decrypts the items of a verified result and returns the outputs of
    /// the submissions that pass `keep`, as `params` on videos of the
    /// dataset's `geometry`. An item holds one unit of submissions
    /// ([`Verified::units`]); each is read against the params, the geometry
    /// and its unit's size before anything is decoded. An item none of
    /// whose submissions is kept is not decrypted at all.
    pub fn decrypt_verified(
        &self,
        verified: &Verified,
        params: &PipelineParams,
        geometry: &Geometry,
        keep: impl Fn(u64) -> bool,
    ) -> Result<Vec<(u64, PlainOutput)>> {
        let items = &verified.bundle().items;
        if items.len() != verified.units().len() {
            return Err(ClientError::State(format!(
                "a verified result of {} items for {} units",
                items.len(),
                verified.units().len()
            )));
        }
        let mut out = Vec::new();
        for ((_, bytes), unit) in items.iter().zip(verified.units()) {
            if !unit.iter().any(|&s| keep(s)) {
                continue;
            }
            self.decryptions.fetch_add(1, Ordering::Relaxed);
            let outputs = self
                .client
                .decrypt_unit(bytes, params, geometry, unit.len())?;
            out.extend(unit.iter().copied().zip(outputs).filter(|(s, _)| keep(*s)));
        }
        Ok(out)
    }

    /// How many result items these keys decrypted (shared by clones).
    pub fn decryptions(&self) -> u64 {
        self.decryptions.load(Ordering::Relaxed)
    }

    /// SHA-256 of the compressed server key blob (the on-chain `server_key_hash`).
    pub fn server_key_hash(&self) -> Hash {
        self.server_key_hash
    }

    /// Refuses a dataset or job whose server key is not this directory's.
    pub fn check_server_key(&self, on_chain: &Hash, what: &str) -> Result<()> {
        if on_chain == &self.server_key_hash {
            Ok(())
        } else {
            Err(ClientError::Key(format!(
                "{what} uses server key {}, but the keys in {} have server key {}: \
                 point --keys at the key directory it was registered with",
                crate::units::short_hex(on_chain),
                self.dir.display(),
                crate::units::short_hex(&self.server_key_hash)
            )))
        }
    }
}

/// The compressed server key bytes of the key directory `dir`.
pub fn server_key_bytes(dir: &Path) -> Result<Vec<u8>> {
    let path = dir.join(SERVER_KEY_FILE);
    std::fs::read(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            ClientError::Key(format!(
                "no server key at {}: run `blindfold keygen` first",
                path.display()
            ))
        } else {
            ClientError::io("reading", &path, e)
        }
    })
}

/// What [`generate`] wrote.
#[derive(Clone)]
pub struct Generated {
    /// The keys.
    pub keys: OwnerKeys,
    /// The compressed server key bytes (to publish).
    pub server_key: Vec<u8>,
}

impl std::fmt::Debug for Generated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generated")
            .field("keys", &self.keys)
            .field("server_key_len", &self.server_key.len())
            .finish()
    }
}

/// Generates a client key and its compressed server key into `dir`
/// (created if missing). Refuses to replace an existing client key unless
/// `force`: losing it makes every dataset registered with it undecryptable.
/// CPU-heavy (seconds): call it off the async runtime.
pub fn generate(dir: &Path, scheme: Scheme, force: bool) -> Result<Generated> {
    let client_path = dir.join(CLIENT_KEY_FILE);
    if client_path.exists() && !force {
        return Err(ClientError::Usage(format!(
            "{} already exists; replacing it would make every dataset registered with it \
             undecryptable (pass --force to replace it anyway)",
            client_path.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| ClientError::io("creating", dir, e))?;
    let (client, server_key) = SchemeClientKey::generate(scheme)?;
    let secret = client.to_bytes()?;
    write_private(&client_path, &secret)?;
    let server_path = dir.join(SERVER_KEY_FILE);
    write_atomic(&server_path, &server_key, None)?;
    let keys = OwnerKeys::new(dir, client, blindfold_store::sha256(&server_key))?;
    Ok(Generated { keys, server_key })
}

/// Writes `bytes` to `path` readable by its owner only (mode 0600 from the
/// moment the file exists), replacing any old file atomically.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic(path, bytes, Some(0o600))
}

fn write_atomic(path: &Path, bytes: &[u8], mode: Option<u32>) -> Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if let Some(mode) = mode {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let result = (|| {
        let mut file = options.open(&tmp)?;
        // The mode above only applies to a new file; make sure of it.
        #[cfg(unix)]
        if let Some(mode) = mode {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(mode))?;
        }
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        ClientError::io("writing", path, e)
    })
}

/// Refuses a secret file that group or others may read or write.
fn check_private(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).map_err(|e| ClientError::io("reading", path, e))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(ClientError::Key(format!(
                "{} is accessible by other users (mode {mode:04o}); run `chmod 600 {}`",
                path.display(),
                path.display()
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn private_files_are_0600_and_loose_modes_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CLIENT_KEY_FILE);
        write_private(&path, b"secret").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // Replacing keeps the mode, even over a file that was world-readable.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = check_private(&path).unwrap_err();
        assert!(err.to_string().contains("chmod 600"), "{err}");
        write_private(&path, b"secret 2").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        check_private(&path).unwrap();
    }

    #[test]
    fn debug_and_display_never_show_key_bytes() {
        let (client, _) = SchemeClientKey::generate(Scheme::BFV).unwrap();
        let secret = client.to_bytes().unwrap();
        let keys = OwnerKeys::new("/keys", client, [7; 32]).unwrap();
        for shown in [format!("{keys:?}"), format!("{keys:#?}"), keys.to_string()] {
            assert!(shown.len() < 400, "{shown}");
            // No run of 8 key bytes appears, in hex or as a byte list.
            for window in secret.windows(8).step_by(97) {
                assert!(!shown.contains(&hex::encode(window)), "{shown}");
                assert!(!shown.contains(&format!("{window:?}")[1..20]), "{shown}");
            }
        }
        assert!(format!("{keys:?}").contains("server_key_hash"));
    }

    #[test]
    fn missing_and_unreadable_keys_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = OwnerKeys::load(dir.path()).unwrap_err();
        assert!(err.to_string().contains("blindfold keygen"), "{err}");
        write_private(&dir.path().join(CLIENT_KEY_FILE), b"garbage").unwrap();
        let err = OwnerKeys::load(dir.path()).unwrap_err();
        assert!(err.to_string().contains("not a usable client key"), "{err}");
    }
}
