//! What a promise can adopt: [`Thenable`], and weft's own thenables
//! (`Result`, `Promise`, `()`).

use super::Promise;
use super::resolver::Resolver;

/// A foreign promise-like value that a promise can adopt: its `then` is
/// called once (as [`call_then`](Thenable::call_then)), with a resolver for
/// the adopting promise.
///
/// The first call the thenable makes on the resolver (or a clone) wins;
/// later ones are ignored. A panic in `call_then` before it settles the resolver
/// rejects the promise with [`PromiseError::Panicked`](super::PromiseError::Panicked); a panic after is
/// ignored. A resolver dropped uncalled rejects with
/// [`PromiseError::Abandoned`](super::PromiseError::Abandoned). `call_then` runs as a job on the event loop,
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

pub(super) mod hidden {
    use crate::promise::state::Inner;
    use std::sync::Arc;

    /// The promise being resolved, as [`Thenable::adopt_into`] sees it.
    #[allow(missing_debug_implementations, unreachable_pub)]
    pub struct Target<'a, T, E>(pub(in crate::promise) &'a Arc<Inner<T, E>>);
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
