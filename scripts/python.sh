#!/usr/bin/env bash
# The Python package: a fresh venv, `pip install "./python[fastapi,flask]"` (maturin
# builds the extension from this clone), then pytest and mypy --strict.
# Usage: scripts/python.sh [--bench]   (--bench: also python/bench.py)
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/python-venv
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet "./python[fastapi,flask]" -r python/requirements-test.txt
echo "=== pytest"
(cd python && "../$venv/bin/python" -m pytest -q -p no:cacheprovider)
echo "=== mypy --strict: the tests, the examples and the bench"
(cd python && "../$venv/bin/python" -m mypy --strict tests examples bench.py)
if [ "${1:-}" = --bench ]; then
  echo "=== bench"
  "$venv/bin/python" python/bench.py
fi
