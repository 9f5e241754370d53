//! Pipeline benchmark: one JSON line per measurement on stdout.
//!
//! ```text
//! cargo bench -p blindfold-fhe --bench pipelines -- [CASES] [--frames N] [--bits B] [--pbs-samples N]
//! ```
//! `CASES` is a comma-separated list of `pipeline:size` (square ROI of
//! `size x size` pixels of `--bits` bits, default 4), default `lv-area:32,lv-area:56,conv3x3:32`;
//! it can also come from `BLINDFOLD_BENCH_CASES`. Supported pipelines:
//! `lv-area`, `conv3x3`, `histogram`. Threads: rayon's global pool
//! (`RAYON_NUM_THREADS`).
//!
//! Fields: plaintext and FHE seconds, their ratio, PBS executed, the
//! measured single-PBS latency (one thread), threads, and
//! `pbs_efficiency = fhe_s / (pbs * single_pbs_s / threads)` (1.0 = the
//! machine's PBS limit; `null` when the pipeline needs no PBS). On a shared
//! machine wall times depend on the load, so the same ratio is also given
//! from CPU time (`pbs_efficiency_cpu` = process CPU seconds of the
//! evaluation / (PBS count * single-PBS thread CPU seconds), Linux `/proc`),
//! which measures the pipeline's own overhead independently of other load.

use std::time::{Duration, Instant};

