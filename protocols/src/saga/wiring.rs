//! What both saga styles share: their configuration, their node enum (a coordinating node —
//! orchestrator or broker — the services, and the client with its auditor beside it), how a
//! service's applied data is read from its disk, and how a variant is run. Each style's module
//! keeps only its own rules.

use serde::{Deserialize, Serialize};

use crate::client::ClientConfig;
use crate::family::VariantSpec;
use crate::roles::RoleSpec;
use crate::scenario::{CommitProtocol, Scenario};
use crate::timing::Timing;
use crate::txn::Layout;
use crate::workload::VotePolicy;

/// A saga style's configuration; `B` names its deliberately broken variants.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SagaConfig<B> {
    pub layout: Layout,
    pub broken: Option<B>,
    /// Retries (requests, re-deliveries, re-publishes) back off as `timing.resend` says.
    pub timing: Timing,
    /// A service refuses a step with the probability this policy gives it (beyond
    /// overdrafts, which it always refuses).
    pub refusals: VotePolicy,
    pub client: ClientConfig,
}

/// What the explorer reads of a saga node beside its observations.
pub trait SagaNode {
    /// Whether a retry loop of this node spent its budget of rounds (module docs).
    fn retries_spent(&self) -> bool;
}

/// One saga style as a family: its name, its variants (with the broken behaviour each turns
/// on) and its coordinating node's crash points. [`family`] turns this into the style's
/// [`Family`], so the two styles describe themselves the same way by construction.
pub trait SagaStyle:
    CommitProtocol<Config = SagaConfig<Self::Broken>, Node: SagaNode + Clone + std::hash::Hash + Send>
where
    Self::Record: crate::durable::TxnRecord,
{
    /// The style's deliberately broken behaviours.
    type Broken: Copy + Send + Sync + 'static;
    /// The family's subject, e.g. "saga orchestration".
    const NAME: &'static str;
    /// Correct first, each with the broken behaviour it turns on.
    const VARIANTS: &'static [(VariantSpec, Option<Self::Broken>)];
    /// Its roles, from [`saga_roles`].
    const ROLES: &'static [RoleSpec];
    /// What `record` did to a service's ledger, if it is a service's record.
    fn ledger_record(record: &Self::Record) -> Option<&crate::saga::LedgerRecord>;
}

/// A saga family's roles: the coordinating node's points on every saga, then those of failing
/// sagas only, and the services' ([`crate::saga::ServicePoint`]).
pub const fn saga_roles(
    coordinator: &'static [&'static str],
    normal_points: usize,
) -> [RoleSpec; 3] {
    let services = crate::saga::ServicePoint::NAMES;
    crate::roles::commit_role_specs(coordinator.split_at(normal_points), (services, &[]))
}

/// The configuration `run` gives the saga `variant` of style `S` on `scenario` (the explorer
/// starts from it too).
pub(crate) fn config<S: SagaStyle>(variant: &str, scenario: &Scenario) -> SagaConfig<S::Broken>
where
    S::Record: crate::durable::TxnRecord,
{
    let (_, broken) = S::VARIANTS.iter().find(|(s, _)| s.name == variant).expect("a saga variant");
    let timing = Timing::for_network(&scenario.network);
    SagaConfig {
        layout: Layout::new(scenario.participants),
        broken: *broken,
        timing,
        refusals: scenario.votes.clone(),
        client: scenario.client_config(&timing),
    }
}

