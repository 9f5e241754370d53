//! Wire formats: round trips, and untrusted bytes (truncated, garbage,
//! wrong type, wrong parameter set) giving typed errors, never panics.

mod common;

use blindfold_fhe::{
    evaluate, ClientKey, CompressedServerKey, EncryptedResult, EncryptedVideo, FheError, Geometry,
    LvAreaParams, Mask, ParamSet, PipelineParams, PlainVideo, Progress, Scheme, SchemeClientKey,
    ServerKey,
};
use common::{keys, pbs_counter_lock, random_video};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Truncations at several points and random garbage must all be errors.
fn assert_rejects<T: std::fmt::Debug>(bytes: &[u8], load: impl Fn(&[u8]) -> Result<T, FheError>) {
    let mut cuts = vec![0, 1, 7, 8, 16, 40, bytes.len() / 2, bytes.len() - 1];
    cuts.retain(|&c| c < bytes.len());
    for cut in cuts {
        let r = load(&bytes[..cut]);
        assert!(r.is_err(), "truncation at {cut} accepted");
    }
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for len in [1usize, 64, 4096] {
        let garbage: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
        assert!(load(&garbage).is_err(), "{len} garbage bytes accepted");
    }
    // A huge claimed length right after a valid header must hit the size limit.
    let mut huge = bytes[..bytes.len().min(64)].to_vec();
    huge.extend_from_slice(&[0xff; 64]);
    assert!(load(&huge).is_err());
}

#[test]
fn keys_round_trip_and_reject_bad_bytes() {
    let k = keys();
    let ck_bytes = k.client.to_bytes().expect("client key bytes");
    let ck = ClientKey::from_bytes(&ck_bytes, ParamSet::V1).expect("reload client key");
    assert_eq!(ck.to_bytes().expect("bytes"), ck_bytes);
    assert_rejects(&ck_bytes, |b| ClientKey::from_bytes(b, ParamSet::V1));

    let csk_bytes = k.compressed.to_bytes().expect("compressed key bytes");
    let csk = CompressedServerKey::from_bytes(&csk_bytes, ParamSet::V1).expect("reload");
    assert_eq!(csk.to_bytes().expect("bytes"), csk_bytes);
    assert_rejects(&csk_bytes, |b| {
        CompressedServerKey::from_bytes(b, ParamSet::V1)
    });

    let sk_bytes = k.server.to_bytes().expect("server key bytes");
    println!(
        "V1 sizes: client key {} B, compressed server key {} B, server key {} B",
        ck_bytes.len(),
        csk_bytes.len(),
        sk_bytes.len()
    );
    let sk = ServerKey::from_bytes(&sk_bytes, ParamSet::V1).expect("reload server key");
    assert_eq!(sk.to_bytes().expect("bytes"), sk_bytes);
    // Decompressing the same compressed key twice gives the same server key.
    assert_eq!(csk.decompress().to_bytes().expect("bytes"), sk_bytes);
    for cut in [0, 100, sk_bytes.len() / 2, sk_bytes.len() - 1] {
        assert!(ServerKey::from_bytes(&sk_bytes[..cut], ParamSet::V1).is_err());
    }
    // A key of one type is not accepted as another.
    assert!(ServerKey::from_bytes(&csk_bytes, ParamSet::V1).is_err());
    assert!(CompressedServerKey::from_bytes(&ck_bytes, ParamSet::V1).is_err());
    assert!(ClientKey::from_bytes(&csk_bytes, ParamSet::V1).is_err());
}

#[test]
fn video_blob_round_trip_size_and_bad_bytes() {
    let k = keys();
    let plain = random_video(11, 32, 32, 4, 2);
    let enc = plain.encrypt(&k.client).expect("encrypt");
    let bytes = enc.to_bytes().expect("bytes");
    let pixels = 32 * 32 * 2;
    let per_pixel = bytes.len() as f64 / pixels as f64;
    println!(
        "encrypted video 32x32x2: {} bytes, {per_pixel:.3} bytes/pixel",
        bytes.len()
    );
    assert!(per_pixel <= 8.5, "{per_pixel} bytes per pixel");
    let reloaded = EncryptedVideo::from_bytes(&bytes, ParamSet::V1).expect("reload");
    assert_eq!(reloaded, enc);
    assert_eq!(reloaded.decrypt(&k.client).expect("decrypt"), plain);
    assert_rejects(&bytes, |b| EncryptedVideo::from_bytes(b, ParamSet::V1));
    // Two encryptions of the same video differ (fresh seeds and noise).
    assert_ne!(plain.encrypt(&k.client).expect("encrypt"), enc);
}

