//! `Latency`: peak-EWMA of time to first token / latency, errors count as slow, idle
//! estimates decay so recovered deployments win traffic back. Time is paused tokio time.

#![allow(clippy::print_stdout)]

mod balance_support;

use std::time::Duration;

use balance_support::{Pool, share};
use tollgate_core::{ChatRequest, ErrorKind};
use tollgate_router::balance::{Choices, Latency, LatencyConfig};
use tollgate_router::{Balancer, Observation};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// What each deployment currently does when called: answer after a delay, or fail.
#[derive(Debug, Clone, Copy)]
enum Behaviour {
    Answers(Duration),
    Fails(Duration, ErrorKind),
}

/// Sends `n` sequential streaming requests, each to the balancer's first choice, lets
/// paused time run for the attempt and reports it. Returns the first choice of each.
async fn drive(
    balancer: &Latency,
    pool: &Pool,
    behaviour: &[Behaviour],
    stream: bool,
    n: usize,
) -> Vec<usize> {
    let request = ChatRequest::new("route").user("hi").streaming(stream);
    let candidates = pool.candidates();
    let mut picks = Vec::with_capacity(n);
    for _ in 0..n {
        let order = balancer.order(&request, &candidates);
        assert_eq!(order.len(), candidates.len());
        let first = order[0];
        let (latency, error) = match behaviour[first] {
            Behaviour::Answers(latency) => (latency, None),
            Behaviour::Fails(latency, kind) => (latency, Some(kind)),
        };
        tokio::time::advance(latency).await;
        balancer.observe(&Observation {
            index: candidates[first].index,
            stream,
            latency,
            error,
        });
        picks.push(first);
    }
    picks
}

fn shares(picks: &[usize], n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| share(picks.iter().filter(|&&p| p == i).count(), picks.len()))
        .collect()
}

fn three_speeds() -> (Pool, Vec<Behaviour>) {
    (
        Pool::plain(3),
        vec![
            Behaviour::Answers(ms(50)),
            Behaviour::Answers(ms(200)),
            Behaviour::Answers(ms(800)),
        ],
    )
}

#[tokio::test(start_paused = true)]
async fn after_warm_up_the_fastest_takes_at_least_ninety_percent() {
    let (pool, behaviour) = three_speeds();
    let balancer = Latency::with_seed(LatencyConfig::default(), 1);
    drive(&balancer, &pool, &behaviour, true, 200).await;
    let picks = drive(&balancer, &pool, &behaviour, true, 2_000).await;
    let shares = shares(&picks, 3);
    println!("shares after warm-up (50/200/800 ms): {shares:.3?}");
    assert!(shares[0] >= 0.90, "fastest got {:.3}", shares[0]);
    assert!(shares[1] > 0.0, "the others are still probed now and then");
}

#[tokio::test(start_paused = true)]
async fn traffic_leaves_a_degraded_deployment_at_once_and_returns_after_recovery() {
    let (pool, mut behaviour) = three_speeds();
    let balancer = Latency::with_seed(LatencyConfig::default(), 2);
    drive(&balancer, &pool, &behaviour, true, 400).await;

    // The fastest degrades to 1 s. The first request that sees it is the last one it
    // gets: the peak rule raises its estimate to 1 s on that one sample.
    behaviour[0] = Behaviour::Answers(ms(1_000));
    let picks = drive(&balancer, &pool, &behaviour, true, 500).await;
    let moved_after = picks.iter().position(|&p| p != 0).expect("traffic moved");
    println!("degraded: traffic moved after {moved_after} request(s)");
    assert!(
        moved_after <= 1,
        "moved after {moved_after} requests (bound 1)"
    );
    let during = shares(&picks[moved_after..], 3);
    println!("shares while degraded: {during:.3?}");
    assert!(
        during[0] <= 0.02,
        "degraded deployment still got {:.3}",
        during[0]
    );
    assert!(during[1] >= 0.90, "next fastest got {:.3}", during[1]);

    // It recovers. Its estimate decays while idle, a probe finds it fast, traffic returns.
    behaviour[0] = Behaviour::Answers(ms(50));
    let start = tokio::time::Instant::now();
    let picks = drive(&balancer, &pool, &behaviour, true, 3_000).await;
    let elapsed = tokio::time::Instant::now() - start;
    let first_probe = picks.iter().position(|&p| p == 0).expect("probed");
    let last_tail = &picks[1_000..];
    let after = shares(last_tail, 3);
    println!(
        "recovered: first probe after {first_probe} requests; shares over the last 2000 \
         of 3000 requests ({elapsed:?} simulated): {after:.3?}"
    );
    // decay × ln(1000 ms / 200 ms) ≈ 16 s of 200 ms requests ≈ 80 requests to the probe.
    assert!(
        first_probe <= 100,
        "first probe after {first_probe} requests"
    );
    assert!(after[0] >= 0.90, "recovered deployment got {:.3}", after[0]);
}

#[tokio::test(start_paused = true)]
async fn failing_fast_counts_as_slow() {
    // `a` fails in 10 ms with server errors: quick, but worse than `b`'s 300 ms answers.
    let pool = Pool::plain(2);
    let behaviour = vec![
        Behaviour::Fails(ms(10), ErrorKind::Server),
        Behaviour::Answers(ms(300)),
    ];
    let balancer = Latency::with_seed(LatencyConfig::default(), 3);
    let picks = drive(&balancer, &pool, &behaviour, false, 500).await;
    let shares = shares(&picks, 2);
    assert!(shares[0] <= 0.02, "failing deployment got {:.3}", shares[0]);
    let estimate = balancer.estimate(0, false).expect("observed");
    assert!(estimate > ms(300), "failure estimate {estimate:?}");
}

