//! Channels and synchronization primitives for async code, runtime-agnostic.
//!
//! Nothing here spawns a task or needs a runtime's timer: every type only
//! stores and wakes [`Waker`](std::task::Waker)s, so it works unchanged
//! under weft, tokio, smol or a hand-written executor. (The locks read
//! std's monotonic clock, `Instant::now`, on their slow paths, to bound how
//! long a waiter may be overtaken: see [`Mutex`]'s fairness.)
//!
//! | to... | use |
//! | --- | --- |
//! | send many values to one consumer | [`mpsc`] |
//! | send one value once | [`oneshot`] |
//! | send every value to every consumer | [`broadcast`] |
//! | publish the latest value of something | [`watch`] |
//! | share mutable state between tasks | [`Mutex`], [`RwLock`] |
//! | limit how many tasks do something at once | [`Semaphore`] |
//! | wake a task without sending data | [`Notify`] |
//! | wait until `n` tasks have arrived | [`Barrier`] |
//! | initialize something once, asynchronously | [`OnceCell`] |
//!
//! Every waiting future here is cancel-safe unless its docs say otherwise:
//! dropping it before it completes loses no message, leaks no permit and
//! leaves the primitive usable.
//!
//! # Errors
//!
//! Each channel has an `error` module, and a send that cannot deliver gives
//! the value back. [`mpsc`], [`broadcast`] and [`watch`] follow one pattern:
//! `SendError<T>(pub T)` with `into_inner`, a `Debug` that does not need
//! `T: Debug`, and a `Display` that names the end that is gone. They are
//! three types, as in tokio, because what is gone differs ("the receiver",
//! "no receiver is subscribed", "every receiver"); [`oneshot`]'s `send`
//! returns the value itself as its `Err`.

pub mod broadcast;
pub mod mpsc;
#[allow(unsafe_code)] // the state word hands the cells over: see its protocol
pub mod oneshot;
pub mod watch;

mod barrier;
#[allow(unsafe_code)] // the guarded data: see the module's protocol
mod mutex;
mod notify;
mod once_cell;
#[allow(unsafe_code)] // the guarded data: see the module's protocol
mod rwlock;
mod semaphore;
#[cfg(test)]
mod tests;

pub use self::barrier::{Barrier, BarrierWait, BarrierWaitResult};
pub use self::mutex::{Lock, Mutex, MutexGuard, OwnedMutexGuard, TryLockError};
pub use self::notify::{Notified, Notify};
pub use self::once_cell::{OnceCell, SetError};
pub use self::rwlock::{
    OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock, RwLockRead, RwLockReadGuard, RwLockWrite,
    RwLockWriteGuard,
};
pub use self::semaphore::{
    Acquire, AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};
