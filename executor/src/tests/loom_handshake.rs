//! The book's exercise "write a loom model for a two-flag handshake" (the
//! primer chapter, `book/src/atomics-and-unsafe.md`), solved.
//!
//! Thread A writes a question into a cell and raises `asked`; thread B waits
//! for `asked`, reads the question, writes the answer into a second cell and
//! raises `answered`; A waits for `answered` and reads the answer. The same
//! shape (publish with a `Release` store, read after an `Acquire` load that
//! sees it) carries a task's output to its `JoinHandle` and a parked
//! worker's wake-up.
//!
//! loom's `UnsafeCell` records every access, and loom fails a model whose
//! accesses to a cell are not ordered by a happens-before edge. So the model
//! with `Release` / `Acquire` passes in every interleaving, and the one with
//! `Relaxed` flags (which x86 would usually let pass) fails.
#![allow(unsafe_code)] // the cells' raw accesses are what the model checks

use crate::loom::atomic::{AtomicBool, Ordering};
use crate::loom::{Arc, UnsafeCell, thread};

/// Two cells and the two flags that hand them from one thread to the other.
struct Handshake {
    question: UnsafeCell<u64>,
    answer: UnsafeCell<u64>,
    asked: AtomicBool,
    answered: AtomicBool,
    /// The ordering of the flags' stores; their loads use the matching one.
    publish: Ordering,
}

// `question` is written only before `asked` is raised and read only after it
// is seen raised, and `answer` likewise with `answered`. With `Relaxed` the
// flags order nothing, and loom's cell panics at the first unordered access,
// before the closure that would touch the memory runs.
// SAFETY: with `publish == Release` the flags order every access to the
// cells, so the threads never touch a cell at once.
unsafe impl Sync for Handshake {}

impl Handshake {
    fn new(publish: Ordering) -> Handshake {
        Handshake {
            question: UnsafeCell::new(0),
            answer: UnsafeCell::new(0),
            asked: AtomicBool::new(false),
            answered: AtomicBool::new(false),
            publish,
        }
    }

    /// The load ordering that pairs with `publish`.
    fn observe(&self) -> Ordering {
        match self.publish {
            Ordering::Release => Ordering::Acquire,
            other => other,
        }
    }

    /// Thread A: ask, then wait for the answer.
    fn ask(&self, question: u64) -> u64 {
        // SAFETY: `asked` is not raised yet, so B does not read `question`.
        self.question.with_mut(|cell| unsafe { *cell = question });
        self.asked.store(true, self.publish);
        while !self.answered.load(self.observe()) {
            thread::yield_now();
        }
        // SAFETY: B raised `answered` after its last write to `answer`, and
        // the load above saw it: with Release / Acquire that write happened
        // before this read.
        self.answer.with(|cell| unsafe { *cell })
    }

    /// Thread B: wait for the question, answer it.
    fn reply(&self) {
        while !self.asked.load(self.observe()) {
            thread::yield_now();
        }
        // SAFETY: A wrote `question` before raising `asked`, and the load
        // above saw it raised.
        let question = self.question.with(|cell| unsafe { *cell });
        // SAFETY: A reads `answer` only after `answered` is raised, below.
        self.answer.with_mut(|cell| unsafe { *cell = question * 2 });
        self.answered.store(true, self.publish);
    }
}

/// Runs A and B on two loom threads and checks A's answer.
fn model(publish: Ordering) {
    loom::model(move || {
        let handshake = Arc::new(Handshake::new(publish));
        let b = {
            let handshake = Arc::clone(&handshake);
            thread::spawn(move || handshake.reply())
        };
        assert_eq!(handshake.ask(21), 42);
        b.join().unwrap();
    });
}

#[test]
fn the_two_flag_handshake_holds_in_every_interleaving() {
    model(Ordering::Release);
}

#[test]
#[should_panic = "Causality violation"]
fn the_two_flag_handshake_with_relaxed_flags_races() {
    model(Ordering::Relaxed);
}
