//! [`Program`]: what the pipelines compile to on BFV, its [`Plan`] (which
//! ciphertexts it reads, where each output lands) and [`evaluate`].
//!
//! | program | per ciphertext it reads | output parts |
//! |---|---|---|
//! | `CountBelow` (lv-area) | mask, `[x < T]` (degree 2^bits - 1, 7 mults at 4 bits), segment sum (log2 S rotations) | one per frame chunk |
//! | `Histogram` | mask, x^1 .. x^15 (14 mults), 15 power sums by a shared reduction | one per group of <= 6 ciphertexts |
//! | `Conv3x3` | 2 rotations, 9 constant products, rotations by W and 2W | one per output pixel |
//! | `Linear` | `x * W`, plus `w [xM < T]` per (T, w) layer (7 mults each), segment sum | one per frame chunk |
//!
//! Masks are applied to the fresh input, before any multiplication: a
//! product by a plaintext vector multiplies the noise by about t * sqrt(N),
//! which after the depth-4 polynomial would leave a few bits of budget
//! (measured: 6 at level 0) where masking first leaves plenty. A masked-out
//! slot then holds p(0), which the plan takes out as a public offset.
//!
//! Every output is a sum of *parts*; a part is a linear combination of
//! result slots plus a public offset, computed mod t. The plan bounds every
//! part's true value inside (-t/2, t/2), so decoding each part to its
//! centred value and adding the parts in the integers is exact.

use rayon::prelude::*;

use fhe::bfv::Ciphertext;

use crate::error::{BfvError, Result};
use crate::eval::{interpolate, reduce, Counts, Ev};
use crate::keys::ServerKey;
use crate::layout::Layout;
use crate::params::{DEGREE, PLAINTEXT, ROW};
use crate::result::BfvResult;
use crate::video::Video;

/// Histogram bins (as many as 4-bit values).
pub const BINS: usize = 16;
/// Ciphertexts summed before one histogram reduction: 6 * 8192 < t / 2.
const HISTOGRAM_GROUP: usize = 6;
/// Largest |value| of one part: below t/2.
const PART_BOUND: i128 = (PLAINTEXT / 2) as i128;

/// One term of a [`Program::Linear`] model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Term {
    /// The frame.
    pub frame: u32,
    /// Pixel indices (row-major) within the frame.
    pub pixels: Vec<u32>,
    /// `None`: the pixel values; `Some(T)`: `[x < T]`.
    pub below: Option<u8>,
    /// The weight.
    pub weight: i64,
}

/// What to compute, in terms of frames and pixel indices (validated
/// against a [`Layout`] by [`Program::plan`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Program {
    /// Per frame: the number of `mask` pixels below `threshold`.
    CountBelow {
        /// Frames, one output each.
        frames: Vec<u32>,
        /// Pixel indices within a frame, strictly increasing.
        mask: Vec<u32>,
        /// Count `x < threshold`.
        threshold: u8,
    },
    /// 16 outputs: over all `frames` and `mask` pixels, how many have value `v`.
    Histogram {
        /// Frames.
        frames: Vec<u32>,
        /// Pixel indices within a frame, strictly increasing.
        mask: Vec<u32>,
    },
    /// Per frame, the valid 3x3 convolution ((W-2) x (H-2) outputs, row-major).
    Conv3x3 {
        /// Frames.
        frames: Vec<u32>,
        /// Row-major kernel.
        kernel: [i8; 9],
    },
    /// One output: the sum of the terms' weighted values (no bias).
    Linear {
        /// The terms.
        terms: Vec<Term>,
    },
}

/// One part of an output: `offset + sum(coef * slot)` mod t, centred.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    /// `(result ciphertext, slot, coefficient)`.
    pub terms: Vec<(usize, usize, u64)>,
    /// Public constant added.
    pub offset: u64,
}

