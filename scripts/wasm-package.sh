#!/usr/bin/env bash
# Packs wasm/ as the npm package `webhook-signature-wasm` with a plain
# `npm pack` (its prepack, wasm/build.mjs, makes dist/ and copies the
# licenses), checks it as a publisher would (publint --strict, "are the
# types wrong", npm publish --dry-run), installs the tarball in another folder
# and tests it there: npm standardwebhooks' own test file with only its import
# changed, Node's test runner (ESM and require), Deno's, Bun, bundles made by
# esbuild (ESM and CommonJS, --platform=node, no loader flags) and Vite, run
# from yet another folder, workerd (Cloudflare's runtime) serving a Worker
# bundled as Wrangler bundles one, and a Next.js app whose edge route handler
# (the `edge-light` entry) is built by Turbopack and by webpack and served by
# `next start`, each on 127.0.0.1. Everything comes from the npm registry; if
# something cannot be installed, this fails. Nothing is published.
#
# Usage: scripts/wasm-package.sh [--bench]   (--bench: also wasm/bench/bench.mjs)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f wasm/webhook_signature_wasm.wasm ] || bash scripts/cross-check.sh

out=target/npm
rm -rf "$out"
mkdir -p "$out/consumer" "$out/elsewhere"
tarball=$(cd wasm && npm pack --silent --pack-destination "../$out" | tail -1)
echo "packed $out/$tarball ($(stat -c %s "$out/$tarball") bytes)"
consumer="$PWD/$out/consumer"

echo "=== the tarball ships the licenses and the built entries"
listing=$(tar -tzf "$out/$tarball")
for file in LICENSE-MIT LICENSE-APACHE README.md dist/index.mjs dist/index.cjs dist/workerd.mjs dist/edge-light.mjs \
  dist/index.d.ts dist/index.d.cts dist/webhook_signature_wasm.wasm; do
  grep -qx "package/$file" <<<"$listing" || { echo "the tarball lacks $file"; exit 1; }
done

echo "=== the README's examples are the files the tests run"
for example in wasm/examples/worker.mjs wasm/examples/node.mjs; do
  python3 - "$example" <<'PY'
import sys
example = open(sys.argv[1]).read()
if example not in open("wasm/README.md").read():
    sys.exit(f"wasm/README.md does not contain {sys.argv[1]} verbatim")
PY
done

