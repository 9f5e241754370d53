//! The data owner's release policy: what leaves the hospital after
//! decryption. Pure functions, no I/O.
//!
//! [`decide`] takes the decrypted output of every video of a job and the
//! policy, and either refuses or builds the [`ReleasedResult`]:
//!
//! 1. **Minimum cohort.** Fewer videos than the policy's `min_cohort`:
//!    [`Decision::Refuse`], nothing is released.
//! 2. **Differential privacy.** When the job spent epsilon (charged to the
//!    dataset's budget on chain when it was requested), only a small vector
//!    of cohort means is released, each input clamped to a public range,
//!    with discrete Laplace noise added to every component, where
//!    `sensitivity` is the L1 sensitivity of the vector (neighbouring cohorts
//!    differ by replacing one video):
//!
//!    | pipeline | released | clamp per video | L1 sensitivity |
//!    |---|---|---|---|
//!    | `lv-area`, 2+ frames | `mean_ef_percent` | EF to [0, 100] | 100 / n |
//!    | `lv-area`, 1 frame | `mean_area` | [0, mask size] | mask / n |
//!    | `histogram` | `mean_bin_VV` for every possible value | bins to [0, T] | 2T / n |
//!    | `conv3x3` | `mean_value` (mean output pixel) | [kernel min, kernel max] | range / n |
//!    | `linear-model` | `mean_score` | [model min, model max] | range / n |
//!
//!    (`T` = pixels per video the histogram counts; the ranges follow from
//!    the public job parameters and geometry.) Per-video values are never
//!    released under DP.
//!
//!    The mechanism is integer-only, so it has none of the holes of
//!    floating-point Laplace (Mironov 2012): each value is rounded to a grid
//!    of `1/DP_GRID`, and an exact discrete Laplace sample
//!    ([`discrete_laplace`], Canonne–Kamath–Steinke 2020) of scale
//!    `(ceil(sensitivity * DP_GRID) + 1) / epsilon` grid steps is added (the
//!    `+ 1` pays for the rounding). The randomness is ChaCha20 keyed with
//!    [`ReleasePolicy::seed`], which the data owner derives from its secret
//!    and the job (`OwnerKeys::dp_seed`): a retried release publishes the
//!    same numbers, so epsilon is spent once, and no two jobs share noise.
//! 3. **Aggregates only** (the dataset metadata's rule): the per-video list is
//!    left empty and only the cohort aggregates are released.
//! 4. Otherwise every video's values ([`video_values`]) plus the aggregates.
//!
//! Under aggregates only, `min_*` and `max_*` (which are single videos'
//! values, not aggregates) are left out.
//!
//! Aggregates without DP: `lv-area` gives `mean/sd/min/max_ef_percent`,
//! `mean_area_max`, `mean_area_min` and `mean_area_frame_FF`, and on
//! whole-cycle curves `mean_beats` (beats found per video) and
//! `mean_ef_beat_sd` (the mean beat-to-beat spread of the videos with two
//! beats or more); `histogram`
//! gives `mean_bin_VV` for every value a pixel can take; `conv3x3` gives `mean/min/max_value`; `linear-model`
//! gives `mean/sd/min/max_score`. Standard deviations are population ones.

use std::collections::BTreeMap;

use blindfold_fhe::{FeatureKind, Geometry, Mask, PipelineParams, PlainOutput};
use blindfold_job::blobs::{DpNoise, ReleasedBeat, ReleasedVideo, RELEASED_FORMAT};
use blindfold_job::ReleasedResult;
use blindfold_protocol::types::{JobId, MilliEpsilon};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

use crate::error::{ClientError, Result};

/// What the data owner allows to leave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReleasePolicy {
    /// Fewest videos a released result may come from (the on-chain policy).
    pub min_cohort: u32,
    /// Release only cohort aggregates (the dataset metadata's rule).
    pub aggregates_only: bool,
    /// Epsilon the job spent (thousandths); 0 = no differential privacy.
    pub epsilon_milli: MilliEpsilon,
    /// Key of the noise's randomness (derived from the owner's secret and the job).
    pub seed: [u8; 32],
}

