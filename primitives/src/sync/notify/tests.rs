//! Unit tests of `Notify`.

use super::*;
use crate::util::test_support::{counter, poll, wakes};

/// Entries the queue keeps: waiters, holes, and tickets woken by
/// `notify_waiters` or granted by `notify_last` whose owners have not
/// looked yet.
fn nodes(notify: &Notify) -> usize {
    let queue = lock(&notify.queue);
    queue.ring.len() + queue.woken_by_all.len() + queue.granted_last.len()
}

fn permit(notify: &Notify) -> bool {
    notify.state.load(Acquire) & TAG == NOTIFIED
}

#[test]
fn a_granted_waiter_completes_and_leaves_no_node() {
    let notify = Notify::new();
    let (count, waker) = counter();
    let mut waiter = notify.notified();
    assert!(poll(&mut waiter, &waker).is_pending());
    assert_eq!(nodes(&notify), 1);
    notify.notify_one();
    assert_eq!(wakes(&count), 1);
    // `notify_one` freed the node already.
    assert_eq!(nodes(&notify), 0);
    assert!(poll(&mut waiter, &waker).is_ready());
    drop(waiter);
    assert_eq!(nodes(&notify), 0);
}

#[test]
fn a_waiter_woken_by_notify_waiters_frees_its_node_even_after_a_later_grant() {
    let notify = Notify::new();
    let (_, waker) = counter();
    let mut early = notify.notified();
    assert!(poll(&mut early, &waker).is_pending());
    notify.notify_waiters();
    let mut late = notify.notified();
    assert!(poll(&mut late, &waker).is_pending());
    notify.notify_one();
    // `granted` is past `early`'s ticket, but the count moved: `early`
    // takes the locked path and frees the node notify_waiters left.
    assert_eq!(nodes(&notify), 1);
    assert!(poll(&mut early, &waker).is_ready());
    assert_eq!(nodes(&notify), 0);
    assert!(poll(&mut late, &waker).is_ready());
    assert!(!permit(&notify));
}

#[test]
fn cancelled_waiters_leave_no_node_whatever_woke_them() {
    let notify = Notify::new();
    let (_, waker) = counter();
    for wake in 0..3 {
        let mut waiter = notify.notified();
        assert!(poll(&mut waiter, &waker).is_pending());
        match wake {
            0 => notify.notify_one(),
            1 => notify.notify_waiters(),
            _ => {}
        }
        drop(waiter);
        assert_eq!(nodes(&notify), 0, "case {wake}");
        // Only a grant is passed on, into the permit.
        assert_eq!(permit(&notify), wake == 0, "case {wake}");
        notify.state.fetch_and(!TAG, AcqRel);
    }
}

#[test]
fn holes_left_by_cancelled_waiters_do_not_pile_up() {
    let notify = Notify::new();
    let (_, waker) = counter();
    // A waiter that stays at the front while others come and go behind
    // it, each leaving a hole between two waiters.
    let mut front = notify.notified();
    assert!(poll(&mut front, &waker).is_pending());
    let mut last = notify.notified();
    assert!(poll(&mut last, &waker).is_pending());
    for round in 0..1000 {
        let mut gone = notify.notified();
        assert!(poll(&mut gone, &waker).is_pending());
        let mut next = notify.notified();
        assert!(poll(&mut next, &waker).is_pending());
        drop(gone);
        last = next;
        assert!(
            nodes(&notify) <= 2 * 3 + 8,
            "round {round}: {} entries",
            nodes(&notify)
        );
    }
    // The two survivors are served in order, the holes skipped.
    notify.notify_one();
    assert!(poll(&mut last, &waker).is_pending());
    assert!(poll(&mut front, &waker).is_ready());
    notify.notify_one();
    assert!(poll(&mut last, &waker).is_ready());
    assert_eq!(nodes(&notify), 0);
}

#[test]
fn waiters_woken_by_notify_waiters_leave_nothing_however_they_end() {
    let notify = Notify::new();
    let (count, waker) = counter();
    let mut waiters: Vec<_> = (0..3).map(|_| notify.notified()).collect();
    for waiter in &mut waiters {
        assert!(poll(waiter, &waker).is_pending());
    }
    notify.notify_waiters();
    assert_eq!(wakes(&count), 3);
    assert_eq!(nodes(&notify), 3, "each ticket waits for its owner");
    // Two look, one is dropped unseen: none of them passes anything on.
    assert!(poll(&mut waiters[0], &waker).is_ready());
    assert!(poll(&mut waiters[2], &waker).is_ready());
    drop(waiters);
    assert_eq!(nodes(&notify), 0);
    assert!(!permit(&notify));
}

