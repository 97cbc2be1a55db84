//! A run's history, fed one fact at a time and indexed as it grows.
//!
//! A [`History`] starts empty; [`History::push`] adds the next fact of a run
//! ([`protocols::RunFact`]: an observation, a crash or recovery, a durable vote or decision, a
//! failure, the cut links, a phase boundary). After any push the index answers every
//! property's question about the history so far, so the same checkers judge a finished run
//! ([`History::from_report`]), a run as it grows, or one state of an explorer's world.
//!
//! Two kinds of state are kept, both updated in amortised O(1) per fact:
//!
//! - **per transaction** ([`TxnFacts`]): transaction ids are dense (the client numbers them
//!   1, 2, ...), so the index is a flat vector, sized once from the report; each entry (32
//!   bytes) holds what was reported or made durable about the transaction: a few flags, and
//!   its nodes' participations, votes and decisions a byte each ([`crate::packed`]), in
//!   place unless the transaction is unusually long. What only some runs have (a saga's
//!   facts, the bank workload's prepared deltas) hangs off side tables ([`Links`]) that
//!   such a run alone allocates: at a million transactions the index is the check's one
//!   large allocation, and touching fresh memory costs more than judging it.
//! - **per node** ([`NodeState`]): up or down, and what it holds open *now*: the
//!   transactions it is in doubt on (from its `Uncertain` to its `Decided`) and the locks it
//!   holds (`LocksAcquired` to `LocksReleased`). A crash empties both (a down node is in doubt
//!   on nothing and shows no locks; a recovered node reports again what its disk leaves it in
//!   doubt on). Each open entry has a slot in one flat arena, linked from its transaction,
//!   so closing one finds it among the transaction's few slots, not among the node's.
//!
//! At the end of the fault phase the history freezes what blocking is judged on
//! ([`FaultPhaseEnd`]): who is up and in doubt, since when, and the failures in force.

use sim_core::{NodeId, Time};

use protocols::{FactRef, Happened, Observation, Outcome, RunFact, RunReport, TxnId, Vote};

use crate::consensus::facts::ConsensusFacts;
use crate::packed::{Entries, Kind, Packed, Spills};
use crate::quorum_facts::{QuorumFacts, QuorumSystem};
use crate::saga_facts::SagaFacts;
use crate::verdict::WaitingOn;

/// One transaction's slot of the index: everything reported or made durable about it that a
/// checker reads, and nothing else (the index is the check's memory, and at a million
/// transactions touching fresh memory costs more than judging it). Not kept: when a vote or
/// decision was reported; a repeated prepared record; what a prepared record's writes add to the bank
/// total, which only conservation reads (those sit in the history's [`Delta`] arena); a
/// saga's facts (in the history's sagas). Both are linked from side tables, not from here.
/// Read through [`TxnFacts`].
#[derive(Clone, Debug, Default)]
struct Entry {
    /// Submitted; what the client learnt; what the coordinator reported to the client.
    flags: Flags,
    /// Its nodes' participations, votes and decisions, reported and durable.
    nodes: Packed,
    /// Where this transaction sits in the nodes' open lists right now: the first of its
    /// slots in the history's arena (a [`Link`]).
    open: Link,
}

/// A transaction's flags in a byte: whether it was submitted (bit 0), what the client learnt
/// (its first reply only: bits 1–2, an [`Outcomes`] with at most one outcome) and which
/// outcomes the coordinator reported to the client (bits 3–4).
#[derive(Clone, Copy, Debug, Default)]
struct Flags(u8);

impl Flags {
    const SUBMITTED: u8 = 1;
    const LEARNED: u32 = 1;
    const REPORTED: u32 = 3;

    fn submitted(self) -> bool {
        self.0 & Self::SUBMITTED != 0
    }

    fn client_learned(self) -> Option<Outcome> {
        Outcomes((self.0 >> Self::LEARNED) & 3).iter().next()
    }

