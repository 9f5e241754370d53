//! `blindfold-bench`: Blindfold's benchmark suite (driven by `scripts/bench.sh`).
//!
//! ```text
//! blindfold-bench fhe     [--quick] [--threads N] [--out FILE]
//! blindfold-bench schemes [--quick] [--threads N] [--out FILE]
//! blindfold-bench dataset [--videos N] [--threads N] [--out FILE]
//! blindfold-bench schemes-md [--raw DIR]
//! blindfold-bench accuracy [--videos N] [--cycle cycle:C:K:N] [--threads N] [--out FILE]
//! blindfold-bench accuracy-md [--raw DIR]
//! blindfold-bench chain  [--quick] [--chain embedded|ws://HOST:PORT] [--wasm FILE] [--out FILE]
//! blindfold-bench report [--raw DIR] [--docs DIR] [--demo FILE]
//! ```
//!
//! * `fhe` ([`fhe`]): per-stage plaintext vs FHE costs (keygen, encrypt,
//!   compute, serialise, hash, decrypt), PBS counts and efficiency, bytes,
//!   and scaling in ROI side, frames, videos per job and threads.
//! * `schemes` ([`schemes`]): TFHE and BFV side by side on the same inputs,
//!   every pipeline: time per frame, PBS / multiplications / rotations,
//!   bytes per pixel and per result value, noise budget, keys.
//! * `dataset` ([`schemes::dataset`]): a whole EchoNet-Dynamic-sized lv-area
//!   job (10,030 videos of 32x32 ED+ES) on BFV, measured.
//! * `schemes-md`: prints the report's TFHE/BFV section from `schemes.json`
//!   (and `dataset.json`) alone, without the rest of the report.
//! * `accuracy` ([`accuracy`]): the EF error (MAE, 95% limits of agreement)
//!   of ED+ES against whole cardiac cycles on synthetic phantoms with known
//!   EF (default 100), in plaintext and under BFV, whose areas must agree
//!   exactly; `accuracy-md` prints its report section from `accuracy.json`.
//! * `chain` ([`chain`]): gas and storage deposit of every marketplace
//!   message from its dry run, and transaction latency, on the embedded chain
//!   or a node.
//! * `report` ([`report`]): `docs/BENCHMARKS.md`, PNG plots under `docs/`
//!   ([`plot`]) and `docs/summary.json` from the raw JSON results.
//!
//! `--quick` uses small sizes (CI keeps the suite running with it and asserts
//! no timing). Progress goes to stderr. The command recorded in the results is
//! `BLINDFOLD_BENCH_COMMAND` when set (scripts/bench.sh sets it), else this
//! binary's arguments.

mod accuracy;
mod chain;
mod fhe;
mod meta;
mod plot;
mod report;
mod schemes;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

const USAGE: &str = "usage:
  blindfold-bench fhe    [--quick] [--threads N] [--out FILE]
  blindfold-bench schemes [--quick] [--threads N] [--out FILE]
  blindfold-bench dataset [--videos N] [--threads N] [--out FILE]
  blindfold-bench schemes-md [--raw DIR]
  blindfold-bench accuracy [--videos N] [--cycle cycle:C:K:N] [--threads N] [--out FILE]
  blindfold-bench accuracy-md [--raw DIR]
  blindfold-bench chain  [--quick] [--chain embedded|ws://HOST:PORT] [--wasm FILE] [--out FILE]
  blindfold-bench report [--raw DIR] [--docs DIR] [--demo FILE]
Defaults: --out docs/bench-raw/{fhe,schemes,dataset,accuracy,chain}.json, --videos 10030 (dataset)
or 100 (accuracy), --cycle cycle:2:2:64, --chain embedded,
--wasm artifacts/marketplace.wasm, --raw docs/bench-raw, --docs docs.";

/// Parsed flags of one subcommand.
#[derive(Debug, Default)]
struct Args {
    quick: bool,
    threads: Option<usize>,
    out: Option<PathBuf>,
    chain: Option<String>,
    wasm: Option<PathBuf>,
    raw: Option<PathBuf>,
    docs: Option<PathBuf>,
    demo: Option<PathBuf>,
    videos: Option<u64>,
    cycle: Option<blindfold_echo::CycleSelection>,
}

/// Parses `cycle:<cycles>:<step>:<count>` (the client's `--frames` form).
fn parse_cycle(text: &str) -> Result<blindfold_echo::CycleSelection> {
    let parts: Vec<usize> = text
        .strip_prefix("cycle:")
        .map(|rest| rest.split(':').map(str::parse).collect::<Result<_, _>>())
        .transpose()
        .ok()
        .flatten()
        .unwrap_or_default();
    let [cycles, step, count] = parts[..] else {
        bail!("--cycle takes cycle:<cycles>:<step>:<count>, e.g. cycle:2:2:64; got '{text}'");
    };
    let sel = blindfold_echo::CycleSelection {
        cycles,
        step,
        count,
    };
    sel.validate().with_context(|| format!("--cycle {text}"))?;
    Ok(sel)
}

fn parse(args: &[String]) -> Result<Args> {
    let mut a = Args::default();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .with_context(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--quick" => a.quick = true,
            "--threads" => {
                let n: usize = value()?.parse().context("--threads N")?;
                if n == 0 {
                    bail!("--threads must be at least 1");
                }
                a.threads = Some(n);
            }
            "--out" => a.out = Some(value()?.into()),
            "--chain" => a.chain = Some(value()?),
            "--wasm" => a.wasm = Some(value()?.into()),
            "--raw" => a.raw = Some(value()?.into()),
            "--docs" => a.docs = Some(value()?.into()),
            "--demo" => a.demo = Some(value()?.into()),
            "--cycle" => a.cycle = Some(parse_cycle(&value()?)?),
            "--videos" => {
                let n: u64 = value()?.parse().context("--videos N")?;
                if n == 0 {
                    bail!("--videos must be at least 1");
                }
                a.videos = Some(n);
            }
            other => bail!("unknown argument '{other}'\n{USAGE}"),
        }
    }
    Ok(a)
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, serde_json::to_string_pretty(value)? + "\n")
        .with_context(|| format!("writing {}", path.display()))?;
    fhe::say(&format!("wrote {}", path.display()));
    Ok(())
}

