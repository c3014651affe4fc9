//! Wakes across tasks, workers and foreign threads, and fairness: a task that
//! keeps itself busy never starves the others. Progress is counted, never
//! timed.

mod support;

use std::future::poll_fn;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::Poll;
use weft_executor::{Runtime, task};

/// Plays `rounds` of ping-pong: `ping` sends n, `pong` answers n + 1.
async fn ping_pong(rounds: u64) -> (u64, u64) {
    let (to_pong, mut pong_rx) = support::channel::<u64>();
    let (to_ping, mut ping_rx) = support::channel::<u64>();
    let pong = weft_executor::spawn(async move {
        let mut answered = 0;
        while let Some(n) = pong_rx.recv().await {
            to_ping.send(n + 1);
            answered += 1;
        }
        answered
    });
    let mut last = 0;
    for n in 0..rounds {
        to_pong.send(n * 2);
        last = ping_rx.recv().await.unwrap();
        assert_eq!(last, n * 2 + 1);
    }
    drop(to_pong);
    (pong.await.unwrap(), last)
}

#[test]
fn ping_pong_between_tasks() {
    for (name, rt) in support::setups() {
        eprintln!("setup: {name}");
        let (answered, last) = rt.block_on(async {
            // Both sides are spawned tasks, not the `block_on` future.
            weft_executor::spawn(ping_pong(10_000)).await.unwrap()
        });
        assert_eq!((answered, last), (10_000, 19_999));
    }
}

#[test]
fn ping_pong_between_tasks_started_on_different_workers() {
    // Each side first holds a worker (a std barrier, on purpose), so the two
    // start on different workers; then every wake crosses between them.
    let rt = Runtime::builder().worker_threads(2).build().unwrap();
    let barrier = Arc::new(std::sync::Barrier::new(2));
    let threads = Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
    let (to_b, mut b_rx) = support::channel::<u64>();
    let (to_a, mut a_rx) = support::channel::<u64>();
    let start = |barrier: Arc<std::sync::Barrier>| {
        let threads = threads.clone();
        move || {
            barrier.wait();
            threads.lock().unwrap().insert(std::thread::current().id());
        }
    };
    let (start_a, start_b) = (start(barrier.clone()), start(barrier));
    let a = rt.spawn(async move {
        start_a();
        for n in 0..5_000u64 {
            to_b.send(n);
            assert_eq!(a_rx.recv().await, Some(n + 1));
        }
    });
    let b = rt.spawn(async move {
        start_b();
        let mut answered = 0u64;
        while let Some(n) = b_rx.recv().await {
            to_a.send(n + 1);
            answered += 1;
        }
        answered
    });
    let answered = rt.block_on(async {
        a.await.unwrap();
        b.await.unwrap()
    });
    assert_eq!(answered, 5_000);
    assert_eq!(
        threads.lock().unwrap().len(),
        2,
        "the sides started on different workers"
    );
}