    fn reported_to_client(self) -> Outcomes {
        Outcomes((self.0 >> Self::REPORTED) & 3)
    }

    fn submit(&mut self) {
        self.0 |= Self::SUBMITTED;
    }

    /// The client learnt `o` (kept if it is the first reply).
    fn learn(&mut self, o: Outcome) {
        if self.client_learned().is_none() {
            self.0 |= Outcomes::bit(o) << Self::LEARNED;
        }
    }

    fn report(&mut self, o: Outcome) {
        self.0 |= Outcomes::bit(o) << Self::REPORTED;
    }
}

const _: () = assert!(std::mem::size_of::<Entry>() == 32, "the index's entry is 32 bytes");

/// A [`Link`] per transaction id, for what only some runs have (a saga's facts, the bank's
/// prepared deltas): grown to an id only when that id gets a link, so a run without any
/// allocates nothing; amortised O(1) per link, as the index.
#[derive(Clone, Debug, Default)]
struct Links(Vec<Link>);

impl Links {
    fn get(&self, txn: usize) -> Link {
        self.0.get(txn).copied().unwrap_or(0)
    }

    fn set(&mut self, txn: usize, link: Link) {
        if txn >= self.0.len() {
            self.0.resize(txn + 1, 0);
        }
        self.0[txn] = link;
    }
}

/// What the history knows about one transaction (a view of its slot of the index).
#[derive(Clone, Copy, Debug)]
pub struct TxnFacts<'a> {
    entry: &'a Entry,
    /// Its index in the history (the transaction's id).
    index: usize,
    nodes: Entries<'a>,
    saga: Option<&'a SagaFacts>,
}

/// A set of outcomes (which were reported, not how often or when).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcomes(u8);

impl Outcomes {
    fn bit(o: Outcome) -> u8 {
        match o {
            Outcome::Commit => 1,
            Outcome::Abort => 2,
        }
    }

    pub fn insert(&mut self, o: Outcome) {
        self.0 |= Self::bit(o);
    }

    pub fn contains(self, o: Outcome) -> bool {
        self.0 & Self::bit(o) != 0
    }

    /// The outcomes in the set, commit first.
    pub fn iter(self) -> impl Iterator<Item = Outcome> {
        [Outcome::Commit, Outcome::Abort].into_iter().filter(move |&o| self.contains(o))
    }
}

/// Per node that prepared a transaction, what committing it adds to the node's total (its
/// first prepared record's writes); `next` links the transaction's other deltas.
#[derive(Clone, Copy, Debug)]
struct Delta {
    node: NodeId,
    delta: i64,
    next: Link,
}

/// An index into the slot arena plus one; 0 ends a list.
type Link = u32;

/// This transaction is open at `node` (in doubt, or holding locks) at index `at` of the
/// node's list; `next` links the transaction's other slots (or, once freed, free slots).
#[derive(Clone, Copy, Debug)]
struct Slot {
    node: NodeId,
    kind: Open,
    at: u32,
    next: Link,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Open {
    Doubt,
    Locks,
}

impl<'a> TxnFacts<'a> {
    pub fn submitted(&self) -> bool {
        self.entry.flags.submitted()
    }

    /// What the client learnt (its first reply only).
    pub fn client_learned(&self) -> Option<Outcome> {
        self.entry.flags.client_learned()
    }

    /// Which outcomes the coordinator reported to the client.
    pub fn reported_to_client(&self) -> Outcomes {
        self.entry.flags.reported_to_client()
    }

    /// The participants the client addressed (its last submission's list, as given).
    pub fn participants(&self) -> impl Iterator<Item = NodeId> + 'a {
        self.nodes.nodes(Kind::Participant)
    }

