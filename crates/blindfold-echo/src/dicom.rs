//! Multi-frame ultrasound DICOM, read frame by frame.
//!
//! Parts:
//! - [`DicomVideo::open`] parses the file with `dicom-object` and checks the
//!   image attributes (Pixel Data present, non-zero Rows/Columns, a sensible
//!   frame count).
//! - [`DicomVideo::frame`] decodes one frame with `dicom-pixeldata` (native
//!   little/big endian, RLE Lossless, JPEG baseline/extended, JPEG 2000 lossless
//!   and lossy through the pure-Rust `openjp2`) and converts it to 8-bit
//!   luminance: RGB (which is what JPEG-compressed YBR frames and JPEG 2000
//!   YBR_RCT/YBR_ICT frames decode to) through BT.601 luma, uncompressed or RLE
//!   YBR_FULL by taking Y, MONOCHROME2 as is, MONOCHROME1 inverted, PALETTE
//!   COLOR through its Palette Color LUT (plain or segmented, 8- or 16-bit
//!   entries) to RGB and then luma, 16-bit samples scaled down by Bits Stored.
//! - [`read_dicom_video`] decodes every frame into a [`GrayVideo`].
//!
//! Transfer syntaxes this build cannot decode (JPEG-LS, JPEG XL, deflate, ...)
//! are refused by [`DicomVideo::open`] with their name and UID.
//!
//! The frame rate comes from Frame Time (0018,1063), else Cine Rate
//! (0018,0040), else Recommended Display Frame Rate (0008,2144).
//!
//! `dicom-rs` is a third-party parser that this crate does not fuzz; calls into
//! it are wrapped in `catch_unwind` so a malformed file becomes an error rather
//! than a crash of the data owner's client.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use dicom_core::value::{PrimitiveValue, Value};
use dicom_core::Tag;
use dicom_dictionary_std::{tags, uids};
use dicom_object::{DefaultDicomObject, OpenFileOptions};
use dicom_pixeldata::{
    PhotometricInterpretation, PixelDecoder, PixelRepresentation, PlanarConfiguration,
};
use dicom_transfer_syntax_registry::{TransferSyntaxIndex, TransferSyntaxRegistry};

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
    /// For PALETTE COLOR: the luma of every palette entry.
    palette: Option<Palette>,
}

/// A Palette Color LUT reduced to the luma of each entry.
#[derive(Debug)]
struct Palette {
    /// First stored pixel value mapped (second value of the descriptor).
    first_map: i64,
    /// `luma(R[i], G[i], B[i])`, each entry reduced to 8 bits first.
    luma: Vec<u8>,
}

