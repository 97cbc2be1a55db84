//! `--shard K/N`: the K-th of N disjoint parts of an experiment's seeds, and the partial
//! state a shard leaves beside its own outputs for `commitlab merge`.
//!
//! A part is a contiguous range of seed offsets: part K of `count` seeds is
//! `count·(K−1)/N .. count·K/N`, so the N parts cover every seed once, in order. A shard
//! writes `NAME.partial.jsonl`: one header line (what ran: the experiment, every setting the
//! output depends on, which shard), then one line per row (the study and sweeps: the row's
//! key and its [`RunStats`](crate::aggregate::RunStats); `check`: one line per search seed).
//! The file is written to a temporary name and renamed when complete, so a partial file
//! that exists is whole.

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::aggregate::RunStats;
use crate::error::Result;

/// The format tag of partial files; a change of layout changes it.
pub const FORMAT: &str = "commitlab-partial/1";
/// How partial files end.
pub const SUFFIX: &str = ".partial.jsonl";

/// Part `k` of `n` (1-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shard {
    pub k: u64,
    pub n: u64,
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

impl FromStr for Shard {
    type Err = String;

    /// `K/N` with 1 <= K <= N.
    fn from_str(s: &str) -> std::result::Result<Shard, String> {
        let bad = |why: &str| format!("`{s}`: {why} (expected K/N with 1 <= K <= N, e.g. 1/4)");
        let (k, n) = s.split_once('/').ok_or_else(|| bad("no `/`"))?;
        let k: u64 = k.trim().parse().map_err(|_| bad("K is not a whole number"))?;
        let n: u64 = n.trim().parse().map_err(|_| bad("N is not a whole number"))?;
        if n == 0 {
            return Err(bad("N must be at least 1"));
        }
        if k == 0 || k > n {
            return Err(bad(&format!("K = {k} is outside 1..={n}")));
        }
        Ok(Shard { k, n })
    }
}

/// The seeds one process runs: offsets `lo..hi` of `first..first+count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeedSpan {
    pub first: u64,
    pub count: u64,
    pub lo: u64,
    pub hi: u64,
}

impl SeedSpan {
    /// Every seed (no `--shard`), or shard `shard`'s part; refuses a part with no seeds.
    pub fn new(first: u64, count: u64, shard: Option<Shard>) -> Result<SeedSpan> {
        if count == 0 {
            return Err("--seeds 0: need at least one seed".into());
        }
        let Some(Shard { k, n }) = shard else {
            return Ok(SeedSpan { first, count, lo: 0, hi: count });
        };
        if count < n {
            return Err(format!(
                "--shard {k}/{n}: {count} seed(s) cannot be split into {n} parts; \
                 use at least {n} seeds or fewer shards"
            )
            .into());
        }
        let cut = |i: u64| (u128::from(count) * u128::from(i) / u128::from(n)) as u64;
        Ok(SeedSpan { first, count, lo: cut(k - 1), hi: cut(k) })
    }

    /// Seeds in this part.
    pub fn len(&self) -> u64 {
        self.hi - self.lo
    }

    pub fn is_empty(&self) -> bool {
        self.hi == self.lo
    }

    /// The `i`-th seed of the whole range (offsets wrap like `first + i`).
    pub fn seed(&self, i: u64) -> u64 {
        self.first.wrapping_add(i)
    }
}

/// The first line of a partial file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header<S> {
    pub format: String,
    /// `study coordinator-failure`, `sweep partition`, `check`, ...
    pub experiment: String,
    /// Everything the merged output depends on, but the shard.
    pub settings: S,
    pub shard: Shard,
    /// Lines after the header.
    pub lines: u64,
}

/// A partial file being written: lines go to a temporary file, renamed over `path` by
/// [`PartialWriter::finish`] (dropped unfinished, the temporary file is removed).
pub struct PartialWriter {
    path: PathBuf,
    tmp: PathBuf,
    w: Option<BufWriter<File>>,
    left: u64,
}

impl PartialWriter {
    pub fn create<S: Serialize>(dir: &Path, name: &str, header: &Header<S>) -> Result<Self> {
        let path = dir.join(format!("{name}{SUFFIX}"));
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create directory {}: {e}", dir.display()))?;
        let tmp = dir.join(format!(".{name}{SUFFIX}.tmp"));
        let file = File::create(&tmp)
            .map_err(|e| format!("cannot write the partial state to {}: {e}", tmp.display()))?;
        let mut me = PartialWriter { path, tmp, w: Some(BufWriter::new(file)), left: 0 };
        me.line(header)?;
        me.left = header.lines;
        Ok(me)
    }

