//! Unit tests of the watch channel.

use super::error::RecvError;
use super::*;
use crate::util::test_support::{counter, poll, wakes};
// Test scaffolding: plain std, which loom needn't see.
use std::sync::Arc as StdArc;
use std::sync::atomic::{AtomicUsize, Ordering};

fn waiting<T>(tx: &Sender<T>) -> bool {
    !lock(&tx.shared.state).changed_waiters.is_empty()
}

#[test]
fn borrow_marks_nothing_and_borrow_and_update_marks_seen() {
    let (tx, mut rx) = channel(1);
    assert!(!rx.borrow().has_changed());
    assert_eq!(rx.has_changed(), Ok(false));
    tx.send(2).unwrap();
    assert_eq!(rx.has_changed(), Ok(true));
    {
        let r = rx.borrow();
        assert_eq!((*r, r.has_changed()), (2, true));
    }
    assert_eq!(rx.has_changed(), Ok(true));
    {
        let r = rx.borrow_and_update();
        assert_eq!((*r, r.has_changed()), (2, true));
    }
    assert_eq!(rx.has_changed(), Ok(false));
    assert!(!rx.borrow_and_update().has_changed());
    assert!(!tx.borrow().has_changed());
}

#[test]
fn a_send_wakes_exactly_the_waiting_receivers_once() {
    let (tx, mut a) = channel(0);
    let mut b = a.clone();
    let mut idle = tx.subscribe();
    let (ca, wa) = counter();
    let (cb, wb) = counter();
    let mut fa = a.changed();
    let mut fb = b.changed();
    assert!(poll(&mut fa, &wa).is_pending());
    assert!(poll(&mut fa, &wa).is_pending());
    assert!(poll(&mut fb, &wb).is_pending());

    tx.send(1).unwrap();
    assert_eq!((wakes(&ca), wakes(&cb)), (1, 1));
    assert_eq!(poll(&mut fa, &wa), Poll::Ready(Ok(())));
    assert_eq!(poll(&mut fb, &wb), Poll::Ready(Ok(())));
    drop((fa, fb));
    assert!(!waiting(&tx));

    // A receiver with an unseen value completes without waiting.
    let (ci, wi) = counter();
    let mut fi = idle.changed();
    assert_eq!(poll(&mut fi, &wi), Poll::Ready(Ok(())));
    assert_eq!(wakes(&ci), 0);
    drop(fi);
    assert!(!waiting(&tx));
    tx.send(2).unwrap();
    assert_eq!((wakes(&ca), wakes(&cb), wakes(&ci)), (1, 1, 0));
}

#[test]
fn intermediate_values_are_skipped_and_the_latest_seen() {
    let (tx, mut rx) = channel(0);
    for i in 1..=5 {
        tx.send(i).unwrap();
    }
    let (_, w) = counter();
    let mut changed = rx.changed();
    assert_eq!(poll(&mut changed, &w), Poll::Ready(Ok(())));
    drop(changed);
    assert_eq!(*rx.borrow(), 5);
    let mut changed = rx.changed();
    assert!(poll(&mut changed, &w).is_pending());
}

#[test]
fn the_latest_value_reaches_a_receiver_on_another_thread() {
    let (tx, mut rx) = channel(0);
    let watcher = std::thread::spawn(move || {
        let mut seen = vec![*rx.borrow_and_update()];
        while crate::util::block_on(rx.changed()).is_ok() {
            seen.push(*rx.borrow_and_update());
        }
        seen
    });
    for i in 1..=1000 {
        tx.send_replace(i);
    }
    drop(tx);
    let seen = watcher.join().unwrap();
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    assert_eq!(seen.last(), Some(&1000));
}

