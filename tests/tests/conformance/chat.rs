//! Complete (non-streaming) calls: text, system prompt, multi-turn, sampling parameters,
//! structured output, images, finish reasons.

use serde_json::json;
use tollgate_core::{ResponseFormat, UserPart};
use tollgate_testkit::Flavor;
use tollgate_testkit::scenario::{Scenario, ScenarioFinish};
use tollgate_tests::{Target, WireImage, WireRole};

use crate::support::{
    QUESTION, answer, assert_conforms, at, expected, question, requested_model, start, text_answer,
    wire,
};

/// A plain question gets the same normalised answer everywhere, and the request names the
/// model and asks for no stream.
pub async fn text(target: Target) {
    let h = start(target).await;
    let scenario = text_answer();
    h.server.push(scenario.reply(target.flavor(), false));

    let response = h.client.chat(question(target)).await.unwrap();

    assert_conforms(&h, &response, &expected(&h, &scenario));
    assert_eq!(response.text(), "High tide is at 12:04.");
    assert_eq!(h.server.request_count(), 1);
    assert_eq!(requested_model(&h, 0), target.model());
    let sent = wire(&h, 0);
    assert!(!sent.stream);
    assert_eq!(sent.system, None);
    assert_eq!(sent.texts(), [(WireRole::User, QUESTION.to_owned())]);
}

/// The system prompt goes where each provider wants it: OpenAI a leading `system` message,
/// Anthropic the top-level `system`, Gemini `systemInstruction` — never among the turns.
pub async fn system_prompt(target: Target) {
    let h = start(target).await;
    let scenario = text_answer();
    h.server.push(scenario.reply(target.flavor(), false));
    let instructions = "Answer in one line. Times are local.";

    let response = h
        .client
        .chat(
            tollgate_core::ChatRequest::new(target.model())
                .system(instructions)
                .user(QUESTION),
        )
        .await
        .unwrap();

    assert_conforms(&h, &response, &expected(&h, &scenario));
    let sent = wire(&h, 0);
    assert_eq!(sent.system.as_deref(), Some(instructions));
    assert_eq!(sent.texts(), [(WireRole::User, QUESTION.to_owned())]);
    let body = &sent.body;
    match target.flavor() {
        Flavor::OpenAi => {
            assert_eq!(at(body, "/messages/0/role"), "system");
            assert_eq!(at(body, "/messages/0/content"), instructions);
            assert_eq!(at(body, "/messages/1/role"), "user");
        }
        Flavor::Anthropic => {
            assert_eq!(at(body, "/system"), instructions);
            assert_eq!(at(body, "/messages/0/role"), "user");
        }
        Flavor::Gemini => {
            assert_eq!(at(body, "/systemInstruction/parts/0/text"), instructions);
            assert_eq!(at(body, "/contents/0/role"), "user");
            assert_eq!(body["contents"].as_array().unwrap().len(), 1);
        }
    }
}

/// Earlier turns are sent in order with their roles.
pub async fn multi_turn(target: Target) {
    let h = start(target).await;
    let scenario = text_answer();
    h.server.push(scenario.reply(target.flavor(), false));

    let response = h
        .client
        .chat(
            tollgate_core::ChatRequest::new(target.model())
                .user("Which harbor has the biggest tides in France?")
                .assistant("Saint-Malo.")
                .user(QUESTION),
        )
        .await
        .unwrap();

    assert_conforms(&h, &response, &expected(&h, &scenario));
    assert_eq!(
        wire(&h, 0).texts(),
        [
            (
                WireRole::User,
                "Which harbor has the biggest tides in France?".to_owned()
            ),
            (WireRole::Assistant, "Saint-Malo.".to_owned()),
            (WireRole::User, QUESTION.to_owned()),
        ]
    );
    if target.flavor() == Flavor::Gemini {
        assert_eq!(at(&wire(&h, 0).body, "/contents/1/role"), "model");
    }
}

/// Temperature, the output limit and the seed land in each provider's (and each preset's)
/// own fields: `max_completion_tokens` or `max_tokens`, `seed` or Mistral's `random_seed`,
/// Gemini's `generationConfig`; Anthropic has no seed and must not receive one.
pub async fn sampling_parameters(target: Target) {
    let h = start(target).await;
    let scenario = text_answer();
    h.server.push(scenario.reply(target.flavor(), false));

    let response = h
        .client
        .chat(question(target).temperature(0.25).max_tokens(64).seed(7))
        .await
        .unwrap();

    assert_conforms(&h, &response, &expected(&h, &scenario));
    let body = wire(&h, 0).body;
    assert_eq!(at(&body, target.max_tokens_pointer()), 64, "{body}");
    assert_eq!(at(&body, target.temperature_pointer()), 0.25, "{body}");
    match target.seed_pointer() {
        Some(pointer) => assert_eq!(at(&body, pointer), 7, "{body}"),
        None => assert!(!body.to_string().contains("seed"), "{body}"),
    }
    // Exactly one of the two output-limit spellings is sent.
    if target.flavor() == Flavor::OpenAi {
        let spellings = ["/max_tokens", "/max_completion_tokens"];
        let sent: Vec<_> = spellings
            .iter()
            .filter(|p| body.pointer(p).is_some())
            .collect();
        assert_eq!(sent, [&target.max_tokens_pointer()], "{body}");
    }
}

