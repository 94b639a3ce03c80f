//! `Cost`: the cheapest deployment that can serve this request, unfit ones left out,
//! unknown prices last, equal prices sharing traffic.

mod balance_support;

use balance_support::{Pool, priced, share};
use tollgate_core::{ChatRequest, Price, ResponseFormat, Tool, UserPart};
use tollgate_router::balance::{CACHE_HIT_RATIO_TAG, Cost, CostConfig};
use tollgate_router::{Balancer, Capabilities, DeploymentFacts};

fn no_tools(facts: DeploymentFacts) -> DeploymentFacts {
    DeploymentFacts {
        capabilities: Capabilities {
            tools: false,
            ..Capabilities::default()
        },
        ..facts
    }
}

fn context(window: u64, facts: DeploymentFacts) -> DeploymentFacts {
    DeploymentFacts {
        context_window: Some(window),
        ..facts
    }
}

/// A mix of cheap-but-limited and capable deployments (prices per million tokens).
fn mixed_pool() -> Pool {
    Pool::new()
        .with("frontier", context(128_000, priced(2.50, 10.00)))
        .with("mini", context(128_000, priced(0.15, 0.60)))
        .with(
            "tiny-no-tools",
            no_tools(context(8_192, priced(0.05, 0.10))),
        )
        .with("small-context", context(4_096, priced(0.10, 0.40)))
        .with("unpriced", DeploymentFacts::default())
}

fn lookup_tool() -> Tool {
    Tool::new("lookup", serde_json::json!({"type": "object"}))
}

#[test]
fn a_short_request_goes_to_the_cheapest_capable_deployment() {
    let pool = mixed_pool();
    let balancer = Cost::with_seed(CostConfig::default(), 1);
    let request = ChatRequest::new("r").user("What is 2 + 2?").max_tokens(16);
    let order = balancer.order(&request, &pool.candidates());
    assert_eq!(
        pool.names_of(&order),
        [
            "tiny-no-tools",
            "small-context",
            "mini",
            "frontier",
            "unpriced"
        ]
    );
}

#[test]
fn a_request_with_tools_skips_deployments_without_tools() {
    let pool = mixed_pool();
    let balancer = Cost::with_seed(CostConfig::default(), 2);
    let request = ChatRequest::new("r")
        .user("Look it up.")
        .tool(lookup_tool());
    let order = balancer.order(&request, &pool.candidates());
    assert_eq!(
        pool.names_of(&order),
        ["small-context", "mini", "frontier", "unpriced"]
    );
}

#[test]
fn a_too_long_request_skips_small_context_windows() {
    let pool = mixed_pool();
    let balancer = Cost::with_seed(CostConfig::default(), 3);
    // About 5000 input tokens + 1000 output: fits 8k, not 4k.
    let request = ChatRequest::new("r")
        .user("word ".repeat(4_000))
        .max_tokens(1_000);
    let order = balancer.order(&request, &pool.candidates());
    assert_eq!(
        pool.names_of(&order),
        ["tiny-no-tools", "mini", "frontier", "unpriced"]
    );
    // With max_tokens the request no longer fits 8k either.
    let longer = request.max_tokens(4_000);
    let order = balancer.order(&longer, &pool.candidates());
    assert_eq!(pool.names_of(&order), ["mini", "frontier", "unpriced"]);
    assert_eq!(
        Cost::unfit_reason(&longer, &pool.facts[pool.position("tiny-no-tools")]),
        Some("context_window")
    );
}

#[test]
fn vision_and_json_schema_needs_filter_too() {
    let blind = DeploymentFacts {
        capabilities: Capabilities {
            vision: false,
            json_schema: false,
            ..Capabilities::default()
        },
        ..priced(0.01, 0.01)
    };
    let pool = Pool::new()
        .with("blind", blind)
        .with("mini", priced(0.15, 0.60));
    let balancer = Cost::with_seed(CostConfig::default(), 4);
    let image = ChatRequest::new("r").user_parts([
        UserPart::text("What is this?"),
        UserPart::image_url("https://example.invalid/cat.png"),
    ]);
    let schema =
        ChatRequest::new("r")
            .user("Extract.")
            .response_format(ResponseFormat::JsonSchema {
                name: "x".into(),
                description: None,
                schema: serde_json::json!({"type": "object"}),
                strict: true,
            });
    let plain = ChatRequest::new("r").user("Hi.");
    assert_eq!(
        pool.names_of(&balancer.order(&image, &pool.candidates())),
        ["mini"]
    );
    assert_eq!(
        pool.names_of(&balancer.order(&schema, &pool.candidates())),
        ["mini"]
    );
    assert_eq!(
        pool.names_of(&balancer.order(&plain, &pool.candidates())),
        ["blind", "mini"]
    );
}

#[test]
fn max_tokens_above_a_models_output_limit_skips_it() {
    let capped = DeploymentFacts {
        max_output_tokens: Some(4_096),
        ..priced(0.10, 0.40)
    };
    let pool = Pool::new()
        .with("capped", capped)
        .with("mini", priced(0.15, 0.60));
    let balancer = Cost::with_seed(CostConfig::default(), 5);
    let request = ChatRequest::new("r")
        .user("Write a novel.")
        .max_tokens(16_000);
    assert_eq!(
        pool.names_of(&balancer.order(&request, &pool.candidates())),
        ["mini"]
    );
}