#[test]
fn notify_one_with_nobody_waiting_stores_one_permit() {
    let notify = Notify::new();
    let (_, waker) = counter();
    notify.notify_one();
    notify.notify_one();
    assert!(permit(&notify));
    let mut first = notify.notified();
    assert!(poll(&mut first, &waker).is_ready());
    assert!(!permit(&notify));
    let mut second = notify.notified();
    assert!(poll(&mut second, &waker).is_pending());
    assert_eq!(nodes(&notify), 1);
    drop(second);
    assert_eq!(
        notify.state.load(Acquire) & TAG,
        EMPTY,
        "the last waiter gone clears WAITING"
    );
}

#[test]
fn notify_last_picks_the_newest_waiter_and_its_note_goes_when_it_looks() {
    let notify = Notify::new();
    let (_, waker) = counter();
    let mut waiters: Vec<_> = (0..3).map(|_| notify.notified()).collect();
    for waiter in &mut waiters {
        assert!(poll(waiter, &waker).is_pending());
    }
    notify.notify_last();
    assert!(poll(&mut waiters[0], &waker).is_pending());
    assert!(poll(&mut waiters[1], &waker).is_pending());
    assert_eq!(nodes(&notify), 3, "two waiters and one note");
    assert!(poll(&mut waiters[2], &waker).is_ready());
    assert_eq!(nodes(&notify), 2);
    assert_eq!(notify.unseen_last.load(Acquire), 0);
    // The others are still served from the front.
    notify.notify_one();
    assert!(poll(&mut waiters[1], &waker).is_pending());
    assert!(poll(&mut waiters[0], &waker).is_ready());
}

#[test]
fn a_notify_last_grant_seen_after_a_later_notify_one_leaves_no_note() {
    let notify = Notify::new();
    let (_, waker) = counter();
    let mut first = notify.notified();
    let mut second = notify.notified();
    assert!(poll(&mut first, &waker).is_pending());
    assert!(poll(&mut second, &waker).is_pending());
    notify.notify_last();
    let mut third = notify.notified();
    assert!(poll(&mut third, &waker).is_pending());
    notify.notify_one();
    notify.notify_one();
    // `granted` is past `second`'s ticket: it completes without the
    // queue's help, but must still clear the note `notify_last` left.
    assert!(poll(&mut second, &waker).is_ready());
    assert!(poll(&mut first, &waker).is_ready());
    assert!(poll(&mut third, &waker).is_ready());
    assert_eq!(nodes(&notify), 0);
    assert_eq!(notify.unseen_last.load(Acquire), 0);
    assert!(!permit(&notify));
}

#[test]
fn a_notify_last_grant_dropped_unseen_goes_to_the_new_last_waiter() {
    let notify = Notify::new();
    let (_, waker) = counter();
    let mut waiters: Vec<_> = (0..3).map(|_| notify.notified()).collect();
    for waiter in &mut waiters {
        assert!(poll(waiter, &waker).is_pending());
    }
    notify.notify_last();
    drop(waiters.pop());
    assert!(poll(&mut waiters[0], &waker).is_pending());
    assert!(poll(&mut waiters[1], &waker).is_ready());
    assert_eq!(nodes(&notify), 1);
    assert_eq!(notify.unseen_last.load(Acquire), 0);
}

#[test]
fn an_enabled_waiter_is_queued_without_a_waker_and_takes_a_notify_one() {
    let notify = Notify::new();
    let (count, waker) = counter();
    let mut waiter = notify.notified();
    assert!(!Pin::new(&mut waiter).enable());
    assert_eq!(nodes(&notify), 1);
    // Enabling again changes nothing.
    assert!(!Pin::new(&mut waiter).enable());
    assert_eq!(nodes(&notify), 1);
    notify.notify_one();
    assert!(!permit(&notify), "the enabled waiter took it");
    assert!(Pin::new(&mut waiter).enable());
    assert!(poll(&mut waiter, &waker).is_ready());
    assert_eq!(wakes(&count), 0);
    // A polled waiter's waker replaces the no-op one.
    let mut waiter = notify.notified();
    assert!(!Pin::new(&mut waiter).enable());
    assert!(poll(&mut waiter, &waker).is_pending());
    notify.notify_one();
    assert_eq!(wakes(&count), 1);
    assert!(poll(&mut waiter, &waker).is_ready());
    assert_eq!(nodes(&notify), 0);
}
