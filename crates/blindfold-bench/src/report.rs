//! `blindfold-bench report`: turns the raw results into `docs/BENCHMARKS.md`,
//! the PNG plots and `docs/summary.json`.
//!
//! Inputs (in `--raw`, default `docs/bench-raw/`): `fhe.json` (required),
//! `chain.json` (optional, the embedded chain), `chain-node.json` (optional,
//! a substrate-contracts-node) and the demo's timings (`--demo`, optional; format
//! `{"videos":n,"stages":[{"name":"...","seconds":f}],"chain_seconds":f,"total_seconds":f}`).
//! Everything derived from a model rather than timed is labelled as such.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use blindfold_fhe::Geometry;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::chain::{ChainRaw, Message, UNIT};
use crate::fhe::{params_for, say, FheRaw, Point, BITS, ECHONET_VIDEOS, STAGES};
use crate::plot::{self, Figure, Series};

/// The demo's timings (written by `scripts/demo.sh`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Demo {
    /// Videos the demo ran on.
    pub videos: u64,
    /// Its stages, in order.
    pub stages: Vec<DemoStage>,
    /// Time spent waiting for the chain.
    pub chain_seconds: f64,
    /// Wall time of the whole demo.
    pub total_seconds: f64,
}

/// One stage of the demo.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DemoStage {
    /// Stage name.
    pub name: String,
    /// Wall seconds.
    pub seconds: f64,
}

/// The chain runs a report includes, in this order, when present.
const CHAIN_FILES: [&str; 2] = ["chain.json", "chain-node.json"];

/// ROI sides the extrapolation covers (the issue's axis), whatever was measured.
const EXTRAPOLATION_SIDES: [u16; 4] = [16, 32, 56, 112];

/// Writes the report. Returns the paths written.
pub fn run(raw_dir: &Path, docs: &Path, demo: Option<&Path>) -> Result<Vec<PathBuf>> {
    let fhe: FheRaw = read_json(&raw_dir.join("fhe.json"))?;
    let mut chains: Vec<ChainRaw> = Vec::new();
    for name in CHAIN_FILES {
        let p = raw_dir.join(name);
        if p.exists() {
            chains.push(read_json(&p)?);
        }
    }
    let demo: Option<Demo> = match demo {
        Some(p) => Some(read_json(p)?),
        None => None,
    };
    std::fs::create_dir_all(docs).with_context(|| format!("creating {}", docs.display()))?;

    let mut written = Vec::new();
    let figures = figures(&fhe)?;
    let mut drawn = Vec::new();
    for (name, fig) in &figures {
        let path = docs.join(format!("{name}.png"));
        match plot::draw(fig, &path) {
            Ok(()) => {
                written.push(path);
                drawn.push((name.clone(), None));
            }
            Err(e) => {
                say(&format!("report: plot {name} not drawn: {e:#}"));
                drawn.push((name.clone(), Some(format!("{e:#}"))));
            }
        }
    }

    let summary = summary(&fhe, &chains, demo.as_ref())?;
    let path = docs.join("summary.json");
    std::fs::write(&path, serde_json::to_string_pretty(&summary)? + "\n")?;
    written.push(path);

    let md = markdown(&fhe, &chains, demo.as_ref(), &summary, &figures, &drawn)?;
    let path = docs.join("BENCHMARKS.md");
    std::fs::write(&path, md)?;
    written.push(path);
    Ok(written)
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

// ---------------------------------------------------------------- numbers

fn ratio(a: f64, b: f64) -> Option<f64> {
    (b > 0.0 && a.is_finite() && b.is_finite()).then(|| a / b)
}

fn fmt_s(s: f64) -> String {
    if !s.is_finite() {
        "n/a".into()
    } else if s >= 100.0 {
        format!("{s:.0} s")
    } else if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.1} µs", s * 1e6)
    }
}

fn fmt_int(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn fmt_x(r: Option<f64>) -> String {
    match r {
        None => "n/a".into(),
        Some(r) if r >= 1e5 => format!("×{r:.1e}"),
        Some(r) if r >= 10.0 => format!("×{}", fmt_int(r.round() as u64)),
        Some(r) => format!("×{r:.2}"),
    }
}

fn fmt_eff(e: Option<f64>) -> String {
    e.map_or_else(|| "n/a (no PBS)".into(), |e| format!("{e:.3}"))
}

fn fmt_bytes(b: f64) -> String {
    if b >= 1e9 {
        format!("{:.2} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.2} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.1} kB", b / 1e3)
    } else {
        format!("{b:.0} B")
    }
}

fn roi(side: u16) -> String {
    format!("{side}x{side}")
}

fn fmt_opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "n/a".into(), |v| format!("{v:.digits$}"))
}

// ---------------------------------------------------------------- model

fn point(fhe: &FheRaw, i: usize) -> &Point {
    &fhe.points[i]
}

fn axis<'a>(fhe: &'a FheRaw, vary: &str, pipeline: &str) -> Vec<&'a Point> {
    fhe.axes
        .iter()
        .find(|a| a.vary == vary && a.pipeline == pipeline)
        .map(|a| a.points.iter().map(|&i| point(fhe, i)).collect())
        .unwrap_or_default()
}

fn stage_point<'a>(fhe: &'a FheRaw, pipeline: &str) -> Option<&'a Point> {
    fhe.stage_points
        .iter()
        .map(|&i| point(fhe, i))
        .find(|p| p.pipeline == pipeline)
}

/// PBS-bound time of a point: PBS × single PBS / threads.
fn pbs_bound(fhe: &FheRaw, p: &Point) -> f64 {
    p.pbs as f64 * fhe.single_pbs_s / p.threads as f64
}

/// One row of the 10,030-video extrapolation (lv-area, ED+ES, 1 video).
struct Extrapolated {
    side: u16,
    pbs_per_video: u64,
    seconds_per_video: f64,
    basis: &'static str,
    video_bytes: f64,
}

