//! Many videos per ciphertext, and many packs per result ciphertext
//! (lv-area's per-frame counts).
//!
//! **Packs.** A 32x32 ED+ES video fills 2 of a ciphertext's 8 segments.
//! Evaluated alone, it wastes three quarters of every operation. So the
//! data owner encrypts each video into one of the shape's *classes*
//! ([`Layout::classes`], [`Video::encrypt_in_class`]; the client picks
//! `submission index mod classes`): class `c` starts at segment `c * m`
//! (m = a video's segments), every other slot zero. Videos of distinct
//! classes then pack into one ciphertext by addition alone, and the pack is
//! evaluated once, as one video of `classes * frames` frames. Still one
//! blob per video: revoking one drops it from its pack.
//!
//! **Gathering.** A pack's evaluated ciphertext holds each frame's count
//! in the first slot of its segment and partial sums everywhere else. One
//! product by a 0/1 plaintext keeps every segment's first slot; pack `j` of a run of
//! [`PACKS_PER_RESULT`] is then rotated left by `j` slots (a binary tree:
//! `n - 1` rotations for `n` packs, each by a power of two) and the run is
//! added into one result ciphertext. The counts of distinct packs land in
//! distinct slots because `j` is below the segment size. One 88 kB
//! ciphertext then holds the counts of 16 packs: 64 ED+ES videos of 32x32,
//! about 1.4 kB per video instead of 22 kB.
//!
//! **Noise.** After the lv-area polynomial on an irregular mask about 30
//! bits of budget are left at the full level. The 0/1 product costs 17 to
//! 18 (whatever the pattern of ones: fhe.rs's slot order makes every such
//! plaintext dense), and the sum of 16 packs 1 to 3 more. Measured on a
//! full unit: 8 bits left; over every threshold 0..=16 on a short unit: 6
//! at least (`tests/programs.rs` fails below 5). That bounds
//! [`PACKS_PER_RESULT`]: 64 packs (344 bytes per video) leave 7 bits on a
//! full unit and would leave too little at the worst thresholds. The result
//! is then switched to the last level, as every BFV result is.
//!
//! Packing by rotating *inputs* into place at the worker would avoid the
//! classes, but fhe.rs's key switching (RNS decomposition, no special
//! prime) adds about 2^50 of noise to a fresh ciphertext, and the lv-area
//! polynomial then fails to decrypt (measured: -1 bits of budget).
//!
//! **Units.** The job layer evaluates a job in *units* of
//! [`unit_size`] consecutive inputs: one [`PackedResult`] each, so a crash
//! loses one unit at most and the data owner can verify a sample of units.
//! Packing is deterministic: videos are taken in the order given, each into
//! the first open pack that lacks its class, and the packs are gathered in
//! that order.
//!
//! Bytes of a [`PackedResult`] (after the [`wire`](crate::wire) header):
//!
//! ```text
//! members u32          videos in the unit
//! members x u8         each video's class, in the order given
//! count u32            result ciphertexts = ceil(packs / runs)
//! count x item         fhe.rs Ciphertext protobuf at the last level
//! ```

use std::borrow::Borrow;

use fhe::bfv::Ciphertext;
use rayon::prelude::*;

use crate::error::{BfvError, Result};
use crate::eval::{Counts, Ev};
use crate::keys::{ClientKey, ServerKey};
use crate::layout::Layout;
use crate::params::{BfvParamSet, ROW};
use crate::program::{eval_group, group_counts, Part, Program};
use crate::result::BfvResult;
use crate::video::Video;
use crate::wire::{header, Kind, Reader};

/// Packs gathered into one result ciphertext (at most; fewer when a
/// segment is shorter). Bounded by the noise the sum adds (module docs).
pub const PACKS_PER_RESULT: usize = 16;

/// Whether `program` on videos of `layout` is evaluated packed and
/// gathered: per-frame counts on a video that fits one ciphertext.
pub fn packs_program(program: &Program, layout: &Layout) -> bool {
    matches!(program, Program::CountBelow { .. }) && layout.ciphertexts == 1
}

