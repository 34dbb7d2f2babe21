//! The `v1` scheme: HMAC-SHA256 with the shared secret, base64 in the header.

use crate::hmac256::{BLOCK, HmacKey, Mac};
use crate::{Error, Headers, Scheme, Signature, Signatures, compare, encode};

/// A `v1` verification between the header checks and the comparison.
///
/// 128 bytes: a move of up to 128 bytes is a few vector moves, a larger one a
/// `memcpy` call, and `begin` returns the verification by move. A copy of the
/// key would make it 208 bytes, and that call would be most of a 4-5%
/// streaming cost over one-shot at 512 B.
pub(crate) struct Pending<'a> {
    key: &'a HmacKey,
    /// The signature header from the first candidate on, found before any
    /// hashing: its first [`TOKEN_LEN`] bytes are that candidate's token.
    entries: &'a str,
    mac: Mac,
}

/// The length of a `v1` candidate's value: 44 base64 characters.
const VALUE_LEN: usize = Scheme::V1.encoded_len();

/// The length of a `v1` candidate's token: `v1,` and its value.
const TOKEN_LEN: usize = 3 + VALUE_LEN;

impl<'a> Pending<'a> {
    /// Starts a MAC under `key`, absorbs `{id}.{timestamp}.` and finds the
    /// first candidate (else [`Error::NoSupportedSignature`], before any
    /// hashing).
    #[inline(always)]
    pub(crate) fn begin(key: &'a HmacKey, headers: &Headers<'a>) -> Result<Self, Error> {
        let mut mac = key.start();
        let entries = absorb_around(&mut mac, headers, || from_first_candidate(headers.signature))?;
        Ok(Self { key, entries, mac })
    }

    #[inline(always)]
    pub(crate) fn update(&mut self, chunk: &[u8]) {
        self.mac.update(chunk);
    }

    /// Compares the tag with every candidate, in constant time and with no
    /// early exit; the number of entries is not capped.
    #[inline(always)]
    pub(crate) fn finish(&mut self) -> Result<(), Error> {
        let tag = self.key.finish(&mut self.mac);
        // `begin` found the token: the split cannot fail.
        let (token, rest) = self.entries.split_at_checked(TOKEN_LEN).ok_or(Error::NoMatchingSignature)?;
        let first = token.get(3..).ok_or(Error::NoMatchingSignature)?;
        compare_all(first, Signatures::new(rest), &tag)
    }
}

/// The first `v1` candidate of the header and the entries after it, found
/// before any hashing; else [`Error::NoSupportedSignature`].
#[inline(always)]
fn first_candidate(signature: &str) -> Result<(&str, Signatures<'_>), Error> {
    let mut rest = Signatures::new(signature);
    let first = rest.next_candidate(Scheme::V1).ok_or(Error::NoSupportedSignature)?;
    Ok((first, rest))
}

/// The header from its first `v1` candidate's token on; else
/// [`Error::NoSupportedSignature`]. The token ends where the entries after
/// it start, so it starts [`TOKEN_LEN`] bytes before them.
#[inline(always)]
fn from_first_candidate(signature: &str) -> Result<&str, Error> {
    let (_, rest) = first_candidate(signature)?;
    let start = signature.len().saturating_sub(rest.remainder().len()).saturating_sub(TOKEN_LEN);
    signature.get(start..).ok_or(Error::NoSupportedSignature)
}

/// Compares `tag` with `first` and every later candidate, in constant time
/// and with no early exit; the number of entries is not capped.
#[inline(always)]
fn compare_all(first: &str, rest: Signatures<'_>, tag: &[u8; 32]) -> Result<(), Error> {
    let expected = encode_tag(tag);
    let mut matched = compare::matches_text(first, &expected);
    for candidate in rest.candidates(Scheme::V1) {
        // `|` rather than `||`: every candidate is compared.
        matched |= compare::matches_text(candidate, &expected);
    }
    if matched { Ok(()) } else { Err(Error::NoMatchingSignature) }
}

/// The tag's canonical base64, the only text a matching candidate can be.
///
/// Encoding the tag (constant time, no table) and comparing texts measured
/// faster than decoding each candidate with a table and comparing bytes.
#[inline(always)]
fn encode_tag(tag: &[u8; 32]) -> [u8; VALUE_LEN] {
    let mut text = [0u8; VALUE_LEN];
    // 32 bytes encode to exactly 44 characters: `Some`.
    let _ = encode::encode_padded(tag, &mut text);
    text
}

