//! Running a pipeline ([`evaluate`]) and its output: the
//! [`EncryptedResult`] blob (deterministic `safe_serialize` bytes, whose
//! SHA-256 enters the commitment) and its client-side decryption.

// The Versionize derive generates helper types without Debug.
#![allow(missing_debug_implementations)]

use sha2::{Digest, Sha256};
use tfhe::safe_serialization::{safe_deserialize, safe_serialize};
use tfhe_versionable::{Versionize, VersionsDispatch};

use crate::error::{FheError, Result};
use crate::eval::{execute, Progress};
use crate::keys::{ClientKey, ServerKey};
use crate::params::decode_window;
use crate::params::{ParamSet, RESULT_LIMIT};
use crate::pipelines::{
    pipeline_from_wire_code, wire_code, PipelineId, PipelineParams, PlainOutput,
};
use crate::video::{EncryptedVideo, Geometry};

/// One part of an encrypted integer: an LWE ciphertext under the big key
/// whose decoding, times `scale`, contributes to the value.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, Versionize)]
#[versionize(EncPartVersions)]
pub struct EncPart {
    scale: i64,
    log_delta: u8,
    lo: i64,
    lwe: Vec<u64>,
}

#[derive(VersionsDispatch)]
#[doc(hidden)]
#[allow(dead_code)]
pub enum EncPartVersions {
    V0(EncPart),
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

#[derive(VersionsDispatch)]
#[doc(hidden)]
#[allow(dead_code)]
pub enum EncryptedResultVersions {
    V0(EncryptedResult),
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
                        lwe: p.lwe,
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

    /// Load an untrusted result blob (at most [`RESULT_LIMIT`] bytes). Its
    /// structure is checked against the params on [`decrypt`](Self::decrypt).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        safe_deserialize(bytes, RESULT_LIMIT).map_err(|reason| FheError::Deserialize {
            what: "result",
            reason,
        })
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
                let log_delta = match pp.kind {
                    crate::eval::PartKind::Fine => enc.pixel_log_delta,
                    crate::eval::PartKind::Coarse => enc.pbs_out_log_delta,
                };
                if pp.scale != part.scale
                    || pp.lo != part.lo
                    || u32::from(part.log_delta) != log_delta
                    || part.lwe.len() != enc.lwe_size
                {
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
        let claimed = self.geometry()?;
        if claimed != *geometry {
            return Err(FheError::InvalidResult(format!(
                "the result claims geometry {claimed:?}, the dataset's is {geometry:?}"
            )));
        }
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
    /// large. The largest error seen (log2) is returned as well.
    pub fn noise_margin_bits(&self, key: &ClientKey) -> (f64, f64) {
        let mut min_margin = f64::INFINITY;
        let mut max_err = f64::NEG_INFINITY;
        for p in self.values.iter().flat_map(|v| &v.parts) {
            let log_delta = u32::from(p.log_delta);
            if !(1..64).contains(&log_delta) {
                continue;
            }
            let phase = key.phase(&p.lwe);
            let v = decode_window(phase, log_delta, p.lo);
            let err = phase.wrapping_sub((v as u64).wrapping_shl(log_delta)) as i64;
            let err_bits = (err.unsigned_abs().max(1) as f64).log2();
            max_err = max_err.max(err_bits);
            min_margin = min_margin.min(f64::from(log_delta - 1) - err_bits);
        }
        (min_margin, max_err)
    }
}

fn decrypt_int(key: &ClientKey, v: &EncInt) -> Result<i64> {
    let mut total = i128::from(v.offset);
    for p in &v.parts {
        let phase = key.phase(&p.lwe);
        let d = decode_window(phase, u32::from(p.log_delta), p.lo);
        total += i128::from(p.scale) * i128::from(d);
    }
    i64::try_from(total).map_err(|_| FheError::InvalidResult(format!("value {total} overflows")))
}
