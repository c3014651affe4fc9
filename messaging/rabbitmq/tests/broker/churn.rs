//! A workload to break a connection under: publishers send `n` confirmed
//! messages while a consumer takes and acks them, and a trigger (a proxy
//! cut, `rabbitmqctl stop_app`, ...) fires once a third of them are
//! confirmed. The checks: every publish is confirmed (an unconfirmed one
//! is republished), every message arrives, and every copy of a message
//! after its first is flagged as redelivered.
//!
//! Shared by `tests/broker.rs` and `tests/queue_restart.rs` (through
//! `#[path]`).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use weft::queue::Queue;
use weft_rabbitmq::{Connection, Status};

/// A bound on each wait for a message: long enough for a broker
/// restart, so that a lost message fails the test rather than hanging it.
const BOUND: Duration = Duration::from_secs(45);

/// Concurrent publishers: enough that confirms are in flight at the loss.
const PUBLISHERS: usize = 8;

/// What a run saw.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// Copies received beyond the first, all flagged.
    pub(crate) duplicates: usize,
    /// Acks that failed (deliveries in hand at the loss).
    pub(crate) failed_acks: usize,
    /// The statuses the connection went through.
    pub(crate) statuses: Vec<Status>,
}

/// Runs the workload of the module docs on `queue` (on `conn`) with `n`
/// messages, calling `trigger` on a thread of its own once `n / 3` are
/// confirmed.
pub(crate) async fn churn(
    conn: &Connection,
    queue: &Queue<String>,
    n: usize,
    trigger: impl FnOnce() + Send + 'static,
) -> Outcome {
    // ANCHOR: on-status
    let (status_tx, mut status_rx) = weft::sync::mpsc::unbounded_channel();
    conn.on_status(move |status: &Status| {
        let _ = status_tx.send(status.clone());
    });
    // ANCHOR_END: on-status
    let confirmed = Arc::new(AtomicUsize::new(0));
    let trigger = Arc::new(std::sync::Mutex::new(Some(trigger)));
    let mut publishers = Vec::new();
    for p in 0..PUBLISHERS {
        let producer = queue.producer();
        let (confirmed, trigger) = (confirmed.clone(), trigger.clone());
        publishers.push(weft::spawn(async move {
            for i in (p..n).step_by(PUBLISHERS) {
                if let Err(err) = producer.publish(format!("m{i}")).await {
                    panic!("publish m{i} was not confirmed: {err:?}");
                }
                if confirmed.fetch_add(1, Ordering::SeqCst) + 1 == n / 3 {
                    let fire = trigger.lock().unwrap().take().expect("fires once");
                    std::thread::spawn(fire);
                }
            }
        }));
    }

    let mut consumer = queue.consumer();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let (mut duplicates, mut failed_acks) = (0, 0);
    while seen.len() < n {
        let delivery = match weft::time::timeout(BOUND, consumer.recv()).await {
            Ok(Ok(delivery)) => delivery,
            Ok(Err(err)) => panic!("the consumer failed: {err:?}"),
            Err(_) => panic!(
                "lost: {} of {n} messages arrived, {} confirmed",
                seen.len(),
                confirmed.load(Ordering::SeqCst)
            ),
        };
        // ANCHOR: every-copy-flagged
        let copies = seen.entry(delivery.to_string()).or_default();
        *copies += 1;
        if *copies > 1 {
            assert!(delivery.redelivered(), "an unflagged duplicate of {}", *delivery);
            duplicates += 1;
        }
        if delivery.ack().is_err() {
            failed_acks += 1;
        }
        // ANCHOR_END: every-copy-flagged
    }
    for publisher in publishers {
        publisher.await.expect("a publisher panicked");
    }
    assert_eq!(confirmed.load(Ordering::SeqCst), n);
    let mut statuses = Vec::new();
    while let Ok(status) = status_rx.try_recv() {
        statuses.push(status);
    }
    Outcome {
        duplicates,
        failed_acks,
        statuses,
    }
}

/// Asserts that the connection was lost and is connected again.
pub(crate) fn assert_recovered(outcome: &Outcome) {
    assert!(
        outcome.statuses.iter().any(|s| matches!(s, Status::Lost { .. })),
        "no loss seen: {outcome:?}"
    );
    assert!(
        outcome.statuses.last().is_some_and(Status::is_connected),
        "not connected at the end: {outcome:?}"
    );
}
