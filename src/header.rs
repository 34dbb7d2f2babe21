use crate::lanes;

/// The signature schemes of Standard Webhooks, by their version label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scheme {
    /// `v1`: HMAC-SHA256 with the shared `whsec_` secret.
    V1,
    /// `v1a`: Ed25519 with a `whpk_` public / `whsk_` secret key pair.
    V1a,
}

impl Scheme {
    /// The version label as it appears before the comma (`"v1"`, `"v1a"`).
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            Self::V1 => "v1",
            Self::V1a => "v1a",
        }
    }

    /// The length of a well-formed value: canonical padded base64 of the
    /// 32-byte HMAC tag or the 64-byte Ed25519 signature.
    #[must_use]
    pub const fn encoded_len(self) -> usize {
        match self {
            Self::V1 => 44,
            Self::V1a => 88,
        }
    }

    /// The scheme named by `label`, compared exactly (`V1` and `v2` are unknown).
    #[must_use]
    pub fn from_label(label: &str) -> Option<Self> {
        match label {
            "v1" => Some(Self::V1),
            "v1a" => Some(Self::V1a),
            _ => None,
        }
    }
}

/// One `version,value` entry of a `webhook-signature` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The text before the first comma, e.g. `"v1"`.
    pub version: &'a str,
    /// The text after the first comma: base64 for the known schemes.
    pub value: &'a str,
}

impl<'a> Entry<'a> {
    /// The entry's value if its version is `scheme` and its length is the
    /// scheme's encoded length: a candidate worth comparing.
    #[must_use]
    #[inline]
    pub fn candidate(&self, scheme: Scheme) -> Option<&'a str> {
        // The label as a pattern: compared inline, where `==` on the slices
        // became a `bcmp` call.
        let labelled = match scheme {
            Scheme::V1 => matches!(self.version.as_bytes(), b"v1"),
            Scheme::V1a => matches!(self.version.as_bytes(), b"v1a"),
        };
        (labelled && self.value.len() == scheme.encoded_len()).then_some(self.value)
    }
}

/// An iterator over the entries of a `webhook-signature` header.
///
/// "The signature header is a space delimited list of signatures"
/// (Standard Webhooks, "Verifying webhooks"). Runs of spaces, and leading or
/// trailing spaces, separate nothing; each entry splits at its first comma.
/// A token without a comma is malformed and skipped. Every yielded string is a
/// sub-slice of the header. The number of entries is not capped: each costs
/// one scan over its bytes.
///
/// # Examples
/// ```
/// use webhook_signature::{Entry, Signatures};
/// let mut entries = Signatures::new("  v1,abc  garbage v1a,d,e ");
/// assert_eq!(entries.next(), Some(Entry { version: "v1", value: "abc" }));
/// assert_eq!(entries.next(), Some(Entry { version: "v1a", value: "d,e" }));
/// assert_eq!(entries.next(), None);
/// ```
#[derive(Clone, Debug)]
pub struct Signatures<'a> {
    rest: &'a str,
}

impl<'a> Signatures<'a> {
    /// Iterates over the entries of `header`.
    #[must_use]
    pub fn new(header: &'a str) -> Self {
        Self { rest: header }
    }

