//! The permits a [`Semaphore`] hands out: borrowed ([`SemaphorePermit`]) or
//! owned through an `Arc` ([`OwnedSemaphorePermit`]); dropping one gives its
//! permits back.

use super::Semaphore;
use std::fmt;
use std::sync::Arc;

/// Permits taken from a [`Semaphore`]; dropping it gives them back.
#[must_use = "dropping the permit gives it back at once"]
pub struct SemaphorePermit<'a> {
    pub(super) semaphore: &'a Semaphore,
    pub(super) permits: usize,
}

impl SemaphorePermit<'_> {
    /// Keeps the permits out of the semaphore for good.
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// Merges `other`'s permits into this one.
    ///
    /// # Panics
    ///
    /// Panics if the two come from different semaphores.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(3);
    /// let mut permit = sem.try_acquire().unwrap();
    /// permit.merge(sem.try_acquire_many(2).unwrap());
    /// assert_eq!(permit.num_permits(), 3);
    /// drop(permit);
    /// assert_eq!(sem.available_permits(), 3);
    /// ```
    pub fn merge(&mut self, mut other: SemaphorePermit<'_>) {
        assert!(
            std::ptr::eq(self.semaphore, other.semaphore),
            "merged permits must come from the same semaphore"
        );
        self.permits += std::mem::take(&mut other.permits);
    }

    /// Moves `n` of this guard's permits into a new guard; `None`, changing
    /// nothing, if it holds fewer than `n`.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(3);
    /// let mut permit = sem.try_acquire_many(3).unwrap();
    /// let one = permit.split(1).unwrap();
    /// assert!(permit.split(3).is_none());
    /// drop(one);
    /// assert_eq!(sem.available_permits(), 1);
    /// assert_eq!(permit.num_permits(), 2);
    /// ```
    pub fn split(&mut self, n: usize) -> Option<Self> {
        self.permits = self.permits.checked_sub(n)?;
        Some(SemaphorePermit {
            semaphore: self.semaphore,
            permits: n,
        })
    }

    pub(super) fn detach(mut self) -> usize {
        std::mem::take(&mut self.permits)
    }

    /// Takes the permits out of the guard, for models that hand them back
    /// through `add_permits` on another thread.
    #[cfg(all(test, loom))]
    pub(crate) fn detach_for_test(self) -> usize {
        self.detach()
    }
}

impl Drop for SemaphorePermit<'_> {
    #[inline]
    fn drop(&mut self) {
        self.semaphore.release(self.permits);
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}

/// Permits taken from a [`Semaphore`] in an `Arc`; dropping it gives them
/// back.
#[must_use = "dropping the permit gives it back at once"]
pub struct OwnedSemaphorePermit {
    pub(super) semaphore: Arc<Semaphore>,
    pub(super) permits: usize,
}

impl OwnedSemaphorePermit {
    /// Keeps the permits out of the semaphore for good.
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// The semaphore the permits came from.
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.semaphore
    }

    /// Merges `other`'s permits into this one.
    ///
    /// # Panics
    ///
    /// Panics if the two come from different semaphores.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use weft::sync::Semaphore;
    ///
    /// let sem = Arc::new(Semaphore::new(3));
    /// let mut permit = Arc::clone(&sem).try_acquire_owned().unwrap();
    /// permit.merge(Arc::clone(&sem).try_acquire_many_owned(2).unwrap());
    /// assert_eq!(permit.num_permits(), 3);
    /// drop(permit);
    /// assert_eq!(sem.available_permits(), 3);
    /// ```
    pub fn merge(&mut self, mut other: OwnedSemaphorePermit) {
        assert!(
            Arc::ptr_eq(&self.semaphore, &other.semaphore),
            "merged permits must come from the same semaphore"
        );
        self.permits += std::mem::take(&mut other.permits);
    }

    /// Moves `n` of this guard's permits into a new guard; `None`, changing
    /// nothing, if it holds fewer than `n`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use weft::sync::Semaphore;
    ///
    /// let sem = Arc::new(Semaphore::new(3));
    /// let mut permit = Arc::clone(&sem).try_acquire_many_owned(3).unwrap();
    /// // The halves can move into different tasks.
    /// let one = permit.split(1).unwrap();
    /// assert!(permit.split(3).is_none());
    /// drop(one);
    /// assert_eq!(sem.available_permits(), 1);
    /// assert_eq!(permit.num_permits(), 2);
    /// ```
    pub fn split(&mut self, n: usize) -> Option<Self> {
        self.permits = self.permits.checked_sub(n)?;
        Some(OwnedSemaphorePermit {
            semaphore: Arc::clone(&self.semaphore),
            permits: n,
        })
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.semaphore.release(self.permits);
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}
