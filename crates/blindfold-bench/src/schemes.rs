//! `blindfold-bench schemes`: TFHE and BFV side by side, in one run, on
//! the same inputs.
//!
//! For each pipeline (lv-area, histogram, conv3x3, linear-model) and each
//! scheme, on the same preprocessed phantom video (`side x side`, 4 bits,
//! ED+ES), through the scheme-generic API the worker and the owner use
//! (`blindfold_fhe::scheme`): encrypt, evaluate, decrypt, check against
//! the plaintext twin, and record
//!
//! * wall time of each stage, the time per frame and the overhead against
//!   the plaintext twin;
//! * the expensive operations: PBS (TFHE), ciphertext multiplications and
//!   rotations (BFV);
//! * input and result bytes, per pixel and per output value;
//! * the noise budget left in the result (BFV, measured with the secret key)
//!   and keygen time and key sizes per scheme.
//!
//! `blindfold-bench dataset` measures a whole EchoNet-Dynamic-sized job on
//! BFV: `--videos N` (default 10,030) videos of 32x32 ED+ES, lv-area,
//! encrypted and then evaluated on the pool. Nothing is extrapolated.

use std::time::Instant;

use anyhow::{bail, Result};
use blindfold_echo::{default_lv_mask, default_threshold};
use blindfold_fhe::{
    evaluate_bytes, measure_pbs_latency, Feature, FeatureKind, HistogramParams, LinearModelParams,
    Mask, ParamSet, PipelineParams, PlainVideo, Progress, Scheme, SchemeClientKey, SchemeServerKey,
    SchemeVideo,
};
use serde::{Deserialize, Serialize};

use crate::fhe::{params_for, pool, say, BITS};
use crate::meta::Meta;

/// The pipelines compared.
pub const PIPELINES: [&str; 4] = ["lv-area", "histogram", "conv3x3", "linear-model"];

/// Keys of one scheme.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SchemeKeys {
    /// `tfhe` or `bfv`.
    pub scheme: String,
    /// The parameter set.
    pub param_set: String,
    /// Client key and server key generation, seconds.
    pub keygen_s: f64,
    /// Server key load (TFHE: decompression), seconds.
    pub server_key_load_s: f64,
    /// Serialised client key, bytes.
    pub client_key_bytes: usize,
    /// Published server key, bytes.
    pub server_key_bytes: usize,
}

/// One pipeline under one scheme.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Row {
    /// The pipeline.
    pub pipeline: String,
    /// `tfhe` or `bfv`.
    pub scheme: String,
    /// Frames evaluated.
    pub frames: u32,
    /// Pixels of the video.
    pub pixels: u64,
    /// Output values.
    pub outputs: u64,
    /// Programmable bootstraps.
    pub pbs: u64,
    /// Ciphertext multiplications (BFV).
    pub multiplications: u64,
    /// Rotations (BFV).
    pub rotations: u64,
    /// The plaintext twin, seconds.
    pub plain_s: f64,
    /// Encryption, seconds.
    pub encrypt_s: f64,
    /// Homomorphic evaluation, wall seconds.
    pub eval_s: f64,
    /// Decryption, seconds.
    pub decrypt_s: f64,
    /// Input blob, bytes.
    pub input_bytes: u64,
    /// Result blob, bytes.
    pub result_bytes: u64,
    /// Noise budget left in the result, bits (BFV; the least over its ciphertexts).
    pub noise_budget_bits: Option<i64>,
    /// Whether decryption equalled the plaintext twin (always true: a
    /// mismatch fails the run).
    pub twin_ok: bool,
}

/// A whole-dataset BFV run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DatasetRun {
    /// Videos.
    pub videos: u64,
    /// Frame side.
    pub side: u16,
    /// Frames per video.
    pub frames: u32,
    /// Rayon threads.
    pub threads: usize,
    /// Encrypting every video (the data owner's side), seconds.
    pub encrypt_s: f64,
    /// Loading and evaluating lv-area on every video, packed (the worker's
    /// side; the spot checks' decryption excluded), wall seconds.
    pub eval_s: f64,
    /// Sum of the input blobs, bytes.
    pub input_bytes: u64,
    /// Sum of the result blobs, bytes.
    pub result_bytes: u64,
    /// Multiplications and rotations, summed.
    pub multiplications: u64,
    /// Rotations, summed.
    pub rotations: u64,
    /// Spot checks against the plaintext twin (every 97th video).
    pub checked: u64,
}

