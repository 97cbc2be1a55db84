//! `commitlab merge --out DIR SHARD_DIR...`: combines the outputs of `--shard K/N` runs
//! into exactly what one run over every seed writes (CSV, plots, counterexample files)
//! and prints.
//!
//! Each shard directory holds one `NAME.partial.jsonl` per experiment run into it; every
//! directory must hold the same set. The shards of one experiment must share its settings
//! and N, and cover K = 1..=N exactly once. Everything is read and checked before anything
//! is written, so a mismatch leaves `DIR` untouched.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use crate::error::Result;
use crate::exit::Exit;
use crate::shard::{Header, PartialReader, SUFFIX, open_shards};
use crate::study::coordinator_failure as study;
use crate::sweep::{self, Partition, Scaling, Seeded, Throughput};

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Directory for the merged outputs.
    #[arg(long)]
    pub out: PathBuf,
    /// The shards' output directories (`--out` of each `--shard K/N` run), in any order.
    #[arg(required = true, value_name = "SHARD_DIR")]
    pub shards: Vec<PathBuf>,
}

/// A merged experiment, ready to write.
enum Merged {
    Study(study::Options, Vec<study::Row>, study::MediansUs),
    Partition(sweep::Options, Vec<<Partition as Seeded>::Row>),
    Scaling(sweep::Options, Vec<<Scaling as Seeded>::Row>),
    Throughput(sweep::Options, Vec<<Throughput as Seeded>::Row>),
    Check(Box<crate::check::Merged>),
}

pub fn main(args: &MergeArgs, out: &mut impl Write) -> Result<Exit> {
    let started = std::time::Instant::now();
    let files = partial_files(&args.shards)?;
    let mut merged = Vec::new();
    for (name, paths) in &files {
        let experiment = experiment_of(&paths[0])?;
        merged.push(merge_one(&experiment, paths, &args.out).map_err(|e| format!("{name}: {e}"))?);
    }
    let mut exit = Exit::Success;
    for m in merged {
        match m {
            Merged::Study(opts, rows, medians) => {
                study::write_outputs(&opts, &rows, &medians, opts.seeds, out)?
            }
            Merged::Partition(opts, rows) => {
                sweep::write_outputs::<Partition>(&opts, &rows, opts.seeds, out)?
            }
            Merged::Scaling(opts, rows) => {
                sweep::write_outputs::<Scaling>(&opts, &rows, opts.seeds, out)?
            }
            Merged::Throughput(opts, rows) => {
                sweep::write_outputs::<Throughput>(&opts, &rows, opts.seeds, out)?
            }
            Merged::Check(c) => {
                if crate::check::write_merged(&c, &args.out, out)? == Exit::PropertyFailed {
                    exit = Exit::PropertyFailed;
                }
            }
        }
    }
    writeln!(
        out,
        "merged {} shard directories; wall time: {:.1} s",
        args.shards.len(),
        started.elapsed().as_secs_f64()
    )?;
    Ok(exit)
}

/// Per partial-file name, its path in every shard directory (in the order given).
fn partial_files(dirs: &[PathBuf]) -> Result<BTreeMap<String, Vec<PathBuf>>> {
    let mut per_dir: Vec<Vec<String>> = Vec::new();
    for dir in dirs {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| format!("cannot read shard directory {}: {e}", dir.display()))?;
        let mut names = Vec::new();
        for entry in entries {
            let name = entry.map_err(|e| format!("{}: {e}", dir.display()))?.file_name();
            let name = name.to_string_lossy();
            if name.ends_with(SUFFIX) && !name.starts_with('.') {
                names.push(name.into_owned());
            }
        }
        if names.is_empty() {
            return Err(format!(
                "{} holds no shard output (*{SUFFIX}): give the --out directory of a \
                 `--shard K/N` run",
                dir.display()
            )
            .into());
        }
        names.sort();
        per_dir.push(names);
    }
    for (dir, names) in dirs.iter().zip(&per_dir).skip(1) {
        if *names != per_dir[0] {
            return Err(format!(
                "{} holds {} but {} holds {}: every shard directory must hold the same experiments",
                dirs[0].display(),
                per_dir[0].join(", "),
                dir.display(),
                names.join(", ")
            )
            .into());
        }
    }
    Ok(per_dir[0]
        .iter()
        .map(|name| (name.clone(), dirs.iter().map(|d| d.join(name)).collect()))
        .collect())
}

/// The `experiment` of a partial file's header.
fn experiment_of(path: &Path) -> Result<String> {
    let h: Header<serde_json::Value> = PartialReader::open(path)?.read_line()?;
    Ok(h.experiment)
}

fn merge_one(experiment: &str, paths: &[PathBuf], out: &Path) -> Result<Merged> {
    match experiment {
        study::EXPERIMENT => {
            let (h, mut readers) = open_shards::<study::Settings>(paths)?;
            let (opts, rows, medians) = study::merge(&h.settings, &mut readers, out)?;
            Ok(Merged::Study(opts, rows, medians))
        }
        crate::check::EXPERIMENT => {
            let (h, mut readers) = open_shards::<crate::check::Settings>(paths)?;
            Ok(Merged::Check(Box::new(crate::check::merge(h.settings, &mut readers)?)))
        }
        e if e == sweep::experiment::<Partition>() => {
            let (h, mut r) = open_shards::<sweep::Settings>(paths)?;
            let (opts, rows) = sweep::merge::<Partition>(&h.settings, &mut r, out)?;
            Ok(Merged::Partition(opts, rows))
        }
        e if e == sweep::experiment::<Scaling>() => {
            let (h, mut r) = open_shards::<sweep::Settings>(paths)?;
            let (opts, rows) = sweep::merge::<Scaling>(&h.settings, &mut r, out)?;
            Ok(Merged::Scaling(opts, rows))
        }
        e if e == sweep::experiment::<Throughput>() => {
            let (h, mut r) = open_shards::<sweep::Settings>(paths)?;
            let (opts, rows) = sweep::merge::<Throughput>(&h.settings, &mut r, out)?;
            Ok(Merged::Throughput(opts, rows))
        }
        other => Err(format!(
            "{}: unknown experiment `{other}` (this commitlab merges: {}, {}, {}, {}, {})",
            paths[0].display(),
            study::EXPERIMENT,
            sweep::experiment::<Partition>(),
            sweep::experiment::<Scaling>(),
            sweep::experiment::<Throughput>(),
            crate::check::EXPERIMENT
        )
        .into()),
    }
}
