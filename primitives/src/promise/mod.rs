//! Promises with JavaScript's semantics.
//!
//! A [`Promise<T, E>`] is a value that will be *fulfilled* with a `T` or
//! *rejected* with an `E`, once. It is
//!
//! - **eager**: the work behind it starts when it is made, awaited or not;
//! - **shareable**: `Clone`, with any number of handlers and awaiters, each
//!   seeing the same outcome;
//! - **a future**: `promise.await` gives `Result<T, E>`.
//!
//! Handlers attached with [`then`](Promise::then), [`catch`](Promise::catch)
//! and [`finally`](Promise::finally) return new promises, so work chains as
//! in JavaScript. They take the handle by value, so that they are found
//! before the like-named methods of `futures::FutureExt` (a promise is a
//! future); clone the handle to attach more than one. A handler may return a `Result`, another promise, or any
//! [`Thenable`], which the new promise *adopts* (the Promises/A+ resolution
//! procedure); [`map`](Promise::map) and [`map_err`](Promise::map_err) take
//! handlers that return plain values. Handlers run as jobs on the
//! [spawner](crate::spawner)'s event loop: never inside the call that
//! attached them or the call that settled the promise, each exactly once,
//! after settlement, in the order they were attached.
//!
//! A handler that panics rejects the promise it returned, as a `throw` does
//! in JavaScript. That needs a rejection reason made from the panic, so the
//! promises that can fail this way have an error type `E:
//! From<PromiseError>`; [`PromiseError`] converts into `String`,
//! `std::io::Error`, `Arc<dyn Error + Send + Sync>`, [`AggregateError`]
//! of any of these, `Box<dyn Error + Send + Sync>` (through the standard
//! library's conversion for every error) and itself.
//!
//! # Examples
//!
//! ```
//! use weft::promise::Promise;
//!
//! weft::block_on(async {
//!     let price = Promise::<u32, String>::new(|resolver| {
//!         let _ = resolver.resolve(40);
//!     });
//!     let total = price
//!         .then(|p| if p > 100 { Err("too dear".to_string()) } else { Ok(p + 2) })
//!         .map(|p| format!("total: {p}"));
//!     assert_eq!(total.await.as_deref(), Ok("total: 42"));
//! });
//! ```

mod combinators;
mod error;
mod unhandled;

#[cfg(all(test, loom))]
mod loom_promise;

pub use self::combinators::Settled;
pub use self::error::{AggregateError, AlreadyResolved, PromiseError};
pub use self::unhandled::{Hook, UnhandledRejection, set_unhandled_rejection_hook};

use crate::loom::{Mutex, atomic::AtomicBool, atomic::Ordering, lock};
use crate::spawner::{Job, RunJob, Spawner};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Waker};

/// A value that will be fulfilled with a `T` or rejected with an `E`.
///
/// See the [module docs](self) for what a promise guarantees.
///
/// # Examples
///
/// ```
/// use weft::promise::Promise;
///
/// weft::block_on(async {
///     let p = Promise::<i32, String>::spawn(async { Ok(7) });
///     // Shared: handlers take a handle, and a clone is another handle to
///     // the same promise; both can be awaited.
///     let doubled = p.clone().map(|n| n * 2);
///     assert_eq!(p.await, Ok(7));
///     assert_eq!(doubled.await, Ok(14));
/// });
/// ```
pub struct Promise<T, E> {
    inner: Arc<Inner<T, E>>,
    /// This handle's slot among the awaiters' wakers, once it has polled.
    waiter: Option<usize>,
}

/// The settling end of a promise: [`Promise::new`] hands one to its
/// executor, and [`Promise::with_resolvers`] returns one.
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
    group: Arc<Group<T, E>>,
}

// ANCHOR: group
/// One chance to settle a promise, shared by clones of a resolver: the
/// first call wins. A promise that adopts a thenable gives the thenable a
/// new group, as the Promises/A+ resolution procedure makes fresh
/// `resolvePromise` / `rejectPromise` functions for each `then` call.
struct Group<T, E> {
    promise: Arc<Inner<T, E>>,
    called: AtomicBool,
}
// ANCHOR_END: group

