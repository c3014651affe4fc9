//! The code of the book's chapter on promises: the promise contract seen
//! from the outside (settle once, handlers later and in order), eager
//! start, chaining with recovery, the four combinators, the order-total
//! task of the callbacks chapter as a promise chain, and promises inside
//! `async` code.

mod book_shop;
mod support;

use book_shop::{expected_total, find_orders, find_user, price_of, save_total};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use weft::callback::set_timeout;
use weft::promise::{AggregateError, Promise, Settled};
use weft::time::{Instant, sleep};

#[test]
fn a_promise_settles_once_and_runs_its_handlers_later_in_order() {
    let rt = support::paused_current_thread();
    rt.block_on(async {
        // ANCHOR: contract
        let log: Arc<Mutex<Vec<String>>> = Arc::default();
        let (promise, resolver) = Promise::<u32, String>::with_resolvers();
        assert_eq!(format!("{promise:?}"), r#"Promise { state: "pending", .. }"#);

        let mut handled = Vec::new();
        for name in ["first", "second", "third"] {
            let l = log.clone();
            let seen = promise
                .clone()
                .map(move |n| l.lock().unwrap().push(format!("{name} saw {n}")));
            handled.push(seen);
        }

        assert!(resolver.resolve(1).is_ok());
        // Settled once: later attempts are refused and hand the value back.
        assert_eq!(resolver.resolve(2).map_err(|e| e.0), Err(2));
        assert_eq!(
            resolver.reject("late".into()).map_err(|e| e.0),
            Err("late".into())
        );
        assert_eq!(format!("{promise:?}"), r#"Promise { state: "fulfilled", .. }"#);

        // Fulfilled, yet no handler has run: they run later, as jobs.
        assert!(log.lock().unwrap().is_empty());
        Promise::all(handled).await.unwrap();
        assert_eq!(
            *log.lock().unwrap(),
            ["first saw 1", "second saw 1", "third saw 1"]
        );
        // ANCHOR_END: contract
    });
}

#[test]
fn a_promise_starts_at_once_a_future_when_polled() {
    let rt = support::paused_current_thread();
    rt.block_on(async {
        // ANCHOR: eager
        let (future_ran, promise_ran) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
        let ran = future_ran.clone();
        let future = async move {
            ran.store(true, Ordering::SeqCst);
            42
        };
        let ran = promise_ran.clone();
        let promise = Promise::<u32, String>::from_future(async move {
            ran.store(true, Ordering::SeqCst);
            42
        });

        sleep(Duration::from_millis(1)).await; // let other tasks run
        assert!(!future_ran.load(Ordering::SeqCst), "a future waits to be polled");
        assert!(promise_ran.load(Ordering::SeqCst), "a promise's work has started");
        assert_eq!(future.await, 42);
        assert_eq!(promise.await, Ok(42));
        // ANCHOR_END: eager
    });
}

#[test]
fn a_chain_skips_recovers_and_fails_like_javascript() {
    for (_, rt) in support::paused_runtimes() {
        rt.block_on(async {
            let log: Arc<Mutex<Vec<&str>>> = Arc::default();
            let (skipped, cleaned) = (log.clone(), log.clone());
            // ANCHOR: chain
            let answer = Promise::<u32, String>::reject("timed out".into())
                // Skipped: a rejection passes `then` by untouched.
                .then(move |n| {
                    skipped.lock().unwrap().push("then ran");
                    Ok::<u32, String>(n * 2)
                })
                // Recovers, by returning a promise the chain adopts.
                .catch(|reason| Promise::spawn(async move { Ok::<u32, String>(reason.len() as u32) }))
                // Returning `Err` rejects, as a `throw` would.
                .then(|n| {
                    if n > 5 {
                        Err(format!("{n} is too many"))
                    } else {
                        Ok(n)
                    }
                })
                // Runs either way; the outcome passes through.
                .finally(move || cleaned.lock().unwrap().push("finally ran"));
            assert_eq!(answer.await, Err("9 is too many".to_string()));
            // ANCHOR_END: chain
            assert_eq!(*log.lock().unwrap(), ["finally ran"]);
        });
    }
}

// ANCHOR: after
/// A promise settled with `outcome` after `ms` milliseconds, by a timer.
fn after(ms: u64, outcome: Result<&'static str, String>) -> Promise<&'static str, String> {
    Promise::from_callback(move |done| {
        set_timeout(Duration::from_millis(ms), move || done(outcome));
    })
}
// ANCHOR_END: after

#[test]
fn the_four_combinators_on_the_same_three_inputs() {
    for (_, rt) in support::paused_runtimes() {
        rt.block_on(async {
            let start = Instant::now();
            let elapsed = || (Instant::now() - start).as_millis();
            // ANCHOR: combinators
            let inputs = || {
                [
                    after(30, Ok("slow")),
                    after(10, Err("down".into())),
                    after(20, Ok("fast")),
                ]
            };

            assert_eq!(Promise::all(inputs()).await, Err("down".to_string()));
            assert_eq!(elapsed(), 10, "all: rejected by the first rejection");

            assert_eq!(Promise::race(inputs()).await, Err("down".to_string()));
            assert_eq!(elapsed(), 20, "race: settled like the first to settle");

            assert_eq!(Promise::any(inputs()).await, Ok("fast"));
            assert_eq!(elapsed(), 40, "any: fulfilled by the first fulfillment");

            let every = Promise::all_settled(inputs()).await;
            let expected = [
                Settled::Fulfilled("slow"),
                Settled::Rejected("down".into()),
                Settled::Fulfilled("fast"),
            ];
            assert_eq!(every, Ok(expected.to_vec()));
            assert_eq!(elapsed(), 70, "all_settled: waits for every input");
            // ANCHOR_END: combinators

            let none = Promise::any([after(1, Err("a".into())), after(2, Err("b".into()))]);
            let errors = vec!["a".to_string(), "b".to_string()];
            assert_eq!(none.await, Err(AggregateError { errors }));
        });
    }
}

// ANCHOR: order-total
/// The order total of the callbacks chapter: the same callback services,
/// as a chain of promises.
pub fn order_total(id: u32) -> Promise<u64, String> {
    Promise::from_callback(move |done| find_user(id, done))
        .then(|user| {
            let orders = Promise::from_callback(|done| find_orders(&user, done));
            orders.map(move |orders| (user, orders))
        })
        .then(|(user, orders)| {
            let prices = orders
                .into_iter()
                .map(|order| Promise::from_callback(move |done| price_of(order, done)));
            Promise::all(prices).map(move |prices| (user, prices.iter().sum::<u64>()))
        })
        .then(|(user, total)| {
            let saved = Promise::from_callback(|done| save_total(&user, total, done));
            saved.map(move |()| total)
        })
}
// ANCHOR_END: order-total

// ANCHOR: interop
/// Two users' totals together: promises awaited inside `async` code, both
/// under way before the first `.await`.
async fn total_of_two(a: u32, b: u32) -> Result<u64, String> {
    let (first, second) = (order_total(a), order_total(b));
    Ok(first.await? + second.await?)
}
// ANCHOR_END: interop

#[test]
fn the_promise_chain_gives_the_same_totals_in_the_same_time() {
    for (_, rt) in support::paused_runtimes() {
        rt.block_on(async {
            for id in [1, 7, 4, 5, 0] {
                assert_eq!(order_total(id).await, expected_total(id), "user {id}");
            }
            let start = Instant::now();
            assert_eq!(order_total(1).await, expected_total(1));
            assert_eq!(Instant::now() - start, Duration::from_millis(40));
        });
    }
}

#[test]
fn promises_and_async_functions_mix_both_ways() {
    for (_, rt) in support::paused_runtimes() {
        rt.block_on(async {
            let start = Instant::now();
            // ANCHOR: interop-use
            let both = Promise::<u64, String>::spawn(total_of_two(1, 2));
            let shown = both.map(|cents| format!("{}.{:02}", cents / 100, cents % 100));
            // ANCHOR_END: interop-use
            let expected = expected_total(1).unwrap() + expected_total(2).unwrap();
            let shown_expected = format!("{}.{:02}", expected / 100, expected % 100);
            assert_eq!(shown.await, Ok(shown_expected));
            // The two chains ran side by side: 40 ms, not 80.
            assert_eq!(Instant::now() - start, Duration::from_millis(40));
        });
    }
}