fn extrapolation(fhe: &FheRaw) -> Result<Vec<Extrapolated>> {
    let roi = axis(fhe, "roi", "lv-area");
    let threads = fhe.plan.default_threads;
    // Efficiency of the largest measured lv-area point, for the model rows.
    let reference = roi
        .iter()
        .filter(|p| p.pbs_efficiency.is_some())
        .max_by_key(|p| p.pbs)
        .copied();
    let eff = reference.and_then(|p| p.pbs_efficiency).unwrap_or(1.0);
    let bytes_per_pixel = roi
        .iter()
        .map(|p| p.video_blob_bytes as f64 / p.pixels as f64)
        .next_back()
        .unwrap_or(8.0);
    let mut rows = Vec::new();
    for side in EXTRAPOLATION_SIDES {
        let measured = roi.iter().find(|p| p.roi_side == side && p.videos == 1);
        let row = match measured {
            Some(p) => Extrapolated {
                side,
                pbs_per_video: p.pbs,
                seconds_per_video: p.fhe_s,
                basis: "measured per-video time",
                video_bytes: p.video_blob_bytes as f64,
            },
            None => {
                let (params, _) = params_for("lv-area", side)?;
                let g = Geometry {
                    width: side,
                    height: side,
                    bits: BITS,
                    frames: 2,
                };
                let pbs = params.pbs_count(&g)?;
                Extrapolated {
                    side,
                    pbs_per_video: pbs,
                    seconds_per_video: pbs as f64 * fhe.single_pbs_s / threads as f64 * eff,
                    basis: "model: PBS × single PBS / threads × measured efficiency",
                    video_bytes: bytes_per_pixel * f64::from(side) * f64::from(side) * 2.0,
                }
            }
        };
        rows.push(row);
    }
    Ok(rows)
}

// ---------------------------------------------------------------- summary.json

fn pipeline_json(fhe: &FheRaw, p: &Point) -> Value {
    json!({
        "status": "measured",
        "roi": format!("{0}x{0}", p.roi_side),
        "roi_side": p.roi_side,
        "frames": p.frames,
        "videos": p.videos,
        "threads": p.threads,
        "mask_pixels_per_frame": p.mask_pixels,
        "pbs_count": p.pbs,
        "pbs_per_pixel": p.pbs as f64 / p.pixels as f64,
        "plain_seconds": p.plain_s,
        "fhe_seconds": p.fhe_s,
        "overhead_ratio": ratio(p.fhe_s, p.plain_s),
        "pbs_efficiency": p.pbs_efficiency,
        "pbs_efficiency_cpu": p.pbs_efficiency_cpu,
        "pbs_bound_seconds": pbs_bound(fhe, p),
        "bytes_per_pixel": p.video_blob_bytes as f64 / p.pixels as f64,
        "stages": p.stages.iter().map(|s| json!({
            "name": s.name,
            "plain_seconds": s.plain_s,
            "fhe_seconds": s.fhe_s,
            "overhead_ratio": s.plain_s.and_then(|pl| ratio(s.fhe_s, pl)),
        })).collect::<Vec<_>>(),
    })
}

fn point_json(fhe: &FheRaw, p: &Point) -> Value {
    json!({
        "pipeline": p.pipeline,
        "roi_side": p.roi_side,
        "frames": p.frames,
        "videos": p.videos,
        "threads": p.threads,
        "pixels": p.pixels,
        "pbs_count": p.pbs,
        "plain_seconds": p.plain_s,
        "fhe_seconds": p.fhe_s,
        "overhead_ratio": ratio(p.fhe_s, p.plain_s),
        "pbs_efficiency": p.pbs_efficiency,
        "pbs_efficiency_cpu": p.pbs_efficiency_cpu,
        "pbs_bound_seconds": pbs_bound(fhe, p),
        "load_avg": p.load_avg,
    })
}

fn summary(fhe: &FheRaw, chains: &[ChainRaw], demo: Option<&Demo>) -> Result<Value> {
    let lv = stage_point(fhe, "lv-area").context("no lv-area stage point")?;
    let conv = stage_point(fhe, "conv3x3").context("no conv3x3 stage point")?;
    let mut scaling = serde_json::Map::new();
    for a in &fhe.axes {
        let key = format!("{}_{}", a.vary, a.pipeline.replace('-', "_"));
        scaling.insert(
            key,
            json!({
                "fixed": a.fixed,
                "points": a.points.iter().map(|&i| point_json(fhe, point(fhe, i))).collect::<Vec<_>>(),
            }),
        );
    }
    let rows = extrapolation(fhe)?;
    let extrapolation = json!({
        "status": "extrapolated, not measured",
        "videos": ECHONET_VIDEOS,
        "pipeline": "lv-area",
        "frames_per_video": 2,
        "threads": fhe.plan.default_threads,
        "rows": rows.iter().map(|r| json!({
            "roi_side": r.side,
            "basis": r.basis,
            "pbs_per_video": r.pbs_per_video,
            "seconds_per_video": r.seconds_per_video,
            "total_pbs": r.pbs_per_video * ECHONET_VIDEOS,
            "total_hours": r.seconds_per_video * ECHONET_VIDEOS as f64 / 3600.0,
            "ciphertext_bytes": r.video_bytes * ECHONET_VIDEOS as f64,
        })).collect::<Vec<_>>(),
    });
    let chain_json = |c: &ChainRaw| match &c.skipped {
        Some(reason) => json!({"status": "not measured", "reason": reason, "chain": c.kind}),
        None => json!({
            "status": "measured",
            "measured_on": c.kind,
            "chain": c.chain,
            "wasm_bytes": c.wasm_bytes,
            "deploy_ms": c.deploy_ms,
            "job_lifecycle_ms": c.job_lifecycle_ms,
            "messages": c.messages.iter().map(|m| json!({
                "name": m.name,
                "case": m.case,
                "kind": m.kind,
                "selector": m.selector,
                "ref_time": m.ref_time,
                "proof_size": m.proof_size,
                "storage_deposit": m.storage_deposit,
                "dry_run_ms": m.dry_run_ms,
                "tx_ms": m.tx_ms,
                "fee": m.fee,
            })).collect::<Vec<_>>(),
            "latency": c.latency,
        }),
    };
    let chains_json: Vec<Value> = if chains.is_empty() {
        vec![json!({"status": "not measured", "reason": "no chain.json"})]
    } else {
        chains.iter().map(chain_json).collect()
    };
    let e2e = match demo {
        Some(d) => json!({
            "status": "measured",
            "source": "scripts/demo.sh timings",
            "videos": d.videos,
            "chain_seconds": d.chain_seconds,
            "total_seconds": d.total_seconds,
            "chain_share": ratio(d.chain_seconds, d.total_seconds),
            "stages": d.stages,
        }),
        None => json!({
            "status": "not measured",
            "how": "run scripts/demo.sh (it writes docs/bench-raw/demo.json), then scripts/bench.sh",
        }),
    };
    Ok(json!({
        "schema": 1,
        "mode": fhe.meta.mode,
        "date": fhe.meta.date,
        "command": fhe.meta.command,
        "machine": fhe.meta.machine,
        "param_set": fhe.param_set,
        "bits_per_pixel": fhe.bits,
        "threads": fhe.plan.default_threads,
        "single_pbs_ms": fhe.single_pbs_s * 1e3,
        "single_pbs_cpu_ms": fhe.single_pbs_cpu_s.map(|s| s * 1e3),
        "bytes_per_pixel": lv.video_blob_bytes as f64 / lv.pixels as f64,
        "lv_area": pipeline_json(fhe, lv),
        "conv3x3": pipeline_json(fhe, conv),
        "keys": fhe.keys,
        "scaling": scaling,
        "extrapolation": extrapolation,
        "chains": chains_json,
        "e2e": e2e,
    }))
}

