//! A `block_on` in a page: the smallest executor that can run any future,
//! built from the standard library alone, with the futures it runs written
//! by hand. The book's chapter "Futures from scratch" walks through it.
//!
//! Run it with `cargo run --example block_on`.

// ANCHOR: imports
use std::future::Future;
use std::io::{self, Write};
use std::pin::{Pin, pin};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
// ANCHOR_END: imports

// ANCHOR: thread-waker
/// Wakes the thread that is blocked in [`block_on`].
struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}
// ANCHOR_END: thread-waker

// ANCHOR: block-on
/// Runs `future` to completion on the current thread.
fn block_on<F: Future>(future: F) -> F::Output {
    // Polling needs `Pin<&mut F>`: pin the future where it lies, on this
    // stack frame, which it never leaves until it is done.
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(output) => return output,
            // Sleep until a waker unparks us. An unpark that came before
            // this park is not lost: park returns at once. A spurious
            // return only costs one more poll.
            Poll::Pending => thread::park(),
        }
    }
}
// ANCHOR_END: block-on

// ANCHOR: yield-now
/// Gives way once: the first poll wakes its own waker and says `Pending`,
/// the second says `Ready`.
struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        // Whoever returns Pending must make sure a wake will come. Here
        // nothing else will, so we wake ourselves.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
// ANCHOR_END: yield-now

// ANCHOR: mailbox
/// What the sender and the receiver of a [`mailbox`] share.
struct Slot<T> {
    letter: Option<T>,
    waker: Option<Waker>,
}

/// The sending half: puts one letter in the box, from any thread.
struct Sender<T>(Arc<Mutex<Slot<T>>>);

/// The receiving half: a future that is ready once a letter arrives.
struct Receiver<T>(Arc<Mutex<Slot<T>>>);

/// A mailbox for one letter.
fn mailbox<T>() -> (Sender<T>, Receiver<T>) {
    let slot = Arc::new(Mutex::new(Slot {
        letter: None,
        waker: None,
    }));
    (Sender(slot.clone()), Receiver(slot))
}

impl<T> Sender<T> {
    /// Delivers `letter` and wakes the task waiting for it, if any.
    fn send(self, letter: T) {
        let waker = {
            let mut slot = self.0.lock().unwrap();
            slot.letter = Some(letter);
            slot.waker.take()
        };
        // Wake after unlocking: the woken task may run at once, on another
        // thread, and will want the lock.
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut slot = self.0.lock().unwrap();
        match slot.letter.take() {
            Some(letter) => Poll::Ready(letter),
            None => {
                // Remember who to wake: the newest waker, since the task
                // may have moved since the last poll.
                slot.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
// ANCHOR_END: mailbox

// ANCHOR: async-sum
/// Waits for two letters, one after the other, and adds them.
async fn sum(first: Receiver<u32>, second: Receiver<u32>) -> u32 {
    let a = first.await;
    let b = second.await;
    a + b
}
// ANCHOR_END: async-sum

// ANCHOR: hand-sum
/// What the compiler makes of [`sum`], written out by hand: one state per
/// place the function can be suspended, holding what lives across it.
enum Sum {
    WaitingForFirst {
        first: Receiver<u32>,
        second: Receiver<u32>,
    },
    WaitingForSecond {
        a: u32,
        second: Receiver<u32>,
    },
    Done,
}

impl Future for Sum {
    type Output = u32;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        loop {
            match &mut *self {
                Sum::WaitingForFirst { first, .. } => {
                    let Poll::Ready(a) = Pin::new(first).poll(cx) else {
                        return Poll::Pending;
                    };
                    let Sum::WaitingForFirst { second, .. } = std::mem::replace(&mut *self, Sum::Done) else {
                        unreachable!("we matched this state above");
                    };
                    *self = Sum::WaitingForSecond { a, second };
                }
                Sum::WaitingForSecond { a, second } => {
                    let Poll::Ready(b) = Pin::new(second).poll(cx) else {
                        return Poll::Pending;
                    };
                    let total = *a + b;
                    *self = Sum::Done;
                    return Poll::Ready(total);
                }
                Sum::Done => panic!("`Sum` polled after it completed"),
            }
        }
    }
}
// ANCHOR_END: hand-sum

/// Counts how often it is polled, so the example can show the waker at work.
struct CountPolls<F> {
    inner: Pin<Box<F>>,
    polls: u32,
}

impl<F: Future> Future for CountPolls<F> {
    type Output = (F::Output, u32);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.polls += 1;
        match self.inner.as_mut().poll(cx) {
            Poll::Ready(output) => Poll::Ready((output, self.polls)),
            Poll::Pending => Poll::Pending,
        }
    }
}

fn count_polls<F: Future>(future: F) -> CountPolls<F> {
    CountPolls {
        inner: Box::pin(future),
        polls: 0,
    }
}

// ANCHOR: run
/// Runs the three demonstrations, writing what they show to `out`.
pub fn run(out: &mut impl Write) -> io::Result<()> {
    // A future that wakes itself: polled twice.
    let ((), polls) = block_on(count_polls(YieldNow { yielded: false }));
    writeln!(out, "YieldNow finished after {polls} polls")?;

    // A letter from another thread: the waker carries the news across.
    let (sender, receiver) = mailbox();
    let postman = thread::spawn(move || sender.send("hello from another thread"));
    let letter = block_on(receiver);
    postman.join().unwrap();
    writeln!(out, "the mailbox received {letter:?}")?;

    // The async fn and the hand-written state machine, fed the same way.
    let mut answers = Vec::new();
    for by_hand in [false, true] {
        let (send_a, first) = mailbox();
        let (send_b, second) = mailbox();
        let senders = thread::spawn(move || {
            send_a.send(40);
            send_b.send(2);
        });
        let total = if by_hand {
            block_on(Sum::WaitingForFirst { first, second })
        } else {
            block_on(sum(first, second))
        };
        senders.join().unwrap();
        answers.push(total);
    }
    writeln!(
        out,
        "the async fn says {}, the state machine says {}",
        answers[0], answers[1]
    )?;

    // ANCHOR: borrow-across-await
    let borrows_itself = async {
        let word = *b"pinned"; // six bytes, stored inside the future itself
        let view: &[u8] = &word; // a reference to them, stored there too
        // Suspended here, the future holds both `word` and `view`, which
        // points at `word`: moved now, it would leave `view` pointing at
        // the old place.
        YieldNow { yielded: false }.await;
        view.len()
    };
    let length = block_on(borrows_itself);
    // ANCHOR_END: borrow-across-await
    writeln!(out, "the self-borrowing future returned {length}")?;
    Ok(())
}
// ANCHOR_END: run

#[path = "common/cli.rs"]
mod cli;

const USAGE: &str = "\
usage: block_on

Runs hand-written futures on a block_on built from the standard library
alone, and prints what each one did. It takes no arguments.";

fn main() -> ExitCode {
    cli::main("block_on", USAGE, || run(&mut io::stdout().lock()), None)
}
