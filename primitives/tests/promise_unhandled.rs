//! Unhandled rejections: a rejected promise dropped with no handler ever
//! attached (and never awaited) reaches the hook set with
//! `set_unhandled_rejection_hook`; one that was awaited or handled — by a
//! handler, `finally`, or a combinator — does not.
//!
//! The hook is process-wide, so these tests live in a file (a test binary)
//! of their own. Within it, tests run in parallel: each rejects with
//! markers no other test uses and counts only the reports of its own,
//! found by downcasting the reason.
//!
//! Every test runs on both schedulers, with the clock paused, and with the
//! promises settling in each [`Timing`]: already settled before anything is
//! attached or dropped, immediately after (from the same code), or later
//! (from a `set_timeout` callback, or from a task sleeping on the paused
//! clock).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Once};
use weft_primitives::promise::{
    AggregateError, Promise, PromiseError, Settled, set_unhandled_rejection_hook,
};

mod support;

use support::promise_cases::{Schedule, each_case, quiesce};

/// The rejection reason of these tests: a marker unique to one use.
#[derive(Clone, Debug, PartialEq)]
enum Reason {
    Marker(u64),
    Machinery(PromiseError),
}

impl From<PromiseError> for Reason {
    fn from(error: PromiseError) -> Reason {
        Reason::Machinery(error)
    }
}

/// The markers the hook has seen, once per report.
static REPORTED: Mutex<Vec<u64>> = Mutex::new(Vec::new());

/// A marker no other use shares; installs the hook on first use.
fn marker() -> Reason {
    static INSTALL: Once = Once::new();
    static NEXT: AtomicU64 = AtomicU64::new(1);
    INSTALL.call_once(|| {
        set_unhandled_rejection_hook(|rejection| {
            let mut reported = REPORTED.lock().unwrap();
            if let Some(Reason::Marker(id)) = rejection.downcast_ref::<Reason>() {
                reported.push(*id);
            }
            if let Some(aggregate) = rejection.downcast_ref::<AggregateError<Reason>>() {
                for reason in &aggregate.errors {
                    if let Reason::Marker(id) = reason {
                        reported.push(*id);
                    }
                }
            }
        });
    });
    Reason::Marker(NEXT.fetch_add(1, Ordering::Relaxed))
}

