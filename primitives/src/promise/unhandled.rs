//! Reporting rejected promises that nobody handled.

use super::PromiseError;
use std::any::Any;
use std::fmt;
use std::sync::{Arc, RwLock};

/// An unhandled-rejection hook, as [`set_unhandled_rejection_hook`] stores
/// and returns it.
pub type Hook = Arc<dyn Fn(&UnhandledRejection<'_>) + Send + Sync>;

/// The process-wide hook; `None` means the default,
/// [`default_unhandled_rejection_hook`].
static HOOK: RwLock<Option<Hook>> = RwLock::new(None);

/// A promise that was rejected and dropped with no handler ever attached
/// and never awaited: what the unhandled-rejection hook receives.
pub struct UnhandledRejection<'a> {
    reason: &'a (dyn Any + Send),
    type_name: &'static str,
}

impl<'a> UnhandledRejection<'a> {
    /// The rejection reason, if it is an `E`.
    pub fn downcast_ref<E: 'static>(&self) -> Option<&'a E> {
        self.reason.downcast_ref()
    }

    /// The reason's type, as `std::any::type_name` spells it.
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }
}

impl fmt::Debug for UnhandledRejection<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnhandledRejection")
            .field("type_name", &self.type_name)
            .finish_non_exhaustive()
    }
}

/// Describes the reason when it is a string or a [`PromiseError`], and by
/// its type otherwise.
impl fmt::Display for UnhandledRejection<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(s) = self.downcast_ref::<String>() {
            write!(f, "{s:?}")
        } else if let Some(s) = self.downcast_ref::<&str>() {
            write!(f, "{s:?}")
        } else if let Some(e) = self.downcast_ref::<PromiseError>() {
            write!(f, "{e}")
        } else {
            write!(f, "a value of type {}", self.type_name)
        }
    }
}

/// Sets the process-wide hook called for each promise rejected and dropped
/// with no handler ever attached (no `then`, `catch`, `finally`, callback,
/// combinator or `.await`); returns the previous hook, if one was set.
///
/// Without a hook, weft reports each one in one line
/// ([`default_unhandled_rejection_hook`]), as Node does by default; a hook
/// replaces that report (call the default from it to keep it as well), and
/// [`take_unhandled_rejection_hook`] brings it back. The hook runs on the
/// thread that dropped the last reference to the promise; a panic in it is
/// caught and ignored.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use weft::promise::{Promise, set_unhandled_rejection_hook};
///
/// static SEEN: AtomicUsize = AtomicUsize::new(0);
/// set_unhandled_rejection_hook(|rejection| {
///     if rejection.downcast_ref::<&str>() == Some(&"lost") {
///         SEEN.fetch_add(1, Ordering::SeqCst);
///     }
/// });
/// drop(Promise::<(), &str>::reject("lost"));
/// assert_eq!(SEEN.load(Ordering::SeqCst), 1);
/// ```
pub fn set_unhandled_rejection_hook(
    hook: impl Fn(&UnhandledRejection<'_>) + Send + Sync + 'static,
) -> Option<Hook> {
    let mut slot = HOOK.write().unwrap_or_else(|e| e.into_inner());
    slot.replace(Arc::new(hook))
}

/// Removes the process-wide hook, so that the default report
/// ([`default_unhandled_rejection_hook`]) is made again; returns the hook
/// removed, if one was set.
///
/// # Examples
///
/// ```
/// use weft::promise::{set_unhandled_rejection_hook, take_unhandled_rejection_hook};
///
/// set_unhandled_rejection_hook(|_| {});
/// assert!(take_unhandled_rejection_hook().is_some());
/// // The default report is back: none is set any more.
/// assert!(take_unhandled_rejection_hook().is_none());
/// ```
pub fn take_unhandled_rejection_hook() -> Option<Hook> {
    HOOK.write().unwrap_or_else(|e| e.into_inner()).take()
}

/// The default report of an unhandled rejection, made when no hook is set:
/// one line on stderr,
/// `weft: a rejected promise was dropped unhandled: <reason>`. A hook that
/// adds to the report rather than replacing it calls this.
///
/// With weft's `tracing` feature on and a `tracing` subscriber installed
/// for the thread, the report is an `ERROR` event on target
/// `weft::promise` instead (fields `reason` and `type_name`), so that it
/// reaches the service's logs.
///
/// # Examples
///
/// ```
/// use weft::promise::{Promise, default_unhandled_rejection_hook, set_unhandled_rejection_hook};
///
/// set_unhandled_rejection_hook(|rejection| {
///     // Count it somewhere, then report it as weft would have.
///     default_unhandled_rejection_hook(rejection);
/// });
/// drop(Promise::<(), &str>::reject("lost")); // one line on stderr
/// ```
pub fn default_unhandled_rejection_hook(rejection: &UnhandledRejection<'_>) {
    if !crate::diag::unhandled_rejection(rejection, rejection.type_name()) {
        eprintln!("weft: a rejected promise was dropped unhandled: {rejection}");
    }
}

/// Hands an unhandled rejection to the hook.
pub(super) fn report<E: Send + 'static>(reason: &E) {
    let hook = HOOK.read().unwrap_or_else(|e| e.into_inner()).clone();
    let rejection = UnhandledRejection {
        reason,
        type_name: std::any::type_name::<E>(),
    };
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match hook {
        Some(hook) => hook(&rejection),
        None => default_unhandled_rejection_hook(&rejection),
    }));
}
