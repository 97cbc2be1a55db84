//! `commitlab check`: search a protocol for a counterexample to a property and print the
//! minimal one, with its witness, a Mermaid diagram and the command that replays it.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use protocols::Rendering;
use serde::{Deserialize, Serialize};
use sim_core::FaultClass;

use crate::error::Result;
use crate::exit::Exit;
use crate::output::write_atomically;
use crate::search::counterexample::replay;
use crate::search::{Counterexample, Found, Outcome, SearchConfig, Target, search};
use crate::shard::{PartialReader, PartialWriter, SeedSpan, Shard};

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Protocol name (see `commitlab list`).
    #[arg(long)]
    pub protocol: String,
    /// The property to search a counterexample to (the list below is `Target::ALL`).
    #[arg(long, help = property_help())]
    pub property: String,
    /// Fault classes to draw from (the list below is `FaultClass::ALL`).
    #[arg(long, help = faults_help())]
    pub faults: Option<String>,
    #[arg(long, default_value_t = 3)]
    pub participants: u32,
    /// Transactions per case.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub txns: u64,
    /// How many cases to try before giving up.
    #[arg(long, default_value_t = 10_000)]
    pub cases: u32,
    /// Seeds the search (which cases are drawn).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Independent searches with search seeds SEED..SEED+SEEDS, each of up to --cases
    /// cases, in seed order; the first counterexample found is the result.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub seeds: u64,
    /// Search only part K of N of the search seeds (1 <= K <= N) and leave its partial
    /// state in --out, for `commitlab merge` (see README, "Sharding").
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
    /// At most this many faults per plan.
    #[arg(long, default_value_t = 4)]
    pub max_faults: usize,
    /// A setting of the protocol family's own section, e.g. `--set f=2` for Paxos Commit
    /// (`commitlab list` shows each family's settings). Repeatable.
    #[arg(long, value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Crash at most N distinct nodes of the roles named, `ROLE[,ROLE...]=N`: e.g.
    /// `coordinator,coordinator-replica=1` lets a plan crash one member of 2pc-raft's
    /// coordinator group (F = 1), `acceptor=1` one of Paxos Commit's acceptors. Per replicated
    /// group: `coordinator-group=N` (at most N members of the coordinator group),
    /// `participant-group=N` (at most N members of *each* participant group, with
    /// `--set participant_replicas=R`), `each-group=N` (every group, each on its own).
    /// Repeatable: a plan respects every limit given. Crashes past a limit are left out of a
    /// drawn plan.
    #[arg(long, value_name = "ROLES=N")]
    pub crash_limit: Vec<String>,
    /// Directory for the counterexample (JSON) and its diagrams.
    #[arg(long, default_value = "results/counterexamples")]
    pub out: PathBuf,
}

/// `--property` help: every property `check` searches, from the catalog.
fn property_help() -> String {
    let names: Vec<&str> = Target::ALL.iter().map(|t| t.name()).collect();
    format!(
        "The property to search a counterexample to: {} (those that apply to the protocol: \
         `commitlab list`)",
        names.join(" | ")
    )
}

/// `--faults` help: every fault class, from the catalog.
fn faults_help() -> String {
    let names: Vec<&str> = FaultClass::ALL.iter().map(|c| c.name()).collect();
    format!(
        "Fault classes to draw from, comma-separated: {}, or `all`. Default: `crash` \
         (crash-stop) for non-blocking, `partition,crash,recover` (cascading failures) for \
         quorum-non-blocking, `all` otherwise",
        names.join(", ")
    )
}

pub fn parse_faults(list: Option<&str>, target: Target) -> Result<Vec<FaultClass>> {
    let list = list.unwrap_or(match target {
        Target::NonBlocking => "crash",
        Target::QuorumNonBlocking => "partition,crash,recover",
        _ => "all",
    });
    if list == "all" {
        return Ok(FaultClass::ALL.to_vec());
    }
    let mut classes = Vec::new();
    for name in list.split(',').map(str::trim) {
        let c = FaultClass::parse(name).map_err(|_| {
            let known = FaultClass::ALL.iter().map(|c| c.name()).chain(["all"]);
            format!("--faults: {}", protocols::family::unknown_name("fault class", name, known))
        })?;
        if !classes.contains(&c) {
            classes.push(c);
        }
    }
    if classes.is_empty() {
        return Err("--faults: name at least one fault class".into());
    }
    Ok(classes)
}

