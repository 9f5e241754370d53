//! Motion-JPEG AVI: a RIFF parser, a frame decoder and a writer.
//!
//! Parts, top-down:
//! - [`read_avi`] reads a file and decodes every frame into a [`GrayVideo`].
//! - [`parse_avi`] walks the RIFF structure of bytes in memory and returns an
//!   [`MjpegAvi`]: the header facts plus one JPEG slice per frame. It checks
//!   every size against the bytes actually present, so truncated or corrupt
//!   files give [`EchoError::Avi`], and any codec other than Motion-JPEG gives
//!   [`EchoError::UnsupportedCodec`].
//! - [`MjpegAvi::decode_frame`] decodes one frame with `jpeg-decoder` and
//!   converts it to luminance (EchoNet stores gray as three equal channels).
//! - [`write_mjpeg_avi`] is the inverse, used by the phantom generator.
//!
//! The layout handled (Microsoft AVI 1.0, plus OpenDML `AVIX` continuation
//! RIFFs):
//!
//! ```text
//! RIFF 'AVI '
//!   LIST 'hdrl'
//!     avih                      main header: µs/frame, frame count, size
//!     LIST 'strl'  (per stream)
//!       strh                    stream header: 'vids', handler, rate/scale
//!       strf                    BITMAPINFOHEADER: size, compression FourCC
//!   LIST 'movi'
//!     00dc ...                  one compressed frame per chunk
//!     (LIST 'rec ' grouping, JUNK, ix## are tolerated)
//!   idx1 (optional)             16-byte entries pointing into movi
//! ```
//!
//! When `idx1` is present its video entries define the frame list (as players
//! do); each entry must point at a matching chunk inside `movi`, so a bad index
//! is an error, not a silent misread. Without `idx1`, the `movi` chunks in order
//! are the frames. A zero-length frame chunk means "repeat the previous frame".

use std::path::{Path, PathBuf};

use crate::error::{EchoError, Result};
use crate::video::{rgb_to_luma, GrayVideo};

/// Largest accepted frame side, in pixels. Anything bigger is treated as a
/// corrupt header rather than an allocation request.
pub const MAX_SIDE: usize = 8192;

/// Compression FourCCs accepted as Motion-JPEG (compared case-insensitively).
const MJPEG_FOURCCS: [&[u8; 4]; 3] = [b"MJPG", b"AVRN", b"JPEG"];

/// A parsed Motion-JPEG AVI whose frames borrow from the file's bytes.
#[derive(Debug, Clone)]
pub struct MjpegAvi<'a> {
    file: PathBuf,
    /// Frame width in pixels (from the stream format).
    pub width: usize,
    /// Frame height in pixels (from the stream format).
    pub height: usize,
    /// Frames per second (stream rate/scale, else the main header's µs/frame).
    pub fps: f64,
    /// The compression FourCC of the video stream, e.g. `MJPG`.
    pub codec: [u8; 4],
    /// One JPEG byte string per frame, in display order.
    frames: Vec<&'a [u8]>,
}

impl<'a> MjpegAvi<'a> {
    /// Number of frames.
    pub fn frame_count(&self) -> usize {
        self.frames.len()
    }

    /// The compressed JPEG bytes of frame `index`, if it exists.
    pub fn jpeg(&self, index: usize) -> Option<&'a [u8]> {
        self.frames.get(index).copied()
    }

    /// Decodes frame `index` to `width * height` bytes of luminance.
    pub fn decode_frame(&self, index: usize) -> Result<Vec<u8>> {
        let jpeg = self.jpeg(index).ok_or_else(|| EchoError::Avi {
            file: self.file.clone(),
            problem: format!(
                "frame {index} requested but the video has {} frames",
                self.frames.len()
            ),
        })?;
        decode_jpeg_gray(&self.file, index, jpeg, self.width, self.height)
    }

    /// Decodes every frame.
    pub fn decode_all(&self) -> Result<GrayVideo> {
        let frames = (0..self.frames.len())
            .map(|i| self.decode_frame(i))
            .collect::<Result<Vec<_>>>()?;
        Ok(GrayVideo {
            source: self.file.clone(),
            width: self.width,
            height: self.height,
            fps: Some(self.fps),
            frames,
        })
    }
}

