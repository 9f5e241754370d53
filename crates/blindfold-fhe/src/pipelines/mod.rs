//! The pipelines of the design, behind one dispatch type.
//!
//! * [`lv_area`]: dark-pixel area inside a ROI mask, per frame.
//! * [`conv3x3`]: a 3x3 integer kernel on every frame (exact, leveled).
//! * [`histogram`]: a 16-bin intensity histogram per video.
//! * [`linear_model`]: an integer linear model over pooled ROI features.
//!
//! Each module has a serde params struct, its `plaintext` twin (which returns
//! exactly what decryption returns), its documented PBS-count formula and its
//! plan (see [`crate::eval`]). [`PipelineParams`] wraps them and gives the
//! canonical byte encoding whose SHA-256 is the job's params hash.

pub mod conv3x3;
pub mod histogram;
pub mod linear_model;
pub mod lv_area;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{FheError, Result};
use crate::eval::Plan;
use crate::params::ParamSet;
use crate::video::{Geometry, PlainVideo};

pub use conv3x3::Conv3x3Params;
pub use histogram::HistogramParams;
pub use linear_model::{Feature, FeatureKind, LinearModelParams};
pub use lv_area::LvAreaParams;

/// Domain tag prefixed to the canonical params encoding.
pub const PARAMS_DOMAIN_TAG: &[u8] = b"blindfold/v1/params";

/// The one pipeline vocabulary, shared with the contract and every client:
/// `blindfold_protocol::PipelineId` (names `lv-area`, `conv3x3`,
/// `histogram`, `linear-model`; on-chain byte 0..=3).
pub use blindfold_protocol::PipelineId;

/// The byte that names a pipeline in the FHE wire formats (the canonical
/// params encoding, hence every params hash, and the result header): 1-based,
/// `lv-area` = 1 … `linear-model` = 4, fixed since the first release. The
/// on-chain byte is [`PipelineId::as_u8`] (0-based). Both are fixed; only this
/// function and [`pipeline_from_wire_code`] translate.
pub const fn wire_code(pipeline: PipelineId) -> u8 {
    pipeline.as_u8() + 1
}

/// The pipeline whose [`wire_code`] is `code`.
pub fn pipeline_from_wire_code(code: u8) -> Result<PipelineId> {
    code.checked_sub(1)
        .and_then(PipelineId::from_u8)
        .ok_or_else(|| FheError::InvalidResult(format!("unknown pipeline code {code}")))
}

/// A set of pixels of a frame.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mask {
    /// Every pixel.
    All,
    /// The rectangle `x .. x + width`, `y .. y + height`.
    Rect {
        /// Left column.
        x: u16,
        /// Top row.
        y: u16,
        /// Width in pixels.
        width: u16,
        /// Height in pixels.
        height: u16,
    },
    /// Explicit row-major pixel indices, strictly increasing.
    Pixels(Vec<u32>),
}

impl Mask {
    /// The selected pixel indices (row-major), after checking them against `g`.
    pub fn indices(&self, g: &Geometry) -> std::result::Result<Vec<u32>, String> {
        let n = g.frame_pixels() as u64;
        match self {
            Mask::All => Ok((0..n as u32).collect()),
            Mask::Rect {
                x,
                y,
                width,
                height,
            } => {
                if *width == 0 || *height == 0 {
                    return Err("empty rectangle mask".into());
                }
                if u32::from(*x) + u32::from(*width) > u32::from(g.width)
                    || u32::from(*y) + u32::from(*height) > u32::from(g.height)
                {
                    return Err(format!(
                        "rectangle {width}x{height}+{x}+{y} exceeds the {}x{} frame",
                        g.width, g.height
                    ));
                }
                let w = u32::from(g.width);
                Ok((u32::from(*y)..u32::from(*y) + u32::from(*height))
                    .flat_map(|r| {
                        (u32::from(*x)..u32::from(*x) + u32::from(*width)).map(move |c| r * w + c)
                    })
                    .collect())
            }
            Mask::Pixels(px) => {
                if px.is_empty() {
                    return Err("empty pixel mask".into());
                }
                if px.windows(2).any(|w| w[0] >= w[1]) {
                    return Err("mask pixel indices are not strictly increasing".into());
                }
                if let Some(&last) = px.last() {
                    if u64::from(last) >= n {
                        return Err(format!("mask pixel {last} is outside the {n}-pixel frame"));
                    }
                }
                Ok(px.clone())
            }
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Mask::All => out.push(0),
            Mask::Rect {
                x,
                y,
                width,
                height,
            } => {
                out.push(1);
                for v in [x, y, width, height] {
                    out.extend_from_slice(&v.to_be_bytes());
                }
            }
            Mask::Pixels(px) => {
                out.push(2);
                encode_u32s(out, px);
            }
        }
    }
}

