#!/usr/bin/env bash
# Builds the marketplace ink! contract in release with cargo-contract 5.0.3 and
# Debian's rustc 1.85 (pallet-contracts rejects wasm from rustc >= 1.87), then
# copies the artifacts to artifacts/ at the repository root:
#   artifacts/marketplace.contract   (code + metadata bundle)
#   artifacts/marketplace.wasm       (the code deployed on chain)
#   artifacts/marketplace.json       (metadata: messages, selectors, types, events)
# and checks that every selector in the metadata is the one in
# crates/blindfold-protocol/src/selectors.rs.
#
# Idempotent: cargo only rebuilds what changed. Needs what scripts/setup.sh installs.
# Environment: BLINDFOLD_CACHE (default ~/.cache/blindfold) locates cargo-contract;
# BLINDFOLD_WAIT_CARGO_CONTRACT=<minutes> waits for an install still in progress.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

CONTRACT_DIR="$BF_ROOT/contracts/marketplace"
OUT_DIR="$BF_ROOT/artifacts"
SELECTORS_RS="$BF_ROOT/crates/blindfold-protocol/src/selectors.rs"

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
"$CARGO_CONTRACT_BIN" --version | grep -Eq "^cargo-contract(-contract)? $CARGO_CONTRACT_VERSION-" ||
    die "$CARGO_CONTRACT_BIN is not cargo-contract $CARGO_CONTRACT_VERSION: run scripts/setup.sh"

# ---- build ----------------------------------------------------------------------
say "building contracts/marketplace (release, cargo-contract $CARGO_CONTRACT_VERSION, $rustc_version)"
(
    contract_env
    # The contract has its own target dir (contracts/marketplace/target), apart
    # from the host workspace's, which lib.sh points CARGO_TARGET_DIR at.
    unset CARGO_TARGET_DIR
    "$CARGO_CONTRACT_BIN" contract build --release \
        --manifest-path "$CONTRACT_DIR/Cargo.toml"
)

built="$CONTRACT_DIR/target/ink"
mkdir -p "$OUT_DIR"
for ext in contract wasm json; do
    [ -s "$built/marketplace.$ext" ] || die "cargo-contract did not produce $built/marketplace.$ext"
    cp "$built/marketplace.$ext" "$OUT_DIR/marketplace.$ext"
done

# ---- selectors: metadata vs. blindfold-protocol ------------------------------------
# selectors.rs has `pub const NAME: Selector = [0xB1, 0xD0, 0xGG, 0xNN];` and
# `("label", NAME),` rows; the metadata has spec.messages[].{label,selector}.
if command -v jq >/dev/null 2>&1; then
    expected=$(
        while read -r label const; do
            bytes=$(sed -n "s/^pub const $const: Selector = \[\(.*\)\];/\1/p" "$SELECTORS_RS" |
                tr -d ' ' | tr 'A-F' 'a-f' | sed 's/0x//g; s/,//g')
            echo "$label 0x$bytes"
        done < <(sed -n 's/^ *("\([a-z_]*\)", \([A-Z_]*\)),$/\1 \2/p' "$SELECTORS_RS") | sort
    )
    actual=$(jq -r '.spec.messages[] | "\(.label) \(.selector)"' "$OUT_DIR/marketplace.json" | sort)
    [ "$expected" = "$actual" ] || die "metadata selectors differ from $SELECTORS_RS:
$(diff <(echo "$expected") <(echo "$actual") || true)"
    ctor=$(jq -r '.spec.constructors[] | "\(.label) \(.selector)"' "$OUT_DIR/marketplace.json")
    [ "$ctor" = "new 0xb1d00000" ] || die "constructor selector is '$ctor', expected 'new 0xb1d00000'"
    say "selectors match blindfold-protocol ($(wc -l <<<"$actual") messages + constructor)"
else
    say "jq not found: skipped the metadata selector check (the contract's unit tests also check it)"
fi

wasm_size=$(stat -c %s "$OUT_DIR/marketplace.wasm")
printf '%s\n' \
    "contract: $OUT_DIR/marketplace.contract" \
    "wasm:     $OUT_DIR/marketplace.wasm ($wasm_size bytes)" \
    "metadata: $OUT_DIR/marketplace.json"
