//! Running a pipeline ([`evaluate`]) and its output: the
//! [`EncryptedResult`] blob (deterministic `safe_serialize` bytes, whose
//! SHA-256 enters the commitment) and its client-side decryption.

// The Versionize derive generates helper types without Debug.
#![allow(missing_debug_implementations)]

use sha2::{Digest, Sha256};
use tfhe::safe_serialization::{safe_deserialize, safe_serialize};
use tfhe_versionable::deprecation::{Deprecable, Deprecated};
use tfhe_versionable::{Versionize, VersionsDispatch};

use crate::error::{FheError, Result};
use crate::eval::{execute, PartCt, Progress, Storage};
use crate::keys::{ClientKey, ServerKey};
use crate::params::{decode_window, decode_window_32};
use crate::params::{ParamSet, RESULT_LIMIT};
use crate::pipelines::{
    pipeline_from_wire_code, wire_code, PipelineId, PipelineParams, PlainOutput,
};
use crate::video::{EncryptedVideo, Geometry};

/// One part of an encrypted integer: an LWE ciphertext whose decoding,
/// times `scale`, contributes to the value. Where the noise allows it
/// ([`crate::eval`]'s part storage) the ciphertext is key-switched to the
/// small key, 32-bit ([`PartLwe::Small`], about 3.7 kB) instead of the
/// accumulated big-key one ([`PartLwe::Big`], about 16.4 kB); `log_delta`
/// is then on the 32-bit scale.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, Versionize)]
#[versionize(EncPartVersions)]
pub struct EncPart {
    scale: i64,
    log_delta: u8,
    lo: i64,
    lwe: PartLwe,
}

/// The ciphertext of an [`EncPart`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, Versionize)]
#[versionize(PartLweVersions)]
pub enum PartLwe {
    /// Under the big key: `k*N + 1` coefficients modulo 2^64.
    Big(Vec<u64>),
    /// Key-switched to the small key: `n + 1` coefficients modulo 2^32.
    Small(Vec<u32>),
}

impl PartLwe {
    fn from_data(ct: PartCt) -> Self {
        match ct {
            PartCt::Big(v) => PartLwe::Big(v),
            PartCt::Small(v) => PartLwe::Small(v),
        }
    }
}

#[derive(VersionsDispatch)]
#[doc(hidden)]
#[allow(dead_code)]
pub enum PartLweVersions {
    V0(PartLwe),
}

/// Result blobs before key-switched parts (every part a big-key `Vec<u64>`)
/// are refused with this name in the error.
const FORMAT_V1: &str = "blindfold result format v1 (key-switched parts)";

impl Deprecable for EncPart {
    const TYPE_NAME: &'static str = "blindfold::EncPart (all parts under the big key)";
    const MIN_SUPPORTED_APP_VERSION: &'static str = FORMAT_V1;
}

#[derive(VersionsDispatch)]
#[doc(hidden)]
#[allow(dead_code)]
pub enum EncPartVersions {
    V0(Deprecated<EncPart>),
    V1(EncPart),
}

/// An encrypted integer: `offset + sum(part.scale * decode(part))`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, Versionize)]
#[versionize(EncIntVersions)]
pub struct EncInt {
    offset: i64,
    parts: Vec<EncPart>,
}

#[derive(VersionsDispatch)]
#[doc(hidden)]
#[allow(dead_code)]
pub enum EncIntVersions {
    V0(EncInt),
}

/// The encrypted output of one pipeline run.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, Versionize)]
#[versionize(EncryptedResultVersions)]
pub struct EncryptedResult {
    param_set: u16,
    pipeline: u8,
    params_hash: [u8; 32],
    geometry: [u32; 4],
    values: Vec<EncInt>,
}

impl Deprecable for EncryptedResult {
    const TYPE_NAME: &'static str = "blindfold::EncryptedResult v0 (all parts under the big key)";
    const MIN_SUPPORTED_APP_VERSION: &'static str = FORMAT_V1;
}