fn main() -> Result<()> {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = argv.split_first() else {
        println!("{USAGE}");
        return Ok(());
    };
    match cmd.as_str() {
        "fhe" => {
            let a = parse(rest)?;
            let raw = fhe::run(a.quick, a.threads)?;
            write_json(
                &a.out.unwrap_or_else(|| "docs/bench-raw/fhe.json".into()),
                &raw,
            )
        }
        "schemes" => {
            let a = parse(rest)?;
            let raw = schemes::run(a.quick, a.threads)?;
            write_json(
                &a.out
                    .unwrap_or_else(|| "docs/bench-raw/schemes.json".into()),
                &raw,
            )
        }
        "dataset" => {
            let a = parse(rest)?;
            let raw = schemes::dataset(a.videos.unwrap_or(fhe::ECHONET_VIDEOS), a.threads)?;
            write_json(
                &a.out
                    .unwrap_or_else(|| "docs/bench-raw/dataset.json".into()),
                &raw,
            )
        }
        "accuracy" => {
            let a = parse(rest)?;
            let videos = usize::try_from(a.videos.unwrap_or(100)).context("--videos")?;
            let raw = accuracy::run(videos, a.cycle.unwrap_or(accuracy::CYCLE), a.threads)?;
            print!("{}", accuracy::markdown(&raw));
            write_json(
                &a.out
                    .unwrap_or_else(|| "docs/bench-raw/accuracy.json".into()),
                &raw,
            )
        }
        "accuracy-md" => {
            let a = parse(rest)?;
            let raw = a.raw.unwrap_or_else(|| "docs/bench-raw".into());
            print!("{}", report::accuracy_section(&raw)?.unwrap_or_default());
            Ok(())
        }
        "schemes-md" => {
            let a = parse(rest)?;
            let raw = a.raw.unwrap_or_else(|| "docs/bench-raw".into());
            print!("{}", report::schemes_section(&raw)?.unwrap_or_default());
            Ok(())
        }
        "chain" => {
            let a = parse(rest)?;
            let spec = a.chain.unwrap_or_else(|| "embedded".into());
            let wasm = a
                .wasm
                .unwrap_or_else(|| "artifacts/marketplace.wasm".into());
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            let raw = rt.block_on(chain::run(a.quick, &spec, &wasm))?;
            write_json(
                &a.out.unwrap_or_else(|| "docs/bench-raw/chain.json".into()),
                &raw,
            )
        }
        "report" => {
            let a = parse(rest)?;
            let raw = a.raw.unwrap_or_else(|| "docs/bench-raw".into());
            let docs = a.docs.unwrap_or_else(|| "docs".into());
            for path in report::run(&raw, &docs, a.demo.as_deref())? {
                fhe::say(&format!("wrote {}", path.display()));
            }
            Ok(())
        }
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => bail!("unknown command '{other}'\n{USAGE}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn flags_parse() {
        let a = parse(&args("--quick --threads 2 --out x.json --chain ws://h:1")).unwrap();
        assert!(a.quick);
        assert_eq!(a.threads, Some(2));
        assert_eq!(a.out.as_deref(), Some(Path::new("x.json")));
        assert_eq!(a.chain.as_deref(), Some("ws://h:1"));
        assert!(parse(&args("--threads")).is_err());
        assert!(parse(&args("--threads 0")).is_err());
        assert!(parse(&args("--nope")).is_err());
        let c = parse(&args("--cycle cycle:3:1:90")).unwrap().cycle.unwrap();
        assert_eq!((c.cycles, c.step, c.count), (3, 1, 90));
        for bad in ["cycle:1:0:8", "cycle:1:2", "stride:0:1:8", "cycle:a:1:8"] {
            let e = parse(&args(&format!("--cycle {bad}"))).unwrap_err();
            assert!(format!("{e:#}").contains(bad), "{bad}: {e:#}");
        }
        let e = parse(&args("--cycle cycle:1:0:8")).unwrap_err();
        assert!(format!("{e:#}").contains("step k"), "{e:#}");
    }
}
