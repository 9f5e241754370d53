//! The decoded, format-independent video every reader produces.
//!
//! Whatever the source (EchoNet AVI, DICOM, the phantom), frames end up as
//! 8-bit luminance, row-major, `width * height` bytes each.

use std::path::PathBuf;

/// A decoded grayscale video.
#[derive(Debug, Clone, PartialEq)]
pub struct GrayVideo {
    /// Where the video came from (used in error messages).
    pub source: PathBuf,
    /// Frame width in pixels.
    pub width: usize,
    /// Frame height in pixels.
    pub height: usize,
    /// Frames per second, when the source states it.
    pub fps: Option<f64>,
    /// Frames, each `width * height` bytes of luminance, row-major.
    pub frames: Vec<Vec<u8>>,
}

impl GrayVideo {
    /// Number of frames.
    pub fn frame_count(&self) -> usize {
        self.frames.len()
    }
}

/// ITU-R BT.601 luma of an 8-bit RGB pixel, in integer arithmetic.
///
/// The weights sum to 256, so a gray pixel stored as three equal channels
/// (as EchoNet does) maps back to exactly its value.
pub fn luma(r: u8, g: u8, b: u8) -> u8 {
    let y = 77 * u32::from(r) + 150 * u32::from(g) + 29 * u32::from(b) + 128;
    // The maximum is (256 * 255 + 128) >> 8 = 255, so this never truncates.
    (y >> 8) as u8
}

/// Luma of every pixel of interleaved RGB data (`RGBRGB...`).
pub fn rgb_to_luma(rgb: &[u8]) -> Vec<u8> {
    rgb.chunks_exact(3)
        .map(|p| luma(p[0], p[1], p[2]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gray_pixels_are_unchanged() {
        for v in 0..=255u8 {
            assert_eq!(luma(v, v, v), v);
        }
    }

    #[test]
    fn primaries_weigh_like_bt601() {
        assert_eq!(luma(255, 0, 0), 77);
        assert_eq!(luma(0, 255, 0), 149);
        assert_eq!(luma(0, 0, 255), 29);
        assert_eq!(rgb_to_luma(&[255, 0, 0, 10, 10, 10]), vec![77, 10]);
    }
}
