//! The task's memory: one heap allocation, a type-erased pointer to it, and
//! the vtable that recovers the types.
//!
//! ```text
//!  Cell<F, S>  (#[repr(C)], one Box)
//!  ┌──────────────────────────────┐  <- NonNull<Header> points here
//!  │ Header                       │
//!  │   state      AtomicU64       │  flags, registry slot, reference count
//!  │   vtable     &'static Vtable │  poll / schedule / dealloc … for F, S
//!  │   join_waker Option<Waker>   │  the JoinHandle's waker
//!  │   id         Id              │  the task's public id (and registry shard)
//!  ├──────────────────────────────┤
//!  │ scheduler    S               │  the hook: schedule, release
//!  │ stage        union {         │  the future while incomplete,
//!  │   future F, output T }       │  then its output, in place
//!  └──────────────────────────────┘
//! ```
//!
//! The stage is a union without a tag: which field is live follows from the
//! state word (see `mod.rs`), so no byte is spent on it. Nor is one spent on
//! the registry: the task's slot there lives in spare bits of the state word,
//! and its shard follows from the id. For `async {}` on a runtime the whole
//! cell is 56 bytes: a 40-byte header, the scheduler's `Arc` and an 8-byte
//! stage.
//!
//! This file and `harness.rs` are the only places that turn the header pointer
//! back into a typed `Cell`.
#![allow(clippy::disallowed_methods)]

use super::Id;
use super::Schedule;
use super::error::Failure;
use super::state::{DropJoinHandleFast, Released, State};
use crate::loom::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::task::Waker;

/// The output slot's type: the future's value, or why there is none.
pub(crate) type Output<T> = Result<T, Failure>;

// ANCHOR: task-cell
/// The part of every task that code without its types can use.
#[repr(C)]
pub(crate) struct Header {
    pub(super) state: State,
    pub(super) vtable: &'static Vtable,
    /// Owned by the `JoinHandle` while `JOIN_WAKER` is unset, readable by the
    /// task side while it is set (see `state.rs`).
    pub(super) join_waker: UnsafeCell<Option<Waker>>,
    /// The task's id, fixed at spawn; it also picks the registry shard.
    pub(super) id: Id,
}

/// The whole allocation.
#[repr(C)]
pub(super) struct Cell<F: Future, S> {
    pub(super) header: Header,
    pub(super) scheduler: S,
    pub(super) stage: UnsafeCell<Stage<F>>,
}

/// The future, then its output: one is live at a time, as the state says.
pub(super) union Stage<F: Future> {
    future: ManuallyDrop<F>,
    output: ManuallyDrop<Output<F::Output>>,
}
// ANCHOR_END: task-cell

// ANCHOR: task-vtable
/// The typed operations of one `Cell<F, S>`, reached through the header.
pub(super) struct Vtable {
    pub(super) poll: unsafe fn(NonNull<Header>),
    pub(super) schedule: unsafe fn(NonNull<Header>),
    pub(super) dealloc: unsafe fn(NonNull<Header>),
    /// Writes `Poll<Output<T>>` into the second pointer if the output is ready.
    pub(super) try_read_output: unsafe fn(NonNull<Header>, NonNull<()>, &Waker),
    pub(super) drop_join_handle_slow: unsafe fn(NonNull<Header>),
    pub(super) shutdown: unsafe fn(NonNull<Header>),
    pub(super) leak_future: unsafe fn(NonNull<Header>),
}

/// The vtable of `Cell<F, S>`, a promoted constant.
fn vtable<F: Future + 'static, S: Schedule>() -> &'static Vtable {
    &Vtable {
        poll: super::harness::poll::<F, S>,
        schedule: super::harness::schedule::<F, S>,
        dealloc: super::harness::dealloc::<F, S>,
        try_read_output: super::harness::try_read_output::<F, S>,
        drop_join_handle_slow: super::harness::drop_join_handle_slow::<F, S>,
        shutdown: super::harness::shutdown::<F, S>,
        leak_future: super::harness::leak_future::<F, S>,
    }
}
// ANCHOR_END: task-vtable

/// A type-erased pointer to a task. It carries no reference of its own; the
/// types built on it (`Task`, `Notified`, `JoinHandle`, wakers) do.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawTask {
    ptr: NonNull<Header>,
}