#[test]
fn dropping_the_sender_reports_an_unseen_value_first() {
    let (tx, mut rx) = channel(0);
    let (c, w) = counter();
    let mut changed = rx.changed();
    assert!(poll(&mut changed, &w).is_pending());
    drop(changed);

    tx.send(1).unwrap();
    drop(tx);
    assert_eq!(rx.has_changed(), Err(RecvError(())));
    let mut changed = rx.changed();
    assert_eq!(poll(&mut changed, &w), Poll::Ready(Ok(())));
    drop(changed);
    let mut changed = rx.changed();
    assert_eq!(poll(&mut changed, &w), Poll::Ready(Err(RecvError(()))));
    drop(changed);
    assert_eq!(*rx.borrow(), 1);
    assert_eq!(wakes(&c), 0);
}

#[test]
fn dropping_the_sender_wakes_a_waiting_receiver_with_an_error() {
    let (tx, mut rx) = channel(0);
    let (c, w) = counter();
    let mut changed = rx.changed();
    assert!(poll(&mut changed, &w).is_pending());
    drop(tx);
    assert_eq!(wakes(&c), 1);
    assert_eq!(poll(&mut changed, &w), Poll::Ready(Err(RecvError(()))));
}

#[test]
fn send_fails_without_receivers_but_send_replace_stores() {
    let (tx, rx) = channel(String::from("a"));
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.send("b".into()), Err(SendError("b".into())));
    assert_eq!(*tx.borrow(), "a");
    assert_eq!(tx.send_replace("c".into()), "a");
    tx.send_modify(|s| s.push('d'));
    assert_eq!(*tx.borrow(), "cd");
    // A new receiver has seen the current value.
    let rx = tx.subscribe();
    assert_eq!(rx.has_changed(), Ok(false));
    assert_eq!(tx.receiver_count(), 1);
}

#[test]
fn send_if_modified_notifies_only_on_true() {
    let (tx, mut rx) = channel(0);
    let (c, w) = counter();
    let mut changed = rx.changed();
    assert!(poll(&mut changed, &w).is_pending());
    assert!(!tx.send_if_modified(|_| false));
    assert_eq!(wakes(&c), 0);
    assert!(poll(&mut changed, &w).is_pending());
    assert!(tx.send_if_modified(|n| {
        *n = 9;
        true
    }));
    assert_eq!(wakes(&c), 1);
    assert_eq!(poll(&mut changed, &w), Poll::Ready(Ok(())));
    drop(changed);
    assert_eq!(*rx.borrow(), 9);
}

#[test]
fn a_panicking_modify_leaves_the_channel_usable() {
    let (tx, rx) = channel(0);
    let tx = std::panic::AssertUnwindSafe(tx);
    let result = std::panic::catch_unwind(|| tx.send_modify(|_| panic!("boom")));
    assert!(result.is_err());
    assert_eq!(rx.has_changed(), Ok(false));
    tx.send(1).unwrap();
    assert_eq!(*rx.borrow(), 1);
}

#[test]
fn mark_changed_and_mark_unchanged() {
    let (tx, mut rx) = channel(0);
    rx.mark_changed();
    assert_eq!(rx.has_changed(), Ok(true));
    let (_, w) = counter();
    let mut changed = rx.changed();
    assert_eq!(poll(&mut changed, &w), Poll::Ready(Ok(())));
    drop(changed);
    tx.send(1).unwrap();
    rx.mark_unchanged();
    assert_eq!(rx.has_changed(), Ok(false));
    let mut changed = rx.changed();
    assert!(poll(&mut changed, &w).is_pending());
}

#[test]
fn a_cancelled_changed_leaves_no_waiter_and_loses_nothing() {
    let (tx, mut rx) = channel(0);
    let (c, w) = counter();
    let mut changed = rx.changed();
    assert!(poll(&mut changed, &w).is_pending());
    drop(changed);
    assert!(!waiting(&tx));
    tx.send(1).unwrap();
    assert_eq!(wakes(&c), 0);

    let mut changed = rx.changed();
    assert_eq!(poll(&mut changed, &w), Poll::Ready(Ok(())));
    drop(changed);
    // Woken, then cancelled before it polled again: 2 stays unseen.
    let mut changed = rx.changed();
    assert!(poll(&mut changed, &w).is_pending());
    tx.send(2).unwrap();
    assert_eq!(wakes(&c), 1);
    drop(changed);
    assert_eq!(rx.has_changed(), Ok(true));
    assert!(!waiting(&tx));
}

