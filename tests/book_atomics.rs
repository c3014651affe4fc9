//! The code of the book's primer on atomics, `unsafe` and memory ordering:
//! a two-flag handshake that hands data across threads with
//! `Release`/`Acquire`, the `unsafe` block that reads the shared cell, and a
//! compare-and-swap on a state word.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;

// ANCHOR: handshake
/// A letter passed from one thread to another and answered, with two flags
/// and no lock. Thread A writes `question`, then raises `asked`; thread B
/// waits for `asked`, reads the question, writes `answer`, then raises
/// `answered`; A waits for `answered` and reads the answer.
struct Handshake {
    question: UnsafeCell<u64>,
    answer: UnsafeCell<u64>,
    asked: AtomicBool,
    answered: AtomicBool,
}

// `question` is written only before `asked` is raised and read only after it
// is seen raised, and `answer` likewise with `answered`.
// SAFETY: so the flags order every access to the cells, and the two threads
// never touch a cell at the same time.
unsafe impl Sync for Handshake {}

impl Handshake {
    fn new() -> Handshake {
        Handshake {
            question: UnsafeCell::new(0),
            answer: UnsafeCell::new(0),
            asked: AtomicBool::new(false),
            answered: AtomicBool::new(false),
        }
    }

    /// Thread A: ask, then wait for the answer.
    fn ask(&self, question: u64) -> u64 {
        // SAFETY: `asked` is not raised yet, so B does not read `question`.
        unsafe { *self.question.get() = question };
        // Release: everything written above is visible to whoever sees
        // `asked == true` with an Acquire load.
        self.asked.store(true, Ordering::Release);
        while !self.answered.load(Ordering::Acquire) {
            thread::yield_now();
        }
        // SAFETY: B raised `answered` after its last write to `answer`, and
        // our Acquire load above saw it, so that write happened before this
        // read and B touches `answer` no more.
        unsafe { *self.answer.get() }
    }

    /// Thread B: wait for the question, answer it.
    fn reply(&self, compute: impl FnOnce(u64) -> u64) {
        while !self.asked.load(Ordering::Acquire) {
            thread::yield_now();
        }
        // SAFETY: A wrote `question` before raising `asked` (Release), and
        // our Acquire load saw `asked`, so the write is visible and A writes
        // it no more.
        let question = unsafe { *self.question.get() };
        // SAFETY: A reads `answer` only after `answered` is raised, below.
        unsafe { *self.answer.get() = compute(question) };
        self.answered.store(true, Ordering::Release);
    }
}

#[test]
fn the_answer_crosses_threads_through_two_flags() {
    for question in 0..100 {
        let handshake = Handshake::new();
        let answer = thread::scope(|s| {
            s.spawn(|| handshake.reply(|q| q * 2));
            handshake.ask(question)
        });
        assert_eq!(answer, question * 2);
    }
}
// ANCHOR_END: handshake

// ANCHOR: state-word
const IDLE: usize = 0;
const RUNNING: usize = 1;
const DONE: usize = 2;

/// What [`try_run`] found.
#[derive(Debug, PartialEq, Eq)]
enum TryRun {
    /// We moved the word from IDLE to RUNNING: we may run.
    Claimed,
    /// Someone else holds it, or it is finished: hands off.
    Busy(usize),
}

/// Moves `state` from IDLE to RUNNING if, and only if, it is IDLE now. Of
/// any number of threads calling this at once, exactly one wins.
fn try_run(state: &AtomicUsize) -> TryRun {
    match state.compare_exchange(IDLE, RUNNING, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => TryRun::Claimed,
        Err(actual) => TryRun::Busy(actual),
    }
}

#[test]
fn exactly_one_thread_claims_an_idle_word() {
    let state = AtomicUsize::new(IDLE);
    let winners = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                if try_run(&state) == TryRun::Claimed {
                    winners.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    assert_eq!(winners.load(Ordering::Relaxed), 1);
    state.store(DONE, Ordering::Release);
    assert_eq!(try_run(&state), TryRun::Busy(DONE));
}
// ANCHOR_END: state-word