/// A program laid out on a video: what the evaluation reads and where
/// each output lands in the result.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The program.
    pub program: Program,
    /// The video layout.
    pub layout: Layout,
    /// Input ciphertexts read; result ciphertext `i` comes from group `i`.
    pub groups: Vec<Vec<usize>>,
    /// Per output, its parts.
    pub outputs: Vec<Vec<Part>>,
}

impl Plan {
    /// Result ciphertexts an evaluation produces.
    pub fn result_ciphertexts(&self) -> usize {
        self.groups.len()
    }

    /// The operations [`evaluate`] runs on a video of this plan: exactly
    /// the [`Counts`] it returns, worked out from the plan alone (no key,
    /// no ciphertext), so a worker can price a job before any work. They
    /// depend on the program and the layout (thresholds, kernel zeros,
    /// which linear terms share a ciphertext), never on pixel values, and
    /// not on the video's packing class either: [`Plan::for_class`] only
    /// moves frames within the one ciphertext such a video fills.
    pub fn counts(&self) -> Counts {
        self.groups
            .iter()
            .map(|group| group_counts(&self.program, &self.layout, group))
            .fold(Counts::default(), |a, b| a + b)
    }

    /// This plan for a video of packing class `class` (see `pack.rs`): the
    /// same program with every frame moved to that class's place in a pack.
    pub fn for_class(&self, class: u8) -> Result<Plan> {
        self.layout.check_class(class)?;
        if class == 0 {
            return Ok(self.clone());
        }
        self.program
            .in_class(class, self.layout.shape.frames)
            .plan(&self.layout.pack()?)
    }
}

fn check_frames(frames: &[u32], layout: &Layout) -> Result<()> {
    if frames.is_empty() {
        return Err(BfvError::Invalid("no frames selected".into()));
    }
    if frames.windows(2).any(|w| w[0] >= w[1]) {
        return Err(BfvError::Invalid(
            "frame indices are not strictly increasing".into(),
        ));
    }
    if let Some(f) = frames.iter().find(|&&f| f >= layout.shape.frames) {
        return Err(BfvError::Invalid(format!(
            "frame {f} is outside the {}-frame video",
            layout.shape.frames
        )));
    }
    Ok(())
}

/// A mask selects each pixel at most once: the evaluation sets one 0/1
/// slot per pixel while the plan counts the mask's entries, so a repeated
/// index would add a phantom pixel of value 0.
fn check_mask(mask: &[u32], layout: &Layout) -> Result<()> {
    if mask.windows(2).any(|w| w[0] >= w[1]) {
        return Err(BfvError::Invalid(
            "mask pixel indices are not strictly increasing".into(),
        ));
    }
    check_pixels(mask, layout)
}

fn check_pixels(pixels: &[u32], layout: &Layout) -> Result<()> {
    if let Some(p) = pixels.iter().find(|&&p| p as usize >= layout.frame_pixels) {
        return Err(BfvError::Invalid(format!(
            "pixel {p} is outside the {}-pixel frame",
            layout.frame_pixels
        )));
    }
    Ok(())
}

fn levels(layout: &Layout) -> u64 {
    1u64 << layout.shape.bits
}

fn check_threshold(threshold: u8, layout: &Layout) -> Result<()> {
    if u64::from(threshold) > levels(layout) {
        return Err(BfvError::Invalid(format!(
            "threshold {threshold} exceeds 2^{}",
            layout.shape.bits
        )));
    }
    Ok(())
}

/// The `[x < T]` polynomial on `0 .. 2^bits`.
fn below_poly(threshold: u8, layout: &Layout) -> Vec<u64> {
    let values: Vec<u64> = (0..levels(layout))
        .map(|x| u64::from(x < u64::from(threshold)))
        .collect();
    interpolate(&values)
}

