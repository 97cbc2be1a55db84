//! An explored counterexample as a file, and `commitlab replay` of it.
//!
//! The file holds the `explore` flags (so the replay builds the very model the search
//! explored: protocol, participants, transactions, budget, timer rule, properties), the
//! violated property, the path's trace hash and its steps, each one event of the world (with
//! the choices it took and where its handler's node crashed). Replaying applies the steps
//! one by one through `World::apply`, checking the properties on every state, and must reach
//! the same violation with the same trace hash; a different hash means the protocol or the
//! engine changed since the file was written.

use std::io::Write;
use std::path::{Path, PathBuf};

use protocols::Rendering;
use serde::{Deserialize, Serialize};
use sim_core::explore::Counterexample;

use super::ExploreArgs;
use crate::error::Result;
use crate::exit::Exit;
use crate::output::write_atomically;

/// What the file holds (see the module docs).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExploredPath {
    /// Always `"explore"`: tells `replay` this is not a `check` counterexample.
    pub kind: String,
    pub explore: ExploreArgs,
    pub property: String,
    pub trace_hash: u64,
    /// The message of the panic the last step ended in (`no-panic` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub panic: Option<String>,
    pub steps: Vec<serde_json::Value>,
}

const KIND: &str = "explore";

/// Where [`write`] put a counterexample: the JSON file, and its diagrams when it has them.
pub struct Written {
    pub json: PathBuf,
    pub mermaid: Option<PathBuf>,
    pub svg: Option<PathBuf>,
}

/// Writes `c` under `dir` as `explore-PROTOCOL-PROPERTY.json`, and its diagrams beside it
/// as `.mmd` (Mermaid) and `.svg` (space-time), as `check` writes its counterexamples.
pub fn write(dir: &Path, args: &ExploreArgs, c: &Counterexample) -> Result<Written> {
    let stem = dir.join(format!("explore-{}-{}", args.protocol, c.property));
    let json = write_json(&stem.with_extension("json"), args, c)?;
    let Some(d) = &c.diagrams else { return Ok(Written { json, mermaid: None, svg: None }) };
    let (mmd, svg) = (stem.with_extension("mmd"), stem.with_extension("svg"));
    write_atomically(&mmd, "the Mermaid diagram", |w| w.write_all(d.mermaid.as_bytes()))?;
    write_atomically(&svg, "the SVG diagram", |w| w.write_all(d.svg.as_bytes()))?;
    Ok(Written { json, mermaid: Some(mmd), svg: Some(svg) })
}

fn write_json(path: &Path, args: &ExploreArgs, c: &Counterexample) -> Result<PathBuf> {
    let file = ExploredPath {
        kind: KIND.into(),
        explore: ExploreArgs { out: None, json: false, ..args.clone() },
        property: c.property.clone(),
        trace_hash: c.trace_hash,
        panic: c.panic.clone(),
        steps: c.steps.iter().map(|s| serde_json::from_str(s).expect("steps are JSON")).collect(),
    };
    write_atomically(path, "the counterexample", |w| {
        serde_json::to_writer_pretty(&mut *w, &file)?;
        writeln!(w)
    })?;
    Ok(path.to_path_buf())
}

/// Whether `text` is an explored path's file (rather than `check`'s).
pub fn is_explored(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text).is_ok_and(|v| v["kind"] == KIND)
}

/// Replays the file at `path` (its text `text`): exit 1 when the same property is violated
/// with the same trace hash, 0 when nothing is violated any more; a different hash or
/// property is an error (exit 2): the path was not reproduced. With `diagram`, the
/// reproduced path is drawn there (as `explore --out` draws it).
pub fn replay(
    path: &Path,
    text: &str,
    diagram: Option<(&Path, Rendering)>,
    out: &mut dyn Write,
) -> Result<Exit> {
    let file: ExploredPath = serde_json::from_str(text)
        .map_err(|e| format!("{} is not an explored counterexample: {e}", path.display()))?;
    let steps: Vec<String> = file.steps.iter().map(|s| s.to_string()).collect();
    let report =
        super::run(&file.explore, Some(&steps)).map_err(|e| format!("{}: {e}", path.display()))?;
    let Some(c) = report.counterexample else {
        writeln!(
            out,
            "{}: {} steps replayed, no property violated",
            file.explore.protocol,
            steps.len()
        )?;
        return Ok(Exit::Success);
    };
    writeln!(out, "trace_hash={}", c.trace_hash)?;
    if c.trace_hash != file.trace_hash || c.property != file.property {
        return Err(format!(
            "replayed {} (trace hash {}) where the file says {} (trace hash {}): the path was \
             not reproduced",
            c.property, c.trace_hash, file.property, file.trace_hash
        )
        .into());
    }
    writeln!(out, "same trace hash as recorded")?;
    if let Some((to, kind)) = diagram {
        let Some(d) = &c.diagrams else {
            let protocol = &file.explore.protocol;
            return Err(format!("--diagram: {protocol}'s explored paths are not drawn").into());
        };
        let text = match kind {
            Rendering::Svg { .. } => &d.svg,
            _ => &d.mermaid,
        };
        write_atomically(to, "the diagram (--diagram)", |w| w.write_all(text.as_bytes()))?;
        writeln!(out, "diagram: {}", to.display())?;
    }
    super::write_path(out, &c)?;
    Ok(Exit::PropertyFailed)
}
