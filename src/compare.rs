//! Matching a candidate signature from the header against the expected one.
//!
//! The expected signature is secret until the comparison is done, so it is
//! compared in constant time. A `v1` tag is encoded once, with the
//! constant-time encoder of `encode.rs`, and each candidate's text is
//! compared with that text: only the canonical padded base64 can match. That
//! measured faster than decoding each candidate with a table (`cargo bench
//! --bench ratio`: streaming / one-shot at 512 B 1.009–1.018 against
//! 1.024–1.031, in the same machine phase). A `v1a` signature is decoded, with
//! a plain table (the candidate is public: the sender, or an attacker, wrote
//! it), and must be the canonical padded base64 of exactly 64 bytes.
//!
//! Measured on a 44-byte comparison (criterion, 2-core EPYC,
//! `cargo bench --bench verify -- compare`): `subtle`'s slice `ct_eq` took
//! 75 ns, because it works a byte at a time behind an optimisation barrier;
//! `constant_time_eq` took 1.4–4.4 ns, working word-wise (SIMD where available)
//! with the same guarantee: time depends on the length, never on the contents
//! or the position of a difference. So the crate uses `constant_time_eq`.

/// The standard base64 alphabet (RFC 4648, section 4).
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Marks a byte outside the alphabet; its top bits are set, unlike any 6-bit value.
const INVALID: u8 = 0xff;

/// Maps each byte to its 6-bit value, or [`INVALID`].
// Evaluated at compile time: an out-of-bounds index would fail the build.
#[allow(clippy::indexing_slicing)]
const DECODE: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut value = 0;
    while value < ALPHABET.len() {
        table[ALPHABET[value] as usize] = value as u8;
        value += 1;
    }
    table
};

fn sextet(byte: u8) -> u32 {
    // Any u8 indexes a 256-entry table; the fallback is never taken.
    u32::from(DECODE.get(usize::from(byte)).copied().unwrap_or(INVALID))
}

/// Decodes the canonical padded base64 of exactly `N` bytes, or `None`.
///
/// Canonical: the length is exact, padding is present and right, and the
/// unused bits of the last character are zero, so one signature has one text.
pub(crate) fn decode_canonical<const N: usize>(text: &str) -> Option<[u8; N]> {
    let text = text.as_bytes();
    if text.len() != N.div_ceil(3).saturating_mul(4) {
        return None;
    }
    let mut out = [0u8; N];
    let mut quads = text.chunks_exact(4);
    let mut triples = out.chunks_exact_mut(3);
    let mut flags = 0;
    for (quad, triple) in quads.by_ref().zip(triples.by_ref()) {
        let &[a, b, c, d] = quad else { return None };
        let (a, b, c, d) = (sextet(a), sextet(b), sextet(c), sextet(d));
        flags |= a | b | c | d;
        let word = (a << 18) | (b << 12) | (c << 6) | d;
        let [_, high, middle, low] = word.to_be_bytes();
        triple.copy_from_slice(&[high, middle, low]);
    }
    // What is left: a last quad of padding ("xy==" or "xyz=") for the last
    // one or two bytes, or nothing when N is a multiple of 3.
    let rest = triples.into_remainder();
    let last = text.get(text.len().saturating_sub(4)..)?;
    if !rest.is_empty() {
        if !last_quad_is_canonical(last, rest.len()) {
            return None;
        }
        let word = last.iter().fold(0u32, |word, &byte| (word << 6) | (sextet(byte) & 0x3f));
        let [_, high, middle, _] = word.to_be_bytes();
        for (slot, byte) in rest.iter_mut().zip([high, middle]) {
            *slot = byte;
        }
    }
    (flags < 64).then_some(out)
}

/// Whether a final quad holding `kept` bytes is "xy==" (1) or "xyz=" (2), with
/// the unused low bits of the last data character zero.
fn last_quad_is_canonical(quad: &[u8], kept: usize) -> bool {
    match (kept, quad) {
        (1, &[a, b, b'=', b'=']) => sextet(a) < 64 && sextet(b) & !0x30 == 0,
        (2, &[a, b, c, b'=']) => (sextet(a) | sextet(b)) < 64 && sextet(c) & !0x3c == 0,
        _ => false,
    }
}

