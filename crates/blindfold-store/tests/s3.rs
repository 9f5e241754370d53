//! The S3 path of the store against a real S3-compatible server: the one
//! `scripts/s3.sh` installs and starts on 127.0.0.1 (s3s-fs), which
//! `scripts/test.sh` runs these `s3_` cases against:
//!
//! ```sh
//! eval "$(scripts/s3.sh start --port 9000)"
//! cargo test --release -p blindfold-store -- --ignored s3_
//! scripts/s3.sh stop --port 9000
//! ```
//!
//! The server comes from the standard `AWS_*` variables `s3.sh` prints, the
//! bucket from `BLINDFOLD_S3_BUCKET`; each case works under a prefix of its
//! own, so cases and runs never see each other's objects. What each case
//! reads straight from S3 (or, for the broken-off upload, from the directory
//! the server keeps its files in, `BLINDFOLD_S3_DIR`) checks the store's
//! claims: every blob is in the bucket, whole, under its hash; nothing
//! half-written is ever visible.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use blindfold_store::object_store::aws::{AmazonS3, AmazonS3Builder};
use blindfold_store::object_store::path::Path as ObjectPath;
use blindfold_store::object_store::{ObjectStore, ObjectStoreExt};
use blindfold_store::{sha256, AnyStore, BlobStore, Hash, ObjectBlobStore, StoreError};

const LIMIT: u64 = 256 << 20;