/// A foreign promise-like value that a promise can adopt: its `then` is
/// called once (as [`call_then`](Thenable::call_then)), with a resolver for
/// the adopting promise.
///
/// The first call the thenable makes on the resolver (or a clone) wins;
/// later ones are ignored. A panic in `call_then` before it settles the resolver
/// rejects the promise with [`PromiseError::Panicked`]; a panic after is
/// ignored. A resolver dropped uncalled rejects with
/// [`PromiseError::Abandoned`]. `call_then` runs as a job on the event loop,
/// never inside the call that adopted the thenable.
///
/// `Result<T, E>` (already settled), `Promise<T, E>` and `()` (fulfilled
/// with `()`) are thenables.
///
/// # Examples
///
/// ```
/// use weft::promise::{Promise, Resolver, Thenable};
///
/// /// A legacy future-like thing with its own callback API.
/// struct LegacyLookup(u32);
///
/// impl Thenable<String, String> for LegacyLookup {
///     fn call_then(self, resolver: Resolver<String, String>) {
///         let _ = resolver.resolve(format!("user {}", self.0));
///     }
/// }
///
/// weft::block_on(async {
///     let name = Promise::<u32, String>::resolve(7).then(LegacyLookup);
///     assert_eq!(name.await.as_deref(), Ok("user 7"));
/// });
/// ```
pub trait Thenable<T, E>: Send + Sized + 'static
where
    T: Clone + Send + 'static,
    E: Clone + Send + 'static,
{
    /// Settles `resolver` with this thenable's outcome, now or later: the
    /// `then(resolvePromise, rejectPromise)` of a JavaScript thenable.
    /// (Named apart from [`Promise::then`], which takes handlers.)
    fn call_then(self, resolver: Resolver<T, E>);

    /// How a promise adopts this thenable. The default calls
    /// [`call_then`](Thenable::call_then) in a job with a fresh resolver; weft's own
    /// thenables settle directly. Not meant to be overridden.
    #[doc(hidden)]
    fn adopt_into(self, target: hidden::Target<'_, T, E>) {
        target.0.adopt_foreign(self);
    }
}

mod hidden {
    /// The promise being resolved, as [`Thenable::adopt_into`] sees it.
    #[allow(missing_debug_implementations, unreachable_pub)]
    pub struct Target<'a, T, E>(pub(super) &'a super::Arc<super::Inner<T, E>>);
}

// ANCHOR: state
/// What a settled promise's reaction receives.
type Reaction<T, E> = Box<dyn FnOnce(Result<T, E>) + Send>;

struct Inner<T, E> {
    state: Mutex<State<T, E>>,
    /// The reason for failures the machinery detects itself (a panic, a
    /// cycle, every resolver dropped); `None` for promises that cannot fail
    /// that way (made already settled, or by a combinator).
    make_error: Option<fn(PromiseError) -> E>,
    /// Rejects the promise with [`PromiseError::Abandoned`]: kept as a
    /// function so that a resolver's `Drop` needs no bounds.
    abandon: fn(&Arc<Inner<T, E>>),
    /// Hands a rejection nobody handled to the hook.
    report: fn(&E),
}

struct State<T, E> {
    outcome: Option<Result<T, E>>,
    /// Where reactions run; set at creation, or by the first `then` on a
    /// promise made outside any spawner.
    spawner: Option<Spawner>,
    /// Reactions not yet run: all of them before settlement; after it, one
    /// queued job per entry takes the front one.
    reactions: VecDeque<Reaction<T, E>>,
    waiters: Vec<Option<Waker>>,
    free_waiters: Vec<usize>,
    /// The promise this one is adopting, to detect cycles.
    following: Option<Weak<Inner<T, E>>>,
    /// A handler or an awaiter was ever attached.
    handled: bool,
}
// ANCHOR_END: state

// ANCHOR: unhandled
impl<T, E> Drop for Inner<T, E> {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        if let (Some(Err(reason)), false) = (&state.outcome, state.handled) {
            (self.report)(reason);
        }
    }
}
// ANCHOR_END: unhandled

