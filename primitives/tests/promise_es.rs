// Over ~600 lines on purpose: one concept, the combinators' and `finally`'s
// ECMAScript behaviour, one section per combinator and one for `finally`
// after test262's directories, all sharing `Case` and its expectations (the
// Promises/A+ suite is the folder beside).
//! ECMAScript behaviour of the promise combinators and of `finally`, after
//! test262's `built-ins/Promise/{all,race,any,allSettled}` and
//! `built-ins/Promise/prototype/finally`: results in input order, the first
//! rejection (or fulfillment) winning, the empty-input cases,
//! `AggregateError` reasons in input order, `finally` passing the outcome
//! through unless its own handler fails, and handlers run once, in
//! registration order, never inside the call that attached them.
//!
//! Where JavaScript decides by the order in which inputs settle, an input
//! that was already settled when the combinator was called counts in input
//! order (its reaction is queued when the combinator attaches it), as in
//! JavaScript: `Promise.race([Promise.reject(1), Promise.resolve(2)])`
//! rejects with 1. [`Case::pick`] chooses the expected outcome accordingly.
//!
//! Every test body runs on both schedulers (current-thread, and a
//! multi-thread runtime with two workers), with the clock paused, and with
//! the input promises settling in each [`Timing`]: already settled before
//! the combinator or handler is attached, immediately after (from the same
//! code), or later (from a `set_timeout` callback, or from a task sleeping
//! on the paused clock). Nothing sleeps in real time.

use std::sync::Arc;
use std::time::Duration;
use weft::time::{Instant, sleep};
use weft_primitives::promise::{AggregateError, Promise, PromiseError, Resolver, Settled};

mod support;

use support::promise_cases::{Flavour, Log, Schedule, Then, after, call, each_case, quiesce, settled_in};

fn panicked(message: &str) -> String {
    PromiseError::Panicked(message.to_string()).into()
}

// ---------------------------------------------------------------------------
// Promise.all
// ---------------------------------------------------------------------------

