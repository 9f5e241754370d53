//! Behaviour every store must share, run against the directory store, the
//! in-memory and local-file-system `object_store` backends, and `AnyStore`;
//! plus tamper and crash checks specific to each.

use std::sync::Arc;

use blindfold_store::object_store::local::LocalFileSystem;
use blindfold_store::object_store::memory::InMemory;
use blindfold_store::object_store::path::Path as ObjectPath;
use blindfold_store::object_store::{ObjectStore, PutOptions, PutPayload};
use blindfold_store::{sha256, AnyStore, BlobStore, DirStore, ObjectBlobStore, StoreError};

const LIMIT: u64 = 1 << 20;

/// Round trip, idempotence, absence, size limit: the contract of the trait.
async fn check_contract(store: &impl BlobStore) {
    let bytes = b"an encrypted echocardiogram, honestly".to_vec();
    let hash = sha256(&bytes);

    assert!(!store.contains(&hash).await.unwrap());
    match store.get(&hash, LIMIT).await {
        Err(StoreError::NotFound { hash: h }) => assert_eq!(h, hash),
        other => panic!("expected NotFound, got {other:?}"),
    }

    assert_eq!(store.put(bytes.clone()).await.unwrap(), hash);
    assert!(store.contains(&hash).await.unwrap());
    assert_eq!(store.get(&hash, LIMIT).await.unwrap(), bytes);

    // Idempotent.
    assert_eq!(store.put(bytes.clone()).await.unwrap(), hash);
    assert_eq!(store.get(&hash, LIMIT).await.unwrap(), bytes);

    // Exactly at the limit is fine; one byte under it is not.
    let len = bytes.len() as u64;
    assert_eq!(store.get(&hash, len).await.unwrap(), bytes);
    match store.get(&hash, len - 1).await {
        Err(StoreError::TooLarge {
            hash: h,
            len: l,
            limit,
        }) => {
            assert_eq!((h, l, limit), (hash, len, len - 1));
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }

    // Empty and large blobs (the large one is hashed on the blocking pool).
    let empty = store.put(Vec::new()).await.unwrap();
    assert_eq!(empty, sha256(b""));
    assert!(store.get(&empty, 0).await.unwrap().is_empty());
    let big: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let big_hash = store.put(big.clone()).await.unwrap();
    assert_eq!(store.get(&big_hash, LIMIT).await.unwrap(), big);

    assert!(!store.describe().is_empty());
}

#[tokio::test]
async fn dir_store_contract() {
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::open(dir.path().join("blobs")).unwrap();
    check_contract(&store).await;

    let hash = sha256(b"layout");
    store.put(b"layout".to_vec()).await.unwrap();
    let hex = hex::encode(hash);
    let expected = dir
        .path()
        .join("blobs")
        .join("sha256")
        .join(&hex[..2])
        .join(&hex);
    assert_eq!(store.path_of(&hash), expected);
    assert_eq!(std::fs::read(expected).unwrap(), b"layout");
}

#[tokio::test]
async fn object_store_in_memory_contract() {
    let store = ObjectBlobStore::new(Arc::new(InMemory::new()), "some/prefix", "memory".into());
    check_contract(&store).await;
}

#[tokio::test]
async fn object_store_local_file_system_contract() {
    let dir = tempfile::tempdir().unwrap();
    let local = LocalFileSystem::new_with_prefix(dir.path()).unwrap();
    let store = ObjectBlobStore::new(Arc::new(local), "/blobs/", "local".into());
    check_contract(&store).await;

    let hash = sha256(b"layout");
    store.put(b"layout".to_vec()).await.unwrap();
    let file = dir
        .path()
        .join("blobs")
        .join("sha256")
        .join(hex::encode(hash));
    assert_eq!(std::fs::read(file).unwrap(), b"layout");
}

#[tokio::test]
async fn any_store_contracts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain");
    let store = AnyStore::open(path.to_str().unwrap()).unwrap();
    assert!(matches!(store, AnyStore::Dir(_)));
    check_contract(&store).await;
    assert!(path.join("sha256").is_dir());

    let url = format!("file://{}", dir.path().join("from-url").display());
    let store = AnyStore::open(&url).unwrap();
    assert!(matches!(store, AnyStore::Dir(_)));
    check_contract(&store).await;

    let store = AnyStore::open("memory://").unwrap();
    assert!(matches!(store, AnyStore::Object(_)));
    check_contract(&store).await;
}