    /// The nodes that made a yes vote durable (wrote a prepared record).
    pub fn durable_yes(&self) -> impl Iterator<Item = NodeId> + 'a {
        self.nodes.nodes(Kind::DurableYes)
    }

    /// Reported decisions, in time order.
    pub fn decided(&self) -> impl Iterator<Item = (NodeId, Outcome)> + 'a {
        self.nodes.iter().filter_map(|(n, k)| match k {
            Kind::Decided(o) => Some((n, o)),
            _ => None,
        })
    }

    /// Decisions made durable, each node's in disk order.
    pub fn durable_decisions(&self) -> impl Iterator<Item = (NodeId, Outcome)> + 'a {
        self.nodes.iter().filter_map(|(n, k)| match k {
            Kind::Logged(o) => Some((n, o)),
            _ => None,
        })
    }

    /// Every decision, reported (in time order) then durable (each node's in disk order),
    /// as (node, outcome).
    pub fn all_decisions(&self) -> impl Iterator<Item = (NodeId, Outcome)> + 'a {
        self.decided().chain(self.durable_decisions())
    }

    /// Whether some node decided `outcome` (reported, or durable).
    pub fn any_decided(&self, outcome: Outcome) -> bool {
        self.nodes.any_of(Kind::Decided(outcome), Kind::Logged(outcome))
    }

    /// Did `node` vote yes (reported, or durable on its disk)?
    pub fn voted_yes(&self, node: NodeId) -> bool {
        self.nodes.contains(node, Kind::DurableYes)
            || self.nodes.contains(node, Kind::Voted(Vote::Yes))
    }

    pub fn voted_no(&self, node: NodeId) -> bool {
        self.nodes.contains(node, Kind::Voted(Vote::No))
    }

    /// `node`'s first reported decision, or else its first durable one.
    pub fn decided_at(&self, node: NodeId) -> Option<Outcome> {
        let reported = self.decided().find(|(n, _)| *n == node).map(|(_, o)| o);
        reported.or_else(|| self.first_on_disk(node))
    }

    /// `node`'s first durable decision (what its disk's replay honours).
    pub fn first_on_disk(&self, node: NodeId) -> Option<Outcome> {
        self.durable_decisions().find(|(n, _)| *n == node).map(|(_, o)| o)
    }

    /// Saga facts, once a saga observation named the transaction.
    pub(crate) fn saga(&self) -> Option<&'a SagaFacts> {
        self.saga
    }

    /// Whether anything was recorded beyond a prepared record: a submission, a vote or a
    /// decision.
    fn recorded(&self) -> bool {
        self.entry.flags.submitted() || self.nodes.iter().any(|(_, k)| k != Kind::DurableYes)
    }
}

/// A node in doubt on a transaction, since it reported being uncertain (after its last
/// recovery, if it crashed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Doubt {
    pub txn: TxnId,
    pub since: Time,
}

/// Locks a node holds for a transaction: how many keys, since when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Locks {
    pub txn: TxnId,
    pub keys: u32,
    pub since: Time,
}

/// One node right now.
#[derive(Clone, Debug)]
pub struct NodeState {
    up: bool,
    down_since: Option<Time>,
    /// It crashed and was rebuilt from its disk at least once.
    recovered: bool,
    in_doubt: Vec<Doubt>,
    locks: Vec<Locks>,
}

impl Default for NodeState {
    fn default() -> Self {
        NodeState {
            up: true,
            down_since: None,
            recovered: false,
            in_doubt: Vec::new(),
            locks: Vec::new(),
        }
    }
}

impl NodeState {
    pub fn is_up(&self) -> bool {
        self.up
    }
    pub fn down_since(&self) -> Option<Time> {
        self.down_since
    }
    /// Whether it crashed and recovered at least once.
    pub fn has_recovered(&self) -> bool {
        self.recovered
    }
    /// Transactions the node is in doubt on, in no particular order.
    pub fn in_doubt(&self) -> &[Doubt] {
        &self.in_doubt
    }
    /// Locks the node holds, in no particular order.
    pub fn locks(&self) -> &[Locks] {
        &self.locks
    }
}