/// Packs gathered into one result ciphertext on videos of `layout`.
fn per_result(layout: &Layout) -> usize {
    PACKS_PER_RESULT.min(layout.segment)
}

/// Inputs the job layer evaluates together into one [`PackedResult`]:
/// enough for [`PACKS_PER_RESULT`] full packs.
pub fn unit_size(layout: &Layout) -> usize {
    layout.classes() * per_result(layout)
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

/// Slot `slot` of a ciphertext after its rows are rotated left by `by`.
fn rotated(slot: usize, by: usize) -> usize {
    slot / ROW * ROW + (slot % ROW + ROW - by % ROW) % ROW
}

/// Where each video's outputs are in a packed result.
#[derive(Clone, Debug)]
pub struct PackedPlan {
    /// Videos per pack.
    pub per_pack: usize,
    /// Per video (in the order given), per output, its parts.
    pub outputs: Vec<Vec<Vec<Part>>>,
    /// Result ciphertexts.
    pub results: usize,
    /// The packs: their members and their evaluated program.
    packs: Vec<(Vec<usize>, Program)>,
    /// The layout a pack is evaluated on ([`Layout::pack`]).
    pack_layout: Layout,
}

impl PackedPlan {
    /// The operations [`evaluate_packed`] runs on the videos of this plan:
    /// exactly the [`Counts`] it returns, from the plan alone (no key, no
    /// ciphertext). Per pack: its `CountBelow` on one ciphertext
    /// ([`Plan::counts`](crate::Plan::counts)) and the 0/1 product that
    /// keeps the counts; per result ciphertext, one rotation per gathered
    /// pack but the first. The number of packs depends on the members'
    /// classes (read from their blobs): a unit of 64 videos of 4 classes is
    /// 16 packs when the classes alternate, 64 when they are all equal.
    pub fn counts(&self) -> Counts {
        let mut n = Counts::default();
        for (_, program) in &self.packs {
            n += group_counts(program, &self.pack_layout, &[0]) + Counts::plain(1);
        }
        // gather(): runs of per_result packs, `len - 1` rotations each.
        n + Counts::rotations((self.packs.len() - self.results) as u64)
    }
}

/// Lays out `program` (a `CountBelow` on videos of `layout`) on videos of
/// `classes`: the packs, their gathering, and where each video's outputs are.
pub fn packed_plan(program: &Program, layout: &Layout, classes: &[u8]) -> Result<PackedPlan> {
    let Program::CountBelow { frames, .. } = program else {
        return Err(BfvError::Invalid(
            "only per-frame counts (lv-area) are packed".into(),
        ));
    };
    if !packs_program(program, layout) {
        return Err(BfvError::Invalid(format!(
            "a video of {} ciphertexts is not packed",
            layout.ciphertexts
        )));
    }
    for &c in classes {
        layout.check_class(c)?;
    }
    let virtual_layout = layout.pack()?;
    let run = per_result(layout);
    let mut outputs = vec![Vec::new(); classes.len()];
    let mut packs_out = Vec::new();
    for (p, members) in packs(classes).into_iter().enumerate() {
        let (result, by) = (p / run, p % run);
        let member_classes: Vec<u8> = members.iter().map(|&m| classes[m]).collect();
        let pack = pack_program(program, layout, &member_classes)?;
        let plan = pack.plan(&virtual_layout)?;
        let mut sorted = member_classes.clone();
        sorted.sort_unstable();
        for &m in &members {
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
                                .map(|&(_, slot, c)| (result, rotated(slot, by), c))
                                .collect(),
                            offset: part.offset,
                        })
                        .collect()
                })
                .collect();
        }
        packs_out.push((members, pack));
    }
    Ok(PackedPlan {
        per_pack: layout.classes(),
        outputs,
        results: packs_out.len().div_ceil(run),
        packs: packs_out,
        pack_layout: virtual_layout,
    })
}

