//! Where the data owner's videos come from, and how they are preprocessed
//! into what gets encrypted.
//!
//! - [`PrepSpec`]: the preprocessing of one dataset (output size, bits,
//!   optional ROI, [`FrameSpec`]). It is written into the dataset metadata
//!   as typed fields (geometry, `roi`, and the frame selection in its
//!   canonical `FrameSpec` form), with a sentence for people
//!   ([`PrepSpec::preprocessing_text`]), and read back from those fields
//!   ([`PrepSpec::from_metadata`]), so every later `submit` preprocesses
//!   exactly as the dataset was registered.
//! - [`Source`]: an EchoNet-Dynamic directory, DICOM files, or the synthetic
//!   phantom generator (which writes an EchoNet directory with ground truth).
//!   [`Source::videos`] lists [`VideoRef`]s; [`VideoRef::read`] decodes one.
//! - [`prepare`]: a decoded video → a validated [`PlainVideo`].
//!
//! ED/ES frames come from `VolumeTracings.csv` where it has them. Otherwise
//! (DICOM, untraced videos) the data owner picks them from its own plaintext:
//! end-diastole is the frame with the largest LV area under the default mask
//! and threshold, end-systole the one with the smallest.
//!
//! Whole cycles (`cycle:<cycles>:<step>:<count>`) are found the same way,
//! in plaintext before encryption: on the area curve of every frame the
//! owner finds the first end-diastole and the cycles after it
//! ([`blindfold_echo::cycle`]) and keeps `count` frames, every `step`-th,
//! from that end-diastole; a video with fewer whole cycles, or a count and
//! step too small to span them, is refused with what to change.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use blindfold_echo::{
    preprocess, preprocess_cycles, CycleSelection, EchoNetDataset, FrameSelection, GrayVideo,
    KeyFrames, PhantomConfig, PreprocessConfig, Roi,
};
use blindfold_fhe::{Geometry, PlainVideo};
use blindfold_job::blobs::SourceRoi;
use blindfold_job::DatasetMetadata;

use crate::error::{ClientError, Result};
use crate::keys::PARAM_SET;

/// Which frames of each source video are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameSpec {
    /// End-diastole then end-systole (2 frames): `ed-es`.
    EdEs,
    /// `count` frames: `start`, `start + step`, ...: `stride:<start>:<step>:<count>`.
    Stride {
        /// First source frame.
        start: usize,
        /// Distance between kept frames (at least 1).
        step: usize,
        /// Frames kept (a video with fewer is refused).
        count: usize,
    },
    /// `count` frames, every `step`-th, from the first end-diastole,
    /// spanning at least `cycles` whole cardiac cycles, found by the owner
    /// on the plaintext area curve: `cycle:<cycles>:<step>:<count>`.
    Cycle {
        /// Whole cycles the frames must span (at least 1).
        cycles: usize,
        /// Distance between kept frames (at least 1).
        step: usize,
        /// Frames kept (at least 3).
        count: usize,
    },
}

impl FrameSpec {
    /// Frames per encrypted video.
    pub fn frame_count(&self) -> usize {
        match self {
            FrameSpec::EdEs => 2,
            FrameSpec::Stride { count, .. } | FrameSpec::Cycle { count, .. } => *count,
        }
    }
}

impl fmt::Display for FrameSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameSpec::EdEs => f.write_str("ed-es"),
            FrameSpec::Stride { start, step, count } => write!(f, "stride:{start}:{step}:{count}"),
            FrameSpec::Cycle {
                cycles,
                step,
                count,
            } => write!(f, "cycle:{cycles}:{step}:{count}"),
        }
    }
}

impl FromStr for FrameSpec {
    type Err = ClientError;

    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            ClientError::Usage(format!(
                "invalid frame selection '{s}': use 'ed-es', 'stride:<start>:<step>:<count>' \
                 (e.g. stride:0:4:8 keeps frames 0, 4, ..., 28) or 'cycle:<cycles>:<step>:<count>' \
                 (e.g. cycle:2:2:64 keeps 64 frames, every 2nd, spanning 2 whole cardiac cycles)"
            ))
        };
        let s = s.trim();
        if s == "ed-es" {
            return Ok(FrameSpec::EdEs);
        }
        let (kind, rest) = s.split_once(':').ok_or_else(bad)?;
        let parts: Vec<usize> = rest
            .split(':')
            .map(|p| p.parse().map_err(|_| bad()))
            .collect::<Result<_>>()?;
        match (kind, &parts[..]) {
            ("stride", &[start, step, count]) if step > 0 && count > 0 => {
                Ok(FrameSpec::Stride { start, step, count })
            }
            ("cycle", &[cycles, step, count]) => {
                CycleSelection {
                    cycles,
                    step,
                    count,
                }
                .validate()
                .map_err(|e| ClientError::Usage(format!("invalid frame selection '{s}': {e}")))?;
                Ok(FrameSpec::Cycle {
                    cycles,
                    step,
                    count,
                })
            }
            _ => Err(bad()),
        }
    }
}

