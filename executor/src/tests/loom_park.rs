//! Parking: an unpark racing a park is never lost, whether the worker sleeps
//! on its condvar or in the driver; and every worker that returns from
//! `park` is counted busy exactly once, whoever woke it.

use crate::loom::atomic::{AtomicBool, Ordering};
use crate::loom::{Arc, thread};
use crate::park::{CondvarPark, DriverSlot, Park, Parker};

// ANCHOR: park-until-flag
fn park_until_flag(parker: &Parker, driver: &DriverSlot, flag: &AtomicBool) {
    while !flag.load(Ordering::Acquire) {
        parker.park(driver, None);
    }
}
// ANCHOR_END: park-until-flag

#[test]
fn unpark_racing_a_condvar_park_is_not_lost() {
    loom::model(|| {
        let parker = Arc::new(Parker::new());
        let driver = Arc::new(DriverSlot::new(None, 1));
        let flag = Arc::new(AtomicBool::new(false));
        let waker = {
            let (parker, driver, flag) = (parker.clone(), driver.clone(), flag.clone());
            thread::spawn(move || {
                flag.store(true, Ordering::Release);
                parker.unpark(&driver);
            })
        };
        // loom reports a deadlock if this never returns.
        park_until_flag(&parker, &driver, &flag);
        waker.join().unwrap();
        // Asleep or awake, the worker is counted busy once it runs again.
        assert_eq!(driver.active(), 1);
    });
}

#[test]
fn unpark_racing_a_driver_park_is_not_lost() {
    loom::model(|| {
        let parker = Arc::new(Parker::new());
        let park: std::sync::Arc<dyn Park> = std::sync::Arc::new(CondvarPark::new());
        let driver = Arc::new(DriverSlot::new(Some(park), 1));
        let flag = Arc::new(AtomicBool::new(false));
        let waker = {
            let (parker, driver, flag) = (parker.clone(), driver.clone(), flag.clone());
            thread::spawn(move || {
                flag.store(true, Ordering::Release);
                parker.unpark(&driver);
            })
        };
        park_until_flag(&parker, &driver, &flag);
        waker.join().unwrap();
        // Asleep or awake, the worker is counted busy once it runs again.
        assert_eq!(driver.active(), 1);
    });
}

#[test]
fn two_workers_share_one_driver() {
    // One parks in the driver, the other on its condvar; a third thread
    // unparks both. Both return.
    loom::model(|| {
        let park: std::sync::Arc<dyn Park> = std::sync::Arc::new(CondvarPark::new());
        let driver = Arc::new(DriverSlot::new(Some(park), 2));
        let parkers = Arc::new([Parker::new(), Parker::new()]);
        let flag = Arc::new(AtomicBool::new(false));
        let other = {
            let (parkers, driver, flag) = (parkers.clone(), driver.clone(), flag.clone());
            thread::spawn(move || park_until_flag(&parkers[1], &driver, &flag))
        };
        let waker = {
            let (parkers, driver, flag) = (parkers.clone(), driver.clone(), flag.clone());
            thread::spawn(move || {
                flag.store(true, Ordering::Release);
                parkers[0].unpark(&driver);
                parkers[1].unpark(&driver);
            })
        };
        park_until_flag(&parkers[0], &driver, &flag);
        other.join().unwrap();
        waker.join().unwrap();
        assert_eq!(driver.active(), 2);
    });
}

// ANCHOR: notified-on-its-way
#[test]
fn a_worker_notified_on_its_way_to_sleep_counts_as_busy_at_once() {
    // Once `unpark` returns, the woken worker is counted busy — even if it
    // had stopped counting itself and had not yet fallen asleep. Otherwise
    // the runtime would look idle while the worker is about to run a task,
    // and a paused clock would jump ahead of it.
    loom::model(|| {
        let parker = Arc::new(Parker::new());
        let driver = Arc::new(DriverSlot::new(None, 1));
        let flag = Arc::new(AtomicBool::new(false));
        let waker = {
            let (parker, driver, flag) = (parker.clone(), driver.clone(), flag.clone());
            thread::spawn(move || {
                flag.store(true, Ordering::Release);
                parker.unpark(&driver);
                // The worker has either not parked yet (still busy), or was
                // counted busy by this unpark.
                assert!(driver.active() >= 1, "the notified worker looks idle");
            })
        };
        park_until_flag(&parker, &driver, &flag);
        waker.join().unwrap();
        assert_eq!(driver.active(), 1);
    });
}
// ANCHOR_END: notified-on-its-way

/// What [`DispatchOnOwnThread`] wakes: the parker, its driver slot and the
/// flag the parker waits for.
type Target = (Arc<Parker>, Arc<DriverSlot>, Arc<AtomicBool>);

/// A driver whose `park` dispatches one wake on the parking thread, as the
/// reactor does when a ready socket's task belongs to the thread waiting in
/// it: it sets the flag and notifies the parker from its own thread.
struct DispatchOnOwnThread {
    // Plain std: only the parking thread takes it, and taking it breaks the
    // parker -> driver -> this -> parker cycle.
    target: std::sync::Mutex<Option<Target>>,
    inner: CondvarPark,
}

impl Park for DispatchOnOwnThread {
    fn park(&self, timeout: Option<std::time::Duration>) {
        let target = self.target.lock().unwrap().take();
        match target {
            Some((parker, driver, flag)) => {
                flag.store(true, Ordering::Release);
                parker.unpark_from_own_thread(&driver);
            }
            None => self.inner.park(timeout),
        }
    }

    fn unpark(&self) {
        self.inner.unpark();
    }
}

#[test]
fn a_wake_from_the_parkers_own_thread_is_kept_and_counted_once() {
    // The own-thread wake does not interrupt the driver (the thread is
    // not blocked); an unpark from another thread races it. The worker
    // returns, and is counted busy exactly once.
    loom::model(|| {
        let parker = Arc::new(Parker::new());
        let dispatch = std::sync::Arc::new(DispatchOnOwnThread {
            target: std::sync::Mutex::new(None),
            inner: CondvarPark::new(),
        });
        let park: std::sync::Arc<dyn Park> = dispatch.clone();
        let driver = Arc::new(DriverSlot::new(Some(park), 1));
        let flag = Arc::new(AtomicBool::new(false));
        *dispatch.target.lock().unwrap() = Some((parker.clone(), driver.clone(), flag.clone()));
        let other = {
            let (parker, driver) = (parker.clone(), driver.clone());
            thread::spawn(move || parker.unpark(&driver))
        };
        park_until_flag(&parker, &driver, &flag);
        other.join().unwrap();
        assert_eq!(driver.active(), 1);
    });
}
