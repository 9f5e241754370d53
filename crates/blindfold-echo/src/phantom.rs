//! A synthetic echocardiogram generator with known ejection fractions.
//!
//! Each video shows an apical view: an ultrasound sector (apex at the top
//! centre, ±40°) with depth attenuation and multiplicative speckle; in it, the
//! LV cavity is a dark ellipse inside a bright myocardial ring, beating on a
//! known volume curve. The cavity scales isotropically, so its volume follows
//! `V(t) ∝ scale³` and its area `∝ scale²`; the myocardial ring keeps its area
//! (the wall thickens in systole).
//!
//! Parts, top-down:
//! - [`PhantomConfig`]: how many videos, frames, fps, resolution, speckle
//!   noise, JPEG quality, EF range and the seed.
//! - [`write_dataset`]: writes an EchoNet-Dynamic layout (`Videos/*.avi` as
//!   Motion-JPEG, `FileList.csv`, `VolumeTracings.csv`) and returns the
//!   ground truth.
//! - [`generate_video`]: one video's frames and truth, deterministic in
//!   `(seed, index)` (a ChaCha8 stream per video). Same seed → same bytes.
//! - [`VolumeCurve`]: the volume over time (raised-cosine systole then
//!   diastole), with end-diastole exactly on a frame and end-systole exactly
//!   `systole` frames later, so the EF of the traced frames is the stated EF.
//! - [`LvEllipse::tracing`]: the EchoNet-style tracing (long axis + 20
//!   perpendicular chords) of the cavity at ED and ES.
//!
//! Geometry is expressed in normalised coordinates (`x/width`, `y/height`), so
//! non-square frames are a stretched version of the square picture.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::avi::{encode_gray_jpeg, write_mjpeg_avi};
use crate::error::{EchoError, Result};
use crate::video::GrayVideo;

/// Generator settings.
#[derive(Debug, Clone, PartialEq)]
pub struct PhantomConfig {
    /// Number of videos.
    pub videos: usize,
    /// Frames per video (at least 2).
    pub frames: usize,
    /// Frames per second.
    pub fps: f64,
    /// Frame width (16..=1024).
    pub width: usize,
    /// Frame height (16..=1024).
    pub height: usize,
    /// Speckle strength, 0.0 (none) ..= 1.0 (fully developed speckle).
    pub noise: f64,
    /// JPEG quality, 1..=100.
    pub jpeg_quality: u8,
    /// EF range in percent; each video draws its EF uniformly from it.
    pub ef_range: (f64, f64),
    /// Seed: the same seed gives the same bytes.
    pub seed: u64,
}

impl Default for PhantomConfig {
    /// 112x112 at 50 fps like EchoNet, 64 frames (at least one heartbeat),
    /// speckle 0.5, quality 90, EF 25..75 %.
    fn default() -> Self {
        PhantomConfig {
            videos: 20,
            frames: 64,
            fps: 50.0,
            width: 112,
            height: 112,
            noise: 0.5,
            jpeg_quality: 90,
            ef_range: (25.0, 75.0),
            seed: 0,
        }
    }
}

impl PhantomConfig {
    fn validate(&self) -> Result<()> {
        let bad = |what, problem: String| Err(EchoError::InvalidConfig { what, problem });
        if self.frames < 2 {
            return bad(
                "phantom frames",
                format!("{} frames; need at least 2", self.frames),
            );
        }
        if !(self.fps.is_finite() && self.fps > 0.0 && self.fps <= 1000.0) {
            return bad("phantom fps", format!("{}; must be in (0, 1000]", self.fps));
        }
        if !(16..=1024).contains(&self.width) || !(16..=1024).contains(&self.height) {
            return bad(
                "phantom resolution",
                format!(
                    "{}x{}; each side must be 16..=1024",
                    self.width, self.height
                ),
            );
        }
        if !(self.noise.is_finite() && (0.0..=1.0).contains(&self.noise)) {
            return bad(
                "phantom noise",
                format!("{}; must be 0.0..=1.0", self.noise),
            );
        }
        if !(1..=100).contains(&self.jpeg_quality) {
            return bad(
                "phantom JPEG quality",
                format!("{}; must be 1..=100", self.jpeg_quality),
            );
        }
        let (lo, hi) = self.ef_range;
        if !(lo.is_finite() && hi.is_finite() && 1.0 <= lo && lo <= hi && hi <= 90.0) {
            return bad(
                "phantom EF range",
                format!("{lo}..{hi}; need 1 <= lo <= hi <= 90 (percent)"),
            );
        }
        Ok(())
    }
}