/// `--crash-limit` (each occurrence): `ROLE[,ROLE...]=N`, one limit on the nodes of those
/// roles; `KIND-group=N`, one limit per replicated group whose first member plays `KIND`
/// (`coordinator-group`, `participant-group`); `each-group=N`, one per group.
fn parse_crash_limit(text: &str, roles: &protocols::Roles) -> Result<Vec<sim_core::CrashLimit>> {
    let usage = "--crash-limit: expected ROLE[,ROLE...]=N, e.g. coordinator,coordinator-replica=1, \
                 or KIND-group=N / each-group=N";
    let (names, max) = text.split_once('=').ok_or(usage)?;
    let max: usize = max.trim().parse().map_err(|_| format!("{usage}; got {text:?}"))?;
    let names = names.trim();
    let mut known: Vec<&str> = roles.names.iter().map(String::as_str).collect();
    known.dedup();
    let limit = |nodes: &Vec<sim_core::NodeId>| sim_core::CrashLimit { nodes: nodes.clone(), max };
    if !known.contains(&names) {
        let kind = names.strip_suffix("-group").filter(|_| names != EACH_GROUP);
        if names == EACH_GROUP || kind.is_some() {
            let groups: Vec<sim_core::CrashLimit> = roles
                .groups
                .iter()
                .filter(|g| kind.is_none_or(|k| roles.is(g[0], k)))
                .map(limit)
                .collect();
            if groups.is_empty() {
                let mut kinds: Vec<String> =
                    roles.groups.iter().map(|g| format!("{}-group", roles.of(g[0]))).collect();
                kinds.dedup();
                let e = if kinds.is_empty() {
                    format!("{names}: this protocol (with these settings) has no replicated group")
                } else {
                    kinds.push(EACH_GROUP.into());
                    protocols::family::unknown_name(
                        "group",
                        names,
                        kinds.iter().map(String::as_str),
                    )
                };
                return Err(format!("--crash-limit: {e}").into());
            }
            return Ok(groups);
        }
    }
    // A misspelt group form (`participant-grup`) is as likely as a misspelt role: offer both.
    let mut group_forms: Vec<String> =
        roles.groups.iter().map(|g| format!("{}-group", roles.of(g[0]))).collect();
    group_forms.dedup();
    if !group_forms.is_empty() {
        group_forms.push(EACH_GROUP.into());
    }
    let mut nodes = Vec::new();
    for name in names.split(',').map(str::trim) {
        if !known.contains(&name) {
            let valid = known.iter().copied().chain(group_forms.iter().map(String::as_str));
            let e = protocols::family::unknown_name("role or group", name, valid);
            return Err(format!("--crash-limit: {e}").into());
        }
        nodes.extend(roles.ids(name));
    }
    Ok(vec![limit(&nodes)])
}

/// `--crash-limit each-group=N`: every replicated group, each on its own.
const EACH_GROUP: &str = "each-group";

pub fn main(args: &CheckArgs, out: &mut dyn Write) -> Result<Exit> {
    let target = Target::parse(&args.property)?;
    let spec =
        protocols::catalog::lookup(&args.protocol).map_err(|e| format!("--protocol: {e}"))?;
    if !spec.has_property(target.name()) {
        return Err(format!(
            "--property {}: does not apply to {} (its properties: {})",
            target.name(),
            spec.name,
            spec.family.properties.join(", ")
        )
        .into());
    }
    let max = protocols::Scenario::MAX_PARTICIPANTS;
    if !(1..=max).contains(&args.participants) {
        return Err(format!("--participants must be within 1..={max}").into());
    }
    if args.cases == 0 || args.max_faults == 0 {
        return Err("--cases and --max-faults must be at least 1".into());
    }
    let classes = parse_faults(args.faults.as_deref(), target)?;

    let mut cfg = SearchConfig::new(&args.protocol, target, classes.clone());
    cfg.participants = args.participants;
    cfg.txns = args.txns;
    cfg.cases = args.cases;
    cfg.seed = args.seed;
    cfg.max_faults = args.max_faults;
    for kv in &args.set {
        let (key, value) =
            protocols::family::parse_setting(kv).map_err(|e| format!("--set {e}"))?;
        cfg.family.insert(key, value);
    }
    let roles = cfg.roles().map_err(|e| format!("--set: {e}"))?;
    for limit in &args.crash_limit {
        cfg.crash_limits.extend(parse_crash_limit(limit, &roles)?);
    }

    let settings = Settings {
        protocol: args.protocol.clone(),
        property: target.name().to_string(),
        faults: classes.iter().map(|c| c.name().to_string()).collect(),
        participants: args.participants,
        txns: args.txns,
        cases: args.cases,
        seed: args.seed,
        seeds: args.seeds,
        max_faults: args.max_faults,
        set: args.set.clone(),
        crash_limit: args.crash_limit.clone(),
    };
    let span = SeedSpan::new(args.seed, args.seeds, args.shard)?;
    let mut partial =
        PartialWriter::for_shard(&args.out, "check", EXPERIMENT, settings.clone(), args.shard, 1)?;
    let bar = ProgressBar::new(u64::from(args.cases) * span.len());
    bar.set_style(
        ProgressStyle::with_template("{spinner} searching {pos}/{len} runs {elapsed} {msg}")
            .expect("static template"),
    );
    let mut searched = Searched { cases_without: 0, found: None };
    for i in span.lo..span.hi {
        cfg.seed = span.seed(i);
        let done = (i - span.lo) * u64::from(args.cases);
        let outcome = search(&cfg, &|n| {
            if n % 64 == 0 {
                bar.set_position(done + n);
            }
        });
        match outcome {
            Err(e) => {
                bar.finish_and_clear();
                return Err(e);
            }
            Ok(Outcome::NotFound { stats }) => searched.cases_without += stats.cases_run,
            Ok(Outcome::Found(found)) => {
                searched.found = Some((cfg.seed, *found));
                break;
            }
        }
    }
    bar.finish_and_clear();
    if let Some(p) = partial.as_mut() {
        p.line(&searched)?;
    }
    let exit = report(&settings, &searched, &args.out, out)?;
    PartialWriter::finish_shard(partial, &span, out)?;
    Ok(exit)
}

