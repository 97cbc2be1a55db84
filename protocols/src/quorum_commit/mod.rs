//! Quorum-based atomic commit: what Skeen's quorum-based 3PC ([`crate::quorum_3pc`]) and
//! Keidar & Dolev's E3PC ([`crate::e3pc`]) share, written once.
//!
//! Both run 3PC's phases over participants that carry weights ([`quorum`]): the coordinator
//! asks for votes (CanCommit), moves the participants to *pre-commit* (PreCommit), and commits
//! once a **commit quorum** (weight at least `Vc`) acknowledged; a participant whose
//! coordinator falls silent takes part in an **election among the processes it can reach**
//! ([`election`]): the elected one collects their states (w, pc, pa, c, a, with E3PC's
//! counters) and applies its family's decision rule, which either decides, moves the
//! reachable processes to pre-commit or to *pre-abort*, or waits. Committing needs a commit
//! quorum of pre-committed acknowledgements and aborting an **abort quorum** (`Va`) of
//! pre-aborted ones; `Vc + Va > V` makes every commit quorum meet every abort quorum, so a
//! partition never lets two sides decide differently.
//!
//! The families differ in one place, the decision rule ([`Rule`]): Skeen's counts pre-committed
//! and pre-aborted processes as they are, and a pre-state never changes; E3PC numbers its
//! elections (`last_elected`) and its attempts (`last_attempt`), and only the processes of the
//! latest attempt count. After cascading failures Skeen's processes can hold pc and pa at
//! once with no rule that lets them go on although a quorum is connected; E3PC's never do.
//!
//! Every state change is forced before the process answers: the yes vote (`Prepared`), joining
//! an election (`Elected`, E3PC's `last_elected`), a pre-state (`Attempt`, its `last_attempt`)
//! and the decision. So a process that recovers is rebuilt with what it told others, and,
//! unlike in 3PC, takes part in elections again at once: quorums count recovered processes.
//!
//! Node 0 is the transaction's first coordinator (the paper's initial coordinator, which owns
//! no data and carries no weight); participants 1..N are the quorum's processes.

mod coordinator;
mod election;
pub mod explore;
mod lead;
mod participant;
pub mod quorum;

use serde::{Deserialize, Serialize};
use sim_core::NodeId;

use crate::client::{ClientConfig, ClientMsg, ClientTimer};
use crate::commit_record::{CommitRecord, CommitRecords};
use crate::family::{RoleSpec, VariantSpec};
use crate::prepare::Prepare;
use crate::roles::commit_role_specs;
use crate::scenario::{RunOutcome, Scenario, ScenarioError};
use crate::timing::Timing;
use crate::txn::{Layout, Outcome, TxnId, Vote};
use crate::workload::VotePolicy;

pub use coordinator::Coordinator;
pub use participant::Participant;
pub use quorum::{Quorums, SETTINGS};

use crate::family::ExploreRequest;
use sim_core::explore::{ExploreConfig, ExploreReport};

/// A family's decision rule: what a coordinator elected among some processes does with the
/// states they reported, and whether a later attempt may override an earlier one. Each
/// family declares its own ([`QuorumFamily::RULE`]): Skeen's in [`crate::quorum_3pc`],
/// Keidar & Dolev's in [`crate::e3pc`]; the machinery here only applies it.
#[derive(Clone, Copy)]
pub struct Rule {
    /// The rule's name (configurations compare and print rules by it).
    pub name: &'static str,
    /// What an elected coordinator does with the states it collected.
    pub step: fn(&[(NodeId, Report)], &Quorums) -> Step,
    /// Whether a process may move to the other pre-state in a later attempt: never in
    /// Skeen's protocol (a pre-committed process never pre-aborts, a pre-aborted one never
    /// pre-commits); always in E3PC, where a later attempt overrides an earlier one.
    pub later_attempt_overrides: bool,
}

