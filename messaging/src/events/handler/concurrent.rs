//! A handler with up to n events in flight, in per-key order
//! ([`HandlerOptions::concurrency`](super::HandlerOptions::concurrency)).
//!
//! # Protocol
//!
//! The reader task owns the books ([`Books`]): how many events are in
//! flight, and for each busy key (topic and key) the events waiting
//! behind it. It starts each event on a task of its own, which runs the
//! event's attempts (back-offs included) and, when it ends or is dropped
//! with its runtime, pushes the event's key onto the shared [`Done`] list
//! and wakes the reader. The reader takes the whole list and settles it:
//! a key's next waiting event starts (or, after a stop, goes to the
//! dead-letter topic), or the key is no longer busy.
//!
//! `Done` is the only state the tasks share, under one lock: a finishing
//! task pushes under it and takes the reader's waker; the reader either
//! takes a non-empty list or leaves its waker under the same lock, so no
//! completion goes unseen. Wakers are woken and dropped with no lock held.
//!
//! The reader reads only while fewer than n events are in flight and
//! fewer than n wait, so neither count ever passes n. It ends once it
//! reads no more (closed or stopped) and nothing is in flight: every
//! event it read was handled, dead-lettered or counted as failed.

use super::{Control, FinishOnDrop, Item, Next, READER, Source, Task};
use crate::events::{Event, RecvError};
use crate::loom::{Mutex, lock};
use std::collections::VecDeque;
use std::collections::hash_map::{Entry, HashMap};
use std::fmt;
use std::future::{Future, poll_fn};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// What orders events: their topic and their key.
type Key = (Arc<str>, Arc<str>);

/// Runs the reader of a handler with a concurrency of `limit` (above 1).
pub(super) async fn run<T, F, Fut, E>(
    task: Arc<Task<T, F>>,
    mut source: Source<T>,
    finish: FinishOnDrop,
    limit: usize,
) where
    T: Clone + Send + 'static,
    F: Fn(Event<T>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: fmt::Display + 'static,
{
    let control = &finish.0;
    let done = Arc::new(Done::new());
    let mut books = Books::new(limit);
    let mut slots = Slots(READER);
    let mut reading = true;
    loop {
        // Read before the wait: the books change only between waits (and
        // a borrow of them would hold `T`s across it, which need not be
        // `Sync`).
        let (idle, room) = (books.in_flight == 0, books.has_room());
        let step = poll_fn(|cx| {
            let finished = done.take(cx);
            if !finished.is_empty() {
                return Poll::Ready(Step::Done(finished));
            }
            if !reading {
                return match idle {
                    true => Poll::Ready(Step::End),
                    false => Poll::Pending,
                };
            }
            if control.stopping(cx, READER) {
                return Poll::Ready(Step::Stop);
            }
            match room {
                true => source.poll_recv(cx).map(Step::Received),
                false => Poll::Pending,
            }
        })
        .await;
        match step {
            // A group member leaves before the handler counts as
            // finished.
            Step::End => {
                drop(source);
                break;
            }
            Step::Stop => reading = false,
            Step::Received(received) => match task.next(received, control) {
                Next::Closed => reading = false,
                Next::Nothing => {}
                // Wait the first back-off before reading again, so a
                // lasting failure does not spin.
                Next::Failed => reading = task.back_off(1, control, READER).await,
                Next::Event(item) => {
                    if let Some(item) = books.admit(item) {
                        start(&task, &done, control, item, slots.next());
                    }
                }
            },
            Step::Done(keys) => {
                for key in keys {
                    let mut next = books.finished(key.as_ref());
                    while let Some(item) = next.take() {
                        if !control.is_stopped() {
                            start(&task, &done, control, item, slots.next());
                            break;
                        }
                        // A group has it handed out again; otherwise it
                        // goes behind its key's last event: the
                        // dead-letter topic keeps the key's order.
                        if let Err(item) = item.give_back() {
                            let error = "the handler stopped before the event's turn".to_string();
                            task.dead_letter(item, error, control).await;
                        }
                        next = books.finished(key.as_ref());
                    }
                }
            }
        }
    }
}

enum Step<T: 'static> {
    /// Events finished, by key.
    Done(Vec<Option<Key>>),
    Received(Result<Item<T>, RecvError>),
    Stop,
    /// Reading is over and nothing is in flight.
    End,
}

