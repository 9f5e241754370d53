//! Two schemes behind one interface: the data owner picks TFHE or BFV per
//! dataset; everything after that dispatches here, once.
//!
//! * [`Scheme`]: a pinned parameter set of either scheme, by the name that
//!   dataset metadata and job specs record.
//! * [`SchemeClientKey`]: the owner's secret key (generate, encrypt, store,
//!   decrypt a verified result).
//! * [`SchemeServerKey`]: the public evaluation key, loaded from its blob.
//! * [`SchemeVideo`]: one input ciphertext blob, checked against the dataset.
//! * [`evaluate_bytes`]: a pipeline on one video into the result blob's
//!   bytes, with its operation counts ([`Ops`]).
//! * [`evaluate_unit`]: a pipeline on one *unit* of videos
//!   ([`Scheme::unit_size`]): one video, or under BFV lv-area a run of
//!   videos packed and gathered into one result blob
//!   ([`blindfold_bfv::pack`]); [`SchemeClientKey::decrypt_unit`] reads it.
//!   [`Scheme::unit_ops`] says beforehand how many operations it will run.
//!
//! Both schemes share each pipeline's params, its validation and its
//! plaintext twin ([`PipelineParams::plaintext`]): decrypting either
//! scheme's result returns exactly what the twin returns.

use std::sync::Arc;

use blindfold_bfv as bfv;

use crate::error::{FheError, Result};
use crate::eval::Progress;
use crate::keys::{ClientKey, CompressedServerKey, ServerKey};
use crate::params::{ParamSet, COMPRESSED_SERVER_KEY_LIMIT, VIDEO_LIMIT};
use crate::pipelines::{PipelineParams, PlainOutput};
use crate::result::{evaluate, EncryptedResult};
use crate::video::{EncryptedVideo, Geometry, PlainVideo};

/// A pinned parameter set of one of the two schemes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// TFHE (tfhe-rs): one programmable bootstrap per non-linear pixel step.
    Tfhe(ParamSet),
    /// BFV (fhe.rs): 8192 pixels per ciphertext, a few multiplications and rotations.
    Bfv(bfv::BfvParamSet),
}

impl Scheme {
    /// TFHE with its current parameter set.
    pub const TFHE: Scheme = Scheme::Tfhe(ParamSet::V1);
    /// BFV with its current parameter set.
    pub const BFV: Scheme = Scheme::Bfv(bfv::BfvParamSet::V1);

