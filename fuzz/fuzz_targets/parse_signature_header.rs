//! Arbitrary bytes as a `webhook-signature` header: the entry iterator never
//! panics, and every entry it yields is a sub-slice of the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use webhook_signature::{Scheme, Signatures};

fuzz_target!(|data: &[u8]| {
    let Ok(header) = core::str::from_utf8(data) else { return };
    let range = header.as_bytes().as_ptr_range();
    let inside = |part: &str| {
        let part = part.as_bytes().as_ptr_range();
        range.start <= part.start && part.end <= range.end
    };
    for entry in Signatures::new(header) {
        assert!(inside(entry.version) && inside(entry.value));
        assert!(!entry.version.contains(' ') && !entry.value.contains(' '));
        assert!(!entry.version.contains(','));
    }
    for scheme in [Scheme::V1, Scheme::V1a] {
        for value in Signatures::new(header).candidates(scheme) {
            assert!(inside(value) && value.len() == scheme.encoded_len());
        }
    }
});
