//! The client's roles in-process on the embedded chain, with the release
//! `artifacts/marketplace.wasm` (built by `scripts/build-contract.sh`; the
//! test prints SKIPPED and passes when it is missing).
//!
//! keygen → register → submit 2 tiny synthetic videos (8x8, 2 bits, ED/ES)
//! → request; then two workers simulated here compute, commit and reveal;
//! the owner releases, the researcher fetches and plots, and a verifier
//! re-runs the job. A second job shows the cohort refusal.

use std::path::PathBuf;

use blindfold_chain::embedded::EmbeddedChain;
use blindfold_chain::{Chain, Signer};
use blindfold_client::owner::{self, DatasetSpec, ReleaseOptions, ReleaseOutcome, SubmitOptions};
use blindfold_client::researcher::{self, RequestOptions, ShardSize};
use blindfold_client::sources::{FrameSpec, PrepSpec, Source};
use blindfold_client::{operator, plot, seal, verify, Client, OwnerKeys};
use blindfold_echo::PhantomConfig;
use blindfold_market::{commitment, UNIT};
use blindfold_protocol::hash;
use blindfold_protocol::types::{JobId, JobStatus, PipelineSet, Policy};
use blindfold_store::{BlobStore, DirStore};
use indicatif::ProgressBar;

type TestClient = Client<EmbeddedChain, DirStore>;

fn wasm() -> Option<Vec<u8>> {
    // Cargo sets CARGO_MANIFEST_DIR when it runs a test; the compiled-in
    // path may name another checkout that shared the target directory.
    let crate_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    let path = crate_dir.join("../artifacts/marketplace.wasm");
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(_) => {
            println!(
                "SKIPPED: {} is missing; build it with scripts/build-contract.sh",
                path.display()
            );
            None
        }
    }
}

/// What a worker does: evaluate every unit of inputs through the one job
/// path, bundle, store the bundle. Returns the bundle's hash.
async fn compute(client: &TestClient, job_id: JobId) -> [u8; 32] {
    let job = client.market().job(job_id).await.unwrap();
    let ctx = client.job_context(job_id, job).await.unwrap();
    let key = ctx.fetch_server_key(client.store()).await.unwrap();
    let recomputed = ctx
        .recompute(client.store(), key, &ctx.units(), Some(2), || {})
        .await
        .unwrap();
    client
        .store()
        .put(recomputed.bundle.to_bytes())
        .await
        .unwrap()
}

/// Lets `job_id`'s current window pass on the embedded clock and advances
/// it (as `anyone`): its new status.
async fn pass_window(client: &TestClient, anyone: &Signer, job_id: JobId) -> JobStatus {
    let m = client.market();
    let job = m.job(job_id).await.unwrap();
    let now = m.chain().now().await.unwrap();
    m.chain()
        .advance_time(job.deadline.saturating_sub(now))
        .unwrap();
    m.advance(anyone, job_id).await.unwrap()
}

