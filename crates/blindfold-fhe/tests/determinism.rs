//! The result blob of the same (server key, params, input) is byte-identical
//! across runs, across rayon pools of 1 and 2 threads, and across a server
//! key re-loaded from its serialised bytes.

mod common;

use blindfold_fhe::{
    evaluate, EncryptedResult, EncryptedVideo, FeatureKind, HistogramParams, LinearModelParams,
    LvAreaParams, Mask, ParamSet, PipelineParams, Progress, ServerKey,
};
use common::{keys, pbs_counter_lock, random_video};
use sha2::{Digest, Sha256};

fn result_hash(
    sk: &ServerKey,
    params: &PipelineParams,
    video: &EncryptedVideo,
    threads: usize,
) -> [u8; 32] {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool");
    let result = pool
        .install(|| evaluate(sk, params, video, &Progress::new()))
        .expect("evaluate");
    let bytes = result.to_bytes().expect("serialise");
    // The blob round-trips to the same bytes.
    let again = EncryptedResult::from_bytes(&bytes).expect("reload");
    assert_eq!(again.to_bytes().expect("serialise"), bytes);
    Sha256::digest(&bytes).into()
}

#[test]
fn results_are_identical_across_thread_counts_and_runs() {
    let k = keys();
    let _guard = pbs_counter_lock();
    let video = random_video(42, 6, 6, 4, 2)
        .encrypt(&k.client)
        .expect("encrypt");
    let all_params = [
        PipelineParams::LvArea(LvAreaParams {
            frames: vec![],
            mask: Mask::All,
            threshold: 8,
        }),
        PipelineParams::Histogram(HistogramParams {
            frames: vec![1],
            mask: Mask::Rect {
                x: 1,
                y: 1,
                width: 3,
                height: 3,
            },
        }),
        PipelineParams::LinearModel(LinearModelParams {
            features: vec![blindfold_fhe::Feature {
                frame: 0,
                region: Mask::All,
                kind: FeatureKind::DarkCount { threshold: 4 },
                weight: 3,
            }],
            bias: 1,
        }),
    ];
    // A server key re-loaded from the compressed bytes must give the same bits.
    let reloaded = blindfold_fhe::CompressedServerKey::from_bytes(
        &k.compressed.to_bytes().expect("serialise key"),
        ParamSet::V1,
    )
    .expect("load key")
    .decompress();
    for params in &all_params {
        let one = result_hash(&k.server, params, &video, 1);
        let two = result_hash(&k.server, params, &video, 2);
        let two_again = result_hash(&k.server, params, &video, 2);
        let reloaded_two = result_hash(&reloaded, params, &video, 2);
        assert_eq!(one, two, "1 vs 2 threads differ for {params:?}");
        assert_eq!(two, two_again, "two runs differ for {params:?}");
        assert_eq!(two, reloaded_two, "reloaded key differs for {params:?}");
        println!("{}: sha256 {}", params.id(), hex::encode(two));
    }
}
