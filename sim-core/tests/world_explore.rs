//! A second scheduler over the same world, to prove the seam: a tiny protocol explored
//! exhaustively by a breadth-first search written here, over `World::enabled`, `apply` and
//! `fingerprint` (one cloned world per branch), with the state count worked out by hand.

use std::collections::{BTreeSet, VecDeque};

use rand::RngExt;
use serde::{Deserialize, Serialize};
use sim_core::{
    Action, Boot, Context, Duration, Event, FaultPlan, NodeId, Process, Protocol, SimConfig,
    Simulation, Steering, StepError, Time, TraceKind, TraceLevel, World,
};

// ----- the protocol: one coordinator asks one voter, with a retry timer ----------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
enum Msg {
    Ping,
    Vote(bool),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
enum Timer {
    Retry,
}

#[derive(Clone, Debug, PartialEq, Hash)]
struct Poll;

impl Protocol for Poll {
    type Msg = Msg;
    type Timer = Timer;
    type Record = bool;
    type Obs = bool;
}

const COORD: NodeId = NodeId(0);
const VOTER: NodeId = NodeId(1);

/// The coordinator pings the voter and arms `Retry`; if `Retry` fires undecided it pings once
/// more. The first vote it receives decides (and cancels `Retry`); later votes are ignored.
/// The voter chooses its vote on the first ping (persist, send, mark: three effects) and
/// repeats it on later pings (one effect).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Node {
    Coord {
        decided: Option<bool>,
        retries: u8,
    },
    Voter {
        voted: Option<bool>,
        /// Draw the vote through `choose` (else straight from the node's stream).
        via_choose: bool,
    },
}

