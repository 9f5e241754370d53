#!/usr/bin/env bash
# Shows that each attack test of the verification game fails on the
# vulnerable code: for every mutant below, it stages the contract's source
# (contract_stage_source, as the reproducible build does) into a temporary
# directory, puts the old, vulnerable line back, and runs the attack's test
# there. A mutant the test does not kill fails this script. The checkout is
# never modified.
#
# Usage: scripts/mutants.sh   (75 s for all of them on 2 cores, warm; scripts/test.sh runs it)
#
# Each mutant, fields separated by '#': a name, the file (in the staged
# tree), the current code, the vulnerable code, and the test that must fail.

set -euo pipefail
source "$(dirname "$0")/lib.sh"

MUTANTS=(
    "two of four votes win#contracts/marketplace/lib.rs#votes.saturating_mul(2) > results.len()#votes.saturating_mul(2) >= results.len()#dispute_escalates_until_a_strict_majority"
    "the admin's live windows reach a running job#contracts/marketplace/lib.rs#job.deadline = later(now, job.terms.reveal_window)?;#job.deadline = later(now, self.params.reveal_window)?;#set_params_never_changes_a_running_job"
    "a zero claim stake is accepted#crates/blindfold-protocol/src/types.rs#if self.claim_stake == 0#if false && self.claim_stake == 0#set_params_owner_only_within_bounds"
    "the owner front-runs a request with a new price#contracts/marketplace/lib.rs#if dataset.price != expected.price {#if false && dataset.price != expected.price {#request_refuses_a_dataset_changed_under_it"
    "a cancelled reservation of epsilon costs nothing#contracts/marketplace/lib.rs#let owner_paid = reservation_fee(job.epsilon, job.price);#let owner_paid = 0;#failed_reservations_of_epsilon_cost_the_griefer"
    "a failed reservation of epsilon costs nothing#contracts/marketplace/lib.rs#RefundReason::NoResult | RefundReason::NoMajority => {#RefundReason::NoResult | RefundReason::NoMajority => { 0 } _ if false => {#failed_reservations_of_epsilon_cost_the_griefer"
    "an instant code swap#contracts/marketplace/lib.rs#if self.env().block_timestamp() < upgrade.enact_after {#if false && self.env().block_timestamp() < upgrade.enact_after {#upgrades_are_announced_then_enacted_after_the_delay"
    "slashed stakes stay out of the job's escrow#contracts/marketplace/lib.rs#job.slashed = plus(job.slashed, amount)?;#job.slashed = job.slashed;#dispute_tiebreak_slashes_the_dissenter"
)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The host target dir: the contract's dependencies are already built there.
target="$CARGO_TARGET_DIR"
survived=0
for m in "${MUTANTS[@]}"; do
    IFS='#' read -r name file current vulnerable test <<<"$m"
    src="$work/src"
    rm -rf "$src"
    contract_stage_source "$BF_ROOT" "$src"
    python3 - "$src/$file" "$current" "$vulnerable" <<'PY'
import sys
path, current, vulnerable = sys.argv[1:4]
text = open(path).read()
if text.count(current) != 1:
    sys.exit(f"mutants.sh: '{current}' is not in {path} exactly once: update the mutant")
open(path, "w").write(text.replace(current, vulnerable))
PY
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
say "every mutant killed: each attack test fails on the vulnerable code"
