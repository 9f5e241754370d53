//! Number formatting for the report's tables and prose: durations
//! ([`fmt_s`]), counts with thousands separators ([`fmt_int`]), ratios
//! ([`fmt_x`]), PBS efficiencies ([`fmt_eff`]), byte sizes ([`fmt_bytes`]),
//! optional values ([`fmt_opt`]), ROI sides ([`roi`]) and storage deposits
//! ([`format_deposit`]).

use crate::chain::UNIT;

/// Seconds in the unit that reads best (s, ms or µs); `n/a` when not finite.
pub(super) fn fmt_s(s: f64) -> String {
    if !s.is_finite() {
        "n/a".into()
    } else if s >= 100.0 {
        format!("{s:.0} s")
    } else if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.1} µs", s * 1e6)
    }
}

/// An integer with thousands separators: `10,030`.
pub(super) fn fmt_int(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A ratio as a factor: `×1.25`, `×1,234`, `×1.2e5`; `n/a` when there is none.
pub(super) fn fmt_x(r: Option<f64>) -> String {
    match r {
        None => "n/a".into(),
        Some(r) if r >= 1e5 => format!("×{r:.1e}"),
        Some(r) if r >= 10.0 => format!("×{}", fmt_int(r.round() as u64)),
        Some(r) => format!("×{r:.2}"),
    }
}

/// A PBS efficiency to 3 places; pipelines without PBS have none.
pub(super) fn fmt_eff(e: Option<f64>) -> String {
    e.map_or_else(|| "n/a (no PBS)".into(), |e| format!("{e:.3}"))
}

/// A byte count in B, kB, MB or GB (powers of 10).
pub(super) fn fmt_bytes(b: f64) -> String {
    if b >= 1e9 {
        format!("{:.2} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.2} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.1} kB", b / 1e3)
    } else {
        format!("{b:.0} B")
    }
}

/// A square ROI: `32x32`.
pub(super) fn roi(side: u16) -> String {
    format!("{side}x{side}")
}

/// An optional value to `digits` places; `n/a` when absent.
pub(super) fn fmt_opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "n/a".into(), |v| format!("{v:.digits$}"))
}

/// A deposit in the smallest unit, with its value in tokens when that is
/// readable (the embedded sandbox's prices make deposits tiny).
pub(super) fn format_deposit(v: i128) -> String {
    let units = v as f64 / UNIT as f64;
    if units.abs() >= 1e-6 {
        format!("{} ({units:.6} units)", v)
    } else {
        v.to_string()
    }
}
