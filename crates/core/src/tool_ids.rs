//! Tool-call ids that survive a change of provider.
//!
//! Each provider accepts its own shape of tool-call id: Anthropic only
//! `[a-zA-Z0-9_-]+`, Mistral exactly nine alphanumerics, Gemini often none at all. When a
//! conversation begun on one provider continues on another, every id is rewritten to what
//! the target accepts. The rewrite is a pure function of the original id, so an
//! assistant's tool call and the tool result that answers it, rewritten independently,
//! still match; an id the target already accepts is kept as it is.

use crate::stable_id::{Fnv1a, base62};

/// The ids a provider accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolIdRule {
    /// Any non-empty id (OpenAI).
    Any,
    /// Non-empty, only `[a-zA-Z0-9_-]`, at most `max_len` characters (Anthropic).
    Charset {
        /// The longest id accepted.
        max_len: usize,
    },
    /// Exactly `len` ASCII alphanumerics (Mistral: 9).
    ExactAlphanumeric {
        /// The required length.
        len: usize,
    },
}

impl ToolIdRule {
    /// Whether `id` is acceptable as it is.
    pub fn accepts(self, id: &str) -> bool {
        match self {
            Self::Any => !id.is_empty(),
            Self::Charset { max_len } => {
                !id.is_empty()
                    && id.len() <= max_len
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            }
            Self::ExactAlphanumeric { len } => {
                id.len() == len && id.bytes().all(|b| b.is_ascii_alphanumeric())
            }
        }
    }

    /// `id` if the rule accepts it, otherwise a stable rewrite derived from it.
    ///
    /// ```
    /// use tollgate_core::tool_ids::ToolIdRule;
    ///
    /// let mistral = ToolIdRule::ExactAlphanumeric { len: 9 };
    /// let rewritten = mistral.rewrite("call_abc.123");
    /// assert_eq!(rewritten.len(), 9);
    /// assert_eq!(rewritten, mistral.rewrite("call_abc.123")); // stable
    /// assert_eq!(mistral.rewrite("a1B2c3D4e"), "a1B2c3D4e"); // already fine
    /// ```
    pub fn rewrite(self, id: &str) -> String {
        if self.accepts(id) {
            return id.to_owned();
        }
        let digest = base62(fnv1a(id.as_bytes()), 11) + &base62(fnv1a_alt(id.as_bytes()), 11);
        match self {
            Self::Any => format!("call_{}", &digest[..16]),
            Self::Charset { max_len } => {
                // Keep the readable, valid part of the original and add the digest so
                // distinct ids stay distinct.
                let cleaned: String = id
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect();
                let keep = max_len.saturating_sub(17).min(cleaned.len());
                let mut out = cleaned[..keep].to_owned();
                if !out.is_empty() {
                    out.push('_');
                }
                out.push_str(&digest[..16.min(max_len.saturating_sub(out.len()))]);
                out
            }
            Self::ExactAlphanumeric { len } => {
                let mut out = digest;
                while out.len() < len {
                    let more = base62(fnv1a(out.as_bytes()), 11);
                    out.push_str(&more);
                }
                out.truncate(len);
                out
            }
        }
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    Fnv1a::hash(bytes)
}

fn fnv1a_alt(bytes: &[u8]) -> u64 {
    // A second, independent hash (different offset basis, bytes reversed) to widen the
    // digest.
    let mut hash = Fnv1a::with_basis(0x6c62_272e_07bb_0142);
    for &byte in bytes.iter().rev() {
        hash.write_u8(byte);
    }
    hash.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anthropic_rule_replaces_foreign_characters_stably() {
        let rule = ToolIdRule::Charset { max_len: 64 };
        let a = rule.rewrite("call:1/2");
        assert!(rule.accepts(&a), "{a}");
        assert_eq!(a, rule.rewrite("call:1/2"));
        assert_ne!(a, rule.rewrite("call:1/3"));
        assert_eq!(rule.rewrite("toolu_01A"), "toolu_01A");
    }

    #[test]
    fn mistral_rule_gives_nine_alphanumerics() {
        let rule = ToolIdRule::ExactAlphanumeric { len: 9 };
        for id in ["call_abc", "toolu_01XyZ", "", "x"] {
            let out = rule.rewrite(id);
            assert!(rule.accepts(&out), "{id} -> {out}");
        }
    }

    #[test]
    fn empty_ids_get_one_under_every_rule() {
        assert!(!ToolIdRule::Any.rewrite("").is_empty());
        assert!(
            ToolIdRule::Charset { max_len: 64 }
                .accepts(&ToolIdRule::Charset { max_len: 64 }.rewrite(""))
        );
    }
}
