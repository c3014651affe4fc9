//! The fairness bound, counted on a clock moved by hand: how many
//! acquisitions overtake a waiter before, and after, its deadline.

use super::fairness::advance;
use super::*;
use crate::util::test_support::{counter, poll, wakes};

/// Long enough that the real time a test takes never reaches it: only
/// [`advance`] does.
const BOUND: Duration = Duration::from_secs(3600);

#[test]
fn a_fresh_waiter_is_overtaken_then_handed_the_first_release_after_its_bound() {
    let sem = Semaphore::with_fairness_bound(1, BOUND);
    let held = sem.try_acquire().unwrap();
    let (woken, waker) = counter();
    let mut waiter = Box::pin(sem.acquire());
    assert!(poll(&mut waiter, &waker).is_pending());
    drop(held);
    assert_eq!(wakes(&woken), 1, "the release woke the waiter to look");
    // Within the bound, the free permit is anyone's: a task that releases
    // and acquires in a loop keeps going, and the wake already in flight is
    // not repeated.
    for _ in 0..1_000 {
        drop(sem.try_acquire().expect("barging within the bound"));
    }
    assert_eq!(wakes(&woken), 1);
    // The waiter looks while a barger holds the permit: it queues on.
    let barger = sem.try_acquire().unwrap();
    assert!(poll(&mut waiter, &waker).is_pending());
    advance(BOUND);
    // Its deadline passed: the next release is its, and nobody overtakes.
    drop(barger);
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    assert_eq!(wakes(&woken), 2, "the hand-off woke it");
    let Poll::Ready(Ok(permit)) = poll(&mut waiter, &waker) else {
        panic!("handed the permit");
    };
    drop(permit);
    // Nobody waits: barging again.
    assert_eq!(sem.available_permits(), 1);
    assert!(sem.try_acquire().is_ok());
}

#[test]
fn a_woken_waiter_past_its_bound_is_overtaken_only_until_it_looks() {
    let sem = Semaphore::with_fairness_bound(1, BOUND);
    let held = sem.try_acquire().unwrap();
    let (woken, waker) = counter();
    let mut waiter = Box::pin(sem.acquire());
    assert!(poll(&mut waiter, &waker).is_pending());
    drop(held);
    advance(BOUND);
    // Woken and past its bound, but it has not looked yet: releases do not
    // take the lock while a wake is in flight, so these go by.
    let mut overtaken = 0;
    for _ in 0..3 {
        drop(sem.try_acquire().unwrap());
        overtaken += 1;
    }
    let barger = sem.try_acquire().unwrap();
    overtaken += 1;
    // It looks, finds the permit taken and its deadline passed: hand-off.
    assert!(poll(&mut waiter, &waker).is_pending());
    drop(barger);
    assert!(sem.try_acquire().is_err());
    assert!(matches!(poll(&mut waiter, &waker), Poll::Ready(Ok(_))));
    assert_eq!(overtaken, 4);
    assert_eq!(wakes(&woken), 2);
}

#[test]
fn a_waiting_writer_holds_back_barging_readers_once_past_its_bound() {
    // Two permits, as an `RwLock` with two readers.
    let sem = Semaphore::with_fairness_bound(2, BOUND);
    let mut a = sem.try_acquire().unwrap();
    let b = sem.try_acquire().unwrap();
    let (woken, waker) = counter();
    let mut writer = Box::pin(sem.acquire_many(2));
    assert!(poll(&mut writer, &waker).is_pending());
    // Within the bound, reader `a` leaves and comes back as it likes; the
    // writer is never woken, since one free permit is too few for it.
    for _ in 0..100 {
        drop(a);
        a = sem.try_acquire().expect("barging within the bound");
    }
    assert_eq!(wakes(&woken), 0);
    advance(BOUND);
    // Past it, released permits are set aside for the writer.
    drop(a);
    assert_eq!(sem.available_permits(), 0);
    assert!(sem.try_acquire().is_err(), "no reader overtakes it any more");
    assert!(poll(&mut writer, &waker).is_pending());
    drop(b);
    assert_eq!(wakes(&woken), 1);
    let Poll::Ready(Ok(permit)) = poll(&mut writer, &waker) else {
        panic!("both permits went to the writer");
    };
    assert_eq!(permit.num_permits(), 2);
}

#[test]
fn hand_off_ends_when_the_next_waiter_is_within_its_bound() {
    let sem = Semaphore::with_fairness_bound(1, BOUND);
    let held = sem.try_acquire().unwrap();
    let (_, waker) = counter();
    let (second_woken, second_waker) = counter();
    let mut old = Box::pin(sem.acquire());
    assert!(poll(&mut old, &waker).is_pending());
    advance(BOUND);
    let mut fresh = Box::pin(sem.acquire());
    assert!(poll(&mut fresh, &second_waker).is_pending());
    drop(held);
    let Poll::Ready(Ok(permit)) = poll(&mut old, &waker) else {
        panic!("the old waiter was handed the permit");
    };
    // The fresh waiter is within its bound: its release frees the permit
    // for anyone, and wakes it.
    drop(permit);
    assert_eq!(wakes(&second_woken), 1);
    let barger = sem.try_acquire().expect("barging again");
    assert!(poll(&mut fresh, &second_waker).is_pending());
    drop(barger);
    assert!(matches!(poll(&mut fresh, &second_waker), Poll::Ready(Ok(_))));
}

#[test]
fn a_zero_bound_hands_off_at_once() {
    let sem = Semaphore::with_fairness_bound(1, Duration::ZERO);
    let held = sem.try_acquire().unwrap();
    let (_, waker) = counter();
    let mut waiter = Box::pin(sem.acquire());
    assert!(poll(&mut waiter, &waker).is_pending());
    drop(held);
    assert!(sem.try_acquire().is_err(), "strict: the permit is the waiter's");
    assert!(matches!(poll(&mut waiter, &waker), Poll::Ready(Ok(_))));
}

#[test]
fn a_woken_waiter_dropped_before_it_looks_wakes_the_next() {
    let sem = Semaphore::with_fairness_bound(1, BOUND);
    let held = sem.try_acquire().unwrap();
    let (first_woken, first_waker) = counter();
    let (second_woken, second_waker) = counter();
    let mut first = Box::pin(sem.acquire());
    let mut second = Box::pin(sem.acquire());
    assert!(poll(&mut first, &first_waker).is_pending());
    assert!(poll(&mut second, &second_waker).is_pending());
    drop(held);
    assert_eq!((wakes(&first_woken), wakes(&second_woken)), (1, 0));
    drop(first);
    assert_eq!(wakes(&second_woken), 1, "the wake passed on");
    assert!(matches!(poll(&mut second, &second_waker), Poll::Ready(Ok(_))));
}

#[test]
fn close_during_a_hand_off_gives_the_set_aside_permits_back() {
    let sem = Semaphore::with_fairness_bound(2, Duration::ZERO);
    let held = sem.try_acquire_many(2).unwrap();
    let (_, waker) = counter();
    let mut waiter = Box::pin(sem.acquire_many(2));
    assert!(poll(&mut waiter, &waker).is_pending());
    let mut held = held;
    drop(held.split(1));
    // One permit set aside for the waiter, none free.
    assert_eq!(sem.available_permits(), 0);
    sem.close();
    assert_eq!(sem.available_permits(), 1);
    assert!(matches!(poll(&mut waiter, &waker), Poll::Ready(Err(_))));
    drop(held);
    assert_eq!(sem.available_permits(), 2);
}
