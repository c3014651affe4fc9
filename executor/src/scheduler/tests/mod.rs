//! loom models of the parts both schedulers share.

mod loom_inject;
