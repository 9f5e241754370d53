//! `decrypt(fhe(x)) == plain(x)` for every pipeline on small synthetic
//! frames (random inputs and edge cases), under both schemes and against
//! the one plaintext twin, plus PBS accounting: the documented formula,
//! the evaluation's own counter and tfhe's global counter must all agree.

mod common;

use blindfold_fhe::{
    evaluate, Conv3x3Params, Feature, FeatureKind, HistogramParams, LinearModelParams,
    LvAreaParams, Mask, ParamSet, PipelineParams, PlainOutput, PlainVideo, Progress,
};
use blindfold_fhe::{evaluate_unit, Scheme, SchemeVideo};
use common::{bfv_keys, constant_video, keys, pbs_counter_lock, random_video};

/// The same case under BFV: encrypt, evaluate and decrypt through the
/// scheme-generic API, and compare with the twin. A linear model whose
/// score can leave BFV's exact range must be refused with that reason.
fn check_bfv(params: &PipelineParams, video: &PlainVideo, plain: &PlainOutput) {
    let k = bfv_keys();
    let g = video.geometry();
    if let Err(e) = Scheme::BFV.validate_params(params, &g) {
        assert!(
            matches!(params, PipelineParams::LinearModel(_))
                && e.to_string().contains("exact range"),
            "BFV refused {params:?}: {e}"
        );
        return;
    }
    // Submission 1: a video of class 1 wherever the shape packs.
    let blob = k.client.encrypt(video, 1).expect("BFV encrypt");
    let enc = SchemeVideo::from_bytes(&blob, Scheme::BFV, &g).expect("BFV video");
    let expected_ops = Scheme::BFV
        .unit_ops(params, &g, &[enc.class()])
        .expect("BFV static count");
    let (bytes, ops) =
        evaluate_unit(&k.server, params, &[enc], &Progress::new()).expect("BFV evaluate");
    assert_eq!(ops.pbs, 0);
    assert_eq!(ops, expected_ops, "BFV static count for {params:?}");
    let decrypted = k
        .client
        .decrypt_unit(&bytes, params, &g, 1)
        .expect("BFV decrypt");
    assert_eq!(
        decrypted,
        vec![plain.clone()],
        "decrypt(bfv(x)) != plain(x) for {params:?}"
    );
}

/// Encrypt, evaluate, decrypt, and compare with the plaintext twin and the PBS formula.
fn check(params: &PipelineParams, video: &PlainVideo) -> PlainOutput {
    let k = keys();
    let _guard = pbs_counter_lock();
    let enc = video.encrypt(&k.client).expect("encrypt");
    let expected_pbs = params.pbs_count(&video.geometry()).expect("pbs count");
    let progress = Progress::new();
    blindfold_fhe::tfhe_reset_global_pbs_count();
    let result = evaluate(&k.server, params, &enc, &progress).expect("evaluate");
    assert_eq!(
        blindfold_fhe::tfhe_global_pbs_count(),
        expected_pbs,
        "tfhe's own PBS counter disagrees with the formula"
    );
    assert_eq!(progress.pbs_done(), expected_pbs);
    assert_eq!(progress.pbs_total(), expected_pbs);
    assert_eq!(
        Scheme::TFHE
            .unit_ops(params, &video.geometry(), &[0])
            .expect("TFHE static count")
            .total(),
        expected_pbs
    );
    let decrypted = result.decrypt(&k.client, params).expect("decrypt");
    let plain = params.plaintext(video).expect("plaintext twin");
    assert_eq!(
        decrypted, plain,
        "decrypt(fhe(x)) != plain(x) for {params:?}"
    );
    check_bfv(params, video, &plain);
    plain
}

fn lv(frames: Vec<u32>, mask: Mask, threshold: u8) -> PipelineParams {
    PipelineParams::LvArea(LvAreaParams {
        frames,
        mask,
        threshold,
    })
}

#[test]
fn lv_area_random_4bit() {
    let video = random_video(1, 8, 8, 4, 3);
    let mask = Mask::Rect {
        x: 1,
        y: 1,
        width: 6,
        height: 6,
    };
    let out = check(&lv(vec![0, 2], mask, 7), &video);
    let PlainOutput::LvArea { areas } = out else {
        panic!("wrong output kind")
    };
    assert_eq!(areas.len(), 2);
}

#[test]
fn lv_area_edges_black_white_and_full_parts() {
    // 64 pixels -> 3 parts of at most 31 samples, all at their maximum.
    let black = constant_video(0, 8, 8, 4, 1);
    let out = check(&lv(vec![], Mask::All, 1), &black);
    assert_eq!(out, PlainOutput::LvArea { areas: vec![64] });
    let white = constant_video(15, 4, 4, 4, 1);
    assert_eq!(
        check(&lv(vec![], Mask::All, 15), &white),
        PlainOutput::LvArea { areas: vec![0] }
    );
    assert_eq!(
        check(&lv(vec![], Mask::All, 16), &white),
        PlainOutput::LvArea { areas: vec![16] }
    );
    assert_eq!(
        check(&lv(vec![], Mask::All, 0), &black),
        PlainOutput::LvArea { areas: vec![0] }
    );
}

