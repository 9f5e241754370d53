//! The crate's one error type.
//!
//! Every variant that comes from reading data names the file it came from and
//! what is wrong with it, so that a data owner pointing the client at a
//! directory of thousands of videos can tell which one is broken and why.

use std::path::PathBuf;

/// Everything that can go wrong while reading, generating or preprocessing
/// echocardiograms. Parsers return these for bad input; they never panic.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EchoError {
    /// The file could not be read or written.
    #[error("{}: {action} failed", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// "reading", "writing", "creating directory", ...
        action: &'static str,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The RIFF/AVI structure is truncated or malformed.
    #[error("{}: malformed AVI: {problem}", file.display())]
    Avi {
        /// The file.
        file: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The AVI's video stream is not Motion-JPEG.
    #[error("{}: unsupported video codec {codec:?}: only Motion-JPEG (MJPG) AVI is supported", file.display())]
    UnsupportedCodec {
        /// The file.
        file: PathBuf,
        /// The codec FourCC (or a description) found in the stream header.
        codec: String,
    },
    /// A frame's JPEG data could not be decoded.
    #[error("{}: frame {frame}: bad JPEG data: {problem}", file.display())]
    Jpeg {
        /// The file.
        file: PathBuf,
        /// Zero-based frame index.
        frame: usize,
        /// What the decoder reported.
        problem: String,
    },
    /// A JPEG frame could not be encoded (phantom generator).
    #[error("{}: frame {frame}: JPEG encoding failed: {problem}", file.display())]
    JpegEncode {
        /// The file being written.
        file: PathBuf,
        /// Zero-based frame index.
        frame: usize,
        /// What the encoder reported.
        problem: String,
    },
    /// A CSV file has a missing column, a bad row or an unparsable number.
    #[error("{}: line {line}: {problem}", file.display())]
    Csv {
        /// The file.
        file: PathBuf,
        /// One-based line number (1 is the header).
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// The DICOM file could not be parsed or its pixel data not decoded.
    #[error("{}: DICOM: {problem}", file.display())]
    Dicom {
        /// The file.
        file: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The DICOM object has no Pixel Data element (7FE0,0010).
    #[error("{}: DICOM object has no pixel data (7FE0,0010)", file.display())]
    NoPixelData {
        /// The file.
        file: PathBuf,
    },
    /// Image or video dimensions are zero, too large, or disagree with what
    /// another source (header, FileList.csv, ROI) says they should be.
    #[error("{}: unexpected dimensions: {problem}", file.display())]
    Dimensions {
        /// The file.
        file: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The dataset is inconsistent (e.g. a video has no tracings).
    #[error("{}: {problem}", file.display())]
    Dataset {
        /// The file (or directory) concerned.
        file: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The whole-cycle frame selection found no whole cycles it could keep
    /// in this video (too short, flat, or a selection too narrow).
    #[error("{}: cannot select whole cardiac cycles", file.display())]
    Cycle {
        /// The video.
        file: PathBuf,
        /// What the area curve or the selection lacks.
        #[source]
        source: crate::cycle::CycleError,
    },
    /// A configuration value (preprocessing, phantom, mask) is invalid.
    #[error("invalid {what}: {problem}")]
    InvalidConfig {
        /// Which setting.
        what: &'static str,
        /// What is wrong.
        problem: String,
    },
}

/// Result alias used throughout the crate.
pub type Result<T, E = EchoError> = std::result::Result<T, E>;

impl EchoError {
    pub(crate) fn io(
        file: impl Into<PathBuf>,
        action: &'static str,
        source: std::io::Error,
    ) -> Self {
        EchoError::Io {
            file: file.into(),
            action,
            source,
        }
    }
}