use blindfold_fhe::{
    evaluate, measure_pbs_latency, ClientKey, Conv3x3Params, HistogramParams, LvAreaParams, Mask,
    ParamSet, PipelineParams, PlainVideo, Progress,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn video(size: u16, bits: u8, frames: usize, seed: u64) -> PlainVideo {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = usize::from(size) * usize::from(size);
    let frames = (0..frames)
        .map(|_| (0..n).map(|_| rng.gen_range(0..(1u8 << bits))).collect())
        .collect();
    PlainVideo::new(size, size, bits, frames, ParamSet::V1).expect("valid video")
}

fn params(pipeline: &str, bits: u8) -> PipelineParams {
    match pipeline {
        "lv-area" => PipelineParams::LvArea(LvAreaParams {
            frames: vec![],
            mask: Mask::All,
            threshold: 1 << (bits - 1),
        }),
        "conv3x3" => PipelineParams::Conv3x3(Conv3x3Params {
            frames: vec![],
            kernel: Conv3x3Params::SOBEL_X,
        }),
        "histogram" => PipelineParams::Histogram(HistogramParams {
            frames: vec![],
            mask: Mask::All,
        }),
        other => panic!("unsupported bench pipeline {other:?}"),
    }
}

/// Median time of the plaintext twin (repeated until 0.2 s have passed).
fn time_plain(p: &PipelineParams, v: &PlainVideo) -> f64 {
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < 5 || (start.elapsed() < Duration::from_millis(200) && times.len() < 10_000)
    {
        let t = Instant::now();
        std::hint::black_box(p.plaintext(v).expect("plaintext"));
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// CPU time of the whole process (user + system), from `/proc/self/stat`.
fn process_cpu_s() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the
    // 12th and 13th of them, in clock ticks (USER_HZ = 100 on Linux).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// CPU time of the calling thread in seconds, from `/proc/thread-self/schedstat`.
fn thread_cpu_s() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(s.split_whitespace().next()?.parse::<u64>().ok()? as f64 * 1e-9)
}

fn json_opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "null".to_owned(), |v| format!("{v:.digits$}"))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut cases = std::env::var("BLINDFOLD_BENCH_CASES")
        .unwrap_or_else(|_| "lv-area:32,lv-area:56,conv3x3:32".into());
    let mut frames = 1usize;
    let mut pbs_samples = 10usize;
    let mut bits = 4u8;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--frames" => {
                i += 1;
                frames = args[i].parse().expect("--frames N");
            }
            "--bits" => {
                i += 1;
                bits = args[i].parse().expect("--bits 1..=4");
            }
            "--pbs-samples" => {
                i += 1;
                pbs_samples = args[i].parse().expect("--pbs-samples N");
            }
            a if a.starts_with("--") => {} // cargo's own flags (--bench)
            a => cases = a.to_owned(),
        }
        i += 1;
    }

    let t = Instant::now();
    let client = ClientKey::generate(ParamSet::V1);
    let server = client.server_key();
    eprintln!("keygen: {:.2} s", t.elapsed().as_secs_f64());

    let (single, single_cpu) = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool")
        .install(|| {
            let _ = measure_pbs_latency(&server, 1);
            let cpu0 = thread_cpu_s();
            let wall = measure_pbs_latency(&server, pbs_samples).as_secs_f64();
            // measure_pbs_latency runs one warm-up plus `pbs_samples` PBS.
            let cpu = cpu0
                .zip(thread_cpu_s())
                .map(|(a, b)| (b - a) / (pbs_samples + 1) as f64);
            (wall, cpu)
        });
    let threads = rayon::current_num_threads();

    for case in cases.split(',').filter(|c| !c.is_empty()) {
        let (pipeline, size) = case.split_once(':').expect("case is pipeline:size");
        let size: u16 = size.parse().expect("size");
        let p = params(pipeline, bits);
        let plain_video = video(size, bits, frames, 1);
        let t = Instant::now();
        let enc = plain_video.encrypt(&client).expect("encrypt");
        let encrypt_s = t.elapsed().as_secs_f64();
        let blob = enc.to_bytes().expect("bytes");
        let plain_s = time_plain(&p, &plain_video);
        let progress = Progress::new();
        let cpu0 = process_cpu_s();
        let t = Instant::now();
        let result = evaluate(&server, &p, &enc, &progress).expect("evaluate");
        let fhe_s = t.elapsed().as_secs_f64();
        let fhe_cpu = cpu0.zip(process_cpu_s()).map(|(a, b)| b - a);
        let decrypted = result.decrypt(&client, &p).expect("decrypt");
        assert_eq!(decrypted, p.plaintext(&plain_video).expect("plain"));
        let pbs = progress.pbs_done();
        let pixels = usize::from(size) * usize::from(size) * frames;
        let efficiency = if pbs == 0 {
            "null".to_owned()
        } else {
            format!("{:.3}", fhe_s / (pbs as f64 * single / threads as f64))
        };
        let efficiency_cpu = match (fhe_cpu, single_cpu) {
            (Some(c), Some(s)) if pbs > 0 => Some(c / (pbs as f64 * s)),
            _ => None,
        };
        let load = std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|l| l.split_whitespace().next().map(str::to_owned))
            .unwrap_or_else(|| "null".into());
        let result_bytes = result.to_bytes().expect("bytes").len();
        println!(
            "{{\"bench\":\"blindfold-fhe\",\"pipeline\":\"{pipeline}\",\"roi\":\"{size}x{size}\",\
\"frames\":{frames},\"bits\":{bits},\"param_set\":\"{}\",\"plain_s\":{plain_s:.9},\"fhe_s\":{fhe_s:.4},\
\"overhead\":{:.1},\"pbs\":{pbs},\"pbs_per_pixel\":{:.4},\"single_pbs_s\":{single:.5},\
\"threads\":{threads},\"pbs_efficiency\":{efficiency},\
\"fhe_cpu_s\":{},\"single_pbs_cpu_s\":{},\"pbs_efficiency_cpu\":{},\"load_avg_1m\":{load},\"fhe_s_per_frame\":{:.4},\
\"encrypt_s\":{encrypt_s:.4},\"video_bytes_per_pixel\":{:.3},\"result_bytes\":{result_bytes},\
\"avx512\":{}}}",
            ParamSet::V1.name(),
            fhe_s / plain_s,
            pbs as f64 / pixels as f64,
            json_opt(fhe_cpu, 2),
            json_opt(single_cpu, 5),
            json_opt(efficiency_cpu, 3),
            fhe_s / frames as f64,
            blob.len() as f64 / pixels as f64,
            cfg!(feature = "avx512"),
        );
    }
}