#[test]
fn lv_area_threshold_boundary() {
    // Values t-1, t, t+1 around every threshold position.
    let t = 9u8;
    let frame: Vec<u8> = (0..16).map(|i| t - 1 + (i % 3) as u8).collect();
    let video = PlainVideo::new(4, 4, 4, vec![frame], ParamSet::V1).expect("video");
    let out = check(
        &lv(vec![], Mask::Pixels(vec![0, 1, 2, 3, 5, 8, 13, 15]), t),
        &video,
    );
    let PlainOutput::LvArea { areas } = out else {
        panic!("wrong output kind")
    };
    assert_eq!(areas, vec![3]);
}

#[test]
fn lv_area_every_threshold_on_black_white_and_random() {
    // Three 4x4 frames: all black, all white, random (4 bits).
    let random = random_video(77, 4, 4, 4, 1).frames.remove(0);
    let frames = vec![vec![0u8; 16], vec![15u8; 16], random.clone()];
    let video = PlainVideo::new(4, 4, 4, frames, ParamSet::V1).expect("video");
    for t in 0..=16u8 {
        let expected = PlainOutput::LvArea {
            areas: vec![
                if t > 0 { 16 } else { 0 },
                if t == 16 { 16 } else { 0 },
                random.iter().filter(|&&p| p < t).count() as u64,
            ],
        };
        // The twin against a direct count; then BFV and TFHE (48 PBS per
        // threshold) against the twin.
        let params = lv(vec![], Mask::All, t);
        assert_eq!(
            params.plaintext(&video).expect("plain"),
            expected,
            "threshold {t}"
        );
        assert_eq!(check(&params, &video), expected, "threshold {t}");
    }
}

#[test]
fn lv_area_packed_low_bit_widths() {
    for bits in [1u8, 2, 3] {
        let video = random_video(10 + u64::from(bits), 6, 6, bits, 2);
        for t in [1u8, (1 << bits) - 1] {
            check(&lv(vec![1], Mask::All, t), &video);
        }
    }
}

/// A packed BFV lv-area unit: `Scheme::unit_ops` from the videos' classes
/// equals the operations `evaluate_unit` ran, whether the classes fill one
/// pack or repeat (more packs, more work, for the same number of videos).
#[test]
fn bfv_unit_ops_match_a_packed_evaluation() {
    let k = bfv_keys();
    let params = lv(vec![0, 1], Mask::All, 5);
    let plain: Vec<PlainVideo> = (0..4).map(|i| random_video(40 + i, 6, 6, 4, 2)).collect();
    let g = plain[0].geometry();
    assert!(Scheme::BFV.unit_size(&params, &g).expect("unit size") >= 4);
    let mut seen = Vec::new();
    for submissions in [[0u64, 1, 2, 3], [0, 0, 0, 1]] {
        let videos: Vec<SchemeVideo> = plain
            .iter()
            .zip(submissions)
            .map(|(v, s)| {
                let blob = k.client.encrypt(v, s).expect("BFV encrypt");
                SchemeVideo::from_bytes(&blob, Scheme::BFV, &g).expect("BFV video")
            })
            .collect();
        let classes: Vec<u8> = videos.iter().map(SchemeVideo::class).collect();
        let expected = Scheme::BFV
            .unit_ops(&params, &g, &classes)
            .expect("static count");
        let (_, ops) =
            evaluate_unit(&k.server, &params, &videos, &Progress::new()).expect("BFV evaluate");
        assert_eq!(ops, expected, "classes {classes:?}");
        seen.push(ops.total());
    }
    assert!(seen[1] > seen[0], "3 packs cost more than 1: {seen:?}");
}

#[test]
fn histogram_random_and_edges() {
    check(
        &PipelineParams::Histogram(HistogramParams {
            frames: vec![],
            mask: Mask::All,
        }),
        &random_video(3, 4, 4, 4, 2),
    );
    // 36 black pixels: bin 0 spans two parts.
    let out = check(
        &PipelineParams::Histogram(HistogramParams {
            frames: vec![],
            mask: Mask::All,
        }),
        &constant_video(0, 6, 6, 4, 1),
    );
    let mut bins = vec![0u64; 16];
    bins[0] = 36;
    assert_eq!(out, PlainOutput::Histogram { bins });
    let out = check(
        &PipelineParams::Histogram(HistogramParams {
            frames: vec![0],
            mask: Mask::Rect {
                x: 0,
                y: 0,
                width: 2,
                height: 3,
            },
        }),
        &constant_video(15, 4, 4, 4, 2),
    );
    let mut bins = vec![0u64; 16];
    bins[15] = 6;
    assert_eq!(out, PlainOutput::Histogram { bins });
    check(
        &PipelineParams::Histogram(HistogramParams {
            frames: vec![],
            mask: Mask::All,
        }),
        &random_video(4, 4, 4, 2, 1),
    );
}