/// One video's decrypted pipeline output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decrypted {
    /// Its submission index.
    pub submission: u64,
    /// What decryption returned.
    pub output: PlainOutput,
}

/// The policy's verdict.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Release this.
    Release(ReleasedResult),
    /// Release nothing: the cohort is below the minimum.
    Refuse {
        /// Videos in the job.
        cohort: u64,
        /// The policy's minimum.
        min_cohort: u32,
    },
}

/// Applies `policy` to the decrypted outputs `items` of job `job_id`, which
/// ran `params` on videos of geometry `geometry`.
pub fn decide(
    job_id: JobId,
    params: &PipelineParams,
    geometry: &Geometry,
    items: &[Decrypted],
    policy: &ReleasePolicy,
) -> Result<Decision> {
    let cohort = items.len() as u64;
    if cohort < u64::from(policy.min_cohort) || cohort == 0 {
        return Ok(Decision::Refuse {
            cohort,
            min_cohort: policy.min_cohort,
        });
    }
    let videos = items
        .iter()
        .map(|d| video_values(params, d.submission, &d.output))
        .collect::<Result<Vec<_>>>()?;
    let mut result = ReleasedResult {
        format: RELEASED_FORMAT.into(),
        job_id,
        pipeline: params.id().as_str().into(),
        cohort,
        videos: Vec::new(),
        aggregates: BTreeMap::new(),
        dp: None,
    };
    if policy.epsilon_milli > 0 {
        let (values, sensitivity) = dp_vector(params, geometry, &videos)?;
        // Scale in grid steps: units / epsilon = units * 1000 / epsilon_milli.
        let units = (sensitivity * DP_GRID as f64).ceil() as u64 + 1;
        let t = units.saturating_mul(1000);
        let s = policy.epsilon_milli;
        let mut rng = ChaCha20Rng::from_seed(policy.seed);
        for (name, value) in values {
            let on_grid = (value * DP_GRID as f64).round() as i64;
            let noisy = on_grid.saturating_add(discrete_laplace(&mut rng, s, t));
            result
                .aggregates
                .insert(name, noisy as f64 / DP_GRID as f64);
        }
        result.dp = Some(DpNoise {
            epsilon_milli: policy.epsilon_milli,
            laplace_scale: t as f64 / s as f64 / DP_GRID as f64,
            sensitivity,
        });
        return Ok(Decision::Release(result));
    }
    result.aggregates = aggregates(params, geometry, &videos);
    if policy.aggregates_only {
        // A minimum or maximum is one video's value: not an aggregate.
        result
            .aggregates
            .retain(|name, _| !name.starts_with("min_") && !name.starts_with("max_"));
    } else {
        result.videos = videos;
    }
    Ok(Decision::Release(result))
}

/// DP values are released on a grid of `1 / DP_GRID` of their unit.
pub const DP_GRID: u64 = 1000;

/// One exact draw of the discrete Laplace distribution with scale `t / s`
/// (`P(x) ∝ exp(-|x| s / t)` over the integers), by the integer-only
/// algorithm of Canonne, Kamath and Steinke ("The discrete Gaussian for
/// differential privacy", 2020, algorithm 2). `s` and `t` must be at least 1.
pub fn discrete_laplace(rng: &mut impl Rng, s: u64, t: u64) -> i64 {
    let (s, t) = (s.max(1), t.max(1));
    loop {
        let u = rng.gen_range(0..t);
        if !bernoulli_exp(rng, u, t) {
            continue;
        }
        let mut v: u64 = 0;
        while bernoulli_exp(rng, 1, 1) {
            v = v.saturating_add(1);
        }
        let x = u128::from(u) + u128::from(t) * u128::from(v);
        let y = i64::try_from(x / u128::from(s)).unwrap_or(i64::MAX);
        let negative = rng.gen_bool(0.5);
        if negative && y == 0 {
            continue;
        }
        return if negative { -y } else { y };
    }
}

/// Bernoulli(exp(-num/den)), exactly, for any `num/den >= 0`.
fn bernoulli_exp(rng: &mut impl Rng, mut num: u64, den: u64) -> bool {
    while num > den {
        if !bernoulli_exp_le1(rng, 1, 1) {
            return false;
        }
        num -= den;
    }
    bernoulli_exp_le1(rng, num, den)
}