    /// The parameter set's name, as dataset metadata and job specs record it.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Tfhe(p) => p.name(),
            Scheme::Bfv(p) => p.name(),
        }
    }

    /// The scheme's family name: `tfhe` or `bfv`.
    pub fn family(self) -> &'static str {
        match self {
            Scheme::Tfhe(_) => "tfhe",
            Scheme::Bfv(_) => "bfv",
        }
    }

    /// Looks a parameter set of either scheme up by name.
    pub fn from_name(name: &str) -> Result<Self> {
        if let Ok(p) = ParamSet::from_name(name) {
            return Ok(Scheme::Tfhe(p));
        }
        bfv::BfvParamSet::from_name(name)
            .map(Scheme::Bfv)
            .map_err(|_| FheError::UnknownParamSet(name.to_owned()))
    }

    /// The current parameter set of a family (`tfhe` or `bfv`), or a full
    /// parameter-set name.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "tfhe" => Ok(Self::TFHE),
            "bfv" => Ok(Self::BFV),
            name => Self::from_name(name).map_err(|_| {
                FheError::UnknownParamSet(format!(
                    "{name} (expected tfhe, bfv or a parameter-set name)"
                ))
            }),
        }
    }

    /// Checks a dataset geometry against the scheme's limits.
    pub fn validate_geometry(self, g: &Geometry) -> Result<()> {
        // Both schemes take 1..=4-bit pixels and the same pixel limit.
        g.validate(ParamSet::V1)?;
        if let Scheme::Bfv(_) = self {
            bfv::Layout::new(bfv_shape(g))?;
        }
        Ok(())
    }

    /// Checks a pipeline's params against a geometry, for this scheme.
    pub fn validate_params(self, params: &PipelineParams, g: &Geometry) -> Result<()> {
        match self {
            Scheme::Tfhe(p) => params.validate(p, g),
            Scheme::Bfv(_) => params.bfv_plan(g).map(|_| ()),
        }
    }

    /// Largest accepted input blob of a video of geometry `g`.
    pub fn video_limit(self, g: &Geometry) -> Result<u64> {
        match self {
            Scheme::Tfhe(_) => Ok(VIDEO_LIMIT),
            Scheme::Bfv(p) => Ok(bfv::Video::limit(p, bfv_shape(g))?),
        }
    }

    /// Largest accepted server key blob.
    pub fn server_key_limit(self) -> u64 {
        match self {
            Scheme::Tfhe(_) => COMPRESSED_SERVER_KEY_LIMIT,
            Scheme::Bfv(_) => bfv::params::SERVER_KEY_LIMIT,
        }
    }

    /// Largest accepted result blob of one unit ([`Self::unit_size`]
    /// videos) of `params` on videos of geometry `g`, from the plan alone,
    /// before anything is read: TFHE [`EncryptedResult::limit`] (its parts'
    /// stored sizes plus framing), BFV [`bfv::pack::PackedResult::limit`]
    /// for a full packed unit, else [`bfv::BfvResult::limit`].
    pub fn result_limit(self, params: &PipelineParams, g: &Geometry) -> Result<u64> {
        match self {
            Scheme::Tfhe(p) => EncryptedResult::limit(p, params, g),
            Scheme::Bfv(p) => Ok(match packed_plan(params, g)? {
                Some(plan) => bfv::pack::PackedResult::limit(
                    p,
                    &plan.layout,
                    bfv::pack::unit_size(&plan.layout),
                ),
                None => bfv::BfvResult::limit(p, &params.bfv_plan(g)?),
            }),
        }
    }

    /// The expensive operations [`evaluate_unit`] runs on one unit of
    /// videos of geometry `g` ([`Ops`], as it returns them), known before
    /// any work: TFHE, the pipeline's bootstraps
    /// ([`PipelineParams::pbs_count`]) per video; BFV, the plan's
    /// multiplications and rotations ([`bfv::Plan::counts`]) per video, or
    /// for a packed unit those of its packs and their gathering
    /// ([`bfv::pack::PackedPlan::counts`]). `classes` are the unit's
    /// videos' packing classes, in order ([`SchemeVideo::class`]; one
    /// entry per video, whose value only a packed BFV unit reads: how
    /// many packs its videos fill depends on them).
    pub fn unit_ops(self, params: &PipelineParams, g: &Geometry, classes: &[u8]) -> Result<Ops> {
        let videos = classes.len() as u64;
        match self {
            Scheme::Tfhe(_) => Ok(Ops {
                pbs: params.pbs_count(g)?.saturating_mul(videos),
                ..Ops::default()
            }),
            Scheme::Bfv(_) => {
                let plan = params.bfv_plan(g)?;
                if bfv::pack::packs_program(&plan.program, &plan.layout) {
                    let packed = bfv::pack::packed_plan(&plan.program, &plan.layout, classes)?;
                    return Ok(bfv_ops(packed.counts()));
                }
                let one = plan.counts();
                Ok(bfv_ops(bfv::Counts {
                    multiplications: one.multiplications.saturating_mul(videos),
                    rotations: one.rotations.saturating_mul(videos),
                    plain_multiplications: one.plain_multiplications.saturating_mul(videos),
                }))
            }
        }
    }

    /// How many consecutive inputs of a job are evaluated together into
    /// one result blob: 1, except under BFV when `params` packs (lv-area on
    /// videos that fit one ciphertext: [`blindfold_bfv::pack::unit_size`]).
    pub fn unit_size(self, params: &PipelineParams, g: &Geometry) -> Result<usize> {
        match self {
            Scheme::Tfhe(_) => Ok(1),
            Scheme::Bfv(_) => {
                Ok(packed_plan(params, g)?.map_or(1, |p| bfv::pack::unit_size(&p.layout)))
            }
        }
    }
}

