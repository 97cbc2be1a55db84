//! Drawing a counterexample the way `check` draws its runs: Mermaid and SVG space-time
//! diagrams of the path's full trace.
//!
//! A search keeps no trace (a `full` trace cloned at every branch would dominate its cost),
//! so the path is applied again, one [`World::apply`] per step, to a world the model built
//! with a full trace ([`Drawing::init`]), and drawn with the same renderers
//! (`crate::export`) a timed run's trace is drawn with. An explorer's world has no clock;
//! the replay moves it [`STEP_US`] forward before each step, so step k is drawn at k ms and
//! the SVG's time axis spreads the steps instead of piling them at zero.

use crate::export::{mermaid, svg};
use crate::id::NodeId;
use crate::process::{Process, Protocol};
use crate::time::Time;
use crate::world::World;

use super::path::apply_step;

/// The drawing's clock: one step per millisecond (see the module docs).
pub const STEP_US: u64 = 1_000;

/// How a model's counterexamples are drawn: a world like [`Model::init`](super::Model)'s but
/// with a full trace, and the names of its nodes in the diagrams.
pub struct Drawing<P: Protocol, N> {
    pub init: Box<dyn Fn() -> World<P, N> + Send + Sync>,
    pub names: Box<dyn Fn(NodeId) -> String + Send + Sync>,
}

/// A counterexample's pictures: a Mermaid `sequenceDiagram` and an SVG space-time diagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagrams {
    pub mermaid: String,
    pub svg: String,
}

/// Lines of Mermaid at most (as `check`'s counterexamples): longer paths are cut with a note.
const MERMAID_LINES: usize = 60;
/// The SVG time axis's height at most, in pixels (as `check`'s).
const SVG_HEIGHT_PX: u32 = 1600;

/// Applies `steps` (as a counterexample stores them) to `drawing`'s world and draws its
/// trace. An unparsable step, or one not enabled where it is applied, is an error naming it.
pub fn draw<P, N>(drawing: &Drawing<P, N>, steps: &[String]) -> Result<Diagrams, String>
where
    P: Protocol,
    N: Process<P> + Clone,
    P::Timer: serde::de::DeserializeOwned,
{
    let mut world = (drawing.init)();
    for (i, text) in steps.iter().enumerate() {
        world.advance_to(Time::from_us((i as u64 + 1) * STEP_US));
        if apply_step(&mut world, i, text)?.is_some() {
            break; // a handler panicked: the path ends at the half-applied world
        }
    }
    let events = world.trace().events_vec();
    let nodes = world.node_count();
    let names = |id: NodeId| (drawing.names)(id);
    let opts = mermaid::MermaidOptions { max_lines: MERMAID_LINES, ..Default::default() };
    Ok(Diagrams {
        mermaid: mermaid::render(&events, nodes, &names, opts),
        svg: svg::render(&events, nodes, &names, SVG_HEIGHT_PX),
    })
}
