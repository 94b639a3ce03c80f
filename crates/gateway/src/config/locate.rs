//! Finds where a setting is written in a TOML document, for error locations.

use std::ops::Range;

use toml::de::{DeTable, DeValue};

use super::error::Location;

/// One step of a path into a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A table key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// A path into a document: `["routes", "chat", "deployments", 1]`.
pub type Path = Vec<Step>;

/// Builds a [`Path`]: `at!["routes", name, "deployments", 1usize]`.
macro_rules! at {
    ($($step:expr),* $(,)?) => {
        ::std::vec::Vec::from([$($crate::config::locate::Step::from($step)),*])
    };
}
pub(crate) use at;

impl From<&str> for Step {
    fn from(key: &str) -> Self {
        Self::Key(key.to_owned())
    }
}

impl From<&String> for Step {
    fn from(key: &String) -> Self {
        Self::Key(key.clone())
    }
}

impl From<usize> for Step {
    fn from(index: usize) -> Self {
        Self::Index(index)
    }
}

/// The dotted form of a path: `routes.chat.deployments[1]`.
pub fn dotted(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                let bare = !key.is_empty()
                    && key
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                if bare {
                    out.push_str(key);
                } else {
                    out.push('"');
                    out.push_str(key);
                    out.push('"');
                }
            }
            Step::Index(index) => {
                out.push('[');
                out.push_str(&index.to_string());
                out.push(']');
            }
        }
    }
    out
}

/// A parsed document that answers "where is this setting written?".
pub struct Locator<'a> {
    text: &'a str,
    root: DeTable<'a>,
}

impl<'a> Locator<'a> {
    /// Parses `text`; `None` if it is not valid TOML (the deserializer reports that).
    pub fn new(text: &'a str) -> Option<Self> {
        let root = DeTable::parse(text).ok()?.into_inner();
        Some(Self { text, root })
    }

    /// The location of the value at `path`, or of the nearest enclosing setting written in
    /// the document when the value itself is not (a default left out).
    pub fn locate(&self, path: &[Step]) -> Option<Location> {
        self.span(path)
            .map(|span| Location::of_offset(self.text, span.start))
    }

    fn span(&self, path: &[Step]) -> Option<Range<usize>> {
        let mut best: Option<Range<usize>> = None;
        let mut table = Some(&self.root);
        let mut value: Option<&DeValue<'a>> = None;
        for step in path {
            let next = match (step, table, value) {
                (Step::Key(key), Some(t), _) => t
                    .iter()
                    .find(|(k, _)| k.get_ref().as_ref() == key.as_str())
                    .map(|(k, v)| (k.span(), v)),
                (Step::Index(i), _, Some(DeValue::Array(array))) => {
                    array.get(*i).map(|v| (v.span(), v))
                }
                _ => None,
            };
            let Some((key_span, spanned)) = next else {
                break;
            };
            let value_span = spanned.span();
            // Point at the value when it is a scalar written in place, at the key for
            // tables (whose span may start at a `[header]` elsewhere).
            best = Some(match spanned.get_ref() {
                DeValue::Table(_) => key_span,
                _ if value_span.start < self.text.len() => value_span,
                _ => key_span,
            });
            value = Some(spanned.get_ref());
            table = match spanned.get_ref() {
                DeValue::Table(t) => Some(t),
                _ => None,
            };
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_values_keys_and_array_elements() {
        let text = "[server]\nlisten = \"x\"\n\n[routes.chat]\ndeployments = [\"a\", \"b\"]\n";
        let locator = Locator::new(text).unwrap();
        assert_eq!(
            locator.locate(&at!["server", "listen"]),
            Some(Location {
                line: 2,
                column: 10
            })
        );
        assert_eq!(
            locator.locate(&at!["routes", "chat", "deployments", 1usize]),
            Some(Location {
                line: 5,
                column: 21
            })
        );
        // A missing setting points at its nearest written parent.
        assert_eq!(
            locator
                .locate(&at!["routes", "chat", "retry"])
                .map(|l| l.line),
            Some(4)
        );
    }

    #[test]
    fn dotted_paths_quote_unusual_keys() {
        assert_eq!(
            dotted(&at!["routes", "a.b", "deployments", 2usize]),
            "routes.\"a.b\".deployments[2]"
        );
    }
}