/// Everything `blindfold-bench schemes` writes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SchemesRaw {
    /// Provenance.
    pub meta: Meta,
    /// Frame side.
    pub side: u16,
    /// Frames per video (ED+ES).
    pub frames: u32,
    /// Rayon threads of every evaluation.
    pub threads: usize,
    /// Keys per scheme.
    pub keys: Vec<SchemeKeys>,
    /// One row per (pipeline, scheme).
    pub rows: Vec<Row>,
    /// The dataset-scale run, when `blindfold-bench dataset` added one.
    pub dataset: Option<DatasetRun>,
    /// One TFHE PBS on 1 thread (median), measured in this run: the unit
    /// of the TFHE rows' PBS efficiency. `None` in reports written before.
    #[serde(default)]
    pub single_pbs_s: Option<f64>,
}

/// PBS samples timed for [`SchemesRaw::single_pbs_s`] (plus one warm-up).
const PBS_SAMPLES: usize = 10;

/// A deterministic synthetic 4-bit `side x side` video: a dark disc (the
/// "ventricle") that shrinks from ED to ES on a noisy bright background.
pub fn synthetic_video(seed: u64, side: u16, frames: u32) -> Result<PlainVideo> {
    let s = usize::from(side);
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let frames = (0..frames)
        .map(|f| {
            let r = (s as f64) * (0.30 - 0.08 * f as f64);
            (0..s * s)
                .map(|i| {
                    let (x, y) = ((i % s) as f64, (i / s) as f64);
                    let c = s as f64 / 2.0;
                    let d = ((x - c).powi(2) + (y - c).powi(2)).sqrt();
                    let noise = (next() % 4) as u8;
                    if d < r {
                        noise
                    } else {
                        10 + noise.min(5)
                    }
                })
                .collect()
        })
        .collect();
    Ok(PlainVideo::new(side, side, BITS, frames, ParamSet::V1)?)
}

/// The params each pipeline runs with, on `side x side` frames.
fn params(pipeline: &str, side: u16) -> Result<PipelineParams> {
    let lv_mask = || -> Vec<u32> {
        default_lv_mask(usize::from(side), usize::from(side))
            .iter()
            .enumerate()
            .filter(|(_, &inside)| inside)
            .map(|(i, _)| i as u32)
            .collect()
    };
    Ok(match pipeline {
        "lv-area" | "conv3x3" => params_for(pipeline, side)?.0,
        "histogram" => PipelineParams::Histogram(HistogramParams {
            frames: vec![],
            mask: Mask::All,
        }),
        "linear-model" => PipelineParams::LinearModel(LinearModelParams {
            features: vec![
                Feature {
                    frame: 0,
                    region: Mask::Pixels(lv_mask()),
                    kind: FeatureKind::DarkCount {
                        threshold: default_threshold(BITS),
                    },
                    weight: 3,
                },
                Feature {
                    frame: 1,
                    region: Mask::Pixels(lv_mask()),
                    kind: FeatureKind::DarkCount {
                        threshold: default_threshold(BITS),
                    },
                    weight: -3,
                },
                Feature {
                    frame: 0,
                    region: Mask::All,
                    kind: FeatureKind::IntensitySum,
                    weight: 1,
                },
            ],
            bias: 100,
        }),
        other => bail!("unknown pipeline {other}"),
    })
}

struct Loaded {
    client: SchemeClientKey,
    server: SchemeServerKey,
    keys: SchemeKeys,
}

fn keygen(scheme: Scheme) -> Result<Loaded> {
    let t = Instant::now();
    let (client, blob) = SchemeClientKey::generate(scheme)?;
    let keygen_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let server = SchemeServerKey::from_blob(&blob, scheme)?;
    let server_key_load_s = t.elapsed().as_secs_f64();
    let keys = SchemeKeys {
        scheme: scheme.family().into(),
        param_set: scheme.name().into(),
        keygen_s,
        server_key_load_s,
        client_key_bytes: client.to_bytes()?.len(),
        server_key_bytes: blob.len(),
    };
    say(&format!(
        "{}: keygen {:.2} s, server key {:.1} MB (load {:.2} s)",
        keys.scheme,
        keygen_s,
        keys.server_key_bytes as f64 / 1e6,
        server_key_load_s
    ));
    Ok(Loaded {
        client,
        server,
        keys,
    })
}

