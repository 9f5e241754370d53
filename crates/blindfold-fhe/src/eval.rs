//! The evaluation engine every pipeline compiles to.
//!
//! A pipeline turns its params and the video geometry into a [`Plan`]: a
//! list of PBS *jobs* and a list of *outputs*. Nothing in a plan depends on
//! ciphertexts, so its PBS count is known before any work starts.
//!
//! * A **job** is one programmable bootstrap. Its input is a plaintext-weighted
//!   sum of pixels of one frame (the weights pack several low-bit pixels into
//!   one 16-slot input when they fit), its lookup table is a [`LutSpec`], and
//!   one blind rotation yields up to 16 *samples*: sample `j` is the table
//!   evaluated at `x + j` (negacyclically: `-table[x + j - 16]` past the end).
//!   With the table `[1, 0, .., 0]` the 16 samples are the one-hot vector of
//!   `x`, so any number of functions of a pixel cost one PBS.
//! * An **output** is an encrypted integer ([`EncInt`]): a plaintext offset
//!   plus *parts*, each part one LWE ciphertext with a public scale. Parts are
//!   leveled sums: either of fresh pixels (the "fine" encoding, noise-free
//!   enough for a 2^25 range) or of PBS samples (the "coarse" encoding, 32
//!   values). The plan tracks each part's exact value range and noise, and
//!   opens a new part before either budget would overflow, so decryption is
//!   exact: `value = offset + sum(scale * decode(part))`. Carries are never
//!   propagated homomorphically; the client adds the parts up. Once summed,
//!   a part whose range and noise leave room for it is key-switched to the
//!   small key (`PartPlan::storage`), which makes it 4.4x smaller.
//!
//! Execution is deterministic: every PBS is a pure function of its input
//! ciphertext (tfhe built with `experimental-force_fft_algo_dif4`), jobs run on
//! rayon in any order, and accumulation is exact wrapping integer addition,
//! so the order in which threads add into a part cannot change its bits.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;
use tfhe::core_crypto::prelude::*;
use tfhe::shortint::ciphertext::{Degree, MaxDegree, NoiseLevel};
use tfhe::shortint::parameters::{CarryModulus, MessageModulus};
use tfhe::shortint::server_key::ManyLookupTableOwned;
use tfhe::shortint::Ciphertext;

use crate::error::{FheError, Result};
use crate::keys::ServerKey;
use crate::params::{Encoding, ParamSet};
use crate::video::{EncryptedVideo, Geometry};

/// Progress of a running evaluation. Share it (it is cheap to clone) with a
/// logger: [`Progress::pbs_done`] grows by one per executed PBS.
#[derive(Clone, Debug, Default)]
pub struct Progress {
    inner: Arc<ProgressInner>,
}

#[derive(Debug, Default)]
struct ProgressInner {
    pbs_done: AtomicU64,
    pbs_total: AtomicU64,
}

impl Progress {
    /// A fresh counter at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// PBS executed so far.
    pub fn pbs_done(&self) -> u64 {
        self.inner.pbs_done.load(Ordering::Relaxed)
    }

    /// PBS the running evaluation will execute in total (set when it starts).
    pub fn pbs_total(&self) -> u64 {
        self.inner.pbs_total.load(Ordering::Relaxed)
    }

    /// The raw counter of executed PBS, for callers that want an `AtomicU64`.
    pub fn pbs_counter(&self) -> &AtomicU64 {
        &self.inner.pbs_done
    }
}

/// A lookup table: `table[x]` for `x` in the 16 input slots, in units of the
/// coarse output scaling, and how many samples (strided extractions) to keep.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct LutSpec {
    pub table: [i64; 16],
    pub samples: u8,
}

impl LutSpec {
    /// The single-output table of `f`.
    pub fn single(f: impl Fn(u64) -> i64) -> Self {
        Self {
            table: std::array::from_fn(|x| f(x as u64)),
            samples: 1,
        }
    }

    /// The one-hot table: sample `j` of input `x` is `[x == 0]` for `j = 0`
    /// and `-[x == 16 - j]` for `j >= 1`.
    pub fn one_hot() -> Self {
        let mut table = [0; 16];
        table[0] = 1;
        Self { table, samples: 16 }
    }

