//! Per-node durable storage: an append-only log of records that survives crashes.
//! Everything else a node holds is volatile.

/// A node's disk. Every append is a forced (synchronous) write and is counted, because
/// stable-storage writes are part of a commit protocol's cost.
#[derive(Clone, Debug)]
pub struct Disk<R> {
    records: Vec<R>,
    writes: u64,
}

impl<R> Default for Disk<R> {
    fn default() -> Self {
        Disk { records: Vec::new(), writes: 0 }
    }
}

impl<R> Disk<R> {
    pub fn append(&mut self, record: R) {
        self.records.push(record);
        self.writes += 1;
    }
    pub fn records(&self) -> &[R] {
        &self.records
    }
    /// Number of forced writes since the start of the run.
    pub fn writes(&self) -> u64 {
        self.writes
    }
}
