//! The EchoNet-Dynamic dataset layout.
//!
//! ```text
//! <root>/FileList.csv        FileName,EF,ESV,EDV,FrameHeight,FrameWidth,FPS,NumberOfFrames,Split
//! <root>/VolumeTracings.csv  FileName,X1,Y1,X2,Y2,Frame
//! <root>/Videos/<FileName>.avi
//! ```
//!
//! Parts:
//! - [`parse_file_list`] and [`parse_volume_tracings`]: typed rows from the
//!   two CSV files (extra columns are ignored; missing ones are errors).
//! - [`VideoTracings`]: the traced frames of one video. As in EchoNet's own
//!   loader, the *first* traced frame (in file order) is end-systole and the
//!   *last* is end-diastole. Each traced frame is a list of segments; the first
//!   is the long axis and the rest are chords across the cavity.
//! - [`EchoNetDataset`]: opens a root directory, and reads videos (checking
//!   their size and length against `FileList.csv`) and their key frames.
//!
//! `FileList.csv` names have no extension and `VolumeTracings.csv` names end in
//! `.avi` in the real dataset; both are normalised to the bare name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::avi::read_avi;
use crate::csv::parse_csv;
use crate::error::{EchoError, Result};
use crate::video::GrayVideo;

/// One row of `FileList.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct FileListEntry {
    /// Video name without extension.
    pub file_name: String,
    /// Ejection fraction in percent.
    pub ef: f64,
    /// End-systolic volume (mL).
    pub esv: f64,
    /// End-diastolic volume (mL).
    pub edv: f64,
    /// Frame height in pixels.
    pub frame_height: usize,
    /// Frame width in pixels.
    pub frame_width: usize,
    /// Frames per second.
    pub fps: f64,
    /// Number of frames.
    pub number_of_frames: usize,
    /// `TRAIN`, `VAL` or `TEST`.
    pub split: String,
}

/// One traced frame: a long axis then chords, each `[x1, y1, x2, y2]` in
/// pixel coordinates of the original video.
#[derive(Debug, Clone, PartialEq)]
pub struct Tracing {
    /// Zero-based frame index.
    pub frame: usize,
    /// Segments in file order; the first is the long axis.
    pub segments: Vec<[f64; 4]>,
}

impl Tracing {
    /// Area (pixels²) of the polygon traced by the chord end points, built as
    /// EchoNet does: the `(x1, y1)` ends of the chords in order, then the
    /// `(x2, y2)` ends in reverse. The long axis (first segment) is skipped.
    pub fn area(&self) -> f64 {
        let chords = self.segments.get(1..).unwrap_or(&[]);
        let pts: Vec<(f64, f64)> = chords
            .iter()
            .map(|s| (s[0], s[1]))
            .chain(chords.iter().rev().map(|s| (s[2], s[3])))
            .collect();
        let mut twice = 0.0;
        for i in 0..pts.len() {
            let (x0, y0) = pts[i];
            let (x1, y1) = pts[(i + 1) % pts.len()];
            twice += x0 * y1 - x1 * y0;
        }
        twice.abs() / 2.0
    }
}

/// The traced frames of one video, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoTracings {
    /// Traced frames in the order they first appear in the CSV.
    pub frames: Vec<Tracing>,
}

/// End-diastolic and end-systolic frame indices of a video.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyFrames {
    /// End-diastole (largest volume): the last traced frame.
    pub ed: usize,
    /// End-systole (smallest volume): the first traced frame.
    pub es: usize,
}

impl VideoTracings {
    /// The end-systolic tracing (first traced frame).
    pub fn es(&self) -> Option<&Tracing> {
        self.frames.first()
    }

    /// The end-diastolic tracing (last traced frame).
    pub fn ed(&self) -> Option<&Tracing> {
        self.frames.last()
    }

    /// ED/ES frame indices; `None` unless at least two distinct frames are traced.
    pub fn key_frames(&self) -> Option<KeyFrames> {
        let (es, ed) = (self.es()?, self.ed()?);
        (es.frame != ed.frame).then_some(KeyFrames {
            ed: ed.frame,
            es: es.frame,
        })
    }
}

