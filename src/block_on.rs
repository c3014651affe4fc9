//! `weft::block_on`: one call to run a future, sockets and timers included.

use crate::Runtime;
use std::cell::OnceCell;
use std::future::Future;

thread_local! {
    /// A current-thread runtime kept for this thread's `block_on` calls.
    static RUNTIME: OnceCell<Runtime> = const { OnceCell::new() };
}

/// Runs `future` to completion on this thread and returns its output.
///
/// The future runs on a current-thread runtime that weft keeps for the
/// calling thread, made on the first call: sockets, timers, `spawn` and
/// `spawn_local` all work inside, and a later call on the same thread costs
/// no setup. Tasks spawned and not finished when `block_on` returns wait
/// for the thread's next `block_on`. For a multi-thread runtime, build a
/// [`Runtime`].
///
/// # Panics
///
/// Panics if called from inside a runtime (a task, a worker, or another
/// `block_on`): use `.await` there. Panics if the operating system refuses
/// the runtime's reactor on the first call (no file descriptors left), or if
/// `future` panics.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let n = weft::block_on(async {
///     weft::time::sleep(Duration::from_millis(1)).await;
///     weft::spawn(async { 21 }).await.unwrap() * 2
/// });
/// assert_eq!(n, 42);
/// ```
#[track_caller]
pub fn block_on<F: Future>(future: F) -> F::Output {
    let run = |rt: &OnceCell<Runtime>| {
        let rt = rt.get_or_init(|| {
            Runtime::builder()
                .current_thread()
                .build()
                .unwrap_or_else(|e| panic!("weft::block_on could not start its runtime: {e}"))
        });
        rt.block_on(future)
    };
    match RUNTIME.try_with(|_| ()) {
        Ok(()) => RUNTIME.with(run),
        // This thread is being torn down: a runtime for this call only.
        Err(_) => run(&OnceCell::new()),
    }
}