impl Rule {
    /// What an elected coordinator does with the states it collected.
    pub fn step(self, reports: &[(NodeId, Report)], quorums: &Quorums) -> Step {
        (self.step)(reports, quorums)
    }

    /// Whether a process in `state` may move to `to` in a later attempt.
    pub fn may_move(self, state: PreState, to: PreState) -> bool {
        self.later_attempt_overrides || state == to
    }
}

impl PartialEq for Rule {
    fn eq(&self, other: &Rule) -> bool {
        self.name == other.name
    }
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// A quorum-commit family: its name, its variants and its decision rule. [`family`] turns
/// it into the family's [`crate::family::Family`], run and explored with that rule.
pub trait QuorumFamily: 'static {
    const NAME: &'static str;
    const RULE: Rule;
    const VARIANTS: &'static [VariantSpec];
}

/// Declares a quorum-commit family from one line each: its type (`$family`, named
/// `$name`), its decision rule (`$rule_name`, the function `$step`, and whether a later
/// attempt overrides an earlier one) and its one variant with the shared cost claim
/// ([`variant`]). Writes the [`QuorumFamily`] impl and `pub const FAMILY` ([`family`]).
macro_rules! quorum_family {
    (
        $(#[$meta:meta])*
        $family:ident: $name:literal,
        rule: $rule_name:literal => $step:path, later_attempt_overrides: $overrides:literal,
        variant: $variant:literal => $summary:literal $(,)?
    ) => {
        $(#[$meta])*
        pub struct $family;

        impl crate::quorum_commit::QuorumFamily for $family {
            const NAME: &'static str = $name;
            const RULE: crate::quorum_commit::Rule = crate::quorum_commit::Rule {
                name: $rule_name,
                step: $step,
                later_attempt_overrides: $overrides,
            };
            const VARIANTS: &'static [crate::family::VariantSpec] =
                &[crate::quorum_commit::variant($variant, $summary)];
        }

        #[doc = concat!("The ", $name, " family.")]
        pub const FAMILY: crate::family::Family = crate::quorum_commit::family::<$family>();
    };
}

pub(crate) use quorum_family;

/// An election's (or attempt's) number: a round, made unique by the node that leads it, and
/// ordered by round first. E3PC's `last_elected` and `last_attempt` are ballots.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Ballot {
    pub round: u32,
    pub node: NodeId,
}

impl Ballot {
    /// `last_attempt` of a process that never moved to a pre-state.
    pub const NONE: Ballot = Ballot { round: 0, node: NodeId(0) };
    /// The first coordinator's attempt: every process starts having joined it (its
    /// `last_elected`), so that any later election outranks it.
    pub const INITIAL: Ballot = Ballot { round: 1, node: NodeId(0) };
}

impl std::fmt::Display for Ballot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.round, self.node.0)
    }
}

/// The two intermediate states of the papers: pre-committed (pc) and pre-aborted (pa).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PreState {
    #[serde(rename = "pc")]
    Pc,
    #[serde(rename = "pa")]
    Pa,
}

/// A process's state as the papers name them (q is a process that never voted: it aborts
/// when asked, and is reported as `A`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum State {
    /// Voted yes, uncertain.
    #[serde(rename = "w")]
    W,
    #[serde(rename = "pc")]
    Pc,
    #[serde(rename = "pa")]
    Pa,
    #[serde(rename = "c")]
    C,
    #[serde(rename = "a")]
    A,
}

impl State {
    pub fn pre(p: PreState) -> State {
        match p {
            PreState::Pc => State::Pc,
            PreState::Pa => State::Pa,
        }
    }
    pub fn decided(o: Outcome) -> State {
        match o {
            Outcome::Commit => State::C,
            Outcome::Abort => State::A,
        }
    }
    pub fn outcome(self) -> Option<Outcome> {
        match self {
            State::C => Some(Outcome::Commit),
            State::A => Some(Outcome::Abort),
            _ => None,
        }
    }
    pub fn pre_state(self) -> Option<PreState> {
        match self {
            State::Pc => Some(PreState::Pc),
            State::Pa => Some(PreState::Pa),
            _ => None,
        }
    }
}