/// V0: every part a big-key ciphertext (refused: re-run the job). V1: parts
/// key-switched to the small key where the noise allows.
#[derive(VersionsDispatch)]
#[doc(hidden)]
#[allow(dead_code)]
pub enum EncryptedResultVersions {
    V0(Deprecated<EncryptedResult>),
    V1(EncryptedResult),
}

/// Serialised bytes of the blob besides the parts' coefficients, bounded:
/// tfhe's header (type name, versions) and the result's fixed fields.
const FIXED_BYTES: u64 = 1024;
/// Bytes of one value besides its parts (version tag, offset, length).
const VALUE_BYTES: u64 = 32;
/// Bytes of one part besides its coefficients (version tags, scale,
/// log_delta, lo, variant, length).
const PART_BYTES: u64 = 64;

/// Noise of one decrypted part (see [`EncryptedResult::part_noise`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PartNoise {
    /// Whether the part was key-switched to the small key.
    pub key_switched: bool,
    /// log2 of the decoding scale on the 64-bit scale (after the shift of a
    /// key-switched part): the rounding limit is `2^(log_delta - 1)`.
    pub log_delta: u32,
    /// The decryption error on the 64-bit scale (32-bit errors times 2^32).
    pub error: f64,
}

impl PartNoise {
    /// Bits between the error and the rounding limit (negative: wrong value).
    pub fn margin_bits(&self) -> f64 {
        f64::from(self.log_delta - 1) - self.error.abs().max(1.0).log2()
    }
}

impl tfhe::named::Named for EncryptedResult {
    const NAME: &'static str = "blindfold::EncryptedResult";
}

/// Run `params` on `video` with `key`. Progress (PBS done / total) is
/// published through `progress`. Deterministic: the same key, params and
/// video give byte-identical [`EncryptedResult::to_bytes`] whatever the
/// number of rayon threads.
pub fn evaluate(
    key: &ServerKey,
    params: &PipelineParams,
    video: &EncryptedVideo,
    progress: &Progress,
) -> Result<EncryptedResult> {
    let param_set = key.param_set();
    video.validate(param_set)?;
    let g = video.geometry();
    let plan = params.plan(param_set, &g)?;
    let values = execute(&plan, key, video, progress)?;
    Ok(EncryptedResult {
        param_set: param_set.id(),
        pipeline: wire_code(params.id()),
        params_hash: params.params_hash(),
        geometry: [
            u32::from(g.width),
            u32::from(g.height),
            u32::from(g.bits),
            g.frames,
        ],
        values: values
            .into_iter()
            .map(|v| EncInt {
                offset: v.offset,
                parts: v
                    .parts
                    .into_iter()
                    .map(|p| EncPart {
                        scale: p.scale,
                        log_delta: p.log_delta,
                        lo: p.lo,
                        lwe: PartLwe::from_data(p.ct),
                    })
                    .collect(),
            })
            .collect(),
    })
}

impl EncryptedResult {
    /// The pipeline that produced this result.
    pub fn pipeline(&self) -> Result<PipelineId> {
        pipeline_from_wire_code(self.pipeline)
    }

    /// SHA-256 of the canonical params the result was computed with.
    pub fn params_hash(&self) -> [u8; 32] {
        self.params_hash
    }

    /// Number of LWE ciphertexts in the result.
    pub fn ciphertext_count(&self) -> usize {
        self.values.iter().map(|v| v.parts.len()).sum()
    }

    /// Number of parts key-switched to the small key (the others are
    /// big-key ciphertexts).
    pub fn key_switched_count(&self) -> usize {
        self.values
            .iter()
            .flat_map(|v| &v.parts)
            .filter(|p| matches!(p.lwe, PartLwe::Small(_)))
            .count()
    }

    /// Number of values (plan outputs) in the result.
    pub fn value_count(&self) -> usize {
        self.values.len()
    }

