//! Whole cardiac cycles: beats found on an LV area curve, the EF of each
//! beat, and the data owner's whole-cycle frame selection.
//!
//! An `lv-area` result over many frames is an area curve: one count of
//! blood-pool pixels per frame, high at end-diastole (ED), low at
//! end-systole (ES). This module reads beats off such a curve in plaintext
//! (the owner after decryption, or before encryption on its own videos).
//!
//! Parts, top-down:
//! - [`CycleError`]: why a curve gives no beat, or a video no whole cycle.
//! - [`turning_points`]: the curve's maxima and minima by hysteresis (a
//!   zig-zag filter): a maximum counts once the curve has fallen from it by
//!   at least [`swing`], a minimum once it has risen by as much, so wiggles
//!   smaller than the swing (speckle noise in the counts) never split a beat.
//! - [`beats`]: each systole, a maximum (ED) followed by a minimum (ES) that
//!   the curve rises out of again, with its EF from [`ef_percent`] (a first
//!   beat cut in mid-systole is recognised by its low ED and left out).
//! - [`curve_ef`]: the EF of one video's curve as the data owner releases
//!   it: the beats' EFs with their mean and beat-to-beat spread (sample
//!   standard deviation), or, with no whole beat (an ED+ES pair), the EF of
//!   the curve's maximum and minimum.
//! - [`CycleSelection`] and [`select_cycle_frames`]: the frames of whole
//!   cycles, every `step`-th frame from the first end-diastole, found on the
//!   plaintext area curve of every frame; [`preprocess_cycles`] preprocesses
//!   a video and keeps those frames (what the data owner encrypts).
//!
//! Everything is integer comparisons on the counts: same curve, same beats.

use std::path::Path;

use crate::error::{EchoError, Result};
use crate::lv_area::{ef_percent, lv_areas, LvMask};
use crate::preprocess::{preprocess, FrameSelection, PreprocessConfig, Preprocessed};
use crate::video::GrayVideo;

/// Fewest samples a curve needs to hold a beat: a maximum, a minimum, and
/// the rise after it.
pub const MIN_SAMPLES: usize = 3;

/// The hysteresis as a fraction of the curve's range (maximum − minimum).
pub const SWING_FRACTION: f64 = 0.4;

/// The least hysteresis in pixels, and the least range of a curve that is
/// not flat.
pub const MIN_SWING: u32 = 2;

/// Why a curve holds no beat, or a video no whole cycle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CycleError {
    /// Too few samples for a beat.
    #[error(
        "an area curve of {samples} samples is too short: a beat needs at least {MIN_SAMPLES}"
    )]
    TooShort {
        /// Samples in the curve.
        samples: usize,
    },
    /// The curve's range is below [`MIN_SWING`]: nothing beats.
    #[error("the area curve is flat (its maximum and minimum differ by {range} pixels): no beat")]
    Flat {
        /// Maximum − minimum.
        range: u32,
    },
    /// No end-diastole followed by an end-systole that the curve rises out of.
    #[error(
        "the area curve ({samples} samples) holds no whole systole: no end-diastole followed \
         by an end-systole and the refill after it"
    )]
    NoBeat {
        /// Samples in the curve.
        samples: usize,
    },
    /// A selection parameter is out of range (a step of 0, ...).
    #[error("invalid whole-cycle selection: {0}")]
    Selection(String),
    /// The video shows fewer whole cycles than the selection asks for.
    #[error(
        "the video's {frames} frames show {found} whole cardiac cycle(s) after its first \
         end-diastole preceded by a rise; {wanted} wanted"
    )]
    TooFewCycles {
        /// Frames in the video.
        frames: usize,
        /// Whole cycles found.
        found: usize,
        /// Cycles asked for.
        wanted: usize,
    },
    /// The selection's frames span fewer source frames than the cycles.
    #[error(
        "{count} frames every {step} span {span} source frames, but the {cycles} cycle(s) from \
         frame {start} take {needed}: raise the count to at least {min_count} or the step"
    )]
    WindowTooShort {
        /// Frames kept.
        count: usize,
        /// Distance between kept frames.
        step: usize,
        /// Source frames the kept frames span.
        span: usize,
        /// Cycles asked for.
        cycles: usize,
        /// The first end-diastole.
        start: usize,
        /// Source frames of the cycles (ED to the ED that closes the last).
        needed: usize,
        /// The least count that covers them at this step.
        min_count: usize,
    },
    /// The selection runs past the video's last frame.
    #[error(
        "{count} frames every {step} from frame {start} need {needed} frames; the video has {frames}"
    )]
    VideoTooShort {
        /// Frames kept.
        count: usize,
        /// Distance between kept frames.
        step: usize,
        /// The first end-diastole.
        start: usize,
        /// Frames the selection needs.
        needed: usize,
        /// Frames in the video.
        frames: usize,
    },
}

