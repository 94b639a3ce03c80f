//! `LeastInFlight`: idle deployments first, ties spread at random.

mod balance_support;

use balance_support::{Pool, share};
use tollgate_core::ChatRequest;
use tollgate_router::Balancer;
use tollgate_router::balance::LeastInFlight;

#[test]
fn fewest_in_flight_first_then_ascending() {
    let mut pool = Pool::plain(3);
    pool.in_flight = vec![3, 0, 1];
    let order = LeastInFlight::with_seed(1).order(&ChatRequest::new("r"), &pool.candidates());
    assert_eq!(order, vec![1, 2, 0]);
}

#[test]
fn idle_deployments_are_preferred_and_ties_spread_evenly() {
    let mut pool = Pool::plain(3);
    pool.in_flight = vec![0, 0, 2];
    let balancer = LeastInFlight::with_seed(2);
    let request = ChatRequest::new("r");
    let mut first = [0usize; 3];
    const N: usize = 4_000;
    for _ in 0..N {
        let order = balancer.order(&request, &pool.candidates());
        assert_eq!(order[2], 2, "the busy deployment is last");
        first[order[0]] += 1;
    }
    assert_eq!(first[2], 0);
    for count in &first[..2] {
        let got = share(*count, N);
        assert!((got - 0.5).abs() < 0.03, "tie share {got:.3} ({first:?})");
    }
}

#[test]
fn concurrent_requests_fill_idle_deployments_one_each() {
    // The engine bumps `in_flight` when it starts an attempt: four requests arriving
    // while nothing finishes land on four different deployments.
    let mut pool = Pool::plain(4);
    let balancer = LeastInFlight::with_seed(3);
    let request = ChatRequest::new("r");
    for _ in 0..4 {
        let first = balancer.order(&request, &pool.candidates())[0];
        pool.in_flight[first] += 1;
    }
    assert_eq!(pool.in_flight, vec![1, 1, 1, 1]);
}
