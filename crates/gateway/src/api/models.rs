//! `GET /v1/models`: OpenAI's model list, one entry per route.

use serde::Serialize;

use crate::state::AppState;

#[derive(Serialize)]
struct ModelList<'a> {
    object: &'static str,
    data: Vec<ModelEntry<'a>>,
}

#[derive(Serialize)]
struct ModelEntry<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    owned_by: &'a str,
}

/// The model list JSON: every route the caller may use (`may_use(route)`), in name
/// order, `owned_by` its first deployment's provider.
pub fn encode(state: &AppState, may_use: impl Fn(&str) -> bool) -> Vec<u8> {
    let list = ModelList {
        object: "list",
        data: state
            .routes
            .iter()
            .filter(|(name, _)| may_use(name))
            .map(|(name, route)| ModelEntry {
                id: name,
                object: "model",
                created: 0,
                owned_by: route.owner(),
            })
            .collect(),
    };
    serde_json::to_vec(&list).unwrap_or_default()
}
