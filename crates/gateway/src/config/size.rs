//! Byte sizes as text: `"16MiB"`, `"512KiB"`, `"1MB"`, `"2048"`, or an integer.

use serde::{Deserializer, Serializer, de};

/// Parses a size: a number and an optional unit (`B`, `KB`/`KiB`, `MB`/`MiB`, `GB`/`GiB`,
/// case-insensitive; `K`/`M`/`G` mean KiB/MiB/GiB).
///
/// # Errors
///
/// A message naming the accepted forms.
pub fn parse(text: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "invalid size `{text}`: write a number and a unit, e.g. \"16MiB\", \"512KiB\", \"1MB\""
        )
    };
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let number: u64 = text[..split].parse().map_err(|_| bad())?;
    let multiplier: u64 = match text[split..].trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "kib" | "k" => 1 << 10,
        "mb" => 1_000_000,
        "mib" | "m" => 1 << 20,
        "gb" => 1_000_000_000,
        "gib" | "g" => 1 << 30,
        _ => return Err(bad()),
    };
    number.checked_mul(multiplier).ok_or_else(bad)
}

/// Formats with the largest exact binary unit: `"16MiB"`, `"512KiB"`, `"1000B"`.
pub fn format(bytes: u64) -> String {
    for (unit, size) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
        if bytes >= size && bytes.is_multiple_of(size) {
            return format!("{}{unit}", bytes / size);
        }
    }
    format!("{bytes}B")
}

/// Serializes as text.
///
/// # Errors
///
/// The serializer's.
pub fn serialize<S: Serializer>(value: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(*value))
}

/// Deserializes text or an integer number of bytes.
///
/// # Errors
///
/// An invalid size.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    struct Visitor;
    impl de::Visitor<'_> for Visitor {
        type Value = u64;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a size such as \"16MiB\" or a number of bytes")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(|_| E::custom("a size cannot be negative"))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
            parse(v).map_err(E::custom)
        }
    }
    d.deserialize_any(Visitor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_sizes() {
        assert_eq!(parse("16MiB"), Ok(16 << 20));
        assert_eq!(parse("512 KiB"), Ok(512 << 10));
        assert_eq!(parse("1MB"), Ok(1_000_000));
        assert_eq!(parse("2048"), Ok(2048));
        assert!(parse("lots").is_err());
        assert!(parse("5 parsecs").is_err());
        for bytes in [16u64 << 20, 512 << 10, 1000, 3 << 30] {
            assert_eq!(parse(&format(bytes)), Ok(bytes));
        }
    }
}
