//! The researcher's PNG plots of a released `lv-area` result.
//!
//! - `area.png`: the area-time curves: LV area (pixels) over the encrypted
//!   frames, one line per video (on a whole-cycle dataset, every `k`-th
//!   frame of its cycles);
//! - `ef-histogram.png`: how many videos fall in each 5 % bin of EF estimates;
//! - with labels ([`Labels`], from `blindfold fetch --labels FILE`,
//!   [`read_labels`]): `ef-vs-label.png`, each video's EF estimate against
//!   its label with the identity line, and `bland-altman.png`, the
//!   difference (estimate − label) against their mean with the bias and the
//!   95% limits of agreement (bias ± 1.96 SD); the numbers are in
//!   [`PlotReport::agreement`]. Without labels, or with none that matches
//!   a released video, these two are left out with a note, not an error.
//!
//! All need per-video values, so a result released as aggregates only
//! gives no plots (and [`write_plots`] says so). [`write_plots`] draws the
//! first two; [`write_plots_with_labels`] all four (what `fetch` calls). Plotters draws into an RGB
//! buffer (its bitmap backend, no `image` crate) and `blindfold_png::encode`
//! writes the PNG. Text uses plotters' `ab_glyph` backend with the
//! TrueType font at `BLINDFOLD_FONT` or Debian's `fonts-dejavu-core`
//! (`blindfold_png::DEFAULT_FONT`); when no font can be read the plots are drawn without
//! text rather than not at all.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use blindfold_echo::Agreement;
use blindfold_job::ReleasedResult;
use plotters::prelude::*;
use serde::Serialize;

use crate::error::{ClientError, Result};

const WIDTH: u32 = 900;
const HEIGHT: u32 = 600;
/// Width of one EF histogram bin, in percent.
const EF_BIN: f64 = 5.0;

/// Reference EF labels in percent, by submission index.
pub type Labels = BTreeMap<u64, f64>;

/// The files [`write_plots`] wrote and why others were not.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PlotReport {
    /// PNG files written.
    pub files: Vec<PathBuf>,
    /// Why a plot is missing or has no text.
    pub notes: Vec<String>,
    /// EF estimates against the labels, when labels matched 2+ videos.
    pub agreement: Option<Agreement>,
}

/// Reads EF labels from a CSV file with the columns `submission` (the
/// submission index) and `ef` (percent); other columns are ignored. Every
/// problem (a missing column, a bad number, a repeated submission) is an
/// error naming the file and line.
pub fn read_labels(path: &Path) -> Result<Labels> {
    let bytes = std::fs::read(path).map_err(|e| ClientError::io("reading", path, e))?;
    let table = blindfold_echo::csv::parse_csv(path, &bytes)?;
    let (sub, ef) = (table.column("submission")?, table.column("ef")?);
    let mut labels = Labels::new();
    for (line, fields) in &table.rows {
        let index = table.integer(*line, fields, sub, u64::from(u32::MAX))?;
        let value = table.number(*line, fields, ef)?;
        if labels.insert(index, value).is_some() {
            return Err(ClientError::Usage(format!(
                "{}: line {line}: submission {index} is labelled twice",
                path.display()
            )));
        }
    }
    Ok(labels)
}

/// Writes the plots of `result` into `dir` (created if needed): the area
/// curves and the EF histogram.
pub fn write_plots(result: &ReleasedResult, dir: &Path) -> Result<PlotReport> {
    plots(result, dir, None, false)
}

/// [`write_plots`], plus the EF-against-label and Bland–Altman plots when
/// `labels` covers 2+ of its videos; without labels, a note says so.
pub fn write_plots_with_labels(
    result: &ReleasedResult,
    dir: &Path,
    labels: Option<&Labels>,
) -> Result<PlotReport> {
    plots(result, dir, labels, true)
}

