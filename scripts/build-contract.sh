#!/usr/bin/env bash
# Builds the marketplace ink! contract reproducibly and records what it built.
#
#   scripts/build-contract.sh                       build, write artifacts/ (commit them)
#   scripts/build-contract.sh --verify              build, compare with artifacts/, write nothing
#   scripts/build-contract.sh --check-reproducible  build from two copies of this checkout
#                                                   at different paths; compare the wasm
#   --clean                                         (with the first two) empty the build's
#                                                   target dir first: a from-scratch build
#
# The recipe (the same on every machine, so the same source gives the same bytes):
#   1. contract_stage_source (scripts/lib.sh) copies contracts/marketplace, the crates
#      it reaches by `path` (crates/blindfold-protocol) and a generated root Cargo.toml
#      (what those crates inherit from [workspace]) to the FIXED path
#      /tmp/blindfold-contract-build/src, recreated every time. The checkout's own path
#      therefore never reaches the compiler.
#   2. cargo fetch --locked checks that contracts/marketplace/Cargo.lock is complete.
#   3. cargo-contract 5.0.3 `build --release --offline` with Debian's rustc 1.85
#      (pallet-contracts rejects wasm from rustc >= 1.87), run from the staged tree with
#      the FIXED target dir /tmp/blindfold-contract-build/target, a scrubbed
#      environment (no RUSTFLAGS, CARGO_PROFILE_*, INK_*, wrappers) and $CARGO_HOME
#      remapped to /cargo in the paths the compiler embeds (--remap-path-prefix).
#   4. Checks: the lock file is unchanged, no checkout path is in the outputs, the
#      metadata's source.hash is the wasm's blake2-256, every selector in the metadata
#      is the one in crates/blindfold-protocol/src/selectors.rs.
#   5. Copies to artifacts/ (committed):
#        marketplace.wasm      the code deployed on chain
#        marketplace.json      metadata: messages, selectors, types, events
#        marketplace.contract  code + metadata bundle
#        manifest.json         source digest and files, toolchain, sizes, SHA-256 and
#                              blake2-256 (= pallet-contracts' code hash) of each output
#
# Other scripts do not call this directly: they call ensure_contract_artifact
# (scripts/lib.sh), which uses the committed artifacts when the source digest matches
# artifacts/manifest.json. scripts/test.sh runs --verify.
#
# Needs what scripts/setup.sh installs, and python3. Builds are serialised by a lock
# (/tmp/blindfold-contract-build/.lock).
# Environment: BLINDFOLD_CACHE (default ~/.cache/blindfold) locates cargo-contract;
# BLINDFOLD_WAIT_CARGO_CONTRACT=<minutes> waits for an install still in progress.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

mode=build
clean=""
while [ $# -gt 0 ]; do
    case "$1" in
        --verify) mode=verify ;;
        --check-reproducible) mode=check ;;
        --clean) clean=1 ;;
        *) die "unknown argument '$1' (usage: scripts/build-contract.sh [--verify | --check-reproducible] [--clean])" ;;
    esac
    shift
done