/// Reads a Motion-JPEG AVI file and decodes all of its frames to luminance.
pub fn read_avi(path: &Path) -> Result<GrayVideo> {
    let bytes = std::fs::read(path).map_err(|e| EchoError::io(path, "reading", e))?;
    parse_avi(path, &bytes)?.decode_all()
}

/// Decodes one JPEG image to luminance, checking it is `width` x `height`.
///
/// `file` and `frame` only label errors.
pub fn decode_jpeg_gray(
    file: &Path,
    frame: usize,
    jpeg: &[u8],
    width: usize,
    height: usize,
) -> Result<Vec<u8>> {
    let jerr = |problem: String| EchoError::Jpeg {
        file: file.to_path_buf(),
        frame,
        problem,
    };
    let mut decoder = jpeg_decoder::Decoder::new(jpeg);
    // Never let a corrupt header ask for more than an RGB frame of the
    // announced size (plus slack for MCU padding).
    decoder.set_max_decoding_buffer_size(width.saturating_mul(height).saturating_mul(4) + 65536);
    decoder.read_info().map_err(|e| jerr(e.to_string()))?;
    let info = decoder
        .info()
        .ok_or_else(|| jerr("no image header (SOF) found".into()))?;
    if usize::from(info.width) != width || usize::from(info.height) != height {
        return Err(EchoError::Dimensions {
            file: file.to_path_buf(),
            problem: format!(
                "frame {frame} is {}x{} but the AVI header says {width}x{height}",
                info.width, info.height
            ),
        });
    }
    let pixels = decoder.decode().map_err(|e| jerr(e.to_string()))?;
    let n = width * height;
    use jpeg_decoder::PixelFormat;
    let gray = match info.pixel_format {
        PixelFormat::L8 if pixels.len() == n => pixels,
        // 16-bit samples are big-endian; keep the most significant byte.
        PixelFormat::L16 if pixels.len() == 2 * n => pixels.chunks_exact(2).map(|p| p[0]).collect(),
        PixelFormat::RGB24 if pixels.len() == 3 * n => rgb_to_luma(&pixels),
        PixelFormat::CMYK32 => return Err(jerr("CMYK JPEG frames are not supported".into())),
        other => {
            return Err(jerr(format!(
                "decoder returned {} bytes of {other:?} for a {width}x{height} frame",
                pixels.len()
            )))
        }
    };
    Ok(gray)
}

// ---------------------------------------------------------------------------
// RIFF walking
// ---------------------------------------------------------------------------

/// One RIFF chunk: its FourCC, its payload and the payload's file offset.
#[derive(Debug, Clone, Copy)]
struct Chunk<'a> {
    id: [u8; 4],
    data: &'a [u8],
    /// Absolute file offset of the chunk header (its FourCC).
    offset: usize,
}

impl<'a> Chunk<'a> {
    /// For `LIST`/`RIFF` chunks: the list type and the sub-chunk bytes.
    fn list(&self) -> Option<([u8; 4], &'a [u8])> {
        if (&self.id == b"LIST" || &self.id == b"RIFF") && self.data.len() >= 4 {
            Some((fourcc(&self.data[..4]), &self.data[4..]))
        } else {
            None
        }
    }
}

fn fourcc(b: &[u8]) -> [u8; 4] {
    let mut f = [0u8; 4];
    f.copy_from_slice(&b[..4]);
    f
}

