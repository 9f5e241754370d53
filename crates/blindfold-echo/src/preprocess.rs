//! The data owner's preprocessing, shared with the encryption pipeline.
//!
//! Order of operations in [`preprocess`] (each step is also a public function):
//! 1. [`select_frames`]: all frames, every `step`-th frame from `start`, or
//!    exactly `[ED, ES]` (in that order).
//! 2. [`crop`]: cut the region of interest ([`Roi`]) out of each frame.
//! 3. [`downsample_area`]: resize to `out_width x out_height` by exact area
//!    averaging (each output pixel is the mean of the source area it covers,
//!    with fractional overlaps weighted), so any factor works, e.g. 112 → 32.
//! 4. [`quantise`]: map 0..=255 to 0..=2^bits-1, rounding to nearest.
//!
//! Steps 3 and 4 share one rounding: the float area mean is quantised directly.
//! The result is a plain [`Preprocessed`] struct that the client converts to
//! whatever the FHE crate encrypts.

use crate::error::{EchoError, Result};
use crate::video::GrayVideo;

/// A region of interest in source-pixel coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roi {
    /// Left column.
    pub x: usize,
    /// Top row.
    pub y: usize,
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
}

impl Roi {
    /// The whole `width x height` frame.
    pub fn full(width: usize, height: usize) -> Self {
        Roi {
            x: 0,
            y: 0,
            width,
            height,
        }
    }
}

/// Which frames to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameSelection {
    /// Every frame.
    All,
    /// Frames `start, start + step, start + 2*step, ...`.
    Stride {
        /// First frame.
        start: usize,
        /// Distance between kept frames (at least 1).
        step: usize,
    },
    /// Exactly two frames, end-diastole first, then end-systole.
    EdEs {
        /// End-diastolic frame index.
        ed: usize,
        /// End-systolic frame index.
        es: usize,
    },
}

/// Preprocessing settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreprocessConfig {
    /// Region of interest; `None` is the whole frame.
    pub roi: Option<Roi>,
    /// Output width (at most the ROI width).
    pub out_width: usize,
    /// Output height (at most the ROI height).
    pub out_height: usize,
    /// Bits per output pixel, 1..=8.
    pub bits: u8,
    /// Frame selection.
    pub selection: FrameSelection,
}

impl PreprocessConfig {
    /// The demo's default: whole frame, area-averaged to 32x32, 4 bits, with
    /// the given frame selection.
    pub fn demo(selection: FrameSelection) -> Self {
        PreprocessConfig {
            roi: None,
            out_width: 32,
            out_height: 32,
            bits: 4,
            selection,
        }
    }
}

/// Preprocessed frames, ready for encryption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preprocessed {
    /// Frame width.
    pub width: usize,
    /// Frame height.
    pub height: usize,
    /// Bits per pixel; every value is below `2^bits`.
    pub bits: u8,
    /// Frames, `width * height` values each, row-major.
    pub frames: Vec<Vec<u8>>,
    /// Source frame index of each kept frame (for `EdEs`: `[ed, es]`).
    pub frame_indices: Vec<usize>,
}

fn config_err(what: &'static str, problem: String) -> EchoError {
    EchoError::InvalidConfig { what, problem }
}

/// Indices of the frames kept from a video with `frame_count` frames.
pub fn select_frames(selection: FrameSelection, frame_count: usize) -> Result<Vec<usize>> {
    let check = |i: usize, name: &str| {
        if i < frame_count {
            Ok(i)
        } else {
            Err(config_err(
                "frame selection",
                format!("{name} frame {i} is outside the video's {frame_count} frames"),
            ))
        }
    };
    match selection {
        FrameSelection::All => Ok((0..frame_count).collect()),
        FrameSelection::Stride { step: 0, .. } => Err(config_err(
            "frame selection",
            "stride step must be at least 1".into(),
        )),
        FrameSelection::Stride { start, step } => {
            check(start, "stride start")?;
            Ok((start..frame_count).step_by(step).collect())
        }
        FrameSelection::EdEs { ed, es } => Ok(vec![
            check(ed, "end-diastolic")?,
            check(es, "end-systolic")?,
        ]),
    }
}