    /// Value of sample `j` on input `x` (negacyclic extension of the table).
    pub fn sample_value(&self, x: u64, j: u8) -> i64 {
        let y = x as usize + usize::from(j);
        if y < 16 {
            self.table[y]
        } else {
            -self.table[y - 16]
        }
    }

    /// Sample index and sign under which the one-hot table exposes `[x == v]`.
    pub fn one_hot_sample(v: u64) -> (u8, i64) {
        if v == 0 {
            (0, 1)
        } else {
            ((16 - v) as u8, -1)
        }
    }
}

/// One PBS job.
#[derive(Clone, Debug)]
pub(crate) struct Job {
    pub frame: u32,
    /// `(pixel index, weight)`: the PBS input is `sum(weight * pixel)`.
    pub inputs: Vec<(u32, u64)>,
    /// Largest value the input can take (the PBS input degree).
    pub input_max: u64,
    pub lut: usize,
    /// `(sample, part, coefficient)`: add `coefficient * sample` to `part`.
    pub targets: Vec<(u8, u32, i64)>,
}

/// Kind of a part: leveled pixels or PBS samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum PartKind {
    Fine,
    Coarse,
}

#[derive(Clone, Debug)]
pub(crate) struct PartPlan {
    pub kind: PartKind,
    pub scale: i64,
    pub lo: i64,
    pub hi: i64,
    /// Sum of squared coefficients of PBS samples.
    pub pbs_noise: u64,
    /// Sum of absolute coefficients of fresh pixels.
    pub fine_l1: u64,
}

/// How a part is stored in the result blob.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Storage {
    /// As accumulated: an LWE ciphertext under the big key (u64, `k*N + 1`),
    /// decoded at `log_delta` (64-bit scale).
    Big { log_delta: u32 },
    /// Multiplied by `2^shift` (a plaintext factor: message and noise scale
    /// together), then key-switched with the server key's own key-switching
    /// key to an LWE ciphertext under the small key (u32, `n + 1`), decoded
    /// at `log_delta` on the 32-bit scale.
    Small { log_delta: u32, shift: u32 },
}

/// `x * 2^s`, or `None` past `u128`.
fn shl128(x: u128, s: u32) -> Option<u128> {
    if x == 0 {
        Some(0)
    } else if s < 128 && x.leading_zeros() >= s {
        Some(x << s)
    } else {
        None
    }
}

impl PartPlan {
    /// The part's decoding scale (log2, 64-bit scale) as accumulated.
    pub fn log_delta(&self, enc: &Encoding) -> u32 {
        match self.kind {
            PartKind::Fine => enc.pixel_log_delta,
            PartKind::Coarse => enc.pbs_out_log_delta,
        }
    }

