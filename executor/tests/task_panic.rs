//! A task that panics: what its future's destructors observe.

mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

/// Records, when dropped, whether the thread was unwinding.
struct Guard(Arc<Mutex<Vec<bool>>>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.lock().unwrap().push(std::thread::panicking());
    }
}

/// A hand-written future (an `async` block would drop its own locals while
/// unwinding out of the poll, whatever the harness does): it holds a guard
/// in its fields and panics when polled.
struct PanicsHoldingGuard {
    _guard: Guard,
}

impl Future for PanicsHoldingGuard {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        panic!("boom");
    }
}

#[test]
fn a_panicking_tasks_future_is_dropped_while_unwinding() {
    for (name, rt) in support::setups() {
        eprintln!("setup: {name}");
        let record = Arc::new(Mutex::new(Vec::new()));
        let guard = Guard(record.clone());
        let err = rt.block_on(async move {
            weft_executor::spawn(PanicsHoldingGuard { _guard: guard })
                .await
                .unwrap_err()
        });
        assert!(err.is_panic());
        assert_eq!(*record.lock().unwrap(), [true]);
    }
}

#[test]
fn a_completed_tasks_future_is_dropped_normally() {
    for (name, rt) in support::setups() {
        eprintln!("setup: {name}");
        let record = Arc::new(Mutex::new(Vec::new()));
        let guard = Guard(record.clone());
        rt.block_on(async move {
            weft_executor::spawn(async move {
                let _guard = guard;
            })
            .await
            .unwrap()
        });
        assert_eq!(*record.lock().unwrap(), [false]);
    }
}

#[test]
fn an_aborted_tasks_future_is_dropped_normally() {
    for (name, rt) in support::setups() {
        eprintln!("setup: {name}");
        let record = Arc::new(Mutex::new(Vec::new()));
        let guard = Guard(record.clone());
        let err = rt.block_on(async move {
            let handle = weft_executor::spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await
            });
            weft_executor::task::yield_now().await;
            handle.abort();
            handle.await.unwrap_err()
        });
        assert!(err.is_cancelled());
        assert_eq!(*record.lock().unwrap(), [false]);
    }
}
