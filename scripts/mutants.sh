#!/usr/bin/env bash
# Shows that each attack test of the verification game fails on the
# vulnerable code: for every mutant below, it stages the contract's source
# (contract_stage_source, as the reproducible build does) into a temporary
# directory, puts the old, vulnerable line back, and runs the attack's test
# there. A mutant the test does not kill fails this script. The checkout is
# never modified.
#
# Usage: scripts/mutants.sh   (about 8 min for the 19 contract mutants on 2 shared cores, warm,
#        then a few minutes for the owner's; scripts/test.sh runs it)
#
# Each mutant, fields separated by '#': a name, the file (in the staged
# tree), the current code, the vulnerable code, and the test that must fail.

set -euo pipefail
source "$(dirname "$0")/lib.sh"

MUTANTS=(
    "two of four votes win#contracts/marketplace/lib.rs#votes.saturating_mul(2) > results.len()#votes.saturating_mul(2) >= results.len()#dispute_escalates_until_a_strict_majority"
    "the admin's live windows reach a running job#contracts/marketplace/lib.rs#job.deadline = later(now, job.terms.release_window)?;#job.deadline = later(now, self.params.release_window)?;#set_params_never_changes_a_running_job"
    "a zero claim stake is accepted#crates/blindfold-protocol/src/types.rs#if self.claim_stake == 0#if false && self.claim_stake == 0#set_params_owner_only_within_bounds"
    "the owner front-runs a request with a new price#contracts/marketplace/lib.rs#if dataset.price != expected.price {#if false && dataset.price != expected.price {#request_refuses_a_dataset_changed_under_it"
    "a cancelled reservation of epsilon costs nothing#contracts/marketplace/lib.rs#let owner_paid = reservation_fee(job.epsilon, job.price);#let owner_paid = 0;#failed_reservations_of_epsilon_cost_the_griefer"
    "a failed reservation of epsilon costs nothing#contracts/marketplace/lib.rs#RefundReason::NoResult => reservation_fee(job.epsilon, job.price),#RefundReason::NoResult => 0,#failed_reservations_of_epsilon_cost_the_griefer"
    "the owner's own undecided rejection earns it the reservation fee#contracts/marketplace/lib.rs#RefundReason::NoMajority if !owner_rejected => {#RefundReason::NoMajority if true || !owner_rejected => {#failed_reservations_of_epsilon_cost_the_griefer"
    "an instant code swap#contracts/marketplace/lib.rs#if self.env().block_timestamp() < upgrade.enact_after {#if false && self.env().block_timestamp() < upgrade.enact_after {#upgrades_are_announced_then_enacted_after_the_delay"
    "slashed stakes stay out of the job's escrow#contracts/marketplace/lib.rs#job.slashed = plus(job.slashed, amount)?;#job.slashed = job.slashed;#dispute_tiebreak_slashes_the_dissenter"
    "first come, first served#contracts/marketplace/lib.rs#let winners = draw::draw_with::<ChainSha256>(&seed, &weights, job.free_slots());#let winners: Vec<usize> = (0..job.free_slots().min(weights.len())).collect();#racing_wins_no_slot"
    "the offer weight ignores stake#contracts/marketplace/lib.rs#let weights: Vec<Balance> = job.offers.iter().map(|o| o.weight).collect();#let weights: Vec<Balance> = job.offers.iter().map(|_| 1).collect();#slots_follow_stake_not_accounts"
    "a withheld secret costs nothing#contracts/marketplace/lib.rs#self.unlock(job_id, job, offer.worker, Some(SlashReason::Missed))?;#self.unlock(job_id, job, offer.worker, None)?;#withheld_secret_is_slashed"
    "a lazy challenger reveals the result under challenge#contracts/marketplace/lib.rs#if claim.kind == ClaimKind::Challenger && challenged == Some(result_blob_hash) {#if false && claim.kind == ClaimKind::Challenger && challenged == Some(result_blob_hash) {#a_lazy_challenger_loses_its_bond"
    "a rejection lets lazy seals reveal the challenged result#contracts/marketplace/lib.rs#let challenged = job.challenged;#let challenged = under_challenge(&job);#a_rejection_keeps_lazy_seals_from_voting"
    "junk challengers' bonds pay the challenged replicas#contracts/marketplace/lib.rs#job.slashed = slashed_before;#let _ = slashed_before;#junk_challenges_pay_the_researcher_not_the_replicas"
    "the parties vote on their own dispute#contracts/marketplace/lib.rs#if job.jury_from > 0 {#if false && job.jury_from > 0 {#colluding_replicas_cannot_outvote_the_jury"
    "replication 2 skips the challenge window#contracts/marketplace/lib.rs#if !agreed {#if job.replication > 1 && agreed { return self.agree(job_id, job, first, now); } if !agreed {#replication_two_gets_a_challenge_window"
    "a shard's commitment does not bind its range#contracts/marketplace/lib.rs#shard.input_digest = hash::shard_input_digest_with::<ChainSha256>(#shard.input_digest = job.input_digest; let _ = hash::shard_input_digest_with::<ChainSha256>(#request_splits_the_submissions_and_the_escrow_into_shards"
    "a failed shard leaves its job's price locked#contracts/marketplace/lib.rs#if parent.status == JobStatus::Sharded {#if false && parent.status == JobStatus::Sharded {#a_shard_without_a_result_refunds_its_job_and_the_agreed_shards_still_pay"
)