// A `RawTask` is a pointer to a `Header`, whose fields are atomics or are
// guarded by the state protocol; the typed parts are reached only through the
// vtable under that protocol. Futures that are not `Send` are only created
// through `spawn_local`, whose scheduler never lets them leave their thread.
// SAFETY: so sending the pointer to another thread shares nothing unguarded.
unsafe impl Send for RawTask {}
// SAFETY: as for `Send`: shared access goes through the atomic state word.
unsafe impl Sync for RawTask {}

impl RawTask {
    // ANCHOR: task-new
    /// Allocates a task holding `future`, with the initial state (three
    /// references, notified, joinable).
    pub(super) fn new<F, S>(future: F, scheduler: S) -> RawTask
    where
        F: Future + 'static,
        S: Schedule,
    {
        let cell = Box::new(Cell {
            header: Header {
                state: State::new(),
                vtable: vtable::<F, S>(),
                join_waker: UnsafeCell::new(None),
                id: Id::next(),
            },
            scheduler,
            stage: UnsafeCell::new(Stage {
                future: ManuallyDrop::new(future),
            }),
        });
        let ptr = NonNull::from(Box::leak(cell)).cast::<Header>();
        RawTask { ptr }
    }
    // ANCHOR_END: task-new

    /// # Safety
    ///
    /// `ptr` must come from `RawTask::header_ptr` of a live task.
    pub(super) unsafe fn from_raw(ptr: NonNull<Header>) -> RawTask {
        RawTask { ptr }
    }

    pub(crate) fn header(&self) -> &Header {
        // SAFETY: whoever holds a `RawTask` holds a reference to the task (the
        // types wrapping it own one), so the allocation is live; the header is
        // only accessed through shared references.
        unsafe { self.ptr.as_ref() }
    }

    pub(super) fn state(&self) -> &State {
        &self.header().state
    }

    /// Polls the task. The caller gives up the reference of a `Notified`.
    pub(super) fn poll(self) {
        // SAFETY: the vtable was built for this cell's types; the caller owns
        // a `Notified`'s reference, which `poll` consumes.
        unsafe { (self.header().vtable.poll)(self.ptr) }
    }

    /// Hands the task to its scheduler. The caller gives up one reference,
    /// which becomes the `Notified`'s.
    pub(super) fn schedule(self) {
        // SAFETY: as for `poll`; the caller owns a reference for the `Notified`.
        unsafe { (self.header().vtable.schedule)(self.ptr) }
    }

    /// Frees the allocation. The caller held the last reference.
    pub(super) fn dealloc(self) {
        // SAFETY: the reference count reached zero, so nothing else can reach
        // the task; the vtable matches the cell.
        unsafe { (self.header().vtable.dealloc)(self.ptr) }
    }

    /// Cancels the task for shutdown. The caller gives up one reference.
    pub(super) fn shutdown(self) {
        // SAFETY: the vtable matches the cell; the caller owns a reference.
        unsafe { (self.header().vtable.shutdown)(self.ptr) }
    }

    /// Completes the task as cancelled without dropping its future, keeping
    /// the caller's reference forever.
    pub(super) fn leak_future(self) {
        // SAFETY: the vtable matches the cell; the caller owns a reference.
        unsafe { (self.header().vtable.leak_future)(self.ptr) }
    }

    /// # Safety
    ///
    /// `dst` must point to a `Poll<Output<T>>` where `T` is this task's output
    /// type, and the caller must be the task's `JoinHandle`.
    pub(super) unsafe fn try_read_output(self, dst: NonNull<()>, waker: &Waker) {
        // SAFETY: forwarded from the caller.
        unsafe { (self.header().vtable.try_read_output)(self.ptr, dst, waker) }
    }

    /// Drops the `JoinHandle`'s interest and reference.
    ///
    /// # Safety
    ///
    /// The caller must be the task's `JoinHandle`, calling this once.
    pub(super) unsafe fn drop_join_handle(self, output_taken: bool) {
        if output_taken {
            if self.state().drop_join_handle_after_output() == Released::Dealloc {
                self.dealloc();
            }
            return;
        }
        if self.state().drop_join_handle_fast() == DropJoinHandleFast::Done {
            return;
        }
        // SAFETY: forwarded from the caller.
        unsafe { (self.header().vtable.drop_join_handle_slow)(self.ptr) }
    }