/// What a process tells the coordinator it elected: its state and its `last_attempt`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Report {
    pub state: State,
    pub last_attempt: Ballot,
}

/// An elected coordinator's next step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Decide(Outcome),
    /// Move the reachable processes to this pre-state (then decide on a quorum of acks).
    Attempt(PreState),
    /// No rule applies: wait (try again after the next timeout).
    Block,
}

/// What every node of a quorum-commit run shares (built by [`config`], never read from a
/// file: the rule is the family's code).
#[derive(Clone, Debug, PartialEq)]
pub struct QuorumConfig {
    pub layout: Layout,
    pub rule: Rule,
    pub quorums: Quorums,
    pub timing: Timing,
    pub votes: VotePolicy,
    pub client: ClientConfig,
    /// The highest election round a participant may start (`None`: no bound). Only the
    /// explorer sets it ([`explore`]): time is abstracted there, so elections could follow one
    /// another forever, each a new state.
    pub max_round: Option<u32>,
}

crate::commit_config!(QuorumConfig);

impl QuorumConfig {
    /// How long participant `id` waits in doubt before it starts an election: the 3PC
    /// participant timeout, staggered by one round per rank so that the lowest reachable
    /// participant is usually elected without a contest.
    pub fn election_timeout_us(&self, id: NodeId) -> u64 {
        let rank = u64::from(id.0.saturating_sub(1));
        self.timing.participant_timeout_us + rank * self.timing.round_timeout_us
    }

    /// The bound the families state for `quorum-non-blocking`: a participant in doubt that
    /// stays connected to a quorum of up processes this long has decided. Three elections
    /// (the first may meet a promise made to a coordinator now cut off, the second a contest),
    /// each: the longest election timeout, collecting states, the attempt's acks and the
    /// decision (two rounds and a message).
    pub fn quorum_bound_us(&self) -> u64 {
        let last = NodeId(self.layout.participants);
        let t = &self.timing;
        3 * (self.election_timeout_us(last) + 2 * t.round_timeout_us + t.latency_bound_us)
    }
}

/// The vocabulary both quorum families speak.
#[derive(Clone, Debug, PartialEq, Hash)]
pub struct QuorumCommit;

/// The engine's context as this family's handlers see it.
pub type Ctx<'a> = sim_core::Context<'a, QuorumCommit>;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "msg", rename_all = "snake_case")]
pub enum Msg {
    Client(ClientMsg),
    CanCommit(Prepare),
    Vote {
        txn: TxnId,
        vote: Vote,
    },
    /// Move to pre-commit (from the first coordinator at [`Ballot::INITIAL`], or an elected one).
    PreCommit {
        txn: TxnId,
        ballot: Ballot,
    },
    /// Move to pre-abort (from an elected coordinator).
    PreAbort {
        txn: TxnId,
        ballot: Ballot,
    },
    /// The sender moved to the pre-state of attempt `ballot`.
    PreAck {
        txn: TxnId,
        ballot: Ballot,
    },
    Decision {
        txn: TxnId,
        outcome: Outcome,
    },
    /// An elected coordinator asks the processes it reaches to join election `ballot`.
    StateReq {
        txn: TxnId,
        ballot: Ballot,
    },
    /// The answer of a process that joined election `ballot` (forced first).
    StateReport {
        txn: TxnId,
        ballot: Ballot,
        report: Report,
    },
    /// The process already joined a later election, `joined`.
    Nack {
        txn: TxnId,
        ballot: Ballot,
        joined: Ballot,
    },
    /// A coordinator that lost track of `txn` asks how it ended.
    DecisionRequest {
        txn: TxnId,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    Client(ClientTimer),
    /// Coordinator: votes or PreCommit acks are late.
    Round(TxnId),
    /// Coordinator: ask again how the transaction ended.
    Inquire(TxnId),
    /// Participant in doubt: nobody moved the transaction on; start an election.
    Election(TxnId),
    /// Elected coordinator: state reports or attempt acks are late.
    Collect(TxnId),
}

/// What a quorum-commit node forces: 3PC's records, and its elections' and attempts'.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// Joined election `ballot` (E3PC's `last_elected`), forced before reporting.
    Elected { txn: TxnId, ballot: Ballot },
    /// Moved to `state` in attempt `ballot` (E3PC's `last_attempt`), forced before acking.
    Attempt { txn: TxnId, ballot: Ballot, state: PreState },
    /// As 3PC logs them: a participant's yes vote (`Prepared`) and the decision, forced
    /// before it is sent or acknowledged (the first coordinator's too); it never logs `End`.
    /// Written as the shared record is, with its own `type`.
    #[serde(untagged)]
    Commit(CommitRecord),
}