fn show(f: &[u8; 4]) -> String {
    f.iter()
        .map(|&c| {
            if c.is_ascii_graphic() || c == b' ' {
                char::from(c).to_string()
            } else {
                format!("\\x{c:02x}")
            }
        })
        .collect()
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Splits `data` (which starts at absolute offset `base`) into chunks.
///
/// A declared size running past the end is an error. Fewer than 8 trailing
/// bytes (room for no header) are treated as padding.
fn chunks<'a>(file: &Path, data: &'a [u8], base: usize, within: &str) -> Result<Vec<Chunk<'a>>> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while data.len() - pos >= 8 {
        let id = fourcc(&data[pos..]);
        let size = u32_at(data, pos + 4) as usize;
        let start = pos + 8;
        let available = data.len() - start;
        if size > available {
            return Err(EchoError::Avi {
                file: file.to_path_buf(),
                problem: format!(
                    "chunk '{}' at offset {} in {within} declares {size} bytes but only {available} remain (truncated file?)",
                    show(&id),
                    base + pos
                ),
            });
        }
        out.push(Chunk {
            id,
            data: &data[start..start + size],
            offset: base + pos,
        });
        // Chunks are padded to an even length; a missing final pad byte is fine.
        pos = (start + size + (size & 1)).min(data.len());
    }
    Ok(out)
}

/// Facts from `hdrl` about the (first) video stream.
#[derive(Debug)]
struct VideoStream {
    index: usize,
    codec: [u8; 4],
    width: usize,
    height: usize,
    fps: f64,
}

fn parse_hdrl(file: &Path, hdrl: &[u8], base: usize) -> Result<VideoStream> {
    let bad = |problem: String| EchoError::Avi {
        file: file.to_path_buf(),
        problem,
    };
    let items = chunks(file, hdrl, base, "LIST 'hdrl'")?;
    let avih = items
        .iter()
        .find(|c| &c.id == b"avih")
        .ok_or_else(|| bad("no main header ('avih') in LIST 'hdrl'".into()))?;
    if avih.data.len() < 40 {
        return Err(bad(format!(
            "main header 'avih' has {} bytes, need at least 40",
            avih.data.len()
        )));
    }
    let us_per_frame = u32_at(avih.data, 0);
    let mut stream_index = 0usize;
    for item in &items {
        let Some((kind, body)) = item.list() else {
            continue;
        };
        if &kind != b"strl" {
            continue;
        }
        let this = stream_index;
        stream_index += 1;
        let parts = chunks(file, body, item.offset + 12, "LIST 'strl'")?;
        let strh = parts
            .iter()
            .find(|c| &c.id == b"strh")
            .ok_or_else(|| bad(format!("stream {this}: no stream header ('strh')")))?;
        if strh.data.len() < 36 {
            return Err(bad(format!(
                "stream {this}: 'strh' has {} bytes, need at least 36",
                strh.data.len()
            )));
        }
        if &strh.data[..4] != b"vids" {
            continue;
        }
        let handler = fourcc(&strh.data[4..]);
        let scale = u32_at(strh.data, 20);
        let rate = u32_at(strh.data, 24);
        let strf = parts
            .iter()
            .find(|c| &c.id == b"strf")
            .ok_or_else(|| bad(format!("video stream {this}: no stream format ('strf')")))?;
        if strf.data.len() < 20 {
            return Err(bad(format!(
                "video stream {this}: 'strf' has {} bytes, need a 40-byte BITMAPINFOHEADER",
                strf.data.len()
            )));
        }
        let width = i64::from(u32_at(strf.data, 4) as i32);
        let height = i64::from(u32_at(strf.data, 8) as i32).abs();
        let compression = fourcc(&strf.data[16..]);
        let is_mjpeg = |f: &[u8; 4]| MJPEG_FOURCCS.iter().any(|m| f.eq_ignore_ascii_case(*m));
        if !is_mjpeg(&compression) {
            let codec = match compression {
                [0, 0, 0, 0] => format!("uncompressed DIB (stream handler '{}')", show(&handler)),
                c => show(&c),
            };
            return Err(EchoError::UnsupportedCodec {
                file: file.to_path_buf(),
                codec,
            });
        }
        if width <= 0 || height <= 0 || width > MAX_SIDE as i64 || height > MAX_SIDE as i64 {
            return Err(EchoError::Dimensions {
                file: file.to_path_buf(),
                problem: format!("video stream {this} declares {width}x{height}; each side must be 1..={MAX_SIDE}"),
            });
        }
        let fps = if scale > 0 && rate > 0 {
            f64::from(rate) / f64::from(scale)
        } else if us_per_frame > 0 {
            1e6 / f64::from(us_per_frame)
        } else {
            return Err(bad(format!(
                "video stream {this}: no frame rate (strh rate/scale and avih µs/frame are 0)"
            )));
        };
        return Ok(VideoStream {
            index: this,
            codec: compression,
            width: width as usize,
            height: height as usize,
            fps,
        });
    }
    Err(bad(
        "no video stream ('strh' of type 'vids') in LIST 'hdrl'".into(),
    ))
}

