//! Trace hashes name enum variants by their serde name, never by their position: a protocol
//! may add a variant anywhere in its vocabulary and every recorded trace hash stays as it was
//! (the regression corpus pins such hashes); renaming a variant that occurs changes them.
//!
//! The same small protocol is built in several vocabularies that differ only in an unused
//! variant inserted in the middle of their enums, or in the serde name of one message, and
//! run with the same seeds and fault plans.

use std::hash::{Hash, Hasher};

use sim_core::hash::StableHasher;
use sim_core::{FaultClass, FaultPlan, FaultSpace, LinkConfig, NodeId};

/// A vocabulary and its nodes, in module `$module`. `$ping` is the serde name of the `Ping`
/// message; `msg_inserted` inserts a variant of that name (never sent) in the middle of `Msg`,
/// `others_inserted` one in the middle of the timer, record and observation enums too.
macro_rules! vocabulary {
    ($module:ident, ping = $ping:literal
        $(, msg_inserted = $msg_inserted:ident)?
        $(, others_inserted = $others_inserted:ident)?) => {
        mod $module {
            use rand::RngExt;
            use serde::{Deserialize, Serialize};
            use sim_core::{
                Boot, Context, Duration, FaultPlan, LinkConfig, NodeId, Process, Protocol,
                SimConfig, Simulation, Time,
            };

            #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
            pub enum Msg {
                Hello,
                $($msg_inserted { note: String },)?
                #[serde(rename = $ping)]
                Ping { round: u32, payload: Vec<u64> },
                Pong(u32),
            }

            #[derive(
                Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
            )]
            pub enum Timer {
                Giveup,
                $($others_inserted,)?
                Round(u32),
            }

            #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
            #[serde(tag = "type", rename_all = "snake_case")]
            pub enum Record {
                Started,
                $($others_inserted { note: String },)?
                Ponged { from: NodeId, round: u32 },
            }

            #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
            #[serde(tag = "obs", rename_all = "snake_case")]
            pub enum Obs {
                Booted { from_disk: usize },
                $($others_inserted { note: String },)?
                Got { from: NodeId, msg: Msg },
            }

            #[derive(Clone, Debug, PartialEq, Hash)]
            pub struct Vocab;

            impl Protocol for Vocab {
                type Msg = Msg;
                type Timer = Timer;
                type Record = Record;
                type Obs = Obs;
            }

            pub struct Node;

            const ROUNDS: u32 = 30;

            impl Process<Vocab> for Node {
                fn on_start(&mut self, ctx: &mut Context<'_, Vocab>) {
                    ctx.observe(Obs::Booted { from_disk: 0 });
                    ctx.persist(Record::Started);
                    let me = ctx.id();
                    ctx.broadcast((0..ctx.nodes()).map(NodeId).filter(|&n| n != me), Msg::Hello);
                    ctx.set_timer(Duration::from_us(1_000), Timer::Round(0));
                    ctx.set_timer(Duration::from_us(50_000), Timer::Giveup);
                }

                fn on_message(&mut self, ctx: &mut Context<'_, Vocab>, from: NodeId, msg: Msg) {
                    ctx.observe(Obs::Got { from, msg: msg.clone() });
                    match msg {
                        Msg::Ping { round, .. } => ctx.send(from, Msg::Pong(round)),
                        Msg::Pong(round) => {
                            ctx.persist(Record::Ponged { from, round });
                            ctx.cancel_timer(Timer::Giveup);
                        }
                        _ => {}
                    }
                }

                fn on_timer(&mut self, ctx: &mut Context<'_, Vocab>, timer: Timer) {
                    let Timer::Round(round) = timer else { return };
                    ctx.mark("round");
                    let nodes = ctx.nodes();
                    let peer = ctx.rng().random_range(0..nodes);
                    let payload = vec![u64::from(round); (round % 3) as usize];
                    ctx.send(NodeId(peer), Msg::Ping { round, payload });
                    if round + 1 < ROUNDS {
                        let after = ctx.rng().random_range(500..5_000u64);
                        ctx.set_timer(Duration::from_us(after), Timer::Round(round + 1));
                    }
                }
            }

            /// The trace hash and length of a run, and how many faults fired.
            pub fn run(seed: u64, plan: &FaultPlan, link: LinkConfig) -> (u64, u64, usize) {
                let config = SimConfig::new(super::NODES, seed).with_link(link);
                let factory = Box::new(|_: NodeId, _: Boot<'_, Record>| Node);
                let mut sim = Simulation::new(config, plan.clone(), factory).unwrap();
                sim.run_until(Time::from_us(300_000));
                sim.run_liveness_phase(Duration::from_us(200_000));
                let fired = sim.fired().iter().filter(|&&f| f).count();
                (sim.trace_hash(), sim.trace().len(), fired)
            }
        }
    };
}