fn plots(
    result: &ReleasedResult,
    dir: &Path,
    labels: Option<&Labels>,
    with_labels: bool,
) -> Result<PlotReport> {
    let mut report = PlotReport::default();
    if result.pipeline != "lv-area" {
        report.notes.push(format!(
            "no plots for {} results (only lv-area)",
            result.pipeline
        ));
        return Ok(report);
    }
    if result.videos.is_empty() {
        report
            .notes
            .push("no plots: per-video values were not released (aggregates only)".into());
        return Ok(report);
    }
    std::fs::create_dir_all(dir).map_err(|e| ClientError::io("creating", dir, e))?;
    let text = match blindfold_png::register_font() {
        Ok(()) => true,
        Err(note) => {
            report.notes.push(note);
            false
        }
    };

    let lines: Vec<Vec<(f64, f64)>> = result
        .videos
        .iter()
        .map(|v| {
            v.values
                .iter()
                .enumerate()
                .map(|(i, &a)| (i as f64, a))
                .collect()
        })
        .collect();
    let area = dir.join("area.png");
    let title = format!(
        "Job {}: LV area per frame ({} videos)",
        result.job_id,
        result.videos.len()
    );
    write_png_file(&area, &draw_lines(&title, &lines, text)?)?;
    report.files.push(area);

    let efs: Vec<f64> = result.videos.iter().filter_map(|v| v.ef_percent).collect();
    if efs.is_empty() {
        report
            .notes
            .push("no EF histogram: no video has an EF estimate (needs 2+ frames)".into());
    } else {
        let hist = dir.join("ef-histogram.png");
        let title = format!("Job {}: EF estimates ({} videos)", result.job_id, efs.len());
        write_png_file(&hist, &draw_histogram(&title, &efs, text)?)?;
        report.files.push(hist);
    }

    if !with_labels {
        return Ok(report);
    }
    let Some(labels) = labels else {
        report.notes.push(
            "no EF-vs-label or Bland-Altman plot: no labels (pass --labels FILE, a CSV with \
             columns submission,ef)"
                .into(),
        );
        return Ok(report);
    };
    let pairs: Vec<(f64, f64)> = result
        .videos
        .iter()
        .filter_map(|v| Some((v.ef_percent?, *labels.get(&v.submission)?)))
        .collect();
    let Some(agreement) = blindfold_echo::agreement(&pairs) else {
        report.notes.push(format!(
            "no EF-vs-label or Bland-Altman plot: {} released video(s) have both an EF \
             estimate and a label; 2 needed",
            pairs.len()
        ));
        return Ok(report);
    };
    let scatter = dir.join("ef-vs-label.png");
    let title = format!(
        "Job {}: EF estimate vs label ({} videos, MAE {:.2})",
        result.job_id, agreement.n, agreement.mae
    );
    write_png_file(&scatter, &draw_scatter(&title, &pairs, text)?)?;
    report.files.push(scatter);
    let ba = dir.join("bland-altman.png");
    let title = format!(
        "Job {}: Bland-Altman, bias {:+.2}, 95% limits {:+.2} to {:+.2}",
        result.job_id, agreement.bias, agreement.loa_low, agreement.loa_high
    );
    write_png_file(&ba, &draw_bland_altman(&title, &pairs, &agreement, text)?)?;
    report.files.push(ba);
    report.agreement = Some(agreement);
    Ok(report)
}

fn write_png_file(path: &Path, rgb: &[u8]) -> Result<()> {
    std::fs::write(path, blindfold_png::encode(WIDTH, HEIGHT, rgb))
        .map_err(|e| ClientError::io("writing", path, e))
}

fn plot_error(e: impl std::fmt::Debug) -> ClientError {
    ClientError::State(format!("drawing a plot failed: {e:?}"))
}

/// One line per video: (frame, area). Returns the RGB buffer.
fn draw_lines(title: &str, lines: &[Vec<(f64, f64)>], text: bool) -> Result<Vec<u8>> {
    let frames = lines.iter().map(Vec::len).max().unwrap_or(1).max(2);
    let y_max = lines.iter().flatten().map(|p| p.1).fold(1.0, f64::max) * 1.1;
    let mut buf = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let mut builder = ChartBuilder::on(&root);
        builder.margin(20);
        if text {
            builder
                .caption(title, ("sans-serif", 22))
                .x_label_area_size(45)
                .y_label_area_size(60);
        }
        let mut chart = builder
            .build_cartesian_2d(0f64..(frames - 1) as f64, 0f64..y_max)
            .map_err(plot_error)?;
        if text {
            chart
                .configure_mesh()
                .x_desc("encrypted frame")
                .y_desc("LV area (pixels)")
                .x_labels(frames.min(12))
                .x_label_formatter(&|v| format!("{v:.0}"))
                .label_style(("sans-serif", 14))
                .axis_desc_style(("sans-serif", 16))
                .light_line_style(RGBColor(235, 235, 235))
                .draw()
                .map_err(plot_error)?;
        } else {
            frame(chart.plotting_area())?;
        }
        for (i, line) in lines.iter().enumerate() {
            let c = blindfold_png::color(i);
            chart
                .draw_series(LineSeries::new(line.clone(), c.stroke_width(2)))
                .map_err(plot_error)?;
            chart
                .draw_series(line.iter().map(|&p| Circle::new(p, 3, c.filled())))
                .map_err(plot_error)?;
        }
        root.present().map_err(plot_error)?;
    }
    Ok(buf)
}

