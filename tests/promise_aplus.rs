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

use std::error::Error;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use weft::promise::{Promise, PromiseError, Resolver};
use weft::time::{Instant, sleep};

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

// ---------------------------------------------------------------------------
// 2.1 Promise states
// ---------------------------------------------------------------------------

/// 2.1.1.1: When pending, a promise may transition to either the fulfilled
/// or the rejected state.
#[test]
fn a2_1_1_1_pending_may_become_fulfilled_or_rejected() {
    each_case(async |case| {
        let log = Log::default();
        let mut s = Schedule::new(case);
        let fulfilled = s.settle::<i32, String>(Ok(1));
        let rejected = s.settle::<i32, String>(Err("no".into()));
        // Pending until settled (with `Already` the settling came first).
        let pending = case.timing != Timing::Already;
        assert_eq!(fulfilled.peek().is_none(), pending);
        assert_eq!(rejected.peek().is_none(), pending);
        let watch = |name: &'static str, p: &Promise<i32, String>| {
            let (on_ok, on_err) = (log.clone(), log.clone());
            call(|| {
                p.clone().then_or_else(
                    move |v| {
                        on_ok.push(format!("{name}: fulfilled with {v}"));
                        Ok::<_, String>(())
                    },
                    move |e| {
                        on_err.push(format!("{name}: rejected with {e}"));
                        Ok(())
                    },
                )
            })
        };
        let first = watch("first", &fulfilled);
        let second = watch("second", &rejected);
        s.go();
        assert_eq!(first.await, Ok(()));
        assert_eq!(second.await, Ok(()));
        assert_eq!(
            log.take(),
            ["first: fulfilled with 1", "second: rejected with no"]
        );
        assert_eq!(fulfilled.peek(), Some(Ok(1)));
        assert_eq!(rejected.peek(), Some(Err("no".into())));
    });
}

/// 2.1.2.1: When fulfilled, a promise must not transition to any other
/// state. Every later attempt — `reject`, `settle`, `adopt`, from a clone
/// of the resolver, at once or later — is refused with `AlreadyResolved`,
/// which gives the unused value back, and `onRejected` never runs.
#[test]
fn a2_1_2_1_fulfilled_never_transitions_to_another_state() {
    each_case(async |case| {
        let (log, attempts) = (Log::default(), Log::default());
        let mut s = Schedule::new(case);
        let a = attempts.clone();
        let p = s.with::<i32, String>(move |r| {
            a.note(format!("resolve: {:?}", r.resolve(1).map_err(|e| e.0)));
            a.note(format!("reject: {:?}", r.reject("no".into()).map_err(|e| e.0)));
            let settled = r.clone().settle(Err("no".into()));
            a.note(format!("settle through a clone: {:?}", settled.map_err(|e| e.0)));
            let adopted = r.adopt(Err::<i32, String>("no".into()));
            a.note(format!("adopt: {:?}", adopted.map_err(|e| e.0)));
            let (a, r) = (a.clone(), r.clone());
            after(5, move || {
                a.note(format!(
                    "reject later: {:?}",
                    r.reject("late".into()).map_err(|e| e.0)
                ));
            });
        });
        let (on_ok, on_err) = (log.clone(), log.clone());
        let watched = call(|| {
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
        });
        s.go();
        assert_eq!(watched.await, Ok(()));
        assert_eq!(p.clone().await, Ok(1));
        quiesce().await;
        assert_eq!(
            attempts.take(),
            [
                "resolve: Ok(())",
                r#"reject: Err("no")"#,
                r#"settle through a clone: Err(Err("no"))"#,
                r#"adopt: Err(Err("no"))"#,
                r#"reject later: Err("late")"#,
            ]
        );
        assert_eq!(log.take(), ["fulfilled with 1"]);
        assert_eq!(p.peek(), Some(Ok(1)));
        assert_eq!(p.await, Ok(1));
    });
}

/// 2.1.2.2: When fulfilled, a promise must have a value, which must not
/// change: every handler and awaiter, before and after settlement, gets
/// that very value (the same `Arc`), and a second `resolve` is refused.
#[test]
fn a2_1_2_2_fulfilled_value_never_changes() {
    each_case(async |case| {
        let value = Arc::new(5);
        let attempts = Log::default();
        let mut s = Schedule::new(case);
        let (v, a) = (value.clone(), attempts.clone());
        let p = s.with::<Arc<i32>, String>(move |r| {
            let _ = r.resolve(v);
            let again = r.resolve(Arc::new(6));
            a.note(format!("resolve again: {:?}", again.map_err(|e| e.0)));
        });
        let before = call(|| p.clone().map(|v| v));
        let through_then = call(|| p.clone().then(Ok::<_, String>));
        s.go();
        let values = [
            before.await.unwrap(),
            through_then.await.unwrap(),
            p.clone().await.unwrap(),
            p.clone().await.unwrap(),
            call(|| p.clone().map(|v| v)).await.unwrap(),
            p.peek().unwrap().unwrap(),
        ];
        for got in values {
            assert!(Arc::ptr_eq(&got, &value), "a different value: {got}");
        }
        assert_eq!(attempts.take(), ["resolve again: Err(6)"]);
    });
}

/// 2.1.3.1: When rejected, a promise must not transition to any other
/// state; later attempts are refused and `onFulfilled` never runs.
#[test]
fn a2_1_3_1_rejected_never_transitions_to_another_state() {
    each_case(async |case| {
        let (log, attempts) = (Log::default(), Log::default());
        let mut s = Schedule::new(case);
        let a = attempts.clone();
        let p = s.with::<i32, String>(move |r| {
            a.note(format!("reject: {:?}", r.reject("no".into()).map_err(|e| e.0)));
            a.note(format!("resolve: {:?}", r.resolve(1).map_err(|e| e.0)));
            let settled = r.clone().settle(Ok(2));
            a.note(format!("settle through a clone: {:?}", settled.map_err(|e| e.0)));
            let adopted = r.adopt(Ok::<i32, String>(3));
            a.note(format!("adopt: {:?}", adopted.map_err(|e| e.0)));
            let (a, r) = (a.clone(), r.clone());
            after(5, move || {
                a.note(format!("resolve later: {:?}", r.resolve(4).map_err(|e| e.0)));
            });
        });
        let (on_ok, on_err) = (log.clone(), log.clone());
        let watched = call(|| {
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
        });
        s.go();
        assert_eq!(watched.await, Ok(()));
        assert_eq!(p.clone().await, Err("no".into()));
        quiesce().await;
        assert_eq!(
            attempts.take(),
            [
                "reject: Ok(())",
                "resolve: Err(1)",
                "settle through a clone: Err(Ok(2))",
                "adopt: Err(Ok(3))",
                "resolve later: Err(4)",
            ]
        );
        assert_eq!(log.take(), ["rejected with no"]);
        assert_eq!(p.peek(), Some(Err("no".into())));
    });
}

