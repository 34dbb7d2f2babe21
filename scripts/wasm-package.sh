#!/usr/bin/env bash
# Packs wasm/ as the npm package `webhook-signature-wasm`, installs the
# tarball in another folder, and tests it there in three runtimes: Node's test
# runner, Deno's, and workerd (Cloudflare's runtime) serving a Worker on
# 127.0.0.1. Runtimes come from the npm registry (workerd, deno); if one
# cannot be installed, this fails. Nothing is published.
#
# Usage: scripts/wasm-package.sh [--bench]   (--bench: also wasm/bench/bench.mjs)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f wasm/webhook_signature_wasm.wasm ] || bash scripts/cross-check.sh
cp LICENSE-MIT LICENSE-APACHE wasm/

out=target/npm
rm -rf "$out"
mkdir -p "$out/consumer"
tarball=$(cd wasm && npm pack --silent --pack-destination "../$out" | tail -1)
echo "packed $out/$tarball ($(stat -c %s "$out/$tarball") bytes)"
consumer="$PWD/$out/consumer"

echo "=== the README's examples are the files the tests run"
for example in wasm/examples/worker.mjs wasm/examples/node.mjs; do
  python3 - "$example" <<'PY'
import sys
example = open(sys.argv[1]).read()
if example not in open("wasm/README.md").read():
    sys.exit(f"wasm/README.md does not contain {sys.argv[1]} verbatim")
PY
done

cp wasm/test/checks.mjs wasm/test/package.test.mjs wasm/test/deno.test.mjs tests/fixtures/vectors.json "$consumer/"
cp wasm/test/types.ts wasm/test/tsconfig.json "$consumer/"
cp wasm/examples/node.mjs "$consumer/node-example.mjs"
cp -r wasm/test/workerd "$consumer/"
cp wasm/examples/worker.mjs "$consumer/workerd/readme-worker.mjs"
(
  cd "$consumer"
  npm init -y >/dev/null
  npm install --no-audit --no-fund --silent "../$tarball" workerd@1.20261117.1 deno@2.9.6 standardwebhooks@1.1.1 \
    typescript@5.9.3
)
workerd="$consumer/node_modules/.bin/workerd"
deno="$consumer/node_modules/.bin/deno"
"$workerd" --version >/dev/null
"$deno" --version >/dev/null

echo "=== TypeScript: a usage file against webhook-signature.d.ts under tsc --noEmit --strict"
(cd "$consumer" && node_modules/.bin/tsc -p tsconfig.json)

echo "=== Node.js $(node --version): the installed package under node --test"
(cd "$consumer" && node --test package.test.mjs)

echo "=== Deno $("$deno" --version | head -1 | cut -d' ' -f2): the same checks under deno test (type-checked)"
(cd "$consumer" && NO_COLOR=1 DENO_NO_UPDATE_CHECK=1 "$deno" test --quiet --allow-read --allow-net=127.0.0.1 deno.test.mjs)

echo "=== workerd $("$workerd" --version | cut -d' ' -f2): a Worker on 127.0.0.1 with both APIs"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
workerd_log="$consumer/workerd.log"
(cd "$consumer/workerd" && exec "../node_modules/.bin/workerd" serve config.capnp --verbose --socket-addr "http=127.0.0.1:$port") \
  >"$workerd_log" 2>&1 &
workerd_pid=$!
trap 'kill $workerd_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done
node "$consumer/workerd/drive.mjs" "$port" || { cat "$workerd_log"; exit 1; }
# The README's Worker answers a bare 401 and logs the code: the log has them.
for code in NoMatchingSignature TimestampTooOld MissingHeader; do
  grep -q "webhook rejected: $code" "$workerd_log" || { echo "workerd log lacks $code:"; cat "$workerd_log"; exit 1; }
done
echo "workerd log: the README Worker logged NoMatchingSignature, TimestampTooOld and MissingHeader"

if [ "${1:-}" = --bench ]; then
  echo "=== bench: keyed verify against standardwebhooks, WebCrypto and node:crypto"
  cp wasm/bench/bench.mjs "$consumer/"
  (cd "$consumer" && node bench.mjs)
fi