    /// How the part is stored: key-switched to the small key when its noise
    /// allows it, else as accumulated. A pure function of the plan, so the
    /// client checks a blob's storage against it.
    ///
    /// The part's value lies in `[lo, hi]`, so it decodes in a window of
    /// `m = ceil(log2(hi - lo + 1))` bits (at least 1): the ciphertext is
    /// first multiplied by `2^shift`, `shift = 64 - log_delta - m`, which
    /// puts that window at the top of the torus (decoding scale
    /// `2^(64 - m)`, rounding limit `2^(63 - m)`) and keeps the value exact
    /// modulo `2^m`. The key switch then adds an error of variance at most
    /// `2^ks_noise_var_log2`. Key-switched iff
    /// `fresh + ks_sigmas * sqrt(pbs + ks) <= 2^(63 - m)`, with `fresh` the
    /// worst-case fresh pixel noise (`fine_l1 * 2^fresh_noise_log2`) and
    /// `pbs` the variance of the summed PBS outputs
    /// (`pbs_noise * 2^pbs_noise_var_log2`), both times `2^shift`. Coarse
    /// parts (32 values, at most 64 noise units) always pass (at least 17
    /// std with the bounds; about 24 std measured); fine parts pass when
    /// their range is at most about 16 to 32 values (1- or 2-bit pixels
    /// with small weights), never at 4-bit pixels with 9 taps.
    pub fn storage(&self, enc: &Encoding) -> Storage {
        let log_delta = self.log_delta(enc);
        let big = Storage::Big { log_delta };
        let count = (i128::from(self.hi) - i128::from(self.lo) + 1).max(1) as u128;
        let m = (128 - (count - 1).leading_zeros()).max(1);
        let Some(shift) = (64 - log_delta).checked_sub(m) else {
            return big;
        };
        let half = 1u128 << (63 - m);
        let var = shl128(
            u128::from(self.pbs_noise),
            enc.pbs_noise_var_log2 + 2 * shift,
        )
        .and_then(|v| v.checked_add(1u128 << enc.ks_noise_var_log2));
        let fresh = shl128(u128::from(self.fine_l1), enc.fresh_noise_log2 + shift);
        let sigmas2 = u128::from(enc.ks_sigmas) * u128::from(enc.ks_sigmas);
        let fits = match (var, fresh) {
            (Some(var), Some(fresh)) if fresh < half => {
                let room = half - fresh;
                // room^2 < 2^126: no overflow.
                var.checked_mul(sigmas2)
                    .is_some_and(|z2var| room * room >= z2var)
            }
            _ => false,
        };
        if fits {
            Storage::Small {
                log_delta: 32 - m,
                shift,
            }
        } else {
            big
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct OutputPlan {
    pub offset: i64,
    pub parts: Vec<u32>,
}

/// `(frame, pixel, part, coefficient)`: add `coefficient * pixel` to `part`.
type FineTerm = (u32, u32, u32, i64);

/// A compiled pipeline evaluation.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub pipeline: &'static str,
    pub luts: Vec<LutSpec>,
    pub jobs: Vec<Job>,
    pub fine_terms: Vec<FineTerm>,
    pub parts: Vec<PartPlan>,
    pub outputs: Vec<OutputPlan>,
}

impl Plan {
    /// Number of PBS the plan executes.
    pub fn pbs_count(&self) -> u64 {
        self.jobs.len() as u64
    }
}

/// Value range and noise of one term added to a part.
#[derive(Clone, Copy, Debug)]
struct TermBounds {
    lo: i64,
    hi: i64,
    /// Squared coefficient of a PBS sample.
    noise: u64,
    /// Absolute coefficient of a fresh pixel.
    l1: u64,
}

/// Incremental construction of a [`Plan`] with range and noise bookkeeping.
pub(crate) struct PlanBuilder {
    pipeline: &'static str,
    enc: Encoding,
    geometry: Geometry,
    luts: Vec<LutSpec>,
    lut_ids: HashMap<LutSpec, usize>,
    jobs: Vec<Job>,
    fine_terms: Vec<FineTerm>,
    parts: Vec<PartPlan>,
    outputs: Vec<OutputPlan>,
    /// The part currently filled for `(output, kind, scale)`.
    open: HashMap<(u32, PartKind, i64), u32>,
}

impl PlanBuilder {
    pub fn new(pipeline: &'static str, param_set: ParamSet, geometry: Geometry) -> Self {
        Self {
            pipeline,
            enc: param_set.encoding(),
            geometry,
            luts: Vec::new(),
            lut_ids: HashMap::new(),
            jobs: Vec::new(),
            fine_terms: Vec::new(),
            parts: Vec::new(),
            outputs: Vec::new(),
            open: HashMap::new(),
        }
    }

    fn capacity(&self, reason: String) -> FheError {
        FheError::Capacity {
            pipeline: self.pipeline,
            reason,
        }
    }

    pub fn lut(&mut self, spec: LutSpec) -> usize {
        if let Some(&id) = self.lut_ids.get(&spec) {
            return id;
        }
        let id = self.luts.len();
        self.luts.push(spec.clone());
        self.lut_ids.insert(spec, id);
        id
    }

    /// Add a PBS job on `sum(weight * pixel)` of `frame`; returns its id.
    pub fn job(&mut self, frame: u32, inputs: Vec<(u32, u64)>, lut: usize) -> Result<u32> {
        let max_pixel = u64::from(self.geometry.max_pixel());
        let input_max: u64 = inputs.iter().map(|&(_, w)| w * max_pixel).sum();
        if input_max >= self.enc.pbs_slots {
            return Err(self.capacity(format!(
                "PBS input range 0..={input_max} exceeds {} slots",
                self.enc.pbs_slots
            )));
        }
        let id =
            u32::try_from(self.jobs.len()).map_err(|_| self.capacity("too many jobs".into()))?;
        self.jobs.push(Job {
            frame,
            inputs,
            input_max,
            lut,
            targets: Vec::new(),
        });
        Ok(id)
    }

    /// Start a new output with a plaintext offset; returns its id.
    pub fn output(&mut self, offset: i64) -> u32 {
        self.outputs.push(OutputPlan {
            offset,
            parts: Vec::new(),
        });
        (self.outputs.len() - 1) as u32
    }

    /// The part of `output` that term `t` (at `scale`) goes into: the open
    /// one if both budgets still hold, else a new one.
    fn part_for(&mut self, output: u32, kind: PartKind, scale: i64, t: TermBounds) -> Result<u32> {
        let TermBounds { lo, hi, noise, l1 } = t;
        let log_delta = match kind {
            PartKind::Fine => self.enc.pixel_log_delta,
            PartKind::Coarse => self.enc.pbs_out_log_delta,
        };
        let span = 1i128 << (64 - log_delta);
        let fits = |p: &PartPlan, enc: &Encoding| {
            i128::from(p.hi + hi) - i128::from(p.lo + lo) < span
                && p.pbs_noise + noise <= enc.max_pbs_noise_units
                && p.fine_l1 + l1 <= enc.max_fine_l1
        };
        let key = (output, kind, scale);
        if let Some(&id) = self.open.get(&key) {
            if fits(&self.parts[id as usize], &self.enc) {
                return Ok(id);
            }
        }
        let empty = PartPlan {
            kind,
            scale,
            lo: 0,
            hi: 0,
            pbs_noise: 0,
            fine_l1: 0,
        };
        if !fits(&empty, &self.enc) {
            return Err(self.capacity(format!(
                "a single term (range {lo}..={hi}, noise {noise}, l1 {l1}) does not fit one part"
            )));
        }
        let id =
            u32::try_from(self.parts.len()).map_err(|_| self.capacity("too many parts".into()))?;
        self.parts.push(empty);
        self.outputs[output as usize].parts.push(id);
        self.open.insert(key, id);
        Ok(id)
    }

    /// Add `coef * sample` of `job` to `output` at `scale`.
    pub fn add_sample(
        &mut self,
        output: u32,
        scale: i64,
        job: u32,
        sample: u8,
        coef: i64,
    ) -> Result<()> {
        let j = &self.jobs[job as usize];
        let lut = &self.luts[j.lut];
        if sample >= lut.samples {
            return Err(self.capacity(format!("sample {sample} not extracted")));
        }
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        for x in 0..=j.input_max {
            let v = coef * lut.sample_value(x, sample);
            lo = lo.min(v);
            hi = hi.max(v);
        }
        let noise = (coef * coef) as u64;
        let part = self.part_for(
            output,
            PartKind::Coarse,
            scale,
            TermBounds {
                lo,
                hi,
                noise,
                l1: 0,
            },
        )?;
        let p = &mut self.parts[part as usize];
        p.lo += lo;
        p.hi += hi;
        p.pbs_noise += noise;
        self.jobs[job as usize].targets.push((sample, part, coef));
        Ok(())
    }

    /// Add `coef * pixel` (fresh ciphertext, fine encoding) to `output` at `scale`.
    pub fn add_pixel(
        &mut self,
        output: u32,
        scale: i64,
        frame: u32,
        pixel: u32,
        coef: i64,
    ) -> Result<()> {
        let max = i64::from(self.geometry.max_pixel());
        let (lo, hi) = if coef >= 0 {
            (0, coef * max)
        } else {
            (coef * max, 0)
        };
        let l1 = coef.unsigned_abs();
        let part = self.part_for(
            output,
            PartKind::Fine,
            scale,
            TermBounds {
                lo,
                hi,
                noise: 0,
                l1,
            },
        )?;
        let p = &mut self.parts[part as usize];
        p.lo += lo;
        p.hi += hi;
        p.fine_l1 += l1;
        self.fine_terms.push((frame, pixel, part, coef));
        Ok(())
    }

    pub fn finish(self) -> Plan {
        Plan {
            pipeline: self.pipeline,
            luts: self.luts,
            jobs: self.jobs,
            fine_terms: self.fine_terms,
            parts: self.parts,
            outputs: self.outputs,
        }
    }
}

/// An encrypted integer: `offset + sum(scale * decode(part))`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EncIntData {
    pub offset: i64,
    pub parts: Vec<EncPartData>,
}

/// One part of an [`EncIntData`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EncPartData {
    pub scale: i64,
    /// The decoding scale: 64-bit scale for [`PartCt::Big`], 32-bit for
    /// [`PartCt::Small`].
    pub log_delta: u8,
    pub lo: i64,
    pub ct: PartCt,
}

