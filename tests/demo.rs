//! `commitlab demo`: runs (exit 0), tells every correct protocol's story over the named
//! services, and its blocking statements agree with the coordinator-failure study computed
//! here (a protocol the demo shows blocked at a crash point blocks there in the study too).

use std::process::Command;

use experiments::study::coordinator_failure as study;

fn demo(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_commitlab")).arg("demo").args(args).output().unwrap()
}

/// The demo's section of `protocol`: from its heading to the next.
fn section<'a>(out: &'a str, protocol: &str) -> &'a str {
    let head = format!("=== {protocol} — ");
    let start = out.find(&head).unwrap_or_else(|| panic!("no section for {protocol}"));
    let rest = &out[start + head.len()..];
    &rest[..rest.find("\n=== ").unwrap_or(rest.len())]
}

#[test]
fn the_demo_runs_and_tells_every_protocol_over_named_services() {
    let o = demo(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8(o.stdout).unwrap();
    for spec in protocols::catalog().iter().filter(|s| s.correct && s.decides_transactions()) {
        let s = section(&out, spec.name);
        assert!(s.contains("1. No failure:"), "{}", spec.name);
        assert!(s.contains("2. The coordinator crashes at the worst moment"), "{}", spec.name);
        assert!(s.contains("Who waits, for whom:"), "{}", spec.name);
        assert_eq!(s.matches("How it ends:").count(), 2, "{}", spec.name);
        // A diagram: lanes named after the services, arrows between them.
        let services: &[&str] = if spec.has_property("saga-atomicity") {
            &["Orders", "Stock", "Payments", "create order", "reserve stock", "charge customer"]
        } else {
            &["DB-1", "DB-2", "DB-3"]
        };
        for name in services {
            assert!(s.contains(name), "{}: no {name}", spec.name);
        }
        assert!(s.contains("o---"), "{}: no arrow drawn", spec.name);
        assert!(!s.contains(" p1 "), "{}: a participant kept its raw label", spec.name);
    }
}

#[test]
fn blocked_in_the_demo_means_blocked_in_the_study_at_that_crash_point() {
    let out = String::from_utf8(demo(&[]).stdout).unwrap();
    let opts = study::Options { seeds: 20, threads: 2, plots: false, ..study::Options::default() };
    let (rows, latencies) = study::measure(&opts).unwrap();
    let summary = study::summarize(&rows, &latencies);
    let mut shown_blocked = 0;
    for s in &summary {
        let text = section(&out, &s.protocol);
        let mark = text
            .split("right after `")
            .nth(1)
            .and_then(|r| r.split('`').next())
            .unwrap_or_else(|| panic!("{}: no crash point named", s.protocol));
        if text.contains("BLOCKED") {
            shown_blocked += 1;
            assert!(
                s.blocking_points.iter().any(|p| p == mark),
                "{}: the demo shows blocking at {mark}, the study at {:?}",
                s.protocol,
                s.blocking_points
            );
        } else if !s.blocking_points.is_empty() {
            // The worst moment is measured: a protocol that can block is shown blocked.
            panic!(
                "{}: blocks in the study at {:?}, not in the demo",
                s.protocol, s.blocking_points
            );
        }
    }
    let blocking = summary.iter().filter(|s| !s.blocking_points.is_empty()).count();
    assert_eq!(shown_blocked, blocking);
}

#[test]
fn one_protocol_and_an_unknown_name() {
    let o = demo(&["--protocol", "3pc"]);
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("=== 3pc — "));
    assert_eq!(out.matches("\n=== ").count(), 1, "only 3pc:\n{out}");
    let o = demo(&["--protocol", "3pcc"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("3pcc") && err.contains("3pc"), "{err}");
}

#[test]
fn out_writes_both_runs_as_svg_diagrams_and_a_bad_directory_is_exit_2() {
    let d = tempfile::tempdir().unwrap();
    let o = demo(&["--protocol", "2pc", "--out", d.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    for which in ["no-failure", "coordinator-crash"] {
        let svg = std::fs::read_to_string(d.path().join(format!("demo-2pc-{which}.svg"))).unwrap();
        assert!(svg.contains("<svg") && svg.contains("DB-1"), "{which}: {}", &svg[..200]);
    }
    let file = d.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let o = demo(&["--protocol", "2pc", "--out", file.join("sub").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("demo-2pc-no-failure.svg"));
}
