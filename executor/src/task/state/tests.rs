//! The transitions of the state word, one scenario each: waking, aborting,
//! shutting down, the join waker, dropping the handle, the last reference.

use super::*;

#[test]
fn a_new_task_is_notified_joinable_with_three_references() {
    let s = State::new().load();
    assert!(s.is_notified() && s.is_join_interested());
    assert!(!s.is_running() && !s.is_complete() && !s.is_cancelled());
    assert_eq!(s.ref_count(), 3);
}

#[test]
fn a_wake_while_running_reschedules_once_after_the_poll() {
    let state = State::new();
    assert_eq!(state.transition_to_running(), TransitionToRunning::Success);
    // Two wakes during the poll: the first marks it, the second is absorbed.
    assert_eq!(
        state.transition_to_notified_by_ref(),
        TransitionToNotifiedByRef::DoNothing
    );
    assert_eq!(
        state.transition_to_notified_by_ref(),
        TransitionToNotifiedByRef::DoNothing
    );
    assert_eq!(state.transition_to_idle(), TransitionToIdle::OkNotified);
    // Exactly one `Notified` exists again; a further wake adds nothing.
    assert_eq!(
        state.transition_to_notified_by_ref(),
        TransitionToNotifiedByRef::DoNothing
    );
    assert_eq!(state.load().ref_count(), 3);
}

#[test]
fn a_wake_of_an_idle_task_takes_a_reference_for_the_queue() {
    let state = State::new();
    assert_eq!(state.transition_to_running(), TransitionToRunning::Success);
    assert_eq!(state.transition_to_idle(), TransitionToIdle::Ok);
    assert_eq!(state.load().ref_count(), 2);
    assert_eq!(
        state.transition_to_notified_by_ref(),
        TransitionToNotifiedByRef::Submit
    );
    assert_eq!(state.load().ref_count(), 3);
    assert!(state.load().is_notified());
}

#[test]
fn abort_of_an_idle_task_queues_it_and_of_a_queued_task_only_flags_it() {
    let state = State::new();
    // Queued: flag only.
    assert_eq!(
        state.transition_to_notified_and_cancel(),
        TransitionToNotifiedAndCancel::DoNothing
    );
    assert!(state.load().is_cancelled());
    assert_eq!(state.transition_to_running(), TransitionToRunning::Cancelled);

    let state = State::new();
    assert_eq!(state.transition_to_running(), TransitionToRunning::Success);
    assert_eq!(state.transition_to_idle(), TransitionToIdle::Ok);
    assert_eq!(
        state.transition_to_notified_and_cancel(),
        TransitionToNotifiedAndCancel::Submit
    );
    assert_eq!(state.load().ref_count(), 3);
    // A second abort changes nothing.
    assert_eq!(
        state.transition_to_notified_and_cancel(),
        TransitionToNotifiedAndCancel::DoNothing
    );
}

#[test]
fn abort_during_a_poll_is_seen_when_the_poll_ends() {
    let state = State::new();
    assert_eq!(state.transition_to_running(), TransitionToRunning::Success);
    assert_eq!(
        state.transition_to_notified_and_cancel(),
        TransitionToNotifiedAndCancel::DoNothing
    );
    assert_eq!(state.transition_to_idle(), TransitionToIdle::Cancelled);
    assert!(state.load().is_running());
}

#[test]
fn shutdown_takes_an_idle_task_but_not_a_running_one() {
    let state = State::new();
    assert_eq!(state.transition_to_shutdown(), TransitionToShutdown::Cancel);
    // The queued `Notified` then fails to run it.
    assert_eq!(state.transition_to_running(), TransitionToRunning::Failed);

    let state = State::new();
    assert_eq!(state.transition_to_running(), TransitionToRunning::Success);
    assert_eq!(state.transition_to_shutdown(), TransitionToShutdown::DoNothing);
    assert_eq!(state.transition_to_idle(), TransitionToIdle::Cancelled);
}

#[test]
fn join_waker_slot_changes_hands() {
    let state = State::new();
    assert!(state.set_join_waker().is_ok());
    assert!(state.unset_join_waker().is_ok());
    assert!(state.set_join_waker().is_ok());
    assert_eq!(state.transition_to_running(), TransitionToRunning::Success);
    let s = state.transition_to_complete();
    assert!(s.is_complete() && s.is_join_waker_set());
    // Completed: the handle may no longer take the slot.
    assert!(state.unset_join_waker().is_err());
    let s = state.unset_join_waker_after_complete();
    assert!(!s.is_join_waker_set() && s.is_join_interested());
}

#[test]
fn dropping_the_join_handle_before_completion_is_one_step() {
    let state = State::new();
    assert_eq!(state.drop_join_handle_fast(), DropJoinHandleFast::Done);
    let s = state.load();
    assert!(!s.is_join_interested());
    assert_eq!(s.ref_count(), 2);
}

#[test]
fn dropping_the_join_handle_after_completion_owns_the_output() {
    let state = State::new();
    assert_eq!(state.transition_to_running(), TransitionToRunning::Success);
    let _ = state.transition_to_complete();
    assert_eq!(state.drop_join_handle_fast(), DropJoinHandleFast::TakeSlowPath);
    let dropped = state.transition_to_join_handle_dropped();
    assert!(dropped.drop_output && dropped.drop_waker);
}

#[test]
fn terminal_releases_the_last_references() {
    let state = State::new();
    assert_eq!(state.transition_to_running(), TransitionToRunning::Success);
    let _ = state.transition_to_complete();
    assert_eq!(state.transition_to_terminal(2), Released::Alive);
    assert_eq!(state.transition_to_terminal(1), Released::Dealloc);
}

#[test]
fn the_owner_slot_survives_every_transition_and_reference_change() {
    let state = State::new();
    let last_slot = (1 << OWNER_BITS) - 1;
    state.set_owner(last_slot, true);
    let owner = |state: &State| (state.load().owner_slot(), state.load().is_local());
    assert_eq!(owner(&state), (last_slot, true));
    assert_eq!(state.load().ref_count(), 3);
    // References come and go around the slot bits without touching them.
    for _ in 0..1_000 {
        state.ref_inc();
    }
    for _ in 0..1_000 {
        assert_eq!(state.ref_dec(), Released::Alive);
    }
    assert_eq!(state.transition_to_running(), TransitionToRunning::Success);
    assert_eq!(
        state.transition_to_notified_by_ref(),
        TransitionToNotifiedByRef::DoNothing
    );
    assert_eq!(state.transition_to_idle(), TransitionToIdle::OkNotified);
    assert_eq!(state.transition_to_running(), TransitionToRunning::Success);
    let done = state.transition_to_complete();
    assert!(done.is_complete() && !done.is_running());
    assert_eq!(owner(&state), (last_slot, true));
    assert_eq!(state.load().ref_count(), 3);
    // The registry's, the poller's and the handle's references: the last frees.
    assert_eq!(state.transition_to_terminal(2), Released::Alive);
    assert_eq!(state.drop_join_handle_after_output(), Released::Dealloc);
    assert_eq!(owner(&state), (last_slot, true));
}

#[test]
fn a_task_that_is_not_local_says_so() {
    let state = State::new();
    assert_eq!((state.load().owner_slot(), state.load().is_local()), (0, false));
    state.set_owner(7, false);
    assert_eq!((state.load().owner_slot(), state.load().is_local()), (7, false));
}
