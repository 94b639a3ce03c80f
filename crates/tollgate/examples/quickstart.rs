//! Offline quickstart: a fake OpenAI server on 127.0.0.1, the real OpenAI client pointed at
//! it, one complete chat and one stream, and what each cost at the bundled catalog price.
//!
//! ```sh
//! cargo run -p tollgate --example quickstart
//! ```

#![allow(clippy::print_stdout)]

use std::io::Write;
use std::time::Duration;

use futures_util::StreamExt;
use tollgate::openai::{OpenAiClient, OpenAiConfig};
use tollgate::pricing::PriceSource;
use tollgate::{ChatEvent, ChatRequest, Client, Usage};
use tollgate_catalog::Catalog;
use tollgate_testkit::scenario::{Scenario, ScenarioUsage};
use tollgate_testkit::{FakeServer, Flavor};

const MODEL: &str = "gpt-4o-mini";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A fake OpenAI endpoint speaking the real wire format, scripted with two answers.
    let server = FakeServer::openai().await;
    let usage = ScenarioUsage {
        input_tokens: 1_200,
        cache_read_tokens: 1_024,
        output_tokens: 42,
        ..ScenarioUsage::default()
    };
    let answer = |pieces: &[&str]| {
        Scenario::text(pieces.iter().copied())
            .with_model("gpt-4o-mini-2024-07-18")
            .with_usage(usage)
    };
    server.push(answer(&["Paris is the capital of France."]).reply(Flavor::OpenAi, false));
    server.push(
        answer(&["Two", ", three", ", five", " and seven."])
            .reply(Flavor::OpenAi, true)
            .chunk_interval(Duration::from_millis(120)),
    );
    println!("fake OpenAI server listening at {}\n", server.base_url());

    // The real client; only the base URL differs from production.
    let config = OpenAiConfig::new("sk-quickstart-not-a-real-key").base_url(server.base_url());
    let client = Client::new(OpenAiClient::new(config)?);

    let request = ChatRequest::new(MODEL)
        .system("You are terse.")
        .user("What is the capital of France?");
    let response = client.chat(request).await?;
    println!("chat   → {}", response.text());
    report(&response.model, response.usage);

    print!("stream → ");
    let mut stream = client
        .stream(ChatRequest::new(MODEL).user("Name the primes below ten."))
        .await?;
    let mut streamed_usage = None;
    while let Some(event) = stream.next().await {
        match event? {
            ChatEvent::TextDelta { text } => {
                print!("{text}");
                std::io::stdout().flush()?;
            }
            ChatEvent::Usage(usage) => streamed_usage = Some(usage),
            _ => {}
        }
    }
    println!();
    report(MODEL, streamed_usage);
    Ok(())
}

fn report(model: &str, usage: Option<Usage>) {
    let Some(usage) = usage else {
        println!("         usage: not reported\n");
        return;
    };
    println!(
        "         usage: {} input ({} from cache), {} output",
        usage.input_tokens, usage.cache_read_tokens, usage.output_tokens
    );
    match Catalog::bundled().price("openai", model) {
        Some(price) => {
            let cost = usage.cost(&price);
            println!(
                "         cost:  ${:.8} (input ${:.8}, cache ${:.8}, output ${:.8}) at {model}'s catalog price\n",
                cost.total(),
                cost.input,
                cost.cache_read,
                cost.output
            );
        }
        None => println!("         cost:  unknown ({model} is not in the catalog)\n"),
    }
}
