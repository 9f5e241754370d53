#!/usr/bin/env bash
# Manages a local S3-compatible server for Blindfold's S3 tests: s3s-fs (pinned in
# scripts/lib.sh), an S3 API over a directory, built from crates.io. scripts/test.sh
# installs it, starts it, runs the `s3_` tests and stops it; scripts/demo.sh never
# needs it.
#
#   scripts/s3.sh install                      build it once (cargo install --locked),
#                                              cached in ~/.cache/blindfold
#   scripts/s3.sh start [--port P] [--dir D]   serve directory D (default
#                                              ~/.cache/blindfold/s3/data-P) on 127.0.0.1:P
#                                              (default 9000); waits until it answers,
#                                              creates the bucket, then prints the
#                                              variables to export on stdout:
#                                                eval "$(scripts/s3.sh start --port 9000)"
#   scripts/s3.sh env [--port P]               prints those variables again
#   scripts/s3.sh stop [--port P]              stops it (SIGINT, then SIGKILL after 15 s)
#   scripts/s3.sh status [--port P]            exit 0 when running and answering
#
# The server listens on 127.0.0.1 only and checks SigV4 signatures against one fixed,
# local-only key pair (below). The variables are the standard AWS_* ones that
# `blindfold --store s3://bucket/prefix` reads (AWS_ENDPOINT, AWS_ALLOW_HTTP, keys,
# region), plus BLINDFOLD_S3_BUCKET (a bucket created on start) and BLINDFOLD_S3_DIR
# (the served directory). Pid file, log and served directory name live in
# $BLINDFOLD_CACHE/s3/: s3-P.pid, s3-P.log, s3-P.dir.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

usage="scripts/s3.sh install|start|env|stop|status [--port P] [--dir D]"
cmd="${1:-}"; shift || true
port=9000
dir=""
while [ $# -gt 0 ]; do
    case "$1" in
        --port) port="${2:?--port needs a number}"; shift 2 ;;
        --dir) dir="${2:?--dir needs a directory}"; shift 2 ;;
        *) die "unknown argument '$1' (usage: $usage)" ;;
    esac
