//! The events contract suites run against every backend: a test loops
//! over [`STORES`] and builds its bus with [`BuildOn::build_on`] (or
//! [`bus_on`]).
//!
//! The durable store runs on a fresh in-memory file system (`SimFs`) per
//! bus, syncing every record as it is appended (`SyncPolicy::Always`), so
//! a publish completes on its first poll, as in memory: the suites'
//! hand-polled orderings hold unchanged, and what they check is the bus's
//! semantics with the disk in the path. The stores, the message types and
//! their codec are the queue suite's.

#![allow(dead_code)]

#[path = "../queue_support/backends.rs"]
mod backends;

#[allow(unused_imports)] // each suite uses some
pub(crate) use backends::{Bytes, Message, STORES, Store};
use weft::disk::fs::SimFs;
use weft::events::{Builder, DiskOptions, EventBus, Memory, SyncPolicy};

/// Builds a bus on a store.
pub(crate) trait BuildOn {
    fn build_on<T: Message + Sync>(&self, store: Store) -> EventBus<T>;

    /// The same, counting sizes with `size` (`Builder::build_sized`).
    fn build_sized_on<T: Message + Sync>(
        &self,
        store: Store,
        size: impl Fn(&T) -> usize + Send + Sync + 'static,
    ) -> EventBus<T>;
}

impl BuildOn for Builder {
    #[track_caller]
    fn build_on<T: Message + Sync>(&self, store: Store) -> EventBus<T> {
        match store {
            Store::Memory => self.build(),
            Store::Durable => {
                let disk = DiskOptions::new()
                    .sync(SyncPolicy::Always)
                    .file_system(SimFs::new());
                self.open_durable_with("/bus", Bytes, &disk)
                    .expect("a durable bus on a fresh SimFs")
                    .bus
            }
        }
    }

    #[track_caller]
    fn build_sized_on<T: Message + Sync>(
        &self,
        store: Store,
        size: impl Fn(&T) -> usize + Send + Sync + 'static,
    ) -> EventBus<T> {
        match store {
            Store::Memory => self.build_sized(Memory::new(), size),
            Store::Durable => {
                let disk = DiskOptions::new()
                    .sync(SyncPolicy::Always)
                    .file_system(SimFs::new());
                let restored = self
                    .open_durable_with("/bus", Bytes, &disk)
                    .expect("a durable bus on a fresh SimFs");
                // A second bus on the same store, sized.
                drop(restored.bus);
                self.build_sized(restored.backend, size)
            }
        }
    }
}

/// A bus with the default settings on `store`.
#[track_caller]
pub(crate) fn bus_on<T: Message + Sync>(store: Store) -> EventBus<T> {
    EventBus::builder().build_on(store)
}

/// The handler suite's (topic, attempt) pairs.
impl Message for (String, u32) {
    fn put(&self, out: &mut Vec<u8>) {
        self.1.put(out);
        self.0.put(out);
    }
    fn get(bytes: &[u8]) -> Option<Self> {
        let (n, s) = bytes.split_at_checked(4)?;
        Some((String::get(s)?, u32::get(n)?))
    }
}