/// Copies the `roi` out of a `width`-wide frame. The caller guarantees the ROI
/// lies inside the frame ([`preprocess`] checks it).
pub fn crop(frame: &[u8], width: usize, roi: Roi) -> Vec<u8> {
    let mut out = Vec::with_capacity(roi.width * roi.height);
    for row in roi.y..roi.y + roi.height {
        let start = row * width + roi.x;
        out.extend_from_slice(&frame[start..start + roi.width]);
    }
    out
}

/// Weights of source samples for each output sample along one axis: output
/// cell `o` covers source interval `[o*s, (o+1)*s)` with `s = src/dst`.
fn axis_weights(src: usize, dst: usize) -> Vec<Vec<(usize, f64)>> {
    let s = src as f64 / dst as f64;
    (0..dst)
        .map(|o| {
            let (lo, hi) = (o as f64 * s, (o + 1) as f64 * s);
            let first = lo.floor() as usize;
            let last = (hi.ceil() as usize).min(src);
            (first..last)
                .filter_map(|i| {
                    let overlap = (hi.min(i as f64 + 1.0) - lo.max(i as f64)) / s;
                    (overlap > 1e-12).then_some((i, overlap))
                })
                .collect()
        })
        .collect()
}

/// Area-average resampling of a `width x height` frame to `out_w x out_h`,
/// returning the exact means as floats (0.0..=255.0).
pub fn downsample_area(
    frame: &[u8],
    width: usize,
    height: usize,
    out_w: usize,
    out_h: usize,
) -> Vec<f64> {
    let wx = axis_weights(width, out_w);
    let wy = axis_weights(height, out_h);
    // Rows first: height x out_w.
    let mut tmp = vec![0.0f64; height * out_w];
    for y in 0..height {
        let row = &frame[y * width..(y + 1) * width];
        for (ox, ws) in wx.iter().enumerate() {
            tmp[y * out_w + ox] = ws.iter().map(|&(i, w)| w * f64::from(row[i])).sum();
        }
    }
    let mut out = vec![0.0f64; out_h * out_w];
    for (oy, ws) in wy.iter().enumerate() {
        for ox in 0..out_w {
            out[oy * out_w + ox] = ws.iter().map(|&(y, w)| w * tmp[y * out_w + ox]).sum();
        }
    }
    out
}

/// Quantises an 8-bit-scale value (0.0..=255.0) to `bits` bits, rounding to
/// the nearest level: `round(v * (2^bits - 1) / 255)`.
pub fn quantise(value: f64, bits: u8) -> u8 {
    let max = f64::from((1u16 << bits) - 1);
    (value * max / 255.0).round().clamp(0.0, max) as u8
}

