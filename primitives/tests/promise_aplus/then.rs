//! 2.2 The `then` method: when handlers run, how often, in which order,
//! and what the promise `then` returns settles to.

use super::*;

/// 2.2.1.1: If `onFulfilled` is not a function, it must be ignored. Typed:
/// `catch` and `map_err` have no `onFulfilled`; a fulfillment passes them
/// untouched and their handler never runs.
#[test]
fn a2_2_1_1_without_on_fulfilled_a_fulfillment_passes_through() {
    the_other_sides_handlers_pass_it_through(Side::Fulfilled);
}

/// 2.2.1.2: If `onRejected` is not a function, it must be ignored. Typed:
/// `then` and `map` have no `onRejected`; a rejection passes them
/// untouched and their handler never runs.
#[test]
fn a2_2_1_2_without_on_rejected_a_rejection_passes_through() {
    the_other_sides_handlers_pass_it_through(Side::Rejected);
}

/// 2.2.1.1 and 2.2.1.2: settled to `side`, a promise passes untouched
/// through the handlers of the other side, which never run.
fn the_other_sides_handlers_pass_it_through(side: Side) {
    each_case(async move |case| {
        let log = Log::default();
        let mut s = Schedule::new(case);
        let p = s.settle::<String, String>(side.outcome("three"));
        let other = side.other();
        let l = log.clone();
        let handled = call(|| {
            other.on(p.clone(), move |x| {
                l.push(format!("{}({x})", other.handler()));
                x
            })
        });
        let l = log.clone();
        let mapped = call(|| {
            other.map(p.clone(), move |x| {
                l.push(format!("map({x})"));
                x.to_uppercase()
            })
        });
        let l = log.clone();
        let chained = call(|| {
            let twice = other.map(other.map(p, |x| x + "?"), |x| x + "!");
            side.map(twice, move |x| {
                l.push(format!("{} after two of the other side's({x})", side.handler()));
                x
            })
        });
        s.go();
        assert_eq!(handled.await, side.outcome("three"));
        assert_eq!(mapped.await, side.outcome("three"));
        assert_eq!(chained.await, side.outcome("three"));
        quiesce().await;
        assert_eq!(
            log.take(),
            [format!("{} after two of the other side's(three)", side.handler())]
        );
    });
}

/// 2.2.2.1: If `onFulfilled` is a function, it must be called after the
/// promise is fulfilled, with the promise's value as its first argument.
#[test]
fn a2_2_2_1_on_fulfilled_called_after_fulfillment_with_value() {
    handler_called_with_the_outcome(Side::Fulfilled);
}

/// 2.2.2.2: `onFulfilled` must not be called before the promise is
/// fulfilled: when it runs the promise is settled and the clock is past the
/// settling; before that nothing has run; for a promise never fulfilled, it
/// never runs.
#[test]
fn a2_2_2_2_on_fulfilled_not_called_before_fulfillment() {
    handler_not_called_before_settlement(Side::Fulfilled);
}

/// 2.2.2.3: `onFulfilled` must not be called more than once, whatever else
/// the resolver tries and however many times the promise is awaited or
/// handled.
#[test]
fn a2_2_2_3_on_fulfilled_called_at_most_once() {
    handler_called_at_most_once(Side::Fulfilled);
}

/// 2.2.3.1: If `onRejected` is a function, it must be called after the
/// promise is rejected, with the promise's reason as its first argument.
#[test]
fn a2_2_3_1_on_rejected_called_after_rejection_with_reason() {
    handler_called_with_the_outcome(Side::Rejected);
}

/// 2.2.3.2: `onRejected` must not be called before the promise is
/// rejected; for a promise never rejected, it never runs.
#[test]
fn a2_2_3_2_on_rejected_not_called_before_rejection() {
    handler_not_called_before_settlement(Side::Rejected);
}

/// 2.2.3.3: `onRejected` must not be called more than once.
#[test]
fn a2_2_3_3_on_rejected_called_at_most_once() {
    handler_called_at_most_once(Side::Rejected);
}

/// 2.2.2.1 and 2.2.3.1: `side`'s handler runs after the promise settles,
/// with its value (or reason).
fn handler_called_with_the_outcome(side: Side) {
    each_case(async move |case| {
        let log = Log::default();
        let mut s = Schedule::new(case);
        let p = s.settle::<String, String>(side.outcome("dummy"));
        let l = log.clone();
        let alone = call(|| {
            side.on(p.clone(), move |x| {
                l.push(format!("{}({x})", side.handler()));
                x.to_uppercase()
            })
        });
        let both = watch(&p, &log);
        s.go();
        assert_eq!(alone.await, Ok("DUMMY".into()));
        assert_eq!(both.await, Ok(()));
        assert_eq!(
            log.take(),
            [
                format!("{}(dummy)", side.handler()),
                format!("{} with dummy", side.state())
            ]
        );
    });
}

