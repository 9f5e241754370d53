//! PNG line plots with plotters' bitmap backend.
//!
//! Plotters draws into an in-memory RGB buffer (its `bitmap_backend`
//! without the `image` crate); `blindfold_png::encode` writes the PNG.
//! Text needs a TrueType font, read at run time from
//! `BLINDFOLD_FONT` or Debian's `fonts-dejavu-core`
//! (`/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf`) and registered with
//! plotters' `ab_glyph` backend.

use std::path::Path;

use anyhow::{anyhow, Context, Result};
use plotters::prelude::*;

const WIDTH: u32 = 1000;
const HEIGHT: u32 = 660;
const CAPTION_H: u32 = 70;

/// One line of a figure.
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend text.
    pub label: String,
    /// `(x, y)` points; non-positive values are dropped (log axes).
    pub points: Vec<(f64, f64)>,
    /// Dashed (a model or an extrapolation) rather than solid (measured).
    pub dashed: bool,
    /// Palette index.
    pub color: usize,
}

/// A log-log line figure.
#[derive(Clone, Debug)]
pub struct Figure {
    /// Title at the top.
    pub title: String,
    /// X axis description.
    pub x_desc: String,
    /// Y axis description.
    pub y_desc: String,
    /// The lines.
    pub series: Vec<Series>,
    /// Lines of small text under the plot (machine, command, date).
    pub caption: Vec<String>,
}

fn range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    (hi > 0.0).then_some((lo, hi))
}

fn short(v: f64) -> String {
    if (1.0..1e5).contains(&v) && (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.0e}")
    }
}

/// Draws `fig` to a PNG file at `path`.
pub fn draw(fig: &Figure, path: &Path) -> Result<()> {
    blindfold_png::register_font().map_err(|e| anyhow!(e))?;
    let series: Vec<Series> = fig
        .series
        .iter()
        .map(|s| Series {
            points: s
                .points
                .iter()
                .copied()
                .filter(|(x, y)| x.is_finite() && y.is_finite() && *x > 0.0 && *y > 0.0)
                .collect(),
            ..s.clone()
        })
        .filter(|s| !s.points.is_empty())
        .collect();
    let (x0, x1) = range(series.iter().flat_map(|s| s.points.iter().map(|p| p.0)))
        .context("nothing to plot")?;
    let (y0, y1) = range(series.iter().flat_map(|s| s.points.iter().map(|p| p.1)))
        .context("nothing to plot")?;
    let (x0, x1) = (x0 / 1.3, x1 * 1.3);
    // Label the x values that occur (16, 32, 56, 112 ...), not powers of ten.
    let mut xs: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    // Head room above the data for the legend (upper left), on the log axis:
    // the data keep the bottom (1 - f) of the plot height.
    let (y0, y1) = (y0 / 3.0, y1 * 1.5);
    let plot_h = f64::from(HEIGHT - CAPTION_H - 110);
    let legend_h = 20.0 + 20.0 * series.len() as f64;
    let f = (legend_h / plot_h).min(0.6);
    let decades = (y1 / y0).log10().max(0.3);
    let y1 = y0 * 10f64.powf(decades / (1.0 - f));

    let mut buf = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (WIDTH, HEIGHT)).into_drawing_area();
        let err = |e: &dyn std::fmt::Debug| anyhow!("plotting {}: {e:?}", path.display());
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let (plot, foot) = root.split_vertically(HEIGHT - CAPTION_H);
        let mut chart = ChartBuilder::on(&plot)
            .caption(&fig.title, ("sans-serif", 24))
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(
                (x0..x1).log_scale().with_key_points(xs),
                (y0..y1).log_scale(),
            )
            .map_err(|e| err(&e))?;
        chart
            .configure_mesh()
            .x_desc(fig.x_desc.as_str())
            .y_desc(fig.y_desc.as_str())
            .x_label_formatter(&|v| short(*v))
            .y_label_formatter(&|v| short(*v))
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 17))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(|e| err(&e))?;
        for s in &series {
            let c = blindfold_png::color(s.color);
            let style = c.stroke_width(2);
            let anno = if s.dashed {
                chart
                    .draw_series(DashedLineSeries::new(s.points.clone(), 8, 6, style))
                    .map_err(|e| err(&e))?
            } else {
                chart
                    .draw_series(LineSeries::new(s.points.clone(), style))
                    .map_err(|e| err(&e))?
            };
            // A dashed legend sample is two short strokes, a solid one is joined.
            let gap = if s.dashed { 6 } else { 0 };
            anno.label(s.label.as_str()).legend(move |(x, y)| {
                EmptyElement::at((x, y))
                    + PathElement::new(vec![(0, 0), (9, 0)], c.stroke_width(2))
                    + PathElement::new(vec![(9 + gap, 0), (24, 0)], c.stroke_width(2))
            });
            if !s.dashed {
                chart
                    .draw_series(
                        s.points
                            .iter()
                            .map(|&(x, y)| Circle::new((x, y), 4, c.filled())),
                    )
                    .map_err(|e| err(&e))?;
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font(("sans-serif", 15))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(|e| err(&e))?;
        for (i, line) in fig.caption.iter().enumerate() {
            foot.draw_text(
                line,
                &("sans-serif", 14).into_font().color(&BLACK),
                (14, 6 + 20 * i as i32),
            )
            .map_err(|e| err(&e))?;
        }
        root.present().map_err(|e| err(&e))?;
    }
    std::fs::write(path, blindfold_png::encode(WIDTH, HEIGHT, &buf))
        .with_context(|| format!("writing {}", path.display()))
}
