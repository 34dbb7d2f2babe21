use core::time::Duration;

use crate::Error;

/// The longest decimal rendering of a `u64` (`18446744073709551615`).
pub(crate) const MAX_DIGITS: usize = 20;

/// Seconds since the Unix epoch, as carried by `webhook-timestamp`.
///
/// Time is always passed in: the library never reads a clock, except in
/// `Timestamp::now` (feature `std`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(u64);

impl Timestamp {
    /// A timestamp from seconds since the Unix epoch.
    #[must_use]
    pub const fn from_unix_secs(secs: u64) -> Self {
        Self(secs)
    }

    /// Seconds since the Unix epoch.
    #[must_use]
    pub const fn as_unix_secs(self) -> u64 {
        self.0
    }

    /// The current time from the system clock (a clock before 1970 reads as 0).
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    #[must_use]
    pub fn now() -> Self {
        let since_epoch =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or(Duration::ZERO);
        Self(since_epoch.as_secs())
    }

    /// Parses a `webhook-timestamp` value: ASCII digits only.
    ///
    /// A sign, space, dot, exponent or non-ASCII digit is rejected, although
    /// `"+12".parse::<u64>()` would accept the sign. Leading zeros are allowed.
    ///
    /// # Errors
    /// [`Error::InvalidTimestamp`] if the text is empty, holds anything but
    /// `0`–`9`, or is larger than `u64::MAX`.
    ///
    /// # Examples
    /// ```
    /// use webhook_signature::{Error, Timestamp};
    /// assert_eq!(Timestamp::parse("1614265330"), Ok(Timestamp::from_unix_secs(1614265330)));
    /// assert_eq!(Timestamp::parse("+1614265330"), Err(Error::InvalidTimestamp));
    /// ```
    #[inline]
    pub fn parse(text: &str) -> Result<Self, Error> {
        if text.is_empty() {
            return Err(Error::InvalidTimestamp);
        }
        // Nineteen digits always fit in a u64, so only longer text needs
        // overflow checks; the common ten-digit case runs without them.
        let (short, long) = text.as_bytes().split_at(text.len().min(19));
        let (eights, rest) = short.as_chunks::<8>();
        let mut secs: u64 = 0;
        for eight in eights {
            secs = secs.wrapping_mul(100_000_000).wrapping_add(eight_digits(*eight)?);
        }
        for &byte in rest {
            secs = secs.wrapping_mul(10).wrapping_add(digit(byte)?);
        }
        for &byte in long {
            let digit = digit(byte)?;
            secs = secs.checked_mul(10).and_then(|s| s.checked_add(digit)).ok_or(Error::InvalidTimestamp)?;
        }
        Ok(Self(secs))
    }

    /// Checks that `self` lies within `tolerance` seconds of `now`, both ends inclusive.
    ///
    /// This is the window [`Webhook::verify`](crate::Webhook::verify) applies;
    /// it is public so that other ways of authenticating a delivery (such as a
    /// signed token) can apply the same one.
    ///
    /// `abs_diff` cannot overflow, so the window is right at `now = 0` and
    /// `now = u64::MAX`, where one side of it does not exist.
    ///
    /// # Errors
    /// [`Error::TimestampTooOld`] or [`Error::TimestampTooNew`].
    ///
    /// # Examples
    /// ```
    /// use core::time::Duration;
    /// use webhook_signature::{Error, Timestamp};
    /// let sent = Timestamp::from_unix_secs(1_000);
    /// let minute = Duration::from_secs(60);
    /// assert_eq!(sent.check_window(Timestamp::from_unix_secs(1_060), minute), Ok(()));
    /// assert_eq!(sent.check_window(Timestamp::from_unix_secs(1_061), minute), Err(Error::TimestampTooOld));
    /// assert_eq!(sent.check_window(Timestamp::from_unix_secs(939), minute), Err(Error::TimestampTooNew));
    /// ```
    pub fn check_window(self, now: Self, tolerance: Duration) -> Result<(), Error> {
        if self.0.abs_diff(now.0) <= tolerance.as_secs() {
            Ok(())
        } else if self.0 < now.0 {
            Err(Error::TimestampTooOld)
        } else {
            Err(Error::TimestampTooNew)
        }
    }

    /// Renders the decimal digits into `buf`, returning the used tail of it.
    ///
    /// Eight digits at a time in one word: a digit-by-digit loop is a chain
    /// of twenty dependent divisions for the widest value and ten for a
    /// timestamp of today.
    pub(crate) fn digits(self, buf: &mut [u8; MAX_DIGITS]) -> &[u8] {
        const EIGHT: u64 = 100_000_000;
        let (high, low) = (self.0 / EIGHT, self.0 % EIGHT);
        let (top, middle) = (high / EIGHT, high % EIGHT);
        // `top` is at most 1844 (u64::MAX has 20 digits): the last four of its eight.
        let [.., t0, t1, t2, t3] = eight_ascii(top);
        let [m0, m1, m2, m3, m4, m5, m6, m7] = eight_ascii(middle);
        let [l0, l1, l2, l3, l4, l5, l6, l7] = eight_ascii(low);
        *buf = [t0, t1, t2, t3, m0, m1, m2, m3, m4, m5, m6, m7, l0, l1, l2, l3, l4, l5, l6, l7];
        let len = self.0.checked_ilog10().map_or(1, |log| (log as usize).saturating_add(1));
        buf.get(MAX_DIGITS.saturating_sub(len)..).unwrap_or_default()
    }
}

