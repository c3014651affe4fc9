//! `#[weft::main]` and `#[weft::test]` (the `macros` feature): each option
//! builds the runtime it names, the return type is kept, and other test
//! attributes still apply.
//!
//! Run with `cargo test -p weft --features macros --test macros`; without
//! the feature this file is skipped (`required-features` in `Cargo.toml`).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, ThreadId};
use std::time::Duration;
use weft::time::Instant;

/// Where a spawned task ran: its thread's id and name.
async fn spawned_thread() -> (ThreadId, Option<String>) {
    weft::spawn(async {
        let here = thread::current();
        (here.id(), here.name().map(str::to_owned))
    })
    .await
    .unwrap()
}

/// Where a task spawned by a task ran. On a multi-thread runtime the
/// thread in `block_on` runs the task its future hands off, as the
/// `block_on_runs_tasks` setting says, so [`spawned_thread`] called from
/// the test's body would report that thread; a task's own spawn is left to
/// the workers.
async fn spawned_by_a_task() -> (ThreadId, Option<String>) {
    weft::spawn(spawned_thread()).await.unwrap()
}

#[weft::test]
async fn test_defaults_to_current_thread() {
    let (id, _) = spawned_thread().await;
    assert_eq!(id, thread::current().id());
}

#[weft::test(flavor = "current_thread")]
async fn current_thread_runs_tasks_on_the_test_thread() {
    let (id, _) = spawned_thread().await;
    assert_eq!(id, thread::current().id());
}

#[weft::test(flavor = "multi_thread")]
async fn multi_thread_runs_tasks_on_workers() {
    let (id, name) = spawned_by_a_task().await;
    assert_ne!(id, thread::current().id());
    assert_eq!(name.as_deref(), Some("weft-worker"));
}

/// Blocks the calling thread until `n` threads have arrived, or gives up
/// after a generous bound (so a broken runtime fails the test rather than
/// hanging it); returns whether all arrived.
fn rendezvous(arrived: &(Mutex<usize>, Condvar), n: usize) -> bool {
    let (count, all_here) = arrived;
    let mut count = count.lock().unwrap();
    *count += 1;
    all_here.notify_all();
    let (count, _) = all_here
        .wait_timeout_while(count, Duration::from_secs(30), |count| *count < n)
        .unwrap();
    *count >= n
}

// Three, more than this machine's two CPUs, so the default count would not
// pass.
#[weft::test(flavor = "multi_thread", worker_threads = 3)]
async fn worker_threads_sets_the_count() {
    // Three tasks that each hold their worker until all three have arrived
    // meet only if three workers run at once. They are spawned by a task,
    // so the thread in `block_on` (which runs what its future hands off)
    // is not one of them.
    let arrived = Arc::new((Mutex::new(0), Condvar::new()));
    let met = weft::spawn(async move {
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let arrived = Arc::clone(&arrived);
                weft::spawn(async move { (rendezvous(&arrived, 3), thread::current().id()) })
            })
            .collect();
        let mut met = Vec::new();
        for task in tasks {
            met.push(task.await.unwrap());
        }
        met
    })
    .await
    .unwrap();
    let mut ids = HashSet::new();
    for (met, id) in met {
        assert!(met, "three tasks never ran at once");
        assert_ne!(id, thread::current().id());
        ids.insert(id);
    }
    assert_eq!(ids.len(), 3);

    // And no more than three: every task, wherever it is stolen to, runs on
    // one of them.
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            weft::spawn(async {
                weft::task::yield_now().await;
                thread::current().id()
            })
        })
        .collect();
    let mut all = HashSet::new();
    for task in tasks {
        all.insert(task.await.unwrap());
    }
    assert!(all.len() <= 3, "tasks ran on {} threads", all.len());
    assert!(!all.contains(&thread::current().id()));
}

// ANCHOR: paused-test
#[weft::test(start_paused = true)]
async fn start_paused_lets_an_hour_pass_at_once() {
    let start = Instant::now();
    weft::time::sleep(Duration::from_secs(3600)).await;
    assert!(start.elapsed() >= Duration::from_secs(3600));
}
// ANCHOR_END: paused-test

// Unlike tokio, weft's paused clock works on the multi-thread runtime too.
#[weft::test(flavor = "multi_thread", worker_threads = 1, start_paused = true)]
async fn start_paused_on_the_multi_thread_runtime() {
    let start = Instant::now();
    let slept = weft::spawn(async move {
        weft::time::sleep(Duration::from_secs(3600)).await;
        start.elapsed()
    });
    assert!(slept.await.unwrap() >= Duration::from_secs(3600));
}

#[weft::test(start_paused = false)]
async fn start_paused_false_leaves_the_clock_running() {
    // `advance` panics at once unless the clock is paused.
    let advanced = std::panic::catch_unwind(|| drop(weft::time::advance(Duration::from_secs(1))));
    let message = advanced.unwrap_err();
    let message = message.downcast_ref::<&str>().copied().unwrap_or_default();
    assert!(message.contains("needs a paused clock"), "{message}");
}

#[weft::test]
async fn a_test_may_return_a_result() -> std::io::Result<()> {
    let answer = weft::spawn(async { 42 }).await?;
    assert_eq!(answer, 42);
    Ok(())
}

#[weft::test]
#[should_panic(expected = "the body's panic")]
async fn should_panic_still_applies() {
    weft::task::yield_now().await;
    panic!("the body's panic");
}

#[weft::test]
#[ignore = "shows that #[ignore] still applies: it fails if run"]
async fn ignore_still_applies() {
    panic!("an ignored test ran");
}

/// A stand-in for the weft crate, to show `crate = "…"` names the path the
/// expansion uses: its `Builder` records that it was reached.
mod renamed {
    use std::sync::atomic::Ordering;
    pub(crate) use weft::*;

    pub(crate) struct Builder;

    impl Builder {
        pub(crate) fn new_current_thread() -> weft::Builder {
            super::REACHED.store(true, Ordering::SeqCst);
            weft::Builder::new_current_thread()
        }
    }
}

static REACHED: AtomicBool = AtomicBool::new(false);

#[renamed::test(crate = "crate::renamed")]
async fn crate_option_names_the_facade() {
    assert!(REACHED.load(Ordering::SeqCst));
}

/// A `main` under another name, so a test can call it.
#[weft::main(flavor = "current_thread")]
async fn main_returning_a_result() -> Result<u32, std::num::ParseIntError> {
    let n: u32 = "41".parse()?;
    Ok(weft::spawn(async move { n + 1 }).await.unwrap())
}

#[weft::main]
async fn main_that_fails() -> Result<u32, std::num::ParseIntError> {
    let n: u32 = "forty-one".parse()?;
    Ok(n)
}

#[weft::main]
async fn main_defaults_to_multi_thread() -> Option<String> {
    spawned_by_a_task().await.1
}

#[test]
fn main_keeps_its_return_type() {
    assert_eq!(main_returning_a_result(), Ok(42));
    assert!(main_that_fails().is_err());
    assert_eq!(main_defaults_to_multi_thread().as_deref(), Some("weft-worker"));
}
