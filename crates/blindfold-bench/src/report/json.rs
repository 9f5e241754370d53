//! `docs/summary.json`, the machine-readable summary ([`summary`]). Its parts,
//! in the document's order:
//!
//! * provenance and the headline numbers, with the per-stage points of both
//!   pipelines ([`pipeline_json`]);
//! * `scaling`: every measured axis ([`scaling_json`], [`point_json`]);
//! * `extrapolation`: the EchoNet-Dynamic rows, not measured
//!   ([`extrapolation_json`]);
//! * `chains`: gas, deposits and latency per chain run ([`chains_json`]);
//! * `e2e`: the demo's timings, when given ([`e2e_json`]).

use anyhow::Result;
use serde_json::{json, Value};

use super::model::{extrapolation, pbs_bound, point, ratio, stage_points};
use super::Demo;
use crate::chain::ChainRaw;
use crate::fhe::{FheRaw, Point, ECHONET_VIDEOS};

/// The whole summary.
pub(super) fn summary(fhe: &FheRaw, chains: &[ChainRaw], demo: Option<&Demo>) -> Result<Value> {
    let (lv, conv) = stage_points(fhe)?;
    let scaling = scaling_json(fhe);
    let extrapolation = extrapolation_json(fhe)?;
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
        "chains": chains_json(chains),
        "e2e": e2e_json(demo),
    }))
}

/// A pipeline's per-stage point: sizes, PBS, times and each stage.
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

/// Each axis as `{vary}_{pipeline}`: what it holds fixed and its points.
fn scaling_json(fhe: &FheRaw) -> serde_json::Map<String, Value> {
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
    scaling
}

/// One point of a scaling axis.
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

/// The EchoNet-Dynamic extrapolation, labelled as not measured.
fn extrapolation_json(fhe: &FheRaw) -> Result<Value> {
    let rows = extrapolation(fhe)?;
    Ok(json!({
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
    }))
}

/// One entry per chain run, or a single "not measured" entry.
fn chains_json(chains: &[ChainRaw]) -> Vec<Value> {
    if chains.is_empty() {
        vec![json!({"status": "not measured", "reason": "no chain.json"})]
    } else {
        chains.iter().map(chain_json).collect()
    }
}

/// One chain run: its messages and latency, or why it was skipped.
fn chain_json(c: &ChainRaw) -> Value {
    match &c.skipped {
        Some(reason) => json!({"status": "not measured", "reason": reason, "chain": c.kind}),
        None => json!({
            "status": "measured",
            "measured_on": c.kind,
            "chain": c.chain,
            "wasm_bytes": c.wasm_bytes,
            "deploy_ms": c.deploy_ms,
            "job_lifecycle_ms": c.job_lifecycle_ms,
            "sharded": c.sharded,
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
    }
}

/// The demo's end-to-end timings, or how to get them.
fn e2e_json(demo: Option<&Demo>) -> Value {
    match demo {
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
    }
}
