//! What every result file records about how it was made: the machine
//! (`nproc`, CPU model), the command, the date and the load, plus the small
//! timing helpers the measurements share.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// The machine a measurement ran on.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Machine {
    /// Logical CPUs available to this process (what `nproc` prints).
    pub nproc: usize,
    /// `model name` from `/proc/cpuinfo` ("unknown" where absent).
    pub cpu_model: String,
    /// Whether the CPU reports AVX-512F (tfhe's faster kernels are not built
    /// in by default; see blindfold-fhe's `avx512` feature).
    pub avx512f: bool,
    /// Total memory in GiB, from `/proc/meminfo`.
    pub mem_gib: Option<f64>,
}

impl Machine {
    /// Reads the machine description from `/proc`.
    pub fn detect() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == "model name").then(|| v.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".into());
        let avx512f = cpuinfo
            .lines()
            .find(|l| l.starts_with("flags"))
            .is_some_and(|l| l.split_whitespace().any(|f| f == "avx512f"));
        let mem_gib = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                m.lines()
                    .find(|l| l.starts_with("MemTotal:"))?
                    .split_whitespace()
                    .nth(1)?
                    .parse::<f64>()
                    .ok()
            })
            .map(|kib| kib / (1024.0 * 1024.0));
        Machine {
            nproc: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model,
            avx512f,
            mem_gib,
        }
    }

    /// One line for captions: `nproc 2, AMD EPYC`.
    pub fn caption(&self) -> String {
        format!("nproc {}, {}", self.nproc, self.cpu_model)
    }
}

/// Provenance of one result file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Meta {
    /// The machine.
    pub machine: Machine,
    /// The command that produced the file (`scripts/bench.sh --quick`, from
    /// `BLINDFOLD_BENCH_COMMAND`, else this binary's own arguments).
    pub command: String,
    /// When the run started, UTC (`2026-01-01 12:00 UTC`).
    pub date: String,
    /// `quick` or `full`.
    pub mode: String,
    /// 1-minute load average when the run started and ended (`/proc/loadavg`).
    pub load_start: Option<f64>,
    /// See `load_start`.
    pub load_end: Option<f64>,
    /// Wall time of the whole run in seconds.
    pub elapsed_s: f64,
}

impl Meta {
    /// Starts a record for a run in `mode`.
    pub fn start(mode: &str) -> (Self, Instant) {
        let command = std::env::var("BLINDFOLD_BENCH_COMMAND")
            .ok()
            .filter(|c| !c.trim().is_empty())
            .unwrap_or_else(|| {
                let mut args: Vec<String> = std::env::args().collect();
                if let Some(first) = args.first_mut() {
                    *first = "blindfold-bench".into();
                }
                args.join(" ")
            });
        (
            Meta {
                machine: Machine::detect(),
                command,
                date: utc_now(),
                mode: mode.into(),
                load_start: load_avg(),
                load_end: None,
                elapsed_s: 0.0,
            },
            Instant::now(),
        )
    }

    /// Closes the record.
    pub fn finish(&mut self, started: Instant) {
        self.load_end = load_avg();
        self.elapsed_s = started.elapsed().as_secs_f64();
    }

    /// The caption every figure and table carries.
    pub fn caption(&self) -> String {
        format!(
            "machine: {}; command: `{}`; date: {}; load average {} → {}",
            self.machine.caption(),
            self.command,
            self.date,
            fmt_opt(self.load_start, 2),
            fmt_opt(self.load_end, 2),
        )
    }
}

fn fmt_opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "n/a".into(), |v| format!("{v:.digits$}"))
}

/// The current UTC time as `YYYY-MM-DD HH:MM UTC`.
pub fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3_600,
        rem % 3_600 / 60
    )
}

/// The 1-minute load average.
pub fn load_avg() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// CPU time of the whole process (user + system) in seconds, from
/// `/proc/self/stat` (clock ticks, USER_HZ = 100 on Linux).
pub fn process_cpu_s() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// CPU time of the calling thread in seconds, from `/proc/thread-self/schedstat`.
pub fn thread_cpu_s() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(s.split_whitespace().next()?.parse::<u64>().ok()? as f64 * 1e-9)
}

/// Runs `f` once; when that took less than `budget / 3`, runs it again until
/// `budget` has passed (at most 1,000 times) and returns the median time in
/// seconds with the last output. Long operations are timed once.
pub fn time_median<T>(budget: Duration, mut f: impl FnMut() -> T) -> (f64, T) {
    let start = Instant::now();
    let mut out = f();
    let first = start.elapsed();
    if first * 3 > budget {
        return (first.as_secs_f64(), out);
    }
    let mut times = vec![first.as_secs_f64()];
    while times.len() < 3 || (start.elapsed() < budget && times.len() < 1_000) {
        let t = Instant::now();
        out = std::hint::black_box(f());
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_format() {
        let d = utc_now();
        assert_eq!(d.len(), "2026-01-01 00:00 UTC".len(), "{d}");
        assert!(d.ends_with(" UTC"));
        assert!(d.starts_with("20"));
    }

    #[test]
    fn median_runs_short_operations_repeatedly() {
        let mut n = 0;
        let (_, last) = time_median(Duration::from_millis(5), || {
            n += 1;
            n
        });
        assert!(last >= 3);
    }
}
