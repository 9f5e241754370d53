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
# The S3-compatible server of the S3 tests (scripts/s3.sh): the newest s3s-fs whose
# rust-version (1.92) the workspace's stable toolchain meets; 0.15+ wants 1.96.
S3S_FS_VERSION="0.14.1"
S3S_FS_RUST="1.92"

# Debian's toolchain lives in /usr (sysroot /usr/lib/rustlib).
DEB_CARGO=/usr/bin/cargo
DEB_RUSTC=/usr/bin/rustc
DEB_SYSROOT=/usr/lib/rustlib
WASM_STD_DIR="$DEB_SYSROOT/wasm32-unknown-unknown/lib"
RUST_LLD="$DEB_SYSROOT/x86_64-unknown-linux-gnu/bin/rust-lld"

CARGO_CONTRACT_BIN="$BF_CACHE/cargo-contract-$CARGO_CONTRACT_VERSION/bin/cargo-contract"
NODE_BIN="$BF_CACHE/contracts-node-$CONTRACTS_NODE_VERSION/bin/substrate-contracts-node"
S3_BIN="$BF_CACHE/s3s-fs-$S3S_FS_VERSION/bin/s3s-fs"
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

# ---- the contract: reproducible build and committed artifact ---------------------
#
# scripts/build-contract.sh never builds in the checkout. It copies the contract's
# source (contract_stage_source) to a FIXED path and runs cargo-contract there with a
# FIXED target dir, like cargo-contract's verifiable builds use /contract in their
# container, so the checkout's path cannot reach the wasm. The result is committed in
# artifacts/ with artifacts/manifest.json (source digest, toolchain, wasm hashes).
CONTRACT_BUILD_ROOT=/tmp/blindfold-contract-build   # fixed: part of the recipe
CONTRACT_BUILD_SRC="$CONTRACT_BUILD_ROOT/src"       # the staged source tree
CONTRACT_BUILD_TARGET="$CONTRACT_BUILD_ROOT/target" # its own CARGO_TARGET_DIR
CONTRACT_REL=contracts/marketplace
CONTRACT_ARTIFACTS="$BF_ROOT/artifacts"

# contract_stage_source REPO DEST: copies into DEST (which must not exist) exactly
# what the contract build reads, keeping the layout its `path` dependencies need:
#   - contracts/marketplace/ and every crate it reaches through `path` dependencies
#     (today crates/blindfold-protocol/), all files except target/ directories,
#     hidden files, *.md and editor droppings (*.swp, *~). A file left out here is
#     absent from the build, so if the code ever reads one (include_str!) the build
#     fails rather than silently ignoring it;
#   - a generated Cargo.toml at DEST's root holding only what those crates inherit
#     from the repository's [workspace] (package keys, dependencies, lints), so an
#     unrelated edit of the root Cargo.toml neither changes the build nor its digest.
# Needs python3 (>= 3.11, for tomllib).
contract_stage_source() {
    local repo="$1" dest="$2"
    [ ! -e "$dest" ] || die "contract_stage_source: $dest already exists"
    command -v python3 >/dev/null || die "python3 is required to stage the contract source"
    python3 - "$repo" "$dest" "$CONTRACT_REL" <<'PY'
import json, os, re, shutil, sys, tomllib

repo, dest, contract = sys.argv[1:4]
load = lambda p: tomllib.load(open(os.path.join(repo, p), "rb"))
ws = load("Cargo.toml")["workspace"]
ws_deps = ws.get("dependencies", {})

def inside(rel):
    rel = os.path.normpath(rel)
    if rel.startswith("..") or os.path.isabs(rel):
        sys.exit(f"contract_stage_source: path dependency {rel} is outside the repository")
    return rel

crates, todo, pkg_keys, dep_names, lints = [], [inside(contract)], [], [], False
while todo:
    d = todo.pop(0)
    if d in crates:
        continue
    crates.append(d)
    m = load(os.path.join(d, "Cargo.toml"))
    for k, v in m.get("package", {}).items():
        if isinstance(v, dict) and v.get("workspace") is True and k not in pkg_keys:
            pkg_keys.append(k)
    lints = lints or m.get("lints", {}).get("workspace") is True
    kinds = ("dependencies", "dev-dependencies", "build-dependencies")
    tables = [m.get(k, {}) for k in kinds]
    tables += [t.get(k, {}) for t in m.get("target", {}).values() for k in kinds]
    for table in tables:
        for name, spec in table.items():
            if not isinstance(spec, dict):
                continue
            if spec.get("workspace") is True:
                if name not in dep_names:
                    dep_names.append(name)
                wspec = ws_deps[name]
                if isinstance(wspec, dict) and "path" in wspec:
                    todo.append(inside(wspec["path"]))
            elif "path" in spec:
                todo.append(inside(os.path.join(d, spec["path"])))

for d in crates:
    for top, dirs, files in os.walk(os.path.join(repo, d)):
        dirs[:] = sorted(x for x in dirs if x != "target" and not x.startswith("."))
        for f in files:
            if f.startswith(".") or f.endswith((".md", ".swp", "~")):
                continue
            src = os.path.join(top, f)
            out = os.path.join(dest, os.path.relpath(src, repo))
            os.makedirs(os.path.dirname(out), exist_ok=True)
            shutil.copyfile(src, out)

def key(k):
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k)