/// The LV volume over time, in frames.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VolumeCurve {
    /// End-diastolic volume (mL).
    pub edv: f64,
    /// End-systolic volume (mL).
    pub esv: f64,
    /// Cardiac cycle length in frames.
    pub period: f64,
    /// Systole length in frames (a whole number).
    pub systole: usize,
    /// An end-diastolic frame.
    pub ed_frame: usize,
}

impl VolumeCurve {
    /// Volume at (possibly fractional) frame `f`: a raised-cosine fall from
    /// EDV to ESV over `systole` frames after each end-diastole, then a
    /// raised-cosine refill over the rest of the cycle.
    pub fn volume(&self, f: f64) -> f64 {
        let u = (f - self.ed_frame as f64).rem_euclid(self.period);
        let s = self.systole as f64;
        let swing = self.edv - self.esv;
        if u < s {
            self.edv - swing * (1.0 - (std::f64::consts::PI * u / s).cos()) / 2.0
        } else {
            let d = (u - s) / (self.period - s);
            self.esv + swing * (1.0 - (std::f64::consts::PI * d).cos()) / 2.0
        }
    }

    /// The end-systolic frame that follows [`Self::ed_frame`].
    pub fn es_frame(&self) -> usize {
        self.ed_frame + self.systole
    }
}

/// The LV cavity ellipse in normalised coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LvEllipse {
    /// Centre x (fraction of width).
    pub cx: f64,
    /// Centre y (fraction of height).
    pub cy: f64,
    /// Semi-axis along the long axis.
    pub a: f64,
    /// Semi-axis across.
    pub b: f64,
    /// Long-axis tilt from vertical, radians.
    pub tilt: f64,
}

impl LvEllipse {
    /// Unit vectors: along the long axis (towards the base, downwards) and across.
    fn axes(&self) -> ((f64, f64), (f64, f64)) {
        let (s, c) = self.tilt.sin_cos();
        ((s, c), (c, -s))
    }

    /// Cavity area in pixels² for a `width x height` frame.
    pub fn area_px(&self, width: usize, height: usize) -> f64 {
        std::f64::consts::PI * self.a * self.b * (width * height) as f64
    }

    /// EchoNet-style tracing in pixel coordinates (pixel centres at integers):
    /// the long axis apex → base, then `chords` chords perpendicular to it at
    /// evenly spaced positions, each `[x1, y1, x2, y2]` with both ends on the
    /// ellipse.
    pub fn tracing(&self, width: usize, height: usize, chords: usize) -> Vec<[f64; 4]> {
        let ((ux, uy), (vx, vy)) = self.axes();
        let px = |xn: f64, yn: f64| (xn * width as f64 - 0.5, yn * height as f64 - 0.5);
        let mut out = Vec::with_capacity(chords + 1);
        let (x1, y1) = px(self.cx - self.a * ux, self.cy - self.a * uy);
        let (x2, y2) = px(self.cx + self.a * ux, self.cy + self.a * uy);
        out.push([x1, y1, x2, y2]);
        for k in 1..=chords {
            let t = -self.a + 2.0 * self.a * k as f64 / (chords + 1) as f64;
            let half = self.b * (1.0 - (t / self.a).powi(2)).max(0.0).sqrt();
            let (mx, my) = (self.cx + t * ux, self.cy + t * uy);
            let (x1, y1) = px(mx - half * vx, my - half * vy);
            let (x2, y2) = px(mx + half * vx, my + half * vy);
            out.push([x1, y1, x2, y2]);
        }
        out
    }

    /// Normalised radius `rho` (1 on the boundary) and an approximate signed
    /// distance to the boundary in normalised units, for point `(x, y)`.
    fn signed_distance(&self, x: f64, y: f64, grow: f64) -> f64 {
        let ((ux, uy), (vx, vy)) = self.axes();
        let (dx, dy) = (x - self.cx, y - self.cy);
        let (a, b) = (self.a + grow, self.b + grow);
        let along = (dx * ux + dy * uy) / a;
        let across = (dx * vx + dy * vy) / b;
        let rho = (along * along + across * across).sqrt();
        if rho < 0.5 {
            return -(1.0 - rho) * b; // deep inside: exact value irrelevant
        }
        // First-order distance: (rho - 1) / |grad rho|.
        let gx = along / (a * rho);
        let gy = across / (b * rho);
        (rho - 1.0) / (gx * gx + gy * gy).sqrt()
    }
}

