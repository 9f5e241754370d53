//! `blindfold-bench accuracy`: the EF error of ED+ES against whole cardiac
//! cycles, in plaintext and under BFV, on synthetic phantoms with known EF.
//!
//! Inputs: `--videos N` (default 100) phantoms from
//! `blindfold_echo::generate_video` (112x112, 50 fps, [`PHANTOM_FRAMES`]
//! frames: at 55 to 95 beats per minute, at least three cycles each, EF
//! drawn from 25..75 %), seed [`SEED`], generated in memory (no JPEG round
//! trip). Each is preprocessed as the client does (whole frame,
//! area-averaged to 32x32, 4 bits) under two frame selections:
//!
//! * **ED+ES**: the labelled end-diastolic and end-systolic frames (the
//!   phantom's truth, what `VolumeTracings.csv` gives);
//! * **whole cycle**: the owner's `cycle:<cycles>:<step>:<count>` selection
//!   ([`blindfold_echo::preprocess_cycles`]: `count` frames, every
//!   `step`-th, from the first end-diastole found on the plaintext area
//!   curve, spanning `cycles` whole cycles).
//!
//! `lv-area` (default mask and threshold, as the demo requests it) runs on
//! every video twice: its plaintext twin (`PipelineParams::plaintext`), and
//! under BFV through the path a job takes (the owner's
//! `SchemeClientKey::encrypt` with the submission index, the worker's
//! `SchemeVideo::from_bytes` and `evaluate_unit` in units of
//! `Scheme::unit_size`, the owner's `decrypt_unit`). The run fails unless
//! every decrypted area equals the plaintext one exactly.
//!
//! The EF of each video's curve is what the owner's release computes
//! ([`blindfold_echo::curve_ef`]: the mean EF of its beats, or of its
//! maximum and minimum for ED+ES); against the phantom's true EF the run
//! reports the mean absolute error, the bias and the 95% limits of
//! agreement (bias ± 1.96 SD, [`blindfold_echo::agreement`]), per selection
//! and per side ([`run`], [`markdown`]).

use std::time::Instant;

use anyhow::{bail, Context, Result};
use blindfold_echo::{
    agreement, curve_ef, generate_video, preprocess, preprocess_cycles, Agreement, CycleSelection,
    FrameSelection, PhantomConfig, PreprocessConfig,
};
use blindfold_fhe::{
    evaluate_unit, ParamSet, PipelineParams, PlainOutput, PlainVideo, Progress, Scheme,
    SchemeClientKey, SchemeServerKey, SchemeVideo,
};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::fhe::{params_for, pool, say, BITS};
use crate::meta::Meta;

/// Frames per phantom: at 50 fps and 55 beats per minute (54.5 frames per
/// cycle) the first end-diastole seen rising comes by frame 57 or so, and
/// two cycles and the fall that confirms their closing end-diastole by
/// about frame 180.
pub const PHANTOM_FRAMES: usize = 192;
/// The phantoms' seed.
pub const SEED: u64 = 2024;
/// Frame side after preprocessing.
pub const SIDE: u16 = 32;
/// The whole-cycle selection the report uses: 64 frames, every 2nd, two
/// whole cycles (`cycle:2:2:64`: 8 ciphertexts of 32x32 frames per video).
pub const CYCLE: CycleSelection = CycleSelection {
    cycles: 2,
    step: 2,
    count: 64,
};

/// The errors of one set of EF estimates against the true EF: the
/// agreement of estimate and truth (MAE, bias, SD, 95% limits).
pub type Errors = Agreement;

