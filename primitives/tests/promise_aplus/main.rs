//! Promises/A+ (<https://promisesaplus.com>), sections 2.1 (states), 2.2
//! (`then`) and 2.3 (the resolution procedure), ported to weft's typed
//! promises: one test per clause, named after it.
//!
//! How JavaScript's notions map onto weft:
//!
//! - `promise.then(onFulfilled, onRejected)` is
//!   [`then_or_else`](Promise::then_or_else); `then(f)` (and `map`) is one
//!   with no `onRejected`, `catch(f)` (and `map_err`) one with no
//!   `onFulfilled`.
//! - A handler "throws `e`" by returning `Err(e)`; a handler that panics
//!   rejects with [`PromiseError::Panicked`].
//! - A "thenable" is a type implementing [`Thenable`]; its
//!   `then(resolvePromise, rejectPromise)` is
//!   [`call_then(resolver)`](Thenable::call_then): `resolver.resolve(y)` /
//!   `resolver.adopt(y)` is `resolvePromise(y)`, `resolver.reject(r)` is
//!   `rejectPromise(r)`, and a panic is a `throw`.
//! - The `TypeError` of a cycle is [`PromiseError::Cycle`].
//!
//! Clauses a typed language makes moot:
//!
//! - 2.2.1 ("if onFulfilled / onRejected is not a function, it must be
//!   ignored"): a handler is always a function; leaving one out is calling
//!   `catch` (no `onFulfilled`) or `then` (no `onRejected`). 2.2.1.x and
//!   2.2.7.3 / 2.2.7.4 test that pass-through.
//! - 2.2.5 ("called as functions, with no `this` value"): Rust closures have
//!   no `this`. Not tested.
//! - 2.3.3.2 ("if retrieving the property `x.then` throws"): a thenable's
//!   `call_then` is a trait method, found at compile time; retrieving it
//!   cannot fail. Not tested. (2.3.3.1, "let then be x.then", is tested as
//!   "`call_then` runs exactly once".)
//! - 2.3.3.4 and 2.3.4 ("if then is not a function" / "x is not an object
//!   or function, fulfill with x"): only a [`Thenable`] is adopted, which the
//!   types decide; any other value — even one with a field called `then`, or
//!   a promise held as a plain value — fulfills as it is. Tested that way.
//! - "thenable that calls neither": in JavaScript the promise stays pending
//!   forever. In weft it does too while the thenable keeps its resolver; a
//!   thenable that *drops* its resolver uncalled rejects the promise with
//!   [`PromiseError::Abandoned`] instead of hanging (tested in 2.3.3.3).
//!
//! Every test body runs on both schedulers (current-thread, and a
//! multi-thread runtime with two workers), with the clock paused, and with
//! the promise under test settling in each [`Timing`]: already settled
//! before the handlers are attached, immediately after (from the same code),
//! or later (from a `set_timeout` callback, or from a task sleeping on the
//! paused clock). Nothing sleeps in real time.
//!
//! One file per section: [`states`] (2.1), [`then`] (2.2) and
//! [`resolution`] (2.3).

use std::error::Error;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use weft::time::{Instant, sleep};
use weft_primitives::promise::{Promise, PromiseError, Resolver};

#[path = "../support/mod.rs"]
mod support;

use support::promise_cases::{
    Flavour, Log, STEP, Schedule, Then, Timing, after, call, each_case, lock_in_handler, quiesce,
};

/// One type for the many thenables of a table of cases.
type Th = Then<Box<dyn FnOnce(Resolver<i32, String>) + Send>>;

fn th(f: impl FnOnce(Resolver<i32, String>) + Send + 'static) -> Th {
    Then(Box::new(f))
}

/// The reason a failure of the promise machinery becomes, as a `String`.
fn machinery(error: PromiseError) -> String {
    error.into()
}

fn panicked(message: &str) -> String {
    machinery(PromiseError::Panicked(message.to_string()))
}

/// A reason whose identity can be checked with `Arc::ptr_eq`.
type Shared = Arc<dyn Error + Send + Sync>;

fn shared(message: &str) -> Shared {
    Box::<dyn Error + Send + Sync>::from(message).into()
}

