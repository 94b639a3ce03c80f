//! How a model name as a caller or a provider response spells it maps to catalog names.
//!
//! Resolution is a short, fixed list of exact rules, tried in order; the first name the
//! catalog holds wins. There is no fuzzy matching: a name no rule maps to an entry is
//! unknown.
//!
//! 1. Prefixes are removed: LiteLLM's provider prefix (`groq/…`, `together_ai/…`,
//!    `gemini/…`, `xai/…`), Tollgate's provider name (`x_ai/…`) and, for Gemini, the
//!    REST resource prefix `models/`.
//! 2. The name itself.
//! 3. Without a `-latest` suffix (`claude-sonnet-4-5-latest` → `claude-sonnet-4-5`).
//! 4. An OpenAI fine-tune `ft:BASE:org:suffix:id` → `ft:BASE` (the fine-tune price of BASE).
//! 5. Without a date suffix `-YYYY-MM-DD` or `-YYYYMMDD` (`gpt-4o-2024-08-06` → `gpt-4o`,
//!    `claude-sonnet-4-6-20260101` → `claude-sonnet-4-6`). Dated entries the table holds
//!    resolve exactly in step 2, so this applies only to snapshots the table lacks.
//! 6. Gemini only: without a stable-version suffix `-NNN` (`gemini-2.5-flash-001` →
//!    `gemini-2.5-flash`).

use crate::provider::litellm_name;

/// The name a provider's model is filed under once prefixes are removed (rule 1).
pub(crate) fn strip_prefixes<'a>(provider: &str, model: &'a str) -> &'a str {
    let mut name = model;
    if let Some(litellm) = litellm_name(provider) {
        name = strip_slash_prefix(name, litellm);
    }
    name = strip_slash_prefix(name, provider);
    if provider == "gcp.gemini" {
        name = name.strip_prefix("models/").unwrap_or(name);
    }
    name
}

fn strip_slash_prefix<'a>(name: &'a str, prefix: &str) -> &'a str {
    name.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('/'))
        .filter(|rest| !rest.is_empty())
        .unwrap_or(name)
}

/// The alias rules 3–6 for a prefix-free `name`, in order, without the name itself.
pub(crate) fn aliases<'a>(provider: &str, name: &'a str) -> impl Iterator<Item = &'a str> {
    let latest = name.strip_suffix("-latest");
    let fine_tune = fine_tune_base(name);
    let undated = strip_date(name);
    let unversioned = if provider == "gcp.gemini" {
        strip_version(name)
    } else {
        None
    };
    [latest, fine_tune, undated, unversioned]
        .into_iter()
        .flatten()
        .filter(|alias| !alias.is_empty())
}

/// `ft:BASE:org:suffix:id` → `ft:BASE`.
fn fine_tune_base(name: &str) -> Option<&str> {
    let rest = name.strip_prefix("ft:")?;
    let base_len = rest.find(':')?;
    name.get(..3 + base_len)
}

/// Removes `-YYYY-MM-DD` or `-YYYYMMDD`.
fn strip_date(name: &str) -> Option<&str> {
    strip_dated(name, "-dddd-dd-dd").or_else(|| strip_dated(name, "-dddddddd"))
}

/// Removes a tail of the given shape (`d`: an ASCII digit, anything else: itself) when its
/// digits read as a plausible date `YYYYMMDD`.
fn strip_dated<'a>(name: &'a str, shape: &str) -> Option<&'a str> {
    let cut = name.len().checked_sub(shape.len()).filter(|&cut| cut > 0)?;
    let (base, tail) = (name.get(..cut)?, name.get(cut..)?);
    let mut date = 0u32;
    for (byte, expected) in tail.bytes().zip(shape.bytes()) {
        if expected == b'd' {
            if !byte.is_ascii_digit() {
                return None;
            }
            date = date * 10 + u32::from(byte - b'0');
        } else if byte != expected {
            return None;
        }
    }
    let (year, month, day) = (date / 10_000, date / 100 % 100, date % 100);
    ((2000..2100).contains(&year) && (1..=12).contains(&month) && (1..=31).contains(&day))
        .then_some(base)
}

/// Removes Gemini's `-NNN` stable-version suffix.
fn strip_version(name: &str) -> Option<&str> {
    let (base, version) = name.rsplit_once('-')?;
    (version.len() == 3 && version.bytes().all(|b| b.is_ascii_digit())).then_some(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(provider: &str, name: &str) -> Vec<String> {
        aliases(provider, name).map(str::to_owned).collect()
    }

    #[test]
    fn prefixes_of_litellm_tollgate_and_gemini_rest_are_removed() {
        assert_eq!(
            strip_prefixes("groq", "groq/openai/gpt-oss-120b"),
            "openai/gpt-oss-120b"
        );
        assert_eq!(
            strip_prefixes("groq", "openai/gpt-oss-120b"),
            "openai/gpt-oss-120b"
        );
        assert_eq!(strip_prefixes("x_ai", "xai/grok-4.3"), "grok-4.3");
        assert_eq!(strip_prefixes("x_ai", "x_ai/grok-4.3"), "grok-4.3");
        assert_eq!(
            strip_prefixes("gcp.gemini", "gemini/gemini-2.5-pro"),
            "gemini-2.5-pro"
        );
        assert_eq!(
            strip_prefixes("gcp.gemini", "models/gemini-2.5-pro"),
            "gemini-2.5-pro"
        );
        assert_eq!(strip_prefixes("openai", "openai/gpt-4o"), "gpt-4o");
        assert_eq!(strip_prefixes("openai", "groq/gpt-4o"), "groq/gpt-4o");
        assert_eq!(strip_prefixes("openai", "openai/"), "openai/");
    }

    #[test]
    fn dates_are_removed_only_when_they_are_dates() {
        assert_eq!(all("openai", "gpt-4o-2024-08-06"), ["gpt-4o"]);
        assert_eq!(
            all("anthropic", "claude-3-5-sonnet-20241022"),
            ["claude-3-5-sonnet"]
        );
        assert!(all("openai", "gpt-4o-2024-13-06").is_empty());
        assert!(all("openai", "model-12345678").is_empty());
        assert!(all("openai", "gpt-4-0613").is_empty());
        assert!(all("openai", "-20241022").is_empty());
    }

    #[test]
    fn latest_fine_tunes_and_gemini_versions_have_one_alias_each() {
        assert_eq!(
            all("anthropic", "claude-sonnet-4-5-latest"),
            ["claude-sonnet-4-5"]
        );
        assert_eq!(
            all("openai", "ft:gpt-4o-mini-2024-07-18:acme::abc123"),
            ["ft:gpt-4o-mini-2024-07-18"]
        );
        assert_eq!(
            all("gcp.gemini", "gemini-2.5-flash-001"),
            ["gemini-2.5-flash"]
        );
        assert!(all("openai", "gemini-2.5-flash-001").is_empty());
        assert!(all("gcp.gemini", "gemini-2.5-flash").is_empty());
    }
}
