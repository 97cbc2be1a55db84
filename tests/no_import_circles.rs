//! No import circle inside any crate (issue "one seam"): within each crate, the files form
//! layers, each using only files below it, so any file can be read, tested and replaced
//! with what it stands on and nothing above it.
//!
//! An arrow A -> B means the code of file A names an item of file B by a `crate::` or
//! `super::` path (in a `use` or inline, grouped imports expanded; comments left out). A
//! child module naming its own parent (`super::Options` in `sweep/x.rs`) is no arrow: the
//! parent declares the child, so they are one unit. Every other circle fails the test with
//! the arrows that make it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use petgraph::algo::tarjan_scc;
use petgraph::graph::DiGraph;

const CRATES: &[&str] =
    &["sim-core/src", "protocols/src", "checkers/src", "experiments/src", "src"];

/// Every `.rs` file under `dir`, by path relative to it.
fn sources(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                out.insert(path.strip_prefix(dir).unwrap().to_path_buf(), text);
            }
        }
    }
    out
}

/// The module path of a file: `a/b.rs` and `a/b/mod.rs` are `[a, b]`; `lib.rs` is `[]`.
fn module_of(file: &Path) -> Vec<String> {
    let mut parts: Vec<String> =
        file.with_extension("").iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        parts.pop();
    }
    parts
}

/// The code of `text` without its comments (line comments and doc comments).
fn code(text: &str) -> String {
    text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The paths named after `crate::` / `super::` at byte `at` of `s`, grouped imports
/// expanded (`a::{b::C, d}` gives `a::b::C` and `a::d`).
fn paths_at(s: &str, prefix: &[String]) -> Vec<Vec<String>> {
    let mut path = prefix.to_vec();
    let mut rest = s;
    loop {
        let ident: String = rest.chars().take_while(|&c| is_ident(c)).collect();
        if !ident.is_empty() {
            rest = &rest[ident.len()..];
            path.push(ident);
            match rest.strip_prefix("::") {
                Some(r) => rest = r,
                None => return vec![path],
            }
        } else if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0usize;
            let mut items = Vec::new();
            let mut start = 0;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        items.push(&group[start..i]);
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        items.push(&group[start..i]);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            return items.iter().flat_map(|item| paths_at(item.trim(), &path)).collect();
        } else {
            return vec![path];
        }
    }
}

/// The files `text` (the file `file`) names items of, as module paths.
fn named(file: &Path, text: &str) -> Vec<Vec<String>> {
    let me = module_of(file);
    let code = code(text);
    let mut out = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| is_ident(c) || c == '$') {
            continue; // `$crate::` in a macro, or part of a longer name
        }
        out.extend(paths_at(&code[at + "crate::".len()..], &[]));
    }
    for (at, _) in code.match_indices("super::") {
        if code[..at].ends_with("super::") || code[..at].chars().next_back().is_some_and(is_ident) {
            continue; // counted from the first `super::` of a chain
        }
        let mut base = me.clone();
        let mut rest = &code[at..];
        while let Some(r) = rest.strip_prefix("super::") {
            base.pop();
            rest = r;
        }
        out.extend(paths_at(rest, &base));
    }
    out
}

#[test]
fn no_crate_has_an_import_circle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut circles = Vec::new();
    for krate in CRATES {
        let files = sources(&root.join(krate));
        let modules: BTreeMap<Vec<String>, &PathBuf> =
            files.keys().map(|f| (module_of(f), f)).collect();
        let mut graph = DiGraph::<&PathBuf, ()>::new();
        let node: BTreeMap<&PathBuf, _> = files.keys().map(|f| (f, graph.add_node(f))).collect();
        for (file, text) in &files {
            let me = module_of(file);
            for path in named(file, text) {
                // The longest prefix of the path that is a file: the file the item lives in.
                let Some(target) = (0..=path.len()).rev().find_map(|k| modules.get(&path[..k]))
                else {
                    continue;
                };
                let target_module = module_of(target);
                let is_ancestor = me.starts_with(&target_module);
                if *target != file && !is_ancestor {
                    graph.update_edge(node[file], node[target], ());
                }
            }
        }
        for scc in tarjan_scc(&graph) {
            if scc.len() < 2 {
                continue;
            }
            let mut arrows = Vec::new();
            for &a in &scc {
                for b in graph.neighbors(a).filter(|b| scc.contains(b)) {
                    arrows.push(format!("{} -> {}", graph[a].display(), graph[b].display()));
                }
            }
            arrows.sort();
            circles.push(format!("{krate}: {}", arrows.join(", ")));
        }
    }
    assert!(circles.is_empty(), "import circles:\n{}", circles.join("\n"));
}

/// The test's reading of paths is itself checked, so a circle cannot hide behind it.
#[test]
fn grouped_and_relative_imports_are_read() {
    let named = named(
        Path::new("a/b.rs"),
        "use crate::{x::{Y, z::W}, v};\nuse super::super::q::R; // crate::not::this\n\
         fn f() { crate::inline::g(); }",
    );
    let as_text: Vec<String> = named.iter().map(|p| p.join("::")).collect();
    assert_eq!(as_text, ["x::Y", "x::z::W", "v", "inline::g", "q::R"]);
    assert_eq!(module_of(Path::new("a/mod.rs")), ["a"]);
    assert_eq!(module_of(Path::new("lib.rs")), Vec::<String>::new());
}
