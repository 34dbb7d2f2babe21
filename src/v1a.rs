//! The `v1a` scheme: Ed25519 (RFC 8032, pure) over the same content as `v1`.
//!
//! Verification is strict, as ed25519-dalek's `verify_strict`: non-canonical
//! encodings of A, R and s are rejected, and so are small-order A (at key
//! parsing) and R (per signature). Unlike `verify_strict`, the message is
//! streamed into SHA-512 (the hash is of R ‖ A ‖ M), so no body is buffered.

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::SigningKey;
use ed25519_dalek::hazmat::{ExpandedSecretKey, raw_sign_byupdate};
use sha2::{Digest, Sha512};

use crate::content::absorb_prefix;
use crate::{Error, Headers, Scheme, Signature, Signatures, compare};

/// The most `v1a` entries checked per key and delivery: each costs an
/// Ed25519 verification and a hash of the body. Svix sends at most 11
/// signatures; entries beyond the cap are skipped, not an error.
pub const MAX_V1A_CANDIDATES: usize = 16;

/// The prefix of a Standard Webhooks Ed25519 public key.
pub(crate) const PUBLIC_PREFIX: &str = "whpk_";
/// The prefix of a Standard Webhooks Ed25519 secret key.
pub(crate) const SECRET_PREFIX: &str = "whsk_";

/// A checked Ed25519 public key, with −A precomputed for verification.
#[derive(Clone)]
pub(crate) struct PublicKey {
    compressed: [u8; 32],
    minus_a: EdwardsPoint,
}

impl PublicKey {
    /// Parses a 32-byte public key, rejecting non-canonical and small-order points.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let compressed: [u8; 32] = bytes.try_into().map_err(|_| Error::InvalidSecret)?;
        let point = CompressedEdwardsY(compressed).decompress().ok_or(Error::InvalidSecret)?;
        if point.is_small_order() || point.compress().to_bytes() != compressed {
            return Err(Error::InvalidSecret);
        }
        // Point negation is group arithmetic, which cannot overflow.
        #[allow(clippy::arithmetic_side_effects)]
        let minus_a = -point;
        Ok(Self { compressed, minus_a })
    }

    pub(crate) fn to_bytes(&self) -> [u8; 32] {
        self.compressed
    }
}

/// An Ed25519 signing key (the seed and its public key).
#[derive(Clone)]
pub(crate) struct SecretKey {
    signing: SigningKey,
}

impl SecretKey {
    /// A 32-byte seed (the Python and Go proposals), or 64 bytes of seed then
    /// public key (Svix, the JavaScript proposal), whose tail must match.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let signing = match bytes.len() {
            32 => bytes.try_into().map(SigningKey::from_bytes).map_err(|_| Error::InvalidSecret)?,
            64 => bytes
                .try_into()
                .ok()
                .and_then(|pair| SigningKey::from_keypair_bytes(pair).ok())
                .ok_or(Error::InvalidSecret)?,
            _ => return Err(Error::InvalidSecret),
        };
        Ok(Self { signing })
    }

    pub(crate) fn public_key(&self) -> Result<PublicKey, Error> {
        PublicKey::from_bytes(self.signing.verifying_key().as_bytes())
    }

    /// The signature of `parts` concatenated, fed incrementally (Ed25519
    /// hashes the message twice, so it is never assembled in memory).
    pub(crate) fn sign_parts(&self, parts: impl Fn(&mut Sha512)) -> Result<[u8; 64], Error> {
        let update = |hash: &mut Sha512| {
            parts(hash);
            Ok(())
        };
        // The expansion is one SHA-512 of the seed; doing it per signature keeps
        // a single copy of the secret (`ExpandedSecretKey` is not `Clone`).
        let expanded = ExpandedSecretKey::from(self.signing.as_bytes());
        raw_sign_byupdate::<Sha512, _>(&expanded, update, &self.signing.verifying_key())
            .map(|signature| signature.to_bytes())
            .map_err(|_| Error::CannotSign)
    }
}

/// The `v1a,<base64>` entry for a delivery.
pub(crate) fn sign(key: &SecretKey, id: &str, timestamp: &[u8], payload: &[u8]) -> Result<Signature, Error> {
    let raw = key.sign_parts(|hash| {
        absorb_prefix(hash, id, timestamp);
        Digest::update(hash, payload);
    })?;
    Signature::encode(Scheme::V1a, &raw)
}

/// One-shot verification. Kept out of line so that the HMAC path's stack
/// frame does not grow by the ~4.8 KiB of candidate states (measured: +125 ns
/// per `v1` verification when inlined together).
#[inline(never)]
pub(crate) fn verify(key: &PublicKey, headers: &Headers<'_>, payload: &[u8]) -> Result<(), Error> {
    let mut pending = Pending::begin(key, headers)?;
    pending.update(payload);
    pending.finish()
}

/// One `v1a` entry that passed the strict checks, with its hash in progress.
struct Candidate {
    r: [u8; 32],
    s: Scalar,
    hash: Sha512,
}

