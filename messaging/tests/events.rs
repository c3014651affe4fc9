//! The event bus: cursors and replay, patterns, retention and lag, closing,
//! consumer groups with committed offsets, and handlers with retries on
//! the paused clock and a dead-letter topic.

#[path = "../../tests/support/mod.rs"]
mod support;

mod events_support;

use events_support::{BuildOn, STORES};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{Rng, paused_runtimes, runtimes};
use weft::events::{
    EventBus, EventsError, HandlerOptions, Memory, Offset, PublishError, RecvError, Retry, StartAt,
    Subscriber,
};
use weft::spawner::Spawner;

/// Everything `sub` has ready now, as (topic, payload).
fn drain<T: Clone + Send + 'static>(sub: &mut Subscriber<T>) -> Vec<(String, T)> {
    let mut out = Vec::new();
    while let Some(result) = sub.try_recv() {
        match result {
            Ok(event) => out.push((event.topic().to_owned(), event.into_payload())),
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    out
}

fn payloads<T: Clone + Send + 'static>(sub: &mut Subscriber<T>) -> Vec<T> {
    drain(sub).into_iter().map(|(_, p)| p).collect()
}

// ANCHOR: cursors
#[test]
fn offsets_count_from_zero_and_each_subscriber_has_its_own_cursor() {
    for store in STORES {
        let bus = events_support::bus_on(store);
        let topic = bus.topic("order.paid").unwrap();
        let mut early = topic.subscribe(StartAt::Latest);
        assert_eq!(topic.try_publish(10).unwrap(), Offset::new(0));
        assert_eq!(bus.try_publish("order.paid", 11).unwrap(), Offset::new(1));
        let mut late_latest = bus.subscribe("order.paid", StartAt::Latest).unwrap();
        let mut replay = bus.subscribe("order.paid", StartAt::Start).unwrap();
        let mut from_one = bus
            .subscribe("order.paid", StartAt::Offset(Offset::new(1)))
            .unwrap();
        topic.try_publish(12).unwrap();

        assert_eq!(payloads(&mut early), [10, 11, 12]);
        assert_eq!(payloads(&mut late_latest), [12]);
        assert_eq!(payloads(&mut replay), [10, 11, 12]);
        assert_eq!(payloads(&mut from_one), [11, 12]);
        // Reading did not move anyone else's cursor.
        let mut again = bus.subscribe("order.paid", StartAt::Start).unwrap();
        let offsets: Vec<u64> = std::iter::from_fn(|| again.try_recv())
            .map(|e| e.unwrap().offset().get())
            .collect();
        assert_eq!(offsets, [0, 1, 2]);
        assert!(again.try_recv().is_none(), "nothing more, and not closed");
    }
}
// ANCHOR_END: cursors

#[test]
fn a_subscriber_waits_for_the_next_event() {
    for store in STORES {
        for (flavour, rt) in runtimes() {
            rt.block_on(async {
                let bus = events_support::bus_on(store);
                let mut sub = bus.subscribe("tick", StartAt::Latest).unwrap();
                let publisher = bus.clone();
                let task = weft::spawn(async move {
                    for n in 0..100 {
                        publisher.try_publish("tick", n).unwrap();
                        weft::task::yield_now().await;
                    }
                });
                for n in 0..100 {
                    let event = sub.recv().await.unwrap();
                    assert_eq!((*event, event.offset().get()), (n, n as u64), "{flavour}");
                }
                task.await.unwrap();
            });
        }
    }
}

// ANCHOR: patterns
#[test]
fn patterns_match_as_in_a_topic_exchange_including_topics_made_later() {
    for store in STORES {
        let bus = events_support::bus_on(store);
        bus.try_publish("user.registered", "a").unwrap();
        let mut users = bus.subscribe("user.*", StartAt::Start).unwrap();
        let mut orders = bus.subscribe("order.#", StartAt::Start).unwrap();
        let mut all = bus.subscribe("#", StartAt::Latest).unwrap();

        bus.try_publish("user.deleted", "b").unwrap(); // a topic made after subscribing
        bus.try_publish("user.email.changed", "c").unwrap(); // two words after user: not user.*
        bus.try_publish("order", "d").unwrap(); // # matches zero words
        bus.try_publish("order.line.added", "e").unwrap();
        bus.try_publish("user.registered", "f").unwrap();

        let users = drain(&mut users);
        assert_eq!(
            users,
            [
                ("user.registered".to_owned(), "a"),
                ("user.deleted".to_owned(), "b"),
                ("user.registered".to_owned(), "f")
            ],
            "in publication order across topics"
        );
        assert_eq!(payloads(&mut orders), ["d", "e"]);
        assert_eq!(payloads(&mut all), ["b", "c", "d", "e", "f"]);
    }
}
// ANCHOR_END: patterns

