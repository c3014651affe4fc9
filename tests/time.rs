//! Timers through the facade: ordering, the paused clock with auto-advance
//! on both schedulers, timeouts, intervals, extreme deadlines.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{Rng, oneshot, paused_runtimes, runtimes};
use weft::time::{self, Instant, MissedTickBehavior, interval, sleep, sleep_until, timeout};

// ANCHOR: hour-of-timers
#[test]
fn an_hour_of_timers_runs_at_once_on_a_paused_clock() {
    for (flavour, rt) in paused_runtimes() {
        let ticks = rt.block_on(async {
            let start = Instant::now();
            let mut every_second = interval(Duration::from_secs(1));
            let mut ticks = Vec::new();
            for _ in 0..=3600 {
                ticks.push(every_second.tick().await - start);
            }
            ticks
        });
        let expected: Vec<_> = (0..=3600).map(Duration::from_secs).collect();
        assert_eq!(ticks, expected, "{flavour}");
    }
}
// ANCHOR_END: hour-of-timers

#[test]
fn a_hundred_thousand_timers_fire_in_deadline_order() {
    for (flavour, rt) in paused_runtimes() {
        let fired = Arc::new(Mutex::new(Vec::with_capacity(100_000)));
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let deadlines: Vec<u64> = (0..100_000).map(|_| rng.below(600_000)).collect();
        rt.block_on(async {
            let start = Instant::now();
            let tasks: Vec<_> = deadlines
                .iter()
                .map(|&ms| {
                    let fired = fired.clone();
                    weft::spawn(async move {
                        sleep_until(start + Duration::from_millis(ms)).await;
                        fired.lock().unwrap().push((ms, Instant::now() - start));
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
        });
        let fired = fired.lock().unwrap();
        assert_eq!(fired.len(), deadlines.len(), "{flavour}");
        // Each woke exactly at its deadline, and in deadline order.
        for &(ms, at) in fired.iter() {
            assert_eq!(at, Duration::from_millis(ms), "{flavour}");
        }
        assert!(
            fired.windows(2).all(|w| w[0].0 <= w[1].0),
            "{flavour}: out of order"
        );
    }
}

#[test]
fn timeout_elapses_and_does_not() {
    for (flavour, rt) in paused_runtimes() {
        rt.block_on(async {
            let quick = timeout(Duration::from_secs(30), async { 7 }).await;
            assert_eq!(quick, Ok(7), "{flavour}");

            let slow = timeout(Duration::from_secs(30), sleep(Duration::from_secs(31))).await;
            let err = slow.expect_err("the sleep outlasts the timeout");
            assert_eq!(err.to_string(), "deadline has elapsed");
            assert_eq!(std::io::Error::from(err).kind(), std::io::ErrorKind::TimedOut);

            let start = Instant::now();
            let (tx, rx) = oneshot();
            let answer = weft::spawn(async move {
                sleep(Duration::from_secs(29)).await;
                tx.send(42);
            });
            assert_eq!(timeout(Duration::from_secs(30), rx).await, Ok(42), "{flavour}");
            assert_eq!(start.elapsed(), Duration::from_secs(29));
            answer.await.unwrap();
        });
    }
}

#[test]
fn a_timeout_span_starts_at_its_first_pending_poll_and_timeout_at_is_fixed() {
    for (flavour, rt) in paused_runtimes() {
        rt.block_on(async {
            let start = Instant::now();
            let span = Duration::from_secs(10);
            let mut late = Box::pin(timeout(span, std::future::pending::<()>()));
            let mut fixed = Box::pin(time::timeout_at(start + span, std::future::pending::<()>()));
            assert_eq!(late.deadline(), None, "{flavour}: not started before a poll");
            assert_eq!(fixed.deadline(), Some(start + span), "{flavour}");

            // Twenty seconds pass before either is polled.
            time::advance(Duration::from_secs(20)).await;
            let first_poll = Instant::now();
            let pending = std::future::poll_fn(|cx| {
                std::task::Poll::Ready(std::future::Future::poll(late.as_mut(), cx).is_pending())
            });
            assert!(pending.await, "{flavour}");
            assert_eq!(late.deadline(), Some(first_poll + span), "{flavour}");
            assert!(
                fixed.as_mut().await.is_err(),
                "{flavour}: its deadline has passed"
            );
            assert_eq!(Instant::now(), first_poll, "{flavour}: past deadline, no wait");

            // The late one runs its whole span from its first poll.
            assert!(late.as_mut().await.is_err());
            assert_eq!(Instant::now() - first_poll, span, "{flavour}");
        });
    }
}

#[test]
fn far_future_and_past_deadlines() {
    for (flavour, rt) in paused_runtimes() {
        rt.block_on(async {
            // The past: ready on the first poll, the clock unmoved.
            let start = Instant::now();
            sleep_until(start - Duration::from_secs(10)).await;
            sleep(Duration::ZERO).await;
            assert_eq!(Instant::now(), start, "{flavour}");

            // Duration::MAX saturates; a timeout that long lets the future win.
            let far = sleep(Duration::MAX);
            assert!(far.deadline() > start + Duration::from_secs(86_400 * 365 * 10));
            assert_eq!(timeout(Duration::MAX, async { 1 }).await, Ok(1));
            let won = timeout(Duration::MAX, sleep(Duration::from_secs(86_400 * 365))).await;
            assert_eq!(won, Ok(()), "{flavour}: a year passes before forever");
            drop(far);
        });
    }
}

#[test]
fn sleep_reset_moves_the_deadline_both_ways() {
    for (flavour, rt) in paused_runtimes() {
        rt.block_on(async {
            let start = Instant::now();
            let mut nap = sleep(Duration::from_secs(100));
            // Pending once, so it sits in the wheel; then brought forward.
            assert!(timeout(Duration::from_secs(1), &mut nap).await.is_err());
            nap.reset(start + Duration::from_secs(5));
            (&mut nap).await;
            assert_eq!(start.elapsed(), Duration::from_secs(5), "{flavour}");
            // Completed, then pushed later: pending again until then.
            nap.reset(start + Duration::from_secs(60));
            assert!(!nap.is_elapsed());
            nap.await;
            assert_eq!(start.elapsed(), Duration::from_secs(60), "{flavour}");
        });
    }
}

/// Ticks of an interval with period 10 s whose task is 25 s late after the
/// first tick, under `behavior`, as offsets from the start in seconds.
fn late_ticks(rt: &weft::Runtime, behavior: MissedTickBehavior) -> Vec<u64> {
    rt.block_on(async {
        let start = Instant::now();
        let mut every = interval(Duration::from_secs(10));
        every.set_missed_tick_behavior(behavior);
        let mut seen = vec![every.tick().await - start];
        time::advance(Duration::from_secs(25)).await;
        for _ in 0..3 {
            every.tick().await;
            seen.push(Instant::now() - start);
        }
        seen.into_iter().map(|d| d.as_secs()).collect()
    })
}

#[test]
fn interval_missed_tick_behaviours() {
    for (flavour, rt) in paused_runtimes() {
        // Burst: the missed 10 s and 20 s ticks at once (at 25 s), then 30 s.
        assert_eq!(
            late_ticks(&rt, MissedTickBehavior::Burst),
            [0, 25, 25, 30],
            "{flavour}"
        );
        // Delay: at 25 s, then a full period after each.
        assert_eq!(
            late_ticks(&rt, MissedTickBehavior::Delay),
            [0, 25, 35, 45],
            "{flavour}"
        );
        // Skip: at 25 s, then back on the 10 s grid.
        assert_eq!(
            late_ticks(&rt, MissedTickBehavior::Skip),
            [0, 25, 30, 40],
            "{flavour}"
        );
    }
}

// ANCHOR: pause-advance
#[test]
fn pause_advance_resume() {
    for (flavour, rt) in runtimes() {
        rt.block_on(async {
            time::pause();
            let t0 = Instant::now();
            // The deadline is fixed here, not when the task first runs.
            let nap = sleep(Duration::from_secs(10));
            let waiter = weft::spawn(async move {
                nap.await;
                Instant::now()
            });
            time::advance(Duration::from_secs(4)).await;
            assert_eq!(Instant::now() - t0, Duration::from_secs(4), "{flavour}");
            assert!(!waiter.is_finished());
            time::advance(Duration::from_secs(6)).await;
            assert_eq!(waiter.await.unwrap() - t0, Duration::from_secs(10), "{flavour}");
            time::resume();
            // Running again, from where the paused clock stood.
            assert!(Instant::now() - t0 >= Duration::from_secs(10));
        });
    }
}
// ANCHOR_END: pause-advance

#[test]
fn real_time_sleeps_fire() {
    for (flavour, rt) in runtimes() {
        rt.block_on(async {
            let start = Instant::now();
            let tasks: Vec<_> = (0..10u64)
                .map(|i| weft::spawn(async move { sleep(Duration::from_millis(i)).await }))
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            assert!(start.elapsed() >= Duration::from_millis(9), "{flavour}");
        });
    }
}

#[test]
fn a_task_woken_from_a_plain_thread_runs_while_workers_wait_in_the_driver() {
    let rt = weft::Runtime::builder().worker_threads(2).build().unwrap();
    let (tx, rx) = oneshot::<u32>();
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    rt.spawn(async move {
        started_tx.send(()).unwrap();
        let value = rx.await;
        done_tx.send(value).unwrap();
    });
    // Once the task has polled the receiver and gone to sleep, no thread but
    // this one has anything to do: the workers wait in the driver or on their
    // condvars, and the send below must reach them.
    // ANCHOR: hang-guard
    started_rx.recv().unwrap();
    std::thread::spawn(move || tx.send(5)).join().unwrap();
    // A hang guard, not a timing: the task runs or the test fails.
    assert_eq!(done_rx.recv_timeout(Duration::from_secs(20)), Ok(5));
    // ANCHOR_END: hang-guard
}

#[test]
fn a_timer_set_on_one_worker_interrupts_another_waiting_in_the_driver() {
    // The worker that sets the timer goes to its condvar; the one already
    // in the driver chose its wait before the timer existed and must be
    // woken to shorten it. Each round is a fresh runtime, so the order in
    // which the workers went to sleep varies.
    for round in 0..100 {
        let rt = weft::Runtime::builder().worker_threads(2).build().unwrap();
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        rt.spawn(async move {
            sleep(Duration::from_millis(1)).await;
            done_tx.send(()).unwrap();
        });
        // A hang guard, not a timing: the timer fires or the test fails.
        assert_eq!(
            done_rx.recv_timeout(Duration::from_secs(20)),
            Ok(()),
            "round {round}: the timer never fired"
        );
    }
}

#[test]
fn weft_block_on_runs_timers_and_tasks() {
    let n = weft::block_on(async {
        sleep(Duration::from_millis(1)).await;
        weft::spawn(async { 21 }).await.unwrap() * 2
    });
    assert_eq!(n, 42);
    // A second call reuses the thread's runtime.
    assert_eq!(weft::block_on(async { 1 }), 1);
}

/// Runs `body` on its own thread and fails, instead of hanging, if it has
/// not finished within a generous bound.
fn within_a_minute(what: &str, body: impl FnOnce() + Send + 'static) {
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        body();
        let _ = done_tx.send(());
    });
    match done_rx.recv_timeout(Duration::from_secs(60)) {
        Ok(()) => {}
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!("{what}: still waiting after a minute"),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => panic!("{what}: the body panicked"),
    }
}

#[test]
fn absurd_sleeps_saturate_after_pause_as_with_start_paused() {
    for (flavour, rt) in runtimes() {
        within_a_minute(flavour, move || {
            rt.block_on(async move {
                time::pause();
                let start = Instant::now();
                // Auto-advance jumps to the saturated deadline, about thirty
                // years on, and the sleep completes.
                sleep(Duration::MAX).await;
                let waited = Instant::now() - start;
                assert!(
                    waited > Duration::from_secs(86_400 * 365 * 10),
                    "{flavour}: {waited:?}"
                );
                let again = Instant::now();
                time::advance(Duration::MAX).await;
                assert!(Instant::now() > again, "{flavour}: advance(MAX) moves the clock");
                sleep_until(Instant::now() + Duration::from_secs(1)).await;
                time::resume();
            });
        });
    }
    for (flavour, rt) in paused_runtimes() {
        within_a_minute(flavour, move || rt.block_on(sleep(Duration::MAX)));
    }
}

#[test]
fn interval_resets_move_the_next_tick_and_keep_the_period() {
    for (flavour, rt) in paused_runtimes() {
        let ticks = rt.block_on(async {
            let start = Instant::now();
            let secs = |at: Instant| (at - start).as_secs();
            let mut every = interval(Duration::from_secs(10));
            let mut seen = vec![secs(every.tick().await)]; // 0
            every.reset(); // next at 10, from now (0)
            seen.push(secs(every.tick().await)); // 10
            every.reset_after(Duration::from_secs(3));
            seen.push(secs(every.tick().await)); // 13
            seen.push(secs(every.tick().await)); // 23: the period again
            every.reset_at(start + Duration::from_secs(100));
            seen.push(secs(every.tick().await)); // 100
            time::advance(Duration::from_secs(4)).await;
            every.reset_immediately();
            seen.push(secs(every.tick().await)); // 104, at once
            seen.push(secs(every.tick().await)); // 114
            every.reset_at(start); // in the past: at once
            seen.push(secs(every.tick().await));
            seen
        });
        assert_eq!(ticks, [0, 10, 13, 23, 100, 104, 114, 0], "{flavour}");
    }
}