    /// Serialise with tfhe's `safe_serialize`. Deterministic.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        safe_serialize(self, &mut out, RESULT_LIMIT).map_err(|e| FheError::Serialize {
            what: "result",
            reason: e.to_string(),
        })?;
        Ok(out)
    }

    /// SHA-256 of [`to_bytes`](Self::to_bytes) (what the commitment binds).
    pub fn sha256(&self) -> Result<[u8; 32]> {
        Ok(Sha256::digest(self.to_bytes()?).into())
    }

    /// Load an untrusted result blob of unknown params (at most
    /// [`RESULT_LIMIT`] bytes). Its structure is checked against the params
    /// on [`decrypt`](Self::decrypt). Prefer
    /// [`from_bytes_as`](Self::from_bytes_as), bounded by the job's own limit.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::parse(bytes, RESULT_LIMIT)
    }

    fn parse(bytes: &[u8], limit: u64) -> Result<Self> {
        if bytes.len() as u64 > limit {
            return Err(FheError::TooLarge {
                what: "result",
                size: bytes.len() as u64,
                limit,
            });
        }
        safe_deserialize(bytes, limit).map_err(|reason| FheError::Deserialize {
            what: "result",
            reason,
        })
    }

    /// The largest result blob `params` can give on one video of geometry
    /// `g` under `param_set`, from its plan (no ciphertext needed): per
    /// part its stored coefficients (a key-switched part `4 * (n + 1)`
    /// bytes, else `8 * (k*N + 1)`) plus framing, capped at
    /// [`RESULT_LIMIT`]. An error if the params do not fit `g`.
    pub fn limit(param_set: ParamSet, params: &PipelineParams, g: &Geometry) -> Result<u64> {
        let plan = params.plan(param_set, g)?;
        let enc = param_set.encoding();
        let parts: u64 = plan
            .parts
            .iter()
            .map(|p| {
                PART_BYTES
                    + match p.storage(&enc) {
                        Storage::Big { .. } => 8 * enc.lwe_size as u64,
                        Storage::Small { .. } => 4 * enc.small_lwe_size as u64,
                    }
            })
            .sum();
        let bytes = FIXED_BYTES + VALUE_BYTES * plan.outputs.len() as u64 + parts;
        Ok(bytes.min(RESULT_LIMIT))
    }

    /// Load an untrusted result blob of `params` on a dataset of videos of
    /// `geometry`: refused unread if larger than [`limit`](Self::limit) (the
    /// parse is bounded by it too), then refused if it claims another
    /// geometry or lacks the structure the plan implies
    /// ([`check_structure`](Self::check_structure)).
    pub fn from_bytes_as(
        bytes: &[u8],
        param_set: ParamSet,
        params: &PipelineParams,
        geometry: &Geometry,
    ) -> Result<Self> {
        let limit = Self::limit(param_set, params, geometry)?;
        let result = Self::parse(bytes, limit)?;
        result.check_geometry(geometry)?;
        result.check_structure(param_set, params)?;
        Ok(result)
    }

    fn check_geometry(&self, geometry: &Geometry) -> Result<()> {
        let claimed = self.geometry()?;
        if claimed != *geometry {
            return Err(FheError::InvalidResult(format!(
                "the result claims geometry {claimed:?}, the dataset's is {geometry:?}"
            )));
        }
        Ok(())
    }

    fn geometry(&self) -> Result<Geometry> {
        let [w, h, bits, frames] = self.geometry;
        let bad = || FheError::InvalidResult(format!("bad geometry {:?}", self.geometry));
        Ok(Geometry {
            width: u16::try_from(w).map_err(|_| bad())?,
            height: u16::try_from(h).map_err(|_| bad())?,
            bits: u8::try_from(bits).map_err(|_| bad())?,
            frames,
        })
    }

    /// Check that the result has exactly the structure `params` implies
    /// (same pipeline, params hash, outputs, part scales and decode windows),
    /// so a malformed or forged blob cannot steer decryption.
    pub fn check_structure(&self, param_set: ParamSet, params: &PipelineParams) -> Result<()> {
        if self.param_set != param_set.id() {
            return Err(FheError::ParamSetMismatch {
                expected: param_set.name().into(),
                found: format!("id {}", self.param_set),
            });
        }
        if self.pipeline != wire_code(params.id()) || self.params_hash != params.params_hash() {
            return Err(FheError::InvalidResult(
                "the result was computed for other params".into(),
            ));
        }
        let g = self.geometry()?;
        let plan = params.plan(param_set, &g)?;
        let enc = param_set.encoding();
        if plan.outputs.len() != self.values.len() {
            return Err(FheError::InvalidResult(format!(
                "{} values, expected {}",
                self.values.len(),
                plan.outputs.len()
            )));
        }
        for (i, (o, v)) in plan.outputs.iter().zip(&self.values).enumerate() {
            if o.offset != v.offset || o.parts.len() != v.parts.len() {
                return Err(FheError::InvalidResult(format!(
                    "value {i} does not have the planned structure"
                )));
            }
            for (&p, part) in o.parts.iter().zip(&v.parts) {
                let pp = &plan.parts[p as usize];
                let stored_as_planned = match (pp.storage(&enc), &part.lwe) {
                    (Storage::Big { log_delta }, PartLwe::Big(lwe)) => {
                        u32::from(part.log_delta) == log_delta && lwe.len() == enc.lwe_size
                    }
                    (Storage::Small { log_delta, .. }, PartLwe::Small(lwe)) => {
                        u32::from(part.log_delta) == log_delta && lwe.len() == enc.small_lwe_size
                    }
                    _ => false,
                };
                if pp.scale != part.scale || pp.lo != part.lo || !stored_as_planned {
                    return Err(FheError::InvalidResult(format!(
                        "value {i} has a part that does not match the plan"
                    )));
                }
            }
        }
        Ok(())
    }

    /// [`decrypt`](Self::decrypt) a result of a dataset whose videos have
    /// `geometry`: the shape comes from the dataset, not from the blob, so a
    /// blob that claims another geometry is refused before anything is decoded.
    pub fn decrypt_as(
        &self,
        key: &ClientKey,
        params: &PipelineParams,
        geometry: &Geometry,
    ) -> Result<PlainOutput> {
        self.check_geometry(geometry)?;
        self.decrypt(key, params)
    }

    /// Decrypt (client side): check the structure against `params`, decode
    /// every part and shape the values like the plaintext twin's output.
    pub fn decrypt(&self, key: &ClientKey, params: &PipelineParams) -> Result<PlainOutput> {
        self.check_structure(key.param_set(), params)?;
        let g = self.geometry()?;
        let values = self
            .values
            .iter()
            .map(|v| decrypt_int(key, v))
            .collect::<Result<Vec<i64>>>()?;
        params.shape_output(&g, values)
    }
}

