//! weft's executor: tasks, wakers and the schedulers that run them.
//!
//! This crate runs futures. It knows nothing about sockets or timers: an idle
//! worker waits through the small [`park::Park`] interface, which the `weft`
//! facade implements with the reactor's I/O driver. On its own the executor
//! parks on condition variables, and is a complete runtime for work that
//! needs no I/O.
//!
//! # What is here
//!
//! * [`runtime`]: [`Runtime`] and [`runtime::Builder`], a **multi-thread**
//!   work-stealing scheduler or a **current-thread** one, with a blocking
//!   pool beside either; [`runtime::Handle`] reaches it from anywhere, and
//!   [`runtime::BlockOn`] is what [`task::LocalSet::block_on`] drives.
//! * [`task`]: [`spawn`], [`task::spawn_local`], [`task::spawn_blocking`]
//!   start work; each returns a [`task::JoinHandle`] to await its output or
//!   [`abort`](task::JoinHandle::abort) it. [`task::JoinSet`] joins many,
//!   [`task::LocalSet`] runs `!Send` tasks on either runtime, and
//!   [`task::Id`] ([`task::id`], [`task::try_id`]) names each task.
//! * [`block_on`]: run one future on this thread, without a runtime.
//! * [`coop`]: the budget that makes a busy task yield
//!   ([`task::unconstrained`] opts out).
//! * [`park`]: how an idle worker waits; the `weft` facade plugs the
//!   reactor in here.
//!
//! # How a task is built
//!
//! A spawned future lives in one heap allocation together with its state,
//! its scheduler hook and, once done, its output; the `Waker` handed to the
//! future is a pointer to that same allocation, so waking allocates nothing.
//! The `task` module states the protocol that makes this safe.
//!
//! # Examples
//!
//! ```
//! use weft_executor::Runtime;
//!
//! let rt = Runtime::new().unwrap();
//! let n = rt.block_on(async {
//!     let tasks: Vec<_> = (0..100).map(|i| weft_executor::spawn(async move { i })).collect();
//!     let mut sum = 0;
//!     for t in tasks {
//!         sum += t.await.unwrap();
//!     }
//!     sum
//! });
//! assert_eq!(n, 4950);
//! ```
// Unsafe code lives in named modules alone, which allow it: the task's raw
// layer and the modules that call into it (`task`), the local run queue
// (`scheduler::multi_thread::queue`) and the current-thread scheduler, which
// spawns `!Send` tasks.
#![deny(unsafe_code)]
// The facade re-exports `spawn` and the `task` items, and users read their
// docs there, so their examples say `weft::`: each opens with the hidden line
// `# use weft_executor as weft;` (this crate cannot depend on the facade).
// `weft::Runtime` in them is then this crate's `Runtime`, whose methods the
// examples use (`new`, `builder().current_thread()`, `block_on`, `spawn`)
// the facade's `Runtime` has with the same meaning.
#![doc(test(attr(deny(warnings))))]

mod block_on;
mod blocking;
mod context;
pub mod coop;
mod loom;
pub mod park;
pub mod runtime;
mod scheduler;
pub mod task;
mod util;

#[cfg(all(test, loom))]
mod tests;

pub use self::block_on::block_on;
pub use self::runtime::Runtime;
pub use self::task::spawn;