/// The 0/1 slot vector of ciphertext `ct`: 1 at the `mask` pixels of `frames`.
fn mask_slots(layout: &Layout, frames: &[u32], mask: &[u32], ct: usize) -> Vec<u64> {
    let mut m = vec![0u64; DEGREE];
    for &f in frames {
        for &p in mask {
            let (c, slot) = layout.place(f, p as usize);
            if c == ct {
                m[slot] = 1;
            }
        }
    }
    m
}

impl Program {
    /// The program with every frame index moved by `class * frames`.
    fn in_class(&self, class: u8, frames: u32) -> Program {
        let shift = |f: &u32| f + u32::from(class) * frames;
        match self {
            Program::CountBelow {
                frames,
                mask,
                threshold,
            } => Program::CountBelow {
                frames: frames.iter().map(shift).collect(),
                mask: mask.clone(),
                threshold: *threshold,
            },
            Program::Histogram { frames, mask } => Program::Histogram {
                frames: frames.iter().map(shift).collect(),
                mask: mask.clone(),
            },
            Program::Conv3x3 { frames, kernel } => Program::Conv3x3 {
                frames: frames.iter().map(shift).collect(),
                kernel: *kernel,
            },
            Program::Linear { terms } => Program::Linear {
                terms: terms
                    .iter()
                    .map(|t| Term {
                        frame: shift(&t.frame),
                        ..t.clone()
                    })
                    .collect(),
            },
        }
    }