/// Strips a trailing `.avi` (any case) from a video name.
pub fn bare_name(name: &str) -> &str {
    let n = name.trim();
    if n.len() > 4
        && n.is_char_boundary(n.len() - 4)
        && n[n.len() - 4..].eq_ignore_ascii_case(".avi")
    {
        &n[..n.len() - 4]
    } else {
        n
    }
}

/// Largest frame side or frame count accepted from a CSV.
const MAX_CSV_INT: u64 = 1 << 24;

/// Parses `FileList.csv` bytes. `file` only labels errors.
pub fn parse_file_list(file: &Path, bytes: &[u8]) -> Result<Vec<FileListEntry>> {
    let t = parse_csv(file, bytes)?;
    let c = |name| t.column(name);
    let (name, ef, esv, edv) = (c("FileName")?, c("EF")?, c("ESV")?, c("EDV")?);
    let (h, w, fps, n, split) = (
        c("FrameHeight")?,
        c("FrameWidth")?,
        c("FPS")?,
        c("NumberOfFrames")?,
        c("Split")?,
    );
    let mut out = Vec::with_capacity(t.rows.len());
    for (line, r) in &t.rows {
        let file_name = bare_name(&r[name]).to_string();
        if file_name.is_empty() {
            return Err(EchoError::Csv {
                file: file.to_path_buf(),
                line: *line,
                problem: "empty FileName".into(),
            });
        }
        out.push(FileListEntry {
            file_name,
            ef: t.number(*line, r, ef)?,
            esv: t.number(*line, r, esv)?,
            edv: t.number(*line, r, edv)?,
            frame_height: t.integer(*line, r, h, MAX_CSV_INT)? as usize,
            frame_width: t.integer(*line, r, w, MAX_CSV_INT)? as usize,
            fps: t.number(*line, r, fps)?,
            number_of_frames: t.integer(*line, r, n, MAX_CSV_INT)? as usize,
            split: r[split].trim().to_string(),
        });
    }
    Ok(out)
}

/// Parses `VolumeTracings.csv` bytes into tracings per (bare) video name.
pub fn parse_volume_tracings(file: &Path, bytes: &[u8]) -> Result<BTreeMap<String, VideoTracings>> {
    let t = parse_csv(file, bytes)?;
    let c = |name| t.column(name);
    let (name, x1, y1, x2, y2, frame) = (
        c("FileName")?,
        c("X1")?,
        c("Y1")?,
        c("X2")?,
        c("Y2")?,
        c("Frame")?,
    );
    let mut out: BTreeMap<String, VideoTracings> = BTreeMap::new();
    for (line, r) in &t.rows {
        let seg = [
            t.number(*line, r, x1)?,
            t.number(*line, r, y1)?,
            t.number(*line, r, x2)?,
            t.number(*line, r, y2)?,
        ];
        let f = t.integer(*line, r, frame, MAX_CSV_INT)? as usize;
        let key = bare_name(&r[name]).to_string();
        let v = out
            .entry(key)
            .or_insert_with(|| VideoTracings { frames: Vec::new() });
        match v.frames.iter_mut().find(|tr| tr.frame == f) {
            Some(tr) => tr.segments.push(seg),
            None => v.frames.push(Tracing {
                frame: f,
                segments: vec![seg],
            }),
        }
    }
    Ok(out)
}

/// An EchoNet-Dynamic style dataset on disk.
#[derive(Debug, Clone)]
pub struct EchoNetDataset {
    root: PathBuf,
    entries: Vec<FileListEntry>,
    tracings: BTreeMap<String, VideoTracings>,
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| EchoError::io(path, "reading", e))
}

impl EchoNetDataset {
    /// Opens `root`, parsing `FileList.csv` and `VolumeTracings.csv`.
    /// Videos are read on demand.
    pub fn open(root: &Path) -> Result<Self> {
        let fl = root.join("FileList.csv");
        let vt = root.join("VolumeTracings.csv");
        let entries = parse_file_list(&fl, &read_file(&fl)?)?;
        let tracings = parse_volume_tracings(&vt, &read_file(&vt)?)?;
        Ok(EchoNetDataset {
            root: root.to_path_buf(),
            entries,
            tracings,
        })
    }