// ANCHOR: lag
#[test]
fn a_subscriber_behind_the_window_is_told_how_many_it_missed_and_goes_on() {
    for store in STORES {
        let bus = EventBus::builder().retention(4).build_on(store);
        let mut slow = bus.subscribe("metrics", StartAt::Latest).unwrap();
        for n in 0..10 {
            bus.try_publish("metrics", n).unwrap();
        }
        match slow.try_recv() {
            Some(Err(RecvError::Lagged { topic, skipped })) => assert_eq!((&*topic, skipped), ("metrics", 6)),
            other => panic!("expected a lag report, got {other:?}"),
        }
        assert_eq!(payloads(&mut slow), [6, 7, 8, 9]);

        // Replay from a gone offset reports the gap too.
        let mut replay = bus.subscribe("metrics", StartAt::Offset(Offset::new(2))).unwrap();
        assert!(matches!(
            replay.try_recv(),
            Some(Err(RecvError::Lagged { skipped: 4, .. }))
        ));
        // StartAt::Start is the oldest retained event: no lag.
        let mut start = bus.subscribe("metrics", StartAt::Start).unwrap();
        assert_eq!(payloads(&mut start), [6, 7, 8, 9]);

        // Shrinking one topic's retention applies at once.
        let topic = bus.topic("metrics").unwrap();
        topic.set_retention(2);
        assert_eq!((topic.start(), topic.end()), (Offset::new(8), Offset::new(10)));
        let mut shrunk = bus.subscribe("metrics", StartAt::Offset(Offset::new(6))).unwrap();
        assert!(matches!(
            shrunk.try_recv(),
            Some(Err(RecvError::Lagged { skipped: 2, .. }))
        ));
        assert_eq!(payloads(&mut shrunk), [8, 9]);
    }
}
// ANCHOR_END: lag

#[test]
fn closing_refuses_publishes_and_readers_drain_then_see_closed() {
    for store in STORES {
        let bus = events_support::bus_on(store);
        let mut exact = bus.subscribe("a.b", StartAt::Latest).unwrap();
        let mut pattern = bus.subscribe("a.*", StartAt::Latest).unwrap();
        bus.try_publish("a.b", 1).unwrap();
        bus.close();
        assert!(bus.is_closed());
        match bus.try_publish("a.b", 2) {
            Err(PublishError::Closed(event)) => assert_eq!(event, 2),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            bus.try_publish("a.new", 3),
            Err(PublishError::Closed(3))
        ));
        assert_eq!(*exact.try_recv().unwrap().unwrap(), 1);
        assert_eq!(exact.try_recv(), Some(Err(RecvError::Closed)));
        assert_eq!(*pattern.try_recv().unwrap().unwrap(), 1);
        assert_eq!(pattern.try_recv(), Some(Err(RecvError::Closed)));
    }
}

#[test]
fn dropping_every_handle_closes_the_bus_and_wakes_readers() {
    for (flavour, rt) in runtimes() {
        rt.block_on(async {
            let bus = EventBus::<u32>::new();
            let topic = bus.topic("t").unwrap();
            let mut sub = bus.subscribe("#", StartAt::Latest).unwrap();
            let reader = weft::spawn(async move {
                let mut got = Vec::new();
                while let Ok(event) = sub.recv().await {
                    got.push(*event);
                }
                got
            });
            drop(bus); // the topic handle still keeps it open
            topic.try_publish(7).unwrap();
            drop(topic);
            assert_eq!(reader.await.unwrap(), [7], "{flavour}");
        });
    }
}