/// The least noise budget over a BFV result's ciphertexts.
fn noise_budget(
    client: &SchemeClientKey,
    bytes: &[u8],
    params: &PipelineParams,
    video: &PlainVideo,
) -> Result<Option<i64>> {
    let SchemeClientKey::Bfv(key) = client else {
        return Ok(None);
    };
    let plan = params.bfv_plan(&video.geometry())?;
    let result = blindfold_bfv::BfvResult::from_bytes(bytes, key.param_set(), &plan)?;
    Ok(result.least_noise_budget(key)?)
}

/// The BFV keys of a BFV [`Loaded`].
fn bfv_keys(loaded: &Loaded) -> Result<(&blindfold_bfv::ClientKey, &blindfold_bfv::ServerKey)> {
    match (&loaded.client, &loaded.server) {
        (SchemeClientKey::Bfv(client), SchemeServerKey::Bfv(server)) => Ok((client, server)),
        _ => bail!("BFV keys expected"),
    }
}

fn measure(
    loaded: &Loaded,
    pipeline: &str,
    params: &PipelineParams,
    video: &PlainVideo,
    pool: &rayon::ThreadPool,
) -> Result<Row> {
    let g = video.geometry();
    let scheme = loaded.client.scheme();
    let t = Instant::now();
    let plain = params.plaintext(video)?;
    let plain_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let blob = loaded.client.encrypt(video, 0)?;
    let encrypt_s = t.elapsed().as_secs_f64();
    let enc = SchemeVideo::from_bytes(&blob, scheme, &g)?;
    let progress = Progress::new();
    let t = Instant::now();
    let (bytes, ops) = pool.install(|| evaluate_bytes(&loaded.server, params, &enc, &progress))?;
    let eval_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let out = loaded.client.decrypt_result(&bytes, params, &g)?;
    let decrypt_s = t.elapsed().as_secs_f64();
    if out != plain {
        bail!("{pipeline} under {scheme}: decryption differs from the plaintext twin");
    }
    let outputs = match &plain {
        blindfold_fhe::PlainOutput::LvArea { areas } => areas.len(),
        blindfold_fhe::PlainOutput::Histogram { bins } => bins.len(),
        blindfold_fhe::PlainOutput::Conv3x3 { frames, .. } => frames.iter().map(Vec::len).sum(),
        blindfold_fhe::PlainOutput::LinearModel { .. } => 1,
    } as u64;
    let row = Row {
        pipeline: pipeline.into(),
        scheme: scheme.family().into(),
        frames: g.frames,
        pixels: g.frame_pixels() as u64 * u64::from(g.frames),
        outputs,
        pbs: ops.pbs,
        multiplications: ops.multiplications,
        rotations: ops.rotations,
        plain_s,
        encrypt_s,
        eval_s,
        decrypt_s,
        input_bytes: blob.len() as u64,
        result_bytes: bytes.len() as u64,
        noise_budget_bits: noise_budget(&loaded.client, &bytes, params, video)?,
        twin_ok: true,
    };
    say(&format!(
        "{pipeline} / {}: eval {:.3} s ({} PBS, {} mult, {} rot), input {} B, result {} B{}",
        row.scheme,
        row.eval_s,
        row.pbs,
        row.multiplications,
        row.rotations,
        row.input_bytes,
        row.result_bytes,
        row.noise_budget_bits
            .map(|b| format!(", noise budget {b} bits"))
            .unwrap_or_default()
    ));
    Ok(row)
}

