//! A protocol written outside commitlab's crates, against their public API only: "lean 2PC",
//! a small two-phase commit (presumed abort, participants ask the coordinator until they
//! learn), with a deliberately broken variant that keeps its commit decision in memory. It
//! runs through the same runner, is judged by the same checkers and searched by the same
//! property search as the built-in protocols.
//!
//! ```text
//! cargo run --release --example custom_protocol
//! ```
//!
//! What a new protocol needs (docs/adding-a-protocol.md walks through it): a vocabulary
//! (`sim_core::Protocol`), node state machines (`sim_core::Process`), what its disk records
//! mean (`protocols::durable::TxnRecord`), how to build a node (`CommitProtocol`), and one
//! `Family` value describing it as data.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sim_core::{Boot, Context, Duration, FaultClass, NodeId, Process};

use checkers::Property;
use experiments::search::counterexample::replay_spec;
use experiments::search::{Outcome as SearchOutcome, SearchConfig, Target, search};
use protocols::catalog::ProtocolSpec;
use protocols::client::{ClientConfig, ClientMsg, ClientTimer};
use protocols::durable::TxnRecord;
use protocols::family::{COMMIT_PROPERTIES, Family, RoleSpec, VariantSpec};
use protocols::roles::commit_roles;
use protocols::scenario::run_with;
use protocols::shared::Shared;
use protocols::store::Store;
use protocols::timing::Timing;
use protocols::txn::{Key, Layout, Observation, Outcome, TxnId, Vote, Write};
use protocols::{RunOutcome, Scenario, ScenarioError};