# ---- --check-reproducible ----------------------------------------------------------
# Two copies of this checkout (tracked and untracked-but-not-ignored files, i.e. what
# a commit would hold) at paths of different lengths, each built from scratch by its
# own scripts/build-contract.sh with a different TMPDIR; the two wasm files must be
# byte-identical. The copies' artifacts/ are overwritten; this checkout's are not.
if [ "$mode" = check ]; then
    work=$(mktemp -d /tmp/blindfold-repro.XXXXXX)
    trap 'rm -rf "$work"' EXIT
    copies=("$work/a" "$work/second/checkout/at/a/much/longer/path/blindfold")
    for dir in "${copies[@]}"; do
        mkdir -p "$dir" "$dir.tmp"
        if git -C "$BF_ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
            (cd "$BF_ROOT" && git ls-files -z -co --exclude-standard |
                tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$dir"
        else
            tar -C "$BF_ROOT" --exclude=./target --exclude='./contracts/*/target' -cf - . | tar -xf - -C "$dir"
        fi
    done
    hashes=()
    for dir in "${copies[@]}"; do
        say "reproducibility check: building from $dir (clean target dir, TMPDIR=$dir.tmp)"
        TMPDIR="$dir.tmp" "$dir/scripts/build-contract.sh" --clean >&2
        hashes+=("$(sha256sum "$dir/artifacts/marketplace.wasm" | cut -d' ' -f1)")
        printf 'build %d: %s  %s (%s bytes)\n' "${#hashes[@]}" "${hashes[-1]}" \
            "$dir/artifacts/marketplace.wasm" "$(stat -c %s "$dir/artifacts/marketplace.wasm")"
    done
    if [ -f "$CONTRACT_ARTIFACTS/manifest.json" ]; then
        printf 'committed: %s  artifacts/manifest.json (wasm.sha256)\n' \
            "$(contract_manifest_get wasm.sha256)"
    fi
    [ "${hashes[0]}" = "${hashes[1]}" ] ||
        die "NOT reproducible: the two builds differ (${hashes[0]} vs ${hashes[1]})"
    echo "REPRODUCIBLE: both builds give sha256 ${hashes[0]}"
    exit 0
fi

# ---- toolchain ------------------------------------------------------------------
[ -x "$DEB_CARGO" ] && [ -x "$DEB_RUSTC" ] ||
    die "Debian's Rust toolchain ($DEB_CARGO, $DEB_RUSTC) is missing: run scripts/setup.sh"
rustc_version=$("$DEB_RUSTC" --version)
case "$rustc_version" in
    "rustc 1.85."*) ;;
    *) die "$DEB_RUSTC is '$rustc_version', the contract needs 1.85.x: run scripts/setup.sh" ;;
esac
ls "$WASM_STD_DIR"/libcore-*.rlib >/dev/null 2>&1 ||
    die "no wasm32-unknown-unknown std for rustc 1.85 in $WASM_STD_DIR: run scripts/setup.sh"
command -v python3 >/dev/null || die "python3 is required (scripts/setup.sh installs it)"

# ---- cargo-contract -------------------------------------------------------------
wait_minutes="${BLINDFOLD_WAIT_CARGO_CONTRACT:-0}"
while [ ! -x "$CARGO_CONTRACT_BIN" ] && [ "$wait_minutes" -gt 0 ]; do
    say "waiting for cargo-contract at $CARGO_CONTRACT_BIN ($wait_minutes min left)"
    sleep 60
    wait_minutes=$((wait_minutes - 1))
done
[ -x "$CARGO_CONTRACT_BIN" ] ||
    die "cargo-contract $CARGO_CONTRACT_VERSION not found at $CARGO_CONTRACT_BIN: run scripts/setup.sh
       (if an install is running, see $BF_CACHE/logs/cargo-contract.log, or set BLINDFOLD_WAIT_CARGO_CONTRACT=30)"
cargo_contract_version=$("$CARGO_CONTRACT_BIN" --version)
grep -Eq "^cargo-contract(-contract)? $CARGO_CONTRACT_VERSION-" <<<"$cargo_contract_version" ||
    die "$CARGO_CONTRACT_BIN is not cargo-contract $CARGO_CONTRACT_VERSION: run scripts/setup.sh"

# ---- stage the source at the fixed path -------------------------------------------
mkdir -p "$CONTRACT_BUILD_ROOT"
exec 9>"$CONTRACT_BUILD_ROOT/.lock"
if ! flock -n 9; then
    say "another contract build holds $CONTRACT_BUILD_ROOT/.lock: waiting"
    flock 9
