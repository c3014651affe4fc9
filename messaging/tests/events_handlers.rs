// Over ~600 lines on purpose: one concept, the handlers (`handle`,
// `handle_batch`) under their options, one test per promise, each run on
// every store; the book includes three of them by anchor.
//! Handlers with concurrency and per-key order, batch handlers with
//! partial failure, and events a handler finishes after the bus closed;
//! all on the paused clock.

#[path = "../../tests/support/mod.rs"]
mod support;

mod events_support;

use events_support::STORES;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{Rng, oneshot, paused_runtimes};
use weft::events::{BatchFailures, HandlerOptions, Retry, StartAt, TopicOptions};
use weft::spawner::Spawner;

/// What a handler saw, in order: (key, n, started) at each attempt's start
/// and end.
type Trace = Arc<Mutex<Vec<(String, u32, bool)>>>;

#[test]
fn concurrency_keeps_each_key_in_order_under_random_latencies() {
    for store in STORES {
        for seed in [1u64, 7, 42, 1234] {
            for (flavour, rt) in paused_runtimes() {
                rt.block_on(async {
                    let bus = events_support::bus_on::<(String, u32)>(store);
                    let options = TopicOptions {
                        partitions: 4,
                        ..TopicOptions::default()
                    };
                    bus.create_topic("orders", options).unwrap();
                    let trace: Trace = Arc::default();
                    let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
                    let rng = Arc::new(Mutex::new(Rng(seed)));
                    let seen = trace.clone();
                    let (now_in, most_in) = (now.clone(), most.clone());
                    let options = HandlerOptions::new()
                        .concurrency(8)
                        .retry(Retry::new(3).backoff(Duration::from_millis(5), Duration::from_millis(20)))
                        .dead_letter("orders.failed");
                    let handler = bus
                        .on_with("orders", options, move |event| {
                            let (key, n) = event.payload().clone();
                            let (seen, now, most) = (seen.clone(), now_in.clone(), most_in.clone());
                            // A latency of 0 to 49 ms, and one attempt in
                            // five fails: retries must keep the order too.
                            let (latency, fails) = {
                                let mut rng = rng.lock().unwrap();
                                (rng.below(50), rng.below(5) == 0)
                            };
                            async move {
                                let in_flight = now.fetch_add(1, Ordering::SeqCst) + 1;
                                most.fetch_max(in_flight, Ordering::SeqCst);
                                seen.lock().unwrap().push((key.clone(), n, true));
                                weft::time::sleep(Duration::from_millis(latency)).await;
                                seen.lock().unwrap().push((key, n, false));
                                now.fetch_sub(1, Ordering::SeqCst);
                                if fails { Err("flaky") } else { Ok(()) }
                            }
                        })
                        .unwrap();
                    let mut dead = bus.subscribe("orders.failed", StartAt::Start).unwrap();
                    let mut published = HashMap::<String, u32>::new();
                    let mut order = Rng(seed ^ 0x9e37);
                    for _ in 0..200 {
                        let key = format!("customer-{}", order.below(12));
                        let n = published.entry(key.clone()).or_default();
                        *n += 1;
                        bus.publish_keyed("orders", &key, (key.clone(), *n))
                            .await
                            .unwrap();
                    }
                    // Closed only once all is settled: the dead-letter topic
                    // closes with the bus.
                    for _ in 0..10_000 {
                        let stats = handler.stats();
                        if stats.succeeded + stats.failed == 200 {
                            break;
                        }
                        weft::time::sleep(Duration::from_millis(100)).await;
                    }
                    bus.close();
                    handler.finished().await;

                    let trace = trace.lock().unwrap();
                    let mut by_key = HashMap::<&str, Vec<(u32, bool)>>::new();
                    for (key, n, started) in trace.iter() {
                        by_key.entry(key).or_default().push((*n, *started));
                    }
                    for (key, steps) in &by_key {
                        // Start, end, start, end...: never two at once, and the
                        // numbers never go back.
                        for pair in steps.chunks(2) {
                            assert!(
                                pair.len() == 2 && pair[0].1 && !pair[1].1 && pair[0].0 == pair[1].0,
                                "seed {seed} {flavour}: {key} overlapped: {steps:?}"
                            );
                        }
                        let ns: Vec<u32> = steps.iter().step_by(2).map(|(n, _)| *n).collect();
                        assert!(
                            ns.windows(2).all(|w| w[0] <= w[1]),
                            "seed {seed} {flavour}: {key} {ns:?}"
                        );
                        let last = *ns.last().unwrap();
                        assert_eq!(
                            last, published[*key],
                            "seed {seed} {flavour}: {key} not all handled"
                        );
                    }
                    assert_eq!(by_key.len(), published.len(), "seed {seed} {flavour}");
                    let most = most.load(Ordering::SeqCst);
                    assert!(most > 1 && most <= 8, "seed {seed} {flavour}: {most} in flight");

                    // Every event handled or dead-lettered, each key's dead
                    // letters in order.
                    let stats = handler.stats();
                    assert_eq!(
                        stats.succeeded + stats.failed,
                        200,
                        "seed {seed} {flavour}: {stats:?}"
                    );
                    assert_eq!(stats.dead_lettered, stats.failed, "seed {seed} {flavour}");
                    let mut last_dead = HashMap::new();
                    for _ in 0..stats.dead_lettered {
                        let (key, n) = dead.try_recv().unwrap().unwrap().into_payload();
                        let before = last_dead.insert(key.clone(), n).unwrap_or(0);
                        assert!(
                            before < n,
                            "seed {seed} {flavour}: {key} dead-lettered out of order"
                        );
                    }
                });
            }
        }
    }
}

