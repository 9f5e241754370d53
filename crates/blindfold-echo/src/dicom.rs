//! Multi-frame ultrasound DICOM, read frame by frame.
//!
//! Parts:
//! - [`DicomVideo::open`] parses the file with `dicom-object` and checks the
//!   image attributes (Pixel Data present, non-zero Rows/Columns, a sensible
//!   frame count).
//! - [`DicomVideo::frame`] decodes one frame with `dicom-pixeldata` (native or
//!   JPEG baseline/extended) and converts it to 8-bit luminance: RGB (which is
//!   what JPEG-compressed YBR frames decode to) through BT.601 luma, uncompressed
//!   YBR_FULL by taking Y, MONOCHROME2 as is, MONOCHROME1 inverted, 16-bit
//!   samples scaled down by Bits Stored.
//! - [`read_dicom_video`] decodes every frame into a [`GrayVideo`].
//!
//! The frame rate comes from Frame Time (0018,1063), else Cine Rate
//! (0018,0040), else Recommended Display Frame Rate (0008,2144).
//!
//! `dicom-rs` is a third-party parser that this crate does not fuzz; calls into
//! it are wrapped in `catch_unwind` so a malformed file becomes an error rather
//! than a crash of the data owner's client.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use dicom_dictionary_std::tags;
use dicom_object::{DefaultDicomObject, OpenFileOptions};
use dicom_pixeldata::{PhotometricInterpretation, PixelDecoder, PlanarConfiguration};

use crate::avi::MAX_SIDE;
use crate::error::{EchoError, Result};
use crate::video::{luma, GrayVideo};

/// Most frames accepted from the Number of Frames attribute.
const MAX_FRAMES: u32 = 1 << 20;

/// An opened DICOM object whose frames are decoded on demand.
#[derive(Debug)]
pub struct DicomVideo {
    file: PathBuf,
    obj: DefaultDicomObject,
    /// Columns.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// Number of Frames (1 when absent).
    pub frame_count: usize,
    /// Frames per second, when stated.
    pub fps: Option<f64>,
    /// Photometric Interpretation as written in the file.
    pub photometric: String,
    /// Transfer syntax UID.
    pub transfer_syntax: String,
}

fn guarded<T>(file: &Path, what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(EchoError::Dicom {
            file: file.to_path_buf(),
            problem: format!("the DICOM library panicked while {what} (malformed file?)"),
        })
    })
}

impl DicomVideo {
    /// Opens and checks a DICOM file.
    pub fn open(path: &Path) -> Result<Self> {
        guarded(path, "parsing", || Self::open_inner(path))
    }

    fn open_inner(path: &Path) -> Result<Self> {
        let derr = |problem: String| EchoError::Dicom {
            file: path.to_path_buf(),
            problem,
        };
        let obj = OpenFileOptions::new()
            .open_file(path)
            .map_err(|e| derr(format!("cannot parse: {e}")))?;
        let has_pixels = obj
            .element_opt(tags::PIXEL_DATA)
            .map_err(|e| derr(e.to_string()))?
            .is_some();
        if !has_pixels {
            return Err(EchoError::NoPixelData {
                file: path.to_path_buf(),
            });
        }
        let int = |tag, name: &str| -> Result<Option<i64>> {
            match obj.element_opt(tag).map_err(|e| derr(e.to_string()))? {
                None => Ok(None),
                Some(e) => e
                    .to_int::<i64>()
                    .map(Some)
                    .map_err(|err| derr(format!("{name} is not an integer: {err}"))),
            }
        };
        let float = |tag| -> Option<f64> {
            obj.element_opt(tag)
                .ok()
                .flatten()
                .and_then(|e| e.to_float64().ok())
                .filter(|v| v.is_finite() && *v > 0.0)
        };
        let dims = |problem: String| EchoError::Dimensions {
            file: path.to_path_buf(),
            problem,
        };
        let rows =
            int(tags::ROWS, "Rows")?.ok_or_else(|| dims("Rows (0028,0010) is missing".into()))?;
        let cols = int(tags::COLUMNS, "Columns")?
            .ok_or_else(|| dims("Columns (0028,0011) is missing".into()))?;
        let frames = int(tags::NUMBER_OF_FRAMES, "Number of Frames")?.unwrap_or(1);
        if !(1..=MAX_SIDE as i64).contains(&rows) || !(1..=MAX_SIDE as i64).contains(&cols) {
            return Err(dims(format!(
                "{cols}x{rows} pixels; each side must be 1..={MAX_SIDE}"
            )));
        }
        if !(1..=i64::from(MAX_FRAMES)).contains(&frames) {
            return Err(dims(format!(
                "Number of Frames is {frames}; must be 1..={MAX_FRAMES}"
            )));
        }
        let fps = float(tags::FRAME_TIME)
            .map(|ms| 1000.0 / ms)
            .or_else(|| float(tags::CINE_RATE))
            .or_else(|| float(tags::RECOMMENDED_DISPLAY_FRAME_RATE));
        let photometric = obj
            .element_opt(tags::PHOTOMETRIC_INTERPRETATION)
            .ok()
            .flatten()
            .and_then(|e| e.to_str().ok().map(|s| s.trim().to_string()))
            .unwrap_or_default();
        let transfer_syntax = obj
            .meta()
            .transfer_syntax()
            .trim_end_matches('\0')
            .to_string();
        Ok(DicomVideo {
            file: path.to_path_buf(),
            obj,
            width: cols as usize,
            height: rows as usize,
            frame_count: frames as usize,
            fps,
            photometric,
            transfer_syntax,
        })
    }