    /// Validates the program against `layout` and lays it out.
    pub fn plan(&self, layout: &Layout) -> Result<Plan> {
        let plan = |groups, outputs| Plan {
            program: self.clone(),
            layout: *layout,
            groups,
            outputs,
        };
        match self {
            Program::CountBelow {
                frames,
                mask,
                threshold,
            } => {
                check_frames(frames, layout)?;
                check_mask(mask, layout)?;
                check_threshold(*threshold, layout)?;
                let cts = layout.ciphertexts_of(frames);
                let index = |ct: usize| cts.iter().position(|&c| c == ct).unwrap_or(0);
                // Pixels outside the mask are zeroed before the polynomial,
                // so each of them adds [0 < T]; the offset takes that out.
                let below_zero = u64::from(*threshold > 0);
                let mut in_chunk = vec![0u64; layout.chunks];
                for &p in mask {
                    in_chunk[p as usize / layout.segment] += 1;
                }
                let outputs = frames
                    .iter()
                    .map(|&f| {
                        (0..layout.chunks)
                            .map(|chunk| {
                                let (ct, slot) = layout.segment_start(f, chunk);
                                let outside = layout.segment as u64 - in_chunk[chunk];
                                Part {
                                    terms: vec![(index(ct), slot, 1)],
                                    offset: reduce(-((outside * below_zero) as i64)),
                                }
                            })
                            .collect()
                    })
                    .collect();
                Ok(plan(cts.into_iter().map(|c| vec![c]).collect(), outputs))
            }
            Program::Histogram { frames, mask } => {
                check_frames(frames, layout)?;
                check_mask(mask, layout)?;
                let cts = layout.ciphertexts_of(frames);
                let groups: Vec<Vec<usize>> =
                    cts.chunks(HISTOGRAM_GROUP).map(<[usize]>::to_vec).collect();
                // Selected pixels per group (S_0, the count of the power x^0).
                let mut counts = vec![0u64; groups.len()];
                for &f in frames {
                    for &p in mask {
                        let (ct, _) = layout.place(f, p as usize);
                        if let Some(g) = groups.iter().position(|g| g.contains(&ct)) {
                            counts[g] += 1;
                        }
                    }
                }
                let k_max = (levels(layout) - 1) as usize;
                let class = histogram_classes(k_max);
                let outputs = (0..BINS as u64)
                    .map(|v| {
                        if v >= levels(layout) {
                            return Vec::new();
                        }
                        let values: Vec<u64> =
                            (0..levels(layout)).map(|x| u64::from(x == v)).collect();
                        let c = interpolate(&values);
                        (0..groups.len())
                            .map(|g| Part {
                                terms: (1..=k_max)
                                    .filter(|&k| c[k] != 0)
                                    .map(|k| (g, k % class, c[k]))
                                    .collect(),
                                offset: c[0] * (counts[g] % PLAINTEXT) % PLAINTEXT,
                            })
                            .collect()
                    })
                    .collect();
                Ok(plan(groups, outputs))
            }
            Program::Conv3x3 { frames, .. } => {
                check_frames(frames, layout)?;
                let (w, h) = (
                    usize::from(layout.shape.width),
                    usize::from(layout.shape.height),
                );
                if w < 3 || h < 3 {
                    return Err(BfvError::Invalid(format!(
                        "frames of {w}x{h} are smaller than 3x3"
                    )));
                }
                if layout.chunks != 1 {
                    return Err(BfvError::Invalid(format!(
                        "conv3x3 on BFV takes frames of at most {ROW} pixels ({w}x{h} has {})",
                        w * h
                    )));
                }
                let cts = layout.ciphertexts_of(frames);
                let index = |ct: usize| cts.iter().position(|&c| c == ct).unwrap_or(0);
                let mut outputs = Vec::new();
                for &f in frames {
                    let (ct, start) = layout.segment_start(f, 0);
                    for y in 0..h - 2 {
                        for x in 0..w - 2 {
                            outputs.push(vec![Part {
                                terms: vec![(index(ct), start + y * w + x, 1)],
                                offset: 0,
                            }]);
                        }
                    }
                }
                Ok(plan(cts.into_iter().map(|c| vec![c]).collect(), outputs))
            }
            Program::Linear { terms } => {
                let max = i128::from(levels(layout) - 1);
                // Bound of each (frame, chunk) part, and the ciphertexts touched.
                let mut bound = std::collections::BTreeMap::<(u32, usize), i128>::new();
                for (i, t) in terms.iter().enumerate() {
                    check_frames(&[t.frame], layout)
                        .map_err(|e| BfvError::Invalid(format!("term {i}: {e}")))?;
                    check_pixels(&t.pixels, layout)
                        .map_err(|e| BfvError::Invalid(format!("term {i}: {e}")))?;
                    if let Some(th) = t.below {
                        check_threshold(th, layout)
                            .map_err(|e| BfvError::Invalid(format!("term {i}: {e}")))?;
                    }
                    let per = if t.below.is_some() { 1 } else { max };
                    for &p in &t.pixels {
                        *bound
                            .entry((t.frame, p as usize / layout.segment))
                            .or_default() += i128::from(t.weight).abs() * per;
                    }
                }
                if let Some(((f, _), b)) = bound.iter().find(|(_, &b)| b >= PART_BOUND) {
                    return Err(BfvError::Invalid(format!(
                        "linear-model: frame {f}'s weighted sum can reach {b}, beyond BFV's exact \
                         range of +-{PART_BOUND} (t = {PLAINTEXT}); use smaller weights or TFHE"
                    )));
                }
                let frames: Vec<u32> = {
                    let mut f: Vec<u32> = bound.keys().map(|(f, _)| *f).collect();
                    f.dedup();
                    f
                };
                let cts = layout.ciphertexts_of(&frames);
                let index = |ct: usize| cts.iter().position(|&c| c == ct).unwrap_or(0);
                // The threshold layers of each ciphertext, built once (the
                // evaluation builds the same ones, in eval_group).
                let layers: Vec<Vec<Layer>> = cts
                    .iter()
                    .map(|&ct| below_layers(terms, layout, ct))
                    .collect();
                let parts = bound
                    .keys()
                    .map(|&(f, chunk)| {
                        let (ct, slot) = layout.segment_start(f, chunk);
                        // Each threshold layer evaluated on this ciphertext adds
                        // weight * [0 < T] for every slot of the segment outside its mask.
                        let mut offset = 0i64;
                        for layer in &layers[index(ct)] {
                            let inside = layer.mask[slot..slot + layout.segment]
                                .iter()
                                .filter(|&&m| m == 1)
                                .count() as i64;
                            let outside = layout.segment as i64 - inside;
                            offset -= layer.weight * i64::from(layer.threshold > 0)
                                % PLAINTEXT as i64
                                * outside;
                            offset = offset.rem_euclid(PLAINTEXT as i64);
                        }
                        Part {
                            terms: vec![(index(ct), slot, 1)],
                            offset: reduce(offset),
                        }
                    })
                    .collect();
                Ok(plan(
                    cts.into_iter().map(|c| vec![c]).collect(),
                    vec![parts],
                ))
            }
        }
    }
}