/// A saga style declared as a family, from the names its module defines by convention: the
/// vocabulary `$proto` with its `Msg`, `Timer` and `Record`, the `Service` role (with
/// `service::ledger`), the coordinating role `$coord` (orchestrator or broker) and `VARIANTS`.
/// Given the family's name, its broken behaviours `$broken`, the coordinating node's crash
/// points (the first `$normal` of them on every saga, [`saga_roles`]) and which record is a
/// service's ledger record (`ledger: pattern => ledger`), it writes the `Node` enum, its
/// `Process` dispatch (the client's traffic to the client, audit replies to the auditor, audit
/// queries answered from a service's ledger), its `NodeView` (nobody in a saga is in doubt,
/// and services hold no locks across steps: that is the isolation a saga gives up),
/// `CommitProtocol` (a service's applied data is its ledger as its disk holds it), its
/// record's `TxnRecord` (the style's `Record` has an `Ended { txn, outcome }` record, the
/// coordinating node's, written before anyone is told), [`SagaStyle`] and `pub const FAMILY`
/// ([`crate::saga::family`]).
macro_rules! saga_family {
    (
        $(#[$meta:meta])*
        family: $name:literal, protocol: $proto:ident, broken: $broken:ty,
        coordinator: $coord:ident($coord_ty:ty), points: ($points:expr, $normal:expr),
        ledger: $ledger_pat:pat => $ledger:expr $(,)?
    ) => {
        $crate::client_wire!($proto, Msg, Timer, Record);
        $crate::audit_wire!($proto, Msg, Timer);

        $(#[$meta])*
        pub const FAMILY: crate::family::Family = crate::saga::family::<$proto>();

        impl crate::saga::wiring::SagaStyle for $proto {
            type Broken = $broken;
            const NAME: &'static str = $name;
            const VARIANTS: &'static [(crate::family::VariantSpec, Option<$broken>)] = VARIANTS;
            const ROLES: &'static [crate::family::RoleSpec] =
                &crate::saga::wiring::saga_roles($points, $normal);
            fn ledger_record(record: &Record) -> Option<&crate::saga::LedgerRecord> {
                match record {
                    $ledger_pat => Some($ledger),
                    _ => None,
                }
            }
        }

        #[doc = concat!("One node of a ", $name, " cluster.")]
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub enum Node {
            $coord($coord_ty),
            Service(Service),
            /// The client, with the auditor that reads the bank total beside it.
            Client(crate::client::Client, crate::saga::audit::Auditor),
        }

        impl sim_core::Process<$proto> for Node {
            fn on_start(&mut self, ctx: &mut sim_core::Context<'_, $proto>) {
                match self {
                    Node::$coord(n) => n.on_start(ctx),
                    Node::Service(s) => s.on_start(ctx),
                    Node::Client(c, a) => {
                        c.on_start(ctx);
                        a.on_start(ctx);
                    }
                }
            }

            fn on_message(
                &mut self,
                ctx: &mut sim_core::Context<'_, $proto>,
                from: sim_core::NodeId,
                msg: Msg,
            ) {
                match (self, msg) {
                    (Node::Client(c, _), Msg::Client(m)) => c.on_message(ctx, m),
                    (Node::Client(_, a), Msg::BalanceReply { round, total }) => {
                        a.on_reply(ctx, from, round, total)
                    }
                    (Node::Service(s), Msg::BalanceQuery { round }) => {
                        ctx.send(from, Msg::BalanceReply { round, total: s.ledger().total() })
                    }
                    (Node::$coord(n), msg) => n.on_message(ctx, from, msg),
                    (Node::Service(s), msg) => s.on_message(ctx, from, msg),
                    (Node::Client(..), msg) => panic!("the client got {msg:?}: a protocol bug"),
                }
            }

            fn on_timer(&mut self, ctx: &mut sim_core::Context<'_, $proto>, timer: Timer) {
                match (self, timer) {
                    (Node::Client(c, _), Timer::Client(t)) => c.on_timer(ctx, t),
                    (Node::Client(c, a), Timer::Audit) => a.on_tick(ctx, c),
                    (Node::$coord(n), t) => n.on_timer(ctx, t),
                    (Node::Service(s), t) => s.on_timer(ctx, t),
                    (Node::Client(..), t) => panic!("the client got timer {t:?}: a protocol bug"),
                }
            }
        }

        /// A saga has no prepared records (no service ever waits in doubt); its one decision
        /// is the coordinating node's end record: completed is commit, compensated is abort.
        impl crate::durable::TxnRecord for Record {
            fn prepared(&self) -> Option<(crate::txn::TxnId, &[crate::txn::Write])> {
                None
            }
            fn decision(&self) -> Option<(crate::txn::TxnId, crate::txn::Outcome)> {
                match self {
                    Record::Ended { txn, outcome } => Some((*txn, outcome.outcome())),
                    _ => None,
                }
            }
        }

        impl crate::saga::wiring::SagaNode for Node {
            fn retries_spent(&self) -> bool {
                match self {
                    Node::$coord(n) => n.retries_spent(),
                    Node::Service(s) => s.retries_spent(),
                    Node::Client(..) => false,
                }
            }
        }

        impl crate::scenario::NodeView for Node {
            fn in_doubt(&self) -> Vec<crate::txn::TxnId> {
                Vec::new()
            }
            fn locks(&self) -> std::collections::BTreeMap<crate::txn::Key, crate::txn::TxnId> {
                std::collections::BTreeMap::new()
            }
        }

        impl crate::scenario::CommitProtocol for $proto {
            type Node = Node;
            type Config = crate::saga::wiring::SagaConfig<$broken>;

            fn build(
                config: &crate::shared::Shared<crate::saga::wiring::SagaConfig<$broken>>,
                id: sim_core::NodeId,
                boot: sim_core::Boot<'_, Record>,
            ) -> Node {
                let layout = &config.layout;
                if id == layout.coordinator() {
                    return Node::$coord(<$coord_ty>::new(config, boot));
                }
                if layout.is_participant(id) {
                    return Node::Service(Service::new(config, id, boot));
                }
                debug_assert_eq!(id, layout.client(), "sagas lay out no other nodes");
                let recovered = boot.is_recovery();
                let client =
                    crate::client::Client::new(config.layout, config.client.clone(), recovered);
                let auditor = crate::saga::audit::Auditor::new(
                    config.layout,
                    &config.client,
                    &config.timing,
                    recovered,
                );
                Node::Client(client, auditor)
            }

            fn applied(
                workload: &crate::workload::Workload,
                node: sim_core::NodeId,
                records: &[Record],
            ) -> std::collections::BTreeMap<crate::txn::Key, i64> {
                service::ledger(workload, node, records).values().clone()
            }
        }
    };
}

pub(crate) use saga_family;
