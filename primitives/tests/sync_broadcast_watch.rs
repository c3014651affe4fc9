//! broadcast and watch, run under weft, tokio and smol.

mod support;

use support::any_runtime::{on_every_runtime, poll_once};
use weft_primitives::sync::broadcast::error::RecvError as BroadcastError;
use weft_primitives::sync::{broadcast, watch};

#[test]
fn broadcast_every_receiver_sees_every_value_in_order() {
    on_every_runtime(|spawner| async move {
        // Every receiver is subscribed before the first send, and the
        // capacity holds all ten values: no receiver can miss or lag.
        let (tx, rx) = broadcast::channel(16);
        let mut receivers = vec![rx];
        receivers.extend((0..3).map(|_| tx.subscribe()));
        let tasks: Vec<_> = receivers
            .into_iter()
            .map(|mut rx| {
                spawner.spawn(async move {
                    let mut got = Vec::new();
                    loop {
                        match rx.recv().await {
                            Ok(v) => got.push(v),
                            Err(BroadcastError::Closed) => return got,
                            Err(BroadcastError::Lagged(n)) => panic!("lagged by {n}"),
                        }
                    }
                })
            })
            .collect();
        for i in 0..10 {
            assert_eq!(tx.send(i).unwrap(), 4);
        }
        drop(tx);
        for task in tasks {
            assert_eq!(task.await, (0..10).collect::<Vec<_>>());
        }
    });
}

#[test]
fn broadcast_a_slow_receiver_lags_then_continues() {
    on_every_runtime(|_| async {
        let (tx, mut rx) = broadcast::channel(2);
        for i in 0..5 {
            tx.send(i).unwrap();
        }
        assert_eq!(rx.recv().await, Err(BroadcastError::Lagged(3)));
        assert_eq!(rx.recv().await, Ok(3));
        assert_eq!(rx.recv().await, Ok(4));
        // A receiver subscribed now sees only what comes next.
        let mut late = tx.subscribe();
        let mut pending = Box::pin(late.recv());
        assert!(poll_once(&mut pending).await.is_pending());
        drop(pending);
        tx.send(5).unwrap();
        assert_eq!(late.recv().await, Ok(5));
        drop(rx);
        drop(late);
        assert_eq!(tx.send(6).unwrap_err().0, 6);
    });
}

#[test]
fn watch_receivers_see_the_latest_value() {
    on_every_runtime(|spawner| async move {
        let (tx, mut rx) = watch::channel(0);
        let mut other = rx.clone();
        let watcher = spawner.spawn(async move {
            // Wait until the final value shows, whatever was skipped.
            *other.wait_for(|v| *v == 100).await.unwrap()
        });
        for i in 1..=100 {
            tx.send(i).unwrap();
        }
        assert_eq!(watcher.await, 100);
        assert!(rx.has_changed().unwrap());
        rx.changed().await.unwrap();
        assert_eq!(*rx.borrow_and_update(), 100);
        assert!(!rx.has_changed().unwrap());
        tx.send_modify(|v| *v += 1);
        rx.changed().await.unwrap();
        assert_eq!(*rx.borrow(), 101);
        drop(tx);
        assert!(rx.changed().await.is_err());
    });
}

#[test]
fn watch_sender_closed_completes_when_receivers_go() {
    on_every_runtime(|spawner| async move {
        let (tx, rx) = watch::channel("a");
        let dropper = spawner.spawn(async move { drop(rx) });
        tx.closed().await;
        dropper.await;
        assert!(tx.is_closed());
        assert_eq!(tx.send("b").unwrap_err().0, "b");
        // send_replace stores even with nobody watching.
        assert_eq!(tx.send_replace("c"), "a");
        assert_eq!(*tx.borrow(), "c");
    });
}
