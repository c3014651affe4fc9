//! The state a promise's handles and resolvers share: the outcome, the
//! reactions waiting for it, the awaiters' wakers, and the promise being
//! adopted; and how a settled promise runs its reactions as jobs.

use super::resolver::Resolver;
use super::thenable::Thenable;
use super::{PromiseError, unhandled};
use crate::event_loop::{Job, RunJob};
use crate::loom::{Mutex, lock};
use crate::spawner::Spawner;
use std::collections::VecDeque;
use std::sync::{Arc, Weak};
use std::task::Waker;

// ANCHOR: state
/// What a settled promise's reaction receives.
pub(super) type Reaction<T, E> = Box<dyn FnOnce(Result<T, E>) + Send>;

pub(super) struct Inner<T, E> {
    pub(super) state: Mutex<State<T, E>>,
    /// The reason for failures the machinery detects itself (a panic, a
    /// cycle, every resolver dropped); `None` for promises that cannot fail
    /// that way (made already settled, or by a combinator).
    make_error: Option<fn(PromiseError) -> E>,
    /// Rejects the promise with [`PromiseError::Abandoned`]: kept as a
    /// function so that a resolver's `Drop` needs no bounds.
    pub(super) abandon: fn(&Arc<Inner<T, E>>),
    /// Hands a rejection nobody handled to the hook.
    report: fn(&E),
}

pub(super) struct State<T, E> {
    pub(super) outcome: Option<Result<T, E>>,
    /// Where reactions run; set at creation, or by the first `then` on a
    /// promise made outside any spawner.
    pub(super) spawner: Option<Spawner>,
    /// Reactions not yet run: all of them before settlement; after it, one
    /// queued job per entry takes the front one.
    reactions: VecDeque<Reaction<T, E>>,
    pub(super) waiters: Vec<Option<Waker>>,
    pub(super) free_waiters: Vec<usize>,
    /// The promise this one is adopting, to detect cycles.
    following: Option<Weak<Inner<T, E>>>,
    /// A handler or an awaiter was ever attached.
    pub(super) handled: bool,
}
// ANCHOR_END: state

// ANCHOR: unhandled
impl<T, E> Drop for Inner<T, E> {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        if let (Some(Err(reason)), false) = (&state.outcome, state.handled) {
            (self.report)(reason);
        }
    }
}
// ANCHOR_END: unhandled

