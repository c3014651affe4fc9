//! A promise's handlers: `then`, `catch`, `finally`, `map` and `map_err`
//! each attach a reaction that settles a new promise.

use super::resolver::Resolver;
use super::state::Inner;
use super::thenable::Thenable;
use super::{Promise, PromiseError};
use crate::loom::lock;
use crate::spawner::Spawner;

impl<T, E> Promise<T, E>
where
    T: Clone + Send + 'static,
    E: Clone + Send + 'static,
{
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
    /// use weft::promise::Promise;
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
