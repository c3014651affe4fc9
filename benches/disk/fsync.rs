//! The disk's own fdatasync rate, in the directory the other disk benches
//! use: each thread appends 4 KiB to a file of its own and `fdatasync`s it,
//! in a loop, for a fixed time. One thread gives the rate of one caller
//! waiting for every sync; N threads show what the device does with
//! concurrent syncs (on most SSDs, more in all but each slower).
//!
//!   cargo bench --bench disk_fsync
//!   FSYNC_SECONDS=1 THREADS="1 4" cargo bench --bench disk_fsync   # a smoke run
//!
//! Settings (environment): FSYNC_SECONDS per thread count (5), THREADS ("1 4
//! 16"), WEFT_BENCH_DIR (where the files go; `target/disk-bench`).

#[path = "stats.rs"]
mod stats;

use std::fs::OpenOptions;
use std::io::Write;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

fn main() {
    let seconds: f64 = stats::env_or("FSYNC_SECONDS", 5.0);
    let threads: Vec<usize> = stats::env_list("THREADS", "1 4 16");
    let dir = stats::bench_dir("fsync");
    println!("fdatasync of 4 KiB appends in {}", dir.display());
    println!(
        "{:>8} {:>12} {:>14} {:>10} {:>10}",
        "threads", "syncs/s", "syncs/s/thread", "p50 us", "p99 us"
    );
    for &n in &threads {
        let barrier = Arc::new(Barrier::new(n));
        let run_for = Duration::from_secs_f64(seconds);
        let workers: Vec<_> = (0..n)
            .map(|i| {
                let path = dir.join(format!("t{i}"));
                let barrier = Arc::clone(&barrier);
                std::thread::spawn(move || {
                    let mut file = OpenOptions::new()
                        .create(true)
                        .write(true)
                        .truncate(true)
                        .open(&path)
                        .unwrap();
                    let block = [0x5Au8; 4096];
                    let mut latencies = Vec::new();
                    barrier.wait();
                    let start = Instant::now();
                    while start.elapsed() < run_for {
                        let t = Instant::now();
                        file.write_all(&block).unwrap();
                        file.sync_data().unwrap();
                        latencies.push(t.elapsed());
                    }
                    (latencies, start.elapsed())
                })
            })
            .collect();
        let mut all = Vec::new();
        let mut rate = 0.0;
        for worker in workers {
            let (latencies, elapsed) = worker.join().unwrap();
            rate += latencies.len() as f64 / elapsed.as_secs_f64();
            all.extend(latencies);
        }
        all.sort_unstable();
        println!(
            "{n:>8} {rate:>12.0} {:>14.0} {:>10.0} {:>10.0}",
            rate / n as f64,
            stats::us(stats::quantile(&all, 0.5)),
            stats::us(stats::quantile(&all, 0.99)),
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