/// The ciphertext of a part, as [`PartPlan::storage`] says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PartCt {
    /// Under the big key (`k*N + 1` coefficients).
    Big(Vec<u64>),
    /// Key-switched to the small key (`n + 1` coefficients, modulus 2^32).
    Small(Vec<u32>),
}

/// Multiply a big-key ciphertext by `2^shift` and key-switch it to the
/// small key with the server key's key-switching key (tfhe's KS32 key
/// switch: deterministic, no randomness).
fn key_switch(ksk: &LweKeyswitchKeyOwned<u32>, mut lwe: Vec<u64>, shift: u32) -> Vec<u32> {
    for a in &mut lwe {
        *a = a.wrapping_shl(shift);
    }
    let input = LweCiphertext::from_container(lwe, CiphertextModulus::new_native());
    let mut out = LweCiphertext::new(0u32, ksk.output_lwe_size(), ksk.ciphertext_modulus());
    keyswitch_lwe_ciphertext_with_scalar_change(ksk, &input, &mut out);
    out.into_container()
}

/// Build the accumulator (test polynomial) of `spec` for `sk`.
fn accumulator(sk: &ServerKey, enc: &Encoding, spec: &LutSpec) -> ManyLookupTableOwned {
    let sks = sk.shortint();
    // Start from tfhe's own LUT to get the right GLWE geometry, then
    // overwrite the body with our (arbitrary, signed) torus values.
    let mut acc = sks.generate_lookup_table(|_| 0).acc;
    let mut body = acc.get_mut_body();
    let body = body.as_mut();
    let slots = enc.pbs_slots as usize;
    let box_size = enc.box_size;
    for (i, &value) in spec.table.iter().take(slots).enumerate() {
        let encoded = (value as u64).wrapping_shl(enc.pbs_out_log_delta);
        body[i * box_size..(i + 1) * box_size].fill(encoded);
    }
    // Same half-box centring as tfhe's `fill_accumulator_with_encoding`.
    let half = box_size / 2;
    for a in body[..half].iter_mut() {
        *a = a.wrapping_neg();
    }
    body.rotate_left(half);
    ManyLookupTableOwned {
        acc,
        input_max_degree: MaxDegree::new(enc.pbs_slots - 1),
        sample_extraction_stride: box_size,
        per_function_output_degree: vec![Degree::new(enc.pbs_slots - 1); usize::from(spec.samples)],
    }
}

