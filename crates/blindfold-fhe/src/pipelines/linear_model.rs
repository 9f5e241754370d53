//! `linear-model`: a researcher-supplied integer linear model over pooled
//! ROI features, one encrypted score per video:
//! `score = bias + sum(weight_i * feature_i)`, where a feature pools one
//! region of one frame:
//! * [`FeatureKind::IntensitySum`]: the sum of the region's pixel values;
//! * [`FeatureKind::DarkCount`]: the number of region pixels below a threshold.
//!
//! Construction: intensity sums are leveled (fresh pixels, fine encoding,
//! 0 PBS); dark counts use the `lv-area` table (with the same low-bit
//! packing). Each weight is applied as the public scale of the part that
//! pools its feature, so no weight ever multiplies noise.
//!
//! **PBS count** = `sum over DarkCount features with a non-zero weight of
//! ceil(|region| / m)`, with
//! `m` as in [`super::lv_area`] (4, 2, 1, 1 for 1..4-bit pixels).

use serde::{Deserialize, Serialize};

use super::{pixels_per_pbs, Mask, PlainOutput};
use crate::error::{FheError, Result};
use crate::eval::{LutSpec, Plan, PlanBuilder};
use crate::params::ParamSet;
use crate::video::{Geometry, PlainVideo};

const ID: &str = "linear-model";

/// Largest number of features.
pub const MAX_FEATURES: usize = 4096;

/// How a feature pools its region.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FeatureKind {
    /// Sum of pixel values.
    IntensitySum,
    /// Number of pixels with `value < threshold`.
    DarkCount {
        /// The threshold (`0 ..= 2^bits`).
        threshold: u8,
    },
}

/// One pooled feature and its weight.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feature {
    /// Frame index.
    pub frame: u32,
    /// Pooled region.
    pub region: Mask,
    /// Pooling.
    pub kind: FeatureKind,
    /// Model weight.
    pub weight: i32,
}

/// Parameters of `linear-model`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinearModelParams {
    /// The features (at most [`MAX_FEATURES`]).
    pub features: Vec<Feature>,
    /// Constant term.
    pub bias: i64,
}

struct Checked {
    feature: Feature,
    pixels: Vec<u32>,
}

impl LinearModelParams {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&(self.features.len() as u64).to_be_bytes());
        for f in &self.features {
            out.extend_from_slice(&f.frame.to_be_bytes());
            f.region.encode(out);
            match f.kind {
                FeatureKind::IntensitySum => out.push(0),
                FeatureKind::DarkCount { threshold } => {
                    out.push(1);
                    out.push(threshold);
                }
            }
            out.extend_from_slice(&f.weight.to_be_bytes());
        }
        out.extend_from_slice(&self.bias.to_be_bytes());
    }

    fn check(&self, g: &Geometry) -> Result<Vec<Checked>> {
        let invalid = |reason: String| FheError::InvalidParams {
            pipeline: ID,
            reason,
        };
        if self.features.len() > MAX_FEATURES {
            return Err(invalid(format!(
                "{} features exceed the limit of {MAX_FEATURES}",
                self.features.len()
            )));
        }
        let mut out = Vec::with_capacity(self.features.len());
        // Bound |score| so that decryption's i64 arithmetic cannot overflow.
        let mut bound = i128::from(self.bias).abs();
        for (i, f) in self.features.iter().enumerate() {
            if f.frame >= g.frames {
                return Err(invalid(format!(
                    "feature {i}: frame {} is outside the {}-frame video",
                    f.frame, g.frames
                )));
            }
            if let FeatureKind::DarkCount { threshold } = f.kind {
                if u16::from(threshold) > 1u16 << g.bits {
                    return Err(invalid(format!(
                        "feature {i}: threshold {threshold} exceeds 2^{}",
                        g.bits
                    )));
                }
            }
            let pixels = f
                .region
                .indices(g)
                .map_err(|e| invalid(format!("feature {i}: {e}")))?;
            let per_pixel = match f.kind {
                FeatureKind::IntensitySum => i128::from(g.max_pixel()),
                FeatureKind::DarkCount { .. } => 1,
            };
            bound += i128::from(f.weight).abs() * per_pixel * pixels.len() as i128;
            out.push(Checked {
                feature: f.clone(),
                pixels,
            });
        }
        if bound > i128::from(i64::MAX / 2) {
            return Err(invalid(format!("score bound {bound} exceeds 2^62")));
        }
        Ok(out)
    }

    /// PBS count: `sum over non-zero-weight DarkCount features of ceil(|region| / m)`.
    pub fn pbs_count(&self, g: &Geometry) -> Result<u64> {
        let m = pixels_per_pbs(g.bits);
        Ok(self
            .check(g)?
            .iter()
            .filter(|c| {
                c.feature.weight != 0 && matches!(c.feature.kind, FeatureKind::DarkCount { .. })
            })
            .map(|c| c.pixels.len().div_ceil(m) as u64)
            .sum())
    }

    /// The plaintext twin.
    pub fn plaintext(&self, video: &PlainVideo, g: &Geometry) -> Result<PlainOutput> {
        let mut score = self.bias;
        for c in self.check(g)? {
            let frame = &video.frames[c.feature.frame as usize];
            let value: i64 = match c.feature.kind {
                FeatureKind::IntensitySum => {
                    c.pixels.iter().map(|&i| i64::from(frame[i as usize])).sum()
                }
                FeatureKind::DarkCount { threshold } => c
                    .pixels
                    .iter()
                    .filter(|&&i| frame[i as usize] < threshold)
                    .count() as i64,
            };
            score += i64::from(c.feature.weight) * value;
        }
        Ok(PlainOutput::LinearModel { score })
    }

    /// The BFV program: one term per weighted feature; the bias is added
    /// on decryption (it is public).
    pub(crate) fn bfv_program(&self, g: &Geometry) -> Result<blindfold_bfv::Program> {
        let terms = self
            .check(g)?
            .into_iter()
            .filter(|c| c.feature.weight != 0)
            .map(|c| blindfold_bfv::Term {
                frame: c.feature.frame,
                pixels: c.pixels,
                below: match c.feature.kind {
                    FeatureKind::IntensitySum => None,
                    FeatureKind::DarkCount { threshold } => Some(threshold),
                },
                weight: i64::from(c.feature.weight),
            })
            .collect();
        Ok(blindfold_bfv::Program::Linear { terms })
    }

    pub(crate) fn plan(&self, param_set: ParamSet, g: &Geometry) -> Result<Plan> {
        let checked = self.check(g)?;
        let b = u32::from(g.bits);
        let m = pixels_per_pbs(g.bits);
        let digit_mask = (1u64 << b) - 1;
        let mut pb = PlanBuilder::new(ID, param_set, *g);
        let out = pb.output(self.bias);
        for c in checked {
            let w = i64::from(c.feature.weight);
            if w == 0 {
                continue;
            }
            match c.feature.kind {
                FeatureKind::IntensitySum => {
                    for &px in &c.pixels {
                        pb.add_pixel(out, w, c.feature.frame, px, 1)?;
                    }
                }
                FeatureKind::DarkCount { threshold } => {
                    let t = u64::from(threshold);
                    for group in c.pixels.chunks(m) {
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
                        let job = pb.job(c.feature.frame, inputs, lut)?;
                        pb.add_sample(out, w, job, 0, 1)?;
                    }
                }
            }
        }
        Ok(pb.finish())
    }
}
