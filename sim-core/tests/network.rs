//! The network model: cuts, partitions and heal; loss, duplication and latency statistics
//! over 100k messages against their configuration.

mod common;

use common::{Msg, Script, Step, Timer, lab, received};
use sim_core::{
    Action, FaultPlan, Latency, LinkConfig, NodeId, Ordering, SimConfig, Stop, Time, TraceLevel,
    Trigger,
};

const N: u64 = 100_000;

fn burst_0_to_1(link: LinkConfig, seed: u64) -> Vec<(u64, NodeId, Msg)> {
    let script =
        Script { on_start: vec![vec![Step::Burst { to: 1, count: N }]], ..Script::default() };
    let config = SimConfig::new(2, seed).with_link(link);
    let (mut sim, _) = lab(config, FaultPlan::none(), script);
    assert_eq!(sim.run_to_quiescence(), Stop::Quiescent);
    received(&sim, 1)
}

/// |observed - expected| within `k` standard deviations of a binomial(n, p) count.
fn assert_binomial(what: &str, observed: u64, n: u64, p: f64, k: f64) {
    let expected = n as f64 * p;
    let sd = (n as f64 * p * (1.0 - p)).sqrt();
    let dev = (observed as f64 - expected).abs();
    assert!(dev <= k * sd, "{what}: {observed} vs expected {expected:.0} (sd {sd:.1})");
}

#[test]
fn drop_probability_matches_configuration() {
    let link = LinkConfig { drop_prob: 0.1, ..LinkConfig::default() };
    let got = burst_0_to_1(link, 7);
    let lost = N - got.len() as u64;
    // Fixed seed: the exact count is pinned, and must sit within 4 sd of 10,000.
    assert_binomial("lost", lost, N, 0.1, 4.0);
    assert_eq!(lost, 10_029);
}

#[test]
fn duplicate_probability_matches_configuration() {
    let link = LinkConfig { dup_prob: 0.05, ..LinkConfig::default() };
    let got = burst_0_to_1(link, 7);
    let dups = got.len() as u64 - N;
    assert_binomial("duplicated", dups, N, 0.05, 4.0);
    assert_eq!(dups, 5_074);
    // Every message arrives at least once; none more than twice.
    let mut seen = vec![0u8; N as usize];
    for (_, _, m) in &got {
        let Msg::Data(i) = m else { panic!("unexpected {m:?}") };
        seen[*i as usize] += 1;
    }
    assert!(seen.iter().all(|&c| c == 1 || c == 2));
}

#[test]
fn uniform_latency_matches_configuration() {
    let link = LinkConfig {
        latency: Latency::Uniform { min_us: 1_000, max_us: 3_000 },
        ..LinkConfig::default()
    };
    let got = burst_0_to_1(link, 11);
    assert_eq!(got.len() as u64, N);
    // All sent at time 0, so arrival time is the drawn latency.
    let lat: Vec<u64> = got.iter().map(|g| g.0).collect();
    assert!(lat.iter().all(|&l| (1_000..=3_000).contains(&l)));
    let mean = lat.iter().sum::<u64>() as f64 / N as f64;
    // sd of the mean: 2000/sqrt(12)/sqrt(1e5) = 1.83 us.
    assert!((mean - 2_000.0).abs() < 8.0, "mean latency {mean}");
    // Both ends are reached.
    assert_eq!(*lat.iter().min().unwrap(), 1_000);
    assert_eq!(*lat.iter().max().unwrap(), 3_000);
}

#[test]
fn exponential_latency_has_its_floor_mean_and_tail() {
    let link = LinkConfig {
        latency: Latency::Exponential { mean_us: 5_000, floor_us: 1_000 },
        ..LinkConfig::default()
    };
    let got = burst_0_to_1(link, 13);
    let lat: Vec<u64> = got.iter().map(|g| g.0).collect();
    assert!(lat.iter().all(|&l| l >= 1_000), "floor respected");
    let mean = lat.iter().sum::<u64>() as f64 / N as f64;
    // sd of the mean: 5000/sqrt(1e5) = 15.8 us; allow 4 sd.
    assert!((mean - 6_000.0).abs() < 64.0, "mean latency {mean}");
    // P(X > mean) = 1/e for an exponential: 0.3679, sd 0.0015.
    let tail = lat.iter().filter(|&&l| l > 6_000).count() as f64 / N as f64;
    assert!((tail - (-1.0f64).exp()).abs() < 0.006, "tail fraction {tail}");
}

#[test]
fn fifo_links_keep_send_order_and_reordering_links_do_not() {
    let fifo = LinkConfig { ordering: Ordering::Fifo, ..LinkConfig::default() };
    let order = |got: &[(u64, NodeId, Msg)]| -> Vec<u64> {
        got.iter().map(|(_, _, m)| if let Msg::Data(i) = m { *i } else { u64::MAX }).collect()
    };
    let in_order = order(&burst_0_to_1(fifo, 3));
    assert!(in_order.windows(2).all(|w| w[0] < w[1]), "FIFO link reordered");
    let shuffled = order(&burst_0_to_1(LinkConfig::default(), 3));
    let inversions = shuffled.windows(2).filter(|w| w[0] > w[1]).count();
    // All sent at once with 9,001 possible integer delays: arrivals form ~9,000 groups of
    // equal time (kept in send order by seq), and nearly every group boundary is a descent.
    assert!(inversions > 8_500, "only {inversions} adjacent inversions");
}