/// 2.1.3.2: When rejected, a promise must have a reason, which must not
/// change: every handler and awaiter gets that very reason (the same
/// `Arc`), and a second `reject` is refused.
#[test]
fn a2_1_3_2_rejected_reason_never_changes() {
    each_case(async |case| {
        let reason = shared("the reason");
        let attempts = Log::default();
        let mut s = Schedule::new(case);
        let (why, a) = (reason.clone(), attempts.clone());
        let p = s.with::<i32, Shared>(move |r| {
            let _ = r.reject(why);
            let again = r.reject(shared("another"));
            a.note(format!("reject again: {:?}", again.map_err(|e| e.0.to_string())));
        });
        let before = call(|| p.clone().map_err(|e| e));
        let through_catch = call(|| p.clone().catch(Err::<i32, Shared>));
        s.go();
        let reasons = [
            before.await.unwrap_err(),
            through_catch.await.unwrap_err(),
            p.clone().await.unwrap_err(),
            p.clone().await.unwrap_err(),
            call(|| p.clone().map_err(|e| e)).await.unwrap_err(),
            p.peek().unwrap().unwrap_err(),
        ];
        for got in reasons {
            assert!(Arc::ptr_eq(&got, &reason), "a different reason: {got}");
        }
        assert_eq!(attempts.take(), [r#"reject again: Err("another")"#]);
    });
}

// ---------------------------------------------------------------------------
// 2.2 The `then` method
// ---------------------------------------------------------------------------

/// 2.2.1.1: If `onFulfilled` is not a function, it must be ignored. Typed:
/// `catch` and `map_err` have no `onFulfilled`; a fulfillment passes them
/// untouched and their handler never runs.
#[test]
fn a2_2_1_1_without_on_fulfilled_a_fulfillment_passes_through() {
    each_case(async |case| {
        let log = Log::default();
        let mut s = Schedule::new(case);
        let p = s.settle::<i32, String>(Ok(3));
        let l = log.clone();
        let caught = call(|| {
            p.clone().catch(move |e| {
                l.push(format!("catch({e})"));
                Ok::<_, String>(0)
            })
        });
        let l = log.clone();
        let mapped = call(|| {
            p.clone().map_err(move |e: String| {
                l.push(format!("map_err({e})"));
                e.to_uppercase()
            })
        });
        let l = log.clone();
        let chained = call(|| {
            p.catch(Err::<i32, String>)
                .catch(Err::<i32, String>)
                .then(move |v| {
                    l.push(format!("then after two catches({v})"));
                    Ok::<_, String>(v)
                })
        });
        s.go();
        assert_eq!(caught.await, Ok(3));
        assert_eq!(mapped.await, Ok(3));
        assert_eq!(chained.await, Ok(3));
        quiesce().await;
        assert_eq!(log.take(), ["then after two catches(3)"]);
    });
}

/// 2.2.1.2: If `onRejected` is not a function, it must be ignored. Typed:
/// `then` and `map` have no `onRejected`; a rejection passes them
/// untouched and their handler never runs.
#[test]
fn a2_2_1_2_without_on_rejected_a_rejection_passes_through() {
    each_case(async |case| {
        let log = Log::default();
        let mut s = Schedule::new(case);
        let p = s.settle::<i32, String>(Err("no".into()));
        let l = log.clone();
        let then = call(|| {
            p.clone().then(move |v| {
                l.push(format!("then({v})"));
                Ok::<_, String>(v)
            })
        });
        let l = log.clone();
        let mapped = call(|| {
            p.clone().map(move |v| {
                l.push(format!("map({v})"));
                v
            })
        });
        let l = log.clone();
        let chained = call(|| {
            p.map(|v| v + 1).then(|v| Ok::<_, String>(v * 2)).catch(move |e| {
                l.push(format!("catch after two thens({e})"));
                Err::<i32, String>(e)
            })
        });
        s.go();
        assert_eq!(then.await, Err("no".into()));
        assert_eq!(mapped.await, Err("no".into()));
        assert_eq!(chained.await, Err("no".into()));
        quiesce().await;
        assert_eq!(log.take(), ["catch after two thens(no)"]);
    });
}

/// 2.2.2.1: If `onFulfilled` is a function, it must be called after the
/// promise is fulfilled, with the promise's value as its first argument.
#[test]
fn a2_2_2_1_on_fulfilled_called_after_fulfillment_with_value() {
    each_case(async |case| {
        let log = Log::default();
        let mut s = Schedule::new(case);
        let p = s.settle::<&'static str, String>(Ok("dummy"));
        let l = log.clone();
        let then = call(|| {
            p.clone().then(move |v| {
                l.push(format!("then({v})"));
                Ok::<_, String>(v.len())
            })
        });
        let (on_ok, on_err) = (log.clone(), log.clone());
        let both = call(|| {
            p.then_or_else(
                move |v| {
                    on_ok.push(format!("then_or_else onFulfilled({v})"));
                    Ok::<_, String>(1)
                },
                move |e| {
                    on_err.push(format!("then_or_else onRejected({e})"));
                    Ok(2)
                },
            )
        });
        s.go();
        assert_eq!(then.await, Ok(5));
        assert_eq!(both.await, Ok(1));
        assert_eq!(log.take(), ["then(dummy)", "then_or_else onFulfilled(dummy)"]);
    });
}

/// 2.2.2.2: `onFulfilled` must not be called before the promise is
/// fulfilled: when it runs the promise is settled and the clock is past the
/// settling; before that nothing has run; for a promise never fulfilled, it
/// never runs.
#[test]
fn a2_2_2_2_on_fulfilled_not_called_before_fulfillment() {
    each_case(async |case| {
        let log = Log::default();
        let settled_at = Arc::new(Mutex::new(None));
        let mut s = Schedule::new(case);
        let at = settled_at.clone();
        let p = s.with::<i32, String>(move |r| {
            *at.lock().unwrap() = Some(Instant::now());
            let _ = r.resolve(7);
        });
        let (l, p2) = (log.clone(), p.clone());
        let then = call(|| {
            p.clone().then(move |v| {
                l.push(format!("then({v}), settled: {}", p2.is_settled()));
                Ok::<_, String>(Instant::now())
            })
        });
        let (never, _keep) = Promise::<i32, String>::with_resolvers();
        let l = log.clone();
        let _never_then = call(|| {
            never.clone().then(move |v| {
                l.push(format!("never's then({v})"));
                Ok::<_, String>(v)
            })
        });
        s.go();
        if case.later() {
            sleep(STEP / 2).await;
            assert!(!p.is_settled());
            assert!(log.take().is_empty());
        }
        let ran_at = then.await.unwrap();
        assert!(ran_at >= settled_at.lock().unwrap().expect("settled"));
        quiesce().await;
        assert_eq!(log.take(), ["then(7), settled: true"]);
        assert!(!never.is_settled());
    });
}

/// 2.2.2.3: `onFulfilled` must not be called more than once, whatever else
/// the resolver tries and however many times the promise is awaited or
/// handled.
#[test]
fn a2_2_2_3_on_fulfilled_called_at_most_once() {
    each_case(async |case| {
        let log = Log::default();
        let mut s = Schedule::new(case);
        let p = s.with::<i32, String>(|r| {
            let _ = r.resolve(1);
            let _ = r.resolve(2);
            let _ = r.reject("no".into());
            let r = r.clone();
            after(5, move || {
                let _ = r.resolve(3);
                let _ = r.reject("late".into());
            });
        });
        let l = log.clone();
        let first = call(|| {
            p.clone().then(move |v| {
                l.push(format!("first({v})"));
                Ok::<_, String>(v)
            })
        });
        s.go();
        // Interleaved with the settling: attached after it began.
        let l = log.clone();
        let second = call(|| {
            p.clone().then(move |v| {
                l.push(format!("second({v})"));
                Ok::<_, String>(v)
            })
        });
        assert_eq!(first.clone().await, Ok(1));
        assert_eq!(first.await, Ok(1));
        assert_eq!(second.await, Ok(1));
        assert_eq!(p.clone().await, Ok(1));
        quiesce().await;
        assert_eq!(log.take(), ["first(1)", "second(1)"]);
    });
}

/// 2.2.3.1: If `onRejected` is a function, it must be called after the
/// promise is rejected, with the promise's reason as its first argument.
#[test]
fn a2_2_3_1_on_rejected_called_after_rejection_with_reason() {
    each_case(async |case| {
        let log = Log::default();
        let mut s = Schedule::new(case);
        let p = s.settle::<i32, String>(Err("dummy".into()));
        let l = log.clone();
        let caught = call(|| {
            p.clone().catch(move |e| {
                l.push(format!("catch({e})"));
                Ok::<_, String>(e.len() as i32)
            })
        });
        let (on_ok, on_err) = (log.clone(), log.clone());
        let both = call(|| {
            p.then_or_else(
                move |v| {
                    on_ok.push(format!("then_or_else onFulfilled({v})"));
                    Ok::<_, String>(1)
                },
                move |e| {
                    on_err.push(format!("then_or_else onRejected({e})"));
                    Ok(2)
                },
            )
        });
        s.go();
        assert_eq!(caught.await, Ok(5));
        assert_eq!(both.await, Ok(2));
        assert_eq!(log.take(), ["catch(dummy)", "then_or_else onRejected(dummy)"]);
    });
}

/// 2.2.3.2: `onRejected` must not be called before the promise is
/// rejected; for a promise never rejected, it never runs.
#[test]
fn a2_2_3_2_on_rejected_not_called_before_rejection() {
    each_case(async |case| {
        let log = Log::default();
        let settled_at = Arc::new(Mutex::new(None));
        let mut s = Schedule::new(case);
        let at = settled_at.clone();
        let p = s.with::<i32, String>(move |r| {
            *at.lock().unwrap() = Some(Instant::now());
            let _ = r.reject("no".into());
        });
        let (l, p2) = (log.clone(), p.clone());
        let caught = call(|| {
            p.clone().then_or_else(
                |_| Ok::<_, String>(None),
                move |e| {
                    l.push(format!("onRejected({e}), settled: {}", p2.is_settled()));
                    Ok(Some(Instant::now()))
                },
            )
        });
        let (never, _keep) = Promise::<i32, String>::with_resolvers();
        let l = log.clone();
        let _never_caught = call(|| {
            never.clone().catch(move |e| {
                l.push(format!("never's catch({e})"));
                Ok::<_, String>(0)
            })
        });
        s.go();
        if case.later() {
            sleep(STEP / 2).await;
            assert!(!p.is_settled());
            assert!(log.take().is_empty());
        }
        let ran_at = caught.await.unwrap().expect("onRejected ran");
        assert!(ran_at >= settled_at.lock().unwrap().expect("settled"));
        quiesce().await;
        assert_eq!(log.take(), ["onRejected(no), settled: true"]);
        assert!(!never.is_settled());
    });
}

/// 2.2.3.3: `onRejected` must not be called more than once.
#[test]
fn a2_2_3_3_on_rejected_called_at_most_once() {
    each_case(async |case| {
        let log = Log::default();
        let mut s = Schedule::new(case);
        let p = s.with::<i32, String>(|r| {
            let _ = r.reject("no".into());
            let _ = r.reject("again".into());
            let _ = r.resolve(1);
            let r = r.clone();
            after(5, move || {
                let _ = r.reject("late".into());
                let _ = r.resolve(3);
            });
        });
        let l = log.clone();
        let first = call(|| {
            p.clone().catch(move |e| {
                l.push(format!("first({e})"));
                Ok::<_, String>(1)
            })
        });
        s.go();
        let l = log.clone();
        let second = call(|| {
            p.clone().catch(move |e| {
                l.push(format!("second({e})"));
                Ok::<_, String>(2)
            })
        });
        assert_eq!(first.clone().await, Ok(1));
        assert_eq!(first.await, Ok(1));
        assert_eq!(second.await, Ok(2));
        assert_eq!(p.clone().await, Err("no".into()));
        quiesce().await;
        assert_eq!(log.take(), ["first(no)", "second(no)"]);
    });
}

/// 2.2.4: `onFulfilled` or `onRejected` must not be called until the
/// execution context stack contains only platform code: never inside the
/// `then` that attached it (even on an already settled promise), never
/// inside the `resolve` that settled it, and a handler attached inside
/// another handler runs only after that one has returned.
#[test]
fn a2_2_4_handlers_run_only_on_a_clean_stack() {
    each_case(async |case| {
        let log = Log::default();
        let mut s = Schedule::new(case);
        let l = log.clone();
        let p = s.with::<i32, String>(move |r| {
            let _ = r.resolve(1);
            l.note("resolve returned");
        });
        let rejected = Promise::<i32, String>::reject("no".into());
        let (l, p2) = (log.clone(), p.clone());
        let outer = call(|| {
            p.then(move |v| {
                l.push(format!("outer start({v})"));
                let l2 = l.clone();
                let nested = p2.then(move |v| {
                    l2.push(format!("nested onFulfilled({v})"));
                    Ok::<_, String>(())
                });
                let l3 = l.clone();
                let nested_rejection = rejected.catch(move |e| {
                    l3.push(format!("nested onRejected({e})"));
                    Ok::<_, String>(0)
                });
                l.push("outer end");
                nested.then(move |()| nested_rejection)
            })
        });
        let mut seen = Vec::new();
        if case.flavour == Flavour::CurrentThread {
            // `then` has returned; on one thread nothing else can have run.
            seen = log.take();
            let expected: &[&str] = match case.timing {
                Timing::Already => &["resolve returned"],
                _ => &[],
            };
            assert_eq!(seen, expected);
        }
        s.go();
        assert_eq!(outer.await, Ok(0));
        seen.extend(log.take());
        let handlers: Vec<_> = seen.iter().filter(|e| *e != "resolve returned").collect();
        assert_eq!(
            handlers,
            [
                "outer start(1)",
                "outer end",
                "nested onFulfilled(1)",
                "nested onRejected(no)"
            ]
        );
        assert_eq!(seen.iter().filter(|e| *e == "resolve returned").count(), 1);
        if case.settling_is_ordered() {
            assert_eq!(seen[0], "resolve returned");
        }
    });
}

/// 2.2.6.1: `then` may be called multiple times on the same promise; when
/// it is fulfilled, all respective `onFulfilled` callbacks must execute in
/// the order of their originating calls to `then` — whatever kind of
/// handler, even when one of them throws (panics), each branch with its own
/// value, and one attached inside another handler or after settlement runs
/// after those attached before it.
#[test]
fn a2_2_6_1_on_fulfilled_handlers_run_in_then_order() {
    each_case(async |case| {
        let log = Log::default();
        let mut s = Schedule::new(case);
        let p = s.settle::<i32, String>(Ok(10));
        let note = |name: &'static str| {
            let l = log.clone();
            move |v: i32| l.push(format!("{name}({v})"))
        };
        // On two workers `first` may run while this thread still attaches
        // the others: it waits at the gate until they are all attached, so
        // that what it attaches really comes after them.
        let gate = Arc::new(Mutex::new(()));
        let attaching = gate.lock().unwrap();
        let (first_note, added, p2, gate) =
            (note("first"), note("added inside first"), p.clone(), gate.clone());
        let first = call(|| {
            p.clone().then(move |v| {
                drop(lock_in_handler(&gate));
                first_note(v);
                drop(p2.map(added));
                Ok::<_, String>(v + 1)
            })
        });
        let second_note = note("second");
        let second = call(|| {
            p.clone().then(move |v| -> Result<i32, String> {
                second_note(v);
                panic!("boom")
            })
        });
        let third_note = note("third");
        let third = call(|| {
            p.clone().map(move |v| {
                third_note(v);
                v * 3
            })
        });
        let fourth_note = note("fourth");
        let fourth = call(|| {
            p.clone().then_or_else(
                move |v| {
                    fourth_note(v);
                    Ok::<_, String>(v + 4)
                },
                Err,
            )
        });
        let l = log.clone();
        call(|| {
            p.clone()
                .on_settled(move |outcome| l.push(format!("fifth({outcome:?})")))
        });
        drop(attaching);
        s.go();
        assert_eq!(first.await, Ok(11));
        assert_eq!(second.await, Err(panicked("boom")));
        assert_eq!(third.await, Ok(30));
        assert_eq!(fourth.await, Ok(14));
        quiesce().await;
        assert_eq!(
            log.take(),
            [
                "first(10)",
                "second(10)",
                "third(10)",
                "fourth(10)",
                "fifth(Ok(10))",
                "added inside first(10)"
            ]
        );
        let late = call(|| p.clone().map(note("attached after settlement")));
        let later = call(|| p.map(note("attached after that")));
        assert_eq!(late.await, Ok(()));
        assert_eq!(later.await, Ok(()));
        assert_eq!(
            log.take(),
            ["attached after settlement(10)", "attached after that(10)"]
        );
    });
}

/// 2.2.6.2: When the promise is rejected, all respective `onRejected`
/// callbacks must execute in the order of their originating calls to
/// `then`, with the same guarantees as 2.2.6.1.
#[test]
fn a2_2_6_2_on_rejected_handlers_run_in_then_order() {
    each_case(async |case| {
        let log = Log::default();
        let mut s = Schedule::new(case);
        let p = s.settle::<i32, String>(Err("no".into()));
        let note = |name: &'static str| {
            let l = log.clone();
            move |e: String| {
                l.push(format!("{name}({e})"));
                e
            }
        };
        // On two workers `first` may run while this thread still attaches
        // the others: it waits at the gate until they are all attached, so
        // that what it attaches really comes after them.
        let gate = Arc::new(Mutex::new(()));
        let attaching = gate.lock().unwrap();
        let (first_note, added, p2, gate) =
            (note("first"), note("added inside first"), p.clone(), gate.clone());
        let first = call(|| {
            p.clone().catch(move |e| {
                drop(lock_in_handler(&gate));
                drop(first_note(e));
                drop(p2.map_err(added));
                Ok::<_, String>(1)
            })
        });
        let second_note = note("second");
        let second = call(|| {
            p.clone().catch(move |e| -> Result<i32, String> {
                drop(second_note(e));
                panic!("boom")
            })
        });
        let third_note = note("third");
        let third = call(|| {
            p.clone().map_err(move |e| {
                let e = third_note(e);
                format!("{e}!")
            })
        });
        let fourth_note = note("fourth");
        let fourth = call(|| {
            p.clone().then_or_else(Ok::<_, String>, move |e| {
                drop(fourth_note(e));
                Ok(4)
            })
        });
        let l = log.clone();
        call(|| {
            p.clone()
                .on_settled(move |outcome| l.push(format!("fifth({outcome:?})")))
        });
        drop(attaching);
        s.go();
        assert_eq!(first.await, Ok(1));
        assert_eq!(second.await, Err(panicked("boom")));
        assert_eq!(third.await, Err("no!".into()));
        assert_eq!(fourth.await, Ok(4));
        quiesce().await;
        assert_eq!(
            log.take(),
            [
                "first(no)",
                "second(no)",
                "third(no)",
                "fourth(no)",
                r#"fifth(Err("no"))"#,
                "added inside first(no)"
            ]
        );
        let late = call(|| p.clone().map_err(note("attached after settlement")));
        let later = call(|| p.map_err(note("attached after that")));
        assert_eq!(late.await, Err("no".into()));
        assert_eq!(later.await, Err("no".into()));
        assert_eq!(
            log.take(),
            ["attached after settlement(no)", "attached after that(no)"]
        );
    });
}

