# shellcheck shell=bash
# Shared settings for Blindfold's scripts. Source it; do not run it.
#
# Parts:
#   - pinned versions (the single place they are written for scripts)
#   - cache locations outside the clone (~/.cache/blindfold by default)
#   - the Debian contract toolchain environment (`contract_env`)
#   - small helpers: `say`, `die`, `have_node`

BF_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BF_CACHE="${BLINDFOLD_CACHE:-$HOME/.cache/blindfold}"

# Pins. Keep in sync with Cargo.toml ([workspace.dependencies]) and README.md.
RUST_DEB_VERSION="1.85.0+dfsg3-1~deb12u3"   # Debian rustc-web: the contract compiler
RUST_DEB_PACKAGES=(rustc-web cargo-web rust-web-src rust-web-clippy libstd-rust-web-1.85 libstd-rust-web-dev)
CARGO_CONTRACT_VERSION="5.0.3"
CONTRACTS_NODE_VERSION="0.42.0"
INK_VERSION="5.1.1"

# Debian's toolchain lives in /usr (sysroot /usr/lib/rustlib).
DEB_CARGO=/usr/bin/cargo
DEB_RUSTC=/usr/bin/rustc
DEB_SYSROOT=/usr/lib/rustlib
WASM_STD_DIR="$DEB_SYSROOT/wasm32-unknown-unknown/lib"
RUST_LLD="$DEB_SYSROOT/x86_64-unknown-linux-gnu/bin/rust-lld"

CARGO_CONTRACT_BIN="$BF_CACHE/cargo-contract-$CARGO_CONTRACT_VERSION/bin/cargo-contract"
NODE_BIN="$BF_CACHE/contracts-node-$CONTRACTS_NODE_VERSION/bin/substrate-contracts-node"
# The host workspace's target dir lives outside the clone, so a fresh clone on a
# machine that already built Blindfold reuses the work. Nothing depends on it existing.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$BF_CACHE/target}"

say() { printf '[blindfold] %s\n' "$*" >&2; }
die() { printf '[blindfold] error: %s\n' "$*" >&2; exit 1; }

# Environment for anything that must compile with Debian's 1.85 toolchain
# (cargo-contract builds, the node's runtime wasm). cargo-contract honours $CARGO.
contract_env() {
    export CARGO="$DEB_CARGO" RUSTC="$DEB_RUSTC" RUSTDOC=/usr/bin/rustdoc
    export PATH="/usr/bin:$PATH"
    unset RUSTUP_TOOLCHAIN
}

have_node() { [ -x "$NODE_BIN" ]; }
