//! The runner's event queue alone: the 4-ary heap (`sim_core::queue::QuadHeap`) against std's
//! `BinaryHeap` (what the raw loop of bench/raw-loop uses), on the hold model of a
//! discrete-event run: the queue holds `hold` events; each step pops the earliest and pushes
//! one new event at its time plus a latency drawn uniformly in [1 ms, 10 ms], as W1's
//! messages are. Virtual time only grows. Hold 5 is W1 (at most five events queued); hold
//! 1024 is a run with many timers armed at once.
//!
//! Run: `cargo bench -p sim-core --bench queue` (add `-- --quick` for a short run).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sim_core::Time;
use sim_core::queue::QuadHeap;

/// Steps (pop then push) per measured iteration.
const STEPS: u64 = 10_000;

/// A payload as large as a queued W1 delivery (an envelope: ids, a message, a link count).
type Payload = [u64; 4];

/// W1's latencies: uniform in [1000, 10000] µs, from a fixed xorshift stream (the same
/// draws for both queues).
struct Latencies(u64);

impl Latencies {
    fn next_us(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        1_000 + self.0 % 9_001
    }
}

fn quad(hold: usize) -> u64 {
    let mut lat = Latencies(0x9E37_79B9_7F4A_7C15);
    let mut q: QuadHeap<Payload> = QuadHeap::new();
    for i in 0..hold as u64 {
        q.push(Time::from_us(lat.next_us()), [i; 4]);
    }
    let mut sum = 0;
    for _ in 0..STEPS {
        let e = q.pop().expect("the hold never empties");
        sum += e.what[0];
        q.push(Time::from_us(e.time.as_us() + lat.next_us()), e.what);
    }
    sum
}

fn binary(hold: usize) -> u64 {
    let mut lat = Latencies(0x9E37_79B9_7F4A_7C15);
    let mut q: BinaryHeap<Reverse<(u64, u64, Payload)>> = BinaryHeap::with_capacity(64);
    let mut seq = 0u64;
    for i in 0..hold as u64 {
        q.push(Reverse((lat.next_us(), seq, [i; 4])));
        seq += 1;
    }
    let mut sum = 0;
    for _ in 0..STEPS {
        let Reverse((time, _, what)) = q.pop().expect("the hold never empties");
        sum += what[0];
        q.push(Reverse((time + lat.next_us(), seq, what)));
        seq += 1;
    }
    sum
}

fn hold_model(c: &mut Criterion) {
    // Both queues pop the same sequence (keys are unique): the same sum.
    assert_eq!(quad(5), binary(5));
    assert_eq!(quad(1024), binary(1024));
    let mut g = c.benchmark_group("queue hold model");
    g.throughput(Throughput::Elements(STEPS));
    for hold in [5usize, 1024] {
        g.bench_with_input(BenchmarkId::new("4-ary heap", hold), &hold, |b, &h| {
            b.iter(|| quad(black_box(h)))
        });
        g.bench_with_input(BenchmarkId::new("std BinaryHeap", hold), &hold, |b, &h| {
            b.iter(|| binary(black_box(h)))
        });
    }
    g.finish();
}

criterion_group!(benches, hold_model);
criterion_main!(benches);