#[tokio::test]
async fn object_blob_store_from_url() {
    let store = ObjectBlobStore::from_url("memory://").unwrap();
    assert_eq!(store.describe(), "memory://");
    check_contract(&store).await;

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("local");
    let store = ObjectBlobStore::from_url(&format!("file://{}", root.display())).unwrap();
    check_contract(&store).await;
    assert!(root.join("sha256").is_dir());
}

#[test]
fn bad_specs_are_refused() {
    for spec in [
        "ftp://x",
        "",
        "  ",
        "http://example.com/blobs",
        "gs://bucket/x",
    ] {
        match AnyStore::open(spec) {
            Err(StoreError::InvalidSpec(msg)) => assert!(!msg.is_empty()),
            other => panic!("{spec:?}: expected InvalidSpec, got {other:?}"),
        }
    }
    assert!(matches!(
        ObjectBlobStore::from_url("ftp://x"),
        Err(StoreError::InvalidSpec(_))
    ));
}

#[test]
fn s3_spec_opens_without_network() {
    // Building the client only reads configuration; nothing is contacted.
    let store = AnyStore::open("s3://bucket/some/prefix").unwrap();
    assert!(matches!(store, AnyStore::Object(_)));
    assert_eq!(store.describe(), "s3://bucket/some/prefix");
    let AnyStore::Object(store) = store else {
        unreachable!()
    };
    assert_eq!(
        store.key_of(&[0xab; 32]).as_ref(),
        format!("some/prefix/sha256/{}", "ab".repeat(32))
    );
}

#[tokio::test]
async fn dir_store_detects_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::open(dir.path()).unwrap();
    let bytes = b"ciphertext".to_vec();
    let hash = store.put(bytes.clone()).await.unwrap();

    // Other bytes of the same length, then a truncated file.
    for forged in [&b"CIPHERTEXT"[..], &b"cipher"[..]] {
        std::fs::write(store.path_of(&hash), forged).unwrap();
        match store.get(&hash, LIMIT).await {
            Err(StoreError::HashMismatch { expected, actual }) => {
                assert_eq!(expected, hash);
                assert_eq!(actual, sha256(forged));
            }
            other => panic!("expected HashMismatch, got {other:?}"),
        }
    }

    // Putting the real bytes again repairs the blob.
    assert_eq!(store.put(bytes.clone()).await.unwrap(), hash);
    assert_eq!(store.get(&hash, LIMIT).await.unwrap(), bytes);
}

#[tokio::test]
async fn object_store_detects_tampering() {
    let backend: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let store = ObjectBlobStore::new(backend.clone(), "p", "memory".into());
    let hash = store.put(b"ciphertext".to_vec()).await.unwrap();

    let forged = b"CIPHERTEXT";
    backend
        .put_opts(
            &store.key_of(&hash),
            PutPayload::from(forged.to_vec()),
            PutOptions::default(),
        )
        .await
        .unwrap();
    match store.get(&hash, LIMIT).await {
        Err(StoreError::HashMismatch { expected, actual }) => {
            assert_eq!(expected, hash);
            assert_eq!(actual, sha256(forged));
        }
        other => panic!("expected HashMismatch, got {other:?}"),
    }

    // Putting the real bytes again repairs the blob. The forgery has the
    // blob's size, so only reading it back tells the put it is not the blob.
    assert_eq!(store.put(b"ciphertext".to_vec()).await.unwrap(), hash);
    assert_eq!(store.get(&hash, LIMIT).await.unwrap(), b"ciphertext");
}

