//! A barrier: `n` tasks wait until all of them have arrived.
//!
//! # Protocol
//!
//! One lock guards the count of tasks arrived in the current round, the
//! round number and the waiters. The `n`-th arrival starts a new round,
//! wakes everyone and is the leader. A waiter whose future is dropped
//! before its round completes takes its arrival back, so a cancelled wait
//! never lets a round complete one task short.

use crate::loom::{Mutex, lock};
use crate::util::unlock_then_drop;
use crate::util::wait_list::wake_all;
use crate::util::wait_list::{Key, WaitList};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

/// Makes `n` tasks wait for each other; each round, one of them is told it
/// is the leader.
///
/// # Cancel safety
///
/// Dropping a pending [`wait`](Barrier::wait) future withdraws that task
/// from the round: the others go on waiting for an `n`-th arrival.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use weft::sync::Barrier;
///
/// # weft::block_on(async {
/// let barrier = Arc::new(Barrier::new(3));
/// let tasks: Vec<_> = (0..3)
///     .map(|_| {
///         let barrier = Arc::clone(&barrier);
///         weft::spawn(async move { barrier.wait().await.is_leader() })
///     })
///     .collect();
/// let mut leaders = 0;
/// for task in tasks {
///     leaders += usize::from(task.await.unwrap());
/// }
/// assert_eq!(leaders, 1);
/// # });
/// ```
pub struct Barrier {
    n: usize,
    state: Mutex<State>,
}

struct State {
    arrived: usize,
    round: u64,
    waiters: WaitList<()>,
}

/// What [`Barrier::wait`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarrierWaitResult(bool);

impl BarrierWaitResult {
    /// True for exactly one task per round: the last to arrive.
    pub fn is_leader(&self) -> bool {
        self.0
    }
}

impl Barrier {
    /// A barrier for `n` tasks. `n == 0` behaves as `n == 1`: every wait
    /// completes at once, as the leader.
    pub fn new(n: usize) -> Barrier {
        Barrier {
            n: n.max(1),
            state: Mutex::new(State {
                arrived: 0,
                round: 0,
                waiters: WaitList::new(),
            }),
        }
    }

    /// Arrives and waits for the rest of the round.
    pub fn wait(&self) -> BarrierWait<'_> {
        BarrierWait {
            barrier: self,
            round: None,
            key: None,
        }
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("Barrier")
            .field("n", &self.n)
            .field("arrived", &state.arrived)
            .finish()
    }
}

/// The future of [`Barrier::wait`].
#[must_use = "futures do nothing unless polled"]
pub struct BarrierWait<'a> {
    barrier: &'a Barrier,
    /// The round this task arrived in, once it has.
    round: Option<u64>,
    key: Option<Key>,
}

impl Future for BarrierWait<'_> {
    type Output = BarrierWaitResult;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<BarrierWaitResult> {
        let this = self.get_mut();
        // With the budget spent, nothing changes: an arrival not yet made
        // waits, a round completed meanwhile is still seen next time.
        let coop = ready!(crate::coop::poll_proceed(cx));
        let mut state = lock(&this.barrier.state);
        match this.round {
            None => {
                state.arrived += 1;
                if state.arrived == this.barrier.n {
                    state.arrived = 0;
                    state.round += 1;
                    this.round = Some(state.round - 1);
                    wake_all(state, |state| &mut state.waiters);
                    coop.made_progress();
                    return Poll::Ready(BarrierWaitResult(true));
                }
                this.round = Some(state.round);
                this.key = Some(state.waiters.push_back(cx.waker(), ()));
                Poll::Pending
            }
            Some(round) if round != state.round => {
                // Unlinked by the last arrival, which took its waker.
                let displaced = this.key.take().and_then(|key| state.waiters.remove(key).waker);
                unlock_then_drop(state, displaced);
                coop.made_progress();
                Poll::Ready(BarrierWaitResult(false))
            }
            Some(_) => {
                let displaced = match &this.key {
                    Some(key) => state.waiters.set_waker(key, cx.waker()),
                    None => None,
                };
                unlock_then_drop(state, displaced);
                Poll::Pending
            }
        }
    }
}

impl Drop for BarrierWait<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else {
            return;
        };
        let mut state = lock(&self.barrier.state);
        let removed = state.waiters.remove(key);
        if self.round == Some(state.round) {
            // The round has not completed: withdraw this arrival.
            state.arrived -= 1;
        }
        unlock_then_drop(state, removed.waker);
    }
}

impl fmt::Debug for BarrierWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BarrierWait")
            .field("arrived", &self.round.is_some())
            .finish()
    }
}
