//! The one constant-time comparison the crate makes.
//!
//! Measured on the 44-byte base64 tag (criterion, 2-core EPYC, see
//! `benches/verify.rs` group `compare`): `subtle`'s slice `ct_eq` took 75 ns,
//! because it works a byte at a time behind an optimisation barrier;
//! `constant_time_eq` took 4.4 ns, working word-wise (SIMD where available)
//! with the same guarantee: time depends on the length, never on the contents
//! or the position of a difference. So the crate uses `constant_time_eq`.

/// Whether `candidate` equals `expected`, in time independent of their
/// contents. The length of `candidate` is public (it is the attacker's input);
/// only equal lengths are compared.
pub(crate) fn matches<const N: usize>(candidate: &str, expected: &[u8; N]) -> bool {
    <&[u8; N]>::try_from(candidate.as_bytes())
        .is_ok_and(|candidate| constant_time_eq::constant_time_eq_n(candidate, expected))
}
