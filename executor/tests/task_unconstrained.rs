//! `task::unconstrained`: no forced yields inside, the budget untouched
//! outside.

mod support;

use std::future::poll_fn;
use std::task::Poll;
use weft_executor::{coop, task};

/// Runs `n` always-ready budget steps; returns how many times the budget
/// forced a yield.
async fn ready_steps(n: usize) -> usize {
    let mut forced = 0;
    for _ in 0..n {
        poll_fn(|cx| match coop::poll_proceed(cx) {
            Poll::Ready(()) => Poll::Ready(()),
            Poll::Pending => {
                forced += 1;
                Poll::Pending
            }
        })
        .await;
    }
    forced
}

#[test]
fn a_loop_that_would_yield_does_not_inside_unconstrained() {
    for (name, rt) in support::setups() {
        eprintln!("setup: {name}");
        let (constrained, unconstrained) = rt.block_on(async {
            weft_executor::spawn(async {
                let constrained = ready_steps(1_000).await;
                let unconstrained = task::unconstrained(ready_steps(1_000)).await;
                (constrained, unconstrained)
            })
            .await
            .unwrap()
        });
        assert!(
            constrained >= 1_000 / usize::from(coop::BUDGET) - 1,
            "{constrained}"
        );
        assert_eq!(unconstrained, 0);
    }
}

#[test]
fn the_budget_outside_is_left_as_it_was() {
    let rt = weft_executor::Runtime::builder()
        .current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        weft_executor::spawn(async {
            // Spend all but one unit, without yielding.
            poll_fn(|cx| {
                for _ in 1..coop::BUDGET {
                    assert!(coop::poll_proceed(cx).is_ready());
                }
                Poll::Ready(())
            })
            .await;
            task::unconstrained(ready_steps(500)).await;
            assert!(coop::has_budget_remaining());
            poll_fn(|cx| {
                assert!(coop::poll_proceed(cx).is_ready());
                assert!(!coop::has_budget_remaining());
                Poll::Ready(())
            })
            .await;
        })
        .await
        .unwrap();
    });
}
