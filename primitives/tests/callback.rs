//! The primitives' callbacks, run on weft's runtime: timers on the paused
//! clock and bridges both ways between callbacks, futures and promises.
//! (Callback-style TCP, which the facade adds, is tested in the facade's
//! `tests/callback.rs`.)

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use support::{Rng, paused_runtimes, runtimes};
use weft::time::Instant;
use weft_primitives::callback::{
    CallbackDropped, IntervalHandle, from_callback, into_callback, on_complete, set_interval, set_timeout,
};
use weft_primitives::promise::Promise;
use weft_primitives::sync::{mpsc, oneshot};

type Log<T> = Arc<Mutex<Vec<T>>>;

fn log<T>() -> Log<T> {
    Arc::new(Mutex::new(Vec::new()))
}

/// Completes after `delay` on the runtime's clock, through a callback timer.
async fn after(delay: Duration) {
    from_callback(|done| drop(set_timeout(delay, move || done(()))))
        .await
        .unwrap();
}

#[test]
fn timeouts_fire_in_deadline_order_and_equal_deadlines_in_the_order_set() {
    for (flavour, rt) in paused_runtimes() {
        let fired = log();
        rt.block_on(async {
            let start = Instant::now();
            for (label, ms) in [("c", 30), ("a1", 10), ("b", 20), ("a2", 10)] {
                let fired = fired.clone();
                set_timeout(Duration::from_millis(ms), move || {
                    fired.lock().unwrap().push((label, Instant::now() - start));
                });
            }
            after(Duration::from_millis(40)).await;
        });
        let ms = Duration::from_millis;
        assert_eq!(
            *fired.lock().unwrap(),
            [("a1", ms(10)), ("a2", ms(10)), ("b", ms(20)), ("c", ms(30))],
            "{flavour}"
        );
    }
}

#[test]
fn a_zero_delay_timeout_runs_later_never_inside_set_timeout() {
    thread_local! {
        /// Set on the calling thread while `set_timeout` is on its stack.
        static INSIDE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    for (flavour, rt) in paused_runtimes() {
        rt.block_on(async {
            let ran = Arc::new(AtomicBool::new(false));
            let inline = Arc::new(AtomicBool::new(false));
            let (tx, rx) = oneshot::channel();
            let (flag, seen_inline) = (ran.clone(), inline.clone());
            INSIDE.set(true);
            set_timeout(Duration::ZERO, move || {
                // True only on the calling thread, inside the call.
                seen_inline.store(INSIDE.get(), Ordering::SeqCst);
                flag.store(true, Ordering::SeqCst);
                let _ = tx.send(());
            });
            INSIDE.set(false);
            if flavour == "current_thread" {
                // One thread, and this task has not yielded: not yet run.
                assert!(!ran.load(Ordering::SeqCst), "{flavour}: ran before a yield");
            }
            // (With two workers the other may run it at once, in parallel.)
            rx.await.unwrap();
            assert!(ran.load(Ordering::SeqCst), "{flavour}");
            assert!(
                !inline.load(Ordering::SeqCst),
                "{flavour}: ran inside set_timeout"
            );
        });
    }
}

#[test]
fn a_cancelled_timeout_never_runs() {
    for (flavour, rt) in paused_runtimes() {
        rt.block_on(async {
            let ran = Arc::new(AtomicBool::new(false));
            let flag = ran.clone();
            let timer = set_timeout(Duration::from_millis(10), move || {
                flag.store(true, Ordering::SeqCst)
            });
            assert!(timer.is_pending());
            assert!(timer.cancel(), "{flavour}: cancel before firing");
            assert!(!timer.is_pending());
            assert!(!timer.cancel(), "{flavour}: cancelled twice");
            after(Duration::from_millis(50)).await;
            assert!(!ran.load(Ordering::SeqCst), "{flavour}: a cancelled timer ran");
        });
    }
}

#[test]
fn a_dropped_timer_handle_still_fires() {
    for (flavour, rt) in paused_runtimes() {
        rt.block_on(async {
            let (tx, rx) = oneshot::channel();
            drop(set_timeout(Duration::from_secs(3600), move || {
                let _ = tx.send(());
            }));
            assert_eq!(rx.await, Ok(()), "{flavour}");
        });
    }
}

#[test]
fn an_interval_ticks_each_period_until_its_own_callback_cancels_it() {
    for (flavour, rt) in paused_runtimes() {
        let ticks = log();
        rt.block_on(async {
            let start = Instant::now();
            let handle: Arc<OnceLock<IntervalHandle>> = Arc::default();
            let (ticks_in, handle_in) = (ticks.clone(), handle.clone());
            let interval = set_interval(Duration::from_millis(10), move || {
                let mut ticks = ticks_in.lock().unwrap();
                ticks.push(Instant::now() - start);
                if ticks.len() == 5 {
                    assert!(handle_in.get().unwrap().cancel());
                }
            });
            handle.set(interval.clone()).unwrap();
            assert!(interval.is_active());
            after(Duration::from_millis(200)).await;
            assert!(!interval.is_active(), "{flavour}");
            assert!(!interval.cancel(), "{flavour}");
        });
        let expected: Vec<_> = (1..=5).map(|n| Duration::from_millis(10 * n)).collect();
        assert_eq!(*ticks.lock().unwrap(), expected, "{flavour}");
    }
}

#[test]
fn a_panicking_callback_is_caught_and_later_callbacks_run() {
    for (flavour, rt) in paused_runtimes() {
        rt.block_on(async {
            let (tx, rx) = oneshot::channel();
            set_timeout(Duration::from_millis(1), || {
                panic!("a callback panics (expected)")
            });
            set_timeout(Duration::from_millis(2), move || {
                let _ = tx.send("still running");
            });
            assert_eq!(rx.await, Ok("still running"), "{flavour}");
        });
    }
}

#[test]
fn ten_thousand_timeouts_fire_once_each_in_deadline_order() {
    for (flavour, rt) in paused_runtimes() {
        let fired = log();
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let delays: Vec<u64> = (0..10_000).map(|_| rng.below(5_000)).collect();
        rt.block_on(async {
            let start = Instant::now();
            for (i, &ms) in delays.iter().enumerate() {
                let fired = fired.clone();
                set_timeout(Duration::from_millis(ms), move || {
                    fired.lock().unwrap().push((ms, i, Instant::now() - start));
                });
            }
            after(Duration::from_millis(5_000)).await;
        });
        let fired = fired.lock().unwrap();
        assert_eq!(fired.len(), delays.len(), "{flavour}");
        for &(ms, _, at) in fired.iter() {
            assert_eq!(at, Duration::from_millis(ms), "{flavour}");
        }
        // Deadline order; equal deadlines in the order they were set.
        assert!(
            fired.windows(2).all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1)),
            "{flavour}"
        );
    }
}