impl<T, E> Inner<T, E>
where
    T: Clone + Send + 'static,
    E: Clone + Send + 'static,
{
    /// Shared state for a promise: pending, or settled with `outcome`.
    /// `make_error` is `None` for promises the machinery itself cannot fail
    /// (made settled, or by a combinator).
    pub(super) fn new(
        spawner: Option<Spawner>,
        outcome: Option<Result<T, E>>,
        make_error: Option<fn(PromiseError) -> E>,
    ) -> Arc<Inner<T, E>> {
        Arc::new(Inner {
            state: Mutex::new(State {
                outcome,
                spawner,
                reactions: VecDeque::new(),
                waiters: Vec::new(),
                free_waiters: Vec::new(),
                following: None,
                handled: false,
            }),
            make_error,
            abandon: abandon::<T, E>,
            report: report::<E>,
        })
    }

    // ANCHOR: settle
    /// Settles the promise unless it already is: stores the outcome, queues
    /// one job per waiting reaction, wakes the awaiters.
    pub(super) fn settle(self: &Arc<Self>, outcome: Result<T, E>) {
        let mut state = lock(&self.state);
        if state.outcome.is_some() {
            return;
        }
        state.outcome = Some(outcome);
        state.following = None;
        let reactions = state.reactions.len();
        let spawner = state.spawner.clone();
        let mut wakers = crate::util::Wakers::new();
        for waker in state.waiters.iter_mut().filter_map(Option::take) {
            wakers.push(waker);
        }
        drop(state);
        if reactions > 0 {
            let spawner = spawner.expect("a promise with reactions has a spawner");
            let job: Arc<dyn RunJob> = self.clone();
            spawner.queue_runs(&job, reactions);
        }
        wakers.wake_all();
    }
    // ANCHOR_END: settle

    /// Attaches `reaction`: it runs as a job once the promise is settled
    /// (queued now if it already is).
    ///
    /// # Panics
    ///
    /// Panics if the promise has no spawner and none is current.
    #[track_caller]
    pub(super) fn react(self: &Arc<Self>, reaction: Reaction<T, E>) {
        let spawner = self.spawner();
        self.react_on(&spawner, reaction);
    }

    // ANCHOR: react
    /// [`react`](Inner::react), for a caller that already has the
    /// promise's spawner: one lock.
    pub(super) fn react_on(self: &Arc<Self>, spawner: &Spawner, reaction: Reaction<T, E>) {
        let mut state = lock(&self.state);
        state.handled = true;
        state.reactions.push_back(reaction);
        let settled = state.outcome.is_some();
        drop(state);
        if settled {
            spawner.queue(Job::Run(self.clone()));
        }
    }
    // ANCHOR_END: react

    /// The spawner reactions run on: the promise's own, or (for one made
    /// outside any spawner) the current one, which it then keeps.
    ///
    /// # Panics
    ///
    /// Panics if the promise has no spawner and none is current.
    #[track_caller]
    pub(super) fn spawner(&self) -> Spawner {
        let mut state = lock(&self.state);
        if let Some(spawner) = &state.spawner {
            return spawner.clone();
        }
        match Spawner::try_current() {
            Ok(spawner) => state.spawner.insert(spawner).clone(),
            Err(e) => {
                drop(state);
                panic!("{e}")
            }
        }
    }

    /// Rejects with a failure the machinery detected, if the promise can
    /// carry one.
    pub(super) fn fail(self: &Arc<Self>, error: PromiseError) {
        if let Some(make_error) = self.make_error {
            self.settle(Err(make_error(error)));
        }
    }

    // ANCHOR: adopt
    /// True if following the chain of adopted promises from `self` reaches
    /// `target`: adopting would make a cycle that could never settle.
    fn leads_to(self: &Arc<Self>, target: &Arc<Self>) -> bool {
        let mut at = self.clone();
        // Bounded by the chain's length: each step follows a live promise.
        loop {
            if Arc::ptr_eq(&at, target) {
                return true;
            }
            let next = lock(&at.state).following.as_ref().and_then(Weak::upgrade);
            match next {
                Some(next) => at = next,
                None => return false,
            }
        }
    }

    /// Adopts a foreign thenable: calls its `then` in a job with a fresh
    /// resolver, turning a panic before it settles into a rejection.
    pub(super) fn adopt_foreign<Th: Thenable<T, E>>(self: &Arc<Self>, thenable: Th) {
        let resolver = Resolver::new_group(self.clone());
        self.spawner().queue(Job::Call(Box::new(move || {
            resolver.run(|resolver| thenable.call_then(resolver));
        })));
    }

    /// Follows `other`: settles as it settles. Adopting itself, or a
    /// promise that (through others) follows this one, rejects with
    /// [`PromiseError::Cycle`].
    pub(super) fn follow(self: &Arc<Self>, other: &Arc<Self>) {
        if other.leads_to(self) {
            self.fail(PromiseError::Cycle);
            return;
        }
        lock(&self.state).following = Some(Arc::downgrade(other));
        let this = self.clone();
        other.react(Box::new(move |outcome| this.settle(outcome)));
    }
    // ANCHOR_END: adopt
}

// ANCHOR: run-job
impl<T, E> RunJob for Inner<T, E>
where
    T: Clone + Send + 'static,
    E: Clone + Send + 'static,
{
    fn run(self: Arc<Self>) {
        let (reaction, outcome) = {
            let mut state = lock(&self.state);
            let Some(outcome) = state.outcome.clone() else {
                return;
            };
            let Some(reaction) = state.reactions.pop_front() else {
                return;
            };
            (reaction, outcome)
        };
        reaction(outcome);
    }
}
// ANCHOR_END: run-job

/// Reports an unhandled rejection of type `E` to the hook.
fn report<E: Send + 'static>(reason: &E) {
    unhandled::report(reason);
}

fn abandon<T, E>(promise: &Arc<Inner<T, E>>)
where
    T: Clone + Send + 'static,
    E: Clone + Send + 'static,
{
    promise.fail(PromiseError::Abandoned);
}
