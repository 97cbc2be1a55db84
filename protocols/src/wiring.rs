//! Per-family wiring, written once.
//!
//! Every commit family plugs the same parts together: the client's messages and timers ride
//! inside the family's own (`ClientWire`), its disk records say which one is a durable yes vote
//! and which a durable decision (`TxnRecord`), and one node enum dispatches each handler to the
//! role a node plays (`Process`, `NodeView`, `CommitProtocol::build`). These macros write that
//! code from a one-line description, so a family module holds only what is its own: states,
//! messages and the protocol's rules.

/// `impl ClientWire` for a protocol whose message and timer enums carry the client's in a
/// `Client` variant: `client_wire!(TwoPc, Msg, Timer);`. Given its record type as well
/// (`client_wire!(TwoPc, Msg, Timer, Record);`) it also writes the protocol's
/// `impl sim_core::Protocol` (those types, and the shared observations).
#[macro_export]
macro_rules! client_wire {
    ($proto:ty, $msg:ident, $timer:ident, $record:ty) => {
        impl sim_core::Protocol for $proto {
            type Msg = $msg;
            type Timer = $timer;
            type Record = $record;
            type Obs = $crate::txn::Observation;
        }

        $crate::client_wire!($proto, $msg, $timer);
    };
    ($proto:ty, $msg:ident, $timer:ident) => {
        impl $crate::client::ClientWire for $proto {
            fn wrap_msg(m: $crate::client::ClientMsg) -> $msg {
                $msg::Client(m)
            }
            fn wrap_timer(t: $crate::client::ClientTimer) -> $timer {
                $timer::Client(t)
            }
        }
    };
}

/// `impl KvWire` for a replicated log whose message and timer enums carry the key-value
/// client's in a `Kv` variant: `kv_wire!(Raft, Msg, Timer);`.
#[macro_export]
macro_rules! kv_wire {
    ($proto:ty, $msg:ident, $timer:ident) => {
        impl $crate::consensus::client::KvWire for $proto {
            fn wrap_msg(m: $crate::consensus::client::KvMsg) -> $msg {
                $msg::Kv(m)
            }
            fn wrap_timer(t: $crate::consensus::client::KvTimer) -> $timer {
                $timer::Kv(t)
            }
            fn unwrap_msg(m: $msg) -> Result<$crate::consensus::client::KvMsg, $msg> {
                match m {
                    $msg::Kv(k) => Ok(k),
                    other => Err(other),
                }
            }
            fn unwrap_timer(t: $timer) -> Result<$crate::consensus::client::KvTimer, $timer> {
                match t {
                    $timer::Kv(k) => Ok(k),
                    other => Err(other),
                }
            }
        }
    };
}

