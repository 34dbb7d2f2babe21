#!/usr/bin/env bash
# Runs the criterion suites (ours, the floors, the peers, v1a) in one go and
# prints a markdown table of medians and ratios.
# Usage: benches/report.sh [--quick|--full]   (quick: under 3 minutes here)
set -euo pipefail
cd "$(dirname "$0")/.."
flags=(--noplot)
case "${1:---quick}" in
  --quick) flags+=(--warm-up-time 0.5 --measurement-time 1 --sample-size 20) ;;
  --full) ;;
  *) echo "usage: $0 [--quick|--full]" >&2; exit 2 ;;
esac
rm -rf target/criterion
cargo bench --bench verify -- "${flags[@]}" >&2
cargo bench -p webhook-signature-peers -- "${flags[@]}" >&2
cargo bench --features ed25519 --bench v1a -- "${flags[@]}" >&2
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores," \
  "SHA-NI: $(grep -q sha_ni /proc/cpuinfo && echo yes || echo no); rustc $(rustc --version | cut -d' ' -f2)"
echo "command: benches/report.sh ${1:---quick}"
echo
python3 benches/report.py target/criterion