impl<T, E> Inner<T, E>
where
    T: Clone + Send + 'static,
    E: Clone + Send + 'static,
{
    /// Shared state for a promise: pending, or settled with `outcome`.
    /// `make_error` is `None` for promises the machinery itself cannot fail
    /// (made settled, or by a combinator).
    fn new(
        spawner: Option<Spawner>,
        outcome: Option<Result<T, E>>,
        make_error: Option<fn(PromiseError) -> E>,
    ) -> Arc<Inner<T, E>> {
        Arc::new(Inner {
            state: Mutex::new(State {
                outcome,
                spawner,
                reactions: VecDeque::new(),
                waiters: Vec::new(),
                free_waiters: Vec::new(),
                following: None,
                handled: false,
            }),
            make_error,
            abandon: abandon::<T, E>,
            report: report::<E>,
        })
    }

    // ANCHOR: settle
    /// Settles the promise unless it already is: stores the outcome, queues
    /// one job per waiting reaction, wakes the awaiters.
    fn settle(self: &Arc<Self>, outcome: Result<T, E>) {
        let mut state = lock(&self.state);
        if state.outcome.is_some() {
            return;
        }
        state.outcome = Some(outcome);
        state.following = None;
        let reactions = state.reactions.len();
        let spawner = state.spawner.clone();
        let mut wakers = crate::util::Wakers::new();
        for waker in state.waiters.iter_mut().filter_map(Option::take) {
            wakers.push(waker);
        }
        drop(state);
        if reactions > 0 {
            let spawner = spawner.expect("a promise with reactions has a spawner");
            let job: Arc<dyn RunJob> = self.clone();
            spawner.queue_runs(&job, reactions);
        }
        wakers.wake_all();
    }
    // ANCHOR_END: settle

    /// Attaches `reaction`: it runs as a job once the promise is settled
    /// (queued now if it already is).
    ///
    /// # Panics
    ///
    /// Panics if the promise has no spawner and none is current.
    #[track_caller]
    fn react(self: &Arc<Self>, reaction: Reaction<T, E>) {
        let spawner = self.spawner();
        self.react_on(&spawner, reaction);
    }

    // ANCHOR: react
    /// [`react`](Inner::react), for a caller that already has the
    /// promise's spawner: one lock.
    fn react_on(self: &Arc<Self>, spawner: &Spawner, reaction: Reaction<T, E>) {
        let mut state = lock(&self.state);
        state.handled = true;
        state.reactions.push_back(reaction);
        let settled = state.outcome.is_some();
        drop(state);
        if settled {
            spawner.queue(Job::Run(self.clone()));
        }
    }
    // ANCHOR_END: react

    /// The spawner reactions run on: the promise's own, or (for one made
    /// outside any spawner) the current one, which it then keeps.
    ///
    /// # Panics
    ///
    /// Panics if the promise has no spawner and none is current.
    #[track_caller]
    fn spawner(&self) -> Spawner {
        let mut state = lock(&self.state);
        if let Some(spawner) = &state.spawner {
            return spawner.clone();
        }
        match Spawner::try_current() {
            Ok(spawner) => state.spawner.insert(spawner).clone(),
            Err(e) => {
                drop(state);
                panic!("{e}")
            }
        }
    }

    /// Rejects with a failure the machinery detected, if the promise can
    /// carry one.
    fn fail(self: &Arc<Self>, error: PromiseError) {
        if let Some(make_error) = self.make_error {
            self.settle(Err(make_error(error)));
        }
    }

    // ANCHOR: adopt
    /// True if following the chain of adopted promises from `self` reaches
    /// `target`: adopting would make a cycle that could never settle.
    fn leads_to(self: &Arc<Self>, target: &Arc<Self>) -> bool {
        let mut at = self.clone();
        // Bounded by the chain's length: each step follows a live promise.
        loop {
            if Arc::ptr_eq(&at, target) {
                return true;
            }
            let next = lock(&at.state).following.as_ref().and_then(Weak::upgrade);
            match next {
                Some(next) => at = next,
                None => return false,
            }
        }
    }

    /// Adopts a foreign thenable: calls its `then` in a job with a fresh
    /// resolver, turning a panic before it settles into a rejection.
    fn adopt_foreign<Th: Thenable<T, E>>(self: &Arc<Self>, thenable: Th) {
        let resolver = Resolver::new_group(self.clone());
        self.spawner().queue(Job::Call(Box::new(move || {
            resolver.run(|resolver| thenable.call_then(resolver));
        })));
    }

    /// Follows `other`: settles as it settles. Adopting itself, or a
    /// promise that (through others) follows this one, rejects with
    /// [`PromiseError::Cycle`].
    fn follow(self: &Arc<Self>, other: &Arc<Self>) {
        if other.leads_to(self) {
            self.fail(PromiseError::Cycle);
            return;
        }
        lock(&self.state).following = Some(Arc::downgrade(other));
        let this = self.clone();
        other.react(Box::new(move |outcome| this.settle(outcome)));
    }
    // ANCHOR_END: adopt
}