/// 2.2.7: `then` must return a promise. The signatures say so; here: a new
/// one, distinct from the original, for every kind of handler.
#[test]
fn a2_2_7_then_returns_a_new_promise() {
    each_case(async |case| {
        let mut s = Schedule::new(case);
        let p = s.settle::<i32, String>(Ok(1));
        let derived = call(|| {
            [
                p.clone().then(Ok::<_, String>),
                p.clone().map(|v| v),
                p.clone().catch(Err::<i32, String>),
                p.clone().map_err(|e| e),
                p.clone().then_or_else(Ok::<_, String>, Err),
                p.clone().finally(|| ()),
            ]
        });
        s.go();
        for (i, d) in derived.iter().enumerate() {
            assert!(!d.ptr_eq(&p), "handler {i} returned the original");
            for other in &derived[i + 1..] {
                assert!(!d.ptr_eq(other));
            }
        }
        for d in derived {
            assert_eq!(d.await, Ok(1));
        }
    });
}

/// 2.2.7.1: If either `onFulfilled` or `onRejected` returns a value `x`,
/// run the Promise Resolution Procedure `[[Resolve]](promise2, x)`: a value
/// fulfills `promise2` (from `onRejected` too: it recovers), a promise or
/// thenable is adopted.
#[test]
fn a2_2_7_1_a_handler_value_resolves_promise2() {
    each_case(async |case| {
        let mut s = Schedule::new(case);
        let ok = s.settle::<i32, String>(Ok(2));
        let err = s.settle::<i32, String>(Err("no".into()));
        let value = call(|| ok.clone().then(|v| Ok::<_, String>(v * 10)));
        let other_type = call(|| ok.clone().map(|v| format!("{v}!")));
        let promise = call(|| {
            ok.clone().then(|v| {
                Promise::<i32, String>::new(move |r| {
                    after(5, move || {
                        let _ = r.resolve(v + 1);
                    })
                })
            })
        });
        let thenable = call(|| {
            ok.then(|v| {
                Then(move |r: Resolver<i32, String>| {
                    let _ = r.resolve(v + 2);
                })
            })
        });
        let recovered = call(|| err.clone().catch(|e| Ok::<_, String>(e.len() as i32)));
        let recovered_by_then = call(|| {
            err.clone()
                .then_or_else(Ok::<_, String>, |e| Ok(e.len() as i32 + 1))
        });
        let recovered_by_promise = call(|| err.catch(|_| Promise::<i32, String>::resolve(7)));
        s.go();
        assert_eq!(value.await, Ok(20));
        assert_eq!(other_type.await.as_deref(), Ok("2!"));
        assert_eq!(promise.await, Ok(3));
        assert_eq!(thenable.await, Ok(4));
        assert_eq!(recovered.await, Ok(2));
        assert_eq!(recovered_by_then.await, Ok(3));
        assert_eq!(recovered_by_promise.await, Ok(7));
    });
}

