//! `compare.svg`: per protocol, the share of runs that went wrong under each failure the
//! table measures, as horizontal bars labelled with their value (a 0% bar is visibly zero).
//! Drawn from the CSV rows only, so the chart never shows a number the CSV does not; drawn
//! with rectangles and text in a fixed order, so its bytes do not change between runs.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::table::Row;
use crate::error::Result;

/// The bars of one protocol: (legend, colour, share of runs in %; None where not judged).
fn bars(r: &Row) -> [(&'static str, RGBColor, Option<f64>); 4] {
    let share = |part: u64, whole: u64| Some(100.0 * part as f64 / whole.max(1) as f64);
    let judged = |v: Option<f64>| v.filter(|_| r.blocking_judged);
    [
        (
            "blocked: coordinator crashed, never recovers",
            RGBColor(214, 39, 40),
            judged(share(r.crash_blocked_runs, r.crash_runs)),
        ),
        (
            "blocked: partitions (± crashes)",
            RGBColor(255, 127, 14),
            judged(share(r.partition_blocked_runs, r.partition_runs)),
        ),
        (
            "atomicity lost: partitions (± crashes)",
            RGBColor(148, 103, 189),
            share(r.partition_atomicity_violations, r.partition_runs),
        ),
        (
            "undecided after a total failure",
            RGBColor(31, 119, 180),
            share(
                r.total_failure_blocked_runs.max(r.total_failure_termination_failures),
                r.total_failure_runs,
            ),
        ),
    ]
}

fn plot_err<E: std::fmt::Display>(e: E) -> crate::error::Error {
    format!("chart: {e}").into()
}

/// The chart as SVG text.
pub fn render(rows: &[Row]) -> Result<String> {
    const WIDTH: i32 = 1000;
    const LEFT: i32 = 230;
    const RIGHT: i32 = 80;
    const TOP: i32 = 110;
    const BAR: i32 = 13;
    const GROUP: i32 = 4 * BAR + 18;
    let height = TOP + GROUP * rows.len() as i32 + 40;
    let plot_w = WIDTH - LEFT - RIGHT;
    let x_of = |pct: f64| LEFT + (pct / 100.0 * plot_w as f64).round() as i32;
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (WIDTH as u32, height as u32)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let title = ("sans-serif", 20).into_font().color(&BLACK);
        root.draw_text("What goes wrong, measured: share of runs per failure", &title, (20, 12))
            .map_err(plot_err)?;
        let legend_font = ("sans-serif", 13).into_font().color(&BLACK);
        if let Some(first) = rows.first() {
            for (i, (label, colour, _)) in bars(first).iter().enumerate() {
                let (x, y) = (20 + (i as i32 % 2) * 480, 44 + (i as i32 / 2) * 20);
                root.draw(&Rectangle::new([(x, y), (x + 14, y + 12)], colour.filled()))
                    .map_err(plot_err)?;
                root.draw_text(label, &legend_font, (x + 20, y)).map_err(plot_err)?;
            }
        }
        // Grid: 0, 25, 50, 75, 100 %.
        let axis_font = ("sans-serif", 12).into_font().color(&BLACK);
        let bottom = TOP + GROUP * rows.len() as i32;
        for tick in [0.0, 25.0, 50.0, 75.0, 100.0] {
            let x = x_of(tick);
            root.draw(&PathElement::new(vec![(x, TOP - 6), (x, bottom)], RGBColor(200, 200, 200)))
                .map_err(plot_err)?;
            let centred = axis_font.pos(Pos::new(HPos::Center, VPos::Top));
            root.draw_text(&format!("{tick:.0}%"), &centred, (x, bottom + 6)).map_err(plot_err)?;
        }
        let name_font =
            ("sans-serif", 14).into_font().color(&BLACK).pos(Pos::new(HPos::Right, VPos::Center));
        let value_font = ("sans-serif", 11).into_font().color(&BLACK);
        for (g, r) in rows.iter().enumerate() {
            let y0 = TOP + GROUP * g as i32;
            root.draw_text(&r.protocol, &name_font, (LEFT - 10, y0 + 2 * BAR)).map_err(plot_err)?;
            for (i, (_, colour, value)) in bars(r).iter().enumerate() {
                let y = y0 + BAR * i as i32;
                let Some(value) = *value else {
                    root.draw_text("not judged (no votes)", &value_font, (LEFT + 4, y))
                        .map_err(plot_err)?;
                    continue;
                };
                let bar = [(LEFT, y), (x_of(value).max(LEFT + 1), y + BAR - 2)];
                root.draw(&Rectangle::new(bar, colour.filled())).map_err(plot_err)?;
                root.draw_text(&format!("{value:.1}%"), &value_font, (x_of(value) + 4, y))
                    .map_err(plot_err)?;
            }
        }
        root.present().map_err(plot_err)?;
    }
    Ok(svg)
}
