//! The annotated example config in docs/gateway.md is the one the tests validate.

#[test]
fn the_gateway_doc_embeds_the_example_config_verbatim() {
    let doc = include_str!("../../../docs/gateway.md");
    let example = include_str!("../examples/tollgate.example.toml");
    let fenced = format!("```toml\n{}\n```", example.trim_end());
    assert!(
        doc.contains(&fenced),
        "docs/gateway.md must embed crates/gateway/examples/tollgate.example.toml verbatim; \
         copy the file into its 'Full annotated example' section"
    );
}
