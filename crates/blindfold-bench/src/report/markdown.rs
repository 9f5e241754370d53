//! `docs/BENCHMARKS.md`, the report ([`markdown`]). [`markdown`] writes the
//! document's parts in order, one function each:
//!
//! 1. the title and the runs it covers ([`preamble`], [`runs`],
//!    [`busy_warning`], [`inputs`]);
//! 2. `## Summary` ([`summary_section`]);
//! 3. `## Per-stage costs`: stages, keys and bytes ([`stages_section`]);
//! 4. `## Scaling`: one subsection, figure and table per axis
//!    ([`scaling_section`]);
//! 5. `## Extrapolation to EchoNet-Dynamic` ([`extrapolation_section`]);
//! 6. `## Chain`: one subsection per chain run ([`chain::section`]);
//! 7. `## End to end` ([`end_to_end_section`]);
//! 8. `## Method and caveats` ([`method_section`]).

mod chain;

use std::fmt::Write as _;

use anyhow::Result;
use serde_json::Value;

use super::format::{fmt_bytes, fmt_eff, fmt_int, fmt_opt, fmt_s, fmt_x, roi};
use super::model::{axis, extrapolation, pbs_bound, point, ratio, stage_points, Extrapolated};
use super::Demo;
use crate::chain::ChainRaw;
use crate::fhe::{FheRaw, Keys, Point, ECHONET_VIDEOS, STAGES};
use crate::plot::Figure;

/// The scaling axes, in the document's order, with their subsection titles.
const SCALING_AXES: [(&str, &str); 4] = [
    ("roi", "ROI side"),
    ("frames", "Frames per video"),
    ("videos", "Videos per job"),
    ("threads", "Threads"),
];

/// The whole document. `summary` is `summary.json`'s value; `drawn` says, per
/// figure name, whether its PNG was drawn (`None`) or why not.
pub(super) fn markdown(
    fhe: &FheRaw,
    chains: &[ChainRaw],
    demo: Option<&Demo>,
    summary: &Value,
    figures: &[(String, Figure)],
    drawn: &[(String, Option<String>)],
) -> Result<String> {
    let (lv, conv) = stage_points(fhe)?;
    let mut md = String::new();
    preamble(&mut md);
    runs(&mut md, fhe, chains);
    busy_warning(&mut md, fhe);
    inputs(&mut md, fhe, lv);
    summary_section(&mut md, fhe, summary, lv, conv);
    stages_section(&mut md, fhe, lv, conv);
    scaling_section(&mut md, fhe, figures, drawn);
    extrapolation_section(&mut md, fhe)?;
    chain::section(&mut md, chains);
    end_to_end_section(&mut md, chains, demo, lv);
    method_section(&mut md);
    Ok(md)
}

// ---------------------------------------------------------------- preamble

/// Title and where the document comes from.
fn preamble(md: &mut String) {
    md.push_str("# Blindfold benchmarks\n\n");
    md.push_str(
        "Written by `scripts/bench.sh` (the `blindfold-bench` crate); do not edit by hand, rerun it. \
         Machine-readable: [`summary.json`](summary.json); raw results: `docs/bench-raw/` (not in git).\n\n",
    );
}

/// The mode, the FHE run and each chain run.
fn runs(md: &mut String, fhe: &FheRaw, chains: &[ChainRaw]) {
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
                    chain::label(c)
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
}

/// A warning when the load average reached the CPU count during the run.
fn busy_warning(md: &mut String, fhe: &FheRaw) {
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
}

/// How to read the numbers, and what the inputs were.
fn inputs(md: &mut String, fhe: &FheRaw, lv: &Point) {
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
}

// ---------------------------------------------------------------- summary

/// `## Summary`: both pipelines' headline numbers, then the single PBS, bytes
/// per pixel and what the efficiencies mean.
fn summary_section(md: &mut String, fhe: &FheRaw, summary: &Value, lv: &Point, conv: &Point) {
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
    summary_notes(md, fhe, summary);
}

/// The notes under the summary table.
fn summary_notes(md: &mut String, fhe: &FheRaw, summary: &Value) {
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
    let threads = fhe.plan.default_threads;
    let _ = writeln!(
        md,
        "- PBS efficiency = FHE time / (PBS count × single-PBS time / threads), with {threads} \
         threads: 1.0 is the machine's PBS throughput limit, above 1 is overhead (or other load \
         on the machine). CPU efficiency is the same ratio from process CPU time, which other load \
         disturbs less.\n"
    );
}

// ---------------------------------------------------------------- stages

/// `## Per-stage costs`: a stage table per pipeline, what the stages are, the
/// keys and the bytes.
fn stages_section(md: &mut String, fhe: &FheRaw, lv: &Point, conv: &Point) {
    md.push_str("## Per-stage costs\n\n");
    let _ = writeln!(
        md,
        "One video, ROI {0}x{0}, 2 frames (ED+ES), {threads} threads. _Measured. {1}._\n",
        fhe.plan.stage_side,
        fhe.meta.caption(),
        threads = fhe.plan.default_threads,
    );
    for p in [lv, conv] {
        stage_table(md, p, &fhe.keys);
    }
    md.push_str("What each side of a stage is:\n\n");
    for (name, what) in STAGES {
        let _ = writeln!(md, "- `{name}`: {what}.");
    }
    keys_table(md, &fhe.keys);
    bytes_table(md, &[lv, conv], &fhe.keys);
}

