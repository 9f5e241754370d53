//! `verify`: anyone re-runs a job from public data.

use blindfold_client::config::Config;
use blindfold_client::verify as verifier;
use blindfold_protocol::types::JobId;
use clap::Args;

use super::{bar, emit, open};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The job
    job: JobId,
    /// Threads for the re-run [default: one per core]
    #[arg(long)]
    threads: Option<usize>,
}

/// `verify`: re-run a job (a sharded job: each of its shards) from public
/// data and compare commitments.
pub async fn verify(cfg: &Config, json: bool, a: VerifyArgs) -> anyhow::Result<()> {
    let client = open(cfg).await?;
    let bar = bar(json, "inputs");
    let report = verifier::verify_job(&client, a.job, a.threads, &bar).await?;
    emit(json, &report, || report.summary());
    if let Some(why) = report.mismatch() {
        anyhow::bail!("{why}");
    }
    Ok(())
}
