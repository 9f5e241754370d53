//! `blindfold-bench report`: turns the raw results into `docs/BENCHMARKS.md`,
//! the PNG plots and `docs/summary.json`.
//!
//! Inputs (in `--raw`, default `docs/bench-raw/`): `fhe.json` (required),
//! `schemes.json` and `dataset.json` (optional: TFHE and BFV side by side,
//! [`crate::schemes`]), `accuracy.json` (optional: EF accuracy of ED+ES
//! against whole cycles, [`crate::accuracy`]), `chain.json` (optional, the embedded chain), `chain-node.json` (optional,
//! a substrate-contracts-node) and the demo's timings (`--demo`, optional; format
//! `{"videos":n,"stages":[{"name":"...","seconds":f}],"chain_seconds":f,"total_seconds":f}`).
//! Everything derived from a model rather than timed is labelled as such.
//!
//! [`run`] reads the inputs and writes the outputs; the parts:
//!
//! * this module: the inputs ([`Demo`], and the raw results of
//!   [`crate::fhe`] and [`crate::chain`]) and [`run`];
//! * what every output derives from the inputs (axis lookups, the PBS bound,
//!   the EchoNet-Dynamic extrapolation), in [`model`];
//! * number, duration and byte formatting for the text, in [`format`];
//! * `summary.json`, in [`json`];
//! * the plots' data, in [`figures`] (drawn by [`crate::plot`]);
//! * `BENCHMARKS.md`, one function per section, in [`markdown`].

mod figures;
mod format;
mod json;
mod markdown;
mod model;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::chain::ChainRaw;
use crate::fhe::{say, FheRaw};
use crate::plot;

/// The demo's timings (written by `scripts/demo.sh`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Demo {
    /// Videos the demo ran on.
    pub videos: u64,
    /// Its stages, in order.
    pub stages: Vec<DemoStage>,
    /// Time spent waiting for the chain.
    pub chain_seconds: f64,
    /// Wall time of the whole demo.
    pub total_seconds: f64,
}

/// One stage of the demo.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DemoStage {
    /// Stage name.
    pub name: String,
    /// Wall seconds.
    pub seconds: f64,
}

/// The chain runs a report includes, in this order, when present.
const CHAIN_FILES: [&str; 2] = ["chain.json", "chain-node.json"];

/// Writes the report. Returns the paths written.
pub fn run(raw_dir: &Path, docs: &Path, demo: Option<&Path>) -> Result<Vec<PathBuf>> {
    let fhe: FheRaw = read_json(&raw_dir.join("fhe.json"))?;
    let mut chains: Vec<ChainRaw> = Vec::new();
    for name in CHAIN_FILES {
        let p = raw_dir.join(name);
        if p.exists() {
            chains.push(read_json(&p)?);
        }
    }
    let demo: Option<Demo> = match demo {
        Some(p) => Some(read_json(p)?),
        None => None,
    };
    std::fs::create_dir_all(docs).with_context(|| format!("creating {}", docs.display()))?;

    let mut written = Vec::new();
    let figures = figures::figures(&fhe)?;
    let mut drawn = Vec::new();
    for (name, fig) in &figures {
        let path = docs.join(format!("{name}.png"));
        match plot::draw(fig, &path) {
            Ok(()) => {
                written.push(path);
                drawn.push((name.clone(), None));
            }
            Err(e) => {
                say(&format!("report: plot {name} not drawn: {e:#}"));
                drawn.push((name.clone(), Some(format!("{e:#}"))));
            }
        }
    }

    let summary = json::summary(&fhe, &chains, demo.as_ref())?;
    let path = docs.join("summary.json");
    std::fs::write(&path, serde_json::to_string_pretty(&summary)? + "\n")?;
    written.push(path);

    let mut md = markdown::markdown(&fhe, &chains, demo.as_ref(), &summary, &figures, &drawn)?;
    if let Some(section) = schemes_section(raw_dir)? {
        md.push_str(&section);
    }
    if let Some(section) = accuracy_section(raw_dir)? {
        md.push_str(&section);
    }
    let path = docs.join("BENCHMARKS.md");
    std::fs::write(&path, md)?;
    written.push(path);
    Ok(written)
}

/// The TFHE/BFV section, when `schemes.json` (and optionally
/// `dataset.json`) is in `raw_dir`.
pub fn schemes_section(raw_dir: &Path) -> Result<Option<String>> {
    let schemes_path = raw_dir.join("schemes.json");
    if !schemes_path.exists() {
        return Ok(None);
    }
    let mut schemes: crate::schemes::SchemesRaw = read_json(&schemes_path)?;
    let dataset_path = raw_dir.join("dataset.json");
    if dataset_path.exists() {
        schemes.dataset = Some(read_json(&dataset_path)?);
    }
    Ok(Some(crate::schemes::markdown(&schemes)))
}

/// The EF-accuracy section, when `accuracy.json` is in `raw_dir`.
pub fn accuracy_section(raw_dir: &Path) -> Result<Option<String>> {
    let path = raw_dir.join("accuracy.json");
    if !path.exists() {
        return Ok(None);
    }
    let raw: crate::accuracy::AccuracyRaw = read_json(&path)?;
    Ok(Some(crate::accuracy::markdown(&raw)))
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

#[cfg(test)]
mod tests;