/// Counts per 5 % bin over 0..100 (values outside are clamped into the end bins).
fn ef_bins(efs: &[f64]) -> Vec<u32> {
    let n = (100.0 / EF_BIN) as usize;
    let mut bins = vec![0u32; n];
    for &e in efs {
        let i = ((e / EF_BIN).floor().max(0.0) as usize).min(n - 1);
        bins[i] += 1;
    }
    bins
}

fn draw_histogram(title: &str, efs: &[f64], text: bool) -> Result<Vec<u8>> {
    let bins = ef_bins(efs);
    let top = f64::from(bins.iter().copied().max().unwrap_or(1)) + 1.0;
    let mut buf = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let mut builder = ChartBuilder::on(&root);
        builder.margin(20);
        if text {
            builder
                .caption(title, ("sans-serif", 22))
                .x_label_area_size(45)
                .y_label_area_size(60);
        }
        let mut chart = builder
            .build_cartesian_2d(0f64..100f64, 0f64..top)
            .map_err(plot_error)?;
        if text {
            chart
                .configure_mesh()
                .x_desc("EF estimate (%)")
                .y_desc("videos")
                .x_labels(11)
                .x_label_formatter(&|v| format!("{v:.0}"))
                // Whole counts only: at most 11 ticks over 0..top.
                .y_labels((top as usize).min(10) + 1)
                .y_label_formatter(&|v| format!("{v:.0}"))
                .label_style(("sans-serif", 14))
                .axis_desc_style(("sans-serif", 16))
                .light_line_style(RGBColor(235, 235, 235))
                .draw()
                .map_err(plot_error)?;
        } else {
            frame(chart.plotting_area())?;
        }
        chart
            .draw_series(
                bins.iter()
                    .enumerate()
                    .filter(|(_, &c)| c > 0)
                    .map(|(i, &c)| {
                        let x0 = i as f64 * EF_BIN;
                        let gap = EF_BIN * 0.05;
                        Rectangle::new(
                            [(x0 + gap, 0.0), (x0 + EF_BIN - gap, f64::from(c))],
                            blindfold_png::color(0).filled(),
                        )
                    }),
            )
            .map_err(plot_error)?;
        root.present().map_err(plot_error)?;
    }
    Ok(buf)
}

/// The EF range both axes of the scatter show: 0..100 widened to the data.
fn ef_axis(pairs: &[(f64, f64)]) -> (f64, f64) {
    let lo = pairs.iter().map(|p| p.0.min(p.1)).fold(0.0, f64::min);
    let hi = pairs.iter().map(|p| p.0.max(p.1)).fold(100.0, f64::max);
    (lo.floor(), hi.ceil())
}

/// `(label, estimate)` points over the identity line.
fn draw_scatter(title: &str, pairs: &[(f64, f64)], text: bool) -> Result<Vec<u8>> {
    let (lo, hi) = ef_axis(pairs);
    let mut buf = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let mut builder = ChartBuilder::on(&root);
        builder.margin(20);
        if text {
            builder
                .caption(title, ("sans-serif", 22))
                .x_label_area_size(45)
                .y_label_area_size(60);
        }
        let mut chart = builder
            .build_cartesian_2d(lo..hi, lo..hi)
            .map_err(plot_error)?;
        if text {
            chart
                .configure_mesh()
                .x_desc("label EF (%)")
                .y_desc("estimated EF (%)")
                .label_style(("sans-serif", 14))
                .axis_desc_style(("sans-serif", 16))
                .light_line_style(RGBColor(235, 235, 235))
                .draw()
                .map_err(plot_error)?;
        } else {
            frame(chart.plotting_area())?;
        }
        chart
            .draw_series(LineSeries::new(
                [(lo, lo), (hi, hi)],
                blindfold_png::color(5).stroke_width(1),
            ))
            .map_err(plot_error)?;
        let c = blindfold_png::color(0);
        chart
            .draw_series(
                pairs
                    .iter()
                    .map(|&(estimate, label)| Circle::new((label, estimate), 4, c.filled())),
            )
            .map_err(plot_error)?;
        root.present().map_err(plot_error)?;
    }
    Ok(buf)
}