    /// The value of the next entry that is a candidate for `scheme`.
    ///
    /// The same entries as [`Entry::candidate`] over [`next`](Iterator::next),
    /// found with less work: a candidate is a token of exactly
    /// `{label},{value}` length that starts with `{label},`, so other tokens
    /// are skipped on their length and first bytes, without looking for
    /// their comma.
    #[inline]
    pub fn next_candidate(&mut self, scheme: Scheme) -> Option<&'a str> {
        let value_start = scheme.label().len().saturating_add(1);
        let token_len = value_start.saturating_add(scheme.encoded_len());
        loop {
            let token = self.next_token()?;
            let len = token.len();
            // Patterns, compared inline (`starts_with` on a slice is a call).
            let labelled = match scheme {
                Scheme::V1 => matches!(token.as_bytes(), [b'v', b'1', b',', ..]),
                Scheme::V1a => matches!(token.as_bytes(), [b'v', b'1', b'a', b',', ..]),
            };
            if labelled && len == token_len {
                return token.get(value_start..);
            }
        }
    }

    /// The next space-separated token, or `None` at the end.
    #[inline(always)]
    fn next_token(&mut self) -> Option<&'a str> {
        let token_start = self.rest.bytes().position(|b| b != b' ')?;
        let rest = self.rest.get(token_start..)?;
        let len = find_space(rest.as_bytes()).unwrap_or(rest.len());
        let (token, after) = rest.split_at_checked(len)?;
        self.rest = after;
        Some(token)
    }

    /// The header after the entries taken so far.
    #[inline(always)]
    pub(crate) fn remainder(&self) -> &'a str {
        self.rest
    }

    /// The values of the entries that are candidates for `scheme`.
    #[inline]
    pub fn candidates(mut self, scheme: Scheme) -> impl Iterator<Item = &'a str> {
        core::iter::from_fn(move || self.next_candidate(scheme))
    }
}

impl<'a> Iterator for Signatures<'a> {
    type Item = Entry<'a>;

    #[inline]
    fn next(&mut self) -> Option<Entry<'a>> {
        // A plain byte scan: headers are short, and `str::split` sets up a
        // memchr search per token, which cost more than the scan itself.
        loop {
            let token = self.next_token()?;
            if let Some(comma) = token.bytes().position(|b| b == b',') {
                let (version, value) = token.split_at_checked(comma)?;
                return Some(Entry { version, value: value.get(1..)? });
            }
        }
    }
}

/// The index of the first space in `bytes`, eight bytes at a time.
///
/// Signature values are tens of bytes long, so a word-wise scan beats both a
/// byte loop and `memchr`'s set-up cost.
#[inline]
fn find_space(bytes: &[u8]) -> Option<usize> {
    let (words, tail) = bytes.as_chunks::<8>();
    for (index, &word) in words.iter().enumerate() {
        if let Some(lane) = first_space(word) {
            return index.checked_mul(8)?.checked_add(lane);
        }
    }
    if tail.is_empty() {
        return None;
    }
    // The last eight bytes as one more word, overlapping the words above
    // (which hold no space), rather than a byte loop over the tail.
    if let Some(&last) = bytes.last_chunk::<8>() {
        return bytes.len().checked_sub(8)?.checked_add(first_space(last)?);
    }
    bytes.iter().position(|&b| b == b' ')
}

/// The lane of the first space in `word`: a zero byte after `^` with spaces,
/// and the lowest flagged lane is exact.
#[inline(always)]
fn first_space(word: [u8; 8]) -> Option<usize> {
    let flagged = lanes::below(u64::from_le_bytes(word) ^ lanes::splat(b' '), 1);
    (flagged != 0).then_some((flagged.trailing_zeros() / 8) as usize)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]

    use super::find_space;

    /// The word-wise scan, overlapping tail word included, finds the first
    /// space as a byte loop does: every length to 40, no space or one or two
    /// at every pair of positions, around bytes that borrow in the lane test
    /// (`!`, just above the space, and 0x00, just below).
    #[test]
    fn find_space_equals_a_byte_loop() {
        for filler in [b'A', b'!', 0x00, 0xff] {
            for len in 0..=40usize {
                let pairs =
                    (0..len).flat_map(|first| (first..=len).map(move |second| [Some(first), Some(second)]));
                for spaces in core::iter::once([None, None]).chain(pairs) {
                    let mut bytes = [filler; 41];
                    for position in spaces.into_iter().flatten() {
                        bytes[position] = b' ';
                    }
                    let bytes = &bytes[..len];
                    assert_eq!(find_space(bytes), bytes.iter().position(|&b| b == b' '), "{bytes:?}");
                }
            }
        }
    }
}
