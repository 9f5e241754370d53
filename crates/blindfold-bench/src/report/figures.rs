//! The report's plots, one [`Figure`] per scaling axis ([`figures`]); drawing
//! them is [`crate::plot`]'s job. The figures, in order:
//!
//! * `bench-roi`: time per video against the ROI side, with the PBS bound and
//!   the extrapolation's model rows ([`roi_figure`]);
//! * `bench-frames`: time per video against frames ([`frames_figure`]);
//! * `bench-videos`: job time against videos per job ([`videos_figure`]);
//! * `bench-threads`: time against rayon threads ([`threads_figure`]).
//!
//! Each carries the same caption ([`caption_lines`]). Measured lines are
//! solid; models and extrapolations dashed.

use anyhow::Result;

use super::model::{axis, extrapolation, pbs_bound};
use crate::fhe::FheRaw;
use crate::plot::{Figure, Series};

/// Every figure with its file stem, in the report's order.
pub(super) fn figures(fhe: &FheRaw) -> Result<Vec<(String, Figure)>> {
    let caption = caption_lines(fhe);
    Ok(vec![
        ("bench-roi".to_owned(), roi_figure(fhe, caption.clone())?),
        (
            "bench-frames".to_owned(),
            frames_figure(fhe, caption.clone()),
        ),
        (
            "bench-videos".to_owned(),
            videos_figure(fhe, caption.clone()),
        ),
        ("bench-threads".to_owned(), threads_figure(fhe, caption)),
    ])
}

/// The small text under every plot: the legend's key, machine, command.
fn caption_lines(fhe: &FheRaw) -> Vec<String> {
    vec![
        "Solid lines with dots: measured. Dashed: model or extrapolation (not measured).".into(),
        format!(
            "machine: {}; date: {}; threads: {}",
            fhe.meta.machine.caption(),
            fhe.meta.date,
            fhe.plan.default_threads
        ),
        format!("command: {}", fhe.meta.command),
    ]
}

fn series(label: &str, color: usize, dashed: bool, points: Vec<(f64, f64)>) -> Series {
    Series {
        label: label.into(),
        points,
        dashed,
        color,
    }
}

/// Time per video against the ROI side (2 frames).
fn roi_figure(fhe: &FheRaw, caption: Vec<String>) -> Result<Figure> {
    let lv = axis(fhe, "roi", "lv-area");
    let conv = axis(fhe, "roi", "conv3x3");
    let mut s = vec![
        series(
            "lv-area FHE (measured)",
            0,
            false,
            lv.iter()
                .map(|p| (f64::from(p.roi_side), p.fhe_s))
                .collect(),
        ),
        series(
            "lv-area PBS bound: PBS × single PBS / threads",
            0,
            true,
            lv.iter()
                .map(|p| (f64::from(p.roi_side), pbs_bound(fhe, p)))
                .collect(),
        ),
        series(
            "conv3x3 FHE (measured, no PBS)",
            1,
            false,
            conv.iter()
                .map(|p| (f64::from(p.roi_side), p.fhe_s))
                .collect(),
        ),
        series(
            "lv-area plaintext twin (measured)",
            2,
            false,
            lv.iter()
                .map(|p| (f64::from(p.roi_side), p.plain_s))
                .collect(),
        ),
        series(
            "conv3x3 plaintext twin (measured)",
            3,
            false,
            conv.iter()
                .map(|p| (f64::from(p.roi_side), p.plain_s))
                .collect(),
        ),
    ];
    s.extend(extrapolated_series(fhe)?);
    Ok(Figure {
        title: "Time per video vs ROI side (2 frames, ED+ES)".into(),
        x_desc: "ROI side (frames of side × side pixels)".into(),
        y_desc: "seconds".into(),
        series: s,
        caption,
    })
}