#[test]
fn invalid_plain_videos_are_errors() {
    let ok = vec![vec![0u8; 4]];
    assert!(PlainVideo::new(2, 2, 4, ok.clone(), ParamSet::V1).is_ok());
    assert!(PlainVideo::new(2, 2, 5, ok.clone(), ParamSet::V1).is_err());
    assert!(PlainVideo::new(2, 2, 0, ok.clone(), ParamSet::V1).is_err());
    assert!(PlainVideo::new(0, 2, 4, vec![vec![]], ParamSet::V1).is_err());
    assert!(PlainVideo::new(2, 2, 4, vec![], ParamSet::V1).is_err());
    assert!(PlainVideo::new(2, 2, 4, vec![vec![0; 3]], ParamSet::V1).is_err());
    assert!(PlainVideo::new(2, 2, 2, vec![vec![0, 1, 2, 4]], ParamSet::V1).is_err());
    assert!(PlainVideo::new(u16::MAX, u16::MAX, 4, vec![vec![]], ParamSet::V1).is_err());
}

#[test]
fn result_blob_round_trip_and_structure_checks() {
    let k = keys();
    let _guard = pbs_counter_lock();
    let plain = random_video(12, 4, 4, 4, 1);
    let enc = plain.encrypt(&k.client).expect("encrypt");
    let params = PipelineParams::LvArea(LvAreaParams {
        frames: vec![],
        mask: Mask::All,
        threshold: 5,
    });
    let result = evaluate(&k.server, &params, &enc, &Progress::new()).expect("evaluate");
    let bytes = result.to_bytes().expect("bytes");
    let reloaded = EncryptedResult::from_bytes(&bytes).expect("reload");
    assert_eq!(reloaded, result);
    assert_eq!(
        reloaded.decrypt(&k.client, &params).expect("decrypt"),
        params.plaintext(&plain).expect("plain")
    );
    assert_rejects(&bytes, EncryptedResult::from_bytes);
    // A video blob is not a result blob.
    assert!(EncryptedResult::from_bytes(&enc.to_bytes().expect("bytes")).is_err());
    // Decrypting with other params is refused.
    let other = PipelineParams::LvArea(LvAreaParams {
        frames: vec![],
        mask: Mask::All,
        threshold: 6,
    });
    assert!(matches!(
        reloaded.decrypt(&k.client, &other),
        Err(FheError::InvalidResult(_))
    ));
}

/// A 4x4x1 lv-area result: its params, its dataset geometry, its blob.
fn small_lv_result() -> (PipelineParams, Geometry, PlainVideo, Vec<u8>) {
    let k = keys();
    let _guard = pbs_counter_lock();
    let plain = random_video(13, 4, 4, 4, 1);
    let enc = plain.encrypt(&k.client).expect("encrypt");
    let params = PipelineParams::LvArea(LvAreaParams {
        frames: vec![],
        mask: Mask::All,
        threshold: 8,
    });
    let result = evaluate(&k.server, &params, &enc, &Progress::new()).expect("evaluate");
    assert_eq!(result.key_switched_count(), result.ciphertext_count());
    let bytes = result.to_bytes().expect("bytes");
    (params, plain.geometry(), plain, bytes)
}

