# workerd serving test/workerd/worker.mjs (which wraps the README's Worker,
# examples/worker.mjs), bundled with the package as Wrangler bundles it:
# bundle.mjs, plus the `.wasm` modules it imports, listed by the names it
# imports them by. The port is given on the command line
# (--socket-addr http=127.0.0.1:PORT).
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", address = "127.0.0.1:8787", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "bundle.mjs", esModule = embed "bundle.mjs"),
    (name = "webhook_signature_wasm.wasm", wasm = embed "../node_modules/webhook-signature-wasm/dist/webhook_signature_wasm.wasm"),
    (name = "webhook-signature-wasm/webhook_signature_wasm.wasm", wasm = embed "../node_modules/webhook-signature-wasm/dist/webhook_signature_wasm.wasm"),
  ],
  compatibilityDate = "2025-01-01",
  bindings = [(name = "WEBHOOK_SECRET", text = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")],
);
