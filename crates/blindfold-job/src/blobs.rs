//! The public blobs the roles exchange through the blob store. Each is
//! content-addressed: its SHA-256 is what the chain records.
//!
//! | blob | written by | hash on chain as | format |
//! |---|---|---|---|
//! | [`DatasetMetadata`] | data owner | dataset `metadata_hash` | JSON |
//! | compressed server key | data owner | dataset `server_key_hash` | tfhe `safe_serialize` |
//! | encrypted video | data owner | one submission hash | tfhe `safe_serialize` |
//! | [`JobSpec`] | researcher | job `params_hash` | JSON |
//! | [`ResultBundle`] | worker | revealed `result_blob_hash` | binary, below |
//! | [`ReleasedResult`] | data owner | job `released_hash` | JSON |
//!
//! A [`ReleasedResult`] of `lv-area` holds, per video ([`ReleasedVideo`]),
//! the area curve, the EF estimate and, on whole-cycle curves, each beat
//! ([`ReleasedBeat`]) with the beat-to-beat spread.
//!
//! Every parser takes untrusted bytes and answers a [`BlobError`] naming the
//! problem; none panics.

use std::collections::BTreeMap;

use blindfold_fhe::{Geometry, PipelineParams, Scheme};
use blindfold_protocol::types::{Hash, JobId};
use serde::{Deserialize, Serialize};

/// The format tag of [`DatasetMetadata`].
pub const DATASET_FORMAT: &str = "blindfold/v2/dataset";
/// The format tag of [`JobSpec`].
pub const JOB_FORMAT: &str = "blindfold/v1/job";
/// The format tag of [`ReleasedResult`].
pub const RELEASED_FORMAT: &str = "blindfold/v1/released";
/// The magic prefix of a [`ResultBundle`].
pub const RESULT_MAGIC: &[u8; 21] = b"blindfold/v1/results\0";
/// The only evaluation backend whose results are reproducible bit for bit
/// across machines today.
pub const BACKEND_CPU: &str = "cpu";
/// Largest metadata or job-spec JSON accepted (bytes).
pub const JSON_LIMIT: u64 = 4 << 20;

/// A blob that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// Not valid JSON of the expected shape.
    #[error("{what} is not valid: {reason}")]
    Malformed {
        /// Which blob.
        what: &'static str,
        /// The parser's complaint.
        reason: String,
    },
    /// A well-formed blob of another format or version.
    #[error("{what} has format '{found}', expected '{expected}'")]
    WrongFormat {
        /// Which blob.
        what: &'static str,
        /// Its format tag.
        found: String,
        /// The supported tag.
        expected: &'static str,
    },
}

fn malformed(what: &'static str, reason: impl ToString) -> BlobError {
    BlobError::Malformed {
        what,
        reason: reason.to_string(),
    }
}

fn check_format(what: &'static str, found: &str, expected: &'static str) -> Result<(), BlobError> {
    if found == expected {
        Ok(())
    } else {
        Err(BlobError::WrongFormat {
            what,
            found: found.to_string(),
            expected,
        })
    }
}

