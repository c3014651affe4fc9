//! The costs of arming, cancelling and looking at timers, counted: wheel
//! locks, precise clock readings, interrupts of a waiting thread and
//! allocations. Never timed.

use super::stats::Counts;
use super::{Instant, sleep, timeout};
use crate::Driver;
use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll};
use std::time::Duration;
use weft_test_support::alloc;

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

/// Pending on its first poll (waking itself), ready on the second: the
/// future a timeout is armed around and cancelled on.
struct PendingOnce(bool);

impl Future for PendingOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// One `timeout(1 s, f)` whose `f` is pending once: armed, then cancelled.
fn armed_timeout(cx: &mut Context<'_>) {
    let mut armed = pin!(timeout(Duration::from_secs(1), PendingOnce(false)));
    assert!(armed.as_mut().poll(cx).is_pending(), "armed");
    assert_eq!(armed.as_mut().poll(cx), Poll::Ready(Ok(())), "cancelled");
}

fn counts(driver: &Driver) -> Counts {
    driver.handle().inner.time.stats.get()
}

/// Whether the coarse clock can vouch for a deadline an hour ahead (it can
/// on Linux); where it cannot, precise readings stand in for it.
fn has_coarse_clock(driver: &Driver) -> bool {
    let time = &driver.handle().inner.time;
    let hour = (time.clock.now() + Duration::from_secs(3600)) - time.clock.start();
    time.clock.surely_ahead(hour)
}

#[test]
fn an_armed_timeout_takes_two_wheel_locks_and_allocates_nothing() {
    const N: usize = 1_000;
    let driver = Driver::new().unwrap();
    let _enter = driver.handle().enter();
    let mut cx = Context::from_waker(std::task::Waker::noop());
    armed_timeout(&mut cx); // grows the wheel's slab to one entry
    let before = counts(&driver);
    alloc::start();
    for _ in 0..N {
        armed_timeout(&mut cx);
    }
    let allocs = alloc::stop();
    let spent = counts(&driver) - before;
    assert_eq!(allocs.count, 0, "no allocation per armed timeout");
    assert_eq!(spent.wheel_locks, 2 * N, "one lock to register, one to cancel");
    assert_eq!(spent.interrupts, 0, "nobody waits in the driver");
    assert_eq!(spent.due_checks, 0, "a deadline a second after a fresh reading");
    assert_eq!(spent.clock_reads, 0);
}

#[test]
fn a_sleep_polled_later_still_asks_whether_its_deadline_passed() {
    let driver = Driver::new_paused().unwrap();
    let handle = driver.handle();
    let _enter = handle.enter();
    let mut cx = Context::from_waker(std::task::Waker::noop());
    let mut nap = pin!(sleep(Duration::from_secs(1)));
    handle.clock().advance(Duration::from_secs(1));
    let before = counts(&driver);
    assert!(nap.as_mut().poll(&mut cx).is_ready(), "due at its first poll");
    assert_eq!((counts(&driver) - before).due_checks, 1);
    // A timeout of less than a tick asks too: its deadline may have come.
    let mut brief = pin!(timeout(Duration::from_nanos(1), std::future::pending::<()>()));
    let before = counts(&driver);
    assert!(brief.as_mut().poll(&mut cx).is_pending(), "a fresh nanosecond");
    assert_eq!((counts(&driver) - before).due_checks, 1);
    handle.clock().advance(Duration::from_millis(1));
    driver.park(Some(Duration::ZERO));
    assert!(matches!(brief.as_mut().poll(&mut cx), Poll::Ready(Err(_))));
}

#[test]
fn a_zero_timeout_on_a_pending_future_elapses_at_its_first_poll() {
    let driver = Driver::new_paused().unwrap();
    let _enter = driver.handle().enter();
    let mut cx = Context::from_waker(std::task::Waker::noop());
    let mut zero = pin!(timeout(Duration::ZERO, std::future::pending::<()>()));
    assert!(matches!(zero.as_mut().poll(&mut cx), Poll::Ready(Err(_))));
}

#[test]
fn timeouts_armed_beside_a_waiting_thread_interrupt_it_once_per_span() {
    const N: usize = 100;
    let driver = Driver::new().unwrap();
    let handle = driver.handle();
    let _enter = handle.enter();
    let time = &handle.inner.time;
    let mut cx = Context::from_waker(std::task::Waker::noop());
    let mut wakers = Vec::new();
    let before = counts(&driver);
    for round in 0..N {
        // A thread about to wait in the driver announces its wake, as
        // `park` does: with no timer left, the first time, never.
        let (fired, wait) = time.process_and_begin_wait(&mut wakers, true);
        assert!(!fired);
        if round == 0 {
            assert_eq!(wait, None, "nothing to wake for yet");
        } else {
            // The tick the first interrupt asked for, though its timer is
            // gone: a wake within the span, never an oversleep.
            let wait = wait.expect("the interrupted tick is kept");
            assert!(wait <= Duration::from_secs(1) + Duration::from_millis(1));
        }
        // Meanwhile another thread arms a timeout and cancels it.
        armed_timeout(&mut cx);
        time.end_wait();
    }
    let spent = counts(&driver) - before;
    assert_eq!(spent.interrupts, 1, "one interrupt, not one per timeout");
}