/// One threshold layer of a linear model on one ciphertext: the pixels
/// of terms sharing `(threshold, weight)`, each at most once.
struct Layer {
    threshold: u8,
    weight: i64,
    mask: Vec<u64>,
}

/// The layers of `terms` on ciphertext `ct`, in a fixed order. The weight
/// is applied as a constant after the polynomial (a small constant keeps
/// the noise small, where a vector of weights would not), so terms are
/// grouped by `(threshold, weight)`; a pixel already in a layer's mask goes
/// to a further layer of the same key.
fn below_layers(terms: &[Term], layout: &Layout, ct: usize) -> Vec<Layer> {
    let mut layers: Vec<Layer> = Vec::new();
    for t in terms {
        let Some(threshold) = t.below else { continue };
        if t.weight == 0 {
            continue;
        }
        for &p in &t.pixels {
            let (c, slot) = layout.place(t.frame, p as usize);
            if c != ct {
                continue;
            }
            let layer = match layers
                .iter_mut()
                .position(|l| l.threshold == threshold && l.weight == t.weight && l.mask[slot] == 0)
            {
                Some(i) => &mut layers[i],
                None => {
                    layers.push(Layer {
                        threshold,
                        weight: t.weight,
                        mask: vec![0u64; DEGREE],
                    });
                    let last = layers.len() - 1;
                    &mut layers[last]
                }
            };
            layer.mask[slot] = 1;
        }
    }
    layers
}

/// The summed weights of the plain-value terms of `terms` on ciphertext
/// `ct`, slot by slot; `None` when no such term has a pixel there (a term
/// of weight 0 still counts: the evaluation multiplies by its zeros).
fn plain_weights(terms: &[Term], layout: &Layout, ct: usize) -> Option<Vec<u64>> {
    let in_ct = |t: &&Term| {
        layout.segment_start(t.frame, 0).0 <= ct
            && layout.segment_start(t.frame, layout.chunks - 1).0 >= ct
    };
    let mut w_sum = vec![0u64; DEGREE];
    let mut any = false;
    for t in terms.iter().filter(in_ct).filter(|t| t.below.is_none()) {
        for &p in &t.pixels {
            let (c, slot) = layout.place(t.frame, p as usize);
            if c == ct {
                w_sum[slot] = (w_sum[slot] + reduce(t.weight)) % PLAINTEXT;
                any = true;
            }
        }
    }
    any.then_some(w_sum)
}

/// Slot classes of the histogram reduction: the power sums of x^k land in
/// slot `k mod classes`; `classes` is the least power of two above k_max.
fn histogram_classes(k_max: usize) -> usize {
    (k_max + 1).next_power_of_two()
}

