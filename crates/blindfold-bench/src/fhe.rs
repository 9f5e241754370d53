//! `blindfold-bench fhe`: per-stage costs and scaling of the FHE pipelines.
//!
//! Inputs are what the demo encrypts: synthetic phantom echo videos
//! (`blindfold_echo::generate_video`, 112x112), preprocessed (area-averaged)
//! to an `S x S` region of interest at 4 bits, with end-diastole and
//! end-systole (2 frames) or every k-th frame selected.
//!
//! * `lv-area` uses `blindfold-echo`'s default LV mask (an ellipse over about
//!   40% of the frame) and threshold, as the demo does, so its PBS count is
//!   one per *masked* pixel per frame.
//! * `conv3x3` (Sobel-x) is leveled: no PBS.
//!
//! Every evaluation is checked against the plaintext twin after decryption
//! (a correctness check; no timing is asserted anywhere).
//!
//! Scaling varies one axis at a time from a small base; each distinct
//! configuration is measured once and shared by the axes that contain it.
//! Threads are rayon pools of 1 and 2 (and `nproc` when larger), each
//! entered with `ThreadPool::install`.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use blindfold_echo::{
    default_lv_mask, default_threshold, generate_video, preprocess, FrameSelection, GrayVideo,
    PhantomConfig, PreprocessConfig,
};
use blindfold_fhe::{
    evaluate, measure_pbs_latency, ClientKey, Conv3x3Params, LvAreaParams, Mask, ParamSet,
    PipelineParams, PlainVideo, Progress, ServerKey,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::meta::{load_avg, process_cpu_s, thread_cpu_s, time_median, Meta};

/// Bits per pixel of every benchmark video (the demo's setting).
pub const BITS: u8 = 4;
/// Videos in EchoNet-Dynamic, the target of the extrapolation.
pub const ECHONET_VIDEOS: u64 = 10_030;
/// Frames per phantom video (EchoNet-like: more than a heartbeat at 50 fps).
const PHANTOM_FRAMES: usize = 64;

/// The two pipelines the suite measures.
pub const PIPELINES: [&str; 2] = ["lv-area", "conv3x3"];

/// Sizes of one run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Plan {
    /// ROI sides (frames of `side x side` pixels); at 2 frames, 1 video.
    pub roi_sides: Vec<u16>,
    /// Frames per video; at ROI `base_side`, 1 video.
    pub frames: Vec<u32>,
    /// Videos per job; at ROI `base_side`, 2 frames.
    pub videos: Vec<usize>,
    /// Thread counts; at ROI `threads_side`, 2 frames, 1 video.
    pub threads: Vec<usize>,
    /// The base ROI side of the frames and videos axes.
    pub base_side: u16,
    /// ROI side of the threads axis.
    pub threads_side: u16,
    /// ROI side of the per-stage breakdown (2 frames, 1 video, all threads).
    pub stage_side: u16,
    /// Threads every point except the threads axis runs with.
    pub default_threads: usize,
    /// Single-PBS latency samples.
    pub pbs_samples: usize,
}

impl Plan {
    /// `--quick`: small sizes, about a minute of FHE work on 2 idle cores.
    pub fn quick(default_threads: usize) -> Self {
        Plan {
            roi_sides: vec![16, 32],
            frames: vec![2, 8],
            videos: vec![1, 4],
            threads: thread_axis(default_threads),
            base_side: 16,
            threads_side: 16,
            stage_side: 32,
            default_threads,
            pbs_samples: 10,
        }
    }

    /// The full suite: the axes, about 10 minutes on 2 idle cores.
    pub fn full(default_threads: usize) -> Self {
        Plan {
            roi_sides: vec![16, 32, 56, 112],
            frames: vec![2, 8, 32],
            videos: vec![1, 4, 16],
            threads: thread_axis(default_threads),
            base_side: 16,
            threads_side: 32,
            stage_side: 32,
            default_threads,
            pbs_samples: 30,
        }
    }
}

fn thread_axis(default_threads: usize) -> Vec<usize> {
    let mut t = vec![1, 2];
    if !t.contains(&default_threads) {
        t.push(default_threads);
    }
    t
}