/// How a dataset's videos are preprocessed before encryption.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrepSpec {
    /// Output frame width.
    pub width: u16,
    /// Output frame height.
    pub height: u16,
    /// Bits per pixel (1..=4 for the pinned parameter set).
    pub bits: u8,
    /// Frames kept.
    pub frames: FrameSpec,
    /// Region of interest in source pixels; `None` = the whole frame.
    pub roi: Option<Roi>,
}

impl Default for PrepSpec {
    /// The demo's preprocessing: `PreprocessConfig::demo` (32x32, 4 bits), ED/ES.
    fn default() -> Self {
        let demo = PreprocessConfig::demo(FrameSelection::EdEs { ed: 0, es: 0 });
        PrepSpec {
            width: demo.out_width as u16,
            height: demo.out_height as u16,
            bits: demo.bits,
            frames: FrameSpec::EdEs,
            roi: demo.roi,
        }
    }
}

impl PrepSpec {
    /// The geometry of every encrypted video, after checking it against the
    /// parameter set's limits.
    pub fn geometry(&self) -> Result<Geometry> {
        let g = Geometry {
            width: self.width,
            height: self.height,
            bits: self.bits,
            frames: u32::try_from(self.frames.frame_count())
                .map_err(|_| ClientError::Usage("too many frames".into()))?,
        };
        g.validate(PARAM_SET)
            .map_err(|e| ClientError::Usage(format!("invalid preprocessing: {e}")))?;
        Ok(g)
    }

    /// The metadata's `preprocessing` text: `roi=full|X,Y,WxH; size=WxH; bits=B`.
    pub fn preprocessing_text(&self) -> String {
        let roi = match self.roi {
            None => "full".to_string(),
            Some(r) => format!("{},{},{}x{}", r.x, r.y, r.width, r.height),
        };
        format!(
            "roi={roi}; size={}x{}; bits={}; area-average downsampling, rounding quantisation",
            self.width, self.height, self.bits
        )
    }

    /// The ROI as the metadata records it.
    pub fn source_roi(&self) -> Result<Option<SourceRoi>> {
        let Some(r) = self.roi else {
            return Ok(None);
        };
        let n = |v: usize| {
            u32::try_from(v).map_err(|_| ClientError::Usage(format!("ROI value {v} is too large")))
        };
        Ok(Some(SourceRoi {
            x: n(r.x)?,
            y: n(r.y)?,
            width: n(r.width)?,
            height: n(r.height)?,
        }))
    }

    /// The preprocessing of a registered dataset, from its metadata's typed
    /// fields (geometry, ROI, frame selection).
    pub fn from_metadata(m: &DatasetMetadata) -> Result<Self> {
        let bad = |why: &str| {
            ClientError::Integrity(format!(
                "dataset metadata '{}' has preprocessing this client cannot repeat ({why}): \
                 '{}' / '{}'",
                m.name, m.preprocessing, m.frame_selection
            ))
        };
        let frames: FrameSpec = m
            .frame_selection
            .parse()
            .map_err(|_| bad("frame selection"))?;
        let roi = m.roi.map(|r| Roi {
            x: r.x as usize,
            y: r.y as usize,
            width: r.width as usize,
            height: r.height as usize,
        });
        let spec = PrepSpec {
            width: m.geometry.width,
            height: m.geometry.height,
            bits: m.geometry.bits,
            frames,
            roi,
        };
        if spec.geometry().ok() != Some(m.geometry) {
            return Err(bad("frame count differs from the geometry"));
        }
        Ok(spec)
    }

    fn config(&self, selection: FrameSelection) -> PreprocessConfig {
        PreprocessConfig {
            roi: self.roi,
            out_width: usize::from(self.width),
            out_height: usize::from(self.height),
            bits: self.bits,
            selection,
        }
    }
}

