//! `demo`: starts a receiver on 127.0.0.1, sends it a valid Gemini
//! `video.generated` delivery, a tampered one, a stale one, a replay of the
//! first, and two dynamic (JWT) deliveries, one valid and one forged, checked
//! against a JWKS served on 127.0.0.1 from the committed demo key. Prints what
//! the receiver decided, and exits 0 only if all six came out as they should.

use std::process::ExitCode;

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use tokio::runtime::Runtime;
use tokio::sync::mpsc;
use webhook_signature::{Timestamp, Webhook};
use webhook_signature_axum::{Limits, serve};
use webhook_signature_gemini::TokenSigner;

use super::listen::{self, Receiver};
use super::send::{Delivery, post};
use super::sign;
use crate::{dynamic_mode, gemini_envelope, random};

/// Public demo keys, never to be trusted: see `demo/README.md`.
const DEMO_KEY: &str = include_str!("../../demo/demo-2048-a.pem");
const FORGER_KEY: &str = include_str!("../../demo/demo-2048-b.pem");
const DEMO_JWKS: &str = include_str!("../../demo/jwks-a.json");
const AUDIENCE: &str = "webhook-signature-demo";

pub(crate) fn run() -> crate::Result<ExitCode> {
    // The servers run on this runtime's threads; the deliveries are sent from
    // this one, as an outside sender would send them.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let jwks_url = serve_jwks(&runtime)?;
    let secret = random::new_secret()?;
    let keys = vec![Webhook::new(&secret)?];
    let verifier = dynamic_mode::Args::new(jwks_url.clone(), AUDIENCE.to_owned())
        .load(keys.clone(), webhook_signature::DEFAULT_TOLERANCE)?;
    let receiver = Receiver::new(verifier, keys.len(), 1 << 20);
    let (reports, mut decisions) = mpsc::unbounded_channel();
    let port = spawn_server(&runtime, receiver.into_router(reports))?;
    let url = format!("http://127.0.0.1:{port}/webhooks/gemini");
    outln!("receiver listening on {url} with secret {secret}");
    outln!("dynamic deliveries checked against {jwks_url} (audience {AUDIENCE})");

    let body = gemini_envelope::sample_envelope("video.generated");
    let mut tampered = body.clone();
    let uri_at = tampered.windows(6).position(|w| w == b"sample").unwrap_or(0);
    if let Some(byte) = tampered.get_mut(uri_at) {
        *byte = b'S';
    }
    let now = Timestamp::now();
    let stale = Timestamp::from_unix_secs(now.as_unix_secs().saturating_sub(600));
    let [id, stale_id, dynamic_id, forged_id] = [
        random::new_message_id()?,
        random::new_message_id()?,
        random::new_message_id()?,
        random::new_message_id()?,
    ];
    let signed = |id: &str, at: Timestamp, body: &[u8]| sign::signature_header(&keys, id, at, body);
    let valid_signature = signed(&id, now, &body)?;
    let stale_signature = signed(&stale_id, stale, &body)?;
    let audiences = [AUDIENCE.to_owned()];
    let claims = sign::Token { audiences: &audiences, issuer: None, ttl: 300, bind_body: false };
    let token = claims.sign(&TokenSigner::from_pem(DEMO_KEY.as_bytes(), "demo-a")?, now, &body)?;
    // Signed with another key, but naming the demo key's kid.
    let forged = claims.sign(&TokenSigner::from_pem(FORGER_KEY.as_bytes(), "demo-a")?, now, &body)?;

    let cases: [(&str, Delivery<'_>, u16); 6] = [
        ("valid", Delivery { id: &id, timestamp: now, signature: &valid_signature, body: &body }, 204),
        ("tampered", Delivery { id: &id, timestamp: now, signature: &valid_signature, body: &tampered }, 401),
        (
            "stale",
            Delivery { id: &stale_id, timestamp: stale, signature: &stale_signature, body: &body },
            401,
        ),
        ("replay", Delivery { id: &id, timestamp: now, signature: &valid_signature, body: &body }, 409),
        ("dynamic", Delivery { id: &dynamic_id, timestamp: now, signature: &token, body: &body }, 204),
        ("forged", Delivery { id: &forged_id, timestamp: now, signature: &forged, body: &body }, 401),
    ];
    let mut all_as_expected = true;
    for (name, delivery, expected) in &cases {
        let status = post(&url, delivery)?;
        let report = decisions.blocking_recv().ok_or("the receiver stopped")?;
        let ok = status == *expected && report.status == *expected;
        all_as_expected &= ok;
        let verdict = if ok { "as expected" } else { "UNEXPECTED" };
        outln!("{name:<9} {} -> {status} {:<36} [{verdict}]", report.event, report.outcome);
    }
    if all_as_expected {
        outln!("all six deliveries were handled as they should be");
        Ok(ExitCode::SUCCESS)
    } else {
        outln!("some deliveries were not handled as expected");
        Ok(ExitCode::FAILURE)
    }
}

/// Serves the demo JWKS on 127.0.0.1, returning its URL.
fn serve_jwks(runtime: &Runtime) -> crate::Result<String> {
    let jwks = Router::new().fallback(async || ([(CONTENT_TYPE, "application/json")], DEMO_JWKS));
    let port = spawn_server(runtime, jwks)?;
    Ok(format!("http://127.0.0.1:{port}/.well-known/jwks.json"))
}

/// Serves `app` on a free port of 127.0.0.1 until the runtime is dropped.
fn spawn_server(runtime: &Runtime, app: Router) -> crate::Result<u16> {
    let listener = runtime.block_on(listen::bind(0))?;
    let port = listener.local_addr()?.port();
    runtime.spawn(serve(listener, app, Limits::default(), std::future::pending()));
    Ok(port)
}
