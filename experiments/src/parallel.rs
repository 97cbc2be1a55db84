//! Running many independent simulations on a fixed number of threads, with a progress bar.
//!
//! Each job is a pure function of its own inputs (its scenario and seed), and results come
//! back in job order whatever thread ran them, so what a study writes does not depend on
//! `--threads`. The bar is drawn on stderr only when stderr is a terminal.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use crate::error::Result;

/// `--threads`: `None` means every core.
pub fn thread_count(threads: Option<usize>) -> Result<usize> {
    match threads {
        Some(0) => Err("--threads 0: need at least one thread".into()),
        Some(t) => Ok(t),
        None => Ok(std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)),
    }
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
    let bar = ProgressBar::with_draw_target(Some(jobs.len() as u64), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>24} [{bar:40}] {pos}/{len} runs, {elapsed} (eta {eta})",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    bar.set_prefix(label.to_string());
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