fn from_json<T: for<'de> Deserialize<'de>>(
    what: &'static str,
    bytes: &[u8],
) -> Result<T, BlobError> {
    if bytes.len() as u64 > JSON_LIMIT {
        return Err(malformed(
            what,
            format!("{} bytes exceed the {JSON_LIMIT}-byte limit", bytes.len()),
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| malformed(what, e))
}

fn to_json(value: &impl Serialize) -> Vec<u8> {
    // Plain data structures with string keys always serialise.
    serde_json::to_vec_pretty(value).unwrap_or_default()
}

/// A rectangle of a source frame, in its pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRoi {
    /// Left column.
    pub x: u32,
    /// Top row.
    pub y: u32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

/// What the data owner publishes about a dataset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatasetMetadata {
    /// [`DATASET_FORMAT`].
    pub format: String,
    /// A human-readable name.
    pub name: String,
    /// The pinned parameter set of the dataset's scheme ([`Scheme::name`]):
    /// TFHE's `blindfold-v1-2_2-ks32-pbs` or BFV's
    /// `blindfold-bfv-v1-n8192-t114689`.
    pub param_set: String,
    /// Geometry of every encrypted video.
    pub geometry: Geometry,
    /// How the owner preprocessed its videos (ROI, downsampling,
    /// quantisation), in words, for people.
    pub preprocessing: String,
    /// The region cropped from every source frame before downsampling
    /// (source pixels); `None` (`null`): the whole frame. With `geometry`
    /// and `frame_selection`, what a client needs to repeat the
    /// preprocessing on new videos.
    pub roi: Option<SourceRoi>,
    /// Which source frames were kept ("ED+ES", "all", "every 4th").
    pub frame_selection: String,
    /// Hex SHA-256 of the compressed server key blob (also on chain).
    pub server_key: String,
    /// Evaluation backend results must be computed with ([`BACKEND_CPU`]).
    pub backend: String,
    /// Release rule beyond the on-chain policy: only aggregates leave the owner.
    pub aggregates_only: bool,
    /// Whether a job that names no release key may be released in the
    /// clear (readable by anyone who reads the store). Absent: no.
    #[serde(default)]
    pub public_releases: bool,
}

impl DatasetMetadata {
    /// Serialises to the blob bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        to_json(self)
    }

    /// Parses and checks a metadata blob.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlobError> {
        let m: Self = from_json("dataset metadata", bytes)?;
        check_format("dataset metadata", &m.format, DATASET_FORMAT)?;
        let scheme =
            Scheme::from_name(&m.param_set).map_err(|e| malformed("dataset metadata", e))?;
        scheme
            .validate_geometry(&m.geometry)
            .map_err(|e| malformed("dataset metadata", e))?;
        Ok(m)
    }

    /// The scheme and parameter set (checked by [`from_bytes`](Self::from_bytes)).
    pub fn scheme(&self) -> Scheme {
        Scheme::from_name(&self.param_set).unwrap_or(Scheme::TFHE)
    }

    /// The server key hash it names, if it is 64 hex digits.
    pub fn server_key_hash(&self) -> Option<Hash> {
        let bytes = hex::decode(&self.server_key).ok()?;
        bytes.try_into().ok()
    }
}

/// What a researcher asks for: the pipeline with its parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSpec {
    /// [`JOB_FORMAT`].
    pub format: String,
    /// Evaluation backend ([`BACKEND_CPU`]).
    pub backend: String,
    /// The scheme's parameter set the job runs under ([`Scheme::name`]):
    /// the dataset's, which the job context checks. Absent in specs written
    /// before BFV: TFHE's.
    #[serde(default = "tfhe_param_set")]
    pub param_set: String,
    /// The pipeline and its parameters.
    pub params: PipelineParams,
    /// The researcher's `age` X25519 recipient (`age1…`): the released
    /// result is sealed to it. Absent: released in the clear, which only a
    /// dataset with `public_releases` allows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_to: Option<String>,
}

impl JobSpec {
    /// A CPU job running `params` under `scheme`, released in the clear.
    pub fn new(scheme: Scheme, params: PipelineParams) -> Self {
        JobSpec {
            format: JOB_FORMAT.into(),
            backend: BACKEND_CPU.into(),
            param_set: scheme.name().into(),
            params,
            release_to: None,
        }
    }

    /// Serialises to the blob bytes (its SHA-256 is the job's `params_hash`).
    pub fn to_bytes(&self) -> Vec<u8> {
        to_json(self)
    }

    /// Parses and checks a job-spec blob.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlobError> {
        let spec: Self = from_json("job spec", bytes)?;
        check_format("job spec", &spec.format, JOB_FORMAT)?;
        Scheme::from_name(&spec.param_set).map_err(|e| malformed("job spec", e))?;
        if spec.backend != BACKEND_CPU {
            return Err(malformed(
                "job spec",
                format!(
                    "backend '{}' is not supported (only '{BACKEND_CPU}')",
                    spec.backend
                ),
            ));
        }
        Ok(spec)
    }
}

fn tfhe_param_set() -> String {
    Scheme::TFHE.name().into()
}

/// A job's encrypted result: one result blob per unit of live inputs
/// (`JobContext::units`: one input, or a run of BFV inputs packed together;
/// TFHE's `EncryptedResult`, BFV's `BfvResult` or `PackedResult`), in
/// submission order, each keyed by its unit's first submission index.
///
/// Bytes: [`RESULT_MAGIC`] ‖ count u64 ‖ per item (submission index u64 ‖
/// length u64 ‖ bytes), integers big-endian. Deterministic, so two honest
/// workers produce the same bytes and so the same hash.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResultBundle {
    /// `(first submission index of the unit, result blob bytes)`.
    pub items: Vec<(u64, Vec<u8>)>,
}

