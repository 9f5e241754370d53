//! `histogram`: a 16-bin intensity histogram per video: `bins[v]` is the
//! number of ROI pixels of the selected frames with value `v` (bins at or
//! above `2^bits` are always 0).
//!
//! Construction: one PBS per pixel with the one-hot table `[1, 0, .., 0]`.
//! A single blind rotation, sample-extracted at the 16 box offsets, gives
//! the one-hot vector of the pixel (see [`crate::eval`]); each bin sums its
//! sample over all pixels, leveled.
//!
//! **PBS count** = `frames * |mask|`.
//!
//! Output: 16 encrypted counts, each as parts of at most 31 samples.

use serde::{Deserialize, Serialize};

use super::{encode_u32s, select_frames, Mask, PlainOutput};
use crate::error::{FheError, Result};
use crate::eval::{LutSpec, Plan, PlanBuilder};
use crate::params::ParamSet;
use crate::video::{Geometry, PlainVideo};

const ID: &str = "histogram";

/// Number of histogram bins.
pub const BINS: usize = 16;

/// Parameters of `histogram`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistogramParams {
    /// Frames to include (strictly increasing); empty = every frame.
    pub frames: Vec<u32>,
    /// The region of interest.
    pub mask: Mask,
}

impl HistogramParams {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        encode_u32s(out, &self.frames);
        self.mask.encode(out);
    }

    fn check(&self, g: &Geometry) -> Result<(Vec<u32>, Vec<u32>)> {
        let frames = select_frames(ID, &self.frames, g)?;
        let mask = self
            .mask
            .indices(g)
            .map_err(|reason| FheError::InvalidParams {
                pipeline: ID,
                reason,
            })?;
        Ok((frames, mask))
    }

    /// PBS count: `frames * |mask|`.
    pub fn pbs_count(&self, g: &Geometry) -> Result<u64> {
        let (frames, mask) = self.check(g)?;
        Ok(frames.len() as u64 * mask.len() as u64)
    }

    /// The plaintext twin.
    pub fn plaintext(&self, video: &PlainVideo, g: &Geometry) -> Result<PlainOutput> {
        let (frames, mask) = self.check(g)?;
        let mut bins = vec![0u64; BINS];
        for &f in &frames {
            let frame = &video.frames[f as usize];
            for &i in &mask {
                bins[usize::from(frame[i as usize])] += 1;
            }
        }
        Ok(PlainOutput::Histogram { bins })
    }

    /// The BFV program: 16 bins over every selected frame's mask.
    pub(crate) fn bfv_program(&self, g: &Geometry) -> Result<blindfold_bfv::Program> {
        let (frames, mask) = self.check(g)?;
        Ok(blindfold_bfv::Program::Histogram { frames, mask })
    }

    pub(crate) fn plan(&self, param_set: ParamSet, g: &Geometry) -> Result<Plan> {
        let (frames, mask) = self.check(g)?;
        let levels = 1u64 << g.bits;
        let mut pb = PlanBuilder::new(ID, param_set, *g);
        let outputs: Vec<u32> = (0..BINS).map(|_| pb.output(0)).collect();
        let lut = pb.lut(LutSpec::one_hot());
        for &f in &frames {
            for &px in &mask {
                let job = pb.job(f, vec![(px, 1)], lut)?;
                for v in 0..levels {
                    let (sample, sign) = LutSpec::one_hot_sample(v);
                    pb.add_sample(outputs[v as usize], 1, job, sample, sign)?;
                }
            }
        }
        Ok(pb.finish())
    }
}