/// One frame selection, measured.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Selection {
    /// `ED+ES` or `whole cycle (cycle:C:K:N)`.
    pub name: String,
    /// Frames per encrypted video.
    pub frames: u32,
    /// EF errors from the plaintext twin's areas.
    pub plaintext: Errors,
    /// EF errors from the areas decrypted from BFV.
    pub bfv: Errors,
    /// Whether every BFV area equalled the plaintext one (the run fails
    /// otherwise, so always true in a written file).
    pub areas_equal: bool,
    /// Areas compared.
    pub areas_compared: u64,
    /// Videos per BFV unit (packed and gathered into one result, or 1).
    pub unit_size: usize,
    /// Mean beats per video on the area curve (0 for ED+ES).
    pub mean_beats: f64,
    /// Mean beat-to-beat SD of the EF, over videos with 2+ beats.
    pub mean_beat_sd: Option<f64>,
    /// Encrypting every video, seconds.
    pub encrypt_s: f64,
    /// Evaluating every unit, seconds.
    pub eval_s: f64,
    /// Input blob bytes, summed.
    pub input_bytes: u64,
    /// Result blob bytes, summed.
    pub result_bytes: u64,
    /// Multiplications, summed.
    pub multiplications: u64,
    /// Rotations, summed.
    pub rotations: u64,
}

/// One phantom's numbers.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Video {
    /// Phantom index.
    pub index: usize,
    /// True EF, percent.
    pub true_ef: f64,
    /// Cycle length in source frames.
    pub period: f64,
    /// EF from ED+ES.
    pub ef_ed_es: f64,
    /// EF from the whole cycles (mean over beats).
    pub ef_cycle: f64,
    /// Beats found in the whole-cycle curve.
    pub beats: usize,
    /// Beat-to-beat SD (2+ beats).
    pub beat_sd: Option<f64>,
    /// The source frames the whole-cycle selection kept, first and last.
    pub cycle_frames: (usize, usize),
}

/// Everything `blindfold-bench accuracy` writes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AccuracyRaw {
    /// Provenance.
    pub meta: Meta,
    /// Phantoms.
    pub videos: usize,
    /// Their seed.
    pub seed: u64,
    /// Frames per phantom.
    pub phantom_frames: usize,
    /// Frame side after preprocessing.
    pub side: u16,
    /// Bits per pixel.
    pub bits: u8,
    /// The whole-cycle selection, as the client writes it.
    pub cycle: String,
    /// The BFV parameter set.
    pub param_set: String,
    /// Rayon threads.
    pub threads: usize,
    /// ED+ES, then whole cycle.
    pub selections: Vec<Selection>,
    /// Per phantom.
    pub per_video: Vec<Video>,
}

/// The client's text for a whole-cycle selection.
pub fn cycle_text(c: CycleSelection) -> String {
    format!("cycle:{}:{}:{}", c.cycles, c.step, c.count)
}