/// Whether a turning point is a maximum or a minimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// A maximum: the curve fell from it by at least the swing.
    Max,
    /// A minimum: the curve rose from it by at least the swing.
    Min,
}

/// One confirmed turning point of a curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TurningPoint {
    /// Its sample.
    pub index: usize,
    /// Maximum or minimum.
    pub turn: Turn,
}

/// The hysteresis of a curve whose range is `range`:
/// `max(MIN_SWING, ceil(SWING_FRACTION * range))`.
pub fn swing(range: u32) -> u32 {
    ((SWING_FRACTION * f64::from(range)).ceil() as u32).max(MIN_SWING)
}

/// Maximum − minimum of `areas` (0 when empty).
fn range(areas: &[u32]) -> u32 {
    let max = areas.iter().copied().max().unwrap_or(0);
    let min = areas.iter().copied().min().unwrap_or(0);
    max - min
}

fn check_curve(areas: &[u32]) -> std::result::Result<u32, CycleError> {
    if areas.len() < MIN_SAMPLES {
        return Err(CycleError::TooShort {
            samples: areas.len(),
        });
    }
    let range = range(areas);
    if range < MIN_SWING {
        return Err(CycleError::Flat { range });
    }
    Ok(swing(range))
}

/// The confirmed turning points of `areas`, alternating, in order (see the
/// module docs). The first may be the first sample; the curve's last
/// extreme, not yet confirmed by a move back, is left out. Among equal
/// values the first sample is the turning point.
pub fn turning_points(areas: &[u32]) -> std::result::Result<Vec<TurningPoint>, CycleError> {
    let swing = check_curve(areas)?;
    let mut points = Vec::new();
    let (mut hi, mut lo) = (0usize, 0usize);
    let mut seeking: Option<Turn> = None;
    for (i, &a) in areas.iter().enumerate() {
        if a > areas[hi] {
            hi = i;
        }
        if a < areas[lo] {
            lo = i;
        }
        let fell = areas[hi] - a.min(areas[hi]) >= swing;
        let rose = a - areas[lo].min(a) >= swing;
        let turned = match seeking {
            None if fell => Some(Turn::Max),
            None if rose => Some(Turn::Min),
            Some(Turn::Max) if fell => Some(Turn::Max),
            Some(Turn::Min) if rose => Some(Turn::Min),
            _ => None,
        };
        match turned {
            Some(Turn::Max) => {
                points.push(TurningPoint {
                    index: hi,
                    turn: Turn::Max,
                });
                seeking = Some(Turn::Min);
                lo = i;
            }
            Some(Turn::Min) => {
                points.push(TurningPoint {
                    index: lo,
                    turn: Turn::Min,
                });
                seeking = Some(Turn::Max);
                hi = i;
            }
            None => {}
        }
    }
    Ok(points)
}

/// One beat: the systole from an end-diastole to the next end-systole.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Beat {
    /// The end-diastolic sample (the maximum).
    pub ed: usize,
    /// The end-systolic sample (the minimum).
    pub es: usize,
    /// The area at end-diastole.
    pub ed_area: u32,
    /// The area at end-systole.
    pub es_area: u32,
    /// `ef_percent(ed_area, es_area)`.
    pub ef_percent: f64,
    /// Whether the curve was seen rising into the end-diastole by the
    /// swing (false for a first beat whose ED is the curve's first turning
    /// point: a curve that starts at end-diastole, as the whole-cycle
    /// selection's does, or one cut in mid-systole).
    pub rise_seen: bool,
}