/// Ground truth of one phantom video.
#[derive(Debug, Clone, PartialEq)]
pub struct PhantomTruth {
    /// Video name (no extension).
    pub name: String,
    /// Ejection fraction in percent, `100 * (EDV - ESV) / EDV`.
    pub ef: f64,
    /// The volume curve (EDV, ESV, timing).
    pub curve: VolumeCurve,
    /// End-diastolic frame (last traced frame).
    pub ed_frame: usize,
    /// End-systolic frame (first traced frame).
    pub es_frame: usize,
    /// Cavity at end-diastole.
    pub ed_lv: LvEllipse,
    /// Cavity at end-systole.
    pub es_lv: LvEllipse,
    /// `TRAIN`, `VAL` or `TEST`.
    pub split: &'static str,
}

/// One generated video: frames plus truth.
#[derive(Debug, Clone, PartialEq)]
pub struct PhantomVideo {
    /// Ground truth.
    pub truth: PhantomTruth,
    /// Frames, `width * height` bytes of luminance each (before JPEG).
    pub frames: Vec<Vec<u8>>,
    /// Frame width.
    pub width: usize,
    /// Frame height.
    pub height: usize,
    /// Frames per second.
    pub fps: f64,
}

impl PhantomVideo {
    /// The frames as a [`GrayVideo`] (no JPEG round trip).
    pub fn to_gray_video(&self) -> GrayVideo {
        GrayVideo {
            source: PathBuf::from(format!("{}.avi", self.truth.name)),
            width: self.width,
            height: self.height,
            fps: Some(self.fps),
            frames: self.frames.clone(),
        }
    }
}

/// Name of video `index`.
pub fn video_name(index: usize) -> String {
    format!("PHANTOM_{index:05}")
}

// Picture constants (echogenicity before attenuation, 0..1).
const TISSUE: f64 = 0.42;
const MYOCARDIUM: f64 = 0.9;
const BLOOD: f64 = 0.04;
const SECTOR_HALF_ANGLE_DEG: f64 = 40.0;
const SECTOR_RADIUS: f64 = 1.1;
const ATTENUATION: f64 = 0.6;

/// A smooth bump that varies tissue brightness (fixed anatomy per video).
#[derive(Debug, Clone, Copy)]
struct Blob {
    x: f64,
    y: f64,
    sigma: f64,
    amp: f64,
}

