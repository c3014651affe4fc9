//! `yield_now`: give the worker to the other tasks once.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Yields once to the scheduler: every task queued before the current one
/// runs first, and so do the tasks that I/O readiness and timers wake in the
/// meantime.
///
/// On a runtime thread, the current task is not queued again at once: the
/// scheduler keeps its waker until it next gives the driver a turn (at the
/// latest when its run queue runs empty, without blocking since the yielder
/// waits), then queues it at the back. So a task that loops on `yield_now`
/// waiting for something a socket or a timer will bring gets it within a
/// yield or two, as with tokio. Elsewhere (inside a plain
/// [`block_on`](crate::block_on), on the blocking pool, or on the thread in a
/// multi-thread runtime's `block_on`) it wakes itself at once.
///
/// # Examples
///
/// ```
/// # use weft_executor as weft;
/// use std::sync::{Arc, Mutex};
/// use weft::{task, Runtime};
///
/// let rt = Runtime::builder().current_thread().build().unwrap();
/// let order = Arc::new(Mutex::new(Vec::new()));
/// rt.block_on({
///     let order = order.clone();
///     async move {
///         let o = order.clone();
///         let other = task::spawn(async move { o.lock().unwrap().push("other") });
///         task::yield_now().await; // `other` runs now
///         order.lock().unwrap().push("after yield");
///         other.await.unwrap();
///     }
/// });
/// assert_eq!(*order.lock().unwrap(), ["other", "after yield"]);
///
/// // Without a runtime it simply returns on its second poll.
/// weft::block_on(task::yield_now());
/// ```
pub async fn yield_now() {
    YieldNow { yielded: false }.await
}

struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        crate::scheduler::defer(cx.waker());
        Poll::Pending
    }
}
