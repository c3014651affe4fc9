//! The registry: every live task of one scheduler, so shutdown can cancel the
//! ones that are idle (a task waiting on a waker held elsewhere is reachable
//! from nowhere else).
//!
//! # Layout
//!
//! A set of shards, each a mutex-guarded slab of task references. A task's
//! shard follows from its id (ids are handed out in sequence, so consecutive
//! spawns land on different shards and workers that complete tasks seldom
//! contend with the thread spawning them). Its slot in the shard is recorded
//! in the task's state word when the task is bound (`state.rs`: `set_owner`),
//! so removal on completion is O(1) and the task header spends no field on
//! it.
//!
//! A shard's slab is a list of fixed-size pages of one-word entries. A full
//! shard grows by one page; no entry ever moves, so growing copies nothing
//! and the memory a live task costs here is one word, plus at most one
//! partly used page per shard. Vacated slots are reused most recent first.
//!
//! # Protocol
//!
//! * The registry holds one reference to every task it records (counted in
//!   the task's state word), from `bind` until `remove` or shutdown takes it
//!   out.
//! * Everything in a shard, and the decision to close it, is guarded by its
//!   mutex. The owner slot is written before the task is shared and never
//!   changes, so reading it needs no lock.
//! * `remove` checks that the entry still holds this very task: after
//!   shutdown has drained the shard, or when `bind` found it closed, the slot
//!   is stale and the registry gives back nothing.
//! * Once closed, binding fails and the task is cancelled on the spot.
//!   Shutdown drains each shard under its lock and cancels the tasks after
//!   unlocking: cancelling drops futures, which may spawn or complete other
//!   tasks and so lock a shard again.

use super::state::OWNER_BITS;
use super::{Header, JoinHandle, Notified, Schedule, Task};
use crate::loom::{Mutex, lock};
use crate::util::cache_padded::CachePadded;
use std::fmt;
use std::future::Future;

/// Entries per page: 2 KiB of task references. Tiny under loom, so that a
/// model crosses page boundaries.
#[cfg(not(all(test, loom)))]
const PAGE: usize = 256;
#[cfg(all(test, loom))]
const PAGE: usize = 2;

/// Slots a shard can hand out: as many as the state word can record.
const MAX_SLOTS: usize = 1 << OWNER_BITS;

/// The live tasks of one scheduler.
pub(crate) struct Registry<S: 'static> {
    /// Padded: the spawning thread and the completing workers hit
    /// different shards at once, and must not share their cache lines.
    shards: Box<[CachePadded<Mutex<Shard<S>>>]>,
    mask: usize,
    /// Slots each shard may hand out: `MAX_SLOTS`, less in tests.
    max_slots: usize,
}

struct Shard<S: 'static> {
    /// `PAGE` entries each; slot `i` is `pages[i / PAGE][i % PAGE]`.
    pages: Vec<Box<[Option<Task<S>>]>>,
    /// Vacant slots below `used`, the most recently vacated last.
    free: Vec<u32>,
    /// Slots handed out at least once: `0..used`.
    used: usize,
    len: usize,
    closed: bool,
}

impl<S: Schedule> Registry<S> {
    /// A registry with at least `shards` shards (rounded up to a power of two).
    pub(crate) fn new(shards: usize) -> Registry<S> {
        Registry::with_max_slots(shards, MAX_SLOTS)
    }

    fn with_max_slots(shards: usize, max_slots: usize) -> Registry<S> {
        let n = shards.max(1).next_power_of_two();
        Registry {
            shards: (0..n).map(|_| CachePadded(Mutex::new(Shard::new()))).collect(),
            mask: n - 1,
            max_slots: max_slots.min(MAX_SLOTS),
        }
    }

    fn shard_of(&self, header: &Header) -> &Mutex<Shard<S>> {
        // Truncating the id is fine: only its low bits pick the shard.
        &self.shards[header.id().as_u64() as usize & self.mask]
    }

    /// Records a new task, keeping its registry reference. Returns its first
    /// `Notified` to be scheduled, or `None` if the registry is closed, in
    /// which case the task has been cancelled and its `JoinHandle` resolves
    /// to a cancelled error. `local`: spawned with `spawn_local`, so its
    /// future may only be dropped on the thread that owns the scheduler.
    pub(crate) fn bind(&self, task: Task<S>, notified: Notified<S>, local: bool) -> Option<Notified<S>> {
        let mut shard = lock(self.shard_of(task.header()));
        let slot = if shard.closed {
            None
        } else {
            shard.vacant_slot(self.max_slots)
        };
        let Some(slot) = slot else {
            // Closed (or, past 268 million tasks in one shard, full): the
            // task never runs.
            drop(shard);
            drop(notified);
            task.shutdown();
            return None;
        };
        // Written before the `Notified` is published, read on completion.
        task.header().set_owner(slot, local);
        shard.fill(slot, task);
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
        schedule: impl FnOnce(Notified<S>),
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (task, notified, join) = super::new_task(future, scheduler);
        if let Some(notified) = self.bind(task, notified, false) {
            schedule(notified);
        }
        join
    }

