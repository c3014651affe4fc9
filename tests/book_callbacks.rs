//! The code of the book's chapter on callbacks: timers, a small task
//! written twice (callbacks nested inside callbacks, then the same services
//! bridged into futures), and the bridge back out to a callback API. The
//! tests check that both versions of the task give the same answers in the
//! same time on the paused clock.

mod book_shop;
mod support;

use book_shop::{User, expected_total, find_orders, find_user, price_of, save_total};
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use weft::callback::{Done, IntervalHandle, from_callback, into_callback, set_interval, set_timeout};
use weft::time::{Instant, sleep};

#[test]
fn timers_fire_later_in_deadline_order_and_an_interval_can_stop_itself() {
    let rt = support::paused_current_thread();
    rt.block_on(async {
        // ANCHOR: timers
        let log: Arc<Mutex<Vec<String>>> = Arc::default();
        let start = Instant::now();
        let note = move |log: &Mutex<Vec<String>>, what: &str| {
            let ms = (Instant::now() - start).as_millis();
            log.lock().unwrap().push(format!("{what} at {ms} ms"));
        };

        let l = log.clone();
        set_timeout(Duration::from_millis(25), move || note(&l, "timeout"));

        let l = log.clone();
        set_timeout(Duration::ZERO, move || note(&l, "zero-delay timeout"));

        let never = set_timeout(Duration::from_millis(5), || unreachable!("cancelled"));
        assert!(never.cancel());

        // The interval stops itself on its third tick, with its own handle,
        // which exists only once `set_interval` has returned.
        let handle: Arc<OnceLock<IntervalHandle>> = Arc::default();
        let (l, me) = (log.clone(), handle.clone());
        let mut ticks = 0;
        let interval = set_interval(Duration::from_millis(10), move || {
            ticks += 1;
            note(&l, &format!("tick {ticks}"));
            if ticks == 3 {
                me.get().expect("set before the first tick").cancel();
            }
        });
        handle.set(interval).unwrap();

        // Nothing ran inside the calls above, not even the zero delay.
        assert!(log.lock().unwrap().is_empty());
        sleep(Duration::from_millis(100)).await;
        assert_eq!(
            *log.lock().unwrap(),
            [
                "zero-delay timeout at 0 ms",
                "tick 1 at 10 ms",
                "tick 2 at 20 ms",
                "timeout at 25 ms",
                "tick 3 at 30 ms",
            ]
        );
        // ANCHOR_END: timers
    });
}

// ANCHOR: nested
/// The sum of user `id`'s order prices, saved and then given to `done`:
/// written with callbacks only.
pub fn order_total_nested(id: u32, done: impl FnOnce(Result<u64, String>) + Send + 'static) {
    find_user(id, move |user| match user {
        Err(e) => done(Err(e)),
        // `user` moves into the next closure, so this call borrows a clone.
        Ok(user) => find_orders(&user.clone(), move |orders| match orders {
            Err(e) => done(Err(e)),
            // With nothing to price, no price callback would ever call `done`.
            Ok(orders) if orders.is_empty() => save_total(&user, 0, move |saved| done(saved.map(|()| 0))),
            Ok(orders) => {
                // Every order is priced at once. Whichever answer decides
                // the outcome (the first error, or the last price) must call
                // `done`, exactly once: so `done` and the running sum live
                // behind a lock that every price callback shares.
                let join = Arc::new(Mutex::new(Join {
                    left: orders.len(),
                    total: 0,
                    done: Some(done),
                }));
                for order in orders {
                    let (join, user) = (join.clone(), user.clone());
                    price_of(order, move |price| {
                        // The lock is released at the end of this statement:
                        // `done` is never called with it held.
                        let decided = join.lock().unwrap().record(price);
                        let Some((outcome, done)) = decided else { return };
                        match outcome {
                            Err(e) => done(Err(e)),
                            Ok(total) => save_total(&user, total, move |saved| done(saved.map(|()| total))),
                        }
                    });
                }
            }
        }),
    });
}

/// The state the price callbacks share.
struct Join<D> {
    left: usize,
    total: u64,
    /// Taken by the first price that fails, or by the last one.
    done: Option<D>,
}