/// Every beat of `areas`, in order: each confirmed maximum followed by a
/// confirmed minimum. A first beat whose ED the curve was not seen rising
/// into (its first turning point) is kept unless its ED area is more than
/// half a swing below the lowest ED that was: that is a curve cut in
/// mid-systole, whose first "ED" is too low. Errors: too short, flat, or no
/// whole beat.
pub fn beats(areas: &[u32]) -> std::result::Result<Vec<Beat>, CycleError> {
    let points = turning_points(areas)?;
    let mut out = Vec::new();
    for (k, pair) in points.windows(2).enumerate() {
        if let [TurningPoint {
            index: ed,
            turn: Turn::Max,
        }, TurningPoint {
            index: es,
            turn: Turn::Min,
        }] = *pair
        {
            // A confirmed maximum fell by at least MIN_SWING, so its area is
            // positive and the EF is defined.
            if let Some(ef) = ef_percent(areas[ed], areas[es]) {
                out.push(Beat {
                    ed,
                    es,
                    ed_area: areas[ed],
                    es_area: areas[es],
                    ef_percent: ef,
                    rise_seen: k > 0,
                });
            }
        }
    }
    // A first beat not seen rising into its ED may be a curve cut in
    // mid-systole: it counts only when its ED is within half a swing of the
    // lowest ED seen rising (or when it is the only beat).
    let risen_ed = out.iter().filter(|b| b.rise_seen).map(|b| b.ed_area).min();
    if let (Some(first), Some(risen)) = (out.first(), risen_ed) {
        if !first.rise_seen && first.ed_area + swing(range(areas)) / 2 < risen {
            out.remove(0);
        }
    }
    if out.is_empty() {
        return Err(CycleError::NoBeat {
            samples: areas.len(),
        });
    }
    Ok(out)
}

/// The EF of one video's area curve, as the data owner releases it.
#[derive(Debug, Clone, PartialEq)]
pub struct CurveEf {
    /// The video's EF estimate in percent: the mean of the beats' EFs, or,
    /// with no whole beat, `ef_percent(max, min)` of the curve.
    pub ef_percent: f64,
    /// The beats found (empty: none, e.g. an ED+ES pair).
    pub beats: Vec<Beat>,
    /// The sample standard deviation of the beats' EFs (the beat-to-beat
    /// spread), with at least two beats.
    pub beat_sd: Option<f64>,
}

/// The EF of `areas` (see [`CurveEf`]); `None` with fewer than 2 samples or
/// a maximum of 0.
pub fn curve_ef(areas: &[u32]) -> Option<CurveEf> {
    if let Ok(found) = beats(areas) {
        let efs: Vec<f64> = found.iter().map(|b| b.ef_percent).collect();
        let (mean, sd) = mean_sd(&efs);
        return Some(CurveEf {
            ef_percent: mean,
            beats: found,
            beat_sd: sd,
        });
    }
    if areas.len() < 2 {
        return None;
    }
    let max = areas.iter().copied().max()?;
    let min = areas.iter().copied().min()?;
    Some(CurveEf {
        ef_percent: ef_percent(max, min)?,
        beats: Vec::new(),
        beat_sd: None,
    })
}

/// Mean and sample standard deviation (`None` below 2 values).
fn mean_sd(values: &[f64]) -> (f64, Option<f64>) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = (values.len() >= 2).then(|| {
        let ss: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
        (ss / (n - 1.0)).sqrt()
    });
    (mean, sd)
}

/// Which frames of whole cycles to keep: `count` frames, every `step`-th,
/// from the first end-diastole, covering at least `cycles` whole cycles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CycleSelection {
    /// Whole cycles the kept frames must cover (at least 1).
    pub cycles: usize,
    /// Distance between kept frames (at least 1: every frame).
    pub step: usize,
    /// Frames kept (at least [`MIN_SAMPLES`]); fixed per dataset, since it
    /// is the encrypted videos' frame count.
    pub count: usize,
}

