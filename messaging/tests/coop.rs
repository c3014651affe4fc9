//! The queue's receives and a consumer group member's spend weft's
//! cooperative budget: a task that always finds a message or an event
//! ready still lets the other tasks of its thread run, as a loop over a
//! channel does. (A subscriber's receive spends none; its doc says why.)
//!
//! Each test runs on a current-thread runtime, where the looping task and
//! a task that sets a flag share one thread: the flag can only be seen set
//! before the loop ends if the loop yielded.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use weft::events::{EventBus, StartAt};
use weft::queue::Queue;

const VALUES: usize = 10_000;

/// Runs `looping` on a current-thread runtime beside a task that sets a
/// flag; `looping` calls its argument once per item, and this returns the
/// first item at which the flag was seen set.
fn first_item_after_the_other_task_ran<F, Fut>(looping: F) -> Option<usize>
where
    F: FnOnce(Box<dyn FnMut(usize)>) -> Fut,
    Fut: Future<Output = ()>,
{
    let rt = weft::Runtime::builder().current_thread().build().unwrap();
    rt.block_on(async {
        let flag = Arc::new(AtomicBool::new(false));
        let set = Arc::clone(&flag);
        let other = weft::spawn(async move { set.store(true, Ordering::SeqCst) });
        let seen = Rc::new(Cell::new(None));
        let noted = Rc::clone(&seen);
        looping(Box::new(move |n| {
            if noted.get().is_none() && flag.load(Ordering::SeqCst) {
                noted.set(Some(n));
            }
        }))
        .await;
        other.await.unwrap();
        seen.get()
    })
}

/// Asserts the loop saw the other task run before it was done.
fn assert_yielded(seen: Option<usize>) {
    match seen {
        Some(n) => assert!(n < VALUES - 1, "seen only at the end ({n})"),
        None => panic!("the loop never let the other task run"),
    }
}

/// A queue holding `0..VALUES`.
fn backlog() -> Queue<usize> {
    let queue = Queue::new(VALUES);
    let producer = queue.producer();
    for n in 0..VALUES {
        producer.try_publish(n).unwrap();
    }
    queue
}

#[test]
fn a_group_member_draining_a_backlog_yields() {
    assert_yielded(first_item_after_the_other_task_ran(|mut note| async move {
        let bus = EventBus::builder().retention(VALUES).build();
        let mut member = bus.join("workers", "ticks", StartAt::Start).unwrap();
        for n in 0..VALUES {
            bus.try_publish("ticks", n).unwrap();
        }
        for n in 0..VALUES {
            let event = member.recv().await.unwrap();
            assert_eq!(*event, n);
            event.ack().unwrap();
            note(n);
        }
    }));
}

#[test]
fn a_consumer_draining_a_backlog_yields() {
    assert_yielded(first_item_after_the_other_task_ran(|mut note| async move {
        let queue = backlog();
        let mut consumer = queue.consumer();
        for n in 0..VALUES {
            let delivery = consumer.recv().await.unwrap();
            assert_eq!(*delivery, n);
            delivery.ack().unwrap();
            note(n);
        }
    }));
}

#[test]
fn a_consumer_taking_batches_from_a_backlog_yields() {
    assert_yielded(first_item_after_the_other_task_ran(|mut note| async move {
        let queue = backlog();
        let mut consumer = queue.consumer();
        let mut n = 0;
        // One unit a batch: batches of one spend as single receives do.
        // Taken without waiting, until one comes back empty: a spent budget
        // must not end the loop early.
        loop {
            let batch = consumer.recv_batch(1, Duration::ZERO).await.unwrap();
            if batch.is_empty() {
                break;
            }
            for delivery in batch {
                assert_eq!(*delivery, n);
                delivery.ack().unwrap();
                note(n);
                n += 1;
            }
        }
        assert_eq!(n, VALUES, "an empty batch while messages were ready");
    }));
}