impl<D> Join<D> {
    /// Counts one answer in. Returns the outcome and `done` when this
    /// answer decides it: the first error, or the last price.
    fn record(&mut self, price: Result<u64, String>) -> Option<(Result<u64, String>, D)> {
        match price {
            Err(e) => Some((Err(e), self.done.take()?)),
            Ok(price) => {
                self.total += price;
                self.left -= 1;
                if self.left > 0 {
                    return None;
                }
                Some((Ok(self.total), self.done.take()?))
            }
        }
    }
}
// ANCHOR_END: nested

// ANCHOR: bridged
/// A callback-style call, as a future of its result. `from_callback` calls
/// `register` now, so the request is on its way before anyone awaits it.
fn ask<T: Send + 'static>(
    register: impl FnOnce(Done<Result<T, String>>),
) -> impl Future<Output = Result<T, String>> {
    let reply = from_callback(register);
    async move { reply.await.map_err(|lost| lost.to_string())? }
}

/// The same task over the same callback services, bridged into futures.
pub async fn order_total(id: u32) -> Result<u64, String> {
    let user = ask(|done| find_user(id, done)).await?;
    let orders = ask(|done| find_orders(&user, done)).await?;
    // Every request is sent here; the loop below only collects answers.
    let prices: Vec<_> = orders
        .into_iter()
        .map(|order| ask(move |done| price_of(order, done)))
        .collect();
    let mut total = 0;
    for price in prices {
        total += price.await?;
    }
    ask(|done| save_total(&user, total, done)).await?;
    Ok(total)
}
// ANCHOR_END: bridged

// ANCHOR: into-callback
/// The async version, offered to callers that want a callback API.
pub fn order_total_callback(id: u32, done: impl FnOnce(Result<u64, String>) + Send + 'static) {
    into_callback(order_total(id), done);
}
// ANCHOR_END: into-callback

/// The users the tests ask about: ordinary ones, one with a failing order,
/// one with no orders, and one who does not exist.
const IDS: [u32; 5] = [1, 7, 4, 5, 0];

#[test]
fn the_nested_and_the_bridged_versions_agree_in_answer_and_in_time() {
    for (_, rt) in support::paused_runtimes() {
        rt.block_on(async {
            for id in IDS {
                let start = Instant::now();
                let nested = from_callback(|done| order_total_nested(id, done)).await.unwrap();
                let nested_took = Instant::now() - start;

                let start = Instant::now();
                let bridged = order_total(id).await;
                let bridged_took = Instant::now() - start;

                let start = Instant::now();
                let called_back = from_callback(|done| order_total_callback(id, done))
                    .await
                    .unwrap();
                let called_back_took = Instant::now() - start;

                assert_eq!(nested, expected_total(id), "user {id}");
                assert_eq!(bridged, nested, "user {id}");
                assert_eq!(called_back, nested, "user {id}");
                assert_eq!(bridged_took, nested_took, "user {id}");
                assert_eq!(called_back_took, nested_took, "user {id}");
            }
        });
    }
}

#[test]
fn the_prices_are_asked_for_at_once_not_one_after_another() {
    for (_, rt) in support::paused_runtimes() {
        rt.block_on(async {
            // Four round trips of 10 ms: user, orders, the three prices
            // together, save. One after another the prices would make six.
            let start = Instant::now();
            assert_eq!(order_total(1).await, expected_total(1));
            assert_eq!(Instant::now() - start, Duration::from_millis(40));
            let start = Instant::now();
            let nested = from_callback(|done| order_total_nested(1, done)).await;
            assert_eq!(nested, Ok(expected_total(1)));
            assert_eq!(Instant::now() - start, Duration::from_millis(40));
        });
    }
}

#[test]
fn a_user_with_no_orders_still_gets_an_answer() {
    for (_, rt) in support::paused_runtimes() {
        rt.block_on(async {
            let user = User { id: 5 };
            let orders = ask(|done| find_orders(&user, done)).await;
            assert_eq!(orders, Ok(Vec::new()));
            assert_eq!(from_callback(|done| order_total_nested(5, done)).await, Ok(Ok(0)));
        });
    }
}
