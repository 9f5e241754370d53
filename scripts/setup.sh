#!/usr/bin/env bash
# Installs everything Blindfold needs on a Debian 12 (bookworm) machine. Idempotent:
# a second run with everything present changes nothing and takes seconds.
#
# Steps:
#   1. Debian packages: rustc-web 1.85 (pinned, downgraded if newer, held), lld-19,
#      clang, libclang-dev, protobuf-compiler, pkg-config, libssl-dev.
#   2. rust-lld for the 1.85 toolchain -> lld-19 (LLVM 19 is what 1.85 uses).
#   3. A prebuilt wasm32-unknown-unknown std for that toolchain (built once from rust-src).
#   4. cargo-contract 5.0.3 (--locked), built with the Debian toolchain, cached.
#   5. Checks rustup's stable toolchain (builds the host workspace), prints versions.
#
#   scripts/setup.sh --host   only what the host workspace needs (the packages of
#                             step 1 without the contract toolchain, and step 5):
#                             scripts/demo.sh and scripts/bench.sh, which use the
#                             committed contract artifact. The contract toolchain
#                             is installed when a contract build is really needed
#                             (ensure_contract_artifact in lib.sh, scripts/test.sh).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

host_only=false
case "${1:-}" in
    --host) host_only=true ;;
    "") ;;
    *) die "unknown argument '$1' (usage: scripts/setup.sh [--host])" ;;
esac

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# One setup at a time: a second one (scripts/node.sh build started beside
# scripts/test.sh, say) waits, then finds everything present, instead of
# compiling cargo-contract a second time into the same place.
mkdir -p "$BF_CACHE"
exec 9>"$BF_CACHE/setup.lock"
if ! flock -n 9; then
    say "another scripts/setup.sh is running: waiting for it"
    flock 9
fi

# ---- 1. Debian packages ---------------------------------------------------
want=()
if ! $host_only; then
    for p in "${RUST_DEB_PACKAGES[@]}"; do
        have=$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || true)
        [ "$have" = "$RUST_DEB_VERSION" ] || want+=("$p=$RUST_DEB_VERSION")
    done
    want_lld=lld-19
else
    want_lld=""
fi
for p in $want_lld clang libclang-dev protobuf-compiler pkg-config libssl-dev python3-pip unzip curl fonts-dejavu-core; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || want+=("$p")
done
if [ ${#want[@]} -gt 0 ]; then
    say "installing Debian packages: ${want[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --allow-downgrades \
        --allow-change-held-packages "${want[@]}" >/dev/null
fi
if $host_only; then
    command -v cargo >/dev/null || die "no host cargo on PATH: rustup's stable toolchain (>= 1.91) is required"
    say "host tools: $(cargo --version); $(protoc --version) (contract toolchain not needed: scripts/setup.sh installs it)"
    exit 0
fi
# Hold the pinned toolchain so a routine upgrade cannot move it to >= 1.87.
held=$(apt-mark showhold 2>/dev/null || true)
for p in "${RUST_DEB_PACKAGES[@]}"; do
    grep -qx "$p" <<<"$held" || $SUDO apt-mark hold "$p" >/dev/null
done

# ---- 2. rust-lld --------------------------------------------------------------
if [ "$(readlink -f "$RUST_LLD" 2>/dev/null)" != "$(readlink -f /usr/lib/llvm-19/bin/lld)" ]; then
    say "linking $RUST_LLD -> lld-19"
    $SUDO mkdir -p "$(dirname "$RUST_LLD")"
    $SUDO ln -sf /usr/lib/llvm-19/bin/lld "$RUST_LLD"
fi

# ---- 3. wasm32 std for the 1.85 toolchain ------------------------------------
if ! ls "$WASM_STD_DIR"/libstd-*.rlib >/dev/null 2>&1; then
    say "building the wasm32-unknown-unknown std from Debian's rust-src (about a minute)"
    seed=$(mktemp -d)
    mkdir -p "$seed/src"
    printf '[package]\nname = "wasm-std-seed"\nversion = "0.0.0"\nedition = "2021"\n[profile.release]\npanic = "abort"\n' >"$seed/Cargo.toml"
    echo '#![no_std]' >"$seed/src/lib.rs"
    (
        contract_env
        cd "$seed"
        RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$seed/target" "$DEB_CARGO" build --quiet --release \
            -Zbuild-std=std,panic_abort --target wasm32-unknown-unknown
    )
    $SUDO mkdir -p "$WASM_STD_DIR"
    $SUDO cp "$seed"/target/wasm32-unknown-unknown/release/deps/lib*.rlib "$WASM_STD_DIR/"
    $SUDO rm -f "$WASM_STD_DIR"/libwasm_std_seed-*.rlib
    rm -rf "$seed"
fi

# ---- 4. cargo-contract --------------------------------------------------------
if ! "$CARGO_CONTRACT_BIN" --version 2>/dev/null | grep -Eq "cargo-contract(-contract)? $CARGO_CONTRACT_VERSION"; then
    say "installing cargo-contract $CARGO_CONTRACT_VERSION (compiles ~500 crates; 15-30 min on 2 cores)"
    (
        contract_env
        unset CARGO_TARGET_DIR
        "$DEB_CARGO" install cargo-contract --version "$CARGO_CONTRACT_VERSION" --locked \
            --root "$BF_CACHE/cargo-contract-$CARGO_CONTRACT_VERSION"
    )
fi

# ---- 5. Host toolchain and summary --------------------------------------------
command -v cargo >/dev/null || die "no host cargo on PATH: rustup's stable toolchain (>= 1.91) is required"
say "versions:"
printf '  host cargo:      %s\n' "$(cargo --version)"
printf '  contract rustc:  %s (Debian %s)\n' "$("$DEB_RUSTC" --version)" "$RUST_DEB_VERSION"
printf '  contract cargo:  %s\n' "$("$DEB_CARGO" --version)"
printf '  rust-lld:        %s\n' "$("$RUST_LLD" -flavor wasm --version 2>/dev/null | head -1)"
printf '  cargo-contract:  %s\n' "$("$CARGO_CONTRACT_BIN" --version)"
printf '  protoc:          %s\n' "$(protoc --version)"
if have_node; then
    printf '  contracts-node:  %s\n' "$("$NODE_BIN" --version)"
else
    printf '  contracts-node:  not built (scripts/node.sh build)\n'
fi
