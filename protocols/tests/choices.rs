//! Choices are events: the same 2PC nodes that `run` drives, stepped through a `World` by a
//! scheduler that decides their choices itself. A participant's vote and the client's draw
//! of a transaction are offered as choices (with how many options each has), so an explorer
//! can branch over them; forcing the vote to "no" makes the participant vote no.

use protocols::scenario::CommitProtocol;
use protocols::shared::Shared;
use protocols::timing::Timing;
use protocols::two_pc::{Msg, Presumption, Shape, TwoPc, TwoPcConfig};
use protocols::{Layout, Observation, Scenario, Vote};
use sim_core::{Event, FaultPlan, NodeId, SimConfig, Steering, TraceLevel, World};

fn world() -> World<TwoPc, protocols::two_pc::Node> {
    let s = Scenario::new("2pc", 2, 1, 7);
    let timing = Timing::from_bound(10_000, true);
    let config = Shared::new(TwoPcConfig {
        layout: Layout::new(2),
        presumption: Presumption::Nothing,
        cooperative_termination: true,
        broken: None,
        shape: Shape::Classic,
        execution_phase: false,
        timing,
        votes: s.votes.clone(),
        client: s.client_config(&timing),
    });
    let sim = SimConfig::new(4, 7).with_trace(TraceLevel::Full);
    World::new(sim, FaultPlan::none(), move |id, boot| TwoPc::build(&config, id, boot)).unwrap()
}

/// Delivers the first in-flight message matching `pick`, forcing `choices`.
fn deliver(
    w: &mut World<TwoPc, protocols::two_pc::Node>,
    pick: impl Fn(&Msg) -> bool,
    choices: &[usize],
) -> sim_core::Outcome {
    let id = w.in_flight().iter().find(|e| pick(&e.msg)).expect("such a message in flight").id;
    w.apply(&Event::Deliver { id }, Steering { choices, crash_after_effects: None }).unwrap()
}

#[test]
fn a_participants_vote_is_a_choice_an_explorer_can_force() {
    let mut w = world();
    // The client drew its transaction at start: spread workload, one key per participant.
    assert_eq!(w.in_flight().len(), 1, "the client's request is in flight");
    deliver(&mut w, |m| matches!(m, Msg::Client(_)), &[]);
    let prepare = |m: &Msg| matches!(m, Msg::Prepare { .. });
    // Participant 1 votes as the explorer says: option 1 of [yes, no].
    let step = deliver(&mut w, prepare, &[1]);
    assert_eq!(step.choices.len(), 1, "{:?}", step.choices);
    assert_eq!((step.choices[0].label, step.choices[0].options), ("vote", 2));
    let voted: Vec<Vote> = w
        .trace()
        .observations()
        .iter()
        .filter_map(|o| match o.obs {
            Observation::Voted { vote, .. } => Some(vote),
            _ => None,
        })
        .collect();
    assert_eq!(voted, [Vote::No]);
    // The other participant's vote defaults to option 0: yes.
    deliver(&mut w, prepare, &[]);
    let yes = w.trace().observations().iter().any(|o| {
        o.node == NodeId(2) && matches!(o.obs, Observation::Voted { vote: Vote::Yes, .. })
    });
    assert!(yes, "unsteered, the second participant votes yes");
}

#[test]
fn a_workloads_draw_is_made_of_choices() {
    use protocols::workload::Workload;
    let layout = Layout::new(3);
    let bank = Workload::bank();
    // What the choices are: labels and option counts, in draw order.
    let mut asked = Vec::new();
    let first = bank.choose(layout, protocols::TxnId(1), &mut |label, n, _| {
        asked.push((label, n));
        0
    });
    assert_eq!(asked, [("from", 3), ("to", 2), ("amount", 100), ("key", 4), ("key", 4)]);
    assert_eq!(first.writes[0].node, NodeId(1));
    assert_eq!(first.writes[0].delta, -1);
    // Forcing other options gives other transactions.
    let mut forced = [2usize, 1, 41, 3, 0].into_iter();
    let other = bank.choose(layout, protocols::TxnId(1), &mut |_, _, _| forced.next().unwrap());
    assert_eq!((other.writes[0].node, other.writes[1].node), (NodeId(3), NodeId(2)));
    assert_eq!((other.writes[0].delta, other.writes[0].key), (-42, 3));
    // The runner draws each choice from the client's stream exactly as before choices were
    // explicit: the pinned trace hashes of the regression corpus (tests/regressions) hold.
}
