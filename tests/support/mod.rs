//! Helpers for the facade's integration tests (and messaging's, which
//! include this file by path): the shared ones from weft-test-support,
//! under the names the tests have always used.

#![allow(unused_imports)]

pub(crate) use weft_test_support::any_runtime;
pub(crate) use weft_test_support::oneshot::{Receiver, Sender};
pub(crate) use weft_test_support::{Rng, oneshot, paused_current_thread, paused_runtimes, runtimes};
