// Over ~600 lines on purpose: one concept, a single seeded model whose
// `Model` holds the bus, the expected logs and every waiter, and whose steps
// and after-every-step checks read the same state; split, each file would
// need all of it.
//! A seeded model of the event bus's waiting futures under cancellation.
//!
//! Each run interleaves, at random: publishing (`try_publish` and a
//! hand-polled `publish`), subscribers made at every `StartAt` on a topic
//! or a pattern, polling their `recv` with a counting waker, `try_recv`,
//! cancelling a pending `recv` (dropping the future: the task stops
//! polling it, since `recv` is `poll_fn(poll_recv)`), dropping subscribers,
//! consumer-group members joining, polling, cancelling, acking, nacking,
//! dropping what they hold and leaving, a handler running on the paused
//! runtime, and closing the bus. After **every** step it checks that
//!
//! - each subscriber's events on a topic are exactly that topic's log from
//!   where it started, in order, none missing, none twice;
//! - the group hands each event to one member at a time, never one acked,
//!   and ends with every event of its range acked exactly once;
//! - no waiter is stranded: a `recv` left pending while an event (or the
//!   end) is available to it has been woken since;
//! - a subscriber or member that goes leaves no waker behind;
//! - the handler, given turns, catches up with everything published.
//!
//! `EVENTS_MODEL_SEEDS` sets the number of runs (default 200).

#[path = "../../tests/support/mod.rs"]
mod support;

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use support::{Rng, paused_current_thread};
use weft::events::{
    EventBus, GroupEvent, HandlerOptions, Member, Offset, PublishError, RecvError, StartAt, Subscriber,
};

const TOPICS: [&str; 2] = ["a.x", "a.y"];
/// The group's topic: `TOPICS[0]`.
const GROUP_TOPIC: usize = 0;
const STEPS: usize = 300;

#[derive(Default)]
struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A task's view of one `recv`: its waker, and the wake count when its
/// last poll returned `Pending` (`None` when no `recv` is pending).
struct Waiting {
    counter: Arc<Counter>,
    waker: Waker,
    pending_at: Option<usize>,
}

impl Waiting {
    fn new() -> Waiting {
        let counter = Arc::new(Counter::default());
        Waiting {
            waker: Waker::from(counter.clone()),
            counter,
            pending_at: None,
        }
    }

    fn wakes(&self) -> usize {
        self.counter.0.load(Ordering::SeqCst)
    }

    fn woken(&self) -> bool {
        self.pending_at.is_some_and(|at| self.wakes() > at)
    }
}

struct Sub {
    sub: Subscriber<u64>,
    /// The next offset expected on each topic; `None` for a topic it does
    /// not read.
    next: [Option<u64>; 2],
    /// Reads topics made later (a pattern).
    pattern: bool,
    waiting: Waiting,
    ended: bool,
}

struct Mem {
    member: Member<u64>,
    held: Vec<GroupEvent<u64>>,
    waiting: Waiting,
    ended: bool,
}

struct Model {
    rng: Rng,
    seed: u64,
    bus: EventBus<u64>,
    /// The payloads published on each topic, by offset.
    log: [Vec<u64>; 2],
    created: [bool; 2],
    closed: bool,
    subs: Vec<Sub>,
    members: Vec<Mem>,
    /// The group's first offset, once it exists.
    group_start: Option<u64>,
    in_hand: BTreeSet<u64>,
    acked: BTreeSet<u64>,
    /// What the handler saw, as (topic, offset, payload).
    handled: Arc<Mutex<Vec<(String, u64, u64)>>>,
    next_payload: u64,
}

