//! The harness of the promise conformance suites (tests/promise_*.rs): the
//! cases each test body runs in — both schedulers, each [`Timing`] of
//! settlement, on the paused clock — a log of events, and settling on a
//! schedule.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use weft::time::sleep;
use weft_primitives::callback::set_timeout;
use weft_primitives::promise::{Promise, PromiseError, Resolver, Thenable};

/// The scheduler a case runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavour {
    CurrentThread,
    MultiThread,
}

/// When the promise under test settles, relative to the handlers a test
/// attaches to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Timing {
    /// Before any handler is attached.
    Already,
    /// Right after the handlers are attached, by the same code.
    Immediately,
    /// Later, from a `set_timeout` callback on the paused clock.
    LaterTimer,
    /// Later, from a task sleeping on the paused clock.
    LaterTask,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Case {
    pub(crate) flavour: Flavour,
    pub(crate) timing: Timing,
}

impl Case {
    /// True where the settling code's own events are ordered against the
    /// handlers': it runs before any handler exists, on the event loop
    /// itself, or on the only thread there is.
    pub(crate) fn settling_is_ordered(self) -> bool {
        self.flavour == Flavour::CurrentThread || matches!(self.timing, Timing::Already | Timing::LaterTimer)
    }

    /// What to expect where JavaScript decides by settling order: inputs
    /// already settled count in input order, the others in the order they
    /// settle.
    pub(crate) fn pick<T>(self, in_input_order: T, in_settling_order: T) -> T {
        if self.timing == Timing::Already {
            in_input_order
        } else {
            in_settling_order
        }
    }

    pub(crate) fn later(self) -> bool {
        matches!(self.timing, Timing::LaterTimer | Timing::LaterTask)
    }
}

/// Runs `body` once per scheduler and timing, each on a fresh runtime whose
/// clock is paused, and fails it if it hangs.
pub(crate) fn each_case(body: impl AsyncFn(Case)) {
    for flavour in [Flavour::CurrentThread, Flavour::MultiThread] {
        for timing in [
            Timing::Already,
            Timing::Immediately,
            Timing::LaterTimer,
            Timing::LaterTask,
        ] {
            let case = Case { flavour, timing };
            let mut builder = weft::Runtime::builder();
            match flavour {
                Flavour::CurrentThread => builder.current_thread(),
                Flavour::MultiThread => builder.worker_threads(2),
            };
            let rt = builder.start_paused(true).build().expect("a runtime");
            let run = async {
                let mut body = pin!(body(case));
                // A case that hangs fails instead: with nothing left to run,
                // the paused clock jumps to the deadline at once.
                if weft::time::timeout(Duration::from_secs(3600), body.as_mut())
                    .await
                    .is_err()
                {
                    panic!("the case hung: an hour passed on the paused clock");
                }
            };
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| rt.block_on(run))) {
                eprintln!("failed in {case:?}");
                resume_unwind(panic);
            }
        }
    }
}

/// How far apart the later timings settle their promises.
pub(crate) const STEP: Duration = Duration::from_millis(10);

