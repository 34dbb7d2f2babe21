//! The `webhook-signature` list and the other headers: missing, malformed, decoys, whitespace.
// Test helpers: a failed unwrap or index is a failed test, which is what we want.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod common;

use common::{PAYLOAD, SECRET, SIGNATURE, headers, headers_with};
use webhook_signature::{Entry, Error, HeaderName, Headers, Scheme, Signatures, Webhook};

fn verify(signature: &str) -> Result<(), Error> {
    let webhook = Webhook::new(SECRET).unwrap();
    webhook.verify(&headers_with(signature), PAYLOAD, common::NOW)
}

/// A1's valid value, without the `v1,` label.
fn value() -> &'static str {
    &SIGNATURE[3..]
}

#[test]
fn missing_headers_are_named_and_checked_first() {
    let webhook = Webhook::new(SECRET).unwrap();
    let cases = [
        (Headers { id: "", ..headers() }, HeaderName::Id),
        (Headers { timestamp: "", ..headers() }, HeaderName::Timestamp),
        (Headers { signature: "", ..headers() }, HeaderName::Signature),
        // The id is checked before a malformed timestamp.
        (Headers { id: "", timestamp: "x", signature: "" }, HeaderName::Id),
    ];
    for (i, (headers, name)) in cases.iter().enumerate() {
        assert_eq!(webhook.verify(headers, PAYLOAD, common::NOW), Err(Error::MissingHeader(*name)), "#{i}");
        assert_eq!(
            webhook.verify_ignoring_timestamp(headers, PAYLOAD),
            Err(Error::MissingHeader(*name)),
            "#{i}"
        );
    }
}

#[test]
fn any_valid_entry_among_others_is_accepted() {
    let v = value();
    let accepted = [
        format!("v1,{v}"),
        format!("  v1,{v}  "),
        format!("v1,AAAA v1,{v}"),
        format!("V1,{v} v1a,{v} v2,{v} v1,{v}"),
        format!("v1, v1,{v}"),
        format!("junk v1,{v}=extra v1,{v}"),
        format!("v1,{v}    v1,AAAA"),
        format!("{} v1,{v}", "v1,xx ".repeat(100)),
    ];
    for (i, header) in accepted.iter().enumerate() {
        assert_eq!(verify(header), Ok(()), "#{i}: {header:?}");
    }
}

#[test]
fn entries_of_other_versions_or_lengths_are_not_supported() {
    let v = value();
    let unsupported = [
        format!("V1,{v}"),
        format!("v1a,{v}"),
        format!("v2,{v}"),
        format!("v1;{v}"),
        v.to_string(),
        "v1,".to_owned(),
        "v1".to_owned(),
        " ".to_owned(),
        format!("v1,{}", &v[..43]), // truncated
        format!("v1,{v}A"),         // over-long
        format!("v1,{}", &v[..42]), // unpadded
        format!("v1,{v}\t"),        // a tab is not a separator
        format!("v1,{v},"),
        format!("v1 ,{v}"),
    ];
    for (i, header) in unsupported.iter().enumerate() {
        assert_eq!(verify(header), Err(Error::NoSupportedSignature), "#{i}: {header:?}");
    }
}

#[test]
fn well_formed_but_wrong_entries_do_not_match() {
    let v = value();
    // The last character 'E' carries two unused bits: 'F', 'G', 'H' decode to the same tag
    // but are not its canonical encoding, so they must not match.
    let non_canonical = [format!("v1,{}F=", &v[..42]), format!("v1,{}H=", &v[..42])];
    let lowercase = format!("v1,{}", v.to_ascii_lowercase());
    let flipped = format!("v1,A{}", &v[1..]);
    let wrong = [
        non_canonical[0].as_str(),
        non_canonical[1].as_str(),
        lowercase.as_str(),
        flipped.as_str(),
        "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1O==",
        "v1,g0hM9SsE-OTPJTGt_tmIKtSyZlE3uFJELVlNIOLJ1OE=", // URL-safe alphabet
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE\u{1}",
    ];
    for (i, header) in wrong.iter().enumerate() {
        assert_eq!(verify(header), Err(Error::NoMatchingSignature), "#{i}: {header:?}");
    }
}

#[test]
fn valid_entry_far_down_the_list_is_found() {
    // Reference libraries accept a valid entry at position 50 or 100; so do we, uncapped.
    let header = format!("{}{SIGNATURE}", "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= ".repeat(1000));
    assert_eq!(verify(&header), Ok(()));
}

#[test]
fn non_utf8_bodies_are_signed_as_bytes() {
    let webhook = Webhook::new(SECRET).unwrap();
    let body = [0xff, 0xfe, 0x00, 0x80, b'{'];
    let signature = webhook.sign(common::ID, common::NOW, &body).unwrap();
    let headers = headers_with(signature.as_str());
    assert_eq!(webhook.verify(&headers, &body, common::NOW), Ok(()));
    assert_eq!(webhook.verify(&headers, &body[..4], common::NOW), Err(Error::NoMatchingSignature));
}