/// Adds `cts` into one ciphertext, `cts[j]` rotated left by `j` slots:
/// a binary tree, one rotation (by a power of two) per ciphertext but the first.
fn gather(ev: &Ev, cts: Vec<Ciphertext>) -> Result<Ciphertext> {
    let mut level = cts;
    let mut step = 1u32;
    while level.len() > 1 {
        level = level
            .par_chunks(2)
            .map(|pair| match pair {
                [a, b] => Ok(a + &ev.rotate(b, step)?),
                [a] => Ok(a.clone()),
                _ => Err(BfvError::Invalid("an empty gathering".into())),
            })
            .collect::<Result<_>>()?;
        step *= 2;
    }
    level
        .pop()
        .ok_or_else(|| BfvError::Invalid("nothing to gather".into()))
}

/// A unit's evaluated result: the members' classes (which say where each
/// member's outputs are) and the gathered ciphertexts.
#[derive(Clone, Debug)]
pub struct PackedResult {
    classes: Vec<u8>,
    result: BfvResult,
}

impl PackedResult {
    /// The members' classes, in the order given.
    pub fn classes(&self) -> &[u8] {
        &self.classes
    }

    /// The gathered ciphertexts.
    pub fn result(&self) -> &BfvResult {
        &self.result
    }

    /// The blob's bytes (see the module docs).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = header(Kind::PackedResult, self.result.param_set());
        out.extend_from_slice(&(self.classes.len() as u32).to_be_bytes());
        out.extend_from_slice(&self.classes);
        self.result.put_body(&mut out);
        out
    }

    /// The largest blob a unit of `members` videos of `layout` can be.
    pub fn limit(set: BfvParamSet, layout: &Layout, members: usize) -> u64 {
        // At most one pack per member, so at most this many ciphertexts.
        let cts = members.div_ceil(per_result(layout)) as u64;
        64 + members as u64 + cts * (4 + set.ciphertext_limit(set.last_level()))
    }

    /// Reads an untrusted packed result of a unit of `members` videos of
    /// `layout` evaluated with `program`: the classes are checked, then the
    /// ciphertext count against the plan they give.
    pub fn from_bytes(
        bytes: &[u8],
        set: BfvParamSet,
        program: &Program,
        layout: &Layout,
        members: usize,
    ) -> Result<(Self, PackedPlan)> {
        let limit = Self::limit(set, layout, members);
        let mut r = Reader::open(bytes, Kind::PackedResult, set, limit)?;
        let count = r.u32()? as usize;
        if count != members {
            return Err(BfvError::malformed(
                r.what(),
                format!("{count} members, not the unit's {members}"),
            ));
        }
        let classes = r.take(count)?.to_vec();
        let plan = packed_plan(program, layout, &classes)
            .map_err(|e| BfvError::malformed(r.what(), e.to_string()))?;
        let result = BfvResult::read_body(&mut r, set, plan.results)?;
        r.finish()?;
        Ok((PackedResult { classes, result }, plan))
    }

    /// Decrypts the outputs: per member, per output. Only for results the
    /// data owner has verified (see `blindfold-job`).
    pub fn decrypt(&self, key: &ClientKey, plan: &PackedPlan) -> Result<Vec<Vec<i64>>> {
        let flat: Vec<Vec<Part>> = plan.outputs.iter().flatten().cloned().collect();
        let values = self.result.decrypt_outputs(key, plan.results, &flat)?;
        let per_video = plan.outputs.first().map_or(0, Vec::len);
        Ok(values
            .chunks(per_video.max(1))
            .map(<[i64]>::to_vec)
            .collect())
    }
}