impl Process<Poll> for Node {
    fn on_start(&mut self, ctx: &mut Context<'_, Poll>) {
        if let Node::Coord { .. } = self {
            ctx.send(VOTER, Msg::Ping);
            ctx.set_timer(Duration::from_ms(10), Timer::Retry);
        }
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Poll>, from: NodeId, msg: Msg) {
        match (self, msg) {
            (Node::Voter { voted, via_choose }, Msg::Ping) => {
                let vote = match *voted {
                    Some(v) => v,
                    None => {
                        let options = [true, false];
                        let v = if *via_choose {
                            ctx.choose("vote", &options, |rng| rng.random_range(0..2usize))
                        } else {
                            options[ctx.rng().random_range(0..2usize)]
                        };
                        *voted = Some(v);
                        ctx.persist(v);
                        ctx.send(from, Msg::Vote(v));
                        ctx.mark("voted");
                        return;
                    }
                };
                ctx.send(from, Msg::Vote(vote));
            }
            (Node::Coord { decided, .. }, Msg::Vote(v)) => {
                if decided.is_none() {
                    *decided = Some(v);
                    ctx.cancel_timer(Timer::Retry);
                    ctx.observe(v);
                }
            }
            (_, msg) => unreachable!("unexpected {msg:?}"),
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Poll>, _timer: Timer) {
        if let Node::Coord { decided: None, retries } = self
            && *retries > 0
        {
            *retries -= 1;
            ctx.send(VOTER, Msg::Ping);
        }
    }
}

fn factory(via_choose: bool) -> impl Fn(NodeId, Boot<'_, bool>) -> Node + 'static {
    move |id, boot| {
        if id == COORD {
            Node::Coord { decided: None, retries: 1 }
        } else {
            Node::Voter { voted: boot.disk().last().copied(), via_choose }
        }
    }
}

fn config(seed: u64) -> SimConfig {
    SimConfig::new(2, seed).with_trace(TraceLevel::Full)
}

fn world() -> World<Poll, Node> {
    World::new(config(1), FaultPlan::none(), factory(true)).expect("valid config")
}

fn enabled(w: &World<Poll, Node>) -> Vec<Event<Timer>> {
    let mut out = Vec::new();
    w.enabled(&mut out);
    out
}

// ----- the explorer -----------------------------------------------------------------------------

/// Every world one event leads to, one per way of answering the handler's choices: run with
/// a prefix of forced choices, learn the choice points past it (they took option 0), and
/// branch on their other options.
fn successors(w: &World<Poll, Node>, ev: &Event<Timer>) -> Vec<World<Poll, Node>> {
    let mut out = Vec::new();
    let mut prefixes = vec![Vec::new()];
    while let Some(prefix) = prefixes.pop() {
        let mut next = w.clone();
        let steering = Steering { choices: &prefix, ..Steering::default() };
        let outcome = next.apply(ev, steering).expect("listed as enabled");
        for k in prefix.len()..outcome.choices.len() {
            for alt in 1..outcome.choices[k].options {
                let mut p: Vec<usize> = outcome.choices[..k].iter().map(|c| c.taken).collect();
                p.push(alt);
                prefixes.push(p);
            }
        }
        out.push(next);
    }
    out
}

struct Explored {
    distinct: usize,
    terminal: Vec<World<Poll, Node>>,
}

fn explore(init: World<Poll, Node>) -> Explored {
    let mut seen = BTreeSet::from([init.fingerprint()]);
    let mut frontier = VecDeque::from([init]);
    let mut terminal = Vec::new();
    while let Some(w) = frontier.pop_front() {
        let events = enabled(&w);
        if events.is_empty() {
            terminal.push(w);
            continue;
        }
        for ev in &events {
            for next in successors(&w, ev) {
                if seen.insert(next.fingerprint()) {
                    frontier.push_back(next);
                }
            }
        }
    }
    Explored { distinct: seen.len(), terminal }
}

#[test]
fn breadth_first_search_finds_the_states_counted_by_hand() {
    // A state is (coordinator decided/retries, Retry armed, voter's vote, messages in
    // flight). From S0 = (none/1, armed, none, {Ping}):
    //   S0 -> S1(v) deliver Ping, vote v | S2 fire Retry = (none/0, -, none, {Ping, Ping})
    //   S1(v) = (none/1, armed, v, {Vote v})  -> A(v) deliver Vote | B(v) fire Retry
    //   S2 -> B(v) deliver either Ping, vote v
    //   A(v) = (v/1, -, v, {})                   terminal
    //   B(v) = (none/0, -, v, {Vote v, Ping})    -> C(v) deliver Vote | D(v) deliver Ping
    //   C(v) = (v/0, -, v, {Ping})               -> E(v)
    //   D(v) = (none/0, -, v, {Vote v, Vote v})  -> E(v)
    //   E(v) = (v/0, -, v, {Vote v})             -> F(v) (the late vote is ignored)
    //   F(v) = (v/0, -, v, {})                   terminal
    // S0, S2, and S1..F for each of the two votes: 2 + 2 * 7 = 16 states, 4 of them terminal.
    let explored = explore(world());
    assert_eq!(explored.distinct, 16);
    assert_eq!(explored.terminal.len(), 4);
    let mut decisions: Vec<(Option<bool>, u8)> = explored
        .terminal
        .iter()
        .map(|w| match w.node(COORD) {
            Some(Node::Coord { decided, retries }) => (*decided, *retries),
            _ => unreachable!(),
        })
        .collect();
    decisions.sort();
    assert_eq!(
        decisions,
        vec![(Some(false), 0), (Some(false), 1), (Some(true), 0), (Some(true), 1)]
    );
}

#[test]
fn the_initial_fingerprint_is_stable() {
    // Pins the fingerprint function and what it covers: a change here is a change of every
    // explorer's state identities.
    let w = world();
    assert_eq!(w.fingerprint(), w.clone().fingerprint());
    assert_eq!(w.fingerprint(), 0x800a_87ba_48ce_3109, "{:#x}", w.fingerprint());
}

#[test]
fn cloning_a_world_and_applying_the_same_event_gives_equal_worlds() {
    let w = world();
    for ev in enabled(&w) {
        for choice in [0, 1] {
            let (mut a, mut b) = (w.clone(), w.clone());
            let steering = Steering { choices: &[choice], ..Steering::default() };
            let oa = a.apply(&ev, steering).unwrap();
            let ob = b.apply(&ev, steering).unwrap();
            assert_eq!(oa, ob);
            assert_eq!(a.fingerprint(), b.fingerprint());
            assert!(a == b);
            assert_eq!(a.trace_hash(), b.trace_hash(), "same step, same trace");
            assert_ne!(a.fingerprint(), w.fingerprint(), "{ev:?} changed the state");
        }
    }
}

/// An explorer copies each state into a recycled world (`clone_from`, which reuses the
/// recycled world's buffers): the copy must be the source whatever the recycled world held
/// (a node down, a disk record, other timers and messages), down to its future.
#[test]
fn a_world_copied_into_another_is_the_source() {
    let w = world();
    // A richer world: the voter voted (disk record, vote in flight), then crashed.
    let mut rich = w.clone();
    let ping = enabled(&rich).into_iter().find(|e| matches!(e, Event::Deliver { .. })).unwrap();
    rich.apply(&ping, Steering { choices: &[1], ..Steering::default() }).unwrap();
    rich.apply(&Event::Crash { node: VOTER }, Steering::default()).unwrap();
    assert!(!rich.is_up(VOTER) && !rich.disk(VOTER).records().is_empty());
    for (source, recycled) in [(&w, rich.clone()), (&rich, w.clone())] {
        let mut copy = recycled;
        copy.clone_from(source);
        assert_eq!(copy.fingerprint(), source.fingerprint());
        assert_eq!(copy.trace_hash(), source.trace_hash());
        assert_eq!(copy.stats(), source.stats());
        assert_eq!(enabled(&copy), enabled(source));
        assert_eq!(
            copy.armed_timers(COORD).collect::<Vec<_>>(),
            source.armed_timers(COORD).collect::<Vec<_>>()
        );
        for ev in enabled(source) {
            let (mut a, mut b) = (source.clone(), copy.clone());
            let oa = a.apply(&ev, Steering::default()).unwrap();
            let ob = b.apply(&ev, Steering::default()).unwrap();
            assert_eq!(oa, ob);
            assert_eq!((a.fingerprint(), a.trace_hash()), (b.fingerprint(), b.trace_hash()));
        }
    }
}

#[test]
fn the_fingerprint_ignores_message_ids_and_send_order() {
    let retry = Event::Timer { node: COORD, timer: Timer::Retry };
    let yes = Steering { choices: &[0], ..Steering::default() };
    // Vote first, then the retried Ping.
    let mut a = world();
    a.apply(&Event::Deliver { id: 1 }, yes).unwrap();
    a.apply(&retry, Steering::default()).unwrap();
    // The retried Ping first, then the vote on the original one.
    let mut b = world();
    b.apply(&retry, Steering::default()).unwrap();
    b.apply(&Event::Deliver { id: 1 }, yes).unwrap();
    let flight = |w: &World<Poll, Node>| -> Vec<(u64, Msg)> {
        w.in_flight().iter().map(|e| (e.id, e.msg)).collect()
    };
    assert_eq!(flight(&a), vec![(2, Msg::Vote(true)), (3, Msg::Ping)]);
    assert_eq!(flight(&b), vec![(2, Msg::Ping), (3, Msg::Vote(true))]);
    assert_eq!(a.fingerprint(), b.fingerprint(), "one multiset of messages, one state");
    assert_ne!(a.trace_hash(), b.trace_hash(), "two different paths to it");
}

#[test]
fn a_crash_after_the_kth_effect_leaves_exactly_the_first_k_applied() {
    let deliver = Event::Deliver { id: 1 };
    let outcome = world().apply(&deliver, Steering::default()).unwrap();
    assert_eq!((outcome.handler, outcome.effects), (Some(VOTER), 3), "persist, send, mark");
    for k in 0..=3u32 {
        let mut w = world();
        let steering = Steering { choices: &[1], crash_after_effects: Some(k) };
        let outcome = w.apply(&deliver, steering).unwrap();
        assert_eq!(outcome.choices.len(), 1, "the vote was chosen before the effects");
        assert!(!w.is_up(VOTER), "k = {k}");
        assert_eq!(w.disk(VOTER).records(), if k >= 1 { &[false][..] } else { &[] }, "k = {k}");
        let votes = w.in_flight().iter().filter(|e| e.msg == Msg::Vote(false)).count();
        assert_eq!(votes, (k >= 2) as usize, "k = {k}");
        let events: Vec<_> = w.trace().events().collect();
        let marked = events.iter().any(|e| matches!(&e.kind, TraceKind::Mark { .. }));
        assert_eq!(marked, k >= 3, "k = {k}");
        let last = events.last().unwrap();
        assert_eq!((last.node, &last.kind), (VOTER, &TraceKind::Crash { cut: 3 - k }), "k = {k}");
        // The crashed voter recovers from its disk: with the vote persisted, it remembers it.
        w.apply(&Event::Recover { node: VOTER }, Steering::default()).unwrap();
        let voted = match w.node(VOTER) {
            Some(Node::Voter { voted, .. }) => *voted,
            _ => unreachable!(),
        };
        assert_eq!(voted, if k >= 1 { Some(false) } else { None }, "k = {k}");
    }
}

#[test]
fn the_explorer_learns_each_choice_and_its_options() {
    let mut w = world();
    let outcome = w.apply(&Event::Deliver { id: 1 }, Steering::default()).unwrap();
    let c = &outcome.choices[..];
    assert_eq!(c.len(), 1);
    assert_eq!((c[0].node, c[0].label, c[0].options, c[0].taken), (VOTER, "vote", 2, 0));
    let mut w = world();
    let steering = Steering { choices: &[1], ..Steering::default() };
    assert_eq!(w.apply(&Event::Deliver { id: 1 }, steering).unwrap().choices[0].taken, 1);
    assert_eq!(w.in_flight()[0].msg, Msg::Vote(false));
}

#[test]
fn under_the_runner_choose_is_the_nodes_own_draw() {
    // A voter that draws through `choose` and one that draws from its stream directly run
    // identically: same trace hash for every seed, and both votes occur across seeds.
    let mut votes = BTreeSet::new();
    for seed in 0..16 {
        let run = |via_choose: bool| {
            let mut sim: Simulation<Poll, Node> =
                Simulation::new(config(seed), FaultPlan::none(), factory(via_choose)).unwrap();
            sim.run_to_quiescence();
            let vote = match sim.node(VOTER) {
                Some(Node::Voter { voted, .. }) => *voted,
                _ => unreachable!(),
            };
            (sim.trace_hash(), vote)
        };
        let (with_choose, vote) = run(true);
        assert_eq!((with_choose, vote), run(false), "seed {seed}");
        votes.insert(vote);
    }
    assert_eq!(votes, BTreeSet::from([Some(false), Some(true)]));
}

#[test]
fn the_runner_hands_its_world_to_an_explorer() {
    // Before any delivery, the runner's world (its queued Ping turned into an in-flight
    // message) is the explorer's initial state, and explores to the same 16 states.
    let mut sim: Simulation<Poll, Node> =
        Simulation::new(config(1), FaultPlan::none(), factory(true)).unwrap();
    sim.run_until(Time::from_us(500));
    assert_eq!(sim.pending_events(), 2, "the Ping and the Retry timer");
    let handed = sim.into_world();
    assert_eq!(handed.fingerprint(), world().fingerprint());
    assert_eq!(enabled(&handed), enabled(&world()));
    assert_eq!(explore(handed).distinct, 16);
}

#[test]
fn fault_events_are_offered_by_the_scheduler() {
    let w = world();
    // Duplicate the Ping: two copies in flight, one delivery listed (a duplicate shares its id).
    let mut dup = w.clone();
    dup.apply(&Event::Duplicate { id: 1 }, Steering::default()).unwrap();
    assert_eq!(dup.in_flight().len(), 2);
    assert_ne!(dup.fingerprint(), w.fingerprint());
    let delivers = enabled(&dup).iter().filter(|e| matches!(e, Event::Deliver { .. })).count();
    assert_eq!(delivers, 1);
    // Drop it: nothing left in flight; the retry timer is all that is enabled.
    let mut lost = w.clone();
    lost.apply(&Event::Drop { id: 1 }, Steering::default()).unwrap();
    assert_eq!(enabled(&lost), vec![Event::Timer { node: COORD, timer: Timer::Retry }]);
    assert_eq!(lost.stats().dropped_loss, 1);
    // Crash the coordinator: its timer goes; crashing it again is not enabled.
    let mut crashed = w.clone();
    crashed.apply(&Event::Crash { node: COORD }, Steering::default()).unwrap();
    assert_eq!(enabled(&crashed), vec![Event::Deliver { id: 1 }]);
    let again = crashed.apply(&Event::Crash { node: COORD }, Steering::default());
    assert_eq!(again, Err(StepError::NotEnabled));
    // End the fault phase: the coordinator recovers (and pings again); no more faults.
    let mut settled = crashed.clone();
    settled.apply(&Event::LivenessPhase, Steering::default()).unwrap();
    assert!(settled.is_up(COORD) && settled.in_liveness_phase());
    assert_eq!(settled.in_flight().len(), 2, "the first Ping and the recovered one's");
    for ev in [Event::Crash { node: VOTER }, Event::Drop { id: 1 }, Event::LivenessPhase] {
        assert_eq!(settled.clone().apply(&ev, Steering::default()), Err(StepError::NotEnabled));
    }
    // Partition the two: the Ping is dropped on delivery, as in a timed run.
    let mut cut = w.clone();
    let groups = vec![vec![COORD], vec![VOTER]];
    cut.apply(&Event::Act { action: Action::Partition { groups } }, Steering::default()).unwrap();
    cut.apply(&Event::Deliver { id: 1 }, Steering::default()).unwrap();
    assert_eq!((cut.stats().dropped_cut, cut.node(VOTER)), (1, w.node(VOTER)));
    // Bad input is a typed error, not a panic; an absent message is not enabled.
    let bad = Event::Act { action: Action::Crash { node: NodeId(9), recover_after_us: None } };
    assert!(matches!(w.clone().apply(&bad, Steering::default()), Err(StepError::Invalid(_))));
    let ghost = w.clone().apply(&Event::Deliver { id: 42 }, Steering::default());
    assert_eq!(ghost, Err(StepError::NotEnabled));
}