#[test]
fn result_claiming_another_geometry_is_refused() {
    let k = keys();
    let (params, g, plain, bytes) = small_lv_result();
    let owner = SchemeClientKey::Tfhe(Box::new(k.client.clone()));
    // The dataset's own geometry: loads and decrypts.
    let ok = EncryptedResult::from_bytes_as(&bytes, ParamSet::V1, &params, &g).expect("load");
    assert_eq!(
        ok.decrypt_as(&k.client, &params, &g).expect("decrypt"),
        params.plaintext(&plain).expect("plain")
    );
    assert_eq!(
        owner.decrypt_result(&bytes, &params, &g).expect("decrypt"),
        params.plaintext(&plain).expect("plain")
    );
    // The blob is honest, the dataset is another shape (larger, more
    // frames, smaller): refused, with the geometry or the size named.
    for other in [
        Geometry { width: 8, ..g },
        Geometry { frames: 2, ..g },
        Geometry { bits: 2, ..g },
        Geometry {
            width: 2,
            height: 2,
            ..g
        },
    ] {
        let err = EncryptedResult::from_bytes_as(&bytes, ParamSet::V1, &params, &other)
            .expect_err("another geometry must be refused");
        let msg = err.to_string();
        assert!(
            msg.contains("claims geometry")
                || matches!(
                    err,
                    FheError::TooLarge { .. } | FheError::InvalidParams { .. }
                ),
            "{other:?}: {msg}"
        );
        assert!(owner.decrypt_result(&bytes, &params, &other).is_err());
        let reloaded = EncryptedResult::from_bytes(&bytes).expect("reload");
        assert!(reloaded.decrypt_as(&k.client, &params, &other).is_err());
    }
    // A forged blob: the same ciphertexts, claiming 8x4 frames. Refused
    // against the dataset's 4x4 (the claim differs) and against a dataset
    // of 8x4 (the parts are not the plan's): an error either way, no panic.
    let claimed: Vec<u8> = [4u32, 4, 4, 1]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let at = bytes
        .windows(claimed.len())
        .position(|w| w == claimed.as_slice())
        .expect("geometry field in the blob");
    let mut forged = bytes.clone();
    forged[at..at + 4].copy_from_slice(&8u32.to_le_bytes());
    let err = EncryptedResult::from_bytes_as(&forged, ParamSet::V1, &params, &g)
        .expect_err("forged geometry");
    assert!(err.to_string().contains("claims geometry"), "{err}");
    let wide = Geometry { width: 8, ..g };
    let err = EncryptedResult::from_bytes_as(&forged, ParamSet::V1, &params, &wide)
        .expect_err("forged structure");
    assert!(matches!(err, FheError::InvalidResult(_)), "{err}");
    assert!(owner.decrypt_result(&forged, &params, &wide).is_err());
}

#[test]
fn oversized_result_blobs_are_refused_before_parsing() {
    let (params, g, _, bytes) = small_lv_result();
    let limit = EncryptedResult::limit(ParamSet::V1, &params, &g).expect("limit");
    assert_eq!(
        Scheme::TFHE.result_limit(&params, &g).expect("limit"),
        limit
    );
    println!(
        "lv-area 4x4x1: blob {} bytes, limit {limit} bytes",
        bytes.len()
    );
    // The limit is the blob's size up to the framing slack.
    assert!(bytes.len() as u64 <= limit && limit - bytes.len() as u64 <= 2048);
    // One byte over: refused by size (the bytes are zeros, which would
    // otherwise fail to parse with another error), naming the limit.
    for oversized in [vec![0u8; limit as usize + 1], {
        let mut b = bytes.clone();
        b.resize(limit as usize + 1, 0);
        b
    }] {
        let err = EncryptedResult::from_bytes_as(&oversized, ParamSet::V1, &params, &g)
            .expect_err("oversized");
        assert!(
            matches!(err, FheError::TooLarge { limit: l, .. } if l == limit),
            "{err}"
        );
        assert!(err.to_string().contains(&limit.to_string()), "{err}");
    }
    assert_rejects(&bytes, |b| {
        EncryptedResult::from_bytes_as(b, ParamSet::V1, &params, &g)
    });
}

#[test]
fn params_hash_is_canonical() {
    let a = PipelineParams::LvArea(LvAreaParams {
        frames: vec![0, 5],
        mask: Mask::Rect {
            x: 1,
            y: 2,
            width: 3,
            height: 4,
        },
        threshold: 6,
    });
    // Through JSON and back: same params, same hash.
    let json = serde_json::to_string(&a).expect("json");
    let b: PipelineParams = serde_json::from_str(&json).expect("parse");
    assert_eq!(a.params_hash(), b.params_hash());
    let expected: Vec<u8> = [
        b"blindfold/v1/params".as_slice(),
        &[1],
        &2u64.to_be_bytes(),
        &0u32.to_be_bytes(),
        &5u32.to_be_bytes(),
        &[1, 0, 1, 0, 2, 0, 3, 0, 4],
        &[6],
    ]
    .concat();
    assert_eq!(a.canonical_bytes(), expected);
    let c = PipelineParams::LvArea(LvAreaParams {
        frames: vec![0, 5],
        mask: Mask::All,
        threshold: 6,
    });
    assert_ne!(a.params_hash(), c.params_hash());
}
