//! Provider request bodies, written straight from their wire types.

use serde_json::{Map, Value};

/// Serializes a provider's wire body with the request's `extra` fields merged into its top
/// level. Without `extra` (the usual case) the body is written straight into bytes; only
/// a request with `extra` pays for an intermediate JSON tree.
///
/// # Errors
///
/// Whatever serialization fails with (a non-finite float, a map with non-string keys).
pub fn json_body<T: serde::Serialize>(
    wire: &T,
    extra: &Map<String, Value>,
) -> Result<Vec<u8>, serde_json::Error> {
    // Most requests fit without growing (and copying) the buffer; larger ones double.
    let mut out = Vec::with_capacity(1024);
    if extra.is_empty() {
        serde_json::to_writer(&mut out, wire)?;
    } else {
        let mut body = serde_json::to_value(wire)?;
        merge_extra(&mut body, extra);
        serde_json::to_writer(&mut out, &body)?;
    }
    Ok(out)
}

/// Merges a request's `extra` fields into the top level of a wire body; a field in
/// `extra` replaces the one the translator wrote.
pub fn merge_extra(body: &mut Value, extra: &Map<String, Value>) {
    if let Value::Object(map) = body {
        for (key, value) in extra {
            map.insert(key.clone(), value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_bodies_are_the_same_with_or_without_the_shortcut() {
        let wire = serde_json::json!({"model": "a", "n": 1});
        let plain: Value = serde_json::from_slice(&json_body(&wire, &Map::new()).unwrap()).unwrap();
        assert_eq!(plain, wire);
        let mut extra = Map::new();
        extra.insert("n".into(), Value::from(2));
        let merged: Value = serde_json::from_slice(&json_body(&wire, &extra).unwrap()).unwrap();
        assert_eq!(merged, serde_json::json!({"model": "a", "n": 2}));
    }

    #[test]
    fn extra_fields_win_over_translated_ones() {
        let mut body = serde_json::json!({"model": "a", "n": 1});
        let mut extra = Map::new();
        extra.insert("n".into(), Value::from(2));
        extra.insert("service_tier".into(), Value::from("flex"));
        merge_extra(&mut body, &extra);
        assert_eq!(
            body,
            serde_json::json!({"model": "a", "n": 2, "service_tier": "flex"})
        );
    }
}
