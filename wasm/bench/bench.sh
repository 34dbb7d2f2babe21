#!/usr/bin/env bash
# Per-call verify time in Node for a 512-byte body: the wasm module against
# the npm `standardwebhooks` package, in the same process. Not run by CI.
# Usage: wasm/bench/bench.sh   (builds the module with scripts/cross-check.sh first)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/../.."
module=${MODULE:-target/wasm32-unknown-unknown/wasm/webhook_signature_wasm.wasm}
[ -f "$module" ] || bash scripts/cross-check.sh
# The peer is installed in this folder only, never in the crate.
[ -d "$here/node_modules/standardwebhooks" ] || (cd "$here" && npm install --no-save --silent standardwebhooks@1)
node "$here/bench.mjs" "$module"