#[test]
fn bad_names_are_errors_not_panics() {
    for store in STORES {
        let bus = events_support::bus_on(store);
        for bad in ["", "a..b", ".a", "a.", "a.*", "#"] {
            match bus.try_publish(bad, 1) {
                Err(PublishError::InvalidTopic(e, 1)) => assert!(!e.reason().is_empty()),
                other => panic!("{bad:?}: {other:?}"),
            }
            assert!(
                matches!(bus.topic(bad), Err(EventsError::InvalidName(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(
            bus.subscribe("a.b*", StartAt::Start),
            Err(EventsError::InvalidName(_))
        ));
        assert!(matches!(
            bus.join("g", "user.*", StartAt::Start),
            Err(EventsError::GroupNeedsTopic(_))
        ));
        assert!(matches!(
            bus.join("", "user", StartAt::Start),
            Err(EventsError::InvalidName(_))
        ));
        // No runtime and no spawner: a handler cannot run.
        let on = bus.on("user", |_| async { Ok::<(), String>(()) });
        assert!(matches!(on, Err(EventsError::NoSpawner)));
        assert!(bus.topics().is_empty(), "nothing was created by bad calls");
    }
}

// ANCHOR: group
#[test]
fn group_members_share_events_and_a_dropped_one_goes_to_another() {
    for store in STORES {
        let bus = events_support::bus_on(store);
        let mut a = bus.join("mailer", "user.registered", StartAt::Start).unwrap();
        let mut b = bus.join("mailer", "user.registered", StartAt::Start).unwrap();
        let mut other_group = bus.join("analytics", "user.registered", StartAt::Start).unwrap();
        for n in 0..4 {
            bus.try_publish("user.registered", n).unwrap();
        }
        let a0 = a.try_recv().unwrap().unwrap();
        let b1 = b.try_recv().unwrap().unwrap();
        assert_eq!((*a0, *b1), (0, 1), "each event to one member");
        assert_eq!(a.committed(), Offset::new(0));
        b1.ack().unwrap();
        assert_eq!(a.committed(), Offset::new(0), "0 is not acked yet");
        drop(a0); // unacked: back to the group
        let again = b.try_recv().unwrap().unwrap();
        assert_eq!(
            (*again, again.delivery_count(), again.redelivered()),
            (0, 2, true)
        );
        again.ack().unwrap();
        assert_eq!(b.committed(), Offset::new(2), "0 and 1 are done");
        let a2 = a.try_recv().unwrap().unwrap();
        a2.nack();
        assert_eq!(*b.try_recv().unwrap().unwrap(), 2);

        // Another group has its own position.
        let first = other_group.try_recv().unwrap().unwrap();
        assert_eq!((*first, first.delivery_count()), (0, 1));
    }
}
// ANCHOR_END: group

// ANCHOR: group-resume
#[test]
fn a_group_rebuilt_on_the_same_backend_resumes_at_its_committed_offset() {
    let memory = Memory::new();
    let bus = EventBus::builder().build_with(memory.clone());
    for n in 0..10 {
        bus.try_publish("order.paid", n).unwrap();
    }
    let mut member = bus.join("billing", "order.paid", StartAt::Start).unwrap();
    for _ in 0..6 {
        member.try_recv().unwrap().unwrap().ack().unwrap();
    }
    let unacked = member.try_recv().unwrap().unwrap();
    assert_eq!(*unacked, 6);
    std::mem::forget(unacked); // the process dies with it in hand
    assert_eq!(
        bus.committed("billing", "order.paid").unwrap(),
        Some(Offset::new(6))
    );
    drop(member);
    drop(bus);

    let bus = EventBus::builder().build_with(memory);
    // `from` is ignored: the group has a committed offset.
    let mut restarted = bus.join("billing", "order.paid", StartAt::Latest).unwrap();
    let rest: Vec<i32> = std::iter::from_fn(|| restarted.try_recv())
        .map(|e| {
            let e = e.unwrap();
            let n = *e;
            e.ack().unwrap();
            n
        })
        .collect();
    assert_eq!(rest, [6, 7, 8, 9], "the unacked event first, nothing acked twice");
    assert_eq!(restarted.committed(), Offset::new(10));
    // And a plain replay still sees every retained event.
    let mut replay = bus.subscribe("order.paid", StartAt::Start).unwrap();
    assert_eq!(payloads(&mut replay), (0..10).collect::<Vec<_>>());
}
// ANCHOR_END: group-resume

#[test]
fn a_new_group_starts_where_from_says() {
    for store in STORES {
        let bus = events_support::bus_on(store);
        for n in 0..3 {
            bus.try_publish("t", n).unwrap();
        }
        let mut latest = bus.join("late", "t", StartAt::Latest).unwrap();
        let mut at_one = bus.join("one", "t", StartAt::Offset(Offset::new(1))).unwrap();
        bus.try_publish("t", 3).unwrap();
        assert_eq!(*latest.try_recv().unwrap().unwrap(), 3);
        assert_eq!(*at_one.try_recv().unwrap().unwrap(), 1);
    }
}

#[test]
fn a_closed_group_ends_only_when_everything_is_settled() {
    for store in STORES {
        let bus = events_support::bus_on(store);
        let mut a = bus.join("g", "t", StartAt::Start).unwrap();
        let mut b = bus.join("g", "t", StartAt::Start).unwrap();
        bus.try_publish("t", 1).unwrap();
        bus.close();
        let held = a.try_recv().unwrap().unwrap();
        assert!(b.try_recv().is_none(), "the held event may still come back");
        drop(held);
        let back = b.try_recv().unwrap().unwrap();
        back.ack().unwrap();
        assert!(matches!(a.try_recv(), Some(Err(RecvError::Closed))));
        assert!(matches!(b.try_recv(), Some(Err(RecvError::Closed))));
    }
}

/// Many publishers, a group of members that ack, nack or drop at random,
/// and members that leave and join: every event is acked exactly once and
/// the committed offset ends past the last one.
#[test]
fn every_event_is_acked_exactly_once_by_a_group_under_random_drops() {
    for store in STORES {
        for (flavour, rt) in runtimes() {
            rt.block_on(async {
                const PUBLISHERS: u64 = 4;
                const EACH: u64 = 250;
                let bus: EventBus<u64> = EventBus::builder().retention(10_000).build_on(store);
                let acked = Arc::new(Mutex::new(HashMap::<u64, u32>::new()));
                let mut tasks = Vec::new();
                for m in 0..4u64 {
                    let bus = bus.clone();
                    let acked = acked.clone();
                    tasks.push(weft::spawn(async move {
                        let mut rng = Rng(0xfeed + m);
                        let mut member = bus.join("workers", "jobs", StartAt::Start).unwrap();
                        drop(bus);
                        loop {
                            let event = match member.recv().await {
                                Ok(event) => event,
                                Err(RecvError::Closed) => break,
                                Err(e) => panic!("{e}"),
                            };
                            match rng.below(6) {
                                0 => event.nack(),
                                1 => drop(event),
                                2 => weft::task::yield_now().await, // held across a yield, then dropped
                                _ => {
                                    let id = *event;
                                    event.ack().unwrap();
                                    *acked.lock().unwrap().entry(id).or_default() += 1;
                                }
                            }
                        }
                    }));
                }
                let publishers: Vec<_> = (0..PUBLISHERS)
                    .map(|p| {
                        let bus = bus.clone();
                        weft::spawn(async move {
                            for n in 0..EACH {
                                bus.try_publish("jobs", p * EACH + n).unwrap();
                                if n % 16 == 0 {
                                    weft::task::yield_now().await;
                                }
                            }
                        })
                    })
                    .collect();
                for p in publishers {
                    p.await.unwrap();
                }
                let committed_target = Offset::new(PUBLISHERS * EACH);
                bus.close();
                for t in tasks {
                    t.await.unwrap();
                }
                let acked = acked.lock().unwrap();
                assert_eq!(
                    acked.len() as u64,
                    PUBLISHERS * EACH,
                    "{flavour}: every event acked"
                );
                assert!(acked.values().all(|&n| n == 1), "{flavour}: none acked twice");
                assert_eq!(
                    bus.committed("workers", "jobs").unwrap(),
                    Some(committed_target),
                    "{flavour}"
                );
            });
        }
    }
}

#[test]
fn a_handler_retries_with_back_off_on_the_runtime_clock_then_succeeds() {
    for store in STORES {
        for (flavour, rt) in paused_runtimes() {
            rt.block_on(async {
                let bus = events_support::bus_on(store);
                let attempts = Arc::new(Mutex::new(Vec::<Instant>::new()));
                let seen = attempts.clone();
                let options = HandlerOptions::new()
                    .retry(Retry::new(5).backoff(Duration::from_secs(1), Duration::from_secs(60)))
                    .dead_letter("jobs.failed");
                let handler = bus
                    .on_with("jobs", options, move |event| {
                        let seen = seen.clone();
                        async move {
                            let mut seen = seen.lock().unwrap();
                            seen.push(Spawner::current().now());
                            // Fails twice, then works.
                            if seen.len() < 3 {
                                Err(format!("try {} of {}", seen.len(), *event))
                            } else {
                                Ok(())
                            }
                        }
                    })
                    .unwrap();
                let started = Instant::now();
                bus.try_publish("jobs", 1).unwrap();
                bus.close();
                handler.finished().await;
                let attempts = attempts.lock().unwrap();
                assert_eq!(attempts.len(), 3, "{flavour}");
                let gaps: Vec<Duration> = attempts.windows(2).map(|w| w[1] - w[0]).collect();
                for (gap, want) in gaps.iter().zip([1, 2]) {
                    let want = Duration::from_secs(want);
                    assert!(
                        *gap >= want && *gap < want + Duration::from_millis(50),
                        "{flavour}: {gaps:?}"
                    );
                }
                assert!(
                    started.elapsed() < Duration::from_secs(1),
                    "{flavour}: the paused clock slept, not us"
                );
                let stats = handler.stats();
                assert_eq!(
                    (stats.succeeded, stats.retried, stats.failed),
                    (1, 2, 0),
                    "{flavour}"
                );
                assert_eq!(stats.last_error, None, "{flavour}");
            });
        }
    }
}

// ANCHOR: handler-dead-letter
#[test]
fn a_handler_sends_what_keeps_failing_or_panicking_to_the_dead_letter_topic() {
    for (flavour, rt) in paused_runtimes() {
        rt.block_on(async {
            let bus = EventBus::<String>::new();
            let mut dead = bus.subscribe("signup.failed", StartAt::Latest).unwrap();
            let options = HandlerOptions::new()
                .retry(Retry::new(3).backoff(Duration::from_millis(10), Duration::from_secs(1)))
                .dead_letter("signup.failed");
            let handler = bus
                .on_with("signup.*", options, |event| async move {
                    match event.payload().as_str() {
                        "ok" => Ok(()),
                        "boom" => panic!("the mail server exploded"),
                        other => Err(format!("bad address {other:?}")),
                    }
                })
                .unwrap();
            for p in ["ok", "nope", "boom", "ok"] {
                bus.try_publish("signup.web", p.to_string()).unwrap();
            }
            let first = dead.recv().await.unwrap();
            let second = dead.recv().await.unwrap();
            assert_eq!((first.as_str(), second.as_str()), ("nope", "boom"), "{flavour}");
            bus.close();
            handler.finished().await;
            let stats = handler.stats();
            assert_eq!(
                (stats.succeeded, stats.retried, stats.failed, stats.dead_lettered),
                (2, 4, 2, 2),
                "{flavour}"
            );
            let last = stats.last_error.unwrap();
            assert!(
                last.contains("panicked") && last.contains("exploded"),
                "{flavour}: {last}"
            );
        });
    }
}
// ANCHOR_END: handler-dead-letter

#[test]
fn stopping_a_handler_cuts_its_back_off_short_and_dead_letters_the_event() {
    for store in STORES {
        for (flavour, rt) in paused_runtimes() {
            rt.block_on(async {
                let bus = events_support::bus_on(store);
                let mut dead = bus.subscribe("dlq", StartAt::Latest).unwrap();
                let (tx, mut rx) = weft::sync::mpsc::unbounded_channel();
                let options = HandlerOptions::new()
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
                bus.try_publish("work", 5).unwrap();
                assert_eq!(rx.recv().await, Some(5), "{flavour}: first attempt ran");
                handler.stop();
                handler.finished().await;
                assert_eq!(*dead.recv().await.unwrap(), 5, "{flavour}");
                let stats = handler.stats();
                assert_eq!((stats.failed, stats.dead_lettered), (1, 1), "{flavour}");
                // Stopped: a later event is not handled.
                bus.try_publish("work", 6).unwrap();
                assert!(handler.is_finished());
            });
        }
    }
}

#[test]
fn debug_output_names_the_parts() {
    for store in STORES {
        let bus = events_support::bus_on(store);
        let topic = bus.topic("a.b").unwrap();
        topic.try_publish(1).unwrap();
        let sub = bus.subscribe("a.*", StartAt::Start).unwrap();
        let member = bus.join("g", "a.b", StartAt::Start).unwrap();
        assert!(format!("{bus:?}").contains("EventBus"));
        assert!(format!("{topic:?}").contains("a.b"));
        assert!(format!("{sub:?}").contains("a.*"));
        assert!(format!("{member:?}").contains("\"g\""));
    }
}
