//! # blindfold-echo: echocardiograms in, preprocessed frames out
//!
//! Everything the data owner's client needs to turn real files into the small
//! quantised frames that the Blindfold pipeline encrypts, plus realistic test
//! data with known answers.
//!
//! Read it top-down:
//! - [`video`]: [`GrayVideo`], the decoded form every reader produces
//!   (8-bit luminance frames), and the RGB → luma rule.
//! - Readers:
//!   - [`avi`]: a RIFF/AVI parser for Motion-JPEG video (what EchoNet-Dynamic
//!     ships), frame decoding with `jpeg-decoder`, and an AVI writer.
//!   - [`csv`]: a small strict CSV reader.
//!   - [`echonet`]: the EchoNet-Dynamic layout (`FileList.csv`,
//!     `VolumeTracings.csv`, `Videos/*.avi`) with ED/ES key frames.
//!   - [`dicom`]: multi-frame ultrasound DICOM via `dicom-object` /
//!     `dicom-pixeldata`, frame by frame, colour → luminance.
//! - [`phantom`]: a synthetic echo generator that writes the EchoNet layout
//!   with a known EF per video (same seed → same bytes).
//! - [`preprocess`]: ROI crop, area-average downsampling, quantisation and
//!   frame selection → [`Preprocessed`], the plain struct the client encrypts.
//! - [`lv_area`]: the plaintext `lv-area` estimate (mask + threshold → area
//!   per frame → EF), the reference the FHE pipeline must reproduce.
//! - [`cycle`]: whole cardiac cycles: beats on an area curve (hysteresis
//!   max/min), EF per beat with the beat-to-beat spread, and the owner's
//!   whole-cycle frame selection found on the plaintext area curve.
//! - [`error`]: [`EchoError`]; every input problem names the file and what is
//!   wrong, and nothing panics on bad input.
//!
//! A typical client flow:
//!
//! ```no_run
//! use blindfold_echo::{preprocess, EchoNetDataset, FrameSelection, LvMask, PreprocessConfig};
//! # fn main() -> Result<(), blindfold_echo::EchoError> {
//! let ds = EchoNetDataset::open(std::path::Path::new("/data/EchoNet-Dynamic"))?;
//! let name = ds.entries()[0].file_name.clone();
//! let video = ds.read_video(&name)?;
//! let k = ds.key_frames(&name)?;
//! let cfg = PreprocessConfig::demo(FrameSelection::EdEs { ed: k.ed, es: k.es });
//! let pre = preprocess(&video, &cfg)?;
//! let ef = blindfold_echo::estimate_ef(&pre, &LvMask::default_for(pre.width, pre.height, pre.bits))?;
//! println!("{name}: EF ≈ {ef:.1}%");
//! # Ok(()) }
//! ```

pub mod avi;
pub mod csv;
pub mod cycle;
pub mod dicom;
pub mod echonet;
pub mod error;
pub mod lv_area;
pub mod phantom;
pub mod preprocess;
pub mod video;

pub use avi::{parse_avi, read_avi, MjpegAvi};
pub use cycle::{
    beats, curve_ef, preprocess_cycles, select_cycle_frames, Beat, CurveEf, CycleError,
    CycleSelection,
};
pub use dicom::{read_dicom_video, DicomVideo};
pub use echonet::{EchoNetDataset, FileListEntry, KeyFrames, Tracing, VideoTracings};
pub use error::{EchoError, Result};
pub use lv_area::{
    agreement, default_lv_mask, default_threshold, ef_percent, estimate_ef, lv_area, lv_areas,
    Agreement, LvMask,
};
pub use phantom::{generate_video, write_dataset, PhantomConfig, PhantomTruth, PhantomVideo};
pub use preprocess::{preprocess, FrameSelection, PreprocessConfig, Preprocessed, Roi};
pub use video::GrayVideo;