#[test]
fn concurrency_n_runs_at_most_n_keyless_events_at_once() {
    for store in STORES {
        for (flavour, rt) in paused_runtimes() {
            rt.block_on(async {
                let bus = events_support::bus_on::<u32>(store);
                let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
                let (now_in, most_in) = (now.clone(), most.clone());
                let handler = bus
                    .on_with("jobs", HandlerOptions::new().concurrency(3), move |_| {
                        let (now, most) = (now_in.clone(), most_in.clone());
                        async move {
                            most.fetch_max(now.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                            weft::time::sleep(Duration::from_secs(60)).await;
                            now.fetch_sub(1, Ordering::SeqCst);
                            Ok::<(), String>(())
                        }
                    })
                    .unwrap();
                for n in 0..10 {
                    bus.try_publish("jobs", n).unwrap();
                }
                bus.close();
                handler.finished().await;
                assert_eq!(most.load(Ordering::SeqCst), 3, "{flavour}");
                assert_eq!(handler.stats().succeeded, 10, "{flavour}");
                // 0 means 1, not a handler that never runs.
                let one = bus.on_with("jobs", HandlerOptions::new().concurrency(0), |_| async {
                    Ok::<(), String>(())
                });
                assert!(one.is_ok());
            });
        }
    }
}

#[test]
fn a_stop_dead_letters_the_events_waiting_behind_a_busy_key_after_it() {
    for store in STORES {
        for (flavour, rt) in paused_runtimes() {
            rt.block_on(async {
                let bus = events_support::bus_on::<u32>(store);
                let mut dead = bus.subscribe("dlq", StartAt::Latest).unwrap();
                let (tx, mut rx) = weft::sync::mpsc::unbounded_channel();
                let options = HandlerOptions::new()
                    .concurrency(4)
                    .retry(Retry::new(10).backoff(Duration::from_secs(3600), Duration::from_secs(3600)))
                    .dead_letter("dlq");
                let handler = bus
                    .on_with("work", options, move |event| {
                        let tx = tx.clone();
                        async move {
                            let _ = tx.send(*event);
                            Err::<(), _>("always fails")
                        }
                    })
                    .unwrap();
                for n in 1..=4 {
                    bus.try_publish_keyed("work", "k", n).unwrap();
                }
                assert_eq!(rx.recv().await, Some(1), "{flavour}: the first attempt ran");
                // The paused clock moves only once every task waits: by then
                // the handler has read 2 to 4, which wait behind 1's back-off.
                weft::time::sleep(Duration::from_secs(1)).await;
                handler.stop();
                handler.finished().await;
                let letters: Vec<u32> = (0..4).map(|_| *dead.try_recv().unwrap().unwrap()).collect();
                assert_eq!(letters, [1, 2, 3, 4], "{flavour}");
                let stats = handler.stats();
                assert_eq!(
                    (stats.succeeded, stats.failed, stats.dead_lettered),
                    (0, 4, 4),
                    "{flavour}"
                );
                assert!(rx.try_recv().is_err(), "{flavour}: only event 1 ever ran");
            });
        }
    }
}

// ANCHOR: after-close
/// An event still in flight when the bus closes is waited for: what it
/// then does is counted, its failure reported (the dead-letter topic is
/// closed too), never dropped unseen.
#[test]
fn an_event_finishing_after_the_bus_closed_is_counted_and_its_failure_reported() {
    for store in STORES {
        for concurrency in [1, 4] {
            for (flavour, rt) in paused_runtimes() {
                rt.block_on(async {
                    let bus = events_support::bus_on::<u32>(store);
                    let (started_tx, mut started) = weft::sync::mpsc::unbounded_channel();
                    let gates = Arc::new(Mutex::new(HashMap::new()));
                    let parked = gates.clone();
                    let options = HandlerOptions::new()
                        .concurrency(concurrency)
                        .retry(Retry::none())
                        .dead_letter("dlq");
                    let handler = bus
                        .on_with("work", options, move |event| {
                            let (gate, wait) = oneshot::<Result<(), String>>();
                            parked.lock().unwrap().insert(*event, gate);
                            let _ = started_tx.send(*event);
                            wait
                        })
                        .unwrap();
                    bus.try_publish("work", 1).unwrap();
                    assert_eq!(started.recv().await, Some(1));
                    bus.close();
                    weft::task::yield_now().await;
                    assert!(
                        !handler.is_finished(),
                        "c{concurrency} {flavour}: it waits for event 1"
                    );
                    let gate = gates.lock().unwrap().remove(&1).unwrap();
                    gate.send(Err("too late".to_string()));
                    handler.finished().await;
                    let stats = handler.stats();
                    assert_eq!(
                        (stats.succeeded, stats.failed, stats.dead_lettered),
                        (0, 1, 0),
                        "c{concurrency} {flavour}"
                    );
                    assert_eq!(
                        stats.last_error.as_deref(),
                        Some("too late"),
                        "c{concurrency} {flavour}"
                    );
                });
            }
        }
    }
}
// ANCHOR_END: after-close

#[test]
fn a_batch_finishing_after_the_bus_closed_is_counted_and_its_failures_reported() {
    for store in STORES {
        for (flavour, rt) in paused_runtimes() {
            rt.block_on(async {
                let bus = events_support::bus_on::<u32>(store);
                let (started_tx, mut started) = weft::sync::mpsc::unbounded_channel();
                let gate = Arc::new(Mutex::new(None));
                let parked = gate.clone();
                let options = HandlerOptions::new()
                    .batch(2, Duration::from_secs(1))
                    .retry(Retry::none())
                    .dead_letter("dlq");
                let handler = bus
                    .on_batch("work", options, move |batch| {
                        let (tx, wait) = oneshot::<Result<(), BatchFailures>>();
                        *parked.lock().unwrap() = Some(tx);
                        let _ = started_tx.send(batch.len());
                        wait
                    })
                    .unwrap();
                bus.try_publish("work", 1).unwrap();
                bus.try_publish("work", 2).unwrap();
                assert_eq!(started.recv().await, Some(2));
                bus.close();
                weft::task::yield_now().await;
                assert!(!handler.is_finished(), "{flavour}: it waits for the batch");
                let mut failures = BatchFailures::new();
                failures.fail(1, "too late");
                gate.lock().unwrap().take().unwrap().send(Err(failures));
                handler.finished().await;
                let stats = handler.stats();
                assert_eq!(
                    (stats.succeeded, stats.failed, stats.dead_lettered),
                    (1, 1, 0),
                    "{flavour}"
                );
                assert_eq!(stats.last_error.as_deref(), Some("too late"), "{flavour}");
            });
        }
    }
}

// ANCHOR: batch-retry
#[test]
fn a_batch_with_items_2_and_5_failing_retries_exactly_those_then_dead_letters_them() {
    for store in STORES {
        for (flavour, rt) in paused_runtimes() {
            rt.block_on(async {
                let bus = events_support::bus_on::<u32>(store);
                let mut dead = bus.subscribe("payments.failed", StartAt::Latest).unwrap();
                let batches = Arc::new(Mutex::new(Vec::<(Instant, Vec<u32>)>::new()));
                let seen = batches.clone();
                let options = HandlerOptions::new()
                    .batch(8, Duration::from_secs(1))
                    .retry(Retry::new(3).backoff(Duration::from_secs(1), Duration::from_secs(60)))
                    .dead_letter("payments.failed");
                let handler = bus
                    .on_batch("payments", options, move |batch| {
                        let payloads: Vec<u32> = batch.iter().map(|event| **event).collect();
                        seen.lock().unwrap().push((Spawner::current().now(), payloads));
                        async move {
                            let mut failures = BatchFailures::new();
                            for (i, event) in batch.iter().enumerate() {
                                if [2, 5].contains(&**event) {
                                    failures.fail(i, format!("payment {} declined", **event));
                                }
                            }
                            if failures.is_empty() {
                                Ok(())
                            } else {
                                Err(failures)
                            }
                        }
                    })
                    .unwrap();
                for n in 0..8 {
                    bus.try_publish("payments", n).unwrap();
                }
                assert_eq!((*dead.recv().await.unwrap(), *dead.recv().await.unwrap()), (2, 5));
                bus.close();
                handler.finished().await;

                let batches = batches.lock().unwrap();
                let payloads: Vec<&[u32]> = batches.iter().map(|(_, p)| &p[..]).collect();
                assert_eq!(
                    payloads,
                    [&[0, 1, 2, 3, 4, 5, 6, 7][..], &[2, 5], &[2, 5]],
                    "{flavour}"
                );
                // The back-off, on the paused clock: at least 1 s, then 2 s.
                assert!(batches[1].0 - batches[0].0 >= Duration::from_secs(1), "{flavour}");
                assert!(batches[2].0 - batches[1].0 >= Duration::from_secs(2), "{flavour}");
                let stats = handler.stats();
                assert_eq!(
                    (stats.succeeded, stats.retried, stats.failed, stats.dead_lettered),
                    (6, 4, 2, 2),
                    "{flavour}"
                );
                assert_eq!(
                    stats.last_error.as_deref(),
                    Some("payment 5 declined"),
                    "{flavour}"
                );
            });
        }
    }
}
// ANCHOR_END: batch-retry

#[test]
fn a_batch_holds_at_most_max_events_or_what_arrived_within_the_wait() {
    for store in STORES {
        for (flavour, rt) in paused_runtimes() {
            rt.block_on(async {
                let bus = events_support::bus_on::<u32>(store);
                let (tx, mut rx) = weft::sync::mpsc::unbounded_channel();
                let options = HandlerOptions::new().batch(4, Duration::from_secs(10));
                let handler = bus
                    .on_batch("numbers", options, move |batch| {
                        let payloads: Vec<u32> = batch.iter().map(|event| **event).collect();
                        let _ = tx.send((Spawner::current().now(), payloads));
                        async { Ok(()) }
                    })
                    .unwrap();
                // Ten ready at once: batches of at most four.
                for n in 0..10 {
                    bus.try_publish("numbers", n).unwrap();
                }
                let first = rx.recv().await.unwrap();
                let second = rx.recv().await.unwrap();
                let third = rx.recv().await.unwrap();
                assert_eq!(
                    (first.1, second.1, third.1),
                    (vec![0, 1, 2, 3], vec![4, 5, 6, 7], vec![8, 9]),
                    "{flavour}"
                );
                // The third was not full: it waited the window out.
                assert!(third.0 - second.0 >= Duration::from_secs(10), "{flavour}");

                // One event, then another 5 s later: one batch, handed over
                // when the window that opened with the first is over.
                bus.try_publish("numbers", 10).unwrap();
                let opened = Spawner::current().now();
                weft::time::sleep(Duration::from_secs(5)).await;
                bus.try_publish("numbers", 11).unwrap();
                let (at, batch) = rx.recv().await.unwrap();
                assert_eq!(batch, [10, 11], "{flavour}");
                assert!(at - opened >= Duration::from_secs(10), "{flavour}");

                // A stop hands over what was gathered at once. (The paused
                // clock moves only once every task waits: the handler has read
                // the event by then.)
                bus.try_publish("numbers", 12).unwrap();
                weft::time::sleep(Duration::from_secs(1)).await;
                handler.stop();
                handler.finished().await;
                assert_eq!(rx.recv().await.unwrap().1, [12], "{flavour}");
                assert_eq!(handler.stats().succeeded, 13, "{flavour}");
            });
        }
    }
}

#[test]
fn a_batch_handler_that_errs_panics_or_names_a_bad_index_fails_the_whole_batch() {
    for store in STORES {
        for (flavour, rt) in paused_runtimes() {
            rt.block_on(async {
                let bus = events_support::bus_on::<String>(store);
                let mut dead = bus.subscribe("dlq", StartAt::Latest).unwrap();
                let options = HandlerOptions::new()
                    .batch(2, Duration::from_secs(1))
                    .retry(Retry::none())
                    .dead_letter("dlq");
                let handler = bus
                    .on_batch("in", options, |batch| async move {
                        match batch[0].as_str() {
                            "err" => Err("database down")?,
                            "panic" => panic!("the batch exploded"),
                            "bad-index" => Err(BatchFailures::new().fail(7, "no such item").clone()),
                            // Naming no item fails none, as in Lambda.
                            _ => Err(BatchFailures::new()),
                        }
                    })
                    .unwrap();
                for word in ["err", "a", "panic", "b", "bad-index", "c", "fine", "d"] {
                    bus.try_publish("in", word.to_string()).unwrap();
                }
                let mut letters = Vec::new();
                for _ in 0..6 {
                    letters.push(dead.recv().await.unwrap().into_payload());
                }
                assert_eq!(letters, ["err", "a", "panic", "b", "bad-index", "c"], "{flavour}");
                bus.close();
                handler.finished().await;
                let stats = handler.stats();
                assert_eq!((stats.succeeded, stats.failed), (2, 6), "{flavour}");
                let last = stats.last_error.unwrap();
                assert!(last.contains("item 7 of a batch of 2"), "{flavour}: {last}");
            });
        }
    }
}

/// Waits on the paused clock until `done` holds, or panics.
async fn settle(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..10_000 {
        if done() {
            return;
        }
        weft::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} never happened");
}

// ANCHOR: group
#[test]
fn a_group_handler_acks_what_it_handled_or_dead_lettered_and_the_next_one_resumes_after_it() {
    for store in STORES {
        for concurrency in [1, 4] {
            for (flavour, rt) in paused_runtimes() {
                rt.block_on(async {
                    let bus = events_support::bus_on::<u32>(store);
                    let seen = Arc::new(Mutex::new(Vec::new()));
                    let handler_of = |seen: Arc<Mutex<Vec<u32>>>| {
                        let options = HandlerOptions::new()
                            .group("billing")
                            .from(StartAt::Start)
                            .concurrency(concurrency)
                            .retry(Retry::none())
                            .dead_letter("invoices.failed");
                        bus.on_with("invoices", options, move |event| {
                            seen.lock().unwrap().push(*event);
                            let n = *event;
                            async move { if n == 3 { Err("no such customer") } else { Ok(()) } }
                        })
                        .unwrap()
                    };
                    let first = handler_of(seen.clone());
                    for n in 0..10 {
                        bus.try_publish("invoices", n).unwrap();
                    }
                    settle("ten handled", || {
                        first.stats().succeeded + first.stats().failed == 10
                    })
                    .await;
                    first.stop();
                    first.finished().await;
                    // Handled or dead-lettered: acked either way.
                    let committed = bus.committed("billing", "invoices").unwrap();
                    assert_eq!(
                        committed,
                        Some(weft::events::Offset::new(10)),
                        "c{concurrency} {flavour}"
                    );
                    assert_eq!(first.stats().dead_lettered, 1, "c{concurrency} {flavour}");

                    for n in 10..15 {
                        bus.try_publish("invoices", n).unwrap();
                    }
                    let later = Arc::new(Mutex::new(Vec::new()));
                    let second = handler_of(later.clone());
                    bus.close();
                    second.finished().await;
                    let mut later = later.lock().unwrap().clone();
                    later.sort();
                    assert_eq!(
                        later,
                        [10, 11, 12, 13, 14],
                        "c{concurrency} {flavour}: resumed after the commit"
                    );
                });
            }
        }
    }
}
// ANCHOR_END: group

#[test]
fn a_stop_gives_a_group_handler_s_waiting_events_back_to_the_group() {
    for store in STORES {
        for (flavour, rt) in paused_runtimes() {
            rt.block_on(async {
                let bus = events_support::bus_on::<u32>(store);
                let mut dead = bus.subscribe("dlq", StartAt::Latest).unwrap();
                let (tx, mut rx) = weft::sync::mpsc::unbounded_channel();
                let options = HandlerOptions::new()
                    .group("workers")
                    .from(StartAt::Start)
                    .concurrency(4)
                    .retry(Retry::new(10).backoff(Duration::from_secs(3600), Duration::from_secs(3600)))
                    .dead_letter("dlq");
                let first = bus
                    .on_with("work", options.clone(), move |event| {
                        let tx = tx.clone();
                        async move {
                            let _ = tx.send(*event);
                            Err::<(), _>("always fails")
                        }
                    })
                    .unwrap();
                for n in 1..=4 {
                    bus.try_publish_keyed("work", "k", n).unwrap();
                }
                assert_eq!(rx.recv().await, Some(1), "{flavour}");
                weft::time::sleep(Duration::from_secs(1)).await;
                first.stop();
                first.finished().await;
                // Event 1's retries were cut short: dead-lettered. 2 to 4 never
                // ran: they went back to the group.
                assert_eq!(*dead.try_recv().unwrap().unwrap(), 1, "{flavour}");
                assert!(dead.try_recv().is_none(), "{flavour}");
                let stats = first.stats();
                assert_eq!((stats.failed, stats.dead_lettered), (1, 1), "{flavour}");

                let seen = Arc::new(Mutex::new(Vec::new()));
                let record = seen.clone();
                let second = bus
                    .on_with("work", options, move |event| {
                        record.lock().unwrap().push(*event);
                        async { Ok::<(), String>(()) }
                    })
                    .unwrap();
                bus.close();
                second.finished().await;
                assert_eq!(*seen.lock().unwrap(), [2, 3, 4], "{flavour}: in key order");
            });
        }
    }
}

#[test]
fn a_group_batch_handler_acks_the_events_that_succeeded_and_the_dead_lettered_ones() {
    for store in STORES {
        for (flavour, rt) in paused_runtimes() {
            rt.block_on(async {
                let bus = events_support::bus_on::<u32>(store);
                let options = HandlerOptions::new()
                    .group("loader")
                    .from(StartAt::Start)
                    .batch(8, Duration::from_secs(1))
                    .retry(Retry::new(2).backoff(Duration::from_secs(1), Duration::from_secs(1)))
                    .dead_letter("rows.failed");
                let (tx, mut rx) = weft::sync::mpsc::unbounded_channel();
                let handler = bus
                    .on_batch("rows", options, move |batch| {
                        let _ = tx.send(batch.len());
                        let mut failures = BatchFailures::new();
                        for (i, event) in batch.iter().enumerate() {
                            if **event == 2 {
                                failures.fail(i, "bad row");
                            }
                        }
                        async move {
                            if failures.is_empty() {
                                Ok(())
                            } else {
                                Err(failures)
                            }
                        }
                    })
                    .unwrap();
                for n in 0..8 {
                    bus.try_publish("rows", n).unwrap();
                }
                assert_eq!(rx.recv().await, Some(8), "{flavour}");
                // While 2 waits for its retry, what came before it is
                // committed, and nothing after it yet (the commit moves only
                // past a run of acks).
                weft::time::sleep(Duration::from_millis(500)).await;
                let committed = bus.committed("loader", "rows").unwrap();
                assert_eq!(committed, Some(weft::events::Offset::new(2)), "{flavour}");
                assert_eq!(rx.recv().await, Some(1), "{flavour}: only 2 is retried");
                settle("2 dead-lettered", || handler.stats().dead_lettered == 1).await;
                let committed = bus.committed("loader", "rows").unwrap();
                assert_eq!(committed, Some(weft::events::Offset::new(8)), "{flavour}");
                bus.close();
                handler.finished().await;
                let stats = handler.stats();
                assert_eq!(
                    (stats.succeeded, stats.retried, stats.failed),
                    (7, 1, 1),
                    "{flavour}"
                );
            });
        }
    }
}