    /// A shard's partial file `dir/NAME.partial.jsonl` of `lines` lines after its header
    /// (`None` without `--shard`).
    pub fn for_shard<S: Serialize>(
        dir: &Path,
        name: &str,
        experiment: &str,
        settings: S,
        shard: Option<Shard>,
        lines: u64,
    ) -> Result<Option<PartialWriter>> {
        let Some(shard) = shard else { return Ok(None) };
        let header =
            Header { format: FORMAT.into(), experiment: experiment.into(), settings, shard, lines };
        Ok(Some(PartialWriter::create(dir, name, &header)?))
    }

    /// Renames a shard's partial file into place (if any) and says so on `out`.
    pub fn finish_shard(
        partial: Option<PartialWriter>,
        span: &SeedSpan,
        out: &mut dyn Write,
    ) -> Result<()> {
        if let Some(p) = partial {
            let path = p.finish()?;
            let (first, last) = (span.seed(span.lo), span.seed(span.hi - 1));
            writeln!(
                out,
                "wrote {} (seeds {first}..={last} of {}; `commitlab merge` combines shards)",
                path.display(),
                span.count
            )?;
        }
        Ok(())
    }

    /// Appends one line after the header.
    pub fn line<T: Serialize>(&mut self, value: &T) -> Result<()> {
        let w = self.w.as_mut().expect("a writer is open until finish");
        serde_json::to_writer(&mut *w, value)?;
        w.write_all(b"\n").map_err(|e| format!("cannot write {}: {e}", self.tmp.display()))?;
        self.left = self.left.wrapping_sub(1);
        Ok(())
    }

    /// Flushes and renames into place; every line the header announced must be written.
    pub fn finish(mut self) -> Result<PathBuf> {
        assert_eq!(self.left, 0, "a partial file got fewer or more lines than its header says");
        let w = self.w.take().expect("finish is called once");
        let fail = |e: std::io::Error| format!("cannot write {}: {e}", self.path.display());
        let file = w.into_inner().map_err(|e| fail(e.into_error()))?;
        file.sync_all().map_err(fail)?;
        std::fs::rename(&self.tmp, &self.path).map_err(fail)?;
        Ok(self.path.clone())
    }
}

impl Drop for PartialWriter {
    fn drop(&mut self) {
        if self.w.is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// One row of the study or a sweep in a partial file: its key (checked on merge) and stats.
#[derive(Serialize)]
struct RowOut<'a> {
    row: &'a str,
    stats: &'a RunStats,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RowIn {
    row: String,
    stats: RunStats,
}

impl PartialWriter {
    /// Appends a row of the study or a sweep.
    pub fn row(&mut self, key: &str, stats: &RunStats) -> Result<()> {
        self.line(&RowOut { row: key, stats })
    }
}

/// A partial file being read, line by line.
pub struct PartialReader {
    pub path: PathBuf,
    lines: std::io::Lines<BufReader<File>>,
    line_no: u64,
}

impl PartialReader {
    pub fn open(path: &Path) -> Result<PartialReader> {
        let file = File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Ok(PartialReader {
            path: path.to_path_buf(),
            lines: BufReader::new(file).lines(),
            line_no: 0,
        })
    }

    /// The next line, parsed; an error names the file and line.
    pub fn read_line<T: DeserializeOwned>(&mut self) -> Result<T> {
        self.line_no += 1;
        let at = format!("{}:{}", self.path.display(), self.line_no);
        let line = self
            .lines
            .next()
            .ok_or_else(|| format!("{at}: the file ends early (it is not a whole partial file)"))?
            .map_err(|e| format!("{at}: {e}"))?;
        Ok(serde_json::from_str(&line)
            .map_err(|e| format!("{at}: not a partial-state line: {e}"))?)
    }

    /// The next row, which must be `key`.
    pub fn row(&mut self, key: &str) -> Result<RunStats> {
        let r: RowIn = self.read_line()?;
        if r.row != key {
            return Err(format!(
                "{}:{}: row `{}` where this commitlab has `{key}` (written by another version?)",
                self.path.display(),
                self.line_no,
                r.row
            )
            .into());
        }
        Ok(r.stats)
    }