/// One-shot verification: the first candidate is found before any hashing,
/// then the tag is computed and compared with every candidate.
#[inline(always)]
pub(crate) fn verify(key: &HmacKey, headers: &Headers<'_>, payload: &[u8]) -> Result<(), Error> {
    let mut mac = key.start();
    let (first, rest) = absorb_around(&mut mac, headers, || first_candidate(headers.signature))?;
    mac.update(payload);
    compare_all(first, rest, &key.finish(&mut mac))
}

/// Absorbs `{id}.{timestamp}.` into `mac` around `scan`, the header scan.
///
/// Copied before the scan when the prefix fits the first block and the
/// header starts like a `v1` candidate (the usual delivery): the copy's short
/// stores then reach the cache during the scan, where right before the next
/// wide loads of the block (the move out of `begin`, the first compression)
/// they would stall those loads on store forwarding. Measured A/B against the
/// copy after the scan (`cargo bench --bench ratio`): streaming / one-shot at
/// 512 B 0.99 against 1.02-1.04, and one-shot 3.5% faster at 64 B and 1.5% at
/// 512 B. Otherwise after the scan: a header with no candidate is rejected
/// without the copy (80 instructions, a third of such a rejection), and a
/// longer prefix, which compresses a block, is never hashed before the scan.
#[inline(always)]
fn absorb_around<T>(
    mac: &mut Mac,
    headers: &Headers<'_>,
    scan: impl FnOnce() -> Result<T, Error>,
) -> Result<T, Error> {
    let (id, timestamp) = (headers.id.as_bytes(), headers.timestamp.as_bytes());
    let signature = headers.signature.as_bytes();
    let early = id.len().saturating_add(timestamp.len()) < BLOCK - 2
        && signature.len() >= TOKEN_LEN
        && matches!(signature, [b'v', b'1', b',', ..]);
    if early {
        absorb_prefix(mac, id, timestamp);
    }
    let found = scan()?;
    if !early {
        absorb_prefix(mac, id, timestamp);
    }
    Ok(found)
}

/// How many keys' tags [`match_tags`] compares in one scan of the header.
pub(crate) const KEY_BATCH: usize = 8;

/// Absorbs `{id}.{timestamp}.` (Standard Webhooks, "Signature scheme": the
/// content is `msg_id.timestamp.payload`).
// One copy in WebAssembly: `absorb_around` calls it in two places, and two
// inlined copies cost 1 KB of the HMAC module's 32 KiB budget.
#[cfg_attr(target_arch = "wasm32", inline(never))]
#[cfg_attr(not(target_arch = "wasm32"), inline(always))]
fn absorb_prefix(mac: &mut Mac, id: &[u8], timestamp: &[u8]) {
    mac.append_small(id);
    mac.append_small(b".");
    mac.append_small(timestamp);
    mac.append_small(b".");
}

/// The tag of `{id}.{timestamp}.{payload}` under `key`, in one call.
#[inline(always)]
pub(crate) fn tag(key: &HmacKey, id: &str, timestamp: &[u8], payload: &[u8]) -> [u8; 32] {
    let mut mac = key.start();
    absorb_prefix(&mut mac, id.as_bytes(), timestamp);
    mac.update(payload);
    key.finish(&mut mac)
}

/// Which of `tags` some `v1` entry of `signature` matches, in one scan: each
/// candidate is decoded once and compared with every tag in constant time,
/// with no early exit.
pub(crate) fn match_tags(signature: &str, tags: &[Option<[u8; 32]>; KEY_BATCH]) -> [bool; KEY_BATCH] {
    let mut matched = [false; KEY_BATCH];
    if tags.iter().all(Option::is_none) {
        return matched;
    }
    for candidate in Signatures::new(signature).candidates(Scheme::V1) {
        let Some(decoded) = compare::decode_canonical::<32>(candidate) else { continue };
        for (hit, tag) in matched.iter_mut().zip(tags) {
            if let Some(tag) = tag {
                *hit |= compare::equal(&decoded, tag);
            }
        }
    }
    matched
}

/// The `v1,<base64>` entry for a delivery.
pub(crate) fn sign(key: &HmacKey, id: &str, timestamp: &[u8], payload: &[u8]) -> Result<Signature, Error> {
    Signature::encode(Scheme::V1, &tag(key, id, timestamp, payload))
}