    /// Removes `task` if it is still recorded, returning the registry's
    /// reference.
    pub(crate) fn remove(&self, task: &Task<S>) -> Option<Task<S>> {
        let (slot, _) = task.header().owner();
        lock(self.shard_of(task.header())).remove_if(slot, task)
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
            // Closed, so nothing new arrives: one drain empties the shard.
            let pages = lock(&self.shards[index]).drain();
            for task in pages.into_iter().flat_map(<[_]>::into_vec).flatten() {
                let (_, local) = task.header().owner();
                if local && !drop_local {
                    task.leak_future();
                } else {
                    task.shutdown();
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
            pages: Vec::new(),
            free: Vec::new(),
            used: 0,
            len: 0,
            closed: false,
        }
    }

    /// A vacant slot, adding a page if every one is taken; `None` if the
    /// shard already holds `max` tasks.
    fn vacant_slot(&mut self, max: usize) -> Option<usize> {
        if let Some(slot) = self.free.pop() {
            return Some(slot as usize);
        }
        if self.used == max {
            return None;
        }
        if self.used == self.pages.len() * PAGE {
            self.pages.push((0..PAGE).map(|_| None).collect());
        }
        self.used += 1;
        Some(self.used - 1)
    }

    fn fill(&mut self, slot: usize, task: Task<S>) {
        let entry = &mut self.pages[slot / PAGE][slot % PAGE];
        debug_assert!(entry.is_none(), "a vacant slot is occupied");
        *entry = Some(task);
        self.len += 1;
    }

    fn remove_if(&mut self, slot: usize, task: &Task<S>) -> Option<Task<S>> {
        let entry = self.pages.get_mut(slot / PAGE)?.get_mut(slot % PAGE)?;
        if !entry.as_ref().is_some_and(|held| held.ptr_eq(task)) {
            return None;
        }
        let held = entry.take();
        // In range: slots are below `MAX_SLOTS`, which is at most 2^28.
        self.free.push(slot as u32);
        self.len -= 1;
        held
    }

    /// Takes every page out, leaving the shard empty.
    fn drain(&mut self) -> Vec<Box<[Option<Task<S>>]>> {
        self.free = Vec::new();
        self.used = 0;
        self.len = 0;
        std::mem::take(&mut self.pages)
    }
}

impl<S: 'static> fmt::Debug for Registry<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("shards", &self.shards.len())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::Registry;
    use crate::task::{JoinHandle, Notified, Schedule, Task, new_task};
    use std::future::{Future, pending};
    use std::pin::Pin;
    use std::sync::Arc;
    use std::task::{Context, Poll, Waker};

    /// Runs tasks by hand; nothing is woken, so `schedule` drops the reference.
    struct Sched {
        registry: Registry<Arc<Sched>>,
    }

    impl Schedule for Arc<Sched> {
        fn schedule(&self, task: Notified<Self>) {
            drop(task);
        }

        fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
            self.registry.remove(task)
        }
    }

    fn bind<F>(sched: &Arc<Sched>, future: F) -> (Option<Notified<Arc<Sched>>>, JoinHandle<F::Output>)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (task, notified, join) = new_task(future, sched.clone());
        (sched.registry.bind(task, notified, false), join)
    }

    fn poll<T>(join: &mut JoinHandle<T>) -> Poll<Result<T, crate::task::JoinError>> {
        Pin::new(join).poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn a_full_shard_cancels_the_new_task_and_takes_one_again_once_a_slot_frees() {
        let sched = Arc::new(Sched {
            registry: Registry::with_max_slots(1, 2),
        });
        let (first, mut first_join) = bind(&sched, async { 1 });
        let (second, _second_join) = bind(&sched, pending::<u32>());
        second.unwrap().run();
        let (third, mut third_join) = bind(&sched, async { 3 });
        assert!(third.is_none(), "a full shard records nothing more");
        assert!(matches!(poll(&mut third_join), Poll::Ready(Err(e)) if e.is_cancelled()));
        assert_eq!(sched.registry.len(), 2);
        // The first completes, and the fourth takes its slot.
        first.unwrap().run();
        assert!(matches!(poll(&mut first_join), Poll::Ready(Ok(1))));
        let (fourth, mut fourth_join) = bind(&sched, async { 4 });
        fourth.unwrap().run();
        assert!(matches!(poll(&mut fourth_join), Poll::Ready(Ok(4))));
        sched.registry.close_and_shutdown_all(0, true);
        assert_eq!(sched.registry.len(), 0);
    }

    #[test]
    fn slots_are_reused_and_pages_added_as_tasks_come_and_go() {
        let sched = Arc::new(Sched {
            registry: Registry::new(1),
        });
        // Three pages' worth, then every other one completes, then as many again.
        type Boxed = Pin<Box<dyn Future<Output = u32> + Send>>;
        let mut live = Vec::new();
        let mut queued = Vec::new();
        for i in 0..3 * super::PAGE {
            let future: Boxed = if i % 2 == 0 {
                Box::pin(async { 0 })
            } else {
                Box::pin(pending())
            };
            let (notified, join) = bind(&sched, future);
            queued.push(notified.unwrap());
            live.push(join);
        }
        let pages = |sched: &Sched| crate::loom::lock(&sched.registry.shards[0]).pages.len();
        assert_eq!(pages(&sched), 3);
        queued.into_iter().for_each(Notified::run);
        assert_eq!(sched.registry.len(), 3 * super::PAGE / 2);
        for _ in 0..3 * super::PAGE / 2 {
            let (notified, join) = bind(&sched, pending::<u32>());
            notified.unwrap().run();
            drop(join);
        }
        // The vacated slots were taken before any new page.
        assert_eq!(pages(&sched), 3);
        assert_eq!(sched.registry.len(), 3 * super::PAGE);
        sched.registry.close_and_shutdown_all(0, true);
        assert_eq!(sched.registry.len(), 0);
        for mut join in live {
            assert!(poll(&mut join).is_ready());
        }
    }
}