/// Bernoulli(exp(-num/den)) for `0 <= num/den <= 1`: the parity of the
/// first k with a failed Bernoulli(num / (den k)).
fn bernoulli_exp_le1(rng: &mut impl Rng, num: u64, den: u64) -> bool {
    let mut k: u128 = 1;
    loop {
        let d = u128::from(den).saturating_mul(k);
        if rng.gen_range(0..d) < u128::from(num) {
            k += 1;
        } else {
            return k % 2 == 1;
        }
    }
}

/// A video's released numbers: the pipeline output as floats (areas per
/// frame, histogram bins, filtered pixels, or the score) and, for `lv-area`
/// with at least two frames, the EF estimate of the area curve
/// ([`blindfold_echo::curve_ef`]): on a curve of whole cycles, each beat's
/// EF (its maximum and minimum), their mean as the estimate and their
/// sample standard deviation as the beat-to-beat spread; on an ED+ES pair
/// (or a curve without a whole beat), `ef_percent(max area, min area)`.
pub fn video_values(
    params: &PipelineParams,
    submission: u64,
    output: &PlainOutput,
) -> Result<ReleasedVideo> {
    let mismatch = || {
        ClientError::Integrity(format!(
            "a decrypted output does not belong to pipeline {}",
            params.id()
        ))
    };
    let plain = |values: Vec<f64>| ReleasedVideo {
        submission,
        values,
        ef_percent: None,
        beats: Vec::new(),
        ef_beat_sd: None,
    };
    Ok(match (params, output) {
        (PipelineParams::LvArea(_), PlainOutput::LvArea { areas }) => {
            let counts: Vec<u32> = areas.iter().map(|&a| saturate(a)).collect();
            let mut video = plain(areas.iter().map(|&a| a as f64).collect());
            if let Some(curve) = blindfold_echo::curve_ef(&counts) {
                video.ef_percent = Some(curve.ef_percent);
                video.ef_beat_sd = curve.beat_sd;
                video.beats = curve
                    .beats
                    .iter()
                    .map(|b| ReleasedBeat {
                        ed_frame: b.ed as u32,
                        es_frame: b.es as u32,
                        ef_percent: b.ef_percent,
                    })
                    .collect();
            }
            video
        }
        (PipelineParams::Histogram(_), PlainOutput::Histogram { bins }) => {
            plain(bins.iter().map(|&b| b as f64).collect())
        }
        (PipelineParams::Conv3x3(_), PlainOutput::Conv3x3 { frames, .. }) => {
            plain(frames.iter().flatten().map(|&v| v as f64).collect())
        }
        (PipelineParams::LinearModel(_), PlainOutput::LinearModel { score }) => {
            plain(vec![*score as f64])
        }
        _ => return Err(mismatch()),
    })
}

