//! A worker's local run queue: a bounded ring buffer with one owner, who
//! pushes and pops without locks, and any number of stealers, who take half.
//!
//! # The protocol
//!
//! ```text
//!   head = (steal, real) packed in one AtomicU64        tail: AtomicU32
//!
//!   slots:   … consumed │ being stolen │ queued for the owner │ free …
//!                       ^steal         ^real                  ^tail
//! ```
//!
//! * Only the owner writes `tail` and the slots at `tail`: it pushes when
//!   `tail - steal < CAPACITY`, so it never overwrites a slot a stealer is
//!   still copying.
//! * The owner pops at `real` by advancing it with a compare-and-swap; when
//!   no steal is in progress (`steal == real`) it advances both.
//! * A stealer claims `[real, real + n)` by advancing `real` alone with a
//!   compare-and-swap, leaving `steal` behind as a marker that a steal is in
//!   progress. It copies the claimed tasks into its own queue, then moves
//!   `steal` up to `real`, releasing the slots. Only one steal runs at a
//!   time: a stealer that finds `steal != real` gives up.
//! * When a push finds the buffer full and no steal in progress, the owner
//!   claims the older half the same way and moves it, with the new task, to
//!   the injection queue in one batch. If a steal is in progress, the new
//!   task alone goes there.
//!
//! Every slot therefore has one owner at a time — decided by the CAS on
//! `head` — and the release store of `tail` / acquire loads by stealers
//! order the owner's slot writes before any stealer reads them.
#![allow(clippy::disallowed_methods)]

use crate::loom::atomic::{AtomicU32, AtomicU64, Ordering};
use crate::loom::{Arc, UnsafeCell};
use std::fmt;
use std::mem::MaybeUninit;

#[cfg(not(all(test, loom)))]
pub(crate) const CAPACITY: usize = 256;
// Small under loom, so that overflow and wrap-around are explored too.
#[cfg(all(test, loom))]
pub(crate) const CAPACITY: usize = 4;

const MASK: usize = CAPACITY - 1;

/// Where a full queue sends its overflow.
pub(crate) trait Overflow<T> {
    fn push(&self, task: T);
    fn push_batch(&self, tasks: &mut dyn Iterator<Item = T>);
}

// ANCHOR: queue-inner
struct Inner<T> {
    head: AtomicU64,
    tail: AtomicU32,
    buffer: Box<[UnsafeCell<MaybeUninit<T>>]>,
}
// ANCHOR_END: queue-inner

/// The owner's side.
pub(crate) struct Local<T> {
    inner: Arc<Inner<T>>,
}

/// The stealers' side.
pub(crate) struct Steal<T>(Arc<Inner<T>>);

// SAFETY: tasks move between threads through the queue, so `T: Send` is
// needed and enough; the slots are shared only under the protocol above.
unsafe impl<T: Send> Send for Local<T> {}
// SAFETY: as for `Local`; stealers on many threads coordinate through `head`.
unsafe impl<T: Send> Send for Steal<T> {}
// SAFETY: as for `Local`; every `&Steal` method follows the protocol above.
unsafe impl<T: Send> Sync for Steal<T> {}

/// A new queue: the owner's half and the stealers' half.
pub(crate) fn local<T>() -> (Steal<T>, Local<T>) {
    let buffer = (0..CAPACITY)
        .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
        .collect();
    let inner = Arc::new(Inner {
        head: AtomicU64::new(0),
        tail: AtomicU32::new(0),
        buffer,
    });
    (Steal(inner.clone()), Local { inner })
}

// ANCHOR: queue-pack
fn pack(steal: u32, real: u32) -> u64 {
    (u64::from(steal) << 32) | u64::from(real)
}

fn unpack(head: u64) -> (u32, u32) {
    ((head >> 32) as u32, head as u32)
}
// ANCHOR_END: queue-pack

