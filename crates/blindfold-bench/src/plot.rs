//! PNG line plots with plotters' bitmap backend.
//!
//! Plotters draws into an in-memory RGB buffer (its `bitmap_backend`
//! without the `image` crate); [`write_png`] encodes it with miniz_oxide.
//! Text needs a TrueType font, read at run time from
//! `BLINDFOLD_FONT` or Debian's `fonts-dejavu-core`
//! (`/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf`) and registered with
//! plotters' `ab_glyph` backend.

use std::path::Path;
use std::sync::OnceLock;

use anyhow::{anyhow, Context, Result};
use plotters::prelude::*;

/// Where the font comes from unless `BLINDFOLD_FONT` says otherwise.
pub const DEFAULT_FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

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

/// Registers the font once; `Err` explains why text cannot be drawn.
pub fn font() -> Result<(), String> {
    static FONT: OnceLock<Result<(), String>> = OnceLock::new();
    FONT.get_or_init(|| {
        let path = std::env::var("BLINDFOLD_FONT").unwrap_or_else(|_| DEFAULT_FONT.into());
        let bytes = std::fs::read(&path).map_err(|e| {
            format!("font {path}: {e} (install Debian's fonts-dejavu-core or set BLINDFOLD_FONT)")
        })?;
        let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
        plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
            .map_err(|_| format!("font {path}: not a usable TrueType font"))
    })
    .clone()
}

fn color(i: usize) -> RGBColor {
    const PALETTE: [RGBColor; 6] = [
        RGBColor(31, 119, 180),
        RGBColor(214, 39, 40),
        RGBColor(44, 160, 44),
        RGBColor(148, 103, 189),
        RGBColor(255, 127, 14),
        RGBColor(127, 127, 127),
    ];
    PALETTE[i % PALETTE.len()]
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
    font().map_err(|e| anyhow!(e))?;
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
            let c = color(s.color);
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
    std::fs::write(path, write_png(WIDTH, HEIGHT, &buf))
        .with_context(|| format!("writing {}", path.display()))
}

/// Encodes an 8-bit RGB image as PNG (one IDAT, no filtering, zlib level 9).
pub fn write_png(width: u32, height: u32, rgb: &[u8]) -> Vec<u8> {
    let row = width as usize * 3;
    let mut raw = Vec::with_capacity((row + 1) * height as usize);
    for line in rgb.chunks(row).take(height as usize) {
        raw.push(0); // filter: none
        raw.extend_from_slice(line);
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit, RGB, deflate, no filter, no interlace
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(
        &mut png,
        b"IDAT",
        &miniz_oxide::deflate::compress_to_vec_zlib(&raw, 9),
    );
    chunk(&mut png, b"IEND", &[]);
    png
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as PNG uses it.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
    }

    #[test]
    fn png_round_trips_through_inflate() {
        let (w, h) = (3u32, 2u32);
        let rgb: Vec<u8> = (0..(w * h * 3) as u8).collect();
        let png = write_png(w, h, &rgb);
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        // IHDR chunk: length 13 at offset 8.
        assert_eq!(&png[8..16], &[0, 0, 0, 13, b'I', b'H', b'D', b'R']);
        let idat_len = u32::from_be_bytes(png[33..37].try_into().unwrap()) as usize;
        assert_eq!(&png[37..41], b"IDAT");
        let raw = miniz_oxide::inflate::decompress_to_vec_zlib(&png[41..41 + idat_len]).unwrap();
        assert_eq!(raw.len(), (1 + 9) * 2);
        assert_eq!(&raw[1..10], &rgb[..9]);
        assert!(png.ends_with(&[0xAE, 0x42, 0x60, 0x82]));
    }
}
