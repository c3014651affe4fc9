//! Group commit: appends share a sync, and `poll_sync` waits for it.

use std::sync::{Arc, Barrier, Mutex, mpsc};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;
use weft_disk::fs::SimFs;
use weft_disk::{Log, Options, SyncPolicy};
use weft_test_support::CountingWaker;

/// A waker that sends on a channel, so a test can block until it is woken
/// (the log wakes after releasing its lock, so after the state changed).
struct ChannelWaker(Mutex<mpsc::Sender<()>>);

impl Wake for ChannelWaker {
    fn wake(self: Arc<Self>) {
        let _ = self.0.lock().unwrap().send(());
    }
}

fn channel_waker() -> (Waker, mpsc::Receiver<()>) {
    let (sender, receiver) = mpsc::channel();
    (Waker::from(Arc::new(ChannelWaker(Mutex::new(sender)))), receiver)
}

fn group_log(fs: &SimFs) -> Log {
    Options::new()
        .sync(SyncPolicy::GroupCommit {
            max_delay: Duration::ZERO,
        })
        .open_in(fs.clone(), "/log")
        .unwrap()
        .log
}

#[test]
fn appends_waiting_behind_a_sync_share_the_next_one() {
    let fs = SimFs::new();
    let log = group_log(&fs);
    let base = fs.syncs();
    fs.hold_syncs(true);
    let first = log.append(b"first").unwrap();
    fs.wait_held(1); // the syncer is inside its sync of `first`

    let (wakers, woken): (Vec<_>, Vec<_>) = (0..10).map(|_| channel_waker()).unzip();
    let mut offsets = Vec::new();
    for waker in &wakers {
        let offset = log.append(b"later").unwrap();
        let mut cx = Context::from_waker(waker);
        assert!(log.poll_sync(&mut cx, offset).is_pending());
        offsets.push(offset);
    }
    // A task polling again keeps one registration.
    assert!(
        log.poll_sync(&mut Context::from_waker(&wakers[0]), offsets[0])
            .is_pending()
    );

    fs.hold_syncs(false);
    log.blocking_sync(*offsets.last().unwrap()).unwrap();
    log.blocking_sync(first).unwrap();
    assert_eq!(
        fs.syncs() - base,
        2,
        "one sync for `first`, one for the ten behind it"
    );
    for (woken, (waker, offset)) in woken.iter().zip(wakers.iter().zip(&offsets)) {
        woken.recv().unwrap();
        assert!(woken.try_recv().is_err(), "woken once");
        let mut cx = Context::from_waker(waker);
        assert!(matches!(log.poll_sync(&mut cx, *offset), Poll::Ready(Ok(()))));
    }
}

#[test]
fn concurrent_appenders_need_fewer_syncs_than_records() {
    let fs = SimFs::new();
    let log = Arc::new(group_log(&fs));
    let base = fs.syncs();
    fs.hold_syncs(true);
    log.append(b"opener").unwrap();
    fs.wait_held(1);
    let threads = 8;
    // Every thread appends while the first sync is held, then waits.
    let appended = Arc::new(Barrier::new(threads + 1));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let log = Arc::clone(&log);
            let appended = Arc::clone(&appended);
            std::thread::spawn(move || {
                let offset = log.append(b"job").unwrap();
                appended.wait();
                log.blocking_sync(offset).unwrap();
                offset
            })
        })
        .collect();
    appended.wait();
    fs.hold_syncs(false);
    let mut offsets: Vec<u64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    offsets.sort_unstable();
    assert_eq!(offsets, (1..=threads as u64).collect::<Vec<_>>());
    assert_eq!(fs.syncs() - base, 2, "{threads} appends, one shared sync");
}

#[test]
fn always_syncs_before_append_returns() {
    let fs = SimFs::new();
    let log = Options::new()
        .sync(SyncPolicy::Always)
        .open_in(fs.clone(), "/log")
        .unwrap()
        .log;
    let base = fs.syncs();
    for n in 0..5 {
        let offset = log.append(b"x").unwrap();
        assert_eq!(log.synced(), offset + 1);
        assert_eq!(fs.syncs() - base, n + 1);
    }
}

#[test]
fn never_syncs_nothing_and_confirms_at_once() {
    let fs = SimFs::new();
    let log = Options::new()
        .sync(SyncPolicy::Never)
        .open_in(fs.clone(), "/log")
        .unwrap()
        .log;
    let (before, dir_before) = (fs.syncs(), fs.dir_syncs());
    let offset = log.append(b"x").unwrap();
    let (counter, waker) = CountingWaker::new();
    assert!(matches!(
        log.poll_sync(&mut Context::from_waker(&waker), offset),
        Poll::Ready(Ok(()))
    ));
    assert_eq!(counter.wakes(), 0);
    assert_eq!((fs.syncs(), fs.dir_syncs()), (before, dir_before));
}

#[test]
fn a_bounded_delay_gathers_appends_into_one_sync() {
    let fs = SimFs::new();
    // An hour: the syncer waits for the drop, which syncs what is pending.
    let log = Options::new()
        .sync(SyncPolicy::GroupCommit {
            max_delay: Duration::from_secs(3600),
        })
        .open_in(fs.clone(), "/log")
        .unwrap()
        .log;
    let base = fs.syncs();
    let (counter, waker) = CountingWaker::new();
    for _ in 0..5 {
        let offset = log.append(b"x").unwrap();
        assert!(
            log.poll_sync(&mut Context::from_waker(&waker), offset)
                .is_pending()
        );
    }
    assert_eq!(fs.syncs(), base, "nothing synced before the delay");
    assert_eq!(counter.wakes(), 0);
    drop(log);
    assert_eq!(fs.syncs() - base, 1, "the drop syncs the five at once");
    assert_eq!(counter.wakes(), 1);
    let after = fs.power_cut(1);
    let log = Options::new().open_in(after, "/log").unwrap().log;
    assert_eq!(log.end(), 5);
    // A delay past the end of time saturates rather than panicking.
    drop(log);
    let log = Options::new()
        .sync(SyncPolicy::GroupCommit {
            max_delay: Duration::MAX,
        })
        .open_in(fs.clone(), "/other")
        .unwrap()
        .log;
    log.append(b"y").unwrap();
    drop(log);
}
