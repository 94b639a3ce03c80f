//! Gateway API keys: stored as SHA-256 hashes, compared in constant time, each with the
//! routes it may use and a requests-per-minute limit.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::time::Instant;

/// The SHA-256 digest of a gateway key. The gateway never keeps a key in plain text.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyHash([u8; 32]);

impl KeyHash {
    /// The hash of a plain-text key.
    pub fn of(plaintext: &str) -> Self {
        Self(Sha256::digest(plaintext.as_bytes()).into())
    }

    /// Reads 64 hex digits (upper or lower case), with or without a `sha256:` prefix,
    /// as a config file may store a pre-hashed key (`echo -n KEY | sha256sum`).
    pub fn from_hex(text: &str) -> Option<Self> {
        let text = text.strip_prefix("sha256:").unwrap_or(text);
        let bytes = text.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
            let hi = hex_value(pair[0])?;
            let lo = hex_value(pair[1])?;
            *slot = (hi << 4) | lo;
        }
        Some(Self(out))
    }

    /// The 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(64);
        for byte in self.0 {
            out.push(char::from(DIGITS[usize::from(byte >> 4)]));
            out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
        }
        out
    }

    /// Constant-time equality (no early exit on the first differing byte).
    fn ct_eq(&self, other: &Self) -> bool {
        bool::from(self.0.ct_eq(&other.0))
    }
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

impl fmt::Debug for KeyHash {
    /// Prints only the first 8 hex digits, enough to tell keys apart in a dump.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}…", &self.to_hex()[..8])
    }
}

/// One gateway key: who it belongs to, which routes it may use, how fast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayKey {
    /// A name for logs and errors (`team-a`, `ci`); never the key itself.
    pub name: String,
    /// The key's SHA-256 hash.
    pub hash: KeyHash,
    /// The routes it may use; `None`: every route.
    pub routes: Option<BTreeSet<String>>,
    /// Its requests-per-minute limit; `None`: unlimited.
    pub rpm: Option<u32>,
}

impl GatewayKey {
    /// A key given in plain text (e.g. from `${ENV}` in the config); only its hash is kept.
    pub fn from_plaintext(name: impl Into<String>, key: &str) -> Self {
        Self::from_hash(name, KeyHash::of(key))
    }

    /// A key given by its hash.
    pub fn from_hash(name: impl Into<String>, hash: KeyHash) -> Self {
        Self {
            name: name.into(),
            hash,
            routes: None,
            rpm: None,
        }
    }

    /// Restricts the key to these routes.
    pub fn routes<I, S>(mut self, routes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.routes = Some(routes.into_iter().map(Into::into).collect());
        self
    }

    /// Limits the key to `rpm` requests per minute.
    pub fn rpm(mut self, rpm: u32) -> Self {
        self.rpm = Some(rpm);
        self
    }

    /// Whether the key may use `route`.
    pub fn may_use(&self, route: &str) -> bool {
        self.routes.as_ref().is_none_or(|r| r.contains(route))
    }
}

/// The gateway's keys. Empty: the gateway is open (no `Authorization` needed).
#[derive(Default)]
pub struct KeyStore {
    entries: Vec<Entry>,
}

struct Entry {
    key: GatewayKey,
    limiter: Option<Arc<RpmLimiter>>,
}

impl KeyStore {
    /// A store holding these keys.
    pub fn new(keys: Vec<GatewayKey>) -> Self {
        let entries = keys
            .into_iter()
            .map(|key| Entry {
                limiter: key.rpm.map(|rpm| Arc::new(RpmLimiter::new(rpm))),
                key,
            })
            .collect();
        Self { entries }
    }

    /// Whether there are no keys (the gateway is open).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many keys there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The keys, in the order given.
    pub fn keys(&self) -> impl Iterator<Item = &GatewayKey> {
        self.entries.iter().map(|e| &e.key)
    }

    /// The key whose hash matches `presented`'s, comparing against every stored hash in
    /// constant time (all of them are compared, whatever matches).
    pub fn authenticate(&self, presented: &str) -> Option<&GatewayKey> {
        let hash = KeyHash::of(presented);
        let mut found = None;
        for entry in &self.entries {
            if entry.key.hash.ct_eq(&hash) && found.is_none() {
                found = Some(&entry.key);
            }
        }
        found
    }

