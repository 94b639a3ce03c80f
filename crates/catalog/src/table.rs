//! The catalog table format: JSON Lines, one header line, then one model per line.
//!
//! ```text
//! {"format":"tollgate-catalog/1","source":{"name":"litellm",…}}
//! {"provider":"openai","model":"gpt-4o","price":{"input":2.5,"output":10.0,…},…}
//! ```
//!
//! Models are sorted by provider and model so regenerating the table gives reviewable,
//! line-by-line diffs. The bundled table is `data/catalog.jsonl`, written by
//! `cargo xtask update-catalog`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::CatalogError;
use crate::facts::ModelFacts;

/// The `format` value of the header line this crate reads and writes.
pub const FORMAT: &str = "tollgate-catalog/1";

/// Where a catalog table's facts come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogSource {
    /// The upstream project (`litellm`).
    pub name: String,
    /// The upstream release the facts were taken from (`1.106.2`).
    pub version: String,
    /// The file inside the release that holds them.
    pub file: String,
    /// The release artifact the file was read from (a wheel file name).
    pub artifact: String,
    /// SHA-256 of that artifact, lowercase hex.
    pub sha256: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    format: String,
    source: CatalogSource,
}

/// Models of a parsed table: provider → model → facts.
pub(crate) type Models = BTreeMap<String, BTreeMap<String, ModelFacts>>;

/// Writes a table: the header line, then `models` sorted by provider and model, one line
/// each, newline-terminated.
pub fn render(source: &CatalogSource, models: &[ModelFacts]) -> Result<String, CatalogError> {
    let header = Header {
        format: FORMAT.to_owned(),
        source: source.clone(),
    };
    let mut sorted: Vec<&ModelFacts> = models.iter().collect();
    sorted.sort_by(|a, b| (&a.provider, &a.model).cmp(&(&b.provider, &b.model)));
    let mut out = line(1, &header)?;
    for (index, facts) in sorted.into_iter().enumerate() {
        out.push_str(&line(index + 2, facts)?);
    }
    Ok(out)
}

fn line(number: usize, value: &impl Serialize) -> Result<String, CatalogError> {
    let mut text = serde_json::to_string(value)
        .map_err(|e| CatalogError::table(number, format!("cannot serialise: {e}")))?;
    text.push('\n');
    Ok(text)
}

/// Reads a table written by [`render`]: its source and its models.
pub(crate) fn parse(text: &str) -> Result<(CatalogSource, Models), CatalogError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(index, line)| (index + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty());
    let (number, first) = lines
        .next()
        .ok_or_else(|| CatalogError::table(1, "the table is empty; expected a header line"))?;
    let header: Header = serde_json::from_str(first)
        .map_err(|e| CatalogError::table(number, format!("invalid header: {e}")))?;
    if header.format != FORMAT {
        return Err(CatalogError::table(
            number,
            format!("format is {:?}, this crate reads {FORMAT:?}", header.format),
        ));
    }
    let mut models = Models::new();
    for (number, line) in lines {
        let facts: ModelFacts = serde_json::from_str(line)
            .map_err(|e| CatalogError::table(number, format!("invalid model: {e}")))?;
        if facts.provider.is_empty() || facts.model.is_empty() {
            return Err(CatalogError::table(
                number,
                "provider and model must not be empty",
            ));
        }
        let by_model = models.entry(facts.provider.clone()).or_default();
        if by_model.contains_key(&facts.model) {
            return Err(CatalogError::table(
                number,
                format!("{}/{} is listed twice", facts.provider, facts.model),
            ));
        }
        by_model.insert(facts.model.clone(), facts);
    }
    Ok((header.source, models))
}

#[cfg(test)]
mod tests {
    use tollgate_core::Price;

    use super::*;

    fn source() -> CatalogSource {
        CatalogSource {
            name: "test".into(),
            version: "1".into(),
            file: "f.json".into(),
            artifact: "a.whl".into(),
            sha256: "00".into(),
        }
    }

    #[test]
    fn render_then_parse_round_trips_sorted() {
        let mut b = ModelFacts::new("openai", "b");
        b.price = Some(Price::per_million(0.15, 0.6).with_cache_read(0.075));
        let a = ModelFacts::new("anthropic", "a");
        let text = render(&source(), &[b.clone(), a.clone()]).unwrap();
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(
            lines[1].contains("\"anthropic\""),
            "sorted by provider: {text}"
        );
        assert_eq!(
            lines[2],
            r#"{"provider":"openai","model":"b","price":{"input":0.15,"output":0.6,"cache_read":0.075}}"#
        );
        let (parsed_source, models) = parse(&text).unwrap();
        assert_eq!(parsed_source, source());
        assert_eq!(models["openai"]["b"], b);
        assert_eq!(models["anthropic"]["a"], a);
    }

    #[test]
    fn errors_name_the_line() {
        let header = render(&source(), &[]).unwrap();
        let bad = format!("{header}\n{{\"provider\":\"openai\",\"model\":\"x\",\"colour\":1}}\n");
        let err = parse(&bad).unwrap_err();
        assert!(matches!(err, CatalogError::Table { line: 3, .. }), "{err}");

        let twice = format!(
            "{header}{{\"provider\":\"openai\",\"model\":\"x\"}}\n{{\"provider\":\"openai\",\"model\":\"x\"}}\n"
        );
        let err = parse(&twice).unwrap_err();
        assert!(err.to_string().contains("listed twice"), "{err}");

        assert!(matches!(
            parse(""),
            Err(CatalogError::Table { line: 1, .. })
        ));
        let wrong = header.replace(FORMAT, "tollgate-catalog/0");
        assert!(parse(&wrong).unwrap_err().to_string().contains("format"));
    }
}
