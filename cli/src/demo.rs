//! `demo`: starts a receiver on 127.0.0.1, sends it a valid Gemini
//! `video.generated` delivery, a tampered one, a stale one and a replay of the
//! first, prints what the receiver decided, and exits 0 only if all four came
//! out as they should.

use std::process::ExitCode;
use std::sync::mpsc;
use std::thread;

use webhook_signature::{Timestamp, Webhook};

use crate::listen::{Receiver, Report};
use crate::send::{Delivery, post};
use crate::{gemini, input, keygen, sign};

pub(crate) fn run() -> crate::Result<ExitCode> {
    let secret = keygen::new_secret()?;
    let keys = vec![Webhook::new(&secret)?];
    let mut receiver = Receiver::bind(0, keys.clone(), 1 << 20)?;
    let url = format!("http://127.0.0.1:{}/webhooks/gemini", receiver.port());
    println!("receiver listening on {url} with secret {secret}");

    let (reports, decisions) = mpsc::channel::<crate::Result<Report, String>>();
    thread::spawn(move || {
        for _ in 0..4 {
            if reports.send(receiver.serve_one().map_err(|e| e.to_string())).is_err() {
                break;
            }
        }
    });

    let body = gemini::sample_envelope("video.generated");
    let mut tampered = body.clone();
    let uri_at = tampered.windows(6).position(|w| w == b"sample").unwrap_or(0);
    tampered[uri_at] = b'S';
    let now = Timestamp::now();
    let stale = Timestamp::from_unix_secs(now.as_unix_secs().saturating_sub(600));
    let id = input::new_message_id()?;
    let stale_id = input::new_message_id()?;
    let signed = |id: &str, at: Timestamp, body: &[u8]| sign::signature_header(&keys, id, at, body);
    let valid_signature = signed(&id, now, &body)?;
    let stale_signature = signed(&stale_id, stale, &body)?;

    let cases: [(&str, Delivery<'_>, u16); 4] = [
        ("valid", Delivery { id: &id, timestamp: now, signature: &valid_signature, body: &body }, 204),
        ("tampered", Delivery { id: &id, timestamp: now, signature: &valid_signature, body: &tampered }, 401),
        (
            "stale",
            Delivery { id: &stale_id, timestamp: stale, signature: &stale_signature, body: &body },
            401,
        ),
        ("replay", Delivery { id: &id, timestamp: now, signature: &valid_signature, body: &body }, 409),
    ];
    let mut all_as_expected = true;
    for (name, delivery, expected) in &cases {
        let status = post(&url, delivery)?;
        let report = decisions.recv().map_err(|_| "the receiver stopped")??;
        let ok = status == *expected && report.status == *expected;
        all_as_expected &= ok;
        let verdict = if ok { "as expected" } else { "UNEXPECTED" };
        println!("{name:<9} {} -> {status} {:<28} [{verdict}]", report.event, report.outcome);
    }
    if all_as_expected {
        println!("all four deliveries were handled as they should be");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("some deliveries were not handled as expected");
        Ok(ExitCode::FAILURE)
    }
}