impl EncryptedResult {
    /// Noise diagnostic (client side): for every part, how many bits of
    /// margin remain between its decryption error and the rounding limit
    /// (half a decoding step). Returns the smallest margin over all parts
    /// (`f64::INFINITY` when there are no parts). Exact decryption needs a
    /// margin above 0; the budgets in [`crate::params::Encoding`] keep it
    /// large. The largest error seen (log2, 64-bit scale) is returned as well.
    pub fn noise_margin_bits(&self, key: &ClientKey) -> (f64, f64) {
        let noise = self.part_noise(key);
        let min_margin = noise
            .iter()
            .map(PartNoise::margin_bits)
            .fold(f64::INFINITY, f64::min);
        let max_err = noise
            .iter()
            .map(|n| n.error.abs().max(1.0).log2())
            .fold(f64::NEG_INFINITY, f64::max);
        (min_margin, max_err)
    }

    /// Noise diagnostic (client side): the decryption error of every part
    /// (parts whose `log_delta` or length is malformed are skipped).
    pub fn part_noise(&self, key: &ClientKey) -> Vec<PartNoise> {
        let mut out = Vec::new();
        for p in self.values.iter().flat_map(|v| &v.parts) {
            let log_delta = u32::from(p.log_delta);
            match &p.lwe {
                PartLwe::Big(lwe)
                    if (1..64).contains(&log_delta) && lwe.len() == key_lwe_len(key) =>
                {
                    let phase = key.phase(lwe);
                    let v = decode_window(phase, log_delta, p.lo);
                    let err = phase.wrapping_sub((v as u64).wrapping_shl(log_delta)) as i64;
                    out.push(PartNoise {
                        key_switched: false,
                        log_delta,
                        error: err as f64,
                    });
                }
                PartLwe::Small(lwe) if (1..32).contains(&log_delta) => {
                    let Some(phase) = key.small_phase(lwe) else {
                        continue;
                    };
                    let v = decode_window_32(phase, log_delta, p.lo);
                    let err = phase.wrapping_sub((v as u32).wrapping_shl(log_delta)) as i32;
                    out.push(PartNoise {
                        key_switched: true,
                        log_delta: log_delta + 32,
                        error: f64::from(err) * 2f64.powi(32),
                    });
                }
                _ => {}
            }
        }
        out
    }
}

