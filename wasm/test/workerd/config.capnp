# workerd serving test/workerd/worker.mjs (which wraps the README's Worker,
# examples/worker.mjs) with the packaged module; the port is given on the
# command line (--socket-addr http=127.0.0.1:PORT).
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", address = "127.0.0.1:8787", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed "worker.mjs"),
    (name = "readme-worker.mjs", esModule = embed "readme-worker.mjs"),
    (name = "webhook-signature-wasm", esModule = embed "../node_modules/webhook-signature-wasm/webhook-signature.mjs"),
    (name = "webhook-signature-wasm/webhook_signature_wasm.wasm", wasm = embed "../node_modules/webhook-signature-wasm/webhook_signature_wasm.wasm"),
  ],
  compatibilityDate = "2025-01-01",
  bindings = [(name = "WEBHOOK_SECRET", text = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")],
);
