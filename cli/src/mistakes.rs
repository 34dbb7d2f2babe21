//! The known integration mistakes `diagnose` looks for, and its report
//! ([`Diagnosis`]). Why a delivery fails: each mistake is checked by
//! recomputing what the mistaken party would have produced, against the
//! header's signature (a sender mistake) and against `--computed` (a mistake
//! in the user's own receiver). At most 64 MACs over the body.

use base64ct::{Base64, Encoding};
use serde_json::{Map, Value, json};
use webhook_signature::{Headers, Timestamp, Webhook};

use crate::reserialized_json::{self, Style};

/// The most MACs computed over the body for one diagnosis.
pub(crate) const MAX_MACS: usize = 64;

/// A known mistake, in the fixed priority order of the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Cause {
    SecretPrefixKept,
    SecretNotDecoded,
    BodyOnly,
    ReserializedJson,
    TrailingNewline,
    TimestampMilliseconds,
    ClockSkew,
    MalformedSignatureHeader,
    InvalidSecret,
    WrongSecret,
}

impl Cause {
    pub(crate) fn id(self) -> &'static str {
        match self {
            Self::SecretPrefixKept => "secret-prefix-kept",
            Self::SecretNotDecoded => "secret-not-decoded",
            Self::BodyOnly => "body-only",
            Self::ReserializedJson => "reserialized-json",
            Self::TrailingNewline => "trailing-newline",
            Self::TimestampMilliseconds => "timestamp-milliseconds",
            Self::ClockSkew => "clock-skew",
            Self::MalformedSignatureHeader => "malformed-signature-header",
            Self::InvalidSecret => "invalid-secret",
            Self::WrongSecret => "wrong-secret",
        }
    }

    pub(crate) fn explanation(self) -> &'static str {
        match self {
            Self::SecretPrefixKept => {
                "something was pasted into the secret (such as `v1,` or quotes); it loads once that is removed"
            }
            Self::SecretNotDecoded => {
                "the MAC was keyed with the secret's text instead of its base64-decoded bytes"
            }
            Self::BodyOnly => "the MAC covers the body alone, not `{id}.{timestamp}.{body}`",
            Self::ReserializedJson => {
                "the body matches once its JSON is re-serialized: it was parsed and written back before signing or verifying"
            }
            Self::TrailingNewline => {
                "the body has one more or one fewer trailing newline than what was signed"
            }
            Self::TimestampMilliseconds => "the timestamp is in milliseconds; Standard Webhooks uses seconds",
            Self::ClockSkew => {
                "the signature is right, but the timestamp is outside the tolerance: a clock is off"
            }
            Self::MalformedSignatureHeader => {
                "no entry of `webhook-signature` is a well-formed `v1,<base64>` value"
            }
            Self::InvalidSecret => {
                "a secret is not `whsec_` + base64 (nor bare base64): it cannot be the endpoint's signing secret"
            }
            Self::WrongSecret => "the entries are well-formed, but no supplied secret produced them",
        }
    }

    pub(crate) fn fix(self) -> &'static str {
        match self {
            Self::SecretPrefixKept => "store only `whsec_…` (or its base64), without the pasted text",
            Self::SecretNotDecoded => {
                "strip `whsec_`, base64-decode the rest, and key HMAC-SHA256 with those bytes"
            }
            Self::BodyOnly => "sign and verify the bytes `{webhook-id}.{webhook-timestamp}.{raw body}`",
            Self::ReserializedJson => "verify the raw request bytes before any JSON parsing",
            Self::TrailingNewline => {
                "pass the body exactly as sent: no added or stripped newline (check curl -d, files, editors)"
            }
            Self::TimestampMilliseconds => "send `webhook-timestamp` as whole seconds since the Unix epoch",
            Self::ClockSkew => "synchronise the clocks (NTP), or check that the timestamp is the send time",
            Self::MalformedSignatureHeader => {
                "send `webhook-signature: v1,<base64 of the HMAC>` (space-separated for several)"
            }
            Self::InvalidSecret => {
                "copy the endpoint's signing secret (`whsec_…`) from the sender's dashboard, not a name or a password"
            }
            Self::WrongSecret => {
                "use the secret of this endpoint (the current one, or the previous during a rotation)"
            }
        }
    }
}

/// Everything a diagnosis looks at.
#[derive(Debug)]
pub(crate) struct Inputs {
    pub(crate) secrets: Vec<String>,
    pub(crate) id: String,
    pub(crate) timestamp: String,
    pub(crate) signature: String,
    pub(crate) body: Vec<u8>,
    pub(crate) now: u64,
    pub(crate) tolerance: u64,
    pub(crate) computed: Option<[u8; 32]>,
    pub(crate) warnings: Vec<&'static str>,
}