/// 2.2.7.2: If either `onFulfilled` or `onRejected` throws an exception
/// `e`, `promise2` must be rejected with `e` as the reason. Typed: a
/// handler returning `Err(e)` rejects with `e`; one that panics rejects
/// with `PromiseError::Panicked`; a panic in `onFulfilled` does not reach
/// `onRejected`.
#[test]
fn a2_2_7_2_a_handler_failure_rejects_promise2() {
    each_case(async |case| {
        let log = Log::default();
        let mut s = Schedule::new(case);
        let ok = s.settle::<i32, String>(Ok(2));
        let err = s.settle::<i32, String>(Err("no".into()));
        let returned_err = call(|| ok.clone().then(|_| Err::<i32, String>("thrown".into())));
        let rethrown = call(|| err.clone().catch(|e| Err::<i32, String>(format!("{e} again"))));
        let panicked_then = call(|| ok.clone().then(|_| -> Result<i32, String> { panic!("in then") }));
        let panicked_catch = call(|| {
            err.clone()
                .catch(|_| -> Result<i32, String> { panic!("in catch") })
        });
        let panicked_map = call(|| ok.clone().map(|_| -> i32 { panic!("in map") }));
        let panicked_map_err = call(|| err.clone().map_err(|_| -> String { panic!("in map_err") }));
        let l = log.clone();
        let not_passed_on = call(|| {
            ok.then_or_else(
                |_| -> Result<i32, String> { panic!("in onFulfilled") },
                move |e| {
                    l.push(format!("onRejected({e})"));
                    Ok(0)
                },
            )
        });
        let thrown_in_on_rejected =
            call(|| err.then_or_else(Ok::<_, String>, |e| Err(format!("{e}, then thrown"))));
        s.go();
        assert_eq!(returned_err.await, Err("thrown".into()));
        assert_eq!(rethrown.await, Err("no again".into()));
        assert_eq!(panicked_then.await, Err(panicked("in then")));
        assert_eq!(panicked_catch.await, Err(panicked("in catch")));
        assert_eq!(panicked_map.await, Err(panicked("in map")));
        assert_eq!(panicked_map_err.await, Err(panicked("in map_err")));
        assert_eq!(not_passed_on.await, Err(panicked("in onFulfilled")));
        assert_eq!(thrown_in_on_rejected.await, Err("no, then thrown".into()));
        quiesce().await;
        assert!(log.take().is_empty());
    });
}