/// The experiment name of `check` in partial files.
pub const EXPERIMENT: &str = "check";

/// What a check's result depends on, as a shard records it and a merge compares it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub protocol: String,
    pub property: String,
    pub faults: Vec<String>,
    pub participants: u32,
    pub txns: u64,
    pub cases: u32,
    pub seed: u64,
    pub seeds: u64,
    pub max_faults: usize,
    pub set: Vec<String>,
    /// `--crash-limit` as given: the plans a search may draw depend on it, so shards with
    /// other limits are not parts of one run (absent in partial files from before it).
    #[serde(default)]
    pub crash_limit: Vec<String>,
}

/// How searches over some search seeds went, in seed order: the cases of those that found
/// nothing, and the first counterexample (its search seed and what was found), if any.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Searched {
    pub cases_without: u64,
    pub found: Option<(u64, Found)>,
}

/// A check merged from shards: what one run over every search seed would have found.
pub struct Merged {
    settings: Settings,
    searched: Searched,
}

/// Merges the shards' results (readers in shard order, past their headers): the first
/// counterexample in search-seed order, which is the one a single run stops at; the cases
/// of every search before it.
pub fn merge(settings: Settings, readers: &mut [PartialReader]) -> Result<Merged> {
    let mut merged = Searched { cases_without: 0, found: None };
    for r in readers.iter_mut() {
        let s: Searched = r.read_line()?;
        r.expect_end()?;
        if merged.found.is_none() {
            merged.cases_without += s.cases_without;
            merged.found = s.found;
        }
    }
    Ok(Merged { settings, searched: merged })
}

/// Writes and prints a merged check exactly as a single run would have.
pub fn write_merged(m: &Merged, dir: &Path, out: &mut dyn Write) -> Result<Exit> {
    report(&m.settings, &m.searched, dir, out)
}

