//! `commitlab bench search`: how fast the property search finds each built-in broken
//! variant, as the median number of cases to the first failing one over many search seeds;
//! and, for every protocol that states a quorum system, its `quorum-non-blocking` search
//! with `check`'s default fault classes (Skeen's blocking needs a cascade of faults).
//! It regenerates README's before/after table of the plan distribution, and is how a change
//! to the distribution is judged: by cases to find real bugs, not by how plans look.

use std::io::Write;

use sim_core::FaultClass;

use crate::error::Result;
use crate::search::{Outcome, SearchConfig, Target, search};

/// Options of `commitlab bench search`.
pub struct SearchBenchOptions {
    /// Search seeds 1..=seeds per variant.
    pub seeds: u64,
    /// The case budget of each search (a search that finds nothing counts as "more").
    pub cases: u32,
    pub threads: usize,
}

/// The property a broken variant is searched on: its family's saga property, else AC1-AC4.
pub fn target_of(protocol: &str) -> Result<Target> {
    let spec = protocols::catalog::lookup(protocol)?;
    Ok(if spec.has_property(Target::SagaAtomicity.name()) {
        Target::SagaAtomicity
    } else {
        Target::Atomicity
    })
}

/// One row of the table: a protocol, the property searched and the fault classes drawn.
pub struct Row {
    pub protocol: &'static str,
    pub target: Target,
    pub classes: Vec<FaultClass>,
}

/// The rows: every broken variant on its property with every fault class, then every
/// protocol stating a quorum system on `quorum-non-blocking` with `check`'s default classes.
pub fn rows() -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for protocol in protocols::catalog::broken_protocols() {
        rows.push(Row {
            protocol,
            target: target_of(protocol)?,
            classes: FaultClass::ALL.to_vec(),
        });
    }
    let quorum = Target::QuorumNonBlocking;
    for spec in
        protocols::catalog::catalog().iter().filter(|s| s.correct && s.has_property(quorum.name()))
    {
        let classes = crate::check::parse_faults(None, quorum)?;
        rows.push(Row { protocol: spec.name, target: quorum, classes });
    }
    Ok(rows)
}

/// Cases to the first failing case of each seed's search (`None`: not found in budget) of
/// a broken variant on its property, with every fault class.
pub fn cases_to_find(protocol: &str, opts: &SearchBenchOptions) -> Result<Vec<Option<u64>>> {
    let row = Row {
        protocol: protocols::catalog::lookup(protocol)?.name,
        target: target_of(protocol)?,
        classes: FaultClass::ALL.to_vec(),
    };
    cases_to_find_row(&row, opts)
}

/// [`cases_to_find`] for any row.
pub fn cases_to_find_row(row: &Row, opts: &SearchBenchOptions) -> Result<Vec<Option<u64>>> {
    let (protocol, target) = (row.protocol, row.target);
    let seeds: Vec<u64> = (1..=opts.seeds).collect();
    crate::parallel::run_all(protocol, &seeds, opts.threads, |&seed| {
        let mut cfg = SearchConfig::new(protocol, target, row.classes.clone());
        cfg.cases = opts.cases;
        cfg.seed = seed;
        Ok(match search(&cfg, &|_| {})? {
            Outcome::Found(f) => Some(f.stats.cases_to_find),
            Outcome::NotFound { .. } => None,
        })
    })
}

/// The median of `found`, "more than the budget" sorting last; `>N` when it is not found.
pub fn median(found: &[Option<u64>], cases: u32) -> String {
    let mut sorted: Vec<u64> = found.iter().map(|c| c.unwrap_or(u64::MAX)).collect();
    sorted.sort_unstable();
    match sorted.get(sorted.len() / 2) {
        None => "-".into(),
        Some(&u64::MAX) => format!(">{cases}"),
        Some(m) => m.to_string(),
    }
}

/// Prints one Markdown row per [`rows`] entry.
pub fn run(opts: &SearchBenchOptions, out: &mut dyn Write) -> Result<()> {
    if opts.seeds == 0 || opts.cases == 0 {
        return Err("--seeds and --cases must be at least 1".into());
    }
    writeln!(
        out,
        "| protocol | property | found (of {} seeds) | median cases to find |",
        opts.seeds
    )?;
    writeln!(out, "|---|---|---|---|")?;
    for row in rows()? {
        let found = cases_to_find_row(&row, opts)?;
        let hits = found.iter().filter(|c| c.is_some()).count();
        let (protocol, target) = (row.protocol, row.target.name());
        let m = median(&found, opts.cases);
        writeln!(out, "| {protocol} | {target} | {hits} | {m} |")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_counts_a_miss_as_more_than_the_budget() {
        assert_eq!(median(&[Some(5), Some(1), Some(9)], 100), "5");
        assert_eq!(median(&[Some(5), None, None], 100), ">100");
        assert_eq!(median(&[None, Some(2), Some(3), Some(4)], 100), "4");
        assert_eq!(median(&[], 100), "-");
    }

    /// Each seed's search runs alone on one thread and results come back in seed order, so
    /// the table is the same for any thread count.
    #[test]
    fn the_cases_to_find_do_not_depend_on_the_thread_count() {
        let opts = |threads| SearchBenchOptions { seeds: 6, cases: 20_000, threads };
        let one = cases_to_find("broken-2pc-unlogged-decision", &opts(1)).unwrap();
        let two = cases_to_find("broken-2pc-unlogged-decision", &opts(2)).unwrap();
        assert_eq!(one, two);
        assert!(one.iter().all(Option::is_some), "every seed finds it: {one:?}");
    }
}
