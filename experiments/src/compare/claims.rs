//! What the static comparison tables of system-design guides claim about each protocol
//! family, as data: `commitlab compare` prints each claim beside the measured verdict and
//! marks the measurements that contradict it.
//!
//! The claims are keyed by family name (the `name` of a `protocols::family::Family`), so the
//! compare code never lists protocol names; a family this table does not know (one that
//! landed after it) is still measured, and its claims print as "—". The booleans are the
//! claims a run can refute; `None` where the textbook's phrase is not a yes/no claim.

/// The textbook's row for one family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Claim {
    /// "Phases" column, in words.
    pub phases: &'static str,
    /// "Blocking" under a coordinator failure, in words, and as a claim: blocks or not.
    pub crash: &'static str,
    pub crash_blocks: Option<bool>,
    /// Partitions: the static tables have one blocking column for every failure, and assume
    /// atomicity holds.
    pub partition: &'static str,
    pub partition_blocks: Option<bool>,
    pub partition_atomic: Option<bool>,
    /// What a concurrent reader sees.
    pub readers: &'static str,
    pub readers_atomic: Option<bool>,
    /// After every node failed and recovered.
    pub total_failure: &'static str,
    pub total_failure_decides: Option<bool>,
}

/// The claim of a family the table does not know: "—" everywhere, nothing to refute.
pub const UNKNOWN: Claim = Claim {
    phases: "—",
    crash: "—",
    crash_blocks: None,
    partition: "—",
    partition_blocks: None,
    partition_atomic: None,
    readers: "—",
    readers_atomic: None,
    total_failure: "—",
    total_failure_decides: None,
};

/// What the tables say of a saga, whichever way it is coordinated.
const SAGA: Claim = Claim {
    phases: "N (one per step)",
    crash: "non-blocking",
    crash_blocks: Some(false),
    partition: "non-blocking; compensating transactions",
    partition_blocks: Some(false),
    partition_atomic: Some(true),
    readers: "not isolated: partial sagas visible",
    readers_atomic: Some(false),
    total_failure: "resumes from the saga log",
    total_failure_decides: Some(true),
};

/// The textbook's claims: (family name, claim).
const CLAIMS: &[(&str, Claim)] = &[
    (
        "two-phase commit",
        Claim {
            phases: "2",
            crash: "blocking: coordinator failure blocks",
            crash_blocks: Some(true),
            partition: "blocking, atomic",
            partition_blocks: Some(true),
            partition_atomic: Some(true),
            readers: "atomic",
            readers_atomic: Some(true),
            total_failure: "recovers from the logs",
            total_failure_decides: Some(true),
        },
    ),
    (
        "three-phase commit",
        Claim {
            phases: "3",
            crash: "non-blocking with timeouts",
            crash_blocks: Some(false),
            partition: "non-blocking, atomic",
            partition_blocks: Some(false),
            partition_atomic: Some(true),
            readers: "atomic",
            readers_atomic: Some(true),
            total_failure: "non-blocking",
            total_failure_decides: Some(true),
        },
    ),
    (
        // Skeen, "A Quorum-Based Commit Protocol" (1982).
        "quorum-based three-phase commit",
        Claim {
            phases: "3, with commit and abort quorums",
            crash: "non-blocking while a quorum is up",
            crash_blocks: Some(false),
            partition: "atomic; a side with a quorum decides (it may still block)",
            partition_blocks: None,
            partition_atomic: Some(true),
            readers: "atomic",
            readers_atomic: Some(true),
            total_failure: "recovers once a quorum is back",
            total_failure_decides: Some(true),
        },
    ),
    (
        // Keidar & Dolev, "Increasing the Resilience of Atomic Commit at no Additional Cost".
        "E3PC",
        Claim {
            phases: "3, with quorums and attempt counters",
            crash: "non-blocking while a quorum is up",
            crash_blocks: Some(false),
            partition: "atomic; a connected quorum never blocks",
            partition_blocks: None,
            partition_atomic: Some(true),
            readers: "atomic",
            readers_atomic: Some(true),
            total_failure: "recovers once a quorum is back",
            total_failure_decides: Some(true),
        },
    ),
    (
        "Paxos Commit",
        Claim {
            phases: "2 + consensus",
            crash: "non-blocking while F acceptors fail",
            crash_blocks: Some(false),
            partition: "atomic; a majority side decides",
            partition_blocks: None,
            partition_atomic: Some(true),
            readers: "atomic",
            readers_atomic: Some(true),
            total_failure: "recovers from the acceptors' logs",
            total_failure_decides: Some(true),
        },
    ),
    (
        "two-phase commit over consensus",
        Claim {
            phases: "2 + consensus",
            crash: "non-blocking while F coordinator members fail",
            crash_blocks: Some(false),
            partition: "atomic; the coordinator group's majority side decides",
            partition_blocks: None,
            partition_atomic: Some(true),
            readers: "atomic",
            readers_atomic: Some(true),
            total_failure: "recovers from the coordinator group's log",
            total_failure_decides: Some(true),
        },
    ),
    ("saga orchestration", SAGA),
    (
        "saga choreography",
        Claim {
            phases: "N (one event per step)",
            total_failure: "resumes from the durable broker",
            ..SAGA
        },
    ),
];

/// The claims for `family` (a family name), or [`UNKNOWN`].
pub fn of(family: &str) -> Claim {
    CLAIMS.iter().find(|(f, _)| *f == family).map_or(UNKNOWN, |(_, c)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_claimed_family_is_in_the_catalog_and_unknown_ones_print_a_dash() {
        for (family, _) in CLAIMS {
            assert!(
                protocols::catalog::FAMILIES.iter().any(|f| f.name == *family),
                "claims for {family}, which the catalog does not hold (renamed?)"
            );
        }
        assert_eq!(of("no such family"), UNKNOWN);
        assert_eq!(of("no such family").phases, "—");
    }
}