/// Generates video `index` of the dataset described by `cfg`.
pub fn generate_video(cfg: &PhantomConfig, index: usize) -> Result<PhantomVideo> {
    cfg.validate()?;
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    rng.set_stream(index as u64);

    // Physiology.
    let ef = rng.gen_range(cfg.ef_range.0..=cfg.ef_range.1);
    let edv = rng.gen_range(70.0..180.0);
    let esv = edv * (1.0 - ef / 100.0);
    let heart_rate = rng.gen_range(55.0..95.0);
    let period = (cfg.fps * 60.0 / heart_rate).max(2.0);
    let systole = ((0.36 * period).round() as usize).clamp(1, cfg.frames - 1);
    let latest_ed = (cfg.frames - 1 - systole).min(period.floor() as usize);
    let ed_frame = rng.gen_range(0..=latest_ed);
    let curve = VolumeCurve {
        edv,
        esv,
        period,
        systole,
        ed_frame,
    };

    // Anatomy at end-diastole.
    let a = rng.gen_range(0.24..0.30);
    let ed_lv = LvEllipse {
        cx: 0.5 + rng.gen_range(-0.03..0.03),
        cy: 0.56 + rng.gen_range(-0.03..0.03),
        a,
        b: a * rng.gen_range(0.50..0.62),
        tilt: rng.gen_range(-10f64..10.0).to_radians(),
    };
    let wall_ed = rng.gen_range(0.05..0.07);
    let myo_area = (ed_lv.a + wall_ed) * (ed_lv.b + wall_ed) - ed_lv.a * ed_lv.b;
    let blobs: Vec<Blob> = (0..6)
        .map(|_| Blob {
            x: rng.gen_range(0.1..0.9),
            y: rng.gen_range(0.1..0.9),
            sigma: rng.gen_range(0.05..0.12),
            amp: rng.gen_range(-0.05..0.15),
        })
        .collect();

    let (w, h) = (cfg.width, cfg.height);
    let px_scale = ((w * h) as f64).sqrt();
    let half_angle = SECTOR_HALF_ANGLE_DEG.to_radians();
    // Per-pixel static terms: sector coverage, attenuation, tissue echogenicity.
    let mut statics = Vec::with_capacity(w * h);
    for y in 0..h {
        for x in 0..w {
            let (xn, yn) = ((x as f64 + 0.5) / w as f64, (y as f64 + 0.5) / h as f64);
            let (dx, dy) = (xn - 0.5, yn);
            let r = (dx * dx + dy * dy).sqrt();
            let angle = dx.atan2(dy).abs();
            let inside = ((half_angle - angle) * r).min(SECTOR_RADIUS - r) * px_scale;
            let sector = (inside + 0.5).clamp(0.0, 1.0);
            let gain = (-ATTENUATION * r).exp();
            let tissue = TISSUE
                + blobs
                    .iter()
                    .map(|b| {
                        b.amp
                            * (-((xn - b.x).powi(2) + (yn - b.y).powi(2))
                                / (2.0 * b.sigma * b.sigma))
                                .exp()
                    })
                    .sum::<f64>();
            statics.push((xn, yn, sector * gain, tissue));
        }
    }

    let rayleigh_sigma = (2.0 / std::f64::consts::PI).sqrt();
    let mut frames = Vec::with_capacity(cfg.frames);
    for f in 0..cfg.frames {
        let scale = (curve.volume(f as f64) / edv).cbrt();
        let lv = LvEllipse {
            a: ed_lv.a * scale,
            b: ed_lv.b * scale,
            ..ed_lv
        };
        let sum = lv.a + lv.b;
        let wall = (-sum + (sum * sum + 4.0 * myo_area).sqrt()) / 2.0;
        let mut frame = Vec::with_capacity(w * h);
        for &(xn, yn, sector_gain, tissue) in &statics {
            // Draw the random numbers for every pixel so the stream stays
            // aligned whatever the geometry.
            let u: f64 = rng.gen_range(f64::EPSILON..1.0);
            let e: f64 = rng.gen_range(-1.0..1.0);
            if sector_gain <= 0.0 {
                frame.push(0);
                continue;
            }
            let c_in = (0.5 - lv.signed_distance(xn, yn, 0.0) * px_scale).clamp(0.0, 1.0);
            let c_out = (0.5 - lv.signed_distance(xn, yn, wall) * px_scale).clamp(0.0, 1.0);
            let echo = tissue * (1.0 - c_out) + MYOCARDIUM * (c_out - c_in).max(0.0) + BLOOD * c_in;
            let speckle = 1.0 + cfg.noise * (rayleigh_sigma * (-2.0 * u.ln()).sqrt() - 1.0);
            let value = 255.0 * sector_gain * echo * speckle + 4.0 * cfg.noise * e;
            frame.push(value.round().clamp(0.0, 255.0) as u8);
        }
        frames.push(frame);
    }

    let es_scale = (esv / edv).cbrt();
    let truth = PhantomTruth {
        name: video_name(index),
        ef,
        curve,
        ed_frame,
        es_frame: curve.es_frame(),
        ed_lv,
        es_lv: LvEllipse {
            a: ed_lv.a * es_scale,
            b: ed_lv.b * es_scale,
            ..ed_lv
        },
        split: match index % 10 {
            8 => "VAL",
            9 => "TEST",
            _ => "TRAIN",
        },
    };
    Ok(PhantomVideo {
        truth,
        frames,
        width: w,
        height: h,
        fps: cfg.fps,
    })
}

/// Encodes a generated video as a Motion-JPEG AVI. `file` labels errors.
pub fn encode_avi(file: &Path, video: &PhantomVideo, quality: u8) -> Result<Vec<u8>> {
    let (w, h) = (video.width as u16, video.height as u16);
    let jpegs = video
        .frames
        .iter()
        .enumerate()
        .map(|(i, f)| encode_gray_jpeg(file, i, f, w, h, quality))
        .collect::<Result<Vec<_>>>()?;
    Ok(write_mjpeg_avi(&jpegs, w.into(), h.into(), video.fps))
}

