//! The local run queue (capacity 4 under loom): the owner's pushes, pops and
//! overflows against stealers. Every task must come out exactly once.

use crate::loom::{Arc, Mutex, lock, thread};
use crate::scheduler::multi_thread::queue::{self, Overflow};

#[derive(Default)]
struct Sink(Mutex<Vec<u32>>);

impl Overflow<u32> for Sink {
    fn push(&self, task: u32) {
        lock(&self.0).push(task);
    }

    fn push_batch(&self, tasks: &mut dyn Iterator<Item = u32>) {
        lock(&self.0).extend(tasks);
    }
}

fn drain(local: &mut queue::Local<u32>) -> Vec<u32> {
    std::iter::from_fn(|| local.pop()).collect()
}

fn assert_each_once(mut seen: Vec<u32>, n: u32) {
    seen.sort_unstable();
    assert_eq!(seen, (0..n).collect::<Vec<_>>());
}

#[test]
fn push_and_pop_against_a_stealer() {
    loom::model(|| {
        let (steal, mut local) = queue::local::<u32>();
        let sink = Sink::default();
        let thief = thread::spawn(move || {
            let (_s, mut mine) = queue::local::<u32>();
            let mut got: Vec<u32> = steal.steal_into(&mut mine).into_iter().collect();
            got.extend(drain(&mut mine));
            got
        });
        let mut seen = Vec::new();
        for i in 0..3 {
            local.push_back_or_overflow(i, &sink);
        }
        seen.extend(local.pop());
        local.push_back_or_overflow(3, &sink);
        seen.extend(thief.join().unwrap());
        seen.extend(drain(&mut local));
        seen.extend(lock(&sink.0).drain(..));
        assert_each_once(seen, 4);
    });
}

// ANCHOR: overflow-against-a-stealer
#[test]
fn overflow_against_a_stealer() {
    loom::model(|| {
        let (steal, mut local) = queue::local::<u32>();
        let sink = Arc::new(Sink::default());
        for i in 0..4 {
            local.push_back_or_overflow(i, &*sink);
        }
        let thief = thread::spawn(move || {
            let (_s, mut mine) = queue::local::<u32>();
            let mut got: Vec<u32> = steal.steal_into(&mut mine).into_iter().collect();
            got.extend(drain(&mut mine));
            got
        });
        // The queue is full: this push moves half of it to the sink, unless
        // the thief made room first.
        local.push_back_or_overflow(4, &*sink);
        let mut seen = thief.join().unwrap();
        seen.extend(drain(&mut local));
        seen.extend(lock(&sink.0).drain(..));
        assert_each_once(seen, 5);
    });
}
// ANCHOR_END: overflow-against-a-stealer

#[test]
fn two_stealers_and_the_owner() {
    loom::model(|| {
        let (steal, mut local) = queue::local::<u32>();
        let sink = Sink::default();
        for i in 0..4 {
            local.push_back_or_overflow(i, &sink);
        }
        let steal = Arc::new(steal);
        let thieves: Vec<_> = (0..2)
            .map(|_| {
                let steal = steal.clone();
                thread::spawn(move || {
                    let (_s, mut mine) = queue::local::<u32>();
                    let mut got: Vec<u32> = steal.steal_into(&mut mine).into_iter().collect();
                    got.extend(drain(&mut mine));
                    got
                })
            })
            .collect();
        let mut seen: Vec<u32> = local.pop().into_iter().collect();
        for t in thieves {
            seen.extend(t.join().unwrap());
        }
        seen.extend(drain(&mut local));
        seen.extend(lock(&sink.0).drain(..));
        assert_each_once(seen, 4);
    });
}