const NODES: u32 = 4;

vocabulary!(base, ping = "Ping");
vocabulary!(msg_insert, ping = "Ping", msg_inserted = Inserted);
vocabulary!(all_insert, ping = "Ping", msg_inserted = Inserted, others_inserted = Inserted);
vocabulary!(renamed, ping = "Poke");

fn plan(seed: u64) -> FaultPlan {
    FaultSpace {
        nodes: NODES,
        horizon_us: 200_000,
        classes: FaultClass::ALL.to_vec(),
        max_faults: 6,
        marks: vec![(NodeId(0), "round".into()), (NodeId(2), "round".into())],
        send_points: vec![],
        extra_nodes: vec![],
        crash_limits: Vec::new(),
    }
    .generate(seed)
}

fn link() -> LinkConfig {
    LinkConfig { drop_prob: 0.05, dup_prob: 0.05, ..LinkConfig::default() }
}

/// The digest a derived `Hash` gives: by variant position.
fn by_position<T: Hash>(v: &T) -> u64 {
    let mut h = StableHasher::default();
    v.hash(&mut h);
    h.finish()
}

#[test]
fn the_vocabularies_really_differ_in_variant_positions() {
    // Under a derived `Hash` the inserted variant shifts the ones after it: the test below
    // would fail if trace hashes were still taken that way.
    assert_ne!(by_position(&base::Msg::Pong(1)), by_position(&msg_insert::Msg::Pong(1)));
    assert_ne!(by_position(&base::Timer::Round(1)), by_position(&all_insert::Timer::Round(1)));
    assert_eq!(by_position(&base::Msg::Hello), by_position(&msg_insert::Msg::Hello));
}

#[test]
fn a_variant_inserted_in_the_middle_keeps_every_trace_hash() {
    let mut faults_fired = 0;
    for seed in 0..30 {
        let plan = plan(seed);
        let (hash, len, fired) = base::run(seed, &plan, link());
        assert!(len > 100, "seed {seed}: a real run ({len} events)");
        faults_fired += fired;
        assert_eq!(
            msg_insert::run(seed, &plan, link()),
            (hash, len, fired),
            "seed {seed}: a message variant inserted in the middle changed the run's hash"
        );
        assert_eq!(
            all_insert::run(seed, &plan, link()),
            (hash, len, fired),
            "seed {seed}: timer, record and observation variants inserted in the middle \
             changed the run's hash"
        );
    }
    assert!(faults_fired >= 30, "the plans exercise faults: {faults_fired} fired");
}

#[test]
fn renaming_a_sent_variant_changes_the_hash() {
    for seed in 0..30 {
        let plan = plan(seed);
        let (hash, len, fired) = base::run(seed, &plan, link());
        let (renamed_hash, renamed_len, renamed_fired) = renamed::run(seed, &plan, link());
        // The same run, event for event...
        assert_eq!((len, fired), (renamed_len, renamed_fired), "seed {seed}");
        // ...but its pings have another name, so another hash.
        assert_ne!(hash, renamed_hash, "seed {seed}: renaming Ping kept the hash");
    }
}
