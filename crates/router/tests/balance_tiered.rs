//! `Tiered` and `DefaultClassifier`: requests sorted into tiers, each tier a pool with
//! its own balancer; and what that saves on a realistic mix.

#![allow(clippy::print_stdout)]

mod balance_support;

use std::time::Duration;

use balance_support::{Pool, TestRng, priced};
use tollgate_core::{ChatRequest, Price, ReasoningEffort, ResponseFormat, Tool, Usage, UserPart};
use tollgate_router::balance::{
    Classifier, Cost, DefaultClassifier, Latency, LatencyConfig, Members, TierPool, Tiered,
};
use tollgate_router::{Balancer, DeploymentFacts, Observation, Priority};

fn tool() -> Tool {
    Tool::new("search", serde_json::json!({"type": "object"}))
}

#[test]
fn default_classifier_rules() {
    let c = DefaultClassifier::new();
    let simple = ChatRequest::new("r").user("Translate 'hello' to French.");
    assert_eq!(c.classify(&simple), "simple");
    assert_eq!(c.classify(&simple.clone().tool(tool())), "complex");
    let image = ChatRequest::new("r").user_parts([UserPart::image_url("https://x.invalid/a.png")]);
    assert_eq!(c.classify(&image), "complex");
    let schema = simple.clone().response_format(ResponseFormat::JsonSchema {
        name: "s".into(),
        description: None,
        schema: serde_json::json!({"type": "object"}),
        strict: true,
    });
    assert_eq!(c.classify(&schema), "complex");
    let json_object = simple.clone().response_format(ResponseFormat::JsonObject);
    assert_eq!(c.classify(&json_object), "simple");
    assert_eq!(
        c.classify(&simple.clone().reasoning_effort(ReasoningEffort::High)),
        "complex"
    );
    assert_eq!(
        c.classify(&simple.clone().reasoning_effort(ReasoningEffort::Low)),
        "simple"
    );
}

#[test]
fn prompt_length_threshold_is_strictly_above_the_limit() {
    let c = DefaultClassifier::new().long_prompt_tokens(1_000);
    // 4 tokens of message overhead + bytes / 4.
    let at_limit = ChatRequest::new("r").user("x".repeat(3_984));
    assert_eq!(at_limit.estimate_input_tokens(), 1_000);
    assert_eq!(c.classify(&at_limit), "simple");
    let over = ChatRequest::new("r").user("x".repeat(3_988));
    assert_eq!(c.classify(&over), "complex");
    assert_eq!(
        DefaultClassifier::new().classify(&ChatRequest::new("r").user("x".repeat(8_100))),
        "complex",
        "default threshold is 2000 tokens"
    );
}

#[test]
fn tags_come_before_heuristics() {
    let c = DefaultClassifier::new().task("support", "simple");
    let long = ChatRequest::new("r").user("x".repeat(20_000)).tool(tool());
    assert_eq!(
        c.classify(&long.clone().tag("task", "summarization")),
        "simple"
    );
    assert_eq!(c.classify(&long.clone().tag("task", "support")), "simple");
    let short = ChatRequest::new("r").user("2+2?");
    assert_eq!(c.classify(&short.clone().tag("task", "math")), "complex");
    assert_eq!(
        c.classify(&short.clone().tag("task", "unknown-task")),
        "simple"
    );
    assert_eq!(c.classify(&long.clone().tag("tier", "gold")), "gold");
    let renamed = DefaultClassifier::new().tier_names("economy", "frontier");
    assert_eq!(renamed.classify(&short), "economy");
    assert_eq!(renamed.classify(&long), "frontier");
    // Built-in task mappings follow the rename instead of pointing at tiers that no
    // longer exist.
    let coding = ChatRequest::new("m").user("hi").tag("task", "coding");
    let tagging = ChatRequest::new("m").user("hi").tag("task", "tagging");
    assert_eq!(renamed.classify(&coding), "frontier");
    assert_eq!(renamed.classify(&tagging), "economy");
}