/// Number of chords per tracing (as in EchoNet: 1 long axis + 20 chords).
pub const TRACING_CHORDS: usize = 20;

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|e| EchoError::io(path, "writing", e))
}

/// Writes `cfg.videos` phantom videos in the EchoNet-Dynamic layout under
/// `dir` (created if needed) and returns their ground truth.
pub fn write_dataset(dir: &Path, cfg: &PhantomConfig) -> Result<Vec<PhantomTruth>> {
    cfg.validate()?;
    let videos_dir = dir.join("Videos");
    std::fs::create_dir_all(&videos_dir)
        .map_err(|e| EchoError::io(&videos_dir, "creating directory", e))?;
    let mut file_list =
        String::from("FileName,EF,ESV,EDV,FrameHeight,FrameWidth,FPS,NumberOfFrames,Split\n");
    let mut tracings = String::from("FileName,X1,Y1,X2,Y2,Frame\n");
    let mut truths = Vec::with_capacity(cfg.videos);
    for index in 0..cfg.videos {
        let video = generate_video(cfg, index)?;
        let t = &video.truth;
        let path = videos_dir.join(format!("{}.avi", t.name));
        write(&path, &encode_avi(&path, &video, cfg.jpeg_quality)?)?;
        // Formatting into a String cannot fail.
        let _ = writeln!(
            file_list,
            "{},{},{},{},{},{},{},{},{}",
            t.name,
            t.ef,
            t.curve.esv,
            t.curve.edv,
            cfg.height,
            cfg.width,
            cfg.fps,
            cfg.frames,
            t.split
        );
        // EchoNet order: the end-systolic frame first, the end-diastolic last.
        for (lv, frame) in [(&t.es_lv, t.es_frame), (&t.ed_lv, t.ed_frame)] {
            for s in lv.tracing(cfg.width, cfg.height, TRACING_CHORDS) {
                let _ = writeln!(
                    tracings,
                    "{}.avi,{:.4},{:.4},{:.4},{:.4},{}",
                    t.name, s[0], s[1], s[2], s[3], frame
                );
            }
        }
        truths.push(video.truth);
    }
    write(&dir.join("FileList.csv"), file_list.as_bytes())?;
    write(&dir.join("VolumeTracings.csv"), tracings.as_bytes())?;
    Ok(truths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_curve_hits_edv_and_esv_on_frames() {
        let c = VolumeCurve {
            edv: 120.0,
            esv: 48.0,
            period: 40.5,
            systole: 15,
            ed_frame: 3,
        };
        assert!((c.volume(3.0) - 120.0).abs() < 1e-9);
        assert!((c.volume(18.0) - 48.0).abs() < 1e-9);
        assert!((c.volume(43.5) - 120.0).abs() < 1e-9);
        for f in 0..200 {
            let v = c.volume(f as f64 * 0.5);
            assert!((48.0 - 1e-9..=120.0 + 1e-9).contains(&v));
        }
    }

    #[test]
    fn tracing_endpoints_lie_on_the_ellipse() {
        let e = LvEllipse {
            cx: 0.5,
            cy: 0.55,
            a: 0.27,
            b: 0.15,
            tilt: 0.1,
        };
        let segs = e.tracing(112, 112, 20);
        assert_eq!(segs.len(), 21);
        for s in &segs {
            for (x, y) in [(s[0], s[1]), (s[2], s[3])] {
                let (xn, yn) = ((x + 0.5) / 112.0, (y + 0.5) / 112.0);
                let d = e.signed_distance(xn, yn, 0.0);
                assert!(d.abs() < 1e-6, "{d}");
            }
        }
    }

    #[test]
    fn config_is_validated() {
        let mut c = PhantomConfig::default();
        assert!(c.validate().is_ok());
        c.frames = 1;
        assert!(generate_video(&c, 0).is_err());
        c = PhantomConfig {
            noise: 2.0,
            ..PhantomConfig::default()
        };
        assert!(c.validate().is_err());
        c = PhantomConfig {
            ef_range: (60.0, 50.0),
            ..PhantomConfig::default()
        };
        assert!(c.validate().is_err());
        c = PhantomConfig {
            width: 8,
            ..PhantomConfig::default()
        };
        assert!(c.validate().is_err());
    }
}