/// Key generation and key sizes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Keys {
    /// `ClientKey::generate`.
    pub client_keygen_s: f64,
    /// `ClientKey::server_key` (the evaluation key workers use).
    pub server_keygen_s: f64,
    /// `ClientKey::compressed_server_key` (what the data owner publishes).
    pub compressed_server_keygen_s: f64,
    /// `CompressedServerKey::decompress` (a worker loading the published key).
    pub decompress_s: f64,
    /// Serialising the compressed server key.
    pub compressed_server_key_serialise_s: f64,
    /// Serialised client key, bytes.
    pub client_key_bytes: usize,
    /// Serialised server key, bytes.
    pub server_key_bytes: usize,
    /// Serialised compressed server key, bytes.
    pub compressed_server_key_bytes: usize,
}

/// One stage of a pipeline run: plaintext twin against FHE.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Stage {
    /// `encrypt`, `compute`, `serialise`, `hash` or `decrypt` (`keygen` is
    /// in [`Keys`]).
    pub name: String,
    /// Plaintext counterpart in seconds (`None` where there is none).
    pub plain_s: Option<f64>,
    /// FHE side in seconds.
    pub fhe_s: f64,
}

/// One measured configuration.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Point {
    /// `lv-area` or `conv3x3`.
    pub pipeline: String,
    /// ROI side.
    pub roi_side: u16,
    /// Frames per video.
    pub frames: u32,
    /// Videos in the job.
    pub videos: usize,
    /// Rayon threads.
    pub threads: usize,
    /// Pixels in the job (side² × frames × videos).
    pub pixels: u64,
    /// PBS executed (sum over videos; checked equal to the pipeline's formula).
    pub pbs: u64,
    /// Plaintext twin, seconds (sum over videos, each a median of repeats).
    pub plain_s: f64,
    /// Homomorphic evaluation, wall seconds (sum over videos).
    pub fhe_s: f64,
    /// Process CPU seconds during the evaluations.
    pub fhe_cpu_s: Option<f64>,
    /// `fhe_s / (pbs × single_pbs_s / threads)`; `None` without PBS.
    pub pbs_efficiency: Option<f64>,
    /// `fhe_cpu_s / (pbs × single_pbs_cpu_s)`: the same ratio from CPU time,
    /// less sensitive to other load on the machine.
    pub pbs_efficiency_cpu: Option<f64>,
    /// Pixels of one frame inside the pipeline's mask (lv-area), else the frame.
    pub mask_pixels: u64,
    /// Stages (encrypt, compute, serialise, hash, decrypt), summed over videos.
    pub stages: Vec<Stage>,
    /// Raw pixel bytes (1 byte per pixel), summed over videos.
    pub video_plain_bytes: u64,
    /// Encrypted video blob bytes, summed over videos.
    pub video_blob_bytes: u64,
    /// Plaintext output as compact JSON, bytes, summed over videos.
    pub result_plain_bytes: u64,
    /// Encrypted result blob bytes, summed over videos.
    pub result_blob_bytes: u64,
    /// 1-minute load average when the point finished.
    pub load_avg: Option<f64>,
}

/// One scaling axis: which points it consists of.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Axis {
    /// `roi`, `frames`, `videos` or `threads`.
    pub vary: String,
    /// The pipeline.
    pub pipeline: String,
    /// What stays fixed, in words.
    pub fixed: String,
    /// Indices into [`FheRaw::points`], in axis order.
    pub points: Vec<usize>,
}

/// Everything `blindfold-bench fhe` writes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FheRaw {
    /// Provenance.
    pub meta: Meta,
    /// The parameter set's name.
    pub param_set: String,
    /// Bits per pixel.
    pub bits: u8,
    /// The sizes measured.
    pub plan: Plan,
    /// Median single key-switch + PBS on one thread, seconds.
    pub single_pbs_s: f64,
    /// The same in thread CPU seconds.
    pub single_pbs_cpu_s: Option<f64>,
    /// Keys.
    pub keys: Keys,
    /// Every measured configuration.
    pub points: Vec<Point>,
    /// The per-stage breakdown: one point index per pipeline of [`PIPELINES`].
    pub stage_points: Vec<usize>,
    /// The scaling axes.
    pub axes: Vec<Axis>,
}

