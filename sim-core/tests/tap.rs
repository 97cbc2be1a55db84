//! A tap sees every recorded event but sends and deliveries, at every trace level, without
//! changing the run; a topology copy fed the faults it sees follows the engine's exactly.

mod common;

use common::{Lab, Script, lab, lab_tapped};
use sim_core::{
    FaultClass, FaultSpace, LinkConfig, NodeId, SimConfig, Tap, Time, Topology, TraceEvent,
    TraceKind, TraceLevel,
};

#[derive(Default)]
struct Seen {
    events: Vec<TraceEvent<Lab>>,
}

impl Tap<Lab> for Seen {
    fn event(&mut self, ev: &TraceEvent<Lab>) {
        self.events.push(ev.clone());
    }
}

struct Links {
    topology: Topology,
}

impl Tap<Lab> for Links {
    fn event(&mut self, ev: &TraceEvent<Lab>) {
        match &ev.kind {
            TraceKind::Fault { action, .. } => {
                self.topology.apply(action);
            }
            TraceKind::LivenessPhase => self.topology.heal(),
            _ => {}
        }
    }
}

fn swarm() -> FaultSpace {
    FaultSpace {
        nodes: 5,
        extra_nodes: vec![],
        horizon_us: 200_000,
        classes: FaultClass::ALL.to_vec(),
        max_faults: 6,
        marks: vec![(NodeId(0), "tick".into())],
        send_points: vec![],
        crash_limits: Vec::new(),
    }
}

fn config(seed: u64, level: TraceLevel) -> SimConfig {
    let link = LinkConfig { drop_prob: 0.05, dup_prob: 0.05, ..LinkConfig::default() };
    SimConfig::new(5, seed).with_link(link).with_trace(level)
}

fn script() -> Script {
    Script { gossip_rounds: 40, persist_data: true, ..Script::default() }
}

#[test]
fn a_tap_sees_the_full_trace_but_sends_and_deliveries_at_any_level() {
    for seed in 0..20 {
        let plan = swarm().generate(seed);
        let (mut full, _) = lab(config(seed, TraceLevel::Full), plan.clone(), script());
        full.run_until(Time::from_secs(2));
        let expected: Vec<TraceEvent<Lab>> = full
            .trace()
            .events()
            .filter(|e| !matches!(e.kind, TraceKind::Send { .. } | TraceKind::Deliver { .. }))
            .collect();
        let tap = Box::new(Seen::default());
        let mut off = lab_tapped(config(seed, TraceLevel::Off), plan, script(), tap);
        off.run_until(Time::from_secs(2));
        assert_eq!(off.trace_hash(), full.trace_hash(), "seed {seed}: a tap changes nothing");
        assert_eq!(off.tap_mut::<Seen>().unwrap().events, expected, "seed {seed}");
        assert!(off.tap_mut::<Links>().is_none(), "taken back only as what it is");
    }
}

#[test]
fn a_topology_fed_the_faults_follows_the_engine() {
    let mut cut_somewhere = 0;
    for seed in 0..200 {
        let plan = swarm().generate(seed);
        let tap = Box::new(Links { topology: Topology::new(5) });
        let mut sim = lab_tapped(config(seed, TraceLevel::Off), plan, script(), tap);
        sim.run_until(Time::from_secs(1));
        let engine = sim.topology().cut_links();
        cut_somewhere += usize::from(!engine.is_empty());
        assert_eq!(sim.tap_mut::<Links>().unwrap().topology.cut_links(), engine, "seed {seed}");
        sim.run_liveness_phase(sim_core::Duration::from_secs(1));
        assert!(sim.tap_mut::<Links>().unwrap().topology.is_whole());
    }
    assert!(cut_somewhere > 20, "plans cut links: {cut_somewhere}");
}
