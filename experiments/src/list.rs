//! `commitlab list`: what there is to run — protocols (correct and broken variants, with
//! their coordinator marks), properties the checkers decide, fault kinds, and the named
//! studies and sweeps. Read from the catalogs themselves, so it never goes stale.

use std::io::Write;

use checkers::Property;
use sim_core::FaultClass;

use crate::error::Result;
use crate::exit::Exit;

/// Named experiments: `(command, what it measures)`.
pub const EXPERIMENTS: &[(&str, &str)] = &[
    (
        "study coordinator-failure",
        "crash the coordinator at every mark, recovery never/10ms/100ms/1s (the default command)",
    ),
    ("sweep partition", "random partitions and heals: atomicity violations and blocking"),
    ("sweep scaling", "N = 2..64 participants: messages, delays, disk writes vs. textbook"),
    ("sweep throughput", "coordinator crash/recover with growing MTTR: commits/s, lock time"),
    ("sweep consensus-failover", "replicated logs: leader crashed at its marks, election timeouts"),
    ("bench w1", "engine throughput on the W1 reference workload"),
    (
        "sweep gray-lamport",
        "Gray & Lamport's Table 1 measured: 2PC, Paxos Commit, Faster Paxos Commit, N = 1..8, F = 0..2",
    ),
    ("compare", "every correct protocol measured beside the textbook's comparison table"),
    (
        "demo",
        "a guided first run: one transaction per protocol, fault-free then coordinator crashed",
    ),
];

pub fn run(out: &mut impl Write) -> Result<Exit> {
    writeln!(out, "protocols (correct):")?;
    for spec in protocols::catalog().iter().filter(|s| s.correct) {
        writeln!(out, "  {:<34} {}", spec.name, spec.summary)?;
        writeln!(out, "  {:<34} coordinator marks: {}", "", spec.coordinator_marks().join(", "))?;
    }
    writeln!(out, "protocols (broken on purpose; checkers must catch them):")?;
    for spec in protocols::catalog().iter().filter(|s| !s.correct) {
        writeln!(out, "  {:<34} {}", spec.name, spec.summary)?;
    }
    writeln!(out, "explorable with `commitlab explore` (models included):")?;
    for spec in protocols::catalog::explorable() {
        writeln!(out, "  {:<34} {}", spec.name, spec.summary)?;
    }
    writeln!(out, "families (roles and their crash points; settings: --set KEY=VALUE):")?;
    for family in protocols::catalog::FAMILIES {
        let variants: Vec<&str> = (family.variants)().iter().map(|v| v.name).collect();
        writeln!(out, "  {} ({})", family.name, variants.join(", "))?;
        for role in family.roles {
            let mut marks: Vec<&str> = role.crash_points.to_vec();
            for m in role.failure_points {
                if !marks.contains(m) {
                    marks.push(m);
                }
            }
            let marks = if marks.is_empty() { "-".to_string() } else { marks.join(", ") };
            writeln!(out, "    role {:<28} {marks}", role.name)?;
        }
        for setting in family.settings {
            writeln!(out, "    setting {:<25} {}", setting.key, setting.help)?;
        }
        writeln!(out, "    {:<33} {}", "properties", family.properties.join(", "))?;
    }
    writeln!(out, "properties (checker verdicts):")?;
    for p in Property::ALL {
        let kind = if p.is_atomicity() { "safety (atomicity)" } else { "" };
        writeln!(out, "  {:<34} {kind}", p.name())?;
    }
    writeln!(out, "check --property (search targets):")?;
    for t in crate::search::Target::ALL {
        let covers: Vec<&str> = t.properties().iter().map(|p| p.name()).collect();
        writeln!(out, "  {:<34} {}", t.name(), covers.join(", "))?;
    }
    writeln!(out, "fault kinds:")?;
    for f in FaultClass::ALL {
        writeln!(out, "  {}", f.name())?;
    }
    writeln!(out, "experiments:")?;
    for (name, what) in EXPERIMENTS {
        writeln!(out, "  {name:<34} {what}")?;
    }
    Ok(Exit::Success)
}
