//! The message-queue chapter's own example: at-least-once delivery means a
//! message can be handled twice, and a handler that is idempotent (keyed on
//! the message's id) makes the second time harmless.

mod support;

use std::collections::HashSet;
use std::time::Duration;
use weft::queue::{AckError, Queue};
use weft::time::sleep;

// ANCHOR: ledger
/// An order to charge. The `id` is what lets a handler see a duplicate.
#[derive(Debug, Clone)]
struct Charge {
    id: u64,
    cents: u64,
}

/// A payment ledger that charges each order id at most once.
#[derive(Default)]
struct Ledger {
    charged: HashSet<u64>,
    total_cents: u64,
    calls: u32,
}

impl Ledger {
    /// Charges `charge` unless its id was charged before; true if it did.
    fn charge_once(&mut self, charge: &Charge) -> bool {
        self.calls += 1;
        if !self.charged.insert(charge.id) {
            return false; // seen before: a redelivery, not a new order
        }
        self.total_cents += charge.cents;
        true
    }
}
// ANCHOR_END: ledger

/// A worker charges an order and then stalls past the ack deadline; the
/// queue gives the order to a second worker, which charges it again. The
/// ledger's id check turns the duplicate into a no-op.
#[test]
fn a_late_ack_means_a_duplicate_and_an_idempotent_handler_absorbs_it() {
    let rt = support::paused_current_thread();
    rt.block_on(async {
        // ANCHOR: duplicate
        let queue = Queue::builder().ack_deadline(Duration::from_secs(30)).build();
        let order = Charge { id: 7, cents: 1_999 };
        queue.producer().publish(order).await.unwrap();
        let mut ledger = Ledger::default();

        // The first worker does the work, then stalls before it acks.
        let mut slow = queue.consumer();
        let first = slow.recv().await.unwrap();
        assert!(ledger.charge_once(&first));
        sleep(Duration::from_secs(31)).await; // the 30 s deadline passes

        // The queue never heard an ack, so the order is delivered again.
        let mut fast = queue.consumer();
        let second = fast.recv().await.unwrap();
        assert_eq!((second.id, second.delivery_count()), (7, 2));
        assert!(!ledger.charge_once(&second), "a duplicate: not charged twice");
        second.ack().unwrap();

        // The first worker's ack comes too late to count.
        assert_eq!(first.ack(), Err(AckError::NotInFlight));
        assert_eq!((ledger.calls, ledger.total_cents), (2, 1_999));
        assert_eq!(queue.stats().acked, 1);
        // ANCHOR_END: duplicate
    });
}
