//! Where each pixel of a video sits in the SIMD slots.
//!
//! A frame of P pixels is cut into `chunks` segments of S slots, with
//! S = the next power of two >= P, at most one row (4096): so a segment
//! never straddles a row, and a rotate-and-add over log2(S) steps sums a
//! segment into its first slot. Segments follow each other frame by frame
//! (chunk by chunk inside a frame), N / S of them per ciphertext; the
//! unused slots are zero.
//!
//! ```text
//! 32x32 frames (P = 1024, S = 1024): 8 frames per ciphertext
//! slot:   0 ........ 1023 | 1024 ...... 2047 | ... | 7168 ...... 8191
//!         frame 0          frame 1                  frame 7
//! ```

use crate::error::{BfvError, Result};
use crate::params::{DEGREE, MAX_CIPHERTEXTS, MAX_PIXEL_BITS, ROW};

/// A video's geometry, as the BFV scheme sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Frame width in pixels.
    pub width: u16,
    /// Frame height in pixels.
    pub height: u16,
    /// Number of frames.
    pub frames: u32,
    /// Bits per pixel (1 ..= 4).
    pub bits: u8,
}

/// The slot layout of one [`Shape`] (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The shape laid out.
    pub shape: Shape,
    /// Pixels per frame.
    pub frame_pixels: usize,
    /// Slots per segment (a power of two, at most one row).
    pub segment: usize,
    /// Segments per frame.
    pub chunks: usize,
    /// Segments per ciphertext.
    pub per_ciphertext: usize,
    /// Ciphertexts per video.
    pub ciphertexts: usize,
}

impl Layout {
    /// Lays `shape` out, or says why it cannot be.
    pub fn new(shape: Shape) -> Result<Self> {
        if shape.width == 0 || shape.height == 0 || shape.frames == 0 {
            return Err(BfvError::Invalid(format!(
                "an empty video ({}x{}, {} frames)",
                shape.width, shape.height, shape.frames
            )));
        }
        if shape.bits == 0 || shape.bits > MAX_PIXEL_BITS {
            return Err(BfvError::Invalid(format!(
                "{}-bit pixels: BFV takes 1 to {MAX_PIXEL_BITS} bits",
                shape.bits
            )));
        }
        let frame_pixels = usize::from(shape.width) * usize::from(shape.height);
        let segment = frame_pixels.next_power_of_two().min(ROW);
        let chunks = frame_pixels.div_ceil(segment);
        let per_ciphertext = DEGREE / segment;
        let segments = shape.frames as usize * chunks;
        let ciphertexts = segments.div_ceil(per_ciphertext);
        if ciphertexts > MAX_CIPHERTEXTS {
            return Err(BfvError::Invalid(format!(
                "a video of {} frames of {}x{} needs {ciphertexts} ciphertexts, over the limit of {MAX_CIPHERTEXTS}",
                shape.frames, shape.width, shape.height
            )));
        }
        Ok(Layout {
            shape,
            frame_pixels,
            segment,
            chunks,
            per_ciphertext,
            ciphertexts,
        })
    }

    /// The ciphertext and first slot of chunk `chunk` of frame `frame`.
    pub fn segment_start(&self, frame: u32, chunk: usize) -> (usize, usize) {
        let seg = frame as usize * self.chunks + chunk;
        (
            seg / self.per_ciphertext,
            (seg % self.per_ciphertext) * self.segment,
        )
    }

    /// The ciphertext and slot of pixel `pixel` (row-major) of frame `frame`.
    pub fn place(&self, frame: u32, pixel: usize) -> (usize, usize) {
        let (ct, start) = self.segment_start(frame, pixel / self.segment);
        (ct, start + pixel % self.segment)
    }

    /// How many videos of this shape fit side by side in one ciphertext
    /// (their *classes*: video class `c` starts at segment `c * frames *
    /// chunks`); 1 when a video needs a whole ciphertext or more.
    pub fn classes(&self) -> usize {
        let m = self.shape.frames as usize * self.chunks;
        if self.ciphertexts == 1 {
            (self.per_ciphertext / m).max(1)
        } else {
            1
        }
    }

    /// Fails unless `class` is one of this shape's [`classes`](Self::classes).
    pub fn check_class(&self, class: u8) -> Result<()> {
        if usize::from(class) < self.classes() {
            Ok(())
        } else {
            Err(BfvError::Invalid(format!(
                "class {class}, but a ciphertext holds {} videos of this shape",
                self.classes()
            )))
        }
    }

    /// The layout of one pack: a video of `classes * frames` frames, each
    /// class's frames side by side (see `pack.rs`).
    pub fn pack(&self) -> Result<Layout> {
        Layout::new(Shape {
            frames: self.shape.frames * self.classes() as u32,
            ..self.shape
        })
    }

    /// The ciphertexts holding any of `frames`, ascending.
    pub fn ciphertexts_of(&self, frames: &[u32]) -> Vec<usize> {
        let mut cts: Vec<usize> = frames
            .iter()
            .flat_map(|&f| (0..self.chunks).map(move |c| self.segment_start(f, c).0))
            .collect();
        cts.sort_unstable();
        cts.dedup();
        cts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(width: u16, height: u16, frames: u32) -> Shape {
        Shape {
            width,
            height,
            frames,
            bits: 4,
        }
    }

    #[test]
    fn small_frames_share_a_ciphertext() {
        let l = Layout::new(shape(32, 32, 2)).unwrap();
        assert_eq!(
            (l.segment, l.chunks, l.per_ciphertext, l.ciphertexts),
            (1024, 1, 8, 1)
        );
        assert_eq!(l.place(1, 5), (0, 1029));
        let l = Layout::new(shape(30, 30, 9)).unwrap();
        assert_eq!((l.segment, l.ciphertexts), (1024, 2));
        assert_eq!(l.place(8, 0), (1, 0));
        assert_eq!(l.ciphertexts_of(&[0, 8]), vec![0, 1]);
    }

    #[test]
    fn large_frames_are_cut_into_rows() {
        let l = Layout::new(shape(112, 112, 2)).unwrap();
        assert_eq!(
            (l.segment, l.chunks, l.per_ciphertext, l.ciphertexts),
            (4096, 4, 2, 4)
        );
        assert_eq!(l.place(0, 4096), (0, 4096));
        assert_eq!(l.place(1, 12543), (3, 4096 + 12543 - 3 * 4096));
    }

    #[test]
    fn bad_shapes_are_refused() {
        assert!(Layout::new(shape(0, 32, 2)).is_err());
        assert!(Layout::new(Shape {
            bits: 5,
            ..shape(4, 4, 1)
        })
        .is_err());
        assert!(Layout::new(shape(4096, 4096, 4096)).is_err());
    }
}