/// Evaluates `plan` on `video` with `key`: the result (stored at the last
/// level) and the operations it took. Ciphertexts are evaluated in
/// parallel on the current rayon pool; the bytes do not depend on it.
pub fn evaluate(key: &ServerKey, plan: &Plan, video: &Video) -> Result<(BfvResult, Counts)> {
    if video.layout() != &plan.layout {
        return Err(BfvError::Invalid(format!(
            "the video's shape {:?} is not the plan's {:?}",
            video.layout().shape,
            plan.layout.shape
        )));
    }
    // A video encrypted for packing sits in its class's segments.
    let plan = &plan.for_class(video.class())?;
    let ev = Ev::new(key);
    let inputs = video.ciphertexts();
    let layout = &plan.layout;
    let cts: Vec<Ciphertext> = plan
        .groups
        .par_iter()
        .map(|group| eval_group(&ev, &plan.program, layout, group, inputs))
        .collect::<Result<_>>()?;
    let result = BfvResult::from_evaluated(key.param_set(), video.class(), cts)?;
    Ok((result, ev.counts()))
}

/// The operations [`eval_group`] runs on `group`, from the program alone:
/// its branches, operation for operation (see [`Counts::polynomial`] and
/// the other static counts).
pub(crate) fn group_counts(program: &Program, layout: &Layout, group: &[usize]) -> Counts {
    match program {
        Program::CountBelow { threshold, .. } => {
            Counts::plain(1)
                + Counts::polynomial(&below_poly(*threshold, layout))
                + Counts::segment_sum(layout.segment)
        }
        Program::Histogram { .. } => {
            let k_max = (levels(layout) - 1) as usize;
            let classes = histogram_classes(k_max);
            // Per ciphertext: the mask, then x^1 .. x^k_max.
            let per_ct = Counts::plain(1) + Counts::powers(k_max);
            // Per power sum: window sums of width `classes`, then the keep mask.
            let per_power = Counts::segment_sum(classes) + Counts::plain(1);
            // The shared reduction: columns from `classes` up to a row, then the row swap.
            let reduction = Counts::segment_sum(ROW / classes) + Counts::rotations(1);
            let mut n = reduction;
            for _ in group {
                n += per_ct;
            }
            for _ in 0..k_max {
                n += per_power;
            }
            n
        }
        Program::Conv3x3 { kernel, .. } => {
            let w = usize::from(layout.shape.width);
            // The taps x, x >> 1 and x >> 2.
            let mut n = Counts::rotations(2);
            for row in 0..3 {
                let taps = kernel[row * 3..row * 3 + 3]
                    .iter()
                    .filter(|&&k| k != 0)
                    .count() as u64;
                n += Counts::plain(taps);
                if taps > 0 && row > 0 {
                    n += Counts::rotate_by(row * w);
                }
            }
            if kernel.iter().all(|&k| k == 0) {
                n += Counts::plain(1);
            }
            n
        }
        Program::Linear { terms } => {
            let ct = group[0];
            let mut n = Counts::default();
            let plain = plain_weights(terms, layout, ct).is_some();
            if plain {
                n += Counts::plain(1);
            }
            let layers = below_layers(terms, layout, ct);
            for layer in &layers {
                // The layer's mask, its polynomial, its weight.
                n += Counts::plain(2) + Counts::polynomial(&below_poly(layer.threshold, layout));
            }
            if !plain && layers.is_empty() {
                n += Counts::plain(1);
            }
            n + Counts::segment_sum(layout.segment)
        }
    }
}