/// A frame chunk id for stream `index`: `NNdc` (compressed) or `NNdb`.
fn is_frame_id(id: &[u8; 4], index: usize) -> bool {
    let digits = [b'0' + (index / 10 % 10) as u8, b'0' + (index % 10) as u8];
    id[..2] == digits && (&id[2..] == b"dc" || &id[2..] == b"db")
}

/// Collects frame chunks of stream `index` from a `movi` list (one level of
/// `LIST 'rec '` grouping is followed).
fn scan_movi<'a>(
    file: &Path,
    movi: &'a [u8],
    base: usize,
    index: usize,
    out: &mut Vec<Chunk<'a>>,
) -> Result<()> {
    for c in chunks(file, movi, base, "LIST 'movi'")? {
        if is_frame_id(&c.id, index) {
            out.push(c);
        } else if let Some((kind, body)) = c.list() {
            if &kind == b"rec " {
                for r in chunks(file, body, c.offset + 12, "LIST 'rec '")? {
                    if is_frame_id(&r.id, index) {
                        out.push(r);
                    }
                }
            }
        }
    }
    Ok(())
}

/// Resolves `idx1` video entries to chunks of `movi`.
///
/// Entry offsets are relative to the `movi` FourCC (the common convention) or,
/// for some writers, absolute; the first entry decides which.
fn frames_from_idx1<'a>(
    file: &Path,
    data: &'a [u8],
    idx1: &[u8],
    movi_fourcc_offset: usize,
    movi_end: usize,
    index: usize,
) -> Result<Vec<Chunk<'a>>> {
    let bad = |problem: String| EchoError::Avi {
        file: file.to_path_buf(),
        problem,
    };
    let mut bases: Option<usize> = None;
    let mut out = Vec::new();
    for (n, e) in idx1.chunks_exact(16).enumerate() {
        let id = fourcc(e);
        if !is_frame_id(&id, index) {
            continue;
        }
        let offset = u32_at(e, 8) as usize;
        let size = u32_at(e, 12) as usize;
        let header_at = |base: usize| -> Option<usize> {
            let at = base.checked_add(offset)?;
            let end = at.checked_add(8)?.checked_add(size)?;
            (end <= movi_end
                && data.get(at..at + 4) == Some(&id[..])
                && u32_at(data, at + 4) as usize == size)
                .then_some(at)
        };
        let base = match bases {
            Some(b) => b,
            None => {
                let b = if header_at(movi_fourcc_offset).is_some() {
                    movi_fourcc_offset
                } else {
                    0
                };
                bases = Some(b);
                b
            }
        };
        let at = header_at(base).ok_or_else(|| {
            bad(format!(
                "index entry {n} ('{}', offset {offset}, {size} bytes) does not point at a matching chunk inside 'movi'",
                show(&id)
            ))
        })?;
        out.push(Chunk {
            id,
            data: &data[at + 8..at + 8 + size],
            offset: at,
        });
    }
    Ok(out)
}