/// A participant still in doubt, and up, when the fault phase ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Blocked {
    pub node: NodeId,
    pub txn: TxnId,
    pub since: Time,
    /// The node had crashed and recovered: it waits for others after its own failure, which
    /// is not blocking in Skeen's crash-stop sense (see [`crate::liveness`]).
    pub after_recovery: bool,
}

/// What the history held when the fault phase ended: what blocking is judged on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultPhaseEnd {
    pub time: Time,
    /// Up nodes in doubt, by node then transaction (recovered ones included, marked).
    pub blocked: Vec<Blocked>,
    /// The failures in force: down nodes and cut links.
    pub waiting_on: WaitingOn,
}

/// The per-transaction and per-node index of a history, fed one fact at a time.
#[derive(Clone, Debug, Default)]
pub struct History {
    txns: Vec<Entry>,
    /// Transactions' node lists too long (or with nodes too large) to sit in their entry.
    spills: Spills,
    /// Every saga's facts, linked from its transaction through `saga_of`.
    sagas: Vec<SagaFacts>,
    saga_of: Links,
    nodes: Vec<NodeState>,
    /// Every open (node, transaction) pair's slot; freed slots are reused.
    slots: Vec<Slot>,
    free: Link,
    /// Every transaction's prepared deltas, linked from the transaction through `deltas_of`
    /// (kept unless the history was told no total is conserved: [`History::from_report`]).
    deltas: Vec<Delta>,
    deltas_of: Links,
    skip_deltas: bool,
    /// Observations pushed so far (a saga fact's position counts observations).
    observed: usize,
    now: Time,
    /// Faults fired, crashes, messages lost or duplicated.
    failures: u64,
    cut: Vec<(NodeId, NodeId)>,
    fault_phase_end: Option<FaultPhaseEnd>,
    liveness_from: Option<Time>,
    saga_run: bool,
    cut_short: Option<CutShort>,
    /// A replicated log's facts (leaders, applied entries, client operations).
    consensus: ConsensusFacts,
    /// Quorum commit: who is connected to a quorum of up processes, since when.
    quorum: QuorumFacts,
}

/// A run a bound cut short ([`Happened::CutShort`]): why, and whether it happened before the
/// fault phase ended (then even blocking, judged at that end, is inconclusive).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CutShort {
    pub reason: String,
    pub in_fault_phase: bool,
}

impl History {
    /// An empty history.
    pub fn new() -> History {
        History::default()
    }

    /// The history of a finished run: every fact of `report`, in order
    /// ([`RunReport::facts`]). Prepared deltas are kept only if the run's workload conserves
    /// a total ([`crate::BankTotals::of`]): conservation, their one reader, judges nothing
    /// else, and at a million transactions they would be the check's largest allocation.
    pub fn from_report(report: &RunReport) -> History {
        let mut h = History::new();
        h.skip_deltas = crate::BankTotals::of(report).is_none();
        if let Some(last) = report.observations.last() {
            h.txn(last.obs.txn()); // ids are dense and grow: one allocation, most of the time
        }
        // Read ahead: at a million transactions the report is in main memory.
        let (mut observed, mut others) = (0, 0);
        for f in report.facts() {
            crate::prefetch::ahead(report, observed, others);
            match f {
                FactRef::Observed(_) => observed += 1,
                FactRef::Other(_) => others += 1,
            }
            h.push_ref(f);
        }
        h
    }

    /// Adds the next fact.
    pub fn push(&mut self, fact: &RunFact) {
        self.record(fact.time, fact.node, &fact.what);
    }

    /// Adds the next fact, borrowed from a report.
    pub fn push_ref(&mut self, fact: FactRef<'_>) {
        match fact {
            FactRef::Observed(o) => {
                self.now = self.now.max(o.time);
                self.observe(o.time, o.node, &o.obs);
            }
            FactRef::Other(f) => self.push(f),
        }
    }

