//! Content-addressed blob store for Blindfold.
//!
//! Every blob (a ciphertext, a key, a result) is named by the SHA-256 of its
//! bytes, and only that name goes on chain. The store therefore never has to
//! be trusted: every read checks the hash, and a blob whose bytes do not hash
//! to its name is refused as tampered or corrupt ([`StoreError::HashMismatch`]).
//! Writes are atomic: a reader sees the whole blob or none of it.
//!
//! All of it is behind one trait, [`BlobStore`]:
//!
//! - [`BlobStore::put`] stores bytes under their hash and returns it;
//! - [`BlobStore::get`] reads a blob, refusing one over a size limit before
//!   reading it, and checks its hash;
//! - [`BlobStore::contains`] says whether a blob is there.
//!
//! The parts of this crate:
//!
//! - this file: [`Hash`](type@Hash), [`sha256`], [`StoreError`], the trait, and
//!   [`AnyStore`], a store chosen at run time from a `--store` spec;
//! - [`dir`]: [`DirStore`], a local directory (the default);
//! - [`object`]: [`ObjectBlobStore`], any [`object_store`] backend, such as an
//!   S3-compatible service shared by many machines.
//!
//! The stores' futures must run inside a Tokio runtime: file I/O and hashing
//! run on Tokio's blocking pool, and the `object_store` clients need Tokio.

use std::future::Future;
use std::path::PathBuf;

use sha2::{Digest, Sha256};

pub mod dir;
pub mod object;

pub use dir::DirStore;
pub use object::ObjectBlobStore;
/// The `object_store` crate this one is built on, for callers that build an
/// [`ObjectBlobStore`] from their own backend.
pub use object_store;

/// A blob's name: the SHA-256 of its bytes (the workspace's one 32-byte
/// digest type, defined in `blindfold-protocol`).
pub use blindfold_protocol::Hash;

/// SHA-256 of bytes.
pub fn sha256(bytes: &[u8]) -> Hash {
    Sha256::digest(bytes).into()
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No blob with this hash is in the store.
    #[error("blob {} is not in the store", hex::encode(hash))]
    NotFound {
        /// The hash that was asked for.
        hash: Hash,
    },
    /// The stored bytes do not hash to their name: the blob was tampered with
    /// or is corrupt.
    #[error(
        "blob {} is tampered or corrupt: its stored bytes hash to {}",
        hex::encode(expected),
        hex::encode(actual)
    )]
    HashMismatch {
        /// The name the blob was read under.
        expected: Hash,
        /// The SHA-256 of the bytes actually stored.
        actual: Hash,
    },
    /// The blob is longer than the caller allows; it was not read.
    #[error(
        "blob {} is {len} bytes, over the limit of {limit} bytes",
        hex::encode(hash)
    )]
    TooLarge {
        /// The blob's hash.
        hash: Hash,
        /// Its length (at least this many bytes).
        len: u64,
        /// The caller's limit.
        limit: u64,
    },
    /// A file system operation failed.
    #[error("i/o error on {}", path.display())]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An `object_store` backend failed (unreachable, refused the
    /// credentials, broke off a transfer).
    #[error("object store {store}: {action} blob {} failed", hex::encode(hash))]
    Backend {
        /// The store, as [`BlobStore::describe`] names it (its URL).
        store: String,
        /// What was being done: `reading`, `writing`, `looking up`.
        action: &'static str,
        /// The blob's hash.
        hash: Hash,
        /// The backend's error (it names the request and the server's answer).
        #[source]
        source: Box<object_store::Error>,
    },
    /// A store spec (a `--store` value) could not be understood.
    #[error("invalid store spec: {0}")]
    InvalidSpec(String),
}

/// A content-addressed blob store. Every implementation checks hashes on read
/// and writes atomically.
pub trait BlobStore: Send + Sync {
    /// Where the blobs live, for people: `directory /var/blobs`,
    /// `s3://bucket/prefix`.
    fn describe(&self) -> String;

    /// Stores bytes under their SHA-256 and returns it. Idempotent: storing the
    /// same bytes again changes nothing. Atomic: no partial blob is ever
    /// visible, even if the process dies mid-write.
    fn put(&self, bytes: Vec<u8>) -> impl Future<Output = Result<Hash, StoreError>> + Send;

