//! The registry: every live task of one scheduler, so shutdown can cancel the
//! ones that are idle (a task waiting on a waker held elsewhere is reachable
//! from nowhere else).
//!
//! It is a set of shards, each a mutex-guarded slab of task references. A task
//! records its slot (shard and index) in its header when bound, so removal on
//! completion is O(1); spreading tasks over shards keeps workers that complete
//! tasks from contending with workers that spawn them. Once closed, binding
//! fails and the task is cancelled on the spot.

use super::{JoinHandle, Notified, Schedule, Task};
use crate::loom::{Mutex, lock};
use crate::util::cache_padded::CachePadded;
use std::fmt;
use std::future::Future;

/// No slot (`usize::MAX` never indexes a real entry).
const NONE: usize = usize::MAX;

/// The live tasks of one scheduler.
pub(crate) struct Registry<S: 'static> {
    /// Padded: the spawning thread and the completing workers hit
    /// different shards at once, and must not share their cache lines.
    shards: Box<[CachePadded<Mutex<Shard<S>>>]>,
    mask: usize,
}

struct Shard<S: 'static> {
    entries: Vec<Entry<S>>,
    /// Head of the list of vacant entries.
    free: usize,
    len: usize,
    closed: bool,
}

enum Entry<S: 'static> {
    Occupied {
        task: Task<S>,
        /// Spawned with `spawn_local`: its future may only be dropped on the
        /// thread that owns the scheduler.
        local: bool,
    },
    Vacant {
        next_free: usize,
    },
}

impl<S: Schedule> Registry<S> {
    /// A registry with at least `shards` shards (rounded up to a power of two).
    pub(crate) fn new(shards: usize) -> Registry<S> {
        let n = shards.max(1).next_power_of_two();
        Registry {
            shards: (0..n).map(|_| CachePadded(Mutex::new(Shard::new()))).collect(),
            mask: n - 1,
        }
    }

    /// Records a new task, keeping its registry reference. Returns its first
    /// `Notified` to be scheduled, or `None` if the registry is closed, in
    /// which case the task has been cancelled and its `JoinHandle` resolves
    /// to a cancelled error.
    ///
    /// `hint` spreads tasks over the shards.
    pub(crate) fn bind(
        &self,
        task: Task<S>,
        notified: Notified<S>,
        hint: usize,
        local: bool,
    ) -> Option<Notified<S>> {
        let index = hint & self.mask;
        let mut shard = lock(&self.shards[index]);
        if shard.closed {
            drop(shard);
            drop(notified);
            task.shutdown();
            return None;
        }
        let slot = shard.insert(task, local);
        // Written before the `Notified` is published, read on completion.
        shard.get(slot).header().set_owner_id(pack(index, slot));
        drop(shard);
        Some(notified)
    }

    /// Spawns `future`: allocates its task, records it and hands its first
    /// `Notified` to `schedule`. If the registry is closed the task is
    /// cancelled on the spot instead, and the handle resolves to a cancelled
    /// error.
    pub(crate) fn spawn<F>(
        &self,
        future: F,
        scheduler: S,
        hint: usize,
        schedule: impl FnOnce(Notified<S>),
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (task, notified, join) = super::new_task(future, scheduler);
        if let Some(notified) = self.bind(task, notified, hint, false) {
            schedule(notified);
        }
        join
    }

    /// Removes `task` if it is still recorded, returning the registry's
    /// reference.
    pub(crate) fn remove(&self, task: &Task<S>) -> Option<Task<S>> {
        let (index, slot) = unpack(task.header().owner_id());
        let mut shard = lock(self.shards.get(index)?);
        shard.remove_if(slot, task)
    }

    /// Closes the registry and cancels every task in it. Several threads may
    /// call this at once; each starts at its own shard.
    ///
    /// Local tasks are cancelled only if `drop_local` (the caller is on the
    /// owning thread); otherwise their futures, which must not be dropped on
    /// this thread, are leaked, and their `JoinHandle`s still resolve to a
    /// cancelled error.
    pub(crate) fn close_and_shutdown_all(&self, start: usize, drop_local: bool) {
        for shard in self.shards.iter() {
            lock(shard).closed = true;
        }
        for i in 0..self.shards.len() {
            let index = start.wrapping_add(i) & self.mask;
            loop {
                let drained = lock(&self.shards[index]).drain();
                if drained.is_empty() {
                    break;
                }
                for (task, local) in drained {
                    if local && !drop_local {
                        task.leak_future();
                    } else {
                        task.shutdown();
                    }
                }
            }
        }
    }

    /// The number of recorded tasks.
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|shard| lock(shard).len).sum()
    }
}

impl<S: 'static> Shard<S> {
    fn new() -> Shard<S> {
        Shard {
            entries: Vec::new(),
            free: NONE,
            len: 0,
            closed: false,
        }
    }

    fn insert(&mut self, task: Task<S>, local: bool) -> usize {
        self.len += 1;
        let entry = Entry::Occupied { task, local };
        if self.free == NONE {
            self.entries.push(entry);
            return self.entries.len() - 1;
        }
        let slot = self.free;
        match std::mem::replace(&mut self.entries[slot], entry) {
            Entry::Vacant { next_free } => self.free = next_free,
            Entry::Occupied { .. } => unreachable!("the free list points at an occupied entry"),
        }
        slot
    }

    fn get(&self, slot: usize) -> &Task<S> {
        match &self.entries[slot] {
            Entry::Occupied { task, .. } => task,
            Entry::Vacant { .. } => unreachable!("a just-inserted entry is occupied"),
        }
    }

    fn remove_if(&mut self, slot: usize, task: &Task<S>) -> Option<Task<S>> {
        match self.entries.get(slot) {
            Some(Entry::Occupied { task: held, .. }) if held.ptr_eq(task) => {}
            _ => return None,
        }
        let vacant = Entry::Vacant { next_free: self.free };
        self.free = slot;
        self.len -= 1;
        match std::mem::replace(&mut self.entries[slot], vacant) {
            Entry::Occupied { task, .. } => Some(task),
            Entry::Vacant { .. } => None,
        }
    }

    /// Takes every task out, leaving the shard empty.
    fn drain(&mut self) -> Vec<(Task<S>, bool)> {
        self.free = NONE;
        self.len = 0;
        std::mem::take(&mut self.entries)
            .into_iter()
            .filter_map(|entry| match entry {
                Entry::Occupied { task, local } => Some((task, local)),
                Entry::Vacant { .. } => None,
            })
            .collect()
    }
}

fn pack(shard: usize, slot: usize) -> u64 {
    ((shard as u64) << 32) | (slot as u64 & 0xffff_ffff)
}

fn unpack(id: u64) -> (usize, usize) {
    ((id >> 32) as usize, (id & 0xffff_ffff) as usize)
}

impl<S: 'static> fmt::Debug for Registry<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("shards", &self.shards.len())
            .finish()
    }
}