    fn record(&mut self, time: Time, node: NodeId, what: &Happened) {
        self.now = self.now.max(time);
        match what {
            Happened::Observed { obs } => self.observe(time, node, obs),
            Happened::Crashed => {
                self.failures += 1;
                self.crash(node, time);
                self.refresh_quorum(time);
            }
            Happened::Recovered => {
                let n = self.node(node);
                n.up = true;
                n.down_since = None;
                n.recovered = true;
                self.refresh_quorum(time);
            }
            Happened::Prepared { txn, delta } => {
                // Its first prepared record (a repeat is not kept: only whether is read).
                self.txn(*txn);
                let f = &mut self.txns[txn.0 as usize];
                let first = !f.nodes.entries(&self.spills).contains(node, Kind::DurableYes);
                if first {
                    f.nodes.push(&mut self.spills, node, Kind::DurableYes);
                }
                // A zero delta adds nothing: only the bank workload's writes are kept.
                if first && *delta != 0 && !self.skip_deltas {
                    let i = txn.0 as usize;
                    self.deltas.push(Delta { node, delta: *delta, next: self.deltas_of.get(i) });
                    self.deltas_of.set(i, self.deltas.len() as Link);
                }
            }
            Happened::Logged { txn, outcome } => {
                self.add(*txn, node, Kind::Logged(*outcome));
            }
            Happened::FaultFired { .. } | Happened::Lost | Happened::Duplicated => {
                self.failures += 1
            }
            Happened::Cut { links } => {
                self.cut.clone_from(links);
                self.refresh_quorum(time);
            }
            // The fault phase ends once: a repeat changes nothing.
            Happened::FaultPhaseEnded if self.fault_phase_end.is_none() => {
                self.fault_phase_end = Some(self.freeze(time));
                self.quorum.freeze();
            }
            Happened::FaultPhaseEnded => {}
            Happened::LivenessPhaseBegan => {
                self.liveness_from.get_or_insert(time);
                self.cut.clear();
                self.refresh_quorum(time);
            }
            Happened::CutShort { reason } if self.cut_short.is_none() => {
                let in_fault_phase = self.fault_phase_end.is_none();
                self.cut_short = Some(CutShort { reason: reason.clone(), in_fault_phase });
            }
            Happened::CutShort { .. } | Happened::Ended => {}
        }
    }

    fn observe(&mut self, time: Time, node: NodeId, obs: &Observation) {
        let at = self.observed;
        self.observed += 1;
        if obs.is_saga() {
            self.saga_run = true;
        }
        if obs.is_consensus() {
            self.consensus.observe(time, node, obs);
            return;
        }
        let txn = obs.txn();
        let i = txn.0 as usize;
        self.txn(txn);
        match obs {
            Observation::Submitted { participants, .. } => {
                let (f, spills) = (&mut self.txns[i], &mut self.spills);
                f.flags.submit();
                // The last submission's list, as the client gave it.
                f.nodes.remove_all(spills, Kind::Participant);
                for &p in participants {
                    f.nodes.push(spills, p, Kind::Participant);
                }
            }
            Observation::Voted { vote, .. } => {
                self.add(txn, node, Kind::Voted(*vote));
            }
            Observation::Uncertain { .. } => self.open(Open::Doubt, node, txn, time, 0),
            Observation::Decided { outcome, .. } => {
                self.add(txn, node, Kind::Decided(*outcome));
                self.close(Open::Doubt, node, txn);
            }
            Observation::ClientLearned { outcome, .. } => {
                self.txns[i].flags.learn(*outcome);
            }
            Observation::ReportedToClient { outcome, .. } => self.txns[i].flags.report(*outcome),
            Observation::LocksAcquired { keys, .. } => {
                self.open(Open::Locks, node, txn, time, *keys)
            }
            Observation::LocksReleased { .. } => self.close(Open::Locks, node, txn),
            Observation::SagaBegun { .. }
            | Observation::StepApplied { .. }
            | Observation::StepRefused { .. }
            | Observation::CompensationApplied { .. }
            | Observation::SagaEnded { .. } => {
                if self.saga_of.get(i) == 0 {
                    self.sagas.push(SagaFacts::default());
                    self.saga_of.set(i, self.sagas.len() as Link);
                }
                self.sagas[self.saga_of.get(i) as usize - 1].observe(obs, at, node);
            }
            Observation::PreCommitted { .. }
            | Observation::Applied { .. }
            | Observation::AuditRead { .. } => {}
            Observation::QuorumSystem { weights, commit_quorum, abort_quorum, bound_us } => {
                self.quorum.state(QuorumSystem {
                    weights: weights.clone(),
                    commit_quorum: *commit_quorum,
                    abort_quorum: *abort_quorum,
                    bound_us: *bound_us,
                });
                self.refresh_quorum(time);
            }
            // Indexed apart, above.
            Observation::LeaderElected { .. }
            | Observation::LeaderLog { .. }
            | Observation::EntryApplied { .. }
            | Observation::PrimaryBroadcast { .. }
            | Observation::Delivered { .. }
            | Observation::OpInvoked { .. }
            | Observation::OpReturned { .. } => {}
        }
    }