/// The eight ASCII digits of `value` (below 10^8), leading zeros included:
/// halves, then pairs, then single digits, each split lane-wise with a
/// multiplication by a reciprocal (exact for these ranges), the most
/// significant part in the lower lane (the first character in memory).
fn eight_ascii(value: u64) -> [u8; 8] {
    // Two 4-digit lanes of 32 bits.
    let halves = (value / 10_000) | ((value % 10_000) << 32);
    // x / 100 = (x * 5243) >> 19 for x < 10^4: 2-digit lanes of 16 bits.
    let hundreds = ((halves.wrapping_mul(5243)) >> 19) & 0x0000_007f_0000_007f;
    let pairs = hundreds | (halves.wrapping_sub(hundreds.wrapping_mul(100)) << 16);
    // x / 10 = (x * 103) >> 10 for x < 100: digit lanes of 8 bits.
    let tens = ((pairs.wrapping_mul(103)) >> 10) & 0x000f_000f_000f_000f;
    let digits = tens | (pairs.wrapping_sub(tens.wrapping_mul(10)) << 8);
    digits.wrapping_add(u64::from_ne_bytes([b'0'; 8])).to_le_bytes()
}

/// The value of eight ASCII decimal digits, computed in one word: digit by
/// digit, a ten-digit timestamp is a chain of ten dependent multiply-adds,
/// about a third of rejecting a delivery with no supported signature. (The digit check and the
/// three folding steps are those of simdjson's `parse_eight_digits_unrolled`.)
fn eight_digits(text: [u8; 8]) -> Result<u64, Error> {
    const ZEROS: u64 = u64::from_ne_bytes([b'0'; 8]);
    const HIGH_NIBBLES: u64 = u64::from_ne_bytes([0xf0; 8]);
    const SIXES: u64 = u64::from_ne_bytes([6; 8]);
    // The first digit in the lowest byte.
    let word = u64::from_le_bytes(text);
    // Every byte is 0x30..=0x3f, and stays below 0x40 with 6 added: '0'..='9'.
    // (No carry crosses a byte once the first test holds.)
    if word & HIGH_NIBBLES != ZEROS || word.wrapping_add(SIXES) & HIGH_NIBBLES != ZEROS {
        return Err(Error::InvalidTimestamp);
    }
    let digits = word.wrapping_sub(ZEROS);
    // Pairs, then quadruples, then all eight: each lane holds the number of
    // its two halves, the earlier (more significant) half in the lower lane.
    let pairs = (digits.wrapping_mul(10).wrapping_add(digits >> 8)) & 0x00ff_00ff_00ff_00ff;
    let quads = (pairs.wrapping_mul(100).wrapping_add(pairs >> 16)) & 0x0000_ffff_0000_ffff;
    Ok((quads.wrapping_mul(10_000).wrapping_add(quads >> 32)) & 0xffff_ffff)
}

/// The value of one ASCII decimal digit.
fn digit(byte: u8) -> Result<u64, Error> {
    let value = byte.wrapping_sub(b'0');
    if value <= 9 { Ok(u64::from(value)) } else { Err(Error::InvalidTimestamp) }
}

impl core::str::FromStr for Timestamp {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        Self::parse(text)
    }
}

impl core::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Display::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{MAX_DIGITS, Timestamp};

    fn rendered(value: u64) -> std::string::String {
        let mut buf = [0u8; MAX_DIGITS];
        std::string::String::from_utf8(Timestamp(value).digits(&mut buf).to_vec()).unwrap()
    }

    /// Every power of ten and its neighbours, and the extremes, against `Display` for `u64`.
    #[test]
    fn digits_agree_with_display_around_every_power_of_ten() {
        for power in 0..20 {
            let ten = 10u64.pow(power);
            for value in [ten - 1, ten, ten + 1, ten.saturating_mul(9), ten.saturating_mul(10) - 1] {
                assert_eq!(rendered(value), std::format!("{value}"));
            }
        }
        for value in [0, 1, 1614265330, 99_999_999, 100_000_000, u64::MAX - 1, u64::MAX] {
            assert_eq!(rendered(value), std::format!("{value}"));
        }
    }

    proptest! {
        #[test]
        fn digits_agree_with_display(value: u64, small in 0u64..100_000) {
            prop_assert_eq!(rendered(value), std::format!("{value}"));
            prop_assert_eq!(rendered(small), std::format!("{small}"));
        }
    }
}
