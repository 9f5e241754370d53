//! What the report derives from the raw results, shared by the JSON, the
//! figures and the Markdown:
//!
//! * lookups: [`point`], [`axis`], [`stage_points`];
//! * derived numbers: [`ratio`], [`pbs_bound`];
//! * the EchoNet-Dynamic extrapolation: [`Extrapolated`], [`extrapolation`].

use anyhow::{Context, Result};
use blindfold_fhe::Geometry;

use crate::fhe::{params_for, FheRaw, Point, BITS};

/// ROI sides the extrapolation covers (the axis), whatever was measured.
const EXTRAPOLATION_SIDES: [u16; 4] = [16, 32, 56, 112];

/// `a / b` when both are finite and `b` is positive.
pub(super) fn ratio(a: f64, b: f64) -> Option<f64> {
    (b > 0.0 && a.is_finite() && b.is_finite()).then(|| a / b)
}

/// The point at index `i` of `fhe.points`.
pub(super) fn point(fhe: &FheRaw, i: usize) -> &Point {
    &fhe.points[i]
}

/// The points of the axis that varies `vary` for `pipeline` (empty if none).
pub(super) fn axis<'a>(fhe: &'a FheRaw, vary: &str, pipeline: &str) -> Vec<&'a Point> {
    fhe.axes
        .iter()
        .find(|a| a.vary == vary && a.pipeline == pipeline)
        .map(|a| a.points.iter().map(|&i| point(fhe, i)).collect())
        .unwrap_or_default()
}

fn stage_point<'a>(fhe: &'a FheRaw, pipeline: &str) -> Option<&'a Point> {
    fhe.stage_points
        .iter()
        .map(|&i| point(fhe, i))
        .find(|p| p.pipeline == pipeline)
}

/// The per-stage points of lv-area and conv3x3, in that order.
pub(super) fn stage_points(fhe: &FheRaw) -> Result<(&Point, &Point)> {
    let lv = stage_point(fhe, "lv-area").context("no lv-area stage point")?;
    let conv = stage_point(fhe, "conv3x3").context("no conv3x3 stage point")?;
    Ok((lv, conv))
}

/// PBS-bound time of a point: PBS × single PBS / threads.
pub(super) fn pbs_bound(fhe: &FheRaw, p: &Point) -> f64 {
    p.pbs as f64 * fhe.single_pbs_s / p.threads as f64
}

/// One row of the 10,030-video extrapolation (lv-area, ED+ES, 1 video).
pub(super) struct Extrapolated {
    /// ROI side.
    pub(super) side: u16,
    /// PBS per video.
    pub(super) pbs_per_video: u64,
    /// Measured or modelled seconds per video.
    pub(super) seconds_per_video: f64,
    /// Where the time comes from (`measured …` or `model: …`).
    pub(super) basis: &'static str,
    /// Ciphertext bytes of one video.
    pub(super) video_bytes: f64,
}

/// The extrapolation rows, one per [`EXTRAPOLATION_SIDES`]: measured where
/// the roi axis has the side, else modelled from the PBS count.
pub(super) fn extrapolation(fhe: &FheRaw) -> Result<Vec<Extrapolated>> {
    let roi = axis(fhe, "roi", "lv-area");
    let threads = fhe.plan.default_threads;
    // Efficiency of the largest measured lv-area point, for the model rows.
    let reference = roi
        .iter()
        .filter(|p| p.pbs_efficiency.is_some())
        .max_by_key(|p| p.pbs)
        .copied();
    let eff = reference.and_then(|p| p.pbs_efficiency).unwrap_or(1.0);
    let bytes_per_pixel = roi
        .iter()
        .map(|p| p.video_blob_bytes as f64 / p.pixels as f64)
        .next_back()
        .unwrap_or(8.0);
    let mut rows = Vec::new();
    for side in EXTRAPOLATION_SIDES {
        let measured = roi.iter().find(|p| p.roi_side == side && p.videos == 1);
        let row = match measured {
            Some(p) => Extrapolated {
                side,
                pbs_per_video: p.pbs,
                seconds_per_video: p.fhe_s,
                basis: "measured per-video time",
                video_bytes: p.video_blob_bytes as f64,
            },
            None => {
                let (params, _) = params_for("lv-area", side)?;
                let g = Geometry {
                    width: side,
                    height: side,
                    bits: BITS,
                    frames: 2,
                };
                let pbs = params.pbs_count(&g)?;
                Extrapolated {
                    side,
                    pbs_per_video: pbs,
                    seconds_per_video: pbs as f64 * fhe.single_pbs_s / threads as f64 * eff,
                    basis: "model: PBS × single PBS / threads × measured efficiency",
                    video_bytes: bytes_per_pixel * f64::from(side) * f64::from(side) * 2.0,
                }
            }
        };
        rows.push(row);
    }
    Ok(rows)
}