impl Candidate {
    /// Decodes and checks an entry's value: canonical s, and an R that is a
    /// canonical encoding of a point not of small order.
    fn parse(value: &str) -> Option<([u8; 32], Scalar)> {
        let bytes = compare::decode_canonical::<64>(value)?;
        let (r, s) = bytes.split_at(32);
        let r: [u8; 32] = r.try_into().ok()?;
        let s = Option::from(Scalar::from_canonical_bytes(s.try_into().ok()?))?;
        let point = CompressedEdwardsY(r).decompress()?;
        // A non-canonical R never matches: the recomputed R is compressed canonically.
        (!point.is_small_order()).then_some((r, s))
    }

    /// Checks −[k]A + [s]B = R with k = SHA-512(R ‖ A ‖ M). Everything here is
    /// public (key, signature, message), so variable time is fine.
    fn verify(self, key: &PublicKey) -> bool {
        let k = Scalar::from_bytes_mod_order_wide(&self.hash.finalize().into());
        let r = EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &key.minus_a, &self.s);
        r.compress().to_bytes() == self.r
    }
}

/// A `v1a` verification between the header checks and the final equations:
/// one hash state per candidate entry, at most [`MAX_V1A_CANDIDATES`].
pub(crate) struct Pending {
    key: PublicKey,
    candidates: [Option<Candidate>; MAX_V1A_CANDIDATES],
}

impl Pending {
    /// Takes up to [`MAX_V1A_CANDIDATES`] `v1a` entries (else
    /// [`Error::NoSupportedSignature`], before any hashing) and starts a hash
    /// of `R ‖ A ‖ {id}.{timestamp}.` for each that passes the strict checks.
    pub(crate) fn begin(key: &PublicKey, headers: &Headers<'_>) -> Result<Self, Error> {
        let mut values = Signatures::new(headers.signature).candidates(Scheme::V1a).peekable();
        values.peek().ok_or(Error::NoSupportedSignature)?;
        let mut candidates: [Option<Candidate>; MAX_V1A_CANDIDATES] = Default::default();
        for (slot, value) in candidates.iter_mut().zip(values) {
            *slot = Candidate::parse(value).map(|(r, s)| {
                let mut hash = Sha512::new();
                Digest::update(&mut hash, r);
                Digest::update(&mut hash, key.compressed);
                absorb_prefix(&mut hash, headers.id, headers.timestamp.as_bytes());
                Candidate { r, s, hash }
            });
        }
        Ok(Self { key: key.clone(), candidates })
    }

    pub(crate) fn update(&mut self, chunk: &[u8]) {
        for candidate in self.candidates.iter_mut().flatten() {
            Digest::update(&mut candidate.hash, chunk);
        }
    }

    pub(crate) fn finish(self) -> Result<(), Error> {
        let key = self.key;
        let mut matched = false;
        for candidate in self.candidates.into_iter().flatten() {
            matched |= candidate.verify(&key);
        }
        if matched { Ok(()) } else { Err(Error::NoMatchingSignature) }
    }
}

#[cfg(test)]
mod tests {
    #[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]
    mod rfc8032 {
        use std::vec::Vec;
        include!("../tests/common/rfc8032.rs");
    }

    use std::string::String;

    use super::*;

    /// The raw Ed25519 layer, fed the message alone, reproduces RFC 8032's
    /// signatures, and the streamed strict verification accepts them.
    #[test]
    fn raw_layer_reproduces_rfc8032_section_7_1() {
        for (i, (seed, public, message, signature)) in rfc8032::RFC8032.iter().enumerate() {
            let (seed, message) = (rfc8032::hex(seed), rfc8032::hex(message));
            let key = SecretKey::from_bytes(&seed).unwrap();
            let raw = key.sign_parts(|hash| Digest::update(hash, &message)).unwrap();
            assert_eq!(raw.to_vec(), rfc8032::hex(signature), "test {}", i + 1);

            let public = PublicKey::from_bytes(&rfc8032::hex(public)).unwrap();
            let (r, s) = Candidate::parse(&base64(&raw)).unwrap();
            let mut hash = Sha512::new();
            for part in [&r[..], &public.compressed, &message] {
                Digest::update(&mut hash, part);
            }
            assert!(Candidate { r, s, hash }.verify(&public), "test {}", i + 1);
        }
    }

    fn base64(bytes: &[u8]) -> String {
        use base64ct::{Base64, Encoding};
        Base64::encode_string(bytes)
    }

    #[test]
    fn small_order_r_and_non_canonical_s_are_rejected() {
        let (_, public, _, signature) = rfc8032::RFC8032[0];
        let signature = rfc8032::hex(signature);
        assert!(Candidate::parse(&base64(&signature)).is_some());
        let small_order = [
            "0100000000000000000000000000000000000000000000000000000000000000",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        ];
        for point in small_order {
            let mut forged = rfc8032::hex(point);
            forged.extend_from_slice(&signature[32..]);
            assert!(Candidate::parse(&base64(&forged)).is_none(), "R = {point}");
            assert!(PublicKey::from_bytes(&rfc8032::hex(point)).is_err(), "A = {point}");
        }
        // s + L is the same scalar mod L but not canonical.
        const L: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut high_s = signature.clone();
        let mut carry = 0u16;
        for (byte, l) in high_s[32..].iter_mut().zip(L) {
            let sum = u16::from(*byte) + u16::from(l) + carry;
            *byte = sum as u8;
            carry = sum >> 8;
        }
        assert!(Candidate::parse(&base64(&high_s)).is_none());
        assert!(PublicKey::from_bytes(&rfc8032::hex(public)).is_ok());
    }
}