/// How many times the hook has reported `reason`.
fn reports(reason: &Reason) -> usize {
    let Reason::Marker(id) = reason else {
        panic!("not a marker: {reason:?}")
    };
    REPORTED.lock().unwrap().iter().filter(|&seen| seen == id).count()
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

/// A rejected promise dropped with no handler and never awaited reaches the
/// hook exactly once, with its reason — whether it was dropped after or
/// before it was rejected.
#[test]
fn a_rejected_promise_dropped_unhandled_reaches_the_hook() {
    each_case(async |case| {
        let (dropped, made_rejected) = (marker(), marker());
        let mut s = Schedule::new(case);
        let p = s.settle::<i32, Reason>(Err(dropped.clone()));
        let peeked = p.clone();
        drop(p);
        drop(Promise::<i32, Reason>::reject(made_rejected.clone()));
        s.go();
        quiesce().await;
        // `peek` does not count as handling it.
        assert_eq!(peeked.peek(), Some(Err(dropped.clone())));
        drop(peeked);
        assert_eq!(reports(&dropped), 1);
        assert_eq!(reports(&made_rejected), 1);
    });
}

/// An awaited rejection is handled: dropped afterwards, it is not
/// reported — nor is a fulfilled promise ever.
#[test]
fn an_awaited_rejection_is_not_reported() {
    each_case(async |case| {
        let reason = marker();
        let mut s = Schedule::new(case);
        let p = s.settle::<i32, Reason>(Err(reason.clone()));
        let fulfilled = s.settle::<i32, Reason>(Ok(1));
        s.go();
        assert_eq!(p.clone().await, Err(reason.clone()));
        assert_eq!(fulfilled.await, Ok(1));
        drop(p);
        quiesce().await;
        assert_eq!(reports(&reason), 0);
    });
}

/// A rejection with a handler attached — `catch`, `then_or_else`,
/// `on_settled`, `map_err` — is not reported; nor is the promise the
/// handler returned, once that is handled too.
#[test]
fn a_rejection_with_a_handler_is_not_reported() {
    each_case(async |case| {
        let reasons = [marker(), marker(), marker(), marker()];
        let mut s = Schedule::new(case);
        let [a, b, c, d] = reasons.clone().map(|reason| s.settle::<i32, Reason>(Err(reason)));
        let caught = a.clone().catch(|_| Ok::<_, Reason>(0));
        let both = b.clone().then_or_else(Ok::<_, Reason>, |_| Ok(0));
        let (tx, seen) = std::sync::mpsc::channel();
        c.clone().on_settled(move |outcome| {
            let _ = tx.send(outcome);
        });
        let mapped = d.clone().map_err(|e| e);
        drop((a, b, c, d));
        s.go();
        assert_eq!(caught.await, Ok(0));
        assert_eq!(both.await, Ok(0));
        assert_eq!(mapped.await, Err(reasons[3].clone()));
        quiesce().await;
        assert_eq!(seen.try_recv(), Ok(Err(reasons[2].clone())));
        for reason in &reasons {
            assert_eq!(reports(reason), 0, "{reason:?}");
        }
    });
}

/// A rejection passed through `then` (which has no `onRejected`) rejects
/// the derived promise; dropped unhandled, that one is reported — once:
/// the original, which had a handler, is not.
#[test]
fn a_rejection_passed_through_then_is_reported_once() {
    each_case(async |case| {
        let reason = marker();
        let mut s = Schedule::new(case);
        let p = s.settle::<i32, Reason>(Err(reason.clone()));
        drop(p.clone().then(|v| Ok::<_, Reason>(v + 1)));
        drop(p);
        s.go();
        quiesce().await;
        assert_eq!(reports(&reason), 1);
    });
}

/// `finally` handles the rejection it passes on: with its result handled,
/// nothing is reported — not when the handler succeeds, and not when it
/// fails and its failure replaces the original reason (which is then
/// nobody's unhandled rejection). JavaScript reports neither.
#[test]
fn a_rejection_handled_by_finally_is_not_reported_even_when_its_handler_fails() {
    each_case(async |case| {
        let (passed, original, replacement, after_fulfillment) = (marker(), marker(), marker(), marker());
        let mut s = Schedule::new(case);
        let p = s.settle::<i32, Reason>(Err(passed.clone()));
        let q = s.settle::<i32, Reason>(Err(original.clone()));
        let ok = s.settle::<i32, Reason>(Ok(1));
        let passes = p.clone().finally(|| ());
        let r = replacement.clone();
        let replaces = q.clone().finally(move || Err::<(), _>(r));
        let f = after_fulfillment.clone();
        let fails = ok.clone().finally(move || Promise::<(), _>::reject(f));
        drop((p, q, ok));
        s.go();
        assert_eq!(passes.await, Err(passed.clone()));
        assert_eq!(replaces.await, Err(replacement.clone()));
        assert_eq!(fails.await, Err(after_fulfillment.clone()));
        quiesce().await;
        for reason in [&passed, &original, &replacement, &after_fulfillment] {
            assert_eq!(reports(reason), 0, "{reason:?}");
        }
    });
}

/// The inputs of `all`, `race`, `any` and `all_settled` are handled by the
/// combinator — rejections it ignores (a second rejection for `all`, a
/// loser for `race`) included — and its result, awaited, is handled too.
#[test]
fn combinator_inputs_are_handled() {
    each_case(async |case| {
        let reasons: Vec<Reason> = (0..7).map(|_| marker()).collect();
        let mut s = Schedule::new(case);
        let ok = s.settle::<i32, Reason>(Ok(1));
        let rejected: Vec<_> = reasons
            .iter()
            .map(|reason| s.settle(Err(reason.clone())))
            .collect();
        let mut rejected = rejected.into_iter();
        let mut next = || rejected.next().unwrap();
        let all = Promise::all([next(), next()]);
        let race = Promise::race([ok, next()]);
        let any = Promise::any([next(), next()]);
        let settled = Promise::all_settled([next(), next()]);
        s.go();
        assert_eq!(all.await, Err(reasons[0].clone()));
        assert_eq!(race.await, Ok(1));
        assert_eq!(
            any.await,
            Err(AggregateError {
                errors: reasons[3..5].to_vec()
            })
        );
        assert_eq!(
            settled.await,
            Ok(vec![
                Settled::Rejected(reasons[5].clone()),
                Settled::Rejected(reasons[6].clone())
            ])
        );
        quiesce().await;
        for reason in &reasons {
            assert_eq!(reports(reason), 0, "{reason:?}");
        }
    });
}

/// A combinator's rejected result, dropped unhandled, is reported (for
/// `any`, as an `AggregateError` of the markers), while its inputs are not.
#[test]
fn a_combinators_rejected_result_dropped_unhandled_is_reported() {
    each_case(async |case| {
        let (first, second, third) = (marker(), marker(), marker());
        let mut s = Schedule::new(case);
        let a = s.settle::<i32, Reason>(Err(first.clone()));
        let b = s.settle::<i32, Reason>(Err(second.clone()));
        let c = s.settle::<i32, Reason>(Err(third.clone()));
        drop(Promise::all([a.clone(), b.clone()]));
        drop(Promise::any([c]));
        drop((a, b));
        s.go();
        quiesce().await;
        // `all`'s result carries the first reason; the second is nobody's.
        assert_eq!(reports(&first), 1);
        assert_eq!(reports(&second), 0);
        assert_eq!(reports(&third), 1);
    });
}