#[test]
fn tasks_woken_from_plain_std_threads_run() {
    for (name, rt) in support::setups() {
        eprintln!("setup: {name}");
        let sum = rt.block_on(async {
            let mut tasks = Vec::new();
            for i in 0..200u64 {
                let (tx, rx) = support::oneshot();
                tasks.push(weft_executor::spawn(async move { rx.await.unwrap() * 2 }));
                std::thread::spawn(move || tx.send(i));
            }
            let mut sum = 0;
            for t in tasks {
                sum += t.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, (0..200u64).map(|i| i * 2).sum::<u64>());
    }
}

// ANCHOR: self-waking-task
/// Yields forever until `stop`, counting its polls. It counts its first poll
/// and says so on `started` before it ever looks at `stop`, so a test that
/// waits for `started` knows the spinner is running, and stays runnable
/// until the test stops it.
async fn spinner(started: support::Sender<()>, stop: Arc<AtomicBool>, polls: Arc<AtomicU64>) {
    polls.fetch_add(1, Ordering::SeqCst);
    started.send(());
    while !stop.load(Ordering::SeqCst) {
        task::yield_now().await;
        polls.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_self_waking_task_cannot_starve_a_task_that_must_complete() {
    for (name, rt) in support::setups() {
        eprintln!("setup: {name}");
        let stop = Arc::new(AtomicBool::new(false));
        let polls = Arc::new(AtomicU64::new(0));
        let (started, spinning) = support::oneshot();
        let spin = rt.spawn(spinner(started, stop.clone(), polls.clone()));
        let spins = polls.clone();
        let work = rt.spawn(async move {
            // From here until `stop`, the spinner is always runnable.
            spinning.await.unwrap();
            let before = spins.load(Ordering::SeqCst);
            let mut acc = 0u64;
            for i in 0..1_000 {
                acc += i;
                task::yield_now().await;
            }
            (acc, spins.load(Ordering::SeqCst) - before)
        });
        let (sum, spins_meanwhile) = rt.block_on(work).unwrap();
        assert_eq!(sum, 499_500);
        if name != "four_workers" {
            // One thread runs both: each yield let the spinner take a turn.
            assert!(spins_meanwhile >= 999, "{spins_meanwhile} spins");
        }
        stop.store(true, Ordering::SeqCst);
        rt.block_on(spin).unwrap();
    }
}
// ANCHOR_END: self-waking-task

#[test]
fn two_tasks_waking_each_other_cannot_starve_a_third() {
    // A wakes B, B wakes A: on a worker, each lands in the LIFO slot and runs
    // next, forever. Once they are at it, a third task arrives from outside;
    // the LIFO bound (and the global-queue interval) let it run.
    for (name, rt) in support::setups() {
        eprintln!("setup: {name}");
        let stop = Arc::new(AtomicBool::new(false));
        let exchanges = Arc::new(AtomicU64::new(0));
        let peer: Arc<std::sync::Mutex<[Option<std::task::Waker>; 2]>> = Arc::default();
        let ping_pong = |me: usize| {
            let (stop, exchanges, peer) = (stop.clone(), exchanges.clone(), peer.clone());
            poll_fn(move |cx| {
                exchanges.fetch_add(1, Ordering::SeqCst);
                // `stop` is read under the lock: read outside it, the first
                // to finish could see it set with no waker to take while the
                // other, whose turn came between, still saw it clear and
                // waited to be woken by a task that had ended.
                let (other, stopping) = {
                    let mut slots = peer.lock().unwrap();
                    slots[me] = Some(cx.waker().clone());
                    (slots[1 - me].take(), stop.load(Ordering::SeqCst))
                };
                if stopping {
                    if let Some(w) = other {
                        w.wake();
                    }
                    return Poll::Ready(());
                }
                match other {
                    Some(w) => w.wake(),
                    None => cx.waker().wake_by_ref(),
                }
                Poll::Pending
            })
        };
        let a = rt.spawn(ping_pong(0));
        let b = rt.spawn(ping_pong(1));
        let (tx, rx) = support::oneshot();
        let handle = rt.handle().clone();
        let seen = exchanges.clone();
        let spawner = std::thread::spawn(move || {
            while seen.load(Ordering::SeqCst) < 1_000 {
                std::thread::yield_now();
            }
            tx.send(handle.spawn(async { (0..100u32).sum::<u32>() }));
        });
        let sum = rt.block_on(async { rx.await.unwrap().await.unwrap() });
        assert_eq!(sum, 4950);
        spawner.join().unwrap();
        stop.store(true, Ordering::SeqCst);
        rt.block_on(async {
            a.await.unwrap();
            b.await.unwrap();
        });
    }
}

// ANCHOR: outside-not-starved
#[test]
fn work_from_outside_is_not_starved_by_local_work() {
    // One worker, kept busy by a task that always has more local work; a
    // task spawned from another thread still runs (the global queue is
    // checked every few ticks).
    let rt = Runtime::builder().worker_threads(1).build().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let polls = Arc::new(AtomicU64::new(0));
    let (started, spinning) = support::oneshot();
    let busy = rt.spawn(spinner(started, stop.clone(), polls.clone()));
    rt.block_on(spinning).unwrap();
    let handle = rt.handle().clone();
    let remote = std::thread::spawn(move || handle.spawn(async { "ran" }))
        .join()
        .unwrap();
    assert_eq!(rt.block_on(remote).unwrap(), "ran");
    stop.store(true, Ordering::SeqCst);
    rt.block_on(busy).unwrap();
}
// ANCHOR_END: outside-not-starved

#[test]
fn a_long_run_of_ready_join_handles_yields_on_budget() {
    // 1 000 finished tasks joined in a row: the joiner runs out of budget and
    // yields, letting the spinner's polls advance in between.
    let rt = Runtime::builder().current_thread().build().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let polls = Arc::new(AtomicU64::new(0));
    rt.block_on(async {
        let (started, _) = support::oneshot();
        let spin = weft_executor::spawn(spinner(started, stop.clone(), polls.clone()));
        let joiner = weft_executor::spawn({
            let polls = polls.clone();
            async move {
                let done: Vec<_> = (0..1_000)
                    .map(|i| weft_executor::spawn(async move { i }))
                    .collect();
                // Let all of them finish first.
                task::yield_now().await;
                let before = polls.load(Ordering::SeqCst);
                let mut sum = 0;
                for h in done {
                    sum += h.await.unwrap();
                }
                (sum, polls.load(Ordering::SeqCst) - before)
            }
        });
        let (sum, spinner_polls_meanwhile) = joiner.await.unwrap();
        assert_eq!(sum, 499_500);
        assert!(spinner_polls_meanwhile >= 1, "the joiner never yielded");
        stop.store(true, Ordering::SeqCst);
        spin.await.unwrap();
    });
}

/// A driver whose `park` "dispatches" one stored waker on the parking
/// thread, as the reactor wakes a task whose socket became ready, and
/// counts the `unpark`s it receives.
struct Dispatching {
    inner: weft_executor::park::CondvarPark,
    ready: std::sync::Mutex<Option<std::task::Waker>>,
    unparks: AtomicU64,
}

impl weft_executor::park::Park for Dispatching {
    fn park(&self, timeout: Option<std::time::Duration>) {
        let ready = self.ready.lock().unwrap().take();
        match ready {
            Some(waker) => waker.wake(),
            None => self.inner.park(timeout),
        }
    }

    fn unpark(&self) {
        self.unparks.fetch_add(1, Ordering::SeqCst);
        self.inner.unpark();
    }
}

#[test]
fn a_wake_dispatched_by_the_driver_on_its_own_thread_does_not_interrupt_the_driver() {
    // The `block_on` future waits on "I/O"; the driver, parked on the same
    // thread, wakes it. That thread is not blocked: interrupting the driver
    // (an eventfd write in the reactor, and a spurious return from the next
    // epoll_wait) would be wasted.
    let driver = Arc::new(Dispatching {
        inner: weft_executor::park::CondvarPark::new(),
        ready: std::sync::Mutex::new(None),
        unparks: AtomicU64::new(0),
    });
    let rt = Runtime::builder()
        .current_thread()
        .driver(driver.clone())
        .build()
        .unwrap();
    let waits = rt.block_on({
        let driver = driver.clone();
        let mut waits = 0;
        poll_fn(move |cx| {
            if waits == 3 {
                return Poll::Ready(waits);
            }
            waits += 1;
            *driver.ready.lock().unwrap() = Some(cx.waker().clone());
            Poll::Pending
        })
    });
    assert_eq!(waits, 3);
    assert_eq!(driver.unparks.load(Ordering::SeqCst), 0);

    // A wake from another thread still interrupts it.
    let (tx, rx) = support::oneshot();
    let sender = std::thread::spawn(move || tx.send(5));
    assert_eq!(rt.block_on(rx), Some(5));
    sender.join().unwrap();
}