/// Evaluates `program` (a `CountBelow` on videos of `layout`) on `videos`:
/// packed by class, each pack's counts kept by a 0/1 product, and the packs
/// gathered [`PACKS_PER_RESULT`] to a result ciphertext. Returns the
/// result, where each video's outputs are, and the operations. `videos`
/// may be owned or borrowed (`&[Video]` or `&[&Video]`): nothing is copied.
pub fn evaluate_packed<V: Borrow<Video> + Sync>(
    key: &ServerKey,
    program: &Program,
    layout: &Layout,
    videos: &[V],
) -> Result<(PackedResult, PackedPlan, Counts)> {
    let videos: Vec<&Video> = videos.iter().map(Borrow::borrow).collect();
    if let Some(v) = videos.iter().find(|v| v.layout() != layout) {
        return Err(BfvError::Invalid(format!(
            "a video of shape {:?} in a job of shape {:?}",
            v.layout().shape,
            layout.shape
        )));
    }
    let classes: Vec<u8> = videos.iter().map(|v| v.class()).collect();
    let plan = packed_plan(program, layout, &classes)?;
    let ev = Ev::new(key);
    // Every segment's first slot: a regular pattern, whose plaintext costs
    // 18 bits of budget where an irregular one (only the members' segments)
    // costs about 27. A segment of no member holds a public constant.
    let keep: Vec<u64> = (0..crate::params::DEGREE)
        .map(|s| u64::from(s % layout.segment == 0))
        .collect();
    let kept: Vec<Ciphertext> = plan
        .packs
        .par_iter()
        .map(|(members, program)| -> Result<Ciphertext> {
            let mut packed: Option<Ciphertext> = None;
            for &m in members {
                let ct = &videos[m].ciphertexts()[0];
                packed = Some(match packed {
                    None => ct.clone(),
                    Some(acc) => &acc + ct,
                });
            }
            let packed = packed.ok_or_else(|| BfvError::Invalid("an empty pack".into()))?;
            let counts = eval_group(&ev, program, &plan.pack_layout, &[0], &[packed])?;
            ev.mul_plain(&counts, &keep)
        })
        .collect::<Result<_>>()?;
    let run = per_result(layout);
    let mut runs: Vec<Vec<Ciphertext>> = Vec::new();
    for (i, ct) in kept.into_iter().enumerate() {
        if i % run == 0 {
            runs.push(Vec::with_capacity(run));
        }
        if let Some(r) = runs.last_mut() {
            r.push(ct);
        }
    }
    let cts: Vec<Ciphertext> = runs
        .into_par_iter()
        .map(|run| gather(&ev, run))
        .collect::<Result<_>>()?;
    let result = BfvResult::from_evaluated(key.param_set(), 0, cts)?;
    Ok((PackedResult { classes, result }, plan, ev.counts()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Shape;

    #[test]
    fn rotation_moves_slots_within_their_row() {
        assert_eq!(rotated(1024, 1), 1023);
        assert_eq!(rotated(0, 1), ROW - 1);
        assert_eq!(rotated(ROW, 3), 2 * ROW - 3);
        assert_eq!(rotated(ROW + 5, 0), ROW + 5);
    }

    #[test]
    fn packs_fill_by_class_in_order() {
        assert_eq!(
            packs(&[0, 1, 0, 2, 1, 3]),
            vec![vec![0, 1, 3, 5], vec![2, 4]]
        );
    }

    #[test]
    fn gathered_outputs_never_share_a_slot() {
        let layout = Layout::new(Shape {
            width: 32,
            height: 32,
            frames: 2,
            bits: 4,
        })
        .unwrap();
        let program = Program::CountBelow {
            frames: vec![0, 1],
            mask: (0..1024).collect(),
            threshold: 5,
        };
        let classes: Vec<u8> = (0..unit_size(&layout)).map(|i| (i % 4) as u8).collect();
        let plan = packed_plan(&program, &layout, &classes).unwrap();
        assert_eq!((plan.results, plan.packs.len()), (1, PACKS_PER_RESULT));
        let mut slots: Vec<(usize, usize)> = plan
            .outputs
            .iter()
            .flatten()
            .flatten()
            .flat_map(|p| p.terms.iter().map(|&(ct, slot, _)| (ct, slot)))
            .collect();
        let n = slots.len();
        assert_eq!(n, classes.len() * 2);
        slots.sort_unstable();
        slots.dedup();
        assert_eq!(slots.len(), n, "two outputs in one slot");
        // All of one class: one video per pack, so more result ciphertexts.
        let same = vec![0u8; 20];
        assert_eq!(packed_plan(&program, &layout, &same).unwrap().results, 2);
    }
}