/// lv-area on BFV as a job runs it: one full unit of videos, each
/// encrypted into class `i mod classes`, packed `classes` to a ciphertext
/// and the packs gathered into one result ciphertext (`blindfold_bfv::pack`).
fn measure_packed(
    loaded: &Loaded,
    side: u16,
    frames: u32,
    pool: &rayon::ThreadPool,
) -> Result<Row> {
    use blindfold_bfv::pack::{evaluate_packed, unit_size};
    let (client, server) = bfv_keys(loaded)?;
    let params = params("lv-area", side)?;
    let g = synthetic_video(100, side, frames)?.geometry();
    let plan = params.bfv_plan(&g)?;
    let classes = plan.layout.classes();
    let count = unit_size(&plan.layout);
    let plain: Vec<PlainVideo> = (0..count as u64)
        .map(|i| synthetic_video(100 + i, side, frames))
        .collect::<Result<_>>()?;
    let t = Instant::now();
    let twins: Vec<_> = plain
        .iter()
        .map(|v| params.plaintext(v))
        .collect::<std::result::Result<_, _>>()?;
    let plain_s = t.elapsed().as_secs_f64();
    let mut rng = blindfold_bfv::os_rng();
    let t = Instant::now();
    let videos: Vec<blindfold_bfv::Video> = plain
        .iter()
        .enumerate()
        .map(|(i, v)| {
            blindfold_bfv::Video::encrypt_in_class(
                client,
                plan.layout.shape,
                &v.frames,
                (i % classes) as u8,
                &mut rng,
            )
        })
        .collect::<std::result::Result<_, _>>()?;
    let encrypt_s = t.elapsed().as_secs_f64();
    let input_bytes: u64 = videos.iter().map(|v| v.to_bytes().len() as u64).sum();
    let t = Instant::now();
    let (result, packed, counts) =
        pool.install(|| evaluate_packed(server, &plan.program, &plan.layout, &videos))?;
    let eval_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let out = result.decrypt(client, &packed)?;
    let decrypt_s = t.elapsed().as_secs_f64();
    for (v, (areas, twin)) in out.iter().zip(&twins).enumerate() {
        let blindfold_fhe::PlainOutput::LvArea { areas: want } = twin else {
            bail!("packed lv-area: an lv-area twin expected");
        };
        let got: Vec<u64> = areas.iter().map(|&a| a as u64).collect();
        if &got != want {
            bail!("packed lv-area: video {v} decrypts to {got:?}, its twin says {want:?}");
        }
    }
    let least = result.result().least_noise_budget(client)?;
    let row = Row {
        pipeline: format!(
            "lv-area, packed ({count} videos per unit, {classes} per ciphertext, {} per result ciphertext)",
            count / result.result().ciphertexts().len().max(1)
        ),
        scheme: "bfv".into(),
        frames: frames * count as u32,
        pixels: g.frame_pixels() as u64 * u64::from(frames) * count as u64,
        outputs: u64::from(frames) * count as u64,
        pbs: 0,
        multiplications: counts.multiplications,
        rotations: counts.rotations,
        plain_s,
        encrypt_s,
        eval_s,
        decrypt_s,
        input_bytes,
        result_bytes: result.to_bytes().len() as u64,
        noise_budget_bits: least,
        twin_ok: true,
    };
    say(&format!(
        "{} / bfv: eval {:.3} s for {} videos ({} mult, {} rot), result {} B",
        row.pipeline, row.eval_s, count, row.multiplications, row.rotations, row.result_bytes
    ));
    Ok(row)
}

/// Runs the side-by-side comparison: `--quick` on 16x16 frames, else 32x32.
pub fn run(quick: bool, threads: Option<usize>) -> Result<SchemesRaw> {
    let (mut meta, started) = Meta::start(if quick { "quick" } else { "full" });
    let threads = threads.unwrap_or(meta.machine.nproc).max(1);
    let side = if quick { 16 } else { 32 };
    let frames = 2;
    let pool = pool(threads)?;
    say(&format!(
        "schemes: TFHE and BFV on {side}x{side}, {frames} frames, {threads} threads"
    ));
    let video = synthetic_video(1, side, frames)?;
    let mut keys = Vec::new();
    let mut rows = Vec::new();
    let mut single_pbs_s = None;
    for scheme in [Scheme::TFHE, Scheme::BFV] {
        let loaded = keygen(scheme)?;
        if let SchemeServerKey::Tfhe(server) = &loaded.server {
            let one = crate::fhe::pool(1)?.install(|| measure_pbs_latency(server, PBS_SAMPLES));
            say(&format!(
                "single PBS on 1 thread: {:.2} ms (median of {PBS_SAMPLES})",
                one.as_secs_f64() * 1e3
            ));
            single_pbs_s = Some(one.as_secs_f64());
        }
        for pipeline in PIPELINES {
            let p = params(pipeline, side)?;
            rows.push(measure(&loaded, pipeline, &p, &video, &pool)?);
        }
        if scheme == Scheme::BFV {
            rows.push(measure_packed(&loaded, side, frames, &pool)?);
        }
        keys.push(loaded.keys);
    }
    meta.finish(started);
    Ok(SchemesRaw {
        meta,
        side,
        frames,
        threads,
        keys,
        rows,
        dataset: None,
        single_pbs_s,
    })
}