/// One pipeline's stages, keygen first.
fn stage_table(md: &mut String, p: &Point, k: &Keys) {
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

/// Key generation times.
fn keys_table(md: &mut String, k: &Keys) {
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
}

/// Ciphertext against plaintext bytes: videos and results per pipeline, keys.
fn bytes_table(md: &mut String, points: &[&Point], k: &Keys) {
    md.push_str("Bytes, ciphertext against plaintext:\n\n| object | plaintext | ciphertext | ratio |\n|---|---|---|---|\n");
    for p in points {
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
}

// ---------------------------------------------------------------- scaling

/// `## Scaling`: per axis, what it holds fixed, its figure and its table.
fn scaling_section(
    md: &mut String,
    fhe: &FheRaw,
    figures: &[(String, Figure)],
    drawn: &[(String, Option<String>)],
) {
    md.push_str("## Scaling\n\n");
    md.push_str(
        "One axis varies at a time from a small base; a configuration shared by two axes is measured once. \
         Multi-video jobs evaluate their videos one after another, each using every thread.\n\n",
    );
    let mut n = 0;
    for (vary, title) in SCALING_AXES {
        let name = format!("bench-{vary}");
        let figure = figures.iter().find(|(f, _)| *f == name).map(|(_, fig)| {
            n += 1;
            (n, fig)
        });
        scaling_axis(md, fhe, vary, title, figure, drawn);
    }
}

/// One axis's subsection; `figure` is its figure and number, if any.
fn scaling_axis(
    md: &mut String,
    fhe: &FheRaw,
    vary: &str,
    title: &str,
    figure: Option<(usize, &Figure)>,
    drawn: &[(String, Option<String>)],
) {
    let _ = writeln!(md, "### {title}\n");
    let mut points = Vec::new();
    for a in fhe.axes.iter().filter(|a| a.vary == vary) {
        let _ = writeln!(md, "- {}: {}.", a.pipeline, a.fixed);
        points.extend(a.points.iter().map(|&i| point(fhe, i)));
    }
    md.push('\n');
    if let Some((n, fig)) = figure {
        figure_md(md, n, &format!("bench-{vary}"), fig, drawn, fhe);
    }
    scaling_table(md, fhe, &points);
    md.push('\n');
    if vary == "roi" && fhe.plan.roi_sides.contains(&112) {
        md.push_str("The 112x112 point is measured on 2 frames (ED+ES), like the others.\n\n");
    }
}

/// A figure's image (or why it was not drawn) and its numbered caption.
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

/// Every point of an axis, one row each.
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

// ---------------------------------------------------------------- extrapolation

/// `## Extrapolation to EchoNet-Dynamic`: the model's basis, its rows and the
/// measured check of its per-video assumption.
fn extrapolation_section(md: &mut String, fhe: &FheRaw) -> Result<()> {
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
        fhe.meta.caption(),
        threads = fhe.plan.default_threads,
    );
    extrapolation_table(md, &rows);
    per_video_check(md, fhe);
    md.push_str(
        "More workers divide the time: jobs over disjoint submission ranges (shards) run in parallel on separate machines.\n\n",
    );
    Ok(())
}

/// The extrapolation's rows: per video and for all EchoNet-Dynamic videos.
fn extrapolation_table(md: &mut String, rows: &[Extrapolated]) {
    md.push_str("| ROI | basis | PBS per video | s per video | total PBS | total time (extrapolated) | ciphertext storage (extrapolated) |\n|---|---|---|---|---|---|---|\n");
    for r in rows {
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
}

/// The videos axis against the per-video assumption, when it has more than
/// one size.
fn per_video_check(md: &mut String, fhe: &FheRaw) {
    let videos = axis(fhe, "videos", "lv-area");
    let (Some(first), Some(last)) = (videos.first(), videos.last()) else {
        return;
    };
    if last.videos <= first.videos {
        return;
    }
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

// ---------------------------------------------------------------- end to end

/// `## End to end`: the chain's share of a job, from the demo's timings, or
/// how to get them.
fn end_to_end_section(md: &mut String, chains: &[ChainRaw], demo: Option<&Demo>, lv: &Point) {
    md.push_str("## End to end: the chain's share of a job\n\n");
    match demo {
        Some(d) => demo_table(md, d),
        None => demo_missing(md, chains, lv),
    }
}

/// A share of the demo's total time, as a percentage.
fn share(seconds: f64, total: f64) -> String {
    ratio(seconds, total).map_or_else(|| "n/a".into(), |r| format!("{:.1}%", r * 100.0))
}

/// The demo's stages and the chain's share.
fn demo_table(md: &mut String, d: &Demo) {
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
            share(s.seconds, d.total_seconds)
        );
    }
    let _ = writeln!(
        md,
        "| **chain (all stages)** | {:.2} | **{}** |\n| total | {:.2} | 100% |\n",
        d.chain_seconds,
        share(d.chain_seconds, d.total_seconds),
        d.total_seconds
    );
}

/// How to measure the split, and a modelled comparison when a chain was
/// measured.
fn demo_missing(md: &mut String, chains: &[ChainRaw], lv: &Point) {
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

// ---------------------------------------------------------------- method

/// `## Method and caveats`.
fn method_section(md: &mut String) {
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
}
