//! The channels' newer everyday APIs, run under weft, tokio and smol:
//! mpsc `reserve_many`, `try_reserve_many`, `try_reserve_owned`,
//! `blocking_send`; oneshot `is_terminated` / `is_empty`; broadcast
//! `Sender::new`; watch `Sender: Clone`.

mod support;

use std::task::Poll;
use support::any_runtime::{on_every_runtime, poll_once};
use weft_primitives::sync::mpsc::error::{SendError, TrySendError};
use weft_primitives::sync::{broadcast, mpsc, oneshot, watch};

#[test]
fn mpsc_reserve_many_waits_in_line_for_all_its_slots() {
    on_every_runtime(|_| async {
        let (tx, mut rx) = mpsc::channel(3);
        tx.try_send(0).unwrap();
        tx.try_send(1).unwrap();
        let mut many = Box::pin(tx.reserve_many(2));
        assert!(poll_once(&mut many).await.is_pending());
        // One slot is free, but the reserve behind the big one waits too.
        let mut one = tx.reserve();
        assert!(poll_once(&mut one).await.is_pending());
        assert!(matches!(tx.try_reserve(), Err(TrySendError::Full(()))));

        assert_eq!(rx.recv().await, Some(0));
        let Poll::Ready(Ok(mut permits)) = poll_once(&mut many).await else {
            panic!("two slots were free");
        };
        assert_eq!(permits.len(), 2);
        assert!(poll_once(&mut one).await.is_pending());
        permits.next().unwrap().send(2);
        // The unused permit gives its slot to the waiting reserve.
        drop(permits);
        let Poll::Ready(Ok(permit)) = poll_once(&mut one).await else {
            panic!("the slot was passed on");
        };
        permit.send(3);
        for expected in 1..=3 {
            assert_eq!(rx.recv().await, Some(expected));
        }
    });
}

#[test]
fn mpsc_reserve_many_edge_cases() {
    on_every_runtime(|_| async {
        let (tx, mut rx) = mpsc::channel::<u8>(2);
        assert_eq!(tx.reserve_many(0).await.unwrap().len(), 0);
        assert!(matches!(tx.reserve_many(3).await, Err(SendError(()))));
        assert!(matches!(tx.try_reserve_many(3), Err(TrySendError::Full(()))));
        let permits = tx.try_reserve_many(2).unwrap();
        assert_eq!(tx.capacity(), 0);
        assert!(matches!(tx.try_reserve_many(1), Err(TrySendError::Full(()))));
        drop(permits);
        assert_eq!(tx.capacity(), 2);
        rx.close();
        assert!(matches!(tx.reserve_many(1).await, Err(SendError(()))));
        assert!(matches!(tx.try_reserve_many(1), Err(TrySendError::Closed(()))));
        assert!(matches!(tx.try_reserve_many(3), Err(TrySendError::Closed(()))));
    });
}

#[test]
fn mpsc_a_cancelled_reserve_many_passes_its_slots_on() {
    on_every_runtime(|_| async {
        let (tx, mut rx) = mpsc::channel(2);
        tx.try_send(0).unwrap();
        tx.try_send(1).unwrap();
        let mut many = Box::pin(tx.reserve_many(2));
        let mut next = tx.reserve();
        assert!(poll_once(&mut many).await.is_pending());
        assert!(poll_once(&mut next).await.is_pending());
        assert_eq!(rx.recv().await, Some(0));
        assert_eq!(rx.recv().await, Some(1));
        // Granted both slots, then dropped before it looked.
        drop(many);
        assert!(matches!(poll_once(&mut next).await, Poll::Ready(Ok(_))));
        drop(next);
        assert_eq!(tx.capacity(), 2);
    });
}

#[test]
fn mpsc_a_reserve_handed_a_slot_just_before_close_fails() {
    on_every_runtime(|_| async {
        let (tx, mut rx) = mpsc::channel::<u8>(1);
        let permit = tx.try_reserve().unwrap();
        let mut waiting = tx.reserve();
        assert!(poll_once(&mut waiting).await.is_pending());
        drop(permit);
        rx.close();
        assert!(matches!(
            poll_once(&mut waiting).await,
            Poll::Ready(Err(SendError(())))
        ));
        drop(waiting);
        assert_eq!(rx.recv().await, None);
    });
}

#[test]
fn mpsc_try_reserve_owned_gives_the_sender_back_on_failure() {
    on_every_runtime(|_| async {
        let (tx, mut rx) = mpsc::channel(1);
        let permit = tx.try_reserve_owned().unwrap();
        let tx = permit.send(1);
        let Err(TrySendError::Full(tx)) = tx.try_reserve_owned() else {
            panic!("the channel is full");
        };
        assert_eq!(rx.recv().await, Some(1));
        rx.close();
        let Err(TrySendError::Closed(tx)) = tx.try_reserve_owned() else {
            panic!("the channel is closed");
        };
        assert!(tx.is_closed());
    });
}

#[test]
fn mpsc_blocking_send_and_recv_between_threads() {
    let (tx, mut rx) = mpsc::channel(1);
    let producer = std::thread::spawn(move || {
        for i in 0..50 {
            tx.blocking_send(i).unwrap();
        }
        tx
    });
    let got: Vec<_> = (0..50).map(|_| rx.blocking_recv().unwrap()).collect();
    assert_eq!(got, (0..50).collect::<Vec<_>>());
    let tx = producer.join().unwrap();
    drop(rx);
    assert_eq!(tx.blocking_send(9).unwrap_err().0, 9);
}

#[test]
fn oneshot_is_terminated_and_is_empty() {
    on_every_runtime(|_| async {
        let (tx, mut rx) = oneshot::channel();
        assert!(rx.is_empty() && !rx.is_terminated());
        tx.send(1).unwrap();
        assert!(!rx.is_empty() && !rx.is_terminated());
        assert_eq!((&mut rx).await, Ok(1));
        assert!(rx.is_empty() && rx.is_terminated());

        let (tx, mut rx) = oneshot::channel::<u8>();
        drop(tx);
        assert!(rx.is_empty() && !rx.is_terminated());
        assert_eq!(rx.try_recv(), Err(oneshot::error::TryRecvError::Closed));
        assert!(rx.is_terminated());

        let (_tx, mut rx) = oneshot::channel::<u8>();
        assert_eq!(rx.try_recv(), Err(oneshot::error::TryRecvError::Empty));
        assert!(!rx.is_terminated(), "an empty try_recv ends nothing");
    });
}

#[test]
fn broadcast_a_sender_made_alone_subscribes_receivers_later() {
    on_every_runtime(|_| async {
        let tx = broadcast::Sender::new(2);
        assert_eq!(tx.receiver_count(), 0);
        assert_eq!(tx.send(0).unwrap_err().0, 0);
        let mut rx = tx.subscribe();
        tx.send(1).unwrap();
        assert_eq!(rx.recv().await, Ok(1));
        drop(tx);
        assert_eq!(rx.recv().await, Err(broadcast::error::RecvError::Closed));
    });
}

#[test]
fn watch_senders_clone_and_the_last_one_closes() {
    on_every_runtime(|spawner| async move {
        let (tx, mut rx) = watch::channel(0);
        let tx2 = tx.clone();
        assert_eq!(tx.sender_count(), 2);
        assert!(tx.same_channel(&tx2));
        drop(tx);
        let waiter = spawner.spawn(async move {
            rx.changed().await.unwrap();
            let seen = *rx.borrow_and_update();
            (seen, rx.changed().await.is_err())
        });
        tx2.send(7).unwrap();
        drop(tx2);
        assert_eq!(waiter.await, (7, true));
    });
}