/// Parses a ROI written `X,Y,WxH` (source pixels).
pub fn parse_roi(text: &str) -> Result<Roi> {
    let bad = || {
        ClientError::Usage(format!(
            "invalid ROI '{text}': write X,Y,WxH in source pixels, e.g. 8,8,96x96"
        ))
    };
    let mut it = text.trim().split(',');
    let (Some(x), Some(y), Some(size), None) = (it.next(), it.next(), it.next(), it.next()) else {
        return Err(bad());
    };
    let (w, h) = size.split_once('x').ok_or_else(bad)?;
    let num = |s: &str| s.trim().parse::<usize>().map_err(|_| bad());
    Ok(Roi {
        x: num(x)?,
        y: num(y)?,
        width: num(w)?,
        height: num(h)?,
    })
}

/// Where the videos of a submission come from.
#[derive(Clone, Debug)]
pub enum Source {
    /// An EchoNet-Dynamic directory (`FileList.csv`, `VolumeTracings.csv`, `Videos/`).
    EchoNet(PathBuf),
    /// Multi-frame ultrasound DICOM files (a directory means every file in it).
    Dicom(Vec<PathBuf>),
    /// The synthetic phantom generator: writes an EchoNet directory at `dir`,
    /// then reads it like [`Source::EchoNet`].
    Synthetic {
        /// Where to write the generated dataset.
        dir: PathBuf,
        /// Generator settings.
        config: PhantomConfig,
    },
}

/// One video of a source, not yet read.
#[derive(Clone, Debug)]
pub enum VideoRef {
    /// A video of an EchoNet directory.
    EchoNet {
        /// The opened dataset (CSV files parsed).
        dataset: std::sync::Arc<EchoNetDataset>,
        /// The `FileName` of the video.
        name: String,
    },
    /// A DICOM file.
    Dicom(PathBuf),
}

/// A decoded source video with what the source says about it.
#[derive(Clone, Debug)]
pub struct SourceVideo {
    /// The video's name (EchoNet `FileName`, or the DICOM file name).
    pub name: String,
    /// The decoded frames.
    pub video: GrayVideo,
    /// ED/ES frames from the tracings, if any.
    pub key_frames: Option<KeyFrames>,
    /// The source's own EF label in percent (EchoNet `FileList.csv`), if any.
    pub label_ef: Option<f64>,
}

impl Source {
    /// Lists the source's videos (generating the synthetic dataset first).
    pub fn videos(&self) -> Result<Vec<VideoRef>> {
        match self {
            Source::EchoNet(dir) => echonet_videos(dir),
            Source::Synthetic { dir, config } => {
                blindfold_echo::write_dataset(dir, config)?;
                echonet_videos(dir)
            }
            Source::Dicom(paths) => {
                let mut files = Vec::new();
                for p in paths {
                    if p.is_dir() {
                        let entries =
                            std::fs::read_dir(p).map_err(|e| ClientError::io("reading", p, e))?;
                        let mut inside: Vec<PathBuf> = entries
                            .filter_map(|e| e.ok().map(|e| e.path()))
                            .filter(|p| p.is_file())
                            .collect();
                        inside.sort();
                        files.extend(inside);
                    } else if p.is_file() {
                        files.push(p.clone());
                    } else {
                        return Err(ClientError::Usage(format!(
                            "DICOM input {} does not exist",
                            p.display()
                        )));
                    }
                }
                if files.is_empty() {
                    return Err(ClientError::Usage("no DICOM files given".into()));
                }
                Ok(files.into_iter().map(VideoRef::Dicom).collect())
            }
        }
    }
}

fn echonet_videos(dir: &Path) -> Result<Vec<VideoRef>> {
    let dataset = std::sync::Arc::new(EchoNetDataset::open(dir)?);
    Ok(dataset
        .entries()
        .iter()
        .map(|e| VideoRef::EchoNet {
            dataset: dataset.clone(),
            name: e.file_name.clone(),
        })
        .collect())
}

impl VideoRef {
    /// The video's name: what the owner's ledger records for its submission.
    pub fn name(&self) -> String {
        match self {
            VideoRef::EchoNet { name, .. } => name.clone(),
            VideoRef::Dicom(path) => path.display().to_string(),
        }
    }

    /// Reads and decodes the video.
    pub fn read(&self) -> Result<SourceVideo> {
        match self {
            VideoRef::EchoNet { dataset, name } => Ok(SourceVideo {
                name: name.clone(),
                video: dataset.read_video(name)?,
                key_frames: dataset.key_frames(name).ok(),
                label_ef: dataset.entry(name).ok().map(|e| e.ef),
            }),
            VideoRef::Dicom(path) => Ok(SourceVideo {
                name: path.display().to_string(),
                video: blindfold_echo::read_dicom_video(path)?,
                key_frames: None,
                label_ef: None,
            }),
        }
    }
}