fi
rm -rf "$CONTRACT_BUILD_SRC"
contract_stage_source "$BF_ROOT" "$CONTRACT_BUILD_SRC"
source_digest=$(contract_source_digest "$CONTRACT_BUILD_SRC")
[ -z "$clean" ] || rm -rf "$CONTRACT_BUILD_TARGET"
# Panic locations in the wasm name source files, and crates' files live under
# $CARGO_HOME (/root/.cargo here, /home/<user>/.cargo elsewhere): remap it to /cargo.
# cargo-contract sets CARGO_ENCODED_RUSTFLAGS, which overrides RUSTFLAGS and cargo's
# config, so the flag goes in through this RUSTC_WRAPPER (compilations only).
cargo_home=$(cd "${CARGO_HOME:-$HOME/.cargo}" && pwd)
cat >"$CONTRACT_BUILD_ROOT/rustc-remap" <<'SH'
#!/bin/sh
# Written by scripts/build-contract.sh: RUSTC_WRAPPER for the contract build.
rustc=$1
shift
case " $* " in
    *" --crate-name "*)
        set -- "$@" "--remap-path-prefix=$BF_CARGO_HOME=/cargo"
        [ "$BF_CARGO_HOME_REAL" = "$BF_CARGO_HOME" ] ||
            set -- "$@" "--remap-path-prefix=$BF_CARGO_HOME_REAL=/cargo" ;;
esac
exec "$rustc" "$@"
SH
chmod +x "$CONTRACT_BUILD_ROOT/rustc-remap"
manifest_path="$CONTRACT_BUILD_SRC/$CONTRACT_REL/Cargo.toml"
lock_before=$(sha256sum "$CONTRACT_BUILD_SRC/$CONTRACT_REL/Cargo.lock" | cut -d' ' -f1)

# ---- build ----------------------------------------------------------------------
say "building $CONTRACT_REL (release, cargo-contract $CARGO_CONTRACT_VERSION, $rustc_version) in $CONTRACT_BUILD_SRC"
(
    contract_env
    # Nothing from the caller's environment may change the build.
    for v in $(compgen -e); do
        case "$v" in
            RUSTFLAGS | RUSTDOCFLAGS | CARGO_ENCODED_RUSTFLAGS | CARGO_ENCODED_RUSTDOCFLAGS | \
                RUSTC_WRAPPER | RUSTC_WORKSPACE_WRAPPER | CARGO_INCREMENTAL | CARGO_PROFILE_* | \
                CARGO_BUILD_* | CARGO_TARGET_* | INK_*) unset "$v" ;;
        esac
    done
    export CARGO_TARGET_DIR="$CONTRACT_BUILD_TARGET" RUSTC_WRAPPER="$CONTRACT_BUILD_ROOT/rustc-remap"
    export BF_CARGO_HOME="$cargo_home" BF_CARGO_HOME_REAL
    BF_CARGO_HOME_REAL=$(readlink -f "$cargo_home")
    cd "$CONTRACT_BUILD_SRC/$CONTRACT_REL"
    "$DEB_CARGO" fetch --locked --quiet --manifest-path "$manifest_path" ||
        die "$CONTRACT_REL/Cargo.lock does not match its Cargo.toml files (cargo fetch --locked failed): update it on purpose and commit it"
    "$CARGO_CONTRACT_BIN" contract build --release --offline --manifest-path "$manifest_path"
)
[ "$(sha256sum "$CONTRACT_BUILD_SRC/$CONTRACT_REL/Cargo.lock" | cut -d' ' -f1)" = "$lock_before" ] ||
    die "the build changed $CONTRACT_REL/Cargo.lock: the committed lock file is out of date"

built="$CONTRACT_BUILD_TARGET/ink"
for ext in contract wasm json; do
    [ -s "$built/marketplace.$ext" ] || die "cargo-contract did not produce $built/marketplace.$ext"
    for leak in "$BF_ROOT" "$cargo_home"; do
        ! grep -qaF "$leak" "$built/marketplace.$ext" ||
            die "$built/marketplace.$ext contains the path $leak: the build is not path-independent"
    done