/// Difference (estimate − label) against the pair's mean, with the bias
/// and the 95% limits of agreement as horizontal lines.
fn draw_bland_altman(
    title: &str,
    pairs: &[(f64, f64)],
    a: &Agreement,
    text: bool,
) -> Result<Vec<u8>> {
    let points: Vec<(f64, f64)> = pairs.iter().map(|&(e, l)| ((e + l) / 2.0, e - l)).collect();
    let x_lo = points.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let x_hi = points.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    let (x_lo, x_hi) = ((x_lo - 2.0).floor(), (x_hi + 2.0).ceil());
    let reach = points
        .iter()
        .map(|p| p.1.abs())
        .fold(a.loa_low.abs().max(a.loa_high.abs()), f64::max);
    let y = (reach * 1.2).max(1.0);
    let mut buf = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let mut builder = ChartBuilder::on(&root);
        builder.margin(20);
        if text {
            builder
                .caption(title, ("sans-serif", 20))
                .x_label_area_size(45)
                .y_label_area_size(60);
        }
        let mut chart = builder
            .build_cartesian_2d(x_lo..x_hi, -y..y)
            .map_err(plot_error)?;
        if text {
            chart
                .configure_mesh()
                .x_desc("mean of estimate and label, EF (%)")
                .y_desc("estimate - label, EF points")
                .label_style(("sans-serif", 14))
                .axis_desc_style(("sans-serif", 16))
                .light_line_style(RGBColor(235, 235, 235))
                .draw()
                .map_err(plot_error)?;
        } else {
            frame(chart.plotting_area())?;
        }
        for (level, color, width) in [
            (0.0, blindfold_png::color(5), 1),
            (a.bias, blindfold_png::color(1), 2),
            (a.loa_low, blindfold_png::color(4), 2),
            (a.loa_high, blindfold_png::color(4), 2),
        ] {
            chart
                .draw_series(LineSeries::new(
                    [(x_lo, level), (x_hi, level)],
                    color.stroke_width(width),
                ))
                .map_err(plot_error)?;
        }
        let c = blindfold_png::color(0);
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 4, c.filled())))
            .map_err(plot_error)?;
        root.present().map_err(plot_error)?;
    }
    Ok(buf)
}