/// The outcome.
#[derive(Debug)]
pub(crate) struct Diagnosis {
    pub(crate) valid: bool,
    pub(crate) error: Option<String>,
    /// The user's `--computed` value equals the right signature.
    pub(crate) computed_right: Option<bool>,
    pub(crate) causes: Vec<Cause>,
    pub(crate) warnings: Vec<&'static str>,
    pub(crate) details: Map<String, Value>,
}

/// One way to key the MAC.
struct KeyVariant {
    secret: usize,
    bytes: Vec<u8>,
    causes: Vec<Cause>,
}

/// One way to form the signed content.
struct ContentVariant {
    bytes: Vec<u8>,
    causes: Vec<Cause>,
    detail: Option<(&'static str, Value)>,
}

/// Strips what users paste around a secret: `v1,`, quotes, `Bearer `, whitespace.
fn strip_pasted(text: &str) -> String {
    let mut text = text.trim();
    loop {
        let before = text;
        text = text.trim_matches(|c| c == '"' || c == '\'' || c == '`').trim();
        for prefix in ["v1,", "v1=", "Bearer ", "bearer "] {
            text = text.strip_prefix(prefix).unwrap_or(text).trim();
        }
        if text == before {
            return text.to_owned();
        }
    }
}

/// The key bytes of a `whsec_` secret (or bare base64), if it decodes: the
/// core's own decoding, so a secret decodes here exactly when it loads there.
fn decode_secret(text: &str) -> Option<Vec<u8>> {
    let mut key = vec![0; webhook_signature::MAX_KEY_LEN];
    webhook_signature::decode_hmac_secret(text, &mut key).ok().map(<[u8]>::to_vec)
}

/// The core's HMAC-SHA256, the one that verifies.
fn mac(key: &[u8], content: &[u8]) -> [u8; 32] {
    webhook_signature::hmac_sha256(key, &[content])
}

/// The `v1` entries of a header that decode to 32 bytes.
fn header_tags(signature: &str) -> Vec<[u8; 32]> {
    signature
        .split(' ')
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .filter_map(|value| Base64::decode_vec(value).ok())
        .filter_map(|raw| <[u8; 32]>::try_from(raw).ok())
        .collect()
}

/// Parses `--computed`: `v1,<base64>`, bare base64, or 64 hex digits.
pub(crate) fn parse_computed(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    let text = text.strip_prefix("v1,").unwrap_or(text);
    if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        let bytes: Option<Vec<u8>> = (0..32)
            .map(|i| text.get(2 * i..2 * i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
            .collect();
        return bytes?.try_into().ok();
    }
    Base64::decode_vec(text).ok()?.try_into().ok()
}

/// What a header that is not `v1,<base64>` looks like instead.
fn describe_malformed(signature: &str) -> &'static str {
    let signature = signature.trim();
    if signature.starts_with("sha256=") {
        "sha256= (GitHub style)"
    } else if Base64::decode_vec(signature).is_ok_and(|raw| raw.len() == 32) {
        "bare base64: the `v1,` was dropped, as `split(\",\")[-1]` does"
    } else if signature.contains(',') {
        "a `,` list that is not `v1,<base64>` entries"
    } else if signature.is_empty() {
        "nothing"
    } else {
        "something else"
    }
}

pub(crate) fn diagnose(inputs: &Inputs) -> Diagnosis {
    let mut details = Map::new();
    let mut warnings = inputs.warnings.clone();
    if inputs.signature.split(' ').filter(|e| !e.is_empty()).count() > 1 {
        warnings.push("several-entries: code comparing against `split(\",\")[-1]` of this header checks only the last entry");
    }
    let (valid, error) = verify(inputs);
    let (keys, right_keys) = key_variants(inputs);
    let contents = content_variants(inputs);
    let combos = combinations(&keys, right_keys, &contents);
    let tags: Vec<[u8; 32]> = combos.iter().map(|(key, content)| mac(&key.bytes, &content.bytes)).collect();
    let mut computed_right = None;
    let mut causes = if let Some(computed) = inputs.computed {
        let (right, causes) = receiver_mistake(
            computed,
            right_of(&keys, right_keys),
            contents.first(),
            &combos,
            &tags,
            &mut details,
        );
        computed_right = Some(right);
        causes
    } else if valid {
        Vec::new()
    } else {
        sender_mistake(inputs, &combos, &tags, &mut details)
    };
    invalid_secret(inputs, &mut causes);
    causes.sort();
    causes.dedup();
    details.insert("macs".into(), json!(combos.len()));
    Diagnosis { valid, error, computed_right, causes, warnings, details }
}

/// The real verification, with the secrets that load as given.
fn verify(inputs: &Inputs) -> (bool, Option<String>) {
    let loaded: Vec<Webhook> = inputs
        .secrets
        .iter()
        .filter_map(|text| Webhook::new(text).ok())
        .map(|key| key.with_tolerance(core::time::Duration::from_secs(inputs.tolerance)))
        .collect();
    let headers = Headers { id: &inputs.id, timestamp: &inputs.timestamp, signature: &inputs.signature };
    let verified = if loaded.is_empty() {
        Err(webhook_signature::Error::InvalidSecret)
    } else {
        Webhook::verify_any(&loaded, &headers, &inputs.body, Timestamp::from_unix_secs(inputs.now))
    };
    (verified.is_ok(), verified.err().map(|e| e.name().to_owned()))
}

/// `secret-prefix-kept` and `secret-not-decoded`: every way of keying the
/// MAC, the right one first for each secret; and how many are right.
fn key_variants(inputs: &Inputs) -> (Vec<KeyVariant>, usize) {
    let mut keys = Vec::new();
    for (index, text) in inputs.secrets.iter().enumerate() {
        match decode_secret(text) {
            Some(bytes) if Webhook::new(text).is_ok() => {
                keys.push(KeyVariant { secret: index, bytes, causes: vec![] })
            }
            _ => {
                if let Some(bytes) = decode_secret(&strip_pasted(text)) {
                    keys.push(KeyVariant { secret: index, bytes, causes: vec![Cause::SecretPrefixKept] });
                }
            }
        }
    }
    let right_keys = keys.len();
    for (index, text) in inputs.secrets.iter().enumerate() {
        let cleaned = strip_pasted(text);
        keys.push(KeyVariant {
            secret: index,
            bytes: cleaned.clone().into_bytes(),
            causes: vec![Cause::SecretNotDecoded],
        });
        if let Some(bare) = cleaned.strip_prefix("whsec_") {
            keys.push(KeyVariant {
                secret: index,
                bytes: bare.as_bytes().to_vec(),
                causes: vec![Cause::SecretNotDecoded],
            });
        }
    }
    (keys, right_keys)
}

/// `body-only`, `trailing-newline` and `reserialized-json`: every way of
/// forming the signed content, the right one first.
fn content_variants(inputs: &Inputs) -> Vec<ContentVariant> {
    let prefix = format!("{}.{}.", inputs.id, inputs.timestamp).into_bytes();
    let full = |body: &[u8]| [&prefix[..], body].concat();
    let mut contents = vec![
        ContentVariant { bytes: full(&inputs.body), causes: vec![], detail: None },
        ContentVariant { bytes: inputs.body.clone(), causes: vec![Cause::BodyOnly], detail: None },
    ];
    // A trailing newline is the simpler explanation, so it is tried first;
    // a re-serialization that only adds or drops a newline is not tried again.
    for (name, body) in newline_variants(&inputs.body) {
        contents.push(ContentVariant {
            bytes: full(&body),
            causes: vec![Cause::TrailingNewline],
            detail: Some(("trailing_newline", json!(name))),
        });
    }
    for (style, body) in reserialized_json::variants(&inputs.body) {
        let bytes = full(&body);
        if body != inputs.body && contents.iter().all(|c| c.bytes != bytes) {
            contents.push(ContentVariant {
                bytes,
                causes: vec![Cause::ReserializedJson],
                detail: Some(("reserialization", json!(Style::name(style)))),
            });
        }
    }
    contents
}

/// The combinations, simplest first: the right key with each content
/// variant, then the text keys with the plain contents; at most [`MAX_MACS`].
fn combinations<'a>(
    keys: &'a [KeyVariant],
    right_keys: usize,
    contents: &'a [ContentVariant],
) -> Vec<(&'a KeyVariant, &'a ContentVariant)> {
    let (right, text) = keys.split_at(right_keys.min(keys.len()));
    let mut combos: Vec<(&KeyVariant, &ContentVariant)> = Vec::new();
    for key in right {
        combos.extend(contents.iter().map(|content| (key, content)));
    }
    for key in text {
        combos.extend(contents.iter().take(2).map(|content| (key, content)));
    }
    combos.truncate(MAX_MACS);
    combos
}

