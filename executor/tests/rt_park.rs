//! The runtime and its driver: `park_idle` is called only when nothing at
//! all runs, and a driver that asks to hear of idleness does.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use weft_executor::Runtime;
use weft_executor::park::{CondvarPark, Park};

/// A hang guard for the channel waits below: reaching it fails the test.
const GUARD: Duration = Duration::from_secs(20);

/// A driver that records how it is parked.
struct Recorder {
    inner: CondvarPark,
    /// Set while a blocking task runs: an idle park then is a bug.
    in_blocking: AtomicBool,
    violations: AtomicUsize,
    /// How many threads wait in the driver right now, idle or not.
    in_driver: AtomicUsize,
    /// Told each time a worker waits in the driver without the runtime idle.
    parked: Mutex<Sender<()>>,
    /// Told each time the runtime parks idle.
    idle: Mutex<Sender<()>>,
}

impl Park for Recorder {
    fn park(&self, timeout: Option<Duration>) {
        if timeout == Some(Duration::ZERO) {
            return self.inner.park(timeout);
        }
        self.in_driver.fetch_add(1, Ordering::SeqCst);
        let _ = self.parked.lock().unwrap().send(());
        self.inner.park(timeout);
        self.in_driver.fetch_sub(1, Ordering::SeqCst);
    }

    fn unpark(&self) {
        self.inner.unpark();
    }

    fn park_idle(&self, timeout: Option<Duration>, _still_idle: &dyn Fn() -> bool) {
        if self.in_blocking.load(Ordering::SeqCst) {
            self.violations.fetch_add(1, Ordering::SeqCst);
        }
        let _ = self.idle.lock().unwrap().send(());
        // A worker may have parked idle before the blocking task began and
        // still be here: that counts as waiting in the driver too.
        self.in_driver.fetch_add(1, Ordering::SeqCst);
        let _ = self.parked.lock().unwrap().send(());
        self.inner.park(timeout);
        self.in_driver.fetch_sub(1, Ordering::SeqCst);
    }

    fn wants_idle_notice(&self) -> bool {
        true
    }
}

/// Returns once some thread waits in `driver` (now, or after a new park).
fn wait_for_a_driver_park(driver: &Recorder, parked: &Receiver<()>) {
    while driver.in_driver.load(Ordering::SeqCst) == 0 {
        parked.recv_timeout(GUARD).expect("a thread waits in the driver");
    }
}

fn recorder() -> (Arc<Recorder>, Receiver<()>, Receiver<()>) {
    let (parked_tx, parked_rx) = mpsc::channel();
    let (idle_tx, idle_rx) = mpsc::channel();
    let driver = Arc::new(Recorder {
        inner: CondvarPark::new(),
        in_blocking: AtomicBool::new(false),
        violations: AtomicUsize::new(0),
        in_driver: AtomicUsize::new(0),
        parked: Mutex::new(parked_tx),
        idle: Mutex::new(idle_tx),
    });
    (driver, parked_rx, idle_rx)
}

#[test]
fn park_idle_waits_for_blocking_work_multi_thread() {
    let (driver, parked_rx, idle_rx) = recorder();
    let rt = Runtime::builder()
        .worker_threads(2)
        .driver(driver.clone())
        .build()
        .unwrap();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (started_tx, started_rx) = mpsc::channel::<()>();

    // A plain thread releases the blocking task once it has started and a
    // worker has waited in the driver since: the runtime then had every
    // chance to look idle, and must not have.
    let watched = driver.clone();
    let releaser = std::thread::spawn(move || {
        started_rx.recv_timeout(GUARD).expect("the blocking task starts");
        wait_for_a_driver_park(&watched, &parked_rx);
        release_tx.send(()).unwrap();
    });

    let flag = driver.clone();
    let value = rt.block_on(async move {
        let task = weft_executor::task::spawn_blocking(move || {
            flag.in_blocking.store(true, Ordering::SeqCst);
            started_tx.send(()).unwrap();
            release_rx
                .recv_timeout(GUARD)
                .expect("released by the test thread");
            flag.in_blocking.store(false, Ordering::SeqCst);
            42
        });
        task.await.unwrap()
    });
    assert_eq!(value, 42);
    releaser.join().unwrap();
    assert_eq!(driver.violations.load(Ordering::SeqCst), 0);

    // Nothing runs now: the worker in the driver must hear it.
    idle_rx.recv_timeout(GUARD).expect("the idle runtime parks idle");
    drop(rt);
    assert_eq!(driver.violations.load(Ordering::SeqCst), 0);
}

#[test]
fn park_idle_waits_for_blocking_work_current_thread() {
    let (driver, parked_rx, idle_rx) = recorder();
    let rt = Runtime::builder()
        .current_thread()
        .driver(driver.clone())
        .build()
        .unwrap();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let watched = driver.clone();
    let releaser = std::thread::spawn(move || {
        started_rx.recv_timeout(GUARD).expect("the blocking task starts");
        wait_for_a_driver_park(&watched, &parked_rx);
        release_tx.send(()).unwrap();
    });
    let flag = driver.clone();
    let value = rt.block_on(async move {
        let task = weft_executor::task::spawn_blocking(move || {
            flag.in_blocking.store(true, Ordering::SeqCst);
            started_tx.send(()).unwrap();
            release_rx
                .recv_timeout(GUARD)
                .expect("released by the test thread");
            flag.in_blocking.store(false, Ordering::SeqCst);
            7
        });
        task.await.unwrap()
    });
    assert_eq!(value, 7);
    releaser.join().unwrap();
    assert_eq!(driver.violations.load(Ordering::SeqCst), 0);
    // While the blocking task ran the runtime waited in the driver, so it
    // had its chance to park idle; it did not. (The current-thread runtime
    // only parks inside block_on, so there is no later idle park to see.)
    assert!(idle_rx.try_recv().is_err());
}

#[test]
fn an_idle_runtime_parks_idle_however_its_workers_fall_asleep() {
    // Four workers fall asleep in some order after each burst of work; the
    // one in the driver is often not the last, so it must be told.
    let (driver, _parked_rx, idle_rx) = recorder();
    let rt = Runtime::builder()
        .worker_threads(4)
        .driver(driver.clone())
        .build()
        .unwrap();
    for round in 0..20 {
        rt.block_on(async {
            let tasks: Vec<_> = (0..64).map(|i| weft_executor::spawn(async move { i })).collect();
            for task in tasks {
                task.await.unwrap();
            }
        });
        // Each burst ends in an idle park (perhaps one already under way:
        // then `recv` takes a message sent since the drain below).
        idle_rx
            .recv_timeout(GUARD)
            .unwrap_or_else(|_| panic!("round {round}: no idle park"));
        while idle_rx.try_recv().is_ok() {}
    }
}