/// Preprocesses a decoded video into the [`PlainVideo`] that gets encrypted.
pub fn prepare(source: &SourceVideo, spec: &PrepSpec) -> Result<PlainVideo> {
    let frames = match spec.frames {
        FrameSpec::EdEs => {
            let k = match source.key_frames {
                Some(k) => k,
                None => key_frames_from_areas(&source.video, spec)?,
            };
            preprocess(
                &source.video,
                &spec.config(FrameSelection::EdEs { ed: k.ed, es: k.es }),
            )?
            .frames
        }
        FrameSpec::Stride { start, step, count } => {
            let mut pre = preprocess(
                &source.video,
                &spec.config(FrameSelection::Stride { start, step }),
            )?;
            if pre.frames.len() < count {
                return Err(ClientError::Usage(format!(
                    "{}: frame selection {} needs {count} frames, the video gives {}",
                    source.name,
                    spec.frames,
                    pre.frames.len()
                )));
            }
            pre.frames.truncate(count);
            pre.frames
        }
        FrameSpec::Cycle {
            cycles,
            step,
            count,
        } => {
            let selection = CycleSelection {
                cycles,
                step,
                count,
            };
            preprocess_cycles(&source.video, &spec.config(FrameSelection::All), selection)?.frames
        }
    };
    Ok(PlainVideo::new(
        spec.width,
        spec.height,
        spec.bits,
        frames,
        PARAM_SET,
    )?)
}

