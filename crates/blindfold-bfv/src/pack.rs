//! Many videos per ciphertext.
//!
//! A 32x32 ED+ES video fills 2 of a ciphertext's 8 segments. Evaluated
//! alone, it wastes three quarters of every operation. So the data owner
//! may encrypt each video into one of the shape's *classes*
//! ([`Layout::classes`], [`Video::encrypt_in_class`]): class `c` starts at
//! segment `c * m` (m = a video's segments), every other slot zero. Videos
//! of distinct classes then pack into one ciphertext by addition alone, and
//! the pack is evaluated once, as one video of `classes * frames` frames;
//! its result ciphertext holds every member's outputs. Still one blob per
//! video: revoking one drops it from its pack.
//!
//! Packing by rotating videos into place at the worker would avoid the
//! classes, but fhe.rs's key switching (RNS decomposition, no special
//! prime) adds about 2^50 of noise to a fresh ciphertext, and the lv-area
//! polynomial then fails to decrypt (measured: -1 bits of budget).
//!
//! **Not done: several packs per result ciphertext.** Merging packs needs
//! one product by a 0/1 plaintext to clear the slots that hold no sum,
//! which costs about 24 bits of budget; the lv-area polynomial's
//! coefficients are arbitrary elements of Z_t and leave too little for it
//! at N = 8192. A result stays at one ciphertext (88 kB) per pack.
//!
//! Packing is deterministic: videos are taken in the order given, each into
//! the first open pack that lacks its class.

use fhe::bfv::Ciphertext;
use rayon::prelude::*;

use crate::error::{BfvError, Result};
use crate::eval::{Counts, Ev};
use crate::keys::ServerKey;
use crate::layout::{Layout, Shape};
use crate::program::{eval_group, Part, Program};
use crate::result::BfvResult;
use crate::video::Video;

/// Where each video's outputs are in a packed result.
#[derive(Clone, Debug)]
pub struct PackedPlan {
    /// Videos per pack.
    pub per_pack: usize,
    /// Per video (in the order given), per output, its parts.
    pub outputs: Vec<Vec<Vec<Part>>>,
    /// Result ciphertexts.
    pub results: usize,
}

/// The virtual video of one pack: every class side by side.
fn pack_layout(layout: &Layout) -> Result<Layout> {
    Layout::new(Shape {
        frames: layout.shape.frames * layout.classes() as u32,
        ..layout.shape
    })
}

/// Packs of the videos of `classes` (in order): each video goes into the
/// first pack that lacks its class. Returns, per pack, its members.
pub fn packs(classes: &[u8]) -> Vec<Vec<usize>> {
    let mut packs: Vec<Vec<usize>> = Vec::new();
    for (v, &c) in classes.iter().enumerate() {
        match packs
            .iter_mut()
            .find(|p| p.iter().all(|&m| classes[m] != c))
        {
            Some(p) => p.push(v),
            None => packs.push(vec![v]),
        }
    }
    packs
}

/// The program of one pack whose members have `classes`.
fn pack_program(program: &Program, layout: &Layout, classes: &[u8]) -> Result<Program> {
    let Program::CountBelow {
        frames,
        mask,
        threshold,
    } = program
    else {
        return Err(BfvError::Invalid(
            "only per-frame counts (lv-area) are packed".into(),
        ));
    };
    let mut sorted: Vec<u8> = classes.to_vec();
    sorted.sort_unstable();
    Ok(Program::CountBelow {
        frames: sorted
            .iter()
            .flat_map(|&c| {
                frames
                    .iter()
                    .map(move |&f| u32::from(c) * layout.shape.frames + f)
            })
            .collect(),
        mask: mask.clone(),
        threshold: *threshold,
    })
}