/// The causes of one combination, its details noted.
fn note(combo: (&KeyVariant, &ContentVariant), details: &mut Map<String, Value>) -> Vec<Cause> {
    let (key, content) = combo;
    details.insert("secret".into(), json!(key.secret + 1));
    if let Some((name, value)) = &content.detail {
        details.insert((*name).into(), value.clone());
    }
    let mut causes: Vec<Cause> = key.causes.iter().chain(&content.causes).copied().collect();
    causes.sort();
    causes
}

/// `--computed`: whether the user's receiver computes the right value, and
/// if not, which mistake made it (else `wrong-secret`).
/// The first `count` key variants: the right ones.
fn right_of(keys: &[KeyVariant], count: usize) -> &[KeyVariant] {
    keys.get(..count).unwrap_or(keys)
}

fn receiver_mistake(
    computed: [u8; 32],
    right_keys: &[KeyVariant],
    right_content: Option<&ContentVariant>,
    combos: &[(&KeyVariant, &ContentVariant)],
    tags: &[[u8; 32]],
    details: &mut Map<String, Value>,
) -> (bool, Vec<Cause>) {
    let right: Vec<[u8; 32]> = right_content.map_or_else(Vec::new, |content| {
        right_keys.iter().map(|key| mac(&key.bytes, &content.bytes)).collect()
    });
    let computed_right = right.contains(&computed) && right_keys.iter().all(|key| key.causes.is_empty());
    if computed_right {
        return (true, Vec::new());
    }
    match tags.iter().position(|tag| *tag == computed) {
        Some(at) => (false, combos.get(at).map_or_else(Vec::new, |combo| note(*combo, details))),
        None => (false, vec![Cause::WrongSecret]),
    }
}