// ANCHOR: a2-2-7-3
/// 2.2.7.3: If `onFulfilled` is not a function and `promise1` is
/// fulfilled, `promise2` must be fulfilled with the same value (the same
/// `Arc`): `catch` and `map_err`, however many.
#[test]
fn a2_2_7_3_without_on_fulfilled_promise2_takes_the_same_value() {
    each_case(async |case| {
        let value = Arc::new("value");
        let mut s = Schedule::new(case);
        let p = s.settle::<Arc<&str>, String>(Ok(value.clone()));
        let derived = call(|| {
            [
                p.clone().catch(Err::<Arc<&str>, String>),
                p.clone().map_err(|e| e),
                p.catch(|_| Ok::<_, String>(Arc::new("other")))
                    .map_err(|e| e)
                    .catch(Err::<Arc<&str>, String>),
            ]
        });
        s.go();
        for d in derived {
            assert!(Arc::ptr_eq(&d.await.unwrap(), &value));
        }
    });
}
// ANCHOR_END: a2-2-7-3

/// 2.2.7.4: If `onRejected` is not a function and `promise1` is rejected,
/// `promise2` must be rejected with the same reason (the same `Arc`):
/// `then` and `map`, however many.
#[test]
fn a2_2_7_4_without_on_rejected_promise2_takes_the_same_reason() {
    each_case(async |case| {
        let log = Log::default();
        let reason = shared("reason");
        let mut s = Schedule::new(case);
        let p = s.settle::<i32, Shared>(Err(reason.clone()));
        let l = log.clone();
        let derived = call(|| {
            [
                p.clone().then(move |v| {
                    l.push(format!("then({v})"));
                    Ok::<_, Shared>(v)
                }),
                p.clone().map(|v| v),
                p.map(|v| v + 1).then(Ok::<_, Shared>).map(|v| v * 2),
            ]
        });
        s.go();
        for d in derived {
            assert!(Arc::ptr_eq(&d.await.unwrap_err(), &reason));
        }
        quiesce().await;
        assert!(log.take().is_empty());
    });
}

// ---------------------------------------------------------------------------
// 2.3 The Promise Resolution Procedure
// ---------------------------------------------------------------------------

/// 2.3.1: If `promise` and `x` refer to the same object, reject `promise`
/// with a `TypeError` (here `PromiseError::Cycle`): a handler returning its
/// own `promise2`, a resolver adopting its own promise, a thenable resolving
/// with the promise that adopts it, and two promises adopting each other.
#[test]
fn a2_3_1_resolving_a_promise_with_itself_rejects_with_a_cycle_error() {
    each_case(async |case| {
        let cycle = Err(machinery(PromiseError::Cycle));
        let attempts = Log::default();
        let mut s = Schedule::new(case);
        let p = s.settle::<i32, String>(Ok(1));

        // The handler takes `promise2` from the slot; the slot's lock is
        // held until it is there, so a handler already running on another
        // worker waits for it.
        let slot = Arc::new(Mutex::new(None::<Promise<i32, String>>));
        let own = slot.clone();
        let returns_itself = {
            let mut guard = slot.lock().unwrap();
            let promise2 = call(|| {
                p.clone()
                    .then(move |_| lock_in_handler(&own).take().expect("promise2 is in the slot"))
            });
            *guard = Some(promise2.clone());
            promise2
        };

        let slot = Arc::new(Mutex::new(None::<Promise<i32, String>>));
        let own = slot.clone();
        let thenable_resolves_with_it = {
            let mut guard = slot.lock().unwrap();
            let promise2 = call(|| {
                p.then(move |_| {
                    Then(move |r: Resolver<i32, String>| {
                        let me = lock_in_handler(&own).take().expect("promise2 is in the slot");
                        let _ = r.adopt(me);
                    })
                })
            });
            *guard = Some(promise2.clone());
            promise2
        };

        let (adopts_itself, r) = Promise::<i32, String>::with_resolvers();
        let (me, a) = (adopts_itself.clone(), attempts.clone());
        s.run(move || a.note(format!("adopting itself: {:?}", r.adopt(me).is_ok())));

        let (first, first_resolver) = Promise::<i32, String>::with_resolvers();
        let (second, second_resolver) = Promise::<i32, String>::with_resolvers();
        let (first2, second2) = (first.clone(), second.clone());
        s.run(move || {
            let _ = first_resolver.adopt(second2);
            let _ = second_resolver.adopt(first2);
        });
        s.go();
        assert_eq!(returns_itself.await, cycle);
        assert_eq!(thenable_resolves_with_it.await, cycle);
        assert_eq!(adopts_itself.await, cycle);
        assert_eq!(first.await, cycle);
        assert_eq!(second.await, cycle);
        assert_eq!(attempts.take(), ["adopting itself: true"]);
    });
}