/// `Promise.all` fulfills with every value in input order, whatever order
/// the inputs settle in (the same promise given twice counts twice), and
/// only after the last one.
#[test]
fn es_all_fulfills_with_values_in_input_order() {
    each_case(async |case| {
        let log = Log::default();
        let mut s = Schedule::new(case);
        // Settled in the order c, a, b; given in the order a, b, c, a.
        let c = s.settle::<&str, String>(Ok("c"));
        let a = s.settle(Ok("a"));
        let b = s.settle(Ok("b"));
        for (name, p) in [("a", &a), ("b", &b), ("c", &c)] {
            call(|| p.clone().on_settled(log.outcome(name)));
        }
        let all = call(|| Promise::all([a.clone(), b, c, a]));
        call(|| all.clone().on_settled(log.outcome("all")));
        s.go();
        assert_eq!(all.clone().await, Ok(vec!["a", "b", "c", "a"]));
        quiesce().await;
        let mut expected: Vec<String> = case
            .pick(["a", "b", "c"], ["c", "a", "b"])
            .iter()
            .map(|name| format!("{name} Ok({name:?})"))
            .collect();
        expected.push(r#"all Ok(["a", "b", "c", "a"])"#.into());
        assert_eq!(log.take(), expected);
    });
}

/// `Promise.all` stays pending while an input is pending, however long,
/// and fulfills once it is.
#[test]
fn es_all_waits_for_every_input() {
    each_case(async |case| {
        let mut s = Schedule::new(case);
        let first = s.settle::<i32, String>(Ok(1));
        let (last, resolver) = Promise::<i32, String>::with_resolvers();
        let all = call(|| Promise::all([first, last]));
        s.go();
        quiesce().await;
        assert!(!all.is_settled());
        resolver.resolve(2).unwrap();
        assert_eq!(all.await, Ok(vec![1, 2]));
    });
}

/// `Promise.all` rejects with the first rejection; later rejections and
/// fulfillments change nothing, and its handlers run once.
#[test]
fn es_all_rejects_with_the_first_rejection() {
    each_case(async |case| {
        let log = Log::default();
        let mut s = Schedule::new(case);
        let ok = s.settle::<i32, String>(Ok(1));
        let c = s.settle(Err("c".into()));
        let b = s.settle(Err("b".into()));
        let late = s.settle(Ok(4));
        let all = call(|| Promise::all([ok, b, c, late]));
        call(|| all.clone().on_settled(log.outcome("all")));
        s.go();
        let expected = case.pick(Err("b".to_string()), Err("c".to_string()));
        assert_eq!(all.clone().await, expected);
        quiesce().await;
        assert_eq!(log.take(), [format!("all {expected:?}")]);
        assert_eq!(all.peek(), Some(expected));
    });
}

/// `Promise.all` rejects as soon as one input does, without waiting for
/// inputs still pending.
#[test]
fn es_all_rejects_while_other_inputs_stay_pending() {
    each_case(async |case| {
        let mut s = Schedule::new(case);
        let (pending, _keep) = Promise::<i32, String>::with_resolvers();
        let rejected = s.settle(Err("no".into()));
        let all = call(|| Promise::all([pending.clone(), rejected]));
        s.go();
        assert_eq!(all.await, Err("no".into()));
        assert!(!pending.is_settled());
    });
}

/// `Promise.all([])` is fulfilled with an empty list at once; adopted by a
/// handler, it fulfills that handler's promise.
#[test]
fn es_all_of_nothing_is_fulfilled_at_once() {
    each_case(async |case| {
        let nothing = Promise::<i32, String>::all([]);
        assert_eq!(nothing.peek(), Some(Ok(vec![])));
        let mut s = Schedule::new(case);
        let p = s.settle::<(), String>(Ok(()));
        let adopted = call(|| p.then(|()| Promise::<i32, String>::all([])));
        s.go();
        assert_eq!(nothing.await, Ok(vec![]));
        assert_eq!(adopted.await, Ok(vec![]));
    });
}

// ---------------------------------------------------------------------------
// Promise.race
// ---------------------------------------------------------------------------

/// `Promise.race` fulfills like the first input to settle, when that one
/// fulfills; the others change nothing.
#[test]
fn es_race_settles_like_the_first_input_to_fulfill() {
    each_case(async |case| {
        let log = Log::default();
        let mut s = Schedule::new(case);
        let fast = s.settle::<&str, String>(Ok("fast"));
        let slow = s.settle(Err("slow".into()));
        let slower = s.settle(Ok("slower"));
        let race = call(|| Promise::race([slow, fast, slower]));
        call(|| race.clone().on_settled(log.outcome("race")));
        s.go();
        let expected = case.pick(Err("slow".to_string()), Ok("fast"));
        assert_eq!(race.clone().await, expected);
        quiesce().await;
        assert_eq!(log.take(), [format!("race {expected:?}")]);
        assert_eq!(race.peek(), Some(expected));
    });
}

/// `Promise.race` rejects like the first input to settle, when that one
/// rejects; the others change nothing.
#[test]
fn es_race_settles_like_the_first_input_to_reject() {
    each_case(async |case| {
        let log = Log::default();
        let mut s = Schedule::new(case);
        let fast = s.settle::<&str, String>(Err("fast".into()));
        let slow = s.settle(Ok("slow"));
        let slower = s.settle(Err("slower".into()));
        let race = call(|| Promise::race([slow, fast, slower]));
        call(|| race.clone().on_settled(log.outcome("race")));
        s.go();
        let expected = case.pick(Ok("slow"), Err("fast".to_string()));
        assert_eq!(race.clone().await, expected);
        quiesce().await;
        assert_eq!(log.take(), [format!("race {expected:?}")]);
        assert_eq!(race.peek(), Some(expected));
    });
}

/// `Promise.race` settles as soon as one input does, inputs still pending
/// notwithstanding.
#[test]
fn es_race_does_not_wait_for_pending_inputs() {
    each_case(async |case| {
        let mut s = Schedule::new(case);
        let (pending, _keep) = Promise::<i32, String>::with_resolvers();
        let settled = s.settle(Ok(1));
        let race = call(|| Promise::race([pending.clone(), settled]));
        s.go();
        assert_eq!(race.await, Ok(1));
        assert!(!pending.is_settled());
    });
}

/// `Promise.race([])` stays pending forever, as in JavaScript: its handlers
/// never run.
#[test]
fn es_race_of_nothing_stays_pending_forever() {
    each_case(async |case| {
        let log = Log::default();
        let race = Promise::<i32, String>::race([]);
        let mut s = Schedule::new(case);
        let p = s.settle::<(), String>(Ok(()));
        let race2 = race.clone();
        let adopted = call(|| p.then(move |()| race2));
        call(|| race.clone().on_settled(log.outcome("race")));
        call(|| adopted.clone().on_settled(log.outcome("adopted")));
        s.go();
        quiesce().await;
        assert!(!race.is_settled());
        assert!(!adopted.is_settled());
        assert!(log.take().is_empty());
    });
}

// ---------------------------------------------------------------------------
// Promise.any
// ---------------------------------------------------------------------------

/// `Promise.any` fulfills with the first fulfillment; rejections before it
/// and settlements after it change nothing.
#[test]
fn es_any_fulfills_with_the_first_fulfillment() {
    each_case(async |case| {
        let log = Log::default();
        let mut s = Schedule::new(case);
        let e1 = s.settle::<&str, String>(Err("e1".into()));
        let x = s.settle(Ok("x"));
        let y = s.settle(Ok("y"));
        let e2 = s.settle(Err("e2".into()));
        let any = call(|| Promise::any([y, e1, x, e2]));
        call(|| any.clone().on_settled(log.outcome("any")));
        s.go();
        let expected = case.pick(Ok("y"), Ok("x"));
        assert_eq!(any.clone().await, expected);
        quiesce().await;
        assert_eq!(log.take(), [format!("any {expected:?}")]);
    });
}

/// `Promise.any` rejects, once every input has, with an `AggregateError`
/// of the reasons in input order, whatever order they came in.
#[test]
fn es_any_rejects_with_every_reason_in_input_order() {
    each_case(async |case| {
        let log = Log::default();
        let mut s = Schedule::new(case);
        let c = s.settle::<i32, String>(Err("c".into()));
        let a = s.settle(Err("a".into()));
        let b = s.settle(Err("b".into()));
        let any = call(|| Promise::any([a, b, c]));
        call(|| any.clone().on_settled(log.outcome("any")));
        s.go();
        let expected = AggregateError {
            errors: vec!["a".to_string(), "b".into(), "c".into()],
        };
        assert_eq!(any.clone().await, Err(expected.clone()));
        quiesce().await;
        assert_eq!(log.take(), [format!("any {:?}", Err::<i32, _>(expected))]);
    });
}

/// `Promise.any` stays pending while an input is pending, even when every
/// other one has rejected.
#[test]
fn es_any_waits_while_an_input_is_pending() {
    each_case(async |case| {
        let mut s = Schedule::new(case);
        let a = s.settle::<i32, String>(Err("a".into()));
        let (pending, resolver) = Promise::<i32, String>::with_resolvers();
        let c = s.settle(Err("c".into()));
        let any = call(|| Promise::any([a, pending, c]));
        s.go();
        quiesce().await;
        assert!(!any.is_settled());
        resolver.reject("b".into()).unwrap();
        let errors = vec!["a".to_string(), "b".into(), "c".into()];
        assert_eq!(any.await, Err(AggregateError { errors }));
    });
}

/// `Promise.any([])` is rejected at once with an `AggregateError` of no
/// reasons.
#[test]
fn es_any_of_nothing_rejects_at_once_with_no_reasons() {
    each_case(async |case| {
        let none = AggregateError { errors: vec![] };
        let nothing = Promise::<i32, String>::any([]);
        assert_eq!(nothing.peek(), Some(Err(none.clone())));
        let mut s = Schedule::new(case);
        let p = s.settle::<(), AggregateError<String>>(Ok(()));
        let adopted = call(|| p.then(|()| Promise::<i32, String>::any([])));
        s.go();
        assert_eq!(nothing.await, Err(none.clone()));
        assert_eq!(adopted.await, Err(none));
    });
}

// ---------------------------------------------------------------------------
// Promise.allSettled
// ---------------------------------------------------------------------------

/// `Promise.allSettled` fulfills, once every input has settled, with each
/// outcome in input order.
#[test]
fn es_all_settled_reports_every_outcome_in_input_order() {
    each_case(async |case| {
        let log = Log::default();
        let mut s = Schedule::new(case);
        let c = s.settle::<&str, String>(Err("c".into()));
        let a = s.settle(Ok("a"));
        let b = s.settle(Err("b".into()));
        let settled = call(|| Promise::all_settled([a, b, c]));
        call(|| settled.clone().on_settled(log.outcome("all_settled")));
        s.go();
        let expected = vec![
            Settled::Fulfilled("a"),
            Settled::Rejected("b".to_string()),
            Settled::Rejected("c".into()),
        ];
        assert_eq!(settled.clone().await, Ok(expected.clone()));
        quiesce().await;
        assert_eq!(
            log.take(),
            [format!("all_settled {:?}", Ok::<_, PromiseError>(expected))]
        );
    });
}

/// `Promise.allSettled` never rejects, even when every input does.
#[test]
fn es_all_settled_never_rejects() {
    each_case(async |case| {
        let mut s = Schedule::new(case);
        let a = s.settle::<i32, String>(Err("a".into()));
        let b = s.settle(Err("b".into()));
        let settled = call(|| Promise::all_settled([b, a]));
        s.go();
        assert_eq!(
            settled.await,
            Ok(vec![Settled::Rejected("b".into()), Settled::Rejected("a".into())])
        );
    });
}

/// `Promise.allSettled` waits for every input: a rejection does not end
/// it early.
#[test]
fn es_all_settled_waits_for_every_input() {
    each_case(async |case| {
        let mut s = Schedule::new(case);
        let rejected = s.settle::<i32, String>(Err("a".into()));
        let (pending, resolver) = Promise::<i32, String>::with_resolvers();
        let settled = call(|| Promise::all_settled([rejected, pending]));
        s.go();
        quiesce().await;
        assert!(!settled.is_settled());
        resolver.resolve(2).unwrap();
        assert_eq!(
            settled.await,
            Ok(vec![Settled::Rejected("a".into()), Settled::Fulfilled(2)])
        );
    });
}

/// `Promise.allSettled([])` is fulfilled with an empty list at once.
#[test]
fn es_all_settled_of_nothing_is_fulfilled_at_once() {
    each_case(async |case| {
        let nothing = Promise::<i32, String>::all_settled([]);
        assert_eq!(nothing.peek(), Some(Ok(vec![])));
        let mut s = Schedule::new(case);
        let p = s.settle::<(), PromiseError>(Ok(()));
        let adopted = call(|| p.then(|()| Promise::<i32, String>::all_settled([])));
        s.go();
        assert_eq!(nothing.await, Ok(vec![]));
        assert_eq!(adopted.await, Ok(vec![]));
    });
}

// ---------------------------------------------------------------------------
// All four combinators
// ---------------------------------------------------------------------------

/// A combinator's result settles in a job of its own, never inside the
/// call that made it, even from inputs already settled (in JavaScript the
/// result of `Promise.all([Promise.resolve(1)])` is pending until a later
/// microtask).
#[test]
fn es_combinators_settle_in_a_later_job() {
    each_case(async |case| {
        let log = Log::default();
        let mut s = Schedule::new(case);
        let a = s.settle::<i32, String>(Ok(1));
        let b = s.settle(Err("b".into()));
        let (all, race, any, settled) = call(|| {
            let inputs = [a, b];
            let all = Promise::all(inputs.clone());
            let race = Promise::race(inputs.clone());
            let any = Promise::any(inputs.clone());
            let settled = Promise::all_settled(inputs);
            all.clone().on_settled(log.outcome("all"));
            race.clone().on_settled(log.outcome("race"));
            any.clone().on_settled(log.outcome("any"));
            settled.clone().on_settled(log.outcome("all_settled"));
            (all, race, any, settled)
        });
        s.go();
        if case.flavour == Flavour::CurrentThread {
            // Nothing else runs until this task yields.
            assert!(!all.is_settled());
            assert!(!race.is_settled());
            assert!(!any.is_settled());
            assert!(!settled.is_settled());
        }
        assert_eq!(all.await, Err("b".into()));
        assert_eq!(race.await, Ok(1));
        assert_eq!(any.await, Ok(1));
        assert_eq!(
            settled.await,
            Ok(vec![Settled::Fulfilled(1), Settled::Rejected("b".into())])
        );
        quiesce().await;
        let mut events = log.take();
        events.sort();
        assert_eq!(
            events,
            [
                r#"all Err("b")"#,
                r#"all_settled Ok([Fulfilled(1), Rejected("b")])"#,
                "any Ok(1)",
                "race Ok(1)",
            ]
        );
    });
}

// ---------------------------------------------------------------------------
// Promise.prototype.finally
// ---------------------------------------------------------------------------

/// `finally` passes the value through (the very value: the same `Arc`),
/// through any number of `finally`s.
#[test]
fn es_finally_passes_the_value_through() {
    each_case(async |case| {
        let value = Arc::new(1);
        let mut s = Schedule::new(case);
        let p = s.settle::<Arc<i32>, String>(Ok(value.clone()));
        let once = call(|| p.clone().finally(|| ()));
        let thrice = call(|| p.finally(|| ()).finally(|| ()).finally(|| ()));
        s.go();
        assert!(Arc::ptr_eq(&once.await.unwrap(), &value));
        assert!(Arc::ptr_eq(&thrice.await.unwrap(), &value));
    });
}

/// `finally` passes the reason through (the same `Arc`).
#[test]
fn es_finally_passes_the_reason_through() {
    each_case(async |case| {
        let reason: Arc<dyn std::error::Error + Send + Sync> = Arc::new(PromiseError::Abandoned);
        let mut s = Schedule::new(case);
        let p = s.settle::<i32, Arc<dyn std::error::Error + Send + Sync>>(Err(reason.clone()));
        let once = call(|| p.clone().finally(|| ()));
        let thrice = call(|| p.finally(|| ()).finally(|| ()).finally(|| ()));
        s.go();
        assert!(Arc::ptr_eq(&once.await.unwrap_err(), &reason));
        assert!(Arc::ptr_eq(&thrice.await.unwrap_err(), &reason));
    });
}

/// `finally`'s handler takes no argument and runs exactly once, whichever
/// way the promise settles, however often its result is awaited or handled.
#[test]
fn es_finally_handler_runs_once_with_no_arguments() {
    each_case(async |case| {
        let log = Log::default();
        let mut s = Schedule::new(case);
        let ok = s.settle::<i32, String>(Ok(1));
        let err = s.settle::<i32, String>(Err("no".into()));
        let (l, l2) = (log.clone(), log.clone());
        let after_ok = call(|| ok.finally(move || l.push("finally after fulfillment")));
        let after_err = call(|| err.finally(move || l2.push("finally after rejection")));
        let handlers = call(|| [after_ok.clone().map(|v| v + 1), after_ok.clone().map(|v| v + 2)]);
        s.go();
        assert_eq!(after_ok.clone().await, Ok(1));
        assert_eq!(after_ok.await, Ok(1));
        assert_eq!(after_err.clone().await, Err("no".into()));
        assert_eq!(after_err.await, Err("no".into()));
        let [a, b] = handlers;
        assert_eq!((a.await, b.await), (Ok(2), Ok(3)));
        quiesce().await;
        assert_eq!(
            log.take(),
            ["finally after fulfillment", "finally after rejection"]
        );
    });
}

/// What `finally`'s handler fulfills with is ignored: a value of any type,
/// a fulfilled promise, a thenable fulfilled later; the original outcome
/// stands.
#[test]
fn es_finally_ignores_what_its_handler_fulfills_with() {
    each_case(async |case| {
        let mut s = Schedule::new(case);
        let ok = s.settle::<i32, String>(Ok(1));
        let err = s.settle::<i32, String>(Err("no".into()));
        let mut derived = Vec::new();
        for (p, expected) in [(ok, Ok(1)), (err, Err("no".to_string()))] {
            let attached = call(|| {
                [
                    p.clone().finally(|| Ok::<_, String>("another type")),
                    p.clone().finally(|| Promise::<u8, String>::resolve(9)),
                    p.clone().finally(|| settled_in::<u8, String>(5, Ok(9))),
                    p.finally(|| {
                        Then(|r: Resolver<char, String>| {
                            after(5, move || {
                                let _ = r.resolve('x');
                            })
                        })
                    }),
                ]
            });
            derived.extend(attached.map(|d| (d, expected.clone())));
        }
        s.go();
        for (d, expected) in derived {
            assert_eq!(d.await, expected);
        }
    });
}

/// A handler of `finally` that returns `Err` overrides the outcome, after
/// a fulfillment or a rejection.
#[test]
fn es_finally_handler_error_wins() {
    each_case(async |case| {
        let mut s = Schedule::new(case);
        let ok = s.settle::<i32, String>(Ok(1));
        let err = s.settle::<i32, String>(Err("no".into()));
        let after_ok = call(|| ok.finally(|| Err::<(), String>("finally failed".into())));
        let after_err = call(|| err.finally(|| Err::<(), String>("finally failed too".into())));
        s.go();
        assert_eq!(after_ok.await, Err("finally failed".into()));
        assert_eq!(after_err.await, Err("finally failed too".into()));
    });
}

/// A handler of `finally` that returns a promise (or thenable) that
/// rejects — at once or later — overrides the outcome with that reason.
#[test]
fn es_finally_handler_rejected_promise_wins() {
    each_case(async |case| {
        let mut s = Schedule::new(case);
        let ok = s.settle::<i32, String>(Ok(1));
        let err = s.settle::<i32, String>(Err("no".into()));
        let derived = call(|| {
            [
                ok.clone()
                    .finally(|| Promise::<(), String>::reject("at once".into())),
                err.clone()
                    .finally(|| Promise::<(), String>::reject("at once".into())),
                ok.clone()
                    .finally(|| settled_in::<(), String>(5, Err("later".into()))),
                err.finally(|| settled_in::<(), String>(5, Err("later".into()))),
                ok.finally(|| {
                    Then(|r: Resolver<(), String>| {
                        after(5, move || {
                            let _ = r.reject("thenable".into());
                        })
                    })
                }),
            ]
        });
        s.go();
        let reasons: Vec<_> = {
            let mut reasons = Vec::new();
            for d in derived {
                reasons.push(d.await);
            }
            reasons
        };
        assert_eq!(
            reasons,
            [
                Err("at once".to_string()),
                Err("at once".into()),
                Err("later".into()),
                Err("later".into()),
                Err("thenable".into()),
            ]
        );
    });
}

/// A handler of `finally` that panics (JavaScript: throws) overrides the
/// outcome with `PromiseError::Panicked`.
#[test]
fn es_finally_handler_panic_wins() {
    each_case(async |case| {
        let mut s = Schedule::new(case);
        let ok = s.settle::<i32, String>(Ok(1));
        let err = s.settle::<i32, String>(Err("no".into()));
        let after_ok = call(|| ok.finally(|| -> Result<(), String> { panic!("in finally") }));
        let after_err = call(|| err.finally(|| -> Result<(), String> { panic!("in finally too") }));
        s.go();
        assert_eq!(after_ok.await, Err(panicked("in finally")));
        assert_eq!(after_err.await, Err(panicked("in finally too")));
    });
}

/// `finally` waits for the promise its handler returns before passing the
/// outcome on (or its rejection): nothing settles in between.
#[test]
fn es_finally_waits_for_the_promise_its_handler_returns() {
    each_case(async |case| {
        let log = Log::default();
        let start = Instant::now();
        let mut s = Schedule::new(case);
        let ok = s.settle::<i32, String>(Ok(1));
        let err = s.settle::<i32, String>(Err("no".into()));
        let waits = |name: &'static str, outcome: Result<(), String>| {
            let l = log.clone();
            move || {
                l.push(format!("{name}: handler"));
                Promise::new(move |r| {
                    after(100, move || {
                        l.push(format!("{name}: handler's promise settles"));
                        let _ = r.settle(outcome);
                    })
                })
            }
        };
        let fulfilled = call(|| ok.clone().finally(waits("fulfilled", Ok(()))));
        let rejected = call(|| err.finally(waits("rejected", Ok(()))));
        let overridden = call(|| ok.finally(waits("overridden", Err("late failure".into()))));
        call(|| fulfilled.clone().on_settled(log.outcome("fulfilled:")));
        call(|| rejected.clone().on_settled(log.outcome("rejected:")));
        call(|| overridden.clone().on_settled(log.outcome("overridden:")));
        s.go();
        sleep(Duration::from_millis(60)).await;
        assert!(!fulfilled.is_settled());
        assert!(!rejected.is_settled());
        assert!(!overridden.is_settled());
        assert_eq!(fulfilled.await, Ok(1));
        assert_eq!(rejected.await, Err("no".into()));
        assert_eq!(overridden.await, Err("late failure".into()));
        assert!(start.elapsed() >= Duration::from_millis(100));
        quiesce().await;
        let events = log.take();
        for name in ["fulfilled", "rejected", "overridden"] {
            let mine: Vec<_> = events.iter().filter(|e| e.starts_with(name)).collect();
            assert_eq!(mine.len(), 3, "{events:?}");
            assert_eq!(*mine[0], format!("{name}: handler"));
            assert_eq!(*mine[1], format!("{name}: handler's promise settles"));
        }
        // Every handler ran before any of their promises settled (in an
        // order that depends on when `ok` and `err` settled).
        let settles = events
            .iter()
            .position(|e| e.ends_with("promise settles"))
            .unwrap();
        let mut handlers: Vec<_> = events[..settles].iter().collect();
        handlers.sort();
        assert_eq!(
            handlers,
            ["fulfilled: handler", "overridden: handler", "rejected: handler"]
        );
    });
}