/// Runs the study on `videos` phantoms with the whole-cycle selection `cycle`.
pub fn run(videos: usize, cycle: CycleSelection, threads: Option<usize>) -> Result<AccuracyRaw> {
    let (mut meta, started) = Meta::start("full");
    let threads = threads.unwrap_or(meta.machine.nproc).max(1);
    let pool = pool(threads)?;
    let phantom = PhantomConfig {
        videos,
        frames: PHANTOM_FRAMES,
        seed: SEED,
        ..PhantomConfig::default()
    };
    let demo = |selection| PreprocessConfig {
        out_width: usize::from(SIDE),
        out_height: usize::from(SIDE),
        bits: BITS,
        ..PreprocessConfig::demo(selection)
    };
    say(&format!(
        "accuracy: {videos} phantoms of {PHANTOM_FRAMES} frames (seed {SEED}), {SIDE}x{SIDE} at \
         {BITS} bits, ED+ES and {}, lv-area in plaintext and under BFV, {threads} threads",
        cycle_text(cycle)
    ));

    // The phantoms and both selections, in plaintext.
    let t = Instant::now();
    type Prepared = (f64, f64, PlainVideo, PlainVideo, (usize, usize));
    let prepared: Vec<Prepared> = pool.install(|| {
        (0..videos)
            .into_par_iter()
            .map(|i| -> Result<Prepared> {
                let v = generate_video(&phantom, i).with_context(|| format!("phantom {i}"))?;
                let gray = v.to_gray_video();
                let (ed, es) = (v.truth.ed_frame, v.truth.es_frame);
                let pair = preprocess(&gray, &demo(FrameSelection::EdEs { ed, es }))?;
                let whole = preprocess_cycles(&gray, &demo(FrameSelection::All), cycle)
                    .with_context(|| format!("phantom {i}: {}", cycle_text(cycle)))?;
                let span = (
                    whole.frame_indices.first().copied().unwrap_or(0),
                    whole.frame_indices.last().copied().unwrap_or(0),
                );
                let plain = |frames| PlainVideo::new(SIDE, SIDE, BITS, frames, ParamSet::V1);
                Ok((
                    v.truth.ef,
                    v.truth.curve.period,
                    plain(pair.frames)?,
                    plain(whole.frames)?,
                    span,
                ))
            })
            .collect::<Result<_>>()
    })?;
    say(&format!(
        "accuracy: phantoms generated and preprocessed in {:.1} s",
        t.elapsed().as_secs_f64()
    ));

    let (client, blob) = SchemeClientKey::generate(Scheme::BFV)?;
    let server = SchemeServerKey::from_blob(&blob, Scheme::BFV)?;
    let params = params_for("lv-area", SIDE)?.0;
    let truth: Vec<f64> = prepared.iter().map(|p| p.0).collect();
    let pairs: Vec<PlainVideo> = prepared.iter().map(|p| p.2.clone()).collect();
    let wholes: Vec<PlainVideo> = prepared.iter().map(|p| p.3.clone()).collect();
    let (ed_es, ed_es_efs) = measure("ED+ES", &client, &server, &params, &pairs, &truth, &pool)?;
    let (whole, whole_efs) = measure(
        &format!("whole cycle ({})", cycle_text(cycle)),
        &client,
        &server,
        &params,
        &wholes,
        &truth,
        &pool,
    )?;
    let per_video = prepared
        .iter()
        .enumerate()
        .map(|(index, p)| Video {
            index,
            true_ef: p.0,
            period: p.1,
            ef_ed_es: ed_es_efs[index].ef_percent,
            ef_cycle: whole_efs[index].ef_percent,
            beats: whole_efs[index].beats.len(),
            beat_sd: whole_efs[index].beat_sd,
            cycle_frames: p.4,
        })
        .collect();
    meta.finish(started);
    say(&format!("accuracy: done in {:.1} s", meta.elapsed_s));
    Ok(AccuracyRaw {
        meta,
        videos,
        seed: SEED,
        phantom_frames: PHANTOM_FRAMES,
        side: SIDE,
        bits: BITS,
        cycle: cycle_text(cycle),
        param_set: Scheme::BFV.name().into(),
        threads,
        selections: vec![ed_es, whole],
        per_video,
    })
}

fn lv_areas(out: &PlainOutput) -> Result<Vec<u64>> {
    match out {
        PlainOutput::LvArea { areas } => Ok(areas.clone()),
        _ => bail!("lv-area output expected"),
    }
}

fn curve(areas: &[u64], index: usize) -> Result<blindfold_echo::CurveEf> {
    let counts: Vec<u32> = areas
        .iter()
        .map(|&a| u32::try_from(a))
        .collect::<std::result::Result<_, _>>()?;
    curve_ef(&counts).with_context(|| format!("phantom {index}: no EF from the areas {areas:?}"))
}

fn errors(efs: &[blindfold_echo::CurveEf], truth: &[f64]) -> Result<Errors> {
    let pairs: Vec<(f64, f64)> = efs
        .iter()
        .map(|e| e.ef_percent)
        .zip(truth.iter().copied())
        .collect();
    agreement(&pairs).context("at least 2 phantoms with a finite EF are needed")
}