/// One case's place on the server: `s3://<bucket>/<prefix>`, and a client
/// that reads and writes the bucket directly, bypassing the blob store.
struct S3 {
    bucket: String,
    prefix: String,
    url: String,
    raw: AmazonS3,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl S3 {
    fn new(case: &str) -> Self {
        assert!(
            env("AWS_ENDPOINT").is_some(),
            "AWS_ENDPOINT is not set: the s3_ tests need an S3 server; run scripts/test.sh, \
             or eval \"$(scripts/s3.sh start)\" first"
        );
        let bucket = env("BLINDFOLD_S3_BUCKET").unwrap_or_else(|| "blindfold-test".into());
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let prefix = format!("{case}-{}-{nanos}", std::process::id());
        let raw = AmazonS3Builder::from_env()
            .with_bucket_name(&bucket)
            .build()
            .unwrap();
        S3 {
            url: format!("s3://{bucket}/{prefix}"),
            bucket,
            prefix,
            raw,
        }
    }

    /// The store under test, opened the way `--store s3://…` opens it.
    fn store(&self) -> ObjectBlobStore {
        ObjectBlobStore::from_url(&self.url).unwrap()
    }

    fn key(&self, hash: &Hash) -> ObjectPath {
        ObjectPath::from(format!("{}/sha256/{}", self.prefix, hex::encode(hash)))
    }

    /// Every object under the prefix, as `(key, size)`, sorted, read straight
    /// from the bucket.
    async fn objects(&self) -> Vec<(String, u64)> {
        let mut out = Vec::new();
        let mut dirs = vec![ObjectPath::from(self.prefix.as_str())];
        while let Some(dir) = dirs.pop() {
            let listed = self.raw.list_with_delimiter(Some(&dir)).await.unwrap();
            dirs.extend(listed.common_prefixes);
            out.extend(
                listed
                    .objects
                    .into_iter()
                    .map(|o| (o.location.to_string(), o.size)),
            );
        }
        out.sort();
        out
    }

    /// The object's bytes, read straight from the bucket.
    async fn raw_get(&self, key: &ObjectPath) -> Vec<u8> {
        self.raw
            .get(key)
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .to_vec()
    }

    async fn raw_put(&self, key: &ObjectPath, bytes: &[u8]) {
        self.raw.put(key, bytes.to_vec().into()).await.unwrap();
    }
}

/// Deterministic bytes that do not repeat with a short period.
fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// An error and all its causes, as a reader of a log sees them.
fn chain(e: &dyn Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// Put, get and contains of blobs from empty to 5 MiB through `AnyStore`
/// (what the CLI and worker `--store s3://…` flags open), and each one is in
/// the bucket, whole, under `<prefix>/sha256/<hex>`, and nothing else is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs an S3 server: scripts/s3.sh (run by scripts/test.sh)"]
async fn s3_round_trip() {
    let s3 = S3::new("round-trip");
    let store = AnyStore::open(&s3.url).unwrap();
    assert!(matches!(store, AnyStore::Object(_)), "{store:?}");
    assert_eq!(store.describe(), s3.url);

    let blobs = [
        Vec::new(),
        b"an encrypted echocardiogram, honestly".to_vec(),
        pattern(300_000, 1),
        pattern(5 << 20, 2),
    ];
    for bytes in &blobs {
        let hash = sha256(bytes);
        assert!(!store.contains(&hash).await.unwrap());
        assert!(matches!(
            store.get(&hash, LIMIT).await,
            Err(StoreError::NotFound { hash: h }) if h == hash
        ));
        assert_eq!(store.put(bytes.clone()).await.unwrap(), hash);
        assert!(store.contains(&hash).await.unwrap());
        assert_eq!(store.get(&hash, LIMIT).await.unwrap(), *bytes);
        // Idempotent: the object already there is the blob.
        assert_eq!(store.put(bytes.clone()).await.unwrap(), hash);
        assert_eq!(store.get(&hash, LIMIT).await.unwrap(), *bytes);
        // Exactly at the limit is fine; one byte under it is refused by the
        // size S3 reports.
        let len = bytes.len() as u64;
        assert_eq!(store.get(&hash, len).await.unwrap(), *bytes);
        if len > 0 {
            match store.get(&hash, len - 1).await {
                Err(StoreError::TooLarge {
                    hash: h,
                    len: l,
                    limit,
                }) => assert_eq!((h, l, limit), (hash, len, len - 1)),
                other => panic!("expected TooLarge, got {other:?}"),
            }
        }
        // In the bucket, whole, under its hash.
        assert_eq!(s3.raw_get(&s3.key(&hash)).await, *bytes);
    }
    let mut expected: Vec<_> = blobs
        .iter()
        .map(|b| (s3.key(&sha256(b)).to_string(), b.len() as u64))
        .collect();
    expected.sort();
    assert_eq!(s3.objects().await, expected);
}

/// An object whose bytes do not hash to its key, written straight to the
/// bucket: `get` refuses it with an error naming both hashes, so the caller
/// never holds the bytes. A forgery of the blob's exact size is refused too,
/// and a put of the real bytes replaces it (its size alone would say the
/// blob is there).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs an S3 server: scripts/s3.sh (run by scripts/test.sh)"]
async fn s3_wrong_hash_refused() {
    let s3 = S3::new("wrong-hash");
    let store = s3.store();
    let real = b"the hospital's real ciphertext".to_vec();
    let hash = sha256(&real);
    assert_eq!(store.key_of(&hash), s3.key(&hash));

    for forged in [b"a forged ciphertext, longer than the real one".to_vec(), {
        let mut same_size = real.clone();
        same_size[7] ^= 0x01;
        same_size
    }] {
        s3.raw_put(&s3.key(&hash), &forged).await;
        // `contains` does not read the bytes; `get` does.
        assert!(store.contains(&hash).await.unwrap());
        let err = store.get(&hash, LIMIT).await.unwrap_err();
        match &err {
            StoreError::HashMismatch { expected, actual } => {
                assert_eq!((*expected, *actual), (hash, sha256(&forged)));
            }
            other => panic!("expected HashMismatch, got {other:?}"),
        }
        let text = err.to_string();
        assert!(
            text.contains(&hex::encode(hash))
                && text.contains(&hex::encode(sha256(&forged)))
                && text.contains("tampered or corrupt"),
            "{text}"
        );

        // Putting the real bytes repairs the blob, in the bucket too.
        assert_eq!(store.put(real.clone()).await.unwrap(), hash);
        assert_eq!(store.get(&hash, LIMIT).await.unwrap(), real);
        assert_eq!(s3.raw_get(&s3.key(&hash)).await, real);
    }
}

/// A blob that was never stored: `get` says which one is not in the store,
/// `contains` says no, and nothing appears in the bucket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs an S3 server: scripts/s3.sh (run by scripts/test.sh)"]
async fn s3_missing_blob_not_found() {
    let s3 = S3::new("missing");
    let store = s3.store();
    let hash = sha256(b"never stored");
    assert!(!store.contains(&hash).await.unwrap());
    let err = store.get(&hash, LIMIT).await.unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound { hash: h } if h == hash),
        "{err:?}"
    );
    let text = err.to_string();
    assert_eq!(
        text,
        format!("blob {} is not in the store", hex::encode(hash))
    );
    assert_eq!(s3.objects().await, []);
}