impl From<CommitRecord> for Record {
    fn from(record: CommitRecord) -> Record {
        Record::Commit(record)
    }
}

impl CommitRecords for Record {
    fn commit_record(&self) -> Option<&CommitRecord> {
        match self {
            Record::Commit(record) => Some(record),
            Record::Elected { .. } | Record::Attempt { .. } => None,
        }
    }
}

crate::commit_node! {
    /// One node of a quorum-commit cluster.
    pub enum Node {
        protocol: QuorumCommit, config: QuorumConfig, msg: Msg, timer: Timer,
        record: Record(CommitRecord),
        Coordinator(Coordinator),
        Participant(Participant),
    }
}

impl crate::three_phase::ThreePhase for QuorumCommit {
    fn vote(txn: TxnId, vote: Vote) -> Msg {
        Msg::Vote { txn, vote }
    }
}

/// The roles and crash points both families declare.
pub const ROLES: &[RoleSpec] = &commit_role_specs(
    (coordinator::Point::NAMES, &[]),
    (participant::Point::NAMES, lead::ElectionPoint::NAMES),
);

/// The normal-case cost both claim (Keidar & Dolev: E3PC costs what 3PC costs): the three
/// rounds of the papers' 3PC — CanCommit and votes, PreCommit and acks, the decision (not
/// acknowledged: a participant that misses it learns it by an election) — 5N messages, the
/// client's reply six delays after its request; forced writes: each participant's yes vote,
/// pre-commit and decision, and the coordinator's decision.
pub const COST: crate::family::CostFormula = crate::family::CostFormula {
    messages: |n| 5 * n,
    delays: 6,
    disk_writes: |n| 3 * n + 1,
    text: "5N msgs, 6 delays, 3N+1 writes",
};

/// Runs `scenario` with `rule` (what each family's `run` calls).
pub fn run(
    rule: Rule,
    roles: crate::family::Roles,
    scenario: &Scenario,
) -> Result<RunOutcome, ScenarioError> {
    let config = config(rule, scenario)?;
    crate::scenario::run_with::<QuorumCommit>(scenario, roles, config.timing, config)
}

/// The configuration `scenario` runs with under `rule`; bad weights are an error here.
pub fn config(rule: Rule, scenario: &Scenario) -> Result<QuorumConfig, ScenarioError> {
    let timing = Timing::for_network(&scenario.network);
    Ok(QuorumConfig {
        layout: Layout::new(scenario.participants),
        rule,
        quorums: Quorums::from_settings(&scenario.family, scenario.participants)?,
        timing,
        votes: scenario.votes.clone(),
        client: scenario.client_config(&timing),
        max_round: None,
    })
}

