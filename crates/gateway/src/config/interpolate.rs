//! `${VAR}` interpolation: [`EnvString`] for plain settings, [`SecretString`] for
//! credentials.
//!
//! Syntax, in every field documented as interpolated:
//!
//! - `${NAME}`: the value of the variable `NAME`; unset **or empty** is an error naming it;
//! - `${NAME:-default}`: the variable's value, or `default` when it is unset or empty;
//! - `$$`: a literal `$`;
//! - any other text is kept as written.
//!
//! Variables are read through an [`Env`] (the process environment in production, a map in
//! tests), never mutated.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tollgate_core::Secret;

/// A variable lookup: the process environment ([`process_env`]) or any map.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Reads the process environment.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Why a template could not be interpolated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterpolationError {
    /// `${NAME}` names a variable that is unset or empty.
    Missing {
        /// The variable.
        name: String,
    },
    /// The template is malformed (`${` without `}`, a bad variable name).
    Malformed {
        /// What is wrong.
        reason: String,
    },
}

impl fmt::Display for InterpolationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing { name } => write!(f, "environment variable `{name}` is not set"),
            Self::Malformed { reason } => f.write_str(reason),
        }
    }
}

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Dollar,
    Var {
        name: &'a str,
        default: Option<&'a str>,
    },
}

fn pieces(template: &str) -> Result<Vec<Piece<'_>>, InterpolationError> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(at) = rest.find('$') {
        if at > 0 {
            out.push(Piece::Text(&rest[..at]));
        }
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push(Piece::Dollar);
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = body
                .find('}')
                .ok_or_else(|| InterpolationError::Malformed {
                    reason: "`${` without a closing `}`".to_owned(),
                })?;
            let inner = &body[..end];
            let (name, default) = match inner.split_once(":-") {
                Some((name, default)) => (name, Some(default)),
                None => (inner, None),
            };
            if !valid_name(name) {
                return Err(InterpolationError::Malformed {
                    reason: format!(
                        "`${{{name}}}` is not a variable reference: a name is letters, digits and `_`, not starting with a digit"
                    ),
                });
            }
            out.push(Piece::Var { name, default });
            rest = &body[end + 1..];
        } else {
            out.push(Piece::Text("$"));
            rest = after;
        }
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    Ok(out)
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Interpolates `template` with `env`.
///
/// ```
/// use tollgate_gateway::config::interpolate::interpolate;
///
/// let env = |name: &str| (name == "REGION").then(|| "eu".to_owned());
/// assert_eq!(interpolate("https://${REGION}.example.com", &env).unwrap(), "https://eu.example.com");
/// assert_eq!(interpolate("${MISSING:-fallback}", &env).unwrap(), "fallback");
/// assert!(interpolate("${MISSING}", &env).is_err());
/// assert_eq!(interpolate("cost: $$5", &env).unwrap(), "cost: $5");
/// ```
///
/// # Errors
///
/// [`InterpolationError::Missing`] for the first unset variable without a default,
/// [`InterpolationError::Malformed`] for a bad reference.
pub fn interpolate(template: &str, env: Env<'_>) -> Result<String, InterpolationError> {
    let mut out = String::with_capacity(template.len());
    for piece in pieces(template)? {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Dollar => out.push('$'),
            Piece::Var { name, default } => match env(name).filter(|v| !v.is_empty()) {
                Some(value) => out.push_str(&value),
                None => match default {
                    Some(default) => out.push_str(default),
                    None => {
                        return Err(InterpolationError::Missing {
                            name: name.to_owned(),
                        });
                    }
                },
            },
        }
    }
    Ok(out)
}