#[tokio::test]
async fn dir_store_checks_size_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::open(dir.path()).unwrap();
    let hash = sha256(b"small");
    let path = store.path_of(&hash);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    // A sparse 1 GiB file under the name: refused by its size, not read (and
    // not hashed: reading it would make this test slow, and its hash would not
    // match anyway, which would be a different error).
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(1 << 30).unwrap();
    match store.get(&hash, LIMIT).await {
        Err(StoreError::TooLarge { len, limit, .. }) => {
            assert_eq!((len, limit), (1 << 30, LIMIT));
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

#[tokio::test]
async fn object_store_checks_size_before_reading() {
    let backend: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let store = ObjectBlobStore::new(backend.clone(), "", "memory".into());
    let hash = sha256(b"small");
    let key = store.key_of(&hash);
    assert_eq!(
        key,
        ObjectPath::from(format!("sha256/{}", hex::encode(hash)))
    );
    backend
        .put_opts(
            &key,
            PutPayload::from(vec![0u8; 4096]),
            PutOptions::default(),
        )
        .await
        .unwrap();
    match store.get(&hash, 100).await {
        Err(StoreError::TooLarge { len, limit, .. }) => assert_eq!((len, limit), (4096, 100)),
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

#[tokio::test]
async fn interrupted_write_leaves_no_visible_blob() {
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::open(dir.path()).unwrap();
    let bytes = b"a blob whose write was interrupted".to_vec();
    let hash = sha256(&bytes);

    // What a crash between creating the temporary file and renaming it leaves
    // behind: a partial temporary file next to where the blob would go.
    let path = store.path_of(&hash);
    let shard = path.parent().unwrap();
    std::fs::create_dir_all(shard).unwrap();
    let leftover = shard.join(format!(".tmp-{}-1-0", hex::encode(hash)));
    std::fs::write(&leftover, &bytes[..10]).unwrap();

    assert!(!store.contains(&hash).await.unwrap());
    assert!(matches!(
        store.get(&hash, LIMIT).await,
        Err(StoreError::NotFound { .. })
    ));

    // A later put succeeds regardless, and only whole blobs are ever named.
    assert_eq!(store.put(bytes.clone()).await.unwrap(), hash);
    assert!(store.contains(&hash).await.unwrap());
    assert_eq!(store.get(&hash, LIMIT).await.unwrap(), bytes);
    assert_eq!(std::fs::read(&leftover).unwrap(), &bytes[..10]);
    let names: Vec<_> = std::fs::read_dir(shard)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.starts_with(".tmp-"))
        .collect();
    assert_eq!(names, [hex::encode(hash)]);
}

#[tokio::test]
async fn failed_write_leaves_nothing() {
    // The shard directory's place is taken by a file, so the write fails; no
    // blob, and no temporary file, may be left behind.
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::open(dir.path()).unwrap();
    let bytes = b"doomed".to_vec();
    let hash = sha256(&bytes);
    let shard = store.path_of(&hash).parent().unwrap().to_path_buf();
    std::fs::write(&shard, b"in the way").unwrap();
    assert!(matches!(store.put(bytes).await, Err(StoreError::Io { .. })));
    assert!(!store.contains(&hash).await.unwrap_or(false));
}

#[tokio::test]
async fn concurrent_puts_of_one_blob_agree() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(DirStore::open(dir.path()).unwrap());
    let bytes: Vec<u8> = (0..100_000u32).map(|i| (i % 256) as u8).collect();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        let bytes = bytes.clone();
        tasks.push(tokio::spawn(async move { store.put(bytes).await.unwrap() }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), sha256(&bytes));
    }
    assert_eq!(store.get(&sha256(&bytes), LIMIT).await.unwrap(), bytes);
    let shard = store
        .path_of(&sha256(&bytes))
        .parent()
        .unwrap()
        .to_path_buf();
    assert_eq!(
        std::fs::read_dir(shard).unwrap().count(),
        1,
        "no temp files left"
    );
}
