//! Wake vs poll vs complete, abort vs poll, `JoinHandle` drop and poll vs
//! completion, shutdown vs wake — each checked in every interleaving loom
//! finds, with counters proving nothing is lost, doubled or leaked.

use crate::loom::atomic::{AtomicBool, AtomicUsize, Ordering};
use crate::loom::{Arc, Mutex, lock, thread};
use crate::task::registry::Registry;
use crate::task::{JoinError, JoinHandle, Notified, Schedule, Task, new_task};
use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// A scheduler that queues tasks for the model's main thread to run.
struct TestSched {
    queue: Mutex<VecDeque<Notified<Arc<TestSched>>>>,
    registry: Registry<Arc<TestSched>>,
}

impl Schedule for Arc<TestSched> {
    fn schedule(&self, task: Notified<Self>) {
        lock(&self.queue).push_back(task);
    }

    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        self.registry.remove(task)
    }
}

impl TestSched {
    fn new() -> Arc<TestSched> {
        Arc::new(TestSched {
            queue: Mutex::new(VecDeque::new()),
            registry: Registry::new(1),
        })
    }

    /// Runs queued tasks until the queue is empty.
    fn run_all(&self) {
        loop {
            let task = lock(&self.queue).pop_front();
            match task {
                Some(task) => task.run(),
                None => return,
            }
        }
    }

    fn run_one(&self) -> bool {
        let task = lock(&self.queue).pop_front();
        match task {
            Some(task) => {
                task.run();
                true
            }
            None => false,
        }
    }
}

fn spawn<F>(sched: &Arc<TestSched>, future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (task, notified, join) = new_task(future, sched.clone());
    if let Some(notified) = sched.registry.bind(task, notified, false) {
        sched.schedule(notified);
    }
    join
}

/// A future that is ready once `flag` is set, registering its waker in
/// `slot` until then; it counts its drops.
struct Gate {
    flag: Arc<AtomicBool>,
    slot: Arc<Mutex<Option<Waker>>>,
    drops: Arc<AtomicUsize>,
}

// ANCHOR: gate-poll
impl Future for Gate {
    type Output = u32;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        if self.flag.load(Ordering::Acquire) {
            return Poll::Ready(42);
        }
        *lock(&self.slot) = Some(cx.waker().clone());
        if self.flag.load(Ordering::Acquire) {
            return Poll::Ready(42);
        }
        Poll::Pending
    }
}
// ANCHOR_END: gate-poll

impl Drop for Gate {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::Relaxed);
    }
}

type WakerSlot = Arc<Mutex<Option<Waker>>>;

fn gate() -> (Gate, Arc<AtomicBool>, WakerSlot, Arc<AtomicUsize>) {
    let flag = Arc::new(AtomicBool::new(false));
    let slot = Arc::new(Mutex::new(None));
    let drops = Arc::new(AtomicUsize::new(0));
    let gate = Gate {
        flag: flag.clone(),
        slot: slot.clone(),
        drops: drops.clone(),
    };
    (gate, flag, slot, drops)
}

fn open(flag: &AtomicBool, slot: &Mutex<Option<Waker>>) {
    flag.store(true, Ordering::Release);
    let waker = lock(slot).take();
    if let Some(waker) = waker {
        waker.wake();
    }
}

fn poll_join<T>(join: &mut JoinHandle<T>) -> Poll<Result<T, JoinError>> {
    Pin::new(join).poll(&mut Context::from_waker(Waker::noop()))
}

// ANCHOR: wake-racing-poll
#[test]
fn a_wake_racing_the_poll_is_never_lost() {
    loom::model(|| {
        let sched = TestSched::new();
        let (gate, flag, slot, drops) = gate();
        let mut join = spawn(&sched, gate);
        let waker = thread::spawn(move || open(&flag, &slot));
        sched.run_all();
        waker.join().unwrap();
        // Whatever the interleaving, the wake left the task queued or done.
        sched.run_all();
        assert!(join.is_finished());
        assert_eq!(poll_join(&mut join).map(Result::unwrap), Poll::Ready(42));
        assert_eq!(drops.load(Ordering::Relaxed), 1);
    });
}
// ANCHOR_END: wake-racing-poll

#[test]
fn a_task_woken_twice_while_running_is_polled_once_more() {
    loom::model(|| {
        let sched = TestSched::new();
        let polls = Arc::new(AtomicUsize::new(0));
        let waker_slot: Arc<Mutex<Option<Waker>>> = Arc::new(Mutex::new(None));
        let (p, s) = (polls.clone(), waker_slot.clone());
        let mut join = spawn(
            &sched,
            poll_fn(move |cx| {
                let n = p.fetch_add(1, Ordering::Relaxed);
                if n == 0 {
                    *lock(&s) = Some(cx.waker().clone());
                    Poll::Pending
                } else {
                    Poll::Ready(n)
                }
            }),
        );
        sched.run_all();
        let w = lock(&waker_slot).take().unwrap();
        let w2 = w.clone();
        let t = thread::spawn(move || w.wake());
        w2.wake_by_ref();
        t.join().unwrap();
        drop(w2);
        sched.run_all();
        // Two wakes, one reschedule: exactly two polls in all.
        assert_eq!(polls.load(Ordering::Relaxed), 2);
        assert_eq!(poll_join(&mut join).map(Result::unwrap), Poll::Ready(1));
    });
}

