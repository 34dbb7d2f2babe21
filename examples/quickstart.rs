//! Signs a sample Gemini-style `video.generated` delivery, prints its three
//! headers, verifies it, and shows a tampered copy rejected.
//!
//! Run with `cargo run --example quickstart`.

use webhook_signature::{Headers, Timestamp, WEBHOOK_ID, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP, Webhook};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ID: &str = "msg_2p5jXN8AQM9LWM0D4loKWxJek";
const BODY: &[u8] = br#"{"type":"video.generated","version":"v1","timestamp":"2026-11-26T12:00:00Z","data":{"id":"operations/veo-123","output_file_uri":"https://generativelanguage.googleapis.com/v1beta/files/abc:download","file_name":"files/abc"}}"#;

fn main() -> Result<(), webhook_signature::Error> {
    let webhook = Webhook::new(SECRET)?;
    let now = Timestamp::from_unix_secs(1_795_000_000);

    // Sender: sign the delivery.
    let signature = webhook.sign(ID, now, BODY)?;
    let timestamp = now.to_string();
    println!("{WEBHOOK_ID}: {ID}");
    println!("{WEBHOOK_TIMESTAMP}: {timestamp}");
    println!("{WEBHOOK_SIGNATURE}: {signature}");

    // Receiver: verify the raw body against the headers, with "now" passed in.
    let headers = Headers { id: ID, timestamp: &timestamp, signature: signature.as_str() };
    webhook.verify(&headers, BODY, now)?;
    println!("original delivery: valid");

    let mut tampered = BODY.to_vec();
    if let Some(byte) = tampered.get_mut(10) {
        *byte ^= 1;
    }
    match webhook.verify(&headers, &tampered, now) {
        Err(error) => println!("tampered delivery: rejected ({error})"),
        Ok(()) => {
            eprintln!("tampered delivery was accepted");
            std::process::exit(1);
        }
    }
    Ok(())
}
