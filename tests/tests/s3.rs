//! The marketplace end to end with every blob in S3: the embedded chain, and
//! a real S3-compatible server (`scripts/s3.sh`, started by `scripts/test.sh`,
//! which runs the `s3_` cases; `#[ignore]`d otherwise). The client, both
//! workers and the owner's release read and write one `s3://` store; no
//! local blob directory exists.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{ensure, Context, Result};
use blindfold_client::owner::{self, ReleaseOptions, ReleaseOutcome};
use blindfold_client::researcher;
use blindfold_e2e::{DatasetConfig, Scenario};
use blindfold_fhe::Scheme;
use blindfold_protocol::types::JobStatus;
use blindfold_store::object_store::aws::AmazonS3Builder;
use blindfold_store::object_store::path::Path as ObjectPath;
use blindfold_store::object_store::ObjectStore;
use blindfold_store::{BlobStore, ObjectBlobStore};

/// The `s3://bucket/prefix` this run's blobs go to: the bucket
/// `scripts/s3.sh` created, and a prefix no other run uses.
fn store_url() -> Result<(String, String)> {
    let set = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    ensure!(
        set("AWS_ENDPOINT").is_some(),
        "AWS_ENDPOINT is not set: s3_end_to_end needs an S3 server; run scripts/test.sh, \
         or eval \"$(scripts/s3.sh start)\" first"
    );
    let bucket = set("BLINDFOLD_S3_BUCKET").unwrap_or_else(|| "blindfold-test".into());
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos();
    let prefix = format!("e2e-{}-{nanos}", std::process::id());
    Ok((format!("s3://{bucket}/{prefix}"), bucket))
}

/// Register, submit, request, two workers compute and agree, the owner
/// verifies, decrypts and releases, the researcher fetches; then every blob
/// the chain names is in the bucket, and every object there is a whole blob.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs an S3 server: scripts/s3.sh (run by scripts/test.sh)"]
async fn s3_end_to_end() -> Result<()> {
    let (url, bucket) = store_url()?;
    let dir = tempfile::tempdir()?;
    let store = ObjectBlobStore::from_url(&url)?;
    let s = Scenario::start_with_store("embedded", dir.path(), store).await?;
    assert_eq!(s.client.store().describe(), url);

    let data = s
        .dataset(&DatasetConfig {
            scheme: Scheme::BFV,
            ..DatasetConfig::tiny(3)
        })
        .await?;
    let job = s.request_lv_area(&data, 0).await?;
    let workers = [s.worker(0, 1)?, s.worker(1, 1)?];
    let info = s
        .run_workers_until(
            &workers,
            job,
            Duration::from_secs(600),
            |j| j.status == JobStatus::Computed,
            |_| async { Ok(()) },
        )
        .await?;
    assert_eq!(info.claims.len(), 2);
    assert!(info
        .claims
        .iter()
        .all(|c| c.result_blob_hash == info.result_blob_hash));

    let options = ReleaseOptions {
        threads: Some(2),
        ..ReleaseOptions::default()
    };
    let report = owner::release_job(&s.client, &s.owner, &data.keys, job, &options).await?;
    assert!(
        matches!(report.outcome, ReleaseOutcome::Released { cohort: 3, .. }),
        "{report:?}"
    );
    assert!(report.finalized);
    let released = researcher::fetch_result(&s.client, job, Some(&s.release_key)).await?;
    assert_eq!(released.videos.len(), 3);

    // Every blob the chain names is in the bucket; nothing went to disk.
    let info = s.client.job(job).await?;
    let inputs = s
        .market()
        .history()
        .await?
        .dataset_inputs(data.id)
        .for_job(job, &info)?;
    let mut named: BTreeSet<String> = inputs.iter().map(|i| hex::encode(i.blob_hash)).collect();
    named.insert(hex::encode(info.server_key_hash));
    named.insert(hex::encode(info.result_blob_hash.context("agreed result")?));
    named.insert(hex::encode(info.released_hash.context("released result")?));
    assert_eq!(named.len(), 6, "3 inputs, the key, the result, the release");

    let raw = AmazonS3Builder::from_env()
        .with_bucket_name(&bucket)
        .build()?;
    let prefix = url.trim_start_matches(&format!("s3://{bucket}/"));
    let listed = raw
        .list_with_delimiter(Some(&ObjectPath::from(format!("{prefix}/sha256"))))
        .await?;
    let stored: BTreeSet<String> = listed
        .objects
        .iter()
        .filter_map(|o| o.location.filename().map(str::to_string))
        .collect();
    assert!(
        named.is_subset(&stored),
        "not in the bucket: {:?}",
        named.difference(&stored).collect::<Vec<_>>()
    );
    for name in &stored {
        let mut hash = [0u8; 32];
        hex::decode_to_slice(name, &mut hash)?;
        s.client.store().get(&hash, 1 << 30).await?;
    }
    assert!(
        !dir.path().join("store").exists(),
        "a local blob directory was created"
    );
    Ok(())
}
