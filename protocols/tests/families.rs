//! Protocol families as data: what each family declares about itself is what its runs show.
//! Crash points are the marks its nodes emit, roles are the nodes its layout builds, settings
//! are checked, and nothing outside a family's module is needed to run it.

use std::collections::BTreeSet;

use protocols::catalog::{FAMILIES, catalog, lookup};
use protocols::{Fact, Scenario, ScenarioError};
use sim_core::{Action, Fault, FaultPlan, NodeId, TraceLevel, Trigger};

fn marks_by_role(s: &Scenario) -> BTreeSet<(String, String)> {
    let outcome = protocols::run(s).unwrap();
    let roles = &outcome.report.roles;
    outcome
        .facts()
        .into_iter()
        .filter_map(|f| match f.what {
            Fact::Mark(m) => Some((roles.of(f.node).to_string(), m)),
            _ => None,
        })
        .collect()
}

fn scenario(protocol: &str, seed: u64) -> Scenario {
    let mut s = Scenario::new(protocol, 3, 4, seed);
    s.trace = TraceLevel::Full;
    s.fault_horizon_us = 2_000_000;
    s.liveness_bound_us = Some(2_000_000);
    s
}

/// Every mark a node emits — fault-free, and with its coordinator crashed at each of its
/// points and recovered — is one its role declares; and a fault-free run reaches every
/// normal-path point of the coordinator it declares.
#[test]
fn declared_crash_points_are_exactly_what_nodes_emit() {
    for spec in catalog() {
        let fault_free = marks_by_role(&scenario(spec.name, 1));
        for point in spec.coordinator_marks() {
            assert!(
                fault_free.contains(&("coordinator".to_string(), point.to_string())),
                "{}: coordinator point {point} is never reached fault-free",
                spec.name
            );
        }
        let mut seen = fault_free;
        for (i, point) in spec.coordinator_marks().iter().enumerate() {
            let mut s = scenario(spec.name, 10 + i as u64);
            let node = NodeId(0);
            s.plan = FaultPlan::new(vec![Fault {
                trigger: Trigger::Mark { node, mark: point.to_string(), nth: 1 },
                action: Action::Crash { node, recover_after_us: Some(200_000) },
            }]);
            seen.extend(marks_by_role(&s));
        }
        for (role, mark) in &seen {
            assert!(
                spec.all_marks(role).contains(&mark.as_str()),
                "{}: a {role} emitted {mark:?}, which its family does not declare",
                spec.name
            );
        }
    }
}

/// Roles are data: the layout a family reports is the cluster that runs, and node labels are
/// unique (the CLI and diagrams name nodes by them).
#[test]
fn every_family_lays_out_its_declared_roles() {
    for spec in catalog() {
        let s = scenario(spec.name, 1);
        let roles = spec.roles(&s).unwrap();
        let report = protocols::run(&s).unwrap().report;
        assert_eq!(report.roles, roles, "{}", spec.name);
        assert_eq!(report.fault_phase.up.len() as u32, roles.nodes(), "{}", spec.name);
        let declared: Vec<&str> = spec.family.roles.iter().map(|r| r.name).collect();
        for i in 0..roles.nodes() {
            assert!(declared.contains(&roles.of(NodeId(i))), "{}: node {i}", spec.name);
        }
        let labels: BTreeSet<&String> = roles.labels.iter().collect();
        assert_eq!(labels.len(), roles.labels.len(), "{}: labels are unique", spec.name);
        // The scenario's N: participants of a commit family, replicas of a replicated log.
        let n = if spec.decides_transactions() { "participant" } else { "replica" };
        assert_eq!(roles.ids(n).count(), 3, "{}", spec.name);
    }
}