/// The dataset-scale BFV run: `videos` videos of 32x32 ED+ES, lv-area.
/// The owner encrypts video `i` into class `i mod 4`
/// (`blindfold_bfv::pack`), so four videos share each ciphertext, and the
/// worker evaluates them unit by unit as a job does (64 videos gathered
/// into one result ciphertext).
pub fn dataset(videos: u64, threads: Option<usize>) -> Result<DatasetRun> {
    use blindfold_bfv::pack::{evaluate_packed, unit_size};
    use rayon::prelude::*;
    let threads = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let (side, frames) = (32u16, 2u32);
    let pool = pool(threads)?;
    let loaded = keygen(Scheme::BFV)?;
    let (client, server) = bfv_keys(&loaded)?;
    let params = params("lv-area", side)?;
    let g = synthetic_video(0, side, frames)?.geometry();
    let plan = params.bfv_plan(&g)?;
    let layout = plan.layout;
    let classes = layout.classes() as u64;
    say(&format!(
        "dataset: {videos} videos of {side}x{side}, {frames} frames, lv-area on BFV, \
         {classes} videos per ciphertext, {threads} threads"
    ));

    // The owner encrypts every video (kept in memory: 223 kB each).
    let t = Instant::now();
    let blobs: Vec<Vec<u8>> = pool.install(|| {
        (0..videos)
            .into_par_iter()
            .map(|i| -> Result<Vec<u8>> {
                let video = synthetic_video(i, side, frames)?;
                let mut rng = blindfold_bfv::os_rng();
                Ok(blindfold_bfv::Video::encrypt_in_class(
                    client,
                    plan.layout.shape,
                    &video.frames,
                    (i % classes) as u8,
                    &mut rng,
                )?
                .to_bytes())
            })
            .collect::<Result<_>>()
    })?;
    let encrypt_s = t.elapsed().as_secs_f64();
    say(&format!("dataset: encrypted in {encrypt_s:.1} s"));

    // A worker loads and evaluates every video, packed, one unit at a time.
    let t = Instant::now();
    let (mut result_bytes, mut multiplications, mut rotations, mut checked) = (0u64, 0, 0, 0);
    let mut done = 0u64;
    let mut check_s = 0.0;
    for chunk in blobs.chunks(unit_size(&layout)) {
        let loaded_videos: Vec<blindfold_bfv::Video> = pool.install(|| {
            chunk
                .par_iter()
                .map(|b| blindfold_bfv::Video::from_bytes(b, client.param_set(), layout.shape))
                .collect::<std::result::Result<_, _>>()
        })?;
        let (result, packed, counts) =
            pool.install(|| evaluate_packed(server, &plan.program, &layout, &loaded_videos))?;
        result_bytes += result.to_bytes().len() as u64;
        multiplications += counts.multiplications;
        rotations += counts.rotations;
        // Spot checks: every 97th video of the dataset against its twin.
        let checking = Instant::now();
        let out = result.decrypt(client, &packed)?;
        for (k, areas) in out.iter().enumerate() {
            let i = done + k as u64;
            if i.is_multiple_of(97) {
                let twin = params.plaintext(&synthetic_video(i, side, frames)?)?;
                let want = match twin {
                    blindfold_fhe::PlainOutput::LvArea { areas } => areas,
                    _ => bail!("dataset: lv-area twin expected"),
                };
                let got: Vec<u64> = areas.iter().map(|&a| a as u64).collect();
                if got != want {
                    bail!("dataset: video {i} decrypts to {got:?}, its twin says {want:?}");
                }
                checked += 1;
            }
        }
        check_s += checking.elapsed().as_secs_f64();
        let before = done;
        done += chunk.len() as u64;
        if done / 1024 != before / 1024 || done == videos {
            say(&format!(
                "dataset: {done}/{videos} evaluated ({:.0} s)",
                t.elapsed().as_secs_f64()
            ));
        }
    }
    let eval_s = t.elapsed().as_secs_f64() - check_s;
    say(&format!("dataset: evaluated in {eval_s:.1} s"));
    Ok(DatasetRun {
        videos,
        side,
        frames,
        threads,
        encrypt_s,
        eval_s,
        input_bytes: blobs.iter().map(|b| b.len() as u64).sum(),
        result_bytes,
        multiplications,
        rotations,
        checked,
    })
}