/// Runs selection, crop, downsampling and quantisation on a decoded video.
pub fn preprocess(video: &GrayVideo, cfg: &PreprocessConfig) -> Result<Preprocessed> {
    if !(1..=8).contains(&cfg.bits) {
        return Err(config_err(
            "bit width",
            format!("{} bits; must be 1..=8", cfg.bits),
        ));
    }
    let roi = cfg.roi.unwrap_or(Roi::full(video.width, video.height));
    if roi.width == 0
        || roi.height == 0
        || roi.x.checked_add(roi.width).is_none_or(|r| r > video.width)
        || roi
            .y
            .checked_add(roi.height)
            .is_none_or(|b| b > video.height)
    {
        return Err(EchoError::Dimensions {
            file: video.source.clone(),
            problem: format!(
                "ROI {}x{} at ({}, {}) does not fit in the {}x{} frame",
                roi.width, roi.height, roi.x, roi.y, video.width, video.height
            ),
        });
    }
    if cfg.out_width == 0
        || cfg.out_height == 0
        || cfg.out_width > roi.width
        || cfg.out_height > roi.height
    {
        return Err(config_err(
            "output size",
            format!(
                "{}x{} must be non-zero and no larger than the {}x{} ROI (downsampling only)",
                cfg.out_width, cfg.out_height, roi.width, roi.height
            ),
        ));
    }
    let indices = select_frames(cfg.selection, video.frames.len())?;
    let mut frames = Vec::with_capacity(indices.len());
    for &i in &indices {
        let frame = &video.frames[i];
        if frame.len() != video.width * video.height {
            return Err(EchoError::Dimensions {
                file: video.source.clone(),
                problem: format!(
                    "frame {i} has {} bytes, expected {}x{}",
                    frame.len(),
                    video.width,
                    video.height
                ),
            });
        }
        let cut = crop(frame, video.width, roi);
        let small = downsample_area(&cut, roi.width, roi.height, cfg.out_width, cfg.out_height);
        frames.push(small.into_iter().map(|v| quantise(v, cfg.bits)).collect());
    }
    Ok(Preprocessed {
        width: cfg.out_width,
        height: cfg.out_height,
        bits: cfg.bits,
        frames,
        frame_indices: indices,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn video(w: usize, h: usize, frames: Vec<Vec<u8>>) -> GrayVideo {
        GrayVideo {
            source: PathBuf::from("v"),
            width: w,
            height: h,
            fps: None,
            frames,
        }
    }

    #[test]
    fn area_average_preserves_mean_and_handles_fractional_factors() {
        let frame: Vec<u8> = (0..112 * 112).map(|i| (i * 7 % 251) as u8).collect();
        let mean_in = frame.iter().map(|&v| f64::from(v)).sum::<f64>() / frame.len() as f64;
        let out = downsample_area(&frame, 112, 112, 32, 32);
        let mean_out = out.iter().sum::<f64>() / out.len() as f64;
        assert!((mean_in - mean_out).abs() < 1e-9, "{mean_in} vs {mean_out}");
        // Integer factor: a plain block mean.
        let f = [0u8, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30];
        assert_eq!(downsample_area(&f, 4, 4, 2, 2), vec![5.0, 9.0, 21.0, 25.0]);
    }

    #[test]
    fn quantise_rounds_to_nearest_level() {
        assert_eq!(quantise(0.0, 4), 0);
        assert_eq!(quantise(255.0, 4), 15);
        assert_eq!(quantise(8.4, 4), 0);
        assert_eq!(quantise(8.6, 4), 1);
        assert_eq!(quantise(255.0, 1), 1);
        assert_eq!(quantise(255.0, 8), 255);
        assert_eq!(quantise(127.0, 8), 127);
    }

    #[test]
    fn selection_and_errors() {
        assert_eq!(
            select_frames(FrameSelection::Stride { start: 1, step: 3 }, 8).expect("stride"),
            vec![1, 4, 7]
        );
        assert_eq!(
            select_frames(FrameSelection::EdEs { ed: 5, es: 2 }, 8).expect("edes"),
            vec![5, 2]
        );
        assert!(select_frames(FrameSelection::EdEs { ed: 8, es: 2 }, 8).is_err());
        assert!(select_frames(FrameSelection::Stride { start: 0, step: 0 }, 8).is_err());
        let v = video(4, 4, vec![vec![255; 16], vec![0; 16]]);
        let mut cfg = PreprocessConfig {
            roi: Some(Roi {
                x: 2,
                y: 0,
                width: 2,
                height: 4,
            }),
            out_width: 1,
            out_height: 2,
            bits: 3,
            selection: FrameSelection::All,
        };
        let p = preprocess(&v, &cfg).expect("preprocess");
        assert_eq!((p.width, p.height, p.bits), (1, 2, 3));
        assert_eq!(p.frames, vec![vec![7, 7], vec![0, 0]]);
        assert_eq!(p.frame_indices, vec![0, 1]);
        cfg.roi = Some(Roi {
            x: 3,
            y: 0,
            width: 2,
            height: 4,
        });
        assert!(matches!(
            preprocess(&v, &cfg),
            Err(EchoError::Dimensions { .. })
        ));
        cfg.roi = None;
        cfg.bits = 9;
        assert!(matches!(
            preprocess(&v, &cfg),
            Err(EchoError::InvalidConfig { .. })
        ));
        cfg.bits = 4;
        cfg.out_width = 5;
        assert!(preprocess(&v, &cfg).is_err());
        let bad = video(4, 4, vec![vec![0; 15]]);
        cfg.out_width = 2;
        assert!(matches!(
            preprocess(&bad, &cfg),
            Err(EchoError::Dimensions { .. })
        ));
    }
}