pub(crate) fn eval_group(
    ev: &Ev,
    program: &Program,
    layout: &Layout,
    group: &[usize],
    inputs: &[Ciphertext],
) -> Result<Ciphertext> {
    let input = |ct: usize| {
        inputs
            .get(ct)
            .ok_or_else(|| BfvError::Invalid(format!("the video has no ciphertext {ct}")))
    };
    match program {
        Program::CountBelow {
            frames,
            mask,
            threshold,
        } => {
            let ct = group[0];
            let x = ev.mul_plain(input(ct)?, &mask_slots(layout, frames, mask, ct))?;
            let y = ev.polynomial(&x, &below_poly(*threshold, layout))?;
            ev.segment_sum(&y, layout.segment)
        }
        Program::Histogram { frames, mask } => {
            let k_max = (levels(layout) - 1) as usize;
            // Power sums over the group: P_k = sum over its ciphertexts of (x*M)^k.
            let mut sums: Option<Vec<Ciphertext>> = None;
            for &ct in group {
                let x = ev.mul_plain(input(ct)?, &mask_slots(layout, frames, mask, ct))?;
                let pows = ev.powers(&x, k_max)?;
                sums = Some(match sums {
                    None => pows,
                    Some(acc) => acc.iter().zip(&pows).map(|(a, b)| a + b).collect(),
                });
            }
            let sums = sums.ok_or_else(|| BfvError::Invalid("an empty group".into()))?;
            // Shared reduction: window sums of width `classes`, keep class k
            // of P_k, then sum each class over the whole ciphertext.
            let classes = histogram_classes(k_max);
            let kept: Vec<Ciphertext> = sums
                .par_iter()
                .enumerate()
                .map(|(i, p)| {
                    let k = i + 1;
                    let window = ev.segment_sum(p, classes)?;
                    let keep: Vec<u64> = (0..DEGREE)
                        .map(|s| u64::from(s % classes == k % classes))
                        .collect();
                    ev.mul_plain(&window, &keep)
                })
                .collect::<Result<_>>()?;
            let mut packed: Option<Ciphertext> = None;
            for k in kept {
                packed = Some(match packed {
                    None => k,
                    Some(acc) => &acc + &k,
                });
            }
            let packed = packed.ok_or_else(|| BfvError::Invalid("no powers".into()))?;
            let mut acc = packed;
            let mut step = classes;
            while step < ROW {
                let r = ev.rotate(&acc, step as u32)?;
                acc += &r;
                step *= 2;
            }
            let r = ev.rotate(&acc, 0)?;
            acc += &r;
            Ok(acc)
        }
        Program::Conv3x3 { kernel, .. } => {
            let x = input(group[0])?;
            let w = usize::from(layout.shape.width);
            let r1 = ev.rotate(x, 1)?;
            let r2 = ev.rotate(x, 2)?;
            let taps = [x, &r1, &r2];
            let mut out: Option<Ciphertext> = None;
            for row in 0..3 {
                let mut h: Option<Ciphertext> = None;
                for (i, tap) in taps.iter().enumerate() {
                    let k = kernel[row * 3 + i];
                    if k == 0 {
                        continue;
                    }
                    let term = ev.mul_scalar(tap, reduce(i64::from(k)))?;
                    h = Some(match h {
                        None => term,
                        Some(acc) => &acc + &term,
                    });
                }
                let Some(h) = h else { continue };
                let h = if row == 0 {
                    h
                } else {
                    ev.rotate_by(&h, row * w)?
                };
                out = Some(match out {
                    None => h,
                    Some(acc) => &acc + &h,
                });
            }
            match out {
                Some(o) => Ok(o),
                // An all-zero kernel: zero in every slot.
                None => ev.mul_scalar(x, 0),
            }
        }
        Program::Linear { terms } => {
            let ct = group[0];
            let x = input(ct)?;
            let mut acc: Option<Ciphertext> = None;
            let mut add = |c: Ciphertext| {
                acc = Some(match acc.take() {
                    None => c,
                    Some(a) => &a + &c,
                })
            };
            // Plain-value terms: one product by the summed weights.
            if let Some(w_sum) = plain_weights(terms, layout, ct) {
                add(ev.mul_plain(x, &w_sum)?);
            }
            // Threshold terms: one masked polynomial per layer (see below_layers).
            for layer in below_layers(terms, layout, ct) {
                let masked = ev.mul_plain(x, &layer.mask)?;
                let ind = ev.polynomial(&masked, &below_poly(layer.threshold, layout))?;
                add(ev.mul_scalar(&ind, reduce(layer.weight))?);
            }
            let acc = match acc {
                Some(a) => a,
                None => ev.mul_scalar(x, 0)?,
            };
            ev.segment_sum(&acc, layout.segment)
        }
    }
}
