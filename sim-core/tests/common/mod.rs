//! A small laboratory protocol for engine tests: its nodes follow a per-node script, so each
//! test can make the engine do exactly what it wants to observe.

#![allow(dead_code)] // each test binary uses a different part of the lab

use std::cell::RefCell;
use std::rc::Rc;

use rand::RngExt;
use serde::{Deserialize, Serialize};
use sim_core::{
    Boot, Context, Duration, FaultPlan, NodeId, Process, Protocol, SimConfig, Simulation,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Msg {
    Data(u64),
    Ping(u64),
    Pong(u64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Timer {
    Tick(u32),
    Gossip,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Obs {
    Got {
        from: NodeId,
        msg: Msg,
    },
    Fired(Timer),
    /// Reported by `on_start`: how many disk records the node was rebuilt from.
    Booted {
        from_disk: usize,
    },
}

#[derive(Clone, Debug, PartialEq, Hash)]
pub struct Lab;

impl Protocol for Lab {
    type Msg = Msg;
    type Timer = Timer;
    type Record = u64;
    type Obs = Obs;
}

/// One step of a node's start script, applied as effects in order.
#[derive(Clone, Debug)]
pub enum Step {
    Send(u32, Msg),
    /// `count` Data messages to `to`, numbered from 0.
    Burst {
        to: u32,
        count: u64,
    },
    Persist(u64),
    Mark(&'static str),
    SetTimer(u64, Timer),
    CancelTimer(Timer),
}

/// What every node does. `script[i]` runs in node i's `on_start` (also after recovery).
#[derive(Clone, Debug, Default)]
pub struct Script {
    pub on_start: Vec<Vec<Step>>,
    /// Timers re-arm themselves with this period while the tick number is below `ticks`.
    pub tick_period_us: u64,
    pub ticks: u32,
    /// On each tick, node sends `Ping(tick)` to these nodes and emits mark "tick".
    pub ping_on_tick: Vec<Vec<u32>>,
    /// Gossip: on start and on each Gossip timer, send Data(random) to a random peer and
    /// re-arm after a random delay, `gossip_rounds` times. Exercises every RNG stream.
    pub gossip_rounds: u32,
    /// Persist every Data value received.
    pub persist_data: bool,
}

pub struct LabNode {
    id: NodeId,
    script: Rc<Script>,
    /// Volatile: lost on crash.
    pub received: u64,
    pub from_disk: usize,
    gossip_left: u32,
}

impl Process<Lab> for LabNode {
    fn on_start(&mut self, ctx: &mut Context<'_, Lab>) {
        ctx.observe(Obs::Booted { from_disk: self.from_disk });
        let steps = self.script.on_start.get(self.id.index()).cloned().unwrap_or_default();
        for step in steps {
            match step {
                Step::Send(to, m) => ctx.send(NodeId(to), m),
                Step::Burst { to, count } => {
                    for i in 0..count {
                        ctx.send(NodeId(to), Msg::Data(i));
                    }
                }
                Step::Persist(r) => ctx.persist(r),
                Step::Mark(m) => ctx.mark(m),
                Step::SetTimer(after, t) => ctx.set_timer(Duration::from_us(after), t),
                Step::CancelTimer(t) => ctx.cancel_timer(t),
            }
        }
        if self.script.gossip_rounds > 0 {
            self.gossip(ctx);
        }
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Lab>, from: NodeId, msg: Msg) {
        self.received += 1;
        ctx.observe(Obs::Got { from, msg });
        match msg {
            Msg::Ping(n) => ctx.send(from, Msg::Pong(n)),
            Msg::Data(v) if self.script.persist_data => ctx.persist(v),
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Lab>, timer: Timer) {
        ctx.observe(Obs::Fired(timer));
        match timer {
            Timer::Tick(n) => {
                ctx.mark("tick");
                if let Some(peers) = self.script.ping_on_tick.get(self.id.index()) {
                    for &p in peers {
                        ctx.send(NodeId(p), Msg::Ping(n as u64));
                    }
                }
                if n + 1 < self.script.ticks {
                    ctx.set_timer(
                        Duration::from_us(self.script.tick_period_us),
                        Timer::Tick(n + 1),
                    );
                }
            }
            Timer::Gossip => self.gossip(ctx),
        }
    }
}

impl LabNode {
    fn gossip(&mut self, ctx: &mut Context<'_, Lab>) {
        if self.gossip_left == 0 {
            return;
        }
        self.gossip_left -= 1;
        let n = ctx.nodes();
        let peer = ctx.rng().random_range(0..n);
        let value = ctx.rng().random_range(0..1_000_000u64);
        let delay_us = ctx.rng().random_range(100..5_000u64);
        ctx.send(NodeId(peer), Msg::Data(value));
        ctx.set_timer(Duration::from_us(delay_us), Timer::Gossip);
    }
}

/// Every time the factory ran: (node, disk records it was given, was it a recovery).
pub type BootLog = Rc<RefCell<Vec<(NodeId, usize, bool)>>>;

pub fn lab(
    config: SimConfig,
    plan: FaultPlan,
    script: Script,
) -> (Simulation<Lab, LabNode>, BootLog) {
    try_lab(config, plan, script).expect("valid lab config")
}

pub fn try_lab(
    config: SimConfig,
    plan: FaultPlan,
    script: Script,
) -> Result<(Simulation<Lab, LabNode>, BootLog), sim_core::SimError> {
    try_lab_tapped(config, plan, script, None)
}

/// As [`lab`], with `tap` watching the run.
pub fn lab_tapped(
    config: SimConfig,
    plan: FaultPlan,
    script: Script,
    tap: Box<dyn sim_core::Tap<Lab>>,
) -> Simulation<Lab, LabNode> {
    try_lab_tapped(config, plan, script, Some(tap)).expect("valid lab config").0
}

/// The lab's nodes, for the runner or a world driven step by step; `log` records each boot.
pub fn lab_factory(script: Script, log: BootLog) -> impl Fn(NodeId, Boot<'_, u64>) -> LabNode {
    let script = Rc::new(script);
    move |id: NodeId, boot: Boot<'_, u64>| {
        log.borrow_mut().push((id, boot.disk().len(), boot.is_recovery()));
        LabNode {
            id,
            script: script.clone(),
            received: 0,
            from_disk: boot.disk().len(),
            gossip_left: script.gossip_rounds,
        }
    }
}

fn try_lab_tapped(
    config: SimConfig,
    plan: FaultPlan,
    script: Script,
    tap: Option<Box<dyn sim_core::Tap<Lab>>>,
) -> Result<(Simulation<Lab, LabNode>, BootLog), sim_core::SimError> {
    let boots: BootLog = Rc::new(RefCell::new(Vec::new()));
    let factory = Box::new(lab_factory(script, boots.clone()));
    match tap {
        Some(tap) => Simulation::with_tap(config, plan, factory, tap),
        None => Simulation::new(config, plan, factory),
    }
    .map(|s| (s, boots))
}

/// Observations `Got` at `node`, as (time_us, from, msg).
pub fn received(sim: &Simulation<Lab, LabNode>, node: u32) -> Vec<(u64, NodeId, Msg)> {
    sim.trace()
        .observations()
        .iter()
        .filter(|o| o.node == NodeId(node))
        .filter_map(|o| match o.obs {
            Obs::Got { from, msg } => Some((o.time.as_us(), from, msg)),
            _ => None,
        })
        .collect()
}

/// A model of the worlds `init` builds with nothing to judge but panics: its one invariant
/// holds everywhere, so what a search reports is its counts, its depth and any panic.
pub fn unjudged_model<P: Protocol, N: 'static>(
    init: impl Fn() -> sim_core::World<P, N> + Send + Sync + 'static,
) -> sim_core::explore::Model<P, N> {
    use sim_core::explore::{Model, Predicate};
    Model {
        init: Box::new(init),
        view: None,
        potential: None,
        invariants: vec![Predicate { name: "anything", holds: |_| true }],
        terminal: Vec::new(),
        drawing: None,
    }
}
