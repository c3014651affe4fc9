//! The queue and events contract, once for every backend (#24).
//!
//! Each check is an `async fn` that takes a *maker* (a [`queue::Maker`] or
//! an [`events::Maker`]) and asserts what must hold on every backend: the
//! in-memory one, the durable one and the RabbitMQ one. The checks rely on
//! no paused clock and no poll order, since a broker follows neither: they
//! await each outcome, and where only a broker needs time (a redelivery, a
//! dead letter on its way through the dead-letter exchange) the wait is
//! [`bounded`], failing the test after [`BOUND`] rather than hanging it.
//!
//! Where a backend documents another semantics (a quorum queue has no
//! priorities, a stream keeps retention by segment), the maker says so in
//! its capabilities and the check asserts *that* behaviour instead, with
//! the difference stated beside it: nothing is skipped in silence.
//!
//! Included by `messaging/tests/{queue,events}_contract.rs` (memory and
//! durable) and by `messaging/rabbitmq/tests/contract.rs` (the broker,
//! through `#[path]`); the [`queue_tests!`] and [`events_tests!`] macros
//! write one `#[test]` per check for a runner.

// Each test binary runs one part of the suite (the other part's checks
// and its macro's re-export then go unused), or on one kind of backend.
#![allow(dead_code, unused_macros, unused_imports)]

pub(crate) mod events;
pub(crate) mod queue;

use std::future::Future;
use std::time::Duration;

/// Runs `check` on `maker`, on each runtime flavour (the in-process
/// backends: the broker's runner opens a connection per runtime instead).
pub(crate) fn on_each_runtime<M>(maker: M, check: impl AsyncFn(&M)) {
    for (flavour, rt) in weft_test_support::runtimes::runtimes() {
        eprintln!("on the {flavour} runtime");
        rt.block_on(check(&maker));
    }
}

/// A bound on each wait, so that a broken backend fails the test rather
/// than hanging it. Generous, and never asserted on.
pub(crate) const BOUND: Duration = Duration::from_secs(30);

/// `future`'s output, or a panic naming `what` after [`BOUND`].
pub(crate) async fn bounded<F: Future>(what: &str, future: F) -> F::Output {
    match weft::time::timeout(BOUND, future).await {
        Ok(output) => output,
        Err(_) => panic!("{what}: nothing within {BOUND:?}"),
    }
}

/// Writes one `#[test]` per check named in the list: each calls
/// `$run(check)`, where `check` is the suite's `async fn` of that name in
/// `crate::contract::$suite`. `[$($attr)*]` are attributes for every test
/// (the broker's "skipped when not installed").
macro_rules! contract_tests {
    ($suite:ident [$($attr:tt)*] $run:path;) => {};
    ($suite:ident [$($attr:tt)*] $run:path; $name:ident $(, $rest:ident)* $(,)?) => {
        $($attr)*
        #[test]
        fn $name() {
            $run(crate::contract::$suite::$name)
        }
        crate::contract::contract_tests!($suite [$($attr)*] $run; $($rest),*);
    };
}
pub(crate) use contract_tests;
