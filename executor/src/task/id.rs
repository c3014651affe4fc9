//! Task ids: a number per spawned task, and which task is running now.
//!
//! Ids come from one process-wide counter, taken once per spawn; the id lives
//! in the task's header, so it costs no allocation. While the harness polls a
//! task (or drops its future) it records the task's id in a thread-local, so
//! [`id`] can answer from inside the task; a guard restores the previous
//! value afterwards, on unwind too.

use std::cell::Cell;
use std::fmt;
use std::num::NonZeroU64;
// Not the loom shim: the counter only has to hand out distinct numbers, it
// orders no other memory, and a loom atomic cannot live in a `static`.
use std::sync::atomic::{AtomicU64, Ordering};

/// An opaque number that identifies a task.
///
/// Every spawned task gets one, distinct from the id of every other task
/// spawned in this process (ids come from a 64-bit counter, which does not
/// wrap in practice). An id may be printed, compared, hashed and kept after
/// the task is gone; it is only a name, and gives no access to the task.
///
/// Get it from [`JoinHandle::id`](crate::task::JoinHandle::id),
/// [`AbortHandle::id`](crate::task::AbortHandle::id),
/// [`JoinError::id`](crate::task::JoinError::id), or inside the task from
/// [`id`] / [`try_id`].
///
/// # Examples
///
/// ```
/// # use weft_executor as weft;
/// use weft::{task, Runtime};
///
/// let rt = Runtime::new().unwrap();
/// rt.block_on(async {
///     let handle = weft::spawn(async { task::id() });
///     let expected = handle.id();
///     assert_eq!(handle.await.unwrap(), expected);
///     println!("task {expected} done");
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(NonZeroU64);

impl Id {
    /// A fresh id.
    pub(crate) fn next() -> Id {
        // Under loom, a counter of each execution's own: the ids, and so
        // the registry shards they pick, are then the same in every
        // execution of a model, whatever ids the tests running beside it
        // take (a model that explores a different path on a rerun fails
        // with "unexpected exploration state").
        #[cfg(all(test, loom))]
        loom::lazy_static! {
            static ref NEXT: AtomicU64 = AtomicU64::new(1);
        }
        #[cfg(not(all(test, loom)))]
        static NEXT: AtomicU64 = AtomicU64::new(1);
        loop {
            // Relaxed: uniqueness comes from the read-modify-write alone.
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            // Zero only after 2^64 spawns, when the counter wraps.
            if let Some(n) = NonZeroU64::new(n) {
                return Id(n);
            }
        }
    }

    /// The number, for the registry to pick a shard with.
    pub(crate) fn as_u64(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// The task this thread is running: its id, and, while its future is
/// polled, the data pointer of the waker it was polled with (its header),
/// by which `yield_now` tells the task's own waker from anyone else's.
#[derive(Clone, Copy)]
struct Running {
    id: Id,
    waker_data: *const (),
}

#[cfg(not(all(test, loom)))]
std::thread_local! {
    static CURRENT: Cell<Option<Running>> = const { Cell::new(None) };
}

#[cfg(all(test, loom))]
loom::thread_local! {
    static CURRENT: Cell<Option<Running>> = Cell::new(None);
}

/// Makes `id` the current task's id until dropped, then restores the
/// previous one.
pub(crate) struct CurrentGuard {
    prev: Option<Running>,
}

impl CurrentGuard {
    /// For work on the task that is not a poll (dropping its future).
    #[inline]
    pub(crate) fn enter(id: Id) -> CurrentGuard {
        Self::set(Running {
            id,
            waker_data: std::ptr::null(),
        })
    }

    /// For a poll of the task's future with a waker whose data pointer is
    /// `waker_data`.
    #[inline]
    pub(crate) fn enter_poll(id: Id, waker_data: *const ()) -> CurrentGuard {
        Self::set(Running { id, waker_data })
    }

    #[inline]
    fn set(running: Running) -> CurrentGuard {
        let prev = CURRENT.try_with(|cur| cur.replace(Some(running))).ok().flatten();
        CurrentGuard { prev }
    }
}

impl Drop for CurrentGuard {
    #[inline]
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|cur| cur.set(self.prev));
    }
}

/// True if `waker` is the waker of the task being polled on this thread:
/// not a waker of some other future polled inside it (another executor's
/// `block_on`, a hand-written `select`), which no scheduler of ours would
/// wake if it were kept back.
pub(crate) fn is_polled_tasks_waker(waker: &std::task::Waker) -> bool {
    let data = waker.data();
    !data.is_null()
        && CURRENT
            .try_with(|cur| cur.get().is_some_and(|running| running.waker_data == data))
            .unwrap_or(false)
}

/// Returns the id of the task being run on this thread.
///
/// Inside a spawned task (while it is polled, or while its future is
/// dropped) this is the task's id; [`JoinHandle::id`](crate::task::JoinHandle::id)
/// gives the same value from outside.
///
/// # Panics
///
/// Panics when no task is running on this thread: outside a runtime, and
/// also in the future given to `block_on` (or `LocalSet::run_until`), which
/// is not a spawned task. Use [`try_id`] there.
///
/// # Examples
///
/// ```
/// # use weft_executor as weft;
/// use weft::{task, Runtime};
///
/// let rt = Runtime::new().unwrap();
/// let (inside, handle_id) = rt.block_on(async {
///     let handle = weft::spawn(async { task::id() });
///     let handle_id = handle.id();
///     (handle.await.unwrap(), handle_id)
/// });
/// assert_eq!(inside, handle_id);
/// ```
#[track_caller]
pub fn id() -> Id {
    try_id().expect(
        "`task::id` called outside a spawned task (the future given to `block_on` is not a task); \
         use `task::try_id` where there may be none",
    )
}

/// Returns the id of the task being run on this thread, or `None` when no
/// task is (see [`id`]).
///
/// # Examples
///
/// ```
/// # use weft_executor as weft;
/// use weft::{task, Runtime};
///
/// assert_eq!(task::try_id(), None);
/// let rt = Runtime::new().unwrap();
/// rt.block_on(async {
///     assert_eq!(task::try_id(), None); // `block_on`'s future is not a task
///     let inside = weft::spawn(async { task::try_id() }).await.unwrap();
///     assert!(inside.is_some());
/// });
/// ```
pub fn try_id() -> Option<Id> {
    CURRENT
        .try_with(Cell::get)
        .ok()
        .flatten()
        .map(|running| running.id)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn ids_are_distinct_and_print_as_numbers() {
        let a = Id::next();
        let b = Id::next();
        assert_ne!(a, b);
        assert_eq!(a.to_string(), a.0.to_string());
        assert_eq!(format!("{a:?}"), format!("Id({})", a.0));
    }

    #[test]
    fn the_guard_nests_and_restores() {
        let (a, b) = (Id::next(), Id::next());
        assert_eq!(try_id(), None);
        {
            let _outer = CurrentGuard::enter(a);
            {
                let _inner = CurrentGuard::enter(b);
                assert_eq!(try_id(), Some(b));
            }
            assert_eq!(try_id(), Some(a));
        }
        assert_eq!(try_id(), None);
    }
}