// ---------------------------------------------------------------- figures

fn caption_lines(fhe: &FheRaw) -> Vec<String> {
    vec![
        "Solid lines with dots: measured. Dashed: model or extrapolation (not measured).".into(),
        format!(
            "machine: {}; date: {}; threads: {}",
            fhe.meta.machine.caption(),
            fhe.meta.date,
            fhe.plan.default_threads
        ),
        format!("command: {}", fhe.meta.command),
    ]
}

fn series(label: &str, color: usize, dashed: bool, points: Vec<(f64, f64)>) -> Series {
    Series {
        label: label.into(),
        points,
        dashed,
        color,
    }
}

fn figures(fhe: &FheRaw) -> Result<Vec<(String, Figure)>> {
    let caption = caption_lines(fhe);
    let mut out = Vec::new();

    // ROI side.
    let lv = axis(fhe, "roi", "lv-area");
    let conv = axis(fhe, "roi", "conv3x3");
    let mut s = vec![
        series(
            "lv-area FHE (measured)",
            0,
            false,
            lv.iter()
                .map(|p| (f64::from(p.roi_side), p.fhe_s))
                .collect(),
        ),
        series(
            "lv-area PBS bound: PBS × single PBS / threads",
            0,
            true,
            lv.iter()
                .map(|p| (f64::from(p.roi_side), pbs_bound(fhe, p)))
                .collect(),
        ),
        series(
            "conv3x3 FHE (measured, no PBS)",
            1,
            false,
            conv.iter()
                .map(|p| (f64::from(p.roi_side), p.fhe_s))
                .collect(),
        ),
        series(
            "lv-area plaintext twin (measured)",
            2,
            false,
            lv.iter()
                .map(|p| (f64::from(p.roi_side), p.plain_s))
                .collect(),
        ),
        series(
            "conv3x3 plaintext twin (measured)",
            3,
            false,
            conv.iter()
                .map(|p| (f64::from(p.roi_side), p.plain_s))
                .collect(),
        ),
    ];
    let rows = extrapolation(fhe)?;
    if rows.iter().any(|r| r.basis.starts_with("model")) {
        let last_measured = rows.iter().rfind(|r| !r.basis.starts_with("model"));
        let pts: Vec<(f64, f64)> = last_measured
            .into_iter()
            .chain(rows.iter().filter(|r| r.basis.starts_with("model")))
            .map(|r| (f64::from(r.side), r.seconds_per_video))
            .collect();
        s.push(series("lv-area FHE, extrapolated (model)", 4, true, pts));
    }
    out.push((
        "bench-roi".to_owned(),
        Figure {
            title: "Time per video vs ROI side (2 frames, ED+ES)".into(),
            x_desc: "ROI side (frames of side × side pixels)".into(),
            y_desc: "seconds".into(),
            series: s,
            caption: caption.clone(),
        },
    ));

    // Frames.
    let lv = axis(fhe, "frames", "lv-area");
    let conv = axis(fhe, "frames", "conv3x3");
    out.push((
        "bench-frames".to_owned(),
        Figure {
            title: format!("Time per video vs frames (ROI {0}x{0})", fhe.plan.base_side),
            x_desc: "frames per video".into(),
            y_desc: "seconds".into(),
            series: vec![
                series(
                    "lv-area FHE (measured)",
                    0,
                    false,
                    lv.iter().map(|p| (f64::from(p.frames), p.fhe_s)).collect(),
                ),
                series(
                    "lv-area PBS bound",
                    0,
                    true,
                    lv.iter()
                        .map(|p| (f64::from(p.frames), pbs_bound(fhe, p)))
                        .collect(),
                ),
                series(
                    "conv3x3 FHE (measured)",
                    1,
                    false,
                    conv.iter()
                        .map(|p| (f64::from(p.frames), p.fhe_s))
                        .collect(),
                ),
                series(
                    "lv-area plaintext twin (measured)",
                    2,
                    false,
                    lv.iter()
                        .map(|p| (f64::from(p.frames), p.plain_s))
                        .collect(),
                ),
            ],
            caption: caption.clone(),
        },
    ));

    // Videos.
    let lv = axis(fhe, "videos", "lv-area");
    let one = lv.iter().find(|p| p.videos == 1).map(|p| p.fhe_s);
    let mut s = vec![
        series(
            "lv-area FHE (measured)",
            0,
            false,
            lv.iter().map(|p| (p.videos as f64, p.fhe_s)).collect(),
        ),
        series(
            "lv-area PBS bound",
            0,
            true,
            lv.iter()
                .map(|p| (p.videos as f64, pbs_bound(fhe, p)))
                .collect(),
        ),
    ];
    if let Some(one) = one {
        s.push(series(
            "linear: 1-video time × videos",
            5,
            true,
            lv.iter()
                .map(|p| (p.videos as f64, one * p.videos as f64))
                .collect(),
        ));
    }
    out.push((
        "bench-videos".to_owned(),
        Figure {
            title: format!(
                "Job time vs videos per job (lv-area, ROI {0}x{0}, 2 frames)",
                fhe.plan.base_side
            ),
            x_desc: "videos per job".into(),
            y_desc: "seconds".into(),
            series: s,
            caption: caption.clone(),
        },
    ));

    // Threads.
    let lv = axis(fhe, "threads", "lv-area");
    let t1 = lv.iter().find(|p| p.threads == 1).map(|p| p.fhe_s);
    let mut s = vec![
        series(
            "lv-area FHE (measured)",
            0,
            false,
            lv.iter().map(|p| (p.threads as f64, p.fhe_s)).collect(),
        ),
        series(
            "lv-area PBS bound",
            0,
            true,
            lv.iter()
                .map(|p| (p.threads as f64, pbs_bound(fhe, p)))
                .collect(),
        ),
    ];
    if let Some(t1) = t1 {
        s.push(series(
            "ideal: 1-thread time / threads",
            5,
            true,
            lv.iter()
                .map(|p| (p.threads as f64, t1 / p.threads as f64))
                .collect(),
        ));
    }
    out.push((
        "bench-threads".to_owned(),
        Figure {
            title: format!(
                "Time vs rayon threads (lv-area, ROI {0}x{0}, 2 frames)",
                fhe.plan.threads_side
            ),
            x_desc: "threads (one rayon ThreadPool each)".into(),
            y_desc: "seconds".into(),
            series: s,
            caption,
        },
    ));
    Ok(out)
}