/// Which way a promise settles. A mirrored pair of clauses (2.1.2 / 2.1.3,
/// 2.2.2 / 2.2.3) runs one body once for each side, on a promise whose
/// value and reason have one type, [`Mirror`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Fulfilled,
    Rejected,
}

/// The promise of the mirrored bodies: value and reason are both `String`,
/// so that one body can settle it either way.
type Mirror = Promise<String, String>;

impl Side {
    fn other(self) -> Side {
        match self {
            Side::Fulfilled => Side::Rejected,
            Side::Rejected => Side::Fulfilled,
        }
    }

    /// `x` as an outcome on this side.
    fn outcome(self, x: &str) -> Result<String, String> {
        match self {
            Side::Fulfilled => Ok(x.to_string()),
            Side::Rejected => Err(x.to_string()),
        }
    }

    /// Settles through `r` this way (`resolve` or `reject`); a refusal
    /// gives the value back.
    fn settle(self, r: &Resolver<String, String>, x: &str) -> Result<(), String> {
        self.settle_with(r, x.to_string())
    }

    /// [`settle`](Side::settle) for any type of value and reason.
    fn settle_with<T: Clone + Send + 'static>(self, r: &Resolver<T, T>, x: T) -> Result<(), T> {
        match self {
            Side::Fulfilled => r.resolve(x).map_err(|e| e.0),
            Side::Rejected => r.reject(x).map_err(|e| e.0),
        }
    }

    /// The value or reason of an outcome that must be on this side.
    #[track_caller]
    fn unwrap<T: std::fmt::Debug>(self, outcome: Result<T, T>) -> T {
        match (self, outcome) {
            (Side::Fulfilled, Ok(x)) | (Side::Rejected, Err(x)) => x,
            (side, outcome) => panic!("expected {side:?}, got {outcome:?}"),
        }
    }

    /// Attaches this side's handler alone: `then` (`onFulfilled`) or
    /// `catch` (`onRejected`). What `f` returns fulfills promise2.
    fn on(self, p: Mirror, f: impl FnOnce(String) -> String + Send + 'static) -> Mirror {
        match self {
            Side::Fulfilled => p.then(move |v| Ok(f(v))),
            Side::Rejected => p.catch(move |e| Ok(f(e))),
        }
    }

    /// `map` or `map_err`: `f` maps the value (or reason), which stays on
    /// this side.
    fn map(self, p: Mirror, f: impl FnOnce(String) -> String + Send + 'static) -> Mirror {
        match self {
            Side::Fulfilled => p.map(f),
            Side::Rejected => p.map_err(f),
        }
    }

    /// `then_or_else` with `f` as this side's handler and the other side's
    /// passing its outcome on unchanged. What `f` returns fulfills promise2.
    fn then_or_else(self, p: Mirror, f: impl FnOnce(String) -> String + Send + 'static) -> Mirror {
        match self {
            Side::Fulfilled => p.then_or_else(move |v| Ok(f(v)), Err),
            Side::Rejected => p.then_or_else(Ok, move |e| Ok(f(e))),
        }
    }

    /// A promise already settled this way with `x`.
    fn settled<T: Clone + Send + 'static>(self, x: T) -> Promise<T, T> {
        match self {
            Side::Fulfilled => Promise::resolve(x),
            Side::Rejected => Promise::reject(x),
        }
    }

    /// The state's name: "fulfilled" or "rejected".
    fn state(self) -> &'static str {
        match self {
            Side::Fulfilled => "fulfilled",
            Side::Rejected => "rejected",
        }
    }

    /// The handler's name in the specification.
    fn handler(self) -> &'static str {
        match self {
            Side::Fulfilled => "onFulfilled",
            Side::Rejected => "onRejected",
        }
    }
}

/// `then_or_else` with both handlers logging what they got: "fulfilled
/// with v" or "rejected with e".
fn watch(p: &Mirror, log: &Log) -> Promise<(), String> {
    let (on_ok, on_err) = (log.clone(), log.clone());
    call(|| {
        p.clone().then_or_else(
            move |v| {
                on_ok.push(format!("fulfilled with {v}"));
                Ok::<_, String>(())
            },
            move |e| {
                on_err.push(format!("rejected with {e}"));
                Ok(())
            },
        )
    })
}

mod resolution;
mod states;
mod then;
