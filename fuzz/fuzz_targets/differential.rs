//! Decisions against the reference implementations: the same secret, id,
//! timestamp, signature header and body go to our `verify`, to the
//! `standardwebhooks` crate and to the `svix` crate, and all three must
//! accept or reject alike, except where our policy differs on purpose
//! ([`intended_difference`], one case per difference, each shown by a test in
//! `tests/differences.rs`). Any other disagreement is a crash.
//!
//! Neither peer takes `now`: both read the clock. So the timestamp is the
//! real clock plus an offset well inside the window (within ±250 s) or well
//! outside it (beyond ±400 s), never near its edges.
#![no_main]

use std::time::{SystemTime, UNIX_EPOCH};

use arbitrary::Arbitrary;
use base64ct::{Base64, Encoding};
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use webhook_signature::{Headers, Timestamp, Webhook};

#[derive(Arbitrary, Debug)]
enum Offset {
    Inside(i16),
    Outside(bool, u16),
}

#[derive(Arbitrary, Debug)]
enum TimestampText {
    Plain,
    LeadingZero,
    Plus,
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum Entry {
    /// `v1,` + the genuine signature of the delivery as received.
    Genuine,
    /// The genuine signature with one byte of its text changed.
    Mangled(u8, u8),
    /// Anything.
    Raw(String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    key: [u8; 24],
    raw_secret: Option<String>,
    id: String,
    offset: Offset,
    timestamp: TimestampText,
    entries: Vec<Entry>,
    separator: bool,
    body: Vec<u8>,
}

/// Where our decision may differ from the peers' on purpose, and why.
fn intended_difference(secret: &str, id: &str, timestamp: &str, body: &[u8]) -> Option<&'static str> {
    // Non-UTF-8 bodies: the spec signs bytes; both peers refuse them (InvalidPayload).
    if std::str::from_utf8(body).is_err() {
        return Some("non-UTF-8 body");
    }
    // Both peers parse the timestamp as i64 and sign its re-rendering, so
    // "+1", "01" or "-1" are signed as "1", "1", "-1"; we accept only plain
    // digits and hash the text exactly as received.
    if timestamp.parse::<i64>().map(|t| t.to_string()) != Ok(timestamp.to_owned()) || timestamp.starts_with('-') {
        return Some("timestamp text that is not the i64's rendering");
    }
    // We require every header to be non-empty; the peers sign an empty id.
    if id.is_empty() {
        return Some("empty webhook-id");
    }
    // Secrets: we accept base64 with padding omitted or unused trailing bits
    // set (as the reference libraries in other languages do); both peers'
    // `base64` decoding refuses them. And an empty key is an error for us.
    let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
    match Base64::decode_vec(encoded) {
        Ok(key) if !key.is_empty() => None,
        _ => Some("secret that is not canonical base64 of a non-empty key"),
    }
}

fuzz_target!(|input: Input| {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let ts = match input.offset {
        Offset::Inside(o) => now + i64::from(o) % 251,
        Offset::Outside(future, o) => now + if future { 1 } else { -1 } * (401 + i64::from(o)),
    };
    let timestamp = match &input.timestamp {
        TimestampText::Plain => ts.to_string(),
        TimestampText::LeadingZero => format!("0{ts}"),
        TimestampText::Plus => format!("+{ts}"),
        TimestampText::Raw(text) => text.clone(),
    };
    let secret = input.raw_secret.clone().unwrap_or_else(|| format!("whsec_{}", Base64::encode_string(&input.key)));
    let (Ok(ours), Ok(standard), Ok(svix)) = (
        Webhook::new(&secret),
        standardwebhooks::Webhook::new(&secret),
        svix::webhooks::Webhook::new(&secret),
    ) else {
        return; // a secret one of them refuses: loading is tested elsewhere
    };
    // The genuine entry: our signature of the delivery (`sign` renders the
    // parsed timestamp; for plain text that is the text as received).
    let genuine = Timestamp::parse(&timestamp)
        .ok()
        .and_then(|parsed| ours.sign(&input.id, parsed, &input.body).ok())
        .map_or_else(|| "v1,AAAA".to_owned(), |signature| signature.to_string());
    let entries: Vec<String> = input
        .entries
        .iter()
        .map(|entry| match entry {
            Entry::Genuine => genuine.clone(),
            Entry::Mangled(at, byte) => {
                let mut bytes = genuine.clone().into_bytes();
                let at = usize::from(*at) % bytes.len();
                bytes[at] = *byte;
                String::from_utf8_lossy(&bytes).into_owned()
            }
            Entry::Raw(text) => text.clone(),
        })
        .collect();
    let signature = entries.join(if input.separator { " " } else { "  " });

    // The peers read an http::HeaderMap: values it cannot hold are not HTTP.
    let mut map = HeaderMap::new();
    for (name, value) in [("webhook-id", &input.id), ("webhook-timestamp", &timestamp), ("webhook-signature", &signature)] {
        let Ok(value) = HeaderValue::from_str(value) else { return };
        if value.to_str().is_err() {
            return;
        }
        map.insert(name, value);
    }
    let headers = Headers { id: &input.id, timestamp: &timestamp, signature: &signature };
    let ours = ours.verify(&headers, &input.body, Timestamp::from_unix_secs(now as u64)).is_ok();
    let standard = standard.verify(&input.body, &map).is_ok();
    let svix = svix.verify(&input.body, &map).is_ok();
    if let Some(_why) = intended_difference(&secret, &input.id, &timestamp, &input.body) {
        return;
    }
    assert_eq!(ours, standard, "ours vs standardwebhooks: {input:?} {signature:?}");
    assert_eq!(ours, svix, "ours vs svix: {input:?} {signature:?}");
});