/// Whether the header's `candidate` is the text `expected` (the canonical
/// base64 of a tag), in time independent of `expected`'s contents; the
/// candidate's length is public.
#[inline(always)]
pub(crate) fn matches_text<const L: usize>(candidate: &str, expected: &[u8; L]) -> bool {
    <&[u8; L]>::try_from(candidate.as_bytes()).is_ok_and(|candidate| equal(candidate, expected))
}

/// Whether `decoded` equals `expected`, in time independent of their contents.
#[inline(always)]
pub(crate) fn equal<const N: usize>(decoded: &[u8; N], expected: &[u8; N]) -> bool {
    constant_time_eq::constant_time_eq_n(decoded, expected)
}

#[cfg(test)]
mod tests {
    use base64ct::{Base64, Encoding};
    use proptest::prelude::*;

    use super::decode_canonical;

    fn strict<const N: usize>(text: &str) -> Option<[u8; N]> {
        let mut out = [0u8; N];
        // base64ct's padded decoder is strict: exact padding, canonical bits.
        Base64::decode(text, &mut out).ok().filter(|d| d.len() == N)?;
        Some(out)
    }

    proptest! {
        #[test]
        fn agrees_with_base64ct_on_near_valid_text(text in "[A-Za-z0-9+/]{42,43}={0,2}|[A-Za-z0-9+/=]{44}|[A-Za-z0-9+/]{86,87}={0,2}") {
            prop_assert_eq!(decode_canonical::<32>(&text), strict::<32>(&text));
            prop_assert_eq!(decode_canonical::<64>(&text), strict::<64>(&text));
        }

        #[test]
        fn agrees_with_base64ct_with_invalid_characters(text in "[A-Za-z0-9+/=_.!* -]{44}|[A-Za-z0-9+/=_.!* -]{88}") {
            prop_assert_eq!(decode_canonical::<32>(&text), strict::<32>(&text));
            prop_assert_eq!(decode_canonical::<64>(&text), strict::<64>(&text));
        }

        #[test]
        fn decodes_every_encoding(bytes in any::<[u8; 32]>()) {
            let text = Base64::encode_string(&bytes);
            prop_assert_eq!(decode_canonical::<32>(&text), Some(bytes));
        }
    }

    /// Candidates with one, two, three or four characters outside the
    /// alphabet in any quad, at every position: never decoded.
    #[test]
    fn invalid_characters_in_any_quad_position_are_refused() {
        let valid = Base64::encode_string(&[0x5a; 32]);
        let valid = valid.as_bytes();
        for invalid in [b'-', b'_', b'!', b'.', b' ', b'='] {
            for quad in 0..valid.len() / 4 {
                for mask in 1u8..16 {
                    let mut text = valid.to_vec();
                    for position in 0..4 {
                        if mask & (1 << position) != 0 {
                            text[quad * 4 + position] = invalid;
                        }
                    }
                    if text == valid {
                        continue; // the last quad's padding replaced by itself
                    }
                    let text = core::str::from_utf8(&text).unwrap();
                    assert_eq!(decode_canonical::<32>(text), None, "{text}");
                }
            }
        }
        assert!(decode_canonical::<32>(core::str::from_utf8(valid).unwrap()).is_some());
    }

    /// Two candidates whose invalid characters would cancel out if the
    /// validity flags were combined with `^` or `&` instead of `|`.
    #[test]
    fn pairs_of_invalid_characters_do_not_cancel() {
        let valid = Base64::encode_string(&[0u8; 32]);
        for (first, second) in [(0, 1), (0, 2), (1, 3), (2, 3), (4, 7), (40, 41)] {
            let mut text = valid.clone().into_bytes();
            text[first] = b'-';
            text[second] = b'_';
            assert_eq!(
                decode_canonical::<32>(core::str::from_utf8(&text).unwrap()),
                None,
                "{first} {second}"
            );
        }
    }
}