fn add_scaled(acc: &mut [u64], src: &[u64], coef: i64) {
    let c = coef as u64;
    for (a, s) in acc.iter_mut().zip(src) {
        *a = a.wrapping_add(s.wrapping_mul(c));
    }
}

/// Run `plan` on `video`. Returns one [`EncIntData`] per plan output.
pub(crate) fn execute(
    plan: &Plan,
    sk: &ServerKey,
    video: &EncryptedVideo,
    progress: &Progress,
) -> Result<Vec<EncIntData>> {
    let param_set = sk.param_set();
    video.validate(param_set)?;
    let enc = param_set.encoding();
    let sks = sk.shortint();
    let luts: Vec<ManyLookupTableOwned> =
        plan.luts.iter().map(|s| accumulator(sk, &enc, s)).collect();
    progress
        .inner
        .pbs_total
        .store(plan.pbs_count(), Ordering::Relaxed);
    progress.inner.pbs_done.store(0, Ordering::Relaxed);

    let parts: Vec<Mutex<Vec<u64>>> = plan
        .parts
        .iter()
        .map(|_| Mutex::new(vec![0u64; enc.lwe_size]))
        .collect();
    let add_to = |part: u32, src: &[u64], coef: i64| {
        // A poisoned lock can only come from a panic in another worker,
        // which already aborts the evaluation; keep the data either way.
        let mut guard = parts[part as usize]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        add_scaled(&mut guard, src, coef);
    };

    let mut frames: Vec<u32> = plan
        .jobs
        .iter()
        .map(|j| j.frame)
        .chain(plan.fine_terms.iter().map(|t| t.0))
        .collect();
    frames.sort_unstable();
    frames.dedup();

    let pbs_scale = 1u64 << (enc.pbs_log_delta - enc.pixel_log_delta);
    let atomic_pattern = param_set.atomic_pattern();
    let geometry = video.geometry();

    for frame in frames {
        if frame >= geometry.frames {
            return Err(FheError::InvalidParams {
                pipeline: plan.pipeline,
                reason: format!("frame {frame} out of range (video has {})", geometry.frames),
            });
        }
        let cts = video.expand_frame(frame as usize, param_set);
        let pixel = |i: u32| cts.get(i as usize);

        // This frame's work, collected first: a parallel iterator over
        // every job with a filter splits the whole list, so with more than
        // two frames one thread's half held no job of this frame and it sat
        // idle (PBS efficiency 2.0 at 8 and 32 frames on 2 threads).
        let fine: Vec<_> = plan.fine_terms.iter().filter(|t| t.0 == frame).collect();
        fine.par_iter()
            .for_each(|&&(_, px, part, coef)| add_to(part, pixel(px).as_ref(), coef));

        let jobs: Vec<_> = plan.jobs.iter().filter(|j| j.frame == frame).collect();
        jobs.par_iter().for_each(|job| {
            let mut input = vec![0u64; enc.lwe_size];
            for &(px, w) in &job.inputs {
                add_scaled(&mut input, pixel(px).as_ref(), (w * pbs_scale) as i64);
            }
            let ct = Ciphertext::new(
                LweCiphertext::from_container(input, CiphertextModulus::new_native()),
                Degree::new(job.input_max),
                NoiseLevel::NOMINAL,
                MessageModulus(4),
                CarryModulus(4),
                atomic_pattern,
            );
            let samples = sks.apply_many_lookup_table(&ct, &luts[job.lut]);
            progress.inner.pbs_done.fetch_add(1, Ordering::Relaxed);
            for &(s, part, coef) in &job.targets {
                add_to(part, samples[usize::from(s)].ct.as_ref(), coef);
            }
        });
    }

    // Store every part as its plan says: key-switched to the small key
    // where the noise allows it (each part independently, in any order).
    let ksk = sk.key_switching_key()?;
    let mut data: Vec<Option<(u8, PartCt)>> = parts
        .into_par_iter()
        .zip(plan.parts.par_iter())
        .map(|(m, pp)| {
            let lwe = m
                .into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            Some(match pp.storage(&enc) {
                Storage::Big { log_delta } => (log_delta as u8, PartCt::Big(lwe)),
                Storage::Small { log_delta, shift } => {
                    (log_delta as u8, PartCt::Small(key_switch(ksk, lwe, shift)))
                }
            })
        })
        .collect();
    let out = plan
        .outputs
        .iter()
        .map(|o| EncIntData {
            offset: o.offset,
            parts: o
                .parts
                .iter()
                .map(|&p| {
                    let pp = &plan.parts[p as usize];
                    // Every part belongs to exactly one output.
                    let (log_delta, ct) = data[p as usize]
                        .take()
                        .unwrap_or_else(|| (0, PartCt::Big(Vec::new())));
                    EncPartData {
                        scale: pp.scale,
                        log_delta,
                        lo: pp.lo,
                        ct,
                    }
                })
                .collect(),
        })
        .collect();
    Ok(out)
}

