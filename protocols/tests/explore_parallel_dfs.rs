//! DFS on several threads reports what DFS on one thread reports: `tla-two-phase`'s
//! 6^N + 4^N + 2^N states, its transitions and its depth, searched on every thread (with
//! the model's potential, and with depths stored as for a model without one); a
//! violation's counterexample, a `max_states` cut and a model whose states are reached at
//! several depths, by the one-thread search run again.

use protocols::tla_two_phase::model::model;
use sim_core::explore::{Budget, ExploreConfig, ExploreReport, Model, Strategy, Verdict, explore};

fn tlc_count(n: u32) -> u64 {
    6u64.pow(n) + 4u64.pow(n) + 2u64.pow(n)
}

fn dfs(n: u32, broken: bool, faults: bool, config: ExploreConfig) -> ExploreReport {
    dfs_of(&model(n, broken, faults), config)
}

fn dfs_of<P: sim_core::Protocol, N>(model: &Model<P, N>, config: ExploreConfig) -> ExploreReport
where
    N: sim_core::Process<P> + Clone + std::hash::Hash + Send,
{
    explore(model, &ExploreConfig { strategy: Strategy::Dfs, ..config })
}

fn threads(threads: usize) -> ExploreConfig {
    ExploreConfig { threads, ..Default::default() }
}

/// Everything a report says but the wall time and memory.
fn result(r: &ExploreReport) -> impl PartialEq + std::fmt::Debug + use<> {
    (r.unique_states, r.states, r.max_depth, r.verdict, r.counterexample.clone())
}

/// The TLC counts with the same transitions and depth on 1, 2 and 3 threads, the parallel
/// search deciding (every state of `TwoPhase` is reached at one depth only): with the
/// model's potential (no depth stored), and without it (each state's depth stored).
#[test]
fn tla_two_phase_counts_are_the_same_on_any_thread_count() {
    for n in 1..=6 {
        let graded = model(n, false, false);
        assert!(graded.potential.is_some(), "tla-two-phase declares its potential");
        let stored = Model { potential: None, ..model(n, false, false) };
        let one = dfs(n, false, false, threads(1));
        assert_eq!((one.unique_states, one.verdict), (tlc_count(n), Verdict::Holds), "N = {n}");
        assert_eq!(one.threads_used, 1);
        assert_eq!(one.max_depth, 3 * n + 1, "N = {n}: every RM twice, tmPrepared, the TM");
        for t in [2, 3] {
            for (depths, model) in [("potential", &graded), ("stored", &stored)] {
                let many = dfs_of(model, threads(t));
                assert_eq!(result(&many), result(&one), "N = {n}, {t} threads, {depths}");
                assert_eq!(many.threads_used, t, "N = {n}, {depths}: the parallel search decided");
            }
        }
    }
    let three = dfs(3, false, false, threads(2));
    assert_eq!((three.unique_states, three.states, three.max_depth), (288, 1086, 10));
    let seven = dfs(7, false, false, threads(2));
    assert_eq!(
        (seven.unique_states, seven.verdict, seven.threads_used),
        (296_448, Verdict::Holds, 2)
    );
}

/// The early-commit TM: the counterexample on 2 threads is the one-thread search's (the
/// same steps, the same trace hash), found again on one thread.
#[test]
fn a_violation_is_the_one_thread_searchs() {
    for n in [2, 3, 5] {
        let one = dfs(n, true, false, threads(1));
        assert_eq!(one.verdict, Verdict::Violated, "N = {n}");
        assert!(one.counterexample.is_some());
        let two = dfs(n, true, false, threads(2));
        assert_eq!(result(&two), result(&one), "N = {n}");
        assert_eq!(two.threads_used, 1, "N = {n}: decided on one thread");
    }
}

/// A `max_states` bound that cuts the search keeps the one-thread search's first states;
/// one that does not cut it leaves the parallel search to decide.
#[test]
fn max_states_keeps_the_one_thread_searchs_first_states() {
    let bounded = |t, m| dfs(5, false, false, ExploreConfig { max_states: Some(m), ..threads(t) });
    for m in [1, 100, 5_000] {
        let one = bounded(1, m);
        assert_eq!((one.unique_states, one.verdict), (m, Verdict::Incomplete), "{m}");
        let two = bounded(2, m);
        assert_eq!(result(&two), result(&one), "max_states {m}");
        assert_eq!(two.threads_used, 1);
    }
    let exact = bounded(2, tlc_count(5));
    assert_eq!(result(&exact), result(&bounded(1, tlc_count(5))));
    assert_eq!((exact.verdict, exact.threads_used), (Verdict::Holds, 2));
}

/// With a crash budget the raw world is the key and some states are reached at several
/// depths: the depth is then the one-thread order's, so that search decides; the result is
/// the same. `max_depth` is left to the one-thread search too.
#[test]
fn order_dependent_depths_are_the_one_thread_searchs() {
    let crashes = |t| {
        let budget = Budget { crashes: 1, ..Default::default() };
        dfs(3, false, true, ExploreConfig { budget, ..threads(t) })
    };
    let one = crashes(1);
    assert_eq!(one.verdict, Verdict::Holds);
    let two = crashes(2);
    assert_eq!(result(&two), result(&one));
    assert_eq!(two.threads_used, 1, "some state is reached at two depths");
    let cut = |t| dfs(4, false, false, ExploreConfig { max_depth: Some(5), ..threads(t) });
    let (one, two) = (cut(1), cut(2));
    assert_eq!((one.verdict, two.threads_used), (Verdict::Incomplete, 1));
    assert_eq!(result(&two), result(&one));
}