/// A thin border around the plotting area (the axes, when there is no text).
fn frame<DB: DrawingBackend>(
    area: &DrawingArea<
        DB,
        plotters::coord::cartesian::Cartesian2d<
            plotters::coord::types::RangedCoordf64,
            plotters::coord::types::RangedCoordf64,
        >,
    >,
) -> Result<()> {
    let (x, y) = (area.get_x_range(), area.get_y_range());
    area.draw(&Rectangle::new(
        [(x.start, y.start), (x.end, y.end)],
        BLACK.stroke_width(1),
    ))
    .map_err(plot_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use blindfold_job::blobs::{ReleasedVideo, RELEASED_FORMAT};

    fn result(videos: Vec<ReleasedVideo>) -> ReleasedResult {
        ReleasedResult {
            format: RELEASED_FORMAT.into(),
            job_id: 1,
            pipeline: "lv-area".into(),
            cohort: videos.len() as u64,
            videos,
            aggregates: Default::default(),
            dp: None,
        }
    }

    fn video(i: u64, areas: &[f64], ef: f64) -> ReleasedVideo {
        ReleasedVideo {
            submission: i,
            values: areas.to_vec(),
            ef_percent: Some(ef),
            beats: Vec::new(),
            ef_beat_sd: None,
        }
    }

    #[test]
    fn ef_bins_clamp_to_the_ends() {
        let bins = ef_bins(&[-3.0, 0.0, 4.9, 5.0, 99.0, 130.0]);
        assert_eq!(bins[0], 3);
        assert_eq!(bins[1], 1);
        assert_eq!(bins[19], 2);
    }

    #[test]
    fn plots_with_and_without_text() {
        let r = result(vec![
            video(0, &[40.0, 20.0], 64.6),
            video(1, &[30.0, 25.0], 23.9),
        ]);
        let dir = tempfile::tempdir().unwrap();
        // Without a font: the same plots, no text.
        for text in [false, true] {
            if text && blindfold_png::register_font().is_err() {
                continue;
            }
            let lines = draw_lines("t", &[vec![(0.0, 1.0), (1.0, 2.0)]], text).unwrap();
            assert!(lines.iter().any(|&b| b != 255), "something was drawn");
            draw_histogram("t", &[10.0, 50.0], text).unwrap();
        }
        let report = write_plots(&r, dir.path()).unwrap();
        assert_eq!(report.files.len(), 2, "{report:?}");
        for f in &report.files {
            assert!(std::fs::read(f).unwrap().starts_with(b"\x89PNG"));
        }
        assert!(report.notes.iter().all(|n| !n.contains("label")));
        let report = write_plots_with_labels(&r, dir.path(), None).unwrap();
        assert_eq!(report.files.len(), 2, "{report:?}");
        assert!(
            report.notes.iter().any(|n| n.contains("no labels")),
            "missing labels are a note: {report:?}"
        );
        assert!(report.agreement.is_none());
        let agg = result(vec![]);
        let report = write_plots_with_labels(&agg, dir.path(), None).unwrap();
        assert!(report.files.is_empty());
        assert!(report.notes[0].contains("aggregates only"));
    }

    #[test]
    fn labels_give_the_scatter_and_bland_altman_plots() {
        let r = result(vec![
            video(0, &[100.0, 64.0, 99.0], 48.8),
            video(3, &[90.0, 60.0, 91.0], 45.6),
            video(4, &[80.0, 70.0, 81.0], 17.0),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("labels.csv");
        std::fs::write(&csv, "submission,name,ef\n0,a,50\n3,b,44.6\n9,z,60\n").unwrap();
        let labels = read_labels(&csv).unwrap();
        assert_eq!(labels.len(), 3);
        let out = dir.path().join("plots");
        let report = write_plots_with_labels(&r, &out, Some(&labels)).unwrap();
        let names: Vec<String> = report
            .files
            .iter()
            .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "area.png",
                "ef-histogram.png",
                "ef-vs-label.png",
                "bland-altman.png"
            ]
        );
        for f in &report.files {
            assert!(std::fs::read(f).unwrap().starts_with(b"\x89PNG"));
        }
        // Videos 0 and 3 are labelled: differences -1.2 and +1.0.
        let a = report.agreement.unwrap();
        assert_eq!(a.n, 2);
        assert!((a.mae - 1.1).abs() < 1e-9, "{a:?}");
        assert!((a.bias + 0.1).abs() < 1e-9, "{a:?}");
        assert!(
            report.notes.iter().all(|n| !n.contains("label")),
            "{report:?}"
        );
        // Labels for one video only: a note, not an error, and no such plots.
        let one: Labels = [(3, 44.6)].into();
        let report = write_plots_with_labels(&r, &out, Some(&one)).unwrap();
        assert_eq!(report.files.len(), 2);
        assert!(
            report.notes.iter().any(|n| n.contains("1 released video")),
            "{report:?}"
        );
    }

    #[test]
    fn bad_label_files_are_errors_naming_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.csv");
        for (text, want) in [
            (
                "submission,ef\n0,50\n0,51\n",
                "line 3: submission 0 is labelled twice",
            ),
            ("submission,ef\n0,fifty\n", "line 2"),
            ("submission,EF\n0,50\n", "missing column \"ef\""),
            ("submission,ef\n-1,50\n", "line 2"),
        ] {
            std::fs::write(&path, text).unwrap();
            let err = read_labels(&path).unwrap_err().to_string();
            assert!(
                err.contains(want) && err.contains("l.csv"),
                "{text:?}: {err}"
            );
        }
        let err = read_labels(&dir.path().join("none.csv")).unwrap_err();
        assert!(err.to_string().contains("none.csv"), "{err}");
    }
}