// ---------------------------------------------------------------- markdown

fn scaling_table(md: &mut String, fhe: &FheRaw, points: &[&Point]) {
    md.push_str(
        "| pipeline | ROI | frames | videos | threads | pixels | PBS | plaintext | FHE | overhead | PBS bound | PBS efficiency | CPU efficiency | load |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for p in points {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            p.pipeline,
            roi(p.roi_side),
            p.frames,
            p.videos,
            p.threads,
            fmt_int(p.pixels),
            fmt_int(p.pbs),
            fmt_s(p.plain_s),
            fmt_s(p.fhe_s),
            fmt_x(ratio(p.fhe_s, p.plain_s)),
            if p.pbs > 0 {
                fmt_s(pbs_bound(fhe, p))
            } else {
                "–".into()
            },
            fmt_eff(p.pbs_efficiency),
            fmt_opt(p.pbs_efficiency_cpu, 3),
            fmt_opt(p.load_avg, 2),
        );
    }
}

fn figure_md(
    md: &mut String,
    n: usize,
    name: &str,
    fig: &Figure,
    drawn: &[(String, Option<String>)],
    fhe: &FheRaw,
) {
    match drawn.iter().find(|(d, _)| d == name) {
        Some((_, None)) => {
            let _ = writeln!(md, "![{}]({name}.png)\n", fig.title);
        }
        Some((_, Some(e))) => {
            let _ = writeln!(md, "_Plot `{name}.png` was not drawn: {e}._\n");
        }
        None => {}
    }
    let _ = writeln!(
        md,
        "_Figure {n}. {}. Solid: measured; dashed: model or extrapolation. {}._\n",
        fig.title,
        fhe.meta.caption()
    );
}

fn chain_label(c: &ChainRaw) -> String {
    if c.kind == "embedded" {
        format!(
            "the **embedded chain** ({}: real pallet-contracts in this process via ink_sandbox 5.1.1, no network, no block production; fees are 0)",
            c.chain
        )
    } else {
        format!(
            "a **substrate-contracts-node** at `{}` (RPC, block production and inclusion included)",
            c.chain
        )
    }
}

fn message_row(md: &mut String, m: &Message) {
    let _ = writeln!(
        md,
        "| `{}` | {} | {} | `{}` | {} | {} | {} | {:.2} | {} |",
        m.name,
        m.case,
        m.kind,
        m.selector,
        fmt_int(m.ref_time),
        fmt_int(m.proof_size),
        m.storage_deposit,
        m.dry_run_ms,
        m.tx_ms.map_or_else(|| "–".into(), |t| format!("{t:.2}")),
    );
}

/// A deposit in the smallest unit, with its value in tokens when that is
/// readable (the embedded sandbox's prices make deposits tiny).
fn format_deposit(v: i128) -> String {
    let units = v as f64 / UNIT as f64;
    if units.abs() >= 1e-6 {
        format!("{} ({units:.6} units)", v)
    } else {
        v.to_string()
    }
}