impl ResultBundle {
    /// The largest bundle of `items` items of at most `item_limit` bytes
    /// each: the header, the count, and per item its framing (index and
    /// length) and bytes. Saturates at `u64::MAX`.
    pub fn limit(items: u64, item_limit: u64) -> u64 {
        items
            .saturating_mul(item_limit.saturating_add(16))
            .saturating_add(RESULT_MAGIC.len() as u64 + 8)
    }

    /// Serialises the bundle.
    pub fn to_bytes(&self) -> Vec<u8> {
        let len = self.items.iter().map(|(_, b)| 16 + b.len()).sum::<usize>();
        let mut out = Vec::with_capacity(RESULT_MAGIC.len() + 8 + len);
        out.extend_from_slice(RESULT_MAGIC);
        out.extend_from_slice(&(self.items.len() as u64).to_be_bytes());
        for (index, bytes) in &self.items {
            out.extend_from_slice(&index.to_be_bytes());
            out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
            out.extend_from_slice(bytes);
        }
        out
    }

    /// Parses a bundle, checking every length against the bytes present.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlobError> {
        const WHAT: &str = "result bundle";
        let mut rest = bytes
            .strip_prefix(&RESULT_MAGIC[..])
            .ok_or_else(|| malformed(WHAT, "missing the blindfold/v1/results header"))?;
        fn take<'a>(rest: &mut &'a [u8], n: u64) -> Result<&'a [u8], BlobError> {
            let n = usize::try_from(n).map_err(|_| malformed(WHAT, "truncated"))?;
            if rest.len() < n {
                return Err(malformed(WHAT, "truncated"));
            }
            let (head, tail) = rest.split_at(n);
            *rest = tail;
            Ok(head)
        }
        fn take_u64(rest: &mut &[u8]) -> Result<u64, BlobError> {
            let b = take(rest, 8)?;
            Ok(u64::from_be_bytes([
                b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
            ]))
        }
        let count = take_u64(&mut rest)?;
        let mut items = Vec::new();
        for _ in 0..count {
            let index = take_u64(&mut rest)?;
            let len = take_u64(&mut rest)?;
            items.push((index, take(&mut rest, len)?.to_vec()));
        }
        if !rest.is_empty() {
            return Err(malformed(WHAT, "trailing bytes"));
        }
        Ok(ResultBundle { items })
    }
}

/// Noise the data owner added before release.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DpNoise {
    /// Epsilon spent (thousandths), as charged on chain.
    pub epsilon_milli: u64,
    /// Laplace scale `b = sensitivity / epsilon` used for each released value.
    pub laplace_scale: f64,
    /// Per-value sensitivity assumed.
    pub sensitivity: f64,
}

/// One beat of a video's `lv-area` curve (`blindfold_echo::cycle`): the
/// systole from an end-diastole to the next end-systole.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReleasedBeat {
    /// The end-diastolic frame (the curve's maximum), an index into `values`.
    pub ed_frame: u32,
    /// The end-systolic frame (the curve's minimum), an index into `values`.
    pub es_frame: u32,
    /// `100 * (1 - (A_es / A_ed)^1.5)`.
    pub ef_percent: f64,
}

/// One video's released values.
///
/// The `beats` and `ef_beat_sd` fields came with whole-cycle datasets; a
/// blob without them (an older one, or an ED+ES video) parses with them
/// empty, and they are not written when empty, so such blobs keep their
/// bytes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReleasedVideo {
    /// Submission index.
    pub submission: u64,
    /// Decrypted pipeline output (areas per frame, histogram bins, or score).
    pub values: Vec<f64>,
    /// `lv-area`: the ejection-fraction estimate in percent: the mean EF of
    /// the `beats` when the area curve holds whole beats, else the EF of the
    /// curve's maximum and minimum (an ED+ES pair).
    pub ef_percent: Option<f64>,
    /// `lv-area`: every beat found on the area curve, in order (empty: none,
    /// e.g. ED+ES frames, or a curve without a whole systole).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub beats: Vec<ReleasedBeat>,
    /// `lv-area`: the beat-to-beat spread, the sample standard deviation of
    /// the beats' EFs in EF points, with two beats or more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ef_beat_sd: Option<f64>,
}

