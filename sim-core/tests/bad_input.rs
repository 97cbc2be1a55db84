//! Bad input is a typed error whose message names the field at fault; never a panic.

mod common;

use std::io::Write;

use common::{Script, try_lab};
use sim_core::{
    Action, FaultPlan, HashableF64, LinkConfig, LinkOverride, LinkSet, NodeId, SimConfig, SimError,
    Trigger,
};

fn build_error(config: SimConfig, plan: FaultPlan) -> SimError {
    match try_lab(config, plan, Script::default()) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

#[test]
fn zero_node_cluster() {
    let e = build_error(SimConfig::new(0, 1), FaultPlan::none());
    assert_eq!(e, SimError::NoNodes);
    assert!(e.to_string().contains("`nodes` must be at least 1"));
}

#[test]
fn unknown_node_in_a_plan_names_the_field() {
    let plan = FaultPlan::none().with(Trigger::Time { at_us: 1 }, Action::Heal).with(
        Trigger::Time { at_us: 2 },
        Action::Crash { node: NodeId(7), recover_after_us: None },
    );
    let e = build_error(SimConfig::new(5, 1), plan);
    assert_eq!(
        e,
        SimError::UnknownNode { field: "faults[1].action.node".into(), node: 7, nodes: 5 }
    );
    assert_eq!(
        e.to_string(),
        "faults[1].action.node = 7 names an unknown node (the cluster has 5 nodes: 0..4)"
    );
}

#[test]
fn unknown_node_in_a_trigger_a_partition_and_a_link_override() {
    let plan = FaultPlan::none().with(Trigger::Sends { node: NodeId(9), count: 1 }, Action::Heal);
    assert!(matches!(build_error(SimConfig::new(3, 1), plan),
        SimError::UnknownNode { field, node: 9, .. } if field == "faults[0].trigger.node"));

    let groups = vec![vec![NodeId(0)], vec![NodeId(1), NodeId(3)]];
    let plan = FaultPlan::none().with(Trigger::Time { at_us: 0 }, Action::Partition { groups });
    assert!(matches!(build_error(SimConfig::new(3, 1), plan),
        SimError::UnknownNode { field, node: 3, .. } if field == "faults[0].action.groups[1][1]"));

    let mut config = SimConfig::new(3, 1);
    config.network.links.push(LinkOverride {
        from: NodeId(0),
        to: NodeId(4),
        config: LinkConfig::default(),
    });
    assert!(matches!(build_error(config, FaultPlan::none()),
        SimError::UnknownNode { field, node: 4, .. } if field == "network.links[0].to"));
}

#[test]
fn probability_outside_unit_interval() {
    let plan = FaultPlan::none().with(
        Trigger::Time { at_us: 0 },
        Action::SetDrop { links: LinkSet::All, prob: HashableF64(1.5) },
    );
    let e = build_error(SimConfig::new(2, 1), plan);
    assert_eq!(e, SimError::Probability { field: "faults[0].action.prob".into(), value: 1.5 });
    assert!(e.to_string().contains("not a probability"));

    let mut config = SimConfig::new(2, 1);
    config.network.default.dup_prob = -0.1;
    let e = build_error(config, FaultPlan::none());
    assert_eq!(e, SimError::Probability { field: "network.default.dup_prob".into(), value: -0.1 });
}

#[test]
fn other_invalid_parameters_name_their_field() {
    let cases = [
        (
            Trigger::Mark { node: NodeId(0), mark: "x".into(), nth: 0 },
            Action::Heal,
            "faults[0].trigger.nth",
        ),
        (Trigger::Sends { node: NodeId(0), count: 0 }, Action::Heal, "faults[0].trigger.count"),
        (
            Trigger::Time { at_us: 0 },
            Action::ClockDrift { node: NodeId(0), ppm: -1_000_000 },
            "faults[0].action.ppm",
        ),
        (
            Trigger::Time { at_us: 0 },
            Action::Partition { groups: vec![vec![NodeId(0)], vec![NodeId(0)]] },
            "faults[0].action.groups[1][0]",
        ),
    ];
    for (trigger, action, field) in cases {
        let e = build_error(SimConfig::new(2, 1), FaultPlan::none().with(trigger, action));
        assert!(matches!(&e, SimError::Invalid { field: f, .. } if f == field), "{e}");
        assert!(e.to_string().starts_with(field));
    }
}

#[test]
fn malformed_plan_file_is_reported_with_its_path_and_position() {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(br#"{"faults":[{"trigger":{"on":"time","at_us":5},"action":{"do":"explode"}}]}"#)
        .unwrap();
    let e = FaultPlan::load(f.path(), 3).unwrap_err();
    let SimError::MalformedPlan { path, message } = &e else { panic!("{e:?}") };
    assert_eq!(path.as_deref(), Some(f.path().display().to_string().as_str()));
    assert!(message.contains("unknown variant `explode`"), "{message}");
    assert!(message.contains("column"), "{message}");

    let mut g = tempfile::NamedTempFile::new().unwrap();
    g.write_all(b"{\"faults\": [").unwrap();
    assert!(matches!(FaultPlan::load(g.path(), 3), Err(SimError::MalformedPlan { .. })));

    let mut h = tempfile::NamedTempFile::new().unwrap();
    h.write_all(br#"{"faults":[], "extra": 1}"#).unwrap();
    let e = FaultPlan::load(h.path(), 3).unwrap_err();
    assert!(e.to_string().contains("unknown field `extra`"), "{e}");
}

#[test]
fn a_valid_plan_file_that_names_an_unknown_node_fails_validation() {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(
        br#"{"faults":[{"trigger":{"on":"time","at_us":5},"action":{"do":"crash","node":3}}]}"#,
    )
    .unwrap();
    let e = FaultPlan::load(f.path(), 3).unwrap_err();
    assert!(matches!(e, SimError::UnknownNode { node: 3, nodes: 3, .. }));
}

#[test]
fn a_missing_plan_file_is_an_io_error() {
    let e = FaultPlan::load(std::path::Path::new("/nonexistent/plan.json"), 3).unwrap_err();
    assert!(matches!(&e, SimError::Io { path, .. } if path == "/nonexistent/plan.json"), "{e}");
}
