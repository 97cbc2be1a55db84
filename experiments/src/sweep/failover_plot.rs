//! The failover sweep's figure: the unavailability clients see after the leader crashes,
//! against the election timeout range, one line per protocol and crash mark. The sweep hands
//! it the points of the rows its CSV holds, so the figure never shows a number the CSV does
//! not.

use plotters::prelude::*;

use crate::error::Result;
use crate::plot::plot_err;

/// One point of the figure: a row of the sweep's CSV.
pub struct Point<'a> {
    /// The line it belongs to (protocol and crash mark).
    pub series: String,
    /// The election timeout's lower bound, in ms.
    pub election_min_ms: u64,
    /// The mean unavailability, as the CSV writes it (ms).
    pub mean_unavailable_ms: &'a str,
}

/// Mean unavailability (ms) against the election timeout's lower bound (ms).
pub fn unavailability(points: &[Point<'_>]) -> Result<String> {
    let mut series: Vec<(&str, Vec<(f64, f64)>)> = Vec::new();
    for p in points {
        let y: f64 = p.mean_unavailable_ms.parse().map_err(plot_err)?;
        let point = (p.election_min_ms as f64, y);
        match series.iter_mut().find(|(n, _)| *n == p.series) {
            Some((_, line)) => line.push(point),
            None => series.push((&p.series, vec![point])),
        }
    }
    let x_max = points.iter().map(|p| p.election_min_ms).max().unwrap_or(1) as f64 * 1.1;
    let y_max = series.iter().flat_map(|(_, s)| s.iter().map(|p| p.1)).fold(1.0, f64::max) * 1.15;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 600)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Leader crash: client-visible unavailability", ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(0f64..x_max, 0f64..y_max)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc("election timeout, lower bound (ms; the range is [x, 2x])")
            .y_desc("mean ms from the last reply before the crash to the first after")
            .draw()
            .map_err(plot_err)?;
        for (i, (name, points)) in series.iter().enumerate() {
            let color = Palette99::pick(i).mix(0.9);
            chart
                .draw_series(LineSeries::new(points.iter().copied(), color.stroke_width(2)))
                .map_err(plot_err)?
                .label(*name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 4, color.filled())))
                .map_err(plot_err)?;
        }
        crate::plot::draw_legend(&mut chart)?;
        root.present().map_err(plot_err)?;
    }
    Ok(svg)
}
