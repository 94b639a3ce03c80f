//! [`Secret`]: a credential that never prints.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A credential (API key, token). `Debug`, `Display` and `Serialize` print `*****`; only
/// [`Secret::expose`] gives the value, at the one place that sends it.
///
/// ```
/// use tollgate_core::Secret;
///
/// let key = Secret::new("sk-live-123");
/// assert_eq!(format!("{key:?} {key}"), "***** *****");
/// assert_eq!(key.expose(), "sk-live-123");
/// ```
///
/// Cloning is cheap (the value is shared), so clients may hand a copy to every request.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Default for Secret {
    fn default() -> Self {
        Self(Arc::from(""))
    }
}

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Arc::from(value.into()))
    }

    /// The value, for the header that carries it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("*****")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("*****")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(Arc::from(value))
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(Arc::from(value))
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("*****")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::from)
    }
}
