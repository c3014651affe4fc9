//! Request / reply over the queue (#19): replies find their own callers by
//! correlation id, a late reply is dropped and counted, and a responder
//! that fails or dies leaves the request to be delivered again.
//! Hand-polled on a clock only the test moves.

mod queue_support;

use queue_support::{Counting, Manual};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;
use weft::queue::{Queue, Request, RequestError, Requester, Responder};

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// The next request, ready now.
fn take(responder: &mut Responder<u32, String>) -> Request<u32, String> {
    match Counting::new().poll(pin!(responder.recv())) {
        Poll::Ready(Ok(request)) => request,
        other => panic!("no request ready: {other:?}"),
    }
}

fn reply(request: Request<u32, String>, text: &str) {
    let replied = Counting::new().poll(pin!(request.reply(text.to_owned())));
    assert!(matches!(replied, Poll::Ready(Ok(()))), "{replied:?}");
}

#[test]
fn replies_reach_their_own_callers_whatever_the_order() {
    let (_rt, spawner) = Manual::new();
    let requester: Requester<u32, String> = Requester::new(Queue::builder().spawner(&spawner));
    let mut responder = requester.responder();
    let (wa, wb) = (Counting::new(), Counting::new());
    let mut a = pin!(requester.request(1, secs(30)));
    let mut b = pin!(requester.request(2, secs(30)));
    assert!(wa.poll(a.as_mut()).is_pending());
    assert!(wb.poll(b.as_mut()).is_pending());
    let (first, second) = (take(&mut responder), take(&mut responder));
    assert_eq!((*first, *second), (1, 2));
    assert_ne!(first.correlation_id(), second.correlation_id());
    // Answered in the other order.
    reply(second, "two");
    assert!(
        wa.is_woken() || wb.is_woken(),
        "a waiting caller was woken to route it"
    );
    assert!(wa.poll(a.as_mut()).is_pending(), "not A's reply");
    assert!(matches!(wb.poll(b.as_mut()), Poll::Ready(Ok(r)) if r == "two"));
    wa.reset();
    reply(first, "one");
    assert!(wa.is_woken(), "B is done: A must still hear of its reply");
    assert!(matches!(wa.poll(a), Poll::Ready(Ok(r)) if r == "one"));
    assert_eq!(requester.late_replies(), 0);
    assert_eq!(requester.requests().stats().acked, 2);
}

#[test]
fn a_late_reply_is_dropped_and_counted_never_given_to_another_caller() {
    let (rt, spawner) = Manual::new();
    let requester: Requester<u32, String> = Requester::new(Queue::builder().spawner(&spawner));
    let mut responder = requester.responder();
    let waker = Counting::new();
    {
        let mut gave_up = pin!(requester.request(1, secs(5)));
        assert!(waker.poll(gave_up.as_mut()).is_pending());
        rt.advance(secs(5));
        assert!(matches!(
            waker.poll(gave_up),
            Poll::Ready(Err(RequestError::TimedOut))
        ));
    }
    // The request is still handled; its answer comes too late.
    reply(take(&mut responder), "one, late");
    let mut next = pin!(requester.request(2, secs(5)));
    assert!(
        waker.poll(next.as_mut()).is_pending(),
        "the late reply is not this caller's"
    );
    assert_eq!(requester.late_replies(), 1);
    reply(take(&mut responder), "two");
    assert!(matches!(waker.poll(next), Poll::Ready(Ok(r)) if r == "two"));
    // A caller whose future was dropped is gone too.
    {
        let mut dropped = pin!(requester.request(3, secs(5)));
        assert!(waker.poll(dropped.as_mut()).is_pending());
    }
    reply(take(&mut responder), "three");
    let mut last = pin!(requester.request(4, secs(5)));
    assert!(waker.poll(last.as_mut()).is_pending());
    assert_eq!(requester.late_replies(), 2);
}

#[test]
fn a_responder_that_fails_or_dies_leaves_the_request_to_be_delivered_again() {
    let (_rt, spawner) = Manual::new();
    let requester: Requester<u32, String> = Requester::new(Queue::builder().spawner(&spawner));
    let waker = Counting::new();
    let mut call = pin!(requester.request(7, secs(30)));
    assert!(waker.poll(call.as_mut()).is_pending());
    // One responder fails: nack.
    let mut failing = requester.responder();
    take(&mut failing).into_delivery().nack(true).unwrap();
    // Another takes it and dies with it in hand.
    let mut dying = requester.responder();
    let request = take(&mut dying);
    assert_eq!(request.into_delivery().delivery_count(), 2);
    drop(dying);
    // A third answers it.
    let mut healthy = requester.responder();
    let request = take(&mut healthy);
    assert_eq!(*request, 7);
    reply(request, "seven");
    assert!(matches!(waker.poll(call), Poll::Ready(Ok(r)) if r == "seven"));
    assert_eq!(requester.requests().stats().acked, 1);
}

#[test]
fn request_reply_runs_on_a_runtime_with_many_callers() {
    let rt = weft::Runtime::builder()
        .current_thread()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let requester: Requester<u32, u32> = Requester::new(&Queue::builder());
        for _ in 0..2 {
            let mut responder = requester.responder();
            weft::spawn(async move {
                while let Ok(request) = responder.recv().await {
                    let answer = *request * 10;
                    request.reply(answer).await.unwrap();
                }
            });
        }
        let callers: Vec<_> = (0..20)
            .map(|n| {
                let requester = requester.clone();
                weft::spawn(async move { (n, requester.request(n, secs(10)).await.ok()) })
            })
            .collect();
        for caller in callers {
            let (n, reply) = caller.await.unwrap();
            assert_eq!(reply, Some(n * 10));
        }
        assert_eq!(requester.late_replies(), 0);
        requester.requests().close();
    });
}
