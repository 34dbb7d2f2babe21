#!/usr/bin/env bash
# The receiver README's "In front of your application", run as typed: the
# FastAPI example (receiver/examples/fastapi_app.py) under uvicorn verifies a
# delivery the built receiver forwards, and refuses one not signed with its
# secret. Everything on 127.0.0.1, each wait bounded to 30 s. Uses the venv
# scripts/python.sh makes (target/python/venv: the wheel built from this clone), adding
# uvicorn to it; run scripts/python.sh first. The inbox is a SQLite file in a
# scratch folder, whatever DATABASE_URL the caller exported (CI exports one).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/python/venv
if [ ! -x "$venv/bin/python" ]; then
  echo "no $venv: run scripts/python.sh first" >&2
  exit 1
fi
echo "=== the README's FastAPI snippet is receiver/examples/fastapi_app.py"
diff <(sed -n '/^import os/,/^    return Response(status_code=204)/p' receiver/README.md) \
  <(sed -n '/^import os/,$p' receiver/examples/fastapi_app.py)
"$venv/bin/python" -m mypy --strict receiver/examples/fastapi_app.py
"$venv/bin/pip" install --quiet "uvicorn==0.38.0"
cargo build --quiet -p gemini-receiver -p webhook-signature-cli
cli=target/debug/webhook-signature
gemini_secret=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
dir=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT
free_port() { "$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# Says why, with the receiver's and the application's logs, and stops.
fail() {
  echo "$1" >&2
  for log in "$dir"/*.log; do printf '\n--- %s\n' "$(basename "$log")" >&2; cat "$log" >&2; done
  exit 1
}
# Waits up to 30 s for `$1` to succeed.
within_30s() {
  for _ in $(seq 300); do
    if eval "$1"; then return 0; fi
    sleep 0.1
  done
  fail "not within 30 s: $1"
}
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

forward_secret=$("$cli" keygen | sed -n 1p)
app_port=$(free_port)
port=$(free_port)
FORWARD_SECRET=$forward_secret "$venv/bin/uvicorn" --app-dir receiver/examples fastapi_app:app \
  --host 127.0.0.1 --port "$app_port" >"$dir/app.log" 2>&1 &
pids+=($!)
env -u DATABASE_URL -u DATABASE_URL_FILE GEMINI_WEBHOOK_SECRET=$gemini_secret HOST=127.0.0.1 PORT=$port GEMINI_RECEIVER_DB="$dir/inbox.sqlite3" \
  GEMINI_RECEIVER_FORWARD_URL="http://127.0.0.1:$app_port/gemini" \
  GEMINI_RECEIVER_FORWARD_SECRET=$forward_secret target/debug/gemini-receiver 2>"$dir/receiver.log" &
pids+=($!)
within_30s "listening $app_port && listening $port"

echo "=== a delivery sent to the receiver reaches the application, verified"
"$cli" send "http://127.0.0.1:$port/webhooks/gemini" --secret "$gemini_secret" \
  >"$dir/send.log" 2>"$dir/send-headers.log" || fail "the receiver did not accept the delivery"
id=$(sed -n 's/^webhook-id: //p' "$dir/send-headers.log")
[ -n "$id" ] || fail "send printed no webhook-id"
within_30s "grep -q 'received $id video.generated' '$dir/app.log'"
within_30s "'$cli' inbox show '$id' --db '$dir/inbox.sqlite3' | grep '\"state\": \"processed\"' >/dev/null"

echo "=== the application refuses a delivery not signed with its secret"
if status=$("$cli" send "http://127.0.0.1:$app_port/gemini" --secret "$gemini_secret" 2>/dev/null); then
  echo "the application accepted a delivery under Gemini's secret" >&2
  exit 1
fi
[ "$status" = 401 ]
echo "receiver-python: ok ($id forwarded and verified)"