    /// Decodes frame `index` to `width * height` bytes of luminance.
    pub fn frame(&self, index: usize) -> Result<Vec<u8>> {
        if index >= self.frame_count {
            return Err(EchoError::Dicom {
                file: self.file.clone(),
                problem: format!(
                    "frame {index} requested but the object has {} frames",
                    self.frame_count
                ),
            });
        }
        guarded(&self.file, "decoding a frame", || self.frame_inner(index))
    }

    fn frame_inner(&self, index: usize) -> Result<Vec<u8>> {
        let derr = |problem: String| EchoError::Dicom {
            file: self.file.clone(),
            problem: format!("frame {index}: {problem}"),
        };
        let decoded = self
            .obj
            .decode_pixel_data_frame(index as u32)
            .map_err(|e| derr(format!("cannot decode pixel data: {e}")))?;
        let (w, h) = (decoded.columns() as usize, decoded.rows() as usize);
        if (w, h) != (self.width, self.height) {
            return Err(EchoError::Dimensions {
                file: self.file.clone(),
                problem: format!(
                    "frame {index} decodes to {w}x{h}, header says {}x{}",
                    self.width, self.height
                ),
            });
        }
        let n = w * h;
        let samples = usize::from(decoded.samples_per_pixel());
        let bits = decoded.bits_allocated();
        let data = decoded.data();
        let bytes_per_sample = match bits {
            8 => 1,
            16 => 2,
            other => {
                return Err(derr(format!(
                    "{other} bits allocated per sample is not supported (8 or 16)"
                )))
            }
        };
        let need = n * samples * bytes_per_sample;
        if data.len() < need {
            return Err(EchoError::Dimensions {
                file: self.file.clone(),
                problem: format!(
                    "frame {index} has {} bytes of pixel data, {w}x{h}x{samples} samples of {bits} bits need {need}",
                    data.len()
                ),
            });
        }
        // Reduce every sample to 8 bits first.
        let stored = decoded.bits_stored().clamp(1, 16);
        let sample8: Vec<u8> = if bytes_per_sample == 1 {
            data[..need].to_vec()
        } else {
            let shift = stored.saturating_sub(8);
            data[..need]
                .chunks_exact(2)
                .map(|p| {
                    let v = u16::from_le_bytes([p[0], p[1]]) & (((1u32 << stored) - 1) as u16);
                    (v >> shift).min(255) as u8
                })
                .collect()
        };
        let pi = decoded.photometric_interpretation();
        match (samples, pi) {
            (1, PhotometricInterpretation::Monochrome2) => Ok(sample8),
            (1, PhotometricInterpretation::Monochrome1) => {
                Ok(sample8.into_iter().map(|v| 255 - v).collect())
            }
            (3, PhotometricInterpretation::Rgb | PhotometricInterpretation::YbrFull) => {
                let planar = decoded.planar_configuration() == PlanarConfiguration::PixelFirst;
                let at = |p: usize, c: usize| {
                    if planar {
                        sample8[c * n + p]
                    } else {
                        sample8[p * 3 + c]
                    }
                };
                let is_rgb = *pi == PhotometricInterpretation::Rgb;
                Ok((0..n)
                    .map(|p| {
                        if is_rgb {
                            luma(at(p, 0), at(p, 1), at(p, 2))
                        } else {
                            at(p, 0)
                        }
                    })
                    .collect())
            }
            (s, pi) => Err(derr(format!(
                "{s} samples per pixel with photometric interpretation {pi} is not supported"
            ))),
        }
    }

    /// Decodes every frame.
    pub fn to_gray_video(&self) -> Result<GrayVideo> {
        let frames = (0..self.frame_count)
            .map(|i| self.frame(i))
            .collect::<Result<Vec<_>>>()?;
        Ok(GrayVideo {
            source: self.file.clone(),
            width: self.width,
            height: self.height,
            fps: self.fps,
            frames,
        })
    }
}

/// Reads a (multi-frame) DICOM file and decodes every frame to luminance.
pub fn read_dicom_video(path: &Path) -> Result<GrayVideo> {
    DicomVideo::open(path)?.to_gray_video()
}