/// One chain run's part of the Chain section: gas, deposit and latency per
/// message.
fn chain_section(md: &mut String, c: &ChainRaw) {
    match &c.skipped {
        None => {
            let _ = writeln!(
                md,
                "### On the {}\n\nMeasured on {}. _{}._\n",
                if c.kind == "embedded" {
                    "embedded chain"
                } else {
                    "node"
                },
                chain_label(c),
                c.meta.caption()
            );
            let _ = writeln!(
                md,
                "Contract `artifacts/marketplace.wasm`: {} bytes; deploy (upload + instantiate): {:.1} ms.\n",
                fmt_int(c.wasm_bytes as u64),
                c.deploy_ms
            );
            md.push_str(
                "Gas (ref_time, proof_size) and storage deposit are from the dry run that precedes every call \
                 (deposit in the chain's smallest unit; 1 unit = 10^12; negative = refund). *dry run* is the \
                 latency of one dry run; *call* is the whole `Chain::call`: dry run, signing, submission and \
                 inclusion.\n\n",
            );
            if c.kind == "embedded" {
                md.push_str(
                    "On the embedded chain, ink_sandbox's runtime prices storage at 1 per byte and 1 per \
                     storage item, so a deposit here is the storage the call adds (bytes + items); a node \
                     multiplies the same growth by its own prices. Its gas is pallet-contracts' default \
                     weights, not a production runtime's benchmarked ones: compare messages with each \
                     other here, and take absolute gas from a node.\n\n",
                );
            }
            if c.kind != "embedded" {
                md.push_str(
                    "On a substrate-contracts-node (dev mode) a call waits for finality, which the node \
                     gives each block after `--finalize-delay-sec` (default 1 s): that second, not \
                     execution, is most of a call's latency. Gas is the node runtime's weights, and the \
                     deposit its storage prices.\n\n",
                );
            }
            md.push_str("| message | case | kind | selector | ref_time | proof_size | storage deposit | dry run ms | call ms |\n|---|---|---|---|---|---|---|---|---|\n");
            for m in &c.messages {
                message_row(md, m);
            }
            let seen: Vec<&str> = c.messages.iter().map(|m| m.name.as_str()).collect();
            let missing: Vec<&str> = blindfold_protocol::selectors::MESSAGES
                .iter()
                .map(|(n, _)| *n)
                .filter(|n| !seen.contains(n))
                .collect();
            if !missing.is_empty() {
                let _ = writeln!(
                    md,
                    "\nNot measured: {}{}.",
                    missing
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    if missing.contains(&"set_code_hash") {
                        " (`set_code_hash` needs a second uploaded code)"
                    } else {
                        ""
                    }
                );
            }
            md.push_str("\nTransaction latency (the same message repeated):\n\n| what | samples | p50 ms | p90 ms | max ms | mean ms |\n|---|---|---|---|---|---|\n");
            for l in &c.latency {
                let _ = writeln!(
                    md,
                    "| {} | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
                    l.what, l.samples, l.p50_ms, l.p90_ms, l.max_ms, l.mean_ms
                );
            }
            let _ = writeln!(
                md,
                "\nOne replicated job's chain traffic (request, 2 claims, 2 commits, 2 reveals, release, \
                 finalize; excluding dataset setup and the workers' own queries): {:.1} ms of calls.\n",
                c.job_lifecycle_ms
            );
            if let Some(batch) = c
                .messages
                .iter()
                .filter(|m| m.name == "add_submissions")
                .max_by_key(|m| m.case.split(' ').next().and_then(|n| n.parse::<u64>().ok()))
            {
                let per = batch
                    .case
                    .split(' ')
                    .next()
                    .and_then(|n| n.parse::<u64>().ok())
                    .unwrap_or(1);
                let calls = ECHONET_VIDEOS.div_ceil(per);
                let _ = writeln!(
                    md,
                    "Extrapolated, not measured: registering all {} EchoNet-Dynamic videos takes {} \
                     `add_submissions` calls of up to {per} hashes: about {} ref_time and {} of storage \
                     deposit in total, and {:.1} s of calls at this chain's latency.\n",
                    fmt_int(ECHONET_VIDEOS),
                    calls,
                    fmt_int(batch.ref_time.saturating_mul(calls)),
                    format_deposit(batch.storage_deposit.saturating_mul(calls as i128)),
                    batch.tx_ms.unwrap_or(0.0) * calls as f64 / 1e3,
                );
            }
        }
        Some(reason) => {
            let _ = writeln!(
                md,
                "**Not measured** ({}): {reason}. Run `scripts/build-contract.sh` (after `scripts/setup.sh`), then `scripts/bench.sh`.\n",
                c.kind
            );
        }
    }
}

