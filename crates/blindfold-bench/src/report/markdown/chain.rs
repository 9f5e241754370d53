//! `## Chain`: one subsection per chain run ([`section`]). A measured run
//! ([`measured`]) has, in order: where it ran ([`label`]), how to read gas and
//! deposits ([`reading_notes`]), a row per message ([`messages_table`]), the
//! transaction latency ([`latency_table`]), one job's traffic and the cost of
//! registering EchoNet-Dynamic ([`registration`]). A skipped run says why.

use std::fmt::Write as _;

use crate::chain::{ChainRaw, Message};
use crate::fhe::ECHONET_VIDEOS;
use crate::report::format::{fmt_int, format_deposit};

/// The whole section.
pub(super) fn section(md: &mut String, chains: &[ChainRaw]) {
    md.push_str("## Chain\n\n");
    if chains.is_empty() {
        md.push_str("**Not measured** (no `docs/bench-raw/chain.json`).\n\n");
    }
    for c in chains {
        match &c.skipped {
            None => measured(md, c),
            Some(reason) => {
                let _ = writeln!(
                    md,
                    "**Not measured** ({}): {reason}. Run `scripts/build-contract.sh` (after `scripts/setup.sh`), then `scripts/bench.sh`.\n",
                    c.kind
                );
            }
        }
    }
}

/// Where a chain run ran, for prose.
pub(super) fn label(c: &ChainRaw) -> String {
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

/// One measured run: gas, deposit and latency per message.
fn measured(md: &mut String, c: &ChainRaw) {
    let _ = writeln!(
        md,
        "### On the {}\n\nMeasured on {}. _{}._\n",
        if c.kind == "embedded" {
            "embedded chain"
        } else {
            "node"
        },
        label(c),
        c.meta.caption()
    );
    let _ = writeln!(
        md,
        "Contract `artifacts/marketplace.wasm`: {} bytes; deploy (upload + instantiate): {:.1} ms.\n",
        fmt_int(c.wasm_bytes as u64),
        c.deploy_ms
    );
    reading_notes(md, c);
    messages_table(md, c);
    latency_table(md, c);
    let _ = writeln!(
        md,
        "\nOne replicated job's chain traffic (request, 2 claims, 2 commits, 2 reveals, release, \
         finalize; excluding dataset setup and the workers' own queries): {:.1} ms of calls.\n",
        c.job_lifecycle_ms
    );
    if let Some(sh) = &c.sharded {
        let _ = writeln!(
            md,
            "A job in {} shards of {} submissions (replication {}): each shard's own traffic (offers, \
             draw, commits, reveals, the challenge window's advance, finalize) is {} transactions, \
             {:.1} ms of calls and {} ref_time of gas (means over its shards); the job's own (request, \
             release, finalize) {} transactions, {:.1} ms.\n",
            sh.shards,
            fmt_int(sh.shard_size),
            sh.replication,
            sh.txs_per_shard,
            sh.ms_per_shard,
            fmt_int(sh.ref_time_per_shard),
            sh.job_txs,
            sh.job_ms
        );
    }
    registration(md, c);
}

/// What the gas, deposit and latency columns mean on this kind of chain.
fn reading_notes(md: &mut String, c: &ChainRaw) {
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
}

/// A row per measured message, then the marketplace messages not measured.
fn messages_table(md: &mut String, c: &ChainRaw) {
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
            "\nNot measured: {}.",
            missing
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
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

/// Transaction latency, the same message repeated.
fn latency_table(md: &mut String, c: &ChainRaw) {
    md.push_str("\nTransaction latency (the same message repeated):\n\n| what | samples | p50 ms | p90 ms | max ms | mean ms |\n|---|---|---|---|---|---|\n");
    for l in &c.latency {
        let _ = writeln!(
            md,
            "| {} | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
            l.what, l.samples, l.p50_ms, l.p90_ms, l.max_ms, l.mean_ms
        );
    }
}

/// Registering every EchoNet-Dynamic video with the largest measured
/// `add_submissions` batch (extrapolated); nothing if none was measured.
fn registration(md: &mut String, c: &ChainRaw) {
    let Some(batch) = c
        .messages
        .iter()
        .filter(|m| m.name == "add_submissions")
        .max_by_key(|m| batch_size(m))
    else {
        return;
    };
    let per = batch_size(batch).unwrap_or(1);
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

/// The hashes in an `add_submissions` case (`"128 hashes"` → 128).
fn batch_size(m: &Message) -> Option<u64> {
    m.case.split(' ').next().and_then(|n| n.parse::<u64>().ok())
}
