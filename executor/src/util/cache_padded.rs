//! Keeps a value on cache lines of its own.

use std::ops::{Deref, DerefMut};

/// Aligned to 128 bytes: two 64-byte lines, because x86's adjacent-line
/// prefetcher pulls lines in pairs, so values 64 bytes apart still contend.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct CachePadded<T>(pub(crate) T);

impl<T> Deref for CachePadded<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for CachePadded<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}