// ANCHOR: run-job
impl<T, E> RunJob for Inner<T, E>
where
    T: Clone + Send + 'static,
    E: Clone + Send + 'static,
{
    fn run(self: Arc<Self>) {
        let (reaction, outcome) = {
            let mut state = lock(&self.state);
            let Some(outcome) = state.outcome.clone() else {
                return;
            };
            let Some(reaction) = state.reactions.pop_front() else {
                return;
            };
            (reaction, outcome)
        };
        reaction(outcome);
    }
}
// ANCHOR_END: run-job

/// Reports an unhandled rejection of type `E` to the hook.
fn report<E: Send + 'static>(reason: &E) {
    unhandled::report(reason);
}

fn abandon<T, E>(promise: &Arc<Inner<T, E>>)
where
    T: Clone + Send + 'static,
    E: Clone + Send + 'static,
{
    promise.fail(PromiseError::Abandoned);
}

impl<T, E> Promise<T, E> {
    fn from_inner(inner: Arc<Inner<T, E>>) -> Promise<T, E> {
        Promise { inner, waiter: None }
    }

    /// True once the promise is fulfilled or rejected.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::promise::Promise;
    ///
    /// let p = Promise::<(), ()>::resolve(());
    /// assert!(p.is_settled());
    /// ```
    pub fn is_settled(&self) -> bool {
        lock(&self.inner.state).outcome.is_some()
    }

