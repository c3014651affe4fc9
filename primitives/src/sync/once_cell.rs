//! A cell written once, by an async initializer that runs at most once at
//! a time.
//!
//! # Protocol
//!
//! The value lives in a `std::sync::OnceLock` (readers need no lock once it
//! is set; loom needn't see it, since only one initializer at a time may
//! set it). Initializers queue on a one-permit [`Semaphore`]: the holder
//! checks the cell again, runs its initializer and sets the value; the
//! others wait (eventually in order: see the semaphore's fairness). Once the value is set the semaphore is closed,
//! which wakes every waiter at once to read it. If the holder's
//! initializer fails or its future is dropped, the permit passes to the
//! next waiter, which tries its own.

use super::semaphore::{Semaphore, TryAcquireError};
use std::fmt;
use std::future::Future;
use std::sync::OnceLock;

/// A thread-safe cell initialized once, possibly by an async function.
///
/// Under contention exactly one initializer runs; the other callers wait
/// for its value. If it fails or is cancelled, the next caller's
/// initializer runs instead.
///
/// # Cancel safety
///
/// Dropping a pending `get_or_init` leaves the queue; if it was running
/// its initializer, the cell stays empty and the next waiter initializes.
///
/// # Examples
///
/// ```
/// use weft::sync::OnceCell;
///
/// static CONFIG: OnceCell<String> = OnceCell::const_new();
///
/// # weft::block_on(async {
/// let value = CONFIG.get_or_init(|| async { "loaded".to_string() }).await;
/// assert_eq!(value, "loaded");
/// // Later callers get the stored value; their initializer never runs.
/// let again = CONFIG.get_or_init(|| async { unreachable!() }).await;
/// assert_eq!(again, "loaded");
/// # });
/// ```
pub struct OnceCell<T> {
    value: OnceLock<T>,
    init: Semaphore,
}

/// Why [`OnceCell::set`] gave the value back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetError<T> {
    /// The cell already holds a value.
    AlreadyInitialized(T),
    /// An initializer is running.
    Initializing(T),
}

impl<T> SetError<T> {
    /// The value that was not stored.
    pub fn into_inner(self) -> T {
        match self {
            SetError::AlreadyInitialized(v) | SetError::Initializing(v) => v,
        }
    }
}

impl<T> fmt::Display for SetError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetError::AlreadyInitialized(_) => f.write_str("the cell is already initialized"),
            SetError::Initializing(_) => f.write_str("the cell is being initialized"),
        }
    }
}

impl<T: fmt::Debug> std::error::Error for SetError<T> {}

impl<T> OnceCell<T> {
    /// An empty cell.
    pub fn new() -> OnceCell<T> {
        OnceCell {
            value: OnceLock::new(),
            init: Semaphore::new(1),
        }
    }

    /// `const` constructor, for statics.
    #[cfg(not(all(test, loom)))]
    pub const fn const_new() -> OnceCell<T> {
        OnceCell {
            value: OnceLock::new(),
            init: Semaphore::const_new(1),
        }
    }

    /// A cell holding `value` already, or empty for `None`.
    pub fn new_with(value: Option<T>) -> OnceCell<T> {
        let cell = OnceCell::new();
        if let Some(value) = value {
            let _ = cell.set(value);
        }
        cell
    }

    /// The value, if set.
    pub fn get(&self) -> Option<&T> {
        self.value.get()
    }

    /// True once a value is set.
    pub fn initialized(&self) -> bool {
        self.value.get().is_some()
    }

    /// Stores `value` if the cell is empty and no initializer runs.
    ///
    /// # Errors
    ///
    /// [`SetError`], with `value` inside, otherwise.
    pub fn set(&self, value: T) -> Result<(), SetError<T>> {
        if self.initialized() {
            return Err(SetError::AlreadyInitialized(value));
        }
        let _permit = match self.init.try_acquire() {
            Ok(permit) => permit,
            // Closed: set meanwhile.
            Err(TryAcquireError::Closed) => return Err(SetError::AlreadyInitialized(value)),
            Err(TryAcquireError::NoPermits) => return Err(SetError::Initializing(value)),
        };
        // Holding the permit, nobody else can set the value meanwhile.
        self.value.set(value).map_err(SetError::AlreadyInitialized)?;
        self.init.close();
        Ok(())
    }

    /// The value, running `init` to produce it if the cell is empty. Among
    /// concurrent callers one initializer runs; the others wait for it.
    pub async fn get_or_init<F, Fut>(&self, init: F) -> &T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        match self
            .get_or_try_init(|| async { Ok::<T, std::convert::Infallible>(init().await) })
            .await
        {
            Ok(value) => value,
            Err(never) => match never {},
        }
    }

    /// Like [`get_or_init`](OnceCell::get_or_init), with an initializer
    /// that may fail: its error comes back, the cell stays empty, and the
    /// next waiter's initializer runs.
    ///
    /// # Errors
    ///
    /// The error of `init`, when this call's initializer ran and failed.
    pub async fn get_or_try_init<F, Fut, E>(&self, init: F) -> Result<&T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if let Some(value) = self.get() {
            return Ok(value);
        }
        // Closed once the value is set: every waiter then wakes at once.
        let Ok(_permit) = self.init.acquire().await else {
            return Ok(self.initialized_value());
        };
        if let Some(value) = self.get() {
            return Ok(value);
        }
        let value = init().await?;
        let value = self.value.get_or_init(|| value);
        self.init.close();
        Ok(value)
    }

    /// The value of a cell whose init semaphore is closed, which happens
    /// only after the value was set.
    fn initialized_value(&self) -> &T {
        match self.get() {
            Some(value) => value,
            None => unreachable!("the init semaphore closes only once the value is set"),
        }
    }

    /// The value, taking the cell apart.
    pub fn into_inner(self) -> Option<T> {
        self.value.into_inner()
    }

    /// Takes the value out, leaving the cell empty (and ready to be
    /// initialized again).
    pub fn take(&mut self) -> Option<T> {
        let value = self.value.take();
        if value.is_some() {
            self.init = Semaphore::new(1);
        }
        value
    }
}

impl<T> Default for OnceCell<T> {
    fn default() -> OnceCell<T> {
        OnceCell::new()
    }
}

impl<T: fmt::Debug> fmt::Debug for OnceCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnceCell").field("value", &self.get()).finish()
    }
}

impl<T> From<T> for OnceCell<T> {
    fn from(value: T) -> OnceCell<T> {
        OnceCell::new_with(Some(value))
    }
}