#[tokio::test(start_paused = true)]
async fn timeouts_penalise_both_streaming_and_complete_estimates() {
    let pool = Pool::plain(2);
    let balancer = Latency::with_seed(LatencyConfig::default(), 4);
    balancer.observe(&Observation {
        index: 0,
        stream: true,
        latency: ms(2_000),
        error: Some(ErrorKind::Timeout),
    });
    assert_eq!(balancer.estimate(0, true), Some(Duration::from_secs(5)));
    assert_eq!(balancer.estimate(0, false), Some(Duration::from_secs(5)));
    let order = balancer.order(&ChatRequest::new("r"), &pool.candidates());
    assert_eq!(order, vec![1, 0]);
}

#[tokio::test(start_paused = true)]
async fn the_callers_own_errors_teach_nothing() {
    let balancer = Latency::with_seed(LatencyConfig::default(), 5);
    for kind in [
        ErrorKind::InvalidRequest,
        ErrorKind::ContextLengthExceeded,
        ErrorKind::ContentFiltered,
        ErrorKind::Cancelled,
    ] {
        balancer.observe(&Observation {
            index: 0,
            stream: false,
            latency: ms(20),
            error: Some(kind),
        });
    }
    assert_eq!(
        balancer.estimate(0, false),
        Some(ms(500)),
        "still the default"
    );
}

#[tokio::test(start_paused = true)]
async fn streaming_and_complete_requests_rank_by_their_own_estimates() {
    // `a` has a quick first token but long answers; `b` the opposite.
    let pool = Pool::plain(2);
    let balancer = Latency::with_seed(LatencyConfig::default(), 6);
    let observe = |index, stream, latency| {
        balancer.observe(&Observation {
            index,
            stream,
            latency,
            error: None,
        })
    };
    observe(0, true, ms(150));
    observe(1, true, ms(900));
    observe(0, false, ms(9_000));
    observe(1, false, ms(3_000));
    let candidates = pool.candidates();
    let stream = ChatRequest::new("r").streaming(true);
    let complete = ChatRequest::new("r");
    assert_eq!(balancer.order(&stream, &candidates)[0], 0);
    assert_eq!(balancer.order(&complete, &candidates)[0], 1);
}

#[tokio::test(start_paused = true)]
async fn an_unobserved_deployment_is_explored() {
    // `a` is known at 800 ms; `b` was never called and starts at the default 500 ms.
    let pool = Pool::plain(2);
    let balancer = Latency::with_seed(LatencyConfig::default(), 7);
    balancer.observe(&Observation {
        index: 0,
        stream: false,
        latency: ms(800),
        error: None,
    });
    let order = balancer.order(&ChatRequest::new("r"), &pool.candidates());
    assert_eq!(order, vec![1, 0]);
}

#[tokio::test(start_paused = true)]
async fn idle_estimates_decay_with_the_configured_time_constant() {
    let config = LatencyConfig {
        decay: Duration::from_secs(10),
        ..LatencyConfig::default()
    };
    let balancer = Latency::with_seed(config, 8);
    balancer.observe(&Observation {
        index: 0,
        stream: false,
        latency: ms(1_000),
        error: None,
    });
    tokio::time::advance(Duration::from_secs(10)).await;
    let decayed = balancer.estimate(0, false).expect("observed").as_secs_f64();
    assert!(
        (decayed - 1.0 / std::f64::consts::E).abs() < 1e-6,
        "{decayed}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_busy_fast_deployment_yields_to_an_idle_one() {
    // Score = estimate × (in_flight + 1): 100 ms with 3 in flight (400) loses to 300 ms idle.
    let mut pool = Pool::plain(2);
    let balancer = Latency::with_seed(LatencyConfig::default(), 9);
    for (index, latency) in [(0, ms(100)), (1, ms(300))] {
        balancer.observe(&Observation {
            index,
            stream: false,
            latency,
            error: None,
        });
    }
    let request = ChatRequest::new("r");
    assert_eq!(balancer.order(&request, &pool.candidates()), vec![0, 1]);
    pool.in_flight[0] = 3;
    assert_eq!(balancer.order(&request, &pool.candidates()), vec![1, 0]);
}

#[tokio::test(start_paused = true)]
async fn fallback_order_is_by_score_ascending() {
    let pool = Pool::plain(4);
    let balancer = Latency::with_seed(LatencyConfig::default(), 10);
    for (index, latency) in [(0, 900), (1, 100), (2, 2_500), (3, 400)] {
        balancer.observe(&Observation {
            index,
            stream: true,
            latency: ms(latency),
            error: None,
        });
    }
    let order = balancer.order(&ChatRequest::new("r").streaming(true), &pool.candidates());
    assert_eq!(order, vec![1, 3, 0, 2]);
}

#[tokio::test(start_paused = true)]
async fn power_of_two_choices_caps_the_fastest_at_two_in_three() {
    // The documented trade-off of `Choices::PowerOfTwo`: with three deployments the
    // fastest is first only when drawn, about two times in three.
    let (pool, behaviour) = three_speeds();
    let config = LatencyConfig {
        choices: Choices::PowerOfTwo,
        ..LatencyConfig::default()
    };
    let balancer = Latency::with_seed(config, 11);
    drive(&balancer, &pool, &behaviour, true, 200).await;
    let picks = drive(&balancer, &pool, &behaviour, true, 3_000).await;
    let shares = shares(&picks, 3);
    println!("p2c shares (50/200/800 ms): {shares:.3?}");
    assert!(
        (shares[0] - 2.0 / 3.0).abs() < 0.04,
        "fastest got {:.3}",
        shares[0]
    );
    assert!(
        shares[2] < 0.05,
        "the slowest only wins against itself, never"
    );
}