fn two_model_pool() -> Pool {
    let mut mini = priced(0.15, 0.60);
    mini.tags.insert("cheap".into());
    let mut big = priced(2.50, 10.00);
    big.tags.insert("frontier".into());
    Pool::new()
        .with("openai/gpt-4o", big)
        .with("openai/gpt-4o-mini", mini)
        .with("groq/llama", DeploymentFacts::default())
}

fn tiered() -> Tiered {
    Tiered::new(
        DefaultClassifier::new(),
        vec![
            TierPool::new("complex", Members::Tags(vec!["frontier".into()]), Priority),
            TierPool::new(
                "simple",
                Members::Names(vec!["openai/gpt-4o-mini".into()]),
                Cost::default(),
            ),
        ],
    )
}

#[test]
fn each_tier_is_served_by_its_pool_then_spills_over_in_route_order() {
    let pool = two_model_pool();
    let balancer = tiered();
    let simple = ChatRequest::new("r").user("Hi!");
    let complex = ChatRequest::new("r").user("Plan a trip.").tool(tool());
    assert_eq!(
        pool.names_of(&balancer.order(&simple, &pool.candidates())),
        ["openai/gpt-4o-mini", "openai/gpt-4o", "groq/llama"]
    );
    assert_eq!(
        pool.names_of(&balancer.order(&complex, &pool.candidates())),
        ["openai/gpt-4o", "openai/gpt-4o-mini", "groq/llama"]
    );
    assert_eq!(
        balancer.pool_for(&simple).map(TierPool::name),
        Some("simple")
    );
}

#[test]
fn without_spill_over_only_the_pool_is_tried() {
    let pool = two_model_pool();
    let balancer = tiered().spill_over(false);
    let simple = ChatRequest::new("r").user("Hi!");
    assert_eq!(
        pool.names_of(&balancer.order(&simple, &pool.candidates())),
        ["openai/gpt-4o-mini"]
    );
    // The whole pool is unhealthy (the route did not offer it): nothing to try.
    let candidates: Vec<_> = pool
        .candidates()
        .into_iter()
        .filter(|c| c.name != "openai/gpt-4o-mini")
        .collect();
    assert!(balancer.order(&simple, &candidates).is_empty());
}

#[test]
fn an_unknown_tier_goes_to_the_first_pool() {
    let pool = two_model_pool();
    let balancer = tiered().spill_over(false);
    let request = ChatRequest::new("r").user("Hi!").tag("tier", "platinum");
    assert_eq!(
        pool.names_of(&balancer.order(&request, &pool.candidates())),
        ["openai/gpt-4o"]
    );
    let empty = Tiered::new(DefaultClassifier::new(), Vec::new());
    assert_eq!(empty.order(&request, &pool.candidates()), vec![0, 1, 2]);
}

#[test]
fn closures_classify_and_indices_select() {
    let pool = Pool::plain(4);
    let balancer = Tiered::new(
        |r: &ChatRequest| {
            if r.metadata.contains_key("vip") {
                "vip"
            } else {
                "rest"
            }
        },
        vec![
            TierPool::new("rest", Members::Indices(vec![2, 3]), Priority),
            TierPool::new("vip", Members::Indices(vec![1]), Priority),
        ],
    )
    .spill_over(false);
    let vip = ChatRequest::new("r").tag("vip", "yes");
    assert_eq!(balancer.order(&vip, &pool.candidates()), vec![1]);
    assert_eq!(
        balancer.order(&ChatRequest::new("r"), &pool.candidates()),
        vec![2, 3]
    );
}