/// The header's entries: `malformed-signature-header`, a mistake that
/// explains them (then `clock-skew` or `timestamp-milliseconds` if the
/// signature is right), or else `wrong-secret`.
fn sender_mistake(
    inputs: &Inputs,
    combos: &[(&KeyVariant, &ContentVariant)],
    tags: &[[u8; 32]],
    details: &mut Map<String, Value>,
) -> Vec<Cause> {
    let explain =
        |targets: &[[u8; 32]]| -> Option<usize> { tags.iter().position(|tag| targets.contains(tag)) };
    let mut causes = Vec::new();
    let found = header_tags(&inputs.signature);
    if found.is_empty() {
        let bare: Vec<[u8; 32]> = parse_computed(&inputs.signature).into_iter().collect();
        causes.push(Cause::MalformedSignatureHeader);
        details.insert("found".into(), json!(describe_malformed(&inputs.signature)));
        if let Some(combo) = explain(&bare).and_then(|at| combos.get(at)) {
            note(*combo, details);
        }
    } else if let Some(combo) = explain(&found).and_then(|at| combos.get(at)) {
        causes = note(*combo, details);
        if causes.is_empty() || causes == [Cause::SecretPrefixKept] {
            causes.extend(timing(inputs, details));
        }
    } else {
        causes.push(Cause::WrongSecret);
    }
    if causes.is_empty() {
        causes.push(Cause::WrongSecret);
    }
    causes
}

/// `invalid-secret`: unexplained, with a secret that cannot be one, that (not
/// a wrong secret) is the cause.
fn invalid_secret(inputs: &Inputs, causes: &mut Vec<Cause>) {
    let unusable = inputs.secrets.iter().any(|text| decode_secret(&strip_pasted(text)).is_none());
    if unusable && causes.contains(&Cause::WrongSecret) {
        causes.retain(|cause| *cause != Cause::WrongSecret);
        causes.push(Cause::InvalidSecret);
    }
}

/// With the signature right, what is wrong with the time.
fn timing(inputs: &Inputs, details: &mut Map<String, Value>) -> Vec<Cause> {
    let Ok(timestamp) = inputs.timestamp.parse::<u64>() else { return vec![] };
    if inputs.timestamp.len() == 13 && (timestamp / 1000).abs_diff(inputs.now) <= inputs.tolerance {
        details.insert("timestamp_seconds".into(), json!(timestamp / 1000));
        return vec![Cause::TimestampMilliseconds];
    }
    if timestamp.abs_diff(inputs.now) > inputs.tolerance {
        let behind = timestamp < inputs.now;
        details.insert("clock_skew_seconds".into(), json!(timestamp.abs_diff(inputs.now)));
        details.insert(
            "clock_skew_direction".into(),
            json!(if behind { "timestamp is in the past" } else { "timestamp is in the future" }),
        );
        return vec![Cause::ClockSkew];
    }
    vec![]
}

/// The body with one more or one fewer trailing `\n` or `\r\n`.
fn newline_variants(body: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let mut variants = vec![
        (r"signed with a trailing \n that the body lacks", [body, b"\n"].concat()),
        (r"signed with a trailing \r\n that the body lacks", [body, b"\r\n"].concat()),
    ];
    if let Some(stripped) = body.strip_suffix(b"\r\n") {
        variants.push((r"the body has a trailing \r\n that was not signed", stripped.to_vec()));
    } else if let Some(stripped) = body.strip_suffix(b"\n") {
        variants.push((r"the body has a trailing \n that was not signed", stripped.to_vec()));
    }
    variants
}
