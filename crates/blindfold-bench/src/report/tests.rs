//! The report from synthetic results: a smoke test through [`run`] (files,
//! plots, key fields), and golden files under `golden/` that pin
//! `summary.json` and `BENCHMARKS.md` byte for byte for three fixed inputs.

use serde_json::Value;

use super::figures::figures;
use super::json::summary;
use super::markdown::markdown;
use super::*;
use crate::chain::{Latency, Message, ShardCost};
use crate::fhe::{Axis, Keys, Plan, Point, Stage};
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
        sharded: Some(ShardCost {
            shards: 4,
            shard_size: 36,
            replication: 2,
            txs_per_shard: 9,
            ms_per_shard: 18.5,
            ref_time_per_shard: 12_345_678,
            job_txs: 3,
            job_ms: 6.0,
        }),
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
        serde_json::from_str(&std::fs::read_to_string(docs.join("summary.json")).unwrap()).unwrap();
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
        serde_json::from_str(&std::fs::read_to_string(docs.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["e2e"]["status"], "measured");
    let md = std::fs::read_to_string(docs.join("BENCHMARKS.md")).unwrap();
    assert!(md.contains("3.8%"), "chain share 1.5 / 40");
    if std::env::var_os("KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
}

// ------------------------------------------------------------ golden files

/// Fixed provenance, so that the golden files do not depend on the machine.
fn fixed_meta(mode: &str, nproc: usize) -> Meta {
    Meta {
        machine: Machine {
            nproc,
            cpu_model: "Golden CPU @ 1.00GHz".into(),
            avx512f: false,
            mem_gib: Some(4.0),
        },
        command: format!(
            "scripts/bench.sh{}",
            if mode == "quick" { " --quick" } else { "" }
        ),
        date: "2026-01-01 00:00 UTC".into(),
        mode: mode.into(),
        load_start: Some(0.5),
        load_end: Some(1.0),
        elapsed_s: 123.4,
    }
}

/// Every figure drawn.
fn all_drawn() -> Vec<(String, Option<String>)> {
    ["bench-roi", "bench-frames", "bench-videos", "bench-threads"]
        .iter()
        .map(|n| ((*n).to_owned(), None))
        .collect()
}

/// What `run` writes, without the PNGs: `(summary.json, BENCHMARKS.md)`.
fn render(
    fhe: &FheRaw,
    chains: &[ChainRaw],
    demo: Option<&Demo>,
    drawn: &[(String, Option<String>)],
) -> (String, String) {
    let figures = figures(fhe).unwrap();
    let summary = summary(fhe, chains, demo).unwrap();
    let json = serde_json::to_string_pretty(&summary).unwrap() + "\n";
    let md = markdown(fhe, chains, demo, &summary, &figures, drawn).unwrap();
    (json, md)
}

/// Compares `actual` with `src/report/golden/{name}`; `BLINDFOLD_BLESS=1`
/// rewrites the file instead (after a deliberate change to the report).
fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/report/golden")
        .join(name);
    if std::env::var_os("BLINDFOLD_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "reading {}: {e} (BLINDFOLD_BLESS=1 writes it)",
            path.display()
        )
    });
    if let Some((i, (e, a))) = expected
        .lines()
        .zip(actual.lines())
        .enumerate()
        .find(|(_, (e, a))| e != a)
    {
        panic!(
            "{name}:{}: differs from the golden file\nexpected: {e}\nactual:   {a}",
            i + 1
        );
    }
    assert_eq!(expected, actual, "{name}: differs from the golden file");
}

/// Quick mode, the embedded chain (most messages not measured) and a node
/// (every message, a refund, a call without latency), no demo timings.
#[test]
fn golden_quick_embedded_and_node() {
    let mut f = fhe();
    f.meta = fixed_meta("quick", 2);
    let mut embedded = chain();
    embedded.meta = fixed_meta("quick", 2);
    let mut node = chain();
    node.meta = fixed_meta("quick", 2);
    node.kind = "node".into();
    node.chain = "ws://127.0.0.1:9944".into();
    node.messages = blindfold_protocol::selectors::MESSAGES
        .iter()
        .enumerate()
        .map(|(i, (name, _))| Message {
            name: (*name).into(),
            case: "1 hash".into(),
            kind: if i % 3 == 0 { "query" } else { "tx" }.into(),
            selector: format!("0xB1D0{i:04X}"),
            ref_time: 900_000_000 + 12_345 * i as u64,
            proof_size: 18_000 + 7 * i as u64,
            storage_deposit: 2_000_000_000_000 - 400_000_000_000 * i as i128,
            dry_run_ms: 0.5 + i as f64 / 7.0,
            tx_ms: (i % 3 != 0).then_some(1_000.0 + i as f64),
            fee: 1_000 * i as u128,
        })
        .collect();
    let (json, md) = render(&f, &[embedded, node], None, &all_drawn());
    golden("quick-embedded-and-node.json", &json);
    golden("quick-embedded-and-node.md", &md);
}

/// Full mode on a busy machine, a chain run that was skipped, demo
/// timings, one plot that failed and one that is missing.
#[test]
fn golden_full_busy_skipped_chain_demo() {
    let mut f = fhe();
    f.meta = fixed_meta("full", 1);
    f.plan = Plan::full(2);
    f.single_pbs_cpu_s = None;
    let mut skipped = chain();
    skipped.meta = fixed_meta("full", 1);
    skipped.skipped = Some("no artifacts/marketplace.wasm".into());
    let demo = Demo {
        videos: 3,
        stages: vec![
            DemoStage {
                name: "encrypt".into(),
                seconds: 2.0,
            },
            DemoStage {
                name: "compute".into(),
                seconds: 30.0,
            },
        ],
        chain_seconds: 1.5,
        total_seconds: 40.0,
    };
    let drawn = vec![
        ("bench-roi".to_owned(), None),
        ("bench-frames".to_owned(), Some("no font".to_owned())),
        ("bench-threads".to_owned(), None),
    ];
    let (json, md) = render(&f, &[skipped], Some(&demo), &drawn);
    golden("full-busy-skipped-chain-demo.json", &json);
    golden("full-busy-skipped-chain-demo.md", &md);
}

/// Quick mode with no chain results and no demo timings.
#[test]
fn golden_quick_no_chain() {
    let mut f = fhe();
    f.meta = fixed_meta("quick", 2);
    let (json, md) = render(&f, &[], None, &all_drawn());
    golden("quick-no-chain.json", &json);
    golden("quick-no-chain.md", &md);
}