done
wasm_sha256=$(sha256sum "$built/marketplace.wasm" | cut -d' ' -f1)
wasm_blake2=$(b2sum -l 256 "$built/marketplace.wasm" | cut -d' ' -f1)
wasm_size=$(stat -c %s "$built/marketplace.wasm")
meta_hash=$(contract_manifest_get source.hash "$built/marketplace.json")
[ "$meta_hash" = "0x$wasm_blake2" ] ||
    die "the metadata's source.hash ($meta_hash) is not the wasm's blake2-256 (0x$wasm_blake2)"

# ---- selectors: metadata vs. blindfold-protocol ------------------------------------
# selectors.rs has `pub const NAME: Selector = [0xB1, 0xD0, 0xGG, 0xNN];` and
# `("label", NAME),` rows; the metadata has spec.messages[].{label,selector}.
SELECTORS_RS="$CONTRACT_BUILD_SRC/crates/blindfold-protocol/src/selectors.rs"
expected=$(
    while read -r label const; do
        bytes=$(sed -n "s/^pub const $const: Selector = \[\(.*\)\];/\1/p" "$SELECTORS_RS" |
            tr -d ' ' | tr 'A-F' 'a-f' | sed 's/0x//g; s/,//g')
        echo "$label 0x$bytes"
    done < <(sed -n 's/^ *("\([a-z_]*\)", \([A-Z_]*\)),$/\1 \2/p' "$SELECTORS_RS") | sort
)
actual=$(python3 -c 'import json, sys
for m in json.load(open(sys.argv[1]))["spec"]["messages"]: print(m["label"], m["selector"])' \
    "$built/marketplace.json" | sort)
ctor=$(python3 -c 'import json, sys
for c in json.load(open(sys.argv[1]))["spec"]["constructors"]: print(c["label"], c["selector"])' \
    "$built/marketplace.json")
[ "$expected" = "$actual" ] || die "metadata selectors differ from crates/blindfold-protocol/src/selectors.rs:
$(diff <(echo "$expected") <(echo "$actual") || true)"
[ "$ctor" = "new 0xb1d00000" ] || die "constructor selector is '$ctor', expected 'new 0xb1d00000'"
say "selectors match blindfold-protocol ($(wc -l <<<"$actual") messages + constructor)"

# ---- --verify: compare with the committed artifacts ---------------------------------
if [ "$mode" = verify ]; then
    manifest="$CONTRACT_ARTIFACTS/manifest.json"
    [ -f "$manifest" ] || die "no committed artifacts/manifest.json: run scripts/build-contract.sh and commit artifacts/"
    for ext in wasm json contract; do
        fresh=$(sha256sum "$built/marketplace.$ext" | cut -d' ' -f1)
        committed=$(sha256sum "$CONTRACT_ARTIFACTS/marketplace.$ext" 2>/dev/null | cut -d' ' -f1)
        [ "$fresh" = "$committed" ] || die "artifacts/marketplace.$ext differs from a fresh build of the source
       fresh build:  sha256 $fresh ($(stat -c %s "$built/marketplace.$ext") bytes, in $built)
       committed:    sha256 ${committed:-<missing>}
       If you changed contracts/marketplace or crates/blindfold-protocol, run
       scripts/build-contract.sh and commit artifacts/. If you did not, this machine's
       build is not reproducible: compare its toolchain with artifacts/manifest.json."
        [ "$committed" = "$(contract_manifest_get "$ext.sha256" "$manifest")" ] ||
            die "artifacts/marketplace.$ext does not match the sha256 recorded in artifacts/manifest.json: run scripts/build-contract.sh and commit artifacts/"
    done
    recorded=$(contract_manifest_get source.digest "$manifest")
    [ "$source_digest" = "$recorded" ] || die "artifacts/manifest.json is stale: it records source digest $recorded,
       the source is now $source_digest (the built bytes are unchanged). Run
       scripts/build-contract.sh and commit artifacts/manifest.json, or scripts/demo.sh
       and the other scripts will rebuild the contract on every machine."
    say "artifacts/ match a fresh build: wasm sha256 $wasm_sha256, code hash 0x$wasm_blake2 ($wasm_size bytes)"
    exit 0
fi

# ---- artifacts/ and the manifest ------------------------------------------------------
mkdir -p "$CONTRACT_ARTIFACTS"
for ext in contract wasm json; do
    cp "$built/marketplace.$ext" "$CONTRACT_ARTIFACTS/marketplace.$ext"
done
ink_version=$(awk '$0 == "name = \"ink\"" { getline; gsub(/[^0-9.]/, ""); print }' \
    "$CONTRACT_BUILD_SRC/$CONTRACT_REL/Cargo.lock")
BF_SOURCE_FILES=$(contract_source_files "$CONTRACT_BUILD_SRC") python3 - "$CONTRACT_ARTIFACTS" "$source_digest" \
    "$rustc_version" "$(dpkg-query -W -f='${Version}' rustc-web 2>/dev/null || echo unknown)" \
    "$("$DEB_CARGO" --version)" "$cargo_contract_version" "$ink_version" \
    "$(dpkg-query -W -f='${Version}' lld-19 2>/dev/null || echo unknown)" \
    "$CONTRACT_BUILD_SRC" "$CONTRACT_BUILD_TARGET" "$CONTRACT_REL" <<'PY'
import hashlib, json, os, subprocess, sys

(out, digest, rustc, rustc_deb, cargo, cargo_contract, ink, lld, src, target,
 contract) = sys.argv[1:]
files = []
for line in os.environ["BF_SOURCE_FILES"].splitlines():
    sha, path = line.split("  ", 1)
    files.append({"path": path, "sha256": sha})

def outputs(ext):
    data = open(os.path.join(out, f"marketplace.{ext}"), "rb").read()
    return {"file": f"marketplace.{ext}", "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "blake2_256": hashlib.blake2b(data, digest_size=32).hexdigest()}

wasm = outputs("wasm")
manifest = {
    "name": "marketplace",
    "code_hash": "0x" + wasm["blake2_256"],
    "code_hash_note": "pallet-contracts' code hash is the blake2-256 of the wasm (b2sum -l 256)",
    "wasm": wasm,
    "json": outputs("json"),
    "contract": outputs("contract"),
    "source": {
        "digest": digest,
        "definition": "sha256 of the `<sha256>  <path>` lines (sha256sum's output) of every "
                      "file staged by contract_stage_source in scripts/lib.sh, sorted bytewise "
                      "by path; see contract_source_files there",
        "files": files,
    },
    "toolchain": {
        "rustc": rustc,
        "rustc_debian_package": f"rustc-web {rustc_deb}",
        "cargo": cargo,
        "cargo_contract": cargo_contract,
        "ink": ink,
        "linker": f"rust-lld -> lld-19 {lld}",
    },
    "build": {
        "command": f"cargo contract build --release --offline --manifest-path {src}/{contract}/Cargo.toml",
        "source_path": src,
        "target_dir": target,
        "script": "scripts/build-contract.sh",
    },
}
with open(os.path.join(out, "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=2)
    f.write("\n")
PY

printf '%s\n' \
    "contract: $CONTRACT_ARTIFACTS/marketplace.contract" \
    "wasm:     $CONTRACT_ARTIFACTS/marketplace.wasm ($wasm_size bytes, sha256 $wasm_sha256)" \
    "metadata: $CONTRACT_ARTIFACTS/marketplace.json" \
    "manifest: $CONTRACT_ARTIFACTS/manifest.json (source digest $source_digest)" \
    "code hash (blake2-256): 0x$wasm_blake2"
