//! Unit tests of the in-memory log: appends and reads across chunks,
//! retention, and a payload whose clone panics.

use super::*;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Panics when cloned if it holds `true`.
#[derive(Debug)]
struct Fragile(bool);

impl Clone for Fragile {
    fn clone(&self) -> Fragile {
        assert!(!self.0, "this payload cannot be cloned");
        Fragile(false)
    }
}

#[test]
fn a_clone_that_panics_mid_batch_leaves_the_reader_untouched() {
    let log = MemoryLog::new(Retention::from(8));
    let mut cx = Context::from_waker(Waker::noop());
    for (seq, fragile) in [false, false, true].into_iter().enumerate() {
        let mut append = Append::new(seq as u64, Fragile(fragile));
        assert!(matches!(
            log.poll_append(&mut cx, &mut append),
            Poll::Ready(Ok(_))
        ));
    }
    let mut out = VecDeque::new();
    let reader = ReaderId::new();
    let read = catch_unwind(AssertUnwindSafe(|| {
        log.poll_read(reader, &mut ReadPlace::new(), Offset(0), 8, &mut out, None)
    }));
    assert!(read.is_err());
    assert!(out.is_empty(), "no half batch: the same offsets are read again");
    // The log is still usable.
    let Poll::Ready(Ok(read)) = log.poll_read(reader, &mut ReadPlace::new(), Offset(0), 2, &mut out, None)
    else {
        panic!("two records are there to read");
    };
    assert_eq!((out.len(), read.next), (2, Offset(2)));
}

fn append<T: Clone + Send + Sync + 'static>(log: &MemoryLog<T>, seq: u64, payload: T) -> Offset {
    let mut cx = Context::from_waker(Waker::noop());
    let mut append = Append::new(seq, payload);
    match log.poll_append(&mut cx, &mut append) {
        Poll::Ready(Ok(offset)) => offset,
        _ => panic!("the memory log appends at once"),
    }
}

fn read_all<T: Clone + Send + Sync + 'static>(log: &MemoryLog<T>, from: u64) -> (Vec<(u64, T)>, Read) {
    let mut out = VecDeque::new();
    let Poll::Ready(Ok(read)) = log.poll_read(
        ReaderId::new(),
        &mut ReadPlace::new(),
        Offset::new(from),
        1000,
        &mut out,
        None,
    ) else {
        panic!("something to report");
    };
    (
        out.into_iter().map(|r| (r.offset.get(), r.payload)).collect(),
        read,
    )
}

#[test]
fn a_read_stops_at_the_end_of_a_chunk_and_the_next_goes_on_from_there() {
    let log = MemoryLog::new(Retention::from(1000));
    for n in 0..(CHUNK as u64 + 10) {
        assert_eq!(append(&log, n, n), Offset::new(n));
    }
    let (first, read) = read_all(&log, 5);
    assert_eq!(first.len(), CHUNK - 5);
    assert_eq!(first[0], (5, 5));
    assert_eq!(read.next, Offset::new(CHUNK as u64));
    let (rest, read) = read_all(&log, read.next.get());
    assert_eq!(
        rest,
        (CHUNK as u64..CHUNK as u64 + 10)
            .map(|n| (n, n))
            .collect::<Vec<_>>()
    );
    assert_eq!(read.next, Offset::new(CHUNK as u64 + 10));
}

#[test]
fn retention_across_chunks_keeps_the_newest_and_reports_the_rest_skipped() {
    // Retention 3 makes chunks of 3: the window crosses their edges.
    let log = MemoryLog::new(Retention::from(3));
    for n in 0..10 {
        append(&log, n, n);
    }
    assert_eq!((log.start(), log.end()), (Offset::new(7), Offset::new(10)));
    let (got, read) = read_all(&log, 0);
    assert_eq!(read.skipped, 7);
    // The chunk holding 7 is 6..9; the next read goes on at 9.
    assert_eq!(got, [(7, 7), (8, 8)]);
    assert_eq!(read_all(&log, 9).0, [(9, 9)]);
    assert_eq!(log.offset_at(SystemTime::UNIX_EPOCH), Offset::new(7));
    log.set_retention(Retention::from(1));
    assert_eq!(read_all(&log, 0).0, [(9, 9)]);
}