impl CycleSelection {
    /// Checks the parameters alone.
    pub fn validate(&self) -> std::result::Result<(), CycleError> {
        if self.cycles == 0 {
            return Err(CycleError::Selection(
                "at least 1 cycle must be kept, not 0".into(),
            ));
        }
        if self.step == 0 {
            return Err(CycleError::Selection(
                "the step k must be at least 1 (1 keeps every frame), not 0".into(),
            ));
        }
        if self.count < MIN_SAMPLES {
            return Err(CycleError::Selection(format!(
                "{} frames cannot hold a beat; keep at least {MIN_SAMPLES}",
                self.count
            )));
        }
        Ok(())
    }
}

/// The source frames `sel` keeps from a video whose plaintext area curve
/// over every frame is `areas`: `sel.count` frames, `sel.step` apart, from
/// the first end-diastole the curve was seen rising into (a maximum at the
/// very first frame might be a curve cut mid-systole, so it is not used),
/// such that they reach the end-diastole that closes the `sel.cycles`-th
/// cycle. Every way that fails is a [`CycleError`] saying what to change.
pub fn select_cycle_frames(
    areas: &[u32],
    sel: CycleSelection,
) -> std::result::Result<Vec<usize>, CycleError> {
    sel.validate()?;
    let frames = areas.len();
    let points = turning_points(areas)?;
    // Maxima preceded by a minimum: end-diastoles the curve rose into.
    let eds: Vec<usize> = points
        .windows(2)
        .filter(|w| w[0].turn == Turn::Min && w[1].turn == Turn::Max)
        .map(|w| w[1].index)
        .collect();
    // The cycles from the first: that ED and the `cycles` EDs after it.
    let Some(&start) = eds.first() else {
        return Err(CycleError::TooFewCycles {
            frames,
            found: 0,
            wanted: sel.cycles,
        });
    };
    let Some(&end) = eds.get(sel.cycles) else {
        return Err(CycleError::TooFewCycles {
            frames,
            found: eds.len() - 1,
            wanted: sel.cycles,
        });
    };
    let needed = end - start + 1;
    let span = (sel.count - 1).saturating_mul(sel.step).saturating_add(1);
    if span < needed {
        return Err(CycleError::WindowTooShort {
            count: sel.count,
            step: sel.step,
            span,
            cycles: sel.cycles,
            start,
            needed,
            min_count: (needed - 1).div_ceil(sel.step) + 1,
        });
    }
    let last = start.saturating_add(span - 1);
    if last >= frames {
        return Err(CycleError::VideoTooShort {
            count: sel.count,
            step: sel.step,
            start,
            needed: last.saturating_add(1),
            frames,
        });
    }
    Ok((0..sel.count).map(|i| start + i * sel.step).collect())
}

/// Preprocesses `video` as `cfg` says (its frame selection is ignored)
/// and keeps the frames of whole cycles that `sel` selects on the
/// plaintext area curve of every frame, under the default LV mask and
/// threshold of the output geometry ([`LvMask::default_for`]).
pub fn preprocess_cycles(
    video: &GrayVideo,
    cfg: &PreprocessConfig,
    sel: CycleSelection,
) -> Result<Preprocessed> {
    let all = preprocess(
        video,
        &PreprocessConfig {
            selection: FrameSelection::All,
            ..*cfg
        },
    )?;
    let mask = LvMask::default_for(all.width, all.height, all.bits);
    let areas = lv_areas(&all, &mask)?;
    let keep =
        select_cycle_frames(&areas, sel).map_err(|source| cycle_error(&video.source, source))?;
    Ok(Preprocessed {
        width: all.width,
        height: all.height,
        bits: all.bits,
        frames: keep.iter().map(|&i| all.frames[i].clone()).collect(),
        frame_indices: keep,
    })
}