/// Parses a Motion-JPEG AVI held in memory. `file` only labels errors.
pub fn parse_avi<'a>(file: &Path, data: &'a [u8]) -> Result<MjpegAvi<'a>> {
    let bad = |problem: String| EchoError::Avi {
        file: file.to_path_buf(),
        problem,
    };
    if data.len() < 12 || &data[..4] != b"RIFF" || &data[8..12] != b"AVI " {
        let head = &data[..data.len().min(12)];
        return Err(bad(format!(
            "not a RIFF 'AVI ' file (first bytes {head:02x?}, file is {} bytes)",
            data.len()
        )));
    }
    let top = chunks(file, data, 0, "the file")?;
    let mut stream: Option<VideoStream> = None;
    let mut frames: Vec<Chunk<'a>> = Vec::new();
    let mut found_movi = false;
    for (n, riff) in top.iter().enumerate() {
        let Some((form, body)) = riff.list() else {
            continue;
        };
        if &riff.id != b"RIFF" || !(&form == b"AVI " || (n > 0 && &form == b"AVIX")) {
            continue;
        }
        let items = chunks(
            file,
            body,
            riff.offset + 12,
            &format!("RIFF '{}'", show(&form)),
        )?;
        if &form == b"AVI " {
            let hdrl = items
                .iter()
                .find_map(|c| {
                    c.list()
                        .filter(|(k, _)| k == b"hdrl")
                        .map(|(_, b)| (c.offset, b))
                })
                .ok_or_else(|| bad("no header list (LIST 'hdrl')".into()))?;
            stream = Some(parse_hdrl(file, hdrl.1, hdrl.0 + 12)?);
        }
        let Some(vs) = stream.as_ref() else { continue };
        let mut scanned = Vec::new();
        let mut movi_span = None;
        for c in &items {
            if let Some((kind, body)) = c.list() {
                if &kind == b"movi" {
                    found_movi = true;
                    movi_span = Some((c.offset + 8, c.offset + 8 + c.data.len()));
                    scan_movi(file, body, c.offset + 12, vs.index, &mut scanned)?;
                }
            }
        }
        let idx1 = items.iter().find(|c| &c.id == b"idx1");
        match (idx1, movi_span) {
            (Some(idx1), Some((movi_fourcc, movi_end))) if &form == b"AVI " => {
                let indexed =
                    frames_from_idx1(file, data, idx1.data, movi_fourcc, movi_end, vs.index)?;
                if indexed.is_empty() && !scanned.is_empty() {
                    return Err(bad(format!(
                        "index 'idx1' lists no frames of stream {} but 'movi' holds {}",
                        vs.index,
                        scanned.len()
                    )));
                }
                frames.extend(indexed);
            }
            _ => frames.extend(scanned),
        }
    }
    let vs = stream.ok_or_else(|| bad("no RIFF 'AVI ' list with a header".into()))?;
    if !found_movi {
        return Err(bad("no frame data list (LIST 'movi')".into()));
    }
    // Zero-length chunks repeat the previous frame.
    let mut out: Vec<&'a [u8]> = Vec::with_capacity(frames.len());
    for (i, c) in frames.iter().enumerate() {
        if c.data.is_empty() {
            let prev = *out.last().ok_or_else(|| {
                bad(format!(
                    "frame {i} (chunk at offset {}) is empty and has no previous frame to repeat",
                    c.offset
                ))
            })?;
            out.push(prev);
        } else {
            out.push(c.data);
        }
    }
    if out.is_empty() {
        return Err(bad(format!(
            "no frames of video stream {} in LIST 'movi'",
            vs.index
        )));
    }
    Ok(MjpegAvi {
        file: file.to_path_buf(),
        width: vs.width,
        height: vs.height,
        fps: vs.fps,
        codec: vs.codec,
        frames: out,
    })
}

// ---------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------

/// Frame rate as the AVI `rate / scale` pair.
fn rate_scale(fps: f64) -> (u32, u32) {
    if fps.fract() == 0.0 && fps >= 1.0 && fps <= f64::from(u32::MAX) {
        (fps as u32, 1)
    } else {
        (
            (fps * 1000.0).round().clamp(1.0, f64::from(u32::MAX)) as u32,
            1000,
        )
    }
}

fn push_chunk(out: &mut Vec<u8>, id: &[u8; 4], payload: &[u8]) {
    out.extend_from_slice(id);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(payload);
    if payload.len() % 2 == 1 {
        out.push(0);
    }
}

