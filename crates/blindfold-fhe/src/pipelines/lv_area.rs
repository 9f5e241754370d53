//! `lv-area`: for each selected frame, the number of ROI-mask pixels whose
//! intensity is below a threshold (the dark left-ventricle blood pool).
//!
//! Construction: one lookup table `[p < threshold]` per pixel, summed
//! leveled. With low bit widths several pixels share one PBS: their fresh
//! ciphertexts are packed as `p0 + 2^b p1 + ...` (a leveled, exact sum) and
//! one table counts how many packed digits are below the threshold.
//!
//! **PBS count** = `frames * ceil(|mask| / m)` with `m = 4` for 1-bit,
//! `m = 2` for 2-bit and `m = 1` for 3- and 4-bit pixels (`frames` = number
//! of selected frames). So at most one PBS per input pixel.
//!
//! Output: one encrypted area per selected frame, as parts of at most 31
//! PBS outputs each (the client adds the parts on decryption).

use serde::{Deserialize, Serialize};

use super::{encode_u32s, pixels_per_pbs, select_frames, Mask, PlainOutput};
use crate::error::{FheError, Result};
use crate::eval::{LutSpec, Plan, PlanBuilder};
use crate::params::ParamSet;
use crate::video::{Geometry, PlainVideo};

const ID: &str = "lv-area";

/// Parameters of `lv-area`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LvAreaParams {
    /// Frames to measure (strictly increasing); empty = every frame.
    pub frames: Vec<u32>,
    /// The region of interest.
    pub mask: Mask,
    /// Count pixels with `value < threshold` (`0 ..= 2^bits`).
    pub threshold: u8,
}

impl LvAreaParams {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        encode_u32s(out, &self.frames);
        self.mask.encode(out);
        out.push(self.threshold);
    }

    fn check(&self, g: &Geometry) -> Result<(Vec<u32>, Vec<u32>)> {
        let invalid = |reason: String| FheError::InvalidParams {
            pipeline: ID,
            reason,
        };
        if u16::from(self.threshold) > 1u16 << g.bits {
            return Err(invalid(format!(
                "threshold {} exceeds 2^{} = {}",
                self.threshold,
                g.bits,
                1u16 << g.bits
            )));
        }
        let frames = select_frames(ID, &self.frames, g)?;
        let mask = self.mask.indices(g).map_err(invalid)?;
        Ok((frames, mask))
    }

    /// PBS count: `frames * ceil(|mask| / m)` (see the module docs).
    pub fn pbs_count(&self, g: &Geometry) -> Result<u64> {
        let (frames, mask) = self.check(g)?;
        let m = pixels_per_pbs(g.bits);
        Ok(frames.len() as u64 * mask.len().div_ceil(m) as u64)
    }

    /// The plaintext twin.
    pub fn plaintext(&self, video: &PlainVideo, g: &Geometry) -> Result<PlainOutput> {
        let (frames, mask) = self.check(g)?;
        let areas = frames
            .iter()
            .map(|&f| {
                let frame = &video.frames[f as usize];
                mask.iter()
                    .filter(|&&i| frame[i as usize] < self.threshold)
                    .count() as u64
            })
            .collect();
        Ok(PlainOutput::LvArea { areas })
    }

    /// The BFV program: the count below the threshold, per frame.
    pub(crate) fn bfv_program(&self, g: &Geometry) -> Result<blindfold_bfv::Program> {
        let (frames, mask) = self.check(g)?;
        Ok(blindfold_bfv::Program::CountBelow {
            frames,
            mask,
            threshold: self.threshold,
        })
    }

    pub(crate) fn plan(&self, param_set: ParamSet, g: &Geometry) -> Result<Plan> {
        let (frames, mask) = self.check(g)?;
        let b = u32::from(g.bits);
        let m = pixels_per_pbs(g.bits);
        let digit_mask = (1u64 << b) - 1;
        let t = u64::from(self.threshold);
        let mut pb = PlanBuilder::new(ID, param_set, *g);
        for &f in &frames {
            let out = pb.output(0);
            for group in mask.chunks(m) {
                let k = group.len();
                let lut = pb.lut(LutSpec::single(|x| {
                    (0..k)
                        .filter(|&i| (x >> (b * i as u32)) & digit_mask < t)
                        .count() as i64
                }));
                let inputs = group
                    .iter()
                    .enumerate()
                    .map(|(i, &px)| (px, 1u64 << (b * i as u32)))
                    .collect();
                let job = pb.job(f, inputs, lut)?;
                pb.add_sample(out, 1, job, 0, 1)?;
            }
        }
        Ok(pb.finish())
    }
}