/// Counts its drops.
#[derive(Clone)]
struct Counted(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

#[test]
fn a_chunk_past_retention_is_freed_whole() {
    let drops = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let dropped = || drops.load(std::sync::atomic::Ordering::Relaxed);
    let log = MemoryLog::new(Retention::from(CHUNK));
    for n in 0..CHUNK as u64 {
        append(&log, n, Counted(drops.clone()));
    }
    // A reader's copies, taken from the first chunk.
    let (copies, _) = read_all(&log, 0);
    drop(copies);
    let before = dropped();
    // One more event moves the window off the first slot only: the
    // first chunk still holds retained events.
    append(&log, 64, Counted(drops.clone()));
    assert_eq!(dropped(), before);
    for n in 65..2 * CHUNK as u64 {
        append(&log, n, Counted(drops.clone()));
    }
    assert_eq!(dropped(), before + CHUNK, "the whole first chunk went");
    assert_eq!(log.start(), Offset::new(CHUNK as u64));
}

/// The rows' unsafe cells under real threads (and under miri, which
/// checks each read against the fill it follows): a publisher appends
/// while readers copy outside the lock and retention frees rows under
/// them. Every reader sees each offset once, in order, with its own
/// payload, or counts it skipped; every event is dropped exactly once.
#[test]
fn readers_on_other_threads_copy_what_a_publisher_fills_and_retention_frees() {
    const EVENTS: u64 = if cfg!(miri) { 150 } else { 20_000 };
    const READERS: usize = 3;
    let tally = Arc::new(Tally::default());
    // Retention 5 makes rows of 5 that readers still copy from as they go.
    let log: Arc<MemoryLog<(Tallied, u64)>> = Arc::new(MemoryLog::new(Retention::from(5)));
    std::thread::scope(|scope| {
        for _ in 0..READERS {
            let log = log.clone();
            scope.spawn(move || {
                let reader = ReaderId::new();
                let mut place = ReadPlace::new();
                let (mut next, mut seen, mut skipped) = (0, 0, 0);
                let mut out = VecDeque::new();
                while next < EVENTS {
                    match log.poll_read(reader, &mut place, Offset::new(next), 4, &mut out, None) {
                        Poll::Ready(Ok(read)) => {
                            skipped += read.skipped;
                            for (record, offset) in out.drain(..).zip(next + read.skipped..) {
                                assert_eq!((record.offset.get(), record.payload.1), (offset, offset));
                                seen += 1;
                            }
                            next = read.next.get();
                        }
                        Poll::Ready(Err(e)) => panic!("a memory log does not fail: {e}"),
                        Poll::Pending => std::thread::yield_now(),
                    }
                }
                assert_eq!(seen + skipped, EVENTS, "each offset read or skipped once");
            });
        }
        let mut cx = Context::from_waker(Waker::noop());
        for n in 0..EVENTS {
            let mut append = Append::new(n, (Tallied(tally.clone()), n));
            assert!(matches!(
                log.poll_append(&mut cx, &mut append),
                Poll::Ready(Ok(_))
            ));
        }
    });
    // The readers dropped their copies; the log holds the last five.
    assert_eq!(tally.drops() + 5, EVENTS as usize + tally.clones());
    drop(log);
    assert_eq!(tally.drops(), EVENTS as usize + tally.clones());
}

/// Counts the clones and drops of [`Tallied`] payloads.
#[derive(Default)]
struct Tally {
    clones: std::sync::atomic::AtomicUsize,
    drops: std::sync::atomic::AtomicUsize,
}

impl Tally {
    fn clones(&self) -> usize {
        self.clones.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn drops(&self) -> usize {
        self.drops.load(std::sync::atomic::Ordering::Relaxed)
    }
}

struct Tallied(Arc<Tally>);

impl Clone for Tallied {
    fn clone(&self) -> Tallied {
        self.0.clones.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Tallied(self.0.clone())
    }
}

impl Drop for Tallied {
    fn drop(&mut self) {
        self.0.drops.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Counts its wake-ups.
#[derive(Default)]
struct Wakes(std::sync::atomic::AtomicUsize);

impl Wakes {
    fn count(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Reads at `from` for `reader` from `place`, with nothing there: the read
/// is pending and `wakes` counts the wake-up that ends it.
fn wait(log: &MemoryLog<u64>, reader: ReaderId, place: &mut ReadPlace, from: u64, wakes: &Arc<Wakes>) {
    let waker = Waker::from(wakes.clone());
    let mut out = VecDeque::new();
    let read = log.poll_read(reader, place, Offset::new(from), 8, &mut out, Some(&waker));
    assert!(read.is_pending());
}

impl std::task::Wake for Wakes {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Readers past the 64 waker slots wait under the lock: an append wakes
/// all of them, once each, and one that goes gives its slot to the next.
#[test]
fn an_append_wakes_every_waiting_reader_in_a_slot_or_not() {
    const READERS: usize = waiting::SLOTS + 6;
    let log: MemoryLog<u64> = MemoryLog::new(Retention::from(100));
    let mut readers: Vec<_> = (0..READERS)
        .map(|_| (ReaderId::new(), ReadPlace::new(), Arc::new(Wakes::default())))
        .collect();
    let wait_all = |readers: &mut Vec<(ReaderId, ReadPlace, Arc<Wakes>)>, at: u64| {
        for (reader, place, wakes) in readers.iter_mut() {
            wait(&log, *reader, place, at, wakes);
        }
    };
    wait_all(&mut readers, 0);
    append(&log, 0, 10);
    let woken = |readers: &[(ReaderId, ReadPlace, Arc<Wakes>)]| {
        readers
            .iter()
            .map(|(_, _, wakes)| wakes.count())
            .collect::<Vec<_>>()
    };
    assert_eq!(woken(&readers), vec![1; READERS]);
    // Nobody waits now: the next append wakes nobody.
    append(&log, 1, 11);
    assert_eq!(woken(&readers), vec![1; READERS]);
    // The first reader goes; the others and a new one wait at the end.
    readers.remove(0);
    readers.push((ReaderId::new(), ReadPlace::new(), Arc::new(Wakes::default())));
    wait_all(&mut readers, 2);
    append(&log, 2, 12);
    let mut expected = vec![2; READERS - 1];
    expected.push(1);
    assert_eq!(woken(&readers), expected);
}

/// Two readers reading from one place (members of a group sharing a
/// partition) each keep their own waker: an append wakes both.
#[test]
fn readers_sharing_a_place_are_each_woken() {
    let log: MemoryLog<u64> = MemoryLog::new(Retention::from(100));
    let mut place = ReadPlace::new();
    let wakes: Vec<_> = (0..2).map(|_| Arc::new(Wakes::default())).collect();
    for wakes in &wakes {
        wait(&log, ReaderId::new(), &mut place, 0, wakes);
    }
    append(&log, 0, 10);
    let woken: Vec<_> = wakes.iter().map(|w| w.count()).collect();
    assert_eq!(woken, [1, 1]);
}

/// A place dropped while its reader waits in a waker slot ends the wait
/// with a wake-up, rather than keeping or dropping the waker silently.
#[test]
fn a_place_dropped_while_waiting_wakes_its_reader() {
    let log: MemoryLog<u64> = MemoryLog::new(Retention::from(100));
    let wakes = Arc::new(Wakes::default());
    let mut place = ReadPlace::new();
    wait(&log, ReaderId::new(), &mut place, 0, &wakes);
    drop(place);
    assert_eq!(wakes.count(), 1);
    // A place made afresh for one call and dropped after it: the wait
    // ends at once with a (spurious) wake-up, never a lost one.
    wait(&log, ReaderId::new(), &mut ReadPlace::new(), 0, &wakes);
    assert_eq!(wakes.count(), 2);
}

/// Asking for no records is no progress, with or without the lock.
#[test]
fn a_read_of_nothing_is_pending() {
    let log: MemoryLog<u64> = MemoryLog::new(Retention::from(100));
    append(&log, 0, 10);
    let (reader, mut place, mut out) = (ReaderId::new(), ReadPlace::new(), VecDeque::new());
    // The first read keeps a row in the place; the next is lock-free.
    assert!(matches!(
        log.poll_read(reader, &mut place, Offset::new(0), 8, &mut out, None),
        Poll::Ready(Ok(_))
    ));
    append(&log, 1, 11);
    assert!(
        log.poll_read(reader, &mut place, Offset::new(1), 0, &mut out, None)
            .is_pending()
    );
    assert_eq!(out.len(), 1);
}
