//! How long opening a durable queue takes after a crash, against the size
//! of its log, and how that time grows with the size.
//!
//! For each size, the bench fills a fresh queue's log with 1 KiB messages
//! (published and never consumed, so every record is live and must be
//! replayed), drops it as a crash would leave it, and times two things, a
//! few times each: the log's own scan (`weft::disk::Log::open`: read every
//! segment, check every record's checksums, no torn tail to cut) and the
//! whole queue's recovery (`Builder::open_durable_with`: the scan, then the
//! replay that rebuilds the ready list). The files are in the page cache
//! (just written): this is the CPU's and the memory's share of recovery,
//! not the disk's; run with DROP_CACHES=1 as root for cold reads.
//!
//!   cargo bench --bench disk_recovery                        # 4, 16, 64 MiB
//!   WEFT_BENCH_RECOVERY_GIB=1 cargo bench --bench disk_recovery   # up to 1 GiB
//!   SIZES_MIB="1 4" REPEATS=1 cargo bench --bench disk_recovery   # a smoke run
//!
//! Settings (environment): SIZES_MIB ("4 16 64"; with
//! WEFT_BENCH_RECOVERY_GIB=N, 64 MiB doubling up to N GiB), REPEATS (3),
//! SIZE (message bytes, 1024), DROP_CACHES (1: drop the page cache before
//! each open; needs root), WEFT_BENCH_DIR.

#[path = "stats.rs"]
mod stats;

use std::time::Instant;
use weft::queue::{DiskOptions, Queue, Raw, SyncPolicy};

fn main() {
    let sizes: Vec<u64> = match std::env::var("WEFT_BENCH_RECOVERY_GIB")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        Some(gib) => std::iter::successors(Some(64), |mib| Some(mib * 2))
            .take_while(|mib| *mib <= gib * 1024)
            .collect(),
        None => stats::env_list("SIZES_MIB", "4 16 64"),
    };
    let repeats: usize = stats::env_or("REPEATS", 3);
    let size: usize = stats::env_or("SIZE", 1024);
    let drop_caches = std::env::var("DROP_CACHES").is_ok_and(|v| v == "1");
    let rt = weft::Builder::new_multi_thread().build().unwrap();

    println!(
        "{:>9} {:>9} {:>11} {:>10} {:>12} {:>10} {:>14}",
        "log MiB", "messages", "scan ms", "scan MiB/s", "recovery ms", "MiB/s", "growth (x size)"
    );
    let mut previous: Option<(u64, f64)> = None;
    for mib in sizes {
        let dir = stats::bench_dir("recovery");
        let bytes = mib << 20;
        let messages = rt.block_on(fill(&dir, bytes, size));
        let mut scans = Vec::new();
        let mut opens = Vec::new();
        for _ in 0..repeats.max(1) {
            if drop_caches {
                drop_page_cache();
            }
            let start = Instant::now();
            let opened = weft::disk::Log::open(&dir).unwrap();
            scans.push(start.elapsed().as_secs_f64());
            assert!(opened.recovery.torn.is_none());
            drop(opened);
            if drop_caches {
                drop_page_cache();
            }
            let (took, ready) = rt.block_on(async {
                let start = Instant::now();
                let restored = Queue::builder()
                    .open_durable_with(&dir, Raw, &DiskOptions::new())
                    .unwrap();
                (start.elapsed(), restored.ready)
            });
            assert_eq!(ready, messages);
            opens.push(took.as_secs_f64());
        }
        let (scan, open) = (stats::median(scans), stats::median(opens));
        let growth = previous.map_or_else(String::new, |(prev_mib, prev_open)| {
            format!("{:.2} ({:.0})", open / prev_open, mib as f64 / prev_mib as f64)
        });
        println!(
            "{mib:>9} {messages:>9} {:>11.1} {:>10.0} {:>12.1} {:>10.0} {growth:>14}",
            scan * 1e3,
            mib as f64 / scan,
            open * 1e3,
            mib as f64 / open
        );
        previous = Some((mib, open));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Publishes `size`-byte messages into a fresh queue in `dir` until its log
/// holds `bytes`; returns how many. No syncs: the page cache holds it all,
/// and a reopen reads the same bytes either way.
async fn fill(dir: &std::path::Path, bytes: u64, size: usize) -> usize {
    let disk = DiskOptions::new().sync(SyncPolicy::Never);
    let restored = Queue::builder()
        .capacity(usize::MAX)
        .open_durable_with(dir, Raw, &disk)
        .unwrap();
    let producer = restored.queue.producer();
    let mut messages = 0;
    while restored.backend.disk_bytes() < bytes {
        producer.publish(vec![0x42; size]).await.unwrap();
        messages += 1;
    }
    messages
}

fn drop_page_cache() {
    // Best effort: needs root; without it, the reads stay warm.
    let _ = std::process::Command::new("sync").status();
    if std::fs::write("/proc/sys/vm/drop_caches", "3").is_err() {
        eprintln!("DROP_CACHES=1 needs root: reads stay warm");
    }
}