#[test]
fn from_callback_gives_the_value_or_an_error_when_done_is_dropped() {
    for (flavour, rt) in runtimes() {
        rt.block_on(async {
            let value = from_callback(|done| {
                std::thread::spawn(move || done(7));
            });
            assert_eq!(value.await, Ok(7), "{flavour}");
            let lost = from_callback::<u8>(|done| {
                std::thread::spawn(move || drop(done));
            });
            assert_eq!(lost.await, Err(CallbackDropped), "{flavour}");
            let panicked = from_callback::<u8>(|_done| panic!("register panics (expected)"));
            assert_eq!(panicked.await, Err(CallbackDropped), "{flavour}");
        });
    }
}

thread_local! {
    /// Set on a thread while it is inside a call that registers a callback.
    static REGISTERING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` marked as "inside the registering call": a callback that runs
/// inline sees the mark on its thread.
fn registering(f: impl FnOnce()) {
    REGISTERING.set(true);
    f();
    REGISTERING.set(false);
}

#[test]
fn on_complete_and_into_callback_run_after_the_future_never_inline() {
    for (flavour, rt) in runtimes() {
        rt.block_on(async {
            let (tx, mut rx) = mpsc::unbounded_channel();
            let tx2 = tx.clone();
            registering(|| {
                on_complete(async { 40 + 2 }, move |n| {
                    let _ = tx.send((REGISTERING.get(), Ok(n)));
                });
                into_callback(async { Err::<u32, String>("failed".into()) }, move |r| {
                    let _ = tx2.send((REGISTERING.get(), r));
                });
            });
            let mut got = vec![rx.recv().await.unwrap(), rx.recv().await.unwrap()];
            got.sort();
            assert!(got.iter().all(|(inline, _)| !inline), "{flavour}: ran inline");
            let outcomes: Vec<_> = got.into_iter().map(|(_, r)| r).collect();
            assert_eq!(outcomes, [Ok(42), Err("failed".to_string())], "{flavour}");
        });
    }
}

#[test]
fn a_promise_from_a_callback_and_a_callback_from_a_promise() {
    for (flavour, rt) in runtimes() {
        rt.block_on(async {
            let p = Promise::<u32, String>::from_callback(|done| {
                std::thread::spawn(move || done(Ok(5)));
            });
            let (tx, rx) = oneshot::channel();
            p.map(|n| n * 2).on_settled(move |outcome| {
                let _ = tx.send(outcome);
            });
            assert_eq!(rx.await, Ok(Ok(10)), "{flavour}");
            let lost = Promise::<u32, String>::from_callback(drop);
            assert!(lost.await.unwrap_err().contains("dropped"), "{flavour}");
        });
    }
}
