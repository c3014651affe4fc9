// Over ~600 lines on purpose: one section of the specification, 2.3 (the
// Promise Resolution Procedure), one test per clause in the spec's order,
// as its siblings hold 2.1 and 2.2.
//! 2.3 The Promise Resolution Procedure: resolving with itself, with a
//! promise, with a thenable, and with a plain value.

use super::*;

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
    adopts_the_outcome(Side::Fulfilled);
}

/// 2.3.2.3: If/when `x` is rejected, reject `promise` with the same reason
/// (the same `Arc`).
#[test]
fn a2_3_2_3_adopting_a_rejected_promise_takes_its_reason() {
    adopts_the_outcome(Side::Rejected);
}

/// 2.3.2.2 and 2.3.2.3: a promise that adopts `x` settled to `side` takes
/// the very value (or reason) of `x`.
fn adopts_the_outcome(side: Side) {
    each_case(async move |case| {
        let outcome = shared("x's outcome");
        let mut s = Schedule::new(case);
        let p = s.settle::<i32, Shared>(Ok(1));
        let o = outcome.clone();
        let already = call(|| p.clone().then(move |_| side.settled(o)));
        let o = outcome.clone();
        let at_once = call(|| {
            p.clone().then(move |_| {
                Promise::<Shared, Shared>::new(move |r| {
                    let _ = side.settle_with(&r, o);
                })
            })
        });
        let (x, rx) = Promise::<Shared, Shared>::with_resolvers();
        let o = outcome.clone();
        after(100, move || {
            let _ = side.settle_with(&rx, o);
        });
        let later = call(|| p.then(move |_| x));
        s.go();
        for promise in [already, at_once, later] {
            assert!(Arc::ptr_eq(&side.unwrap(promise.await), &outcome));
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
