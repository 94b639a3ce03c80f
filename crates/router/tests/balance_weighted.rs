//! `Weighted`: first choices in proportion to weight, fallbacks drawn the same way.

mod balance_support;

use balance_support::{Pool, share, weighted};
use tollgate_core::ChatRequest;
use tollgate_router::Balancer;
use tollgate_router::balance::Weighted;

const N: usize = 10_000;

fn first_choice_counts(balancer: &Weighted, pool: &Pool) -> Vec<usize> {
    let request = ChatRequest::new("route").user("hi");
    let candidates = pool.candidates();
    let mut counts = vec![0; candidates.len()];
    for _ in 0..N {
        let order = balancer.order(&request, &candidates);
        assert_eq!(
            order.len(),
            candidates.len(),
            "every candidate is in the order"
        );
        counts[order[0]] += 1;
    }
    counts
}

#[test]
fn first_choices_follow_the_weights_within_two_points() {
    let pool = Pool::new()
        .with("a", weighted(5))
        .with("b", weighted(3))
        .with("c", weighted(2));
    let counts = first_choice_counts(&Weighted::with_seed(7), &pool);
    for (count, expected) in counts.iter().zip([0.5, 0.3, 0.2]) {
        let got = share(*count, N);
        assert!(
            (got - expected).abs() < 0.02,
            "share {got:.3}, weight implies {expected} ({counts:?})"
        );
    }
}

#[test]
fn fallback_is_drawn_by_weight_among_the_rest() {
    // After `a` (weight 2) is drawn first, `b` (weight 3) should be second three times
    // in four against `c` (weight 1): sampling without replacement, not route order.
    let pool = Pool::new()
        .with("a", weighted(2))
        .with("b", weighted(3))
        .with("c", weighted(1));
    let balancer = Weighted::with_seed(11);
    let request = ChatRequest::new("route");
    let candidates = pool.candidates();
    let (mut a_first, mut b_second) = (0usize, 0usize);
    for _ in 0..N {
        let order = balancer.order(&request, &candidates);
        if order[0] == 0 {
            a_first += 1;
            if order[1] == 1 {
                b_second += 1;
            }
        }
    }
    let got = share(b_second, a_first);
    assert!(
        (got - 0.75).abs() < 0.04,
        "P(b second | a first) = {got:.3}"
    );
}

#[test]
fn zero_weight_is_a_standby_tried_last() {
    let pool = Pool::new()
        .with("standby", weighted(0))
        .with("a", weighted(1))
        .with("b", weighted(1));
    let balancer = Weighted::with_seed(3);
    let request = ChatRequest::new("route");
    for _ in 0..1_000 {
        let order = balancer.order(&request, &pool.candidates());
        assert_eq!(order.len(), 3);
        assert_eq!(order[2], 0, "the zero-weight deployment is always last");
    }
}

#[test]
fn all_zero_weights_keep_route_order() {
    let pool = Pool::new()
        .with("a", weighted(0))
        .with("b", weighted(0))
        .with("c", weighted(0));
    let order = Weighted::with_seed(1).order(&ChatRequest::new("r"), &pool.candidates());
    assert_eq!(order, vec![0, 1, 2]);
}

#[test]
fn the_remaining_deployments_split_by_weight() {
    // What the balancer sees once the route has left an ineligible `a` out (the route's
    // own eligibility filtering is tested in tests/fallback.rs and tests/health.rs): `b`
    // and `c` split 3:1.
    let pool = Pool::new().with("b", weighted(3)).with("c", weighted(1));
    let counts = first_choice_counts(&Weighted::with_seed(5), &pool);
    let got = share(counts[0], N);
    assert!((got - 0.75).abs() < 0.02, "b got {got:.3}");
}

#[test]
fn a_seed_fixes_the_sequence() {
    let pool = Pool::plain(4);
    let request = ChatRequest::new("r");
    let run = |seed| {
        let balancer = Weighted::with_seed(seed);
        (0..32)
            .map(|_| balancer.order(&request, &pool.candidates()))
            .collect::<Vec<_>>()
    };
    assert_eq!(run(9), run(9));
    assert_ne!(run(9), run(10));
}

#[test]
fn empty_and_single_candidate_lists_are_fine() {
    let balancer = Weighted::new();
    let request = ChatRequest::new("r");
    assert!(balancer.order(&request, &[]).is_empty());
    assert_eq!(
        balancer.order(&request, &Pool::plain(1).candidates()),
        vec![0]
    );
}
