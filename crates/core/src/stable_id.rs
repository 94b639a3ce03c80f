//! Short ids that are the same every time for the same input: a 64-bit FNV-1a hash
//! written in base62. Providers use them where an id must be made up (a tool call or
//! a response that came without one) and [`crate::tool_ids`] where one must be
//! rewritten. Not for security: FNV is fast and stable, not collision resistant.

/// A 64-bit FNV-1a hasher. Its output never changes between versions or platforms, unlike
/// `std`'s `DefaultHasher`, so ids made from it are stable.
///
/// ```
/// use tollgate_core::stable_id::{Fnv1a, base62};
///
/// let mut hash = Fnv1a::new();
/// hash.write(b"chatcmpl-1");
/// assert_eq!(base62(hash.finish(), 10), base62(Fnv1a::hash(b"chatcmpl-1"), 10));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Fnv1a(u64);

impl Fnv1a {
    /// FNV-1a's standard 64-bit offset basis.
    pub const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;

    /// A hasher at the standard offset basis.
    pub fn new() -> Self {
        Self(Self::OFFSET_BASIS)
    }

    /// A hasher at another offset basis: a second, independent hash of the same bytes.
    pub fn with_basis(basis: u64) -> Self {
        Self(basis)
    }

    /// Mixes in `bytes`.
    pub fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u8(byte);
        }
    }

    /// Mixes in one byte.
    pub fn write_u8(&mut self, byte: u8) {
        self.0 ^= u64::from(byte);
        self.0 = self.0.wrapping_mul(Self::PRIME);
    }

    /// The hash so far.
    pub fn finish(&self) -> u64 {
        self.0
    }

    /// The hash of `bytes` from the standard offset basis.
    pub fn hash(bytes: &[u8]) -> u64 {
        let mut hasher = Self::new();
        hasher.write(bytes);
        hasher.finish()
    }
}

impl Default for Fnv1a {
    fn default() -> Self {
        Self::new()
    }
}

/// `value`'s lowest `width` base62 digits (`0-9A-Za-z`), least significant first.
pub fn base62(mut value: u64, width: usize) -> String {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = String::with_capacity(width);
    for _ in 0..width {
        let digit = usize::try_from(value % 62).unwrap_or(0);
        out.push(char::from(ALPHABET[digit]));
        value /= 62;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        assert_eq!(Fnv1a::hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(Fnv1a::hash(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(Fnv1a::hash(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn base62_writes_least_significant_digits_first() {
        assert_eq!(base62(0, 3), "000");
        assert_eq!(base62(61, 2), "z0");
        assert_eq!(base62(62, 2), "01");
    }
}