cp wasm/test/checks.mjs wasm/test/package.test.mjs wasm/test/deno.test.mjs wasm/test/gemini.test.mjs wasm/test/middleware.test.mjs tests/fixtures/vectors.json "$consumer/"
cp -r gemini/tests/fixtures/jwt wasm/test/fixtures "$consumer/"
cp wasm/test/types.ts wasm/test/tsconfig.json wasm/test/bundle/* "$consumer/"
cp wasm/examples/node.mjs "$consumer/node-example.mjs"
cp -r wasm/test/workerd "$consumer/"
cp wasm/examples/worker.mjs "$consumer/workerd/readme-worker.mjs"
(
  cd "$consumer"
  npm init -y >/dev/null
  npm install --no-audit --no-fund --silent "../$tarball" workerd@1.20261117.1 deno@2.9.6 bun@1.4.4 standardwebhooks@1.1.1 \
    typescript@5.9.3 esbuild@0.28.2 vite@8.4.0 publint@0.3.25 @arethetypeswrong/cli@0.18.5 \
    @stablelib/utf8@2.1.0 @stablelib/base64@2.0.1 fast-sha256@1.3.0 @types/node@26.6.6 \
    express@5.3.0 express4@npm:express@4.21.2 hono@4.13.19
)
bin="$consumer/node_modules/.bin"
workerd="$bin/workerd"
deno="$bin/deno"
"$workerd" --version >/dev/null
"$deno" --version >/dev/null

echo "=== publishing, prepared: publint --strict, attw, npm publish --dry-run"
"$bin/publint" --strict "$consumer/node_modules/webhook-signature-wasm"
"$bin/attw" "$PWD/$out/$tarball" --format table-flipped --exclude-entrypoints ./webhook_signature_wasm.wasm
(cd wasm && npm publish --dry-run 2>&1 | grep -E "^npm notice (name|version|total files|package size)")

echo "=== npm standardwebhooks' own tests (wasm/test/upstream), only the import changed"
bash wasm/test/upstream/run.sh "$consumer"

echo "=== TypeScript: a usage file against dist/index.d.ts under tsc --noEmit --strict"
(cd "$consumer" && node_modules/.bin/tsc -p tsconfig.json)

echo "=== Node.js $(node --version): the installed package under node --test"
(cd "$consumer" && node --test package.test.mjs)

echo "=== GeminiReceiver: the Rust crate's cases (gemini/tests/dynamic.rs, replay.rs, authorization.rs), its replay keys, a JWKS server on 127.0.0.1"
(cd "$consumer" && node --test gemini.test.mjs)

echo "=== middleware: Express on 127.0.0.1, Hono and the Fetch wrapper in-process"
(cd "$consumer" && node --test middleware.test.mjs)

echo "=== Deno $("$deno" --version | head -1 | cut -d' ' -f2): the same checks and the GeminiReceiver cases under deno test (type-checked)"
(cd "$consumer" && NO_COLOR=1 DENO_NO_UPDATE_CHECK=1 "$deno" test --quiet --allow-read --allow-net=127.0.0.1 deno.test.mjs gemini.test.mjs)

echo "=== Bun $("$bin/bun" --version): the package imported and required"
(cd "$consumer" && "$bin/bun" entry.mjs && "$bin/bun" entry.cjs)

echo "=== bundles: esbuild (ESM, CommonJS, require) for Node with no loader flags, and Vite, run from another folder"
(
  cd "$consumer"
  "$bin/esbuild" entry.mjs --bundle --platform=node --format=esm --outfile=out/esbuild.mjs --log-level=warning
  "$bin/esbuild" entry.mjs --bundle --platform=node --format=cjs --outfile=out/esbuild.cjs --log-level=warning
  "$bin/esbuild" entry.cjs --bundle --platform=node --format=cjs --outfile=out/esbuild-require.cjs --log-level=warning
  "$bin/vite" build --config vite.config.mjs >/dev/null
  cp out/* ../elsewhere/
)
for bundle in esbuild.mjs esbuild.cjs esbuild-require.cjs vite.mjs; do
  said=$(cd "$out/elsewhere" && node "$bundle")
  echo "$bundle: $said"
  [ "$said" = "bundle: matched 0, tampered NoMatchingSignature, signed true" ] || { echo "$bundle did not verify"; exit 1; }
done

echo "=== workerd $("$workerd" --version | cut -d' ' -f2): a Worker bundled by esbuild with the workerd condition, on 127.0.0.1"
(cd "$consumer" && "$bin/esbuild" workerd/worker.mjs --bundle --format=esm --platform=neutral --conditions=workerd,worker,browser \
  --main-fields=module,main --external:'*.wasm' --outfile=workerd/bundle.mjs --log-level=warning)
grep -q 'from "./webhook_signature_wasm.wasm"' "$consumer/workerd/bundle.mjs" || { echo "the Worker bundle does not import the .wasm module"; exit 1; }
! grep -q BASE64 "$consumer/workerd/bundle.mjs" || { echo "the Worker bundle holds the inlined module"; exit 1; }
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
workerd_log="$consumer/workerd.log"
(cd "$consumer/workerd" && exec "../node_modules/.bin/workerd" serve config.capnp --verbose --socket-addr "http=127.0.0.1:$port") \
  >"$workerd_log" 2>&1 &
workerd_pid=$!
# Servers this script started; each is stopped on exit (a negative id: its process group).
servers=("$workerd_pid")
trap 'for server in "${servers[@]}"; do kill -- "$server" 2>/dev/null || true; done' EXIT
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

echo "=== Next.js: an edge route handler (the edge-light entry), built by Turbopack and by webpack, served by next start on 127.0.0.1"
next_app="$PWD/$out/next"
cp -r wasm/test/next "$next_app"
echo '{ "name": "next-edge", "private": true }' >"$next_app/package.json"
(cd "$next_app" && npm install --no-audit --no-fund --silent "../$tarball" next@16.5.0 react@19.3.1 react-dom@19.3.1)
export NEXT_TELEMETRY_DISABLED=1
for bundler in turbopack webpack; do
  flag=$([ "$bundler" = webpack ] && echo --webpack || true)
  rm -rf "$next_app/.next"
  (cd "$next_app" && timeout 300 node_modules/.bin/next build $flag >build.log 2>&1) || { cat "$next_app/build.log"; exit 1; }
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  # `next start` forks its server: its own process group, so the group is stopped.
  (cd "$next_app" && exec setsid node_modules/.bin/next start -H 127.0.0.1 -p "$port") >"$next_app/start.log" 2>&1 &
  next_pid=$!
  servers+=("-$next_pid")
  for _ in $(seq 1 600); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    kill -0 "$next_pid" 2>/dev/null || { cat "$next_app/start.log"; exit 1; }
    sleep 0.1
  done
  (cd "$next_app" && node drive.mjs "$bundler" "$port") || { cat "$next_app/start.log"; exit 1; }
  kill -- "-$next_pid"
  wait "$next_pid" 2>/dev/null || true
done

if [ "${1:-}" = --bench ]; then
  echo "=== bench: keyed verify against standardwebhooks, WebCrypto and node:crypto"
  cp wasm/bench/bench.mjs "$consumer/"
  (cd "$consumer" && node bench.mjs)
fi
