//! The code of the book's "Select and join inside one task" chapter, run as
//! tests on the paused clock: racing in a loop against one deadline pinned
//! once, joining two futures by hand, and what dropping the losing branch
//! of a race does to a cancel-safe and to a non-cancel-safe wait.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;
use weft::sync::mpsc;
use weft::time::{Instant, sleep};

// ANCHOR: race-loop
/// Sends `count` numbers, one every `every` of (paused) time.
async fn trickle(tx: mpsc::Sender<u32>, count: u32, every: Duration) {
    for n in 0..count {
        sleep(every).await;
        if tx.send(n).await.is_err() {
            return;
        }
    }
}

/// What woke the loop.
enum Next {
    Job(Option<u32>),
    Deadline,
}

/// Takes jobs until `session` is over, however many jobs keep arriving.
async fn take_jobs_for(session: Duration, jobs: &mut mpsc::Receiver<u32>) -> Vec<u32> {
    // The deadline is made and pinned ONCE, outside the loop, and polled
    // again on every turn: it keeps its place in the timer wheel.
    let mut deadline = pin!(sleep(session));
    let mut taken = Vec::new();
    loop {
        // A select written by hand: a future of one closure that polls each
        // branch in turn and returns the first that is ready.
        let next = poll_fn(|cx| {
            if deadline.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Next::Deadline);
            }
            jobs.poll_recv(cx).map(Next::Job)
        })
        .await;
        match next {
            Next::Job(Some(job)) => taken.push(job),
            Next::Job(None) | Next::Deadline => return taken,
        }
    }
}

#[test]
fn one_deadline_for_the_whole_loop() {
    weft::block_on(async {
        weft::time::pause();
        let (tx, mut rx) = mpsc::channel(8);
        // A job every 3 s, for a minute; the session lasts 10 s.
        weft::spawn(trickle(tx, 20, Duration::from_secs(3)));
        let start = Instant::now();
        let taken = take_jobs_for(Duration::from_secs(10), &mut rx).await;
        assert_eq!(taken, [0, 1, 2], "jobs at 3, 6 and 9 s");
        assert!(start.elapsed() >= Duration::from_secs(10));
    });
}
// ANCHOR_END: race-loop

// ANCHOR: fresh-timer
#[test]
fn a_timer_made_inside_the_loop_starts_again_every_turn() {
    weft::block_on(async {
        weft::time::pause();
        let (tx, mut rx) = mpsc::channel(8);
        weft::spawn(trickle(tx, 20, Duration::from_secs(3)));
        let mut taken = 0;
        // Wrong for a session limit: each turn makes a new 10 s timeout, so
        // a job every 3 s keeps it from ever firing. It ends only when the
        // sender stops, after 20 jobs and a minute.
        while let Ok(Some(_)) = weft::time::timeout(Duration::from_secs(10), rx.recv()).await {
            taken += 1;
        }
        assert_eq!(taken, 20);
    });
}
// ANCHOR_END: fresh-timer

// ANCHOR: join
/// Runs two futures at once inside the calling task and returns both
/// outputs: a `join` written by hand.
async fn join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut a_out, mut b_out) = (None, None);
    poll_fn(|cx| {
        // Poll only the branches that are not finished yet: a future must
        // not be polled again after it returned Ready.
        if a_out.is_none()
            && let Poll::Ready(out) = a.as_mut().poll(cx)
        {
            a_out = Some(out);
        }
        if b_out.is_none()
            && let Poll::Ready(out) = b.as_mut().poll(cx)
        {
            b_out = Some(out);
        }
        if a_out.is_some() && b_out.is_some() {
            Poll::Ready((a_out.take().unwrap(), b_out.take().unwrap()))
        } else {
            Poll::Pending
        }
    })
    .await
}

#[test]
fn two_waits_overlap_inside_one_task() {
    weft::block_on(async {
        weft::time::pause();
        let start = Instant::now();
        let slow = async {
            sleep(Duration::from_secs(2)).await;
            "slow"
        };
        let quick = async {
            sleep(Duration::from_secs(1)).await;
            "quick"
        };
        assert_eq!(join(slow, quick).await, ("slow", "quick"));
        // Both waits ran at once: 2 s in all, not 3.
        let took = start.elapsed();
        assert!(took >= Duration::from_secs(2) && took < Duration::from_secs(3));
    });
}
// ANCHOR_END: join

// ANCHOR: losing-branch
#[test]
fn the_losing_branch_is_dropped_and_what_it_held_goes_with_it() {
    weft::block_on(async {
        weft::time::pause();
        let (tx, mut rx) = mpsc::channel::<&str>(1);
        tx.send("first").await.unwrap(); // the channel is now full

        // A bounded `send` that loses a race is dropped with its value.
        let sent = weft::time::timeout(Duration::from_secs(1), tx.send("lost")).await;
        assert!(sent.is_err());
        assert_eq!(rx.recv().await, Some("first"));
        assert!(rx.try_recv().is_err(), "\"lost\" was dropped with the send");

        // `reserve` waits for room without taking the value: if it loses the
        // race, we still hold what we meant to send.
        tx.send("second").await.unwrap();
        let keep = "kept";
        let room = weft::time::timeout(Duration::from_secs(1), tx.reserve()).await;
        assert!(room.is_err());
        assert_eq!(rx.recv().await, Some("second"));
        tx.reserve().await.unwrap().send(keep);
        assert_eq!(rx.recv().await, Some("kept"));

        // A `recv` that loses a race has taken nothing: the message waits.
        let (tx, mut rx) = mpsc::channel::<u32>(1);
        assert!(
            weft::time::timeout(Duration::from_secs(1), rx.recv())
                .await
                .is_err()
        );
        tx.send(7).await.unwrap();
        assert_eq!(rx.recv().await, Some(7));
    });
}
// ANCHOR_END: losing-branch