fn encode_u32s(out: &mut Vec<u8>, values: &[u32]) {
    out.extend_from_slice(&(values.len() as u64).to_be_bytes());
    for v in values {
        out.extend_from_slice(&v.to_be_bytes());
    }
}

/// Resolve a frame selection (empty = every frame) against `g`.
pub(crate) fn select_frames(
    pipeline: &'static str,
    frames: &[u32],
    g: &Geometry,
) -> Result<Vec<u32>> {
    if frames.is_empty() {
        return Ok((0..g.frames).collect());
    }
    if frames.windows(2).any(|w| w[0] >= w[1]) {
        return Err(FheError::InvalidParams {
            pipeline,
            reason: "frame indices are not strictly increasing".into(),
        });
    }
    if let Some(&f) = frames.iter().find(|&&f| f >= g.frames) {
        return Err(FheError::InvalidParams {
            pipeline,
            reason: format!("frame {f} is outside the {}-frame video", g.frames),
        });
    }
    Ok(frames.to_vec())
}

/// Pixels per PBS when packing `bits`-bit pixels into the 16-slot PBS input.
pub(crate) fn pixels_per_pbs(bits: u8) -> usize {
    match bits {
        1 => 4,
        2 => 2,
        _ => 1,
    }
}

/// Parameters of one job: the pipeline and its settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "pipeline", content = "params")]
pub enum PipelineParams {
    /// `lv-area`
    #[serde(rename = "lv-area")]
    LvArea(LvAreaParams),
    /// `conv3x3`
    #[serde(rename = "conv3x3")]
    Conv3x3(Conv3x3Params),
    /// `histogram`
    #[serde(rename = "histogram")]
    Histogram(HistogramParams),
    /// `linear-model`
    #[serde(rename = "linear-model")]
    LinearModel(LinearModelParams),
}

/// What decryption (and the plaintext twin) returns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "pipeline", rename_all = "kebab-case")]
pub enum PlainOutput {
    /// Dark-pixel area per selected frame.
    LvArea {
        /// One area per selected frame, in selection order.
        areas: Vec<u64>,
    },
    /// Filtered images.
    Conv3x3 {
        /// Output width (input width - 2).
        width: u16,
        /// Output height (input height - 2).
        height: u16,
        /// One row-major image per selected frame.
        frames: Vec<Vec<i64>>,
    },
    /// Pixel counts per intensity value.
    Histogram {
        /// `bins[v]` = number of selected pixels with value `v`.
        bins: Vec<u64>,
    },
    /// Model score.
    LinearModel {
        /// `bias + sum(weight * feature)`.
        score: i64,
    },
}

impl PipelineParams {
    /// The pipeline id.
    pub fn id(&self) -> PipelineId {
        match self {
            PipelineParams::LvArea(_) => PipelineId::LvArea,
            PipelineParams::Conv3x3(_) => PipelineId::Conv3x3,
            PipelineParams::Histogram(_) => PipelineId::Histogram,
            PipelineParams::LinearModel(_) => PipelineId::LinearModel,
        }
    }