impl std::fmt::Display for Scheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The BFV view of a geometry.
pub fn bfv_shape(g: &Geometry) -> bfv::Shape {
    bfv::Shape {
        width: g.width,
        height: g.height,
        frames: g.frames,
        bits: g.bits,
    }
}

/// The data owner's secret key, of either scheme. `Debug` shows no key material.
#[derive(Clone, Debug)]
pub enum SchemeClientKey {
    /// A TFHE client key.
    Tfhe(Box<ClientKey>),
    /// A BFV secret key.
    Bfv(Arc<bfv::ClientKey>),
}

impl SchemeClientKey {
    /// A fresh key (randomness from the OS) and its server key blob.
    pub fn generate(scheme: Scheme) -> Result<(Self, Vec<u8>)> {
        match scheme {
            Scheme::Tfhe(p) => {
                let key = ClientKey::generate(p);
                let server = key.compressed_server_key().to_bytes()?;
                Ok((SchemeClientKey::Tfhe(Box::new(key)), server))
            }
            Scheme::Bfv(p) => {
                let mut rng = bfv::os_rng();
                let key = bfv::ClientKey::generate(p, &mut rng)?;
                let server = key.server_key(&mut rng)?.to_bytes();
                Ok((SchemeClientKey::Bfv(Arc::new(key)), server))
            }
        }
    }

    /// The key's scheme.
    pub fn scheme(&self) -> Scheme {
        match self {
            SchemeClientKey::Tfhe(k) => Scheme::Tfhe(k.param_set()),
            SchemeClientKey::Bfv(k) => Scheme::Bfv(k.param_set()),
        }
    }

    /// The key file's bytes (secret).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        match self {
            SchemeClientKey::Tfhe(k) => k.to_bytes(),
            SchemeClientKey::Bfv(k) => Ok(k.to_bytes().to_vec()),
        }
    }

    /// Reads a key file of either scheme (a BFV key starts with the BFV magic).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.starts_with(bfv::wire::MAGIC) {
            let set = bytes
                .get(9..11)
                .map(|b| u16::from_be_bytes([b[0], b[1]]))
                .ok_or_else(|| FheError::Deserialize {
                    what: "BFV client key",
                    reason: "truncated header".into(),
                })?;
            let set = bfv::BfvParamSet::from_id(set)?;
            Ok(SchemeClientKey::Bfv(Arc::new(bfv::ClientKey::from_bytes(
                bytes, set,
            )?)))
        } else {
            Ok(SchemeClientKey::Tfhe(Box::new(ClientKey::from_bytes(
                bytes,
                ParamSet::V1,
            )?)))
        }
    }

    /// Encrypts a video into its input blob. `submission` is the video's
    /// place in the dataset (its submission index): under BFV it picks the
    /// video's packing class (`submission mod classes`), so that
    /// consecutive submissions pack together. Any value decrypts correctly;
    /// the index packs best.
    pub fn encrypt(&self, video: &PlainVideo, submission: u64) -> Result<Vec<u8>> {
        match self {
            SchemeClientKey::Tfhe(k) => video.encrypt(k)?.to_bytes(),
            SchemeClientKey::Bfv(k) => {
                video.validate(ParamSet::V1)?;
                let shape = bfv_shape(&video.geometry());
                let classes = bfv::Layout::new(shape)?.classes() as u64;
                let class = (submission % classes) as u8;
                let mut rng = bfv::os_rng();
                Ok(
                    bfv::Video::encrypt_in_class(k, shape, &video.frames, class, &mut rng)?
                        .to_bytes(),
                )
            }
        }
    }

    /// Decrypts the result blob of one unit of `members` videos
    /// ([`Scheme::unit_size`]): one output per member, in order. The data
    /// owner calls this only on a result it has verified.
    pub fn decrypt_unit(
        &self,
        bytes: &[u8],
        params: &PipelineParams,
        g: &Geometry,
        members: usize,
    ) -> Result<Vec<PlainOutput>> {
        if let SchemeClientKey::Bfv(k) = self {
            if let Some(plan) = packed_plan(params, g)? {
                let (result, packed) = bfv::pack::PackedResult::from_bytes(
                    bytes,
                    k.param_set(),
                    &plan.program,
                    &plan.layout,
                    members,
                )?;
                return result
                    .decrypt(k, &packed)?
                    .into_iter()
                    .map(|values| params.shape_bfv_output(g, values))
                    .collect();
            }
        }
        if members != 1 {
            return Err(FheError::InvalidEncryptedVideo(format!(
                "a unit of {members} videos, but {} evaluates one video per result",
                params.id()
            )));
        }
        Ok(vec![self.decrypt_result(bytes, params, g)?])
    }

    /// Decrypts one result blob of `params` on one video of geometry `g`.
    /// The data owner calls this only on a result it has verified.
    pub fn decrypt_result(
        &self,
        bytes: &[u8],
        params: &PipelineParams,
        g: &Geometry,
    ) -> Result<PlainOutput> {
        match self {
            SchemeClientKey::Tfhe(k) => {
                EncryptedResult::from_bytes_as(bytes, k.param_set(), params, g)?.decrypt(k, params)
            }
            SchemeClientKey::Bfv(k) => {
                let plan = params.bfv_plan(g)?;
                let result = bfv::BfvResult::from_bytes(bytes, k.param_set(), &plan)?;
                let values = result.decrypt(k, &plan)?;
                params.shape_bfv_output(g, values)
            }
        }
    }
}