impl Model {
    fn new(seed: u64) -> Model {
        Model {
            rng: Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1),
            seed,
            bus: EventBus::builder().retention(1 << 20).build(),
            log: [Vec::new(), Vec::new()],
            created: [false; 2],
            closed: false,
            subs: Vec::new(),
            members: Vec::new(),
            group_start: None,
            in_hand: BTreeSet::new(),
            acked: BTreeSet::new(),
            handled: Arc::new(Mutex::new(Vec::new())),
            next_payload: 0,
        }
    }

    fn pick(&mut self, n: usize) -> usize {
        self.rng.below(n as u64) as usize
    }

    /// Topic `t` now exists: pattern subscribers read it from offset 0,
    /// unless the bus was closed first (then it has no events).
    fn create(&mut self, t: usize) {
        if !self.created[t] {
            self.created[t] = true;
            if !self.closed {
                for sub in self.subs.iter_mut().filter(|s| s.pattern) {
                    sub.next[t] = Some(0);
                }
            }
        }
    }

    fn start_at(&mut self, t: usize) -> (StartAt, u64) {
        let len = self.log[t].len() as u64;
        match self.pick(3) {
            0 => (StartAt::Start, 0),
            1 => (StartAt::Latest, len),
            _ => {
                let n = self.rng.below(len + 3);
                (StartAt::Offset(Offset::new(n)), n)
            }
        }
    }

    fn publish(&mut self, asynchronously: bool) {
        let t = self.pick(2);
        let payload = self.next_payload;
        self.next_payload += 1;
        let result = if asynchronously {
            let mut publish = pin!(self.bus.publish(TOPICS[t], payload));
            match publish.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
                Poll::Ready(result) => result,
                Poll::Pending => panic!("seed {}: the memory backend never waits", self.seed),
            }
        } else {
            self.bus.try_publish(TOPICS[t], payload)
        };
        self.create(t);
        match result {
            Ok(offset) => {
                assert!(!self.closed, "seed {}: published on a closed bus", self.seed);
                assert_eq!(offset.get(), self.log[t].len() as u64, "seed {}", self.seed);
                self.log[t].push(payload);
            }
            Err(PublishError::Closed(back)) => {
                assert!(self.closed, "seed {}: refused by an open bus", self.seed);
                assert_eq!(back, payload);
            }
            Err(e) => panic!("seed {}: {e}", self.seed),
        }
    }

    fn subscribe(&mut self) {
        let pattern = self.pick(3) == 0;
        let mut next = [None; 2];
        let (sub, t) = if pattern {
            let (from, _) = self.start_at(0);
            let sub = self.bus.subscribe("a.*", from).unwrap();
            for (t, next) in next.iter_mut().enumerate() {
                if self.created[t] {
                    *next = Some(match from {
                        StartAt::Start => 0,
                        StartAt::Latest => self.log[t].len() as u64,
                        StartAt::Offset(offset) => offset.get(),
                        StartAt::Time(_) => unreachable!("the model starts by offset"),
                    });
                }
            }
            (sub, None)
        } else {
            let t = self.pick(2);
            let (from, at) = self.start_at(t);
            next[t] = Some(at);
            (self.bus.subscribe(TOPICS[t], from).unwrap(), Some(t))
        };
        if let Some(t) = t {
            self.create(t);
        }
        self.subs.push(Sub {
            sub,
            next,
            pattern,
            waiting: Waiting::new(),
            ended: false,
        });
    }

    fn sub_available(&self, sub: &Sub) -> bool {
        self.closed || (0..2).any(|t| sub.next[t].is_some_and(|next| (self.log[t].len() as u64) > next))
    }

    /// Checks one result a subscriber got.
    fn sub_got(&mut self, i: usize, result: Result<weft::events::Event<u64>, RecvError>) {
        let seed = self.seed;
        let sub = &mut self.subs[i];
        match result {
            Ok(event) => {
                assert!(!sub.ended, "seed {seed}: a subscriber got an event after Closed");
                let t = TOPICS.iter().position(|name| *name == event.topic()).unwrap();
                let expected = sub.next[t].expect("an event of a topic it reads");
                assert_eq!(
                    event.offset().get(),
                    expected,
                    "seed {seed}: subscriber {i} on {}: an event missed or repeated",
                    TOPICS[t]
                );
                assert_eq!(*event, self.log[t][expected as usize], "seed {seed}");
                sub.next[t] = Some(expected + 1);
            }
            Err(RecvError::Closed) => {
                assert!(self.closed, "seed {seed}: Closed on an open bus");
                for ((next, log), name) in sub.next.iter().zip(&self.log).zip(TOPICS) {
                    if let Some(next) = next {
                        assert!(
                            *next >= log.len() as u64,
                            "seed {seed}: subscriber {i} ended before reading all of {name}"
                        );
                    }
                }
                sub.ended = true;
            }
            Err(e) => panic!("seed {seed}: subscriber {i}: unexpected {e}"),
        }
    }

    fn sub_poll(&mut self, i: usize) {
        let sub = &mut self.subs[i];
        let waker = sub.waiting.waker.clone();
        match sub.sub.poll_recv(&mut Context::from_waker(&waker)) {
            Poll::Pending => sub.waiting.pending_at = Some(sub.waiting.wakes()),
            Poll::Ready(result) => {
                sub.waiting.pending_at = None;
                self.sub_got(i, result);
            }
        }
    }

    fn sub_try(&mut self, i: usize) {
        if let Some(result) = self.subs[i].sub.try_recv() {
            self.sub_got(i, result);
        }
    }

    fn join(&mut self) {
        let (from, at) = self.start_at(GROUP_TOPIC);
        let member = self.bus.join("g", TOPICS[GROUP_TOPIC], from).unwrap();
        self.create(GROUP_TOPIC);
        self.group_start.get_or_insert(at);
        self.members.push(Mem {
            member,
            held: Vec::new(),
            waiting: Waiting::new(),
            ended: false,
        });
    }

    /// Whether an event, or the end, is there for a member to take.
    fn group_available(&self) -> bool {
        let start = self.group_start.expect("a member makes the group");
        let len = self.log[GROUP_TOPIC].len() as u64;
        let open = (start..len).any(|o| !self.in_hand.contains(&o) && !self.acked.contains(&o));
        open || (self.closed && self.in_hand.is_empty())
    }

    fn member_got(&mut self, i: usize, result: Result<GroupEvent<u64>, RecvError>) {
        let seed = self.seed;
        match result {
            Ok(event) => {
                assert!(
                    !self.members[i].ended,
                    "seed {seed}: a member got an event after Closed"
                );
                let offset = event.event().offset().get();
                assert!(
                    offset >= self.group_start.unwrap(),
                    "seed {seed}: before the group's start"
                );
                assert!(
                    !self.acked.contains(&offset),
                    "seed {seed}: offset {offset} acked, handed out again"
                );
                assert!(
                    self.in_hand.insert(offset),
                    "seed {seed}: offset {offset} handed to two members at once"
                );
                assert_eq!(*event, self.log[GROUP_TOPIC][offset as usize], "seed {seed}");
                self.members[i].held.push(event);
            }
            Err(RecvError::Closed) => {
                assert!(
                    self.closed && self.in_hand.is_empty(),
                    "seed {seed}: Closed too early"
                );
                let start = self.group_start.unwrap();
                let all: BTreeSet<u64> = (start..self.log[GROUP_TOPIC].len() as u64).collect();
                assert_eq!(
                    self.acked, all,
                    "seed {seed}: the group ended with events unacked"
                );
                self.members[i].ended = true;
            }
            Err(e) => panic!("seed {seed}: member {i}: unexpected {e}"),
        }
    }

    fn member_poll(&mut self, i: usize) {
        let mem = &mut self.members[i];
        let waker = mem.waiting.waker.clone();
        match mem.member.poll_recv(&mut Context::from_waker(&waker)) {
            Poll::Pending => mem.waiting.pending_at = Some(mem.waiting.wakes()),
            Poll::Ready(result) => {
                mem.waiting.pending_at = None;
                self.member_got(i, result);
            }
        }
    }

    fn member_try(&mut self, i: usize) {
        if let Some(result) = self.members[i].member.try_recv() {
            self.member_got(i, result);
        }
    }

    /// Settles one event member `i` holds: ack, nack or drop.
    fn settle(&mut self, i: usize, how: usize) {
        if self.members[i].held.is_empty() {
            return;
        }
        let k = self.pick(self.members[i].held.len());
        let event = self.members[i].held.swap_remove(k);
        let offset = event.event().offset().get();
        self.in_hand.remove(&offset);
        match how {
            0 => {
                event.ack().unwrap();
                assert!(self.acked.insert(offset), "seed {}: acked twice", self.seed);
            }
            1 => event.nack(),
            _ => drop(event),
        }
    }

    fn leave(&mut self, i: usize) {
        let mem = self.members.swap_remove(i);
        for event in &mem.held {
            self.in_hand.remove(&event.event().offset().get());
        }
        let counter = mem.waiting.counter.clone();
        drop(mem);
        assert_eq!(
            Arc::strong_count(&counter),
            1,
            "seed {}: a member that left left its waker behind",
            self.seed
        );
    }

    fn unsubscribe(&mut self, i: usize) {
        let sub = self.subs.swap_remove(i);
        let counter = sub.waiting.counter.clone();
        drop(sub);
        assert_eq!(
            Arc::strong_count(&counter),
            1,
            "seed {}: a dropped subscriber left its waker behind",
            self.seed
        );
    }

    /// The handler has seen, per topic, exactly the log so far.
    fn check_handled(&self, complete: bool) {
        let handled = self.handled.lock().unwrap();
        for (t, name) in TOPICS.iter().enumerate() {
            let seen: Vec<(u64, u64)> = handled
                .iter()
                .filter(|h| h.0 == *name)
                .map(|h| (h.1, h.2))
                .collect();
            let expected: Vec<(u64, u64)> = self.log[t]
                .iter()
                .enumerate()
                .map(|(o, p)| (o as u64, *p))
                .collect();
            assert_eq!(
                &expected[..seen.len().min(expected.len())],
                &seen[..],
                "seed {}: the handler missed or repeated an event of {name}",
                self.seed
            );
            if complete {
                assert_eq!(
                    seen.len(),
                    expected.len(),
                    "seed {}: the handler is stranded",
                    self.seed
                );
            }
        }
    }

    /// After every step: no pending `recv` with something to take is left
    /// unwoken.
    fn check_no_stranded(&self, step: usize) {
        for (i, sub) in self.subs.iter().enumerate() {
            if sub.waiting.pending_at.is_some() && self.sub_available(sub) {
                assert!(
                    sub.waiting.woken(),
                    "seed {} step {step}: subscriber {i} waits unwoken with an event there",
                    self.seed
                );
            }
        }
        if self.group_start.is_some() && self.group_available() {
            for (i, mem) in self.members.iter().enumerate() {
                if mem.waiting.pending_at.is_some() {
                    assert!(
                        mem.waiting.woken(),
                        "seed {} step {step}: member {i} waits unwoken with an event there",
                        self.seed
                    );
                }
            }
        }
    }
}