#[test]
fn ids_with_dots_verify_but_cannot_be_signed() {
    // The spec asks senders not to use '.', but reference libraries verify such ids.
    let webhook = Webhook::new(SECRET).unwrap();
    let mac = webhook_signature::Webhook::from_key(b"k").unwrap();
    assert_eq!(mac.sign("a.b", common::NOW, PAYLOAD), Err(Error::InvalidId));
    assert_eq!(webhook.sign("", common::NOW, PAYLOAD), Err(Error::InvalidId));
    assert_eq!(webhook.sign("a\nb", common::NOW, PAYLOAD), Err(Error::InvalidId));
    // "a.b" + "." + ts is the same content as id "a" with timestamp "b.ts": nothing in
    // the format separates them, which is why senders must avoid '.'.
    let signature = webhook.sign("msg_1", common::NOW, PAYLOAD).unwrap();
    let dotted = Headers { id: "msg.1", timestamp: common::TIMESTAMP, signature: signature.as_str() };
    assert_eq!(webhook.verify(&dotted, PAYLOAD, common::NOW), Err(Error::NoMatchingSignature));
}

#[test]
fn signatures_iterator_splits_at_first_comma_and_skips_commaless_tokens() {
    let entries: Vec<Entry<'_>> = Signatures::new(" a,b  c d,e,f ,g h, ").collect();
    let expected = [("a", "b"), ("d", "e,f"), ("", "g"), ("h", "")];
    assert_eq!(entries.len(), expected.len());
    for (entry, (version, value)) in entries.iter().zip(expected) {
        assert_eq!((entry.version, entry.value), (version, value));
    }
    let header = format!("v1,{} v1,x", value());
    let v1: Vec<&str> = Signatures::new(&header).candidates(Scheme::V1).collect();
    assert_eq!(v1, [value()]);
}

#[test]
fn from_fn_looks_headers_up_by_lower_case_name() {
    let request = [
        ("Webhook-Id", common::ID),
        ("WEBHOOK-TIMESTAMP", common::TIMESTAMP),
        ("webhook-signature", SIGNATURE),
    ];
    let headers =
        Headers::from_fn(|name| request.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v));
    assert_eq!(headers, common::headers());
    let none = Headers::from_fn(|_| None);
    let webhook = Webhook::new(SECRET).unwrap();
    assert_eq!(webhook.verify(&none, PAYLOAD, common::NOW), Err(Error::MissingHeader(HeaderName::Id)));
}

#[test]
fn error_messages_are_short_and_static() {
    assert_eq!(Error::MissingHeader(HeaderName::Signature).to_string(), "missing webhook-signature header");
    assert_eq!(Error::NoMatchingSignature.to_string(), "no matching signature");
    assert_eq!(HeaderName::Timestamp.to_string(), webhook_signature::WEBHOOK_TIMESTAMP);
}

/// Version labels are compared exactly: `v1` and `v1a` are known; case,
/// spacing and other versions are not.
#[test]
fn scheme_labels_round_trip() {
    use webhook_signature::Scheme;
    for scheme in [Scheme::V1, Scheme::V1a] {
        assert_eq!(Scheme::from_label(scheme.label()), Some(scheme));
    }
    assert_eq!(Scheme::from_label("v1"), Some(Scheme::V1));
    assert_eq!(Scheme::from_label("v1a"), Some(Scheme::V1a));
    for unknown in ["", "V1", "v2", "v1 ", " v1", "v1b", "v"] {
        assert_eq!(Scheme::from_label(unknown), None, "{unknown:?}");
    }
}

/// Tokens a header can hold: labels right and wrong, values of the candidate
/// lengths and off by one, commas inside values, stray spaces and bare words.
fn token() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let label = prop_oneof![Just("v1"), Just("v1a"), Just("v2"), Just("V1"), Just("v"), Just("")];
    let value = prop_oneof!["[A-Za-z0-9+/=,]{43,45}", "[A-Za-z0-9+/=,]{87,89}", "[A-Za-z0-9+/=,]{0,6}",];
    prop_oneof![
        (label, value).prop_map(|(label, value)| format!("{label},{value}")),
        "[a-z0-9,]{0,5}",
        Just(String::new()),
    ]
}

proptest::proptest! {
    /// `next_candidate` skips tokens on their length and label; it finds the
    /// same values as `Entry::candidate` over every entry.
    #[test]
    fn candidates_are_the_entries_that_are_candidates(
        tokens in proptest::collection::vec(token(), 0..8),
        separators in proptest::collection::vec(" {1,3}", 8),
    ) {
        let mut header = String::new();
        for (token, separator) in tokens.iter().zip(&separators) {
            header.push_str(token);
            header.push_str(separator);
        }
        for scheme in [Scheme::V1, Scheme::V1a] {
            let fast: Vec<&str> = Signatures::new(&header).candidates(scheme).collect();
            let slow: Vec<&str> = Signatures::new(&header).filter_map(|entry| entry.candidate(scheme)).collect();
            proptest::prop_assert_eq!(fast, slow, "{:?}", header);
        }
    }
}
