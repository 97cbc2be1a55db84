//! Timeouts derived from the network's latency bound.
//!
//! A timeout is a failure detector: it is only accurate if it exceeds the longest a reply can
//! take. Deriving every timeout from one bound `d` (the largest one-way delay the network can
//! draw, [`sim_core::Latency::max_us`]) keeps the protocols' assumptions explicit: with a
//! bounded network and crash faults, a timeout means a crash; with an unbounded one, it may not.

use serde::{Deserialize, Serialize};
use sim_core::{Latency, NetworkConfig};

use crate::backoff::Backoff;

/// The timeouts commit protocols use, in microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Timing {
    /// The one-way delay bound `d` everything else is derived from.
    pub latency_bound_us: u64,
    /// Whether `d` is a true bound (false: an exponential tail, guessed from its mean).
    pub bounded: bool,
    /// Coordinator: how long to wait for every vote (or ack) after a round was sent.
    pub round_timeout_us: u64,
    /// Participant: how long to wait for the next word from the coordinator after voting.
    pub participant_timeout_us: u64,
    /// Participant enlisted in a transaction but not yet asked to vote: how long to wait for
    /// PREPARE before aborting unilaterally (2PC's execution phase; never after a yes vote).
    pub pre_vote_timeout_us: u64,
    /// Re-sending a decision until acknowledged.
    pub resend: Backoff,
    /// Asking others for a decision (termination, recovery).
    pub inquiry: Backoff,
}

impl Timing {
    /// Timeouts for a network whose one-way delays never exceed `d_us`.
    pub fn from_bound(d_us: u64, bounded: bool) -> Timing {
        let d = d_us.max(1);
        Timing {
            latency_bound_us: d,
            bounded,
            // A round trip is at most 2d; one more d of slack.
            round_timeout_us: 3 * d,
            // Request to all (d), replies (d), coordinator's round timeout (3d), next message (d),
            // plus slack.
            participant_timeout_us: 7 * d,
            // Our WORK-DONE (d) and the slowest other participant's WORK and WORK-DONE (2d)
            // reach the coordinator, its PREPARE reaches us (d), plus d of slack.
            pre_vote_timeout_us: 5 * d,
            resend: Backoff::new(3 * d, 48 * d),
            inquiry: Backoff::new(3 * d, 48 * d),
        }
    }

    /// Timeouts for `network`: the largest bound over its links; an unbounded (exponential)
    /// latency is replaced by floor + 8 means, and the timing is marked unbounded.
    pub fn for_network(network: &NetworkConfig) -> Timing {
        let mut bound = 0;
        let mut bounded = true;
        let links =
            std::iter::once(&network.default).chain(network.links.iter().map(|o| &o.config));
        for l in links {
            let b = match l.latency.max_us() {
                Some(b) => b,
                None => {
                    bounded = false;
                    match l.latency {
                        Latency::Exponential { mean_us, floor_us } => floor_us + 8 * mean_us,
                        _ => unreachable!("only exponential latencies are unbounded"),
                    }
                }
            };
            bound = bound.max(b);
        }
        Timing::from_bound(bound, bounded)
    }
}
