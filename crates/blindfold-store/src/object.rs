//! [`ObjectBlobStore`]: blobs in any [`object_store`] backend.
//!
//! Keys are `<prefix>/sha256/<64 hex digits>`. A put is one request (a
//! single S3 `PutObject`, never a multipart upload), and the backends make it
//! atomic themselves: an S3 object appears whole or not at all, even when the
//! upload is broken off (`crates/blindfold-store/tests/s3.rs` checks this
//! against a real server); the local file system backend writes a staging
//! file and renames it. A put skips the upload only when the object already
//! there holds exactly the blob (read back and hashed), so a corrupt or
//! tampered object under the key is replaced. Reads take the object's size
//! from the response metadata and refuse an oversized blob before reading its
//! body.

use std::sync::Arc;

use object_store::memory::InMemory;
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, ObjectStore, ObjectStoreScheme, PutOptions, PutPayload};

use crate::{sha256_owned, BlobStore, Hash, StoreError};

/// A blob store on any `object_store` backend (S3-compatible, local file
/// system, memory), with keys `<prefix>/sha256/<64 hex>`.
#[derive(Debug, Clone)]
pub struct ObjectBlobStore {
    store: Arc<dyn ObjectStore>,
    prefix: ObjectPath,
    describe: String,
}

impl ObjectBlobStore {
    /// Wraps a backend. `prefix` is a `/`-separated key prefix (empty for
    /// none; leading, trailing and doubled slashes are ignored); `describe` is
    /// what [`BlobStore::describe`] will say.
    pub fn new(store: Arc<dyn ObjectStore>, prefix: &str, describe: String) -> Self {
        Self {
            store,
            prefix: ObjectPath::from(prefix),
            describe,
        }
    }

    /// Opens a backend from a URL:
    ///
    /// - `s3://bucket/prefix` (or `s3a://`): configured from the standard
    ///   `AWS_*` environment variables (`AWS_ACCESS_KEY_ID`,
    ///   `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT` for MinIO and
    ///   other S3-compatible services, `AWS_ALLOW_HTTP=true` for a plain-HTTP
    ///   endpoint);
    /// - `memory://`: a fresh in-memory store;
    /// - `file:///path`: the local file system backend rooted at `/path`
    ///   (created if missing).
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        let parsed = url::Url::parse(url)
            .map_err(|e| StoreError::InvalidSpec(format!("{url:?} is not a valid URL: {e}")))?;
        let (scheme, path) = ObjectStoreScheme::parse(&parsed)
            .map_err(|e| StoreError::InvalidSpec(format!("{url:?}: {e}")))?;
        match scheme {
            ObjectStoreScheme::Memory => Ok(Self::new(
                Arc::new(InMemory::new()),
                path.as_ref(),
                url.to_string(),
            )),
            ObjectStoreScheme::AmazonS3 => {
                let s3 = object_store::aws::AmazonS3Builder::from_env()
                    .with_url(url)
                    .build()
                    .map_err(|e| StoreError::InvalidSpec(format!("{url:?}: {e}")))?;
                Ok(Self::new(Arc::new(s3), path.as_ref(), url.to_string()))
            }
            ObjectStoreScheme::Local => {
                let root = parsed.to_file_path().map_err(|()| {
                    StoreError::InvalidSpec(format!("{url:?} is not a local file path"))
                })?;
                std::fs::create_dir_all(&root).map_err(|source| StoreError::Io {
                    path: root.clone(),
                    source,
                })?;
                let local = object_store::local::LocalFileSystem::new_with_prefix(&root)
                    .map_err(|e| StoreError::InvalidSpec(format!("{url:?}: {e}")))?;
                Ok(Self::new(Arc::new(local), "", url.to_string()))
            }
            other => Err(StoreError::InvalidSpec(format!(
                "{url:?}: unsupported object store {other:?} (expected s3://, memory:// or file://)"
            ))),
        }
    }

    /// The backend's key for the blob with this hash.
    pub fn key_of(&self, hash: &Hash) -> ObjectPath {
        self.prefix.clone().join("sha256").join(hex::encode(hash))
    }
}

impl ObjectBlobStore {
    /// The error for a backend failure while doing `action` to blob `hash`.
    fn backend(
        &self,
        action: &'static str,
        hash: &Hash,
        source: object_store::Error,
    ) -> StoreError {
        StoreError::Backend {
            store: self.describe.clone(),
            action,
            hash: *hash,
            source: Box::new(source),
        }
    }

    /// The object's size, or `None` when there is none under the blob's key.
    async fn size_of(&self, hash: &Hash) -> Result<Option<u64>, StoreError> {
        let head = GetOptions {
            head: true,
            ..GetOptions::default()
        };
        match self.store.get_opts(&self.key_of(hash), head).await {
            Ok(found) => Ok(Some(found.meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.backend("looking up", hash, e)),
        }
    }
}

impl BlobStore for ObjectBlobStore {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    async fn put(&self, bytes: Vec<u8>) -> Result<Hash, StoreError> {
        let (bytes, hash) = sha256_owned(bytes).await?;
        // Skip the upload only when the object there is exactly this blob: an
        // object of the right size is read back and its hash checked, so a
        // corrupt or tampered one is replaced rather than kept.
        let len = bytes.len() as u64;
        if self.size_of(&hash).await? == Some(len) {
            match self.get(&hash, len).await {
                Ok(_) => return Ok(hash),
                Err(
                    StoreError::HashMismatch { .. }
                    | StoreError::NotFound { .. }
                    | StoreError::TooLarge { .. },
                ) => {}
                Err(e) => return Err(e),
            }
        }
        self.store
            .put_opts(
                &self.key_of(&hash),
                PutPayload::from(bytes),
                PutOptions::default(),
            )
            .await
            .map_err(|e| self.backend("writing", &hash, e))?;
        Ok(hash)
    }

    async fn get(&self, hash: &Hash, max_len: u64) -> Result<Vec<u8>, StoreError> {
        let key = self.key_of(hash);
        let found = match self.store.get_opts(&key, GetOptions::default()).await {
            Ok(found) => found,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(StoreError::NotFound { hash: *hash })
            }
            Err(e) => return Err(self.backend("reading", hash, e)),
        };
        // The size comes with the response headers, before the body is read.
        let len = found.meta.size;
        if len > max_len {
            return Err(StoreError::TooLarge {
                hash: *hash,
                len,
                limit: max_len,
            });
        }
        let bytes = found
            .bytes()
            .await
            .map_err(|e| self.backend("reading", hash, e))?;
        if bytes.len() as u64 > max_len {
            return Err(StoreError::TooLarge {
                hash: *hash,
                len: bytes.len() as u64,
                limit: max_len,
            });
        }
        let (bytes, actual) = sha256_owned(Vec::from(bytes)).await?;
        if actual != *hash {
            return Err(StoreError::HashMismatch {
                expected: *hash,
                actual,
            });
        }
        Ok(bytes)
    }

    async fn contains(&self, hash: &Hash) -> Result<bool, StoreError> {
        Ok(self.size_of(hash).await?.is_some())
    }
}