impl<T> Inner<T> {
    /// Moves the task out of slot `index`.
    ///
    /// # Safety
    ///
    /// The caller has claimed the slot through `head` (or owns the queue and
    /// the slot is below `tail` and at or above `real`), and it holds a task.
    unsafe fn read(&self, index: u32) -> T {
        self.buffer[index as usize & MASK].with(|slot| {
            // SAFETY: from the caller: the slot holds an initialized task
            // that nobody else will read.
            unsafe { (*slot).assume_init_read() }
        })
    }

    /// Writes a task into slot `index`.
    ///
    /// # Safety
    ///
    /// Only the owner writes, at or above `tail`, and only while
    /// `index - steal < CAPACITY`, so the slot is free.
    unsafe fn write(&self, index: u32, task: T) {
        self.buffer[index as usize & MASK].with_mut(|slot| {
            // SAFETY: from the caller: the slot is free and ours alone.
            unsafe { (*slot).write(task) };
        });
    }

    fn len(&self) -> u32 {
        let (_, real) = unpack(self.head.load(Ordering::Acquire));
        let tail = self.tail.load(Ordering::Acquire);
        tail.wrapping_sub(real)
    }
}

impl<T> Local<T> {
    /// True if the owner has tasks queued.
    pub(crate) fn has_tasks(&self) -> bool {
        self.inner.len() > 0
    }

    /// Free slots; a lower bound, as stealers only ever add to it.
    pub(crate) fn remaining_slots(&self) -> usize {
        let (steal, _) = unpack(self.inner.head.load(Ordering::Acquire));
        let tail = self.inner.tail.load(Ordering::Relaxed);
        CAPACITY - tail.wrapping_sub(steal) as usize
    }

    pub(crate) fn len(&self) -> usize {
        self.inner.len() as usize
    }

    /// Pushes tasks that are known to fit (see `remaining_slots`).
    pub(crate) fn push_back_batch(&mut self, tasks: &mut dyn Iterator<Item = T>) {
        let (steal, _) = unpack(self.inner.head.load(Ordering::Acquire));
        let mut tail = self.inner.tail.load(Ordering::Relaxed);
        for task in tasks {
            assert!(
                (tail.wrapping_sub(steal) as usize) < CAPACITY,
                "push_back_batch beyond the queue's free slots"
            );
            // SAFETY: we own the queue and the slot is free (asserted above).
            unsafe { self.inner.write(tail, task) };
            tail = tail.wrapping_add(1);
        }
        self.inner.tail.store(tail, Ordering::Release);
    }

    /// Pushes `task` at the back; when the queue is full, moves half of it
    /// (and the task) to `overflow`.
    pub(crate) fn push_back_or_overflow(&mut self, mut task: T, overflow: &dyn Overflow<T>) {
        let tail = loop {
            let (steal, real) = unpack(self.inner.head.load(Ordering::Acquire));
            let tail = self.inner.tail.load(Ordering::Relaxed);
            if (tail.wrapping_sub(steal) as usize) < CAPACITY {
                break tail;
            }
            if steal != real {
                // A stealer is freeing slots right now; don't wait for it.
                overflow.push(task);
                return;
            }
            match self.push_overflow(task, real, tail, overflow) {
                Ok(()) => return,
                // A stealer took some tasks first: there is room now.
                Err(back) => task = back,
            }
        };
        // SAFETY: we own the queue and checked that the slot is free.
        unsafe { self.inner.write(tail, task) };
        self.inner.tail.store(tail.wrapping_add(1), Ordering::Release);
    }

    // ANCHOR: queue-overflow
    /// Moves the older half of a full queue, then `task`, to `overflow`.
    fn push_overflow(&mut self, task: T, head: u32, tail: u32, overflow: &dyn Overflow<T>) -> Result<(), T> {
        const HALF: u32 = (CAPACITY / 2) as u32;
        debug_assert_eq!(tail.wrapping_sub(head) as usize, CAPACITY);
        let claimed = pack(head.wrapping_add(HALF), head.wrapping_add(HALF));
        if self
            .inner
            .head
            .compare_exchange(pack(head, head), claimed, Ordering::Release, Ordering::Relaxed)
            .is_err()
        {
            return Err(task);
        }
        let inner = &self.inner;
        // SAFETY: the CAS made slots [head, head + HALF) ours; each is read once.
        let mut batch = (0..HALF)
            .map(|i| unsafe { inner.read(head.wrapping_add(i)) })
            .chain(std::iter::once(task));
        overflow.push_batch(&mut batch);
        Ok(())
    }
    // ANCHOR_END: queue-overflow