    /// Counts one request against `key`'s rpm limit. `Err(wait)`: over the limit; the
    /// next request fits after `wait`.
    pub fn admit(&self, key: &GatewayKey) -> Result<(), Duration> {
        let entry = self.entries.iter().find(|e| std::ptr::eq(&e.key, key));
        match entry.and_then(|e| e.limiter.as_ref()) {
            Some(limiter) => limiter.admit(Instant::now()),
            None => Ok(()),
        }
    }

    /// Carries the rate-limit windows of keys that are in both `previous` and `self`
    /// (same hash, same rpm) over to `self`, so a reload does not reset them.
    pub fn inherit_limits(&mut self, previous: &KeyStore) {
        for entry in &mut self.entries {
            if let Some(old) = previous
                .entries
                .iter()
                .find(|o| o.key.hash == entry.key.hash && o.key.rpm == entry.key.rpm)
            {
                entry.limiter.clone_from(&old.limiter);
            }
        }
    }
}

impl fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.keys()).finish()
    }
}

/// A requests-per-minute limit as a generic cell rate (GCRA): a burst of up to `rpm`
/// requests, refilled evenly at `rpm` per minute.
#[derive(Debug)]
struct RpmLimiter {
    interval: Duration,
    tolerance: Duration,
    /// The theoretical arrival time of the next request.
    tat: Mutex<Option<Instant>>,
}

impl RpmLimiter {
    fn new(rpm: u32) -> Self {
        let rpm = rpm.max(1);
        let interval = Duration::from_secs(60) / rpm;
        Self {
            interval,
            tolerance: Duration::from_secs(60).saturating_sub(interval),
            tat: Mutex::new(None),
        }
    }

    fn admit(&self, now: Instant) -> Result<(), Duration> {
        let mut tat = self.tat.lock().unwrap_or_else(|poison| poison.into_inner());
        let start = tat.map_or(now, |t| t.max(now));
        let ahead = start - now;
        if ahead > self.tolerance {
            return Err(ahead - self.tolerance);
        }
        *tat = Some(start + self.interval);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_round_trip_through_hex() {
        let hash = KeyHash::of("tg-secret");
        assert_eq!(KeyHash::from_hex(&hash.to_hex()), Some(hash));
        let prefixed = format!("sha256:{}", hash.to_hex().to_uppercase());
        assert_eq!(KeyHash::from_hex(&prefixed), Some(hash));
        assert_eq!(KeyHash::from_hex("abc"), None);
        assert_eq!(KeyHash::from_hex(&"g".repeat(64)), None);
        // The well-known digest of the empty string.
        assert_eq!(
            KeyHash::of("").to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn authentication_finds_the_matching_key_only() {
        let store = KeyStore::new(vec![
            GatewayKey::from_plaintext("a", "key-a"),
            GatewayKey::from_plaintext("b", "key-b").routes(["fast"]),
        ]);
        assert_eq!(
            store.authenticate("key-b").map(|k| k.name.as_str()),
            Some("b")
        );
        assert!(store.authenticate("key-c").is_none());
        assert!(store.authenticate("").is_none());
        let b = store.authenticate("key-b").unwrap();
        assert!(b.may_use("fast") && !b.may_use("slow"));
        assert!(store.authenticate("key-a").unwrap().may_use("slow"));
    }

    #[test]
    fn debug_output_never_shows_a_full_hash() {
        let store = KeyStore::new(vec![GatewayKey::from_plaintext("a", "key-a")]);
        let text = format!("{store:?}");
        assert!(!text.contains(&KeyHash::of("key-a").to_hex()));
        assert!(!text.contains("key-a\""));
    }

    #[tokio::test(start_paused = true)]
    async fn rpm_allows_a_burst_then_refills_evenly() {
        let store = KeyStore::new(vec![GatewayKey::from_plaintext("a", "k").rpm(2)]);
        let key = store.authenticate("k").unwrap();
        assert!(store.admit(key).is_ok());
        assert!(store.admit(key).is_ok());
        let wait = store.admit(key).unwrap_err();
        assert_eq!(wait, Duration::from_secs(30));
        tokio::time::advance(Duration::from_secs(30)).await;
        assert!(store.admit(key).is_ok());
        assert!(store.admit(key).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn reload_keeps_the_rate_window_of_unchanged_keys() {
        let old = KeyStore::new(vec![GatewayKey::from_plaintext("a", "k").rpm(1)]);
        assert!(old.admit(old.authenticate("k").unwrap()).is_ok());
        let mut new = KeyStore::new(vec![GatewayKey::from_plaintext("a", "k").rpm(1)]);
        new.inherit_limits(&old);
        assert!(new.admit(new.authenticate("k").unwrap()).is_err());
    }
}