/// The public evaluation key of either scheme.
#[derive(Debug)]
pub enum SchemeServerKey {
    /// TFHE (decompressed from the blob).
    Tfhe(ServerKey),
    /// BFV relinearisation and Galois keys.
    Bfv(Box<bfv::ServerKey>),
}

impl SchemeServerKey {
    /// Loads the server key blob of a dataset of `scheme` (untrusted bytes:
    /// size first, then structure; TFHE keys are decompressed here, seconds).
    pub fn from_blob(bytes: &[u8], scheme: Scheme) -> Result<Self> {
        match scheme {
            Scheme::Tfhe(p) => Ok(SchemeServerKey::Tfhe(
                CompressedServerKey::from_bytes(bytes, p)?.decompress(),
            )),
            Scheme::Bfv(p) => Ok(SchemeServerKey::Bfv(Box::new(bfv::ServerKey::from_bytes(
                bytes, p,
            )?))),
        }
    }

    /// The key's scheme.
    pub fn scheme(&self) -> Scheme {
        match self {
            SchemeServerKey::Tfhe(k) => Scheme::Tfhe(k.param_set()),
            SchemeServerKey::Bfv(k) => Scheme::Bfv(k.param_set()),
        }
    }
}

/// One input video of either scheme, checked against the dataset.
#[derive(Clone, Debug)]
pub enum SchemeVideo {
    /// TFHE: one LWE ciphertext per pixel.
    Tfhe(EncryptedVideo),
    /// BFV: 8192 pixels per ciphertext.
    Bfv(bfv::Video),
}

impl SchemeVideo {
    /// The video's BFV packing class (chosen at encryption; see
    /// [`SchemeClientKey::encrypt`]), 0 under TFHE.
    pub fn class(&self) -> u8 {
        match self {
            SchemeVideo::Tfhe(_) => 0,
            SchemeVideo::Bfv(v) => v.class(),
        }
    }

    /// Reads an input blob of a dataset of `scheme` whose videos have geometry `g`.
    pub fn from_bytes(bytes: &[u8], scheme: Scheme, g: &Geometry) -> Result<Self> {
        match scheme {
            Scheme::Tfhe(p) => {
                let video = EncryptedVideo::from_bytes(bytes, p)?;
                if video.geometry() != *g {
                    return Err(FheError::InvalidEncryptedVideo(format!(
                        "geometry {:?} is not the dataset's {g:?}",
                        video.geometry()
                    )));
                }
                Ok(SchemeVideo::Tfhe(video))
            }
            Scheme::Bfv(p) => Ok(SchemeVideo::Bfv(bfv::Video::from_bytes(
                bytes,
                p,
                bfv_shape(g),
            )?)),
        }
    }
}

/// The expensive operations one evaluation ran (or will run:
/// [`Scheme::unit_ops`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ops {
    /// TFHE programmable bootstraps.
    pub pbs: u64,
    /// BFV ciphertext multiplications.
    pub multiplications: u64,
    /// BFV rotations.
    pub rotations: u64,
}