type Key = (&'static str, u16, u32, usize, usize);

struct Source {
    gray: GrayVideo,
    ed: usize,
    es: usize,
}

struct Bench {
    client: ClientKey,
    server: ServerKey,
    single_pbs_s: f64,
    single_pbs_cpu_s: Option<f64>,
    phantom: PhantomConfig,
    sources: HashMap<usize, Source>,
    pools: HashMap<usize, rayon::ThreadPool>,
    points: Vec<Point>,
    index: HashMap<Key, usize>,
}

/// A rayon pool of `threads` named threads.
pub(crate) fn pool(threads: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(move |i| format!("bench-{threads}t-{i}"))
        .build()
        .context("building a rayon pool")
}

/// Prints a progress line on stderr.
pub fn say(msg: &str) {
    eprintln!("[bench] {msg}");
}

/// Runs the FHE suite.
pub fn run(quick: bool, threads: Option<usize>) -> Result<FheRaw> {
    let (mut meta, started) = Meta::start(if quick { "quick" } else { "full" });
    let default_threads = threads.unwrap_or(meta.machine.nproc).max(1);
    let plan = if quick {
        Plan::quick(default_threads)
    } else {
        Plan::full(default_threads)
    };
    let mut pools = HashMap::new();
    for &t in &plan.threads {
        pools.insert(t, pool(t)?);
    }

    say(&format!(
        "fhe: {} mode, {default_threads} threads, {} ({})",
        meta.mode,
        ParamSet::V1.name(),
        meta.machine.caption()
    ));
    let (keys, client, server) = pools[&default_threads].install(keygen)?;
    say(&format!(
        "keys: client {:.2} s, server {:.2} s, compressed server {:.2} s; server key {:.1} MB, compressed {:.1} MB",
        keys.client_keygen_s,
        keys.server_keygen_s,
        keys.compressed_server_keygen_s,
        keys.server_key_bytes as f64 / 1e6,
        keys.compressed_server_key_bytes as f64 / 1e6,
    ));

    let samples = plan.pbs_samples;
    let (single_pbs_s, single_pbs_cpu_s) = pools[&1].install(|| {
        let _ = measure_pbs_latency(&server, 1);
        let cpu0 = thread_cpu_s();
        let wall = measure_pbs_latency(&server, samples).as_secs_f64();
        // measure_pbs_latency runs one warm-up plus `samples` timed PBS.
        let cpu = cpu0
            .zip(thread_cpu_s())
            .map(|(a, b)| (b - a) / (samples + 1) as f64);
        (wall, cpu)
    });
    say(&format!(
        "single PBS on 1 thread: {:.2} ms (median of {samples})",
        single_pbs_s * 1e3
    ));

    let mut bench = Bench {
        client,
        server,
        single_pbs_s,
        single_pbs_cpu_s,
        phantom: PhantomConfig {
            videos: plan.videos.iter().copied().max().unwrap_or(1),
            frames: PHANTOM_FRAMES.max(plan.frames.iter().copied().max().unwrap_or(2) as usize),
            ..PhantomConfig::default()
        },
        sources: HashMap::new(),
        pools,
        points: Vec::new(),
        index: HashMap::new(),
    };

    let dt = plan.default_threads;
    let mut stage_points = Vec::new();
    for pipeline in PIPELINES {
        stage_points.push(bench.point(pipeline, plan.stage_side, 2, 1, dt)?);
    }
    let mut axes = Vec::new();
    for pipeline in PIPELINES {
        let mut points = Vec::new();
        for &side in &plan.roi_sides {
            points.push(bench.point(pipeline, side, 2, 1, dt)?);
        }
        axes.push(Axis {
            vary: "roi".into(),
            pipeline: pipeline.into(),
            fixed: format!("2 frames (ED+ES), 1 video, {dt} threads"),
            points,
        });
    }
    for pipeline in PIPELINES {
        let mut points = Vec::new();
        for &frames in &plan.frames {
            points.push(bench.point(pipeline, plan.base_side, frames, 1, dt)?);
        }
        axes.push(Axis {
            vary: "frames".into(),
            pipeline: pipeline.into(),
            fixed: format!(
                "ROI {0}x{0}, 1 video, {dt} threads (2 frames = ED+ES, more = every k-th frame)",
                plan.base_side
            ),
            points,
        });
    }
    let mut points = Vec::new();
    for &videos in &plan.videos {
        points.push(bench.point("lv-area", plan.base_side, 2, videos, dt)?);
    }
    axes.push(Axis {
        vary: "videos".into(),
        pipeline: "lv-area".into(),
        fixed: format!(
            "ROI {0}x{0}, 2 frames (ED+ES), {dt} threads; the job's videos are evaluated one after another",
            plan.base_side
        ),
        points,
    });
    let mut points = Vec::new();
    for &threads in &plan.threads {
        points.push(bench.point("lv-area", plan.threads_side, 2, 1, threads)?);
    }
    axes.push(Axis {
        vary: "threads".into(),
        pipeline: "lv-area".into(),
        fixed: format!(
            "ROI {0}x{0}, 2 frames (ED+ES), 1 video; one rayon ThreadPool per setting",
            plan.threads_side
        ),
        points,
    });

    meta.finish(started);
    say(&format!("fhe: done in {:.1} s", meta.elapsed_s));
    Ok(FheRaw {
        meta,
        param_set: ParamSet::V1.name().into(),
        bits: BITS,
        plan,
        single_pbs_s: bench.single_pbs_s,
        single_pbs_cpu_s: bench.single_pbs_cpu_s,
        keys,
        points: bench.points,
        stage_points,
        axes,
    })
}

fn keygen() -> Result<(Keys, ClientKey, ServerKey)> {
    let t = Instant::now();
    let client = ClientKey::generate(ParamSet::V1);
    let client_keygen_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let server = client.server_key();
    let server_keygen_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let compressed = client.compressed_server_key();
    let compressed_server_keygen_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    drop(compressed.decompress());
    let decompress_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let compressed_server_key_bytes = compressed.to_bytes()?.len();
    let compressed_server_key_serialise_s = t.elapsed().as_secs_f64();
    let keys = Keys {
        client_keygen_s,
        server_keygen_s,
        compressed_server_keygen_s,
        decompress_s,
        compressed_server_key_serialise_s,
        client_key_bytes: client.to_bytes()?.len(),
        server_key_bytes: server.to_bytes()?.len(),
        compressed_server_key_bytes,
    };
    Ok((keys, client, server))
}

pub(crate) fn params_for(pipeline: &str, side: u16) -> Result<(PipelineParams, u64)> {
    let side = usize::from(side);
    Ok(match pipeline {
        "lv-area" => {
            let pixels: Vec<u32> = default_lv_mask(side, side)
                .iter()
                .enumerate()
                .filter(|(_, &inside)| inside)
                .map(|(i, _)| i as u32)
                .collect();
            let count = pixels.len() as u64;
            (
                PipelineParams::LvArea(LvAreaParams {
                    frames: vec![],
                    mask: Mask::Pixels(pixels),
                    threshold: default_threshold(BITS),
                }),
                count,
            )
        }
        "conv3x3" => (
            PipelineParams::Conv3x3(Conv3x3Params {
                frames: vec![],
                kernel: Conv3x3Params::SOBEL_X,
            }),
            (side * side) as u64,
        ),
        other => bail!("unknown pipeline {other}"),
    })
}

impl Bench {
    /// The preprocessed `side x side`, `frames`-frame phantom video `index`.
    fn video(&mut self, index: usize, side: u16, frames: u32) -> Result<PlainVideo> {
        if !self.sources.contains_key(&index) {
            let v = generate_video(&self.phantom, index)
                .with_context(|| format!("phantom video {index}"))?;
            let src = Source {
                gray: v.to_gray_video(),
                ed: v.truth.ed_frame,
                es: v.truth.es_frame,
            };
            self.sources.insert(index, src);
        }
        let src = &self.sources[&index];
        let selection = if frames == 2 {
            FrameSelection::EdEs {
                ed: src.ed,
                es: src.es,
            }
        } else {
            FrameSelection::Stride {
                start: 0,
                step: (src.gray.frames.len() / frames as usize).max(1),
            }
        };
        let pre = preprocess(
            &src.gray,
            &PreprocessConfig {
                roi: None,
                out_width: usize::from(side),
                out_height: usize::from(side),
                bits: BITS,
                selection,
            },
        )?;
        let mut px = pre.frames;
        px.truncate(frames as usize);
        if px.len() != frames as usize {
            bail!("phantom video has {} frames, {frames} wanted", px.len());
        }
        Ok(PlainVideo::new(side, side, BITS, px, ParamSet::V1)?)
    }

    /// Measures (or recalls) one configuration; returns its index.
    fn point(
        &mut self,
        pipeline: &'static str,
        side: u16,
        frames: u32,
        videos: usize,
        threads: usize,
    ) -> Result<usize> {
        let key = (pipeline, side, frames, videos, threads);
        if let Some(&i) = self.index.get(&key) {
            return Ok(i);
        }
        let (params, mask_pixels) = params_for(pipeline, side)?;
        let plain_videos = (0..videos)
            .map(|i| self.video(i, side, frames))
            .collect::<Result<Vec<_>>>()?;
        let total_pbs = params.pbs_count(&plain_videos[0].geometry())? * videos as u64;
        let label = format!("{pipeline} {side}x{side} {frames}f {videos}v {threads}t");
        let pool = &self.pools[&threads];
        let client = &self.client;
        let server = &self.server;
        let budget = Duration::from_millis(100);

        let mut acc = StageAcc::default();
        let mut encrypted = Vec::with_capacity(videos);
        for v in &plain_videos {
            let (plain, _) = time_median(budget, || {
                PlainVideo::new(side, side, BITS, v.frames.clone(), ParamSet::V1)
            });
            let (fhe, enc) = pool.install(|| time_median(budget, || v.encrypt(client)));
            acc.add("encrypt", Some(plain), fhe);
            encrypted.push(enc?);
        }

        let progress = Progress::new();
        let offset = AtomicU64::new(0);
        let mut results = Vec::with_capacity(videos);
        let cpu0 = process_cpu_s();
        let t = Instant::now();
        ticker(
            &label,
            total_pbs,
            || offset.load(Ordering::Relaxed) + progress.pbs_done(),
            || -> Result<()> {
                for enc in &encrypted {
                    let r = pool.install(|| evaluate(server, &params, enc, &progress))?;
                    offset.fetch_add(progress.pbs_done(), Ordering::Relaxed);
                    results.push(r);
                }
                Ok(())
            },
        )?;
        let fhe_s = t.elapsed().as_secs_f64();
        let fhe_cpu_s = cpu0.zip(process_cpu_s()).map(|(a, b)| b - a);
        let pbs_done = offset.load(Ordering::Relaxed);
        if pbs_done != total_pbs {
            bail!("{label}: executed {pbs_done} PBS, the pipeline's formula says {total_pbs}");
        }

        let mut plain_s = 0.0;
        let (mut video_plain_bytes, mut video_blob_bytes) = (0u64, 0u64);
        let (mut result_plain_bytes, mut result_blob_bytes) = (0u64, 0u64);
        for ((v, enc), result) in plain_videos.iter().zip(&encrypted).zip(&results) {
            let (twin_s, twin) = time_median(budget, || params.plaintext(v));
            let twin = twin?;
            plain_s += twin_s;
            let (ser_plain, (raw, plain_json)) =
                time_median(budget, || (v.frames.concat(), serde_json::to_vec(&twin)));
            let plain_json = plain_json?;
            let (ser_fhe, (video_blob, result_blob)) =
                time_median(budget, || (enc.to_bytes(), result.to_bytes()));
            let (video_blob, result_blob) = (video_blob?, result_blob?);
            acc.add("serialise", Some(ser_plain), ser_fhe);
            let (hash_plain, _) = time_median(budget, || {
                (Sha256::digest(&raw), Sha256::digest(&plain_json))
            });
            let (hash_fhe, _) = time_median(budget, || {
                (Sha256::digest(&video_blob), Sha256::digest(&result_blob))
            });
            acc.add("hash", Some(hash_plain), hash_fhe);
            let (dec_s, decrypted) = time_median(budget, || result.decrypt(client, &params));
            if decrypted? != twin {
                bail!("{label}: the decrypted result differs from the plaintext twin");
            }
            acc.add("decrypt", None, dec_s);
            video_plain_bytes += raw.len() as u64;
            video_blob_bytes += video_blob.len() as u64;
            result_plain_bytes += plain_json.len() as u64;
            result_blob_bytes += result_blob.len() as u64;
        }
        acc.add("compute", Some(plain_s), fhe_s);

        let pixels = u64::from(side) * u64::from(side) * u64::from(frames) * videos as u64;
        let pbs_efficiency = (total_pbs > 0)
            .then(|| fhe_s / (total_pbs as f64 * self.single_pbs_s / threads as f64));
        let pbs_efficiency_cpu = match (fhe_cpu_s, self.single_pbs_cpu_s) {
            (Some(c), Some(s)) if total_pbs > 0 && s > 0.0 => Some(c / (total_pbs as f64 * s)),
            _ => None,
        };
        let point = Point {
            pipeline: pipeline.into(),
            roi_side: side,
            frames,
            videos,
            threads,
            pixels,
            pbs: total_pbs,
            plain_s,
            fhe_s,
            fhe_cpu_s,
            pbs_efficiency,
            pbs_efficiency_cpu,
            mask_pixels,
            stages: acc.finish(),
            video_plain_bytes,
            video_blob_bytes,
            result_plain_bytes,
            result_blob_bytes,
            load_avg: load_avg(),
        };
        say(&format!(
            "{label}: {} PBS, FHE {:.3} s, plaintext {:.2e} s, PBS efficiency {}",
            point.pbs,
            point.fhe_s,
            point.plain_s,
            point
                .pbs_efficiency
                .map_or_else(|| "n/a (no PBS)".into(), |e| format!("{e:.3}")),
        ));
        self.points.push(point);
        let i = self.points.len() - 1;
        self.index.insert(key, i);
        Ok(i)
    }
}

/// Sums stage times over the videos of a job.
#[derive(Default)]
struct StageAcc {
    rows: Vec<Stage>,
}

impl StageAcc {
    fn add(&mut self, name: &str, plain: Option<f64>, fhe: f64) {
        if let Some(row) = self.rows.iter_mut().find(|r| r.name == name) {
            row.plain_s = match (row.plain_s, plain) {
                (Some(a), Some(b)) => Some(a + b),
                (a, b) => a.or(b),
            };
            row.fhe_s += fhe;
        } else {
            self.rows.push(Stage {
                name: name.into(),
                plain_s: plain,
                fhe_s: fhe,
            });
        }
    }

    fn finish(mut self) -> Vec<Stage> {
        self.rows
            .sort_by_key(|s| STAGES.iter().position(|(name, _)| *name == s.name));
        self.rows
    }
}

/// Every stage, in pipeline order, with what its two sides measure.
pub const STAGES: [(&str, &str); 6] = [
    (
        "keygen",
        "FHE: client key + server key generation (once per dataset); plaintext: none",
    ),
    (
        "encrypt",
        "FHE: `PlainVideo::encrypt`; plaintext: building the validated `PlainVideo`",
    ),
    (
        "compute",
        "FHE: `evaluate` with the server key; plaintext: the pipeline's plaintext twin",
    ),
    (
        "serialise",
        "FHE: video blob + result blob `to_bytes`; plaintext: raw pixel bytes + output as JSON",
    ),
    (
        "hash",
        "SHA-256 of the video and result blobs; plaintext: of the raw pixels and the JSON output",
    ),
    (
        "decrypt",
        "FHE: `EncryptedResult::decrypt`; plaintext: none (already in the clear)",
    ),
];

/// Runs `f`, printing `PBS done/total` on stderr while it runs (every second
/// on a terminal, every 10 s otherwise) once it has run for 2 s.
fn ticker<T>(label: &str, total: u64, done: impl Fn() -> u64 + Sync, f: impl FnOnce() -> T) -> T {
    if total == 0 {
        return f();
    }
    let stop = AtomicBool::new(false);
    let tty = std::io::stderr().is_terminal();
    let every = Duration::from_secs(if tty { 1 } else { 10 });
    std::thread::scope(|s| {
        s.spawn(|| {
            let start = Instant::now();
            let mut next = start + Duration::from_secs(2);
            let mut printed = false;
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                if Instant::now() < next {
                    continue;
                }
                next += every;
                let d = done().min(total);
                let el = start.elapsed().as_secs_f64();
                let eta = if d > 0 {
                    format!(", ~{:.0} s left", el * (total - d) as f64 / d as f64)
                } else {
                    String::new()
                };
                let line = format!(
                    "[bench] {label}: PBS {d}/{total} ({:.0}%), {el:.0} s{eta}",
                    100.0 * d as f64 / total as f64
                );
                if tty {
                    eprint!("\r{line}\x1b[K");
                } else {
                    eprintln!("{line}");
                }
                printed = true;
            }
            if printed && tty {
                eprintln!();
            }
        });
        let out = f();
        stop.store(true, Ordering::Relaxed);
        out
    })
}