/// Keys the server does not accept: put, get and contains each fail with
/// an error naming the store's URL, the blob and the server's answer, and
/// nothing is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs an S3 server: scripts/s3.sh (run by scripts/test.sh)"]
async fn s3_wrong_credentials_refused() {
    let s3 = S3::new("wrong-key");
    let bytes = b"a blob nobody may store".to_vec();
    let hash = sha256(&bytes);
    let wrong_secret = AmazonS3Builder::from_env()
        .with_url(&s3.url)
        .with_secret_access_key("not-the-secret")
        .build()
        .unwrap();
    let store = ObjectBlobStore::new(Arc::new(wrong_secret), &s3.prefix, s3.url.clone());
    for err in [
        store.put(bytes.clone()).await.unwrap_err(),
        store.get(&hash, LIMIT).await.unwrap_err(),
        store.contains(&hash).await.unwrap_err(),
    ] {
        let text = chain(&err);
        assert!(
            matches!(&err, StoreError::Backend { store, hash: h, .. } if *store == s3.url && *h == hash),
            "{text}"
        );
        assert!(
            text.contains(&s3.url) && text.contains(&hex::encode(hash)),
            "{text}"
        );
        assert!(text.contains("403 Forbidden"), "{text}");
    }
    assert_eq!(s3.objects().await, []);
}

/// The server's staging files (s3s-fs writes a body to
/// `<root>/.tmp.<n>.internal.part`, then renames it into place) of at least
/// `min` bytes.
fn staging_files(root: &Path, min: u64) -> Vec<(PathBuf, u64)> {
    std::fs::read_dir(root)
        .unwrap()
        .filter_map(|e| {
            let e = e.ok()?;
            let name = e.file_name().into_string().ok()?;
            let len = e.metadata().ok()?.len();
            (name.starts_with(".tmp.") && name.ends_with(".internal.part") && len >= min)
                .then(|| (e.path(), len))
        })
        .collect()
}

/// An upload broken off mid-way (the put's future dropped while the server
/// is receiving the body, as when the uploading process dies) leaves nothing
/// under the key: no object in the bucket, no file where the server keeps
/// it, `contains` false, `get` not found. Then the same put succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs an S3 server: scripts/s3.sh (run by scripts/test.sh)"]
async fn s3_interrupted_upload_leaves_nothing() {
    let s3 = S3::new("interrupted");
    let root = PathBuf::from(env("BLINDFOLD_S3_DIR").expect(
        "BLINDFOLD_S3_DIR is not set: this case watches the server's files to break off an \
         upload mid-way; scripts/s3.sh start prints it",
    ));
    let store = Arc::new(s3.store());
    let big = Arc::new(pattern(128 << 20, 3));
    let hash = sha256(&big);
    let object_file = root.join(&s3.bucket).join(s3.key(&hash).as_ref());

    let upload = tokio::spawn({
        let (store, big) = (store.clone(), big.clone());
        async move { store.put(big.to_vec()).await }
    });
    // Wait until the server has part of the body on disk, then drop the put.
    let started = Instant::now();
    let (partial, len) = loop {
        assert!(
            !upload.is_finished(),
            "the 128 MiB upload finished before it could be broken off: {:?}",
            upload.await
        );
        if let Some(found) = staging_files(&root, 1 << 20)
            .into_iter()
            .find(|(_, len)| *len < big.len() as u64)
        {
            break found;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no staging file appeared in {}",
            root.display()
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    upload.abort();
    let outcome = upload.await;
    assert!(
        matches!(&outcome, Err(e) if e.is_cancelled()),
        "the put was not broken off: {outcome:?}"
    );
    eprintln!(
        "broke off the upload with {len} of {} bytes at the server",
        big.len()
    );

    // The server drops its staging file; nothing is visible under the key.
    let waited = Instant::now();
    while partial.exists() {
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "the server kept the staging file {} of the broken-off upload",
            partial.display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!object_file.exists(), "{}", object_file.display());
    assert!(!store.contains(&hash).await.unwrap());
    assert!(matches!(
        store.get(&hash, LIMIT).await,
        Err(StoreError::NotFound { hash: h }) if h == hash
    ));
    assert_eq!(s3.objects().await, []);

    // A retry stores the whole blob.
    assert_eq!(store.put(big.to_vec()).await.unwrap(), hash);
    assert_eq!(store.get(&hash, LIMIT).await.unwrap(), *big);
    assert_eq!(
        s3.objects().await,
        [(s3.key(&hash).to_string(), big.len() as u64)]
    );
    assert_eq!(
        std::fs::metadata(&object_file).unwrap().len(),
        big.len() as u64
    );
}