#[test]
fn equal_prices_share_the_traffic() {
    let pool = Pool::new()
        .with("expensive", priced(2.50, 10.00))
        .with("east", priced(0.15, 0.60))
        .with("west", priced(0.15, 0.60));
    let balancer = Cost::with_seed(CostConfig::default(), 6);
    let request = ChatRequest::new("r").user("Hello.");
    const N: usize = 4_000;
    let mut first = [0usize; 3];
    for _ in 0..N {
        let order = balancer.order(&request, &pool.candidates());
        assert_eq!(order[2], 0, "the expensive one is last");
        first[order[0]] += 1;
    }
    for count in &first[1..] {
        let got = share(*count, N);
        assert!((got - 0.5).abs() < 0.03, "share {got:.3} ({first:?})");
    }
}

#[test]
fn a_tie_tolerance_spreads_nearly_equal_prices() {
    let pool = Pool::new()
        .with("a", priced(1.00, 4.00))
        .with("b", priced(1.02, 4.08))
        .with("c", priced(2.00, 8.00));
    let request = ChatRequest::new("r").user("Hello.");
    let strict = Cost::with_seed(CostConfig::default(), 7);
    let loose = Cost::with_seed(
        CostConfig {
            tie_tolerance: 0.05,
            ..CostConfig::default()
        },
        7,
    );
    let mut b_first = (0, 0);
    for _ in 0..1_000 {
        b_first.0 += usize::from(strict.order(&request, &pool.candidates())[0] == 1);
        let order = loose.order(&request, &pool.candidates());
        assert_eq!(order[2], 2);
        b_first.1 += usize::from(order[0] == 1);
    }
    assert_eq!(b_first.0, 0, "2 % dearer never wins without tolerance");
    assert!(
        (400..600).contains(&b_first.1),
        "with 5 % tolerance: {}",
        b_first.1
    );
}

#[test]
fn a_cache_hint_favours_deployments_with_cheap_cache_reads() {
    let pool = Pool::new()
        .with("no-cache-discount", priced(1.00, 2.00))
        .with(
            "cache-discount",
            DeploymentFacts {
                price: Some(Price::per_million(1.20, 2.00).with_cache_read(0.12)),
                ..DeploymentFacts::default()
            },
        );
    let balancer = Cost::with_seed(CostConfig::default(), 8);
    let request = ChatRequest::new("r")
        .system("policy ".repeat(8_000))
        .user("Question?");
    assert_eq!(
        pool.names_of(&balancer.order(&request, &pool.candidates()))[0],
        "no-cache-discount"
    );
    let hinted = request.tag(CACHE_HIT_RATIO_TAG, "0.9");
    assert_eq!(
        pool.names_of(&balancer.order(&hinted, &pool.candidates()))[0],
        "cache-discount"
    );
    // Nonsense hints are ignored.
    let bogus = ChatRequest::new("r")
        .user("q")
        .tag(CACHE_HIT_RATIO_TAG, "lots");
    assert_eq!(balancer.expected_usage(&bogus).cache_read_tokens, 0);
}

#[test]
fn the_estimate_is_usage_cost_of_the_expected_usage() {
    let balancer = Cost::new(CostConfig {
        expected_output_tokens: 300,
        ..CostConfig::default()
    });
    let request = ChatRequest::new("r")
        .user("x".repeat(4_000))
        .max_tokens(100);
    let usage = balancer.expected_usage(&request);
    assert_eq!(usage.input_tokens, request.estimate_input_tokens());
    assert_eq!(
        usage.output_tokens, 100,
        "max_tokens caps the expected output"
    );
    let facts = priced(2.50, 10.00);
    let price = facts.price.clone().expect("priced");
    assert_eq!(
        balancer.estimated_cost(&request, &facts),
        Some(usage.cost(&price).total())
    );
    let uncapped = ChatRequest::new("r").user("hi");
    assert_eq!(balancer.expected_usage(&uncapped).output_tokens, 300);
    assert_eq!(
        balancer.estimated_cost(&uncapped, &DeploymentFacts::default()),
        None
    );
}

#[test]
fn unknown_prices_come_last_and_unfit_ones_never() {
    let pool = Pool::new()
        .with("unpriced-a", DeploymentFacts::default())
        .with("priced", priced(5.0, 15.0))
        .with("unpriced-b", DeploymentFacts::default())
        .with("unfit", no_tools(priced(0.01, 0.01)));
    let balancer = Cost::with_seed(CostConfig::default(), 9);
    let request = ChatRequest::new("r").user("q").tool(lookup_tool());
    for _ in 0..50 {
        let order = balancer.order(&request, &pool.candidates());
        let names = pool.names_of(&order);
        assert_eq!(names.len(), 3);
        assert_eq!(names[0], "priced");
        assert!(!names.contains(&"unfit"));
    }
}
