//! The event loop's jobs: one-off callbacks, and shared objects that do one
//! piece of queued work per job (a settled promise's next reaction).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

/// One unit of event-loop work.
pub(crate) enum Job {
    /// A one-off callback.
    Call(Box<dyn FnOnce() + Send>),
    /// A shared object with queued work (a settled promise's next reaction):
    /// queueing it costs a reference count, not an allocation.
    Run(Arc<dyn RunJob>),
}

/// A shared object that does one piece of queued work per [`Job::Run`].
pub(crate) trait RunJob: Send + Sync {
    fn run(self: Arc<Self>);
}

impl Job {
    pub(super) fn run(self) {
        // A panic is user code's (a callback, a handler run outside the
        // promise machinery's own catch): the panic hook has reported it,
        // and the loop goes on with the next job.
        let ran = catch_unwind(AssertUnwindSafe(move || match self {
            Job::Call(f) => f(),
            Job::Run(job) => job.run(),
        }));
        if let Err(panic) = ran {
            crate::diag::callback_panicked("event loop job", &*panic);
        }
    }
}