    /// Reads a blob, refusing one longer than `max_len` bytes
    /// ([`StoreError::TooLarge`]) before reading it, and verifies its SHA-256
    /// ([`StoreError::HashMismatch`] otherwise).
    fn get(
        &self,
        hash: &Hash,
        max_len: u64,
    ) -> impl Future<Output = Result<Vec<u8>, StoreError>> + Send;

    /// Whether a blob with this hash is in the store (its bytes are not
    /// checked).
    fn contains(&self, hash: &Hash) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// A store chosen at run time from a spec, as the CLI and worker `--store`
/// flags accept it.
#[derive(Debug)]
pub enum AnyStore {
    /// A local directory.
    Dir(DirStore),
    /// An `object_store` backend.
    Object(ObjectBlobStore),
}

impl AnyStore {
    /// Opens a store from a spec:
    ///
    /// - a plain path (`./blobs`, `/var/blobs`) or a `file://` URL: a
    ///   [`DirStore`], created if missing;
    /// - `s3://bucket/prefix`: an S3-compatible object store, configured from
    ///   the standard `AWS_*` environment variables (`AWS_ACCESS_KEY_ID`,
    ///   `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, and for MinIO and the like
    ///   `AWS_ENDPOINT` and `AWS_ALLOW_HTTP=true`);
    /// - `memory://`: a fresh in-memory store, private to this value (for
    ///   tests).
    ///
    /// Anything else is [`StoreError::InvalidSpec`].
    pub fn open(spec: &str) -> Result<Self, StoreError> {
        let spec = spec.trim();
        if spec.is_empty() {
            return Err(StoreError::InvalidSpec("empty store spec".into()));
        }
        if !spec.contains("://") {
            return DirStore::open(spec).map(Self::Dir);
        }
        let url = url::Url::parse(spec)
            .map_err(|e| StoreError::InvalidSpec(format!("{spec:?} is not a valid URL: {e}")))?;
        match url.scheme() {
            "file" => {
                let path = url.to_file_path().map_err(|()| {
                    StoreError::InvalidSpec(format!("{spec:?} is not a local file path"))
                })?;
                DirStore::open(path).map(Self::Dir)
            }
            "s3" | "s3a" | "memory" => ObjectBlobStore::from_url(spec).map(Self::Object),
            other => Err(StoreError::InvalidSpec(format!(
                "{spec:?}: unsupported scheme {other:?} (expected a directory path, \
                 file://, s3://bucket/prefix or memory://)"
            ))),
        }
    }
}

impl BlobStore for AnyStore {
    fn describe(&self) -> String {
        match self {
            Self::Dir(s) => s.describe(),
            Self::Object(s) => s.describe(),
        }
    }

    async fn put(&self, bytes: Vec<u8>) -> Result<Hash, StoreError> {
        match self {
            Self::Dir(s) => s.put(bytes).await,
            Self::Object(s) => s.put(bytes).await,
        }
    }

    async fn get(&self, hash: &Hash, max_len: u64) -> Result<Vec<u8>, StoreError> {
        match self {
            Self::Dir(s) => s.get(hash, max_len).await,
            Self::Object(s) => s.get(hash, max_len).await,
        }
    }

    async fn contains(&self, hash: &Hash) -> Result<bool, StoreError> {
        match self {
            Self::Dir(s) => s.contains(hash).await,
            Self::Object(s) => s.contains(hash).await,
        }
    }
}

/// Runs blocking work (file I/O, hashing large blobs) on Tokio's blocking
/// pool. A panic in it is resumed here; a task cancelled because the runtime is
/// shutting down becomes an I/O error on `path`.
pub(crate) async fn blocking<T, F>(path: PathBuf, f: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(out) => out,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(StoreError::Io {
            path,
            source: std::io::Error::other(e),
        }),
    }
}

/// Hashes bytes, on the blocking pool when they are large, giving the bytes
/// back with their hash.
pub(crate) async fn sha256_owned(bytes: Vec<u8>) -> Result<(Vec<u8>, Hash), StoreError> {
    if bytes.len() < 64 * 1024 {
        let hash = sha256(&bytes);
        return Ok((bytes, hash));
    }
    blocking(PathBuf::from("<hashing>"), move || {
        let hash = sha256(&bytes);
        Ok((bytes, hash))
    })
    .await
}
