//! Reading how long a provider asks callers to wait, from standard response headers.
//!
//! Provider-specific rate-limit headers (`x-ratelimit-reset-*`, `anthropic-ratelimit-*`,
//! Google's `RetryInfo`) are read by each provider crate; the shared pieces live here.

use std::time::{Duration, SystemTime};

use http::HeaderMap;

/// The delay a response asks for, from `retry-after-ms` (milliseconds, fractional
/// allowed; preferred, as the official SDKs do) or `retry-after` (seconds, fractional
/// allowed, or an HTTP date relative to `now`). Negative, unparsable or past values give
/// `None`.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use http::HeaderMap;
/// use tollgate_core::retry_after::from_headers;
///
/// let mut headers = HeaderMap::new();
/// headers.insert("retry-after", "7".parse().unwrap());
/// assert_eq!(from_headers(&headers, SystemTime::now()), Some(Duration::from_secs(7)));
/// headers.insert("retry-after-ms", "1500".parse().unwrap());
/// assert_eq!(from_headers(&headers, SystemTime::now()), Some(Duration::from_millis(1500)));
/// ```
pub fn from_headers(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    if let Some(ms) = header_str(headers, "retry-after-ms").and_then(parse_positive_f64) {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let value = header_str(headers, "retry-after")?;
    if let Some(seconds) = parse_positive_f64(value) {
        return Some(Duration::from_secs_f64(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    when.duration_since(now).ok().filter(|d| !d.is_zero())
}

/// Whether the response carries `x-should-retry`, and what it says.
pub fn should_retry(headers: &HeaderMap) -> Option<bool> {
    match header_str(headers, "x-should-retry")? {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// Parses a Go-style duration as OpenAI-compatible servers send in
/// `x-ratelimit-reset-*`: `12ms`, `1.434s`, `6m0s`, `1h2m3.5s`, `250us`.
///
/// ```
/// use std::time::Duration;
/// use tollgate_core::retry_after::parse_go_duration;
///
/// assert_eq!(parse_go_duration("1.434s"), Some(Duration::from_millis(1434)));
/// assert_eq!(parse_go_duration("6m0s"), Some(Duration::from_secs(360)));
/// assert_eq!(parse_go_duration("12ms"), Some(Duration::from_millis(12)));
/// assert_eq!(parse_go_duration("soon"), None);
/// ```
pub fn parse_go_duration(text: &str) -> Option<Duration> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total = 0.0_f64;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if number_len == 0 {
            return None;
        }
        let number: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        total += number * seconds_per_unit;
        rest = &rest[unit_len..];
    }
    // `try_from`: a value too large for a `Duration` is unreadable, not a panic.
    Duration::try_from_secs_f64(total).ok()
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name)?.to_str().ok().map(str::trim)
}

fn parse_positive_f64(text: &str) -> Option<f64> {
    let value: f64 = text.parse().ok()?;
    (value.is_finite() && value > 0.0 && value < 1e9).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().unwrap());
        }
        map
    }

    #[test]
    fn http_dates_are_relative_to_now() {
        let now = httpdate::parse_http_date("Sat, 21 Nov 2026 10:00:00 GMT").unwrap();
        let h = headers(&[("retry-after", "Sat, 21 Nov 2026 10:00:30 GMT")]);
        assert_eq!(from_headers(&h, now), Some(Duration::from_secs(30)));
        let past = headers(&[("retry-after", "Sat, 21 Nov 2026 09:00:00 GMT")]);
        assert_eq!(from_headers(&past, now), None);
    }

    #[test]
    fn nonsense_and_non_positive_values_are_ignored() {
        let now = SystemTime::now();
        assert_eq!(from_headers(&headers(&[("retry-after", "-1")]), now), None);
        assert_eq!(
            from_headers(&headers(&[("retry-after-ms", "0")]), now),
            None
        );
        assert_eq!(
            from_headers(&headers(&[("retry-after", "soon")]), now),
            None
        );
        assert_eq!(
            from_headers(&headers(&[("retry-after", "1.5")]), now),
            Some(Duration::from_millis(1500))
        );
    }

    #[test]
    fn should_retry_header_is_read() {
        assert_eq!(
            should_retry(&headers(&[("x-should-retry", "false")])),
            Some(false)
        );
        assert_eq!(should_retry(&HeaderMap::new()), None);
    }
}
