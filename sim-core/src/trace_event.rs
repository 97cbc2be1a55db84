//! What a run's trace is made of: one [`TraceEvent`] per engine event, in the shared
//! vocabulary of every protocol. The trace ([`crate::trace`]) hashes and keeps them; its
//! compact store ([`crate::trace_log`]) packs and rebuilds them; both stand on this file.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::fault::Action;
use crate::id::NodeId;
use crate::process::Protocol;
use crate::time::Time;

/// Why a message did not arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// The link was cut (partition or cut) when the message was sent or when it arrived.
    Cut,
    /// The link's loss probability struck.
    Loss,
    /// The receiver was down when the message arrived.
    ReceiverDown,
}

/// One thing that happened at `node`, at `time`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct TraceEvent<P: Protocol> {
    pub time: Time,
    pub node: NodeId,
    #[serde(flatten)]
    pub kind: TraceKind<P>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case", bound = "")]
pub enum TraceKind<P: Protocol> {
    /// The node booted for the first time.
    Start,
    /// The node handed message `id` to the network (it may still be dropped).
    Send {
        to: NodeId,
        id: u64,
        msg: P::Msg,
    },
    /// Message `id` from `from` arrived and was handled.
    Deliver {
        from: NodeId,
        id: u64,
    },
    /// Message `id` on `from -> to` was lost; recorded at the node where it was lost.
    Drop {
        from: NodeId,
        to: NodeId,
        id: u64,
        reason: DropReason,
    },
    /// The network will deliver message `id` a second time, at `at`.
    Duplicate {
        to: NodeId,
        id: u64,
        at: Time,
    },
    TimerSet {
        timer: P::Timer,
        at: Time,
    },
    TimerCancel {
        timer: P::Timer,
    },
    TimerFire {
        timer: P::Timer,
    },
    Persist {
        record: P::Record,
    },
    Mark {
        name: Cow<'static, str>,
    },
    Observe {
        obs: P::Obs,
    },
    /// The node stopped; `cut` of the current handler's effects were never applied.
    Crash {
        cut: u32,
    },
    /// The node was rebuilt from its disk and restarted.
    Recover,
    /// Fault `index` of the plan fired (recorded at node 0 for cluster-wide actions).
    Fault {
        index: u32,
        action: Box<Action>,
    },
    /// The fault phase ended: everything recovered and healed, no further faults.
    LivenessPhase,
}
