//! Loom models of the promise protocol, laid out as every crate's are
//! (`src/<area>/tests/loom_*.rs`).

#[cfg(loom)]
mod loom_promise;
