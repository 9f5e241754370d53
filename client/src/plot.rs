//! The researcher's PNG plots of a released `lv-area` result.
//!
//! - `area.png`: LV area (pixels) over the encrypted frames, one line per video;
//! - `ef-histogram.png`: how many videos fall in each 5 % bin of EF estimates.
//!
//! Both need per-video values, so a result released as aggregates only
//! gives no plots (and [`write_plots`] says so). Plotters draws into an RGB
//! buffer (its bitmap backend, no `image` crate) and `blindfold_png::encode`
//! writes the PNG. Text uses plotters' `ab_glyph` backend with the
//! TrueType font at `BLINDFOLD_FONT` or Debian's `fonts-dejavu-core`
//! (`blindfold_png::DEFAULT_FONT`); when no font can be read the plots are drawn without
//! text rather than not at all.

use std::path::{Path, PathBuf};

use blindfold_job::ReleasedResult;
use plotters::prelude::*;
use serde::Serialize;

use crate::error::{ClientError, Result};

const WIDTH: u32 = 900;
const HEIGHT: u32 = 600;
/// Width of one EF histogram bin, in percent.
const EF_BIN: f64 = 5.0;

/// The files [`write_plots`] wrote and why others were not.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PlotReport {
    /// PNG files written.
    pub files: Vec<PathBuf>,
    /// Why a plot is missing or has no text.
    pub notes: Vec<String>,
}

/// Writes the plots of `result` into `dir` (created if needed).
pub fn write_plots(result: &ReleasedResult, dir: &Path) -> Result<PlotReport> {
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
        let agg = result(vec![]);
        let report = write_plots(&agg, dir.path()).unwrap();
        assert!(report.files.is_empty());
        assert!(report.notes[0].contains("aggregates only"));
    }
}
