//! The task's `Waker`: its data pointer is the task header itself.
//!
//! Cloning takes a reference, dropping releases one, waking moves the task
//! to its scheduler. None of it allocates.

use super::raw::{Header, RawTask};
use super::state::{TransitionToNotifiedByRef, TransitionToNotifiedByVal};
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

// ANCHOR: waker-vtable
static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);
// ANCHOR_END: waker-vtable

/// A waker borrowed for one poll: it owns no reference (the poller holds one),
/// so it is never dropped.
pub(super) struct WakerRef {
    waker: ManuallyDrop<Waker>,
}

impl Deref for WakerRef {
    type Target = Waker;

    fn deref(&self) -> &Waker {
        &self.waker
    }
}

// ANCHOR: waker-ref
pub(super) fn waker_ref(header: NonNull<Header>) -> WakerRef {
    let raw = RawWaker::new(header.as_ptr().cast_const().cast(), &VTABLE);
    // SAFETY: the vtable's contract holds: the data pointer is a live task
    // header for as long as the poller's reference lives, which outlasts the
    // `WakerRef`; `ManuallyDrop` keeps it from releasing a reference it
    // never took.
    let waker = unsafe { Waker::from_raw(raw) };
    WakerRef {
        waker: ManuallyDrop::new(waker),
    }
}
// ANCHOR_END: waker-ref

/// # Safety
///
/// `ptr` is the data pointer of one of our wakers: a live task header.
unsafe fn task(ptr: *const ()) -> RawTask {
    // SAFETY: from the caller: non-null and the header of a live task.
    unsafe { RawTask::from_raw(NonNull::new_unchecked(ptr.cast_mut().cast::<Header>())) }
}

// ANCHOR: waker-fns
unsafe fn clone(ptr: *const ()) -> RawWaker {
    // SAFETY: the waker being cloned is live, so its pointer is a task.
    let task = unsafe { task(ptr) };
    task.header().state.ref_inc();
    RawWaker::new(ptr, &VTABLE)
}

unsafe fn wake(ptr: *const ()) {
    // SAFETY: the waker being consumed is live, so its pointer is a task.
    let task = unsafe { task(ptr) };
    match task.header().state.transition_to_notified_by_val() {
        TransitionToNotifiedByVal::Submit => task.schedule(),
        TransitionToNotifiedByVal::Dealloc => task.dealloc(),
        TransitionToNotifiedByVal::DoNothing => {}
    }
}
// ANCHOR_END: waker-fns

unsafe fn wake_by_ref(ptr: *const ()) {
    // SAFETY: the waker is live, so its pointer is a task.
    let task = unsafe { task(ptr) };
    match task.header().state.transition_to_notified_by_ref() {
        TransitionToNotifiedByRef::Submit => task.schedule(),
        TransitionToNotifiedByRef::DoNothing => {}
    }
}

unsafe fn drop_waker(ptr: *const ()) {
    // SAFETY: the waker being dropped is live, so its pointer is a task.
    unsafe { task(ptr) }.drop_reference();
}