    // ANCHOR: queue-pop
    /// Pops the task at the front.
    pub(crate) fn pop(&mut self) -> Option<T> {
        let mut head = self.inner.head.load(Ordering::Acquire);
        let index = loop {
            let (steal, real) = unpack(head);
            let tail = self.inner.tail.load(Ordering::Relaxed);
            if real == tail {
                return None;
            }
            let next_real = real.wrapping_add(1);
            let next = if steal == real {
                pack(next_real, next_real)
            } else {
                debug_assert_ne!(steal, next_real);
                pack(steal, next_real)
            };
            match self
                .inner
                .head
                .compare_exchange(head, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => break real,
                Err(actual) => head = actual,
            }
        };
        // SAFETY: the CAS gave us slot `index`, which holds a task.
        Some(unsafe { self.inner.read(index) })
    }
    // ANCHOR_END: queue-pop
}

impl<T> Steal<T> {
    pub(crate) fn is_empty(&self) -> bool {
        self.0.len() == 0
    }

    /// Steals half of this queue into `dst`, returning one of the stolen
    /// tasks to run at once.
    pub(crate) fn steal_into(&self, dst: &mut Local<T>) -> Option<T> {
        let dst_tail = dst.inner.tail.load(Ordering::Relaxed);
        let (dst_steal, _) = unpack(dst.inner.head.load(Ordering::Acquire));
        // Steal only into a queue at most half full, so that half of a full
        // queue always fits.
        if dst_tail.wrapping_sub(dst_steal) as usize > CAPACITY / 2 {
            return None;
        }
        let n = self.steal_into2(dst, dst_tail);
        if n == 0 {
            return None;
        }
        // Keep the last stolen task for the caller; publish the others.
        let n = n - 1;
        // SAFETY: we own `dst` and just wrote slot `dst_tail + n`, which is
        // beyond its published tail, so nobody else can see it.
        let task = unsafe { dst.inner.read(dst_tail.wrapping_add(n)) };
        if n > 0 {
            dst.inner.tail.store(dst_tail.wrapping_add(n), Ordering::Release);
        }
        Some(task)
    }

    // ANCHOR: queue-steal
    /// Moves half of this queue into `dst`'s slots from `dst_tail` on,
    /// without publishing them. Returns how many.
    fn steal_into2(&self, dst: &mut Local<T>, dst_tail: u32) -> u32 {
        let mut prev = self.0.head.load(Ordering::Acquire);
        let (first, n) = loop {
            let (steal, real) = unpack(prev);
            if steal != real {
                // Another steal is in progress.
                return 0;
            }
            let tail = self.0.tail.load(Ordering::Acquire);
            let available = tail.wrapping_sub(real);
            let n = available - available / 2;
            if n == 0 {
                return 0;
            }
            let next = pack(steal, real.wrapping_add(n));
            match self
                .0
                .head
                .compare_exchange(prev, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => break (real, n),
                Err(actual) => prev = actual,
            }
        };
        debug_assert!(n as usize <= CAPACITY / 2);
        for i in 0..n {
            // SAFETY: the CAS claimed [first, first + n) of the source; the
            // destination slots are free (`dst` is at most half full) and ours.
            unsafe {
                let task = self.0.read(first.wrapping_add(i));
                dst.inner.write(dst_tail.wrapping_add(i), task);
            }
        }
        // Release the claim: `steal` catches up with `real`, wherever the
        // owner's pops have moved it meanwhile.
        let mut prev = pack(first, first.wrapping_add(n));
        loop {
            let (steal, real) = unpack(prev);
            debug_assert_eq!(steal, first);
            match self
                .0
                .head
                .compare_exchange(prev, pack(real, real), Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return n,
                Err(actual) => prev = actual,
            }
        }
    }
    // ANCHOR_END: queue-steal
}

