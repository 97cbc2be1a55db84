//! What every SVG figure of the experiments shares: plotters' errors as ours, and the legend
//! box drawn the same way on every chart.

use plotters::coord::CoordTranslate;
use plotters::prelude::*;

use crate::error::Result;

/// A plotters error as an experiments error.
pub(crate) fn plot_err<E: std::fmt::Display>(e: E) -> crate::error::Error {
    format!("plot: {e}").into()
}

/// The series' legend in the upper left corner, on a translucent white box.
pub(crate) fn draw_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
) -> Result<()> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(plot_err)
}
