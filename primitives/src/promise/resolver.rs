//! The settling end of a promise: [`Resolver`], and the group of clones
//! that share its one call.

use super::state::Inner;
use super::thenable::{Thenable, hidden};
use super::{AlreadyResolved, PromiseError};
use crate::loom::{atomic::AtomicBool, atomic::Ordering};
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

/// The settling end of a promise: [`Promise::new`](super::Promise::new) hands one to its
/// executor, and [`Promise::with_resolvers`](super::Promise::with_resolvers) returns one.
///
/// The first of `resolve`, `reject`, `settle` or `adopt` called on any
/// clone decides the promise; later calls return [`AlreadyResolved`] with
/// the value given back. If every clone is dropped before one is called,
/// the promise is rejected with [`PromiseError::Abandoned`]: it never hangs.
///
/// # Examples
///
/// ```
/// use weft::promise::Promise;
///
/// weft::block_on(async {
///     let (promise, resolver) = Promise::<&str, String>::with_resolvers();
///     std::thread::spawn(move || {
///         let _ = resolver.resolve("from a thread");
///     });
///     assert_eq!(promise.await, Ok("from a thread"));
/// });
/// ```
pub struct Resolver<T, E> {
    pub(super) group: Arc<Group<T, E>>,
}

// ANCHOR: group
/// One chance to settle a promise, shared by clones of a resolver: the
/// first call wins. A promise that adopts a thenable gives the thenable a
/// new group, as the Promises/A+ resolution procedure makes fresh
/// `resolvePromise` / `rejectPromise` functions for each `then` call.
pub(super) struct Group<T, E> {
    pub(super) promise: Arc<Inner<T, E>>,
    called: AtomicBool,
}
// ANCHOR_END: group

impl<T, E> Resolver<T, E> {
    pub(super) fn new_group(promise: Arc<Inner<T, E>>) -> Resolver<T, E> {
        Resolver {
            group: Arc::new(Group {
                promise,
                called: AtomicBool::new(false),
            }),
        }
    }

    // ANCHOR: lock-in
    /// Claims this group's one call; false if it was already made.
    pub(super) fn lock_in(&self) -> bool {
        !self.group.called.swap(true, Ordering::AcqRel)
    }
    // ANCHOR_END: lock-in

    /// True once a call on this resolver (or a clone) has decided the
    /// promise; further calls will fail.
    pub fn is_resolved(&self) -> bool {
        self.group.called.load(Ordering::Acquire)
    }
}

impl<T, E> Resolver<T, E>
where
    T: Clone + Send + 'static,
    E: Clone + Send + 'static,
{
    /// Runs `f` with this resolver; a panic in `f` before it decided the
    /// promise rejects it with [`PromiseError::Panicked`], one after is
    /// ignored.
    pub(super) fn run(self, f: impl FnOnce(Resolver<T, E>)) {
        let guard = self.clone();
        if let Err(panic) = catch_unwind(AssertUnwindSafe(move || f(self))) {
            guard.panicked(panic);
        }
    }

    /// Rejects with the panic, unless the promise was already decided.
    pub(super) fn panicked(&self, panic: Box<dyn std::any::Any + Send>) {
        if self.lock_in() {
            self.group.promise.fail(PromiseError::from_panic(panic));
        }
    }

    // ANCHOR: resolve
    /// Fulfills the promise with `value`.
    ///
    /// # Errors
    ///
    /// [`AlreadyResolved`] with `value` if the promise was already decided.
    pub fn resolve(&self, value: T) -> Result<(), AlreadyResolved<T>> {
        if !self.lock_in() {
            return Err(AlreadyResolved(value));
        }
        self.group.promise.settle(Ok(value));
        Ok(())
    }
    // ANCHOR_END: resolve

    /// Rejects the promise with `reason`.
    ///
    /// # Errors
    ///
    /// [`AlreadyResolved`] with `reason` if the promise was already decided.
    pub fn reject(&self, reason: E) -> Result<(), AlreadyResolved<E>> {
        if !self.lock_in() {
            return Err(AlreadyResolved(reason));
        }
        self.group.promise.settle(Err(reason));
        Ok(())
    }

    /// Fulfills (`Ok`) or rejects (`Err`) the promise.
    ///
    /// # Errors
    ///
    /// [`AlreadyResolved`] with `outcome` if the promise was already decided.
    pub fn settle(&self, outcome: Result<T, E>) -> Result<(), AlreadyResolved<Result<T, E>>> {
        if !self.lock_in() {
            return Err(AlreadyResolved(outcome));
        }
        self.group.promise.settle(outcome);
        Ok(())
    }

    /// Makes the promise follow `thenable` (another promise, a `Result`, a
    /// foreign [`Thenable`]): it settles as the thenable does. Adopting the
    /// promise itself, or one that already follows it, rejects with
    /// [`PromiseError::Cycle`].
    ///
    /// # Errors
    ///
    /// [`AlreadyResolved`] with `thenable` if the promise was already
    /// decided.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::promise::Promise;
    ///
    /// weft::block_on(async {
    ///     let (p, resolver) = Promise::<u8, String>::with_resolvers();
    ///     resolver.adopt(Promise::spawn(async { Ok(9) })).unwrap();
    ///     assert_eq!(p.await, Ok(9));
    /// });
    /// ```
    pub fn adopt<Th: Thenable<T, E>>(&self, thenable: Th) -> Result<(), AlreadyResolved<Th>> {
        if !self.lock_in() {
            return Err(AlreadyResolved(thenable));
        }
        thenable.adopt_into(hidden::Target(&self.group.promise));
        Ok(())
    }

    pub(super) fn settle_unchecked(&self, outcome: Result<T, E>) {
        let _ = self.settle(outcome);
    }

    pub(super) fn adopt_unchecked<Th: Thenable<T, E>>(&self, thenable: Th) {
        let _ = self.adopt(thenable);
    }
}

impl<T, E> Clone for Resolver<T, E> {
    fn clone(&self) -> Resolver<T, E> {
        Resolver {
            group: self.group.clone(),
        }
    }
}

// ANCHOR: abandon
impl<T, E> Drop for Group<T, E> {
    fn drop(&mut self) {
        if !self.called.load(Ordering::Acquire) {
            (self.promise.abandon)(&self.promise);
        }
    }
}
// ANCHOR_END: abandon

impl<T, E> fmt::Debug for Resolver<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver")
            .field("resolved", &self.is_resolved())
            .finish_non_exhaustive()
    }
}