/// A JSON-schema answer comes back as the same JSON text, and the schema is sent in the
/// provider's native structured-output field.
pub async fn structured_output(target: Target) {
    let h = start(target).await;
    let schema = json!({
        "type": "object",
        "properties": {"harbor": {"type": "string"}, "high_tide": {"type": "string"}},
        "required": ["harbor", "high_tide"],
        "additionalProperties": false,
    });
    let scenario = answer(Scenario::text([
        r#"{"harbor":"Brest","#,
        r#""high_tide":"12:04"}"#,
    ]));
    h.server.push(scenario.reply(target.flavor(), false));

    let response = h
        .client
        .chat(
            question(target).response_format(ResponseFormat::JsonSchema {
                name: "tide_report".into(),
                description: None,
                schema: schema.clone(),
                strict: true,
            }),
        )
        .await
        .unwrap();

    assert_conforms(&h, &response, &expected(&h, &scenario));
    let parsed: serde_json::Value = serde_json::from_str(&response.text()).unwrap();
    assert_eq!(parsed, json!({"harbor": "Brest", "high_tide": "12:04"}));
    let body = wire(&h, 0).body;
    match target.flavor() {
        Flavor::OpenAi => {
            assert_eq!(at(&body, "/response_format/type"), "json_schema");
            assert_eq!(
                at(&body, "/response_format/json_schema/name"),
                "tide_report"
            );
            assert_eq!(at(&body, "/response_format/json_schema/schema"), &schema);
            assert_eq!(at(&body, "/response_format/json_schema/strict"), true);
        }
        Flavor::Anthropic => {
            assert_eq!(at(&body, "/output_config/format/type"), "json_schema");
            assert_eq!(at(&body, "/output_config/format/schema"), &schema);
            assert!(body.get("tools").is_none(), "no forced tool: {body}");
        }
        Flavor::Gemini => {
            assert_eq!(
                at(&body, "/generationConfig/responseMimeType"),
                "application/json"
            );
            assert_eq!(at(&body, "/generationConfig/responseJsonSchema"), &schema);
        }
    }
}

/// Images by URL and inline base64 reach every provider as the same images, after the
/// text, in the provider's image shape.
pub async fn images(target: Target) {
    let h = start(target).await;
    let scenario = text_answer();
    h.server.push(scenario.reply(target.flavor(), false));
    let url = "https://example.com/charts/brest-tides.png";
    let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

    let response = h
        .client
        .chat(tollgate_core::ChatRequest::new(target.model()).user_parts([
            UserPart::text("Read these tide charts."),
            UserPart::image_url(url),
            UserPart::image_base64("image/png", png),
        ]))
        .await
        .unwrap();

    assert_conforms(&h, &response, &expected(&h, &scenario));
    let sent = wire(&h, 0);
    assert_eq!(
        sent.images(),
        [
            &WireImage::Url(url.to_owned()),
            &WireImage::Base64 {
                media_type: "image/png".into(),
                data: png.into()
            },
        ]
    );
    assert_eq!(
        sent.texts(),
        [(WireRole::User, "Read these tide charts.".to_owned())]
    );
    let body = &sent.body;
    match target.flavor() {
        Flavor::OpenAi => {
            assert_eq!(at(body, "/messages/0/content/1/type"), "image_url");
            assert_eq!(
                at(body, "/messages/0/content/2/image_url/url"),
                &format!("data:image/png;base64,{png}")
            );
        }
        Flavor::Anthropic => {
            assert_eq!(at(body, "/messages/0/content/1/source/type"), "url");
            assert_eq!(at(body, "/messages/0/content/2/source/type"), "base64");
        }
        Flavor::Gemini => {
            // The URL's extension gives Gemini its MIME type.
            assert_eq!(
                at(body, "/contents/0/parts/1/fileData/mimeType"),
                "image/png"
            );
            assert_eq!(
                at(body, "/contents/0/parts/2/inlineData/mimeType"),
                "image/png"
            );
        }
    }
}

/// Length and content-filter endings normalise alike; the raw value is kept.
pub async fn finish_reasons(target: Target) {
    let h = start(target).await;
    for finish in [ScenarioFinish::Length, ScenarioFinish::ContentFilter] {
        let scenario = text_answer().with_finish(finish);
        h.server.push(scenario.reply(target.flavor(), false));
        let response = h.client.chat(question(target)).await.unwrap();
        assert_conforms(&h, &response, &expected(&h, &scenario));
    }
}