#[test]
fn conv3x3_kernels() {
    let video = random_video(5, 8, 7, 4, 2);
    for kernel in [
        Conv3x3Params::SOBEL_X,
        Conv3x3Params::BOX_BLUR,
        Conv3x3Params::SHARPEN,
        [127, -128, 127, -128, 127, -128, 127, -128, 127],
        [0; 9],
    ] {
        check(
            &PipelineParams::Conv3x3(Conv3x3Params {
                frames: vec![],
                kernel,
            }),
            &video,
        );
    }
    for v in [0u8, 15] {
        let out = check(
            &PipelineParams::Conv3x3(Conv3x3Params {
                frames: vec![0],
                kernel: [-128; 9],
            }),
            &constant_video(v, 3, 3, 4, 1),
        );
        assert_eq!(
            out,
            PlainOutput::Conv3x3 {
                width: 1,
                height: 1,
                frames: vec![vec![-128 * 9 * i64::from(v)]],
            }
        );
    }
}

#[test]
fn linear_model_mixed_features() {
    let video = random_video(6, 6, 6, 4, 2);
    let params = PipelineParams::LinearModel(LinearModelParams {
        features: vec![
            Feature {
                frame: 0,
                region: Mask::Rect {
                    x: 1,
                    y: 1,
                    width: 4,
                    height: 4,
                },
                kind: FeatureKind::IntensitySum,
                weight: -3,
            },
            Feature {
                frame: 0,
                region: Mask::All,
                kind: FeatureKind::DarkCount { threshold: 5 },
                weight: 7,
            },
            Feature {
                frame: 1,
                region: Mask::Pixels(vec![0, 7, 14, 21, 28, 35]),
                kind: FeatureKind::DarkCount { threshold: 8 },
                weight: -1_000_000_000,
            },
            Feature {
                frame: 1,
                region: Mask::All,
                kind: FeatureKind::IntensitySum,
                weight: 1 << 30,
            },
        ],
        bias: -12345,
    });
    check(&params, &video);
    // All white: dark counts are 0, sums are maximal.
    check(&params, &constant_video(15, 6, 6, 4, 2));
    // Weights within BFV's exact range, so that both schemes compute it.
    let small = PipelineParams::LinearModel(LinearModelParams {
        features: vec![
            Feature {
                frame: 0,
                region: Mask::All,
                kind: FeatureKind::DarkCount { threshold: 5 },
                weight: 7,
            },
            Feature {
                frame: 1,
                region: Mask::Rect {
                    x: 1,
                    y: 1,
                    width: 4,
                    height: 4,
                },
                kind: FeatureKind::IntensitySum,
                weight: -3,
            },
            Feature {
                frame: 1,
                region: Mask::Pixels(vec![0, 7, 14, 21, 28, 35]),
                kind: FeatureKind::DarkCount { threshold: 8 },
                weight: 100,
            },
        ],
        bias: -12345,
    });
    for video in [
        video,
        constant_video(0, 6, 6, 4, 2),
        constant_video(15, 6, 6, 4, 2),
    ] {
        check(&small, &video);
    }
}

#[test]
fn pbs_formulas_match_plans() {
    let g = random_video(7, 9, 5, 2, 3).geometry();
    let lv2 = lv(vec![0, 2], Mask::All, 2);
    // 45 two-bit pixels pack two per PBS: ceil(45 / 2) = 23 per frame.
    assert_eq!(lv2.pbs_count(&g).expect("count"), 46);
    let hist = PipelineParams::Histogram(HistogramParams {
        frames: vec![1],
        mask: Mask::All,
    });
    assert_eq!(hist.pbs_count(&g).expect("count"), 45);
    let conv = PipelineParams::Conv3x3(Conv3x3Params {
        frames: vec![],
        kernel: Conv3x3Params::SOBEL_X,
    });
    assert_eq!(conv.pbs_count(&g).expect("count"), 0);
}

#[test]
fn invalid_params_are_errors() {
    let g = random_video(8, 4, 4, 4, 2).geometry();
    let bad = [
        lv(vec![2], Mask::All, 3),
        lv(vec![1, 0], Mask::All, 3),
        lv(vec![], Mask::All, 17),
        lv(
            vec![],
            Mask::Rect {
                x: 3,
                y: 0,
                width: 2,
                height: 1,
            },
            3,
        ),
        lv(vec![], Mask::Pixels(vec![3, 3]), 3),
        lv(vec![], Mask::Pixels(vec![16]), 3),
        lv(vec![], Mask::Pixels(vec![]), 3),
    ];
    for p in bad {
        assert!(p.validate(ParamSet::V1, &g).is_err(), "{p:?} accepted");
        assert!(p.pbs_count(&g).is_err());
    }
    let small = random_video(9, 2, 5, 4, 1).geometry();
    let conv = PipelineParams::Conv3x3(Conv3x3Params {
        frames: vec![],
        kernel: [1; 9],
    });
    assert!(conv.validate(ParamSet::V1, &small).is_err());
}