    /// Re-reads who is connected to a quorum (after a crash, recovery, cut or heal).
    fn refresh_quorum(&mut self, time: Time) {
        let nodes = &self.nodes;
        let up = |n: NodeId| nodes.get(n.index()).is_none_or(|s| s.up);
        self.quorum.refresh(time, up, &self.cut);
    }

    /// Quorum commit's connectivity facts (`checkers::quorum`).
    pub fn quorum(&self) -> &QuorumFacts {
        &self.quorum
    }

    /// The entry of `txn`, created (with every id below it) if need be.
    fn txn(&mut self, txn: TxnId) -> &mut Entry {
        let i = txn.0 as usize;
        if i >= self.txns.len() {
            self.txns.resize_with(i + 1, Entry::default);
        }
        &mut self.txns[i]
    }

    /// Adds `node`'s entry of `kind` to `txn`'s list.
    fn add(&mut self, txn: TxnId, node: NodeId, kind: Kind) {
        self.txn(txn);
        self.txns[txn.0 as usize].nodes.push(&mut self.spills, node, kind)
    }

    fn node(&mut self, node: NodeId) -> &mut NodeState {
        let i = node.index();
        if i >= self.nodes.len() {
            self.nodes.resize_with(i + 1, NodeState::default);
        }
        &mut self.nodes[i]
    }

    /// The slot of `txn` open at `node` as `kind`, and the link that points to it.
    fn find(&self, txn: TxnId, node: NodeId, kind: Open) -> Option<(Option<usize>, usize)> {
        let (mut prev, mut link) = (None, self.txns[txn.0 as usize].open);
        while link != 0 {
            let i = link as usize - 1;
            let s = &self.slots[i];
            if s.node == node && s.kind == kind {
                return Some((prev, i));
            }
            (prev, link) = (Some(i), s.next);
        }
        None
    }

    /// Takes slot `i` (reached through `prev`, or the head) out of `txn`'s list and frees it.
    fn unlink(&mut self, txn: TxnId, prev: Option<usize>, i: usize) {
        let next = self.slots[i].next;
        match prev {
            Some(p) => self.slots[p].next = next,
            None => self.txns[txn.0 as usize].open = next,
        }
        self.slots[i].next = self.free;
        self.free = i as Link + 1;
    }

    /// `node` holds `txn` open from `time` (a first report only: a repeat changes nothing).
    fn open(&mut self, kind: Open, node: NodeId, txn: TxnId, time: Time, keys: u32) {
        if self.find(txn, node, kind).is_some() {
            return;
        }
        let n = self.node(node);
        let at = match kind {
            Open::Doubt => {
                n.in_doubt.push(Doubt { txn, since: time });
                n.in_doubt.len() - 1
            }
            Open::Locks => {
                n.locks.push(Locks { txn, keys, since: time });
                n.locks.len() - 1
            }
        } as u32;
        let head = &mut self.txns[txn.0 as usize].open;
        let slot = Slot { node, kind, at, next: *head };
        let i = if self.free == 0 {
            self.slots.push(slot);
            self.slots.len()
        } else {
            let i = self.free as usize - 1;
            self.free = self.slots[i].next;
            self.slots[i] = slot;
            i + 1
        };
        *head = i as Link;
    }