impl<T> Drop for Local<T> {
    fn drop(&mut self) {
        // Tasks still queued are released (their references dropped).
        while let Some(task) = self.pop() {
            drop(task);
        }
    }
}

impl<T> fmt::Debug for Local<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Local").field("len", &self.len()).finish()
    }
}

impl<T> fmt::Debug for Steal<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Steal").field("len", &self.0.len()).finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::cell::RefCell;

    struct VecOverflow(RefCell<Vec<u32>>);

    impl Overflow<u32> for VecOverflow {
        fn push(&self, task: u32) {
            self.0.borrow_mut().push(task);
        }
        fn push_batch(&self, tasks: &mut dyn Iterator<Item = u32>) {
            self.0.borrow_mut().extend(tasks);
        }
    }

    #[test]
    fn pops_in_fifo_order() {
        let (_steal, mut queue) = local::<u32>();
        let overflow = VecOverflow(RefCell::new(Vec::new()));
        for i in 0..10 {
            queue.push_back_or_overflow(i, &overflow);
        }
        let popped: Vec<u32> = std::iter::from_fn(|| queue.pop()).collect();
        assert_eq!(popped, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn a_full_queue_moves_its_older_half_and_the_new_task_to_overflow() {
        let (_steal, mut queue) = local::<u32>();
        let overflow = VecOverflow(RefCell::new(Vec::new()));
        let cap = CAPACITY as u32;
        for i in 0..=cap {
            queue.push_back_or_overflow(i, &overflow);
        }
        let moved = overflow.0.borrow().clone();
        let mut expected: Vec<u32> = (0..cap / 2).collect();
        expected.push(cap);
        assert_eq!(moved, expected);
        let kept: Vec<u32> = std::iter::from_fn(|| queue.pop()).collect();
        assert_eq!(kept, (cap / 2..cap).collect::<Vec<_>>());
    }

    #[test]
    fn steal_takes_half_rounded_up_and_keeps_every_task_exactly_once() {
        let (steal, mut src) = local::<u32>();
        let (_s2, mut dst) = local::<u32>();
        let overflow = VecOverflow(RefCell::new(Vec::new()));
        for i in 0..7 {
            src.push_back_or_overflow(i, &overflow);
        }
        let first = steal.steal_into(&mut dst).unwrap();
        // Four stolen: three queued in dst, the last returned.
        assert_eq!(first, 3);
        let in_dst: Vec<u32> = std::iter::from_fn(|| dst.pop()).collect();
        assert_eq!(in_dst, [0, 1, 2]);
        let in_src: Vec<u32> = std::iter::from_fn(|| src.pop()).collect();
        assert_eq!(in_src, [4, 5, 6]);
        assert!(steal.steal_into(&mut dst).is_none());
    }

    #[test]
    fn wraps_around_many_times() {
        let (steal, mut queue) = local::<u32>();
        let (_s2, mut other) = local::<u32>();
        let overflow = VecOverflow(RefCell::new(Vec::new()));
        let mut seen = Vec::new();
        let mut next = 0u32;
        for round in 0..100u32 {
            for _ in 0..(round % 37 + 1) {
                queue.push_back_or_overflow(next, &overflow);
                next += 1;
            }
            if round % 3 == 0 {
                if let Some(t) = steal.steal_into(&mut other) {
                    seen.push(t);
                }
                seen.extend(std::iter::from_fn(|| other.pop()));
            }
            seen.extend(std::iter::from_fn(|| queue.pop()).take(5));
        }
        seen.extend(std::iter::from_fn(|| queue.pop()));
        seen.extend(overflow.0.borrow().iter().copied());
        seen.sort_unstable();
        assert_eq!(seen, (0..next).collect::<Vec<_>>());
    }
}
