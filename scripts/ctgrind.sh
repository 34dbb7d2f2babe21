#!/usr/bin/env bash
# ctgrind: runs tools/ctgrind/ (a test tool, its own workspace) under valgrind's memcheck with the HMAC key marked
# undefined; any branch or memory index that depends on it is a report, and
# any report fails this script. (Checked to catch an early-exit comparison.)
set -euo pipefail
cd "$(dirname "$0")/../tools/ctgrind"
if ! command -v valgrind >/dev/null || [ ! -f /usr/include/valgrind/memcheck.h ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
fi
cargo build --release --quiet
valgrind --error-exitcode=1 --num-callers=20 ./target/release/webhook-signature-ctgrind
echo "ctgrind: no secret-dependent branch or index in key setup, hashing, comparison or signature encoding"