/// 2.3.2.1: If `x` is a promise and pending, `promise` must remain pending
/// until `x` is fulfilled or rejected.
#[test]
fn a2_3_2_1_adopting_a_pending_promise_stays_pending_until_it_settles() {
    each_case(async |case| {
        let log = Log::default();
        let mut s = Schedule::new(case);
        let p = s.settle::<i32, String>(Ok(1));
        // `x` made inside the handler, fulfilled 100 ms after it.
        let l = log.clone();
        let promise2 = call(|| {
            p.clone().then(move |v| {
                Promise::new(move |r| {
                    after(100, move || {
                        l.push("x fulfilled");
                        let _ = r.resolve(v + 1);
                    })
                })
            })
        });
        // `x` made outside, rejected 150 ms from now.
        let (x, rx) = Promise::<i32, String>::with_resolvers();
        let l = log.clone();
        after(150, move || {
            l.push("y rejected");
            let _ = rx.reject("late".into());
        });
        let promise3 = call(|| p.then(move |_| x));
        let l = log.clone();
        call(|| {
            promise2
                .clone()
                .on_settled(move |o| l.push(format!("promise2 {o:?}")))
        });
        let l = log.clone();
        call(|| {
            promise3
                .clone()
                .on_settled(move |o| l.push(format!("promise3 {o:?}")))
        });
        s.go();
        sleep(Duration::from_millis(60)).await;
        assert!(!promise2.is_settled());
        assert!(!promise3.is_settled());
        assert!(log.take().is_empty());
        assert_eq!(promise2.clone().await, Ok(2));
        assert_eq!(promise3.clone().await, Err("late".into()));
        quiesce().await;
        assert_eq!(
            log.take(),
            [
                "x fulfilled",
                "promise2 Ok(2)",
                "y rejected",
                r#"promise3 Err("late")"#
            ]
        );
    });
}

/// 2.3.2.2: If/when `x` is fulfilled, fulfill `promise` with the same value
/// (the same `Arc`): `x` already fulfilled, fulfilled within the handler,
/// or fulfilled later.
#[test]
fn a2_3_2_2_adopting_a_fulfilled_promise_takes_its_value() {
    each_case(async |case| {
        let value = Arc::new(9);
        let mut s = Schedule::new(case);
        let p = s.settle::<i32, String>(Ok(1));
        let v = value.clone();
        let already = call(|| p.clone().then(move |_| Promise::<_, String>::resolve(v)));
        let v = value.clone();
        let at_once = call(|| {
            p.clone().then(move |_| {
                Promise::<_, String>::new(move |r| {
                    let _ = r.resolve(v);
                })
            })
        });
        let (x, rx) = Promise::<Arc<i32>, String>::with_resolvers();
        let v = value.clone();
        after(100, move || {
            let _ = rx.resolve(v);
        });
        let later = call(|| p.then(move |_| x));
        s.go();
        for promise in [already, at_once, later] {
            assert!(Arc::ptr_eq(&promise.await.unwrap(), &value));
        }
    });
}

/// 2.3.2.3: If/when `x` is rejected, reject `promise` with the same reason
/// (the same `Arc`).
#[test]
fn a2_3_2_3_adopting_a_rejected_promise_takes_its_reason() {
    each_case(async |case| {
        let reason = shared("x's reason");
        let mut s = Schedule::new(case);
        let p = s.settle::<i32, Shared>(Ok(1));
        let why = reason.clone();
        let already = call(|| p.clone().then(move |_| Promise::<i32, _>::reject(why)));
        let why = reason.clone();
        let at_once = call(|| {
            p.clone().then(move |_| {
                Promise::<i32, Shared>::new(move |r| {
                    let _ = r.reject(why);
                })
            })
        });
        let (x, rx) = Promise::<i32, Shared>::with_resolvers();
        let why = reason.clone();
        after(100, move || {
            let _ = rx.reject(why);
        });
        let later = call(|| p.then(move |_| x));
        s.go();
        for promise in [already, at_once, later] {
            assert!(Arc::ptr_eq(&promise.await.unwrap_err(), &reason));
        }
    });
}

/// 2.3.3.1: Let `then` be `x.then` — retrieved once. Typed: `call_then`
/// takes the thenable by value, and runs exactly once however many handlers
/// and awaiters the adopting promise has.
#[test]
fn a2_3_3_1_the_thenables_then_is_taken_exactly_once() {
    each_case(async |case| {
        let calls = Arc::new(AtomicUsize::new(0));
        let mut s = Schedule::new(case);
        let p = s.settle::<i32, String>(Ok(1));
        let c = calls.clone();
        let promise2 = call(|| {
            p.then(move |v| {
                Then(move |r: Resolver<i32, String>| {
                    c.fetch_add(1, Ordering::SeqCst);
                    after(5, move || {
                        let _ = r.resolve(v + 1);
                    });
                })
            })
        });
        let handlers = call(|| {
            [
                promise2.clone().map(|v| v),
                promise2.clone().map(|v| v * 2),
                promise2.clone().map(|v| v * 3),
            ]
        });
        let (adopter, r) = Promise::<i32, String>::with_resolvers();
        let c = calls.clone();
        let adopted = r.adopt(Then(move |r: Resolver<i32, String>| {
            c.fetch_add(1, Ordering::SeqCst);
            let _ = r.resolve(10);
        }));
        assert!(adopted.is_ok());
        s.go();
        assert_eq!(promise2.clone().await, Ok(2));
        assert_eq!(promise2.await, Ok(2));
        let [a, b, c] = handlers;
        assert_eq!((a.await, b.await, c.await), (Ok(2), Ok(4), Ok(6)));
        assert_eq!(adopter.clone().await, Ok(10));
        assert_eq!(adopter.await, Ok(10));
        quiesce().await;
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    });
}

/// 2.3.3.3: If `then` is a function, call it with `resolvePromise` and
/// `rejectPromise`: `call_then` gets a resolver for the adopting promise, in
/// a job of its own (never inside the adopting call, nor inside the
/// handler that returned the thenable). If it calls neither: a thenable
/// that keeps its resolver leaves the promise pending, as in JavaScript;
/// one that drops it rejects the promise with `Abandoned` instead of
/// leaving it pending forever (a difference from JavaScript).
#[test]
fn a2_3_3_3_the_thenable_is_called_with_a_resolver_in_a_job() {
    each_case(async |case| {
        let log = Log::default();
        let mut s = Schedule::new(case);
        let p = s.settle::<i32, String>(Ok(1));
        let l = log.clone();
        let returned = call(|| {
            p.clone().then(move |v| {
                l.push("handler start");
                let l2 = l.clone();
                let x = Then(move |r: Resolver<i32, String>| {
                    l2.push("call_then");
                    let _ = r.resolve(v + 1);
                });
                l.push("handler end");
                x
            })
        });
        // Adopted from this code, now: `call_then` runs later.
        let (adopter, r) = Promise::<i32, String>::with_resolvers();
        let l = log.clone();
        let adopted = call(|| {
            r.adopt(Then(move |r: Resolver<i32, String>| {
                l.push("call_then from adopt");
                let _ = r.resolve(10);
            }))
        });
        assert!(adopted.is_ok());
        let dropped = call(|| p.clone().then(|_| Then(drop::<Resolver<i32, String>>)));
        let kept = Arc::new(Mutex::new(None));
        let keep = kept.clone();
        let keeps =
            call(|| p.then(move |_| Then(move |r: Resolver<i32, String>| *keep.lock().unwrap() = Some(r))));
        s.go();
        assert_eq!(returned.await, Ok(2));
        assert_eq!(adopter.await, Ok(10));
        assert_eq!(dropped.await, Err(machinery(PromiseError::Abandoned)));
        quiesce().await;
        let mut events = log.take();
        events.retain(|e| e != "call_then from adopt");
        assert_eq!(events, ["handler start", "handler end", "call_then"]);
        // Kept uncalled: pending, however long; dropped at last: abandoned.
        assert!(!keeps.is_settled());
        assert!(kept.lock().unwrap().is_some());
        drop(kept.lock().unwrap().take());
        assert_eq!(keeps.await, Err(machinery(PromiseError::Abandoned)));
    });
}

