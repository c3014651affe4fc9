//! The promise itself: the [`Promise`] handle, the ways to make one, and
//! awaiting it. Its handlers (`then`, `catch`, ...) are in `chain.rs`.

use super::PromiseError;
use super::resolver::Resolver;
use super::state::Inner;
use crate::loom::lock;
use crate::spawner::Spawner;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// A value that will be fulfilled with a `T` or rejected with an `E`.
///
/// See the [module docs](super) for what a promise guarantees.
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
    pub(super) inner: Arc<Inner<T, E>>,
    /// This handle's slot among the awaiters' wakers, once it has polled.
    waiter: Option<usize>,
}

impl<T, E> Promise<T, E> {
    pub(super) fn from_inner(inner: Arc<Inner<T, E>>) -> Promise<T, E> {
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
    /// spawner if there is one; otherwise the first `then` finds one.
    pub(super) fn settled(outcome: Result<T, E>) -> Promise<T, E> {
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
    /// use weft::promise::Promise;
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
