//! The plaintext `lv-area` estimate: the reference the FHE pipeline must match.
//!
//! Per selected frame, the LV area is the number of pixels inside a plaintext
//! region-of-interest mask whose (quantised) intensity is below a threshold:
//! the dark blood pool. The ejection fraction follows from the end-diastolic
//! and end-systolic areas as `EF = 1 - (A_es / A_ed)^1.5` (area scales with
//! length², volume with length³).
//!
//! Parts:
//! - [`ellipse_mask`] / [`default_lv_mask`]: the mask, a `Vec<bool>` over the
//!   preprocessed frame (row-major). The FHE pipeline uses exactly this vector.
//! - [`default_threshold`]: the intensity threshold for a bit width.
//! - [`LvMask`] bundles the two; [`lv_area`] counts one frame.
//! - [`ef_percent`] and [`estimate_ef`] turn areas into an EF in percent.
//! - [`Agreement`] / [`agreement`]: EF estimates against reference labels
//!   (mean absolute error, Bland–Altman bias and 95% limits of agreement).

use crate::error::{EchoError, Result};
use crate::preprocess::Preprocessed;

/// An axis-aligned ellipse in fractions of the frame: centre `(cx, cy)` and
/// semi-axes `(rx, ry)`, all relative to width/height (0.0..=1.0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MaskEllipse {
    /// Centre x as a fraction of the width.
    pub cx: f64,
    /// Centre y as a fraction of the height.
    pub cy: f64,
    /// Horizontal semi-axis as a fraction of the width.
    pub rx: f64,
    /// Vertical semi-axis as a fraction of the height.
    pub ry: f64,
}

impl MaskEllipse {
    /// The default LV region for full-frame apical views as the phantom draws
    /// them (LV centred at 56% depth): centre (0.5, 0.56), semi-axes (0.30, 0.42).
    /// It stays inside the phantom's ultrasound sector, so the black background
    /// outside the sector is never counted.
    pub const DEFAULT: MaskEllipse = MaskEllipse {
        cx: 0.5,
        cy: 0.56,
        rx: 0.30,
        ry: 0.42,
    };
}

/// Pixels of a `width x height` frame whose centre lies inside `e`.
pub fn ellipse_mask(width: usize, height: usize, e: MaskEllipse) -> Vec<bool> {
    let mut mask = Vec::with_capacity(width * height);
    for y in 0..height {
        for x in 0..width {
            let dx = ((x as f64 + 0.5) / width as f64 - e.cx) / e.rx;
            let dy = ((y as f64 + 0.5) / height as f64 - e.cy) / e.ry;
            mask.push(dx * dx + dy * dy <= 1.0);
        }
    }
    mask
}

/// [`ellipse_mask`] with [`MaskEllipse::DEFAULT`].
pub fn default_lv_mask(width: usize, height: usize) -> Vec<bool> {
    ellipse_mask(width, height, MaskEllipse::DEFAULT)
}

/// Fraction of full scale below which a pixel counts as blood pool.
pub const DEFAULT_THRESHOLD_FRACTION: f64 = 0.2;

/// The default threshold for `bits`-bit pixels: a pixel is blood pool when its
/// value is strictly below `max(1, round(0.2 * (2^bits - 1)))`. For 4 bits
/// that is 3 (values 0, 1, 2 ≈ intensities below 42/255).
pub fn default_threshold(bits: u8) -> u8 {
    let max = f64::from((1u16 << bits.clamp(1, 8)) - 1);
    ((DEFAULT_THRESHOLD_FRACTION * max).round() as u8).max(1)
}

/// Mask and threshold: everything `lv-area` needs besides the frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LvMask {
    /// Row-major mask over the preprocessed frame.
    pub mask: Vec<bool>,
    /// Count pixels with value `< threshold`.
    pub threshold: u8,
}

impl LvMask {
    /// The default mask and threshold for frames of this geometry.
    pub fn default_for(width: usize, height: usize, bits: u8) -> Self {
        LvMask {
            mask: default_lv_mask(width, height),
            threshold: default_threshold(bits),
        }
    }
}

/// Number of pixels with `mask[i] && frame[i] < threshold`.
/// Lengths must match (see [`lv_areas`] for the checked version).
pub fn lv_area(frame: &[u8], mask: &[bool], threshold: u8) -> u32 {
    frame
        .iter()
        .zip(mask)
        .filter(|&(&v, &m)| m && v < threshold)
        .count() as u32
}

/// The area of every frame of `pre`.
pub fn lv_areas(pre: &Preprocessed, params: &LvMask) -> Result<Vec<u32>> {
    let n = pre.width * pre.height;
    if params.mask.len() != n {
        return Err(EchoError::InvalidConfig {
            what: "lv-area mask",
            problem: format!(
                "mask has {} entries, frames are {}x{}",
                params.mask.len(),
                pre.width,
                pre.height
            ),
        });
    }
    pre.frames
        .iter()
        .enumerate()
        .map(|(i, f)| {
            if f.len() == n {
                Ok(lv_area(f, &params.mask, params.threshold))
            } else {
                Err(EchoError::InvalidConfig {
                    what: "preprocessed frame",
                    problem: format!("frame {i} has {} values, expected {n}", f.len()),
                })
            }
        })
        .collect()
}