    /// True if both are handles to the same promise.
    pub fn ptr_eq(&self, other: &Promise<T, E>) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl<T, E> Promise<T, E>
where
    T: Clone + Send + 'static,
    E: Clone + Send + 'static,
{
    /// A promise already settled with `outcome`. It takes the current
    /// spawner if there is one; otherwise the first `then` finds one.
    fn settled(outcome: Result<T, E>) -> Promise<T, E> {
        Promise::from_inner(Inner::new(Spawner::try_current().ok(), Some(outcome), None))
    }

    /// A promise already fulfilled with `value` (JavaScript's
    /// `Promise.resolve`). Works outside any runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::promise::Promise;
    ///
    /// let p = Promise::<u8, ()>::resolve(1);
    /// assert_eq!(p.peek(), Some(Ok(1)));
    /// ```
    pub fn resolve(value: T) -> Promise<T, E> {
        Promise::settled(Ok(value))
    }

    /// A promise already rejected with `reason` (JavaScript's
    /// `Promise.reject`). Works outside any runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::promise::Promise;
    ///
    /// let p = Promise::<u8, &str>::reject("no");
    /// assert_eq!(p.peek(), Some(Err("no")));
    /// ```
    pub fn reject(reason: E) -> Promise<T, E> {
        Promise::settled(Err(reason))
    }

    /// The outcome, if settled; does not count as handling a rejection.
    pub fn peek(&self) -> Option<Result<T, E>> {
        lock(&self.inner.state).outcome.clone()
    }

    /// Calls `callback` with the outcome once settled, as a job on the
    /// event loop: a callback from a promise.
    ///
    /// # Panics
    ///
    /// Panics if the promise was made outside any spawner and this is
    /// called outside one too.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::promise::Promise;
    /// use weft::sync::oneshot;
    ///
    /// weft::block_on(async {
    ///     let (tx, rx) = oneshot::channel();
    ///     Promise::<u8, ()>::resolve(3).on_settled(move |outcome| {
    ///         let _ = tx.send(outcome);
    ///     });
    ///     assert_eq!(rx.await.unwrap(), Ok(3));
    /// });
    /// ```
    #[track_caller]
    pub fn on_settled(self, callback: impl FnOnce(Result<T, E>) + Send + 'static) {
        // A panicking callback is caught by the event loop and reported.
        self.inner.react(Box::new(callback));
    }

    // ANCHOR: then
    /// Registers a reaction that settles a new promise through `body`: the
    /// common shape of `then`, `catch` and `finally`. A panic in `body`
    /// rejects the new promise.
    #[track_caller]
    fn chain<U, E2, F>(&self, body: F) -> Promise<U, E2>
    where
        U: Clone + Send + 'static,
        E2: Clone + Send + From<PromiseError> + 'static,
        F: FnOnce(Result<T, E>, Resolver<U, E2>) + Send + 'static,
    {
        let spawner = self.inner.spawner();
        let inner = Inner::new(Some(spawner.clone()), None, Some(E2::from));
        let resolver = Resolver::new_group(inner.clone());
        self.inner.react_on(
            &spawner,
            Box::new(move |outcome| {
                resolver.run(|resolver| body(outcome, resolver));
            }),
        );
        Promise::from_inner(inner)
    }

    /// Runs `on_fulfilled` with the value once fulfilled, and returns a
    /// promise for what it returns: a `Result`, another promise or any
    /// [`Thenable`], which the new promise adopts. A rejection passes
    /// through to the new promise untouched; a panic in the handler rejects
    /// it with [`PromiseError::Panicked`].
    ///
    /// # Panics
    ///
    /// Panics if the promise was made outside any spawner and this is
    /// called outside one too.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::promise::Promise;
    ///
    /// weft::block_on(async {
    ///     let user = Promise::<u32, String>::resolve(7);
    ///     // Return a promise: the chain waits for it.
    ///     let name = user.then(|id| Promise::spawn(async move { Ok(format!("user {id}")) }));
    ///     // Return a Result: Err rejects.
    ///     let checked = name.then(|n| if n.is_empty() { Err("empty".into()) } else { Ok(n) });
    ///     assert_eq!(checked.await.as_deref(), Ok("user 7"));
    /// });
    /// ```
    #[track_caller]
    pub fn then<U, R, F>(self, on_fulfilled: F) -> Promise<U, E>
    where
        U: Clone + Send + 'static,
        E: From<PromiseError>,
        R: Thenable<U, E>,
        F: FnOnce(T) -> R + Send + 'static,
    {
        self.chain(move |outcome, resolver| match outcome {
            Ok(value) => resolver.adopt_unchecked(on_fulfilled(value)),
            Err(reason) => resolver.settle_unchecked(Err(reason)),
        })
    }
    // ANCHOR_END: then

    /// Runs `on_fulfilled` or `on_rejected`, whichever applies, and returns
    /// a promise for what it returns (JavaScript's two-argument `then`). A
    /// panic in `on_fulfilled` is not passed to `on_rejected`: it rejects
    /// the returned promise.
    ///
    /// # Panics
    ///
    /// As [`then`](Promise::then).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::promise::Promise;
    ///
    /// weft::block_on(async {
    ///     let p = Promise::<u32, String>::reject("offline".into());
    ///     let shown = p.then_or_else(
    ///         |n| Ok::<_, String>(format!("{n} items")),
    ///         |e| Ok(format!("unavailable: {e}")),
    ///     );
    ///     assert_eq!(shown.await.as_deref(), Ok("unavailable: offline"));
    /// });
    /// ```
    #[track_caller]
    pub fn then_or_else<U, E2, R1, R2, F1, F2>(self, on_fulfilled: F1, on_rejected: F2) -> Promise<U, E2>
    where
        U: Clone + Send + 'static,
        E2: Clone + Send + From<PromiseError> + 'static,
        R1: Thenable<U, E2>,
        R2: Thenable<U, E2>,
        F1: FnOnce(T) -> R1 + Send + 'static,
        F2: FnOnce(E) -> R2 + Send + 'static,
    {
        self.chain(move |outcome, resolver| match outcome {
            Ok(value) => resolver.adopt_unchecked(on_fulfilled(value)),
            Err(reason) => resolver.adopt_unchecked(on_rejected(reason)),
        })
    }

    /// Runs `on_rejected` with the reason once rejected, and returns a
    /// promise for what it returns: `Ok` recovers, `Err` rejects (with a
    /// reason of a new type if wanted), a promise or [`Thenable`] is
    /// adopted. A fulfilled value passes through.
    ///
    /// # Panics
    ///
    /// As [`then`](Promise::then).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::promise::Promise;
    ///
    /// weft::block_on(async {
    ///     let cached = Promise::<u32, String>::reject("miss".into())
    ///         .catch(|_| Ok::<u32, String>(0));
    ///     assert_eq!(cached.await, Ok(0));
    /// });
    /// ```
    #[track_caller]
    pub fn catch<E2, R, F>(self, on_rejected: F) -> Promise<T, E2>
    where
        E2: Clone + Send + From<PromiseError> + 'static,
        R: Thenable<T, E2>,
        F: FnOnce(E) -> R + Send + 'static,
    {
        self.chain(move |outcome, resolver| match outcome {
            Ok(value) => resolver.settle_unchecked(Ok(value)),
            Err(reason) => resolver.adopt_unchecked(on_rejected(reason)),
        })
    }

    /// Runs `on_settled` once the promise settles either way, and returns a
    /// promise with the same outcome — unless the handler fails (returns
    /// `Err`, a promise that rejects, or panics): that failure wins. A
    /// returned promise or thenable is waited for.
    ///
    /// # Panics
    ///
    /// As [`then`](Promise::then).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    /// use weft::promise::Promise;
    ///
    /// weft::block_on(async {
    ///     let closed = Arc::new(AtomicBool::new(false));
    ///     let flag = closed.clone();
    ///     let p = Promise::<u8, String>::reject("boom".into())
    ///         .finally(move || flag.store(true, Ordering::SeqCst));
    ///     assert_eq!(p.await, Err("boom".to_string()));
    ///     assert!(closed.load(Ordering::SeqCst));
    /// });
    /// ```
    #[track_caller]
    pub fn finally<X, R, F>(self, on_settled: F) -> Promise<T, E>
    where
        X: Clone + Send + 'static,
        E: From<PromiseError>,
        R: Thenable<X, E>,
        F: FnOnce() -> R + Send + 'static,
    {
        self.chain(move |outcome, resolver| {
            let spawner = lock(&resolver.group.promise.state).spawner.clone();
            let handler = Promise::<X, E>::adopting(on_settled(), spawner.clone());
            let pass = Promise::<T, E>::settled_handled(outcome, spawner);
            // The handler's failure wins; otherwise the original outcome.
            resolver.adopt_unchecked(handler.then(move |_| pass));
        })
    }

    /// Maps the fulfilled value with `f` (a `then` whose handler returns a
    /// plain value).
    ///
    /// # Panics
    ///
    /// As [`then`](Promise::then).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::promise::Promise;
    ///
    /// weft::block_on(async {
    ///     assert_eq!(Promise::<u8, String>::resolve(2).map(|n| n * 21).await, Ok(42));
    /// });
    /// ```
    #[track_caller]
    pub fn map<U, F>(self, f: F) -> Promise<U, E>
    where
        U: Clone + Send + 'static,
        E: From<PromiseError>,
        F: FnOnce(T) -> U + Send + 'static,
    {
        self.chain(move |outcome, resolver| resolver.settle_unchecked(outcome.map(f)))
    }

    /// Maps the rejection reason with `f`.
    ///
    /// # Panics
    ///
    /// As [`then`](Promise::then).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::promise::{Promise, PromiseError};
    ///
    /// weft::block_on(async {
    ///     let p = Promise::<u8, u16>::reject(404).map_err(|code| format!("HTTP {code}"));
    ///     assert_eq!(p.await, Err("HTTP 404".to_string()));
    /// });
    /// ```
    #[track_caller]
    pub fn map_err<E2, F>(self, f: F) -> Promise<T, E2>
    where
        E2: Clone + Send + From<PromiseError> + 'static,
        F: FnOnce(E) -> E2 + Send + 'static,
    {
        self.chain(move |outcome, resolver| resolver.settle_unchecked(outcome.map_err(f)))
    }

    /// A promise that adopts `thenable`, on `spawner`.
    fn adopting<R>(thenable: R, spawner: Option<Spawner>) -> Promise<T, E>
    where
        R: Thenable<T, E>,
        E: From<PromiseError>,
    {
        let inner = Inner::new(spawner, None, Some(E::from));
        let resolver = Resolver::new_group(inner.clone());
        resolver.adopt_unchecked(thenable);
        Promise::from_inner(inner)
    }

    /// A promise already settled with `outcome`, on `spawner`. Marked
    /// handled: `finally` drops it unused when its own handler fails, and
    /// the original rejection was handled by `finally` itself.
    fn settled_handled(outcome: Result<T, E>, spawner: Option<Spawner>) -> Promise<T, E> {
        let inner = Inner::new(spawner, Some(outcome), None);
        lock(&inner.state).handled = true;
        Promise::from_inner(inner)
    }
}

impl<T, E> Promise<T, E>
where
    T: Clone + Send + 'static,
    E: Clone + Send + From<PromiseError> + 'static,
{
    /// A pending promise and the resolver that settles it, on `spawner`.
    pub fn with_resolvers_in(spawner: &Spawner) -> (Promise<T, E>, Resolver<T, E>) {
        let inner = Inner::new(Some(spawner.clone()), None, Some(E::from));
        let resolver = Resolver::new_group(inner.clone());
        (Promise::from_inner(inner), resolver)
    }

    /// A pending promise and the resolver that settles it (JavaScript's
    /// `Promise.withResolvers`), on the current spawner.
    ///
    /// # Panics
    ///
    /// Panics where no spawner is current (outside a weft runtime with no
    /// [`Spawner::enter`] guard); [`Promise::with_resolvers_in`] names one.
    ///
    /// # Examples
    ///
    /// See [`Resolver`].
    #[track_caller]
    pub fn with_resolvers() -> (Promise<T, E>, Resolver<T, E>) {
        Promise::with_resolvers_in(&Spawner::current())
    }

    /// Runs `executor` at once with the promise's resolver (JavaScript's
    /// `new Promise(executor)`), on `spawner`.
    pub fn new_in(spawner: &Spawner, executor: impl FnOnce(Resolver<T, E>)) -> Promise<T, E> {
        let (promise, resolver) = Promise::with_resolvers_in(spawner);
        resolver.run(executor);
        promise
    }

    /// Runs `executor` at once with the promise's resolver (JavaScript's
    /// `new Promise(executor)`). A panic in the executor rejects the
    /// promise with [`PromiseError::Panicked`] unless it settled it first;
    /// an executor that drops every resolver unused rejects it with
    /// [`PromiseError::Abandoned`].
    ///
    /// # Panics
    ///
    /// Panics where no spawner is current; [`Promise::new_in`] names one.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::promise::Promise;
    ///
    /// weft::block_on(async {
    ///     let p = Promise::<u8, String>::new(|resolver| {
    ///         let _ = resolver.resolve(1);
    ///     });
    ///     assert_eq!(p.await, Ok(1));
    /// });
    /// ```
    #[track_caller]
    pub fn new(executor: impl FnOnce(Resolver<T, E>)) -> Promise<T, E> {
        Promise::new_in(&Spawner::current(), executor)
    }

    /// Starts `future` as a task on `spawner` at once and returns a promise
    /// for its output. A panic in the future rejects the promise with
    /// [`PromiseError::Panicked`]; a future dropped unfinished (the runtime
    /// shut down) rejects it with [`PromiseError::Abandoned`].
    pub fn spawn_in<F>(spawner: &Spawner, future: F) -> Promise<T, E>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
    {
        let (promise, resolver) = Promise::with_resolvers_in(spawner);
        spawner.spawn(async move {
            match (CatchUnwind { future }).await {
                Ok(outcome) => resolver.settle_unchecked(outcome),
                Err(panic) => resolver.panicked(panic),
            }
        });
        promise
    }

    /// Starts `future` as a task at once and returns a promise for its
    /// output: `Ok` fulfills, `Err` rejects.
    ///
    /// # Panics
    ///
    /// Panics where no spawner is current; [`Promise::spawn_in`] names one.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::promise::Promise;
    ///
    /// weft::block_on(async {
    ///     let p = Promise::<u8, String>::spawn(async { Err("nope".into()) });
    ///     assert_eq!(p.await, Err("nope".to_string()));
    /// });
    /// ```
    #[track_caller]
    pub fn spawn<F>(future: F) -> Promise<T, E>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
    {
        Promise::spawn_in(&Spawner::current(), future)
    }

    /// Starts an infallible `future` as a task at once; the promise is
    /// fulfilled with its output.
    ///
    /// # Panics
    ///
    /// Panics where no spawner is current.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::promise::{Promise, PromiseError};
    ///
    /// weft::block_on(async {
    ///     let p = Promise::<u8, PromiseError>::from_future(async { 5 });
    ///     assert_eq!(p.await, Ok(5));
    /// });
    /// ```
    #[track_caller]
    pub fn from_future<F>(future: F) -> Promise<T, E>
    where
        F: Future<Output = T> + Send + 'static,
    {
        Promise::spawn(async move { Ok(future.await) })
    }

    /// A promise settled by a callback: `register` gets a `done` callback
    /// to hand to a callback-style API; its `Result` settles the promise.
    /// A `done` dropped uncalled rejects with [`PromiseError::Abandoned`].
    ///
    /// # Panics
    ///
    /// Panics where no spawner is current.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::promise::{Promise, PromiseError};
    ///
    /// fn legacy_read(path: &str, callback: impl FnOnce(Result<String, String>) + Send + 'static) {
    ///     let path = path.to_string();
    ///     std::thread::spawn(move || callback(Ok(format!("contents of {path}"))));
    /// }
    ///
    /// weft::block_on(async {
    ///     let p = Promise::<String, String>::from_callback(|done| legacy_read("a.txt", done));
    ///     assert_eq!(p.await.as_deref(), Ok("contents of a.txt"));
    /// });
    /// ```
    #[track_caller]
    pub fn from_callback(register: impl FnOnce(Box<dyn FnOnce(Result<T, E>) + Send>)) -> Promise<T, E> {
        Promise::new(move |resolver| {
            register(Box::new(move |outcome| {
                let _ = resolver.settle(outcome);
            }))
        })
    }
}

impl<T, E> Resolver<T, E> {
    fn new_group(promise: Arc<Inner<T, E>>) -> Resolver<T, E> {
        Resolver {
            group: Arc::new(Group {
                promise,
                called: AtomicBool::new(false),
            }),
        }
    }

