//! Promises and callback timers under weft (both schedulers), tokio (both)
//! and smol, through the harness's `Spawn` implementation (written as a
//! user of another runtime would): the runtime-agnostic claim, tested.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::any_runtime::on_every_runtime;
use weft_primitives::callback::from_callback;
use weft_primitives::promise::{AggregateError, Promise, PromiseError, Settled};

#[test]
fn a_chain_of_handlers_runs_on_every_runtime() {
    on_every_runtime(|harness| async move {
        let sp = harness.weft_spawner();
        let p = Promise::<u32, String>::spawn_in(&sp, async { Ok(1) })
            .then(|v| Ok(v + 1))
            .map(|v| v * 10)
            .then(|v| {
                if v > 100 {
                    Ok(v)
                } else {
                    Err(format!("{v} is small"))
                }
            })
            .catch(|e| Ok::<_, String>(e.len() as u32))
            .finally(|| ());
        assert_eq!(p.await, Ok("20 is small".len() as u32));
    });
}

#[test]
fn combinators_follow_the_order_the_inputs_settle_in() {
    on_every_runtime(|harness| async move {
        let sp = harness.weft_spawner();
        let (a, ra) = Promise::<u32, String>::with_resolvers_in(&sp);
        let (b, rb) = Promise::<u32, String>::with_resolvers_in(&sp);
        let all = Promise::all([a.clone(), b.clone()]);
        let race = Promise::race([a.clone(), b.clone()]);
        let any = Promise::any([a.clone(), b.clone()]);
        let settled = Promise::all_settled([a, b]);
        // b settles first, by rejection; then a is fulfilled.
        rb.reject("b failed".into()).unwrap();
        assert_eq!(race.await, Err("b failed".to_string()));
        assert_eq!(all.await, Err("b failed".to_string()));
        ra.resolve(1).unwrap();
        assert_eq!(any.await, Ok(1));
        assert_eq!(
            settled.await,
            Ok(vec![
                Settled::Fulfilled(1),
                Settled::Rejected("b failed".to_string())
            ])
        );
        let (c, rc) = Promise::<u32, String>::with_resolvers_in(&sp);
        let none = Promise::any([c]);
        rc.reject("c failed".into()).unwrap();
        assert_eq!(
            none.await,
            Err(AggregateError {
                errors: vec!["c failed".to_string()]
            })
        );
    });
}

#[test]
fn handlers_attached_from_many_tasks_each_run_exactly_once() {
    on_every_runtime(|harness| async move {
        let sp = harness.weft_spawner();
        let (p, resolver) = Promise::<u32, String>::with_resolvers_in(&sp);
        let count = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let (p, count) = (p.clone(), count.clone());
                harness.spawn(async move {
                    let handlers: Vec<_> = (0..100)
                        .map(|_| {
                            let count = count.clone();
                            p.clone()
                                .map(move |v| count.fetch_add(v as usize, Ordering::SeqCst))
                        })
                        .collect();
                    for handler in handlers {
                        handler.await.unwrap();
                    }
                })
            })
            .collect();
        // Settled from a plain thread while handlers are being attached.
        std::thread::spawn(move || resolver.resolve(1).unwrap());
        for task in tasks {
            task.await;
        }
        assert_eq!(count.load(Ordering::SeqCst), 400);
    });
}

#[test]
fn a_panicking_handler_rejects_and_an_abandoned_resolver_does_not_hang() {
    on_every_runtime(|harness| async move {
        let sp = harness.weft_spawner();
        let p = Promise::<u32, String>::spawn_in(&sp, async { Ok(1) })
            .map(|_| -> u32 { panic!("a handler panics (expected)") });
        assert!(p.await.unwrap_err().contains("expected"));
        let lost = Promise::<u32, PromiseError>::new_in(&sp, drop);
        assert_eq!(lost.await, Err(PromiseError::Abandoned));
        let (cycle, resolver) = Promise::<u32, PromiseError>::with_resolvers_in(&sp);
        resolver.adopt(cycle.clone()).unwrap();
        assert_eq!(cycle.await, Err(PromiseError::Cycle));
    });
}

#[test]
fn callback_timers_fire_in_deadline_order_and_cancelled_ones_never() {
    on_every_runtime(|harness| async move {
        let sp = harness.weft_spawner();
        let fired = Arc::new(Mutex::new(Vec::new()));
        for (label, ms) in [("third", 6), ("first", 2), ("second", 4)] {
            let fired = fired.clone();
            sp.set_timeout(Duration::from_millis(ms), move || {
                fired.lock().unwrap().push(label)
            });
        }
        let cancelled = {
            let fired = fired.clone();
            sp.set_timeout(Duration::from_millis(3), move || {
                fired.lock().unwrap().push("cancelled")
            })
        };
        assert!(cancelled.cancel());
        let last = sp.clone();
        from_callback(move |done| drop(last.set_timeout(Duration::from_millis(8), move || done(()))))
            .await
            .unwrap();
        assert_eq!(*fired.lock().unwrap(), ["first", "second", "third"]);
    });
}

/// A promise is a future, so `futures::FutureExt` (and `TryFutureExt`) in
/// scope offer `then`, `map` and `map_err` too; the promise's own, taking
/// the handle by value, are found first.
#[test]
fn promise_handlers_win_over_future_ext_methods_of_the_same_name() {
    // In scope on purpose; the compiler calling them "unused" is the point.
    #[allow(unused_imports)]
    use futures_util::{FutureExt as _, TryFutureExt as _};
    weft::block_on(async {
        let p = Promise::<u32, String>::resolve(1);
        let q = p
            .then(|v| Ok(v + 1))
            .map(|v| v * 10)
            .map_err(|e| format!("wrapped: {e}"));
        assert_eq!(q.await, Ok(20));
    });
}