/// Gives the handler turns until it has seen everything (or it is clear it
/// never will).
async fn let_handler_run(model: &Model) {
    let total = || model.log[0].len() + model.log[1].len();
    for _ in 0..64 {
        if model.handled.lock().unwrap().len() == total() {
            break;
        }
        weft::task::yield_now().await;
    }
}

async fn run(seed: u64) {
    let mut m = Model::new(seed);
    let handled = m.handled.clone();
    let options = HandlerOptions::new().from(StartAt::Start);
    let handler = m
        .bus
        .on_with("a.*", options, move |event| {
            let handled = handled.clone();
            async move {
                let seen = (event.topic().to_owned(), event.offset().get(), *event);
                handled.lock().unwrap().push(seen);
                Ok::<(), String>(())
            }
        })
        .unwrap();

    for step in 0..STEPS {
        let subs = m.subs.len();
        let members = m.members.len();
        match m.pick(20) {
            0..=2 => m.publish(false),
            3 => m.publish(true),
            4 => m.subscribe(),
            5 if subs > 0 => {
                let i = m.pick(subs);
                m.unsubscribe(i);
            }
            6..=7 if subs > 0 => {
                let i = m.pick(subs);
                m.sub_poll(i);
            }
            8 if subs > 0 => {
                let i = m.pick(subs);
                m.sub_try(i);
            }
            9 if subs > 0 => {
                // Cancelled: the future is dropped, never polled again.
                let i = m.pick(subs);
                m.subs[i].waiting.pending_at = None;
            }
            10 if members < 4 => m.join(),
            11..=12 if members > 0 => {
                let i = m.pick(members);
                m.member_poll(i);
            }
            13 if members > 0 => {
                let i = m.pick(members);
                m.member_try(i);
            }
            14 if members > 0 => {
                let i = m.pick(members);
                m.members[i].waiting.pending_at = None;
            }
            15..=16 if members > 0 => {
                let (i, how) = (m.pick(members), m.pick(3));
                m.settle(i, how);
            }
            17 if members > 0 && m.pick(3) == 0 => {
                let i = m.pick(members);
                m.leave(i);
            }
            18 => {
                let_handler_run(&m).await;
                m.check_handled(!m.closed);
            }
            19 if !m.closed && m.pick(8) == 0 => {
                m.bus.close();
                m.closed = true;
            }
            _ => {}
        }
        // Wakes are delivered: a woken task polls its `recv` again, as an
        // executor would, now or a step later.
        for i in 0..m.subs.len() {
            if m.subs[i].waiting.woken() && m.pick(2) == 0 {
                m.sub_poll(i);
            }
        }
        for i in 0..m.members.len() {
            if m.members[i].waiting.woken() && m.pick(2) == 0 {
                m.member_poll(i);
            }
        }
        m.check_no_stranded(step);
        m.check_handled(false);
    }

    // The end: close, and every reader drains to `Closed`.
    let_handler_run(&m).await;
    if !m.closed {
        m.check_handled(true);
    }
    m.bus.close();
    m.closed = true;
    m.check_no_stranded(STEPS);
    for i in 0..m.subs.len() {
        for _ in 0..=(m.log[0].len() + m.log[1].len() + 1) {
            if m.subs[i].ended {
                break;
            }
            m.sub_poll(i);
        }
        assert!(m.subs[i].ended, "seed {seed}: subscriber {i} never ended");
    }
    if m.group_start.is_some() {
        // Whatever is held is settled, then one member takes the rest.
        while let Some(mut mem) = m.members.pop() {
            for event in mem.held.drain(..) {
                m.in_hand.remove(&event.event().offset().get());
                m.acked.insert(event.event().offset().get());
                event.ack().unwrap();
            }
        }
        m.join();
        for _ in 0..=(m.log[GROUP_TOPIC].len() + 1) {
            if m.members[0].ended {
                break;
            }
            m.member_poll(0);
            m.settle(0, 0);
        }
        assert!(m.members[0].ended, "seed {seed}: the group never ended");
    }
    handler.finished().await;
    m.check_handled(true);
}

#[test]
fn no_event_is_lost_duplicated_or_stranded_under_cancellation() {
    let seeds: u64 = std::env::var("EVENTS_MODEL_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let rt = paused_current_thread();
    for seed in 1..=seeds {
        // The model polls its readers by hand, many times in one poll of
        // its task: outside the cooperative budget (tests/coop.rs), so
        // that every `Pending` it sees is the bus's, not the budget's.
        rt.block_on(weft::task::unconstrained(run(seed)));
    }
}
