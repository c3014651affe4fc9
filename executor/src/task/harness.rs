//! What a task does when polled, cancelled, completed, joined or freed: the
//! typed functions behind the vtable.
//!
//! Every call here that runs user code (polling or dropping the future,
//! dropping the output, waking or dropping the join waker) is wrapped in
//! `catch_unwind`: a panic becomes the task's `JoinError` or is discarded,
//! and never unwinds into the scheduler.
//!
//! A poll that panics drops the future *during* the unwinding, inside the
//! `catch_unwind`, as tokio does: destructors in the future see
//! `std::thread::panicking()` return true, so guards that poison on panic
//! (a mutex guard held across the panicking poll, say) do so. The price is
//! the one Rust sets for any destructor: one that panics while unwinding
//! aborts the process.

use super::error::Failure;
use super::id::CurrentGuard;
use super::raw::{Cell, Header, Output, RawTask, Stage};
use super::state::{Released, Snapshot, State, TransitionToIdle, TransitionToRunning, TransitionToShutdown};
use super::waker::waker_ref;
use super::{Notified, Schedule, Task};
use std::any::Any;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

/// A typed view of one task, for the duration of one vtable call.
struct Harness<F: Future, S> {
    ptr: NonNull<Header>,
    _types: PhantomData<(F, S)>,
}

/// Runs `f`, discarding any panic it raises.
pub(crate) fn catch_quietly(f: impl FnOnce()) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(f)) {
        drop_payload(payload);
    }
}

/// Drops a panic payload whose own `Drop` might panic: that second panic is
/// caught, and its payload leaked rather than risk a third.
pub(crate) fn drop_payload(payload: Box<dyn Any + Send>) {
    if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(again);
    }
}

