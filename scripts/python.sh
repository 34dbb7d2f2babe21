#!/usr/bin/env bash
# The Python package as PyPI would get it: maturin builds the sdist; the wheel
# is built from the unpacked sdist alone (which proves the sdist builds),
# installed from that file into a fresh venv, and the sdist's own tests run
# against it, upstream standardwebhooks' test file among them. Then stubtest
# and mypy --strict (the package, its tests, examples and bench) and the
# wheel's metadata.
# Usage: scripts/python.sh [--bench]   (--bench: also python/bench.py)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=target/python
rm -rf "$work"
mkdir -p "$work"

echo "=== copies in python/ match their originals"
cmp LICENSE-MIT python/LICENSES/MIT.txt
cmp LICENSE-APACHE python/LICENSES/Apache-2.0.txt
cmp tests/fixtures/vectors.json python/tests/fixtures/vectors.json
for file in README.md demo-2048-a.pem demo-2048-b.pem jwks-a.json; do
  cmp "gemini/tests/fixtures/jwt/$file" "python/tests/fixtures/jwt/$file"
done
python3 python/notices.py --check
# Upstream's file (standard-webhooks b2fa7b8, libraries/python/tests/test_webhooks.py)
# with only the package name changed: undo that and compare with its SHA-256.
upstream=$(tail -n +7 python/tests/upstream/test_webhooks.py | sed 's/webhook_signature/standardwebhooks/g' | sha256sum)
[ "${upstream%% *}" = 4d88de10e933fa741a8bcdb72e3f8c2d85f6e24eeb91ba1aeb98abcb4db058c1 ] || {
  echo "python/tests/upstream/test_webhooks.py differs from upstream's beyond the package name" >&2
  exit 1
}

echo "=== sdist, then a wheel built from the unpacked sdist"
python3 -m venv "$work/build"
"$work/build/bin/pip" install --quiet --upgrade pip
"$work/build/bin/pip" install --quiet maturin==1.16.0
"$work/build/bin/maturin" sdist --manifest-path python/Cargo.toml --out "$work/dist"
tar -xzf "$work"/dist/webhook_signature-*.tar.gz -C "$work"
sdist=$(cd "$work"/webhook_signature-*/ && pwd)
# The workspace's target dir: dependencies compiled by the rest of CI are reused.
(cd "$sdist" && CARGO_TARGET_DIR="$root/target" "$root/$work/build/bin/maturin" build --release --out "$root/$work/dist")

echo "=== the wheel in a fresh venv, the sdist's tests against it"
venv=$work/venv
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet -r python/requirements-test.txt
"$venv/bin/pip" install --quiet --no-index --find-links "$work/dist" "webhook-signature[fastapi,flask,django]"
"$venv/bin/python" - <<'PY'
import webhook_signature
assert "site-packages" in webhook_signature.__file__, webhook_signature.__file__
PY
(cd "$sdist" && "$root/$venv/bin/python" -m pytest -q -p no:cacheprovider python/tests)
echo "=== upstream standardwebhooks' own tests (tests/upstream)"
(cd "$sdist" && "$root/$venv/bin/python" -m pytest -q -p no:cacheprovider python/tests/upstream)

echo "=== stubtest, mypy --strict: the package, the tests, the examples and the bench"
(cd python && "$root/$venv/bin/python" -m mypy.stubtest --mypy-config-file pyproject.toml \
  --allowlist stubtest-allowlist.txt webhook_signature)
(cd python/python && "$root/$venv/bin/python" -m mypy --strict --config-file ../pyproject.toml -p webhook_signature)
(cd python && "$root/$venv/bin/python" -m mypy --strict tests examples bench.py)

echo "=== the wheel's metadata (PEP 639) and contents"
"$venv/bin/python" - "$work"/dist/webhook_signature-*.whl <<'PY'
import sys
import zipfile
from email.parser import Parser

wheel = zipfile.ZipFile(sys.argv[1])
names = wheel.namelist()
metadata = Parser().parsestr(wheel.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode())
assert metadata["Metadata-Version"] >= "2.4", metadata["Metadata-Version"]
assert metadata["License-Expression"] == "MIT OR Apache-2.0", metadata["License-Expression"]
files = set(metadata.get_all("License-File"))
assert files == {"LICENSES/MIT.txt", "LICENSES/Apache-2.0.txt", "THIRD-PARTY-NOTICES.md"}, files
for name in files:
    assert any(n.endswith(".dist-info/licenses/" + name) for n in names), name
assert metadata.get_all("Project-URL") and metadata["Requires-Python"] == ">=3.10"
for name in ("py.typed", "_webhook_signature.pyi", "webhooks.py", "django.py"):
    assert f"webhook_signature/{name}" in names, name
assert not any("/tests/" in n for n in names), "tests do not belong in the wheel"
print(sys.argv[1].rsplit("/", 1)[-1], "ok:", metadata["Version"], metadata["License-Expression"])
PY

if [ "${1:-}" = --bench ]; then
  echo "=== bench"
  "$venv/bin/python" python/bench.py
fi
