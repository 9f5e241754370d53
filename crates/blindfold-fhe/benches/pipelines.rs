//! Pipeline benchmark: one JSON line per measurement on stdout.
//!
//! ```text
//! cargo bench -p blindfold-fhe --bench pipelines -- [CASES] [--frames N] [--pbs-samples N]
//! ```
//! `CASES` is a comma-separated list of `pipeline:size` (square ROI of
//! `size x size` 4-bit pixels), default `lv-area:32,lv-area:56,conv3x3:32`;
//! it can also come from `BLINDFOLD_BENCH_CASES`. Supported pipelines:
//! `lv-area`, `conv3x3`, `histogram`. Threads: rayon's global pool
//! (`RAYON_NUM_THREADS`).
//!
//! Fields: plaintext and FHE seconds, their ratio, PBS executed, the
//! measured single-PBS latency (one thread), threads, and
//! `pbs_efficiency = fhe_s / (pbs * single_pbs_s / threads)` (1.0 = the
//! machine's PBS limit; `null` when the pipeline needs no PBS).

use std::time::{Duration, Instant};

use blindfold_fhe::{
    evaluate, measure_pbs_latency, ClientKey, Conv3x3Params, HistogramParams, LvAreaParams, Mask,
    ParamSet, PipelineParams, PlainVideo, Progress,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn video(size: u16, frames: usize, seed: u64) -> PlainVideo {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = usize::from(size) * usize::from(size);
    let frames = (0..frames)
        .map(|_| (0..n).map(|_| rng.gen_range(0..16u8)).collect())
        .collect();
    PlainVideo::new(size, size, 4, frames, ParamSet::V1).expect("valid video")
}

fn params(pipeline: &str) -> PipelineParams {
    match pipeline {
        "lv-area" => PipelineParams::LvArea(LvAreaParams {
            frames: vec![],
            mask: Mask::All,
            threshold: 8,
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

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut cases = std::env::var("BLINDFOLD_BENCH_CASES")
        .unwrap_or_else(|_| "lv-area:32,lv-area:56,conv3x3:32".into());
    let mut frames = 1usize;
    let mut pbs_samples = 10usize;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--frames" => {
                i += 1;
                frames = args[i].parse().expect("--frames N");
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

    let single = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool")
        .install(|| measure_pbs_latency(&server, pbs_samples))
        .as_secs_f64();
    let threads = rayon::current_num_threads();

    for case in cases.split(',').filter(|c| !c.is_empty()) {
        let (pipeline, size) = case.split_once(':').expect("case is pipeline:size");
        let size: u16 = size.parse().expect("size");
        let p = params(pipeline);
        let plain_video = video(size, frames, 1);
        let t = Instant::now();
        let enc = plain_video.encrypt(&client).expect("encrypt");
        let encrypt_s = t.elapsed().as_secs_f64();
        let blob = enc.to_bytes().expect("bytes");
        let plain_s = time_plain(&p, &plain_video);
        let progress = Progress::new();
        let t = Instant::now();
        let result = evaluate(&server, &p, &enc, &progress).expect("evaluate");
        let fhe_s = t.elapsed().as_secs_f64();
        let decrypted = result.decrypt(&client, &p).expect("decrypt");
        assert_eq!(decrypted, p.plaintext(&plain_video).expect("plain"));
        let pbs = progress.pbs_done();
        let pixels = usize::from(size) * usize::from(size) * frames;
        let efficiency = if pbs == 0 {
            "null".to_owned()
        } else {
            format!("{:.3}", fhe_s / (pbs as f64 * single / threads as f64))
        };
        let result_bytes = result.to_bytes().expect("bytes").len();
        println!(
            "{{\"bench\":\"blindfold-fhe\",\"pipeline\":\"{pipeline}\",\"roi\":\"{size}x{size}\",\
\"frames\":{frames},\"bits\":4,\"param_set\":\"{}\",\"plain_s\":{plain_s:.9},\"fhe_s\":{fhe_s:.4},\
\"overhead\":{:.1},\"pbs\":{pbs},\"pbs_per_pixel\":{:.4},\"single_pbs_s\":{single:.5},\
\"threads\":{threads},\"pbs_efficiency\":{efficiency},\"fhe_s_per_frame\":{:.4},\
\"encrypt_s\":{encrypt_s:.4},\"video_bytes_per_pixel\":{:.3},\"result_bytes\":{result_bytes},\
\"avx512\":{}}}",
            ParamSet::V1.name(),
            fhe_s / plain_s,
            pbs as f64 / pixels as f64,
            fhe_s / frames as f64,
            blob.len() as f64 / pixels as f64,
            cfg!(feature = "avx512"),
        );
    }
}