/// Four nodes ping everyone on a 10 ms tick for 100 ms.
fn ping_everyone(plan: FaultPlan) -> sim_core::Simulation<common::Lab, common::LabNode> {
    let all: Vec<u32> = (0..4).collect();
    let script = Script {
        on_start: (0..4).map(|_| vec![Step::SetTimer(10_000, Timer::Tick(0))]).collect(),
        tick_period_us: 10_000,
        ticks: 10,
        ping_on_tick: (0..4).map(|i| all.iter().copied().filter(|&p| p != i).collect()).collect(),
        ..Script::default()
    };
    let link = LinkConfig { latency: Latency::Constant { us: 1_000 }, ..LinkConfig::default() };
    let config = SimConfig::new(4, 1).with_link(link).with_trace(TraceLevel::Observations);
    let (mut sim, _) = lab(config, plan, script);
    sim.run_until(Time::from_ms(200));
    sim
}

#[test]
fn partition_blocks_both_directions_until_heal() {
    let groups = vec![vec![NodeId(0), NodeId(1)], vec![NodeId(2), NodeId(3)]];
    let plan = FaultPlan::none()
        .with(Trigger::Time { at_us: 0 }, Action::Partition { groups })
        .with(Trigger::Time { at_us: 55_000 }, Action::Heal);
    let sim = ping_everyone(plan);
    let cross = |a: u32, b: u32| (a < 2) != (b < 2);
    for node in 0..4 {
        for (t, from, _) in received(&sim, node) {
            if cross(node, from.0) {
                assert!(t > 55_000, "n{node} heard n{} across the partition at {t}", from.0);
            }
        }
        // After the heal every peer is heard again (ticks at 60..100 ms).
        let late: Vec<u32> =
            received(&sim, node).iter().filter(|g| g.0 > 55_000).map(|g| g.1.0).collect();
        for peer in (0..4).filter(|&p| p != node) {
            assert!(late.contains(&peer), "n{node} never heard n{peer} after heal");
        }
        // Inside a side, nothing was lost: 10 pings + 10 pongs from the neighbour.
        let side_peer = if node % 2 == 0 { node + 1 } else { node - 1 };
        let from_side = received(&sim, node).iter().filter(|g| g.1.0 == side_peer).count();
        assert_eq!(from_side, 20);
    }
    assert!(sim.stats().dropped_cut > 0);
}

#[test]
fn one_way_cut_blocks_one_direction_only() {
    let plan = FaultPlan::none()
        .with(Trigger::Time { at_us: 0 }, Action::CutOneWay { from: NodeId(0), to: NodeId(1) });
    let sim = ping_everyone(plan);
    let at1_from0 = received(&sim, 1).iter().filter(|g| g.1 == NodeId(0)).count();
    let at0_from1: Vec<Msg> =
        received(&sim, 0).iter().filter(|g| g.1 == NodeId(1)).map(|g| g.2).collect();
    assert_eq!(at1_from0, 0, "0 -> 1 is cut");
    // 1's ten pings reach 0; 0's pongs back are cut, and 0's pings never reach 1 to be answered.
    assert_eq!(at0_from1.len(), 10);
    assert!(at0_from1.iter().all(|m| matches!(m, Msg::Ping(_))));
    assert!(!sim.topology().link_up(NodeId(0), NodeId(1)));
    assert!(sim.topology().link_up(NodeId(1), NodeId(0)));
}

#[test]
fn single_link_cut_and_heal_link() {
    let plan = FaultPlan::none()
        .with(Trigger::Time { at_us: 0 }, Action::CutLink { a: NodeId(2), b: NodeId(3) })
        .with(Trigger::Time { at_us: 45_000 }, Action::HealLink { a: NodeId(3), b: NodeId(2) });
    let sim = ping_everyone(plan);
    for (node, peer) in [(2, 3), (3, 2)] {
        let times: Vec<u64> =
            received(&sim, node).iter().filter(|g| g.1.0 == peer).map(|g| g.0).collect();
        assert!(times.iter().all(|&t| t > 45_000));
        assert_eq!(times.len(), 12, "ticks 50..100 ms: 6 pings + 6 pongs");
    }
    assert!(sim.topology().is_whole());
}

#[test]
fn messages_in_flight_are_dropped_when_a_partition_starts() {
    // Node 0 sends at time 0 with 5 ms latency; the cut at 1 ms catches the message in flight.
    let script = Script { on_start: vec![vec![Step::Send(1, Msg::Data(9))]], ..Script::default() };
    let link = LinkConfig { latency: Latency::Constant { us: 5_000 }, ..LinkConfig::default() };
    let plan = FaultPlan::none()
        .with(Trigger::Time { at_us: 1_000 }, Action::CutLink { a: NodeId(0), b: NodeId(1) });
    let (mut sim, _) = lab(SimConfig::new(2, 1).with_link(link), plan, script);
    sim.run_to_quiescence();
    assert!(received(&sim, 1).is_empty());
    assert_eq!(sim.stats().dropped_cut, 1);
}
