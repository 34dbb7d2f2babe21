#!/usr/bin/env bash
# Runs webhook.test.ts (see README.md) in the consumer folder given as $1,
# where webhook-signature-wasm, typescript, @stablelib/utf8, @stablelib/base64
# and fast-sha256 are installed: once as CommonJS, once as an ES module.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$1"
restored=$(sed 's|^import { Webhook, WebhookVerificationError } from "webhook-signature-wasm";$|import { Webhook, WebhookVerificationError } from "./index";|' "$here/webhook.test.ts" | git hash-object --stdin)
if [ "$restored" != 0d6f4141e28bee1b412bdbb81642144e86373de9 ]; then
  echo "wasm/test/upstream/webhook.test.ts differs from upstream's file in more than its import" >&2
  exit 1
fi
cp "$here/jest-globals.cjs" .
node -e '
const ts = require("typescript");
const source = require("fs").readFileSync(process.argv[1], "utf8");
for (const [out, module] of [["upstream.test.cjs", ts.ModuleKind.CommonJS], ["upstream.test.mjs", ts.ModuleKind.ESNext]]) {
  const { outputText } = ts.transpileModule(source, { compilerOptions: { module, target: ts.ScriptTarget.ES2020, esModuleInterop: true } });
  require("fs").writeFileSync(out, outputText);
}' "$here/webhook.test.ts"
grep -q 'require("webhook-signature-wasm")' upstream.test.cjs
node --require ./jest-globals.cjs upstream.test.cjs
node --require ./jest-globals.cjs upstream.test.mjs