/// Wires the replicated log `$proto` as the protocol family `$name`, from the names its module
/// defines by convention: `Msg` (with a `label()` for diagrams and a `Kv` variant for the
/// client's messages), `Record`, and `Replica` (a [`crate::consensus::replica::LogReplica`]
/// built by `Replica::new(&Shared<$config>, NodeId, &[Record])`, whose crash points are
/// `replica::Point`). Declares the family's broken behaviours as the enum `$broken`, each with
/// the variant that plants it, after the correct variant (named as the family, summarised
/// `$correct_summary`); its configuration
/// `$config`; the properties it is judged on `$properties` and those `commitlab explore`
/// checks `$explored` ([`crate::consensus::explore`]). Emits the protocol's types
/// (`Timer`: [`crate::consensus::wiring::LogTimer`]), the key-value client's envelope
/// ([`kv_wire!`]), the replica's `sim_core::Process`, `pub type Node`, the runner's
/// [`crate::scenario::CommitProtocol`], a [`crate::durable::TxnRecord`] that finds no
/// transaction in `Record` (a replica's disk holds none), `REPLICA_POINTS` and
/// `pub const FAMILY`.
#[macro_export]
macro_rules! replicated_log {
    (
        family: $name:literal,
        protocol: $proto:ident,
        config: $config:ident,
        properties: $properties:expr,
        explored: $explored:expr,
        correct: $correct_summary:literal,
        $(#[$broken_meta:meta])*
        broken: $broken:ident {
            $($(#[$meta:meta])* $bug:ident: $variant:literal => $summary:literal),+ $(,)?
        } $(,)?
    ) => {
        pub use $crate::consensus::wiring::LogTimer as Timer;

        impl sim_core::Protocol for $proto {
            type Msg = Msg;
            type Timer = Timer;
            type Record = Record;
            type Obs = $crate::txn::Observation;

            fn label_msg(msg: &Msg) -> String {
                msg.label()
            }
        }

        $crate::kv_wire!($proto, Msg, Timer);

        $(#[$broken_meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
        )]
        #[serde(rename_all = "snake_case")]
        pub enum $broken {
            $($(#[$meta])* $bug,)+
        }

        #[doc = concat!("The configuration of a ", $name, " cluster.")]
        pub type $config = $crate::consensus::wiring::LogConfig<$broken>;

        const VARIANTS: &[($crate::family::VariantSpec, Option<$broken>)] = &[
            ($crate::family::VariantSpec::new($name, true, $correct_summary), None),
            $((
                $crate::family::VariantSpec::new($variant, false, $summary),
                Some($broken::$bug),
            ),)+
        ];

        /// A replica's crash points (a family hosting the replica declares them).
        pub const REPLICA_POINTS: &[&str] = replica::Point::NAMES;

        /// The handlers the engine calls, as the replicated log's replica routes them.
        impl sim_core::Process<$proto> for Replica {
            fn on_start(&mut self, ctx: &mut sim_core::Context<'_, $proto>) {
                $crate::consensus::replica::LogReplica::on_log_start(self, ctx)
            }
            fn on_message(
                &mut self,
                ctx: &mut sim_core::Context<'_, $proto>,
                from: sim_core::NodeId,
                msg: Msg,
            ) {
                $crate::consensus::replica::LogReplica::on_log_message(self, ctx, from, msg)
            }
            fn on_timer(&mut self, ctx: &mut sim_core::Context<'_, $proto>, timer: Timer) {
                $crate::consensus::replica::LogReplica::on_log_timer(self, ctx, timer)
            }
        }

        /// One node of the cluster: a replica or the key-value client.
        pub type Node = $crate::consensus::wiring::ConsensusNode<Replica>;

        impl $crate::scenario::CommitProtocol for $proto {
            type Node = Node;
            type Config = $config;
            fn build(
                config: &$crate::shared::Shared<Self::Config>,
                id: sim_core::NodeId,
                boot: sim_core::Boot<'_, Record>,
            ) -> Node {
                let recovered = boot.is_recovery();
                Node::build(id, config.replicas, &config.client, recovered, || {
                    Replica::new(config, id, boot.disk())
                })
            }
        }

        impl $crate::durable::TxnRecord for Record {
            fn prepared(&self) -> Option<($crate::txn::TxnId, &[$crate::txn::Write])> {
                None
            }
            fn decision(&self) -> Option<($crate::txn::TxnId, $crate::txn::Outcome)> {
                None
            }
        }

        const ROLES: &[$crate::family::RoleSpec] =
            &$crate::consensus::wiring::replica_roles(replica::Point::NAMES);

        /// The family, as data.
        pub const FAMILY: $crate::family::Family = $crate::consensus::wiring::log_family(
            $name,
            || VARIANTS.iter().map(|v| v.0).collect(),
            ROLES,
            $properties,
            |scenario| $crate::consensus::wiring::replica_layout(ROLES, scenario),
            |variant, scenario| {
                $crate::consensus::wiring::run_log::<$proto, $broken>(
                    VARIANTS,
                    FAMILY.layout,
                    variant,
                    scenario,
                )
            },
            |request, config| {
                $crate::consensus::explore::explore::<$proto, Replica, $broken>(
                    &FAMILY, VARIANTS, $explored, request, config,
                )
            },
        );
    };
}

/// `impl TxnRecord` for a record enum whose durable yes vote is `Prepared { txn, writes, .. }`
/// and whose durable decision is `Decision { txn, outcome, .. }`: `txn_record!(Record);`.
#[macro_export]
macro_rules! txn_record {
    ($record:ident) => {
        impl $crate::durable::TxnRecord for $record {
            fn prepared(&self) -> Option<($crate::txn::TxnId, &[$crate::txn::Write])> {
                match self {
                    $record::Prepared { txn, writes, .. } => Some((*txn, writes)),
                    _ => None,
                }
            }
            fn decision(&self) -> Option<($crate::txn::TxnId, $crate::txn::Outcome)> {
                match self {
                    $record::Decision { txn, outcome, .. } => Some((*txn, *outcome)),
                    _ => None,
                }
            }
        }
    };
}

/// The node enum of a commit family laid out by [`crate::txn::Layout`] (coordinator, the
/// participants, the client, and optionally the family's extra nodes), with its `Process`
/// dispatch, its `NodeView` (the participant's doubts and locks) and `CommitProtocol`:
///
/// ```ignore
/// commit_node! {
///     /// One node of a quorum-commit cluster.
///     pub enum Node {
///         protocol: QuorumCommit, config: QuorumConfig, msg: Msg, timer: Timer, record: Record,
///         Coordinator(Coordinator),
///         Participant(Participant),
///     }
/// }
/// ```
///
/// It also wires the protocol's types and the client's envelope ([`client_wire!`]), and the
/// disk record: `record: Record` names the family's own record type, whose durable yes vote
/// and decision [`txn_record!`] reads; `record: announced` says the family logs the shared
/// [`crate::commit_record::CommitRecord`] (re-exported as `Record`) and its coordinator
/// announces decisions as [`crate::announced`] does ([`announce_wire!`]): 2PC and 3PC;
/// `record: Record(CommitRecord)` names a record type of the family's own that holds the
/// shared ones beside its own records ([`crate::commit_record::CommitRecords`]) and is read
/// through them: quorum commit.
///
/// Each role type has `new(config, boot)` (the participant `new(config, id, boot)`) and the
/// three handlers `on_start`, `on_message(ctx, from, msg)`, `on_timer(ctx, timer)`; the
/// participant also `in_doubt()` and `locks()`. An optional third role, `Extra(Type)`, plays the
/// layout's extra nodes (Paxos Commit's acceptors). The client's own messages and timers go to
/// the built-in client; anything else addressed to it is a protocol bug and panics (the search
/// reports a panic as a finding).
#[macro_export]
macro_rules! commit_node {
    (@record $proto:ty, $msg:ident, $timer:ident, announced) => {
        /// The shared commit records ([`crate::commit_record`]), as the announcing
        /// coordinator ([`crate::announced`]) logs them.
        pub use $crate::commit_record::CommitRecord as Record;

        $crate::announce_wire!($proto, $msg, $timer);
        $crate::client_wire!($proto, $msg, $timer, $crate::commit_record::CommitRecord);
    };
    (@record $proto:ty, $msg:ident, $timer:ident, $record:ident(CommitRecord)) => {
        impl $crate::durable::TxnRecord for $record {
            fn prepared(&self) -> Option<($crate::txn::TxnId, &[$crate::txn::Write])> {
                let record = $crate::commit_record::CommitRecords::commit_record(self)?;
                $crate::durable::TxnRecord::prepared(record)
            }
            fn decision(&self) -> Option<($crate::txn::TxnId, $crate::txn::Outcome)> {
                let record = $crate::commit_record::CommitRecords::commit_record(self)?;
                $crate::durable::TxnRecord::decision(record)
            }
        }

        $crate::client_wire!($proto, $msg, $timer, $record);
    };
    (@record $proto:ty, $msg:ident, $timer:ident, $record:ident) => {
        $crate::txn_record!($record);
        $crate::client_wire!($proto, $msg, $timer, $record);
    };
    (
        $(#[$meta:meta])*
        $vis:vis enum $node:ident {
            protocol: $proto:ty, config: $config:ty, msg: $msg:ident, timer: $timer:ident,
            record: $record:ident $(($commit:ident))?,
            $coord:ident($coord_ty:ty),
            $part:ident($part_ty:ty)
            $(, $extra:ident($extra_ty:ty))? $(,)?
        }
    ) => {
        $crate::commit_node!(@record $proto, $msg, $timer, $record $(($commit))?);

        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        $vis enum $node {
            $coord($coord_ty),
            $part($part_ty),
            $($extra($extra_ty),)?
            Client($crate::client::Client),
        }

        impl $node {
            pub fn build(
                config: &$crate::shared::Shared<$config>,
                id: sim_core::NodeId,
                boot: sim_core::Boot<'_, <$proto as sim_core::Protocol>::Record>,
            ) -> $node {
                let layout = &config.layout;
                if id == layout.coordinator() {
                    return $node::$coord(<$coord_ty>::new(config, boot));
                }
                if layout.is_participant(id) {
                    return $node::$part(<$part_ty>::new(config, id, boot));
                }
                $(if layout.is_extra(id) {
                    return $node::$extra(<$extra_ty>::new(config, boot));
                })?
                debug_assert_eq!(id, layout.client(), "the layout has no node {id}");
                let recovered = boot.is_recovery();
                $node::Client($crate::client::Client::new(
                    config.layout,
                    config.client.clone(),
                    recovered,
                ))
            }

            /// The participant this node is, if it is one.
            pub fn participant(&self) -> Option<&$part_ty> {
                match self {
                    $node::$part(p) => Some(p),
                    _ => None,
                }
            }
        }

        impl sim_core::Process<$proto> for $node {
            fn on_start(&mut self, ctx: &mut sim_core::Context<'_, $proto>) {
                match self {
                    $node::$coord(n) => n.on_start(ctx),
                    $node::$part(n) => n.on_start(ctx),
                    $($node::$extra(n) => n.on_start(ctx),)?
                    $node::Client(c) => c.on_start(ctx),
                }
            }

            fn on_message(
                &mut self,
                ctx: &mut sim_core::Context<'_, $proto>,
                from: sim_core::NodeId,
                msg: $msg,
            ) {
                match (self, msg) {
                    ($node::$coord(n), msg) => n.on_message(ctx, from, msg),
                    ($node::$part(n), msg) => n.on_message(ctx, from, msg),
                    $(($node::$extra(n), msg) => n.on_message(ctx, from, msg),)?
                    ($node::Client(c), $msg::Client(m)) => c.on_message(ctx, m),
                    ($node::Client(_), msg) => panic!("the client got {msg:?}: a protocol bug"),
                }
            }

            fn on_timer(&mut self, ctx: &mut sim_core::Context<'_, $proto>, timer: $timer) {
                match (self, timer) {
                    ($node::$coord(n), t) => n.on_timer(ctx, t),
                    ($node::$part(n), t) => n.on_timer(ctx, t),
                    $(($node::$extra(n), t) => n.on_timer(ctx, t),)?
                    ($node::Client(c), $timer::Client(t)) => c.on_timer(ctx, t),
                    ($node::Client(_), t) => panic!("the client got timer {t:?}: a protocol bug"),
                }
            }
        }

        impl $crate::scenario::NodeView for $node {
            fn in_doubt(&self) -> Vec<$crate::txn::TxnId> {
                self.participant().map(<$part_ty>::in_doubt).unwrap_or_default()
            }
            fn locks(&self) -> std::collections::BTreeMap<$crate::txn::Key, $crate::txn::TxnId> {
                self.participant().map(|p| p.locks().clone()).unwrap_or_default()
            }
        }

        impl $crate::scenario::CommitProtocol for $proto {
            type Node = $node;
            type Config = $config;
            fn build(
                config: &$crate::shared::Shared<$config>,
                id: sim_core::NodeId,
                boot: sim_core::Boot<'_, <$proto as sim_core::Protocol>::Record>,
            ) -> $node {
                $node::build(config, id, boot)
            }
        }
    };
}
