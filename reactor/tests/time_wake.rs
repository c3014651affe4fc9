//! A timer registered from one thread while another waits in the driver.
//!
//! The waiting thread chose how long to sleep before the timer existed; the
//! registration must interrupt it, or the timer fires only when something
//! else happens to wake the driver (never, in an idle program).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::task::{Context, Wake, Waker};
use std::time::Duration;
use weft_reactor::Driver;
use weft_reactor::time::{Instant, sleep};

/// Sets a flag and interrupts the driver when woken.
struct Flag {
    set: AtomicBool,
    driver: weft_reactor::Handle,
}

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.set.store(true, Ordering::Release);
        self.driver.unpark();
    }
}

#[test]
fn a_timer_registered_during_a_wait_shortens_it() {
    // Generous: a lost registration waits forever, a working one a few ms.
    const WATCHDOG: Duration = Duration::from_secs(60);
    const ROUNDS: usize = 50;

    let driver = Arc::new(Driver::new().unwrap());
    let (parked_tx, parked_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    let flag = Arc::new(Flag {
        set: AtomicBool::new(false),
        driver: driver.handle(),
    });

    let parker = {
        let driver = Arc::clone(&driver);
        let flag = Arc::clone(&flag);
        std::thread::spawn(move || {
            for _ in 0..ROUNDS {
                // No timer exists yet: this wait has no deadline of its own.
                parked_tx.send(()).unwrap();
                while !flag.set.swap(false, Ordering::AcqRel) {
                    driver.park(None);
                }
                done_tx.send(()).unwrap();
            }
        })
    };

    let _enter = driver.handle().enter();
    let waker = Waker::from(Arc::clone(&flag));
    let mut cx = Context::from_waker(&waker);
    for round in 0..ROUNDS {
        parked_rx.recv().unwrap();
        // Give the parker time to reach epoll_wait most rounds; the test
        // holds either way, this only makes the interesting order likely.
        std::thread::yield_now();
        let start = Instant::now();
        let mut nap = sleep(Duration::from_millis(1));
        assert!(Pin::new(&mut nap).poll(&mut cx).is_pending());
        done_rx
            .recv_timeout(WATCHDOG)
            .unwrap_or_else(|_| panic!("round {round}: the waiting driver never saw the timer"));
        assert!(start.elapsed() >= Duration::from_millis(1));
        assert!(Pin::new(&mut nap).poll(&mut cx).is_ready());
    }
    parker.join().unwrap();
}