#[tokio::test(start_paused = true)]
async fn observations_reach_the_pools_balancers() {
    let pool = Pool::plain(3);
    let balancer = Tiered::new(
        |_: &ChatRequest| "fast",
        vec![TierPool::new(
            "fast",
            Members::Indices(vec![1, 2]),
            Latency::with_seed(LatencyConfig::default(), 1),
        )],
    )
    .spill_over(false);
    for (index, ms) in [(1, 900), (2, 100)] {
        balancer.observe(&Observation {
            index,
            stream: false,
            latency: Duration::from_millis(ms),
            error: None,
        });
    }
    assert_eq!(
        balancer.order(&ChatRequest::new("r"), &pool.candidates()),
        vec![2, 1]
    );
}

/// One model pair for the cost report.
struct Pair {
    label: &'static str,
    cheap: (&'static str, Price),
    frontier: (&'static str, Price),
}

/// List prices in USD per million tokens (input / output), as published by OpenAI and
/// Anthropic in 2025.
fn pairs() -> Vec<Pair> {
    vec![
        Pair {
            label: "OpenAI",
            cheap: ("gpt-4o-mini", Price::per_million(0.15, 0.60)),
            frontier: ("gpt-4o", Price::per_million(2.50, 10.00)),
        },
        Pair {
            label: "Anthropic",
            cheap: ("claude-haiku-4-5", Price::per_million(1.00, 5.00)),
            frontier: ("claude-sonnet-4-5", Price::per_million(3.00, 15.00)),
        },
    ]
}

/// A synthetic request and what it really consumed (for the bill).
struct Synthetic {
    request: ChatRequest,
    complex: bool,
    usage: Usage,
}

/// 70 % simple (short chat, classification and extraction with small answers),
/// 30 % complex (tool use, long documents, coding), drawn from a seeded generator.
fn synthetic_mix(n: usize, seed: u64) -> Vec<Synthetic> {
    let mut rng = TestRng::new(seed);
    let word = "token ";
    (0..n)
        .map(|_| {
            let complex = rng.unit() >= 0.70;
            let request = if complex {
                match rng.range(0, 3) {
                    // An agent step: tools and a mid-sized context.
                    0 => ChatRequest::new("route")
                        .system("You are a careful agent.")
                        .user(word.repeat(rng.range(300, 1_200) as usize))
                        .tool(tool())
                        .max_tokens(rng.range(300, 900) as u32),
                    // A long document to analyse.
                    1 => ChatRequest::new("route")
                        .user(word.repeat(rng.range(2_000, 6_000) as usize))
                        .max_tokens(rng.range(500, 1_500) as u32),
                    // A short but hard task, tagged by the app.
                    _ => ChatRequest::new("route")
                        .user(word.repeat(rng.range(100, 400) as usize))
                        .tag("task", "coding")
                        .max_tokens(rng.range(600, 1_200) as u32),
                }
            } else {
                match rng.range(0, 3) {
                    0 => ChatRequest::new("route")
                        .user(word.repeat(rng.range(10, 120) as usize))
                        .max_tokens(rng.range(50, 300) as u32),
                    1 => ChatRequest::new("route")
                        .user(word.repeat(rng.range(50, 400) as usize))
                        .tag("task", "classification")
                        .max_tokens(8),
                    _ => ChatRequest::new("route")
                        .user(word.repeat(rng.range(200, 1_200) as usize))
                        .tag("task", "extraction")
                        .max_tokens(rng.range(50, 200) as u32),
                }
            };
            // The bill: the estimated input, and the answer uses its whole budget.
            let usage = Usage::new(
                request.estimate_input_tokens(),
                u64::from(request.max_tokens.unwrap_or(0)),
            );
            Synthetic {
                request,
                complex,
                usage,
            }
        })
        .collect()
}

#[test]
fn tiered_routing_cost_report_against_always_frontier() {
    const N: usize = 1_000;
    const SEED: u64 = 42;
    let mix = synthetic_mix(N, SEED);
    let simple_count = mix.iter().filter(|s| !s.complex).count();
    let simple_share = simple_count as f64 / N as f64;
    assert!(
        (0.67..=0.73).contains(&simple_share),
        "the seeded mix is {simple_share:.3} simple"
    );
    println!(
        "Tiered routing cost report: {N} synthetic requests (seed {SEED}), {simple_count} simple \
         / {} complex; bill = estimated input + max_tokens output",
        N - simple_count
    );
    for pair in pairs() {
        let pool = Pool::new()
            .with(
                pair.frontier.0,
                DeploymentFacts {
                    price: Some(pair.frontier.1.clone()),
                    ..DeploymentFacts::default()
                },
            )
            .with(
                pair.cheap.0,
                DeploymentFacts {
                    price: Some(pair.cheap.1.clone()),
                    ..DeploymentFacts::default()
                },
            );
        let balancer = Tiered::new(
            DefaultClassifier::new(),
            vec![
                TierPool::new(
                    "complex",
                    Members::Names(vec![pair.frontier.0.into()]),
                    Priority,
                ),
                TierPool::new(
                    "simple",
                    Members::Names(vec![pair.cheap.0.into()]),
                    Priority,
                ),
            ],
        );
        let candidates = pool.candidates();
        // [simple, complex] × (tiered $, frontier-only $, input tokens, output tokens)
        let mut rows = [(0.0f64, 0.0f64, 0u64, 0u64); 2];
        for s in &mix {
            let chosen = balancer.order(&s.request, &candidates)[0];
            let expected = if s.complex { 0 } else { 1 };
            assert_eq!(chosen, expected, "misrouted: {:?}", s.request.metadata);
            let price = pool.facts[chosen].price.as_ref().expect("priced");
            let row = &mut rows[usize::from(s.complex)];
            row.0 += s.usage.cost(price).total();
            row.1 += s.usage.cost(&pair.frontier.1).total();
            row.2 += s.usage.input_tokens;
            row.3 += s.usage.output_tokens;
        }
        let tiered_total = rows[0].0 + rows[1].0;
        let frontier_total = rows[0].1 + rows[1].1;
        let saving = 1.0 - tiered_total / frontier_total;
        // What the mix implies: simple requests cost `ratio` of frontier prices (the same
        // ratio on input and output for both pairs), complex ones cost the same.
        let ratio = pair.cheap.1.input / pair.frontier.1.input;
        assert!((pair.cheap.1.output / pair.frontier.1.output - ratio).abs() < 1e-12);
        let simple_cost_share = rows[0].1 / frontier_total;
        let implied = (1.0 - ratio) * simple_cost_share;
        println!();
        println!(
            "{}: {} (${}/${}) for simple, {} (${}/${}) for complex",
            pair.label,
            pair.cheap.0,
            pair.cheap.1.input,
            pair.cheap.1.output,
            pair.frontier.0,
            pair.frontier.1.input,
            pair.frontier.1.output
        );
        println!(
            "| tier | requests | input tokens | output tokens | tiered USD | always-frontier USD |"
        );
        println!("|---|---:|---:|---:|---:|---:|");
        for (name, count, row) in [
            ("simple", simple_count, rows[0]),
            ("complex", N - simple_count, rows[1]),
        ] {
            println!(
                "| {name} | {count} | {} | {} | {:.4} | {:.4} |",
                row.2, row.3, row.0, row.1
            );
        }
        println!(
            "| total | {N} | {} | {} | {tiered_total:.4} | {frontier_total:.4} |",
            rows[0].2 + rows[1].2,
            rows[0].3 + rows[1].3
        );
        println!(
            "saving {:.1} % = (1 - {ratio:.4}) x {:.1} % (simple requests' share of the \
             always-frontier bill)",
            saving * 100.0,
            simple_cost_share * 100.0
        );
        assert!(
            (saving - implied).abs() < 1e-9,
            "saving {saving} vs implied {implied}"
        );
        // Simple requests are small: their share of the bill is well below their share of
        // requests, so the saving is far below 70 % × (1 - ratio).
        assert!(simple_cost_share > 0.05 && simple_cost_share < simple_share);
    }
}