// ---------------------------------------------------------------------------
// Handlers in general (Promise.prototype.then and friends)
// ---------------------------------------------------------------------------

/// Handlers of every kind on one promise run in the order they were
/// attached: `then`, `catch`, `finally`, `map`, `map_err`, `then_or_else`,
/// and `on_settled`.
#[test]
fn es_handlers_of_every_kind_run_in_registration_order() {
    each_case(async |case| {
        let log = Log::default();
        let mut s = Schedule::new(case);
        let ok = s.settle::<i32, String>(Ok(1));
        let err = s.settle::<i32, String>(Err("no".into()));
        let mut derived = Vec::new();
        for p in [&ok, &err] {
            let note = |name: &'static str| {
                let l = log.clone();
                move || l.push(name)
            };
            let (n1, n2, n3, n4, n5, n6, n7) = (
                note("then"),
                note("catch"),
                note("finally"),
                note("map"),
                note("map_err"),
                note("then_or_else onFulfilled"),
                note("then_or_else onRejected"),
            );
            let l = log.clone();
            call(|| {
                derived.push(p.clone().then(move |v| {
                    n1();
                    Ok::<_, String>(v)
                }));
                derived.push(p.clone().catch(move |e| {
                    n2();
                    Err::<i32, String>(e)
                }));
                derived.push(p.clone().finally(n3));
                derived.push(p.clone().map(move |v| {
                    n4();
                    v
                }));
                derived.push(p.clone().map_err(move |e| {
                    n5();
                    e
                }));
                derived.push(p.clone().then_or_else(
                    move |v| {
                        n6();
                        Ok::<_, String>(v)
                    },
                    move |e| {
                        n7();
                        Err(e)
                    },
                ));
                p.clone().on_settled(move |_| l.push("on_settled"));
            });
        }
        s.go();
        for d in derived {
            let _ = d.await;
        }
        quiesce().await;
        assert_eq!(
            log.take(),
            [
                "then",
                "finally",
                "map",
                "then_or_else onFulfilled",
                "on_settled",
                "catch",
                "finally",
                "map_err",
                "then_or_else onRejected",
                "on_settled",
            ]
        );
    });
}