    /// Releases one reference, freeing the task if it was the last.
    pub(super) fn drop_reference(self) {
        if self.state().ref_dec() == Released::Dealloc {
            self.dealloc();
        }
    }
}

impl Header {
    pub(crate) fn id(&self) -> Id {
        self.id
    }

    /// Where the registry keeps this task: its slot (0 until recorded), and
    /// whether it was spawned with `spawn_local`.
    pub(crate) fn owner(&self) -> (usize, bool) {
        let snapshot = self.state.load();
        (snapshot.owner_slot(), snapshot.is_local())
    }

    /// Records the registry slot; see [`State::set_owner`].
    pub(crate) fn set_owner(&self, slot: usize, local: bool) {
        self.state.set_owner(slot, local);
    }
}

impl<F: Future, S> Cell<F, S> {
    /// # Safety
    ///
    /// `ptr` must point to the header of a live `Cell<F, S>`.
    pub(super) unsafe fn from_header<'a>(ptr: NonNull<Header>) -> &'a Cell<F, S> {
        // SAFETY: `Cell` is `#[repr(C)]` with the header first, so the pointer
        // to the header is a pointer to the cell; the caller vouches that the
        // cell is live and of these types.
        unsafe { ptr.cast::<Cell<F, S>>().as_ref() }
    }

    /// Frees the cell. The stage must hold nothing that needs dropping.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a live `Cell<F, S>` nobody else can reach.
    pub(super) unsafe fn free(ptr: NonNull<Header>) {
        // SAFETY: the cell was made by `Box::new` in `RawTask::new`, and the
        // caller has the last access to it. The stage is `ManuallyDrop`, so
        // only the header (join waker) and the scheduler are dropped here.
        drop(unsafe { Box::from_raw(ptr.cast::<Cell<F, S>>().as_ptr()) });
    }
}

impl<F: Future> Stage<F> {
    /// Polls the future in place.
    ///
    /// # Safety
    ///
    /// The caller holds `RUNNING` and the future is live (the task is not
    /// complete and the future was not dropped).
    pub(super) unsafe fn poll(
        stage: &UnsafeCell<Stage<F>>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        stage.with_mut(|ptr| {
            // SAFETY: `RUNNING` gives exclusive access to the stage, the future
            // field is live, and the cell is heap-pinned: it never moves
            // until it is freed.
            let future = unsafe { std::pin::Pin::new_unchecked(&mut *(*ptr).future) };
            future.poll(cx)
        })
    }

    /// Drops the future in place. The stage then holds nothing.
    ///
    /// # Safety
    ///
    /// As for `poll`. The future must not be used again.
    pub(super) unsafe fn drop_future(stage: &UnsafeCell<Stage<F>>) {
        // SAFETY: exclusive access and a live future, from the caller.
        stage.with_mut(|ptr| unsafe { ManuallyDrop::drop(&mut (*ptr).future) })
    }

    /// Writes the output into the (empty) stage.
    ///
    /// # Safety
    ///
    /// The caller holds `RUNNING` and the future has been dropped.
    pub(super) unsafe fn store_output(stage: &UnsafeCell<Stage<F>>, output: Output<F::Output>) {
        stage.with_mut(|ptr| {
            // SAFETY: exclusive access from the caller; the stage is empty, so
            // overwriting it leaks nothing.
            unsafe {
                ptr.write(Stage {
                    output: ManuallyDrop::new(output),
                })
            }
        })
    }

    /// Moves the output out. The stage then holds nothing.
    ///
    /// # Safety
    ///
    /// The task is complete, the caller owns the output (it is the
    /// `JoinHandle`, or the task side when nobody joins), and it is live.
    pub(super) unsafe fn take_output(stage: &UnsafeCell<Stage<F>>) -> Output<F::Output> {
        // SAFETY: from the caller: the output is live and owned by us; reading
        // it out leaves the union without a live field.
        stage.with_mut(|ptr| unsafe { ManuallyDrop::take(&mut (*ptr).output) })
    }
}

impl fmt::Debug for RawTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawTask")
            .field("ptr", &self.ptr)
            .field("state", &self.header().state)
            .finish()
    }
}