/// Prints the result and writes the counterexample files into `dir`: a single run, a
/// shard and a merge all report through here.
fn report(
    settings: &Settings,
    searched: &Searched,
    dir: &Path,
    out: &mut dyn Write,
) -> Result<Exit> {
    let target = Target::parse(&settings.property)?;
    let seeds = if settings.seeds == 1 {
        format!("search seed {}", settings.seed)
    } else {
        let last = settings.seed.wrapping_add(settings.seeds - 1);
        format!("search seeds {}..={last}", settings.seed)
    };
    let limits = if settings.crash_limit.is_empty() {
        String::new()
    } else {
        format!(", crash limits {}", settings.crash_limit.join(" "))
    };
    let header = format!(
        "{} / {}: faults {}{limits}, {} participants, {} txn(s), {seeds}",
        settings.protocol,
        target.name(),
        settings.faults.join(","),
        settings.participants,
        settings.txns,
    );
    match &searched.found {
        None => {
            writeln!(out, "{header}")?;
            writeln!(
                out,
                "no counterexample in {} cases: {} held",
                searched.cases_without,
                target.name()
            )?;
            Ok(Exit::Success)
        }
        Some((seed, found)) => {
            let replayed = replay(&found.scenario, target)?;
            let c =
                Counterexample::new(target, found.scenario.clone(), &replayed, Some(found.stats));
            let stem = format!("{}-{}", settings.protocol, target.name());
            let json_path = dir.join(format!("{stem}.json"));
            let mmd_path = dir.join(format!("{stem}.mmd"));
            let svg_path = dir.join(format!("{stem}.svg"));
            write_atomically(&json_path, "the counterexample", |w| {
                w.write_all(c.to_json().as_bytes())
            })?;
            writeln!(out, "{header}")?;
            if settings.seeds > 1 {
                writeln!(
                    out,
                    "search seed {seed}: the first with a counterexample ({} cases of earlier seeds found none)",
                    searched.cases_without
                )?;
            }
            writeln!(
                out,
                "COUNTEREXAMPLE after {} cases, shrunk in {} more runs",
                found.stats.cases_to_find, found.stats.shrink_runs
            )?;
            crate::report::print_counterexample(&c, out)?;
            // A run a panic cut short leaves no trace to draw: the file is the finding.
            if let Some(outcome) = &replayed.outcome {
                // The fault phase is the story; a blocked run's endless retries are not.
                let mermaid =
                    outcome.render(Rendering::Mermaid { max_lines: 60, stop_at_liveness: true });
                write_atomically(&mmd_path, "the Mermaid diagram", |w| {
                    w.write_all(mermaid.as_bytes())
                })?;
                let svg = outcome.render(Rendering::Svg { height_px: 1600 });
                write_atomically(&svg_path, "the SVG diagram", |w| w.write_all(svg.as_bytes()))?;
                writeln!(
                    out,
                    "\nmermaid sequence diagram of the minimal run ({}):",
                    mmd_path.display()
                )?;
                writeln!(out, "```mermaid\n{}```", mermaid)?;
                writeln!(out, "space-time diagram: {}", svg_path.display())?;
            }
            // The form that works from a clone; README says how to put commitlab on PATH.
            writeln!(out, "replay: cargo run --release -- replay {}", json_path.display())?;
            Ok(Exit::PropertyFailed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles() -> protocols::Roles {
        SearchConfig::new("2pc-raft", Target::NonBlocking, vec![]).roles().unwrap()
    }

    #[test]
    fn a_crash_limit_names_roles_and_a_count() {
        let limits = parse_crash_limit("coordinator,coordinator-replica=1", &roles()).unwrap();
        let [limit] = &limits[..] else { panic!("one limit: {limits:?}") };
        assert_eq!(limit.nodes, [sim_core::NodeId(0), sim_core::NodeId(5), sim_core::NodeId(6)]);
        assert_eq!(limit.max, 1);
    }

    #[test]
    fn a_bad_crash_limit_says_what_is_wrong() {
        let e = parse_crash_limit("coordinator-replicas=1", &roles()).unwrap_err().to_string();
        assert!(e.contains("coordinator-replica"), "{e}");
        let e = parse_crash_limit("coordinator", &roles()).unwrap_err().to_string();
        assert!(e.contains("ROLE[,ROLE...]=N"), "{e}");
        assert!(parse_crash_limit("coordinator=x", &roles()).is_err());
    }

    #[test]
    fn a_group_limit_is_one_limit_per_group_and_limits_add_up() {
        let roles = roles();
        let limits = parse_crash_limit("coordinator-group=1", &roles).unwrap();
        assert_eq!(limits.len(), 1);
        assert_eq!(
            limits[0].nodes,
            [sim_core::NodeId(0), sim_core::NodeId(5), sim_core::NodeId(6)]
        );
        assert_eq!(parse_crash_limit("each-group=2", &roles).unwrap()[0].max, 2);
        let e = parse_crash_limit("coordinater-group=1", &roles).unwrap_err().to_string();
        assert!(e.contains("did you mean \"coordinator-group\""), "{e}");
        // Misspelt so that it no longer ends in `-group`: still offered the group form.
        let e = parse_crash_limit("coordinator-grup=1", &roles).unwrap_err().to_string();
        assert!(e.contains("did you mean \"coordinator-group\""), "{e}");
        let plain = SearchConfig::new("2pc", Target::NonBlocking, vec![]).roles().unwrap();
        let e = parse_crash_limit("each-group=1", &plain).unwrap_err().to_string();
        assert!(e.contains("no replicated group"), "{e}");
    }
}