/// The extrapolation's model rows, from the last measured one on; none when
/// every row was measured.
fn extrapolated_series(fhe: &FheRaw) -> Result<Option<Series>> {
    let rows = extrapolation(fhe)?;
    if !rows.iter().any(|r| r.basis.starts_with("model")) {
        return Ok(None);
    }
    let last_measured = rows.iter().rfind(|r| !r.basis.starts_with("model"));
    let pts: Vec<(f64, f64)> = last_measured
        .into_iter()
        .chain(rows.iter().filter(|r| r.basis.starts_with("model")))
        .map(|r| (f64::from(r.side), r.seconds_per_video))
        .collect();
    Ok(Some(series(
        "lv-area FHE, extrapolated (model)",
        4,
        true,
        pts,
    )))
}

/// Time per video against frames (base ROI).
fn frames_figure(fhe: &FheRaw, caption: Vec<String>) -> Figure {
    let lv = axis(fhe, "frames", "lv-area");
    let conv = axis(fhe, "frames", "conv3x3");
    Figure {
        title: format!("Time per video vs frames (ROI {0}x{0})", fhe.plan.base_side),
        x_desc: "frames per video".into(),
        y_desc: "seconds".into(),
        series: vec![
            series(
                "lv-area FHE (measured)",
                0,
                false,
                lv.iter().map(|p| (f64::from(p.frames), p.fhe_s)).collect(),
            ),
            series(
                "lv-area PBS bound",
                0,
                true,
                lv.iter()
                    .map(|p| (f64::from(p.frames), pbs_bound(fhe, p)))
                    .collect(),
            ),
            series(
                "conv3x3 FHE (measured)",
                1,
                false,
                conv.iter()
                    .map(|p| (f64::from(p.frames), p.fhe_s))
                    .collect(),
            ),
            series(
                "lv-area plaintext twin (measured)",
                2,
                false,
                lv.iter()
                    .map(|p| (f64::from(p.frames), p.plain_s))
                    .collect(),
            ),
        ],
        caption,
    }
}

/// Job time against videos per job, with linear scaling from one video.
fn videos_figure(fhe: &FheRaw, caption: Vec<String>) -> Figure {
    let lv = axis(fhe, "videos", "lv-area");
    let one = lv.iter().find(|p| p.videos == 1).map(|p| p.fhe_s);
    let mut s = vec![
        series(
            "lv-area FHE (measured)",
            0,
            false,
            lv.iter().map(|p| (p.videos as f64, p.fhe_s)).collect(),
        ),
        series(
            "lv-area PBS bound",
            0,
            true,
            lv.iter()
                .map(|p| (p.videos as f64, pbs_bound(fhe, p)))
                .collect(),
        ),
    ];
    if let Some(one) = one {
        s.push(series(
            "linear: 1-video time × videos",
            5,
            true,
            lv.iter()
                .map(|p| (p.videos as f64, one * p.videos as f64))
                .collect(),
        ));
    }
    Figure {
        title: format!(
            "Job time vs videos per job (lv-area, ROI {0}x{0}, 2 frames)",
            fhe.plan.base_side
        ),
        x_desc: "videos per job".into(),
        y_desc: "seconds".into(),
        series: s,
        caption,
    }
}

/// Time against rayon threads, with ideal scaling from one thread.
fn threads_figure(fhe: &FheRaw, caption: Vec<String>) -> Figure {
    let lv = axis(fhe, "threads", "lv-area");
    let t1 = lv.iter().find(|p| p.threads == 1).map(|p| p.fhe_s);
    let mut s = vec![
        series(
            "lv-area FHE (measured)",
            0,
            false,
            lv.iter().map(|p| (p.threads as f64, p.fhe_s)).collect(),
        ),
        series(
            "lv-area PBS bound",
            0,
            true,
            lv.iter()
                .map(|p| (p.threads as f64, pbs_bound(fhe, p)))
                .collect(),
        ),
    ];
    if let Some(t1) = t1 {
        s.push(series(
            "ideal: 1-thread time / threads",
            5,
            true,
            lv.iter()
                .map(|p| (p.threads as f64, t1 / p.threads as f64))
                .collect(),
        ));
    }
    Figure {
        title: format!(
            "Time vs rayon threads (lv-area, ROI {0}x{0}, 2 frames)",
            fhe.plan.threads_side
        ),
        x_desc: "threads (one rayon ThreadPool each)".into(),
        y_desc: "seconds".into(),
        series: s,
        caption,
    }
}