fn push_list(out: &mut Vec<u8>, id: &[u8; 4], kind: &[u8; 4], body: &[u8]) {
    let mut payload = Vec::with_capacity(body.len() + 4);
    payload.extend_from_slice(kind);
    payload.extend_from_slice(body);
    push_chunk(out, id, &payload);
}

/// Builds a Motion-JPEG AVI (one video stream, `00dc` chunks, `idx1`) from
/// already-encoded JPEG frames. The output plays in ffmpeg and reads back with
/// [`parse_avi`].
pub fn write_mjpeg_avi(jpeg_frames: &[Vec<u8>], width: u32, height: u32, fps: f64) -> Vec<u8> {
    let (rate, scale) = rate_scale(fps);
    let n = jpeg_frames.len() as u32;
    let max_frame = jpeg_frames.iter().map(Vec::len).max().unwrap_or(0) as u32;
    let us_per_frame = (1e6 * f64::from(scale) / f64::from(rate)).round() as u32;

    let mut avih = Vec::with_capacity(56);
    for v in [
        us_per_frame,
        (f64::from(max_frame) * fps).round() as u32, // max bytes per second
        0,                                           // padding granularity
        0x10,                                        // AVIF_HASINDEX
        n,                                           // total frames
        0,                                           // initial frames
        1,                                           // streams
        max_frame,                                   // suggested buffer size
        width,
        height,
        0,
        0,
        0,
        0,
    ] {
        avih.extend_from_slice(&v.to_le_bytes());
    }

    let mut strh = Vec::with_capacity(56);
    strh.extend_from_slice(b"vids");
    strh.extend_from_slice(b"MJPG");
    strh.extend_from_slice(&0u32.to_le_bytes()); // flags
    strh.extend_from_slice(&0u16.to_le_bytes()); // priority
    strh.extend_from_slice(&0u16.to_le_bytes()); // language
    for v in [0, scale, rate, 0, n, max_frame, u32::MAX, 0] {
        // initial frames, scale, rate, start, length, buffer, quality, sample size
        strh.extend_from_slice(&v.to_le_bytes());
    }
    for v in [0u16, 0, width as u16, height as u16] {
        strh.extend_from_slice(&v.to_le_bytes()); // rcFrame
    }

    let mut strf = Vec::with_capacity(40);
    strf.extend_from_slice(&40u32.to_le_bytes());
    strf.extend_from_slice(&(width as i32).to_le_bytes());
    strf.extend_from_slice(&(height as i32).to_le_bytes());
    strf.extend_from_slice(&1u16.to_le_bytes()); // planes
    strf.extend_from_slice(&24u16.to_le_bytes()); // bit count
    strf.extend_from_slice(b"MJPG");
    for v in [width * height * 3, 0, 0, 0, 0] {
        strf.extend_from_slice(&v.to_le_bytes());
    }

    let mut strl = Vec::new();
    push_chunk(&mut strl, b"strh", &strh);
    push_chunk(&mut strl, b"strf", &strf);
    let mut hdrl = Vec::new();
    push_chunk(&mut hdrl, b"avih", &avih);
    push_list(&mut hdrl, b"LIST", b"strl", &strl);

    let mut movi = Vec::new();
    let mut idx1 = Vec::with_capacity(16 * jpeg_frames.len());
    for jpeg in jpeg_frames {
        // Offsets are relative to the 'movi' FourCC, which precedes `movi`'s body.
        let offset = 4 + movi.len() as u32;
        push_chunk(&mut movi, b"00dc", jpeg);
        idx1.extend_from_slice(b"00dc");
        idx1.extend_from_slice(&0x10u32.to_le_bytes()); // AVIIF_KEYFRAME
        idx1.extend_from_slice(&offset.to_le_bytes());
        idx1.extend_from_slice(&(jpeg.len() as u32).to_le_bytes());
    }

    let mut body = Vec::new();
    push_list(&mut body, b"LIST", b"hdrl", &hdrl);
    push_list(&mut body, b"LIST", b"movi", &movi);
    push_chunk(&mut body, b"idx1", &idx1);
    let mut out = Vec::with_capacity(body.len() + 12);
    push_list(&mut out, b"RIFF", b"AVI ", &body);
    out
}