/// Lays out `program` (a `CountBelow` on videos of `layout`) on videos of
/// `classes`: the packs and where each video's outputs are.
pub fn packed_plan(program: &Program, layout: &Layout, classes: &[u8]) -> Result<PackedPlan> {
    let Program::CountBelow { frames, .. } = program else {
        return Err(BfvError::Invalid(
            "only per-frame counts (lv-area) are packed".into(),
        ));
    };
    if let Some(c) = classes
        .iter()
        .find(|&&c| usize::from(c) >= layout.classes())
    {
        return Err(BfvError::Invalid(format!(
            "class {c}, but a ciphertext holds {} videos of this shape",
            layout.classes()
        )));
    }
    let virtual_layout = pack_layout(layout)?;
    let packs = packs(classes);
    let mut outputs = vec![Vec::new(); classes.len()];
    for (p, members) in packs.iter().enumerate() {
        let member_classes: Vec<u8> = members.iter().map(|&m| classes[m]).collect();
        let plan = pack_program(program, layout, &member_classes)?.plan(&virtual_layout)?;
        let mut sorted = member_classes.clone();
        sorted.sort_unstable();
        for &m in members {
            let rank = sorted.iter().position(|&c| c == classes[m]).unwrap_or(0);
            let outs = &plan.outputs[rank * frames.len()..(rank + 1) * frames.len()];
            outputs[m] = outs
                .iter()
                .map(|parts| {
                    parts
                        .iter()
                        .map(|part| Part {
                            terms: part
                                .terms
                                .iter()
                                .map(|&(_, slot, c)| (p, slot, c))
                                .collect(),
                            offset: part.offset,
                        })
                        .collect()
                })
                .collect();
        }
    }
    Ok(PackedPlan {
        per_pack: layout.classes(),
        outputs,
        results: packs.len(),
    })
}

/// Evaluates `program` (a `CountBelow` on videos of `layout`) on `videos`,
/// packed by class: the result (one ciphertext per pack), where each
/// video's outputs are, and the operations.
pub fn evaluate_packed(
    key: &ServerKey,
    program: &Program,
    layout: &Layout,
    videos: &[Video],
) -> Result<(BfvResult, PackedPlan, Counts)> {
    if let Some(v) = videos.iter().find(|v| v.layout() != layout) {
        return Err(BfvError::Invalid(format!(
            "a video of shape {:?} in a job of shape {:?}",
            v.layout().shape,
            layout.shape
        )));
    }
    let classes: Vec<u8> = videos.iter().map(Video::class).collect();
    let plan = packed_plan(program, layout, &classes)?;
    let virtual_layout = pack_layout(layout)?;
    let ev = Ev::new(key);
    let cts: Vec<Ciphertext> = packs(&classes)
        .par_iter()
        .map(|members| -> Result<Ciphertext> {
            let member_classes: Vec<u8> = members.iter().map(|&m| classes[m]).collect();
            let program = pack_program(program, layout, &member_classes)?;
            let mut packed: Option<Ciphertext> = None;
            for &m in members {
                let ct = &videos[m].ciphertexts()[0];
                packed = Some(match packed {
                    None => ct.clone(),
                    Some(acc) => &acc + ct,
                });
            }
            let packed = packed.ok_or_else(|| BfvError::Invalid("an empty pack".into()))?;
            eval_group(&ev, &program, &virtual_layout, &[0], &[packed])
        })
        .collect::<Result<_>>()?;
    let result = BfvResult::from_evaluated(key.param_set(), cts)?;
    Ok((result, plan, ev.counts()))
}
/// Decrypts the outputs of a packed result: per video, per output.
pub fn decrypt_packed(
    result: &BfvResult,
    key: &crate::keys::ClientKey,
    plan: &PackedPlan,
) -> Result<Vec<Vec<i64>>> {
    let flat: Vec<Vec<Part>> = plan.outputs.iter().flatten().cloned().collect();
    let values = result.decrypt_outputs(key, plan.results, &flat)?;
    let per_video = plan.outputs.first().map_or(0, Vec::len);
    Ok(values
        .chunks(per_video.max(1))
        .map(<[i64]>::to_vec)
        .collect())
}
