//! A `kill -9` in the middle of a child test: the parent runs one test of
//! its own binary as a child process, reads the lines it prints, SIGKILLs
//! it after a chosen number of them, and then reads what is left in the
//! pipe (what it printed before it died). The durable queue's and bus's
//! kill tests share it; the child test is the one that does the work.
//!
//! # Examples
//!
//! ```no_run
//! // In a test binary that has a test named `kill_child` printing one
//! // line per step, and reading `MY_DIR` from its environment:
//! let mut heard = Vec::new();
//! weft_test_support::kill::run_and_kill("kill_child", &[("MY_DIR", "/tmp/x")], 10, |line| {
//!     heard.push(line.to_string());
//! });
//! // `heard` holds the first ten lines and whatever the child printed
//! // before the kill reached it: check the store against them.
//! ```

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// Runs test `child_test` of the current test binary as a child process
/// with `envs` set, hands `hear` each line it prints to stdout, and
/// SIGKILLs it once `lines` of them are heard (or at once, if it ends
/// first); then hands `hear` the lines still in the pipe, and returns when
/// the child is reaped. The child's stderr is discarded.
///
/// # Panics
///
/// Panics if the child cannot be started, killed or reaped: a test
/// harness has no better answer.
pub fn run_and_kill<K, V>(child_test: &str, envs: &[(K, V)], lines: u64, mut hear: impl FnMut(&str))
where
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    let mut child = Command::new(std::env::current_exe().expect("the test binary's path"))
        .args([child_test, "--exact", "--nocapture", "--test-threads=1"])
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the child test starts");
    let stdout = child.stdout.take().expect("the child's stdout is piped");
    let mut printed = BufReader::new(stdout).lines();
    let mut heard = 0;
    while heard < lines {
        let Some(Ok(line)) = printed.next() else { break };
        hear(&line);
        heard += 1;
    }
    child.kill().expect("SIGKILL reaches the child");
    child.wait().expect("the child is reaped");
    // What it printed before it died is still in the pipe.
    for line in printed.map_while(Result::ok) {
        hear(&line);
    }
}
