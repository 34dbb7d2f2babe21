#!/usr/bin/env bash
# Mutation testing of the core crate's src/ with cargo-mutants (installed if
# missing): every mutant the tests miss is a behaviour no test pins down.
# About 40 minutes here, so CI does not run it. Extra arguments go to
# cargo-mutants, e.g. `scripts/mutants.sh --file src/compare.rs`.
#
# Score = caught / (caught + missed), timeouts counted as caught.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cargo mutants --version >/dev/null 2>&1; then
  echo "installing cargo-mutants (a few minutes)"
  cargo install cargo-mutants --locked
fi
cargo mutants --package webhook-signature --all-features --timeout 120 --output target/mutants "$@" || true
outcomes=target/mutants/mutants.out/outcomes.json
python3 - "$outcomes" <<'PY'
import json, sys
outcomes = json.load(open(sys.argv[1]))
counts = {}
for o in outcomes["outcomes"]:
    summary = o["summary"]
    counts[summary] = counts.get(summary, 0) + 1
caught = counts.get("CaughtMutant", 0) + counts.get("Timeout", 0)
missed = counts.get("MissedMutant", 0)
print(f"caught {counts.get('CaughtMutant', 0)}, timeouts {counts.get('Timeout', 0)}, missed {missed}, unviable {counts.get('Unviable', 0)}")
if caught + missed:
    print(f"score: {caught}/{caught + missed} = {100 * caught / (caught + missed):.1f}%")
PY
echo "missed mutants: target/mutants/mutants.out/missed.txt"