/// Encodes a gray frame as a baseline JPEG with three equal channels (the way
/// EchoNet stores gray), 4:4:4, at `quality` (1..=100).
pub fn encode_gray_jpeg(
    file: &Path,
    frame: usize,
    gray: &[u8],
    width: u16,
    height: u16,
    quality: u8,
) -> Result<Vec<u8>> {
    let rgb: Vec<u8> = gray.iter().flat_map(|&v| [v, v, v]).collect();
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, quality);
    encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::F_1_1);
    encoder
        .encode(&rgb, width, height, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| EchoError::JpegEncode {
            file: file.to_path_buf(),
            frame,
            problem: e.to_string(),
        })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny_avi(frames: usize) -> Vec<u8> {
        let p = Path::new("t.avi");
        let jpegs: Vec<Vec<u8>> = (0..frames)
            .map(|i| {
                let gray: Vec<u8> = (0..16 * 8)
                    .map(|k| ((k * 2 + i * 40) % 256) as u8)
                    .collect();
                encode_gray_jpeg(p, i, &gray, 16, 8, 95).expect("encode")
            })
            .collect();
        write_mjpeg_avi(&jpegs, 16, 8, 50.0)
    }

    #[test]
    fn round_trip_header_and_frames() {
        let bytes = tiny_avi(3);
        let avi = parse_avi(Path::new("t.avi"), &bytes).expect("parse");
        assert_eq!((avi.width, avi.height, avi.frame_count()), (16, 8, 3));
        assert_eq!(avi.fps, 50.0);
        assert_eq!(&avi.codec, b"MJPG");
        let f1 = avi.decode_frame(1).expect("decode");
        assert_eq!(f1.len(), 128);
        let expect: Vec<u8> = (0..128).map(|k| ((k * 2 + 40) % 256) as u8).collect();
        let max_err = f1
            .iter()
            .zip(&expect)
            .map(|(a, b)| a.abs_diff(*b))
            .max()
            .unwrap_or(0);
        assert!(max_err <= 12, "JPEG round trip error {max_err}");
        assert!(avi.decode_frame(3).is_err());
    }

    #[test]
    fn movi_scan_without_index_gives_same_frames() {
        let bytes = tiny_avi(4);
        let with_index = parse_avi(Path::new("t.avi"), &bytes).expect("parse");
        // Rename 'idx1' to 'JUNK' so the parser must scan 'movi'.
        let pos = bytes.windows(4).rposition(|w| w == b"idx1").expect("idx1");
        let mut no_index = bytes.clone();
        no_index[pos..pos + 4].copy_from_slice(b"JUNK");
        let scanned = parse_avi(Path::new("t.avi"), &no_index).expect("parse");
        assert_eq!(scanned.frame_count(), 4);
        for i in 0..4 {
            assert_eq!(scanned.jpeg(i), with_index.jpeg(i));
        }
    }

    #[test]
    fn zero_length_chunk_repeats_previous_frame() {
        let p = Path::new("t.avi");
        let a = encode_gray_jpeg(p, 0, &[7u8; 64], 8, 8, 90).expect("encode");
        let bytes = write_mjpeg_avi(&[a.clone(), Vec::new()], 8, 8, 25.0);
        let avi = parse_avi(p, &bytes).expect("parse");
        assert_eq!(avi.frame_count(), 2);
        assert_eq!(avi.jpeg(1), Some(&a[..]));
        let only_empty = write_mjpeg_avi(&[Vec::new()], 8, 8, 25.0);
        assert!(matches!(
            parse_avi(p, &only_empty),
            Err(EchoError::Avi { .. })
        ));
    }

    #[test]
    fn fractional_rates_survive() {
        assert_eq!(rate_scale(50.0), (50, 1));
        assert_eq!(rate_scale(29.97), (29970, 1000));
    }
}