def val(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(val(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{key(k)} = {val(x)}" for k, x in v.items()) + " }"
    sys.exit(f"contract_stage_source: cannot write TOML value {v!r}")

members = [d for d in crates if d != inside(contract)]
lines = [
    "# Generated by scripts/lib.sh (contract_stage_source) from the repository's",
    "# Cargo.toml: only what the contract's path dependencies inherit from it.",
    "[workspace]",
    f"resolver = {val(ws.get('resolver', '2'))}",
    f"members = {val(members)}",
    f"exclude = {val([contract.split('/')[0]])}",
]
if pkg_keys:
    lines += ["", "[workspace.package]"]
    lines += [f"{key(k)} = {val(ws['package'][k])}" for k in pkg_keys]
if dep_names:
    lines += ["", "[workspace.dependencies]"]
    lines += [f"{key(k)} = {val(v)}" for k, v in ws_deps.items() if k in dep_names]
if lints:
    for tool, table in ws.get("lints", {}).items():
        lines += ["", f"[workspace.lints.{key(tool)}]"]
        lines += [f"{key(k)} = {val(v)}" for k, v in table.items()]
with open(os.path.join(dest, "Cargo.toml"), "w") as f:
    f.write("\n".join(lines) + "\n")
PY
}

# contract_source_files DIR: one `<sha256>  <path>` line per file of a staged tree
# (contract_stage_source), sorted bytewise by path. THE definition of the source
# digest: contract_source_digest is the SHA-256 of exactly this text, i.e.
#   cd DIR && find . -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum
contract_source_files() {
    (cd "$1" && find . -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 sha256sum)
}

# contract_source_digest [DIR]: the source digest of a staged tree, or, without DIR,
# of this checkout's contract source (staged to a temporary directory).
contract_source_digest() {
    if [ $# -gt 0 ]; then
        contract_source_files "$1" | sha256sum | cut -d' ' -f1
        return
    fi
    local tmp
    tmp=$(mktemp -d)
    contract_stage_source "$BF_ROOT" "$tmp/src" && contract_source_digest "$tmp/src"
    local rc=$?
    rm -rf "$tmp"
    return $rc
}

# contract_manifest_get FIELD [MANIFEST]: one field of artifacts/manifest.json, by a
# dotted path (e.g. source.digest, wasm.sha256); empty when absent.
contract_manifest_get() {
    python3 - "$1" "${2:-$CONTRACT_ARTIFACTS/manifest.json}" <<'PY'
import json, sys
v = json.load(open(sys.argv[2]))
for k in sys.argv[1].split("."):
    v = v.get(k, "") if isinstance(v, dict) else ""
print(v)
PY
}

# ensure_contract_artifact [build-contract.sh args]: THE decision for every script
# that needs artifacts/marketplace.wasm, except scripts/test.sh (which always
# rebuilds and compares). Uses the committed artifacts when the contract source's
# digest equals the one in artifacts/manifest.json and the three files match the
# hashes recorded there: then neither cargo-contract nor Debian's rustc is needed.
# Otherwise it says why and runs scripts/build-contract.sh.
ensure_contract_artifact() {
    local manifest="$CONTRACT_ARTIFACTS/manifest.json" reason="" digest recorded f want have
    if [ ! -f "$manifest" ]; then
        reason="there is no artifacts/manifest.json"
    else
        local tmp changed
        tmp=$(mktemp -d)
        contract_stage_source "$BF_ROOT" "$tmp/src"
        digest=$(contract_source_digest "$tmp/src")
        recorded=$(contract_manifest_get source.digest "$manifest")
        if [ "$digest" != "$recorded" ]; then
            changed=$(contract_source_files "$tmp/src" | python3 -c '
import json, sys
old = {f["path"]: f["sha256"] for f in json.load(open(sys.argv[1]))["source"]["files"]}
new = dict(l.split("  ", 1)[::-1] for l in sys.stdin.read().splitlines())
print(" ".join(sorted(p for p in old.keys() | new.keys() if old.get(p) != new.get(p))))' "$manifest")
            reason="the contract source changed since artifacts/ was built (source digest $digest, artifacts/manifest.json records $recorded; changed: ${changed:-?})"
        else
            for f in wasm json contract; do
                want=$(contract_manifest_get "$f.sha256" "$manifest")
                have=$(sha256sum "$CONTRACT_ARTIFACTS/marketplace.$f" 2>/dev/null | cut -d' ' -f1)
                if [ "$have" != "$want" ]; then
                    reason="artifacts/marketplace.$f is missing or differs from the SHA-256 in artifacts/manifest.json"
                    break
                fi
            done
        fi
        rm -rf "$tmp"
    fi
    if [ -z "$reason" ]; then
        say "using the committed artifacts/marketplace.wasm (source digest matches artifacts/manifest.json; code hash 0x$(contract_manifest_get wasm.blake2_256 "$manifest"))"
        return 0
    fi
    say "building the contract: $reason"
    # Only now is the contract toolchain needed (cargo-contract: 15-30 min once).
    "$BF_ROOT/scripts/setup.sh" >/dev/null
    "$BF_ROOT/scripts/build-contract.sh" "$@"
}
