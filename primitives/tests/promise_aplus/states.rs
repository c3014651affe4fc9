//! 2.1 Promise states: pending, fulfilled, rejected, and that a settled
//! promise never changes.

use super::*;

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
    never_transitions(Side::Fulfilled);
}

/// 2.1.3.1: When rejected, a promise must not transition to any other
/// state; later attempts are refused and `onFulfilled` never runs.
#[test]
fn a2_1_3_1_rejected_never_transitions_to_another_state() {
    never_transitions(Side::Rejected);
}

/// 2.1.2.1 and 2.1.3.1: settled to `side`, a promise refuses every attempt
/// to settle it the other way, and only `side`'s handler runs.
fn never_transitions(side: Side) {
    each_case(async move |case| {
        let (log, attempts) = (Log::default(), Log::default());
        let mut s = Schedule::new(case);
        let a = attempts.clone();
        let other = side.other();
        let p = s.with::<String, String>(move |r| {
            a.note(format!("{side:?}: {:?}", side.settle(r, "first")));
            a.note(format!("{other:?}: {:?}", other.settle(r, "second")));
            let settled = r.clone().settle(other.outcome("third"));
            a.note(format!("settle through a clone: {:?}", settled.map_err(|e| e.0)));
            let adopted = r.adopt(other.outcome("fourth"));
            a.note(format!("adopt: {:?}", adopted.map_err(|e| e.0)));
            let (a, r) = (a.clone(), r.clone());
            after(5, move || {
                a.note(format!("{other:?} later: {:?}", other.settle(&r, "late")));
            });
        });
        let watched = watch(&p, &log);
        s.go();
        assert_eq!(watched.await, Ok(()));
        assert_eq!(p.clone().await, side.outcome("first"));
        quiesce().await;
        assert_eq!(
            attempts.take(),
            [
                format!("{side:?}: Ok(())"),
                format!(r#"{other:?}: Err("second")"#),
                format!("settle through a clone: Err({:?})", other.outcome("third")),
                format!("adopt: Err({:?})", other.outcome("fourth")),
                format!(r#"{other:?} later: Err("late")"#),
            ]
        );
        let state = format!("{side:?}").to_lowercase();
        assert_eq!(log.take(), [format!("{state} with first")]);
        assert_eq!(p.peek(), Some(side.outcome("first")));
        assert_eq!(p.await, side.outcome("first"));
    });
}

/// 2.1.2.2: When fulfilled, a promise must have a value, which must not
/// change: every handler and awaiter, before and after settlement, gets
/// that very value (the same `Arc`), and a second `resolve` is refused.
#[test]
fn a2_1_2_2_fulfilled_value_never_changes() {
    outcome_never_changes(Side::Fulfilled);
}

/// 2.1.3.2: When rejected, a promise must have a reason, which must not
/// change: every handler and awaiter gets that very reason (the same
/// `Arc`), and a second `reject` is refused.
#[test]
fn a2_1_3_2_rejected_reason_never_changes() {
    outcome_never_changes(Side::Rejected);
}

/// 2.1.2.2 and 2.1.3.2: settled to `side`, every observer gets the very
/// value (or reason) it was settled with.
fn outcome_never_changes(side: Side) {
    each_case(async move |case| {
        let first = shared("first");
        let attempts = Log::default();
        let mut s = Schedule::new(case);
        let (x, a) = (first.clone(), attempts.clone());
        let p = s.with::<Shared, Shared>(move |r| {
            let _ = side.settle_with(r, x);
            let again = side.settle_with(r, shared("second"));
            a.note(format!("{side:?} again: {:?}", again.map_err(|e| e.to_string())));
        });
        // `map` or `map_err`, with the identity.
        let identity = |p: &Promise<Shared, Shared>| {
            call(|| match side {
                Side::Fulfilled => p.clone().map(|v| v),
                Side::Rejected => p.clone().map_err(|e| e),
            })
        };
        let before = identity(&p);
        // `then` or `catch`, handing the outcome on unchanged.
        let through_handler = call(|| match side {
            Side::Fulfilled => p.clone().then(Ok::<_, Shared>),
            Side::Rejected => p.clone().catch(Err::<Shared, Shared>),
        });
        s.go();
        let outcomes = [
            before.await,
            through_handler.await,
            p.clone().await,
            p.clone().await,
            identity(&p).await,
            p.peek().unwrap(),
        ];
        for got in outcomes {
            let got = side.unwrap(got);
            assert!(Arc::ptr_eq(&got, &first), "a different one: {got}");
        }
        assert_eq!(attempts.take(), [format!(r#"{side:?} again: Err("second")"#)]);
    });
}