/// Starts `item`'s attempts on a task of its own, in `slot`.
fn start<T, F, Fut, E>(
    task: &Arc<Task<T, F>>,
    done: &Arc<Done>,
    control: &Arc<Control>,
    item: Item<T>,
    slot: usize,
) where
    T: Clone + Send + 'static,
    F: Fn(Event<T>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: fmt::Display + 'static,
{
    let report = Report {
        done: done.clone(),
        control: control.clone(),
        key: key_of(item.event()),
        slot,
    };
    let owned = task.clone();
    task.spawner.spawn(async move {
        owned.handle(item, &report.control, report.slot).await;
        drop(report);
    });
}

fn key_of<T>(event: &Event<T>) -> Option<Key> {
    let key = event.key.clone()?;
    Some((event.source.topic.clone(), key))
}

/// Hands out slot numbers for the event tasks (see the parent's module
/// docs); the reader's is 0.
struct Slots(usize);

impl Slots {
    fn next(&mut self) -> usize {
        self.0 = self.0.checked_add(1).unwrap_or(READER + 1);
        self.0
    }
}

// ANCHOR: books
/// The reader's books: what is in flight, and what waits behind a busy
/// key.
struct Books<T: 'static> {
    limit: usize,
    in_flight: usize,
    waiting: usize,
    /// A key is here while one of its events is in flight; its queue holds
    /// the events read after that one, in order.
    busy: HashMap<Key, VecDeque<Item<T>>>,
}

impl<T: 'static> Books<T> {
    fn new(limit: usize) -> Books<T> {
        Books {
            limit,
            in_flight: 0,
            waiting: 0,
            busy: HashMap::new(),
        }
    }

    /// Whether the reader may read one more event.
    fn has_room(&self) -> bool {
        self.in_flight < self.limit && self.waiting < self.limit
    }

    /// Takes in a new event: it may start now (returned), or it waits
    /// behind its key.
    fn admit(&mut self, item: Item<T>) -> Option<Item<T>> {
        if let Some(key) = key_of(item.event()) {
            match self.busy.entry(key) {
                Entry::Occupied(mut queue) => {
                    queue.get_mut().push_back(item);
                    self.waiting += 1;
                    return None;
                }
                Entry::Vacant(slot) => {
                    slot.insert(VecDeque::new());
                }
            }
        }
        self.in_flight += 1;
        Some(item)
    }

    /// An event of `key` is done: its key's next event, now in flight, if
    /// one waits; otherwise the key is free.
    fn finished(&mut self, key: Option<&Key>) -> Option<Item<T>> {
        self.in_flight -= 1;
        let queue = self.busy.get_mut(key?)?;
        match queue.pop_front() {
            Some(next) => {
                self.waiting -= 1;
                self.in_flight += 1;
                Some(next)
            }
            None => {
                self.busy.remove(key?);
                None
            }
        }
    }
}
// ANCHOR_END: books

/// The keys of the events whose tasks ended, for the reader.
struct Done {
    state: Mutex<DoneState>,
}

#[derive(Default)]
struct DoneState {
    keys: Vec<Option<Key>>,
    reader: Option<Waker>,
}

impl Done {
    fn new() -> Done {
        Done {
            state: Mutex::new(DoneState::default()),
        }
    }

    fn push(&self, key: Option<Key>) {
        let reader = {
            let mut state = lock(&self.state);
            state.keys.push(key);
            state.reader.take()
        };
        reader.into_iter().for_each(Waker::wake);
    }

    /// The keys pushed since the last call; if none, registers the reader
    /// to hear of the next.
    fn take(&self, cx: &Context<'_>) -> Vec<Option<Key>> {
        // Dropped after the lock is released.
        let mut _displaced = None;
        let mut state = lock(&self.state);
        if state.keys.is_empty() {
            _displaced = crate::util::replace_waker(&mut state.reader, cx.waker());
        }
        std::mem::take(&mut state.keys)
    }
}

/// Tells the reader an event's task ended, however it ended (a runtime
/// shutting down drops it mid-attempt).
struct Report {
    done: Arc<Done>,
    control: Arc<Control>,
    key: Option<Key>,
    slot: usize,
}

impl Drop for Report {
    fn drop(&mut self) {
        self.control.leave(self.slot);
        self.done.push(self.key.take());
    }
}
