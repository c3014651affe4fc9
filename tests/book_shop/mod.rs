//! A pretend shop with callback-style services, for the book's chapters on
//! callbacks and promises: each service answers through a callback, after a
//! delay on the runtime's clock (a `set_timeout`), as a remote service
//! would.
//!
//! Users 1 to 9 exist; user `n` has orders `10n + 1` to `10n + 3`, except
//! user 5, who has none. Order `k` costs `100 k` cents, except order 42,
//! which has no price.

#![allow(dead_code)]

use std::time::Duration;
use weft::callback::set_timeout;

/// How long every service takes to answer.
pub(crate) const LATENCY: Duration = Duration::from_millis(10);

/// A user, as the user service returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct User {
    /// The user's id.
    pub(crate) id: u32,
}

// ANCHOR: services
/// Looks user `id` up; `done` gets the user or an error.
pub(crate) fn find_user(id: u32, done: impl FnOnce(Result<User, String>) + Send + 'static) {
    set_timeout(LATENCY, move || match id {
        1..=9 => done(Ok(User { id })),
        _ => done(Err(format!("no user {id}"))),
    });
}

/// Lists the ids of `user`'s orders.
pub(crate) fn find_orders(user: &User, done: impl FnOnce(Result<Vec<u32>, String>) + Send + 'static) {
    let id = user.id;
    set_timeout(LATENCY, move || match id {
        5 => done(Ok(Vec::new())),
        _ => done(Ok((1..=3).map(|k| 10 * id + k).collect())),
    });
}

/// Prices one order, in cents.
pub(crate) fn price_of(order: u32, done: impl FnOnce(Result<u64, String>) + Send + 'static) {
    set_timeout(LATENCY, move || match order {
        42 => done(Err(format!("order {order} has no price"))),
        _ => done(Ok(100 * u64::from(order))),
    });
}

/// Records `total` as what `user` owes.
pub(crate) fn save_total(user: &User, total: u64, done: impl FnOnce(Result<(), String>) + Send + 'static) {
    let _ = (user, total);
    set_timeout(LATENCY, move || done(Ok(())));
}
// ANCHOR_END: services

/// What the task should give for user `id`: the sum of its orders' prices.
pub(crate) fn expected_total(id: u32) -> Result<u64, String> {
    match id {
        4 => Err("order 42 has no price".into()),
        5 => Ok(0),
        1..=9 => Ok((1..=3).map(|k| 100 * u64::from(10 * id + k)).sum()),
        _ => Err(format!("no user {id}")),
    }
}
