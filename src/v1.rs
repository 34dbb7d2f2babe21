//! The `v1` scheme: HMAC-SHA256 with the shared secret, base64 in the header.

use hmac::Mac;

use crate::content::absorb_prefix;
use crate::key::HmacSha256;
use crate::{Error, Headers, Scheme, Signature, Signatures, compare};

/// A `v1` verification between the header checks and the comparison.
pub(crate) struct Pending<'a> {
    /// The first candidate entry, found before hashing, and the entries after it.
    first: &'a str,
    rest: Signatures<'a>,
    mac: HmacSha256,
}

impl<'a> Pending<'a> {
    /// Finds the first candidate (else [`Error::NoSupportedSignature`], before
    /// any hashing) and absorbs `{id}.{timestamp}.` into a copy of `key`.
    #[inline(always)]
    pub(crate) fn begin(key: &HmacSha256, headers: &Headers<'a>) -> Result<Self, Error> {
        let mut rest = Signatures::new(headers.signature);
        let first = rest.next_candidate(Scheme::V1).ok_or(Error::NoSupportedSignature)?;
        let mut mac = key.clone();
        absorb_prefix(&mut mac, headers.id, headers.timestamp.as_bytes());
        Ok(Self { first, rest, mac })
    }

    #[inline(always)]
    pub(crate) fn update(&mut self, chunk: &[u8]) {
        self.mac.update(chunk);
    }

    /// Compares the tag with every candidate, in constant time and with no
    /// early exit; the number of entries is not capped.
    #[inline(always)]
    pub(crate) fn finish(self) -> Result<(), Error> {
        let tag: [u8; 32] = self.mac.finalize().into_bytes().into();
        let mut matched = compare::matches(self.first, &tag);
        for candidate in self.rest.candidates(Scheme::V1) {
            // `|` rather than `||`: every candidate is compared.
            matched |= compare::matches(candidate, &tag);
        }
        if matched { Ok(()) } else { Err(Error::NoMatchingSignature) }
    }
}

/// The `v1,<base64>` entry for a delivery.
pub(crate) fn sign(key: &HmacSha256, id: &str, timestamp: &[u8], payload: &[u8]) -> Result<Signature, Error> {
    let mut mac = key.clone();
    absorb_prefix(&mut mac, id, timestamp);
    mac.update(payload);
    Signature::encode(Scheme::V1, &mac.finalize().into_bytes())
}