    /// The dataset's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// All `FileList.csv` rows in file order.
    pub fn entries(&self) -> &[FileListEntry] {
        &self.entries
    }

    /// The `FileList.csv` row for `name` (with or without `.avi`).
    pub fn entry(&self, name: &str) -> Result<&FileListEntry> {
        let key = bare_name(name);
        self.entries
            .iter()
            .find(|e| e.file_name == key)
            .ok_or_else(|| EchoError::Dataset {
                file: self.root.join("FileList.csv"),
                problem: format!("no video named {key:?}"),
            })
    }

    /// Path of the video file for `name`.
    pub fn video_path(&self, name: &str) -> PathBuf {
        self.root
            .join("Videos")
            .join(format!("{}.avi", bare_name(name)))
    }

    /// The tracings for `name`, if any.
    pub fn tracings(&self, name: &str) -> Option<&VideoTracings> {
        self.tracings.get(bare_name(name))
    }

    /// ED/ES frame indices from `VolumeTracings.csv`.
    pub fn key_frames(&self, name: &str) -> Result<KeyFrames> {
        let file = self.root.join("VolumeTracings.csv");
        let key = bare_name(name);
        let t = self.tracings(key).ok_or_else(|| EchoError::Dataset {
            file: file.clone(),
            problem: format!("no tracings for video {key:?}"),
        })?;
        t.key_frames().ok_or_else(|| EchoError::Dataset {
            file,
            problem: format!(
                "video {key:?} needs at least two distinct traced frames (ES first, ED last)"
            ),
        })
    }

    /// Reads and decodes the video for `name`, checking its width, height and
    /// frame count against `FileList.csv`.
    pub fn read_video(&self, name: &str) -> Result<GrayVideo> {
        let entry = self.entry(name)?;
        let path = self.video_path(name);
        let video = read_avi(&path)?;
        let expect = (
            entry.frame_width,
            entry.frame_height,
            entry.number_of_frames,
        );
        let got = (video.width, video.height, video.frames.len());
        if expect != got {
            return Err(EchoError::Dimensions {
                file: path,
                problem: format!(
                    "video is {}x{} with {} frames but FileList.csv says {}x{} with {} frames",
                    got.0, got.1, got.2, expect.0, expect.1, expect.2
                ),
            });
        }
        Ok(video)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_avi_suffix() {
        assert_eq!(bare_name("0X1A.avi"), "0X1A");
        assert_eq!(bare_name("0X1A.AVI"), "0X1A");
        assert_eq!(bare_name("0X1A"), "0X1A");
        assert_eq!(bare_name(".avi"), ".avi");
    }

    #[test]
    fn first_traced_frame_is_es_last_is_ed() {
        let csv = "FileName,X1,Y1,X2,Y2,Frame\n\
                   a.avi,1,1,1,9,46\na.avi,0,2,2,2,46\na.avi,0,1,4,1,61\na.avi,0,5,4,5,61\n";
        let t = parse_volume_tracings(Path::new("v.csv"), csv.as_bytes()).expect("parse");
        let a = &t["a"];
        assert_eq!(a.key_frames(), Some(KeyFrames { ed: 61, es: 46 }));
        assert_eq!(a.frames[0].segments.len(), 2);
    }

    #[test]
    fn tracing_area_is_the_chord_polygon() {
        // A 4x4 square as long axis + 3 horizontal chords at y = 0, 2, 4.
        let t = Tracing {
            frame: 0,
            segments: vec![
                [2.0, 0.0, 2.0, 4.0],
                [0.0, 0.0, 4.0, 0.0],
                [0.0, 2.0, 4.0, 2.0],
                [0.0, 4.0, 4.0, 4.0],
            ],
        };
        assert!((t.area() - 16.0).abs() < 1e-9);
    }
}
