//! `yield_now`: give the worker to the other tasks once.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Yields once to the scheduler: the current task goes to the back of the run
/// queue and every task queued before it runs first.
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use weft_executor::{task, Runtime};
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
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
