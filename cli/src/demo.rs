//! `demo`: starts a receiver on 127.0.0.1, sends it a valid Gemini
//! `video.generated` delivery, a tampered one, a stale one, a replay of the
//! first, and two dynamic (JWT) deliveries, one valid and one forged, checked
//! against a JWKS served on 127.0.0.1 from the committed demo key. Prints what
//! the receiver decided, and exits 0 only if all six came out as they should.

use std::process::ExitCode;
use std::sync::mpsc;
use std::thread;

use tiny_http::{Header, Response, Server};
use webhook_signature::{Timestamp, Webhook};
use webhook_signature_gemini::TokenSigner;

use crate::listen::{Receiver, Report};
use crate::send::{Delivery, post};
use crate::{dynamic, gemini, input, keygen, sign};

/// Demo keys only: committed fixtures, see `tests/fixtures/jwt/README.md`.
const DEMO_KEY: &str = include_str!("../../tests/fixtures/jwt/demo-2048-a.pem");
const FORGER_KEY: &str = include_str!("../../tests/fixtures/jwt/demo-2048-b.pem");
const DEMO_JWKS: &str = include_str!("../../tests/fixtures/jwt/jwks-a.json");
const AUDIENCE: &str = "webhook-signature-demo";

pub(crate) fn run() -> crate::Result<ExitCode> {
    let jwks_url = serve_jwks()?;
    let secret = keygen::new_secret()?;
    let keys = vec![Webhook::new(&secret)?];
    let verifier = dynamic::Args::new(jwks_url.clone(), AUDIENCE.to_owned())
        .load(keys.clone(), webhook_signature::DEFAULT_TOLERANCE)?;
    let mut receiver = Receiver::bind(0, verifier, keys.len(), 1 << 20)?;
    let url = format!("http://127.0.0.1:{}/webhooks/gemini", receiver.port());
    println!("receiver listening on {url} with secret {secret}");
    println!("dynamic deliveries checked against {jwks_url} (audience {AUDIENCE})");

    let body = gemini::sample_envelope("video.generated");
    let mut tampered = body.clone();
    let uri_at = tampered.windows(6).position(|w| w == b"sample").unwrap_or(0);
    tampered[uri_at] = b'S';
    let now = Timestamp::now();
    let stale = Timestamp::from_unix_secs(now.as_unix_secs().saturating_sub(600));
    let [id, stale_id, dynamic_id, forged_id] = [
        input::new_message_id()?,
        input::new_message_id()?,
        input::new_message_id()?,
        input::new_message_id()?,
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
    let (reports, decisions) = mpsc::channel::<crate::Result<Report, String>>();
    let count = cases.len();
    thread::spawn(move || {
        for _ in 0..count {
            if reports.send(receiver.serve_one().map_err(|e| e.to_string())).is_err() {
                break;
            }
        }
    });
    let mut all_as_expected = true;
    for (name, delivery, expected) in &cases {
        let status = post(&url, delivery)?;
        let report = decisions.recv().map_err(|_| "the receiver stopped")??;
        let ok = status == *expected && report.status == *expected;
        all_as_expected &= ok;
        let verdict = if ok { "as expected" } else { "UNEXPECTED" };
        println!("{name:<9} {} -> {status} {:<36} [{verdict}]", report.event, report.outcome);
    }
    if all_as_expected {
        println!("all six deliveries were handled as they should be");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("some deliveries were not handled as expected");
        Ok(ExitCode::FAILURE)
    }
}

/// Serves the demo JWKS on 127.0.0.1 from a background thread, returning its URL.
fn serve_jwks() -> crate::Result<String> {
    let server = Server::http("127.0.0.1:0").map_err(|e| format!("cannot serve the demo JWKS: {e}"))?;
    let port = server.server_addr().to_ip().map_or(0, |addr| addr.port());
    thread::spawn(move || {
        for request in server.incoming_requests() {
            let json = Header::from_bytes("content-type", "application/json").ok();
            let response = Response::from_string(DEMO_JWKS);
            let _ = request.respond(match json {
                Some(header) => response.with_header(header),
                None => response,
            });
        }
    });
    Ok(format!("http://127.0.0.1:{port}/.well-known/jwks.json"))
}