fn saturate(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

fn mean(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values
        .into_iter()
        .fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// Mean, population standard deviation, minimum and maximum.
fn describe(values: &[f64]) -> Option<[f64; 4]> {
    let m = mean(values.iter().copied())?;
    let var = mean(values.iter().map(|v| (v - m) * (v - m)))?;
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some([m, var.sqrt(), min, max])
}

fn insert_described(out: &mut BTreeMap<String, f64>, name: &str, values: &[f64]) {
    if let Some([m, sd, min, max]) = describe(values) {
        out.insert(format!("mean_{name}"), m);
        out.insert(format!("sd_{name}"), sd);
        out.insert(format!("min_{name}"), min);
        out.insert(format!("max_{name}"), max);
    }
}

/// Cohort aggregates without noise (see the module docs for the names), for
/// videos of geometry `g`.
pub fn aggregates(
    params: &PipelineParams,
    g: &Geometry,
    videos: &[ReleasedVideo],
) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    match params {
        PipelineParams::LvArea(_) => {
            let efs: Vec<f64> = videos.iter().filter_map(|v| v.ef_percent).collect();
            insert_described(&mut out, "ef_percent", &efs);
            // Whole-cycle curves: beats per video and the beat-to-beat spread.
            if videos.iter().any(|v| !v.beats.is_empty()) {
                let beats = videos.iter().map(|v| v.beats.len() as f64);
                if let Some(m) = mean(beats) {
                    out.insert("mean_beats".into(), m);
                }
            }
            if let Some(m) = mean(videos.iter().filter_map(|v| v.ef_beat_sd)) {
                out.insert("mean_ef_beat_sd".into(), m);
            }
            let maxes = videos
                .iter()
                .map(|v| v.values.iter().copied().fold(0.0, f64::max));
            let mins = videos
                .iter()
                .filter(|v| !v.values.is_empty())
                .map(|v| v.values.iter().copied().fold(f64::INFINITY, f64::min));
            if let Some(m) = mean(maxes) {
                out.insert("mean_area_max".into(), m);
            }
            if let Some(m) = mean(mins) {
                out.insert("mean_area_min".into(), m);
            }
            per_index_means(&mut out, "mean_area_frame", videos, usize::MAX);
        }
        // Only the values a `bits`-bit pixel can take.
        PipelineParams::Histogram(_) => per_index_means(&mut out, "mean_bin", videos, 1 << g.bits),
        PipelineParams::Conv3x3(_) => {
            let all: Vec<f64> = videos
                .iter()
                .flat_map(|v| v.values.iter().copied())
                .collect();
            if let Some([m, _, min, max]) = describe(&all) {
                out.insert("mean_value".into(), m);
                out.insert("min_value".into(), min);
                out.insert("max_value".into(), max);
            }
        }
        PipelineParams::LinearModel(_) => {
            let scores: Vec<f64> = videos
                .iter()
                .filter_map(|v| v.values.first().copied())
                .collect();
            insert_described(&mut out, "score", &scores);
        }
    }
    out
}

/// `{prefix}_{i:02}` = the mean over videos of value `i`, for `i < limit`.
fn per_index_means(
    out: &mut BTreeMap<String, f64>,
    prefix: &str,
    videos: &[ReleasedVideo],
    limit: usize,
) {
    let len = videos
        .iter()
        .map(|v| v.values.len())
        .max()
        .unwrap_or(0)
        .min(limit);
    for i in 0..len {
        if let Some(m) = mean(videos.iter().filter_map(|v| v.values.get(i).copied())) {
            out.insert(format!("{prefix}_{i:02}"), m);
        }
    }
}

/// The vector released under DP and its L1 sensitivity (module docs table).
fn dp_vector(
    params: &PipelineParams,
    g: &Geometry,
    videos: &[ReleasedVideo],
) -> Result<(Vec<(String, f64)>, f64)> {
    let n = videos.len() as f64;
    let max_pixel = f64::from(g.max_pixel());
    let selected = |frames: &[u32]| {
        if frames.is_empty() {
            f64::from(g.frames)
        } else {
            frames.len() as f64
        }
    };
    let clamped_mean = |per_video: &dyn Fn(&ReleasedVideo) -> f64, lo: f64, hi: f64| {
        mean(videos.iter().map(|v| per_video(v).clamp(lo, hi))).unwrap_or(0.0)
    };
    Ok(match params {
        PipelineParams::LvArea(p) if selected(&p.frames) >= 2.0 => {
            let m = clamped_mean(&|v| v.ef_percent.unwrap_or(0.0), 0.0, 100.0);
            (vec![("mean_ef_percent".into(), m)], 100.0 / n)
        }
        PipelineParams::LvArea(p) => {
            let size = mask_size(&p.mask, g)?;
            let m = clamped_mean(&|v| v.values.first().copied().unwrap_or(0.0), 0.0, size);
            (vec![("mean_area".into(), m)], size / n)
        }
        PipelineParams::Histogram(p) => {
            let total = selected(&p.frames) * mask_size(&p.mask, g)?;
            let possible = 1usize << g.bits;
            let values = (0..possible)
                .map(|i| {
                    let m = clamped_mean(&|v| v.values.get(i).copied().unwrap_or(0.0), 0.0, total);
                    (format!("mean_bin_{i:02}"), m)
                })
                .collect();
            (values, 2.0 * total / n)
        }
        PipelineParams::Conv3x3(p) => {
            let lo: f64 = p
                .kernel
                .iter()
                .map(|&k| f64::from(k.min(0)) * max_pixel)
                .sum();
            let hi: f64 = p
                .kernel
                .iter()
                .map(|&k| f64::from(k.max(0)) * max_pixel)
                .sum();
            let m = clamped_mean(&|v| mean(v.values.iter().copied()).unwrap_or(0.0), lo, hi);
            (vec![("mean_value".into(), m)], (hi - lo) / n)
        }
        PipelineParams::LinearModel(p) => {
            let (mut lo, mut hi) = (p.bias as f64, p.bias as f64);
            for f in &p.features {
                let per_pixel = match f.kind {
                    FeatureKind::IntensitySum => max_pixel,
                    FeatureKind::DarkCount { .. } => 1.0,
                };
                let extreme = f64::from(f.weight) * per_pixel * mask_size(&f.region, g)?;
                lo += extreme.min(0.0);
                hi += extreme.max(0.0);
            }
            let m = clamped_mean(&|v| v.values.first().copied().unwrap_or(0.0), lo, hi);
            (vec![("mean_score".into(), m)], (hi - lo) / n)
        }
    })
}

fn mask_size(mask: &Mask, g: &Geometry) -> Result<f64> {
    mask.indices(g)
        .map(|px| px.len() as f64)
        .map_err(|e| ClientError::Integrity(format!("job parameters do not fit the dataset: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use blindfold_fhe::{HistogramParams, LvAreaParams};

    fn geometry() -> Geometry {
        Geometry {
            width: 8,
            height: 8,
            bits: 2,
            frames: 2,
        }
    }

    fn lv_params() -> PipelineParams {
        PipelineParams::LvArea(LvAreaParams {
            frames: vec![],
            mask: Mask::All,
            threshold: 1,
        })
    }

    fn lv_items(areas: &[[u64; 2]]) -> Vec<Decrypted> {
        areas
            .iter()
            .enumerate()
            .map(|(i, a)| Decrypted {
                submission: i as u64 * 2,
                output: PlainOutput::LvArea { areas: a.to_vec() },
            })
            .collect()
    }

    fn policy() -> ReleasePolicy {
        ReleasePolicy {
            min_cohort: 2,
            aggregates_only: false,
            epsilon_milli: 0,
            seed: [7; 32],
        }
    }

    fn released(d: Decision) -> ReleasedResult {
        match d {
            Decision::Release(r) => r,
            other => panic!("expected a release, got {other:?}"),
        }
    }

    #[test]
    fn small_cohorts_are_refused() {
        let items = lv_items(&[[40, 20]]);
        let d = decide(3, &lv_params(), &geometry(), &items, &policy()).unwrap();
        assert_eq!(
            d,
            Decision::Refuse {
                cohort: 1,
                min_cohort: 2
            }
        );
        let none = decide(
            3,
            &lv_params(),
            &geometry(),
            &[],
            &ReleasePolicy {
                min_cohort: 0,
                ..policy()
            },
        );
        assert!(matches!(none.unwrap(), Decision::Refuse { cohort: 0, .. }));
    }

    #[test]
    fn full_release_has_videos_and_ef() {
        let items = lv_items(&[[40, 20], [30, 30]]);
        let r = released(decide(3, &lv_params(), &geometry(), &items, &policy()).unwrap());
        assert_eq!(r.cohort, 2);
        assert_eq!(r.videos.len(), 2);
        assert_eq!(r.videos[0].submission, 0);
        assert_eq!(r.videos[1].submission, 2);
        assert_eq!(r.videos[0].values, vec![40.0, 20.0]);
        let ef0 = blindfold_echo::ef_percent(40, 20).unwrap();
        assert_eq!(r.videos[0].ef_percent, Some(ef0));
        assert_eq!(r.videos[1].ef_percent, Some(0.0));
        assert!((r.aggregates["mean_ef_percent"] - ef0 / 2.0).abs() < 1e-9);
        assert_eq!(r.aggregates["mean_area_max"], 35.0);
        assert_eq!(r.aggregates["mean_area_frame_01"], 25.0);
        assert!(r.dp.is_none());
        ReleasedResult::from_bytes(&r.to_bytes()).unwrap();
    }

    #[test]
    fn whole_cycle_curves_release_each_beat_and_the_spread() {
        // Two beats (EDs at 0 and 4, ESs at 2 and 6), and a flat curve.
        let curve = vec![100, 80, 64, 80, 98, 75, 60, 80, 97];
        let items = vec![
            Decrypted {
                submission: 0,
                output: PlainOutput::LvArea {
                    areas: curve.clone(),
                },
            },
            Decrypted {
                submission: 1,
                output: PlainOutput::LvArea { areas: vec![50; 9] },
            },
        ];
        let g = Geometry {
            frames: 9,
            ..geometry()
        };
        let r = released(decide(5, &lv_params(), &g, &items, &policy()).unwrap());
        let v = &r.videos[0];
        let e0 = blindfold_echo::ef_percent(100, 64).unwrap();
        let e1 = blindfold_echo::ef_percent(98, 60).unwrap();
        assert_eq!(
            v.beats,
            vec![
                ReleasedBeat {
                    ed_frame: 0,
                    es_frame: 2,
                    ef_percent: e0
                },
                ReleasedBeat {
                    ed_frame: 4,
                    es_frame: 6,
                    ef_percent: e1
                },
            ]
        );
        assert_eq!(v.ef_percent, Some((e0 + e1) / 2.0));
        let sd = (e0 - e1).abs() / 2f64.sqrt();
        assert!((v.ef_beat_sd.unwrap() - sd).abs() < 1e-12);
        // The flat curve has no beat: EF 0 from its max and min, no spread.
        assert!(r.videos[1].beats.is_empty());
        assert_eq!(r.videos[1].ef_percent, Some(0.0));
        assert_eq!(r.videos[1].ef_beat_sd, None);
        assert_eq!(r.aggregates["mean_beats"], 1.0);
        assert!((r.aggregates["mean_ef_beat_sd"] - sd).abs() < 1e-12);
        let back = ReleasedResult::from_bytes(&r.to_bytes()).unwrap();
        assert_eq!(back, r);
        // ED+ES releases carry neither.
        let pair = released(
            decide(
                3,
                &lv_params(),
                &geometry(),
                &lv_items(&[[40, 20], [30, 30]]),
                &policy(),
            )
            .unwrap(),
        );
        assert!(!pair.aggregates.contains_key("mean_beats"));
        assert!(!pair.aggregates.contains_key("mean_ef_beat_sd"));
        assert!(pair
            .videos
            .iter()
            .all(|v| v.beats.is_empty() && v.ef_beat_sd.is_none()));
    }

    #[test]
    fn aggregates_only_strips_per_video_data() {
        let items = lv_items(&[[40, 20], [30, 30]]);
        let p = ReleasePolicy {
            aggregates_only: true,
            ..policy()
        };
        let r = released(decide(3, &lv_params(), &geometry(), &items, &p).unwrap());
        assert!(r.videos.is_empty());
        assert!(r.aggregates.contains_key("mean_ef_percent"));
        assert!(
            r.aggregates
                .keys()
                .all(|k| !k.starts_with("min_") && !k.starts_with("max_")),
            "one video's min or max is not an aggregate: {:?}",
            r.aggregates.keys()
        );
        let json = String::from_utf8(r.to_bytes()).unwrap();
        assert!(!json.contains("\"submission\""), "{json}");
    }

    #[test]
    fn dp_noise_is_seeded_and_scaled() {
        let items = lv_items(&[[40, 20], [30, 30], [50, 10], [20, 19]]);
        let p = ReleasePolicy {
            epsilon_milli: 500,
            ..policy()
        };
        let a = released(decide(3, &lv_params(), &geometry(), &items, &p).unwrap());
        let b = released(decide(3, &lv_params(), &geometry(), &items, &p).unwrap());
        assert_eq!(a, b, "same seed, same noise");
        let c = released(
            decide(
                3,
                &lv_params(),
                &geometry(),
                &items,
                &ReleasePolicy { seed: [8; 32], ..p },
            )
            .unwrap(),
        );
        assert_ne!(a.aggregates, c.aggregates, "another seed, other noise");
        // Only the noisy mean EF leaves, never per-video values.
        assert!(a.videos.is_empty());
        assert_eq!(a.aggregates.keys().collect::<Vec<_>>(), ["mean_ef_percent"]);
        let dp = a.dp.unwrap();
        // sensitivity 100 / n with n = 4; scale = (25 + 1 grid step) / epsilon.
        assert_eq!(dp.sensitivity, 25.0);
        assert!(
            (dp.laplace_scale - 50.002).abs() < 1e-9,
            "{}",
            dp.laplace_scale
        );
        // Released values lie on the grid.
        let v = a.aggregates["mean_ef_percent"] * DP_GRID as f64;
        assert!((v - v.round()).abs() < 1e-6, "{v}");
        assert_eq!(dp.epsilon_milli, 500);
    }

    #[test]
    fn discrete_laplace_has_the_right_distribution() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        // Scale t / s = 3: P(x) ∝ exp(-|x| / 3).
        let (s, t) = (2, 6);
        let n = 200_000;
        let draws: Vec<i64> = (0..n).map(|_| discrete_laplace(&mut rng, s, t)).collect();
        let q = (-1.0f64 / 3.0).exp();
        let mean = draws.iter().sum::<i64>() as f64 / n as f64;
        // P(0) = (1 - q) / (1 + q); Var = 2q / (1 - q)^2.
        let p0 = draws.iter().filter(|&&x| x == 0).count() as f64 / n as f64;
        let var = draws
            .iter()
            .map(|&x| (x as f64 - mean).powi(2))
            .sum::<f64>()
            / n as f64;
        assert!(mean.abs() < 0.05, "mean {mean}");
        assert!((p0 - (1.0 - q) / (1.0 + q)).abs() < 0.005, "P(0) {p0}");
        let want = 2.0 * q / (1.0 - q).powi(2);
        assert!(
            (var - want).abs() / want < 0.03,
            "variance {var}, want {want}"
        );
        let mut again = ChaCha20Rng::seed_from_u64(1);
        assert_eq!(discrete_laplace(&mut again, s, t), draws[0]);
    }

    #[test]
    fn histogram_dp_uses_l1_sensitivity_of_the_whole_vector() {
        let params = PipelineParams::Histogram(HistogramParams {
            frames: vec![0],
            mask: Mask::All,
        });
        let items: Vec<Decrypted> = (0..4)
            .map(|i| Decrypted {
                submission: i,
                output: PlainOutput::Histogram {
                    bins: [vec![60, 4, 0, 0], vec![0; 12]].concat(),
                },
            })
            .collect();
        let p = ReleasePolicy {
            epsilon_milli: 2000,
            ..policy()
        };
        let r = released(decide(9, &params, &geometry(), &items, &p).unwrap());
        // T = 1 frame x 64 pixels; L1 = 2T / n = 32; scale = (32 + 0.001) / 2.
        let dp = r.dp.unwrap();
        assert_eq!(dp.sensitivity, 32.0);
        assert!(
            (dp.laplace_scale - 16.0005).abs() < 1e-9,
            "{}",
            dp.laplace_scale
        );
        assert_eq!(r.aggregates.len(), 4, "only values a 2-bit pixel can take");
        let plain = released(decide(9, &params, &geometry(), &items, &policy()).unwrap());
        let names: Vec<&String> = plain.aggregates.keys().collect();
        assert_eq!(
            names,
            ["mean_bin_00", "mean_bin_01", "mean_bin_02", "mean_bin_03"]
        );
        assert_eq!(plain.aggregates["mean_bin_00"], 60.0);
        assert_eq!(plain.videos[0].values.len(), 16);
    }

    #[test]
    fn wrong_output_kind_is_an_integrity_error() {
        let items = vec![Decrypted {
            submission: 0,
            output: PlainOutput::LinearModel { score: 1 },
        }];
        let err = decide(
            1,
            &lv_params(),
            &geometry(),
            &items,
            &ReleasePolicy {
                min_cohort: 1,
                ..policy()
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("does not belong"), "{err}");
    }
}