    /// `node` no longer holds `txn` open (if it did).
    fn close(&mut self, kind: Open, node: NodeId, txn: TxnId) {
        let Some((prev, i)) = self.find(txn, node, kind) else { return };
        let at = self.slots[i].at as usize;
        self.unlink(txn, prev, i);
        let n = &mut self.nodes[node.index()];
        let moved = match kind {
            Open::Doubt => {
                n.in_doubt.swap_remove(at);
                n.in_doubt.get(at).map(|d| d.txn)
            }
            Open::Locks => {
                n.locks.swap_remove(at);
                n.locks.get(at).map(|l| l.txn)
            }
        };
        if let Some(m) = moved {
            let (_, j) = self.find(m, node, kind).expect("an open entry has a slot");
            self.slots[j].at = at as u32;
        }
    }

    /// A crash: the node is down and holds nothing open.
    fn crash(&mut self, node: NodeId, time: Time) {
        self.consensus.crash(node);
        let n = self.node(node);
        n.up = false;
        n.down_since = Some(time);
        let doubts = std::mem::take(&mut n.in_doubt);
        let locks = std::mem::take(&mut n.locks);
        let open = doubts.iter().map(|d| (d.txn, Open::Doubt));
        for (txn, kind) in open.chain(locks.iter().map(|l| (l.txn, Open::Locks))) {
            let (prev, i) = self.find(txn, node, kind).expect("an open entry has a slot");
            self.unlink(txn, prev, i);
        }
        // Keep the buffers: a recovered node fills them again.
        let n = &mut self.nodes[node.index()];
        n.in_doubt = doubts;
        n.in_doubt.clear();
        n.locks = locks;
        n.locks.clear();
    }

    /// What blocking is judged on, now.
    fn freeze(&self, time: Time) -> FaultPhaseEnd {
        let mut blocked = Vec::new();
        for (i, n) in self.nodes.iter().enumerate().filter(|(_, n)| n.up) {
            let node = NodeId(i as u32);
            let start = blocked.len();
            let after_recovery = n.recovered;
            blocked.extend(n.in_doubt.iter().map(|d| Blocked {
                node,
                txn: d.txn,
                since: d.since,
                after_recovery,
            }));
            blocked[start..].sort_unstable_by_key(|b| b.txn);
        }
        FaultPhaseEnd { time, blocked, waiting_on: self.waiting_on() }
    }

    // ----- reading the history ---------------------------------------------------------------