#[test]
fn abort_racing_the_poll_drops_the_future_once() {
    loom::model(|| {
        let sched = TestSched::new();
        let (gate, flag, slot, drops) = gate();
        let mut join = spawn(&sched, gate);
        let abort = join.abort_handle();
        let t = thread::spawn(move || abort.abort());
        // Another thread may open the gate too, racing abort and completion.
        let opener = thread::spawn(move || open(&flag, &slot));
        sched.run_all();
        t.join().unwrap();
        opener.join().unwrap();
        sched.run_all();
        assert_eq!(drops.load(Ordering::Relaxed), 1);
        match poll_join(&mut join) {
            Poll::Ready(Ok(v)) => assert_eq!(v, 42),
            Poll::Ready(Err(e)) => assert!(e.is_cancelled()),
            Poll::Pending => panic!("an aborted task must finish"),
        }
    });
}

/// An output that counts its drops.
struct Output(Arc<AtomicUsize>);

impl Drop for Output {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn dropping_the_join_handle_while_the_task_completes_drops_the_output_once() {
    loom::model(|| {
        let sched = TestSched::new();
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        let join = spawn(&sched, async move { Output(d) });
        let t = thread::spawn(move || drop(join));
        sched.run_all();
        t.join().unwrap();
        assert_eq!(drops.load(Ordering::Relaxed), 1);
    });
}

#[test]
fn a_join_handle_polled_while_the_task_completes_is_woken_or_sees_the_output() {
    loom::model(|| {
        let sched = TestSched::new();
        let (gate, flag, slot, _drops) = gate();
        let join = spawn(&sched, gate);
        sched.run_all();
        let woken = Arc::new(AtomicBool::new(false));
        let w = woken.clone();
        let joiner = thread::spawn(move || {
            let mut join = join;
            let waker = waker_fn(w);
            let seen = match Pin::new(&mut join).poll(&mut Context::from_waker(&waker)) {
                Poll::Ready(out) => Some(out.unwrap()),
                Poll::Pending => None,
            };
            // Keep the handle: dropping it would rightly cancel the wake.
            (seen, join)
        });
        open(&flag, &slot);
        sched.run_all();
        let (seen, _join) = joiner.join().unwrap();
        // Either it saw the output, or completion woke it: never neither.
        assert!(seen == Some(42) || woken.load(Ordering::Acquire));
    });
}

#[test]
fn shutdown_racing_a_wake_cancels_exactly_once() {
    loom::model(|| {
        let sched = TestSched::new();
        let (gate, flag, slot, drops) = gate();
        let mut join = spawn(&sched, gate);
        sched.run_all();
        let s2 = sched.clone();
        let t = thread::spawn(move || s2.registry.close_and_shutdown_all(0, true));
        open(&flag, &slot);
        while sched.run_one() {}
        t.join().unwrap();
        sched.run_all();
        assert_eq!(drops.load(Ordering::Relaxed), 1);
        assert!(join.is_finished());
        match poll_join(&mut join) {
            Poll::Ready(Ok(v)) => assert_eq!(v, 42),
            Poll::Ready(Err(e)) => assert!(e.is_cancelled()),
            Poll::Pending => panic!("a shut-down task must finish"),
        }
        assert_eq!(sched.registry.len(), 0);
    });
}

/// A waker that sets a flag.
fn waker_fn(flag: Arc<AtomicBool>) -> Waker {
    struct Flag(Arc<AtomicBool>);
    impl std::task::Wake for Flag {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.store(true, Ordering::Release);
        }
    }
    Waker::from(std::sync::Arc::new(Flag(flag)))
}

#[test]
fn a_join_handle_read_and_dropped_while_the_task_wakes_it() {
    // The joiner registers its waker, then reads the output and drops the
    // handle as soon as it can — possibly while the completing side is
    // still waking it and giving back the waker slot.
    loom::model(|| {
        let sched = TestSched::new();
        let (gate, flag, slot, _drops) = gate();
        let join = spawn(&sched, gate);
        sched.run_all();
        let woken = Arc::new(AtomicBool::new(false));
        let joiner = {
            let woken = woken.clone();
            thread::spawn(move || {
                let mut join = join;
                let waker = waker_fn(woken);
                loop {
                    if let Poll::Ready(out) = Pin::new(&mut join).poll(&mut Context::from_waker(&waker)) {
                        return out.unwrap();
                    }
                    thread::yield_now();
                }
            })
        };
        open(&flag, &slot);
        sched.run_all();
        assert_eq!(joiner.join().unwrap(), 42);
    });
}
