//! Eight bytes in the lanes of a `u64`: the constants and the zero-byte test
//! that the header scan, the id check and the base64 encoder share.

/// Each lane set to one.
pub(crate) const LANES: u64 = u64::from_ne_bytes([0x01; 8]);
/// The top bit of each lane.
pub(crate) const TOPS: u64 = LANES << 7;

/// `byte` in every lane.
#[inline(always)]
pub(crate) const fn splat(byte: u8) -> u64 {
    LANES.wrapping_mul(byte as u64)
}

/// A lane's top bit for each byte of `word` below `bound` (at most 0x80);
/// `bound` 1 finds zero bytes. The lowest flagged lane is always exact, a
/// higher one may be flagged by the borrow out of a flagged lane below it, so
/// the result is exact as a whole and in its lowest lane.
#[inline(always)]
pub(crate) const fn below(word: u64, bound: u8) -> u64 {
    word.wrapping_sub(splat(bound)) & !word & TOPS
}
