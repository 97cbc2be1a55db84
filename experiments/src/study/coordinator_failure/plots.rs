//! SVG plots of study results, drawn with plotters' SVG backend into memory and written
//! atomically (no half-drawn file after an interruption). Plots read the same rows the CSV
//! holds, so a figure never shows a number the CSV does not.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::row::{FAULT_HORIZON_US, Row};
use crate::error::Result;
use crate::output::write_atomically;
use crate::plot::plot_err;

fn save(path: &Path, svg: &str) -> Result<()> {
    write_atomically(path, "the SVG plot", |w| std::io::Write::write_all(w, svg.as_bytes()))
}

/// Protocols in row order, without repeats.
fn protocols_of(rows: &[Row]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in rows {
        if out.last() != Some(&r.protocol) {
            out.push(r.protocol.clone());
        }
    }
    out
}

/// Writes `blocked_by_crash_point.svg` and `in_doubt_vs_recovery.svg` into `dir`.
pub fn coordinator_failure(rows: &[Row], dir: &Path) -> Result<Vec<PathBuf>> {
    let blocked = dir.join("blocked_by_crash_point.svg");
    save(&blocked, &blocked_by_crash_point(rows)?)?;
    let in_doubt = dir.join("in_doubt_vs_recovery.svg");
    save(&in_doubt, &in_doubt_vs_recovery(rows)?)?;
    Ok(vec![blocked, in_doubt])
}

/// One panel per protocol: the share of runs blocked, per crash point, recovery never.
pub fn blocked_by_crash_point(rows: &[Row]) -> Result<String> {
    let protocols = protocols_of(rows);
    let cols = 2usize;
    let panel_rows = protocols.len().div_ceil(cols).max(1);
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (1000, 360 * panel_rows as u32)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let root = root
            .titled(
                "Runs blocked when the coordinator crashes and never recovers",
                ("sans-serif", 20),
            )
            .map_err(plot_err)?;
        let panels = root.split_evenly((panel_rows, cols));
        for (protocol, panel) in protocols.iter().zip(panels.iter()) {
            let mine: Vec<&Row> = rows
                .iter()
                .filter(|r| &r.protocol == protocol && r.recovery_ms.is_none())
                .collect();
            draw_blocked_panel(panel, protocol, &mine)?;
        }
        root.present().map_err(plot_err)?;
    }
    Ok(svg)
}

/// Horizontal bars: crash points down the side (names read left to right, never over a
/// bar), the share of runs blocked along the bottom, each bar labelled with its value (so a
/// 0% bar is visibly zero, not missing).
fn draw_blocked_panel(
    panel: &DrawingArea<SVGBackend<'_>, Shift>,
    protocol: &str,
    rows: &[&Row],
) -> Result<()> {
    let marks: Vec<String> = rows.iter().map(|r| r.crash_point.clone()).collect();
    let n = marks.len().max(1);
    let mut chart = ChartBuilder::on(panel)
        .caption(protocol, ("sans-serif", 16))
        .margin(8)
        .margin_right(24)
        .x_label_area_size(40)
        .y_label_area_size(190)
        // Integer ranges are inclusive in plotters: 0..n-1 gives exactly n rows (a single
        // row needs 0..1, or its segment would have no extent).
        .build_cartesian_2d(0f64..100f64, (0..(n - 1).max(1)).into_segmented())
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(WHITE)
        .x_desc("% of runs blocked")
        .x_labels(6)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_labels(n)
        .y_label_style(("sans-serif", 12))
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                marks.get(*i).cloned().unwrap_or_default()
            }
            SegmentValue::Last => String::new(),
        })
        .draw()
        .map_err(plot_err)?;
    // Rectangles, not `Histogram`: its bins live in a hash map, so the element order (and
    // the bytes of the SVG) would change from run to run.
    let row_end = |i: usize| {
        if i + 1 == n && n > 1 { SegmentValue::Last } else { SegmentValue::Exact(i + 1) }
    };
    let pct = |r: &Row| 100.0 * r.blocked_runs as f64 / r.runs.max(1) as f64;
    chart
        .draw_series(rows.iter().enumerate().map(|(i, r)| {
            let mut bar = Rectangle::new(
                [(0.0, SegmentValue::Exact(i)), (pct(r), row_end(i))],
                RED.mix(0.7).filled(),
            );
            bar.set_margin(5, 5, 0, 0);
            bar
        }))
        .map_err(plot_err)?;
    chart
        .draw_series(rows.iter().enumerate().map(|(i, r)| {
            let p = pct(r);
            // Inside the bar's end when it is long, just past it otherwise.
            let (x, anchor) = if p > 80.0 { (p - 1.0, HPos::Right) } else { (p + 1.0, HPos::Left) };
            Text::new(
                format!("{p:.0}%"),
                (x, SegmentValue::CenterOf(i)),
                ("sans-serif", 12)
                    .into_font()
                    .into_text_style(panel)
                    .pos(Pos::new(anchor, VPos::Center)),
            )
        }))
        .map_err(plot_err)?;
    Ok(())
}