    /// Nothing may follow the announced lines.
    pub fn expect_end(&mut self) -> Result<()> {
        match self.lines.next() {
            None => Ok(()),
            Some(_) => Err(format!(
                "{}: more lines than its header announces (not a file this version wrote)",
                self.path.display()
            )
            .into()),
        }
    }
}

/// Reads the headers of one experiment's partial files (one per shard directory) and
/// checks they are the N shards of one run: same experiment, format and settings, every
/// K of 1..=N exactly once. Returns the readers in shard order, past their headers.
pub fn open_shards<S>(paths: &[PathBuf]) -> Result<(Header<S>, Vec<PartialReader>)>
where
    S: DeserializeOwned + PartialEq + fmt::Debug,
{
    let mut opened: Vec<(Header<S>, PartialReader)> = Vec::new();
    for path in paths {
        let mut r = PartialReader::open(path)?;
        let h: Header<S> = r.read_line()?;
        if h.format != FORMAT {
            return Err(format!(
                "{}: format `{}`, this commitlab reads `{FORMAT}`",
                path.display(),
                h.format
            )
            .into());
        }
        opened.push((h, r));
    }
    let (first, first_r) = opened.first().ok_or("merge: no shard files")?;
    for (h, r) in &opened[1..] {
        let mismatch = |what: &str| {
            format!(
                "{} and {} are not shards of one run: different {what}",
                first_r.path.display(),
                r.path.display()
            )
        };
        if h.experiment != first.experiment {
            return Err(mismatch("experiments").into());
        }
        if h.settings != first.settings {
            return Err(
                format!("{} ({:?})", mismatch("settings"), (&first.settings, &h.settings)).into()
            );
        }
        if h.shard.n != first.shard.n {
            return Err(mismatch("shard counts N").into());
        }
        if h.lines != first.lines {
            return Err(mismatch("row counts").into());
        }
    }
    let n = first.shard.n;
    let experiment = first.experiment.clone();
    opened.sort_by_key(|(h, _)| h.shard.k);
    for w in opened.windows(2) {
        if w[0].0.shard.k == w[1].0.shard.k {
            return Err(format!(
                "shard {} appears twice: {} and {}",
                w[0].0.shard,
                w[0].1.path.display(),
                w[1].1.path.display()
            )
            .into());
        }
    }
    let missing: Vec<String> = (1..=n)
        .filter(|k| !opened.iter().any(|(h, _)| h.shard.k == *k))
        .map(|k| format!("{k}/{n}"))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "{experiment}: shard(s) {} missing (give every shard's directory)",
            missing.join(", ")
        )
        .into());
    }
    let mut readers = Vec::new();
    let mut header = None;
    for (h, r) in opened {
        header.get_or_insert(h);
        readers.push(r);
    }
    Ok((header.expect("at least one shard"), readers))
}

/// Merges the shards' rows, `keys` in order, calling `done(row, stats)` for each: the
/// stats one process over every seed would have folded.
pub fn merge_rows(
    readers: &mut [PartialReader],
    keys: &[String],
    mut done: impl FnMut(usize, RunStats) -> Result<()>,
) -> Result<()> {
    for (i, key) in keys.iter().enumerate() {
        let mut acc: Option<RunStats> = None;
        for r in readers.iter_mut() {
            let stats = r.row(key)?;
            match &mut acc {
                None => acc = Some(stats),
                Some(acc) if acc.lock_held_us.is_some() == stats.lock_held_us.is_some() => {
                    acc.merge(&stats)
                }
                Some(_) => {
                    return Err(format!(
                        "{}: row `{key}` keeps other measurements than the other shards'",
                        r.path.display()
                    )
                    .into());
                }
            }
        }
        done(i, acc.expect("at least one shard"))?;
    }
    readers.iter_mut().try_for_each(PartialReader::expect_end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cover_every_seed_once_in_order() {
        for count in [4u64, 5, 7, 1000, 1001] {
            for n in 1..=4u64 {
                let mut next = 0;
                for k in 1..=n {
                    let s = SeedSpan::new(10, count, Some(Shard { k, n })).unwrap();
                    assert_eq!(s.lo, next);
                    assert!(!s.is_empty());
                    next = s.hi;
                }
                assert_eq!(next, count);
            }
        }
        assert!(SeedSpan::new(1, 3, Some(Shard { k: 1, n: 4 })).is_err());
    }

    #[test]
    fn shard_flags_parse_or_say_why_not() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { k: 2, n: 4 }));
        for bad in ["0/4", "5/4", "1/0", "2", "a/4", "1/b"] {
            let e = bad.parse::<Shard>().unwrap_err();
            assert!(e.contains("K/N"), "{bad}: {e}");
        }
    }
}