/// lv-area on `videos` in plaintext and under BFV as a job runs it; the EF
/// errors of each side. Fails unless BFV's areas equal the plaintext ones.
fn measure(
    name: &str,
    client: &SchemeClientKey,
    server: &SchemeServerKey,
    params: &PipelineParams,
    videos: &[PlainVideo],
    truth: &[f64],
    pool: &rayon::ThreadPool,
) -> Result<(Selection, Vec<blindfold_echo::CurveEf>)> {
    let g = videos.first().context("no videos")?.geometry();
    let scheme = client.scheme();
    let unit = scheme.unit_size(params, &g)?;
    let plain: Vec<Vec<u64>> = videos
        .iter()
        .map(|v| lv_areas(&params.plaintext(v)?))
        .collect::<Result<_>>()?;
    let (mut encrypt_s, mut eval_s) = (0.0, 0.0);
    let (mut input_bytes, mut result_bytes, mut mult, mut rot) = (0u64, 0u64, 0u64, 0u64);
    let mut fhe: Vec<Vec<u64>> = Vec::with_capacity(videos.len());
    for (u, chunk) in videos.chunks(unit).enumerate() {
        let first = u * unit;
        let t = Instant::now();
        let blobs: Vec<Vec<u8>> = pool.install(|| {
            chunk
                .par_iter()
                .enumerate()
                .map(|(k, v)| client.encrypt(v, (first + k) as u64))
                .collect::<std::result::Result<_, _>>()
        })?;
        encrypt_s += t.elapsed().as_secs_f64();
        input_bytes += blobs.iter().map(|b| b.len() as u64).sum::<u64>();
        let loaded: Vec<SchemeVideo> = blobs
            .iter()
            .map(|b| SchemeVideo::from_bytes(b, scheme, &g))
            .collect::<std::result::Result<_, _>>()?;
        let t = Instant::now();
        let (bytes, ops) =
            pool.install(|| evaluate_unit(server, params, &loaded, &Progress::new()))?;
        eval_s += t.elapsed().as_secs_f64();
        result_bytes += bytes.len() as u64;
        mult += ops.multiplications;
        rot += ops.rotations;
        for out in client.decrypt_unit(&bytes, params, &g, chunk.len())? {
            fhe.push(lv_areas(&out)?);
        }
    }
    let mut compared = 0u64;
    for (i, (p, f)) in plain.iter().zip(&fhe).enumerate() {
        if p != f {
            bail!("{name}: phantom {i}: BFV areas {f:?} differ from the plaintext twin's {p:?}");
        }
        compared += p.len() as u64;
    }
    if fhe.len() != plain.len() {
        bail!(
            "{name}: {} BFV outputs for {} videos",
            fhe.len(),
            plain.len()
        );
    }
    let plain_efs = plain
        .iter()
        .enumerate()
        .map(|(i, a)| curve(a, i))
        .collect::<Result<Vec<_>>>()?;
    let fhe_efs = fhe
        .iter()
        .enumerate()
        .map(|(i, a)| curve(a, i))
        .collect::<Result<Vec<_>>>()?;
    let beat_sds: Vec<f64> = fhe_efs.iter().filter_map(|e| e.beat_sd).collect();
    let selection = Selection {
        name: name.into(),
        frames: g.frames,
        plaintext: errors(&plain_efs, truth)?,
        bfv: errors(&fhe_efs, truth)?,
        areas_equal: true,
        areas_compared: compared,
        unit_size: unit,
        mean_beats: fhe_efs.iter().map(|e| e.beats.len() as f64).sum::<f64>()
            / fhe_efs.len() as f64,
        mean_beat_sd: (!beat_sds.is_empty())
            .then(|| beat_sds.iter().sum::<f64>() / beat_sds.len() as f64),
        encrypt_s,
        eval_s,
        input_bytes,
        result_bytes,
        multiplications: mult,
        rotations: rot,
    };
    say(&format!(
        "{name}: {} areas equal under BFV; EF MAE {:.2}, bias {:+.2}, 95% LoA {:+.2} to {:+.2} \
         (eval {:.1} s)",
        compared,
        selection.bfv.mae,
        selection.bfv.bias,
        selection.bfv.loa_low,
        selection.bfv.loa_high,
        eval_s
    ));
    Ok((selection, fhe_efs))
}