/// Per protocol, the mean (over crash points) of the per-run longest in-doubt interval,
/// against the coordinator's recovery delay; "never" is drawn at the fault-phase horizon.
pub fn in_doubt_vs_recovery(rows: &[Row]) -> Result<String> {
    let protocols = protocols_of(rows);
    let horizon_ms = (FAULT_HORIZON_US / 1000) as f64;
    let series: Vec<(String, Vec<(f64, f64)>)> = protocols
        .iter()
        .map(|p| {
            let mut points: Vec<(f64, f64)> = Vec::new();
            for rec in crate::study::coordinator_failure::RECOVERIES_MS {
                let vals: Vec<f64> = rows
                    .iter()
                    .filter(|r| &r.protocol == p && r.recovery_ms == rec)
                    .filter_map(|r| r.mean_in_doubt_ms.parse::<f64>().ok())
                    .collect();
                if !vals.is_empty() {
                    let x = rec.map_or(horizon_ms, |ms| ms as f64);
                    points.push((x, vals.iter().sum::<f64>() / vals.len() as f64));
                }
            }
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            (p.clone(), points)
        })
        .collect();
    let y_max = series.iter().flat_map(|(_, s)| s.iter().map(|p| p.1)).fold(1.0, f64::max);
    // A log axis has no zero: protocols never in doubt (the sagas) are drawn on a labelled
    // floor line instead of vanishing below the axis.
    let floor = 0.5f64;
    let never_in_doubt = |points: &[(f64, f64)]| points.iter().all(|p| p.1 < floor);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 600)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Longest in-doubt interval vs. coordinator recovery delay", ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d((5f64..5000f64).log_scale(), (floor * 0.6..y_max * 2.0).log_scale())
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc(format!("recovery delay, ms (never = the {horizon_ms} ms fault phase)"))
            .y_desc("mean longest in-doubt, ms (log)")
            .draw()
            .map_err(plot_err)?;
        chart
            .draw_series(LineSeries::new(
                [(5.0, floor), (5000.0, floor)],
                BLACK.mix(0.5).stroke_width(1),
            ))
            .map_err(plot_err)?;
        chart
            .draw_series(std::iter::once(Text::new(
                "0 ms: never in doubt",
                (5.5, floor * 0.93),
                ("sans-serif", 12).into_font().color(&BLACK.mix(0.7)),
            )))
            .map_err(plot_err)?;
        // Series that coincide (2PC and its presumed-abort variant) stay visible: every other
        // series is a wide translucent band under a thin line, and each has its own marker.
        for (i, (protocol, points)) in series.iter().enumerate() {
            let (width, alpha) = if i % 2 == 0 { (7, 0.45) } else { (2, 1.0) };
            let color = Palette99::pick(i).mix(alpha);
            let shown: Vec<(f64, f64)> = points.iter().map(|&(x, y)| (x, y.max(floor))).collect();
            let name = if never_in_doubt(points) {
                format!("{protocol} (0 ms: on the floor line)")
            } else {
                protocol.clone()
            };
            chart
                .draw_series(LineSeries::new(shown.iter().copied(), color.stroke_width(width)))
                .map_err(plot_err)?
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(width))
                });
            let size = if i % 2 == 0 { 5 } else { 3 };
            match i % 4 {
                0 => chart
                    .draw_series(shown.iter().map(|&p| Circle::new(p, size + 1, color.filled()))),
                1 => chart.draw_series(
                    shown.iter().map(|&p| TriangleMarker::new(p, size + 2, color.filled())),
                ),
                2 => chart.draw_series(
                    shown.iter().map(|&p| Cross::new(p, size + 1, color.stroke_width(2))),
                ),
                _ => chart.draw_series(
                    shown.iter().map(|&p| Circle::new(p, size + 1, color.stroke_width(2))),
                ),
            }
            .map_err(plot_err)?;
        }
        crate::plot::draw_legend(&mut chart)?;
        root.present().map_err(plot_err)?;
    }
    Ok(svg)
}
