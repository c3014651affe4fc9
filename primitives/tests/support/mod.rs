//! Helpers for the primitives' integration tests: the shared ones from
//! weft-test-support, and the promise suites' case runner.

#![allow(dead_code, unused_imports)]

pub(crate) mod promise_cases;

pub(crate) use weft_test_support::any_runtime;
pub(crate) use weft_test_support::{Rng, oneshot, paused_current_thread, paused_runtimes, runtimes};
