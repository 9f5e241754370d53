#!/usr/bin/env bash
# Runs Blindfold's benchmarks and writes the report:
#   docs/BENCHMARKS.md      the report (measured vs extrapolated, machine, command, date)
#   docs/bench-*.png        scaling plots
#   docs/summary.json       machine-readable summary
#   docs/bench-raw/         raw results (git-ignored): fhe.json, schemes.json,
#                           dataset.json (with --dataset), chain.json,
#                           chain-node.json (with --node)
#
# Usage: scripts/bench.sh [--quick] [--dataset] [--node ws://HOST:PORT] [--out DIR]
#   --quick   small sizes (a few minutes on 2 cores); CI runs this only to keep
#             the suite working and asserts no timings.
#   --dataset also run a whole EchoNet-Dynamic-sized lv-area job on BFV
#             (10,030 videos of 32x32 ED+ES; about 25 minutes on 2 cores).
#   --node    also measure gas, storage deposit and latency on a running
#             substrate-contracts-node (scripts/node.sh start), next to the
#             embedded chain.
#   --out     write the report under DIR instead of docs/ (scripts/test.sh uses
#             this so the CI run never touches the committed report).
# Full mode (no flag) takes about 10-25 minutes on 2 cores; run it on a quiet machine.
#
# End-to-end timings: if $BLINDFOLD_DEMO_TIMINGS (a file) or docs/bench-raw/demo.json
# exists (written by scripts/demo.sh), the report includes the chain's share of a job.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

quick=()
dataset=""
node=""
docs="docs"
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=(--quick) ;;
        --dataset) dataset=1 ;;
        --node)
            [ $# -ge 2 ] || die "--node needs a ws:// URL"
            node="$2"
            shift
            ;;
        --node=*) node="${1#--node=}" ;;
        --out)
            [ $# -ge 2 ] || die "--out needs a directory"
            docs="$2"
            shift
            ;;
        -h | --help)
            sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *) die "unknown argument '$1' (usage: scripts/bench.sh [--quick] [--dataset] [--node URL] [--out DIR])" ;;
    esac
    shift
done
case "$node" in
    "" | ws://* | wss://*) ;;
    *) die "--node needs a ws:// or wss:// URL, got '$node'" ;;
esac

cd "$BF_ROOT"
start=$(date +%s)
mkdir -p "$docs"
docs=$(cd "$docs" && pwd)
raw="$docs/bench-raw"
mkdir -p "$raw"
rm -f "$raw/fhe.json" "$raw/schemes.json" "$raw/chain.json" "$raw/chain-node.json"
[ -z "$dataset" ] || rm -f "$raw/dataset.json"
# Recorded in every result file and figure caption.
command_line="scripts/bench.sh${quick:+ ${quick[*]}}"
[ -z "$dataset" ] || command_line="$command_line --dataset"
[ -z "$node" ] || command_line="$command_line --node $node"
export BLINDFOLD_BENCH_COMMAND="$command_line"

# The committed contract when its source digest matches artifacts/manifest.json,
# otherwise a build (ensure_contract_artifact in scripts/lib.sh says which and why).
if ! ensure_contract_artifact; then
    say "WARNING: the contract did not build; the chain section measures artifacts/marketplace.wasm if present, else says it was not measured"
fi

# The workspace's binaries, not `-p blindfold-bench` alone: built alone its
# features unify differently and cargo rebuilds tfhe and most of the tree
# (11 min 40 s inside a first scripts/test.sh, which has just built these).
say "building the workspace's binaries, blindfold-bench among them (release)"
cargo build --release --workspace --bins
bin="$CARGO_TARGET_DIR/release/blindfold-bench"

say "FHE measurements${quick:+ (quick)}"
"$bin" fhe "${quick[@]}" --out "$raw/fhe.json"

say "TFHE and BFV side by side${quick:+ (quick)}"
"$bin" schemes "${quick[@]}" --out "$raw/schemes.json"
if [ -n "$dataset" ]; then
    say "dataset-scale BFV run (10,030 videos)"
    "$bin" dataset --out "$raw/dataset.json"
fi

say "chain measurements on the embedded chain"
"$bin" chain "${quick[@]}" --chain embedded --wasm artifacts/marketplace.wasm --out "$raw/chain.json"
if [ -n "$node" ]; then
    say "chain measurements on the node at $node"
    "$bin" chain "${quick[@]}" --chain "$node" --wasm artifacts/marketplace.wasm --out "$raw/chain-node.json"
fi

demo_args=()
demo="${BLINDFOLD_DEMO_TIMINGS:-$BF_ROOT/docs/bench-raw/demo.json}"
if [ -f "$demo" ]; then
    say "including end-to-end timings from $demo"
    demo_args=(--demo "$demo")
else
    say "no demo timings ($demo): the report says the end-to-end split was not measured (scripts/demo.sh writes it)"
fi
"$bin" report --raw "$raw" --docs "$docs" "${demo_args[@]}"

say "done in $(($(date +%s) - start)) s: $docs/BENCHMARKS.md, $docs/summary.json, $docs/bench-*.png"