fn markdown(
    fhe: &FheRaw,
    chains: &[ChainRaw],
    demo: Option<&Demo>,
    summary: &Value,
    figures: &[(String, Figure)],
    drawn: &[(String, Option<String>)],
) -> Result<String> {
    let mut md = String::new();
    let lv = stage_point(fhe, "lv-area").context("no lv-area stage point")?;
    let conv = stage_point(fhe, "conv3x3").context("no conv3x3 stage point")?;
    let threads = fhe.plan.default_threads;

    md.push_str("# Blindfold benchmarks\n\n");
    md.push_str(
        "Written by `scripts/bench.sh` (the `blindfold-bench` crate); do not edit by hand, rerun it. \
         Machine-readable: [`summary.json`](summary.json); raw results: `docs/bench-raw/` (not in git).\n\n",
    );
    let _ = writeln!(
        md,
        "- **Mode: {}.**{}",
        fhe.meta.mode,
        if fhe.meta.mode == "quick" {
            " Quick mode uses small sizes so that CI can keep the suite running; it asserts nothing, and on a shared machine its timings are indicative only. `scripts/bench.sh` (no flag) runs the full axes."
        } else {
            ""
        }
    );
    let _ = writeln!(
        md,
        "- FHE run: {}; took {:.0} s.",
        fhe.meta.caption(),
        fhe.meta.elapsed_s
    );
    for c in chains {
        match &c.skipped {
            None => {
                let _ = writeln!(
                    md,
                    "- Chain run: {}; on {}.",
                    c.meta.caption(),
                    chain_label(c)
                );
            }
            Some(reason) => {
                let _ = writeln!(md, "- Chain run ({}): **not measured**: {reason}.", c.kind);
            }
        }
    }
    if chains.is_empty() {
        md.push_str("- Chain run: **not measured** (no `chain.json`).\n");
    }
    let busiest = fhe
        .points
        .iter()
        .filter_map(|p| p.load_avg)
        .chain(fhe.meta.load_start)
        .fold(0.0f64, f64::max);
    if busiest >= fhe.meta.machine.nproc as f64 {
        let _ = writeln!(
            md,
            "- **The machine was busy during this run** (1-minute load average up to {busiest:.1} on {} \
             CPUs): wall-clock times, the threads axis and the wall-clock PBS efficiency include time spent \
             waiting for a CPU. The CPU-efficiency column (process CPU time) is the better guide to the \
             pipelines' own cost; rerun on a quiet machine for wall-clock figures.",
            fhe.meta.machine.nproc
        );
    }
    md.push_str(
        "- **Measured vs extrapolated.** Every number below is measured unless its table, row or \
         column says *model* or *extrapolated*. In the plots, measurements are solid lines with dots; \
         models (the PBS bound, ideal scaling) and extrapolations are dashed.\n",
    );
    let _ = writeln!(
        md,
        "- Inputs: synthetic phantom echo videos (`blindfold-echo`, 112x112), area-averaged to a \
         side × side ROI at {} bits, ED+ES frames unless stated. `lv-area` uses the demo's default \
         LV mask (an ellipse: {} of {} pixels at {}) and threshold; `conv3x3` is Sobel-x. \
         Parameter set `{}`. Each result was decrypted and checked equal to the plaintext twin.\n",
        fhe.bits,
        lv.mask_pixels,
        u64::from(lv.roi_side) * u64::from(lv.roi_side),
        roi(lv.roi_side),
        fhe.param_set,
    );

    // Summary.
    md.push_str("## Summary\n\n");
    let _ = writeln!(md, "_Measured. {}._\n", fhe.meta.caption());
    md.push_str(
        "| pipeline | ROI | frames | PBS | PBS/pixel | plaintext | FHE | overhead | PBS efficiency | CPU efficiency |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    for (name, p) in [("lv_area", lv), ("conv3x3", conv)] {
        let _ = writeln!(
            md,
            "| `{name}` ({}) | {} | {} | {} | {:.3} | {} | {} | {} | {} | {} |",
            p.pipeline,
            roi(p.roi_side),
            p.frames,
            fmt_int(p.pbs),
            p.pbs as f64 / p.pixels as f64,
            fmt_s(p.plain_s),
            fmt_s(p.fhe_s),
            fmt_x(ratio(p.fhe_s, p.plain_s)),
            fmt_eff(p.pbs_efficiency),
            fmt_opt(p.pbs_efficiency_cpu, 3),
        );
    }
    let _ = writeln!(
        md,
        "\n- Single PBS (key-switch + bootstrap, 1 thread, median of {}): **{:.2} ms** \
         ({} ms of thread CPU time).",
        fhe.plan.pbs_samples,
        fhe.single_pbs_s * 1e3,
        fmt_opt(fhe.single_pbs_cpu_s.map(|s| s * 1e3), 2),
    );
    let _ = writeln!(
        md,
        "- Encrypted video: **{:.2} bytes per pixel** (plaintext: 1 byte per pixel in memory, \
         {} bits of information).",
        summary["bytes_per_pixel"].as_f64().unwrap_or(f64::NAN),
        fhe.bits
    );
    let _ = writeln!(
        md,
        "- PBS efficiency = FHE time / (PBS count × single-PBS time / threads), with {threads} \
         threads: 1.0 is the machine's PBS throughput limit, above 1 is overhead (or other load \
         on the machine). CPU efficiency is the same ratio from process CPU time, which other load \
         disturbs less.\n"
    );

    // Stages.
    md.push_str("## Per-stage costs\n\n");
    let _ = writeln!(
        md,
        "One video, ROI {0}x{0}, 2 frames (ED+ES), {threads} threads. _Measured. {1}._\n",
        fhe.plan.stage_side,
        fhe.meta.caption()
    );
    let k = &fhe.keys;
    for p in [lv, conv] {
        let _ = writeln!(md, "### {}\n", p.pipeline);
        md.push_str("| stage | plaintext | FHE | overhead | PBS | PBS efficiency |\n|---|---|---|---|---|---|\n");
        let _ = writeln!(
            md,
            "| keygen (once per dataset) | – | {} | n/a | – | – |",
            fmt_s(k.client_keygen_s + k.server_keygen_s)
        );
        for s in &p.stages {
            let (pbs, eff) = if s.name == "compute" {
                (fmt_int(p.pbs), fmt_eff(p.pbs_efficiency))
            } else {
                ("0".into(), "–".into())
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {pbs} | {eff} |",
                s.name,
                s.plain_s.map_or_else(|| "–".into(), fmt_s),
                fmt_s(s.fhe_s),
                fmt_x(s.plain_s.and_then(|pl| ratio(s.fhe_s, pl))),
            );
        }
        md.push('\n');
    }
    md.push_str("What each side of a stage is:\n\n");
    for (name, what) in STAGES {
        let _ = writeln!(md, "- `{name}`: {what}.");
    }
    md.push_str("\nKeys (generated once per dataset by the data owner):\n\n");
    let _ = writeln!(
        md,
        "| key step | time |\n|---|---|\n| client key | {} |\n| server key | {} |\n| compressed server key | {} |\n| decompress (worker) | {} |\n| serialise compressed server key | {} |\n",
        fmt_s(k.client_keygen_s),
        fmt_s(k.server_keygen_s),
        fmt_s(k.compressed_server_keygen_s),
        fmt_s(k.decompress_s),
        fmt_s(k.compressed_server_key_serialise_s),
    );
    md.push_str("Bytes, ciphertext against plaintext:\n\n| object | plaintext | ciphertext | ratio |\n|---|---|---|---|\n");
    for p in [lv, conv] {
        let _ = writeln!(
            md,
            "| {} input video ({}, {} frames) | {} | {} | {} |",
            p.pipeline,
            roi(p.roi_side),
            p.frames,
            fmt_bytes(p.video_plain_bytes as f64),
            fmt_bytes(p.video_blob_bytes as f64),
            fmt_x(ratio(p.video_blob_bytes as f64, p.video_plain_bytes as f64)),
        );
        let _ = writeln!(
            md,
            "| {} result (plaintext as JSON) | {} | {} | {} |",
            p.pipeline,
            fmt_bytes(p.result_plain_bytes as f64),
            fmt_bytes(p.result_blob_bytes as f64),
            fmt_x(ratio(
                p.result_blob_bytes as f64,
                p.result_plain_bytes as f64
            )),
        );
    }
    let _ = writeln!(
        md,
        "| server key / compressed / client key | – | {} / {} / {} | – |\n",
        fmt_bytes(k.server_key_bytes as f64),
        fmt_bytes(k.compressed_server_key_bytes as f64),
        fmt_bytes(k.client_key_bytes as f64),
    );

    // Scaling.
    md.push_str("## Scaling\n\n");
    md.push_str(
        "One axis varies at a time from a small base; a configuration shared by two axes is measured once. \
         Multi-video jobs evaluate their videos one after another, each using every thread.\n\n",
    );
    let mut n = 0;
    for (vary, title) in [
        ("roi", "ROI side"),
        ("frames", "Frames per video"),
        ("videos", "Videos per job"),
        ("threads", "Threads"),
    ] {
        let _ = writeln!(md, "### {title}\n");
        let mut points = Vec::new();
        for a in fhe.axes.iter().filter(|a| a.vary == vary) {
            let _ = writeln!(md, "- {}: {}.", a.pipeline, a.fixed);
            points.extend(a.points.iter().map(|&i| point(fhe, i)));
        }
        md.push('\n');
        let name = format!("bench-{vary}");
        if let Some((_, fig)) = figures.iter().find(|(f, _)| *f == name) {
            n += 1;
            figure_md(&mut md, n, &name, fig, drawn, fhe);
        }
        scaling_table(&mut md, fhe, &points);
        md.push('\n');
        if vary == "roi" && fhe.plan.roi_sides.contains(&112) {
            md.push_str("The 112x112 point is measured on 2 frames (ED+ES), like the others.\n\n");
        }
    }

    // Extrapolation.
    let rows = extrapolation(fhe)?;
    let _ = writeln!(
        md,
        "## Extrapolation to EchoNet-Dynamic ({} videos): extrapolated, not measured\n",
        fmt_int(ECHONET_VIDEOS)
    );
    let _ = writeln!(
        md,
        "lv-area over ED+ES (2 frames per video), one video after another on this machine with \
         {threads} threads: per-video cost × {}. Rows marked *model* were not measured in this run \
         (PBS count from the pipeline's formula × single-PBS time / threads × the PBS efficiency \
         of the largest measured lv-area point). Basis: {}.\n",
        fmt_int(ECHONET_VIDEOS),
        fhe.meta.caption()
    );
    md.push_str("| ROI | basis | PBS per video | s per video | total PBS | total time (extrapolated) | ciphertext storage (extrapolated) |\n|---|---|---|---|---|---|---|\n");
    for r in &rows {
        let hours = r.seconds_per_video * ECHONET_VIDEOS as f64 / 3600.0;
        let _ = writeln!(
            md,
            "| {0}x{0} | {1} | {2} | {3} | {4} | {5:.1} h ({6:.1} days) | {7} |",
            r.side,
            r.basis,
            fmt_int(r.pbs_per_video),
            fmt_s(r.seconds_per_video),
            fmt_int(r.pbs_per_video * ECHONET_VIDEOS),
            hours,
            hours / 24.0,
            fmt_bytes(r.video_bytes * ECHONET_VIDEOS as f64),
        );
    }
    let videos = axis(fhe, "videos", "lv-area");
    if let (Some(first), Some(last)) = (videos.first(), videos.last()) {
        if last.videos > first.videos {
            let per_video_big = last.fhe_s / last.videos as f64;
            let _ = writeln!(
                md,
                "\nThe videos axis (measured) checks the per-video assumption: at {} videos a job \
                 cost {} per video against {} for {} video ({}).",
                last.videos,
                fmt_s(per_video_big),
                fmt_s(first.fhe_s / first.videos as f64),
                first.videos,
                fmt_x(ratio(per_video_big, first.fhe_s / first.videos as f64)),
            );
        }
    }
    md.push_str(
        "More workers divide the time: jobs over disjoint submission ranges (shards) run in parallel on separate machines.\n\n",
    );

    // Chain.
    md.push_str("## Chain\n\n");
    if chains.is_empty() {
        md.push_str("**Not measured** (no `docs/bench-raw/chain.json`).\n\n");
    }
    for c in chains {
        chain_section(&mut md, c);
    }

    // End to end.
    md.push_str("## End to end: the chain's share of a job\n\n");
    match demo {
        Some(d) => {
            let _ = writeln!(
                md,
                "Measured by `scripts/demo.sh` on {} videos (its own timings file; the machine and date are \
                 the demo's, not necessarily this report's):\n",
                d.videos
            );
            md.push_str("| stage | seconds | share |\n|---|---|---|\n");
            for s in &d.stages {
                let _ = writeln!(
                    md,
                    "| {} | {:.2} | {} |",
                    s.name,
                    s.seconds,
                    ratio(s.seconds, d.total_seconds)
                        .map_or_else(|| "n/a".into(), |r| format!("{:.1}%", r * 100.0))
                );
            }
            let _ = writeln!(
                md,
                "| **chain (all stages)** | {:.2} | **{}** |\n| total | {:.2} | 100% |\n",
                d.chain_seconds,
                ratio(d.chain_seconds, d.total_seconds)
                    .map_or_else(|| "n/a".into(), |r| format!("{:.1}%", r * 100.0)),
                d.total_seconds
            );
        }
        None => {
            md.push_str(
                "**The end-to-end split was not measured in this run.** `scripts/demo.sh` produces it: it \
                 writes `docs/bench-raw/demo.json` (or set `BLINDFOLD_DEMO_TIMINGS` to its timings file), \
                 and the next `scripts/bench.sh` reports it here.\n",
            );
            if let Some(c) = chains.iter().find(|c| c.skipped.is_none()) {
                let compute = lv.fhe_s;
                let _ = writeln!(
                    md,
                    "\nFor scale only (a model, not a measurement): one replicated job's chain calls took \
                     {:.2} s on this chain, against {} of FHE compute per video for lv-area at ROI {}x{} \
                     (ED+ES) per worker.",
                    c.job_lifecycle_ms / 1e3,
                    fmt_s(compute),
                    lv.roi_side,
                    lv.roi_side
                );
            }
            md.push('\n');
        }
    }

    // Method.
    md.push_str("## Method and caveats\n\n");
    md.push_str(
        "- Plaintext times are medians of repeated runs (at least 3, for about 0.1 s); FHE evaluations \
         are timed once. Times are wall-clock; the load average at the end of each point is in the \
         tables. On a machine shared with other work, wall times and the wall-clock PBS efficiency \
         rise; the CPU efficiency column is less affected.\n\
         - The single-PBS time is measured on a dedicated 1-thread rayon pool; each setting of the \
         threads axis runs in its own `rayon::ThreadPool` via `install`.\n\
         - PBS counts come from the pipeline's own counter and equal its closed-form formula (checked).\n\
         - Nothing here is asserted: a benchmark measures. CI runs `scripts/bench.sh --quick` only to \
         keep the suite working.\n",
    );
    Ok(md)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::Latency;
    use crate::fhe::{Axis, Keys, Plan, Stage};
    use crate::meta::{Machine, Meta};

    fn meta() -> Meta {
        Meta {
            machine: Machine::detect(),
            command: "scripts/bench.sh --quick".into(),
            date: "2026-01-01 00:00 UTC".into(),
            mode: "quick".into(),
            load_start: Some(0.5),
            load_end: Some(1.0),
            elapsed_s: 1.0,
        }
    }

    fn point(pipeline: &str, side: u16, frames: u32, videos: usize, threads: usize) -> Point {
        let pixels = u64::from(side) * u64::from(side) * u64::from(frames) * videos as u64;
        let pbs = if pipeline == "lv-area" {
            pixels * 2 / 5
        } else {
            0
        };
        let fhe_s = 0.028 * pbs as f64 / threads as f64 + 0.01;
        Point {
            pipeline: pipeline.into(),
            roi_side: side,
            frames,
            videos,
            threads,
            pixels,
            pbs,
            plain_s: 1e-6 * pixels as f64,
            fhe_s,
            fhe_cpu_s: Some(fhe_s * threads as f64),
            pbs_efficiency: (pbs > 0).then_some(1.05),
            pbs_efficiency_cpu: (pbs > 0).then_some(1.01),
            mask_pixels: u64::from(side) * u64::from(side) * 2 / 5,
            stages: ["encrypt", "compute", "serialise", "hash", "decrypt"]
                .iter()
                .map(|n| Stage {
                    name: (*n).into(),
                    plain_s: (*n != "decrypt").then_some(1e-5),
                    fhe_s: 0.01,
                })
                .collect(),
            video_plain_bytes: pixels,
            video_blob_bytes: pixels * 8,
            result_plain_bytes: 40,
            result_blob_bytes: 50_000,
            load_avg: Some(1.5),
        }
    }

    fn fhe() -> FheRaw {
        let plan = Plan::quick(2);
        let mut points = Vec::new();
        let mut axes = Vec::new();
        let mut add = |vary: &str, pipeline: &str, ps: Vec<Point>| {
            let start = points.len();
            points.extend(ps);
            axes.push(Axis {
                vary: vary.into(),
                pipeline: pipeline.into(),
                fixed: "test".into(),
                points: (start..points.len()).collect(),
            });
        };
        for pl in ["lv-area", "conv3x3"] {
            add(
                "roi",
                pl,
                vec![point(pl, 16, 2, 1, 2), point(pl, 32, 2, 1, 2)],
            );
            add(
                "frames",
                pl,
                vec![point(pl, 16, 2, 1, 2), point(pl, 16, 8, 1, 2)],
            );
        }
        add(
            "videos",
            "lv-area",
            vec![point("lv-area", 16, 2, 1, 2), point("lv-area", 16, 2, 4, 2)],
        );
        add(
            "threads",
            "lv-area",
            vec![point("lv-area", 16, 2, 1, 1), point("lv-area", 16, 2, 1, 2)],
        );
        FheRaw {
            meta: meta(),
            param_set: "blindfold-v1-2_2-ks32-pbs".into(),
            bits: 4,
            plan,
            single_pbs_s: 0.028,
            single_pbs_cpu_s: Some(0.027),
            keys: Keys {
                client_keygen_s: 0.1,
                server_keygen_s: 5.0,
                compressed_server_keygen_s: 4.0,
                decompress_s: 3.0,
                compressed_server_key_serialise_s: 0.1,
                client_key_bytes: 30_000,
                server_key_bytes: 120_000_000,
                compressed_server_key_bytes: 30_000_000,
            },
            stage_points: vec![2, 6],
            points,
            axes,
        }
    }

    fn chain() -> ChainRaw {
        let m = |name: &str, case: &str| Message {
            name: name.into(),
            case: case.into(),
            kind: "tx".into(),
            selector: "0xB1D00104".into(),
            ref_time: 1_000_000_000,
            proof_size: 20_000,
            storage_deposit: 1_500_000_000,
            dry_run_ms: 1.0,
            tx_ms: Some(2.0),
            fee: 0,
        };
        ChainRaw {
            meta: meta(),
            kind: "embedded".into(),
            chain: "embedded (in memory)".into(),
            skipped: None,
            wasm_bytes: 43_226,
            deploy_ms: 12.0,
            messages: vec![
                m("add_submissions", "1 hash"),
                m("add_submissions", "128 hashes"),
            ],
            latency: vec![Latency {
                what: "stake".into(),
                samples: 10,
                p50_ms: 2.0,
                p90_ms: 3.0,
                max_ms: 4.0,
                mean_ms: 2.2,
            }],
            job_lifecycle_ms: 20.0,
        }
    }

    #[test]
    fn report_from_synthetic_results() {
        let dir = std::env::temp_dir().join(format!("blindfold-bench-test-{}", std::process::id()));
        let raw = dir.join("raw");
        let docs = dir.join("docs");
        std::fs::create_dir_all(&raw).unwrap();
        std::fs::write(raw.join("fhe.json"), serde_json::to_string(&fhe()).unwrap()).unwrap();
        std::fs::write(
            raw.join("chain.json"),
            serde_json::to_string(&chain()).unwrap(),
        )
        .unwrap();
        run(&raw, &docs, None).unwrap();

        let s: Value =
            serde_json::from_str(&std::fs::read_to_string(docs.join("summary.json")).unwrap())
                .unwrap();
        for p in ["lv_area", "conv3x3"] {
            for f in [
                "roi",
                "pbs_count",
                "pbs_per_pixel",
                "plain_seconds",
                "fhe_seconds",
                "overhead_ratio",
                "pbs_efficiency",
            ] {
                assert!(s[p].get(f).is_some(), "summary.{p}.{f}");
            }
        }
        assert!(s["bytes_per_pixel"].is_number());
        assert!(s["single_pbs_ms"].is_number());
        assert!(s["conv3x3"]["pbs_efficiency"].is_null());
        assert_eq!(s["e2e"]["status"], "not measured");
        assert_eq!(s["chains"][0]["measured_on"], "embedded");
        assert_eq!(s["extrapolation"]["rows"].as_array().unwrap().len(), 4);

        let md = std::fs::read_to_string(docs.join("BENCHMARKS.md")).unwrap();
        assert!(md.contains("extrapolated, not measured"));
        assert!(md.contains("scripts/demo.sh"));
        assert!(md.contains("embedded chain"));
        assert!(md.contains("nproc"));
        for stage in [
            "keygen",
            "encrypt",
            "compute",
            "serialise",
            "hash",
            "decrypt",
        ] {
            assert!(md.contains(&format!("| {stage}")), "stage {stage}");
        }

        // With demo timings the end-to-end section is filled in.
        let demo = dir.join("demo.json");
        std::fs::write(
            &demo,
            r#"{"videos":3,"stages":[{"name":"encrypt","seconds":2.0},{"name":"compute","seconds":30.0}],"chain_seconds":1.5,"total_seconds":40.0}"#,
        )
        .unwrap();
        run(&raw, &docs, Some(&demo)).unwrap();
        let s: Value =
            serde_json::from_str(&std::fs::read_to_string(docs.join("summary.json")).unwrap())
                .unwrap();
        assert_eq!(s["e2e"]["status"], "measured");
        let md = std::fs::read_to_string(docs.join("BENCHMARKS.md")).unwrap();
        assert!(md.contains("3.8%"), "chain share 1.5 / 40");
        if std::env::var_os("KEEP").is_none() {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}