fn key_lwe_len(key: &ClientKey) -> usize {
    key.param_set().encoding().lwe_size
}

/// One part's decoded value. The structure was checked against the plan
/// ([`EncryptedResult::check_structure`]): lengths and scales are the
/// planned ones.
fn decrypt_part(key: &ClientKey, p: &EncPart) -> Result<i64> {
    let log_delta = u32::from(p.log_delta);
    match &p.lwe {
        PartLwe::Big(lwe) => Ok(decode_window(key.phase(lwe), log_delta, p.lo)),
        PartLwe::Small(lwe) => {
            let phase = key.small_phase(lwe).ok_or_else(|| {
                FheError::InvalidResult("a key-switched part does not fit the small key".into())
            })?;
            Ok(decode_window_32(phase, log_delta, p.lo))
        }
    }
}

fn decrypt_int(key: &ClientKey, v: &EncInt) -> Result<i64> {
    let mut total = i128::from(v.offset);
    for p in &v.parts {
        total += i128::from(p.scale) * i128::from(decrypt_part(key, p)?);
    }
    i64::try_from(total).map_err(|_| FheError::InvalidResult(format!("value {total} overflows")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The V0 wire format (every part a big-key `Vec<u64>`), as it was.
    mod v0 {
        use tfhe_versionable::{Versionize, VersionsDispatch};

        #[derive(serde::Serialize, serde::Deserialize, Versionize)]
        #[versionize(EncPartVersions)]
        pub struct EncPart {
            pub scale: i64,
            pub log_delta: u8,
            pub lo: i64,
            pub lwe: Vec<u64>,
        }

        #[derive(VersionsDispatch)]
        #[allow(dead_code)]
        pub enum EncPartVersions {
            V0(EncPart),
        }

        #[derive(serde::Serialize, serde::Deserialize, Versionize)]
        #[versionize(EncIntVersions)]
        pub struct EncInt {
            pub offset: i64,
            pub parts: Vec<EncPart>,
        }

        #[derive(VersionsDispatch)]
        #[allow(dead_code)]
        pub enum EncIntVersions {
            V0(EncInt),
        }

        #[derive(serde::Serialize, serde::Deserialize, Versionize)]
        #[versionize(EncryptedResultVersions)]
        pub struct EncryptedResult {
            pub param_set: u16,
            pub pipeline: u8,
            pub params_hash: [u8; 32],
            pub geometry: [u32; 4],
            pub values: Vec<EncInt>,
        }

        #[derive(VersionsDispatch)]
        #[allow(dead_code)]
        pub enum EncryptedResultVersions {
            V0(EncryptedResult),
        }

        impl tfhe::named::Named for EncryptedResult {
            const NAME: &'static str = "blindfold::EncryptedResult";
        }
    }

    #[test]
    fn v0_blobs_are_refused_with_a_clear_error() {
        let old = v0::EncryptedResult {
            param_set: 1,
            pipeline: 1,
            params_hash: [0; 32],
            geometry: [4, 4, 4, 1],
            values: vec![v0::EncInt {
                offset: 0,
                parts: vec![v0::EncPart {
                    scale: 1,
                    log_delta: 59,
                    lo: 0,
                    lwe: vec![0; 2049],
                }],
            }],
        };
        let mut bytes = Vec::new();
        safe_serialize(&old, &mut bytes, RESULT_LIMIT).expect("serialise a V0 blob");
        let err = EncryptedResult::from_bytes(&bytes)
            .expect_err("a V0 blob must be refused")
            .to_string();
        assert!(
            err.contains("Deprecated") && err.contains(FORMAT_V1),
            "unclear error: {err}"
        );
    }
}
