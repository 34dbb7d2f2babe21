#!/usr/bin/env bash
# Proves the core is no_std (a bare-metal build with neither std nor alloc),
# builds the wasm32 module, and tests it in Node.js.
#
# Route 1, a user's usual one: `rustup target add` (tried with a timeout).
# Route 2, when the Rust distribution server is unreachable: Debian's
# rustc-web / cargo-web / rust-web-src (1.96) with -Zbuild-std, which needs
# only Debian's packages and crates.io. CROSS_ROUTE=debian forces route 2.
set -euo pipefail
cd "$(dirname "$0")/.."
BARE=thumbv7em-none-eabi
WASM=wasm32-unknown-unknown
MODULE_NAME=webhook_signature_wasm.wasm

route=${CROSS_ROUTE:-}
if [ -z "$route" ]; then
  if timeout 120 rustup target add "$BARE" "$WASM" >/dev/null 2>&1; then route=rustup; else route=debian; fi
fi
echo "route: $route"

if [ "$route" = rustup ]; then
  target_dir=target
  build() { cargo build "$@"; }
else
  packages=(rustc-web cargo-web rust-web-src rust-web-llvm lld-22)
  if ! dpkg -s "${packages[@]}" >/dev/null 2>&1; then
    echo "installing Debian's rust-web toolchain (about a minute)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
  fi
  # Debian's binaries by absolute path: the rustup proxies on PATH have no rust-src.
  target_dir=target/debian-cross
  build() {
    RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$target_dir" \
      /usr/bin/cargo build -Zbuild-std=core "$@"
  }
fi

echo "=== a. the core on $BARE: no std, no alloc (also with ed25519)"
build -p webhook-signature --no-default-features --target "$BARE"
build -p webhook-signature --no-default-features --features ed25519 --target "$BARE"

echo "=== b. the wasm module (HMAC), and the larger build with v1a (Ed25519)"
build -p webhook-signature-wasm --features ed25519 --profile wasm --target "$WASM"
cp "$target_dir/$WASM/wasm/$MODULE_NAME" "$target_dir/webhook_signature_wasm_ed25519.wasm"
build -p webhook-signature-wasm --profile wasm --target "$WASM"
module="$target_dir/$WASM/wasm/$MODULE_NAME"
echo "size: $(stat -c %s "$module") bytes (HMAC only), $(stat -c %s "$target_dir/webhook_signature_wasm_ed25519.wasm") bytes (with v1a)"
if [ "$(stat -c %s "$module")" -gt 32768 ]; then
  echo "the HMAC-only module is over its 32 KiB budget" >&2
  exit 1
fi
# The npm package ships the HMAC-only module, inlined and as a file (wasm/build.mjs).
cp "$module" wasm/webhook_signature_wasm.wasm
node wasm/build.mjs

echo "=== c. Node.js: known answers, node:crypto agreement, rejections, no imports"
node wasm/test/node-test.mjs "$module"
node wasm/test/node-test.mjs "$target_dir/webhook_signature_wasm_ed25519.wasm" --ed25519
