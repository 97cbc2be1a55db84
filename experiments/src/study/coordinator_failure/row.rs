//! The study's data: its fixed parameters and one CSV row. Apart from the study's code, so
//! that the plots read rows without depending on the code that makes them.

use serde::Serialize;

/// Recovery delays of the study, in ms (None: never).
pub const RECOVERIES_MS: [Option<u64>; 4] = [None, Some(10), Some(100), Some(1000)];
/// Length of the fault phase: past the longest recovery plus every timeout and retry.
pub const FAULT_HORIZON_US: u64 = 3_000_000;

/// One CSV row. Field order is column order.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub protocol: String,
    pub participants: u32,
    pub crash_point: String,
    /// Empty for never.
    pub recovery_ms: Option<u64>,
    pub runs: u64,
    /// Runs in which the coordinator reached the mark (and so crashed).
    pub crashed_runs: u64,
    /// Transactions the client learned committed / aborted, over all runs.
    pub committed: u64,
    pub aborted: u64,
    /// Runs with an up participant still in doubt at the end of the fault phase.
    pub blocked_runs: u64,
    /// Runs that lost atomicity (AC1–AC4, durability or conservation).
    pub atomicity_violations: u64,
    /// Runs still undecided after the liveness phase (AC5).
    pub termination_failures: u64,
    /// Runs a bound cut short (event budget, queue bound): counted in no verdict column.
    pub inconclusive_runs: u64,
    /// Submitted to ClientLearned over every learned transaction.
    pub mean_decision_ms: String,
    pub median_decision_ms: String,
    pub p99_decision_ms: String,
    /// Per run, the longest in-doubt interval of any participant; mean over runs.
    pub mean_in_doubt_ms: String,
    pub max_in_doubt_ms: String,
    /// Per run, the longest lock-held interval of any participant; mean over runs.
    pub mean_lock_held_ms: String,
    /// Protocol messages (coordinator, participants, acceptors, broker; retries and
    /// termination included) over submitted transactions. Everything to or from the client
    /// node is left out: its requests and replies, and on saga rows the auditor's reads.
    pub messages_per_txn: String,
    pub disk_writes_per_txn: String,
    /// Per run, the time the bank total was off because a saga was between its debit and
    /// its credit or compensation (`checkers::anomaly`'s `unbalanced_us`); mean over runs.
    /// Always 0 for the commit protocols, which apply writes only once decided.
    pub mean_anomaly_ms: String,
    /// Per run, the concurrent reads of the bank total (a saga scenario's audit rounds, one
    /// every 3d) that saw it off; mean over runs. Always 0 for the commit protocols: only
    /// saga scenarios audit (nobody reads there, so nobody is counted, rather than reads
    /// found consistent).
    pub anomalous_reads_per_run: String,
}