/// Most entries a Palette Color LUT can have (a descriptor's first value of 0).
const MAX_LUT_ENTRIES: usize = 1 << 16;

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
        match TransferSyntaxRegistry.get(&transfer_syntax) {
            None => {
                return Err(derr(format!(
                    "unknown transfer syntax {transfer_syntax}; cannot decode its pixel data"
                )))
            }
            Some(ts) if !ts.can_decode_all() => {
                return Err(derr(format!(
                    "transfer syntax {} ({transfer_syntax}) is not supported: this build decodes \
                     uncompressed, RLE Lossless, JPEG baseline/extended and JPEG 2000 pixel data",
                    ts.name()
                )))
            }
            Some(_) => {}
        }
        let palette = if photometric == "PALETTE COLOR" {
            Some(read_palette(&obj).map_err(|e| derr(format!("PALETTE COLOR: {e}")))?)
        } else {
            None
        };
        Ok(DicomVideo {
            file: path.to_path_buf(),
            obj,
            width: cols as usize,
            height: rows as usize,
            frame_count: frames as usize,
            fps,
            photometric,
            transfer_syntax,
            palette,
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
        let stored = decoded.bits_stored().clamp(1, 16);
        let pi = decoded.photometric_interpretation();
        if *pi == PhotometricInterpretation::PaletteColor {
            let palette = self
                .palette
                .as_ref()
                .ok_or_else(|| derr("PALETTE COLOR pixel data without a palette".into()))?;
            if samples != 1 {
                return Err(derr(format!(
                    "PALETTE COLOR needs 1 sample per pixel, the object has {samples}"
                )));
            }
            let signed = decoded.pixel_representation() == PixelRepresentation::Signed;
            let mask = (1u32 << stored) - 1;
            let index = |raw: u32| -> i64 {
                let v = raw & mask;
                if signed && (v >> (stored - 1)) & 1 == 1 {
                    i64::from(v) - (1i64 << stored)
                } else {
                    i64::from(v)
                }
            };
            let last = palette.luma.len() as i64 - 1;
            let lookup = |raw: u32| {
                let i = (index(raw) - palette.first_map).clamp(0, last);
                palette.luma[i as usize]
            };
            return Ok(if bytes_per_sample == 1 {
                data[..n].iter().map(|&b| lookup(u32::from(b))).collect()
            } else {
                data[..need]
                    .chunks_exact(2)
                    .map(|p| lookup(u32::from(u16::from_le_bytes([p[0], p[1]]))))
                    .collect()
            });
        }
        // Reduce every sample to 8 bits first.
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
        // dicom-pixeldata labels every 3-sample frame from an encapsulated codec
        // RGB, but RLE Lossless stores YBR_FULL samples as they are.
        let pi = if *pi == PhotometricInterpretation::Rgb
            && self.photometric == "YBR_FULL"
            && self.transfer_syntax == uids::RLE_LOSSLESS
        {
            &PhotometricInterpretation::YbrFull
        } else {
            pi
        };
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

/// Reads the Red, Green and Blue Palette Color LUTs (plain or segmented) and
/// reduces them to the luma of each entry.
fn read_palette(obj: &DefaultDicomObject) -> std::result::Result<Palette, String> {
    let channels = [
        (
            "Red",
            tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
            tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DATA,
            tags::SEGMENTED_RED_PALETTE_COLOR_LOOKUP_TABLE_DATA,
        ),
        (
            "Green",
            tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
            tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DATA,
            tags::SEGMENTED_GREEN_PALETTE_COLOR_LOOKUP_TABLE_DATA,
        ),
        (
            "Blue",
            tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
            tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DATA,
            tags::SEGMENTED_BLUE_PALETTE_COLOR_LOOKUP_TABLE_DATA,
        ),
    ];
    let mut luts: Vec<Vec<u8>> = Vec::with_capacity(3);
    let mut first_map = 0;
    for (name, desc_tag, data_tag, seg_tag) in channels {
        let desc = obj
            .element_opt(desc_tag)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("{name} Palette Color Lookup Table Descriptor is missing"))?
            .to_multi_int::<i64>()
            .map_err(|e| format!("{name} Palette Color Lookup Table Descriptor: {e}"))?;
        let [count, first, depth] = desc[..] else {
            return Err(format!(
                "{name} Palette Color Lookup Table Descriptor has {} values, not 3",
                desc.len()
            ));
        };
        // The count and depth are US even where the descriptor is read as SS.
        let entries = match count & 0xFFFF {
            0 => MAX_LUT_ENTRIES,
            n => n as usize,
        };
        let depth = depth & 0xFFFF;
        if name == "Red" {
            // As pydicom: the red descriptor's first mapped value serves all three.
            first_map = first;
        }
        let lut: Vec<u8> = if let Some(words) = lut_words(obj, data_tag)? {
            if words.len() == entries {
                // 16-bit entries (the usual case, whatever the descriptor says).
                words.iter().map(|&w| (w >> 8) as u8).collect()
            } else if words.len() * 2 == entries {
                // 8-bit entries packed two to a word.
                words.iter().flat_map(|w| w.to_le_bytes()).collect()
            } else {
                return Err(format!(
                    "{name} Palette Color Lookup Table Data has {} bytes for {entries} entries",
                    words.len() * 2
                ));
            }
        } else if let Some(words) = lut_words(obj, seg_tag)? {
            if depth != 16 {
                return Err(format!(
                    "segmented {name} LUT with {depth}-bit entries is not supported (16 only)"
                ));
            }
            expand_segmented_lut(&words, entries)
                .map_err(|e| format!("Segmented {name} Palette Color Lookup Table Data: {e}"))?
                .iter()
                .map(|&w| (w >> 8) as u8)
                .collect()
        } else {
            return Err(format!(
                "neither {name} Palette Color Lookup Table Data nor its segmented form is present"
            ));
        };
        if lut.is_empty() {
            return Err(format!("{name} Palette Color Lookup Table is empty"));
        }
        luts.push(lut);
    }
    let len = luts[0].len().min(luts[1].len()).min(luts[2].len());
    if luts.iter().any(|l| l.len() != len) {
        return Err(format!(
            "the Red, Green and Blue LUTs differ in length ({}, {}, {})",
            luts[0].len(),
            luts[1].len(),
            luts[2].len()
        ));
    }
    Ok(Palette {
        first_map,
        luma: (0..len)
            .map(|i| luma(luts[0][i], luts[1][i], luts[2][i]))
            .collect(),
    })
}

/// The words of an OW element (little-endian bytes if it was read as bytes).
fn lut_words(obj: &DefaultDicomObject, tag: Tag) -> std::result::Result<Option<Vec<u16>>, String> {
    let Some(e) = obj.element_opt(tag).map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    Ok(Some(match e.value() {
        Value::Primitive(PrimitiveValue::U16(w)) => w.to_vec(),
        Value::Primitive(p) => p
            .to_bytes()
            .chunks_exact(2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .collect(),
        _ => return Err(format!("{tag} is not a primitive value")),
    }))
}

/// Expands segmented palette LUT data (PS3.3 C.7.9.2) to at most `max`
/// entries. Discrete and linear segments are supported; a linear segment
/// interpolates as pydicom does (`numpy.linspace`, rounded half to even).
/// Indirect segments are refused: they may point anywhere, themselves included.
pub(crate) fn expand_segmented_lut(
    data: &[u16],
    max: usize,
) -> std::result::Result<Vec<u16>, String> {
    let mut lut: Vec<u16> = Vec::new();
    let mut at = 0;
    // `at + 1` allows a trailing pad word, as every segment is longer than 2.
    while at + 1 < data.len() {
        let (opcode, len) = (data[at], usize::from(data[at + 1]));
        at += 2;
        if lut.len() + len > max {
            return Err(format!("expands beyond {max} entries"));
        }
        match opcode {
            0 => {
                let values = data
                    .get(at..at + len)
                    .ok_or_else(|| format!("discrete segment at word {} is truncated", at - 2))?;
                lut.extend_from_slice(values);
                at += len;
            }
            1 => {
                let y0 = *lut
                    .last()
                    .ok_or("the first segment cannot be a linear segment")?;
                let y1 = *data
                    .get(at)
                    .ok_or_else(|| format!("linear segment at word {} is truncated", at - 2))?;
                at += 1;
                if y0 == y1 || len <= 1 {
                    lut.extend(std::iter::repeat_n(y1, len));
                } else {
                    // numpy.linspace(y0 + step, y1, len) with step = (y1 - y0) / len.
                    let start = f64::from(y0) + (f64::from(y1) - f64::from(y0)) / len as f64;
                    let stop = f64::from(y1);
                    let div = (len - 1) as f64;
                    let step = (stop - start) / div;
                    for i in 0..len - 1 {
                        let y = if step == 0.0 {
                            i as f64 / div * (stop - start) + start
                        } else {
                            i as f64 * step + start
                        };
                        lut.push(y.round_ties_even().clamp(0.0, 65535.0) as u16);
                    }
                    lut.push(y1);
                }
            }
            2 => return Err("indirect segments are not supported".into()),
            other => return Err(format!("unknown segment type {other}")),
        }
    }
    Ok(lut)
}

/// Reads a (multi-frame) DICOM file and decodes every frame to luminance.
pub fn read_dicom_video(path: &Path) -> Result<GrayVideo> {
    DicomVideo::open(path)?.to_gray_video()
}

/// A real DICOM file that `scripts/fetch-test-data.sh` fetched, for tests:
/// `$BLINDFOLD_TESTDATA/<file>`, else
/// `${BLINDFOLD_CACHE:-$HOME/.cache/blindfold}/testdata/<file>`. `None`
/// (with a `SKIPPED` line) when it is not there.
pub fn test_data_file(file: &str) -> Option<std::path::PathBuf> {
    use std::path::PathBuf;
    let dir = std::env::var_os("BLINDFOLD_TESTDATA")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("BLINDFOLD_CACHE")
                .map(PathBuf::from)
                .or_else(|| {
                    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/blindfold"))
                })
                .map(|c| c.join("testdata"))
        })?;
    let p = dir.join(file);
    if p.is_file() {
        Some(p)
    } else {
        println!(
            "SKIPPED: {} not found; run scripts/fetch-test-data.sh",
            p.display()
        );
        None
    }
}