done
[[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1024 ] && [ "$port" -le 65535 ] \
    || die "--port must be a number in 1024..65535, got '$port'"

# A test server's credentials: it listens on 127.0.0.1 only and holds test data.
S3_ACCESS_KEY=blindfold-test
S3_SECRET_KEY=blindfold-test-secret-not-for-production
S3_REGION=us-east-1
S3_BUCKET=blindfold-test

run_dir="$BF_CACHE/s3"
pid_file="$run_dir/s3-$port.pid"
log_file="$run_dir/s3-$port.log"
dir_file="$run_dir/s3-$port.dir"
endpoint="http://127.0.0.1:$port"

have_s3() { [ -x "$S3_BIN" ]; }
# Any HTTP answer counts (an unsigned request gets 403 from a server with keys).
answers() {
    local code
    code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$endpoint/" 2>/dev/null || true)
    [ -n "$code" ] && [ "$code" != 000 ]
}
# The pid in the pid file, if that process is alive and is s3s-fs (not a reused pid).
running_pid() {
    [ -f "$pid_file" ] || return 1
    local pid; pid=$(cat "$pid_file")
    [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
    [ "$(readlink -f "/proc/$pid/exe" 2>/dev/null)" = "$(readlink -f "$S3_BIN")" ] || return 1
    echo "$pid"
}
print_env() {
    cat <<EOF
export AWS_ENDPOINT=$endpoint
export AWS_ALLOW_HTTP=true
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY
export AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY
export AWS_REGION=$S3_REGION
export BLINDFOLD_S3_BUCKET=$S3_BUCKET
export BLINDFOLD_S3_DIR=$(printf '%q' "$1")
unset AWS_SESSION_TOKEN AWS_TOKEN
EOF
}
# A signed S3 request (curl's SigV4); prints the HTTP status.
s3_request() {
    local method=(-X "$1") path="$2"
    [ "$1" != HEAD ] || method=(--head)   # -X HEAD would wait for a body
    curl -s -m 10 -o /dev/null -w '%{http_code}' "${method[@]}" \
        --aws-sigv4 "aws:amz:$S3_REGION:s3" --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" \
        -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$endpoint/$path" || true
}

case "$cmd" in
install)
    if have_s3; then
        say "already installed: $S3_BIN ($("$S3_BIN" --version))"
        exit 0
    fi
    command -v cargo >/dev/null || die "no cargo on PATH: rustup's stable toolchain is required (scripts/setup.sh --host)"
    rustc_version=$(cd "$BF_ROOT" && rustc --version | awk '{print $2}')
    [ "$(printf '%s\n%s\n' "$S3S_FS_RUST" "${rustc_version%%-*}" | sort -V | head -1)" = "$S3S_FS_RUST" ] \
        || die "s3s-fs $S3S_FS_VERSION needs rustc >= $S3S_FS_RUST; the workspace's toolchain is $rustc_version (rustup update stable)"
    # Its own target dir: resumable if interrupted, removed once installed.
    target="$BF_CACHE/s3s-fs-target"
    say "building s3s-fs $S3S_FS_VERSION from crates.io (about 170 crates: 3 min 31 s measured on 2 shared cores)"
    start=$(date +%s)
    (cd "$BF_ROOT" && CARGO_TARGET_DIR="$target" cargo install s3s-fs --version "$S3S_FS_VERSION" \
        --locked --features binary --root "$BF_CACHE/s3s-fs-$S3S_FS_VERSION")
    rm -rf "$target"
    have_s3 || die "cargo install finished but $S3_BIN is missing"
    say "installed $S3_BIN in $(( $(date +%s) - start )) s"
    ;;
start)
    have_s3 || die "no s3s-fs binary at $S3_BIN: run scripts/s3.sh install first"
    mkdir -p "$run_dir"
    dir="${dir:-$run_dir/data-$port}"
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if pid=$(running_pid); then
        serving=$(cat "$dir_file" 2>/dev/null || true)
        [ "$serving" = "$dir" ] \
            || die "already running on port $port (pid $pid) serving '$serving', not '$dir': stop it first (scripts/s3.sh stop --port $port)"
        say "already running on $endpoint (pid $pid, serving $dir)"
        print_env "$dir"
        exit 0
    fi
    rm -f "$pid_file"
    if answers; then
        die "port $port already answers HTTP but was not started by this script; pick another --port"
    fi
    nohup "$S3_BIN" --host 127.0.0.1 --port "$port" \
        --access-key "$S3_ACCESS_KEY" --secret-key "$S3_SECRET_KEY" "$dir" \
        >"$log_file" 2>&1 &
    echo $! >"$pid_file"
    echo "$dir" >"$dir_file"
    up=false
    for _ in $(seq 1 60); do
        if answers; then up=true; break; fi
        kill -0 "$(cat "$pid_file")" 2>/dev/null \
            || { tail -20 "$log_file" >&2; rm -f "$pid_file"; die "s3s-fs exited during start (log $log_file)"; }
        sleep 0.5
    done
    $up || { tail -20 "$log_file" >&2; die "s3s-fs did not answer on $endpoint within 30 s (log $log_file)"; }
    # CreateBucket through the S3 API (200 created; 409 it exists already).
    code=$(s3_request PUT "$S3_BUCKET")
    case "$code" in
        200|409) ;;
        *) die "creating bucket $S3_BUCKET on $endpoint failed: HTTP ${code:-no answer} (log $log_file)" ;;
    esac
    # A signed HeadBucket proves the keys work before any test relies on them.
    code=$(s3_request HEAD "$S3_BUCKET")
    [ "$code" = 200 ] || die "bucket $S3_BUCKET on $endpoint does not answer a signed HEAD: HTTP ${code:-no answer} (log $log_file)"
    say "s3s-fs $S3S_FS_VERSION running on $endpoint (pid $(cat "$pid_file"), bucket $S3_BUCKET, serving $dir, log $log_file)"
    print_env "$dir"
    ;;
env)
    pid=$(running_pid) || die "no s3s-fs started by this script on port $port (scripts/s3.sh start --port $port)"
    print_env "$(cat "$dir_file")"
    ;;
stop)
    if ! pid=$(running_pid); then
        rm -f "$pid_file" "$dir_file"
        say "not running on port $port"
        exit 0
    fi
    kill -INT "$pid"
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
        say "s3s-fs ignored SIGINT for 15 s; killing it"
        kill -KILL "$pid"
    fi
    rm -f "$pid_file" "$dir_file"
    say "stopped s3s-fs on port $port"
    ;;
status)
    if pid=$(running_pid) && answers; then
        say "running on $endpoint (pid $pid, serving $(cat "$dir_file"), log $log_file)"
    elif have_s3; then
        say "not running on port $port (binary: $S3_BIN)"; exit 1
    else
        say "not installed (scripts/s3.sh install) and not running"; exit 1
    fi
    ;;
*)
    die "usage: $usage"
    ;;
esac
