//! Loom models of the promise protocol: a settlement racing handlers and
//! awaiters on other threads loses no reaction and no wakeup, runs each
//! reaction exactly once, and lets exactly one of two racing resolutions
//! win.

use crate::promise::{Promise, PromiseError};
use crate::spawner::{BoxFuture, Spawn, Spawner};
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::{Arc, Mutex};
use loom::thread;
use std::task::{Context, Waker};
use std::time::Instant;

/// A runtime that keeps spawned tasks for the model to run at the end.
struct Collect(Arc<Mutex<Vec<BoxFuture>>>);

impl Spawn for Collect {
    fn spawn(&self, future: BoxFuture) {
        self.0.lock().unwrap().push(future);
    }

    fn sleep_until(&self, _: Instant) -> BoxFuture {
        Box::pin(std::future::pending())
    }
}

fn spawner() -> (Spawner, Arc<Mutex<Vec<BoxFuture>>>) {
    let tasks = Arc::new(Mutex::new(Vec::new()));
    (Spawner::new(Collect(tasks.clone())), tasks)
}

/// Runs every collected task to completion (the event loop yields with a
/// self-wake after a budget of jobs, so polling again makes progress).
fn drain(tasks: &Mutex<Vec<BoxFuture>>) {
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        let next = tasks.lock().unwrap().pop();
        let Some(mut task) = next else { return };
        while task.as_mut().poll(&mut cx).is_pending() {}
    }
}

#[test]
fn a_handler_attached_while_another_thread_settles_runs_once() {
    loom::model(|| {
        let (spawner, tasks) = spawner();
        let (promise, resolver) = Promise::<u32, PromiseError>::with_resolvers_in(&spawner);
        let settler = thread::spawn(move || resolver.resolve(5).unwrap());
        let runs = Arc::new(AtomicUsize::new(0));
        let seen = runs.clone();
        promise.on_settled(move |outcome| {
            assert_eq!(outcome, Ok(5));
            seen.fetch_add(1, Ordering::SeqCst);
        });
        settler.join().unwrap();
        drain(&tasks);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn an_awaiter_is_woken_by_a_settlement_on_another_thread() {
    loom::model(|| {
        let (spawner, _tasks) = spawner();
        let (promise, resolver) = Promise::<u32, PromiseError>::with_resolvers_in(&spawner);
        let settler = thread::spawn(move || resolver.resolve(7).unwrap());
        assert_eq!(loom::future::block_on(promise), Ok(7));
        settler.join().unwrap();
    });
}

#[test]
fn of_two_racing_resolutions_exactly_one_wins() {
    loom::model(|| {
        let (spawner, _tasks) = spawner();
        let (promise, resolver) = Promise::<u32, u32>::with_resolvers_in(&spawner);
        let other = resolver.clone();
        let rejecter = thread::spawn(move || other.reject(2).is_ok());
        let resolved = resolver.resolve(1).is_ok();
        let rejected = rejecter.join().unwrap();
        assert!(resolved ^ rejected, "exactly one resolution wins");
        let expected = if resolved { Ok(1) } else { Err(2) };
        assert_eq!(promise.peek(), Some(expected));
    });
}

impl From<PromiseError> for u32 {
    fn from(_: PromiseError) -> u32 {
        u32::MAX
    }
}

#[test]
fn the_last_resolver_dropped_on_another_thread_rejects_once() {
    loom::model(|| {
        let (spawner, tasks) = spawner();
        let (promise, resolver) = Promise::<u32, PromiseError>::with_resolvers_in(&spawner);
        let clone = resolver.clone();
        let dropper = thread::spawn(move || drop(clone));
        drop(resolver);
        dropper.join().unwrap();
        let runs = Arc::new(AtomicUsize::new(0));
        let seen = runs.clone();
        promise.on_settled(move |outcome| {
            assert_eq!(outcome, Err(PromiseError::Abandoned));
            seen.fetch_add(1, Ordering::SeqCst);
        });
        drain(&tasks);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    });
}