impl<F: Future + 'static, S: Schedule> Harness<F, S> {
    /// # Safety
    ///
    /// `ptr` must be the header of a live `Cell<F, S>`.
    unsafe fn new(ptr: NonNull<Header>) -> Harness<F, S> {
        Harness {
            ptr,
            _types: PhantomData,
        }
    }

    fn cell(&self) -> &Cell<F, S> {
        // SAFETY: `new`'s contract: the cell is live and of these types; the
        // caller of each vtable function holds a reference to it.
        unsafe { Cell::from_header(self.ptr) }
    }

    fn raw(&self) -> RawTask {
        // SAFETY: the pointer is the header of a live task.
        unsafe { RawTask::from_raw(self.ptr) }
    }

    fn state(&self) -> &State {
        &self.cell().header.state
    }

    // ANCHOR: harness-poll
    fn poll(self) {
        match self.state().transition_to_running() {
            TransitionToRunning::Success => {
                if self.poll_future().is_ready() {
                    return self.complete();
                }
                match self.state().transition_to_idle() {
                    TransitionToIdle::Ok => {}
                    TransitionToIdle::OkNotified => {
                        // Woken during the poll: our reference becomes the
                        // `Notified` and the task goes to the back of the queue.
                        let task = Notified(Task::from_raw(self.raw()));
                        self.cell().scheduler.yield_now(task);
                    }
                    TransitionToIdle::OkDealloc => self.dealloc(),
                    TransitionToIdle::Cancelled => {
                        self.cancel_future();
                        self.complete();
                    }
                }
            }
            TransitionToRunning::Cancelled => {
                self.cancel_future();
                self.complete();
            }
            TransitionToRunning::Failed => {}
            TransitionToRunning::Dealloc => self.dealloc(),
        }
    }
    // ANCHOR_END: harness-poll

    // ANCHOR: harness-poll-future
    /// Polls once. On `Ready`, or on a panic, the future is dropped and the
    /// output written; the caller then completes the task.
    fn poll_future(&self) -> Poll<()> {
        let stage = &self.cell().stage;
        let waker = waker_ref(self.ptr);
        let mut cx = Context::from_waker(&waker);
        let _id = CurrentGuard::enter_poll(self.cell().header.id, cx.waker().data());
        let polled = catch_unwind(AssertUnwindSafe(|| {
            let drop_on_unwind = DropOnUnwind(stage);
            // SAFETY: we hold `RUNNING` and the task is not complete, so the
            // future is live and ours alone.
            let poll = unsafe { Stage::poll(stage, &mut cx) };
            std::mem::forget(drop_on_unwind);
            poll
        }));
        let output = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(value)) => match self.drop_future() {
                None => Ok(value),
                Some(payload) => {
                    catch_quietly(move || drop(value));
                    Err(Failure::panic(payload))
                }
            },
            // The future was dropped while unwinding, by `DropOnUnwind`.
            Err(payload) => Err(Failure::panic(payload)),
        };
        self.store_output(output);
        Poll::Ready(())
    }
    // ANCHOR_END: harness-poll-future

    /// Drops the future; returns the payload if its destructor panicked.
    fn drop_future(&self) -> Option<Box<dyn Any + Send>> {
        let stage = &self.cell().stage;
        let _id = CurrentGuard::enter(self.cell().header.id);
        // SAFETY: we hold `RUNNING`; the future is live and is not used again
        // (a destructor that unwinds has still ended the value's life).
        catch_unwind(AssertUnwindSafe(|| unsafe { Stage::drop_future(stage) })).err()
    }

    fn store_output(&self, output: Output<F::Output>) {
        // SAFETY: we hold `RUNNING` and the future has just been dropped.
        unsafe { Stage::store_output(&self.cell().stage, output) }
    }

    /// Drops the future of an aborted or shut-down task and records why.
    fn cancel_future(&self) {
        let err = match self.drop_future() {
            None => Failure::cancelled(),
            Some(payload) => Failure::panic(payload),
        };
        self.store_output(Err(err));
    }

    /// Publishes the output, notifies the joiner, leaves the registry and
    /// releases the references the completing side holds.
    fn complete(self) {
        let snapshot = self.state().transition_to_complete();
        catch_quietly(|| {
            if !snapshot.is_join_interested() {
                // Nobody will read the output: it is ours to drop.
                // SAFETY: complete, live, and no `JoinHandle` to own it.
                drop(unsafe { Stage::take_output(&self.cell().stage) });
            } else {
                self.wake_joiner(snapshot);
            }
        });
        let released = {
            let this = ManuallyDrop::new(Task::<S>::from_raw(self.raw()));
            self.cell().scheduler.release(&this)
        };
        let count = match released {
            Some(task) => {
                // Its reference is released together with ours below.
                std::mem::forget(task);
                2
            }
            None => 1,
        };
        if self.state().transition_to_terminal(count) == Released::Dealloc {
            self.dealloc();
        }
    }

    /// After completion (`snapshot`), wakes the `JoinHandle` if it left a
    /// waker, then gives the slot back — or clears it, if the handle has
    /// gone meanwhile and the slot is ours.
    fn wake_joiner(&self, snapshot: Snapshot) {
        if !snapshot.is_join_interested() || !snapshot.is_join_waker_set() {
            return;
        }
        self.cell().header.join_waker.with(|waker| {
            // SAFETY: `JOIN_WAKER` is set and the task is complete, so the
            // handle does not write the slot; shared reads are allowed.
            if let Some(waker) = unsafe { &*waker } {
                waker.wake_by_ref();
            }
        });
        if !self
            .state()
            .unset_join_waker_after_complete()
            .is_join_interested()
        {
            self.take_join_waker();
        }
    }

    /// Clears the join-waker slot, dropping the waker quietly.
    fn take_join_waker(&self) {
        let waker = self.cell().header.join_waker.with_mut(|slot| {
            // SAFETY: callers own the slot by the state protocol
            // (`JOIN_WAKER` unset and the handle gone, or nobody else left).
            unsafe { (*slot).take() }
        });
        if let Some(waker) = waker {
            catch_quietly(move || drop(waker));
        }
    }

    fn drop_reference(self) {
        if self.state().ref_dec() == Released::Dealloc {
            self.dealloc();
        }
    }

    fn dealloc(self) {
        debug_assert!(
            !self.state().load().is_future_leaked(),
            "a task whose future was leaked is never freed"
        );
        if !self.state().load().is_complete() {
            // Only reachable when every reference went away without the task
            // ever completing, e.g. a scheduler dropped it unrun; the future
            // must still be dropped.
            if let Some(payload) = self.drop_future() {
                drop_payload(payload);
            }
        }
        self.take_join_waker();
        // SAFETY: the last reference is gone; the stage holds nothing (the
        // future was dropped, and the output consumed by whoever owned it).
        catch_quietly(|| unsafe { Cell::<F, S>::free(self.ptr) });
    }

    /// The `JoinHandle` asks for the output; if it is not ready, the handle's
    /// waker is stored so completion wakes it.
    fn try_read_output(&self, waker: &Waker) -> Option<Output<F::Output>> {
        if !self.can_read_output(waker) {
            return None;
        }
        if self.state().load().is_future_leaked() {
            // The stage still holds the (leaked) future: there is no output.
            return Some(Err(Failure::cancelled()));
        }
        // SAFETY: complete, and the `JoinHandle` (our caller) owns the output.
        Some(unsafe { Stage::take_output(&self.cell().stage) })
    }

    fn can_read_output(&self, waker: &Waker) -> bool {
        let snapshot = self.state().load();
        if snapshot.is_complete() {
            return true;
        }
        let stored = if !snapshot.is_join_waker_set() {
            self.set_join_waker(waker.clone())
        } else {
            let same = self.cell().header.join_waker.with(|slot| {
                // SAFETY: `JOIN_WAKER` is set, so the task side only reads the
                // slot, and the handle (us) is the only writer.
                unsafe { &*slot }.as_ref().is_some_and(|w| w.will_wake(waker))
            });
            if same {
                return false;
            }
            match self.state().unset_join_waker() {
                Ok(_) => self.set_join_waker(waker.clone()),
                Err(_) => Err(()),
            }
        };
        match stored {
            Ok(()) => false,
            Err(()) => true,
        }
    }

    /// Writes `waker` into the slot and publishes it; fails if the task
    /// completed first.
    fn set_join_waker(&self, waker: Waker) -> Result<(), ()> {
        self.cell().header.join_waker.with_mut(|slot| {
            // SAFETY: `JOIN_WAKER` is unset, so the slot belongs to the handle.
            unsafe { *slot = Some(waker) }
        });
        match self.state().set_join_waker() {
            Ok(_) => Ok(()),
            Err(_) => {
                // Completed meanwhile: the slot is still ours; empty it.
                self.take_join_waker();
                Err(())
            }
        }
    }

    /// Drops a `JoinHandle` that did not read the output.
    fn drop_join_handle_slow(self) {
        let dropped = self.state().transition_to_join_handle_dropped();
        if dropped.drop_output && !self.state().load().is_future_leaked() {
            // SAFETY: complete, and the handle owned the output.
            let output = unsafe { Stage::take_output(&self.cell().stage) };
            catch_quietly(move || drop(output));
        }
        if dropped.drop_waker {
            self.take_join_waker();
        }
        self.drop_reference();
    }

    /// Completes the task as cancelled *without* dropping its future, which
    /// must not be dropped on this thread (a `spawn_local` future whose
    /// runtime is dropped elsewhere). The future stays where it is, pinned,
    /// forever: the caller's reference is kept, so the task is never freed.
    /// Its `JoinHandle` still resolves, to a cancelled error.
    fn leak_future(self) {
        if self.state().transition_to_shutdown() == TransitionToShutdown::DoNothing {
            if self.state().load().is_complete() {
                // Already done: the future is gone, nothing to leak.
                self.drop_reference();
            }
            // Else it runs on its own thread, which cancels it after the
            // poll; keeping our reference is harmless.
            return;
        }
        let snapshot = self.state().transition_to_complete_leaked();
        catch_quietly(|| self.wake_joiner(snapshot));
    }

    fn shutdown(self) {
        if self.state().transition_to_shutdown() == TransitionToShutdown::Cancel {
            self.cancel_future();
            self.complete();
        } else {
            // Running elsewhere: the poller sees `CANCELLED` when the poll ends.
            self.drop_reference();
        }
    }
}

