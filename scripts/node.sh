#!/usr/bin/env bash
# Manages a local substrate-contracts-node 0.42.0 for Blindfold.
#
#   scripts/node.sh build              build it once from crates.io, cached in ~/.cache/blindfold
#   scripts/node.sh start [--port P]   dev chain on 127.0.0.1:P (default 9944); waits for RPC
#   scripts/node.sh stop  [--port P]   stops it (SIGINT, then SIGKILL after 20 s)
#   scripts/node.sh status [--port P]  reports it; exit 0 when running and answering
#
# The binary, pid file and log live in $BLINDFOLD_CACHE (default ~/.cache/blindfold):
#   contracts-node-0.42.0/bin/substrate-contracts-node, node/node-P.pid, node/node-P.log
set -euo pipefail
source "$(dirname "$0")/lib.sh"

cmd="${1:-}"; shift || true
port=9944
while [ $# -gt 0 ]; do
    case "$1" in
        --port) port="${2:?--port needs a number}"; shift 2 ;;
        *) die "unknown argument '$1' (usage: scripts/node.sh build|start|stop|status [--port P])" ;;
    esac
done
[[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1024 ] && [ "$port" -le 65535 ] \
    || die "--port must be a number in 1024..65535, got '$port'"
run_dir="$BF_CACHE/node"
pid_file="$run_dir/node-$port.pid"
log_file="$run_dir/node-$port.log"

rpc_health() {
    curl -s -m 2 -H 'Content-Type: application/json' \
        -d '{"id":1,"jsonrpc":"2.0","method":"system_health","params":[]}' \
        "http://127.0.0.1:$port" 2>/dev/null | grep -q '"result"'
}
running_pid() {
    [ -f "$pid_file" ] || return 1
    local pid; pid=$(cat "$pid_file")
    kill -0 "$pid" 2>/dev/null && echo "$pid"
}

case "$cmd" in
build)
    if have_node; then
        say "already built: $NODE_BIN ($("$NODE_BIN" --version))"
        exit 0
    fi
    "$BF_ROOT/scripts/setup.sh" >/dev/null
    contract_env
    # The runtime wasm builds must see contracts-node's own Cargo.lock, or they
    # resolve newer crates and fail. cargo install unpacks the crate here:
    registry_src="${CARGO_HOME:-$HOME/.cargo}/registry/src"
    export WASM_BUILD_WORKSPACE_HINT="$registry_src/index.crates.io-1949cf8c6b5b557f/contracts-node-$CONTRACTS_NODE_VERSION"
    export CARGO_TARGET_DIR="$BF_CACHE/node-target"
    say "building substrate-contracts-node $CONTRACTS_NODE_VERSION (~1,400 crates; about 100 min on 2 cores)"
    say "target dir $CARGO_TARGET_DIR (resumable); log with: tail -f <this output>"
    start=$(date +%s)
    "$DEB_CARGO" install contracts-node --version "$CONTRACTS_NODE_VERSION" --locked \
        --root "$BF_CACHE/contracts-node-$CONTRACTS_NODE_VERSION"
    say "built $NODE_BIN in $(( $(date +%s) - start )) s"
    ;;
start)
    have_node || die "no node binary at $NODE_BIN: run scripts/node.sh build first"
    mkdir -p "$run_dir"
    if pid=$(running_pid); then
        say "already running on port $port (pid $pid)"
        exit 0
    fi
    if rpc_health; then
        die "port $port already answers RPC but was not started by this script; pick another --port"
    fi
    # --state-pruning archive: workers and clients rebuild a contract's
    # history (datasets, submissions, jobs) from its events, which live in
    # each block's state; the default keeps only the last 256 blocks' state,
    # and the dev node makes a block per transaction.
    nohup "$NODE_BIN" --dev --tmp --state-pruning archive --rpc-port "$port" --rpc-methods unsafe \
        --no-prometheus --no-telemetry --listen-addr /ip4/127.0.0.1/tcp/0 \
        >"$log_file" 2>&1 &
    echo $! >"$pid_file"
    for _ in $(seq 1 120); do
        if rpc_health; then
            say "node running on ws://127.0.0.1:$port (pid $(cat "$pid_file"), log $log_file)"
            exit 0
        fi
        kill -0 "$(cat "$pid_file")" 2>/dev/null || { tail -20 "$log_file" >&2; rm -f "$pid_file"; die "node exited during start"; }
        sleep 0.5
    done
    tail -20 "$log_file" >&2
    die "node did not answer RPC on port $port within 60 s"
    ;;
stop)
    if ! pid=$(running_pid); then
        rm -f "$pid_file"
        say "not running on port $port"
        exit 0
    fi
    kill -INT "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && { say "node ignored SIGINT; killing"; kill -KILL "$pid"; }
    rm -f "$pid_file"
    say "stopped node on port $port"
    ;;
status)
    if pid=$(running_pid) && rpc_health; then
        say "running on ws://127.0.0.1:$port (pid $pid, log $log_file)"
    elif have_node; then
        say "not running on port $port (binary: $NODE_BIN)"; exit 1
    else
        say "not built (scripts/node.sh build) and not running"; exit 1
    fi
    ;;
*)
    die "usage: scripts/node.sh build|start|stop|status [--port P]"
    ;;
esac