#[test]
fn an_interrupt_tick_that_has_passed_is_forgotten() {
    let driver = Driver::new().unwrap();
    let time = &driver.handle().inner.time;
    time.interrupted_for
        .store(0, std::sync::atomic::Ordering::Relaxed);
    let (_, wait) = time.process_and_begin_wait(&mut Vec::new(), true);
    time.end_wait();
    assert_eq!(wait, None, "no timer, and the interrupt's tick is past");
    let asked = time.interrupted_for.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(asked, u64::MAX);
}

#[test]
fn a_waiting_thread_is_still_interrupted_for_an_earlier_timer() {
    let driver = Driver::new().unwrap();
    let handle = driver.handle();
    let _enter = handle.enter();
    let time = &handle.inner.time;
    let mut cx = Context::from_waker(std::task::Waker::noop());
    let before = counts(&driver);
    armed_timeout(&mut cx); // no waiter: no interrupt
    let (_, wait) = time.process_and_begin_wait(&mut Vec::new(), true);
    assert_eq!(wait, None);
    let mut hour = pin!(sleep(Duration::from_secs(3600)));
    assert!(hour.as_mut().poll(&mut cx).is_pending());
    time.end_wait();
    let (_, wait) = time.process_and_begin_wait(&mut Vec::new(), true);
    assert!(wait.is_some_and(|w| w > Duration::from_secs(3000)));
    // A timer due before the waiter's wake interrupts it.
    let mut soon = pin!(sleep(Duration::from_secs(1)));
    assert!(soon.as_mut().poll(&mut cx).is_pending());
    time.end_wait();
    let (_, wait) = time.process_and_begin_wait(&mut Vec::new(), true);
    assert!(wait.is_some_and(|w| w <= Duration::from_secs(1)));
    time.end_wait();
    assert_eq!((counts(&driver) - before).interrupts, 2);
}

#[test]
fn a_turn_that_does_not_wait_takes_no_lock_and_no_precise_reading() {
    const N: usize = 100;
    let driver = Driver::new().unwrap();
    let handle = driver.handle();
    let _enter = handle.enter();
    let mut cx = Context::from_waker(std::task::Waker::noop());
    // No timer at all: not even the coarse clock is asked.
    driver.park(Some(Duration::ZERO));
    assert_eq!(counts(&driver).wheel_locks, 0);
    let mut hour = pin!(sleep(Duration::from_secs(3600)));
    assert!(hour.as_mut().poll(&mut cx).is_pending());
    let before = counts(&driver);
    for _ in 0..N {
        driver.park(Some(Duration::ZERO));
    }
    let spent = counts(&driver) - before;
    if has_coarse_clock(&driver) {
        assert_eq!(spent.wheel_locks, 0, "the earliest tick is read without it");
        assert_eq!(spent.clock_reads, 0, "the coarse clock says nothing is due");
    } else {
        assert!(spent.wheel_locks <= 2 * N && spent.clock_reads <= N);
    }
    assert!(hour.as_mut().poll(&mut cx).is_pending());
}

#[test]
fn a_turn_that_does_not_wait_sees_a_timer_made_earlier_by_reset() {
    let driver = Driver::new_paused().unwrap();
    let handle = driver.handle();
    let _enter = handle.enter();
    let mut cx = Context::from_waker(std::task::Waker::noop());
    let mut nap = pin!(sleep(Duration::from_secs(3600)));
    assert!(nap.as_mut().poll(&mut cx).is_pending());
    driver.park(Some(Duration::ZERO));
    let next_due = || {
        handle
            .inner
            .time
            .next_due
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    // The hour's slot, or an earlier one it must cascade through.
    assert!(next_due() > 2);
    nap.as_mut().reset(Instant::now() + Duration::from_millis(2));
    assert_eq!(next_due(), 2, "lowered to the new deadline's tick");
    handle.clock().advance(Duration::from_millis(2));
    driver.park(Some(Duration::ZERO));
    assert!(nap.as_mut().poll(&mut cx).is_ready());
}

#[test]
fn a_turn_that_does_not_wait_still_fires_what_is_due() {
    let driver = Driver::new_paused().unwrap();
    let handle = driver.handle();
    let _enter = handle.enter();
    let mut cx = Context::from_waker(std::task::Waker::noop());
    let start = Instant::now();
    let mut nap = pin!(sleep(Duration::from_millis(5)));
    assert!(nap.as_mut().poll(&mut cx).is_pending());
    handle.clock().advance(Duration::from_millis(5));
    driver.park(Some(Duration::ZERO));
    assert!(nap.as_mut().poll(&mut cx).is_ready());
    assert!(start.elapsed() >= Duration::from_millis(5));
}