/// 2.3.3.3.1: If/when `resolvePromise` is called with a value `y`, run
/// `[[Resolve]](promise, y)`: a plain value fulfills (`resolve`); a
/// promise, a `Result` or another thenable (`adopt`) is resolved in turn,
/// at any depth, settled at once or later.
#[test]
fn a2_3_3_3_1_resolve_promise_with_y_resolves_with_y() {
    each_case(async |case| {
        let mut s = Schedule::new(case);
        let p = s.settle::<i32, String>(Ok(1));
        let later = |v: Result<i32, String>| {
            Promise::new(move |r| {
                after(5, move || {
                    let _ = r.settle(v);
                })
            })
        };
        let cases: Vec<(&str, Th, Result<i32, String>)> = vec![
            (
                "resolve(y) at once",
                th(|r| {
                    let _ = r.resolve(2);
                }),
                Ok(2),
            ),
            (
                "resolve(y) later",
                th(|r| {
                    after(5, move || {
                        let _ = r.resolve(3);
                    })
                }),
                Ok(3),
            ),
            (
                "resolve(y) from another thread",
                th(|r| {
                    // Joined: a runtime idle while a foreign thread works
                    // would let the paused clock jump.
                    let thread = std::thread::spawn(move || {
                        let _ = r.resolve(4);
                    });
                    thread.join().unwrap();
                }),
                Ok(4),
            ),
            (
                "y a fulfilled promise",
                th(|r| {
                    let _ = r.adopt(Promise::resolve(5));
                }),
                Ok(5),
            ),
            (
                "y a rejected promise",
                th(|r| {
                    let _ = r.adopt(Promise::reject("y".into()));
                }),
                Err("y".into()),
            ),
            (
                "y a promise fulfilled later",
                th(move |r| {
                    let _ = r.adopt(later(Ok(6)));
                }),
                Ok(6),
            ),
            (
                "y a promise rejected later",
                th(move |r| {
                    let _ = r.adopt(later(Err("y later".into())));
                }),
                Err("y later".into()),
            ),
            (
                "y a Result",
                th(|r| {
                    let _ = r.adopt(Ok::<i32, String>(7));
                }),
                Ok(7),
            ),
            (
                "y a thenable fulfilling at once",
                th(|r| {
                    let _ = r.adopt(th(|r| {
                        let _ = r.resolve(8);
                    }));
                }),
                Ok(8),
            ),
            (
                "y a thenable rejecting later",
                th(|r| {
                    let _ = r.adopt(th(|r| {
                        after(5, move || {
                            let _ = r.reject("thenable later".into());
                        })
                    }));
                }),
                Err("thenable later".into()),
            ),
            (
                "y a thenable for a thenable for a promise fulfilled later",
                th(move |r| {
                    let _ = r.adopt(th(move |r| {
                        let _ = r.adopt(th(move |r| {
                            let _ = r.adopt(later(Ok(9)));
                        }));
                    }));
                }),
                Ok(9),
            ),
            (
                "y a thenable that panics",
                th(|r| {
                    let _ = r.adopt(th(|_| panic!("inner thenable")));
                }),
                Err(panicked("inner thenable")),
            ),
        ];
        let promises: Vec<_> = cases
            .into_iter()
            .map(|(name, x, expected)| (name, call(|| p.clone().then(move |_| x)), expected))
            .collect();
        s.go();
        for (name, promise2, expected) in promises {
            assert_eq!(promise2.await, expected, "{name}");
        }
    });
}

/// 2.3.3.3.2: If/when `rejectPromise` is called with a reason `r`, reject
/// `promise` with `r` — at once, later, through a clone of the resolver,
/// from another thread. (A reason is never resolved further: `reject`
/// takes an `E`, not a thenable.)
#[test]
fn a2_3_3_3_2_reject_promise_with_r_rejects_with_r() {
    each_case(async |case| {
        let mut s = Schedule::new(case);
        let p = s.settle::<i32, String>(Ok(1));
        let cases: Vec<(&str, Th, Result<i32, String>)> = vec![
            (
                "at once",
                th(|r| {
                    let _ = r.reject("r1".into());
                }),
                Err("r1".into()),
            ),
            (
                "later",
                th(|r| {
                    after(5, move || {
                        let _ = r.reject("r2".into());
                    })
                }),
                Err("r2".into()),
            ),
            (
                "through a clone",
                th(|r| {
                    let clone = r.clone();
                    drop(r);
                    after(5, move || {
                        let _ = clone.reject("r3".into());
                    })
                }),
                Err("r3".into()),
            ),
            (
                "from another thread",
                th(|r| {
                    let thread = std::thread::spawn(move || {
                        let _ = r.reject("r4".into());
                    });
                    thread.join().unwrap();
                }),
                Err("r4".into()),
            ),
        ];
        let promises: Vec<_> = cases
            .into_iter()
            .map(|(name, x, expected)| (name, call(|| p.clone().then(move |_| x)), expected))
            .collect();
        s.go();
        for (name, promise2, expected) in promises {
            assert_eq!(promise2.await, expected, "{name}");
        }
    });
}

/// 2.3.3.3.3: If both `resolvePromise` and `rejectPromise` are called, or
/// multiple calls to the same argument are made, the first call takes
/// precedence and further calls are ignored (each refused with
/// `AlreadyResolved`) — even when the first is an adoption still pending.
#[test]
fn a2_3_3_3_3_the_first_call_wins_the_rest_are_ignored() {
    each_case(async |case| {
        let refused = Log::default();
        let mut s = Schedule::new(case);
        let p = s.settle::<i32, String>(Ok(1));
        let note = |name: &'static str| {
            let l = refused.clone();
            move |what: String| l.note(format!("{name}: {what}"))
        };
        let n = note("resolve, reject");
        let n2 = note("reject, resolve");
        let n3 = note("resolve twice");
        let n4 = note("reject twice");
        let n5 = note("resolve, reject later");
        let n6 = note("reject, resolve later");
        let n7 = note("adopt pending, resolve");
        let n8 = note("clone resolves, original rejects");
        let cases: Vec<(&str, Th, Result<i32, String>)> = vec![
            (
                "resolve, reject",
                th(move |r| {
                    let _ = r.resolve(2);
                    n(format!("{:?}", r.reject("no".into()).map_err(|e| e.0)));
                }),
                Ok(2),
            ),
            (
                "reject, resolve",
                th(move |r| {
                    let _ = r.reject("no".into());
                    n2(format!("{:?}", r.resolve(2).map_err(|e| e.0)));
                }),
                Err("no".into()),
            ),
            (
                "resolve twice",
                th(move |r| {
                    let _ = r.resolve(3);
                    n3(format!("{:?}", r.resolve(4).map_err(|e| e.0)));
                }),
                Ok(3),
            ),
            (
                "reject twice",
                th(move |r| {
                    let _ = r.reject("first".into());
                    n4(format!("{:?}", r.reject("second".into()).map_err(|e| e.0)));
                }),
                Err("first".into()),
            ),
            (
                "resolve, reject later",
                th(move |r| {
                    let _ = r.resolve(5);
                    after(5, move || {
                        n5(format!("{:?}", r.reject("late".into()).map_err(|e| e.0)))
                    });
                }),
                Ok(5),
            ),
            (
                "reject, resolve later",
                th(move |r| {
                    let _ = r.reject("early".into());
                    after(5, move || n6(format!("{:?}", r.resolve(6).map_err(|e| e.0))));
                }),
                Err("early".into()),
            ),
            (
                "adopt pending, resolve",
                th(move |r| {
                    let pending = Promise::<i32, String>::new(|ry| {
                        after(20, move || {
                            let _ = ry.reject("adopted".into());
                        })
                    });
                    let _ = r.adopt(pending);
                    n7(format!("{:?}", r.resolve(7).map_err(|e| e.0)));
                }),
                Err("adopted".into()),
            ),
            (
                "clone resolves, original rejects",
                th(move |r| {
                    let _ = r.clone().resolve(8);
                    n8(format!("{:?}", r.reject("no".into()).map_err(|e| e.0)));
                }),
                Ok(8),
            ),
        ];
        let promises: Vec<_> = cases
            .into_iter()
            .map(|(name, x, expected)| (name, call(|| p.clone().then(move |_| x)), expected))
            .collect();
        s.go();
        for (name, promise2, expected) in promises {
            assert_eq!(promise2.await, expected, "{name}");
        }
        quiesce().await;
        let mut refused = refused.take();
        refused.sort();
        assert_eq!(
            refused,
            [
                r#"adopt pending, resolve: Err(7)"#,
                r#"clone resolves, original rejects: Err("no")"#,
                r#"reject twice: Err("second")"#,
                r#"reject, resolve later: Err(6)"#,
                r#"reject, resolve: Err(2)"#,
                r#"resolve twice: Err(4)"#,
                r#"resolve, reject later: Err("late")"#,
                r#"resolve, reject: Err("no")"#,
            ]
        );
    });
}

