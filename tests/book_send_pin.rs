//! The code of the book's "Send, and pin projection" chapter, run as tests:
//! the fixes for a `std::sync::MutexGuard` or an `Rc` held across `.await`
//! in a spawned task, and a future that wraps another and projects its pin
//! onto it, both with `Box::pin` and with one `unsafe` projection.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

// ANCHOR: guard-scoped
/// Fix 1: end the guard's scope before the `.await`. The future holds only
/// what is alive at each `.await`, and the guard no longer is.
async fn add_then_wait(total: Arc<Mutex<u64>>, n: u64) {
    {
        let mut guard = total.lock().unwrap();
        *guard += n;
    } // the guard is dropped here, before any `.await`
    weft::task::yield_now().await;
}
// ANCHOR_END: guard-scoped

// ANCHOR: async-mutex
/// Fix 2: an async mutex, whose guard is `Send` and may be held across
/// `.await` (while it is held, other tasks wait for the lock without
/// blocking their threads).
async fn add_slowly(total: Arc<weft::sync::Mutex<u64>>, n: u64) {
    let mut guard = total.lock().await;
    weft::task::yield_now().await;
    *guard += n;
}
// ANCHOR_END: async-mutex

// ANCHOR: rc-fixes
/// `Rc` is not `Send`: a spawned future holding one across `.await` does not
/// compile. Fix 3: use `Arc`. Fix 4: keep the `Rc` out of the future's state,
/// by using it only between two `.await`s...
async fn rc_between_awaits(names: Arc<Vec<&'static str>>) -> usize {
    let count = {
        let local = Rc::new(names.len());
        *local
    }; // the Rc is gone before the `.await`
    weft::task::yield_now().await;
    count
}

/// ...or fix 5: run the future where it cannot move threads, with
/// `spawn_local` on a current-thread runtime.
fn rc_in_a_local_task() -> usize {
    let rt = weft::Runtime::builder().current_thread().build().unwrap();
    rt.block_on(async {
        let shared = Rc::new(41);
        let local = Rc::clone(&shared);
        let task = weft::task::spawn_local(async move {
            weft::task::yield_now().await;
            *local + 1
        });
        task.await.unwrap()
    })
}
// ANCHOR_END: rc-fixes

// ANCHOR: fixes-compile
/// Compiles only if `future` is `Send`: how a test pins down the promise.
fn assert_send<F: Future + Send>(future: F) -> F {
    future
}

#[test]
fn every_fix_spawns() {
    weft::block_on(async {
        let total = Arc::new(Mutex::new(0));
        weft::spawn(assert_send(add_then_wait(total.clone(), 2)))
            .await
            .unwrap();
        assert_eq!(*total.lock().unwrap(), 2);

        let total = Arc::new(weft::sync::Mutex::new(0));
        let adders: Vec<_> = (1..=3)
            .map(|n| weft::spawn(add_slowly(total.clone(), n)))
            .collect();
        for adder in adders {
            adder.await.unwrap();
        }
        assert_eq!(*total.lock().await, 6);

        let names = Arc::new(vec!["a", "b"]);
        assert_eq!(
            weft::spawn(assert_send(rc_between_awaits(names))).await.unwrap(),
            2
        );
    });
    assert_eq!(rc_in_a_local_task(), 42);
}
// ANCHOR_END: fixes-compile

// ANCHOR: projection-box
/// Counts the polls of the future it wraps. The inner future is kept in a
/// `Pin<Box<F>>`: the box is `Unpin` whatever `F` is, so `CountPolls` is
/// `Unpin` too and `poll` can use `get_mut` with no `unsafe` at all. The
/// price is one allocation.
struct CountPolls<F> {
    inner: Pin<Box<F>>,
    polls: u32,
}

impl<F: Future> Future for CountPolls<F> {
    type Output = (F::Output, u32);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.polls += 1;
        this.inner.as_mut().poll(cx).map(|out| (out, this.polls))
    }
}
// ANCHOR_END: projection-box

// ANCHOR: projection-unsafe
/// The same, with the inner future stored inline. `poll` receives
/// `Pin<&mut Self>` and must hand the inner future a `Pin<&mut F>`: a
/// *projection* of the pin onto a field. `polls` is not pinned (it is moved
/// and changed freely); `inner` is pinned.
struct CountPollsInline<F> {
    inner: F,
    polls: u32,
}

impl<F: Future> Future for CountPollsInline<F> {
    type Output = (F::Output, u32);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // `inner` is never moved out of `self` (no method takes it by value
        // or swaps it), this type has no `Drop` impl that could move it, and
        // it is `Unpin` only when `F` is (the auto trait).
        // SAFETY: so `inner` is structurally pinned: a pinned `self` keeps it in place.
        let this = unsafe { self.get_unchecked_mut() };
        this.polls += 1;
        // SAFETY: as above: `inner` stays where it is for as long as `self`
        // does, which the caller's `Pin<&mut Self>` guarantees.
        let inner = unsafe { Pin::new_unchecked(&mut this.inner) };
        inner.poll(cx).map(|out| (out, this.polls))
    }
}
// ANCHOR_END: projection-unsafe

#[test]
fn both_wrappers_count_the_polls_of_a_future_that_is_not_unpin() {
    weft::block_on(async {
        weft::time::pause();
        // An async block that awaits is not Unpin: it may borrow itself.
        let work = async {
            weft::task::yield_now().await;
            weft::time::sleep(Duration::from_secs(1)).await;
            "done"
        };
        let boxed = CountPolls {
            inner: Box::pin(work),
            polls: 0,
        };
        assert_eq!(boxed.await, ("done", 3));

        let inline = CountPollsInline {
            inner: async {
                weft::task::yield_now().await;
                "done"
            },
            polls: 0,
        };
        assert_eq!(inline.await, ("done", 2));
    });
}
