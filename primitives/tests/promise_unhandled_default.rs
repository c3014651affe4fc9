//! The default unhandled-rejection report: one line on stderr, as Node's;
//! a hook replaces it, and taking the hook back brings it back.
//!
//! The report goes to the process's stderr, which the test harness
//! captures only in part, so the test runs this binary again as a child,
//! with `--nocapture`, and reads what the child wrote. The hook is
//! process-wide: the child runs one test alone.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use weft_primitives::promise::{Promise, set_unhandled_rejection_hook, take_unhandled_rejection_hook};

/// Set in the child's environment: run the scenario, don't spawn.
const CHILD: &str = "WEFT_UNHANDLED_DEFAULT_CHILD";

/// In the child: a hook replaces the report; taken back, the default
/// report comes back. Does nothing in the parent's own run.
#[test]
fn child_scenario() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    assert!(
        set_unhandled_rejection_hook(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        })
        .is_none()
    );
    drop(Promise::<(), &str>::reject("replaced"));
    assert_eq!(seen.load(Ordering::SeqCst), 1, "the hook replaces the report");
    assert!(take_unhandled_rejection_hook().is_some());
    assert!(take_unhandled_rejection_hook().is_none());
    drop(Promise::<(), &str>::reject("by default"));
    drop(Promise::<(), String>::reject("a second".to_owned()));
    assert_eq!(seen.load(Ordering::SeqCst), 1, "a hook taken back is not called");
}

/// The child's stderr holds one line per rejection reported by default,
/// and nothing for the one the hook took.
#[test]
fn the_default_report_is_one_line_and_comes_back_when_the_hook_is_taken() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_scenario", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "the child failed: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines,
        [
            "weft: a rejected promise was dropped unhandled: \"by default\"",
            "weft: a rejected promise was dropped unhandled: \"a second\"",
        ]
    );
}
