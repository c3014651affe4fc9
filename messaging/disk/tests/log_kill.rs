//! `kill -9` in the middle of appends: a child process appends and prints
//! each confirmed offset; the parent kills it at a seeded moment, reopens
//! the log (the lock died with the child) and finds every confirmed record,
//! each as written. The queue's and the bus's kill loops build on this.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use weft_disk::{Log, Options};
use weft_test_support::Rng;

const CHILD_DIR: &str = "WEFT_DISK_KILL_CHILD_DIR";

fn payload(offset: u64) -> Vec<u8> {
    let mut bytes = format!("record {offset} ").into_bytes();
    bytes.resize(bytes.len() + (offset % 300) as usize, b'x');
    bytes
}

// ANCHOR: kill_child
/// The child's body; a no-op test unless the parent set the variable.
#[test]
fn kill_child() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else {
        return;
    };
    let log = Options::new().segment_bytes(4096).open(&dir).unwrap().log;
    loop {
        let offset = log.end();
        let confirmed = log.blocking_append(&payload(offset)).unwrap();
        println!("confirmed {confirmed}");
    }
}
// ANCHOR_END: kill_child

#[test]
fn every_confirmed_append_survives_kill_9() {
    let iterations: u64 = std::env::var("WEFT_DISK_KILL_ITERATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10);
    let dir: PathBuf = std::env::temp_dir().join(format!("weft-disk-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut rng = Rng(0x5EED);
    let mut confirmed_total = 0;
    for iteration in 0..iterations {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["kill_child", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_DIR, &dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let wanted = 1 + rng.below(100);
        let mut confirmed = Vec::new();
        while (confirmed.len() as u64) < wanted {
            let Some(Ok(line)) = lines.next() else { break };
            if let Some(offset) = line.strip_prefix("confirmed ") {
                confirmed.push(offset.parse::<u64>().unwrap());
            }
        }
        // ANCHOR: kill_check
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        assert!(
            !confirmed.is_empty(),
            "iteration {iteration}: the child confirmed nothing"
        );

        let log = Log::open(&dir)
            .unwrap_or_else(|e| panic!("iteration {iteration}: {e}"))
            .log;
        let records = log.read(0, usize::MAX).unwrap();
        for record in &records {
            assert_eq!(record.payload, payload(record.offset), "iteration {iteration}");
        }
        for offset in &confirmed {
            assert!(
                *offset < log.end(),
                "iteration {iteration}: confirmed offset {offset} lost"
            );
        }
        confirmed_total += confirmed.len();
        // ANCHOR_END: kill_check
    }
    assert!(confirmed_total as u64 >= iterations);
    let _ = std::fs::remove_dir_all(&dir);
}
