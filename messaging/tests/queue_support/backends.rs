//! The queue contract suite runs against every backend: each test loops
//! over [`STORES`] (or [`cases`], runtimes × stores) and builds its queue
//! with [`BuildOn::build_on`].
//!
//! The durable store runs on a fresh in-memory file system (`SimFs`) per
//! queue, syncing every record as it is appended (`SyncPolicy::Always`),
//! so a publish completes on its first poll, as in memory: the suite's
//! hand-polled orderings hold unchanged, and what it checks is the
//! queue's semantics with the journal in the path.

use weft::disk::fs::SimFs;
use weft::queue::{Builder, Codec, CodecError, DiskOptions, Queue, SyncPolicy};

/// A backend the suite runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Store {
    Memory,
    Durable,
}

/// Every backend.
pub(crate) const STORES: [Store; 2] = [Store::Memory, Store::Durable];

/// The paused runtimes × the stores, named "runtime/store".
pub(crate) fn cases() -> Vec<(String, weft::Runtime, Store)> {
    let mut cases = Vec::new();
    for store in STORES {
        for (flavour, rt) in weft_test_support::paused_runtimes() {
            cases.push((format!("{flavour}/{store:?}"), rt, store));
        }
    }
    cases
}

/// The message types the suite uses, as bytes for the durable store.
pub(crate) trait Message: Clone + Send + 'static {
    fn put(&self, out: &mut Vec<u8>);
    fn get(bytes: &[u8]) -> Option<Self>;
}

macro_rules! number {
    ($($t:ty),*) => {$(
        impl Message for $t {
            fn put(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn get(bytes: &[u8]) -> Option<Self> {
                Some(<$t>::from_le_bytes(bytes.try_into().ok()?))
            }
        }
    )*};
}
number!(u8, u16, u32, u64, usize, i32, i64);

impl Message for String {
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
    fn get(bytes: &[u8]) -> Option<Self> {
        String::from_utf8(bytes.to_vec()).ok()
    }
}

impl Message for &'static str {
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
    fn get(bytes: &[u8]) -> Option<Self> {
        // Read back only when a queue is reopened: leaked, for the test.
        Some(Box::leak(String::get(bytes)?.into_boxed_str()))
    }
}

/// The codec of every [`Message`].
pub(crate) struct Bytes;

impl<T: Message> Codec<T> for Bytes {
    fn encode(&self, value: &T, out: &mut Vec<u8>) -> Result<(), CodecError> {
        value.put(out);
        Ok(())
    }

    fn decode(&self, bytes: &[u8]) -> Result<T, CodecError> {
        T::get(bytes).ok_or_else(|| CodecError::new("not a test message"))
    }
}

/// Builds a queue on a store.
pub(crate) trait BuildOn {
    fn build_on<T: Message>(&self, store: Store) -> Queue<T>;
}

impl BuildOn for Builder {
    #[track_caller]
    fn build_on<T: Message>(&self, store: Store) -> Queue<T> {
        match store {
            Store::Memory => self.build(),
            Store::Durable => {
                // Small segments and copy-forward at half: the contract
                // holds while compaction copies live messages forward.
                let disk = DiskOptions::new()
                    .sync(SyncPolicy::Always)
                    .segment_bytes(512)
                    .copy_forward_at(50)
                    .file_system(SimFs::new());
                self.open_durable_with("/queue", Bytes, &disk)
                    .expect("a durable queue on a fresh SimFs")
                    .queue
            }
        }
    }
}

/// A bare backend on a store, for tests that wrap one.
#[track_caller]
pub(crate) fn backend_on<T: Message>(builder: &Builder, store: Store) -> Box<dyn weft::queue::Backend<T>> {
    match store {
        Store::Memory => Box::new(weft::queue::Memory::new(builder)),
        Store::Durable => {
            let disk = DiskOptions::new()
                .sync(SyncPolicy::Always)
                .segment_bytes(512)
                .copy_forward_at(50)
                .file_system(SimFs::new());
            Box::new(
                builder
                    .open_durable_with("/queue", Bytes, &disk)
                    .expect("a durable queue on a fresh SimFs")
                    .backend,
            )
        }
    }
}