/// Drops the future if the poll it guards unwinds: armed before the poll,
/// forgotten after it returns.
struct DropOnUnwind<'a, F: Future>(&'a crate::loom::UnsafeCell<Stage<F>>);

impl<F: Future> Drop for DropOnUnwind<'_, F> {
    fn drop(&mut self) {
        // Only reached while the poll unwinds; `poll_future` then stores
        // the panic as the output without touching the future.
        // SAFETY: the poller holds `RUNNING`, the future is live (it was
        // being polled) and, the poll having panicked, never used again.
        unsafe { Stage::drop_future(self.0) }
    }
}

// The vtable entries. Each is `unsafe` for the same reason: `ptr` must be the
// header of a live `Cell<F, S>` and the caller must own the reference the
// entry consumes, as `RawTask`'s methods document.

pub(super) unsafe fn poll<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: forwarded from the vtable's caller.
    unsafe { Harness::<F, S>::new(ptr) }.poll();
}

pub(super) unsafe fn schedule<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: forwarded from the vtable's caller.
    let harness = unsafe { Harness::<F, S>::new(ptr) };
    let task = Notified(Task::from_raw(harness.raw()));
    harness.cell().scheduler.schedule(task);
}

pub(super) unsafe fn dealloc<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: forwarded from the vtable's caller.
    unsafe { Harness::<F, S>::new(ptr) }.dealloc();
}

pub(super) unsafe fn try_read_output<F: Future + 'static, S: Schedule>(
    ptr: NonNull<Header>,
    dst: NonNull<()>,
    waker: &Waker,
) {
    // SAFETY: forwarded from the vtable's caller.
    let harness = unsafe { Harness::<F, S>::new(ptr) };
    if let Some(output) = harness.try_read_output(waker) {
        // SAFETY: the caller passes a `Poll<Output<F::Output>>` (see
        // `RawTask::try_read_output`); it is `Pending`, so overwriting it
        // drops nothing of value.
        unsafe { *dst.cast::<Poll<Output<F::Output>>>().as_ptr() = Poll::Ready(output) };
    }
}

pub(super) unsafe fn drop_join_handle_slow<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: forwarded from the vtable's caller.
    unsafe { Harness::<F, S>::new(ptr) }.drop_join_handle_slow();
}

pub(super) unsafe fn leak_future<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: forwarded from the vtable's caller.
    unsafe { Harness::<F, S>::new(ptr) }.leak_future();
}

pub(super) unsafe fn shutdown<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: forwarded from the vtable's caller.
    unsafe { Harness::<F, S>::new(ptr) }.shutdown();
}