impl Ops {
    /// All of them: bootstraps, multiplications and rotations (a worker
    /// prices its throughput per such operation, whichever the scheme).
    pub fn total(&self) -> u64 {
        self.pbs
            .saturating_add(self.multiplications)
            .saturating_add(self.rotations)
    }
}

impl std::ops::AddAssign for Ops {
    fn add_assign(&mut self, o: Ops) {
        self.pbs += o.pbs;
        self.multiplications += o.multiplications;
        self.rotations += o.rotations;
    }
}

/// Runs `params` on one unit of videos ([`Scheme::unit_size`] of them, or
/// fewer at the end of a job) with `key`: the result blob's bytes and the
/// operations it took. `progress` counts TFHE bootstraps as they happen.
pub fn evaluate_unit(
    key: &SchemeServerKey,
    params: &PipelineParams,
    videos: &[SchemeVideo],
    progress: &Progress,
) -> Result<(Vec<u8>, Ops)> {
    if let SchemeServerKey::Bfv(k) = key {
        let bfv_videos: Vec<&bfv::Video> = videos
            .iter()
            .map(|v| match v {
                SchemeVideo::Bfv(v) => Ok(v),
                SchemeVideo::Tfhe(_) => Err(FheError::ParamSetMismatch {
                    expected: key.scheme().name().into(),
                    found: "a TFHE video".into(),
                }),
            })
            .collect::<Result<_>>()?;
        if let Some(first) = bfv_videos.first() {
            if let Some(plan) = packed_plan(params, &geometry_of(&first.layout().shape))? {
                let (result, _, counts) =
                    bfv::pack::evaluate_packed(k, &plan.program, &plan.layout, &bfv_videos)?;
                return Ok((result.to_bytes(), bfv_ops(counts)));
            }
        }
    }
    match videos {
        [video] => evaluate_bytes(key, params, video, progress),
        _ => Err(FheError::InvalidEncryptedVideo(format!(
            "a unit of {} videos, but {} evaluates one video per result",
            videos.len(),
            params.id()
        ))),
    }
}

/// The BFV plan of `params` on geometry `g` when it is evaluated packed and
/// gathered ([`blindfold_bfv::pack::packs_program`]), else `None`.
fn packed_plan(params: &PipelineParams, g: &Geometry) -> Result<Option<bfv::Plan>> {
    let plan = params.bfv_plan(g)?;
    Ok(bfv::pack::packs_program(&plan.program, &plan.layout).then_some(plan))
}

fn geometry_of(s: &bfv::Shape) -> Geometry {
    Geometry {
        width: s.width,
        height: s.height,
        bits: s.bits,
        frames: s.frames,
    }
}

fn bfv_ops(counts: bfv::Counts) -> Ops {
    Ops {
        pbs: 0,
        multiplications: counts.multiplications,
        rotations: counts.rotations,
    }
}

/// Runs `params` on one video with `key`: the result blob's bytes and the
/// operations it took. `progress` counts TFHE bootstraps as they happen.
pub fn evaluate_bytes(
    key: &SchemeServerKey,
    params: &PipelineParams,
    video: &SchemeVideo,
    progress: &Progress,
) -> Result<(Vec<u8>, Ops)> {
    match (key, video) {
        (SchemeServerKey::Tfhe(k), SchemeVideo::Tfhe(v)) => {
            let bytes = evaluate(k, params, v, progress)?.to_bytes()?;
            Ok((
                bytes,
                Ops {
                    pbs: progress.pbs_done(),
                    ..Ops::default()
                },
            ))
        }
        (SchemeServerKey::Bfv(k), SchemeVideo::Bfv(v)) => {
            let plan = params.bfv_plan(&geometry_of(&v.layout().shape))?;
            let (result, counts) = bfv::evaluate(k, &plan, v)?;
            Ok((result.to_bytes(), bfv_ops(counts)))
        }
        _ => Err(FheError::ParamSetMismatch {
            expected: key.scheme().name().into(),
            found: match video {
                SchemeVideo::Tfhe(_) => "a TFHE video".into(),
                SchemeVideo::Bfv(_) => "a BFV video".into(),
            },
        }),
    }
}