# put_back FILE CURRENT VULNERABLE: replaces the one occurrence of CURRENT in
# FILE (a staged copy) by VULNERABLE; fails unless CURRENT occurs exactly once.
put_back() {
    python3 - "$1" "$2" "$3" <<'PY'
import sys
path, current, vulnerable = sys.argv[1:4]
text = open(path).read()
if text.count(current) != 1:
    sys.exit(f"mutants.sh: '{current}' is not in {path} exactly once: update the mutant")
open(path, "w").write(text.replace(current, vulnerable))
PY
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# apart MANIFEST FILE: gives the package that owns FILE (a staged copy) its own
# artifact names, by a release-profile setting for it in MANIFEST (the staged
# build's root manifest). A staged copy builds into the host's target dir, and
# cargo names a path package's artifacts by its path relative to its workspace
# root: without this, a mutant's build has the same names as every checkout's
# own build, and a checkout whose source is older than the mutant's dep-info
# (another clone sharing ~/.cache/blindfold/target, or a cache carried to a
# new machine) takes the mutant as fresh and links it. It happened: a
# checkout's key-probe tests failed because its owner verified nothing, as a
# `blindfold` binary built there would have. A package's profile goes into the
# metadata hash of the package and of everything that depends on it, so those
# get names of their own and nothing else is rebuilt. (Touching the mutated
# file afterwards, as this script did before, protected only its own checkout.)
apart() {
    python3 - "$1" "$2" <<'PY'
import os, sys, tomllib
manifest, file = sys.argv[1:3]
d = os.path.dirname(file)
while not os.path.exists(os.path.join(d, "Cargo.toml")):
    d = os.path.dirname(d)
package = tomllib.load(open(os.path.join(d, "Cargo.toml"), "rb"))["package"]["name"]
release = tomllib.load(open(manifest, "rb")).get("profile", {}).get("release", {})
if package in release.get("package", {}) or release.get("codegen-units") == 13:
    sys.exit(f"mutants.sh: {manifest} already sets what apart() would: pick another setting")
with open(manifest, "a") as f:
    f.write(f'\n# mutants.sh: artifacts of their own for the mutant\n'
            f'[profile.release.package.{package}]\ncodegen-units = 13\n')
PY
}

# The host target dir: the contract's dependencies are already built there.
target="$CARGO_TARGET_DIR"
survived=0
for m in "${MUTANTS[@]}"; do
    IFS='#' read -r name file current vulnerable test <<<"$m"
    src="$work/src"
    rm -rf "$src"
    contract_stage_source "$BF_ROOT" "$src"
    put_back "$src/$file" "$current" "$vulnerable"
    apart "$src/contracts/marketplace/Cargo.toml" "$src/$file"
    say "mutant: $name (expecting $test to fail)"
    if CARGO_TARGET_DIR="$target" cargo test -q --release \
        --manifest-path "$src/contracts/marketplace/Cargo.toml" "$test" >"$work/log" 2>&1; then
        say "SURVIVED: $name: $test passed on the vulnerable code"
        survived=$((survived + 1))
    elif grep -q "test result: FAILED" "$work/log"; then
        say "killed: $name"
    else
        tail -20 "$work/log" >&2
        die "mutant '$name' did not build: update it"
    fi
done
[ "$survived" -eq 0 ] || die "$survived mutant(s) survived"
say "every contract mutant killed: each attack test fails on the vulnerable code"

# The owner's side: verify-before-decrypt. Each mutant puts back, in a staged
# copy of the whole workspace (every file git tracks, as it is in the working
# tree), the code that decrypted what the workers agreed on without
# recomputing it, and runs the end-to-end key-probe attack on the embedded
# chain, which must then fail. The staged workspace recompiles the crates
# that depend on the mutated one (a few minutes); everything else comes from
# the host target dir, which scripts/test.sh has built by the time it runs this.
OWNER_MUTANTS=(
    "the owner decrypts what the workers agreed on without recomputing it#crates/blindfold-job/src/verify.rs#        if let VerifyPolicy::Sample(fraction) = policy {#        if let Ok(theirs) = self.agreed_bundle(store, &agreed).await? { return Ok(Verification::Verified(Verified { bundle: theirs, units: members, result_hash: agreed, recomputed: 0, pbs: 0, seconds: 0.0 })); } if let VerifyPolicy::Sample(fraction) = policy {#embedded_key_probe_alone embedded_key_probe_colluding"
)
src="$work/workspace"
for m in "${OWNER_MUTANTS[@]}"; do
    IFS='#' read -r name file current vulnerable tests <<<"$m"
    rm -rf "$src"
    mkdir -p "$src"
    # -p keeps the mtimes, so a second mutant rebuilds only what it touches.
    (cd "$BF_ROOT" && git ls-files -z | while IFS= read -r -d '' f; do
        [ -e "$f" ] && printf '%s\0' "$f"
    done | xargs -0 cp -p --parents -t "$src")
    put_back "$src/$file" "$current" "$vulnerable"
    apart "$src/Cargo.toml" "$src/$file"
    say "owner mutant: $name (expecting each of $tests to fail)"
    # shellcheck disable=SC2086 # several test names, one filter each
    # --workspace, not -p blindfold-e2e: the workspace's feature set, so every
    # dependency comes from the host's own test build (-p alone unified
    # features differently and rebuilt tfhe: 22 min 50 s on a cold run).
    if (cd "$src" && CARGO_TARGET_DIR="$target" cargo test -q --release --workspace \
        --test marketplace -- $tests >"$work/log" 2>&1); then
        say "SURVIVED: $name: $tests passed on the vulnerable code"
        survived=$((survived + 1))
    elif grep -q "test result: FAILED" "$work/log"; then
        passed=0
        for t in $tests; do
            if ! grep -qE "^    $t\$" "$work/log"; then
                say "SURVIVED: $name: $t passed on the vulnerable code"
                passed=$((passed + 1))
            fi
        done
        if [ "$passed" -eq 0 ]; then
            say "killed: $name"
        fi
        survived=$((survived + passed))
    else
        tail -20 "$work/log" >&2
        die "owner mutant '$name' did not build: update it"
    fi
done
[ "$survived" -eq 0 ] || die "$survived mutant(s) survived"
say "every mutant killed: each attack test fails on the vulnerable code"
