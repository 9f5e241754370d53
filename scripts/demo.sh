#!/usr/bin/env bash
# The Blindfold marketplace end to end, the way a newcomer first meets it.
# A first run on a fresh 2-core machine takes about 15 minutes: the host packages
# (about a minute), the release build of the demo (14 min 3 s measured from a clean
# clone with nothing cached, crate downloads included), then the demo itself (3 s
# with BFV, about 5 min with TFHE). Measured end to end: 14 min 7 s to DEMO OK.
#
#   scripts/demo.sh            on the embedded chain (real pallet-contracts in-process)
#   scripts/demo.sh --node     on a real substrate-contracts-node started by scripts/node.sh
#   --scheme bfv|tfhe          the hospital's scheme (default bfv: batched, 8192 pixels
#                              per ciphertext; tfhe: one bootstrap per masked pixel)
#
# Runs scripts/setup.sh --host first (the host packages only; seconds when present)
# and takes the committed contract from artifacts/ when its source digest matches
# artifacts/manifest.json, so a newcomer needs neither cargo-contract nor Debian's
# rustc (otherwise it says why, installs the contract toolchain and runs
# scripts/build-contract.sh: ensure_contract_artifact in scripts/lib.sh), then
# `blindfold-demo`: a hospital encrypts 8
# synthetic echocardiograms (32x32, 4-bit, ED+ES), a researcher pays for an
# lv-area ejection-fraction job, two workers compute it under BFV (or TFHE) with
# replication 2 and agree, the hospital releases the cohort result, and the
# escrow settles. Per-stage timings go to docs/bench-raw/demo.json for the
# benchmark report. The last line is
#   DEMO OK videos=<n> ef_mae=<x.x> agreed=<true|false> settled=<true|false> seconds=<s>
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$BF_ROOT"

chain=embedded
videos=8
scheme=bfv
while [ $# -gt 0 ]; do
    case "$1" in
        --node) chain=node; shift ;;
        --videos) videos="${2:?--videos needs a number}"; shift 2 ;;
        --scheme) scheme="${2:?--scheme needs bfv or tfhe}"; shift 2 ;;
        *) die "unknown argument '$1' (usage: scripts/demo.sh [--node] [--videos N] [--scheme bfv|tfhe])" ;;
    esac
done

say "[1/3] host packages (seconds when present)"
"$BF_ROOT/scripts/setup.sh" --host >/dev/null
ensure_contract_artifact >/dev/null
say "[2/3] building the demo (release; a first build takes about 13 min on 2 cores, see the top of this file)"
cargo build --release -p blindfold-e2e --bin blindfold-demo
say "[3/3] running the demo (seconds with BFV, minutes with TFHE: encryption, two workers, verification)"

url=embedded
node_port=9960
if [ "$chain" = node ]; then
    have_node || die "no substrate-contracts-node binary: run scripts/node.sh build first (about 100 min on 2 cores)"
    "$BF_ROOT/scripts/node.sh" start --port "$node_port"
    trap '"$BF_ROOT/scripts/node.sh" stop --port "$node_port" >/dev/null 2>&1 || true' EXIT
    url="ws://127.0.0.1:$node_port"
fi

out=$(mktemp)
trap 'rm -f "$out"; [ "$chain" = node ] && "$BF_ROOT/scripts/node.sh" stop --port "$node_port" >/dev/null 2>&1 || true' EXIT
mkdir -p "$BF_ROOT/docs/bench-raw"
"$CARGO_TARGET_DIR/release/blindfold-demo" --chain "$url" --videos "$videos" --scheme "$scheme" \
    --dir "$BF_CACHE/demo" --timings "$BF_ROOT/docs/bench-raw/demo.json" | tee "$out"
last=$(tail -n 1 "$out")
case "$last" in
    "DEMO OK "*) ;;
    *) die "the demo did not finish" ;;
esac
