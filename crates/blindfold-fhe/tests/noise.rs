//! Noise margins of real results: how far each part's decryption error is
//! from the rounding limit. These numbers back the budgets in
//! `params::Encoding` (`max_pbs_noise_units`, `max_fine_l1`).

mod common;

use blindfold_fhe::{
    evaluate, Conv3x3Params, HistogramParams, LvAreaParams, Mask, PipelineParams, Progress,
};
use common::{constant_video, keys, pbs_counter_lock, random_video};

#[test]
fn parts_keep_a_wide_noise_margin() {
    let k = keys();
    let _guard = pbs_counter_lock();
    // Single PBS outputs (one pixel per part) measure the PBS output noise.
    let video = random_video(21, 8, 8, 4, 1);
    let enc = video.encrypt(&k.client).expect("encrypt");
    let mut single_errs = Vec::new();
    for px in 0..24u32 {
        let p = PipelineParams::LvArea(LvAreaParams {
            frames: vec![],
            mask: Mask::Pixels(vec![px]),
            threshold: 8,
        });
        let r = evaluate(&k.server, &p, &enc, &Progress::new()).expect("evaluate");
        single_errs.push(r.noise_margin_bits(&k.client).1);
    }
    let worst_single = single_errs.iter().copied().fold(f64::MIN, f64::max);
    println!("single PBS output: largest |error| = 2^{worst_single:.1} (step 2^59)");
    // Full parts: 31 summed PBS outputs (lv-area), 16-sample one-hot sums
    // (histogram), and 9-tap leveled sums with the largest weights (conv3x3).
    let black = constant_video(0, 8, 8, 4, 1)
        .encrypt(&k.client)
        .expect("encrypt");
    let cases = [
        PipelineParams::LvArea(LvAreaParams {
            frames: vec![],
            mask: Mask::All,
            threshold: 16,
        }),
        PipelineParams::Histogram(HistogramParams {
            frames: vec![],
            mask: Mask::All,
        }),
        PipelineParams::Conv3x3(Conv3x3Params {
            frames: vec![],
            kernel: [-128; 9],
        }),
    ];
    for p in &cases {
        for v in [&enc, &black] {
            let r = evaluate(&k.server, p, v, &Progress::new()).expect("evaluate");
            let (margin, err) = r.noise_margin_bits(&k.client);
            println!(
                "{}: largest |error| 2^{err:.1}, smallest margin {margin:.1} bits",
                p.id()
            );
            // Failure needs margin < 0; parts hold at most 64 noise units, i.e.
            // a std of 8x the single-PBS std (about 2^52 against a 2^58 limit).
            assert!(margin >= 3.0, "{}: margin {margin} bits", p.id());
        }
    }
    // About 2^49 std; 2^52 would be 8 std (a real regression, not chance).
    assert!(worst_single <= 52.0, "PBS output error 2^{worst_single}");
}