/// What the data owner releases to the researcher.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReleasedResult {
    /// [`RELEASED_FORMAT`].
    pub format: String,
    /// The job.
    pub job_id: JobId,
    /// Pipeline name.
    pub pipeline: String,
    /// Number of videos the result covers.
    pub cohort: u64,
    /// Per-video values; empty when the dataset releases aggregates only.
    pub videos: Vec<ReleasedVideo>,
    /// Aggregates over the cohort (`mean_ef_percent`, `mean_area_max`, and
    /// for whole-cycle curves `mean_beats` and `mean_ef_beat_sd`, ...).
    pub aggregates: BTreeMap<String, f64>,
    /// Differential-privacy noise, when the job spent epsilon.
    pub dp: Option<DpNoise>,
}

impl ReleasedResult {
    /// Serialises to the blob bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        to_json(self)
    }

    /// Parses and checks a released-result blob.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlobError> {
        let r: Self = from_json("released result", bytes)?;
        check_format("released result", &r.format, RELEASED_FORMAT)?;
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use blindfold_fhe::{LvAreaParams, Mask, Scheme};

    #[test]
    fn bundle_round_trip_and_bad_bytes() {
        let bundle = ResultBundle {
            items: vec![(0, vec![1, 2, 3]), (2, vec![]), (5, vec![9; 40])],
        };
        let bytes = bundle.to_bytes();
        assert_eq!(ResultBundle::from_bytes(&bytes).unwrap(), bundle);
        for cut in [0, 5, RESULT_MAGIC.len() + 4, bytes.len() - 1] {
            assert!(
                ResultBundle::from_bytes(&bytes[..cut]).is_err(),
                "cut {cut}"
            );
        }
        let mut long = bytes.clone();
        long.push(0);
        assert!(ResultBundle::from_bytes(&long)
            .unwrap_err()
            .to_string()
            .contains("trailing"));
        let mut huge = bytes.clone();
        let at = RESULT_MAGIC.len() + 8 + 8;
        huge[at..at + 8].copy_from_slice(&u64::MAX.to_be_bytes());
        assert!(ResultBundle::from_bytes(&huge).is_err());
    }

    #[test]
    fn released_results_without_beats_parse_and_keep_their_bytes() {
        // A released result as written before beats existed.
        let old = br#"{"format":"blindfold/v1/released","job_id":4,"pipeline":"lv-area","cohort":1,
            "videos":[{"submission":0,"values":[40.0,20.0],"ef_percent":64.6}],
            "aggregates":{"mean_ef_percent":64.6},"dp":null}"#;
        let r = ReleasedResult::from_bytes(old).unwrap();
        assert!(r.videos[0].beats.is_empty());
        assert_eq!(r.videos[0].ef_beat_sd, None);
        let json = String::from_utf8(r.to_bytes()).unwrap();
        assert!(
            !json.contains("beats") && !json.contains("ef_beat_sd"),
            "{json}"
        );
        let mut whole = r.clone();
        whole.videos[0].beats = vec![
            ReleasedBeat {
                ed_frame: 0,
                es_frame: 1,
                ef_percent: 64.6,
            },
            ReleasedBeat {
                ed_frame: 2,
                es_frame: 3,
                ef_percent: 60.0,
            },
        ];
        whole.videos[0].ef_beat_sd = Some(3.25);
        let back = ReleasedResult::from_bytes(&whole.to_bytes()).unwrap();
        assert_eq!(back, whole);
        let bad = String::from_utf8(whole.to_bytes())
            .unwrap()
            .replace("\"ed_frame\": 2", "\"ed_frame\": -2");
        assert!(ReleasedResult::from_bytes(bad.as_bytes()).is_err());
    }

    #[test]
    fn job_spec_checks_format_and_backend() {
        let spec = JobSpec::new(
            Scheme::TFHE,
            PipelineParams::LvArea(LvAreaParams {
                frames: vec![],
                mask: Mask::All,
                threshold: 4,
            }),
        );
        assert_eq!(JobSpec::from_bytes(&spec.to_bytes()).unwrap(), spec);
        let mut gpu = spec.clone();
        gpu.backend = "gpu".into();
        let err = JobSpec::from_bytes(&gpu.to_bytes()).unwrap_err();
        assert!(err.to_string().contains("backend 'gpu'"), "{err}");
        let err = JobSpec::from_bytes(b"{").unwrap_err();
        assert!(err.to_string().contains("job spec is not valid"), "{err}");
        let mut other = spec;
        other.format = "blindfold/v9/job".into();
        assert!(matches!(
            JobSpec::from_bytes(&other.to_bytes()),
            Err(BlobError::WrongFormat { .. })
        ));
    }
}