/// The family of `F`: its variants, with the shared roles, settings, properties and
/// layout, run and explored with `F`'s decision rule (what `quorum_3pc::FAMILY` and
/// `e3pc::FAMILY` are).
pub const fn family<F: QuorumFamily>() -> crate::family::Family {
    crate::family::Family {
        name: F::NAME,
        variants: variants_of::<F>,
        roles: ROLES,
        settings: SETTINGS,
        properties: crate::family::QUORUM_COMMIT_PROPERTIES,
        layout,
        run: run_family::<F>,
        explore: Some(explore_family::<F>),
    }
}

fn variants_of<F: QuorumFamily>() -> Vec<VariantSpec> {
    F::VARIANTS.to_vec()
}

fn run_family<F: QuorumFamily>(_variant: &str, s: &Scenario) -> Result<RunOutcome, ScenarioError> {
    run_rule(F::RULE, s)
}

fn explore_family<F: QuorumFamily>(
    request: &ExploreRequest<'_>,
    config: &ExploreConfig,
) -> Result<ExploreReport, ScenarioError> {
    explore::explore(F::RULE, &family::<F>(), request, config)
}

fn layout(s: &Scenario) -> crate::family::Roles {
    crate::roles::commit_roles(&Layout::new(s.participants), ROLES, "")
}

/// Runs `scenario` with `rule`, laid out as both families are.
pub fn run_rule(rule: Rule, scenario: &Scenario) -> Result<RunOutcome, ScenarioError> {
    run(rule, layout(scenario), scenario)
}

/// A variant with the shared cost claim.
pub const fn variant(name: &'static str, summary: &'static str) -> VariantSpec {
    VariantSpec { cost: Some(COST), ..VariantSpec::new(name, true, summary) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::txn::Write;
    use sim_core::hash::stable_hash;

    /// The record enum as it was before it held the shared commit records: 3PC's inline.
    #[derive(Serialize)]
    #[serde(tag = "type", rename_all = "snake_case")]
    enum Flat {
        Prepared { txn: TxnId, participants: Vec<NodeId>, writes: Vec<Write> },
        Decision { txn: TxnId, outcome: Outcome, participants: Vec<NodeId> },
        Elected { txn: TxnId, ballot: Ballot },
        Attempt { txn: TxnId, ballot: Ballot, state: PreState },
    }

    /// Holding the shared records changed no trace hash and no trace written out: both see
    /// each record's own `type` and fields, as before; and what is written reads back.
    #[test]
    fn the_shared_records_hash_and_print_as_they_did_inline() {
        let (txn, participants) = (TxnId(3), vec![NodeId(1), NodeId(2)]);
        let writes = vec![Write { node: NodeId(1), key: 4, delta: -5 }];
        let ballot = Ballot { round: 2, node: NodeId(1) };
        let outcome = Outcome::Commit;
        let pairs = [
            (
                Record::from(CommitRecord::Prepared {
                    txn,
                    participants: participants.clone(),
                    writes: writes.clone(),
                }),
                Flat::Prepared { txn, participants: participants.clone(), writes },
            ),
            (
                Record::from(CommitRecord::Decision {
                    txn,
                    outcome,
                    participants: participants.clone(),
                }),
                Flat::Decision { txn, outcome, participants },
            ),
            (Record::Elected { txn, ballot }, Flat::Elected { txn, ballot }),
            (
                Record::Attempt { txn, ballot, state: PreState::Pa },
                Flat::Attempt { txn, ballot, state: PreState::Pa },
            ),
        ];
        let mut hashes = std::collections::BTreeSet::new();
        for (record, flat) in &pairs {
            assert_eq!(stable_hash(record), stable_hash(flat), "{record:?}");
            let json = serde_json::to_string(record).expect("serialisable");
            assert_eq!(json, serde_json::to_string(flat).expect("serialisable"));
            let read: Record = serde_json::from_str(&json).expect("reads back");
            assert_eq!(&read, record);
            hashes.insert(stable_hash(record));
        }
        assert_eq!(hashes.len(), pairs.len(), "each record hashes apart");
    }
}
