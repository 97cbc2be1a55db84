//! Running many independent simulations on a fixed number of threads, with a progress bar.
//!
//! Each job is a pure function of its own inputs (its scenario and seed), and results come
//! back in job order whatever thread ran them, so what a study writes does not depend on
//! `--threads`. The bar is drawn on stderr only when stderr is a terminal.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use crate::aggregate::RunStats;
use crate::error::Result;
use crate::metrics::RunMetrics;
use crate::shard::SeedSpan;

/// `--threads`: `None` means every core.
pub fn thread_count(threads: Option<usize>) -> Result<usize> {
    match threads {
        Some(0) => Err("--threads 0: need at least one thread".into()),
        Some(t) => Ok(t),
        None => Ok(std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)),
    }
}

/// A bar of `len` runs, labelled `label`, on stderr (drawn only when it is a terminal).
fn progress_bar(label: &str, len: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>24} [{bar:40}] {pos}/{len} runs, {elapsed} (eta {eta})",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    bar.set_prefix(label.to_string());
    bar
}

/// `f` over every job on `threads` threads; results in job order.
pub fn run_all<J, R, F>(label: &str, jobs: &[J], threads: usize, f: F) -> Result<Vec<R>>
where
    J: Sync,
    R: Send,
    F: Fn(&J) -> Result<R> + Sync + Send,
{
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| format!("cannot start {threads} threads: {e}"))?;
    let bar = progress_bar(label, jobs.len() as u64);
    let results: Result<Vec<R>> = pool.install(|| {
        jobs.par_iter()
            .map(|j| {
                let r = f(j);
                bar.inc(1);
                r
            })
            .collect()
    });
    bar.finish_and_clear();
    results
}

/// Seeds folded per task: small enough to balance two threads on a row of a few hundred
/// seeds, large enough that merging folds costs nothing next to the runs.
const CHUNK_SEEDS: u64 = 64;
/// Tasks per batch on the pool: the most chunk folds alive at once.
const BATCH_CHUNKS: usize = 64;

/// Runs `run(row, seed)` for every row `0..rows` and every seed of `span`, folding each
/// run into its row's [`RunStats`] as it finishes, and calls `done(row, stats)` for each
/// row, in row order, as soon as its last seed is in. A row's seeds are cut into chunks of
/// [`CHUNK_SEEDS`], folded on the pool a batch at a time and merged in chunk order; the
/// folds are exact (see [`crate::aggregate`]), so the stats do not depend on `threads`.
/// Memory holds one batch of chunk folds and the row being completed, whatever the number
/// of seeds.
pub fn fold_rows<F, D>(
    label: &str,
    rows: usize,
    span: &SeedSpan,
    threads: usize,
    lock_histogram: bool,
    run: F,
    mut done: D,
) -> Result<()>
where
    F: Fn(usize, u64) -> Result<RunMetrics> + Sync + Send,
    D: FnMut(usize, RunStats) -> Result<()>,
{
    assert!(!span.is_empty(), "a seed span is never empty (SeedSpan::new refuses it)");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| format!("cannot start {threads} threads: {e}"))?;
    let bar = progress_bar(label, rows as u64 * span.len());
    let chunks_per_row = span.len().div_ceil(CHUNK_SEEDS);
    let mut chunks = (0..rows).flat_map(|r| (0..chunks_per_row).map(move |c| (r, c)));
    let mut open: Option<(usize, RunStats)> = None;
    loop {
        let batch: Vec<(usize, u64)> = chunks.by_ref().take(BATCH_CHUNKS).collect();
        if batch.is_empty() {
            break;
        }
        let folded: Vec<Result<RunStats>> = pool.install(|| {
            batch
                .par_iter()
                .map(|&(r, c)| {
                    let lo = span.lo + c * CHUNK_SEEDS;
                    let hi = (lo + CHUNK_SEEDS).min(span.hi);
                    let mut acc = RunStats::new(lock_histogram);
                    for i in lo..hi {
                        acc.add(&run(r, span.seed(i))?);
                        bar.inc(1);
                    }
                    Ok(acc)
                })
                .collect()
        });
        for (&(r, _), chunk) in batch.iter().zip(folded) {
            let chunk = chunk?;
            match &mut open {
                Some((row, acc)) if *row == r => acc.merge(&chunk),
                _ => {
                    if let Some((row, acc)) = open.replace((r, chunk)) {
                        done(row, acc)?;
                    }
                }
            }
        }
    }
    if let Some((row, acc)) = open {
        done(row, acc)?;
    }
    bar.finish_and_clear();
    Ok(())
}