/// A handler attached to a promise already settled runs later, as a job:
/// never inside the `then` (or `catch`, `finally`, `on_settled`, a
/// combinator) that attached it.
#[test]
fn es_a_handler_on_a_settled_promise_never_runs_inside_then() {
    each_case(async |case| {
        let log = Log::default();
        let mut s = Schedule::new(case);
        let ok = s.settle::<i32, String>(Ok(1));
        let err = s.settle::<i32, String>(Err("no".into()));
        s.go();
        if case.later() {
            let _ = err.clone().await;
        }
        assert!(ok.is_settled() && err.is_settled());
        let (l1, l2, l3, l4, l5) = (log.clone(), log.clone(), log.clone(), log.clone(), log.clone());
        let attached = call(|| {
            let then = ok.clone().then(move |v| {
                l1.push("then");
                Ok::<_, String>(v)
            });
            let catch = err.catch(move |_| {
                l2.push("catch");
                Ok::<_, String>(0)
            });
            let finally = ok.clone().finally(move || l3.push("finally"));
            ok.clone().on_settled(move |_| l4.push("on_settled"));
            let all = Promise::all([ok.clone()]).map(move |v| {
                l5.push("all");
                v[0]
            });
            [then, catch, finally, all]
        });
        if case.flavour == Flavour::CurrentThread {
            assert!(log.take().is_empty());
        }
        for p in attached {
            let _ = p.await;
        }
        quiesce().await;
        let mut events = log.take();
        events.sort();
        assert_eq!(events, ["all", "catch", "finally", "on_settled", "then"]);
    });
}