    /// The facts about `txn`, if anything was recorded.
    pub fn facts(&self, txn: TxnId) -> Option<TxnFacts<'_>> {
        let i = txn.0 as usize;
        self.txns.get(i).map(|e| self.view(i, e))
    }

    fn view<'a>(&'a self, index: usize, entry: &'a Entry) -> TxnFacts<'a> {
        let saga = (self.saga_of.get(index) as usize).checked_sub(1).map(|i| &self.sagas[i]);
        TxnFacts { entry, index, nodes: entry.nodes.entries(&self.spills), saga }
    }

    /// Every transaction anything was recorded about, in id order.
    pub fn txns(&self) -> impl Iterator<Item = (TxnId, TxnFacts<'_>)> {
        self.all_txns().filter(|(_, f)| f.recorded())
    }

    /// Per node that prepared `f`, what committing it adds to the node's total (its first
    /// prepared record's writes; nodes whose writes add nothing are left out).
    pub fn prepared_deltas<'a>(&'a self, f: &TxnFacts) -> impl Iterator<Item = (NodeId, i64)> + 'a {
        let mut link = self.deltas_of.get(f.index);
        std::iter::from_fn(move || {
            let d = self.deltas.get((link as usize).checked_sub(1)?)?;
            link = d.next;
            Some((d.node, d.delta))
        })
    }

    /// Every entry of the index, in id order (empty ones included).
    pub(crate) fn all_txns(&self) -> impl Iterator<Item = (TxnId, TxnFacts<'_>)> {
        self.txns.iter().enumerate().map(|(i, e)| (TxnId(i as u64), self.view(i, e)))
    }

    /// `node` right now (a node no fact named is up and holds nothing).
    pub fn node_state(&self, node: NodeId) -> NodeState {
        self.nodes.get(node.index()).cloned().unwrap_or_default()
    }

    pub fn is_up(&self, node: NodeId) -> bool {
        self.nodes.get(node.index()).is_none_or(|n| n.up)
    }

    /// Transactions `node` is in doubt on right now, ascending.
    pub fn in_doubt(&self, node: NodeId) -> Vec<TxnId> {
        let mut v: Vec<TxnId> = self
            .nodes
            .get(node.index())
            .map(|n| n.in_doubt.iter().map(|d| d.txn).collect())
            .unwrap_or_default();
        v.sort_unstable();
        v
    }

    /// Locks `node` holds right now, by transaction.
    pub fn locks(&self, node: NodeId) -> Vec<Locks> {
        let mut v: Vec<Locks> =
            self.nodes.get(node.index()).map(|n| n.locks.clone()).unwrap_or_default();
        v.sort_unstable_by_key(|l| l.txn);
        v
    }

    /// The nodes in doubt on `txn` right now, ascending.
    pub fn in_doubt_on(&self, txn: TxnId) -> Vec<NodeId> {
        let mut v = Vec::new();
        let mut link = self.txns.get(txn.0 as usize).map_or(0, |f| f.open);
        while link != 0 {
            let s = &self.slots[link as usize - 1];
            if s.kind == Open::Doubt {
                v.push(s.node);
            }
            link = s.next;
        }
        v.sort_unstable();
        v
    }

    /// Whether any node is in doubt on anything right now.
    pub fn anyone_in_doubt(&self) -> bool {
        self.nodes.iter().any(|n| !n.in_doubt.is_empty())
    }

    /// Down nodes and cut links right now: what an undecided node waits on.
    pub fn waiting_on(&self) -> WaitingOn {
        WaitingOn {
            down: (self.nodes.iter().enumerate())
                .filter(|(_, n)| !n.up)
                .map(|(i, _)| NodeId(i as u32))
                .collect(),
            cut_links: self.cut.clone(),
        }
    }

    /// The time of the latest fact.
    pub fn now(&self) -> Time {
        self.now
    }

    /// Whether no failure happened so far: no fault fired, no crash, no message lost or
    /// duplicated.
    pub fn failure_free(&self) -> bool {
        self.failures == 0
    }

    /// What the history held when the fault phase ended (None: it has not ended yet).
    pub fn fault_phase_end(&self) -> Option<&FaultPhaseEnd> {
        self.fault_phase_end.as_ref()
    }

    /// Whether the liveness phase has begun.
    pub fn liveness_phase(&self) -> bool {
        self.liveness_from.is_some()
    }

    /// A replicated log's facts (empty unless a consensus family ran).
    pub fn consensus(&self) -> &ConsensusFacts {
        &self.consensus
    }

    /// Whether a bound cut the run short, and why (None: it ran its course so far).
    pub fn cut_short(&self) -> Option<&CutShort> {
        self.cut_short.as_ref()
    }

    /// Whether some node reported a saga fact.
    pub fn is_saga_run(&self) -> bool {
        self.saga_run
    }

    /// Observations pushed so far.
    pub fn observations(&self) -> usize {
        self.observed
    }
}
