//! [`DirStore`]: blobs as files in a local directory.
//!
//! Layout: `<root>/sha256/<first 2 hex digits>/<64 hex digits>`. A write goes
//! to a temporary file in the blob's own directory (named `.tmp-…`, which no
//! lookup ever matches), is flushed to disk, and is then renamed into place,
//! so a blob file is either absent or complete. A crash mid-write leaves at
//! most a stray temporary file, which is ignored.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{blocking, sha256, BlobStore, Hash, StoreError};

/// The name of the subdirectory (and of the hash function) blobs live under.
const ALGORITHM_DIR: &str = "sha256";

/// Tells apart temporary files written by one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A blob store in a local directory: `<root>/sha256/<first 2 hex>/<64 hex>`.
#[derive(Debug, Clone)]
pub struct DirStore {
    root: PathBuf,
}

impl DirStore {
    /// Opens the store at `root`, creating `root/sha256` if it is missing.
    pub fn open(root: impl AsRef<Path>) -> Result<Self, StoreError> {
        let root = root.as_ref().to_path_buf();
        let blobs = root.join(ALGORITHM_DIR);
        fs::create_dir_all(&blobs).map_err(|source| StoreError::Io {
            path: blobs.clone(),
            source,
        })?;
        if !blobs.is_dir() {
            return Err(StoreError::Io {
                path: blobs,
                source: io::Error::other("not a directory"),
            });
        }
        Ok(Self { root })
    }

    /// The store's root directory, as given to [`DirStore::open`].
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob with this hash lives (or would live).
    pub fn path_of(&self, hash: &Hash) -> PathBuf {
        path_of(&self.root, hash)
    }
}

fn path_of(root: &Path, hash: &Hash) -> PathBuf {
    let hex = hex::encode(hash);
    root.join(ALGORITHM_DIR).join(&hex[..2]).join(hex)
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl BlobStore for DirStore {
    fn describe(&self) -> String {
        format!("directory {}", self.root.display())
    }

    async fn put(&self, bytes: Vec<u8>) -> Result<Hash, StoreError> {
        let root = self.root.clone();
        blocking(root.clone(), move || {
            let hash = sha256(&bytes);
            let path = path_of(&root, &hash);
            if already_stored(&path, &bytes)? {
                return Ok(hash);
            }
            write_atomically(&path, &bytes)?;
            Ok(hash)
        })
        .await
    }

    async fn get(&self, hash: &Hash, max_len: u64) -> Result<Vec<u8>, StoreError> {
        let hash = *hash;
        let path = self.path_of(&hash);
        blocking(path.clone(), move || read_checked(&path, &hash, max_len)).await
    }

    async fn contains(&self, hash: &Hash) -> Result<bool, StoreError> {
        let path = self.path_of(hash);
        blocking(path.clone(), move || match fs::metadata(&path) {
            Ok(meta) => Ok(meta.is_file()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_error(&path)(e)),
        })
        .await
    }
}

/// Whether `path` already holds exactly `bytes`. A file there with other bytes
/// (corrupt or tampered) is not "already stored": the caller replaces it.
fn already_stored(path: &Path, bytes: &[u8]) -> Result<bool, StoreError> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(io_error(path)(e)),
    };
    let meta = file.metadata().map_err(io_error(path))?;
    if !meta.is_file() || meta.len() != bytes.len() as u64 {
        return Ok(false);
    }
    let mut existing = Vec::with_capacity(bytes.len());
    file.read_to_end(&mut existing).map_err(io_error(path))?;
    Ok(existing == bytes)
}

/// Writes `bytes` to `path` through a temporary file in the same directory:
/// write, fsync, rename, then fsync the directory so the rename is durable.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let dir = path
        .parent()
        .expect("a blob path always has a parent directory");
    fs::create_dir_all(dir).map_err(io_error(dir))?;
    let name = path
        .file_name()
        .expect("a blob path always has a file name")
        .to_string_lossy();

    let (tmp, mut file) = loop {
        let tmp = dir.join(format!(
            ".tmp-{name}-{}-{}",
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(file) => break (tmp, file),
            // A leftover from a crashed process that had the same id.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_error(&tmp)(e)),
        }
    };

    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(io_error(&tmp))
        .and_then(|()| {
            drop(file);
            fs::rename(&tmp, path).map_err(io_error(path))
        });
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    sync_dir(dir)
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error(dir))
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> Result<(), StoreError> {
    Ok(())
}

/// Reads the blob at `path`, refusing it by its metadata if it is over
/// `max_len`, never reading more than `max_len + 1` bytes, and checking that
/// its bytes hash to `hash`.
fn read_checked(path: &Path, hash: &Hash, max_len: u64) -> Result<Vec<u8>, StoreError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(StoreError::NotFound { hash: *hash })
        }
        Err(e) => return Err(io_error(path)(e)),
    };
    let len = file.metadata().map_err(io_error(path))?.len();
    if len > max_len {
        return Err(StoreError::TooLarge {
            hash: *hash,
            len,
            limit: max_len,
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(max_len.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io_error(path))?;
    if bytes.len() as u64 > max_len {
        // The file grew after its metadata was read.
        return Err(StoreError::TooLarge {
            hash: *hash,
            len: bytes.len() as u64,
            limit: max_len,
        });
    }
    let actual = sha256(&bytes);
    if actual != *hash {
        return Err(StoreError::HashMismatch {
            expected: *hash,
            actual,
        });
    }
    Ok(bytes)
}
