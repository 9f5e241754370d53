//! Ids and primitives: the vocabulary the hash layouts ([`crate::hash`])
//! and the records ([`crate::types`], which re-exports all of this) share.
//!
//! - Primitives: [`Hash`], [`Account`], [`DatasetId`], [`JobId`], [`Balance`]
//!   (and its [`UNIT`]), [`Timestamp`] (milliseconds), [`MilliEpsilon`].
//! - [`PipelineId`] and [`PipelineSet`] (a bitmask of allowed pipelines).
//!
//! These are the one spelling of each for the whole workspace: the chain
//! layer and the blob store re-export them rather than define their own.

use core::fmt;
use core::str::FromStr;

/// A SHA-256 digest.
pub type Hash = [u8; 32];
/// A 32-byte account id (SCALE-identical to ink!'s `AccountId`).
pub type Account = [u8; 32];
/// Dataset id, assigned by the contract from 0 upwards.
pub type DatasetId = u32;
/// Job id, assigned by the contract from 0 upwards.
pub type JobId = u64;
/// Native token amount (the chain's `Balance`).
pub type Balance = u128;
/// One unit of the dev chains' token: 10^12 base units (12 decimals).
pub const UNIT: Balance = 1_000_000_000_000;
/// Milliseconds since the Unix epoch (`block_timestamp`).
pub type Timestamp = u64;
/// Differential-privacy epsilon in fixed point: 1000 = epsilon 1.0.
pub type MilliEpsilon = u64;

/// The computation a job runs. Encoded as one byte (its discriminant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "ink", ink::scale_derive(Encode, Decode, TypeInfo))]
#[cfg_attr(
    all(feature = "ink", feature = "std"),
    derive(ink::storage::traits::StorageLayout)
)]
#[repr(u8)]
pub enum PipelineId {
    /// Dark-pixel area inside a region of interest, per frame.
    LvArea = 0,
    /// A plaintext 3x3 kernel applied to every frame.
    Conv3x3 = 1,
    /// A 16-bin intensity histogram per video.
    Histogram = 2,
    /// A plaintext integer linear model over pooled ROI features.
    LinearModel = 3,
}

/// A pipeline name or number that is not one of [`PipelineId::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownPipeline;

impl fmt::Display for UnknownPipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unknown pipeline (expected lv-area, conv3x3, histogram or linear-model)")
    }
}

impl core::error::Error for UnknownPipeline {}

impl PipelineId {
    /// Every pipeline, in id order.
    pub const ALL: [PipelineId; 4] = [
        PipelineId::LvArea,
        PipelineId::Conv3x3,
        PipelineId::Histogram,
        PipelineId::LinearModel,
    ];

    /// The wire byte (also the byte hashed into a commitment).
    pub const fn as_u8(self) -> u8 {
        self as u8
    }

    /// The pipeline with wire byte `value`, if any.
    pub const fn from_u8(value: u8) -> Option<Self> {
        match value {
            0 => Some(PipelineId::LvArea),
            1 => Some(PipelineId::Conv3x3),
            2 => Some(PipelineId::Histogram),
            3 => Some(PipelineId::LinearModel),
            _ => None,
        }
    }

    /// The canonical name: `lv-area`, `conv3x3`, `histogram`, `linear-model`.
    pub const fn as_str(self) -> &'static str {
        match self {
            PipelineId::LvArea => "lv-area",
            PipelineId::Conv3x3 => "conv3x3",
            PipelineId::Histogram => "histogram",
            PipelineId::LinearModel => "linear-model",
        }
    }

    /// This pipeline's bit in a [`PipelineSet`].
    pub const fn bit(self) -> u8 {
        1u8 << (self as u8)
    }
}

impl fmt::Display for PipelineId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PipelineId {
    type Err = UnknownPipeline;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PipelineId::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or(UnknownPipeline)
    }
}

impl TryFrom<u8> for PipelineId {
    type Error = UnknownPipeline;

    fn try_from(value: u8) -> Result<Self, Self::Error> {
        PipelineId::from_u8(value).ok_or(UnknownPipeline)
    }
}

/// A set of pipelines as a bitmask: bit `i` is the pipeline with wire byte `i`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "ink", ink::scale_derive(Encode, Decode, TypeInfo))]
#[cfg_attr(
    all(feature = "ink", feature = "std"),
    derive(ink::storage::traits::StorageLayout)
)]
pub struct PipelineSet(pub u8);

impl PipelineSet {
    /// No pipeline.
    pub const EMPTY: PipelineSet = PipelineSet(0);
    /// Every known pipeline.
    pub const ALL: PipelineSet = PipelineSet(0b1111);

    /// The set holding exactly `pipelines`.
    pub fn of(pipelines: &[PipelineId]) -> Self {
        pipelines
            .iter()
            .fold(PipelineSet::EMPTY, |set, p| set.with(*p))
    }

    /// This set plus `pipeline`.
    pub const fn with(self, pipeline: PipelineId) -> Self {
        PipelineSet(self.0 | pipeline.bit())
    }

    /// Whether `pipeline` is in the set.
    pub const fn contains(self, pipeline: PipelineId) -> bool {
        self.0 & pipeline.bit() != 0
    }

    /// Non-empty, and no bit outside the known pipelines.
    pub const fn is_valid(self) -> bool {
        self.0 != 0 && self.0 & !PipelineSet::ALL.0 == 0
    }

    /// The pipelines in the set, in id order.
    pub fn iter(self) -> impl Iterator<Item = PipelineId> {
        PipelineId::ALL
            .into_iter()
            .filter(move |p| self.contains(*p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipeline_names_round_trip() {
        for p in PipelineId::ALL {
            assert_eq!(p.as_str().parse::<PipelineId>(), Ok(p));
            assert_eq!(PipelineId::from_u8(p.as_u8()), Some(p));
        }
        assert_eq!("lv-area".parse::<PipelineId>(), Ok(PipelineId::LvArea));
        assert_eq!(PipelineId::LinearModel.as_u8(), 3);
        assert_eq!("lv_area".parse::<PipelineId>(), Err(UnknownPipeline));
        assert_eq!(PipelineId::try_from(4), Err(UnknownPipeline));
    }

    #[test]
    fn pipeline_set_bits() {
        let set = PipelineSet::of(&[PipelineId::LvArea, PipelineId::Histogram]);
        assert_eq!(set, PipelineSet(0b0101));
        assert!(set.contains(PipelineId::Histogram));
        assert!(!set.contains(PipelineId::Conv3x3));
        assert!(set.is_valid());
        assert!(!PipelineSet::EMPTY.is_valid());
        assert!(!PipelineSet(0b1_0000).is_valid());
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            [PipelineId::LvArea, PipelineId::Histogram]
        );
    }
}