// ----- the vocabulary ----------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Hash)]
pub struct Lean;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Msg {
    Client(ClientMsg),
    Prepare {
        txn: TxnId,
        writes: Vec<Write>,
    },
    Vote {
        txn: TxnId,
        vote: Vote,
    },
    Decision {
        txn: TxnId,
        outcome: Outcome,
    },
    /// An uncertain participant asks what was decided.
    Ask {
        txn: TxnId,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Timer {
    Client(ClientTimer),
    /// Coordinator: the votes are late, abort.
    Votes(TxnId),
    /// Participant: the decision is late, ask again.
    Ask(TxnId),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Record {
    /// Participant, forced before its yes vote.
    Prepared { txn: TxnId, writes: Vec<Write> },
    /// Coordinator (before sending a commit) and participant (when it learns).
    Decision { txn: TxnId, outcome: Outcome },
}

#[derive(Clone, Debug)]
pub struct Config {
    pub layout: Layout,
    /// The planted bug: the coordinator never forces its commit decision.
    pub volatile_decision: bool,
    /// A second planted bug: a participant asserts it never sees a Prepare twice (the
    /// network may duplicate it), so its own assertion fires.
    pub asserts_single_prepare: bool,
    /// Broken variant: a participant sends its yes vote before forcing its prepared record,
    /// with no mark between the two (reached only by a crash after the send).
    pub vote_before_log: bool,
    pub timing: Timing,
    pub client: ClientConfig,
    pub votes: protocols::workload::VotePolicy,
}

protocols::crash_points! {
    /// The coordinator's crash points, in protocol order.
    pub enum Point {
        PrepareSent, DecisionLogged, DecisionSentToFirst
    }
}

// ----- the coordinator ---------------------------------------------------------------------

/// Node state is a value (`Clone + Eq + Hash`), so schedulers can copy and fingerprint it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Coordinator {
    config: Shared<Config>,
    /// Decisions this coordinator knows (rebuilt from its disk after a crash).
    decided: BTreeMap<TxnId, Outcome>,
    /// Transactions collecting votes: who has not voted yet.
    waiting: BTreeMap<TxnId, BTreeSet<NodeId>>,
}

impl Coordinator {
    fn new(config: &Shared<Config>, boot: Boot<'_, Record>) -> Self {
        let decided = boot.disk().iter().filter_map(|r| r.decision()).collect();
        Coordinator { config: config.clone(), decided, waiting: BTreeMap::new() }
    }

    fn decide(&mut self, ctx: &mut Context<'_, Lean>, txn: TxnId, outcome: Outcome) {
        self.waiting.remove(&txn);
        self.decided.insert(txn, outcome);
        // Presumed abort: only commits are forced. The broken variant forgets to.
        if outcome == Outcome::Commit && !self.config.volatile_decision {
            ctx.persist(Record::Decision { txn, outcome });
        }
        ctx.mark(Point::DecisionLogged.name());
        ctx.observe(Observation::Decided { txn, outcome });
        for (i, p) in self.config.layout.participant_ids().enumerate() {
            ctx.send(p, Msg::Decision { txn, outcome });
            if i == 0 {
                ctx.mark(Point::DecisionSentToFirst.name());
            }
        }
        ctx.observe(Observation::ReportedToClient { txn, outcome });
        ctx.send(self.config.layout.client(), Msg::Client(ClientMsg::Reply { txn, outcome }));
    }
}

impl Process<Lean> for Coordinator {
    fn on_start(&mut self, _ctx: &mut Context<'_, Lean>) {}

    fn on_message(&mut self, ctx: &mut Context<'_, Lean>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Client(ClientMsg::Request { txn, .. }) => {
                if let Some(&outcome) = self.decided.get(&txn.id) {
                    let reply = ClientMsg::Reply { txn: txn.id, outcome };
                    return ctx.send(self.config.layout.client(), Msg::Client(reply));
                }
                if self.waiting.contains_key(&txn.id) {
                    return;
                }
                let participants = txn.participants();
                for &p in &participants {
                    ctx.send(p, Msg::Prepare { txn: txn.id, writes: txn.writes_at(p) });
                }
                ctx.mark(Point::PrepareSent.name());
                self.waiting.insert(txn.id, participants.into_iter().collect());
                let after = Duration::from_us(self.config.timing.round_timeout_us);
                ctx.set_timer(after, Timer::Votes(txn.id));
            }
            Msg::Vote { txn, vote: Vote::No } if self.waiting.contains_key(&txn) => {
                self.decide(ctx, txn, Outcome::Abort)
            }
            Msg::Vote { txn, vote: Vote::Yes } => {
                let Some(waiting) = self.waiting.get_mut(&txn) else { return };
                waiting.remove(&from);
                if waiting.is_empty() {
                    self.decide(ctx, txn, Outcome::Commit);
                }
            }
            Msg::Ask { txn } => {
                // Presumed abort: no record of a commit means abort.
                let outcome = self.decided.get(&txn).copied().unwrap_or(Outcome::Abort);
                if !self.waiting.contains_key(&txn) {
                    ctx.send(from, Msg::Decision { txn, outcome });
                }
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Lean>, timer: Timer) {
        if let Timer::Votes(txn) = timer
            && self.waiting.contains_key(&txn)
        {
            self.decide(ctx, txn, Outcome::Abort);
        }
    }
}

// ----- a participant -----------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Participant {
    coordinator: NodeId,
    store: Store,
    no_vote: sim_core::rng::Chance,
    ask_us: u64,
    asserts_single_prepare: bool,
    vote_before_log: bool,
    /// Transactions voted yes on and not yet decided.
    uncertain: BTreeSet<TxnId>,
    decided: BTreeMap<TxnId, Outcome>,
}

impl Participant {
    fn new(config: &Shared<Config>, id: NodeId, boot: Boot<'_, Record>) -> Self {
        let workload = config.client.workload;
        let replay = protocols::durable::replay(
            workload.initial_values(id),
            workload.allows_negative(),
            boot.disk(),
        );
        let decided: BTreeMap<TxnId, Outcome> =
            boot.disk().iter().filter_map(|r| r.decision()).collect();
        let uncertain = boot
            .disk()
            .iter()
            .filter_map(|r| r.prepared().map(|(t, _)| t))
            .filter(|t| !decided.contains_key(t))
            .collect();
        Participant {
            coordinator: config.layout.coordinator(),
            store: replay.store,
            no_vote: config.votes.chance(id),
            ask_us: config.timing.participant_timeout_us,
            asserts_single_prepare: config.asserts_single_prepare,
            vote_before_log: config.vote_before_log,
            uncertain,
            decided,
        }
    }

    fn learn(&mut self, ctx: &mut Context<'_, Lean>, txn: TxnId, outcome: Outcome) {
        if !self.uncertain.remove(&txn) {
            return; // not in doubt: already decided, or never voted yes
        }
        ctx.persist(Record::Decision { txn, outcome });
        self.decided.insert(txn, outcome);
        match outcome {
            Outcome::Commit => {
                self.store.commit(txn);
                ctx.observe(Observation::Applied { txn });
            }
            Outcome::Abort => {
                self.store.abort(txn);
            }
        }
        ctx.observe(Observation::Decided { txn, outcome });
        ctx.observe(Observation::LocksReleased { txn });
        ctx.cancel_timer(Timer::Ask(txn));
    }
}

impl Process<Lean> for Participant {
    fn on_start(&mut self, ctx: &mut Context<'_, Lean>) {
        // After a recovery: still in doubt, so ask.
        for &txn in &self.uncertain {
            ctx.observe(Observation::Uncertain { txn });
            ctx.send(self.coordinator, Msg::Ask { txn });
            ctx.set_timer(Duration::from_us(self.ask_us), Timer::Ask(txn));
        }
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Lean>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Prepare { txn, writes } => {
                let seen = self.uncertain.contains(&txn) || self.decided.contains_key(&txn);
                assert!(!(seen && self.asserts_single_prepare), "{txn}: Prepare seen twice");
                if seen {
                    return;
                }
                if self
                    .store
                    .prepare(txn, &writes, || protocols::store::choose_vote(ctx, self.no_vote))
                    .is_err()
                {
                    self.decided.insert(txn, Outcome::Abort);
                    ctx.observe(Observation::Voted { txn, vote: Vote::No });
                    ctx.observe(Observation::Decided { txn, outcome: Outcome::Abort });
                    return ctx.send(from, Msg::Vote { txn, vote: Vote::No });
                }
                // A yes vote is a promise that must survive a crash: the record is forced
                // before the vote leaves. The broken variant forces it after.
                if !self.vote_before_log {
                    ctx.persist(Record::Prepared { txn, writes: writes.clone() });
                }
                ctx.observe(Observation::LocksAcquired { txn, keys: writes.len() as u32 });
                ctx.observe(Observation::Voted { txn, vote: Vote::Yes });
                ctx.observe(Observation::Uncertain { txn });
                self.uncertain.insert(txn);
                ctx.send(from, Msg::Vote { txn, vote: Vote::Yes });
                if self.vote_before_log {
                    ctx.persist(Record::Prepared { txn, writes: writes.clone() });
                }
                ctx.set_timer(Duration::from_us(self.ask_us), Timer::Ask(txn));
            }
            Msg::Decision { txn, outcome } => self.learn(ctx, txn, outcome),
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Lean>, timer: Timer) {
        if let Timer::Ask(txn) = timer
            && self.uncertain.contains(&txn)
        {
            ctx.send(self.coordinator, Msg::Ask { txn });
            ctx.set_timer(Duration::from_us(self.ask_us), Timer::Ask(txn));
        }
    }
}

// ----- the cluster -------------------------------------------------------------------------

impl Participant {
    fn in_doubt(&self) -> Vec<TxnId> {
        self.uncertain.iter().copied().collect()
    }
    fn locks(&self) -> &BTreeMap<Key, TxnId> {
        self.store.locks()
    }
}

// The protocol's types (`impl Protocol`), the client's traffic riding in `Msg::Client` /
// `Timer::Client`, which records are a durable yes vote (`Prepared`) and a durable decision
// (`Decision`: what the checkers read from disks), the node enum, its dispatch to each role,
// what a participant shows (doubts and locks) and how a node is built, written by the same
// macro the built-in families use.
protocols::commit_node! {
    /// One node of a lean-2PC cluster.
    pub enum Node {
        protocol: Lean, config: Config, msg: Msg, timer: Timer, record: Record,
        Coordinator(Coordinator),
        Participant(Participant),
    }
}

// ----- the family, as data -----------------------------------------------------------------

const ROLES: &[RoleSpec] = &[
    RoleSpec {
        name: "coordinator",
        label: "coord",
        crash_points: Point::NAMES,
        failure_points: &[],
    },
    RoleSpec { name: "participant", label: "p", crash_points: &[], failure_points: &[] },
    RoleSpec { name: "client", label: "client", crash_points: &[], failure_points: &[] },
];

pub const FAMILY: Family = Family {
    name: "lean two-phase commit (an example from outside the crates)",
    variants: || {
        vec![
            VariantSpec::new("lean-2pc", true, "a small presumed-abort 2PC"),
            VariantSpec::new(
                "broken-lean-2pc-volatile-decision",
                false,
                "BROKEN: the coordinator keeps its commit decision in memory only",
            ),
            VariantSpec::new(
                "broken-lean-2pc-vote-before-log",
                false,
                "BROKEN: a participant sends its yes vote before forcing its prepared record",
            ),
            VariantSpec::new(
                "broken-lean-2pc-asserts",
                false,
                "BROKEN: a participant asserts a Prepare never arrives twice",
            ),
        ]
    },
    roles: ROLES,
    settings: &[],
    properties: COMMIT_PROPERTIES,
    layout: |s| commit_roles(&Layout::new(s.participants), ROLES, ""),
    run,
    explore: None,
};

fn run(variant: &str, scenario: &Scenario) -> Result<RunOutcome, ScenarioError> {
    let timing = Timing::for_network(&scenario.network);
    let config = Config {
        layout: Layout::new(scenario.participants),
        volatile_decision: variant == "broken-lean-2pc-volatile-decision",
        asserts_single_prepare: variant == "broken-lean-2pc-asserts",
        vote_before_log: variant == "broken-lean-2pc-vote-before-log",
        timing,
        client: scenario.client_config(&timing),
        votes: scenario.votes.clone(),
    };
    run_with::<Lean>(scenario, (FAMILY.layout)(scenario), timing, config)
}

/// The example's protocols, as specs the runner, checkers and search accept.
pub fn lean() -> ProtocolSpec {
    ProtocolSpec::of(&FAMILY, "lean-2pc").expect("declared above")
}
pub fn broken_lean() -> ProtocolSpec {
    ProtocolSpec::of(&FAMILY, "broken-lean-2pc-volatile-decision").expect("declared above")
}
pub fn vote_before_log_lean() -> ProtocolSpec {
    ProtocolSpec::of(&FAMILY, "broken-lean-2pc-vote-before-log").expect("declared above")
}
pub fn asserting_lean() -> ProtocolSpec {
    ProtocolSpec::of(&FAMILY, "broken-lean-2pc-asserts").expect("declared above")
}

/// Searches `spec` for an atomicity violation over crash and recovery plans.
pub fn search_atomicity(spec: ProtocolSpec, cases: u32) -> SearchOutcome {
    let classes = vec![FaultClass::Crash, FaultClass::Recover];
    let mut cfg = SearchConfig::for_spec(spec, Target::Atomicity, classes);
    cfg.cases = cases;
    search(&cfg, &|_| {}).expect("the search runs")
}

#[allow(dead_code)] // the test suite includes this file and calls the functions above
fn main() {
    // One fault-free run, checked like any built-in protocol's.
    let mut s = Scenario::new("lean-2pc", 3, 20, 1);
    s.workload = protocols::workload::Workload::bank();
    let outcome = lean().run(&s).expect("a valid scenario");
    let verdicts = checkers::check(&outcome.report, &s.plan);
    println!("lean-2pc, 20 bank transfers, no faults:");
    for p in [Property::Agreement, Property::Termination, Property::Conservation] {
        println!("  {:<16} {:?}", p.name(), verdicts.get(p));
    }
    for spec in [lean(), broken_lean()] {
        match search_atomicity(spec, 10_000) {
            SearchOutcome::NotFound { stats } => {
                println!("{}: atomicity held over {} cases", spec.name, stats.cases_run)
            }
            SearchOutcome::Found(found) => {
                let replayed = replay_spec(&spec, &found.scenario, Target::Atomicity)
                    .expect("the counterexample replays");
                println!(
                    "{}: atomicity VIOLATED after {} cases; minimal plan: {}",
                    spec.name,
                    found.stats.cases_to_find,
                    serde_json::to_string(&found.scenario.plan).expect("plans serialise")
                );
                for v in &replayed.violations {
                    println!("  {}: {}", v.property.name(), v.detail);
                }
            }
        }
    }
}
