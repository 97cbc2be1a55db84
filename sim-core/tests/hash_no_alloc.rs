//! The stable hash runs for every message of every simulation: it must not allocate. This
//! binary counts the allocations of the thread that hashes.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::BTreeMap;

use serde::Serialize;
use sim_core::hash::{stable_digest, stable_hash};
use sim_core::{Action, HashableF64, LinkSet, NodeId};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|a| a.set(a.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

#[derive(Serialize)]
#[serde(tag = "msg", rename_all = "snake_case")]
enum Msg {
    Prepare { txn: u64, participants: Vec<NodeId>, note: String },
    Decision { txn: u64, outcome: Outcome, by: Option<NodeId> },
}

#[derive(Serialize)]
enum Outcome {
    Commit,
}

#[test]
fn hashing_allocates_nothing() {
    // The counter works.
    assert_eq!(allocations_during(|| drop(std::hint::black_box(vec![1u8]))), 1);
    let values = (
        Msg::Prepare {
            txn: 7,
            participants: vec![NodeId(1), NodeId(2), NodeId(3)],
            note: "a note longer than thirty-one bytes, to take every path".into(),
        },
        Msg::Decision { txn: 7, outcome: Outcome::Commit, by: None },
        Action::SetDrop { links: LinkSet::Touching { node: NodeId(2) }, prob: HashableF64(0.5) },
        Action::Crash { node: NodeId(0), recover_after_us: None },
        BTreeMap::from([(1u32, "one"), (2, "two")]),
        std::borrow::Cow::Borrowed("all-votes-in"),
    );
    let mut digest = 0;
    let n = allocations_during(|| {
        digest = stable_digest(&values) ^ stable_hash(&values);
    });
    assert_ne!(digest, 0);
    assert_eq!(n, 0, "hashing allocated {n} times");
}