/// Median wall time of one key-switch + PBS (the unit every PBS count is
/// multiplied by), measured on the calling thread over `samples` runs after
/// one warm-up. The input is a pseudo-random LWE ciphertext: the cost of a
/// PBS does not depend on what it encrypts.
pub fn measure_pbs_latency(key: &ServerKey, samples: usize) -> std::time::Duration {
    let enc = key.param_set().encoding();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let lwe: Vec<u64> = (0..enc.lwe_size)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        })
        .collect();
    let ct = Ciphertext::new(
        LweCiphertext::from_container(lwe, CiphertextModulus::new_native()),
        Degree::new(enc.pbs_slots - 1),
        NoiseLevel::NOMINAL,
        MessageModulus(4),
        CarryModulus(4),
        key.param_set().atomic_pattern(),
    );
    let lut = accumulator(key, &enc, &LutSpec::single(|x| i64::from(x < 8)));
    let _ = key.shortint().apply_many_lookup_table(&ct, &lut);
    let mut times: Vec<std::time::Duration> = (0..samples.max(1))
        .map(|_| {
            let t = std::time::Instant::now();
            let r = key.shortint().apply_many_lookup_table(&ct, &lut);
            let dt = t.elapsed();
            std::hint::black_box(r);
            dt
        })
        .collect();
    times.sort_unstable();
    times[times.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_hot_samples_expose_every_value() {
        let lut = LutSpec::one_hot();
        for x in 0..16u64 {
            for v in 0..16u64 {
                let (j, sign) = LutSpec::one_hot_sample(v);
                assert_eq!(sign * lut.sample_value(x, j), i64::from(x == v));
            }
        }
    }

    #[test]
    fn planner_splits_parts_at_the_range_budget() {
        let g = Geometry {
            width: 8,
            height: 8,
            bits: 4,
            frames: 1,
        };
        let mut pb = PlanBuilder::new("test", ParamSet::V1, g);
        let out = pb.output(0);
        let lut = pb.lut(LutSpec::single(|x| i64::from(x < 3)));
        for px in 0..64 {
            let job = pb.job(0, vec![(px, 1)], lut).expect("job");
            pb.add_sample(out, 1, job, 0, 1).expect("sample");
        }
        let plan = pb.finish();
        assert_eq!(plan.pbs_count(), 64);
        let sizes: Vec<i64> = plan.outputs[0]
            .parts
            .iter()
            .map(|&p| plan.parts[p as usize].hi)
            .collect();
        assert_eq!(sizes, vec![31, 31, 2]);
    }

    fn part(kind: PartKind, lo: i64, hi: i64, pbs_noise: u64, fine_l1: u64) -> PartPlan {
        PartPlan {
            kind,
            scale: 1,
            lo,
            hi,
            pbs_noise,
            fine_l1,
        }
    }

    #[test]
    fn part_storage_follows_range_and_noise() {
        let enc = ParamSet::V1.encoding();
        // Full coarse parts (32 values, the whole noise budget): key-switched,
        // unshifted, decoded at 2^27 on the 32-bit scale.
        for noise in [1, 31, enc.max_pbs_noise_units] {
            assert_eq!(
                part(PartKind::Coarse, 0, 31, noise, 0).storage(&enc),
                Storage::Small {
                    log_delta: 27,
                    shift: 0
                }
            );
        }
        // A narrower coarse part is shifted up: 0..=1 needs one bit.
        assert_eq!(
            part(PartKind::Coarse, -1, 0, 1, 0).storage(&enc),
            Storage::Small {
                log_delta: 31,
                shift: 4
            }
        );
        // Fine parts of a few values (1-bit pixels, small weights) too...
        assert_eq!(
            part(PartKind::Fine, -4, 4, 0, 8).storage(&enc),
            Storage::Small {
                log_delta: 28,
                shift: 21
            }
        );
        // ...but not 4-bit pixels through 9 taps (0..=135: 8 bits), nor
        // anything of the 2^25 fine window.
        assert_eq!(
            part(PartKind::Fine, 0, 135, 0, 9).storage(&enc),
            Storage::Big { log_delta: 39 }
        );
        assert_eq!(
            part(PartKind::Fine, -(1 << 24), (1 << 24) - 1, 0, 1 << 20).storage(&enc),
            Storage::Big { log_delta: 39 }
        );
        // The rule's edge: 32 fine values pass with little fresh noise and
        // fail once the worst-case fresh noise eats the room.
        assert!(matches!(
            part(PartKind::Fine, 0, 31, 0, 1).storage(&enc),
            Storage::Small { .. }
        ));
        assert_eq!(
            part(PartKind::Fine, 0, 31, 0, 1 << 20).storage(&enc),
            Storage::Big { log_delta: 39 }
        );
    }

    #[test]
    fn planner_rejects_pbs_inputs_beyond_the_slots() {
        let g = Geometry {
            width: 2,
            height: 1,
            bits: 4,
            frames: 1,
        };
        let mut pb = PlanBuilder::new("test", ParamSet::V1, g);
        let lut = pb.lut(LutSpec::one_hot());
        assert!(pb.job(0, vec![(0, 1), (1, 1)], lut).is_err());
    }
}
