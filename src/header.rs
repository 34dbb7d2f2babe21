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
    pub fn candidate(&self, scheme: Scheme) -> Option<&'a str> {
        let fits = self.value.len() == scheme.encoded_len();
        (fits && self.version == scheme.label()).then_some(self.value)
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
    tokens: core::str::Split<'a, char>,
}

impl<'a> Signatures<'a> {
    /// Iterates over the entries of `header`.
    #[must_use]
    pub fn new(header: &'a str) -> Self {
        Self {
            tokens: header.split(' '),
        }
    }

    /// The values of the entries that are candidates for `scheme`.
    pub fn candidates(self, scheme: Scheme) -> impl Iterator<Item = &'a str> {
        self.filter_map(move |entry| entry.candidate(scheme))
    }
}

impl<'a> Iterator for Signatures<'a> {
    type Item = Entry<'a>;

    fn next(&mut self) -> Option<Entry<'a>> {
        self.tokens.by_ref().find_map(|token| {
            let (version, value) = token.split_once(',')?;
            Some(Entry { version, value })
        })
    }
}