/// `100 * (1 - (a_es / a_ed)^1.5)`; `None` when `a_ed` is 0.
pub fn ef_percent(a_ed: u32, a_es: u32) -> Option<f64> {
    (a_ed > 0).then(|| 100.0 * (1.0 - (f64::from(a_es) / f64::from(a_ed)).powf(1.5)))
}

/// EF in percent from `[ED, ES]` frames (as produced by
/// `FrameSelection::EdEs`).
pub fn estimate_ef(pre: &Preprocessed, params: &LvMask) -> Result<f64> {
    if pre.frames.len() != 2 {
        return Err(EchoError::InvalidConfig {
            what: "EF frames",
            problem: format!("need exactly [ED, ES] frames, got {}", pre.frames.len()),
        });
    }
    let areas = lv_areas(pre, params)?;
    ef_percent(areas[0], areas[1]).ok_or_else(|| EchoError::InvalidConfig {
        what: "EF frames",
        problem: "end-diastolic frame has no pixel below the threshold inside the mask".into(),
    })
}

/// How EF estimates agree with reference labels (Bland–Altman). The plot
/// report and the accuracy benchmark serialise it as it is.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Agreement {
    /// Pairs compared.
    pub n: usize,
    /// Mean absolute error, EF points.
    pub mae: f64,
    /// Bias: the mean of estimate − label.
    pub bias: f64,
    /// Sample standard deviation of estimate − label.
    pub sd: f64,
    /// Lower 95% limit of agreement: `bias - 1.96 sd`.
    pub loa_low: f64,
    /// Upper 95% limit of agreement: `bias + 1.96 sd`.
    pub loa_high: f64,
}

/// The agreement of `(estimate, label)` pairs; `None` below 2 pairs or with
/// a non-finite value.
pub fn agreement(pairs: &[(f64, f64)]) -> Option<Agreement> {
    if pairs.len() < 2 || pairs.iter().any(|(e, l)| !e.is_finite() || !l.is_finite()) {
        return None;
    }
    let n = pairs.len() as f64;
    let diffs: Vec<f64> = pairs.iter().map(|(e, l)| e - l).collect();
    let bias = diffs.iter().sum::<f64>() / n;
    let sd = (diffs.iter().map(|d| (d - bias) * (d - bias)).sum::<f64>() / (n - 1.0)).sqrt();
    Some(Agreement {
        n: pairs.len(),
        mae: diffs.iter().map(|d| d.abs()).sum::<f64>() / n,
        bias,
        sd,
        loa_low: bias - 1.96 * sd,
        loa_high: bias + 1.96 * sd,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn area_counts_only_masked_dark_pixels() {
        let frame = [0u8, 5, 1, 9];
        let mask = [true, true, false, true];
        assert_eq!(lv_area(&frame, &mask, 2), 1);
        assert_eq!(lv_area(&frame, &mask, 6), 2);
        assert_eq!(lv_area(&frame, &[false; 4], 16), 0);
    }

    #[test]
    fn ef_formula() {
        assert_eq!(ef_percent(100, 100), Some(0.0));
        let ef = ef_percent(100, 64).expect("ef");
        assert!((ef - 48.8).abs() < 1e-9, "{ef}");
        assert_eq!(ef_percent(0, 3), None);
    }

    #[test]
    fn agreement_by_hand() {
        // Differences 2, -2, 4: bias 4/3, SD sqrt(((2/3)^2 + (10/3)^2 + (8/3)^2) / 2) = sqrt(28/3).
        let a = agreement(&[(52.0, 50.0), (38.0, 40.0), (64.0, 60.0)]).expect("agreement");
        assert_eq!(a.n, 3);
        assert!((a.mae - 8.0 / 3.0).abs() < 1e-12);
        assert!((a.bias - 4.0 / 3.0).abs() < 1e-12);
        assert!((a.sd - (28.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert!((a.loa_high - (a.bias + 1.96 * a.sd)).abs() < 1e-12);
        assert!((a.loa_low - (a.bias - 1.96 * a.sd)).abs() < 1e-12);
        assert_eq!(agreement(&[(1.0, 2.0)]), None);
        assert_eq!(agreement(&[(1.0, 2.0), (f64::NAN, 2.0)]), None);
    }

    #[test]
    fn thresholds_and_masks() {
        assert_eq!(default_threshold(4), 3);
        assert_eq!(default_threshold(1), 1);
        assert_eq!(default_threshold(8), 51);
        let m = default_lv_mask(32, 32);
        let n = m.iter().filter(|&&b| b).count();
        // pi * 0.30 * 0.42 * 1024 ≈ 405
        assert!((380..430).contains(&n), "{n}");
        let pre = Preprocessed {
            width: 2,
            height: 1,
            bits: 4,
            frames: vec![vec![0, 0], vec![0, 9]],
            frame_indices: vec![0, 1],
        };
        let p = LvMask {
            mask: vec![true, true],
            threshold: 3,
        };
        let ef = estimate_ef(&pre, &p).expect("ef");
        assert!((ef - 100.0 * (1.0 - 0.5f64.powf(1.5))).abs() < 1e-9);
        let short = LvMask {
            mask: vec![true],
            threshold: 3,
        };
        assert!(estimate_ef(&pre, &short).is_err());
    }
}