/// Workers offer (no more than the slots, so all are drawn when the offer
/// window passes), commit and reveal the same result, and the challenge
/// window passes: the job becomes Computed.
async fn agree(client: &TestClient, workers: &[&Signer], job_id: JobId, result: [u8; 32]) {
    let m = client.market();
    let round = m.job(job_id).await.unwrap().round;
    for w in workers {
        let secret = blindfold_store::sha256(&w.account());
        let seed_hash = hash::offer_seed(job_id, round, &w.account(), &secret);
        m.offer(w, job_id, seed_hash).await.unwrap();
    }
    assert_eq!(
        pass_window(client, workers[0], job_id).await,
        JobStatus::Computing
    );
    let job = m.job(job_id).await.unwrap();
    let c = commitment(job_id, &job, &result);
    for w in workers {
        m.commit(w, job_id, hash::seal(&c, &w.account()))
            .await
            .unwrap();
    }
    for w in workers {
        m.reveal(w, job_id, result).await.unwrap();
    }
    // Agreed: nobody challenges within the challenge window.
    assert_eq!(m.job(job_id).await.unwrap().status, JobStatus::Challenge);
    assert_eq!(
        pass_window(client, workers[0], job_id).await,
        JobStatus::Computed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_researcher_worker_verifier_on_the_embedded_chain() {
    let Some(wasm) = wasm() else { return };
    let [alice, bob, charlie, dave, eve] =
        ["//Alice", "//Bob", "//Charlie", "//Dave", "//Eve"].map(|s| Signer::from_uri(s).unwrap());
    let market = operator::deploy(EmbeddedChain::new(), &alice, &wasm, b"")
        .await
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let store = DirStore::open(tmp.path().join("blobs")).unwrap();
    let client = Client::new(market, store);

    // Data owner (Bob): keys, dataset, two tiny synthetic videos.
    let keys_dir = tmp.path().join("keys");
    let (keys, report) =
        owner::keygen(&keys_dir, client.store(), blindfold_fhe::Scheme::BFV, false)
            .await
            .unwrap();
    assert!(client
        .store()
        .contains(&report.server_key_hash)
        .await
        .unwrap());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(keys_dir.join("client.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let again = owner::keygen(&keys_dir, client.store(), blindfold_fhe::Scheme::BFV, false)
        .await
        .unwrap_err();
    assert!(again.to_string().contains("--force"), "{again}");
    let keys = OwnerKeys::load(keys.dir()).unwrap();

    let spec = DatasetSpec {
        name: "tiny phantoms".into(),
        price: 5 * UNIT,
        policy: Policy {
            allowed_pipelines: PipelineSet::ALL,
            min_cohort: 2,
            replication: 2,
            dp_epsilon_budget: None,
        },
        prep: PrepSpec {
            width: 8,
            height: 8,
            bits: 2,
            frames: FrameSpec::EdEs,
            roi: None,
        },
        aggregates_only: false,
        public_releases: false,
        verify: blindfold_job::VerifyPolicy::Full,
    };
    let registered = owner::register(&client, &bob, &keys, &spec).await.unwrap();
    let ds = registered.dataset_id;
    let source = Source::Synthetic {
        dir: tmp.path().join("phantoms"),
        config: PhantomConfig {
            videos: 2,
            frames: 12,
            width: 16,
            height: 16,
            seed: 3,
            ..PhantomConfig::default()
        },
    };
    let hidden = ProgressBar::hidden();
    let submitted = owner::submit_videos(
        &client,
        &bob,
        &keys,
        ds,
        &source,
        &SubmitOptions::default(),
        &hidden,
    )
    .await
    .unwrap();
    assert_eq!(submitted.submitted.len(), 2);
    assert_eq!(submitted.submission_count, 2);
    // A second run skips what the ledger says was submitted.
    let rerun = owner::submit_videos(
        &client,
        &bob,
        &keys,
        ds,
        &source,
        &SubmitOptions::default(),
        &hidden,
    )
    .await
    .unwrap();
    assert!(rerun.submitted.is_empty());
    assert_eq!(rerun.skipped.len(), 2);
    // Someone else's submission is refused before any work.
    let err = owner::submit_videos(
        &client,
        &charlie,
        &keys,
        ds,
        &source,
        &SubmitOptions::default(),
        &hidden,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("belongs to"), "{err}");

    // Researcher (Charlie): list, request lv-area with default params.
    let list = researcher::list_datasets(&client).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].cohort, 2);
    assert_eq!(list[0].metadata.as_ref().unwrap().geometry.frames, 2);
    let geometry = list[0].metadata.as_ref().unwrap().geometry;
    let params = researcher::default_params("lv-area", &geometry).unwrap();
    // The researcher's release key: results are sealed to it.
    let recipient = seal::generate_identity(&tmp.path().join("charlie"), false).unwrap();
    let identity = seal::load_identity(&seal::identity_path(&tmp.path().join("charlie"))).unwrap();
    let clear = RequestOptions {
        params: params.clone(),
        epsilon_milli: 0,
        compute_window_ms: None,
        release_to: None,
        shard_size: ShardSize::Auto,
    };
    let err = researcher::request_job(&client, &charlie, ds, &clear)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("researcher-key"), "{err}");
    let request = RequestOptions {
        release_to: Some(recipient.to_string()),
        ..clear
    };
    let before = client.market().balance(&charlie.account()).await.unwrap();
    let requested = researcher::request_job(&client, &charlie, ds, &request)
        .await
        .unwrap();
    let job_id = requested.job_id;
    // price + worker_fee x (replication + 1) = 5 + 1 x 3 units: two
    // videos are far below a shard's worth of work, so `auto` keeps the job
    // whole.
    assert_eq!((requested.shards, requested.shard_size), (1, 0));
    assert_eq!(requested.escrow, 8 * UNIT);
    let after = client.market().balance(&charlie.account()).await.unwrap();
    assert!(before - after >= 8 * UNIT);
    let status = researcher::job_status(&client, job_id).await.unwrap();
    assert_eq!(status.status, "Open");
    assert_eq!(status.cohort, 2);
    let err = researcher::fetch_result(&client, job_id, Some(&identity))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no released result yet"), "{err}");
    let err = verify::verify_job(&client, job_id, Some(1), &hidden)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("nothing to verify"), "{err}");

    // Two workers (Dave, Eve) agree on the result.
    for w in [&dave, &eve] {
        client.market().stake(w, 10 * UNIT).await.unwrap();
    }
    let result = compute(&client, job_id).await;
    agree(&client, &[&dave, &eve], job_id, result).await;

    // The owner releases: decrypt, policy, publish, finalise.
    let released = owner::release_job(&client, &bob, &keys, job_id, &ReleaseOptions::default())
        .await
        .unwrap();
    assert!(released.finalized);
    let ReleaseOutcome::Released {
        cohort,
        per_video,
        dp,
        ..
    } = released.outcome
    else {
        panic!("{released:?}")
    };
    assert_eq!((cohort, per_video, dp), (2, true, None));
    assert_eq!(
        client.market().job(job_id).await.unwrap().status,
        JobStatus::Finalized
    );
    let earned = owner::withdraw(&client, &bob).await.unwrap();
    assert_eq!(earned, 5 * UNIT);

    // Anyone who reads the store sees ciphertext; a wrong key or none is a clear error.
    let released_hash = client
        .market()
        .job(job_id)
        .await
        .unwrap()
        .released_hash
        .unwrap();
    let sealed = client.store().get(&released_hash, 1 << 20).await.unwrap();
    assert!(!String::from_utf8_lossy(&sealed).contains("mean_ef_percent"));
    let err = researcher::fetch_result(&client, job_id, None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("is sealed to age1"), "{err}");
    let stranger = seal::generate_identity(&tmp.path().join("mallory"), false).unwrap();
    assert_ne!(stranger.to_string(), recipient.to_string());
    let mallory = seal::load_identity(&seal::identity_path(&tmp.path().join("mallory"))).unwrap();
    let err = researcher::fetch_result(&client, job_id, Some(&mallory))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("does not open"), "{err}");

    // The researcher fetches, checks, tabulates and plots.
    let r = researcher::fetch_result(&client, job_id, Some(&identity))
        .await
        .unwrap();
    assert_eq!(r.cohort, 2);
    assert_eq!(r.videos.len(), 2);
    assert!(r
        .videos
        .iter()
        .all(|v| v.values.len() == 2 && v.ef_percent.is_some()));
    assert!(r.aggregates.contains_key("mean_ef_percent"));
    let table = researcher::result_table(&r);
    assert!(table.contains("mean_ef_percent"), "{table}");
    let plots = plot::write_plots(&r, &tmp.path().join("plots")).unwrap();
    assert_eq!(plots.files.len(), 2, "{plots:?}");

    // Anyone re-runs the job and matches the chain's commitment.
    let v = verify::verify_job(&client, job_id, Some(2), &hidden)
        .await
        .unwrap();
    assert!(v.matches, "{v:?}");
    assert_eq!(
        Some(v.result_hash),
        client.market().job(job_id).await.unwrap().result_blob_hash
    );
    assert_eq!(v.inputs, 2);
    // A BFV dataset: no bootstrap, a few multiplications and rotations.
    assert_eq!(v.pbs, 0);
    assert!(v.multiplications > 0 && v.rotations > 0 && v.seconds > 0.0);

    // Cohort refusal: the owner raises its minimum after a job was requested.
    let job2 = researcher::request_job(&client, &charlie, ds, &request)
        .await
        .unwrap()
        .job_id;
    let result2 = compute(&client, job2).await;
    agree(&client, &[&dave, &eve], job2, result2).await;
    let stricter = Policy {
        min_cohort: 3,
        ..spec.policy
    };
    client
        .market()
        .update_dataset(&bob, ds, spec.price, stricter)
        .await
        .unwrap();
    let refused = owner::release_job(&client, &bob, &keys, job2, &ReleaseOptions::default())
        .await
        .unwrap();
    assert_eq!(
        refused.outcome,
        ReleaseOutcome::Refused {
            cohort: 2,
            min_cohort: 3
        }
    );
    assert_eq!(
        client.market().job(job2).await.unwrap().status,
        JobStatus::Refunded
    );

    // Revocation: job 3 would cover one video, below the minimum.
    owner::revoke(&client, &bob, ds, 1).await.unwrap();
    let err = owner::revoke(&client, &bob, ds, 7).await.unwrap_err();
    assert!(err.to_string().contains("no index 7"), "{err}");
    let err = researcher::request_job(&client, &charlie, ds, &request)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("min_cohort"), "{err}");
}
