//! `conv3x3`: a plaintext 3x3 integer kernel (blur, sharpen, Sobel, ...)
//! applied to every selected frame, exactly:
//! `out[y][x] = sum(kernel[dy][dx] * in[y + dy][x + dx])` for the
//! `(width - 2) x (height - 2)` "valid" positions (no padding, no division:
//! a blur's normalisation is left to the reader of the result).
//!
//! Construction: fully leveled. Pixels are encrypted with 20 bits of
//! headroom (see [`crate::params::Encoding`]), so a weighted sum of 9 fresh
//! pixel ciphertexts decodes exactly without any bootstrap.
//!
//! **PBS count** = 0.
//!
//! Output: one encrypted value per output pixel (one part each).

use serde::{Deserialize, Serialize};

use super::{encode_u32s, select_frames, PlainOutput};
use crate::error::{FheError, Result};
use crate::eval::{Plan, PlanBuilder};
use crate::params::ParamSet;
use crate::video::{Geometry, PlainVideo};

const ID: &str = "conv3x3";

/// Parameters of `conv3x3`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conv3x3Params {
    /// Frames to filter (strictly increasing); empty = every frame.
    pub frames: Vec<u32>,
    /// Row-major kernel `[k00, k01, k02, k10, .., k22]`.
    pub kernel: [i8; 9],
}

impl Conv3x3Params {
    /// The 3x3 box blur (all ones).
    pub const BOX_BLUR: [i8; 9] = [1; 9];
    /// The horizontal Sobel kernel.
    pub const SOBEL_X: [i8; 9] = [-1, 0, 1, -2, 0, 2, -1, 0, 1];
    /// A sharpening kernel.
    pub const SHARPEN: [i8; 9] = [0, -1, 0, -1, 5, -1, 0, -1, 0];

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        encode_u32s(out, &self.frames);
        out.extend(self.kernel.iter().map(|&k| k as u8));
    }

    fn check(&self, g: &Geometry) -> Result<Vec<u32>> {
        if g.width < 3 || g.height < 3 {
            return Err(FheError::InvalidParams {
                pipeline: ID,
                reason: format!("frames of {}x{} are smaller than 3x3", g.width, g.height),
            });
        }
        select_frames(ID, &self.frames, g)
    }

    /// PBS count: 0 (leveled).
    pub fn pbs_count(&self, g: &Geometry) -> Result<u64> {
        self.check(g)?;
        Ok(0)
    }

    fn taps(&self, g: &Geometry, x: usize, y: usize) -> impl Iterator<Item = (u32, i64)> + '_ {
        let w = usize::from(g.width);
        (0..9).map(move |t| {
            let (dy, dx) = (t / 3, t % 3);
            (((y + dy) * w + x + dx) as u32, i64::from(self.kernel[t]))
        })
    }

    /// The plaintext twin.
    pub fn plaintext(&self, video: &PlainVideo, g: &Geometry) -> Result<PlainOutput> {
        let frames = self.check(g)?;
        let (ow, oh) = (usize::from(g.width) - 2, usize::from(g.height) - 2);
        let images = frames
            .iter()
            .map(|&f| {
                let frame = &video.frames[f as usize];
                let mut img = Vec::with_capacity(ow * oh);
                for y in 0..oh {
                    for x in 0..ow {
                        img.push(
                            self.taps(g, x, y)
                                .map(|(i, k)| k * i64::from(frame[i as usize]))
                                .sum(),
                        );
                    }
                }
                img
            })
            .collect();
        Ok(PlainOutput::Conv3x3 {
            width: g.width - 2,
            height: g.height - 2,
            frames: images,
        })
    }

    /// The BFV program: the same valid convolution, by rotations.
    pub(crate) fn bfv_program(&self, g: &Geometry) -> Result<blindfold_bfv::Program> {
        let frames = self.check(g)?;
        Ok(blindfold_bfv::Program::Conv3x3 {
            frames,
            kernel: self.kernel,
        })
    }

    pub(crate) fn plan(&self, param_set: ParamSet, g: &Geometry) -> Result<Plan> {
        let frames = self.check(g)?;
        let (ow, oh) = (usize::from(g.width) - 2, usize::from(g.height) - 2);
        let mut pb = PlanBuilder::new(ID, param_set, *g);
        for &f in &frames {
            for y in 0..oh {
                for x in 0..ow {
                    let out = pb.output(0);
                    for (px, k) in self.taps(g, x, y) {
                        if k != 0 {
                            pb.add_pixel(out, 1, f, px, k)?;
                        }
                    }
                }
            }
        }
        Ok(pb.finish())
    }
}