#[test]
fn closed_completes_when_every_receiver_is_gone() {
    let (tx, rx) = channel(0);
    let rx2 = rx.clone();
    assert!(rx.same_channel(&rx2));
    let (c, w) = counter();
    let mut closed = tx.closed();
    assert!(poll(&mut closed, &w).is_pending());
    drop(rx);
    assert_eq!(wakes(&c), 0);
    let rx3 = tx.subscribe();
    drop(rx2);
    assert_eq!(wakes(&c), 0);
    drop(rx3);
    assert_eq!(wakes(&c), 1);
    assert_eq!(poll(&mut closed, &w), Poll::Ready(()));
}

#[test]
fn wait_for_checks_the_current_value_then_each_change() {
    let (tx, mut rx) = channel(0);
    let (c, w) = counter();
    let checked = AtomicUsize::new(0);
    let mut wait = Box::pin(rx.wait_for(|n| {
        checked.fetch_add(1, Ordering::SeqCst);
        *n >= 2
    }));
    assert!(wait.as_mut().poll(&mut Context::from_waker(&w)).is_pending());
    assert_eq!(checked.load(Ordering::SeqCst), 1);
    tx.send(1).unwrap();
    assert_eq!(wakes(&c), 1);
    assert!(wait.as_mut().poll(&mut Context::from_waker(&w)).is_pending());
    tx.send(2).unwrap();
    let Poll::Ready(Ok(r)) = wait.as_mut().poll(&mut Context::from_waker(&w)) else {
        panic!("the predicate holds");
    };
    assert_eq!((*r, r.has_changed()), (2, true));
    drop(r);
    drop(wait);
    assert_eq!(checked.load(Ordering::SeqCst), 3);
    assert_eq!(rx.has_changed(), Ok(false));

    // Already true: at once; sender gone first: an error.
    assert_eq!(crate::util::block_on(rx.wait_for(|n| *n == 2)).map(|r| *r), Ok(2));
    drop(tx);
    assert!(crate::util::block_on(rx.wait_for(|n| *n == 3)).is_err());
}

#[test]
fn values_are_dropped_and_nothing_leaks() {
    let drops = StdArc::new(AtomicUsize::new(0));
    struct Tracked(StdArc<AtomicUsize>);
    impl Drop for Tracked {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let (tx, rx) = channel(Tracked(StdArc::clone(&drops)));
    let rx2 = rx.clone();
    tx.send(Tracked(StdArc::clone(&drops))).unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    drop(tx.send_replace(Tracked(StdArc::clone(&drops))));
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    assert_eq!(StdArc::strong_count(&tx.shared), 3);
    drop((tx, rx, rx2));
    assert_eq!(drops.load(Ordering::SeqCst), 3);
    assert_eq!(StdArc::strong_count(&drops), 1);
}

#[test]
fn debug_and_errors_without_t_debug() {
    struct Opaque;
    let (tx, rx) = channel(Opaque);
    assert_eq!(format!("{tx:?}"), "Sender { receivers: 1 }");
    assert!(format!("{rx:?}").starts_with("Receiver"));
    let e = tx.send(Opaque).err();
    assert!(e.is_none());
    drop(rx);
    let e = tx.send(Opaque).unwrap_err();
    assert_eq!(format!("{e:?}"), "SendError(..)");
    assert_eq!(e.to_string(), "every receiver is gone");
    assert_eq!(RecvError(()).to_string(), "the sender is gone");
}