/// The report's section.
pub fn markdown(raw: &AccuracyRaw) -> String {
    let mut md = String::new();
    md.push_str("\n## EF accuracy: ED+ES against whole cardiac cycles\n\n");
    md.push_str(&format!(
        "{n} synthetic phantoms (seed {seed}, {frames} frames at 50 fps, 112x112, true EF 25..75 %) \
         preprocessed to {s}x{s} at {b} bits; lv-area with the default mask and threshold in \
         plaintext and under BFV (`{ps}`) through the job's path (encrypt, `evaluate_unit`, \
         `decrypt_unit`); EF of each curve as the owner's release computes it (ED+ES: the two \
         labelled frames; whole cycle: `{c}`, the mean EF of the beats found on the curve). \
         Errors are estimate − true EF in EF points; 95% limits of agreement are bias ± 1.96 SD. \
         {t} rayon threads. {cap}\n\n",
        n = raw.videos,
        seed = raw.seed,
        frames = raw.phantom_frames,
        s = raw.side,
        b = raw.bits,
        ps = raw.param_set,
        c = raw.cycle,
        t = raw.threads,
        cap = raw.meta.caption(),
    ));
    md.push_str(
        "| frames | side | MAE | bias | SD | 95% limits of agreement | beats per video | beat-to-beat SD | areas equal |\n\
         |---|---|---:|---:|---:|---|---:|---:|---|\n",
    );
    for s in &raw.selections {
        for (side, e) in [("plaintext", &s.plaintext), ("BFV", &s.bfv)] {
            md.push_str(&format!(
                "| {} ({} per video) | {side} | {:.2} | {:+.2} | {:.2} | {:+.2} to {:+.2} | {:.2} | {} | {} |\n",
                s.name,
                s.frames,
                e.mae,
                e.bias,
                e.sd,
                e.loa_low,
                e.loa_high,
                s.mean_beats,
                s.mean_beat_sd.map_or("n/a".into(), |v| format!("{v:.2}")),
                if s.areas_equal {
                    format!("yes, {} of {}", s.areas_compared, s.areas_compared)
                } else {
                    "no".into()
                },
            ));
        }
    }
    md.push_str("\n| frames | videos per unit | encrypt | evaluate | input | results | mult | rot |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for s in &raw.selections {
        md.push_str(&format!(
            "| {} | {} | {:.1} s | {:.1} s | {:.1} MB | {:.2} MB | {} | {} |\n",
            s.name,
            s.unit_size,
            s.encrypt_s,
            s.eval_s,
            s.input_bytes as f64 / 1e6,
            s.result_bytes as f64 / 1e6,
            s.multiplications,
            s.rotations
        ));
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A few phantoms through both selections: BFV's areas equal the
    /// plaintext ones (`run` fails otherwise), so the errors agree exactly,
    /// and every whole-cycle curve holds at least two beats.
    #[test]
    fn bfv_areas_equal_plaintext_on_a_few_phantoms() {
        let raw = run(3, CYCLE, Some(2)).unwrap();
        assert_eq!(raw.selections.len(), 2);
        for s in &raw.selections {
            assert!(s.areas_equal);
            assert_eq!(s.plaintext, s.bfv, "{}", s.name);
        }
        assert_eq!(raw.selections[0].frames, 2);
        assert_eq!(raw.selections[0].areas_compared, 6);
        assert_eq!(raw.selections[0].unit_size, 64, "ED+ES packs");
        assert_eq!(raw.selections[1].frames, 64);
        assert_eq!(raw.selections[1].areas_compared, 3 * 64);
        assert_eq!(raw.selections[1].unit_size, 1);
        for v in &raw.per_video {
            assert!(v.beats >= 2, "{v:?}");
            assert_eq!(v.cycle_frames.1 - v.cycle_frames.0, 126);
            assert!((v.ef_cycle - v.true_ef).abs() < 15.0, "{v:?}");
        }
        let md = markdown(&raw);
        assert!(md.contains("cycle:2:2:64") && md.contains("ED+ES"), "{md}");
    }

    /// A whole cycle of 8 frames fills one ciphertext, so under BFV it packs
    /// and gathers like ED+ES: the other path to the same exact areas.
    #[test]
    fn one_ciphertext_cycles_pack_and_still_equal_plaintext() {
        let sel = CycleSelection {
            cycles: 1,
            step: 8,
            count: 8,
        };
        let raw = run(2, sel, Some(2)).unwrap();
        let whole = &raw.selections[1];
        assert_eq!((whole.frames, whole.unit_size), (8, 16));
        assert!(whole.areas_equal && whole.plaintext == whole.bfv);
    }
}