fn cycle_error(file: &Path, source: CycleError) -> EchoError {
    EchoError::Cycle {
        file: file.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A beat shape: `period` samples from `hi` down to `lo` and back.
    fn wave(beats: usize, period: usize, hi: u32, lo: u32) -> Vec<u32> {
        (0..beats * period + 1)
            .map(|i| {
                let phase = (i % period) as f64 / period as f64;
                let c = (1.0 + (2.0 * std::f64::consts::PI * phase).cos()) / 2.0;
                lo + (f64::from(hi - lo) * c).round() as u32
            })
            .collect()
    }

    #[test]
    fn one_beat_by_hand() {
        let curve = [100, 90, 70, 64, 70, 85, 99];
        let b = beats(&curve).unwrap();
        assert_eq!(b.len(), 1);
        assert_eq!((b[0].ed, b[0].es), (0, 3));
        assert_eq!((b[0].ed_area, b[0].es_area), (100, 64));
        assert!((b[0].ef_percent - 48.8).abs() < 1e-9, "{}", b[0].ef_percent);
        assert!(!b[0].rise_seen);
        let ef = curve_ef(&curve).unwrap();
        assert_eq!(ef.ef_percent, b[0].ef_percent);
        assert_eq!(ef.beat_sd, None, "one beat has no spread");
    }

    #[test]
    fn three_beats_with_noise() {
        // Three beats of period 8 (areas 100 → 60), plus ±3 of noise that
        // would split beats without the hysteresis.
        let noise = [0i32, 3, -3, 2, -2, 3, 0, -3, 1];
        let curve: Vec<u32> = wave(3, 8, 100, 60)
            .iter()
            .enumerate()
            .map(|(i, &a)| (a as i32 + noise[i % noise.len()]) as u32)
            .collect();
        let b = beats(&curve).unwrap();
        assert_eq!(b.len(), 3, "{b:?} on {curve:?}");
        for (k, beat) in b.iter().enumerate() {
            assert!(beat.es > beat.ed);
            assert!(beat.ed.abs_diff(8 * k) <= 1, "{beat:?}");
            assert!(beat.es.abs_diff(8 * k + 4) <= 1, "{beat:?}");
            assert_eq!(
                beat.ef_percent,
                ef_percent(beat.ed_area, beat.es_area).unwrap()
            );
        }
        assert!(!b[0].rise_seen && b[1].rise_seen && b[2].rise_seen);
        let ef = curve_ef(&curve).unwrap();
        let efs: Vec<f64> = b.iter().map(|x| x.ef_percent).collect();
        let mean = efs.iter().sum::<f64>() / 3.0;
        let sd = (efs.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
        assert!((ef.ef_percent - mean).abs() < 1e-12);
        assert!((ef.beat_sd.unwrap() - sd).abs() < 1e-12);
        assert!(sd > 0.0, "noise makes the beats differ");
    }

    #[test]
    fn a_curve_cut_mid_systole() {
        // Starts falling (mid-systole from 80), rises to 100, falls and
        // rises again: the cut first beat (ED 80) is dropped for the whole
        // one seen rising into its ED.
        let b = beats(&[80, 70, 60, 70, 90, 100, 90, 75, 62, 61, 80]).unwrap();
        assert_eq!(b.len(), 1, "{b:?}");
        assert_eq!((b[0].ed, b[0].es, b[0].rise_seen), (5, 9, true));
        // Without the refill the minimum at 8 is unconfirmed, and the cut
        // beat is all there is: it is kept (its EF is low; the whole-cycle
        // selection starts at an end-diastole to avoid this).
        let b = beats(&[80, 70, 60, 70, 90, 100, 90, 75, 62]).unwrap();
        assert_eq!((b.len(), b[0].ed, b[0].es), (1, 0, 2));
        // A first beat that starts at its ED is kept beside later ones.
        let b = beats(&[100, 80, 60, 80, 99, 80, 61, 80]).unwrap();
        assert_eq!(
            b.iter().map(|b| (b.ed, b.es)).collect::<Vec<_>>(),
            [(0, 2), (4, 6)]
        );
    }

    #[test]
    fn flat_short_and_beatless_curves_are_errors() {
        assert_eq!(beats(&[]), Err(CycleError::TooShort { samples: 0 }));
        assert_eq!(beats(&[5, 1]), Err(CycleError::TooShort { samples: 2 }));
        assert_eq!(beats(&[7; 30]), Err(CycleError::Flat { range: 0 }));
        assert_eq!(beats(&[7, 8, 7, 8, 7]), Err(CycleError::Flat { range: 1 }));
        // Only filling: a minimum, never a systole.
        assert_eq!(
            beats(&[10, 20, 30, 40]),
            Err(CycleError::NoBeat { samples: 4 })
        );
        assert!(curve_ef(&[7; 30]).is_some_and(|e| e.ef_percent == 0.0 && e.beats.is_empty()));
        assert!(curve_ef(&[3]).is_none());
        assert!(curve_ef(&[0, 0]).is_none());
        // An ED+ES pair: the EF of its maximum and minimum, no beats.
        let pair = curve_ef(&[100, 64]).unwrap();
        assert!((pair.ef_percent - 48.8).abs() < 1e-9);
        assert!(pair.beats.is_empty() && pair.beat_sd.is_none());
        for e in [
            CycleError::TooShort { samples: 2 },
            CycleError::Flat { range: 1 },
        ] {
            assert!(e.to_string().contains("no beat") || e.to_string().contains("too short"));
        }
    }

    #[test]
    fn cycle_frames_start_at_the_first_risen_ed() {
        // Period 10, EDs at 0, 10, 20, 30, 40; the one at 0 is the first
        // sample, so the cycles start at 10.
        let curve = wave(4, 10, 200, 120);
        let sel = |cycles, step, count| CycleSelection {
            cycles,
            step,
            count,
        };
        assert_eq!(
            select_cycle_frames(&curve, sel(1, 2, 6)).unwrap(),
            vec![10, 12, 14, 16, 18, 20]
        );
        assert_eq!(
            select_cycle_frames(&curve, sel(2, 1, 21)).unwrap(),
            (10..=30).collect::<Vec<_>>()
        );
        // Too few frames for the two cycles at this step.
        let e = select_cycle_frames(&curve, sel(2, 2, 10)).unwrap_err();
        assert!(
            matches!(
                e,
                CycleError::WindowTooShort {
                    needed: 21,
                    min_count: 11,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("at least 11"), "{e}");
        // Cycles 10..=40 exist, but the last ED (40) is the curve's end and
        // unconfirmed: two whole cycles, not three.
        let e = select_cycle_frames(&curve, sel(3, 1, 31)).unwrap_err();
        assert_eq!(
            e,
            CycleError::TooFewCycles {
                frames: 41,
                found: 2,
                wanted: 3
            }
        );
        // Past the end of the video.
        let e = select_cycle_frames(&curve, sel(1, 5, 8)).unwrap_err();
        assert!(
            matches!(e, CycleError::VideoTooShort { needed: 46, .. }),
            "{e}"
        );
        // Parameters.
        for (bad, what) in [
            (sel(1, 0, 8), "step k"),
            (sel(0, 1, 8), "1 cycle"),
            (sel(1, 1, 2), "at least 3"),
        ] {
            let e = select_cycle_frames(&curve, bad).unwrap_err();
            assert!(e.to_string().contains(what), "{e}");
        }
        // A video shorter than one cycle, and a flat one.
        let e = select_cycle_frames(&curve[..12], sel(1, 1, 8)).unwrap_err();
        assert!(
            matches!(e, CycleError::TooFewCycles { found: 0, .. }),
            "{e}"
        );
        assert!(matches!(
            select_cycle_frames(&[50; 40], sel(1, 1, 8)),
            Err(CycleError::Flat { .. })
        ));
    }

    #[test]
    fn selected_frames_hold_the_beats() {
        let curve = wave(5, 12, 300, 150);
        let keep = select_cycle_frames(
            &curve,
            CycleSelection {
                cycles: 2,
                step: 2,
                count: 14,
            },
        )
        .unwrap();
        let window: Vec<u32> = keep.iter().map(|&i| curve[i]).collect();
        let b = beats(&window).unwrap();
        assert_eq!(b.len(), 2, "{b:?}");
        assert_eq!((b[0].ed, b[0].es), (0, 3));
        for beat in &b {
            assert_eq!((beat.ed_area, beat.es_area), (300, 150));
        }
    }
}
