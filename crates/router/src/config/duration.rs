//! Human-readable durations for config files: `"250ms"`, `"30s"`, `"5m"`, `"1h"`,
//! `"1m30s"`, `"1.5s"`; `"off"` for an absent optional duration.
//!
//! Use with `#[serde(with = "tollgate_router::config::duration")]` on a `Duration`, or
//! `…::duration::option` on an `Option<Duration>`. Serialisation picks the largest unit
//! that represents the value exactly, so values round-trip.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer, de};

/// Parses `"250ms"`, `"30s"`, `"5m"`, `"1h"`, `"1m30s"`, `"1.5s"`.
///
/// # Errors
///
/// A message naming the accepted forms.
pub fn parse(text: &str) -> Result<Duration, String> {
    let bad = || {
        format!(
            "invalid duration `{text}`: write a number and a unit (ms, s, m, h), e.g. \"250ms\", \"30s\", \"1m30s\""
        )
    };
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        if number_len == 0 {
            return Err(bad());
        }
        let number: f64 = rest[..number_len].parse().map_err(|_| bad())?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit_secs = match rest[..unit_len].trim() {
            "ms" => 0.001,
            "s" => 1.0,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        let part = Duration::try_from_secs_f64(number * unit_secs).map_err(|_| bad())?;
        total = total.checked_add(part).ok_or_else(bad)?;
    }
    // Config durations have millisecond resolution: a finer value is refused rather than
    // truncated (`"0.5ms"` would otherwise silently become zero).
    if !total.subsec_nanos().is_multiple_of(1_000_000) {
        return Err(format!(
            "invalid duration `{text}`: durations are whole milliseconds, e.g. \"1ms\" or \"2ms\""
        ));
    }
    Ok(total)
}

/// Formats with the largest exact unit: `"2h"`, `"90s"`, `"250ms"`.
pub fn format(value: Duration) -> String {
    let ms = value.as_millis();
    if ms == 0 {
        "0s".to_owned()
    } else if ms.is_multiple_of(3_600_000) {
        format!("{}h", ms / 3_600_000)
    } else if ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// Serialises a `Duration` as text.
///
/// # Errors
///
/// The serializer's.
pub fn serialize<S: Serializer>(value: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(*value))
}

/// Deserialises a `Duration` from text.
///
/// # Errors
///
/// An invalid duration.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    parse(&text).map_err(de::Error::custom)
}

/// `Option<Duration>` as text, `"off"` for `None`.
pub mod option {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer, de};

    /// Serialises `None` as `"off"`.
    ///
    /// # Errors
    ///
    /// The serializer's.
    pub fn serialize<S: Serializer>(value: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(d) => s.serialize_str(&super::format(*d)),
            None => s.serialize_str("off"),
        }
    }

    /// Deserialises `"off"` (or `"none"`) as `None`.
    ///
    /// # Errors
    ///
    /// An invalid duration.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        let text = String::deserialize(d)?;
        match text.trim() {
            "off" | "none" => Ok(None),
            other => super::parse(other).map(Some).map_err(de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_combinations() {
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("1.5s"), Ok(Duration::from_millis(1500)));
        assert!(parse("30").is_err());
        assert!(parse("s").is_err());
        assert!(parse("3 parsecs").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn sub_millisecond_values_are_refused_not_truncated() {
        for text in ["0.5ms", "1.5ms", "0.0001s"] {
            let err = parse(text).unwrap_err();
            assert!(err.contains("whole milliseconds"), "{text}: {err}");
        }
        assert_eq!(parse("0.25s"), Ok(Duration::from_millis(250)));
        assert_eq!(parse("0.1m"), Ok(Duration::from_secs(6)));
        assert_eq!(parse("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn formats_with_the_largest_exact_unit() {
        for (d, text) in [
            (Duration::from_millis(250), "250ms"),
            (Duration::from_secs(90), "90s"),
            (Duration::from_secs(300), "5m"),
            (Duration::from_secs(7200), "2h"),
            (Duration::ZERO, "0s"),
        ] {
            assert_eq!(format(d), text);
            assert_eq!(parse(text), Ok(d));
        }
    }
}
