//! `commitlab replay FILE.json`: re-run a counterexample exactly and show that it gives the
//! same trace hash and the same verdict.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use crate::error::Result;
use crate::exit::Exit;
use crate::output::write_atomically;
use crate::run::diagram_kind;
use crate::search::Counterexample;
use crate::search::counterexample::replay;

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// A counterexample file written by `commitlab check` or `commitlab explore --out`.
    pub file: PathBuf,
    /// Draw the replayed run once it is reproduced: a space-time diagram (`.svg`) or a
    /// Mermaid sequence diagram (`.mmd`), chosen by the extension.
    #[arg(long, value_name = "FILE.svg|FILE.mmd")]
    pub diagram: Option<PathBuf>,
}

/// Exit 1 when the replayed run still violates the property (as a counterexample should),
/// 0 when it no longer does; a different trace hash is an error (exit 2): the run was not
/// reproduced.
pub fn main(args: &ReplayArgs, out: &mut dyn Write) -> Result<Exit> {
    // An explored path (`commitlab explore --out DIR`) replays through the explorer's world.
    // Checked before anything runs: a bad path is an error, not a replay without its drawing.
    let diagram = args.diagram.as_deref().map(|p| diagram_kind(p).map(|k| (p, k))).transpose()?;
    if let Ok(text) = std::fs::read_to_string(&args.file)
        && crate::explore::is_explored(&text)
    {
        return crate::explore::replay_explored(&args.file, &text, diagram, out);
    }
    let c = Counterexample::load(&args.file)?;
    let target = c.target()?;
    let r = replay(&c.scenario, target)?;
    writeln!(out, "trace_hash={}", r.trace_hash)?;
    let replayed = Counterexample::new(target, c.scenario.clone(), &r, c.search);
    if r.trace_hash != c.trace_hash {
        // Show what the run does now, then fail: the recorded run was not reproduced (the
        // protocol or engine changed since the file was written).
        crate::report::print_counterexample(&replayed, out)?;
        return Err(format!(
            "trace hash {} differs from the file's {}: the run was not reproduced",
            r.trace_hash, c.trace_hash
        )
        .into());
    }
    writeln!(out, "same trace hash as recorded")?;
    if let Some((path, kind)) = diagram {
        // A run a panic cut short has no trace left to draw.
        let Some(outcome) = &r.outcome else {
            return Err(
                format!("--diagram {}: the run panicked, nothing to draw", path.display()).into()
            );
        };
        let text = outcome.render(kind);
        write_atomically(path, "the diagram (--diagram)", |w| w.write_all(text.as_bytes()))?;
        writeln!(out, "diagram: {}", path.display())?;
    }
    crate::report::print_counterexample(&replayed, out)?;
    Ok(if r.violations.is_empty() { Exit::Success } else { Exit::PropertyFailed })
}