    // ANCHOR: lock-in
    /// Claims this group's one call; false if it was already made.
    fn lock_in(&self) -> bool {
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
    fn run(self, f: impl FnOnce(Resolver<T, E>)) {
        let guard = self.clone();
        if let Err(panic) = catch_unwind(AssertUnwindSafe(move || f(self))) {
            guard.panicked(panic);
        }
    }

    /// Rejects with the panic, unless the promise was already decided.
    fn panicked(&self, panic: Box<dyn std::any::Any + Send>) {
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

    fn settle_unchecked(&self, outcome: Result<T, E>) {
        let _ = self.settle(outcome);
    }

    fn adopt_unchecked<Th: Thenable<T, E>>(&self, thenable: Th) {
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

impl<T, E> Thenable<T, E> for Result<T, E>
where
    T: Clone + Send + 'static,
    E: Clone + Send + 'static,
{
    fn call_then(self, resolver: Resolver<T, E>) {
        let _ = resolver.settle(self);
    }

    fn adopt_into(self, target: hidden::Target<'_, T, E>) {
        target.0.settle(self);
    }
}

impl<T, E> Thenable<T, E> for Promise<T, E>
where
    T: Clone + Send + 'static,
    E: Clone + Send + 'static,
{
    fn call_then(self, resolver: Resolver<T, E>) {
        if resolver.lock_in() {
            resolver.group.promise.follow(&self.inner);
        }
    }

    fn adopt_into(self, target: hidden::Target<'_, T, E>) {
        target.0.follow(&self.inner);
    }
}

impl<E> Thenable<(), E> for ()
where
    E: Clone + Send + 'static,
{
    fn call_then(self, resolver: Resolver<(), E>) {
        let _ = resolver.resolve(());
    }

    fn adopt_into(self, target: hidden::Target<'_, (), E>) {
        target.0.settle(Ok(()));
    }
}

impl<T, E> Clone for Promise<T, E> {
    fn clone(&self) -> Promise<T, E> {
        Promise::from_inner(self.inner.clone())
    }
}

impl<T, E> Drop for Promise<T, E> {
    fn drop(&mut self) {
        if let Some(slot) = self.waiter {
            let mut state = lock(&self.inner.state);
            let waker = state.waiters[slot].take();
            state.free_waiters.push(slot);
            drop(state);
            drop(waker);
        }
    }
}

// ANCHOR: future
impl<T: Clone, E: Clone> Future for Promise<T, E> {
    type Output = Result<T, E>;

    /// Waits for the outcome. Cancel-safe: dropping the future loses
    /// nothing, and the promise can be awaited again.
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, E>> {
        let this = &mut *self;
        // Declared before the guard, so dropped after it: a waker's drop may
        // call back into this promise.
        let mut _displaced = None;
        let mut state = lock(&this.inner.state);
        state.handled = true;
        if let Some(outcome) = &state.outcome {
            return Poll::Ready(outcome.clone());
        }
        match this.waiter {
            Some(slot) => _displaced = crate::util::replace_waker(&mut state.waiters[slot], cx.waker()),
            None => {
                let waker = Some(cx.waker().clone());
                let slot = match state.free_waiters.pop() {
                    Some(slot) => {
                        state.waiters[slot] = waker;
                        slot
                    }
                    None => {
                        state.waiters.push(waker);
                        state.waiters.len() - 1
                    }
                };
                this.waiter = Some(slot);
            }
        }
        Poll::Pending
    }
}
// ANCHOR_END: future

impl<T, E> fmt::Debug for Promise<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &lock(&self.inner.state).outcome {
            None => "pending",
            Some(Ok(_)) => "fulfilled",
            Some(Err(_)) => "rejected",
        };
        f.debug_struct("Promise")
            .field("state", &state)
            .finish_non_exhaustive()
    }
}

pin_project_lite::pin_project! {
    /// Polls `future`, turning a panic into an `Err` with its payload.
    struct CatchUnwind<F> {
        #[pin]
        future: F,
    }
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn std::any::Any + Send>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let future = self.project().future;
        match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}