thread_local! {
    /// Set on a thread while it is inside [`call`].
    static IN_CALL: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` — attaching handlers, settling — marked as "inside a call": a
/// handler run synchronously inside it logs itself as such (see
/// [`Log::push`]), which no expected log contains.
pub(crate) fn call<R>(f: impl FnOnce() -> R) -> R {
    let outer = IN_CALL.replace(true);
    let out = f();
    IN_CALL.set(outer);
    out
}

/// Locks `mutex` from a handler, which may have to wait there for the test
/// to release it. A handler run inside a [`call`] — the bug the tests look
/// for — panics instead of deadlocking with the test that holds the lock.
pub(crate) fn lock_in_handler<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    assert!(!IN_CALL.get(), "a handler ran inside the call that attached it");
    mutex.lock().unwrap()
}

/// Events in the order they happened.
#[derive(Clone, Default)]
pub(crate) struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    /// Records a handler's event, marked if it ran inside a [`call`].
    pub(crate) fn push(&self, event: impl Into<String>) {
        let mut event = event.into();
        if IN_CALL.get() {
            event.push_str(" (ran inside the call that attached or settled it!)");
        }
        self.note(event);
    }

    /// Records an event of the settling code (which may itself run inside a
    /// [`call`]).
    pub(crate) fn note(&self, event: impl Into<String>) {
        self.0.lock().unwrap().push(event.into());
    }

    pub(crate) fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }

    /// A callback for `on_settled` that logs `name` and the outcome.
    pub(crate) fn outcome<T: std::fmt::Debug, E: std::fmt::Debug>(
        &self,
        name: &'static str,
    ) -> impl FnOnce(Result<T, E>) + Send + 'static {
        let log = self.clone();
        move |outcome| log.push(format!("{name} {outcome:?}"))
    }
}

/// Settles promises at a case's [`Timing`], in the order they were made.
pub(crate) struct Schedule {
    timing: Timing,
    steps: Vec<Box<dyn FnOnce() + Send>>,
}

impl Schedule {
    pub(crate) fn new(case: Case) -> Schedule {
        Schedule {
            timing: case.timing,
            steps: Vec::new(),
        }
    }

    /// Runs `step` at the case's timing: now for `Already`, else once
    /// [`go`](Schedule::go) is called.
    pub(crate) fn run(&mut self, step: impl FnOnce() + Send + 'static) {
        if self.timing == Timing::Already {
            call(step);
        } else {
            self.steps.push(Box::new(step));
        }
    }

    /// A promise that `step` settles, through its resolver, at the case's
    /// timing.
    pub(crate) fn with<T, E>(&mut self, step: impl FnOnce(&Resolver<T, E>) + Send + 'static) -> Promise<T, E>
    where
        T: Clone + Send + 'static,
        E: Clone + Send + From<PromiseError> + 'static,
    {
        let (promise, resolver) = Promise::with_resolvers();
        self.run(move || step(&resolver));
        promise
    }

    /// A promise settled with `outcome` at the case's timing.
    pub(crate) fn settle<T, E>(&mut self, outcome: Result<T, E>) -> Promise<T, E>
    where
        T: Clone + Send + 'static,
        E: Clone + Send + From<PromiseError> + 'static,
    {
        self.with(move |resolver| {
            let _ = resolver.settle(outcome);
        })
    }

    /// Lets the steps run: `Immediately`, all of them now, before this
    /// returns; the later timings, one [`STEP`] apart from now.
    pub(crate) fn go(mut self) {
        let steps = std::mem::take(&mut self.steps);
        match self.timing {
            Timing::Already => {}
            Timing::Immediately => call(|| steps.into_iter().for_each(|step| step())),
            Timing::LaterTimer => {
                for (i, step) in (1..).zip(steps) {
                    set_timeout(STEP * i, step);
                }
            }
            Timing::LaterTask => drop(weft::spawn(async move {
                for step in steps {
                    sleep(STEP).await;
                    step();
                }
            })),
        }
    }
}

impl Drop for Schedule {
    fn drop(&mut self) {
        if !self.steps.is_empty() && !std::thread::panicking() {
            panic!("a Schedule dropped before `go`: its promises would never settle");
        }
    }
}

/// Waits (on the paused clock) until every timer and handler a test set
/// going has run.
pub(crate) async fn quiesce() {
    // The clock moves only when every task is idle: by the end of this
    // sleep, everything set going before it has run.
    sleep(Duration::from_secs(10)).await;
}

/// Runs `f` on the event loop `ms` milliseconds from now.
pub(crate) fn after(ms: u64, f: impl FnOnce() + Send + 'static) {
    set_timeout(Duration::from_millis(ms), f);
}

/// A promise settled with `outcome` `ms` milliseconds from now.
pub(crate) fn settled_in<T, E>(ms: u64, outcome: Result<T, E>) -> Promise<T, E>
where
    T: Clone + Send + 'static,
    E: Clone + Send + From<PromiseError> + 'static,
{
    Promise::new(move |r| {
        after(ms, move || {
            let _ = r.settle(outcome);
        })
    })
}

/// A thenable made of a closure: `call_then` calls it with the resolver.
pub(crate) struct Then<F>(pub(crate) F);

impl<T, E, F> Thenable<T, E> for Then<F>
where
    T: Clone + Send + 'static,
    E: Clone + Send + 'static,
    F: FnOnce(Resolver<T, E>) + Send + 'static,
{
    fn call_then(self, resolver: Resolver<T, E>) {
        (self.0)(resolver)
    }
}