    /// Canonical byte encoding: the domain tag, the pipeline code, then
    /// every field in declaration order, fixed width and big-endian
    /// (sequences are prefixed by a u64 length). Independent of serde.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = PARAMS_DOMAIN_TAG.to_vec();
        out.push(wire_code(self.id()));
        match self {
            PipelineParams::LvArea(p) => p.encode(&mut out),
            PipelineParams::Conv3x3(p) => p.encode(&mut out),
            PipelineParams::Histogram(p) => p.encode(&mut out),
            PipelineParams::LinearModel(p) => p.encode(&mut out),
        }
        out
    }

    /// SHA-256 of [`canonical_bytes`](Self::canonical_bytes): the job's params hash.
    pub fn params_hash(&self) -> [u8; 32] {
        Sha256::digest(self.canonical_bytes()).into()
    }

    /// Compile the evaluation plan (validates the params against `g`).
    pub(crate) fn plan(&self, param_set: ParamSet, g: &Geometry) -> Result<Plan> {
        g.validate(param_set)?;
        match self {
            PipelineParams::LvArea(p) => p.plan(param_set, g),
            PipelineParams::Conv3x3(p) => p.plan(param_set, g),
            PipelineParams::Histogram(p) => p.plan(param_set, g),
            PipelineParams::LinearModel(p) => p.plan(param_set, g),
        }
    }

    /// The BFV program of these params on videos of geometry `g`, laid
    /// out (validates the params against `g` and BFV's own limits).
    pub fn bfv_plan(&self, g: &Geometry) -> Result<blindfold_bfv::Plan> {
        let program = match self {
            PipelineParams::LvArea(p) => p.bfv_program(g)?,
            PipelineParams::Conv3x3(p) => p.bfv_program(g)?,
            PipelineParams::Histogram(p) => p.bfv_program(g)?,
            PipelineParams::LinearModel(p) => p.bfv_program(g)?,
        };
        let layout = blindfold_bfv::Layout::new(crate::scheme::bfv_shape(g))?;
        Ok(program.plan(&layout)?)
    }

    /// Shape the values a BFV plan decrypts to (one per output).
    pub(crate) fn shape_bfv_output(
        &self,
        g: &Geometry,
        mut values: Vec<i64>,
    ) -> Result<PlainOutput> {
        if let PipelineParams::LinearModel(p) = self {
            let v = values.first().copied().unwrap_or(0);
            values = vec![v + p.bias];
        }
        self.shape_output(g, values)
    }

    /// Check the params against a video geometry.
    pub fn validate(&self, param_set: ParamSet, g: &Geometry) -> Result<()> {
        self.plan(param_set, g).map(|_| ())
    }

    /// The number of PBS an evaluation executes, from the documented
    /// closed-form formula of the pipeline (see each module).
    pub fn pbs_count(&self, g: &Geometry) -> Result<u64> {
        match self {
            PipelineParams::LvArea(p) => p.pbs_count(g),
            PipelineParams::Conv3x3(p) => p.pbs_count(g),
            PipelineParams::Histogram(p) => p.pbs_count(g),
            PipelineParams::LinearModel(p) => p.pbs_count(g),
        }
    }

    /// The plaintext twin: exactly what decrypting the FHE result returns.
    pub fn plaintext(&self, video: &PlainVideo) -> Result<PlainOutput> {
        let g = video.geometry();
        match self {
            PipelineParams::LvArea(p) => p.plaintext(video, &g),
            PipelineParams::Conv3x3(p) => p.plaintext(video, &g),
            PipelineParams::Histogram(p) => p.plaintext(video, &g),
            PipelineParams::LinearModel(p) => p.plaintext(video, &g),
        }
    }

    /// Shape the decrypted values (one per plan output) into a [`PlainOutput`].
    pub(crate) fn shape_output(&self, g: &Geometry, values: Vec<i64>) -> Result<PlainOutput> {
        let unsigned = |values: Vec<i64>| -> Result<Vec<u64>> {
            values
                .into_iter()
                .map(|v| {
                    u64::try_from(v)
                        .map_err(|_| FheError::InvalidResult(format!("negative count {v}")))
                })
                .collect()
        };
        Ok(match self {
            PipelineParams::LvArea(_) => PlainOutput::LvArea {
                areas: unsigned(values)?,
            },
            PipelineParams::Histogram(_) => PlainOutput::Histogram {
                bins: unsigned(values)?,
            },
            PipelineParams::Conv3x3(_) => {
                let w = g.width.saturating_sub(2);
                let h = g.height.saturating_sub(2);
                let per = usize::from(w) * usize::from(h);
                PlainOutput::Conv3x3 {
                    width: w,
                    height: h,
                    frames: values.chunks(per.max(1)).map(<[i64]>::to_vec).collect(),
                }
            }
            PipelineParams::LinearModel(_) => PlainOutput::LinearModel {
                score: values.first().copied().unwrap_or_default(),
            },
        })
    }
}