/// The report's section (appended to `BENCHMARKS.md` when `schemes.json` exists).
pub fn markdown(raw: &SchemesRaw) -> String {
    let mut md = String::new();
    md.push_str("\n## TFHE and BFV side by side\n\n");
    md.push_str(&format!(
        "Measured in one run on the same synthetic {s}x{s}, {f}-frame, 4-bit video, through \
         the scheme-generic path the worker and the owner use; every result was decrypted and \
         equalled the plaintext twin. {t} rayon threads. {}\n\n",
        raw.meta.caption(),
        s = raw.side,
        f = raw.frames,
        t = raw.threads
    ));
    md.push_str(
        "| scheme | parameter set | keygen | server key | client key |\n|---|---|---:|---:|---:|\n",
    );
    for k in &raw.keys {
        md.push_str(&format!(
            "| {} | `{}` | {:.2} s | {:.1} MB | {:.1} kB |\n",
            k.scheme,
            k.param_set,
            k.keygen_s,
            k.server_key_bytes as f64 / 1e6,
            k.client_key_bytes as f64 / 1e3
        ));
    }
    if let Some(one) = raw.single_pbs_s {
        md.push_str(&format!(
            "\nSingle TFHE PBS on 1 thread, in this run: {:.2} ms (median of {PBS_SAMPLES}). PBS \
             efficiency = time / (PBS × single PBS / {} threads): 1.0 is the PBS throughput \
             limit.\n",
            one * 1e3,
            raw.threads
        ));
    }
    md.push_str(
        "\n| pipeline | scheme | per frame | vs plaintext | PBS | PBS efficiency | mult | rot | input B/pixel | result bytes | result B/value | result B/pixel | noise left |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in &raw.rows {
        let frames = f64::from(r.frames.max(1));
        let efficiency = match raw.single_pbs_s {
            Some(one) if r.pbs > 0 => format!(
                "{:.3}",
                r.eval_s / (r.pbs as f64 * one / raw.threads.max(1) as f64)
            ),
            _ => "n/a".into(),
        };
        md.push_str(&format!(
            "| {} | {} | {:.4} s | {:.0}x | {} | {} | {} | {} | {:.1} | {} | {:.0} | {:.1} | {} |\n",
            r.pipeline,
            r.scheme,
            r.eval_s / frames,
            r.eval_s / r.plain_s.max(1e-9),
            r.pbs,
            efficiency,
            r.multiplications,
            r.rotations,
            r.input_bytes as f64 / r.pixels.max(1) as f64,
            r.result_bytes,
            r.result_bytes as f64 / r.outputs.max(1) as f64,
            r.result_bytes as f64 / r.pixels.max(1) as f64,
            r.noise_budget_bits
                .map(|b| format!("{b} bits"))
                .unwrap_or_else(|| "n/a".into())
        ));
    }
    md.push_str("\n| pipeline | TFHE / BFV, time per frame |\n|---|---:|\n");
    let per_frame = |r: &Row| r.eval_s / f64::from(r.frames.max(1));
    for p in PIPELINES {
        let find = |s: &str| raw.rows.iter().find(|r| r.pipeline == p && r.scheme == s);
        if let (Some(t), Some(b)) = (find("tfhe"), find("bfv")) {
            md.push_str(&format!(
                "| {p} | {:.0}x |\n",
                per_frame(t) / per_frame(b).max(1e-9)
            ));
        }
    }
    let tfhe_lv = raw
        .rows
        .iter()
        .find(|r| r.pipeline == "lv-area" && r.scheme == "tfhe");
    for packed in raw
        .rows
        .iter()
        .filter(|r| r.pipeline.starts_with("lv-area, "))
    {
        if let Some(t) = tfhe_lv {
            md.push_str(&format!(
                "| {}: BFV against TFHE | {:.0}x |\n",
                packed.pipeline,
                per_frame(t) / per_frame(packed).max(1e-9)
            ));
        }
    }
    if let Some(d) = &raw.dataset {
        md.push_str(&format!(
            "\n**Dataset scale, measured:** {} videos of {}x{}, {} frames, lv-area on BFV, 4 videos \
             per ciphertext and 64 per result ciphertext (`blindfold-bench dataset`), {} threads: \
             the owner encrypted them in {:.1} s; evaluation took {:.1} s ({:.1} min; {} multiplications, \
             {} rotations). Inputs {:.2} GB, results {:.2} GB ({:.1} kB per video). {} videos spot-checked \
             against the plaintext twin.\n",
            d.videos,
            d.side,
            d.side,
            d.frames,
            d.threads,
            d.encrypt_s,
            d.eval_s,
            d.eval_s / 60.0,
            d.multiplications,
            d.rotations,
            d.input_bytes as f64 / 1e9,
            d.result_bytes as f64 / 1e9,
            d.result_bytes as f64 / d.videos.max(1) as f64 / 1e3,
            d.checked
        ));
    }
    md
}