/// 2.3.3.3.4.1: If calling `then` throws an exception `e` and
/// `resolvePromise` or `rejectPromise` have been called, ignore it: a panic
/// after the first call leaves its outcome standing.
#[test]
fn a2_3_3_3_4_1_a_panic_after_the_first_call_is_ignored() {
    each_case(async |case| {
        let mut s = Schedule::new(case);
        let p = s.settle::<i32, String>(Ok(1));
        let cases: Vec<(&str, Th, Result<i32, String>)> = vec![
            (
                "after resolve",
                th(|r| {
                    let _ = r.resolve(2);
                    panic!("after resolve");
                }),
                Ok(2),
            ),
            (
                "after reject",
                th(|r| {
                    let _ = r.reject("rejected".into());
                    panic!("after reject");
                }),
                Err("rejected".into()),
            ),
            (
                "after resolve through a clone",
                th(|r| {
                    let _ = r.clone().resolve(3);
                    panic!("after resolve through a clone");
                }),
                Ok(3),
            ),
            (
                "after adopting a pending promise",
                th(|r| {
                    let _ = r.adopt(Promise::new(|ry| {
                        after(5, move || {
                            let _ = ry.resolve(4);
                        })
                    }));
                    panic!("after adopt");
                }),
                Ok(4),
            ),
        ];
        let promises: Vec<_> = cases
            .into_iter()
            .map(|(name, x, expected)| (name, call(|| p.clone().then(move |_| x)), expected))
            .collect();
        s.go();
        for (name, promise2, expected) in promises {
            assert_eq!(promise2.await, expected, "{name}");
        }
    });
}

/// 2.3.3.3.4.2: Otherwise (a panic before any call), reject `promise` with
/// the panic as the reason — even if a call was scheduled for later, which
/// is then refused.
#[test]
fn a2_3_3_3_4_2_a_panic_before_any_call_rejects() {
    each_case(async |case| {
        let refused = Log::default();
        let mut s = Schedule::new(case);
        let p = s.settle::<i32, String>(Ok(1));
        let l = refused.clone();
        let cases: Vec<(&str, Th, Result<i32, String>)> = vec![
            ("at once", th(|_| panic!("before")), Err(panicked("before"))),
            (
                "with a formatted message",
                th(|_| panic!("before {}", 2)),
                Err(panicked("before 2")),
            ),
            (
                "while a clone of the resolver lives on",
                th(|r| {
                    let clone = r.clone();
                    after(5, move || drop(clone));
                    panic!("with a clone");
                }),
                Err(panicked("with a clone")),
            ),
            (
                "with a resolve scheduled for later",
                th(move |r| {
                    after(5, move || {
                        l.note(format!("late resolve: {:?}", r.resolve(9).map_err(|e| e.0)))
                    });
                    panic!("before the scheduled resolve");
                }),
                Err(panicked("before the scheduled resolve")),
            ),
        ];
        let promises: Vec<_> = cases
            .into_iter()
            .map(|(name, x, expected)| (name, call(|| p.clone().then(move |_| x)), expected))
            .collect();
        s.go();
        for (name, promise2, expected) in promises {
            assert_eq!(promise2.await, expected, "{name}");
        }
        quiesce().await;
        assert_eq!(refused.take(), ["late resolve: Err(9)"]);
    });
}

/// A plain value that happens to have a field called `then` (JavaScript's
/// `{ then: 5 }`, whose `then` is not a function).
#[derive(Clone, Debug, PartialEq)]
struct HasThen {
    then: u32,
}

/// 2.3.3.4: If `then` is not a function, fulfill `promise` with `x`.
/// Typed: a value that is not a `Thenable` — one with a field named
/// `then`, or a promise held as a plain value — fulfills as it is, never
/// adopted.
#[test]
fn a2_3_3_4_a_value_that_is_not_a_thenable_fulfills_as_is() {
    each_case(async |case| {
        let mut s = Schedule::new(case);
        let p = s.settle::<i32, String>(Ok(1));
        let has_then = call(|| p.clone().map(|_| HasThen { then: 5 }));
        let has_then_ok = call(|| p.clone().then(|_| Ok::<_, String>(HasThen { then: 6 })));
        // A promise as a value: the outer promise fulfills with the handle,
        // while the inner one is still pending.
        let (inner, _keep) = Promise::<i32, String>::with_resolvers();
        let i = inner.clone();
        let holds_promise = call(|| p.clone().map(move |_| i));
        let i = inner.clone();
        let holds_promise_ok = call(|| p.then(move |_| Ok::<_, String>(i)));
        s.go();
        assert_eq!(has_then.await, Ok(HasThen { then: 5 }));
        assert_eq!(has_then_ok.await.map(|h| h.then), Ok(6));
        for outer in [holds_promise, holds_promise_ok] {
            let held = outer.await.expect("fulfilled with the promise itself");
            assert!(held.ptr_eq(&inner));
            assert!(!held.is_settled());
        }
    });
}

/// 2.3.4: If `x` is not an object or function, fulfill `promise` with
/// `x`. Typed: plain values — numbers, strings, `None` (JavaScript's
/// `null`), `()` (a handler returning nothing, JavaScript's `undefined`) —
/// fulfill, from `onRejected` too.
#[test]
fn a2_3_4_a_plain_value_fulfills() {
    each_case(async |case| {
        let mut s = Schedule::new(case);
        let ok = s.settle::<i32, String>(Ok(1));
        let err = s.settle::<i32, String>(Err("no".into()));
        let number = call(|| ok.clone().then(|v| Ok::<_, String>(v + 1)));
        let text = call(|| ok.clone().map(|_| "text".to_string()));
        let none = call(|| ok.clone().map(|_| None::<i32>));
        let unit = call(|| ok.then(|_| ()));
        let unit_from_on_rejected: Promise<(), String> = call(|| err.clone().then_or_else(|_| (), |_| ()));
        let recovered = call(|| err.catch(|_| Ok::<_, String>(0)));
        s.go();
        assert_eq!(number.await, Ok(2));
        assert_eq!(text.await.as_deref(), Ok("text"));
        assert_eq!(none.await, Ok(None));
        assert_eq!(unit.await, Ok(()));
        assert_eq!(unit_from_on_rejected.await, Ok(()));
        assert_eq!(recovered.await, Ok(0));
    });
}