/// ED = the frame of largest plaintext LV area, ES = the smallest.
fn key_frames_from_areas(video: &GrayVideo, spec: &PrepSpec) -> Result<KeyFrames> {
    let pre = preprocess(video, &spec.config(FrameSelection::All))?;
    let params = blindfold_echo::LvMask::default_for(pre.width, pre.height, pre.bits);
    let areas = blindfold_echo::lv_areas(&pre, &params)?;
    let arg = |better: fn(u32, u32) -> bool| {
        let mut best = 0;
        for (i, &a) in areas.iter().enumerate() {
            if better(a, areas[best]) {
                best = i;
            }
        }
        best
    };
    let (ed, es) = (arg(|a, b| a > b), arg(|a, b| a < b));
    if areas.len() < 2 || ed == es {
        return Err(ClientError::Usage(format!(
            "{}: cannot find distinct end-diastolic and end-systolic frames \
             ({} frames, LV area constant); use --frames stride:<start>:<step>:<count>",
            video.source.display(),
            areas.len()
        )));
    }
    Ok(KeyFrames { ed, es })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_specs_parse_and_print() {
        for text in ["ed-es", "stride:0:4:8", "cycle:2:2:64"] {
            assert_eq!(text.parse::<FrameSpec>().unwrap().to_string(), text);
        }
        for bad in [
            "all",
            "stride:0:0:3",
            "stride:1:2",
            "stride:a:1:1",
            "cycle:1:2",
            "cycle:x:1:8",
            "cycles:1:1:8",
        ] {
            let err = bad.parse::<FrameSpec>().unwrap_err();
            assert!(err.to_string().contains("ed-es"), "{bad}: {err}");
            assert!(err.is_usage());
        }
        for (bad, why) in [
            ("cycle:1:0:8", "step k must be at least 1"),
            ("cycle:0:1:8", "at least 1 cycle"),
            ("cycle:1:1:2", "keep at least 3"),
        ] {
            let err = bad.parse::<FrameSpec>().unwrap_err();
            assert!(err.to_string().contains(why), "{bad}: {err}");
        }
        assert_eq!(
            FrameSpec::Cycle {
                cycles: 1,
                step: 4,
                count: 16
            }
            .frame_count(),
            16
        );
    }

    #[test]
    fn metadata_round_trip() {
        let spec = PrepSpec {
            width: 16,
            height: 12,
            bits: 3,
            frames: FrameSpec::Stride {
                start: 1,
                step: 2,
                count: 5,
            },
            roi: Some(Roi {
                x: 4,
                y: 2,
                width: 100,
                height: 90,
            }),
        };
        let m = DatasetMetadata {
            format: blindfold_job::blobs::DATASET_FORMAT.into(),
            name: "t".into(),
            param_set: PARAM_SET.name().into(),
            geometry: spec.geometry().unwrap(),
            preprocessing: spec.preprocessing_text(),
            roi: spec.source_roi().unwrap(),
            frame_selection: spec.frames.to_string(),
            server_key: hex::encode([0; 32]),
            backend: blindfold_job::blobs::BACKEND_CPU.into(),
            aggregates_only: false,
            public_releases: false,
        };
        assert_eq!(PrepSpec::from_metadata(&m).unwrap(), spec);
        assert!(PrepSpec { bits: 5, ..spec }.geometry().is_err());
    }

    #[test]
    fn phantom_videos_prepare_with_and_without_tracings() {
        let dir = tempfile::tempdir().unwrap();
        let config = PhantomConfig {
            videos: 1,
            frames: 12,
            width: 16,
            height: 16,
            ..PhantomConfig::default()
        };
        let source = Source::Synthetic {
            dir: dir.path().to_path_buf(),
            config,
        };
        let videos = source.videos().unwrap();
        let mut v = videos[0].read().unwrap();
        assert!(v.key_frames.is_some() && v.label_ef.is_some());
        let spec = PrepSpec {
            width: 8,
            height: 8,
            bits: 2,
            ..PrepSpec::default()
        };
        let plain = prepare(&v, &spec).unwrap();
        assert_eq!(plain.geometry(), spec.geometry().unwrap());
        v.key_frames = None;
        assert_eq!(prepare(&v, &spec).unwrap().frames.len(), 2);
        let too_many = PrepSpec {
            frames: FrameSpec::Stride {
                start: 0,
                step: 1,
                count: 50,
            },
            ..spec
        };
        let err = prepare(&v, &too_many).unwrap_err();
        assert!(err.to_string().contains("needs 50 frames"), "{err}");
        // 12 frames at 50 fps are shorter than one cardiac cycle.
        let cycle = PrepSpec {
            width: 16,
            height: 16,
            bits: 4,
            frames: "cycle:1:1:8".parse().unwrap(),
            roi: None,
        };
        let err = prepare(&v, &cycle).unwrap_err();
        assert!(
            err.to_string().contains("PHANTOM_00000.avi")
                && err.to_string().contains("whole cardiac cycles"),
            "{err}"
        );
        let cause = std::error::Error::source(&err)
            .map(|c| c.to_string())
            .unwrap_or_default();
        assert!(
            cause.contains("12 frames show 0 whole cardiac cycle") || cause.contains("flat"),
            "the cause says why: {cause}"
        );
    }

    #[test]
    fn whole_cycles_are_found_before_encryption() {
        let dir = tempfile::tempdir().unwrap();
        let source = Source::Synthetic {
            dir: dir.path().to_path_buf(),
            config: PhantomConfig {
                videos: 2,
                frames: 192,
                width: 64,
                height: 64,
                seed: 5,
                ..PhantomConfig::default()
            },
        };
        let spec = PrepSpec {
            frames: "cycle:2:4:32".parse().unwrap(),
            ..PrepSpec::default()
        };
        assert_eq!(spec.geometry().unwrap().frames, 32);
        for video in source.videos().unwrap() {
            let v = video.read().unwrap();
            let plain = prepare(&v, &spec).unwrap();
            assert_eq!(plain.geometry(), spec.geometry().unwrap());
            // The curve the owner encrypts starts at an end-diastole and
            // holds two whole beats.
            let mask = blindfold_echo::LvMask::default_for(32, 32, 4);
            let areas: Vec<u32> = plain
                .frames
                .iter()
                .map(|f| blindfold_echo::lv_area(f, &mask.mask, mask.threshold))
                .collect();
            let beats = blindfold_echo::beats(&areas).unwrap();
            assert!(beats.len() >= 2, "{}: {beats:?} on {areas:?}", v.name);
            assert_eq!(beats[0].ed, 0, "{}: {areas:?}", v.name);
            let label = v.label_ef.unwrap();
            let ef = blindfold_echo::curve_ef(&areas).unwrap().ef_percent;
            assert!(
                (ef - label).abs() < 12.0,
                "{}: EF {ef} against {label}",
                v.name
            );
        }
        // Too few frames for two cycles at this step: the error says what to raise.
        let narrow = PrepSpec {
            frames: "cycle:2:1:20".parse().unwrap(),
            ..spec
        };
        let v = source.videos().unwrap()[0].read().unwrap();
        let err = prepare(&v, &narrow).unwrap_err();
        let cause = std::error::Error::source(&err)
            .map(|c| c.to_string())
            .unwrap_or_default();
        assert!(cause.contains("raise the count to at least"), "{cause}");
    }
}
