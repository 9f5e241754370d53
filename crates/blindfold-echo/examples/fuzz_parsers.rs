//! A small mutation fuzzer for the AVI and CSV parsers (no nightly needed).
//!
//! ```text
//! cargo run --release -p blindfold-echo --example fuzz_parsers -- <seconds> [seed] [crash-dir]
//! ```
//!
//! Seeds: a phantom Motion-JPEG AVI (with and without `idx1`), phantom
//! `FileList.csv` / `VolumeTracings.csv`, and odd CSV snippets. Each iteration
//! takes a corpus entry, applies 1..=8 random mutations (bit flips, random
//! bytes, "interesting" 32-bit values such as sizes 0 / 0x7fffffff /
//! 0xffffffff, inserts, deletes, duplicated ranges, truncation, splicing
//! with another entry) and runs every parser on it: `parse_avi` plus decoding
//! every frame, `parse_csv`, `parse_file_list`, `parse_volume_tracings`.
//! Inputs that still parse are added to the corpus (bounded) so later
//! mutations reach deeper. A panic saves the input under `crash-dir` and the
//! process exits with status 1; otherwise it prints the statistics and exits 0.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use blindfold_echo::avi::parse_avi;
use blindfold_echo::csv::parse_csv;
use blindfold_echo::echonet::{parse_file_list, parse_volume_tracings};
use blindfold_echo::phantom::{encode_avi, generate_video, PhantomConfig};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const INTERESTING: [u32; 10] = [
    0,
    1,
    2,
    7,
    8,
    0x7f,
    0xffff,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
];

fn mutate(rng: &mut ChaCha8Rng, input: &mut Vec<u8>, other: &[u8]) {
    for _ in 0..rng.gen_range(1..=8) {
        let len = input.len();
        match rng.gen_range(0..9) {
            0 if len > 0 => {
                let i = rng.gen_range(0..len);
                input[i] ^= 1 << rng.gen_range(0..8);
            }
            1 if len > 0 => {
                let i = rng.gen_range(0..len);
                input[i] = rng.gen();
            }
            2 if len >= 4 => {
                let i = rng.gen_range(0..=len - 4);
                let v = INTERESTING[rng.gen_range(0..INTERESTING.len())];
                let v = if rng.gen() {
                    v
                } else {
                    v.wrapping_add(rng.gen_range(0..len as u32))
                };
                input[i..i + 4].copy_from_slice(&v.to_le_bytes());
            }
            3 => {
                let i = rng.gen_range(0..=len);
                let n = rng.gen_range(1..=16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.gen()).collect();
                input.splice(i..i, bytes);
            }
            4 if len > 0 => {
                let i = rng.gen_range(0..len);
                let n = rng.gen_range(1..=(len - i).min(64));
                input.drain(i..i + n);
            }
            5 if len > 0 => {
                let i = rng.gen_range(0..len);
                let n = rng.gen_range(1..=(len - i).min(64));
                let copy = input[i..i + n].to_vec();
                let at = rng.gen_range(0..=len);
                input.splice(at..at, copy);
            }
            6 if len > 0 => input.truncate(rng.gen_range(0..len)),
            7 if !other.is_empty() && len > 0 => {
                let cut = rng.gen_range(0..len);
                let from = rng.gen_range(0..other.len());
                input.truncate(cut);
                input.extend_from_slice(&other[from..]);
            }
            _ => {
                // CSV-flavoured: insert a delimiter, quote or newline.
                let i = rng.gen_range(0..=len);
                input.insert(
                    i,
                    [b',', b'"', b'\n', b'\r', b'-', b'.', b'e'][rng.gen_range(0..7)],
                );
            }
        }
    }
}

/// Runs every parser; returns how many of them accepted the input.
fn run_all(input: &[u8]) -> usize {
    let mut ok = 0;
    let p = Path::new("fuzz-input");
    if let Ok(avi) = parse_avi(p, input) {
        ok += 1;
        if (0..avi.frame_count()).all(|i| avi.decode_frame(i).is_ok()) {
            ok += 1;
        }
    }
    ok += usize::from(parse_csv(p, input).is_ok());
    ok += usize::from(parse_file_list(p, input).is_ok());
    ok += usize::from(parse_volume_tracings(p, input).is_ok());
    ok
}

fn seeds() -> Vec<Vec<u8>> {
    let cfg = PhantomConfig {
        frames: 3,
        width: 16,
        height: 16,
        ..PhantomConfig::default()
    };
    let dir = std::env::temp_dir().join(format!("blindfold-echo-fuzz-seed-{}", std::process::id()));
    let truths = blindfold_echo::phantom::write_dataset(
        &dir,
        &PhantomConfig {
            videos: 2,
            ..cfg.clone()
        },
    );
    let mut out = Vec::new();
    if truths.is_ok() {
        for f in ["FileList.csv", "VolumeTracings.csv"] {
            if let Ok(b) = std::fs::read(dir.join(f)) {
                out.push(b);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    if let Ok(v) = generate_video(&cfg, 0) {
        if let Ok(avi) = encode_avi(Path::new("seed.avi"), &v, 75) {
            // Same file without its index, so the movi scan is exercised too.
            let mut no_index = avi.clone();
            if let Some(pos) = avi.windows(4).rposition(|w| w == b"idx1") {
                no_index[pos..pos + 4].copy_from_slice(b"JUNK");
            }
            out.push(avi);
            out.push(no_index);
        }
    }
    out.push(b"A,B\n\"x\"\"y\",2\n".to_vec());
    out.push(b"\xef\xbb\xbfFileName,X1,Y1,X2,Y2,Frame\r\n".to_vec());
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seconds: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(60);
    let seed: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let crash_dir = PathBuf::from(
        args.get(3)
            .cloned()
            .unwrap_or_else(|| "fuzz-crashes".into()),
    );
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut corpus = seeds();
    let base = corpus.len();
    // Keep panics quiet; we report them ourselves.
    std::panic::set_hook(Box::new(|_| {}));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let (mut iterations, mut accepted) = (0u64, 0u64);
    let start = Instant::now();
    while Instant::now() < deadline {
        let a = rng.gen_range(0..corpus.len());
        let b = rng.gen_range(0..corpus.len());
        let mut input = corpus[a].clone();
        mutate(&mut rng, &mut input, &corpus[b]);
        match catch_unwind(AssertUnwindSafe(|| run_all(&input))) {
            Ok(n) => {
                if n > 0 {
                    accepted += 1;
                    if input.len() < 1 << 16 && rng.gen_range(0..8) == 0 {
                        if corpus.len() < 512 {
                            corpus.push(input);
                        } else {
                            let slot = rng.gen_range(base..corpus.len());
                            corpus[slot] = input;
                        }
                    }
                }
            }
            Err(_) => {
                let _ = std::fs::create_dir_all(&crash_dir);
                let path = crash_dir.join(format!("crash-{seed}-{iterations}.bin"));
                let _ = std::fs::write(&path, &input);
                eprintln!(
                    "PANIC after {iterations} iterations; input saved to {}",
                    path.display()
                );
                std::process::exit(1);
            }
        }
        iterations += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "fuzz_parsers: {iterations} inputs in {secs:.0} s ({:.0}/s), {accepted} accepted by at least one parser, corpus {} entries, 0 panics",
        iterations as f64 / secs,
        corpus.len()
    );
}