/// 2.2.2.2 and 2.2.3.2: `side`'s handler runs only once the promise has
/// settled that way: when it runs the promise is settled and the clock is
/// past the settling; before that nothing has run; for a promise never
/// settled, it never runs.
fn handler_not_called_before_settlement(side: Side) {
    each_case(async move |case| {
        let log = Log::default();
        let settled_at = Arc::new(Mutex::new(None));
        let ran_at = Arc::new(Mutex::new(None));
        let mut s = Schedule::new(case);
        let at = settled_at.clone();
        let p = s.with::<String, String>(move |r| {
            *at.lock().unwrap() = Some(Instant::now());
            let _ = side.settle(r, "x");
        });
        let (l, p2, ran) = (log.clone(), p.clone(), ran_at.clone());
        let handled = call(|| {
            side.on(p.clone(), move |x| {
                l.push(format!("{}({x}), settled: {}", side.handler(), p2.is_settled()));
                *ran.lock().unwrap() = Some(Instant::now());
                x
            })
        });
        let (never, _keep) = Mirror::with_resolvers();
        let l = log.clone();
        let _never_handled = call(|| {
            side.on(never.clone(), move |x| {
                l.push(format!("never's {}({x})", side.handler()));
                x
            })
        });
        s.go();
        if case.later() {
            sleep(STEP / 2).await;
            assert!(!p.is_settled());
            assert!(log.take().is_empty());
        }
        assert_eq!(handled.await, Ok("x".into()));
        let ran_at = ran_at.lock().unwrap().expect("the handler ran");
        assert!(ran_at >= settled_at.lock().unwrap().expect("settled"));
        quiesce().await;
        assert_eq!(log.take(), [format!("{}(x), settled: true", side.handler())]);
        assert!(!never.is_settled());
    });
}

/// 2.2.2.3 and 2.2.3.3: `side`'s handler runs at most once, whatever else
/// the resolver tries and however many times the promise is awaited or
/// handled.
fn handler_called_at_most_once(side: Side) {
    each_case(async move |case| {
        let log = Log::default();
        let mut s = Schedule::new(case);
        let other = side.other();
        let p = s.with::<String, String>(move |r| {
            let _ = side.settle(r, "first");
            let _ = side.settle(r, "again");
            let _ = other.settle(r, "other");
            let r = r.clone();
            after(5, move || {
                let _ = side.settle(&r, "late");
                let _ = other.settle(&r, "late other");
            });
        });
        let l = log.clone();
        let first = call(|| {
            side.on(p.clone(), move |x| {
                l.push(format!("first({x})"));
                x
            })
        });
        s.go();
        // Interleaved with the settling: attached after it began.
        let l = log.clone();
        let second = call(|| {
            side.on(p.clone(), move |x| {
                l.push(format!("second({x})"));
                x
            })
        });
        assert_eq!(first.clone().await, Ok("first".into()));
        assert_eq!(first.await, Ok("first".into()));
        assert_eq!(second.await, Ok("first".into()));
        assert_eq!(p.clone().await, side.outcome("first"));
        quiesce().await;
        assert_eq!(log.take(), ["first(first)", "second(first)"]);
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
    handlers_run_in_then_order(Side::Fulfilled);
}

/// 2.2.6.2: When the promise is rejected, all respective `onRejected`
/// callbacks must execute in the order of their originating calls to
/// `then`, with the same guarantees as 2.2.6.1.
#[test]
fn a2_2_6_2_on_rejected_handlers_run_in_then_order() {
    handlers_run_in_then_order(Side::Rejected);
}

/// 2.2.6.1 and 2.2.6.2: settled to `side`, its handlers run in the order of
/// the calls that attached them.
fn handlers_run_in_then_order(side: Side) {
    each_case(async move |case| {
        let log = Log::default();
        let mut s = Schedule::new(case);
        let p = s.settle::<String, String>(side.outcome("ten"));
        let note = |name: &'static str| {
            let l = log.clone();
            move |x: String| {
                l.push(format!("{name}({x})"));
                x
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
            side.on(p.clone(), move |x| {
                drop(lock_in_handler(&gate));
                let x = first_note(x);
                drop(side.map(p2, added));
                format!("{x}+1")
            })
        });
        let second_note = note("second");
        let second = call(|| {
            side.on(p.clone(), move |x| {
                drop(second_note(x));
                panic!("boom")
            })
        });
        let third_note = note("third");
        let third = call(|| side.map(p.clone(), move |x| format!("{}!", third_note(x))));
        let fourth_note = note("fourth");
        let fourth = call(|| side.then_or_else(p.clone(), move |x| format!("{}+4", fourth_note(x))));
        let l = log.clone();
        call(|| {
            p.clone()
                .on_settled(move |outcome| l.push(format!("fifth({outcome:?})")))
        });
        drop(attaching);
        s.go();
        assert_eq!(first.await, Ok("ten+1".into()));
        assert_eq!(second.await, Err(panicked("boom")));
        assert_eq!(third.await, side.outcome("ten!"));
        assert_eq!(fourth.await, Ok("ten+4".into()));
        quiesce().await;
        assert_eq!(
            log.take(),
            [
                "first(ten)".to_string(),
                "second(ten)".to_string(),
                "third(ten)".to_string(),
                "fourth(ten)".to_string(),
                format!("fifth({:?})", side.outcome("ten")),
                "added inside first(ten)".to_string(),
            ]
        );
        let late = call(|| side.map(p.clone(), note("attached after settlement")));
        let later = call(|| side.map(p, note("attached after that")));
        assert_eq!(late.await, side.outcome("ten"));
        assert_eq!(later.await, side.outcome("ten"));
        assert_eq!(
            log.take(),
            ["attached after settlement(ten)", "attached after that(ten)"]
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
