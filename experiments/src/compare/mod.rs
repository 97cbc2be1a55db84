//! `commitlab compare`: the system-design guides' static table of commit protocols
//! (Protocol | Phases | Blocking | Failure handling | ...), with every cell replaced by a
//! measurement made by this command, and the textbook's claim printed beside it.
//!
//! One row per correct protocol of the catalog, whatever the catalog holds when it runs.
//! Each column reuses the scenario of the study or sweep that already measures it
//! ([`runs`]), so a cell means what the same number means there; the verdict texts and the
//! comparison with the claims are in [`table`], the claims in [`claims`]. Outputs:
//! a Markdown table on stdout, `compare.csv` and `compare.svg`, written atomically once
//! every run succeeded; the same bytes on any thread count.

pub mod chart;
pub mod claims;
pub mod runs;
pub mod table;

use std::io::Write;

use crate::error::Result;
use crate::exit::Exit;
use crate::output::write_atomically;
use crate::sweep::SweepArgs;

/// The study's default, so shares read to a tenth of a percent; about 10 s in release on 2
/// busy cores (some 100,000 runs).
pub const DEFAULT_SEEDS: u64 = 1000;

/// Measures every correct protocol and returns the table's rows, catalog order.
pub fn measure(seeds: runs::Seeds, threads: usize) -> Result<Vec<table::Row>> {
    Ok(runs::measure(seeds, threads)?.iter().map(table::row).collect())
}

/// `commitlab compare`: the flags every sweep takes (`--seeds`, `--first-seed`,
/// `--threads`, `--out`).
pub fn main(args: &SweepArgs, out: &mut impl Write) -> Result<Exit> {
    let started = std::time::Instant::now();
    let args = args.options(DEFAULT_SEEDS)?;
    let threads = args.threads;
    let seeds = runs::Seeds { first: args.first_seed, count: args.seeds };
    let rows = measure(seeds, threads)?;
    let svg = chart::render(&rows)?;
    let csv = args.out.join("compare.csv");
    crate::csv_out::write_rows(&csv, &rows)?;
    let svg_path = args.out.join("compare.svg");
    write_atomically(&svg_path, "the comparison chart", |w| w.write_all(svg.as_bytes()))?;
    writeln!(
        out,
        "compare: {} protocols, {} seeds per group; wrote {} and {}",
        rows.len(),
        args.seeds,
        csv.display(),
        svg_path.display()
    )?;
    writeln!(out)?;
    table::write_markdown(out, &rows)?;
    writeln!(out)?;
    writeln!(out, "wall time: {:.1} s on {} threads", started.elapsed().as_secs_f64(), threads)?;
    Ok(Exit::Success)
}
