//! Loom models of the primitives' protocols: no lost wakeup, no lost or
//! duplicated message, no leaked permit, under every interleaving loom
//! explores (bounded by `LOOM_MAX_PREEMPTIONS` in CI).

// ANCHOR: loom-modules
#[cfg(loom)]
mod loom_broadcast;
#[cfg(loom)]
mod loom_channels;
#[cfg(loom)]
mod loom_locks;
#[cfg(loom)]
mod loom_watch;
// ANCHOR_END: loom-modules
#[cfg(not(loom))]
mod reentrant_wakers;
