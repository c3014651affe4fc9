//! What the disk benches share: settings read from the environment, and
//! latency percentiles.

#![allow(dead_code)] // each bench uses a part

use std::time::Duration;

/// The value of the environment variable `name`, parsed, or `default`.
pub(crate) fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A whitespace-separated list from the environment variable `name`.
pub(crate) fn env_list<T: std::str::FromStr>(name: &str, default: &str) -> Vec<T> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_owned())
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect()
}

/// The directory the benches write in: `$WEFT_BENCH_DIR`, else
/// `target/disk-bench` (the same file system as the build, for all three
/// benches, so the fsync rate measured is the one the queue meets).
pub(crate) fn bench_dir(name: &str) -> std::path::PathBuf {
    let root = std::env::var_os("WEFT_BENCH_DIR").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/disk-bench"),
        std::path::PathBuf::from,
    );
    let dir = root.join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the bench directory");
    dir
}

/// The `q`-quantile (0.0 to 1.0) of `sorted`, nearest rank.
pub(crate) fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// The median of some figures.
pub(crate) fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// One timed run: messages per second and confirm-latency percentiles.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Run {
    pub(crate) messages: usize,
    /// The log's `fdatasync`s during the run, where they were counted.
    pub(crate) syncs: Option<u64>,
    pub(crate) per_sec: f64,
    pub(crate) p50: Duration,
    pub(crate) p99: Duration,
}

impl Run {
    /// A run of `messages` in `elapsed`, with every publish's latency.
    pub(crate) fn new(messages: usize, elapsed: Duration, mut latencies: Vec<Duration>) -> Run {
        latencies.sort_unstable();
        Run {
            messages,
            syncs: None,
            per_sec: messages as f64 / elapsed.as_secs_f64(),
            p50: quantile(&latencies, 0.50),
            p99: quantile(&latencies, 0.99),
        }
    }
}

/// Microseconds, for printing.
pub(crate) fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