/// A family's section is validated against its own keys: unknown keys get the closest known
/// one, values are range-checked, and families without settings refuse any.
#[test]
fn family_settings_are_checked_by_their_family() {
    let paxos = lookup("paxos-commit").unwrap();
    let s = Scenario::new("paxos-commit", 3, 1, 1).with("f", 2u32);
    assert_eq!(paxos.roles(&s).unwrap().ids("acceptor").count(), 5);
    let err = paxos.roles(&Scenario::new("paxos-commit", 3, 1, 1).with("ff", 2u32)).unwrap_err();
    assert!(err.to_string().contains("did you mean \"f\""), "{err}");
    let err = paxos.roles(&Scenario::new("paxos-commit", 3, 1, 1).with("f", -1)).unwrap_err();
    assert!(
        matches!(err, ScenarioError::Invalid { ref field, .. } if field == "family.f"),
        "{err}"
    );
    let err = paxos.roles(&Scenario::new("paxos-commit", 3, 1, 1).with("f", true)).unwrap_err();
    assert!(err.to_string().contains("not an integer"), "{err}");
    let three = lookup("3pc").unwrap();
    let err = three.run(&Scenario::new("3pc", 3, 1, 1).with("f", 1)).err().unwrap();
    assert!(err.to_string().contains("has no settings"), "{err}");
}

/// Unknown protocol names suggest the closest one, as clap does for flags.
#[test]
fn unknown_protocols_suggest_the_closest_name() {
    let err = lookup("3PC").unwrap_err().to_string();
    assert!(err.contains("did you mean \"3pc\""), "{err}");
    let err = lookup("paxos").unwrap_err().to_string();
    assert!(err.contains("did you mean \"paxos-commit\""), "{err}");
    let err = lookup("zookeeper").unwrap_err().to_string();
    assert!(!err.contains("did you mean") && err.contains("known: 2pc"), "{err}");
}

/// The catalog is the families' variants, nothing else: names are unique, correct variants
/// come first, and each family lists at least one correct variant.
#[test]
fn the_catalog_is_the_list_of_families() {
    let names: Vec<&str> = catalog().iter().map(|s| s.name).collect();
    let unique: BTreeSet<&&str> = names.iter().collect();
    assert_eq!(unique.len(), names.len());
    let first_broken = catalog().iter().position(|s| !s.correct).unwrap();
    assert!(catalog()[first_broken..].iter().all(|s| !s.correct));
    for family in FAMILIES {
        assert!((family.variants)().iter().any(|v| v.correct), "{}", family.name);
        assert!(!family.properties.is_empty(), "{}", family.name);
    }
}

/// Node state is a value: every family's node type is `Clone + Eq + Hash` (configuration is
/// shared behind `Shared`, not part of the state), so a scheduler can copy a whole world and
/// fingerprint it; two nodes built from the same disk are equal and hash alike.
#[test]
fn node_states_are_values() {
    fn value<T: Clone + Eq + std::hash::Hash + std::fmt::Debug>() {}
    value::<protocols::two_pc::Node>();
    value::<protocols::three_pc::Node>();
    value::<protocols::paxos_commit::Node>();
    value::<protocols::saga::orchestration::Node>();
    value::<protocols::saga::choreography::Node>();

    use protocols::scenario::CommitProtocol;
    use protocols::shared::Shared;
    use protocols::two_pc::{Presumption, Shape, TwoPc, TwoPcConfig};
    use std::hash::{BuildHasher, BuildHasherDefault};
    let timing = protocols::timing::Timing::from_bound(10_000, true);
    let s = Scenario::new("2pc", 3, 1, 1);
    let config = Shared::new(TwoPcConfig {
        layout: protocols::Layout::new(3),
        presumption: Presumption::Nothing,
        cooperative_termination: true,
        broken: None,
        shape: Shape::Classic,
        execution_phase: false,
        timing,
        votes: s.votes.clone(),
        client: s.client_config(&timing),
    });
    let disk = vec![protocols::two_pc::Record::Prepared {
        txn: protocols::TxnId(1),
        participants: vec![NodeId(1)],
        writes: vec![],
    }];
    let boot = || sim_core::Boot::Recovered { disk: &disk };
    let a = TwoPc::build(&config, NodeId(1), boot());
    let b = TwoPc::build(&config, NodeId(1), boot());
    let hasher = BuildHasherDefault::<sim_core::hash::StableHasher>::default();
    assert_eq!(a, b);
    assert_eq!(hasher.hash_one(&a), hasher.hash_one(&b));
    let fresh = TwoPc::build(&config, NodeId(1), sim_core::Boot::Fresh);
    assert_ne!(a, fresh, "a participant in doubt is not a fresh one");
    assert_eq!(a.clone(), a);
}