#[cfg(test)]
mod tests {
    use super::expand_segmented_lut;

    #[test]
    fn segmented_lut_discrete_and_linear() {
        // Linear 0 -> 10 over 4: numpy.linspace(2.5, 10, 4) = 2.5, 5, 7.5, 10,
        // rounded half to even like pydicom: 2, 5, 8, 10.
        let lut = expand_segmented_lut(&[0, 1, 0, 1, 4, 10, 0, 2, 7, 9, 0], 100).unwrap();
        assert_eq!(lut, vec![0, 2, 5, 8, 10, 7, 9]);
        // A flat linear segment repeats its value; a single step lands on it.
        assert_eq!(
            expand_segmented_lut(&[0, 1, 5, 1, 3, 5, 1, 1, 9], 100).unwrap(),
            vec![5, 5, 5, 5, 9]
        );
    }

    #[test]
    fn segmented_lut_bad_data_is_an_error() {
        for (data, why) in [
            (&[1u16, 2, 5][..], "first segment"),
            (&[0, 5, 1, 2][..], "truncated"),
            (&[0, 1, 0, 1, 4][..], "truncated"),
            (&[0, 1, 0, 2, 1, 0, 0][..], "indirect"),
            (&[0, 1, 0, 9, 1][..], "unknown segment type 9"),
            (&[0, 3, 1, 2, 3, 1, 65535, 7][..], "beyond 100 entries"),
        ] {
            let e = expand_segmented_lut(data, 100).unwrap_err();
            assert!(e.contains(why), "{data:?}: {e}");
        }
    }
}