/// The variables `template` references, in order (with or without defaults).
pub fn variables(template: &str) -> Vec<String> {
    pieces(template)
        .map(|pieces| {
            pieces
                .into_iter()
                .filter_map(|p| match p {
                    Piece::Var { name, .. } => Some(name.to_owned()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A setting that may reference environment variables (`${VAR}`, `${VAR:-default}`),
/// kept as written: it serializes back to the same template.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EnvString(String);

impl EnvString {
    /// Wraps a template.
    pub fn new(template: impl Into<String>) -> Self {
        Self(template.into())
    }

    /// The template as written.
    pub fn template(&self) -> &str {
        &self.0
    }

    /// The value with every variable replaced.
    ///
    /// # Errors
    ///
    /// As [`interpolate`].
    pub fn resolve(&self, env: Env<'_>) -> Result<String, InterpolationError> {
        interpolate(&self.0, env)
    }
}

impl From<&str> for EnvString {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

/// A credential in config: a literal value or, better, a `${VAR}` reference.
///
/// It never prints its value: `Debug`, `Display` and `Serialize` keep variable
/// references (`${OPENAI_API_KEY}`) and replace all literal text and defaults with `*****`
/// (`${KEY:-*****}`). So a config with references serializes back to itself, while a
/// literal key serializes as `*****` (a config holding literal keys cannot be
/// round-tripped through serialization, by design).
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a template (a literal key or text with `${VAR}` references).
    pub fn new(template: impl Into<String>) -> Self {
        Self(template.into())
    }

    /// A reference to one variable: `${NAME}`.
    pub fn var(name: &str) -> Self {
        Self(format!("${{{name}}}"))
    }

    /// Whether the template holds literal secret text (not only variable references).
    pub fn has_literal(&self) -> bool {
        match pieces(&self.0) {
            Ok(pieces) => pieces.iter().any(|p| match p {
                Piece::Text(text) => !text.is_empty(),
                Piece::Dollar => true,
                Piece::Var { default, .. } => default.is_some_and(|d| !d.is_empty()),
            }),
            Err(_) => true,
        }
    }

    /// Whether the template, read as a URL (`scheme://user:password@host…`), holds a
    /// password written out in the file rather than only `${…}` references: literal text
    /// (or a variable's default) between the user's `:` and the `@`.
    pub fn has_literal_password(&self) -> bool {
        let Ok(pieces) = pieces(&self.0) else {
            return false;
        };
        // Only literal text can hold the URL's delimiters; variables are opaque.
        let mut seen_scheme = false;
        let mut in_password = false;
        let mut literal = false;
        for piece in &pieces {
            match piece {
                Piece::Text(text) => {
                    let mut rest = *text;
                    if !seen_scheme {
                        let Some((_, after)) = rest.split_once("://") else {
                            continue;
                        };
                        seen_scheme = true;
                        rest = after;
                    }
                    for c in rest.chars() {
                        match c {
                            '@' => return in_password && literal,
                            '/' | '?' | '#' => return false,
                            ':' if !in_password => in_password = true,
                            _ if in_password => literal = true,
                            _ => {}
                        }
                    }
                }
                Piece::Dollar => literal |= in_password,
                Piece::Var { default, .. } => {
                    literal |= in_password && default.is_some_and(|d| !d.is_empty());
                }
            }
        }
        false
    }

    /// The variables the template references.
    pub fn variables(&self) -> Vec<String> {
        variables(&self.0)
    }

    /// The credential with every variable replaced.
    ///
    /// # Errors
    ///
    /// As [`interpolate`]; the error never contains the secret.
    pub fn resolve(&self, env: Env<'_>) -> Result<Secret, InterpolationError> {
        interpolate(&self.0, env).map(Secret::new)
    }

    /// The printable form: references kept, literal text and defaults masked.
    pub fn masked(&self) -> String {
        let Ok(pieces) = pieces(&self.0) else {
            return "*****".to_owned();
        };
        let mut out = String::new();
        let mut masked_last = false;
        for piece in pieces {
            match piece {
                Piece::Var { name, default } => {
                    out.push_str("${");
                    out.push_str(name);
                    if default.is_some() {
                        out.push_str(":-*****");
                    }
                    out.push('}');
                    masked_last = false;
                }
                Piece::Text(_) | Piece::Dollar => {
                    if !masked_last {
                        out.push_str("*****");
                        masked_last = true;
                    }
                }
            }
        }
        out
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl Serialize for SecretString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.masked())
    }
}

impl<'de> Deserialize<'de> for SecretString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "KEY" => Some("sk-live-1".to_owned()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn references_defaults_and_escapes_resolve() {
        assert_eq!(interpolate("${KEY}", &env).unwrap(), "sk-live-1");
        assert_eq!(interpolate("a${KEY}b", &env).unwrap(), "ask-live-1b");
        assert_eq!(interpolate("${NOPE:-d}", &env).unwrap(), "d");
        assert_eq!(interpolate("${EMPTY:-d}", &env).unwrap(), "d");
        assert_eq!(interpolate("${NOPE:-}", &env).unwrap(), "");
        assert_eq!(interpolate("$$KEY $x", &env).unwrap(), "$KEY $x");
    }

    #[test]
    fn unset_and_empty_variables_are_missing_by_name() {
        for template in ["${NOPE}", "${EMPTY}", "x-${NOPE}-y"] {
            let err = interpolate(template, &env).unwrap_err();
            assert!(matches!(err, InterpolationError::Missing { .. }), "{err}");
        }
        assert_eq!(
            interpolate("${NOPE}", &env).unwrap_err().to_string(),
            "environment variable `NOPE` is not set"
        );
    }

    #[test]
    fn malformed_references_are_errors() {
        assert!(matches!(
            interpolate("${KEY", &env),
            Err(InterpolationError::Malformed { .. })
        ));
        assert!(matches!(
            interpolate("${1BAD}", &env),
            Err(InterpolationError::Malformed { .. })
        ));
    }

    #[test]
    fn secrets_print_references_but_never_literals_or_defaults() {
        let cases = [
            ("${OPENAI_API_KEY}", "${OPENAI_API_KEY}"),
            ("sk-literal-123", "*****"),
            ("${K:-sk-default-9}", "${K:-*****}"),
            ("Bearer ${TOKEN}", "*****${TOKEN}"),
        ];
        for (template, shown) in cases {
            let secret = SecretString::new(template);
            assert_eq!(secret.masked(), shown);
            assert_eq!(format!("{secret:?}"), shown);
            assert_eq!(format!("{secret}"), shown);
        }
        assert!(!SecretString::new("${A}").has_literal());
        assert!(SecretString::new("sk").has_literal());
        assert!(SecretString::new("${A:-sk}").has_literal());
    }

    #[test]
    fn literal_passwords_in_urls_are_told_from_references() {
        for literal in [
            "http://bob:hunter2@proxy:3128",
            "http://${USER}:hunter2@proxy:3128",
            "http://bob:${PASS:-hunter2}@proxy:3128",
            "http://bob:pre${PASS}@proxy",
        ] {
            assert!(
                SecretString::new(literal).has_literal_password(),
                "{literal}"
            );
        }
        for clean in [
            "http://proxy.corp.example:3128",
            "http://bob@proxy:3128",
            "http://${USER}:${PASS}@proxy:3128",
            "http://bob:${PASS}@proxy:3128",
            "${HTTPS_PROXY_FOR_LLMS:-none}",
            "none",
            "http://proxy:3128/a:b@c",
        ] {
            assert!(!SecretString::new(clean).has_literal_password(), "{clean}");
        }
    }
}
